//! # nslink
//!
//! Linux network namespaces and rtnetlink as safe, typed, synchronous Rust:
//! what container runtimes, CNI plugins and network labs do with `ip netns`,
//! `ip link`, `ip addr` and `ip route`, without shelling out, without an
//! async runtime, and without hand-written `setns` code.
//!
//! ## A tour
//!
//! **Namespaces are file descriptors.** A [`NetNs`] owns one. Open the
//! calling thread's, a named one (`/run/netns`, shared with `ip netns`), a
//! process's, or any path; create anonymous or named ones:
//!
//! ```no_run
//! use nslink::{NetNs, NetnsDir};
//!
//! let here = NetNs::current()?;                 // this thread's namespace
//! let lab = NetNs::create("lab1")?;             // ip netns add lab1
//! let scratch = NetNs::new()?;                  // anonymous: gone when dropped
//! assert_eq!(NetNs::open("lab1")?, lab);        // equal = same namespace
//! assert_eq!(NetnsDir::default().list()?, ["lab1"]);
//! # Ok::<(), nslink::Error>(())
//! ```
//!
//! **Run code inside without moving your thread.** [`NetNs::run`] runs a
//! closure on a helper thread inside the namespace and hands back its value
//! (or its panic); [`NetNs::spawn`] starts a thread that lives there.
//!
//! ```no_run
//! # let lab = nslink::NetNs::open("lab1")?;
//! let socket = lab.run(|| std::net::UdpSocket::bind("127.0.0.1:0"))??;
//! // `socket` belongs to lab1 for good, whichever thread uses it.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Or enter on this thread, with a guard.** [`NetNs::enter`] moves the
//! calling thread and returns an [`NsGuard`] that moves it back when dropped
//! (panics included), checks that it arrived, and aborts the process if it
//! could not: a thread never silently goes on in the wrong namespace. The
//! guard is `!Send`, so it cannot leak to another thread or across an
//! `.await`.
//!
//! ```no_run
//! # let lab = nslink::NetNs::open("lab1")?;
//! {
//!     let _inside = lab.enter()?;
//!     // this thread is in lab1 here
//! }
//! # Ok::<(), nslink::Error>(())
//! ```
//!
//! **Run commands like `ip netns exec`.** [`NetNs::command`] builds a
//! [`std::process::Command`] that runs in the namespace with its own `/sys`
//! and the `/etc/netns/NAME` files.
//!
//! ```no_run
//! # let lab = nslink::NetNs::open("lab1")?;
//! let out = lab.command("ip")?.args(["addr", "show"]).output()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Devices, addresses, routes** go through a [`RouteSocket`], a netlink
//! socket opened *inside* a namespace once and usable from any thread:
//!
//! ```no_run
//! use nslink::{Bridge, NetNs, Route, RouteSocket, VethPair};
//!
//! let node = NetNs::create("node")?;
//! let pod = NetNs::create("pod1")?;
//! let nl = RouteSocket::open_in(&node)?;
//! let cni0 = Bridge::builder("cni0").stp(false).up().create(&nl)?;
//! nl.add_address(cni0.index(), "10.244.1.1/24".parse()?)?;
//! // The pod's end is created directly inside the pod.
//! let veth = VethPair::builder("veth1", "eth0").peer_netns(&pod).master(cni0.index()).up().create(&nl)?;
//!
//! let pod_nl = RouteSocket::open_in(&pod)?;
//! pod_nl.set_up("lo")?;
//! pod_nl.set_up("eth0")?;
//! pod_nl.add_address("eth0", "10.244.1.2/24".parse()?)?;
//! pod_nl.add_route(&Route::default_via("10.244.1.1".parse()?))?;
//!
//! // Devices that may not change namespace are refused before anything is sent:
//! let err = nl.move_link("cni0", &pod).unwrap_err();
//! assert!(err.is_netns_immutable());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What nslink always does, and never does
//!
//! Always:
//! - every descriptor it opens is `CLOEXEC` and has exactly one owner
//!   ([`std::os::fd::OwnedFd`] or a non-`Clone` wrapper);
//! - names are validated before any system call ([`IfName`], [`NsName`]);
//! - errors say what was attempted on which object and keep the raw errno
//!   and the kernel's extended-ack message ([`Error`]);
//! - netlink replies are matched by sequence number and sender, sized so
//!   they are never truncated, and dumps interrupted by concurrent changes
//!   are repeated or reported ([`Error::DumpInterrupted`]), never returned
//!   partial.
//!
//! Never:
//! - leaves your thread in another namespace: only [`NsGuard`] moves it
//!   for longer than a call, and making a namespace ([`NetNs::new`],
//!   [`NetnsDir::create`]) moves it for the unshare only, through the same
//!   checked way back (a thread that cannot return aborts the process);
//! - forks (commands use [`std::process::Command`], whose `pre_exec` hook
//!   only makes async-signal-safe system calls);
//! - panics on what the kernel sends;
//! - creates a namespace when asked to open one.
//!
//! ## Privileges
//! Creating namespaces and changing devices needs `CAP_SYS_ADMIN` and
//! `CAP_NET_ADMIN` (root, or a user namespace that owns the network
//! namespace). Reading works for anyone allowed to open the namespace.
//!
//! ## Kernel differences handled here
//! - The netns-local flag (which devices may not move) is read from
//!   `IFLA_NETNS_IMMUTABLE` (Linux 6.15+), else from the ethtool feature
//!   `netns-local` (before ~6.12), else reported unknown
//!   ([`RouteSocket::netns_local`]).
//! - Kernels before ~6.15 look some veth names up in the socket's namespace
//!   rather than their target; [`VethBuilder::create`] works around it.
#![cfg(target_os = "linux")]
// `unsafe` lives only in the modules that allow it: `sys` (raw system calls
// nix lacks), `ethtool` (the SIOCETHTOOL ioctl) and `netns::exec` (the
// `pre_exec` hook).
#![deny(unsafe_code)]
#![warn(missing_debug_implementations)]
// The library never panics on input: no unwrap/expect/panic outside tests.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod addr;
pub mod brvlan;
pub mod error;
#[allow(unsafe_code)] // SIOCETHTOOL ioctls; each block has a SAFETY comment
pub mod ethtool;
pub mod fdb;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod link;
pub mod monitor;
pub mod name;
pub mod neigh;
pub mod netlink;
pub mod netns;
pub mod nsid;
pub mod route;
pub mod rule;
#[allow(unsafe_code)] // raw system calls nix lacks; each block has a SAFETY comment
mod sys;
pub mod sysctl;

pub use addr::{Address, AddressFlags, AddressOptions, AddressScope, IpNet};
pub use brvlan::{BridgeVlan, PortVlans};
pub use error::{
    Errno, Error, NetnsLocalSource, Object, ObjectId, ObjectKind, Op, ParseError, Result,
};
pub use fdb::{FdbEntry, FdbFilter, FdbOptions, FdbState};
pub use link::{AltName, LinkGroup, LinkStats, TunInfo, TunMode, TunQueues, TunTap};
pub use link::{
    BondMode, BondOptions, BridgeOptions, GeneveOptions, IpvlanIsolation, IpvlanMode,
    IpvlanOptions, KindOptions, LinkBuilder, MacvlanMode, MacvlanOptions, VethOptions, VlanOptions,
    VlanProtocol, VrfOptions, VxlanOptions,
};
pub use link::{
    Bridge, BridgeBuilder, BridgePortOptions, IntoLinkId, Link, LinkFlags, LinkId, LinkKind,
    MacAddr, NetnsLocal, OperState, VethBuilder, VethEnd, VethPair,
};
pub use monitor::{Event, Monitor, MonitorGroups, Notification};
pub use name::{IfName, IntoIfName, IntoNsName, NsName};
pub use neigh::{Neighbour, NeighbourFlags, NeighbourState};
pub use netlink::{Batch, RouteSocket};
pub use netns::{NetNs, NetnsDir, NsGuard, NsId, NsJoinHandle};
pub use nsid::{NsidEntry, NsidRequest};
pub use route::{NextHop, RouteAnswer, RouteGet};
pub use route::{Route, RouteProtocol, RouteScope, RouteTable, RouteType};
pub use rule::{IpFamily, Rule, RuleAction};

/// The netlink framing crate nslink is built on (`NLM_F_*` flags, headers),
/// re-exported so that [`RouteSocket::request_raw`] needs no
/// version-matched dependency of your own.
///
/// ```
/// use nslink::netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
/// assert_eq!(NLM_F_CREATE | NLM_F_EXCL, 0x600);
/// ```
pub use netlink_packet_core;
/// The rtnetlink message crate nslink speaks (rtnetlink(7)), re-exported for
/// [`RouteSocket::request_raw`]; also reachable as [`netlink::packet`].
///
/// ```
/// use nslink::netlink_packet_route::{RouteNetlinkMessage, link::LinkMessage};
/// let msg = RouteNetlinkMessage::GetLink(LinkMessage::default());
/// # let _ = msg;
/// ```
pub use netlink_packet_route;

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The fault-injection seam (feature `fault-injection`, for tests): plans
/// that make chosen system calls of nslink fail with a chosen errno.
#[cfg(feature = "fault-injection")]
pub use sys::fault;
