//! [`VethOptions`]: the peer of a veth made by [`LinkBuilder`](crate::LinkBuilder).

use crate::link::MacAddr;
use crate::name::IfName;

/// The peer of a veth pair made with [`LinkBuilder`](crate::LinkBuilder)
/// (`ip link add NAME type veth peer name PEER address MAC`, ip-link(8)).
/// The peer's namespace is given with
/// [`LinkBuilder::peer_netns`](crate::LinkBuilder::peer_netns);
/// [`VethPair::builder`](crate::VethPair::builder) does the same and
/// returns both ends.
///
/// Read back, both fields are `None`: the kernel reports no peer in a
/// veth's data (its index is [`Link::parent_index`](crate::Link::parent_index)).
///
/// ```no_run
/// use nslink::{LinkBuilder, RouteSocket, VethOptions};
///
/// let nl = RouteSocket::open()?;
/// let o = VethOptions { peer: Some("vb".parse()?), peer_mac: Some("02:00:00:00:00:0b".parse()?) };
/// let va = LinkBuilder::new("va", o).mtu(1450).create(&nl)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VethOptions {
    /// The peer's name. Required to create one.
    pub peer: Option<IfName>,
    /// The peer's hardware address.
    pub peer_mac: Option<MacAddr>,
}

impl VethOptions {
    pub(super) fn check(&self) -> Result<(), String> {
        match self.peer {
            None => Err("a veth needs a peer name".into()),
            Some(_) => Ok(()),
        }
    }
}
