//! IP addresses on links (`ip addr`, `RTM_NEWADDR`/`RTM_DELADDR`/
//! `RTM_GETADDR` of rtnetlink(7), ip-address(8)), IPv4 and IPv6, and the
//! [`IpNet`] prefix type shared with routes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::libc;

use crate::error::{Error, Op, Result};
use crate::link::{IntoLinkId, LinkId};
use crate::netlink::{Request, RouteSocket, walk};
use crate::route::kernel_enum;

/// An address with a prefix length, written `10.244.1.2/24` or
/// `fd00::1/64`.
///
/// ```
/// use nslink::IpNet;
///
/// let net: IpNet = "10.244.1.7/24".parse()?;
/// assert_eq!(net.prefix_len(), 24);
/// assert_eq!(net.network().to_string(), "10.244.1.0/24");
/// assert!(net.contains("10.244.1.200".parse().unwrap()));
/// assert_eq!(format!("[{:<16}]", net), "[10.244.1.7/24   ]");
/// let err = "10.0.0.1/33".parse::<IpNet>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid IP prefix \"10.0.0.1/33\": the prefix length 33 is longer than an IPv4 address (32 bits)"
/// );
/// # Ok::<(), nslink::addr::IpNetParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

/// What is wrong with a prefix refused by [`IpNet`]'s `parse` or
/// [`IpNet::new`].
///
/// ```
/// use nslink::addr::{IpNet, IpNetErrorKind};
///
/// assert_eq!("10.0.0.1/x".parse::<IpNet>().unwrap_err().kind(), IpNetErrorKind::PrefixLength);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpNetErrorKind {
    /// The part before `/` is not an IPv4 or IPv6 address.
    Address,
    /// The part after `/` is not a decimal number.
    PrefixLength,
    /// The prefix length is longer than the address.
    PrefixTooLong {
        /// The length given.
        len: u32,
        /// The address's length in bits (32 or 128).
        max: u8,
    },
}

/// A prefix refused by [`IpNet`]'s `parse` or [`IpNet::new`], like std's
/// [`AddrParseError`](std::net::AddrParseError) for addresses. Converts into
/// [`Error::Parse`] with `?`.
///
/// ```
/// use nslink::addr::{IpNet, IpNetErrorKind};
///
/// let err = "fd00::/129".parse::<IpNet>().unwrap_err();
/// assert_eq!(err.kind(), IpNetErrorKind::PrefixTooLong { len: 129, max: 128 });
/// assert_eq!(err.input(), "fd00::/129");
/// assert_eq!("x/24".parse::<IpNet>().unwrap_err().kind(), IpNetErrorKind::Address);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpNetParseError {
    input: String,
    kind: IpNetErrorKind,
}

impl IpNetParseError {
    /// What is wrong.
    ///
    /// ```
    /// use nslink::addr::{IpNet, IpNetErrorKind};
    ///
    /// let err = "10.0.0.1/40".parse::<IpNet>().unwrap_err();
    /// assert_eq!(err.kind(), IpNetErrorKind::PrefixTooLong { len: 40, max: 32 });
    /// ```
    pub fn kind(&self) -> IpNetErrorKind {
        self.kind
    }
    /// The text refused (for [`IpNet::new`], `ADDR/LEN`).
    ///
    /// ```
    /// let err = "nope/8".parse::<nslink::IpNet>().unwrap_err();
    /// assert_eq!(err.input(), "nope/8");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for IpNetParseError {
    /// Honours width and alignment, like every `Display` of nslink.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            IpNetErrorKind::Address => "not an IPv4 or IPv6 address before the '/'".to_owned(),
            IpNetErrorKind::PrefixLength => {
                "the prefix length after the '/' is not a decimal number".to_owned()
            }
            IpNetErrorKind::PrefixTooLong { len, max } => format!(
                "the prefix length {len} is longer than an {} address ({max} bits)",
                if max == 32 { "IPv4" } else { "IPv6" }
            ),
        };
        f.pad(&format!("invalid IP prefix {:?}: {why}", self.input))
    }
}

impl std::error::Error for IpNetParseError {}

impl From<IpNetParseError> for Error {
    fn from(e: IpNetParseError) -> Error {
        Error::Parse(crate::error::ParseError::IpNet(e))
    }
}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

impl IpNet {
    /// `addr/prefix_len`.
    ///
    /// # Errors
    /// [`IpNetParseError`] ([`IpNetErrorKind::PrefixTooLong`]) when the
    /// prefix is longer than the address (32 for IPv4, 128 for IPv6).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use nslink::IpNet;
    ///
    /// assert_eq!(IpNet::new(Ipv4Addr::new(10, 0, 0, 1).into(), 8)?.to_string(), "10.0.0.1/8");
    /// assert!(IpNet::new(Ipv4Addr::new(10, 0, 0, 1).into(), 33).is_err());
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<IpNet, IpNetParseError> {
        let max = max_len(addr);
        if prefix_len > max {
            return Err(IpNetParseError {
                input: format!("{addr}/{prefix_len}"),
                kind: IpNetErrorKind::PrefixTooLong { len: prefix_len.into(), max },
            });
        }
        Ok(IpNet { addr, prefix_len })
    }

    /// A host prefix (`/32` or `/128`).
    ///
    /// ```
    /// let h = nslink::IpNet::host("fd00::1".parse().unwrap());
    /// assert_eq!(h.to_string(), "fd00::1/128");
    /// ```
    pub fn host(addr: IpAddr) -> IpNet {
        IpNet { addr, prefix_len: max_len(addr) }
    }

    /// The default route's destination for `addr`'s family (`0.0.0.0/0` or
    /// `::/0`).
    ///
    /// ```
    /// let d = nslink::IpNet::default_for("10.0.0.1".parse().unwrap());
    /// assert_eq!(d.to_string(), "0.0.0.0/0");
    /// ```
    pub fn default_for(addr: IpAddr) -> IpNet {
        match addr {
            IpAddr::V4(_) => IpNet { addr: Ipv4Addr::UNSPECIFIED.into(), prefix_len: 0 },
            IpAddr::V6(_) => IpNet { addr: std::net::Ipv6Addr::UNSPECIFIED.into(), prefix_len: 0 },
        }
    }

    /// The address.
    ///
    /// ```
    /// let net: nslink::IpNet = "10.244.1.7/24".parse()?;
    /// assert_eq!(net.addr().to_string(), "10.244.1.7");
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
    /// The prefix length.
    ///
    /// ```
    /// let net: nslink::IpNet = "fd00::/64".parse()?;
    /// assert_eq!(net.prefix_len(), 64);
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    /// Whether this is IPv4.
    ///
    /// ```
    /// let net: nslink::IpNet = "fd00::/64".parse()?;
    /// assert!(!net.is_ipv4());
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    fn mask128(&self) -> u128 {
        let bits = u32::from(max_len(self.addr));
        if self.prefix_len == 0 {
            0
        } else {
            (!0u128 << (bits - u32::from(self.prefix_len))) & (!0u128 >> (128 - bits))
        }
    }

    fn to_u128(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        }
    }

    fn same_family(&self, v: u128) -> IpAddr {
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(v)),
        }
    }

    /// The network: the address with host bits cleared.
    ///
    /// ```
    /// let net: nslink::IpNet = "192.0.2.77/26".parse()?;
    /// assert_eq!(net.network().to_string(), "192.0.2.64/26");
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn network(&self) -> IpNet {
        let v = Self::to_u128(self.addr) & self.mask128();
        IpNet { addr: self.same_family(v), prefix_len: self.prefix_len }
    }

    /// The IPv4 broadcast address (`None` for IPv6 and for /31 and /32).
    ///
    /// ```
    /// let net: nslink::IpNet = "192.0.2.77/26".parse()?;
    /// assert_eq!(net.broadcast(), Some("192.0.2.127".parse().unwrap()));
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) if self.prefix_len < 31 => {
                let mask = self.mask128() as u32;
                Some(Ipv4Addr::from(u32::from(a) | !mask))
            }
            _ => None,
        }
    }

    /// Whether `addr` is inside this prefix.
    ///
    /// ```
    /// let net: nslink::IpNet = "10.0.0.0/8".parse()?;
    /// assert!(net.contains("10.1.2.3".parse().unwrap()));
    /// assert!(!net.contains("11.0.0.1".parse().unwrap()));
    /// # Ok::<(), nslink::addr::IpNetParseError>(())
    /// ```
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.is_ipv4()
            && Self::to_u128(addr) & self.mask128() == Self::to_u128(self.addr) & self.mask128()
    }
}

impl fmt::Display for IpNet {
    /// `ADDR/LEN`; honours width and alignment (`{:<18}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}/{}", self.addr, self.prefix_len))
    }
}

impl fmt::Debug for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for IpNet {
    type Err = IpNetParseError;
    /// Parses `ADDR/LEN`; a bare address is a host prefix.
    fn from_str(s: &str) -> Result<IpNet, IpNetParseError> {
        let bad = |kind| IpNetParseError { input: s.to_owned(), kind };
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad(IpNetErrorKind::Address))?;
        match len {
            None => Ok(IpNet::host(addr)),
            Some(l) => {
                if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(IpNetErrorKind::PrefixLength));
                }
                let max = max_len(addr);
                match l.parse::<u32>() {
                    Ok(n) if n <= u32::from(max) => Ok(IpNet { addr, prefix_len: n as u8 }),
                    Ok(n) => Err(bad(IpNetErrorKind::PrefixTooLong { len: n, max })),
                    // More digits than a u32 holds: longer than any address.
                    Err(_) => Err(bad(IpNetErrorKind::PrefixTooLong { len: u32::MAX, max })),
                }
            }
        }
    }
}

kernel_enum! {
    /// How far an address is valid (`ifa_scope`, the `RT_SCOPE_*` values of
    /// rtnetlink(7), `scope` in ip-address(8)).
    ///
    /// ```
    /// use nslink::addr::AddressScope;
    ///
    /// assert_eq!("host".parse::<AddressScope>()?, AddressScope::Host);
    /// assert_eq!(AddressScope::from(0u8).to_string(), "global");
    /// assert_eq!(format!("{:>7}", AddressScope::Link), "   link");
    /// # Ok::<(), nslink::route::ParseKeywordError>(())
    /// ```
    pub enum AddressScope: u8 as AddressScope {
        /// `RT_SCOPE_UNIVERSE` (0): valid everywhere.
        Global = 0, "global" | "universe";
        /// `RT_SCOPE_SITE` (200): valid inside the site (IPv6 site-local).
        Site = 200, "site";
        /// `RT_SCOPE_LINK` (253): valid on the link only (IPv6 `fe80::/10`).
        Link = 253, "link";
        /// `RT_SCOPE_HOST` (254): valid inside this host (`127.0.0.1`,
        /// `::1`).
        Host = 254, "host";
        /// `RT_SCOPE_NOWHERE` (255).
        Nowhere = 255, "nowhere";
    }
}

impl From<AddressScope> for netlink_packet_route::address::AddressScope {
    fn from(s: AddressScope) -> Self {
        s.value().into()
    }
}
impl From<netlink_packet_route::address::AddressScope> for AddressScope {
    fn from(s: netlink_packet_route::address::AddressScope) -> Self {
        AddressScope::from_value(s.into())
    }
}

bitflags::bitflags! {
    /// The flags of an address (`IFA_F_*` in `ifa_flags` and `IFA_FLAGS`,
    /// rtnetlink(7); printed by `ip addr` after the scope). Bits without a
    /// name here are kept.
    ///
    /// ```
    /// use nslink::addr::AddressFlags;
    ///
    /// let f = AddressFlags::NODAD | AddressFlags::NOPREFIXROUTE;
    /// assert_eq!(f.bits(), 0x202);
    /// assert_eq!(f.to_string(), "nodad noprefixroute");
    /// assert_eq!(AddressFlags::from_bits_retain(0x8000).to_string(), "0x8000");
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct AddressFlags: u32 {
        /// `IFA_F_SECONDARY`: a second address in an IPv4 prefix already on
        /// the link (IPv6: a temporary address).
        const SECONDARY = libc::IFA_F_SECONDARY;
        /// `IFA_F_NODAD`: no IPv6 duplicate address detection.
        const NODAD = libc::IFA_F_NODAD;
        /// `IFA_F_OPTIMISTIC`: IPv6 optimistic DAD (usable while it runs).
        const OPTIMISTIC = libc::IFA_F_OPTIMISTIC;
        /// `IFA_F_DADFAILED`: IPv6 duplicate address detection failed.
        const DADFAILED = libc::IFA_F_DADFAILED;
        /// `IFA_F_HOMEADDRESS`: a Mobile IPv6 home address.
        const HOMEADDRESS = libc::IFA_F_HOMEADDRESS;
        /// `IFA_F_DEPRECATED`: the preferred lifetime is over.
        const DEPRECATED = libc::IFA_F_DEPRECATED;
        /// `IFA_F_TENTATIVE`: IPv6 duplicate address detection is running.
        const TENTATIVE = libc::IFA_F_TENTATIVE;
        /// `IFA_F_PERMANENT`: no lifetime (`ip addr` prints `dynamic` when
        /// this is missing).
        const PERMANENT = libc::IFA_F_PERMANENT;
        /// `IFA_F_MANAGETEMPADDR`: make IPv6 temporary addresses from this
        /// prefix.
        const MANAGETEMPADDR = libc::IFA_F_MANAGETEMPADDR;
        /// `IFA_F_NOPREFIXROUTE`: no prefix route for this address.
        const NOPREFIXROUTE = libc::IFA_F_NOPREFIXROUTE;
        /// `IFA_F_MCAUTOJOIN`: join the multicast group of this address.
        const MCAUTOJOIN = libc::IFA_F_MCAUTOJOIN;
        /// `IFA_F_STABLE_PRIVACY`: an IPv6 stable-privacy address (RFC 7217).
        const STABLE_PRIVACY = libc::IFA_F_STABLE_PRIVACY;
        // Bits a newer kernel may set are kept.
        const _ = !0;
    }
}

impl fmt::Display for AddressFlags {
    /// The words `ip addr` uses (`secondary nodad …`), unnamed bits in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WORDS: [(AddressFlags, &str); 12] = [
            (AddressFlags::SECONDARY, "secondary"),
            (AddressFlags::NODAD, "nodad"),
            (AddressFlags::OPTIMISTIC, "optimistic"),
            (AddressFlags::DADFAILED, "dadfailed"),
            (AddressFlags::HOMEADDRESS, "home"),
            (AddressFlags::DEPRECATED, "deprecated"),
            (AddressFlags::TENTATIVE, "tentative"),
            (AddressFlags::PERMANENT, "permanent"),
            (AddressFlags::MANAGETEMPADDR, "mngtmpaddr"),
            (AddressFlags::NOPREFIXROUTE, "noprefixroute"),
            (AddressFlags::MCAUTOJOIN, "autojoin"),
            (AddressFlags::STABLE_PRIVACY, "stable-privacy"),
        ];
        let mut words: Vec<String> = Vec::new();
        let mut left = self.bits();
        for (flag, word) in WORDS {
            if self.contains(flag) {
                words.push(word.to_owned());
                left &= !flag.bits();
            }
        }
        if left != 0 {
            words.push(format!("{left:#x}"));
        }
        f.pad(&words.join(" "))
    }
}

/// An address as the kernel reports it (`RTM_NEWADDR`).
///
/// ```no_run
/// for a in nslink::RouteSocket::open()?.addresses()? {
///     println!("#{} {} scope {} {}", a.index, a.net, a.scope, a.flags);
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Address {
    /// The index of the link it is on.
    pub index: u32,
    /// The address and prefix length (`IFA_LOCAL` for IPv4, `IFA_ADDRESS`
    /// for IPv6, as `ip addr` prints after `inet`/`inet6`).
    pub net: IpNet,
    /// The peer address of a point-to-point link, when it differs.
    pub peer: Option<IpAddr>,
    /// The IPv4 broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// The label (`eth0`, `eth0:1`).
    pub label: Option<String>,
    /// The scope, as `ip addr` prints after `scope`.
    pub scope: AddressScope,
    /// The flags (`IFA_FLAGS`, or the header's 8 bits on kernels without
    /// it).
    pub flags: AddressFlags,
}

fn family_of(addr: IpAddr) -> AddressFamily {
    if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 }
}

impl Address {
    /// Whether the address is still tentative (IPv6 duplicate address
    /// detection in progress): [`AddressFlags::TENTATIVE`].
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let busy = nl.link_addresses("eth0")?.iter().any(|a| a.is_tentative());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn is_tentative(&self) -> bool {
        self.flags.contains(AddressFlags::TENTATIVE)
    }

    /// The address an `RTM_NEWADDR`/`RTM_DELADDR` message describes, if it
    /// has one (also used by the monitor's events).
    pub(crate) fn from_message(m: AddressMessage) -> Option<Address> {
        let (mut local, mut address, mut broadcast, mut label, mut flags) =
            (None, None, None, None, None);
        for a in m.attributes {
            match a {
                AddressAttribute::Local(ip) => local = Some(ip),
                AddressAttribute::Address(ip) => address = Some(ip),
                AddressAttribute::Broadcast(ip) => broadcast = Some(ip),
                AddressAttribute::Label(l) => label = Some(l),
                AddressAttribute::Flags(f) => flags = Some(f.bits()),
                _ => {}
            }
        }
        let mine = local.or(address)?;
        let peer = match (local, address) {
            (Some(l), Some(a)) if l != a => Some(a),
            _ => None,
        };
        let flags = flags.unwrap_or(u32::from(m.header.flags.bits()));
        // A prefix longer than the address is no address (and would break
        // the prefix arithmetic of `IpNet`).
        let net = IpNet::new(mine, m.header.prefix_len).ok()?;
        Some(Address {
            index: m.header.index,
            net,
            peer,
            broadcast,
            label,
            scope: m.header.scope.into(),
            flags: AddressFlags::from_bits_retain(flags),
        })
    }
}

// Attribute numbers of `struct ifaddrmsg` messages (<linux/if_addr.h>);
// `libc` has them for Android only.
/// `IFA_ADDRESS`.
const IFA_ADDRESS: u16 = 1;
/// `IFA_LOCAL`.
const IFA_LOCAL: u16 = 2;
/// `IFA_LABEL`.
const IFA_LABEL: u16 = 3;
/// `IFA_BROADCAST`.
const IFA_BROADCAST: u16 = 4;
/// `IFA_FLAGS`.
const IFA_FLAGS: u16 = 8;

impl Address {
    /// The lean decoder of an `RTM_NEWADDR` payload (`struct ifaddrmsg`
    /// and attributes; see [`walk`](crate::netlink::walk)): the same
    /// [`Address`] as [`from_message`](Address::from_message) after a full
    /// `netlink-packet-route` decode, reading only what it keeps.
    /// `Ok(None)` where that gives no address.
    pub(crate) fn from_bytes(payload: &[u8]) -> Result<Option<Address>, String> {
        let (h, attrs) = walk::split::<8>("address message", payload)?;
        let (mut local, mut address, mut broadcast, mut label, mut flags) =
            (None, None, None, None, None);
        for a in attrs {
            let (kind, v) = a?;
            match kind {
                IFA_LOCAL => local = Some(walk::ip_by_len(kind, v)?),
                IFA_ADDRESS => address = Some(walk::ip_by_len(kind, v)?),
                IFA_BROADCAST => broadcast = Some(walk::ipv4_of(kind, v)?),
                IFA_LABEL => {
                    // One trailing NUL is dropped, as the kernel writes it.
                    let text = v.strip_suffix(&[0]).unwrap_or(v);
                    let text = std::str::from_utf8(text)
                        .map_err(|_| "IFA_LABEL is not UTF-8".to_owned())?;
                    label = Some(text.to_owned());
                }
                IFA_FLAGS => flags = Some(walk::u32_of(kind, v)?),
                _ => {}
            }
        }
        let Some(mine) = local.or(address) else {
            return Ok(None);
        };
        let peer = match (local, address) {
            (Some(l), Some(a)) if l != a => Some(a),
            _ => None,
        };
        let Ok(net) = IpNet::new(mine, h[1]) else {
            return Ok(None);
        };
        Ok(Some(Address {
            index: walk::u32_at(h, 4),
            net,
            peer,
            broadcast,
            label,
            scope: AddressScope::from_value(h[3]),
            flags: AddressFlags::from_bits_retain(flags.unwrap_or(u32::from(h[2]))),
        }))
    }
}

/// Options for [`RouteSocket::add_address_with`].
///
/// ```
/// use nslink::addr::{AddressFlags, AddressOptions, AddressScope};
///
/// let opts = AddressOptions::default()
///     .flags(AddressFlags::NODAD | AddressFlags::NOPREFIXROUTE)
///     .scope(AddressScope::Link);
/// assert_eq!(opts.scope, Some(AddressScope::Link));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct AddressOptions {
    /// Flags to set (`ip addr add … nodad noprefixroute …`): those a user
    /// may set are [`AddressFlags::NODAD`], [`AddressFlags::OPTIMISTIC`],
    /// [`AddressFlags::HOMEADDRESS`], [`AddressFlags::MANAGETEMPADDR`],
    /// [`AddressFlags::NOPREFIXROUTE`] and [`AddressFlags::MCAUTOJOIN`]; the
    /// kernel ignores or refuses the others.
    pub flags: AddressFlags,
    /// The scope; `None` chooses like `ip addr add`: `host` for IPv4
    /// loopback addresses (`127.0.0.0/8`), `global` otherwise. The kernel
    /// chooses IPv6 scopes itself from the address.
    pub scope: Option<AddressScope>,
}

impl AddressOptions {
    /// Adds `flags` to the flags to set.
    ///
    /// ```
    /// use nslink::addr::{AddressFlags, AddressOptions};
    ///
    /// let o = AddressOptions::default().flags(AddressFlags::NODAD).flags(AddressFlags::NOPREFIXROUTE);
    /// assert_eq!(o.flags, AddressFlags::NODAD | AddressFlags::NOPREFIXROUTE);
    /// ```
    pub fn flags(mut self, flags: AddressFlags) -> AddressOptions {
        self.flags |= flags;
        self
    }
    /// Sets the scope.
    ///
    /// ```
    /// use nslink::addr::{AddressOptions, AddressScope};
    ///
    /// assert_eq!(AddressOptions::default().scope(AddressScope::Host).scope, Some(AddressScope::Host));
    /// ```
    pub fn scope(mut self, scope: AddressScope) -> AddressOptions {
        self.scope = Some(scope);
        self
    }
}

impl RouteSocket {
    fn address_message(&self, op: Op, link: &LinkId, net: IpNet) -> Result<AddressMessage> {
        let index = self.resolve_index(op, link)?;
        let mut m = AddressMessage::default();
        m.header.family = family_of(net.addr());
        m.header.prefix_len = net.prefix_len();
        m.header.index = index;
        m.attributes.push(AddressAttribute::Local(net.addr()));
        m.attributes.push(AddressAttribute::Address(net.addr()));
        Ok(m)
    }

    /// Adds `net` to `link`, like `ip addr add NET brd + dev LINK` (IPv4
    /// addresses get the broadcast address of their prefix).
    ///
    /// Kernel: `RTM_NEWADDR` with `NLM_F_CREATE|NLM_F_EXCL`, `IFA_LOCAL`,
    /// `IFA_ADDRESS` and `IFA_BROADCAST` (rtnetlink(7); ip-address(8)
    /// `add`). Needs `CAP_NET_ADMIN`. A link given by name is looked up
    /// first (one more round trip).
    ///
    /// # Errors
    /// [`Error::Os`] with `EEXIST` ([`Error::is_already_exists`]) when the
    /// address is already there, `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_address("eth0", "10.244.1.2/24".parse()?)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr add")]
    #[doc(alias = "RTM_NEWADDR")]
    pub fn add_address(&self, link: impl IntoLinkId, net: IpNet) -> Result<()> {
        self.add_address_with(link, net, AddressOptions::default())
    }

    /// Adds `net` to `link` with flags and a scope, like
    /// `ip addr add NET dev LINK scope SCOPE nodad noprefixroute`.
    ///
    /// Kernel: as [`add_address`](RouteSocket::add_address), with
    /// `ifa_scope` and the flags in `IFA_FLAGS` (all 32 bits) and
    /// `ifa_flags` (the low 8). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`add_address`](RouteSocket::add_address).
    ///
    /// ```no_run
    /// use nslink::addr::{AddressFlags, AddressOptions};
    /// let nl = nslink::RouteSocket::open()?;
    /// let nodad = AddressOptions::default().flags(AddressFlags::NODAD);
    /// nl.add_address_with("eth0", "fd00::2/64".parse()?, nodad)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn add_address_with(
        &self,
        link: impl IntoLinkId,
        net: IpNet,
        opts: AddressOptions,
    ) -> Result<()> {
        let req = self.add_address_request(link.into_link_id()?, net, opts)?;
        self.send_one(req)
    }

    /// The `RTM_NEWADDR` request of [`add_address_with`](Self::add_address_with).
    pub(crate) fn add_address_request(
        &self,
        link: LinkId,
        net: IpNet,
        opts: AddressOptions,
    ) -> Result<Request> {
        let op = Op::AddAddress;
        let mut m = self.address_message(op, &link, net)?;
        if let Some(b) = net.broadcast() {
            m.attributes.push(AddressAttribute::Broadcast(b));
        }
        m.header.scope = opts
            .scope
            .unwrap_or(match net.addr() {
                IpAddr::V4(a) if a.is_loopback() => AddressScope::Host,
                _ => AddressScope::Global,
            })
            .into();
        let flags = opts.flags.bits();
        if flags != 0 {
            // The header holds the low 8 bits; IFA_FLAGS (Linux 3.14+) all.
            m.header.flags = AddressHeaderFlags::from_bits_retain(flags as u8);
            m.attributes.push(AddressAttribute::Flags(
                netlink_packet_route::address::AddressFlags::from_bits_retain(flags),
            ));
        }
        Ok(Request {
            op,
            object: address_object(net, &link),
            msg: RouteNetlinkMessage::NewAddress(m),
            flags: crate::link::CREATE,
        })
    }

    /// Removes `net` from `link`, like `ip addr del NET dev LINK`.
    ///
    /// Kernel: `RTM_DELADDR` with `IFA_LOCAL` and `IFA_ADDRESS`
    /// (rtnetlink(7); ip-address(8) `delete`). Needs `CAP_NET_ADMIN`. A link
    /// given by name is looked up first (one more round trip).
    ///
    /// # Errors
    /// [`Error::Os`] with `EADDRNOTAVAIL` when the link does not have it,
    /// `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.delete_address("eth0", "10.244.1.2/24".parse()?)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr del")]
    pub fn delete_address(&self, link: impl IntoLinkId, net: IpNet) -> Result<()> {
        let op = Op::DeleteAddress;
        let link = link.into_link_id()?;
        let m = self.address_message(op, &link, net)?;
        self.request(op, || address_object(net, &link), RouteNetlinkMessage::DelAddress(m), 0)
            .map(drop)
    }

    /// Every address of the namespace, like `ip addr show`, with its scope
    /// and flags.
    ///
    /// Kernel: an `RTM_GETADDR` dump of both families (rtnetlink(7);
    /// ip-address(8) `show`). No privilege; one dump, each message decoded
    /// as its datagram arrives (only the fields [`Address`] has are read).
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for a in nslink::RouteSocket::open()?.addresses()? {
    ///     println!("#{} {} scope {}", a.index, a.net, a.scope);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr show")]
    pub fn addresses(&self) -> Result<Vec<Address>> {
        let req = RouteNetlinkMessage::GetAddress(AddressMessage::default());
        self.dump_with(
            Op::ListAddresses,
            req,
            &walk::decoder(libc::RTM_NEWADDR, Address::from_bytes, |_| true),
        )
    }

    /// The addresses of one link, like `ip addr show dev LINK`.
    ///
    /// Kernel: an `RTM_GETADDR` dump of both families with `ifa_index` set,
    /// which the kernel answers with that link's addresses only
    /// (`NETLINK_GET_STRICT_CHK`, netlink(7), Linux 4.20+; on a kernel
    /// without strict checking the whole dump comes back and is filtered
    /// here), after a lookup of a link given by name (one more round trip).
    /// No privilege; the cost grows with the link's addresses, not the
    /// namespace's.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let v4: Vec<_> = nslink::RouteSocket::open()?
    ///     .link_addresses("eth0")?
    ///     .into_iter()
    ///     .filter(|a| a.net.is_ipv4())
    ///     .collect();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr show dev")]
    pub fn link_addresses(&self, link: impl IntoLinkId) -> Result<Vec<Address>> {
        let op = Op::ListAddresses;
        let link = link.into_link_id()?;
        let index = self.resolve_index(op, &link)?;
        let mut m = AddressMessage::default();
        m.header.index = index;
        self.dump_with(
            op,
            RouteNetlinkMessage::GetAddress(m),
            &walk::decoder(libc::RTM_NEWADDR, Address::from_bytes, |a| a.index == index),
        )
        .map_err(|e| match e.errno() {
            // The kernel's answer for a missing `ifa_index`: name the link.
            Some(errno @ nix::errno::Errno::ENODEV) => {
                Error::kernel(op, link.object(), errno as i32, e.extack().map(str::to_owned))
            }
            _ => e,
        })
    }

    /// Removes every address of `link`, like `ip addr flush dev LINK`;
    /// returns how many were removed.
    ///
    /// Kernel: an `RTM_GETADDR` dump, then one `RTM_DELADDR` per address
    /// (rtnetlink(7); ip-address(8) `flush`), repeated until the link has
    /// none (removing a primary IPv4 address can remove its secondaries):
    /// N + 2 round trips or more for N addresses. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` for a missing link; the first refusal.
    ///
    /// ```no_run
    /// let removed = nslink::RouteSocket::open()?.flush_addresses("eth0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr flush")]
    pub fn flush_addresses(&self, link: impl IntoLinkId) -> Result<usize> {
        let link = link.into_link_id()?;
        let index = self.resolve_index(Op::DeleteAddress, &link)?;
        // Deleting a primary IPv4 address can take its secondaries with it,
        // so go round until the link is empty, and count every address seen
        // that is gone at the end.
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let list = self.link_addresses(index)?;
            if list.is_empty() {
                return Ok(seen.len());
            }
            let mut progressed = false;
            for a in list {
                seen.insert(a.net);
                match self.delete_address(index, a.net) {
                    Ok(()) => progressed = true,
                    Err(e) if e.errno() == Some(nix::errno::Errno::EADDRNOTAVAIL) => {}
                    Err(e) => return Err(e),
                }
            }
            if !progressed {
                let left = self.link_addresses(index)?.len();
                return Ok(seen.len().saturating_sub(left));
            }
        }
    }
}

/// An address on a link, as the failing object of an error:
/// `address 10.0.0.1/24 on link "eth0"`.
fn address_object(net: IpNet, link: &LinkId) -> crate::error::Object {
    crate::error::Object::value(crate::error::ObjectKind::Address, net)
        .with_detail(format!("on {}", link.object()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipnet_parsing_and_math() {
        let n: IpNet = "10.244.1.7/24".parse().unwrap();
        assert_eq!(n.network().to_string(), "10.244.1.0/24");
        assert_eq!(n.broadcast(), Some(Ipv4Addr::new(10, 244, 1, 255)));
        assert!(n.contains("10.244.1.1".parse().unwrap()));
        assert!(!n.contains("10.244.2.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        let h: IpNet = "192.0.2.1".parse().unwrap();
        assert_eq!(h.prefix_len(), 32);
        assert_eq!(h.broadcast(), None);
        let v6: IpNet = "fd00::1:2/64".parse().unwrap();
        assert_eq!(v6.network().to_string(), "fd00::/64");
        assert_eq!(v6.broadcast(), None);
        let zero: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(zero.contains("8.8.8.8".parse().unwrap()));
        assert_eq!(IpNet::default_for("fd00::1".parse().unwrap()).to_string(), "::/0");
        use IpNetErrorKind::*;
        for (bad, kind) in [
            ("10.0.0.1/33", PrefixTooLong { len: 33, max: 32 }),
            ("fd00::/129", PrefixTooLong { len: 129, max: 128 }),
            ("10.0.0.1/99999999999", PrefixTooLong { len: u32::MAX, max: 32 }),
            ("x/24", Address),
            ("", Address),
            ("10.0.0.1/", PrefixLength),
            ("10.0.0.1/a", PrefixLength),
            ("10.0.0.1/+8", PrefixLength),
            ("10.0.0.1/ 8", PrefixLength),
        ] {
            let e = bad.parse::<IpNet>().unwrap_err();
            assert_eq!((e.kind(), e.input()), (kind, bad));
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("invalid IP prefix {bad:?}: ")), "{msg}");
        }
        let e: Error = "10.0.0.1/33".parse::<IpNet>().unwrap_err().into();
        assert_eq!(e.op(), None);
        assert!(e.to_string().contains("33 is longer than an IPv4 address (32 bits)"), "{e}");
        assert_eq!(IpNet::new("10.0.0.1".parse().unwrap(), 33).unwrap_err().input(), "10.0.0.1/33");
    }

    /// Found by the `dump_loop` fuzz target: an `RTM_NEWADDR` whose prefix
    /// is longer than its address (an IPv4 address with prefix 40) made an
    /// `IpNet` that panicked in `network()` (subtraction overflow in the
    /// mask). Such a message is not an address, like a route with a bad
    /// prefix.
    #[test]
    fn an_address_whose_prefix_is_longer_than_the_address_is_refused() {
        let message = |ip: IpAddr, prefix_len: u8| {
            let mut m = AddressMessage::default();
            m.header.family = family_of(ip);
            m.header.prefix_len = prefix_len;
            m.attributes.push(AddressAttribute::Local(ip));
            m
        };
        let v4: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
        let v6: IpAddr = "fd00::1".parse().unwrap();
        for (ip, len) in [(v4, 33), (v4, 40), (v4, 255), (v6, 129), (v6, 255)] {
            if let Some(a) = Address::from_message(message(ip, len)) {
                let _ = (a.net.network(), a.net.broadcast(), a.net.contains(ip));
                panic!("{ip} with prefix {len} became {a:?}");
            }
        }
        let a = Address::from_message(message(v4, 32)).unwrap();
        assert_eq!(a.net.network().to_string(), "10.0.0.1/32");
        let a = Address::from_message(message(v6, 128)).unwrap();
        assert_eq!(a.net.to_string(), "fd00::1/128");
    }

    #[test]
    fn display_pads_and_flags_print_like_ip() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert_eq!(format!("{n:<12}|{n:>12}|{n:^12}"), "10.0.0.0/8  |  10.0.0.0/8| 10.0.0.0/8 ");
        assert_eq!(format!("{n:?}"), "10.0.0.0/8");
        let f = AddressFlags::PERMANENT | AddressFlags::NOPREFIXROUTE;
        assert_eq!(format!("[{f:<24}]"), "[permanent noprefixroute ]");
        assert_eq!(AddressFlags::empty().to_string(), "");
        assert_eq!(AddressScope::from(254u8), AddressScope::Host);
        assert_eq!(AddressScope::Other(7).to_string(), "7");
        assert!("hots".parse::<AddressScope>().is_err());
    }

    #[test]
    fn parse_error_display_pads() {
        for bad in ["x/24", "10.0.0.1/a", "10.0.0.1/33"] {
            let e = bad.parse::<IpNet>().unwrap_err();
            let plain = e.to_string();
            assert!(plain.len() < 100, "{plain}");
            assert_eq!(format!("{e:<100}|"), format!("{plain:<100}|"));
            assert_eq!(format!("{e:^100}"), format!("{plain:^100}"));
        }
        let e = "x".parse::<IpNet>().unwrap_err();
        assert_eq!(format!("{e:.17}"), "invalid IP prefix");
    }
}
