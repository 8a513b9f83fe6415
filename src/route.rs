//! Routes (`ip route`, `RTM_NEWROUTE`/`RTM_DELROUTE`/`RTM_GETROUTE` of
//! rtnetlink(7)): add, replace, delete, list; IPv4 and IPv6, default routes
//! via a gateway, device routes, blackhole/unreachable/prohibit routes,
//! tables, metrics and protocols, as ip-route(8) describes them.
//!
//! The route's type, scope, protocol and table are typed ([`RouteType`],
//! [`RouteScope`], [`RouteProtocol`], [`RouteTable`]); each keeps the values a
//! newer kernel may send (`Other(n)` / [`RouteTable::Id`]), parses the words
//! `ip route` uses, and prints them the way `ip route` does.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteNextHop, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::libc;

use crate::addr::IpNet;
use crate::error::{Error, NameError, NameKind, Object, ObjectKind, Op, Result};
use crate::link::{IntoLinkId, LinkId};
use crate::netlink::{Request, RouteSocket, walk};

/// Which kind of keyword a [`ParseKeywordError`] was about.
///
/// ```
/// use nslink::route::{KeywordKind, RouteProtocol};
///
/// assert_eq!("bgpp".parse::<RouteProtocol>().unwrap_err().kind(), KeywordKind::RouteProtocol);
/// assert_eq!(KeywordKind::RouteTable.to_string(), "route table");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeywordKind {
    /// A [`RouteType`].
    RouteType,
    /// A [`RouteScope`].
    RouteScope,
    /// A [`RouteProtocol`].
    RouteProtocol,
    /// A [`RouteTable`].
    RouteTable,
    /// An [`AddressScope`](crate::addr::AddressScope).
    AddressScope,
    /// A [`NeighbourState`](crate::neigh::NeighbourState).
    NeighbourState,
    /// A [`RuleAction`](crate::rule::RuleAction).
    RuleAction,
    /// An [`IpFamily`](crate::rule::IpFamily).
    IpFamily,
    /// A [`NsidRequest`](crate::nsid::NsidRequest).
    Nsid,
}

impl KeywordKind {
    fn words(self) -> &'static [&'static str] {
        match self {
            KeywordKind::RouteType => RouteType::WORDS,
            KeywordKind::RouteScope => RouteScope::WORDS,
            KeywordKind::RouteProtocol => RouteProtocol::WORDS,
            KeywordKind::RouteTable => &["main", "local", "default"],
            KeywordKind::AddressScope => crate::addr::AddressScope::WORDS,
            KeywordKind::NeighbourState => crate::neigh::NeighbourState::WORDS,
            KeywordKind::RuleAction => crate::rule::RuleAction::WORDS,
            KeywordKind::IpFamily => crate::rule::IpFamily::WORDS,
            KeywordKind::Nsid => crate::nsid::NsidRequest::WORDS,
        }
    }
}

impl fmt::Display for KeywordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            KeywordKind::RouteType => "route type",
            KeywordKind::RouteScope => "route scope",
            KeywordKind::RouteProtocol => "route protocol",
            KeywordKind::RouteTable => "route table",
            KeywordKind::AddressScope => "address scope",
            KeywordKind::NeighbourState => "neighbour state",
            KeywordKind::RuleAction => "rule action",
            KeywordKind::IpFamily => "address family",
            KeywordKind::Nsid => "namespace id",
        })
    }
}

/// A word that names no [`RouteType`], [`RouteScope`], [`RouteProtocol`],
/// [`RouteTable`], [`AddressScope`](crate::addr::AddressScope) or
/// [`NeighbourState`](crate::neigh::NeighbourState), nor a number in range.
///
/// ```
/// use nslink::route::{KeywordKind, RouteScope};
///
/// let err = "lnik".parse::<RouteScope>().unwrap_err();
/// assert_eq!(err.kind(), KeywordKind::RouteScope);
/// assert_eq!(err.input(), "lnik");
/// assert_eq!(
///     err.to_string(),
///     "unknown route scope \"lnik\": expected global, site, link, host, nowhere or a number"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKeywordError {
    kind: KeywordKind,
    input: String,
}

impl ParseKeywordError {
    pub(crate) fn new(kind: KeywordKind, input: &str) -> ParseKeywordError {
        ParseKeywordError { kind, input: input.to_owned() }
    }
    /// What was being parsed.
    ///
    /// ```
    /// use nslink::route::{KeywordKind, RouteTable};
    ///
    /// assert_eq!("mian".parse::<RouteTable>().unwrap_err().kind(), KeywordKind::RouteTable);
    /// ```
    pub fn kind(&self) -> KeywordKind {
        self.kind
    }
    /// The text that was refused.
    ///
    /// ```
    /// let err = "mian".parse::<nslink::RouteTable>().unwrap_err();
    /// assert_eq!(err.input(), "mian");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseKeywordError {
    /// Honours width and alignment, like every `Display` of nslink.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.kind.words();
        let expected = match self.kind {
            // These have no numeric form.
            KeywordKind::RuleAction | KeywordKind::IpFamily => match words.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => words.join(", "),
            },
            _ => format!("{} or a number", words.join(", ")),
        };
        f.pad(&format!("unknown {} {:?}: expected {expected}", self.kind, self.input))
    }
}

impl std::error::Error for ParseKeywordError {}

impl From<ParseKeywordError> for Error {
    fn from(e: ParseKeywordError) -> Error {
        Error::Parse(crate::error::ParseError::Keyword(e))
    }
}

/// Declares a kernel enumeration: named variants with their value and the
/// word `ip` prints, plus `Other(n)` for values this crate does not know.
/// Equality and hashing go by the value, so `Other(n)` equals the named
/// variant of `n`.
macro_rules! kernel_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty as $kind:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, $word:literal $(| $alias:literal)*; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value without a name here (a newer kernel's, or a number
            /// from a local table); prints as the number.
            Other($repr),
        }

        impl $name {
            /// The words `ip` uses for the named values, in order.
            pub(crate) const WORDS: &'static [&'static str] = &[$($word),*];

            /// The kernel's number for this value.
            ///
            #[doc = concat!(
                "```\nuse nslink::", stringify!($name), ";\n\n",
                "assert_eq!(", stringify!($name), "::from_value(0).value(), 0);\n```"
            )]
            pub fn value(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Other(v) => v,
                }
            }

            /// The value for the kernel's number (`Other` when it has no name).
            ///
            #[doc = concat!(
                "```\nuse nslink::", stringify!($name), ";\n\n",
                "let v = ", stringify!($name), "::from_value(250);\n",
                "assert_eq!(v, ", stringify!($name), "::Other(250));\n```"
            )]
            pub fn from_value(v: $repr) -> $name {
                match v {
                    $( $value => $name::$variant, )*
                    v => $name::Other(v),
                }
            }

            /// The word `ip` prints for it, if it has one.
            ///
            #[doc = concat!(
                "```\nuse nslink::", stringify!($name), ";\n\n",
                "let v = ", stringify!($name), "::from_value(0);\n",
                "assert_eq!(v.name(), Some(v.to_string().as_str()));\n",
                "assert_eq!(", stringify!($name), "::Other(250).name(), None);\n```"
            )]
            pub fn name(self) -> Option<&'static str> {
                match $name::from_value(self.value()) {
                    $( $name::$variant => Some($word), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> $name {
                $name::from_value(v)
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v.value()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                self.value() == other.value()
            }
        }
        impl Eq for $name {}
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
                self.value().hash(h)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(w) => f.pad(w),
                    None => f.pad(&self.value().to_string()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::route::ParseKeywordError;
            /// Parses the word `ip` uses (any case) or a number.
            fn from_str(s: &str) -> std::result::Result<$name, crate::route::ParseKeywordError> {
                $(
                    if s.eq_ignore_ascii_case($word) $(|| s.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )*
                crate::route::parse_number::<$repr>(s)
                    .map($name::from_value)
                    .ok_or_else(|| {
                        crate::route::ParseKeywordError::new(crate::route::KeywordKind::$kind, s)
                    })
            }
        }
    };
}
pub(crate) use kernel_enum;

/// Parses a decimal or `0x` hexadecimal number, as `ip` accepts them.
pub(crate) fn parse_number<T: TryFrom<u64>>(s: &str) -> Option<T> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok()?,
        None => return None,
    };
    T::try_from(v).ok()
}

kernel_enum! {
    /// What the kernel does with a packet that matches a route: the
    /// route's type (`rtm_type`, the `RTN_*` values of rtnetlink(7)), the
    /// word before the prefix in `ip route` (`blackhole 10.0.0.0/8`).
    ///
    /// ```
    /// use nslink::route::RouteType;
    ///
    /// let t: RouteType = "blackhole".parse()?;
    /// assert_eq!(t, RouteType::Blackhole);
    /// assert_eq!(t.value(), 6);
    /// assert_eq!(RouteType::from(6u8), RouteType::Blackhole);
    /// assert_eq!(RouteType::Other(42).to_string(), "42");
    /// assert_eq!(format!("[{:<9}]", RouteType::Local), "[local    ]");
    /// # Ok::<(), nslink::route::ParseKeywordError>(())
    /// ```
    pub enum RouteType: u8 as RouteType {
        /// `RTN_UNSPEC`: no type (in a delete request, any type).
        Unspec = 0, "unspec";
        /// `RTN_UNICAST`: a gateway or a directly connected destination.
        Unicast = 1, "unicast";
        /// `RTN_LOCAL`: an address of this host (the `local` table).
        Local = 2, "local";
        /// `RTN_BROADCAST`: a broadcast address, sent as broadcast.
        Broadcast = 3, "broadcast";
        /// `RTN_ANYCAST`: a local address answered as anycast.
        Anycast = 4, "anycast";
        /// `RTN_MULTICAST`: a multicast destination.
        Multicast = 5, "multicast";
        /// `RTN_BLACKHOLE`: packets are dropped silently.
        Blackhole = 6, "blackhole";
        /// `RTN_UNREACHABLE`: packets are dropped with ICMP "host
        /// unreachable" (`EHOSTUNREACH` for local senders).
        Unreachable = 7, "unreachable";
        /// `RTN_PROHIBIT`: packets are dropped with ICMP "communication
        /// administratively prohibited" (`EACCES`).
        Prohibit = 8, "prohibit";
        /// `RTN_THROW`: the lookup goes on in the next rule's table.
        Throw = 9, "throw";
        /// `RTN_NAT`: stateless NAT (no longer supported by Linux).
        Nat = 10, "nat";
        /// `RTN_XRESOLVE`: an external resolver (not implemented by Linux).
        ExternalResolve = 11, "xresolve";
    }
}

kernel_enum! {
    /// How far a route's destination is (`rtm_scope`, the `RT_SCOPE_*`
    /// values of rtnetlink(7), `scope` in ip-route(8)).
    ///
    /// ```
    /// use nslink::route::RouteScope;
    ///
    /// assert_eq!("link".parse::<RouteScope>()?, RouteScope::Link);
    /// assert_eq!("253".parse::<RouteScope>()?, RouteScope::Link);
    /// assert_eq!(RouteScope::Global.to_string(), "global");
    /// assert!("lnik".parse::<RouteScope>().is_err());
    /// # Ok::<(), nslink::route::ParseKeywordError>(())
    /// ```
    pub enum RouteScope: u8 as RouteScope {
        /// `RT_SCOPE_UNIVERSE` (0): anywhere, through gateways.
        Global = 0, "global" | "universe";
        /// `RT_SCOPE_SITE` (200): inside this site (IPv6 site-local).
        Site = 200, "site";
        /// `RT_SCOPE_LINK` (253): on a directly attached link.
        Link = 253, "link";
        /// `RT_SCOPE_HOST` (254): on this host.
        Host = 254, "host";
        /// `RT_SCOPE_NOWHERE` (255): no destination (in a delete request,
        /// any scope).
        Nowhere = 255, "nowhere";
    }
}

kernel_enum! {
    /// Who installed a route (`rtm_protocol`, the `RTPROT_*` values of
    /// rtnetlink(7), `proto` in ip-route(8)). The kernel only stores it;
    /// routing daemons use it to find their own routes.
    ///
    /// ```
    /// use nslink::route::RouteProtocol;
    ///
    /// assert_eq!("static".parse::<RouteProtocol>()?, RouteProtocol::Static);
    /// assert_eq!("100".parse::<RouteProtocol>()?, RouteProtocol::Other(100));
    /// assert_eq!(RouteProtocol::from(42u8).to_string(), "babel");
    /// # Ok::<(), nslink::route::ParseKeywordError>(())
    /// ```
    pub enum RouteProtocol: u8 as RouteProtocol {
        /// `RTPROT_UNSPEC` (0): unknown (in a delete request, any protocol).
        Unspec = 0, "unspec";
        /// `RTPROT_REDIRECT` (1): an ICMP redirect (no longer used).
        Redirect = 1, "redirect";
        /// `RTPROT_KERNEL` (2): made by the kernel (prefix routes of
        /// addresses, the `local` table).
        Kernel = 2, "kernel";
        /// `RTPROT_BOOT` (3): added by hand or at boot; what `ip route add`
        /// uses when no protocol is given.
        Boot = 3, "boot";
        /// `RTPROT_STATIC` (4): added by the administrator, to be kept.
        Static = 4, "static";
        /// `RTPROT_GATED` (8).
        Gated = 8, "gated";
        /// `RTPROT_RA` (9): IPv6 router advertisements.
        Ra = 9, "ra";
        /// `RTPROT_MRT` (10).
        Mrt = 10, "mrt";
        /// `RTPROT_ZEBRA` (11).
        Zebra = 11, "zebra";
        /// `RTPROT_BIRD` (12).
        Bird = 12, "bird";
        /// `RTPROT_DNROUTED` (13).
        DnRouted = 13, "dnrouted";
        /// `RTPROT_XORP` (14).
        Xorp = 14, "xorp";
        /// `RTPROT_NTK` (15).
        Ntk = 15, "ntk";
        /// `RTPROT_DHCP` (16): a DHCP client.
        Dhcp = 16, "dhcp";
        /// `RTPROT_MROUTED` (17).
        Mrouted = 17, "mrouted";
        /// `RTPROT_KEEPALIVED` (18).
        Keepalived = 18, "keepalived";
        /// `RTPROT_BABEL` (42).
        Babel = 42, "babel";
        /// `RTPROT_OPENR` (99).
        OpenR = 99, "openr";
        /// `RTPROT_BGP` (186).
        Bgp = 186, "bgp";
        /// `RTPROT_ISIS` (187).
        Isis = 187, "isis";
        /// `RTPROT_OSPF` (188).
        Ospf = 188, "ospf";
        /// `RTPROT_RIP` (189).
        Rip = 189, "rip";
        /// `RTPROT_EIGRP` (192).
        Eigrp = 192, "eigrp";
    }
}

/// A routing table (`rtm_table` and `RTA_TABLE`, `table` in ip-route(8)).
///
/// Equality goes by number: `RouteTable::Id(254) == RouteTable::Main`.
///
/// ```
/// use nslink::route::RouteTable;
///
/// assert_eq!(RouteTable::from(254), RouteTable::Main);
/// assert_eq!("100".parse::<RouteTable>()?, RouteTable::Id(100));
/// assert_eq!(RouteTable::Local.to_string(), "local");
/// assert_eq!(u32::from(RouteTable::Default), 253);
/// # Ok::<(), nslink::route::ParseKeywordError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub enum RouteTable {
    /// `RT_TABLE_DEFAULT` (253), consulted after `main` by the default rules.
    Default,
    /// `RT_TABLE_MAIN` (254): what plain `ip route` shows and changes.
    Main,
    /// `RT_TABLE_LOCAL` (255): local and broadcast addresses, kept by the
    /// kernel.
    Local,
    /// Any other table, by number (1 to 2³²−1; 0 means "unspecified").
    Id(u32),
}

impl RouteTable {
    /// The table's number.
    ///
    /// ```
    /// use nslink::RouteTable;
    ///
    /// assert_eq!(RouteTable::Main.id(), 254);
    /// assert_eq!(RouteTable::Id(100).id(), 100);
    /// ```
    pub fn id(self) -> u32 {
        match self {
            RouteTable::Default => 253,
            RouteTable::Main => 254,
            RouteTable::Local => 255,
            RouteTable::Id(n) => n,
        }
    }
}

impl From<u32> for RouteTable {
    fn from(n: u32) -> RouteTable {
        match n {
            253 => RouteTable::Default,
            254 => RouteTable::Main,
            255 => RouteTable::Local,
            n => RouteTable::Id(n),
        }
    }
}

impl From<RouteTable> for u32 {
    fn from(t: RouteTable) -> u32 {
        t.id()
    }
}

impl PartialEq for RouteTable {
    fn eq(&self, other: &RouteTable) -> bool {
        self.id() == other.id()
    }
}
impl Eq for RouteTable {}
impl std::hash::Hash for RouteTable {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id().hash(h)
    }
}
impl PartialOrd for RouteTable {
    fn partial_cmp(&self, other: &RouteTable) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RouteTable {
    fn cmp(&self, other: &RouteTable) -> std::cmp::Ordering {
        self.id().cmp(&other.id())
    }
}

impl fmt::Display for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match RouteTable::from(self.id()) {
            RouteTable::Default => f.pad("default"),
            RouteTable::Main => f.pad("main"),
            RouteTable::Local => f.pad("local"),
            RouteTable::Id(n) => f.pad(&n.to_string()),
        }
    }
}

impl FromStr for RouteTable {
    type Err = ParseKeywordError;
    /// Parses `main`, `local`, `default` or a number.
    fn from_str(s: &str) -> std::result::Result<RouteTable, ParseKeywordError> {
        match s.to_ascii_lowercase().as_str() {
            "main" => Ok(RouteTable::Main),
            "local" => Ok(RouteTable::Local),
            "default" => Ok(RouteTable::Default),
            _ => parse_number::<u32>(s)
                .map(RouteTable::from)
                .ok_or_else(|| ParseKeywordError::new(KeywordKind::RouteTable, s)),
        }
    }
}

// Conversions to and from netlink-packet-route's types, for requests built
// by hand with `RouteSocket::request_raw`.
impl From<RouteType> for netlink_packet_route::route::RouteType {
    fn from(t: RouteType) -> Self {
        t.value().into()
    }
}
impl From<netlink_packet_route::route::RouteType> for RouteType {
    fn from(t: netlink_packet_route::route::RouteType) -> Self {
        RouteType::from_value(t.into())
    }
}
impl From<RouteScope> for netlink_packet_route::route::RouteScope {
    fn from(s: RouteScope) -> Self {
        s.value().into()
    }
}
impl From<netlink_packet_route::route::RouteScope> for RouteScope {
    fn from(s: netlink_packet_route::route::RouteScope) -> Self {
        RouteScope::from_value(s.into())
    }
}
impl From<RouteProtocol> for netlink_packet_route::route::RouteProtocol {
    fn from(p: RouteProtocol) -> Self {
        p.value().into()
    }
}
impl From<netlink_packet_route::route::RouteProtocol> for RouteProtocol {
    fn from(p: netlink_packet_route::route::RouteProtocol) -> Self {
        RouteProtocol::from_value(p.into())
    }
}

/// A device given to [`Route::dev`] that could not be used, kept until the
/// route is sent so the chain of builder calls needs no `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BadDev {
    Name { kind: NameKind, input: Vec<u8>, reason: NameError },
    Other(String),
}

impl BadDev {
    /// The link, or why it cannot be used.
    fn check(link: impl IntoLinkId) -> std::result::Result<LinkId, BadDev> {
        match link.into_link_id() {
            Ok(id) => Ok(id),
            Err(Error::InvalidName { kind, input, reason }) => {
                Err(BadDev::Name { kind, input, reason })
            }
            Err(e) => Err(BadDev::Other(e.to_string())),
        }
    }

    /// Sets a builder's device from `link`: the link and no complaint, or
    /// no link and the complaint kept for when the request is made.
    fn set(link: impl IntoLinkId, dev: &mut Option<LinkId>, bad_dev: &mut Option<BadDev>) {
        (*dev, *bad_dev) = match BadDev::check(link) {
            Ok(id) => (Some(id), None),
            Err(bad) => (None, Some(bad)),
        };
    }

    /// The error it becomes when the request is made.
    fn into_error(self, op: Op, object: impl FnOnce() -> Object) -> Error {
        match self {
            BadDev::Name { kind, input, reason } => Error::InvalidName { kind, input, reason },
            BadDev::Other(detail) => Error::InvalidArgument {
                op,
                object: object(),
                detail: format!("bad device: {detail}"),
            },
        }
    }
}

/// The flags of a next hop (`RTNH_F_*` of rtnetlink(7)): `onlink` is the
/// one a request sets; the kernel reports `dead`, `linkdown`, `offload`,
/// `trap` and `unresolved`. This is netlink-packet-route's type.
///
/// ```
/// use nslink::route::NextHopFlags;
///
/// assert_eq!(NextHopFlags::Onlink.bits(), 4);
/// assert_eq!((NextHopFlags::Onlink | NextHopFlags::Dead).to_string(), "dead onlink");
/// ```
pub use netlink_packet_route::route::RouteNextHopFlags as NextHopFlags;

/// The route flags the kernel reports in an answer (`rtm_flags`:
/// `RTM_F_CLONED`, `RTNH_F_*`, …). This is netlink-packet-route's type.
///
/// ```
/// use nslink::route::RouteFlags;
///
/// assert_eq!(RouteFlags::Cloned.bits(), 0x200);
/// ```
pub use netlink_packet_route::route::RouteFlags;

/// One next hop of a multipath route (`nexthop via GW dev DEV weight N
/// onlink` in ip-route(8); a `struct rtnexthop` in `RTA_MULTIPATH`,
/// rtnetlink(7)).
///
/// The weight is 1 to 256 (default 1); the kernel keeps `weight − 1` in
/// `rtnh_hops`. Traffic is spread over the next hops in proportion to
/// their weights, per flow.
///
/// ```
/// use nslink::route::{NextHop, NextHopFlags};
///
/// let nh = NextHop::new().via("10.1.0.2".parse().unwrap()).dev("eth0").weight(3).onlink();
/// assert_eq!(nh.weight, 3);
/// assert!(nh.flags.contains(NextHopFlags::Onlink));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a next hop does nothing until it is added to a route with Route::nexthop"]
pub struct NextHop {
    /// The gateway (`via`), if any.
    pub gateway: Option<IpAddr>,
    /// The output device (`dev`); listed routes name it by index.
    pub dev: Option<LinkId>,
    /// The weight, 1 to 256 (default 1).
    pub weight: u16,
    /// The flags: [`NextHopFlags::Onlink`] on request; what the kernel
    /// reports on a listed route.
    pub flags: NextHopFlags,
    bad_dev: Option<BadDev>,
}

impl Default for NextHop {
    fn default() -> NextHop {
        NextHop::new()
    }
}

impl NextHop {
    /// A next hop with nothing set yet and weight 1 (give it a gateway, a
    /// device, or both).
    ///
    /// ```
    /// let nh = nslink::route::NextHop::new();
    /// assert_eq!((nh.gateway, nh.dev, nh.weight), (None, None, 1));
    /// ```
    pub fn new() -> NextHop {
        NextHop { gateway: None, dev: None, weight: 1, flags: NextHopFlags::empty(), bad_dev: None }
    }

    /// Sets the gateway (`via`).
    ///
    /// ```
    /// let nh = nslink::route::NextHop::new().via("fe80::1".parse().unwrap());
    /// assert!(nh.gateway.is_some());
    /// ```
    pub fn via(mut self, gateway: IpAddr) -> NextHop {
        self.gateway = Some(gateway);
        self
    }

    /// Sets the device (`dev`), by name, index or handle; an invalid name
    /// is reported when the route is used, as for [`Route::dev`].
    ///
    /// ```
    /// use nslink::LinkId;
    ///
    /// let nh = nslink::route::NextHop::new().dev(2);
    /// assert_eq!(nh.dev, Some(LinkId::Index(2)));
    /// ```
    pub fn dev(mut self, link: impl IntoLinkId) -> NextHop {
        BadDev::set(link, &mut self.dev, &mut self.bad_dev);
        self
    }

    /// Sets the weight (`weight`, 1 to 256; anything else is refused with
    /// [`Error::InvalidArgument`] when the route is used).
    ///
    /// ```
    /// assert_eq!(nslink::route::NextHop::new().weight(10).weight, 10);
    /// ```
    pub fn weight(mut self, weight: u16) -> NextHop {
        self.weight = weight;
        self
    }

    /// Marks the gateway as directly reachable on the device even when no
    /// prefix of the device covers it (`onlink`, `RTNH_F_ONLINK`).
    ///
    /// ```
    /// use nslink::route::{NextHop, NextHopFlags};
    ///
    /// assert_eq!(NextHop::new().onlink().flags, NextHopFlags::Onlink);
    /// ```
    pub fn onlink(mut self) -> NextHop {
        self.flags |= NextHopFlags::Onlink;
        self
    }

    /// Sets the flags (replacing those set before).
    ///
    /// ```
    /// use nslink::route::{NextHop, NextHopFlags};
    ///
    /// assert!(NextHop::new().onlink().flags(NextHopFlags::empty()).flags.is_empty());
    /// ```
    pub fn flags(mut self, flags: NextHopFlags) -> NextHop {
        self.flags = flags;
        self
    }

    /// `via GW dev DEV weight N onlink`, as ip-route(8) writes it.
    fn describe(&self) -> String {
        let mut words = Vec::new();
        if let Some(gw) = self.gateway {
            words.push(format!("via {gw}"));
        }
        if let Some(dev) = &self.dev {
            words.push(format!("dev {}", dev.describe()));
        }
        words.push(format!("weight {}", self.weight));
        if self.flags.contains(NextHopFlags::Onlink) {
            words.push("onlink".to_owned());
        }
        words.join(" ")
    }

    fn from_kernel(nh: &RouteNextHop) -> NextHop {
        let mut gateway = None;
        for a in &nh.attributes {
            match a {
                RouteAttribute::Gateway(addr) => gateway = ip_of(addr.clone()),
                RouteAttribute::Via(via) => gateway = via_ip(via),
                _ => {}
            }
        }
        NextHop {
            gateway,
            dev: (nh.interface_index != 0).then_some(LinkId::Index(nh.interface_index)),
            weight: u16::from(nh.hops) + 1,
            flags: nh.flags,
            bad_dev: None,
        }
    }
}

/// A route: what to add, replace or delete, and what listing returns.
///
/// Built from [`Route::to`] or [`Route::default_via`] and refined with the
/// chained setters; every field a listing fills is public. A route built
/// here has type [`RouteType::Unicast`], table [`RouteTable::Main`], and
/// no protocol or scope: on add they are chosen like `ip route add` chooses
/// them (protocol [`RouteProtocol::Boot`]; scope `host` for local routes,
/// `link` for broadcast, anycast, multicast and for unicast routes without
/// a gateway, `global` otherwise); on delete they match any route.
///
/// ```no_run
/// use nslink::route::{Route, RouteProtocol, RouteTable, RouteType};
/// use nslink::RouteSocket;
///
/// let nl = RouteSocket::open()?;
/// // ip route add default via 10.244.1.1
/// nl.add_route(&Route::default_via("10.244.1.1".parse()?))?;
/// // ip route add 10.96.0.0/12 dev eth0 table 100 metric 50 proto static
/// nl.add_route(
///     &Route::to("10.96.0.0/12".parse()?)
///         .dev("eth0")
///         .table(RouteTable::Id(100))
///         .metric(50)
///         .protocol(RouteProtocol::Static),
/// )?;
/// // ip route add blackhole 192.0.2.0/24
/// nl.add_route(&Route::to("192.0.2.0/24".parse()?).kind(RouteType::Blackhole))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a route does nothing until it is passed to add_route, replace_route or delete_route"]
pub struct Route {
    /// Destination prefix.
    pub dst: IpNet,
    /// Next-hop gateway (`via`).
    pub gateway: Option<IpAddr>,
    /// Output device (`dev`); listed routes name it by index.
    pub dev: Option<LinkId>,
    /// Preferred source address (`src`).
    pub src: Option<IpAddr>,
    /// Routing table (default [`RouteTable::Main`]).
    pub table: RouteTable,
    /// Metric / priority (`metric`).
    pub metric: Option<u32>,
    /// Scope; `None` chooses it like `ip route` on add, and matches any on
    /// delete. Listed routes always have one.
    pub scope: Option<RouteScope>,
    /// Route type (default [`RouteType::Unicast`]).
    pub kind: RouteType,
    /// Who installed it; `None` is [`RouteProtocol::Boot`] on add, like
    /// `ip route add`, and matches any on delete. Listed routes always have
    /// one.
    pub protocol: Option<RouteProtocol>,
    /// The next hops of a multipath route (`nexthop …` in ip-route(8),
    /// `RTA_MULTIPATH`); empty for a route with one path, which uses
    /// [`gateway`](Route::gateway) and [`dev`](Route::dev).
    pub nexthops: Vec<NextHop>,
    bad_dev: Option<BadDev>,
}

impl Route {
    /// A unicast route to `dst` in the main table (add a gateway or a
    /// device). Host bits of `dst` are cleared.
    ///
    /// ```
    /// let r = nslink::Route::to("10.96.0.1/12".parse()?).via("10.244.1.1".parse().unwrap());
    /// assert_eq!(r.dst.to_string(), "10.96.0.0/12");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn to(dst: IpNet) -> Route {
        Route {
            dst: dst.network(),
            gateway: None,
            dev: None,
            src: None,
            table: RouteTable::Main,
            metric: None,
            scope: None,
            kind: RouteType::Unicast,
            protocol: None,
            nexthops: Vec::new(),
            bad_dev: None,
        }
    }

    /// The default route of `gateway`'s family via `gateway`, like
    /// `ip route add default via GW`.
    ///
    /// ```
    /// let r = nslink::Route::default_via("fd00::1".parse().unwrap());
    /// assert_eq!(r.dst.to_string(), "::/0");
    /// ```
    pub fn default_via(gateway: IpAddr) -> Route {
        Route::to(IpNet::default_for(gateway)).via(gateway)
    }

    /// Sets the gateway (`via`).
    ///
    /// ```
    /// let r = nslink::Route::to("10.0.0.0/8".parse()?).via("192.0.2.1".parse().unwrap());
    /// assert_eq!(r.gateway, Some("192.0.2.1".parse().unwrap()));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn via(mut self, gateway: IpAddr) -> Route {
        self.gateway = Some(gateway);
        self
    }

    /// Sets the output device (`dev`), by name, index or handle. An invalid
    /// name is reported when the route is used (an
    /// [`Error::InvalidName`] from [`add_route`](RouteSocket::add_route)
    /// and the others), so the chain needs no `?`.
    ///
    /// ```
    /// use nslink::{LinkId, Route};
    ///
    /// let r = Route::to("10.0.0.0/8".parse()?).dev(3);
    /// assert_eq!(r.dev, Some(LinkId::Index(3)));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn dev(mut self, link: impl IntoLinkId) -> Route {
        BadDev::set(link, &mut self.dev, &mut self.bad_dev);
        self
    }

    /// Adds a next hop, making this a multipath route (`nexthop via GW dev
    /// DEV weight N`, repeated, in ip-route(8)). A multipath route usually
    /// sets no [`via`](Route::via) or [`dev`](Route::dev) of its own.
    ///
    /// ```no_run
    /// use nslink::route::{NextHop, Route};
    ///
    /// // ip route add 10.9.0.0/16 nexthop via 10.1.0.2 weight 3 nexthop via 10.2.0.2
    /// let r = Route::to("10.9.0.0/16".parse()?)
    ///     .nexthop(NextHop::new().via("10.1.0.2".parse()?).weight(3))
    ///     .nexthop(NextHop::new().via("10.2.0.2".parse()?));
    /// nslink::RouteSocket::open()?.add_route(&r)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nexthop(mut self, nexthop: NextHop) -> Route {
        self.nexthops.push(nexthop);
        self
    }

    /// Sets the preferred source address (`src`).
    ///
    /// ```
    /// let r = nslink::Route::to("10.0.0.0/8".parse()?).dev("eth0").src("10.0.0.2".parse().unwrap());
    /// assert_eq!(r.src, Some("10.0.0.2".parse().unwrap()));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn src(mut self, src: IpAddr) -> Route {
        self.src = Some(src);
        self
    }

    /// Sets the table (`table`).
    ///
    /// ```
    /// use nslink::route::{Route, RouteTable};
    ///
    /// let r = Route::to("10.0.0.0/8".parse()?).table(RouteTable::Id(100));
    /// assert!(!r.is_main());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn table(mut self, table: RouteTable) -> Route {
        self.table = table;
        self
    }

    /// Sets the metric (`metric`).
    ///
    /// ```
    /// let r = nslink::Route::default_via("10.0.0.1".parse().unwrap()).metric(200);
    /// assert_eq!(r.metric, Some(200));
    /// ```
    pub fn metric(mut self, metric: u32) -> Route {
        self.metric = Some(metric);
        self
    }

    /// Sets the scope (`scope`).
    ///
    /// ```
    /// use nslink::route::{Route, RouteScope};
    ///
    /// let r = Route::to("10.0.0.0/8".parse()?).dev("eth0").scope(RouteScope::Host);
    /// assert_eq!(r.scope, Some(RouteScope::Host));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn scope(mut self, scope: RouteScope) -> Route {
        self.scope = Some(scope);
        self
    }

    /// Sets the type (`blackhole`, `unreachable`, `prohibit`, `local`, …).
    ///
    /// ```
    /// use nslink::route::{Route, RouteType};
    ///
    /// let r = Route::to("192.0.2.0/24".parse()?).kind(RouteType::Unreachable);
    /// assert_eq!(r.kind, RouteType::Unreachable);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn kind(mut self, kind: RouteType) -> Route {
        self.kind = kind;
        self
    }

    /// Sets the protocol (`proto`).
    ///
    /// ```
    /// use nslink::route::{Route, RouteProtocol};
    ///
    /// let r = Route::to("10.0.0.0/8".parse()?).protocol(RouteProtocol::Static);
    /// assert_eq!(r.protocol, Some(RouteProtocol::Static));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn protocol(mut self, protocol: RouteProtocol) -> Route {
        self.protocol = Some(protocol);
        self
    }

    /// Whether this route is in the main table (what plain `ip route`
    /// shows).
    ///
    /// ```
    /// use nslink::{Route, RouteTable};
    ///
    /// let r = Route::to("10.0.0.0/8".parse()?);
    /// assert!(r.is_main());
    /// assert!(!r.table(RouteTable::Local).is_main());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn is_main(&self) -> bool {
        self.table == RouteTable::Main
    }

    /// The scope `ip route add` would choose for this route.
    fn default_scope(&self) -> RouteScope {
        match self.kind {
            RouteType::Local | RouteType::Nat => RouteScope::Host,
            RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast => RouteScope::Link,
            RouteType::Unicast | RouteType::Unspec
                if self.gateway.is_none() && self.nexthops.is_empty() =>
            {
                RouteScope::Link
            }
            _ => RouteScope::Global,
        }
    }

    /// How the route is named in errors.
    fn object(&self) -> Object {
        let mut detail = Vec::new();
        if self.kind != RouteType::Unicast {
            detail.push(format!("type {}", self.kind));
        }
        if let Some(gw) = self.gateway {
            detail.push(format!("via {gw}"));
        }
        if let Some(dev) = &self.dev {
            detail.push(format!("dev {}", dev.describe()));
        }
        for nh in &self.nexthops {
            detail.push(format!("nexthop {}", nh.describe()));
        }
        if self.table != RouteTable::Main {
            detail.push(format!("table {}", self.table));
        }
        let o = Object::value(ObjectKind::Route, self.dst);
        if detail.is_empty() { o } else { o.with_detail(detail.join(" ")) }
    }

    /// The IPv4 or IPv6 route an `RTM_NEWROUTE`/`RTM_DELROUTE` message
    /// describes (also used by the monitor's events).
    pub(crate) fn from_message(m: RouteMessage) -> Option<Route> {
        let v4 = match m.header.address_family {
            AddressFamily::Inet => true,
            AddressFamily::Inet6 => false,
            _ => return None,
        };
        let mut r = Listed { table: u32::from(m.header.table), ..Listed::default() };
        for a in m.attributes {
            match a {
                RouteAttribute::Destination(addr) => r.dst = ip_of(addr),
                RouteAttribute::Gateway(addr) => r.gateway = ip_of(addr),
                RouteAttribute::Via(via) => r.gateway = via_ip(&via),
                RouteAttribute::MultiPath(hops) => {
                    r.nexthops = hops.iter().map(NextHop::from_kernel).collect();
                }
                RouteAttribute::PrefSource(addr) => r.src = ip_of(addr),
                RouteAttribute::Oif(i) => r.dev = Some(LinkId::Index(i)),
                RouteAttribute::Table(t) => r.table = t,
                RouteAttribute::Priority(p) => r.metric = Some(p),
                _ => {}
            }
        }
        let h = &m.header;
        r.route(v4, h.destination_prefix_length, [h.scope.into(), h.kind.into(), h.protocol.into()])
    }
}

/// What a listed route's attributes say, read by either decoder.
#[derive(Default)]
struct Listed {
    dst: Option<IpAddr>,
    gateway: Option<IpAddr>,
    dev: Option<LinkId>,
    src: Option<IpAddr>,
    table: u32,
    metric: Option<u32>,
    nexthops: Vec<NextHop>,
}

impl Listed {
    /// The route, given its family, prefix length, and scope, type and
    /// protocol numbers; `None` when the prefix is longer than the address.
    fn route(self, v4: bool, dst_len: u8, [scope, kind, protocol]: [u8; 3]) -> Option<Route> {
        let zero: IpAddr = if v4 {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        Some(Route {
            dst: IpNet::new(self.dst.unwrap_or(zero), dst_len).ok()?,
            gateway: self.gateway,
            dev: self.dev,
            src: self.src,
            table: RouteTable::from(self.table),
            metric: self.metric,
            scope: Some(RouteScope::from_value(scope)),
            kind: RouteType::from_value(kind),
            protocol: Some(RouteProtocol::from_value(protocol)),
            nexthops: self.nexthops,
            bad_dev: None,
        })
    }
}

/// `RTA_VIA` (<linux/rtnetlink.h>; `libc` has it for glibc only).
const RTA_VIA: u16 = 18;

/// `struct rtnexthop`: length, flags, hops, ifindex.
const RTNEXTHOP_LEN: usize = 8;

/// The gateway of an `RTA_VIA` value (`struct rtvia`: a family, then the
/// address): `Ok(None)` for a family other than IPv4 and IPv6, as
/// [`via_ip`] gives. The family is read as its low byte, like
/// `netlink-packet-route` does.
fn via_of(v: &[u8]) -> std::result::Result<Option<IpAddr>, String> {
    let Some(([f0, f1], addr)) = v.split_first_chunk::<2>() else {
        return Err(format!("RTA_VIA of {} bytes has no family", v.len()));
    };
    walk::inet_family(u16::from_ne_bytes([*f0, *f1]) as u8)
        .map(|v4| walk::ip_of_family(RTA_VIA, addr, v4))
        .transpose()
}

/// The next hops of an `RTA_MULTIPATH` value (`struct rtnexthop`s, each
/// followed by its attributes), read as [`NextHop::from_kernel`] reads
/// `netlink-packet-route`'s.
fn nexthops_of(mut b: &[u8], v4: bool) -> std::result::Result<Vec<NextHop>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = b.get(..2).map_or(0, |l| usize::from(u16::from_ne_bytes([l[0], l[1]])));
        let (Some(hop), true) = (b.get(..len), len >= RTNEXTHOP_LEN) else {
            return Err(format!("next hop of length {len} with {} bytes left", b.len()));
        };
        let mut gateway = None;
        for a in walk::attrs(&hop[RTNEXTHOP_LEN..]) {
            let (kind, v) = a?;
            match kind {
                libc::RTA_GATEWAY => gateway = Some(walk::ip_of_family(kind, v, v4)?),
                RTA_VIA => gateway = via_of(v)?,
                _ => {}
            }
        }
        let index = u32::from_ne_bytes([hop[4], hop[5], hop[6], hop[7]]);
        out.push(NextHop {
            gateway,
            dev: (index != 0).then_some(LinkId::Index(index)),
            weight: u16::from(hop[3]) + 1,
            flags: NextHopFlags::from_bits_retain(hop[2]),
            bad_dev: None,
        });
        b = &b[len..];
    }
    Ok(out)
}

impl Route {
    /// The lean decoder of an `RTM_NEWROUTE` payload (`struct rtmsg` and
    /// attributes; see [`walk`](crate::netlink::walk)): the same [`Route`]
    /// as [`from_message`](Route::from_message) after a full
    /// `netlink-packet-route` decode, reading only what it keeps.
    /// `Ok(None)` where that gives no route (a family other than IPv4 and
    /// IPv6, a prefix longer than the address).
    pub(crate) fn from_bytes(payload: &[u8]) -> std::result::Result<Option<Route>, String> {
        let (h, attrs) = walk::split::<12>("route message", payload)?;
        let Some(v4) = walk::inet_family(h[0]) else {
            return Ok(None);
        };
        let mut r = Listed { table: u32::from(h[4]), ..Listed::default() };
        for a in attrs {
            let (kind, v) = a?;
            match kind {
                libc::RTA_DST => r.dst = Some(walk::ip_of_family(kind, v, v4)?),
                libc::RTA_GATEWAY => r.gateway = Some(walk::ip_of_family(kind, v, v4)?),
                RTA_VIA => r.gateway = via_of(v)?,
                libc::RTA_MULTIPATH => r.nexthops = nexthops_of(v, v4)?,
                libc::RTA_PREFSRC => r.src = Some(walk::ip_of_family(kind, v, v4)?),
                libc::RTA_OIF => r.dev = Some(LinkId::Index(walk::u32_of(kind, v)?)),
                libc::RTA_TABLE => r.table = walk::u32_of(kind, v)?,
                libc::RTA_PRIORITY => r.metric = Some(walk::u32_of(kind, v)?),
                _ => {}
            }
        }
        Ok(r.route(v4, h[1], [h[6], h[7], h[5]]))
    }
}

/// The gateway of `RTA_VIA` (an IPv4 route with an IPv6 gateway).
fn via_ip(via: &RouteVia) -> Option<IpAddr> {
    match via {
        RouteVia::Inet(v4) => Some((*v4).into()),
        RouteVia::Inet6(v6) => Some((*v6).into()),
        _ => None,
    }
}

fn ip_of(a: RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(v4.into()),
        RouteAddress::Inet6(v6) => Some(v6.into()),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Add,
    Delete,
}

impl RouteSocket {
    fn route_message(&self, op: Op, r: &Route, mode: Mode) -> Result<RouteMessage> {
        let mut bad = r.bad_dev.iter().chain(r.nexthops.iter().filter_map(|n| n.bad_dev.as_ref()));
        if let Some(bad) = bad.next() {
            return Err(bad.clone().into_error(op, || r.object()));
        }
        let gateways =
            r.gateway.iter().chain(r.nexthops.iter().filter_map(|nh| nh.gateway.as_ref()));
        for gw in gateways {
            if gw.is_ipv4() != r.dst.is_ipv4() {
                return Err(Error::InvalidArgument {
                    op,
                    object: r.object(),
                    detail: format!("gateway {gw} is not of the destination's family"),
                });
            }
        }
        for nh in &r.nexthops {
            if !(1..=256).contains(&nh.weight) {
                return Err(Error::InvalidArgument {
                    op,
                    object: r.object(),
                    detail: format!("next hop weight {} is not within 1 to 256", nh.weight),
                });
            }
        }
        let table = r.table.id();
        let mut h = RouteHeader {
            address_family: if r.dst.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            },
            destination_prefix_length: r.dst.prefix_len(),
            // Tables above 255 travel in RTA_TABLE with rtm_table unspecified.
            table: u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC),
            kind: r.kind.into(),
            ..Default::default()
        };
        match mode {
            Mode::Delete => {
                // Unset protocol and scope match any route (rtnetlink(7)).
                h.scope = r.scope.unwrap_or(RouteScope::Nowhere).into();
                h.protocol = r.protocol.unwrap_or(RouteProtocol::Unspec).into();
            }
            Mode::Add => {
                h.scope = r.scope.unwrap_or_else(|| r.default_scope()).into();
                h.protocol = r.protocol.unwrap_or(RouteProtocol::Boot).into();
            }
        }
        let mut m = RouteMessage::default();
        m.header = h;
        if r.dst.prefix_len() > 0 {
            m.attributes.push(RouteAttribute::Destination(r.dst.addr().into()));
        }
        if let Some(gw) = r.gateway {
            m.attributes.push(RouteAttribute::Gateway(gw.into()));
        }
        if let Some(dev) = &r.dev {
            m.attributes.push(RouteAttribute::Oif(self.resolve_index(op, dev)?));
        }
        if let Some(src) = r.src {
            m.attributes.push(RouteAttribute::PrefSource(src.into()));
        }
        if u8::try_from(table).is_err() {
            m.attributes.push(RouteAttribute::Table(table));
        }
        if let Some(metric) = r.metric {
            m.attributes.push(RouteAttribute::Priority(metric));
        }
        if !r.nexthops.is_empty() {
            let mut hops = Vec::with_capacity(r.nexthops.len());
            for nh in &r.nexthops {
                let mut hop = RouteNextHop::default();
                hop.flags = nh.flags;
                // Checked above: 1 to 256.
                hop.hops = u8::try_from(nh.weight.saturating_sub(1)).unwrap_or(u8::MAX);
                if let Some(dev) = &nh.dev {
                    hop.interface_index = self.resolve_index(op, dev)?;
                }
                if let Some(gw) = nh.gateway {
                    hop.attributes.push(RouteAttribute::Gateway(gw.into()));
                }
                hops.push(hop);
            }
            m.attributes.push(RouteAttribute::MultiPath(hops));
        }
        Ok(m)
    }

    /// Adds a route, like `ip route add …`.
    ///
    /// Kernel: `RTM_NEWROUTE` with `NLM_F_CREATE|NLM_F_EXCL`: the header's
    /// type, scope, protocol and table, `RTA_DST`, `RTA_GATEWAY`, `RTA_OIF`,
    /// `RTA_PREFSRC`, `RTA_PRIORITY` and `RTA_TABLE` as set (rtnetlink(7);
    /// ip-route(8) `add`). Needs `CAP_NET_ADMIN`. A device given by name is
    /// looked up first (one more round trip).
    ///
    /// # Errors
    /// [`Error::Os`] with `EEXIST` when it exists, `ENETUNREACH` (and the
    /// kernel's message) for a gateway no device can reach, `ENODEV` for a
    /// missing device, `EINVAL` for a scope the type does not allow;
    /// [`Error::InvalidArgument`] for a gateway of the other family;
    /// [`Error::InvalidName`] for an invalid device name given to
    /// [`Route::dev`].
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    /// let nl = RouteSocket::open()?;
    /// nl.add_route(&Route::to("10.0.0.0/8".parse()?).dev("eth0").metric(100))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route add")]
    #[doc(alias = "RTM_NEWROUTE")]
    pub fn add_route(&self, route: &Route) -> Result<()> {
        let req = self.add_route_request(route)?;
        self.send_one(req)
    }

    /// The `RTM_NEWROUTE` request of [`add_route`](Self::add_route).
    pub(crate) fn add_route_request(&self, route: &Route) -> Result<Request> {
        let op = Op::AddRoute;
        let m = self.route_message(op, route, Mode::Add)?;
        Ok(Request {
            op,
            object: route.object(),
            msg: RouteNetlinkMessage::NewRoute(m),
            flags: NLM_F_CREATE | NLM_F_EXCL,
        })
    }

    /// Adds or replaces a route, like `ip route replace …`.
    ///
    /// Kernel: as [`add_route`](RouteSocket::add_route), with
    /// `NLM_F_CREATE|NLM_F_REPLACE` (ip-route(8) `replace`). Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`add_route`](RouteSocket::add_route), without `EEXIST`.
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    /// let nl = RouteSocket::open()?;
    /// nl.replace_route(&Route::default_via("10.244.1.254".parse().unwrap()))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route replace")]
    pub fn replace_route(&self, route: &Route) -> Result<()> {
        let op = Op::AddRoute;
        let m = self.route_message(op, route, Mode::Add)?;
        self.request(
            op,
            || route.object(),
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Deletes a route, like `ip route del …`. The type, table, gateway,
    /// device, metric and, when set, scope and protocol must match; a route
    /// from [`routes`](RouteSocket::routes) matches itself.
    ///
    /// Kernel: `RTM_DELROUTE` with the same header and attributes as
    /// [`add_route`](RouteSocket::add_route), scope `RT_SCOPE_NOWHERE` and
    /// protocol `RTPROT_UNSPEC` when unset (rtnetlink(7); ip-route(8)
    /// `delete`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ESRCH` ([`Error::is_not_found`]) when there is no
    /// such route.
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    /// let nl = RouteSocket::open()?;
    /// nl.delete_route(&Route::default_via("10.244.1.1".parse().unwrap()))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route del")]
    #[doc(alias = "RTM_DELROUTE")]
    pub fn delete_route(&self, route: &Route) -> Result<()> {
        let op = Op::DeleteRoute;
        let m = self.route_message(op, route, Mode::Delete)?;
        self.request(op, || route.object(), RouteNetlinkMessage::DelRoute(m), 0).map(drop)
    }

    /// Every IPv4 and IPv6 route of every table, like
    /// `ip route show table all` plus `ip -6 route show table all`. Filter
    /// with [`Route::is_main`] for what plain `ip route` shows.
    ///
    /// Kernel: two `RTM_GETROUTE` dumps, `AF_INET` then `AF_INET6`
    /// (rtnetlink(7); ip-route(8) `show`), each message decoded as its
    /// datagram arrives (only the fields [`Route`] has are read). No
    /// privilege.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for r in nslink::RouteSocket::open()?.routes()?.into_iter().filter(|r| r.is_main()) {
    ///     println!("{} {:<18} via {:?} proto {:?}", r.kind, r.dst, r.gateway, r.protocol);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route show")]
    #[doc(alias = "RTM_GETROUTE")]
    pub fn routes(&self) -> Result<Vec<Route>> {
        self.route_dump(None)
    }

    /// The IPv4 and IPv6 routes of one table, like
    /// `ip route show table N` plus `ip -6 route show table N`.
    ///
    /// Kernel: two `RTM_GETROUTE` dumps, `AF_INET` then `AF_INET6`, each
    /// carrying `RTA_TABLE`, which the kernel answers with that table's
    /// routes only (`NETLINK_GET_STRICT_CHK`, netlink(7), Linux 4.20+; a
    /// table that does not exist gives no routes; on a kernel without
    /// strict checking every route comes back and is filtered here).
    /// rtnetlink(7), ip-route(8) `show table`. No privilege; the cost grows
    /// with the table, not with the namespace's other tables. Table 0
    /// (`RT_TABLE_UNSPEC`) holds no route, so it gives none.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// use nslink::RouteTable;
    ///
    /// for r in nslink::RouteSocket::open()?.routes_in_table(RouteTable::Id(100))? {
    ///     println!("{} via {:?}", r.dst, r.gateway);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route show table")]
    pub fn routes_in_table(&self, table: RouteTable) -> Result<Vec<Route>> {
        if table.id() == 0 {
            return Ok(Vec::new());
        }
        self.route_dump(Some(table))
    }

    /// Both families' route dumps, of one table or of all; decoded as they
    /// arrive.
    fn route_dump(&self, table: Option<RouteTable>) -> Result<Vec<Route>> {
        let decode = walk::decoder(libc::RTM_NEWROUTE, Route::from_bytes, |r| {
            table.is_none_or(|t| r.table == t)
        });
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut m = RouteMessage::default();
            m.header.address_family = family;
            if let Some(t) = table {
                m.attributes.push(RouteAttribute::Table(t.id()));
            }
            match self.dump_with(Op::ListRoutes, RouteNetlinkMessage::GetRoute(m), &decode) {
                Ok(mut list) => out.append(&mut list),
                // A strict dump of a table the family does not have.
                Err(e) if table.is_some() && e.errno() == Some(nix::errno::Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// A question for the kernel's routing decision: `ip route get DST [from
/// SRC] [iif DEV] [oif DEV] [mark N] [uid N] [fibmatch]` (ip-route(8)).
/// Made from [`RouteGet::to`], or from a bare address
/// (`nl.route_get(addr)`).
///
/// With [`iif`](RouteGet::iif) the kernel answers as for a packet
/// received on that device (an input lookup, which needs
/// [`source`](RouteGet::source)); otherwise as for a packet this host sends.
///
/// ```
/// use nslink::route::RouteGet;
///
/// let q = RouteGet::to("10.0.0.1".parse().unwrap()).source("10.1.0.1".parse().unwrap()).mark(7);
/// assert_eq!(q.dst(), "10.0.0.1".parse::<std::net::IpAddr>().unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a query does nothing until it is passed to RouteSocket::route_get"]
pub struct RouteGet {
    dst: IpAddr,
    from: Option<IpAddr>,
    iif: Option<std::result::Result<LinkId, BadDev>>,
    oif: Option<std::result::Result<LinkId, BadDev>>,
    mark: Option<u32>,
    uid: Option<u32>,
    fib_match: bool,
}

impl From<IpAddr> for RouteGet {
    fn from(dst: IpAddr) -> RouteGet {
        RouteGet::to(dst)
    }
}

impl RouteGet {
    /// The route to `dst` (`ip route get DST`).
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("fd00::1".parse().unwrap());
    /// # let _ = q;
    /// ```
    pub fn to(dst: IpAddr) -> RouteGet {
        RouteGet { dst, from: None, iif: None, oif: None, mark: None, uid: None, fib_match: false }
    }

    /// The destination asked about.
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap());
    /// assert!(q.dst().is_ipv4());
    /// ```
    pub fn dst(&self) -> IpAddr {
        self.dst
    }

    /// The source address of the packet (`from`, `RTA_SRC`).
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap()).source("10.1.0.1".parse().unwrap());
    /// # let _ = q;
    /// ```
    pub fn source(mut self, src: IpAddr) -> RouteGet {
        self.from = Some(src);
        self
    }

    /// The device the packet arrives on (`iif`, `RTA_IIF`): an input
    /// lookup. An invalid name is reported by
    /// [`route_get`](RouteSocket::route_get).
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap()).iif("eth0");
    /// # let _ = q;
    /// ```
    pub fn iif(mut self, link: impl IntoLinkId) -> RouteGet {
        self.iif = Some(BadDev::check(link));
        self
    }

    /// The device the packet must leave by (`oif`, `RTA_OIF`). An invalid
    /// name is reported by [`route_get`](RouteSocket::route_get).
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap()).oif(2);
    /// # let _ = q;
    /// ```
    pub fn oif(mut self, link: impl IntoLinkId) -> RouteGet {
        self.oif = Some(BadDev::check(link));
        self
    }

    /// The packet's firewall mark (`mark`, `RTA_MARK`), which `fwmark`
    /// rules match.
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap()).mark(0x10);
    /// # let _ = q;
    /// ```
    pub fn mark(mut self, mark: u32) -> RouteGet {
        self.mark = Some(mark);
        self
    }

    /// The user id of the sending socket (`uid`, `RTA_UID`), which
    /// `uidrange` rules match.
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap()).uid(1000);
    /// # let _ = q;
    /// ```
    pub fn uid(mut self, uid: u32) -> RouteGet {
        self.uid = Some(uid);
        self
    }

    /// Asks for the routing table entry that matched rather than the
    /// route the packet would take (`fibmatch`, `RTM_F_FIB_MATCH`): the
    /// answer has the entry's prefix and, for a multipath route, all its
    /// [`nexthops`](Route::nexthops).
    ///
    /// ```
    /// let q = nslink::route::RouteGet::to("10.0.0.1".parse().unwrap()).fib_match();
    /// # let _ = q;
    /// ```
    pub fn fib_match(mut self) -> RouteGet {
        self.fib_match = true;
        self
    }

    fn object(&self) -> Object {
        let mut detail = Vec::new();
        if let Some(from) = self.from {
            detail.push(format!("from {from}"));
        }
        if let Some(Ok(dev)) = &self.iif {
            detail.push(format!("iif {}", dev.describe()));
        }
        if let Some(Ok(dev)) = &self.oif {
            detail.push(format!("oif {}", dev.describe()));
        }
        if let Some(mark) = self.mark {
            detail.push(format!("mark {mark:#x}"));
        }
        let o = Object::value(ObjectKind::Route, format!("to {}", self.dst));
        if detail.is_empty() { o } else { o.with_detail(detail.join(" ")) }
    }
}

/// The kernel's answer to a [`RouteGet`]: the route a packet would take
/// (what `ip route get` prints).
///
/// [`route`](RouteAnswer::route) has the destination as a host prefix
/// (`/32`, `/128`; the matching entry's prefix with
/// [`RouteGet::fib_match`]), the gateway, the output device (by index),
/// the preferred source address in [`Route::src`] (`prefsrc`), the table
/// the route was found in (`RouteTable::Id(0)` when the kernel used no
/// table: an output device was given and no route through it matched, so
/// the destination is taken to be on that link), its type, scope and
/// protocol.
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let a = nl.route_get("1.1.1.1".parse::<std::net::IpAddr>()?)?;
/// println!("via {:?} dev {:?} src {:?} table {}", a.route.gateway, a.route.dev, a.route.src, a.route.table);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteAnswer {
    /// The route.
    pub route: Route,
    /// The source address asked with (`from`, `RTA_SRC`), as the kernel
    /// echoes it.
    pub source: Option<IpAddr>,
    /// The input device of an input lookup (`iif`, `RTA_IIF`).
    pub iif: Option<LinkId>,
    /// The firewall mark (`mark`, `RTA_MARK`), when not zero.
    pub mark: Option<u32>,
    /// The user id the lookup was made for (`uid`, `RTA_UID`).
    pub uid: Option<u32>,
    /// The answer's flags (`rtm_flags`; [`RouteFlags::Cloned`] for a
    /// cached route).
    pub flags: RouteFlags,
}

impl RouteSocket {
    /// Asks which route a packet to `query`'s destination would take, like
    /// `ip route get` (pass an [`IpAddr`] for the plain question, a
    /// [`RouteGet`] for `from`, `iif`, `oif`, `mark`, `uid`, `fibmatch`).
    ///
    /// Kernel: `RTM_GETROUTE` without `NLM_F_DUMP`, flag
    /// `RTM_F_LOOKUP_TABLE` for IPv4 (so that the answer names the table
    /// the route was found in, as IPv6 answers always do; plus
    /// `RTM_F_FIB_MATCH` for `fibmatch`), `RTA_DST` with
    /// a full-length prefix, and `RTA_SRC`, `RTA_IIF`, `RTA_OIF`,
    /// `RTA_MARK`, `RTA_UID` as set; the answer is one `RTM_NEWROUTE`
    /// (rtnetlink(7); ip-route(8) `get`). Policy rules are applied as for a
    /// real packet. No privilege; one round trip, plus one per device given
    /// by name.
    ///
    /// # Errors
    /// The kernel's refusal as it sent it: [`Error::Os`] with
    /// `ENETUNREACH` when no route matches (or an `unreachable` route
    /// does), `EINVAL` for an IPv4 `blackhole` route, `EACCES` for a
    /// `prohibit` one; [`Error::NotFound`] (`ENODEV`) for a missing device;
    /// [`Error::InvalidArgument`] for a `from` of the other family;
    /// [`Error::InvalidName`] for an invalid device name.
    ///
    /// ```no_run
    /// use nslink::route::RouteGet;
    ///
    /// let nl = nslink::RouteSocket::open()?;
    /// // ip route get 10.96.0.1 from 10.244.1.2 mark 0x10
    /// let a = nl.route_get(RouteGet::to("10.96.0.1".parse()?).source("10.244.1.2".parse()?).mark(0x10))?;
    /// println!("{} via {:?} src {:?}", a.route.dst, a.route.gateway, a.route.src);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "ip route get")]
    pub fn route_get(&self, query: impl Into<RouteGet>) -> Result<RouteAnswer> {
        let q: RouteGet = query.into();
        let op = Op::GetRoute;
        let v4 = q.dst.is_ipv4();
        if let Some(from) = q.from
            && from.is_ipv4() != v4
        {
            return Err(Error::InvalidArgument {
                op,
                object: q.object(),
                detail: format!("source {from} is not of the destination's family"),
            });
        }
        let full = if v4 { 32 } else { 128 };
        let mut m = RouteMessage::default();
        m.header.address_family = if v4 { AddressFamily::Inet } else { AddressFamily::Inet6 };
        m.header.destination_prefix_length = full;
        // IPv4 answers name the table the route came from only when asked
        // (RTM_F_LOOKUP_TABLE); IPv6 answers always do, and its strict
        // request check refuses the flag.
        if v4 {
            m.header.flags = RouteFlags::LookupTable;
        }
        if q.fib_match {
            m.header.flags |= RouteFlags::FibMatch;
        }
        m.attributes.push(RouteAttribute::Destination(q.dst.into()));
        if let Some(from) = q.from {
            m.header.source_prefix_length = full;
            m.attributes.push(RouteAttribute::Source(from.into()));
        }
        for (dev, input) in [(&q.iif, true), (&q.oif, false)] {
            let Some(dev) = dev else { continue };
            let index = match dev {
                Ok(id) => self.resolve_index(op, id)?,
                Err(bad) => return Err(bad.clone().into_error(op, || q.object())),
            };
            m.attributes.push(if input {
                RouteAttribute::Iif(index)
            } else {
                RouteAttribute::Oif(index)
            });
        }
        if let Some(mark) = q.mark {
            m.attributes.push(RouteAttribute::Mark(mark));
        }
        if let Some(uid) = q.uid {
            m.attributes.push(RouteAttribute::Uid(uid));
        }
        let replies = self.request(op, || q.object(), RouteNetlinkMessage::GetRoute(m), 0)?;
        let mut answers: Vec<RouteMessage> = replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewRoute(m) => Some(m),
                _ => None,
            })
            .collect();
        if answers.len() != 1 {
            let kind = crate::error::ProtocolError::ReplyCount(answers.len());
            return Err(Error::Protocol { op, kind });
        }
        let m = answers.remove(0);
        let mut answer = RouteAnswer {
            route: Route::to(IpNet::host(q.dst)),
            source: None,
            iif: None,
            mark: None,
            uid: None,
            flags: m.header.flags,
        };
        for a in &m.attributes {
            match a {
                RouteAttribute::Source(addr) => answer.source = ip_of(addr.clone()),
                RouteAttribute::Iif(i) => answer.iif = Some(LinkId::Index(*i)),
                RouteAttribute::Mark(v) => answer.mark = Some(*v),
                RouteAttribute::Uid(v) => answer.uid = Some(*v),
                _ => {}
            }
        }
        answer.route = Route::from_message(m).ok_or_else(|| Error::Decode {
            op,
            detail: "the answer is not an IPv4 or IPv6 route".into(),
        })?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_round_trip_and_unknown_values_are_kept() {
        for v in 0..=255u8 {
            let t = RouteType::from(v);
            assert_eq!(t.value(), v);
            assert_eq!(t.to_string().parse::<RouteType>().unwrap(), t);
            let s = RouteScope::from(v);
            assert_eq!(s.to_string().parse::<RouteScope>().unwrap(), s);
            let p = RouteProtocol::from(v);
            assert_eq!(p.to_string().parse::<RouteProtocol>().unwrap(), p);
            assert_eq!(u8::from(netlink_packet_route::route::RouteProtocol::from(p)), v);
            assert_eq!(RouteProtocol::from(netlink_packet_route::route::RouteProtocol::from(v)), p);
        }
        assert_eq!(RouteType::Other(6), RouteType::Blackhole);
        assert_eq!(RouteType::Other(6).to_string(), "blackhole");
        assert_eq!(RouteScope::from(7).to_string(), "7");
        assert_eq!("UNIVERSE".parse::<RouteScope>().unwrap(), RouteScope::Global);
        assert_eq!("0xfd".parse::<RouteScope>().unwrap(), RouteScope::Link);
        for bad in ["", "lnik", "256", "-1", "0x", "0x1ff", " link"] {
            let e = bad.parse::<RouteScope>().unwrap_err();
            assert_eq!(e.input(), bad);
        }
        assert!("blakhole".parse::<RouteType>().is_err());
        assert_eq!(RouteTable::from(100).to_string(), "100");
        assert_eq!(RouteTable::Id(255), RouteTable::Local);
        assert_eq!("4294967295".parse::<RouteTable>().unwrap().id(), u32::MAX);
        assert!("4294967296".parse::<RouteTable>().is_err());
        assert_eq!(format!("{:>6}|{:<6}|", RouteScope::Host, RouteTable::Main), "  host|main  |");
    }

    #[test]
    fn parse_error_display_pads() {
        let e = "lnik".parse::<RouteScope>().unwrap_err();
        let plain = e.to_string();
        assert!(plain.len() < 100, "{plain}");
        assert_eq!(format!("{e:<100}|"), format!("{plain:<100}|"));
        assert_eq!(format!("{e:>100}"), format!("{plain:>100}"));
        assert_eq!(format!("{e:.7}"), "unknown");
        assert_eq!(format!("[{:>12}]", KeywordKind::RouteType), "[  route type]");
    }

    #[test]
    fn default_scope_is_chosen_like_ip_route() {
        let to = || Route::to("10.0.0.0/8".parse().unwrap());
        assert_eq!(to().default_scope(), RouteScope::Link);
        assert_eq!(to().via("10.1.1.1".parse().unwrap()).default_scope(), RouteScope::Global);
        assert_eq!(to().kind(RouteType::Blackhole).default_scope(), RouteScope::Global);
        assert_eq!(to().kind(RouteType::Local).default_scope(), RouteScope::Host);
        assert_eq!(to().kind(RouteType::Broadcast).default_scope(), RouteScope::Link);
    }

    #[test]
    fn a_bad_device_is_kept_for_later_and_a_good_one_clears_it() {
        let r = Route::to("10.0.0.0/8".parse().unwrap()).dev("a name far too long");
        assert!(r.bad_dev.is_some());
        assert_eq!(r.dev, None);
        let r = r.dev("eth0");
        assert!(r.bad_dev.is_none());
        assert!(r.dev.is_some());
    }
}
