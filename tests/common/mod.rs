//! Helpers shared by the privileged integration tests.
//!
//! Every test body runs inside [`sandbox`]: a fresh thread with its own
//! network namespace and its own mount namespace, where `/` is recursively
//! private and `/run` is an empty tmpfs. The host's devices and the host's
//! `/run/netns` are therefore out of reach, and whatever a test makes
//! (namespaces, mounts, entries) disappears when the thread exits, panics
//! included. Child processes (`ip`, `ls`, …) started from the sandbox thread
//! inherit both namespaces, so `ip netns` sees exactly the sandbox's names.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nslink::{NetNs, NsId};
use serde_json::Value;

mod sandbox;
pub use sandbox::*;

/// A name nobody else uses: `prefix-PID-N`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

// ---------------------------------------------------------------------------
// Running the tools
// ---------------------------------------------------------------------------

/// A `Command` for `program` in the calling thread's namespace. Tools run
/// with `LC_ALL=C`, so that what tests parse is never translated.
pub fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("LC_ALL", "C");
    cmd
}

/// Where a tool runs: [`Here`] (the calling thread's namespace), a named
/// namespace (`&str`, `&String`: `ip -n NAME`, `ip netns exec NAME PROG`),
/// a [`NetNs`] handle (`NetNs::command`), or an `Option` of one of these
/// (`None` is [`Here`]).
pub trait Place: Copy + std::fmt::Debug {
    /// A `Command` for `program` there.
    fn command(self, program: &str) -> Command;

    /// A `Command` for `ip` there.
    fn ip(self) -> Command {
        self.command("ip")
    }
}

/// The calling thread's namespace.
#[derive(Debug, Clone, Copy)]
pub struct Here;

impl Place for Here {
    fn command(self, program: &str) -> Command {
        command(program)
    }
}

impl Place for &str {
    fn command(self, program: &str) -> Command {
        let mut cmd = command("ip");
        cmd.args(["netns", "exec", self, program]);
        cmd
    }

    fn ip(self) -> Command {
        let mut cmd = command("ip");
        cmd.args(["-n", self]);
        cmd
    }
}

impl Place for &String {
    fn command(self, program: &str) -> Command {
        self.as_str().command(program)
    }

    fn ip(self) -> Command {
        self.as_str().ip()
    }
}

impl Place for &NetNs {
    fn command(self, program: &str) -> Command {
        let mut cmd = NetNs::command(self, program).expect("NetNs::command");
        cmd.env("LC_ALL", "C");
        cmd
    }
}

impl<P: Place> Place for Option<P> {
    fn command(self, program: &str) -> Command {
        match self {
            Some(p) => p.command(program),
            None => Here.command(program),
        }
    }

    fn ip(self) -> Command {
        match self {
            Some(p) => p.ip(),
            None => Here.ip(),
        }
    }
}

/// Runs `cmd` and returns its output, whatever the exit status.
fn spawn(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command and returns its output, whatever the exit status.
pub fn output(program: &str, args: &[&str]) -> Output {
    output_in(Here, program, args)
}

/// Runs a command at `place` and returns its output, whatever the exit
/// status.
pub fn output_in(place: impl Place, program: &str, args: &[&str]) -> Output {
    spawn(place.command(program).args(args))
}

/// Runs a command that must succeed and returns its stdout.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    run_in(Here, program, args)
}

/// Runs a command at `place` that must succeed and returns its stdout.
#[track_caller]
pub fn run_in(place: impl Place, program: &str, args: &[&str]) -> String {
    stdout_ok(&format!("{program} {args:?} in {place:?}"), output_in(place, program, args))
}

/// Checks the output of a spawned command succeeded and returns its stdout.
#[track_caller]
pub fn stdout_ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed with {}: stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("command output is not UTF-8")
}

/// `ip <args>` at `place`, whatever its exit status; the arguments need not
/// be UTF-8.
pub fn ip_output_in<A: AsRef<OsStr>>(place: impl Place, args: &[A]) -> Output {
    spawn(place.ip().args(args))
}

/// `ip <args>`, which must succeed; its stdout.
#[track_caller]
pub fn ip(args: &[&str]) -> String {
    ip_in(Here, args)
}

/// `ip <args>` at `place` (`ip -n NAME`, or `NetNs::command`), which must
/// succeed; its stdout.
#[track_caller]
pub fn ip_in(place: impl Place, args: &[&str]) -> String {
    stdout_ok(&format!("ip {args:?} in {place:?}"), spawn(place.ip().args(args)))
}

// ---------------------------------------------------------------------------
// Reading what `ip -j` (and `bridge -j`) print
// ---------------------------------------------------------------------------

/// The one reader for the JSON the tools print (`ip -j`, `bridge -j`): the
/// top-level array, empty for empty output (some tools print nothing for an
/// empty list). `what` names the command in the panic message.
///
/// `ip` escapes only quotes, backslashes, backspace, form feed, newline,
/// carriage return and tab in strings, and prints other control bytes of a
/// name or alias as they are, which JSON does not allow: those (which cannot
/// occur outside strings) are escaped
/// here before parsing.
#[track_caller]
pub fn parse_json(what: &str, text: &str) -> Vec<Value> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut json = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' | '\n' | '\r' => json.push(c),
            c if c < ' ' => json.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => json.push(c),
        }
    }
    match serde_json::from_str(&json) {
        Ok(Value::Array(items)) => items,
        Ok(other) => panic!("{what}: expected a JSON array, got {other}"),
        Err(e) => panic!("{what}: bad JSON ({e}): {text}"),
    }
}

/// Runs `cmd` (a tool asked for JSON), which must succeed, and parses its
/// stdout. Names that are not UTF-8 are read lossily (`ip` prints their
/// bytes as they are, which is not JSON).
#[track_caller]
pub fn json_cmd(cmd: &mut Command, what: &str) -> Vec<Value> {
    let out = spawn(cmd);
    assert!(
        out.status.success(),
        "{what} failed with {}: stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_json(what, &String::from_utf8_lossy(&out.stdout))
}

/// `PROGRAM -j ARGS` at `place` (for `bridge -j`), which must succeed, parsed.
#[track_caller]
pub fn json_in(place: impl Place, program: &str, args: &[&str]) -> Vec<Value> {
    let mut cmd = place.command(program);
    cmd.arg("-j").args(args);
    json_cmd(&mut cmd, &format!("{program} -j {args:?} in {place:?}"))
}

/// `ip -j ARGS` in the calling thread's namespace, which must succeed,
/// parsed: `ip_json(&["-d", "link", "show"])`.
#[track_caller]
pub fn ip_json(args: &[&str]) -> Vec<Value> {
    ip_json_in(Here, args)
}

/// `ip -j ARGS` at `place`, which must succeed, parsed.
#[track_caller]
pub fn ip_json_in(place: impl Place, args: &[&str]) -> Vec<Value> {
    let mut cmd = place.ip();
    cmd.arg("-j").args(args);
    json_cmd(&mut cmd, &format!("ip -j {args:?} in {place:?}"))
}

/// The `ifname`s of `ip -j link show` (or `bridge -j link`) objects, in order.
pub fn ifnames(objects: &[Value]) -> Vec<String> {
    objects.iter().map(|o| o.at("ifname").text().to_owned()).collect()
}

/// Accessors for the tools' JSON that panic, with the object, when a value
/// is missing or of another type.
pub trait JsonExt {
    /// `self[key]`, which must be there.
    fn at(&self, key: &str) -> &Value;
    /// A string.
    fn text(&self) -> &str;
    /// A signed integer.
    fn int(&self) -> i64;
    /// An unsigned integer.
    fn uint(&self) -> u64;
    /// A boolean.
    fn truth(&self) -> bool;
    /// An array's items.
    fn items(&self) -> &[Value];
    /// The `"flags"` list of an `ip -j link` object (`UP`, `LOWER_UP`, …).
    fn flags(&self) -> BTreeSet<String>;
}

impl JsonExt for Value {
    #[track_caller]
    fn at(&self, key: &str) -> &Value {
        self.get(key).unwrap_or_else(|| panic!("no {key:?} in {self}"))
    }
    #[track_caller]
    fn text(&self) -> &str {
        self.as_str().unwrap_or_else(|| panic!("not a string: {self}"))
    }
    #[track_caller]
    fn int(&self) -> i64 {
        self.as_i64().unwrap_or_else(|| panic!("not an integer: {self}"))
    }
    #[track_caller]
    fn uint(&self) -> u64 {
        self.as_u64().unwrap_or_else(|| panic!("not an unsigned integer: {self}"))
    }
    #[track_caller]
    fn truth(&self) -> bool {
        self.as_bool().unwrap_or_else(|| panic!("not a boolean: {self}"))
    }
    #[track_caller]
    fn items(&self) -> &[Value] {
        self.as_array().unwrap_or_else(|| panic!("not an array: {self}"))
    }
    #[track_caller]
    fn flags(&self) -> BTreeSet<String> {
        self.at("flags").items().iter().map(|f| f.text().to_owned()).collect()
    }
}

/// The names `ip netns list` prints (its lines look like `NAME` or
/// `NAME (id: N)`), sorted.
pub fn ip_netns_list() -> Vec<String> {
    let mut names: Vec<String> = ip(&["netns", "list"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.find(" (id: ") {
            Some(i) => l[..i].to_owned(),
            None => l.to_owned(),
        })
        .collect();
    names.sort();
    names
}

/// The entry names of a directory, sorted; empty if it does not exist.
pub fn dir_entries(path: impl AsRef<Path>) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(path.as_ref()) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("cannot list {:?}: {e}", path.as_ref()),
    };
    names.sort();
    names
}

/// How many mounts have exactly `point` as their mount point.
pub fn mount_count(point: &str) -> usize {
    mounts().iter().filter(|m| m.point == point).count()
}

/// Mount points of every nsfs mount (named namespaces), sorted.
pub fn nsfs_mounts() -> Vec<String> {
    let mut v: Vec<String> =
        mounts().into_iter().filter(|m| m.fstype == "nsfs").map(|m| m.point).collect();
    v.sort();
    v
}

/// Everything a test may leave behind, for before/after comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Entries of `/run/netns`.
    pub netns_entries: Vec<String>,
    /// Entries of `/run`.
    pub run_entries: Vec<String>,
    /// Entries of `/etc`.
    pub etc_entries: Vec<String>,
    /// nsfs mount points.
    pub nsfs: Vec<String>,
    /// All mount points.
    pub mounts: Vec<String>,
    /// The calling thread's namespace.
    pub thread_ns: NsId,
}

/// Takes a [`Snapshot`] from the calling thread.
pub fn snapshot() -> Snapshot {
    Snapshot {
        netns_entries: dir_entries("/run/netns"),
        run_entries: dir_entries("/run"),
        etc_entries: dir_entries("/etc"),
        nsfs: nsfs_mounts(),
        mounts: mount_points(),
        thread_ns: here(),
    }
}

/// The calling thread's namespace.
pub fn here() -> NsId {
    NetNs::current().expect("NetNs::current").id()
}

/// Whether the descriptor has `FD_CLOEXEC`.
pub fn is_cloexec(fd: impl AsFd) -> bool {
    let flags = fcntl(fd.as_fd(), FcntlArg::F_GETFD).expect("fcntl(F_GETFD)");
    FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC)
}

/// The process's open descriptors, from `/proc/self/fd`.
pub fn open_fds() -> BTreeSet<i32> {
    fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Descriptors (other than 0, 1, 2) whose `/proc/self/fdinfo` flags lack
/// `O_CLOEXEC`, with what they point at. Descriptors that close while we
/// look are ignored.
pub fn fds_without_cloexec() -> Vec<(i32, String)> {
    const O_CLOEXEC: u32 = 0o2000000;
    let mut bad = Vec::new();
    for fd in open_fds() {
        if fd <= 2 {
            continue;
        }
        let Ok(info) = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")) else { continue };
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            .expect("flags line in fdinfo");
        if flags & O_CLOEXEC == 0 {
            let target = fs::read_link(format!("/proc/self/fd/{fd}"))
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            bad.push((fd, target));
        }
    }
    bad
}

/// Network namespace inodes that a descriptor of this process refers to.
pub fn fds_netns() -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for fd in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(link) = std::fs::read_link(fd.path()) {
            let s = link.to_string_lossy().into_owned();
            if let Some(n) = s.strip_prefix("net:[").and_then(|r| r.strip_suffix(']')) {
                set.insert(n.parse().unwrap());
            }
        }
    }
    set
}

/// The threads of this process whose network namespace is `id`.
pub fn tasks_in(id: NsId) -> Vec<String> {
    let want = format!("net:[{}]", id.ino);
    fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|e| {
            let tid = e.ok()?.file_name().to_string_lossy().into_owned();
            let link = fs::read_link(format!("/proc/self/task/{tid}/ns/net")).ok()?;
            (link.to_string_lossy() == want).then_some(tid)
        })
        .collect()
}

/// Waits (up to five seconds) until no thread of this process is in `id`:
/// a joined thread can stay visible in `/proc` for a moment after `join`.
pub fn assert_no_task_in(id: NsId) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let tasks = tasks_in(id);
        if tasks.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "threads {tasks:?} are still in {id}");
        thread::sleep(Duration::from_millis(10));
    }
}
