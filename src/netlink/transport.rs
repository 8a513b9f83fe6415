//! The seam between the exchange logic and the kernel: the real socket, and
//! (in tests) a fake that replays canned datagrams.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::Duration;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

use crate::error::{Error, Object, ObjectKind, Op, Result};

/// Sends request datagrams and receives reply datagrams.
/// Why a transport call failed: the kernel's errno, or (never seen in
/// practice) an I/O error without one. No errno is made up for the latter.
#[derive(Debug)]
pub(crate) enum Failure {
    Os(Errno),
    NoErrno(std::io::Error),
}

impl From<Errno> for Failure {
    fn from(e: Errno) -> Failure {
        Failure::Os(e)
    }
}

impl Failure {
    fn from_io(e: std::io::Error) -> Failure {
        match e.raw_os_error() {
            Some(n) => Failure::Os(Errno::from_raw(n)),
            None => Failure::NoErrno(e),
        }
    }

    /// The error for `op` on a netlink socket.
    pub(crate) fn into_error(self, op: Op) -> Error {
        let object = Object::unnamed(ObjectKind::Socket);
        match self {
            Failure::Os(e) => Error::os(op, object, e),
            Failure::NoErrno(e) => Error::io(op, object, &e),
        }
    }
}

pub(crate) trait Transport {
    /// Sends one datagram; returns the bytes sent.
    fn send(&mut self, buf: &[u8]) -> Result<usize, Failure>;
    /// Receives one datagram into `buf` (resized to the bytes received).
    /// Returns the datagram's real length (more than `buf.len()` only if it
    /// was truncated), or `None` for a datagram not sent by the kernel.
    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>, Failure>;
    /// Sets the receive timeout.
    fn set_timeout(&self, timeout: Duration) -> Result<(), Failure>;
}

/// Receive buffer requested for the socket: room for the acks of a full
/// batch and for large dumps.
const RCVBUF: usize = 4 << 20;

/// The real `NETLINK_ROUTE` socket. `netlink_sys::Socket` is `Clone` and
/// closes on drop; it is never cloned here, only shared through an `Arc`
/// (with the [`RouteSocket`](super::RouteSocket) that owns this transport,
/// for `AsFd`), so the descriptor is closed exactly once.
pub(crate) struct SysTransport {
    sock: Arc<Socket>,
    port: u32,
}

impl SysTransport {
    /// Opens, binds and connects a socket in the calling thread's namespace
    /// with extended acks, capped acks and strict checking on.
    pub(crate) fn open() -> Result<SysTransport> {
        let op = Op::OpenNetlink;
        let err = |e: &std::io::Error| Error::io(op, Object::unnamed(ObjectKind::Socket), e);
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| err(&e))?;
        let addr = sock.bind_auto().map_err(|e| err(&e))?;
        sock.connect(&SocketAddr::new(0, 0)).map_err(|e| err(&e))?;
        sock.set_ext_ack(true).map_err(|e| err(&e))?;
        sock.set_cap_ack(true).map_err(|e| err(&e))?;
        // Strict checking (Linux 4.20+) makes the kernel filter dumps by
        // the request's header and attributes; an older kernel refuses the
        // option with ENOPROTOOPT, and then sends whole dumps, which the
        // decoders of filtered dumps filter themselves.
        match sock.set_netlink_get_strict_chk(true) {
            Err(e) if e.raw_os_error() != Some(libc::ENOPROTOOPT) => return Err(err(&e)),
            _ => {}
        }
        // Best effort: RCVBUFFORCE needs CAP_NET_ADMIN, plain RCVBUF is capped
        // by rmem_max.
        if setsockopt(&sock, sockopt::RcvBufForce, &RCVBUF).is_err() {
            let _ = setsockopt(&sock, sockopt::RcvBuf, &RCVBUF);
        }
        Ok(SysTransport { port: addr.port_number(), sock: Arc::new(sock) })
    }

    /// The socket, shared.
    pub(crate) fn socket(&self) -> Arc<Socket> {
        Arc::clone(&self.sock)
    }

    /// The port id the kernel assigned.
    pub(crate) fn port(&self) -> u32 {
        self.port
    }
}

impl AsFd for SysTransport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Transport for SysTransport {
    fn send(&mut self, buf: &[u8]) -> Result<usize, Failure> {
        crate::sys::fault::check(crate::sys::fault::Call::Send)?;
        self.sock.send(buf, 0).map_err(Failure::from_io)
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>, Failure> {
        crate::sys::fault::check(crate::sys::fault::Call::Recv)?;
        // Learn the datagram's size without consuming it, then make room.
        let mut empty: &mut [u8] = &mut [];
        let (len, _) = self
            .sock
            .recv_from(&mut empty, libc::MSG_PEEK | libc::MSG_TRUNC)
            .map_err(Failure::from_io)?;
        buf.clear();
        buf.reserve(len.max(1));
        let (got, from) = self.sock.recv_from(buf, libc::MSG_TRUNC).map_err(Failure::from_io)?;
        if from.port_number() != 0 {
            return Ok(None);
        }
        Ok(Some(got))
    }

    fn set_timeout(&self, timeout: Duration) -> Result<(), Failure> {
        let tv = TimeVal::new(
            timeout.as_secs().try_into().unwrap_or(i64::MAX),
            timeout.subsec_micros().into(),
        );
        setsockopt(&self.sock, sockopt::ReceiveTimeout, &tv).map_err(Failure::Os)
    }
}
