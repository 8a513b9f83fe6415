//! `nsip netns …`: add, del, list, set, list-id (ip-netns(8)).

use nslink::{NetNs, NetnsDir, NsidRequest};
use serde_json::Value;

use crate::cli::{Ctx, Obj, Res, Words, text, usage};

pub fn run(ctx: &Ctx, mut w: Words) -> Res {
    match w.next().as_deref() {
        None | Some("list" | "show" | "ls" | "l") => list(ctx, w),
        Some("add" | "a") => {
            let name = w.value("netns add")?;
            w.end()?;
            NetNs::create(name.as_str())?;
            Ok(())
        }
        Some("delete" | "del" | "d") => {
            let name = w.value("netns del")?;
            w.end()?;
            NetNs::delete(name.as_str())?;
            Ok(())
        }
        Some("set") => {
            let name = w.value("netns set")?;
            let id = w.parse::<NsidRequest>("id")?;
            w.end()?;
            let ns = NetNs::open(name.as_str())?;
            ctx.nl.set_netns_id(&ns, id)?;
            Ok(())
        }
        Some("list-id") => list_id(ctx, w),
        Some(other) => usage(format!("unknown netns command \"{other}\"")),
    }
}

/// `ip netns list`: each name, with the id this namespace has for it.
fn list(ctx: &Ctx, w: Words) -> Res {
    w.end()?;
    let rows: Vec<Value> = NetnsDir::default()
        .list_ids(&ctx.nl)?
        .into_iter()
        .map(|(name, id)| Obj::new().set("name", name.to_string()).opt("id", id).done())
        .collect();
    ctx.print(&rows, |m| {
        let name = text(&m["name"]);
        match m.get("id") {
            Some(id) => format!("{name} (id: {id})"),
            None => name,
        }
    });
    Ok(())
}

/// `ip netns list-id [nsid N]`: every id this namespace has assigned.
fn list_id(ctx: &Ctx, mut w: Words) -> Res {
    let mut only = None;
    while let Some(word) = w.next() {
        match word.as_str() {
            "nsid" | "target-nsid" => only = Some(w.parse::<i32>(&word)?),
            _ => return usage(format!("unexpected \"{word}\"")),
        }
    }
    let rows: Vec<Value> = ctx
        .nl
        .netns_ids_named(&NetnsDir::default())?
        .into_iter()
        .filter(|e| only.is_none_or(|n| e.nsid == n))
        .map(|e| Obj::new().set("nsid", e.nsid).opt("name", e.name.map(|n| n.to_string())).done())
        .collect();
    ctx.print(&rows, |m| match m.get("name") {
        Some(n) => format!("nsid {} (iproute2 netns name: {})", text(&m["nsid"]), text(n)),
        None => format!("nsid {}", text(&m["nsid"])),
    });
    Ok(())
}
