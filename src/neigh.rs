//! The neighbour (ARP / NDP) table of a namespace (`ip neigh`,
//! ip-neighbour(8); the `RTM_NEWNEIGH`/`RTM_DELNEIGH`/`RTM_GETNEIGH`
//! messages of rtnetlink(7)).
//!
//! Worth knowing when building many namespaces on one machine: the kernel's
//! neighbour tables are shared by all namespaces, and once they hold
//! `gc_thresh3` entries (1024 by default) in total, recently used entries
//! cannot be evicted and new ones fail with `ENOBUFS`, on the host too.
//! [`RouteSocket::flush_neighbours`] frees a namespace's share at once;
//! permanent entries ([`RouteSocket::add_neighbour`]) do not count against
//! the limit.

use std::fmt;
use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Object, ObjectKind, Op, Result};
use crate::link::{IntoLinkId, MacAddr};
use crate::netlink::{RouteSocket, walk};
use crate::route::kernel_enum;
use nix::libc;

kernel_enum! {
    /// The state of a neighbour entry (`ndm_state`, the `NUD_*` values of
    /// rtnetlink(7), `nud` in ip-neighbour(8)). Prints in capitals, as
    /// `ip neigh show` does; parses in any case.
    ///
    /// ```
    /// use nslink::neigh::NeighbourState;
    ///
    /// assert_eq!("permanent".parse::<NeighbourState>()?, NeighbourState::Permanent);
    /// assert_eq!(NeighbourState::Stale.to_string(), "STALE");
    /// assert_eq!(NeighbourState::from(0x80u16), NeighbourState::Permanent);
    /// assert_eq!(NeighbourState::Other(0x300).to_string(), "768");
    /// # Ok::<(), nslink::route::ParseKeywordError>(())
    /// ```
    pub enum NeighbourState: u16 as NeighbourState {
        /// `NUD_NONE` (0): no state yet.
        None = 0x00, "NONE";
        /// `NUD_INCOMPLETE`: address resolution is in progress.
        Incomplete = 0x01, "INCOMPLETE";
        /// `NUD_REACHABLE`: confirmed recently.
        Reachable = 0x02, "REACHABLE";
        /// `NUD_STALE`: usable, but to be confirmed when next used.
        Stale = 0x04, "STALE";
        /// `NUD_DELAY`: waiting a little before probing.
        Delay = 0x08, "DELAY";
        /// `NUD_PROBE`: being probed.
        Probe = 0x10, "PROBE";
        /// `NUD_FAILED`: resolution failed.
        Failed = 0x20, "FAILED";
        /// `NUD_NOARP`: valid, never resolved nor expired (hidden by plain
        /// `ip neigh show`; `ip neigh show nud all` lists it).
        Noarp = 0x40, "NOARP";
        /// `NUD_PERMANENT`: set by the administrator, never expires.
        Permanent = 0x80, "PERMANENT";
    }
}

impl From<NeighbourState> for netlink_packet_route::neighbour::NeighbourState {
    fn from(s: NeighbourState) -> Self {
        s.value().into()
    }
}
impl From<netlink_packet_route::neighbour::NeighbourState> for NeighbourState {
    fn from(s: netlink_packet_route::neighbour::NeighbourState) -> Self {
        NeighbourState::from_value(s.into())
    }
}

bitflags::bitflags! {
    /// The flags of a neighbour entry (`ndm_flags`, the `NTF_*` values of
    /// rtnetlink(7)). Bits without a name here are kept.
    ///
    /// ```
    /// use nslink::neigh::NeighbourFlags;
    ///
    /// assert_eq!(NeighbourFlags::ROUTER.to_string(), "router");
    /// assert_eq!(NeighbourFlags::from_bits_retain(0x90).to_string(), "extern_learn router");
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct NeighbourFlags: u8 {
        /// `NTF_USE`: the entry is in use (a request flag).
        const USE = 0x01;
        /// `NTF_SELF`: the device's own table (bridge FDB).
        const SELF = 0x02;
        /// `NTF_MASTER`: the master device's table (bridge FDB).
        const MASTER = 0x04;
        /// `NTF_PROXY`: a proxy ARP / NDP entry (`ip neigh add proxy`).
        const PROXY = 0x08;
        /// `NTF_EXT_LEARNED`: learned by an external agent
        /// (`extern_learn`).
        const EXT_LEARNED = 0x10;
        /// `NTF_OFFLOADED`: offloaded to hardware.
        const OFFLOADED = 0x20;
        /// `NTF_STICKY`: may not move to another port (bridge FDB).
        const STICKY = 0x40;
        /// `NTF_ROUTER`: the neighbour is an IPv6 router (`router`).
        const ROUTER = 0x80;
        // Bits a newer kernel may set are kept.
        const _ = !0;
    }
}

impl fmt::Display for NeighbourFlags {
    /// The words `ip neigh` uses, separated by spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WORDS: [(NeighbourFlags, &str); 8] = [
            (NeighbourFlags::USE, "use"),
            (NeighbourFlags::SELF, "self"),
            (NeighbourFlags::MASTER, "master"),
            (NeighbourFlags::PROXY, "proxy"),
            (NeighbourFlags::EXT_LEARNED, "extern_learn"),
            (NeighbourFlags::OFFLOADED, "offload"),
            (NeighbourFlags::STICKY, "sticky"),
            (NeighbourFlags::ROUTER, "router"),
        ];
        let words: Vec<&str> =
            WORDS.iter().filter(|(flag, _)| self.contains(*flag)).map(|(_, w)| *w).collect();
        f.pad(&words.join(" "))
    }
}

/// One neighbour entry, as `ip neigh show nud all` shows it.
///
/// ```no_run
/// use nslink::NeighbourState;
/// let nl = nslink::RouteSocket::open()?;
/// for n in nl.neighbours()?.into_iter().filter(|n| n.state == NeighbourState::Reachable) {
///     println!("{} is at {:?}", n.ip, n.mac);
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Neighbour {
    /// The link it belongs to.
    pub index: u32,
    /// The neighbour's IP address.
    pub ip: IpAddr,
    /// Its hardware address, once resolved.
    pub mac: Option<MacAddr>,
    /// The entry's state.
    pub state: NeighbourState,
    /// The entry's flags (`router`, `extern_learn`, …).
    pub flags: NeighbourFlags,
}

impl Neighbour {
    /// The IPv4 or IPv6 entry an `RTM_NEWNEIGH`/`RTM_DELNEIGH` message
    /// describes (`None` for other families, e.g. bridge FDB entries); also
    /// used by the monitor's events.
    pub(crate) fn from_message(m: &NeighbourMessage) -> Option<Neighbour> {
        let mut ip = None;
        let mut mac = None;
        for a in &m.attributes {
            match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                    ip = Some(IpAddr::V4(*v4))
                }
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                    ip = Some(IpAddr::V6(*v6))
                }
                NeighbourAttribute::LinkLayerAddress(b) => mac = MacAddr::from_bytes(b),
                _ => {}
            }
        }
        Some(Neighbour {
            index: m.header.ifindex,
            ip: ip?,
            mac,
            state: m.header.state.into(),
            flags: NeighbourFlags::from_bits_retain(m.header.flags.bits()),
        })
    }
}

impl Neighbour {
    /// The lean decoder of an `RTM_NEWNEIGH` payload (`struct ndmsg` and
    /// attributes; see [`walk`](crate::netlink::walk)): the same
    /// [`Neighbour`] as [`from_message`](Neighbour::from_message) after a
    /// full `netlink-packet-route` decode, reading only what it keeps.
    /// `Ok(None)` where that gives no entry (a family other than IPv4 and
    /// IPv6, no `NDA_DST`).
    pub(crate) fn from_bytes(payload: &[u8]) -> Result<Option<Neighbour>, String> {
        let (h, attrs) = walk::split::<12>("neighbour message", payload)?;
        let Some(v4) = walk::inet_family(h[0]) else {
            return Ok(None);
        };
        let (mut ip, mut mac) = (None, None);
        for a in attrs {
            let (kind, v) = a?;
            match kind {
                libc::NDA_DST => ip = Some(walk::ip_of_family(kind, v, v4)?),
                libc::NDA_LLADDR => mac = MacAddr::from_bytes(v),
                _ => {}
            }
        }
        Ok(ip.map(|ip| Neighbour {
            index: walk::u32_at(h, 4),
            ip,
            mac,
            state: NeighbourState::from_value(walk::u16_at(h, 8)),
            flags: NeighbourFlags::from_bits_retain(h[10]),
        }))
    }
}

fn message(index: u32, ip: IpAddr) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = if ip.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    m.header.ifindex = index;
    m.attributes.push(NeighbourAttribute::Destination(match ip {
        IpAddr::V4(a) => NeighbourAddress::Inet(a),
        IpAddr::V6(a) => NeighbourAddress::Inet6(a),
    }));
    m
}

impl RouteSocket {
    /// Every IPv4 and IPv6 neighbour entry of the namespace, in every state,
    /// like `ip neigh show nud all`.
    ///
    /// Kernel: an `RTM_GETNEIGH` dump (rtnetlink(7); ip-neighbour(8)
    /// `show`), each message decoded as its datagram arrives (only the
    /// fields [`Neighbour`] has are read). No privilege.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for n in nslink::RouteSocket::open()?.neighbours()? {
    ///     println!("{:<16} {:?} {}", n.ip, n.mac, n.state);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip neigh show")]
    #[doc(alias = "RTM_GETNEIGH")]
    pub fn neighbours(&self) -> Result<Vec<Neighbour>> {
        let req = RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default());
        self.dump_with(
            Op::ListNeighbours,
            req,
            &walk::decoder(libc::RTM_NEWNEIGH, Neighbour::from_bytes, |_| true),
        )
    }

    /// The IPv4 and IPv6 neighbour entries of one link, in every state,
    /// like `ip neigh show dev LINK nud all`.
    ///
    /// Kernel: an `RTM_GETNEIGH` dump carrying `NDA_IFINDEX`, which the
    /// kernel answers with that link's entries only (rtnetlink(7);
    /// ip-neighbour(8) `show dev`; checked strictly with
    /// `NETLINK_GET_STRICT_CHK`, netlink(7)), after a lookup of a link
    /// given by name (one more round trip). Entries of other links that a
    /// kernel without the filter sends are dropped here. No privilege; the
    /// cost grows with the link's entries, not the namespace's.
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) with `ENODEV` for a missing link
    /// given by name (an index of no link gives no entries); the exchange
    /// errors.
    ///
    /// ```no_run
    /// for n in nslink::RouteSocket::open()?.link_neighbours("eth0")? {
    ///     println!("{:<16} {:?} {}", n.ip, n.mac, n.state);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip neigh show dev")]
    pub fn link_neighbours(&self, link: impl IntoLinkId) -> Result<Vec<Neighbour>> {
        let op = Op::ListNeighbours;
        let index = self.resolve_index(op, &link.into_link_id()?)?;
        let mut m = NeighbourMessage::default();
        m.attributes.push(NeighbourAttribute::IfIndex(index));
        self.dump_with(
            op,
            RouteNetlinkMessage::GetNeighbour(m),
            &walk::decoder(libc::RTM_NEWNEIGH, Neighbour::from_bytes, |n| n.index == index),
        )
    }

    /// Adds or replaces a permanent entry, like
    /// `ip neigh replace IP lladdr MAC dev LINK nud permanent`; see
    /// [`replace_neighbour`](Self::replace_neighbour).
    ///
    /// Kernel: as [`replace_neighbour`](Self::replace_neighbour), with
    /// `NUD_PERMANENT`. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) with `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_neighbour("eth0", "10.244.1.1".parse().unwrap(), "02:42:0a:f4:01:01".parse()?)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip neigh replace")]
    pub fn add_neighbour(&self, link: impl IntoLinkId, ip: IpAddr, mac: MacAddr) -> Result<()> {
        self.replace_neighbour(link, ip, mac, NeighbourState::Permanent)
    }

    /// Adds or replaces an entry in `state`, like
    /// `ip neigh replace IP lladdr MAC dev LINK nud STATE`.
    ///
    /// Kernel: `RTM_NEWNEIGH` with `NLM_F_CREATE|NLM_F_REPLACE`, `NDA_DST`
    /// and `NDA_LLADDR` (rtnetlink(7); ip-neighbour(8) `replace`). Needs
    /// `CAP_NET_ADMIN`. A link given by name is looked up first (one more
    /// round trip).
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) with `ENODEV` for a missing link,
    /// `EINVAL` for a state the kernel refuses.
    ///
    /// ```no_run
    /// use nslink::neigh::NeighbourState;
    /// let nl = nslink::RouteSocket::open()?;
    /// let gw = "10.244.1.1".parse().unwrap();
    /// nl.replace_neighbour("eth0", gw, "02:42:0a:f4:01:01".parse()?, NeighbourState::Stale)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "RTM_NEWNEIGH")]
    pub fn replace_neighbour(
        &self,
        link: impl IntoLinkId,
        ip: IpAddr,
        mac: MacAddr,
        state: NeighbourState,
    ) -> Result<()> {
        let op = Op::AddNeighbour;
        let link = link.into_link_id()?;
        let index = self.resolve_index(op, &link)?;
        let mut m = message(index, ip);
        m.header.state = state.into();
        m.attributes.push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
        self.request(
            op,
            || neighbour_object(ip, &link),
            RouteNetlinkMessage::NewNeighbour(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Deletes one entry, like `ip neigh del IP dev LINK`.
    ///
    /// Kernel: `RTM_DELNEIGH` with `NDA_DST` (rtnetlink(7); ip-neighbour(8)
    /// `delete`). Needs `CAP_NET_ADMIN`. A link given by name is looked up
    /// first (one more round trip).
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) with `ENOENT` when there is no such
    /// entry.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.delete_neighbour("eth0", "10.244.1.1".parse().unwrap())?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip neigh del")]
    pub fn delete_neighbour(&self, link: impl IntoLinkId, ip: IpAddr) -> Result<()> {
        let op = Op::DeleteNeighbour;
        let link = link.into_link_id()?;
        let index = self.resolve_index(op, &link)?;
        self.request(
            op,
            || neighbour_object(ip, &link),
            RouteNetlinkMessage::DelNeighbour(message(index, ip)),
            0,
        )
        .map(drop)
    }

    /// Deletes every entry that is not permanent (of every link of the
    /// namespace), like `ip neigh flush all`, in one batch of requests.
    /// Returns how many were deleted.
    ///
    /// Kernel: an `RTM_GETNEIGH` dump, then one `RTM_DELNEIGH` per entry,
    /// sent 128 to a datagram (rtnetlink(7); ip-neighbour(8) `flush`):
    /// 1 + ⌈N/128⌉ round trips for N entries. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// The exchange errors; entries that vanished meanwhile are not errors.
    ///
    /// ```no_run
    /// let freed = nslink::RouteSocket::open()?.flush_neighbours()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip neigh flush")]
    pub fn flush_neighbours(&self) -> Result<usize> {
        let op = Op::DeleteNeighbour;
        let doomed: Vec<(RouteNetlinkMessage, u16)> = self
            .neighbours()?
            .into_iter()
            .filter(|n| n.state != NeighbourState::Permanent && n.state != NeighbourState::Noarp)
            .map(|n| (RouteNetlinkMessage::DelNeighbour(message(n.index, n.ip)), 0))
            .collect();
        let mut count = 0;
        for reply in self.send_batch(op, &doomed)? {
            match reply {
                Ok(_) => count += 1,
                Err(e) if e.errno() == Some(nix::libc::ENOENT) => {}
                Err(e) => return Err(e.into_error(op, Object::unnamed(ObjectKind::Neighbour))),
            }
        }
        Ok(count)
    }
}

/// A neighbour entry on a link, as the failing object of an error.
fn neighbour_object(ip: IpAddr, link: &crate::link::LinkId) -> Object {
    Object::value(ObjectKind::Neighbour, ip).with_detail(format!("on {}", link.object()))
}
