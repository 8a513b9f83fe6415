//! [`RouteSocket`]: a synchronous `NETLINK_ROUTE` socket that belongs to one
//! network namespace.
//!
//! A socket works on the namespace it was created in, from any thread, for
//! its whole life. [`RouteSocket::open_in`] creates it inside a [`NetNs`] on a
//! helper thread (the caller's thread never moves); afterwards every request
//! on it costs no `setns` at all.
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

mod batch;
pub mod extack;
pub(crate) mod transport;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable,
};
use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;

pub use netlink_packet_route as packet;

pub use self::batch::Batch;
pub(crate) use self::batch::Request;
use self::extack::ExtAck;
use self::transport::{SysTransport, Transport};
use crate::error::{Error, Op, ProtocolError, Result};
use crate::netns::NetNs;

/// Default receive timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of attempts for a dump the kernel reports as interrupted.
pub const DEFAULT_DUMP_ATTEMPTS: u32 = 8;
/// Most requests sent in one datagram by a batch (their acks must fit in the
/// socket's receive buffer).
pub(crate) const MAX_BATCH: usize = 128;

const HDR_LEN: usize = 16;

/// A kernel refusal: the errno and what the extended ack said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub errno: i32,
    pub ack: ExtAck,
}

impl Refusal {
    pub(crate) fn into_error(self, op: Op, object: impl Into<String>) -> Error {
        Error::Os {
            op,
            object: crate::error::Object::from(object.into()),
            errno: self.errno,
            extack: self.ack.message,
        }
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
    RouteNetlinkMessage::deserialize(h, payload).map(Some).map_err(|e| e.to_string())
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
    pub(crate) fn into_error(self, op: Op, object: impl Into<String>) -> Error {
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
    t: T,
    port: u32,
    seq: u32,
    rx: Vec<u8>,
    tx: Vec<u8>,
    timeout: Duration,
    dump_attempts: u32,
    stale: u64,
    warning: Option<String>,
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
    netns: NetNs,
    /// An `AF_INET` datagram socket inside `netns` for ethtool ioctls, made
    /// on first use.
    ethtool: OnceLock<OwnedFd>,
}

impl std::fmt::Debug for RouteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSocket").field("netns", &self.netns).finish_non_exhaustive()
    }
}

impl RouteSocket {
    /// Opens a socket in the calling thread's current namespace.
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

    /// Opens a socket inside `ns`. The socket is created on a helper thread
    /// that enters `ns` (and leaves it again), so the calling thread never
    /// changes namespace; afterwards the socket works on `ns` from any
    /// thread.
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
        let conn = Conn::new(t, port);
        conn.t.set_timeout(conn.timeout).map_err(|e| Error::os(Op::OpenNetlink, "socket", e))?;
        Ok(RouteSocket { conn: Mutex::new(conn), netns, ethtool: OnceLock::new() })
    }

    /// The namespace this socket works on.
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
    /// helper thread the first time).
    pub(crate) fn ethtool_socket(&self) -> Result<BorrowedFd<'_>> {
        if self.ethtool.get().is_none() {
            let fd =
                crate::netns::run_in(&self.netns, Op::Ethtool, crate::ethtool::control_socket)?;
            let _ = self.ethtool.set(fd);
        }
        match self.ethtool.get() {
            Some(fd) => Ok(fd.as_fd()),
            None => Err(Error::os(Op::Ethtool, "control socket", Errno::EBADF)),
        }
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
                object: "socket".into(),
                detail: format!("timeout {timeout:?} is below 1 ms"),
            });
        }
        let mut c = self.lock();
        c.t.set_timeout(timeout).map_err(|e| Error::os(Op::OpenNetlink, "socket", e))?;
        c.timeout = timeout;
        Ok(())
    }

    /// Sets how many times a dump is attempted when the kernel reports it
    /// interrupted (`NLM_F_DUMP_INTR`) before [`Error::DumpInterrupted`]
    /// (default 8, minimum 1).
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
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// assert_eq!(nl.stale_replies_skipped(), 0);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn stale_replies_skipped(&self) -> u64 {
        self.lock().stale
    }

    /// The escape hatch: sends any `netlink-packet-route` message and returns
    /// the kernel's replies. `flags` are added to `NLM_F_REQUEST`; with
    /// `NLM_F_DUMP` this is a dump (with interruption handling), otherwise an
    /// acknowledged request (`NLM_F_ACK` is added) whose data replies are
    /// returned.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::RawRequest`]) with the kernel's errno and
    /// message, and the other exchange errors.
    ///
    /// ```no_run
    /// use nslink::netlink::packet::{RouteNetlinkMessage, link::LinkMessage};
    /// use netlink_packet_core::NLM_F_DUMP;
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
        let op = Op::RawRequest;
        if flags & NLM_F_DUMP == NLM_F_DUMP {
            self.lock().dump(op, &msg, flags, &decode_route)
        } else {
            self.request(op, || "message".into(), msg, flags)
        }
    }

    /// One acknowledged request.
    pub(crate) fn request(
        &self,
        op: Op,
        object: impl FnOnce() -> String,
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

fn read_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_ne_bytes)
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).and_then(|s| s.try_into().ok()).map_or(0, u16::from_ne_bytes)
}

/// One message of a datagram, header fields plus payload.
struct Msg<'a> {
    header: NetlinkHeader,
    payload: &'a [u8],
}

/// Splits a datagram into messages; a malformed header is a protocol error.
fn split(op: Op, mut data: &[u8]) -> Result<Vec<Msg<'_>>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < HDR_LEN {
            return Err(Error::Protocol {
                op,
                kind: ProtocolError::Malformed(format!("{} trailing bytes", data.len())),
            });
        }
        let len = read_u32(data, 0) as usize;
        if len < HDR_LEN || len > data.len() {
            return Err(Error::Protocol {
                op,
                kind: ProtocolError::Malformed(format!(
                    "message length {len} with {} bytes left",
                    data.len()
                )),
            });
        }
        let mut header = NetlinkHeader::default();
        header.length = len as u32;
        header.message_type = read_u16(data, 4);
        header.flags = read_u16(data, 6);
        header.sequence_number = read_u32(data, 8);
        header.port_number = read_u32(data, 12);
        out.push(Msg { header, payload: &data[HDR_LEN..len] });
        let next = (len + 3) & !3;
        data = data.get(next..).unwrap_or(&[]);
    }
    Ok(out)
}

impl<T: Transport> Conn<T> {
    pub(crate) fn new(t: T, port: u32) -> Conn<T> {
        Conn {
            t,
            port,
            seq: 0,
            rx: Vec::with_capacity(32 * 1024),
            tx: Vec::with_capacity(4096),
            timeout: DEFAULT_TIMEOUT,
            dump_attempts: DEFAULT_DUMP_ATTEMPTS,
            stale: 0,
            warning: None,
        }
    }

    /// Serialises `msgs` into the send buffer with consecutive sequence
    /// numbers and sends them as one datagram; returns the first number.
    fn send(&mut self, op: Op, msgs: &[(&RouteNetlinkMessage, u16)]) -> Result<u32> {
        let first = self.seq.wrapping_add(1);
        self.tx.clear();
        for (i, (msg, flags)) in msgs.iter().enumerate() {
            let start = self.tx.len();
            let len = HDR_LEN + msg.buffer_len();
            self.tx.resize(start + ((len + 3) & !3), 0);
            let buf = &mut self.tx[start..start + len];
            buf[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
            buf[4..6].copy_from_slice(&msg.message_type().to_ne_bytes());
            buf[6..8].copy_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
            buf[8..12].copy_from_slice(&first.wrapping_add(i as u32).to_ne_bytes());
            buf[12..16].copy_from_slice(&0u32.to_ne_bytes());
            msg.serialize(&mut buf[HDR_LEN..]);
        }
        self.seq = first.wrapping_add(msgs.len() as u32).wrapping_sub(1);
        loop {
            match self.t.send(&self.tx) {
                Ok(()) => return Ok(first),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::os(op, "request", e)),
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
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(Error::Timeout { op, timeout: self.timeout }),
                Err(e) => return Err(Error::os(op, "reply", e)),
            }
        }
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
            let parsed = split(op, &rx);
            let mut outcome: Result<()> = Ok(());
            match parsed {
                Err(e) => outcome = Err(e),
                Ok(list) => {
                    for m in list {
                        let seq = m.header.sequence_number;
                        if m.header.port_number != port || Self::is_stale(seq, first) {
                            self.stale += 1;
                            continue;
                        }
                        let idx = seq.wrapping_sub(first) as usize;
                        if idx >= n || done[idx] {
                            outcome = Err(Error::Protocol {
                                op,
                                kind: ProtocolError::UnexpectedSequence {
                                    expected: first,
                                    got: seq,
                                },
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
                                let Some((code, ack)) =
                                    extack::parse_error(m.header.flags, m.payload)
                                else {
                                    outcome = Err(Error::Protocol {
                                        op,
                                        kind: ProtocolError::Malformed(
                                            "short error message".into(),
                                        ),
                                    });
                                    break;
                                };
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
                                        failed[idx] =
                                            Some(ReplyError::Other(Error::Decode { op, detail }));
                                    }
                                }
                            },
                        }
                    }
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
        loop {
            self.recv(op)?;
            let rx = std::mem::take(&mut self.rx);
            let mut finished = false;
            let mut outcome: Result<()> = Ok(());
            match split(op, &rx) {
                Err(e) => outcome = Err(e),
                Ok(list) => {
                    for m in list {
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
                                            .into_error(op, "dump"),
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
                                                    .into_error(op, "dump"),
                                            );
                                        }
                                    }
                                    Some(_) => {}
                                    None => {
                                        first_error = Some(Error::Protocol {
                                            op,
                                            kind: ProtocolError::Malformed(
                                                "short error message".into(),
                                            ),
                                        })
                                    }
                                }
                                finished = true;
                                break;
                            }
                            _ => match decode(&m.header, m.payload) {
                                Ok(Some(msg)) => out.push(msg),
                                Ok(None) => {}
                                Err(detail) => {
                                    if first_error.is_none() {
                                        first_error = Some(Error::Decode { op, detail });
                                    }
                                }
                            },
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
        match first_error {
            Some(e) => Err(e),
            None => Ok((out, interrupted)),
        }
    }
}

#[cfg(test)]
mod tests;
