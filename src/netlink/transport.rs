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
pub(crate) trait Transport {
    /// Sends one datagram.
    fn send(&mut self, buf: &[u8]) -> Result<(), Errno>;
    /// Receives one datagram into `buf` (resized to the bytes received).
    /// Returns the datagram's real length (more than `buf.len()` only if it
    /// was truncated), or `None` for a datagram not sent by the kernel.
    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>, Errno>;
    /// Sets the receive timeout.
    fn set_timeout(&self, timeout: Duration) -> Result<(), Errno>;
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

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
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
        sock.set_netlink_get_strict_chk(true).map_err(|e| err(&e))?;
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
    fn send(&mut self, buf: &[u8]) -> Result<(), Errno> {
        let n = self.sock.send(buf, 0).map_err(|e| io_errno(&e))?;
        if n != buf.len() {
            return Err(Errno::EMSGSIZE);
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>, Errno> {
        // Learn the datagram's size without consuming it, then make room.
        let mut empty: &mut [u8] = &mut [];
        let (len, _) = self
            .sock
            .recv_from(&mut empty, libc::MSG_PEEK | libc::MSG_TRUNC)
            .map_err(|e| io_errno(&e))?;
        buf.clear();
        buf.reserve(len.max(1));
        let (got, from) = self.sock.recv_from(buf, libc::MSG_TRUNC).map_err(|e| io_errno(&e))?;
        if from.port_number() != 0 {
            return Ok(None);
        }
        Ok(Some(got))
    }

    fn set_timeout(&self, timeout: Duration) -> Result<(), Errno> {
        let tv = TimeVal::new(
            timeout.as_secs().try_into().unwrap_or(i64::MAX),
            timeout.subsec_micros().into(),
        );
        setsockopt(&self.sock, sockopt::ReceiveTimeout, &tv)
    }
}
