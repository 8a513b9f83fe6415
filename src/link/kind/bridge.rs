//! [`BridgeOptions`]: a bridge's options (`IFLA_BR_*`).

use std::time::Duration;

use netlink_packet_route::link::{BridgeStpState, InfoBridge, InfoData};

use super::nlas;

/// The options of a bridge (`ip link add NAME type bridge stp_state 0 …`,
/// ip-link(8)), one type both ways: `None` leaves the kernel's default
/// when creating; read back, the kernel reports them all.
/// [`Bridge::builder`](crate::Bridge::builder) sets the same options.
///
/// ```no_run
/// use std::time::Duration;
/// use nslink::{BridgeOptions, LinkBuilder, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let o = BridgeOptions { stp: Some(false), ageing_time: Some(Duration::from_secs(60)), ..Default::default() };
/// LinkBuilder::new("br0", o).up().create(&nl)?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BridgeOptions {
    /// `stp_state` (`IFLA_BR_STP_STATE`): spanning tree on (in the kernel)
    /// or off. A bridge whose STP runs in user space reads as `Some(true)`.
    pub stp: Option<bool>,
    /// `forward_delay` (`IFLA_BR_FORWARD_DELAY`), in hundredths of a
    /// second to the kernel.
    pub forward_delay: Option<Duration>,
    /// `ageing_time` (`IFLA_BR_AGEING_TIME`): how long learned addresses
    /// stay.
    pub ageing_time: Option<Duration>,
    /// `vlan_filtering` (`IFLA_BR_VLAN_FILTERING`).
    pub vlan_filtering: Option<bool>,
}

/// The kernel's bridge timers are in hundredths of a second.
fn centis(d: Duration) -> u32 {
    u32::try_from(d.as_millis() / 10).unwrap_or(u32::MAX)
}

fn from_centis(c: u32) -> Duration {
    Duration::from_millis(u64::from(c) * 10)
}

impl BridgeOptions {
    pub(super) fn data(&self) -> Option<InfoData> {
        let mut data = Vec::new();
        if let Some(on) = self.stp {
            data.push(InfoBridge::StpState(if on {
                BridgeStpState::KernelStp
            } else {
                BridgeStpState::Disabled
            }));
        }
        if let Some(d) = self.forward_delay {
            data.push(InfoBridge::ForwardDelay(centis(d)));
        }
        if let Some(d) = self.ageing_time {
            data.push(InfoBridge::AgeingTime(centis(d)));
        }
        if let Some(on) = self.vlan_filtering {
            data.push(InfoBridge::VlanFiltering(on));
        }
        (!data.is_empty()).then_some(InfoData::Bridge(data))
    }

    pub(super) fn decode(data: &[u8]) -> Result<BridgeOptions, String> {
        let mut o = BridgeOptions::default();
        for a in nlas::<InfoBridge>(data)? {
            match a {
                InfoBridge::StpState(s) => o.stp = Some(s != BridgeStpState::Disabled),
                InfoBridge::ForwardDelay(c) => o.forward_delay = Some(from_centis(c)),
                InfoBridge::AgeingTime(c) => o.ageing_time = Some(from_centis(c)),
                InfoBridge::VlanFiltering(b) => o.vlan_filtering = Some(b),
                _ => {}
            }
        }
        Ok(o)
    }
}
