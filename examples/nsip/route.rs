//! `nsip route …`: add, del, replace, show, get (ip-route(8)).

use std::net::IpAddr;

use nslink::route::{NextHop, RouteGet};
use nslink::{IpNet, Link, LinkId, Route, RouteProtocol, RouteScope, RouteTable, RouteType};
use serde_json::{Map, Value};

use crate::cli::{
    Ctx, Family, Obj, Res, Words, find, name_of, pairs, parse_num, parse_prefix, text, usage,
};

pub fn run(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "s" | "l") => show(ctx, w),
        Some("add" | "a") => change(ctx, w, Change::Add),
        Some("replace" | "repl") => change(ctx, w, Change::Replace),
        Some("delete" | "del" | "d") => change(ctx, w, Change::Delete),
        Some("get" | "g") => get(ctx, w),
        Some(other) => usage(format!("unknown route command \"{other}\"")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Replace,
    Delete,
}

const TYPES: [&str; 8] =
    ["unicast", "local", "broadcast", "multicast", "blackhole", "unreachable", "prohibit", "throw"];

/// `[TYPE] PREFIX [via GW] [dev DEV] [table T] [proto P] [scope S]
/// [metric N] [src A] [onlink] [nexthop via GW dev DEV weight W]…`.
fn change(ctx: &Ctx, mut w: Words, how: Change) -> Res {
    let mut kind = None;
    let mut dst: Option<IpNet> = None;
    let mut route_words: Vec<(String, String)> = Vec::new();
    let mut nexthops = Vec::new();
    let mut onlink = false;
    while let Some(word) = w.next() {
        match word.as_str() {
            "via" | "dev" | "oif" | "table" | "proto" | "protocol" | "scope" | "metric"
            | "priority" | "preference" | "src" | "to" => {
                let v = w.value(&word)?;
                if word == "to" {
                    dst = Some(parse_prefix("to", &v, ctx.family)?);
                } else {
                    route_words.push((word, v));
                }
            }
            "onlink" => onlink = true,
            "type" => kind = Some(w.parse::<RouteType>("type")?),
            "nexthop" => nexthops.push(parse_nexthop(&mut w)?),
            t if kind.is_none() && dst.is_none() && TYPES.contains(&t) => {
                kind = Some(t.parse::<RouteType>().or_else(|e| usage(e.to_string()))?)
            }
            _ if dst.is_none() => dst = Some(parse_prefix("prefix", &word, ctx.family)?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(dst) = dst else { return usage("route needs a PREFIX") };
    let mut r = Route::to(dst);
    if let Some(k) = kind {
        r = r.kind(k);
    }
    for (key, v) in route_words {
        r = match key.as_str() {
            "via" => r.via(crate::cli::parse_word::<IpAddr>("via", &v)?),
            "dev" | "oif" => r.dev(v.as_str()),
            "table" => r.table(crate::cli::parse_word::<RouteTable>("table", &v)?),
            "proto" | "protocol" => {
                r.protocol(crate::cli::parse_word::<RouteProtocol>("proto", &v)?)
            }
            "scope" => r.scope(crate::cli::parse_word::<RouteScope>("scope", &v)?),
            "metric" | "priority" | "preference" => r.metric(parse_num("metric", &v)?),
            "src" => r.src(crate::cli::parse_word::<IpAddr>("src", &v)?),
            _ => r,
        };
    }
    if onlink {
        // A single-path route with onlink is one next hop with the flag.
        let mut nh = NextHop::new().onlink();
        if let Some(g) = r.gateway.take() {
            nh = nh.via(g);
        }
        if let Some(d) = r.dev.take() {
            nh = nh.dev(d);
        }
        r = r.nexthop(nh);
    }
    for nh in nexthops {
        r = r.nexthop(nh);
    }
    match how {
        Change::Add => ctx.nl.add_route(&r)?,
        Change::Replace => ctx.nl.replace_route(&r)?,
        Change::Delete => ctx.nl.delete_route(&r)?,
    }
    Ok(())
}

/// `nexthop via GW dev DEV weight W onlink`, up to the next `nexthop`.
fn parse_nexthop(w: &mut Words) -> Res<NextHop> {
    let mut nh = NextHop::new();
    while let Some(word) = w.peek() {
        match word {
            "via" => {
                w.next();
                nh = nh.via(w.parse("via")?);
            }
            "dev" => {
                w.next();
                let d = w.value("dev")?;
                nh = nh.dev(d.as_str());
            }
            "weight" => {
                w.next();
                nh = nh.weight(parse_num("weight", &w.value("weight")?)?);
            }
            "onlink" => {
                w.next();
                nh = nh.onlink();
            }
            _ => break,
        }
    }
    Ok(nh)
}

/// `default`, a bare host address, or `ADDR/LEN`, as `ip` prints a
/// destination.
fn dst_text(n: &IpNet) -> String {
    let full = if n.is_ipv4() { 32 } else { 128 };
    if n.prefix_len() == 0 {
        "default".to_owned()
    } else if n.prefix_len() == full {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

fn dev_name(links: &[Link], d: &LinkId) -> String {
    match d {
        LinkId::Index(i) => name_of(links, *i),
        LinkId::Name(n) => n.to_string(),
    }
}

/// One route as `ip -j route show` prints it (the fields nslink reads):
/// `table` only in a listing of every table, as ip does.
fn route_json(r: &Route, links: &[Link], get: bool, one_table: bool) -> Value {
    let mut o = Obj::new();
    if r.kind != RouteType::Unicast {
        o.set("type", r.kind.to_string());
    }
    o.set("dst", dst_text(&r.dst));
    if let Some(g) = r.gateway {
        o.set("gateway", g.to_string());
    }
    if let Some(d) = &r.dev {
        o.set("dev", dev_name(links, d));
    }
    if !get && !one_table && r.table != RouteTable::Main {
        o.set("table", r.table.to_string());
    }
    if let Some(p) = r.protocol
        && p != RouteProtocol::Boot
        && !get
    {
        o.set("protocol", p.to_string());
    }
    if let Some(s) = r.scope
        && s != RouteScope::Global
        && !get
    {
        o.set("scope", s.to_string());
    }
    if let Some(s) = r.src {
        o.set("prefsrc", s.to_string());
    }
    if let Some(m) = r.metric {
        o.set("metric", m);
    }
    if !r.nexthops.is_empty() {
        let hops: Vec<Value> = r
            .nexthops
            .iter()
            .map(|nh| {
                let mut h = Obj::new();
                if let Some(g) = nh.gateway {
                    h.set("gateway", g.to_string());
                }
                if let Some(d) = &nh.dev {
                    h.set("dev", dev_name(links, d));
                }
                h.set("weight", nh.weight);
                h.done()
            })
            .collect();
        o.set("nexthops", hops);
    }
    o.done()
}

fn route_text(m: &Map<String, Value>) -> String {
    let mut s = pairs(
        m,
        &[
            ("type", ""),
            ("dst", ""),
            ("from", "from"),
            ("gateway", "via"),
            ("dev", "dev"),
            ("table", "table"),
            ("protocol", "proto"),
            ("scope", "scope"),
            ("prefsrc", "src"),
            ("metric", "metric"),
            ("uid", "uid"),
        ],
    );
    if let Some(Value::Array(hops)) = m.get("nexthops") {
        for h in hops {
            if let Value::Object(h) = h {
                s.push_str("\n\tnexthop ");
                s.push_str(&pairs(h, &[("gateway", "via"), ("dev", "dev"), ("weight", "weight")]));
            }
        }
    }
    s
}

/// `ip route show [table T|all] [dev DEV] [type TYPE] [proto P]`.
fn show(ctx: &Ctx, mut w: Words) -> Res {
    let links = ctx.links()?;
    let mut table = Some(RouteTable::Main);
    let mut dev = None;
    let mut kind = None;
    let mut proto = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "table" => {
                let t = w.value("table")?;
                table = if t == "all" { None } else { Some(crate::cli::parse_word("table", &t)?) };
            }
            "dev" => dev = Some(find(&links, &w.value("dev")?)?.index()),
            "type" => kind = Some(w.parse::<RouteType>("type")?),
            "proto" | "protocol" => proto = Some(w.parse::<RouteProtocol>("proto")?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    // Like ip: one table means IPv4 unless -6; all tables, both families.
    let family = ctx.family.or(if table.is_some() { Some(Family::V4) } else { None });
    let rows: Vec<Value> = ctx
        .nl
        .routes()?
        .iter()
        .filter(|r| table.is_none_or(|t| r.table == t))
        .filter(|r| match family {
            Some(Family::V4) => r.dst.is_ipv4(),
            Some(Family::V6) => !r.dst.is_ipv4(),
            None => true,
        })
        // Like ip: the route's own device (multipath routes have none).
        .filter(|r| dev.is_none_or(|d| r.dev == Some(LinkId::Index(d))))
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .filter(|r| proto.is_none_or(|p| r.protocol == Some(p)))
        .map(|r| {
            let mut v = route_json(r, &links, false, table.is_some());
            // A listing for one device leaves the device out, as ip does.
            if dev.is_some()
                && let Value::Object(m) = &mut v
            {
                m.remove("dev");
            }
            v
        })
        .collect();
    ctx.print(&rows, route_text);
    Ok(())
}

/// `ip route get ADDR [from A] [iif DEV] [oif DEV] [mark N] [uid N]
/// [fibmatch]`.
fn get(ctx: &Ctx, mut w: Words) -> Res {
    let mut dst: Option<IpAddr> = None;
    let mut from = None;
    let mut iif = None;
    let mut oif = None;
    let mut mark = None;
    let mut uid = None;
    let mut fibmatch = false;
    while let Some(word) = w.next() {
        match word.as_str() {
            "from" => from = Some(w.parse::<IpAddr>("from")?),
            "iif" => iif = Some(w.value("iif")?),
            "oif" | "dev" => oif = Some(w.value(&word)?),
            "mark" => mark = Some(parse_num::<u32>("mark", &w.value("mark")?)?),
            "uid" => uid = Some(parse_num::<u32>("uid", &w.value("uid")?)?),
            "fibmatch" => fibmatch = true,
            "to" => dst = Some(w.parse("to")?),
            _ if dst.is_none() => {
                let d = word.split('/').next().unwrap_or(&word);
                dst = Some(crate::cli::parse_word("address", d)?)
            }
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let Some(dst) = dst else { return usage("route get needs an ADDRESS") };
    let mut q = RouteGet::to(dst);
    if let Some(f) = from {
        q = q.source(f);
    }
    if let Some(d) = &iif {
        q = q.iif(d.as_str());
    }
    if let Some(d) = &oif {
        q = q.oif(d.as_str());
    }
    if let Some(m) = mark {
        q = q.mark(m);
    }
    if let Some(u) = uid {
        q = q.uid(u);
    }
    if fibmatch {
        q = q.fib_match();
    }
    let a = ctx.nl.route_get(q)?;
    let links = ctx.links()?;
    let Value::Object(mut m) = route_json(&a.route, &links, !fibmatch, false) else {
        return Ok(());
    };
    if !fibmatch {
        if let Some(s) = a.source {
            m.insert("from".into(), Value::from(s.to_string()));
        }
        if let Some(i) = &a.iif {
            m.insert("iif".into(), Value::from(dev_name(&links, i)));
        }
        if let Some(u) = a.uid {
            m.insert("uid".into(), Value::from(u));
        }
    }
    ctx.print(&[Value::Object(m)], |m| text(&Value::from(route_text(m))));
    Ok(())
}
