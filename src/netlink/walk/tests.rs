//! The lean decoders against the `netlink-packet-route` decoding they
//! replace: on kernel replies captured from a namespace with every kind of
//! entry nslink reads (`testdata/*.dump`), on those replies mutated, and on
//! random messages built from random attributes. Wherever the old decoding
//! accepts a message, both must give the same value; whatever the bytes,
//! the new ones must not panic.

use netlink_packet_core::{NLM_F_DUMP, NetlinkHeader};
use netlink_packet_route::RouteNetlinkMessage;
use nix::libc;

use crate::addr::Address;
use crate::neigh::Neighbour;
use crate::netlink::decode_route;
use crate::route::Route;

/// The messages of a capture file: `[type u16][len u32][payload]`, native
/// endian.
fn messages(file: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut b = file;
    while let Some((head, rest)) = b.split_first_chunk::<6>() {
        let kind = u16::from_ne_bytes([head[0], head[1]]);
        let len = u32::from_ne_bytes([head[2], head[3], head[4], head[5]]) as usize;
        out.push((kind, rest[..len].to_vec()));
        b = &rest[len..];
    }
    out
}

/// What the old path made of one message: `None` when it refused it (a
/// decode error), `Some(None)` when it gave nothing, `Some(Some(text))`
/// with the value's `Debug`.
fn old(kind: u16, payload: &[u8]) -> Option<Option<String>> {
    let mut h = NetlinkHeader::default();
    h.message_type = kind;
    h.length = (payload.len() + 16) as u32;
    let m = decode_route(&h, payload).ok()??;
    Some(match m {
        RouteNetlinkMessage::NewAddress(a) => Address::from_message(a).map(|v| format!("{v:?}")),
        RouteNetlinkMessage::NewRoute(r) => Route::from_message(r).map(|v| format!("{v:?}")),
        RouteNetlinkMessage::NewNeighbour(n) => {
            Neighbour::from_message(&n).map(|v| format!("{v:?}"))
        }
        _ => None,
    })
}

/// What the lean decoder made of it: `Err` for a refusal.
fn new(kind: u16, payload: &[u8]) -> Result<Option<String>, String> {
    Ok(match kind {
        libc::RTM_NEWADDR => Address::from_bytes(payload)?.map(|v| format!("{v:?}")),
        libc::RTM_NEWROUTE => Route::from_bytes(payload)?.map(|v| format!("{v:?}")),
        libc::RTM_NEWNEIGH => Neighbour::from_bytes(payload)?.map(|v| format!("{v:?}")),
        _ => None,
    })
}

/// Both decoders on one message: equal whenever the old one accepts.
/// Returns whether the old one accepted.
fn agree(kind: u16, payload: &[u8]) -> bool {
    let n = new(kind, payload);
    match old(kind, payload) {
        Some(o) => {
            assert_eq!(n, Ok(o), "type {kind} payload {payload:?}");
            true
        }
        None => false,
    }
}

const CAPTURES: [(&str, &[u8]); 3] = [
    ("addresses", include_bytes!("../testdata/addresses.dump")),
    ("routes", include_bytes!("../testdata/routes.dump")),
    ("neighbours", include_bytes!("../testdata/neighbours.dump")),
];

#[test]
fn dumps_agree_on_captured_kernel_replies() {
    for (what, file) in CAPTURES {
        let msgs = messages(file);
        assert!(msgs.len() >= 10, "{what}: {} messages", msgs.len());
        let mut some = 0;
        for (kind, payload) in &msgs {
            assert!(agree(*kind, payload), "{what}: the old decoder refused a kernel reply");
            some += usize::from(new(*kind, payload).unwrap().is_some());
        }
        assert!(some >= 10, "{what}: only {some} entries");
    }
}

/// xorshift64*: a small deterministic generator (no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One attribute, padded.
fn attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// A value of a length the decoders care about, or any.
fn value(r: &mut Rng) -> Vec<u8> {
    const LENS: [usize; 10] = [0, 1, 2, 4, 6, 8, 16, 18, 20, 3];
    let n = if r.below(8) == 0 { r.below(40) } else { LENS[r.below(LENS.len())] };
    let mut v = r.bytes(n);
    // A plausible family for RTA_VIA, a valid label.
    if n >= 2 && r.below(2) == 0 {
        v[0] = [2u8, 10, 17, 0][r.below(4)];
        v[1] = 0;
    }
    if r.below(3) == 0 {
        v.iter_mut().for_each(|b| *b &= 0x7f);
    }
    v
}

/// A random `RTA_MULTIPATH` value: next hops with random attributes.
fn multipath(r: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..r.below(4) {
        let mut attrs = Vec::new();
        for _ in 0..r.below(3) {
            let kind = [5u16, 18, 6, 4, 30][r.below(5)];
            attr(&mut attrs, kind, &value(r));
        }
        let len = if r.below(10) == 0 { r.below(30) } else { 8 + attrs.len() };
        out.extend_from_slice(&(len as u16).to_ne_bytes());
        out.extend_from_slice(&r.bytes(6));
        out.extend_from_slice(&attrs);
    }
    out
}

/// A random message of `kind`: a header with a plausible family and
/// random attributes of the kinds the decoders read (and some others).
fn message(r: &mut Rng, kind: u16) -> Vec<u8> {
    let (header, kinds): (usize, &[u16]) = match kind {
        libc::RTM_NEWADDR => (8, &[1, 2, 3, 4, 8, 6, 5, 9]),
        libc::RTM_NEWROUTE => (12, &[1, 5, 18, 9, 7, 4, 15, 6, 2, 8, 12, 3]),
        _ => (12, &[1, 2, 3, 8, 4]),
    };
    let n = if r.below(20) == 0 { r.below(header + 2) } else { header };
    let mut out = r.bytes(n);
    if let Some(f) = out.first_mut() {
        *f = [2u8, 10, 7, 0, 28][r.below(5)];
    }
    if out.len() < header {
        return out;
    }
    for _ in 0..r.below(7) {
        let k = if r.below(10) == 0 { r.next() as u16 } else { kinds[r.below(kinds.len())] };
        let v = if kind == libc::RTM_NEWROUTE && k == 9 { multipath(r) } else { value(r) };
        attr(&mut out, k, &v);
    }
    if r.below(10) == 0 {
        out.truncate(r.below(out.len() + 1));
    }
    out
}

#[test]
fn dumps_agree_on_random_messages() {
    let mut r = Rng(0x6e73_6c69_6e6b_0011);
    let mut accepted = [0usize; 3];
    for i in 0..60_000 {
        let (slot, kind) =
            [(0, libc::RTM_NEWADDR), (1, libc::RTM_NEWROUTE), (2, libc::RTM_NEWNEIGH)][i % 3];
        let m = message(&mut r, kind);
        accepted[slot] += usize::from(agree(kind, &m));
    }
    // The old decoder accepts enough of them for the comparison to mean
    // something.
    assert!(accepted.iter().all(|&n| n > 2_000), "accepted {accepted:?}");
}

#[test]
fn dumps_agree_on_mutated_kernel_replies() {
    let mut r = Rng(0x0dd5_eed5);
    let mut accepted = 0;
    for (_, file) in CAPTURES {
        for (kind, payload) in messages(file) {
            for _ in 0..200 {
                let mut m = payload.clone();
                match r.below(4) {
                    0 => {
                        let at = r.below(m.len());
                        m[at] ^= 1 << r.below(8);
                    }
                    1 => m.truncate(r.below(m.len() + 1)),
                    2 => {
                        let at = r.below(m.len());
                        m[at] = r.next() as u8;
                    }
                    _ => {
                        let n = r.below(9);
                        m.extend(r.bytes(n));
                    }
                }
                accepted += usize::from(agree(kind, &m));
            }
        }
    }
    assert!(accepted > 1_000, "accepted {accepted}");
}

/// Pure noise: never a panic.
#[test]
fn lean_decoders_never_panic_on_noise() {
    let mut r = Rng(7);
    for _ in 0..30_000 {
        let n = r.below(64);
        let m = r.bytes(n);
        for kind in [libc::RTM_NEWADDR, libc::RTM_NEWROUTE, libc::RTM_NEWNEIGH] {
            let _ = new(kind, &m);
            let _ = agree(kind, &m);
        }
    }
}

/// Writes `testdata/*.dump` from a fresh named namespace filled with one of
/// everything the decoders read: IPv4 and IPv6 addresses with labels, a
/// peer and flags; unicast, multipath (with an IPv6 next hop by `via`),
/// blackhole, local and table-100 routes with metrics and sources; neighbour
/// entries in several states, with and without a hardware address.
/// `cargo test --lib capture_dump_fixtures -- --ignored` as root.
#[test]
#[ignore = "writes the fixtures; needs root"]
fn capture_dump_fixtures() {
    use crate::error::Op;
    use crate::netlink::{Conn, RouteSocket};
    use crate::netns::NetNs;
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::address::AddressMessage;
    use netlink_packet_route::neighbour::NeighbourMessage;
    use netlink_packet_route::route::RouteMessage;
    use std::process::Command;

    let ns = "nslink-capture";
    let ip = |args: &str| {
        let st =
            Command::new("ip").args(["-n", ns]).args(args.split_whitespace()).status().unwrap();
        assert!(st.success(), "ip {args}");
    };
    let _ = Command::new("ip").args(["netns", "del", ns]).status();
    assert!(Command::new("ip").args(["netns", "add", ns]).status().unwrap().success());
    for cmd in [
        "link set lo up",
        "link add v0 type veth peer name v1",
        "link set v0 up",
        "link set v1 up",
        "addr add 10.1.0.1/24 brd + dev v0 label v0:main",
        "addr add 10.1.0.2/24 dev v0 label v0:sec",
        "addr add 10.9.0.1 peer 10.9.0.2/32 dev v1",
        "addr add 192.0.2.7/32 dev v1 noprefixroute",
        "addr add fd00::1/64 dev v0 nodad",
        "addr add fd00:1::1/64 dev v1 nodad noprefixroute",
        "addr add 127.0.0.2/8 dev lo",
        "route add 10.20.0.0/16 via 10.1.0.254 dev v0 metric 50 src 10.1.0.1",
        "route add 10.30.0.0/16 nexthop via 10.1.0.253 dev v0 weight 2 nexthop dev v1 weight 1",
        "route add 10.40.0.0/16 via inet6 fd00::99 dev v0",
        "route add blackhole 198.51.100.0/24 proto static",
        "route add unreachable 203.0.113.0/24 metric 7",
        "route add 10.50.0.0/24 dev v1 table 100 scope link",
        "route add default via 10.1.0.254 table 100",
        "route add fd10::/48 via fd00::2 dev v0 metric 1024",
        "-6 route add fd20::/48 nexthop via fd00::3 dev v0 nexthop via fd00::4 dev v0",
        "-6 route add blackhole fd30::/48 table 100",
        "neigh add 10.1.0.50 lladdr 02:00:00:00:00:50 dev v0 nud permanent",
        "neigh add 10.1.0.51 lladdr 02:00:00:00:00:51 dev v0 nud stale",
        "neigh add 10.1.0.52 dev v0 nud incomplete",
        "neigh add 10.1.0.53 lladdr 02:00:00:00:00:53 dev v1 nud reachable",
        "neigh add fd00::50 lladdr 02:00:00:00:00:60 dev v0 nud permanent router",
        "neigh add fd00::51 lladdr 02:00:00:00:00:61 dev v0 nud noarp",
        "neigh add fd00::52 dev v1 nud failed",
        "neigh add 10.1.0.54 lladdr 02:00:00:00:00:54 dev v0 nud delay extern_learn",
        "neigh add proxy 10.1.0.99 dev v0",
    ] {
        ip(cmd);
    }
    let nl = RouteSocket::open_in(&NetNs::open(ns).unwrap()).unwrap();
    let capture = |msg: RouteNetlinkMessage, into: &mut Vec<u8>| {
        let record = |h: &NetlinkHeader, p: &[u8]| -> Result<Option<()>, String> {
            CAPTURED.with(|c| {
                let mut c = c.borrow_mut();
                c.extend_from_slice(&h.message_type.to_ne_bytes());
                c.extend_from_slice(&(p.len() as u32).to_ne_bytes());
                c.extend_from_slice(p);
            });
            Ok(None)
        };
        let mut conn = nl.lock();
        let c: &mut Conn<_> = &mut conn;
        c.dump(Op::RawRequest, &msg, NLM_F_DUMP, &record).unwrap();
        CAPTURED.with(|c| into.append(&mut c.borrow_mut()));
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/netlink/testdata");
    let mut a = Vec::new();
    capture(RouteNetlinkMessage::GetAddress(AddressMessage::default()), &mut a);
    std::fs::write(dir.join("addresses.dump"), a).unwrap();
    let mut rt = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut m = RouteMessage::default();
        m.header.address_family = family;
        capture(RouteNetlinkMessage::GetRoute(m), &mut rt);
    }
    std::fs::write(dir.join("routes.dump"), rt).unwrap();
    let mut n = Vec::new();
    capture(RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()), &mut n);
    let mut proxy = NeighbourMessage::default();
    proxy.header.flags = netlink_packet_route::neighbour::NeighbourFlags::Proxy;
    capture(RouteNetlinkMessage::GetNeighbour(proxy), &mut n);
    std::fs::write(dir.join("neighbours.dump"), n).unwrap();
    drop(nl);
    assert!(Command::new("ip").args(["netns", "del", ns]).status().unwrap().success());
}

thread_local! {
    static CAPTURED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What one message costs each way, on the captured replies:
/// `cargo test --release --lib lean_decode_cost -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn lean_decode_cost() {
    use std::hint::black_box;
    use std::time::Instant;
    for (what, file) in CAPTURES {
        let msgs = messages(file);
        let rounds = 20_000;
        let t = Instant::now();
        for _ in 0..rounds {
            for (kind, payload) in &msgs {
                let mut h = NetlinkHeader::default();
                h.message_type = *kind;
                black_box(decode_route(&h, black_box(payload)).ok());
            }
        }
        let full = t.elapsed().as_nanos() as f64 / (rounds * msgs.len()) as f64;
        let t = Instant::now();
        for _ in 0..rounds {
            for (kind, payload) in &msgs {
                match *kind {
                    libc::RTM_NEWADDR => drop(black_box(Address::from_bytes(black_box(payload)))),
                    libc::RTM_NEWROUTE => drop(black_box(Route::from_bytes(black_box(payload)))),
                    _ => drop(black_box(Neighbour::from_bytes(black_box(payload)))),
                }
            }
        }
        let lean = t.elapsed().as_nanos() as f64 / (rounds * msgs.len()) as f64;
        println!("{what}: full decode {full:.0} ns a message, lean {lean:.0} ns");
    }
}

/// A kernel without strict checking sends whole dumps to a filtered
/// request: the filtered dumps' decoders keep only what was asked for.
#[test]
fn filtered_decoders_drop_what_a_kernel_did_not_filter() {
    use crate::netlink::walk::decoder;
    use crate::route::RouteTable;
    type Decode<'a> = &'a dyn Fn(&NetlinkHeader, &[u8]) -> Result<Option<String>, String>;
    let run = |file: &[u8], d: Decode<'_>| {
        messages(file)
            .iter()
            .filter_map(|(kind, p)| {
                let mut h = NetlinkHeader::default();
                h.message_type = *kind;
                d(&h, p).unwrap()
            })
            .collect::<Vec<_>>()
    };
    let addrs = |keep: fn(&Address) -> bool| {
        let d = decoder(libc::RTM_NEWADDR, Address::from_bytes, keep);
        run(CAPTURES[0].1, &|h, p| d(h, p).map(|a| a.map(|a| format!("{}", a.index))))
    };
    let all = addrs(|_| true);
    let on_2 = addrs(|a| a.index == 2);
    assert!(!on_2.is_empty() && on_2.len() < all.len(), "{all:?}");
    assert!(on_2.iter().all(|i| i == "2"));
    let d = decoder(libc::RTM_NEWROUTE, Route::from_bytes, |r| r.table == RouteTable::Id(100));
    let t100 = run(CAPTURES[1].1, &|h, p| d(h, p).map(|r| r.map(|r| r.table.to_string())));
    assert_eq!(t100, ["100", "100", "100"]);
    let d = decoder(libc::RTM_NEWNEIGH, Neighbour::from_bytes, |n| n.index == 3);
    let on_3 = run(CAPTURES[2].1, &|h, p| d(h, p).map(|n| n.map(|n| n.index.to_string())));
    assert!(!on_3.is_empty() && on_3.iter().all(|i| i == "3"), "{on_3:?}");
    // Another message type is skipped, never decoded as this one.
    let d = decoder(libc::RTM_NEWADDR, Address::from_bytes, |_| true);
    assert_eq!(run(CAPTURES[1].1, &|h, p| d(h, p).map(|a| a.map(|_| String::new()))), [""; 0]);
}
