//! Benchmarks of nslink's link queries against `ip -j link show`, on a
//! namespace with 1,000 devices.
//!
//! Run with `cargo bench --bench links` (as root). `NSLINK_BENCH_QUICK=1`
//! makes a short smoke run; `NSLINK_BENCH_ROUNDS=N` sets the number of
//! measured rounds.
//!
//! Everything runs on one dedicated thread that first moves into a new
//! network *and* mount namespace, makes `/` recursively private and mounts a
//! tmpfs on `/run`; the `ip` processes are spawned from that thread and
//! inherit both namespaces. The 1,000 devices (500 veth pairs, made with one
//! `ip -batch -`) live only there and vanish with the thread: the host's
//! devices are never touched.
//!
//! Groups, each measured in interleaved rounds (see `common`), reporting
//! median, p10 and p90 of the per-round mean time of one operation, and the
//! per-round (paired) ratio `ip / nslink`:
//! 1. full dump: `RouteSocket::links()` (typed `Link` views of all 1,001
//!    devices) and a raw `RTM_GETLINK` dump through `request_raw` (no typed
//!    view), against spawning `ip -j link show` and reading all its output;
//! 2. get by name: `RouteSocket::link("vethNNN")` (rotating over the 500
//!    names), and `link(index)`, against `ip -j link show dev vethNNN`.

mod common;

use std::fs;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant;

use netlink_packet_core::NLM_F_DUMP;
use nslink::RouteSocket;
use nslink::netlink::packet::RouteNetlinkMessage;
use nslink::netlink::packet::link::LinkMessage;

use common::{BenchResult, Contender, Stats, fmt_ratio, heading, row, run_interleaved};

/// veth pairs to create: 1,000 devices, plus `lo`.
const PAIRS: usize = 500;
const DEVICES: usize = 2 * PAIRS + 1;

/// Sizes of the run.
#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    warmup: u32,
    rounds: u32,
    /// nslink full dumps per round.
    dump_iters: u32,
    /// `ip -j link show` processes per round.
    ip_dump_iters: u32,
    /// nslink gets per round.
    get_iters: u32,
    /// `ip -j link show dev X` processes per round.
    ip_get_iters: u32,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var("NSLINK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut cfg = if quick {
            Config {
                quick,
                warmup: 1,
                rounds: 3,
                dump_iters: 3,
                ip_dump_iters: 1,
                get_iters: 100,
                ip_get_iters: 2,
            }
        } else {
            Config {
                quick,
                warmup: 2,
                rounds: 21,
                dump_iters: 20,
                ip_dump_iters: 4,
                get_iters: 2000,
                ip_get_iters: 20,
            }
        };
        if let Some(r) = std::env::var("NSLINK_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()) {
            cfg.rounds = r;
        }
        cfg
    }
}

fn main() {
    let cfg = Config::from_env();
    common::run_isolated("links", move || run_all(cfg));
}

/// `ip -batch -` with `lines` on stdin; must succeed.
fn ip_batch(lines: &str) -> BenchResult<()> {
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(lines.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("ip -batch failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// Runs `ip ARGS`, reading all its output; returns stdout.
fn ip(args: &[&str]) -> BenchResult<Vec<u8>> {
    let out = Command::new("ip").args(args).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("ip {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out.stdout)
}

/// How many `"ifname":` keys a `ip -j link` output holds.
fn count_ifnames(json: &[u8]) -> usize {
    json.windows(9).filter(|w| w == b"\"ifname\":").count()
}

fn run_all(cfg: Config) -> BenchResult<()> {
    let ip_version = String::from_utf8_lossy(&ip(&["-V"])?).trim().to_owned();
    println!("nslink links benchmark{}", if cfg.quick { " (QUICK smoke run)" } else { "" });
    println!(
        "kernel {}, {} CPUs, {ip_version}; per row: median, p10, p90 of the per-round mean \
         time of one operation; ratios are per-round (paired) ip/nslink medians with p10..p90",
        fs::read_to_string("/proc/sys/kernel/osrelease")?.trim(),
        thread::available_parallelism().map_or(0, |n| n.get()),
    );

    // 1,000 devices in the private namespace.
    let t = Instant::now();
    let mut batch = String::new();
    for i in 0..PAIRS {
        batch.push_str(&format!("link add name veth{i:03} type veth peer name vpeer{i:03}\n"));
    }
    ip_batch(&batch)?;
    let nl = RouteSocket::open()?;
    let links = nl.links()?;
    let ip_count = count_ifnames(&ip(&["-j", "link", "show"])?);
    if links.len() != DEVICES || ip_count != DEVICES {
        return Err(format!(
            "expected {DEVICES} devices, nslink sees {} and ip sees {ip_count}",
            links.len()
        )
        .into());
    }
    println!("setup: {} veth pairs with one ip -batch in {:.2?}", PAIRS, t.elapsed());

    let names: Vec<String> = (0..PAIRS).map(|i| format!("veth{i:03}")).collect();
    let indexes: Vec<u32> = names
        .iter()
        .map(|n| nl.require_link(n.as_str()).map(|l| l.index()))
        .collect::<Result<_, _>>()?;

    let mut keys: Vec<(String, Stats)> = Vec::new();
    bench_dump(cfg, &nl, &mut keys)?;
    bench_get(cfg, &nl, &names, &indexes, &mut keys)?;

    println!();
    println!("== SUMMARY: ip / nslink (median ratio, p10..p90 over rounds) ==");
    for (what, r) in &keys {
        println!("{what:<52} {}", fmt_ratio(r));
    }
    Ok(())
}

/// Group 1: the full dump of 1,001 devices.
fn bench_dump(cfg: Config, nl: &RouteSocket, keys: &mut Vec<(String, Stats)>) -> BenchResult<()> {
    let typed = Contender::new("nslink links() (typed, 1,001 links)", cfg.dump_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let l = nl.links()?;
            if l.len() != DEVICES {
                return Err(format!("links() returned {} links", l.len()).into());
            }
        }
        Ok(t.elapsed())
    });
    let raw = Contender::new("nslink request_raw dump (untyped)", cfg.dump_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let m =
                nl.request_raw(RouteNetlinkMessage::GetLink(LinkMessage::default()), NLM_F_DUMP)?;
            if m.len() != DEVICES {
                return Err(format!("raw dump returned {} messages", m.len()).into());
            }
        }
        Ok(t.elapsed())
    });
    let ip_dump = Contender::new("ip -j link show (spawn, read all)", cfg.ip_dump_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let out = ip(&["-j", "link", "show"])?;
            if out.len() < DEVICES * 100 {
                return Err(format!("ip printed only {} bytes", out.len()).into());
            }
        }
        Ok(t.elapsed())
    });
    let mut cs = [typed, raw, ip_dump];
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
    heading("full dump of 1,001 devices", cfg.rounds, &cs);
    row(&cs[0], None);
    row(&cs[1], None);
    row(&cs[2], Some(("nslink links()", &cs[0])));
    keys.push(("full dump: ip -j link show / links()".into(), Stats::paired_ratio(&cs[2], &cs[0])));
    keys.push((
        "full dump: ip -j link show / request_raw dump".into(),
        Stats::paired_ratio(&cs[2], &cs[1]),
    ));
    keys.push((
        "(links() / request_raw dump: cost of the typed view)".into(),
        Stats::paired_ratio(&cs[0], &cs[1]),
    ));
    Ok(())
}

/// Group 2: one device by name (and by index) among 1,001.
fn bench_get(
    cfg: Config,
    nl: &RouteSocket,
    names: &[String],
    indexes: &[u32],
    keys: &mut Vec<(String, Stats)>,
) -> BenchResult<()> {
    let mut next_a = 0usize;
    let mut next_b = 0usize;
    let mut next_c = 0usize;
    let by_name = Contender::new("nslink link(\"vethNNN\")", cfg.get_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let name = names[next_a % names.len()].as_str();
            next_a += 1;
            if nl.link(name)?.is_none() {
                return Err(format!("{name} not found").into());
            }
        }
        Ok(t.elapsed())
    });
    let by_index = Contender::new("nslink link(index)", cfg.get_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let index = indexes[next_b % indexes.len()];
            next_b += 1;
            if nl.link(index)?.is_none() {
                return Err(format!("#{index} not found").into());
            }
        }
        Ok(t.elapsed())
    });
    let ip_get = Contender::new("ip -j link show dev vethNNN (spawn)", cfg.ip_get_iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let name = names[next_c % names.len()].as_str();
            next_c += 1;
            let out = ip(&["-j", "link", "show", "dev", name])?;
            if count_ifnames(&out) != 1 {
                return Err(format!("ip printed {} devices for {name}", count_ifnames(&out)).into());
            }
        }
        Ok(t.elapsed())
    });
    let mut cs = [by_name, by_index, ip_get];
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
    heading("get one device among 1,001", cfg.rounds, &cs);
    row(&cs[0], None);
    row(&cs[1], None);
    row(&cs[2], Some(("nslink link(name)", &cs[0])));
    keys.push((
        "get by name: ip -j link show dev / link(name)".into(),
        Stats::paired_ratio(&cs[2], &cs[0]),
    ));
    keys.push((
        "get by name: ip -j link show dev / link(index)".into(),
        Stats::paired_ratio(&cs[2], &cs[1]),
    ));
    Ok(())
}
