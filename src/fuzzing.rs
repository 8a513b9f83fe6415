//! Entry points for the fuzz targets of `fuzz/` (cargo-fuzz), compiled only
//! with the `fuzzing` feature. Not part of the API: nothing here is stable.
//!
//! Each function takes bytes a fuzzer chose, runs the crate's own code on
//! them and checks what must hold whatever the input: no panic (a panic
//! is the crash the fuzzer reports), no endless loop, and results that
//! keep their promises (an errno is a positive number, a parsed value
//! prints back to itself). Nothing here changes how the library behaves.

// A panic is how a harness tells the fuzzer that a promise was broken.
#![allow(clippy::panic)]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NetlinkHeader};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::route::RouteMessage;
use nix::errno::Errno;

use crate::addr::{Address, AddressScope, IpNet};
use crate::error::{Op, Result};
use crate::link::{Link, MacAddr};
use crate::name::{IfName, NsName};
use crate::neigh::{Neighbour, NeighbourState};
use crate::netlink::transport::{Failure, SysTransport, Transport};
use crate::netlink::{Conn, decode_route};
use crate::route::{Route, RouteProtocol, RouteScope, RouteTable, RouteType};

/// The port the harness's connection believes it has.
const PORT: u32 = 0x6e73_6c6b;

/// What the fake transport does on one `recv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// A datagram from the kernel. With `seq_offset`, every message in it
    /// is first given the connection's port and the sequence number of the
    /// last request sent plus the offset (negative: a stale reply), the way
    /// real replies look; without, the bytes are delivered as they are.
    Kernel {
        /// The datagram.
        bytes: &'a [u8],
        /// Sequence number to stamp, relative to the last request's.
        seq_offset: Option<i32>,
    },
    /// A datagram from another sender than the kernel.
    Foreign(&'a [u8]),
    /// A datagram whose real size is `extra` bytes more than delivered.
    Truncated {
        /// What is delivered.
        bytes: &'a [u8],
        /// How much was cut.
        extra: usize,
    },
    /// A receive error with this errno; 0 is an I/O error without errno.
    Fail(i32),
}

/// The errnos a `Step::Fail` record chooses from.
const FAIL_ERRNOS: [i32; 6] = [
    nix::libc::EINTR,
    nix::libc::EAGAIN,
    nix::libc::ENOBUFS,
    nix::libc::EPERM,
    nix::libc::ENOMEM,
    0,
];

/// Reads the fuzz input of [`dump_loop_input`]: records of one tag byte,
/// a little-endian `u16` length and that many bytes (cut at the end of
/// the input). The tag's low 3 bits choose the step, the rest its
/// parameter:
///
/// | `tag & 7` | step |
/// |---|---|
/// | 0, 1, 2 | `Kernel`, sequence offset `(tag >> 3) & 3` |
/// | 3 | `Kernel`, stale: offset `-1 - (tag >> 3)` |
/// | 4 | `Kernel`, verbatim |
/// | 5 | `Foreign` |
/// | 6 | `Truncated`, `extra = 1 + (tag >> 3)` |
/// | 7 | `Fail`, errno `FAIL_ERRNOS[(tag >> 3) % 6]` |
pub fn parse_steps(mut input: &[u8]) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    while let [tag, rest @ ..] = input {
        let (len, rest) = match rest {
            [lo, hi, rest @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), rest),
            _ => (rest.len(), rest),
        };
        let (bytes, rest) = rest.split_at(len.min(rest.len()));
        input = rest;
        let p = tag >> 3;
        steps.push(match tag & 7 {
            0..=2 => Step::Kernel { bytes, seq_offset: Some(i32::from(p & 3)) },
            3 => Step::Kernel { bytes, seq_offset: Some(-1 - i32::from(p)) },
            4 => Step::Kernel { bytes, seq_offset: None },
            5 => Step::Foreign(bytes),
            6 => Step::Truncated { bytes, extra: 1 + usize::from(p) },
            _ => Step::Fail(FAIL_ERRNOS[usize::from(p) % FAIL_ERRNOS.len()]),
        });
    }
    steps
}

/// Writes steps in the format [`parse_steps`] reads (for seed files).
/// Offsets, extras and errnos it cannot express are clamped.
pub fn encode_steps(steps: &[Step<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in steps {
        let (tag, bytes): (u8, &[u8]) = match s {
            Step::Kernel { bytes, seq_offset: Some(o) } if *o >= 0 => {
                ((((*o).min(3) as u8) << 3), bytes)
            }
            Step::Kernel { bytes, seq_offset: Some(o) } => {
                (3 | ((-1 - *o).min(31) as u8) << 3, bytes)
            }
            Step::Kernel { bytes, seq_offset: None } => (4, bytes),
            Step::Foreign(bytes) => (5, bytes),
            Step::Truncated { bytes, extra } => {
                (6 | ((extra.saturating_sub(1)).min(31) as u8) << 3, bytes)
            }
            Step::Fail(e) => {
                let i = FAIL_ERRNOS.iter().position(|x| x == e).unwrap_or(0);
                (7 | (i as u8) << 3, &[][..])
            }
        };
        let len = bytes.len().min(usize::from(u16::MAX));
        out.push(tag);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&bytes[..len]);
    }
    out
}

/// A transport that replays fuzzer-chosen steps and then times out.
struct Replay<'a> {
    steps: VecDeque<Step<'a>>,
    /// Sequence number of the first message of the last datagram sent.
    last_seq: u32,
    sends: usize,
    recvs: usize,
}

/// Stamps `port` and `seq` on every whole message header of `d`.
fn stamp(d: &mut [u8], seq: u32, port: u32) {
    let mut at = 0;
    while let Some(h) = d.get_mut(at..at + 16) {
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        h[8..12].copy_from_slice(&seq.to_ne_bytes());
        h[12..16].copy_from_slice(&port.to_ne_bytes());
        if len < 16 {
            break;
        }
        at += (len + 3) & !3;
    }
}

impl Transport for Replay<'_> {
    fn send(&mut self, buf: &[u8]) -> std::result::Result<usize, Failure> {
        self.sends += 1;
        if let Some(s) = buf.get(8..12) {
            self.last_seq = u32::from_ne_bytes([s[0], s[1], s[2], s[3]]);
        }
        Ok(buf.len())
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> std::result::Result<Option<usize>, Failure> {
        self.recvs += 1;
        let Some(step) = self.steps.pop_front() else {
            return Err(Failure::Os(Errno::EAGAIN));
        };
        buf.clear();
        match step {
            Step::Kernel { bytes, seq_offset } => {
                buf.extend_from_slice(bytes);
                if let Some(o) = seq_offset {
                    stamp(buf, self.last_seq.wrapping_add_signed(o), PORT);
                }
                Ok(Some(buf.len()))
            }
            Step::Foreign(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(None)
            }
            Step::Truncated { bytes, extra } => {
                buf.extend_from_slice(bytes);
                Ok(Some(bytes.len() + extra))
            }
            Step::Fail(0) => Err(Failure::NoErrno(std::io::Error::other("fuzz"))),
            Step::Fail(e) => Err(Failure::Os(Errno::from_raw(e))),
        }
    }

    fn set_timeout(&self, _: Duration) -> std::result::Result<(), Failure> {
        Ok(())
    }
}

/// Checks what holds for every result of an exchange: it prints, and an
/// errno it carries is a real one (positive).
fn check<T: std::fmt::Debug>(r: &Result<T>) {
    let mut s = String::new();
    match r {
        Ok(v) => {
            let _ = write!(s, "{v:?}");
        }
        Err(e) => {
            let _ = write!(s, "{e} {e:?}");
            if let Some(errno) = e.raw_os_error() {
                assert!(errno > 0, "error with errno {errno}: {e}");
            }
            let _ = std::error::Error::source(e);
        }
    }
}

/// Uses everything a decoded [`Link`] offers.
fn touch_link(l: &Link) {
    let mut s = String::new();
    let _ = write!(
        s,
        "{} {} {} {:?} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?} {:?}",
        l.index(),
        l.name(),
        l.kind(),
        l.flags(),
        l.is_up(),
        l.operstate(),
        l.mtu(),
        l.mac(),
        l.master(),
        l.alias(),
        l.alias_bytes(),
        l.parent_index(),
        l.link_type(),
        l.bridge_port(),
        l.link_netnsid(),
    );
    let _ = write!(s, "{:?} {:?} {:?}", l.netns_immutable_attr(), l, l.name().to_str());
    if let Some(m) = l.mac() {
        let _ = write!(s, "{m} {}", m.is_locally_administered());
    }
    // The full decode by netlink-packet-route, on demand, and the typed
    // options of the kind read through it: an error at most.
    let _ = write!(s, "{:?}", l.message().map(|m| m.attributes.len()));
    let _ = write!(s, "{:?}", l.kind_options());
}

/// Uses everything an [`IpNet`] offers.
fn touch_net(n: &IpNet) {
    let mut s = String::new();
    let _ = write!(s, "{n} {n:?} {} {:?} {}", n.network(), n.broadcast(), n.contains(n.addr()));
}

fn touch_address(a: &Address) {
    touch_net(&a.net);
    let _ = format!("{a:?} {} {} {}", a.scope, a.flags, a.is_tentative());
}

fn touch_route(r: &Route) {
    touch_net(&r.dst);
    let _ = format!("{r:?} {} {} {}", r.table, r.kind, r.dst);
}

fn touch_neighbour(n: &Neighbour) {
    let _ = format!("{n:?} {} {}", n.state, n.flags);
}

/// Uses a message the general decoder made as the typed listings do.
fn touch_message(m: RouteNetlinkMessage) {
    match m {
        RouteNetlinkMessage::NewAddress(a) => {
            if let Some(a) = Address::from_message(a) {
                touch_address(&a);
            }
        }
        RouteNetlinkMessage::NewRoute(r) => {
            if let Some(r) = Route::from_message(r) {
                touch_route(&r);
            }
        }
        RouteNetlinkMessage::NewNeighbour(n) => {
            if let Some(n) = Neighbour::from_message(&n) {
                touch_neighbour(&n);
            }
        }
        other => {
            let _ = format!("{other:?}");
        }
    }
}

/// Runs, on one connection whose transport replays `steps`: a link dump
/// (the lean [`Link`] decoder), a general dump (every reply decoded, then
/// made an [`Address`], [`Route`] or [`Neighbour`] where it is one), a
/// batch of two acknowledged requests and a raw acknowledged `GET`. Each
/// returns `Ok` or an error that prints and carries no made-up errno; the
/// whole run receives at most once per step plus twice per exchange (its
/// own wait, and before it at most one wait for the rest of an earlier dump
/// that was left unfinished: no endless loop) and sends at most twice per
/// exchange (one retry of an interrupted dump).
pub fn dump_loop(steps: &[Step<'_>]) {
    let t = Replay { steps: steps.iter().cloned().collect(), last_seq: 0, sends: 0, recvs: 0 };
    let mut c = Conn::new(t, PORT);
    // Two attempts: the retry of an interrupted dump is exercised, and the
    // back-off sleep (from the third attempt on) is not.
    c.dump_attempts = 2;

    let links = c.dump(
        Op::ListLinks,
        &RouteNetlinkMessage::GetLink(LinkMessage::default()),
        NLM_F_DUMP,
        &crate::link::parse::decode_link,
    );
    check(&links);
    for l in links.iter().flatten() {
        touch_link(l);
    }

    let all = c.dump(
        Op::ListAddresses,
        &RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        NLM_F_DUMP,
        &decode_route,
    );
    check(&all);
    for m in all.into_iter().flatten() {
        touch_message(m);
    }

    let batch = c.batch(
        Op::SetLink,
        &[
            (RouteNetlinkMessage::SetLink(LinkMessage::default()), 0),
            (RouteNetlinkMessage::NewRoute(RouteMessage::default()), NLM_F_CREATE | NLM_F_EXCL),
        ],
        &decode_route,
    );
    check(&batch);
    if let Ok(replies) = batch {
        assert_eq!(replies.len(), 2, "one reply per request");
        for r in replies {
            match r {
                Ok(msgs) => msgs.into_iter().for_each(touch_message),
                Err(e) => {
                    if let Some(errno) = e.errno() {
                        assert!(errno > 0, "refusal with errno {errno}");
                    }
                    check::<()>(&Err(
                        e.into_error(Op::SetLink, crate::error::Object::link_index(1))
                    ));
                }
            }
        }
    }

    let raw = c.raw(RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()), 0);
    check(&raw);

    const EXCHANGES: usize = 4;
    assert!(
        c.t.recvs <= steps.len() + 2 * EXCHANGES,
        "{} receives for {} steps",
        c.t.recvs,
        steps.len()
    );
    assert!(c.t.sends <= 2 * EXCHANGES, "{} sends", c.t.sends);
}

/// [`dump_loop`] on the steps [`parse_steps`] reads from `input`.
pub fn dump_loop_input(input: &[u8]) {
    dump_loop(&parse_steps(input));
}

/// The extended-ack parser on an `NLMSG_ERROR` and an `NLMSG_DONE` payload.
/// `input` is the outer header's flags (2 bytes, native order) then the
/// payload.
pub fn extack(input: &[u8]) {
    let (flags, payload) = match input {
        [a, b, rest @ ..] => (u16::from_ne_bytes([*a, *b]), rest),
        _ => (0, input),
    };
    let code = payload.get(..4).map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]));
    if let Some((c, ack)) = crate::netlink::extack::parse_error(flags, payload) {
        assert_eq!(Some(c), code, "the code is the first four bytes");
        if let Some(m) = &ack.message {
            assert!(!m.is_empty() && !m.contains('\0'));
        }
        let _ = format!("{ack:?} {}", ack.is_empty());
    }
    let (c, ack) = crate::netlink::extack::parse_done(flags, payload);
    assert!(code.is_none_or(|x| x == c) && (code.is_some() || c == 0));
    let _ = format!("{ack:?}");
}

fn header(message_type: u16, len: usize) -> NetlinkHeader {
    let mut h = NetlinkHeader::default();
    h.message_type = message_type;
    h.length = u32::try_from(len + 16).unwrap_or(u32::MAX);
    h
}

/// The lean [`Link`] decoder on the payload of an `RTM_NEWLINK` message.
pub fn decode_link(payload: &[u8]) {
    let h = header(nix::libc::RTM_NEWLINK, payload.len());
    if let Ok(Some(l)) = crate::link::parse::decode_link(&h, payload) {
        assert_eq!(l.bytes(), payload, "a link keeps its bytes");
        touch_link(&l);
    }
}

/// A lean decoder (`new`) against the `netlink-packet-route` decoding it
/// replaced (`old`, from the decoded message): no panic, and the same value
/// whenever the old decoding accepts the payload.
fn decode_lean<T: PartialEq + std::fmt::Debug>(
    message_type: u16,
    payload: &[u8],
    new: fn(&[u8]) -> std::result::Result<Option<T>, String>,
    old: fn(RouteNetlinkMessage) -> Option<T>,
    touch: fn(&T),
) {
    let lean = new(payload);
    if let Ok(Some(v)) = &lean {
        touch(v);
    }
    if let Ok(Some(m)) = decode_route(&header(message_type, payload.len()), payload) {
        assert_eq!(lean, Ok(old(m)), "the lean decoder disagrees on {payload:?}");
    }
}

/// The lean address decoder ([`Address`] from an `RTM_NEWADDR` payload),
/// compared with the full decoding it replaced.
pub fn decode_address(payload: &[u8]) {
    let old = |m| match m {
        RouteNetlinkMessage::NewAddress(a) => Address::from_message(a),
        _ => None,
    };
    decode_lean(nix::libc::RTM_NEWADDR, payload, Address::from_bytes, old, touch_address);
}

/// The lean route decoder ([`Route`] from an `RTM_NEWROUTE` payload),
/// compared with the full decoding it replaced.
pub fn decode_route_msg(payload: &[u8]) {
    let old = |m| match m {
        RouteNetlinkMessage::NewRoute(r) => Route::from_message(r),
        _ => None,
    };
    decode_lean(nix::libc::RTM_NEWROUTE, payload, Route::from_bytes, old, touch_route);
}

/// The lean neighbour decoder ([`Neighbour`] from an `RTM_NEWNEIGH`
/// payload), compared with the full decoding it replaced.
pub fn decode_neighbour(payload: &[u8]) {
    let old = |m| match m {
        RouteNetlinkMessage::NewNeighbour(n) => Neighbour::from_message(&n),
        _ => None,
    };
    decode_lean(nix::libc::RTM_NEWNEIGH, payload, Neighbour::from_bytes, old, touch_neighbour);
}

/// Asserts that a parsed value prints as text that parses back to it.
fn round_trip<T>(s: &str)
where
    T: std::str::FromStr + std::fmt::Display + std::fmt::Debug + PartialEq,
    T::Err: std::fmt::Display,
{
    match s.parse::<T>() {
        Ok(v) => {
            let text = v.to_string();
            match text.parse::<T>() {
                Ok(again) => assert_eq!(again, v, "{s:?} -> {text:?}"),
                Err(e) => panic!("{s:?} parsed as {v:?}, printed as {text:?}, which fails: {e}"),
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Every name and value parser on `input`: [`IfName`] (bytes and text),
/// [`NsName`], [`IpNet`], [`MacAddr`], sysctl keys, and the keyword enums.
pub fn names(input: &[u8]) {
    match IfName::from_bytes(input) {
        Ok(n) => {
            assert_eq!(n.as_bytes(), input);
            let _ = format!("{n} {n:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let Ok(s) = std::str::from_utf8(input) else { return };
    let by_text = IfName::new(s);
    assert_eq!(by_text.is_ok(), IfName::from_bytes(input).is_ok());
    if let Ok(n) = &by_text {
        assert_eq!(n.to_str(), Some(s));
        assert_eq!(s.parse::<IfName>().ok().as_ref(), Some(n));
    }
    match NsName::new(s) {
        Ok(n) => assert_eq!(n.as_str(), s),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(n) = s.parse::<IpNet>() {
        touch_net(&n);
    }
    round_trip::<IpNet>(s);
    round_trip::<MacAddr>(s);
    match crate::sysctl::key_path(s) {
        Ok(p) => assert!(p.starts_with("/proc/sys/net/"), "{p:?}"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    round_trip::<RouteScope>(s);
    round_trip::<RouteType>(s);
    round_trip::<RouteProtocol>(s);
    round_trip::<RouteTable>(s);
    round_trip::<AddressScope>(s);
    round_trip::<NeighbourState>(s);
}

/// A transport that keeps every datagram the kernel sends.
struct Recorder {
    inner: SysTransport,
    got: Vec<Vec<u8>>,
}

impl Transport for Recorder {
    fn send(&mut self, buf: &[u8]) -> std::result::Result<usize, Failure> {
        self.inner.send(buf)
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> std::result::Result<Option<usize>, Failure> {
        let r = self.inner.recv(buf);
        if let Ok(Some(_)) = r {
            self.got.push(buf.clone());
        }
        r
    }

    fn set_timeout(&self, timeout: Duration) -> std::result::Result<(), Failure> {
        self.inner.set_timeout(timeout)
    }
}

/// For the corpus: sends `msg` with `flags` on a new socket in the calling
/// thread's namespace, exactly as
/// [`RouteSocket::request_raw`](crate::RouteSocket::request_raw) would, and
/// returns the outcome (the number of messages) with the raw datagrams the
/// kernel answered.
///
/// # Errors
/// When the socket cannot be opened.
pub fn capture(msg: RouteNetlinkMessage, flags: u16) -> Result<(Result<usize>, Vec<Vec<u8>>)> {
    let inner = SysTransport::open()?;
    let port = inner.port();
    let mut c = Conn::new(Recorder { inner, got: Vec::new() }, port);
    c.t.set_timeout(Duration::from_secs(5)).map_err(|e| e.into_error(Op::OpenNetlink))?;
    let r = c.raw(msg, flags).map(|v| v.len());
    Ok((r, std::mem::take(&mut c.t.got)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seed of `fuzz/corpus` (real kernel replies and the inputs that
    /// found bugs) through its target, on the stable toolchain:
    /// `cargo test --features fuzzing`.
    #[test]
    fn the_committed_corpus_replays_without_a_panic() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 7] = [
            ("dump_loop", dump_loop_input),
            ("extack", extack),
            ("decode_link", decode_link),
            ("decode_address", decode_address),
            ("decode_route", decode_route_msg),
            ("decode_neighbour", decode_neighbour),
            ("names", names),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, run) in targets {
            let mut n = 0;
            for entry in std::fs::read_dir(root.join(target)).unwrap() {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                run(&bytes);
                n += 1;
            }
            assert!(n > 0, "no seeds for {target}");
        }
    }

    #[test]
    fn steps_survive_encoding() {
        let steps = [
            Step::Kernel { bytes: b"abc", seq_offset: Some(2) },
            Step::Kernel { bytes: b"", seq_offset: Some(-3) },
            Step::Kernel { bytes: b"x", seq_offset: None },
            Step::Foreign(b"yz"),
            Step::Truncated { bytes: b"t", extra: 7 },
            Step::Fail(nix::libc::ENOBUFS),
            Step::Fail(0),
        ];
        assert_eq!(parse_steps(&encode_steps(&steps)), steps);
        // A record cut short keeps what there is.
        assert_eq!(parse_steps(&[5, 9]), [Step::Foreign(&[9][..])]);
        assert_eq!(parse_steps(&[5, 9, 0, 1]), [Step::Foreign(&[1][..])]);
    }

    #[test]
    fn no_reply_at_all_times_out_every_exchange() {
        // Nothing at all: every exchange times out, nothing panics.
        dump_loop(&[]);
    }
}

// ---------------------------------------------------------------------------
// The decoders of the monitor, FDB, rule and nsid modules (issue 12).
// ---------------------------------------------------------------------------

/// `RTM_NEWRULE` and `RTM_NEWNSID` (linux/rtnetlink.h).
const RTM_NEWRULE: u16 = 32;
const RTM_NEWNSID: u16 = 88;

/// The message the general decoder makes of a payload of `message_type`.
fn general(message_type: u16, payload: &[u8]) -> Option<RouteNetlinkMessage> {
    decode_route(&header(message_type, payload.len()), payload).ok().flatten()
}

/// The monitor's decoding of one notification datagram: every message of
/// it (walked as the monitor walks them) made an event, each event used.
/// A malformed message is an error (the walk stops at a bad length), never
/// a panic.
pub fn monitor_datagram(datagram: &[u8]) {
    for m in crate::netlink::frame::frames(datagram) {
        let Ok(m) = m else { break };
        match crate::monitor::decode(&m.header, m.payload) {
            Ok(Some(event)) => {
                use crate::monitor::Event;
                match &event {
                    Event::LinkAdded(l)
                    | Event::LinkChanged(l)
                    | Event::LinkRemoved(l)
                    | Event::BridgePortChanged(l)
                    | Event::BridgePortRemoved(l) => touch_link(l),
                    Event::AddressAdded(a) | Event::AddressRemoved(a) => touch_address(a),
                    Event::RouteAdded(r) | Event::RouteReplaced(r) | Event::RouteRemoved(r) => {
                        touch_route(r);
                    }
                    Event::NeighbourAdded(n) | Event::NeighbourRemoved(n) => touch_neighbour(n),
                    _ => {}
                }
                let _ = format!("{event:?}");
            }
            Ok(None) => {}
            Err(detail) => assert!(!detail.is_empty(), "an empty decode error"),
        }
    }
}

/// The FDB decoder (`bridge fdb show`) on the payload of an `RTM_NEWNEIGH`
/// of family `AF_BRIDGE` (the first byte): an entry, when there is one,
/// prints.
pub fn decode_fdb(payload: &[u8]) {
    if let Some(RouteNetlinkMessage::NewNeighbour(m)) = general(nix::libc::RTM_NEWNEIGH, payload)
        && let Some(e) = crate::fdb::parse_entry(&m)
    {
        let _ = format!("{e:?} {} {} {} {}", e.mac, e.state, e.nud, e.flags);
    }
}

/// The rule decoder (`ip rule show`) on the payload of an `RTM_NEWRULE`.
/// A rule read from the kernel prints, and when it can be written back
/// (the request [`RouteSocket::delete_rule`](crate::RouteSocket::delete_rule)
/// sends for it), what is written reads back as the same rule.
pub fn decode_rule(payload: &[u8]) {
    let Some(RouteNetlinkMessage::NewRule(m)) = general(RTM_NEWRULE, payload) else { return };
    let Some(rule) = crate::rule::Rule::from_message(m) else { return };
    let _ = format!("{rule} {rule:?}");
    if let Ok(again) = rule.message(Op::DeleteRule) {
        use netlink_packet_core::Emitable;
        let mut bytes = vec![0; again.buffer_len()];
        again.emit(&mut bytes);
        let back = match general(RTM_NEWRULE, &bytes) {
            Some(RouteNetlinkMessage::NewRule(m)) => crate::rule::Rule::from_message(m),
            _ => None,
        };
        // The flags other than `not` are the kernel's, never written.
        let mut want = rule.clone();
        want.flags &= netlink_packet_route::rule::RuleFlags::Invert;
        assert_eq!(back.as_ref(), Some(&want), "a rule written back reads differently");
    }
}

/// The nsid decoder (`ip netns list-id`, `RouteSocket::netns_id`) on the
/// payload of an `RTM_NEWNSID`: the id, when there is one, is never
/// negative (`-1` is "not assigned").
pub fn decode_nsid(payload: &[u8]) {
    if let Some(RouteNetlinkMessage::NewNsId(m)) = general(RTM_NEWNSID, payload) {
        if let Some(id) = crate::nsid::nsid_of(&m) {
            assert!(id >= 0, "nsid {id}");
        }
        let _ = format!("{m:?}");
    }
}

#[cfg(test)]
mod decoder_tests {
    use super::*;

    /// The seeds of the monitor, FDB, rule and nsid targets (real replies
    /// and notifications captured here) replay without a panic.
    #[test]
    fn the_committed_decoder_corpus_replays_without_a_panic() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 4] = [
            ("monitor", monitor_datagram),
            ("decode_fdb", decode_fdb),
            ("decode_rule", decode_rule),
            ("decode_nsid", decode_nsid),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, run) in targets {
            let mut n = 0;
            for entry in std::fs::read_dir(root.join(target)).unwrap() {
                run(&std::fs::read(entry.unwrap().path()).unwrap());
                n += 1;
            }
            assert!(n > 0, "no seeds for {target}");
        }
    }
}

#[cfg(test)]
mod rule_regression {
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::rule::{RuleAttribute, RuleMessage};

    use crate::rule::Rule;

    /// Found by `decode_rule`: a source or destination address with prefix
    /// length 0 matches everything (the kernel ignores the address), so it
    /// reads as `from all` / `to all`, as `ip rule` prints it and as nslink
    /// writes it; it was read as `from 10.5.0.0/0`, which wrote back as
    /// `from all` and read back differently.
    #[test]
    fn an_address_with_prefix_zero_reads_as_all() {
        let mut m = RuleMessage::default();
        m.header.family = AddressFamily::Inet;
        m.attributes.push(RuleAttribute::Source([10, 5, 0, 0].into()));
        m.attributes.push(RuleAttribute::Destination([10, 6, 0, 0].into()));
        let rule = Rule::from_message(m).unwrap();
        assert_eq!((rule.from, rule.to), (None, None));
    }
}
