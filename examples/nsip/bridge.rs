//! `nsip fdb …` and `nsip vlan …`: bridge(8)'s `fdb` and `vlan`.

use std::net::IpAddr;

use nslink::fdb::{FdbFilter, FdbOptions, FdbState};
use nslink::{BridgeVlan, FdbEntry, Link, MacAddr, NeighbourFlags};
use serde_json::Value;

use crate::cli::{Ctx, Obj, Res, Words, find, name_of, pairs, parse_num, usage};

pub fn fdb(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "s" | "l") => fdb_show(ctx, w),
        Some(
            cmd @ ("add" | "a" | "append" | "app" | "replace" | "repl" | "delete" | "del" | "d"),
        ) => fdb_change(ctx, w, cmd.to_owned()),
        Some(other) => usage(format!("unknown fdb command \"{other}\"")),
    }
}

/// `MAC dev DEV [master|self] [local|permanent|static|dynamic] [sticky]
/// [extern_learn] [dst IP] [vni N] [port N] [via DEV] [vlan N] [src_vni N]`.
fn fdb_change(ctx: &Ctx, mut w: Words, cmd: String) -> Res {
    let mut mac: Option<MacAddr> = None;
    let mut dev = None;
    let mut o = FdbOptions::new();
    let mut via = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => dev = Some(w.value("dev")?),
            "master" => o = o.master(),
            "self" => o = o.self_(),
            "local" | "permanent" | "static" | "dynamic" => {
                o = o.state(crate::cli::parse_word::<FdbState>("state", &word)?)
            }
            "sticky" => o = o.sticky(),
            "extern_learn" => o = o.extern_learn(),
            "dst" => o = o.dst(w.parse::<IpAddr>("dst")?),
            "vni" => o = o.vni(parse_num("vni", &w.value("vni")?)?),
            "src_vni" => o = o.src_vni(parse_num("src_vni", &w.value("src_vni")?)?),
            "port" | "dst_port" => o = o.port(parse_num("port", &w.value(&word)?)?),
            "via" => via = Some(w.value("via")?),
            "vlan" => o = o.vlan(parse_num("vlan", &w.value("vlan")?)?),
            _ if mac.is_none() => mac = Some(crate::cli::parse_word("MAC", &word)?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(mac) = mac else { return usage("fdb needs a MAC address") };
    let Some(dev) = dev else { return usage("fdb needs \"dev DEV\"") };
    if let Some(v) = via {
        o = o.via(ctx.nl.require_link(v.as_str())?.index());
    }
    let d = dev.as_str();
    match cmd.as_str() {
        "add" | "a" => ctx.nl.add_fdb(d, mac, &o)?,
        "append" | "app" => ctx.nl.append_fdb(d, mac, &o)?,
        "replace" | "repl" => ctx.nl.replace_fdb(d, mac, &o)?,
        _ => ctx.nl.delete_fdb(d, mac, &o)?,
    }
    Ok(())
}

/// One entry as `bridge -j fdb show` prints it; `ifname` is left out
/// when the listing is for one device, as bridge(8) does.
fn fdb_json(e: &FdbEntry, links: &[Link], with_dev: bool) -> Value {
    let mut o = Obj::new();
    o.set("mac", e.mac.to_string());
    if with_dev {
        o.set("ifname", name_of(links, e.index));
    }
    if let Some(v) = e.vlan {
        o.set("vlan", v);
    }
    if let Some(d) = e.dst {
        o.set("dst", d.to_string());
    }
    if let Some(p) = e.port {
        o.set("port", p);
    }
    if let Some(v) = e.vni {
        o.set("vni", v);
    }
    if let Some(v) = e.src_vni {
        o.set("src_vni", v);
    }
    if let Some(v) = e.via {
        o.set("viaIf", name_of(links, v));
    }
    let mut flags = Vec::new();
    for (flag, word) in [
        (NeighbourFlags::SELF, "self"),
        (NeighbourFlags::ROUTER, "router"),
        (NeighbourFlags::EXT_LEARNED, "extern_learn"),
        (NeighbourFlags::OFFLOADED, "offload"),
        (NeighbourFlags::MASTER, "master"),
        (NeighbourFlags::STICKY, "sticky"),
    ] {
        if e.flags.contains(flag) {
            flags.push(Value::from(word));
        }
    }
    o.set("flags", flags);
    if let Some(m) = e.master {
        o.set("master", name_of(links, m));
    }
    match e.state {
        FdbState::Dynamic => {
            o.set("state", "");
        }
        FdbState::Other(_) => {}
        s => {
            o.set("state", s.to_string());
        }
    }
    o.done()
}

/// `bridge fdb show [br BR] [dev DEV] [vlan N]`.
fn fdb_show(ctx: &Ctx, mut w: Words) -> Res {
    let links = ctx.links()?;
    let mut br = None;
    let mut dev = None;
    let mut vlan = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "br" => br = Some(find(&links, &w.value("br")?)?.index()),
            "dev" | "brport" => dev = Some(find(&links, &w.value(&word)?)?.index()),
            "vlan" => vlan = Some(parse_num::<u16>("vlan", &w.value("vlan")?)?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let mut f = match (br, dev) {
        (Some(b), Some(d)) => FdbFilter::bridge(b).and_device(d),
        (Some(b), None) => FdbFilter::bridge(b),
        (None, Some(d)) => FdbFilter::device(d),
        (None, None) => FdbFilter::all(),
    };
    if let Some(v) = vlan {
        f = f.vlan(v);
    }
    let rows: Vec<Value> =
        ctx.nl.fdb_entries(f)?.iter().map(|e| fdb_json(e, &links, dev.is_none())).collect();
    ctx.print(&rows, |m| {
        pairs(
            m,
            &[
                ("mac", ""),
                ("ifname", "dev"),
                ("vlan", "vlan"),
                ("dst", "dst"),
                ("port", "port"),
                ("vni", "vni"),
                ("viaIf", "via"),
                ("flags", ""),
                ("master", "master"),
                ("state", ""),
            ],
        )
    });
    Ok(())
}

pub fn vlan(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "s" | "l") => vlan_show(ctx, w),
        Some("add" | "a") => vlan_change(ctx, w, true),
        Some("delete" | "del" | "d") => vlan_change(ctx, w, false),
        Some(other) => usage(format!("unknown vlan command \"{other}\"")),
    }
}

/// `vid N[-M] dev DEV [pvid] [untagged] [master]`.
fn vlan_change(ctx: &Ctx, mut w: Words, add: bool) -> Res {
    let mut vids = None;
    let mut dev = None;
    let mut pvid = false;
    let mut untagged = false;
    while let Some(word) = w.next() {
        match word.as_str() {
            "vid" => {
                let v = w.value("vid")?;
                vids = Some(match v.split_once('-') {
                    Some((a, b)) => (parse_num::<u16>("vid", a)?, parse_num::<u16>("vid", b)?),
                    None => {
                        let n = parse_num::<u16>("vid", &v)?;
                        (n, n)
                    }
                });
            }
            "dev" => dev = Some(w.value("dev")?),
            "pvid" => pvid = true,
            "untagged" => untagged = true,
            "master" => {}
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some((lo, hi)) = vids else { return usage("vlan needs \"vid N\"") };
    let Some(dev) = dev else { return usage("vlan needs \"dev DEV\"") };
    let d = dev.as_str();
    match (add, lo == hi) {
        (true, true) => {
            let mut v = BridgeVlan::new(lo);
            if pvid {
                v = v.pvid();
            }
            if untagged {
                v = v.untagged();
            }
            ctx.nl.add_bridge_vlan(d, v)?
        }
        (true, false) if pvid => return usage("a VLAN range cannot be the pvid"),
        (true, false) => ctx.nl.add_bridge_vlan_range(d, lo..=hi, untagged)?,
        (false, true) => ctx.nl.delete_bridge_vlan(d, lo)?,
        (false, false) => ctx.nl.delete_bridge_vlan_range(d, lo..=hi)?,
    }
    Ok(())
}

/// `bridge vlan show [dev DEV]`: each port with its VLANs, one per id.
fn vlan_show(ctx: &Ctx, mut w: Words) -> Res {
    let links = ctx.links()?;
    let mut dev = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => dev = Some(find(&links, &w.value("dev")?)?.index()),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let rows: Vec<Value> = ctx
        .nl
        .bridge_vlans()?
        .iter()
        .filter(|p| dev.is_none_or(|d| p.index == d))
        .filter(|p| !p.vlans.is_empty())
        .map(|p| {
            let vlans: Vec<Value> = p
                .vlans
                .iter()
                .map(|v| {
                    let mut o = Obj::new();
                    o.set("vlan", v.vid);
                    let mut flags = Vec::new();
                    if v.pvid {
                        flags.push(Value::from("PVID"));
                    }
                    if v.untagged {
                        flags.push(Value::from("Egress Untagged"));
                    }
                    if !flags.is_empty() {
                        o.set("flags", flags);
                    }
                    o.done()
                })
                .collect();
            Obj::new().set("ifname", name_of(&links, p.index)).set("vlans", vlans).done()
        })
        .collect();
    ctx.print(&rows, |m| {
        let mut s = crate::cli::text(&m["ifname"]);
        if let Some(Value::Array(vs)) = m.get("vlans") {
            for v in vs {
                if let Value::Object(v) = v {
                    s.push_str(&format!("\n\t {}", pairs(v, &[("vlan", ""), ("flags", "")])));
                }
            }
        }
        s
    });
    Ok(())
}
