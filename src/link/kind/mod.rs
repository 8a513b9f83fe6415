//! [`LinkKind`]: what a device is.

use std::fmt;

use nix::libc::{ARPHRD_ETHER, ARPHRD_LOOPBACK};

/// The kind of a device: `IFLA_INFO_KIND` when the driver reports one (as
/// `ip -d link` shows after the flags), otherwise derived from the link
/// layer type (`lo` is [`LinkKind::Loopback`], a plain NIC is
/// [`LinkKind::Ethernet`]).
///
/// ```
/// use nslink::LinkKind;
///
/// assert_eq!(LinkKind::Veth.to_string(), "veth");
/// assert_eq!(format!("[{:<8}]", LinkKind::Loopback), "[loopback]");
/// assert_eq!(LinkKind::Other("geneve".into()).info_kind(), Some("geneve"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// The loopback device.
    Loopback,
    /// A device without a kind whose link type is Ethernet (a physical NIC,
    /// or a virtio one).
    Ethernet,
    /// One end of a veth pair.
    Veth,
    /// A bridge.
    Bridge,
    /// A VXLAN tunnel.
    Vxlan,
    /// A macvlan device.
    Macvlan,
    /// A macvtap device.
    Macvtap,
    /// A tun device (layer 3).
    Tun,
    /// A tap device (layer 2).
    Tap,
    /// A dummy device.
    Dummy,
    /// An 802.1Q VLAN device.
    Vlan,
    /// A bond.
    Bond,
    /// An ipvlan device.
    Ipvlan,
    /// An intermediate functional block (`ifb`).
    Ifb,
    /// A WireGuard device.
    Wireguard,
    /// Any other kind, by its `IFLA_INFO_KIND` string.
    Other(String),
    /// No kind and a link layer nslink does not name (the `ARPHRD_*` value).
    Unknown(u16),
}

impl LinkKind {
    pub(super) fn from_parts(kind: Option<&str>, link_type: u16, tap: bool) -> LinkKind {
        match kind {
            Some("veth") => LinkKind::Veth,
            Some("bridge") => LinkKind::Bridge,
            Some("vxlan") => LinkKind::Vxlan,
            Some("macvlan") => LinkKind::Macvlan,
            Some("macvtap") => LinkKind::Macvtap,
            Some("tun") if tap => LinkKind::Tap,
            Some("tun") => LinkKind::Tun,
            Some("dummy") => LinkKind::Dummy,
            Some("vlan") => LinkKind::Vlan,
            Some("bond") => LinkKind::Bond,
            Some("ipvlan") => LinkKind::Ipvlan,
            Some("ifb") => LinkKind::Ifb,
            Some("wireguard") => LinkKind::Wireguard,
            Some(other) => LinkKind::Other(other.to_owned()),
            None if link_type == ARPHRD_LOOPBACK => LinkKind::Loopback,
            None if link_type == ARPHRD_ETHER => LinkKind::Ethernet,
            None => LinkKind::Unknown(link_type),
        }
    }

    /// The `IFLA_INFO_KIND` string (`"veth"`, `"bridge"`, …), or `None` for
    /// kinds the kernel does not name (loopback, plain Ethernet).
    ///
    /// ```
    /// use nslink::LinkKind;
    ///
    /// assert_eq!(LinkKind::Bridge.info_kind(), Some("bridge"));
    /// assert_eq!(LinkKind::Tap.info_kind(), Some("tun"));
    /// assert_eq!(LinkKind::Ethernet.info_kind(), None);
    /// ```
    pub fn info_kind(&self) -> Option<&str> {
        Some(match self {
            LinkKind::Loopback | LinkKind::Ethernet | LinkKind::Unknown(_) => return None,
            LinkKind::Veth => "veth",
            LinkKind::Bridge => "bridge",
            LinkKind::Vxlan => "vxlan",
            LinkKind::Macvlan => "macvlan",
            LinkKind::Macvtap => "macvtap",
            LinkKind::Tun | LinkKind::Tap => "tun",
            LinkKind::Dummy => "dummy",
            LinkKind::Vlan => "vlan",
            LinkKind::Bond => "bond",
            LinkKind::Ipvlan => "ipvlan",
            LinkKind::Ifb => "ifb",
            LinkKind::Wireguard => "wireguard",
            LinkKind::Other(s) => s,
        })
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkKind::Loopback => f.pad("loopback"),
            LinkKind::Ethernet => f.pad("ethernet"),
            LinkKind::Tap => f.pad("tap"),
            LinkKind::Unknown(t) => f.pad(&format!("link type {t}")),
            other => f.pad(other.info_kind().unwrap_or("?")),
        }
    }
}
