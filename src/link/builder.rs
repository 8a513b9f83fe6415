//! [`LinkBuilder`]: one builder for every kind of device.

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkFlags as RawFlags, LinkInfo, LinkMessage};
use nix::errno::Errno;
use std::os::fd::AsRawFd;

use super::create::{Readback, create_link, gone, index_of};
use super::kind::{KindOptions, Parent};
use super::{CREATE, IntoLinkId, Link, LinkId, LinkKind, MacAddr, VethPair};
use crate::error::{Error, Object, Op, ProtocolError, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::{ReplyError, RouteSocket};
use crate::netns::NetNs;

/// A new device of any kind: its name, its kind with the kind's typed
/// options ([`KindOptions`]), and the options every device has (MTU, MAC,
/// queue length, alias, group, master, up, namespace, parent). Like
/// `ip link add NAME … type KIND …` (ip-link(8)); finish with
/// [`create`](LinkBuilder::create).
///
/// Every option is checked before anything is sent: a vxlan without a VNI,
/// a vlan id of 4095, a macvlan without a parent are
/// [`Error::InvalidArgument`] and nothing is made.
///
/// ```no_run
/// use nslink::{LinkBuilder, MacvlanMode, MacvlanOptions, NetNs, RouteSocket, VxlanOptions};
///
/// let nl = RouteSocket::open()?;
/// let pod = NetNs::new()?;
///
/// LinkBuilder::dummy("dummy0").mtu(9000).up().create(&nl)?;
///
/// let vx = VxlanOptions { vni: Some(42), port: Some(4789), ..Default::default() };
/// let vx0 = LinkBuilder::new("vx0", vx).parent("eth0").master("br0").up().create(&nl)?;
///
/// // Made directly inside the pod, on the node's eth0.
/// let mv = MacvlanOptions { mode: Some(MacvlanMode::Bridge) };
/// LinkBuilder::new("eth1", mv).parent("eth0").netns(&pod).create(&nl)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `create` is called"]
pub struct LinkBuilder<'ns> {
    name: Result<IfName>,
    kind: KindOptions,
    /// A mistake found while building (an invalid peer name), reported by
    /// `create`.
    pending: Option<Error>,
    mtu: Option<u32>,
    mac: Option<MacAddr>,
    txqueuelen: Option<u32>,
    alias: Option<String>,
    group: Option<u32>,
    master: Option<Result<LinkId>>,
    parent: Option<Result<LinkId>>,
    up: bool,
    netns: Option<&'ns NetNs>,
    peer_netns: Option<&'ns NetNs>,
}

impl LinkBuilder<'static> {
    /// Starts describing a device named `name` of the kind `options` say,
    /// with those options (`VxlanOptions`, `BondOptions`, … or a
    /// [`KindOptions`]). The name is checked by
    /// [`create`](LinkBuilder::create).
    ///
    /// ```no_run
    /// use nslink::{BondMode, BondOptions, KindOptions, LinkBuilder, RouteSocket};
    ///
    /// let nl = RouteSocket::open()?;
    /// let bond = BondOptions { mode: Some(BondMode::ActiveBackup), ..Default::default() };
    /// LinkBuilder::new("bond0", bond).create(&nl)?;
    /// LinkBuilder::new("ifb9", KindOptions::Ifb).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link add")]
    pub fn new(name: impl IntoIfName, options: impl Into<KindOptions>) -> LinkBuilder<'static> {
        LinkBuilder::with(name.into_ifname(), options.into())
    }

    pub(super) fn with(name: Result<IfName>, kind: KindOptions) -> LinkBuilder<'static> {
        LinkBuilder {
            name,
            kind,
            pending: None,
            mtu: None,
            mac: None,
            txqueuelen: None,
            alias: None,
            group: None,
            master: None,
            parent: None,
            up: false,
            netns: None,
            peer_netns: None,
        }
    }

    /// A dummy device (`type dummy`): a device that drops what it is
    /// sent, to hold addresses.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").up().create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn dummy(name: impl IntoIfName) -> LinkBuilder<'static> {
        LinkBuilder::new(name, KindOptions::Dummy)
    }

    /// An intermediate functional block (`type ifb`), to redirect traffic
    /// to with tc(8).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::ifb("ifb9").create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn ifb(name: impl IntoIfName) -> LinkBuilder<'static> {
        LinkBuilder::new(name, KindOptions::Ifb)
    }

    /// A WireGuard device (`type wireguard`); its keys and peers are set
    /// with wg(8), not here.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::wireguard("wg0").create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn wireguard(name: impl IntoIfName) -> LinkBuilder<'static> {
        LinkBuilder::new(name, KindOptions::Wireguard)
    }

    /// A bridge with the kernel's default options (`type bridge`; see
    /// [`BridgeOptions`](crate::BridgeOptions) and
    /// [`Bridge::builder`](crate::Bridge::builder) for more).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::bridge("br0").up().create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn bridge(name: impl IntoIfName) -> LinkBuilder<'static> {
        LinkBuilder::new(name, crate::BridgeOptions::default())
    }

    /// A veth pair `name` – `peer` (`type veth peer name PEER`); this end
    /// is the one the builder's options and [`create`](LinkBuilder::create)'s
    /// result are about. [`VethPair::builder`] returns both ends.
    ///
    /// ```no_run
    /// let pod = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::veth("veth-pod", "eth0").peer_netns(&pod).up().create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn veth(name: impl IntoIfName, peer: impl IntoIfName) -> LinkBuilder<'static> {
        let (peer, pending) = match peer.into_ifname() {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        let mut b = LinkBuilder::new(name, crate::VethOptions { peer, peer_mac: None });
        b.pending = pending;
        b
    }
}

impl<'ns> LinkBuilder<'ns> {
    /// The MTU (`IFLA_MTU`; `mtu` in ip-link(8)). For a veth, both ends.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").mtu(9000).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }
    /// The hardware address (`IFLA_ADDRESS`; `address`).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").mac("02:00:00:00:00:01".parse()?).create(&nl)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mac(mut self, mac: MacAddr) -> Self {
        self.mac = Some(mac);
        self
    }
    /// The transmit queue length (`IFLA_TXQLEN`; `txqueuelen`).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").txqueuelen(500).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn txqueuelen(mut self, len: u32) -> Self {
        self.txqueuelen = Some(len);
        self
    }
    /// The alias (`IFLA_IFALIAS`; `alias`): at most 255 bytes, checked by
    /// [`create`](LinkBuilder::create).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").alias("uplink of pod a").create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }
    /// The device group (`IFLA_GROUP`; `group`), 0 being `default`.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").group(7).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn group(mut self, group: u32) -> Self {
        self.group = Some(group);
        self
    }
    /// The master (`IFLA_MASTER`; `master`): a bridge, bond or VRF, by
    /// anything that names a device, looked up in the namespace the device
    /// is created in.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").master("br0").create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn master(mut self, master: impl IntoLinkId) -> Self {
        self.master = Some(master.into_link_id());
        self
    }
    /// The parent device: `link` of a macvlan, macvtap, ipvlan or vlan
    /// (`IFLA_LINK`), which needs one; the underlay `dev` of a vxlan
    /// (`IFLA_VXLAN_LINK`). Looked up in the socket's namespace, also when
    /// the device is created elsewhere ([`netns`](LinkBuilder::netns)).
    /// Other kinds have none: giving one is an error.
    ///
    /// ```no_run
    /// use nslink::{LinkBuilder, RouteSocket, VlanOptions};
    ///
    /// let nl = RouteSocket::open()?;
    /// LinkBuilder::new("eth0.7", VlanOptions { id: Some(7), ..Default::default() })
    ///     .parent("eth0")
    ///     .create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn parent(mut self, parent: impl IntoLinkId) -> Self {
        self.parent = Some(parent.into_link_id());
        self
    }
    /// Brings the device up at creation (`IFF_UP`; `ip link add … up` has
    /// no such word: ip-link(8) needs a `set up` after).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// assert!(nslink::LinkBuilder::dummy("dummy0").up().create(&nl)?.is_up());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn up(mut self) -> Self {
        self.up = true;
        self
    }
    /// Creates the device in `ns` instead of the socket's namespace,
    /// directly: it never exists anywhere else.
    ///
    /// ```no_run
    /// let pod = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::dummy("dummy0").netns(&pod).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns<'a>(self, ns: &'a NetNs) -> LinkBuilder<'a>
    where
        'ns: 'a,
    {
        LinkBuilder { netns: Some(ns), ..self }
    }
    /// For a veth: creates the peer directly in `ns`. Any other kind has no
    /// peer: giving one is an error.
    ///
    /// ```no_run
    /// let pod = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::LinkBuilder::veth("veth-pod", "eth0").peer_netns(&pod).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn peer_netns<'a>(self, ns: &'a NetNs) -> LinkBuilder<'a>
    where
        'ns: 'a,
    {
        LinkBuilder { peer_netns: Some(ns), ..self }
    }

    /// Creates the device and returns it as the kernel reports it.
    ///
    /// The options are checked first; then the parent is looked up in the
    /// socket's namespace and the master in the device's. A device with a
    /// parent that goes to another namespace is sent from the socket's
    /// namespace with `IFLA_NET_NS_FD` (the kernel finds the parent where
    /// the request comes from); any other is sent from a socket inside its
    /// namespace (opened for it), so that its name is checked where it will
    /// live, on every kernel (see [`VethBuilder::create`](crate::VethBuilder::create)).
    ///
    /// Kernel: `RTM_NEWLINK` with `NLM_F_CREATE|NLM_F_EXCL`, `IFLA_IFNAME`,
    /// the common attributes asked for (`IFLA_MTU`, `IFLA_ADDRESS`,
    /// `IFLA_TXQLEN`, `IFLA_GROUP`, `IFLA_MASTER`, `IFLA_LINK`,
    /// `IFLA_NET_NS_FD`, `IFF_UP`) and `IFLA_LINKINFO` with the kind's
    /// `IFLA_INFO_KIND` and `IFLA_INFO_DATA` (rtnetlink(7); ip-link(8)
    /// `add`). The device comes back in the same round trip: with
    /// `NLM_F_ECHO` the kernel (Linux 6.2+) sends the device it made; a
    /// kernel that does not echo creates (6.1) is found out by the socket's
    /// first create, which then reads back with an `RTM_GETLINK` (a second
    /// round trip, once per socket), and every later create sends that
    /// `RTM_GETLINK` in its own datagram. A device with a master is always
    /// read back that way (the kernel's echo comes before it enslaves the
    /// device), and one made elsewhere with a parent through a socket in
    /// its namespace (a second round trip). A parent or master given by
    /// name costs one more `RTM_GETLINK` first (the kernel takes only an
    /// index there; one given by index is checked only if the create is
    /// refused); an alias costs one more round trip, an `RTM_SETLINK` with
    /// `IFLA_IFALIAS` and an `RTM_GETLINK` in one datagram (the kernel
    /// ignores an alias in a create, and so does ip-link(8)'s
    /// `add … alias`). [`RouteSocket::requests_sent`] counts them. Needs
    /// `CAP_NET_ADMIN` over the namespaces involved (and `CAP_SYS_ADMIN` to
    /// open a socket in another one: setns(2), on a worker thread).
    /// The kernel creates the device whole or not at all; if it cannot be
    /// read back, it is deleted again.
    ///
    /// # Errors
    /// - [`Error::InvalidName`] for the name, peer, parent or master, and
    ///   [`Error::InvalidArgument`] for an option the kind refuses (a vxlan
    ///   without a VNI, a vlan id over 4094, a macvlan without a parent, a
    ///   dummy with one, a mode with no name) — before anything is sent;
    /// - [`Error::NotFound`] naming the parent or master when there is no
    ///   such device where it is looked up;
    /// - [`Error::UnsupportedKind`] when the running kernel has no driver
    ///   for the kind (its module is missing: the kernel answers
    ///   `EOPNOTSUPP`, "Unknown device type");
    /// - [`Error::Os`] with `EEXIST` when the name is taken, and the
    ///   kernel's reason (with its message) for anything else it refuses.
    ///
    /// ```no_run
    /// use nslink::{Error, LinkBuilder, RouteSocket, VlanOptions};
    ///
    /// let nl = RouteSocket::open()?;
    /// match LinkBuilder::new("eth0.7", VlanOptions { id: Some(7), ..Default::default() })
    ///     .parent("eth0")
    ///     .create(&nl)
    /// {
    ///     Ok(link) => println!("made {}", link.name()),
    ///     Err(Error::UnsupportedKind { kind, .. }) => println!("load {:?} first", kind.module()),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn create(self, nl: &RouteSocket) -> Result<Link> {
        let name = self.name?;
        if let Some(e) = self.pending {
            return Err(e);
        }
        let kind = self.kind.kind();
        let op = create_op(&kind);
        let invalid = |detail: String| Error::InvalidArgument {
            op,
            object: Object::link_name(&name),
            detail,
        };
        self.kind.check().map_err(invalid)?;
        if let Some(a) = &self.alias
            && (a.len() > 255 || a.contains('\0'))
        {
            return Err(invalid("an alias is at most 255 bytes, without NUL".into()));
        }
        let master = self.master.transpose()?;
        let parent = self.parent.transpose()?;
        match (self.kind.parent(), &parent) {
            (Parent::Required, None) => {
                return Err(invalid(format!("a {kind} needs a parent device (link)")));
            }
            (Parent::None, Some(_)) => {
                return Err(invalid(format!("a {kind} has no parent device")));
            }
            _ => {}
        }
        let common = Common {
            mtu: self.mtu,
            mac: self.mac,
            txqueuelen: self.txqueuelen,
            alias: self.alias,
            group: self.group,
            up: self.up,
        };
        if let KindOptions::Veth(v) = self.kind {
            let peer = v.peer.ok_or_else(|| invalid("a veth needs a peer name".into()))?;
            let mut b = VethPair::builder(name, peer);
            if let Some(ns) = self.netns {
                b = b.netns(ns);
            }
            if let Some(ns) = self.peer_netns {
                b = b.peer_netns(ns);
            }
            if let Some(mac) = v.peer_mac {
                b = b.peer_mac(mac);
            }
            if let Some(m) = master {
                b = b.master(m);
            }
            return b.create_with(nl, common).map(|(_, link)| link);
        }
        if self.peer_netns.is_some() {
            return Err(invalid(format!("a {kind} has no peer")));
        }

        let here = nl.netns();
        let target = self.netns.unwrap_or(here);
        let elsewhere = target != here;
        let parent_index = match &parent {
            Some(id) => Some(index_of(nl, id, || not_found(nl, op, id, &name, "parent", false))?),
            None => None,
        };
        let opened;
        let target_nl = if elsewhere {
            opened = RouteSocket::open_in(target)?;
            &opened
        } else {
            nl
        };
        let master_index = match &master {
            Some(id) => Some(index_of(target_nl, id, || {
                not_found(target_nl, op, id, &name, "master", elsewhere)
            })?),
            None => None,
        };
        // The kernel finds a parent in the namespace the request comes
        // from; anything else is sent from the device's own namespace.
        let (tx, netns_fd) =
            if elsewhere && parent.is_some() { (nl, Some(target)) } else { (target_nl, None) };

        let mut m = LinkMessage::default();
        common.apply(&mut m, &name);
        if let Some(ns) = netns_fd {
            m.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
        }
        if let Some(index) = master_index {
            m.attributes.push(LinkAttribute::Controller(index));
        }
        let underlay = match self.kind.parent() {
            Parent::Required => {
                if let Some(index) = parent_index {
                    m.attributes.push(LinkAttribute::Link(index));
                }
                None
            }
            Parent::Underlay => parent_index,
            Parent::None => None,
        };
        let (info_kind, data) = self.kind.info(underlay);
        let mut info = vec![LinkInfo::Kind(info_kind)];
        if let Some(d) = data {
            info.push(LinkInfo::Data(d));
        }
        m.attributes.push(LinkAttribute::LinkInfo(info));

        let object = || {
            let o = Object::link_name(&name);
            if elsewhere { o.in_netns(target.describe()) } else { o }
        };
        let msg = RouteNetlinkMessage::NewLink(m);
        let created = if netns_fd.is_some() {
            // Made elsewhere: the echo would go there; read back through a
            // socket there.
            match tx.request_reply(op, msg, CREATE)? {
                Ok(_) => Ok(target_nl.require_link(&name).inspect_err(|_| {
                    let _ = target_nl.delete_link(&name);
                })?),
                Err(e) => Err(e),
            }
        } else {
            let how = if master.is_some() { Readback::Get } else { Readback::Echo };
            create_link(tx, op, msg, &name, how)?
        };
        let link = match created {
            Ok(link) => link,
            Err(ReplyError::Kernel(r)) => {
                let named =
                    [(nl, &parent, "parent", false), (target_nl, &master, "master", elsewhere)];
                for (sock, id, role, away) in named {
                    if let Some(id) = id
                        && let Some(e) =
                            gone(sock, id, || not_found(sock, op, id, &name, role, away))
                    {
                        return Err(e);
                    }
                }
                return Err(create_error(op, object(), &kind, r.errno, r.ack.message));
            }
            Err(ReplyError::Other(e)) => return Err(e),
        };
        common.finish(target_nl, link)
    }
}

/// The operation a create of `kind` reports: veths and bridges keep their
/// own words.
fn create_op(kind: &LinkKind) -> Op {
    match kind {
        LinkKind::Veth => Op::CreateVeth,
        LinkKind::Bridge => Op::CreateBridge,
        _ => Op::CreateLink,
    }
}

/// The options every device has, as attributes of its `RTM_NEWLINK`.
#[derive(Debug, Default)]
pub(super) struct Common {
    pub(super) mtu: Option<u32>,
    pub(super) mac: Option<MacAddr>,
    pub(super) txqueuelen: Option<u32>,
    pub(super) alias: Option<String>,
    pub(super) group: Option<u32>,
    pub(super) up: bool,
}

impl Common {
    /// Puts the name and these options into `m`.
    pub(super) fn apply(&self, m: &mut LinkMessage, name: &IfName) {
        if self.up {
            m.header.flags = RawFlags::Up;
            m.header.change_mask = RawFlags::Up;
        }
        m.attributes.push(super::ifname_attr(name));
        if let Some(mtu) = self.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(mac) = self.mac {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        self.apply_extra(m);
    }

    /// Puts the options that are not a veth's own (queue length, group)
    /// into `m`.
    pub(super) fn apply_extra(&self, m: &mut LinkMessage) {
        if let Some(len) = self.txqueuelen {
            m.attributes.push(LinkAttribute::TxQueueLen(len));
        }
        if let Some(g) = self.group {
            m.attributes.push(LinkAttribute::Group(g));
        }
    }
}

impl Common {
    /// Sets the alias of the device just made, if one was asked for, and
    /// reads it back, both in one datagram: the kernel ignores
    /// `IFLA_IFALIAS` in a create (it takes it only in a change), so it is
    /// a second round trip. If that fails, the device is deleted again.
    pub(super) fn finish(&self, nl: &RouteSocket, link: Link) -> Result<Link> {
        let Some(alias) = &self.alias else { return Ok(link) };
        let id = LinkId::Index(link.index());
        let set = super::alias_request(id.clone(), alias);
        let msgs = [(set.msg, set.flags), (super::get_request(&id), 0)];
        let read = nl.lock().batch(set.op, &msgs, &super::parse::decode_link).and_then(|replies| {
            let mut replies = replies.into_iter();
            match (replies.next(), replies.next()) {
                (Some(Err(e)), _) => Err(e.into_error(set.op, set.object)),
                (_, Some(Err(e))) => Err(e.into_error(Op::GetLink, id.object())),
                (Some(Ok(_)), Some(Ok(mut links))) => links.pop().ok_or_else(|| Error::NotFound {
                    errno: None,
                    extack: None,
                    op: Op::GetLink,
                    object: id.object(),
                }),
                _ => Err(Error::Protocol { op: set.op, kind: ProtocolError::ReplyCount(0) }),
            }
        });
        read.inspect_err(|_| {
            let _ = nl.delete_link(&id);
        })
    }
}

/// [`Error::NotFound`] for `id`, the `role` of device `name` ("parent",
/// "master"), looked up in the namespace of `nl`.
fn not_found(
    nl: &RouteSocket,
    op: Op,
    id: &LinkId,
    name: &IfName,
    role: &str,
    elsewhere: bool,
) -> Error {
    let mut object = id.object().with_detail(format!("({role} of \"{name}\")"));
    if elsewhere {
        object = object.in_netns(nl.netns().describe());
    }
    Error::NotFound { errno: None, extack: None, op, object }
}

/// The error for a create the kernel refused: [`Error::UnsupportedKind`]
/// when it has no driver for `kind` (`EOPNOTSUPP` with "Unknown device
/// type", after failing to load the module), else as the kernel said.
pub(super) fn create_error(
    op: Op,
    object: Object,
    kind: &LinkKind,
    errno: i32,
    extack: Option<String>,
) -> Error {
    let unknown_type = extack.as_deref().is_some_and(|m| m.contains("Unknown device type"));
    if errno == Errno::EOPNOTSUPP as i32 && unknown_type {
        return Error::UnsupportedKind { op, object, kind: kind.clone(), errno, extack };
    }
    Error::kernel(op, object, errno, extack)
}
