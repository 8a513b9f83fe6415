//! [`IpvlanOptions`]: an ipvlan's mode and flag (`IFLA_IPVLAN_*`).

use netlink_packet_route::link::{InfoData, InfoIpVlan, IpVlanFlags, IpVlanMode as RawMode};

use super::{fmt, nlas, option_enum};

option_enum! {
    /// The layer an ipvlan device works at (`IFLA_IPVLAN_MODE`; `mode` in
    /// ip-link(8) `type ipvlan`).
    ///
    /// ```
    /// use nslink::IpvlanMode;
    ///
    /// assert_eq!("l3s".parse::<IpvlanMode>()?, IpvlanMode::L3s);
    /// assert_eq!(IpvlanMode::L2.to_string(), "l2");
    /// # Ok::<(), nslink::link::ParseLinkOptionError>(())
    /// ```
    pub enum IpvlanMode: u16 as IpvlanMode {
        /// `l2`: the parent switches frames.
        L2 = 0, "l2";
        /// `l3`: the parent routes packets.
        L3 = 1, "l3";
        /// `l3s`: like `l3`, through netfilter.
        L3s = 2, "l3s";
    }
}

option_enum! {
    /// How an ipvlan device reaches its siblings (`IFLA_IPVLAN_FLAGS`; the
    /// word after the mode in ip-link(8) `type ipvlan mode MODE
    /// bridge|private|vepa`). The kernel takes one of the three.
    ///
    /// ```
    /// use nslink::IpvlanIsolation;
    ///
    /// assert_eq!("vepa".parse::<IpvlanIsolation>()?.value(), 2);
    /// # Ok::<(), nslink::link::ParseLinkOptionError>(())
    /// ```
    pub enum IpvlanIsolation: u16 as IpvlanIsolation {
        /// `bridge`: siblings talk directly (no flag).
        Bridge = 0, "bridge";
        /// `private` (`IPVLAN_F_PRIVATE`): no traffic between siblings.
        Private = 1, "private";
        /// `vepa` (`IPVLAN_F_VEPA`): siblings talk through the external
        /// switch.
        Vepa = 2, "vepa";
    }
}

/// The options of an ipvlan device (`ip link add link PARENT NAME type
/// ipvlan mode MODE FLAG`, ip-link(8)). The parent is given with
/// [`LinkBuilder::parent`](crate::LinkBuilder::parent). One type both
/// ways: `None` leaves the kernel's default (`l3`, `bridge`).
///
/// ```no_run
/// use nslink::{IpvlanIsolation, IpvlanMode, IpvlanOptions, LinkBuilder, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let o = IpvlanOptions { mode: Some(IpvlanMode::L2), isolation: Some(IpvlanIsolation::Private) };
/// LinkBuilder::new("ipvl0", o).parent("eth0").create(&nl)?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IpvlanOptions {
    /// `mode`.
    pub mode: Option<IpvlanMode>,
    /// `bridge`, `private` or `vepa`.
    pub isolation: Option<IpvlanIsolation>,
}

impl IpvlanOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        if let Some(IpvlanMode::Other(v)) = self.mode {
            return Err(format!("ipvlan mode {v} has no name here"));
        }
        if let Some(IpvlanIsolation::Other(v)) = self.isolation {
            return Err(format!("ipvlan flags {v:#x} have no name here"));
        }
        Ok(())
    }

    pub(super) fn data(&self) -> Option<InfoData> {
        let mut v = Vec::new();
        if let Some(m) = self.mode {
            v.push(InfoIpVlan::Mode(RawMode::from(m.value())));
        }
        if let Some(f) = self.isolation {
            v.push(InfoIpVlan::Flags(IpVlanFlags::from_bits_retain(f.value())));
        }
        (!v.is_empty()).then_some(InfoData::IpVlan(v))
    }

    pub(super) fn decode(data: &[u8]) -> Result<IpvlanOptions, String> {
        let mut o = IpvlanOptions::default();
        for a in nlas::<InfoIpVlan>(data)? {
            match a {
                InfoIpVlan::Mode(m) => o.mode = Some(IpvlanMode::from_value(u16::from(m))),
                InfoIpVlan::Flags(f) => o.isolation = Some(IpvlanIsolation::from_value(f.bits())),
                _ => {}
            }
        }
        Ok(o)
    }
}
