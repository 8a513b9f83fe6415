//! Integration tests for named and anonymous network namespaces: `NetNs` and
//! `NetnsDir`, checked against `ip netns` in both directions, plus the
//! adversarial cases (hostile names, stale entries, planted symlinks,
//! concurrent creators, panicking closures).
//!
//! Every test runs inside `common::sandbox`: a private network and mount
//! namespace with an empty tmpfs on `/run`, so nothing here can reach the
//! host's devices or the host's `/run/netns`. The tests need root and fail
//! (never skip) without it.

mod common;

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, mpsc};
use std::thread;

use common::*;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nslink::error::{NameError, NameKind, NotNetnsReason};
use nslink::{Error, NetNs, NetnsDir, NsId, Op};

/// A child process that is killed and reaped when dropped, so a failing
/// assertion never leaves a `sleep` behind.
struct Reaped(Child);

impl Reaped {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sleep 60` inside `ns` (with `ip netns exec` semantics).
fn sleeper_in(ns: &NetNs) -> Reaped {
    let child = ns
        .command("sleep")
        .expect("prepare sleep")
        .arg("60")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep in namespace");
    Reaped(child)
}

/// The message of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic payload>")
    }
}

/// Asserts that nothing named or mounted is left in the sandbox.
fn assert_no_named_namespaces() {
    assert_eq!(dir_entries("/run/netns"), Vec::<String>::new(), "entries left in /run/netns");
    assert_eq!(nsfs_mounts(), Vec::<String>::new(), "nsfs mounts left");
    assert_eq!(ip_netns_list(), Vec::<String>::new(), "ip netns list is not empty");
}

// ---------------------------------------------------------------------------
// 1. Interoperability with `ip netns`, both ways.
// ---------------------------------------------------------------------------

/// A namespace made by nslink is a first-class `ip netns` namespace: listed,
/// usable with `ip netns exec`, found by `ip netns identify`; deleting it
/// removes every trace.
#[test]
fn nslink_created_namespace_is_seen_by_ip() {
    sandbox(|| {
        let home = here();
        let name = unique("nsl-add");
        let ns = NetNs::create(&name).expect("create");
        assert_eq!(ns.name().map(|n| n.as_str()), Some(name.as_str()));
        assert_ne!(ns.id(), home, "a new namespace must not be the caller's");
        assert_eq!(here(), home, "create moved the calling thread");

        assert_eq!(ip_netns_list(), [name.as_str()]);
        assert_eq!(NetNs::list().unwrap(), [name.as_str()]);
        let links =
            parse_json("ip netns exec", &ip(&["netns", "exec", &name, "ip", "-j", "link", "show"]));
        assert_eq!(ifnames(&links), ["lo"], "{links:?}");

        // A process started inside is identified by name, by both tools.
        let child = sleeper_in(&ns);
        let pid = child.pid().to_string();
        assert_eq!(ip(&["netns", "identify", &pid]).trim(), name);
        assert_eq!(NetnsDir::default().identify_pid(child.pid()).unwrap(), [name.as_str()]);
        assert_eq!(NetnsDir::default().identify(&ns).unwrap(), [name.as_str()]);
        // And the sandbox thread itself is in no named namespace.
        let me = nix::unistd::gettid().as_raw() as u32;
        assert!(NetnsDir::default().identify_pid(me).unwrap().is_empty());
        drop(child);

        let id = ns.id();
        drop(ns);
        NetNs::delete(&name).expect("delete");
        assert_no_named_namespaces();
        // The bind mount was the last reference: no thread is left in it.
        assert_no_task_in(id);
        assert_eq!(here(), home);
    })
}

/// A namespace made by `ip netns add` opens, identifies and deletes through
/// nslink, and `ip` sees the deletion.
#[test]
fn ip_created_namespace_is_usable_by_nslink() {
    sandbox(|| {
        let name = unique("ip-add");
        ip(&["netns", "add", &name]);
        let ns = NetNs::open(&name).expect("open a namespace made by ip");
        assert_eq!(ns.name().map(|n| n.as_str()), Some(name.as_str()));
        assert_ne!(ns.id(), here());
        assert_eq!(NetnsDir::default().identify(&ns).unwrap(), [name.as_str()]);
        assert_eq!(NetNs::list().unwrap(), [name.as_str()]);
        // The same namespace as the one `ip netns exec` runs in.
        let inside = ns.run(here).unwrap();
        assert_eq!(inside, ns.id());
        let child = sleeper_in(&ns);
        assert_eq!(ip(&["netns", "identify", &child.pid().to_string()]).trim(), name);
        drop(child);

        drop(ns);
        NetNs::delete(&name).expect("delete a namespace made by ip");
        assert!(!ip_netns_list().contains(&name));
        assert_no_named_namespaces();
        let e = NetNs::open(&name).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
    })
}

/// A directory other than `/run/netns` works the same way and stays
/// invisible to `ip netns` and to the default directory.
#[test]
fn custom_directory_is_separate_from_the_default() {
    sandbox(|| {
        let dir = NetnsDir::new("/run/custom-netns");
        let name = unique("custom");
        let ns = dir.create(&name).expect("create in a custom directory");
        assert_eq!(dir.list().unwrap(), [name.as_str()]);
        assert_eq!(dir.open(&name).unwrap(), ns);
        assert_eq!(dir.identify(&ns).unwrap(), [name.as_str()]);
        assert!(NetNs::open(&name).unwrap_err().is_not_found());
        assert!(NetNs::list().unwrap().is_empty());
        assert!(ip_netns_list().is_empty());
        assert_eq!(mount_count("/run/custom-netns"), 1);
        assert!(!Path::new("/run/netns").exists());
        drop(ns);
        dir.delete(&name).unwrap();
        assert!(dir.list().unwrap().is_empty());
        assert!(nsfs_mounts().is_empty());
    })
}

// ---------------------------------------------------------------------------
// 2. Creating a name twice.
// ---------------------------------------------------------------------------

/// The second `create` of a name is `EEXIST` and leaves the first namespace
/// exactly as it was.
#[test]
fn create_twice_is_already_exists_and_first_is_untouched() {
    sandbox(|| {
        let name = unique("twice");
        let first = NetNs::create(&name).expect("first create");
        let before = snapshot();

        let e = NetNs::create(&name).unwrap_err();
        assert!(e.is_already_exists(), "{e:?}");
        assert!(
            matches!(&e, Error::Os { op: Op::CreateNamedNetns, errno, .. } if *errno == libc_eexist()),
            "{e:?}"
        );
        assert_eq!(snapshot(), before, "the failed create changed something");
        let reopened = NetNs::open(&name).unwrap();
        assert_eq!(reopened.id(), first.id(), "the first namespace was replaced");
        assert_eq!(reopened, first);

        drop((first, reopened));
        NetNs::delete(&name).unwrap();
        assert_no_named_namespaces();
    })
}

fn libc_eexist() -> i32 {
    nix::libc::EEXIST
}

// ---------------------------------------------------------------------------
// 3. Hostile names.
// ---------------------------------------------------------------------------

/// Every invalid name is refused with `InvalidName` by every entry point,
/// before anything is touched: no directory, no entry, no mount, nothing
/// under `/etc` or `/run`.
#[test]
fn invalid_names_are_rejected_before_anything_is_touched() {
    sandbox(|| {
        let long = "x".repeat(256);
        let cases: [(&str, NameError); 9] = [
            ("", NameError::Empty),
            (".", NameError::Reserved),
            ("..", NameError::Reserved),
            ("a/b", NameError::BadChar { ch: '/', pos: 1 }),
            ("../x", NameError::BadChar { ch: '/', pos: 2 }),
            ("../../etc/x", NameError::BadChar { ch: '/', pos: 2 }),
            ("/etc/passwd", NameError::BadChar { ch: '/', pos: 0 }),
            (&long, NameError::TooLong { len: 256, max: 255 }),
            ("a\0b", NameError::BadChar { ch: '\0', pos: 1 }),
        ];
        let check = |what: &str, name: &str, want: NameError, e: Error| {
            match &e {
                Error::InvalidName { kind: NameKind::Namespace, input, reason } => {
                    assert_eq!(input, name.as_bytes(), "{what}");
                    assert_eq!(*reason, want, "{what} {name:?}");
                }
                other => panic!("{what} {name:?}: expected InvalidName, got {other:?}"),
            }
            assert!(e.is_invalid_name());
            // The message quotes the input, so hostile bytes are escaped.
            assert!(!e.to_string().contains('\0'), "{what}: raw NUL in message");
        };
        let custom = NetnsDir::new("/run/nslink-custom");
        let run_all = |phase: &str| {
            let before = snapshot();
            for (name, want) in &cases {
                let name: &str = name;
                check("NetNs::create", name, *want, NetNs::create(name).unwrap_err());
                check("NetNs::open", name, *want, NetNs::open(name).unwrap_err());
                check("NetNs::delete", name, *want, NetNs::delete(name).unwrap_err());
                let dir = NetnsDir::default();
                let me = std::process::id();
                check("attach", name, *want, dir.attach(name, me).unwrap_err());
                check("remove_stale", name, *want, dir.remove_stale(name).unwrap_err());
                check("custom create", name, *want, custom.create(name).unwrap_err());
                check("custom delete", name, *want, custom.delete(name).unwrap_err());
                check("NsName::new", name, *want, nslink::NsName::new(name).unwrap_err());
            }
            assert_eq!(snapshot(), before, "{phase}: an invalid name changed something");
            assert!(!Path::new("/etc/x").exists());
            assert!(!Path::new("/run/x").exists());
            assert!(!Path::new("/run/nslink-custom").exists());
        };
        // Once with no /run/netns at all (it must not even be created) …
        run_all("no directory");
        assert!(!Path::new("/run/netns").exists(), "/run/netns was created");
        // … and once with a live directory holding a namespace.
        let name = unique("valid");
        let ns = NetNs::create(&name).unwrap();
        run_all("live directory");
        assert_eq!(NetNs::list().unwrap(), [name.as_str()]);
        drop(ns);
        NetNs::delete(&name).unwrap();
        assert_no_named_namespaces();
    })
}

// ---------------------------------------------------------------------------
// 4. Things that are not namespaces.
// ---------------------------------------------------------------------------

/// Regular files, directories and other namespace types are refused with a
/// reason; a missing path is "not found".
#[test]
fn open_path_refuses_what_is_not_a_network_namespace() {
    sandbox(|| {
        let plain = Path::new("/run/plain-file");
        fs::write(plain, b"not a namespace").unwrap();
        match NetNs::open_path(plain).unwrap_err() {
            Error::NotANetns { op: Op::OpenNetns, path, reason: NotNetnsReason::NotNsfs } => {
                assert_eq!(path, plain)
            }
            other => panic!("regular file: {other:?}"),
        }
        let e = NetNs::open_path("/run").unwrap_err();
        assert!(
            matches!(e, Error::NotANetns { reason: NotNetnsReason::NotNsfs, .. }),
            "directory: {e:?}"
        );
        for (path, nstype) in [
            ("/proc/self/ns/uts", nix::libc::CLONE_NEWUTS),
            ("/proc/thread-self/ns/mnt", nix::libc::CLONE_NEWNS),
            ("/proc/self/ns/ipc", nix::libc::CLONE_NEWIPC),
        ] {
            let e = NetNs::open_path(path).unwrap_err();
            assert!(e.is_not_a_netns(), "{path}: {e:?}");
            match e {
                Error::NotANetns { reason: NotNetnsReason::WrongType { nstype: got }, .. } => {
                    assert_eq!(got, nstype, "{path}")
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        let e = NetNs::open_path("/proc/self/ns/uts").unwrap_err();
        assert!(e.to_string().contains("UTS namespace, not a network namespace"), "{e}");
        let e = NetNs::open_path("/run/no-such-file").unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        assert_eq!(e.op(), Some(Op::OpenNetns));
        let e = NetNs::open_pid(u32::MAX).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        // The file was only read.
        assert_eq!(fs::read(plain).unwrap(), b"not a namespace");
        assert!(!Path::new("/run/netns").exists());
    })
}

/// A crash leftover (an empty regular file in the directory): `open` says it
/// is not a namespace, `create` and `delete` say it is stale and leave it,
/// `remove_stale` removes it, and then the name is usable again.
#[test]
fn stale_placeholder_is_reported_and_only_removed_on_request() {
    sandbox(|| {
        let dir = NetnsDir::default();
        let name = unique("stale");
        let path = PathBuf::from("/run/netns").join(&name);
        // Let a create/delete cycle prepare the directory (a shared mount
        // point, as `ip netns add` leaves it), then plant the leftover.
        let warmup = unique("warmup");
        NetNs::create(&warmup).unwrap();
        NetNs::delete(&warmup).unwrap();
        fs::File::create(&path).unwrap();
        let before = snapshot();

        match dir.open(&name).unwrap_err() {
            Error::NotANetns { op: Op::OpenNetns, path: p, reason: NotNetnsReason::NotNsfs } => {
                assert_eq!(p, path)
            }
            other => panic!("open stale: {other:?}"),
        }
        match NetNs::create(&name).unwrap_err() {
            Error::StaleEntry { op: Op::CreateNamedNetns, name: n, path: p } => {
                assert_eq!((n.as_str(), p.as_path()), (name.as_str(), path.as_path()))
            }
            other => panic!("create over stale: {other:?}"),
        }
        match NetNs::delete(&name).unwrap_err() {
            Error::StaleEntry { op: Op::DeleteNetns, name: n, .. } => assert_eq!(n, name),
            other => panic!("delete stale: {other:?}"),
        }
        let e = NetNs::delete(&name).unwrap_err();
        assert!(e.to_string().contains("remove_stale"), "no hint in {e}");
        assert_eq!(snapshot(), before, "a refused operation changed something");
        assert!(path.is_file(), "the stale entry was removed without being asked");

        dir.remove_stale(&name).expect("remove_stale");
        assert!(!path.exists());
        let e = dir.remove_stale(&name).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");

        // The name works again, and a live entry is never removed as stale.
        let ns = NetNs::create(&name).expect("create after cleanup");
        let e = dir.remove_stale(&name).unwrap_err();
        // The kernel refused nothing: a typed refusal, with no invented errno.
        assert!(
            matches!(e, nslink::Error::InvalidArgument { .. }) && e.raw_os_error().is_none(),
            "remove_stale on a live namespace: {e:?}"
        );
        assert_eq!(NetNs::open(&name).unwrap(), ns, "remove_stale damaged a live entry");
        drop(ns);
        NetNs::delete(&name).unwrap();
        assert_no_named_namespaces();
    })
}

/// An entry whose mount vanished behind our back (as after `umount` in
/// another tool) turns stale, and is reported as such, not as a namespace.
#[test]
fn entry_unmounted_behind_our_back_becomes_stale() {
    sandbox(|| {
        let name = unique("unmounted");
        let ns = NetNs::create(&name).unwrap();
        let path = PathBuf::from("/run/netns").join(&name);
        umount2(&path, MntFlags::MNT_DETACH).expect("unmount the entry by hand");
        assert!(nsfs_mounts().is_empty());

        let e = NetNs::open(&name).unwrap_err();
        assert!(e.is_not_a_netns(), "{e:?}");
        assert!(NetNs::create(&name).unwrap_err().is_stale_entry());
        assert!(NetNs::delete(&name).unwrap_err().is_stale_entry());
        assert!(NetnsDir::default().identify(&ns).unwrap().is_empty());
        NetnsDir::default().remove_stale(&name).unwrap();
        assert_no_named_namespaces();
    })
}

/// A symlink planted in the directory is never followed: not by `open`
/// (even when it points at a real namespace), not by `create`, `delete`,
/// `identify` or `remove_stale`. Its target is never modified.
#[test]
fn planted_symlink_is_never_followed() {
    sandbox(|| {
        let dir = NetnsDir::default();
        let real = unique("real");
        let real_ns = NetNs::create(&real).unwrap();

        let target = Path::new("/run/precious");
        fs::write(target, b"keep me").unwrap();
        fs::set_permissions(target, fs::Permissions::from_mode(0o600)).unwrap();
        let evil = unique("evil");
        let evil_path = PathBuf::from("/run/netns").join(&evil);
        symlink(target, &evil_path).unwrap();
        // Aliases pointing at real namespaces: an nsfs bind mount and /proc.
        let alias = unique("alias");
        symlink(PathBuf::from("/run/netns").join(&real), format!("/run/netns/{alias}")).unwrap();
        let proc_alias = unique("proc-alias");
        symlink("/proc/self/ns/net", format!("/run/netns/{proc_alias}")).unwrap();
        let etc_alias = unique("etc-alias");
        symlink("/etc/hostname", format!("/run/netns/{etc_alias}")).unwrap();
        let hostname = fs::read("/etc/hostname").unwrap();
        let before = snapshot();

        for link in [&evil, &alias, &proc_alias, &etc_alias] {
            let e = dir.open(link).unwrap_err();
            assert!(
                matches!(e, Error::NotANetns { reason: NotNetnsReason::NotNsfs, .. }),
                "open {link}: {e:?}"
            );
            let e = dir.create(link).unwrap_err();
            assert!(e.is_already_exists(), "create over symlink {link}: {e:?}");
            let e = dir.delete(link).unwrap_err();
            assert!(e.is_stale_entry(), "delete symlink {link}: {e:?}");
        }
        assert_eq!(snapshot(), before, "something changed");
        // `identify` does not count an alias as a name of the namespace.
        assert_eq!(dir.identify(&real_ns).unwrap(), [real.as_str()]);
        assert_eq!(fs::read(target).unwrap(), b"keep me");
        assert_eq!(fs::metadata(target).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read("/etc/hostname").unwrap(), hostname);

        // remove_stale removes the link itself, never the target.
        dir.remove_stale(&evil).unwrap();
        assert!(fs::symlink_metadata(&evil_path).is_err());
        assert_eq!(fs::read(target).unwrap(), b"keep me");
        dir.remove_stale(&etc_alias).unwrap();
        assert_eq!(fs::read("/etc/hostname").unwrap(), hostname);
        // (remove_stale refuses symlinks to live namespaces, see
        // `remove_stale_removes_a_symlink_to_a_live_namespace`.)
        fs::remove_file(format!("/run/netns/{alias}")).unwrap();
        fs::remove_file(format!("/run/netns/{proc_alias}")).unwrap();
        assert_eq!(NetNs::open(&real).unwrap(), real_ns, "the alias target was damaged");

        drop(real_ns);
        NetNs::delete(&real).unwrap();
        assert_no_named_namespaces();
    })
}

/// A planted symlink that points at a *live* namespace is an entry with no
/// namespace mounted on it: `delete` calls it stale and points to
/// `remove_stale`, so `remove_stale` must remove the link (and only the
/// link). The target namespace must stay mounted.
#[test]
fn remove_stale_removes_a_symlink_to_a_live_namespace() {
    sandbox(|| {
        let dir = NetnsDir::default();
        let real = unique("real");
        let real_ns = NetNs::create(&real).unwrap();
        let alias = unique("alias");
        let alias_path = PathBuf::from("/run/netns").join(&alias);
        symlink(PathBuf::from("/run/netns").join(&real), &alias_path).unwrap();
        let proc_alias = unique("proc-alias");
        let proc_alias_path = PathBuf::from("/run/netns").join(&proc_alias);
        symlink("/proc/self/ns/net", &proc_alias_path).unwrap();

        assert!(dir.delete(&alias).unwrap_err().is_stale_entry());
        let removed = dir.remove_stale(&alias);
        let removed_proc = dir.remove_stale(&proc_alias);
        // Whatever happened, the real namespace is intact.
        assert_eq!(NetNs::open(&real).unwrap(), real_ns);
        assert_eq!(nsfs_mounts(), [format!("/run/netns/{real}")]);
        let _ = fs::remove_file(&alias_path);
        let _ = fs::remove_file(&proc_alias_path);
        drop(real_ns);
        NetNs::delete(&real).unwrap();
        assert_no_named_namespaces();

        removed.expect("remove_stale of a symlink to a live namespace");
        removed_proc.expect("remove_stale of a symlink to /proc/self/ns/net");
    })
}

/// A FIFO planted in the directory (or passed as a path) must be refused
/// promptly, not block `open` forever waiting for a writer.
#[test]
fn open_of_a_planted_fifo_does_not_hang() {
    sandbox(|| {
        let warmup = unique("warmup");
        NetNs::create(&warmup).unwrap();
        NetNs::delete(&warmup).unwrap();
        let name = unique("fifo");
        let path = PathBuf::from("/run/netns").join(&name);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();

        let (tx, rx) = mpsc::channel();
        let blocked = thread::scope(|s| {
            let (name, path) = (&name, &path);
            s.spawn(move || {
                let by_name = NetnsDir::default().open(name).map(|_| ());
                let by_path = NetNs::open_path(path).map(|_| ());
                let _ = tx.send((by_name, by_path));
            });
            let mut blocked = 0;
            loop {
                match rx.recv_timeout(std::time::Duration::from_secs(2)) {
                    Ok(r) => return (blocked, Some(r)),
                    Err(mpsc::RecvTimeoutError::Timeout) if blocked < 4 => {
                        // Release the blocked open by playing the writer.
                        blocked += 1;
                        let _ = fs::OpenOptions::new().write(true).open(path);
                    }
                    Err(_) => return (blocked, None),
                }
            }
        });
        fs::remove_file(&path).unwrap();
        assert_no_named_namespaces();
        let (blocked, results) = blocked;
        assert_eq!(blocked, 0, "open of a FIFO blocked until a writer came ({blocked} times)");
        let (by_name, by_path) = results.expect("open never returned");
        assert!(by_name.unwrap_err().is_not_a_netns());
        assert!(by_path.unwrap_err().is_not_a_netns());
    })
}

/// `delete` never unlinks an entry that is still mounted: with a second
/// mount stacked on the entry, it reports `EBUSY` and the entry stays a
/// live namespace; the next `delete` finishes the job.
#[test]
fn delete_never_unlinks_a_still_mounted_entry() {
    sandbox(|| {
        let name = unique("stacked");
        let ns = NetNs::create(&name).unwrap();
        let path = PathBuf::from("/run/netns").join(&name);
        // Stack a second nsfs mount (another namespace) on the entry.
        let other = NetNs::new().unwrap();
        other
            .run(|| {
                mount(
                    Some("/proc/thread-self/ns/net"),
                    &path,
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )
            })
            .unwrap()
            .expect("stack a second mount on the entry");
        assert_eq!(mount_count(&path.to_string_lossy()), 2);

        let e = NetNs::delete(&name).unwrap_err();
        assert!(e.is_busy(), "{e:?}");
        assert_eq!(e.op(), Some(Op::DeleteNetns));
        assert!(path.exists(), "a mounted entry was unlinked");
        assert_eq!(mount_count(&path.to_string_lossy()), 1);
        assert_eq!(NetNs::open(&name).unwrap(), ns, "the remaining mount is not the original");

        NetNs::delete(&name).expect("second delete");
        assert_no_named_namespaces();
    })
}

/// When the placeholder cannot be made (a read-only directory), `create`
/// fails with the kernel's errno and leaves no entry and no mount.
#[test]
fn create_in_a_read_only_directory_fails_cleanly() {
    sandbox(|| {
        let home = here();
        let dir = NetnsDir::new("/run/ro-netns");
        fs::create_dir("/run/ro-netns").unwrap();
        mount(
            Some("nslink-test-ro"),
            "/run/ro-netns",
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .unwrap();
        let before = snapshot();
        let e = dir.create(unique("ro")).unwrap_err();
        assert_eq!(e.errno(), Some(nix::errno::Errno::EROFS), "{e:?}");
        assert_eq!(e.op(), Some(Op::CreateNamedNetns));
        let after = snapshot();
        assert_eq!(after.nsfs, before.nsfs);
        assert_eq!(after.run_entries, before.run_entries);
        assert_eq!(dir_entries("/run/ro-netns"), Vec::<String>::new());
        assert_eq!(here(), home);
    })
}

// ---------------------------------------------------------------------------
// 5. delete of a missing name; attach.
// ---------------------------------------------------------------------------

/// Deleting a name that does not exist is "not found", with or without the
/// directory, and changes nothing.
#[test]
fn delete_of_missing_name_is_not_found() {
    sandbox(|| {
        let e = NetNs::delete(unique("missing")).unwrap_err();
        assert!(e.is_not_found(), "no directory: {e:?}");
        assert_eq!(e.op(), Some(Op::DeleteNetns));
        assert!(!Path::new("/run/netns").exists(), "delete created the directory");
        let e = NetNs::open(unique("missing")).unwrap_err();
        assert!(e.is_not_found(), "open with no directory: {e:?}");
        assert!(NetNs::list().unwrap().is_empty(), "a missing directory lists as empty");

        let name = unique("present");
        let ns = NetNs::create(&name).unwrap();
        let before = snapshot();
        let e = NetNs::delete(unique("missing")).unwrap_err();
        assert!(e.is_not_found(), "live directory: {e:?}");
        assert_eq!(snapshot(), before);

        drop(ns);
        NetNs::delete(&name).unwrap();
        let e = NetNs::delete(&name).unwrap_err();
        assert!(e.is_not_found(), "second delete: {e:?}");
        assert_no_named_namespaces();
    })
}

/// `attach` names the namespace of another process, like
/// `ip netns attach NAME PID`; both tools then identify the process by that
/// name. Failures leave nothing behind.
#[test]
fn attach_names_the_namespace_of_a_process() {
    sandbox(|| {
        let dir = NetnsDir::default();
        let anon = NetNs::new().unwrap();
        let child = sleeper_in(&anon);
        assert!(dir.identify_pid(child.pid()).unwrap().is_empty());

        let name = unique("attached");
        let attached = dir.attach(&name, child.pid()).expect("attach");
        assert_eq!(attached, anon);
        assert_eq!(attached.name().map(|n| n.as_str()), Some(name.as_str()));
        assert_eq!(dir.identify_pid(child.pid()).unwrap(), [name.as_str()]);
        assert_eq!(dir.identify(&anon).unwrap(), [name.as_str()]);
        assert_eq!(ip_netns_list(), [name.as_str()]);
        assert_eq!(ip(&["netns", "identify", &child.pid().to_string()]).trim(), name);
        assert_eq!(NetNs::open(&name).unwrap(), anon);

        // A second name for the same namespace, like `ip netns attach` again.
        let second = unique("attached-too");
        dir.attach(&second, child.pid()).unwrap();
        let mut both = vec![name.as_str(), second.as_str()];
        both.sort();
        assert_eq!(dir.identify_pid(child.pid()).unwrap(), both);

        let before = snapshot();
        let e = dir.attach(&name, child.pid()).unwrap_err();
        assert!(e.is_already_exists(), "attach over a taken name: {e:?}");
        let e = dir.attach(unique("nobody"), u32::MAX).unwrap_err();
        assert!(e.is_not_found(), "attach of a missing process: {e:?}");
        assert_eq!(e.op(), Some(Op::AttachNetns));
        let e = dir.identify_pid(u32::MAX).unwrap_err();
        assert!(e.is_not_found(), "identify of a missing process: {e:?}");
        assert_eq!(snapshot(), before, "a failed attach changed something");

        // The name outlives the process and the handle.
        drop(child);
        let id = anon.id();
        drop((anon, attached));
        assert_eq!(NetNs::open(&name).unwrap().id(), id);
        dir.delete(&name).unwrap();
        dir.delete(&second).unwrap();
        assert_no_named_namespaces();
        assert_no_task_in(id);
    })
}

// ---------------------------------------------------------------------------
// 6. run().
// ---------------------------------------------------------------------------

/// A panic in the closure reaches the caller with its payload; the caller
/// never moved, and the namespace stays usable.
#[test]
fn run_reraises_a_panic_and_leaves_the_caller_alone() {
    sandbox(|| {
        let home = here();
        let ns = NetNs::new().unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| {
            ns.run::<(), _>(|| {
                assert_eq!(here(), ns.id());
                panic!("boom inside the namespace");
            })
        }));
        let payload = r.expect_err("the panic was swallowed");
        assert_eq!(panic_text(&*payload), "boom inside the namespace");
        assert_eq!(here(), home);
        assert_eq!(ns.run(here).unwrap(), ns.id(), "the namespace is unusable after a panic");
    })
}

/// The closure's own `Err` comes back unchanged inside `Ok`.
#[test]
fn run_passes_the_closures_error_through() {
    #[derive(Debug, PartialEq)]
    struct Mine(u32);

    sandbox(|| {
        let home = here();
        let ns = NetNs::new().unwrap();
        let r: Result<Result<(), Mine>, Error> = ns.run(|| Err(Mine(42)));
        assert_eq!(r.unwrap(), Err(Mine(42)));
        // An nslink error made inside is not confused with run's own errors.
        let inner = ns.run(|| NetNs::open_path("/proc/self/ns/uts")).unwrap();
        assert!(inner.unwrap_err().is_not_a_netns());
        let inner = ns.run(|| NetNs::delete(unique("missing"))).unwrap();
        assert!(inner.unwrap_err().is_not_found());
        assert_eq!(here(), home);
    })
}

/// Whatever the closure does to its own thread (unshare, setns without
/// coming back), the caller stays where it was.
#[test]
fn run_closure_that_moves_its_thread_does_not_move_the_caller() {
    sandbox(|| {
        let home = here();
        let ns = NetNs::new().unwrap();
        let other = NetNs::new().unwrap();
        let (before, after) = ns
            .run(|| {
                let before = here();
                unshare(CloneFlags::CLONE_NEWNET).expect("unshare in closure");
                (before, here())
            })
            .unwrap();
        assert_eq!(before, ns.id());
        assert_ne!(after, ns.id(), "unshare did not move the helper thread");
        assert_ne!(after, home);
        assert_eq!(here(), home);

        let seen = ns
            .run(|| {
                // Leave without ever restoring.
                std::mem::forget(other.enter().unwrap());
                here()
            })
            .unwrap();
        assert_eq!(seen, other.id());
        assert_eq!(here(), home);
        assert_eq!(ns.run(here).unwrap(), ns.id());
    })
}

/// The closure may borrow (even mutably) from the caller's stack.
#[test]
fn run_closure_borrows_caller_data() {
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        let prefix = String::from("seen in ");
        let mut log: Vec<String> = Vec::new();
        let mut counter = 0u32;
        for _ in 0..3 {
            ns.run(|| {
                counter += 1;
                log.push(format!("{prefix}{}", here()));
            })
            .unwrap();
        }
        assert_eq!(counter, 3);
        assert_eq!(log, vec![format!("seen in {}", ns.id()); 3]);
        // Threads started by the closure inherit the namespace.
        let from_child = ns.run(|| thread::spawn(here).join().unwrap()).unwrap();
        assert_eq!(from_child, ns.id());
    })
}

// ---------------------------------------------------------------------------
// 7. Concurrency of run().
// ---------------------------------------------------------------------------

/// 16 threads run 200 closures in total across two namespaces at once.
/// Every closure sees its target; every calling thread (half of them parked
/// in a third namespace with `enter`) keeps its own.
#[test]
fn concurrent_runs_see_their_target_and_callers_keep_theirs() {
    const THREADS: usize = 16;
    const CLOSURES: usize = 200;
    sandbox(|| {
        let home = here();
        let a = NetNs::new().unwrap();
        let b = NetNs::new().unwrap();
        let parked = NetNs::new().unwrap();
        let targets = [&a, &b];
        let done = AtomicUsize::new(0);
        let barrier = Barrier::new(THREADS);
        thread::scope(|s| {
            for t in 0..THREADS {
                let (targets, done, barrier, parked) = (&targets, &done, &barrier, &parked);
                s.spawn(move || {
                    let _guard = (t % 2 == 1).then(|| parked.enter().unwrap());
                    let own = here();
                    assert_eq!(own, if t % 2 == 1 { parked.id() } else { home });
                    // Share the 200 closures out: 12 or 13 per thread.
                    let mine = CLOSURES / THREADS + usize::from(t < CLOSURES % THREADS);
                    barrier.wait();
                    for k in 0..mine {
                        let target = targets[(t + k) % 2];
                        let seen = target.run(here).unwrap();
                        assert_eq!(seen, target.id(), "thread {t} closure {k}");
                        assert_eq!(here(), own, "thread {t} moved after closure {k}");
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(done.load(Ordering::Relaxed), CLOSURES);
        assert_eq!(here(), home);
    })
}

// ---------------------------------------------------------------------------
// 8. enter() and spawn().
// ---------------------------------------------------------------------------

/// The guard moves the thread in and back: on drop, on unwinding, nested,
/// and with an explicit home (`enter_from`).
#[test]
fn enter_guard_restores_on_drop_panic_and_nesting() {
    sandbox(|| {
        let home = here();
        let a = NetNs::new().unwrap();
        let b = NetNs::new().unwrap();

        {
            let guard = a.enter().unwrap();
            assert_eq!(here(), a.id());
            assert_eq!(guard.home(), home);
        }
        assert_eq!(here(), home, "drop did not restore");

        let r = catch_unwind(AssertUnwindSafe(|| {
            let _guard = a.enter().unwrap();
            assert_eq!(here(), a.id());
            panic!("unwinding through a guard");
        }));
        assert_eq!(panic_text(&*r.unwrap_err()), "unwinding through a guard");
        assert_eq!(here(), home, "unwinding did not restore");

        let outer = a.enter().unwrap();
        let inner = b.enter().unwrap();
        assert_eq!(here(), b.id());
        assert_eq!(inner.home(), a.id());
        drop(inner);
        assert_eq!(here(), a.id(), "inner guard did not return to the outer namespace");
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _inner = b.enter().unwrap();
            panic!("nested unwinding");
        }));
        assert!(r.is_err());
        assert_eq!(here(), a.id());
        drop(outer);
        assert_eq!(here(), home);

        let home_ns = NetNs::current().unwrap();
        for i in 0..100 {
            let target = if i % 2 == 0 { &a } else { &b };
            let guard = target.enter_from(&home_ns).unwrap();
            assert_eq!(guard.home(), home);
            assert_eq!(here(), target.id());
            drop(guard);
            assert_eq!(here(), home);
        }
        // Sockets opened under a guard belong to the namespace entered.
        let inside = {
            let _g = a.enter().unwrap();
            NetNs::current().unwrap()
        };
        assert_eq!(inside, a);
        assert_eq!(here(), home);
    })
}

/// `spawn` starts a thread that lives in the namespace (and so do its own
/// threads); the caller stays; the thread outlives the handle it came from.
#[test]
fn spawn_starts_a_thread_inside_the_namespace() {
    sandbox(|| {
        let home = here();
        let ns = NetNs::new().unwrap();
        let id = ns.id();

        let h = ns.spawn(here).unwrap();
        assert_eq!(h.join().unwrap(), id);
        assert_eq!(here(), home);

        let h = ns.spawn(|| thread::spawn(here).join().unwrap()).unwrap();
        assert_eq!(h.join().unwrap(), id, "a thread of the spawned thread is elsewhere");

        // The thread keeps the namespace alive after every handle is gone.
        let (go, wait) = mpsc::channel::<()>();
        let h = ns
            .spawn(move || {
                wait.recv().unwrap();
                here()
            })
            .unwrap();
        drop(ns);
        go.send(()).unwrap();
        assert_eq!(h.join().unwrap(), id);

        let ns = NetNs::new().unwrap();
        let h = ns.spawn::<(), _>(|| panic!("spawned thread panics")).unwrap();
        let payload = h.join().expect_err("the panic was lost");
        assert_eq!(panic_text(&*payload), "spawned thread panics");
        assert_eq!(here(), home);
        drop(ns);
        assert_no_task_in(id);
    })
}

// ---------------------------------------------------------------------------
// 9. Concurrent creators.
// ---------------------------------------------------------------------------

/// 32 threads create distinct names while 32 others race for one name, on a
/// `/run/netns` that is not a mount point yet: all distinct names succeed,
/// exactly one racer wins and the rest get `EEXIST`, and `/run/netns` is
/// mounted exactly once (no stacked mounts).
#[test]
fn concurrent_creators_one_directory_mount_one_winner() {
    const EACH: usize = 32;
    sandbox(|| {
        assert_eq!(mount_count("/run/netns"), 0);
        let shared = unique("contested");
        let distinct: Vec<String> = (0..EACH).map(|_| unique("distinct")).collect();
        let barrier = Barrier::new(2 * EACH);
        let (distinct_results, same_results) = thread::scope(|s| {
            let d: Vec<_> = distinct
                .iter()
                .map(|n| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        NetNs::create(n).map(|ns| ns.id())
                    })
                })
                .collect();
            let c: Vec<_> = (0..EACH)
                .map(|_| {
                    let (barrier, shared) = (&barrier, &shared);
                    s.spawn(move || {
                        barrier.wait();
                        NetNs::create(shared).map(|ns| ns.id())
                    })
                })
                .collect();
            (
                d.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>(),
                c.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>(),
            )
        });

        for (n, r) in distinct.iter().zip(&distinct_results) {
            assert!(r.is_ok(), "create {n}: {r:?}");
        }
        let winners: Vec<NsId> =
            same_results.iter().filter_map(|r| r.as_ref().ok()).copied().collect();
        assert_eq!(winners.len(), 1, "winners for one name: {same_results:?}");
        // Checked last, after the mount and cleanup checks (see
        // `racing_creators_of_one_name_never_see_a_stale_entry`).
        let wrong_losers: Vec<String> = same_results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .filter(|e| !e.is_already_exists())
            .map(|e| format!("{e:?}"))
            .collect();
        assert_eq!(mount_count("/run/netns"), 1, "stacked mounts: {:?}", mount_points());
        assert_eq!(nsfs_mounts().len(), EACH + 1);
        assert_eq!(NetNs::open(&shared).unwrap().id(), winners[0]);

        let mut all = distinct.clone();
        all.push(shared.clone());
        all.sort();
        assert_eq!(ip_netns_list(), all);
        let ids: std::collections::BTreeSet<NsId> =
            all.iter().map(|n| NetNs::open(n).unwrap().id()).collect();
        assert_eq!(ids.len(), EACH + 1, "two names share a namespace");

        for n in &all {
            NetNs::delete(n).unwrap();
        }
        assert_no_named_namespaces();
        assert_eq!(mount_count("/run/netns"), 1);
        assert!(wrong_losers.is_empty(), "losing creators did not get EEXIST: {wrong_losers:?}");
    })
}

/// Many rounds of a small race for one name: the losers must always be told
/// the name exists, never that it is stale, however the race falls.
#[test]
fn racing_creators_of_one_name_never_see_a_stale_entry() {
    const ROUNDS: usize = 50;
    const RACERS: usize = 8;
    sandbox(|| {
        let mut bad = Vec::new();
        for round in 0..ROUNDS {
            let name = unique("race");
            let barrier = Barrier::new(RACERS);
            let results: Vec<Result<NsId, Error>> = thread::scope(|s| {
                let hs: Vec<_> = (0..RACERS)
                    .map(|_| {
                        let (barrier, name) = (&barrier, &name);
                        s.spawn(move || {
                            barrier.wait();
                            NetNs::create(name).map(|ns| ns.id())
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let wins = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(wins, 1, "round {round}: {results:?}");
            NetNs::delete(&name).unwrap();
            for e in results.iter().filter_map(|r| r.as_ref().err()) {
                if !e.is_already_exists() {
                    bad.push(format!("round {round}: {e:?}"));
                }
            }
        }
        assert_no_named_namespaces();
        assert!(bad.is_empty(), "{} losers were not told EEXIST: {bad:#?}", bad.len());
    })
}

// ---------------------------------------------------------------------------
// 10. command().
// ---------------------------------------------------------------------------

/// What the calling thread's mount namespace has at `/sys` and below (whole
/// `mountinfo` lines: mount ids, devices, options, sources), and the device
/// of the sysfs that `/sys/class/net` belongs to. A sysfs mounted over
/// `/sys` here (the fresh one a command gets, had it leaked) changes both.
/// The entries of `/sys/class/net` are no such witness: the sandbox thread
/// still sees the host's sysfs, which lists the host's devices, and those
/// change whenever anything else on the machine adds or removes a device.
fn sys_mount() -> (Vec<String>, u64) {
    let info = fs::read_to_string("/proc/thread-self/mountinfo").expect("read mountinfo");
    let lines = info
        .lines()
        .filter(|l| l.split(' ').nth(4).is_some_and(|p| p == "/sys" || p.starts_with("/sys/")))
        .map(str::to_owned)
        .collect();
    let dev = fs::metadata("/sys/class/net").expect("stat /sys/class/net").dev();
    (lines, dev)
}

/// A command sees the namespace's devices only (`ip a s` shows `lo`, DOWN;
/// `/sys/class/net` shows `lo`), agrees with `ip netns exec`, and leaves the
/// parent's `/sys` (the same sysfs mount) and mounts unchanged.
#[test]
fn command_sees_only_the_namespace() {
    sandbox(|| {
        let name = unique("cmd");
        let ns = NetNs::create(&name).unwrap();
        let parent_sys = sys_mount();
        let before = snapshot();

        let out = stdout_ok("ip a s", ns.command("ip").unwrap().args(["a", "s"]).output().unwrap());
        let ifaces: Vec<&str> =
            out.lines().filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit())).collect();
        assert_eq!(ifaces.len(), 1, "{out}");
        assert!(ifaces[0].starts_with("1: lo: <LOOPBACK>"), "{out}");
        assert!(ifaces[0].contains("state DOWN"), "{out}");
        assert!(!out.contains("inet"), "a fresh namespace has no addresses: {out}");

        let sys =
            stdout_ok("ls", ns.command("ls").unwrap().arg("/sys/class/net").output().unwrap());
        assert_eq!(sys.split_whitespace().collect::<Vec<_>>(), ["lo"]);

        let ours = json_cmd(
            ns.command("ip").unwrap().args(["-j", "link", "show"]),
            "ip -j link (NetNs::command)",
        );
        let theirs =
            parse_json("ip netns exec", &ip(&["netns", "exec", &name, "ip", "-j", "link", "show"]));
        assert_eq!(ifnames(&ours), ["lo"]);
        assert_eq!(ifnames(&ours), ifnames(&theirs));

        // prepare_command on a Command built by hand; an anonymous namespace.
        let anon = NetNs::new().unwrap();
        let mut cmd = std::process::Command::new("ls");
        cmd.arg("/sys/class/net");
        anon.prepare_command(&mut cmd).unwrap();
        let sys = stdout_ok("ls (anonymous)", cmd.output().unwrap());
        assert_eq!(sys.split_whitespace().collect::<Vec<_>>(), ["lo"]);

        // Exit codes come through.
        let st = ns.command("sh").unwrap().args(["-c", "exit 7"]).status().unwrap();
        assert_eq!(st.code(), Some(7));

        assert_eq!(sys_mount(), parent_sys, "a command's fresh /sys leaked into the parent");
        assert_eq!(snapshot(), before, "a command changed the parent's mounts or entries");
        drop(ns);
        NetNs::delete(&name).unwrap();
        assert_no_named_namespaces();
    })
}

/// Files in `/etc/netns/NAME/` are bind-mounted over `/etc` for the child
/// only, like `ip netns exec` does. `/etc` is an overlay private to the
/// sandbox, so the host's `/etc` is never written.
#[test]
fn command_binds_etc_netns_files_for_the_child_only() {
    sandbox(|| {
        // An overlay on /etc, private to the sandbox's mount namespace.
        fs::create_dir("/run/etc-overlay").unwrap();
        mount(
            Some("nslink-test-etc"),
            "/run/etc-overlay",
            Some("tmpfs"),
            MsFlags::empty(),
            Some("mode=0755"),
        )
        .unwrap();
        fs::create_dir("/run/etc-overlay/upper").unwrap();
        fs::create_dir("/run/etc-overlay/work").unwrap();
        mount(
            Some("nslink-test-overlay"),
            "/etc",
            Some("overlay"),
            MsFlags::empty(),
            Some("lowerdir=/etc,upperdir=/run/etc-overlay/upper,workdir=/run/etc-overlay/work"),
        )
        .expect("mount an overlay on /etc inside the sandbox");

        let original = fs::read_to_string("/etc/hostname").expect("this test needs /etc/hostname");
        let name = unique("etc");
        let ns = NetNs::create(&name).unwrap();
        let etc_dir = PathBuf::from("/etc/netns").join(&name);
        fs::create_dir_all(&etc_dir).unwrap();
        let replaced = format!("{name}-hostname\n");
        assert_ne!(replaced, original);
        fs::write(etc_dir.join("hostname"), &replaced).unwrap();
        // A file with no namesake in /etc is skipped, not created.
        let orphan = format!("nslink-orphan-{}", std::process::id());
        fs::write(etc_dir.join(&orphan), b"x").unwrap();
        let etc_before = dir_entries("/etc");

        let seen = stdout_ok(
            "cat /etc/hostname",
            ns.command("cat").unwrap().arg("/etc/hostname").output().unwrap(),
        );
        assert_eq!(seen, replaced, "the child does not see /etc/netns/NAME/hostname");
        let oracle = ip(&["netns", "exec", &name, "cat", "/etc/hostname"]);
        assert_eq!(oracle, replaced, "ip netns exec disagrees");
        // Opened by name later: same behaviour.
        let reopened = NetNs::open(&name).unwrap();
        let seen = stdout_ok(
            "cat",
            reopened.command("cat").unwrap().arg("/etc/hostname").output().unwrap(),
        );
        assert_eq!(seen, replaced);
        // The parent and an anonymous namespace see the original.
        assert_eq!(fs::read_to_string("/etc/hostname").unwrap(), original);
        let anon = NetNs::new().unwrap();
        let seen = stdout_ok(
            "cat (anonymous)",
            anon.command("cat").unwrap().arg("/etc/hostname").output().unwrap(),
        );
        assert_eq!(seen, original);
        assert!(!Path::new("/etc").join(&orphan).exists());
        assert_eq!(dir_entries("/etc"), etc_before);

        drop((ns, reopened));
        NetNs::delete(&name).unwrap();
        assert_no_named_namespaces();
    })
}

// ---------------------------------------------------------------------------
// 11. FD_CLOEXEC.
// ---------------------------------------------------------------------------

/// Every handle the crate hands out is close-on-exec, and a child started by
/// `command` holds no namespace descriptor.
#[test]
fn every_handle_is_cloexec_and_children_inherit_none() {
    sandbox(|| {
        let name = unique("cloexec");
        let created = NetNs::create(&name).unwrap();
        let opened = NetNs::open(&name).unwrap();
        let current = NetNs::current().unwrap();
        let anon = NetNs::new().unwrap();
        let cloned = anon.try_clone().unwrap();
        let by_pid = NetNs::open_pid(std::process::id()).unwrap();
        let by_path = NetNs::open_path("/proc/thread-self/ns/net").unwrap();
        let child = sleeper_in(&anon);
        let attached = NetnsDir::default().attach(unique("attached"), child.pid()).unwrap();
        let handles = [&created, &opened, &current, &anon, &cloned, &by_pid, &by_path, &attached];
        for (i, h) in handles.iter().enumerate() {
            assert!(is_cloexec(h), "handle {i} ({h:?}) lacks FD_CLOEXEC");
        }

        let listing = stdout_ok(
            "ls -l /proc/self/fd",
            created.command("ls").unwrap().args(["-l", "/proc/self/fd/"]).output().unwrap(),
        );
        for line in listing.lines() {
            assert!(
                !line.contains("net:[") && !line.contains("/run/netns") && !line.contains("mnt:["),
                "the child inherited a namespace descriptor: {line}\n{listing}"
            );
        }
        drop(child);
        for n in NetNs::list().unwrap() {
            NetNs::delete(&n).unwrap();
        }
        assert_no_named_namespaces();
    })
}

// ---------------------------------------------------------------------------
// 12. exec failure.
// ---------------------------------------------------------------------------

/// A program that does not exist fails `spawn` with an `io::Error`; the
/// namespace and the caller are unaffected and the next command works.
#[test]
fn command_for_a_missing_program_is_an_io_error() {
    sandbox(|| {
        let home = here();
        let name = unique("noexec");
        let ns = NetNs::create(&name).unwrap();
        let before = snapshot();
        for _ in 0..3 {
            let e = ns.command("/nonexistent/nslink-no-such-program").unwrap().spawn().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
            let e = ns.command("nslink-no-such-program-on-path").unwrap().status().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
        }
        assert_eq!(snapshot(), before);
        assert_eq!(here(), home);
        let st = ns.command("true").unwrap().status().unwrap();
        assert!(st.success());
        drop(ns);
        NetNs::delete(&name).unwrap();
        assert_no_named_namespaces();
    })
}

/// The sandbox itself: not root would fail loudly (checked here by reading
/// the message), the sandbox hides the host's `/run` and devices, and a
/// device made inside never reaches the host. (The host's own device list
/// is not compared before and after: anything else on the machine may
/// change it meanwhile.)
#[test]
fn sandbox_hides_the_host() {
    assert!(NEED_ROOT.contains("run them as root"));
    let host_ns = here();
    let made = format!("sbx{}", std::process::id());
    assert!(!dir_entries("/sys/class/net").contains(&made), "{made} exists on the host");
    sandbox(|| {
        assert_ne!(here(), host_ns, "the sandbox shares the host's namespace");
        assert_eq!(dir_entries("/run"), Vec::<String>::new());
        let links = ip_json(&["link", "show"]);
        assert_eq!(ifnames(&links), ["lo"], "the sandbox sees host devices: {links:?}");
        ip(&["link", "add", &made, "type", "bridge"]);
        assert_eq!(ifnames(&ip_json(&["link", "show"])), ["lo", made.as_str()]);
    });
    assert_eq!(here(), host_ns);
    assert!(!dir_entries("/sys/class/net").contains(&made), "{made} reached the host");
    let host_links = ifnames(&ip_json(&["link", "show"]));
    assert!(!host_links.contains(&made), "{made} reached the host: {host_links:?}");
    // A panic inside is re-raised outside.
    let r = catch_unwind(|| sandbox::<()>(|| panic!("inside the sandbox")));
    assert_eq!(panic_text(&*r.unwrap_err()), "inside the sandbox");
}
