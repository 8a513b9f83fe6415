//! Benchmarks of nslink's dumps against a raw C dump loop, the rtnetlink
//! crate and `ip -j … show`, on a namespace with 1,000 devices, 1,000
//! addresses, 1,000 routes and 1,000 neighbour entries.
//!
//! Run with `cargo bench --bench dumps` (as root). `NSLINK_BENCH_QUICK=1`
//! makes a short smoke run; `NSLINK_BENCH_ROUNDS=N` sets the number of
//! measured rounds.
//!
//! Everything runs on one dedicated thread inside a new network and mount
//! namespace (`common::run_isolated`); the C program and the `ip` processes
//! are spawned from that thread and inherit it, and the rtnetlink crate's
//! socket is made on it (a tokio current-thread runtime), so all four
//! contenders read the same tables. IPv6 is switched off in the namespace
//! before the devices exist, so no device gets link-local addresses or
//! routes of its own and the tables hold what the set-up made:
//! - links: 500 veth pairs (`veth000`…, `vpeer000`…) plus `lo`;
//! - addresses: 10.0.0.1/24 on `veth000` (up) and 999 /32s on `vpeer001`;
//! - routes: 1,000 /24s via 10.0.0.2 on `veth000` in the main table, plus
//!   the kernel's own: the prefix route of 10.0.0.1/24 and a local route
//!   for each of the 1,000 addresses (and one broadcast route): 2,002;
//! - neighbours: 1,000 permanent entries on `veth000`.
//!
//! Per kind of dump, one group of interleaved rounds (see `common`) with
//! five contenders, each returning the whole table decoded:
//! 1. nslink: `links()`, `addresses()`, `routes()`, `neighbours()`;
//! 2. raw C (`benches/c/dump.c`): one socket, requests by hand, every
//!    attribute walked and the fields nslink keeps copied into an array of
//!    structs; it times its own loop (no process start in the figure);
//! 3. rtnetlink 0.24 with a tokio current-thread runtime: the
//!    `handle.link().get()`, `address().get()`, `route().get()` (IPv4 then
//!    IPv6) and `neighbours().get()` streams, collected into a `Vec`;
//! 4. `ip -j link|addr|route|neigh show` (one process per dump, all output
//!    read);
//! 5. nslink's `request_raw` dump: every reply decoded in full by
//!    `netlink-packet-route` and kept, which is how `addresses()`,
//!    `routes()` and `neighbours()` worked before their lean decoders.
//!
//! Ratios are each contender's time over nslink's, per round (paired).

mod common;

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use nslink::RouteSocket;

use common::{
    BenchResult, Contender, Stats, fmt_ratio, heading, ip, ip_batch, row, run_interleaved,
};

/// veth pairs to create: 1,000 devices, plus `lo`.
const PAIRS: usize = 500;
/// Addresses, routes and neighbour entries to make.
const ENTRIES: usize = 1_000;

/// Sizes of the run.
#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    warmup: u32,
    rounds: u32,
    /// nslink, C and rtnetlink dumps per round.
    iters: u32,
    /// `ip` processes per round.
    ip_iters: u32,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var("NSLINK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut cfg = if quick {
            Config { quick, warmup: 1, rounds: 3, iters: 3, ip_iters: 1 }
        } else {
            Config { quick, warmup: 2, rounds: 21, iters: 20, ip_iters: 3 }
        };
        if let Some(r) = std::env::var("NSLINK_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()) {
            cfg.rounds = r;
        }
        cfg
    }
}

fn main() {
    let cfg = Config::from_env();
    common::run_isolated("dumps", move || run_all(cfg));
}

/// The kinds of dump, as the C program names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Link,
    Addr,
    Route,
    Neigh,
}

impl Kind {
    fn c_name(self) -> &'static str {
        match self {
            Kind::Link => "link",
            Kind::Addr => "addr",
            Kind::Route => "route",
            Kind::Neigh => "neigh",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Link => "link dump (1,001 devices)",
            Kind::Addr => "address dump (1,000 addresses)",
            Kind::Route => "route dump (2,002 routes: 1,000 added, 1,002 the kernel's)",
            Kind::Neigh => "neighbour dump (1,000 entries)",
        }
    }

    fn ip_args(self) -> &'static [&'static str] {
        match self {
            Kind::Link => &["-j", "link", "show"],
            Kind::Addr => &["-j", "addr", "show"],
            Kind::Route => &["-j", "route", "show", "table", "all"],
            Kind::Neigh => &["-j", "neigh", "show", "nud", "all"],
        }
    }

    /// nslink's dump; returns the entries.
    fn nslink(self, nl: &RouteSocket) -> BenchResult<usize> {
        Ok(match self {
            Kind::Link => nl.links()?.len(),
            Kind::Addr => nl.addresses()?.len(),
            Kind::Route => nl.routes()?.len(),
            Kind::Neigh => nl.neighbours()?.len(),
        })
    }

    /// The same dump through `request_raw`: every reply fully decoded into
    /// a `netlink-packet-route` message and kept, as nslink's address,
    /// route and neighbour dumps were before their lean decoders.
    fn full_decode(self, nl: &RouteSocket) -> BenchResult<usize> {
        use nslink::netlink::packet::address::AddressMessage;
        use nslink::netlink::packet::link::{LinkAttribute, LinkExtentMask, LinkMessage};
        use nslink::netlink::packet::neighbour::NeighbourMessage;
        use nslink::netlink::packet::route::RouteMessage;
        use nslink::netlink::packet::{AddressFamily, RouteNetlinkMessage as M};
        use nslink::netlink_packet_core::NLM_F_DUMP;
        let dump = |m| nl.request_raw(m, NLM_F_DUMP).map(|v| v.len());
        Ok(match self {
            Kind::Link => {
                let mut m = LinkMessage::default();
                m.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
                dump(M::GetLink(m))?
            }
            Kind::Addr => dump(M::GetAddress(AddressMessage::default()))?,
            Kind::Route => {
                let mut n = 0;
                for family in [AddressFamily::Inet, AddressFamily::Inet6] {
                    let mut m = RouteMessage::default();
                    m.header.address_family = family;
                    n += dump(M::GetRoute(m))?;
                }
                n
            }
            Kind::Neigh => dump(M::GetNeighbour(NeighbourMessage::default()))?,
        })
    }

    /// The rtnetlink crate's dump; returns the entries (its route streams
    /// of both families, as nslink dumps them).
    async fn rtnetlink(self, h: &rtnetlink::Handle) -> BenchResult<usize> {
        use rtnetlink::RouteMessageBuilder;
        Ok(match self {
            Kind::Link => h.link().get().execute().try_collect::<Vec<_>>().await?.len(),
            Kind::Addr => h.address().get().execute().try_collect::<Vec<_>>().await?.len(),
            Kind::Route => {
                let v4 = RouteMessageBuilder::<Ipv4Addr>::new().build();
                let v6 = RouteMessageBuilder::<Ipv6Addr>::new().build();
                let a = h.route().get(v4).execute().try_collect::<Vec<_>>().await?;
                let b = h.route().get(v6).execute().try_collect::<Vec<_>>().await?;
                a.len() + b.len()
            }
            Kind::Neigh => h.neighbours().get().execute().try_collect::<Vec<_>>().await?.len(),
        })
    }
}

/// Runs the C program: `iters` dumps of `kind`; returns the time it
/// measured and the entries of its last dump.
fn c_dump(bin: &std::path::Path, kind: Kind, iters: u32) -> BenchResult<(Duration, usize)> {
    let out = Command::new(bin).args([kind.c_name(), &iters.to_string()]).output()?;
    if !out.status.success() {
        return Err(format!("dump {kind:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut words = text.split_whitespace();
    let ns: u64 = words.next().ok_or("no time")?.parse()?;
    let n: usize = words.next().ok_or("no count")?.parse()?;
    Ok((Duration::from_nanos(ns), n))
}

fn run_all(cfg: Config) -> BenchResult<()> {
    let ip_version = String::from_utf8_lossy(&ip(&["-V"])?).trim().to_owned();
    println!("nslink dumps benchmark{}", if cfg.quick { " (QUICK smoke run)" } else { "" });
    println!(
        "kernel {}, {} CPUs, {ip_version}, load {}; per row: median, p10, p90 of the per-round \
         mean time of one dump; ratios are per-round (paired) contender/nslink medians with \
         p10..p90",
        fs::read_to_string("/proc/sys/kernel/osrelease")?.trim(),
        thread::available_parallelism().map_or(0, |n| n.get()),
        fs::read_to_string("/proc/loadavg")?
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );

    let t = Instant::now();
    for which in ["all", "default"] {
        fs::write(format!("/proc/sys/net/ipv6/conf/{which}/disable_ipv6"), "1")?;
    }
    let mut batch = String::new();
    for i in 0..PAIRS {
        batch.push_str(&format!("link add name veth{i:03} type veth peer name vpeer{i:03}\n"));
    }
    batch.push_str("link set veth000 up\nlink set vpeer000 up\n");
    batch.push_str("addr add 10.0.0.1/24 dev veth000\n");
    for i in 1..ENTRIES {
        batch.push_str(&format!("addr add 172.16.{}.{}/32 dev vpeer001\n", i / 250, i % 250 + 1));
    }
    for i in 0..ENTRIES {
        batch.push_str(&format!("route add 10.{}.{}.0/24 via 10.0.0.2\n", 100 + i / 250, i % 250));
        batch.push_str(&format!(
            "neigh add 192.168.{}.{} lladdr 02:00:00:00:{:02x}:{:02x} dev veth000 nud permanent\n",
            i / 250,
            i % 250 + 1,
            i / 256,
            i % 256
        ));
    }
    ip_batch(&batch)?;
    println!(
        "setup: {PAIRS} veth pairs and {ENTRIES} addresses, routes, neighbours in {:.2?}",
        t.elapsed()
    );

    let nl = RouteSocket::open()?;
    let c_bin = common::c_program("dump")?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
    let handle = {
        let _in_runtime = rt.enter();
        let (conn, handle, _) = rtnetlink::new_connection()?;
        rt.spawn(conn);
        handle
    };

    let kinds = [Kind::Link, Kind::Addr, Kind::Route, Kind::Neigh];
    // Every contender sees the same table.
    for kind in kinds {
        let n = kind.nslink(&nl)?;
        let (_, c) = c_dump(&c_bin, kind, 1)?;
        let r = rt.block_on(kind.rtnetlink(&handle))?;
        let shown = String::from_utf8(ip(kind.ip_args())?)?;
        println!(
            "{kind:?}: nslink {n}, C {c}, rtnetlink {r} entries, ip printed {} bytes",
            shown.len()
        );
        let expected = match kind {
            Kind::Link => 2 * PAIRS + 1,
            Kind::Route => 2 * ENTRIES + 2,
            Kind::Addr | Kind::Neigh => ENTRIES,
        };
        if n != expected || c != n || r != n {
            return Err(format!("{kind:?}: nslink {n}, C {c}, rtnetlink {r}").into());
        }
    }

    let mut keys: Vec<(String, Stats)> = Vec::new();
    for kind in kinds {
        bench_kind(cfg, kind, &nl, &c_bin, &rt, &handle, &mut keys)?;
    }
    println!();
    println!("== SUMMARY: nslink / contender (median ratio, p10..p90 over rounds) ==");
    for (what, r) in &keys {
        println!("{what:<52} {}", fmt_ratio(r));
    }
    Ok(())
}

/// One group: the four contenders on one kind of dump.
fn bench_kind(
    cfg: Config,
    kind: Kind,
    nl: &RouteSocket,
    c_bin: &std::path::Path,
    rt: &tokio::runtime::Runtime,
    handle: &rtnetlink::Handle,
    keys: &mut Vec<(String, Stats)>,
) -> BenchResult<()> {
    let mine = Contender::new("nslink", cfg.iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            kind.nslink(nl)?;
        }
        Ok(t.elapsed())
    });
    let c =
        Contender::new("raw C (benches/c/dump.c)", cfg.iters, |n| Ok(c_dump(c_bin, kind, n)?.0));
    let crate_ = Contender::new("rtnetlink 0.24 + tokio (current thread)", cfg.iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            rt.block_on(kind.rtnetlink(handle))?;
        }
        Ok(t.elapsed())
    });
    let full = Contender::new("nslink request_raw (full decode, kept)", cfg.iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            kind.full_decode(nl)?;
        }
        Ok(t.elapsed())
    });
    let ip_show = Contender::new("ip -j ... show (spawn, read all)", cfg.ip_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            ip(kind.ip_args())?;
        }
        Ok(t.elapsed())
    });
    let mut cs = [mine, c, full, crate_, ip_show];
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
    heading(kind.title(), cfg.rounds, &cs);
    row(&cs[0], None);
    for other in &cs[1..] {
        row(other, Some(("nslink", &cs[0])));
    }
    for (other, name) in cs[1..].iter().zip(["raw C", "request_raw", "rtnetlink", "ip -j"]) {
        keys.push((
            format!("{}: nslink / {name}", kind.c_name()),
            Stats::paired_ratio(&cs[0], other),
        ));
    }
    Ok(())
}
