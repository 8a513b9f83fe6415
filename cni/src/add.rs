//! ADD, arranged around its longest part: the IPAM plugin (a separate
//! process, host-local: a Go program's start and a file lock) is started
//! first, as soon as the configuration is checked, and everything that does
//! not depend on its answer happens while it runs: the sockets, the bridge,
//! the veth pair (its pod end made directly in the pod and brought up),
//! the port's label and hairpin mode, and the reads the result and the
//! gateway need. Once the addresses are known, what is left is one netlink
//! batch in the pod (addresses and routes), the gateway on the bridge when
//! it is missing (the first pod only), masquerading when asked, and the
//! result, built from what was read while IPAM ran.
//!
//! The node-wide lock is taken only to change node-wide state: creating
//! or fixing the bridge, adding the gateway address, nftables. IPAM has its
//! own lock (host-local locks its data directory), and the veth pair is
//! this attachment's own.

use std::os::fd::AsRawFd;

use nslink::netlink_packet_core::{NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL};
use nslink::netlink_packet_route::RouteNetlinkMessage;
use nslink::netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags as RawFlags, LinkInfo, LinkMessage,
};
use nslink::{
    AddressFlags, AddressOptions, Bridge, IfName, IpNet, Link, LinkFlags, LinkKind, NetNs, Route,
    RouteSocket,
};
use rscni_types::error::Error;
use rscni_types::types::{CNIResult, Interface};
use rscni_types::version::SpecVersion;

use crate::conf::Settings;
use crate::plugin::{
    Invocation, delete_link_if_there, encode_result, gateway_for, ifname, ifname_taken, nl_err,
    set_gateways, set_port_vlan, system, to_net,
};
use crate::{ipam, lock, masq, trace};

/// What the result says about an interface: read while IPAM ran.
#[derive(Debug, Clone)]
struct Iface {
    name: String,
    index: u32,
    mac: String,
    mtu: u32,
}

impl Iface {
    fn of(l: &Link) -> Iface {
        Iface {
            name: l.name().to_string(),
            index: l.index(),
            mac: l.mac().map(|m| m.to_string()).unwrap_or_default(),
            mtu: l.mtu(),
        }
    }

    /// From the kernel's own description of a new device (the echo of
    /// its `RTM_NEWLINK`).
    fn of_message(m: &LinkMessage) -> Option<Iface> {
        let mut name = None;
        let mut mac = String::new();
        let mut mtu = 0;
        for a in &m.attributes {
            match a {
                LinkAttribute::IfName(n) => name = Some(n.clone()),
                LinkAttribute::Address(b) if b.len() == 6 => {
                    mac = b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":");
                }
                LinkAttribute::Mtu(m) => mtu = *m,
                _ => {}
            }
        }
        Some(Iface { name: name?, index: m.header.index, mac, mtu })
    }

    fn to_cni(&self, with_mtu: bool, sandbox: Option<String>) -> Interface {
        Interface {
            name: self.name.clone(),
            mac: self.mac.clone(),
            mtu: with_mtu.then_some(self.mtu),
            sandbox,
            socket_path: None,
            pci_id: None,
        }
    }
}

/// The forwarding switches of the node, as read while IPAM ran.
const FORWARDING: [(&str, bool); 2] =
    [("/proc/sys/net/ipv4/ip_forward", true), ("/proc/sys/net/ipv6/conf/all/forwarding", false)];

/// Everything made and read while the IPAM plugin ran.
struct Prepared {
    nl: RouteSocket,
    pod_nl: RouteSocket,
    bridge: Iface,
    host: Iface,
    pod: Iface,
    /// The bridge's addresses (with `isGateway`).
    bridge_addrs: Vec<IpNet>,
    /// Per [`FORWARDING`] entry: already on.
    forwarding_on: [bool; 2],
}

/// ADD: IPAM started first; bridge, veth pair (its pod end made in the
/// pod) while it runs; then addresses and routes, gateway, masquerading.
/// On failure whatever this run made is undone (the bridge stays, as with
/// the reference plugin).
pub fn add(inv: &Invocation) -> Result<String, Error> {
    let s = &inv.settings;
    let pod = inv.open_netns()?;
    let running = ipam::start_add(inv)?;
    trace::mark("ipam started");
    let prepared = prepare(inv, &pod);
    trace::mark("prepared");
    let ipam_result = match ipam::finish_add(inv, running) {
        Ok(r) => Ok(r),
        // A previous ADD that died before its clean-up left the allocation:
        // release it (this attachment's own) and ask again.
        Err(first) => match ipam::del(inv) {
            Ok(()) => ipam::add(inv),
            Err(_) => Err(first),
        },
    };
    trace::mark("ipam done");
    let outcome = match (prepared, ipam_result) {
        (Ok(p), Ok(result)) => finish(inv, &p, result),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    trace::mark("configured");
    outcome.inspect_err(|_| {
        if let Ok(nl) = RouteSocket::open() {
            let _ = delete_link_if_there(&nl, inv.host_veth().as_str());
        }
        let _ = ipam::del(inv);
        if s.ip_masq {
            let _lock = lock::acquire(s.bridge_name.as_str());
            let chain = inv.masq_chain();
            drop(masq::remove(false, |c, _| c == chain));
        }
    })
}

/// The part of ADD that does not need the IPAM result.
fn prepare(inv: &Invocation, pod: &NetNs) -> Result<Prepared, Error> {
    let s = &inv.settings;
    let nl = RouteSocket::open().map_err(nl_err("cannot open a netlink socket on the node"))?;
    // A socket in the pod's namespace, opened from there by this (single)
    // thread, which goes straight back.
    let pod_nl = {
        let _in_pod =
            pod.enter_from(nl.netns()).map_err(nl_err("cannot enter the pod's namespace"))?;
        RouteSocket::open()
    }
    .map_err(nl_err("cannot open a netlink socket in the pod's namespace"))?;
    trace::mark("sockets");
    let ifname = ifname(&inv.ifname)?;
    let bridge = ensure_bridge(&nl, s)?;
    trace::mark("bridge");
    let host = make_veth(inv, &nl, pod, &bridge, &ifname)?;
    trace::mark("veth");
    label_port(inv, &nl, host.index)?;
    if let Some(vid) = s.vlan {
        set_port_vlan(&nl, host.index, vid)?;
    }
    pod_nl.set_up(&ifname).map_err(nl_err("cannot bring the pod's interface up"))?;
    trace::mark("port labelled, pod up");
    let pod_link =
        pod_nl.require_link(&ifname).map_err(nl_err("cannot read the pod's interface"))?;
    let (bridge_addrs, forwarding_on) = if s.is_gateway {
        let addrs = nl
            .link_addresses(bridge.index())
            .map_err(nl_err("cannot read the bridge's addresses"))?
            .into_iter()
            .map(|a| a.net)
            .collect();
        let on = FORWARDING
            .map(|(k, _)| std::fs::read_to_string(k).map(|v| v.trim() == "1").unwrap_or(false));
        (addrs, on)
    } else {
        (Vec::new(), [true; 2])
    };
    Ok(Prepared {
        bridge: Iface::of(&bridge),
        host,
        pod: Iface::of(&pod_link),
        nl,
        pod_nl,
        bridge_addrs,
        forwarding_on,
    })
}

/// The veth pair, in one `RTM_NEWLINK`: the node's end named after the
/// attachment, on the bridge, up, the pod's end created directly in the
/// pod (up only later: the kernel configures a peer before joining the
/// two ends, when it cannot be opened yet). A pair left by an ADD of the
/// same attachment that died half-way is removed first.
fn make_veth(
    inv: &Invocation,
    nl: &RouteSocket,
    pod: &NetNs,
    bridge: &Link,
    ifname: &IfName,
) -> Result<Iface, Error> {
    let s = &inv.settings;
    let host_name = inv.host_veth();
    // One queue each way, as the kernel leaves a veth by default; asked
    // for, because the default allocates one per CPU and then shrinks to
    // one, and shrinking waits for an RCU grace period (`synchronize_net`
    // in `netif_set_real_num_tx_queues`), once per end.
    let queues = [LinkAttribute::NumTxQueues(1), LinkAttribute::NumRxQueues(1)];
    let mut peer = LinkMessage::default();
    peer.attributes.push(LinkAttribute::IfName(ifname.to_string()));
    peer.attributes.push(LinkAttribute::NetNsFd(pod.as_raw_fd()));
    peer.attributes.extend(queues.clone());
    let mut m = LinkMessage::default();
    m.header.flags = RawFlags::Up;
    m.header.change_mask = RawFlags::Up;
    m.attributes.push(LinkAttribute::IfName(host_name.clone()));
    m.attributes.extend(queues);
    m.attributes.push(LinkAttribute::Controller(bridge.index()));
    if let Some(mtu) = s.mtu {
        peer.attributes.push(LinkAttribute::Mtu(mtu));
        m.attributes.push(LinkAttribute::Mtu(mtu));
    }
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    let flags = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO;
    let mut echoed = nl.request_raw(RouteNetlinkMessage::NewLink(m.clone()), flags);
    if let Err(e) = &echoed
        && e.is_already_exists()
    {
        // Which name is taken? The node's end, named after this
        // attachment, can only be left over from an earlier ADD of it.
        let stale = nl
            .link(host_name.as_str())
            .map_err(nl_err("cannot list the node's links"))?
            .is_some_and(|l| *l.kind() == LinkKind::Veth);
        if !stale {
            return Err(ifname_taken(inv));
        }
        delete_link_if_there(nl, host_name.as_str())?;
        echoed = nl.request_raw(RouteNetlinkMessage::NewLink(m), flags);
    }
    let echoed = echoed.map_err(|e| {
        if e.is_already_exists() {
            ifname_taken(inv)
        } else {
            system(format!("cannot create the veth pair {host_name} / {ifname}: {e}"))
        }
    })?;
    // Kernels before 6.3 do not echo a new link: read it.
    let from_echo = echoed.iter().find_map(|r| match r {
        RouteNetlinkMessage::NewLink(l) => Iface::of_message(l),
        _ => None,
    });
    match from_echo {
        Some(i) => Ok(i),
        None => nl
            .require_link(host_name.as_str())
            .map(|l| Iface::of(&l))
            .map_err(nl_err("cannot read the veth pair back")),
    }
}

/// The node's end of the pair: labelled with the attachment (the alias
/// GC reads back) and, with `hairpinMode`, hairpin on its bridge port, in
/// one `RTM_NEWLINK` (`ip link set DEV alias TAG type bridge_slave hairpin
/// on`).
fn label_port(inv: &Invocation, nl: &RouteSocket, index: u32) -> Result<(), Error> {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.attributes.push(LinkAttribute::IfAlias(inv.owner_tag()));
    if inv.settings.hairpin {
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(true)])),
        ]));
    }
    nl.request_raw(RouteNetlinkMessage::NewLink(m), 0)
        .map(drop)
        .map_err(nl_err("cannot label the node's end of the veth pair (alias, hairpin mode)"))
}

/// The part of ADD that needs the IPAM result: the pod's addresses and
/// routes, the gateway, masquerading, the result.
fn finish(inv: &Invocation, p: &Prepared, mut result: CNIResult) -> Result<String, Error> {
    let s = &inv.settings;

    // The default route through the gateway, when asked for.
    if s.is_default_gateway {
        for ip in &result.ips {
            let (Some(gw), v4) = (ip.gateway, ip.address.addr().is_ipv4()) else { continue };
            let dst: rscni_types::ipnet::IpNet =
                if v4 { "0.0.0.0/0".parse() } else { "::/0".parse() }
                    .map_err(|_| system("cannot build a default route"))?;
            if !result.routes.iter().any(|r| r.dst == dst) {
                result.routes.push(rscni_types::types::Route {
                    dst,
                    gw: Some(gw),
                    mtu: None,
                    advmss: None,
                    priority: None,
                    table: None,
                    scope: None,
                });
            }
        }
    }

    // Addresses and routes in the pod, in one netlink batch.
    let mut batch = p.pod_nl.batch();
    let nl_batch = nl_err("cannot configure the pod's interface");
    let mut pod_nets = Vec::new();
    for ip in &result.ips {
        let net = to_net(&ip.address)?;
        if net.is_ipv4() {
            batch.add_address(p.pod.index, net).map_err(&nl_batch)?;
        } else {
            let o = AddressOptions::default().flags(AddressFlags::NODAD);
            batch.add_address_with(p.pod.index, net, o).map_err(&nl_batch)?;
        }
        pod_nets.push(net);
    }
    for r in &result.routes {
        let dst = to_net(&r.dst)?;
        let gw = r.gw.or_else(|| gateway_for(&result.ips, dst.is_ipv4()));
        let mut route = Route::to(dst.network()).dev(p.pod.index);
        if let Some(gw) = gw {
            route = route.via(gw);
        }
        if let Some(m) = r.priority {
            route = route.metric(m);
        }
        batch.add_route(&route).map_err(&nl_batch)?;
    }
    batch.commit().map_err(&nl_batch)?;
    trace::mark("pod configured");

    // The gateway on the bridge and forwarding: node-wide state, changed
    // (under the lock) only when missing.
    if s.is_gateway {
        let mut missing = false;
        for ip in &result.ips {
            let Some(gw) = ip.gateway else { continue };
            let want = IpNet::new(gw, ip.address.prefix_len())
                .map_err(|e| system(format!("gateway {gw}: {e}")))?;
            missing |= !p.bridge_addrs.contains(&want);
        }
        if missing {
            let _lock = lock::acquire(s.bridge_name.as_str())?;
            set_gateways(&p.nl, p.bridge.index, &p.bridge.name, &result.ips, s.force_address)?;
        }
        for ((key, v4), on) in FORWARDING.iter().zip(p.forwarding_on) {
            let wanted = result.ips.iter().any(|i| i.address.addr().is_ipv4() == *v4);
            if wanted && !on {
                std::fs::write(key, "1")
                    .map_err(|e| system(format!("cannot write 1 to {key}: {e}")))?;
            }
        }
    }
    if s.ip_masq {
        let _lock = lock::acquire(s.bridge_name.as_str())?;
        trace::mark("masq locked");
        masq::add(&inv.masq_chain(), &pod_nets, &inv.owner_tag())?;
        trace::mark("masq added");
    }

    // The result, from what was read while IPAM ran.
    let with_mtu = inv.version >= SpecVersion::new(1, 1, 0);
    result.interfaces = vec![
        p.bridge.to_cni(with_mtu, None),
        p.host.to_cni(with_mtu, None),
        p.pod.to_cni(with_mtu, inv.netns.clone()),
    ];
    for ip in &mut result.ips {
        ip.interface = Some(2);
    }
    if let Some(dns) = &inv.conf.dns {
        result.dns = Some(dns.clone());
    }
    encode_result(inv.version, result)
}

/// Whether an existing bridge needs nothing done: up, and promiscuous if
/// asked. Another kind of device with the bridge's name is an error.
fn bridge_ready(link: &Link, s: &Settings) -> Result<bool, Error> {
    if *link.kind() != LinkKind::Bridge {
        return Err(Error::InvalidNetworkConfig(format!(
            "\"bridge\": {:?} already exists on the node and is not a bridge ({:?})",
            s.bridge_name.as_str(),
            link.kind()
        )));
    }
    Ok(link.is_up() && (!s.promisc || link.flags().contains(LinkFlags::PROMISC)))
}

/// The bridge, as it is when it needs nothing (one read, no lock);
/// otherwise, under the lock, created (with the configuration's MTU, VLAN
/// filtering) if missing, brought up, made promiscuous if asked, and read
/// back.
fn ensure_bridge(nl: &RouteSocket, s: &Settings) -> Result<Link, Error> {
    let look = || nl.link(&s.bridge).map_err(nl_err("cannot look the bridge up"));
    if let Some(l) = look()?
        && bridge_ready(&l, s)?
    {
        return Ok(l);
    }
    let _lock = lock::acquire(s.bridge_name.as_str())?;
    let link = match look()? {
        Some(l) => l,
        None => {
            let mut b = Bridge::builder(s.bridge.clone()).up();
            if let Some(mtu) = s.mtu {
                b = b.mtu(mtu);
            }
            if s.vlan.is_some() {
                b = b.vlan_filtering(true);
            }
            match b.create(nl) {
                Ok(created) => {
                    // Pin the kernel's random address: a bridge whose address
                    // was never set takes its lowest port's, and would change
                    // it (and every pod's gateway neighbour) as pods come and
                    // go.
                    let mac = nl
                        .require_link(&created)
                        .map_err(nl_err("cannot read the bridge back"))?
                        .mac();
                    if let Some(mac) = mac {
                        nl.set_mac(&created, mac)
                            .map_err(nl_err("cannot pin the bridge's address"))?;
                    }
                }
                // Made by someone else in the meantime (not a plugin
                // holding our lock).
                Err(e) if e.is_already_exists() => {}
                Err(e) if s.vlan.is_some() && e.errno() == Some(nslink::Errno::EOPNOTSUPP) => {
                    return Err(Error::UnsupportedNetworkConfiguration(format!(
                        "\"vlan\": {}: this kernel has no VLAN filtering for bridges (CONFIG_BRIDGE_VLAN_FILTERING): {e}",
                        s.vlan.unwrap_or_default()
                    )));
                }
                Err(e) => return Err(system(format!("cannot create the bridge: {e}"))),
            }
            nl.require_link(&s.bridge).map_err(nl_err("cannot read the bridge back"))?
        }
    };
    if bridge_ready(&link, s)? {
        return Ok(link);
    }
    if s.promisc && !link.flags().contains(LinkFlags::PROMISC) {
        let mut m = LinkMessage::default();
        m.header.index = link.index();
        m.header.flags = RawFlags::Promisc;
        m.header.change_mask = RawFlags::Promisc;
        nl.request_raw(RouteNetlinkMessage::SetLink(m), 0)
            .map_err(nl_err("cannot make the bridge promiscuous"))?;
    }
    if !link.is_up() {
        nl.set_up(link.index()).map_err(nl_err("cannot bring the bridge up"))?;
    }
    nl.require_link(link.index()).map_err(nl_err("cannot read the bridge back"))
}
