//! The operations: ADD, DEL, CHECK, STATUS and GC.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use nslink::netlink_packet_route::AddressFamily;
use nslink::netlink_packet_route::RouteNetlinkMessage;
use nslink::netlink_packet_route::link::{
    AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, LinkMessage,
};
use nslink::{IfName, IntoIfName, IpNet, LinkKind, NetNs, RouteSocket};
use rscni_types::error::Error;
use rscni_types::legacy;
use rscni_types::types::{CNIResult, CNIResultWithVersion, Cmd, IpConfig, NetConf};
use rscni_types::version::{PluginInfo, SpecVersion};
use serde::Deserialize;
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

pub(crate) fn nl_err(what: &str) -> impl Fn(nslink::Error) -> Error + '_ {
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
        let conf = NetConf::deserialize(&raw)
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

    pub(crate) fn host_veth(&self) -> String {
        names::host_veth(&self.conf.name, &self.container_id, &self.ifname)
    }

    pub(crate) fn masq_chain(&self) -> String {
        names::masq_chain(&self.conf.name, &self.container_id, &self.ifname)
    }

    pub(crate) fn owner_tag(&self) -> String {
        names::owner_tag(&self.conf.name, &self.container_id, &self.ifname)
    }

    pub(crate) fn open_netns(&self) -> Result<NetNs, Error> {
        let path = self.netns.as_deref().unwrap_or_default();
        NetNs::open_path(path).map_err(|e| {
            Error::InvalidEnvValue(format!(
                "CNI_NETNS {path:?} is not a network namespace that can be opened: {e}"
            ))
        })
    }
}

pub(crate) fn ifname(s: &str) -> Result<IfName, Error> {
    s.into_ifname().map_err(|e| Error::InvalidEnvValue(format!("{s:?}: {e}")))
}

pub(crate) fn to_net(n: &rscni_types::ipnet::IpNet) -> Result<IpNet, Error> {
    IpNet::new(n.addr(), n.prefix_len()).map_err(|e| system(format!("address {n}: {e}")))
}

// ---------------------------------------------------------------- ADD helpers

pub(crate) fn ifname_taken(inv: &Invocation) -> Error {
    Error::InvalidEnvValue(format!(
        "CNI_IFNAME {:?}: the namespace CNI_NETNS {:?} already has an interface with that name",
        inv.ifname,
        inv.netns.as_deref().unwrap_or_default()
    ))
}

pub(crate) fn encode_result(version: SpecVersion, result: CNIResult) -> Result<String, Error> {
    let json = if version.is_legacy() {
        serde_json::to_string(&legacy::CNIResult::new(version, result))
    } else {
        serde_json::to_string(&CNIResultWithVersion::new(version, result))
    };
    json.map_err(|e| system(format!("cannot encode the result: {e}")))
}

pub(crate) fn gateway_for(ips: &[IpConfig], v4: bool) -> Option<IpAddr> {
    ips.iter().filter(|ip| ip.address.addr().is_ipv4() == v4).find_map(|ip| ip.gateway)
}

/// `bridge vlan add dev PORT vid VID pvid untagged master` (bridge(8)):
/// an `RTM_SETLINK` of family `AF_BRIDGE` with `IFLA_AF_SPEC`.
pub(crate) fn set_port_vlan(nl: &RouteSocket, port: u32, vid: u16) -> Result<(), Error> {
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
pub(crate) fn set_gateways(
    nl: &RouteSocket,
    bridge: u32,
    bridge_name: &str,
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
                    bridge_name, conflicting[0]
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

pub(crate) fn delete_link_if_there(
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
///
/// The IPAM plugin is started first and runs while the pair goes: the
/// kernel's teardown of a device waits for RCU grace periods, most of a
/// DEL. No lock is needed but for nftables: host-local locks its own data,
/// and the pair is this attachment's own.
pub fn del(inv: &Invocation) -> Result<(), Error> {
    let s = &inv.settings;
    let running = ipam::start_del(inv)?;
    crate::trace::mark("ipam started");
    // The masquerading rules first: the kernel frees them after an RCU
    // grace period, which then passes while the veth pair goes (see
    // `masq::remove`).
    let unmasqueraded = if s.ip_masq {
        let _lock = lock::acquire(s.bridge_name.as_str())?;
        let chain = inv.masq_chain();
        masq::remove(false, |c, _| c == chain)
    } else {
        Ok(masq::Done::default())
    };
    crate::trace::mark("masq removed");
    let deleted = RouteSocket::open()
        .map_err(nl_err("cannot open a netlink socket on the node"))
        .and_then(|nl| delete_link_if_there(&nl, inv.host_veth().as_str()));
    crate::trace::mark("veth deleted");
    let unmasqueraded = unmasqueraded.map(drop);
    let released = ipam::finish_del(inv, running);
    crate::trace::mark("ipam done");
    released?;
    deleted?;
    unmasqueraded
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

/// STATUS: ready when the IPAM plugin can be found.
pub fn status(inv: &Invocation) -> Result<(), Error> {
    if let Err(e) = ipam::find(&inv.path, &inv.settings.ipam_type) {
        return Err(Error::PluginNotAvailable(e.details().to_owned()));
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
    masq::remove(true, |_, comments| comments.first().and_then(|c| stale(c)).is_some()).map(drop)
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
