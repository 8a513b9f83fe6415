//! Benchmarks of nslink's namespace operations against the system calls they
//! are made of, and against `ip netns`.
//!
//! Run with `cargo bench --bench netns` (as root). `NSLINK_BENCH_QUICK=1`
//! makes a short smoke run; `NSLINK_BENCH_ROUNDS=N` sets the number of
//! measured rounds.
//!
//! Everything runs on one dedicated thread that first moves into a new
//! network *and* mount namespace, makes `/` recursively private and mounts a
//! tmpfs on `/run`. The `/run/netns` that nslink and the `ip` processes
//! (spawned from that thread, so they inherit its namespaces) use is
//! therefore private to the benchmark, and all of it vanishes when the
//! thread exits. No network device is created or touched.
//!
//! Groups, each with the contenders a user would pick instead:
//! 1. entering a namespace and coming back: a bare pair of `setns` calls
//!    (the floor), `NetNs::enter` (verified), `NetNs::enter_from` (fast), the
//!    verified sequence written by hand, raw C (`benches/c/netns_enter.c`)
//!    and the netns-rs crate (`NetNs::enter` there and back);
//! 2. running code in a namespace: `NetNs::run` (pooled worker),
//!    `NetNs::spawn` + join (new thread), a scoped thread doing `setns` by
//!    hand, and netns-rs's `NetNs::run` (moves the calling thread there and
//!    back);
//! 3. named namespaces: `NetnsDir::create` + `delete` against the minimal
//!    system-call sequence by hand, raw C doing what `ip netns add`/`del`
//!    do (`benches/c/netns_named.c`), netns-rs's `NetNs::new` + `remove`,
//!    `ip netns add`/`del` processes and one `ip -batch -` process per
//!    round.
//!
//! The C programs take the iteration count and print their own elapsed
//! time, so their process start is not counted; they are started from the
//! isolated benchmark thread and so use its private `/run`.

mod common;

use std::fs;
use std::io::Write as _;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::fcntl::{AtFlags, OFlag, open, openat};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::{Mode, fstat, fstatat};
use nix::unistd::unlink;
use nslink::{NetNs, NetnsDir};
use std::os::fd::AsRawFd as _;

use common::{BenchResult, Contender, Stats, fmt_ratio, fmt_time, heading, row, run_interleaved};

/// Sizes of the run.
#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    warmup: u32,
    rounds: u32,
    /// Enter/leave pairs per round.
    enter_iters: u32,
    /// `run` calls (or threads) per round.
    thread_iters: u32,
    /// Named create+delete pairs per round. Kept small: the kernel tears
    /// namespaces down asynchronously, and a backlog slows later rounds.
    named_iters: u32,
    /// Untimed pause after each contender's turn in the named group: the
    /// kernel tears namespaces down on a workqueue after the last reference
    /// goes, and without the pause that work would run during (and be
    /// charged to) whichever contender comes next. 67 namespaces take well
    /// over 100 ms to tear down on a busy 2-CPU machine.
    settle: Duration,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var("NSLINK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut cfg = if quick {
            Config {
                quick,
                warmup: 1,
                rounds: 3,
                enter_iters: 200,
                thread_iters: 20,
                named_iters: 3,
                settle: Duration::ZERO,
            }
        } else {
            // Per contender over all measured rounds: 200,000 enter/leave
            // pairs and `run` calls, 1,000 named create+delete pairs.
            Config {
                quick,
                warmup: 2,
                rounds: 15,
                enter_iters: 0,
                thread_iters: 0,
                named_iters: 0,
                settle: Duration::from_millis(300),
            }
        };
        if let Some(r) = std::env::var("NSLINK_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()) {
            cfg.rounds = r;
        }
        if !quick {
            let per_round = |total: u32| total.div_ceil(cfg.rounds.max(1));
            cfg.enter_iters = per_round(200_000);
            cfg.thread_iters = per_round(200_000);
            cfg.named_iters = per_round(1_000);
        }
        cfg
    }
}

/// A key ratio for the summary, with an optional upper target.
struct Key {
    what: String,
    ratio: Stats,
    target: Option<f64>,
}

fn main() {
    let cfg = Config::from_env();
    common::run_isolated("netns", move || run_all(cfg));
}

fn run_all(cfg: Config) -> BenchResult<()> {
    println!("nslink netns benchmark{}", if cfg.quick { " (QUICK smoke run)" } else { "" });
    println!(
        "kernel {}, {} CPUs; per row: median, p10, p90 of the per-round mean time of one \
         operation; ratios are per-round (paired) medians with their p10..p90",
        fs::read_to_string("/proc/sys/kernel/osrelease")?.trim(),
        thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let mut keys = Vec::new();
    let floor = bench_enter(cfg, &mut keys)?;
    bench_threads(cfg, floor, &mut keys)?;
    bench_named(cfg, &mut keys)?;

    println!();
    println!("== SUMMARY (median ratio, p10..p90 over rounds) ==");
    for k in &keys {
        let verdict = match k.target {
            Some(_) if cfg.quick => "   (quick run: target not judged)".to_string(),
            Some(t) if k.ratio.median <= t => format!("   target <= {t:.2}x: met"),
            Some(t) => format!("   target <= {t:.2}x: MISSED"),
            None => String::new(),
        };
        println!("{:<46} {}{verdict}", k.what, fmt_ratio(&k.ratio));
    }
    Ok(())
}

/// Runs the raw C contender `name` (compiled from `benches/c/<name>.c`)
/// with `args`, and returns the elapsed time it printed.
fn run_c(bin: &Path, args: &[&str]) -> BenchResult<Duration> {
    let out = Command::new(bin).args(args).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}: {}",
            bin.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let ns: u64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok(Duration::from_nanos(ns))
}

/// A netns-rs handle of `ns` (opened through `/proc/self/fd`).
fn netns_rs_handle(ns: &NetNs) -> BenchResult<netns_rs::NetNs> {
    Ok(netns_rs::get_from_path(format!("/proc/self/fd/{}", ns.as_raw_fd()))?)
}

/// Group 1: enter and leave. Returns the floor's median in nanoseconds.
fn bench_enter(cfg: Config, keys: &mut Vec<Key>) -> BenchResult<f64> {
    let home = NetNs::current()?;
    let target = NetNs::new()?;
    let n = cfg.enter_iters;

    let floor = Contender::new("floor: setns there + setns back", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            setns(target.as_fd(), CloneFlags::CLONE_NEWNET)?;
            setns(home.as_fd(), CloneFlags::CLONE_NEWNET)?;
        }
        Ok(t.elapsed())
    });
    let verified = Contender::new("enter+restore (verified): enter()+drop", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            drop(target.enter()?);
        }
        Ok(t.elapsed())
    });
    let fast = Contender::new("enter_from(&home)+drop", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            drop(target.enter_from(&home)?);
        }
        Ok(t.elapsed())
    });
    // The same system calls as `enter()`, written by hand: open the thread's
    // namespace, fstat it, setns there and back, fstatat to verify, close.
    let ns_dir = open(
        "/proc/thread-self/ns",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let by_hand = Contender::new("by hand: open+fstat+2 setns+fstatat+close", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let saved: OwnedFd =
                openat(&ns_dir, "net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
            let want = fstat(&saved)?;
            setns(target.as_fd(), CloneFlags::CLONE_NEWNET)?;
            setns(&saved, CloneFlags::CLONE_NEWNET)?;
            let now = fstatat(&ns_dir, "net", AtFlags::empty())?;
            if (now.st_dev, now.st_ino) != (want.st_dev, want.st_ino) {
                return Err("restore verification failed".into());
            }
        }
        Ok(t.elapsed())
    });

    // Where the verified form's extra time goes.
    let part_open = Contender::new("(part) openat ns/net + fstat + close", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let saved: OwnedFd =
                openat(&ns_dir, "net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
            fstat(&saved)?;
        }
        Ok(t.elapsed())
    });
    let part_stat = Contender::new("(part) fstatat ns/net (the verification)", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            fstatat(&ns_dir, "net", AtFlags::empty())?;
        }
        Ok(t.elapsed())
    });

    // What `enter` now reads instead: one readlink of the link.
    let part_readlink = Contender::new("(part) readlinkat ns/net (where am I)", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            nix::fcntl::readlinkat(&ns_dir, "net")?;
        }
        Ok(t.elapsed())
    });

    // The contenders a user would pick instead.
    let c_bin = common::c_program("netns_enter")?;
    let n_arg = n.to_string();
    let c =
        Contender::new("C: setns there + back (netns_enter.c)", n, |_| run_c(&c_bin, &[&n_arg]));
    let rs_target = netns_rs_handle(&target)?;
    let rs_home = netns_rs_handle(&home)?;
    let netns_rs = Contender::new("netns-rs: target.enter()+home.enter()", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            rs_target.enter()?;
            rs_home.enter()?;
        }
        Ok(t.elapsed())
    });

    let mut cs = [floor, verified, fast, by_hand, part_open, part_stat, part_readlink, c, netns_rs];
    heading("enter a namespace and come back (per enter/leave pair)", cfg.rounds, &cs);
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
    if NetNs::current()? != home {
        return Err("the benchmark thread did not end up at home".into());
    }
    let [floor, verified, fast, by_hand, part_open, part_stat, part_readlink, c, netns_rs] = &cs;
    row(floor, None);
    for c in [verified, fast, by_hand, part_open, part_stat, part_readlink] {
        row(c, Some(("floor", floor)));
    }
    row(c, Some(("nslink enter_from", fast)));
    row(netns_rs, Some(("nslink enter_from", fast)));
    keys.push(Key {
        what: "enter()+drop / enter_from()+drop".into(),
        ratio: Stats::paired_ratio(verified, fast),
        target: Some(2.0),
    });
    keys.push(Key {
        what: "enter_from()+drop / C setns pair".into(),
        ratio: Stats::paired_ratio(fast, c),
        target: None,
    });
    keys.push(Key {
        what: "netns-rs enter pair / nslink enter_from".into(),
        ratio: Stats::paired_ratio(netns_rs, fast),
        target: None,
    });
    println!(
        "   (verified - floor) = {} of extra work per pair",
        fmt_time(verified.stats().median - floor.stats().median)
    );
    keys.push(Key {
        what: "enter()+drop / floor".into(),
        ratio: Stats::paired_ratio(verified, floor),
        target: None,
    });
    keys.push(Key {
        what: "enter_from()+drop / floor".into(),
        ratio: Stats::paired_ratio(fast, floor),
        target: Some(1.1),
    });
    keys.push(Key {
        what: "enter()+drop / same syscalls by hand".into(),
        ratio: Stats::paired_ratio(verified, by_hand),
        target: Some(1.1),
    });
    Ok(floor.stats().median)
}

/// Group 2: a closure in the namespace.
fn bench_threads(cfg: Config, floor_ns: f64, keys: &mut Vec<Key>) -> BenchResult<()> {
    let target = NetNs::new()?;
    let n = cfg.thread_iters;

    let by_hand = Contender::new("by hand: scoped thread + setns + join", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            thread::scope(|s| s.spawn(|| setns(target.as_fd(), CloneFlags::CLONE_NEWNET)).join())
                .map_err(|_| "thread panicked")??;
        }
        Ok(t.elapsed())
    });
    let run = Contender::new("ns.run(|| ())", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            target.run(|| ())?;
        }
        Ok(t.elapsed())
    });
    let spawn = Contender::new("ns.spawn(|| ()) + join", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            target.spawn(|| ())?.join().map_err(|_| "thread panicked")?;
        }
        Ok(t.elapsed())
    });
    // netns-rs's `run` moves the *calling* thread there and back (it opens
    // and compares the thread's namespace file first).
    let rs_target = netns_rs_handle(&target)?;
    let netns_rs = Contender::new("netns-rs: target.run(|_| ())", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            rs_target.run(|_| ())?;
        }
        Ok(t.elapsed())
    });

    let mut cs = [by_hand, run, spawn, netns_rs];
    heading("run a closure in the namespace (per call)", cfg.rounds, &cs);
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || Ok(()))?;
    let [by_hand, run, spawn, netns_rs] = &cs;
    row(by_hand, None);
    row(run, Some(("by hand", by_hand)));
    row(spawn, Some(("by hand", by_hand)));
    row(netns_rs, Some(("nslink run", run)));
    for c in [run, spawn] {
        println!(
            "   {} / floor (medians, across groups): {:.1}x",
            c.label,
            c.stats().median / floor_ns
        );
    }
    println!(
        "   ns.run(|| ()) median: {} (target <= 15 µs{})",
        fmt_time(run.stats().median),
        if cfg.quick { ", quick run: not judged" } else { "" }
    );
    keys.push(Key {
        what: "run() / thread+setns by hand".into(),
        ratio: Stats::paired_ratio(run, by_hand),
        target: None,
    });
    keys.push(Key {
        what: "netns-rs run / nslink run".into(),
        ratio: Stats::paired_ratio(netns_rs, run),
        target: None,
    });
    keys.push(Key {
        what: "spawn()+join / thread+setns by hand".into(),
        ratio: Stats::paired_ratio(spawn, by_hand),
        target: None,
    });
    Ok(())
}

/// The minimum a named create + delete needs, by hand: placeholder file,
/// helper thread in a new namespace bind-mounting it onto the placeholder
/// and opening it, then lazy unmount and unlink.
fn raw_create_delete(dirfd: &OwnedFd, name: &str, path: &Path) -> BenchResult<()> {
    drop(openat(
        dirfd,
        name,
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?);
    let ns: OwnedFd = thread::scope(|s| {
        s.spawn(|| -> nix::Result<OwnedFd> {
            unshare(CloneFlags::CLONE_NEWNET)?;
            mount(
                Some("/proc/thread-self/ns/net"),
                path,
                Some("none"),
                MsFlags::MS_BIND,
                None::<&str>,
            )?;
            open("/proc/thread-self/ns/net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        })
        .join()
    })
    .map_err(|_| "helper thread panicked")??;
    drop(ns);
    umount2(path, MntFlags::MNT_DETACH)?;
    unlink(path)?;
    Ok(())
}

/// The same as [`raw_create_delete`], but the way `ip netns add` does it:
/// the calling thread itself moves into the new namespace and back to
/// `home`, without a helper thread.
fn raw_no_thread(dirfd: &OwnedFd, name: &str, path: &Path, home: &NetNs) -> BenchResult<()> {
    drop(openat(
        dirfd,
        name,
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?);
    unshare(CloneFlags::CLONE_NEWNET)?;
    let made =
        mount(Some("/proc/thread-self/ns/net"), path, Some("none"), MsFlags::MS_BIND, None::<&str>)
            .and_then(|()| {
                open("/proc/thread-self/ns/net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            });
    setns(home.as_fd(), CloneFlags::CLONE_NEWNET)?;
    drop(made?);
    umount2(path, MntFlags::MNT_DETACH)?;
    unlink(path)?;
    Ok(())
}

/// Runs `ip ARGS…` and checks that it succeeded.
fn ip(args: &[&str]) -> BenchResult<()> {
    let status =
        Command::new("ip").args(args).stdin(Stdio::null()).stdout(Stdio::null()).status()?;
    if !status.success() {
        return Err(format!("ip {} failed: {status}", args.join(" ")).into());
    }
    Ok(())
}

/// Group 3: named namespaces.
fn bench_named(cfg: Config, keys: &mut Vec<Key>) -> BenchResult<()> {
    let dir = NetnsDir::default();
    // Let nslink make /run/netns (inside the private tmpfs) a shared mount
    // point once, as `ip` would, so that the hand-written loop finds it ready.
    dir.create("bench-setup").map(drop)?;
    dir.delete("bench-setup")?;
    let dirfd =
        open(dir.path(), OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())?;
    let raw_path: PathBuf = dir.path().join("bench-raw");
    let same_thread_path: PathBuf = dir.path().join("bench-same-thread");
    let home = NetNs::current()?;
    let n = cfg.named_iters;
    let batch_script = "netns add bench-batch\nnetns del bench-batch\n".repeat(n as usize);

    let raw = Contender::new("by hand: minimal syscalls", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            raw_create_delete(&dirfd, "bench-raw", &raw_path)?;
        }
        Ok(t.elapsed())
    });
    let nslink = Contender::new("nslink: NetnsDir::create+delete", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let ns = dir.create("bench-nslink")?;
            drop(ns);
            dir.delete("bench-nslink")?;
        }
        Ok(t.elapsed())
    });
    let ip_procs = Contender::new("ip netns add + ip netns del (2 procs)", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            ip(&["netns", "add", "bench-ip"])?;
            ip(&["netns", "del", "bench-ip"])?;
        }
        Ok(t.elapsed())
    });
    let ip_batch = Contender::new("ip -batch - (1 proc, N add+del)", n, |_| {
        let t = Instant::now();
        let mut child = Command::new("ip")
            .args(["-batch", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        let written = child.stdin.take().ok_or("no stdin pipe")?.write_all(batch_script.as_bytes());
        let status = child.wait()?;
        written?;
        if !status.success() {
            return Err(format!("ip -batch failed: {status}").into());
        }
        Ok(t.elapsed())
    });
    // What a new namespace alone costs: helper thread + unshare + open.
    let anon = Contender::new("(part) NetNs::new()+drop, anonymous", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            drop(NetNs::new()?);
        }
        Ok(t.elapsed())
    });
    let same_thread = Contender::new("(part) by hand, no helper thread (like ip)", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            raw_no_thread(&dirfd, "bench-same-thread", &same_thread_path, &home)?;
        }
        Ok(t.elapsed())
    });

    let c_bin = common::c_program("netns_named")?;
    let n_arg = n.to_string();
    let dir_arg = dir.path().to_str().ok_or("directory path is not UTF-8")?.to_string();
    let c = Contender::new("C: ip netns add/del syscalls (netns_named.c)", n, |_| {
        run_c(&c_bin, &[&n_arg, &dir_arg, "bench-c"])
    });
    // netns-rs makes the namespace on a new thread and names it in
    // /var/run/netns (the same private tmpfs: /var/run is /run).
    let netns_rs = Contender::new("netns-rs: NetNs::new+remove", n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            netns_rs::NetNs::new("bench-netns-rs")?.remove()?;
        }
        Ok(t.elapsed())
    });

    // `ip` is optional: without iproute2 its two rows are left out.
    let have_ip = ip(&["-V"]).is_ok();
    let mut cs = vec![raw, nslink, c, netns_rs];
    if have_ip {
        cs.extend([ip_procs, ip_batch]);
    }
    cs.extend([anon, same_thread]);
    heading("named namespace: create + delete (per pair)", cfg.rounds, &cs);
    println!(
        "   untimed pause of {} ms after each turn (asynchronous namespace teardown)",
        cfg.settle.as_millis()
    );
    if !have_ip {
        println!("   `ip` (iproute2) not found: its rows are skipped");
    }
    run_interleaved(&mut cs, cfg.warmup, cfg.rounds, || {
        thread::sleep(cfg.settle);
        Ok(())
    })?;
    let leftover = dir.list()?;
    if !leftover.is_empty() {
        return Err(format!("entries left in the private /run/netns: {leftover:?}").into());
    }
    if NetNs::current()? != home {
        return Err("the benchmark thread did not end up at home".into());
    }
    let (raw, nslink, c, netns_rs) = (&cs[0], &cs[1], &cs[2], &cs[3]);
    row(raw, None);
    row(nslink, Some(("by hand", raw)));
    row(c, Some(("nslink", nslink)));
    row(netns_rs, Some(("nslink", nslink)));
    keys.push(Key {
        what: "nslink create+delete / by hand".into(),
        ratio: Stats::paired_ratio(nslink, raw),
        target: Some(1.1),
    });
    keys.push(Key {
        what: "nslink create+delete / C loop".into(),
        ratio: Stats::paired_ratio(nslink, c),
        target: Some(1.05),
    });
    keys.push(Key {
        what: "netns-rs new+remove / nslink".into(),
        ratio: Stats::paired_ratio(netns_rs, nslink),
        target: None,
    });
    let (ip_rows, part_rows) = cs[4..].split_at(if have_ip { 2 } else { 0 });
    let ip_keys = ["ip netns add+del processes / nslink", "ip -batch add+del / nslink"];
    for (c, what) in ip_rows.iter().zip(ip_keys) {
        row(c, Some(("nslink", nslink)));
        keys.push(Key { what: what.into(), ratio: Stats::paired_ratio(c, nslink), target: None });
    }
    let part_keys = ["anonymous NetNs::new() / named by hand", "no helper thread / named by hand"];
    for (c, what) in part_rows.iter().zip(part_keys) {
        row(c, Some(("by hand", raw)));
        keys.push(Key { what: what.into(), ratio: Stats::paired_ratio(c, raw), target: None });
    }
    Ok(())
}
