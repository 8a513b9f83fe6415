//! How fast nslink's `Monitor` decodes link events, against `ip monitor
//! link` (output to /dev/null), on the same stream in the same run.
//!
//! Run with `cargo bench --bench monitor` (as root). `NSLINK_BENCH_QUICK=1`
//! makes a short smoke run (2,000 changes, 2 rounds);
//! `NSLINK_BENCH_ROUNDS=N` sets the number of rounds.
//!
//! Everything runs on one thread isolated in a new network and mount
//! namespace (see `common::isolate`), with one veth pair (kept down).
//! Each round:
//! 1. `ip monitor link` is started with stdout on /dev/null, and two nslink
//!    monitors are opened: a *live* one read by this thread, and a
//!    *backlog* one left unread during the changes (64 MiB buffer);
//! 2. `ip -batch` makes 10,000 MTU changes of `v0` (one `RTM_NEWLINK`
//!    each), while this thread reads and decodes every event of the live
//!    monitor as it comes;
//! 3. the CPU time each consumer spent on the stream is read from
//!    `schedstat` (this thread's, and the `ip monitor` process's, from just
//!    before the changes to when its socket is empty again): events per
//!    CPU-second, and the paired ratio nslink / `ip monitor`;
//! 4. the backlog monitor is then drained at once: events per wall-clock
//!    second (and per CPU-second) when nothing but receiving and decoding
//!    limits it.
//!
//! Memory: this process's resident size after each round (it must stay
//! flat: buffers are reused, events are dropped as they are read).

mod common;

use std::fs;
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nslink::monitor::{Event, Monitor, MonitorGroups};

use common::{BenchResult, Stats, fmt_ratio, run_isolated};

#[derive(Debug, Clone, Copy)]
struct Config {
    changes: u32,
    rounds: u32,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var("NSLINK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut c = if quick {
            Config { changes: 2_000, rounds: 2 }
        } else {
            Config { changes: 10_000, rounds: 7 }
        };
        if let Some(r) = std::env::var("NSLINK_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()) {
            c.rounds = r;
        }
        c
    }
}

/// CPU time of a task so far (first field of `schedstat`), in ns.
fn cpu_ns(schedstat: &str) -> BenchResult<u64> {
    let text = fs::read_to_string(schedstat)?;
    Ok(text.split_whitespace().next().ok_or("empty schedstat")?.parse()?)
}

/// Resident set size of this process, in KiB.
fn rss_kib() -> BenchResult<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}

/// The inodes of a process's sockets.
fn socket_inodes(pid: u32) -> BenchResult<Vec<u64>> {
    let mut out = Vec::new();
    for e in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let target = fs::read_link(e?.path())?;
        let t = target.to_string_lossy();
        if let Some(n) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
            out.push(n.parse()?);
        }
    }
    Ok(out)
}

/// `(Rmem, Drops)` of each netlink socket of this namespace by inode
/// (`/proc/net/netlink`, read from this thread's namespace).
fn netlink_queues() -> BenchResult<Vec<(u64, u64, u64)>> {
    let text = fs::read_to_string("/proc/thread-self/net/netlink")?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty")?.split_whitespace().collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("no {name}"));
    let (rmem, drops, inode) = (col("Rmem")?, col("Drops")?, col("Inode")?);
    let mut out = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() > inode {
            out.push((f[inode].parse()?, f[rmem].parse()?, f[drops].parse()?));
        }
    }
    Ok(out)
}

/// Waits until `ip monitor`'s sockets are empty; returns their drops.
fn wait_drained(inodes: &[u64]) -> BenchResult<u64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let q = netlink_queues()?;
        let mine: Vec<_> = q.iter().filter(|(i, _, _)| inodes.contains(i)).collect();
        if mine.iter().all(|(_, rmem, _)| *rmem == 0) {
            return Ok(mine.iter().map(|(_, _, d)| d).sum());
        }
        if Instant::now() > deadline {
            return Err("ip monitor did not drain its socket in 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn ip(args: &[&str]) -> BenchResult<()> {
    let st = Command::new("ip").args(args).status()?;
    if !st.success() {
        return Err(format!("ip {args:?}: {st}").into());
    }
    Ok(())
}

struct Round {
    events: u64,
    nslink_cpu: u64,
    ip_cpu: u64,
    ip_drops: u64,
    backlog_wall: Duration,
    backlog_cpu: u64,
    backlog_events: u64,
}

fn start_ip_monitor() -> BenchResult<Child> {
    Ok(Command::new("ip")
        .args(["monitor", "link"])
        .stdout(Stdio::from(fs::File::create("/dev/null")?))
        .spawn()?)
}

fn round(batch: &str, last_mtu: u32) -> BenchResult<Round> {
    let mut ipmon = start_ip_monitor()?;
    let ip_stat = format!("/proc/{}/schedstat", ipmon.id());
    let mut live =
        Monitor::builder(MonitorGroups::LINK).snapshot(false).receive_buffer(64 << 20).open()?;
    let mut backlog =
        Monitor::builder(MonitorGroups::LINK).snapshot(false).receive_buffer(64 << 20).open()?;
    // Let `ip monitor` start and subscribe (it dumps the links first).
    std::thread::sleep(Duration::from_millis(300));
    let inodes = socket_inodes(ipmon.id())?;
    let mut batcher = Command::new("ip").args(["-batch", "-"]).stdin(Stdio::piped()).spawn()?;
    let mut stdin = batcher.stdin.take().ok_or("no stdin")?;
    // Fed from another thread, so that this one's CPU time is the
    // monitor's alone.
    let batch = batch.to_owned();
    let feeder = std::thread::spawn(move || stdin.write_all(batch.as_bytes()));
    let ip_before = cpu_ns(&ip_stat)?;
    let me_before = cpu_ns("/proc/thread-self/schedstat")?;
    let mut events = 0u64;
    let mut done = false;
    while !done {
        let n = live.next_timeout(Some(Duration::from_secs(30)))?.ok_or("no event in 30 s")?;
        events += 1;
        if let Event::LinkChanged(l) = &n.event {
            done = l.mtu() == last_mtu && l.name() == "v0";
        }
    }
    let nslink_cpu = cpu_ns("/proc/thread-self/schedstat")? - me_before;
    feeder.join().map_err(|_| "the feeder thread panicked")??;
    if !batcher.wait()?.success() {
        return Err("ip -batch failed".into());
    }
    if live.overflows() > 0 {
        return Err("the live monitor overflowed".into());
    }
    let ip_drops = wait_drained(&inodes)?;
    std::thread::sleep(Duration::from_millis(20));
    let ip_cpu = cpu_ns(&ip_stat)? - ip_before;
    ipmon.kill()?;
    ipmon.wait()?;

    let t = Instant::now();
    let cpu = cpu_ns("/proc/thread-self/schedstat")?;
    let mut backlog_events = 0u64;
    while let Some(n) = backlog.try_next()? {
        backlog_events += 1;
        std::hint::black_box(&n);
    }
    let backlog_wall = t.elapsed();
    let backlog_cpu = cpu_ns("/proc/thread-self/schedstat")? - cpu;
    if backlog.overflows() > 0 {
        return Err("the backlog monitor overflowed".into());
    }
    Ok(Round { events, nslink_cpu, ip_cpu, ip_drops, backlog_wall, backlog_cpu, backlog_events })
}

fn main() {
    let cfg = Config::from_env();
    run_isolated("monitor", move || {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"])?;
        // MTU changes that each change something; the last one is unique.
        let mut batch = String::new();
        for i in 0..cfg.changes - 1 {
            batch += &format!("link set dev v0 mtu {}\n", 1300 + (i % 5000));
        }
        let last_mtu = 9000;
        batch += &format!("link set dev v0 mtu {last_mtu}\n");
        println!(
            "== {} link changes (ip -batch), {} rounds: nslink Monitor vs `ip monitor link` ==",
            cfg.changes, cfg.rounds
        );
        let rss_start = rss_kib()?;
        let mut ns_rate = Vec::new();
        let mut ip_rate = Vec::new();
        let mut ratio = Vec::new();
        let mut backlog_rate = Vec::new();
        let mut backlog_cpu_rate = Vec::new();
        let mut rss = Vec::new();
        // One unrecorded warm-up round.
        round(&batch, last_mtu)?;
        for r in 0..cfg.rounds {
            let x = round(&batch, last_mtu)?;
            let ns = x.events as f64 / (x.nslink_cpu as f64 / 1e9);
            let ipr = x.events as f64 / (x.ip_cpu as f64 / 1e9);
            let bl = x.backlog_events as f64 / x.backlog_wall.as_secs_f64();
            let blc = x.backlog_events as f64 / (x.backlog_cpu as f64 / 1e9);
            rss.push(rss_kib()?);
            println!(
                "round {r}: {} events; nslink {:.0} ev/CPU-s, ip monitor {:.0} ev/CPU-s \
                 (drops {}), ratio {:.2}x; backlog drain {:.0} ev/s, {:.0} ev/CPU-s; rss {} KiB",
                x.events,
                ns,
                ipr,
                x.ip_drops,
                ns / ipr,
                bl,
                blc,
                rss[rss.len() - 1]
            );
            ns_rate.push(ns);
            ip_rate.push(ipr);
            ratio.push(ns / ipr);
            backlog_rate.push(bl);
            backlog_cpu_rate.push(blc);
        }
        let (n, i, q, b) =
            (Stats::of(&ns_rate), Stats::of(&ip_rate), Stats::of(&ratio), Stats::of(&backlog_rate));
        println!();
        println!(
            "nslink Monitor (decode to typed Link)   median {:>10.0} events/CPU-s  p10 {:.0}  p90 {:.0}",
            n.median, n.p10, n.p90
        );
        println!(
            "ip monitor link > /dev/null             median {:>10.0} events/CPU-s  p10 {:.0}  p90 {:.0}",
            i.median, i.p10, i.p90
        );
        println!("ratio nslink / ip monitor (paired)      {}", fmt_ratio(&q));
        println!(
            "nslink backlog drain (wall clock)       median {:>10.0} events/s      p10 {:.0}  p90 {:.0}",
            b.median, b.p10, b.p90
        );
        let c = Stats::of(&backlog_cpu_rate);
        println!(
            "nslink backlog drain (CPU time)         median {:>10.0} events/CPU-s  p10 {:.0}  p90 {:.0}",
            c.median, c.p10, c.p90
        );
        println!("memory: rss {} KiB before the rounds, {:?} KiB after each", rss_start, rss);
        Ok(())
    });
}
