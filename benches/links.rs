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
//!    names), and `link(index)`, against `ip -j link show dev vethNNN`;
//! 0. (first, while the namespace holds only `lo`) veth create and delete:
//!    200 pairs made one by one (one request each, nothing else: no `up`,
//!    no master), then deleted one by one by name, by nslink
//!    (`VethPair::create`, `delete_link`), a raw C program
//!    (`benches/c/veth.c`: one `RTM_NEWLINK` / `RTM_DELLINK` each, the
//!    floor), the rtnetlink crate (0.24, on a tokio current-thread runtime:
//!    `link().add(LinkVeth…)`, then one dump for the indexes and `del(index)`
//!    each, as its API asks), `ip link add`/`del` per pair (a process each)
//!    and `ip -batch` (one process for the creates, one for the deletes).
//!    Creates and deletes are reported as two tables, per pair, with ratios
//!    against C.

mod common;

use std::cell::RefCell;
use std::fs;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use netlink_packet_core::NLM_F_DUMP;
use nslink::netlink::packet::RouteNetlinkMessage;
use nslink::netlink::packet::link::LinkMessage;
use nslink::{RouteSocket, VethPair};

use common::{
    BenchResult, Contender, Stats, fmt_ratio, heading, ip, ip_batch, row, run_interleaved,
};

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
    /// veth pairs created and deleted per round (group 0).
    veth_pairs: u32,
    /// Unrecorded and recorded rounds of group 0.
    veth_warmup: u32,
    veth_rounds: u32,
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
                veth_pairs: 20,
                veth_warmup: 0,
                veth_rounds: 2,
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
                veth_pairs: 200,
                veth_warmup: 1,
                veth_rounds: 7,
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

    let mut keys: Vec<(String, Stats)> = Vec::new();
    bench_veth(cfg, &mut keys)?;

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

    bench_dump(cfg, &nl, &mut keys)?;
    bench_get(cfg, &nl, &names, &indexes, &mut keys)?;

    println!();
    println!("== SUMMARY: median ratio, p10..p90 over rounds ==");
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

/// The untimed pause after each contender's turn in group 0: the deleted
/// devices' deferred kernel work (RCU callbacks) passes before the next
/// contender is timed.
const SETTLE: Duration = Duration::from_millis(150);

/// Checks that the namespace holds only `lo` again.
fn check_only_lo(nl: &RouteSocket, who: &str) -> BenchResult<()> {
    let n = nl.links()?.len();
    if n != 1 {
        return Err(format!("{who} left {} devices behind", n - 1).into());
    }
    Ok(())
}

/// Group 0: create `veth_pairs` pairs one by one, then delete them one by
/// one. Each contender returns its create time; its delete time goes to
/// its own list, reported as a second table.
fn bench_veth(cfg: Config, keys: &mut Vec<(String, Stats)>) -> BenchResult<()> {
    let n = cfg.veth_pairs;
    let nl = RouteSocket::open()?;
    let names: Vec<(String, String)> =
        (0..n).map(|i| (format!("bv{i:03}"), format!("bvp{i:03}"))).collect();
    let c_bin = common::c_program("veth")?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let (connection, handle, _) = rt.block_on(async { rtnetlink::new_connection() })?;
    rt.spawn(connection);
    // Delete times, per contender, in the order of `cs`.
    let deletes: Vec<RefCell<Vec<f64>>> = (0..5).map(|_| RefCell::new(Vec::new())).collect();
    let per_pair = |d: Duration| d.as_nanos() as f64 / f64::from(n);

    let nslink = Contender::new("nslink VethPair::create / delete_link", n, |k| {
        let t = Instant::now();
        for (a, b) in names.iter().take(k as usize) {
            VethPair::builder(a.as_str(), b.as_str()).create(&nl)?;
        }
        let created = t.elapsed();
        let t = Instant::now();
        for (a, _) in names.iter().take(k as usize) {
            nl.delete_link(a.as_str())?;
        }
        deletes[0].borrow_mut().push(per_pair(t.elapsed()));
        check_only_lo(&nl, "nslink")?;
        Ok(created)
    });
    let c = Contender::new("C: one RTM_NEWLINK / RTM_DELLINK each", n, |k| {
        let out = Command::new(&c_bin).args(["pairs", &k.to_string()]).output()?;
        if !out.status.success() {
            return Err(format!("veth.c: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut ns = text.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(create)), Some(Ok(delete))) = (ns.next(), ns.next()) else {
            return Err(format!("veth.c printed {text:?}").into());
        };
        deletes[1].borrow_mut().push(per_pair(Duration::from_nanos(delete)));
        check_only_lo(&nl, "veth.c")?;
        Ok(Duration::from_nanos(create))
    });
    let rtnl = Contender::new("rtnetlink 0.24: add(LinkVeth) / del(index)", n, |k| {
        use futures::TryStreamExt as _;
        use rtnetlink::LinkVeth;
        use rtnetlink::packet_route::link::LinkAttribute;

        let wanted = &names[..k as usize];
        rt.block_on(async {
            let t = Instant::now();
            for (a, b) in wanted {
                handle.link().add(LinkVeth::new(a, b).build()).execute().await?;
            }
            let created = t.elapsed();
            let t = Instant::now();
            // Its add returns nothing and its del takes an index: one dump
            // for the indexes.
            let mut by_name = std::collections::HashMap::new();
            let mut links = handle.link().get().execute();
            while let Some(m) = links.try_next().await? {
                for a in &m.attributes {
                    if let LinkAttribute::IfName(name) = a {
                        by_name.insert(name.clone(), m.header.index);
                    }
                }
            }
            for (a, _) in wanted {
                let index = *by_name.get(a).ok_or("rtnetlink: a created device is missing")?;
                handle.link().del(index).execute().await?;
            }
            deletes[2].borrow_mut().push(per_pair(t.elapsed()));
            Ok::<_, common::BenchError>(created)
        })
        .and_then(|created| check_only_lo(&nl, "rtnetlink").map(|()| created))
    });
    let ip_each = Contender::new("ip link add / del, one process each", n, |k| {
        let t = Instant::now();
        for (a, b) in names.iter().take(k as usize) {
            ip(&["link", "add", a, "type", "veth", "peer", "name", b])?;
        }
        let created = t.elapsed();
        let t = Instant::now();
        for (a, _) in names.iter().take(k as usize) {
            ip(&["link", "del", a])?;
        }
        deletes[3].borrow_mut().push(per_pair(t.elapsed()));
        check_only_lo(&nl, "ip")?;
        Ok(created)
    });
    let ip_batch_c = Contender::new("ip -batch (one process to add, one to del)", n, |k| {
        let mut add = String::new();
        let mut del = String::new();
        for (a, b) in names.iter().take(k as usize) {
            add.push_str(&format!("link add {a} type veth peer name {b}\n"));
            del.push_str(&format!("link del {a}\n"));
        }
        let t = Instant::now();
        ip_batch(&add)?;
        let created = t.elapsed();
        let t = Instant::now();
        ip_batch(&del)?;
        deletes[4].borrow_mut().push(per_pair(t.elapsed()));
        check_only_lo(&nl, "ip -batch")?;
        Ok(created)
    });

    let mut cs = [nslink, c, rtnl, ip_each, ip_batch_c];
    run_interleaved(&mut cs, cfg.veth_warmup, cfg.veth_rounds, || {
        thread::sleep(SETTLE);
        Ok(())
    })?;
    let title = format!("veth create, {n} pairs one by one (time per pair)");
    heading(&title, cfg.veth_rounds, &cs);
    for (i, c) in cs.iter().enumerate() {
        row(c, (i != 1).then_some(("C", &cs[1])));
    }
    keys.push(("veth create: nslink / C".into(), Stats::paired_ratio(&cs[0], &cs[1])));
    keys.push(("veth create: rtnetlink / nslink".into(), Stats::paired_ratio(&cs[2], &cs[0])));

    // The delete times, as contenders of their own.
    let labels = [
        "nslink delete_link(name)",
        "C: one RTM_DELLINK each",
        "rtnetlink 0.24: one dump, del(index) each",
        "ip link del, one process each",
        "ip -batch (one process)",
    ];
    let skip = cfg.veth_warmup as usize;
    let dels: Vec<Contender<'_>> = labels
        .iter()
        .zip(&deletes)
        .map(|(label, d)| {
            let mut c = Contender::new(label, n, |_| Err("not run".into()));
            c.samples = d.borrow().iter().skip(skip).copied().collect();
            c
        })
        .collect();
    heading(&format!("veth delete, {n} pairs one by one (time per pair)"), cfg.veth_rounds, &dels);
    for (i, c) in dels.iter().enumerate() {
        row(c, (i != 1).then_some(("C", &dels[1])));
    }
    keys.push(("veth delete: nslink / C".into(), Stats::paired_ratio(&dels[0], &dels[1])));
    Ok(())
}
