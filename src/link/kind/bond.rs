//! [`BondOptions`]: a bond's mode and link monitoring (`IFLA_BOND_*`), and
//! enslaving ports.

use std::time::Duration;

use netlink_packet_route::link::{BondMode as RawMode, InfoBond, InfoData};

use super::{fmt, nlas, option_enum};
use crate::error::{Error, Object, Op, Result};
use crate::link::{IntoLinkId, LinkFlags};
use crate::netlink::RouteSocket;

option_enum! {
    /// How a bond spreads traffic over its ports (`IFLA_BOND_MODE`;
    /// `mode` in ip-link(8) `type bond`, the kernel's bonding.rst).
    ///
    /// ```
    /// use nslink::BondMode;
    ///
    /// assert_eq!("802.3ad".parse::<BondMode>()?, BondMode::Ieee8023ad);
    /// assert_eq!("1".parse::<BondMode>()?, BondMode::ActiveBackup);
    /// assert!("7".parse::<BondMode>().is_err());
    /// assert!("round-robin".parse::<BondMode>().is_err());
    /// # Ok::<(), nslink::link::ParseLinkOptionError>(())
    /// ```
    pub enum BondMode: u8 as BondMode {
        /// `balance-rr`: round robin.
        BalanceRr = 0, "balance-rr";
        /// `active-backup`: one port at a time.
        ActiveBackup = 1, "active-backup";
        /// `balance-xor`: by a hash of the packet.
        BalanceXor = 2, "balance-xor";
        /// `broadcast`: every packet on every port.
        Broadcast = 3, "broadcast";
        /// `802.3ad`: LACP link aggregation.
        Ieee8023ad = 4, "802.3ad";
        /// `balance-tlb`: adaptive transmit load balancing.
        BalanceTlb = 5, "balance-tlb";
        /// `balance-alb`: adaptive load balancing.
        BalanceAlb = 6, "balance-alb";
    }
}

/// The options of a bond (`ip link add NAME type bond mode MODE miimon
/// MS`, ip-link(8)). One type both ways: `None` leaves the kernel's
/// default (`balance-rr`, no MII monitoring) when creating.
///
/// Ports join with [`RouteSocket::bond_enslave`] and leave with
/// [`RouteSocket::bond_release`].
///
/// ```no_run
/// use std::time::Duration;
/// use nslink::{BondMode, BondOptions, LinkBuilder, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let o = BondOptions { mode: Some("active-backup".parse()?), miimon: Some(Duration::from_millis(100)) };
/// LinkBuilder::new("bond0", o).create(&nl)?;
/// nl.bond_enslave("eth1", "bond0")?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BondOptions {
    /// `mode` (`IFLA_BOND_MODE`).
    pub mode: Option<BondMode>,
    /// `miimon` (`IFLA_BOND_MIIMON`): how often the ports' carrier is
    /// checked, in whole milliseconds (zero: never).
    pub miimon: Option<Duration>,
}

impl BondOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        if let Some(BondMode::Other(m)) = self.mode {
            return Err(format!("bond mode {m} has no name here"));
        }
        if let Some(d) = self.miimon
            && u32::try_from(d.as_millis()).is_err()
        {
            return Err(format!("miimon {d:?} is out of range"));
        }
        Ok(())
    }

    pub(super) fn data(&self) -> Option<InfoData> {
        let mut v = Vec::new();
        if let Some(m) = self.mode {
            v.push(InfoBond::Mode(RawMode::from(m.value())));
        }
        if let Some(d) = self.miimon {
            v.push(InfoBond::MiiMon(u32::try_from(d.as_millis()).unwrap_or(u32::MAX)));
        }
        (!v.is_empty()).then_some(InfoData::Bond(v))
    }

    pub(super) fn decode(data: &[u8]) -> Result<BondOptions, String> {
        let mut o = BondOptions::default();
        for a in nlas::<InfoBond>(data)? {
            match a {
                InfoBond::Mode(m) => o.mode = Some(BondMode::from_value(u8::from(m))),
                InfoBond::MiiMon(ms) => o.miimon = Some(Duration::from_millis(u64::from(ms))),
                _ => {}
            }
        }
        Ok(o)
    }
}

impl RouteSocket {
    /// Makes `port` a port of the bond `bond`, like
    /// `ip link set PORT master BOND`. The bonding driver takes only a port
    /// that is down: a port that is up is taken down first (the bond
    /// brings its ports up itself).
    ///
    /// Kernel: `RTM_GETLINK` for both, an `RTM_SETLINK` clearing `IFF_UP`
    /// when the port is up, then `RTM_SETLINK` with `IFLA_MASTER`
    /// (rtnetlink(7); ip-link(8) `set master`): three or four round trips.
    /// Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing port or bond;
    /// [`Error::InvalidArgument`] when `bond` is not a bond; the kernel's
    /// reason otherwise (a port that is already enslaved elsewhere is
    /// `EBUSY`), and a port taken down for it is brought up again.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.bond_enslave("eth1", "bond0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set master")]
    pub fn bond_enslave(&self, port: impl IntoLinkId, bond: impl IntoLinkId) -> Result<()> {
        let port = self.require_link(port)?;
        let bond = self.require_link(bond)?;
        if bond.kind() != &super::LinkKind::Bond {
            return Err(Error::InvalidArgument {
                op: Op::SetMaster,
                object: Object::link_name(bond.name()),
                detail: format!("is a {} device, not a bond", bond.kind()),
            });
        }
        let was_up = port.flags().contains(LinkFlags::UP);
        if was_up {
            self.set_down(port.index())?;
        }
        self.set_master(port.index(), bond.index()).inspect_err(|_| {
            // Refused: the port is left as it was found.
            if was_up {
                let _ = self.set_up(port.index());
            }
        })
    }

    /// Takes `port` out of its bond, like `ip link set PORT nomaster`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_MASTER` 0 (rtnetlink(7); ip-link(8)
    /// `set nomaster`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`RouteSocket::set_nomaster`].
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.bond_release("eth1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set nomaster")]
    pub fn bond_release(&self, port: impl IntoLinkId) -> Result<()> {
        self.set_nomaster(port)
    }
}
