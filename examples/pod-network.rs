//! A Kubernetes-style pod network on one machine, built with nslink, and a
//! check of Kubernetes' three networking rules with real traffic.
//!
//! What a node does for its pods, as in the article: a node namespace with a
//! bridge `cni0` (10.244.1.1/24) and, per pod, a named namespace whose `eth0`
//! is one end of a veth pair; the other end is a port of the bridge. Each pod
//! gets an address from the /24, `lo` up, and a default route via the bridge.
//! The node is itself a namespace, so the host's own devices are never
//! touched.
//!
//! Then every endpoint sends a UDP message to every other one, and the
//! receiver reports the source address it saw:
//! 1. pod to pod without NAT: the source seen is the sender's pod IP;
//! 2. node to pod and pod to node, likewise;
//! 3. the address a pod sees for itself is the address the others saw.
//!
//! ```text
//! sudo cargo run --release --example pod-network              # 4 pods
//! sudo cargo run --release --example pod-network -- --pods 20
//! sudo cargo run --release --example pod-network -- --keep    # leave it for `ip netns exec …`
//! sudo cargo run --release --example pod-network -- --down    # delete what --keep left
//! ```
//!
//! # What a run owns, and what it deletes
//!
//! The namespaces are named `PREFIX-node` and `PREFIX-pod-1`, `PREFIX-pod-2`,
//! … in `/run/netns`. The prefix is `nslink-PID` (the process id) unless
//! `--prefix` gives another, so runs at the same time never meet: each has
//! its own namespaces, and the bridge and veths live inside them.
//!
//! Each namespace is an `nslink::netns::OwnedNetns`: the run deletes it *by
//! identity* (only if the name still holds the namespace this run made) at
//! the end, after an error, while unwinding from a panic, and, through
//! `nslink::netns::cleanup_on_signals`, on SIGINT (Ctrl-C), SIGTERM or
//! SIGHUP. A run never deletes anything by name and never looks at
//! namespaces it did not make. (Only SIGKILL or a power cut can leave
//! `nslink-PID-*` behind; `ip netns del NAME` removes them.)
//!
//! `--keep` leaves the network up and writes what it kept (each name with
//! its namespace's identity, the nsfs device and inode) to
//! `/run/nslink-pod-network/PREFIX`. `--down` reads those records (only
//! PREFIX's with `--prefix`) and deletes each namespace that is still the
//! one recorded; a name that was deleted and made again by someone else
//! since is left alone.

use std::collections::BTreeMap;
use std::fs;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nslink::NetnsDir;

#[path = "common/podnet.rs"]
mod podnet;

use podnet::{BRIDGE, BoxError, Endpoint, MAX_PODS, Names, SUBNET, build, teardown};

const PORT: u16 = 7777;
/// Where `--keep` records what it kept, one file per prefix.
const RECORDS: &str = "/run/nslink-pod-network";

const USAGE: &str = "\
usage: pod-network [--pods N] [--prefix PREFIX] [--keep]
       pod-network --down [--prefix PREFIX]

Builds a node namespace PREFIX-node with a bridge and N pod namespaces
PREFIX-pod-1.. (N from 1 to 250, default 4), checks Kubernetes' three
networking rules with UDP traffic, and deletes what it made.

  --pods N         number of pods (default 4)
  --prefix PREFIX  namespace name prefix (default nslink-PID)
  --keep           leave the network up, recorded in /run/nslink-pod-network
  --down           delete the networks --keep left (only PREFIX's with --prefix);
                   a namespace is deleted only if it is still the one recorded
  -h, --help       print this help";

/// `println!`/`print!` that never panic (stdout may be a closed pipe, and the
/// teardown must finish regardless).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! say_part {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

struct Options {
    pods: usize,
    /// Given with `--prefix`.
    prefix: Option<Names>,
    keep: bool,
    down: bool,
}

/// What the command line asks for.
enum Parsed {
    Run(Options),
    Help,
}

fn parse_args() -> Result<Parsed, String> {
    let mut o = Options { pods: 4, prefix: None, keep: false, down: false };
    let mut pods_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--pods" => {
                let v = args.next().ok_or("--pods needs a number")?;
                o.pods = v.parse().map_err(|_| format!("--pods: {v:?} is not a number"))?;
                if !(1..=MAX_PODS).contains(&o.pods) {
                    return Err(format!("--pods must be between 1 and {MAX_PODS}"));
                }
                pods_given = true;
            }
            "--prefix" => {
                let v = args.next().ok_or("--prefix needs a value")?;
                o.prefix = Some(Names::new(&v).map_err(|e| format!("--prefix: {e}"))?);
            }
            "--keep" => o.keep = true,
            "--down" => o.down = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if o.down && (o.keep || pods_given) {
        return Err("--down takes only --prefix (try --help)".into());
    }
    Ok(Parsed::Run(o))
}

/// Sockets of one endpoint, made inside its namespace.
struct Sockets {
    rx: UdpSocket,
    tx: UdpSocket,
}

fn open_sockets(e: &Endpoint) -> Result<Sockets, BoxError> {
    let ip = e.ip;
    let (rx, tx) = e.ns.run(move || -> std::io::Result<(UdpSocket, UdpSocket)> {
        let rx = UdpSocket::bind(SocketAddr::new(ip.into(), PORT))?;
        let tx = UdpSocket::bind(SocketAddr::new(ip.into(), 0))?;
        Ok((rx, tx))
    })??;
    rx.set_nonblocking(true)?;
    Ok(Sockets { rx, tx })
}

/// For each ordered pair (from, to): the source address `to` saw.
type Seen = BTreeMap<(usize, usize), IpAddr>;

/// Most neighbour entries the check may hold at once. The kernel's ARP
/// table is shared by every namespace, host included, and refuses new
/// entries (ENOBUFS) past `gc_thresh3` (1024 by default): a full mesh of 50
/// pods would need 2,500. So the check goes in waves of a few senders and
/// flushes the neighbour tables between waves.
const NEIGH_BUDGET: usize = 256;

/// Every endpoint sends to every other; receivers record the source they
/// saw. Missing messages are sent again every 100 ms (the first may wait for
/// ARP), for at most 3 s per wave.
fn exchange(eps: &[Endpoint], socks: &[Sockets]) -> Result<Seen, BoxError> {
    let mut seen = Seen::new();
    let n = eps.len();
    // A sender learns one entry per receiver, each receiver one per sender.
    let wave = (NEIGH_BUDGET / (2 * n)).max(1);
    let mut buf = [0u8; 64];
    for first in (0..n).step_by(wave) {
        let senders = first..(first + wave).min(n);
        let want = senders.len() * (n - 1);
        let count = |seen: &Seen| seen.keys().filter(|(a, _)| senders.contains(a)).count();
        let deadline = Instant::now() + Duration::from_secs(3);
        while count(&seen) < want && Instant::now() < deadline {
            for from in senders.clone() {
                for (to, target) in eps.iter().enumerate() {
                    if from != to && !seen.contains_key(&(from, to)) {
                        let msg = format!("{from}>{to}");
                        let dst = SocketAddr::new(target.ip.into(), PORT);
                        match socks[from].tx.send_to(msg.as_bytes(), dst) {
                            Ok(_) => {}
                            // A device just brought up has no queue until the
                            // kernel's link-watch work runs (it can lag under
                            // load); until then sends fail with ENOBUFS, and
                            // a full neighbour table does the same. Resent
                            // in the next round.
                            Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            let resend_at = Instant::now() + Duration::from_millis(100);
            while count(&seen) < want && Instant::now() < resend_at {
                let mut got = false;
                for (to, s) in socks.iter().enumerate() {
                    while let Ok((len, src)) = s.rx.recv_from(&mut buf) {
                        got = true;
                        let text = String::from_utf8_lossy(&buf[..len]);
                        if let Some((a, b)) = text.split_once('>')
                            && let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>())
                            && b == to
                            && a < n
                        {
                            seen.insert((a, b), src.ip());
                        }
                    }
                }
                if !got {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        }
        if wave < n {
            for e in eps {
                e.nl.flush_neighbours()?;
            }
        }
    }
    Ok(seen)
}

/// Prints the verdict table; returns whether all three rules hold.
fn report(eps: &[Endpoint], seen: &Seen) -> Result<bool, BoxError> {
    let n = eps.len();
    let cell = |from: usize, to: usize| -> (&'static str, bool) {
        match seen.get(&(from, to)) {
            Some(ip) if *ip == IpAddr::V4(eps[from].ip) => ("ok", true),
            Some(_) => ("NAT!", false),
            None => ("lost", false),
        }
    };
    if n <= 10 {
        // Rows are named by namespace; columns by the rows' numbers.
        let names: Vec<String> = eps.iter().map(Endpoint::name).collect();
        let width = names.iter().map(String::len).max().unwrap_or(0) + 4;
        say!("\nsource address seen by the receiver (ok = the sender's own IP)");
        say_part!("{:<width$}", "from \\ to");
        for to in 0..n {
            say_part!("{to:>6}");
        }
        say!("");
        for (from, name) in names.iter().enumerate() {
            say_part!("{:<width$}", format!("{from:<2}  {name}"));
            for to in 0..n {
                say_part!("{:>6}", if from == to { "." } else { cell(from, to).0 });
            }
            say!("");
        }
    }
    let (mut pp_ok, mut pp_all, mut np_ok, mut np_all) = (0, 0, 0, 0);
    for from in 0..n {
        for to in 0..n {
            if from == to {
                continue;
            }
            let ok = cell(from, to).1;
            if from == 0 || to == 0 {
                np_all += 1;
                np_ok += usize::from(ok);
            } else {
                pp_all += 1;
                pp_ok += usize::from(ok);
            }
        }
    }
    // Rule 3: the address each pod has (asked inside the pod) is the one the
    // others saw it send from.
    let (mut self_ok, mut self_all) = (0, 0);
    for (i, e) in eps.iter().enumerate().skip(1) {
        self_all += 1;
        let own: Vec<IpAddr> =
            e.nl.link_addresses("eth0")?
                .into_iter()
                .filter(|a| a.net.is_ipv4())
                .map(|a| a.net.addr())
                .collect();
        let seen_as: Vec<IpAddr> =
            (0..n).filter(|&to| to != i).filter_map(|to| seen.get(&(i, to)).copied()).collect();
        if own.len() == 1 && seen_as.len() == n - 1 && seen_as.iter().all(|ip| *ip == own[0]) {
            self_ok += 1;
        }
    }
    say!("");
    say!("rule 1  pod  -> pod  without NAT        {pp_ok:>5}/{pp_all} ok");
    say!("rule 2  node <-> pod without NAT        {np_ok:>5}/{np_all} ok");
    say!("rule 3  own address == address seen     {self_ok:>5}/{self_all} ok");
    Ok(pp_ok == pp_all && np_ok == np_all && self_ok == self_all)
}

fn run(o: &Options, dir: &NetnsDir) -> Result<bool, BoxError> {
    if o.down {
        return down(dir, o.prefix.as_ref());
    }
    let names = match &o.prefix {
        Some(names) => names.clone(),
        None => Names::new(&format!("nslink-{}", std::process::id()))?,
    };
    let t = Instant::now();
    let eps = build(dir, &names, o.pods)?;
    let built = t.elapsed();
    let pods = match o.pods {
        1 => format!("1 pod ({})", eps[1].name()),
        n => format!("{n} pods ({}..{})", eps[1].name(), eps[n].name()),
    };
    say!(
        "built node {} with bridge {BRIDGE} ({}.{}.{}.1/24) and {pods} in {built:.1?}",
        eps[0].name(),
        SUBNET[0],
        SUBNET[1],
        SUBNET[2],
    );
    let t = Instant::now();
    let socks = eps.iter().map(open_sockets).collect::<Result<Vec<_>, _>>()?;
    let seen = exchange(&eps, &socks)?;
    let ok = report(&eps, &seen)?;
    say!("traffic check took {:.1?}", t.elapsed());
    drop(socks);
    if o.keep {
        keep(&names, eps)?;
        say!(
            "\nkept: try `ip netns exec {} ip addr`, `ip netns exec {} bridge link`; \
             delete with --down --prefix {} (or --down for every kept network)",
            names.pod(1),
            names.node(),
            names.prefix()
        );
    } else {
        let t = Instant::now();
        let n = teardown(eps)?;
        say!(
            "deleted the {n} namespaces this run made in {:.1?} (the kernel destroys them and \
             their devices in the background)",
            t.elapsed()
        );
    }
    Ok(ok)
}

/// The record of the network kept under `names`' prefix.
fn record_path(names: &Names) -> PathBuf {
    Path::new(RECORDS).join(names.prefix())
}

/// Records every namespace (name, nsfs device and inode), then gives them
/// up. The record is written first: if that fails, the namespaces are still
/// owned and deleted as the error unwinds.
fn keep(names: &Names, eps: Vec<Endpoint>) -> Result<(), BoxError> {
    let mut text = format!(
        "# namespaces kept by `pod-network --keep` (pid {}): NAME NSFS-DEV INODE\n",
        std::process::id()
    );
    for e in &eps {
        let id = e.ns.id();
        text.push_str(&format!("{} {} {}\n", e.name(), id.dev, id.ino));
    }
    let path = record_path(names);
    fs::create_dir_all(RECORDS).map_err(|e| format!("creating {RECORDS}: {e}"))?;
    fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    for e in eps {
        drop(e.ns.keep());
    }
    Ok(())
}

/// Deletes what `--keep` runs recorded (only `prefix`'s when given): each
/// namespace that is still the one recorded, by identity.
fn down(dir: &NetnsDir, prefix: Option<&Names>) -> Result<bool, BoxError> {
    let records: Vec<PathBuf> = match prefix {
        Some(names) => vec![record_path(names)],
        None => match fs::read_dir(RECORDS) {
            Ok(rd) => {
                let mut v: Vec<PathBuf> = rd
                    .map(|e| e.map(|e| e.path()))
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("reading {RECORDS}: {e}"))?;
                v.sort();
                v
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("reading {RECORDS}: {e}").into()),
        },
    };
    let mut all_ok = true;
    let mut found = 0;
    for path in records {
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && prefix.is_some() => continue,
            Err(e) => return Err(format!("reading {}: {e}", path.display()).into()),
        };
        found += 1;
        let stem = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut ok = true;
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            ok &= down_one(dir, &stem, line);
        }
        if ok {
            fs::remove_file(&path).map_err(|e| format!("removing {}: {e}", path.display()))?;
        } else {
            say!("kept the record {} (see the errors above)", path.display());
            all_ok = false;
        }
    }
    // Only when empty: other kept networks keep their records.
    let _ = fs::remove_dir(RECORDS);
    if found == 0 {
        match prefix {
            Some(names) => {
                say!("no network was kept with prefix {}: nothing to do", names.prefix())
            }
            None => say!("no kept network: nothing to do"),
        }
    }
    Ok(all_ok)
}

/// One record line, `NAME DEV INO`: deletes NAME if it still holds that
/// namespace. Returns false on an error that may deserve another try.
fn down_one(dir: &NetnsDir, prefix: &str, line: &str) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let parsed = match fields.as_slice() {
        [name, dev, ino] => match (dev.parse::<u64>(), ino.parse::<u64>()) {
            (Ok(dev), Ok(ino)) if name.starts_with(&format!("{prefix}-")) => {
                Some((*name, dev, ino))
            }
            _ => None,
        },
        _ => None,
    };
    let Some((name, dev, ino)) = parsed else {
        eprintln!(
            "warning: ignoring the record line {line:?} (not NAME DEV INO of prefix {prefix})"
        );
        return true;
    };
    let ns = match dir.open(name) {
        Ok(ns) => ns,
        Err(e) if e.is_not_found() => {
            say!("{name}: already gone");
            return true;
        }
        Err(e) => {
            eprintln!("warning: {name}: left alone: {e}");
            return false;
        }
    };
    let id = ns.id();
    if (id.dev, id.ino) != (dev, ino) {
        say!("{name}: left alone: it is {id} now, not the namespace that was kept");
        return true;
    }
    match dir.delete_ns(&ns) {
        Ok(()) => {
            say!("{name}: deleted");
            true
        }
        Err(e) => {
            eprintln!("warning: {name}: {e}");
            false
        }
    }
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            say!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("pod-network: {msg}");
            return ExitCode::from(2);
        }
    };
    // Ctrl-C, SIGTERM and SIGHUP delete the namespaces this run owns (by
    // identity) and then end the process with that signal.
    if let Err(e) = nslink::netns::cleanup_on_signals() {
        eprintln!("pod-network: {e}");
        return ExitCode::FAILURE;
    }
    let dir = NetnsDir::default();
    match run(&o, &dir) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("pod-network: some checks failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("pod-network: error: {e}");
            ExitCode::FAILURE
        }
    }
}
