//! `nslink::ethtool` against the `ethtool` and `ip` programs.
//!
//! Every test runs inside [`common::sandbox`] (a private network and mount
//! namespace, on its own thread) and creates the devices it needs there;
//! the host's devices and namespaces are never touched. The tests need root
//! and fail (never skip) without it.
//!
//! The oracles are the `ethtool` program (`-k`, `-i`, `-S`) and `ip -j link`,
//! run as children of the sandbox thread.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::OwnedFd;

use common::{JsonExt as _, ip, ip_json, output, run_ok, sandbox};
use nslink::ethtool::{self, Feature};
use nslink::{Errno, IfName, Op};

fn ifname(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

/// veth pair `a`/`b` and bridge `br` in the current (private) namespace.
fn make_devices(a: &str, b: &str, br: &str) {
    ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
    ip(&["link", "add", br, "type", "bridge"]);
}

/// (major, minor) of the running kernel.
fn kernel_version() -> (u32, u32) {
    let rel = nix::sys::utsname::uname().unwrap().release().to_string_lossy().into_owned();
    let mut it = rel.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

// ---------------------------------------------------------------------------
// ethtool -k

/// One line of `ethtool -k DEV`.
#[derive(Debug, Clone)]
struct KLine {
    indented: bool,
    name: String,
    active: bool,
    fixed: bool,
    /// `[requested on]` / `[requested off]`.
    requested: Option<bool>,
}

fn ethtool_k(dev: &str) -> Vec<KLine> {
    let out = run_ok("ethtool", &["-k", dev]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(format!("Features for {dev}:").as_str()), "{out}");
    lines
        .map(|l| {
            let indented = l.starts_with('\t');
            let (name, rest) = l.trim().split_once(": ").unwrap_or_else(|| panic!("line {l:?}"));
            let (state, suffix) = rest.split_once(' ').unwrap_or((rest, ""));
            let active = match state {
                "on" => true,
                "off" => false,
                _ => panic!("state in {l:?}"),
            };
            let (fixed, requested) = match suffix {
                "" => (false, None),
                "[fixed]" => (true, None),
                "[requested on]" => (false, Some(true)),
                "[requested off]" => (false, Some(false)),
                _ => panic!("suffix in {l:?}"),
            };
            KLine { indented, name: name.to_owned(), active, fixed, requested }
        })
        .collect()
}

/// `ethtool -k` prints a legacy group name instead of the kernel's name when
/// only one kernel feature belongs to the group.
const LEGACY_SINGLE: &[(&str, &str)] = &[
    ("rx-checksumming", "rx-checksum"),
    ("generic-segmentation-offload", "tx-generic-segmentation"),
    ("generic-receive-offload", "rx-gro"),
    ("large-receive-offload", "rx-lro"),
    ("rx-vlan-offload", "rx-vlan-hw-parse"),
    ("tx-vlan-offload", "tx-vlan-hw-insert"),
    ("ntuple-filters", "rx-ntuple-filter"),
    ("receive-hashing", "rx-hashing"),
];
/// Legacy group names that head several indented kernel features.
const LEGACY_GROUPS: &[&str] = &[
    "rx-checksumming",
    "tx-checksumming",
    "scatter-gather",
    "tcp-segmentation-offload",
    "udp-fragmentation-offload",
    "generic-segmentation-offload",
    "generic-receive-offload",
    "large-receive-offload",
    "rx-vlan-offload",
    "tx-vlan-offload",
    "ntuple-filters",
    "receive-hashing",
];

fn check_line(dev: &str, f: &Feature, l: &KLine) {
    let ctx = format!("{dev}: feature {:?} vs ethtool line {l:?}", f);
    assert_eq!(f.active, l.active, "active: {ctx}");
    assert_eq!(f.fixed, l.fixed, "fixed: {ctx}");
    assert_eq!(f.fixed, !f.available || l.fixed, "fixed implies the kernel's rule: {ctx}");
    if !f.fixed {
        assert_eq!(f.requested, l.requested.unwrap_or(f.active), "requested: {ctx}");
    }
}

/// `features(dev)` must describe exactly what `ethtool -k dev` prints: every
/// line is one of our features (or a legacy group header, whose value is the
/// OR of its members), and every feature is printed once.
fn compare_features(sock: &OwnedFd, dev: &str) -> Vec<Feature> {
    let ours = ethtool::features(sock, &ifname(dev)).unwrap();
    assert!(ours.len() > 30, "{dev}: only {} features", ours.len());
    let by_name: BTreeMap<&str, &Feature> = ours.iter().map(|f| (f.name.as_str(), f)).collect();
    assert_eq!(by_name.len(), ours.len(), "{dev}: duplicate feature names");
    let lines = ethtool_k(dev);
    let mut covered = BTreeSet::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        assert!(!l.indented, "{dev}: indented line without a header: {l:?}");
        let members: Vec<&KLine> = lines[i + 1..].iter().take_while(|m| m.indented).collect();
        if !members.is_empty() {
            assert!(LEGACY_GROUPS.contains(&l.name.as_str()), "{dev}: unknown group {l:?}");
            let mut any = false;
            for m in &members {
                let f = by_name.get(m.name.as_str()).unwrap_or_else(|| {
                    panic!("{dev}: ethtool -k shows {:?}, features() lacks it", m.name)
                });
                check_line(dev, f, m);
                any |= f.active;
                assert!(covered.insert(m.name.clone()), "{dev}: {:?} twice", m.name);
            }
            assert_eq!(l.active, any, "{dev}: group {l:?} is the OR of its members");
            i += 1 + members.len();
            continue;
        }
        let alias = LEGACY_SINGLE.iter().find(|(long, _)| *long == l.name).map(|(_, k)| *k);
        let target = if by_name.contains_key(l.name.as_str()) {
            Some(l.name.as_str())
        } else {
            alias.filter(|k| by_name.contains_key(k))
        };
        match target {
            Some(k) => {
                check_line(dev, by_name[k], l);
                assert!(covered.insert(k.to_owned()), "{dev}: {k:?} twice");
            }
            // A legacy group with no kernel feature at all: "NAME: off".
            None if LEGACY_GROUPS.contains(&l.name.as_str()) => {
                assert!(!l.active && !l.fixed && l.requested.is_none(), "{dev}: {l:?}");
            }
            None => panic!("{dev}: ethtool -k shows {:?}, features() lacks it", l.name),
        }
        i += 1;
    }
    let all: BTreeSet<String> = by_name.keys().map(|s| s.to_string()).collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(missing.is_empty(), "{dev}: features() has {missing:?}, ethtool -k does not show them");
    ours
}

#[test]
fn features_match_ethtool_k_for_lo_veth_and_bridge() {
    sandbox(|| {
        make_devices("fva", "fvb", "fbr");
        let sock = ethtool::control_socket().unwrap();
        let get = |v: &[Feature], n: &str| v.iter().find(|f| f.name == n).cloned().unwrap();
        let lo = compare_features(&sock, "lo");
        let veth = compare_features(&sock, "fva");
        let br = compare_features(&sock, "fbr");
        // Without scatter-gather the kernel turns the segmentation offloads
        // off but keeps them requested: `ethtool -k` shows "[requested on]".
        run_ok("ethtool", &["-K", "fvb", "sg", "off"]);
        let no_sg = compare_features(&sock, "fvb");
        let pending: Vec<_> = no_sg.iter().filter(|f| f.requested && !f.active).collect();
        assert!(
            pending.iter().any(|f| f.name == "tx-tcp-segmentation"),
            "requested but not active: {pending:?}"
        );
        assert!(!get(&no_sg, "tx-scatter-gather").requested);
        // A few facts that hold on every kernel with named features.
        assert!(get(&lo, "loopback").active && get(&lo, "loopback").fixed);
        assert!(!get(&veth, "loopback").active);
        assert!(!get(&br, "loopback").active);
        // Same kernel, same feature table, whatever the device.
        let names = |v: &[Feature]| v.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&lo), names(&veth));
        assert_eq!(names(&lo), names(&br));
    });
}

#[test]
fn feature_looks_up_one_kernel_name() {
    sandbox(|| {
        make_devices("kva", "kvb", "kbr");
        let sock = ethtool::control_socket().unwrap();
        assert_eq!(ethtool::feature(&sock, &ifname("lo"), "loopback").unwrap(), Some(true));
        assert_eq!(ethtool::feature(&sock, &ifname("kva"), "loopback").unwrap(), Some(false));
        assert_eq!(ethtool::feature(&sock, &ifname("kbr"), "no-such-feature").unwrap(), None);
        // Legacy ethtool group names are not kernel features.
        assert_eq!(ethtool::feature(&sock, &ifname("lo"), "tx-checksumming").unwrap(), None);
        // Every feature agrees with the list.
        for f in ethtool::features(&sock, &ifname("kva")).unwrap() {
            let one = ethtool::feature(&sock, &ifname("kva"), &f.name).unwrap();
            assert_eq!(one, Some(f.active), "{}", f.name);
        }
    });
}

#[test]
fn netns_local_matches_ethtool_k_on_this_kernel() {
    let (major, minor) = kernel_version();
    let seen = sandbox(|| {
        make_devices("nva", "nvb", "nbr");
        let sock = ethtool::control_socket().unwrap();
        let mut seen = Vec::new();
        // (device, what a kernel with the feature must say)
        for (dev, expected) in [("lo", true), ("nbr", true), ("nva", false), ("nvb", false)] {
            let ours = ethtool::netns_local(&sock, &ifname(dev)).unwrap();
            let line = ethtool_k(dev).into_iter().find(|l| l.name == "netns-local");
            match &line {
                None => assert_eq!(ours, None, "{dev}: ethtool -k has no netns-local line"),
                Some(l) => {
                    assert!(l.fixed, "{dev}: netns-local is always [fixed]: {l:?}");
                    assert_eq!(ours, Some(l.active), "{dev}: ethtool -k says {l:?}");
                    assert_eq!(
                        ours,
                        Some(expected),
                        "{dev}: netns-local on kernel {major}.{minor}"
                    );
                }
            }
            seen.push((dev, line.is_some(), ours));
        }
        seen
    });
    eprintln!(
        "kernel {major}.{minor}: (device, ethtool shows netns-local, netns_local()) {seen:?}"
    );
    let has_line = seen.iter().any(|(_, l, _)| *l);
    assert!(seen.iter().all(|(_, l, _)| *l == has_line), "the string set is per kernel: {seen:?}");
    // The fact about this kernel: the string was removed in ~6.12.
    if (major, minor) < (6, 11) {
        assert!(has_line, "kernel {major}.{minor} should still name netns-local");
    } else if (major, minor) >= (6, 13) {
        assert!(!has_line, "kernel {major}.{minor} should no longer name netns-local");
        assert!(seen.iter().all(|(_, _, ours)| ours.is_none()));
    }
    if std::env::var_os("OLDKERNEL_RUN_GUEST").is_some() {
        assert!(has_line, "the old-kernel VM runs 6.1, which names netns-local");
    }
}

// ---------------------------------------------------------------------------
// ethtool -i

fn ethtool_i(dev: &str) -> Result<BTreeMap<String, String>, String> {
    let out = output("ethtool", &["-i", dev]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect())
}

#[test]
fn driver_info_matches_ethtool_i() {
    sandbox(|| {
        make_devices("iva", "ivb", "ibr");
        let sock = ethtool::control_socket().unwrap();
        for dev in ["lo", "iva", "ibr"] {
            let ours = ethtool::driver_info(&sock, &ifname(dev));
            match ethtool_i(dev) {
                Err(msg) => {
                    // `lo` has no driver to ask: "Operation not supported".
                    let err = ours.expect_err(dev);
                    assert_eq!(err.errno(), Some(Errno::EOPNOTSUPP), "{dev}: {err} vs {msg}");
                    assert!(msg.contains("Operation not supported"), "{dev}: {msg}");
                }
                Ok(theirs) => {
                    let info = ours.unwrap_or_else(|e| panic!("{dev}: {e}"));
                    let yes = |n: u32| if n > 0 { "yes" } else { "no" }.to_owned();
                    let mine: BTreeMap<String, String> = [
                        ("driver", info.driver.clone()),
                        ("version", info.version.clone()),
                        ("firmware-version", info.fw_version.clone()),
                        ("expansion-rom-version", info.erom_version.clone()),
                        ("bus-info", info.bus_info.clone()),
                        ("supports-statistics", yes(info.n_stats)),
                        ("supports-test", yes(info.testinfo_len)),
                        ("supports-eeprom-access", yes(info.eedump_len)),
                        ("supports-register-dump", yes(info.regdump_len)),
                        ("supports-priv-flags", yes(info.n_priv_flags)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect();
                    assert_eq!(mine, theirs, "{dev}");
                }
            }
        }
        assert_eq!(ethtool::driver_info(&sock, &ifname("iva")).unwrap().driver, "veth");
        assert_eq!(ethtool::driver_info(&sock, &ifname("ibr")).unwrap().driver, "bridge");
    });
}

// ---------------------------------------------------------------------------
// ethtool -S

/// `ethtool -S DEV` as pairs; `None` when it says "no stats available".
fn ethtool_s(dev: &str) -> Option<Vec<(String, u64)>> {
    let out = output("ethtool", &["-S", dev]);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no stats available"), "ethtool -S {dev}: {err}");
        return None;
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("NIC statistics:"), "{text}");
    Some(
        lines
            .map(|l| {
                let (k, v) = l.trim().rsplit_once(": ").unwrap_or_else(|| panic!("line {l:?}"));
                (k.to_owned(), v.parse().unwrap_or_else(|_| panic!("value in {l:?}")))
            })
            .collect(),
    )
}

/// The `ifindex` of `ip -j link show dev DEV`.
fn ip_ifindex(dev: &str) -> u32 {
    ip_json(&["link", "show", "dev", dev])[0].at("ifindex").uint() as u32
}

#[test]
fn stats_match_ethtool_s() {
    sandbox(|| {
        make_devices("sva", "svb", "sbr");
        let sock = ethtool::control_socket().unwrap();
        for dev in ["lo", "sva", "svb", "sbr"] {
            let ours = ethtool::stats(&sock, &ifname(dev)).unwrap();
            match ethtool_s(dev) {
                // Devices are down and idle: the counters do not move.
                Some(theirs) => assert_eq!(ours, theirs, "{dev}"),
                None => assert!(ours.is_empty(), "{dev}: {ours:?}"),
            }
        }
        let veth = ethtool::stats(&sock, &ifname("sva")).unwrap();
        assert_eq!(veth.first().map(|(n, _)| n.as_str()), Some("peer_ifindex"));
        assert!(ethtool::stats(&sock, &ifname("sbr")).unwrap().is_empty());
    });
}

#[test]
fn veth_peer_index_matches_ethtool_s_and_ip_link() {
    sandbox(|| {
        make_devices("pva", "pvb", "pbr");
        let sock = ethtool::control_socket().unwrap();
        for (dev, peer) in [("pva", "pvb"), ("pvb", "pva")] {
            let ours = ethtool::veth_peer_index(&sock, &ifname(dev)).unwrap();
            let stat = ethtool_s(dev)
                .unwrap()
                .into_iter()
                .find(|(n, _)| n == "peer_ifindex")
                .map(|(_, v)| u32::try_from(v).unwrap());
            assert_eq!(ours, stat, "{dev}: ethtool -S");
            assert_eq!(ours, Some(ip_ifindex(peer)), "{dev}: ip -j link show dev {peer}");
        }
        assert_eq!(ethtool::veth_peer_index(&sock, &ifname("pbr")).unwrap(), None);
        assert_eq!(ethtool::veth_peer_index(&sock, &ifname("lo")).unwrap(), None);
    });
}

// ---------------------------------------------------------------------------
// errors and namespaces

#[test]
fn nonexistent_device_is_not_found() {
    sandbox(|| {
        let sock = ethtool::control_socket().unwrap();
        let nope = ifname("nope0");
        let errs = [
            ethtool::features(&sock, &nope).map(drop).unwrap_err(),
            ethtool::feature(&sock, &nope, "loopback").map(drop).unwrap_err(),
            ethtool::netns_local(&sock, &nope).map(drop).unwrap_err(),
            ethtool::driver_info(&sock, &nope).map(drop).unwrap_err(),
            ethtool::stats(&sock, &nope).map(drop).unwrap_err(),
            ethtool::veth_peer_index(&sock, &nope).map(drop).unwrap_err(),
        ];
        for e in errs {
            assert!(e.is_not_found(), "{e:?}");
            assert_eq!(e.errno(), Some(Errno::ENODEV), "{e:?}");
            assert_eq!(e.op(), Some(Op::Ethtool), "{e:?}");
            assert_eq!(
                e.to_string(),
                "ethtool link \"nope0\": not found (No such device (ENODEV))"
            );
        }
    });
}

#[test]
fn the_sockets_namespace_decides_which_device_a_name_means() {
    // Two private namespaces, each with a device called "same0": a veth in
    // one, a bridge in the other. The sockets outlive the threads (and keep
    // their namespaces alive), and are used from this test's own thread.
    let in_a = sandbox(|| {
        ip(&["link", "add", "same0", "type", "veth", "peer", "name", "other0"]);
        ethtool::control_socket().unwrap()
    });
    let in_b = sandbox(|| {
        ip(&["link", "add", "same0", "type", "bridge"]);
        ethtool::control_socket().unwrap()
    });
    let same = ifname("same0");
    assert_eq!(ethtool::driver_info(&in_a, &same).unwrap().driver, "veth");
    assert_eq!(ethtool::driver_info(&in_b, &same).unwrap().driver, "bridge");
    assert!(ethtool::veth_peer_index(&in_a, &same).unwrap().is_some());
    assert_eq!(ethtool::veth_peer_index(&in_b, &same).unwrap(), None);
    assert!(ethtool::driver_info(&in_b, &ifname("other0")).unwrap_err().is_not_found());
}
