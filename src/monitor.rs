//! [`Monitor`]: rtnetlink events, typed, from one namespace or from all of
//! them, that never lose state silently (`ip monitor`, rtnetlink(7)).
//!
//! A monitor is a `NETLINK_ROUTE` socket that joins the multicast groups
//! you pick ([`MonitorGroups`]) and turns each notification the kernel
//! sends into an [`Event`]: links, addresses, routes and neighbours come as
//! the very types the dumps return ([`Link`], [`Address`], [`Route`],
//! [`Neighbour`]), decoded by the same code.
//!
//! # A consistent start: subscribe, dump, follow
//! [`Monitor::open`] joins the groups *first*, then dumps the current state
//! (on a second socket of the same namespace), and delivers it as the first
//! event, [`Event::Snapshot`]. Every change made after the subscription is
//! in the socket's queue, so nothing falls between the dump and the events.
//!
//! Changes made while the dump ran would be seen twice (in the dump, and
//! again as queued events, which could then take an object back to a state
//! older than the snapshot's). The monitor avoids that: once the dump is
//! done it sends an `NLMSG_NOOP` request with `NLM_F_ACK` on its own socket.
//! The kernel queues the acknowledgement behind every notification queued
//! so far, so the notifications before it are exactly those that may
//! overlap the dump. The monitor applies them to the snapshot itself
//! ([`Snapshot::apply`]: each carries the whole object, so applying them in
//! order ends at the kernel's state when the acknowledgement was sent) and
//! delivers the snapshot as of that moment. Every event delivered after a
//! snapshot is a change made after it: no duplicate, no step back.
//!
//! # Never a silent gap
//! When the socket's receive buffer overflows, the kernel drops
//! notifications and reports `ENOBUFS` on the next receive (netlink(7)):
//! the monitor's picture would be wrong from then on. By default
//! ([`Overflow::Resync`]) the monitor then
//! 1. discards what is still queued (it all predates the loss; while the
//!    queue is not empty the kernel delivers nothing more to it),
//! 2. dumps the state again, settled as at the start (and starts over if
//!    notifications are lost meanwhile), and
//! 3. delivers [`Event::Resync`] with the fresh state, followed by the
//!    events after it.
//!
//! [`Monitor::overflows`] counts the overflows. [`Overflow::Error`] reports
//! an overflow as an error instead (then [`Monitor::resync`] when you are
//! ready). A datagram too large for the receive buffer (never seen in
//! practice: the buffer starts at 64 KiB and grows) counts as an overflow
//! too.
//!
//! A slow consumer therefore never sees a lie: either the events are all
//! there, or a resync replaces what was lost. The receive buffer
//! ([`MonitorBuilder::receive_buffer`], default 4 MiB) only decides how
//! often that happens.
//!
//! # All namespaces at once
//! [`MonitorBuilder::all_netns`] sets `NETLINK_LISTEN_ALL_NSID`: the socket
//! also receives the notifications of every namespace that has a namespace
//! id (nsid) in the monitor's namespace (`ip netns set NAME auto`, or one the
//! kernel assigned, e.g. for a veth peer there). Each
//! [`Notification`] carries that id ([`Notification::nsid`]; `None` for the
//! monitor's own namespace), and the namespace itself when a resolver you
//! give ([`MonitorBuilder::resolve_nsid`]) knows it. Receiving another
//! namespace's notifications needs `CAP_NET_BROADCAST` in the user
//! namespace that owns it.
//!
//! Snapshots and resyncs cover the monitor's own namespace only: after an
//! overflow, [`Event::Resync`] says whether other namespaces' events may have
//! been lost too (its `other_netns_lost`); re-read those
//! namespaces yourself (e.g. with [`RouteSocket::open_in`] on the resolved
//! namespace).
//!
//! # When the namespace goes away
//! A monitor's socket holds a reference to its namespace: the namespace
//! lives as long as the monitor, whatever happens to its name (`ip netns
//! delete` only removes the name), and nothing marks an end in its stream.
//! Watch a namespace from *outside* to see it end: with
//! [`MonitorBuilder::all_netns`] and [`MonitorGroups::NSID`] in a namespace
//! where it has an id, its last act is [`Event::NsIdRemoved`] with that id
//! (the kernel sends `RTM_DELNSID` when the namespace is destroyed); no
//! event tagged with that id follows, until the id is given to another
//! namespace ([`Event::NsIdAdded`]).
//!
//! # Blocking or not
//! A monitor is an [`Iterator`] that blocks; [`Monitor::next_timeout`]
//! waits at most a given time; [`Monitor::try_next`] never waits, and the
//! socket is non-blocking, so a monitor fits `poll(2)`, epoll, mio or
//! tokio's `AsyncFd` through [`AsFd`] (`examples/monitor-tokio.rs`). A
//! resync, when one is due, is a dump and does block for its duration.
//!
//! ```no_run
//! use nslink::monitor::{Event, Monitor, MonitorGroups};
//!
//! let mut mon = Monitor::open(MonitorGroups::LINK | MonitorGroups::ADDRESS)?;
//! for n in &mut mon {
//!     match n?.event {
//!         Event::Snapshot(s) | Event::Resync { snapshot: s, .. } => {
//!             println!("{} links, {} addresses", s.links.len(), s.addresses.len())
//!         }
//!         Event::LinkAdded(l) => println!("new link {}", l.name()),
//!         Event::AddressRemoved(a) => println!("address {} gone", a.net),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok::<(), nslink::Error>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::mem::offset_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netlink_packet_core::{
    Emitable, NLM_F_ACK, NLM_F_REPLACE, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NetlinkHeader,
};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::rule::RuleMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::Socket;
use netlink_sys::protocols::NETLINK_ROUTE;
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{getsockopt, setsockopt, sockopt};

use crate::addr::Address;
use crate::error::{Error, Object, ObjectKind, Op, ProtocolError, Result};
use crate::link::Link;
use crate::neigh::Neighbour;
use crate::netlink::RouteSocket;
use crate::netlink::frame::frames;
use crate::netns::NetNs;
use crate::route::Route;

/// Default receive buffer of a monitor's socket.
///
/// ```
/// assert_eq!(nslink::monitor::DEFAULT_RECEIVE_BUFFER, 4 << 20);
/// ```
pub const DEFAULT_RECEIVE_BUFFER: usize = 4 << 20;

/// How many times a snapshot is tried while notifications keep being lost.
const SETTLE_ATTEMPTS: u32 = 16;

/// How long to wait for the marker's acknowledgement.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first size of the datagram buffer; it doubles when a datagram did
/// not fit.
const FIRST_RX: usize = 64 << 10;

/// The bit of a legacy `RTMGRP_*` mask for multicast group `group`.
const fn bit(group: u32) -> u32 {
    1 << (group - 1)
}

bitflags::bitflags! {
    /// The rtnetlink multicast groups a [`Monitor`] joins (`RTNLGRP_*` in
    /// rtnetlink(7); `ip monitor link address route neigh rule nsid`).
    /// Each flag's bit is the group's legacy `RTMGRP_*` bit,
    /// `1 << (RTNLGRP_x - 1)`.
    ///
    /// ```
    /// use nslink::monitor::MonitorGroups;
    ///
    /// let g = MonitorGroups::LINK | MonitorGroups::IPV4_ADDRESS;
    /// assert_eq!(g.bits(), 0x11); // RTMGRP_LINK | RTMGRP_IPV4_IFADDR
    /// assert!(MonitorGroups::ADDRESS.contains(MonitorGroups::IPV6_ADDRESS));
    /// assert!(MonitorGroups::ALL.contains(MonitorGroups::NSID));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MonitorGroups: u32 {
        /// `RTNLGRP_LINK`: devices (and bridge ports) added, changed,
        /// removed.
        const LINK = bit(libc::RTNLGRP_LINK);
        /// `RTNLGRP_NEIGH`: neighbour (ARP/NDP) entries.
        const NEIGHBOUR = bit(libc::RTNLGRP_NEIGH);
        /// `RTNLGRP_IPV4_IFADDR`: IPv4 addresses.
        const IPV4_ADDRESS = bit(libc::RTNLGRP_IPV4_IFADDR);
        /// `RTNLGRP_IPV4_ROUTE`: IPv4 routes.
        const IPV4_ROUTE = bit(libc::RTNLGRP_IPV4_ROUTE);
        /// `RTNLGRP_IPV4_RULE`: IPv4 policy routing rules.
        const IPV4_RULE = bit(libc::RTNLGRP_IPV4_RULE);
        /// `RTNLGRP_IPV6_IFADDR`: IPv6 addresses.
        const IPV6_ADDRESS = bit(libc::RTNLGRP_IPV6_IFADDR);
        /// `RTNLGRP_IPV6_ROUTE`: IPv6 routes.
        const IPV6_ROUTE = bit(libc::RTNLGRP_IPV6_ROUTE);
        /// `RTNLGRP_IPV6_RULE`: IPv6 policy routing rules.
        const IPV6_RULE = bit(libc::RTNLGRP_IPV6_RULE);
        /// `RTNLGRP_NSID`: namespace ids given and taken back.
        const NSID = bit(libc::RTNLGRP_NSID);

        /// IPv4 and IPv6 addresses.
        const ADDRESS = Self::IPV4_ADDRESS.bits() | Self::IPV6_ADDRESS.bits();
        /// IPv4 and IPv6 routes.
        const ROUTE = Self::IPV4_ROUTE.bits() | Self::IPV6_ROUTE.bits();
        /// IPv4 and IPv6 rules.
        const RULE = Self::IPV4_RULE.bits() | Self::IPV6_RULE.bits();
        /// Everything above.
        const ALL = Self::LINK.bits() | Self::NEIGHBOUR.bits() | Self::ADDRESS.bits()
            | Self::ROUTE.bits() | Self::RULE.bits() | Self::NSID.bits();
    }
}

impl MonitorGroups {
    /// The `RTNLGRP_*` group numbers of the flags set, for
    /// `NETLINK_ADD_MEMBERSHIP`.
    fn group_numbers(self) -> impl Iterator<Item = u32> {
        (1..=32u32).filter(move |g| self.bits() & bit(*g) != 0)
    }
}

/// What a [`Monitor`] does when the kernel reports lost notifications
/// (`ENOBUFS`).
///
/// ```
/// use nslink::monitor::Overflow;
/// assert_eq!(Overflow::default(), Overflow::Resync);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Dump the state again and deliver [`Event::Resync`].
    #[default]
    Resync,
    /// Return an [`Error::Os`] with `ENOBUFS` (op [`Op::ReceiveEvents`]),
    /// or [`Error::Protocol`] for a datagram that did not fit; call
    /// [`Monitor::resync`] to get the state back. Events that follow the
    /// error come after a gap.
    Error,
}

/// The state of the monitor's namespace, as the dumps return it, for the
/// groups it follows (the other lists are empty).
///
/// ```no_run
/// use nslink::monitor::{Event, Monitor, MonitorGroups};
///
/// let mut mon = Monitor::open(MonitorGroups::LINK)?;
/// if let Some(Ok(n)) = mon.next() {
///     if let Event::Snapshot(s) = n.event {
///         for l in &s.links {
///             println!("{} {}", l.index(), l.name());
///         }
///     }
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Snapshot {
    /// Every device, as [`RouteSocket::links`] returns them
    /// ([`MonitorGroups::LINK`]).
    pub links: Vec<Link>,
    /// The addresses of the families followed, as
    /// [`RouteSocket::addresses`] returns them.
    pub addresses: Vec<Address>,
    /// The routes of the families followed, every table, as
    /// [`RouteSocket::routes`] returns them.
    pub routes: Vec<Route>,
    /// Every neighbour entry, as [`RouteSocket::neighbours`] returns them.
    pub neighbours: Vec<Neighbour>,
    /// The policy routing rules of the families followed, as the kernel
    /// sends them (`ip rule show`).
    pub rules: Vec<RuleMessage>,
    /// The namespace ids given in this namespace (`ip netns list-id`).
    pub nsids: Vec<i32>,
}

impl Snapshot {
    /// Applies a notification of this namespace (one with
    /// [`Notification::nsid`] `None`; others are ignored) to the state, as
    /// the kernel applied the change: a snapshot or resync replaces
    /// everything; links are keyed by index; addresses by link, address,
    /// prefix and peer; neighbours by link and IP; routes, rules and ids
    /// are matched whole (a replaced route replaces the one with the same
    /// table, destination and metric). A removed link takes its addresses,
    /// neighbours and routes with it (the kernel does not always announce
    /// those). Returns whether the notification was applied.
    ///
    /// The monitor uses it to settle its own snapshots (see the
    /// [module docs](self)); a program can use it to keep a view.
    ///
    /// ```no_run
    /// use nslink::monitor::{Monitor, MonitorGroups, Snapshot};
    ///
    /// let mut mon = Monitor::open(MonitorGroups::LINK | MonitorGroups::ADDRESS)?;
    /// let mut view = Snapshot::default();
    /// while let Some(n) = mon.next_timeout(Some(std::time::Duration::from_secs(1)))? {
    ///     view.apply(&n);
    /// }
    /// println!("{} links, {} addresses", view.links.len(), view.addresses.len());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn apply(&mut self, n: &Notification) -> bool {
        n.nsid.is_none() && self.apply_event(&n.event)
    }

    /// [`apply`](Self::apply) for an event known to be of this namespace.
    fn apply_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Snapshot(s) | Event::Resync { snapshot: s, .. } => *self = (**s).clone(),
            Event::LinkAdded(l) | Event::LinkChanged(l) => {
                match self.links.iter_mut().find(|x| x.index() == l.index()) {
                    Some(x) => *x = l.clone(),
                    None => self.links.push(l.clone()),
                }
            }
            Event::LinkRemoved(l) => {
                let i = l.index();
                self.links.retain(|x| x.index() != i);
                self.addresses.retain(|a| a.index != i);
                self.neighbours.retain(|n| n.index != i);
                self.routes.retain(|r| r.dev != Some(crate::link::LinkId::Index(i)));
            }
            Event::AddressAdded(a) => {
                self.addresses.retain(|x| !same_address(x, a));
                self.addresses.push(a.clone());
            }
            Event::AddressRemoved(a) => self.addresses.retain(|x| !same_address(x, a)),
            Event::RouteAdded(r) => {
                self.routes.retain(|x| x != r);
                self.routes.push(r.clone());
            }
            Event::RouteReplaced(r) => {
                self.routes
                    .retain(|x| !(x.table == r.table && x.dst == r.dst && x.metric == r.metric));
                self.routes.push(r.clone());
            }
            Event::RouteRemoved(r) => self.routes.retain(|x| x != r),
            Event::NeighbourAdded(n) => {
                self.neighbours.retain(|x| !(x.index == n.index && x.ip == n.ip));
                self.neighbours.push(n.clone());
            }
            Event::NeighbourRemoved(n) => {
                self.neighbours.retain(|x| !(x.index == n.index && x.ip == n.ip))
            }
            Event::RuleAdded(r) => {
                if !self.rules.contains(r) {
                    self.rules.push(r.clone());
                }
            }
            Event::RuleRemoved(r) => self.rules.retain(|x| x != r),
            Event::NsIdAdded(id) => {
                if !self.nsids.contains(id) {
                    self.nsids.push(*id);
                }
            }
            Event::NsIdRemoved(id) => self.nsids.retain(|x| x != id),
            Event::BridgePortChanged(_) | Event::BridgePortRemoved(_) | Event::Other(_) => {
                return false;
            }
        }
        true
    }
}

/// Whether two addresses are the same kernel object (`ifa_local`,
/// prefix length and peer on one link).
fn same_address(a: &Address, b: &Address) -> bool {
    a.index == b.index && a.net == b.net && a.peer == b.peer
}

/// One thing that happened, or the state to start from.
///
/// `*Added` and `*Removed` are the kernel's `RTM_NEW*` and `RTM_DEL*`
/// notifications (rtnetlink(7)). The kernel sends `RTM_NEW*` both for a new
/// object and for a changed one (an address whose flags or lifetimes
/// changed, a neighbour entry changing state): an `*Added` event for
/// something already known replaces it. Links are told apart
/// ([`Event::LinkAdded`], [`Event::LinkChanged`]), and so are replaced
/// routes ([`Event::RouteReplaced`]).
///
/// What the kernel announces late: an IPv6 address is announced once
/// duplicate address detection is over (a second or two), while dumps list
/// it, tentative, from the start; a snapshot may therefore hold a tentative
/// address whose `AddressAdded` comes later.
///
/// What the kernel does *not* announce: IPv4 routes through a device that
/// goes down or away are flushed without `RTM_DELROUTE` (as `ip monitor`
/// shows); [`Snapshot::apply`] drops the routes, addresses and neighbours
/// of a removed link, but not the routes of a link that went down.
///
/// ```no_run
/// use nslink::monitor::{Event, Monitor, MonitorGroups};
///
/// let mut mon = Monitor::open(MonitorGroups::ROUTE)?;
/// while let Some(n) = mon.next_timeout(Some(std::time::Duration::from_secs(1)))? {
///     if let Event::RouteAdded(r) = n.event {
///         println!("route to {} in table {}", r.dst, r.table);
///     }
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// The state when the monitor started: delivered first.
    Snapshot(Box<Snapshot>),
    /// Notifications were lost: this is the state now, replacing everything
    /// known before. Events that follow apply on top of it.
    Resync {
        /// The fresh state of the monitor's namespace.
        snapshot: Box<Snapshot>,
        /// How many overflows this resync repairs (usually 1).
        overflows: u64,
        /// Whether events of *other* namespaces (with
        /// [`MonitorBuilder::all_netns`]) may have been lost too; their
        /// state is not in `snapshot`.
        other_netns_lost: bool,
    },
    /// A device appeared: made here, or moved in from another namespace
    /// (`RTM_NEWLINK` that the kernel marks as new: every bit of
    /// `ifi_change` set).
    LinkAdded(Link),
    /// A device changed (state, name, MTU, master, …): `RTM_NEWLINK`.
    LinkChanged(Link),
    /// A device went away (deleted, or moved to another namespace):
    /// `RTM_DELLINK`.
    LinkRemoved(Link),
    /// A bridge port's bridge settings changed, or a device became a bridge
    /// port: `RTM_NEWLINK` of family `AF_BRIDGE` (`ip monitor` prints
    /// these as links too). The device itself did not change.
    BridgePortChanged(Link),
    /// A device stopped being a bridge port: `RTM_DELLINK` of family
    /// `AF_BRIDGE`. The device itself is still there.
    BridgePortRemoved(Link),
    /// An address was added, or changed: `RTM_NEWADDR`.
    AddressAdded(Address),
    /// An address was removed: `RTM_DELADDR`.
    AddressRemoved(Address),
    /// A route was added: `RTM_NEWROUTE`.
    RouteAdded(Route),
    /// A route replaced the one with the same destination, table and
    /// metric: `RTM_NEWROUTE` with `NLM_F_REPLACE`.
    RouteReplaced(Route),
    /// A route was removed: `RTM_DELROUTE`.
    RouteRemoved(Route),
    /// A neighbour entry was added or changed state: `RTM_NEWNEIGH`.
    NeighbourAdded(Neighbour),
    /// A neighbour entry was removed: `RTM_DELNEIGH`.
    NeighbourRemoved(Neighbour),
    /// A policy routing rule was added: `RTM_NEWRULE`.
    RuleAdded(RuleMessage),
    /// A policy routing rule was removed: `RTM_DELRULE`.
    RuleRemoved(RuleMessage),
    /// A namespace was given this id here: `RTM_NEWNSID`.
    NsIdAdded(i32),
    /// The namespace with this id is gone (or its id was taken back):
    /// `RTM_DELNSID`.
    NsIdRemoved(i32),
    /// A notification of a followed group that has no typed form here
    /// (a bridge FDB entry, a route of another family, …), fully decoded.
    Other(RouteNetlinkMessage),
}

/// An [`Event`] and where it came from.
///
/// ```no_run
/// use nslink::monitor::{Monitor, MonitorGroups};
///
/// let mut mon = Monitor::builder(MonitorGroups::LINK).all_netns(true).open()?;
/// for n in &mut mon {
///     let n = n?;
///     match n.nsid {
///         None => println!("here: {:?}", n.event),
///         Some(id) => println!("nsid {id}: {:?}", n.event),
///     }
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Notification {
    /// The id, in the monitor's namespace, of the namespace the event
    /// happened in; `None` for the monitor's own namespace (and for
    /// snapshots). Only set with [`MonitorBuilder::all_netns`].
    pub nsid: Option<i32>,
    /// That namespace, when the resolver ([`MonitorBuilder::resolve_nsid`])
    /// knows it.
    pub netns: Option<Arc<NetNs>>,
    /// What happened.
    pub event: Event,
}

/// Maps a namespace id to the namespace, for [`Notification::netns`].
type Resolver = Box<dyn Fn(i32) -> Option<NetNs> + Send>;

/// How to open a [`Monitor`]: [`Monitor::builder`].
///
/// ```no_run
/// use nslink::monitor::{Monitor, MonitorGroups, Overflow};
///
/// let ns = nslink::NetNs::open("lab1")?;
/// let mon = Monitor::builder(MonitorGroups::ALL)
///     .netns(&ns)
///     .receive_buffer(16 << 20)
///     .on_overflow(Overflow::Resync)
///     .open()?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[must_use = "a builder does nothing until open() is called"]
pub struct MonitorBuilder<'a> {
    groups: MonitorGroups,
    netns: Option<&'a NetNs>,
    all_netns: bool,
    receive_buffer: usize,
    overflow: Overflow,
    snapshot: bool,
    resolver: Option<Resolver>,
}

impl fmt::Debug for MonitorBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorBuilder")
            .field("groups", &self.groups)
            .field("netns", &self.netns)
            .field("all_netns", &self.all_netns)
            .field("receive_buffer", &self.receive_buffer)
            .field("overflow", &self.overflow)
            .field("snapshot", &self.snapshot)
            .field("resolver", &self.resolver.is_some())
            .finish()
    }
}

impl<'a> MonitorBuilder<'a> {
    /// Opens the socket inside `ns` (on a worker thread, like
    /// [`RouteSocket::open_in`]; the calling thread never moves) instead of
    /// the calling thread's namespace.
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let ns = nslink::NetNs::open("lab1")?;
    /// let mon = Monitor::builder(MonitorGroups::LINK).netns(&ns).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns(mut self, ns: &'a NetNs) -> Self {
        self.netns = Some(ns);
        self
    }

    /// Also receive the notifications of every namespace with an id in the
    /// monitor's namespace (`NETLINK_LISTEN_ALL_NSID`, netlink(7); Linux
    /// 4.2+), tagged with that id. See the [module docs](self).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::builder(MonitorGroups::LINK).all_netns(true).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn all_netns(mut self, on: bool) -> Self {
        self.all_netns = on;
        self
    }

    /// The socket's receive buffer in bytes (default
    /// [`DEFAULT_RECEIVE_BUFFER`]): `SO_RCVBUFFORCE` when `CAP_NET_ADMIN`
    /// allows, else `SO_RCVBUF`, which the kernel caps at
    /// `net.core.rmem_max` (socket(7)). The kernel doubles the value for
    /// its bookkeeping and has a floor of a few KiB.
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::builder(MonitorGroups::ALL).receive_buffer(32 << 20).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn receive_buffer(mut self, bytes: usize) -> Self {
        self.receive_buffer = bytes;
        self
    }

    /// What to do when notifications are lost (default
    /// [`Overflow::Resync`]).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups, Overflow};
    /// let mon = Monitor::builder(MonitorGroups::LINK).on_overflow(Overflow::Error).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn on_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Whether to start with [`Event::Snapshot`] (default `true`). Without
    /// it the monitor only follows changes, like `ip monitor`; overflows
    /// still resync.
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::builder(MonitorGroups::LINK).snapshot(false).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn snapshot(mut self, on: bool) -> Self {
        self.snapshot = on;
        self
    }

    /// How to find the namespace behind a namespace id, for
    /// [`Notification::netns`] (with [`all_netns`](Self::all_netns)). It is
    /// asked once per id and the answer kept until the id is taken back or
    /// given again (the monitor follows `RTNLGRP_NSID` for that, whether
    /// or not [`MonitorGroups::NSID`] is asked for) or a resync.
    ///
    /// ```no_run
    /// use nslink::monitor::{Monitor, MonitorGroups};
    /// use nslink::NetNs;
    ///
    /// // Which of my namespaces has this id? (A real program would ask the
    /// // kernel, e.g. RTM_GETNSID for each of its namespaces.)
    /// let lab = NetNs::open("lab1")?;
    /// let lab_id = 3;
    /// let mon = Monitor::builder(MonitorGroups::LINK)
    ///     .all_netns(true)
    ///     .resolve_nsid(move |id| if id == lab_id { lab.try_clone().ok() } else { None })
    ///     .open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn resolve_nsid(mut self, f: impl Fn(i32) -> Option<NetNs> + Send + 'static) -> Self {
        self.resolver = Some(Box::new(f));
        self
    }

    /// Opens the monitor: joins the groups, then (unless
    /// [`snapshot(false)`](Self::snapshot)) dumps the current state, queued
    /// as the first event.
    ///
    /// Kernel: socket(2) `AF_NETLINK`/`NETLINK_ROUTE`, bind(2), setsockopt(2)
    /// `NETLINK_ADD_MEMBERSHIP` per group (and `NETLINK_LISTEN_ALL_NSID`,
    /// `SO_RCVBUF[FORCE]`), on a worker inside the namespace if one is
    /// given (needs `CAP_SYS_ADMIN` over it); then a second socket for the
    /// dumps (`RTM_GETLINK`, `RTM_GETADDR`, `RTM_GETROUTE`, `RTM_GETNEIGH`,
    /// `RTM_GETRULE`, `RTM_GETNSID` for the groups followed). No privilege
    /// otherwise.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::OpenMonitor`], or [`Op::RunInNetns`]); the
    /// dump errors.
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::builder(MonitorGroups::LINK).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open(self) -> Result<Monitor> {
        let mut groups = self.groups;
        if self.all_netns && self.resolver.is_some() {
            // The resolver's answers are forgotten when an id changes.
            groups |= MonitorGroups::NSID;
        }
        let (all, rcvbuf) = (self.all_netns, self.receive_buffer);
        let ((sock, port), dumper) = match self.netns {
            Some(ns) => {
                let sock = crate::netns::run_in(ns, Op::OpenMonitor, move || {
                    open_socket(groups, all, rcvbuf)
                })?;
                (sock, RouteSocket::open_in(ns)?)
            }
            None => (open_socket(groups, all, rcvbuf)?, RouteSocket::open()?),
        };
        let mut m = Monitor {
            sock,
            port,
            marker: 0,
            wanted: self.groups,
            all_netns: self.all_netns,
            dumper,
            overflow: self.overflow,
            rx: vec![0; FIRST_RX],
            pending: VecDeque::new(),
            overflows: 0,
            unrepaired: 0,
            resync_due: false,
            socket_empty: false,
            resolver: self.resolver,
            resolved: HashMap::new(),
        };
        if self.snapshot {
            m.settle(false)?;
        }
        Ok(m)
    }
}

/// The object named when the monitor's socket fails.
fn socket_object() -> Object {
    Object::unnamed(ObjectKind::Socket)
}

/// Opens the monitor's socket in the calling thread's namespace.
fn open_socket(groups: MonitorGroups, all_netns: bool, rcvbuf: usize) -> Result<(Socket, u32)> {
    let op = Op::OpenMonitor;
    let err = |e: std::io::Error| Error::io(op, socket_object(), &e);
    let mut sock = Socket::new(NETLINK_ROUTE).map_err(err)?;
    let port = sock.bind_auto().map_err(err)?.port_number();
    sock.set_non_blocking(true).map_err(err)?;
    set_rcvbuf(&sock, rcvbuf)?;
    if all_netns {
        sock.set_listen_all_namespaces(true).map_err(err)?;
    }
    for g in groups.group_numbers() {
        sock.add_membership(g).map_err(err)?;
    }
    Ok((sock, port))
}

/// `SO_RCVBUFFORCE`, or `SO_RCVBUF` when that is not allowed.
fn set_rcvbuf(sock: &Socket, bytes: usize) -> Result<()> {
    match setsockopt(sock, sockopt::RcvBufForce, &bytes) {
        Ok(()) => Ok(()),
        Err(Errno::EPERM) => setsockopt(sock, sockopt::RcvBuf, &bytes)
            .map_err(|e| Error::os(Op::OpenMonitor, socket_object(), e)),
        Err(e) => Err(Error::os(Op::OpenMonitor, socket_object(), e)),
    }
}

/// A subscription to rtnetlink notifications; see the [module docs](self).
///
/// It owns its descriptor (`CLOEXEC`, non-blocking) and a second socket of
/// the same namespace for dumps.
///
/// ```no_run
/// use nslink::monitor::{Event, Monitor, MonitorGroups};
///
/// let ns = nslink::NetNs::open("lab1")?;
/// let mut mon = Monitor::open_in(&ns, MonitorGroups::LINK)?;
/// while let Some(n) = mon.next_timeout(Some(std::time::Duration::from_secs(5)))? {
///     if let Event::LinkChanged(l) = n.event {
///         println!("{} is {}", l.name(), l.operstate());
///     }
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
pub struct Monitor {
    sock: Socket,
    /// The socket's port id (where the kernel sends the marker's ack).
    port: u32,
    /// The sequence number of the last marker sent.
    marker: u32,
    /// The groups the caller asked for.
    wanted: MonitorGroups,
    all_netns: bool,
    dumper: RouteSocket,
    overflow: Overflow,
    /// The datagram buffer (its length is the room offered to recvmsg).
    rx: Vec<u8>,
    pending: VecDeque<Result<Notification>>,
    overflows: u64,
    /// Overflows since the last snapshot.
    unrepaired: u64,
    /// A resync is owed (an overflow, or a resync that failed).
    resync_due: bool,
    /// The last receive found the socket empty (and nothing said since
    /// that it is readable).
    socket_empty: bool,
    resolver: Option<Resolver>,
    resolved: HashMap<i32, Option<Arc<NetNs>>>,
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("fd", &self.sock.as_raw_fd())
            .field("netns", self.dumper.netns())
            .field("groups", &self.wanted)
            .field("all_netns", &self.all_netns)
            .field("overflows", &self.overflows)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// The socket's descriptor, for `poll(2)`, epoll, mio, tokio's `AsyncFd`.
/// It is non-blocking; read events with [`Monitor::try_next`] until it
/// returns `Ok(None)`, then wait for readability again. Do not read from
/// it yourself.
///
/// ```no_run
/// use std::os::fd::AsFd;
/// use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
/// # use nslink::monitor::{Monitor, MonitorGroups};
///
/// let mut mon = Monitor::open(MonitorGroups::LINK)?;
/// loop {
///     while let Some(n) = mon.try_next()? {
///         println!("{:?}", n.event);
///     }
///     poll(&mut [PollFd::new(mon.as_fd(), PollFlags::POLLIN)], PollTimeout::NONE)?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl AsFd for Monitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// The raw descriptor of [`AsFd::as_fd`], with the same rules (tokio's
/// `AsyncFd` wants this one). It is the same descriptor for the monitor's
/// whole life, open until the monitor is dropped.
///
/// ```no_run
/// use std::os::fd::AsRawFd;
/// # use nslink::monitor::{Monitor, MonitorGroups};
/// let mon = Monitor::open(MonitorGroups::LINK)?;
/// assert!(mon.as_raw_fd() >= 0);
/// # Ok::<(), nslink::Error>(())
/// ```
impl AsRawFd for Monitor {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// Blocking iteration: each item waits for the next event; it never ends
/// by itself.
///
/// ```no_run
/// # use nslink::monitor::{Monitor, MonitorGroups};
/// for n in Monitor::open(MonitorGroups::LINK)?.take(10) {
///     println!("{:?}", n?.event);
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
impl Iterator for Monitor {
    type Item = Result<Notification>;

    fn next(&mut self) -> Option<Result<Notification>> {
        self.next_timeout(None).transpose()
    }
}

/// Whether a receive got a datagram or found the queue empty.
enum Filled {
    Datagram,
    Empty,
}

impl Monitor {
    /// A builder for the groups `groups`.
    ///
    /// ```no_run
    /// use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::builder(MonitorGroups::LINK | MonitorGroups::ROUTE).open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn builder<'a>(groups: MonitorGroups) -> MonitorBuilder<'a> {
        MonitorBuilder {
            groups,
            netns: None,
            all_netns: false,
            receive_buffer: DEFAULT_RECEIVE_BUFFER,
            overflow: Overflow::Resync,
            snapshot: true,
            resolver: None,
        }
    }

    /// A monitor of `groups` in the calling thread's namespace, starting
    /// with a snapshot; see [`MonitorBuilder::open`].
    ///
    /// # Errors
    /// As [`MonitorBuilder::open`].
    ///
    /// ```no_run
    /// use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::open(MonitorGroups::ALL)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open(groups: MonitorGroups) -> Result<Monitor> {
        Monitor::builder(groups).open()
    }

    /// A monitor of `groups` inside `ns`, starting with a snapshot; see
    /// [`MonitorBuilder::open`].
    ///
    /// # Errors
    /// As [`MonitorBuilder::open`].
    ///
    /// ```no_run
    /// use nslink::monitor::{Monitor, MonitorGroups};
    /// let ns = nslink::NetNs::open("lab1")?;
    /// let mon = Monitor::open_in(&ns, MonitorGroups::ALL)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open_in(ns: &NetNs, groups: MonitorGroups) -> Result<Monitor> {
        Monitor::builder(groups).netns(ns).open()
    }

    /// The namespace the monitor follows.
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let ns = nslink::NetNs::new()?;
    /// let mon = Monitor::open_in(&ns, MonitorGroups::LINK)?;
    /// assert_eq!(mon.netns(), &ns);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns(&self) -> &NetNs {
        self.dumper.netns()
    }

    /// The groups followed (as asked for).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::open(MonitorGroups::LINK)?;
    /// assert_eq!(mon.groups(), MonitorGroups::LINK);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn groups(&self) -> MonitorGroups {
        self.wanted
    }

    /// How many times the kernel reported lost notifications (`ENOBUFS`)
    /// on this monitor, or a datagram did not fit.
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::open(MonitorGroups::LINK)?;
    /// assert_eq!(mon.overflows(), 0);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// Sets the receive buffer (see [`MonitorBuilder::receive_buffer`]).
    ///
    /// Kernel: setsockopt(2) `SO_RCVBUFFORCE`, or `SO_RCVBUF` without
    /// `CAP_NET_ADMIN` (capped at `net.core.rmem_max`), socket(7).
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::OpenMonitor`]).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::open(MonitorGroups::LINK)?;
    /// mon.set_receive_buffer(1 << 20)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_receive_buffer(&self, bytes: usize) -> Result<()> {
        set_rcvbuf(&self.sock, bytes)
    }

    /// The receive buffer as the kernel holds it (twice the size set, see
    /// socket(7)).
    ///
    /// Kernel: getsockopt(2) `SO_RCVBUF`.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::OpenMonitor`]).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mon = Monitor::open(MonitorGroups::LINK)?;
    /// println!("{} bytes", mon.receive_buffer()?);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn receive_buffer(&self) -> Result<usize> {
        getsockopt(&self.sock, sockopt::RcvBuf)
            .map_err(|e| Error::os(Op::OpenMonitor, socket_object(), e))
    }

    /// Waits for the next event, at most `timeout` (`None`: no limit);
    /// `Ok(None)` when the time is up.
    ///
    /// Kernel: poll(2) and recvmsg(2) (netlink(7)); a resync, when one is
    /// due, runs the dumps of [`MonitorBuilder::open`].
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::ReceiveEvents`]), `ENOBUFS` with
    /// [`Overflow::Error`]; [`Error::Decode`] for a notification that does
    /// not decode (the monitor goes on); the dump errors of a resync (it is
    /// tried again on the next call).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mut mon = Monitor::open(MonitorGroups::LINK)?;
    /// match mon.next_timeout(Some(std::time::Duration::from_millis(100)))? {
    ///     Some(n) => println!("{:?}", n.event),
    ///     None => println!("quiet"),
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Option<Duration>) -> Result<Option<Notification>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            // Receive only when something may be there: after the last
            // receive found the socket empty, wait for it first (one system
            // call less per event when events trickle in).
            if (!self.pending.is_empty() || self.resync_due || !self.socket_empty)
                && let Some(n) = self.try_next()?
            {
                return Ok(Some(n));
            }
            let ms = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    // Round up, so that the wait is never shorter than asked.
                    i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
                }
            };
            match crate::sys::poll_readable(self.sock.as_fd(), ms) {
                Ok(_) | Err(Errno::EINTR) => self.socket_empty = false,
                Err(e) => return Err(Error::os(Op::ReceiveEvents, socket_object(), e)),
            }
        }
    }

    /// The next event if one is ready, without waiting: `Ok(None)` when the
    /// socket has nothing (wait for it to become readable then).
    ///
    /// Kernel: recvmsg(2) with `MSG_DONTWAIT`; a resync, when one is due,
    /// runs the dumps of [`MonitorBuilder::open`] (and blocks meanwhile).
    ///
    /// # Errors
    /// As [`next_timeout`](Self::next_timeout).
    ///
    /// ```no_run
    /// # use nslink::monitor::{Monitor, MonitorGroups};
    /// let mut mon = Monitor::open(MonitorGroups::LINK)?;
    /// while let Some(n) = mon.try_next()? {
    ///     println!("{:?}", n.event);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn try_next(&mut self) -> Result<Option<Notification>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return item.map(Some);
            }
            if self.resync_due {
                self.resync_now()?;
                continue;
            }
            match self.fill()? {
                Filled::Datagram => continue,
                Filled::Empty => return Ok(None),
            }
        }
    }

    /// Reads the state again now: discards what the socket has queued (all
    /// of it older than the dump), dumps, and queues [`Event::Resync`]
    /// after the events already read. For [`Overflow::Error`] users after an
    /// overflow, or whenever a fresh picture is wanted.
    ///
    /// Kernel: recvmsg(2) until the queue is empty, then the dumps of
    /// [`MonitorBuilder::open`].
    ///
    /// # Errors
    /// The dump errors (the resync is then tried again on the next
    /// [`try_next`](Self::try_next)).
    ///
    /// ```no_run
    /// use nslink::monitor::{Monitor, MonitorGroups, Overflow};
    ///
    /// let mut mon = Monitor::builder(MonitorGroups::LINK).on_overflow(Overflow::Error).open()?;
    /// loop {
    ///     match mon.next() {
    ///         Some(Err(e)) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => mon.resync()?,
    ///         Some(n) => println!("{:?}", n?.event),
    ///         None => break,
    ///     }
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn resync(&mut self) -> Result<()> {
        self.resync_due = true;
        self.resync_now()
    }

    /// Discards the queue, dumps, queues the `Resync` event.
    fn resync_now(&mut self) -> Result<()> {
        self.resync_due = true;
        self.settle(true)?;
        self.resync_due = false;
        Ok(())
    }

    /// Dumps the state, settles it with the notifications that overlap the
    /// dump (see the [module docs](self)) and queues it: as
    /// [`Event::Resync`] if `resync`, else as [`Event::Snapshot`]. Starts
    /// over (after draining the queue) while notifications are lost
    /// meanwhile, at most [`SETTLE_ATTEMPTS`] times.
    fn settle(&mut self, resync: bool) -> Result<()> {
        for attempt in 0..SETTLE_ATTEMPTS {
            if resync || attempt > 0 {
                self.drain()?;
            }
            let mut snapshot = self.dump()?;
            let Some(after) = self.settle_window(&mut snapshot)? else { continue };
            let snapshot = Box::new(snapshot);
            let event = if resync {
                self.resolved.clear();
                let overflows = std::mem::take(&mut self.unrepaired);
                Event::Resync { snapshot, overflows, other_netns_lost: self.all_netns }
            } else {
                self.unrepaired = 0;
                Event::Snapshot(snapshot)
            };
            self.pending.push_back(Ok(Notification { nsid: None, netns: None, event }));
            self.pending.extend(after);
            return Ok(());
        }
        // The kernel kept dropping notifications: say so with its errno.
        Err(Error::kernel(Op::ResyncMonitor, socket_object(), libc::ENOBUFS, None))
    }

    /// Sends the marker (an acknowledged `NLMSG_NOOP`) and applies every
    /// notification of this namespace queued before its acknowledgement to
    /// `snapshot`; returns the other namespaces' notifications (and decode
    /// errors) of that stretch, or `None` if notifications were lost.
    fn settle_window(
        &mut self,
        snapshot: &mut Snapshot,
    ) -> Result<Option<Vec<Result<Notification>>>> {
        self.marker = self.marker.wrapping_add(1);
        let seq = self.marker;
        let mut header = NetlinkHeader::default();
        header.length = 16;
        header.message_type = NLMSG_NOOP;
        header.flags = NLM_F_REQUEST | NLM_F_ACK;
        header.sequence_number = seq;
        let mut buf = [0u8; 16];
        header.emit(&mut buf);
        let kernel = netlink_sys::SocketAddr::new(0, 0);
        self.sock
            .send_to(&buf, &kernel, 0)
            .map_err(|e| Error::io(Op::ResyncMonitor, socket_object(), &e))?;
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        let mut out = Vec::new();
        loop {
            let got = match crate::sys::recv_netlink(self.sock.as_fd(), &mut self.rx) {
                Ok(d) => d,
                Err(Errno::EINTR) => continue,
                Err(Errno::ENOBUFS) => {
                    self.overflows += 1;
                    self.unrepaired += 1;
                    return Ok(None);
                }
                Err(Errno::EAGAIN) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::Timeout {
                            op: Op::ResyncMonitor,
                            timeout: SETTLE_TIMEOUT,
                        });
                    }
                    let ms = i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX);
                    match crate::sys::poll_readable(self.sock.as_fd(), ms) {
                        Ok(_) | Err(Errno::EINTR) => continue,
                        Err(e) => return Err(Error::os(Op::ResyncMonitor, socket_object(), e)),
                    }
                }
                Err(e) => return Err(Error::os(Op::ResyncMonitor, socket_object(), e)),
            };
            if got.len > self.rx.len() {
                self.grow_rx(got.len);
                self.overflows += 1;
                self.unrepaired += 1;
                return Ok(None);
            }
            if got.port != 0 {
                continue;
            }
            let mut acked = None;
            let rx = std::mem::take(&mut self.rx);
            for m in frames(&rx[..got.len]) {
                let m = match m {
                    Ok(m) => m,
                    Err(detail) => {
                        out.push(Err(Error::Decode { op: Op::ReceiveEvents, detail }));
                        break;
                    }
                };
                if m.header.message_type == NLMSG_ERROR
                    && m.header.port_number == self.port
                    && m.header.sequence_number == seq
                {
                    let code = m
                        .payload
                        .get(..4)
                        .and_then(|b| b.try_into().ok())
                        .map_or(0, i32::from_ne_bytes);
                    acked = Some(code);
                    continue;
                }
                match decode(&m.header, m.payload) {
                    Ok(Some(event)) => {
                        if got.nsid.is_none() {
                            if let Event::NsIdAdded(id) | Event::NsIdRemoved(id) = &event {
                                self.resolved.remove(id);
                                if !self.wanted.contains(MonitorGroups::NSID) {
                                    continue;
                                }
                            }
                            snapshot.apply_event(&event);
                        } else if let Some(n) = self.notification(got.nsid, event) {
                            out.push(Ok(n));
                        }
                    }
                    Ok(None) => {}
                    Err(detail) => out.push(Err(Error::Decode { op: Op::ReceiveEvents, detail })),
                }
            }
            self.rx = rx;
            match acked {
                None => {}
                Some(0) => return Ok(Some(out)),
                Some(code) => {
                    return Err(Error::kernel(
                        Op::ResyncMonitor,
                        socket_object(),
                        code.saturating_neg(),
                        None,
                    ));
                }
            }
        }
    }

    /// Makes room for a datagram of `len` bytes.
    fn grow_rx(&mut self, len: usize) {
        let room = len.next_power_of_two().max(self.rx.len() * 2);
        self.rx.resize(room, 0);
    }

    /// Reads and drops every queued datagram: they all predate the gap (the
    /// kernel queues nothing more until the queue is empty) or the dump
    /// about to be made.
    fn drain(&mut self) -> Result<()> {
        loop {
            match crate::sys::recv_netlink(self.sock.as_fd(), &mut self.rx) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(Errno::ENOBUFS) => {
                    self.overflows += 1;
                    self.unrepaired += 1;
                }
                Err(Errno::EAGAIN) => return Ok(()),
                Err(e) => return Err(Error::os(Op::ReceiveEvents, socket_object(), e)),
            }
        }
    }

    /// Dumps the state of the groups followed.
    fn dump(&self) -> Result<Snapshot> {
        let g = self.wanted;
        let nl = &self.dumper;
        let mut s = Snapshot::default();
        if g.contains(MonitorGroups::LINK) {
            s.links = nl.links()?;
        }
        if g.intersects(MonitorGroups::ADDRESS) {
            s.addresses = nl.addresses()?;
            s.addresses.retain(|a| {
                g.contains(if a.net.is_ipv4() {
                    MonitorGroups::IPV4_ADDRESS
                } else {
                    MonitorGroups::IPV6_ADDRESS
                })
            });
        }
        if g.intersects(MonitorGroups::ROUTE) {
            s.routes = nl.routes()?;
            s.routes.retain(|r| {
                g.contains(if r.dst.is_ipv4() {
                    MonitorGroups::IPV4_ROUTE
                } else {
                    MonitorGroups::IPV6_ROUTE
                })
            });
        }
        if g.contains(MonitorGroups::NEIGHBOUR) {
            s.neighbours = nl.neighbours()?;
        }
        for (flag, family) in [
            (MonitorGroups::IPV4_RULE, AddressFamily::Inet),
            (MonitorGroups::IPV6_RULE, AddressFamily::Inet6),
        ] {
            if g.contains(flag) {
                let mut req = RuleMessage::default();
                req.header.family = family;
                for m in nl.dump(Op::ResyncMonitor, RouteNetlinkMessage::GetRule(req))? {
                    if let RouteNetlinkMessage::NewRule(r) = m {
                        s.rules.push(r);
                    }
                }
            }
        }
        if g.contains(MonitorGroups::NSID) {
            let req = RouteNetlinkMessage::GetNsId(NsidMessage::default());
            for m in nl.dump(Op::ResyncMonitor, req)? {
                if let RouteNetlinkMessage::NewNsId(n) = m
                    && let Some(id) = nsid_of(&n)
                {
                    s.nsids.push(id);
                }
            }
        }
        Ok(s)
    }

    /// Receives one datagram and queues its events.
    fn fill(&mut self) -> Result<Filled> {
        let got = loop {
            match crate::sys::recv_netlink(self.sock.as_fd(), &mut self.rx) {
                Ok(d) => {
                    self.socket_empty = false;
                    break d;
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => {
                    self.socket_empty = true;
                    return Ok(Filled::Empty);
                }
                Err(Errno::ENOBUFS) => {
                    let e = Error::os(Op::ReceiveEvents, socket_object(), Errno::ENOBUFS);
                    self.lost(e)?;
                    return Ok(Filled::Datagram);
                }
                Err(e) => return Err(Error::os(Op::ReceiveEvents, socket_object(), e)),
            }
        };
        if got.len > self.rx.len() {
            // The datagram was cut: what it held is lost. Make room for the
            // next one and treat it as an overflow (reported as what it is:
            // the kernel returned no error).
            self.grow_rx(got.len);
            let truncated = Error::Protocol {
                op: Op::ReceiveEvents,
                kind: ProtocolError::Truncated { len: got.len },
            };
            self.lost(truncated)?;
            return Ok(Filled::Datagram);
        }
        if got.port != 0 {
            // Not from the kernel (user space cannot send to rtnetlink
            // groups, but a peer could send to our port): ignore it.
            return Ok(Filled::Datagram);
        }
        let rx = std::mem::take(&mut self.rx);
        self.decode_datagram(&rx[..got.len], got.nsid);
        self.rx = rx;
        Ok(Filled::Datagram)
    }

    /// Notifications were lost: count it, then resync or report `error`.
    fn lost(&mut self, error: Error) -> Result<()> {
        self.overflows += 1;
        self.unrepaired += 1;
        match self.overflow {
            Overflow::Resync => {
                self.resync_due = true;
                Ok(())
            }
            Overflow::Error => Err(error),
        }
    }

    /// Decodes every message of one datagram into `pending`.
    fn decode_datagram(&mut self, datagram: &[u8], nsid: Option<i32>) {
        for m in frames(datagram) {
            let m = match m {
                Ok(m) => m,
                Err(detail) => {
                    self.pending.push_back(Err(Error::Decode { op: Op::ReceiveEvents, detail }));
                    return;
                }
            };
            let event = match decode(&m.header, m.payload) {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(detail) => {
                    self.pending.push_back(Err(Error::Decode { op: Op::ReceiveEvents, detail }));
                    continue;
                }
            };
            if let Some(n) = self.notification(nsid, event) {
                self.pending.push_back(Ok(n));
            }
        }
    }

    /// The notification of `event` from `nsid`; `None` for a namespace id
    /// change followed only for the resolver's sake.
    fn notification(&mut self, nsid: Option<i32>, event: Event) -> Option<Notification> {
        if let (None, Event::NsIdAdded(id) | Event::NsIdRemoved(id)) = (nsid, &event) {
            self.resolved.remove(id);
            if !self.wanted.contains(MonitorGroups::NSID) {
                return None;
            }
        }
        let netns = nsid.and_then(|id| self.resolve(id));
        Some(Notification { nsid, netns, event })
    }

    /// The namespace of `nsid`, through the resolver and its cache.
    fn resolve(&mut self, nsid: i32) -> Option<Arc<NetNs>> {
        let f = self.resolver.as_ref()?;
        self.resolved.entry(nsid).or_insert_with(|| f(nsid).map(Arc::new)).clone()
    }
}

/// `ifinfomsg.ifi_change` of a link notification for a device that is new
/// to the namespace: the kernel sets every bit (`rtmsg_ifinfo(RTM_NEWLINK,
/// dev, ~0U, …)` on registration and after a namespace move).
const IFI_CHANGE_NEW: u32 = u32::MAX;

/// One notification as an event; `Ok(None)` for control messages.
pub(crate) fn decode(
    h: &NetlinkHeader,
    payload: &[u8],
) -> std::result::Result<Option<Event>, String> {
    let t = h.message_type;
    match t {
        NLMSG_NOOP | NLMSG_DONE | NLMSG_ERROR | NLMSG_OVERRUN => return Ok(None),
        libc::RTM_NEWLINK | libc::RTM_DELLINK => {
            let family = payload.first().copied().unwrap_or(0);
            let change = payload
                .get(offset_of!(libc::ifinfomsg, ifi_change)..)
                .and_then(|b| b.get(..4))
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_ne_bytes);
            let link = Link::from_bytes(payload)?;
            let bridge = i32::from(family) == libc::AF_BRIDGE;
            return Ok(Some(match (t, bridge) {
                (libc::RTM_DELLINK, true) => Event::BridgePortRemoved(link),
                (_, true) => Event::BridgePortChanged(link),
                (libc::RTM_DELLINK, false) => Event::LinkRemoved(link),
                _ if change == IFI_CHANGE_NEW => Event::LinkAdded(link),
                _ => Event::LinkChanged(link),
            }));
        }
        _ => {}
    }
    use RouteNetlinkMessage as M;
    let msg = crate::netlink::screen::route_message(h, payload)?;
    Ok(Some(match msg {
        M::NewAddress(m) => match Address::from_message(m.clone()) {
            Some(a) => Event::AddressAdded(a),
            None => Event::Other(M::NewAddress(m)),
        },
        M::DelAddress(m) => match Address::from_message(m.clone()) {
            Some(a) => Event::AddressRemoved(a),
            None => Event::Other(M::DelAddress(m)),
        },
        M::NewRoute(m) => match Route::from_message(m.clone()) {
            Some(r) if h.flags & NLM_F_REPLACE != 0 => Event::RouteReplaced(r),
            Some(r) => Event::RouteAdded(r),
            None => Event::Other(M::NewRoute(m)),
        },
        M::DelRoute(m) => match Route::from_message(m.clone()) {
            Some(r) => Event::RouteRemoved(r),
            None => Event::Other(M::DelRoute(m)),
        },
        M::NewNeighbour(m) => match Neighbour::from_message(&m) {
            Some(n) => Event::NeighbourAdded(n),
            None => Event::Other(M::NewNeighbour(m)),
        },
        M::DelNeighbour(m) => match Neighbour::from_message(&m) {
            Some(n) => Event::NeighbourRemoved(n),
            None => Event::Other(M::DelNeighbour(m)),
        },
        M::NewRule(r) => Event::RuleAdded(r),
        M::DelRule(r) => Event::RuleRemoved(r),
        M::NewNsId(n) => match nsid_of(&n) {
            Some(id) => Event::NsIdAdded(id),
            None => Event::Other(M::NewNsId(n)),
        },
        M::DelNsId(n) => match nsid_of(&n) {
            Some(id) => Event::NsIdRemoved(id),
            None => Event::Other(M::DelNsId(n)),
        },
        other => Event::Other(other),
    }))
}

/// The `NETNSA_NSID` of a namespace id message.
fn nsid_of(m: &NsidMessage) -> Option<i32> {
    m.attributes.iter().find_map(|a| match a {
        NsidAttribute::Id(id) => Some(*id),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_bits_are_the_legacy_rtmgrp_bits() {
        assert_eq!(MonitorGroups::LINK.bits(), 1);
        assert_eq!(MonitorGroups::NEIGHBOUR.bits(), 4);
        assert_eq!(MonitorGroups::IPV4_ADDRESS.bits(), 0x10);
        assert_eq!(MonitorGroups::IPV4_ROUTE.bits(), 0x40);
        assert_eq!(MonitorGroups::IPV6_ADDRESS.bits(), 0x100);
        assert_eq!(MonitorGroups::IPV6_ROUTE.bits(), 0x400);
        let numbers: Vec<u32> = MonitorGroups::ALL.group_numbers().collect();
        assert_eq!(
            numbers,
            [
                libc::RTNLGRP_LINK,
                libc::RTNLGRP_NEIGH,
                libc::RTNLGRP_IPV4_IFADDR,
                libc::RTNLGRP_IPV4_ROUTE,
                libc::RTNLGRP_IPV4_RULE,
                libc::RTNLGRP_IPV6_IFADDR,
                libc::RTNLGRP_IPV6_ROUTE,
                libc::RTNLGRP_IPV6_RULE,
                libc::RTNLGRP_NSID,
            ]
        );
    }

    #[test]
    fn malformed_notifications_are_errors_never_panics() {
        let mut h = NetlinkHeader::default();
        h.message_type = libc::RTM_NEWLINK;
        assert!(decode(&h, &[]).is_err());
        assert!(decode(&h, &[0; 3]).is_err());
        h.message_type = libc::RTM_NEWADDR;
        assert!(decode(&h, &[1, 2]).is_err());
        h.message_type = NLMSG_NOOP;
        assert!(matches!(decode(&h, &[]), Ok(None)));
    }
}
