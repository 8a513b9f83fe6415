//! Namespace ids (`RTM_NEWNSID`/`RTM_GETNSID` of rtnetlink(7);
//! `ip netns set`, `ip netns list-id` of ip-netns(8)).
//!
//! A namespace names the other namespaces it knows by small numbers, its
//! *nsids*. They are local: namespace A may call B `3` while C calls B `0`.
//! The kernel reports them where a message refers to another namespace,
//! most often in [`Link::link_netnsid`](crate::Link::link_netnsid) (the
//! namespace of a veth's peer), and assigns one itself when it first needs
//! to (creating a veth whose peer is elsewhere does); `ip netns set NAME
//! ID` assigns one by hand.
//!
//! Every method here answers *for the socket's namespace*: the id that
//! [`RouteSocket::netns`] gives the other namespace. To turn an id back
//! into a namespace, ask each candidate's id
//! ([`RouteSocket::netns_by_id`], or [`RouteSocket::netns_name_by_id`]
//! over the names of a [`NetnsDir`]): the kernel has no request that goes
//! from an id to a namespace file.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd};
use std::str::FromStr;

use netlink_packet_core::NLM_F_CREATE;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};

use crate::error::{Error, Object, Op, Result};
use crate::name::NsName;
use crate::netlink::RouteSocket;
use crate::netns::{NetNs, NetnsDir};
use crate::route::{KeywordKind, ParseKeywordError, parse_number};

/// The id to give a namespace (`ip netns set NAME ID|auto`).
///
/// ```
/// use nslink::NsidRequest;
///
/// assert_eq!("auto".parse::<NsidRequest>()?, NsidRequest::Auto);
/// assert_eq!("5".parse::<NsidRequest>()?, NsidRequest::Id(5));
/// assert!("-2".parse::<NsidRequest>().is_err());
/// assert!("2147483648".parse::<NsidRequest>().is_err());
/// assert_eq!(NsidRequest::Id(5).to_string(), "5");
/// # Ok::<(), nslink::route::ParseKeywordError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NsidRequest {
    /// The lowest free id (`auto`; `-1` to the kernel).
    Auto,
    /// This id (0 to 2³¹−1).
    Id(i32),
}

impl NsidRequest {
    pub(crate) const WORDS: &'static [&'static str] = &["auto"];
}

impl fmt::Display for NsidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NsidRequest::Auto => f.pad("auto"),
            NsidRequest::Id(id) => f.pad(&id.to_string()),
        }
    }
}

impl FromStr for NsidRequest {
    type Err = ParseKeywordError;
    /// Parses `auto` or a number from 0 to 2³¹−1.
    fn from_str(s: &str) -> std::result::Result<NsidRequest, ParseKeywordError> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(NsidRequest::Auto);
        }
        parse_number::<i32>(s)
            .map(NsidRequest::Id)
            .ok_or_else(|| ParseKeywordError::new(KeywordKind::Nsid, s))
    }
}

impl From<i32> for NsidRequest {
    /// A negative number is [`NsidRequest::Auto`]'s `-1` only when it is
    /// `-1`; other negative ids are refused when used.
    fn from(id: i32) -> NsidRequest {
        if id == -1 { NsidRequest::Auto } else { NsidRequest::Id(id) }
    }
}

/// One line of `ip netns list-id`: an id the socket's namespace uses, and
/// the name (in the [`NetnsDir`] asked) of the namespace it stands for.
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// for e in nl.netns_ids_named(&nslink::NetnsDir::default())? {
///     println!("nsid {} {}", e.nsid, e.name.as_ref().map_or("(unnamed)", |n| n.as_str()));
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NsidEntry {
    /// The id.
    pub nsid: i32,
    /// The namespace's name, when one of the directory's names is that
    /// namespace.
    pub name: Option<NsName>,
}

/// The `NETNSA_NSID` of a reply; -1 (`NETNSA_NSID_NOT_ASSIGNED`) is `None`.
pub(crate) fn nsid_of(m: &NsidMessage) -> Option<i32> {
    m.attributes.iter().find_map(|a| match a {
        NsidAttribute::Id(id) if *id >= 0 => Some(*id),
        _ => None,
    })
}

impl RouteSocket {
    /// Gives `ns` an id in the socket's namespace, like `ip netns set NAME
    /// ID` (or `auto`), and returns the id it got.
    ///
    /// Kernel: `RTM_NEWNSID` with `NETNSA_FD` (the namespace's descriptor)
    /// and `NETNSA_NSID` (`-1` for `auto`), then `RTM_GETNSID` for the id
    /// when the kernel chose it (rtnetlink(7); ip-netns(8) `set`). Needs
    /// `CAP_NET_ADMIN` over the socket's namespace. An id, once given,
    /// lasts as long as both namespaces; there is no request to take it
    /// back.
    ///
    /// # Errors
    /// [`Error::Os`] with `EEXIST` when `ns` has an id already ("Peer netns
    /// already has a nsid assigned") or the id is taken ("The specified
    /// nsid is already used"); [`Error::InvalidArgument`] for a negative id.
    ///
    /// ```no_run
    /// use nslink::{NetNs, NsidRequest, RouteSocket};
    ///
    /// let nl = RouteSocket::open()?;
    /// let pod = NetNs::open("pod1")?;
    /// let id = nl.set_netns_id(&pod, NsidRequest::Id(5))?; // ip netns set pod1 5
    /// assert_eq!(nl.netns_id(&pod)?, Some(id));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns set")]
    #[doc(alias = "RTM_NEWNSID")]
    pub fn set_netns_id(&self, ns: &NetNs, id: NsidRequest) -> Result<i32> {
        let op = Op::SetNetnsId;
        let object = || ns.object().with_detail(format!("to {id}"));
        let value = match id {
            NsidRequest::Auto => -1,
            NsidRequest::Id(v) if v >= 0 => v,
            NsidRequest::Id(v) => {
                return Err(Error::InvalidArgument {
                    op,
                    object: object(),
                    detail: format!("a namespace id is 0 to {}, not {v}", i32::MAX),
                });
            }
        };
        let mut m = NsidMessage::default();
        m.attributes.push(NsidAttribute::Fd(fd_of(ns)));
        m.attributes.push(NsidAttribute::Id(value));
        self.request(op, object, RouteNetlinkMessage::NewNsId(m), NLM_F_CREATE)?;
        match id {
            NsidRequest::Id(v) => Ok(v),
            NsidRequest::Auto => self.netns_id(ns)?.ok_or_else(|| Error::Protocol {
                op,
                kind: crate::error::ProtocolError::Malformed(
                    "the kernel gave the namespace no id".into(),
                ),
            }),
        }
    }

    /// The id the socket's namespace has for `ns`, or `None` when it has
    /// none (`ip netns list` shows it as `(id: N)`).
    ///
    /// Kernel: `RTM_GETNSID` with `NETNSA_FD`, answered by one
    /// `RTM_NEWNSID` whose `NETNSA_NSID` is `-1` when no id is assigned
    /// (rtnetlink(7)). No privilege; one round trip; assigns nothing.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pod = nslink::NetNs::open("pod1")?;
    /// println!("pod1 is {:?} here", nl.netns_id(&pod)?);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "RTM_GETNSID")]
    pub fn netns_id(&self, ns: &NetNs) -> Result<Option<i32>> {
        let mut m = NsidMessage::default();
        m.attributes.push(NsidAttribute::Fd(fd_of(ns)));
        self.get_nsid(m, || ns.object())
    }

    /// The id the socket's namespace has for the namespace of process
    /// `pid`, or `None`.
    ///
    /// Kernel: `RTM_GETNSID` with `NETNSA_PID` (rtnetlink(7)). No
    /// privilege; one round trip.
    ///
    /// # Errors
    /// [`Error::NotFound`] (the kernel's `ESRCH`) when there is no such
    /// process.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// println!("{:?}", nl.netns_id_of_pid(1)?);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns_id_of_pid(&self, pid: u32) -> Result<Option<i32>> {
        let mut m = NsidMessage::default();
        m.attributes.push(NsidAttribute::Pid(pid));
        self.get_nsid(m, || Object::pid(pid))
    }

    fn get_nsid(&self, m: NsidMessage, object: impl FnOnce() -> Object) -> Result<Option<i32>> {
        let op = Op::GetNetnsId;
        let replies = self.request(op, object, RouteNetlinkMessage::GetNsId(m), 0)?;
        let answers: Vec<&NsidMessage> = replies
            .iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewNsId(m) => Some(m),
                _ => None,
            })
            .collect();
        match answers.as_slice() {
            [m] => Ok(nsid_of(m)),
            other => Err(Error::Protocol {
                op,
                kind: crate::error::ProtocolError::ReplyCount(other.len()),
            }),
        }
    }

    /// Every id the socket's namespace has given, in increasing order
    /// (the ids of `ip netns list-id`, without names).
    ///
    /// Kernel: an `RTM_GETNSID` dump (rtnetlink(7)). No privilege.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// println!("{:?}", nslink::RouteSocket::open()?.netns_ids()?);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns list-id")]
    pub fn netns_ids(&self) -> Result<Vec<i32>> {
        let replies =
            self.dump(Op::ListNetnsIds, RouteNetlinkMessage::GetNsId(NsidMessage::default()))?;
        let mut ids: Vec<i32> = replies
            .iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewNsId(m) => nsid_of(m),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Which of `candidates` the socket's namespace calls `id`, if any:
    /// the way back from [`Link::link_netnsid`](crate::Link::link_netnsid)
    /// to a namespace.
    ///
    /// Kernel: [`netns_id`](RouteSocket::netns_id) for each candidate until
    /// one matches (one round trip each). No privilege.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// use nslink::{NetNs, RouteSocket};
    ///
    /// let nl = RouteSocket::open()?;
    /// let (a, b) = (NetNs::open("a")?, NetNs::open("b")?);
    /// let veth = nl.require_link("veth0")?;
    /// if let Some(id) = veth.link_netnsid() {
    ///     let peer_ns = nl.netns_by_id(id, [&a, &b])?;
    ///     println!("the peer is in {peer_ns:?}");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns_by_id<'a>(
        &self,
        id: i32,
        candidates: impl IntoIterator<Item = &'a NetNs>,
    ) -> Result<Option<&'a NetNs>> {
        for ns in candidates {
            if self.netns_id(ns)? == Some(id) {
                return Ok(Some(ns));
            }
        }
        Ok(None)
    }

    /// The name, in `dir`, of the namespace the socket's namespace calls
    /// `id`, if one of `dir`'s names is that namespace.
    ///
    /// Kernel: the names of `dir` (readdir(3)), each opened and asked for
    /// its id as by [`netns_id`](RouteSocket::netns_id), until one
    /// matches. No privilege beyond reading `dir`.
    ///
    /// # Errors
    /// As [`NetnsDir::list`] and [`netns_id`](RouteSocket::netns_id). A
    /// name that cannot be opened (a stale entry, one deleted meanwhile) is
    /// passed over.
    ///
    /// ```no_run
    /// use nslink::{NetnsDir, RouteSocket};
    ///
    /// let nl = RouteSocket::open()?;
    /// let veth = nl.require_link("veth0")?;
    /// if let Some(id) = veth.link_netnsid() {
    ///     println!("peer in {:?}", nl.netns_name_by_id(id, &NetnsDir::default())?);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns_name_by_id(&self, id: i32, dir: &NetnsDir) -> Result<Option<NsName>> {
        for (name, nsid) in dir.list_ids(self)? {
            if nsid == Some(id) {
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// Every id the socket's namespace has given, with the name in `dir`
    /// of the namespace it stands for, like `ip netns list-id`.
    ///
    /// Kernel: an `RTM_GETNSID` dump, then the id of each of `dir`'s names
    /// as by [`NetnsDir::list_ids`]. No privilege.
    ///
    /// # Errors
    /// As [`netns_ids`](RouteSocket::netns_ids) and [`NetnsDir::list_ids`].
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// for e in nl.netns_ids_named(&nslink::NetnsDir::default())? {
    ///     println!("nsid {} {:?}", e.nsid, e.name);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns list-id")]
    pub fn netns_ids_named(&self, dir: &NetnsDir) -> Result<Vec<NsidEntry>> {
        let ids = self.netns_ids()?;
        let names = if ids.is_empty() { Vec::new() } else { dir.list_ids(self)? };
        Ok(ids
            .into_iter()
            .map(|nsid| NsidEntry {
                nsid,
                name: names.iter().find(|(_, id)| *id == Some(nsid)).map(|(n, _)| n.clone()),
            })
            .collect())
    }
}

impl NetnsDir {
    /// Every name in the directory with the id `nl`'s namespace has for
    /// it, like `ip netns list` (which prints `NAME (id: N)`).
    ///
    /// Kernel: readdir(3) of the directory, then for each name an open(2)
    /// and [`RouteSocket::netns_id`] (one round trip each). No privilege
    /// beyond reading the directory and its entries.
    ///
    /// # Errors
    /// As [`list`](NetnsDir::list), and the exchange errors. A name that
    /// cannot be opened (a stale entry, one deleted meanwhile) is listed
    /// without an id.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// for (name, id) in nslink::NetnsDir::default().list_ids(&nl)? {
    ///     match id {
    ///         Some(id) => println!("{name} (id: {id})"),
    ///         None => println!("{name}"),
    ///     }
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns list")]
    pub fn list_ids(&self, nl: &RouteSocket) -> Result<Vec<(NsName, Option<i32>)>> {
        let mut out = Vec::new();
        for name in self.list()? {
            let id = match self.open(&name) {
                Ok(ns) => nl.netns_id(&ns)?,
                Err(_) => None,
            };
            out.push((name, id));
        }
        Ok(out)
    }
}

/// The descriptor of `ns` for `NETNSA_FD`; it stays open while `ns` is
/// borrowed, which covers the request.
fn fd_of(ns: &NetNs) -> u32 {
    // Descriptors are never negative.
    u32::try_from(ns.as_fd().as_raw_fd()).unwrap_or(u32::MAX)
}
