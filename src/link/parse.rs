//! Building a [`Link`] straight from the bytes of an `RTM_NEWLINK` message.
//!
//! A full `netlink-packet-route` decode builds every attribute of a link
//! (per-protocol settings, statistics, …) into owned values; on a dump of a
//! thousand devices that costs as much as the kernel's own work. This walker
//! reads only what [`Link`] exposes, checks every length, tolerates unknown
//! attributes, and keeps the bytes so that [`Link::message`] can still give
//! the complete decoded message on demand.

use std::sync::Arc;

use netlink_packet_core::NetlinkHeader;

use super::bridge::BridgePortInfo;
use super::kind::LinkKind;
use super::{Link, LinkFlags, MacAddr, OperState};
use crate::name::IfName;

const RTM_NEWLINK: u16 = 16;
const IFINFOMSG_LEN: usize = 16;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_IFALIAS: u16 = 20;
const IFLA_LINK_NETNSID: u16 = 37;
const IFLA_NETNS_IMMUTABLE: u16 = 67;

const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_INFO_SLAVE_KIND: u16 = 4;
const IFLA_INFO_SLAVE_DATA: u16 = 5;

const IFLA_TUN_TYPE: u16 = 3;
const IFF_TAP: u8 = 2;

const IFLA_BRPORT_COST: u16 = 3;
const IFLA_BRPORT_MODE: u16 = 4;
const IFLA_BRPORT_LEARNING: u16 = 8;
const IFLA_BRPORT_UNICAST_FLOOD: u16 = 9;
const IFLA_BRPORT_ISOLATED: u16 = 33;

/// Walks netlink attributes (`struct nlattr`), yielding `(type, value)`.
/// A malformed attribute ends the walk with an error.
struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), String>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 4 {
            // Trailing padding shorter than a header is allowed.
            return None;
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        let kind = u16::from_ne_bytes([self.rest[2], self.rest[3]]) & 0x3fff;
        if len < 4 || len > self.rest.len() {
            let e =
                format!("attribute {kind} has length {len} with {} bytes left", self.rest.len());
            self.rest = &[];
            return Some(Err(e));
        }
        let value = &self.rest[4..len];
        let next = ((len + 3) & !3).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Ok((kind, value)))
    }
}

fn attrs(b: &[u8]) -> Attrs<'_> {
    Attrs { rest: b }
}

fn u32_of(kind: u16, v: &[u8]) -> Result<u32, String> {
    <[u8; 4]>::try_from(v)
        .map(u32::from_ne_bytes)
        .map_err(|_| format!("attribute {kind} should hold 4 bytes, has {}", v.len()))
}

fn u8_of(kind: u16, v: &[u8]) -> Result<u8, String> {
    v.first().copied().ok_or_else(|| format!("attribute {kind} is empty"))
}

/// The bytes of a string attribute, up to its NUL (if any).
fn bytes_of(v: &[u8]) -> &[u8] {
    let end = v.iter().position(|&c| c == 0).unwrap_or(v.len());
    &v[..end]
}

/// A text attribute that is ASCII by the kernel's convention (a kind name);
/// anything else is replaced, never trusted.
fn str_of(v: &[u8]) -> String {
    String::from_utf8_lossy(bytes_of(v)).into_owned()
}

/// `IFLA_IFNAME`: the exact bytes, UTF-8 or not.
fn name_of(v: &[u8]) -> Result<IfName, String> {
    let b = bytes_of(v);
    IfName::from_kernel(b).ok_or_else(|| format!("IFLA_IFNAME of {} bytes is not a name", b.len()))
}

fn oper_state(v: u8) -> OperState {
    match v {
        1 => OperState::NotPresent,
        2 => OperState::Down,
        3 => OperState::LowerLayerDown,
        4 => OperState::Testing,
        5 => OperState::Dormant,
        6 => OperState::Up,
        _ => OperState::Unknown,
    }
}

fn bridge_port(data: &[u8]) -> Result<BridgePortInfo, String> {
    let mut p = BridgePortInfo::default();
    for a in attrs(data) {
        let (kind, v) = a?;
        match kind {
            IFLA_BRPORT_MODE => p.hairpin = Some(u8_of(kind, v)? != 0),
            IFLA_BRPORT_LEARNING => p.learning = Some(u8_of(kind, v)? != 0),
            IFLA_BRPORT_UNICAST_FLOOD => p.unicast_flood = Some(u8_of(kind, v)? != 0),
            IFLA_BRPORT_ISOLATED => p.isolated = Some(u8_of(kind, v)? != 0),
            IFLA_BRPORT_COST => p.cost = Some(u32_of(kind, v)?),
            _ => {}
        }
    }
    Ok(p)
}

/// A decoder for [`RouteSocket`](crate::RouteSocket) exchanges: links from
/// `RTM_NEWLINK` replies, anything else skipped.
pub(crate) fn decode_link(h: &NetlinkHeader, payload: &[u8]) -> Result<Option<Link>, String> {
    if h.message_type != RTM_NEWLINK {
        return Ok(None);
    }
    Link::from_bytes(payload).map(Some)
}

/// The attributes of a link message, gathered before the [`Link`] is built.
struct Parts {
    operstate: OperState,
    mtu: u32,
    mac: Option<MacAddr>,
    master: Option<u32>,
    alias: Option<Box<[u8]>>,
    parent: Option<u32>,
    link_netnsid: Option<i32>,
    netns_immutable: Option<bool>,
    bridge_port: Option<BridgePortInfo>,
}

impl Default for Parts {
    fn default() -> Parts {
        Parts {
            operstate: OperState::Unknown,
            mtu: 0,
            mac: None,
            master: None,
            alias: None,
            parent: None,
            link_netnsid: None,
            netns_immutable: None,
            bridge_port: None,
        }
    }
}

impl Link {
    /// Reads a link from the payload of an `RTM_NEWLINK` message (an
    /// `ifinfomsg` followed by attributes).
    pub(crate) fn from_bytes(payload: &[u8]) -> Result<Link, String> {
        let Some(hdr) = payload.get(..IFINFOMSG_LEN) else {
            return Err(format!(
                "link message of {} bytes is shorter than ifinfomsg",
                payload.len()
            ));
        };
        let link_type = u16::from_ne_bytes([hdr[2], hdr[3]]);
        let index = u32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let flags = u32::from_ne_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]);
        let mut name = None;
        let mut l = Parts::default();
        let mut info_kind = None;
        let mut tap = false;
        for a in attrs(&payload[IFINFOMSG_LEN..]) {
            let (kind, v) = a?;
            match kind {
                IFLA_IFNAME => name = Some(name_of(v)?),
                IFLA_MTU => l.mtu = u32_of(kind, v)?,
                IFLA_ADDRESS => l.mac = MacAddr::from_bytes(v),
                IFLA_MASTER => l.master = Some(u32_of(kind, v)?).filter(|&m| m != 0),
                IFLA_IFALIAS => l.alias = Some(bytes_of(v).into()),
                IFLA_LINK => l.parent = Some(u32_of(kind, v)?).filter(|&p| p != 0),
                IFLA_LINK_NETNSID => l.link_netnsid = Some(u32_of(kind, v)? as i32),
                IFLA_NETNS_IMMUTABLE => l.netns_immutable = Some(u8_of(kind, v)? != 0),
                IFLA_OPERSTATE => l.operstate = oper_state(u8_of(kind, v)?),
                IFLA_LINKINFO => {
                    let mut port_kind = None;
                    let mut port_data = None;
                    let mut data = None;
                    for i in attrs(v) {
                        let (ik, iv) = i?;
                        match ik {
                            IFLA_INFO_KIND => info_kind = Some(str_of(iv)),
                            IFLA_INFO_DATA => data = Some(iv),
                            IFLA_INFO_SLAVE_KIND => port_kind = Some(str_of(iv)),
                            IFLA_INFO_SLAVE_DATA => port_data = Some(iv),
                            _ => {}
                        }
                    }
                    if info_kind.as_deref() == Some("tun")
                        && let Some(d) = data
                    {
                        for t in attrs(d) {
                            let (tk, tv) = t?;
                            if tk == IFLA_TUN_TYPE {
                                tap = u8_of(tk, tv)? == IFF_TAP;
                            }
                        }
                    }
                    if port_kind.as_deref() == Some("bridge") {
                        l.bridge_port = Some(bridge_port(port_data.unwrap_or(&[]))?);
                    }
                }
                _ => {}
            }
        }
        let name = name.ok_or_else(|| format!("link {index} has no IFLA_IFNAME"))?;
        Ok(Link {
            index,
            name,
            kind: LinkKind::from_parts(info_kind.as_deref(), link_type, tap),
            link_type,
            flags: LinkFlags::from_bits_retain(flags),
            operstate: l.operstate,
            mtu: l.mtu,
            mac: l.mac,
            master: l.master,
            alias: l.alias.as_deref().map(|a| String::from_utf8_lossy(a).into_owned()),
            alias_bytes: l.alias,
            parent: l.parent,
            link_netnsid: l.link_netnsid,
            netns_immutable: l.netns_immutable,
            bridge_port: l.bridge_port,
            bytes: Arc::from(payload),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;
    use netlink_packet_route::link::{
        InfoBridgePort, InfoKind, InfoPortData, InfoPortKind, LinkAttribute, LinkInfo, LinkMessage,
        State,
    };

    fn bytes_of(m: &LinkMessage) -> Vec<u8> {
        let mut b = vec![0; m.buffer_len()];
        m.emit(&mut b);
        b
    }

    #[test]
    fn reads_what_netlink_packet_route_writes() {
        let mut m = LinkMessage::default();
        m.header.index = 7;
        m.header.link_layer_type = netlink_packet_route::link::LinkLayerType::Ether;
        m.attributes = vec![
            LinkAttribute::IfName("veth7".into()),
            LinkAttribute::Mtu(1450),
            LinkAttribute::Address(vec![2, 0, 0, 0, 0, 7]),
            LinkAttribute::Controller(3),
            LinkAttribute::Link(8),
            LinkAttribute::LinkNetNsId(2),
            LinkAttribute::OperState(State::Up),
            LinkAttribute::NetnsImmutable(false),
            LinkAttribute::IfAlias("pod seven".into()),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::PortKind(InfoPortKind::Bridge),
                LinkInfo::PortData(InfoPortData::BridgePort(vec![
                    InfoBridgePort::HairpinMode(true),
                    InfoBridgePort::Learning(false),
                    InfoBridgePort::Cost(5),
                ])),
            ]),
        ];
        let l = Link::from_bytes(&bytes_of(&m)).unwrap();
        assert_eq!((l.index(), l.name().to_str().unwrap(), l.mtu()), (7, "veth7", 1450));
        assert_eq!(l.kind(), &LinkKind::Veth);
        assert_eq!(l.mac().unwrap().to_string(), "02:00:00:00:00:07");
        assert_eq!((l.master(), l.parent_index(), l.link_netnsid()), (Some(3), Some(8), Some(2)));
        assert_eq!(l.operstate(), OperState::Up);
        assert_eq!(l.netns_immutable_attr(), Some(false));
        assert_eq!(l.alias(), Some("pod seven"));
        assert_eq!(l.alias_bytes(), Some(&b"pod seven"[..]));
        let p = l.bridge_port().unwrap();
        assert_eq!((p.hairpin, p.learning, p.cost), (Some(true), Some(false), Some(5)));
        // The full message is still there on demand.
        assert_eq!(l.message().unwrap(), m);
    }

    /// An `ifinfomsg` for index 9 with one `IFLA_IFNAME` holding `name`.
    fn raw_named(name: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; IFINFOMSG_LEN];
        b[4..8].copy_from_slice(&9u32.to_ne_bytes());
        let len = 4 + name.len() + 1;
        b.extend_from_slice(&(len as u16).to_ne_bytes());
        b.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        b.extend_from_slice(name);
        b.push(0);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    #[test]
    fn names_that_are_not_utf8_are_kept_exact() {
        let a = Link::from_bytes(&raw_named(b"\xff\xfe")).unwrap();
        let b = Link::from_bytes(&raw_named(b"\xff\xfd")).unwrap();
        assert_eq!(a.name().as_bytes(), b"\xff\xfe");
        assert_eq!(b.name().as_bytes(), b"\xff\xfd");
        assert_ne!(a.name(), b.name());
        assert_ne!(a.name().to_string(), b.name().to_string());
        // 15 bytes stay 15 bytes (a lossy decode made 45 of them).
        let long = Link::from_bytes(&raw_named(&[0xff; 15])).unwrap();
        assert_eq!(long.name().as_bytes(), &[0xff; 15]);
        // Nothing the kernel could send makes a name over 15 bytes.
        assert!(Link::from_bytes(&raw_named(&[b'a'; 16])).is_err());
        assert!(Link::from_bytes(&raw_named(b"")).is_err());
        assert!(Link::from_bytes(&raw_named(b"x")).is_ok());
        let mut no_name = vec![0u8; IFINFOMSG_LEN];
        no_name.extend_from_slice(&[8, 0, 4, 0, 0xdc, 5, 0, 0]);
        assert!(Link::from_bytes(&no_name).unwrap_err().contains("IFLA_IFNAME"));
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        let mut m = LinkMessage::default();
        m.attributes = vec![
            LinkAttribute::IfName("x".into()),
            LinkAttribute::Mtu(1500),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
        ];
        let good = bytes_of(&m);
        for cut in 0..good.len() {
            let _ = Link::from_bytes(&good[..cut]);
        }
        for i in 0..good.len() {
            for v in [0u8, 1, 3, 4, 0x7f, 0xff] {
                let mut b = good.clone();
                b[i] = v;
                let _ = Link::from_bytes(&b);
            }
        }
        assert!(Link::from_bytes(&good[..10]).is_err());
        // An MTU attribute of the wrong size is reported, not misread.
        let mut b = good[..16].to_vec();
        b.extend_from_slice(&[6, 0, 4, 0, 1, 2, 0, 0]);
        assert!(Link::from_bytes(&b).unwrap_err().contains("attribute 4"));
    }
}
