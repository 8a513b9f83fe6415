//! Link groups (`IFLA_GROUP`): set a device's group, list a group, delete a
//! whole group with one request.

use std::fmt;
use std::str::FromStr;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};

use super::{IntoLinkId, Link, parse, set_link_request};
use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::netlink::RouteSocket;

/// A device group (`IFLA_GROUP`; `group` in ip-link(8)): a number every
/// device carries, 0 (`default`) unless set. Groups let one request act on
/// many devices: [`RouteSocket::delete_group`] deletes all of a group's
/// devices at once.
///
/// It prints as `ip -j link` does (`default` for 0, the number otherwise)
/// and parses `default` or a number (decimal, or hexadecimal with `0x`).
/// Names from `/etc/iproute2/group` are not read.
///
/// ```
/// use nslink::LinkGroup;
///
/// assert_eq!(LinkGroup::DEFAULT.to_string(), "default");
/// assert_eq!(LinkGroup::from(7).to_string(), "7");
/// assert_eq!("default".parse::<LinkGroup>()?, LinkGroup::DEFAULT);
/// assert_eq!("0x10".parse::<LinkGroup>()?.value(), 16);
/// assert!("pods".parse::<LinkGroup>().is_err());
/// # Ok::<(), nslink::link::ParseLinkWordError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LinkGroup(u32);

impl LinkGroup {
    /// Group 0, where every device starts (`default`).
    pub const DEFAULT: LinkGroup = LinkGroup(0);

    /// The group numbered `n`.
    ///
    /// ```
    /// assert_eq!(nslink::LinkGroup::new(0), nslink::LinkGroup::DEFAULT);
    /// ```
    pub const fn new(n: u32) -> LinkGroup {
        LinkGroup(n)
    }

    /// The number.
    ///
    /// ```
    /// assert_eq!(nslink::LinkGroup::new(7).value(), 7);
    /// ```
    pub const fn value(self) -> u32 {
        self.0
    }
}

impl From<u32> for LinkGroup {
    fn from(n: u32) -> LinkGroup {
        LinkGroup(n)
    }
}

impl fmt::Display for LinkGroup {
    /// `default` or the number; honours width and alignment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.pad("default"),
            n => f.pad(&n.to_string()),
        }
    }
}

impl FromStr for LinkGroup {
    type Err = ParseLinkWordError;
    fn from_str(s: &str) -> std::result::Result<LinkGroup, ParseLinkWordError> {
        let err = || ParseLinkWordError::new(LinkWordKind::Group, s);
        if s == "default" {
            return Ok(LinkGroup::DEFAULT);
        }
        let n = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16)
            }
            None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse(),
            _ => return Err(err()),
        };
        n.map(LinkGroup).map_err(|_| err())
    }
}

/// Which kind of word a [`ParseLinkWordError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkWordKind {
    /// A [`LinkGroup`].
    Group,
    /// A [`TunMode`](crate::link::TunMode).
    TunMode,
}

impl fmt::Display for LinkWordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            LinkWordKind::Group => "link group",
            LinkWordKind::TunMode => "tun/tap mode",
        })
    }
}

/// A link value (a group, a tun/tap mode) that could not be read from text.
///
/// ```
/// use nslink::link::LinkWordKind;
///
/// let e = "pods".parse::<nslink::LinkGroup>().unwrap_err();
/// assert_eq!(e.kind(), LinkWordKind::Group);
/// assert_eq!(e.input(), "pods");
/// assert_eq!(e.to_string(), "unknown link group \"pods\": expected default or a number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLinkWordError {
    kind: LinkWordKind,
    input: String,
}

impl ParseLinkWordError {
    pub(super) fn new(kind: LinkWordKind, input: &str) -> ParseLinkWordError {
        ParseLinkWordError { kind, input: input.to_owned() }
    }
    /// What was being parsed.
    ///
    /// ```
    /// let e = "tunnel".parse::<nslink::link::TunMode>().unwrap_err();
    /// assert_eq!(e.kind(), nslink::link::LinkWordKind::TunMode);
    /// ```
    pub fn kind(&self) -> LinkWordKind {
        self.kind
    }
    /// The text that was refused.
    ///
    /// ```
    /// assert_eq!("x".parse::<nslink::LinkGroup>().unwrap_err().input(), "x");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseLinkWordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = match self.kind {
            LinkWordKind::Group => "default or a number",
            LinkWordKind::TunMode => "tun or tap",
        };
        f.pad(&format!("unknown {} {:?}: expected {expected}", self.kind, self.input))
    }
}

impl std::error::Error for ParseLinkWordError {}

impl RouteSocket {
    /// Puts a device in a group, like `ip link set DEV group N`
    /// ([`LinkGroup::DEFAULT`] takes it out again).
    ///
    /// Kernel: `RTM_SETLINK` with `IFLA_GROUP` (rtnetlink(7); ip-link(8)
    /// `group`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing device; the kernel's reason
    /// otherwise.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_group("veth0", 7)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set group")]
    pub fn set_group(&self, id: impl IntoLinkId, group: impl Into<LinkGroup>) -> Result<()> {
        let group = group.into();
        self.send_one(set_link_request(Op::SetLink, id.into_link_id()?, |m| {
            m.attributes.push(LinkAttribute::Group(group.value()))
        }))
    }

    /// The devices of one group, like `ip link show group N`.
    ///
    /// Kernel: an `RTM_GETLINK` dump (rtnetlink(7)), filtered here, as
    /// ip-link(8) does too: the kernel filters link dumps by master and by
    /// kind only. Asked with `IFLA_GROUP` on a strictly checking socket
    /// (as nslink's are) it answers `EINVAL`, "Unsupported attribute in
    /// link dump request"; a lax socket would get every device. No
    /// privilege. Costs one dump of every device, whose messages outside
    /// the group are dropped as they are read.
    ///
    /// # Errors
    /// [`Error::DumpInterrupted`] under heavy churn; the exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// for l in nl.links_in_group(7)? {
    ///     println!("{} is in group 7", l.name());
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link show group")]
    pub fn links_in_group(&self, group: impl Into<LinkGroup>) -> Result<Vec<Link>> {
        let group = group.into();
        let mut req = LinkMessage::default();
        req.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let decode = |h: &_, payload: &[u8]| {
            Ok(parse::decode_link(h, payload)?.filter(|l: &Link| l.group() == group))
        };
        self.dump_with(Op::ListLinks, RouteNetlinkMessage::GetLink(req), &decode)
    }

    /// Deletes every device of a group with one request, like
    /// `ip link delete group N`: far faster than deleting them one by one,
    /// because the kernel unregisters them as one batch (one set of RCU
    /// grace periods for all, instead of one per device). Deleting one end
    /// of a veth pair deletes the other, as always.
    ///
    /// All or nothing: when a device of the group cannot be deleted (`lo`,
    /// a physical NIC), the kernel refuses before deleting any.
    ///
    /// Kernel: `RTM_DELLINK` with `IFLA_GROUP` and neither index nor name
    /// (rtnetlink(7); ip-link(8) `delete group`). Needs `CAP_NET_ADMIN`.
    /// Measured on the development VM (`cargo bench --bench groups`): 200
    /// veth pairs in ~66 ms, as `ip -batch` takes for `link delete group`,
    /// where 200 [`delete_link`](RouteSocket::delete_link) calls take
    /// ~3.9 s (and 200 `RTM_DELLINK` in one datagram as long).
    ///
    /// # Errors
    /// - [`Error::InvalidArgument`] for [`LinkGroup::DEFAULT`], before
    ///   anything is sent: group 0 holds every device nobody grouped, and
    ///   the kernel refuses to delete it;
    /// - [`Error::NotFound`] with `ENODEV`, the kernel's answer, when no
    ///   device is in the group ([`Error::is_not_found`]);
    /// - [`Error::Os`] with `EOPNOTSUPP` when a device of the group cannot
    ///   be deleted (nothing was deleted then).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_group("veth0", 7)?;
    /// nl.set_group("veth1", 7)?;
    /// nl.delete_group(7)?;
    /// assert!(nl.delete_group(7).unwrap_err().is_not_found());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link delete group")]
    pub fn delete_group(&self, group: impl Into<LinkGroup>) -> Result<()> {
        let group = group.into();
        let object = group_object(group);
        if group == LinkGroup::DEFAULT {
            return Err(Error::InvalidArgument {
                op: Op::DeleteLinkGroup,
                object,
                detail: "group 0 (default) holds every device not put in another group; \
                         the kernel refuses to delete it"
                    .into(),
            });
        }
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::Group(group.value()));
        self.request(Op::DeleteLinkGroup, || object, RouteNetlinkMessage::DelLink(msg), 0).map(drop)
    }
}

/// The failing object of a group operation: `group 7`.
fn group_object(group: LinkGroup) -> Object {
    Object::value(ObjectKind::Link, group.value())
}
