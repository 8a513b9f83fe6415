//! Crashes mid-operation: `kill -9` at random moments of named namespace
//! create/delete and of the pod example's build, then recovery.
//!
//! Each test starts a child process many times (the `crash-child` example,
//! or the `pod-network` example itself) and kills it with SIGKILL after a
//! random delay in microseconds. After each kill it checks what the dead
//! run left: nothing mounted twice (`/proc/thread-self/mountinfo`, the
//! mounts made since the sandbox started), every
//! leftover entry either a mounted namespace (*live*) or a file with
//! nothing on it (*stale*), nothing else; then the next run recovers
//! ([`NetnsDir::delete`], and [`NetnsDir::remove_stale`] for a stale
//! entry: `crash-child recover`) and must leave the directory empty with no
//! namespace mounted. Every child runs under a deadline: a hang (a lock
//! never released, a loop that never ends) fails the test.
//!
//! The delays come from a seeded generator; the seed is printed and every
//! failure names it and the iteration: rerun with `NSLINK_CRASH_SEED=…`.
//! `NSLINK_CRASH_ITERATIONS` changes the number of kills per test (150 and
//! 100; a fifth of that under `.ci/stress`).
//!
//! Everything happens in the tests' sandbox (a private network and mount
//! namespace with a tmpfs on `/run`); the children inherit it, so the
//! host's `/run/netns` is never touched, and what the children mount stays
//! visible to the test after they die (the sandbox thread keeps the mount
//! namespace alive).
//!
//! The example binaries are the ones `cargo test` builds; a focused run
//! needs `cargo build --example crash-child --example pod-network` first.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::sandbox;
use nix::mount::{MntFlags, umount2};
use nslink::NetnsDir;

/// The sandbox's own `/run/netns` (a tmpfs under the sandbox's `/run`).
const DIR: &str = "/run/netns";
/// Longest a child may take to start, recover or die: past it, a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// A small seeded generator (splitmix64): the same seed, the same delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The seed (`NSLINK_CRASH_SEED`, or the clock), printed.
fn seed(test: &str) -> u64 {
    let seed = match std::env::var("NSLINK_CRASH_SEED") {
        Ok(s) => s.parse().expect("NSLINK_CRASH_SEED must be a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos() as u64,
    };
    eprintln!("{test}: NSLINK_CRASH_SEED={seed}");
    seed
}

/// `NSLINK_CRASH_ITERATIONS`, else `default`; a fifth of it under
/// `.ci/stress` (`NSLINK_STRESS`), which runs the suite 20 times for flakes,
/// and on the emulated 6.1 kernel (the full count runs in the normal pass).
fn iterations(default: usize) -> usize {
    match std::env::var("NSLINK_CRASH_ITERATIONS") {
        Ok(s) => s.parse().expect("NSLINK_CRASH_ITERATIONS must be a number"),
        Err(_) if std::env::var_os("NSLINK_STRESS").is_some() => default / 5,
        // Under the emulated 6.1 kernel (oldkernel-run) a process start
        // takes ~10x longer: a fifth there too.
        Err(_) if std::env::var_os("OLDKERNEL_RUN_GUEST").is_some() => default / 5,
        Err(_) => default,
    }
}

/// An example's binary, `target/<profile>/examples/NAME`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let path = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds it; for a focused run, `cargo build --example {name}`",
        path.display()
    );
    path
}

/// A running child whose stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

fn start(cmd: &mut Command) -> Running {
    let mut child = cmd
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let out = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running { child, lines }
}

impl Running {
    /// Waits for a line starting with `prefix`; `None` if the child ended
    /// first. Panics (with `ctx`) past the deadline.
    fn line(&mut self, prefix: &str, ctx: &str) -> Option<String> {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Some(l),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("{ctx}: no {prefix:?} from the child within {DEADLINE:?}: a hang");
                }
            }
        }
    }

    /// Waits for the child to end (within the deadline) and returns its
    /// status with its stderr.
    fn wait(mut self, ctx: &str) -> (ExitStatus, String) {
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("{ctx}: the child did not end within {DEADLINE:?}: a hang");
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, err)
    }
}

/// One line of `/proc/thread-self/mountinfo`: (mount id, point, type).
fn mount_table() -> Vec<(u64, String, String)> {
    let text = std::fs::read_to_string("/proc/thread-self/mountinfo").expect("mountinfo");
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().position(|x| *x == "-").expect("mountinfo separator");
            (f[0].parse().expect("mount id"), f[4].to_owned(), f[sep + 1].to_owned())
        })
        .collect()
}

thread_local! {
    /// The sandbox's mounts before the test made any (ids). Under a user
    /// namespace the host's mounts below `/run` are locked and stay listed
    /// under the sandbox's tmpfs, `/run/netns` among them: only mounts
    /// made since count.
    static BASELINE: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn take_baseline() {
    let ids = mount_table().into_iter().map(|(id, _, _)| id).collect();
    BASELINE.with(|b| *b.borrow_mut() = ids);
}

/// The mounts made since [`take_baseline`]: (point, type).
fn new_mounts() -> Vec<(String, String)> {
    let base = BASELINE.with(|b| b.borrow().clone());
    mount_table()
        .into_iter()
        .filter(|(id, _, _)| !base.contains(id))
        .map(|(_, p, t)| (p, t))
        .collect()
}

/// Asserts that no mount point under `/run` got more than one mount.
fn assert_nothing_mounted_twice(ctx: &str) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (point, _) in new_mounts() {
        if point.starts_with("/run/") {
            *count.entry(point).or_default() += 1;
        }
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{ctx}: mounted more than once: {twice:?}\n{:#?}", new_mounts());
}

/// How the directory is mounted: "none" (not a mount point), "private"
/// or "shared" (what `create` leaves).
fn dir_mount_state() -> &'static str {
    let base = BASELINE.with(|b| b.borrow().clone());
    let text = std::fs::read_to_string("/proc/thread-self/mountinfo").expect("mountinfo");
    let line = text.lines().find(|l| {
        let mut f = l.split(' ');
        let id = f.next().and_then(|id| id.parse::<u64>().ok());
        f.nth(3) == Some(DIR) && id.is_some_and(|id| !base.contains(&id))
    });
    match line {
        None => "none",
        Some(l) if l.split(' ').any(|f| f.starts_with("shared:")) => "shared",
        Some(_) => "private",
    }
}

/// The nsfs mounts in the directory.
fn nsfs_in_dir() -> Vec<String> {
    new_mounts()
        .into_iter()
        .filter(|(point, fstype)| fstype == "nsfs" && point.starts_with(&format!("{DIR}/")))
        .map(|(point, _)| point)
        .collect()
}

/// What a dead run left in the directory: (live, stale) entries, checked
/// to be nothing else (and only names starting with `prefix`).
fn leftovers(prefix: &str, ctx: &str) -> (usize, usize) {
    let dir = NetnsDir::new(DIR);
    let mounted = nsfs_in_dir();
    let (mut live, mut stale) = (0, 0);
    for name in dir.list().expect("list") {
        assert!(name.as_str().starts_with(prefix), "{ctx}: an entry not of this run: {name}");
        let path = Path::new(DIR).join(name.as_str());
        let meta = std::fs::symlink_metadata(&path).expect("stat the entry");
        if mounted.iter().any(|m| Path::new(m) == path) {
            // Mounted: it must be the namespace it claims to be.
            dir.open(&name).unwrap_or_else(|e| panic!("{ctx}: live {name} does not open: {e}"));
            live += 1;
        } else {
            assert!(meta.file_type().is_file(), "{ctx}: {name} is neither mounted nor a file");
            stale += 1;
        }
    }
    // Every namespace mounted there has an entry.
    assert_eq!(mounted.len(), live, "{ctx}: nsfs mounts without entries: {mounted:?}");
    (live, stale)
}

/// Runs `crash-child recover DIR PREFIX` and checks that the directory is
/// then empty of PREFIX's names, with nothing mounted.
fn recover(prefix: &str, expect: (usize, usize), ctx: &str) {
    let mut r = start(Command::new(example("crash-child")).args(["recover", DIR, prefix]));
    let line = r.line("recovered", ctx);
    let (st, err) = r.wait(ctx);
    assert!(st.success(), "{ctx}: recovery failed: {st}: {err}");
    let got = line.expect("the recovery's report");
    assert_eq!(got, format!("recovered {} {}", expect.0, expect.1), "{ctx}");
    assert!(NetnsDir::new(DIR).list().expect("list").is_empty(), "{ctx}: entries after recovery");
    assert!(nsfs_in_dir().is_empty(), "{ctx}: mounts after recovery: {:?}", nsfs_in_dir());
    assert_nothing_mounted_twice(ctx);
}

/// How the kills landed, for the summary line.
#[derive(Default, Debug)]
struct Tally {
    clean: usize,
    live: usize,
    stale: usize,
    finished: usize,
    fresh: usize,
    /// How runs that started without the directory left it.
    dir_states: BTreeMap<&'static str, usize>,
}

/// `kill -9` of a child that loops over named create/delete, at a random
/// moment of its loop; the next run recovers every time.
#[test]
fn killed_named_create_and_delete_always_recover() {
    let seed = seed("named create/delete");
    let n = iterations(150);
    sandbox(|| {
        take_baseline();
        // How long a child takes here to start (and say ready) and to do
        // one cycle: the kills land within those spans, wherever (machine,
        // load, emulated kernel) the test runs.
        let t = Instant::now();
        let mut calibration = start(Command::new(example("crash-child")).args(["loop", DIR, "20"]));
        assert!(calibration.line("ready", "calibration").is_some(), "calibration run failed");
        let startup = t.elapsed().as_micros() as u64;
        let t = Instant::now();
        let (st, err) = calibration.wait("calibration");
        assert!(st.success(), "calibration run failed: {st}: {err}");
        let cycle = (t.elapsed().as_micros() as u64 / 20).max(1);
        eprintln!("named create/delete: start-up {startup} us, one cycle {cycle} us");
        let mut rng = Rng(seed);
        let mut tally = Tally::default();
        let started = Instant::now();
        for i in 0..n {
            let ctx = format!("iteration {i} (NSLINK_CRASH_SEED={seed})");
            // Every fifth run starts without the directory, so that kills
            // also land while the first create makes it a shared mount
            // point (bind onto itself, private, shared).
            let fresh = i % 5 == 0;
            if fresh && i > 0 {
                let left = leftovers("crash-", &ctx);
                recover("", left, &ctx);
                while new_mounts().iter().any(|(point, _)| point == DIR) {
                    umount2(DIR, MntFlags::MNT_DETACH).expect("unmount the directory");
                }
                // Absent when the last child died before its first create.
                match std::fs::remove_dir(DIR) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        panic!("{ctx}: remove the directory: {e}")
                    }
                    _ => {}
                }
            }
            tally.fresh += usize::from(fresh);
            let mut child = start(Command::new(example("crash-child")).args(["loop", DIR]));
            if fresh {
                // Killed anywhere from its start to its first creates, the
                // preparation of the directory included.
                std::thread::sleep(Duration::from_micros(rng.below(startup + 2 * cycle)));
            } else {
                // The child recovers what the last one left, then says
                // ready; killed within its next three cycles.
                let recovered = child.line("recovered", &ctx);
                let ready = child.line("ready", &ctx);
                if recovered.is_none() || ready.is_none() {
                    let (st, err) = child.wait(&ctx);
                    panic!("{ctx}: the child ended before it was ready: {st}: {err}");
                }
                assert_nothing_mounted_twice(&ctx);
                std::thread::sleep(Duration::from_micros(rng.below(3 * cycle)));
            }
            let _ = child.child.kill();
            let (st, err) = child.wait(&ctx);
            assert!(err.is_empty(), "{ctx}: the child failed before the kill: {st}: {err}");
            assert_nothing_mounted_twice(&ctx);
            if fresh {
                *tally.dir_states.entry(dir_mount_state()).or_default() += 1;
            }
            match leftovers("crash-", &ctx) {
                (0, 0) => tally.clean += 1,
                (live, stale) => {
                    tally.live += live;
                    tally.stale += stale;
                }
            }
        }
        // The last leftovers, then a clean run from start to end.
        let left = leftovers("crash-", "after the last kill");
        recover("", left, "final recovery");
        let mut last = start(Command::new(example("crash-child")).args(["loop", DIR, "20"]));
        assert_eq!(last.line("ready", "last run").as_deref(), Some("ready"));
        let (st, err) = last.wait("last run");
        assert!(st.success(), "a whole run after the crashes failed: {st}: {err}");
        assert!(NetnsDir::new(DIR).list().unwrap().is_empty());
        assert!(nsfs_in_dir().is_empty());
        eprintln!(
            "named create/delete: {n} kills in {:.1?} ({} in a run that starts without the \
             directory, left as {:?}): {} left nothing, {} live and {} stale entries left and \
             recovered",
            started.elapsed(),
            tally.fresh,
            tally.dir_states,
            tally.clean,
            tally.live,
            tally.stale
        );
    });
}

/// `kill -9` of the pod example (`pod-network --pods 3`, its own per-run
/// names `nslink-PID-*`) at a random moment of its run; what it left is
/// found and removed every time, and a whole run works afterwards.
#[test]
fn killed_pod_network_builds_always_recover() {
    let seed = seed("pod build");
    let n = iterations(100);
    sandbox(|| {
        take_baseline();
        let pod = example("pod-network");
        let run = || start(Command::new(&pod).args(["--pods", "3"]));
        // How long a whole run takes here: kills land anywhere in it, most
        // during the build (its first part).
        let t = Instant::now();
        let whole = run();
        let (st, err) = whole.wait("calibration run");
        assert!(st.success(), "pod-network fails without any kill: {st}: {err}");
        let span = t.elapsed();
        assert!(NetnsDir::new(DIR).list().unwrap().is_empty());
        let mut rng = Rng(seed);
        let mut tally = Tally::default();
        let started = Instant::now();
        for i in 1..=n {
            let ctx = format!("iteration {i} (NSLINK_CRASH_SEED={seed})");
            let mut child = run();
            let pid = child.child.id();
            // Two thirds of the kills in the first half of a run (the
            // build), the rest anywhere up to a little past its end.
            let range = span.as_micros() as u64;
            let delay =
                if rng.below(3) < 2 { rng.below(range / 2) } else { rng.below(range * 5 / 4) };
            std::thread::sleep(Duration::from_micros(delay));
            let finished = matches!(child.child.try_wait(), Ok(Some(_)));
            let _ = child.child.kill();
            let (st, err) = child.wait(&ctx);
            if finished {
                assert!(st.success(), "{ctx}: pod-network failed on its own: {st}: {err}");
                tally.finished += 1;
            }
            assert_nothing_mounted_twice(&ctx);
            let prefix = format!("nslink-{pid}-");
            let left = leftovers(&prefix, &ctx);
            match left {
                (0, 0) => tally.clean += 1,
                (live, stale) => {
                    tally.live += live;
                    tally.stale += stale;
                }
            }
            recover(&prefix, left, &ctx);
        }
        let last = run();
        let (st, err) = last.wait("last run");
        assert!(st.success(), "a whole pod-network run after the crashes failed: {st}: {err}");
        assert!(NetnsDir::new(DIR).list().unwrap().is_empty());
        assert!(nsfs_in_dir().is_empty());
        eprintln!(
            "pod build: {n} kills in {:.1?} (a whole run: {span:.1?}): {} ran to the end, {} \
             left nothing, {} live and {} stale entries left and recovered",
            started.elapsed(),
            tally.finished,
            tally.clean,
            tally.live,
            tally.stale
        );
    });
}
