//! Typed routes, addresses, neighbours and sysctl writes, checked against
//! what `ip -d -j route`, `ip -j addr`, `ip -j neigh` and `sysctl` report.
//!
//! Every test runs inside `common::sandbox` (its own network and mount
//! namespace) and needs root.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::{JsonExt as _, ip, ip_json, sandbox};
use nslink::{
    AddressFlags, AddressOptions, AddressScope, Errno, Error, IpNet, NeighbourFlags,
    NeighbourState, NetNs, Op, Route, RouteProtocol, RouteScope, RouteSocket, RouteTable,
    RouteType, VethPair,
};
use serde_json::Value;

fn ip_of(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// `r0` up with 10.30.0.1/24 and fd00:30::1/64 (no DAD), its peer up in a
/// namespace of its own, which is returned.
fn lab(nl: &RouteSocket) -> NetNs {
    let peer = NetNs::new().unwrap();
    VethPair::builder("r0", "eth0").peer_netns(&peer).create(nl).unwrap();
    nl.set_up("lo").unwrap();
    nl.set_up("r0").unwrap();
    RouteSocket::open_in(&peer).unwrap().set_up("eth0").unwrap();
    nl.add_address("r0", net("10.30.0.1/24")).unwrap();
    let nodad = AddressOptions::default().flags(AddressFlags::NODAD);
    nl.add_address_with("r0", net("fd00:30::1/64"), nodad).unwrap();
    peer
}

/// The routes once two readings a moment apart agree, read by `ip` and by
/// nslink alike (at most 5 s).
fn settled(nl: &RouteSocket) -> BTreeMap<(String, String), Shown> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let a = ip_routes();
        std::thread::sleep(std::time::Duration::from_millis(50));
        if a == ip_routes() && nl_routes(nl) == a {
            return a;
        }
        assert!(std::time::Instant::now() < deadline, "the route table never settled");
    }
}

/// One route as `ip -d -j route` shows it: type, protocol, scope, table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shown {
    dst: String,
    table: String,
    kind: String,
    protocol: String,
    scope: String,
}

/// `ip -d -j [-6] route show table all`, keyed by (destination, table);
/// destinations as nslink prints them (`0.0.0.0/0`, `10.1.0.1/32`).
fn ip_routes() -> BTreeMap<(String, String), Shown> {
    let mut out = BTreeMap::new();
    for (family, zero, host) in [("-4", "0.0.0.0/0", "/32"), ("-6", "::/0", "/128")] {
        for r in ip_json(&["-d", family, "route", "show", "table", "all"]) {
            let dst = match r.at("dst").text() {
                "default" => zero.to_owned(),
                d if d.contains('/') => d.to_owned(),
                d => format!("{d}{host}"),
            };
            let shown = Shown {
                dst: dst.clone(),
                table: r.at("table").text().to_owned(),
                kind: r.at("type").text().to_owned(),
                protocol: r.at("protocol").text().to_owned(),
                scope: r.at("scope").text().to_owned(),
            };
            out.insert((dst, shown.table.clone()), shown);
        }
    }
    out
}

/// nslink's `routes()`, shown the same way.
fn nl_routes(nl: &RouteSocket) -> BTreeMap<(String, String), Shown> {
    nl.routes()
        .unwrap()
        .into_iter()
        .map(|r| {
            let shown = Shown {
                dst: r.dst.to_string(),
                table: r.table.to_string(),
                kind: r.kind.to_string(),
                protocol: r.protocol.expect("listed routes have a protocol").to_string(),
                scope: r.scope.expect("listed routes have a scope").to_string(),
            };
            ((shown.dst.clone(), shown.table.clone()), shown)
        })
        .collect()
}

fn shown(dst: &str, table: &str, kind: &str, protocol: &str, scope: &str) -> Shown {
    Shown {
        dst: dst.into(),
        table: table.into(),
        kind: kind.into(),
        protocol: protocol.into(),
        scope: scope.into(),
    }
}

/// Regression (issue 7, item 13): the type was ignored on add, so a
/// blackhole route was sent as a unicast device route and refused
/// (ENODEV); local/broadcast/anycast/multicast/throw/unreachable/prohibit
/// likewise.
#[test]
fn every_route_type_the_kernel_accepts_is_added_as_asked_and_listed_like_ip() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peer = lab(&nl);
        // IPv6 link-local and multicast routes appear when the kernel's
        // address configuration runs after the links come up; wait until
        // the table has settled, then compare.
        let before = settled(&nl);
        assert_eq!(nl_routes(&nl), before, "routes() and ip disagree before");

        let t100 = RouteTable::Id(100);
        let routes = [
            Route::to(net("10.9.0.0/16")).kind(RouteType::Blackhole),
            Route::to(net("10.10.0.0/16")).kind(RouteType::Unreachable),
            Route::to(net("10.11.0.0/16")).kind(RouteType::Prohibit),
            Route::to(net("10.17.0.0/16")).kind(RouteType::Throw).table(t100),
            Route::to(net("10.12.0.1/32"))
                .kind(RouteType::Local)
                .dev("r0")
                .table(RouteTable::Local),
            Route::to(net("10.18.0.255/32"))
                .kind(RouteType::Broadcast)
                .dev("r0")
                .table(RouteTable::Local),
            Route::to(net("10.19.0.1/32"))
                .kind(RouteType::Anycast)
                .dev("r0")
                .table(RouteTable::Local),
            Route::to(net("224.1.0.0/16")).kind(RouteType::Multicast).dev("r0"),
            Route::to(net("10.40.0.0/16")).dev("r0"),
            Route::to(net("10.41.0.0/16")).via(ip_of("10.30.0.254")).table(RouteTable::Default),
            Route::to(net("fd00:9::/64")).kind(RouteType::Blackhole),
            Route::to(net("fd00:10::/64")).kind(RouteType::Unreachable),
            Route::to(net("fd00:11::/64")).kind(RouteType::Prohibit),
            Route::to(net("fd00:12::/64")).kind(RouteType::Throw).table(t100),
            Route::to(net("ff0e::/16")).kind(RouteType::Multicast).dev("r0"),
            Route::to(net("fd00:30::7/128"))
                .kind(RouteType::Anycast)
                .dev("r0")
                .table(RouteTable::Local),
        ];
        for r in &routes {
            nl.add_route(r).unwrap_or_else(|e| panic!("add {r:?}: {e}"));
        }
        let after = ip_routes();
        let added: BTreeMap<_, _> = after
            .iter()
            .filter(|(k, _)| !before.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let want = [
            shown("10.9.0.0/16", "main", "blackhole", "boot", "global"),
            shown("10.10.0.0/16", "main", "unreachable", "boot", "global"),
            shown("10.11.0.0/16", "main", "prohibit", "boot", "global"),
            shown("10.17.0.0/16", "100", "throw", "boot", "global"),
            shown("10.12.0.1/32", "local", "local", "boot", "host"),
            shown("10.18.0.255/32", "local", "broadcast", "boot", "link"),
            shown("10.19.0.1/32", "local", "anycast", "boot", "link"),
            shown("224.1.0.0/16", "main", "multicast", "boot", "link"),
            shown("10.40.0.0/16", "main", "unicast", "boot", "link"),
            shown("10.41.0.0/16", "default", "unicast", "boot", "global"),
            shown("fd00:9::/64", "main", "blackhole", "boot", "global"),
            shown("fd00:10::/64", "main", "unreachable", "boot", "global"),
            shown("fd00:11::/64", "main", "prohibit", "boot", "global"),
            shown("fd00:12::/64", "100", "throw", "boot", "global"),
            shown("ff0e::/16", "main", "multicast", "boot", "global"),
            shown("fd00:30::7/128", "local", "anycast", "boot", "global"),
        ];
        let want: BTreeMap<_, _> =
            want.into_iter().map(|s| ((s.dst.clone(), s.table.clone()), s)).collect();
        assert_eq!(added, want, "what ip shows after the adds");
        assert_eq!(nl_routes(&nl), after, "routes() and ip disagree after the adds");

        // The typed read-back, field by field.
        let listed = nl.routes().unwrap();
        let find = |dst: &str| listed.iter().find(|r| r.dst == net(dst)).unwrap();
        let bh = find("10.9.0.0/16");
        assert_eq!(bh.kind, RouteType::Blackhole);
        assert_eq!((bh.scope, bh.protocol), (Some(RouteScope::Global), Some(RouteProtocol::Boot)));
        assert_eq!(find("10.12.0.1/32").table, RouteTable::Local);
        assert_eq!(find("10.12.0.1/32").scope, Some(RouteScope::Host));
        assert_eq!(find("10.17.0.0/16").table, RouteTable::Id(100));
        assert_eq!(find("10.41.0.0/16").table, RouteTable::Default);

        // Deleting needs the type: a unicast route of that prefix is not it.
        let err = nl.delete_route(&Route::to(net("10.9.0.0/16"))).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ESRCH), "{err:?}");
        // A listed route deletes itself; the builders delete the rest.
        nl.delete_route(bh).unwrap();
        for r in &routes[1..] {
            nl.delete_route(r).unwrap_or_else(|e| panic!("delete {r:?}: {e}"));
        }
        assert_eq!(ip_routes(), before, "every added route is gone");
        assert_eq!(nl_routes(&nl), before);
    });
}

/// Regression (issue 7, item 13): the protocol was ignored on add (always
/// `boot`).
#[test]
fn route_protocols_are_honoured_on_add_and_delete_and_listed_like_ip() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peer = lab(&nl);
        let protocols = [
            ("10.50.0.0/16", RouteProtocol::Static, "static"),
            ("10.51.0.0/16", RouteProtocol::Other(100), "100"),
            ("10.52.0.0/16", RouteProtocol::Babel, "babel"),
            ("10.53.0.0/16", RouteProtocol::Dhcp, "dhcp"),
            ("10.54.0.0/16", RouteProtocol::Kernel, "kernel"),
            ("fd00:50::/64", RouteProtocol::Static, "static"),
            ("fd00:51::/64", RouteProtocol::Other(200), "200"),
        ];
        for (dst, proto, _) in protocols {
            nl.add_route(&Route::to(net(dst)).dev("r0").protocol(proto)).unwrap();
        }
        let shown = ip_routes();
        let mine = nl_routes(&nl);
        for (dst, proto, word) in protocols {
            let key = (net(dst).to_string(), "main".to_owned());
            assert_eq!(shown[&key].protocol, word, "ip's protocol of {dst}");
            assert_eq!(mine[&key].protocol, word, "nslink's protocol of {dst}");
            let listed = nl.routes().unwrap().into_iter().find(|r| r.dst == net(dst)).unwrap();
            assert_eq!(listed.protocol, Some(proto));
        }
        // ip's own words parse to the same values.
        assert_eq!("static".parse::<RouteProtocol>().unwrap(), RouteProtocol::Static);
        assert_eq!("100".parse::<RouteProtocol>().unwrap(), RouteProtocol::Other(100));

        // Delete: a protocol that differs does not match; none matches any.
        let wrong = Route::to(net("10.50.0.0/16")).dev("r0").protocol(RouteProtocol::Dhcp);
        assert_eq!(nl.delete_route(&wrong).unwrap_err().errno(), Some(Errno::ESRCH));
        nl.delete_route(&Route::to(net("10.50.0.0/16")).dev("r0").protocol(RouteProtocol::Static))
            .unwrap();
        for (dst, _, _) in &protocols[1..] {
            nl.delete_route(&Route::to(net(dst)).dev("r0")).unwrap();
        }
        let left = ip_routes();
        for (dst, _, _) in protocols {
            assert!(!left.contains_key(&(net(dst).to_string(), "main".to_owned())), "{dst} left");
        }
    });
}

/// Regression (issue 7, item 13): a scope was a string, and a misspelled
/// one became `global` without an error. Scopes are typed now; each is
/// honoured, and the kernel's refusal of a scope the type does not allow
/// comes back as EINVAL.
#[test]
fn route_scopes_are_honoured_and_words_that_name_none_are_refused() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peer = lab(&nl);
        let scopes = [
            ("10.60.0.0/16", RouteScope::Host, "host"),
            ("10.61.0.0/16", RouteScope::Link, "link"),
            ("10.62.0.0/16", RouteScope::Global, "global"),
            ("10.63.0.0/16", RouteScope::Site, "site"),
            ("10.64.0.0/16", RouteScope::Other(7), "7"),
        ];
        for (dst, scope, _) in scopes {
            nl.add_route(&Route::to(net(dst)).dev("r0").scope(scope)).unwrap();
        }
        let shown = ip_routes();
        for (dst, scope, word) in scopes {
            let key = (dst.to_owned(), "main".to_owned());
            assert_eq!(shown[&key].scope, word, "ip's scope of {dst}");
            let listed = nl.routes().unwrap().into_iter().find(|r| r.dst == net(dst)).unwrap();
            assert_eq!(listed.scope, Some(scope));
            assert_eq!(listed.scope.unwrap().to_string(), word);
        }
        // Delete with the wrong scope: no match; with the right one: gone.
        let wrong = Route::to(net("10.60.0.0/16")).dev("r0").scope(RouteScope::Link);
        assert_eq!(nl.delete_route(&wrong).unwrap_err().errno(), Some(Errno::ESRCH));
        nl.delete_route(&Route::to(net("10.60.0.0/16")).dev("r0").scope(RouteScope::Host)).unwrap();
        // A local route may not be of link scope: the kernel says EINVAL.
        let bad = Route::to(net("10.65.0.1/32"))
            .kind(RouteType::Local)
            .dev("r0")
            .table(RouteTable::Local)
            .scope(RouteScope::Link);
        assert_eq!(nl.add_route(&bad).unwrap_err().errno(), Some(Errno::EINVAL));
        // Words: what ip accepts parses, a misspelling is an error that
        // says what it expected.
        let err = "lnik".parse::<RouteScope>().unwrap_err();
        assert!(err.to_string().contains("unknown route scope \"lnik\""), "{err}");
        let err: Error = err.into();
        assert_eq!(err.op(), None);
        assert!(matches!(err, Error::Parse(_)), "{err:?}");
        assert!("blakhole".parse::<RouteType>().is_err());
    });
}

/// `Route::dev` no longer returns a `Result`: an invalid name is reported
/// by the operation, before anything is sent.
#[test]
fn an_invalid_device_name_is_reported_when_the_route_is_used() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peer = lab(&nl);
        let before = settled(&nl);
        let r = Route::to(net("10.70.0.0/16")).dev("a name far too long").metric(5);
        for err in [nl.add_route(&r).unwrap_err(), nl.delete_route(&r).unwrap_err()] {
            assert!(err.is_invalid_name(), "{err:?}");
        }
        let mut b = nl.batch();
        assert!(b.add_route(&r).unwrap_err().is_invalid_name());
        assert_eq!(ip_routes(), before);
    });
}

/// Address scopes and flags as `ip -j addr` prints them.
#[test]
fn address_scopes_and_flags_are_typed_and_agree_with_ip() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peer = lab(&nl);
        let host = AddressOptions::default().scope(AddressScope::Host);
        nl.add_address_with("r0", net("10.3.0.1/24"), host).unwrap();
        let link =
            AddressOptions::default().scope(AddressScope::Link).flags(AddressFlags::NOPREFIXROUTE);
        nl.add_address_with("r0", net("10.2.0.1/24"), link).unwrap();
        nl.add_address("r0", net("10.30.0.9/24")).unwrap(); // a secondary
        nl.add_address("r0", net("fd00:31::1/64")).unwrap(); // tentative
        ip(&["addr", "add", "10.4.0.1/24", "dev", "r0", "valid_lft", "100", "preferred_lft", "50"]);
        nl.add_address("lo", net("127.0.0.2/8")).unwrap(); // host by default, like ip

        let r0 = nl.require_link("r0").unwrap().index();
        let mine = nl.link_addresses(r0).unwrap();
        let shown = ip_json(&["addr", "show", "dev", "r0"]);
        let infos = shown[0].at("addr_info").items();
        assert_eq!(mine.len(), infos.len(), "{mine:?} vs {infos:?}");
        for info in infos {
            let local = info.at("local").text();
            let a = mine.iter().find(|a| a.net.addr() == ip_of(local)).unwrap();
            assert_eq!(a.scope.to_string(), info.at("scope").text(), "{local}");
            let flag = |key: &str| info.get(key).and_then(Value::as_bool).unwrap_or(false);
            for (word, bit) in [
                ("secondary", AddressFlags::SECONDARY),
                ("nodad", AddressFlags::NODAD),
                ("noprefixroute", AddressFlags::NOPREFIXROUTE),
                ("tentative", AddressFlags::TENTATIVE),
            ] {
                assert_eq!(a.flags.contains(bit), flag(word), "{local} {word}: {:?}", a.flags);
            }
            assert_eq!(!a.flags.contains(AddressFlags::PERMANENT), flag("dynamic"), "{local}");
        }
        let find = |s: &str| mine.iter().find(|a| a.net == net(s)).unwrap();
        assert_eq!(find("10.3.0.1/24").scope, AddressScope::Host);
        assert_eq!(find("10.2.0.1/24").scope, AddressScope::Link);
        assert!(find("10.2.0.1/24").flags.contains(AddressFlags::NOPREFIXROUTE));
        assert_eq!(find("10.30.0.1/24").scope, AddressScope::Global);
        assert!(find("10.30.0.9/24").flags.contains(AddressFlags::SECONDARY));
        assert!(
            find("fd00:30::1/64").flags.contains(AddressFlags::NODAD | AddressFlags::PERMANENT)
        );
        assert!(find("fd00:31::1/64").is_tentative());
        assert!(!find("10.4.0.1/24").flags.contains(AddressFlags::PERMANENT));
        let link_local = mine
            .iter()
            .find(|a| matches!(a.net.addr(), IpAddr::V6(v) if v.segments()[0] == 0xfe80));
        if let Some(ll) = link_local {
            assert_eq!(ll.scope, AddressScope::Link);
        }
        let lo = ip_json(&["addr", "show", "dev", "lo"]);
        let lo_info = lo[0].at("addr_info").items();
        let two = lo_info.iter().find(|i| i.at("local").text() == "127.0.0.2").unwrap();
        assert_eq!(two.at("scope").text(), "host");
    });
}

/// Neighbour states and flags as `ip -j neigh show nud all` prints them.
#[test]
fn neighbour_states_and_flags_are_typed_and_agree_with_ip() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let _peer = lab(&nl);
        let entries = [
            ("10.30.0.2", "permanent", NeighbourState::Permanent),
            ("10.30.0.3", "noarp", NeighbourState::Noarp),
            ("10.30.0.4", "reachable", NeighbourState::Reachable),
            ("10.30.0.5", "stale", NeighbourState::Stale),
        ];
        for (i, (addr, nud, _)) in entries.iter().enumerate() {
            let mac = format!("02:00:00:00:00:{:02x}", i + 2);
            ip(&["neigh", "replace", addr, "lladdr", &mac, "dev", "r0", "nud", nud]);
        }
        ip(&[
            "-6",
            "neigh",
            "replace",
            "fd00:30::5",
            "lladdr",
            "02:00:00:00:00:15",
            "dev",
            "r0",
            "nud",
            "stale",
            "router",
        ]);
        // nslink's own replace, in a state of its choosing.
        nl.replace_neighbour(
            "r0",
            ip_of("10.30.0.6"),
            "02:00:00:00:00:06".parse().unwrap(),
            NeighbourState::Stale,
        )
        .unwrap();

        let shown = ip_json(&["neigh", "show", "nud", "all", "dev", "r0"]);
        let mine = nl.neighbours().unwrap();
        for s in &shown {
            let dst = ip_of(s.at("dst").text());
            let n = mine.iter().find(|n| n.ip == dst).unwrap_or_else(|| panic!("{dst} not listed"));
            let states: Vec<&str> = s.at("state").items().iter().map(|v| v.text()).collect();
            assert_eq!(states, [n.state.to_string()], "{dst}");
            assert_eq!(
                n.flags.contains(NeighbourFlags::ROUTER),
                s.get("router").is_some(),
                "{dst}"
            );
        }
        for (addr, nud, state) in entries {
            let n = mine.iter().find(|n| n.ip == ip_of(addr)).unwrap();
            assert_eq!(n.state, state, "{addr}");
            assert_eq!(nud.parse::<NeighbourState>().unwrap(), state);
        }
        let six = mine.iter().find(|n| n.ip == ip_of("fd00:30::5")).unwrap();
        assert_eq!((six.state, six.flags), (NeighbourState::Stale, NeighbourFlags::ROUTER));
        let own = mine.iter().find(|n| n.ip == ip_of("10.30.0.6")).unwrap();
        assert_eq!(own.state, NeighbourState::Stale);

        // A flush keeps the permanent and noarp entries.
        assert!(nl.flush_neighbours().unwrap() >= 3);
        // (Other entries, such as multicast ones the kernel makes noarp,
        // are not ours and are left out.)
        let ours = ["10.30.0.2", "10.30.0.3", "10.30.0.4", "10.30.0.5", "10.30.0.6", "fd00:30::5"];
        let mut left: Vec<NeighbourState> = nl
            .neighbours()
            .unwrap()
            .iter()
            .filter(|n| ours.iter().any(|o| ip_of(o) == n.ip))
            .map(|n| n.state)
            .collect();
        left.sort_by_key(|s| s.value());
        assert_eq!(left, [NeighbourState::Noarp, NeighbourState::Permanent]);
    });
}

/// Regression (issue 7, item 14): `write` read the key first and failed
/// on a write-only key (mode 0200) with EACCES reported as a read.
#[test]
fn write_only_sysctls_are_written() {
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        for key in ["net.ipv4.route.flush", "net/ipv6/route/flush"] {
            assert_eq!(ns.set_sysctl(key, "1").unwrap(), None, "{key}");
            assert_eq!(nslink::sysctl::write(&ns, key, "1").unwrap(), None, "{key}");
            // Reading it is what the kernel refuses, and says so.
            let err = ns.sysctl(key).unwrap_err();
            assert_eq!((err.op(), err.errno()), (Some(Op::ReadSysctl), Some(Errno::EACCES)));
        }
        // What sysctl(8) says about the same key in the same namespace.
        let out =
            ns.command("sysctl").unwrap().args(["-w", "net.ipv4.route.flush=1"]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    });
}

/// Regression (issue 7, item 14): an unknown key on write was reported as
/// a failed read (ReadSysctl).
#[test]
fn writing_an_unknown_sysctl_is_a_write_that_finds_nothing() {
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        for key in ["net.ipv4.no_such_setting", "net/ipv6/conf/nosuch0/forwarding"] {
            let err = ns.set_sysctl(key, "1").unwrap_err();
            assert_eq!(err.op(), Some(Op::WriteSysctl), "{err:?}");
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errno(), Some(Errno::ENOENT), "{err:?}");
            assert!(err.to_string().starts_with("write sysctl "), "{err}");
        }
        // A value the kernel refuses is a write error too.
        let err = ns.set_sysctl("net.ipv4.ip_forward", "yes").unwrap_err();
        assert_eq!((err.op(), err.errno()), (Some(Op::WriteSysctl), Some(Errno::EINVAL)));
    });
}
