//! The one way nslink hands kernel bytes to `netlink-packet-route`'s full
//! decoder: inputs that decoder would panic on are turned into a decode
//! error first.
//!
//! `netlink-packet-route` 0.34 returns an error for malformed input almost
//! everywhere, but not quite: the `IFLA_BAREUDP_SRCPORT_MIN` attribute
//! inside a bareudp device's `IFLA_INFO_DATA` is copied into a 2-byte array
//! without its length being checked, so an attribute of any other length
//! panics (found by the `decode_link` fuzz target; the input is the seed
//! `fuzz/corpus/decode_link/regression-bareudp-srcport-min`). A kernel
//! sends 2 bytes there, but nslink promises never to panic on what the
//! kernel sends, whatever it is.
//!
//! So every full decode goes through [`route_message`] or [`link_message`]:
//! they screen the link attributes for the known case (an exact check, with
//! an error that names the attribute), and as a second line catch a panic
//! from inside the decoder and report it as a decode error (in a build
//! with `panic = "abort"` that second line does nothing). The fuzz targets
//! reach the decoder through the same functions while libFuzzer aborts on
//! any panic, so a new panicking input still shows up as a fuzz crash.

use std::panic::{AssertUnwindSafe, catch_unwind};

use netlink_packet_core::{NetlinkDeserializable, NetlinkHeader, Parseable};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkMessage;
use nix::libc::{
    IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINKINFO, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK,
    RTM_SETLINK,
};

use super::walk::attrs;

/// `struct ifinfomsg`'s size: the link attributes start after it.
const IFINFOMSG_LEN: usize = size_of::<nix::libc::ifinfomsg>();
/// `RTM_NEWLINKPROP` and `RTM_DELLINKPROP` carry link messages too.
const RTM_NEWLINKPROP: u16 = 108;
const RTM_DELLINKPROP: u16 = 109;
/// `IFLA_BAREUDP_SRCPORT_MIN` (include/uapi/linux/if_link.h): a `u16`.
const IFLA_BAREUDP_SRCPORT_MIN: u16 = 3;

/// A whole message decoded by `netlink-packet-route`, never a panic.
pub(crate) fn route_message(
    h: &NetlinkHeader,
    payload: &[u8],
) -> Result<RouteNetlinkMessage, String> {
    if matches!(
        h.message_type,
        RTM_NEWLINK | RTM_DELLINK | RTM_GETLINK | RTM_SETLINK | RTM_NEWLINKPROP | RTM_DELLINKPROP
    ) {
        screen_link(payload)?;
    }
    guarded(|| RouteNetlinkMessage::deserialize(h, payload).map_err(|e| e.to_string()))
}

/// The payload of a link message decoded by `netlink-packet-route`, never a
/// panic.
pub(crate) fn link_message(payload: &[u8]) -> Result<LinkMessage, String> {
    screen_link(payload)?;
    guarded(|| LinkMessage::parse(payload).map_err(|e| e.to_string()))
}

/// Runs a decode, turning a panic inside it into an error.
fn guarded<T>(decode: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    // AssertUnwindSafe: the closure only reads the borrowed input and builds
    // a new value; nothing it could leave half-changed is seen afterwards.
    catch_unwind(AssertUnwindSafe(decode)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        Err(format!("netlink-packet-route could not decode it ({why})"))
    })
}

/// The link attributes checked for what `netlink-packet-route` cannot
/// decode without panicking. Anything it rejects with an error itself
/// (a short header, a malformed attribute) is left to it.
fn screen_link(payload: &[u8]) -> Result<(), String> {
    let Some(rest) = payload.get(IFINFOMSG_LEN..) else { return Ok(()) };
    for a in attrs(rest) {
        let Ok((kind, info)) = a else { return Ok(()) };
        if kind != IFLA_LINKINFO {
            continue;
        }
        // The decoder reads IFLA_INFO_DATA by the IFLA_INFO_KIND before
        // it; checking every data attribute once any kind is bareudp is a
        // superset of that, whatever the order.
        let inner = || attrs(info).map_while(Result::ok);
        let bareudp = inner()
            .any(|(k, v)| k == IFLA_INFO_KIND && v.strip_suffix(&[0]).unwrap_or(v) == b"bareudp");
        if !bareudp {
            continue;
        }
        for (_, data) in inner().filter(|&(k, _)| k == IFLA_INFO_DATA) {
            for (k, v) in attrs(data).map_while(Result::ok) {
                if k == IFLA_BAREUDP_SRCPORT_MIN && v.len() != 2 {
                    return Err(format!(
                        "IFLA_BAREUDP_SRCPORT_MIN of {} bytes (a u16 has 2)",
                        v.len()
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input the `decode_link` fuzz target found: a bareudp device
    /// whose `IFLA_BAREUDP_SRCPORT_MIN` is not 2 bytes long.
    const FOUND: &[u8] =
        include_bytes!("../../fuzz/corpus/decode_link/regression-bareudp-srcport-min");

    fn header(t: u16, len: usize) -> NetlinkHeader {
        let mut h = NetlinkHeader::default();
        h.message_type = t;
        h.length = (len + 16) as u32;
        h
    }

    #[test]
    fn bareudp_srcport_min_of_the_wrong_length_is_an_error_not_a_panic() {
        for t in [RTM_NEWLINK, RTM_DELLINK, RTM_NEWLINKPROP] {
            let e = route_message(&header(t, FOUND.len()), FOUND).unwrap_err();
            assert!(e.contains("IFLA_BAREUDP_SRCPORT_MIN of "), "{e}");
        }
        let e = link_message(FOUND).unwrap_err();
        assert!(e.contains("IFLA_BAREUDP_SRCPORT_MIN of "), "{e}");
        // The lean decoder reads the device, and its full decode on demand
        // is the same error.
        let l = crate::Link::from_bytes(FOUND).unwrap();
        let e = l.message().unwrap_err().to_string();
        assert!(e.contains("IFLA_BAREUDP_SRCPORT_MIN of "), "{e}");
        #[cfg(feature = "fuzzing")]
        crate::fuzzing::decode_link(FOUND);
    }

    /// The second line: a panic inside a decode comes back as an error
    /// that says what happened.
    #[test]
    fn a_panic_inside_the_decoder_is_a_decode_error() {
        let e = guarded::<()>(|| panic!("index out of bounds")).unwrap_err();
        assert!(e.contains("could not decode it (index out of bounds)"), "{e}");
        let e = guarded::<()>(|| panic!("{} bytes", 3)).unwrap_err();
        assert!(e.contains("(3 bytes)"), "{e}");
    }

    /// A bareudp device as the kernel sends it (SRCPORT_MIN of 2 bytes)
    /// passes the screen and decodes.
    #[test]
    fn a_well_formed_bareudp_device_still_decodes() {
        use netlink_packet_core::Emitable;
        use netlink_packet_route::link::{
            InfoBareUdp, InfoData, InfoKind, LinkAttribute, LinkInfo,
        };
        let mut m = LinkMessage::default();
        m.header.index = 9;
        m.attributes = vec![
            LinkAttribute::IfName("bu0".into()),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::BareUdp),
                LinkInfo::Data(InfoData::BareUdp(vec![
                    InfoBareUdp::Port(6635),
                    InfoBareUdp::SrcPortMin(49153),
                ])),
            ]),
        ];
        let mut b = vec![0; m.buffer_len()];
        m.emit(&mut b);
        assert_eq!(link_message(&b).unwrap(), m);
        assert!(route_message(&header(RTM_NEWLINK, b.len()), &b).is_ok());
    }

    /// Each length but 2, in either attribute order, is caught; so is a
    /// kind with its NUL and one without.
    #[test]
    fn the_screen_catches_every_wrong_length_in_any_order() {
        fn nla(t: u16, v: &[u8]) -> Vec<u8> {
            let mut b = ((4 + v.len()) as u16).to_ne_bytes().to_vec();
            b.extend(t.to_ne_bytes());
            b.extend(v);
            b.resize(b.len().next_multiple_of(4), 0);
            b
        }
        for len in [0usize, 1, 3, 4, 8] {
            for kind in [&b"bareudp\0"[..], b"bareudp"] {
                for data_first in [false, true] {
                    let data = nla(IFLA_INFO_DATA, &nla(IFLA_BAREUDP_SRCPORT_MIN, &vec![7; len]));
                    let k = nla(IFLA_INFO_KIND, kind);
                    let info = if data_first { [data, k].concat() } else { [k, data].concat() };
                    let mut p = vec![0u8; IFINFOMSG_LEN];
                    p.extend(nla(nix::libc::IFLA_IFNAME, b"bu0\0"));
                    p.extend(nla(IFLA_LINKINFO, &info));
                    assert!(link_message(&p).is_err(), "len {len} kind {kind:?}");
                    assert!(route_message(&header(RTM_NEWLINK, p.len()), &p).is_err());
                }
            }
        }
    }
}
