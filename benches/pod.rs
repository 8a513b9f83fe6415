//! Benchmark: build and tear down a Kubernetes-style node with 50 pods,
//! exactly what the `pod-network` example builds, four ways in the same
//! run:
//!
//! - **nslink**: `podnet::build` (the example's own code, included from
//!   `examples/common/podnet.rs`), then `podnet::teardown` deletes each
//!   namespace by identity (`OwnedNetns::delete`) and closes the sockets;
//! - **ip per op**: one `ip` process per operation (`ip netns add`,
//!   `ip -n NS link add …`, `ip -n NS addr add …`, …; the node's
//!   `ip_forward` through `ip netns exec NODE sysctl`), torn down with one
//!   `ip netns del` per namespace;
//! - **ip -batch**: the same commands fed to as few `ip` processes as
//!   batch mode allows. A batch line cannot carry `-n NS` (`Object "-n" is
//!   unknown`), and a batch `ip` can only switch namespace for a forked
//!   `netns exec` child, so the form is: one `ip -batch -` with every
//!   `netns add`, one `ip -n NODE -batch -` for the node (bridge, address,
//!   the `sysctl` through a `netns exec` line, and every veth, created with
//!   its peer directly in the pod), and one `ip -n POD -batch -` per pod;
//!   teardown is one `ip -batch -` with every `netns del`;
//! - **rtnetlink+netns-rs**: the same network with the crates a Rust user
//!   would pick instead (`pod/rtnl.rs`): netns-rs makes, enters and removes
//!   the named namespaces, rtnetlink over a tokio runtime makes the bridge,
//!   the veths, the addresses and the routes.
//!
//! Every teardown is timed until it is *settled*: until the kernel has
//! destroyed every namespace of the network, their devices (the host-side
//! veth ends among them) included, not just until the namespace files are
//! unmounted (`pod/settle.rs` says how that is watched). The rows of the
//! suite's report are build + settled teardown, build, and settled teardown.
//!
//! Diagnostic contenders (marked `*`, not compared in the verdict):
//! **nslink phased** makes the same calls as `podnet::build` with a clock
//! between them, to show where nslink's time goes; **nslink group-del**,
//! **nslink sock-first** and **nslink 2-threads** are the teardown and build
//! variants that were tried (`podnet::teardown_group_first`,
//! `teardown_sockets_first`, `build_parallel`); **bare netns** makes and
//! deletes as many empty named namespaces, the kernel's floor for any
//! program that builds this network. `NSLINK_BENCH_ALT=1` adds two more
//! `ip -batch` forms that were tried: one `ip -batch -` whose
//! `netns exec NS ip -batch FILE` lines configure the node and the pods,
//! and the per-namespace form with all pod batches running in parallel.
//!
//! Contenders are interleaved round-robin (the starting contender rotates
//! each round), with an untimed pause after each turn. Results are
//! medians with p10 and p90 over the rounds. A warm-up round checks, with
//! `ip -j … link/addr/route` and `ip_forward` read inside each namespace,
//! that every contender leaves the same state as nslink (names, bridge MAC
//! and STP, ports, veth peers, addresses, routes, sysctl), and the bench
//! stops with an error when they differ.
//!
//! Everything runs on one dedicated thread that first moves into a new
//! network and mount namespace, makes `/` recursively private and mounts a
//! fresh tmpfs on `/run`: the `/run/netns` of nslink and of the `ip`
//! processes (spawned from that thread, so they inherit its namespaces) is
//! private, the host's namespaces and devices are never touched, and all of
//! it vanishes when the thread ends. The bench sends no traffic; the kernel
//! itself sends IGMP/MLD/DAD messages as interfaces come up (as in the
//! example), which leaves a few `NOARP` multicast entries per namespace in
//! the (global) neighbour table; the warm-up counts them, and they go with
//! the namespaces.
//!
//! Run as root: `cargo bench --bench pod`. Environment:
//! `NSLINK_BENCH_QUICK=1` (5 pods, 2 rounds: a smoke run),
//! `NSLINK_BENCH_ROUNDS=N`, `NSLINK_BENCH_PODS=N` (1..=250),
//! `NSLINK_BENCH_SETTLE_MS=N` (pause after each turn), `NSLINK_BENCH_ALT=1`,
//! `NSLINK_BENCH_ONLY=LABEL,…` (only these contenders, and nslink),
//! `NSLINK_BENCH_TRACE=FILE` (see `trace_mark`).

#[path = "../examples/common/podnet.rs"]
mod podnet;

mod common;
#[path = "pod/json.rs"]
mod json;
#[path = "pod/rtnl.rs"]
mod rtnl;
#[path = "pod/settle.rs"]
mod settle;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nslink::netns::OwnedNetns;
use nslink::{Bridge, IpNet, LinkBuilder, NetnsDir, NsName, Route, RouteSocket};

use podnet::{BRIDGE, BRIDGE_MAC, BoxError, Names, SUBNET};

/// The name prefix of the bench's namespaces (in its private `/run/netns`).
const PREFIX: &str = "nslink";
/// `podnet::Names` of [`PREFIX`]: the node namespace…
const NODE: &str = "nslink-node";
/// …and the pods' (`nslink-pod-1`, …).
const POD_PREFIX: &str = "nslink-pod-";

fn names() -> Res<Names> {
    let names = Names::new(PREFIX)?;
    if names.node() != NODE || names.pod(1) != format!("{POD_PREFIX}1") {
        return Err("podnet::Names and the bench's NODE/POD_PREFIX disagree".into());
    }
    Ok(names)
}

type Res<T> = Result<T, BoxError>;

/// Where the namespaces live (inside the private tmpfs on `/run`).
const NETNS_DIR: &str = "/run/netns";
/// Scratch directory of the `netns exec … ip -batch FILE` form.
const SCRATCH: &str = "/run/nslink-podbench";

// ---------------------------------------------------------------------------
// Configuration

#[derive(Debug, Clone)]
struct Config {
    quick: bool,
    pods: usize,
    rounds: usize,
    settle: Duration,
    alt: bool,
}

fn env_num(key: &str) -> Res<Option<u64>> {
    match std::env::var(key) {
        Ok(v) if !v.is_empty() => {
            Ok(Some(v.parse().map_err(|_| format!("{key}={v:?} is not a number"))?))
        }
        _ => Ok(None),
    }
}

fn env_flag(key: &str) -> bool {
    std::env::var(key).is_ok_and(|v| !v.is_empty() && v != "0")
}

impl Config {
    fn from_env() -> Res<Config> {
        let quick = env_flag("NSLINK_BENCH_QUICK");
        let mut cfg = if quick {
            Config { quick, pods: 5, rounds: 2, settle: Duration::from_millis(50), alt: false }
        } else {
            Config { quick, pods: 50, rounds: 15, settle: Duration::from_millis(100), alt: false }
        };
        if let Some(n) = env_num("NSLINK_BENCH_ROUNDS")? {
            cfg.rounds = (n as usize).max(1);
        }
        if let Some(n) = env_num("NSLINK_BENCH_PODS")? {
            if !(1..=250).contains(&n) {
                return Err("NSLINK_BENCH_PODS must be between 1 and 250".into());
            }
            cfg.pods = n as usize;
        }
        if let Some(ms) = env_num("NSLINK_BENCH_SETTLE_MS")? {
            cfg.settle = Duration::from_millis(ms);
        }
        cfg.alt = env_flag("NSLINK_BENCH_ALT");
        Ok(cfg)
    }
}

// ---------------------------------------------------------------------------
// Contenders

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Nslink,
    Ip,
    Batch,
    Rtnl,
    NslinkPhased,
    NslinkGroupFirst,
    NslinkSocketsFirst,
    NslinkParallel,
    BareNetns,
    BatchExec,
    BatchParallel,
}

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::Nslink => "nslink",
            Contender::Ip => "ip per op",
            Contender::Batch => "ip -batch",
            Contender::Rtnl => "rtnetlink+netns-rs",
            Contender::NslinkPhased => "nslink phased*",
            Contender::NslinkGroupFirst => "nslink group-del*",
            Contender::NslinkSocketsFirst => "nslink sock-first*",
            Contender::NslinkParallel => "nslink 2-threads*",
            Contender::BareNetns => "bare netns*",
            Contender::BatchExec => "batch exec*",
            Contender::BatchParallel => "batch parallel*",
        }
    }
}

/// Time spent per phase of one build + teardown, in first-seen order.
#[derive(Debug, Default, Clone)]
struct Phases(Vec<(&'static str, Duration)>);

impl Phases {
    fn add(&mut self, name: &'static str, d: Duration) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += d,
            None => self.0.push((name, d)),
        }
    }
}

/// A clock that hands out the time since its last lap.
struct Lap(Instant);

impl Lap {
    fn start() -> Lap {
        Lap(Instant::now())
    }
    fn charge(&mut self, ph: &mut Phases, name: &'static str) {
        let now = Instant::now();
        ph.add(name, now - self.0);
        self.0 = now;
    }
}

/// One measured build + teardown.
#[derive(Debug, Clone)]
struct Sample {
    build: Duration,
    /// Until the contender's teardown returned.
    teardown: Duration,
    /// From then until the kernel had destroyed everything (see `settle`).
    settle: Duration,
    phases: Phases,
}

impl Sample {
    /// The teardown, settled.
    fn settled(&self) -> Duration {
        self.teardown + self.settle
    }
    fn total(&self) -> Duration {
        self.build + self.settled()
    }
}

/// What a build leaves for its teardown to drop.
enum Held {
    Nothing,
    Endpoints(Vec<podnet::Endpoint>),
    Handles(Vec<(OwnedNetns, RouteSocket)>),
    Namespaces(Vec<OwnedNetns>),
    Rtnl(rtnl::Built),
}

fn gateway() -> Ipv4Addr {
    Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], 1)
}

fn pod_name(i: usize) -> String {
    format!("{POD_PREFIX}{i}")
}

/// Every namespace name of a build, sorted.
fn all_names(pods: usize) -> Vec<String> {
    let mut names: Vec<String> =
        std::iter::once(NODE.to_string()).chain((1..=pods).map(pod_name)).collect();
    names.sort();
    names
}

// --- ip command lines (shared by the per-op and batch forms) ---------------

fn node_commands() -> Vec<String> {
    vec![
        "link set lo up".into(),
        format!("link add {BRIDGE} address {BRIDGE_MAC} up type bridge stp_state 0"),
        format!("addr add {}/24 brd + dev {BRIDGE}", gateway()),
    ]
}

/// The node's `ip_forward`, as a command run through `ip netns exec`.
const SYSCTL: [&str; 3] = ["sysctl", "-qw", "net.ipv4.ip_forward=1"];

fn veth_command(i: usize) -> String {
    format!("link add veth{i} up master {BRIDGE} type veth peer name eth0 netns {}", pod_name(i))
}

fn pod_commands(i: usize) -> Vec<String> {
    vec![
        "link set lo up".into(),
        "link set eth0 up".into(),
        format!("addr add {}/24 brd + dev eth0", podnet::pod_ip(i)),
        format!("route add default via {}", gateway()),
    ]
}

/// Runs `ip ARGS…` and fails with its stderr when it fails.
fn ip(args: &[&str]) -> Res<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("spawning ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// `ip` with a command line split on spaces (the lines above have no
/// quoting).
fn ip_line(pre: &[&str], line: &str) -> Res<()> {
    let args: Vec<&str> = pre.iter().copied().chain(line.split(' ')).collect();
    ip(&args)
}

/// Starts `ip PRE… -batch -` and writes `script` to it.
fn spawn_batch(pre: &[&str], script: &str) -> Res<(Child, String)> {
    let what = format!("ip {} -batch -", pre.join(" "));
    let mut child = Command::new("ip")
        .args(pre)
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {what}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin pipe")?;
    stdin.write_all(script.as_bytes()).map_err(|e| format!("writing to {what}: {e}"))?;
    drop(stdin);
    Ok((child, what))
}

fn wait_batch((child, what): (Child, String)) -> Res<()> {
    let out = child.wait_with_output().map_err(|e| format!("waiting for {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{what}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

fn batch(pre: &[&str], script: &str) -> Res<()> {
    wait_batch(spawn_batch(pre, script)?)
}

fn script(lines: impl IntoIterator<Item = String>) -> String {
    lines.into_iter().map(|l| l + "\n").collect()
}

// --- builds ----------------------------------------------------------------

fn build_ip(pods: usize, ph: &mut Phases) -> Res<()> {
    let mut lap = Lap::start();
    ip(&["netns", "add", NODE])?;
    lap.charge(ph, "netns add");
    for line in node_commands() {
        ip_line(&["-n", NODE], &line)?;
    }
    let sysctl: Vec<&str> = ["netns", "exec", NODE].into_iter().chain(SYSCTL).collect();
    ip(&sysctl)?;
    lap.charge(ph, "node setup");
    for i in 1..=pods {
        let pod = pod_name(i);
        ip(&["netns", "add", &pod])?;
        lap.charge(ph, "netns add");
        ip_line(&["-n", NODE], &veth_command(i))?;
        lap.charge(ph, "veth add");
        for line in pod_commands(i) {
            ip_line(&["-n", &pod], &line)?;
        }
        lap.charge(ph, "pod setup");
    }
    Ok(())
}

/// `netns add` for every namespace, in one `ip -batch -`.
fn batch_netns_add(pods: usize) -> Res<()> {
    batch(
        &[],
        &script(
            std::iter::once(NODE.to_string())
                .chain((1..=pods).map(pod_name))
                .map(|n| format!("netns add {n}")),
        ),
    )
}

/// The node's batch: bridge, address, sysctl (through `netns exec`), veths.
fn node_script(pods: usize) -> String {
    let sysctl = format!("netns exec {NODE} {}", SYSCTL.join(" "));
    script(node_commands().into_iter().chain([sysctl]).chain((1..=pods).map(veth_command)))
}

fn build_batch(pods: usize, ph: &mut Phases) -> Res<()> {
    let mut lap = Lap::start();
    batch_netns_add(pods)?;
    lap.charge(ph, "A: netns adds");
    batch(&["-n", NODE], &node_script(pods))?;
    lap.charge(ph, "B: node + veths");
    for i in 1..=pods {
        batch(&["-n", &pod_name(i)], &script(pod_commands(i)))?;
    }
    lap.charge(ph, "C: pod batches");
    Ok(())
}

fn build_batch_parallel(pods: usize, ph: &mut Phases) -> Res<()> {
    let mut lap = Lap::start();
    batch_netns_add(pods)?;
    lap.charge(ph, "A: netns adds");
    batch(&["-n", NODE], &node_script(pods))?;
    lap.charge(ph, "B: node + veths");
    let children = (1..=pods)
        .map(|i| spawn_batch(&["-n", &pod_name(i)], &script(pod_commands(i))))
        .collect::<Vec<_>>();
    let mut first_error = None;
    for child in children {
        if let Err(e) = child.and_then(wait_batch) {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    lap.charge(ph, "C: pod batches");
    Ok(())
}

fn build_batch_exec(pods: usize, ph: &mut Phases) -> Res<()> {
    let mut lap = Lap::start();
    let file = |name: &str| format!("{SCRATCH}/{name}.batch");
    fs::write(file(NODE), node_script(pods))?;
    for i in 1..=pods {
        fs::write(file(&pod_name(i)), script(pod_commands(i)))?;
    }
    lap.charge(ph, "write files");
    let names: Vec<String> =
        std::iter::once(NODE.to_string()).chain((1..=pods).map(pod_name)).collect();
    let adds = names.iter().map(|n| format!("netns add {n}"));
    let execs = names.iter().map(|n| format!("netns exec {n} ip -batch {}", file(n)));
    batch(&[], &script(adds.chain(execs)))?;
    lap.charge(ph, "one ip -batch");
    Ok(())
}

/// The calls of `podnet::build`, one by one, with a clock between them.
fn build_nslink_phased(pods: usize, ph: &mut Phases) -> Res<Vec<(OwnedNetns, RouteSocket)>> {
    let dir = NetnsDir::default();
    let gw = gateway();
    let mut lap = Lap::start();
    let node = dir.create_owned(NODE)?;
    lap.charge(ph, "netns create");
    let nl = RouteSocket::open_in(&node)?;
    lap.charge(ph, "socket open");
    nl.set_up("lo")?;
    let bridge = Bridge::builder(BRIDGE).stp(false).mac(BRIDGE_MAC.parse()?).up().create(&nl)?;
    nl.add_address(bridge.index(), IpNet::new(gw.into(), 24)?)?;
    lap.charge(ph, "node setup");
    node.set_sysctl("net.ipv4.ip_forward", "1")?;
    lap.charge(ph, "sysctl");
    let default_route = Route::default_via(gw.into());
    let mut held = Vec::with_capacity(pods + 1);
    for i in 1..=pods {
        let name = NsName::new(&pod_name(i))?;
        let pod = dir.create_owned(&name)?;
        lap.charge(ph, "netns create");
        let veth = LinkBuilder::veth(format!("veth{i}"), "eth0")
            .peer_netns(&pod)
            .master(bridge.index())
            .group(podnet::POD_GROUP)
            .up()
            .create(&nl)?;
        lap.charge(ph, "veth create");
        let pnl = RouteSocket::open_in(&pod)?;
        lap.charge(ph, "socket open");
        let eth0 = veth.parent_index().ok_or("no veth peer index")?;
        pnl.set_up("lo")?;
        pnl.set_up(eth0)?;
        pnl.add_address(eth0, IpNet::new(podnet::pod_ip(i).into(), 24)?)?;
        pnl.add_route(&default_route)?;
        lap.charge(ph, "pod setup");
        held.push((pod, pnl));
    }
    held.insert(0, (node, nl));
    Ok(held)
}

fn build(c: Contender, pods: usize, ph: &mut Phases) -> Res<Held> {
    Ok(match c {
        Contender::Nslink | Contender::NslinkGroupFirst | Contender::NslinkSocketsFirst => {
            Held::Endpoints(podnet::build(&NetnsDir::default(), &names()?, pods)?)
        }
        Contender::NslinkParallel => {
            Held::Endpoints(podnet::build_parallel(&NetnsDir::default(), &names()?, pods)?)
        }
        Contender::Rtnl => Held::Rtnl(rtnl::build(pods)?),
        Contender::BareNetns => {
            let dir = NetnsDir::default();
            let mut lap = Lap::start();
            let made = all_names(pods)
                .iter()
                .map(|n| Ok(dir.create_owned(NsName::new(n)?)?))
                .collect::<Res<Vec<_>>>()?;
            lap.charge(ph, "netns create");
            Held::Namespaces(made)
        }
        Contender::NslinkPhased => Held::Handles(build_nslink_phased(pods, ph)?),
        Contender::Ip => {
            build_ip(pods, ph)?;
            Held::Nothing
        }
        Contender::Batch => {
            build_batch(pods, ph)?;
            Held::Nothing
        }
        Contender::BatchExec => {
            build_batch_exec(pods, ph)?;
            Held::Nothing
        }
        Contender::BatchParallel => {
            build_batch_parallel(pods, ph)?;
            Held::Nothing
        }
    })
}

fn teardown(c: Contender, held: Held, pods: usize, ph: &mut Phases) -> Res<()> {
    let mut lap = Lap::start();
    match c {
        Contender::Nslink
        | Contender::NslinkGroupFirst
        | Contender::NslinkSocketsFirst
        | Contender::NslinkParallel => {
            let Held::Endpoints(endpoints) = held else { return Err("no endpoints".into()) };
            let count = match c {
                Contender::NslinkGroupFirst => podnet::teardown_group_first(endpoints)?,
                Contender::NslinkSocketsFirst => podnet::teardown_sockets_first(endpoints)?,
                _ => podnet::teardown(endpoints)?,
            };
            lap.charge(ph, "teardown");
            if count != pods + 1 {
                return Err(format!("deleted {count} namespaces, not {}", pods + 1).into());
            }
        }
        Contender::NslinkPhased | Contender::BareNetns => {
            // What `podnet::teardown` does: each namespace deleted by
            // identity, then every socket closed.
            let (namespaces, sockets): (Vec<OwnedNetns>, Vec<RouteSocket>) = match held {
                Held::Handles(handles) => handles.into_iter().unzip(),
                Held::Namespaces(namespaces) => (namespaces, Vec::new()),
                _ => return Err("nothing to tear down".into()),
            };
            let count = namespaces.len();
            for ns in namespaces {
                ns.delete()?;
            }
            lap.charge(ph, "delete entries");
            drop(sockets);
            lap.charge(ph, "drop handles");
            if count != pods + 1 {
                return Err(format!("deleted {count} namespaces, not {}", pods + 1).into());
            }
        }
        Contender::Rtnl => {
            let Held::Rtnl(built) = held else { return Err("nothing built".into()) };
            let count = rtnl::teardown(built)?;
            lap.charge(ph, "teardown");
            if count != pods + 1 {
                return Err(format!("removed {count} namespaces, not {}", pods + 1).into());
            }
        }
        Contender::Ip => {
            for name in all_names(pods) {
                ip(&["netns", "del", &name])?;
            }
            lap.charge(ph, "netns del");
        }
        Contender::Batch | Contender::BatchExec | Contender::BatchParallel => {
            batch(&[], &script(all_names(pods).into_iter().map(|n| format!("netns del {n}"))))?;
            lap.charge(ph, "netns del batch");
        }
    }
    Ok(())
}

/// Writes `msg` to the ftrace marker named by `NSLINK_BENCH_TRACE` (e.g.
/// `/sys/kernel/tracing/instances/pod/trace_marker`), if set: lines up the
/// bench's phases with kernel events (`workqueue_execute_start` of
/// `cleanup_net`) in the trace.
fn trace_mark(msg: &str) {
    if let Some(path) = std::env::var_os("NSLINK_BENCH_TRACE") {
        let _ = fs::write(path, msg);
    }
}

/// The entries left in the namespace directory.
fn leftovers() -> Res<Vec<String>> {
    match fs::read_dir(NETNS_DIR) {
        Ok(rd) => Ok(rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// One build + teardown; with `check`, also the state it built (untimed).
/// What the warm-up learns about a contender's network.
struct Checked {
    /// The canonical state (see [`snapshot`]).
    lines: Vec<String>,
    /// Neighbour entries in all its namespaces, and how many of them are
    /// not `NOARP` (i.e. not the multicast entries the kernel makes for its
    /// own IGMP/MLD/DAD messages).
    neighbours: (usize, usize),
}

fn run_once(
    c: Contender,
    pods: usize,
    check: bool,
    watch: &mut settle::Settle,
) -> Res<(Sample, Option<Checked>)> {
    let before = leftovers()?;
    if !before.is_empty() {
        return Err(format!(
            "{}: {NETNS_DIR} is not empty before the build: {before:?}",
            c.label()
        )
        .into());
    }
    let mut phases = Phases::default();
    let t = Instant::now();
    let held = build(c, pods, &mut phases).map_err(|e| format!("{} build: {e}", c.label()))?;
    let build_time = t.elapsed();
    let state = if check {
        let lines = snapshot().map_err(|e| format!("{} check: {e}", c.label()))?;
        Some(Checked { lines, neighbours: neighbours()? })
    } else {
        None
    };
    let paths: Vec<String> = all_names(pods).iter().map(|n| format!("{NETNS_DIR}/{n}")).collect();
    let armed = watch.arm(&paths).map_err(|e| format!("{} settle watch: {e}", c.label()))?;
    trace_mark(&format!("{} teardown start", c.label()));
    let t = Instant::now();
    teardown(c, held, pods, &mut phases).map_err(|e| format!("{} teardown: {e}", c.label()))?;
    let teardown_time = t.elapsed();
    trace_mark(&format!("{} teardown returned", c.label()));
    watch.wait(armed).map_err(|e| format!("{} settling: {e}", c.label()))?;
    let settle_time = t.elapsed() - teardown_time;
    trace_mark(&format!("{} settled", c.label()));
    let after = leftovers()?;
    if !after.is_empty() {
        return Err(format!("{}: left {after:?} in {NETNS_DIR}", c.label()).into());
    }
    let sample = Sample { build: build_time, teardown: teardown_time, settle: settle_time, phases };
    Ok((sample, state))
}

// ---------------------------------------------------------------------------
// The state check: what `ip` sees, in a canonical, sortable form.

fn ip_json(args: &[&str]) -> Res<json::Value> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("spawning ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return Ok(json::Value::Arr(Vec::new()));
    }
    Ok(json::parse(&text).map_err(|e| format!("`ip {}`: {e}", args.join(" ")))?)
}

/// One link's line; `rest` is master, MAC, MTU, STP state, port state and
/// peer ("-" when not applicable).
fn link_line(ns: &str, name: &str, kind: &str, up: bool, rest: [&str; 6]) -> String {
    let [master, mac, mtu, stp, port, peer] = rest;
    format!(
        "{ns} link {name} kind={kind} up={up} master={master} mac={mac} mtu={mtu} stp={stp} port={port} peer={peer}"
    )
}

fn addr_line(ns: &str, dev: &str, family: &str, net: &str, brd: &str, scope: &str) -> String {
    format!("{ns} addr {dev} {family} {net} brd={brd} scope={scope}")
}

/// Neighbour entries in every namespace of `/run/netns`: (all, not NOARP).
fn neighbours() -> Res<(usize, usize)> {
    let (mut all, mut other) = (0, 0);
    for ns in ip_json(&["-j", "netns", "list"])?.items() {
        for n in ip_json(&["-n", &ns.field("name"), "-j", "neigh", "show", "nud", "all"])?.items() {
            all += 1;
            let noarp =
                n.get("state").is_some_and(|s| s.items().iter().any(|x| x.text() == Some("NOARP")));
            other += usize::from(!noarp);
        }
    }
    Ok((all, other))
}

/// Every namespace in `/run/netns` as `ip` sees it: links (kind, admin
/// state, master, MAC except for veths, whose MACs are random, bridge STP,
/// port state, and the veth peer as namespace/name), addresses (without
/// IPv6 link-local ones, derived from the random MACs), all IPv4 routes of
/// all tables, and `net.ipv4.ip_forward` read inside the namespace.
fn snapshot() -> Res<Vec<String>> {
    let mut names: Vec<String> =
        ip_json(&["-j", "netns", "list"])?.items().iter().map(|n| n.field("name")).collect();
    names.sort();
    let mut lines: Vec<String> = names.iter().map(|n| format!("netns {n}")).collect();
    // Links of every namespace first, so veth peers can be resolved.
    let mut links = BTreeMap::new();
    for ns in &names {
        links.insert(ns.clone(), ip_json(&["-n", ns, "-d", "-j", "link", "show"])?);
    }
    let index_name = |ns: &str, index: &str| -> String {
        links
            .get(ns)
            .and_then(|l| l.items().iter().find(|x| x.field("ifindex") == index))
            .map_or("?".into(), |x| x.field("ifname"))
    };
    for ns in &names {
        // nsid -> name, as seen from `ns` (after the link dump assigned them).
        let ids: BTreeMap<String, String> = ip_json(&["-n", ns, "-j", "netns", "list-id"])?
            .items()
            .iter()
            .map(|x| (x.field("nsid"), x.field("name")))
            .collect();
        for l in links[ns].items() {
            let name = l.field("ifname");
            let info = l.get("linkinfo");
            let kind = info.map_or_else(|| l.field("link_type"), |i| i.field("info_kind"));
            let up =
                l.get("flags").is_some_and(|f| f.items().iter().any(|x| x.text() == Some("UP")));
            let mac = if kind == "veth" { "random".into() } else { l.field("address") };
            let stp =
                info.and_then(|i| i.get("info_data")).map_or("-".into(), |d| d.field("stp_state"));
            let port = info
                .and_then(|i| i.get("info_slave_data"))
                .map_or("-".into(), |d| d.field("state"));
            let peer = match (l.get("link_index"), l.get("link_netnsid")) {
                (Some(index), Some(nsid)) => {
                    let index = index.text().unwrap_or("?");
                    let nsid = nsid.text().unwrap_or("?");
                    match ids.get(nsid) {
                        Some(peer_ns) => format!("{peer_ns}/{}", index_name(peer_ns, index)),
                        None => format!("nsid{nsid}/index{index}"),
                    }
                }
                (Some(index), None) => {
                    format!("{ns}/{}", index_name(ns, index.text().unwrap_or("?")))
                }
                _ => "-".into(),
            };
            let (master, mtu) = (l.field("master"), l.field("mtu"));
            lines.push(link_line(ns, &name, &kind, up, [&master, &mac, &mtu, &stp, &port, &peer]));
        }
        for l in ip_json(&["-n", ns, "-j", "addr", "show"])?.items() {
            for a in l.get("addr_info").map_or(&[][..], |a| a.items()) {
                if a.field("family") == "inet6" && a.field("scope") == "link" {
                    continue;
                }
                let net = format!("{}/{}", a.field("local"), a.field("prefixlen"));
                lines.push(addr_line(
                    ns,
                    &l.field("ifname"),
                    &a.field("family"),
                    &net,
                    &a.field("broadcast"),
                    &a.field("scope"),
                ));
            }
        }
        for r in ip_json(&["-n", ns, "-d", "-j", "-4", "route", "show", "table", "all"])?.items() {
            let keys = ["type", "dst", "gateway", "dev", "table", "protocol", "scope", "prefsrc"];
            let fields: Vec<String> = keys.iter().map(|k| format!("{k}={}", r.field(k))).collect();
            lines.push(format!("{ns} route {}", fields.join(" ")));
        }
        let out = Command::new("ip")
            .args(["netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward"])
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "reading ip_forward in {ns}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        lines.push(format!(
            "{ns} sysctl net.ipv4.ip_forward={}",
            String::from_utf8_lossy(&out.stdout).trim()
        ));
    }
    lines.sort();
    Ok(lines)
}

/// The facts the pod network must show, checked on nslink's state (the
/// other contenders are then compared line by line with it).
const LO_MAC: &str = "00:00:00:00:00:00";

fn spec_check(state: &[String], pods: usize) -> Res<()> {
    let gw = gateway();
    let brd = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], 255).to_string();
    let mut want = vec![
        format!("netns {NODE}"),
        link_line(NODE, "lo", "loopback", true, ["-", LO_MAC, "65536", "-", "-", "-"]),
        link_line(NODE, BRIDGE, "bridge", true, ["-", BRIDGE_MAC, "1500", "0", "-", "-"]),
        addr_line(NODE, BRIDGE, "inet", &format!("{gw}/24"), &brd, "global"),
        format!("{NODE} sysctl net.ipv4.ip_forward=1"),
    ];
    for i in 1..=pods {
        let pod = pod_name(i);
        let veth = format!("veth{i}");
        want.extend([
            format!("netns {pod}"),
            link_line(NODE, &veth, "veth", true, [BRIDGE, "random", "1500", "-", "forwarding", &format!("{pod}/eth0")]),
            link_line(&pod, "lo", "loopback", true, ["-", LO_MAC, "65536", "-", "-", "-"]),
            link_line(&pod, "eth0", "veth", true, ["-", "random", "1500", "-", "-", &format!("{NODE}/{veth}")]),
            addr_line(&pod, "eth0", "inet", &format!("{}/24", podnet::pod_ip(i)), &brd, "global"),
            format!(
                "{pod} route type=unicast dst=default gateway={gw} dev=eth0 table=main protocol=boot scope=global prefsrc=-"
            ),
            format!("{pod} sysctl net.ipv4.ip_forward=0"),
        ]);
    }
    let missing: Vec<&String> = want.iter().filter(|w| !state.contains(w)).collect();
    let netns = state.iter().filter(|l| l.starts_with("netns ")).count();
    let links = state.iter().filter(|l| l.contains(" link ")).count();
    if !missing.is_empty() || netns != pods + 1 || links != 2 + pods + 2 * pods {
        let mut msg = format!(
            "nslink's network is not the pod network ({netns} namespaces, {links} links); missing:\n"
        );
        for m in missing.iter().take(20) {
            msg += &format!("  {m}\n");
        }
        msg += "state (first 40 lines):\n";
        for l in state.iter().take(40) {
            msg += &format!("  {l}\n");
        }
        return Err(msg.into());
    }
    Ok(())
}

/// Fails with a diff when `other` differs from the reference state.
fn compare(reference: &[String], label: &str, other: &[String]) -> Res<()> {
    if reference == other {
        return Ok(());
    }
    let only_ref: Vec<&String> = reference.iter().filter(|l| !other.contains(l)).collect();
    let only_other: Vec<&String> = other.iter().filter(|l| !reference.contains(l)).collect();
    let mut msg = format!(
        "END STATE MISMATCH: {label} differs from nslink ({} lines only in nslink's, {} only in {label}'s)\n",
        only_ref.len(),
        only_other.len()
    );
    for l in only_ref.iter().take(15) {
        msg += &format!("  - {l}\n");
    }
    for l in only_other.iter().take(15) {
        msg += &format!("  + {l}\n");
    }
    Err(msg.into())
}

// ---------------------------------------------------------------------------
// Isolation

/// Isolates the calling thread (see `common::isolate`), then checks that the
/// `ip` processes it starts see the same empty namespace.
fn isolate() -> Res<()> {
    common::isolate().map_err(|e| e.to_string())?;
    // The `ip` children see the same (private, empty) network namespace.
    let links: Vec<String> =
        ip_json(&["-j", "link", "show"])?.items().iter().map(|l| l.field("ifname")).collect();
    if links != ["lo"] {
        return Err(format!("the bench namespace should hold only lo, ip sees {links:?}").into());
    }
    fs::create_dir_all(SCRATCH)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Statistics and output

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The `q` quantile (0..=1) of `values`, linearly interpolated.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// "median (p10..p90)" columns.
fn spread(values: &[f64]) -> String {
    format!("{:>8.1} {:>7.1} {:>7.1}", median(values), quantile(values, 0.1), quantile(values, 0.9))
}

struct Results {
    contenders: Vec<Contender>,
    samples: BTreeMap<&'static str, Vec<Sample>>,
    /// The settle probe's own destruction, once per round (ms).
    probe: Vec<f64>,
}

impl Results {
    fn series(&self, c: Contender, f: impl Fn(&Sample) -> f64) -> Vec<f64> {
        self.samples[c.label()].iter().map(f).collect()
    }
    fn build(&self, c: Contender) -> Vec<f64> {
        self.series(c, |s| ms(s.build))
    }
    fn teardown(&self, c: Contender) -> Vec<f64> {
        self.series(c, |s| ms(s.teardown))
    }
    fn settled(&self, c: Contender) -> Vec<f64> {
        self.series(c, |s| ms(s.settled()))
    }
    fn total(&self, c: Contender) -> Vec<f64> {
        self.series(c, |s| ms(s.total()))
    }
    /// Per-round ratios of `c`'s total to nslink's (same round).
    fn paired(&self, c: Contender) -> Vec<f64> {
        self.total(c).iter().zip(self.total(Contender::Nslink)).map(|(a, b)| a / b).collect()
    }
}

fn print_commands(pods: usize) {
    let n = pods;
    let (pod, gw) = (format!("{POD_PREFIX}I"), gateway());
    let sysctl = SYSCTL.join(" ");
    println!("command forms (I = 1..{n}, X = I+1)");
    println!("  ip per op: {} processes to build, {} to tear down", 4 + 6 * n, n + 1);
    println!("    ip netns add {NODE}");
    for l in node_commands() {
        println!("    ip -n {NODE} {l}");
    }
    println!("    ip netns exec {NODE} {sysctl}");
    println!("    ip netns add {pod}");
    println!(
        "    ip -n {NODE} link add vethI up master {BRIDGE} type veth peer name eth0 netns {pod}"
    );
    println!("    ip -n {pod} link set lo up");
    println!("    ip -n {pod} link set eth0 up");
    println!(
        "    ip -n {pod} addr add {}.{}.{}.X/24 brd + dev eth0",
        SUBNET[0], SUBNET[1], SUBNET[2]
    );
    println!("    ip -n {pod} route add default via {gw}");
    println!("    teardown: ip netns del NAME, for each of the {} namespaces", n + 1);
    println!(
        "  ip -batch: {} processes to build, 1 to tear down (a batch line cannot take -n)",
        n + 2
    );
    println!("    A: ip -batch -            < netns add {NODE}, netns add {pod} ...");
    println!(
        "    B: ip -n {NODE} -batch -  < the node lines above, netns exec {NODE} {sysctl}, every veth line"
    );
    println!("    C: ip -n {pod} -batch -  < the four pod lines, one process per pod");
    println!("    teardown: ip -batch -     < netns del NAME ...");
}

fn print_table(r: &Results, cfg: &Config) {
    println!();
    println!(
        "results: {} pods, {} rounds; times in ms (median, p10, p90 over rounds)",
        cfg.pods, cfg.rounds
    );
    println!(
        "{:<16} {:^24}   {:^24}   {:^24}   {:^24}",
        "contender", "build", "teardown returned", "teardown settled", "total (build+settled)"
    );
    println!("{:<16} {}", "", "  median     p10     p90    ".repeat(4));
    for &c in &r.contenders {
        println!(
            "{:<16} {}    {}    {}    {}",
            c.label(),
            spread(&r.build(c)),
            spread(&r.teardown(c)),
            spread(&r.settled(c)),
            spread(&r.total(c))
        );
    }
    println!(
        "  settled: until the kernel destroyed every namespace (see benches/pod/settle.rs); \
         includes the probe's own destruction, alone: {} ms",
        spread(&r.probe)
    );
    println!("  (* diagnostic / alternative forms, not part of the verdict)");
    println!();
    println!("ratios, contender / nslink (ratio of medians; > 1 = nslink faster)");
    println!(
        "{:<16} {:>8} {:>9} {:>8}    paired per-round total ratio: median [p10..p90]",
        "", "build", "teardown", "total"
    );
    let (nb, nt, nn) = (
        median(&r.build(Contender::Nslink)),
        median(&r.teardown(Contender::Nslink)),
        median(&r.total(Contender::Nslink)),
    );
    for &c in r.contenders.iter().filter(|&&c| c != Contender::Nslink) {
        let p = r.paired(c);
        println!(
            "{:<16} {:>7.2}x {:>8.2}x {:>7.2}x    {:.2}x [{:.2}x..{:.2}x]",
            c.label(),
            median(&r.build(c)) / nb,
            median(&r.teardown(c)) / nt,
            median(&r.total(c)) / nn,
            median(&p),
            quantile(&p, 0.1),
            quantile(&p, 0.9)
        );
    }
}

fn print_phases(r: &Results, cfg: &Config) {
    println!();
    println!("where the time goes (median per round, ms; per-item = median / count)");
    for &c in &r.contenders {
        let samples = &r.samples[c.label()];
        let Some(first) = samples.first() else { continue };
        let mut parts = Vec::new();
        for (name, _) in &first.phases.0 {
            let v: Vec<f64> = samples
                .iter()
                .map(|s| s.phases.0.iter().find(|(n, _)| n == name).map_or(0.0, |(_, d)| ms(*d)))
                .collect();
            let m = median(&v);
            let count = phase_count(c, name, cfg.pods);
            if count > 1 {
                parts.push(format!("{name} {m:.1} ({:.2}/{count})", m / count as f64));
            } else {
                parts.push(format!("{name} {m:.1}"));
            }
        }
        if !parts.is_empty() {
            println!("  {:<16} {}", c.label(), parts.join(", "));
        }
    }
}

/// How many items a phase covers (for the per-item figure).
fn phase_count(c: Contender, phase: &str, pods: usize) -> usize {
    match (c, phase) {
        (
            _,
            "netns create" | "netns add" | "netns del" | "delete entries" | "drop handles"
            | "socket open",
        ) => pods + 1,
        (Contender::Ip, "node setup") => 4,
        (Contender::Ip, "pod setup") => 4 * pods,
        (_, "veth create" | "veth add" | "pod setup" | "C: pod batches") => pods,
        _ => 1,
    }
}

fn print_drift(r: &Results) {
    println!();
    println!(
        "drift: total per round in measured order (ms), and median of the first vs second half"
    );
    for &c in &r.contenders {
        let t = r.total(c);
        let half = t.len() / 2;
        let (a, b) = if half > 0 {
            (median(&t[..half]), median(&t[t.len() - half..]))
        } else {
            (f64::NAN, f64::NAN)
        };
        let list: Vec<String> = t.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "  {:<16} first {a:>7.1}  second {b:>7.1}  ({:+.0}%)  [{}]",
            c.label(),
            (b / a - 1.0) * 100.0,
            list.join(" ")
        );
    }
}

fn print_summary(r: &Results, cfg: &Config) -> bool {
    let n = Contender::Nslink;
    let (nb, nt, nn) = (median(&r.build(n)), median(&r.settled(n)), median(&r.total(n)));
    println!();
    println!(
        "SUMMARY ({} pods, {} rounds, medians{})",
        cfg.pods,
        cfg.rounds,
        if cfg.quick { ", QUICK smoke run" } else { "" }
    );
    println!("  nslink     build {nb:>7.1} ms  settled teardown {nt:>6.1} ms  total {nn:>7.1} ms");
    let mut all_beat = true;
    for c in [Contender::Ip, Contender::Batch, Contender::Rtnl] {
        let (b, t, x) = (median(&r.build(c)), median(&r.settled(c)), median(&r.total(c)));
        let p = r.paired(c);
        println!(
            "  {:<10} build {b:>7.1} ms  settled teardown {t:>6.1} ms  total {x:>7.1} ms",
            c.label()
        );
        println!(
            "    {}/nslink: build {:.2}x, settled teardown {:.2}x, total {:.2}x (paired per round: median {:.2}x, p10 {:.2}x, p90 {:.2}x); nslink faster: build {}, teardown {}, total {}",
            c.label(),
            b / nb,
            t / nt,
            x / nn,
            median(&p),
            quantile(&p, 0.1),
            quantile(&p, 0.9),
            yes(b > nb),
            yes(t > nt),
            yes(x > nn)
        );
        all_beat &= b > nb && t > nt && x > nn;
    }
    println!(
        "  verdict: {}",
        if all_beat {
            "nslink beats `ip` per op, `ip -batch` and rtnetlink+netns-rs on build, settled teardown and total"
        } else {
            "nslink does NOT beat all of them everywhere (see above)"
        }
    );
    all_beat
}

/// The suite's table rows (`common::row`, recorded in
/// `target/nslink-bench/pod.tsv` for the report): build + settled teardown,
/// build alone and settled teardown alone, each against nslink, with the
/// kernel's floor (bare namespaces) beside them.
fn record_rows(r: &Results, cfg: &Config) {
    let main = [Contender::Nslink, Contender::Ip, Contender::Batch, Contender::Rtnl];
    let floor = Contender::BareNetns;
    type Measure = fn(&Sample) -> Duration;
    let groups: [(String, Measure); 3] = [
        (format!("{} pods up and down (settled)", cfg.pods), Sample::total),
        (format!("{} pods: build", cfg.pods), |s| s.build),
        (format!("{} pods: teardown, settled", cfg.pods), Sample::settled),
    ];
    println!();
    for (title, f) in groups {
        let mut rows: Vec<common::Contender<'_>> = main
            .iter()
            .chain(r.contenders.contains(&floor).then_some(&floor))
            .map(|&c| {
                let mut row = common::Contender::new(c.label(), 1, |_| Ok(Duration::ZERO));
                row.samples = r.samples[c.label()].iter().map(|s| f(s).as_nanos() as f64).collect();
                row
            })
            .collect();
        if rows.len() < main.len() {
            continue;
        }
        common::heading(&title, cfg.rounds as u32, &rows);
        let (base, others) = rows.split_first_mut().expect("nslink first");
        common::row(base, None);
        for c in others.iter() {
            common::row(c, Some(("nslink", base)));
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

// ---------------------------------------------------------------------------
// Main

fn run(cfg: &Config) -> Res<()> {
    let iproute = Command::new("ip")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("nslink pod benchmark{}", if cfg.quick { " (QUICK smoke run)" } else { "" });
    println!(
        "kernel {}, {} CPUs, {iproute}; {} pods, {} measured rounds + 1 checked warm-up, {} ms pause after each turn",
        fs::read_to_string("/proc/sys/kernel/osrelease")?.trim(),
        thread::available_parallelism().map_or(0, |n| n.get()),
        cfg.pods,
        cfg.rounds,
        cfg.settle.as_millis()
    );
    print_commands(cfg.pods);
    let mut contenders = vec![
        Contender::Nslink,
        Contender::Ip,
        Contender::Batch,
        Contender::Rtnl,
        Contender::NslinkPhased,
        Contender::NslinkGroupFirst,
        Contender::NslinkSocketsFirst,
        Contender::NslinkParallel,
        Contender::BareNetns,
    ];
    if cfg.alt {
        contenders.extend([Contender::BatchExec, Contender::BatchParallel]);
    }
    if let Ok(only) = std::env::var("NSLINK_BENCH_ONLY") {
        let wanted: Vec<&str> = only.split(',').map(str::trim).collect();
        contenders.retain(|&c| c == Contender::Nslink || wanted.contains(&c.label()));
    }

    // Warm-up: every contender once, its end state checked against nslink's.
    println!();
    println!(
        "warm-up round: checking each contender's end state with ip -j link/addr/route and ip_forward"
    );
    let mut watch = settle::Settle::new()?;
    let mut reference: Option<Vec<String>> = None;
    for &c in &contenders {
        if c == Contender::BareNetns {
            let (s, _) = run_once(c, cfg.pods, false, &mut watch)?;
            println!(
                "  {:<16} (the kernel's floor: {} empty named namespaces, not the pod network; \
                 warm-up: create {:.1} ms, delete {:.1} ms, settled {:.1} ms)",
                c.label(),
                cfg.pods + 1,
                ms(s.build),
                ms(s.teardown),
                ms(s.settled())
            );
            continue;
        }
        let (s, checked) = run_once(c, cfg.pods, true, &mut watch)?;
        let Checked { lines: state, neighbours: (neigh, neigh_other) } =
            checked.ok_or("no state")?;
        match &reference {
            None => {
                spec_check(&state, cfg.pods)?;
                println!(
                    "  {:<16} {} state lines: {} namespaces, bridge {BRIDGE} {BRIDGE_MAC} stp 0, {} ports, addresses, default routes, ip_forward: as specified",
                    c.label(),
                    state.len(),
                    cfg.pods + 1,
                    cfg.pods
                );
                reference = Some(state);
            }
            Some(r) => {
                compare(r, c.label(), &state)?;
                println!("  {:<16} {} state lines: identical to nslink's", c.label(), state.len());
            }
        }
        println!(
            "  {:<16} (warm-up: build {:.1} ms, teardown {:.1} ms, settled {:.1} ms; {NETNS_DIR} empty after; \
             {neigh} neighbour entries, {neigh_other} of them not NOARP)",
            "",
            ms(s.build),
            ms(s.teardown),
            ms(s.settled())
        );
        thread::sleep(cfg.settle);
    }

    // Measured rounds, round-robin with a rotating start.
    let mut results =
        Results { contenders: contenders.clone(), samples: BTreeMap::new(), probe: Vec::new() };
    for r in 0..cfg.rounds {
        let mut line = format!("round {:>2}:", r + 1);
        for k in 0..contenders.len() {
            let c = contenders[(r + k) % contenders.len()];
            let (s, _) = run_once(c, cfg.pods, false, &mut watch)?;
            line += &format!(
                "  {} {:.0}+{:.0}+{:.0}",
                c.label(),
                ms(s.build),
                ms(s.teardown),
                ms(s.settle)
            );
            results.samples.entry(c.label()).or_default().push(s);
            thread::sleep(cfg.settle);
        }
        let probe = watch.probe_alone()?;
        line += &format!("  probe {:.1}", ms(probe));
        results.probe.push(ms(probe));
        println!("{line}");
    }

    print_table(&results, cfg);
    print_phases(&results, cfg);
    print_drift(&results);
    // A partial run (NSLINK_BENCH_ONLY) is for investigation: no verdict,
    // and the suite's recorded rows are left as they are.
    if std::env::var_os("NSLINK_BENCH_ONLY").is_none() {
        print_summary(&results, cfg);
        record_rows(&results, cfg);
    }
    Ok(())
}

fn host_state() -> (Vec<String>, Vec<String>) {
    let links = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split(": ").nth(1).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let netns = fs::read_dir(NETNS_DIR)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    (links, netns)
}

fn main() -> ExitCode {
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("the pod benchmark needs root (namespaces, mounts, devices)");
        return ExitCode::FAILURE;
    }
    let host_before = host_state();
    let worker =
        thread::Builder::new().name("pod-bench".into()).spawn(move || -> Result<(), String> {
            isolate().map_err(|e| format!("isolation: {e}"))?;
            run(&cfg).map_err(|e| e.to_string())
        });
    let outcome = match worker {
        Ok(h) => h.join().unwrap_or_else(|_| Err("the bench thread panicked".into())),
        Err(e) => Err(format!("spawning the bench thread: {e}")),
    };
    let host_after = host_state();
    if host_after != host_before {
        eprintln!("error: the host changed: before {host_before:?}, after {host_after:?}");
        return ExitCode::FAILURE;
    }
    println!("host untouched: links {:?}, {NETNS_DIR} entries {:?}", host_after.0, host_after.1);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
