//! Netlink framing (netlink(7)): writing request headers and splitting a
//! reply datagram into messages, both with `netlink-packet-core`
//! ([`NetlinkHeader`] to emit and parse the 16-byte `nlmsghdr`,
//! [`NetlinkBuffer`] to check each message's length against the datagram).
//!
//! Self-contained on purpose (it uses nothing of nslink's), so that
//! `benches/framing.rs` measures this very code.
//!
//! [`NetlinkMessage`](netlink_packet_core::NetlinkMessage) is not used for
//! the exchange itself: it owns its payload (a dump retried after
//! `NLM_F_DUMP_INTR` re-sends the same request, which would mean a clone per
//! attempt), decodes the payload before the sequence number and port could
//! be checked (a stale reply would be decoded for nothing, or fail to), and
//! its `NLMSG_ERROR` type keeps no extended-ack attributes.

use netlink_packet_core::{
    DecodeError, Emitable, NLMSG_ALIGNTO, NetlinkBuffer, NetlinkHeader, NetlinkSerializable,
    Parseable,
};

/// Rounds `len` up to the netlink message alignment (`NLMSG_ALIGN`).
pub(crate) fn align(len: usize) -> usize {
    let a = usize::from(NLMSG_ALIGNTO);
    len.saturating_add(a - 1) & !(a - 1)
}

/// The size of a netlink message header (`NLMSG_HDRLEN`).
pub(crate) fn header_len() -> usize {
    NetlinkHeader::default().buffer_len()
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
/// shorter than a header or longer than what is left ends the walk with an
/// error (and nothing after it is returned).
#[derive(Debug, Clone)]
pub(crate) struct Frames<'a> {
    rest: &'a [u8],
}

/// Walks the messages of `datagram`.
pub(crate) fn frames(datagram: &[u8]) -> Frames<'_> {
    Frames { rest: datagram }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest: &'a [u8] = self.rest;
        let parsed = NetlinkBuffer::new_checked(rest).and_then(|buf| {
            let header = NetlinkHeader::parse(&buf)?;
            Ok(Frame { header, payload: buf.payload() })
        });
        match parsed {
            Ok(frame) => {
                let next = align(frame.header.length as usize);
                self.rest = rest.get(next..).unwrap_or(&[]);
                Some(Ok(frame))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}
