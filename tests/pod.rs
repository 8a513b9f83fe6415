//! Issue 4's proof: veth pairs, bridges, addresses, routes, per-namespace
//! sysctls and a small Kubernetes-style pod network, each checked against
//! the real tools.
//!
//! Every test runs inside [`common::sandbox`]: a throwaway thread in a fresh
//! network namespace and a private mount namespace whose `/run` is an empty
//! tmpfs. The namespaces a test makes (`NetNs::new`, or named ones in the
//! sandbox's own `/run/netns`, so that `ip netns exec NAME` works) and the
//! devices in them vanish with the thread. The host's devices are never
//! named or touched; the only host state a test looks at it reads (and
//! compares before and after). The tests need root and fail loudly without.
//!
//! Oracles: `ip -j link`/`ip -j -d link` (ifindex, `link_index`,
//! `link_netnsid`, MTU, MAC, flags, bridge `info_data`), `ip -o monitor
//! link` (which devices a namespace ever heard of), `bridge -j [-d] link`,
//! `ip -j addr`, `ip -j -4/-6 route show table all`, `sysctl -n` under
//! `ip netns exec NAME`, `ping` between namespaces, and UDP/TCP sockets
//! opened inside the namespaces (the source address a receiver sees).
//!
//! Every refusal is checked twice: the typed error, and that nothing changed
//! where it could have (device lists of every namespace involved, address
//! and route lists, files).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nslink::{
    AddressFlags, AddressOptions, AddressScope, Bridge, BridgePortOptions, Errno, Error, IpNet,
    LinkKind, MacAddr, NetNs, ParseError, Route, RouteScope, RouteSocket, RouteTable, VethPair,
};

use common::{
    Here, JsonExt as _, Place as _, ip, ip_in, ip_json, ip_json_in, ip_output_in, json_in, run_in,
    sandbox,
};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Oracles: the tools, run in a given namespace (None: the calling thread's),
// read with `common`'s helpers.
// ---------------------------------------------------------------------------

/// Name → ifindex, as `ip -j link show` prints them.
fn ip_links(ns: Option<&NetNs>) -> BTreeMap<String, u32> {
    ip_json_in(ns, &["link", "show"])
        .iter()
        .map(|o| (o.at("ifname").text().to_owned(), o.at("ifindex").int() as u32))
        .collect()
}

/// Name → ifindex, as nslink lists them.
fn nl_links(nl: &RouteSocket) -> BTreeMap<String, u32> {
    nl.links().unwrap().iter().map(|l| (l.name().to_string(), l.index())).collect()
}

/// `ip -j -d link show dev NAME`.
fn ip_link(ns: Option<&NetNs>, name: &str) -> Value {
    let mut v = ip_json_in(ns, &["-d", "link", "show", "dev", name]);
    assert_eq!(v.len(), 1, "ip link show dev {name}: {v:?}");
    v.remove(0)
}

fn names(links: &BTreeMap<String, u32>) -> Vec<&str> {
    links.keys().map(String::as_str).collect()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

/// Reads the same state through the tool and through nslink until the tool
/// reports the same twice in a row around nslink's reading (so nothing was
/// settling in between), then asserts nslink agrees.
fn agree<T: PartialEq + Debug>(what: &str, oracle: impl Fn() -> T, mine: impl Fn() -> T) -> T {
    for _ in 0..50 {
        let a = oracle();
        let m = mine();
        let b = oracle();
        if a == b {
            assert_eq!(m, a, "{what}: nslink (left) disagrees with the tool (right)");
            return a;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: the tool's view never settled");
}

/// `ip -o monitor link` in a namespace: which devices it ever reported.
///
/// A "fence" (a bridge created and deleted through the namespace's socket)
/// proves the monitor listens before the action, and that everything the
/// action caused has been printed before the monitor is stopped (netlink
/// notifications reach a listener in order).
struct Monitor {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
    fences: u32,
}

impl Monitor {
    fn start(ns: Option<&NetNs>, nl: &RouteSocket) -> Monitor {
        let mut cmd = ns.ip();
        cmd.args(["-o", "monitor", "link"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn ip monitor");
        let out = child.stdout.take().expect("monitor stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                match line {
                    Ok(l) => sink.lock().unwrap().push(l),
                    Err(_) => break,
                }
            }
        });
        let mut m = Monitor { child: Some(child), lines, reader: Some(reader), fences: 0 };
        for _ in 0..40 {
            if m.fence(nl, Duration::from_millis(250)) {
                return m;
            }
        }
        panic!("ip monitor never reported anything");
    }

    /// The device name of a monitor line (`[Deleted ]IDX: NAME[@PEER]: …`).
    fn name_of(line: &str) -> Option<String> {
        let line = line.strip_prefix("Deleted ").unwrap_or(line);
        let rest = line.split_once(": ")?.1;
        let name = rest.split(':').next()?;
        Some(name.split('@').next()?.to_owned())
    }

    fn seen(&self) -> Vec<String> {
        self.lines.lock().unwrap().iter().filter_map(|l| Self::name_of(l)).collect()
    }

    fn fence(&mut self, nl: &RouteSocket, wait: Duration) -> bool {
        self.fences += 1;
        let name = format!("fence{}", self.fences);
        Bridge::builder(name.as_str()).create(nl).expect("create fence bridge");
        let deadline = Instant::now() + wait;
        let mut seen = false;
        while Instant::now() < deadline {
            if self.seen().contains(&name) {
                seen = true;
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        nl.delete_link(name.as_str()).expect("delete fence bridge");
        seen
    }

    /// Fences, stops the monitor and returns every device name it reported
    /// (fences excluded).
    fn finish(mut self, nl: &RouteSocket) -> BTreeSet<String> {
        assert!(self.fence(nl, Duration::from_secs(10)), "ip monitor stopped reporting");
        self.stop();
        self.seen().into_iter().filter(|n| !n.starts_with("fence")).collect()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// VethPair
// ---------------------------------------------------------------------------

#[test]
fn veth_peer_is_born_in_its_namespace_with_mtu_macs_and_up() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::create("pod-a").unwrap();
        let nl_pod = RouteSocket::open_in(&pod).unwrap();
        let here_before = ip_links(None);
        assert_eq!(names(&ip_links(Some(&pod))), ["lo"]);

        let mon_here = Monitor::start(None, &nl);
        let mon_pod = Monitor::start(Some(&pod), &nl_pod);
        let (m_local, m_peer) = (mac("02:00:5e:00:01:0a"), mac("02:00:5e:00:01:0b"));
        let pair = VethPair::builder("vh0", "eth0")
            .peer_netns(&pod)
            .mtu(1400)
            .mac(m_local)
            .peer_mac(m_peer)
            .up()
            .create(&nl)
            .unwrap();
        let heard_here = mon_here.finish(&nl);
        let heard_pod = mon_pod.finish(&nl_pod);

        // The peer was never a device of the creating namespace, not even
        // for a moment; the target only ever heard of the peer.
        assert_eq!(heard_here, BTreeSet::from(["vh0".to_owned()]), "creating namespace");
        assert_eq!(heard_pod, BTreeSet::from(["eth0".to_owned()]), "target namespace");

        // Link lists: exactly one new device on each side.
        let here_after = ip_links(None);
        let mut expected = here_before.clone();
        expected.insert("vh0".into(), pair.local().index());
        assert_eq!(here_after, expected);
        let pod_after = ip_links(Some(&pod));
        assert_eq!(names(&pod_after), ["eth0", "lo"]);
        assert_eq!(nl_links(&nl), here_after);
        assert_eq!(nl_links(&nl_pod), pod_after);

        // The handles: names, indices and namespaces.
        assert_eq!(pair.local().name().to_str().unwrap(), "vh0");
        assert_eq!(pair.peer().name().to_str().unwrap(), "eth0");
        assert_eq!(pair.local().index(), here_after["vh0"]);
        assert_eq!(pair.peer().index(), pod_after["eth0"]);
        assert_eq!(pair.local().netns().id(), NetNs::current().unwrap().id());
        assert_eq!(pair.local().netns(), nl.netns());
        assert_eq!(pair.peer().netns().id(), pod.id());
        let entry = std::fs::metadata("/run/netns/pod-a").unwrap();
        assert_eq!(pair.peer().netns().id().ino, entry.ino(), "ls -Li /run/netns/pod-a");

        // MTU, MACs, up: local end as ip sees it...
        let local = ip_link(None, "vh0");
        assert_eq!(local.at("linkinfo").at("info_kind").text(), "veth");
        assert_eq!(local.at("mtu").int(), 1400);
        assert_eq!(local.at("address").text(), m_local.to_string());
        assert!(local.flags().contains("UP"), "{local:?}");
        // ...and the peer, from inside its namespace (only the local end
        // was asked to be up).
        let peer = ip_link(Some(&pod), "eth0");
        assert_eq!(peer.at("mtu").int(), 1400);
        assert_eq!(peer.at("address").text(), m_peer.to_string());
        assert!(!peer.flags().contains("UP"), "{peer:?}");

        // Each end points at the other, across the namespace boundary.
        assert_eq!(local.at("link_index").int(), i64::from(pair.peer().index()));
        assert_eq!(peer.at("link_index").int(), i64::from(pair.local().index()));
        let (idx, nsid) = nl.veth_peer("vh0").unwrap();
        assert_eq!(idx, pair.peer().index());
        assert_eq!(nsid.map(i64::from), Some(local.at("link_netnsid").int()));
        let (idx, nsid) = nl_pod.veth_peer("eth0").unwrap();
        assert_eq!(idx, pair.local().index());
        assert_eq!(nsid.map(i64::from), Some(peer.at("link_netnsid").int()));
        // nslink's own view agrees too.
        let l = nl.require_link("vh0").unwrap();
        assert_eq!((l.mtu(), l.mac(), l.is_up()), (1400, Some(m_local), true));
        let p = nl_pod.require_link("eth0").unwrap();
        assert_eq!((p.mtu(), p.mac(), p.is_up()), (1400, Some(m_peer), false));
    });
}

#[test]
fn veth_peer_of_same_namespace_pair_and_of_non_veths() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pair = VethPair::builder("sa0", "sa1").create(&nl).unwrap();
        assert_eq!(pair.peer().netns(), nl.netns());
        let links = ip_links(None);
        assert_eq!(pair.local().index(), links["sa0"]);
        assert_eq!(pair.peer().index(), links["sa1"]);
        // Same namespace: ip prints `"link":"sa1"` and no link-netnsid.
        let o = ip_link(None, "sa0");
        assert_eq!(o.at("link").text(), "sa1");
        assert!(o.get("link_netnsid").is_none(), "{o:?}");
        assert_eq!(nl.veth_peer("sa0").unwrap(), (links["sa1"], None));
        assert_eq!(nl.veth_peer(links["sa1"]).unwrap(), (links["sa0"], None));

        let br = Bridge::builder("sbr").create(&nl).unwrap();
        let err = nl.veth_peer("sbr").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let err = nl.veth_peer(br.index()).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let err = nl.veth_peer("nosuch0").unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
    });
}

#[test]
fn veth_enslaved_to_a_bridge_at_creation() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        let br = Bridge::builder("br-m").up().create(&nl).unwrap();
        let pair = VethPair::builder("vm0", "eth0")
            .peer_netns(&pod)
            .master(br.index())
            .up()
            .create(&nl)
            .unwrap();
        let ports = json_in(Here, "bridge", &["link", "show"]);
        assert_eq!(ports.len(), 1, "{ports:?}");
        assert_eq!(ports[0].at("ifname").text(), "vm0");
        assert_eq!(ports[0].at("ifindex").int(), i64::from(pair.local().index()));
        assert_eq!(ports[0].at("master").text(), "br-m");
        let o = ip_link(None, "vm0");
        assert_eq!(o.at("master").text(), "br-m");
        assert!(o.flags().contains("UP"));
        assert_eq!(o.at("linkinfo").at("info_slave_kind").text(), "bridge");
        let mine: Vec<String> =
            br.ports(&nl).unwrap().iter().map(|l| l.name().to_string()).collect();
        assert_eq!(mine, ["vm0"]);
        assert_eq!(nl.require_link("vm0").unwrap().master(), Some(br.index()));
        // The peer is in the pod and is nobody's port.
        let p = ip_link(Some(&pod), "eth0");
        assert!(p.get("master").is_none(), "{p:?}");
    });
}

#[test]
fn veth_with_both_ends_in_two_other_namespaces() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let a = NetNs::create("ns-left").unwrap();
        let b = NetNs::create("ns-right").unwrap();
        let here_before = ip_links(None);
        // Same name on both ends is fine in different namespaces.
        let pair = VethPair::builder("eth0", "eth0")
            .netns(&a)
            .peer_netns(&b)
            .mtu(9000)
            .up()
            .create(&nl)
            .unwrap();
        assert_eq!(ip_links(None), here_before, "the socket's namespace must not change");
        let in_a = ip_links(Some(&a));
        let in_b = ip_links(Some(&b));
        assert_eq!(names(&in_a), ["eth0", "lo"]);
        assert_eq!(names(&in_b), ["eth0", "lo"]);
        assert_eq!(pair.local().netns().id(), a.id());
        assert_eq!(pair.peer().netns().id(), b.id());
        let ino = |n: &str| std::fs::metadata(format!("/run/netns/{n}")).unwrap().ino();
        assert_eq!(pair.local().netns().id().ino, ino("ns-left"));
        assert_eq!(pair.peer().netns().id().ino, ino("ns-right"));
        assert_eq!(pair.local().index(), in_a["eth0"]);
        assert_eq!(pair.peer().index(), in_b["eth0"]);

        let la = ip_link(Some(&a), "eth0");
        let lb = ip_link(Some(&b), "eth0");
        assert_eq!(la.at("mtu").int(), 9000);
        assert_eq!(lb.at("mtu").int(), 9000);
        assert!(la.flags().contains("UP"), "{la:?}");
        assert_eq!(la.at("link_index").int(), i64::from(pair.peer().index()));
        assert_eq!(lb.at("link_index").int(), i64::from(pair.local().index()));
        let (idx, nsid) = RouteSocket::open_in(&a).unwrap().veth_peer("eth0").unwrap();
        assert_eq!(idx, pair.peer().index());
        assert_eq!(nsid.map(i64::from), Some(la.at("link_netnsid").int()));
        let (idx, nsid) = RouteSocket::open_in(&b).unwrap().veth_peer("eth0").unwrap();
        assert_eq!(idx, pair.local().index());
        assert_eq!(nsid.map(i64::from), Some(lb.at("link_netnsid").int()));
    });
}

// ---------------------------------------------------------------------------
// Name clashes
// ---------------------------------------------------------------------------

/// Asserts an EEXIST that names `name` as the clash, in `ns_text`.
fn assert_clash(err: &Error, name: &str, ns_text: &str) {
    assert!(err.is_already_exists(), "{err:?}");
    assert_eq!(err.errno(), Some(Errno::EEXIST));
    let Error::Os { object, .. } = err else { panic!("not an Os error: {err:?}") };
    assert_eq!(object.name(), Some(name), "the error does not name {name:?} as the clash: {err}");
    assert_eq!(object.netns.as_deref(), Some(ns_text), "the error names another namespace: {err}");
    let msg = err.to_string();
    let at = msg
        .find(&format!("{name:?}"))
        .unwrap_or_else(|| panic!("the message does not name {name:?} as the clash: {msg}"));
    assert!(msg[at..].contains(ns_text), "the message does not name namespace {ns_text}: {msg}");
}

#[test]
fn veth_peer_name_taken_in_target_is_eexist_naming_it_and_leaves_no_half() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::create("pod-b").unwrap();
        ip_in(&pod, &["link", "add", "eth0", "type", "veth", "peer", "name", "o0"]);
        let here_before = ip_links(None);
        let pod_before = ip_links(Some(&pod));

        let err = VethPair::builder("vh1", "eth0").peer_netns(&pod).create(&nl).unwrap_err();
        assert_clash(&err, "eth0", "\"pod-b\"");
        assert_eq!(ip_links(None), here_before, "a half was left in the socket's namespace");
        assert_eq!(ip_links(Some(&pod)), pod_before, "the target changed");
        assert_eq!(nl_links(&nl), here_before);

        // The same with both ends elsewhere.
        let other = NetNs::create("pod-c").unwrap();
        let other_before = ip_links(Some(&other));
        let err = VethPair::builder("vh1", "eth0")
            .netns(&other)
            .peer_netns(&pod)
            .create(&nl)
            .unwrap_err();
        assert_clash(&err, "eth0", "\"pod-b\"");
        assert_eq!(ip_links(None), here_before);
        assert_eq!(ip_links(Some(&pod)), pod_before);
        assert_eq!(ip_links(Some(&other)), other_before, "a half was left in the local end's ns");
    });
}

#[test]
fn veth_local_name_taken_is_eexist_naming_it_and_leaves_no_half() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::create("pod-d").unwrap();
        ip(&["link", "add", "vh2", "type", "veth", "peer", "name", "vh2p"]);
        let here_before = ip_links(None);
        let pod_before = ip_links(Some(&pod));

        let err = VethPair::builder("vh2", "eth0").peer_netns(&pod).create(&nl).unwrap_err();
        let here_text = format!("net:[{}]", nl.netns().id().ino);
        assert_clash(&err, "vh2", &here_text);
        assert_eq!(ip_links(None), here_before);
        assert_eq!(ip_links(Some(&pod)), pod_before, "a half was left in the target");

        // Local end in a named namespace where its name is taken.
        let a = NetNs::create("ns-taken").unwrap();
        ip_in(&a, &["link", "add", "eth1", "type", "veth", "peer", "name", "x1"]);
        let a_before = ip_links(Some(&a));
        let err =
            VethPair::builder("eth1", "eth0").netns(&a).peer_netns(&pod).create(&nl).unwrap_err();
        assert_clash(&err, "eth1", "\"ns-taken\"");
        assert_eq!(ip_links(Some(&a)), a_before);
        assert_eq!(ip_links(Some(&pod)), pod_before);
        assert_eq!(ip_links(None), here_before);
    });
}

#[test]
fn veth_names_taken_only_outside_their_target_namespace_are_fine() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::create("pod-e").unwrap();
        let nl_pod = RouteSocket::open_in(&pod).unwrap();
        // "eth0" exists here (the socket's namespace) but not in the pod.
        // (Old kernels such as 6.1 accept this one: the name they look up
        // in the socket's namespace is the local end's, which is the case
        // "both ends elsewhere" below.)
        ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "e0p"]);
        let here_before = ip_links(None);

        let mon_pod = Monitor::start(Some(&pod), &nl_pod);
        let pair = VethPair::builder("vh3", "eth0").peer_netns(&pod).create(&nl).unwrap();
        let heard_pod = mon_pod.finish(&nl_pod);
        assert_eq!(
            heard_pod,
            BTreeSet::from(["eth0".to_owned()]),
            "the target should only ever see the peer under its own name"
        );
        let here_after = ip_links(None);
        let mut expected = here_before.clone();
        expected.insert("vh3".into(), pair.local().index());
        assert_eq!(here_after, expected, "the socket's eth0 must be untouched");
        let in_pod = ip_links(Some(&pod));
        assert_eq!(names(&in_pod), ["eth0", "lo"]);
        assert_eq!(pair.peer().index(), in_pod["eth0"]);
        assert_eq!(pair.peer().name().to_str().unwrap(), "eth0");
        assert_eq!(
            ip_link(Some(&pod), "eth0").at("link_index").int(),
            i64::from(here_after["vh3"])
        );
        assert_eq!(nl.veth_peer("vh3").unwrap().0, in_pod["eth0"]);
        // The socket's own eth0 still pairs with e0p.
        assert_eq!(ip_link(None, "eth0").at("link").text(), "e0p");

        // Symmetric: the local end's name exists only in the peer's target.
        ip_in(&pod, &["link", "add", "vh4", "type", "veth", "peer", "name", "x4"]);
        let pair = VethPair::builder("vh4", "eth1").peer_netns(&pod).create(&nl).unwrap();
        assert_eq!(pair.local().index(), ip_links(None)["vh4"]);
        assert_eq!(pair.peer().index(), ip_links(Some(&pod))["eth1"]);
        assert_eq!(ip_link(Some(&pod), "vh4").at("link").text(), "x4");

        // Both ends elsewhere, both names taken only in the socket's
        // namespace: Linux 6.1 finds "lft" there when the request is sent
        // from the socket's namespace.
        ip(&["link", "add", "lft", "type", "veth", "peer", "name", "rgt"]);
        let a = NetNs::new().unwrap();
        let b = NetNs::new().unwrap();
        let before = ip_links(None);
        let pair = VethPair::builder("lft", "rgt").netns(&a).peer_netns(&b).create(&nl).unwrap();
        assert_eq!(ip_links(None), before);
        assert_eq!(names(&ip_links(Some(&a))), ["lft", "lo"]);
        assert_eq!(names(&ip_links(Some(&b))), ["lo", "rgt"]);
        assert_eq!(pair.local().index(), ip_links(Some(&a))["lft"]);
        assert_eq!(pair.peer().index(), ip_links(Some(&b))["rgt"]);
    });
}

#[test]
fn veth_with_the_same_name_twice_in_one_namespace_is_invalid_argument() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let a = NetNs::new().unwrap();
        let here_before = ip_links(None);
        let a_before = ip_links(Some(&a));
        let check = |what: &str, r: nslink::Result<VethPair>| {
            let err = r.expect_err(what);
            assert!(matches!(err, Error::InvalidArgument { .. }), "{what}: {err:?}");
            assert_eq!(ip_links(None), here_before, "{what}");
            assert_eq!(ip_links(Some(&a)), a_before, "{what}");
        };
        check("implicit", VethPair::builder("same", "same").create(&nl));
        check("both in a", VethPair::builder("same", "same").netns(&a).peer_netns(&a).create(&nl));
        let a2 = a.try_clone().unwrap();
        check(
            "two handles",
            VethPair::builder("same", "same").netns(&a).peer_netns(&a2).create(&nl),
        );
    });
}

/// The same check when the socket's own namespace is named explicitly on
/// one side only (`netns(here)` or `peer_netns(here)`): both ends still land
/// in one namespace, so it must be the same `InvalidArgument`, not the
/// kernel's `EEXIST` (which would also read as a clash with an existing
/// device that does not exist).
#[test]
fn veth_same_name_with_the_sockets_namespace_named_explicitly_is_invalid_argument() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let here_before = ip_links(None);
        let check = |what: &str, r: nslink::Result<VethPair>| {
            let err = r.expect_err(what);
            assert!(matches!(err, Error::InvalidArgument { .. }), "{what}: {err:?}");
            assert_eq!(ip_links(None), here_before, "{what}");
        };
        let here = nl.netns().try_clone().unwrap();
        check("peer_netns(here)", VethPair::builder("same", "same").peer_netns(&here).create(&nl));
        check("netns(here)", VethPair::builder("same", "same").netns(&here).create(&nl));
    });
}

// ---------------------------------------------------------------------------
// Bridge
// ---------------------------------------------------------------------------

#[test]
fn bridge_options_as_ip_details_show_them() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let fixed = mac("02:42:0a:f4:01:01");
        let br = Bridge::builder("br-on")
            .stp(true)
            .forward_delay(Duration::from_secs(7))
            .ageing_time(Duration::from_secs(123))
            .mac(fixed)
            .mtu(1400)
            .up()
            .create(&nl)
            .unwrap();
        let o = ip_link(None, "br-on");
        assert_eq!(o.at("ifindex").int(), i64::from(br.index()));
        assert_eq!(br.name().to_str().unwrap(), "br-on");
        let info = o.at("linkinfo");
        assert_eq!(info.at("info_kind").text(), "bridge");
        let d = info.at("info_data");
        // iproute2 prints the timers in hundredths of a second (clock_t).
        assert_eq!(d.at("stp_state").int(), 1);
        assert_eq!(d.at("forward_delay").int(), 700);
        assert_eq!(d.at("ageing_time").int(), 12300);
        assert_eq!(d.at("vlan_filtering").int(), 0);
        assert_eq!(o.at("address").text(), fixed.to_string());
        assert_eq!(o.at("mtu").int(), 1400);
        assert!(o.flags().contains("UP"), "{o:?}");

        Bridge::builder("br-off")
            .stp(false)
            .forward_delay(Duration::from_secs(4))
            .ageing_time(Duration::from_secs(300))
            .create(&nl)
            .unwrap();
        let o = ip_link(None, "br-off");
        let d = o.at("linkinfo").at("info_data");
        assert_eq!(d.at("stp_state").int(), 0);
        assert_eq!(d.at("forward_delay").int(), 400);
        assert_eq!(d.at("ageing_time").int(), 30000);
        assert!(!o.flags().contains("UP"), "{o:?}");
        assert_eq!(nl.require_link("br-off").unwrap().kind(), &LinkKind::Bridge);

        assert_eq!(d.at("vlan_filtering").int(), 0, "the kernel's default");
    });
}

#[test]
fn bridge_vlan_filtering_does_what_the_kernel_does_for_ip() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        for (on, value) in [(false, "0"), (true, "1")] {
            let ip_name = format!("brvf-ip{value}");
            let args = ["link", "add", &ip_name, "type", "bridge", "vlan_filtering", value];
            let by_ip = ip_output_in(Here, &args);
            let before = ip_links(None);
            let name = format!("brvf{value}");
            let mine = Bridge::builder(name.as_str()).vlan_filtering(on).create(&nl);
            if by_ip.status.success() {
                mine.unwrap();
                let o = ip_link(None, &name);
                let d = o.at("linkinfo").at("info_data");
                assert_eq!(d.at("vlan_filtering").int(), i64::from(on));
            } else {
                // A kernel built without CONFIG_BRIDGE_VLAN_FILTERING refuses
                // the attribute, even 0.
                let stderr = String::from_utf8_lossy(&by_ip.stderr);
                assert!(stderr.contains("Operation not supported"), "{stderr}");
                let err = mine.unwrap_err();
                assert_eq!(err.errno(), Some(Errno::EOPNOTSUPP), "{err:?}");
                assert_eq!(ip_links(None), before, "a refused bridge was left behind");
            }
        }
    });
}

/// A veth whose local end (`name`, with MAC `m`) is in the calling
/// namespace and whose peer is `eth0` of a new anonymous namespace.
fn port_veth(nl: &RouteSocket, name: &str, m: &str) -> (VethPair, NetNs) {
    let pod = NetNs::new().unwrap();
    let pair =
        VethPair::builder(name, "eth0").peer_netns(&pod).mac(mac(m)).up().create(nl).unwrap();
    (pair, pod)
}

#[test]
fn bridge_fixed_mac_stays_as_ports_join() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let addr = |n: &str| ip_link(None, n).at("address").text().to_owned();
        // Control: a bridge without a fixed MAC takes its lowest port's.
        let free = Bridge::builder("br-free").up().create(&nl).unwrap();
        let (_p0, _n0) = port_veth(&nl, "fp0", "02:00:00:00:00:02");
        free.attach(&nl, "fp0").unwrap();
        assert_eq!(addr("br-free"), "02:00:00:00:00:02", "control: the kernel did not adopt");

        let fixed = mac("02:aa:bb:cc:dd:01");
        let br = Bridge::builder("br-fix").mac(fixed).up().create(&nl).unwrap();
        let before = addr("br-fix");
        assert_eq!(before, fixed.to_string());
        let (_p1, _n1) = port_veth(&nl, "xp1", "02:00:00:00:00:05");
        let (_p2, _n2) = port_veth(&nl, "xp2", "02:00:00:00:00:04");
        br.attach(&nl, "xp1").unwrap();
        assert_eq!(addr("br-fix"), before, "after the first port");
        br.attach(&nl, "xp2").unwrap();
        assert_eq!(addr("br-fix"), before, "after the second port");
        br.detach(&nl, "xp2").unwrap();
        assert_eq!(addr("br-fix"), before, "after a port left");
        assert_eq!(nl.require_link("br-fix").unwrap().mac(), Some(fixed));
    });
}

/// Port name → master name, as `bridge -j link show` prints them.
fn bridge_ports(ns: Option<&NetNs>) -> BTreeMap<String, String> {
    json_in(ns, "bridge", &["link", "show"])
        .iter()
        .map(|o| (o.at("ifname").text().to_owned(), o.at("master").text().to_owned()))
        .collect()
}

fn nl_ports(nl: &RouteSocket, br: &Bridge) -> BTreeSet<String> {
    br.ports(nl).unwrap().iter().map(|l| l.name().to_string()).collect()
}

#[test]
fn bridge_attach_detach_and_ports_agree_with_bridge_link() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let br = Bridge::builder("br-p").up().create(&nl).unwrap();
        let other = Bridge::builder("br-q").create(&nl).unwrap();
        let (_a, _na) = port_veth(&nl, "pa", "02:00:00:00:01:01");
        let (b, _nb) = port_veth(&nl, "pb", "02:00:00:00:01:02");
        let (_c, _nc) = port_veth(&nl, "pc", "02:00:00:00:01:03");
        assert!(bridge_ports(None).is_empty());

        br.attach(&nl, "pa").unwrap();
        nl.set_master(b.local().index(), "br-p").unwrap();
        other.attach(&nl, "pc").unwrap();
        let expect = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(p, m)| (p.to_string(), m.to_string())).collect()
        };
        assert_eq!(bridge_ports(None), expect(&[("pa", "br-p"), ("pb", "br-p"), ("pc", "br-q")]));
        assert_eq!(nl_ports(&nl, &br), BTreeSet::from(["pa".into(), "pb".into()]));
        assert_eq!(nl_ports(&nl, &other), BTreeSet::from(["pc".into()]));
        assert_eq!(
            nl.bridge_ports("br-q").unwrap().iter().map(|l| l.index()).collect::<Vec<_>>(),
            [ip_links(None)["pc"]]
        );

        br.detach(&nl, "pa").unwrap();
        assert_eq!(bridge_ports(None), expect(&[("pb", "br-p"), ("pc", "br-q")]));
        assert_eq!(nl_ports(&nl, &br), BTreeSet::from(["pb".into()]));
        nl.set_nomaster("pb").unwrap();
        other.detach(&nl, "pc").unwrap();
        assert!(bridge_ports(None).is_empty());
        assert!(nl_ports(&nl, &br).is_empty() && nl_ports(&nl, &other).is_empty());

        // Bridge::open: the same bridge; refusals for others.
        assert_eq!(Bridge::open(&nl, "br-p").unwrap(), br);
        assert_eq!(Bridge::open(&nl, br.index()).unwrap(), br);
        let err = Bridge::open(&nl, "pa").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let err = Bridge::open(&nl, "lo").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        assert!(Bridge::open(&nl, "nosuch0").unwrap_err().is_not_found());
        // Attaching a missing device.
        let err = br.attach(&nl, "nosuch0").unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert!(bridge_ports(None).is_empty());
    });
}

/// (hairpin, learning) of a port, as `bridge -j -d link` prints them.
fn hairpin_learning(port: &str) -> (bool, bool) {
    let all = json_in(Here, "bridge", &["-d", "link", "show"]);
    let o = all
        .iter()
        .find(|o| o.at("ifname").text() == port)
        .unwrap_or_else(|| panic!("{port} is not in bridge -d link: {all:?}"));
    (o.at("hairpin").truth(), o.at("learning").truth())
}

#[test]
fn bridge_port_hairpin_and_learning() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let br = Bridge::builder("br-h").create(&nl).unwrap();
        let (_p, _n) = port_veth(&nl, "hp0", "02:00:00:00:02:01");
        br.attach(&nl, "hp0").unwrap();
        assert_eq!(hairpin_learning("hp0"), (false, true), "kernel defaults");
        let info = nl.require_link("hp0").unwrap().bridge_port().expect("a bridge port");
        assert_eq!((info.hairpin, info.learning), (Some(false), Some(true)));

        let opts =
            BridgePortOptions { hairpin: Some(true), learning: Some(false), ..Default::default() };
        nl.set_bridge_port("hp0", opts).unwrap();
        assert_eq!(hairpin_learning("hp0"), (true, false));
        let info = nl.require_link("hp0").unwrap().bridge_port().unwrap();
        assert_eq!((info.hairpin, info.learning), (Some(true), Some(false)));
        // The dumped view carries the same.
        let dumped =
            nl.links().unwrap().into_iter().find(|l| l.name().to_str().unwrap() == "hp0").unwrap();
        assert_eq!(dumped.bridge_port().unwrap().hairpin, Some(true));

        // None leaves a flag alone.
        let opts = BridgePortOptions { learning: Some(true), ..Default::default() };
        nl.set_bridge_port("hp0", opts).unwrap();
        assert_eq!(hairpin_learning("hp0"), (true, true));
        let opts = BridgePortOptions { hairpin: Some(false), ..Default::default() };
        nl.set_bridge_port("hp0", opts).unwrap();
        assert_eq!(hairpin_learning("hp0"), (false, true));

        // Not a port / no such device: typed refusals.
        let (_q, _m) = port_veth(&nl, "np0", "02:00:00:00:02:02");
        assert!(nl.require_link("np0").unwrap().bridge_port().is_none());
        let hairpin = BridgePortOptions { hairpin: Some(true), ..Default::default() };
        let err = nl.set_bridge_port("np0", hairpin).unwrap_err();
        assert!(
            matches!(err.errno(), Some(Errno::EOPNOTSUPP | Errno::EINVAL)),
            "not a port: {err:?}"
        );
        let err = nl.set_bridge_port("nosuch0", hairpin).unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert_eq!(hairpin_learning("hp0"), (false, true));
    });
}

#[test]
fn bridge_port_in_another_namespace_is_not_found_and_nothing_changes() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::create("pod-f").unwrap();
        let nl_pod = RouteSocket::open_in(&pod).unwrap();
        let br = Bridge::builder("br-x").up().create(&nl).unwrap();
        VethPair::builder("vx0", "eth0").peer_netns(&pod).create(&nl).unwrap();
        let here_before = ip_links(None);
        let pod_before = ip_links(Some(&pod));

        // "eth0" lives in the pod: it cannot join a bridge of this namespace.
        let err = br.attach(&nl, "eth0").unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        let err = nl.set_master("eth0", "br-x").unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        // From the pod's side the bridge is what is missing.
        let err = nl_pod.set_master("eth0", "br-x").unwrap_err();
        assert!(err.is_not_found(), "{err:?}");

        assert!(bridge_ports(None).is_empty());
        assert!(bridge_ports(Some(&pod)).is_empty());
        assert!(nl_ports(&nl, &br).is_empty());
        assert!(ip_link(Some(&pod), "eth0").get("master").is_none());
        assert_eq!(ip_links(None), here_before);
        assert_eq!(ip_links(Some(&pod)), pod_before);
    });
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

/// `ADDR/LEN` of every address of `dev`, as `ip -j addr show dev` prints.
fn ip_addrs(ns: Option<&NetNs>, dev: &str) -> BTreeSet<String> {
    let v = ip_json_in(ns, &["addr", "show", "dev", dev]);
    v[0].at("addr_info")
        .items()
        .iter()
        .map(|a| format!("{}/{}", a.at("local").text(), a.at("prefixlen").int()))
        .collect()
}

fn nl_addrs(nl: &RouteSocket, dev: &str) -> BTreeSet<String> {
    nl.link_addresses(dev).unwrap().iter().map(|a| a.net.to_string()).collect()
}

/// One address's `ip -j addr` object.
fn ip_addr_info(ns: Option<&NetNs>, dev: &str, local: &str) -> Value {
    let v = ip_json_in(ns, &["addr", "show", "dev", dev]);
    v[0].at("addr_info")
        .items()
        .iter()
        .find(|a| a.at("local").text() == local)
        .unwrap_or_else(|| panic!("{local} not on {dev}: {v:?}"))
        .clone()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A veth `a0`/`a1` in the calling namespace, both up, `a0` without an
/// automatic IPv6 link-local address (so its address list is only ours).
fn address_lab(nl: &RouteSocket) {
    VethPair::builder("a0", "a1").create(nl).unwrap();
    // No IPv6 link-local addresses (or their routes) appearing later, on
    // either end: the tests compare whole tables before and after.
    ip(&["link", "set", "dev", "a0", "addrgenmode", "none"]);
    ip(&["link", "set", "dev", "a1", "addrgenmode", "none"]);
    nl.set_up("a0").unwrap();
    nl.set_up("a1").unwrap();
    wait_oper_up(nl, "a0");
    wait_oper_up(nl, "a1");
}

#[test]
fn addresses_v4_and_v6_add_list_delete_flush() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        address_lab(&nl);
        assert!(ip_addrs(None, "a0").is_empty());
        let nets = ["10.20.0.5/24", "10.20.0.6/24", "192.168.7.1/30", "fd00:20::5/64"];
        for n in &nets[..3] {
            nl.add_address("a0", n.parse().unwrap()).unwrap();
        }
        let v6_opts = AddressOptions::default().flags(AddressFlags::NODAD);
        nl.add_address_with("a0", nets[3].parse().unwrap(), v6_opts).unwrap();
        let all = agree("addresses", || ip_addrs(None, "a0"), || nl_addrs(&nl, "a0"));
        assert_eq!(all, set(&nets));

        // Details: broadcast, scope, label, family-wide listing.
        let a0 = nl.require_link("a0").unwrap().index();
        let listed = nl.addresses().unwrap();
        let first =
            listed.iter().find(|a| a.net.to_string() == "10.20.0.5/24").expect("in addresses()");
        assert_eq!(first.index, a0);
        let o = ip_addr_info(None, "a0", "10.20.0.5");
        assert_eq!(
            first.broadcast.map(|b| b.to_string()).as_deref(),
            Some(o.at("broadcast").text())
        );
        assert_eq!(o.at("broadcast").text(), "10.20.0.255");
        assert_eq!(first.scope.to_string(), o.at("scope").text());
        assert_eq!(first.label.as_deref(), Some(o.at("label").text()));
        let p2p = ip_addr_info(None, "a0", "192.168.7.1");
        assert_eq!(p2p.at("broadcast").text(), "192.168.7.3");
        let v6 = listed.iter().find(|a| a.net.to_string() == "fd00:20::5/64").unwrap();
        assert_eq!(v6.scope, AddressScope::Global);
        assert_eq!(v6.broadcast, None);

        // Delete one of each family.
        nl.delete_address("a0", "192.168.7.1/30".parse().unwrap()).unwrap();
        nl.delete_address(a0, "fd00:20::5/64".parse().unwrap()).unwrap();
        let left = agree("after delete", || ip_addrs(None, "a0"), || nl_addrs(&nl, "a0"));
        assert_eq!(left, set(&["10.20.0.5/24", "10.20.0.6/24"]));
        let err = nl.delete_address("a0", "192.168.7.1/30".parse().unwrap()).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EADDRNOTAVAIL), "{err:?}");

        // Flush: v4 (primary + secondary) and v6.
        nl.add_address_with("a0", "fd00:21::5/64".parse().unwrap(), v6_opts).unwrap();
        nl.add_address("a0", "172.16.9.9/16".parse().unwrap()).unwrap();
        let before = ip_addrs(None, "a0").len();
        assert_eq!(before, 4);
        let n = nl.flush_addresses("a0").unwrap();
        assert!(ip_addrs(None, "a0").is_empty(), "flush left {:?}", ip_addrs(None, "a0"));
        assert!(nl.link_addresses("a0").unwrap().is_empty());
        // Deleting a primary IPv4 address takes its secondaries along, so
        // the count is at least the others plus one.
        assert!((before - 1..=before).contains(&n), "flush reported {n} of {before}");
        assert_eq!(nl.flush_addresses("a0").unwrap(), 0);
        // Flushing a0 left a1 alone.
        assert!(ip_addrs(None, "a1").iter().all(|a| a.starts_with("fe80:")));
    });
}

#[test]
fn flush_counts_every_address_it_removed() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        address_lab(&nl);
        // No secondaries: each address is deleted by its own request.
        for n in ["10.21.0.1/24", "10.22.0.1/24", "fd00:22::1/64"] {
            nl.add_address("a0", n.parse().unwrap()).unwrap();
        }
        assert_eq!(nl.flush_addresses("a0").unwrap(), 3);
        assert!(ip_addrs(None, "a0").is_empty());
    });
}

/// `flush_addresses` documents that it "returns how many were removed".
/// Deleting a primary IPv4 address makes the kernel remove its secondaries
/// too (promote_secondaries is off in a new namespace); those are removed
/// by the flush all the same and must be counted.
#[test]
fn flush_count_includes_secondaries_removed_with_their_primary() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        address_lab(&nl);
        for n in ["10.27.0.1/24", "10.27.0.2/24", "10.28.0.1/24"] {
            nl.add_address("a0", n.parse().unwrap()).unwrap();
        }
        let o = ip_addr_info(None, "a0", "10.27.0.2");
        assert!(o.at("secondary").truth(), "{o:?}");
        let before = ip_addrs(None, "a0").len();
        assert_eq!(before, 3);
        let n = nl.flush_addresses("a0").unwrap();
        assert!(ip_addrs(None, "a0").is_empty());
        assert_eq!(n, before, "flush removed {before} addresses but reported {n}");
    });
}

#[test]
fn adding_an_existing_address_is_eexist_and_changes_nothing() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        address_lab(&nl);
        let opts = AddressOptions::default().flags(AddressFlags::NODAD);
        nl.add_address("a0", "10.23.0.1/24".parse().unwrap()).unwrap();
        nl.add_address_with("a0", "fd00:23::1/64".parse().unwrap(), opts).unwrap();
        let before = ip_json(&["addr", "show"]);
        let err = nl.add_address("a0", "10.23.0.1/24".parse().unwrap()).unwrap_err();
        assert!(err.is_already_exists(), "{err:?}");
        let err = nl.add_address_with("a0", "fd00:23::1/64".parse().unwrap(), opts).unwrap_err();
        assert!(err.is_already_exists(), "{err:?}");
        let after = ip_json(&["addr", "show"]);
        let strip = |v: &[Value]| -> Vec<BTreeSet<String>> {
            v.iter()
                .map(|l| {
                    l.at("addr_info")
                        .items()
                        .iter()
                        .map(|a| format!("{}/{}", a.at("local").text(), a.at("prefixlen").int()))
                        .collect()
                })
                .collect()
        };
        assert_eq!(strip(&after), strip(&before));
        assert_eq!(ip_addrs(None, "a0"), set(&["10.23.0.1/24", "fd00:23::1/64"]));
    });
}

#[test]
fn address_on_a_missing_link_is_not_found() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        VethPair::builder("a0", "eth0").peer_netns(&pod).create(&nl).unwrap();
        let before = nl.addresses().unwrap();
        let before_ip = ip_json(&["addr", "show"]);
        let net: IpNet = "10.24.0.1/24".parse().unwrap();
        for err in [
            nl.add_address("nosuch0", net).unwrap_err(),
            nl.add_address(999_999u32, net).unwrap_err(),
            // A link of another namespace is missing here.
            nl.add_address("eth0", net).unwrap_err(),
            nl.add_address("nosuch0", "fd00:24::1/64".parse().unwrap()).unwrap_err(),
            nl.delete_address("nosuch0", net).unwrap_err(),
            nl.link_addresses("nosuch0").unwrap_err(),
        ] {
            assert!(err.is_not_found(), "{err:?}");
        }
        assert!(nl.flush_addresses("nosuch0").unwrap_err().is_not_found());
        assert_eq!(nl.addresses().unwrap(), before);
        assert_eq!(ip_json(&["addr", "show"]), before_ip);
        assert!(ip_addrs(Some(&pod), "eth0").is_empty());
    });
}

#[test]
fn ipv6_nodad_address_is_not_tentative() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        address_lab(&nl);
        let nodad = AddressOptions::default().flags(AddressFlags::NODAD);
        nl.add_address_with("a0", "fd00:25::1/64".parse().unwrap(), nodad).unwrap();
        // Control: without nodad, DAD (about a second) is running.
        nl.add_address("a0", "fd00:26::1/64".parse().unwrap()).unwrap();
        let listed = nl.link_addresses("a0").unwrap();
        let find = |s: &str| listed.iter().find(|a| a.net.to_string() == s).unwrap().clone();
        let fast = ip_addr_info(None, "a0", "fd00:25::1");
        let slow = ip_addr_info(None, "a0", "fd00:26::1");
        assert!(!find("fd00:25::1/64").is_tentative());
        assert!(fast.get("tentative").is_none(), "{fast:?}");
        assert!(fast.at("nodad").truth(), "{fast:?}");
        assert!(find("fd00:26::1/64").is_tentative(), "control: DAD should be running");
        assert!(slow.at("tentative").truth(), "{slow:?}");
        // noprefixroute: the address without its connected route.
        let opts = AddressOptions::default().flags(AddressFlags::NOPREFIXROUTE);
        nl.add_address_with("a0", "10.29.0.1/24".parse().unwrap(), opts).unwrap();
        let o = ip_addr_info(None, "a0", "10.29.0.1");
        assert!(o.at("noprefixroute").truth(), "{o:?}");
        assert!(ip_json(&["-4", "route", "show", "10.29.0.0/24"]).is_empty());
        nl.add_address("a0", "10.31.0.1/24".parse().unwrap()).unwrap();
        assert_eq!(ip_json(&["-4", "route", "show", "10.31.0.0/24"]).len(), 1);
        // The nodad address is usable at once: bind to it.
        let sock = UdpSocket::bind("[fd00:25::1]:0").expect("bind to the nodad address");
        drop(sock);
    });
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

/// A route reduced to what both `ip -j route` and nslink report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RouteKey {
    dst: String,
    gateway: Option<String>,
    dev: Option<String>,
    table: u32,
    metric: u32,
    kind: String,
}

fn canonical_ip(s: &str) -> String {
    s.parse::<IpAddr>().unwrap_or_else(|_| panic!("not an address: {s}")).to_string()
}

/// Every route of both families, as `ip -j -4|-6 route show table all`.
fn ip_routes(ns: Option<&NetNs>) -> BTreeSet<RouteKey> {
    let mut out = BTreeSet::new();
    for (fam, zero, host) in [("-4", "0.0.0.0/0", 32), ("-6", "::/0", 128)] {
        for r in ip_json_in(ns, &[fam, "route", "show", "table", "all"]) {
            let dst = r.at("dst").text();
            let dst = if dst == "default" {
                zero.to_owned()
            } else if let Some((a, len)) = dst.split_once('/') {
                format!("{}/{len}", canonical_ip(a))
            } else {
                format!("{}/{host}", canonical_ip(dst))
            };
            let table = match r.get("table").map(Value::text) {
                None | Some("main") => 254,
                Some("local") => 255,
                Some("default") => 253,
                Some(t) => t.parse().unwrap_or_else(|_| panic!("table {t}")),
            };
            out.insert(RouteKey {
                dst,
                gateway: r.get("gateway").map(|g| canonical_ip(g.text())),
                dev: r.get("dev").map(|d| d.text().to_owned()),
                table,
                metric: r.get("metric").map_or(0, |m| m.int() as u32),
                kind: r.get("type").map_or("unicast", Value::text).to_owned(),
            });
        }
    }
    out
}

fn nl_routes(nl: &RouteSocket) -> BTreeSet<RouteKey> {
    let names: BTreeMap<u32, String> =
        nl.links().unwrap().iter().map(|l| (l.index(), l.name().to_string())).collect();
    nl.routes()
        .unwrap()
        .into_iter()
        .map(|r| RouteKey {
            dst: r.dst.to_string(),
            gateway: r.gateway.map(|g| g.to_string()),
            dev: r.dev.map(|d| match d {
                nslink::LinkId::Index(i) => names[&i].clone(),
                nslink::LinkId::Name(n) => n.to_string(),
            }),
            table: r.table.id(),
            metric: r.metric.unwrap_or(0),
            kind: r.kind.to_string(),
        })
        .collect()
}

fn key(dst: &str, gw: Option<&str>, dev: &str, table: u32, metric: u32) -> RouteKey {
    RouteKey {
        dst: dst.into(),
        gateway: gw.map(str::to_owned),
        dev: Some(dev.into()),
        table,
        metric,
        kind: "unicast".into(),
    }
}

/// `r0` up with 10.30.0.1/24 and fd00:30::1/64, its peer up in `pod`.
fn route_lab(nl: &RouteSocket, pod: &NetNs) {
    VethPair::builder("r0", "eth0").peer_netns(pod).create(nl).unwrap();
    ip(&["link", "set", "dev", "r0", "addrgenmode", "none"]);
    nl.set_up("r0").unwrap();
    RouteSocket::open_in(pod).unwrap().set_up("eth0").unwrap();
    nl.add_address("r0", "10.30.0.1/24".parse().unwrap()).unwrap();
    let nodad = AddressOptions::default().flags(AddressFlags::NODAD);
    nl.add_address_with("r0", "fd00:30::1/64".parse().unwrap(), nodad).unwrap();
    // The kernel adds IPv6 routes of its own when the carrier comes up
    // (link-watch work, which can lag under load): let that happen before a
    // test takes its "before" picture.
    wait_oper_up(nl, "r0");
    // Even without DAD, fd00:30::1's local route is inserted by the
    // address's DAD work, which link-watch only queues once the carrier is
    // up: wait for the route itself (it was missing from "before" pictures
    // under load).
    let local: IpNet = "fd00:30::1/128".parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !nl.routes().unwrap().iter().any(|r| r.dst == local && r.table == RouteTable::Local) {
        assert!(Instant::now() < deadline, "no local route for fd00:30::1 after 10 s");
        thread::sleep(Duration::from_millis(2));
    }
}

fn ip_of(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn routes_add_replace_delete_and_list_agree_with_ip() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        route_lab(&nl, &pod);
        let base = agree("routes before", || ip_routes(None), || nl_routes(&nl));

        let default4 = Route::default_via(ip_of("10.30.0.254"));
        let device = Route::to("10.40.0.0/16".parse().unwrap()).dev("r0");
        let tabled = Route::to("10.50.0.0/16".parse().unwrap())
            .via(ip_of("10.30.0.254"))
            .table(RouteTable::Id(100))
            .metric(50);
        let big_table = Route::to("10.51.0.0/16".parse().unwrap())
            .dev("r0")
            .table(RouteTable::Id(1000))
            .metric(5);
        let v6 = Route::to("fd00:99::/64".parse().unwrap()).via(ip_of("fd00:30::fe"));
        let default6 = Route::default_via(ip_of("fd00:30::fe")).metric(300);
        let with_src = Route::to("10.41.0.0/16".parse().unwrap()).dev("r0").src(ip_of("10.30.0.1"));
        for r in [&default4, &device, &tabled, &big_table, &v6, &default6, &with_src] {
            nl.add_route(r).unwrap_or_else(|e| panic!("{r:?}: {e}"));
        }
        let now = agree("routes after add", || ip_routes(None), || nl_routes(&nl));
        let added: BTreeSet<RouteKey> = now.difference(&base).cloned().collect();
        assert_eq!(
            added,
            BTreeSet::from([
                key("0.0.0.0/0", Some("10.30.0.254"), "r0", 254, 0),
                key("10.40.0.0/16", None, "r0", 254, 0),
                key("10.41.0.0/16", None, "r0", 254, 0),
                key("10.50.0.0/16", Some("10.30.0.254"), "r0", 100, 50),
                key("10.51.0.0/16", None, "r0", 1000, 5),
                key("fd00:99::/64", Some("fd00:30::fe"), "r0", 254, 1024),
                key("::/0", Some("fd00:30::fe"), "r0", 254, 300),
            ])
        );
        // What plain `ip route` (main table) shows, field by field.
        let main = ip_json(&["-4", "route", "show"]);
        let dflt = main.iter().find(|r| r.at("dst").text() == "default").unwrap();
        assert_eq!(dflt.at("gateway").text(), "10.30.0.254");
        let dev = main.iter().find(|r| r.at("dst").text() == "10.40.0.0/16").unwrap();
        assert_eq!(dev.at("scope").text(), "link");
        assert!(dev.get("gateway").is_none());
        let src = main.iter().find(|r| r.at("dst").text() == "10.41.0.0/16").unwrap();
        assert_eq!(src.at("prefsrc").text(), "10.30.0.1");
        let t100 = ip_json(&["-4", "route", "show", "table", "100"]);
        assert_eq!(t100.len(), 1, "{t100:?}");
        assert_eq!(t100[0].at("metric").int(), 50);
        let listed = nl.routes().unwrap();
        let mine = listed.iter().find(|r| r.dst.to_string() == "10.40.0.0/16").unwrap();
        assert_eq!(mine.scope, Some(RouteScope::Link));
        assert!(mine.is_main());
        let mine = listed.iter().find(|r| r.dst.to_string() == "10.41.0.0/16").unwrap();
        assert_eq!(mine.src, Some(ip_of("10.30.0.1")));
        let mine = listed.iter().find(|r| r.dst.to_string() == "0.0.0.0/0").unwrap();
        assert_eq!(
            (mine.gateway, mine.scope),
            (Some(ip_of("10.30.0.254")), Some(RouteScope::Global))
        );
        assert!(!listed.iter().find(|r| r.table == RouteTable::Id(100)).unwrap().is_main());

        // Replace the default gateway (one default route remains).
        nl.replace_route(&Route::default_via(ip_of("10.30.0.253"))).unwrap();
        let defaults: Vec<String> = ip_json(&["-4", "route", "show", "default"])
            .iter()
            .map(|r| r.at("gateway").text().to_owned())
            .collect();
        assert_eq!(defaults, ["10.30.0.253"]);
        // Replace also creates.
        let fresh = Route::to("10.60.0.0/16".parse().unwrap()).dev("r0");
        nl.replace_route(&fresh).unwrap();
        let now = agree("routes after replace", || ip_routes(None), || nl_routes(&nl));
        assert!(now.contains(&key("0.0.0.0/0", Some("10.30.0.253"), "r0", 254, 0)));
        assert!(!now.contains(&key("0.0.0.0/0", Some("10.30.0.254"), "r0", 254, 0)));
        assert!(now.contains(&key("10.60.0.0/16", None, "r0", 254, 0)));
        // Adding an existing route is EEXIST.
        assert!(nl.add_route(&device).unwrap_err().is_already_exists());

        // Delete everything we added; the table is back to the start.
        let default4 = Route::default_via(ip_of("10.30.0.253"));
        for r in [&default4, &device, &tabled, &big_table, &v6, &default6, &fresh, &with_src] {
            nl.delete_route(r).unwrap_or_else(|e| panic!("delete {r:?}: {e}"));
        }
        assert_eq!(agree("routes after delete", || ip_routes(None), || nl_routes(&nl)), base);
        assert!(ip_json(&["-4", "route", "show", "table", "100"]).is_empty());
    });
}

#[test]
fn route_refusals_are_typed_and_add_nothing() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        route_lab(&nl, &pod);
        let base = agree("routes before", || ip_routes(None), || nl_routes(&nl));

        // A gateway no device can reach: ENETUNREACH and the kernel's text,
        // which is what ip prints after "Error: ".
        let by_ip = ip_output_in(Here, &["route", "add", "10.61.0.0/16", "via", "192.0.2.1"]);
        assert!(!by_ip.status.success());
        let ip_text = String::from_utf8_lossy(&by_ip.stderr).trim().to_owned();
        let ip_text = ip_text.strip_prefix("Error: ").unwrap_or(&ip_text).trim_end_matches('.');
        let err = nl
            .add_route(&Route::to("10.61.0.0/16".parse().unwrap()).via(ip_of("192.0.2.1")))
            .unwrap_err();
        match &err {
            Error::Os { errno, extack, .. } => {
                assert_eq!(*errno, Errno::ENETUNREACH as i32, "{err:?}");
                let extack = extack.as_deref().expect("the kernel's message");
                assert_eq!(extack.trim_end_matches('.'), ip_text);
                assert!(err.to_string().contains(extack), "{err}");
            }
            _ => panic!("expected Error::Os: {err:?}"),
        }
        let err = nl.add_route(&Route::default_via(ip_of("192.0.2.1"))).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENETUNREACH), "{err:?}");

        // A gateway of the other family, both ways.
        let err = nl
            .add_route(&Route::to("10.62.0.0/16".parse().unwrap()).via(ip_of("fd00:30::fe")))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let err = nl
            .add_route(&Route::to("fd00:62::/64".parse().unwrap()).via(ip_of("10.30.0.254")))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        let err = nl
            .replace_route(&Route::to("10.62.0.0/16".parse().unwrap()).via(ip_of("fd00::1")))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");

        // Deleting what is not there: ESRCH, "not found".
        let missing = [
            Route::to("10.63.0.0/16".parse().unwrap()).dev("r0"),
            Route::to("fd00:63::/64".parse().unwrap()).via(ip_of("fd00:30::fe")),
        ];
        for r in &missing {
            let err = nl.delete_route(r).unwrap_err();
            assert!(err.is_not_found(), "{err:?}");
            assert_eq!(err.errno(), Some(Errno::ESRCH), "{err:?}");
        }
        // A route that exists in table 100 is not in main.
        let t100 = Route::to("10.64.0.0/16".parse().unwrap()).dev("r0").table(RouteTable::Id(100));
        nl.add_route(&t100).unwrap();
        let in_main = Route::to("10.64.0.0/16".parse().unwrap()).dev("r0");
        assert_eq!(nl.delete_route(&in_main).unwrap_err().errno(), Some(Errno::ESRCH));
        nl.delete_route(&t100).unwrap();
        // A route through a missing device.
        let err = nl.add_route(&Route::to("10.65.0.0/16".parse().unwrap()).dev("nosuch0"));
        assert!(err.unwrap_err().is_not_found());

        assert_eq!(agree("routes after refusals", || ip_routes(None), || nl_routes(&nl)), base);
    });
}

// ---------------------------------------------------------------------------
// Sysctl
// ---------------------------------------------------------------------------

/// `ip netns exec NAME sysctl -n KEY`.
fn sysctl_n(ns_name: &str, key: &str) -> String {
    run_in(ns_name, "sysctl", &["-n", key]).trim().to_owned()
}

fn host_value(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

#[test]
fn sysctl_ip_forward_is_read_and_written_in_its_namespace_only() {
    common::require_root();
    // This thread never leaves the host's namespace.
    let host_before = host_value("/proc/sys/net/ipv4/ip_forward");
    sandbox(|| {
        let sandbox_before = host_value("/proc/sys/net/ipv4/ip_forward");
        let ns = NetNs::create("sys-a").unwrap();
        let key = "net.ipv4.ip_forward";
        assert_eq!(ns.sysctl(key).unwrap(), sysctl_n("sys-a", key));
        assert_eq!(ns.sysctl(key).unwrap(), "0", "a new namespace does not forward");

        assert_eq!(
            ns.set_sysctl(key, "1").unwrap().as_deref(),
            Some("0"),
            "write returns the previous value"
        );
        assert_eq!(sysctl_n("sys-a", key), "1");
        assert_eq!(nslink::sysctl::read(&ns, key).unwrap(), "1");
        assert_eq!(
            nslink::sysctl::write(&ns, key, "1").unwrap().as_deref(),
            Some("1"),
            "unchanged write"
        );
        assert_eq!(sysctl_n("sys-a", "net/ipv4/ip_forward"), "1");
        // Other namespaces: the sandbox's own and a second one.
        assert_eq!(host_value("/proc/sys/net/ipv4/ip_forward"), sandbox_before);
        let other = NetNs::create("sys-b").unwrap();
        assert_eq!(sysctl_n("sys-b", key), "0");
        assert_eq!(other.sysctl(key).unwrap(), "0");

        assert_eq!(ns.set_sysctl(key, "0").unwrap().as_deref(), Some("1"));
        assert_eq!(sysctl_n("sys-a", key), "0");
        // A malformed value is refused before anything is written.
        let err = ns.set_sysctl(key, "1\n0").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
        assert_eq!(sysctl_n("sys-a", key), "0");
    });
    assert_eq!(host_value("/proc/sys/net/ipv4/ip_forward"), host_before, "the host changed");
}

#[test]
fn sysctl_per_interface_keys_dotted_and_slashed() {
    common::require_root();
    let host_eth0 = "/proc/sys/net/ipv6/conf/eth0/accept_ra";
    let host_before = std::fs::read_to_string(host_eth0).ok();
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let ns = NetNs::create("sys-c").unwrap();
        VethPair::builder("eth0", "v.1").netns(&ns).peer_netns(&ns).create(&nl).unwrap();
        assert_eq!(names(&ip_links(Some(&ns))), ["eth0", "lo", "v.1"]);

        // Dotted form, an interface that also exists (as a different
        // device) on the host.
        let key = "net.ipv6.conf.eth0.accept_ra";
        let was = sysctl_n("sys-c", key);
        assert_eq!(ns.sysctl(key).unwrap(), was);
        let new = if was == "2" { "0" } else { "2" };
        assert_eq!(ns.set_sysctl(key, new).unwrap(), Some(was.clone()));
        assert_eq!(sysctl_n("sys-c", key), new);
        assert_eq!(ns.sysctl(key).unwrap(), new);

        // Slash form for a name with a dot.
        let key = "net/ipv6/conf/v.1/accept_ra";
        let was = sysctl_n("sys-c", key);
        assert_eq!(ns.sysctl(key).unwrap(), was);
        assert_eq!(ns.set_sysctl(key, "0").unwrap(), Some(was.clone()));
        assert_eq!(sysctl_n("sys-c", key), "0");
        let cat = run_in(&ns, "cat", &["/proc/sys/net/ipv6/conf/v.1/accept_ra"]);
        assert_eq!(cat.trim(), "0");
        // Only v.1 changed.
        assert_eq!(sysctl_n("sys-c", "net/ipv6/conf/eth0/accept_ra"), new);
        assert_eq!(sysctl_n("sys-c", "net.ipv6.conf.lo.accept_ra"), was);
        // In dotted form the dot splits the name: a key that is not there.
        let err = ns.sysctl("net.ipv6.conf.v.1.accept_ra").unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
    });
    assert_eq!(std::fs::read_to_string(host_eth0).ok(), host_before, "the host's eth0 changed");
}

#[test]
fn sysctl_unknown_key_is_not_found() {
    sandbox(|| {
        let ns = NetNs::new().unwrap();
        for key in ["net.ipv4.no_such_setting", "net/ipv6/conf/nosuch0/accept_ra"] {
            let err = ns.sysctl(key).unwrap_err();
            assert!(err.is_not_found(), "{key}: {err:?}");
            let err = ns.set_sysctl(key, "1").unwrap_err();
            assert!(err.is_not_found(), "{key}: {err:?}");
        }
        assert!(!std::path::Path::new("/proc/sys/net/ipv4/no_such_setting").exists());
    });
}

#[test]
fn sysctl_traversing_or_foreign_keys_are_invalid_names_and_touch_nothing() {
    sandbox(|| {
        // A private UTS namespace, so that even a broken key check could
        // only ever reach this thread's hostname.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUTS).expect("unshare UTS");
        std::fs::write("/proc/sys/kernel/hostname", "nslink-sentinel").unwrap();
        // A file a traversal out of /proc/sys would reach.
        struct RemoveOnDrop(String);
        impl Drop for RemoveOnDrop {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
        let sentinel = format!("/tmp/nslink-pod-sentinel-{}", std::process::id());
        std::fs::write(&sentinel, "original").unwrap();
        let _cleanup = RemoveOnDrop(sentinel.clone());
        let escape = format!("net/../../..{sentinel}");
        let ns = NetNs::new().unwrap();
        let before_fwd = ns.sysctl("net.ipv4.ip_forward").unwrap();

        let keys = [
            "net/../kernel/hostname",
            "net.ipv4.../x",
            "kernel.hostname",
            "kernel/hostname",
            "net/ipv4/../../kernel/hostname",
            "../kernel/hostname",
            "/proc/sys/kernel/hostname",
            "net.ipv4..ip_forward",
            "net/ipv4/./ip_forward",
            escape.as_str(),
            "",
        ];
        for key in keys {
            let err = ns.sysctl(key).unwrap_err();
            assert!(matches!(err, Error::Parse(ParseError::SysctlKey(_))), "read {key:?}: {err:?}");
            let err = ns.set_sysctl(key, "pwned").unwrap_err();
            assert!(
                matches!(err, Error::Parse(ParseError::SysctlKey(_))),
                "write {key:?}: {err:?}"
            );
            assert!(nslink::sysctl::key_path(key).is_err(), "{key:?}");
        }
        assert_eq!(host_value("/proc/sys/kernel/hostname").trim(), "nslink-sentinel");
        assert_eq!(std::fs::read_to_string(&sentinel).unwrap(), "original");
        assert_eq!(ns.sysctl("net.ipv4.ip_forward").unwrap(), before_fwd);
    });
}

// ---------------------------------------------------------------------------
// A mini pod network
// ---------------------------------------------------------------------------

fn pod_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 244, 1, 10 + i as u8)
}

const NODE_IP: Ipv4Addr = Ipv4Addr::new(10, 244, 1, 1);

/// Waits (up to 10 s) until `dev` is operationally up.
fn wait_oper_up(nl: &RouteSocket, dev: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let state = nl.require_link(dev).unwrap().operstate();
        if state == nslink::OperState::Up {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{dev} stayed {state:?}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// `ip netns exec FROM ping -c1 -W2 TO`.
fn ping(from: &str, to: Ipv4Addr) {
    let to = to.to_string();
    let out = common::output_in(from, "ping", &["-c1", "-W2", &to]);
    assert!(
        out.status.success(),
        "ping {from} -> {to} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A UDP round trip from a socket opened in `from` to one opened in `to`.
/// Returns (the source the receiver saw, the sender's own address as it
/// sees it, the source of the reply the sender saw).
fn udp_exchange(from: &NetNs, to: &NetNs, to_ip: Ipv4Addr) -> (SocketAddr, SocketAddr, SocketAddr) {
    let rx = to.run(|| UdpSocket::bind((to_ip, 0))).unwrap().expect("bind receiver");
    let dest = rx.local_addr().unwrap();
    let tx = from
        .run(|| {
            let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
            s.connect(dest)?;
            Ok::<_, std::io::Error>(s)
        })
        .unwrap()
        .expect("sender socket");
    let own = tx.local_addr().unwrap();
    for s in [&rx, &tx] {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    tx.send(b"hello").unwrap();
    let mut buf = [0u8; 64];
    let (n, seen) = rx.recv_from(&mut buf).expect("receiver got nothing");
    assert_eq!(&buf[..n], b"hello");
    rx.send_to(seen.to_string().as_bytes(), seen).unwrap();
    let (n, reply_from) = tx.recv_from(&mut buf).expect("sender got no reply");
    assert_eq!(std::str::from_utf8(&buf[..n]).unwrap(), seen.to_string());
    (seen, own, reply_from)
}

#[test]
fn pod_network_pods_and_node_reach_each_other_without_nat() {
    sandbox(|| {
        let node = NetNs::create("node").unwrap();
        let nl_node = RouteSocket::open_in(&node).unwrap();
        nl_node.set_up("lo").unwrap();
        let br = Bridge::builder("cni0")
            .stp(false)
            .mac(mac("02:42:0a:f4:01:01"))
            .up()
            .create(&nl_node)
            .unwrap();
        nl_node.add_address("cni0", "10.244.1.1/24".parse().unwrap()).unwrap();

        let mut pods = Vec::new();
        for i in 0..3 {
            let name = format!("pod{i}");
            let pod = NetNs::create(name.as_str()).unwrap();
            VethPair::builder(format!("veth{i}"), "eth0")
                .peer_netns(&pod)
                .master(br.index())
                .up()
                .create(&nl_node)
                .unwrap();
            let nl = RouteSocket::open_in(&pod).unwrap();
            nl.set_up("lo").unwrap();
            nl.set_up("eth0").unwrap();
            nl.add_address("eth0", IpNet::new(pod_ip(i).into(), 24).unwrap()).unwrap();
            nl.add_route(&Route::default_via(NODE_IP.into())).unwrap();
            pods.push((name, pod));
        }

        // The network as the tools see it.
        let ports = bridge_ports(Some(&node));
        assert_eq!(ports.len(), 3, "{ports:?}");
        assert!(ports.values().all(|m| m == "cni0"), "{ports:?}");
        for (i, (name, pod)) in pods.iter().enumerate() {
            let v4: BTreeSet<String> =
                ip_addrs(Some(pod), "eth0").into_iter().filter(|a| !a.contains(':')).collect();
            assert_eq!(v4, set(&[&format!("{}/24", pod_ip(i))]));
            let routes = ip_json_in(name.as_str(), &["-4", "route", "show"]);
            let d = routes.iter().find(|r| r.at("dst").text() == "default").expect("default");
            assert_eq!(d.at("gateway").text(), "10.244.1.1");
            assert_eq!(d.at("dev").text(), "eth0");
        }

        // The kernel attaches a device's queue (and reports it UP) only when
        // its link-watch work has run, which under load can lag the `up`
        // request by a second: until then, sending fails with ENOBUFS.
        // Wait for every end to be operationally up before any traffic.
        for i in 0..pods.len() {
            wait_oper_up(&nl_node, &format!("veth{i}"));
        }
        for (_, pod) in &pods {
            wait_oper_up(&RouteSocket::open_in(pod).unwrap(), "eth0");
        }

        // ping: node -> pod, pod -> node, pod -> pod.
        for (i, (name, _)) in pods.iter().enumerate() {
            ping("node", pod_ip(i));
            ping(name, NODE_IP);
            for j in 0..pods.len() {
                if i != j {
                    ping(name, pod_ip(j));
                }
            }
        }

        // UDP: each receiver sees the sender's own pod IP (no NAT), and
        // that is the address the sender sees for itself.
        for (i, (_, from)) in pods.iter().enumerate() {
            for (j, (_, to)) in pods.iter().enumerate() {
                if i == j {
                    continue;
                }
                let (seen, own, reply) = udp_exchange(from, to, pod_ip(j));
                assert_eq!(seen.ip(), IpAddr::from(pod_ip(i)), "pod{i} -> pod{j}");
                assert_eq!(seen, own, "pod{i} -> pod{j}: the receiver saw another address");
                assert_eq!(reply.ip(), IpAddr::from(pod_ip(j)), "pod{j} -> pod{i} reply");
            }
            let (seen, own, _) = udp_exchange(&node, from, pod_ip(i));
            assert_eq!(seen.ip(), IpAddr::from(NODE_IP), "node -> pod{i}");
            assert_eq!(seen, own);
            let (seen, own, _) = udp_exchange(from, &node, NODE_IP);
            assert_eq!(seen.ip(), IpAddr::from(pod_ip(i)), "pod{i} -> node");
            assert_eq!(seen, own);
        }

        // TCP, node -> each pod: the pod's accept() sees the node's address.
        for (i, (_, pod)) in pods.iter().enumerate() {
            let listener = pod.run(|| TcpListener::bind((pod_ip(i), 0))).unwrap().unwrap();
            let dest = listener.local_addr().unwrap();
            let mut client = node
                .run(|| TcpStream::connect_timeout(&dest, Duration::from_secs(5)))
                .unwrap()
                .expect("connect node -> pod");
            let (mut conn, peer) = listener.accept().unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(peer.ip(), IpAddr::from(NODE_IP));
            client.write_all(b"ping").unwrap();
            let mut got = [0u8; 4];
            conn.read_exact(&mut got).unwrap();
            assert_eq!(&got, b"ping");
        }
    });
}
