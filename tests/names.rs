//! Interface and namespace names against the kernel and `ip`.
//!
//! - [`IfName`]'s rules agree with the kernel's own verdict, byte by byte;
//! - names the kernel reports that are not UTF-8 keep their exact bytes,
//!   and requests by those names reach the right device;
//! - [`NsName`] accepts only names `ip netns` accepts, and refuses (by
//!   design) leading `-` and control characters;
//! - every name type's `Display` honours width and alignment.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Output;

use common::{JsonExt as _, sandbox};
use netlink_packet_core::{DefaultNla, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use nslink::error::{NameError, NameKind};
use nslink::{Error, IfName, LinkId, LinkKind, NetNs, NsName, OperState, RouteSocket, ethtool};

const IFLA_IFNAME: u16 = 3;

/// `ip` with arguments that need not be UTF-8, whatever its exit status.
fn ip_raw(args: &[&[u8]]) -> Output {
    let args: Vec<&OsStr> = args.iter().map(|a| OsStr::from_bytes(a)).collect();
    common::ip_output_in(common::Here, &args)
}

/// Like [`ip_raw`], and the command must succeed.
#[track_caller]
fn ip_raw_ok(args: &[&[u8]]) {
    let out = ip_raw(args);
    assert!(
        out.status.success(),
        "ip {:?} failed: {}",
        args.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What `ip -j link show` says about one device. `ip -j` prints names that
/// are not UTF-8 as it likes, so devices are told apart by index only.
#[derive(Debug)]
struct IpLink {
    flags: BTreeSet<String>,
    mtu: u64,
}

/// Every device `ip -j link show` lists, by index.
fn ip_links() -> BTreeMap<u32, IpLink> {
    common::ip_json(&["link", "show"])
        .iter()
        .map(|o| {
            (o.at("ifindex").uint() as u32, IpLink { flags: o.flags(), mtu: o.at("mtu").uint() })
        })
        .collect()
}

/// Asks the kernel itself, through the escape hatch (no validation of
/// nslink's on the way), to create a bridge named exactly `name`.
fn add_bridge_raw(nl: &RouteSocket, name: &[u8]) -> nslink::Result<()> {
    let mut value = name.to_vec();
    value.push(0);
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::Other(DefaultNla::new(IFLA_IFNAME, value)));
    m.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]));
    nl.request_raw(RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL).map(drop)
}

fn escaped(name: &[u8]) -> String {
    name.escape_ascii().to_string()
}

// ---------------------------------------------------------------------------
// Item 9: IfName's rules are the kernel's, byte by byte.
// ---------------------------------------------------------------------------

/// Every byte 0x01..=0xFF alone, after an `n`, and as the second byte of a
/// two-byte UTF-8 character (`à` is C3 A0), plus a few longer names: for
/// each, `IfName`'s verdict must be the kernel's (which is asked directly,
/// bypassing nslink), and every accepted name must come back from the
/// kernel with exactly its bytes.
#[test]
fn ifname_verdicts_agree_with_the_kernel_for_every_byte() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let mut candidates: Vec<Vec<u8>> = Vec::new();
        for b in 1..=255u8 {
            candidates.push(vec![b]);
            candidates.push(vec![b'n', b]);
        }
        for b in 0x80..=0xbfu8 {
            candidates.push(vec![0xc3, b]);
        }
        for s in ["brà", "a\u{a0}b", "\u{2020}", "-x", "x.y", "...", "123456789012345"] {
            candidates.push(s.as_bytes().to_vec());
        }
        candidates.push(b"1234567890123456".to_vec());
        candidates.push(vec![0xff; 15]);
        candidates.push(vec![0xff; 16]);

        let mut disagreements = Vec::new();
        let mut accepted = BTreeSet::new();
        for name in &candidates {
            let ours = IfName::from_bytes(name);
            if let Ok(text) = std::str::from_utf8(name) {
                assert_eq!(
                    IfName::new(text).is_ok(),
                    ours.is_ok(),
                    "new and from_bytes disagree on {text:?}"
                );
            }
            let kernel = add_bridge_raw(&nl, name);
            match (&ours, &kernel) {
                (Ok(_), Ok(())) => {
                    accepted.insert(name.clone());
                }
                (Err(_), Err(_)) => {}
                _ => disagreements.push(format!(
                    "{}: nslink {:?}, kernel {:?}",
                    escaped(name),
                    ours.as_ref().map(drop).map_err(Error::to_string),
                    kernel.as_ref().map_err(|e| e.errno())
                )),
            }
        }
        assert!(disagreements.is_empty(), "verdicts differ:\n{}", disagreements.join("\n"));
        // The two bytes a validation by characters missed.
        assert!(IfName::new("brà").unwrap_err().is_invalid_name());
        assert!(accepted.len() > 400, "only {} names accepted", accepted.len());

        // What the kernel made is exactly what was asked for, to nslink…
        let made: BTreeSet<Vec<u8>> = nl
            .links()
            .unwrap()
            .iter()
            .map(|l| l.name().as_bytes().to_vec())
            .filter(|n| n != b"lo")
            .collect();
        assert_eq!(made, accepted);
        // … and to ip.
        assert_eq!(ip_links().len(), accepted.len() + 1);
    })
}

/// NUL ends a name for the kernel: `a\0b` would make a device called `a`.
/// nslink refuses it instead of reaching another name.
#[test]
fn nul_in_an_ifname_is_refused_because_the_kernel_would_cut_the_name() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let e = IfName::from_bytes(b"a\0b").unwrap_err();
        assert!(
            matches!(e, Error::InvalidName { reason: NameError::BadByte { byte: 0, pos: 1 }, .. }),
            "{e:?}"
        );
        assert!(IfName::new("a\0b").is_err());
        assert!(nl.link("a\0b").is_err());
        // The kernel, asked directly, makes `a`.
        add_bridge_raw(&nl, b"a\0b").unwrap();
        assert!(nl.link("a").unwrap().is_some());
    })
}

// ---------------------------------------------------------------------------
// Item 10: names that are not UTF-8 are kept exact.
// ---------------------------------------------------------------------------

/// Two bridges `\xff\xfe` and `\xff\xfd` and a veth pair with a 15-byte
/// non-UTF-8 name, made by `ip`: nslink lists them with distinct exact
/// names, and every operation by a name read back reaches that device (as
/// `ip -j` shows, by index).
#[test]
fn names_that_are_not_utf8_stay_exact_and_reach_their_device() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        let long = [0xffu8; 15];
        ip_raw_ok(&[b"link", b"add", b"\xff\xfe", b"type", b"bridge"]);
        ip_raw_ok(&[b"link", b"add", b"\xff\xfd", b"type", b"bridge"]);
        ip_raw_ok(&[b"link", b"add", &long, b"type", b"veth", b"peer", b"name", b"\xfa\xfb"]);
        ip_raw_ok(&[b"link", b"set", &long, b"master", b"\xff\xfe"]);

        let links = nl.links().unwrap();
        let find = |bytes: &[u8]| {
            let found: Vec<_> = links.iter().filter(|l| l.name().as_bytes() == bytes).collect();
            assert_eq!(found.len(), 1, "{}: {links:#?}", escaped(bytes));
            found[0].clone()
        };
        let a = find(b"\xff\xfe");
        let b = find(b"\xff\xfd");
        let v = find(&long);
        let peer = find(b"\xfa\xfb");
        assert_eq!(a.kind(), &LinkKind::Bridge);
        assert_eq!(v.kind(), &LinkKind::Veth);
        // Distinct, exact, and printed distinctly.
        assert_ne!(a.name(), b.name());
        assert_eq!(a.name().to_string(), "\\xff\\xfe");
        assert_eq!(b.name().to_string(), "\\xff\\xfd");
        assert_eq!(format!("{:?}", a.name()), "\"\\xff\\xfe\"");
        assert_eq!(a.name().to_str(), None);
        assert_eq!(v.name().as_bytes().len(), 15);
        // Bridge port and veth peer, read from the kernel.
        assert_eq!(v.master(), Some(a.index()));
        assert_eq!(v.parent_index(), Some(peer.index()));

        // Lookups by the names read back.
        for l in [&a, &b, &v, &peer] {
            assert_eq!(nl.require_link(l.name()).unwrap().index(), l.index(), "{}", l.name());
        }
        // ethtool looks the device up by name too.
        let sock = ethtool::control_socket().unwrap();
        assert_eq!(ethtool::veth_peer_index(&sock, v.name()).unwrap(), Some(peer.index()));
        assert_eq!(ethtool::driver_info(&sock, b.name()).unwrap().driver, "bridge");

        // set_up by name changes that device and no other.
        let before = ip_links();
        assert!(!before[&a.index()].flags.iter().any(|f| f == "UP"));
        nl.set_up(b.name()).unwrap();
        let now = ip_links();
        assert!(now[&b.index()].flags.iter().any(|f| f == "UP"), "{now:?}");
        assert!(!now[&a.index()].flags.iter().any(|f| f == "UP"), "{now:?}");
        nl.set_mtu(v.name(), 1400).unwrap();
        let now = ip_links();
        assert_eq!(now[&v.index()].mtu, 1400);
        assert_eq!(now[&peer.index()].mtu, 1500);

        // An alias that is not UTF-8 is kept exact too.
        ip_raw_ok(&[b"link", b"set", b"dev", b"\xff\xfd", b"alias", b"\xff\x01z"]);
        let with_alias = nl.require_link(b.name()).unwrap();
        assert_eq!(with_alias.alias_bytes(), Some(&b"\xff\x01z"[..]));
        assert_eq!(with_alias.alias(), Some("\u{fffd}\u{1}z"));

        // Rename to a name given as bytes, then find it by that name (down
        // first: Linux before 6.2 refuses to rename a device that is up).
        nl.set_down(b.name()).unwrap();
        assert!(!ip_links()[&b.index()].flags.iter().any(|f| f == "UP"));
        let renamed = IfName::from_bytes(b"\xee\x01").unwrap();
        nl.rename(b.name(), &renamed).unwrap();
        assert_eq!(nl.link(b.index()).unwrap().unwrap().name(), &renamed);
        let out = ip_raw(&[b"link", b"show", b"dev", b"\xee\x01"]);
        assert!(out.status.success(), "ip does not know the new name");

        // delete by name deletes that device and no other.
        nl.delete_link(a.name()).unwrap();
        let now = ip_links();
        assert!(!now.contains_key(&a.index()), "{now:?}");
        assert!(now.contains_key(&b.index()), "{now:?}");
        assert!(now.contains_key(&v.index()), "{now:?}");
        nl.delete_link(&renamed).unwrap();
        let now = ip_links();
        assert!(!now.contains_key(&b.index()), "{now:?}");
        assert!(now.contains_key(&v.index()), "{now:?}");
    })
}

// ---------------------------------------------------------------------------
// Item 11: NsName against `ip netns`.
// ---------------------------------------------------------------------------

/// Every name `NsName` accepts, `ip netns add` accepts too and both tools
/// find the same namespace under it; every name `ip netns add` refuses,
/// `NsName` refuses. Names `ip` takes but nslink refuses by design (leading
/// `-`, control and invisible characters) are refused with a typed reason,
/// never listed, and still reachable by path.
#[test]
fn nsname_agrees_with_ip_netns() {
    sandbox(|| {
        let long = "x".repeat(255);
        let valid: [&str; 12] =
            ["a", "with space", "é", "a:b%c", &long, "a-", "_", "...", ".a", "a.b", "\\", "日本"];
        for name in valid {
            NsName::new(name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            // Made by ip, opened and listed by nslink.
            let out = ip_raw(&[b"netns", b"add", name.as_bytes()]);
            assert!(out.status.success(), "ip refuses {name:?}");
            let ns = NetNs::open(name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert!(NetNs::list().unwrap().iter().any(|n| n == name), "{name:?} not listed");
            drop(ns);
            NetNs::delete(name).unwrap();
            // Made by nslink, seen and usable by ip.
            let ns = NetNs::create(name).unwrap();
            let out = ip_raw(&[b"netns", b"exec", name.as_bytes(), b"true"]);
            assert!(out.status.success(), "ip netns exec {name:?}");
            drop(ns);
            let out = ip_raw(&[b"netns", b"del", name.as_bytes()]);
            assert!(out.status.success(), "ip netns del {name:?}");
        }

        let too_long = "x".repeat(256);
        for name in ["", ".", "..", "a/b", "/x", "../x", &too_long] {
            let out = ip_raw(&[b"netns", b"add", name.as_bytes()]);
            assert!(!out.status.success(), "ip accepts {name:?}");
            assert!(NsName::new(name).is_err(), "nslink accepts {name:?}");
        }
        assert!(NetNs::list().unwrap().is_empty());

        let stricter = [
            ("-x", NameError::LeadingDash),
            ("-", NameError::LeadingDash),
            ("a\nb", NameError::BadChar { ch: '\n', pos: 1 }),
            ("a\tb", NameError::BadChar { ch: '\t', pos: 1 }),
            ("\x1b[1m", NameError::BadChar { ch: '\x1b', pos: 0 }),
            ("a\x7f", NameError::BadChar { ch: '\x7f', pos: 1 }),
            ("a\u{85}", NameError::BadChar { ch: '\u{85}', pos: 1 }),
            ("a\u{202e}b", NameError::BadChar { ch: '\u{202e}', pos: 1 }),
        ];
        for (name, want) in stricter {
            match NsName::new(name) {
                Err(Error::InvalidName { kind: NameKind::Namespace, input, reason }) => {
                    assert_eq!(input, name.as_bytes());
                    assert_eq!(reason, want, "{name:?}");
                }
                other => panic!("{name:?}: expected InvalidName, got {other:?}"),
            }
            let msg = NsName::new(name).unwrap_err().to_string();
            assert!(!msg.chars().any(|c| c.is_control()), "raw control character in {msg:?}");
            // Whatever ip does with it, nslink's listing stays clean and the
            // entry stays reachable by path.
            if ip_raw(&[b"netns", b"add", name.as_bytes()]).status.success() {
                let path = format!("/run/netns/{name}");
                NetNs::open_path(&path).unwrap_or_else(|e| panic!("{name:?}: {e}"));
                assert!(NetNs::list().unwrap().is_empty());
                assert!(ip_raw(&[b"netns", b"del", name.as_bytes()]).status.success());
            }
        }
    })
}

// ---------------------------------------------------------------------------
// Item 21 (part): Display honours width and alignment.
// ---------------------------------------------------------------------------

#[test]
fn display_of_names_honours_width_and_alignment() {
    let n = IfName::new("eth0").unwrap();
    assert_eq!(format!("[{n:<8}]"), "[eth0    ]");
    assert_eq!(format!("[{n:>8}]"), "[    eth0]");
    assert_eq!(format!("[{n:^8}]"), "[  eth0  ]");
    assert_eq!(format!("[{n:-<8}]"), "[eth0----]");
    let raw = IfName::from_bytes(b"\xff").unwrap();
    assert_eq!(format!("[{raw:>6}]"), "[  \\xff]");
    let ns = NsName::new("red").unwrap();
    assert_eq!(format!("[{ns:<6}]"), "[red   ]");
    assert_eq!(format!("[{ns:>6}]"), "[   red]");
    assert_eq!(format!("[{:<8}]", LinkId::Name(n.clone())), "[eth0    ]");
    assert_eq!(format!("[{:>4}]", LinkId::Index(7)), "[  #7]");
    assert_eq!(format!("[{:<8}]", LinkKind::Bridge), "[bridge  ]");
    assert_eq!(format!("[{:<8}]", LinkKind::Loopback), "[loopback]");
    assert_eq!(format!("[{:>4}]", OperState::Up), "[  UP]");
    assert_eq!(format!("[{:<16}]", NameKind::Interface), "[interface name  ]");
    assert_eq!(format!("[{:>14}]", NameError::Empty), "[   it is empty]");
    assert_eq!(format!("[{:.5}]", NameError::LeadingDash), "[it st]");
}

/// The error names the offending byte and quotes the input escaped.
#[test]
fn invalid_ifname_errors_name_the_byte() {
    let e = IfName::new("brà").unwrap_err();
    assert!(matches!(
        &e,
        Error::InvalidName {
            kind: NameKind::Interface,
            reason: NameError::BadByte { byte: 0xa0, pos: 3 },
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "invalid interface name \"brà\": byte 0xa0 at offset 3 is not allowed \
         (white space to the kernel)"
    );
    let e = IfName::from_bytes(b"\xff:").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid interface name \"\\xff:\": byte 0x3a (':') at offset 1 is not allowed"
    );
}
