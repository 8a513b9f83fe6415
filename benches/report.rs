//! The benchmark report: reads every `target/nslink-bench/<bench>.tsv` that
//! the other bench targets wrote (one line per printed row, see
//! `common::row`) and writes
//!
//! - `BENCHMARKS.svg`: for every group, a horizontal bar per contender
//!   showing its time as a ratio to nslink's in the same group (log scale;
//!   the paired per-round ratio with its p10..p90 whisker when the row was
//!   measured against nslink, the ratio of medians otherwise);
//! - the table of medians and ratios in `BENCHMARKS.md`, between the
//!   `<!-- BEGIN report -->` and `<!-- END report -->` markers, and the
//!   machine's description between `<!-- BEGIN machine -->` and
//!   `<!-- END machine -->` (CPU, cores, kernel, and for each bench when it
//!   ran and the load before and after, as `benches/run-all.sh` records it
//!   in `<bench>.load`).
//!
//! Nothing here knows which benches or groups exist: whatever rows the
//! files hold are reported, benches in the suite's usual order first, then
//! any others by name; groups and rows in the order they were printed.
//!
//! Run: `cargo bench --bench report` (after the benches; no root needed).
//! `NSLINK_REPORT_DIR=DIR` reads the TSV files from `DIR` instead.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use common::fmt_time;

/// The suite's benches in the order the report shows them; others follow
/// by name.
const ORDER: [&str; 7] = ["netns", "links", "groups", "dumps", "pod", "monitor", "framing"];

const BEGIN_REPORT: &str = "<!-- BEGIN report -->";
const END_REPORT: &str = "<!-- END report -->";
const BEGIN_MACHINE: &str = "<!-- BEGIN machine -->";
const END_MACHINE: &str = "<!-- END machine -->";

/// One recorded row.
#[derive(Debug, Clone)]
struct Row {
    contender: String,
    median: f64,
    p10: f64,
    p90: f64,
    /// The baseline's label and the paired ratio (median, p10, p90).
    paired: Option<(String, [f64; 3])>,
}

/// The rows of one group, in printed order.
#[derive(Debug, Clone)]
struct Group {
    title: String,
    rows: Vec<Row>,
}

/// One bench's groups, in printed order.
#[derive(Debug, Clone)]
struct Bench {
    name: String,
    groups: Vec<Group>,
    /// When its file was written (seconds since the epoch).
    written: Option<u64>,
    /// `uptime` before and after, when `run-all.sh` recorded them.
    load: Option<String>,
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn parse_f64(field: &str, what: &str, line: usize) -> Res<f64> {
    field.parse().map_err(|_| format!("line {line}: {what} {field:?} is not a number").into())
}

/// Reads one TSV file.
fn read_bench(path: &Path) -> Res<Bench> {
    let text = fs::read_to_string(path)?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
    let mut groups: Vec<Group> = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 6 {
            return Err(
                format!("{}: line {n}: {} fields, want 6 or 10", path.display(), f.len()).into()
            );
        }
        let paired = match f.get(6) {
            Some(base) if !base.is_empty() && f.len() >= 10 => Some((
                base.to_string(),
                [
                    parse_f64(f[7], "ratio", n)?,
                    parse_f64(f[8], "ratio p10", n)?,
                    parse_f64(f[9], "ratio p90", n)?,
                ],
            )),
            _ => None,
        };
        let row = Row {
            contender: f[2].to_string(),
            median: parse_f64(f[3], "median", n)?,
            p10: parse_f64(f[4], "p10", n)?,
            p90: parse_f64(f[5], "p90", n)?,
            paired,
        };
        match groups.iter_mut().find(|g| g.title == f[1]) {
            Some(g) => g.rows.push(row),
            None => groups.push(Group { title: f[1].to_string(), rows: vec![row] }),
        }
    }
    let written = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let load = fs::read_to_string(path.with_extension("load")).ok().map(|s| s.trim().to_string());
    Ok(Bench { name: stem, groups, written, load })
}

/// Every `*.tsv` of `dir`, in report order.
fn read_all(dir: &Path) -> Res<Vec<Bench>> {
    let mut benches = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tsv") {
            benches.push(read_bench(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
    }
    let rank = |b: &Bench| ORDER.iter().position(|o| *o == b.name).unwrap_or(ORDER.len());
    benches.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
    Ok(benches)
}

/// Whether `label` is the row a paired ratio names as its baseline `base`
/// (benches name baselines briefly: "floor" for "floor: setns there …").
fn is_baseline(label: &str, base: &str) -> bool {
    label == base || label.contains(base)
}

/// The row every other row of the group is compared with: the one labelled
/// `nslink` if there is one, else the group's own baseline (the row most
/// other rows were measured against), else the first row.
fn reference(g: &Group) -> Option<&Row> {
    if let Some(r) = g.rows.iter().find(|r| r.contender == "nslink") {
        return Some(r);
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (base, _) in g.rows.iter().filter_map(|r| r.paired.as_ref()) {
        match counts.iter_mut().find(|(b, _)| b == base) {
            Some((_, n)) => *n += 1,
            None => counts.push((base, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .find_map(|(base, _)| {
            g.rows.iter().find(|r| r.paired.is_none() && is_baseline(&r.contender, base))
        })
        .or_else(|| g.rows.first())
}

/// A row's time as a ratio to the reference's: the paired per-round ratio
/// (with p10 and p90) when the row was measured against the reference, the
/// ratio of medians otherwise.
struct Ratio {
    median: f64,
    spread: Option<(f64, f64)>,
}

fn ratio_to(r: &Row, reference: &Row) -> Ratio {
    match &r.paired {
        Some((base, [m, lo, hi])) if is_baseline(&reference.contender, base) => {
            Ratio { median: *m, spread: Some((*lo, *hi)) }
        }
        _ => Ratio { median: r.median / reference.median, spread: None },
    }
}

fn fmt_ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}x")
    } else if x >= 10.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.2}x")
    }
}

// ---------------------------------------------------------------------------
// Markdown

/// The table part of BENCHMARKS.md.
fn markdown(benches: &[Bench]) -> String {
    let mut md = String::new();
    for b in benches {
        let _ = writeln!(md, "### `{}`\n", b.name);
        let _ = writeln!(
            md,
            "| Group | Contender | Median | p10 – p90 | × reference | Paired ratio (vs baseline) |"
        );
        let _ = writeln!(md, "| --- | --- | ---: | ---: | ---: | --- |");
        for g in &b.groups {
            let reference = reference(g);
            for (i, r) in g.rows.iter().enumerate() {
                let group = if i == 0 { escape(&g.title) } else { String::new() };
                let vs_nslink = match reference {
                    Some(n) if std::ptr::eq(n, r) => "**1**".to_string(),
                    Some(n) => {
                        let q = ratio_to(r, n);
                        match q.spread {
                            Some(_) => fmt_ratio(q.median),
                            None => format!("{} (medians)", fmt_ratio(q.median)),
                        }
                    }
                    None => "–".to_string(),
                };
                let paired = match &r.paired {
                    Some((base, [m, lo, hi])) => format!(
                        "{} ({}..{}) vs {}",
                        fmt_ratio(*m),
                        fmt_ratio(*lo),
                        fmt_ratio(*hi),
                        escape(base)
                    ),
                    None => String::new(),
                };
                let _ = writeln!(
                    md,
                    "| {group} | {} | {} | {} – {} | {vs_nslink} | {paired} |",
                    escape(&r.contender),
                    fmt_time(r.median),
                    fmt_time(r.p10),
                    fmt_time(r.p90)
                );
            }
        }
        md.push('\n');
    }
    md.push_str(
        "× reference: the row's time over the reference row's (**1**) in the same group: nslink \
         where a row is labelled just `nslink`, else the row the bench measured the others \
         against (a raw C floor, a hand-written loop); > 1 is slower. It is the paired \
         per-round ratio when the row was measured against the reference, else the ratio of \
         the medians (marked). Rows marked `*` are diagnostics (other forms tried, the \
         kernel's floor), not contenders.\n",
    );
    md
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The machine part of BENCHMARKS.md.
fn machine(benches: &[Bench]) -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
        .map_or("unknown".to_string(), |m| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            })
        })
        .map_or("?".to_string(), |kb| format!("{:.1} GiB", kb as f64 / (1024.0 * 1024.0)));
    let mut md = format!(
        "- CPU: {model}, {cores} cores available to the benches\n- Memory: {mem}\n- Kernel: Linux {}\n",
        kernel.trim()
    );
    md.push_str("- Runs (file written, UTC; load average before → after, from `run-all.sh`):\n");
    for b in benches {
        let when = b.written.map_or("?".to_string(), utc);
        let load = b.load.as_deref().map_or("not recorded".to_string(), |l| {
            l.lines().map(str::trim).collect::<Vec<_>>().join(" → ")
        });
        let _ = writeln!(md, "  - `{}`: {when}; {load}", b.name);
    }
    md
}

/// `2026-11-30 22:40` for seconds since the epoch (UTC, proleptic
/// Gregorian).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}")
}

/// Replaces what lies between `begin` and `end` in `doc` with `body`.
fn splice(doc: &str, begin: &str, end: &str, body: &str) -> Res<String> {
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        return Err(format!("BENCHMARKS.md has no {begin} … {end} markers").into());
    };
    if e < b {
        return Err(format!("BENCHMARKS.md: {end} comes before {begin}").into());
    }
    let head = &doc[..b + begin.len()];
    Ok(format!("{head}\n{body}{}", &doc[e..]))
}

// ---------------------------------------------------------------------------
// SVG

const WIDTH: f64 = 960.0;
const LABEL_W: f64 = 330.0;
const RIGHT_PAD: f64 = 130.0;
const ROW_H: f64 = 18.0;
const HEAD_H: f64 = 24.0;
const TOP: f64 = 84.0;

/// One line of the chart.
enum Line {
    Bench(String),
    Group(String),
    Bar { label: String, ratio: Ratio, reference: bool },
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The chart.
fn svg(benches: &[Bench]) -> String {
    let mut lines = Vec::new();
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    for b in benches {
        lines.push(Line::Bench(b.name.clone()));
        for g in &b.groups {
            let Some(reference) = reference(g) else {
                continue;
            };
            lines.push(Line::Group(format!("{} — relative to: {}", g.title, reference.contender)));
            for r in &g.rows {
                let is_ref = std::ptr::eq(r, reference);
                let ratio = if is_ref {
                    Ratio { median: 1.0, spread: None }
                } else {
                    ratio_to(r, reference)
                };
                for v in [Some(ratio.median), ratio.spread.map(|s| s.0), ratio.spread.map(|s| s.1)]
                    .into_iter()
                    .flatten()
                    .filter(|v| v.is_finite() && *v > 0.0)
                {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                lines.push(Line::Bar { label: r.contender.clone(), ratio, reference: is_ref });
            }
        }
    }
    // Whole decades, at least 0.1x..10x.
    let lo_dec = lo.log10().floor().min(-1.0);
    let hi_dec = hi.log10().ceil().max(1.0);
    let plot_w = WIDTH - LABEL_W - RIGHT_PAD;
    let x = |v: f64| {
        let v = v.clamp(10f64.powf(lo_dec), 10f64.powf(hi_dec));
        LABEL_W + (v.log10() - lo_dec) / (hi_dec - lo_dec) * plot_w
    };
    let height: f64 = TOP
        + lines
            .iter()
            .map(|l| match l {
                Line::Bench(_) => HEAD_H + 6.0,
                Line::Group(_) => HEAD_H - 4.0,
                Line::Bar { .. } => ROW_H,
            })
            .sum::<f64>()
        + 30.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="12" y="22" font-size="16" font-weight="bold">nslink benchmarks: time relative to each group's reference (log scale; right of 1 = slower)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="40" fill="#555">reference (1): nslink, or the group's own baseline (raw C, a bare syscall floor). Medians, same run, interleaved.</text>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="56" fill="#555">Whiskers: p10..p90 of the paired per-round ratio. Orange: nslink; blue: other contenders; grey: * diagnostics.</text>"##
    );
    // Decade grid and labels.
    let mut dec = lo_dec;
    while dec <= hi_dec + 1e-9 {
        let gx = x(10f64.powf(dec));
        let label = if dec < 0.0 {
            format!("{:.*}x", -dec as usize, 10f64.powf(dec))
        } else {
            format!("{:.0}x", 10f64.powf(dec))
        };
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{:.1}" x2="{gx:.1}" y2="{:.1}" stroke="{}" stroke-width="1"/>"##,
            TOP - 8.0,
            height - 24.0,
            if dec.abs() < 1e-9 { "#333" } else { "#ddd" }
        );
        let _ = writeln!(
            s,
            r##"<text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{label}</text>"##,
            TOP - 12.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{label}</text>"##,
            height - 10.0
        );
        dec += 1.0;
    }
    let one = x(1.0);
    let mut y = TOP;
    for l in &lines {
        match l {
            Line::Bench(name) => {
                y += HEAD_H + 6.0;
                let _ = writeln!(
                    s,
                    r#"<text x="12" y="{:.1}" font-size="14" font-weight="bold">cargo bench --bench {}</text>"#,
                    y - 8.0,
                    xml(name)
                );
            }
            Line::Group(title) => {
                y += HEAD_H - 4.0;
                let _ = writeln!(
                    s,
                    r##"<text x="20" y="{:.1}" font-weight="bold" fill="#333">{}</text>"##,
                    y - 5.0,
                    xml(title)
                );
            }
            Line::Bar { label, ratio, reference } => {
                y += ROW_H;
                let mid = y - ROW_H / 2.0;
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                    LABEL_W - 8.0,
                    mid + 4.0,
                    xml(label)
                );
                if *reference {
                    let _ = writeln!(
                        s,
                        r##"<circle cx="{one:.1}" cy="{mid:.1}" r="4" fill="#333"/><text x="{:.1}" y="{:.1}" fill="#333">1 (reference)</text>"##,
                        one + 8.0,
                        mid + 4.0
                    );
                    continue;
                }
                let v = ratio.median;
                if !(v.is_finite() && v > 0.0) {
                    continue;
                }
                let vx = x(v);
                let diagnostic = label.ends_with('*');
                let fill = if diagnostic {
                    "#bbbbbb"
                } else if label.to_lowercase().contains("nslink") {
                    "#f58518"
                } else {
                    "#4c78a8"
                };
                let (bx, bw) = if vx >= one { (one, vx - one) } else { (vx, one - vx) };
                let _ = writeln!(
                    s,
                    r#"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
                    y - ROW_H + 3.0,
                    bw.max(1.0),
                    ROW_H - 6.0
                );
                if let Some((a, b)) = ratio.spread {
                    let (ax, bx2) = (x(a), x(b));
                    let _ = writeln!(
                        s,
                        r##"<line x1="{ax:.1}" y1="{mid:.1}" x2="{bx2:.1}" y2="{mid:.1}" stroke="#222" stroke-width="1"/><line x1="{ax:.1}" y1="{:.1}" x2="{ax:.1}" y2="{:.1}" stroke="#222"/><line x1="{bx2:.1}" y1="{:.1}" x2="{bx2:.1}" y2="{:.1}" stroke="#222"/>"##,
                        mid - 3.0,
                        mid + 3.0,
                        mid - 3.0,
                        mid + 3.0
                    );
                }
                let text = match ratio.spread {
                    Some(_) => fmt_ratio(v),
                    None => format!("{} (medians)", fmt_ratio(v)),
                };
                let right = ratio.spread.map_or(vx, |(a, b)| vx.max(x(a)).max(x(b)));
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" fill="#222">{text}</text>"##,
                    right.max(one) + 6.0,
                    mid + 4.0
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

// ---------------------------------------------------------------------------

fn run() -> Res<()> {
    let dir = std::env::var_os("NSLINK_REPORT_DIR").map_or_else(common::output_dir, PathBuf::from);
    let benches = read_all(&dir)?;
    if benches.is_empty() {
        return Err(format!("no *.tsv in {}: run the benches first", dir.display()).into());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let svg_path = root.join("BENCHMARKS.svg");
    fs::write(&svg_path, svg(&benches))?;
    let md_path = root.join("BENCHMARKS.md");
    let doc = fs::read_to_string(&md_path).map_err(|e| format!("{}: {e}", md_path.display()))?;
    let doc = splice(&doc, BEGIN_REPORT, END_REPORT, &markdown(&benches))?;
    let doc = splice(&doc, BEGIN_MACHINE, END_MACHINE, &machine(&benches))?;
    fs::write(&md_path, doc)?;
    let rows: usize = benches.iter().flat_map(|b| &b.groups).map(|g| g.rows.len()).sum();
    let names: Vec<&str> = benches.iter().map(|b| b.name.as_str()).collect();
    println!(
        "report: {} benches ({}), {rows} rows from {}; wrote {} and the table in {}",
        benches.len(),
        names.join(", "),
        dir.display(),
        svg_path.display(),
        md_path.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; nothing else is taken.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("report: {e}");
            ExitCode::FAILURE
        }
    }
}
