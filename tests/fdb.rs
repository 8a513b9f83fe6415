//! Bridge FDB and per-port bridge VLANs (issue 8), checked against
//! `bridge -j fdb show` and `bridge -j vlan show`, both ways: what nslink
//! adds, `bridge` shows; what `bridge` adds, nslink lists the same.
//!
//! Every test runs inside [`common::sandbox`] (a private network and mount
//! namespace); the devices it makes vanish with it. IPv6 is off in the
//! sandbox, so that no multicast address joins late and changes the devices'
//! own FDB entries between two reads; bridge ports have learning off where
//! whole tables are compared.
//!
//! VLAN filtering: a kernel built without `CONFIG_BRIDGE_VLAN_FILTERING`
//! (the development host) must give the typed "no bridge VLAN filtering
//! support" error; the VLAN tests prove the real thing on Linux 6.1 in the
//! VM (`oldkernel-run`), where the support is required.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use nslink::fdb::{FdbEntry, FdbFilter, FdbOptions, FdbState};
use nslink::{BridgeVlan, Errno, Error, MacAddr, NeighbourFlags, Op, ParseError, RouteSocket};
use serde_json::Value;

use common::{Here, JsonExt as _, ip, ip_json, json_in, output_in, run_in, sandbox};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn mac(s: &str) -> MacAddr {
    s.parse().expect("a valid MAC")
}

/// IPv6 off for every device made from now on (and the existing ones).
fn no_ipv6() {
    for key in ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"] {
        run_in(Here, "sysctl", &["-qw", key]);
    }
}

/// `br0` with port `v0` (its peer `v1` up, so the port forwards), learning
/// off on the port; `lone` is a veth end on no bridge.
fn bridge_with_port(vlan_filtering: bool) {
    no_ipv6();
    let vf = if vlan_filtering { "1" } else { "0" };
    if vlan_filtering {
        ip(&["link", "add", "br0", "type", "bridge", "vlan_filtering", vf]);
    } else {
        ip(&["link", "add", "br0", "type", "bridge"]);
    }
    ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    ip(&["link", "add", "lone", "type", "veth", "peer", "name", "lone1"]);
    ip(&["link", "set", "v0", "master", "br0"]);
    run_in(Here, "bridge", &["link", "set", "dev", "v0", "learning", "off"]);
    for dev in ["br0", "v0", "v1", "lone", "lone1"] {
        ip(&["link", "set", dev, "up"]);
    }
}

/// An underlay `ul0` (10.0.0.1/24) and `vx0`, VNI 42, port 4789, on it, no
/// learning, up.
fn vxlan() {
    no_ipv6();
    ip(&["link", "add", "ul0", "type", "veth", "peer", "name", "ul1"]);
    ip(&["addr", "add", "10.0.0.1/24", "dev", "ul0"]);
    ip(&["link", "set", "ul0", "up"]);
    ip(&["link", "set", "ul1", "up"]);
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
        "10.0.0.1",
        "dev",
        "ul0",
        "nolearning",
    ]);
    ip(&["link", "set", "vx0", "up"]);
}

/// One FDB entry in words both sides can give: what `bridge -j fdb show`
/// prints.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    mac: String,
    dev: String,
    vlan: Option<u64>,
    master: Option<String>,
    state: String,
    flags: BTreeSet<String>,
    dst: Option<String>,
    vni: Option<u64>,
    port: Option<u64>,
    via: Option<String>,
}

/// The index → name map of the sandbox's devices.
fn names(nl: &RouteSocket) -> BTreeMap<u32, String> {
    nl.links().unwrap().into_iter().map(|l| (l.index(), l.name().to_string())).collect()
}

/// An nslink entry as a [`Row`]; `bridge` prints a dynamic entry's state
/// as `""`.
fn row_of(e: &FdbEntry, names: &BTreeMap<u32, String>) -> Row {
    let name = |i: u32| names.get(&i).cloned().unwrap_or_else(|| format!("if{i}"));
    Row {
        mac: e.mac.to_string(),
        dev: name(e.index),
        vlan: e.vlan.map(u64::from),
        master: e.master.map(name),
        state: if e.state == FdbState::Dynamic { String::new() } else { e.state.to_string() },
        flags: e.flags.to_string().split_whitespace().map(str::to_owned).collect(),
        dst: e.dst.map(|d| d.to_string()),
        vni: e.vni.map(u64::from),
        port: e.port.map(u64::from),
        via: e.via.map(name),
    }
}

/// A `bridge -j fdb show` object as a [`Row`]; `dev` fills in the device
/// when the tool leaves it out (`show dev DEV`).
fn row_from_json(o: &Value, dev: Option<&str>) -> Row {
    let opt_text = |k: &str| o.get(k).map(|v| v.text().to_owned());
    let opt_uint = |k: &str| o.get(k).map(|v| v.uint());
    Row {
        mac: o.at("mac").text().to_owned(),
        dev: opt_text("ifname").or(dev.map(str::to_owned)).expect("an ifname"),
        vlan: opt_uint("vlan"),
        master: opt_text("master"),
        state: o.get("state").map(|s| s.text().to_owned()).unwrap_or_default(),
        flags: o.at("flags").items().iter().map(|f| f.text().to_owned()).collect(),
        dst: opt_text("dst"),
        vni: opt_uint("vni"),
        port: opt_uint("port"),
        via: opt_text("viaIf"),
    }
}

/// `bridge -j fdb show ARGS` as sorted rows.
fn bridge_rows(args: &[&str], dev: Option<&str>) -> Vec<Row> {
    let mut a = vec!["fdb", "show"];
    a.extend_from_slice(args);
    let mut rows: Vec<Row> =
        json_in(Here, "bridge", &a).iter().map(|o| row_from_json(o, dev)).collect();
    rows.sort();
    rows
}

/// nslink's entries for `filter` as sorted rows.
fn nslink_rows(nl: &RouteSocket, filter: impl Fn() -> FdbFilter) -> Vec<Row> {
    let names = names(nl);
    let mut rows: Vec<Row> =
        nl.fdb_entries(filter()).unwrap().iter().map(|e| row_of(e, &names)).collect();
    rows.sort();
    rows
}

/// nslink and `bridge` list the same entries for the same filter (read
/// nslink, the tool, nslink again, until the table held still).
#[track_caller]
fn assert_same_fdb(
    nl: &RouteSocket,
    filter: impl Fn() -> FdbFilter,
    args: &[&str],
    dev: Option<&str>,
) -> Vec<Row> {
    for _ in 0..5 {
        let before = nslink_rows(nl, &filter);
        let tool = bridge_rows(args, dev);
        let after = nslink_rows(nl, &filter);
        if before == after {
            assert_eq!(before, tool, "nslink (left) and bridge fdb show {args:?} (right)");
            return tool;
        }
    }
    panic!("the FDB kept changing while being compared");
}

/// The rows of one MAC.
fn with_mac<'a>(rows: &'a [Row], m: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r.mac == m).collect()
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

// ---------------------------------------------------------------------------
// Bridge FDB
// ---------------------------------------------------------------------------

/// nslink adds master entries in every state; `bridge fdb show` shows them
/// (state, table, flags), and the whole table reads the same both ways.
#[test]
fn master_entries_added_by_nslink_show_in_bridge() {
    sandbox(|| {
        bridge_with_port(false);
        let nl = RouteSocket::open().unwrap();
        let m = FdbOptions::new().master();
        nl.add_fdb("v0", mac("02:00:00:00:00:01"), &m.clone().state(FdbState::Static)).unwrap();
        nl.add_fdb("v0", mac("02:00:00:00:00:02"), &m).unwrap();
        nl.add_fdb("v0", mac("02:00:00:00:00:03"), &m.clone().state(FdbState::Dynamic)).unwrap();
        nl.add_fdb("v0", mac("02:00:00:00:00:04"), &m.clone().extern_learn()).unwrap();
        nl.add_fdb("v0", mac("02:00:00:00:00:05"), &m.clone().state(FdbState::Static).sticky())
            .unwrap();
        // The bridge's own table, through the bridge device (`self`).
        nl.add_fdb("br0", mac("02:00:00:00:00:06"), &FdbOptions::new().self_()).unwrap();

        // A kernel with bridge VLAN support also copies an entry added
        // without a VLAN to each VLAN of the port (VLAN 1 by default): look
        // at the VLAN-less one.
        let rows: Vec<Row> =
            bridge_rows(&["br", "br0"], None).into_iter().filter(|r| r.vlan.is_none()).collect();
        let one = |m: &str| {
            let r = with_mac(&rows, m);
            assert_eq!(r.len(), 1, "{m} in {rows:#?}");
            r[0].clone()
        };
        let r = one("02:00:00:00:00:01");
        assert_eq!(
            (r.dev.as_str(), r.master.as_deref(), r.state.as_str()),
            ("v0", Some("br0"), "static")
        );
        assert_eq!(r.flags, set(&[]));
        assert_eq!(one("02:00:00:00:00:02").state, "permanent");
        assert_eq!(one("02:00:00:00:00:03").state, "", "dynamic prints as \"\"");
        assert_eq!(one("02:00:00:00:00:04").flags, set(&["extern_learn"]));
        assert_eq!(one("02:00:00:00:00:05").flags, set(&["sticky"]));
        let r = one("02:00:00:00:00:06");
        assert_eq!(
            (r.dev.as_str(), r.master.as_deref(), r.state.as_str()),
            ("br0", Some("br0"), "permanent")
        );

        // The typed entries as nslink reads them.
        let v0 = nl.require_link("v0").unwrap().index();
        let br0 = nl.require_link("br0").unwrap().index();
        let mine = nl.fdb_entries(FdbFilter::device("v0")).unwrap();
        let e =
            mine.iter().find(|e| e.mac == mac("02:00:00:00:00:01") && e.vlan.is_none()).unwrap();
        assert_eq!((e.index, e.master, e.state, e.vlan), (v0, Some(br0), FdbState::Static, None));
        let e =
            mine.iter().find(|e| e.mac == mac("02:00:00:00:00:04") && e.vlan.is_none()).unwrap();
        assert!(e.flags.contains(NeighbourFlags::EXT_LEARNED));
        assert_eq!(e.state, FdbState::Dynamic);

        // Whole tables, every filter.
        assert_same_fdb(&nl, FdbFilter::all, &[], None);
        assert_same_fdb(&nl, || FdbFilter::bridge("br0"), &["br", "br0"], None);
        assert_same_fdb(&nl, || FdbFilter::device("v0"), &["dev", "v0"], Some("v0"));
        assert_same_fdb(
            &nl,
            || FdbFilter::bridge(br0).and_device(v0),
            &["br", "br0", "dev", "v0"],
            Some("v0"),
        );
        // The filters are the kernel's: a device filter lists that device only.
        assert!(nslink_rows(&nl, || FdbFilter::device("v0")).iter().all(|r| r.dev == "v0"));
        assert!(nslink_rows(&nl, || FdbFilter::bridge("br0")).iter().all(|r| r.dev != "lone"));
    });
}

/// `bridge fdb add` makes entries; nslink lists the same, typed.
#[test]
fn entries_added_by_bridge_read_by_nslink() {
    sandbox(|| {
        bridge_with_port(false);
        vxlan();
        let nl = RouteSocket::open().unwrap();
        let b = |args: &[&str]| run_in(Here, "bridge", args);
        b(&["fdb", "add", "02:00:00:00:00:11", "dev", "v0", "master", "static"]);
        b(&["fdb", "add", "02:00:00:00:00:12", "dev", "v0", "master", "dynamic"]);
        b(&["fdb", "add", "02:00:00:00:00:13", "dev", "v0", "master"]);
        b(&[
            "fdb",
            "add",
            "02:00:00:00:00:14",
            "dev",
            "vx0",
            "dst",
            "10.0.0.9",
            "self",
            "permanent",
        ]);
        b(&["fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", "10.0.0.2"]);
        b(&[
            "fdb",
            "append",
            "00:00:00:00:00:00",
            "dev",
            "vx0",
            "dst",
            "10.0.0.3",
            "vni",
            "43",
            "port",
            "4790",
            "via",
            "ul0",
        ]);
        let rows = assert_same_fdb(&nl, FdbFilter::all, &[], None);
        assert!(rows.iter().any(|r| r.mac == "02:00:00:00:00:12" && r.state.is_empty()));

        let vx0 = nl.require_link("vx0").unwrap().index();
        let ul0 = nl.require_link("ul0").unwrap().index();
        let mut defaults: Vec<FdbEntry> = nl
            .fdb_entries(FdbFilter::device(vx0))
            .unwrap()
            .into_iter()
            .filter(FdbEntry::is_default_destination)
            .collect();
        defaults.sort_by_key(|e| e.dst);
        assert_eq!(defaults.len(), 2, "{defaults:#?}");
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            (defaults[0].dst, defaults[0].vni, defaults[0].port, defaults[0].via),
            (ip("10.0.0.2"), None, None, None)
        );
        assert_eq!(
            (defaults[1].dst, defaults[1].vni, defaults[1].port, defaults[1].via),
            (ip("10.0.0.3"), Some(43), Some(4790), Some(ul0))
        );
        assert!(defaults.iter().all(|e| e.flags.contains(NeighbourFlags::SELF)
            && e.state == FdbState::Permanent
            && e.index == vx0
            && e.master.is_none()));
    });
}

/// The flannel pattern: several default destinations appended by nslink
/// (with VNI, port and underlay device), each shown by `bridge`; the same
/// remote twice is accepted and kept once (the kernel's choice), `add` over
/// an existing entry is refused with the kernel's `EEXIST`; `replace`
/// changes the entry; deleting one remote
/// leaves the others, deleting without a remote removes the entry.
#[test]
fn vxlan_default_destinations_appended_and_deleted() {
    sandbox(|| {
        vxlan();
        let nl = RouteSocket::open().unwrap();
        let zero = MacAddr::default();
        let addr = |s: &str| s.parse::<IpAddr>().unwrap();
        let ul0 = nl.require_link("ul0").unwrap().index();
        nl.append_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.2"))).unwrap();
        nl.append_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.3")).vni(43).port(4790))
            .unwrap();
        nl.append_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.4")).via(ul0)).unwrap();
        // A unicast remote (replace creates it).
        let peer = mac("02:00:00:00:00:21");
        nl.replace_fdb("vx0", peer, &FdbOptions::new().self_().dst(addr("10.0.0.5"))).unwrap();

        let rows = assert_same_fdb(&nl, || FdbFilter::device("vx0"), &["dev", "vx0"], Some("vx0"));
        let zeros = with_mac(&rows, "00:00:00:00:00:00");
        let got: BTreeSet<_> = zeros
            .iter()
            .map(|r| {
                (
                    r.dst.clone().unwrap(),
                    r.vni,
                    r.port,
                    r.via.clone(),
                    r.flags.clone(),
                    r.state.clone(),
                )
            })
            .collect();
        let self_ = set(&["self"]);
        let perm = "permanent".to_owned();
        let want = BTreeSet::from([
            ("10.0.0.2".to_owned(), None, None, None, self_.clone(), perm.clone()),
            ("10.0.0.3".to_owned(), Some(43), Some(4790), None, self_.clone(), perm.clone()),
            (
                "10.0.0.4".to_owned(),
                None,
                None,
                Some("ul0".to_owned()),
                self_.clone(),
                perm.clone(),
            ),
        ]);
        assert_eq!(got, want);
        assert_eq!(with_mac(&rows, "02:00:00:00:00:21")[0].dst.as_deref(), Some("10.0.0.5"));
        // FDB remotes are not neighbours (`ip neigh` does not list them).
        let neigh = nl.neighbours().unwrap();
        assert!(neigh.iter().all(|n| !n.ip.to_string().starts_with("10.0.0.")), "{neigh:?}");

        // The same remote again: accepted, kept once. `add` over an
        // existing entry: the kernel's EEXIST. Nothing changed.
        nl.append_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.2"))).unwrap();
        let err = nl.add_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.7"))).unwrap_err();
        assert!(err.is_already_exists(), "{err}");
        assert_eq!(err.op(), Some(Op::AddFdbEntry));
        let err = nl.add_fdb("vx0", peer, &FdbOptions::new().dst(addr("10.0.0.6"))).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EEXIST), "{err}");
        assert!(err.to_string().contains("02:00:00:00:00:21"), "{err}");
        assert_eq!(bridge_rows(&["dev", "vx0"], Some("vx0")), rows);

        // Replace moves the unicast entry to another remote.
        nl.replace_fdb("vx0", peer, &FdbOptions::new().dst(addr("10.0.0.6"))).unwrap();
        let rows = bridge_rows(&["dev", "vx0"], Some("vx0"));
        let r = with_mac(&rows, "02:00:00:00:00:21");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].dst.as_deref(), Some("10.0.0.6"));

        // Delete one remote: the other two stay.
        nl.delete_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.3")).vni(43).port(4790))
            .unwrap();
        let rows = assert_same_fdb(&nl, || FdbFilter::device("vx0"), &["dev", "vx0"], Some("vx0"));
        let dsts: BTreeSet<_> =
            with_mac(&rows, "00:00:00:00:00:00").iter().map(|r| r.dst.clone().unwrap()).collect();
        assert_eq!(dsts, BTreeSet::from(["10.0.0.2".to_owned(), "10.0.0.4".to_owned()]));
        // A remote the entry does not have: the kernel accepts it and
        // changes nothing. A MAC with no entry: the kernel's ENOENT, typed.
        nl.delete_fdb("vx0", zero, &FdbOptions::new().dst(addr("10.0.0.3")).vni(43).port(4790))
            .unwrap();
        assert_eq!(bridge_rows(&["dev", "vx0"], Some("vx0")), rows);
        let err = nl
            .delete_fdb("vx0", mac("02:00:00:00:00:99"), &FdbOptions::new().dst(addr("10.0.0.3")))
            .unwrap_err();
        let enoent = Errno::ENOENT as i32;
        assert!(matches!(err, Error::NotFound { errno: Some(e), .. } if e == enoent), "{err:?}");

        // Without a remote, the whole default entry goes.
        nl.delete_fdb("vx0", zero, &FdbOptions::new()).unwrap();
        let rows = bridge_rows(&["dev", "vx0"], Some("vx0"));
        assert!(with_mac(&rows, "00:00:00:00:00:00").is_empty(), "{rows:#?}");
        // What nslink listed can be deleted as listed.
        let e = nl.fdb_entries(FdbFilter::device("vx0")).unwrap();
        let e = e.iter().find(|e| e.mac == peer).unwrap();
        nl.delete_fdb_entry(e).unwrap();
        assert!(
            with_mac(&bridge_rows(&["dev", "vx0"], Some("vx0")), "02:00:00:00:00:21").is_empty()
        );

        // An IPv6 underlay: 16-byte remotes.
        ip(&[
            "link", "add", "vx6", "type", "vxlan", "id", "7", "dstport", "4789", "local", "fd00::1",
        ]);
        nl.append_fdb("vx6", zero, &FdbOptions::new().dst(addr("fd00::2"))).unwrap();
        run_in(
            Here,
            "bridge",
            &["fdb", "append", "00:00:00:00:00:00", "dev", "vx6", "dst", "fd00::3"],
        );
        let rows = assert_same_fdb(&nl, || FdbFilter::device("vx6"), &["dev", "vx6"], Some("vx6"));
        let dsts: BTreeSet<_> = rows.iter().filter_map(|r| r.dst.clone()).collect();
        assert_eq!(dsts, BTreeSet::from(["fd00::2".to_owned(), "fd00::3".to_owned()]));
    });
}

/// Deleting master entries: by options, and as listed; a missing entry is
/// the kernel's `ENOENT`.
#[test]
fn master_entries_deleted() {
    sandbox(|| {
        bridge_with_port(false);
        let nl = RouteSocket::open().unwrap();
        let a = mac("02:00:00:00:00:31");
        let b = mac("02:00:00:00:00:32");
        run_in(
            Here,
            "bridge",
            &["fdb", "add", "02:00:00:00:00:31", "dev", "v0", "master", "static"],
        );
        nl.add_fdb("v0", b, &FdbOptions::new().master().state(FdbState::Static)).unwrap();
        let rows = bridge_rows(&["br", "br0"], None);
        assert_eq!(
            with_mac(&rows, "02:00:00:00:00:32").iter().filter(|r| r.vlan.is_none()).count(),
            1
        );

        nl.delete_fdb("v0", a, &FdbOptions::new().master()).unwrap();
        let listed = nl.fdb_entries(FdbFilter::bridge("br0")).unwrap();
        // Deleting the VLAN-less entry deletes its copies in the port's
        // VLANs too (kernels with bridge VLAN support make them).
        let e = listed.iter().find(|e| e.mac == b && e.vlan.is_none()).unwrap();
        nl.delete_fdb_entry(e).unwrap();
        let rows = bridge_rows(&["br", "br0"], None);
        assert!(with_mac(&rows, "02:00:00:00:00:31").is_empty(), "{rows:#?}");
        assert!(with_mac(&rows, "02:00:00:00:00:32").is_empty(), "{rows:#?}");

        let err = nl.delete_fdb("v0", a, &FdbOptions::new().master()).unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert_eq!(err.errno(), Some(Errno::ENOENT));
        assert_eq!(err.op(), Some(Op::DeleteFdbEntry));
        assert_same_fdb(&nl, || FdbFilter::bridge("br0"), &["br", "br0"], None);
    });
}

/// Bad input: a bad MAC does not parse; VLAN 0 and 4095 are refused before
/// sending; a master entry on a device that is on no bridge is the kernel's
/// EOPNOTSUPP, said clearly; an all-zeros MAC on a bridge port is the
/// kernel's EINVAL; a missing device is not found. Nothing is left behind.
#[test]
fn bad_fdb_input_is_refused_and_leaves_nothing() {
    sandbox(|| {
        bridge_with_port(false);
        let nl = RouteSocket::open().unwrap();
        let before = bridge_rows(&[], None);

        let err = "02:00:00:00:00".parse::<MacAddr>().unwrap_err();
        let err: Error = ParseError::from(err).into();
        assert!(matches!(err, Error::Parse(ParseError::MacAddr(_))), "{err:?}");
        assert!("02:00:00:00:00:zz".parse::<MacAddr>().is_err());
        assert!("sometimes".parse::<FdbState>().is_err());

        let m = mac("02:00:00:00:00:41");
        for vid in [0, 4095, 5000] {
            let err = nl.add_fdb("v0", m, &FdbOptions::new().master().vlan(vid)).unwrap_err();
            match &err {
                Error::InvalidArgument { op: Op::AddFdbEntry, detail, .. } => {
                    assert!(detail.contains(&format!("VLAN id {vid}")), "{detail}")
                }
                other => panic!("vlan {vid}: {other:?}"),
            }
            assert_eq!(err.raw_os_error(), None, "no errno the kernel did not send");
        }

        let err = nl.add_fdb("lone", m, &FdbOptions::new().master()).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EOPNOTSUPP), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("not a bridge port") && text.contains("\"lone\""), "{text}");
        assert!(text.starts_with("add fdb entry 02:00:00:00:00:41 on link \"lone\""), "{text}");

        let err = nl.add_fdb("v0", MacAddr::default(), &FdbOptions::new().master()).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EINVAL), "{err:?}");

        let err = nl.add_fdb("nosuchdev", m, &FdbOptions::new().master()).unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        let err = nl.fdb_entries(FdbFilter::bridge("nosuchbr")).unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        let err = nl.fdb_entries(FdbFilter::device("a name far too long")).unwrap_err();
        assert!(err.is_invalid_name(), "{err:?}");

        assert_eq!(bridge_rows(&[], None), before, "nothing was added");
    });
}

// ---------------------------------------------------------------------------
// Bridge VLANs
// ---------------------------------------------------------------------------

/// Whether the running kernel has bridge VLAN filtering, asked of `ip`.
/// In the old-kernel VM (Debian's 6.1, built with it) it must be there.
fn kernel_has_bridge_vlans() -> bool {
    let out =
        output_in(Here, "ip", &["link", "add", "vfprobe", "type", "bridge", "vlan_filtering", "1"]);
    let has = out.status.success();
    if has {
        ip(&["link", "del", "vfprobe"]);
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Operation not supported"), "unexpected refusal: {err}");
    }
    if std::env::var_os("OLDKERNEL_RUN_GUEST").is_some() {
        assert!(has, "Debian's 6.1 kernel has bridge VLAN filtering");
    }
    has
}

/// `bridge -j vlan show` as ifname → VLANs (ranges expanded).
fn bridge_vlans_json() -> BTreeMap<String, Vec<BridgeVlan>> {
    let mut out = BTreeMap::new();
    for port in json_in(Here, "bridge", &["vlan", "show"]) {
        let mut vlans = Vec::new();
        for v in port.at("vlans").items() {
            let flags: BTreeSet<String> = v
                .get("flags")
                .map(|f| f.items().iter().map(|s| s.text().to_owned()).collect())
                .unwrap_or_default();
            let first = v.at("vlan").uint() as u16;
            let last = v.get("vlanEnd").map_or(first, |e| e.uint() as u16);
            for vid in first..=last {
                let mut b = BridgeVlan::new(vid);
                if flags.contains("PVID") {
                    b = b.pvid();
                }
                if flags.contains("Egress Untagged") {
                    b = b.untagged();
                }
                vlans.push(b);
            }
        }
        out.insert(port.at("ifname").text().to_owned(), vlans);
    }
    out
}

/// nslink's [`RouteSocket::bridge_vlans`] as ifname → VLANs.
fn nslink_vlans(nl: &RouteSocket) -> BTreeMap<String, Vec<BridgeVlan>> {
    let names = names(nl);
    nl.bridge_vlans().unwrap().into_iter().map(|p| (names[&p.index].clone(), p.vlans)).collect()
}

/// On a kernel without bridge VLAN filtering, every VLAN operation gives
/// the typed, explained EOPNOTSUPP and changes nothing; with it (the VM),
/// this checks nothing more than that the probe agrees with nslink.
#[test]
fn vlan_operations_without_kernel_support_say_so() {
    sandbox(|| {
        let has = kernel_has_bridge_vlans();
        bridge_with_port(false);
        let nl = RouteSocket::open().unwrap();
        let r = nl.set_bridge_vlan_filtering("br0", true);
        if has {
            r.unwrap();
            nl.set_bridge_vlan_filtering("br0", false).unwrap();
            return;
        }
        let err = r.unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EOPNOTSUPP), "{err:?}");
        assert!(err.to_string().contains("no bridge VLAN filtering support"), "{err}");
        for err in [
            nl.add_bridge_vlan("v0", BridgeVlan::new(10).pvid().untagged()).unwrap_err(),
            nl.add_bridge_vlan_range("v0", 20..=25, false).unwrap_err(),
            nl.add_bridge_vlan("br0", BridgeVlan::new(30)).unwrap_err(),
        ] {
            assert_eq!(err.errno(), Some(Errno::EOPNOTSUPP), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("CONFIG_BRIDGE_VLAN_FILTERING"), "{text}");
        }
        // Such a kernel answers a deletion with success, and does nothing.
        nl.delete_bridge_vlan("v0", 1).unwrap();
        assert!(nl.bridge_vlans().unwrap().is_empty());
        assert!(bridge_vlans_json().values().all(Vec::is_empty));
        let vf = &ip_json(&["-d", "link", "show", "br0"])[0];
        assert_eq!(vf.at("linkinfo").at("info_data").at("vlan_filtering").uint(), 0);
    });
}

/// Bad VLAN input, refused before sending (so on any kernel): ids 0 and
/// 4095, an empty range; a device on no bridge is the kernel's EOPNOTSUPP,
/// said clearly.
#[test]
fn bad_vlan_input_is_refused() {
    sandbox(|| {
        bridge_with_port(false);
        let nl = RouteSocket::open().unwrap();
        for (vid, what) in [(0u16, "0"), (4095, "4095")] {
            for err in [
                nl.add_bridge_vlan("v0", BridgeVlan::new(vid)).unwrap_err(),
                nl.delete_bridge_vlan("v0", vid).unwrap_err(),
            ] {
                match &err {
                    Error::InvalidArgument { detail, .. } => {
                        assert!(
                            detail.contains(&format!("VLAN id {what} is out of range")),
                            "{detail}"
                        )
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        let err = nl.add_bridge_vlan_range("v0", 4000..=4095, false).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { op: Op::AddBridgeVlan, .. }), "{err:?}");
        #[allow(clippy::reversed_empty_ranges)]
        let err = nl.add_bridge_vlan_range("v0", 30..=20, false).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = nl.add_bridge_vlan("lone", BridgeVlan::new(10)).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EOPNOTSUPP), "{err:?}");
        assert!(err.to_string().contains("neither a bridge nor a bridge port"), "{err}");
        let err = nl.add_bridge_vlan("nosuchdev", BridgeVlan::new(10)).unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert!(!bridge_vlans_json().contains_key("lone"));
    });
}

/// nslink adds VLANs (pvid, untagged, ranges, the bridge's own) and turns
/// VLAN filtering on and off; `bridge vlan show` and `ip -d link show`
/// agree. Then `bridge` changes them and nslink reads the same. VLAN FDB
/// entries go through too.
#[test]
fn port_vlans_both_ways() {
    sandbox(|| {
        if !kernel_has_bridge_vlans() {
            // Covered by vlan_operations_without_kernel_support_say_so; the
            // real thing runs in the VM.
            eprintln!("no bridge VLAN filtering on this kernel: see the VM run");
            return;
        }
        bridge_with_port(false);
        let nl = RouteSocket::open().unwrap();
        let vf = || {
            ip_json(&["-d", "link", "show", "br0"])[0]
                .at("linkinfo")
                .at("info_data")
                .at("vlan_filtering")
                .uint()
        };
        nl.set_bridge_vlan_filtering("br0", true).unwrap();
        assert_eq!(vf(), 1);

        nl.add_bridge_vlan("v0", BridgeVlan::new(10).pvid().untagged()).unwrap();
        nl.add_bridge_vlan_range("v0", 20..=25, false).unwrap();
        nl.add_bridge_vlan_range("v0", 30..=31, true).unwrap();
        nl.add_bridge_vlan("br0", BridgeVlan::new(40)).unwrap();
        let tool = bridge_vlans_json();
        assert_eq!(nslink_vlans(&nl), tool);
        let v0 = &tool["v0"];
        assert!(v0.contains(&BridgeVlan::new(10).pvid().untagged()), "{v0:?}");
        assert!(v0.contains(&BridgeVlan::new(1).untagged()), "VLAN 1 lost its PVID to 10: {v0:?}");
        assert!((20..=25).all(|vid| v0.contains(&BridgeVlan::new(vid))), "{v0:?}");
        assert!((30..=31).all(|vid| v0.contains(&BridgeVlan::new(vid).untagged())), "{v0:?}");
        assert!(tool["br0"].contains(&BridgeVlan::new(40)), "{:?}", tool["br0"]);
        assert_eq!(&nl.bridge_vlans_of("v0").unwrap(), v0);

        // An FDB entry in VLAN 10, and one in a VLAN the port lacks.
        let m = mac("02:00:00:00:00:51");
        nl.add_fdb("v0", m, &FdbOptions::new().master().state(FdbState::Static).vlan(10)).unwrap();
        let rows = assert_same_fdb(&nl, || FdbFilter::bridge("br0"), &["br", "br0"], None);
        let r = with_mac(&rows, "02:00:00:00:00:51");
        assert_eq!((r.len(), r[0].vlan), (1, Some(10)));
        let in10 = nl.fdb_entries(FdbFilter::bridge("br0").vlan(10)).unwrap();
        assert!(in10.iter().any(|e| e.mac == m) && in10.iter().all(|e| e.vlan == Some(10)));
        let err = nl.add_fdb("v0", m, &FdbOptions::new().master().vlan(99)).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EINVAL), "{err:?}");

        // Deletions.
        nl.delete_bridge_vlan("v0", 1).unwrap();
        nl.delete_bridge_vlan_range("v0", 20..=22).unwrap();
        let tool = bridge_vlans_json();
        assert_eq!(nslink_vlans(&nl), tool);
        let vids: Vec<u16> = tool["v0"].iter().map(|v| v.vid).collect();
        assert_eq!(vids, [10, 23, 24, 25, 30, 31]);
        // A VLAN the port does not have: the kernel answers success.
        nl.delete_bridge_vlan("v0", 1).unwrap();
        assert_eq!(nslink_vlans(&nl), tool);

        // The other way: bridge(8) changes, nslink reads.
        let b = |args: &[&str]| run_in(Here, "bridge", args);
        b(&["vlan", "add", "vid", "100", "dev", "v0", "pvid"]);
        b(&["vlan", "add", "vid", "200-203", "dev", "v0", "untagged"]);
        b(&["vlan", "del", "vid", "24", "dev", "v0"]);
        let tool = bridge_vlans_json();
        assert_eq!(nslink_vlans(&nl), tool);
        let v0 = nl.bridge_vlans_of("v0").unwrap();
        assert!(v0.contains(&BridgeVlan::new(100).pvid()), "{v0:?}");
        assert!(v0.contains(&BridgeVlan::new(10).untagged()), "10 lost its PVID to 100: {v0:?}");
        assert!((200..=203).all(|vid| v0.contains(&BridgeVlan::new(vid).untagged())), "{v0:?}");
        assert!(!v0.iter().any(|v| v.vid == 24));

        nl.set_bridge_vlan_filtering("br0", false).unwrap();
        assert_eq!(vf(), 0);
    });
}
