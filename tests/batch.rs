//! `RouteSocket::batch`: several requests in one datagram, one outcome each,
//! checked against `ip -j`.

mod common;

use common::{JsonExt as _, ip, ip_json, sandbox};
use nslink::{Error, Route, RouteSocket};

#[test]
fn batch_applies_every_request_and_reports_each_outcome() {
    sandbox(|| {
        ip(&["link", "add", "ba0", "type", "veth", "peer", "name", "ba1"]);
        let nl = RouteSocket::open().unwrap();
        let ba0 = nl.require_link("ba0").unwrap().index();

        let mut b = nl.batch();
        b.set_up("lo").unwrap().set_up(ba0).unwrap().set_mtu("ba1", 1400).unwrap();
        b.add_address(ba0, "10.9.0.2/24".parse().unwrap()).unwrap();
        b.add_route(&Route::default_via("10.9.0.1".parse().unwrap())).unwrap();
        assert_eq!(b.len(), 5);
        assert!(b.send().unwrap().iter().all(Result::is_ok));

        let link = |dev: &str| ip_json(&["link", "show", "dev", dev]).remove(0);
        let ba0 = link("ba0");
        assert!(ba0.flags().contains("UP"), "ba0 is up: {ba0}");
        let ba1 = link("ba1");
        assert_eq!(ba1.at("mtu").uint(), 1400, "ba1 mtu: {ba1}");
        assert!(link("lo").flags().contains("UP"), "lo is up");
        let addrs = ip_json(&["addr", "show", "dev", "ba0"]);
        let local: Vec<(&str, u64)> = addrs[0]
            .at("addr_info")
            .items()
            .iter()
            .map(|a| (a.at("local").text(), a.at("prefixlen").uint()))
            .collect();
        assert!(local.contains(&("10.9.0.2", 24)), "{addrs:?}");
        let routes = ip_json(&["route", "show", "default"]);
        assert!(
            routes.iter().any(|r| r.get("gateway").and_then(|g| g.as_str()) == Some("10.9.0.1")
                && r.get("dev").and_then(|d| d.as_str()) == Some("ba0")),
            "{routes:?}"
        );
    })
}

#[test]
fn a_refused_request_has_its_own_error_and_the_rest_still_run() {
    sandbox(|| {
        ip(&["link", "add", "bb0", "type", "veth", "peer", "name", "bb1"]);
        let nl = RouteSocket::open().unwrap();
        let bb0 = nl.require_link("bb0").unwrap().index();
        nl.add_address(bb0, "10.8.0.2/24".parse().unwrap()).unwrap();

        let mut b = nl.batch();
        b.add_address(bb0, "10.8.0.2/24".parse().unwrap()).unwrap(); // exists
        b.set_mtu(bb0, 10).unwrap(); // below the minimum
        b.delete_link(999_999).unwrap(); // no such device
        b.set_up(bb0).unwrap(); // fine
        let out = b.send().unwrap();
        assert!(out[0].as_ref().unwrap_err().is_already_exists(), "{:?}", out[0]);
        let mtu = out[1].as_ref().unwrap_err();
        assert_eq!(mtu.extack(), Some("mtu less than device minimum"), "{mtu}");
        assert!(out[2].as_ref().unwrap_err().is_not_found(), "{:?}", out[2]);
        assert!(out[3].is_ok());
        assert!(nl.require_link(bb0).unwrap().is_up(), "the request after the refusals ran");

        // commit() reports the first refusal.
        let mut b = nl.batch();
        b.set_up(bb0).unwrap();
        b.add_address(bb0, "10.8.0.2/24".parse().unwrap()).unwrap();
        let e: Error = b.commit().unwrap_err();
        assert!(e.is_already_exists(), "{e}");
        assert!(e.to_string().contains("10.8.0.2/24"), "{e}");

        // Bad input is refused while queueing, before anything is sent.
        assert!(nl.batch().set_up("bad/name").unwrap_err().is_invalid_name());
        assert!(nl.batch().is_empty());
    })
}

/// After `fork`, the child has no helper thread even though the parent's
/// thread-local says there is one: the child must start its own instead of
/// waiting for a thread that does not exist.
#[test]
fn a_forked_child_gets_its_own_helper() {
    sandbox(|| {
        // Start a worker of the pool in the parent.
        let parent_ns = nslink::NetNs::new().unwrap();
        parent_ns.run(|| ()).unwrap();
        drop(parent_ns);
        // SAFETY: the child only calls nslink (which starts a thread and
        // makes a namespace) and then _exit; this test process has other
        // threads, so the child must not rely on locks they might hold, and
        // nslink's path here takes none that another thread could hold
        // across the fork except the allocator, which glibc makes fork-safe.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                // NetNs::new makes the namespace on this thread; `run` needs
                // a worker, which the child must start itself.
                let ok = nslink::NetNs::new()
                    .and_then(|ns| {
                        ns.run(|| nslink::NetNs::current().map(|n| n.id()))?.map(|id| id == ns.id())
                    })
                    .unwrap_or(false);
                // SAFETY: _exit is always safe to call; it skips destructors.
                unsafe { nix::libc::_exit(if ok { 0 } else { 1 }) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                loop {
                    match nix::sys::wait::waitpid(child, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
                        .unwrap()
                    {
                        nix::sys::wait::WaitStatus::StillAlive => {
                            if std::time::Instant::now() > deadline {
                                let _ = nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
                                panic!("the forked child hung waiting for its parent's helper");
                            }
                            std::thread::sleep(std::time::Duration::from_millis(10));
                        }
                        nix::sys::wait::WaitStatus::Exited(_, code) => {
                            assert_eq!(code, 0, "the child could not make a namespace");
                            break;
                        }
                        other => panic!("child ended as {other:?}"),
                    }
                }
            }
        }
    })
}
