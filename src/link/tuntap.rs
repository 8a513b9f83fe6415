//! tun and tap devices, made through `/dev/net/tun` ([`TunTap`]), and what
//! the kernel tells about them ([`TunInfo`]).
//!
//! A tun/tap device is not made with rtnetlink but with the character
//! device `/dev/net/tun`: each open descriptor that is attached to a device
//! is one of its queues, and the program holding it reads and writes the
//! device's packets. A device lives while a queue is open, or until deleted
//! when it is *persistent* (`ip tuntap add`).
//!
//! The device is made in the namespace of whoever opened the descriptor,
//! so nslink opens it on a helper thread inside the socket's namespace; the
//! ioctls then work from any thread.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::str::FromStr;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::libc;
use nix::sys::stat::Mode;
pub use nix::unistd::{Gid, Uid};

use super::group::{LinkWordKind, ParseLinkWordError};
use super::{Link, parse};
use crate::error::{Error, Object, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::RouteSocket;
use crate::sys;

/// The tun character device.
const TUN_PATH: &str = "/dev/net/tun";

/// Attribute numbers of a tun's `IFLA_INFO_DATA` (<linux/if_link.h>,
/// Linux 4.15+), which neither `libc` nor `netlink-packet-route` names.
const IFLA_TUN_OWNER: u16 = 1;
const IFLA_TUN_GROUP: u16 = 2;
const IFLA_TUN_TYPE: u16 = 3;
const IFLA_TUN_PI: u16 = 4;
const IFLA_TUN_VNET_HDR: u16 = 5;
const IFLA_TUN_PERSIST: u16 = 6;
const IFLA_TUN_MULTI_QUEUE: u16 = 7;
const IFLA_TUN_NUM_QUEUES: u16 = 8;
const IFLA_TUN_NUM_DISABLED_QUEUES: u16 = 9;

/// Whether a device carries IP packets (tun, layer 3) or Ethernet frames
/// (tap, layer 2): `IFF_TUN` or `IFF_TAP`, `mode` in ip-tuntap(8), `type`
/// in `ip -d -j link`.
///
/// ```
/// use nslink::link::TunMode;
///
/// assert_eq!("tap".parse::<TunMode>()?, TunMode::Tap);
/// assert_eq!(format!("[{:<4}]", TunMode::Tun), "[tun ]");
/// # Ok::<(), nslink::link::ParseLinkWordError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunMode {
    /// `IFF_TUN`: IP packets, no link-layer header, no ARP.
    Tun,
    /// `IFF_TAP`: Ethernet frames.
    Tap,
}

impl TunMode {
    /// The word `ip` uses.
    ///
    /// ```
    /// assert_eq!(nslink::link::TunMode::Tap.as_str(), "tap");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            TunMode::Tun => "tun",
            TunMode::Tap => "tap",
        }
    }

    fn flag(self) -> libc::c_int {
        match self {
            TunMode::Tun => libc::IFF_TUN,
            TunMode::Tap => libc::IFF_TAP,
        }
    }
}

impl fmt::Display for TunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for TunMode {
    type Err = ParseLinkWordError;
    fn from_str(s: &str) -> std::result::Result<TunMode, ParseLinkWordError> {
        match s {
            "tun" => Ok(TunMode::Tun),
            "tap" => Ok(TunMode::Tap),
            _ => Err(ParseLinkWordError::new(LinkWordKind::TunMode, s)),
        }
    }
}

/// A new tun or tap device (ip-tuntap(8)), made through `/dev/net/tun` in
/// the namespace of the socket given to
/// [`create_persistent`](TunTap::create_persistent) (a device that stays
/// until deleted, like `ip tuntap add`) or [`open`](TunTap::open) (a device
/// that lives while its queue descriptors are open).
///
/// Defaults: no packet-information header (`IFF_NO_PI`, as `ip tuntap`
/// makes them), no virtio-net header, one queue, owned by nobody in
/// particular (only `CAP_NET_ADMIN` may attach).
///
/// ```no_run
/// use nslink::link::{TunTap, Uid};
///
/// let nl = nslink::RouteSocket::open()?;
/// // Like `ip tuntap add dev tap0 mode tap user 1000 multi_queue vnet_hdr`:
/// let tap0 = TunTap::tap("tap0").owner(Uid::from_raw(1000)).multi_queue(true).vnet_hdr(true)
///     .create_persistent(&nl)?;
/// // A device for this program only, with two queues to read and write:
/// let tun = TunTap::tun("tun0").queues(2).open(&nl)?;
/// assert_eq!(tun.queues().len(), 2);
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a TunTap does nothing until created or opened"]
pub struct TunTap {
    name: Result<IfName>,
    o: TunOpts,
}

/// The options of a [`TunTap`] besides its name.
#[derive(Debug, Clone)]
struct TunOpts {
    mode: TunMode,
    owner: Option<Uid>,
    group: Option<Gid>,
    packet_info: bool,
    vnet_hdr: bool,
    multi_queue: bool,
    queues: usize,
}

impl TunTap {
    /// A device named `name` of `mode`. An invalid name is reported by the
    /// final step.
    ///
    /// ```
    /// use nslink::link::{TunMode, TunTap};
    /// let b = TunTap::new("tap0", TunMode::Tap);
    /// # let _ = b;
    /// ```
    pub fn new(name: impl IntoIfName, mode: TunMode) -> TunTap {
        TunTap {
            name: name.into_ifname(),
            o: TunOpts {
                mode,
                owner: None,
                group: None,
                packet_info: false,
                vnet_hdr: false,
                multi_queue: false,
                queues: 1,
            },
        }
    }

    /// A tun device (IP packets).
    ///
    /// ```
    /// let b = nslink::link::TunTap::tun("tun0");
    /// # let _ = b;
    /// ```
    pub fn tun(name: impl IntoIfName) -> TunTap {
        TunTap::new(name, TunMode::Tun)
    }

    /// A tap device (Ethernet frames).
    ///
    /// ```
    /// let b = nslink::link::TunTap::tap("tap0");
    /// # let _ = b;
    /// ```
    pub fn tap(name: impl IntoIfName) -> TunTap {
        TunTap::new(name, TunMode::Tap)
    }

    /// Lets this user attach to the device without `CAP_NET_ADMIN`
    /// (`TUNSETOWNER`; `user` in ip-tuntap(8)).
    ///
    /// ```
    /// let b = nslink::link::TunTap::tap("tap0").owner(nslink::link::Uid::from_raw(1000));
    /// # let _ = b;
    /// ```
    pub fn owner(mut self, uid: Uid) -> TunTap {
        self.o.owner = Some(uid);
        self
    }

    /// Lets this group attach to the device (`TUNSETGROUP`; `group` in
    /// ip-tuntap(8)).
    ///
    /// ```
    /// let b = nslink::link::TunTap::tap("tap0").group(nslink::link::Gid::from_raw(100));
    /// # let _ = b;
    /// ```
    pub fn group(mut self, gid: Gid) -> TunTap {
        self.o.group = Some(gid);
        self
    }

    /// Prefixes each packet with the 4-byte packet-information header
    /// (flags and protocol); off by default (`IFF_NO_PI`). `pi` in
    /// ip-tuntap(8).
    ///
    /// ```
    /// let b = nslink::link::TunTap::tun("tun0").packet_info(true);
    /// # let _ = b;
    /// ```
    pub fn packet_info(mut self, on: bool) -> TunTap {
        self.o.packet_info = on;
        self
    }

    /// Prefixes each packet with a `struct virtio_net_hdr` (offloads for
    /// virtual machines; `IFF_VNET_HDR`, `vnet_hdr` in ip-tuntap(8)).
    ///
    /// ```
    /// let b = nslink::link::TunTap::tap("tap0").vnet_hdr(true);
    /// # let _ = b;
    /// ```
    pub fn vnet_hdr(mut self, on: bool) -> TunTap {
        self.o.vnet_hdr = on;
        self
    }

    /// Allows several queues (`IFF_MULTI_QUEUE`, `multi_queue` in
    /// ip-tuntap(8)): each queue is a descriptor, and the kernel spreads
    /// the packets over them. Implied by [`queues`](TunTap::queues) above 1.
    ///
    /// ```
    /// let b = nslink::link::TunTap::tap("tap0").multi_queue(true);
    /// # let _ = b;
    /// ```
    pub fn multi_queue(mut self, on: bool) -> TunTap {
        self.o.multi_queue = on;
        self
    }

    /// How many queue descriptors [`open`](TunTap::open) returns (1 by
    /// default; more turns on [`multi_queue`](TunTap::multi_queue)). A
    /// persistent device is made without queues: programs attach later.
    ///
    /// ```
    /// let b = nslink::link::TunTap::tap("tap0").queues(4);
    /// # let _ = b;
    /// ```
    pub fn queues(mut self, n: usize) -> TunTap {
        self.o.queues = n;
        if n > 1 {
            self.o.multi_queue = true;
        }
        self
    }

    /// Makes a persistent device, like
    /// `ip tuntap add dev NAME mode tun|tap …`: it stays (without queues)
    /// until deleted ([`RouteSocket::delete_link`]), and programs attach
    /// to it by opening `/dev/net/tun` with its name.
    ///
    /// Kernel: open(2) of `/dev/net/tun` on a helper thread inside the
    /// socket's namespace, then ioctl(2)s on it: `TUNSETIFF` (with
    /// `IFF_TUN_EXCL`, so that an existing device is never taken over),
    /// `TUNSETOWNER`, `TUNSETGROUP`, `TUNSETPERSIST` (the kernel's
    /// `Documentation/networking/tuntap.rst`; ip-tuntap(8)); then one
    /// `RTM_GETLINK` to read it back. Needs `CAP_NET_ADMIN`. Nothing is left
    /// behind on failure: the device is persistent only after the last step.
    ///
    /// # Errors
    /// - [`Error::InvalidName`] before anything is done;
    /// - [`Error::AlreadyExists`] when a device of that name exists (checked
    ///   first; one made meanwhile makes the kernel answer `EBUSY`);
    /// - [`Error::NotFound`] when `/dev/net/tun` is missing;
    /// - [`Error::Os`] with the kernel's errno otherwise.
    ///
    /// ```no_run
    /// use nslink::link::TunTap;
    /// use nslink::{NetNs, RouteSocket};
    ///
    /// let pod = RouteSocket::open_in(&NetNs::open("pod1")?)?;
    /// let tap = TunTap::tap("tap0").vnet_hdr(true).create_persistent(&pod)?;
    /// assert!(tap.tun_info()?.is_some_and(|t| t.persistent));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip tuntap add")]
    #[doc(alias = "TUNSETIFF")]
    pub fn create_persistent(self, nl: &RouteSocket) -> Result<Link> {
        let TunTap { name, o } = self;
        let name = o.check(nl, name?, 1)?;
        let fds = open_queues(nl, 1, &name)?;
        let fd = fds.first().ok_or_else(|| Error::InvalidArgument {
            op: Op::CreateTunTap,
            object: Object::link_name(&name),
            detail: "no queue was opened".into(),
        })?;
        o.attach(fd, &name, true)?;
        sys::tun_set_value(fd.as_fd(), libc::TUNSETPERSIST, 1)
            .map_err(|e| Error::os(Op::CreateTunTap, Object::link_name(&name), e))?;
        drop(fds);
        nl.require_link(&name)
    }

    /// Makes a device that lives while its queues are open, and returns
    /// them: [`queues`](TunTap::queues) descriptors (`O_RDWR`, `CLOEXEC`),
    /// each reading and writing the device's packets. Closing the last one
    /// deletes the device.
    ///
    /// Kernel: as [`create_persistent`](TunTap::create_persistent), without
    /// `TUNSETPERSIST`; each further queue is one more open(2) and
    /// `TUNSETIFF` naming the same device (`IFF_MULTI_QUEUE`). Needs
    /// `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`create_persistent`](TunTap::create_persistent), and
    /// [`Error::InvalidArgument`] for zero queues.
    ///
    /// ```no_run
    /// use std::io::Read;
    ///
    /// let nl = nslink::RouteSocket::open()?;
    /// let tun = nslink::link::TunTap::tun("tun0").open(&nl)?;
    /// nl.set_up(tun.link())?;
    /// let mut queue = std::fs::File::from(tun.into_queues().remove(0));
    /// let mut packet = [0u8; 1500];
    /// let n = queue.read(&mut packet)?; // an IP packet routed to tun0
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "TUNSETIFF")]
    pub fn open(self, nl: &RouteSocket) -> Result<TunQueues> {
        let TunTap { name, o } = self;
        let name = o.check(nl, name?, o.queues)?;
        let fds = open_queues(nl, o.queues, &name)?;
        for (i, fd) in fds.iter().enumerate() {
            o.attach(fd, &name, i == 0)?;
        }
        let link = nl.require_link(&name)?;
        Ok(TunQueues { link, queues: fds })
    }

    /// `TUNSETIFF` flags.
    #[cfg(test)]
    fn flags(&self) -> libc::c_short {
        self.o.flags()
    }
}

impl TunOpts {
    /// `TUNSETIFF` flags.
    fn flags(&self) -> libc::c_short {
        let mut f = self.mode.flag();
        if !self.packet_info {
            f |= libc::IFF_NO_PI;
        }
        if self.vnet_hdr {
            f |= libc::IFF_VNET_HDR;
        }
        if self.multi_queue {
            f |= libc::IFF_MULTI_QUEUE;
        }
        // Every flag above fits in 16 bits (the largest is 0x4000).
        f as libc::c_short
    }

    /// Validates; checks that the name is free.
    fn check(&self, nl: &RouteSocket, name: IfName, queues: usize) -> Result<IfName> {
        if queues == 0 {
            return Err(Error::InvalidArgument {
                op: Op::CreateTunTap,
                object: Object::link_name(&name),
                detail: "a tun/tap device needs at least one queue".into(),
            });
        }
        if nl.link(&name)?.is_some() {
            return Err(Error::AlreadyExists {
                op: Op::CreateTunTap,
                object: Object::link_name(&name),
            });
        }
        Ok(name)
    }

    /// `TUNSETIFF` on one queue; on the first, also exclusive creation,
    /// owner and group.
    fn attach(&self, fd: &OwnedFd, name: &IfName, first: bool) -> Result<()> {
        let object = || Object::link_name(name);
        let mut flags = self.flags();
        if first {
            flags |= libc::IFF_TUN_EXCL as libc::c_short;
        }
        let got = sys::tun_set_iff(fd.as_fd(), name.as_bytes(), flags).map_err(|e| match e {
            Errno::EBUSY if first => {
                Error::os(Op::CreateTunTap, object().with_detail("(made meanwhile)"), e)
            }
            e => Error::os(Op::CreateTunTap, object(), e),
        })?;
        if got != name.as_bytes() {
            return Err(Error::InvalidArgument {
                op: Op::CreateTunTap,
                object: object(),
                detail: format!(
                    "the kernel named the device {:?}",
                    IfName::from_bytes(&got).map(|n| n.to_string()).unwrap_or_default()
                ),
            });
        }
        if first {
            if let Some(uid) = self.owner {
                sys::tun_set_value(
                    fd.as_fd(),
                    libc::TUNSETOWNER,
                    libc::c_ulong::from(uid.as_raw()),
                )
                .map_err(|e| Error::os(Op::CreateTunTap, object().with_detail("(owner)"), e))?;
            }
            if let Some(gid) = self.group {
                sys::tun_set_value(
                    fd.as_fd(),
                    libc::TUNSETGROUP,
                    libc::c_ulong::from(gid.as_raw()),
                )
                .map_err(|e| Error::os(Op::CreateTunTap, object().with_detail("(group)"), e))?;
            }
        }
        Ok(())
    }
}

/// Opens `n` descriptors of `/dev/net/tun` that belong to the socket's
/// namespace. The path is resolved on the calling thread (its mount
/// namespace applies) as an `O_PATH` descriptor, which a helper thread
/// inside the target namespace reopens through `/proc/self/fd`.
fn open_queues(nl: &RouteSocket, n: usize, name: &IfName) -> Result<Vec<OwnedFd>> {
    let op = Op::CreateTunTap;
    let path = open(TUN_PATH, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| Error::os(op, Object::path(TUN_PATH), e))?;
    let proc_path = format!("/proc/self/fd/{}", path.as_raw_fd());
    let object = Object::link_name(name);
    let fds = crate::netns::run_in(nl.netns(), op, move || {
        (0..n)
            .map(|_| {
                open(proc_path.as_str(), OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty()).map_err(
                    |e| Error::os(op, object.clone().with_detail("(open /dev/net/tun)"), e),
                )
            })
            .collect::<Result<Vec<OwnedFd>>>()
    });
    drop(path);
    fds
}

/// A tun/tap device that lives while its queues are open: what
/// [`TunTap::open`] returns.
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let tap = nslink::link::TunTap::tap("tap0").queues(2).open(&nl)?;
/// println!("{} has {} queues", tap.link().name(), tap.queues().len());
/// drop(tap); // the device is gone
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
pub struct TunQueues {
    link: Link,
    queues: Vec<OwnedFd>,
}

impl TunQueues {
    /// The device as it was right after it was made.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let tun = nslink::link::TunTap::tun("tun0").open(&nl)?;
    /// nl.set_up(tun.link())?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The queue descriptors, one per queue.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let tun = nslink::link::TunTap::tun("tun0").open(&nl)?;
    /// assert_eq!(tun.queues().len(), 1);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn queues(&self) -> &[OwnedFd] {
        &self.queues
    }

    /// Takes the descriptors; the device lives as long as one of them is
    /// open.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let fds = nslink::link::TunTap::tun("tun0").open(&nl)?.into_queues();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn into_queues(self) -> Vec<OwnedFd> {
        self.queues
    }
}

/// What the kernel says about a tun/tap device (its `IFLA_INFO_DATA`,
/// Linux 4.15+; `info_data` in `ip -d -j link`). Read with
/// [`Link::tun_info`].
///
/// ```no_run
/// let tap = nslink::RouteSocket::open()?.require_link("tap0")?;
/// if let Some(t) = tap.tun_info()? {
///     println!("{} persist {} owner {:?} queues {:?}", t.mode, t.persistent, t.owner, t.queues);
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TunInfo {
    /// tun or tap (`IFLA_TUN_TYPE`).
    pub mode: TunMode,
    /// The owner, when one was set (`IFLA_TUN_OWNER`).
    pub owner: Option<Uid>,
    /// The group, when one was set (`IFLA_TUN_GROUP`).
    pub group: Option<Gid>,
    /// Whether packets carry the packet-information header
    /// (`IFLA_TUN_PI`).
    pub packet_info: bool,
    /// Whether packets carry a virtio-net header (`IFLA_TUN_VNET_HDR`).
    pub vnet_hdr: bool,
    /// Whether the device stays without queues (`IFLA_TUN_PERSIST`).
    pub persistent: bool,
    /// Whether it may have several queues (`IFLA_TUN_MULTI_QUEUE`).
    pub multi_queue: bool,
    /// Queues attached now, for a multi-queue device
    /// (`IFLA_TUN_NUM_QUEUES`).
    pub queues: Option<u32>,
    /// Queues detached (`IFF_DETACH_QUEUE`), for a multi-queue device
    /// (`IFLA_TUN_NUM_DISABLED_QUEUES`).
    pub disabled_queues: Option<u32>,
}

impl TunInfo {
    /// From the attributes of a tun's `IFLA_INFO_DATA`; `None` without
    /// `IFLA_TUN_TYPE`.
    fn from_data(data: &[u8]) -> std::result::Result<Option<TunInfo>, String> {
        let mut mode = None;
        let mut t = TunInfo {
            mode: TunMode::Tun,
            owner: None,
            group: None,
            packet_info: false,
            vnet_hdr: false,
            persistent: false,
            multi_queue: false,
            queues: None,
            disabled_queues: None,
        };
        for a in parse::nested(data) {
            let (kind, v) = a?;
            let byte =
                || v.first().copied().ok_or_else(|| format!("tun attribute {kind} is empty"));
            let word = || {
                <[u8; 4]>::try_from(v)
                    .map(u32::from_ne_bytes)
                    .map_err(|_| format!("tun attribute {kind} should hold 4 bytes"))
            };
            match kind {
                IFLA_TUN_TYPE => {
                    mode = Some(match libc::c_int::from(byte()?) {
                        libc::IFF_TAP => TunMode::Tap,
                        _ => TunMode::Tun,
                    })
                }
                IFLA_TUN_OWNER => t.owner = Some(Uid::from_raw(word()?)),
                IFLA_TUN_GROUP => t.group = Some(Gid::from_raw(word()?)),
                IFLA_TUN_PI => t.packet_info = byte()? != 0,
                IFLA_TUN_VNET_HDR => t.vnet_hdr = byte()? != 0,
                IFLA_TUN_PERSIST => t.persistent = byte()? != 0,
                IFLA_TUN_MULTI_QUEUE => t.multi_queue = byte()? != 0,
                IFLA_TUN_NUM_QUEUES => t.queues = Some(word()?),
                IFLA_TUN_NUM_DISABLED_QUEUES => t.disabled_queues = Some(word()?),
                _ => {}
            }
        }
        Ok(mode.map(|mode| TunInfo { mode, ..t }))
    }
}

impl Link {
    /// The tun/tap details of a tun or tap device (`IFLA_INFO_DATA` of kind
    /// `tun`, as `ip -d link` shows them); `None` for other devices, and
    /// from kernels before 4.15, which do not send them.
    ///
    /// # Errors
    /// [`Error::Decode`] when the attributes are malformed.
    ///
    /// ```no_run
    /// let tap = nslink::RouteSocket::open()?.require_link("tap0")?;
    /// let info = tap.tun_info()?.expect("tap0 is a tap");
    /// assert_eq!(info.mode, nslink::link::TunMode::Tap);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn tun_info(&self) -> Result<Option<TunInfo>> {
        let decode = |detail| Error::Decode { op: Op::GetLink, detail };
        match parse::info_data_of_kind(&self.bytes, "tun").map_err(decode)? {
            Some(data) => TunInfo::from_data(data).map_err(decode),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, v: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
        b.extend_from_slice(&kind.to_ne_bytes());
        b.extend_from_slice(v);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    #[test]
    fn tun_data_is_read() {
        let mut d = Vec::new();
        d.extend(attr(IFLA_TUN_TYPE, &[libc::IFF_TAP as u8]));
        d.extend(attr(IFLA_TUN_OWNER, &1000u32.to_ne_bytes()));
        d.extend(attr(IFLA_TUN_PI, &[0]));
        d.extend(attr(IFLA_TUN_VNET_HDR, &[1]));
        d.extend(attr(IFLA_TUN_PERSIST, &[1]));
        d.extend(attr(IFLA_TUN_MULTI_QUEUE, &[1]));
        d.extend(attr(IFLA_TUN_NUM_QUEUES, &2u32.to_ne_bytes()));
        let t = TunInfo::from_data(&d).unwrap().unwrap();
        assert_eq!(t.mode, TunMode::Tap);
        assert_eq!((t.owner, t.group), (Some(Uid::from_raw(1000)), None));
        assert!(!t.packet_info && t.vnet_hdr && t.persistent && t.multi_queue);
        assert_eq!((t.queues, t.disabled_queues), (Some(2), None));
        // Without a type there is nothing to say; a short value is an error.
        assert_eq!(TunInfo::from_data(&attr(IFLA_TUN_PI, &[1])).unwrap(), None);
        assert!(TunInfo::from_data(&attr(IFLA_TUN_OWNER, &[1, 2])).is_err());
    }

    #[test]
    fn flags_are_the_kernels() {
        let b = TunTap::tap("tap0").vnet_hdr(true).queues(3);
        assert_eq!(
            b.flags() as libc::c_int,
            libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR | libc::IFF_MULTI_QUEUE
        );
        let b = TunTap::tun("tun0").packet_info(true);
        assert_eq!(b.flags() as libc::c_int, libc::IFF_TUN);
    }
}
