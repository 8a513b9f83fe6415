//! [`Bridge`]: create bridges, attach and detach ports, port flags.

use std::time::Duration;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoBridgePort, InfoPortData, InfoPortKind, LinkAttribute, LinkInfo,
};

use super::{BridgeOptions, IntoLinkId, Link, LinkBuilder, LinkId, LinkKind, MacAddr, message_for};
use crate::error::{Error, Object, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::{ReplyError, RouteSocket};

/// The failing object for a device named by `id`: `link "eth0"` or
/// `link 7`.
pub(super) fn link_object(id: &LinkId) -> Object {
    match id {
        LinkId::Index(i) => Object::link_index(*i),
        LinkId::Name(n) => Object::link_name(n),
    }
}

/// A bridge device (a software switch): the node side of a pod network, like
/// Docker's `docker0` or CNI's `cni0`.
///
/// `&Bridge` names the device wherever a device is expected
/// ([`IntoLinkId`]): it stands for the bridge's index, in the namespace of
/// the socket that made or opened it.
///
/// ```no_run
/// use nslink::{Bridge, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let br = Bridge::builder("cni0")
///     .stp(false)
///     .mac("02:42:0a:f4:01:01".parse()?)   // fixed: the MAC won't change as ports join
///     .up()
///     .create(&nl)?;
/// br.attach(&nl, "veth-pod1")?;
/// assert_eq!(br.ports(&nl)?.len(), 1);
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    index: u32,
    name: IfName,
}

/// Options of a new bridge (`ip link add NAME type bridge …`,
/// ip-link(8)); finish with [`create`](BridgeBuilder::create).
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let builder = nslink::Bridge::builder("br0").stp(false).up();
/// let br = builder.create(&nl)?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `create` is called"]
pub struct BridgeBuilder {
    name: Result<IfName>,
    stp: Option<bool>,
    forward_delay: Option<Duration>,
    ageing_time: Option<Duration>,
    vlan_filtering: Option<bool>,
    mac: Option<MacAddr>,
    mtu: Option<u32>,
    up: bool,
}

impl Bridge {
    /// Starts describing a bridge named `name`, like
    /// `ip link add NAME type bridge`.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nslink::Bridge::builder("br0").stp(false).up().create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link add type bridge")]
    pub fn builder(name: impl IntoIfName) -> BridgeBuilder {
        BridgeBuilder {
            name: name.into_ifname(),
            stp: None,
            forward_delay: None,
            ageing_time: None,
            vlan_filtering: None,
            mac: None,
            mtu: None,
            up: false,
        }
    }

    /// Looks up an existing bridge.
    ///
    /// Kernel: one `RTM_GETLINK` request (rtnetlink(7)), checking
    /// `IFLA_INFO_KIND` is `bridge`. No privilege.
    ///
    /// # Errors
    /// [`Error::NotFound`] if there is no such device;
    /// [`Error::InvalidArgument`] if it is not a bridge.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nslink::Bridge::open(&nl, "cni0")?;
    /// println!("{} has {} ports", br.name(), br.ports(&nl)?.len());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open(nl: &RouteSocket, id: impl IntoLinkId) -> Result<Bridge> {
        let link = nl.require_link(id)?;
        if link.kind() != &LinkKind::Bridge {
            return Err(Error::InvalidArgument {
                op: Op::GetLink,
                object: Object::link_name(link.name()),
                detail: format!("is a {} device, not a bridge", link.kind()),
            });
        }
        Ok(Bridge { index: link.index(), name: link.name().clone() })
    }

    /// The bridge's index.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nslink::Bridge::open(&nl, "cni0")?;
    /// assert_eq!(nl.require_link(&br)?.index(), br.index());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The bridge's name.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// assert_eq!(nslink::Bridge::open(&nl, "cni0")?.name(), "cni0");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// Attaches `port` to this bridge, like `ip link set PORT master BR`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_MASTER` (rtnetlink(7)), after
    /// checking the bridge still exists (two round trips); needs
    /// `CAP_NET_ADMIN`. See [`RouteSocket::set_master`].
    ///
    /// # Errors
    /// As [`RouteSocket::set_master`]: [`Error::NotFound`] if the bridge is
    /// gone.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::open(&nl, "cni0")?.attach(&nl, "veth1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn attach(&self, nl: &RouteSocket, port: impl IntoLinkId) -> Result<()> {
        nl.set_master(port, self.index)
    }

    /// Detaches `port` from this bridge, like `ip link set PORT nomaster`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_MASTER` 0 (rtnetlink(7)); needs
    /// `CAP_NET_ADMIN`. It detaches `port` from whatever master it has.
    ///
    /// # Errors
    /// As [`RouteSocket::set_nomaster`].
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::open(&nl, "cni0")?.detach(&nl, "veth1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn detach(&self, nl: &RouteSocket, port: impl IntoLinkId) -> Result<()> {
        nl.set_nomaster(port)
    }

    /// The ports of this bridge, like `bridge link show master BR`.
    ///
    /// Kernel: an `RTM_GETLINK` dump of every device (rtnetlink(7)),
    /// filtered on `IFLA_MASTER` here; bridge(8) `link show`. No privilege;
    /// costs a dump of the whole namespace plus one lookup.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// for port in nslink::Bridge::open(&nl, "cni0")?.ports(&nl)? {
    ///     println!("{} hairpin {:?}", port.name(), port.bridge_port().and_then(|p| p.hairpin));
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn ports(&self, nl: &RouteSocket) -> Result<Vec<Link>> {
        nl.bridge_ports(self.index)
    }
}

impl BridgeBuilder {
    /// Spanning tree on or off (`stp_state`; off by default in the kernel).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::builder("br0").stp(true).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn stp(mut self, on: bool) -> Self {
        self.stp = Some(on);
        self
    }
    /// STP forward delay (`forward_delay`).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::builder("br0").stp(true).forward_delay(Duration::from_secs(4)).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn forward_delay(mut self, d: Duration) -> Self {
        self.forward_delay = Some(d);
        self
    }
    /// How long learned addresses stay in the forwarding table
    /// (`ageing_time`).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::builder("br0").ageing_time(Duration::from_secs(60)).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn ageing_time(mut self, d: Duration) -> Self {
        self.ageing_time = Some(d);
        self
    }
    /// VLAN filtering (`vlan_filtering`).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::builder("br0").vlan_filtering(true).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn vlan_filtering(mut self, on: bool) -> Self {
        self.vlan_filtering = Some(on);
        self
    }
    /// A fixed hardware address. Without one, a bridge takes the lowest
    /// address of its ports and changes it as ports come and go, which can
    /// stall ARP on the other side.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nslink::Bridge::builder("br0").mac("02:42:0a:f4:01:01".parse()?).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mac(mut self, mac: MacAddr) -> Self {
        self.mac = Some(mac);
        self
    }
    /// MTU.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::Bridge::builder("br0").mtu(1450).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }
    /// Brings the bridge up at creation.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nslink::Bridge::builder("br0").up().create(&nl)?;
    /// assert!(nl.require_link(&br)?.is_up());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn up(mut self) -> Self {
        self.up = true;
        self
    }

    /// Creates the bridge in the socket's namespace.
    ///
    /// Kernel: `RTM_NEWLINK` with `NLM_F_CREATE|NLM_F_EXCL`,
    /// `IFLA_INFO_KIND` `bridge` and the options in `IFLA_INFO_DATA`
    /// (`IFLA_BR_STP_STATE`, `IFLA_BR_FORWARD_DELAY`, …; rtnetlink(7),
    /// ip-link(8) `add type bridge`): one round trip, the bridge coming
    /// back as [`LinkBuilder::create`](crate::LinkBuilder::create) says.
    /// Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] before sending; [`Error::Os`] with `EEXIST` when
    /// the name is taken; the kernel's reason (with its message) for an
    /// option it refuses.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nslink::Bridge::builder("br0")
    ///     .forward_delay(std::time::Duration::from_secs(4))
    ///     .ageing_time(std::time::Duration::from_secs(300))
    ///     .create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn create(self, nl: &RouteSocket) -> Result<Bridge> {
        let options = BridgeOptions {
            stp: self.stp,
            forward_delay: self.forward_delay,
            ageing_time: self.ageing_time,
            vlan_filtering: self.vlan_filtering,
        };
        let mut b = LinkBuilder::with(self.name, options.into());
        if let Some(mac) = self.mac {
            b = b.mac(mac);
        }
        if let Some(mtu) = self.mtu {
            b = b.mtu(mtu);
        }
        if self.up {
            b = b.up();
        }
        let link = b.create(nl)?;
        Ok(Bridge { index: link.index(), name: link.name().clone() })
    }
}

/// The flags of one bridge port (`IFLA_BRPORT_*` in
/// `IFLA_INFO_SLAVE_DATA`), one type both ways:
///
/// - to set them, like `bridge link set dev PORT hairpin on …`
///   (bridge(8)), with [`RouteSocket::set_bridge_port`]: `None` leaves a
///   flag as it is;
/// - to read them back, as `ip -d link` and `bridge -d link` show them,
///   from [`Link::bridge_port`]: `None` is a flag the kernel did not report.
///
/// ```no_run
/// use nslink::{BridgePortOptions, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// let wanted = BridgePortOptions { hairpin: Some(true), learning: Some(false), ..Default::default() };
/// nl.set_bridge_port("veth-pod1", wanted)?;
/// let now = nl.require_link("veth-pod1")?.bridge_port().expect("a bridge port");
/// assert_eq!((now.hairpin, now.learning), (Some(true), Some(false)));
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct BridgePortOptions {
    /// `hairpin` (`IFLA_BRPORT_MODE`): send frames back out of the port
    /// they came in on.
    pub hairpin: Option<bool>,
    /// `learning` (`IFLA_BRPORT_LEARNING`): learn source addresses seen on
    /// this port.
    pub learning: Option<bool>,
    /// `flood` (`IFLA_BRPORT_UNICAST_FLOOD`): flood unknown unicast to this
    /// port.
    pub unicast_flood: Option<bool>,
    /// `isolated` (`IFLA_BRPORT_ISOLATED`): isolated ports only talk to
    /// non-isolated ones.
    pub isolated: Option<bool>,
    /// `cost` (`IFLA_BRPORT_COST`): STP path cost.
    pub cost: Option<u32>,
}

impl IntoLinkId for &Bridge {
    /// The bridge's index.
    fn into_link_id(self) -> Result<LinkId> {
        Ok(LinkId::Index(self.index))
    }
}

/// `"veth0"` or `link 7`, for the words that place an object.
fn words(id: &LinkId) -> String {
    match id {
        LinkId::Index(i) => format!("link {i}"),
        LinkId::Name(n) => format!("\"{n}\""),
    }
}

impl RouteSocket {
    /// The index of the would-be master `master` in this namespace, or
    /// [`Error::NotFound`] naming it.
    fn master_index(&self, op: Op, master: &LinkId, port: &LinkId) -> Result<u32> {
        match self.link(master)? {
            Some(l) => Ok(l.index()),
            None => Err(Error::NotFound {
                errno: None,
                extack: None,
                op,
                object: link_object(master).with_detail(format!("(master for {})", words(port))),
            }),
        }
    }

    /// Attaches `port` to the bridge `master`, like
    /// `ip link set PORT master BR`. Both are looked up in this socket's
    /// namespace: a device in another namespace cannot join.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_MASTER` (rtnetlink(7); ip-link(8)
    /// `set master`). Needs `CAP_NET_ADMIN`. The master is looked up first
    /// (`RTM_GETLINK`, so two round trips): the kernel would answer a
    /// missing master with a bare `EINVAL`, after taking the port off its
    /// current bridge.
    ///
    /// # Errors
    /// [`Error::NotFound`] naming the master when there is no such device;
    /// [`Error::Os`] with `ENODEV` ([`Error::is_not_found`]) when the port
    /// does not exist; the kernel's reason otherwise (e.g. `EOPNOTSUPP` for
    /// a master that takes no ports).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_master("veth-pod1", "cni0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set master")]
    pub fn set_master(&self, port: impl IntoLinkId, master: impl IntoLinkId) -> Result<()> {
        let port = port.into_link_id()?;
        let master = master.into_link_id()?;
        let master_index = self.master_index(Op::SetMaster, &master, &port)?;
        self.set_link(Op::SetMaster, port.clone(), |m| {
            m.attributes.push(LinkAttribute::Controller(master_index))
        })
        .map_err(|e| match e {
            Error::Os { op, .. } | Error::NotFound { op, .. } => {
                e.with_object(op, link_object(&port).with_detail(format!("to {}", words(&master))))
            }
            e => e,
        })
    }

    /// Detaches `port` from its bridge, like `ip link set PORT nomaster`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_MASTER` 0 (rtnetlink(7); ip-link(8)
    /// `set nomaster`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` ([`Error::is_not_found`]) for a missing
    /// port.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_nomaster("veth1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set nomaster")]
    pub fn set_nomaster(&self, port: impl IntoLinkId) -> Result<()> {
        self.set_link(Op::SetMaster, port.into_link_id()?, |m| {
            m.attributes.push(LinkAttribute::Controller(0))
        })
    }

    /// The links whose master is `bridge`, like `bridge link show`.
    ///
    /// Kernel: one `RTM_GETLINK` request for the bridge, then an
    /// `RTM_GETLINK` dump of every device (rtnetlink(7)) filtered on
    /// `IFLA_MASTER` here; bridge(8) `link show`. No privilege; the cost of
    /// a dump of the whole namespace.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such device; the exchange
    /// errors.
    ///
    /// ```no_run
    /// let ports = nslink::RouteSocket::open()?.bridge_ports("cni0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn bridge_ports(&self, bridge: impl IntoLinkId) -> Result<Vec<Link>> {
        let bridge = bridge.into_link_id()?;
        let Some(index) = self.link(&bridge)?.map(|l| l.index()) else {
            return Err(Error::NotFound {
                errno: None,
                extack: None,
                op: Op::ListLinks,
                object: link_object(&bridge),
            });
        };
        Ok(self.links()?.into_iter().filter(|l| l.master() == Some(index)).collect())
    }

    /// Changes bridge-port flags, like
    /// `bridge link set dev PORT hairpin on learning off`. Read them back
    /// with [`Link::bridge_port`], which returns the same type.
    ///
    /// Kernel: `RTM_NEWLINK` on the existing port (no `NLM_F_CREATE`) with
    /// `IFLA_INFO_SLAVE_KIND` `bridge` and the `IFLA_BRPORT_*` flags in
    /// `IFLA_INFO_SLAVE_DATA` (rtnetlink(7); bridge(8) `link set`, ip-link(8)
    /// `type bridge_slave`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EOPNOTSUPP` or `EINVAL` when `port` is not a bridge
    /// port; `ENODEV` ([`Error::is_not_found`]) when it does not exist.
    ///
    /// ```no_run
    /// use nslink::BridgePortOptions;
    ///
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_bridge_port("veth-pod1", BridgePortOptions { hairpin: Some(true), ..Default::default() })?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge link set")]
    pub fn set_bridge_port(&self, port: impl IntoLinkId, opts: BridgePortOptions) -> Result<()> {
        let port = port.into_link_id()?;
        let mut data = Vec::new();
        if let Some(b) = opts.hairpin {
            data.push(InfoBridgePort::HairpinMode(b));
        }
        if let Some(b) = opts.learning {
            data.push(InfoBridgePort::Learning(b));
        }
        if let Some(b) = opts.unicast_flood {
            data.push(InfoBridgePort::UnicastFlood(b));
        }
        if let Some(b) = opts.isolated {
            data.push(InfoBridgePort::Isolated(b));
        }
        if let Some(c) = opts.cost {
            data.push(InfoBridgePort::Cost(c));
        }
        // Port options travel as IFLA_INFO_SLAVE_DATA in an RTM_NEWLINK on
        // the existing device (RTM_SETLINK ignores IFLA_LINKINFO).
        let mut m = message_for(&port);
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(data)),
        ]));
        let op = Op::SetBridgePort;
        match self.request_reply(op, RouteNetlinkMessage::NewLink(m), 0)? {
            Ok(_) => Ok(()),
            Err(ReplyError::Kernel(r)) => {
                Err(Error::kernel(op, link_object(&port), r.errno, r.ack.message))
            }
            Err(ReplyError::Other(e)) => Err(e),
        }
    }
}
