//! nslink-bridge against the reference `bridge` plugin: the same
//! configuration, run the way a runtime runs a plugin, in twin node
//! namespaces (node A: nslink-bridge, node B: /usr/lib/cni/bridge), each
//! with two pods and its own host-local data directory. The nodes must end
//! up the same: interfaces, addresses, routes, bridge membership, hairpin,
//! VLANs, forwarding, and results that mean the same.

mod common;

use common::*;
use nslink::NetNs;
use serde_json::{Value, json};

/// What matters of a node and its pods, with names and addresses the
/// kernel chose at random replaced by placeholders.
fn state(node: &NetNs, pods: &[&NetNs]) -> Value {
    let n = Some(node);
    let br = &ip_json(n, &["-d", "link", "show", "cni0"])[0];
    let info = &br["linkinfo"]["info_data"];
    let global = |ns: Option<&NetNs>, dev: &str| -> Vec<String> {
        let mut v: Vec<String> = ip_json(ns, &["addr", "show", "dev", dev])[0]["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["scope"] == "global")
            .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
            .collect();
        v.sort();
        v
    };
    let mut ports: Vec<Value> = ip_json(n, &["-d", "link", "show", "master", "cni0"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!({
                "kind": p["linkinfo"]["info_kind"],
                "mtu": p["mtu"],
                "up": p["flags"].as_array().unwrap().contains(&json!("UP")),
                "hairpin": p["linkinfo"]["info_slave_data"]["hairpin"],
                "learning": p["linkinfo"]["info_slave_data"]["learning"],
                "state": p["linkinfo"]["info_slave_data"]["state"],
            })
        })
        .collect();
    ports.sort_by_key(|p| p.to_string());
    let mut vlans: Vec<Value> =
        serde_json::from_str::<Value>(&run_ok_in(n, "bridge", &["-j", "vlan", "show"]))
            .unwrap_or(json!([]))
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut v| {
                if v["ifname"] != "cni0" {
                    v["ifname"] = json!("<port>");
                }
                v
            })
            .collect();
    vlans.sort_by_key(|p| p.to_string());
    let forward = run_ok_in(n, "sysctl", &["-n", "net.ipv4.ip_forward"]).trim().to_owned();
    let pods: Vec<Value> = pods
        .iter()
        .map(|pod| {
            let p = Some(*pod);
            let eth0 = ip_json(p, &["-d", "link", "show"])
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["ifname"] == "eth0")
                .cloned();
            let Some(eth0) = eth0 else { return json!({"eth0": null}) };
            let mut routes: Vec<Value> = ip_json(p, &["route", "show"])
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    json!({"dst": r["dst"], "gateway": r["gateway"], "dev": r["dev"],
                           "protocol": r["protocol"], "scope": r["scope"], "prefsrc": r["prefsrc"],
                           "metric": r["metric"]})
                })
                .collect();
            routes.sort_by_key(|r| r.to_string());
            let links = link_names(p);
            json!({
                "links": links,
                "eth0": {
                    "kind": eth0["linkinfo"]["info_kind"],
                    "mtu": eth0["mtu"],
                    "up": eth0["flags"].as_array().unwrap().contains(&json!("UP")),
                    "addresses": global(p, "eth0"),
                },
                "routes": routes,
            })
        })
        .collect();
    json!({
        "bridge": {
            "kind": br["linkinfo"]["info_kind"],
            "mtu": br["mtu"],
            "up": br["flags"].as_array().unwrap().contains(&json!("UP")),
            "promiscuity": br["promiscuity"],
            "vlan_filtering": info["vlan_filtering"],
            "stp_state": info["stp_state"],
            "addresses": global(n, "cni0"),
        },
        "ports": ports,
        "vlans": vlans,
        "ip_forward": forward,
        "pods": pods,
    })
}

/// The result with what the kernel chose at random (the node-side veth's
/// name, MAC addresses) checked against the real devices, then replaced
/// by placeholders; an absent `dns` is the empty one.
fn normalize_result(mut r: Value, node: &NetNs, pod: &NetNs) -> Value {
    let ifaces = r["interfaces"].as_array_mut().expect("interfaces in the result");
    assert_eq!(ifaces.len(), 3, "bridge, node veth, pod veth: {ifaces:?}");
    for (i, iface) in ifaces.iter_mut().enumerate() {
        let ns = if i == 2 { pod } else { node };
        let name = iface["name"].as_str().unwrap().to_owned();
        let link = &ip_json(Some(ns), &["link", "show", "dev", &name])[0];
        assert_eq!(iface["mac"], link["address"], "MAC of {name} in the result");
        if let Some(mtu) = iface.get("mtu") {
            assert_eq!(*mtu, link["mtu"], "MTU of {name} in the result");
            iface.as_object_mut().unwrap().remove("mtu");
        }
        iface["mac"] = json!("<mac>");
        if i == 1 {
            iface["name"] = json!("<node veth>");
        }
    }
    if r.get("dns").is_none() {
        r["dns"] = json!({});
    }
    if let Some(ips) = r["ips"].as_array_mut() {
        ips.sort_by_key(|i| i.to_string());
    }
    r
}

/// Adds two pods on each node (ours on A, the reference on B) with
/// `extra` configuration, compares, pings, deletes, compares again.
fn compare(version: &str, ours_version: &str, extra: Value) {
    require_tools();
    let node_a = NetNs::create("node-a").unwrap();
    let node_b = NetNs::create("node-b").unwrap();
    let pods_a = [NetNs::create("a-pod1").unwrap(), NetNs::create("a-pod2").unwrap()];
    let pods_b = [NetNs::create("b-pod1").unwrap(), NetNs::create("b-pod2").unwrap()];
    let (data_a, data_b) = (TempDir::new("a"), TempDir::new("b"));
    let subnet = "10.88.0.0/24";
    let conf_a = config(ours_version, "nslink-bridge", subnet, data_a.path(), extra.clone());
    let conf_b = config(version, "bridge", subnet, data_b.path(), extra.clone());

    for (i, (pa, pb)) in pods_a.iter().zip(&pods_b).enumerate() {
        let cid = format!("pod{}", i + 1);
        let path_a = format!("/run/netns/a-pod{}", i + 1);
        let path_b = format!("/run/netns/b-pod{}", i + 1);
        let ra = Call::new(OURS, Some(&node_a), "ADD").pod(&cid, &path_a).run(&conf_a);
        let rb = Call::new(REFERENCE, Some(&node_b), "ADD").pod(&cid, &path_b).run(&conf_b);
        let ra = ra.expect_ok("nslink-bridge ADD");
        let rb = rb.expect_ok("reference ADD");
        assert_eq!(ra["cniVersion"], json!(ours_version));
        let mut na = normalize_result(ra, &node_a, pa);
        let mut nb = normalize_result(rb, &node_b, pb);
        na["interfaces"][2]["sandbox"] = json!("<sandbox>");
        nb["interfaces"][2]["sandbox"] = json!("<sandbox>");
        na["cniVersion"] = json!("<v>");
        nb["cniVersion"] = json!("<v>");
        assert_eq!(na, nb, "results differ (left: nslink-bridge, right: reference)");
    }
    let sa = state(&node_a, &[&pods_a[0], &pods_a[1]]);
    let sb = state(&node_b, &[&pods_b[0], &pods_b[1]]);
    assert_eq!(
        sa, sb,
        "after ADD the nodes differ (left: nslink-bridge, right: reference)\n{sa:#}\n{sb:#}"
    );
    assert_eq!(allocations(data_a.path()), allocations(data_b.path()));

    // Pod to pod (and node to pod, when the bridge has an address).
    let has_gw = extra.get("isGateway").or(extra.get("isDefaultGateway")) == Some(&json!(true));
    for (node, pods) in [(&node_a, &pods_a), (&node_b, &pods_b)] {
        assert!(pings(&pods[0], "10.88.0.3"), "pod1 cannot reach pod2");
        assert!(pings(&pods[1], "10.88.0.2"), "pod2 cannot reach pod1");
        if has_gw {
            assert!(pings(node, "10.88.0.2"), "the node cannot reach pod1");
        }
    }

    for i in 1..=2 {
        let cid = format!("pod{i}");
        let path_a = format!("/run/netns/a-pod{i}");
        let path_b = format!("/run/netns/b-pod{i}");
        Call::new(OURS, Some(&node_a), "DEL").pod(&cid, &path_a).run(&conf_a).expect_ok("DEL");
        Call::new(REFERENCE, Some(&node_b), "DEL").pod(&cid, &path_b).run(&conf_b).expect_ok("DEL");
    }
    let sa = state(&node_a, &[&pods_a[0], &pods_a[1]]);
    let sb = state(&node_b, &[&pods_b[0], &pods_b[1]]);
    assert_eq!(sa, sb, "after DEL the nodes differ\n{sa:#}\n{sb:#}");
    assert!(
        allocations(data_a.path()).is_empty(),
        "allocations left: {:?}",
        allocations(data_a.path())
    );
    assert_eq!(link_names(Some(&node_a)), ["lo", "cni0"]);
    for p in ["node-a", "node-b", "a-pod1", "a-pod2", "b-pod1", "b-pod2"] {
        NetNs::delete(p).unwrap();
    }
}

fn gateway() -> Value {
    json!({"isGateway": true, "isDefaultGateway": true, "hairpinMode": true, "mtu": 1400})
}

#[test]
fn same_as_reference_1_0_0_gateway_hairpin_mtu() {
    sandbox(|| compare("1.0.0", "1.0.0", gateway()));
}

#[test]
fn same_as_reference_0_4_0_gateway_hairpin_mtu() {
    sandbox(|| compare("0.4.0", "0.4.0", gateway()));
}

/// The reference plugin stops at 1.0.0: ours at 1.1.0 must mean the same
/// as the reference at 1.0.0 (the `mtu` of interfaces, new in 1.1.0, is
/// checked against the devices).
#[test]
fn at_1_1_0_same_as_reference_at_1_0_0() {
    sandbox(|| compare("1.0.0", "1.1.0", gateway()));
}

#[test]
fn same_as_reference_defaults() {
    sandbox(|| compare("1.0.0", "1.0.0", json!({})));
}

#[test]
fn same_as_reference_gateway_without_default_route_with_ipam_routes() {
    sandbox(|| {
        let routes =
            json!([{"dst": "192.0.2.0/24"}, {"dst": "198.51.100.0/24", "gw": "10.88.0.254"}]);
        compare("1.0.0", "1.0.0", json!({"isGateway": true, "ipam": {"routes": routes}}))
    });
}

#[test]
fn same_as_reference_promisc() {
    sandbox(|| compare("1.0.0", "1.0.0", json!({"promiscMode": true, "isGateway": true})));
}

/// `vlan` needs VLAN filtering in the kernel's bridge. Where the kernel
/// has it, both plugins must agree; where it has not (this machine), both
/// refuse and leave nothing, ours with code 2 naming the key.
#[test]
fn vlan_same_as_reference_or_refused_where_the_kernel_lacks_it() {
    sandbox(|| {
        require_tools();
        let probe =
            run_in(None, "ip", &["link", "add", "vf0", "type", "bridge", "vlan_filtering", "1"]);
        if probe.status.success() {
            run_ok_in(None, "ip", &["link", "del", "vf0"]);
            return compare("1.0.0", "1.0.0", json!({"vlan": 100, "isGateway": true}));
        }
        let node = NetNs::create("node").unwrap();
        let _pod = NetNs::create("pod").unwrap();
        let data = TempDir::new("vlan");
        let extra = json!({"vlan": 100});
        let ours = Call::new(OURS, Some(&node), "ADD").pod("c1", "/run/netns/pod").run(&config(
            "1.0.0",
            "nslink-bridge",
            "10.88.0.0/24",
            data.path(),
            extra.clone(),
        ));
        let e = ours.expect_code(2, "ADD with vlan on a kernel without bridge VLAN filtering");
        assert!(e["details"].as_str().unwrap().contains("\"vlan\": 100"), "{e}");
        let reference = Call::new(REFERENCE, Some(&node), "ADD")
            .pod("c1", "/run/netns/pod")
            .run(&config("1.0.0", "bridge", "10.88.0.0/24", data.path(), extra));
        assert!(
            !reference.ok,
            "the reference plugin made a VLAN bridge here: {}",
            reference.stdout
        );
        assert_eq!(link_names(Some(&node)), ["lo"]);
        assert!(allocations(data.path()).is_empty());
        NetNs::delete("node").unwrap();
        NetNs::delete("pod").unwrap();
    });
}
