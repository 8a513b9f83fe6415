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
//! sudo cargo run --release --example pod-network -- --down    # remove a kept network
//! ```
//!
//! Without `--keep`, everything is removed at the end, also after a failure
//! or Ctrl-C; a run always starts by removing what an earlier run left.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nslink::NetnsDir;

#[path = "common/podnet.rs"]
mod podnet;

use podnet::{BRIDGE, BoxError, Endpoint, NODE, POD_PREFIX, SUBNET, build, remove_all};
const PORT: u16 = 7777;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

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

extern "C" fn on_signal(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn check_interrupt() -> Result<(), BoxError> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err("interrupted".into());
    }
    Ok(())
}

struct Options {
    pods: usize,
    keep: bool,
    down: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options { pods: 4, keep: false, down: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--pods" => {
                let v = args.next().ok_or("--pods needs a number")?;
                o.pods = v.parse().map_err(|_| format!("--pods: {v:?} is not a number"))?;
                if !(1..=250).contains(&o.pods) {
                    return Err("--pods must be between 1 and 250".into());
                }
            }
            "--keep" => o.keep = true,
            "--down" => o.down = true,
            "-h" | "--help" => {
                return Err("usage: pod-network [--pods N] [--keep | --down]".into());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(o)
}

/// Removes what was built when dropped, unless disarmed (`--keep`).
struct Teardown<'a> {
    dir: &'a NetnsDir,
    armed: bool,
}

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        if self.armed {
            let t = Instant::now();
            let n = remove_all(self.dir);
            say!("removed {n} namespaces (and every device in them) in {:.1?}", t.elapsed());
        }
    }
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
            check_interrupt()?;
            for from in senders.clone() {
                for (to, target) in eps.iter().enumerate() {
                    if from != to && !seen.contains_key(&(from, to)) {
                        let msg = format!("{from}>{to}");
                        let dst = SocketAddr::new(target.ip.into(), PORT);
                        socks[from].tx.send_to(msg.as_bytes(), dst)?;
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
    if n <= 9 {
        say_part!(
            "\nsource address seen by the receiver (ok = the sender's own IP)\n{:>10}",
            "from\\to"
        );
        for e in eps {
            say_part!("{:>9}", e.label);
        }
        say!("");
        for (from, e) in eps.iter().enumerate() {
            say_part!("{:>10}", e.label);
            for to in 0..n {
                say_part!("{:>9}", if from == to { "." } else { cell(from, to).0 });
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
    let leftovers = remove_all(dir);
    if leftovers > 0 {
        say!("removed {leftovers} namespaces left by an earlier run");
    }
    if o.down {
        return Ok(true);
    }
    let mut teardown = Teardown { dir, armed: true };
    let t = Instant::now();
    let eps = build(dir, o.pods, check_interrupt)?;
    let built = t.elapsed();
    say!(
        "built node {NODE} with bridge {BRIDGE} ({}.{}.{}.1/24) and {} pods in {built:.1?}",
        SUBNET[0],
        SUBNET[1],
        SUBNET[2],
        o.pods
    );
    let t = Instant::now();
    let socks = eps.iter().map(open_sockets).collect::<Result<Vec<_>, _>>()?;
    let seen = exchange(&eps, &socks)?;
    let ok = report(&eps, &seen)?;
    say!("traffic check took {:.1?}", t.elapsed());
    if o.keep {
        teardown.armed = false;
        say!(
            "\nkept: try `ip netns exec {POD_PREFIX}1 ip addr`, `ip netns exec {NODE} bridge link`; \
             remove with --down"
        );
    }
    Ok(ok)
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::empty(), SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe; no other handler is replaced behind anyone's back
        // (this is the program's main function).
        unsafe {
            let _ = sigaction(sig, &action);
        }
    }
    let dir = NetnsDir::default();
    match run(&o, &dir) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("some checks failed");
            ExitCode::FAILURE
        }
        Err(_) if INTERRUPTED.load(Ordering::SeqCst) => {
            eprintln!("interrupted; everything that was built has been removed");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
