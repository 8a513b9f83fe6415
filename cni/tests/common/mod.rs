//! Helpers shared by the CNI plugin's integration tests.
//!
//! Every test body runs inside [`sandbox`] (the library's,
//! `tests/common/sandbox.rs`): a fresh thread with its own network namespace and its own
//! mount namespace, where `/` is recursively private and `/run` is an empty
//! tmpfs. The sandbox's network namespace plays "the node" (or holds the
//! node namespaces a test makes); pods are namespaces named under the
//! sandbox's private `/run/netns`. The host's devices and namespaces are out
//! of reach, and everything disappears when the thread exits, panics
//! included.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nslink::NetNs;
use serde_json::{Value, json};

// The sandbox is the library tests' own, included by path.
#[path = "../../../tests/common/sandbox.rs"]
mod sandbox;
pub use sandbox::*;

/// The plugin under test.
pub const OURS: &str = env!("CARGO_BIN_EXE_nslink-bridge");
/// The reference plugin (Debian's containernetworking-plugins).
pub const REFERENCE: &str = "/usr/lib/cni/bridge";
/// Where the reference plugins (and host-local) live.
pub const CNI_DIR: &str = "/usr/lib/cni";

/// Fails loudly when the reference plugins or nft are missing.
pub fn require_tools() {
    for p in [REFERENCE, "/usr/lib/cni/host-local"] {
        assert!(
            Path::new(p).is_file(),
            "{p} is missing: apt-get install containernetworking-plugins"
        );
    }
    let nft = Command::new("nft").arg("--version").output();
    assert!(nft.is_ok_and(|o| o.status.success()), "nft is missing: apt-get install nftables");
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Under the sandbox's private /run: gone with the sandbox, whatever happens.
        let p = PathBuf::from("/run").join(format!("nslink-cni-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A network configuration for `plugin` ("bridge" or "nslink-bridge")
/// with host-local IPAM keeping its state in `data_dir`; `extra` keys are
/// merged at the top level.
pub fn config(
    version: &str,
    plugin_type: &str,
    subnet: &str,
    data_dir: &Path,
    extra: Value,
) -> Value {
    let mut c = json!({
        "cniVersion": version,
        "name": "testnet",
        "type": plugin_type,
        "bridge": "cni0",
        "ipam": {
            "type": "host-local",
            "subnet": subnet,
            "dataDir": data_dir.to_str().unwrap(),
        }
    });
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if k == "ipam" {
                // Merged into the IPAM section.
                for (ik, iv) in v.as_object().unwrap() {
                    c["ipam"].as_object_mut().unwrap().insert(ik.clone(), iv.clone());
                }
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

/// What one plugin run gave back.
#[derive(Debug)]
pub struct Reply {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Reply {
    /// The stdout as JSON (panics if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?} (stderr {:?})", self.stdout, self.stderr)
        })
    }
    /// Panics unless the run succeeded; its stdout as JSON (Null if empty).
    pub fn expect_ok(&self, what: &str) -> Value {
        assert!(self.ok, "{what} failed: stdout {} stderr {}", self.stdout, self.stderr);
        if self.stdout.trim().is_empty() { Value::Null } else { self.json() }
    }
    /// Panics unless the run failed with a CNI error of `code`; the error.
    pub fn expect_code(&self, code: u64, what: &str) -> Value {
        assert!(!self.ok, "{what} succeeded, but should fail with code {code}: {}", self.stdout);
        let e = self.json();
        assert_eq!(e["code"].as_u64(), Some(code), "{what}: wrong error {e}");
        assert!(e["msg"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no msg in {e}");
        e
    }
}

/// One call the way a runtime makes it: `CNI_*` in the environment (and
/// nothing else of ours), the configuration on stdin, run from inside
/// `node` (None: the calling thread's namespace).
pub struct Call<'a> {
    pub plugin: &'a str,
    pub node: Option<&'a NetNs>,
    pub command: &'a str,
    pub container_id: &'a str,
    pub netns: &'a str,
    pub ifname: &'a str,
    pub cni_path: String,
}

impl<'a> Call<'a> {
    pub fn new(plugin: &'a str, node: Option<&'a NetNs>, command: &'a str) -> Call<'a> {
        Call {
            plugin,
            node,
            command,
            container_id: "",
            netns: "",
            ifname: "eth0",
            cni_path: CNI_DIR.into(),
        }
    }
    pub fn pod(mut self, container_id: &'a str, netns: &'a str) -> Self {
        self.container_id = container_id;
        self.netns = netns;
        self
    }
    pub fn ifname(mut self, ifname: &'a str) -> Self {
        self.ifname = ifname;
        self
    }
    pub fn run(&self, conf: &Value) -> Reply {
        let mut c = match self.node {
            Some(n) => n.command(self.plugin).expect("command in the node"),
            None => Command::new(self.plugin),
        };
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CNI_COMMAND", self.command)
            .env("CNI_CONTAINERID", self.container_id)
            .env("CNI_NETNS", self.netns)
            .env("CNI_IFNAME", self.ifname)
            .env("CNI_PATH", &self.cni_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.plugin));
        child.stdin.take().unwrap().write_all(conf.to_string().as_bytes()).unwrap();
        let out: Output = child.wait_with_output().unwrap();
        Reply {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `program args` inside `ns` (None: here) and returns its output.
pub fn run_in(ns: Option<&NetNs>, program: &str, args: &[&str]) -> Output {
    let mut c = match ns {
        Some(n) => n.command(program).unwrap(),
        None => Command::new(program),
    };
    c.args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Like [`run_in`], but the command must succeed; its stdout.
pub fn run_ok_in(ns: Option<&NetNs>, program: &str, args: &[&str]) -> String {
    let out = run_in(ns, program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `ip -j ARGS` inside `ns`, parsed.
pub fn ip_json(ns: Option<&NetNs>, args: &[&str]) -> Value {
    let mut a = vec!["-j"];
    a.extend_from_slice(args);
    let text = run_ok_in(ns, "ip", &a);
    if text.trim().is_empty() {
        return json!([]);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("ip {args:?}: bad JSON {e}: {text}"))
}

/// Whether `from` (a namespace) gets an answer to one ping to `to`.
pub fn pings(from: &NetNs, to: &str) -> bool {
    run_in(Some(from), "ping", &["-c", "1", "-W", "2", "-q", to]).status.success()
}

/// The IP files host-local keeps in `data_dir` for network `testnet`.
pub fn allocations(data_dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(data_dir.join("testnet"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `nft -j list ruleset` in `ns`, parsed.
pub fn nft_ruleset(ns: Option<&NetNs>) -> Value {
    let text = run_ok_in(ns, "nft", &["-j", "list", "ruleset"]);
    serde_json::from_str(&text).unwrap()
}

/// The names of the nftables tables in `ns`.
pub fn nft_tables(ns: Option<&NetNs>) -> Vec<String> {
    nft_ruleset(ns)["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.get("table"))
        .map(|t| format!("{} {}", t["family"].as_str().unwrap(), t["name"].as_str().unwrap()))
        .collect()
}

/// The names of the links of `ns`.
pub fn link_names(ns: Option<&NetNs>) -> Vec<String> {
    ip_json(ns, &["link", "show"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].as_str().unwrap().to_owned())
        .collect()
}
