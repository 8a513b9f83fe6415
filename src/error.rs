//! The crate's one error type.
//!
//! Every failure says *what was attempted* ([`Op`]), *on which object* (a
//! namespace, a link, a path), and *what the kernel said*: the raw errno,
//! which stays matchable even when `nix` has no name for it, and the kernel's
//! extended-ack text when netlink sent one.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

pub use nix::errno::Errno;

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the caller asked for when an error happened.
///
/// The names describe the user's intent ("create namespace"), not the
/// system call that failed; the errno says which kernel rule refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Open a network namespace file (by name, path or pid).
    OpenNetns,
    /// Create an anonymous network namespace.
    CreateNetns,
    /// Create a named (persistent) network namespace, like `ip netns add`.
    CreateNamedNetns,
    /// Attach a process's namespace to a name, like `ip netns attach`.
    AttachNetns,
    /// Delete a named namespace, like `ip netns del`.
    DeleteNetns,
    /// Remove a stale (unmounted) entry from the namespace directory.
    RemoveStaleNetns,
    /// List named namespaces, like `ip netns list`.
    ListNetns,
    /// Find the names of a namespace, like `ip netns identify`.
    IdentifyNetns,
    /// Prepare the namespace run directory (`/run/netns`).
    PrepareNetnsDir,
    /// Move the calling thread into a namespace.
    EnterNetns,
    /// Run a closure on a thread inside a namespace.
    RunInNetns,
    /// Start a thread that lives inside a namespace.
    SpawnInNetns,
    /// Prepare a command to run inside a namespace (`ip netns exec`).
    PrepareCommand,
    /// Open a netlink socket.
    OpenNetlink,
    /// Send a netlink request.
    SendNetlink,
    /// Receive a netlink reply.
    ReceiveNetlink,
    /// A raw request sent through the escape hatch.
    RawRequest,
    /// List links (`ip link show`).
    ListLinks,
    /// Get one link (`ip link show DEV`).
    GetLink,
    /// Create a link (`ip link add`).
    CreateLink,
    /// Create a veth pair (`ip link add A type veth peer name B`).
    CreateVeth,
    /// Create a bridge (`ip link add BR type bridge`).
    CreateBridge,
    /// Delete a link (`ip link del`).
    DeleteLink,
    /// Change a link's attributes (`ip link set`).
    SetLink,
    /// Move a link to another namespace (`ip link set DEV netns NS`).
    MoveLink,
    /// Attach a link to a bridge or detach it (`ip link set DEV master BR`).
    SetMaster,
    /// Change bridge-port flags (`bridge link set`).
    SetBridgePort,
    /// Query a link's netns-local (netns-immutable) flag.
    QueryNetnsLocal,
    /// An ethtool ioctl (`ethtool -k`, `-i`, `-S`).
    Ethtool,
    /// Add an address (`ip addr add`).
    AddAddress,
    /// Delete an address (`ip addr del`).
    DeleteAddress,
    /// List addresses (`ip addr show`).
    ListAddresses,
    /// Add or replace a route (`ip route add/replace`).
    AddRoute,
    /// Delete a route (`ip route del`).
    DeleteRoute,
    /// List routes (`ip route show`).
    ListRoutes,
    /// List neighbours (`ip neigh show`).
    ListNeighbours,
    /// Add or replace a neighbour (`ip neigh replace`).
    AddNeighbour,
    /// Delete a neighbour (`ip neigh del`, `ip neigh flush`).
    DeleteNeighbour,
    /// Read a sysctl of a namespace.
    ReadSysctl,
    /// Write a sysctl of a namespace.
    WriteSysctl,
    /// Install the handlers that delete owned namespaces on a signal.
    InstallSignalCleanup,
    /// Ask the kernel which route it would use (`ip route get`).
    GetRoute,
    /// Add a policy rule (`ip rule add`).
    AddRule,
    /// Delete a policy rule (`ip rule del`).
    DeleteRule,
    /// List policy rules (`ip rule show`).
    ListRules,
    /// Give a namespace an id (`ip netns set NAME ID`).
    SetNetnsId,
    /// Get the id a namespace has for another.
    GetNetnsId,
    /// List the namespace ids (`ip netns list-id`).
    ListNetnsIds,
    /// List bridge/VXLAN forwarding entries (`bridge fdb show`).
    ListFdb,
    /// Add, replace or append a forwarding entry (`bridge fdb add`).
    AddFdbEntry,
    /// Delete a forwarding entry (`bridge fdb del`).
    DeleteFdbEntry,
    /// List the VLANs of bridge ports (`bridge vlan show`).
    ListBridgeVlans,
    /// Add VLANs to a bridge port (`bridge vlan add`).
    AddBridgeVlan,
    /// Delete VLANs from a bridge port (`bridge vlan del`).
    DeleteBridgeVlan,
    /// Delete every link of a group (`ip link delete group N`).
    DeleteLinkGroup,
    /// Add an alternative name to a link (`ip link property add altname`).
    AddAltName,
    /// Remove an alternative name (`ip link property del altname`).
    DeleteAltName,
    /// Create a tun/tap device (`ip tuntap add`, `/dev/net/tun`).
    CreateTunTap,
    /// Open an event monitor (`ip monitor`).
    OpenMonitor,
    /// Receive events on a monitor.
    ReceiveEvents,
    /// Read the current state for a monitor (its start, or a resync after
    /// lost events).
    ResyncMonitor,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Op::*;
        let s = match self {
            OpenNetns => "open namespace",
            CreateNetns => "create namespace",
            CreateNamedNetns => "create namespace",
            AttachNetns => "attach namespace",
            DeleteNetns => "delete namespace",
            RemoveStaleNetns => "remove stale namespace entry",
            ListNetns => "list namespaces",
            IdentifyNetns => "identify namespace",
            PrepareNetnsDir => "prepare namespace directory",
            EnterNetns => "enter namespace",
            RunInNetns => "run in namespace",
            SpawnInNetns => "spawn thread in namespace",
            PrepareCommand => "prepare command in namespace",
            OpenNetlink => "open netlink socket",
            SendNetlink => "send netlink request",
            ReceiveNetlink => "receive netlink reply",
            RawRequest => "raw netlink request",
            ListLinks => "list links",
            GetLink => "get link",
            CreateLink => "create link",
            CreateVeth => "create veth pair",
            CreateBridge => "create bridge",
            DeleteLink => "delete link",
            SetLink => "set link",
            MoveLink => "move link",
            SetMaster => "set master of link",
            SetBridgePort => "set bridge port",
            QueryNetnsLocal => "query netns-local flag of link",
            Ethtool => "ethtool",
            AddAddress => "add address",
            DeleteAddress => "delete address",
            ListAddresses => "list addresses",
            AddRoute => "add route",
            DeleteRoute => "delete route",
            ListRoutes => "list routes",
            ListNeighbours => "list neighbours",
            AddNeighbour => "add neighbour",
            DeleteNeighbour => "delete neighbour",
            ReadSysctl => "read sysctl",
            WriteSysctl => "write sysctl",
            InstallSignalCleanup => "install signal cleanup",
            GetRoute => "get route",
            AddRule => "add rule",
            DeleteRule => "delete rule",
            ListRules => "list rules",
            SetNetnsId => "set id of namespace",
            GetNetnsId => "get id of namespace",
            ListNetnsIds => "list namespace ids",
            ListFdb => "list fdb entries",
            AddFdbEntry => "add fdb entry",
            DeleteFdbEntry => "delete fdb entry",
            ListBridgeVlans => "list bridge vlans",
            AddBridgeVlan => "add bridge vlan",
            DeleteBridgeVlan => "delete bridge vlan",
            DeleteLinkGroup => "delete link group",
            AddAltName => "add altname to link",
            DeleteAltName => "delete altname of link",
            CreateTunTap => "create tun/tap link",
            OpenMonitor => "open monitor",
            ReceiveEvents => "receive events",
            ResyncMonitor => "resync monitor",
        };
        f.pad(s)
    }
}

impl Op {
    /// The kind of object the operation's words already name ("get link",
    /// "add route"), so that an error does not say it twice.
    pub fn object_kind(&self) -> Option<ObjectKind> {
        use Op::*;
        Some(match self {
            OpenNetns | CreateNetns | CreateNamedNetns | AttachNetns | DeleteNetns
            | RemoveStaleNetns | ListNetns | IdentifyNetns | EnterNetns | RunInNetns
            | SpawnInNetns | PrepareCommand => ObjectKind::Namespace,
            PrepareNetnsDir => ObjectKind::NamespaceDir,
            ListLinks | GetLink | CreateLink | CreateVeth | CreateBridge | DeleteLink | SetLink
            | MoveLink | SetMaster | SetBridgePort | QueryNetnsLocal => ObjectKind::Link,
            DeleteLinkGroup | AddAltName | DeleteAltName | CreateTunTap => ObjectKind::Link,
            AddAddress | DeleteAddress | ListAddresses => ObjectKind::Address,
            AddRoute | DeleteRoute | ListRoutes => ObjectKind::Route,
            ListNeighbours | AddNeighbour | DeleteNeighbour => ObjectKind::Neighbour,
            ReadSysctl | WriteSysctl => ObjectKind::Sysctl,
            OpenNetlink | SendNetlink | ReceiveNetlink => ObjectKind::Socket,
            GetRoute => ObjectKind::Route,
            SetNetnsId | GetNetnsId | ListNetnsIds => ObjectKind::Namespace,
            _ => return None,
        })
    }
}

/// What kind of thing an operation acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A network device.
    Link,
    /// A network namespace.
    Namespace,
    /// A directory of named namespaces (`/run/netns`).
    NamespaceDir,
    /// An address on a device.
    Address,
    /// A route.
    Route,
    /// A neighbour (ARP/NDP) entry.
    Neighbour,
    /// A sysctl key.
    Sysctl,
    /// A process.
    Process,
    /// A file.
    Path,
    /// A netlink socket.
    Socket,
    /// A helper thread of nslink's.
    Thread,
    /// Something else, described in words.
    Other,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ObjectKind::Link => "link",
            ObjectKind::Namespace => "namespace",
            ObjectKind::NamespaceDir => "namespace directory",
            ObjectKind::Address => "address",
            ObjectKind::Route => "route",
            ObjectKind::Neighbour => "neighbour",
            ObjectKind::Sysctl => "sysctl",
            ObjectKind::Process => "process",
            ObjectKind::Path => "file",
            ObjectKind::Socket => "netlink socket",
            ObjectKind::Thread => "thread",
            ObjectKind::Other => "object",
        })
    }
}

/// How the failing object was named.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectId {
    /// Not named (a list of all links, an anonymous namespace not yet made).
    None,
    /// By name. Interface names that are not UTF-8 are kept escaped the way
    /// [`IfName`](crate::IfName) displays them.
    Name(Box<str>),
    /// By interface index.
    Index(u32),
    /// By namespace identity (`net:[INODE]`).
    Netns(crate::netns::NsId),
    /// By path.
    Path(Box<std::path::Path>),
    /// By process id.
    Pid(u32),
    /// By a value printed as is (an address, a route destination, a key).
    Value(Box<str>),
}

/// The object an operation failed on: what it is, how it was named, and in
/// which namespace, when nslink knows.
///
/// It prints once, quoted once: `link "veth0"`, `link 7`, `namespace "red"`,
/// `address 10.0.0.1/24 on link "eth0"`, `link "eth0" in namespace "pod1"`.
///
/// ```
/// use nslink::error::{Object, ObjectKind};
///
/// let o = Object::link_name("veth0").in_netns("\"pod1\"");
/// assert_eq!(o.kind, ObjectKind::Link);
/// assert_eq!(o.to_string(), "link \"veth0\" in namespace \"pod1\"");
/// assert_eq!(Object::link_index(7).to_string(), "link 7");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Object {
    /// What it is.
    pub kind: ObjectKind,
    /// How it was named.
    pub id: ObjectId,
    /// Extra words that place it (`on link "eth0"`), if any.
    pub detail: Option<Box<str>>,
    /// The namespace it lives in, as nslink describes it (`"pod1"` or
    /// `net:[4026532000]`), when known.
    pub netns: Option<Box<str>>,
}

impl Object {
    /// An object of `kind` named by `id`.
    pub fn new(kind: ObjectKind, id: ObjectId) -> Object {
        Object { kind, id, detail: None, netns: None }
    }
    /// A link by name (already in its display form).
    pub fn link_name(name: impl fmt::Display) -> Object {
        Object::new(ObjectKind::Link, ObjectId::Name(name.to_string().into()))
    }
    /// A link by index.
    pub fn link_index(index: u32) -> Object {
        Object::new(ObjectKind::Link, ObjectId::Index(index))
    }
    /// A named namespace.
    pub fn netns_name(name: impl fmt::Display) -> Object {
        Object::new(ObjectKind::Namespace, ObjectId::Name(name.to_string().into()))
    }
    /// A namespace by identity.
    pub fn netns_id(id: crate::netns::NsId) -> Object {
        Object::new(ObjectKind::Namespace, ObjectId::Netns(id))
    }
    /// A file.
    pub fn path(path: impl Into<PathBuf>) -> Object {
        Object::new(ObjectKind::Path, ObjectId::Path(path.into().into_boxed_path()))
    }
    /// A process.
    pub fn pid(pid: u32) -> Object {
        Object::new(ObjectKind::Process, ObjectId::Pid(pid))
    }
    /// An object of `kind` named by a value printed as is.
    pub fn value(kind: ObjectKind, value: impl fmt::Display) -> Object {
        Object::new(kind, ObjectId::Value(value.to_string().into()))
    }
    /// An object of `kind` with no name (a whole table, say).
    pub fn unnamed(kind: ObjectKind) -> Object {
        Object::new(kind, ObjectId::None)
    }
    /// Adds words that place the object (`on link "eth0"`).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Object {
        self.detail = Some(detail.into().into_boxed_str());
        self
    }
    /// Says which namespace the object is in (nslink's description of it).
    pub fn in_netns(mut self, netns: impl Into<String>) -> Object {
        self.netns = Some(netns.into().into_boxed_str());
        self
    }
    /// The name, if the object was named by one.
    pub fn name(&self) -> Option<&str> {
        match &self.id {
            ObjectId::Name(n) => Some(n),
            _ => None,
        }
    }
}

impl Object {
    /// The description without the kind word (`"eth0" in namespace "pod1"`),
    /// for use after an operation that names the kind already.
    pub fn without_kind(&self) -> String {
        self.render(false)
    }

    fn render(&self, with_kind: bool) -> String {
        use fmt::Write as _;
        let mut s = String::new();
        if with_kind && self.kind != ObjectKind::Other {
            let _ = write!(s, "{} ", self.kind);
        }
        let _ = match &self.id {
            ObjectId::None => Ok(()),
            ObjectId::Name(n) => write!(s, "\"{n}\""),
            ObjectId::Index(i) => write!(s, "{i}"),
            ObjectId::Netns(id) => write!(s, "{id}"),
            ObjectId::Path(p) => write!(s, "{p:?}"),
            ObjectId::Pid(p) => write!(s, "{p}"),
            ObjectId::Value(v) => write!(s, "{v}"),
        };
        let mut s = s.trim_end().to_owned();
        if let Some(d) = &self.detail {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(d);
        }
        if let Some(ns) = &self.netns {
            let _ = write!(s, " in namespace {ns}");
        }
        s.trim_start().to_owned()
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.render(true))
    }
}

/// Which kind of name failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// A network interface name ([`IfName`](crate::IfName)).
    Interface,
    /// A named network namespace ([`NsName`](crate::NsName)).
    Namespace,
    /// A sysctl key ([`sysctl`](crate::sysctl)).
    Sysctl,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            NameKind::Interface => "interface name",
            NameKind::Namespace => "namespace name",
            NameKind::Sysctl => "sysctl key",
        })
    }
}

/// Why a name was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than the kernel accepts (bytes, not characters).
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// Maximum length in bytes.
        max: usize,
    },
    /// `.` and `..` are reserved.
    Reserved,
    /// A character refused in a text name ([`NsName`](crate::NsName), a
    /// sysctl key), at a byte offset.
    BadChar {
        /// The offending character.
        ch: char,
        /// Its byte offset in the input.
        pos: usize,
    },
    /// A byte the kernel refuses in an interface name
    /// ([`IfName`](crate::IfName)): `/`, `:`, NUL, `%`, or one its
    /// `isspace` counts as white space (9 to 13, 32 and 0xA0).
    BadByte {
        /// The offending byte.
        byte: u8,
        /// Its offset in the input.
        pos: usize,
    },
    /// The name starts with `-`, which commands (`ip netns exec NAME`) would
    /// read as an option.
    LeadingDash,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            NameError::Empty => "it is empty".to_owned(),
            NameError::TooLong { len, max } => {
                format!("it is {len} bytes long, the limit is {max}")
            }
            NameError::Reserved => "\".\" and \"..\" are reserved".to_owned(),
            NameError::BadChar { ch, pos } => {
                format!("character {ch:?} at byte {pos} is not allowed")
            }
            NameError::BadByte { byte, pos } => {
                let why = match byte {
                    0 => " (NUL ends a name)",
                    b'%' => " (the kernel reads a name with '%' as a template like veth%d)",
                    9..=13 | b' ' | 0xa0 => " (white space to the kernel)",
                    _ => "",
                };
                if byte.is_ascii_graphic() {
                    format!(
                        "byte {byte:#04x} ('{}') at offset {pos} is not allowed{why}",
                        *byte as char
                    )
                } else {
                    format!("byte {byte:#04x} at offset {pos} is not allowed{why}")
                }
            }
            NameError::LeadingDash => {
                "it starts with '-', which commands would read as an option".to_owned()
            }
        };
        f.pad(&s)
    }
}

/// Why a file was not accepted as a network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotNetnsReason {
    /// The file is not on nsfs: a regular file, or a stale `/run/netns` entry
    /// whose bind mount is gone.
    NotNsfs,
    /// The file is a namespace, but not a network namespace.
    WrongType {
        /// The `CLONE_NEW*` type the kernel reported (`NS_GET_NSTYPE`).
        nstype: i32,
    },
}

impl fmt::Display for NotNetnsReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            NotNetnsReason::NotNsfs => {
                "the file is not a namespace (not on nsfs; a stale or never-mounted entry?)".into()
            }
            NotNetnsReason::WrongType { nstype } => {
                format!("it is a {} namespace, not a network namespace", nstype_name(*nstype))
            }
        };
        f.pad(&s)
    }
}

fn nstype_name(t: i32) -> &'static str {
    use nix::libc;
    match t {
        libc::CLONE_NEWNS => "mount",
        libc::CLONE_NEWUTS => "UTS",
        libc::CLONE_NEWIPC => "IPC",
        libc::CLONE_NEWUSER => "user",
        libc::CLONE_NEWPID => "PID",
        libc::CLONE_NEWNET => "network",
        libc::CLONE_NEWCGROUP => "cgroup",
        0x80 => "time",
        _ => "unknown",
    }
}

/// Where a netns-local (netns-immutable) answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetnsLocalSource {
    /// The link attribute `IFLA_NETNS_IMMUTABLE` (Linux 6.15 and later).
    Attribute,
    /// The ethtool feature `netns-local` (SIOCETHTOOL; Linux before ~6.12).
    Ethtool,
    /// Neither was available; the kernel refused the move itself.
    KernelRefusal,
}

impl fmt::Display for NetnsLocalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            NetnsLocalSource::Attribute => "link attribute IFLA_NETNS_IMMUTABLE is set",
            NetnsLocalSource::Ethtool => "ethtool feature netns-local is on",
            NetnsLocalSource::KernelRefusal => "the kernel refused to move it",
        })
    }
}

/// A netlink exchange that did not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A datagram was longer than the receive buffer (should never happen:
    /// the buffer is sized with `MSG_PEEK|MSG_TRUNC`).
    Truncated {
        /// The datagram's real size.
        len: usize,
    },
    /// A message header is malformed (bad length) or cut short.
    Malformed(String),
    /// A reply carried a sequence number from the future.
    UnexpectedSequence {
        /// The sequence number we waited for.
        expected: u32,
        /// The one we got.
        got: u32,
    },
    /// A message type that has no place in this exchange.
    UnexpectedMessage(u16),
    /// A request expected exactly one reply and got another count.
    ReplyCount(usize),
    /// The kernel answered with `NLMSG_OVERRUN`.
    Overrun,
    /// `send` took fewer bytes than the datagram holds.
    ShortSend {
        /// Bytes the kernel took.
        sent: usize,
        /// Bytes in the datagram.
        len: usize,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ProtocolError::Truncated { len } => format!("datagram of {len} bytes was truncated"),
            ProtocolError::Malformed(s) => format!("malformed message: {s}"),
            ProtocolError::UnexpectedSequence { expected, got } => {
                format!("reply has sequence number {got}, expected {expected}")
            }
            ProtocolError::UnexpectedMessage(t) => format!("unexpected message type {t}"),
            ProtocolError::ReplyCount(n) => format!("expected one reply, got {n}"),
            ProtocolError::Overrun => "the kernel reported an overrun".into(),
            ProtocolError::ShortSend { sent, len } => {
                format!("the kernel took {sent} of the datagram's {len} bytes")
            }
        };
        f.pad(&s)
    }
}

/// A value that could not be read from text (or built from its parts):
/// the parse error of the value's own type, for `?` into [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// An [`IpNet`](crate::IpNet).
    #[error(transparent)]
    IpNet(#[from] crate::addr::IpNetParseError),
    /// A [`MacAddr`](crate::MacAddr).
    #[error(transparent)]
    MacAddr(#[from] crate::link::MacAddrParseError),
    /// A sysctl key ([`sysctl::key_path`](crate::sysctl::key_path)).
    #[error(transparent)]
    SysctlKey(#[from] crate::sysctl::SysctlKeyError),
    /// A route type, scope, protocol or table, an address scope or a
    /// neighbour state.
    #[error(transparent)]
    Keyword(#[from] crate::route::ParseKeywordError),
    /// A bond mode, macvlan mode, ipvlan mode or flag, or a vlan protocol.
    #[error(transparent)]
    LinkOption(#[from] crate::link::ParseLinkOptionError),
}

/// The error type of every fallible nslink operation.
///
/// Match on the variants for the cases you handle specially, or use the
/// predicates ([`is_not_found`](Error::is_not_found),
/// [`is_already_exists`](Error::is_already_exists), …), which also look at the
/// errno of [`Error::Os`].
///
/// ```
/// use nslink::{Error, IfName};
///
/// let err = IfName::new("a-name-that-is-far-too-long").unwrap_err();
/// assert!(err.is_invalid_name());
/// assert_eq!(
///     err.to_string(),
///     "invalid interface name \"a-name-that-is-far-too-long\": it is 27 bytes long, the limit is 15"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name was rejected before any system call was made.
    ///
    /// The message quotes the input escaped as [`IfName`](crate::IfName)'s
    /// `Debug` does (bytes that are not UTF-8 or not printable as `\xNN`).
    #[error("invalid {kind} {}: {reason}", crate::name::Quoted(input))]
    InvalidName {
        /// Which kind of name.
        kind: NameKind,
        /// The input as given: its exact bytes (an interface name need not
        /// be UTF-8).
        input: Vec<u8>,
        /// The rule it broke.
        reason: NameError,
    },

    /// A system call or a netlink request failed; `errno` is the raw value.
    #[error("{}: {}{}", Subject(op, object), describe_os(*.errno, .extack.as_deref()), privilege_hint(*.op, *.errno))]
    Os {
        /// What was attempted.
        op: Op,
        /// The object, e.g. `link "veth0"` or `namespace "test1"`.
        object: Object,
        /// The raw errno (positive).
        errno: i32,
        /// The kernel's extended-ack message, if it sent one.
        extack: Option<String>,
    },

    /// The object does not exist. The one shape of "not found": from a
    /// lookup nslink made itself (`errno` is `None`), or from the kernel
    /// (`ENOENT`, `ENODEV` or `ESRCH`, kept in `errno`, with its message).
    #[error("{}: not found{}", Subject(op, object), not_found_suffix(*.errno, .extack.as_deref()))]
    NotFound {
        /// What was attempted.
        op: Op,
        /// What was looked for.
        object: Object,
        /// The kernel's errno, when the kernel said so.
        errno: Option<i32>,
        /// The kernel's extended-ack message, if it sent one.
        extack: Option<String>,
    },

    /// The object already exists, found by a check nslink made itself
    /// before asking the kernel (the kernel's own answer is
    /// [`Error::Os`] with `EEXIST`; [`Error::is_already_exists`] covers both).
    #[error("{}: already exists", Subject(op, object))]
    AlreadyExists {
        /// What was attempted.
        op: Op,
        /// What is already there.
        object: Object,
    },

    /// A file was expected to be a network namespace and is not.
    #[error("{op} {path:?}: not a network namespace: {reason}")]
    NotANetns {
        /// What was attempted.
        op: Op,
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: NotNetnsReason,
    },

    /// A namespace directory entry exists but no namespace is mounted on it
    /// (left over by a crash or an unmount in another mount namespace).
    #[error(
        "{op} {name:?}: {path:?} is a stale entry with no namespace mounted on it; \
         remove it with NetnsDir::remove_stale or `rm`"
    )]
    StaleEntry {
        /// What was attempted.
        op: Op,
        /// The namespace name.
        name: String,
        /// The entry's path.
        path: PathBuf,
    },

    /// The device cannot change namespace (netns-local / netns-immutable).
    #[error("{op} {link:?} to {target}: device is netns-local ({source_}){}", extack_suffix(.extack.as_deref()))]
    NetnsImmutable {
        /// What was attempted.
        op: Op,
        /// The device name.
        link: String,
        /// The namespace it was to go to.
        target: String,
        /// How nslink knew.
        source_: NetnsLocalSource,
        /// The kernel's message, when the kernel itself refused.
        extack: Option<String>,
    },

    /// A dump kept being interrupted by concurrent changes
    /// (`NLM_F_DUMP_INTR`); no partial result is returned.
    #[error("{op}: the dump was interrupted by concurrent changes {attempts} times in a row")]
    DumpInterrupted {
        /// What was attempted.
        op: Op,
        /// How many attempts were made.
        attempts: u32,
    },

    /// No reply arrived in time (the socket stays usable).
    #[error("{op}: no reply from the kernel within {timeout:?}")]
    Timeout {
        /// What was attempted.
        op: Op,
        /// The configured timeout.
        timeout: Duration,
    },

    /// The kernel's reply broke the netlink protocol.
    #[error("{op}: netlink protocol error: {kind}")]
    Protocol {
        /// What was attempted.
        op: Op,
        /// What went wrong.
        kind: ProtocolError,
    },

    /// A reply could not be decoded (never silently dropped).
    #[error("{op}: cannot decode the kernel's reply: {detail}")]
    Decode {
        /// What was attempted.
        op: Op,
        /// The decoder's message.
        detail: String,
    },

    /// A thread nslink started for this operation ended without answering
    /// (it panicked, or the system killed it). No errno: the kernel did not
    /// refuse anything.
    #[error("{}: the thread nslink started for it ended without answering", Subject(op, object))]
    ThreadLost {
        /// What was attempted.
        op: Op,
        /// The object.
        object: Object,
    },

    /// A named namespace's mount belongs to a more privileged mount
    /// namespace (a *locked* mount, e.g. inside `unshare -Urm`): the kernel
    /// refuses to unmount it from here (`umount2(2)` answers `EINVAL`), so the
    /// entry cannot be deleted from this user namespace.
    #[error(
        "{}: it is mounted from a more privileged mount namespace \
         (a locked mount, EINVAL from umount2); delete it from there, as root",
        Subject(op, object)
    )]
    MountLocked {
        /// What was attempted.
        op: Op,
        /// The namespace (its name and directory).
        object: Object,
    },

    /// Deleting by identity: the entry now holds another namespace than
    /// the one given (it was deleted and made again meanwhile); nothing was
    /// deleted.
    #[error(
        "{}: the name now holds another namespace ({found}, not {expected}); left alone",
        Subject(op, object)
    )]
    NotSameNetns {
        /// What was attempted.
        op: Op,
        /// The namespace.
        object: Object,
        /// The namespace the caller holds.
        expected: crate::netns::NsId,
        /// The namespace the entry holds now.
        found: crate::netns::NsId,
    },

    /// The object changed under nslink's feet (a device renamed between two
    /// steps that name it) every time it was tried; nothing was changed.
    #[error(
        "{}: it kept changing while being read ({attempts} attempts); try again",
        Subject(op, object)
    )]
    KeptChanging {
        /// What was attempted.
        op: Op,
        /// The object.
        object: Object,
        /// How many attempts were made.
        attempts: u32,
    },

    /// An I/O failure that carries no errno (rare: `std` reports most
    /// failures with one, and those become [`Error::Os`]).
    #[error("{}: {source}", Subject(op, object))]
    Io {
        /// What was attempted.
        op: Op,
        /// The object.
        object: Object,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A value could not be used (an out-of-range argument, a malformed
    /// sysctl value, a veth whose two ends were asked to be the same, …).
    #[error("{}: {detail}", Subject(op, object))]
    InvalidArgument {
        /// What was attempted.
        op: Op,
        /// The object.
        object: Object,
        /// What is wrong with it.
        detail: String,
    },

    /// A value could not be parsed ([`ParseError`]); no operation was tried.
    #[error(transparent)]
    Parse(#[from] ParseError),

    /// The running kernel has no driver for a kind of device (its module,
    /// [`LinkKind::module`](crate::LinkKind::module), is not built or could
    /// not be loaded): the kernel answered the create with `errno`
    /// (`EOPNOTSUPP`) and "Unknown device type".
    #[error(
        "{}: this kernel has no {kind} support{}: {}",
        Subject(op, object),
        kind.module().map(|m| format!(" (module {m})")).unwrap_or_default(),
        describe_os(*.errno, .extack.as_deref())
    )]
    UnsupportedKind {
        /// What was attempted.
        op: Op,
        /// The device that was to be created.
        object: Object,
        /// Its kind.
        kind: crate::link::LinkKind,
        /// The raw errno (positive).
        errno: i32,
        /// The kernel's extended-ack message.
        extack: Option<String>,
    },
}

fn describe_os(errno: i32, extack: Option<&str>) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    // io::Error appends " (os error N)"; keep the text, add the symbolic name.
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    let name = Errno::from_raw(errno);
    let mut s = if name == Errno::UnknownErrno {
        format!("{text} (errno {errno})")
    } else {
        format!("{text} ({name:?})")
    };
    s.push_str(&extack_suffix(extack));
    s
}

fn extack_suffix(extack: Option<&str>) -> String {
    match extack {
        Some(m) if !m.is_empty() => format!(": kernel says: {m}"),
        _ => String::new(),
    }
}

/// An operation and its object, printed once: `get link "eth0"`, not
/// `get link link "eth0"` (the kind is left out when the operation's words
/// name it already).
struct Subject<'a>(&'a Op, &'a Object);

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Subject(op, object) = *self;
        let text = if op.to_string().contains(&object.kind.to_string()) {
            object.without_kind()
        } else {
            object.to_string()
        };
        if text.is_empty() { write!(f, "{op}") } else { write!(f, "{op} {text}") }
    }
}

fn not_found_suffix(errno: Option<i32>, extack: Option<&str>) -> String {
    match errno {
        Some(e) => format!(" ({})", describe_os(e, extack)),
        None => String::new(),
    }
}

/// What a refused privileged operation needs, and where.
fn privilege_hint(op: Op, errno: i32) -> &'static str {
    if errno != nix::libc::EPERM && errno != nix::libc::EACCES {
        return "";
    }
    use Op::*;
    match op {
        CreateNetns | CreateNamedNetns | AttachNetns | DeleteNetns | RemoveStaleNetns
        | PrepareNetnsDir | EnterNetns | RunInNetns | SpawnInNetns | PrepareCommand => {
            "; this needs CAP_SYS_ADMIN: run as root, or in a user namespace that owns \
             the network namespace (and, for named namespaces, can mount in the directory)"
        }
        CreateLink | CreateVeth | CreateBridge | DeleteLink | SetLink | MoveLink | SetMaster
        | SetBridgePort | AddAddress | DeleteAddress | AddRoute | DeleteRoute | AddNeighbour
        | DeleteNeighbour | RawRequest | AddRule | DeleteRule | SetNetnsId | AddFdbEntry
        | DeleteFdbEntry | AddBridgeVlan | DeleteBridgeVlan | DeleteLinkGroup | AddAltName
        | DeleteAltName | CreateTunTap => {
            "; this needs CAP_NET_ADMIN in the user namespace that owns the network namespace \
             (run as root)"
        }
        WriteSysctl => "; this needs root in the user namespace that owns the network namespace",
        _ => "",
    }
}

impl Error {
    /// Builds the error for a system call or request the kernel refused
    /// with `errno`: [`Error::NotFound`] for `ENOENT`/`ENODEV`/`ESRCH`,
    /// [`Error::Os`] otherwise.
    pub(crate) fn kernel(
        op: Op,
        object: impl Into<Object>,
        errno: i32,
        extack: Option<String>,
    ) -> Error {
        let object = object.into();
        if matches!(errno, nix::libc::ENOENT | nix::libc::ENODEV | nix::libc::ESRCH) {
            Error::NotFound { op, object, errno: Some(errno), extack }
        } else {
            Error::Os { op, object, errno, extack }
        }
    }

    /// Builds the error for a system call that failed with `errno` (see
    /// [`Error::kernel`]).
    pub(crate) fn os(op: Op, object: impl Into<Object>, errno: Errno) -> Error {
        Error::kernel(op, object, errno as i32, None)
    }

    /// Says the error happened doing `op` on `object` (for an error the
    /// kernel returned; others are kept as they are).
    pub(crate) fn with_object(self, op: Op, object: impl Into<Object>) -> Error {
        match self {
            Error::Os { errno, extack, .. } => {
                Error::Os { op, object: object.into(), errno, extack }
            }
            Error::NotFound { errno, extack, .. } => {
                Error::NotFound { op, object: object.into(), errno, extack }
            }
            e => e,
        }
    }

    /// Builds an [`Error::Os`] from an `io::Error` (falls back to EIO).
    pub(crate) fn io(op: Op, object: impl Into<Object>, e: &io::Error) -> Error {
        match e.raw_os_error() {
            Some(errno) => Error::kernel(op, object, errno, None),
            None => Error::Io {
                op,
                object: object.into(),
                source: io::Error::new(e.kind(), e.to_string()),
            },
        }
    }

    /// The raw errno, for errors that came from a system call or netlink.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { errno, .. } | Error::UnsupportedKind { errno, .. } => Some(*errno),
            Error::NotFound { errno, .. } => *errno,
            Error::NetnsImmutable { source_: NetnsLocalSource::KernelRefusal, .. }
            | Error::MountLocked { .. } => Some(nix::libc::EINVAL),
            _ => None,
        }
    }

    /// The errno as `nix`'s [`Errno`] (`UnknownErrno` for values nix does not
    /// know; [`raw_os_error`](Error::raw_os_error) keeps the number).
    pub fn errno(&self) -> Option<Errno> {
        self.raw_os_error().map(Errno::from_raw)
    }

    /// The kernel's extended-ack message, if there was one.
    pub fn extack(&self) -> Option<&str> {
        match self {
            Error::Os { extack, .. }
            | Error::NotFound { extack, .. }
            | Error::NetnsImmutable { extack, .. }
            | Error::UnsupportedKind { extack, .. } => extack.as_deref(),
            _ => None,
        }
    }

    /// The operation that failed, where the error has one.
    pub fn op(&self) -> Option<Op> {
        match self {
            Error::InvalidName { .. } | Error::Parse(_) => None,
            Error::Os { op, .. }
            | Error::NotFound { op, .. }
            | Error::AlreadyExists { op, .. }
            | Error::NotANetns { op, .. }
            | Error::StaleEntry { op, .. }
            | Error::NetnsImmutable { op, .. }
            | Error::DumpInterrupted { op, .. }
            | Error::Timeout { op, .. }
            | Error::Protocol { op, .. }
            | Error::Decode { op, .. }
            | Error::InvalidArgument { op, .. }
            | Error::ThreadLost { op, .. }
            | Error::MountLocked { op, .. }
            | Error::NotSameNetns { op, .. }
            | Error::KeptChanging { op, .. }
            | Error::Io { op, .. }
            | Error::UnsupportedKind { op, .. } => Some(*op),
        }
    }

    /// The object does not exist: [`Error::NotFound`], or `ENOENT`/`ENODEV`
    /// (and `ESRCH` for a process) from the kernel.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
            || matches!(self.errno(), Some(Errno::ENOENT | Errno::ENODEV | Errno::ESRCH))
    }

    /// The object already exists (`EEXIST`).
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists { .. }) || self.errno() == Some(Errno::EEXIST)
    }

    /// The name was rejected before any system call ([`Error::InvalidName`]).
    pub fn is_invalid_name(&self) -> bool {
        matches!(self, Error::InvalidName { .. })
    }

    /// The file is not a network namespace ([`Error::NotANetns`]).
    pub fn is_not_a_netns(&self) -> bool {
        matches!(self, Error::NotANetns { .. })
    }

    /// The caller lacks a privilege (`EPERM` or `EACCES`).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, Error::MountLocked { .. })
            || matches!(self, Error::Os { errno, .. } if *errno == nix::libc::EPERM || *errno == nix::libc::EACCES)
    }

    /// The device cannot change namespace ([`Error::NetnsImmutable`]).
    pub fn is_netns_immutable(&self) -> bool {
        matches!(self, Error::NetnsImmutable { .. })
    }

    /// The object is busy (`EBUSY`), e.g. a namespace still mounted elsewhere.
    pub fn is_busy(&self) -> bool {
        self.errno() == Some(Errno::EBUSY)
    }

    /// The entry is stale ([`Error::StaleEntry`]).
    pub fn is_stale_entry(&self) -> bool {
        matches!(self, Error::StaleEntry { .. })
    }
}

/// Converting keeps the kernel's errno: an error that has one becomes
/// `io::Error::from_raw_os_error(errno)`, so `raw_os_error()` and `kind()`
/// are std's own (the operation and object are not carried: keep the
/// [`Error`] where they matter). Others become an `io::Error` of a fitting
/// kind that wraps the [`Error`].
impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        if let Some(code) = e.raw_os_error() {
            return io::Error::from_raw_os_error(code);
        }
        let kind = match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code).kind(),
            None => match &e {
                Error::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
                Error::NotFound { .. } => io::ErrorKind::NotFound,
                Error::Timeout { .. } => io::ErrorKind::TimedOut,
                Error::InvalidName { .. } | Error::InvalidArgument { .. } | Error::Parse(_) => {
                    io::ErrorKind::InvalidInput
                }
                _ => io::ErrorKind::Other,
            },
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_display_has_op_object_text_name_and_extack() {
        let e = Error::Os {
            op: Op::CreateVeth,
            object: Object::link_name("v0"),
            errno: 17,
            extack: Some("peer exists".into()),
        };
        assert_eq!(
            e.to_string(),
            "create veth pair link \"v0\": File exists (EEXIST): kernel says: peer exists"
        );
        assert!(e.is_already_exists());
        assert_eq!(e.errno(), Some(Errno::EEXIST));
        assert_eq!(e.extack(), Some("peer exists"));
    }

    #[test]
    fn unknown_errno_keeps_its_number() {
        let e = Error::Os {
            op: Op::GetLink,
            object: Object::link_name("x"),
            errno: 4000,
            extack: None,
        };
        assert_eq!(e.raw_os_error(), Some(4000));
        assert!(e.to_string().contains("errno 4000"), "{e}");
    }

    #[test]
    fn predicates() {
        let nf = Error::os(Op::GetLink, Object::link_name("x"), Errno::ENODEV);
        assert!(nf.is_not_found());
        let perm = Error::os(Op::CreateNetns, Object::netns_name("ns"), Errno::EPERM);
        assert!(perm.is_permission_denied());
        let busy = Error::os(Op::DeleteNetns, Object::netns_name("ns"), Errno::EBUSY);
        assert!(busy.is_busy());
        let io: io::Error = busy.into();
        assert_eq!(io.raw_os_error(), Some(nix::libc::EBUSY), "the errno survives");
        assert_eq!(io.kind(), io::ErrorKind::ResourceBusy);
    }

    #[test]
    fn not_found_has_one_shape_and_keeps_the_kernels_errno() {
        let ours = Error::NotFound {
            op: Op::GetLink,
            object: Object::link_name("x"),
            errno: None,
            extack: None,
        };
        let kernel = Error::kernel(Op::GetLink, Object::link_name("x"), nix::libc::ENODEV, None);
        assert!(matches!(kernel, Error::NotFound { errno: Some(19), .. }), "{kernel:?}");
        assert!(ours.is_not_found() && kernel.is_not_found());
        assert_eq!(ours.raw_os_error(), None, "no errno the kernel did not return");
        assert_eq!(kernel.raw_os_error(), Some(nix::libc::ENODEV));
        assert_eq!(ours.to_string(), "get link \"x\": not found");
        assert_eq!(kernel.to_string(), "get link \"x\": not found (No such device (ENODEV))");
        let io: io::Error = ours.into();
        assert_eq!((io.kind(), io.raw_os_error()), (io::ErrorKind::NotFound, None));
    }

    #[test]
    fn a_refused_create_names_the_namespace_the_privilege_and_where() {
        let e = Error::os(
            Op::CreateNamedNetns,
            Object::netns_name("red").with_detail("in \"/run/netns\""),
            Errno::EPERM,
        );
        let text = e.to_string();
        assert!(text.starts_with("create namespace \"red\" in \"/run/netns\": "), "{text}");
        assert!(text.contains("EPERM") && text.contains("CAP_SYS_ADMIN"), "{text}");
        assert!(e.is_permission_denied());
    }

    #[test]
    fn the_object_is_printed_once_and_quoted_once() {
        let e = Error::os(Op::GetLink, Object::link_index(7), Errno::EINVAL);
        assert_eq!(e.to_string(), "get link 7: Invalid argument (EINVAL)");
        let e = Error::os(
            Op::AddAddress,
            Object::value(ObjectKind::Address, "10.0.0.1/24").with_detail("on link \"eth0\""),
            Errno::EEXIST,
        );
        assert_eq!(e.to_string(), "add address 10.0.0.1/24 on link \"eth0\": File exists (EEXIST)");
        // A kind the operation does not name is said.
        let e = Error::os(Op::OpenNetns, Object::path("/x"), Errno::EACCES);
        assert!(e.to_string().starts_with("open namespace file \"/x\": "), "{e}");
    }

    #[test]
    fn display_pads() {
        assert_eq!(format!("[{:<8}]", Op::GetLink), "[get link]");
        assert_eq!(format!("[{:>10}]", Op::GetLink), "[  get link]");
        assert_eq!(format!("[{:<10}]", Object::link_index(3)), "[link 3    ]");
        assert_eq!(format!("[{:^6}]", ObjectKind::Link), "[ link ]");
        assert_eq!(format!("[{:<12}]", ProtocolError::Overrun).len(), 32);
        assert_eq!(format!("{:>40}", NetnsLocalSource::Ethtool).len(), 40);
        assert_eq!(format!("{:>90}", NotNetnsReason::NotNsfs).len(), 90);
        let id = crate::netns::NsId { dev: 4, ino: 4026531840 };
        assert_eq!(format!("[{:<18}]", id), "[net:[4026531840]  ]");
    }

    #[test]
    fn netns_immutable_message_reads_like_a_sentence() {
        let e = Error::NetnsImmutable {
            op: Op::MoveLink,
            link: "lo".into(),
            target: "namespace \"test1\"".into(),
            source_: NetnsLocalSource::Ethtool,
            extack: None,
        };
        assert_eq!(
            e.to_string(),
            "move link \"lo\" to namespace \"test1\": device is netns-local (ethtool feature netns-local is on)"
        );
    }
}
