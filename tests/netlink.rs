//! `RouteSocket` itself: the raw escape hatch and the descriptor, checked
//! against `ip -j` and the kernel.

mod common;

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use common::{JsonExt as _, ip, ip_json, sandbox};
use nix::libc;
use nix::sys::stat::fstat;
// Through nslink's re-exports: no version-matched dependency needed.
use nslink::netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_ROOT};
use nslink::netlink_packet_route::RouteNetlinkMessage;
use nslink::netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use nslink::{Error, NetNs, RouteSocket};

/// `RTM_NEWLINK` for a bridge called `name`.
fn new_bridge(name: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]));
    RouteNetlinkMessage::NewLink(m)
}

/// NLM_F_REPLACE|NLM_F_EXCL are the bits of NLM_F_DUMP; on a NEW request
/// they are not a dump, and the kernel's answer comes at once.
#[test]
fn raw_new_request_with_replace_and_excl_returns_the_kernels_answer_promptly() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        // "At once" is what the socket's timeout checks: the kernel queues
        // its answer before sendmsg returns, so a receive that waits for
        // more (a dump's DONE) would time out after 1 s and fail. The wall
        // time of the request is no measure: sendmsg itself waits for the
        // rtnl lock, 9 s once under .ci/stress beside other tests' churn.
        nl.set_timeout(Duration::from_secs(1)).unwrap();
        let flags = NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE;

        let replies = nl.request_raw(new_bridge("rawbr0"), flags).unwrap();
        assert!(replies.is_empty(), "{replies:?}");
        let shown = ip_json(&["-d", "link", "show", "dev", "rawbr0"]);
        assert_eq!(shown[0].at("linkinfo").at("info_kind").text(), "bridge", "{shown:?}");

        // Again: EXCL makes the kernel refuse, and that refusal is returned.
        let e = nl.request_raw(new_bridge("rawbr0"), flags).unwrap_err();
        assert!(e.is_already_exists(), "{e}");
        assert!(matches!(e, Error::Os { op: nslink::Op::RawRequest, .. }), "{e:?}");
    })
}

/// The kernel dumps a GET request with either bit of NLM_F_DUMP.
#[test]
fn raw_get_with_only_nlm_f_root_is_read_as_the_dump_it_is() {
    sandbox(|| {
        ip(&["link", "add", "rawbr1", "type", "bridge"]);
        let nl = RouteSocket::open().unwrap();
        nl.set_timeout(Duration::from_secs(5)).unwrap();
        let replies = nl
            .request_raw(RouteNetlinkMessage::GetLink(LinkMessage::default()), NLM_F_ROOT)
            .unwrap();
        let mut names: Vec<String> = replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => l.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                }),
                _ => None,
            })
            .collect();
        names.sort();
        let mut expected = common::ifnames(&ip_json(&["link", "show"]));
        expected.sort();
        assert_eq!(names, expected);
        // The socket is still in step.
        assert!(nl.link("rawbr1").unwrap().is_some());
    })
}

/// The namespace a socket belongs to, as the kernel says (`SIOCGSKNS`,
/// sock_ioctl), identified like `NetNs::id`.
fn socket_netns(fd: impl AsFd) -> (u64, u64) {
    // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor (or
    // -1); `fd` is a live socket borrowed for the call.
    let ns = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::SIOCGSKNS) };
    assert!(ns >= 0, "SIOCGSKNS: {}", std::io::Error::last_os_error());
    // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
    let ns = unsafe { OwnedFd::from_raw_fd(ns) };
    let st = fstat(&ns).unwrap();
    (st.st_dev, st.st_ino)
}

#[test]
fn route_socket_fd_is_the_netlink_socket_inside_its_namespace() {
    sandbox(|| {
        let here = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        let nl = RouteSocket::open_in(&pod).unwrap();

        let id = pod.id();
        assert_eq!(socket_netns(&nl), (id.dev, id.ino));
        assert_eq!(socket_netns(nl.as_fd()), (id.dev, id.ino));
        let home = NetNs::current().unwrap().id();
        assert_eq!(socket_netns(&here), (home.dev, home.ino));
        assert_ne!(home, id);

        // A netlink socket, NETLINK_ROUTE, close-on-exec, and the same
        // descriptor through AsRawFd.
        let fd = nl.as_fd();
        assert_eq!(fd.as_raw_fd(), nl.as_raw_fd());
        assert!(common::is_cloexec(fd));
        let addr =
            nix::sys::socket::getsockname::<nix::sys::socket::NetlinkAddr>(nl.as_raw_fd()).unwrap();
        assert_ne!(addr.pid(), 0, "bound to a port");
        let kind = nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::SockType);
        assert_eq!(kind.unwrap(), nix::sys::socket::SockType::Datagram);
        let mut proto: libc::c_int = -1;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: SO_PROTOCOL writes one int into `proto`, whose size is in `len`.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PROTOCOL,
                (&raw mut proto).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        assert_eq!(proto, libc::NETLINK_ROUTE);

        // Looking at the descriptor leaves the socket working, and it is
        // still Debug.
        assert!(nl.link("lo").unwrap().is_some());
        assert!(format!("{nl:?}").contains("RouteSocket"));
    })
}
