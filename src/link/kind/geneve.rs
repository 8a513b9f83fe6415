//! [`GeneveOptions`]: a Geneve tunnel's options (`IFLA_GENEVE_*`).

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoGeneve};

use super::nlas;

/// The options of a Geneve tunnel (`ip link add NAME type geneve id VNI
/// remote ADDR …`, ip-link(8); the `IFLA_GENEVE_*` attributes of
/// rtnetlink(7)). One type both ways: the VNI and the remote are required
/// to create one, `None` elsewhere leaves the kernel's default.
///
/// ```no_run
/// use nslink::{GeneveOptions, LinkBuilder, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let o = GeneveOptions { vni: Some(7), remote: Some("192.0.2.2".parse()?), ..Default::default() };
/// LinkBuilder::new("gnv0", o).create(&nl)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GeneveOptions {
    /// `id` (`IFLA_GENEVE_ID`): 0 to 16777215.
    pub vni: Option<u32>,
    /// `remote` (`IFLA_GENEVE_REMOTE`/`REMOTE6`): the peer.
    pub remote: Option<IpAddr>,
    /// `dstport` (`IFLA_GENEVE_PORT`): the UDP port (6081 by default).
    pub port: Option<u16>,
    /// `ttl` (`IFLA_GENEVE_TTL`); 0 means the kernel's default.
    pub ttl: Option<u8>,
    /// `tos` (`IFLA_GENEVE_TOS`); 1 means inherit.
    pub tos: Option<u8>,
    /// `[no]udpcsum` (`IFLA_GENEVE_UDP_CSUM`): UDP checksums over IPv4.
    pub udp_csum: Option<bool>,
    /// `[no]udp6zerocsumtx` (`IFLA_GENEVE_UDP_ZERO_CSUM6_TX`). The driver
    /// keeps this and [`udp_csum`](GeneveOptions::udp_csum) in one flag:
    /// both on is refused. Linux 6.1 reports it only for an IPv6 tunnel.
    pub udp_zero_csum6_tx: Option<bool>,
    /// `[no]udp6zerocsumrx` (`IFLA_GENEVE_UDP_ZERO_CSUM6_RX`).
    pub udp_zero_csum6_rx: Option<bool>,
}

/// The largest VNI (24 bits).
const VNI_MAX: u32 = (1 << 24) - 1;

impl GeneveOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        match self.vni {
            None => return Err("a geneve tunnel needs a VNI (id)".into()),
            Some(v) if v > VNI_MAX => {
                return Err(format!("VNI {v} is out of range (0 to {VNI_MAX})"));
            }
            Some(_) => {}
        }
        if self.udp_csum == Some(true) && self.udp_zero_csum6_tx == Some(true) {
            // The driver keeps both in one flag (TUNNEL_CSUM): the second
            // would silently undo the first.
            return Err(
                "udp_csum on and udp_zero_csum6_tx on contradict (one flag to geneve)".into()
            );
        }
        match self.remote {
            None => Err("a geneve tunnel needs a remote address".into()),
            Some(r) if r.is_multicast() || r.is_unspecified() => {
                Err(format!("remote {r} is not a unicast address"))
            }
            Some(_) => Ok(()),
        }
    }

    pub(super) fn data(&self) -> InfoData {
        let mut v = Vec::new();
        if let Some(id) = self.vni {
            v.push(InfoGeneve::Id(id));
        }
        match self.remote {
            Some(IpAddr::V4(a)) => v.push(InfoGeneve::Remote(a)),
            Some(IpAddr::V6(a)) => v.push(InfoGeneve::Remote6(a)),
            None => {}
        }
        if let Some(p) = self.port {
            v.push(InfoGeneve::Port(p));
        }
        if let Some(t) = self.ttl {
            v.push(InfoGeneve::Ttl(t));
        }
        if let Some(t) = self.tos {
            v.push(InfoGeneve::Tos(t));
        }
        if let Some(b) = self.udp_csum {
            v.push(InfoGeneve::UdpCsum(b));
        }
        if let Some(b) = self.udp_zero_csum6_tx {
            v.push(InfoGeneve::UdpZeroCsum6Tx(b));
        }
        if let Some(b) = self.udp_zero_csum6_rx {
            v.push(InfoGeneve::UdpZeroCsum6Rx(b));
        }
        InfoData::Geneve(v)
    }

    pub(super) fn decode(data: &[u8]) -> Result<GeneveOptions, String> {
        let mut o = GeneveOptions::default();
        for a in nlas::<InfoGeneve>(data)? {
            match a {
                InfoGeneve::Id(v) => o.vni = Some(v),
                InfoGeneve::Remote(a) => o.remote = Some(IpAddr::V4(a)),
                InfoGeneve::Remote6(a) => o.remote = Some(IpAddr::V6(a)),
                InfoGeneve::Port(p) => o.port = Some(p),
                InfoGeneve::Ttl(t) => o.ttl = Some(t),
                InfoGeneve::Tos(t) => o.tos = Some(t),
                InfoGeneve::UdpCsum(b) => o.udp_csum = Some(b),
                InfoGeneve::UdpZeroCsum6Tx(b) => o.udp_zero_csum6_tx = Some(b),
                InfoGeneve::UdpZeroCsum6Rx(b) => o.udp_zero_csum6_rx = Some(b),
                _ => {}
            }
        }
        o.remote = o.remote.filter(|a| !a.is_unspecified());
        Ok(o)
    }
}
