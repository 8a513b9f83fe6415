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

/// Prints a group heading.
pub fn heading(title: &str, rounds: u32, contenders: &[Contender<'_>]) {
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
}
