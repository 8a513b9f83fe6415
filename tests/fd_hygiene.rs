//! Descriptor hygiene of the namespace API: no operation leaks a descriptor
//! (success, error, panic, exec failure), every descriptor the crate holds
//! is close-on-exec, and child processes started while the crate is busy
//! inherit none of them.
//!
//! This binary holds a single test on purpose: it counts the whole
//! process's descriptors, which other tests running in parallel would
//! disturb.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use common::*;
use nslink::{NetNs, NetnsDir};

/// Runs `f` `n` times and asserts the set of open descriptors is the same
/// afterwards.
///
/// nslink's idle workers share one descriptor (their home namespace), let go
/// with the last of them; both measurements are taken with no worker alive.
fn no_growth(what: &str, n: usize, mut f: impl FnMut()) {
    drain_pool();
    let before = open_fds();
    for _ in 0..n {
        f();
    }
    drain_pool();
    let after = open_fds();
    assert_eq!(after, before, "{what} leaked descriptors ({n} rounds)");
}

/// Waits until nslink's worker pool has no thread left.
fn drain_pool() {
    let deadline = std::time::Instant::now() + nslink::netns::IDLE_TIMEOUT * 6;
    while nslink::netns::pool_stats().alive > 0 {
        assert!(std::time::Instant::now() < deadline, "idle workers did not end");
        thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn no_descriptor_leaks_and_every_descriptor_is_cloexec() {
    require_root();
    let process_before = open_fds();
    let unflagged_before = fds_without_cloexec();

    sandbox(|| {
        let dir = NetnsDir::default();
        let ns = NetNs::new().unwrap();
        let named = unique("fd");
        let named_ns = NetNs::create(&named).unwrap();

        no_growth("create/open/identify/delete", 100, || {
            let name = unique("cycle");
            let created = NetNs::create(&name).unwrap();
            let opened = NetNs::open(&name).unwrap();
            assert_eq!(dir.identify(&opened).unwrap(), [name.as_str()]);
            drop((created, opened));
            NetNs::delete(&name).unwrap();
        });
        no_growth("failed operations", 100, || {
            assert!(NetNs::create(&named).unwrap_err().is_already_exists());
            assert!(NetNs::open(unique("missing")).unwrap_err().is_not_found());
            assert!(NetNs::delete(unique("missing")).unwrap_err().is_not_found());
            assert!(NetNs::open_path("/proc/self/ns/uts").unwrap_err().is_not_a_netns());
            assert!(NetNs::create("../x").unwrap_err().is_invalid_name());
            assert!(dir.attach(unique("nobody"), u32::MAX).unwrap_err().is_not_found());
        });
        no_growth("NetNs::new/current/try_clone", 100, || {
            let a = NetNs::new().unwrap();
            let b = a.try_clone().unwrap();
            let c = NetNs::current().unwrap();
            drop((a, b, c));
        });
        no_growth("run returning Err", 100, || {
            let r: Result<(), u8> = ns.run(|| Err(7)).unwrap();
            assert_eq!(r, Err(7));
        });
        no_growth("run panicking", 30, || {
            let r = catch_unwind(AssertUnwindSafe(|| ns.run::<(), _>(|| panic!("fd test"))));
            assert!(r.is_err());
        });
        no_growth("spawn", 50, || {
            assert_eq!(ns.spawn(here).unwrap().join().unwrap(), ns.id());
        });
        // The first enter on a thread caches one descriptor for that thread
        // (its /proc/thread-self/ns); after that, enter costs nothing.
        drop(ns.enter().unwrap());
        let home = NetNs::current().unwrap();
        no_growth("enter/enter_from", 100, || {
            let g = ns.enter().unwrap();
            drop(g);
            let g = ns.enter_from(&home).unwrap();
            drop(g);
        });
        no_growth("command that cannot exec", 30, || {
            let e = ns.command("/nonexistent/nslink-no-such-program").unwrap().spawn();
            assert!(e.is_err());
        });
        no_growth("command dropped unspawned", 30, || {
            drop(named_ns.command("true").unwrap());
        });
        no_growth("command run", 10, || {
            assert!(named_ns.command("true").unwrap().status().unwrap().success());
        });

        // While the crate holds many handles, every one of them (and every
        // other descriptor of the process) is close-on-exec.
        let held: Vec<NetNs> = (0..20).map(|_| ns.try_clone().unwrap()).collect();
        let unflagged = fds_without_cloexec();
        assert_eq!(unflagged, unflagged_before, "descriptors without FD_CLOEXEC");
        drop(held);

        // Children started while another thread churns through the API
        // inherit no namespace descriptor, whichever way they are started.
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let name = unique("churn");
                    let created = NetNs::create(&name).unwrap();
                    let _ = ns.run(|| NetNs::current().unwrap());
                    let _g = ns.enter().unwrap();
                    drop(created);
                    NetNs::delete(&name).unwrap();
                }
            });
            for i in 0..40 {
                let mut cmd =
                    if i % 2 == 0 { Command::new("ls") } else { named_ns.command("ls").unwrap() };
                let listing = stdout_ok(
                    "ls -l /proc/self/fd",
                    cmd.args(["-l", "/proc/self/fd/"]).output().unwrap(),
                );
                for line in listing.lines() {
                    assert!(
                        !line.contains("net:[") && !line.contains("/run/netns"),
                        "child {i} inherited a namespace descriptor: {line}\n{listing}"
                    );
                }
            }
            stop.store(true, Ordering::Relaxed);
        });

        drop(named_ns);
        NetNs::delete(&named).unwrap();
    });

    // The sandbox thread is gone, and with it the descriptor its `enter`
    // cached. Idle workers (each holding its own /proc/thread-self/ns, and
    // the pool's home) end after IDLE_TIMEOUT: then the process is back to
    // exactly what it had.
    drain_pool();
    assert_eq!(open_fds(), process_before, "descriptors leaked by the namespace API");
    assert_eq!(fds_without_cloexec(), unflagged_before);
}
