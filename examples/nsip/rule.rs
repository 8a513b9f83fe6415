//! `nsip rule …`: add, del, show (ip-rule(8)).

use nslink::rule::RuleFlags;
use nslink::{IpFamily, IpNet, RouteProtocol, RouteTable, Rule, RuleAction};
use serde_json::Value;

use crate::cli::{Ctx, Family, Obj, Res, Words, pairs, parse_num, parse_prefix, parse_word, usage};

pub fn run(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("show" | "list" | "lst" | "sh" | "ls" | "s" | "l") => show(ctx, w),
        Some("add" | "a") => change(ctx, w, true),
        Some("delete" | "del" | "d") => change(ctx, w, false),
        Some(other) => usage(format!("unknown rule command \"{other}\"")),
    }
}

/// `[not] [from P] [to P] [iif D] [oif D] [fwmark M[/MASK]] [pref N]
/// [table T | goto N | blackhole | unreachable | prohibit | nop]
/// [protocol P] [suppress_prefixlength N]`.
fn change(ctx: &Ctx, mut w: Words, add: bool) -> Res {
    let mut action = None;
    let mut from: Option<IpNet> = None;
    let mut to: Option<IpNet> = None;
    let mut rest: Vec<(String, String)> = Vec::new();
    let mut invert = false;
    while let Some(word) = w.next() {
        match word.as_str() {
            "not" => invert = true,
            "from" => from = Some(parse_prefix("from", &w.value("from")?, ctx.family)?),
            "to" => to = Some(parse_prefix("to", &w.value("to")?, ctx.family)?),
            "table" | "lookup" => {
                action = Some(RuleAction::Lookup(w.parse::<RouteTable>(&word)?));
            }
            "goto" => action = Some(RuleAction::Goto(parse_num("goto", &w.value("goto")?)?)),
            "blackhole" | "unreachable" | "prohibit" | "nop" => {
                action = Some(parse_word::<RuleAction>("action", &word)?)
            }
            "type" => action = Some(w.parse::<RuleAction>("type")?),
            "iif"
            | "dev"
            | "oif"
            | "fwmark"
            | "priority"
            | "pref"
            | "preference"
            | "order"
            | "protocol"
            | "proto"
            | "suppress_prefixlength"
            | "sup_pl" => {
                let v = w.value(&word)?;
                rest.push((word, v));
            }
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    // Without an action, add looks up main (as ip does) and delete matches
    // any action (FR_ACT_UNSPEC).
    let action = action.unwrap_or(if add {
        RuleAction::Lookup(RouteTable::Main)
    } else {
        RuleAction::Other(0)
    });
    let family = match (ctx.family, from.or(to)) {
        (Some(Family::V6), _) => IpFamily::V6,
        (Some(Family::V4), _) => IpFamily::V4,
        (None, Some(n)) if !n.is_ipv4() => IpFamily::V6,
        _ => IpFamily::V4,
    };
    let mut r = Rule::new(action).family(family);
    if let Some(n) = from {
        r = r.from(n);
    }
    if let Some(n) = to {
        r = r.to(n);
    }
    if invert {
        r = r.invert();
    }
    for (key, v) in rest {
        r = match key.as_str() {
            "iif" | "dev" => r.iif(v.as_str()),
            "oif" => r.oif(v.as_str()),
            "fwmark" => match v.split_once('/') {
                Some((m, mask)) => {
                    r.fwmark_mask(parse_num("fwmark", m)?, parse_num("fwmask", mask)?)
                }
                None => r.fwmark(parse_num("fwmark", &v)?),
            },
            "priority" | "pref" | "preference" | "order" => r.priority(parse_num("priority", &v)?),
            "protocol" | "proto" => r.protocol(parse_word::<RouteProtocol>("protocol", &v)?),
            _ => r.suppress_prefix_len(parse_num("suppress_prefixlength", &v)?),
        };
    }
    if add {
        ctx.nl.add_rule(&r)?;
    } else {
        ctx.nl.delete_rule(&r)?;
    }
    Ok(())
}

/// One rule as `ip -j rule show` prints it.
fn rule_json(r: &Rule) -> Value {
    let full = if r.family == IpFamily::V4 { 32 } else { 128 };
    let mut o = Obj::new();
    if let Some(p) = r.priority {
        o.set("priority", p);
    }
    if r.flags.contains(RuleFlags::Invert) {
        o.set("not", Value::Null);
    }
    match r.from {
        Some(n) if n.prefix_len() > 0 => {
            o.set("src", n.addr().to_string());
            if n.prefix_len() != full {
                o.set("srclen", n.prefix_len());
            }
        }
        _ => {
            o.set("src", "all");
        }
    }
    if let Some(n) = r.to.filter(|n| n.prefix_len() > 0) {
        o.set("dst", n.addr().to_string());
        if n.prefix_len() != full {
            o.set("dstlen", n.prefix_len());
        }
    }
    if let Some(m) = r.fwmark {
        o.set("fwmark", format!("{m:#x}"));
        if let Some(mask) = r.fwmask.filter(|m| *m != u32::MAX) {
            o.set("fwmask", format!("{mask:#x}"));
        }
    }
    if let Some(i) = &r.iif {
        o.set("iif", i.to_string());
        if r.flags.contains(RuleFlags::IifDetached) {
            o.set("iif_detached", Value::Null);
        }
    }
    if let Some(i) = &r.oif {
        o.set("oif", i.to_string());
        if r.flags.contains(RuleFlags::OifDetached) {
            o.set("oif_detached", Value::Null);
        }
    }
    match r.action {
        RuleAction::Lookup(t) => {
            o.set("table", t.to_string());
        }
        RuleAction::Goto(p) => {
            o.set("goto", p);
        }
        RuleAction::Nop => {
            o.set("nop", Value::Null);
        }
        a @ (RuleAction::Blackhole | RuleAction::Unreachable | RuleAction::Prohibit) => {
            o.set("action", a.to_string());
        }
        _ => {}
    }
    if let Some(n) = r.suppress_prefix_len {
        o.set("suppress_prefixlen", n);
    }
    if let Some(p) = r.protocol
        && p != RouteProtocol::Unspec
        && p != RouteProtocol::Kernel
    {
        o.set("protocol", p.to_string());
    }
    o.done()
}

/// `ip rule show` (IPv4, or IPv6 with -6).
fn show(ctx: &Ctx, w: Words) -> Res {
    w.end()?;
    let want = if ctx.family == Some(Family::V6) { IpFamily::V6 } else { IpFamily::V4 };
    let rows: Vec<Value> =
        ctx.nl.rules()?.iter().filter(|r| r.family == want).map(rule_json).collect();
    ctx.print(&rows, |m| {
        let mut s = format!("{}:\t", m.get("priority").map(crate::cli::text).unwrap_or_default());
        let mut from = m.get("src").map(crate::cli::text).unwrap_or_default();
        if let Some(l) = m.get("srclen") {
            from = format!("{from}/{l}");
        }
        let mut pieces = Vec::new();
        if m.contains_key("not") {
            pieces.push("not".to_owned());
        }
        pieces.push(format!("from {from}"));
        if let Some(d) = m.get("dst") {
            let mut to = crate::cli::text(d);
            if let Some(l) = m.get("dstlen") {
                to = format!("{to}/{l}");
            }
            pieces.push(format!("to {to}"));
        }
        pieces.push(pairs(
            m,
            &[
                ("fwmark", "fwmark"),
                ("iif", "iif"),
                ("oif", "oif"),
                ("table", "lookup"),
                ("goto", "goto"),
                ("action", ""),
                ("nop", "nop"),
                ("suppress_prefixlen", "suppress_prefixlength"),
                ("protocol", "proto"),
            ],
        ));
        s.push_str(&pieces.join(" "));
        s
    });
    Ok(())
}
