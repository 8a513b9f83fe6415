//! `nsip neigh …`: add, del, replace, show (ip-neighbour(8)).

use std::net::IpAddr;

use nslink::netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use nslink::netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage,
};
use nslink::netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nslink::{MacAddr, Neighbour, NeighbourFlags, NeighbourState};
use serde_json::Value;

use crate::cli::{Ctx, Family, Obj, Res, Words, find, name_of, pairs, parse_word, usage};

pub fn run(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "s" | "l") => show(ctx, w),
        Some("add" | "a") => change(ctx, w, How::Add),
        Some("replace" | "repl") => change(ctx, w, How::Replace),
        Some("delete" | "del" | "d") => change(ctx, w, How::Delete),
        Some(other) => usage(format!("unknown neigh command \"{other}\"")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    Add,
    Replace,
    Delete,
}

/// `IP [lladdr MAC] dev DEV [nud STATE]`.
fn change(ctx: &Ctx, mut w: Words, how: How) -> Res {
    let mut ip: Option<IpAddr> = None;
    let mut mac: Option<MacAddr> = None;
    let mut dev = None;
    let mut state = NeighbourState::Permanent;
    while let Some(word) = w.next() {
        match word.as_str() {
            "lladdr" => mac = Some(w.parse("lladdr")?),
            "dev" => dev = Some(w.value("dev")?),
            "nud" => state = w.parse::<NeighbourState>("nud")?,
            "to" => ip = Some(w.parse("to")?),
            _ if ip.is_none() => ip = Some(parse_word("address", &word)?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(ip) = ip else { return usage("neigh needs an ADDRESS") };
    let Some(dev) = dev else { return usage("neigh needs \"dev DEV\"") };
    match how {
        How::Delete => ctx.nl.delete_neighbour(dev.as_str(), ip)?,
        How::Replace => {
            let Some(mac) = mac else { return usage("neigh replace needs \"lladdr MAC\"") };
            ctx.nl.replace_neighbour(dev.as_str(), ip, mac, state)?
        }
        How::Add => {
            // `ip neigh add` fails when the entry exists (NLM_F_EXCL);
            // nslink's add_neighbour replaces, so the request is made here.
            let index = ctx.nl.require_link(dev.as_str())?.index();
            let mut m = NeighbourMessage::default();
            m.header.family = if ip.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
            m.header.ifindex = index;
            m.header.state = state.into();
            m.attributes.push(NeighbourAttribute::Destination(match ip {
                IpAddr::V4(a) => NeighbourAddress::Inet(a),
                IpAddr::V6(a) => NeighbourAddress::Inet6(a),
            }));
            if let Some(mac) = mac {
                m.attributes.push(NeighbourAttribute::LinkLayerAddress(mac.octets().to_vec()));
            }
            ctx.nl.request_raw(RouteNetlinkMessage::NewNeighbour(m), NLM_F_CREATE | NLM_F_EXCL)?;
        }
    }
    Ok(())
}

/// The state bits as `ip` lists them (`["REACHABLE"]`, `["NONE"]`).
fn state_words(s: NeighbourState) -> Vec<Value> {
    let bits = s.value();
    if bits == 0 {
        return vec![Value::from("NONE")];
    }
    (0..9u16)
        .map(|i| 1u16 << i)
        .filter(|b| bits & b != 0)
        .map(|b| Value::from(NeighbourState::from_value(b).to_string()))
        .collect()
}

/// One entry as `ip -j neigh show` prints it (`dev` left out when the
/// listing is for one device, as ip does).
fn neigh_json(n: &Neighbour, links: &[nslink::Link], with_dev: bool) -> Value {
    let mut o = Obj::new();
    o.set("dst", n.ip.to_string());
    if with_dev {
        o.set("dev", name_of(links, n.index));
    }
    if let Some(m) = n.mac {
        o.set("lladdr", m.to_string());
    }
    for (flag, word) in [
        (NeighbourFlags::ROUTER, "router"),
        (NeighbourFlags::PROXY, "proxy"),
        (NeighbourFlags::EXT_LEARNED, "extern_learn"),
        (NeighbourFlags::OFFLOADED, "offload"),
    ] {
        if n.flags.contains(flag) {
            o.set(word, Value::Null);
        }
    }
    o.set("state", state_words(n.state));
    o.done()
}

/// `ip neigh show [dev DEV] [nud STATE|all]`: without `nud`, NOARP and
/// NONE entries are hidden, as ip hides them.
fn show(ctx: &Ctx, mut w: Words) -> Res {
    let links = ctx.links()?;
    let mut dev = None;
    let mut nud: Option<Option<NeighbourState>> = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "dev" => dev = Some(find(&links, &w.value("dev")?)?.index()),
            "nud" => {
                let v = w.value("nud")?;
                nud = Some(if v == "all" { None } else { Some(parse_word("nud", &v)?) });
            }
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let rows: Vec<Value> = ctx
        .nl
        .neighbours()?
        .iter()
        .filter(|n| dev.is_none_or(|d| n.index == d))
        .filter(|n| match ctx.family {
            Some(Family::V4) => n.ip.is_ipv4(),
            Some(Family::V6) => n.ip.is_ipv6(),
            None => true,
        })
        .filter(|n| match nud {
            None => n.state.value() & !NeighbourState::Noarp.value() != 0,
            Some(None) => true,
            Some(Some(s)) => n.state.value() & s.value() != 0,
        })
        .map(|n| neigh_json(n, &links, dev.is_none()))
        .collect();
    ctx.print(&rows, |m| {
        pairs(
            m,
            &[
                ("dst", ""),
                ("dev", "dev"),
                ("lladdr", "lladdr"),
                ("router", "router"),
                ("proxy", "proxy"),
                ("state", ""),
            ],
        )
    });
    Ok(())
}
