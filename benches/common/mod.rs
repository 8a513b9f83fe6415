//! Helpers shared by the nslink benchmarks: contenders run in interleaved
//! rounds, robust statistics over the per-round samples, and table output.
//!
//! Every contender runs `iters` operations per round and contributes one
//! sample per round: the mean time of one operation in that round. Rounds
//! interleave the contenders (the start rotates each round, so no contender
//! always follows the same neighbour), which spreads the drift of a noisy
//! machine over all of them alike. Ratios are computed per round (paired)
//! and then summarised, which cancels most of that drift.
//!
//! Several bench targets include this module, and each may use only part of
//! it.
#![allow(dead_code)]

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// The error type of the benchmarks.
pub type BenchError = Box<dyn Error + Send + Sync>;
/// The result type of the benchmarks.
pub type BenchResult<T> = Result<T, BenchError>;

/// One measured operation.
pub struct Contender<'a> {
    /// The row label.
    pub label: &'static str,
    /// Operations per round.
    pub iters: u32,
    /// Runs `n` operations and returns the time they took.
    run: Box<dyn FnMut(u32) -> BenchResult<Duration> + 'a>,
    /// Nanoseconds per operation, one sample per measured round.
    pub samples: Vec<f64>,
}

impl<'a> Contender<'a> {
    /// A contender running `iters` operations per round with `run`.
    pub fn new(
        label: &'static str,
        iters: u32,
        run: impl FnMut(u32) -> BenchResult<Duration> + 'a,
    ) -> Contender<'a> {
        Contender { label, iters: iters.max(1), run: Box::new(run), samples: Vec::new() }
    }

    fn round(&mut self) -> BenchResult<f64> {
        let took = (self.run)(self.iters).map_err(|e| format!("{}: {e}", self.label))?;
        Ok(took.as_nanos() as f64 / f64::from(self.iters))
    }

    /// Statistics of the samples.
    pub fn stats(&self) -> Stats {
        Stats::of(&self.samples)
    }
}

/// Runs `warmup` unrecorded rounds, then `rounds` recorded ones. In round `r`
/// the contenders run in the order `r, r+1, …` (mod their number).
/// `after_each` runs after every contender's turn, outside any timing (e.g.
/// to let asynchronous kernel work caused by one contender finish before the
/// next one is timed).
pub fn run_interleaved(
    contenders: &mut [Contender<'_>],
    warmup: u32,
    rounds: u32,
    mut after_each: impl FnMut() -> BenchResult<()>,
) -> BenchResult<()> {
    let n = contenders.len();
    for r in 0..warmup + rounds {
        for k in 0..n {
            let c = &mut contenders[(r as usize + k) % n];
            let per_op = c.round()?;
            if r >= warmup {
                c.samples.push(per_op);
            }
            after_each()?;
        }
    }
    Ok(())
}

/// Median and 10th/90th percentiles of a set of samples.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// 50th percentile.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl Stats {
    /// Statistics of `samples` (linear interpolation between order
    /// statistics). All `NaN` for an empty set.
    pub fn of(samples: &[f64]) -> Stats {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Stats {
            median: percentile(&sorted, 0.5),
            p10: percentile(&sorted, 0.1),
            p90: percentile(&sorted, 0.9),
        }
    }

    /// Statistics of the per-round ratios `a[r] / b[r]`.
    pub fn paired_ratio(a: &Contender<'_>, b: &Contender<'_>) -> Stats {
        let ratios: Vec<f64> = a.samples.iter().zip(&b.samples).map(|(x, y)| x / y).collect();
        Stats::of(&ratios)
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

/// `850 ns`, `6.10 µs`, `1.23 ms`.
pub fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// `2.81x (2.70..2.95)`: median ratio and its p10..p90.
pub fn fmt_ratio(r: &Stats) -> String {
    format!("{:.2}x ({:.2}..{:.2})", r.median, r.p10, r.p90)
}

/// The group whose rows are being printed, and whether this process has
/// started its results file yet.
static RECORDING: Mutex<(String, bool)> = Mutex::new((String::new(), false));

/// Where the suite keeps its machine-readable output: `target/nslink-bench`
/// (or under `CARGO_TARGET_DIR`).
pub fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("nslink-bench")
}

/// Appends one row to `output_dir()/<bench>.tsv` (the file is started
/// afresh by the first row of a run): bench, group, contender, median, p10
/// and p90 in nanoseconds, then the baseline's label and the paired ratio's
/// median, p10 and p90 (empty without a baseline). The report writer reads
/// these files to draw the chart and the table. Failing to record is
/// reported on stderr, never fatal.
fn record(c: &Contender<'_>, baseline: Option<(&str, &Contender<'_>)>) {
    let bench = env!("CARGO_CRATE_NAME");
    let mut state = RECORDING.lock().unwrap_or_else(|p| p.into_inner());
    let dir = output_dir();
    let path = dir.join(format!("{bench}.tsv"));
    let s = c.stats();
    let mut line =
        format!("{bench}\t{}\t{}\t{:.1}\t{:.1}\t{:.1}", state.0, c.label, s.median, s.p10, s.p90);
    match baseline {
        Some((name, base)) => {
            let r = Stats::paired_ratio(c, base);
            let _ = write!(line, "\t{name}\t{:.4}\t{:.4}\t{:.4}", r.median, r.p10, r.p90);
        }
        None => line.push_str("\t\t\t\t"),
    }
    let fresh = !state.1;
    state.1 = true;
    let written = fs::create_dir_all(&dir).and_then(|()| {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(!fresh)
            .truncate(fresh)
            .open(&path)?;
        writeln!(f, "{line}")
    });
    if let Err(e) = written {
        eprintln!("cannot record the result in {}: {e}", path.display());
    }
}

/// Compiles `benches/c/<name>.c` (a raw C contender: system calls and
/// netlink by hand, no library) with `cc -O2` into `output_dir()/c/<name>`
/// when the binary is missing or older than the source, and returns its
/// path.
pub fn c_program(name: &str) -> BenchResult<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/c").join(format!("{name}.c"));
    let dir = output_dir().join("c");
    fs::create_dir_all(&dir)?;
    let bin = dir.join(name);
    let stale =
        match (fs::metadata(&src)?.modified(), fs::metadata(&bin).and_then(|m| m.modified())) {
            (Ok(s), Ok(b)) => s > b,
            _ => true,
        };
    if stale {
        let out = Command::new("cc")
            .args(["-O2", "-Wall", "-Werror", "-o"])
            .arg(&bin)
            .arg(&src)
            .output()
            .map_err(|e| format!("cannot run cc for {}: {e}", src.display()))?;
        if !out.status.success() {
            return Err(format!(
                "cc {} failed:\n{}",
                src.display(),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
    }
    Ok(bin)
}

/// Prints a group heading.
pub fn heading(title: &str, rounds: u32, contenders: &[Contender<'_>]) {
    RECORDING.lock().unwrap_or_else(|p| p.into_inner()).0 = title.to_string();
    let iters: Vec<u32> = contenders.iter().map(|c| c.iters).collect();
    println!();
    println!("== {title} ==");
    if iters.windows(2).all(|w| w[0] == w[1]) {
        println!("   {rounds} rounds x {} ops per contender, interleaved", iters[0]);
    } else {
        println!("   {rounds} rounds, ops per contender: {iters:?}, interleaved");
    }
}

/// Prints one table row: the contender's statistics and, optionally, its
/// paired ratio against a baseline contender of the same group.
pub fn row(c: &Contender<'_>, baseline: Option<(&str, &Contender<'_>)>) {
    let s = c.stats();
    let mut line = format!(
        "{:<42} median {:>9}  p10 {:>9}  p90 {:>9}",
        c.label,
        fmt_time(s.median),
        fmt_time(s.p10),
        fmt_time(s.p90)
    );
    if let Some((name, base)) = baseline {
        let r = Stats::paired_ratio(c, base);
        let _ = write!(line, "   {} vs {name}", fmt_ratio(&r));
    }
    println!("{line}");
    record(c, baseline);
}

/// `(st_dev, st_ino)` of a path.
pub fn ident(path: &str) -> BenchResult<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let m = fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

/// Moves the calling thread into a new network and mount namespace, makes
/// `/` recursively private and mounts a fresh tmpfs on `/run` (and on
/// `/var/run` when that is not a link to `/run`), then checks all of it
/// before anything is created. `/run/netns`, for nslink and for the `ip`
/// processes this thread starts, is then private to the benchmark, and the
/// host's devices are out of reach.
pub fn isolate() -> BenchResult<()> {
    use nix::mount::{MsFlags, mount};
    use nix::sched::{CloneFlags, unshare};
    use nix::sys::statfs::{TMPFS_MAGIC, statfs};

    if !nix::unistd::geteuid().is_root() {
        return Err("run the benchmark as root (it creates namespaces and devices)".into());
    }
    unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS)?;
    // The main thread (`/proc/self`) stayed in the host's namespaces.
    for ns in ["net", "mnt"] {
        if ident(&format!("/proc/self/ns/{ns}"))? == ident(&format!("/proc/thread-self/ns/{ns}"))? {
            return Err(format!("the thread is still in the host's {ns} namespace").into());
        }
    }
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)?;
    let tmpfs = |dir: &str| {
        mount(
            Some("nslink-bench"),
            dir,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755"),
        )
    };
    tmpfs("/run")?;
    // `ip` uses /var/run/netns; normally /var/run is a symlink to /run.
    let var_run = Path::new("/var/run");
    if var_run.is_dir() && fs::canonicalize(var_run)? != Path::new("/run") {
        tmpfs("/var/run")?;
    }
    if statfs("/run")?.filesystem_type() != TMPFS_MAGIC || fs::read_dir("/run")?.next().is_some() {
        return Err("/run is not the fresh private tmpfs".into());
    }
    Ok(())
}

/// Runs `body` on a dedicated thread that first [`isolate`]s itself, and
/// exits with status 1 and a message naming `bench` if anything fails.
pub fn run_isolated(bench: &str, body: impl FnOnce() -> BenchResult<()> + Send + 'static) {
    let worker = std::thread::Builder::new().name("nslink-bench".into()).spawn(
        move || -> Result<(), String> {
            isolate().map_err(|e| format!("isolating the benchmark thread: {e}"))?;
            body().map_err(|e| e.to_string())
        },
    );
    let outcome = match worker {
        Ok(handle) => handle.join().unwrap_or_else(|_| Err("benchmark thread panicked".into())),
        Err(e) => Err(format!("cannot start the benchmark thread: {e}")),
    };
    if let Err(e) = outcome {
        eprintln!("{bench} bench: {e}");
        std::process::exit(1);
    }
}

/// `ip -batch -` with `lines` on stdin; must succeed.
pub fn ip_batch(lines: &str) -> BenchResult<()> {
    use std::process::Stdio;
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

/// Runs `ip ARGS`, which must succeed, reading all its output; returns
/// stdout.
pub fn ip(args: &[&str]) -> BenchResult<Vec<u8>> {
    let out = Command::new("ip").args(args).stdin(std::process::Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("ip {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out.stdout)
}
