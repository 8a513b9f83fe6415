//! [`VlanOptions`]: a VLAN device's id and protocol (`IFLA_VLAN_*`).

use netlink_packet_route::link::{InfoData, InfoVlan, VlanProtocol as RawProtocol};

use super::{fmt, nlas, option_enum};

option_enum! {
    /// The tag a VLAN device adds (`IFLA_VLAN_PROTOCOL`, the EtherType;
    /// `protocol` in ip-link(8) `type vlan`).
    ///
    /// ```
    /// use nslink::VlanProtocol;
    ///
    /// assert_eq!("802.1ad".parse::<VlanProtocol>()?, VlanProtocol::Ieee8021ad);
    /// assert_eq!("0x8100".parse::<VlanProtocol>()?, VlanProtocol::Ieee8021q);
    /// assert_eq!(VlanProtocol::Ieee8021q.to_string(), "802.1Q");
    /// # Ok::<(), nslink::link::ParseLinkOptionError>(())
    /// ```
    pub enum VlanProtocol: u16 as VlanProtocol {
        /// `802.1Q` (EtherType 0x8100), the usual VLAN tag.
        Ieee8021q = 0x8100, "802.1Q";
        /// `802.1ad` (EtherType 0x88a8), the outer tag of QinQ.
        Ieee8021ad = 0x88a8, "802.1ad";
    }
}

/// The options of a VLAN device (`ip link add link PARENT NAME type vlan
/// id ID protocol PROTO`, ip-link(8)). The parent is given with
/// [`LinkBuilder::parent`](crate::LinkBuilder::parent). One type both
/// ways; the id is required to create one.
///
/// ```no_run
/// use nslink::{LinkBuilder, RouteSocket, VlanOptions, VlanProtocol};
///
/// let nl = RouteSocket::open()?;
/// let o = VlanOptions { id: Some(100), protocol: Some(VlanProtocol::Ieee8021q) };
/// LinkBuilder::new("eth0.100", o).parent("eth0").up().create(&nl)?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VlanOptions {
    /// `id` (`IFLA_VLAN_ID`): 0 to 4094.
    pub id: Option<u16>,
    /// `protocol` (`IFLA_VLAN_PROTOCOL`); the kernel's default is 802.1Q.
    pub protocol: Option<VlanProtocol>,
}

/// VLAN ids are 12 bits and 4095 is reserved (IEEE 802.1Q).
const VLAN_ID_MAX: u16 = 4094;

impl VlanOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        match self.id {
            None => return Err("a vlan needs an id".into()),
            Some(id) if id > VLAN_ID_MAX => {
                return Err(format!("vlan id {id} is out of range (0 to {VLAN_ID_MAX})"));
            }
            Some(_) => {}
        }
        if let Some(VlanProtocol::Other(p)) = self.protocol {
            return Err(format!("vlan protocol {p:#06x} is neither 802.1Q nor 802.1ad"));
        }
        Ok(())
    }

    pub(super) fn data(&self) -> InfoData {
        let mut v = Vec::new();
        if let Some(id) = self.id {
            v.push(InfoVlan::Id(id));
        }
        if let Some(p) = self.protocol {
            v.push(InfoVlan::Protocol(RawProtocol::from(p.value())));
        }
        InfoData::Vlan(v)
    }

    pub(super) fn decode(data: &[u8]) -> Result<VlanOptions, String> {
        let mut o = VlanOptions::default();
        for a in nlas::<InfoVlan>(data)? {
            match a {
                InfoVlan::Id(id) => o.id = Some(id),
                InfoVlan::Protocol(p) => o.protocol = Some(VlanProtocol::from_value(u16::from(p))),
                _ => {}
            }
        }
        Ok(o)
    }
}
