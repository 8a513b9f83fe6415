//! Parsing of the kernel's extended acknowledgement (`NETLINK_EXT_ACK`,
//! netlink(7)): the `NLMSGERR_ATTR_*` attributes that follow an
//! `NLMSG_ERROR` or `NLMSG_DONE` message.
//!
//! A pure function of bytes: it never panics, whatever it is given, and a
//! malformed attribute only means less information (the errno is always
//! kept). The framing is `netlink-packet-core`'s ([`ErrorBuffer`],
//! [`DoneBuffer`], [`NetlinkBuffer`], [`NlasIterator`]); the flags are its
//! [`NLM_F_CAPPED`] and [`NLM_F_ACK_TLVS`].

use netlink_packet_core::{
    DoneBuffer, ErrorBuffer, NLM_F_ACK_TLVS, NLM_F_CAPPED, NetlinkBuffer, NlasIterator,
};

use super::frame;

/// The extended-ack attribute types of `<linux/netlink.h>` (`enum
/// nlmsgerr_attrs`), which neither `libc` nor `netlink-packet-core` export.
mod attr {
    /// `NLMSGERR_ATTR_MSG`: a NUL-terminated message.
    pub(super) const MSG: u16 = 1;
    /// `NLMSGERR_ATTR_OFFS`: offset of the offending attribute in the request.
    pub(super) const OFFS: u16 = 2;
    /// `NLMSGERR_ATTR_MISS_TYPE`: type of a missing attribute.
    pub(super) const MISS_TYPE: u16 = 5;
    /// `NLMSGERR_ATTR_MISS_NEST`: offset of the nest lacking it.
    pub(super) const MISS_NEST: u16 = 6;
}

/// What the kernel said besides the errno.
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// if let Err(e) = nl.set_mtu("lo", 1) {
///     println!("the kernel says: {:?}", e.extack()); // e.g. "mtu less than device minimum"
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtAck {
    /// The human-readable message (`NLMSGERR_ATTR_MSG`), e.g. "The interface
    /// netns is immutable".
    pub message: Option<String>,
    /// Byte offset, from the start of our request, of the attribute the
    /// kernel objected to (`NLMSGERR_ATTR_OFFS`).
    pub offset: Option<u32>,
    /// The type of a missing attribute (`NLMSGERR_ATTR_MISS_TYPE`).
    pub missing_type: Option<u32>,
    /// The offset of the nest that lacks it (`NLMSGERR_ATTR_MISS_NEST`).
    pub missing_nest: Option<u32>,
}

impl ExtAck {
    /// True when the kernel sent nothing besides the errno.
    ///
    /// ```
    /// assert!(nslink::netlink::extack::ExtAck::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.message.is_none()
            && self.offset.is_none()
            && self.missing_type.is_none()
            && self.missing_nest.is_none()
    }
}

fn read_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

/// Walks `NLMSGERR_ATTR_*` attributes; stops quietly at the first
/// malformed one.
fn parse_tlvs(b: &[u8]) -> ExtAck {
    let mut ack = ExtAck::default();
    for nla in NlasIterator::new(b) {
        let Ok(nla) = nla else { break };
        let value = nla.value();
        match nla.kind() {
            attr::MSG => {
                let end = value.iter().position(|&c| c == 0).unwrap_or(value.len());
                let text = String::from_utf8_lossy(&value[..end]).trim().to_owned();
                if !text.is_empty() {
                    ack.message = Some(text);
                }
            }
            attr::OFFS => ack.offset = read_u32(value),
            attr::MISS_TYPE => ack.missing_type = read_u32(value),
            attr::MISS_NEST => ack.missing_nest = read_u32(value),
            _ => {}
        }
    }
    ack
}

/// Parses the payload of an `NLMSG_ERROR` message (everything after the
/// outer 16-byte header). `flags` are the outer header's flags.
///
/// Returns the error code (0 for an acknowledgement, a negative errno
/// otherwise) and the extended ack; `None` when the payload is too short to
/// hold even the code.
///
/// Kernel: none; reads `struct nlmsgerr` and the `NLMSGERR_ATTR_*`
/// attributes that follow it (netlink(7)).
///
/// ```
/// use nslink::netlink::extack::parse_error;
/// use nslink::netlink_packet_core::{NLM_F_ACK_TLVS, NLM_F_CAPPED};
///
/// let mut p = Vec::new();
/// p.extend_from_slice(&(-22i32).to_ne_bytes());   // -EINVAL
/// p.extend_from_slice(&[0u8; 16]);                 // the request's header
/// p.extend_from_slice(&12u16.to_ne_bytes());       // TLV: len 12
/// p.extend_from_slice(&1u16.to_ne_bytes());        //      NLMSGERR_ATTR_MSG
/// p.extend_from_slice(b"bad\0\0\0\0\0");           //      "bad", padded
/// let (code, ack) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p).unwrap();
/// assert_eq!(code, -22);
/// assert_eq!(ack.message.as_deref(), Some("bad"));
/// ```
pub fn parse_error(flags: u16, payload: &[u8]) -> Option<(i32, ExtAck)> {
    let err = ErrorBuffer::new_checked(payload).ok()?;
    let code = err.code().map_or(0, |c| c.get());
    if flags & NLM_F_ACK_TLVS == 0 {
        return Some((code, ExtAck::default()));
    }
    let echoed = err.payload();
    // The echoed request: its header always, its payload unless capped.
    let skip = if flags & NLM_F_CAPPED != 0 {
        frame::header_len()
    } else {
        match NetlinkBuffer::new_checked(echoed) {
            Ok(request) => frame::align(request.length() as usize),
            Err(_) => return Some((code, ExtAck::default())),
        }
    };
    let tlvs = echoed.get(skip..).unwrap_or(&[]);
    Some((code, parse_tlvs(tlvs)))
}

/// Parses the payload of an `NLMSG_DONE` message that ends a dump: the
/// dump's final status and, with `NLM_F_ACK_TLVS`, an extended ack.
/// A payload too short for the status (very old kernels) means success.
///
/// Kernel: none; reads the bytes (netlink(7)).
///
/// ```
/// use nslink::netlink::extack::parse_done;
///
/// let (code, ack) = parse_done(0, &0i32.to_ne_bytes());
/// assert_eq!(code, 0);
/// assert!(ack.is_empty());
/// ```
pub fn parse_done(flags: u16, payload: &[u8]) -> (i32, ExtAck) {
    let Ok(done) = DoneBuffer::new_checked(payload) else {
        return (0, ExtAck::default());
    };
    let code = done.code();
    if flags & NLM_F_ACK_TLVS == 0 {
        return (code, ExtAck::default());
    }
    (code, parse_tlvs(done.extended_ack()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn request_header(len: u32) -> Vec<u8> {
        let mut v = len.to_ne_bytes().to_vec();
        v.extend_from_slice(&[0u8; 12]);
        v
    }

    #[test]
    fn ack_without_tlvs() {
        let mut p = 0i32.to_ne_bytes().to_vec();
        p.extend(request_header(16));
        assert_eq!(parse_error(0, &p), Some((0, ExtAck::default())));
    }

    #[test]
    fn capped_error_with_message_offset_and_missing() {
        let mut p = (-22i32).to_ne_bytes().to_vec();
        p.extend(request_header(64));
        p.extend(tlv(attr::MSG, b"The interface netns is immutable\0"));
        p.extend(tlv(attr::OFFS, &40u32.to_ne_bytes()));
        p.extend(tlv(attr::MISS_TYPE, &3u32.to_ne_bytes()));
        p.extend(tlv(attr::MISS_NEST, &20u32.to_ne_bytes()));
        let (code, ack) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p).unwrap();
        assert_eq!(code, -22);
        assert_eq!(ack.message.as_deref(), Some("The interface netns is immutable"));
        assert_eq!(ack.offset, Some(40));
        assert_eq!(ack.missing_type, Some(3));
        assert_eq!(ack.missing_nest, Some(20));
    }

    #[test]
    fn uncapped_error_skips_the_echoed_request() {
        let mut p = (-17i32).to_ne_bytes().to_vec();
        // A 22-byte request (header + 6 bytes), padded to 24 when echoed.
        p.extend(request_header(22));
        p.extend_from_slice(&[0xAA; 8]);
        p.extend(tlv(attr::MSG, b"exists\0"));
        let (code, ack) = parse_error(NLM_F_ACK_TLVS, &p).unwrap();
        assert_eq!(code, -17);
        assert_eq!(ack.message.as_deref(), Some("exists"));
    }

    #[test]
    fn tlvs_are_ignored_without_the_flag() {
        let mut p = (-1i32).to_ne_bytes().to_vec();
        p.extend(request_header(16));
        p.extend(tlv(attr::MSG, b"x\0"));
        assert_eq!(parse_error(NLM_F_CAPPED, &p).unwrap().1, ExtAck::default());
    }

    #[test]
    fn malformed_inputs_never_panic_and_keep_the_code() {
        assert_eq!(parse_error(NLM_F_ACK_TLVS, &[]), None);
        assert_eq!(parse_error(NLM_F_ACK_TLVS, &[1, 2, 3]), None);
        let base = {
            let mut p = (-95i32).to_ne_bytes().to_vec();
            p.extend(request_header(16));
            p
        };
        let cases: Vec<Vec<u8>> = vec![
            // TLV length 0, 1 and 3 (shorter than its own header)
            [0u16.to_ne_bytes(), 1u16.to_ne_bytes()].concat(),
            [1u16.to_ne_bytes(), 1u16.to_ne_bytes()].concat(),
            [3u16.to_ne_bytes(), 1u16.to_ne_bytes()].concat(),
            // TLV longer than what is left
            [200u16.to_ne_bytes(), 1u16.to_ne_bytes()].concat(),
            // a lone byte, a half header
            vec![7],
            vec![8, 0],
            // OFFS with a short value
            [6u16.to_ne_bytes(), 2u16.to_ne_bytes(), [1, 2]].concat(),
            // message without NUL, not UTF-8
            [7u16.to_ne_bytes(), 1u16.to_ne_bytes()]
                .concat()
                .into_iter()
                .chain([0xff, 0xfe, 0x41])
                .collect(),
        ];
        for extra in cases {
            for flags in [NLM_F_ACK_TLVS, NLM_F_ACK_TLVS | NLM_F_CAPPED] {
                let mut p = base.clone();
                p.extend_from_slice(&extra);
                let (code, _) = parse_error(flags, &p).unwrap();
                assert_eq!(code, -95);
            }
        }
        // Uncapped with an echoed length far beyond the payload.
        let mut p = (-1i32).to_ne_bytes().to_vec();
        p.extend(request_header(u32::MAX));
        assert_eq!(parse_error(NLM_F_ACK_TLVS, &p).unwrap().0, -1);
        // Uncapped, echoed header itself cut short.
        assert_eq!(parse_error(NLM_F_ACK_TLVS, &[0, 0, 0, 0, 1]).unwrap().0, 0);
    }

    #[test]
    fn every_prefix_and_byte_flip_is_safe() {
        let mut p = (-22i32).to_ne_bytes().to_vec();
        p.extend(request_header(40));
        p.extend(tlv(attr::MSG, b"some message\0"));
        p.extend(tlv(attr::OFFS, &36u32.to_ne_bytes()));
        for cut in 0..=p.len() {
            for flags in [0, NLM_F_ACK_TLVS, NLM_F_ACK_TLVS | NLM_F_CAPPED] {
                let _ = parse_error(flags, &p[..cut]);
                let _ = parse_done(flags, &p[..cut]);
            }
        }
        for i in 0..p.len() {
            for v in [0u8, 1, 3, 0x7f, 0xff] {
                let mut q = p.clone();
                q[i] = v;
                let _ = parse_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, &q);
                let _ = parse_error(NLM_F_ACK_TLVS, &q);
            }
        }
    }

    #[test]
    fn done_with_and_without_tlvs() {
        assert_eq!(parse_done(0, &[]), (0, ExtAck::default()));
        let mut p = (-4i32).to_ne_bytes().to_vec();
        p.extend(tlv(attr::MSG, b"dump failed\0"));
        let (code, ack) = parse_done(NLM_F_ACK_TLVS, &p);
        assert_eq!(code, -4);
        assert_eq!(ack.message.as_deref(), Some("dump failed"));
        assert_eq!(parse_done(0, &p).1, ExtAck::default());
    }
}
