//! `nsip addr …`: add, del, show, flush (ip-address(8)).

use nslink::addr::{AddressFlags, AddressOptions, AddressScope};
use nslink::{Address, IpNet};
use serde_json::Value;

use crate::cli::{Ctx, Family, Obj, Res, Words, find, pairs, parse_word, text, usage};
use crate::link::link_json;

pub fn run(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "s" | "l") => show(ctx, w),
        Some("add" | "a") => change(ctx, w, true),
        Some("delete" | "del" | "d") => change(ctx, w, false),
        Some("flush" | "f") => flush(ctx, w),
        Some(other) => usage(format!("unknown addr command \"{other}\"")),
    }
}

/// `ip addr add|del PREFIX dev DEV [scope S] [nodad] [noprefixroute] …`.
fn change(ctx: &Ctx, mut w: Words, add: bool) -> Res {
    let mut net: Option<IpNet> = None;
    let mut dev = None;
    let mut opts = AddressOptions::default();
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => dev = Some(w.value("dev")?),
            "local" => net = Some(w.parse("local")?),
            "scope" => opts = opts.scope(w.parse::<AddressScope>("scope")?),
            "nodad" => opts = opts.flags(AddressFlags::NODAD),
            "noprefixroute" => opts = opts.flags(AddressFlags::NOPREFIXROUTE),
            "optimistic" => opts = opts.flags(AddressFlags::OPTIMISTIC),
            "home" => opts = opts.flags(AddressFlags::HOMEADDRESS),
            "mngtmpaddr" => opts = opts.flags(AddressFlags::MANAGETEMPADDR),
            "autojoin" => opts = opts.flags(AddressFlags::MCAUTOJOIN),
            _ if net.is_none() => net = Some(parse_net(&word)?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(net) = net else { return usage("addr add/del needs a PREFIX") };
    let Some(dev) = dev else { return usage("addr add/del needs \"dev DEV\"") };
    if add {
        ctx.nl.add_address_with(dev.as_str(), net, opts)?;
    } else {
        ctx.nl.delete_address(dev.as_str(), net)?;
    }
    Ok(())
}

/// `ADDR/LEN`, or a bare address as a host prefix (as `ip addr` takes it).
fn parse_net(v: &str) -> Res<IpNet> {
    if v.contains('/') {
        parse_word("prefix", v)
    } else {
        Ok(IpNet::host(parse_word("address", v)?))
    }
}

/// `ip addr flush dev DEV`.
fn flush(ctx: &Ctx, mut w: Words) -> Res {
    let dev = match w.next().as_deref() {
        Some("dev") => w.value("dev")?,
        Some(d) => d.to_owned(),
        None => return usage("addr flush needs a device"),
    };
    w.end()?;
    ctx.nl.flush_addresses(dev.as_str())?;
    Ok(())
}

/// One address as an element of `addr_info` in `ip -j addr show`.
pub fn addr_json(a: &Address) -> Value {
    let v6 = !a.net.is_ipv4();
    let mut o = Obj::new();
    o.set("family", if v6 { "inet6" } else { "inet" });
    o.set("local", a.net.addr().to_string());
    if let Some(p) = a.peer {
        o.set("address", p.to_string());
    }
    o.set("prefixlen", a.net.prefix_len());
    if let Some(b) = a.broadcast {
        o.set("broadcast", b.to_string());
    }
    o.set("scope", a.scope.to_string());
    if !a.flags.contains(AddressFlags::PERMANENT) {
        o.set("dynamic", true);
    }
    let names = [
        (AddressFlags::SECONDARY, if v6 { "temporary" } else { "secondary" }),
        (AddressFlags::NODAD, "nodad"),
        (AddressFlags::OPTIMISTIC, "optimistic"),
        (AddressFlags::DADFAILED, "dadfailed"),
        (AddressFlags::HOMEADDRESS, "home"),
        (AddressFlags::DEPRECATED, "deprecated"),
        (AddressFlags::TENTATIVE, "tentative"),
        (AddressFlags::MANAGETEMPADDR, "mngtmpaddr"),
        (AddressFlags::NOPREFIXROUTE, "noprefixroute"),
        (AddressFlags::MCAUTOJOIN, "autojoin"),
        (AddressFlags::STABLE_PRIVACY, "stable-privacy"),
    ];
    for (flag, word) in names {
        if a.flags.contains(flag) {
            o.set(word, true);
        }
    }
    if let Some(l) = &a.label {
        o.set("label", l.clone());
    }
    o.done()
}

/// `ip addr show [dev DEV]`: each device with its `addr_info`.
fn show(ctx: &Ctx, mut w: Words) -> Res {
    let dev = match w.next().as_deref() {
        Some("dev") => Some(w.value("dev")?),
        Some(d) => Some(d.to_owned()),
        None => None,
    };
    w.end()?;
    let links = ctx.links()?;
    let chosen: Vec<_> = match &dev {
        Some(d) => vec![find(&links, d)?],
        None => links.iter().collect(),
    };
    let addrs = ctx.nl.addresses()?;
    let mut rows = Vec::new();
    for l in chosen {
        let Value::Object(mut m) = link_json(l, &links, false) else { continue };
        m.remove("ifalias");
        if ctx.family.is_some() {
            // With -4/-6, ip prints no link-layer fields and only the
            // devices that have an address of the family.
            for k in ["link_type", "address", "broadcast", "group"] {
                m.remove(k);
            }
        }
        let info: Vec<Value> = addrs
            .iter()
            .filter(|a| a.index == l.index())
            .filter(|a| match ctx.family {
                Some(Family::V4) => a.net.is_ipv4(),
                Some(Family::V6) => !a.net.is_ipv4(),
                None => true,
            })
            .map(addr_json)
            .collect();
        if ctx.family.is_some() && info.is_empty() {
            continue;
        }
        m.insert("addr_info".into(), Value::Array(info));
        rows.push(Value::Object(m));
    }
    ctx.print(&rows, |m| {
        let mut s = format!(
            "{}: {}: {}",
            text(&m["ifindex"]),
            text(&m["ifname"]),
            pairs(m, &[("mtu", "mtu"), ("master", "master"), ("operstate", "state")])
        );
        if let Some(Value::Array(info)) = m.get("addr_info") {
            for a in info {
                if let Value::Object(a) = a {
                    s.push_str(&format!(
                        "\n    {} {}/{} {}",
                        text(&a["family"]),
                        text(&a["local"]),
                        text(&a["prefixlen"]),
                        pairs(
                            a,
                            &[
                                ("address", "peer"),
                                ("broadcast", "brd"),
                                ("scope", "scope"),
                                ("dynamic", "dynamic"),
                                ("secondary", "secondary"),
                                ("nodad", "nodad"),
                                ("noprefixroute", "noprefixroute"),
                                ("tentative", "tentative"),
                                ("label", ""),
                            ]
                        )
                    ));
                }
            }
        }
        s
    });
    Ok(())
}
