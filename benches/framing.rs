//! Netlink framing: nslink's own (`src/netlink/frame.rs`, included here as
//! is) against the same work done with `netlink-packet-core`, on the same
//! bytes. This is the measurement behind nslink's choices: requests are
//! written with `netlink-packet-core`'s `NetlinkHeader` (no measurable
//! difference), replies are split by nslink's hand-written walker (measured
//! faster than `NetlinkBuffer`).
//!
//! Run with `cargo bench --bench framing` (no privileges needed).
//! `NSLINK_BENCH_QUICK=1` makes a short smoke run; `NSLINK_BENCH_ROUNDS=N`
//! sets the number of measured rounds.
//!
//! The replies are a synthetic 1,000-link dump: 1,000 `RTM_NEWLINK`
//! messages shaped like the kernel's for a veth (name, MTUs, queues, MAC
//! addresses, both statistics blocks, link info; about 700 bytes each),
//! packed into datagrams of at most 32 KiB as the kernel packs a dump.
//! Groups, each measured in interleaved rounds (see `common`), reporting the
//! median, p10 and p90 of the per-round time of one operation and the paired
//! ratio `netlink-packet-core / hand-written` (above 1 means the crate is
//! slower; "hand-written" is the library's splitter in groups 1-3 and the
//! writer nslink used before in group 4):
//! 1. split: walk every datagram into (header, payload) pairs;
//! 2. split + light decode: the same, then find each link's name among its
//!    attributes (`NlasIterator`, the same code for both), the least work a
//!    reader of a dump does — like `links()`, which reads a few attributes;
//! 3. split + full decode: each payload decoded as a `RouteNetlinkMessage`
//!    (what `request_raw` and most dumps do);
//! 4. write a batch: frame 128 `RTM_SETLINK` requests into one datagram.

mod common;

#[allow(dead_code)]
#[path = "../src/netlink/frame.rs"]
mod frame;

use std::hint::black_box;
use std::time::Instant;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_MULTIPART, NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader,
    NetlinkSerializable, NlasIterator,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoKind, LinkAttribute, LinkInfo, LinkMessage, Map, State, Stats, Stats64,
};

use common::{BenchResult, Contender, heading, row, run_interleaved};

/// Links in the synthetic dump.
const LINKS: u32 = 1000;
/// Most bytes the kernel puts in one dump datagram.
const DATAGRAM: usize = 32 * 1024;
/// Requests in the batch group (nslink's `MAX_BATCH`).
const BATCH: usize = 128;

/// The contenders nslink does not use: the split done with
/// `netlink-packet-core`'s `NetlinkBuffer`, and the hand-written request
/// writer nslink had before it used `NetlinkHeader::emit`.
mod alt {
    use netlink_packet_core::{
        DecodeError, NetlinkBuffer, NetlinkHeader, NetlinkSerializable, Parseable,
    };

    use super::frame::{Frame, align, header_len};

    /// Splits a datagram with `NetlinkBuffer::new_checked` (length checks)
    /// and `NetlinkHeader::parse`.
    pub(crate) struct CoreFrames<'a> {
        rest: &'a [u8],
    }

    pub(crate) fn core_frames(d: &[u8]) -> CoreFrames<'_> {
        CoreFrames { rest: d }
    }

    impl<'a> Iterator for CoreFrames<'a> {
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
            match &parsed {
                Ok(f) => self.rest = rest.get(align(f.header.length as usize)..).unwrap_or(&[]),
                Err(_) => self.rest = &[],
            }
            Some(parsed)
        }
    }

    /// The request writer nslink had before `NetlinkHeader::emit`.
    pub(crate) fn push_request<M: NetlinkSerializable>(
        tx: &mut Vec<u8>,
        msg: &M,
        flags: u16,
        seq: u32,
    ) {
        let hdr = header_len();
        let start = tx.len();
        let len = hdr + msg.buffer_len();
        tx.resize(start + align(len), 0);
        let buf = &mut tx[start..start + len];
        buf[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
        buf[4..6].copy_from_slice(&msg.message_type().to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        buf[12..16].copy_from_slice(&0u32.to_ne_bytes());
        msg.serialize(&mut buf[hdr..]);
    }
}

/// One link as the kernel describes a veth.
fn link(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    let mac = vec![0x02, 0, 0, 0, (index >> 8) as u8, index as u8];
    let mut stats64 = Stats64::default();
    stats64.rx_packets = u64::from(index);
    let mut stats = Stats::default();
    stats.rx_packets = index;
    m.attributes = vec![
        LinkAttribute::IfName(format!("veth{index}")),
        LinkAttribute::TxQueueLen(1000),
        LinkAttribute::OperState(State::Up),
        LinkAttribute::Mtu(1500),
        LinkAttribute::MinMtu(68),
        LinkAttribute::MaxMtu(65535),
        LinkAttribute::Group(0),
        LinkAttribute::Promiscuity(0),
        LinkAttribute::AllMulticast(0),
        LinkAttribute::NumTxQueues(2),
        LinkAttribute::GsoMaxSegs(65535),
        LinkAttribute::GsoMaxSize(65536),
        LinkAttribute::NumRxQueues(2),
        LinkAttribute::Carrier(1),
        LinkAttribute::Qdisc("noqueue".into()),
        LinkAttribute::CarrierChanges(2),
        LinkAttribute::CarrierUpCount(1),
        LinkAttribute::CarrierDownCount(1),
        LinkAttribute::ProtoDown(0),
        LinkAttribute::Map(Map::default()),
        LinkAttribute::Address(mac.clone()),
        LinkAttribute::Broadcast(vec![0xff; 6]),
        LinkAttribute::PermAddress(mac),
        LinkAttribute::Stats64(stats64),
        LinkAttribute::Stats(stats),
        LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Veth)]),
        LinkAttribute::Link(index ^ 1),
    ];
    RouteNetlinkMessage::NewLink(m)
}

/// The dump's datagrams, each a run of `RTM_NEWLINK` messages.
fn dump() -> Vec<Vec<u8>> {
    let mut datagrams = Vec::new();
    let mut cur = Vec::new();
    let mut one = Vec::new();
    for i in 1..=LINKS {
        one.clear();
        frame::push_request(&mut one, &link(i), NLM_F_MULTIPART, 7);
        if cur.len() + one.len() > DATAGRAM {
            datagrams.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(&one);
    }
    datagrams.push(cur);
    datagrams
}

/// What is done with each message after the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decode {
    /// Nothing.
    None,
    /// Find the `IFLA_IFNAME` attribute.
    Light,
    /// A full `netlink-packet-route` decode.
    Full,
}

/// `IFLA_IFNAME` (`<linux/if_link.h>`), which no dependency exports.
const IFLA_IFNAME: u16 = 3;
/// `struct ifinfomsg`, before the attributes.
const IFINFOMSG_LEN: usize = 16;

fn decode(h: &NetlinkHeader, payload: &[u8], how: Decode) -> BenchResult<usize> {
    match how {
        Decode::None => Ok(0),
        Decode::Light => {
            let attrs = payload.get(IFINFOMSG_LEN..).ok_or("short ifinfomsg")?;
            for nla in NlasIterator::new(attrs) {
                let nla = nla?;
                if nla.kind() == IFLA_IFNAME {
                    return Ok(nla.value().len());
                }
            }
            Err("no IFLA_IFNAME".into())
        }
        Decode::Full => Ok(black_box(RouteNetlinkMessage::deserialize(h, payload)?).buffer_len()),
    }
}

fn split_hand(dump: &[Vec<u8>], how: Decode) -> BenchResult<u64> {
    let mut sum = 0u64;
    for d in dump {
        for m in frame::frames(black_box(d)) {
            let m = m?;
            sum += u64::from(m.header.sequence_number) + m.payload.len() as u64;
            sum += decode(&m.header, m.payload, how)? as u64;
        }
    }
    Ok(sum)
}

fn split_core(dump: &[Vec<u8>], how: Decode) -> BenchResult<u64> {
    let mut sum = 0u64;
    for d in dump {
        for m in alt::core_frames(black_box(d)) {
            let m = m?;
            sum += u64::from(m.header.sequence_number) + m.payload.len() as u64;
            sum += decode(&m.header, m.payload, how)? as u64;
        }
    }
    Ok(sum)
}

#[derive(Debug, Clone, Copy)]
struct Config {
    warmup: u32,
    rounds: u32,
    split_iters: u32,
    light_iters: u32,
    decode_iters: u32,
    batch_iters: u32,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var_os("NSLINK_BENCH_QUICK").is_some();
        let rounds = std::env::var("NSLINK_BENCH_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if quick { 3 } else { 21 });
        if quick {
            Config {
                warmup: 1,
                rounds,
                split_iters: 20,
                light_iters: 5,
                decode_iters: 2,
                batch_iters: 20,
            }
        } else {
            Config {
                warmup: 3,
                rounds,
                split_iters: 2000,
                light_iters: 500,
                decode_iters: 20,
                batch_iters: 2000,
            }
        }
    }
}

fn main() -> BenchResult<()> {
    let cfg = Config::from_env();
    let dump = dump();
    let bytes: usize = dump.iter().map(Vec::len).sum();
    println!(
        "synthetic dump: {LINKS} links, {} datagrams, {bytes} bytes ({} per link)",
        dump.len(),
        bytes / LINKS as usize
    );
    // Both agree on every message before anything is timed.
    for how in [Decode::None, Decode::Light, Decode::Full] {
        assert_eq!(split_hand(&dump, how)?, split_core(&dump, how)?);
    }
    let requests: Vec<RouteNetlinkMessage> = (1..=BATCH as u32)
        .map(|i| {
            let mut m = LinkMessage::default();
            m.header.index = i;
            m.attributes.push(LinkAttribute::Mtu(1400));
            RouteNetlinkMessage::SetLink(m)
        })
        .collect();
    let write = |f: fn(&mut Vec<u8>, &RouteNetlinkMessage, u16, u32), tx: &mut Vec<u8>| {
        tx.clear();
        for (i, m) in requests.iter().enumerate() {
            f(tx, m, NLM_F_REQUEST | NLM_F_ACK, i as u32 + 1);
        }
        black_box(tx.len())
    };
    {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(alt::push_request, &mut a);
        write(frame::push_request, &mut b);
        assert_eq!(a, b, "both write the same bytes");
        assert!(requests.iter().all(|m| m.buffer_len() > 0));
    }

    let groups = [
        ("split a 1,000-link dump into messages", Decode::None, cfg.split_iters),
        ("split + light decode (find each name)", Decode::Light, cfg.light_iters),
        ("split + full decode (RouteNetlinkMessage)", Decode::Full, cfg.decode_iters),
    ];
    for (title, how, iters) in groups {
        let d = &dump;
        let mut cs = [
            Contender::new("hand-written (nslink)", iters, move |n| {
                let t = Instant::now();
                for _ in 0..n {
                    black_box(split_hand(d, how)?);
                }
                Ok(t.elapsed())
            }),
            Contender::new("netlink-packet-core NetlinkBuffer", iters, move |n| {
                let t = Instant::now();
                for _ in 0..n {
                    black_box(split_core(d, how)?);
                }
                Ok(t.elapsed())
            }),
        ];
        run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
        heading(title, cfg.rounds, &cs);
        row(&cs[0], None);
        row(&cs[1], Some(("hand-written", &cs[0])));
    }

    let mut tx_a = Vec::with_capacity(8192);
    let mut tx_b = Vec::with_capacity(8192);
    let mut cs = [
        Contender::new("hand-written", cfg.batch_iters, |n| {
            let t = Instant::now();
            for _ in 0..n {
                write(alt::push_request, &mut tx_a);
            }
            Ok(t.elapsed())
        }),
        Contender::new("netlink-packet-core NetlinkHeader (nslink)", cfg.batch_iters, |n| {
            let t = Instant::now();
            for _ in 0..n {
                write(frame::push_request, &mut tx_b);
            }
            Ok(t.elapsed())
        }),
    ];
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
    heading("write a batch of 128 requests", cfg.rounds, &cs);
    row(&cs[0], None);
    row(&cs[1], Some(("hand-written", &cs[0])));
    Ok(())
}
