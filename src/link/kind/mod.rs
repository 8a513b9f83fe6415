//! What a device is ([`LinkKind`]) and the typed options of each kind
//! ([`KindOptions`]): what [`LinkBuilder`](crate::LinkBuilder) sends in
//! `IFLA_INFO_DATA` and what [`Link::kind_options`] reads back from it.
//!
//! One file per kind that has options: `bond`, `bridge`, `geneve`, `ipvlan`,
//! `macvlan` (macvlan and macvtap), `veth`, `vlan`, `vrf`, `vxlan`. `dummy`,
//! `ifb` and `wireguard` devices take no options here (a WireGuard device's
//! keys and peers are set over generic netlink, out of scope).

mod bond;
mod bridge;
mod geneve;
mod ipvlan;
mod macvlan;
mod veth;
mod vlan;
mod vrf;
mod vxlan;

use std::fmt;

use netlink_packet_core::{NlaBuffer, NlasIterator, Parseable};
use netlink_packet_route::link::{InfoData, InfoKind};
use nix::libc::{ARPHRD_ETHER, ARPHRD_LOOPBACK};

pub use bond::{BondMode, BondOptions};
pub use bridge::BridgeOptions;
pub use geneve::GeneveOptions;
pub use ipvlan::{IpvlanIsolation, IpvlanMode, IpvlanOptions};
pub use macvlan::{MacvlanMode, MacvlanOptions};
pub use veth::VethOptions;
pub use vlan::{VlanOptions, VlanProtocol};
pub use vrf::VrfOptions;
pub use vxlan::VxlanOptions;

use super::Link;
use crate::error::{Error, Op, Result};

/// The kind of a device: `IFLA_INFO_KIND` when the driver reports one (as
/// `ip -d link` shows after the flags), otherwise derived from the link
/// layer type (`lo` is [`LinkKind::Loopback`], a plain NIC is
/// [`LinkKind::Ethernet`]).
///
/// ```
/// use nslink::LinkKind;
///
/// assert_eq!(LinkKind::Veth.to_string(), "veth");
/// assert_eq!(format!("[{:<8}]", LinkKind::Loopback), "[loopback]");
/// assert_eq!(LinkKind::Other("gretap".into()).info_kind(), Some("gretap"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// The loopback device.
    Loopback,
    /// A device without a kind whose link type is Ethernet (a physical NIC,
    /// or a virtio one).
    Ethernet,
    /// One end of a veth pair.
    Veth,
    /// A bridge.
    Bridge,
    /// A VXLAN tunnel.
    Vxlan,
    /// A macvlan device.
    Macvlan,
    /// A macvtap device.
    Macvtap,
    /// A tun device (layer 3).
    Tun,
    /// A tap device (layer 2).
    Tap,
    /// A dummy device.
    Dummy,
    /// An 802.1Q VLAN device.
    Vlan,
    /// A bond.
    Bond,
    /// An ipvlan device.
    Ipvlan,
    /// An intermediate functional block (`ifb`).
    Ifb,
    /// A WireGuard device.
    Wireguard,
    /// A Geneve tunnel.
    Geneve,
    /// A VRF (virtual routing and forwarding) device.
    Vrf,
    /// Any other kind, by its `IFLA_INFO_KIND` string.
    Other(String),
    /// No kind and a link layer nslink does not name (the `ARPHRD_*` value).
    Unknown(u16),
}

impl LinkKind {
    pub(in crate::link) fn from_parts(kind: Option<&str>, link_type: u16, tap: bool) -> LinkKind {
        match kind {
            Some("veth") => LinkKind::Veth,
            Some("bridge") => LinkKind::Bridge,
            Some("vxlan") => LinkKind::Vxlan,
            Some("macvlan") => LinkKind::Macvlan,
            Some("macvtap") => LinkKind::Macvtap,
            Some("tun") if tap => LinkKind::Tap,
            Some("tun") => LinkKind::Tun,
            Some("dummy") => LinkKind::Dummy,
            Some("vlan") => LinkKind::Vlan,
            Some("bond") => LinkKind::Bond,
            Some("ipvlan") => LinkKind::Ipvlan,
            Some("ifb") => LinkKind::Ifb,
            Some("wireguard") => LinkKind::Wireguard,
            Some("geneve") => LinkKind::Geneve,
            Some("vrf") => LinkKind::Vrf,
            Some(other) => LinkKind::Other(other.to_owned()),
            None if link_type == ARPHRD_LOOPBACK => LinkKind::Loopback,
            None if link_type == ARPHRD_ETHER => LinkKind::Ethernet,
            None => LinkKind::Unknown(link_type),
        }
    }

    /// The `IFLA_INFO_KIND` string (`"veth"`, `"bridge"`, …), or `None` for
    /// kinds the kernel does not name (loopback, plain Ethernet).
    ///
    /// ```
    /// use nslink::LinkKind;
    ///
    /// assert_eq!(LinkKind::Bridge.info_kind(), Some("bridge"));
    /// assert_eq!(LinkKind::Tap.info_kind(), Some("tun"));
    /// assert_eq!(LinkKind::Ethernet.info_kind(), None);
    /// ```
    pub fn info_kind(&self) -> Option<&str> {
        Some(match self {
            LinkKind::Loopback | LinkKind::Ethernet | LinkKind::Unknown(_) => return None,
            LinkKind::Veth => "veth",
            LinkKind::Bridge => "bridge",
            LinkKind::Vxlan => "vxlan",
            LinkKind::Macvlan => "macvlan",
            LinkKind::Macvtap => "macvtap",
            LinkKind::Tun | LinkKind::Tap => "tun",
            LinkKind::Dummy => "dummy",
            LinkKind::Vlan => "vlan",
            LinkKind::Bond => "bond",
            LinkKind::Ipvlan => "ipvlan",
            LinkKind::Ifb => "ifb",
            LinkKind::Wireguard => "wireguard",
            LinkKind::Geneve => "geneve",
            LinkKind::Vrf => "vrf",
            LinkKind::Other(s) => s,
        })
    }

    /// The kernel module that provides this kind in a modular kernel
    /// (`8021q` for [`Vlan`](LinkKind::Vlan), `bonding` for
    /// [`Bond`](LinkKind::Bond), …): what a kernel without it is missing.
    /// `None` for kinds nslink does not name.
    ///
    /// ```
    /// use nslink::LinkKind;
    ///
    /// assert_eq!(LinkKind::Vlan.module(), Some("8021q"));
    /// assert_eq!(LinkKind::Bond.module(), Some("bonding"));
    /// assert_eq!(LinkKind::Other("gretap".into()).module(), None);
    /// ```
    pub fn module(&self) -> Option<&'static str> {
        Some(match self {
            LinkKind::Vlan => "8021q",
            LinkKind::Bond => "bonding",
            LinkKind::Tun | LinkKind::Tap => "tun",
            LinkKind::Veth => "veth",
            LinkKind::Bridge => "bridge",
            LinkKind::Vxlan => "vxlan",
            LinkKind::Macvlan => "macvlan",
            LinkKind::Macvtap => "macvtap",
            LinkKind::Dummy => "dummy",
            LinkKind::Ipvlan => "ipvlan",
            LinkKind::Ifb => "ifb",
            LinkKind::Wireguard => "wireguard",
            LinkKind::Geneve => "geneve",
            LinkKind::Vrf => "vrf",
            LinkKind::Loopback | LinkKind::Ethernet | LinkKind::Other(_) | LinkKind::Unknown(_) => {
                return None;
            }
        })
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkKind::Loopback => f.pad("loopback"),
            LinkKind::Ethernet => f.pad("ethernet"),
            LinkKind::Tap => f.pad("tap"),
            LinkKind::Unknown(t) => f.pad(&format!("link type {t}")),
            other => f.pad(other.info_kind().unwrap_or("?")),
        }
    }
}

/// Which option a [`ParseLinkOptionError`] was about.
///
/// ```
/// use nslink::link::LinkOptionKind;
///
/// assert_eq!(LinkOptionKind::BondMode.to_string(), "bond mode");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkOptionKind {
    /// A [`MacvlanMode`].
    MacvlanMode,
    /// An [`IpvlanMode`].
    IpvlanMode,
    /// An [`IpvlanIsolation`].
    IpvlanIsolation,
    /// A [`VlanProtocol`].
    VlanProtocol,
    /// A [`BondMode`].
    BondMode,
}

impl LinkOptionKind {
    fn words(self) -> &'static [&'static str] {
        match self {
            LinkOptionKind::MacvlanMode => MacvlanMode::WORDS,
            LinkOptionKind::IpvlanMode => IpvlanMode::WORDS,
            LinkOptionKind::IpvlanIsolation => IpvlanIsolation::WORDS,
            LinkOptionKind::VlanProtocol => VlanProtocol::WORDS,
            LinkOptionKind::BondMode => BondMode::WORDS,
        }
    }
}

impl fmt::Display for LinkOptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            LinkOptionKind::MacvlanMode => "macvlan mode",
            LinkOptionKind::IpvlanMode => "ipvlan mode",
            LinkOptionKind::IpvlanIsolation => "ipvlan flag",
            LinkOptionKind::VlanProtocol => "vlan protocol",
            LinkOptionKind::BondMode => "bond mode",
        })
    }
}

/// A word (or number) that names no value of a kind's option: an unknown
/// bond mode, macvlan mode, … Nothing was sent.
///
/// ```
/// use nslink::BondMode;
///
/// let err = "balance-foo".parse::<BondMode>().unwrap_err();
/// assert_eq!(err.input(), "balance-foo");
/// assert!(err.to_string().starts_with("unknown bond mode \"balance-foo\": expected balance-rr, "));
/// // Into nslink::Error with `?`:
/// let e: nslink::Error = err.into();
/// assert!(matches!(e, nslink::Error::Parse(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLinkOptionError {
    kind: LinkOptionKind,
    input: String,
}

impl ParseLinkOptionError {
    /// Which option was being parsed.
    ///
    /// ```
    /// use nslink::link::LinkOptionKind;
    ///
    /// let err = "l4".parse::<nslink::IpvlanMode>().unwrap_err();
    /// assert_eq!(err.kind(), LinkOptionKind::IpvlanMode);
    /// ```
    pub fn kind(&self) -> LinkOptionKind {
        self.kind
    }
    /// The text that was refused.
    ///
    /// ```
    /// assert_eq!("l4".parse::<nslink::IpvlanMode>().unwrap_err().input(), "l4");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseLinkOptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.kind.words().join(", ");
        f.pad(&format!("unknown {} {:?}: expected {words} or its number", self.kind, self.input))
    }
}

impl std::error::Error for ParseLinkOptionError {}

impl From<ParseLinkOptionError> for Error {
    fn from(e: ParseLinkOptionError) -> Error {
        Error::Parse(crate::error::ParseError::LinkOption(e))
    }
}

/// Declares the value of a kind's option: named variants with the kernel's
/// number and the word ip-link(8) uses, plus `Other(n)` for a number read
/// from a kernel that has more (never sent: a builder refuses it). Parsing
/// takes the word (any case) or the number of a named value.
macro_rules! option_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident: $repr:ty as $kind:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, $word:literal $(| $alias:literal)*; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value nslink has no name for, read from the kernel; a
            /// builder refuses to send it.
            Other($repr),
        }

        impl $name {
            /// The words ip-link(8) uses, in the order of the values.
            pub(crate) const WORDS: &'static [&'static str] = &[$($word),*];

            /// The kernel's number for this value.
            ///
            #[doc = concat!(
                "```\nuse nslink::", stringify!($name), ";\n\n",
                "let v: ", stringify!($name), " = \"", $crate::link::kind::first!($($word),*), "\".parse()?;\n",
                "assert_eq!(", stringify!($name), "::from_value(v.value()), v);\n",
                "# Ok::<(), nslink::link::ParseLinkOptionError>(())\n```"
            )]
            pub fn value(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Other(v) => v,
                }
            }

            /// The value for the kernel's number (`Other` when nslink has no
            /// name for it).
            ///
            #[doc = concat!(
                "```\nuse nslink::", stringify!($name), ";\n\n",
                "assert_eq!(", stringify!($name), "::from_value(200), ", stringify!($name), "::Other(200));\n```"
            )]
            pub fn from_value(v: $repr) -> $name {
                match v {
                    $( $value => $name::$variant, )*
                    v => $name::Other(v),
                }
            }

            /// The word ip-link(8) prints for it, if it has one.
            ///
            #[doc = concat!(
                "```\nuse nslink::", stringify!($name), ";\n\n",
                "assert_eq!(", stringify!($name), "::Other(200).name(), None);\n```"
            )]
            pub fn name(self) -> Option<&'static str> {
                match $name::from_value(self.value()) {
                    $( $name::$variant => Some($word), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(w) => f.pad(w),
                    None => f.pad(&self.value().to_string()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::link::ParseLinkOptionError;
            /// Parses the word ip-link(8) uses (any case) or the number of a
            /// named value.
            fn from_str(s: &str) -> std::result::Result<$name, $crate::link::ParseLinkOptionError> {
                $(
                    if s.eq_ignore_ascii_case($word) $(|| s.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )*
                match crate::route::parse_number::<$repr>(s).map($name::from_value) {
                    Some($name::Other(_)) | None => Err($crate::link::kind::parse_error(
                        $crate::link::LinkOptionKind::$kind,
                        s,
                    )),
                    Some(v) => Ok(v),
                }
            }
        }
    };
}
pub(crate) use option_enum;

/// The first of a list of literals (for the macro's doc examples).
macro_rules! first {
    ($first:literal $(, $rest:literal)*) => {
        $first
    };
}
pub(crate) use first;

pub(crate) fn parse_error(kind: LinkOptionKind, input: &str) -> ParseLinkOptionError {
    ParseLinkOptionError { kind, input: input.to_owned() }
}

/// A device's kind with its typed options: what
/// [`LinkBuilder`](crate::LinkBuilder) creates, and what
/// [`Link::kind_options`] reads back (`IFLA_INFO_KIND` and
/// `IFLA_INFO_DATA`, as `ip -d link show` prints them after the kind).
///
/// Every kind's options convert into this (`VxlanOptions` into
/// `KindOptions::Vxlan`, …), so a builder takes them directly.
///
/// ```
/// use nslink::{KindOptions, LinkKind, VxlanOptions};
///
/// let opts: KindOptions = VxlanOptions { vni: Some(42), port: Some(4789), ..Default::default() }.into();
/// assert_eq!(opts.kind(), LinkKind::Vxlan);
/// assert_eq!(KindOptions::Dummy.kind().to_string(), "dummy");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KindOptions {
    /// A veth pair (`type veth peer name PEER`).
    Veth(VethOptions),
    /// A bridge (`type bridge`).
    Bridge(BridgeOptions),
    /// A VXLAN tunnel (`type vxlan id VNI …`).
    Vxlan(VxlanOptions),
    /// A macvlan device (`link PARENT type macvlan mode MODE`).
    Macvlan(MacvlanOptions),
    /// A macvtap device (`link PARENT type macvtap mode MODE`).
    Macvtap(MacvlanOptions),
    /// An ipvlan device (`link PARENT type ipvlan mode MODE FLAG`).
    Ipvlan(IpvlanOptions),
    /// A VLAN device (`link PARENT type vlan id ID protocol PROTO`).
    Vlan(VlanOptions),
    /// A Geneve tunnel (`type geneve id VNI remote ADDR …`).
    Geneve(GeneveOptions),
    /// A bond (`type bond mode MODE miimon MS`).
    Bond(BondOptions),
    /// A VRF (`type vrf table TABLE`).
    Vrf(VrfOptions),
    /// A dummy device (`type dummy`).
    Dummy,
    /// An intermediate functional block (`type ifb`).
    Ifb,
    /// A WireGuard device (`type wireguard`): the device only.
    Wireguard,
}

macro_rules! into_kind_options {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for KindOptions {
            fn from(o: $t) -> KindOptions {
                KindOptions::$v(o)
            }
        }
    )*};
}
into_kind_options!(
    VethOptions => Veth, BridgeOptions => Bridge, VxlanOptions => Vxlan,
    IpvlanOptions => Ipvlan, VlanOptions => Vlan, GeneveOptions => Geneve,
    BondOptions => Bond, VrfOptions => Vrf
);

/// A macvlan device (use [`KindOptions::Macvtap`] for a macvtap).
impl From<MacvlanOptions> for KindOptions {
    fn from(o: MacvlanOptions) -> KindOptions {
        KindOptions::Macvlan(o)
    }
}

/// Whether a kind takes a parent (lower) device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parent {
    /// It needs one (`IFLA_LINK`): macvlan, macvtap, ipvlan, vlan.
    Required,
    /// It may have one: vxlan's underlay (`IFLA_VXLAN_LINK`).
    Underlay,
    /// It has none.
    None,
}

impl KindOptions {
    /// The kind these options create.
    ///
    /// ```
    /// use nslink::{KindOptions, LinkKind, MacvlanOptions};
    ///
    /// assert_eq!(KindOptions::Macvtap(MacvlanOptions::default()).kind(), LinkKind::Macvtap);
    /// ```
    pub fn kind(&self) -> LinkKind {
        match self {
            KindOptions::Veth(_) => LinkKind::Veth,
            KindOptions::Bridge(_) => LinkKind::Bridge,
            KindOptions::Vxlan(_) => LinkKind::Vxlan,
            KindOptions::Macvlan(_) => LinkKind::Macvlan,
            KindOptions::Macvtap(_) => LinkKind::Macvtap,
            KindOptions::Ipvlan(_) => LinkKind::Ipvlan,
            KindOptions::Vlan(_) => LinkKind::Vlan,
            KindOptions::Geneve(_) => LinkKind::Geneve,
            KindOptions::Bond(_) => LinkKind::Bond,
            KindOptions::Vrf(_) => LinkKind::Vrf,
            KindOptions::Dummy => LinkKind::Dummy,
            KindOptions::Ifb => LinkKind::Ifb,
            KindOptions::Wireguard => LinkKind::Wireguard,
        }
    }

    pub(crate) fn parent(&self) -> Parent {
        match self {
            KindOptions::Macvlan(_)
            | KindOptions::Macvtap(_)
            | KindOptions::Ipvlan(_)
            | KindOptions::Vlan(_) => Parent::Required,
            KindOptions::Vxlan(_) => Parent::Underlay,
            _ => Parent::None,
        }
    }

    /// What is wrong with these options, before anything is sent.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        match self {
            KindOptions::Veth(o) => o.check(),
            KindOptions::Vxlan(o) => o.check(),
            KindOptions::Macvlan(o) | KindOptions::Macvtap(o) => o.check(),
            KindOptions::Ipvlan(o) => o.check(),
            KindOptions::Vlan(o) => o.check(),
            KindOptions::Geneve(o) => o.check(),
            KindOptions::Bond(o) => o.check(),
            KindOptions::Vrf(o) => o.check(),
            KindOptions::Bridge(_)
            | KindOptions::Dummy
            | KindOptions::Ifb
            | KindOptions::Wireguard => Ok(()),
        }
    }

    /// `IFLA_INFO_KIND` and `IFLA_INFO_DATA` (veth's data is built by
    /// the veth code: it carries the peer's own message). `underlay` is the
    /// resolved parent index of a vxlan.
    pub(crate) fn info(&self, underlay: Option<u32>) -> (InfoKind, Option<InfoData>) {
        match self {
            KindOptions::Veth(_) => (InfoKind::Veth, None),
            KindOptions::Bridge(o) => (InfoKind::Bridge, o.data()),
            KindOptions::Vxlan(o) => (InfoKind::Vxlan, Some(o.data(underlay))),
            KindOptions::Macvlan(o) => (InfoKind::MacVlan, o.macvlan_data()),
            KindOptions::Macvtap(o) => (InfoKind::MacVtap, o.macvtap_data()),
            KindOptions::Ipvlan(o) => (InfoKind::IpVlan, o.data()),
            KindOptions::Vlan(o) => (InfoKind::Vlan, Some(o.data())),
            KindOptions::Geneve(o) => (InfoKind::Geneve, Some(o.data())),
            KindOptions::Bond(o) => (InfoKind::Bond, o.data()),
            KindOptions::Vrf(o) => (InfoKind::Vrf, Some(o.data())),
            KindOptions::Dummy => (InfoKind::Dummy, None),
            KindOptions::Ifb => (InfoKind::Ifb, None),
            KindOptions::Wireguard => (InfoKind::Wireguard, None),
        }
    }

    /// Decodes `IFLA_INFO_DATA` (`data`, possibly empty) of a device of
    /// `kind`; `None` for a kind without typed options here.
    pub(crate) fn decode(
        kind: &LinkKind,
        data: &[u8],
    ) -> std::result::Result<Option<KindOptions>, String> {
        Ok(Some(match kind {
            LinkKind::Veth => KindOptions::Veth(VethOptions::default()),
            LinkKind::Bridge => KindOptions::Bridge(BridgeOptions::decode(data)?),
            LinkKind::Vxlan => KindOptions::Vxlan(VxlanOptions::decode(data)?),
            LinkKind::Macvlan => KindOptions::Macvlan(MacvlanOptions::decode_macvlan(data)?),
            LinkKind::Macvtap => KindOptions::Macvtap(MacvlanOptions::decode_macvtap(data)?),
            LinkKind::Ipvlan => KindOptions::Ipvlan(IpvlanOptions::decode(data)?),
            LinkKind::Vlan => KindOptions::Vlan(VlanOptions::decode(data)?),
            LinkKind::Geneve => KindOptions::Geneve(GeneveOptions::decode(data)?),
            LinkKind::Bond => KindOptions::Bond(BondOptions::decode(data)?),
            LinkKind::Vrf => KindOptions::Vrf(VrfOptions::decode(data)?),
            LinkKind::Dummy => KindOptions::Dummy,
            LinkKind::Ifb => KindOptions::Ifb,
            LinkKind::Wireguard => KindOptions::Wireguard,
            _ => return Ok(None),
        }))
    }
}

/// Every attribute of `data` decoded by `netlink-packet-route` as `T`.
pub(crate) fn nlas<T>(data: &[u8]) -> std::result::Result<Vec<T>, String>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut v = Vec::new();
    for nla in NlasIterator::new(data) {
        let nla = nla.map_err(|e| e.to_string())?;
        v.push(T::parse(&nla).map_err(|e| e.to_string())?);
    }
    Ok(v)
}

impl Link {
    /// The device's kind with its options, read from the message the kernel
    /// sent (`IFLA_INFO_DATA` inside `IFLA_LINKINFO`), as `ip -d link show`
    /// prints them: a vxlan's VNI, port and remote, a vlan's id, a bond's
    /// mode… `None` for a device without a kind ([`LinkKind::Loopback`],
    /// [`LinkKind::Ethernet`]) or of a kind without typed options here
    /// ([`LinkKind::Other`], tun/tap).
    ///
    /// Decoded on demand from the bytes kept with the link, so listing
    /// links costs nothing more. The kernel reports no veth peer in a
    /// veth's data: see [`Link::parent_index`] and
    /// [`RouteSocket::veth_peer`](crate::RouteSocket::veth_peer).
    ///
    /// Kernel: nothing is sent; the attributes come from the `RTM_NEWLINK`
    /// the link was read from (rtnetlink(7); ip-link(8) `-details`).
    ///
    /// # Errors
    /// [`Error::Decode`] when the kernel's bytes cannot be decoded.
    ///
    /// ```no_run
    /// use nslink::{KindOptions, RouteSocket};
    ///
    /// let nl = RouteSocket::open()?;
    /// if let Some(KindOptions::Vxlan(vx)) = nl.require_link("vx0")?.kind_options()? {
    ///     println!("vni {:?} port {:?} remote {:?}", vx.vni, vx.port, vx.remote);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn kind_options(&self) -> Result<Option<KindOptions>> {
        let decode = |detail: String| Error::Decode { op: Op::GetLink, detail };
        let data = super::parse::info_data(&self.bytes).map_err(decode)?;
        KindOptions::decode(&self.kind, data.unwrap_or(&[])).map_err(decode)
    }
}
