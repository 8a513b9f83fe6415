//! `NetNs::run` on pooled workers: it must keep the promises of a new
//! thread per call — the closure runs in the namespace on a thread that
//! shares the caller's file-system context and descriptor table, a worker
//! that cannot be brought back is never reused, and a borrowing closure is
//! as sound as with `std::thread::scope`.
//!
//! Scenarios that fork run this test binary again with
//! `NSLINK_CHILD=<scenario>` (see [`child_main`]).

mod common;

use std::any::Any;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Pid, gettid};
use nslink::netns::{MAX_IDLE, pool_stats};
use nslink::{NetNs, NsId};

/// The pool is process-wide: these tests run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn here() -> NsId {
    NetNs::current().unwrap().id()
}

/// The inode of a namespace of the calling thread (`mnt`, `uts`, …).
fn ns_ino(kind: &str) -> u64 {
    let link = std::fs::read_link(format!("/proc/thread-self/ns/{kind}")).unwrap();
    let s = link.to_string_lossy().into_owned();
    s.split_once(":[").and_then(|(_, r)| r.strip_suffix(']')).unwrap().parse().unwrap()
}

/// The `kind` namespace inodes of every thread of this process.
fn threads_ns(kind: &str) -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(link) = std::fs::read_link(task.path().join("ns").join(kind)) {
            let s = link.to_string_lossy().into_owned();
            if let Some(n) = s.split_once(":[").and_then(|(_, r)| r.strip_suffix(']')) {
                set.insert(n.parse().unwrap());
            }
        }
    }
    set
}

/// Waits (up to 2 s) until no thread of this process is in the `kind`
/// namespace `ino`. A thread that ended and was joined may still be listed,
/// in its namespaces, for a moment: the kernel wakes the joiner when it
/// lets go of the thread's memory (exit_mm), before it lets go of its
/// namespaces and fs (exit_fs, exit_task_namespaces). `std::thread::scope`
/// has the same window.
fn no_thread_in(kind: &str, ino: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if !threads_ns(kind).contains(&ino) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

fn tid() -> Pid {
    gettid()
}

/// Runs this test binary again as a child that plays `scenario`.
fn child(scenario: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env("NSLINK_CHILD", scenario);
    cmd
}

/// Drops every capability of the calling thread (capset(2) on itself):
/// after this, `setns` back home fails with `EPERM`.
fn drop_all_capabilities_of_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header { version: 0x2008_0522, pid: 0 };
    let data = [Data { effective: 0, permitted: 0, inheritable: 0 }; 2];
    // SAFETY: capset(2) reads the two structures, which have the kernel's
    // `_LINUX_CAPABILITY_VERSION_3` layout and outlive the call.
    let r = unsafe {
        nix::libc::syscall(nix::libc::SYS_capset, &mut header as *mut Header, data.as_ptr())
    };
    assert_eq!(r, 0, "capset: {}", std::io::Error::last_os_error());
}

#[test]
fn the_closure_runs_in_the_namespace_on_a_reused_worker_and_the_caller_stays() {
    let _serial = serial();
    sandbox(|| {
        let home = here();
        let ns = NetNs::new().unwrap();
        let mut tids = BTreeSet::new();
        for _ in 0..50 {
            let (id, t) = ns.run(|| (here(), tid())).unwrap();
            assert_eq!(id, ns.id());
            assert_ne!(t, tid(), "not on the caller's thread");
            tids.insert(t);
            assert_eq!(here(), home);
        }
        assert!(tids.len() < 50, "no worker was reused: {} threads for 50 calls", tids.len());
        assert!(pool_stats().alive <= MAX_IDLE, "{:?}", pool_stats());
        // No worker stays in the namespace after `run` returned.
        assert!(!threads_ns("net").contains(&ns.id().ino));
    })
}

#[test]
fn a_borrowing_closure_sees_and_changes_the_callers_stack() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let words = ["a".to_string(), "b".to_string()];
        let mut seen = Vec::new();
        // Borrows `words` shared and `seen` exclusively, and returns a
        // reference into the caller's data.
        let first: &String = ns
            .run(|| {
                seen.push(here());
                &words[0]
            })
            .unwrap();
        assert_eq!(first, "a");
        assert_eq!(seen, vec![ns.id()]);

        // Captures moved in are dropped before `run` returns, even when the
        // closure panics.
        struct SetOnDrop<'a>(&'a AtomicBool);
        impl Drop for SetOnDrop<'_> {
            fn drop(&mut self) {
                // Slow down the drop, to catch a caller that would not wait.
                thread::sleep(Duration::from_millis(20));
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = AtomicBool::new(false);
        let d = SetOnDrop(&dropped);
        ns.run(move || drop(d)).unwrap();
        assert!(dropped.load(Ordering::SeqCst));

        let dropped = AtomicBool::new(false);
        let d = SetOnDrop(&dropped);
        let r = catch_unwind(AssertUnwindSafe(|| {
            ns.run(move || {
                let _keep = &d;
                panic!("boom");
            })
        }));
        assert!(r.is_err());
        assert!(dropped.load(Ordering::SeqCst), "a capture outlived the call");
    })
}

#[derive(Debug, PartialEq)]
struct Payload(u32);

fn payload_of(p: Box<dyn Any + Send>) -> u32 {
    p.downcast::<Payload>().map(|b| b.0).expect("the original payload")
}

#[test]
fn a_panic_in_the_closure_is_raised_in_the_caller_with_its_payload() {
    let _serial = serial();
    sandbox(|| {
        let home = here();
        let ns = NetNs::new().unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| ns.run(|| std::panic::panic_any(Payload(7)))));
        assert_eq!(payload_of(r.unwrap_err()), 7);
        assert_eq!(here(), home);
        // The worker went home and is used again.
        let before = ns.run(tid).unwrap();
        assert_eq!(ns.run(tid).unwrap(), before);
        assert!(!threads_ns("net").contains(&ns.id().ino));
    })
}

#[test]
fn a_worker_that_cannot_go_home_is_joined_and_never_reused() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let warm = ns.run(tid).unwrap();
        // The closure takes CAP_SYS_ADMIN away from its worker: the setns
        // home fails. `run` still returns the closure's result…
        let lost = ns
            .run(|| {
                drop_all_capabilities_of_this_thread();
                tid()
            })
            .unwrap();
        assert_eq!(lost, warm, "the warm worker ran it");
        // … and by then that worker has ended: nothing is in `ns`.
        assert!(no_thread_in("net", ns.id().ino));
        assert_ne!(ns.run(tid).unwrap(), lost);

        // The same while the closure panics: the payload still comes back.
        let r = catch_unwind(AssertUnwindSafe(|| {
            ns.run(|| {
                drop_all_capabilities_of_this_thread();
                std::panic::panic_any(Payload(9))
            })
        }));
        assert_eq!(payload_of(r.unwrap_err()), 9);
        assert!(no_thread_in("net", ns.id().ino));
        assert_eq!(ns.run(here).unwrap(), ns.id());
    })
}

#[test]
fn a_worker_whose_mount_namespace_or_fs_changed_is_not_reused() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let my_mnt = ns_ino("mnt");
        let cwd = std::env::current_dir().unwrap();
        let warm = ns.run(tid).unwrap();
        // A new mount namespace made by the closure…
        let (t, made) = ns
            .run(|| {
                unshare(CloneFlags::CLONE_NEWNS).unwrap();
                (tid(), ns_ino("mnt"))
            })
            .unwrap();
        assert_eq!(t, warm);
        assert_ne!(made, my_mnt);
        // … is gone with its worker when `run` returns.
        assert!(no_thread_in("mnt", made), "a thread is still in the closure's mnt ns");
        let (t2, mnt) = ns.run(|| (tid(), ns_ino("mnt"))).unwrap();
        assert_ne!(t2, warm);
        assert_eq!(mnt, my_mnt, "the closure sees the caller's mount namespace");

        // A private working directory made by the closure.
        let t3 = ns
            .run(|| {
                unshare(CloneFlags::CLONE_FS).unwrap();
                std::env::set_current_dir("/proc").unwrap();
                tid()
            })
            .unwrap();
        assert_eq!(t3, t2);
        let (t4, dir) = ns.run(|| (tid(), std::env::current_dir().unwrap())).unwrap();
        assert_ne!(t4, t3);
        assert_eq!(dir, cwd);
        assert_eq!(std::env::current_dir().unwrap(), cwd);
    })
}

#[test]
fn callers_in_different_mount_namespaces_get_workers_in_their_own() {
    let _serial = serial();
    // Two sandboxes at once, each a thread with its own mount namespace.
    let barrier = std::sync::Barrier::new(2);
    thread::scope(|s| {
        let one = || {
            sandbox(|| {
                let ns = NetNs::new().unwrap();
                barrier.wait();
                for _ in 0..20 {
                    let (mnt, net) = ns.run(|| (ns_ino("mnt"), here())).unwrap();
                    assert_eq!(mnt, ns_ino("mnt"));
                    assert_eq!(net, ns.id());
                }
            })
        };
        let a = s.spawn(one);
        let b = s.spawn(one);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn a_guard_left_behind_by_the_closure_retires_its_worker() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let other = NetNs::new().unwrap();
        let warm = ns.run(tid).unwrap();
        let t = ns
            .run(|| {
                std::mem::forget(other.enter().unwrap());
                tid()
            })
            .unwrap();
        assert_eq!(t, warm);
        assert_ne!(ns.run(tid).unwrap(), warm);
        let gone = other.id().ino;
        drop(other);
        assert!(no_thread_in("net", gone));
    })
}

#[test]
fn a_namespace_entered_inside_the_closure_is_not_kept_alive_by_the_worker() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let other = NetNs::new().unwrap();
        let gone = other.id().ino;
        // `enter` keeps a per-thread descriptor of where it came from: here,
        // `ns`. A worker must let go of it after the job.
        ns.run(|| drop(other.enter().unwrap())).unwrap();
        let ns_ino = ns.id().ino;
        drop(ns);
        drop(other);
        let held = fds_netns();
        assert!(!held.contains(&ns_ino), "a descriptor still holds the run's namespace");
        assert!(!held.contains(&gone));
    })
}

#[test]
fn run_inside_run_and_inside_a_guard() {
    let _serial = serial();
    sandbox(|| {
        let home = here();
        let (a, b) = (NetNs::new().unwrap(), NetNs::new().unwrap());
        let (outer_before, inner, outer_after) = a
            .run(|| {
                let before = here();
                let inner = b.run(here).unwrap();
                (before, inner, here())
            })
            .unwrap();
        assert_eq!((outer_before, inner, outer_after), (a.id(), b.id(), a.id()));
        {
            let _g = a.enter().unwrap();
            assert_eq!(b.run(here).unwrap(), b.id());
            assert_eq!(here(), a.id());
        }
        assert_eq!(here(), home);
        let a_ino = a.id().ino;
        drop(a);
        // Workers started while inside the guard went home to the true
        // home, not into `a`.
        assert!(!threads_ns("net").contains(&a_ino));
    })
}

#[test]
fn sixty_four_threads_call_run_at_once() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let calls = AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(64);
        thread::scope(|s| {
            for i in 0..64u64 {
                let (ns, calls, barrier) = (&ns, &calls, &barrier);
                s.spawn(move || {
                    let mine = [i; 8];
                    barrier.wait();
                    for k in 0..30u64 {
                        let (sum, id) = ns.run(|| (mine.iter().sum::<u64>() + k, here())).unwrap();
                        assert_eq!(sum, 8 * i + k);
                        assert_eq!(id, ns.id());
                        calls.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(calls.load(Ordering::Relaxed), 64 * 30);
        assert!(pool_stats().idle <= MAX_IDLE, "{:?}", pool_stats());
        assert!(!threads_ns("net").contains(&ns.id().ino));
        let deadline = Instant::now() + nslink::netns::IDLE_TIMEOUT * 6;
        while pool_stats().alive > 0 {
            assert!(Instant::now() < deadline, "idle workers did not end: {:?}", pool_stats());
            thread::sleep(Duration::from_millis(10));
        }
    })
}

thread_local! {
    static MARK: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Documented difference from a new thread: thread-locals set by a closure
/// stay on the worker. `spawn` gives fresh ones.
#[test]
fn thread_locals_persist_on_the_worker_and_spawn_gives_fresh_ones() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let t1 = ns.run(|| {
            MARK.with(|m| m.set(5));
            tid()
        });
        let (t2, seen) = ns.run(|| (tid(), MARK.with(|m| m.get()))).unwrap();
        if t1.unwrap() == t2 {
            assert_eq!(seen, 5, "the same worker keeps its thread-locals (documented)");
        }
        let fresh = ns.spawn(|| MARK.with(|m| m.get())).unwrap().join().unwrap();
        assert_eq!(fresh, 0);
    })
}

#[test]
fn run_in_a_forked_child_uses_a_thread_of_its_own() {
    let _serial = serial();
    sandbox(|| {
        let out = child("fork-run").output().unwrap();
        assert!(
            out.status.success(),
            "{:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    })
}

/// In a child process: warm the pool, fork, and `run` in the grandchild,
/// where the parent's workers do not exist.
fn scenario_fork_run() -> i32 {
    let ns = NetNs::new().unwrap();
    assert_eq!(ns.run(here).unwrap(), ns.id());
    assert!(pool_stats().alive >= 1);
    // SAFETY: the grandchild uses nslink (which allocates) right after the
    // fork; the other threads of this process are idle workers blocked on
    // their channels and the test harness's threads, none holding the
    // allocator's lock in a way that matters for this short-lived child.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        nix::unistd::ForkResult::Child => {
            let ok = ns.run(here).map(|id| id == ns.id()).unwrap_or(false)
                && ns.run(here).map(|id| id == ns.id()).unwrap_or(false);
            // SAFETY: _exit ends the grandchild without running destructors.
            unsafe { nix::libc::_exit(if ok { 0 } else { 3 }) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            match nix::sys::wait::waitpid(child, None).expect("waitpid") {
                nix::sys::wait::WaitStatus::Exited(_, 0) => 0,
                other => {
                    eprintln!("grandchild ended with {other:?}");
                    1
                }
            }
        }
    }
}

/// Entry point of the child scenarios; does nothing in a normal test run.
#[test]
fn child_main() {
    let Ok(scenario) = std::env::var("NSLINK_CHILD") else { return };
    let code = match scenario.as_str() {
        "fork-run" => scenario_fork_run(),
        other => {
            eprintln!("unknown scenario {other}");
            9
        }
    };
    std::process::exit(code);
}
