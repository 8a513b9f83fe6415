//! The `nsip` example against the real tools: for the same state, every
//! field `nsip -j …` prints has the name and the value `ip -j …` /
//! `ip -d -j …` / `bridge -j …` print; state made by `nsip` is what the
//! tools see; bad input gets exit code 2 and the usage, kernel refusals
//! exit code 1 with one line naming the kernel's error.
//!
//! The example binary is the one cargo builds for `cargo test` (examples
//! are built with the tests); a focused run needs
//! `cargo build --example nsip` first.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{JsonExt, ip, ip_in, ip_json, ip_json_in, json_in, parse_json, sandbox};
use serde_json::Value;

/// The example's binary, next to the test binary's directory:
/// `target/<profile>/examples/nsip`.
fn nsip_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/nsip-HASH → target/<profile>
    let profile = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let path = profile.join("examples").join("nsip");
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds it; for a focused run, `cargo build --example nsip`",
        path.display()
    );
    path
}

fn nsip_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(nsip_path());
    cmd.env("LC_ALL", "C").args(args);
    cmd
}

/// `nsip ARGS`, whatever its exit status.
fn nsip_output(args: &[&str]) -> Output {
    nsip_cmd(args).output().expect("cannot run nsip")
}

/// `nsip ARGS`, which must succeed; its stdout.
#[track_caller]
fn nsip(args: &[&str]) -> String {
    let out = nsip_output(args);
    assert!(
        out.status.success(),
        "nsip {args:?} failed with {}: stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "nsip {args:?} wrote to stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("nsip output is UTF-8")
}

/// `nsip -j ARGS`, parsed.
#[track_caller]
fn nsip_json(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    parse_json(&format!("nsip {all:?}"), &nsip(&all))
}

/// Checks that every field of `ours` is in `theirs` with the same value:
/// objects field by field (recursively), arrays element by element (same
/// length), scalars equal.
#[track_caller]
fn assert_subset(ours: &Value, theirs: &Value, path: &str) {
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            assert!(
                !o.is_empty() || t.is_empty(),
                "{path}: nsip printed an empty object for {theirs}"
            );
            for (k, v) in o {
                let Some(tv) = t.get(k) else {
                    panic!("{path}.{k}: nsip prints {v} but the tool has no such field in {theirs}")
                };
                assert_subset(v, tv, &format!("{path}.{k}"));
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            assert_eq!(o.len(), t.len(), "{path}: nsip {ours} vs tool {theirs}");
            for (i, (a, b)) in o.iter().zip(t).enumerate() {
                assert_subset(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(ours, theirs, "{path}: nsip vs tool"),
    }
}

/// Compares two listings of the same state: the same objects (matched by
/// `key`), each of nsip's fields equal to the tool's. Returns how many
/// objects were compared.
#[track_caller]
fn compare(what: &str, ours: &[Value], theirs: &[Value], key: impl Fn(&Value) -> String) -> usize {
    let theirs = tool_objects(theirs);
    let theirs = &theirs[..];
    let mut ours_keys: Vec<String> = ours.iter().map(&key).collect();
    let mut their_keys: Vec<String> = theirs.iter().map(&key).collect();
    ours_keys.sort();
    their_keys.sort();
    assert_eq!(
        ours_keys, their_keys,
        "{what}: not the same objects\nnsip: {ours:?}\ntool: {theirs:?}"
    );
    for o in ours {
        let k = key(o);
        let t = theirs.iter().find(|t| key(t) == k).expect("matched above");
        assert_subset(o, t, &format!("{what}[{k}]"));
    }
    ours.len()
}

/// The tool's objects without the empty ones: `ip link show group N`
/// (iproute2 6.1) prints `{}` for every device its filter skips.
fn tool_objects(theirs: &[Value]) -> Vec<Value> {
    theirs.iter().filter(|v| v.as_object().is_none_or(|o| !o.is_empty())).cloned().collect()
}

/// A field as text for keys (absent: empty).
fn field(v: &Value, k: &str) -> String {
    match v.get(k) {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn by_ifname(v: &Value) -> String {
    field(v, "ifname")
}

fn route_key(v: &Value) -> String {
    ["type", "dst", "table", "metric", "dev"]
        .iter()
        .map(|k| field(v, k))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fdb_key(v: &Value) -> String {
    ["mac", "ifname", "vlan", "dst", "vni", "port", "master", "flags"]
        .iter()
        .map(|k| field(v, k))
        .collect::<Vec<_>>()
        .join(" ")
}

/// New devices of this (sandbox) namespace get no IPv6 link-local address:
/// the kernel makes it, and joins its multicast group (a bridge FDB entry),
/// asynchronously when the carrier comes up, which would race with the
/// comparisons.
fn no_linklocal() {
    // /proc/sys/net is the calling thread's network namespace: the sandbox's.
    std::fs::write("/proc/sys/net/ipv6/conf/default/addr_gen_mode", "1")
        .expect("set addr_gen_mode");
}

/// Waits (at most 10 s) until `ip -j link show` reads the same twice,
/// 200 ms apart (`-d` would not do: a bridge's timers tick).
fn settle_links() {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut last = ip_json(&["link", "show"]);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = ip_json(&["link", "show"]);
        if now == last {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "links never settled");
        last = now;
    }
}

/// `ip -j link show` and `ip -d -j link show` against nsip's, for state made
/// with `ip`: a bridge with a port, a veth pair, a peer in another
/// namespace (link_netnsid), an alias, a group, an MTU, a vxlan.
#[test]
fn link_show_matches_ip() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "br0", "type", "bridge", "stp_state", "1", "forward_delay", "400"]);
        ip(&["link", "add", "v0", "mtu", "1400", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "master", "br0"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "br0", "up"]);
        ip(&["link", "set", "v1", "alias", "the peer", "group", "7", "txqueuelen", "500"]);
        ip(&["netns", "add", "other"]);
        ip(&["link", "add", "w0", "type", "veth", "peer", "name", "w1", "netns", "other"]);
        ip(&[
            "link",
            "add",
            "vx0",
            "type",
            "vxlan",
            "id",
            "42",
            "dstport",
            "4789",
            "local",
            "10.9.0.1",
            "remote",
            "10.9.0.2",
            "ttl",
            "9",
            "nolearning",
        ]);
        ip(&[
            "link",
            "add",
            "vx1",
            "type",
            "vxlan",
            "id",
            "43",
            "dstport",
            "4790",
            "group",
            "239.1.1.1",
            "dev",
            "br0",
            "l2miss",
        ]);

        // Carrier and operational state follow the kernel's link-watch work,
        // which can lag (much, under emulation): compare a settled picture.
        settle_links();
        let n = compare(
            "link show",
            &nsip_json(&["link", "show"]),
            &ip_json(&["link", "show"]),
            by_ifname,
        );
        assert_eq!(n, 7);
        let ours = nsip_json(&["-d", "link", "show"]);
        compare("link show -d", &ours, &ip_json(&["-d", "link", "show"]), by_ifname);
        // The fields that matter were printed, not left out.
        let get = |name: &str| ours.iter().find(|o| by_ifname(o) == name).expect(name).clone();
        let v1 = get("v1");
        assert_eq!((v1.at("ifalias").text(), v1.at("group").text()), ("the peer", "7"));
        assert_eq!((v1.at("link").text(), v1.at("txqlen").uint()), ("v0", 500));
        assert!(v1.flags().contains("BROADCAST"));
        let v0 = get("v0");
        assert_eq!(v0.at("master").text(), "br0");
        assert_eq!(v0.at("mtu").uint(), 1400);
        assert_eq!(v0.at("linkinfo").at("info_slave_kind").text(), "bridge");
        assert!(v0.flags().contains("M-DOWN"), "{v0}");
        let w0 = get("w0");
        assert!(w0.get("link_netnsid").is_some(), "{w0}");
        let d = get("vx0").at("linkinfo").at("info_data").clone();
        assert_eq!(
            (d.at("id").uint(), d.at("remote").text(), d.at("ttl").uint()),
            (42, "10.9.0.2", 9)
        );
        assert!(!d.at("learning").truth());
        let d = get("vx1").at("linkinfo").at("info_data").clone();
        assert_eq!((d.at("group").text(), d.at("link").text()), ("239.1.1.1", "br0"));
        assert_eq!(get("br0").at("linkinfo").at("info_data").at("stp_state").uint(), 1);

        // One device, by name, with and without "dev".
        compare(
            "link show v1",
            &nsip_json(&["link", "show", "v1"]),
            &ip_json(&["link", "show", "v1"]),
            by_ifname,
        );
        compare(
            "link show dev v0",
            &nsip_json(&["link", "show", "dev", "v0"]),
            &ip_json(&["link", "show", "dev", "v0"]),
            by_ifname,
        );
        compare(
            "link show group 7",
            &nsip_json(&["link", "show", "group", "7"]),
            &ip_json(&["link", "show", "group", "7"]),
            by_ifname,
        );
        // Inside the other namespace with -n.
        compare(
            "link show -n other",
            &nsip_json(&["-n", "other", "-d", "link", "show"]),
            &ip_json_in("other", &["-d", "link", "show"]),
            by_ifname,
        );
    });
}

/// Devices made with `nsip link add` / `link set` are what `ip -d -j`
/// shows, and nsip's listing of them matches.
#[test]
fn link_add_set_del_seen_by_ip() {
    sandbox(|| {
        no_linklocal();
        nsip(&["link", "add", "br0", "type", "bridge", "stp_state", "0", "ageing_time", "6000"]);
        nsip(&[
            "link",
            "add",
            "v0",
            "mtu",
            "1450",
            "txqueuelen",
            "300",
            "type",
            "veth",
            "peer",
            "name",
            "v1",
        ]);
        nsip(&["link", "add", "ul0", "type", "veth", "peer", "name", "ul1"]);
        nsip(&[
            "link",
            "add",
            "vx0",
            "group",
            "3",
            "type",
            "vxlan",
            "id",
            "100",
            "dstport",
            "4789",
            "remote",
            "10.1.1.1",
            "local",
            "10.1.1.2",
            "dev",
            "ul0",
            "nolearning",
            "ttl",
            "10",
        ]);
        nsip(&["link", "add", "link", "ul0", "name", "mv0", "type", "macvlan", "mode", "bridge"]);
        nsip(&["link", "add", "mt0", "link", "ul0", "type", "macvtap", "mode", "vepa"]);
        nsip(&["link", "set", "v0", "master", "br0", "up"]);
        nsip(&[
            "link",
            "set",
            "dev",
            "v1",
            "mtu",
            "1400",
            "alias",
            "pod side",
            "group",
            "9",
            "address",
            "02:00:00:00:00:01",
        ]);
        nsip(&["link", "set", "ul1", "name", "ul9", "up"]);

        let d = ip_json(&["-d", "link", "show", "vx0"]);
        let info = d[0].at("linkinfo").at("info_data");
        assert_eq!(
            (info.at("id").uint(), info.at("remote").text(), info.at("local").text()),
            (100, "10.1.1.1", "10.1.1.2")
        );
        assert_eq!((info.at("link").text(), info.at("ttl").uint()), ("ul0", 10));
        assert!(!info.at("learning").truth());
        assert_eq!(d[0].at("group").text(), "3");
        let mv = ip_json(&["-d", "link", "show", "mv0"]);
        assert_eq!(mv[0].at("linkinfo").at("info_data").at("mode").text(), "bridge");
        assert_eq!(mv[0].at("link").text(), "ul0");
        let mt = ip_json(&["-d", "link", "show", "mt0"]);
        assert_eq!(mt[0].at("linkinfo").at("info_kind").text(), "macvtap");
        let v1 = &ip_json(&["link", "show", "v1"])[0];
        assert_eq!(
            (v1.at("mtu").uint(), v1.at("ifalias").text(), v1.at("group").text()),
            (1400, "pod side", "9")
        );
        assert_eq!(v1.at("address").text(), "02:00:00:00:00:01");
        let v0 = &ip_json(&["link", "show", "v0"])[0];
        assert_eq!(
            (v0.at("master").text(), v0.at("txqlen").uint(), v0.at("mtu").uint()),
            ("br0", 300, 1450)
        );
        assert!(v0.flags().contains("UP"));
        assert!(ip_json(&["link", "show", "ul9"])[0].flags().contains("UP"));
        let br = ip_json(&["-d", "link", "show", "br0"]);
        assert_eq!(br[0].at("linkinfo").at("info_data").at("ageing_time").uint(), 6000);

        compare(
            "link show -d",
            &nsip_json(&["-d", "link", "show"]),
            &ip_json(&["-d", "link", "show"]),
            by_ifname,
        );

        // nomaster, down, netns, del, del group.
        nsip(&["link", "set", "v0", "nomaster", "down"]);
        let v0 = &ip_json(&["link", "show", "v0"])[0];
        assert!(v0.get("master").is_none() && !v0.flags().contains("UP"), "{v0}");
        nsip(&["netns", "add", "pod"]);
        nsip(&["link", "set", "v1", "netns", "pod"]);
        assert_eq!(common::ifnames(&ip_json_in("pod", &["link", "show", "v1"])), ["v1"]);
        nsip(&["-n", "pod", "link", "set", "v1", "group", "9"]);
        nsip(&["link", "add", "g0", "group", "9", "type", "veth", "peer", "name", "g1"]);
        nsip(&["link", "set", "g1", "group", "9"]);
        nsip(&["link", "del", "group", "9"]);
        assert!(tool_objects(&ip_json(&["link", "show", "group", "9"])).is_empty());
        // Only this namespace's group went.
        assert_eq!(
            common::ifnames(&tool_objects(&ip_json_in("pod", &["link", "show", "group", "9"]))),
            ["v1"]
        );
        nsip(&["link", "del", "mt0"]);
        nsip(&["link", "del", "dev", "mv0"]);
        let names = common::ifnames(&ip_json(&["link", "show"]));
        assert!(!names.iter().any(|n| n == "mt0" || n == "mv0"), "{names:?}");

        // Settings of ip link set, alternative names, tun/tap devices.
        nsip(&["link", "set", "ul0", "promisc", "on", "txqueuelen", "77", "arp", "off"]);
        nsip(&["link", "property", "add", "dev", "ul0", "altname", "underlay-zero"]);
        nsip(&["tuntap", "add", "tap0", "mode", "tap", "multi_queue", "vnet_hdr"]);
        nsip(&["tuntap", "add", "dev", "tun0", "mode", "tun", "pi"]);
        let ul0 = &ip_json(&["-d", "link", "show", "ul0"])[0];
        assert!(ul0.flags().contains("PROMISC") && ul0.flags().contains("NOARP"), "{ul0}");
        assert_eq!((ul0.at("txqlen").uint(), ul0.at("promiscuity").uint()), (77, 1));
        assert_eq!(ul0.at("altnames").items()[0].text(), "underlay-zero");
        let tap = &ip_json(&["-d", "link", "show", "tap0"])[0];
        let d = tap.at("linkinfo").at("info_data");
        assert_eq!(d.at("type").text(), "tap");
        assert!(d.at("multi_queue").truth() && d.at("vnet_hdr").truth() && d.at("persist").truth());
        assert!(
            ip_json(&["-d", "link", "show", "tun0"])[0]
                .at("linkinfo")
                .at("info_data")
                .at("pi")
                .truth()
        );
        compare(
            "link show -d (settings)",
            &nsip_json(&["-d", "link", "show"]),
            &ip_json(&["-d", "link", "show"]),
            by_ifname,
        );
        let ours = nsip_json(&["-d", "link", "show", "ul0"]);
        assert_eq!(ours[0].at("altnames").items().len(), 1);
        assert_eq!(ours[0].at("promiscuity").uint(), 1);
        assert_eq!(nsip_json(&["tuntap", "show"]).len(), 2);
        nsip(&["link", "property", "del", "dev", "ul0", "altname", "underlay-zero"]);
        nsip(&["tuntap", "del", "tap0", "mode", "tap"]);
        assert!(ip_json(&["link", "show", "ul0"])[0].get("altnames").is_none());
        assert!(!common::ifnames(&ip_json(&["link", "show"])).contains(&"tap0".to_owned()));

        // A veth whose peer is created in another namespace.
        nsip(&["link", "add", "h0", "type", "veth", "peer", "name", "eth0", "netns", "pod"]);
        assert_eq!(common::ifnames(&ip_json_in("pod", &["link", "show", "eth0"])), ["eth0"]);
        assert!(ip_json(&["link", "show", "h0"])[0].get("link_netnsid").is_some());
        compare(
            "link show (peer elsewhere)",
            &nsip_json(&["link", "show"]),
            &ip_json(&["link", "show"]),
            by_ifname,
        );
    });
}

/// `nsip addr` against `ip -j addr show`, both ways.
#[test]
fn addr_matches_ip() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "v1", "up"]);
        ip(&["link", "set", "lo", "up"]);
        nsip(&["addr", "add", "10.0.0.1/24", "dev", "v0"]);
        nsip(&["addr", "add", "10.0.0.2/24", "dev", "v0"]); // secondary
        nsip(&["addr", "add", "fd00::1/64", "dev", "v0", "nodad"]);
        nsip(&["addr", "add", "fd01::1/64", "dev", "v0", "nodad", "noprefixroute"]);
        ip(&["addr", "add", "10.1.0.1", "peer", "10.1.0.2", "dev", "v1"]);
        ip(&["addr", "add", "192.168.7.1/24", "brd", "+", "dev", "v1", "label", "v1:a"]);
        ip(&[
            "addr",
            "add",
            "fd02::1/64",
            "dev",
            "v1",
            "valid_lft",
            "1000",
            "preferred_lft",
            "500",
            "nodad",
        ]);

        let ours = nsip_json(&["addr", "show"]);
        compare("addr show", &ours, &ip_json(&["addr", "show"]), by_ifname);
        let v0 = ours.iter().find(|o| by_ifname(o) == "v0").unwrap();
        let info = v0.at("addr_info").items();
        assert!(info.iter().any(|a| a.get("secondary").is_some()), "{v0}");
        assert!(info.iter().any(|a| a.get("noprefixroute").is_some()), "{v0}");
        compare(
            "addr show dev v1",
            &nsip_json(&["addr", "show", "dev", "v1"]),
            &ip_json(&["addr", "show", "dev", "v1"]),
            by_ifname,
        );
        compare(
            "-6 addr show",
            &nsip_json(&["-6", "addr", "show"]),
            &ip_json(&["-6", "addr", "show"]),
            by_ifname,
        );

        nsip(&["addr", "del", "10.0.0.2/24", "dev", "v0"]);
        nsip(&["addr", "del", "fd00::1/64", "dev", "v0"]);
        let locals: Vec<String> = ip_json(&["addr", "show", "dev", "v0"])[0]
            .at("addr_info")
            .items()
            .iter()
            .map(|a| a.at("local").text().to_owned())
            .collect();
        assert!(
            locals.contains(&"10.0.0.1".to_owned()) && !locals.contains(&"10.0.0.2".to_owned())
        );
        assert!(!locals.contains(&"fd00::1".to_owned()), "{locals:?}");
    });
}

/// `nsip route` against `ip -j route`: types, tables, protocols, scopes,
/// metrics, multipath; `route get`; delete and replace.
#[test]
fn route_matches_ip() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "v1", "up"]);
        ip(&["addr", "add", "10.0.0.1/24", "dev", "v0"]);
        ip(&["addr", "add", "fd00::1/64", "dev", "v0", "nodad"]);
        nsip(&[
            "route",
            "add",
            "10.5.0.0/16",
            "via",
            "10.0.0.254",
            "metric",
            "5",
            "proto",
            "static",
        ]);
        nsip(&["route", "add", "blackhole", "10.6.0.0/16", "table", "100"]);
        nsip(&["route", "add", "unreachable", "10.9.0.0/16"]);
        nsip(&["route", "add", "prohibit", "10.10.0.0/16", "metric", "7"]);
        nsip(&["route", "add", "throw", "10.11.0.0/16", "table", "100"]);
        nsip(&[
            "route",
            "add",
            "10.7.0.0/16",
            "nexthop",
            "via",
            "10.0.0.253",
            "weight",
            "2",
            "nexthop",
            "via",
            "10.0.0.252",
            "dev",
            "v0",
            "weight",
            "3",
        ]);
        nsip(&["route", "add", "10.8.0.1", "dev", "v0", "scope", "link"]);
        nsip(&["route", "add", "default", "via", "10.0.0.254", "table", "200", "proto", "bird"]);
        nsip(&["route", "add", "local", "10.12.0.1", "dev", "v0", "table", "local"]);
        nsip(&["route", "add", "fd10::/64", "via", "fd00::2", "metric", "20"]);
        nsip(&["-6", "route", "add", "blackhole", "fd11::/64"]);
        ip(&[
            "route",
            "add",
            "10.20.0.0/16",
            "via",
            "10.0.0.250",
            "proto",
            "zebra",
            "metric",
            "99",
        ]);

        // The state nslink made, as ip sees it.
        let r = ip_json(&["route", "show", "10.7.0.0/16"]);
        assert_eq!(r[0].at("nexthops").items().len(), 2);
        let r = ip_json(&["route", "show", "table", "100"]);
        assert_eq!(r.len(), 2, "{r:?}");

        let n = compare(
            "route show",
            &nsip_json(&["route", "show"]),
            &ip_json(&["route", "show"]),
            route_key,
        );
        assert!(n >= 6, "{n}");
        compare(
            "route show table all",
            &nsip_json(&["route", "show", "table", "all"]),
            &ip_json(&["route", "show", "table", "all"]),
            route_key,
        );
        compare(
            "route show table 100",
            &nsip_json(&["route", "show", "table", "100"]),
            &ip_json(&["route", "show", "table", "100"]),
            route_key,
        );
        compare(
            "-6 route show",
            &nsip_json(&["-6", "route", "show"]),
            &ip_json(&["-6", "route", "show"]),
            route_key,
        );
        compare(
            "route show dev v0",
            &nsip_json(&["route", "show", "dev", "v0"]),
            &ip_json(&["route", "show", "dev", "v0"]),
            route_key,
        );

        for q in [
            vec!["10.5.1.1"],
            vec!["10.5.1.1", "from", "10.0.0.1"],
            vec!["10.0.0.9"],
            vec!["10.7.1.1", "fibmatch"],
            vec!["fd10::5"],
            vec!["10.20.3.4", "oif", "v0"],
        ] {
            let mut a = vec!["route", "get"];
            a.extend(q.iter().copied());
            compare(&format!("{a:?}"), &nsip_json(&a), &ip_json(&a), route_key);
        }

        nsip(&[
            "route",
            "replace",
            "10.5.0.0/16",
            "via",
            "10.0.0.253",
            "metric",
            "5",
            "proto",
            "static",
        ]);
        assert_eq!(
            ip_json(&["route", "show", "10.5.0.0/16"])[0].at("gateway").text(),
            "10.0.0.253"
        );
        nsip(&["route", "del", "10.5.0.0/16", "metric", "5"]);
        nsip(&["route", "del", "blackhole", "10.6.0.0/16", "table", "100"]);
        nsip(&["route", "del", "10.20.0.0/16"]);
        assert!(ip_json(&["route", "show", "10.5.0.0/16"]).is_empty());
        assert!(ip_json(&["route", "show", "10.20.0.0/16"]).is_empty());
        assert_eq!(ip_json(&["route", "show", "table", "100"]).len(), 1);
        compare(
            "route show table all (after)",
            &nsip_json(&["route", "show", "table", "all"]),
            &ip_json(&["route", "show", "table", "all"]),
            route_key,
        );
    });
}

/// `nsip rule` against `ip -j rule show`, both ways.
#[test]
fn rule_matches_ip() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        nsip(&[
            "rule",
            "add",
            "pref",
            "100",
            "from",
            "10.0.0.0/8",
            "to",
            "10.2.0.0/16",
            "iif",
            "v0",
            "fwmark",
            "0x10/0xff",
            "table",
            "100",
        ]);
        nsip(&["rule", "add", "pref", "101", "not", "from", "10.3.0.0/16", "blackhole"]);
        nsip(&["rule", "add", "priority", "102", "oif", "v1", "goto", "32766"]);
        nsip(&[
            "rule",
            "add",
            "pref",
            "103",
            "fwmark",
            "7",
            "lookup",
            "main",
            "proto",
            "static",
            "suppress_prefixlength",
            "0",
        ]);
        nsip(&["rule", "add", "pref", "104", "from", "10.4.0.1", "iif", "nothere", "prohibit"]);
        nsip(&["rule", "add", "pref", "105", "to", "10.5.0.0/16", "unreachable"]);
        ip(&["rule", "add", "pref", "200", "from", "192.168.0.0/16", "table", "7", "proto", "bgp"]);
        ip(&["rule", "add", "pref", "201", "nop"]);
        ip(&["-6", "rule", "add", "pref", "300", "from", "fd00::/8", "table", "9"]);
        nsip(&["-6", "rule", "add", "pref", "301", "to", "fd01::/16", "table", "10"]);

        let by_prio = |v: &Value| format!("{:>10} {}", field(v, "priority"), field(v, "table"));
        let ours = nsip_json(&["rule", "show"]);
        assert_eq!(compare("rule show", &ours, &ip_json(&["rule", "show"]), by_prio), 11);
        let r104 = ours.iter().find(|r| field(r, "priority") == "104").unwrap();
        assert!(r104.get("iif_detached").is_some(), "{r104}");
        compare(
            "-6 rule show",
            &nsip_json(&["-6", "rule", "show"]),
            &ip_json(&["-6", "rule", "show"]),
            by_prio,
        );

        nsip(&["rule", "del", "pref", "101"]);
        nsip(&["rule", "del", "pref", "200", "table", "7"]);
        nsip(&["-6", "rule", "del", "pref", "300"]);
        let left: Vec<u64> =
            ip_json(&["rule", "show"]).iter().map(|r| r.at("priority").uint()).collect();
        assert!(!left.contains(&101) && !left.contains(&200) && left.contains(&100), "{left:?}");
        assert!(!ip_json(&["-6", "rule", "show"]).iter().any(|r| r.at("priority").uint() == 300));
    });
}

/// `nsip neigh` against `ip -j neigh show`.
#[test]
fn neigh_matches_ip() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "up"]);
        ip(&["addr", "add", "10.0.0.1/24", "dev", "v0"]);
        nsip(&["neigh", "add", "10.0.0.9", "lladdr", "02:00:00:00:00:09", "dev", "v0"]);
        nsip(&[
            "neigh",
            "add",
            "10.0.0.10",
            "lladdr",
            "02:00:00:00:00:0a",
            "dev",
            "v0",
            "nud",
            "stale",
        ]);
        nsip(&[
            "neigh",
            "replace",
            "10.0.0.11",
            "lladdr",
            "02:00:00:00:00:0b",
            "dev",
            "v0",
            "nud",
            "reachable",
        ]);
        nsip(&[
            "neigh",
            "add",
            "fd00::9",
            "lladdr",
            "02:00:00:00:00:19",
            "dev",
            "v0",
            "nud",
            "noarp",
        ]);
        ip(&["neigh", "add", "10.0.0.12", "dev", "v0", "nud", "failed"]);
        ip(&[
            "neigh",
            "add",
            "fd00::10",
            "lladdr",
            "02:00:00:00:00:1a",
            "dev",
            "v0",
            "router",
            "nud",
            "permanent",
        ]);

        let key = |v: &Value| format!("{} {}", field(v, "dst"), field(v, "dev"));
        let ours = nsip_json(&["neigh", "show"]);
        compare("neigh show", &ours, &ip_json(&["neigh", "show"]), key);
        assert!(ours.iter().any(|n| n.get("router").is_some()));
        compare(
            "neigh show nud all",
            &nsip_json(&["neigh", "show", "nud", "all"]),
            &ip_json(&["neigh", "show", "nud", "all"]),
            key,
        );
        compare(
            "neigh show dev v0",
            &nsip_json(&["neigh", "show", "dev", "v0"]),
            &ip_json(&["neigh", "show", "dev", "v0"]),
            key,
        );
        compare(
            "-4 neigh",
            &nsip_json(&["-4", "neigh", "show"]),
            &ip_json(&["-4", "neigh", "show"]),
            key,
        );
        // (The kernel may have aged the unused stale entry out by now under
        // emulation; the comparisons above saw it.)
        let st = ip_json(&["neigh", "show", "10.0.0.10"]);
        if let Some(e) = st.first() {
            assert_eq!(e.at("state").items()[0].text(), "STALE");
        }

        // add of an existing entry fails like ip's (NLM_F_EXCL).
        let out =
            nsip_output(&["neigh", "add", "10.0.0.9", "lladdr", "02:00:00:00:00:09", "dev", "v0"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("EEXIST"), "{out:?}");
        nsip(&["neigh", "del", "10.0.0.9", "dev", "v0"]);
        assert!(ip_json(&["neigh", "show", "10.0.0.9"]).is_empty());
    });
}

/// `nsip fdb` against `bridge -j fdb show`: bridge entries (master, static,
/// dynamic), device entries, vxlan remotes (dst, vni, port, via).
#[test]
fn fdb_matches_bridge() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "br0", "type", "bridge"]);
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "master", "br0"]);
        // Dynamic entries need a forwarding port: everything up.
        for dev in ["v0", "v1", "br0"] {
            ip(&["link", "set", dev, "up"]);
        }
        ip(&["link", "add", "ul0", "type", "veth", "peer", "name", "ul1"]);
        ip(&[
            "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789", "local",
            "10.0.0.1",
        ]);
        nsip(&["fdb", "add", "02:00:00:00:00:01", "dev", "v0", "master", "static"]);
        nsip(&["fdb", "add", "02:00:00:00:00:02", "dev", "v0", "master", "dynamic"]);
        nsip(&["fdb", "add", "02:00:00:00:00:03", "dev", "v0", "master"]);
        nsip(&["fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", "10.0.0.9"]);
        nsip(&[
            "fdb",
            "append",
            "00:00:00:00:00:00",
            "dev",
            "vx0",
            "dst",
            "10.0.0.10",
            "vni",
            "43",
            "port",
            "4790",
            "via",
            "ul0",
        ]);
        nsip(&[
            "fdb",
            "add",
            "02:00:00:00:00:04",
            "dev",
            "vx0",
            "dst",
            "10.0.0.11",
            "self",
            "permanent",
        ]);
        ip_in(common::Here, &["link", "set", "vx0", "up"]);
        std::process::Command::new("bridge")
            .args(["fdb", "add", "02:00:00:00:00:05", "dev", "v0", "master", "sticky"])
            .status()
            .expect("bridge");

        let all = nsip_json(&["fdb", "show"]);
        compare("fdb show", &all, &json_in(common::Here, "bridge", &["fdb", "show"]), fdb_key);
        let remote = all.iter().find(|e| field(e, "dst") == "10.0.0.10").expect("remote");
        assert_eq!(
            (remote.at("vni").uint(), remote.at("port").uint(), remote.at("viaIf").text()),
            (43, 4790, "ul0")
        );
        assert!(all.iter().any(|e| field(e, "state") == "static"));
        assert!(all.iter().any(|e| field(e, "state").is_empty() && e.get("state").is_some()));
        for args in [
            &["fdb", "show", "dev", "v0"][..],
            &["fdb", "show", "br", "br0"],
            &["fdb", "show", "dev", "vx0"],
        ] {
            compare(
                &format!("{args:?}"),
                &nsip_json(args),
                &json_in(common::Here, "bridge", args),
                fdb_key,
            );
        }

        nsip(&["fdb", "del", "02:00:00:00:00:01", "dev", "v0", "master"]);
        nsip(&["fdb", "del", "00:00:00:00:00:00", "dev", "vx0", "dst", "10.0.0.9"]);
        nsip(&[
            "fdb",
            "replace",
            "02:00:00:00:00:04",
            "dev",
            "vx0",
            "dst",
            "10.0.0.12",
            "self",
            "permanent",
        ]);
        let after = json_in(common::Here, "bridge", &["fdb", "show"]);
        assert!(!after.iter().any(|e| field(e, "mac") == "02:00:00:00:00:01"));
        assert!(!after.iter().any(|e| field(e, "dst") == "10.0.0.9"));
        assert!(after.iter().any(|e| field(e, "dst") == "10.0.0.12"));
        compare("fdb show (after)", &nsip_json(&["fdb", "show"]), &after, fdb_key);
    });
}

/// `nsip vlan` against `bridge -j vlan show`. Where the kernel has no
/// VLAN filtering (this host's bridge lacks it), nsip reports the kernel's
/// refusal as `bridge` gets it.
#[test]
fn vlan_matches_bridge_or_fails_like_it() {
    sandbox(|| {
        no_linklocal();
        ip(&["link", "add", "br0", "type", "bridge"]);
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "master", "br0"]);
        let filtering = common::ip_output_in(
            common::Here,
            &["link", "set", "br0", "type", "bridge", "vlan_filtering", "1"],
        );
        let out = nsip_output(&["vlan", "add", "vid", "10", "dev", "v0", "pvid", "untagged"]);
        if !filtering.status.success() {
            let tool = common::output("bridge", &["vlan", "add", "vid", "10", "dev", "v0"]);
            assert!(!tool.status.success());
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains("EOPNOTSUPP"), "{err}");
            return;
        }
        assert!(out.status.success(), "{out:?}");
        nsip(&["vlan", "add", "vid", "20-22", "dev", "v0"]);
        let tool = json_in(common::Here, "bridge", &["vlan", "show"]);
        compare("vlan show", &nsip_json(&["vlan", "show"]), &tool, by_ifname);
        let v0 = tool.iter().find(|p| by_ifname(p) == "v0").unwrap();
        let ten =
            v0.at("vlans").items().iter().find(|v| v.at("vlan").uint() == 10).unwrap().clone();
        assert_eq!(ten.flags().len(), 2, "{ten}");
        nsip(&["vlan", "del", "vid", "21", "dev", "v0"]);
        compare(
            "vlan show dev v0",
            &nsip_json(&["vlan", "show", "dev", "v0"]),
            &json_in(common::Here, "bridge", &["vlan", "show", "dev", "v0"]),
            by_ifname,
        );
    });
}

/// `nsip netns add/set/list/list-id/del` against `ip -j netns`.
#[test]
fn netns_matches_ip() {
    sandbox(|| {
        no_linklocal();
        nsip(&["netns", "add", "a"]);
        nsip(&["netns", "add", "b"]);
        ip(&["netns", "add", "c"]);
        nsip(&["netns", "set", "a", "5"]);
        ip(&["netns", "set", "c", "9"]);
        let key = |v: &Value| field(v, "name");
        assert_eq!(
            compare(
                "netns list",
                &nsip_json(&["netns", "list"]),
                &ip_json(&["netns", "list"]),
                key
            ),
            3
        );
        let ours = nsip_json(&["netns", "list-id"]);
        assert_eq!(compare("netns list-id", &ours, &ip_json(&["netns", "list-id"]), key), 2);
        assert!(ours.iter().any(|e| e.at("nsid").uint() == 5 && e.at("name").text() == "a"));
        // Ids are per namespace: inside "b", after giving "a" an id there.
        nsip(&["-n", "b", "netns", "set", "a", "auto"]);
        compare(
            "-n b netns list-id",
            &nsip_json(&["-n", "b", "netns", "list-id"]),
            &ip_json_in("b", &["netns", "list-id"]),
            key,
        );
        nsip(&["netns", "del", "b"]);
        let names: Vec<String> = ip_json(&["netns", "list"]).iter().map(key).collect();
        assert!(!names.contains(&"b".to_owned()), "{names:?}");
    });
}

/// Exit codes and messages: usage mistakes exit 2 with the usage on
/// stderr; `--help` exits 0 with it on stdout; kernel refusals exit 1 with
/// one line on stderr carrying the kernel's error; nothing is left
/// half-made.
#[test]
fn errors_and_exit_codes() {
    sandbox(|| {
        no_linklocal();
        let help = nsip_output(&["--help"]);
        assert_eq!(help.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&help.stdout).starts_with("usage: nsip"));
        assert!(help.stderr.is_empty());

        for bad in [
            &[][..],
            &["frob"],
            &["link", "frob"],
            &["link", "add", "x0"],
            &["link", "add", "x0", "type", "nosuchkind"],
            &["link", "set", "lo", "mtu", "lots"],
            &["addr", "add", "10.0.0.300/24", "dev", "lo"],
            &["addr", "add", "10.0.0.1/24"],
            &["route", "add", "10.0.0.0/8", "via"],
            &["route", "add", "10.0.0.0/8", "table", "nosuch"],
            &["rule", "add", "fwmark", "0xzz"],
            &["neigh", "add", "10.0.0.1", "lladdr", "nomac", "dev", "lo"],
            &["fdb", "add", "02:00:00:00:00:01"],
            &["-x", "link", "show"],
            &["-n"],
            &["netns", "set", "a", "notanid"],
        ] {
            let out = nsip_output(bad);
            assert_eq!(out.status.code(), Some(2), "nsip {bad:?}: {out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("usage: nsip"), "nsip {bad:?}: {err}");
            assert!(out.stdout.is_empty(), "nsip {bad:?}");
        }

        let before = common::ifnames(&ip_json(&["link", "show"]));
        for (args, kernel) in [
            (&["link", "del", "nothere"][..], "ENODEV"),
            (&["link", "set", "nothere", "up"], "ENODEV"),
            (&["link", "add", "lo", "type", "bridge"], "EEXIST"),
            (&["addr", "del", "10.9.9.9/24", "dev", "lo"], "EADDRNOTAVAIL"),
            (&["route", "del", "10.99.0.0/16"], "ESRCH"),
            (&["rule", "del", "pref", "4242"], "ENOENT"),
            (&["link", "add", "vx9", "type", "vxlan", "dstport", "4789"], "vxlan"),
            (&["link", "add", "mv9", "type", "macvlan", "mode", "bridge"], "macvlan"),
            (&["link", "add", "b9", "type", "veth", "peer", "name", "lo"], "EEXIST"),
            (&["-n", "nosuchns", "link", "show"], "nosuchns"),
            (&["link", "del", "group", "77"], "not found"),
            (&["link", "del", "group", "default"], "group 0"),
        ] {
            let out = nsip_output(args);
            assert_eq!(out.status.code(), Some(1), "nsip {args:?}: {out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "nsip {args:?}: {err}");
            assert!(err.contains(kernel), "nsip {args:?}: {err:?} should name {kernel}");
            assert!(out.stdout.is_empty());
        }
        // Nothing half-made (the veth whose peer name was taken, the
        // vxlan without a VNI).
        assert_eq!(common::ifnames(&ip_json(&["link", "show"])), before);
    });
}

/// Kinds this host's kernel lacks (dummy, vlan, bond, vrf): nsip prints
/// nslink's typed "this kernel has no X support" error (exit 1, one line,
/// nothing made); where the kernel has them (the Linux 6.1 VM), the devices
/// nsip makes match `ip -d -j link show` field by field.
#[test]
fn kinds_the_kernel_may_lack() {
    sandbox(|| {
        no_linklocal();
        let before = common::ifnames(&ip_json(&["link", "show"]));
        let out = nsip_output(&["link", "add", "d0", "mtu", "1400", "type", "dummy"]);
        if out.status.code() == Some(1) {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains("this kernel has no dummy support"), "{err}");
            for (args, kind) in [
                (&["link", "add", "b0", "type", "bond", "mode", "active-backup"][..], "bond"),
                (&["link", "add", "r0", "type", "vrf", "table", "10"], "vrf"),
            ] {
                let out = nsip_output(args);
                assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains(&format!("this kernel has no {kind} support")), "{err}");
            }
            assert_eq!(common::ifnames(&ip_json(&["link", "show"])), before);
            return;
        }
        assert!(out.status.success(), "{out:?}");
        nsip(&["link", "add", "link", "d0", "name", "d0.5", "type", "vlan", "id", "5"]);
        nsip(&[
            "link", "add", "d0.6", "link", "d0", "type", "vlan", "id", "6", "protocol", "802.1ad",
        ]);
        nsip(&["link", "add", "b0", "type", "bond", "mode", "active-backup", "miimon", "100"]);
        nsip(&["link", "add", "r0", "type", "vrf", "table", "10"]);
        nsip(&["link", "add", "d1", "master", "r0", "type", "dummy"]);
        let ours = nsip_json(&["-d", "link", "show"]);
        compare("link show -d (kinds)", &ours, &ip_json(&["-d", "link", "show"]), by_ifname);
        let get = |n: &str| ours.iter().find(|o| by_ifname(o) == n).expect(n).clone();
        let v = get("d0.6");
        assert_eq!(v.at("linkinfo").at("info_data").at("protocol").text(), "802.1ad");
        assert_eq!(v.at("link").text(), "d0");
        assert_eq!(get("b0").at("linkinfo").at("info_data").at("mode").text(), "active-backup");
        assert_eq!(get("r0").at("linkinfo").at("info_data").at("table").uint(), 10);
        assert_eq!(get("d1").at("linkinfo").at("info_slave_kind").text(), "vrf");
        assert_eq!(get("d0").at("mtu").uint(), 1400);
    });
}

/// `nsip -j monitor link` (issue 9): a snapshot line, then one JSON object
/// per change, with the names and values `ip` shows.
#[test]
fn monitor_prints_a_snapshot_then_each_change() {
    use std::io::{BufRead, BufReader};
    sandbox(|| {
        no_linklocal();
        let mut child = nsip_cmd(&["-j", "monitor", "link"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn nsip monitor");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut next = || -> Value {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "nsip monitor ended");
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
        };
        let first = next();
        assert_eq!(first.at("event").text(), "snapshot", "{first}");
        ip(&["link", "add", "m0", "type", "veth", "peer", "name", "m1"]);
        ip(&["link", "set", "m0", "mtu", "1400"]);
        let mut seen = Vec::new();
        while !seen
            .iter()
            .any(|(e, n, m): &(String, String, i64)| e == "link_changed" && n == "m0" && *m == 1400)
        {
            let v = next();
            let o = v.at("object");
            seen.push((
                v.at("event").text().to_owned(),
                o.at("ifname").text().to_owned(),
                o.at("mtu").int(),
            ));
        }
        assert!(seen.iter().any(|(e, n, _)| e == "link_added" && n == "m0"), "{seen:?}");
        assert!(seen.iter().any(|(e, n, _)| e == "link_added" && n == "m1"), "{seen:?}");
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(ip_json(&["link", "show", "m0"])[0].at("mtu").int(), 1400);
    });
}
