//! Deleting many devices: one by one, in one datagram, as one link group
//! (`RouteSocket::delete_group`), and with `ip -batch` running
//! `link delete group N`; the group delete also by a raw C program
//! (`benches/c/veth.c group`: one hand-made `RTM_DELLINK` with
//! `IFLA_GROUP`, the floor, on the same pairs as the others) and by
//! the rtnetlink crate (0.24, tokio current-thread runtime:
//! `link().del_with_message` of a message holding `IFLA_GROUP`).
//!
//! Run with `cargo bench --bench groups` (as root). `NSLINK_BENCH_QUICK=1`
//! makes a short smoke run (fewer devices and rounds);
//! `NSLINK_BENCH_ROUNDS=N` sets the number of measured rounds.
//!
//! Everything runs on one dedicated thread that first moves into a new
//! network *and* mount namespace (see `common::isolate`); the `ip`
//! processes are spawned from that thread and inherit both. The devices
//! live only there: the host's devices are never touched.
//!
//! Each contender's operation is "delete all N veth pairs" (N = 200). Before
//! each timed operation, untimed, one `ip -batch` makes the N pairs afresh
//! (the first end of each in group 42); after it, untimed, the namespace is
//! checked to hold nothing but `lo`, and a pause lets the kernel's
//! deferred work pass. Contenders run in interleaved rounds (see `common`);
//! the table gives median, p10 and p90 of the time to delete all N, and
//! per-round (paired) ratios.
//!
//! Why the group wins: the kernel answers `RTM_DELLINK` only after the
//! device is unregistered, and unregistering waits for RCU grace periods.
//! One by one, every device pays for its own; a group (or a namespace)
//! is unregistered as one batch that pays once. Sending the N requests in
//! one datagram saves the round trips, not the grace periods.

mod common;

use std::fs;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nslink::RouteSocket;

use common::{BenchResult, Contender, Stats, fmt_ratio, heading, row, run_interleaved};

/// The group the devices are made in.
const GROUP: u32 = 42;
/// The untimed pause after each contender's turn.
const SETTLE: Duration = Duration::from_millis(250);

/// Sizes of the run.
#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    /// veth pairs deleted per operation.
    pairs: usize,
    warmup: u32,
    rounds: u32,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var("NSLINK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut cfg = if quick {
            Config { quick, pairs: 40, warmup: 0, rounds: 2 }
        } else {
            Config { quick, pairs: 200, warmup: 1, rounds: 9 }
        };
        if let Some(r) = std::env::var("NSLINK_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()) {
            cfg.rounds = r;
        }
        cfg
    }
}

fn main() {
    let cfg = Config::from_env();
    common::run_isolated("groups", move || run_all(cfg));
}

/// `ip -batch -` with `lines` on stdin; must succeed. Returns the time from
/// spawning `ip` to its exit.
fn ip_batch(lines: &str) -> BenchResult<Duration> {
    let t = Instant::now();
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(lines.as_bytes())?;
    let out = child.wait_with_output()?;
    let took = t.elapsed();
    if !out.status.success() {
        return Err(format!("ip -batch failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(took)
}

/// Makes the pairs `gNNN`/`gpNNN` (first end in [`GROUP`]) with one
/// `ip -batch`, and checks that they are all there.
fn make_pairs(cfg: Config, nl: &RouteSocket) -> BenchResult<()> {
    let mut script = String::new();
    for i in 0..cfg.pairs {
        script.push_str(&format!("link add g{i:03} group {GROUP} type veth peer name gp{i:03}\n"));
    }
    ip_batch(&script)?;
    let n = nl.links()?.len();
    if n != 2 * cfg.pairs + 1 {
        return Err(format!("expected {} devices after setup, found {n}", 2 * cfg.pairs + 1).into());
    }
    Ok(())
}

/// Checks that only `lo` is left.
fn check_empty(nl: &RouteSocket, who: &str) -> BenchResult<()> {
    let left = nl.links()?;
    if left.len() != 1 {
        return Err(format!("{who} left {} devices behind", left.len() - 1).into());
    }
    Ok(())
}

fn run_all(cfg: Config) -> BenchResult<()> {
    let ip_version = Command::new("ip").arg("-V").output()?;
    println!("nslink groups benchmark{}", if cfg.quick { " (QUICK smoke run)" } else { "" });
    println!(
        "kernel {}, {} CPUs, {}; one operation = delete {} veth pairs; per row: median, p10, \
         p90 over rounds; ratios are per-round (paired) medians with p10..p90",
        fs::read_to_string("/proc/sys/kernel/osrelease")?.trim(),
        thread::available_parallelism().map_or(0, |n| n.get()),
        String::from_utf8_lossy(&ip_version.stdout).trim(),
        cfg.pairs,
    );
    let nl = RouteSocket::open()?;
    let names: Vec<String> = (0..cfg.pairs).map(|i| format!("g{i:03}")).collect();

    let one_by_one = Contender::new("nslink delete_link, one by one", 1, |_| {
        make_pairs(cfg, &nl)?;
        let t = Instant::now();
        for n in &names {
            nl.delete_link(n.as_str())?;
        }
        let took = t.elapsed();
        check_empty(&nl, "delete_link one by one")?;
        Ok(took)
    });
    let batched = Contender::new("nslink Batch: all RTM_DELLINK, one datagram", 1, |_| {
        make_pairs(cfg, &nl)?;
        let t = Instant::now();
        let mut b = nl.batch();
        for n in &names {
            b.delete_link(n.as_str())?;
        }
        b.commit()?;
        let took = t.elapsed();
        check_empty(&nl, "the batch")?;
        Ok(took)
    });
    let group = Contender::new("nslink delete_group (one request)", 1, |_| {
        make_pairs(cfg, &nl)?;
        let t = Instant::now();
        nl.delete_group(GROUP)?;
        let took = t.elapsed();
        check_empty(&nl, "delete_group")?;
        Ok(took)
    });
    let ip_group = Contender::new("ip -batch: link delete group (spawn+run)", 1, |_| {
        make_pairs(cfg, &nl)?;
        let took = ip_batch(&format!("link delete group {GROUP}\n"))?;
        check_empty(&nl, "ip -batch link delete group")?;
        Ok(took)
    });

    let c_bin = common::c_program("veth")?;
    let c_group = Contender::new("C: one RTM_DELLINK with IFLA_GROUP", 1, |_| {
        // The same pairs as everyone's (N = 0: the program makes none).
        make_pairs(cfg, &nl)?;
        let out = Command::new(&c_bin).args(["group", "0", &GROUP.to_string()]).output()?;
        if !out.status.success() {
            return Err(format!("veth.c: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let ns: u64 = text.trim().parse().map_err(|_| format!("veth.c printed {text:?}"))?;
        check_empty(&nl, "veth.c group")?;
        Ok(Duration::from_nanos(ns))
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let (connection, handle, _) = rt.block_on(async { rtnetlink::new_connection() })?;
    rt.spawn(connection);
    let rtnl_group = Contender::new("rtnetlink 0.24: del_with_message(IFLA_GROUP)", 1, |_| {
        use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};

        make_pairs(cfg, &nl)?;
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::Group(GROUP));
        let t = Instant::now();
        rt.block_on(handle.link().del_with_message(m).execute())?;
        let took = t.elapsed();
        check_empty(&nl, "rtnetlink group delete")?;
        Ok(took)
    });

    let mut cs = [one_by_one, batched, group, ip_group, c_group, rtnl_group];
    // Between turns, untimed: a pause for the kernel's deferred work of the
    // last deletions (RCU callbacks freeing the devices) to pass, so that it
    // does not land in the next contender's time.
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || {
        thread::sleep(SETTLE);
        Ok(())
    })?;
    heading(&format!("delete {} veth pairs", cfg.pairs), cfg.rounds, &cs);
    row(&cs[0], Some(("delete_group", &cs[2])));
    row(&cs[1], Some(("delete_group", &cs[2])));
    row(&cs[2], None);
    row(&cs[3], Some(("delete_group", &cs[2])));
    row(&cs[4], Some(("delete_group", &cs[2])));
    row(&cs[5], Some(("delete_group", &cs[2])));

    let faster = Stats::paired_ratio(&cs[0], &cs[2]);
    let vs_ip = Stats::paired_ratio(&cs[2], &cs[3]);
    println!();
    println!("== SUMMARY ==");
    println!(
        "{:<58} {}   target >= 20x: {}",
        "one by one / delete_group (how much faster the group is)",
        fmt_ratio(&faster),
        if faster.median >= 20.0 { "met" } else { "NOT met" }
    );
    println!(
        "{:<58} {}   target <= 1.1x: {}",
        "delete_group / ip -batch link delete group",
        fmt_ratio(&vs_ip),
        if vs_ip.median <= 1.1 { "met" } else { "NOT met" }
    );
    let vs_c = Stats::paired_ratio(&cs[2], &cs[4]);
    println!(
        "{:<58} {}   target <= 1.1x: {}",
        "delete_group / raw C group delete",
        fmt_ratio(&vs_c),
        if vs_c.median <= 1.1 { "met" } else { "NOT met" }
    );
    println!(
        "{:<58} {}",
        "rtnetlink group delete / delete_group",
        fmt_ratio(&Stats::paired_ratio(&cs[5], &cs[2]))
    );
    println!(
        "{:<58} {}",
        "one by one / one datagram (round trips saved)",
        fmt_ratio(&Stats::paired_ratio(&cs[0], &cs[1]))
    );
    Ok(())
}
