//! Threads and namespaces: guards dropped in any order, guards across
//! `fork`, the worker pool (its home, its answers, user namespaces), and
//! named namespaces deleted by identity, on drop and on signals.
//!
//! Some scenarios need a process of their own (a forked child, a user
//! namespace made by `unshare -Urm`, a signal). They run this test binary
//! again with `NSLINK_CHILD=<scenario>`: the entry point [`child_main`] then
//! runs that scenario and exits; without the variable it does nothing.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use nslink::netns::{OwnedNetns, pool_stats};
use nslink::{Error, NetNs, NetnsDir, NsId, RouteSocket};

/// The namespace inodes of every thread of this process.
fn thread_netns_inodes() -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for task in std::fs::read_dir("/proc/self/task").expect("list tasks").flatten() {
        if let Ok(link) = std::fs::read_link(task.path().join("ns/net")) {
            let s = link.to_string_lossy().into_owned();
            if let Some(n) = s.strip_prefix("net:[").and_then(|r| r.strip_suffix(']')) {
                set.insert(n.parse().expect("inode"));
            }
        }
    }
    set
}

/// The worker pool is process-wide: the tests of this file run one at a
/// time so that each sees only its own workers.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn here() -> NsId {
    NetNs::current().unwrap().id()
}

/// Waits until the worker pool has no thread left (idle workers end after
/// `IDLE_TIMEOUT`).
fn drain_pool() {
    let deadline = Instant::now() + nslink::netns::IDLE_TIMEOUT * 6;
    while pool_stats().alive > 0 {
        assert!(Instant::now() < deadline, "idle workers did not end: {:?}", pool_stats());
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs this test binary again as a child that plays `scenario`.
fn child(scenario: &str, wrapper: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = match wrapper.split_first() {
        Some((prog, args)) => {
            let mut c = Command::new(prog);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env("NSLINK_CHILD", scenario);
    cmd
}

// ---- item 1: guards dropped out of order ----

#[test]
fn guards_dropped_out_of_order_still_end_home() {
    let _serial = serial();
    sandbox(|| {
        let home = here();
        let (a, b, c) = (NetNs::new().unwrap(), NetNs::new().unwrap(), NetNs::new().unwrap());

        // The case: outer first.
        let g1 = a.enter().unwrap();
        let g2 = b.enter().unwrap();
        drop(g1);
        assert_eq!(here(), b.id(), "while g2 lives the thread stays where g2 put it");
        drop(g2);
        assert_eq!(here(), home, "the last guard brings the thread home");

        // Three deep, middle first, then outer, then inner.
        let g1 = a.enter().unwrap();
        let g2 = b.enter().unwrap();
        let g3 = c.enter().unwrap();
        drop(g2);
        assert_eq!(here(), c.id());
        drop(g1);
        assert_eq!(here(), c.id());
        drop(g3);
        assert_eq!(here(), home);

        // enter_from guards (borrowed homes) mixed with enter guards.
        let home_ns = NetNs::current().unwrap();
        let g1 = a.enter_from(&home_ns).unwrap();
        let g2 = b.enter().unwrap();
        let g3 = c.enter_from(&a).unwrap();
        drop(g1); // its borrowed home is handed to g2's frame
        drop(g3);
        assert_eq!(here(), a.id(), "an enter_from guard returns to the home it was given");
        drop(g2);
        assert_eq!(here(), home);

        // In order still works, and 1,000 random orders all end home.
        let nss = [&a, &b, &c];
        let mut seed = 0x9e37_79b9_u32;
        for _ in 0..1000 {
            let mut guards: Vec<_> = (0..3).map(|i| Some(nss[i].enter().unwrap())).collect();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let live: Vec<usize> = (0..3).filter(|&i| guards[i].is_some()).collect();
                let pick = live[(seed as usize) % live.len()];
                guards[pick] = None;
                let newest = (0..3).rev().find(|&i| guards[i].is_some());
                match newest {
                    Some(i) => assert_eq!(here(), nss[i].id()),
                    None => assert_eq!(here(), home),
                }
            }
        }
    })
}

// ---- item 2: fork while a guard is held ----

#[test]
fn a_forked_child_drops_an_inherited_guard_without_aborting() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let home = here();
        drop(ns.enter().unwrap());
        assert_eq!(here(), home);
        // The scenario runs in a process of its own: it forks with a guard held.
        let out = child("fork-guard", &[]).output().expect("run child");
        assert!(
            out.status.success(),
            "child failed: {:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    })
}

/// In a child process: enter a namespace with a guard, fork, and drop the
/// guard in the grandchild. It must come home (checked) and exit 0; before
/// the fix it aborted ("thread is in … after restoring").
fn scenario_fork_guard() -> i32 {
    let ns = NetNs::new().unwrap();
    let home = here();
    let guard = ns.enter().unwrap();
    // The parent's `/proc/thread-self` descriptor is cached by `enter`.
    // SAFETY: the child only makes system calls (no allocation, no locks)
    // and exits with _exit.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        nix::unistd::ForkResult::Child => {
            drop(guard);
            let ok = here() == home;
            // SAFETY: _exit ends the child without running the parent's
            // atexit hooks or destructors.
            unsafe { nix::libc::_exit(if ok { 0 } else { 3 }) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            // The guard stays held here until the child is done.
            let status = nix::sys::wait::waitpid(child, None).expect("waitpid");
            drop(guard);
            match status {
                nix::sys::wait::WaitStatus::Exited(_, 0) => 0,
                other => {
                    eprintln!("grandchild ended with {other:?}");
                    1
                }
            }
        }
    }
}

// ---- items 3 and 4: what the workers keep alive ----

#[test]
fn workers_started_inside_a_guard_do_not_keep_its_namespace() {
    let _serial = serial();
    sandbox(|| {
        drain_pool();
        let home = here();
        // Made on another thread, so that this thread has used no worker yet.
        let x = thread::spawn(|| NetNs::new().unwrap()).join().unwrap();
        let x_id = x.id();
        drain_pool();
        {
            let _in_x = x.enter().unwrap();
            // First use of a worker while this thread is inside x.
            let y = NetNs::new().unwrap();
            let _sock = RouteSocket::open_in(&y).unwrap();
        }
        assert_eq!(here(), home);
        drop(x);
        let inodes = thread_netns_inodes();
        assert!(
            !inodes.contains(&x_id.ino),
            "a thread still holds the namespace entered with the guard: {x_id} in {inodes:?}"
        );
    })
}

#[test]
fn after_open_in_returns_no_worker_is_inside_the_namespace() {
    let _serial = serial();
    sandbox(|| {
        for round in 0..300 {
            let ns = NetNs::new().unwrap();
            let sock = RouteSocket::open_in(&ns).unwrap();
            let inodes = thread_netns_inodes();
            assert!(
                !inodes.contains(&ns.id().ino),
                "round {round}: a worker is still inside {} after open_in returned",
                ns.id()
            );
            drop(sock);
        }
    })
}

/// Making a namespace, anonymous or named, happens on the calling thread
/// (as `ip` does it): no worker is started or used, and the thread is back
/// in its own namespace when the call returns, also when it was inside a
/// guard.
#[test]
fn namespaces_are_made_on_the_calling_thread_which_comes_back() {
    let _serial = serial();
    sandbox(|| {
        drain_pool();
        let home = here();
        // /run/netns of the sandbox (a tmpfs of its own).
        let dir = NetnsDir::default();
        for _ in 0..20 {
            let anon = NetNs::new().unwrap();
            assert_ne!(anon.id(), home);
            assert_eq!(here(), home);
            let named = dir.create("red").unwrap();
            assert_eq!(here(), home);
            assert_eq!(dir.open("red").unwrap().id(), named.id());
            dir.delete("red").unwrap();
            // Inside a guard, the thread comes back to the guard's namespace.
            let _g = anon.enter().unwrap();
            let inner = NetNs::new().unwrap();
            assert_eq!(here(), anon.id());
            assert_ne!(inner.id(), anon.id());
        }
        assert_eq!(pool_stats().alive, 0, "a worker was used: {:?}", pool_stats());
    })
}

/// A thread keeps a descriptor of the namespace it last left a guard from,
/// for the next `enter`. Made inside a guard (a namespace made there, or a
/// nested guard), that descriptor was of the guard's namespace, and it
/// stayed after the thread had left it: the namespace lived on, devices
/// and all, after its last handle was dropped.
#[test]
fn a_namespace_the_thread_has_left_is_not_kept_alive_by_it() {
    let _serial = serial();
    sandbox(|| {
        let a = NetNs::new().unwrap();
        let b = NetNs::new().unwrap();
        let ino = a.id().ino;
        {
            let _in_a = a.enter().unwrap();
            drop(NetNs::new().unwrap());
            let _in_b = b.enter().unwrap();
        }
        drop(a);
        assert!(!fds_netns().contains(&ino), "a descriptor of the left namespace remains");
    })
}

#[test]
fn the_pool_is_bounded_whatever_the_number_of_calling_threads() {
    let _serial = serial();
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let peak = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..64 {
                s.spawn(|| {
                    for _ in 0..20 {
                        let _sock = RouteSocket::open_in(&ns).unwrap();
                        let _n = NetNs::new().unwrap();
                        peak.fetch_max(pool_stats().alive, Ordering::Relaxed);
                    }
                });
            }
        });
        // Every caller thread has ended: only idle workers remain, at most
        // MAX_IDLE, and they end after IDLE_TIMEOUT.
        let idle = pool_stats();
        assert!(idle.alive <= nslink::netns::MAX_IDLE, "{idle:?}");
        assert!(peak.load(Ordering::Relaxed) <= 64, "more workers than callers: {peak:?}");
        drain_pool();
    })
}

// ---- item 5: user namespace that does not own the network namespace ----

#[test]
fn open_in_works_every_time_inside_unshare_urm() {
    let _serial = serial();
    sandbox(|| {
        let out = child("userns-open-in", &["unshare", "-Urm"]).output().expect("run unshare");
        assert!(
            out.status.success(),
            "{:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    })
}

fn scenario_userns_open_in() -> i32 {
    let mut failures = Vec::new();
    for i in 0..100 {
        match NetNs::new().and_then(|ns| RouteSocket::open_in(&ns).map(drop)) {
            Ok(()) => {}
            Err(e) => failures.push(format!("{i}: {e}")),
        }
    }
    // The workers that could not go home ended; none is left running.
    if !failures.is_empty() {
        eprintln!("{} of 100 failed: {failures:?}", failures.len());
        return 1;
    }
    0
}

// ---- item 6: remove_stale against a create in progress ----

#[test]
fn remove_stale_never_removes_a_create_in_progress() {
    let _serial = serial();
    sandbox(|| {
        let dir = NetnsDir::default();
        let name = unique("race");
        let stop = AtomicBool::new(false);
        let removed = AtomicUsize::new(0);
        let mut failures = Vec::new();
        thread::scope(|s| {
            s.spawn(|| {
                // The documented recipe: open, and on NotANetns remove the
                // stale entry.
                while !stop.load(Ordering::Relaxed) {
                    if let Err(e) = dir.open(&name)
                        && e.is_not_a_netns()
                        && dir.remove_stale(&name).is_ok()
                    {
                        removed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            // Stops the remover even if this thread panics.
            struct StopOnDrop<'a>(&'a AtomicBool);
            impl Drop for StopOnDrop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            let _stop = StopOnDrop(&stop);
            for i in 0..400 {
                match dir.create(&name) {
                    Ok(ns) => {
                        drop(ns);
                        if let Err(e) = dir.delete(&name) {
                            failures.push(format!("{i}: delete: {e}"));
                        }
                    }
                    Err(e) => failures.push(format!("{i}: {e}")),
                }
            }
        });
        assert!(
            failures.is_empty(),
            "{} creates failed: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
        assert_eq!(
            removed.load(Ordering::Relaxed),
            0,
            "a live or in-progress entry was removed as stale"
        );
        assert!(!dir.entry_path(&name.parse().unwrap()).exists());
    })
}

/// A delete by name unmounts first and unlinks without the directory's lock
/// (as `ip netns del` does): a second delete, a create or a `remove_stale`
/// racing it on the same name may find the entry between the two. They
/// must take it for what it is about to be — gone — never for a stale
/// entry, and a delete must never take a create in progress for one.
#[test]
fn racing_deletes_and_creates_of_one_name_never_see_a_stale_entry() {
    let _serial = serial();
    sandbox(|| {
        let dir = NetnsDir::default();
        let name = unique("race-del");
        let entry = dir.entry_path(&name.parse().unwrap());
        let mut odd = Vec::new();
        // Two deletes of one name: one does it, the other finds nothing.
        for i in 0..200 {
            drop(dir.create(&name).expect("create"));
            let (a, b) = thread::scope(|s| {
                let other = s.spawn(|| dir.delete(&name));
                let mine = dir.delete(&name);
                (other.join().expect("delete thread"), mine)
            });
            match (&a, &b) {
                (Ok(()), Err(e)) | (Err(e), Ok(())) if e.is_not_found() => {}
                _ => odd.push(format!("delete+delete {i}: {a:?} / {b:?}")),
            }
            assert!(!entry.exists(), "{i}: the entry is gone");
        }
        // A delete and a create of one name: the delete removes the old
        // namespace or the new one, the create makes a new one or finds the
        // name taken; neither sees a stale entry.
        for i in 0..200 {
            drop(dir.create(&name).expect("create"));
            let (d, c) = thread::scope(|s| {
                let del = s.spawn(|| dir.delete(&name));
                let made = dir.create(&name).map(drop);
                (del.join().expect("delete thread"), made)
            });
            let fine_c = match &c {
                Ok(()) => true,
                Err(e) => e.is_already_exists(),
            };
            if d.is_err() || !fine_c {
                odd.push(format!("delete+create {i}: {d:?} / {c:?}"));
            }
            match dir.delete(&name) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => odd.push(format!("delete+create {i}, cleanup: {e:?}")),
            }
        }
        assert!(odd.is_empty(), "{} odd outcomes: {:?}", odd.len(), &odd[..odd.len().min(5)]);
    })
}

/// `delete_ns` (by identity) that finds the entry as a delete by name
/// leaves it between its unmount and its unlink (the delete by name takes no
/// lock) must say "not found" once the file goes, not "another namespace has
/// the name"; and a file nobody comes for is a stale entry.
#[test]
fn delete_by_identity_meeting_a_delete_by_name_midway_says_not_found() {
    let _serial = serial();
    sandbox(|| {
        let dir = NetnsDir::default();
        let name = unique("midway");
        let ns = dir.create(&name).expect("create");
        let path = dir.entry_path(&name.parse().unwrap());
        nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH).expect("unmount the entry");
        let e = thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(Duration::from_millis(5));
                std::fs::remove_file(&path).expect("unlink the entry");
            });
            dir.delete_ns(&ns).unwrap_err()
        });
        assert!(e.is_not_found(), "{e:?}");
        std::fs::write(&path, b"").expect("a stale entry");
        let e = dir.delete_ns(&ns).unwrap_err();
        assert!(e.is_stale_entry(), "{e:?}");
        dir.remove_stale(&name).expect("remove_stale");
        assert!(!path.exists());
    })
}

// ---- item 7: delete from a user namespace ----

#[test]
fn delete_inside_a_user_namespace_says_locked_not_stale() {
    let _serial = serial();
    sandbox(|| {
        let name = unique("locked");
        let ns = NetNs::create(&name).unwrap();
        let out = child("userns-delete", &["unshare", "-Urm"])
            .env("NSLINK_NAME", &name)
            .output()
            .expect("run unshare");
        assert!(
            out.status.success(),
            "{:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Still there, still the same namespace, and `ip netns` agrees.
        assert_eq!(NetNs::open(&name).unwrap(), ns);
        assert!(ip_netns_list().contains(&name));
        drop(ns);
        NetNs::delete(&name).unwrap();
    })
}

fn scenario_userns_delete() -> i32 {
    let name = std::env::var("NSLINK_NAME").expect("NSLINK_NAME");
    match NetNs::delete(name.as_str()) {
        Err(e @ Error::MountLocked { .. }) => {
            assert!(e.is_permission_denied() && !e.is_stale_entry(), "{e}");
            assert_eq!(e.raw_os_error(), Some(nix::libc::EINVAL), "the kernel's errno is kept");
            println!("refused as expected: {e}");
            0
        }
        other => {
            eprintln!("expected MountLocked, got {other:?}");
            1
        }
    }
}

// ---- item 8 and 22: deletion by identity; owned namespaces ----

#[test]
fn delete_by_identity_leaves_a_namespace_made_again_by_someone_else() {
    let _serial = serial();
    sandbox(|| {
        let dir = NetnsDir::default();
        let name = unique("red");
        let mine = dir.create(&name).unwrap();
        ip(&["netns", "del", &name]);
        ip(&["netns", "add", &name]);
        let theirs = dir.open(&name).unwrap();
        assert_ne!(mine, theirs);

        let e = dir.delete_ns(&mine).unwrap_err();
        assert!(matches!(e, Error::NotSameNetns { .. }), "{e:?}");
        assert!(e.raw_os_error().is_none(), "no invented errno: {e:?}");
        assert_eq!(dir.open(&name).unwrap(), theirs, "the other namespace was touched");

        // Deleting what is still ours works.
        dir.delete_ns(&theirs).unwrap();
        assert!(!ip_netns_list().contains(&name));
        let e = dir.delete_ns(&theirs).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
    })
}

#[test]
fn owned_namespaces_delete_themselves_and_only_themselves() {
    let _serial = serial();
    sandbox(|| {
        // Dropped normally.
        let name = unique("owned");
        let owned = OwnedNetns::create(&name).unwrap();
        assert!(ip_netns_list().contains(&name));
        let nl = RouteSocket::open_in(&owned).unwrap();
        drop(nl);
        drop(owned);
        assert!(!ip_netns_list().contains(&name), "not deleted on drop");

        // Dropped while unwinding.
        let name = unique("owned-panic");
        let r = std::panic::catch_unwind(|| {
            let _owned = OwnedNetns::create(&name).unwrap();
            panic!("test panic with an owned namespace alive");
        });
        assert!(r.is_err());
        assert!(!ip_netns_list().contains(&name), "not deleted while unwinding");

        // Replaced by someone else meanwhile: theirs survives our drop.
        let name = unique("owned-replaced");
        let owned = OwnedNetns::create(&name).unwrap();
        ip(&["netns", "del", &name]);
        ip(&["netns", "add", &name]);
        drop(owned);
        assert!(ip_netns_list().contains(&name), "someone else's namespace was deleted");
        ip(&["netns", "del", &name]);

        // keep() gives it up.
        let name = unique("owned-kept");
        let kept = OwnedNetns::create(&name).unwrap().keep();
        assert!(ip_netns_list().contains(&name));
        drop(kept);
        assert!(ip_netns_list().contains(&name));
        NetNs::delete(&name).unwrap();
        assert_eq!(dir_entries("/run/netns"), Vec::<String>::new());
    })
}

#[test]
fn sigterm_and_sigint_delete_owned_namespaces() {
    let _serial = serial();
    sandbox(|| {
        for sig in ["TERM", "INT", "HUP"] {
            let name = unique("sig");
            let mut c = child("signal", &[])
                .env("NSLINK_NAME", &name)
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn child");
            // The test harness prints its own lines first.
            let mut out = BufReader::new(c.stdout.take().unwrap());
            let mut line = String::new();
            while !line.contains("ready") {
                line.clear();
                assert!(
                    out.read_line(&mut line).unwrap() > 0,
                    "the child ended before it was ready"
                );
            }
            assert!(ip_netns_list().contains(&name), "the child made {name}");
            run_ok("kill", &["-s", sig, &c.id().to_string()]);
            let status = c.wait().unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal().map(|s| nix::sys::signal::Signal::try_from(s).unwrap().as_str()),
                Some(format!("SIG{sig}").as_str()),
                "the child ends with the signal it got: {status:?}"
            );
            assert!(!ip_netns_list().contains(&name), "SIG{sig} left {name} behind");
            assert!(!Path::new("/run/netns").join(&name).exists());
        }
    })
}

#[test]
fn a_signal_while_namespaces_are_being_made_leaves_nothing() {
    let _serial = serial();
    sandbox(|| {
        for round in 0..8 {
            let prefix = unique("sigmake");
            let mut c = child("signal-while-making", &[])
                .env("NSLINK_NAME", &prefix)
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn child");
            let mut out = BufReader::new(c.stdout.take().unwrap());
            let mut line = String::new();
            while !line.contains("ready") {
                line.clear();
                assert!(
                    out.read_line(&mut line).unwrap() > 0,
                    "the child ended before it was ready"
                );
            }
            // Somewhere in the middle of making (and deleting) namespaces.
            thread::sleep(Duration::from_millis(5 + 7 * round));
            run_ok("kill", &["-s", "INT", &c.id().to_string()]);
            let _ = c.wait().unwrap();
            let left: Vec<String> =
                dir_entries("/run/netns").into_iter().filter(|n| n.starts_with(&prefix)).collect();
            assert!(left.is_empty(), "round {round}: SIGINT left {left:?}");
        }
    })
}

fn scenario_signal_while_making() -> i32 {
    let prefix = std::env::var("NSLINK_NAME").expect("NSLINK_NAME");
    nslink::netns::cleanup_on_signals().unwrap();
    println!("ready");
    let mut alive = Vec::new();
    for i in 0..400 {
        alive.push(OwnedNetns::create(format!("{prefix}-{i}").as_str()).unwrap());
        if i % 3 == 2 {
            let _ = alive.remove(0).delete();
        }
    }
    thread::sleep(Duration::from_secs(30));
    2
}

fn scenario_signal() -> i32 {
    let name = std::env::var("NSLINK_NAME").expect("NSLINK_NAME");
    nslink::netns::cleanup_on_signals().unwrap();
    let _owned = OwnedNetns::create(name.as_str()).unwrap();
    println!("ready");
    thread::sleep(Duration::from_secs(30));
    2
}

/// A child of `fork` keeps the parent's signal handlers and a copy of the
/// pipe they write to, but the thread that reads the pipe is the parent's.
/// Before the fix a SIGTERM to the child made the parent delete its owned
/// namespaces and kill itself. Now the child gets the signal's default
/// effect, alone, and `cleanup_on_signals` in the child says it cannot.
#[test]
fn a_signal_to_a_forked_child_leaves_the_parent_and_its_namespaces_alone() {
    let _serial = serial();
    sandbox(|| {
        let name = unique("sigfork");
        let out = child("signal-fork", &[]).env("NSLINK_NAME", &name).output().unwrap();
        assert!(
            out.status.success(),
            "{:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!ip_netns_list().contains(&name), "the parent's drop deleted {name}");
    })
}

fn scenario_signal_fork() -> i32 {
    let name = std::env::var("NSLINK_NAME").expect("NSLINK_NAME");
    nslink::netns::cleanup_on_signals().unwrap();
    let owned = OwnedNetns::create(name.as_str()).unwrap();
    // SAFETY: the child calls cleanup_on_signals (atomics, no lock taken in
    // a child) and signals itself, then _exits.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        nix::unistd::ForkResult::Child => {
            let code = if nslink::netns::cleanup_on_signals().is_ok() {
                4
            } else {
                let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM);
                thread::sleep(Duration::from_secs(2));
                3
            };
            // SAFETY: _exit ends the child without running destructors.
            unsafe { nix::libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            let status = nix::sys::wait::waitpid(child, None).expect("waitpid");
            if status
                != nix::sys::wait::WaitStatus::Signaled(
                    child,
                    nix::sys::signal::Signal::SIGTERM,
                    false,
                )
            {
                eprintln!("the child ended {status:?} (4: cleanup_on_signals worked in a child)");
                return 1;
            }
            // Time for a signal thread that wrongly woke up to act.
            thread::sleep(Duration::from_millis(500));
            if !ip_netns_list().contains(&name) {
                eprintln!("the parent's namespace {name} is gone");
                return 2;
            }
            drop(owned);
            0
        }
    }
}

// ---- item 16: what `run` reads from /proc ----

#[test]
fn run_reads_the_namespace_through_proc_thread_self() {
    let _serial = serial();
    sandbox(|| {
        let pod = NetNs::new().unwrap();
        let nl = RouteSocket::open_in(&pod).unwrap();
        nl.set_up("lo").unwrap();
        nl.add_address("lo", "10.251.7.9/32".parse().unwrap()).unwrap();
        let (mine, mains) = pod
            .run(|| {
                (
                    std::fs::read_to_string("/proc/thread-self/net/fib_trie").unwrap(),
                    std::fs::read_to_string("/proc/net/fib_trie").unwrap(),
                )
            })
            .unwrap();
        assert!(mine.contains("10.251.7.9"), "the thread's own view: {mine}");
        // /proc/net is the main thread's namespace, not the pod's: the
        // README's example used it and read the wrong table.
        assert!(!mains.contains("10.251.7.9"), "/proc/net followed the thread?");
    })
}

// ---- item 19: a refusal for lack of privilege says what, why and where ----

#[test]
fn a_non_root_create_names_the_namespace_the_privilege_and_where() {
    let _serial = serial();
    sandbox(|| {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        // The test binary may sit under a directory `nobody` cannot enter
        // (CI clones into /root): run a copy from a directory of its own.
        let dir = std::env::temp_dir().join(unique("nslink-nobody"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.join("threads");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = Command::new(&exe)
            .args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
            .env("NSLINK_CHILD", "non-root-create")
            .current_dir(&dir)
            .uid(65534)
            .gid(65534)
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        let out = out.expect("run the child as nobody");
        assert!(
            out.status.success(),
            "{:?}\nstdout {}\nstderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(ip_netns_list().is_empty(), "nothing was made");
    })
}

fn scenario_non_root_create() -> i32 {
    let e = match NetNs::create("red") {
        Ok(_) => {
            eprintln!("a non-root create succeeded");
            return 1;
        }
        Err(e) => e,
    };
    let text = e.to_string();
    println!("{text}");
    let ok = e.is_permission_denied()
        && text.contains("\"red\"")
        && text.contains("/run/netns")
        && text.contains("CAP_SYS_ADMIN")
        && text.contains("root");
    if !ok {
        eprintln!("unhelpful message: {text} ({e:?})");
        return 1;
    }
    0
}

/// Entry point of the child scenarios; does nothing in a normal test run.
#[test]
fn child_main() {
    let Ok(scenario) = std::env::var("NSLINK_CHILD") else { return };
    let code = match scenario.as_str() {
        "fork-guard" => scenario_fork_guard(),
        "userns-open-in" => scenario_userns_open_in(),
        "userns-delete" => scenario_userns_delete(),
        "signal" => scenario_signal(),
        "signal-fork" => scenario_signal_fork(),
        "signal-while-making" => scenario_signal_while_making(),
        "non-root-create" => scenario_non_root_create(),
        other => {
            eprintln!("unknown scenario {other}");
            9
        }
    };
    std::process::exit(code);
}
