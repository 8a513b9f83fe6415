//! The pod network of the `pod-network` example, shared with the
//! `pod` benchmark so that both build exactly the same thing.
//!
//! A node namespace holds a bridge with the subnet's first address; each pod
//! is a named namespace whose `eth0` is one end of a veth pair whose other
//! end is a port of the bridge; the pod gets an address and a default route
//! via the bridge.

#![allow(dead_code)]

use std::net::Ipv4Addr;

use nslink::{Bridge, IpNet, NetNs, NetnsDir, NsName, Route, RouteSocket, VethPair};

/// Name of the node namespace.
pub const NODE: &str = "nslink-node";
/// Prefix of the pod namespaces (`nslink-pod-1`, …).
pub const POD_PREFIX: &str = "nslink-pod-";
/// The node's bridge.
pub const BRIDGE: &str = "cni0";
/// The bridge's fixed MAC (so it does not change as ports join).
pub const BRIDGE_MAC: &str = "02:42:0a:f4:01:01";
/// The first three bytes of the pod subnet (a /24).
pub const SUBNET: [u8; 3] = [10, 244, 1];

/// One endpoint of the network: the node or a pod.
pub struct Endpoint {
    /// "node" or "pod-N".
    pub label: String,
    /// Its namespace.
    pub ns: NetNs,
    /// A socket inside it.
    pub nl: RouteSocket,
    /// Its address.
    pub ip: Ipv4Addr,
}

/// Removes every namespace this example may have made (and so every device
/// in them). Returns how many were removed.
pub fn remove_all(dir: &NetnsDir) -> usize {
    let mut removed = 0;
    for name in dir.list().unwrap_or_default() {
        if name.as_str() == NODE || name.as_str().starts_with(POD_PREFIX) {
            let gone = match dir.delete(&name) {
                Ok(()) => true,
                Err(e) if e.is_stale_entry() => dir.remove_stale(&name).is_ok(),
                Err(e) => {
                    eprintln!("warning: could not remove {name}: {e}");
                    false
                }
            };
            removed += usize::from(gone);
        }
    }
    removed
}

pub fn pod_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], (i + 1) as u8)
}

/// The error type of the example.
pub type BoxError = Box<dyn std::error::Error>;

/// Builds the node and `pods` pods; `check_interrupt` runs before each pod
/// and stops the build when it fails.
pub fn build(
    dir: &NetnsDir,
    pods: usize,
    check_interrupt: impl Fn() -> Result<(), BoxError>,
) -> Result<Vec<Endpoint>, BoxError> {
    let gateway = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], 1);
    let node = dir.create(NODE)?;
    let nl = RouteSocket::open_in(&node)?;
    nl.set_up("lo")?;
    let bridge = Bridge::builder(BRIDGE).stp(false).mac(BRIDGE_MAC.parse()?).up().create(&nl)?;
    nl.add_address(bridge.index(), IpNet::new(gateway.into(), 24)?)?;
    node.set_sysctl("net.ipv4.ip_forward", "1")?;
    let mut endpoints = Vec::with_capacity(pods + 1);
    let default_route = Route::default_via(gateway.into());
    for i in 1..=pods {
        check_interrupt()?;
        let name = NsName::new(&format!("{POD_PREFIX}{i}"))?;
        let pod = dir.create(&name)?;
        let ip = pod_ip(i);
        let pair = VethPair::builder(format!("veth{i}"), "eth0")
            .peer_netns(&pod)
            .master(bridge.index())
            .up()
            .create(&nl)?;
        let pnl = RouteSocket::open_in(&pod)?;
        let eth0 = pair.peer().index();
        // The pod's four settings go out in one datagram.
        let mut setup = pnl.batch();
        setup.set_up("lo")?.set_up(eth0)?;
        setup.add_address(eth0, IpNet::new(ip.into(), 24)?)?;
        setup.add_route(&default_route)?;
        setup.commit()?;
        endpoints.push(Endpoint { label: format!("pod-{i}"), ns: pod, nl: pnl, ip });
    }
    endpoints.insert(0, Endpoint { label: "node".into(), ns: node, nl, ip: gateway });
    Ok(endpoints)
}
