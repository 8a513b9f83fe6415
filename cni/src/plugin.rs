//! The operations: ADD, DEL, CHECK, STATUS and GC.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use nslink::netlink_packet_route::AddressFamily;
use nslink::netlink_packet_route::RouteNetlinkMessage;
use nslink::netlink_packet_route::link::{
    AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, LinkFlags as RawFlags,
    LinkMessage,
};
use nslink::{
    AddressFlags, AddressOptions, Bridge, BridgePortOptions, IfName, IntoIfName, IpNet, Link,
    LinkFlags, LinkKind, NetNs, Route, RouteSocket, VethPair,
};
use rscni_types::error::Error;
use rscni_types::legacy;
use rscni_types::types::{CNIResult, CNIResultWithVersion, Cmd, Interface, IpConfig, NetConf};
use rscni_types::version::{PluginInfo, SpecVersion};
use serde_json::Value;

use crate::conf::{self, Settings};
use crate::{ipam, lock, masq, names};

/// Code of a CHECK that found the attachment different from what ADD made
/// (plugin-specific codes start at 100).
pub const CODE_MISMATCH: u32 = 100;
/// Code of a failure of the node's networking (netlink, nftables, exec).
pub const CODE_SYSTEM: u32 = 101;

/// A failure of the system (not of the configuration).
pub fn system(details: impl Into<String>) -> Error {
    Error::Custom(CODE_SYSTEM, "nslink-bridge could not change the network".into(), details.into())
}

fn nl_err(what: &str) -> impl Fn(nslink::Error) -> Error + '_ {
    move |e| system(format!("{what}: {e}"))
}

fn mismatch(details: impl Into<String>) -> Error {
    Error::Custom(CODE_MISMATCH, "the attachment is not what ADD made".into(), details.into())
}

/// Everything one run of the plugin was given.
#[derive(Debug)]
pub struct Invocation {
    /// The configuration as received (what the IPAM plugin gets too).
    pub stdin: Vec<u8>,
    /// The same, parsed.
    pub raw: Value,
    /// The configuration's standard keys.
    pub conf: NetConf,
    /// The bridge keys, checked.
    pub settings: Settings,
    /// The configuration's version (the one results are reported in).
    pub version: SpecVersion,
    /// `CNI_CONTAINERID`.
    pub container_id: String,
    /// `CNI_NETNS`.
    pub netns: Option<String>,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_PATH`, split.
    pub path: Vec<PathBuf>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn valid_container_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Invocation {
    /// Reads the environment and the configuration, and checks both.
    pub fn from_env(
        cmd: Cmd,
        stdin: &[u8],
        version_out: &mut SpecVersion,
    ) -> Result<Invocation, Error> {
        let raw: Value = serde_json::from_slice(stdin)
            .map_err(|e| Error::FailedToDecode(format!("the configuration on stdin: {e}")))?;
        let conf: NetConf = serde_json::from_value(raw.clone())
            .map_err(|e| Error::FailedToDecode(format!("the configuration on stdin: {e}")))?;
        let version = conf.version()?;
        *version_out = version;
        PluginInfo::default().negotiate(&conf, cmd)?;
        conf.validate_name()?;
        let settings = conf::settings(&conf, &raw)?;

        let attachment = matches!(cmd, Cmd::Add | Cmd::Del | Cmd::Check);
        let mut missing = Vec::new();
        let container_id = env("CNI_CONTAINERID").unwrap_or_default();
        let ifname = env("CNI_IFNAME").unwrap_or_default();
        let netns = env("CNI_NETNS");
        let path = env("CNI_PATH");
        if attachment && container_id.is_empty() {
            missing.push("CNI_CONTAINERID");
        }
        if attachment && ifname.is_empty() {
            missing.push("CNI_IFNAME");
        }
        if matches!(cmd, Cmd::Add | Cmd::Check) && netns.is_none() {
            missing.push("CNI_NETNS");
        }
        if path.is_none() {
            missing.push("CNI_PATH");
        }
        if !missing.is_empty() {
            return Err(Error::missing_env(&missing));
        }
        if attachment && !valid_container_id(&container_id) {
            return Err(Error::InvalidEnvValue(format!(
                "CNI_CONTAINERID {container_id:?} must start with a letter or digit and hold only letters, digits, '_', '.' and '-'"
            )));
        }
        if attachment && let Err(e) = ifname.as_str().into_ifname() {
            return Err(Error::InvalidEnvValue(format!(
                "CNI_IFNAME {ifname:?} is not a valid interface name: {e}"
            )));
        }
        let path = path
            .unwrap_or_default()
            .split(':')
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect();
        Ok(Invocation {
            stdin: stdin.to_vec(),
            raw,
            conf,
            settings,
            version,
            container_id,
            netns,
            ifname,
            path,
        })
    }

    fn host_veth(&self) -> String {
        names::host_veth(&self.conf.name, &self.container_id, &self.ifname)
    }

    fn masq_chain(&self) -> String {
        names::masq_chain(&self.conf.name, &self.container_id, &self.ifname)
    }

    fn owner_tag(&self) -> String {
        names::owner_tag(&self.conf.name, &self.container_id, &self.ifname)
    }

    fn open_netns(&self) -> Result<NetNs, Error> {
        let path = self.netns.as_deref().unwrap_or_default();
        NetNs::open_path(path).map_err(|e| {
            Error::InvalidEnvValue(format!(
                "CNI_NETNS {path:?} is not a network namespace that can be opened: {e}"
            ))
        })
    }
}

fn ifname(s: &str) -> Result<IfName, Error> {
    s.into_ifname().map_err(|e| Error::InvalidEnvValue(format!("{s:?}: {e}")))
}

fn to_net(n: &rscni_types::ipnet::IpNet) -> Result<IpNet, Error> {
    IpNet::new(n.addr(), n.prefix_len()).map_err(|e| system(format!("address {n}: {e}")))
}

// ---------------------------------------------------------------- ADD

/// ADD: bridge, IPAM, veth with its pod end made in the pod, addresses and
/// routes, gateway, masquerading. On failure whatever this run made is
/// undone (the bridge stays, as with the reference plugin).
pub fn add(inv: &Invocation) -> Result<String, Error> {
    let s = &inv.settings;
    let pod = inv.open_netns()?;
    let nl = RouteSocket::open().map_err(nl_err("cannot open a netlink socket on the node"))?;
    // A socket in the pod's namespace, opened from there by this (single)
    // thread, which goes straight back.
    let pod_nl = {
        let _in_pod =
            pod.enter_from(nl.netns()).map_err(nl_err("cannot enter the pod's namespace"))?;
        RouteSocket::open()
    }
    .map_err(nl_err("cannot open a netlink socket in the pod's namespace"))?;
    let ifname = ifname(&inv.ifname)?;
    let host_name = inv.host_veth();

    // A previous ADD of this same attachment that died half-way left its
    // veth (named after the attachment): remove it, and the pod end with it.
    if nl.link(host_name.as_str()).map_err(nl_err("cannot list the node's links"))?.is_some() {
        delete_link_if_there(&nl, host_name.as_str())?;
    }
    if pod_nl.link(&ifname).map_err(nl_err("cannot list the pod's links"))?.is_some() {
        return Err(ifname_taken(inv));
    }

    let lock = lock::acquire(s.bridge_name.as_str())?;
    let bridge = ensure_bridge(&nl, s)?;
    // The IPAM plugin runs while the veth pair is made.
    let running = ipam::start_add(inv)?;
    let made = make_veth(inv, &nl, &pod_nl, &bridge, &ifname, &host_name);
    let ipam_result = match ipam::finish_add(inv, running) {
        Ok(r) => Ok(r),
        // A previous ADD that died before its clean-up left the allocation:
        // release it (this attachment's own) and ask again.
        Err(first) => match ipam::del(inv) {
            Ok(()) => ipam::add(inv),
            Err(_) => Err(first),
        },
    };
    drop(lock);
    let outcome = match (made, ipam_result) {
        (Ok(veth), Ok(result)) => add_rest(inv, &nl, &pod_nl, &bridge, veth, result),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match outcome {
        Ok(json) => Ok(json),
        Err(e) => {
            let _ = delete_link_if_there(&nl, host_name.as_str());
            let _lock = lock::acquire(s.bridge_name.as_str());
            let _ = ipam::del(inv);
            if s.ip_masq {
                let chain = inv.masq_chain();
                let _ = masq::remove(|c, _| c == chain);
            }
            Err(e)
        }
    }
}

fn ifname_taken(inv: &Invocation) -> Error {
    Error::InvalidEnvValue(format!(
        "CNI_IFNAME {:?}: the namespace CNI_NETNS {:?} already has an interface with that name",
        inv.ifname,
        inv.netns.as_deref().unwrap_or_default()
    ))
}

/// The veth pair: node end on the bridge (named after the attachment,
/// labelled, hairpin and VLAN as configured), pod end made in the pod and
/// up. Returns the two indexes.
fn make_veth(
    inv: &Invocation,
    nl: &RouteSocket,
    pod_nl: &RouteSocket,
    bridge: &Bridge,
    ifname: &IfName,
    host_name: &str,
) -> Result<(u32, u32), Error> {
    let s = &inv.settings;
    let mut veth =
        VethPair::builder(host_name, ifname).peer_netns(pod_nl.netns()).master(bridge).up();
    if let Some(mtu) = s.mtu {
        veth = veth.mtu(mtu);
    }
    let pair = veth.create(nl).map_err(|e| {
        if e.is_already_exists() {
            ifname_taken(inv)
        } else {
            system(format!("cannot create the veth pair {host_name} / {ifname}: {e}"))
        }
    })?;
    let host_index = pair.local().index();
    let pod_index = pair.peer().index();
    nl.set_alias(host_index, &inv.owner_tag())
        .map_err(nl_err("cannot label the node's end of the veth pair"))?;
    if s.hairpin {
        nl.set_bridge_port(
            host_index,
            BridgePortOptions { hairpin: Some(true), ..Default::default() },
        )
        .map_err(nl_err("cannot set hairpin mode on the bridge port"))?;
    }
    if let Some(vid) = s.vlan {
        set_port_vlan(nl, host_index, vid)?;
    }
    pod_nl.set_up(pod_index).map_err(nl_err("cannot bring the pod's interface up"))?;
    Ok((host_index, pod_index))
}

fn add_rest(
    inv: &Invocation,
    nl: &RouteSocket,
    pod_nl: &RouteSocket,
    bridge: &Bridge,
    (host_index, pod_index): (u32, u32),
    mut result: CNIResult,
) -> Result<String, Error> {
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

    // The pod's end: up, addresses, routes, in one netlink batch.
    let mut batch = pod_nl.batch();
    let nl_batch = nl_err("cannot configure the pod's interface");
    let mut pod_nets = Vec::new();
    for ip in &result.ips {
        let net = to_net(&ip.address)?;
        if net.is_ipv4() {
            batch.add_address(pod_index, net).map_err(&nl_batch)?;
        } else {
            let o = AddressOptions::default().flags(AddressFlags::NODAD);
            batch.add_address_with(pod_index, net, o).map_err(&nl_batch)?;
        }
        pod_nets.push(net);
    }
    for r in &result.routes {
        let dst = to_net(&r.dst)?;
        let gw = r.gw.or_else(|| gateway_for(&result.ips, dst.is_ipv4()));
        let mut route = Route::to(dst.network()).dev(pod_index);
        if let Some(gw) = gw {
            route = route.via(gw);
        }
        if let Some(m) = r.priority {
            route = route.metric(m);
        }
        batch.add_route(&route).map_err(&nl_batch)?;
    }
    batch.commit().map_err(&nl_batch)?;

    // The gateway on the bridge, forwarding, masquerading: node-wide state.
    {
        let _lock = lock::acquire(s.bridge_name.as_str())?;
        if s.is_gateway {
            set_gateways(nl, bridge, &result.ips, s.force_address)?;
            enable_forwarding(&result.ips)?;
        }
        if s.ip_masq {
            masq::add(&inv.masq_chain(), &pod_nets, &inv.owner_tag())?;
        }
    }

    // The result.
    let bridge_link = nl.require_link(bridge).map_err(nl_err("cannot read the bridge"))?;
    let host_link = nl.require_link(host_index).map_err(nl_err("cannot read the veth"))?;
    let pod_link = pod_nl.require_link(pod_index).map_err(nl_err("cannot read the pod's veth"))?;
    let with_mtu = inv.version >= SpecVersion::new(1, 1, 0);
    let iface = |l: &Link, sandbox: Option<String>| Interface {
        name: l.name().to_string(),
        mac: l.mac().map(|m| m.to_string()).unwrap_or_default(),
        mtu: with_mtu.then_some(l.mtu()),
        sandbox,
        socket_path: None,
        pci_id: None,
    };
    result.interfaces = vec![
        iface(&bridge_link, None),
        iface(&host_link, None),
        iface(&pod_link, inv.netns.clone()),
    ];
    for ip in &mut result.ips {
        ip.interface = Some(2);
    }
    if let Some(dns) = &inv.conf.dns {
        result.dns = Some(dns.clone());
    }
    encode_result(inv.version, result)
}

fn encode_result(version: SpecVersion, result: CNIResult) -> Result<String, Error> {
    let json = if version.is_legacy() {
        serde_json::to_string(&legacy::CNIResult::new(version, result))
    } else {
        serde_json::to_string(&CNIResultWithVersion::new(version, result))
    };
    json.map_err(|e| system(format!("cannot encode the result: {e}")))
}

fn gateway_for(ips: &[IpConfig], v4: bool) -> Option<IpAddr> {
    ips.iter().filter(|ip| ip.address.addr().is_ipv4() == v4).find_map(|ip| ip.gateway)
}

/// The bridge, created (with the configuration's MTU, VLAN filtering) if
/// missing, up, promiscuous if asked.
fn ensure_bridge(nl: &RouteSocket, s: &Settings) -> Result<Bridge, Error> {
    let existing = nl.link(&s.bridge).map_err(nl_err("cannot look the bridge up"))?;
    let link = match existing {
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
                // Made by someone else in the meantime (outside our lock).
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
    if *link.kind() != LinkKind::Bridge {
        return Err(Error::InvalidNetworkConfig(format!(
            "\"bridge\": {:?} already exists on the node and is not a bridge ({:?})",
            s.bridge_name.as_str(),
            link.kind()
        )));
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
    Bridge::open(nl, link.index()).map_err(nl_err("cannot open the bridge"))
}

/// `bridge vlan add dev PORT vid VID pvid untagged master` (bridge(8)):
/// an `RTM_SETLINK` of family `AF_BRIDGE` with `IFLA_AF_SPEC`.
fn set_port_vlan(nl: &RouteSocket, port: u32, vid: u16) -> Result<(), Error> {
    let mut m = LinkMessage::default();
    m.header.interface_family = AddressFamily::Bridge;
    m.header.index = port;
    m.attributes.push(nslink::netlink_packet_route::link::LinkAttribute::AfSpecBridge(vec![
        AfSpecBridge::Flags(BridgeFlag::Controller),
        AfSpecBridge::VlanInfo(BridgeVlanInfo {
            flags: BridgeVlanInfoFlags::Pvid | BridgeVlanInfoFlags::Untagged,
            vid,
        }),
    ]));
    nl.request_raw(RouteNetlinkMessage::SetLink(m), 0)
        .map(|_| ())
        .map_err(nl_err(&format!("cannot put the pod's port in VLAN {vid}")))
}

/// Puts each IP's gateway on the bridge, with the IP's prefix length.
fn set_gateways(
    nl: &RouteSocket,
    bridge: &Bridge,
    ips: &[IpConfig],
    force: bool,
) -> Result<(), Error> {
    let have = nl.link_addresses(bridge).map_err(nl_err("cannot read the bridge's addresses"))?;
    for ip in ips {
        let Some(gw) = ip.gateway else { continue };
        let want = IpNet::new(gw, ip.address.prefix_len())
            .map_err(|e| system(format!("gateway {gw}: {e}")))?;
        if have.iter().any(|a| a.net == want) {
            continue;
        }
        // An IPv4 bridge has one gateway address; an IPv6 one may have
        // several, but not two in the same subnet.
        let conflicting: Vec<IpNet> = have
            .iter()
            .map(|a| a.net)
            .filter(|n| {
                n.is_ipv4() == want.is_ipv4()
                    && (want.is_ipv4() || n.network() == want.network())
                    && !matches!(n.addr(), IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
            })
            .collect();
        if !conflicting.is_empty() {
            if !force {
                return Err(Error::InvalidNetworkConfig(format!(
                    "the bridge {} already has the address {} and the gateway needs {want}; set \"forceAddress\" to replace it",
                    bridge.name(),
                    conflicting[0]
                )));
            }
            for old in conflicting {
                nl.delete_address(bridge, old)
                    .map_err(nl_err("cannot remove the bridge's old address"))?;
            }
        }
        match nl.add_address(bridge, want) {
            Ok(()) => {}
            Err(e) if e.is_already_exists() => {}
            Err(e) => return Err(system(format!("cannot put {want} on the bridge: {e}"))),
        }
    }
    Ok(())
}

/// `net.ipv4.ip_forward` (and `net.ipv6.conf.all.forwarding`) in the
/// node's namespace, for the families the pod has.
fn enable_forwarding(ips: &[IpConfig]) -> Result<(), Error> {
    let mut keys = Vec::new();
    if ips.iter().any(|i| i.address.addr().is_ipv4()) {
        keys.push("/proc/sys/net/ipv4/ip_forward");
    }
    if ips.iter().any(|i| i.address.addr().is_ipv6()) {
        keys.push("/proc/sys/net/ipv6/conf/all/forwarding");
    }
    for k in keys {
        if std::fs::read_to_string(k).map(|v| v.trim() == "1").unwrap_or(false) {
            continue;
        }
        std::fs::write(k, "1").map_err(|e| system(format!("cannot write 1 to {k}: {e}")))?;
    }
    Ok(())
}

fn delete_link_if_there(
    nl: &RouteSocket,
    name: impl nslink::IntoLinkId + std::fmt::Display + Copy,
) -> Result<(), Error> {
    match nl.delete_link(name) {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(system(format!("cannot delete {name}: {e}"))),
    }
}

// ---------------------------------------------------------------- DEL

/// DEL: releases the IPAM allocation, deletes the veth pair (from the
/// node's end, named after the attachment: the pod's namespace need not
/// exist any more), removes the masquerading rules. Whatever is already
/// gone is not an error.
pub fn del(inv: &Invocation) -> Result<(), Error> {
    let s = &inv.settings;
    let nl = RouteSocket::open().map_err(nl_err("cannot open a netlink socket on the node"))?;
    {
        let _lock = lock::acquire(s.bridge_name.as_str())?;
        // The veth pair goes while the IPAM plugin runs.
        let running = ipam::start_del(inv)?;
        let deleted = delete_link_if_there(&nl, inv.host_veth().as_str());
        ipam::finish_del(inv, running)?;
        deleted?;
    }
    if s.ip_masq {
        let _lock = lock::acquire(s.bridge_name.as_str())?;
        let chain = inv.masq_chain();
        masq::remove(|c, _| c == chain)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- CHECK

/// CHECK: the IPAM plugin's check, then the pod's interface, addresses
/// and routes as `prevResult` lists them, the node's veth on the bridge
/// with the configured hairpin mode, the gateway, the masquerading chain.
pub fn check(inv: &Invocation) -> Result<(), Error> {
    let s = &inv.settings;
    let Some(prev) = &inv.conf.prev_result else {
        return Err(Error::InvalidNetworkConfig(
            "CHECK needs \"prevResult\": the result of the ADD to check".into(),
        ));
    };
    ipam::check(inv)?;
    let pod = inv.open_netns()?;
    let nl = RouteSocket::open().map_err(nl_err("cannot open a netlink socket on the node"))?;
    let pod_nl = RouteSocket::open_in(&pod)
        .map_err(nl_err("cannot open a netlink socket in the pod's namespace"))?;
    let netns = inv.netns.clone().unwrap_or_default();

    let Some(pos) = prev
        .interfaces
        .iter()
        .position(|i| i.name == inv.ifname && i.sandbox.as_deref() == Some(netns.as_str()))
    else {
        return Err(mismatch(format!(
            "prevResult lists no interface {:?} in {netns:?}",
            inv.ifname
        )));
    };
    let want = &prev.interfaces[pos];
    let ifname = ifname(&inv.ifname)?;
    let Some(link) = pod_nl.link(&ifname).map_err(nl_err("cannot list the pod's links"))? else {
        return Err(mismatch(format!("the pod has no interface {:?}", inv.ifname)));
    };
    if *link.kind() != LinkKind::Veth {
        return Err(mismatch(format!("{:?} in the pod is not a veth", inv.ifname)));
    }
    let mac = link.mac().map(|m| m.to_string()).unwrap_or_default();
    if !want.mac.is_empty() && !want.mac.eq_ignore_ascii_case(&mac) {
        return Err(mismatch(format!(
            "{:?} in the pod has the MAC address {mac}, prevResult says {}",
            inv.ifname, want.mac
        )));
    }
    if let Some(mtu) = s.mtu
        && link.mtu() != mtu
    {
        return Err(mismatch(format!(
            "{:?} in the pod has MTU {}, the configuration says {mtu}",
            inv.ifname,
            link.mtu()
        )));
    }
    let addrs =
        pod_nl.link_addresses(link.index()).map_err(nl_err("cannot read the pod's addresses"))?;
    for ip in &prev.ips {
        if ip.interface.is_some_and(|i| i as usize != pos) {
            continue;
        }
        let net = to_net(&ip.address)?;
        if !addrs.iter().any(|a| a.net == net) {
            return Err(mismatch(format!("the pod's {:?} lacks the address {net}", inv.ifname)));
        }
    }
    let routes = pod_nl.routes().map_err(nl_err("cannot read the pod's routes"))?;
    for r in &prev.routes {
        let dst = to_net(&r.dst)?.network();
        let gw = r.gw.or_else(|| gateway_for(&prev.ips, dst.is_ipv4()));
        let found = routes.iter().any(|have| {
            have.is_main() && have.dst.network() == dst && (gw.is_none() || have.gateway == gw)
        });
        if !found {
            let via = gw.map(|g| format!(" via {g}")).unwrap_or_default();
            return Err(mismatch(format!("the pod has no route to {dst}{via}")));
        }
    }

    let bridge = match nl.link(&s.bridge).map_err(nl_err("cannot look the bridge up"))? {
        Some(b) if *b.kind() == LinkKind::Bridge => b,
        _ => return Err(mismatch(format!("the node has no bridge {:?}", s.bridge_name.as_str()))),
    };
    let host_name = inv.host_veth();
    let Some(host) = nl.link(host_name.as_str()).map_err(nl_err("cannot list the node's links"))?
    else {
        return Err(mismatch(format!("the node has no veth {host_name} for this pod")));
    };
    if host.master() != Some(bridge.index()) {
        return Err(mismatch(format!(
            "the node's veth {host_name} is not a port of the bridge {}",
            s.bridge_name.as_str()
        )));
    }
    let hairpin = host.bridge_port().and_then(|p| p.hairpin).unwrap_or(false);
    if hairpin != s.hairpin {
        return Err(mismatch(format!(
            "hairpin mode is {} on {host_name}, the configuration says {}",
            if hairpin { "on" } else { "off" },
            if s.hairpin { "on" } else { "off" }
        )));
    }
    if s.is_gateway {
        let baddrs = nl.link_addresses(bridge.index()).map_err(nl_err("cannot read the bridge"))?;
        for ip in &prev.ips {
            let Some(gw) = ip.gateway else { continue };
            if !baddrs.iter().any(|a| a.net.addr() == gw) {
                return Err(mismatch(format!(
                    "the bridge {} lacks the gateway address {gw}",
                    s.bridge_name.as_str()
                )));
            }
        }
    }
    if s.ip_masq && !masq::has_chain(&inv.masq_chain())? {
        return Err(mismatch(format!(
            "the masquerading rules of this pod are missing from {}",
            masq::TABLE
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------- STATUS, GC

/// STATUS: ready when the IPAM plugin can be found (and `nft`, for
/// ipMasq).
pub fn status(inv: &Invocation) -> Result<(), Error> {
    if let Err(e) = ipam::find(&inv.path, &inv.settings.ipam_type) {
        return Err(Error::PluginNotAvailable(e.details().to_owned()));
    }
    if inv.settings.ip_masq {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("nft").is_file()))
            .unwrap_or(false);
        if !found {
            return Err(Error::PluginNotAvailable(
                "ipMasq needs the nftables tool nft, which is not in PATH".into(),
            ));
        }
    }
    Ok(())
}

/// GC: releases what belongs to this network but to none of the
/// attachments in `cni.dev/valid-attachments`: IPAM allocations (through
/// the IPAM plugin's GC, or for a host-local that predates GC, through its
/// DEL for each stale allocation found in its data directory), node-side
/// veths (recognised by their alias) and masquerading chains (by their
/// rules' comment).
pub fn gc(inv: &Invocation) -> Result<(), Error> {
    let s = &inv.settings;
    let valid: HashSet<(String, String)> = inv
        .conf
        .valid_attachments
        .iter()
        .flatten()
        .map(|a| (a.container_id.clone(), a.ifname.clone()))
        .collect();
    let net = &inv.conf.name;
    let prefix = format!("{} ", names::owner_prefix(net));
    let stale = |tag: &str| -> Option<(String, String)> {
        let rest = tag.strip_prefix(&prefix)?;
        let (cid, ifname) = rest.split_once(' ')?;
        let key = (cid.to_owned(), ifname.to_owned());
        (!valid.contains(&key)).then_some(key)
    };

    let _lock = lock::acquire(s.bridge_name.as_str())?;
    if !ipam::gc(inv)? && s.ipam_type == "host-local" {
        for (cid, ifname) in host_local_allocations(inv) {
            if !valid.contains(&(cid.clone(), ifname.clone())) {
                ipam::del_other(inv, &cid, &ifname)?;
            }
        }
    }
    let nl = RouteSocket::open().map_err(nl_err("cannot open a netlink socket on the node"))?;
    for l in nl.links().map_err(nl_err("cannot list the node's links"))? {
        if *l.kind() == LinkKind::Veth && l.alias().and_then(stale).is_some() {
            delete_link_if_there(&nl, l.index())?;
        }
    }
    masq::remove(|_, comments| comments.first().and_then(|c| stale(c)).is_some())
}

/// The (container, interface) pairs host-local has allocations for, from
/// its data directory (`ipam.dataDir`, default `/var/lib/cni/networks`):
/// one file per address, holding the container ID and the interface name
/// on two lines.
fn host_local_allocations(inv: &Invocation) -> Vec<(String, String)> {
    let dir = inv
        .raw
        .get("ipam")
        .and_then(|i| i.get("dataDir"))
        .and_then(Value::as_str)
        .unwrap_or("/var/lib/cni/networks");
    let dir = PathBuf::from(dir).join(&inv.conf.name);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<IpAddr>().is_err() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let mut lines = text.lines().map(str::trim);
        if let (Some(cid), Some(ifname)) = (lines.next(), lines.next())
            && !cid.is_empty()
            && !found.contains(&(cid.to_owned(), ifname.to_owned()))
        {
            found.push((cid.to_owned(), ifname.to_owned()));
        }
    }
    found
}
