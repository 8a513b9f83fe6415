//! [`VethPair`]: create a veth pair with each end directly in its namespace.

use std::os::fd::AsRawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags as RawFlags, LinkInfo, LinkMessage,
};
use nix::errno::Errno;

use super::{CREATE, IntoLinkId, Link, LinkKind, MacAddr};
use crate::error::{Error, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::{ReplyError, RouteSocket};
use crate::netns::NetNs;

/// One end of a veth pair: its name, index and namespace.
#[derive(Debug)]
pub struct VethEnd {
    name: IfName,
    index: u32,
    netns: NetNs,
}

impl VethEnd {
    /// The interface name.
    pub fn name(&self) -> &IfName {
        &self.name
    }
    /// The interface index (in its own namespace).
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The namespace this end lives in.
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
    pub fn local(&self) -> &VethEnd {
        &self.local
    }
    /// The other end.
    pub fn peer(&self) -> &VethEnd {
        &self.peer
    }
    /// Both ends.
    pub fn into_ends(self) -> (VethEnd, VethEnd) {
        (self.local, self.peer)
    }
}

/// Options of a veth pair; finish with [`create`](VethBuilder::create).
#[derive(Debug)]
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
    master: Option<u32>,
    up: bool,
}

impl<'ns> VethBuilder<'ns> {
    /// MTU of both ends.
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.o.mtu = Some(mtu);
        self
    }
    /// Hardware address of this end.
    pub fn mac(mut self, mac: MacAddr) -> Self {
        self.o.mac = Some(mac);
        self
    }
    /// Hardware address of the peer.
    pub fn peer_mac(mut self, mac: MacAddr) -> Self {
        self.o.peer_mac = Some(mac);
        self
    }
    /// Creates this end in `ns` instead of the socket's namespace.
    pub fn netns<'a>(self, ns: &'a NetNs) -> VethBuilder<'a>
    where
        'ns: 'a,
    {
        VethBuilder { name: self.name, peer: self.peer, o: VethOpts { netns: Some(ns), ..self.o } }
    }
    /// Creates the peer directly in `ns` (`IFLA_NET_NS_FD` on the peer):
    /// the peer never exists anywhere else, not even for a moment.
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
    /// Enslaves this end to a bridge (by index) at creation, like
    /// `ip link add … master BR`. The bridge must be in the same namespace
    /// as this end.
    pub fn master(mut self, bridge_index: u32) -> Self {
        self.o.master = Some(bridge_index);
        self
    }
    /// Brings this end up at creation. (The peer can only be brought up
    /// afterwards, from its own namespace: the kernel configures it before
    /// the two ends are joined.)
    pub fn up(mut self) -> Self {
        self.o.up = true;
        self
    }

    /// Creates the pair in one `RTM_NEWLINK` (each end directly in its
    /// namespace) and returns both ends.
    ///
    /// # Name clashes
    /// When a name is taken, the error says which name clashed in which
    /// namespace, and nothing is left behind (the kernel creates both ends
    /// or neither). Kernels before about 6.15 look the *peer's* name up in
    /// the socket's namespace rather than the peer's target; when that is
    /// the only clash, nslink creates the peer under a temporary name and
    /// renames it inside its namespace (deleting the pair if the rename
    /// fails), so the result is the same on every kernel.
    ///
    /// # Errors
    /// [`Error::InvalidName`] before anything is sent; [`Error::Os`] with
    /// `EEXIST` ([`Error::is_already_exists`]) naming the clash; the kernel's
    /// reason otherwise (e.g. `ENODEV` for a missing master).
    ///
    /// ```no_run
    /// use nslink::{NetNs, RouteSocket, VethPair};
    /// let (a, b) = (NetNs::new()?, NetNs::new()?);
    /// let nl = RouteSocket::open()?;
    /// // Both ends elsewhere: "eth0" in `a` and "eth0" in `b`, joined.
    /// let pair = VethPair::builder("eth0", "eth0").netns(&a).peer_netns(&b).create(&nl)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn create(self, nl: &RouteSocket) -> Result<VethPair> {
        let name = self.name?;
        let peer = self.peer?;
        let o = self.o;
        let op = Op::CreateVeth;
        let object = format!("{:?}/{:?}", name, peer);
        if name == peer && o.netns.unwrap_or(nl.netns()) == o.peer_netns.unwrap_or(nl.netns()) {
            return Err(Error::InvalidArgument {
                op,
                object: crate::error::Object::from(object),
                detail: "both ends would have the same name in the same namespace".into(),
            });
        }
        match nl.request_reply(op, o.request(&name, &peer), CREATE)? {
            Ok(_) => {}
            Err(ReplyError::Kernel(r)) if r.errno == Errno::EEXIST as i32 => {
                o.resolve_clash(nl, &name, &peer, r.ack.message)?;
            }
            Err(e) => return Err(e.into_error(op, object)),
        }
        o.finish(nl, &name, &peer)
    }
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

    /// The `RTM_NEWLINK` request, with the peer named `peer_name`.
    fn request(&self, name: &IfName, peer_name: &IfName) -> RouteNetlinkMessage {
        // The peer cannot be brought up in this request: the kernel
        // configures it before the two ends are joined (ENOTCONN).
        let peer = Self::end_message(peer_name, self.mtu, self.peer_mac, self.peer_netns, false);
        let mut m = Self::end_message(name, self.mtu, self.mac, self.netns, self.up);
        if let Some(master) = self.master {
            m.attributes.push(LinkAttribute::Controller(master));
        }
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        RouteNetlinkMessage::NewLink(m)
    }

    /// After `EEXIST`: name the clash, or work around the old-kernel lookup.
    fn resolve_clash(
        &self,
        nl: &RouteSocket,
        name: &IfName,
        peer: &IfName,
        extack: Option<String>,
    ) -> Result<()> {
        let op = Op::CreateVeth;
        let clash = |which: &IfName, ns: &NetNs| Error::Os {
            op,
            object: crate::error::Object::from(format!(
                "{:?}/{:?}: {:?} already exists in namespace {}",
                name,
                peer,
                which,
                ns.describe()
            )),
            errno: Errno::EEXIST as i32,
            extack: extack.clone(),
        };
        let local_ns = self.netns.unwrap_or(nl.netns());
        if exists_in(nl, local_ns, name)? {
            return Err(clash(name, local_ns));
        }
        let peer_ns = self.peer_netns.unwrap_or(nl.netns());
        if exists_in(nl, peer_ns, peer)? {
            return Err(clash(peer, peer_ns));
        }
        // Neither target has the names: an older kernel looked a name up in
        // the socket's namespace. Create that end under a temporary name
        // free in both places, then rename it where it lives.
        let here = nl.netns();
        let mut local_name = name.clone();
        let mut peer_name = peer.clone();
        if local_ns != here && exists_in(nl, here, name)? {
            local_name = temporary_name(nl, local_ns, 0)?;
        }
        if peer_ns != here && exists_in(nl, here, peer)? {
            peer_name = temporary_name(nl, peer_ns, 1)?;
        }
        if &local_name == name && &peer_name == peer {
            // Nothing explains the clash: report it as the kernel did.
            return Err(Error::Os {
                op,
                object: crate::error::Object::from(format!("{:?}/{:?}", name, peer)),
                errno: Errno::EEXIST as i32,
                extack,
            });
        }
        if let Err(e) = nl.request_reply(op, self.request(&local_name, &peer_name), CREATE)? {
            return Err(e.into_error(op, format!("{:?}/{:?}", name, peer)));
        }
        let mut renamed = Ok(());
        if &peer_name != peer {
            renamed = rename_in(nl, peer_ns, &peer_name, peer);
        }
        if renamed.is_ok() && &local_name != name {
            renamed = rename_in(nl, local_ns, &local_name, name);
        }
        if let Err(e) = renamed {
            let _ = delete_in(nl, local_ns, &local_name).or_else(|_| delete_in(nl, local_ns, name));
            return Err(e);
        }
        Ok(())
    }

    /// Reads the local end back (its `IFLA_LINK` is the peer's index).
    fn finish(&self, nl: &RouteSocket, name: &IfName, peer: &IfName) -> Result<VethPair> {
        let local_ns = self.netns.unwrap_or(nl.netns());
        let link = if local_ns == nl.netns() {
            nl.require_link(name)?
        } else {
            RouteSocket::open_in(local_ns)?.require_link(name)?
        };
        let peer_index = link.parent_index().unwrap_or(0);
        let peer_ns = self.peer_netns.unwrap_or(nl.netns());
        Ok(VethPair {
            local: VethEnd {
                name: name.clone(),
                index: link.index(),
                netns: local_ns.try_clone()?,
            },
            peer: VethEnd { name: peer.clone(), index: peer_index, netns: peer_ns.try_clone()? },
        })
    }
}

fn exists_in(nl: &RouteSocket, ns: &NetNs, name: &IfName) -> Result<bool> {
    if ns == nl.netns() {
        Ok(nl.link(name)?.is_some())
    } else {
        Ok(RouteSocket::open_in(ns)?.link(name)?.is_some())
    }
}

fn rename_in(nl: &RouteSocket, ns: &NetNs, from: &IfName, to: &IfName) -> Result<()> {
    if ns == nl.netns() { nl.rename(from, to) } else { RouteSocket::open_in(ns)?.rename(from, to) }
}

fn delete_in(nl: &RouteSocket, ns: &NetNs, name: &IfName) -> Result<()> {
    if ns == nl.netns() {
        nl.delete_link(name)
    } else {
        RouteSocket::open_in(ns)?.delete_link(name)
    }
}

/// A name free both in the socket's namespace and in `ns`, for the
/// old-kernel workaround.
fn temporary_name(nl: &RouteSocket, ns: &NetNs, salt: u32) -> Result<IfName> {
    let pid = std::process::id();
    for n in 0..64u32 {
        let candidate = IfName::new(&format!("nsl{:x}t{:x}", pid & 0xffff, n * 2 + salt))?;
        if !exists_in(nl, nl.netns(), &candidate)? && !exists_in(nl, ns, &candidate)? {
            return Ok(candidate);
        }
    }
    Err(Error::os(Op::CreateVeth, "temporary name", Errno::EEXIST))
}

impl RouteSocket {
    /// The peer of veth `id`: its index and the namespace id (as seen from
    /// this namespace) of where it lives, like `ip link` shows `vethX@ifN`
    /// and `link-netnsid`. Falls back to ethtool's `peer_ifindex` statistic
    /// on kernels that do not report `IFLA_LINK` for veth.
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
                object: crate::error::Object::from(format!("{:?}", link.name())),
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
                op: Op::GetLink,
                object: crate::error::Object::from(format!("peer of {:?}", link.name())),
            }),
        }
    }
}
