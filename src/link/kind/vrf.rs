//! [`VrfOptions`]: a VRF's routing table (`IFLA_VRF_TABLE`).

use netlink_packet_route::link::{InfoData, InfoVrf};

use super::nlas;

/// The options of a VRF device (`ip link add NAME type vrf table TABLE`,
/// ip-link(8); ip-vrf(8)). One type both ways; the table is required to
/// create one. Devices join the VRF as ports
/// ([`LinkBuilder::master`](crate::LinkBuilder::master),
/// [`RouteSocket::set_master`](crate::RouteSocket::set_master)).
///
/// ```no_run
/// use nslink::{LinkBuilder, RouteSocket, VrfOptions};
///
/// let nl = RouteSocket::open()?;
/// LinkBuilder::new("vrf-blue", VrfOptions { table: Some(10) }).up().create(&nl)?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VrfOptions {
    /// `table` (`IFLA_VRF_TABLE`): the routing table of the VRF, not 0.
    pub table: Option<u32>,
}

impl VrfOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        match self.table {
            None => Err("a vrf needs a routing table".into()),
            Some(0) => Err("table 0 is not a routing table a vrf can use".into()),
            Some(_) => Ok(()),
        }
    }

    pub(super) fn data(&self) -> InfoData {
        InfoData::Vrf(self.table.map(InfoVrf::TableId).into_iter().collect())
    }

    pub(super) fn decode(data: &[u8]) -> Result<VrfOptions, String> {
        let mut o = VrfOptions::default();
        for a in nlas::<InfoVrf>(data)? {
            if let InfoVrf::TableId(t) = a {
                o.table = Some(t);
            }
        }
        Ok(o)
    }
}
