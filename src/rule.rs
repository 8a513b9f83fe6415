//! Policy routing rules (`ip rule`, `RTM_NEWRULE`/`RTM_DELRULE`/
//! `RTM_GETRULE` of rtnetlink(7)): which routing table a packet is looked
//! up in, chosen by its source and destination, input and output device,
//! firewall mark, and the rules' priorities, as ip-rule(8) describes them.
//!
//! A [`Rule`] is built like ip-rule(8)'s command line and is what
//! [`RouteSocket::rules`] lists; its [`action`](Rule::action) says what a
//! match does ([`RuleAction`]: look up a table, jump, or drop).
//!
//! The kernel accepts a rule naming a table that holds no route (a table
//! exists once it is named): a lookup there finds nothing and goes on with
//! the next rule. A rule whose `goto` target priority has no rule is kept
//! and marked unresolved ([`RuleFlags::Unresolved`]); a rule naming a
//! device that does not exist (yet) is kept and matches nothing until the
//! device appears ([`RuleFlags::IifDetached`], [`RuleFlags::OifDetached`]).

use std::fmt;
use std::str::FromStr;

use netlink_packet_core::{DefaultNla, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::rule::{RuleAttribute, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::addr::IpNet;
use crate::error::{Error, NameError, NameKind, Object, ObjectKind, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::RouteSocket;
use crate::route::{KeywordKind, ParseKeywordError, RouteProtocol, RouteTable, parse_number};

/// The flags of a rule (`struct fib_rule_hdr`'s `flags`, `FIB_RULE_*` in
/// rtnetlink(7)): [`RuleFlags::Invert`] (`not`) is the one a request sets;
/// the kernel reports [`RuleFlags::Unresolved`] (a `goto` without target)
/// and [`RuleFlags::IifDetached`]/[`RuleFlags::OifDetached`] (the named
/// device does not exist). This is netlink-packet-route's type.
///
/// ```
/// use nslink::rule::RuleFlags;
///
/// assert_eq!(RuleFlags::Invert.bits(), 2);
/// ```
pub use netlink_packet_route::rule::RuleFlags;

/// The `FRA_IIFNAME` and `FRA_OIFNAME` attribute numbers (linux/fib_rules.h).
const FRA_IIFNAME: u16 = 3;
const FRA_OIFNAME: u16 = 17;

/// An address family of routes and rules: IPv4 (`inet`, `ip -4`) or IPv6
/// (`inet6`, `ip -6`).
///
/// ```
/// use nslink::rule::IpFamily;
///
/// assert_eq!("inet6".parse::<IpFamily>()?, IpFamily::V6);
/// assert_eq!("4".parse::<IpFamily>()?, IpFamily::V4);
/// assert_eq!(IpFamily::V4.to_string(), "inet");
/// assert_eq!(IpFamily::of(&"fd00::1".parse().unwrap()), IpFamily::V6);
/// # Ok::<(), nslink::route::ParseKeywordError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpFamily {
    /// IPv4 (`AF_INET`).
    V4,
    /// IPv6 (`AF_INET6`).
    V6,
}

impl IpFamily {
    /// The words [`FromStr`] accepts.
    pub(crate) const WORDS: &'static [&'static str] = &["inet", "inet6", "4", "6"];

    /// The family of an address.
    ///
    /// ```
    /// use nslink::rule::IpFamily;
    ///
    /// assert_eq!(IpFamily::of(&"10.0.0.1".parse().unwrap()), IpFamily::V4);
    /// ```
    pub fn of(addr: &std::net::IpAddr) -> IpFamily {
        if addr.is_ipv4() { IpFamily::V4 } else { IpFamily::V6 }
    }

    fn of_net(net: &IpNet) -> IpFamily {
        if net.is_ipv4() { IpFamily::V4 } else { IpFamily::V6 }
    }

    fn netlink(self) -> AddressFamily {
        match self {
            IpFamily::V4 => AddressFamily::Inet,
            IpFamily::V6 => AddressFamily::Inet6,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            IpFamily::V4 => "inet",
            IpFamily::V6 => "inet6",
        })
    }
}

impl FromStr for IpFamily {
    type Err = ParseKeywordError;
    /// Parses `inet`, `inet6`, `ipv4`, `ipv6`, `4` or `6` (any case).
    fn from_str(s: &str) -> std::result::Result<IpFamily, ParseKeywordError> {
        match s.to_ascii_lowercase().as_str() {
            "inet" | "ipv4" | "4" => Ok(IpFamily::V4),
            "inet6" | "ipv6" | "6" => Ok(IpFamily::V6),
            _ => Err(ParseKeywordError::new(KeywordKind::IpFamily, s)),
        }
    }
}

/// What a matching rule does (`fib_rule_hdr`'s `action`, the `FR_ACT_*`
/// values, with the table or target the action needs).
///
/// Its text is ip-rule(8)'s: `lookup TABLE` (also `table TABLE`),
/// `goto PRIORITY`, `nop`, `blackhole`, `unreachable`, `prohibit`.
///
/// ```
/// use nslink::rule::RuleAction;
/// use nslink::RouteTable;
///
/// assert_eq!("lookup 100".parse::<RuleAction>()?, RuleAction::Lookup(RouteTable::Id(100)));
/// assert_eq!("table main".parse::<RuleAction>()?, RuleAction::Lookup(RouteTable::Main));
/// assert_eq!("goto 500".parse::<RuleAction>()?, RuleAction::Goto(500));
/// assert_eq!("prohibit".parse::<RuleAction>()?, RuleAction::Prohibit);
/// assert_eq!(RuleAction::Lookup(RouteTable::Local).to_string(), "lookup local");
/// assert!("lookup".parse::<RuleAction>().is_err());
/// # Ok::<(), nslink::route::ParseKeywordError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleAction {
    /// `FR_ACT_TO_TBL`: look the packet up in this table; if no route
    /// there matches (or a `throw` route does), go on with the next rule.
    Lookup(RouteTable),
    /// `FR_ACT_GOTO` with `FRA_GOTO`: go on with the rule of this priority
    /// (which must be higher than the rule's own).
    Goto(u32),
    /// `FR_ACT_NOP`: do nothing, go on with the next rule.
    Nop,
    /// `FR_ACT_BLACKHOLE`: drop the packet silently.
    Blackhole,
    /// `FR_ACT_UNREACHABLE`: drop it with "network unreachable"
    /// (`ENETUNREACH` for local senders).
    Unreachable,
    /// `FR_ACT_PROHIBIT`: drop it with "communication administratively
    /// prohibited" (`EACCES`).
    Prohibit,
    /// An action value without a name here.
    Other(u8),
}

impl RuleAction {
    pub(crate) const WORDS: &'static [&'static str] =
        &["lookup TABLE", "goto PRIORITY", "nop", "blackhole", "unreachable", "prohibit"];

    /// The kernel's `FR_ACT_*` number.
    ///
    /// ```
    /// use nslink::rule::RuleAction;
    ///
    /// assert_eq!(RuleAction::Blackhole.value(), 6);
    /// assert_eq!(RuleAction::Goto(10).value(), 2);
    /// ```
    pub fn value(self) -> u8 {
        match self {
            RuleAction::Lookup(_) => 1,
            RuleAction::Goto(_) => 2,
            RuleAction::Nop => 3,
            RuleAction::Blackhole => 6,
            RuleAction::Unreachable => 7,
            RuleAction::Prohibit => 8,
            RuleAction::Other(v) => v,
        }
    }
}

impl fmt::Display for RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleAction::Lookup(t) => f.pad(&format!("lookup {t}")),
            RuleAction::Goto(p) => f.pad(&format!("goto {p}")),
            RuleAction::Nop => f.pad("nop"),
            RuleAction::Blackhole => f.pad("blackhole"),
            RuleAction::Unreachable => f.pad("unreachable"),
            RuleAction::Prohibit => f.pad("prohibit"),
            RuleAction::Other(v) => f.pad(&format!("action {v}")),
        }
    }
}

impl FromStr for RuleAction {
    type Err = ParseKeywordError;
    /// Parses ip-rule(8)'s words: `lookup TABLE`, `table TABLE`,
    /// `goto PRIORITY`, `nop`, `blackhole`, `unreachable`, `prohibit`.
    fn from_str(s: &str) -> std::result::Result<RuleAction, ParseKeywordError> {
        let bad = || ParseKeywordError::new(KeywordKind::RuleAction, s);
        let mut words = s.split_ascii_whitespace();
        let (Some(first), arg, None) = (words.next(), words.next(), words.next()) else {
            return Err(bad());
        };
        let first = first.to_ascii_lowercase();
        match (first.as_str(), arg) {
            ("lookup" | "table", Some(t)) => {
                t.parse::<RouteTable>().map(RuleAction::Lookup).map_err(|_| bad())
            }
            ("goto", Some(p)) => parse_number::<u32>(p).map(RuleAction::Goto).ok_or_else(bad),
            ("nop", None) => Ok(RuleAction::Nop),
            ("blackhole", None) => Ok(RuleAction::Blackhole),
            ("unreachable", None) => Ok(RuleAction::Unreachable),
            ("prohibit", None) => Ok(RuleAction::Prohibit),
            _ => Err(bad()),
        }
    }
}

/// An interface name given to [`Rule::iif`] or [`Rule::oif`] that is not
/// valid, kept until the rule is used so the chain needs no `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BadName {
    Name { kind: NameKind, input: Vec<u8>, reason: NameError },
    Other(String),
}

/// A policy routing rule (ip-rule(8)): what to add or delete, and what
/// [`RouteSocket::rules`] lists.
///
/// Built from [`Rule::lookup`] (or [`Rule::new`] with any
/// [`RuleAction`]) and refined with the chained setters, like `ip rule
/// add`'s words. The family is IPv4 unless [`from`](Rule::from) or
/// [`to`](Rule::to) is an IPv6 prefix or [`family`](Rule::family) says so.
/// Unset selectors match everything (`from all`); an unset priority is
/// chosen by the kernel on add (just below the first rule after priority
/// 0) and matches any on delete.
///
/// ```no_run
/// use nslink::rule::{Rule, RuleAction};
/// use nslink::{RouteSocket, RouteTable};
///
/// let nl = RouteSocket::open()?;
/// // ip rule add from 10.244.1.0/24 lookup 100 priority 100
/// nl.add_rule(&Rule::lookup(RouteTable::Id(100)).from("10.244.1.0/24".parse()?).priority(100))?;
/// // ip rule add fwmark 0x10/0xff iif eth0 prohibit priority 200
/// nl.add_rule(&Rule::new(RuleAction::Prohibit).fwmark_mask(0x10, 0xff).iif("eth0").priority(200))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a rule does nothing until it is passed to add_rule or delete_rule"]
pub struct Rule {
    /// IPv4 or IPv6.
    pub family: IpFamily,
    /// The priority (`priority`, `pref`, `FRA_PRIORITY`): rules are tried
    /// from the lowest.
    pub priority: Option<u32>,
    /// The source prefix (`from`, `FRA_SRC`); `None` is `from all`.
    pub from: Option<IpNet>,
    /// The destination prefix (`to`, `FRA_DST`).
    pub to: Option<IpNet>,
    /// The input device (`iif`, `FRA_IIFNAME`); `lo` matches packets of
    /// this host.
    pub iif: Option<IfName>,
    /// The output device (`oif`, `FRA_OIFNAME`), for sockets bound to it.
    pub oif: Option<IfName>,
    /// The firewall mark (`fwmark`, `FRA_FWMARK`).
    pub fwmark: Option<u32>,
    /// The mask the mark is compared under (`fwmark MARK/MASK`,
    /// `FRA_FWMASK`); `None` compares every bit.
    pub fwmask: Option<u32>,
    /// What a match does.
    pub action: RuleAction,
    /// The flags: [`RuleFlags::Invert`] (`not`: the rule matches what its
    /// selectors do not) on request; the kernel also reports
    /// [`RuleFlags::Unresolved`] and the detached flags.
    pub flags: RuleFlags,
    /// Who installed it (`protocol`, `FRA_PROTOCOL`). `None` leaves it
    /// unset (`unspec`) on add and matches any on delete.
    pub protocol: Option<RouteProtocol>,
    /// Ignore a lookup result whose prefix is this long or shorter
    /// (`suppress_prefixlength`, `FRA_SUPPRESS_PREFIXLEN`).
    pub suppress_prefix_len: Option<u32>,
    bad_name: Option<BadName>,
}

impl Rule {
    /// An IPv4 rule that matches everything and does `action`.
    ///
    /// ```
    /// use nslink::rule::{IpFamily, Rule, RuleAction};
    ///
    /// let r = Rule::new(RuleAction::Blackhole);
    /// assert_eq!((r.family, r.from, r.priority), (IpFamily::V4, None, None));
    /// ```
    pub fn new(action: RuleAction) -> Rule {
        Rule {
            family: IpFamily::V4,
            priority: None,
            from: None,
            to: None,
            iif: None,
            oif: None,
            fwmark: None,
            fwmask: None,
            action,
            flags: RuleFlags::empty(),
            protocol: None,
            suppress_prefix_len: None,
            bad_name: None,
        }
    }

    /// A rule that looks packets up in `table` (`ip rule add … lookup
    /// TABLE`).
    ///
    /// ```
    /// use nslink::rule::{Rule, RuleAction};
    /// use nslink::RouteTable;
    ///
    /// assert_eq!(Rule::lookup(RouteTable::Id(7)).action, RuleAction::Lookup(RouteTable::Id(7)));
    /// ```
    pub fn lookup(table: RouteTable) -> Rule {
        Rule::new(RuleAction::Lookup(table))
    }

    /// Sets the family (`ip -4 rule`, `ip -6 rule`).
    ///
    /// ```
    /// use nslink::rule::{IpFamily, Rule};
    ///
    /// assert_eq!(Rule::lookup(nslink::RouteTable::Main).family(IpFamily::V6).family, IpFamily::V6);
    /// ```
    pub fn family(mut self, family: IpFamily) -> Rule {
        self.family = family;
        self
    }

    /// Sets the priority (`priority`, `pref`).
    ///
    /// ```
    /// assert_eq!(nslink::rule::Rule::lookup(nslink::RouteTable::Main).priority(5).priority, Some(5));
    /// ```
    pub fn priority(mut self, priority: u32) -> Rule {
        self.priority = Some(priority);
        self
    }

    /// Matches packets from `net` (`from PREFIX`); sets the family to
    /// `net`'s. Host bits are cleared.
    ///
    /// ```
    /// use nslink::rule::{IpFamily, Rule};
    ///
    /// let r = Rule::lookup(nslink::RouteTable::Main).from("fd00::1/64".parse()?);
    /// assert_eq!(r.family, IpFamily::V6);
    /// assert_eq!(r.from.unwrap().to_string(), "fd00::/64");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn from(mut self, net: IpNet) -> Rule {
        self.family = IpFamily::of_net(&net);
        self.from = Some(net.network());
        self
    }

    /// Matches packets to `net` (`to PREFIX`); sets the family to `net`'s.
    /// Host bits are cleared.
    ///
    /// ```
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).to("10.0.0.0/8".parse()?);
    /// assert!(r.to.is_some());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn to(mut self, net: IpNet) -> Rule {
        self.family = IpFamily::of_net(&net);
        self.to = Some(net.network());
        self
    }

    fn name(&mut self, name: impl IntoIfName) -> Option<IfName> {
        match name.into_ifname() {
            Ok(n) => Some(n),
            Err(Error::InvalidName { kind, input, reason }) => {
                self.bad_name = Some(BadName::Name { kind, input, reason });
                None
            }
            Err(e) => {
                self.bad_name = Some(BadName::Other(e.to_string()));
                None
            }
        }
    }

    /// Matches packets arriving on `dev` (`iif DEV`). The device need not
    /// exist. An invalid name is reported by [`add_rule`](RouteSocket::add_rule)
    /// and [`delete_rule`](RouteSocket::delete_rule) ([`Error::InvalidName`]).
    ///
    /// ```
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).iif("eth0");
    /// assert_eq!(r.iif.unwrap().to_string(), "eth0");
    /// ```
    pub fn iif(mut self, dev: impl IntoIfName) -> Rule {
        self.iif = self.name(dev);
        self
    }

    /// Matches packets leaving by `dev` (`oif DEV`, sockets bound to the
    /// device). As [`iif`](Rule::iif) for a name that is not valid.
    ///
    /// ```
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).oif("eth1");
    /// assert!(r.oif.is_some());
    /// ```
    pub fn oif(mut self, dev: impl IntoIfName) -> Rule {
        self.oif = self.name(dev);
        self
    }

    /// Matches packets with firewall mark `mark` (`fwmark MARK`).
    ///
    /// ```
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).fwmark(0x10);
    /// assert_eq!((r.fwmark, r.fwmask), (Some(0x10), None));
    /// ```
    pub fn fwmark(mut self, mark: u32) -> Rule {
        self.fwmark = Some(mark);
        self.fwmask = None;
        self
    }

    /// Matches packets whose mark, masked with `mask`, is `mark`
    /// (`fwmark MARK/MASK`).
    ///
    /// ```
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).fwmark_mask(0x10, 0xff);
    /// assert_eq!((r.fwmark, r.fwmask), (Some(0x10), Some(0xff)));
    /// ```
    pub fn fwmark_mask(mut self, mark: u32, mask: u32) -> Rule {
        self.fwmark = Some(mark);
        self.fwmask = if mask == u32::MAX { None } else { Some(mask) };
        self
    }

    /// Inverts the selectors (`not`): the rule matches the packets they do
    /// not.
    ///
    /// ```
    /// use nslink::rule::{Rule, RuleFlags};
    ///
    /// assert!(Rule::lookup(nslink::RouteTable::Main).invert().flags.contains(RuleFlags::Invert));
    /// ```
    #[doc(alias = "not")]
    pub fn invert(mut self) -> Rule {
        self.flags |= RuleFlags::Invert;
        self
    }

    /// Sets what a match does.
    ///
    /// ```
    /// use nslink::rule::{Rule, RuleAction};
    ///
    /// let r = Rule::lookup(nslink::RouteTable::Main).action(RuleAction::Goto(300));
    /// assert_eq!(r.action, RuleAction::Goto(300));
    /// ```
    pub fn action(mut self, action: RuleAction) -> Rule {
        self.action = action;
        self
    }

    /// Sets the protocol (`protocol`).
    ///
    /// ```
    /// use nslink::RouteProtocol;
    ///
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).protocol(RouteProtocol::Static);
    /// assert_eq!(r.protocol, Some(RouteProtocol::Static));
    /// ```
    pub fn protocol(mut self, protocol: RouteProtocol) -> Rule {
        self.protocol = Some(protocol);
        self
    }

    /// Ignores lookup results with a prefix of `len` bits or fewer
    /// (`suppress_prefixlength LEN`; 0 ignores default routes).
    ///
    /// ```
    /// let r = nslink::rule::Rule::lookup(nslink::RouteTable::Main).suppress_prefix_len(0);
    /// assert_eq!(r.suppress_prefix_len, Some(0));
    /// ```
    pub fn suppress_prefix_len(mut self, len: u32) -> Rule {
        self.suppress_prefix_len = Some(len);
        self
    }

    /// How the rule is named in errors: its `ip rule` words.
    fn object(&self) -> Object {
        Object::value(ObjectKind::Other, self)
    }

    pub(crate) fn message(&self, op: Op) -> Result<RuleMessage> {
        match &self.bad_name {
            None => {}
            Some(BadName::Name { kind, input, reason }) => {
                return Err(Error::InvalidName {
                    kind: *kind,
                    input: input.clone(),
                    reason: *reason,
                });
            }
            Some(BadName::Other(detail)) => {
                return Err(Error::InvalidArgument {
                    op,
                    object: self.object(),
                    detail: format!("bad device: {detail}"),
                });
            }
        }
        for (word, net) in [("from", self.from), ("to", self.to)] {
            if let Some(net) = net
                && IpFamily::of_net(&net) != self.family
            {
                return Err(Error::InvalidArgument {
                    op,
                    object: self.object(),
                    detail: format!("{word} {net} is not of the rule's family ({})", self.family),
                });
            }
        }
        let mut m = RuleMessage::default();
        m.header.family = self.family.netlink();
        m.header.action = self.action.value().into();
        // Only `not` is the caller's to set; the other bits are the kernel's.
        m.header.flags = self.flags & RuleFlags::Invert;
        if let Some(p) = self.priority {
            m.attributes.push(RuleAttribute::Priority(p));
        }
        if let Some(net) = self.from {
            m.header.src_len = net.prefix_len();
            if net.prefix_len() > 0 {
                m.attributes.push(RuleAttribute::Source(net.addr()));
            }
        }
        if let Some(net) = self.to {
            m.header.dst_len = net.prefix_len();
            if net.prefix_len() > 0 {
                m.attributes.push(RuleAttribute::Destination(net.addr()));
            }
        }
        for (kind, name) in [(FRA_IIFNAME, &self.iif), (FRA_OIFNAME, &self.oif)] {
            if let Some(name) = name {
                let mut value = name.as_bytes().to_vec();
                value.push(0);
                m.attributes.push(RuleAttribute::Other(DefaultNla::new(kind, value)));
            }
        }
        if let Some(mark) = self.fwmark {
            m.attributes.push(RuleAttribute::FwMark(mark));
            m.attributes.push(RuleAttribute::FwMask(self.fwmask.unwrap_or(u32::MAX)));
        } else if let Some(mask) = self.fwmask {
            m.attributes.push(RuleAttribute::FwMask(mask));
        }
        match self.action {
            RuleAction::Lookup(t) => {
                let id = t.id();
                // Tables above 255 travel in FRA_TABLE only, as for routes.
                m.header.table = u8::try_from(id).unwrap_or(0);
                m.attributes.push(RuleAttribute::Table(id));
            }
            RuleAction::Goto(target) => m.attributes.push(RuleAttribute::Goto(target)),
            _ => {}
        }
        if let Some(p) = self.protocol {
            m.attributes.push(RuleAttribute::Protocol(p.into()));
        }
        if let Some(len) = self.suppress_prefix_len {
            m.attributes.push(RuleAttribute::SuppressPrefixLen(len));
        }
        Ok(m)
    }

    pub(crate) fn from_message(m: RuleMessage) -> Option<Rule> {
        let family = match m.header.family {
            AddressFamily::Inet => IpFamily::V4,
            AddressFamily::Inet6 => IpFamily::V6,
            _ => return None,
        };
        let zero = match family {
            IpFamily::V4 => std::net::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED),
            IpFamily::V6 => std::net::IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED),
        };
        let mut rule = Rule::new(RuleAction::Other(0)).family(family);
        rule.flags = m.header.flags;
        // The kernel leaves FRA_PRIORITY out for priority 0.
        rule.priority = Some(0);
        let mut table = u32::from(m.header.table);
        let mut goto = None;
        let (mut src, mut dst) = (None, None);
        for a in m.attributes {
            match a {
                RuleAttribute::Priority(p) => rule.priority = Some(p),
                RuleAttribute::Source(ip) => src = Some(ip),
                RuleAttribute::Destination(ip) => dst = Some(ip),
                RuleAttribute::Iifname(n) => rule.iif = IfName::new(&n).ok(),
                RuleAttribute::Oifname(n) => rule.oif = IfName::new(&n).ok(),
                RuleAttribute::FwMark(v) => rule.fwmark = Some(v),
                RuleAttribute::FwMask(v) => rule.fwmask = Some(v),
                RuleAttribute::Table(t) => table = t,
                RuleAttribute::Goto(g) => goto = Some(g),
                RuleAttribute::Protocol(p) => rule.protocol = Some(u8::from(p).into()),
                RuleAttribute::SuppressPrefixLen(len) => rule.suppress_prefix_len = Some(len),
                _ => {}
            }
        }
        // The kernel reports the mask with every mark (all ones when none
        // was given); all ones reads as "no mask", as it is written.
        if rule.fwmask == Some(u32::MAX) || (rule.fwmark.is_none() && rule.fwmask == Some(0)) {
            rule.fwmask = None;
        }
        // A prefix length of 0 matches every address, whatever FRA_SRC says
        // (the kernel sends none then): `from all`.
        if m.header.src_len > 0 {
            rule.from = IpNet::new(src.unwrap_or(zero), m.header.src_len).ok();
        }
        if m.header.dst_len > 0 {
            rule.to = IpNet::new(dst.unwrap_or(zero), m.header.dst_len).ok();
        }
        // The kernel reports an unset suppress_prefixlength as -1 (all ones).
        if rule.suppress_prefix_len == Some(u32::MAX) {
            rule.suppress_prefix_len = None;
        }
        rule.action = match u8::from(m.header.action) {
            1 => RuleAction::Lookup(RouteTable::from(table)),
            2 => RuleAction::Goto(goto.unwrap_or(0)),
            3 => RuleAction::Nop,
            6 => RuleAction::Blackhole,
            7 => RuleAction::Unreachable,
            8 => RuleAction::Prohibit,
            v => RuleAction::Other(v),
        };
        Some(rule)
    }
}

/// ip-rule(8)'s words for the rule: `100: not from 10.0.0.0/8 iif eth0
/// fwmark 0x10/0xff lookup 100`.
///
/// ```
/// use nslink::rule::Rule;
/// use nslink::RouteTable;
///
/// let r = Rule::lookup(RouteTable::Id(100)).from("10.0.0.0/8".parse()?).fwmark(0x10).priority(100);
/// assert_eq!(r.to_string(), "100: from 10.0.0.0/8 fwmark 0x10 lookup 100");
/// assert_eq!(Rule::lookup(RouteTable::Main).to_string(), "from all lookup main");
/// # Ok::<(), nslink::Error>(())
/// ```
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = Vec::new();
        if let Some(p) = self.priority {
            w.push(format!("{p}:"));
        }
        if self.flags.contains(RuleFlags::Invert) {
            w.push("not".to_owned());
        }
        match self.from {
            Some(n) => w.push(format!("from {n}")),
            None => w.push("from all".to_owned()),
        }
        if let Some(n) = self.to {
            w.push(format!("to {n}"));
        }
        if let Some(m) = self.fwmark {
            match self.fwmask {
                Some(mask) => w.push(format!("fwmark {m:#x}/{mask:#x}")),
                None => w.push(format!("fwmark {m:#x}")),
            }
        }
        if let Some(n) = &self.iif {
            w.push(format!("iif {n}"));
        }
        if let Some(n) = &self.oif {
            w.push(format!("oif {n}"));
        }
        w.push(self.action.to_string());
        if let Some(len) = self.suppress_prefix_len {
            w.push(format!("suppress_prefixlength {len}"));
        }
        if let Some(p) = self.protocol {
            w.push(format!("proto {p}"));
        }
        f.pad(&w.join(" "))
    }
}

impl RouteSocket {
    /// Adds a policy rule, like `ip rule add …`.
    ///
    /// Kernel: `RTM_NEWRULE` with `NLM_F_CREATE|NLM_F_EXCL`: a
    /// `fib_rule_hdr` (family, prefix lengths, action, `FIB_RULE_INVERT`)
    /// and `FRA_PRIORITY`, `FRA_SRC`, `FRA_DST`, `FRA_IIFNAME`,
    /// `FRA_OIFNAME`, `FRA_FWMARK`/`FRA_FWMASK`, `FRA_TABLE`, `FRA_GOTO`,
    /// `FRA_PROTOCOL`, `FRA_SUPPRESS_PREFIXLEN` as set (rtnetlink(7);
    /// ip-rule(8) `add`). Needs `CAP_NET_ADMIN`. The kernel accepts a table
    /// that has no routes (the lookup there finds nothing and the next rule
    /// is tried), a device that does not exist, and a `goto` target that
    /// has no rule (the rule is then unresolved).
    ///
    /// # Errors
    /// [`Error::Os`] with `EEXIST` for an identical rule, `EINVAL` for a
    /// `goto` to a priority not above the rule's own (with the kernel's
    /// message); [`Error::InvalidArgument`] for a `from`/`to` of another
    /// family than the rule's; [`Error::InvalidName`] for an invalid
    /// device name given to [`Rule::iif`] or [`Rule::oif`].
    ///
    /// ```no_run
    /// use nslink::rule::Rule;
    /// use nslink::RouteTable;
    ///
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_rule(&Rule::lookup(RouteTable::Id(100)).to("10.96.0.0/12".parse()?).priority(1000))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "ip rule add")]
    #[doc(alias = "RTM_NEWRULE")]
    pub fn add_rule(&self, rule: &Rule) -> Result<()> {
        let op = Op::AddRule;
        let m = rule.message(op)?;
        self.request(
            op,
            || rule.object(),
            RouteNetlinkMessage::NewRule(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Deletes the first rule that matches `rule`, like `ip rule del …`:
    /// every selector set must match (an unset priority, protocol, device
    /// or prefix matches any); a rule from [`rules`](RouteSocket::rules)
    /// matches itself.
    ///
    /// Kernel: `RTM_DELRULE` with the header and attributes of
    /// [`add_rule`](RouteSocket::add_rule) (rtnetlink(7); ip-rule(8)
    /// `delete`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::NotFound`] (the kernel's `ENOENT`) when no rule matches;
    /// [`Error::InvalidArgument`] and [`Error::InvalidName`] as for
    /// [`add_rule`](RouteSocket::add_rule).
    ///
    /// ```no_run
    /// use nslink::rule::Rule;
    /// use nslink::RouteTable;
    ///
    /// let nl = nslink::RouteSocket::open()?;
    /// match nl.delete_rule(&Rule::lookup(RouteTable::Id(100)).priority(1000)) {
    ///     Err(e) if e.is_not_found() => println!("no such rule"),
    ///     r => r?,
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip rule del")]
    #[doc(alias = "RTM_DELRULE")]
    pub fn delete_rule(&self, rule: &Rule) -> Result<()> {
        let op = Op::DeleteRule;
        let m = rule.message(op)?;
        self.request(op, || rule.object(), RouteNetlinkMessage::DelRule(m), 0).map(drop)
    }

    /// Every IPv4 and IPv6 rule, in priority order per family, like
    /// `ip rule show` plus `ip -6 rule show`.
    ///
    /// Kernel: two `RTM_GETRULE` dumps, `AF_INET` then `AF_INET6`
    /// (rtnetlink(7); ip-rule(8) `show`). No privilege.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for rule in nslink::RouteSocket::open()?.rules()? {
    ///     println!("{rule}");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip rule show")]
    #[doc(alias = "RTM_GETRULE")]
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let mut out = Vec::new();
        for family in [IpFamily::V4, IpFamily::V6] {
            let mut m = RuleMessage::default();
            m.header.family = family.netlink();
            for r in self.dump(Op::ListRules, RouteNetlinkMessage::GetRule(m))? {
                if let RouteNetlinkMessage::NewRule(r) = r
                    && let Some(rule) = Rule::from_message(r)
                {
                    out.push(rule);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_and_print_like_ip_rule() {
        for a in [
            RuleAction::Lookup(RouteTable::Main),
            RuleAction::Lookup(RouteTable::Id(1000)),
            RuleAction::Goto(7),
            RuleAction::Nop,
            RuleAction::Blackhole,
            RuleAction::Unreachable,
            RuleAction::Prohibit,
        ] {
            assert_eq!(a.to_string().parse::<RuleAction>().unwrap(), a);
        }
        for bad in ["", "lookup", "goto x", "lookup main extra", "drop", "table mian"] {
            let e = bad.parse::<RuleAction>().unwrap_err();
            assert_eq!((e.kind(), e.input()), (KeywordKind::RuleAction, bad));
        }
        assert_eq!(format!("[{:>9}]", RuleAction::Nop), "[      nop]");
    }

    #[test]
    fn a_message_round_trips() {
        let rule = Rule::lookup(RouteTable::Id(1000))
            .from("10.1.0.0/16".parse().unwrap())
            .to("10.2.0.0/16".parse().unwrap())
            .iif("a0")
            .oif("b0")
            .fwmark_mask(0x10, 0xff)
            .priority(5)
            .invert()
            .protocol(RouteProtocol::Static)
            .suppress_prefix_len(0);
        let m = rule.message(Op::AddRule).unwrap();
        // What the kernel sends back has the names as strings.
        let mut back = m.clone();
        for a in &mut back.attributes {
            if let RuleAttribute::Other(nla) = a {
                use netlink_packet_core::Nla;
                let mut v = vec![0; nla.value_len()];
                nla.emit_value(&mut v);
                let s = String::from_utf8(v[..v.len() - 1].to_vec()).unwrap();
                *a = if nla.kind() == FRA_IIFNAME {
                    RuleAttribute::Iifname(s)
                } else {
                    RuleAttribute::Oifname(s)
                };
            }
        }
        assert_eq!(Rule::from_message(back).unwrap(), rule);
    }

    #[test]
    fn bad_input_is_refused_before_sending() {
        let e = Rule::lookup(RouteTable::Main)
            .from("10.0.0.0/8".parse().unwrap())
            .to("fd00::/8".parse().unwrap())
            .message(Op::AddRule)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        let e = Rule::lookup(RouteTable::Main).iif("a name far too long").message(Op::AddRule);
        assert!(e.unwrap_err().is_invalid_name());
    }
}
