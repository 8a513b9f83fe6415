//! [`RouteSocket`]: a synchronous `NETLINK_ROUTE` socket that belongs to one
//! network namespace.
//!
//! A socket works on the namespace it was created in, from any thread, for
//! its whole life. [`RouteSocket::open_in`] creates it inside a [`NetNs`] on
//! one of nslink's [worker threads](crate::netns#the-worker-pool-and-what-it-costs)
//! (the caller's thread never moves); afterwards every request on it costs
//! no `setns` at all.
//!
//! Kernel: a `NETLINK_ROUTE` socket (netlink(7)) speaking rtnetlink(7), with
//! `NETLINK_EXT_ACK`, `NETLINK_CAP_ACK` and `NETLINK_GET_STRICT_CHK` on (the
//! last where the kernel has it, Linux 4.20+).
//! Opening one and reading through it need no privilege; changes need
//! `CAP_NET_ADMIN` in the user namespace that owns the socket's network
//! namespace (the kernel checks both the thread that sends and whoever
//! opened the socket).
//!
//! What the exchange guarantees:
//! - each reply is matched to its request by sequence number and port; a
//!   stale reply (from a request that timed out earlier) is skipped and
//!   counted, a reply from anyone but the kernel is ignored;
//! - datagrams are sized with `MSG_PEEK|MSG_TRUNC` first, so no reply is
//!   ever truncated;
//! - a dump that the kernel marks `NLM_F_DUMP_INTR` is repeated, up to
//!   [`RouteSocket::set_dump_retries`] times, then reported as
//!   [`Error::DumpInterrupted`]: never a silently partial list;
//! - a reply that does not decode is an [`Error::Decode`], never dropped;
//! - a receive timeout ([`RouteSocket::set_timeout`]) turns a lost reply
//!   into [`Error::Timeout`]; the socket stays usable;
//! - extended acks are on: the kernel's message lands in the error
//!   ([`Error::extack`]), and warnings that come with a success are kept
//!   ([`RouteSocket::take_warning`]).
//!
//! ## Framing
//!
//! The messages are `netlink-packet-route`'s. Requests are framed with
//! `netlink-packet-core`'s [`NetlinkHeader`]; the extended-ack attributes are
//! read with its `ErrorBuffer`, `DoneBuffer` and `NlasIterator`
//! ([`extack`]); its flag and message-type constants are used throughout.
//! Both crates are re-exported at the crate root
//! ([`crate::netlink_packet_core`], [`crate::netlink_packet_route`]), so
//! [`RouteSocket::request_raw`] needs no version-matched dependency.
//!
//! Reply datagrams are split into messages by nslink's own walker, because
//! `cargo bench --bench framing` measures it faster than the same walk with
//! `netlink-packet-core`'s `NetlinkBuffer` (whose every field read is an
//! out-of-line, checked call). On a synthetic 1,000-link dump (19 datagrams
//! of at most 32 KiB, ~600 bytes a link), paired ratio
//! `NetlinkBuffer / nslink`, median and p10..p90 over 41 interleaved rounds,
//! on the 2-core development VM while other builds ran (so the absolute
//! medians are high; the paired ratios are what the runs agree on):
//!
//! | work per dump | nslink | `NetlinkBuffer` | ratio |
//! |---|---:|---:|---:|
//! | split only                                   | 13.3 µs | 33.5 µs | 2.53x (2.09..3.12) |
//! | split, then find each link's name            | 33.6 µs | 58.5 µs | 1.83x (1.26..3.16) |
//! | split, then a full `RouteNetlinkMessage` decode | 3.38 ms | 3.32 ms | 0.98x (0.69..1.22) |
//! | write 128 requests (here the ratio is nslink's `NetlinkHeader` writer / the former hand-written one) | 6.93 µs | 5.46 µs | 1.13x (0.97..2.11) |
//!
//! The split difference is 10 to 20 ns a message: invisible behind a full
//! decode, well under 1% of a whole 1,000-link [`RouteSocket::links`] dump
//! with its system calls and kernel work (~3.7 ms), but consistently there.
//! The writer's ratio wanders on both sides of 1 from run to run (0.70x to
//! 1.13x), so requests use the crate.

mod batch;
pub mod extack;
pub(crate) mod frame;
pub(crate) mod screen;
pub(crate) mod transport;
pub(crate) mod walk;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NetlinkHeader,
};
use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;
use nix::libc;

/// The `netlink-packet-route` crate nslink speaks, under a short name; the
/// same crate as the root re-export [`crate::netlink_packet_route`].
///
/// ```
/// use nslink::netlink::packet::{RouteNetlinkMessage, link::LinkMessage};
///
/// let msg = RouteNetlinkMessage::GetLink(LinkMessage::default());
/// let same: nslink::netlink_packet_route::RouteNetlinkMessage = msg;
/// # let _ = same;
/// ```
pub use netlink_packet_route as packet;

pub use self::batch::Batch;
pub(crate) use self::batch::Request;
use self::extack::ExtAck;
use self::frame::frames;
use self::transport::{Failure, SysTransport, Transport};
use crate::error::{Error, Object, ObjectKind, Op, ProtocolError, Result};
use crate::netns::NetNs;

/// Default receive timeout.
///
/// ```
/// assert_eq!(nslink::netlink::DEFAULT_TIMEOUT, std::time::Duration::from_secs(30));
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of attempts for a dump the kernel reports as interrupted.
///
/// ```
/// assert_eq!(nslink::netlink::DEFAULT_DUMP_ATTEMPTS, 8);
/// ```
pub const DEFAULT_DUMP_ATTEMPTS: u32 = 8;
/// Most requests sent in one datagram by a batch (their acks must fit in the
/// socket's receive buffer).
pub(crate) const MAX_BATCH: usize = 128;

/// What a [`RouteSocket`] has sent ([`RouteSocket::requests_sent`]);
/// subtract two readings to get the cost of what happened in between.
///
/// ```
/// use nslink::netlink::SentCounts;
///
/// let before = SentCounts { datagrams: 3, requests: 5 };
/// let after = SentCounts { datagrams: 4, requests: 7 };
/// assert_eq!(after - before, SentCounts { datagrams: 1, requests: 2 });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SentCounts {
    /// Datagrams sent: one sendmsg(2) each, one round trip each.
    pub datagrams: u64,
    /// Request messages sent, in those datagrams.
    pub requests: u64,
}

impl std::ops::Sub for SentCounts {
    type Output = SentCounts;

    fn sub(self, earlier: SentCounts) -> SentCounts {
        SentCounts {
            datagrams: self.datagrams.wrapping_sub(earlier.datagrams),
            requests: self.requests.wrapping_sub(earlier.requests),
        }
    }
}

/// A kernel refusal: the errno and what the extended ack said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub errno: i32,
    pub ack: ExtAck,
}

impl Refusal {
    pub(crate) fn into_error(self, op: Op, object: impl Into<Object>) -> Error {
        Error::kernel(op, object, self.errno, self.ack.message)
    }
}

/// The result of one request of a batch.
pub(crate) type Reply<T = RouteNetlinkMessage> = std::result::Result<Vec<T>, ReplyError>;

/// Turns one reply message (header and payload) into a `T`; `Ok(None)`
/// skips it, `Err` is a decode failure.
pub(crate) type Decoder<'a, T> =
    &'a dyn Fn(&NetlinkHeader, &[u8]) -> std::result::Result<Option<T>, String>;

/// The general decoder: every reply as a `netlink-packet-route` message.
pub(crate) fn decode_route(
    h: &NetlinkHeader,
    payload: &[u8],
) -> std::result::Result<Option<RouteNetlinkMessage>, String> {
    screen::route_message(h, payload).map(Some)
}

/// Why one request of a batch failed.
#[derive(Debug)]
pub(crate) enum ReplyError {
    /// The kernel said no.
    Kernel(Refusal),
    /// Something else (decode failure).
    Other(Error),
}

impl ReplyError {
    pub(crate) fn into_error(self, op: Op, object: impl Into<Object>) -> Error {
        match self {
            ReplyError::Kernel(r) => r.into_error(op, object),
            ReplyError::Other(e) => e,
        }
    }

    pub(crate) fn errno(&self) -> Option<i32> {
        match self {
            ReplyError::Kernel(r) => Some(r.errno),
            ReplyError::Other(e) => e.raw_os_error(),
        }
    }
}

/// The connection state behind the lock: transport, sequence numbers and
/// reusable buffers.
pub(crate) struct Conn<T: Transport> {
    pub(crate) t: T,
    port: u32,
    /// Datagrams and request messages sent so far ([`RouteSocket::requests_sent`]).
    sent: SentCounts,
    seq: u32,
    rx: Vec<u8>,
    tx: Vec<u8>,
    timeout: Duration,
    pub(crate) dump_attempts: u32,
    stale: u64,
    warning: Option<String>,
    /// A dump left before its end by an error: its sequence number. The
    /// kernel refuses any other dump on the socket (`EBUSY`) until this one
    /// is read to its end, so the next request reads it out first.
    unfinished_dump: Option<u32>,
    /// Data messages read by dumps so far (before any decoder skipped one).
    dump_messages: u64,
}

/// A `NETLINK_ROUTE` socket bound to one network namespace.
///
/// It owns its descriptor (`CLOEXEC`, never cloned). Methods take `&self`;
/// requests from several threads are serialised on an internal lock, so a
/// socket can be shared (`Arc<RouteSocket>`).
///
/// ```no_run
/// use nslink::{NetNs, RouteSocket};
///
/// let ns = NetNs::new()?;
/// let nl = RouteSocket::open_in(&ns)?;       // made inside `ns`, used from here
/// for link in nl.links()? {
///     println!("{} {} {:?}", link.index(), link.name(), link.kind());
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
pub struct RouteSocket {
    conn: Mutex<Conn<SysTransport>>,
    /// The same socket the transport uses, reachable without the lock for
    /// [`AsFd`].
    sock: Arc<netlink_sys::Socket>,
    netns: NetNs,
    /// An `AF_INET` datagram socket inside `netns` for ethtool ioctls, made
    /// on first use.
    ethtool: OnceLock<OwnedFd>,
    /// Whether the kernel echoes a created device (`NLM_F_ECHO` on
    /// `RTM_NEWLINK`), learnt from the first create that asked
    /// (`link::create`).
    pub(crate) newlink_echo: OnceLock<bool>,
}

impl std::fmt::Debug for RouteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSocket")
            .field("fd", &self.sock.as_raw_fd())
            .field("netns", &self.netns)
            .finish_non_exhaustive()
    }
}

/// The socket's descriptor, for `poll(2)`, `getsockopt(2)`, `fstat(2)` and
/// the like. It stays owned by the [`RouteSocket`] (closed when it is
/// dropped).
///
/// Do not `recv` or `send` on it yourself: a reply taken from under the
/// socket makes the request waiting for it time out, and a request sent
/// behind its back uses a sequence number the socket does not expect.
///
/// ```no_run
/// use std::os::fd::{AsFd, AsRawFd};
/// use nix::sys::socket::{getsockopt, sockopt};
///
/// let nl = nslink::RouteSocket::open()?;
/// // How much the kernel lets this socket buffer (netlink(7), socket(7)).
/// let rcvbuf = getsockopt(&nl.as_fd(), sockopt::RcvBuf)?;
/// println!("fd {} buffers {rcvbuf} bytes", nl.as_raw_fd());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl AsFd for RouteSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// The raw descriptor of [`AsFd::as_fd`], with the same rules.
///
/// ```no_run
/// use std::os::fd::AsRawFd;
///
/// let nl = nslink::RouteSocket::open()?;
/// assert!(nl.as_raw_fd() >= 0);
/// # Ok::<(), nslink::Error>(())
/// ```
impl AsRawFd for RouteSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl RouteSocket {
    /// Opens a socket in the calling thread's current namespace.
    ///
    /// Kernel: socket(2) `AF_NETLINK`/`NETLINK_ROUTE`, bind(2), connect(2)
    /// and setsockopt(2) (netlink(7); a 4 MiB receive buffer, forced when
    /// `CAP_NET_ADMIN` allows), and an open of `/proc/thread-self/ns/net`.
    /// No privilege.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::OpenNetlink`]).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open() -> Result<RouteSocket> {
        let netns = NetNs::current()?;
        RouteSocket::with_netns(netns)
    }

    /// Opens a socket inside `ns`. The socket is created on a worker thread
    /// that enters `ns` (and leaves it again), so the calling thread never
    /// changes namespace; afterwards the socket works on `ns` from any
    /// thread.
    ///
    /// Kernel: as [`open`](RouteSocket::open), on a worker that setns(2)
    /// into `ns` first: needs `CAP_SYS_ADMIN` over `ns` (and in the
    /// caller's user namespace). Cost: one worker job (a few µs when a
    /// worker is idle, a thread start otherwise) plus the socket set-up.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::OpenNetlink`] or [`Op::RunInNetns`]).
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::open("test1")?;
    /// let nl = nslink::RouteSocket::open_in(&ns)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open_in(ns: &NetNs) -> Result<RouteSocket> {
        let t = crate::netns::run_in(ns, Op::OpenNetlink, SysTransport::open)?;
        RouteSocket::from_transport(t, ns.try_clone()?)
    }

    fn with_netns(netns: NetNs) -> Result<RouteSocket> {
        RouteSocket::from_transport(SysTransport::open()?, netns)
    }

    fn from_transport(t: SysTransport, netns: NetNs) -> Result<RouteSocket> {
        let port = t.port();
        let sock = t.socket();
        let conn = Conn::new(t, port);
        conn.t.set_timeout(conn.timeout).map_err(|e| e.into_error(Op::OpenNetlink))?;
        Ok(RouteSocket {
            conn: Mutex::new(conn),
            sock,
            netns,
            ethtool: OnceLock::new(),
            newlink_echo: OnceLock::new(),
        })
    }

    /// The namespace this socket works on.
    ///
    /// Kernel: none; the namespace recorded when the socket was opened.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// let nl = nslink::RouteSocket::open_in(&ns)?;
    /// assert_eq!(nl.netns(), &ns);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn netns(&self) -> &NetNs {
        &self.netns
    }

    /// The ethtool ioctl socket of this namespace (created inside it on a
    /// worker thread the first time).
    pub(crate) fn ethtool_socket(&self) -> Result<BorrowedFd<'_>> {
        if let Some(fd) = self.ethtool.get() {
            return Ok(fd.as_fd());
        }
        let fd = crate::netns::run_in(&self.netns, Op::Ethtool, crate::ethtool::control_socket)?;
        // Another thread may have made one meanwhile: keep the first, drop ours.
        Ok(self.ethtool.get_or_init(|| fd).as_fd())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Conn<SysTransport>> {
        // A panic while holding the lock cannot leave the connection in a
        // state the next request does not recover from (stale replies are
        // skipped), so a poisoned lock is simply taken over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets how long to wait for each reply datagram (default 30 s, at least
    /// 1 ms).
    ///
    /// Kernel: setsockopt(2) `SO_RCVTIMEO` (socket(7)); no privilege.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] below 1 ms; [`Error::Os`] if the socket
    /// option cannot be set.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_timeout(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_timeout(&self, timeout: Duration) -> Result<()> {
        // SO_RCVTIMEO of zero means "wait forever": refuse it.
        if timeout < Duration::from_millis(1) {
            return Err(Error::InvalidArgument {
                op: Op::OpenNetlink,
                object: socket(),
                detail: format!("timeout {timeout:?} is below 1 ms"),
            });
        }
        let mut c = self.lock();
        c.t.set_timeout(timeout).map_err(|e| e.into_error(Op::OpenNetlink))?;
        c.timeout = timeout;
        Ok(())
    }

    /// Sets how many times a dump is attempted when the kernel reports it
    /// interrupted (`NLM_F_DUMP_INTR`) before [`Error::DumpInterrupted`]
    /// (default 8, minimum 1).
    ///
    /// Kernel: none; a setting of this socket object. Attempts after the
    /// second wait 1, 2, 4, … ms first (at most 64 ms each).
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_dump_retries(20);   // a host with heavy churn
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_dump_retries(&self, attempts: u32) {
        self.lock().dump_attempts = attempts.max(1);
    }

    /// The warning the kernel attached to the last successful request, if
    /// any (an extended ack with a message and error code 0). Taking it
    /// clears it.
    ///
    /// Kernel: none; the `NLMSGERR_ATTR_MSG` of the last acknowledgement
    /// (netlink(7)), kept when it came.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.set_up("eth0")?;
    /// if let Some(w) = nl.take_warning() {
    ///     eprintln!("kernel warning: {w}");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn take_warning(&self) -> Option<String> {
        self.lock().warning.take()
    }

    /// How many stale replies (left over from requests that timed out) have
    /// been skipped so far.
    ///
    /// Kernel: none; a counter of this socket object.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// assert_eq!(nl.stale_replies_skipped(), 0);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn stale_replies_skipped(&self) -> u64 {
        self.lock().stale
    }

    /// How many data messages (entries: links, addresses, routes, …) the
    /// dumps on this socket have read so far, counting those nslink then
    /// skipped, and counting every attempt of a dump that was repeated.
    /// Shows how much work a dump cost the kernel: a dump the kernel
    /// filters (such as [`link_addresses`](RouteSocket::link_addresses))
    /// reads only the entries it returns.
    ///
    /// Kernel: none; a counter of this socket object.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let before = nl.dump_messages_read();
    /// let lo = nl.link_addresses("lo")?;
    /// assert_eq!(nl.dump_messages_read() - before, lo.len() as u64);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn dump_messages_read(&self) -> u64 {
        self.lock().dump_messages
    }

    /// What this socket has sent so far: request messages and the datagrams
    /// (sendmsg(2) calls, each one round trip) that carried them. A
    /// [`Batch`] or a create that reads its device back in the same
    /// datagram sends several requests in one datagram; a dump is one
    /// request, however many datagrams its answer takes (a repeated dump
    /// counts again).
    ///
    /// Kernel: none; counters of this socket object. Meant for tests and
    /// tuning: how many round trips an operation costs.
    ///
    /// ```no_run
    /// use nslink::{RouteSocket, VethPair};
    ///
    /// let nl = RouteSocket::open()?;
    /// let before = nl.requests_sent();
    /// VethPair::builder("va", "vb").up().create(&nl)?;
    /// let cost = nl.requests_sent() - before;
    /// println!("{} round trips, {} requests", cost.datagrams, cost.requests);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn requests_sent(&self) -> SentCounts {
        self.lock().sent
    }

    /// The escape hatch: sends any `netlink-packet-route` message
    /// (rtnetlink(7)) and returns the kernel's replies. `flags` are added to
    /// `NLM_F_REQUEST`.
    ///
    /// What the kernel does with the request decides how it is read, as
    /// netlink(7) defines the flags: a `RTM_GET*` request with
    /// `NLM_F_DUMP` (either of its bits, `NLM_F_ROOT` or `NLM_F_MATCH`) is a
    /// dump, read to its end with interruption handling; anything else is an
    /// acknowledged request (`NLM_F_ACK` is added) whose data replies (an
    /// `NLM_F_ECHO`, a single `RTM_GET*` answer) are returned. On a
    /// `RTM_NEW*` request the same bits mean `NLM_F_REPLACE` and
    /// `NLM_F_EXCL`, never a dump.
    ///
    /// The message types and flags come from the crates nslink re-exports,
    /// so no version-matched dependency is needed:
    /// [`crate::netlink_packet_route`], [`crate::netlink_packet_core`].
    ///
    /// Kernel: whatever `msg` is (rtnetlink(7)); the privilege is the
    /// message's (`CAP_NET_ADMIN` for changes, none for reads). One round
    /// trip, or a whole dump.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::RawRequest`]) with the kernel's errno and
    /// message, and the other exchange errors.
    ///
    /// ```no_run
    /// use nslink::netlink_packet_core::NLM_F_DUMP;
    /// use nslink::netlink_packet_route::{RouteNetlinkMessage, link::LinkMessage};
    ///
    /// let nl = nslink::RouteSocket::open()?;
    /// let replies = nl.request_raw(RouteNetlinkMessage::GetLink(LinkMessage::default()), NLM_F_DUMP)?;
    /// println!("{} links", replies.len());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn request_raw(
        &self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.lock().raw(msg, flags)
    }

    /// One acknowledged request.
    pub(crate) fn request<O: Into<Object>>(
        &self,
        op: Op,
        object: impl FnOnce() -> O,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let mut replies = self.lock().batch(op, &[(msg, flags)], &decode_route)?;
        match replies.pop() {
            Some(Ok(data)) => Ok(data),
            Some(Err(e)) => Err(e.into_error(op, object())),
            None => Err(Error::Protocol { op, kind: ProtocolError::ReplyCount(0) }),
        }
    }

    /// One acknowledged request whose refusal is returned raw, for callers
    /// that map particular errnos.
    pub(crate) fn request_reply(
        &self,
        op: Op,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Reply> {
        self.request_reply_with(op, msg, flags, &decode_route)
    }

    /// [`request_reply`](Self::request_reply) with a decoder of its own.
    pub(crate) fn request_reply_with<T>(
        &self,
        op: Op,
        msg: RouteNetlinkMessage,
        flags: u16,
        decode: Decoder<'_, T>,
    ) -> Result<Reply<T>> {
        let mut replies = self.lock().batch(op, &[(msg, flags)], decode)?;
        replies.pop().ok_or(Error::Protocol { op, kind: ProtocolError::ReplyCount(0) })
    }

    /// Several acknowledged requests, sent [`MAX_BATCH`] per datagram.
    pub(crate) fn send_batch(
        &self,
        op: Op,
        msgs: &[(RouteNetlinkMessage, u16)],
    ) -> Result<Vec<Reply>> {
        let mut c = self.lock();
        let mut out = Vec::with_capacity(msgs.len());
        for chunk in msgs.chunks(MAX_BATCH) {
            out.extend(c.batch(op, chunk, &decode_route)?);
        }
        Ok(out)
    }

    /// A dump request.
    pub(crate) fn dump(
        &self,
        op: Op,
        msg: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.lock().dump(op, &msg, NLM_F_DUMP, &decode_route)
    }

    /// A dump decoded by `decode`.
    pub(crate) fn dump_with<T>(
        &self,
        op: Op,
        msg: RouteNetlinkMessage,
        decode: Decoder<'_, T>,
    ) -> Result<Vec<T>> {
        self.lock().dump(op, &msg, NLM_F_DUMP, decode)
    }
}

/// The object named when the socket itself fails.
fn socket() -> Object {
    Object::unnamed(ObjectKind::Socket)
}

/// Whether an rtnetlink message type is a `RTM_GET*` request. rtnetlink
/// types come in groups of four from `RTM_BASE` (= `RTM_NEWLINK`): NEW,
/// DEL, GET, SET; the kernel tells the kind by `(type - RTM_BASE) & 3`
/// (`rtnetlink_rcv_msg`), and so does this.
pub(crate) fn is_get_type(message_type: u16) -> bool {
    const GET: u16 = libc::RTM_GETLINK - libc::RTM_NEWLINK;
    message_type.checked_sub(libc::RTM_NEWLINK).is_some_and(|t| t & 3 == GET)
}

/// Whether the kernel answers `msg` sent with `flags` with a dump: a GET
/// request with either bit of `NLM_F_DUMP`. The bits alone say nothing: on
/// a NEW request they are `NLM_F_REPLACE` and `NLM_F_EXCL`, on a DEL
/// request `NLM_F_NONREC` (netlink(7)).
pub(crate) fn is_dump_request(msg: &RouteNetlinkMessage, flags: u16) -> bool {
    flags & NLM_F_DUMP != 0 && is_get_type(msg.message_type())
}

/// What a dump or a raw request is about, for errors: the kind of table
/// its message type addresses.
fn object_of(msg: &RouteNetlinkMessage) -> Object {
    use RouteNetlinkMessage as M;
    let kind = match msg {
        M::NewLink(_) | M::DelLink(_) | M::GetLink(_) | M::SetLink(_) => ObjectKind::Link,
        M::NewAddress(_) | M::DelAddress(_) | M::GetAddress(_) => ObjectKind::Address,
        M::NewRoute(_) | M::DelRoute(_) | M::GetRoute(_) => ObjectKind::Route,
        M::NewNeighbour(_) | M::DelNeighbour(_) | M::GetNeighbour(_) => ObjectKind::Neighbour,
        M::NewNsId(_) | M::DelNsId(_) | M::GetNsId(_) => ObjectKind::Namespace,
        _ => ObjectKind::Other,
    };
    Object::unnamed(kind)
}

/// A malformed message header in a reply.
fn malformed(op: Op, detail: String) -> Error {
    Error::Protocol { op, kind: ProtocolError::Malformed(detail) }
}

/// An `NLMSG_ERROR` with a positive code: the kernel sends 0 (an ack) or a
/// negative errno, so this is no errno to report.
fn positive_code(op: Op, code: i32) -> Error {
    malformed(op, format!("error message with positive code {code}"))
}

impl<T: Transport> Conn<T> {
    pub(crate) fn new(t: T, port: u32) -> Conn<T> {
        Conn {
            t,
            port,
            sent: SentCounts::default(),
            seq: 0,
            rx: Vec::with_capacity(32 * 1024),
            tx: Vec::with_capacity(4096),
            timeout: DEFAULT_TIMEOUT,
            dump_attempts: DEFAULT_DUMP_ATTEMPTS,
            stale: 0,
            warning: None,
            unfinished_dump: None,
            dump_messages: 0,
        }
    }

    /// [`RouteSocket::request_raw`]: a dump or an acknowledged request,
    /// as the kernel will treat `msg` with `flags`.
    pub(crate) fn raw(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let op = Op::RawRequest;
        if is_dump_request(&msg, flags) {
            return self.dump(op, &msg, flags, &decode_route);
        }
        let object = object_of(&msg);
        let mut replies = self.batch(op, &[(msg, flags)], &decode_route)?;
        match replies.pop() {
            Some(Ok(data)) => Ok(data),
            Some(Err(e)) => Err(e.into_error(op, object)),
            None => Err(Error::Protocol { op, kind: ProtocolError::ReplyCount(0) }),
        }
    }

    /// Serialises `msgs` into the send buffer with consecutive sequence
    /// numbers and sends them as one datagram; returns the first number.
    fn send(&mut self, op: Op, msgs: &[(&RouteNetlinkMessage, u16)]) -> Result<u32> {
        self.finish_unfinished_dump(op)?;
        let first = self.seq.wrapping_add(1);
        self.tx.clear();
        for (i, (msg, flags)) in msgs.iter().enumerate() {
            let seq = first.wrapping_add(i as u32);
            frame::push_request(&mut self.tx, *msg, NLM_F_REQUEST | flags, seq);
        }
        self.seq = first.wrapping_add(msgs.len() as u32).wrapping_sub(1);
        self.sent.datagrams += 1;
        self.sent.requests += msgs.len() as u64;
        loop {
            match self.t.send(&self.tx) {
                Ok(n) if n == self.tx.len() => return Ok(first),
                Ok(n) => {
                    return Err(Error::Protocol {
                        op,
                        kind: ProtocolError::ShortSend { sent: n, len: self.tx.len() },
                    });
                }
                Err(Failure::Os(Errno::EINTR)) => continue,
                Err(e) => return Err(e.into_error(op)),
            }
        }
    }

    /// Receives one datagram into `rx`.
    fn recv(&mut self, op: Op) -> Result<()> {
        loop {
            match self.t.recv(&mut self.rx) {
                Ok(Some(len)) if len > self.rx.len() => {
                    return Err(Error::Protocol { op, kind: ProtocolError::Truncated { len } });
                }
                Ok(Some(_)) => return Ok(()),
                // A datagram from someone other than the kernel: ignore it.
                Ok(None) => {
                    self.stale += 1;
                    continue;
                }
                Err(Failure::Os(Errno::EINTR)) => continue,
                Err(Failure::Os(Errno::EAGAIN)) => {
                    return Err(Error::Timeout { op, timeout: self.timeout });
                }
                Err(e) => return Err(e.into_error(op)),
            }
        }
    }

    /// Reads what is left of a dump an error interrupted, up to its
    /// `NLMSG_DONE` (or error), skipping it as stale. Reading is what makes
    /// the kernel produce the rest. If nothing comes within the timeout the
    /// dump is over anyway (its end was lost), and the socket is used as is.
    fn finish_unfinished_dump(&mut self, op: Op) -> Result<()> {
        let Some(seq) = self.unfinished_dump else { return Ok(()) };
        let port = self.port;
        loop {
            match self.recv(op) {
                Ok(()) => {}
                Err(Error::Timeout { .. }) => break,
                Err(e) => return Err(e),
            }
            let mut end = false;
            for m in frames(&self.rx).map_while(std::result::Result::ok) {
                let h = &m.header;
                end |= h.port_number == port
                    && h.sequence_number == seq
                    && matches!(h.message_type, NLMSG_DONE | NLMSG_ERROR);
                self.stale += 1;
            }
            if end {
                break;
            }
        }
        self.unfinished_dump = None;
        Ok(())
    }

    /// Is `seq` before `first` (modulo wrap-around)?
    fn is_stale(seq: u32, first: u32) -> bool {
        (seq.wrapping_sub(first) as i32) < 0
    }

    /// Sends acknowledged requests in one datagram and collects one reply
    /// per request, in order.
    pub(crate) fn batch<R>(
        &mut self,
        op: Op,
        msgs: &[(RouteNetlinkMessage, u16)],
        decode: Decoder<'_, R>,
    ) -> Result<Vec<Reply<R>>> {
        let refs: Vec<(&RouteNetlinkMessage, u16)> =
            msgs.iter().map(|(m, f)| (m, f | NLM_F_ACK)).collect();
        let first = self.send(op, &refs)?;
        let n = msgs.len();
        let mut data: Vec<Vec<R>> = (0..n).map(|_| Vec::new()).collect();
        let mut failed: Vec<Option<ReplyError>> = (0..n).map(|_| None).collect();
        let mut done = vec![false; n];
        let mut remaining = n;
        let port = self.port;
        while remaining > 0 {
            self.recv(op)?;
            let rx = std::mem::take(&mut self.rx);
            let mut outcome: Result<()> = Ok(());
            for m in frames(&rx) {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        outcome = Err(malformed(op, e));
                        break;
                    }
                };
                let seq = m.header.sequence_number;
                if m.header.port_number != port || Self::is_stale(seq, first) {
                    self.stale += 1;
                    continue;
                }
                let idx = seq.wrapping_sub(first) as usize;
                if idx >= n || done[idx] {
                    outcome = Err(Error::Protocol {
                        op,
                        kind: ProtocolError::UnexpectedSequence { expected: first, got: seq },
                    });
                    break;
                }
                match m.header.message_type {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => {
                        outcome = Err(Error::Protocol { op, kind: ProtocolError::Overrun });
                        break;
                    }
                    NLMSG_ERROR => {
                        let Some((code, ack)) = extack::parse_error(m.header.flags, m.payload)
                        else {
                            outcome = Err(Error::Protocol {
                                op,
                                kind: ProtocolError::Malformed("short error message".into()),
                            });
                            break;
                        };
                        if code > 0 {
                            outcome = Err(positive_code(op, code));
                            break;
                        }
                        if code == 0 {
                            if let Some(w) = ack.message {
                                self.warning = Some(w);
                            }
                        } else if failed[idx].is_none() {
                            failed[idx] = Some(ReplyError::Kernel(Refusal {
                                errno: code.saturating_neg(),
                                ack,
                            }));
                        }
                        done[idx] = true;
                        remaining -= 1;
                    }
                    NLMSG_DONE => {
                        outcome = Err(Error::Protocol {
                            op,
                            kind: ProtocolError::UnexpectedMessage(NLMSG_DONE),
                        });
                        break;
                    }
                    _ => match decode(&m.header, m.payload) {
                        Ok(Some(msg)) => data[idx].push(msg),
                        Ok(None) => {}
                        Err(detail) => {
                            if failed[idx].is_none() {
                                failed[idx] = Some(ReplyError::Other(Error::Decode { op, detail }));
                            }
                        }
                    },
                }
            }
            self.rx = rx;
            outcome?;
        }
        Ok(data
            .into_iter()
            .zip(failed)
            .map(|(d, f)| match f {
                Some(e) => Err(e),
                None => Ok(d),
            })
            .collect())
    }

    /// Runs a dump, repeating it while the kernel marks it interrupted.
    pub(crate) fn dump<R>(
        &mut self,
        op: Op,
        msg: &RouteNetlinkMessage,
        flags: u16,
        decode: Decoder<'_, R>,
    ) -> Result<Vec<R>> {
        for attempt in 0..self.dump_attempts {
            if attempt > 1 {
                // Changes come in bursts; let one pass before asking again
                // (1, 2, 4, … ms; at most 127 ms over the default 8 attempts).
                std::thread::sleep(Duration::from_millis(1 << (attempt - 2).min(6)));
            }
            let (list, interrupted) = self.dump_once(op, msg, flags, decode)?;
            if !interrupted {
                return Ok(list);
            }
        }
        Err(Error::DumpInterrupted { op, attempts: self.dump_attempts })
    }

    /// One dump; returns the messages and whether it was interrupted. Always
    /// reads to the end of the dump so the socket stays in step.
    fn dump_once<R>(
        &mut self,
        op: Op,
        msg: &RouteNetlinkMessage,
        flags: u16,
        decode: Decoder<'_, R>,
    ) -> Result<(Vec<R>, bool)> {
        let seq = self.send(op, &[(msg, flags | NLM_F_DUMP)])?;
        let port = self.port;
        let mut out = Vec::new();
        let mut interrupted = false;
        let mut first_error: Option<Error> = None;
        // Cleared once the dump is read to its end.
        self.unfinished_dump = Some(seq);
        loop {
            self.recv(op)?;
            let rx = std::mem::take(&mut self.rx);
            let mut finished = false;
            let mut outcome: Result<()> = Ok(());
            for m in frames(&rx) {
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        outcome = Err(malformed(op, e));
                        break;
                    }
                };
                let s = m.header.sequence_number;
                if m.header.port_number != port || Self::is_stale(s, seq) {
                    self.stale += 1;
                    continue;
                }
                if s != seq {
                    outcome = Err(Error::Protocol {
                        op,
                        kind: ProtocolError::UnexpectedSequence { expected: seq, got: s },
                    });
                    break;
                }
                if m.header.flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match m.header.message_type {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => {
                        outcome = Err(Error::Protocol { op, kind: ProtocolError::Overrun });
                        break;
                    }
                    NLMSG_DONE => {
                        let (code, ack) = extack::parse_done(m.header.flags, m.payload);
                        if code < 0 && first_error.is_none() {
                            first_error = Some(
                                Refusal { errno: code.saturating_neg(), ack }
                                    .into_error(op, object_of(msg)),
                            );
                        }
                        finished = true;
                        break;
                    }
                    NLMSG_ERROR => {
                        match extack::parse_error(m.header.flags, m.payload) {
                            Some((code, ack)) if code < 0 => {
                                if first_error.is_none() {
                                    first_error = Some(
                                        Refusal { errno: code.saturating_neg(), ack }
                                            .into_error(op, object_of(msg)),
                                    );
                                }
                            }
                            Some((code, _)) if code > 0 => {
                                first_error = Some(positive_code(op, code));
                            }
                            Some(_) => {}
                            None => {
                                first_error = Some(Error::Protocol {
                                    op,
                                    kind: ProtocolError::Malformed("short error message".into()),
                                })
                            }
                        }
                        finished = true;
                        break;
                    }
                    _ => {
                        self.dump_messages += 1;
                        match decode(&m.header, m.payload) {
                            Ok(Some(msg)) => out.push(msg),
                            Ok(None) => {}
                            Err(detail) => {
                                if first_error.is_none() {
                                    first_error = Some(Error::Decode { op, detail });
                                }
                            }
                        }
                    }
                }
            }
            self.rx = rx;
            outcome?;
            if finished {
                break;
            }
        }
        self.unfinished_dump = None;
        match first_error {
            Some(e) => Err(e),
            None => Ok((out, interrupted)),
        }
    }
}

#[cfg(test)]
mod tests;
