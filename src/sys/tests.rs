//! Every failure path of the namespace code, driven by the fault seam
//! ([`super::fault`]): named create's rollback, delete, stale entries,
//! guards, the worker pool, `run`/`spawn`/`command`.
//!
//! Tests named `…_root_free` inject their fault before any privileged step
//! and run as any user. The others make real namespaces and mounts: they run
//! in [`sandbox`] (a private network and mount namespace on a throwaway
//! thread), as root or as root of a user namespace (`unshare -rnm`, as
//! `.ci/userns-tests` runs them), and fail loudly otherwise.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;

use super::fault::{Call, FaultPlan};
use crate::error::{Error, Op};
use crate::netns::{NetNs, NetnsDir};

/// The errno injected: no step here returns it on its own, so seeing it
/// proves the error is the injected one, carried through.
const INJ: Errno = Errno::ENOTRECOVERABLE;

/// Runs `f` on a new thread in a private network and mount namespace, `/`
/// recursively private and a fresh tmpfs on `/tmp` (made *shared*, so that a
/// directory bind mount that skipped its private step would be seen joining
/// `/tmp`'s peer group). Nothing reaches the host; everything goes with the
/// thread.
fn sandbox<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    thread::scope(|s| {
        let h = s.spawn(|| {
            nix::sched::unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS).expect(
                "these fault tests make namespaces and mounts: run them as root, or as root of \
                 a user namespace (unshare -rnm)",
            );
            let none = None::<&str>;
            nix::mount::mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
                .expect("make / private");
            nix::mount::mount(Some("nslink-fault"), "/tmp", Some("tmpfs"), MsFlags::empty(), none)
                .expect("a tmpfs on /tmp");
            nix::mount::mount(none, "/tmp", none, MsFlags::MS_SHARED, none)
                .expect("make /tmp shared");
            f()
        });
        match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// A directory of our own under the system's temporary directory, for the
/// root-free tests (no mount ever happens in them).
fn scratch() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "nslink-fault-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// One line of `/proc/thread-self/mountinfo`: the mount point and its
/// peer group (`shared:N`), if shared.
struct Mnt {
    point: String,
    group: Option<u32>,
}

fn mounts() -> Vec<Mnt> {
    let text = std::fs::read_to_string("/proc/thread-self/mountinfo").expect("read mountinfo");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let point = (*f.get(4)?).to_owned();
            let group = f[6..]
                .iter()
                .take_while(|x| **x != "-")
                .find_map(|x| x.strip_prefix("shared:").and_then(|n| n.parse().ok()));
            Some(Mnt { point, group })
        })
        .collect()
}

fn mounted(p: &Path) -> usize {
    let p = p.to_string_lossy();
    mounts().iter().filter(|m| m.point == p).count()
}

/// The peer group of the topmost mount at `p`.
fn group(p: &Path) -> Option<u32> {
    let p = p.to_string_lossy();
    mounts().into_iter().rev().find(|m| m.point == p).and_then(|m| m.group)
}

fn errno_of(e: &Error) -> Option<Errno> {
    e.raw_os_error().map(Errno::from_raw)
}

// ---- named create ----

/// Which words the error of a failed create step must contain: the step.
fn step_word(call: Call) -> &'static str {
    match call {
        Call::Mkdir => "mkdir",
        Call::Mknod => "mknod",
        Call::Open => "open",
        Call::Flock => "flock",
        Call::Mount => "mount",
        Call::Unshare => "unshare",
        // The namespace check of the new descriptor.
        Call::Ioctl | Call::Stat => "open namespace",
        _ => "",
    }
}

#[test]
fn every_step_of_named_create_failing_leaves_nothing_behind() {
    sandbox(|| {
        // The namespace is made on this thread, which keeps descriptors of
        // its namespace between calls: one create first, so that the census
        // sees the calls every later create makes.
        NetnsDir::new("/tmp/warm").create("red").map(drop).expect("warm-up create");
        // A census: the calls one successful create makes, in a fresh
        // directory, each counted under the plan (a worker's too).
        let census = FaultPlan::new();
        {
            let _on = census.install();
            let ns = NetnsDir::new("/tmp/census").create("red").expect("create");
            drop(ns);
        }
        let mut failed = 0;
        let mut cases = 0;
        let mut survived = Vec::new();
        // The way home after the unshare is a guard's: failing it aborts
        // the process (checked in a child by the guard-abort test, scenario
        // "create-return"), so it is left out here: a create's last setns(2).
        let way_home = (Call::Setns, census.calls(Call::Setns));
        for call in Call::ALL {
            for nth in 1..=census.calls(call) {
                if (call, nth) == way_home {
                    continue;
                }
                // Named by number: the path must not spell the step.
                cases += 1;
                let dir = NetnsDir::new(format!("/tmp/case{cases}"));
                let entry = dir.path().join("red");
                let tmp_group = group(Path::new("/tmp"));
                let plan = FaultPlan::new().fail(call, nth, INJ);
                let made = plan.run(|| dir.create("red"));
                assert_eq!(plan.injected(call), 1, "{call} #{nth} was injected");
                match made {
                    Ok(ns) => {
                        survived.push(format!("{call} #{nth}"));
                        assert_eq!(dir.open("red").expect("open").id(), ns.id());
                    }
                    Err(e) => {
                        failed += 1;
                        let what = format!("{call} #{nth} failing: {e}");
                        assert_eq!(errno_of(&e), Some(INJ), "{what}");
                        assert!(e.to_string().contains(step_word(call)), "names the step: {what}");
                        assert!(!entry.exists(), "no entry left: {what}");
                        assert_eq!(mounted(&entry), 0, "no mount left on the entry: {what}");
                        if mounted(dir.path()) > 0 {
                            assert_ne!(
                                group(dir.path()),
                                tmp_group,
                                "a directory mount left behind is in no peer group of /tmp: {what}"
                            );
                        }
                    }
                }
                // Whatever happened, the name can be made (again) and the
                // directory is a shared mount in a peer group of its own.
                let _ = dir.delete("red");
                let ns = dir.create("red").expect("a create after the fault works");
                assert_eq!(mounted(&entry), 1);
                let g = group(dir.path());
                assert!(g.is_some() && g != tmp_group, "{call} #{nth}: dir group {g:?}");
                drop(ns);
                dir.delete("red").expect("delete");
                assert!(!entry.exists());
            }
        }
        // The faults a create survives are those before the thread leaves:
        // reading where it is (stat) and trying the way back (setns); it
        // then makes the namespace on a worker instead.
        assert_eq!(survived, ["setns #1", "stat #1"]);
        eprintln!(
            "named create: {failed} injected failures rolled back, {} survived",
            survived.len()
        );
    })
}

#[test]
fn create_failing_before_any_mount_is_root_free() {
    for (call, nth) in [(Call::Mkdir, 1), (Call::Open, 1), (Call::Flock, 1), (Call::Mount, 1)] {
        let base = scratch();
        let dir = NetnsDir::new(base.join("netns"));
        let plan = FaultPlan::new().fail(call, nth, INJ);
        let e = plan.run(|| dir.create("red").unwrap_err());
        assert_eq!(plan.injected(call), 1);
        assert_eq!(errno_of(&e), Some(INJ), "{e}");
        assert_eq!(e.op(), Some(Op::CreateNamedNetns));
        assert!(e.to_string().contains(step_word(call)), "{e}");
        assert!(!dir.path().join("red").exists());
        assert_eq!(mounted(dir.path()), 0);
        let _ = std::fs::remove_dir_all(&base);
    }
}

#[test]
fn a_failed_rollback_leaves_what_delete_and_remove_stale_clean_up() {
    sandbox(|| {
        let dir = NetnsDir::new("/tmp/rollback");
        let entry = dir.path().join("red");
        // The entry's bind mount fails and so does the unlink that rolls the
        // placeholder back: a stale entry stays, and says so.
        let plan = FaultPlan::new().fail(Call::Mount, 5, INJ).fail(Call::Unlink, 1, Errno::EACCES);
        let e = plan.run(|| dir.create("red").unwrap_err());
        assert_eq!(errno_of(&e), Some(INJ), "the first failure is reported: {e}");
        assert_eq!(mounted(&entry), 0);
        assert!(dir.create("red").unwrap_err().is_stale_entry());
        dir.remove_stale("red").expect("remove the stale entry");
        dir.create("red").expect("create").id();
        dir.delete("red").expect("delete");
        // Reading the new namespace's identity (the last stat(2) of a
        // create) comes before the mount, the last step that can fail: when
        // it fails nothing is mounted and the placeholder goes.
        let census = FaultPlan::new();
        census.run(|| dir.create("red").expect("create"));
        dir.delete("red").expect("delete");
        let last_stat = census.calls(Call::Stat);
        let plan = FaultPlan::new().fail(Call::Stat, last_stat, INJ);
        let e = plan.run(|| dir.create("red").unwrap_err());
        assert_eq!(errno_of(&e), Some(INJ), "{e}");
        assert_eq!(plan.calls(Call::Umount2), 0, "nothing to unmount");
        assert_eq!(mounted(&entry), 0);
        assert!(!entry.exists());
        // The bind mount says ENOENT while the placeholder is there: that is
        // the error (the placeholder is made again only when it is really
        // gone), and nothing is left.
        let binds = census.calls(Call::Mount);
        let plan = FaultPlan::new().fail(Call::Mount, binds, Errno::ENOENT);
        let e = plan.run(|| dir.create("red").unwrap_err());
        assert_eq!(errno_of(&e), Some(Errno::ENOENT), "{e}");
        assert!(e.to_string().contains("MS_BIND onto the entry"), "{e}");
        assert_eq!((plan.calls(Call::Mknod), plan.calls(Call::Mount)), (2, binds));
        assert_eq!(mounted(&entry), 0);
        assert!(!entry.exists());
        dir.create("red").expect("create");
        dir.delete("red").expect("delete");
        assert!(!entry.exists());
    })
}

// ---- delete and stale entries ----

#[test]
fn delete_failures_remove_nothing_or_leave_a_stale_entry_never_half_a_mount() {
    sandbox(|| {
        let dir = NetnsDir::new("/tmp/delete");
        let entry = dir.path().join("red");
        let ns = dir.create("red").expect("create");
        let still_there = |what: &str| {
            assert_eq!(mounted(&entry), 1, "{what}: still mounted");
            assert_eq!(dir.open("red").expect("open").id(), ns.id(), "{what}: same namespace");
        };
        let delete_with = |plan: &FaultPlan| plan.run(|| dir.delete("red"));
        // umount2 fails: nothing is removed.
        let e = delete_with(&FaultPlan::new().fail(Call::Umount2, 1, INJ)).unwrap_err();
        assert_eq!(errno_of(&e), Some(INJ), "{e}");
        assert!(e.to_string().contains("umount2"), "{e}");
        still_there("umount2 failed");
        // umount2 says EINVAL on a mounted namespace: a locked mount.
        let e =
            delete_with(&FaultPlan::new().fail_from(Call::Umount2, 1, Errno::EINVAL)).unwrap_err();
        assert!(matches!(e, Error::MountLocked { .. }), "{e}");
        still_there("umount2 EINVAL");
        // The directory's lock or the identity check fails: nothing removed.
        for (call, nth) in [(Call::Open, 1), (Call::Flock, 1), (Call::Open, 2), (Call::Stat, 1)] {
            let plan = FaultPlan::new().fail(call, nth, INJ);
            let e = plan.run(|| dir.delete_ns(&ns).unwrap_err());
            assert_eq!(errno_of(&e), Some(INJ), "{call} #{nth}: {e}");
            still_there(&format!("delete_ns with {call} #{nth} failing"));
        }
        // EBUSY from unlink a few times: retried, then done.
        let plan = FaultPlan::new().fail_times(Call::Unlink, 1, 3, Errno::EBUSY);
        delete_with(&plan).expect("delete after 3 EBUSY");
        assert_eq!(plan.calls(Call::Unlink), 4);
        assert!(!entry.exists());
        assert_eq!(mounted(&entry), 0);
        // EBUSY for ever: given up after the retries, the entry is
        // unmounted (stale), never mounted-and-gone.
        drop(dir.create("red").expect("create"));
        let plan = FaultPlan::new().fail_from(Call::Unlink, 1, Errno::EBUSY);
        let e = delete_with(&plan).unwrap_err();
        assert!(e.is_busy(), "{e}");
        assert_eq!(plan.calls(Call::Unlink), 6);
        assert_eq!(mounted(&entry), 0);
        assert!(dir.delete("red").unwrap_err().is_stale_entry());
        dir.remove_stale("red").expect("remove_stale");
        // unlink fails after the unmount: a stale entry, removable.
        drop(dir.create("red").expect("create"));
        let e = delete_with(&FaultPlan::new().fail(Call::Unlink, 1, INJ)).unwrap_err();
        assert_eq!(errno_of(&e), Some(INJ), "{e}");
        assert!(e.to_string().contains("unlinkat"), "{e}");
        assert_eq!(mounted(&entry), 0);
        assert!(entry.exists());
        assert!(dir.delete("red").unwrap_err().is_stale_entry());
        dir.remove_stale("red").expect("remove_stale");
        assert!(!entry.exists());
        // Deleting a finished namespace by name takes no lock (its unmount
        // proves it finished): two calls, as `ip netns del` makes.
        drop(dir.create("red").expect("create"));
        let plan = FaultPlan::new().fail(Call::Flock, 1, INJ);
        delete_with(&plan).expect("delete without the lock");
        assert_eq!((plan.calls(Call::Flock), plan.calls(Call::Open)), (0, 0));
        assert_eq!((plan.calls(Call::Umount2), plan.calls(Call::Unlink)), (1, 1));
        assert!(!entry.exists());
        // A stale entry is looked at under the lock: its failure says so.
        std::fs::write(&entry, b"").expect("make a stale entry");
        let plan = FaultPlan::new().fail(Call::Flock, 1, INJ);
        let e = delete_with(&plan).unwrap_err();
        assert_eq!(errno_of(&e), Some(INJ), "{e}");
        assert!(entry.exists());
        dir.remove_stale("red").expect("remove_stale");
    })
}

/// Regression: `remove_stale` took "cannot check the entry" for "nothing is
/// mounted on it" and went on to unlink; the error was then the kernel's
/// `EBUSY` for the unlink of a mount point, not why the check failed.
#[test]
fn remove_stale_that_cannot_check_the_entry_says_why_and_removes_nothing() {
    sandbox(|| {
        let dir = NetnsDir::new("/tmp/stale");
        let entry = dir.path().join("red");
        let ns = dir.create("red").expect("create");
        // Open #1 is the directory (the lock); #2 on, the entry's check.
        for plan in [
            FaultPlan::new().fail_from(Call::Open, 2, Errno::EMFILE),
            FaultPlan::new().fail_from(Call::Statfs, 1, Errno::EMFILE),
        ] {
            let e = plan.run(|| dir.remove_stale("red").unwrap_err());
            assert_eq!(errno_of(&e), Some(Errno::EMFILE), "{e}");
            assert_eq!(plan.calls(Call::Unlink), 0, "nothing was unlinked");
            assert_eq!(mounted(&entry), 1);
            assert_eq!(dir.open("red").expect("open").id(), ns.id());
        }
        // A live entry, checked: refused.
        let e = dir.remove_stale("red").unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        dir.delete("red").expect("delete");
        // A real stale entry: removed; a failing unlink says so.
        std::fs::write(&entry, b"").expect("make a stale entry");
        let plan = FaultPlan::new().fail(Call::Unlink, 1, INJ);
        let e = plan.run(|| dir.remove_stale("red").unwrap_err());
        assert_eq!(errno_of(&e), Some(INJ), "{e}");
        assert!(entry.exists());
        dir.remove_stale("red").expect("remove_stale");
        assert!(!entry.exists());
    })
}

// ---- guards ----

#[test]
fn enter_failing_at_any_step_leaves_the_thread_where_it_was_root_free() {
    // On a fresh thread each: the thread's caches (its /proc/thread-self/ns
    // directory, its last home) are empty, so every step is taken.
    let steps =
        [(Call::Open, 1), (Call::Stat, 1), (Call::Open, 2), (Call::Stat, 2), (Call::Setns, 1)];
    for (call, nth) in steps {
        thread::scope(|s| {
            s.spawn(|| {
                let here = NetNs::current().expect("current");
                let plan = FaultPlan::new().fail(call, nth, INJ);
                let e = plan.run(|| here.enter().unwrap_err());
                assert_eq!(plan.injected(call), 1, "{call} #{nth}");
                assert_eq!(errno_of(&e), Some(INJ), "{call} #{nth}: {e}");
                assert_eq!(e.op(), Some(Op::EnterNetns));
                assert_eq!(NetNs::current().expect("current"), here);
            });
        });
    }
    // enter_from: its setns is its only step.
    let here = NetNs::current().expect("current");
    let plan = FaultPlan::new().fail(Call::Setns, 1, INJ);
    let e = plan.run(|| here.enter_from(&here).unwrap_err());
    assert_eq!(errno_of(&e), Some(INJ), "{e}");
}

/// Runs the child scenario `name` (see [`child_main`]) in a new process: this
/// test binary started again for `child_main` alone. Returns how it ended
/// and its stderr. A new process rather than a `fork` of this one: the
/// harness runs other tests on other threads, and a forked child that calls
/// anything taking a lock (a `Once`, an allocator arena, stdio) could find
/// it held forever by a thread that no longer exists in the child; the
/// stress pass saw exactly that hang once in 20 runs.
fn in_child(name: &str) -> (std::process::ExitStatus, String) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .args(["sys::tests::child_main", "--exact", "--nocapture", "--test-threads=1"])
        .env("NSLINK_SYS_CHILD", name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the test binary again");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child scenario {name} hung for 30 s");
        }
        thread::sleep(Duration::from_millis(5));
    };
    (status, reader.join().expect("stderr reader"))
}

/// Child scenario: the restore's setns fails.
fn restore_fails() -> i32 {
    let Ok(here) = NetNs::current() else { return 2 };
    let Ok(guard) = here.enter() else { return 3 };
    let plan = FaultPlan::new().fail(Call::Setns, 1, INJ);
    let _on = plan.install();
    drop(guard);
    0
}

/// Child scenario: a guard dropped out of order cannot keep the home it
/// hands over.
fn handover_fails() -> i32 {
    let Ok(here) = NetNs::current() else { return 2 };
    let Ok(outer) = here.enter_from(&here) else { return 3 };
    let Ok(inner) = here.enter() else { return 3 };
    let plan = FaultPlan::new().fail(Call::Dup, 1, INJ);
    let _on = plan.install();
    drop(outer);
    drop(inner);
    0
}

/// Child scenario: a named create whose way back after the unshare fails
/// (the probe, setns #1, passes; the return, setns #2, is refused).
fn create_return_fails() -> i32 {
    sandbox(|| {
        let plan = FaultPlan::new().fail(Call::Setns, 2, INJ);
        let made = plan.run(|| NetnsDir::new("/tmp/return").create("red"));
        // Not reached: the failed return aborts.
        eprintln!("create returned {made:?}");
        0
    })
}

/// Entry point of the child scenarios ([`in_child`]); passes at once in a
/// normal test run.
#[test]
fn child_main() {
    let Ok(name) = std::env::var("NSLINK_SYS_CHILD") else { return };
    let code = match name.as_str() {
        "restore" => restore_fails(),
        "handover" => handover_fails(),
        "create-return" => create_return_fails(),
        other => {
            eprintln!("unknown child scenario {other}");
            9
        }
    };
    std::process::exit(code);
}

#[test]
fn a_guard_that_cannot_go_home_aborts_rather_than_leave_the_thread_astray() {
    use std::os::unix::process::ExitStatusExt;
    for (what, call) in
        [("restore", Call::Setns), ("handover", Call::Dup), ("create-return", Call::Setns)]
    {
        let (status, err) = in_child(what);
        assert_eq!(
            status.signal(),
            Some(nix::libc::SIGABRT),
            "{what}: the child must abort, it ended {status:?} (3: could not enter; run as \
             root or in unshare -rnm)\n{err}"
        );
        assert!(err.contains("could not return to its network namespace"), "{what}: {err}");
        // The child's counters stay in the child: count the fault here.
        super::fault::note(call);
    }
}

// ---- the worker pool, run, spawn, command ----

#[test]
fn jobs_whose_setns_or_unshare_fails_are_typed_errors_root_free() {
    let here = NetNs::current().expect("current");
    // A worker's unshare (NetNs::new).
    let plan = FaultPlan::new().fail(Call::Unshare, 1, INJ);
    let e = plan.run(|| NetNs::new().unwrap_err());
    assert_eq!((errno_of(&e), e.op()), (Some(INJ), Some(Op::CreateNetns)), "{e}");
    // A worker's setns into the target (RouteSocket::open_in).
    let plan = FaultPlan::new().fail(Call::Setns, 1, INJ);
    let e = plan.run(|| crate::RouteSocket::open_in(&here).unwrap_err());
    assert_eq!((errno_of(&e), e.op()), (Some(INJ), Some(Op::EnterNetns)), "{e}");
    // run and spawn: the closure never runs, the caller never moves.
    let ran = AtomicBool::new(false);
    let plan = FaultPlan::new().fail(Call::Setns, 1, INJ);
    let e = plan.run(|| here.run(|| ran.store(true, Ordering::Relaxed)).unwrap_err());
    assert_eq!((errno_of(&e), e.op()), (Some(INJ), Some(Op::RunInNetns)), "{e}");
    let plan = FaultPlan::new().fail(Call::Setns, 1, INJ);
    let e = plan.run(|| here.spawn(|| 1).unwrap_err());
    assert_eq!((errno_of(&e), e.op()), (Some(INJ), Some(Op::SpawnInNetns)), "{e}");
    assert!(!ran.load(Ordering::Relaxed));
    assert_eq!(NetNs::current().expect("current"), here);
    // command: the child's setns, before exec.
    let plan = FaultPlan::new().fail(Call::Setns, 1, INJ);
    let mut cmd = here.command("true").expect("command");
    let e = plan.run(|| cmd.status().unwrap_err());
    assert_eq!(e.raw_os_error(), Some(INJ as i32), "{e}");
    // The child's counters stay in the child: count the fault here.
    super::fault::note(Call::Setns);
}

#[test]
fn a_worker_that_cannot_go_home_is_not_reused_and_is_joined() {
    let here = NetNs::current().expect("current");
    // Setns #1 is the job's (into `here`), #2 the worker's way home (whose
    // success is the proof that it arrived: no read-back to fail).
    let (call, nth) = (Call::Setns, 2);
    let plan = FaultPlan::new().fail(call, nth, INJ);
    let tid = {
        let _on = plan.install();
        crate::netns::run_in(&here, Op::OpenNetlink, || Ok(nix::unistd::gettid()))
            .expect("the job's own result still arrives")
    };
    assert_eq!(plan.injected(call), 1, "{call} #{nth}");
    // Joined: gone at once (the kernel reaps an exited thread right
    // after `join` sees it end); an idle worker would wait 500 ms.
    let task = format!("/proc/self/task/{tid}");
    let gone = (0..60).any(|_| {
        thread::sleep(std::time::Duration::from_millis(5));
        !Path::new(&task).exists()
    });
    assert!(gone, "{call} #{nth}: the worker {tid} was joined");
    assert_eq!(NetNs::current().expect("current"), here);
}

#[test]
fn a_plan_stays_with_its_thread_and_its_jobs() {
    // Another thread's calls are never failed by this thread's plan.
    let plan = FaultPlan::new().fail_from(Call::Open, 1, INJ);
    let _on = plan.install();
    let other = thread::spawn(|| NetNs::current().map(|n| n.id())).join().expect("join");
    assert!(other.is_ok());
    assert_eq!(plan.calls(Call::Open), 0);
    // Nested installs restore the outer plan.
    {
        let inner = FaultPlan::new();
        let _in = inner.install();
        let _ = NetNs::current();
        assert!(inner.calls(Call::Open) > 0);
    }
    assert!(NetNs::current().is_err());
    assert!(plan.injected(Call::Open) > 0);
    let fd = std::fs::File::open("/proc/self/ns/net").expect("std opens are not part of the seam");
    assert!(fd.as_raw_fd() >= 0);
}
