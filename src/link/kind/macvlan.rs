//! [`MacvlanOptions`]: a macvlan's or macvtap's mode (`IFLA_MACVLAN_MODE`).

use netlink_packet_route::link::{InfoData, InfoMacVlan, InfoMacVtap, MacVlanMode as RawMode};

use super::{fmt, nlas, option_enum};

option_enum! {
    /// How a macvlan (or macvtap) device reaches its siblings on the same
    /// parent (`IFLA_MACVLAN_MODE`; `mode` in ip-link(8) `type macvlan`).
    ///
    /// ```
    /// use nslink::MacvlanMode;
    ///
    /// let m: MacvlanMode = "passthru".parse()?;
    /// assert_eq!((m, m.value()), (MacvlanMode::Passthru, 8));
    /// assert!("bridged".parse::<MacvlanMode>().is_err());
    /// # Ok::<(), nslink::link::ParseLinkOptionError>(())
    /// ```
    pub enum MacvlanMode: u32 as MacvlanMode {
        /// `private`: no traffic between siblings.
        Private = 1, "private";
        /// `vepa`: siblings talk through the external switch.
        Vepa = 2, "vepa";
        /// `bridge`: siblings talk directly.
        Bridge = 4, "bridge";
        /// `passthru`: one device takes the parent over.
        Passthru = 8, "passthru";
        /// `source`: accept only listed source addresses.
        Source = 16, "source";
    }
}

/// The options of a macvlan or macvtap device (`ip link add link PARENT
/// NAME type macvlan mode MODE`, ip-link(8)). The parent is given with
/// [`LinkBuilder::parent`](crate::LinkBuilder::parent) and read back with
/// [`Link::parent_index`](crate::Link::parent_index). One type both ways:
/// `None` leaves the kernel's default (`vepa`) when creating.
///
/// ```no_run
/// use nslink::{KindOptions, LinkBuilder, MacvlanMode, MacvlanOptions, NetNs, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let pod = NetNs::new()?;
/// // A macvlan on eth0, created directly inside the pod (CNI's macvlan plugin).
/// LinkBuilder::new("eth1", MacvlanOptions { mode: Some(MacvlanMode::Bridge) })
///     .parent("eth0")
///     .netns(&pod)
///     .create(&nl)?;
/// let tap = KindOptions::Macvtap(MacvlanOptions { mode: Some(MacvlanMode::Passthru) });
/// LinkBuilder::new("mvtap0", tap).parent("eth1").create(&nl)?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MacvlanOptions {
    /// `mode`.
    pub mode: Option<MacvlanMode>,
}

impl MacvlanOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        match self.mode {
            Some(MacvlanMode::Other(v)) => Err(format!("macvlan mode {v} has no name here")),
            _ => Ok(()),
        }
    }

    pub(super) fn macvlan_data(&self) -> Option<InfoData> {
        let mode = self.mode?;
        Some(InfoData::MacVlan(vec![InfoMacVlan::Mode(RawMode::from(mode.value()))]))
    }

    pub(super) fn macvtap_data(&self) -> Option<InfoData> {
        let mode = self.mode?;
        Some(InfoData::MacVtap(vec![InfoMacVtap::Mode(RawMode::from(mode.value()))]))
    }

    pub(super) fn decode_macvlan(data: &[u8]) -> Result<MacvlanOptions, String> {
        let mut o = MacvlanOptions::default();
        for a in nlas::<InfoMacVlan>(data)? {
            if let InfoMacVlan::Mode(m) = a {
                o.mode = Some(MacvlanMode::from_value(u32::from(m)));
            }
        }
        Ok(o)
    }

    pub(super) fn decode_macvtap(data: &[u8]) -> Result<MacvlanOptions, String> {
        let mut o = MacvlanOptions::default();
        for a in nlas::<InfoMacVtap>(data)? {
            if let InfoMacVtap::Mode(m) = a {
                o.mode = Some(MacvlanMode::from_value(u32::from(m)));
            }
        }
        Ok(o)
    }
}
