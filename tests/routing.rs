//! Multipath routes, `ip route get`, policy rules and namespace ids,
//! checked both ways against `ip -j -d route`, `ip -j route get`,
//! `ip -j rule`, `ip -j netns list-id` and `ip netns list`.
//!
//! Every test runs inside `common::sandbox` (its own network and mount
//! namespace) and needs root.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::{JsonExt as _, ip, ip_json, ip_json_in, ip_output_in, sandbox};
use nslink::route::{NextHop, NextHopFlags, RouteGet};
use nslink::rule::{IpFamily, Rule, RuleAction, RuleFlags};
use nslink::{
    AddressFlags, AddressOptions, Errno, Error, IpNet, LinkId, NetNs, NetnsDir, NsidRequest, Route,
    RouteProtocol, RouteSocket, RouteTable, VethPair,
};
use serde_json::Value;

fn ip_of(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// Two veths `a0` (10.1.0.1/24, fd00:1::1/64) and `b0` (10.2.0.1/24,
/// fd00:2::1/64), up, their peers up in namespaces of their own (returned).
fn lab(nl: &RouteSocket) -> Vec<NetNs> {
    nl.set_up("lo").unwrap();
    let mut peers = Vec::new();
    for (dev, n) in [("a0", 1), ("b0", 2)] {
        let peer = NetNs::new().unwrap();
        VethPair::builder(dev, "eth0").peer_netns(&peer).create(nl).unwrap();
        nl.set_up(dev).unwrap();
        RouteSocket::open_in(&peer).unwrap().set_up("eth0").unwrap();
        nl.add_address(dev, net(&format!("10.{n}.0.1/24"))).unwrap();
        let nodad = AddressOptions::default().flags(AddressFlags::NODAD);
        nl.add_address_with(dev, net(&format!("fd00:{n}::1/64")), nodad).unwrap();
        peers.push(peer);
    }
    peers
}

/// Index → name of every link.
fn names(nl: &RouteSocket) -> BTreeMap<u32, String> {
    nl.links().unwrap().into_iter().map(|l| (l.index(), l.name().to_string())).collect()
}

/// A next hop as `ip -j -d route` prints it: gateway, dev, weight, flags.
type Hop = (String, String, u64, Vec<String>);

/// The `nexthops` of `ip -j -d [-6] route show PREFIX`, or `None` if there
/// is no such route.
fn ip_nexthops(prefix: &str) -> Option<Vec<Hop>> {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    let routes = ip_json(&["-d", family, "route", "show", prefix]);
    let r = routes.first()?;
    Some(
        r.at("nexthops")
            .items()
            .iter()
            .map(|h| {
                (
                    h.at("gateway").text().to_owned(),
                    h.at("dev").text().to_owned(),
                    h.at("weight").uint(),
                    h.at("flags").items().iter().map(|f| f.text().to_owned()).collect(),
                )
            })
            .collect(),
    )
}

/// The next hops of nslink's listing of `prefix`, shown like [`ip_nexthops`].
fn nl_nexthops(nl: &RouteSocket, prefix: &str) -> Option<Vec<Hop>> {
    let names = names(nl);
    let r = nl.routes().unwrap().into_iter().find(|r| r.dst == net(prefix))?;
    Some(
        r.nexthops
            .iter()
            .map(|h| {
                let Some(LinkId::Index(i)) = h.dev else {
                    panic!("listed hop without index: {h:?}")
                };
                let flags = if h.flags.contains(NextHopFlags::Onlink) {
                    vec!["onlink".to_owned()]
                } else {
                    vec![]
                };
                (h.gateway.unwrap().to_string(), names[&i].clone(), u64::from(h.weight), flags)
            })
            .collect(),
    )
}

fn hop(gw: &str, dev: &str, weight: u64, onlink: bool) -> Hop {
    let flags = if onlink { vec!["onlink".to_owned()] } else { vec![] };
    (gw.to_owned(), dev.to_owned(), weight, flags)
}

#[test]
fn multipath_routes_are_added_replaced_and_deleted_like_ip_and_read_back() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peers = lab(&nl);

        // nslink adds, ip reads.
        let v4 = Route::to(net("10.9.0.0/16"))
            .nexthop(NextHop::new().via(ip_of("10.1.0.2")).dev("a0").weight(3))
            .nexthop(NextHop::new().via(ip_of("10.2.0.2")).dev("b0").onlink());
        nl.add_route(&v4).unwrap();
        let want = vec![hop("10.1.0.2", "a0", 3, false), hop("10.2.0.2", "b0", 1, true)];
        assert_eq!(ip_nexthops("10.9.0.0/16"), Some(want.clone()));
        assert_eq!(nl_nexthops(&nl, "10.9.0.0/16"), Some(want));
        let listed =
            nl.routes().unwrap().into_iter().find(|r| r.dst == net("10.9.0.0/16")).unwrap();
        assert_eq!((listed.gateway, listed.dev.clone()), (None, None), "{listed:?}");
        let shown = &ip_json(&["-d", "route", "show", "10.9.0.0/16"])[0];
        assert_eq!(shown.at("scope").text(), "global", "a multipath route is scoped like ip's");

        let v6 = Route::to(net("fd00:9::/64"))
            .nexthop(NextHop::new().via(ip_of("fd00:1::2")).dev("a0"))
            .nexthop(NextHop::new().via(ip_of("fd00:2::2")).dev("b0").weight(256));
        nl.add_route(&v6).unwrap();
        let want6 = vec![hop("fd00:1::2", "a0", 1, false), hop("fd00:2::2", "b0", 256, false)];
        assert_eq!(ip_nexthops("fd00:9::/64"), Some(want6.clone()));
        assert_eq!(nl_nexthops(&nl, "fd00:9::/64"), Some(want6));

        // Adding it again is EEXIST; replacing changes the weights.
        assert!(nl.add_route(&v4).unwrap_err().is_already_exists());
        let v4b = Route::to(net("10.9.0.0/16"))
            .nexthop(NextHop::new().via(ip_of("10.1.0.2")).dev("a0").weight(10))
            .nexthop(NextHop::new().via(ip_of("10.2.0.2")).dev("b0").weight(20));
        nl.replace_route(&v4b).unwrap();
        let want = vec![hop("10.1.0.2", "a0", 10, false), hop("10.2.0.2", "b0", 20, false)];
        assert_eq!(ip_nexthops("10.9.0.0/16"), Some(want));

        // ip adds, nslink reads.
        ip(&[
            "route",
            "add",
            "10.8.0.0/16",
            "nexthop",
            "via",
            "10.2.0.3",
            "dev",
            "b0",
            "weight",
            "5",
            "nexthop",
            "via",
            "10.1.0.3",
            "dev",
            "a0",
        ]);
        let want = vec![hop("10.2.0.3", "b0", 5, false), hop("10.1.0.3", "a0", 1, false)];
        assert_eq!(nl_nexthops(&nl, "10.8.0.0/16"), Some(want));
        ip(&[
            "-6",
            "route",
            "add",
            "fd00:8::/64",
            "nexthop",
            "via",
            "fd00:1::3",
            "dev",
            "a0",
            "nexthop",
            "via",
            "fd00:2::3",
            "dev",
            "b0",
            "weight",
            "7",
        ]);
        let want = vec![hop("fd00:1::3", "a0", 1, false), hop("fd00:2::3", "b0", 7, false)];
        assert_eq!(nl_nexthops(&nl, "fd00:8::/64"), Some(want));

        // Deleting: the builder, and a listed route (which matches itself).
        nl.delete_route(&v4b).unwrap();
        nl.delete_route(&v6).unwrap();
        let listed = nl.routes().unwrap();
        for p in ["10.8.0.0/16", "fd00:8::/64"] {
            let r = listed.iter().find(|r| r.dst == net(p)).unwrap();
            nl.delete_route(r).unwrap_or_else(|e| panic!("delete listed {r:?}: {e}"));
        }
        for p in ["10.9.0.0/16", "fd00:9::/64", "10.8.0.0/16", "fd00:8::/64"] {
            assert_eq!(ip_nexthops(p), None, "{p} is gone");
        }
        assert!(nl.delete_route(&v4b).unwrap_err().is_not_found());
    });
}

#[test]
fn bad_next_hops_are_refused_typed_and_nothing_is_added() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peers = lab(&nl);
        let dst = net("10.9.0.0/16");
        let good = || NextHop::new().via(ip_of("10.1.0.2")).dev("a0");
        // IPv4 only: the IPv6 local routes of the lab's addresses may still
        // be arriving.
        let before = ip(&["-4", "-d", "route", "show", "table", "all"]);
        for (what, nh) in [
            ("weight 0", good().weight(0)),
            ("weight 257", good().weight(257)),
            ("gateway of the other family", NextHop::new().via(ip_of("fd00:1::2")).dev("a0")),
        ] {
            let r = Route::to(dst).nexthop(good()).nexthop(nh);
            let err = nl.add_route(&r).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument { .. }), "{what}: {err:?}");
            assert_eq!(err.raw_os_error(), None, "{what}: no errno the kernel did not send");
        }
        let r = Route::to(dst).nexthop(good()).nexthop(good().dev("a name far too long"));
        assert!(nl.add_route(&r).unwrap_err().is_invalid_name());
        // A device that does not exist: the kernel is never asked to add.
        let r = Route::to(dst).nexthop(good()).nexthop(good().dev("nosuch0"));
        assert!(nl.add_route(&r).unwrap_err().is_not_found());
        // A gateway no device reaches: the kernel's refusal, its errno.
        let r = Route::to(dst)
            .nexthop(good())
            .nexthop(NextHop::new().via(ip_of("192.0.2.1")).dev("b0"));
        let err = nl.add_route(&r).unwrap_err();
        assert!(matches!(err, Error::Os { .. }), "{err:?}");
        assert_eq!(ip(&["-4", "-d", "route", "show", "table", "all"]), before, "nothing half-made");
    });
}

/// `ip -j route get ARGS` in the calling thread's namespace, or its stderr.
fn ip_get(args: &[&str]) -> Result<Value, String> {
    let mut full = vec!["-j", "route", "get"];
    full.extend_from_slice(args);
    let out = ip_output_in(common::Here, &full);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    Ok(common::parse_json("ip route get", &text).remove(0))
}

/// The fields both print, from `ip -j route get`.
#[derive(Debug, PartialEq, Eq)]
struct Got {
    dst: String,
    gateway: Option<String>,
    dev: Option<String>,
    prefsrc: Option<String>,
    /// `None` when ip leaves it out: main, or no table at all (0).
    table: Option<String>,
    mark: Option<u64>,
    from: Option<String>,
    iif: Option<String>,
}

fn got_ip(v: &Value) -> Got {
    let s = |k: &str| v.get(k).map(|x| x.text().to_owned());
    Got {
        dst: v.at("dst").text().to_owned(),
        gateway: s("gateway"),
        dev: s("dev"),
        prefsrc: s("prefsrc"),
        table: s("table"),
        mark: v.get("mark").map(|m| m.uint()),
        from: s("from"),
        iif: s("iif"),
    }
}

fn got_nl(nl: &RouteSocket, q: RouteGet) -> Got {
    let names = names(nl);
    let a = nl.route_get(q).unwrap();
    Got {
        dst: a.route.dst.addr().to_string(),
        gateway: a.route.gateway.map(|g| g.to_string()),
        dev: match a.route.dev {
            Some(LinkId::Index(i)) => Some(names[&i].clone()),
            ref other => other.as_ref().map(|d| d.to_string()),
        },
        prefsrc: a.route.src.map(|s| s.to_string()),
        table: match a.route.table.id() {
            0 | 254 => None,
            _ => Some(a.route.table.to_string()),
        },
        mark: a.mark.map(u64::from),
        from: a.source.map(|s| s.to_string()),
        iif: match a.iif {
            Some(LinkId::Index(i)) => Some(names[&i].clone()),
            ref other => other.as_ref().map(|d| d.to_string()),
        },
    }
}

#[test]
fn route_get_answers_like_ip_route_get() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peers = lab(&nl);
        nl.add_route(&Route::default_via(ip_of("10.1.0.254"))).unwrap();
        nl.add_route(&Route::default_via(ip_of("fd00:2::254"))).unwrap();
        nl.add_route(&Route::to(net("10.60.0.0/16")).dev("b0").table(RouteTable::Id(100))).unwrap();
        nl.add_rule(&Rule::lookup(RouteTable::Id(100)).fwmark(7).priority(100)).unwrap();

        let cases: Vec<(Vec<&str>, RouteGet)> = vec![
            (vec!["198.51.100.1"], RouteGet::to(ip_of("198.51.100.1"))),
            (vec!["10.2.0.9"], RouteGet::to(ip_of("10.2.0.9"))),
            (vec!["10.1.0.1"], RouteGet::to(ip_of("10.1.0.1"))),
            (vec!["2001:db8::1"], RouteGet::to(ip_of("2001:db8::1"))),
            (vec!["fd00:1::9"], RouteGet::to(ip_of("fd00:1::9"))),
            (vec!["10.60.0.9", "mark", "7"], RouteGet::to(ip_of("10.60.0.9")).mark(7)),
            (vec!["10.60.0.9"], RouteGet::to(ip_of("10.60.0.9"))),
            (
                vec!["10.2.0.9", "from", "10.1.0.1"],
                RouteGet::to(ip_of("10.2.0.9")).source(ip_of("10.1.0.1")),
            ),
            (vec!["198.51.100.1", "oif", "b0"], RouteGet::to(ip_of("198.51.100.1")).oif("b0")),
            (vec!["fd00:1::9", "oif", "a0"], RouteGet::to(ip_of("fd00:1::9")).oif("a0")),
        ];
        for (args, q) in cases {
            let want = got_ip(&ip_get(&args).unwrap());
            assert_eq!(got_nl(&nl, q.clone()), want, "ip route get {args:?}");
        }
        // The mark rule sends 10.60/16 to table 100, and the answer says so.
        let a = nl.route_get(RouteGet::to(ip_of("10.60.0.9")).mark(7)).unwrap();
        assert_eq!(a.route.table, RouteTable::Id(100));
        assert_eq!(a.route.dst, net("10.60.0.9/32"));
        // An input lookup: refused while forwarding is off, as ip is...
        let input = || RouteGet::to(ip_of("10.2.0.9")).source(ip_of("10.1.0.2")).iif("a0");
        let ip_err = ip_get(&["10.2.0.9", "from", "10.1.0.2", "iif", "a0"]).unwrap_err();
        assert!(ip_err.contains("No route to host"), "{ip_err}");
        assert_eq!(nl.route_get(input()).unwrap_err().errno(), Some(Errno::EHOSTUNREACH));
        // ...and answered like ip once it is on.
        common::run_ok("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
        let want = got_ip(&ip_get(&["10.2.0.9", "from", "10.1.0.2", "iif", "a0"]).unwrap());
        assert_eq!(want.iif.as_deref(), Some("a0"));
        assert_eq!(got_nl(&nl, input()), want);
        let want = got_ip(&ip_get(&["10.1.0.1", "from", "10.1.0.2", "iif", "a0"]).unwrap());
        let local = RouteGet::to(ip_of("10.1.0.1")).source(ip_of("10.1.0.2")).iif("a0");
        assert_eq!(got_nl(&nl, local.clone()), want);
        assert_eq!(nl.route_get(local).unwrap().route.kind, nslink::RouteType::Local);

        // With an output device and no route through it, the kernel
        // assumes the destination is on that link: no table (0).
        let a = nl.route_get(RouteGet::to(ip_of("198.51.100.1")).oif("b0")).unwrap();
        assert_eq!((a.route.table.id(), a.route.gateway), (0, None));
        // A plain address is a question too.
        assert_eq!(nl.route_get(ip_of("10.1.0.7")).unwrap().route.src, Some(ip_of("10.1.0.1")));

        // fibmatch: the entry, with every next hop of a multipath route.
        nl.add_route(
            &Route::to(net("10.9.0.0/16"))
                .nexthop(NextHop::new().via(ip_of("10.1.0.2")).dev("a0").weight(3))
                .nexthop(NextHop::new().via(ip_of("10.2.0.2")).dev("b0")),
        )
        .unwrap();
        let ipm = ip_get(&["fibmatch", "10.9.1.1"]).unwrap();
        assert_eq!(ipm.at("dst").text(), "10.9.0.0/16");
        let a = nl.route_get(RouteGet::to(ip_of("10.9.1.1")).fib_match()).unwrap();
        assert_eq!(a.route.dst, net("10.9.0.0/16"));
        let gws: Vec<String> =
            a.route.nexthops.iter().map(|h| h.gateway.unwrap().to_string()).collect();
        let ip_gws: Vec<String> =
            ipm.at("nexthops").items().iter().map(|h| h.at("gateway").text().to_owned()).collect();
        assert_eq!(gws, ip_gws);
        assert_eq!(a.route.nexthops[0].weight, 3);
        // Without fibmatch: one of the two paths, as ip says for the same flow.
        let want = got_ip(&ip_get(&["10.9.1.1"]).unwrap());
        assert_eq!(got_nl(&nl, RouteGet::to(ip_of("10.9.1.1"))), want);
    });
}

#[test]
fn route_get_refusals_are_the_kernels_and_bad_input_is_typed() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peers = lab(&nl);
        nl.add_route(&Route::to(net("10.50.0.0/16")).kind(nslink::RouteType::Blackhole)).unwrap();
        nl.add_route(&Route::to(net("10.51.0.0/16")).kind(nslink::RouteType::Prohibit)).unwrap();
        nl.add_route(&Route::to(net("10.52.0.0/16")).kind(nslink::RouteType::Unreachable)).unwrap();
        // No default route here: ENETUNREACH, as ip reports it.
        for (dst, errno, ip_says) in [
            ("198.51.100.1", Errno::ENETUNREACH, "Network is unreachable"),
            ("10.50.0.1", Errno::EINVAL, "Invalid argument"),
            ("10.51.0.1", Errno::EACCES, "Permission denied"),
            ("10.52.0.1", Errno::EHOSTUNREACH, "No route to host"),
        ] {
            let ip_err = ip_get(&[dst]).unwrap_err();
            let err = nl.route_get(ip_of(dst)).unwrap_err();
            assert!(ip_err.contains(ip_says), "ip route get {dst}: {ip_err}");
            assert_eq!(err.errno(), Some(errno), "{dst}: {err}");
            assert!(err.to_string().starts_with(&format!("get route to {dst}")), "{err}");
        }
        let err = nl.route_get(RouteGet::to(ip_of("10.1.0.9")).source(ip_of("fd00::1")));
        assert!(matches!(err, Err(Error::InvalidArgument { .. })), "{err:?}");
        let err = nl.route_get(RouteGet::to(ip_of("10.1.0.9")).oif("a name far too long"));
        assert!(err.unwrap_err().is_invalid_name());
        let err = nl.route_get(RouteGet::to(ip_of("10.1.0.9")).oif("nosuch0"));
        assert!(err.unwrap_err().is_not_found());
    });
}

/// `ip -j [-6] rule show`, without the kernel's default rules.
fn ip_rules(family: &str) -> Vec<Value> {
    ip_json(&[family, "rule", "show"])
        .into_iter()
        .filter(|r| ![0, 32766, 32767].contains(&r.at("priority").uint()))
        .collect()
}

/// A rule as `ip -j rule` prints it, rebuilt from nslink's `Rule` with
/// ip's field names and values.
fn as_ip_json(r: &Rule) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("priority".into(), r.priority.unwrap().into());
    if r.flags.contains(RuleFlags::Invert) {
        o.insert("not".into(), Value::Null);
    }
    match r.from {
        Some(n) => {
            o.insert("src".into(), n.addr().to_string().into());
            o.insert("srclen".into(), n.prefix_len().into());
        }
        None => {
            o.insert("src".into(), "all".into());
        }
    }
    if let Some(n) = r.to {
        o.insert("dst".into(), n.addr().to_string().into());
        o.insert("dstlen".into(), n.prefix_len().into());
    }
    if let Some(m) = r.fwmark {
        o.insert("fwmark".into(), format!("{m:#x}").into());
        if let Some(mask) = r.fwmask {
            o.insert("fwmask".into(), format!("{mask:#x}").into());
        }
    }
    if let Some(n) = &r.iif {
        o.insert("iif".into(), n.to_string().into());
    }
    if let Some(n) = &r.oif {
        o.insert("oif".into(), n.to_string().into());
    }
    match r.action {
        RuleAction::Lookup(t) => {
            o.insert("table".into(), t.to_string().into());
        }
        RuleAction::Goto(p) => {
            o.insert("goto".into(), p.into());
        }
        RuleAction::Nop => {
            o.insert("nop".into(), Value::Null);
        }
        a => {
            o.insert("action".into(), a.to_string().into());
        }
    }
    if let Some(len) = r.suppress_prefix_len {
        o.insert("suppress_prefixlen".into(), len.into());
    }
    if r.flags.contains(RuleFlags::Unresolved) {
        o.insert("unresolved".into(), Value::Null);
    }
    Value::Object(o)
}

fn nl_rules(nl: &RouteSocket, family: IpFamily) -> Vec<Value> {
    nl.rules()
        .unwrap()
        .iter()
        .filter(|r| {
            r.family == family && ![Some(0), Some(32766), Some(32767)].contains(&r.priority)
        })
        .map(as_ip_json)
        .collect()
}

#[test]
fn rules_are_added_listed_and_deleted_like_ip_rule() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peers = lab(&nl);
        let t100 = RouteTable::Id(100);
        let rules = [
            Rule::lookup(t100).from(net("10.1.0.0/24")).priority(100),
            Rule::lookup(RouteTable::Id(1000)).to(net("10.60.0.0/16")).priority(110),
            Rule::new(RuleAction::Blackhole)
                .fwmark_mask(0x10, 0xff)
                .iif("a0")
                .oif("b0")
                .priority(120),
            Rule::new(RuleAction::Prohibit).to(net("1.2.3.0/24")).invert().priority(130),
            Rule::new(RuleAction::Unreachable).fwmark(0x20).priority(140),
            Rule::new(RuleAction::Goto(500)).priority(150),
            Rule::new(RuleAction::Nop).priority(160),
            Rule::lookup(RouteTable::Main).suppress_prefix_len(0).priority(170),
            Rule::lookup(t100).from(net("fd00:1::/64")).priority(100),
            Rule::new(RuleAction::Blackhole).family(IpFamily::V6).iif("lo").priority(200),
        ];
        for r in &rules {
            nl.add_rule(r).unwrap_or_else(|e| panic!("add {r}: {e}"));
        }
        // ip reads what nslink added, field by field.
        let v4 = ip_rules("-4");
        let v6 = ip_rules("-6");
        assert_eq!(nl_rules(&nl, IpFamily::V4), v4);
        assert_eq!(nl_rules(&nl, IpFamily::V6), v6);
        assert_eq!(v4.len(), 8);
        assert_eq!(v6.len(), 2);
        assert!(v4.iter().any(|r| r.get("goto").is_some() && r.get("unresolved").is_some()));
        let d = ip_json(&["-d", "rule", "show", "pref", "170"]);
        assert_eq!(d[0].at("suppress_prefixlen").uint(), 0, "{d:?}");

        // The typed read-back equals what was added (the kernel fills in
        // the protocol and, for the goto without a target, Unresolved).
        let listed = nl.rules().unwrap();
        for r in &rules {
            let found = listed
                .iter()
                .find(|l| l.family == r.family && l.priority == r.priority)
                .unwrap_or_else(|| panic!("{r} not listed"));
            let mut back = found.clone();
            back.protocol = None;
            back.flags &= RuleFlags::Invert;
            assert_eq!(&back, r, "listed {found}");
        }
        // An identical rule is EEXIST.
        assert!(nl.add_rule(&rules[0]).unwrap_err().is_already_exists());

        // ip adds, nslink reads.
        ip(&[
            "rule",
            "add",
            "from",
            "10.7.0.0/16",
            "fwmark",
            "0x5/0xf",
            "lookup",
            "300",
            "pref",
            "300",
        ]);
        ip(&["-6", "rule", "add", "to", "fd00:7::/48", "unreachable", "pref", "301"]);
        let r = nl.rules().unwrap().into_iter().find(|r| r.priority == Some(300)).unwrap();
        assert_eq!(
            r,
            Rule::lookup(RouteTable::Id(300))
                .from(net("10.7.0.0/16"))
                .fwmark_mask(5, 0xf)
                .priority(300)
                .protocol(r.protocol.unwrap())
        );
        assert_eq!(
            r.to_string(),
            format!(
                "300: from 10.7.0.0/16 fwmark 0x5/0xf lookup 300 proto {}",
                r.protocol.unwrap()
            )
        );
        let r6 = nl.rules().unwrap().into_iter().find(|r| r.priority == Some(301)).unwrap();
        assert_eq!(
            (r6.family, r6.action, r6.to),
            (IpFamily::V6, RuleAction::Unreachable, Some(net("fd00:7::/48")))
        );
        assert_eq!(nl_rules(&nl, IpFamily::V4), ip_rules("-4"));
        assert_eq!(nl_rules(&nl, IpFamily::V6), ip_rules("-6"));

        // Deleting: the builders, and listed rules (which match themselves).
        for r in &rules {
            nl.delete_rule(r).unwrap_or_else(|e| panic!("delete {r}: {e}"));
        }
        let listed = nl.rules().unwrap();
        for p in [300, 301] {
            let r = listed.iter().find(|r| r.priority == Some(p)).unwrap();
            nl.delete_rule(r).unwrap();
        }
        assert_eq!(ip_rules("-4"), Vec::<Value>::new());
        assert_eq!(ip_rules("-6"), Vec::<Value>::new());
        // The kernel's own rules are untouched.
        assert_eq!(ip_json(&["rule", "show"]).len(), 3);
    });
}

#[test]
fn deleting_a_missing_rule_is_not_found_and_bad_rules_are_typed() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let before = ip(&["rule", "show"]);
        let err = nl.delete_rule(&Rule::lookup(RouteTable::Id(100)).priority(999)).unwrap_err();
        assert!(matches!(err, Error::NotFound { errno: Some(2), .. }), "{err:?}");
        assert!(err.is_not_found());
        assert!(err.to_string().starts_with("delete rule 999: from all lookup 100"), "{err}");

        let err = nl
            .add_rule(&Rule::lookup(RouteTable::Main).from(net("10.0.0.0/8")).to(net("fd00::/8")))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let err = nl.add_rule(
            &Rule::lookup(RouteTable::Main)
                .family(IpFamily::V6)
                .from(net("10.0.0.0/8"))
                .to(net("fd00::/8")),
        );
        assert!(matches!(err, Err(Error::InvalidArgument { .. })), "{err:?}");
        let err = nl.add_rule(&Rule::lookup(RouteTable::Main).iif("a name far too long"));
        assert!(err.unwrap_err().is_invalid_name());
        // A goto that does not go forward: the kernel's EINVAL, its message.
        let err = nl.add_rule(&Rule::new(RuleAction::Goto(10)).priority(20)).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EINVAL), "{err:?}");
        assert_eq!(ip(&["rule", "show"]), before, "nothing half-made");
        assert_eq!(ip(&["-6", "rule", "show"]).lines().count(), 2);
    });
}

#[test]
fn a_rule_naming_a_missing_table_is_accepted_and_lookups_fall_through() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peers = lab(&nl);
        nl.add_route(&Route::default_via(ip_of("10.1.0.254"))).unwrap();
        // Table 12345 has no route; the kernel takes the rule anyway.
        assert!(!ip(&["route", "show", "table", "all"]).contains("table 12345"));
        let rule = Rule::lookup(RouteTable::Id(12345)).to(net("198.51.100.0/24")).priority(50);
        nl.add_rule(&rule).unwrap();
        let shown = ip_rules("-4");
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].at("table").text(), "12345");
        // The lookup there finds nothing and goes on to main.
        let a = nl.route_get(ip_of("198.51.100.1")).unwrap();
        assert_eq!((a.route.table, a.route.gateway), (RouteTable::Main, Some(ip_of("10.1.0.254"))));
        assert_eq!(got_ip(&ip_get(&["198.51.100.1"]).unwrap()).table, None, "main");
        // Once the table has a route, the same rule sends traffic there.
        nl.add_route(&Route::to(net("198.51.100.0/24")).dev("b0").table(RouteTable::Id(12345)))
            .unwrap();
        let a = nl.route_get(ip_of("198.51.100.1")).unwrap();
        assert_eq!(a.route.table, RouteTable::Id(12345));
        assert_eq!(got_ip(&ip_get(&["198.51.100.1"]).unwrap()).table.as_deref(), Some("12345"));
        nl.delete_rule(&rule).unwrap();
    });
}

/// `ip -j netns list-id` as (nsid, name) pairs.
fn ip_list_id(place: Option<&str>) -> Vec<(i64, Option<String>)> {
    ip_json_in(place, &["netns", "list-id"])
        .iter()
        .map(|e| (e.at("nsid").int(), e.get("name").map(|n| n.text().to_owned())))
        .collect()
}

/// `ip -j netns list` as (name, id) pairs, sorted by name.
fn ip_netns_ids() -> Vec<(String, Option<i64>)> {
    let mut v: Vec<_> = ip_json(&["netns", "list"])
        .iter()
        .map(|e| (e.at("name").text().to_owned(), e.get("id").map(|i| i.int())))
        .collect();
    v.sort();
    v
}

#[test]
fn namespace_ids_are_set_and_listed_like_ip_netns() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let dir = NetnsDir::default();
        let n1 = NetNs::create("n1").unwrap();
        let n2 = NetNs::create("n2").unwrap();
        let n3 = NetNs::create("n3").unwrap();
        assert_eq!(nl.netns_ids().unwrap(), Vec::<i32>::new());
        assert_eq!(nl.netns_id(&n1).unwrap(), None, "asking assigns nothing");
        assert_eq!(ip_list_id(None), vec![]);

        // nslink sets, ip reads.
        assert_eq!(nl.set_netns_id(&n1, NsidRequest::Id(5)).unwrap(), 5);
        assert_eq!(nl.set_netns_id(&n2, NsidRequest::Auto).unwrap(), 0);
        assert_eq!(ip_list_id(None), vec![(0, Some("n2".into())), (5, Some("n1".into()))]);
        assert_eq!(
            ip_netns_ids(),
            vec![("n1".into(), Some(5)), ("n2".into(), Some(0)), ("n3".into(), None)]
        );
        // nslink reads the same.
        assert_eq!(nl.netns_ids().unwrap(), vec![0, 5]);
        let named: Vec<(i32, Option<String>)> = nl
            .netns_ids_named(&dir)
            .unwrap()
            .into_iter()
            .map(|e| (e.nsid, e.name.map(|n| n.to_string())))
            .collect();
        assert_eq!(named, vec![(0, Some("n2".into())), (5, Some("n1".into()))]);
        let listed: Vec<(String, Option<i32>)> =
            dir.list_ids(&nl).unwrap().into_iter().map(|(n, id)| (n.to_string(), id)).collect();
        assert_eq!(
            listed,
            vec![("n1".into(), Some(5)), ("n2".into(), Some(0)), ("n3".into(), None)]
        );

        // ip sets, nslink reads.
        ip(&["netns", "set", "n3", "9"]);
        assert_eq!(nl.netns_id(&n3).unwrap(), Some(9));
        assert_eq!(nl.netns_ids().unwrap(), vec![0, 5, 9]);
        assert_eq!(nl.netns_name_by_id(9, &dir).unwrap().unwrap().as_str(), "n3");
        assert_eq!(nl.netns_name_by_id(7, &dir).unwrap(), None);
        assert_eq!(nl.netns_by_id(5, [&n2, &n3, &n1]).unwrap(), Some(&n1));
        assert_eq!(nl.netns_by_id(7, [&n2, &n3, &n1]).unwrap(), None);

        // Ids are per namespace: n1 has none for anyone yet.
        let nl1 = RouteSocket::open_in(&n1).unwrap();
        assert_eq!(nl1.netns_ids().unwrap(), Vec::<i32>::new());
        assert_eq!(ip_list_id(Some("n1")), vec![]);
        assert_eq!(nl1.set_netns_id(&n2, NsidRequest::Id(5)).unwrap(), 5, "5 is free in n1");
        assert_eq!(ip_list_id(Some("n1")), vec![(5, Some("n2".into()))]);

        // A process's namespace: this thread's, through its tid.
        let tid = nix::unistd::gettid().as_raw() as u32;
        let here = NetNs::current().unwrap();
        assert_eq!(nl1.netns_id_of_pid(tid).unwrap(), nl1.netns_id(&here).unwrap());
        assert!(nl.netns_id_of_pid(u32::MAX / 2).unwrap_err().is_not_found());
    });
}

#[test]
fn namespace_id_refusals_are_typed_and_change_nothing() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let n1 = NetNs::create("n1").unwrap();
        let n2 = NetNs::create("n2").unwrap();
        nl.set_netns_id(&n1, NsidRequest::Id(5)).unwrap();
        let before = ip_list_id(None);
        // The id is taken: EEXIST with the kernel's message.
        let err = nl.set_netns_id(&n2, NsidRequest::Id(5)).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EEXIST), "{err:?}");
        assert!(err.extack().is_some_and(|m| m.contains("already used")), "{err:?}");
        assert!(err.to_string().starts_with("set id of namespace \"n2\" to 5: "), "{err}");
        // The namespace has an id already.
        let err = nl.set_netns_id(&n1, NsidRequest::Id(6)).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EEXIST), "{err:?}");
        // Negative ids never reach the kernel.
        let err = nl.set_netns_id(&n2, NsidRequest::Id(-3)).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        assert!("-3".parse::<NsidRequest>().is_err());
        assert_eq!(ip_list_id(None), before, "nothing changed");
        assert_eq!(nl.netns_id(&n2).unwrap(), None);
    });
}

#[test]
fn a_veths_link_netnsid_maps_back_to_its_peers_namespace() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let dir = NetnsDir::default();
        let a = NetNs::create("a").unwrap();
        let b = NetNs::create("b").unwrap();
        nl.set_netns_id(&a, NsidRequest::Id(3)).unwrap();
        VethPair::builder("vb0", "eth0").peer_netns(&b).create(&nl).unwrap();
        let link = nl.require_link("vb0").unwrap();
        let id = link.link_netnsid().expect("a veth with its peer elsewhere has a link-netnsid");
        // The kernel gave b an id when it needed one; ip says the same.
        let shown = &ip_json(&["-d", "link", "show", "vb0"])[0];
        assert_eq!(shown.at("link_netnsid").int(), i64::from(id));
        assert_ne!(id, 3);
        assert_eq!(nl.netns_by_id(id, [&a, &b]).unwrap(), Some(&b));
        assert_eq!(nl.netns_name_by_id(id, &dir).unwrap().unwrap().as_str(), "b");
        assert!(ip_list_id(None).contains(&(i64::from(id), Some("b".into()))));
        // The peer's side: its link-netnsid is b's id for this namespace.
        let here = NetNs::current().unwrap();
        let nlb = RouteSocket::open_in(&b).unwrap();
        let peer = nlb.require_link("eth0").unwrap();
        let back = peer.link_netnsid().unwrap();
        assert_eq!(nlb.netns_by_id(back, [&a, &here]).unwrap(), Some(&here));
        let _ = RouteProtocol::Boot;
    });
}
