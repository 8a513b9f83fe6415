//! ipMasq seen from the receiving end, and 50 pods added and deleted in
//! parallel. The sandbox's namespace is the node.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use nslink::NetNs;
use serde_json::{Value, json};

/// Sends one datagram from `from` to `to` and returns the source address
/// the receiver in `at` saw.
fn seen_source(from: &NetNs, at: &NetNs, to: &str) -> String {
    let addr: SocketAddr = format!("{to}:7777").parse().unwrap();
    let rx = at.run(move || UdpSocket::bind(addr)).unwrap().unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let tx = from.run(|| UdpSocket::bind("0.0.0.0:0")).unwrap().unwrap();
    tx.send_to(b"hello", addr).unwrap();
    let mut buf = [0u8; 16];
    let (_, src) =
        rx.recv_from(&mut buf).unwrap_or_else(|e| panic!("nothing arrived at {to}: {e}"));
    src.ip().to_string()
}

fn plugin_chains(ns: Option<&NetNs>) -> usize {
    nft_ruleset(ns)["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("chain").is_some_and(|c| c["table"] == "nslink-bridge"))
        .count()
}

#[test]
fn ip_masq_natting_only_what_leaves_the_pod_network() {
    sandbox(|| {
        require_tools();
        // The node: an uplink to an "outside" namespace holding a
        // documentation address, with no route back to the pod network.
        let outside = NetNs::create("outside").unwrap();
        run_ok_in(
            None,
            "ip",
            &["link", "add", "uplink", "type", "veth", "peer", "wan", "netns", "outside"],
        );
        run_ok_in(None, "ip", &["addr", "add", "203.0.113.1/24", "dev", "uplink"]);
        run_ok_in(None, "ip", &["link", "set", "uplink", "up"]);
        run_ok_in(Some(&outside), "ip", &["addr", "add", "203.0.113.2/24", "dev", "wan"]);
        run_ok_in(Some(&outside), "ip", &["link", "set", "wan", "up"]);
        run_ok_in(Some(&outside), "ip", &["link", "set", "lo", "up"]);
        // A rule of someone else, which must survive untouched.
        run_ok_in(None, "nft", &["add", "table", "ip", "mine"]);
        run_ok_in(
            None,
            "nft",
            &["add", "chain", "ip", "mine", "c", "{ type filter hook forward priority 0; }"],
        );
        run_ok_in(
            None,
            "nft",
            &["add", "rule", "ip", "mine", "c", "ip", "daddr", "192.0.2.99", "accept"],
        );
        let theirs_before = nft_ruleset(None)["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i.to_string().contains("\"mine\""))
            .cloned()
            .collect::<Vec<Value>>();

        let data = TempDir::new("masq");
        let conf = config(
            "1.0.0",
            "nslink-bridge",
            "10.66.0.0/24",
            data.path(),
            json!({"isDefaultGateway": true, "ipMasq": true}),
        );
        let pod1 = NetNs::create("pod1").unwrap();
        let pod2 = NetNs::create("pod2").unwrap();
        Call::new(OURS, None, "ADD").pod("c1", "/run/netns/pod1").run(&conf).expect_ok("ADD 1");
        Call::new(OURS, None, "ADD").pod("c2", "/run/netns/pod2").run(&conf).expect_ok("ADD 2");
        let node = NetNs::current().unwrap();

        assert_eq!(
            seen_source(&pod1, &outside, "203.0.113.2"),
            "203.0.113.1",
            "egress not masqueraded"
        );
        assert_eq!(seen_source(&pod1, &pod2, "10.66.0.3"), "10.66.0.2", "pod to pod was NATed");
        assert_eq!(seen_source(&node, &pod1, "10.66.0.2"), "10.66.0.1", "node to pod was NATed");
        assert_eq!(seen_source(&pod1, &node, "10.66.0.1"), "10.66.0.2", "pod to node was NATed");
        assert_eq!(
            seen_source(&pod1, &node, "203.0.113.1"),
            "10.66.0.2",
            "pod to node's uplink was NATed"
        );
        assert_eq!(plugin_chains(None), 3, "postrouting and 2 pod chains: {:#}", nft_ruleset(None));

        Call::new(OURS, None, "DEL").pod("c1", "/run/netns/pod1").run(&conf).expect_ok("DEL 1");
        // pod2 still masqueraded, pod1's rules gone.
        assert_eq!(seen_source(&pod2, &outside, "203.0.113.2"), "203.0.113.1");
        assert_eq!(plugin_chains(None), 2);
        Call::new(OURS, None, "DEL").pod("c2", "/run/netns/pod2").run(&conf).expect_ok("DEL 2");
        assert!(
            !nft_ruleset(None).to_string().contains("nslink-bridge"),
            "rules of the plugin left: {:#}",
            nft_ruleset(None)
        );
        let theirs_after = nft_ruleset(None)["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i.to_string().contains("\"mine\""))
            .cloned()
            .collect::<Vec<Value>>();
        assert_eq!(theirs_before, theirs_after, "someone else's table changed");
        run_ok_in(None, "nft", &["delete", "table", "ip", "mine"]);
        for n in ["outside", "pod1", "pod2"] {
            NetNs::delete(n).unwrap();
        }
    });
}

/// How many times the kernel refused a new ARP entry because its table
/// (shared by every namespace) was full: `table_fulls` of
/// `/proc/net/stat/arp_cache`, summed over the CPUs.
fn arp_table_fulls() -> u64 {
    let text = std::fs::read_to_string("/proc/net/stat/arp_cache").unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().last())
        .map(|v| u64::from_str_radix(v, 16).unwrap())
        .sum()
}

/// Runs `f(i)` for `0..n` on `threads` threads.
fn parallel(n: usize, threads: usize, f: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    f(i);
                }
            });
        }
    });
}

#[test]
fn fifty_pods_in_parallel_reach_each_other_and_leave_nothing() {
    sandbox(|| {
        require_tools();
        const PODS: usize = 50;
        let data = TempDir::new("fifty");
        let conf = config(
            "1.0.0",
            "nslink-bridge",
            "10.55.0.0/24",
            data.path(),
            json!({"isDefaultGateway": true, "ipMasq": true, "hairpinMode": true}),
        );
        let pods: Vec<NetNs> = (0..PODS).map(|i| NetNs::create(format!("p{i}")).unwrap()).collect();
        let addrs = Mutex::new(vec![String::new(); PODS]);
        // Pod threads run from the sandbox thread's namespace: each spawned
        // plugin inherits it, since the Call runs from inside `node`.
        let node = NetNs::current().unwrap();
        parallel(PODS, 8, |i| {
            let cid = format!("pod{i}");
            let path = format!("/run/netns/p{i}");
            let r = Call::new(OURS, Some(&node), "ADD").pod(&cid, &path).run(&conf);
            let r = r.expect_ok(&format!("ADD {cid}"));
            let a = r["ips"][0]["address"].as_str().unwrap().split('/').next().unwrap().to_owned();
            addrs.lock().unwrap()[i] = a;
        });
        let addrs = addrs.into_inner().unwrap();
        let mut unique = addrs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), PODS, "addresses given twice: {addrs:?}");
        assert_eq!(allocations(data.path()).len(), PODS);
        assert_eq!(link_names(None).len(), PODS + 2);

        // Every pod pings every other: one shell per pod, four at a time.
        // The kernel's ARP table is shared by all namespaces and holds at
        // most gc_thresh3 (1024) entries, fewer than the 2450 that all
        // pairs would leave: the pods ping in waves of four (392 entries:
        // waves of eight, 784, overflowed the table, /proc/net/stat/arp_cache
        // table_fulls, when the binary's other tests ran beside it with
        // many test threads), and every pod's neighbour table is flushed
        // between waves.
        let sockets: Vec<nslink::RouteSocket> =
            pods.iter().map(|p| nslink::RouteSocket::open_in(p).unwrap()).collect();
        // The table is the whole machine's: other programs can fill it too.
        // A pod whose pings failed while the kernel refused neighbour
        // entries (table_fulls grew) pings those targets again after the
        // flush, up to three times; a failure without an overflow fails.
        let ping_all = |i: usize, targets: &[&str]| -> Vec<String> {
            let script = format!(
                "for a in {}; do ping -c 1 -W 2 -q $a >/dev/null 2>&1 || echo $a; done",
                targets.join(" ")
            );
            let out = run_in(Some(&pods[i]), "sh", &["-c", &script]);
            String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
        };
        let flush = || {
            for s in &sockets {
                s.flush_neighbours().unwrap();
            }
            nslink::RouteSocket::open().unwrap().flush_neighbours().unwrap();
        };
        let mut failures = Vec::new();
        for wave in (0..PODS).collect::<Vec<_>>().chunks(4) {
            let failed = Mutex::new(Vec::new());
            let mut fulls = arp_table_fulls();
            parallel(wave.len(), wave.len(), |k| {
                let i = wave[k];
                let targets: Vec<&str> = addrs
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, a)| a.as_str())
                    .collect();
                let missed = ping_all(i, &targets);
                if !missed.is_empty() {
                    failed.lock().unwrap().push((i, missed));
                }
            });
            flush();
            let mut failed = failed.into_inner().unwrap();
            for _ in 0..3 {
                let now = arp_table_fulls();
                if failed.is_empty() || now == fulls {
                    break;
                }
                fulls = now;
                for (i, missed) in &mut failed {
                    let targets: Vec<&str> = missed.iter().map(String::as_str).collect();
                    *missed = ping_all(*i, &targets);
                    flush();
                }
                failed.retain(|(_, missed)| !missed.is_empty());
            }
            for (i, missed) in failed {
                failures.push(format!("{} cannot reach {}", addrs[i], missed.join(" ")));
            }
        }
        drop(sockets);
        assert!(failures.is_empty(), "{failures:#?}");

        parallel(PODS, 8, |i| {
            let cid = format!("pod{i}");
            let path = format!("/run/netns/p{i}");
            Call::new(OURS, Some(&node), "DEL")
                .pod(&cid, &path)
                .run(&conf)
                .expect_ok(&format!("DEL {cid}"));
        });
        assert!(allocations(data.path()).is_empty(), "leaked: {:?}", allocations(data.path()));
        assert_eq!(link_names(None), ["lo", "cni0"]);
        assert!(nft_tables(None).is_empty(), "{:?}", nft_tables(None));
        for p in &pods {
            assert_eq!(link_names(Some(p)), ["lo"]);
        }
        drop(pods);
        for i in 0..PODS {
            NetNs::delete(format!("p{i}")).unwrap();
        }
    });
}

/// A retried ADD of the same attachment rewrites its masquerading chain
/// instead of adding to it (the chain exists: the plugin's usual
/// add-only transaction is refused and the full one runs), and DEL still
/// leaves no table.
#[test]
fn retried_add_keeps_one_chain_of_three_rules() {
    sandbox(|| {
        require_tools();
        let data = TempDir::new("retry");
        let conf = config(
            "1.0.0",
            "nslink-bridge",
            "10.67.0.0/24",
            data.path(),
            json!({"isGateway": true, "ipMasq": true}),
        );
        let pod = NetNs::create("pod").unwrap();
        for what in ["ADD", "ADD again"] {
            Call::new(OURS, None, "ADD").pod("c1", "/run/netns/pod").run(&conf).expect_ok(what);
        }
        let ruleset = nft_ruleset(None);
        let items = ruleset["nftables"].as_array().unwrap();
        let chains: Vec<&str> = items
            .iter()
            .filter_map(|i| i.get("chain"))
            .filter_map(|c| c["name"].as_str())
            .filter(|n| n.starts_with("pod-"))
            .collect();
        assert_eq!(chains.len(), 1, "{ruleset:#}");
        let rules =
            items.iter().filter_map(|i| i.get("rule")).filter(|r| r["chain"] == chains[0]).count();
        assert_eq!(rules, 3, "subnet, multicast, masquerade: {ruleset:#}");
        let base = items
            .iter()
            .filter_map(|i| i.get("rule"))
            .filter(|r| r["chain"] == "postrouting")
            .count();
        assert_eq!(base, 2, "ip and ip6 vmaps: {ruleset:#}");
        Call::new(OURS, None, "DEL").pod("c1", "/run/netns/pod").run(&conf).expect_ok("DEL");
        assert!(nft_tables(None).is_empty(), "{:?}", nft_tables(None));
        drop(pod);
        NetNs::delete("pod").unwrap();
    });
}

/// DEL removes its own map elements and nothing else: before, any element
/// whose chain the DEL's read of the table did not list was taken for a
/// leftover and deleted, and a read that missed a live pod's chain would
/// have cut that pod's masquerading. Here the other element jumps to a
/// chain that is not a pod's.
#[test]
fn del_removes_only_its_own_map_elements() {
    sandbox(|| {
        require_tools();
        let data = TempDir::new("own");
        let conf = config(
            "1.0.0",
            "nslink-bridge",
            "10.68.0.0/24",
            data.path(),
            json!({"isGateway": true, "ipMasq": true}),
        );
        let pods = [NetNs::create("pa").unwrap(), NetNs::create("pb").unwrap()];
        for (cid, path) in [("c1", "/run/netns/pa"), ("c2", "/run/netns/pb")] {
            Call::new(OURS, None, "ADD").pod(cid, path).run(&conf).expect_ok(cid);
        }
        run_ok_in(None, "nft", &["add", "chain", "inet", "nslink-bridge", "foo"]);
        run_ok_in(
            None,
            "nft",
            &["add", "element", "inet", "nslink-bridge", "pods4", "{ 10.99.0.1 : jump foo }"],
        );
        Call::new(OURS, None, "DEL").pod("c1", "/run/netns/pa").run(&conf).expect_ok("DEL c1");
        let map = run_ok_in(None, "nft", &["list", "map", "inet", "nslink-bridge", "pods4"]);
        assert!(map.contains("10.99.0.1"), "DEL c1 removed another element: {map}");
        assert_eq!(map.matches("jump pod-").count(), 1, "c2's element stays, c1's goes: {map}");
        Call::new(OURS, None, "DEL").pod("c2", "/run/netns/pb").run(&conf).expect_ok("DEL c2");
        assert!(nft_tables(None).is_empty(), "{:?}", nft_tables(None));
        drop(pods);
        NetNs::delete("pa").unwrap();
        NetNs::delete("pb").unwrap();
    });
}
