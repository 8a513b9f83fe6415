//! The attribute walk and field readers of the lean decoders of address,
//! route and neighbour dumps ([`Address`](crate::Address),
//! [`Route`](crate::Route), [`Neighbour`](crate::Neighbour) read straight
//! from the reply bytes, one message at a time as each datagram arrives).
//!
//! A full `netlink-packet-route` decode builds every attribute of every
//! message into owned values (a `Vec` of attributes, cache info, metrics…)
//! and then nslink picks four or five of them; on a dump of a thousand
//! addresses that decode cost as much as the kernel's own work (2.46x a raw C
//! dump loop). These decoders read only the attributes nslink exposes, check
//! the length of each one they read, and skip the others, as
//! `src/link/parse.rs` does for links.
//!
//! On the captured replies of the unit tests, release build, on the shared
//! 2-core development VM under load, a message costs ~120 ns (addresses,
//! routes) and ~70 ns (neighbours) this way against ~1.1 µs and ~540 ns
//! with the full decode (`cargo test --release --lib lean_decode_cost --
//! --ignored --nocapture`); `cargo bench --bench dumps` puts whole dumps of
//! 1,000 entries within 1.0x to 1.3x of a raw C dump loop.
//!
//! They agree with the `netlink-packet-route` decoding they replace on
//! every message that decoding accepts (the unit tests `dumps_agree_*`
//! compare both on captured kernel replies and on random bytes); where it
//! refuses a message because of an attribute nslink does not read, they
//! accept it.

use netlink_packet_core::{NLA_ALIGNTO, NLA_HEADER_SIZE, NLA_TYPE_MASK, NetlinkHeader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Walks the attributes (`struct nlattr`, netlink(7)) in `b`, yielding
/// `(type, value)`; a malformed attribute ends the walk with an error.
/// Trailing bytes shorter than an attribute header are padding.
pub(crate) struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), String>;
    fn next(&mut self) -> Option<Self::Item> {
        let [l0, l1, t0, t1, ..] = *self.rest else {
            return None;
        };
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let kind = u16::from_ne_bytes([t0, t1]) & NLA_TYPE_MASK;
        let Some(value) = self.rest.get(NLA_HEADER_SIZE..len) else {
            let e =
                format!("attribute {kind} has length {len} with {} bytes left", self.rest.len());
            self.rest = &[];
            return Some(Err(e));
        };
        let next = len.next_multiple_of(NLA_ALIGNTO).min(self.rest.len());
        self.rest = self.rest.get(next..).unwrap_or_default();
        Some(Ok((kind, value)))
    }
}

/// The decoder of a dump for [`RouteSocket::dump_with`](super::RouteSocket):
/// the values `from_bytes` reads from replies of `message_type` that `keep`
/// accepts; any other message is skipped.
pub(crate) fn decoder<T>(
    message_type: u16,
    from_bytes: fn(&[u8]) -> Result<Option<T>, String>,
    keep: impl Fn(&T) -> bool,
) -> impl Fn(&NetlinkHeader, &[u8]) -> Result<Option<T>, String> {
    move |h, payload| {
        if h.message_type != message_type {
            return Ok(None);
        }
        Ok(from_bytes(payload)?.filter(|v| keep(v)))
    }
}

/// The attributes of `b`.
pub(crate) fn attrs(b: &[u8]) -> Attrs<'_> {
    Attrs { rest: b }
}

/// The fixed header of a message (`struct ifaddrmsg`, `rtmsg`, `ndmsg`) and
/// the attributes after it; an error when the payload is shorter.
pub(crate) fn split<'a, const N: usize>(
    what: &str,
    payload: &'a [u8],
) -> Result<(&'a [u8; N], Attrs<'a>), String> {
    match payload.split_first_chunk::<N>() {
        Some((h, rest)) => Ok((h, attrs(rest))),
        None => {
            Err(format!("{what} of {} bytes is shorter than its {N}-byte header", payload.len()))
        }
    }
}

/// A native-endian `u32` at `at` of a fixed header (in bounds by the
/// header's type).
pub(crate) fn u32_at<const N: usize>(h: &[u8; N], at: usize) -> u32 {
    h.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_ne_bytes)
}

/// A native-endian `u16` at `at` of a fixed header.
pub(crate) fn u16_at<const N: usize>(h: &[u8; N], at: usize) -> u16 {
    h.get(at..at + 2).and_then(|s| s.try_into().ok()).map_or(0, u16::from_ne_bytes)
}

/// A `u32` attribute: exactly 4 bytes.
pub(crate) fn u32_of(kind: u16, v: &[u8]) -> Result<u32, String> {
    <[u8; 4]>::try_from(v)
        .map(u32::from_ne_bytes)
        .map_err(|_| format!("attribute {kind} should hold 4 bytes, has {}", v.len()))
}

/// An IPv4 address: exactly 4 bytes.
pub(crate) fn ipv4_of(kind: u16, v: &[u8]) -> Result<Ipv4Addr, String> {
    <[u8; 4]>::try_from(v)
        .map(Ipv4Addr::from)
        .map_err(|_| format!("attribute {kind} should hold an IPv4 address, has {} bytes", v.len()))
}

/// An IPv6 address: exactly 16 bytes.
pub(crate) fn ipv6_of(kind: u16, v: &[u8]) -> Result<Ipv6Addr, String> {
    <[u8; 16]>::try_from(v)
        .map(Ipv6Addr::from)
        .map_err(|_| format!("attribute {kind} should hold an IPv6 address, has {} bytes", v.len()))
}

/// An address of the message's family (`v4`): 4 or 16 bytes exactly.
pub(crate) fn ip_of_family(kind: u16, v: &[u8], v4: bool) -> Result<IpAddr, String> {
    if v4 { ipv4_of(kind, v).map(IpAddr::V4) } else { ipv6_of(kind, v).map(IpAddr::V6) }
}

/// An address of either family, told by its length (4 or 16 bytes).
pub(crate) fn ip_by_len(kind: u16, v: &[u8]) -> Result<IpAddr, String> {
    match v.len() {
        4 => ipv4_of(kind, v).map(IpAddr::V4),
        16 => ipv6_of(kind, v).map(IpAddr::V6),
        n => Err(format!("attribute {kind} should hold an IP address, has {n} bytes")),
    }
}

/// The family number of a message header: `Some(true)` for `AF_INET`,
/// `Some(false)` for `AF_INET6`, `None` for any other.
pub(crate) fn inet_family(family: u8) -> Option<bool> {
    match i32::from(family) {
        nix::libc::AF_INET => Some(true),
        nix::libc::AF_INET6 => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod walk_tests {
    use super::*;

    #[test]
    fn the_walk_checks_every_length() {
        let mut b = Vec::new();
        for (kind, v) in [(1u16, &[1u8, 2, 3][..]), (2, &[]), (0x8003, &[9, 9, 9, 9])] {
            b.extend_from_slice(&(4 + v.len() as u16).to_ne_bytes());
            b.extend_from_slice(&kind.to_ne_bytes());
            b.extend_from_slice(v);
            b.resize(b.len().next_multiple_of(4), 0);
        }
        let got: Vec<_> = attrs(&b).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, [(1, &[1, 2, 3][..]), (2, &[][..]), (3, &[9, 9, 9, 9][..])]);
        // The last attribute may end without its padding; 1 to 3 stray
        // bytes are padding.
        assert_eq!(attrs(&b[..b.len() - 1]).count(), 3);
        assert_eq!(attrs(&[5, 0, 1, 0, 7]).collect::<Vec<_>>(), [Ok((1, &[7][..]))]);
        assert_eq!(attrs(&[1, 2, 3]).count(), 0);
        // Too long, too short.
        for bad in [&[9u8, 0, 1, 0, 0][..], &[3, 0, 1, 0], &[0, 0, 1, 0]] {
            let v: Vec<_> = attrs(bad).collect();
            assert_eq!(v.len(), 1, "{bad:?}");
            assert!(v[0].is_err(), "{bad:?}");
        }
        assert!(split::<8>("x", &[0; 7]).is_err());
        let (h, mut rest) = split::<4>("x", &[1, 0, 0, 0]).unwrap();
        assert_eq!(u32_at(h, 0), u32::from_ne_bytes([1, 0, 0, 0]));
        assert!(rest.next().is_none());
    }
}
