//! `nsip link …`: show, add, set, del (ip-link(8)).

use std::net::IpAddr;
use std::time::Duration;

use nslink::link::{TunMode, TunTap};
use nslink::netlink_packet_route::link::LinkAttribute;
use nslink::{
    BondMode, BondOptions, BridgeOptions, GeneveOptions, IpvlanIsolation, IpvlanMode,
    IpvlanOptions, KindOptions, Link, LinkBuilder, LinkFlags, LinkGroup, MacAddr, MacvlanMode,
    MacvlanOptions, NetNs, VethOptions, VlanOptions, VlanProtocol, VrfOptions, VxlanOptions,
};
use serde_json::Value;

use crate::cli::{Ctx, Obj, Res, Words, find, name_of, pairs, parse_num, parse_word, usage};

pub fn run(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "l") => show(ctx, w),
        Some("add" | "a") => add(ctx, w),
        Some("set" | "s" | "change" | "chg") => set(ctx, w),
        Some("delete" | "del" | "d") => del(ctx, w),
        Some("property" | "prop") => property(ctx, w),
        Some(other) => usage(format!("unknown link command \"{other}\"")),
    }
}

/// `ip link show [dev] DEV | group N | type KIND | master DEV | up`.
fn show(ctx: &Ctx, mut w: Words) -> Res {
    let links = ctx.links()?;
    let mut dev = None;
    let mut group = None;
    let mut kind = None;
    let mut master = None;
    let mut only_up = false;
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => dev = Some(w.value("dev")?),
            "group" => group = Some(parse_group(&w.value("group")?)?),
            "type" => kind = Some(w.value("type")?),
            "master" => master = Some(find(&links, &w.value("master")?)?.index()),
            "up" => only_up = true,
            _ if dev.is_none() => dev = Some(word),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let chosen: Vec<&Link> = match &dev {
        Some(d) => vec![find(&links, d)?],
        None => links
            .iter()
            .filter(|l| group.is_none_or(|g| l.group() == g))
            .filter(|l| kind.as_deref().is_none_or(|k| l.kind().info_kind() == Some(k)))
            .filter(|l| master.is_none_or(|m| l.master() == Some(m)))
            .filter(|l| !only_up || l.flags().contains(LinkFlags::UP))
            .collect(),
    };
    let rows: Vec<Value> = chosen.iter().map(|l| link_json(l, &links, ctx.details)).collect();
    ctx.print(&rows, link_text);
    Ok(())
}

/// The attributes nslink's `Link` has no getter for, read from the
/// message the kernel sent.
fn raw(l: &Link) -> Vec<LinkAttribute> {
    l.message().map(|m| m.attributes).unwrap_or_default()
}

/// A group: a number or `default` (0).
fn parse_group(v: &str) -> Res<LinkGroup> {
    parse_word("group", v)
}

/// The words `ip` prints for a device's flags, in its order: `NO-CARRIER`
/// first when up without carrier; `RUNNING` is never shown; `M-DOWN`
/// last when the linked device (same namespace) is down.
pub fn flag_words(l: &Link, links: &[Link]) -> Vec<Value> {
    const NAMES: [(LinkFlags, &str); 15] = [
        (LinkFlags::LOOPBACK, "LOOPBACK"),
        (LinkFlags::BROADCAST, "BROADCAST"),
        (LinkFlags::POINTOPOINT, "POINTOPOINT"),
        (LinkFlags::MULTICAST, "MULTICAST"),
        (LinkFlags::NOARP, "NOARP"),
        (LinkFlags::ALLMULTI, "ALLMULTI"),
        (LinkFlags::PROMISC, "PROMISC"),
        (LinkFlags::from_bits_retain(0x20), "NOTRAILERS"),
        (LinkFlags::from_bits_retain(0x4), "DEBUG"),
        (LinkFlags::MASTER, "MASTER"),
        (LinkFlags::SLAVE, "SLAVE"),
        (LinkFlags::UP, "UP"),
        (LinkFlags::LOWER_UP, "LOWER_UP"),
        (LinkFlags::DORMANT, "DORMANT"),
        (LinkFlags::ECHO, "ECHO"),
    ];
    let f = l.flags();
    let mut out = Vec::new();
    if f.contains(LinkFlags::UP) && !f.contains(LinkFlags::RUNNING) {
        out.push(Value::from("NO-CARRIER"));
    }
    for (flag, word) in NAMES {
        if f.contains(flag) {
            out.push(Value::from(word));
        }
    }
    if let (Some(peer), None) = (l.parent_index(), l.link_netnsid())
        && peer != 0
        && peer != l.index()
        && let Some(p) = links.iter().find(|p| p.index() == peer)
        && !p.flags().contains(LinkFlags::UP)
    {
        out.push(Value::from("M-DOWN"));
    }
    out
}

/// `ip`'s name for a link layer type (`ARPHRD_*`).
fn link_type_word(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "ether",
        768 => "ipip",
        772 => "loopback",
        776 => "sit",
        778 => "gre",
        823 => "ip6gre",
        65534 => "none",
        _ => return None,
    })
}

fn mac_text(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// One device as `ip -j link show` (and `-d`) prints it: the fields nslink
/// reads, with `ip`'s names and values.
pub fn link_json(l: &Link, links: &[Link], details: bool) -> Value {
    let attrs = raw(l);
    let mut o = Obj::new();
    o.set("ifindex", l.index()).set("ifname", l.name().to_string());
    if let Some(peer) = l.parent_index().filter(|p| *p != 0 && *p != l.index()) {
        match l.link_netnsid() {
            Some(id) => {
                o.set("link_index", peer).set("link_netnsid", id);
            }
            None => {
                o.set("link", name_of(links, peer));
            }
        }
    }
    o.set("flags", flag_words(l, links)).set("mtu", l.mtu());
    if let Some(m) = l.master() {
        o.set("master", name_of(links, m));
    }
    o.set("operstate", l.operstate().as_str());
    o.set("group", l.group().to_string());
    o.opt("txqlen", l.txqueuelen());
    if let Some(t) = link_type_word(l.link_type()) {
        o.set("link_type", t);
    }
    for a in &attrs {
        match a {
            LinkAttribute::Address(b) if !b.is_empty() => {
                o.set("address", mac_text(b));
            }
            LinkAttribute::Broadcast(b) if !b.is_empty() => {
                o.set("broadcast", mac_text(b));
            }
            _ => {}
        }
    }
    if details {
        o.opt("promiscuity", l.promiscuity());
        let mut info = Obj::new();
        if let Some(k) = l.kind().info_kind() {
            info.set("info_kind", k);
            if let Ok(Some(opts)) = l.kind_options()
                && let Some(data) = info_data(&opts, links)
            {
                info.set("info_data", data);
            }
            if let Ok(Some(t)) = l.tun_info() {
                let mut d = Obj::new();
                d.set("type", t.mode.as_str())
                    .set("pi", t.packet_info)
                    .set("vnet_hdr", t.vnet_hdr)
                    .set("multi_queue", t.multi_queue)
                    .set("persist", t.persistent);
                info.set("info_data", d.done());
            }
        }
        if let Some(m) = l.master()
            && let Some(master) = links.iter().find(|x| x.index() == m)
            && let Some(k @ ("bridge" | "bond" | "vrf")) = master.kind().info_kind()
        {
            info.set("info_slave_kind", k);
        }
        if !info.0.is_empty() {
            o.set("linkinfo", info.done());
        }
    }
    if let Some(alias) = l.alias() {
        o.set("ifalias", alias);
    }
    let alt: Vec<Value> = l
        .altnames()
        .iter()
        .map(|a| Value::from(String::from_utf8_lossy(a.as_bytes()).into_owned()))
        .collect();
    if !alt.is_empty() {
        o.set("altnames", alt);
    }
    o.done()
}

fn bool01(b: bool) -> u32 {
    u32::from(b)
}

fn centis(d: Duration) -> u64 {
    (d.as_millis() / 10) as u64
}

/// A kind's options under the names `ip -d -j link show` uses in
/// `info_data`.
fn info_data(opts: &KindOptions, links: &[Link]) -> Option<Value> {
    let mut d = Obj::new();
    let ip = |d: &mut Obj, v4: &str, a: Option<IpAddr>| {
        if let Some(a) = a {
            let key = if a.is_ipv4() { v4.to_owned() } else { format!("{v4}6") };
            d.set(&key, a.to_string());
        }
    };
    match opts {
        KindOptions::Vxlan(v) => {
            d.opt("id", v.vni);
            ip(&mut d, "group", v.group);
            ip(&mut d, "remote", v.remote);
            ip(&mut d, "local", v.local);
            if let Some(u) = v.underlay {
                d.set("link", name_of(links, u));
            }
            d.opt("port", v.port);
            d.opt("ttl", v.ttl);
            d.opt("learning", v.learning);
            // ip prints these two only when set.
            d.opt("l2miss", v.l2miss.filter(|b| *b));
            d.opt("l3miss", v.l3miss.filter(|b| *b));
            d.opt("udp_csum", v.udp_csum);
            d.opt("udp_zero_csum6_tx", v.udp_zero_csum6_tx);
            d.opt("udp_zero_csum6_rx", v.udp_zero_csum6_rx);
        }
        KindOptions::Geneve(g) => {
            d.opt("id", g.vni);
            ip(&mut d, "remote", g.remote);
            d.opt("ttl", g.ttl);
            d.opt("port", g.port);
            d.opt("udp_csum", g.udp_csum);
            d.opt("udp_zero_csum6_tx", g.udp_zero_csum6_tx);
            d.opt("udp_zero_csum6_rx", g.udp_zero_csum6_rx);
        }
        KindOptions::Macvlan(m) | KindOptions::Macvtap(m) => {
            d.opt("mode", m.mode.map(|x| x.to_string()));
        }
        KindOptions::Ipvlan(i) => {
            d.opt("mode", i.mode.map(|x| x.to_string()));
        }
        KindOptions::Vlan(v) => {
            d.opt("protocol", v.protocol.map(|x| x.to_string()));
            d.opt("id", v.id);
        }
        KindOptions::Bond(b) => {
            d.opt("mode", b.mode.map(|x| x.to_string()));
            d.opt("miimon", b.miimon.map(|x| x.as_millis() as u64));
        }
        KindOptions::Vrf(v) => {
            d.opt("table", v.table);
        }
        KindOptions::Bridge(b) => {
            d.opt("forward_delay", b.forward_delay.map(centis));
            d.opt("ageing_time", b.ageing_time.map(centis));
            d.opt("stp_state", b.stp.map(bool01));
            d.opt("vlan_filtering", b.vlan_filtering.map(bool01));
        }
        _ => return None,
    }
    Some(d.done())
}

fn link_text(m: &serde_json::Map<String, Value>) -> String {
    let g = |k: &str| m.get(k).map(crate::cli::text).unwrap_or_default();
    let mut name = g("ifname");
    if let Some(peer) = m.get("link") {
        name = format!("{name}@{}", crate::cli::text(peer));
    } else if let Some(id) = m.get("link_netnsid") {
        name = format!("{name}@if{} (link-netnsid {id})", g("link_index"));
    }
    let flags: Vec<String> = m
        .get("flags")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(crate::cli::text).collect())
        .unwrap_or_default();
    let mut line = format!("{}: {name}: <{}> ", g("ifindex"), flags.join(","));
    line.push_str(&pairs(
        m,
        &[
            ("mtu", "mtu"),
            ("master", "master"),
            ("operstate", "state"),
            ("group", "group"),
            ("txqlen", "qlen"),
        ],
    ));
    line.push_str(&format!("\n    link/{} {}", g("link_type"), g("address")));
    if let Some(b) = m.get("broadcast") {
        line.push_str(&format!(" brd {}", crate::cli::text(b)));
    }
    if let Some(Value::Object(info)) = m.get("linkinfo") {
        line.push_str(&format!("\n    {}", crate::cli::text(&info["info_kind"])));
        if let Some(Value::Object(data)) = info.get("info_data") {
            for (k, v) in data {
                line.push_str(&format!(" {k} {}", crate::cli::text(v)));
            }
        }
    }
    if let Some(a) = m.get("ifalias") {
        line.push_str(&format!("\n    alias {}", crate::cli::text(a)));
    }
    line
}

/// Opens `NS`: a name under /run/netns, or a process id.
pub fn open_netns(v: &str) -> Res<NetNs> {
    match v.parse::<u32>() {
        Ok(pid) => Ok(NetNs::open_pid(pid)?),
        Err(_) => Ok(NetNs::open(v)?),
    }
}

/// The common options of `ip link add`, before and after the name.
#[derive(Default)]
struct Common {
    name: Option<String>,
    parent: Option<String>,
    mtu: Option<u32>,
    mac: Option<MacAddr>,
    txqlen: Option<u32>,
    alias: Option<String>,
    group: Option<LinkGroup>,
    master: Option<String>,
    up: bool,
    netns: Option<String>,
}

impl Common {
    /// Takes `word` (and its value) if it is a common option.
    fn take(&mut self, word: &str, w: &mut Words) -> Res<bool> {
        match word {
            "name" => self.name = Some(w.value("name")?),
            "link" => self.parent = Some(w.value("link")?),
            "mtu" => self.mtu = Some(parse_num("mtu", &w.value("mtu")?)?),
            "address" => self.mac = Some(w.parse("address")?),
            "txqueuelen" | "txqlen" | "qlen" => {
                self.txqlen = Some(parse_num(word, &w.value(word)?)?)
            }
            "alias" => self.alias = Some(w.value("alias")?),
            "group" => self.group = Some(parse_group(&w.value("group")?)?),
            "master" => self.master = Some(w.value("master")?),
            "up" => self.up = true,
            "netns" => self.netns = Some(w.value("netns")?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn on_off(key: &str, v: &str) -> Res<bool> {
    match v {
        "1" | "on" => Ok(true),
        "0" | "off" => Ok(false),
        _ => usage(format!("invalid {key} \"{v}\" (0 or 1)")),
    }
}

/// `ip link add [link DEV] [name] NAME [options] type KIND [kind options]`.
fn add(ctx: &Ctx, mut w: Words) -> Res {
    let mut c = Common::default();
    let mut kind = None;
    while let Some(word) = w.next() {
        if c.take(&word, &mut w)? {
            continue;
        }
        match word.as_str() {
            "type" => {
                kind = Some(w.value("type")?);
                break;
            }
            _ if c.name.is_none() && !word.starts_with('-') => c.name = Some(word),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(name) = c.name.take() else { return usage("link add needs a NAME") };
    let Some(kind) = kind else { return usage("link add needs \"type KIND\"") };
    let links = ctx.links()?;
    let mut peer_netns = None;
    let opts = kind_options(&kind, &mut w, &links, &mut peer_netns)?;
    w.end()?;
    let netns = c.netns.as_deref().map(open_netns).transpose()?;
    let peer_ns = peer_netns.as_deref().map(open_netns).transpose()?;
    let mut b = LinkBuilder::new(name.as_str(), opts);
    if let Some(p) = &c.parent {
        b = b.parent(p.as_str());
    }
    if let Some(m) = c.mtu {
        b = b.mtu(m);
    }
    if let Some(m) = c.mac {
        b = b.mac(m);
    }
    if let Some(q) = c.txqlen {
        b = b.txqueuelen(q);
    }
    if let Some(a) = c.alias {
        b = b.alias(a);
    }
    if let Some(g) = c.group {
        b = b.group(g.value());
    }
    if let Some(m) = &c.master {
        b = b.master(m.as_str());
    }
    if c.up {
        b = b.up();
    }
    match (&netns, &peer_ns) {
        (Some(ns), Some(peer)) => {
            b.netns(ns).peer_netns(peer).create(&ctx.nl)?;
        }
        (Some(ns), None) => {
            b.netns(ns).create(&ctx.nl)?;
        }
        (None, Some(peer)) => {
            b.peer_netns(peer).create(&ctx.nl)?;
        }
        (None, None) => {
            b.create(&ctx.nl)?;
        }
    }
    Ok(())
}

/// The options after `type KIND`, in ip-link(8)'s words.
fn kind_options(
    kind: &str,
    w: &mut Words,
    links: &[Link],
    peer_netns: &mut Option<String>,
) -> Res<KindOptions> {
    let index_of = |name: &str| find(links, name).map(|l| l.index());
    Ok(match kind {
        "veth" => {
            let mut o = VethOptions::default();
            if w.peek() == Some("peer") {
                w.next();
                while let Some(word) = w.next() {
                    match word.as_str() {
                        "name" => o.peer = Some(w.parse("peer name")?),
                        "address" => o.peer_mac = Some(w.parse("peer address")?),
                        "netns" => *peer_netns = Some(w.value("peer netns")?),
                        _ if o.peer.is_none() => o.peer = Some(parse_word("peer name", &word)?),
                        _ => return usage(format!("unexpected \"{word}\"")),
                    }
                }
            }
            KindOptions::Veth(o)
        }
        "bridge" => {
            let mut o = BridgeOptions::default();
            while let Some(word) = w.next() {
                let v = w.value(&word)?;
                match word.as_str() {
                    "stp_state" => o.stp = Some(on_off(&word, &v)?),
                    "vlan_filtering" => o.vlan_filtering = Some(on_off(&word, &v)?),
                    "forward_delay" => {
                        o.forward_delay =
                            Some(Duration::from_millis(parse_num::<u64>(&word, &v)? * 10))
                    }
                    "ageing_time" => {
                        o.ageing_time =
                            Some(Duration::from_millis(parse_num::<u64>(&word, &v)? * 10))
                    }
                    _ => return usage(format!("unknown bridge option \"{word}\"")),
                }
            }
            KindOptions::Bridge(o)
        }
        "vxlan" => {
            let mut o = VxlanOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "id" | "vni" => o.vni = Some(parse_num(&word, &w.value(&word)?)?),
                    "dstport" => o.port = Some(parse_num(&word, &w.value(&word)?)?),
                    "local" => o.local = Some(w.parse(&word)?),
                    "remote" => o.remote = Some(w.parse(&word)?),
                    "group" => o.group = Some(w.parse(&word)?),
                    "dev" => o.underlay = Some(index_of(&w.value(&word)?)?),
                    "ttl" | "hoplimit" => o.ttl = Some(parse_num(&word, &w.value(&word)?)?),
                    "tos" => o.tos = Some(parse_num(&word, &w.value(&word)?)?),
                    "learning" => o.learning = Some(true),
                    "nolearning" => o.learning = Some(false),
                    "l2miss" => o.l2miss = Some(true),
                    "nol2miss" => o.l2miss = Some(false),
                    "l3miss" => o.l3miss = Some(true),
                    "nol3miss" => o.l3miss = Some(false),
                    "udpcsum" => o.udp_csum = Some(true),
                    "noudpcsum" => o.udp_csum = Some(false),
                    "udp6zerocsumtx" => o.udp_zero_csum6_tx = Some(true),
                    "noudp6zerocsumtx" => o.udp_zero_csum6_tx = Some(false),
                    "udp6zerocsumrx" => o.udp_zero_csum6_rx = Some(true),
                    "noudp6zerocsumrx" => o.udp_zero_csum6_rx = Some(false),
                    _ => return usage(format!("unknown vxlan option \"{word}\"")),
                }
            }
            KindOptions::Vxlan(o)
        }
        "geneve" => {
            let mut o = GeneveOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "id" | "vni" => o.vni = Some(parse_num(&word, &w.value(&word)?)?),
                    "remote" => o.remote = Some(w.parse(&word)?),
                    "dstport" => o.port = Some(parse_num(&word, &w.value(&word)?)?),
                    "ttl" | "hoplimit" => o.ttl = Some(parse_num(&word, &w.value(&word)?)?),
                    "tos" => o.tos = Some(parse_num(&word, &w.value(&word)?)?),
                    "udpcsum" => o.udp_csum = Some(true),
                    "noudpcsum" => o.udp_csum = Some(false),
                    "udp6zerocsumtx" => o.udp_zero_csum6_tx = Some(true),
                    "noudp6zerocsumtx" => o.udp_zero_csum6_tx = Some(false),
                    "udp6zerocsumrx" => o.udp_zero_csum6_rx = Some(true),
                    "noudp6zerocsumrx" => o.udp_zero_csum6_rx = Some(false),
                    _ => return usage(format!("unknown geneve option \"{word}\"")),
                }
            }
            KindOptions::Geneve(o)
        }
        "macvlan" | "macvtap" => {
            let mut o = MacvlanOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "mode" => o.mode = Some(w.parse::<MacvlanMode>("mode")?),
                    _ => return usage(format!("unknown {kind} option \"{word}\"")),
                }
            }
            if kind == "macvtap" { KindOptions::Macvtap(o) } else { KindOptions::Macvlan(o) }
        }
        "ipvlan" => {
            let mut o = IpvlanOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "mode" => o.mode = Some(w.parse::<IpvlanMode>("mode")?),
                    _ => o.isolation = Some(parse_word::<IpvlanIsolation>("ipvlan flag", &word)?),
                }
            }
            KindOptions::Ipvlan(o)
        }
        "vlan" => {
            let mut o = VlanOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "id" => o.id = Some(parse_num("id", &w.value("id")?)?),
                    "protocol" => o.protocol = Some(w.parse::<VlanProtocol>("protocol")?),
                    _ => return usage(format!("unknown vlan option \"{word}\"")),
                }
            }
            KindOptions::Vlan(o)
        }
        "bond" => {
            let mut o = BondOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "mode" => o.mode = Some(w.parse::<BondMode>("mode")?),
                    "miimon" => {
                        o.miimon =
                            Some(Duration::from_millis(parse_num("miimon", &w.value("miimon")?)?))
                    }
                    _ => return usage(format!("unknown bond option \"{word}\"")),
                }
            }
            KindOptions::Bond(o)
        }
        "vrf" => {
            let mut o = VrfOptions::default();
            while let Some(word) = w.next() {
                match word.as_str() {
                    "table" => o.table = Some(parse_num("table", &w.value("table")?)?),
                    _ => return usage(format!("unknown vrf option \"{word}\"")),
                }
            }
            KindOptions::Vrf(o)
        }
        "dummy" => KindOptions::Dummy,
        "ifb" => KindOptions::Ifb,
        "wireguard" => KindOptions::Wireguard,
        other => return usage(format!("unknown link type \"{other}\"")),
    })
}

/// `ip link set [dev] DEV up|down|mtu N|master BR|nomaster|netns NS|name
/// NEW|alias TEXT|group N|address MAC …`: applied in order.
fn set(ctx: &Ctx, mut w: Words) -> Res {
    let mut dev = match w.next() {
        Some(d) if d == "dev" => w.value("dev")?,
        Some(d) => d,
        None => return usage("link set needs a device"),
    };
    if w.peek().is_none() {
        return usage("link set needs something to set");
    }
    while let Some(word) = w.next() {
        let d = dev.as_str();
        match word.as_str() {
            "up" => ctx.nl.set_up(d)?,
            "down" => ctx.nl.set_down(d)?,
            "mtu" => ctx.nl.set_mtu(d, parse_num("mtu", &w.value("mtu")?)?)?,
            "address" => ctx.nl.set_mac(d, w.parse("address")?)?,
            "master" => {
                let m = w.value("master")?;
                ctx.nl.set_master(d, m.as_str())?
            }
            "nomaster" => ctx.nl.set_nomaster(d)?,
            "alias" => ctx.nl.set_alias(d, &w.value("alias")?)?,
            "name" => {
                let new = w.value("name")?;
                ctx.nl.rename(d, new.as_str())?;
                dev = new;
            }
            "netns" => {
                let ns = open_netns(&w.value("netns")?)?;
                ctx.nl.move_link(d, &ns)?;
            }
            "group" => ctx.nl.set_group(d, parse_group(&w.value("group")?)?)?,
            "txqueuelen" | "txqlen" | "qlen" => {
                ctx.nl.set_txqueuelen(d, parse_num(&word, &w.value(&word)?)?)?
            }
            "promisc" => ctx.nl.set_promisc(d, on_off(&word, &w.value(&word)?)?)?,
            "allmulticast" | "allmulti" => {
                ctx.nl.set_allmulti(d, on_off(&word, &w.value(&word)?)?)?
            }
            "arp" => ctx.nl.set_arp(d, on_off(&word, &w.value(&word)?)?)?,
            "carrier" => ctx.nl.set_carrier(d, on_off(&word, &w.value(&word)?)?)?,
            _ => return usage(format!("unknown link setting \"{word}\"")),
        }
    }
    Ok(())
}

/// `ip link del [dev] DEV` or `ip link del group N`.
fn del(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        Some("group") => {
            let g = parse_group(&w.value("group")?)?;
            w.end()?;
            // One RTM_DELLINK with IFLA_GROUP.
            Ok(ctx.nl.delete_group(g)?)
        }
        Some("dev") => {
            let d = w.value("dev")?;
            w.end()?;
            Ok(ctx.nl.delete_link(d.as_str())?)
        }
        Some(d) => {
            let d = d.to_owned();
            w.end()?;
            Ok(ctx.nl.delete_link(d.as_str())?)
        }
        None => usage("link del needs a device or \"group N\""),
    }
}

/// `ip link property add|del dev DEV altname NAME…`.
fn property(ctx: &Ctx, mut w: Words) -> Res {
    let add = match w.next().as_deref() {
        Some("add") => true,
        Some("delete" | "del") => false,
        _ => return usage("link property needs add or del"),
    };
    let dev = match w.next().as_deref() {
        Some("dev") => w.value("dev")?,
        Some(d) => d.to_owned(),
        None => return usage("link property needs a device"),
    };
    let mut names = Vec::new();
    while let Some(word) = w.next() {
        match word.as_str() {
            "altname" => names.push(w.value("altname")?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    if names.is_empty() {
        return usage("link property needs \"altname NAME\"");
    }
    for n in names {
        if add {
            ctx.nl.add_altname(dev.as_str(), n.as_str())?;
        } else {
            ctx.nl.delete_altname(dev.as_str(), n.as_str())?;
        }
    }
    Ok(())
}

/// `ip tuntap add|del [dev] NAME mode tun|tap [user UID] [group GID]
/// [multi_queue] [vnet_hdr] [pi]`: a persistent device made through
/// /dev/net/tun.
pub fn tuntap(ctx: &Ctx, mut w: Words) -> Res {
    let add = match w.next().as_deref() {
        Some("add" | "a") => true,
        Some("delete" | "del" | "d") => false,
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "l") => {
            let links = ctx.links()?;
            let rows: Vec<Value> = links
                .iter()
                .filter(|l| l.tun_info().ok().flatten().is_some())
                .map(|l| link_json(l, &links, true))
                .collect();
            ctx.print(&rows, link_text);
            return Ok(());
        }
        Some(other) => return usage(format!("unknown tuntap command \"{other}\"")),
    };
    let mut name = None;
    let mut mode = None;
    let mut b_user = None;
    let mut b_group = None;
    let (mut mq, mut vnet, mut pi) = (false, false, false);
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" | "name" => name = Some(w.value(&word)?),
            "mode" => mode = Some(w.parse::<TunMode>("mode")?),
            "user" => b_user = Some(parse_num::<u32>("user", &w.value("user")?)?),
            "group" => b_group = Some(parse_num::<u32>("group", &w.value("group")?)?),
            "multi_queue" => mq = true,
            "vnet_hdr" => vnet = true,
            "pi" => pi = true,
            "one_queue" => {}
            _ if name.is_none() => name = Some(word),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(name) = name else { return usage("tuntap needs a NAME") };
    if !add {
        ctx.nl.delete_link(name.as_str())?;
        return Ok(());
    }
    let Some(mode) = mode else { return usage("tuntap add needs \"mode tun|tap\"") };
    let mut t = TunTap::new(name.as_str(), mode).packet_info(pi).vnet_hdr(vnet).multi_queue(mq);
    if let Some(u) = b_user {
        t = t.owner(nslink::link::Uid::from_raw(u));
    }
    if let Some(g) = b_group {
        t = t.group(nslink::link::Gid::from_raw(g));
    }
    t.create_persistent(&ctx.nl)?;
    Ok(())
}
