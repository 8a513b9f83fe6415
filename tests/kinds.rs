//! Every kind of device through the one builder, both ways (issue 8's
//! proof): made by nslink and read by `ip -d -j link show`, made by `ip link
//! add` and read by nslink ([`Link::kind_options`]), option by option.
//!
//! Every test runs inside [`common::sandbox`] (a private network and mount
//! namespace). Kinds this host's kernel lacks (dummy, vlan, ipvlan, bond,
//! wireguard, geneve, vrf on the 6.18 development VM) must give the typed
//! [`Error::UnsupportedKind`] here, and nothing made; on Linux 6.1
//! (`oldkernel-run`, which sets `OLDKERNEL_RUN_GUEST`) every kind must be
//! there and the real checks run: such a test never passes by skipping.
//! Bad input is refused before anything is sent, on every kernel.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use nslink::{
    BondMode, BondOptions, BridgeOptions, Errno, Error, GeneveOptions, IpvlanIsolation, IpvlanMode,
    IpvlanOptions, KindOptions, Link, LinkBuilder, LinkFlags, LinkKind, MacvlanMode,
    MacvlanOptions, NetNs, Op, RouteSocket, VethOptions, VlanOptions, VlanProtocol, VrfOptions,
    VxlanOptions,
};
use serde_json::Value;

use common::{Here, JsonExt as _, Place, ip, ip_in, ip_json, ip_json_in, ip_output_in, sandbox};

/// Whether this runs in the 6.1 VM, where every kind must be there.
fn in_guest() -> bool {
    std::env::var_os("OLDKERNEL_RUN_GUEST").is_some()
}

/// `ip -d -j link show dev NAME` at `place`: the one object.
#[track_caller]
fn details_in(place: impl Place, name: &str) -> Value {
    let mut v = ip_json_in(place, &["-d", "link", "show", "dev", name]);
    assert_eq!(v.len(), 1, "ip -d -j link show dev {name}: {v:?}");
    v.remove(0)
}

#[track_caller]
fn details(name: &str) -> Value {
    details_in(Here, name)
}

/// `linkinfo.info_data` of an `ip -d -j` object.
#[track_caller]
fn info_data(o: &Value) -> &Value {
    o.at("linkinfo").at("info_data")
}

/// An optional boolean of `ip -j` (printed only when set, for some).
fn flag(o: &Value, key: &str) -> bool {
    o.get(key).is_some_and(|v| v.as_bool() == Some(true) || v.as_u64() == Some(1))
}

/// The names of the devices here, as `ip` sees them.
fn names_here() -> Vec<String> {
    common::ifnames(&ip_json(&["link", "show"]))
}

/// Creates with nslink. When the running kernel lacks the kind (never in
/// the 6.1 VM), checks the typed error and that nothing was made, and
/// returns `None`.
#[track_caller]
fn create_or_unsupported(nl: &RouteSocket, b: LinkBuilder<'_>, kind: LinkKind) -> Option<Link> {
    let before = names_here();
    match b.create(nl) {
        Ok(link) => {
            assert_eq!(link.kind(), &kind);
            Some(link)
        }
        Err(Error::UnsupportedKind { op, kind: k, errno, ref extack, .. }) => {
            assert!(!in_guest(), "Linux 6.1 with its modules has {kind} devices");
            assert_eq!((op, &k), (Op::CreateLink, &kind));
            assert_eq!(errno, Errno::EOPNOTSUPP as i32, "the kernel's own errno is kept");
            assert!(extack.as_deref().unwrap_or("").contains("Unknown device type"), "{extack:?}");
            assert_eq!(names_here(), before, "nothing made");
            None
        }
        Err(e) => panic!("create {kind}: {e}"),
    }
}

/// Runs `ip link add ARGS`; `false` when the kernel lacks the kind (only
/// outside the 6.1 VM).
#[track_caller]
fn ip_add_or_unsupported(args: &[&str]) -> bool {
    let mut full = vec!["link", "add"];
    full.extend_from_slice(args);
    let out = ip_output_in(Here, &full);
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!in_guest() && err.contains("Unknown device type"), "ip {full:?}: {err}");
    false
}

/// A veth pair `a`/`b` to serve as parents.
fn veth(nl: &RouteSocket, a: &str, b: &str) {
    LinkBuilder::veth(a, b).create(nl).unwrap();
}

fn index(nl: &RouteSocket, name: &str) -> u32 {
    nl.require_link(name).unwrap().index()
}

fn options(nl: &RouteSocket, name: &str) -> KindOptions {
    nl.require_link(name).unwrap().kind_options().unwrap().expect("typed options")
}

fn ipaddr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------
// Kinds this host has
// ---------------------------------------------------------------------------

#[test]
fn vxlan_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        veth(&nl, "ul0", "ul1");
        LinkBuilder::bridge("br0").create(&nl).unwrap();
        let sent = VxlanOptions {
            vni: Some(42),
            port: Some(4789),
            local: Some(ipaddr("10.1.1.2")),
            remote: Some(ipaddr("10.1.1.1")),
            group: None,
            underlay: None,
            learning: Some(false),
            ttl: Some(10),
            tos: Some(0x10),
            udp_csum: Some(true),
            udp_zero_csum6_tx: Some(true),
            udp_zero_csum6_rx: Some(true),
            l2miss: Some(true),
            l3miss: Some(true),
        };
        let vx = LinkBuilder::new("vx0", sent)
            .parent("ul0")
            .mtu(1400)
            .txqueuelen(500)
            .alias("overlay")
            .group(3)
            .master("br0")
            .up()
            .create(&nl)
            .unwrap();
        assert_eq!(vx.kind(), &LinkKind::Vxlan);
        let o = details("vx0");
        let d = info_data(&o);
        assert_eq!(o.at("linkinfo").at("info_kind").text(), "vxlan");
        assert_eq!(d.at("id").uint(), 42);
        assert_eq!(d.at("port").uint(), 4789);
        assert_eq!(d.at("local").text(), "10.1.1.2");
        assert_eq!(d.at("remote").text(), "10.1.1.1");
        assert_eq!(d.at("link").text(), "ul0");
        assert!(!d.at("learning").truth());
        assert_eq!(d.at("ttl").uint(), 10);
        assert!(d.at("udp_csum").truth());
        assert!(d.at("udp_zero_csum6_tx").truth());
        assert!(d.at("udp_zero_csum6_rx").truth());
        assert!(flag(d, "l2miss") && flag(d, "l3miss"));
        // The common options.
        assert_eq!(o.at("mtu").uint(), 1400);
        assert_eq!(o.at("txqlen").uint(), 500);
        assert_eq!(o.at("ifalias").text(), "overlay");
        assert_eq!(o.at("group").text(), "3");
        assert_eq!(o.at("master").text(), "br0");
        assert!(o.flags().contains("UP"));
        // Read back by nslink: what was sent, the underlay by index.
        let back = vx.kind_options().unwrap();
        let underlay = Some(index(&nl, "ul0"));
        assert_eq!(back, Some(KindOptions::Vxlan(VxlanOptions { underlay, ..sent })));
        let got = nl.require_link("vx0").unwrap();
        assert_eq!(got.kind_options().unwrap(), back, "a lookup reads the same");

        // The other way: made by ip, a multicast group, read by nslink.
        ip(&[
            "link",
            "add",
            "vx1",
            "type",
            "vxlan",
            "id",
            "7",
            "dstport",
            "8472",
            "group",
            "239.1.1.1",
            "dev",
            "ul1",
            "ttl",
            "5",
            "nolearning",
            "l3miss",
            "noudpcsum",
            "udp6zerocsumtx",
        ]);
        let o = details("vx1");
        let d = info_data(&o);
        let KindOptions::Vxlan(v) = options(&nl, "vx1") else { panic!("not a vxlan") };
        assert_eq!(v.vni, Some(d.at("id").uint() as u32));
        assert_eq!(v.port, Some(d.at("port").uint() as u16));
        assert_eq!(v.group, Some(ipaddr(d.at("group").text())));
        assert_eq!((v.remote, v.local), (None, None));
        assert_eq!(v.underlay, Some(index(&nl, d.at("link").text())));
        assert_eq!(v.ttl, Some(d.at("ttl").uint() as u8));
        assert_eq!(v.learning, Some(d.at("learning").truth()));
        assert_eq!(v.udp_csum, Some(d.at("udp_csum").truth()));
        assert_eq!(v.udp_zero_csum6_tx, Some(d.at("udp_zero_csum6_tx").truth()));
        assert_eq!(v.udp_zero_csum6_rx, Some(d.at("udp_zero_csum6_rx").truth()));
        assert_eq!(v.l2miss, Some(flag(d, "l2miss")));
        assert_eq!(v.l3miss, Some(flag(d, "l3miss")));
        assert_eq!(
            (v.vni, v.port, v.ttl, v.learning, v.l3miss, v.udp_csum),
            (Some(7), Some(8472), Some(5), Some(false), Some(true), Some(false))
        );

        // IPv6 both ways.
        let v6 = VxlanOptions {
            vni: Some(9),
            remote: Some(ipaddr("fd00::1")),
            local: Some(ipaddr("fd00::2")),
            ..Default::default()
        };
        LinkBuilder::new("vx6", v6).create(&nl).unwrap();
        let d = details("vx6");
        assert_eq!(info_data(&d).at("remote6").text(), "fd00::1");
        assert_eq!(info_data(&d).at("local6").text(), "fd00::2");
        let KindOptions::Vxlan(back) = options(&nl, "vx6") else { panic!() };
        assert_eq!((back.remote, back.local), (v6.remote, v6.local));
    });
}

#[test]
fn macvlan_and_macvtap_every_mode_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        veth(&nl, "ml0", "ml1");
        let parent = index(&nl, "ml0");
        let modes = [
            MacvlanMode::Private,
            MacvlanMode::Vepa,
            MacvlanMode::Bridge,
            MacvlanMode::Passthru,
            MacvlanMode::Source,
        ];
        for (word, is_tap) in [("macvlan", false), ("macvtap", true)] {
            for mode in modes {
                let o = MacvlanOptions { mode: Some(mode) };
                let opts = if is_tap { KindOptions::Macvtap(o) } else { KindOptions::Macvlan(o) };
                let link = LinkBuilder::new("mv0", opts.clone()).parent("ml0").create(&nl).unwrap();
                let d = details("mv0");
                assert_eq!(d.at("linkinfo").at("info_kind").text(), word);
                assert_eq!(info_data(&d).at("mode").text(), mode.to_string(), "{word} {mode}");
                assert_eq!(d.at("link").text(), "ml0");
                assert_eq!(link.parent_index(), Some(parent));
                assert_eq!(link.kind_options().unwrap(), Some(opts));
                nl.delete_link("mv0").unwrap();

                // Made by ip, read by nslink.
                ip(&[
                    "link",
                    "add",
                    "link",
                    "ml0",
                    "name",
                    "mv1",
                    "type",
                    word,
                    "mode",
                    &mode.to_string(),
                ]);
                let d = details("mv1");
                let back = options(&nl, "mv1");
                let want_mode: MacvlanMode = info_data(&d).at("mode").text().parse().unwrap();
                let want = MacvlanOptions { mode: Some(want_mode) };
                let want =
                    if is_tap { KindOptions::Macvtap(want) } else { KindOptions::Macvlan(want) };
                assert_eq!(back, want);
                assert_eq!(want_mode, mode);
                assert_eq!(nl.require_link("mv1").unwrap().parent_index(), Some(parent));
                nl.delete_link("mv1").unwrap();
            }
        }
    });
}

#[test]
fn a_macvlan_is_created_directly_in_another_namespace_on_a_parent_here() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        veth(&nl, "up0", "up1");
        let o = MacvlanOptions { mode: Some(MacvlanMode::Bridge) };
        let link = LinkBuilder::new("eth1", o)
            .parent("up0")
            .netns(&pod)
            .mtu(1400)
            .up()
            .create(&nl)
            .unwrap();
        assert!(!names_here().contains(&"eth1".to_owned()), "never made here");
        let d = details_in(&pod, "eth1");
        assert_eq!(info_data(&d).at("mode").text(), "bridge");
        assert_eq!(d.at("mtu").uint(), 1400);
        assert!(d.flags().contains("UP"));
        let pod_nl = RouteSocket::open_in(&pod).unwrap();
        assert_eq!(pod_nl.require_link("eth1").unwrap().index(), link.index());
        assert!(link.link_netnsid().is_some(), "its parent is in another namespace");

        // A bridge in the pod, by a socket of here.
        let br = LinkBuilder::bridge("br9").netns(&pod).up().create(&nl).unwrap();
        assert_eq!(details_in(&pod, "br9").at("ifindex").uint(), u64::from(br.index()));
        // A vxlan in the pod on an underlay here, enslaved to the pod's bridge.
        let vx = VxlanOptions { vni: Some(5), ..Default::default() };
        LinkBuilder::new("vx9", vx).parent("up1").netns(&pod).master("br9").create(&nl).unwrap();
        let d = details_in(&pod, "vx9");
        assert_eq!(d.at("master").text(), "br9");
        let KindOptions::Vxlan(back) = options(&pod_nl, "vx9") else { panic!() };
        assert_eq!(back.vni, Some(5));
        assert!(back.underlay.is_some());
        assert!(
            !names_here().contains(&"br9".to_owned()) && !names_here().contains(&"vx9".to_owned())
        );
    });
}

#[test]
fn bridge_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        // This host's kernel is built without bridge VLAN filtering (ip's
        // `vlan_filtering 0|1` is EOPNOTSUPP too); 6.1's has it.
        if !in_guest() {
            let out = ip_output_in(
                Here,
                &["link", "add", "brx", "type", "bridge", "vlan_filtering", "1"],
            );
            assert!(!out.status.success());
        }
        let sent = BridgeOptions {
            stp: Some(true),
            forward_delay: Some(Duration::from_secs(4)),
            ageing_time: Some(Duration::from_secs(60)),
            vlan_filtering: in_guest().then_some(true),
        };
        let br = LinkBuilder::new("br0", sent)
            .mac("02:00:00:00:0b:01".parse().unwrap())
            .create(&nl)
            .unwrap();
        let o = details("br0");
        let d = info_data(&o);
        assert_eq!(d.at("stp_state").uint(), 1);
        assert_eq!(d.at("forward_delay").uint(), 400);
        assert_eq!(d.at("ageing_time").uint(), 6000);
        assert_eq!(o.at("address").text(), "02:00:00:00:0b:01");
        let KindOptions::Bridge(back) = br.kind_options().unwrap().unwrap() else { panic!() };
        assert_eq!(back.vlan_filtering, Some(d.at("vlan_filtering").uint() != 0));
        assert_eq!(BridgeOptions { vlan_filtering: sent.vlan_filtering, ..back }, sent);
        if in_guest() {
            assert_eq!(back, sent, "VLAN filtering on");
        }

        ip(&[
            "link",
            "add",
            "br1",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "500",
            "ageing_time",
            "3000",
        ]);
        let d = details("br1");
        let d = info_data(&d);
        let KindOptions::Bridge(b) = options(&nl, "br1") else { panic!() };
        assert_eq!(b.stp, Some(d.at("stp_state").uint() != 0));
        assert_eq!(b.forward_delay, Some(Duration::from_millis(d.at("forward_delay").uint() * 10)));
        assert_eq!(b.ageing_time, Some(Duration::from_millis(d.at("ageing_time").uint() * 10)));
        assert_eq!(b.vlan_filtering, d.get("vlan_filtering").map(|v| v.uint() != 0));
        assert_eq!(b.ageing_time, Some(Duration::from_secs(30)));
    });
}

#[test]
fn veth_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        let va = LinkBuilder::new(
            "va",
            VethOptions {
                peer: Some("eth0".parse().unwrap()),
                peer_mac: Some("02:00:00:00:00:0b".parse().unwrap()),
            },
        )
        .peer_netns(&pod)
        .mtu(1400)
        .txqueuelen(700)
        .alias("pod a")
        .group(5)
        .up()
        .create(&nl)
        .unwrap();
        let o = details("va");
        assert_eq!(o.at("linkinfo").at("info_kind").text(), "veth");
        assert_eq!((o.at("mtu").uint(), o.at("txqlen").uint()), (1400, 700));
        assert_eq!((o.at("ifalias").text(), o.at("group").text()), ("pod a", "5"));
        assert!(o.flags().contains("UP"));
        let p = details_in(&pod, "eth0");
        assert_eq!((p.at("mtu").uint(), p.at("address").text()), (1400, "02:00:00:00:00:0b"));
        assert_eq!(va.kind(), &LinkKind::Veth);
        assert_eq!(va.kind_options().unwrap(), Some(KindOptions::Veth(VethOptions::default())));

        ip(&["link", "add", "vc", "type", "veth", "peer", "name", "vd"]);
        let vc = nl.require_link("vc").unwrap();
        assert_eq!(vc.kind(), &LinkKind::Veth);
        assert_eq!(vc.parent_index(), Some(index(&nl, "vd")));
        assert_eq!(vc.kind_options().unwrap(), Some(KindOptions::Veth(VethOptions::default())));
        // The old builder still gives both ends.
        let pair = nslink::VethPair::builder("ve", "vf").create(&nl).unwrap();
        assert_eq!(pair.peer().index(), index(&nl, "vf"));
    });
}

#[test]
fn ifb_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let l = LinkBuilder::ifb("ifb9").txqueuelen(64).create(&nl).unwrap();
        let o = details("ifb9");
        assert_eq!(o.at("linkinfo").at("info_kind").text(), "ifb");
        assert_eq!(o.at("txqlen").uint(), 64);
        assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Ifb));
        ip(&["link", "add", "ifb8", "type", "ifb"]);
        assert_eq!(options(&nl, "ifb8"), KindOptions::Ifb);
    });
}

// ---------------------------------------------------------------------------
// Kinds this host lacks: the typed error here, the real thing on 6.1
// ---------------------------------------------------------------------------

#[test]
fn a_missing_kind_is_a_typed_error_that_names_its_module() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let before = names_here();
        match LinkBuilder::dummy("d0").create(&nl) {
            Ok(l) => {
                assert!(in_guest() || l.kind() == &LinkKind::Dummy);
                assert_eq!(details("d0").at("linkinfo").at("info_kind").text(), "dummy");
            }
            Err(e) => {
                assert!(!in_guest(), "6.1 has dummy: {e}");
                assert!(
                    matches!(&e, Error::UnsupportedKind { kind: LinkKind::Dummy, .. }),
                    "{e:?}"
                );
                assert_eq!(e.raw_os_error(), Some(Errno::EOPNOTSUPP as i32));
                assert_eq!(e.extack(), Some("Unknown device type"));
                assert_eq!(
                    e.to_string(),
                    "create link \"d0\": this kernel has no dummy support (module dummy): \
                     Operation not supported (EOPNOTSUPP): kernel says: Unknown device type"
                );
                assert_eq!(names_here(), before);
            }
        }
        // The module names the kernel would load.
        veth(&nl, "p0", "p1");
        let vlan = VlanOptions { id: Some(5), ..Default::default() };
        if let Err(e) = LinkBuilder::new("p0.5", vlan).parent("p0").create(&nl) {
            assert!(!in_guest(), "{e}");
            assert!(
                e.to_string().contains("this kernel has no vlan support (module 8021q)"),
                "{e}"
            );
        }
        let bond = BondOptions::default();
        if let Err(e) = LinkBuilder::new("bond0", bond).create(&nl) {
            assert!(!in_guest(), "{e}");
            assert!(
                e.to_string().contains("this kernel has no bond support (module bonding)"),
                "{e}"
            );
        }
    });
}

#[test]
fn dummy_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let b = LinkBuilder::dummy("d0")
            .mtu(9000)
            .mac("02:00:00:00:00:d0".parse().unwrap())
            .group(4)
            .txqueuelen(100)
            .up();
        let Some(l) = create_or_unsupported(&nl, b, LinkKind::Dummy) else { return };
        let o = details("d0");
        assert_eq!(o.at("linkinfo").at("info_kind").text(), "dummy");
        assert_eq!((o.at("mtu").uint(), o.at("address").text()), (9000, "02:00:00:00:00:d0"));
        assert_eq!((o.at("group").text(), o.at("txqlen").uint()), ("4", 100));
        assert!(o.flags().contains("UP"));
        assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Dummy));
        assert!(l.flags().contains(LinkFlags::UP));
        ip(&["link", "add", "d1", "type", "dummy"]);
        assert_eq!(options(&nl, "d1"), KindOptions::Dummy);
    });
}

#[test]
fn vlan_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        veth(&nl, "p0", "p1");
        for (id, proto) in [
            (100, VlanProtocol::Ieee8021ad),
            (0, VlanProtocol::Ieee8021q),
            (4094, VlanProtocol::Ieee8021q),
        ] {
            let sent = VlanOptions { id: Some(id), protocol: Some(proto) };
            let b = LinkBuilder::new("v0", sent).parent("p0");
            let Some(l) = create_or_unsupported(&nl, b, LinkKind::Vlan) else { return };
            let o = details("v0");
            assert_eq!(info_data(&o).at("id").uint(), u64::from(id));
            assert_eq!(info_data(&o).at("protocol").text(), proto.to_string());
            assert_eq!(o.at("link").text(), "p0");
            assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Vlan(sent)));
            nl.delete_link("v0").unwrap();
        }
        for proto in ["802.1Q", "802.1ad"] {
            ip(&[
                "link", "add", "link", "p0", "name", "v1", "type", "vlan", "id", "200", "protocol",
                proto,
            ]);
            let o = details("v1");
            let KindOptions::Vlan(v) = options(&nl, "v1") else { panic!() };
            assert_eq!(v.id, Some(info_data(&o).at("id").uint() as u16));
            assert_eq!(v.protocol, Some(info_data(&o).at("protocol").text().parse().unwrap()));
            assert_eq!(v.protocol.unwrap().to_string(), proto);
            assert_eq!(nl.require_link("v1").unwrap().parent_index(), Some(index(&nl, "p0")));
            nl.delete_link("v1").unwrap();
        }
    });
}

#[test]
fn ipvlan_every_mode_and_flag_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        veth(&nl, "p0", "p1");
        for mode in [IpvlanMode::L2, IpvlanMode::L3, IpvlanMode::L3s] {
            for iso in [IpvlanIsolation::Bridge, IpvlanIsolation::Private, IpvlanIsolation::Vepa] {
                let sent = IpvlanOptions { mode: Some(mode), isolation: Some(iso) };
                let b = LinkBuilder::new("iv0", sent).parent("p0");
                let Some(l) = create_or_unsupported(&nl, b, LinkKind::Ipvlan) else { return };
                let o = details("iv0");
                let d = info_data(&o);
                assert_eq!(d.at("mode").text(), mode.to_string());
                assert_eq!(flag(d, "private"), iso == IpvlanIsolation::Private);
                assert_eq!(flag(d, "vepa"), iso == IpvlanIsolation::Vepa);
                assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Ipvlan(sent)));
                nl.delete_link("iv0").unwrap();

                ip(&[
                    "link",
                    "add",
                    "link",
                    "p0",
                    "name",
                    "iv1",
                    "type",
                    "ipvlan",
                    "mode",
                    &mode.to_string(),
                    &iso.to_string(),
                ]);
                let o = details("iv1");
                let d = info_data(&o);
                let KindOptions::Ipvlan(back) = options(&nl, "iv1") else { panic!() };
                assert_eq!(back.mode, Some(d.at("mode").text().parse().unwrap()));
                let from_ip = if flag(d, "private") {
                    IpvlanIsolation::Private
                } else if flag(d, "vepa") {
                    IpvlanIsolation::Vepa
                } else {
                    IpvlanIsolation::Bridge
                };
                assert_eq!(back.isolation, Some(from_ip));
                assert_eq!(back, sent);
                nl.delete_link("iv1").unwrap();
            }
        }
    });
}

#[test]
fn bond_both_ways_with_ports() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let sent = BondOptions {
            mode: Some(BondMode::ActiveBackup),
            miimon: Some(Duration::from_millis(100)),
        };
        let Some(l) = create_or_unsupported(&nl, LinkBuilder::new("bond0", sent), LinkKind::Bond)
        else {
            return;
        };
        let o = details("bond0");
        assert_eq!(info_data(&o).at("mode").text(), "active-backup");
        assert_eq!(info_data(&o).at("miimon").uint(), 100);
        assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Bond(sent)));

        // Ports: one up, one down; both join, then one leaves.
        veth(&nl, "p0", "p1");
        veth(&nl, "q0", "q1");
        nl.set_up("p0").unwrap();
        nl.bond_enslave("p0", "bond0").unwrap();
        nl.bond_enslave("q0", &l).unwrap();
        assert_eq!(details("p0").at("master").text(), "bond0");
        assert_eq!(details("q0").at("master").text(), "bond0");
        nl.bond_release("q0").unwrap();
        assert!(details("q0").get("master").is_none());
        // A bridge is not a bond.
        LinkBuilder::bridge("br0").create(&nl).unwrap();
        let e = nl.bond_enslave("q0", "br0").unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        assert!(details("q0").get("master").is_none());

        for (mode, ms) in [("802.3ad", "50"), ("balance-xor", "0")] {
            ip(&["link", "add", "bond1", "type", "bond", "mode", mode, "miimon", ms]);
            let o = details("bond1");
            let KindOptions::Bond(b) = options(&nl, "bond1") else { panic!() };
            assert_eq!(b.mode, Some(info_data(&o).at("mode").text().parse().unwrap()));
            assert_eq!(b.mode.unwrap().to_string(), mode);
            assert_eq!(b.miimon, Some(Duration::from_millis(info_data(&o).at("miimon").uint())));
            nl.delete_link("bond1").unwrap();
        }
    });
}

#[test]
fn wireguard_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let b = LinkBuilder::wireguard("wg0").mtu(1380);
        let Some(l) = create_or_unsupported(&nl, b, LinkKind::Wireguard) else { return };
        let o = details("wg0");
        assert_eq!(o.at("linkinfo").at("info_kind").text(), "wireguard");
        assert_eq!(o.at("mtu").uint(), 1380);
        assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Wireguard));
        ip(&["link", "add", "wg1", "type", "wireguard"]);
        assert_eq!(options(&nl, "wg1"), KindOptions::Wireguard);
    });
}

#[test]
fn geneve_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let sent = GeneveOptions {
            vni: Some(7),
            remote: Some(ipaddr("10.2.2.2")),
            port: Some(6082),
            ttl: Some(9),
            tos: Some(0x20),
            udp_csum: Some(true),
            udp_zero_csum6_tx: Some(false),
            udp_zero_csum6_rx: Some(true),
        };
        let Some(l) = create_or_unsupported(&nl, LinkBuilder::new("gnv0", sent), LinkKind::Geneve)
        else {
            return;
        };
        let o = details("gnv0");
        let d = info_data(&o);
        assert_eq!((d.at("id").uint(), d.at("remote").text()), (7, "10.2.2.2"));
        assert_eq!((d.at("port").uint(), d.at("ttl").uint()), (6082, 9));
        assert!(d.at("udp_csum").truth());
        assert!(!flag(d, "udp_zero_csum6_tx") && flag(d, "udp_zero_csum6_rx"));
        let KindOptions::Geneve(back) = l.kind_options().unwrap().unwrap() else { panic!() };
        // The kernel reports udp_zero_csum6_tx only for an IPv6 tunnel.
        assert!(matches!(back.udp_zero_csum6_tx, None | Some(false)), "{back:?}");
        assert_eq!(back, GeneveOptions { udp_zero_csum6_tx: back.udp_zero_csum6_tx, ..sent });

        ip(&[
            "link", "add", "gnv1", "type", "geneve", "id", "99", "remote", "fd00::9", "dstport",
            "7000", "ttl", "3",
        ]);
        let o = details("gnv1");
        let d = info_data(&o);
        let KindOptions::Geneve(g) = options(&nl, "gnv1") else { panic!() };
        assert_eq!(g.vni, Some(d.at("id").uint() as u32));
        assert_eq!(g.remote, Some(ipaddr(d.at("remote6").text())));
        assert_eq!(g.port, Some(d.at("port").uint() as u16));
        assert_eq!(g.ttl, Some(d.at("ttl").uint() as u8));
        assert_eq!(g.udp_zero_csum6_tx, Some(flag(d, "udp_zero_csum6_tx")));
        assert_eq!(g.udp_zero_csum6_rx, Some(flag(d, "udp_zero_csum6_rx")));
        assert_eq!((g.vni, g.port), (Some(99), Some(7000)));
    });
}

#[test]
fn vrf_both_ways() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let sent = VrfOptions { table: Some(10) };
        let Some(l) =
            create_or_unsupported(&nl, LinkBuilder::new("vrf0", sent).up(), LinkKind::Vrf)
        else {
            return;
        };
        let o = details("vrf0");
        assert_eq!(info_data(&o).at("table").uint(), 10);
        assert_eq!(l.kind_options().unwrap(), Some(KindOptions::Vrf(sent)));
        // A port joins it at creation.
        LinkBuilder::veth("p0", "p1").master("vrf0").create(&nl).unwrap();
        assert_eq!(details("p0").at("master").text(), "vrf0");

        ip(&["link", "add", "vrf1", "type", "vrf", "table", "20"]);
        let o = details("vrf1");
        let KindOptions::Vrf(v) = options(&nl, "vrf1") else { panic!() };
        assert_eq!(v.table, Some(info_data(&o).at("table").uint() as u32));
        assert_eq!(v.table, Some(20));
    });
}

#[test]
fn a_kind_nslink_does_not_know_reads_as_other() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        if !ip_add_or_unsupported(&["nl0", "type", "nlmon"]) {
            return;
        }
        let l = nl.require_link("nl0").unwrap();
        assert_eq!(l.kind(), &LinkKind::Other("nlmon".into()));
        assert_eq!(details("nl0").at("linkinfo").at("info_kind").text(), "nlmon");
        assert_eq!(l.kind_options().unwrap(), None);
    });
}

// ---------------------------------------------------------------------------
// Bad input: typed errors before anything is sent, nothing half-made
// ---------------------------------------------------------------------------

#[track_caller]
fn refused(nl: &RouteSocket, b: LinkBuilder<'_>, words: &str) -> Error {
    let before = names_here();
    let e = b.create(nl).unwrap_err();
    assert!(e.to_string().contains(words), "{e}");
    assert_eq!(e.raw_os_error(), None, "no errno the kernel did not return: {e:?}");
    assert_eq!(names_here(), before, "nothing made");
    e
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let pod = NetNs::new().unwrap();
        veth(&nl, "p0", "p1");
        let invalid = |e: &Error| {
            assert!(matches!(e, Error::InvalidArgument { op: Op::CreateLink, .. }), "{e:?}")
        };

        let e = refused(
            &nl,
            LinkBuilder::new("vx0", VxlanOptions { port: Some(4789), ..Default::default() }),
            "a vxlan needs a VNI",
        );
        invalid(&e);
        assert_eq!(e.to_string(), "create link \"vx0\": a vxlan needs a VNI (id)");
        invalid(&refused(
            &nl,
            LinkBuilder::new("vx0", VxlanOptions { vni: Some(1 << 24), ..Default::default() }),
            "out of range",
        ));
        let mcast =
            VxlanOptions { vni: Some(1), remote: Some(ipaddr("239.0.0.1")), ..Default::default() };
        invalid(&refused(&nl, LinkBuilder::new("vx0", mcast), "multicast"));
        let mixed = VxlanOptions {
            vni: Some(1),
            remote: Some(ipaddr("10.0.0.1")),
            local: Some(ipaddr("fd00::1")),
            ..Default::default()
        };
        invalid(&refused(&nl, LinkBuilder::new("vx0", mixed), "same address family"));

        let e = refused(
            &nl,
            LinkBuilder::new("v0", VlanOptions { id: Some(4095), ..Default::default() })
                .parent("p0"),
            "vlan id 4095 is out of range",
        );
        invalid(&e);
        invalid(&refused(
            &nl,
            LinkBuilder::new("v0", VlanOptions::default()).parent("p0"),
            "needs an id",
        ));
        invalid(&refused(
            &nl,
            LinkBuilder::new("v0", VlanOptions { id: Some(5), ..Default::default() }),
            "needs a parent",
        ));

        let mv = MacvlanOptions { mode: Some(MacvlanMode::Bridge) };
        let e = refused(&nl, LinkBuilder::new("mv0", mv), "a macvlan needs a parent device");
        invalid(&e);
        // The parent exists only in another namespace: not where it is looked up.
        LinkBuilder::ifb("podeth").netns(&pod).create(&nl).unwrap();
        let pod_before = common::ifnames(&ip_json_in(&pod, &["link", "show"]));
        let e = refused(
            &nl,
            LinkBuilder::new("mv0", mv).parent("podeth").netns(&pod),
            "\"podeth\" (parent of \"mv0\")",
        );
        assert!(matches!(e, Error::NotFound { op: Op::CreateLink, errno: None, .. }), "{e:?}");
        assert_eq!(
            common::ifnames(&ip_json_in(&pod, &["link", "show"])),
            pod_before,
            "nothing made there"
        );
        // A master that does not exist where the device goes.
        let e = refused(
            &nl,
            LinkBuilder::bridge("br0").master("nosuch"),
            "\"nosuch\" (master of \"br0\")",
        );
        assert!(e.is_not_found());

        let e = "balance-foo".parse::<BondMode>().unwrap_err();
        assert_eq!(e.input(), "balance-foo");
        assert!(e.to_string().contains("expected balance-rr, active-backup"), "{e}");
        let e: Error = e.into();
        assert!(matches!(e, Error::Parse(_)));
        let bad = BondOptions { mode: Some(BondMode::Other(9)), ..Default::default() };
        invalid(&refused(&nl, LinkBuilder::new("bond0", bad), "bond mode 9 has no name"));
        assert!("3".parse::<MacvlanMode>().is_err() && "l4".parse::<IpvlanMode>().is_err());

        invalid(&refused(&nl, LinkBuilder::ifb("ifb9").parent("p0"), "a ifb has no parent"));
        invalid(&refused(&nl, LinkBuilder::ifb("ifb9").peer_netns(&pod), "has no peer"));
        let e = refused(&nl, LinkBuilder::new("va", VethOptions::default()), "needs a peer name");
        assert!(matches!(e, Error::InvalidArgument { op: Op::CreateVeth, .. }), "{e:?}");
        assert!(LinkBuilder::veth("va", "bad/name").create(&nl).unwrap_err().is_invalid_name());
        invalid(&refused(&nl, LinkBuilder::ifb("ifb9").alias("x".repeat(256)), "255 bytes"));
        invalid(&refused(
            &nl,
            LinkBuilder::new("vrf0", VrfOptions::default()),
            "needs a routing table",
        ));
        invalid(&refused(
            &nl,
            LinkBuilder::new("g0", GeneveOptions { vni: Some(1), ..Default::default() }),
            "needs a remote",
        ));
        let both = GeneveOptions {
            vni: Some(1),
            remote: Some(ipaddr("10.0.0.1")),
            udp_csum: Some(true),
            udp_zero_csum6_tx: Some(true),
            ..Default::default()
        };
        invalid(&refused(&nl, LinkBuilder::new("g0", both), "contradict"));
        assert!(LinkBuilder::ifb("a name far too long").create(&nl).unwrap_err().is_invalid_name());

        // A name that is taken: the kernel's EEXIST, the first device intact.
        let first = nl.require_link("p0").unwrap();
        let e = LinkBuilder::ifb("p0").create(&nl).unwrap_err();
        assert!(e.is_already_exists(), "{e}");
        assert_eq!(nl.require_link("p0").unwrap().kind(), first.kind());
        let _ = ip_in(Here, &["link", "show"]);
    });
}
