//! The neighbour (ARP / NDP) table of a namespace (`ip neigh`).
//!
//! Worth knowing when building many namespaces on one machine: the kernel's
//! neighbour tables are shared by all namespaces, and once they hold
//! `gc_thresh3` entries (1024 by default) in total, recently used entries
//! cannot be evicted and new ones fail with `ENOBUFS`, on the host too.
//! [`RouteSocket::flush_neighbours`] frees a namespace's share at once;
//! permanent entries ([`RouteSocket::add_neighbour`]) do not count against
//! the limit.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Op, Result};
use crate::link::{IntoLinkId, MacAddr};
use crate::netlink::RouteSocket;

/// One neighbour entry, as `ip neigh` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The link it belongs to.
    pub index: u32,
    /// The neighbour's IP address.
    pub ip: IpAddr,
    /// Its hardware address, once resolved.
    pub mac: Option<MacAddr>,
    /// `REACHABLE`, `STALE`, `DELAY`, `PROBE`, `FAILED`, `INCOMPLETE`,
    /// `PERMANENT`, `NOARP` or `NONE`.
    pub state: &'static str,
}

fn state_name(s: NeighbourState) -> &'static str {
    match s {
        NeighbourState::Incomplete => "INCOMPLETE",
        NeighbourState::Reachable => "REACHABLE",
        NeighbourState::Stale => "STALE",
        NeighbourState::Delay => "DELAY",
        NeighbourState::Probe => "PROBE",
        NeighbourState::Failed => "FAILED",
        NeighbourState::Noarp => "NOARP",
        NeighbourState::Permanent => "PERMANENT",
        _ => "NONE",
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
    /// Every IPv4 and IPv6 neighbour entry of the namespace, like
    /// `ip neigh show`.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for n in nslink::RouteSocket::open()?.neighbours()? {
    ///     println!("{} {:?} {}", n.ip, n.mac, n.state);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip neigh show")]
    #[doc(alias = "RTM_GETNEIGH")]
    pub fn neighbours(&self) -> Result<Vec<Neighbour>> {
        let replies = self.dump(
            Op::ListNeighbours,
            RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()),
        )?;
        let mut out = Vec::new();
        for r in replies {
            let RouteNetlinkMessage::NewNeighbour(m) = r else { continue };
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
            if let Some(ip) = ip {
                out.push(Neighbour {
                    index: m.header.ifindex,
                    ip,
                    mac,
                    state: state_name(m.header.state),
                });
            }
        }
        Ok(out)
    }

    /// Adds or replaces a permanent entry, like
    /// `ip neigh replace IP lladdr MAC dev LINK nud permanent`.
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
        let op = Op::AddNeighbour;
        let link = link.into_link_id()?;
        let index = self.resolve_index(op, &link)?;
        let mut m = message(index, ip);
        m.header.state = NeighbourState::Permanent;
        m.attributes.push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
        self.request(
            op,
            || format!("{ip} on {}", link.describe()),
            RouteNetlinkMessage::NewNeighbour(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Deletes one entry, like `ip neigh del IP dev LINK`.
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
            || format!("{ip} on {}", link.describe()),
            RouteNetlinkMessage::DelNeighbour(message(index, ip)),
            0,
        )
        .map(drop)
    }

    /// Deletes every entry that is not permanent (of every link of the
    /// namespace), like `ip neigh flush all`, in one batch of requests.
    /// Returns how many were deleted.
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
            .filter(|n| n.state != "PERMANENT" && n.state != "NOARP")
            .map(|n| (RouteNetlinkMessage::DelNeighbour(message(n.index, n.ip)), 0))
            .collect();
        let mut count = 0;
        for reply in self.send_batch(op, &doomed)? {
            match reply {
                Ok(_) => count += 1,
                Err(e) if e.errno() == Some(nix::libc::ENOENT) => {}
                Err(e) => return Err(e.into_error(op, "neighbour")),
            }
        }
        Ok(count)
    }
}
