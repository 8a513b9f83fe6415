//! [`VethPair`]: create a veth pair with each end directly in its namespace.

use std::os::fd::AsRawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags as RawFlags, LinkInfo, LinkMessage,
};
use nix::errno::Errno;

use super::bridge::link_object;
use super::builder::{Common, create_error};
use super::create::{Readback, create_link, gone, index_of};
use super::{IntoLinkId, Link, LinkId, LinkKind, MacAddr};
use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::{ReplyError, RouteSocket};
use crate::netns::NetNs;

/// One end of a veth pair: its name, index and namespace.
///
/// `&VethEnd` names the device wherever a device is expected
/// ([`IntoLinkId`]): it stands for its index, which is only meaningful in
/// its own namespace, so use it with a socket of [`netns`](VethEnd::netns).
///
/// ```no_run
/// use nslink::{RouteSocket, VethPair};
///
/// let nl = RouteSocket::open()?;
/// let pair = VethPair::builder("va", "vb").create(&nl)?;
/// nl.set_up(pair.peer())?;        // both ends are in the socket's namespace
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
pub struct VethEnd {
    name: IfName,
    index: u32,
    netns: NetNs,
}

impl VethEnd {
    /// The interface name.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "vb").create(&nl)?;
    /// assert_eq!(pair.local().name(), "va");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn name(&self) -> &IfName {
        &self.name
    }
    /// The interface index (in its own namespace).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "vb").create(&nl)?;
    /// assert_eq!(nl.require_link("vb")?.index(), pair.peer().index());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The namespace this end lives in.
    ///
    /// ```no_run
    /// let pod = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "eth0").peer_netns(&pod).create(&nl)?;
    /// let pod_nl = nslink::RouteSocket::open_in(pair.peer().netns())?;
    /// pod_nl.set_up(pair.peer())?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns(&self) -> &NetNs {
        &self.netns
    }
}

/// A veth pair: two devices joined like a pipe; what goes in one comes out
/// of the other. With one end in a pod's namespace and the other on a
/// bridge, it is how Docker and CNI connect a pod to the node.
///
/// ```no_run
/// use nslink::{NetNs, RouteSocket, VethPair};
///
/// let pod = NetNs::new()?;
/// let nl = RouteSocket::open()?;
/// let pair = VethPair::builder("veth-pod1", "eth0")
///     .peer_netns(&pod)           // "eth0" is created directly inside `pod`
///     .mtu(1450)
///     .create(&nl)?;
/// assert_eq!(pair.peer().netns(), &pod);
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
pub struct VethPair {
    local: VethEnd,
    peer: VethEnd,
}

impl VethPair {
    /// Starts describing a pair named `name` (this end) and `peer`. Names
    /// are validated by [`create`](VethBuilder::create).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "vb").create(&nl)?;
    /// assert_eq!(pair.peer().name(), "vb");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link add type veth")]
    pub fn builder(name: impl IntoIfName, peer: impl IntoIfName) -> VethBuilder<'static> {
        VethBuilder {
            name: name.into_ifname(),
            peer: peer.into_ifname(),
            o: VethOpts {
                mtu: None,
                mac: None,
                peer_mac: None,
                netns: None,
                peer_netns: None,
                master: None,
                up: false,
            },
        }
    }

    /// The end created in the socket's namespace (or [`VethBuilder::netns`]).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "vb").create(&nl)?;
    /// nl.set_up(pair.local())?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn local(&self) -> &VethEnd {
        &self.local
    }
    /// The other end.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "vb").create(&nl)?;
    /// assert_eq!(pair.peer().name(), "vb");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn peer(&self) -> &VethEnd {
        &self.peer
    }
    /// Both ends.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let (host, pod) = nslink::VethPair::builder("va", "vb").create(&nl)?.into_ends();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn into_ends(self) -> (VethEnd, VethEnd) {
        (self.local, self.peer)
    }
}

/// Options of a veth pair (`ip link add NAME type veth peer name PEER`,
/// ip-link(8)); finish with [`create`](VethBuilder::create).
///
/// ```no_run
/// use nslink::{NetNs, RouteSocket, VethPair};
///
/// let nl = RouteSocket::open()?;
/// let pod = NetNs::new()?;
/// let builder = VethPair::builder("eth0", "veth-pod1").netns(&pod).up();
/// let pair = builder.create(&nl)?;   // "eth0" in the pod, up; "veth-pod1" here
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `create` is called"]
pub struct VethBuilder<'ns> {
    name: Result<IfName>,
    peer: Result<IfName>,
    o: VethOpts<'ns>,
}

#[derive(Debug)]
struct VethOpts<'ns> {
    mtu: Option<u32>,
    mac: Option<MacAddr>,
    peer_mac: Option<MacAddr>,
    netns: Option<&'ns NetNs>,
    peer_netns: Option<&'ns NetNs>,
    /// The master as given; an invalid name is reported by `create`.
    master: Option<Result<LinkId>>,
    up: bool,
}

impl<'ns> VethBuilder<'ns> {
    /// MTU of both ends (`IFLA_MTU` on each).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::VethPair::builder("va", "vb").mtu(1450).create(&nl)?;
    /// assert_eq!(nl.require_link("vb")?.mtu(), 1450);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.o.mtu = Some(mtu);
        self
    }
    /// Hardware address of this end.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::VethPair::builder("va", "vb").mac("02:00:00:00:00:0a".parse()?).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mac(mut self, mac: MacAddr) -> Self {
        self.o.mac = Some(mac);
        self
    }
    /// Hardware address of the peer.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nslink::VethPair::builder("va", "vb").peer_mac("02:00:00:00:00:0b".parse()?).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn peer_mac(mut self, mac: MacAddr) -> Self {
        self.o.peer_mac = Some(mac);
        self
    }
    /// Creates this end in `ns` instead of the socket's namespace.
    ///
    /// ```no_run
    /// let pod = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open()?;
    /// // "eth0" in the pod, "veth-pod" here.
    /// nslink::VethPair::builder("eth0", "veth-pod").netns(&pod).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns<'a>(self, ns: &'a NetNs) -> VethBuilder<'a>
    where
        'ns: 'a,
    {
        VethBuilder { name: self.name, peer: self.peer, o: VethOpts { netns: Some(ns), ..self.o } }
    }
    /// Creates the peer directly in `ns` (`IFLA_NET_NS_FD` on the peer):
    /// the peer never exists anywhere else, not even for a moment.
    ///
    /// ```no_run
    /// let pod = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open()?;
    /// // "veth-pod" here, "eth0" in the pod.
    /// nslink::VethPair::builder("veth-pod", "eth0").peer_netns(&pod).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn peer_netns<'a>(self, ns: &'a NetNs) -> VethBuilder<'a>
    where
        'ns: 'a,
    {
        VethBuilder {
            name: self.name,
            peer: self.peer,
            o: VethOpts { peer_netns: Some(ns), ..self.o },
        }
    }
    /// Enslaves this end to `master` (a bridge, by anything that names a
    /// device: index, name, [`&Bridge`](crate::Bridge), [`&Link`](Link)) at
    /// creation, like `ip link add … master BR` (`IFLA_MASTER`). The master
    /// is looked up in *this end's* namespace (the socket's, or
    /// [`netns`](VethBuilder::netns)'s): a `&Bridge` or `&Link` stands for
    /// its index there.
    ///
    /// An invalid name is reported by [`create`](VethBuilder::create).
    ///
    /// ```no_run
    /// use nslink::{Bridge, NetNs, RouteSocket, VethPair};
    ///
    /// let nl = RouteSocket::open()?;
    /// let pod = NetNs::new()?;
    /// let br = Bridge::builder("cni0").up().create(&nl)?;
    /// VethPair::builder("veth1", "eth0").peer_netns(&pod).master(&br).up().create(&nl)?;
    /// VethPair::builder("veth2", "eth0").peer_netns(&pod).master("cni0").create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn master(mut self, master: impl IntoLinkId) -> Self {
        self.o.master = Some(master.into_link_id());
        self
    }
    /// Brings this end up at creation. (The peer can only be brought up
    /// afterwards, from its own namespace: the kernel configures it before
    /// the two ends are joined.)
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pair = nslink::VethPair::builder("va", "vb").up().create(&nl)?;
    /// nl.set_up(pair.peer())?; // the peer separately
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn up(mut self) -> Self {
        self.o.up = true;
        self
    }

    /// Creates the pair in one `RTM_NEWLINK` (rtnetlink(7); each end
    /// directly in its namespace, the local end with its master and up as
    /// asked) and returns both ends. The kernel creates both ends or
    /// neither: a refusal leaves nothing behind.
    ///
    /// The request is sent from inside this end's namespace (through a
    /// socket opened there, when it is not the socket's own), with the
    /// peer's namespace as `IFLA_NET_NS_FD` of the peer. Older kernels
    /// (Linux 6.1, for one) look the name of the device a request creates
    /// (here: this end, not the peer) up in the *sending* socket's
    /// namespace rather than in the device's target; sent from the target,
    /// the name is checked where the device will live, on every kernel.
    ///
    /// Kernel: `RTM_NEWLINK` with `NLM_F_CREATE|NLM_F_EXCL`,
    /// `IFLA_INFO_KIND` `veth` and the peer's own link message in
    /// `IFLA_INFO_DATA` (`VETH_INFO_PEER`, with `IFLA_NET_NS_FD`), plus
    /// `IFLA_MASTER` and `IFF_UP` when asked (rtnetlink(7); ip-link(8)
    /// `add type veth peer`): one round trip. The local end comes back with
    /// `NLM_F_ECHO` (Linux 6.2+), or with an `RTM_GETLINK` in the same
    /// datagram (with a master, whose echo would come before the kernel
    /// enslaves the end, and on kernels that do not echo creates, such as
    /// 6.1, which the socket's first create finds out at the cost of one
    /// more round trip); its `IFLA_LINK` is the peer's index. A master
    /// given by name is looked up first (one more round trip: the kernel
    /// takes only an index); one given by index is checked only if the
    /// create is refused. [`RouteSocket::requests_sent`] counts them.
    /// Needs `CAP_NET_ADMIN` over every namespace involved, and
    /// `CAP_SYS_ADMIN` to enter a namespace given to
    /// [`netns`](VethBuilder::netns) (setns(2), on one of nslink's worker
    /// threads).
    /// Creating a pair took ~0.4 ms on the development VM.
    ///
    /// # Errors
    /// - [`Error::InvalidName`] (for a name or the master) before anything
    ///   is sent;
    /// - [`Error::InvalidArgument`] when both ends would have the same name
    ///   in the same namespace;
    /// - [`Error::NotFound`] naming the master when there is no such device
    ///   in this end's namespace (the kernel itself would only say
    ///   `EINVAL`);
    /// - [`Error::Os`] with `EEXIST` ([`Error::is_already_exists`]) naming
    ///   the end whose name is taken and its namespace;
    /// - the kernel's reason otherwise (an MTU out of range is `EINVAL`, a
    ///   master that cannot take ports `EOPNOTSUPP`), naming the pair as it
    ///   was asked for.
    ///
    /// ```no_run
    /// use nslink::{NetNs, RouteSocket, VethPair};
    /// let (a, b) = (NetNs::new()?, NetNs::new()?);
    /// let nl = RouteSocket::open()?;
    /// // Both ends elsewhere: "eth0" in `a` and "eth0" in `b`, joined.
    /// let pair = VethPair::builder("eth0", "eth0").netns(&a).peer_netns(&b).up().create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn create(self, nl: &RouteSocket) -> Result<VethPair> {
        self.create_with(nl, Common::default()).map(|(pair, _)| pair)
    }

    /// [`create`](VethBuilder::create) with the options of a
    /// [`LinkBuilder`](crate::LinkBuilder) for this end; returns the pair
    /// and this end as read back.
    pub(super) fn create_with(
        mut self,
        nl: &RouteSocket,
        common: Common,
    ) -> Result<(VethPair, Link)> {
        self.o.mtu = common.mtu.or(self.o.mtu);
        self.o.mac = common.mac.or(self.o.mac);
        self.o.up |= common.up;
        let name = self.name?;
        let peer = self.peer?;
        let master = self.o.master.transpose()?;
        let o = VethOpts { master: None, ..self.o };
        let op = Op::CreateVeth;
        let here = nl.netns();
        let local_ns = o.netns.unwrap_or(here);
        let peer_ns = o.peer_netns.unwrap_or(here);
        if name == peer && local_ns == peer_ns {
            return Err(Error::InvalidArgument {
                op,
                object: pair_object(&name, &peer),
                detail: "both ends would have the same name in the same namespace".into(),
            });
        }
        let opened;
        let tx = if local_ns == here {
            nl
        } else {
            opened = RouteSocket::open_in(local_ns)?;
            &opened
        };
        let elsewhere = local_ns != here;
        let master_index = match &master {
            None => None,
            Some(id) => Some(index_of(tx, id, || master_not_found(tx, id, &name, elsewhere))?),
        };
        let peer_fd = (peer_ns != local_ns).then_some(peer_ns);
        let msg = o.request(&name, &peer, peer_fd, master_index, &common);
        let how = if master.is_some() { Readback::Get } else { Readback::Echo };
        let link = match create_link(tx, op, msg, &name, how)? {
            Ok(link) => link,
            Err(ReplyError::Kernel(r)) => {
                let (errno, extack) = (r.errno, r.ack.message);
                if errno == Errno::EEXIST as i32 {
                    return Err(name_clash(tx, (&name, local_ns), (&peer, peer_ns), extack));
                }
                if let Some(id) = &master
                    && let Some(e) = gone(tx, id, || master_not_found(tx, id, &name, elsewhere))
                {
                    return Err(e);
                }
                let kind = LinkKind::Veth;
                return Err(create_error(op, pair_object(&name, &peer), &kind, errno, extack));
            }
            Err(ReplyError::Other(e)) => return Err(e),
        };
        let pair = finish(tx, &link, (&name, local_ns), (&peer, peer_ns))?;
        Ok((pair, common.finish(tx, link)?))
    }
}

/// The pair as the user named it: `link "NAME" (peer "PEER")`.
fn pair_object(name: &IfName, peer: &IfName) -> Object {
    Object::link_name(name).with_detail(format!("(peer \"{peer}\")"))
}

/// [`Error::NotFound`] for `master`, looked up in the namespace of `tx`
/// (the local end's).
fn master_not_found(tx: &RouteSocket, master: &LinkId, name: &IfName, elsewhere: bool) -> Error {
    let mut object = link_object(master).with_detail(format!("(master for \"{name}\")"));
    if elsewhere {
        object = object.in_netns(tx.netns().describe());
    }
    Error::NotFound { errno: None, extack: None, op: Op::CreateVeth, object }
}

/// After `EEXIST`: says which end's name is taken, and where. `tx` is a
/// socket in the local end's namespace.
fn name_clash(
    tx: &RouteSocket,
    (name, local_ns): (&IfName, &NetNs),
    (peer, peer_ns): (&IfName, &NetNs),
    extack: Option<String>,
) -> Error {
    let op = Op::CreateVeth;
    let eexist = |object: Object| Error::Os {
        op,
        object,
        errno: Errno::EEXIST as i32,
        extack: extack.clone(),
    };
    match exists_in(tx, local_ns, name) {
        Ok(true) => {
            let object = Object::link_name(name)
                .with_detail(format!("(peer \"{peer}\")"))
                .in_netns(local_ns.describe());
            return eexist(object);
        }
        Ok(false) => {}
        Err(e) => return e,
    }
    match exists_in(tx, peer_ns, peer) {
        Ok(true) => {
            let object = Object::link_name(peer)
                .with_detail(format!("(peer of \"{name}\")"))
                .in_netns(peer_ns.describe());
            eexist(object)
        }
        Ok(false) => eexist(pair_object(name, peer)),
        Err(e) => e,
    }
}

/// The two ends, from the local end as the kernel reported it (its
/// `IFLA_LINK` is the peer's index). If that fails, the pair just made is
/// deleted again.
fn finish(
    tx: &RouteSocket,
    link: &Link,
    (name, local_ns): (&IfName, &NetNs),
    (peer, peer_ns): (&IfName, &NetNs),
) -> Result<VethPair> {
    let ends = || -> Result<VethPair> {
        let peer_index = match link.parent_index() {
            Some(index) => index,
            None => tx.veth_peer(link.index())?.0,
        };
        Ok(VethPair {
            local: VethEnd {
                name: name.clone(),
                index: link.index(),
                netns: local_ns.try_clone()?,
            },
            peer: VethEnd { name: peer.clone(), index: peer_index, netns: peer_ns.try_clone()? },
        })
    };
    ends().inspect_err(|_| {
        let _ = tx.delete_link(link.index());
    })
}

impl VethOpts<'_> {
    fn end_message(
        name: &IfName,
        mtu: Option<u32>,
        mac: Option<MacAddr>,
        ns: Option<&NetNs>,
        up: bool,
    ) -> LinkMessage {
        let mut m = LinkMessage::default();
        if up {
            m.header.flags = RawFlags::Up;
            m.header.change_mask = RawFlags::Up;
        }
        m.attributes.push(super::ifname_attr(name));
        if let Some(mtu) = mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(mac) = mac {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        if let Some(ns) = ns {
            m.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
        }
        m
    }

    /// The `RTM_NEWLINK` request, to be sent from the local end's
    /// namespace; `peer_ns` when the peer goes elsewhere.
    fn request(
        &self,
        name: &IfName,
        peer_name: &IfName,
        peer_ns: Option<&NetNs>,
        master: Option<u32>,
        common: &Common,
    ) -> RouteNetlinkMessage {
        // The peer cannot be brought up in this request: the kernel
        // configures it before the two ends are joined (ENOTCONN).
        let peer = Self::end_message(peer_name, self.mtu, self.peer_mac, peer_ns, false);
        let mut m = Self::end_message(name, self.mtu, self.mac, None, self.up);
        common.apply_extra(&mut m);
        if let Some(master) = master {
            m.attributes.push(LinkAttribute::Controller(master));
        }
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        RouteNetlinkMessage::NewLink(m)
    }
}

/// Whether `name` exists in `ns`; `tx` is used when it is in `ns`.
fn exists_in(tx: &RouteSocket, ns: &NetNs, name: &IfName) -> Result<bool> {
    if ns == tx.netns() {
        Ok(tx.link(name)?.is_some())
    } else {
        Ok(RouteSocket::open_in(ns)?.link(name)?.is_some())
    }
}

impl RouteSocket {
    /// The peer of veth `id`: its index and the namespace id (as seen from
    /// this namespace) of where it lives, like `ip link` shows `vethX@ifN`
    /// and `link-netnsid`. Falls back to ethtool's `peer_ifindex` statistic
    /// on kernels that do not report `IFLA_LINK` for veth.
    ///
    /// Kernel: one `RTM_GETLINK` (rtnetlink(7)), reading `IFLA_LINK` and
    /// `IFLA_LINK_NETNSID`; else the `SIOCETHTOOL` ioctl `ETHTOOL_GSTATS`
    /// (netdevice(7), ethtool(8) `-S`). No privilege.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing device; [`Error::InvalidArgument`]
    /// when it is not a veth.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let (index, nsid) = nl.veth_peer("veth-pod1")?;
    /// println!("peer is #{index} in nsid {nsid:?}");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn veth_peer(&self, id: impl IntoLinkId) -> Result<(u32, Option<i32>)> {
        let link: Link = self.require_link(id)?;
        if link.kind() != &LinkKind::Veth {
            return Err(Error::InvalidArgument {
                op: Op::GetLink,
                object: Object::link_name(link.name()),
                detail: format!("is a {} device, not a veth", link.kind()),
            });
        }
        if let Some(index) = link.parent_index() {
            return Ok((index, link.link_netnsid()));
        }
        let sock = self.ethtool_socket()?;
        match crate::ethtool::veth_peer_index(sock, link.name())? {
            Some(index) => Ok((index, link.link_netnsid())),
            None => Err(Error::NotFound {
                errno: None,
                extack: None,
                op: Op::GetLink,
                object: Object::unnamed(ObjectKind::Link)
                    .with_detail(format!("peer of \"{}\"", link.name())),
            }),
        }
    }
}

impl IntoLinkId for &VethEnd {
    /// The end's index (meaningful in the end's own namespace).
    fn into_link_id(self) -> Result<LinkId> {
        Ok(LinkId::Index(self.index))
    }
}
