//! Network devices: the typed [`Link`] view, lookups, changes, deletion and
//! moving a device to another namespace (with the netns-local check).
//!
//! Every operation is a method of [`RouteSocket`] and acts on the socket's
//! namespace. A device is named by anything that converts into a [`LinkId`]:
//! an index (`u32`), a name (`&str`, [`IfName`]) or a [`Link`].
//!
//! Each operation's docs end with a "Kernel:" paragraph: the rtnetlink(7)
//! message it sends (and its main attributes), the ip-link(8) command that
//! does the same, the privilege it needs and what it costs. Reading needs
//! no privilege; a change needs `CAP_NET_ADMIN` in the user namespace that
//! owns the socket's network namespace (root, or the owner of a namespace
//! made under `unshare -rn`). A request is one round trip to the kernel
//! unless the docs say more; most take a few µs plus the kernel's work.

mod bridge;
mod builder;
mod create;
pub(crate) mod kind;
mod mac;
mod moving;
pub(crate) mod parse;
mod veth;

use std::fmt;

use bitflags::bitflags;
use netlink_packet_core::{DefaultNla, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    LinkAttribute, LinkExtentMask, LinkFlags as RawFlags, LinkMessage,
};
use nix::errno::Errno;
use nix::libc;

pub use bridge::{Bridge, BridgeBuilder, BridgePortOptions};
pub use builder::LinkBuilder;
pub use kind::{
    BondMode, BondOptions, BridgeOptions, GeneveOptions, IpvlanIsolation, IpvlanMode,
    IpvlanOptions, KindOptions, LinkKind, LinkOptionKind, MacvlanMode, MacvlanOptions,
    ParseLinkOptionError, VethOptions, VlanOptions, VlanProtocol, VrfOptions, VxlanOptions,
};
pub use mac::{MacAddr, MacAddrParseError};
pub use moving::NetnsLocal;
use std::sync::Arc;
pub use veth::{VethBuilder, VethEnd, VethPair};

use crate::error::{Error, Object, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::{Request, RouteSocket};

// Groups, settings and counters, alternative names, tun/tap (issue 8).
mod altname;
mod group;
mod settings;
mod stats;
mod tuntap;
pub use altname::{ALTNAME_MAX, AltName, IntoAltName};
pub use group::{LinkGroup, LinkWordKind, ParseLinkWordError};
pub use stats::LinkStats;
pub use tuntap::{Gid, TunInfo, TunMode, TunQueues, TunTap, Uid};

bitflags! {
    /// Device flags (`IFF_*`, the `ifi_flags` of a link message), as shown
    /// between `<…>` by `ip link`.
    ///
    /// ```
    /// use nslink::LinkFlags;
    ///
    /// let f = LinkFlags::UP | LinkFlags::LOWER_UP;
    /// assert!(f.contains(LinkFlags::UP));
    /// assert_eq!(f.bits(), 0x10001);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct LinkFlags: u32 {
        /// `IFF_UP`: administratively up (`ip link set DEV up`).
        const UP = libc::IFF_UP as u32;
        /// `IFF_BROADCAST`.
        const BROADCAST = libc::IFF_BROADCAST as u32;
        /// `IFF_LOOPBACK`.
        const LOOPBACK = libc::IFF_LOOPBACK as u32;
        /// `IFF_POINTOPOINT`.
        const POINTOPOINT = libc::IFF_POINTOPOINT as u32;
        /// `IFF_RUNNING`: operationally up (RFC 2863 "up").
        const RUNNING = libc::IFF_RUNNING as u32;
        /// `IFF_NOARP`.
        const NOARP = libc::IFF_NOARP as u32;
        /// `IFF_PROMISC`.
        const PROMISC = libc::IFF_PROMISC as u32;
        /// `IFF_ALLMULTI`.
        const ALLMULTI = libc::IFF_ALLMULTI as u32;
        /// `IFF_MASTER`.
        const MASTER = libc::IFF_MASTER as u32;
        /// `IFF_SLAVE`.
        const SLAVE = libc::IFF_SLAVE as u32;
        /// `IFF_MULTICAST`.
        const MULTICAST = libc::IFF_MULTICAST as u32;
        /// `IFF_LOWER_UP`: the carrier is on.
        const LOWER_UP = libc::IFF_LOWER_UP as u32;
        /// `IFF_DORMANT`.
        const DORMANT = libc::IFF_DORMANT as u32;
        /// `IFF_ECHO`.
        const ECHO = libc::IFF_ECHO as u32;
        const _ = !0;
    }
}

/// Operational state (`IFLA_OPERSTATE`, RFC 2863), as `ip link` shows after
/// `state`.
///
/// ```
/// assert_eq!(format!("[{:<6}]", nslink::OperState::Up), "[UP    ]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperState {
    /// `UNKNOWN` (e.g. `lo`, tun devices).
    Unknown,
    /// `NOTPRESENT`.
    NotPresent,
    /// `DOWN`.
    Down,
    /// `LOWERLAYERDOWN` (e.g. a veth whose peer is down).
    LowerLayerDown,
    /// `TESTING`.
    Testing,
    /// `DORMANT`.
    Dormant,
    /// `UP`.
    Up,
}

impl OperState {
    /// The word `ip link` prints.
    ///
    /// ```
    /// assert_eq!(nslink::OperState::LowerLayerDown.as_str(), "LOWERLAYERDOWN");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            OperState::Unknown => "UNKNOWN",
            OperState::NotPresent => "NOTPRESENT",
            OperState::Down => "DOWN",
            OperState::LowerLayerDown => "LOWERLAYERDOWN",
            OperState::Testing => "TESTING",
            OperState::Dormant => "DORMANT",
            OperState::Up => "UP",
        }
    }
}

impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A device as the kernel reported it (`RTM_NEWLINK`): a snapshot, not a
/// live object. Ask the socket again to see changes.
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let lo = nl.link("lo")?.expect("every namespace has lo");
/// assert_eq!(lo.kind(), &nslink::LinkKind::Loopback);
/// println!("{} mtu {} state {}", lo.name(), lo.mtu(), lo.operstate());
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Clone)]
pub struct Link {
    index: u32,
    name: IfName,
    kind: LinkKind,
    link_type: u16,
    flags: LinkFlags,
    operstate: OperState,
    mtu: u32,
    /// Group, queue length, carrier, statistics, altnames (`settings.rs`).
    settings: settings::Settings,
    mac: Option<MacAddr>,
    master: Option<u32>,
    alias: Option<String>,
    alias_bytes: Option<Box<[u8]>>,
    parent: Option<u32>,
    link_netnsid: Option<i32>,
    netns_immutable: Option<bool>,
    bridge_port: Option<BridgePortOptions>,
    /// The message as the kernel sent it (payload after the netlink header).
    bytes: Arc<[u8]>,
}

impl Link {
    /// The interface index (`ifindex`).
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert_eq!(lo.index(), 1);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The interface name.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link(1)?;
    /// assert_eq!(lo.name(), "lo");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn name(&self) -> &IfName {
        &self.name
    }
    /// What kind of device it is.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert_eq!(lo.kind(), &nslink::LinkKind::Loopback);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn kind(&self) -> &LinkKind {
        &self.kind
    }
    /// The device flags (`UP`, `LOWER_UP`, `RUNNING`, …).
    ///
    /// ```no_run
    /// use nslink::LinkFlags;
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert!(lo.flags().contains(LinkFlags::LOOPBACK));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn flags(&self) -> LinkFlags {
        self.flags
    }
    /// Whether the device is administratively up (`IFF_UP`).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_up("lo")?;
    /// assert!(nl.require_link("lo")?.is_up());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn is_up(&self) -> bool {
        self.flags.contains(LinkFlags::UP)
    }
    /// The operational state.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// println!("lo is {}", lo.operstate()); // UNKNOWN: lo has no carrier to report
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn operstate(&self) -> OperState {
        self.operstate
    }
    /// The MTU.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert_eq!(lo.mtu(), 65536);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mtu(&self) -> u32 {
        self.mtu
    }
    /// The hardware address, for devices with a 6-byte one.
    ///
    /// ```no_run
    /// let eth0 = nslink::RouteSocket::open()?.require_link("eth0")?;
    /// if let Some(mac) = eth0.mac() {
    ///     println!("eth0 is {mac}");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn mac(&self) -> Option<MacAddr> {
        self.mac
    }
    /// The index of the master device (a bridge), if enslaved.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let br = nl.require_link("cni0")?;
    /// assert_eq!(nl.require_link("veth1")?.master(), Some(br.index()));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn master(&self) -> Option<u32> {
        self.master
    }
    /// The alias (`ip link set DEV alias TEXT`), as text: bytes that are
    /// not UTF-8 (another tool may set any) are replaced by U+FFFD. See
    /// [`alias_bytes`](Link::alias_bytes) for the exact bytes.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_alias("veth0", "pod a")?;
    /// assert_eq!(nl.require_link("veth0")?.alias(), Some("pod a"));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }
    /// The alias exactly as the kernel holds it (`IFLA_IFALIAS`).
    ///
    /// ```no_run
    /// let veth0 = nslink::RouteSocket::open()?.require_link("veth0")?;
    /// assert_eq!(veth0.alias_bytes(), veth0.alias().map(str::as_bytes));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn alias_bytes(&self) -> Option<&[u8]> {
        self.alias_bytes.as_deref()
    }
    /// `IFLA_LINK`: for a veth, the peer's index (in the namespace given by
    /// [`link_netnsid`](Link::link_netnsid) when that is set); for a
    /// macvlan, its parent.
    ///
    /// ```no_run
    /// let veth0 = nslink::RouteSocket::open()?.require_link("veth0")?;
    /// println!("peer is #{:?} in nsid {:?}", veth0.parent_index(), veth0.link_netnsid());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn parent_index(&self) -> Option<u32> {
        self.parent
    }
    /// `IFLA_LINK_NETNSID`: the id, *as seen from this link's namespace*, of
    /// the namespace where [`parent_index`](Link::parent_index) lives.
    ///
    /// ```no_run
    /// let veth0 = nslink::RouteSocket::open()?.require_link("veth0")?;
    /// if veth0.link_netnsid().is_some() {
    ///     println!("the peer lives in another namespace");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn link_netnsid(&self) -> Option<i32> {
        self.link_netnsid
    }
    /// `IFLA_NETNS_IMMUTABLE` when the kernel sends it (Linux 6.15+): whether
    /// the device may change namespace. See [`RouteSocket::netns_local`] for
    /// an answer on every kernel.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert!(matches!(lo.netns_immutable_attr(), Some(true) | None));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns_immutable_attr(&self) -> Option<bool> {
        self.netns_immutable
    }
    /// The link layer type (`ARPHRD_*`: 1 Ethernet, 772 loopback, 65534
    /// none), as `ip -j link` shows under `link_type`.
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert_eq!(lo.link_type(), 772);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn link_type(&self) -> u16 {
        self.link_type
    }
    /// Bridge-port details when this link is a bridge port.
    ///
    /// ```no_run
    /// let port = nslink::RouteSocket::open()?.require_link("veth1")?;
    /// if let Some(p) = port.bridge_port() {
    ///     println!("hairpin {:?} learning {:?}", p.hairpin, p.learning);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn bridge_port(&self) -> Option<BridgePortOptions> {
        self.bridge_port
    }
    /// The complete message, decoded by `netlink-packet-route`, for
    /// attributes this view does not cover.
    ///
    /// # Errors
    /// [`Error::Decode`] if `netlink-packet-route` cannot decode it.
    ///
    /// ```no_run
    /// use nslink::netlink_packet_route::link::LinkAttribute;
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// let txqlen = lo.message()?.attributes.into_iter().find_map(|a| match a {
    ///     LinkAttribute::TxQueueLen(n) => Some(n),
    ///     _ => None,
    /// });
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn message(&self) -> Result<LinkMessage> {
        crate::netlink::screen::link_message(&self.bytes)
            .map_err(|detail| Error::Decode { op: Op::GetLink, detail })
    }
    /// The message's bytes as the kernel sent them (after the netlink
    /// header).
    ///
    /// ```no_run
    /// let lo = nslink::RouteSocket::open()?.require_link("lo")?;
    /// assert!(lo.bytes().len() > 16); // struct ifinfomsg, then attributes
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("index", &self.index)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("flags", &self.flags)
            .field("operstate", &self.operstate)
            .field("mtu", &self.mtu)
            .field("mac", &self.mac)
            .field("master", &self.master)
            .finish_non_exhaustive()
    }
}

/// How a device is named in a request: by index or by name.
///
/// ```
/// use nslink::{IntoLinkId, LinkId};
///
/// assert_eq!(7.into_link_id()?, LinkId::Index(7));
/// assert_eq!("eth0".into_link_id()?.to_string(), "eth0");
/// assert_eq!(format!("{:>4}", LinkId::Index(7)), "  #7");
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkId {
    /// By interface index.
    Index(u32),
    /// By interface name.
    Name(IfName),
}

impl LinkId {
    /// Puts the identification into a request message.
    pub(crate) fn apply(&self, msg: &mut LinkMessage) {
        match self {
            LinkId::Index(i) => msg.header.index = *i,
            LinkId::Name(n) => msg.attributes.push(ifname_attr(n)),
        }
    }

    /// `"veth0"` (quoted, escaped) or `#7`, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            LinkId::Index(i) => format!("#{i}"),
            LinkId::Name(n) => format!("{n:?}"),
        }
    }

    /// The link as the failing object of an error: `link "veth0"` or
    /// `link 7`.
    pub(crate) fn object(&self) -> Object {
        match self {
            LinkId::Index(i) => Object::link_index(*i),
            LinkId::Name(n) => Object::link_name(n),
        }
    }
}

/// `IFLA_IFNAME` carrying the exact bytes of `name` (NUL-terminated, as the
/// kernel writes it). `LinkAttribute::IfName` holds a `String` and cannot
/// carry a name that is not UTF-8.
pub(crate) fn ifname_attr(name: &IfName) -> LinkAttribute {
    let mut value = Vec::with_capacity(name.as_bytes().len() + 1);
    value.extend_from_slice(name.as_bytes());
    value.push(0);
    LinkAttribute::Other(DefaultNla::new(IFLA_IFNAME, value))
}

/// Prints `#7` for an index and the name (escaped like [`IfName`]'s
/// `Display`) for a name; honours width and alignment.
impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkId::Index(i) => f.pad(&format!("#{i}")),
            LinkId::Name(n) => fmt::Display::fmt(n, f),
        }
    }
}

/// Anything that names a device: `u32` index, `&str`/`String`/[`IfName`]
/// name, a [`Link`] (its index) or a [`LinkId`].
///
/// ```
/// use nslink::{IntoLinkId, LinkId};
///
/// fn describe(id: impl IntoLinkId) -> nslink::Result<String> {
///     Ok(id.into_link_id()?.to_string())
/// }
/// assert_eq!(describe(3)?, "#3");
/// assert_eq!(describe("veth0")?, "veth0");
/// assert!(describe("a name far too long").is_err());
/// # Ok::<(), nslink::Error>(())
/// ```
pub trait IntoLinkId {
    /// Converts, validating names.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for an invalid name.
    fn into_link_id(self) -> Result<LinkId>;
}
impl IntoLinkId for LinkId {
    fn into_link_id(self) -> Result<LinkId> {
        Ok(self)
    }
}
impl IntoLinkId for &LinkId {
    fn into_link_id(self) -> Result<LinkId> {
        Ok(self.clone())
    }
}
impl IntoLinkId for u32 {
    fn into_link_id(self) -> Result<LinkId> {
        Ok(LinkId::Index(self))
    }
}
impl IntoLinkId for &Link {
    fn into_link_id(self) -> Result<LinkId> {
        Ok(LinkId::Index(self.index))
    }
}
macro_rules! name_link_id {
    ($($t:ty),*) => {$(
        impl IntoLinkId for $t {
            fn into_link_id(self) -> Result<LinkId> {
                Ok(LinkId::Name(self.into_ifname()?))
            }
        }
    )*};
}
name_link_id!(&str, String, &String, IfName, &IfName);

/// A `RTM_NEWLINK`/`RTM_SETLINK` message for the device `id`.
pub(crate) fn message_for(id: &LinkId) -> LinkMessage {
    let mut msg = LinkMessage::default();
    id.apply(&mut msg);
    msg
}

use nix::libc::{IFLA_IFALIAS, IFLA_IFNAME};

/// Flags for creating a device: fail if it exists.
pub(crate) const CREATE: u16 = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;

impl RouteSocket {
    /// All devices of the namespace, like `ip link show` (one dump; an
    /// interrupted dump is repeated, never returned partial).
    ///
    /// Kernel: an `RTM_GETLINK` dump (rtnetlink(7), with `IFLA_EXT_MASK`
    /// asking to skip statistics), as ip-link(8) `show`. No privilege. Cost
    /// grows with the device count: ~4.8 ms for 1,000 veth devices on the
    /// development VM.
    ///
    /// # Errors
    /// [`Error::DumpInterrupted`] under heavy churn; the exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// for l in nl.links()? {
    ///     println!("{}: {} {:?}", l.index(), l.name(), l.flags());
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link show")]
    #[doc(alias = "RTM_GETLINK")]
    pub fn links(&self) -> Result<Vec<Link>> {
        let mut req = LinkMessage::default();
        req.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        self.dump_with(Op::ListLinks, RouteNetlinkMessage::GetLink(req), &parse::decode_link)
    }

    /// One device by index or name, like `ip link show DEV`; `Ok(None)` when
    /// there is no such device.
    ///
    /// Kernel: one `RTM_GETLINK` request naming `ifi_index` or `IFLA_IFNAME`
    /// (rtnetlink(7)); the kernel answers `ENODEV` for a missing device. No
    /// privilege; ~10 µs on the development VM, whatever the device count.
    ///
    /// # Errors
    /// [`Error::InvalidName`]; the exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// if let Some(l) = nl.link("eth0")? {
    ///     println!("eth0 is #{}", l.index());
    /// }
    /// assert!(nl.link(999_999)?.is_none());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn link(&self, id: impl IntoLinkId) -> Result<Option<Link>> {
        let id = id.into_link_id()?;
        if id == LinkId::Index(0) {
            // No device has index 0 (the kernel would answer EINVAL).
            return Ok(None);
        }
        let reply =
            self.request_reply_with(Op::GetLink, get_request(&id), 0, &parse::decode_link)?;
        match reply {
            Ok(mut links) => Ok(links.pop()),
            Err(e) if e.errno() == Some(Errno::ENODEV as i32) => Ok(None),
            Err(e) => Err(e.into_error(Op::GetLink, id.object())),
        }
    }

    /// Like [`link`](RouteSocket::link), but a missing device is an error.
    ///
    /// Kernel: as [`link`](RouteSocket::link).
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such device.
    ///
    /// ```no_run
    /// let eth0 = nslink::RouteSocket::open()?.require_link("eth0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn require_link(&self, id: impl IntoLinkId) -> Result<Link> {
        let id = id.into_link_id()?;
        self.link(&id)?.ok_or_else(|| Error::NotFound {
            errno: None,
            extack: None,
            op: Op::GetLink,
            object: id.object(),
        })
    }

    /// Sends one `RTM_SETLINK` built by `edit` for device `id`.
    pub(crate) fn set_link(
        &self,
        op: Op,
        id: LinkId,
        edit: impl FnOnce(&mut LinkMessage),
    ) -> Result<()> {
        self.send_one(set_link_request(op, id, edit))
    }

    /// Brings a device up, like `ip link set DEV up`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFF_UP` in `ifi_flags` and `ifi_change`
    /// (rtnetlink(7), netdevice(7) flags; ip-link(8) `set up`). Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` ([`Error::is_not_found`]) for a missing
    /// device, and the kernel's reason otherwise.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_up("lo")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set up")]
    pub fn set_up(&self, id: impl IntoLinkId) -> Result<()> {
        self.send_one(up_request(id.into_link_id()?, true))
    }

    /// Takes a device down, like `ip link set DEV down`.
    ///
    /// Kernel: `RTM_SETLINK` clearing `IFF_UP` (rtnetlink(7); ip-link(8)
    /// `set down`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`set_up`](RouteSocket::set_up).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_down("veth0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set down")]
    pub fn set_down(&self, id: impl IntoLinkId) -> Result<()> {
        self.send_one(up_request(id.into_link_id()?, false))
    }

    /// Sets the MTU, like `ip link set DEV mtu N`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_MTU` (rtnetlink(7); ip-link(8)
    /// `set mtu`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EINVAL` and the kernel's text for an MTU out of
    /// the device's range.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_mtu("veth0", 1400)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set mtu")]
    pub fn set_mtu(&self, id: impl IntoLinkId, mtu: u32) -> Result<()> {
        self.send_one(mtu_request(id.into_link_id()?, mtu))
    }

    /// Sets the hardware address, like `ip link set DEV address MAC`.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_ADDRESS` (rtnetlink(7); ip-link(8)
    /// `set address`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EADDRNOTAVAIL` for a multicast address, and the
    /// kernel's reason otherwise.
    ///
    /// ```no_run
    /// let mac: nslink::MacAddr = "02:00:00:00:00:01".parse()?;
    /// nslink::RouteSocket::open()?.set_mac("veth0", mac)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set address")]
    pub fn set_mac(&self, id: impl IntoLinkId, mac: MacAddr) -> Result<()> {
        self.set_link(Op::SetLink, id.into_link_id()?, |m| {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()))
        })
    }

    /// Renames a device, like `ip link set DEV name NEW`. Older kernels
    /// refuse to rename a device that is up (`EBUSY`); recent ones allow it
    /// for most devices.
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_IFNAME`, addressed by index
    /// (rtnetlink(7); ip-link(8) `set name`). A device given by name is
    /// looked up first: two round trips. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] before sending; [`Error::Os`] with `EEXIST`
    /// when `new_name` is taken, `EBUSY` when the device is up.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.rename("veth0", "eth1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set name")]
    pub fn rename(&self, id: impl IntoLinkId, new_name: impl IntoIfName) -> Result<()> {
        let new_name = new_name.into_ifname()?;
        let id = id.into_link_id()?;
        let index = self.resolve_index(Op::SetLink, &id)?;
        self.set_link(Op::SetLink, LinkId::Index(index), |m| {
            m.attributes.push(ifname_attr(&new_name))
        })
        .map_err(|e| rename_context(e, &id, &new_name))
    }

    /// Sets the alias, like `ip link set DEV alias TEXT` (empty clears it).
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_IFALIAS` (rtnetlink(7); ip-link(8)
    /// `set alias`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an alias over 255 bytes; the kernel's
    /// reason otherwise.
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.set_alias("veth0", "pod a")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set alias")]
    pub fn set_alias(&self, id: impl IntoLinkId, alias: &str) -> Result<()> {
        let id = id.into_link_id()?;
        if alias.len() > 255 || alias.contains('\0') {
            return Err(Error::InvalidArgument {
                op: Op::SetLink,
                object: id.object(),
                detail: "an alias is at most 255 bytes, without NUL".into(),
            });
        }
        self.send_one(alias_request(id, alias))
    }

    /// Deletes a device, like `ip link del DEV` (deleting one end of a veth
    /// deletes both).
    ///
    /// Kernel: `RTM_DELLINK` (rtnetlink(7); ip-link(8) `delete`). Needs
    /// `CAP_NET_ADMIN`. Slow next to other link changes: the kernel answers
    /// only after the device is unregistered, which waits for RCU grace
    /// periods; deleting a veth took ~18 ms on the development VM (an MTU
    /// change ~0.15 ms).
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` for a missing device, `EOPNOTSUPP` for a
    /// device that cannot be deleted (`lo`).
    ///
    /// ```no_run
    /// nslink::RouteSocket::open()?.delete_link("veth0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link del")]
    #[doc(alias = "RTM_DELLINK")]
    pub fn delete_link(&self, id: impl IntoLinkId) -> Result<()> {
        self.send_one(delete_request(id.into_link_id()?))
    }

    /// The index of `id`, asking the kernel only for names.
    pub(crate) fn resolve_index(&self, op: Op, id: &LinkId) -> Result<u32> {
        match id {
            LinkId::Index(i) => Ok(*i),
            LinkId::Name(_) => match self.link(id)? {
                Some(l) => Ok(l.index()),
                None => Err(Error::os(op, id.object(), Errno::ENODEV)),
            },
        }
    }
}

/// An `RTM_SETLINK` for device `id`, edited by `edit`.
pub(crate) fn set_link_request(op: Op, id: LinkId, edit: impl FnOnce(&mut LinkMessage)) -> Request {
    let mut msg = message_for(&id);
    edit(&mut msg);
    Request { op, object: id.object(), msg: RouteNetlinkMessage::SetLink(msg), flags: 0 }
}

/// `ip link set DEV alias TEXT` (the alias checked by the caller).
pub(crate) fn alias_request(id: LinkId, alias: &str) -> Request {
    // Sent without a trailing NUL, as iproute2 does: with one, a 255-byte
    // alias would exceed the kernel's limit.
    set_link_request(Op::SetLink, id, |m| {
        m.attributes.push(LinkAttribute::Other(DefaultNla::new(IFLA_IFALIAS, alias.into())))
    })
}

/// `RTM_GETLINK` for one device, without statistics (`ip link show DEV`).
pub(crate) fn get_request(id: &LinkId) -> RouteNetlinkMessage {
    let mut req = message_for(id);
    req.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    RouteNetlinkMessage::GetLink(req)
}

/// `ip link set DEV up` / `down`.
pub(crate) fn up_request(id: LinkId, up: bool) -> Request {
    set_link_request(Op::SetLink, id, |m| {
        m.header.flags = if up { RawFlags::Up } else { RawFlags::empty() };
        m.header.change_mask = RawFlags::Up;
    })
}

/// `ip link set DEV mtu N`.
pub(crate) fn mtu_request(id: LinkId, mtu: u32) -> Request {
    set_link_request(Op::SetLink, id, |m| m.attributes.push(LinkAttribute::Mtu(mtu)))
}

/// `ip link del DEV`.
pub(crate) fn delete_request(id: LinkId) -> Request {
    Request {
        op: Op::DeleteLink,
        object: id.object(),
        msg: RouteNetlinkMessage::DelLink(message_for(&id)),
        flags: 0,
    }
}

fn rename_context(e: Error, id: &LinkId, new_name: &IfName) -> Error {
    match e {
        Error::Os { op, .. } | Error::NotFound { op, .. } => {
            e.with_object(op, id.object().with_detail(format!("to {new_name:?}")))
        }
        e => e,
    }
}
