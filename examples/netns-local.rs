//! The article's section 2.1.3, "which devices can change namespace?", on
//! whatever kernel this runs on.
//!
//! The article asks `ethtool -k DEV | grep netns-local`. Newer kernels
//! dropped that feature string (~6.12) and report the flag as the link
//! attribute `IFLA_NETNS_IMMUTABLE` instead (6.15+). nslink answers on every
//! kernel and says which source answered.
//!
//! What it does, entirely inside two anonymous namespaces of its own (the
//! host's devices are never looked at, let alone touched):
//! 1. creates a "lab" namespace with a veth pair, a bridge and a vxlan
//!    device (through the raw-request escape hatch, no `ip` needed);
//! 2. prints, for every device there, its kind and the netns-local answer
//!    the way `ethtool -k DEV | grep netns-local` would, plus the source;
//! 3. tries to move `lo` and the bridge into a second ("pod") namespace and
//!    prints the readable refusal;
//! 4. moves one veth end and shows both namespaces' link lists before and
//!    after: it left the lab and appeared in the pod.
//!
//! Both namespaces are anonymous (`NetNs::new`): when the program exits the
//! last handles close and the kernel destroys them with every device in
//! them. Run as root: `cargo run --example netns-local`.

use std::error::Error;
use std::process::ExitCode;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use nslink::netlink::packet::RouteNetlinkMessage;
use nslink::netlink::packet::link::{
    InfoData, InfoKind, InfoVeth, InfoVxlan, LinkAttribute, LinkInfo, LinkMessage,
};
use nslink::{NetNs, NetnsLocal, NetnsLocalSource, RouteSocket};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("netns-local: run as root (it creates namespaces and devices)");
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netns-local: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Creates a device described by `info` (its `IFLA_LINKINFO`) named `name`.
fn create(nl: &RouteSocket, name: &str, info: Vec<LinkInfo>) -> Res<()> {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.into()));
    msg.attributes.push(LinkAttribute::LinkInfo(info));
    nl.request_raw(RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL)
        .map_err(|e| format!("creating {name}: {e}"))?;
    Ok(())
}

fn veth_info(peer: &str) -> Vec<LinkInfo> {
    let mut p = LinkMessage::default();
    p.attributes.push(LinkAttribute::IfName(peer.into()));
    vec![LinkInfo::Kind(InfoKind::Veth), LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p)))]
}

/// `on [fixed]` / `off [fixed]` as ethtool prints the feature (netns-local
/// can never be switched), and where the answer came from.
fn ethtool_style(a: &NetnsLocal) -> String {
    let value = match a.local {
        Some(true) => "on [fixed]",
        Some(false) => "off [fixed]",
        None => "unknown",
    };
    let source = match a.source {
        Some(NetnsLocalSource::Attribute) => "IFLA_NETNS_IMMUTABLE",
        Some(NetnsLocalSource::Ethtool) => "ethtool feature netns-local",
        Some(NetnsLocalSource::KernelRefusal) => "kernel refusal",
        None => "none: this kernel reports neither the attribute nor the ethtool feature",
        Some(_) => "another source",
    };
    format!("netns-local: {value} (source: {source})")
}

/// `  1: lo  3: veth0 …`: a namespace's devices on one line.
fn list(nl: &RouteSocket) -> Res<String> {
    let mut s = String::new();
    for l in nl.links()? {
        s.push_str(&format!("  {}: {}", l.index(), l.name()));
    }
    Ok(s)
}

fn run() -> Res<()> {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")?;
    println!("kernel {}", kernel.trim());

    // 1. The lab namespace and its devices.
    let lab = NetNs::new()?;
    let nl = RouteSocket::open_in(&lab)?;
    create(&nl, "veth0", veth_info("veth1"))?;
    create(&nl, "br0", vec![LinkInfo::Kind(InfoKind::Bridge)])?;
    create(
        &nl,
        "vxlan0",
        vec![
            LinkInfo::Kind(InfoKind::Vxlan),
            LinkInfo::Data(InfoData::Vxlan(vec![InfoVxlan::Id(42), InfoVxlan::Port(4789)])),
        ],
    )?;

    // 2. netns-local for every device, like `ethtool -k DEV | grep netns-local`.
    println!();
    println!("== lab namespace {}: which devices may change namespace? ==", lab.id());
    for l in nl.links()? {
        let answer = nl.netns_local(&l)?;
        println!(
            "{:<8}{:<10}{}",
            format!("{}:", l.name()),
            l.kind().to_string(),
            ethtool_style(&answer)
        );
    }

    // 3. Moving netns-local devices is refused before anything is sent.
    let pod = NetNs::new()?;
    let pod_nl = RouteSocket::open_in(&pod)?;
    println!();
    println!("== moving lo and br0 into the pod namespace {} ==", pod.id());
    for dev in ["lo", "br0"] {
        let index = nl.require_link(dev)?.index();
        match nl.move_link(dev, &pod) {
            Err(e) if e.is_netns_immutable() => println!("{dev}: refused: {e}"),
            Err(e) => return Err(format!("{dev}: unexpected error: {e}").into()),
            Ok(()) => return Err(format!("{dev} moved, but it is netns-local").into()),
        }
        let still = nl.require_link(dev)?;
        println!("{dev}: still in the lab as #{} (was #{index})", still.index());
        if still.index() != index {
            return Err(format!("{dev} changed its index").into());
        }
    }

    // 4. A veth end moves: gone from the lab, present in the pod.
    println!();
    println!("== moving veth1 into the pod namespace ==");
    println!("before:  lab:{}", list(&nl)?);
    println!("         pod:{}", list(&pod_nl)?);
    let veth1 = nl.require_link("veth1")?;
    println!("veth1: {}", ethtool_style(&nl.netns_local(&veth1)?));
    nl.move_link("veth1", &pod)?;
    println!("after:   lab:{}", list(&nl)?);
    println!("         pod:{}", list(&pod_nl)?);
    if nl.link("veth1")?.is_some() {
        return Err("veth1 is still in the lab".into());
    }
    let arrived = pod_nl.require_link("veth1")?;
    let peer = nl.require_link("veth0")?;
    let (Some(peer_of), Some(nsid)) = (peer.parent_index(), peer.link_netnsid()) else {
        return Err("veth0 does not point into another namespace".into());
    };
    println!(
        "veth1 left the lab and arrived in the pod as #{}; its peer veth0 (#{}) now points \
         to #{peer_of} in the namespace the lab knows as id {nsid}",
        arrived.index(),
        peer.index(),
    );

    // Dropping the handles (and the sockets, which hold the namespaces too)
    // lets the kernel destroy both namespaces with all their devices.
    drop((nl, pod_nl, lab, pod));
    println!();
    println!("done: both namespaces were anonymous and are gone with their devices");
    Ok(())
}
