//! Two Kubernetes "nodes" whose pods talk over VXLAN, without NAT.
//!
//! What flannel's `vxlan` backend builds, made of namespaces on one machine:
//!
//! ```text
//!   pod A1  pod A2                                pod B1  pod B2
//!      \      /                                      \      /
//!   cni0 10.244.1.1/24                            cni0 10.244.2.1/24
//!      |  vxlan1 10.244.1.0/32   node A      node B   vxlan1 10.244.2.0/32
//!      |        \                                      /
//!   underlay eth0 192.168.100.1  ==== veth ====  192.168.100.2 eth0
//! ```
//!
//! Each node has a bridge for its own /24, a VXLAN device (VNI 1, UDP 8472,
//! learning off) on its underlay address, and for the other node: a route
//! `10.244.Y.0/24 via 10.244.Y.0 dev vxlan1 onlink`, a permanent neighbour
//! entry giving the remote VTEP's MAC, and an FDB entry sending that MAC to
//! the remote node's underlay address. Then every pod sends to every other
//! pod and to the remote node, and the receiver reports the source address
//! it saw: it must be the sender's own (no NAT), across nodes too.
//!
//! Run as root: `cargo run --example two-nodes`. Every namespace is owned
//! by the run (`OwnedNetns`, named `nslink-PID-…`) and deleted by identity
//! at the end, on an error, or on Ctrl-C.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nslink::fdb::{FdbOptions, FdbState};
use nslink::link::{KindOptions, VxlanOptions};
use nslink::netns::OwnedNetns;
use nslink::{
    Bridge, IpNet, LinkBuilder, MacAddr, NeighbourState, NetnsDir, NextHop, Route, RouteSocket,
    VethPair,
};

type BoxError = Box<dyn std::error::Error>;

const VNI: u32 = 1;
const VXLAN_PORT: u16 = 8472;
const PODS_PER_NODE: u8 = 2;
const PORT: u16 = 7777;

struct Node {
    ns: OwnedNetns,
    nl: RouteSocket,
    /// 1 or 2: the third byte of the node's pod subnet.
    n: u8,
    underlay: Ipv4Addr,
    vtep_mac: MacAddr,
}

struct Pod {
    ns: OwnedNetns,
    ip: Ipv4Addr,
}

fn subnet(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 244, n, 0)
}

fn build_node(dir: &NetnsDir, prefix: &str, n: u8) -> Result<(Node, Vec<Pod>), BoxError> {
    let ns = dir.create_owned(format!("{prefix}-node-{n}").as_str())?;
    let nl = RouteSocket::open_in(&ns)?;
    nl.set_up("lo")?;
    ns.set_sysctl("net.ipv4.ip_forward", "1")?;
    let br = Bridge::builder("cni0")
        .stp(false)
        .mac(format!("02:42:0a:f4:{n:02x}:01").parse()?)
        .up()
        .create(&nl)?;
    nl.add_address(&br, IpNet::new(Ipv4Addr::new(10, 244, n, 1).into(), 24)?)?;
    let mut pods = Vec::new();
    for i in 1..=PODS_PER_NODE {
        let pod = dir.create_owned(format!("{prefix}-node-{n}-pod-{i}").as_str())?;
        VethPair::builder(format!("veth{i}"), "eth0")
            .peer_netns(&pod)
            .master(&br)
            .up()
            .create(&nl)?;
        let p = RouteSocket::open_in(&pod)?;
        p.set_up("lo")?;
        p.set_up("eth0")?;
        let ip = Ipv4Addr::new(10, 244, n, 10 + i);
        p.add_address("eth0", IpNet::new(ip.into(), 24)?)?;
        p.add_route(&Route::default_via(Ipv4Addr::new(10, 244, n, 1).into()))?;
        pods.push(Pod { ns: pod, ip });
    }
    let underlay = Ipv4Addr::new(192, 168, 100, n);
    let vtep_mac: MacAddr = format!("02:00:00:00:00:{n:02x}").parse()?;
    Ok((Node { ns, nl, n, underlay, vtep_mac }, pods))
}

/// The underlay veth between the nodes, then each node's VXLAN device.
fn connect(a: &Node, b: &Node) -> Result<(), BoxError> {
    VethPair::builder("eth0", "eth0").netns(&a.ns).peer_netns(&b.ns).up().create(&a.nl)?;
    for node in [a, b] {
        node.nl.set_up("eth0")?;
        node.nl.add_address("eth0", IpNet::new(node.underlay.into(), 24)?)?;
        let eth0 = node.nl.require_link("eth0")?;
        let vx = VxlanOptions {
            vni: Some(VNI),
            port: Some(VXLAN_PORT),
            local: Some(node.underlay.into()),
            learning: Some(false),
            ..VxlanOptions::default()
        };
        LinkBuilder::new("vxlan1", KindOptions::Vxlan(vx))
            .parent(eth0.index())
            .mac(node.vtep_mac)
            .up()
            .create(&node.nl)?;
        node.nl.add_address("vxlan1", IpNet::new(subnet(node.n).into(), 32)?)?;
    }
    // What flannel writes for each remote node.
    for (here, there) in [(a, b), (b, a)] {
        let remote_vtep: IpAddr = subnet(there.n).into();
        here.nl.add_route(
            &Route::to(IpNet::new(subnet(there.n).into(), 24)?)
                .nexthop(NextHop::new().via(remote_vtep).dev("vxlan1").onlink()),
        )?;
        here.nl.replace_neighbour(
            "vxlan1",
            remote_vtep,
            there.vtep_mac,
            NeighbourState::Permanent,
        )?;
        here.nl.add_fdb(
            "vxlan1",
            there.vtep_mac,
            &FdbOptions::new().self_().state(FdbState::Permanent).dst(there.underlay.into()),
        )?;
    }
    Ok(())
}

/// Every sender sends to every receiver; each receiver records the source
/// address it saw. Resends every 100 ms for up to 5 s (ARP, links coming up).
fn exchange(
    eps: &[(String, &OwnedNetns, Ipv4Addr)],
) -> Result<BTreeMap<(usize, usize), IpAddr>, BoxError> {
    let mut socks = Vec::new();
    for (_, ns, ip) in eps {
        let ip = *ip;
        let s = ns.run(move || UdpSocket::bind(SocketAddr::new(ip.into(), PORT)))??;
        s.set_nonblocking(true)?;
        socks.push(s);
    }
    let mut seen = BTreeMap::new();
    let n = eps.len();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 32];
    while seen.len() < n * (n - 1) && Instant::now() < deadline {
        for (from, sock) in socks.iter().enumerate() {
            for (to, (_, _, ip)) in eps.iter().enumerate() {
                if from != to && !seen.contains_key(&(from, to)) {
                    let dst = SocketAddr::new((*ip).into(), PORT);
                    // ENOBUFS while a device's queue is not attached yet: resent.
                    let _ = sock.send_to(format!("{from}>{to}").as_bytes(), dst);
                }
            }
        }
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            let mut got = false;
            for (to, s) in socks.iter().enumerate() {
                while let Ok((len, src)) = s.recv_from(&mut buf) {
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
                std::thread::sleep(Duration::from_micros(300));
            }
        }
    }
    Ok(seen)
}

fn run() -> Result<bool, BoxError> {
    nslink::netns::cleanup_on_signals()?;
    let prefix = format!("nslink-{}", std::process::id());
    let dir = NetnsDir::default();
    let started = Instant::now();
    let (a, pods_a) = build_node(&dir, &prefix, 1)?;
    let (b, pods_b) = build_node(&dir, &prefix, 2)?;
    connect(&a, &b)?;
    println!(
        "built 2 nodes ({prefix}-node-1, {prefix}-node-2) with {PODS_PER_NODE} pods each, \
         joined by VXLAN (VNI {VNI}, UDP {VXLAN_PORT}) in {:.1?}",
        started.elapsed()
    );

    // Endpoints: each node (from its bridge address) and each pod.
    let mut eps: Vec<(String, &OwnedNetns, Ipv4Addr)> = Vec::new();
    for (node, pods) in [(&a, &pods_a), (&b, &pods_b)] {
        eps.push((format!("node-{}", node.n), &node.ns, Ipv4Addr::new(10, 244, node.n, 1)));
        for (i, p) in pods.iter().enumerate() {
            eps.push((format!("node-{}/pod-{}", node.n, i + 1), &p.ns, p.ip));
        }
    }
    let seen = exchange(&eps)?;

    println!("\nsource address seen by the receiver (ok = the sender's own IP, x = across nodes)");
    print!("{:<16}", "from \\ to");
    for (name, _, _) in &eps {
        print!("{name:>14}");
    }
    println!();
    let node_of = |i: usize| eps[i].0.split('/').next().unwrap_or_default().to_owned();
    let (mut ok, mut across, mut total) = (0, 0, 0);
    for (from, (name, _, ip)) in eps.iter().enumerate() {
        print!("{name:<16}");
        for to in 0..eps.len() {
            let cell = if from == to {
                ".".to_owned()
            } else {
                total += 1;
                let remote = node_of(from) != node_of(to);
                match seen.get(&(from, to)) {
                    Some(src) if *src == IpAddr::V4(*ip) => {
                        ok += 1;
                        if remote {
                            across += 1;
                            "ok x".to_owned()
                        } else {
                            "ok".to_owned()
                        }
                    }
                    Some(_) => "NAT!".to_owned(),
                    None => "lost".to_owned(),
                }
            };
            print!("{cell:>14}");
        }
        println!();
    }
    println!("\n{ok}/{total} ok, {across} of them across the VXLAN overlay, none NATed");

    let t = Instant::now();
    drop((pods_a, pods_b));
    drop((a, b));
    println!("deleted the namespaces this run made in {:.1?}", t.elapsed());
    Ok(ok == total)
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: two-nodes\n\nBuilds two nodes with pods joined by VXLAN and checks pod-to-pod traffic is not NATed."
        );
        return ExitCode::SUCCESS;
    }
    if let Some(a) = std::env::args().nth(1) {
        eprintln!("two-nodes: unknown argument {a:?} (try --help)");
        return ExitCode::from(2);
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("two-nodes: {e}");
            ExitCode::FAILURE
        }
    }
}
