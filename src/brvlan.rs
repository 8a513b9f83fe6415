//! The VLANs of bridge ports (`bridge vlan`, bridge(8); `RTM_SETLINK`,
//! `RTM_DELLINK` and `RTM_GETLINK` with family `AF_BRIDGE` and
//! `IFLA_AF_SPEC`/`IFLA_BRIDGE_VLAN_INFO`, rtnetlink(7)).
//!
//! On a bridge with VLAN filtering on ([`BridgeBuilder::vlan_filtering`],
//! [`RouteSocket::set_bridge_vlan_filtering`]), each port admits the VLANs
//! listed for it: frames of one VLAN are forwarded only between ports in
//! that VLAN. Untagged frames entering a port get its PVID; frames leave a
//! port untagged in the VLANs marked so. A new port starts with VLAN 1 as
//! PVID, untagged (the bridge's `vlan_default_pvid`).
//!
//! ```no_run
//! use nslink::BridgeVlan;
//!
//! let nl = nslink::RouteSocket::open()?;
//! nl.set_bridge_vlan_filtering("br0", true)?;
//! // bridge vlan add vid 10 dev veth1 pvid untagged
//! nl.add_bridge_vlan("veth1", BridgeVlan::new(10).pvid().untagged())?;
//! // bridge vlan add vid 20-29 dev veth1
//! nl.add_bridge_vlan_range("veth1", 20..=29, false)?;
//! nl.delete_bridge_vlan("veth1", 1)?;
//! for v in nl.bridge_vlans_of("veth1")? {
//!     println!("{v}");
//! }
//! # Ok::<(), nslink::Error>(())
//! ```
//!
//! [`BridgeBuilder::vlan_filtering`]: crate::BridgeBuilder::vlan_filtering

use std::fmt;
use std::ops::RangeInclusive;

use netlink_packet_route::link::{
    AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, InfoBridge, InfoData, InfoKind,
    LinkAttribute, LinkExtentMask, LinkInfo, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::fdb::check_vid;
use crate::link::{IntoLinkId, Link, LinkId, LinkKind};
use crate::netlink::RouteSocket;

/// One VLAN of a bridge port, as `bridge vlan show` lists it: its id, and
/// whether it is the port's PVID and leaves untagged.
///
/// ```
/// use nslink::BridgeVlan;
///
/// let v = BridgeVlan::new(10).pvid().untagged();
/// assert_eq!((v.vid, v.pvid, v.untagged), (10, true, true));
/// assert_eq!(v.to_string(), "10 PVID Egress Untagged");
/// assert_eq!(BridgeVlan::new(20).to_string(), "20");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct BridgeVlan {
    /// The VLAN id, 1 to 4094.
    pub vid: u16,
    /// Untagged frames entering the port get this VLAN
    /// (`BRIDGE_VLAN_INFO_PVID`, `pvid`).
    pub pvid: bool,
    /// Frames of this VLAN leave the port untagged
    /// (`BRIDGE_VLAN_INFO_UNTAGGED`, `untagged`).
    pub untagged: bool,
}

impl BridgeVlan {
    /// VLAN `vid`, tagged, not the PVID (`bridge vlan add vid VID`). The id
    /// is checked when the VLAN is used: 0 and 4095 are refused.
    ///
    /// ```
    /// let v = nslink::BridgeVlan::new(10);
    /// assert!(!v.pvid && !v.untagged);
    /// ```
    pub fn new(vid: u16) -> BridgeVlan {
        BridgeVlan { vid, pvid: false, untagged: false }
    }

    /// Makes it the port's PVID (`pvid`).
    ///
    /// ```
    /// assert!(nslink::BridgeVlan::new(10).pvid().pvid);
    /// ```
    #[must_use]
    pub fn pvid(mut self) -> BridgeVlan {
        self.pvid = true;
        self
    }

    /// Makes it leave the port untagged (`untagged`).
    ///
    /// ```
    /// assert!(nslink::BridgeVlan::new(10).untagged().untagged);
    /// ```
    #[must_use]
    pub fn untagged(mut self) -> BridgeVlan {
        self.untagged = true;
        self
    }

    fn flags(&self) -> BridgeVlanInfoFlags {
        let mut f = BridgeVlanInfoFlags::empty();
        if self.pvid {
            f |= BridgeVlanInfoFlags::Pvid;
        }
        if self.untagged {
            f |= BridgeVlanInfoFlags::Untagged;
        }
        f
    }
}

impl fmt::Display for BridgeVlan {
    /// The id, then `PVID` and `Egress Untagged` as `bridge vlan show`
    /// prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.vid.to_string();
        if self.pvid {
            s.push_str(" PVID");
        }
        if self.untagged {
            s.push_str(" Egress Untagged");
        }
        f.pad(&s)
    }
}

/// The VLANs of one device, as one object of `bridge vlan show`.
///
/// ```no_run
/// for p in nslink::RouteSocket::open()?.bridge_vlans()? {
///     println!("#{}: {:?}", p.index, p.vlans);
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortVlans {
    /// The device: a bridge port, or the bridge itself.
    pub index: u32,
    /// The bridge it is a port of (`IFLA_MASTER`); for the bridge's own
    /// entry, the bridge itself.
    pub master: Option<u32>,
    /// Its VLANs, in increasing order, one per id (ranges are expanded).
    pub vlans: Vec<BridgeVlan>,
}

/// The failing object of a VLAN operation: `10 on link "veth1"` (after
/// "add bridge vlan").
fn vlan_object(vids: &RangeInclusive<u16>, link: &LinkId) -> Object {
    let v = if vids.start() == vids.end() {
        vids.start().to_string()
    } else {
        format!("{}-{}", vids.start(), vids.end())
    };
    Object::value(ObjectKind::Other, v).with_detail(format!("on {}", link.object()))
}

/// Reads the VLAN list of one `AF_BRIDGE` link message, expanding ranges
/// (`BRIDGE_VLAN_INFO_RANGE_BEGIN` … `_END`, as a compressed dump sends
/// them).
fn parse_vlans(m: &LinkMessage) -> Option<PortVlans> {
    let mut master = None;
    let mut infos = None;
    for a in &m.attributes {
        match a {
            LinkAttribute::Controller(i) => master = Some(*i),
            LinkAttribute::AfSpecBridge(spec) => infos = Some(spec),
            _ => {}
        }
    }
    let mut vlans = Vec::new();
    let mut begin: Option<u16> = None;
    for info in infos?.iter() {
        let AfSpecBridge::VlanInfo(BridgeVlanInfo { flags, vid }) = info else { continue };
        let one = |vid| BridgeVlan {
            vid,
            pvid: flags.contains(BridgeVlanInfoFlags::Pvid),
            untagged: flags.contains(BridgeVlanInfoFlags::Untagged),
        };
        if flags.contains(BridgeVlanInfoFlags::RangeBegin) {
            begin = Some(*vid);
        } else if flags.contains(BridgeVlanInfoFlags::RangeEnd) {
            let first = begin.take().unwrap_or(*vid);
            vlans.extend((first..=*vid).map(one));
        } else {
            vlans.push(one(*vid));
        }
    }
    Some(PortVlans { index: m.header.index, master, vlans })
}

impl RouteSocket {
    /// The VLANs of every bridge port (and of every bridge itself), like
    /// `bridge vlan show`.
    ///
    /// Kernel: an `RTM_GETLINK` dump with family `AF_BRIDGE` and
    /// `IFLA_EXT_MASK` = `RTEXT_FILTER_BRVLAN_COMPRESSED` (rtnetlink(7);
    /// bridge(8) `vlan show`): the kernel answers with one message per port
    /// carrying `IFLA_AF_SPEC`/`IFLA_BRIDGE_VLAN_INFO` entries, ranges
    /// compressed (expanded here). No privilege. A kernel built without
    /// bridge VLAN filtering lists no VLANs.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// for p in nl.bridge_vlans()? {
    ///     for v in &p.vlans {
    ///         println!("#{} {v}", p.index);
    ///     }
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge vlan show")]
    pub fn bridge_vlans(&self) -> Result<Vec<PortVlans>> {
        let mut m = LinkMessage::default();
        m.header.interface_family = AddressFamily::Bridge;
        m.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::BrvlanCompressed]));
        let replies = self.dump(Op::ListBridgeVlans, RouteNetlinkMessage::GetLink(m))?;
        Ok(replies
            .iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewLink(m) => parse_vlans(m),
                _ => None,
            })
            .filter(|p| !p.vlans.is_empty())
            .collect())
    }

    /// The VLANs of one bridge port (or of a bridge itself), like
    /// `bridge vlan show dev DEV`; empty when it has none or is no port.
    ///
    /// Kernel: as [`bridge_vlans`](Self::bridge_vlans) (the kernel cannot
    /// filter this dump by device; it is filtered here). A link given by
    /// name is looked up first (one more round trip).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing device; the exchange errors.
    ///
    /// ```no_run
    /// let vlans = nslink::RouteSocket::open()?.bridge_vlans_of("veth1")?;
    /// let pvid = vlans.iter().find(|v| v.pvid).map(|v| v.vid);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn bridge_vlans_of(&self, link: impl IntoLinkId) -> Result<Vec<BridgeVlan>> {
        let op = Op::ListBridgeVlans;
        let link = link.into_link_id()?;
        let index = self.resolve_index(op, &link)?;
        Ok(self
            .bridge_vlans()?
            .into_iter()
            .filter(|p| p.index == index)
            .flat_map(|p| p.vlans)
            .collect())
    }

    /// Adds a VLAN to a bridge port, or changes its flags if the port has
    /// it, like `bridge vlan add vid VID dev DEV [pvid] [untagged]`. Given
    /// the bridge device itself, it adds the VLAN to the bridge's own port
    /// (`bridge vlan add … self`). Making a VLAN the PVID takes the PVID
    /// from the port's former one.
    ///
    /// Kernel: `RTM_SETLINK` with family `AF_BRIDGE` and `IFLA_AF_SPEC`
    /// holding `IFLA_BRIDGE_VLAN_INFO` (`BRIDGE_VLAN_INFO_PVID`,
    /// `_UNTAGGED`), plus `IFLA_BRIDGE_FLAGS` = `BRIDGE_FLAGS_SELF` for a
    /// bridge (rtnetlink(7); bridge(8) `vlan add`). Needs `CAP_NET_ADMIN`.
    /// The device is looked up first, to tell a bridge from a port (one
    /// more round trip).
    ///
    /// # Errors
    /// - [`Error::InvalidArgument`] for VLAN id 0 or 4095 or more, before
    ///   anything is sent.
    /// - [`Error::Os`] with `EOPNOTSUPP` for a device that is neither a
    ///   bridge nor a bridge port, or on a kernel built without bridge VLAN
    ///   filtering (`CONFIG_BRIDGE_VLAN_FILTERING`); the error says which.
    /// - [`Error::NotFound`] for a missing device.
    ///
    /// ```no_run
    /// use nslink::BridgeVlan;
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_bridge_vlan("veth1", BridgeVlan::new(10).pvid().untagged())?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge vlan add")]
    pub fn add_bridge_vlan(&self, link: impl IntoLinkId, vlan: BridgeVlan) -> Result<()> {
        let flags = vlan.flags();
        self.vlan_request(Op::AddBridgeVlan, link, vlan.vid..=vlan.vid, flags)
    }

    /// Adds the VLANs `vids` (a range, like `bridge vlan add vid 20-29 dev
    /// DEV [untagged]`) to a bridge port, in one request. A range cannot be
    /// the PVID.
    ///
    /// Kernel: as [`add_bridge_vlan`](Self::add_bridge_vlan), with two
    /// `IFLA_BRIDGE_VLAN_INFO` entries flagged
    /// `BRIDGE_VLAN_INFO_RANGE_BEGIN` and `_RANGE_END` (a one-id range is
    /// sent as a single entry). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty range or one reaching 0 or
    /// 4095; as [`add_bridge_vlan`](Self::add_bridge_vlan) otherwise.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_bridge_vlan_range("veth1", 100..=199, false)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn add_bridge_vlan_range(
        &self,
        link: impl IntoLinkId,
        vids: RangeInclusive<u16>,
        untagged: bool,
    ) -> Result<()> {
        let flags =
            if untagged { BridgeVlanInfoFlags::Untagged } else { BridgeVlanInfoFlags::empty() };
        self.vlan_request(Op::AddBridgeVlan, link, vids, flags)
    }

    /// Removes a VLAN from a bridge port (or from the bridge itself), like
    /// `bridge vlan del vid VID dev DEV`.
    ///
    /// Kernel: `RTM_DELLINK` with family `AF_BRIDGE` and `IFLA_AF_SPEC`
    /// holding `IFLA_BRIDGE_VLAN_INFO` (rtnetlink(7); bridge(8) `vlan
    /// del`); with that family the kernel removes the VLAN, never the
    /// device. Needs `CAP_NET_ADMIN`. The device is looked up first (one
    /// more round trip).
    ///
    /// The kernel answers success, and changes nothing, for a VLAN the port
    /// does not have, and on a kernel built without bridge VLAN filtering.
    ///
    /// # Errors
    /// As [`add_bridge_vlan`](Self::add_bridge_vlan).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.delete_bridge_vlan("veth1", 1)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge vlan del")]
    pub fn delete_bridge_vlan(&self, link: impl IntoLinkId, vid: u16) -> Result<()> {
        self.vlan_request(Op::DeleteBridgeVlan, link, vid..=vid, BridgeVlanInfoFlags::empty())
    }

    /// Removes the VLANs `vids` from a bridge port, like
    /// `bridge vlan del vid 20-29 dev DEV`, in one request.
    ///
    /// Kernel: as [`delete_bridge_vlan`](Self::delete_bridge_vlan), with a
    /// `RANGE_BEGIN`/`RANGE_END` pair. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`add_bridge_vlan_range`](Self::add_bridge_vlan_range).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.delete_bridge_vlan_range("veth1", 100..=199)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn delete_bridge_vlan_range(
        &self,
        link: impl IntoLinkId,
        vids: RangeInclusive<u16>,
    ) -> Result<()> {
        self.vlan_request(Op::DeleteBridgeVlan, link, vids, BridgeVlanInfoFlags::empty())
    }

    /// Turns VLAN filtering of an existing bridge on or off, like
    /// `ip link set BR type bridge vlan_filtering 1|0`.
    ///
    /// Kernel: `RTM_NEWLINK` on the existing device with
    /// `IFLA_LINKINFO`/`IFLA_INFO_DATA`/`IFLA_BR_VLAN_FILTERING`
    /// (rtnetlink(7); ip-link(8) `type bridge vlan_filtering`). Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EOPNOTSUPP` on a kernel built without bridge VLAN
    /// filtering (the error says so); [`Error::NotFound`] for a missing
    /// device; the kernel's refusal for a device that is not a bridge.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_bridge_vlan_filtering("br0", true)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_bridge_vlan_filtering(&self, bridge: impl IntoLinkId, on: bool) -> Result<()> {
        let op = Op::SetLink;
        let id = bridge.into_link_id()?;
        let mut m = crate::link::message_for(&id);
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::VlanFiltering(on)])),
        ]));
        match self.request_reply(op, RouteNetlinkMessage::NewLink(m), 0)? {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut object = id.object();
                if e.errno() == Some(nix::libc::EOPNOTSUPP) {
                    object = object.with_detail(format!("({NO_VLAN_SUPPORT})"));
                }
                Err(e.into_error(op, object))
            }
        }
    }

    fn vlan_request(
        &self,
        op: Op,
        link: impl IntoLinkId,
        vids: RangeInclusive<u16>,
        flags: BridgeVlanInfoFlags,
    ) -> Result<()> {
        let link = link.into_link_id()?;
        let object = || vlan_object(&vids, &link);
        check_vid(op, object, *vids.start())?;
        check_vid(op, object, *vids.end())?;
        if vids.is_empty() {
            return Err(Error::InvalidArgument {
                op,
                object: object(),
                detail: "the range is empty (its first id is above its last)".to_owned(),
            });
        }
        let dev: Link = match self.link(&link)? {
            Some(l) => l,
            None => {
                return Err(Error::NotFound {
                    op,
                    object: link.object(),
                    errno: None,
                    extack: None,
                });
            }
        };
        let is_bridge = *dev.kind() == LinkKind::Bridge;
        let mut spec = Vec::new();
        if is_bridge {
            spec.push(AfSpecBridge::Flags(BridgeFlag::LowerDev));
        }
        if vids.start() == vids.end() {
            spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo { flags, vid: *vids.start() }));
        } else {
            spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
                flags: flags | BridgeVlanInfoFlags::RangeBegin,
                vid: *vids.start(),
            }));
            spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
                flags: flags | BridgeVlanInfoFlags::RangeEnd,
                vid: *vids.end(),
            }));
        }
        let mut m = LinkMessage::default();
        m.header.interface_family = AddressFamily::Bridge;
        m.header.index = dev.index();
        m.attributes.push(LinkAttribute::AfSpecBridge(spec));
        let msg = if op == Op::DeleteBridgeVlan {
            RouteNetlinkMessage::DelLink(m)
        } else {
            RouteNetlinkMessage::SetLink(m)
        };
        match self.request_reply(op, msg, 0)? {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut object = object();
                if e.errno() == Some(nix::libc::EOPNOTSUPP) {
                    object = if is_bridge || dev.master().is_some() {
                        object.with_detail(format!("on {} ({NO_VLAN_SUPPORT})", link.object()))
                    } else {
                        object.with_detail(format!(
                            "on {} (neither a bridge nor a bridge port)",
                            link.object()
                        ))
                    };
                }
                Err(e.into_error(op, object))
            }
        }
    }
}

/// Why a bridge answers `EOPNOTSUPP` to VLAN requests.
const NO_VLAN_SUPPORT: &str =
    "this kernel has no bridge VLAN filtering support: CONFIG_BRIDGE_VLAN_FILTERING is off";

#[cfg(test)]
mod tests {
    use super::*;

    fn info(flags: BridgeVlanInfoFlags, vid: u16) -> AfSpecBridge {
        AfSpecBridge::VlanInfo(BridgeVlanInfo { flags, vid })
    }

    #[test]
    fn compressed_ranges_are_expanded() {
        use BridgeVlanInfoFlags as F;
        let mut m = LinkMessage::default();
        m.header.index = 5;
        m.attributes.push(LinkAttribute::Controller(2));
        m.attributes.push(LinkAttribute::AfSpecBridge(vec![
            info(F::Pvid | F::Untagged, 1),
            info(F::RangeBegin, 20),
            info(F::RangeEnd, 22),
            info(F::Untagged | F::RangeBegin, 30),
            info(F::Untagged | F::RangeEnd, 31),
        ]));
        let p = parse_vlans(&m).unwrap();
        assert_eq!((p.index, p.master), (5, Some(2)));
        let want = vec![
            BridgeVlan::new(1).pvid().untagged(),
            BridgeVlan::new(20),
            BridgeVlan::new(21),
            BridgeVlan::new(22),
            BridgeVlan::new(30).untagged(),
            BridgeVlan::new(31).untagged(),
        ];
        assert_eq!(p.vlans, want);
    }

    #[test]
    fn a_message_without_vlan_info_is_no_port() {
        assert_eq!(parse_vlans(&LinkMessage::default()), None);
    }
}
