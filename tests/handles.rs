//! Handles made from descriptors the caller already has (issue item 20).

mod common;

use std::os::fd::OwnedFd;

use common::*;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nslink::{Error, NetNs};

fn open_fd(path: &str, flags: OFlag) -> OwnedFd {
    open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_netns_is_made_from_an_owned_fd_after_the_checks() {
    sandbox(|| {
        let here = NetNs::current().unwrap();
        // A plain descriptor of a namespace file, and an O_PATH one.
        let ns =
            NetNs::from_owned_fd(open_fd("/proc/thread-self/ns/net", OFlag::O_RDONLY)).unwrap();
        assert_eq!(ns, here);
        let ns: NetNs = open_fd("/proc/thread-self/ns/net", OFlag::O_PATH).try_into().unwrap();
        assert_eq!(ns, here);
        // It is usable: entering works (an O_PATH descriptor would not be).
        let other = NetNs::new().unwrap();
        let fd: OwnedFd = other.try_clone().unwrap().into();
        let back = NetNs::from_owned_fd(fd).unwrap();
        assert_eq!(back.run(|| NetNs::current().unwrap()).unwrap(), other);

        // Another namespace type, and a file that is no namespace at all.
        let e =
            NetNs::from_owned_fd(open_fd("/proc/thread-self/ns/uts", OFlag::O_RDONLY)).unwrap_err();
        assert!(matches!(e, Error::NotANetns { .. }) && e.raw_os_error().is_none(), "{e:?}");
        let e = NetNs::from_owned_fd(open_fd("/proc/self/status", OFlag::O_RDONLY)).unwrap_err();
        assert!(e.is_not_a_netns(), "{e:?}");
    })
}

#[test]
fn pids_are_unsigned_and_a_missing_process_is_not_found() {
    sandbox(|| {
        let me = NetNs::open_pid(std::process::id()).unwrap();
        assert_eq!(me.id(), NetNs::open_path("/proc/self/ns/net").unwrap().id());
        let e = NetNs::open_pid(u32::MAX).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        assert_eq!(e.raw_os_error(), Some(nix::libc::ENOENT), "the kernel's own errno");
    })
}
