//! Benchmark: ADD and DEL of one pod, the way a container runtime calls a
//! CNI plugin (one process per call: `CNI_*` environment, configuration on
//! stdin, result on stdout), nslink-bridge against the reference `bridge`
//! plugin (/usr/lib/cni/bridge), both with the real host-local IPAM, in the
//! same run, interleaved pod by pod (the contender that goes first
//! alternates).
//!
//! Both use the configuration a Kubernetes node typically has
//! (`isGateway`, `isDefaultGateway`, `hairpinMode`, cniVersion 1.0.0), each
//! its own bridge, subnet and host-local data directory. Extra rows, not
//! compared: host-local alone (the IPAM part of every ADD and DEL),
//! nslink-bridge with `ipMasq` (its nftables rules over netlink), and the
//! process start of each plugin alone (VERSION).
//!
//! The timed span is spawn → exit of the plugin process, as a runtime sees
//! it; the CPU time (user + system) of each call is the plugin's and its
//! IPAM plugin's together, less sensitive than wall time to what else
//! runs. A warm-up pod per contender (which creates the bridges) is not
//! counted. Results: median, p10, p90 over the pods, the ratio of the
//! medians, and the load average.
//!
//! Everything runs on one thread that first moves into a new network and
//! mount namespace (the "node") with a private tmpfs on `/run`, where the
//! pods' namespaces and the IPAM data live: the host is never touched.
//!
//! Run as root: `cargo bench -p nslink-cni --bench cni`. Environment:
//! `NSLINK_BENCH_QUICK=1` (5 pods: a smoke run), `NSLINK_BENCH_OTHER=PATH`
//! (one more contender: the plugin at PATH, e.g. a statically linked
//! build), `NSLINK_BENCH_PODS=N` (default 60, at most 200).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{CNI_DIR, OURS, REFERENCE, TempDir, config, require_tools, sandbox};
use nix::sys::resource::{UsageWho, getrusage};
use nslink::NetNs;
use serde_json::{Value, json};

/// CPU time (user + system) of the children this process has waited for:
/// the difference across one call is that call's plugin process and the
/// processes it waited for (its IPAM plugin, `nft`).
fn children_cpu() -> Duration {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage(RUSAGE_CHILDREN)");
    let us = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(us(u.user_time()) + us(u.system_time()))
}

/// One timed call: spawn → exit (wall clock), and the CPU time it used.
fn call(plugin: &str, cmd: &str, cid: &str, netns: &str, conf: &str) -> (Duration, Duration) {
    let cpu = children_cpu();
    let start = Instant::now();
    let mut child = Command::new(plugin)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CNI_COMMAND", cmd)
        .env("CNI_CONTAINERID", cid)
        .env("CNI_NETNS", netns)
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", CNI_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {plugin}: {e}"));
    // A plugin may exit without reading (the reference plugin's VERSION):
    // a broken pipe here is its business, its exit status says the rest.
    let _ = child.stdin.take().unwrap().write_all(conf.as_bytes());
    let out = child.wait_with_output().unwrap();
    let took = start.elapsed();
    let cpu = children_cpu().saturating_sub(cpu);
    assert!(
        out.status.success(),
        "{plugin} {cmd} {cid} failed: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (took, cpu)
}

/// Wall-clock and CPU times of a series of calls.
#[derive(Default)]
struct Times {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Times {
    fn push(&mut self, (wall, cpu): (Duration, Duration)) {
        self.wall.push(wall);
        self.cpu.push(cpu);
    }
}

struct Contender {
    label: &'static str,
    plugin: String,
    conf: String,
    pod_prefix: &'static str,
    add: Times,
    del: Times,
    _data: TempDir,
}

impl Contender {
    fn new(
        label: &'static str,
        plugin: &str,
        pod_prefix: &'static str,
        conf: Value,
        data: TempDir,
    ) -> Contender {
        Contender {
            label,
            plugin: plugin.to_owned(),
            conf: conf.to_string(),
            pod_prefix,
            add: Times::default(),
            del: Times::default(),
            _data: data,
        }
    }
    fn netns(&self, i: usize) -> String {
        format!("/run/netns/{}{i}", self.pod_prefix)
    }
}

/// Median, p10 and p90, in milliseconds.
fn stats(v: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = v.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.1), at(0.9))
}

fn main() {
    sandbox(|| {
        require_tools();
        let quick = std::env::var_os("NSLINK_BENCH_QUICK").is_some();
        let pods: usize = if quick {
            5
        } else {
            std::env::var("NSLINK_BENCH_PODS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(60)
                .clamp(2, 200)
        };
        let keys = json!({"isGateway": true, "isDefaultGateway": true, "hairpinMode": true});
        let mk = |plugin_type: &str, bridge: &str, subnet: &str, extra: Value, tag: &str| {
            let data = TempDir::new(tag);
            let mut c = config("1.0.0", plugin_type, subnet, data.path(), keys.clone());
            c["bridge"] = json!(bridge);
            c["name"] = json!(format!("bench-{tag}"));
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            (c, data)
        };
        let (c, d) = mk("nslink-bridge", "cni-ours", "10.10.0.0/24", json!({}), "ours");
        let ours = Contender::new("nslink-bridge", OURS, "o", c, d);
        let (c, d) = mk("bridge", "cni-ref", "10.20.0.0/24", json!({}), "ref");
        let reference = Contender::new("reference bridge", REFERENCE, "r", c, d);
        let (c, d) =
            mk("nslink-bridge", "cni-masq", "10.30.0.0/24", json!({"ipMasq": true}), "masq");
        let masq = Contender::new("nslink-bridge + ipMasq", OURS, "m", c, d);
        let mut all = vec![ours, reference, masq];
        // Optionally, the same plugin built another way (a statically
        // linked build, say), as one more contender.
        if let Ok(other) = std::env::var("NSLINK_BENCH_OTHER") {
            let (c, d) = mk("nslink-bridge", "cni-other", "10.50.0.0/24", json!({}), "other");
            all.push(Contender::new("nslink-bridge (other build)", &other, "x", c, d));
        }
        let mut ns = Vec::new();
        for c in &all {
            for i in 0..=pods {
                ns.push(NetNs::create(format!("{}{i}", c.pod_prefix)).unwrap());
            }
        }
        // host-local alone, with its own data directory.
        let ipam_data = TempDir::new("ipam");
        let ipam_conf =
            config("1.0.0", "bridge", "10.40.0.0/24", ipam_data.path(), json!({})).to_string();
        let (mut ipam_add, mut ipam_del) = (Times::default(), Times::default());
        // Process start alone: VERSION (no configuration to speak of, no
        // work), ours and the reference plugin's.
        let (mut ours_start, mut ref_start) = (Times::default(), Times::default());

        // Warm-up (bridges are created here): pod 0, not counted.
        for c in &all {
            call(&c.plugin, "ADD", "warm", &c.netns(0), &c.conf);
        }
        for i in 1..=pods {
            let cid = format!("pod{i}");
            let n = all.len();
            for k in 0..n {
                let c = &mut all[(i + k) % n];
                let t = call(&c.plugin, "ADD", &cid, &c.netns(i), &c.conf);
                c.add.push(t);
            }
            ipam_add.push(call("/usr/lib/cni/host-local", "ADD", &cid, "/x", &ipam_conf));
            ours_start.push(call(OURS, "VERSION", &cid, "/x", "{}"));
            ref_start.push(call(REFERENCE, "VERSION", &cid, "/x", "{}"));
        }
        for i in 1..=pods {
            let cid = format!("pod{i}");
            let n = all.len();
            for k in 0..n {
                let c = &mut all[(i + k) % n];
                let t = call(&c.plugin, "DEL", &cid, &c.netns(i), &c.conf);
                c.del.push(t);
            }
            ipam_del.push(call("/usr/lib/cni/host-local", "DEL", &cid, "/x", &ipam_conf));
        }
        for c in &all {
            call(&c.plugin, "DEL", "warm", &c.netns(0), &c.conf);
        }

        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!(
            "CNI ADD/DEL per pod, one process per call, {pods} pods per contender, interleaved; load average {}",
            load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        );
        println!(
            "{:<30} {:>22} {:>8} {:>22} {:>8}",
            "contender", "ADD ms med (p10-p90)", "ADD cpu", "DEL ms med (p10-p90)", "DEL cpu"
        );
        let cell = |t: &Times| {
            let (w, w10, w90) = stats(&t.wall);
            let (c, _, _) = stats(&t.cpu);
            format!("{w:>8.2} ({w10:>5.2}-{w90:>5.2}) {c:>8.2}")
        };
        let line = |label: &str, add: &Times, del: Option<&Times>| {
            let del = del.map(cell).unwrap_or_default();
            println!("{label:<30} {}   {del}", cell(add));
        };
        for c in &all {
            line(c.label, &c.add, Some(&c.del));
        }
        line("host-local alone", &ipam_add, Some(&ipam_del));
        line("nslink-bridge VERSION (start)", &ours_start, None);
        line("reference VERSION (start)", &ref_start, None);
        let med = |t: &Times| stats(&t.wall).0;
        let (oa, od) = (med(&all[0].add), med(&all[0].del));
        let (ra, rd) = (med(&all[1].add), med(&all[1].del));
        let ha = med(&ipam_add);
        println!(
            "ADD: nslink-bridge is {:.2}x faster than the reference (median {oa:.2} ms vs {ra:.2} ms); \
             its own part (ADD - host-local alone) {:.2} ms, the reference's {:.2} ms",
            ra / oa,
            oa - ha,
            ra - ha
        );
        println!(
            "ADD: 3x the reference would be {:.2} ms; host-local alone takes {ha:.2} ms of it",
            ra / 3.0
        );
        println!(
            "DEL: nslink-bridge is {:.2}x faster than the reference (median {od:.2} ms vs {rd:.2} ms)",
            rd / od
        );
        drop(ns);
    });
}
