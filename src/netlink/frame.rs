//! Netlink framing (netlink(7)): writing request headers and splitting a
//! reply datagram into messages.
//!
//! Requests are framed by `netlink-packet-core` ([`NetlinkHeader`] emits
//! the 16-byte `nlmsghdr`, the message serialises itself after it). The
//! reply splitter is nslink's own, because `benches/framing.rs` measures it
//! faster than the same walk done with `netlink-packet-core`'s
//! `NetlinkBuffer` (whose every field read is a checked, out-of-line call):
//! see the figures in the [module docs](super). It reads the header by the
//! layout of `libc::nlmsghdr` and checks every length; the header it yields
//! is `netlink-packet-core`'s [`NetlinkHeader`].
//!
//! Self-contained on purpose (it uses nothing of nslink's), so that the
//! benchmark measures this very code.
//!
//! [`NetlinkMessage`](netlink_packet_core::NetlinkMessage) is not used for
//! the exchange itself: it owns its payload (a dump retried after
//! `NLM_F_DUMP_INTR` re-sends the same request, which would mean a clone per
//! attempt), decodes the payload before the sequence number and port could
//! be checked (a stale reply would be decoded for nothing, or fail to), and
//! its `NLMSG_ERROR` type keeps no extended-ack attributes.

use std::mem::{offset_of, size_of};

use netlink_packet_core::{Emitable, NLMSG_ALIGNTO, NetlinkHeader, NetlinkSerializable};
use nix::libc::nlmsghdr;

/// Rounds `len` up to the netlink message alignment (`NLMSG_ALIGN`).
pub(crate) fn align(len: usize) -> usize {
    let a = usize::from(NLMSG_ALIGNTO);
    len.saturating_add(a - 1) & !(a - 1)
}

/// The size of a netlink message header (`NLMSG_HDRLEN`).
pub(crate) const fn header_len() -> usize {
    size_of::<nlmsghdr>()
}

/// Appends one request message to `out`: header (length, type from `msg`,
/// `flags`, `seq`, port 0 = the kernel) then `msg`'s payload, padded to the
/// alignment.
pub(crate) fn push_request<M: NetlinkSerializable>(
    out: &mut Vec<u8>,
    msg: &M,
    flags: u16,
    seq: u32,
) {
    let hdr = header_len();
    let len = hdr + msg.buffer_len();
    let mut header = NetlinkHeader::default();
    header.length = u32::try_from(len).unwrap_or(u32::MAX);
    header.message_type = msg.message_type();
    header.flags = flags;
    header.sequence_number = seq;
    header.port_number = 0;
    let start = out.len();
    out.resize(start + align(len), 0);
    header.emit(&mut out[start..start + hdr]);
    msg.serialize(&mut out[start + hdr..start + len]);
}

/// One message of a datagram: its header and its payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// The parsed `nlmsghdr`.
    pub(crate) header: NetlinkHeader,
    /// The bytes after the header, up to the header's length.
    pub(crate) payload: &'a [u8],
}

/// The messages of one datagram, in order. A message whose length field is
/// shorter than a header or longer than what is left, or trailing bytes
/// too short for a header, end the walk with an error (and nothing after it
/// is returned).
#[derive(Debug, Clone)]
pub(crate) struct Frames<'a> {
    rest: &'a [u8],
}

/// Walks the messages of `datagram`.
pub(crate) fn frames(datagram: &[u8]) -> Frames<'_> {
    Frames { rest: datagram }
}

fn field_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_ne_bytes)
}

fn field_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).and_then(|s| s.try_into().ok()).map_or(0, u16::from_ne_bytes)
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest: &'a [u8] = self.rest;
        if rest.is_empty() {
            return None;
        }
        let hdr = header_len();
        if rest.len() < hdr {
            self.rest = &[];
            return Some(Err(format!("{} trailing bytes, less than a header", rest.len())));
        }
        let len = field_u32(rest, offset_of!(nlmsghdr, nlmsg_len)) as usize;
        if len < hdr || len > rest.len() {
            self.rest = &[];
            return Some(Err(format!("message length {len} with {} bytes left", rest.len())));
        }
        let mut header = NetlinkHeader::default();
        header.length = len as u32;
        header.message_type = field_u16(rest, offset_of!(nlmsghdr, nlmsg_type));
        header.flags = field_u16(rest, offset_of!(nlmsghdr, nlmsg_flags));
        header.sequence_number = field_u32(rest, offset_of!(nlmsghdr, nlmsg_seq));
        header.port_number = field_u32(rest, offset_of!(nlmsghdr, nlmsg_pid));
        self.rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(Ok(Frame { header, payload: &rest[hdr..len] }))
    }
}
