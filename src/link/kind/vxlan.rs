//! [`VxlanOptions`]: a VXLAN tunnel's options (`IFLA_VXLAN_*`).

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoVxlan};

use super::nlas;

/// The options of a VXLAN tunnel (`ip link add NAME type vxlan id VNI …`,
/// ip-link(8); the `IFLA_VXLAN_*` attributes of rtnetlink(7)), one type
/// both ways:
///
/// - to create one, with [`LinkBuilder`](crate::LinkBuilder): `None`
///   leaves the kernel's default (the VNI is required);
/// - read back by [`Link::kind_options`](crate::Link::kind_options): the
///   kernel reports them all.
///
/// The underlay device (`dev` in ip-link(8)) is given to the builder with
/// [`LinkBuilder::parent`](crate::LinkBuilder::parent) and read back here as
/// [`underlay`](VxlanOptions::underlay).
///
/// ```no_run
/// use nslink::{LinkBuilder, RouteSocket, VxlanOptions};
///
/// let nl = RouteSocket::open()?;
/// let vx = VxlanOptions {
///     vni: Some(42),
///     port: Some(4789),
///     remote: Some("192.0.2.2".parse()?),
///     learning: Some(false),
///     ..Default::default()
/// };
/// let link = LinkBuilder::new("vx0", vx).parent("eth0").up().create(&nl)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VxlanOptions {
    /// `id` (`IFLA_VXLAN_ID`): the VXLAN network identifier, 0 to
    /// 16777215. Required to create one.
    pub vni: Option<u32>,
    /// `dstport` (`IFLA_VXLAN_PORT`): the UDP destination port (the
    /// kernel's default is 8472, the IANA port is 4789).
    pub port: Option<u16>,
    /// `local` (`IFLA_VXLAN_LOCAL`/`LOCAL6`): the source address.
    pub local: Option<IpAddr>,
    /// `remote` (`IFLA_VXLAN_GROUP`/`GROUP6` holding a unicast address):
    /// the one peer.
    pub remote: Option<IpAddr>,
    /// `group` (`IFLA_VXLAN_GROUP`/`GROUP6` holding a multicast address):
    /// the multicast group of the peers.
    pub group: Option<IpAddr>,
    /// `dev` (`IFLA_VXLAN_LINK`): the index of the underlay device.
    pub underlay: Option<u32>,
    /// `[no]learning` (`IFLA_VXLAN_LEARNING`): learn remote addresses.
    pub learning: Option<bool>,
    /// `ttl` (`IFLA_VXLAN_TTL`); 0 means the kernel's default.
    pub ttl: Option<u8>,
    /// `tos` (`IFLA_VXLAN_TOS`); 1 means inherit.
    pub tos: Option<u8>,
    /// `[no]udpcsum` (`IFLA_VXLAN_UDP_CSUM`): UDP checksums over IPv4.
    pub udp_csum: Option<bool>,
    /// `[no]udp6zerocsumtx` (`IFLA_VXLAN_UDP_ZERO_CSUM6_TX`): send IPv6
    /// packets with a zero UDP checksum.
    pub udp_zero_csum6_tx: Option<bool>,
    /// `[no]udp6zerocsumrx` (`IFLA_VXLAN_UDP_ZERO_CSUM6_RX`): accept IPv6
    /// packets with a zero UDP checksum.
    pub udp_zero_csum6_rx: Option<bool>,
    /// `[no]l2miss` (`IFLA_VXLAN_L2MISS`): tell user space of missing
    /// forwarding entries.
    pub l2miss: Option<bool>,
    /// `[no]l3miss` (`IFLA_VXLAN_L3MISS`): tell user space of missing
    /// neighbour entries.
    pub l3miss: Option<bool>,
}

/// The largest VNI (24 bits).
const VNI_MAX: u32 = (1 << 24) - 1;

impl VxlanOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        match self.vni {
            None => return Err("a vxlan needs a VNI (id)".into()),
            Some(v) if v > VNI_MAX => {
                return Err(format!("VNI {v} is out of range (0 to {VNI_MAX})"));
            }
            Some(_) => {}
        }
        if self.remote.is_some() && self.group.is_some() {
            return Err("a vxlan has a remote or a group, not both".into());
        }
        if let Some(r) = self.remote
            && r.is_multicast()
        {
            return Err(format!("remote {r} is a multicast address: give it as the group"));
        }
        if let Some(g) = self.group
            && !g.is_multicast()
        {
            return Err(format!("group {g} is not a multicast address: give it as the remote"));
        }
        if let (Some(l), Some(d)) = (self.local, self.remote.or(self.group))
            && l.is_ipv4() != d.is_ipv4()
        {
            return Err(format!("local {l} and {d} are not of the same address family"));
        }
        Ok(())
    }

    pub(super) fn data(&self, underlay: Option<u32>) -> InfoData {
        let mut v = Vec::new();
        if let Some(id) = self.vni {
            v.push(InfoVxlan::Id(id));
        }
        match self.remote.or(self.group) {
            Some(IpAddr::V4(a)) => v.push(InfoVxlan::Group(a)),
            Some(IpAddr::V6(a)) => v.push(InfoVxlan::Group6(a)),
            None => {}
        }
        match self.local {
            Some(IpAddr::V4(a)) => v.push(InfoVxlan::Local(a)),
            Some(IpAddr::V6(a)) => v.push(InfoVxlan::Local6(a)),
            None => {}
        }
        if let Some(i) = underlay.or(self.underlay) {
            v.push(InfoVxlan::Link(i));
        }
        if let Some(p) = self.port {
            v.push(InfoVxlan::Port(p));
        }
        if let Some(b) = self.learning {
            v.push(InfoVxlan::Learning(b));
        }
        if let Some(t) = self.ttl {
            v.push(InfoVxlan::Ttl(t));
        }
        if let Some(t) = self.tos {
            v.push(InfoVxlan::Tos(t));
        }
        if let Some(b) = self.udp_csum {
            v.push(InfoVxlan::UDPCsum(b));
        }
        if let Some(b) = self.udp_zero_csum6_tx {
            v.push(InfoVxlan::UDPZeroCsumTX(b));
        }
        if let Some(b) = self.udp_zero_csum6_rx {
            v.push(InfoVxlan::UDPZeroCsumRX(b));
        }
        if let Some(b) = self.l2miss {
            v.push(InfoVxlan::L2Miss(b));
        }
        if let Some(b) = self.l3miss {
            v.push(InfoVxlan::L3Miss(b));
        }
        InfoData::Vxlan(v)
    }

    pub(super) fn decode(data: &[u8]) -> Result<VxlanOptions, String> {
        let mut o = VxlanOptions::default();
        let mut dest = None;
        for a in nlas::<InfoVxlan>(data)? {
            match a {
                InfoVxlan::Id(v) => o.vni = Some(v),
                InfoVxlan::Group(a) => dest = Some(IpAddr::V4(a)),
                InfoVxlan::Group6(a) => dest = Some(IpAddr::V6(a)),
                InfoVxlan::Local(a) => o.local = Some(IpAddr::V4(a)),
                InfoVxlan::Local6(a) => o.local = Some(IpAddr::V6(a)),
                InfoVxlan::Link(i) => o.underlay = Some(i).filter(|&i| i != 0),
                InfoVxlan::Port(p) => o.port = Some(p),
                InfoVxlan::Learning(b) => o.learning = Some(b),
                InfoVxlan::Ttl(t) => o.ttl = Some(t),
                InfoVxlan::Tos(t) => o.tos = Some(t),
                InfoVxlan::UDPCsum(b) => o.udp_csum = Some(b),
                InfoVxlan::UDPZeroCsumTX(b) => o.udp_zero_csum6_tx = Some(b),
                InfoVxlan::UDPZeroCsumRX(b) => o.udp_zero_csum6_rx = Some(b),
                InfoVxlan::L2Miss(b) => o.l2miss = Some(b),
                InfoVxlan::L3Miss(b) => o.l3miss = Some(b),
                _ => {}
            }
        }
        // The kernel reports an unset address as 0.0.0.0 / ::.
        match dest.filter(|a| !a.is_unspecified()) {
            Some(a) if a.is_multicast() => o.group = Some(a),
            a => o.remote = a,
        }
        o.local = o.local.filter(|a| !a.is_unspecified());
        Ok(o)
    }
}
