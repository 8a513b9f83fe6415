//! The pod network of the `pod-network` example, shared with the
//! `pod` benchmark so that both build exactly the same thing.
//!
//! A node namespace holds a bridge with the subnet's first address; each pod
//! is a named namespace whose `eth0` is one end of a veth pair whose other
//! end is a port of the bridge; the pod gets an address and a default route
//! via the bridge.
//!
//! Every namespace is an [`OwnedNetns`]: the build owns exactly what it
//! made, and dropping an [`Endpoint`] (on success, on an error half-way, or
//! while unwinding) deletes its namespace *by identity*: a namespace of the
//! same name that someone else made is never touched. Nothing here deletes
//! by name.

#![allow(dead_code)]

use std::net::Ipv4Addr;

use nslink::netns::OwnedNetns;
use nslink::{Bridge, IpNet, LinkBuilder, NetnsDir, NsName, Route, RouteSocket};

/// The node's bridge (inside the node namespace, so every network has its
/// own).
pub const BRIDGE: &str = "cni0";
/// The bridge's fixed MAC (so it does not change as ports join).
pub const BRIDGE_MAC: &str = "02:42:0a:f4:01:01";
/// The first three bytes of the pod subnet (a /24).
pub const SUBNET: [u8; 3] = [10, 244, 1];
/// Most pods in a network (the /24 has 253 host addresses after the node's).
pub const MAX_PODS: usize = 250;
/// The device group (`IFLA_GROUP`) of the pods' host-side veth ends in the
/// node namespace: [`teardown`] deletes them all with one request.
pub const POD_GROUP: u32 = 244;

/// The error type of the example.
pub type BoxError = Box<dyn std::error::Error>;

/// The namespace names of one network: `PREFIX-node` and `PREFIX-pod-1`,
/// `PREFIX-pod-2`, …
#[derive(Debug, Clone)]
pub struct Names {
    prefix: String,
}

impl Names {
    /// Checks that every name of a network of up to [`MAX_PODS`] pods is a
    /// valid namespace name, and that `prefix` is safe as a file name.
    pub fn new(prefix: &str) -> Result<Names, BoxError> {
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if prefix.is_empty() || !prefix.chars().all(plain) || prefix.starts_with(['-', '.']) {
            return Err(format!(
                "prefix {prefix:?}: use letters, digits, '-', '_' and '.', not first '-' or '.'"
            )
            .into());
        }
        let names = Names { prefix: prefix.to_owned() };
        NsName::new(&names.node())?;
        NsName::new(&names.pod(MAX_PODS))?;
        Ok(names)
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The node namespace's name.
    pub fn node(&self) -> String {
        format!("{}-node", self.prefix)
    }

    /// Pod `i`'s namespace name (from 1).
    pub fn pod(&self, i: usize) -> String {
        format!("{}-pod-{i}", self.prefix)
    }
}

/// One endpoint of the network: the node or a pod.
pub struct Endpoint {
    /// Its namespace, deleted by identity when the endpoint is dropped.
    pub ns: OwnedNetns,
    /// A socket inside it.
    pub nl: RouteSocket,
    /// Its address.
    pub ip: Ipv4Addr,
}

impl Endpoint {
    /// The namespace's name, as `ip netns list` shows it.
    pub fn name(&self) -> String {
        self.ns.name().map(ToString::to_string).unwrap_or_default()
    }
}

pub fn pod_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], (i + 1) as u8)
}

/// A pod's namespace and a socket inside it, made ahead of its veth.
type PodNs = (OwnedNetns, RouteSocket);

/// Builds the node and `pods` pods in `dir`, named by `names`; the node is
/// the first endpoint. On an error, what was already built is deleted (by
/// identity) before the error is returned.
pub fn build(dir: &NetnsDir, names: &Names, pods: usize) -> Result<Vec<Endpoint>, BoxError> {
    check_pods(pods)?;
    build_with(dir, names, pods, |i| make_pod_ns(dir, names, i))
}

/// [`build`], with the pods' namespaces (and a socket in each) made on a
/// second thread while this one makes the node, the veths and the pods'
/// settings: both are mostly the kernel's work (~0.5 ms a namespace, ~1 ms
/// a veth), which two idle cores could overlap. Not shown faster on the
/// loaded development VM (the `pod` bench's `nslink 2-threads*`), so not
/// the example's way.
pub fn build_parallel(
    dir: &NetnsDir,
    names: &Names,
    pods: usize,
) -> Result<Vec<Endpoint>, BoxError> {
    check_pods(pods)?;
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<PodNs, String>>(8);
        s.spawn(move || {
            for i in 1..=pods {
                let made = make_pod_ns(dir, names, i).map_err(|e| e.to_string());
                let failed = made.is_err();
                // A send fails when the builder gave up: stop then.
                if tx.send(made).is_err() || failed {
                    return;
                }
            }
        });
        build_with(dir, names, pods, |_| match rx.recv() {
            Ok(made) => made.map_err(BoxError::from),
            Err(_) => Err("the namespace maker stopped".into()),
        })
    })
}

fn check_pods(pods: usize) -> Result<(), BoxError> {
    if !(1..=MAX_PODS).contains(&pods) {
        return Err(format!("pods: {pods} is not between 1 and {MAX_PODS}").into());
    }
    Ok(())
}

/// Pod `i`'s namespace and a socket inside it.
fn make_pod_ns(dir: &NetnsDir, names: &Names, i: usize) -> Result<PodNs, BoxError> {
    let ns = dir.create_owned(NsName::new(&names.pod(i))?)?;
    let nl = RouteSocket::open_in(&ns)?;
    Ok((ns, nl))
}

/// The build, with pod `i`'s namespace and socket from `pod_ns(i)`.
fn build_with(
    dir: &NetnsDir,
    names: &Names,
    pods: usize,
    mut pod_ns: impl FnMut(usize) -> Result<PodNs, BoxError>,
) -> Result<Vec<Endpoint>, BoxError> {
    let gateway = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], 1);
    let node = dir.create_owned(NsName::new(&names.node())?)?;
    let nl = RouteSocket::open_in(&node)?;
    let mut endpoints = Vec::with_capacity(pods + 1);
    endpoints.push(Endpoint { ns: node, nl, ip: gateway });
    let nl = &endpoints[0].nl;
    nl.set_up("lo")?;
    let bridge = Bridge::builder(BRIDGE).stp(false).mac(BRIDGE_MAC.parse()?).up().create(nl)?;
    nl.add_address(&bridge, IpNet::new(gateway.into(), 24)?)?;
    endpoints[0].ns.set_sysctl("net.ipv4.ip_forward", "1")?;
    let default_route = Route::default_via(gateway.into());
    for i in 1..=pods {
        let (pod, pnl) = pod_ns(i)?;
        let ip = pod_ip(i);
        // The host end, in the pods' group; "eth0" made directly in the pod.
        let veth = LinkBuilder::veth(format!("veth{i}"), "eth0")
            .peer_netns(&pod)
            .master(&bridge)
            .group(POD_GROUP)
            .up()
            .create(&endpoints[0].nl)?;
        let eth0 = veth.parent_index().ok_or("the kernel did not report the veth's peer")?;
        // The pod's four settings go out in one datagram.
        let mut setup = pnl.batch();
        setup.set_up("lo")?.set_up(eth0)?;
        setup.add_address(eth0, IpNet::new(ip.into(), 24)?)?;
        setup.add_route(&default_route)?;
        setup.commit()?;
        endpoints.push(Endpoint { ns: pod, nl: pnl, ip });
    }
    Ok(endpoints)
}

/// Deletes every namespace by identity, then closes every socket, and
/// reports each failure. Returns how many namespaces were deleted.
///
/// The kernel destroys a namespace (and its devices: the pods' veth pairs,
/// the bridge) later, on a workqueue, once its last reference is gone; one
/// run of that work destroys every namespace queued by then, with one set
/// of RCU waits for all. The sockets go last, together, so that the last
/// references of all the namespaces (a socket's goes one RCU grace period
/// after it is closed) are dropped at the same moment and the kernel
/// destroys the whole network in one run instead of several.
pub fn teardown(endpoints: Vec<Endpoint>) -> Result<usize, BoxError> {
    let (namespaces, sockets): (Vec<OwnedNetns>, Vec<RouteSocket>) =
        endpoints.into_iter().map(|e| (e.ns, e.nl)).unzip();
    let outcome = delete_all(namespaces);
    drop(sockets);
    outcome
}

/// [`teardown`], after deleting every pod's veth pair with one request
/// from the node (the host ends' group, [`POD_GROUP`]): the kernel
/// unregisters them in one batch and they are gone when the request
/// returns, before the namespaces go.
pub fn teardown_group_first(endpoints: Vec<Endpoint>) -> Result<usize, BoxError> {
    let veths = match endpoints.first() {
        Some(node) => node.nl.delete_group(POD_GROUP).map_err(|e| format!("veths: {e}")),
        None => Ok(()),
    };
    let deleted = teardown(endpoints)?;
    veths?;
    Ok(deleted)
}

/// [`teardown`] in the other order: every socket closed first, then every
/// namespace deleted.
pub fn teardown_sockets_first(endpoints: Vec<Endpoint>) -> Result<usize, BoxError> {
    let (namespaces, sockets): (Vec<OwnedNetns>, Vec<RouteSocket>) =
        endpoints.into_iter().map(|e| (e.ns, e.nl)).unzip();
    drop(sockets);
    delete_all(namespaces)
}

/// Deletes each namespace by identity; reports every failure.
fn delete_all(namespaces: Vec<OwnedNetns>) -> Result<usize, BoxError> {
    let mut deleted = 0;
    let mut failures = Vec::new();
    for ns in namespaces {
        let name = ns.name().map(ToString::to_string).unwrap_or_default();
        match ns.delete() {
            Ok(()) => deleted += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(deleted)
    } else {
        Err(format!("could not delete {}", failures.join("; ")).into())
    }
}
