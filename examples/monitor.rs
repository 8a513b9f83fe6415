//! An `ip monitor` look-alike built on nslink's [`Monitor`].
//!
//! ```text
//! monitor [-n NS] [-a] [-j] [link|address|route|neigh|rule|nsid|all]...
//!   -n NS   follow the named namespace NS (like ip -n NS monitor)
//!   -a      also every namespace with an id here (ip monitor all-nsid)
//!   -j      one JSON object per line
//! ```
//!
//! It starts with the current state (one `snapshot` line with the counts,
//! or one JSON object with everything), then prints each change as
//! `ip monitor` does: `Deleted` before removals, `[nsid N]` before the
//! events of another namespace. After lost events it prints `resync` with
//! the fresh counts (`ip monitor` would print nothing and go on wrong).
//!
//! Try it (as root), with a second shell making changes:
//!
//! ```text
//! ip netns add lab1
//! cargo run --example monitor -- -n lab1 all
//! ip -n lab1 link add v0 type veth peer name v1      # in the other shell
//! ```

use std::process::ExitCode;

use nslink::monitor::{Event, Monitor, MonitorGroups, Notification, Snapshot};
use nslink::{Address, Link, Neighbour, NetNs, Route};
use serde_json::{Value, json};

const USAGE: &str = "\
usage: monitor [-n NS] [-a] [-j] [link|address|route|neigh|rule|nsid|all]...
  -n NS   follow the named namespace NS
  -a      also every namespace with an id here (all-nsid)
  -j      one JSON object per line";

/// What to follow, and how to print it (shared with `nsip monitor`).
pub(crate) struct Args {
    pub(crate) netns: Option<String>,
    pub(crate) all_netns: bool,
    pub(crate) json: bool,
    pub(crate) groups: MonitorGroups,
}

/// The event groups named by `ip monitor`'s words; `None` for another word.
pub(crate) fn group_of(word: &str) -> Option<MonitorGroups> {
    Some(match word {
        "link" => MonitorGroups::LINK,
        "address" | "addr" => MonitorGroups::ADDRESS,
        "route" => MonitorGroups::ROUTE,
        "neigh" => MonitorGroups::NEIGHBOUR,
        "rule" => MonitorGroups::RULE,
        "nsid" => MonitorGroups::NSID,
        "all" => MonitorGroups::ALL,
        _ => return None,
    })
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { netns: None, all_netns: false, json: false, groups: MonitorGroups::empty() };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-n" | "-netns" => a.netns = Some(it.next().ok_or("-n needs a namespace name")?),
            "-a" | "all-nsid" => a.all_netns = true,
            "-j" | "-json" => a.json = true,
            "-h" | "--help" | "help" => return Err(String::new()),
            other => match group_of(other) {
                Some(g) => a.groups |= g,
                None => return Err(format!("unknown argument {other:?}")),
            },
        }
    }
    if a.groups.is_empty() {
        a.groups = MonitorGroups::ALL;
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("monitor: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("monitor: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the snapshot, then every event, until the monitor ends.
pub(crate) fn run(args: &Args) -> nslink::Result<()> {
    let ns = args.netns.as_deref().map(NetNs::open).transpose()?;
    let mut b = Monitor::builder(args.groups).all_netns(args.all_netns);
    if let Some(ns) = &ns {
        b = b.netns(ns);
    }
    let mut mon = b.open()?;
    // Interface names for the lines, kept from the events themselves.
    let mut view = Snapshot::default();
    for n in &mut mon {
        let n = n?;
        view.apply(&n);
        let line = if args.json { json_line(&n).to_string() } else { text_line(&n, &view) };
        println!("{line}");
    }
    Ok(())
}

/// `ip link`'s `<UP,LOWER_UP,…>` words for a link's flags.
fn flag_words(l: &Link) -> Vec<&'static str> {
    use nslink::LinkFlags as F;
    let words = [
        (F::BROADCAST, "BROADCAST"),
        (F::POINTOPOINT, "POINTOPOINT"),
        (F::LOOPBACK, "LOOPBACK"),
        (F::MULTICAST, "MULTICAST"),
        (F::NOARP, "NOARP"),
        (F::PROMISC, "PROMISC"),
        (F::UP, "UP"),
        (F::LOWER_UP, "LOWER_UP"),
    ];
    words.iter().filter(|(f, _)| l.flags().contains(*f)).map(|(_, w)| *w).collect()
}

fn name_of(index: u32, view: &Snapshot) -> String {
    view.links.iter().find(|l| l.index() == index).map_or_else(
        || format!("if{index}"),
        |l| format!("{:?}", l.name()).trim_matches('"').to_owned(),
    )
}

fn link_text(l: &Link) -> String {
    let mut s = format!(
        "{}: {}: <{}> mtu {}",
        l.index(),
        format!("{:?}", l.name()).trim_matches('"'),
        flag_words(l).join(","),
        l.mtu()
    );
    if let Some(m) = l.master() {
        s += &format!(" master if{m}");
    }
    s += &format!(" state {}", l.operstate());
    if let Some(mac) = l.mac() {
        s += &format!("\n    link/ether {mac}");
    }
    s
}

fn address_text(a: &Address, view: &Snapshot) -> String {
    let family = if a.net.is_ipv4() { "inet" } else { "inet6" };
    let mut s = format!("{}: {}    {family} {}", a.index, name_of(a.index, view), a.net);
    if let Some(b) = a.broadcast {
        s += &format!(" brd {b}");
    }
    s += &format!(" scope {}", a.scope);
    if !a.flags.is_empty() {
        s += &format!(" {}", a.flags);
    }
    s
}

fn route_text(r: &Route, view: &Snapshot) -> String {
    let mut s = String::new();
    if r.kind != nslink::RouteType::Unicast {
        s += &format!("{} ", r.kind);
    }
    if r.dst.prefix_len() == 0 {
        s += "default";
    } else {
        s += &r.dst.to_string();
    }
    if let Some(gw) = r.gateway {
        s += &format!(" via {gw}");
    }
    if let Some(nslink::LinkId::Index(i)) = &r.dev {
        s += &format!(" dev {}", name_of(*i, view));
    }
    if !r.is_main() {
        s += &format!(" table {}", r.table);
    }
    if let Some(p) = r.protocol {
        s += &format!(" proto {p}");
    }
    if let Some(sc) = r.scope {
        s += &format!(" scope {sc}");
    }
    if let Some(src) = r.src {
        s += &format!(" src {src}");
    }
    if let Some(m) = r.metric {
        s += &format!(" metric {m}");
    }
    s
}

fn neighbour_text(n: &Neighbour, view: &Snapshot) -> String {
    let mut s = format!("{} dev {}", n.ip, name_of(n.index, view));
    if let Some(mac) = n.mac {
        s += &format!(" lladdr {mac}");
    }
    if !n.flags.is_empty() {
        s += &format!(" {}", n.flags);
    }
    s + &format!(" {}", n.state)
}

fn counts(s: &Snapshot) -> String {
    format!(
        "{} links, {} addresses, {} routes, {} neighbours, {} rules, {} nsids",
        s.links.len(),
        s.addresses.len(),
        s.routes.len(),
        s.neighbours.len(),
        s.rules.len(),
        s.nsids.len()
    )
}

fn text_line(n: &Notification, view: &Snapshot) -> String {
    let body = match &n.event {
        Event::Snapshot(s) => format!("snapshot: {}", counts(s)),
        Event::Resync { snapshot, overflows, other_netns_lost } => format!(
            "resync after {overflows} overflow(s){}: {}",
            if *other_netns_lost { " (other namespaces' events lost)" } else { "" },
            counts(snapshot)
        ),
        Event::LinkAdded(l) | Event::LinkChanged(l) => link_text(l),
        Event::LinkRemoved(l) => format!("Deleted {}", link_text(l)),
        Event::BridgePortChanged(l) => format!("{} (bridge port)", link_text(l)),
        Event::BridgePortRemoved(l) => format!("Deleted {} (bridge port)", link_text(l)),
        Event::AddressAdded(a) => address_text(a, view),
        Event::AddressRemoved(a) => format!("Deleted {}", address_text(a, view)),
        Event::RouteAdded(r) | Event::RouteReplaced(r) => route_text(r, view),
        Event::RouteRemoved(r) => format!("Deleted {}", route_text(r, view)),
        Event::NeighbourAdded(x) => neighbour_text(x, view),
        Event::NeighbourRemoved(x) => format!("Deleted {}", neighbour_text(x, view)),
        Event::RuleAdded(r) => format!("rule {:?}", r.header),
        Event::RuleRemoved(r) => format!("Deleted rule {:?}", r.header),
        Event::NsIdAdded(id) => format!("nsid {id}"),
        Event::NsIdRemoved(id) => format!("Deleted nsid {id}"),
        other => format!("{other:?}"),
    };
    match n.nsid {
        Some(id) => format!("[nsid {id}] {body}"),
        None => body,
    }
}

fn link_json(l: &Link) -> Value {
    json!({
        "ifindex": l.index(),
        "ifname": format!("{:?}", l.name()).trim_matches('"'),
        "flags": flag_words(l),
        "mtu": l.mtu(),
        "operstate": l.operstate().to_string(),
        "link_type": l.link_type(),
        "address": l.mac().map(|m| m.to_string()),
        "master": l.master(),
        "kind": l.kind().to_string(),
    })
}

fn address_json(a: &Address) -> Value {
    json!({
        "ifindex": a.index,
        "family": if a.net.is_ipv4() { "inet" } else { "inet6" },
        "local": a.net.addr().to_string(),
        "prefixlen": a.net.prefix_len(),
        "scope": a.scope.to_string(),
        "flags": a.flags.to_string(),
    })
}

fn route_json(r: &Route) -> Value {
    json!({
        "type": r.kind.to_string(),
        "dst": r.dst.to_string(),
        "gateway": r.gateway.map(|g| g.to_string()),
        "dev": match &r.dev { Some(nslink::LinkId::Index(i)) => Some(*i), _ => None },
        "table": r.table.to_string(),
        "protocol": r.protocol.map(|p| p.to_string()),
        "scope": r.scope.map(|s| s.to_string()),
        "prefsrc": r.src.map(|s| s.to_string()),
        "metric": r.metric,
    })
}

fn neighbour_json(n: &Neighbour) -> Value {
    json!({
        "ifindex": n.index,
        "dst": n.ip.to_string(),
        "lladdr": n.mac.map(|m| m.to_string()),
        "state": n.state.to_string(),
        "flags": n.flags.to_string(),
    })
}

fn snapshot_json(s: &Snapshot) -> Value {
    json!({
        "links": s.links.iter().map(link_json).collect::<Vec<_>>(),
        "addresses": s.addresses.iter().map(address_json).collect::<Vec<_>>(),
        "routes": s.routes.iter().map(route_json).collect::<Vec<_>>(),
        "neighbours": s.neighbours.iter().map(neighbour_json).collect::<Vec<_>>(),
        "rules": s.rules.len(),
        "nsids": s.nsids,
    })
}

fn json_line(n: &Notification) -> Value {
    let (event, object) = match &n.event {
        Event::Snapshot(s) => ("snapshot", snapshot_json(s)),
        Event::Resync { snapshot, overflows, other_netns_lost } => {
            let mut v = snapshot_json(snapshot);
            v["overflows"] = json!(overflows);
            v["other_netns_lost"] = json!(other_netns_lost);
            ("resync", v)
        }
        Event::LinkAdded(l) => ("link_added", link_json(l)),
        Event::LinkChanged(l) => ("link_changed", link_json(l)),
        Event::LinkRemoved(l) => ("link_removed", link_json(l)),
        Event::BridgePortChanged(l) => ("bridge_port_changed", link_json(l)),
        Event::BridgePortRemoved(l) => ("bridge_port_removed", link_json(l)),
        Event::AddressAdded(a) => ("address_added", address_json(a)),
        Event::AddressRemoved(a) => ("address_removed", address_json(a)),
        Event::RouteAdded(r) => ("route_added", route_json(r)),
        Event::RouteReplaced(r) => ("route_replaced", route_json(r)),
        Event::RouteRemoved(r) => ("route_removed", route_json(r)),
        Event::NeighbourAdded(x) => ("neighbour_added", neighbour_json(x)),
        Event::NeighbourRemoved(x) => ("neighbour_removed", neighbour_json(x)),
        Event::RuleAdded(r) => ("rule_added", json!({ "header": format!("{:?}", r.header) })),
        Event::RuleRemoved(r) => ("rule_removed", json!({ "header": format!("{:?}", r.header) })),
        Event::NsIdAdded(id) => ("nsid_added", json!({ "nsid": id })),
        Event::NsIdRemoved(id) => ("nsid_removed", json!({ "nsid": id })),
        other => ("other", json!({ "message": format!("{other:?}") })),
    };
    json!({ "event": event, "nsid": n.nsid, "object": object })
}
