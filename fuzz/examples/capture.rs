//! Records real kernel replies as seed inputs for the fuzz targets.
//!
//! Run as root from `fuzz/`: `cargo run --release --example capture [DIR]`
//! (DIR defaults to `corpus`). Everything happens inside a new anonymous
//! network namespace ([`NetNs::new`]) entered by a helper thread
//! ([`NetNs::run`]): the devices it makes (veth, bridge, vxlan, macvlan,
//! tap) live and die there, the host's devices are never touched, and the
//! tool refuses to go on if it finds itself in the host's namespace.
//!
//! It writes, under DIR/<target>/, one file per seed:
//! - `dump_loop`: whole exchanges (link, address, route, neighbour dumps,
//!   acks, refusals with extended acks) in the step format of
//!   `nslink::fuzzing::parse_steps`;
//! - `extack`: the flags and payload of each `NLMSG_ERROR`/`NLMSG_DONE`;
//! - `decode_link`, `decode_address`, `decode_route`, `decode_neighbour`:
//!   the payload of each message of that type;
//! - `names`: interface names from the link dump and values written by
//!   hand (prefixes, MAC addresses, sysctl keys, keywords);
//! - `monitor`: every notification datagram the changes above (and a few
//!   deletions after them) sent to a socket subscribed to the link,
//!   neighbour, address, route, rule and nsid groups, and the rule and
//!   nsid dumps;
//! - `decode_fdb`, `decode_rule`, `decode_nsid`: the payload of each
//!   `AF_BRIDGE` `RTM_NEWNEIGH` (bridge and vxlan FDB entries), each
//!   `RTM_NEWRULE` and each `RTM_NEWNSID`, from dumps and notifications.

use std::collections::BTreeSet;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use nslink::NetNs;
use nslink::fuzzing::{Step, capture, encode_steps};
use nslink::netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use nslink::netlink_packet_route::address::AddressMessage;
use nslink::netlink_packet_route::link::{
    InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use nslink::netlink_packet_route::neighbour::NeighbourMessage;
use nslink::netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use nslink::netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const RTM_NEWNEIGH: u16 = 28;
const RTM_NEWRULE: u16 = 32;
const RTM_NEWNSID: u16 = 88;
const AF_BRIDGE: u8 = 7;
/// Linux errno values (asm-generic/errno*.h).
const EINTR: i32 = 4;
const ENOBUFS: i32 = 105;

/// Runs `ip ARGS` in the calling thread's namespace; fails loudly.
fn ip(args: &str) -> Res<()> {
    let st = Command::new("ip").args(args.split_whitespace()).status()?;
    if !st.success() {
        return Err(format!("ip {args}: {st}").into());
    }
    Ok(())
}

/// The devices, addresses, routes and neighbours to dump.
fn populate() -> Res<()> {
    for cmd in [
        "link set lo up",
        "link add v0 type veth peer name v1",
        "link add br0 type bridge",
        "link set v0 master br0",
        "link set v0 up",
        "link set v1 up",
        "link set br0 up",
        "addr add 10.1.0.1/24 dev v1",
        "addr add fd00:1::1/64 dev v1 nodad",
        "addr add 10.3.0.1/32 peer 10.3.0.2/32 dev br0",
        "link add vx0 type vxlan id 42 dstport 4789 local 10.1.0.1 dev v1",
        "link add mv0 link v1 type macvlan mode bridge",
        "link set mv0 up",
        "tuntap add tap0 mode tap",
        "link set tap0 alias uplink-tap",
        "link set tap0 master br0",
        "route add 10.9.0.0/16 via 10.1.0.2",
        "route add default via 10.1.0.254 metric 100",
        "route add blackhole 10.66.0.0/16",
        "route add 10.20.0.0/16 dev v1 table 100 proto static",
        "route add fd00:9::/48 via fd00:1::2",
        "neigh add 10.1.0.2 lladdr 02:00:00:00:00:02 dev v1 nud permanent",
        "neigh add 10.1.0.3 lladdr 02:00:00:00:00:03 dev v1 nud stale",
        "neigh add fd00:1::2 lladdr 02:00:00:00:00:02 dev v1 nud reachable",
    ] {
        ip(cmd)?;
    }
    // A name that is not UTF-8, as the kernel allows.
    let st = Command::new("ip")
        .arg("link")
        .arg("add")
        .arg(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"br\xff"))
        .args(["type", "bridge"])
        .status()?;
    if !st.success() {
        return Err("ip link add br\\xff".into());
    }
    for cmd in [
        "rule add from 10.1.0.0/24 lookup 100 priority 100",
        "rule add fwmark 0x10/0xff iif v1 prohibit priority 200",
        "-6 rule add to fd00:9::/48 lookup 100 priority 300 proto static",
        "rule add priority 400 goto 500",
        "rule add priority 500 lookup main suppress_prefixlength 0",
        "rule add priority 600 ipproto tcp dport 80 lookup 100",
        "rule add priority 700 oif br0 nop",
        "rule add priority 800 from 10.5.0.0/16 to 10.6.0.0/16 blackhole",
    ] {
        ip(cmd)?;
    }
    for cmd in [
        "fdb add 02:00:00:00:00:10 dev v0 master static",
        "fdb add 02:00:00:00:00:12 dev tap0 master",
        "fdb add 00:00:00:00:00:00 dev vx0 dst 10.1.0.9 self permanent",
        "fdb add 02:00:00:00:00:11 dev vx0 dst 10.1.0.10 vni 43 port 4790 self permanent",
    ] {
        bridge(cmd)?;
    }
    Ok(())
}

/// Runs `bridge ARGS` in the calling thread's namespace; fails loudly.
fn bridge(args: &str) -> Res<()> {
    let st = Command::new("bridge").args(args.split_whitespace()).status()?;
    if !st.success() {
        return Err(format!("bridge {args}: {st}").into());
    }
    Ok(())
}

/// Deletions, for the monitor's removal notifications.
fn depopulate() -> Res<()> {
    for cmd in [
        "neigh del 10.1.0.3 dev v1",
        "rule del priority 100",
        "-6 rule del priority 300",
        "route del blackhole 10.66.0.0/16",
        "addr del fd00:1::1/64 dev v1",
        "link del mv0",
    ] {
        ip(cmd)?;
    }
    bridge("fdb del 02:00:00:00:00:10 dev v0 master")
}

/// A socket subscribed to every group the monitor follows, opened in the
/// calling thread's namespace before the changes are made.
fn notifications() -> Res<netlink_sys::Socket> {
    let mut s = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE)?;
    s.bind_auto()?;
    // RTNLGRP_LINK, NEIGH, IPV4_IFADDR, IPV4_ROUTE, IPV4_RULE, IPV6_IFADDR,
    // IPV6_ROUTE, IPV6_RULE, NSID.
    for group in [1, 3, 5, 7, 8, 9, 11, 19, 28] {
        s.add_membership(group)?;
    }
    s.set_rx_buf_sz(4 << 20)?;
    Ok(s)
}

/// Every datagram queued on `s` (waits a little for late ones).
fn drain(s: &netlink_sys::Socket) -> Res<Vec<Vec<u8>>> {
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.set_non_blocking(true)?;
    let mut out = Vec::new();
    loop {
        match s.recv_from_full() {
            Ok((d, _)) => out.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(out),
            Err(e) => return Err(e.into()),
        }
    }
}

/// One request and what the kernel answered.
struct Exchange {
    label: &'static str,
    datagrams: Vec<Vec<u8>>,
}

/// The index of a device of the calling thread's namespace (asked over
/// netlink: /sys shows the host's devices).
fn index_of(name: &str) -> Res<u32> {
    Ok(nslink::RouteSocket::open()?.require_link(name)?.index())
}

fn link(index: u32) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m
}

fn route4(dst: Ipv4Addr, len: u8, gw: Ipv4Addr) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.destination_prefix_length = len;
    m.header.table = 254;
    m.header.protocol = RouteProtocol::Boot;
    m.header.scope = RouteScope::Universe;
    m.header.kind = RouteType::Unicast;
    m.attributes.push(RouteAttribute::Destination(RouteAddress::Inet(dst)));
    m.attributes.push(RouteAttribute::Gateway(RouteAddress::Inet(gw)));
    m
}

/// The requests whose replies become seeds.
fn exchanges(peers: &Peers) -> Res<Vec<Exchange>> {
    use RouteNetlinkMessage as M;
    use nslink::netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
    use nslink::netlink_packet_route::rule::RuleMessage;
    use std::os::fd::AsRawFd;
    let v1 = index_of("v1")?;
    let br0 = index_of("br0")?;
    let mut v4 = RouteMessage::default();
    v4.header.address_family = AddressFamily::Inet;
    let mut v6 = RouteMessage::default();
    v6.header.address_family = AddressFamily::Inet6;
    let mut up = link(1);
    up.header.flags = LinkFlags::Up;
    up.header.change_mask = LinkFlags::Up;
    let mut dup = LinkMessage::default();
    dup.attributes.push(LinkAttribute::IfName("br0".into()));
    dup.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]));
    let mut big_mtu = link(v1);
    big_mtu.attributes.push(LinkAttribute::Mtu(1 << 20));
    let mut no_vni = LinkMessage::default();
    no_vni.attributes.push(LinkAttribute::IfName("vx1".into()));
    no_vni.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Vxlan)]));
    let mut bad_dump = AddressMessage::default();
    bad_dump.header.prefix_len = 5;
    let mut rules4 = RuleMessage::default();
    rules4.header.family = AddressFamily::Inet;
    let mut rules6 = RuleMessage::default();
    rules6.header.family = AddressFamily::Inet6;
    let mut fdb = NeighbourMessage::default();
    fdb.header.family = AddressFamily::Bridge;
    let nsid_get = |ns: &NetNs| {
        let mut m = NsidMessage::default();
        m.attributes.push(NsidAttribute::Fd(ns.as_raw_fd() as u32));
        M::GetNsId(m)
    };
    let requests: Vec<(&'static str, M, u16)> = vec![
        ("link-dump", M::GetLink(LinkMessage::default()), NLM_F_DUMP),
        ("address-dump", M::GetAddress(AddressMessage::default()), NLM_F_DUMP),
        ("route4-dump", M::GetRoute(v4), NLM_F_DUMP),
        ("route6-dump", M::GetRoute(v6), NLM_F_DUMP),
        ("neighbour-dump", M::GetNeighbour(NeighbourMessage::default()), NLM_F_DUMP),
        ("get-link", M::GetLink(link(br0)), 0),
        ("set-up-ack", M::SetLink(up), 0),
        ("duplicate-device", M::NewLink(dup), NLM_F_CREATE | NLM_F_EXCL),
        ("mtu-too-big", M::SetLink(big_mtu), 0),
        ("vxlan-without-vni", M::NewLink(no_vni), NLM_F_CREATE | NLM_F_EXCL),
        (
            "unreachable-gateway",
            M::NewRoute(route4(Ipv4Addr::new(10, 50, 0, 0), 16, Ipv4Addr::new(192, 0, 2, 1))),
            NLM_F_CREATE | NLM_F_EXCL,
        ),
        ("missing-link", M::GetLink(link(99_999)), 0),
        ("bad-dump-header", M::GetAddress(bad_dump), NLM_F_DUMP),
        ("rule4-dump", M::GetRule(rules4), NLM_F_DUMP),
        ("rule6-dump", M::GetRule(rules6), NLM_F_DUMP),
        ("fdb-dump", M::GetNeighbour(fdb), NLM_F_DUMP),
        ("nsid-dump", M::GetNsId(NsidMessage::default()), NLM_F_DUMP),
        ("nsid-get", nsid_get(&peers.with_id), 0),
        ("nsid-get-unassigned", nsid_get(&peers.without_id), 0),
    ];
    let mut out = Vec::new();
    for (label, msg, flags) in requests {
        let (result, datagrams) = capture(msg, flags)?;
        match &result {
            Ok(n) => eprintln!("{label}: {n} messages in {} datagrams", datagrams.len()),
            Err(e) => eprintln!("{label}: {e} ({} datagrams)", datagrams.len()),
        }
        out.push(Exchange { label, datagrams });
    }
    Ok(out)
}

/// The messages of a datagram: (type, flags, payload).
fn messages(d: &[u8]) -> Vec<(u16, u16, &[u8])> {
    let mut out = Vec::new();
    let mut rest = d;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < 16 || len > rest.len() {
            break;
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        out.push((kind, flags, &rest[16..len]));
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    out
}

/// Writes seeds, skipping duplicates; returns how many files were written.
struct Seeds {
    dir: PathBuf,
    seen: BTreeSet<(String, Vec<u8>)>,
    count: usize,
}

impl Seeds {
    fn put(&mut self, target: &str, name: &str, bytes: Vec<u8>) -> Res<()> {
        if !self.seen.insert((target.to_owned(), bytes.clone())) {
            return Ok(());
        }
        let dir = self.dir.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), bytes)?;
        self.count += 1;
        Ok(())
    }
}

fn kernel(bytes: &[u8], seq_offset: i32) -> Step<'_> {
    Step::Kernel { bytes, seq_offset: Some(seq_offset) }
}

fn write_seeds(dir: &Path, ex: &[Exchange]) -> Res<usize> {
    let mut s = Seeds { dir: dir.to_owned(), seen: BTreeSet::new(), count: 0 };
    let by = |label: &str| ex.iter().find(|e| e.label == label).map(|e| &e.datagrams[..]);
    let mut link_names = Vec::new();
    for e in ex {
        if e.label == "notifications" || e.label.starts_with("rule") || e.label.starts_with("nsid")
        {
            // The monitor decodes whole datagrams.
            for (i, d) in e.datagrams.iter().enumerate() {
                s.put("monitor", &format!("{}-{i}", e.label), d.clone())?;
            }
        }
        if e.label != "notifications" {
            // The exchange alone, as the harness's first exchange sees it.
            let steps: Vec<Step<'_>> = e.datagrams.iter().map(|d| kernel(d, 0)).collect();
            s.put("dump_loop", e.label, encode_steps(&steps))?;
        }
        let mut n = [0usize; 8];
        for d in &e.datagrams {
            for (kind, flags, payload) in messages(d) {
                let (target, i) = match kind {
                    NLMSG_ERROR | NLMSG_DONE => {
                        let mut v = flags.to_ne_bytes().to_vec();
                        v.extend_from_slice(payload);
                        s.put("extack", &format!("{}-{}", e.label, n[0]), v)?;
                        n[0] += 1;
                        continue;
                    }
                    RTM_NEWLINK => {
                        link_names.push(ifname(payload));
                        ("decode_link", 1)
                    }
                    RTM_NEWADDR => ("decode_address", 2),
                    RTM_NEWROUTE => ("decode_route", 3),
                    RTM_NEWNEIGH if payload.first() == Some(&AF_BRIDGE) => {
                        s.put("decode_fdb", &format!("{}-{}", e.label, n[5]), payload.to_vec())?;
                        n[5] += 1;
                        ("decode_neighbour", 4)
                    }
                    RTM_NEWNEIGH => ("decode_neighbour", 4),
                    RTM_NEWRULE => ("decode_rule", 6),
                    RTM_NEWNSID => ("decode_nsid", 7),
                    _ => continue,
                };
                s.put(target, &format!("{}-{}", e.label, n[i]), payload.to_vec())?;
                n[i] += 1;
            }
        }
    }
    // Whole sessions in the harness's order: a link dump, a general dump,
    // a batch of two (one ack, one refusal with an extended ack), a GET.
    let (Some(links), Some(addrs), Some(routes), Some(neigh)) =
        (by("link-dump"), by("address-dump"), by("route4-dump"), by("neighbour-dump"))
    else {
        return Err("a dump is missing".into());
    };
    let (Some(ack), Some(refused), Some(get)) =
        (by("set-up-ack"), by("mtu-too-big"), by("get-link"))
    else {
        return Err("an acknowledged request is missing".into());
    };
    for (name, general) in
        [("session-addresses", addrs), ("session-routes", routes), ("session-neighbours", neigh)]
    {
        let mut steps: Vec<Step<'_>> = links.iter().map(|d| kernel(d, 0)).collect();
        steps.extend(general.iter().map(|d| kernel(d, 0)));
        steps.extend(ack.iter().map(|d| kernel(d, 0)));
        steps.extend(refused.iter().map(|d| kernel(d, 1)));
        steps.extend(get.iter().map(|d| kernel(d, 0)));
        s.put("dump_loop", name, encode_steps(&steps))?;
    }
    // The receive loop's other paths: a stale reply, a foreign sender, a
    // truncated datagram, EINTR and ENOBUFS.
    let mut steps = vec![kernel(&ack[0], -1), Step::Foreign(&ack[0]), Step::Fail(EINTR)];
    steps.extend(links.iter().map(|d| kernel(d, 0)));
    steps.push(Step::Truncated { bytes: &addrs[0], extra: 1 });
    steps.push(Step::Fail(ENOBUFS));
    s.put("dump_loop", "session-faults", encode_steps(&steps))?;

    for (i, name) in link_names.iter().enumerate() {
        s.put("names", &format!("link-{i}"), name.clone())?;
    }
    for (i, v) in [
        "eth0",
        "veth-pod1.100",
        "10.244.1.2/24",
        "fd00::1/64",
        "::ffff:10.0.0.1/96",
        "192.168.0.1",
        "02:42:ac:11:00:02",
        "02-42-AC-11-00-02",
        "net.ipv4.ip_forward",
        "net/ipv6/conf/eth0.100/accept_ra",
        "net.ipv4.../../etc",
        "link",
        "static",
        "main",
        "0xfd",
        "4294967295",
        "permanent",
        "blackhole",
        "ns-lab_1",
        "..",
        "a b",
        "x:y",
    ]
    .iter()
    .enumerate()
    {
        s.put("names", &format!("hand-{i}"), v.as_bytes().to_vec())?;
    }
    Ok(s.count)
}

/// The bytes of `IFLA_IFNAME` in a link payload, without the NUL.
fn ifname(payload: &[u8]) -> Vec<u8> {
    let mut rest = payload.get(16..).unwrap_or(&[]);
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        if len < 4 || len > rest.len() {
            break;
        }
        if kind == 3 {
            let v = &rest[4..len];
            return v.iter().take_while(|&&c| c != 0).copied().collect();
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    Vec::new()
}

/// Namespaces the lab's nsid requests are about: one given an id, one not.
struct Peers {
    with_id: NetNs,
    without_id: NetNs,
}

fn main() -> Res<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    // The namespace this process was started in: never touched.
    let host = NetNs::current()?;
    let host_inner = host.try_clone()?;
    let lab = NetNs::new()?;
    if lab == host {
        return Err("the new namespace is the host's: refusing".into());
    }
    let inner = lab.try_clone()?;
    let peers = Peers { with_id: NetNs::new()?, without_id: NetNs::new()? };
    let found = lab.run(move || -> Res<Vec<Exchange>> {
        // Every command and socket below lives in `lab`, never the host's.
        let here = NetNs::current()?;
        if here != inner || here == host_inner {
            return Err("not inside the capture namespace: refusing".into());
        }
        let monitor = notifications()?;
        populate()?;
        nslink::RouteSocket::open()?
            .set_netns_id(&peers.with_id, nslink::nsid::NsidRequest::Auto)?;
        let mut found = exchanges(&peers)?;
        depopulate()?;
        let datagrams = drain(&monitor)?;
        eprintln!("notifications: {} datagrams", datagrams.len());
        found.push(Exchange { label: "notifications", datagrams });
        Ok(found)
    })??;
    let n = write_seeds(&dir, &found)?;
    println!("wrote {n} seed files under {}", dir.display());
    Ok(())
}
