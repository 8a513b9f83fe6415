//! A device's settings and counters beyond its name and addresses: group,
//! transmit queue length, promiscuous and all-multicast modes, ARP, carrier,
//! statistics (`IFLA_STATS64`) and alternative names, read from
//! [`Link`] and changed through [`RouteSocket`].

use netlink_packet_route::link::{LinkAttribute, LinkFlags as RawFlags};

use super::altname::AltName;
use super::group::LinkGroup;
use super::stats::LinkStats;
use super::{IntoLinkId, Link, LinkFlags, set_link_request};
use crate::error::{Op, Result};
use crate::netlink::RouteSocket;

/// What a link message says about the settings of this module (filled by
/// the decoder in `parse.rs`).
#[derive(Debug, Clone, Default)]
pub(super) struct Settings {
    /// `IFLA_TXQLEN`.
    pub(super) txqueuelen: Option<u32>,
    /// `IFLA_GROUP`.
    pub(super) group: LinkGroup,
    /// `IFLA_PROMISCUITY`.
    pub(super) promiscuity: Option<u32>,
    /// `IFLA_CARRIER`.
    pub(super) carrier: Option<bool>,
    /// `IFLA_CARRIER_CHANGES`.
    pub(super) carrier_changes: Option<u32>,
    /// `IFLA_STATS64`.
    pub(super) stats: Option<LinkStats>,
    /// `IFLA_PROP_LIST` / `IFLA_ALT_IFNAME`, in the kernel's order.
    pub(super) altnames: Vec<AltName>,
}

impl Link {
    /// The device's group (`IFLA_GROUP`; `ip link set DEV group N`), 0 —
    /// [`LinkGroup::DEFAULT`] — unless someone set another.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_group("veth0", 7)?;
    /// assert_eq!(nl.require_link("veth0")?.group().value(), 7);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn group(&self) -> LinkGroup {
        self.settings.group
    }

    /// The transmit queue length (`IFLA_TXQLEN`, `qlen` in `ip link`), when
    /// the kernel sent it (it always does).
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert_eq!(lo.txqueuelen(), Some(1000));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn txqueuelen(&self) -> Option<u32> {
        self.settings.txqueuelen
    }

    /// Whether promiscuous mode was asked for (`IFF_PROMISC` in the flags:
    /// `ip link set DEV promisc on`). A bridge port is promiscuous without
    /// anyone asking; [`promiscuity`](Link::promiscuity) counts every user.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_promisc("veth0", true)?;
    /// assert!(nl.require_link("veth0")?.is_promisc());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn is_promisc(&self) -> bool {
        self.flags.contains(LinkFlags::PROMISC)
    }

    /// How many users hold the device in promiscuous mode
    /// (`IFLA_PROMISCUITY`, `promiscuity` in `ip -d link`): bridges,
    /// packet sockets and `promisc on` each count one.
    ///
    /// ```no_run
    /// let port = nslink::RouteSocket::open()?.require_link("veth1")?;
    /// println!("{} users want everything", port.promiscuity().unwrap_or(0));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn promiscuity(&self) -> Option<u32> {
        self.settings.promiscuity
    }

    /// Whether all-multicast mode was asked for (`IFF_ALLMULTI`:
    /// `ip link set DEV allmulticast on`).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_allmulti("veth0", true)?;
    /// assert!(nl.require_link("veth0")?.is_allmulti());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn is_allmulti(&self) -> bool {
        self.flags.contains(LinkFlags::ALLMULTI)
    }

    /// Whether the device resolves neighbours with ARP: the flag `NOARP` is
    /// *not* set (`ip link set DEV arp on|off`). A tun device has no ARP.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_arp("veth0", false)?;
    /// assert!(!nl.require_link("veth0")?.arp());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn arp(&self) -> bool {
        !self.flags.contains(LinkFlags::NOARP)
    }

    /// The carrier (`IFLA_CARRIER`): `true` when the link layer is up (the
    /// flag `LOWER_UP`; `NO-CARRIER` in `ip link` when it is not).
    ///
    /// ```no_run
    /// let veth0 = nslink::RouteSocket::open()?.require_link("veth0")?;
    /// if veth0.carrier() == Some(false) {
    ///     println!("the peer is down");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn carrier(&self) -> Option<bool> {
        self.settings.carrier
    }

    /// How many times the carrier went up or down (`IFLA_CARRIER_CHANGES`,
    /// `carrier_changes` in `ip -d -s link`).
    ///
    /// ```no_run
    /// let veth0 = nslink::RouteSocket::open()?.require_link("veth0")?;
    /// println!("flapped {} times", veth0.carrier_changes().unwrap_or(0));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn carrier_changes(&self) -> Option<u32> {
        self.settings.carrier_changes
    }

    /// The device's 64-bit counters (`IFLA_STATS64`, `ip -s link`), as they
    /// were when the message was made.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// if let Some(s) = lo.stats() {
    ///     println!("lo: {} packets in, {} out", s.rx_packets, s.tx_packets);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn stats(&self) -> Option<&LinkStats> {
        self.settings.stats.as_ref()
    }

    /// The alternative names (`IFLA_PROP_LIST`, `altname` in `ip link`), in
    /// the order they were added.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_altname("veth0", "pod-a-uplink-to-the-node-bridge")?;
    /// let names = nl.require_link("veth0")?.altnames().to_vec();
    /// assert_eq!(names[0], "pod-a-uplink-to-the-node-bridge");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn altnames(&self) -> &[AltName] {
        &self.settings.altnames
    }
}

impl RouteSocket {
    /// Turns promiscuous mode on or off, like
    /// `ip link set DEV promisc on|off`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFF_PROMISC` in `ifi_flags` and
    /// `ifi_change` (rtnetlink(7); netdevice(7) flags; ip-link(8)
    /// `promisc`). The kernel counts users: this sets or clears the one
    /// the flag stands for. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for a missing device; the
    /// kernel's reason otherwise.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_promisc("veth0", true)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set promisc")]
    pub fn set_promisc(&self, id: impl IntoLinkId, on: bool) -> Result<()> {
        self.set_flag(id, RawFlags::Promisc, on)
    }

    /// Turns all-multicast mode on or off, like
    /// `ip link set DEV allmulticast on|off`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFF_ALLMULTI` in `ifi_flags` and
    /// `ifi_change` (rtnetlink(7); ip-link(8) `allmulticast`). Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`set_promisc`](RouteSocket::set_promisc).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_allmulti("veth0", true)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set allmulticast")]
    pub fn set_allmulti(&self, id: impl IntoLinkId, on: bool) -> Result<()> {
        self.set_flag(id, RawFlags::Allmulti, on)
    }

    /// Turns ARP on or off, like `ip link set DEV arp on|off` (off sets the
    /// flag `NOARP`).
    ///
    /// Kernel: `RTM_SETLINK` with `IFF_NOARP` in `ifi_flags` and
    /// `ifi_change` (rtnetlink(7); ip-link(8) `arp`). Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`set_promisc`](RouteSocket::set_promisc).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_arp("veth0", false)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set arp")]
    pub fn set_arp(&self, id: impl IntoLinkId, on: bool) -> Result<()> {
        self.set_flag(id, RawFlags::Noarp, !on)
    }

    /// Forces the carrier on or off, like `ip link set DEV carrier on|off`,
    /// for drivers that let software decide (tun/tap, dummy); others refuse.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_CARRIER` (rtnetlink(7); ip-link(8)
    /// `carrier`), which calls the driver's `ndo_change_carrier`. Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) with `EOPNOTSUPP` for a driver
    /// without carrier control (veth, bridge); with `EPERM` from tun when
    /// asked for carrier on while no queue is attached (a persistent
    /// device nobody has opened).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_carrier("tap0", false)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set carrier")]
    pub fn set_carrier(&self, id: impl IntoLinkId, on: bool) -> Result<()> {
        self.send_one(set_link_request(Op::SetLink, id.into_link_id()?, |m| {
            m.attributes.push(LinkAttribute::Carrier(u8::from(on)))
        }))
    }

    /// Sets the transmit queue length, like `ip link set DEV txqueuelen N`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_TXQLEN` (rtnetlink(7); ip-link(8)
    /// `txqueuelen`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for a missing device; the
    /// kernel's reason otherwise.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_txqueuelen("veth0", 5000)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set txqueuelen")]
    pub fn set_txqueuelen(&self, id: impl IntoLinkId, len: u32) -> Result<()> {
        self.send_one(set_link_request(Op::SetLink, id.into_link_id()?, |m| {
            m.attributes.push(LinkAttribute::TxQueueLen(len))
        }))
    }

    /// One `RTM_SETLINK` setting or clearing `flag` only.
    fn set_flag(&self, id: impl IntoLinkId, flag: RawFlags, on: bool) -> Result<()> {
        self.send_one(set_link_request(Op::SetLink, id.into_link_id()?, |m| {
            m.header.flags = if on { flag } else { RawFlags::empty() };
            m.header.change_mask = flag;
        }))
    }
}
