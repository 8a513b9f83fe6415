//! nftables over netlink: just enough of the nf_tables protocol for the
//! plugin's masquerading (see `masq.rs`), written here so that a change
//! costs one `sendmsg` instead of an `nft` process (~10 ms each).
//!
//! Kernel: a `NETLINK_NETFILTER` socket; changes go as one batch
//! (`NFNL_MSG_BATCH_BEGIN`, the `NFT_MSG_*` requests of subsystem
//! `NFNL_SUBSYS_NFTABLES`, `NFNL_MSG_BATCH_END`), which the kernel applies
//! as one transaction: all or nothing. Reads are dumps (`NLM_F_DUMP`).
//! Needs `CAP_NET_ADMIN` in the namespace. The message and attribute
//! numbers are those of `linux/netfilter/nf_tables.h` and
//! `linux/netfilter/nfnetlink.h`.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, send,
    socket,
};

/// `NFNL_SUBSYS_NFTABLES`.
const SUBSYS: u16 = 10;
const BATCH_BEGIN: u16 = 16;
const BATCH_END: u16 = 17;

/// `NFT_MSG_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum MsgType {
    NewTable = 0,
    DelTable = 2,
    NewChain = 3,
    GetChain = 4,
    DelChain = 5,
    NewRule = 6,
    GetRule = 7,
    DelRule = 8,
    NewSet = 9,
    NewSetElem = 12,
    GetSetElem = 13,
    DelSetElem = 14,
}

/// `NFPROTO_INET`: tables of family `inet`.
const FAMILY_INET: u8 = 1;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_CREATE`.
pub const CREATE: u16 = 0x400;
/// `NLM_F_EXCL`.
pub const EXCL: u16 = 0x200;
/// `NLM_F_APPEND`.
pub const APPEND: u16 = 0x800;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLA_F_NESTED: u16 = 0x8000;
const HEADER: usize = 16;
const NFGEN: usize = 4;

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// One request being written: a netlink header, `nfgenmsg`, attributes.
#[derive(Debug)]
pub struct Msg<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
    nests: Vec<usize>,
}

impl Msg<'_> {
    /// An attribute with `data` as its value.
    pub fn bytes(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// A NUL-terminated string attribute.
    pub fn str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.bytes(ty, &v)
    }

    /// A 32-bit attribute in network byte order (nf_tables' convention).
    pub fn u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.bytes(ty, &v.to_be_bytes())
    }

    /// Opens a nested attribute; close it with [`end`](Msg::end).
    pub fn nest(&mut self, ty: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Closes the innermost nested attribute.
    pub fn end(&mut self) -> &mut Self {
        if let Some(at) = self.nests.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }
}

impl Drop for Msg<'_> {
    fn drop(&mut self) {
        while !self.nests.is_empty() {
            self.end();
        }
        let len = (self.buf.len() - self.start) as u32;
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

fn push_header(buf: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&[family, 0]);
    buf.extend_from_slice(&res_id.to_be_bytes());
}

/// A failure: the kernel's errno (with what was being done) or the
/// socket's.
#[derive(Debug)]
pub struct NftError {
    /// What was being done.
    pub what: String,
    /// The errno.
    pub errno: Errno,
}

impl std::fmt::Display for NftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.what, self.errno.desc(), self.errno)
    }
}

/// A `NETLINK_NETFILTER` socket in the calling thread's namespace.
#[derive(Debug)]
pub struct Nft {
    fd: OwnedFd,
    seq: u32,
    rx: Vec<u8>,
}

/// One reply message: its attributes (after `nfgenmsg`), raw.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The attributes.
    pub attrs: Vec<u8>,
}

/// The attributes in `data`: (type without flags, value).
pub fn attrs(mut data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let ty = u16::from_ne_bytes([data[2], data[3]]) & 0x3fff;
        if len < 4 || len > data.len() {
            break;
        }
        out.push((ty, &data[4..len]));
        data = &data[align(len).min(data.len())..];
    }
    out
}

/// The value of attribute `ty` in `data`.
pub fn attr(data: &[u8], ty: u16) -> Option<&[u8]> {
    attrs(data).into_iter().find(|(t, _)| *t == ty).map(|(_, v)| v)
}

/// A string attribute's value, without its NUL.
pub fn attr_str(data: &[u8], ty: u16) -> Option<String> {
    let v = attr(data, ty)?;
    let v = v.split(|b| *b == 0).next().unwrap_or_default();
    Some(String::from_utf8_lossy(v).into_owned())
}

impl Nft {
    /// Opens the socket.
    pub fn open() -> Result<Nft, NftError> {
        let fail = |what: &str| {
            let what = what.to_owned();
            move |errno| NftError { what, errno }
        };
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )
        .map_err(fail("cannot open a netfilter netlink socket"))?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))
            .map_err(fail("cannot bind the netfilter netlink socket"))?;
        Ok(Nft { fd, seq: 0, rx: vec![0; 64 * 1024] })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn recv(&mut self, flags: MsgFlags) -> Result<usize, Errno> {
        loop {
            match recv(self.fd.as_raw_fd(), &mut self.rx, flags) {
                Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }

    /// Sends the requests `build` writes as one transaction, and checks
    /// every acknowledgement. `what` names the change in errors.
    pub fn transaction(
        &mut self,
        what: &str,
        build: impl FnOnce(&mut Batch<'_>),
    ) -> Result<(), NftError> {
        let fail = |errno| NftError { what: what.to_owned(), errno };
        let mut buf = Vec::with_capacity(4096);
        let first = self.next_seq();
        push_header(&mut buf, BATCH_BEGIN, NLM_F_REQUEST, first, 0, SUBSYS);
        let len = buf.len() as u32;
        buf[0..4].copy_from_slice(&len.to_ne_bytes());
        let mut batch = Batch { buf: &mut buf, seq: first, count: 0 };
        build(&mut batch);
        let (last, count) = (batch.seq, batch.count);
        self.seq = last.wrapping_add(1);
        let end = buf.len();
        push_header(&mut buf, BATCH_END, NLM_F_REQUEST, self.seq, 0, SUBSYS);
        let len = (buf.len() - end) as u32;
        buf[end..end + 4].copy_from_slice(&len.to_ne_bytes());
        if count == 0 {
            return Ok(());
        }
        send(self.fd.as_raw_fd(), &buf, MsgFlags::empty()).map_err(fail)?;
        // The kernel handles a batch inside sendmsg(2): every answer is
        // queued on the socket by now.
        let mut acked = 0;
        let mut refused = None;
        while acked < count {
            let n = match self.recv(MsgFlags::MSG_DONTWAIT) {
                Ok(n) => n,
                Err(Errno::EAGAIN) => break,
                Err(e) => return Err(fail(e)),
            };
            for (ty, _, seq, payload) in messages(&self.rx[..n]) {
                if ty != NLMSG_ERROR || seq <= first || seq > last || payload.len() < 4 {
                    continue;
                }
                acked += 1;
                let code = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
                if code < 0 && refused.is_none() {
                    refused = Some(Errno::from_raw(-code));
                }
            }
        }
        match refused {
            Some(e) => Err(fail(e)),
            None if acked < count => Err(fail(Errno::EPROTO)),
            None => Ok(()),
        }
    }

    /// A dump of `ty` for family `inet`, with the filter attributes
    /// `filter` writes: every reply message.
    pub fn dump(
        &mut self,
        what: &str,
        ty: MsgType,
        filter: impl FnOnce(&mut Msg<'_>),
    ) -> Result<Vec<Reply>, NftError> {
        self.get(what, ty, NLM_F_DUMP, filter)
    }

    /// One `get` request (a dump with `NLM_F_DUMP` in `flags`); a missing
    /// object is `Ok(empty)`.
    pub fn get(
        &mut self,
        what: &str,
        ty: MsgType,
        flags: u16,
        filter: impl FnOnce(&mut Msg<'_>),
    ) -> Result<Vec<Reply>, NftError> {
        let fail = |errno| NftError { what: what.to_owned(), errno };
        let seq = self.next_seq();
        let mut buf = Vec::with_capacity(256);
        push_header(
            &mut buf,
            (SUBSYS << 8) | ty as u16,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            seq,
            FAMILY_INET,
            0,
        );
        {
            let mut m = Msg { buf: &mut buf, start: 0, nests: Vec::new() };
            filter(&mut m);
        }
        send(self.fd.as_raw_fd(), &buf, MsgFlags::empty()).map_err(fail)?;
        let mut out = Vec::new();
        loop {
            let n = self.recv(MsgFlags::empty()).map_err(fail)?;
            for (t, _, s, payload) in messages(&self.rx[..n]) {
                if s != seq {
                    continue;
                }
                match t {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let code = payload
                            .get(..4)
                            .map_or(0, |p| i32::from_ne_bytes([p[0], p[1], p[2], p[3]]));
                        return match code {
                            0 => Ok(out),
                            c if -c == Errno::ENOENT as i32 => Ok(Vec::new()),
                            c => Err(fail(Errno::from_raw(-c))),
                        };
                    }
                    // Parts of a dump, or the single answer of a get (its
                    // acknowledgement follows).
                    _ if payload.len() >= NFGEN => {
                        out.push(Reply { attrs: payload[NFGEN..].to_vec() });
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The netlink messages in a datagram: (type, flags, seq, payload).
fn messages(mut data: &[u8]) -> Vec<(u16, u16, u32, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= HEADER {
        let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if len < HEADER || len > data.len() {
            break;
        }
        let ty = u16::from_ne_bytes([data[4], data[5]]);
        let flags = u16::from_ne_bytes([data[6], data[7]]);
        let seq = u32::from_ne_bytes([data[8], data[9], data[10], data[11]]);
        out.push((ty, flags, seq, &data[HEADER..len]));
        data = &data[align(len).min(data.len())..];
    }
    out
}

/// The requests of one transaction.
#[derive(Debug)]
pub struct Batch<'a> {
    buf: &'a mut Vec<u8>,
    seq: u32,
    count: usize,
}

impl Batch<'_> {
    /// Starts request `ty` (family `inet`, acknowledged, with `flags`);
    /// its attributes are written on the returned message.
    pub fn msg(&mut self, ty: MsgType, flags: u16) -> Msg<'_> {
        self.seq = self.seq.wrapping_add(1);
        self.count += 1;
        let start = self.buf.len();
        push_header(
            self.buf,
            (SUBSYS << 8) | ty as u16,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            self.seq,
            FAMILY_INET,
            0,
        );
        Msg { buf: self.buf, start, nests: Vec::new() }
    }
}
