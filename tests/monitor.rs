//! The event monitor (issue 9's proof), checked against the real tools.
//!
//! Every test runs inside [`common::sandbox`]: a throwaway thread in a
//! fresh, private network and mount namespace with an empty tmpfs on
//! `/run`, so the devices, addresses and namespaces made here vanish with
//! it. The tests need root and fail loudly without it.
//!
//! Oracles: the changes are made by `ip` (and by nslink); the monitor's
//! view, built only from its events with `Snapshot::apply`, is compared
//! with `ip -j link show` and `ip -j addr show` field by field.

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nslink::monitor::{Event, Monitor, MonitorGroups, Notification, Overflow, Snapshot};
use nslink::{LinkFlags, NetNs, RouteSocket};

use common::{JsonExt as _, ip, ip_json, sandbox};

/// A test of one expected event.
type Check<'a> = Box<dyn Fn(&Event) -> bool + 'a>;

/// How long a test waits for an event it expects.
const WAIT: Duration = Duration::from_secs(10);

/// Reads events until one satisfies `want`; returns it and every event
/// before it. Panics after [`WAIT`].
#[track_caller]
fn wait_for(
    mon: &mut Monitor,
    what: &str,
    want: impl Fn(&Notification) -> bool,
) -> (Notification, Vec<Notification>) {
    let deadline = Instant::now() + WAIT;
    let mut before = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = mon
            .next_timeout(Some(left))
            .expect("monitor error")
            .unwrap_or_else(|| panic!("no event {what} within {WAIT:?}; got {before:#?}"));
        if want(&n) {
            return (n, before);
        }
        before.push(n);
    }
}

/// Reads events into `view` until none comes for `quiet`; returns them.
fn read_until_quiet(mon: &mut Monitor, view: &mut Snapshot, quiet: Duration) -> Vec<Notification> {
    let mut all = Vec::new();
    while let Some(n) = mon.next_timeout(Some(quiet)).expect("monitor error") {
        view.apply(&n);
        all.push(n);
    }
    all
}

/// The links as `(index, name, mtu, up)`, from `ip -j link show`.
fn ip_links() -> BTreeSet<(u32, String, u32, bool)> {
    ip_json(&["link", "show"])
        .iter()
        .map(|l| {
            (
                l.at("ifindex").uint() as u32,
                l.at("ifname").text().to_owned(),
                l.at("mtu").uint() as u32,
                l.flags().contains("UP"),
            )
        })
        .collect()
}

/// The links of a monitor's view, the same way.
fn view_links(view: &Snapshot) -> BTreeSet<(u32, String, u32, bool)> {
    view.links
        .iter()
        .map(|l| {
            let name = l.name().to_str().expect("UTF-8 name").to_owned();
            (l.index(), name, l.mtu(), l.flags().contains(LinkFlags::UP))
        })
        .collect()
}

/// The addresses as `(index, address, prefix)`, from `ip -j addr show`.
fn ip_addresses() -> BTreeSet<(u32, String, u8)> {
    let mut out = BTreeSet::new();
    for l in ip_json(&["addr", "show"]) {
        let index = l.at("ifindex").uint() as u32;
        for a in l.at("addr_info").items() {
            out.insert((index, a.at("local").text().to_owned(), a.at("prefixlen").uint() as u8));
        }
    }
    out
}

/// The addresses of a monitor's view, the same way.
fn view_addresses(view: &Snapshot) -> BTreeSet<(u32, String, u8)> {
    view.addresses.iter().map(|a| (a.index, a.net.addr().to_string(), a.net.prefix_len())).collect()
}

/// Runs `ip -batch -` with `lines`.
fn ip_batch(lines: &str) {
    let mut child = common::command("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn ip -batch");
    child.stdin.take().expect("stdin").write_all(lines.as_bytes()).expect("write batch");
    let status = child.wait().expect("wait ip -batch");
    assert!(status.success(), "ip -batch failed: {status}");
}

/// The view and the tools agree on links and addresses.
#[track_caller]
fn assert_view_is_ip(view: &Snapshot) {
    assert_eq!(view_links(view), ip_links(), "links: monitor view vs ip -j link show");
    assert_eq!(view_addresses(view), ip_addresses(), "addresses: monitor view vs ip -j addr show");
}

/// Changes made with `ip` and with nslink arrive as the right typed events,
/// in the order they were made, after a snapshot equal to what `ip` shows.
#[test]
fn changes_arrive_as_typed_events_in_order() {
    sandbox(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        let mut mon = Monitor::open(MonitorGroups::ALL).unwrap();
        // First the snapshot, equal to what ip shows.
        let first = mon.next_timeout(Some(WAIT)).unwrap().expect("a snapshot");
        let Event::Snapshot(s) = &first.event else { panic!("first event {first:?}") };
        assert_eq!(first.nsid, None);
        let mut view = Snapshot::default();
        assert!(view.apply(&first));
        assert_view_is_ip(&view);
        assert_eq!(s.links.len(), 3, "lo, v0, v1");
        // Nothing else is queued: a quiet namespace stays quiet.
        assert!(mon.try_next().unwrap().is_none());

        let nl = RouteSocket::open().unwrap();
        let v0 = nl.require_link("v0").unwrap().index();
        ip(&["link", "add", "w0", "type", "veth", "peer", "name", "w1"]);
        let (n, before) = wait_for(
            &mut mon,
            "w0 added",
            |n| matches!(&n.event, Event::LinkAdded(l) if l.name() == "w0"),
        );
        for b in &before {
            view.apply(b);
        }
        view.apply(&n);
        let Event::LinkAdded(w0) = n.event else { unreachable!() };
        // The same type, the same values as a dump gives.
        let dumped = nl.require_link("w0").unwrap();
        assert_eq!(
            (w0.index(), w0.mtu(), w0.kind()),
            (dumped.index(), dumped.mtu(), dumped.kind())
        );

        nl.set_mtu("v0", 1400).unwrap(); // nslink
        ip(&["link", "set", "v0", "up"]);
        ip(&["link", "set", "v1", "up"]);
        ip(&["addr", "add", "10.1.0.1/24", "dev", "v0"]);
        ip(&["route", "add", "10.9.0.0/16", "via", "10.1.0.2", "metric", "7"]);
        ip(&["neigh", "add", "10.1.0.9", "lladdr", "02:00:00:00:00:09", "dev", "v0"]);
        ip(&["neigh", "del", "10.1.0.9", "dev", "v0"]);
        ip(&["route", "del", "10.9.0.0/16", "via", "10.1.0.2", "metric", "7"]);
        ip(&["addr", "del", "10.1.0.1/24", "dev", "v0"]);
        ip(&["link", "del", "w0"]);

        let steps: Vec<(&str, Check<'_>)> = vec![
            (
                "v0 mtu 1400",
                Box::new(
                    |e| matches!(e, Event::LinkChanged(l) if l.index() == v0 && l.mtu() == 1400),
                ),
            ),
            (
                "v0 up",
                Box::new(|e| matches!(e, Event::LinkChanged(l) if l.index() == v0 && l.is_up())),
            ),
            (
                "address added",
                Box::new(|e| {
                    matches!(e, Event::AddressAdded(a)
                        if a.index == v0 && a.net.to_string() == "10.1.0.1/24")
                }),
            ),
            (
                "route added",
                Box::new(|e| {
                    matches!(e, Event::RouteAdded(r)
                        if r.dst.to_string() == "10.9.0.0/16"
                            && r.gateway == Some("10.1.0.2".parse().unwrap())
                            && r.metric == Some(7))
                }),
            ),
            (
                "neighbour added",
                Box::new(|e| {
                    matches!(e, Event::NeighbourAdded(n)
                        if n.index == v0 && n.ip.to_string() == "10.1.0.9"
                            && n.mac.map(|m| m.to_string()).as_deref() == Some("02:00:00:00:00:09"))
                }),
            ),
            (
                "neighbour removed",
                Box::new(
                    |e| matches!(e, Event::NeighbourRemoved(n) if n.ip.to_string() == "10.1.0.9"),
                ),
            ),
            (
                "route removed",
                Box::new(
                    |e| matches!(e, Event::RouteRemoved(r) if r.dst.to_string() == "10.9.0.0/16"),
                ),
            ),
            (
                "address removed",
                Box::new(
                    |e| matches!(e, Event::AddressRemoved(a) if a.net.to_string() == "10.1.0.1/24"),
                ),
            ),
            (
                "w0 removed",
                Box::new(move |e| matches!(e, Event::LinkRemoved(l) if l.index() == w0.index())),
            ),
        ];
        for (what, want) in &steps {
            let (n, before) = wait_for(&mut mon, what, |n| want(&n.event));
            assert_eq!(n.nsid, None, "{what}");
            for b in &before {
                view.apply(b);
            }
            view.apply(&n);
        }
        // The kernel announces an IPv6 address only once duplicate address
        // detection is over (a second or two after the links went up),
        // while `ip` lists it, tentative, at once: wait for those too.
        read_until_quiet(&mut mon, &mut view, Duration::from_millis(3000));
        assert_view_is_ip(&view);
        assert_eq!(mon.overflows(), 0);
    });
}

/// Events delivered after a snapshot are all newer than it, even when the
/// changes run while the snapshot is taken: no step back, no duplicate.
#[test]
fn events_after_a_snapshot_are_never_older_than_it() {
    sandbox(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "mtu", "1280"]);
        // 600 more devices make each snapshot's dump last long enough for
        // changes to land while it runs.
        let batch: String =
            (0..300).map(|i| format!("link add p{i} type veth peer name q{i}\n")).collect();
        ip_batch(&batch);
        let nl = Arc::new(RouteSocket::open().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let (nl, stop) = (Arc::clone(&nl), Arc::clone(&stop));
            let ns = NetNs::current().unwrap();
            ns.spawn(move || {
                let mut mtu = 1280;
                while !stop.load(Ordering::Relaxed) {
                    mtu = if mtu >= 9000 { 1280 } else { mtu + 1 };
                    nl.set_mtu("v0", mtu).unwrap();
                }
            })
            .unwrap()
        };
        let mut checked = 0;
        for _ in 0..30 {
            let mut mon = Monitor::open(MonitorGroups::LINK).unwrap();
            let first = mon.next_timeout(Some(WAIT)).unwrap().unwrap();
            let Event::Snapshot(s) = first.event else { panic!("first event {:?}", first.event) };
            let mut last = s.links.iter().find(|l| l.name() == "v0").unwrap().mtu();
            for _ in 0..20 {
                let n = mon.next_timeout(Some(WAIT)).unwrap().unwrap();
                match n.event {
                    Event::LinkChanged(l) if l.name() == "v0" => {
                        // The producer only goes up (wrapping from 9000 to
                        // 1280), one step at a time.
                        let expected = if last >= 9000 { 1280 } else { last + 1 };
                        assert_eq!(l.mtu(), expected, "after mtu {last}");
                        last = l.mtu();
                        checked += 1;
                    }
                    // The producer is a tight loop: on a loaded machine it
                    // can fill even 4 MiB while this thread waits for a
                    // core. A resync is no step back either: its snapshot is
                    // the new baseline, and what follows must be newer.
                    Event::Resync { snapshot: s, .. } => {
                        last = s.links.iter().find(|l| l.name() == "v0").unwrap().mtu();
                    }
                    _ => {}
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        producer.join().unwrap();
        assert!(checked >= 500, "only {checked} events checked");
    });
}

/// 10,000 changes against the smallest receive buffer the kernel allows:
/// the monitor overflows, resyncs, and then its view equals `ip -j`.
#[test]
fn a_flood_overflows_and_the_resync_equals_ip() {
    sandbox(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        let mut mon = Monitor::builder(MonitorGroups::LINK | MonitorGroups::ADDRESS)
            .receive_buffer(0)
            .open()
            .unwrap();
        assert!(mon.receive_buffer().unwrap() < 16 << 10, "{}", mon.receive_buffer().unwrap());
        let mut view = Snapshot::default();
        let first = mon.next_timeout(Some(WAIT)).unwrap().unwrap();
        assert!(view.apply(&first));
        // 10,000 changes, made while the monitor does not read.
        let mut batch = String::new();
        for i in 0..5000 {
            batch += &format!("address add 10.{}.{}.1/32 dev v0\n", i / 250, i % 250);
        }
        for i in (0..5000).step_by(2) {
            batch += &format!("address del 10.{}.{}.1/32 dev v0\n", i / 250, i % 250);
        }
        for i in 0..2500 {
            batch += &format!("link set dev v0 mtu {}\n", 1300 + i);
        }
        ip_batch(&batch);
        let events = read_until_quiet(&mut mon, &mut view, Duration::from_millis(500));
        assert!(mon.overflows() >= 1, "no overflow with a tiny buffer");
        let resyncs: Vec<u64> = events
            .iter()
            .filter_map(|n| match &n.event {
                Event::Resync { overflows, other_netns_lost, .. } => {
                    assert!(!other_netns_lost);
                    Some(*overflows)
                }
                _ => None,
            })
            .collect();
        assert!(!resyncs.is_empty(), "overflows but no resync");
        assert_eq!(resyncs.iter().sum::<u64>(), mon.overflows(), "every overflow is repaired");
        assert_view_is_ip(&view);
        assert_eq!(view.addresses.len(), 2500);
        assert_eq!(view.links.iter().find(|l| l.name() == "v0").unwrap().mtu(), 3799);
    });
}

/// With `Overflow::Error` the loss is an error (ENOBUFS, the kernel's
/// errno); `resync` brings the state back.
#[test]
fn an_overflow_can_be_an_error_then_a_resync() {
    sandbox(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        let mut mon = Monitor::builder(MonitorGroups::LINK)
            .receive_buffer(0)
            .on_overflow(Overflow::Error)
            .open()
            .unwrap();
        let mut view = Snapshot::default();
        view.apply(&mon.next_timeout(Some(WAIT)).unwrap().unwrap());
        let batch: String =
            (0..2000).map(|i| format!("link set dev v0 mtu {}\n", 1300 + i)).collect();
        ip_batch(&batch);
        let err = loop {
            match mon.next_timeout(Some(WAIT)) {
                Ok(Some(n)) => {
                    view.apply(&n);
                }
                Ok(None) => panic!("no overflow reported"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.raw_os_error(), Some(nix::libc::ENOBUFS), "{err}");
        assert!(err.to_string().contains("receive events"), "{err}");
        assert_eq!(mon.overflows(), 1);
        mon.resync().unwrap();
        let n = mon.next_timeout(Some(WAIT)).unwrap().unwrap();
        assert!(matches!(n.event, Event::Resync { overflows: 1, .. }), "{:?}", n.event);
        view.apply(&n);
        read_until_quiet(&mut mon, &mut view, Duration::from_millis(300));
        assert_view_is_ip(&view);
    });
}

/// A consumer slower than the changes never sees a lie: between two
/// snapshots, every value is the next one the producer set; after the end,
/// the view is what `ip` shows.
#[test]
fn a_slow_consumer_never_sees_a_lie() {
    sandbox(|| {
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        ip(&["link", "set", "v0", "mtu", "1299"]);
        let mut mon =
            Monitor::builder(MonitorGroups::LINK).receive_buffer(16 << 10).open().unwrap();
        let producer = NetNs::current()
            .unwrap()
            .spawn(|| {
                let nl = RouteSocket::open().unwrap();
                for mtu in 1300..4300 {
                    nl.set_mtu("v0", mtu).unwrap();
                    // A pause now and then, so that the consumer sees single
                    // changes as well as overflows even on a loaded machine.
                    if mtu % 50 == 0 {
                        thread::sleep(Duration::from_millis(2));
                    }
                }
            })
            .unwrap();
        let mut view = Snapshot::default();
        let mut last: Option<u32> = None;
        let mut resyncs = 0;
        let mut changes = 0;
        let v0_mtu = |s: &Snapshot| s.links.iter().find(|l| l.name() == "v0").unwrap().mtu();
        // Until the producer has finished and every notification it caused
        // is read: its set_mtu calls are synchronous, so once it has
        // finished, a wait that finds nothing finds nothing more. (500 ms of
        // quiet alone is no proof: a loaded machine can pause the producer
        // longer than that.)
        loop {
            let finished = producer.is_finished();
            let Some(n) = mon.next_timeout(Some(Duration::from_millis(500))).unwrap() else {
                if finished {
                    break;
                }
                continue;
            };
            match &n.event {
                Event::Snapshot(s) | Event::Resync { snapshot: s, .. } => {
                    let m = v0_mtu(s);
                    if let Some(l) = last {
                        assert!(m >= l, "a resync went back from mtu {l} to {m}");
                    }
                    resyncs += matches!(n.event, Event::Resync { .. }) as u32;
                    last = Some(m);
                }
                Event::LinkChanged(l) if l.name() == "v0" => {
                    let prev = last.expect("a snapshot first");
                    assert_eq!(l.mtu(), prev + 1, "an event that is not the next change");
                    last = Some(l.mtu());
                    changes += 1;
                }
                _ => {}
            }
            view.apply(&n);
            thread::sleep(Duration::from_micros(300));
        }
        producer.join().unwrap();
        assert_eq!(last, Some(4299));
        assert_eq!(resyncs as u64 > 0, mon.overflows() > 0, "{resyncs} resyncs");
        assert!(changes > 0);
        assert_view_is_ip(&view);
        eprintln!("slow consumer: {changes} changes seen, {resyncs} resyncs");
    });
}

/// With `all_netns`, events of two other namespaces arrive tagged with the
/// id each has here, resolved to the namespace; ours are untagged.
#[test]
fn other_namespaces_events_arrive_tagged_with_their_nsid() {
    sandbox(|| {
        ip(&["netns", "add", "nsa"]);
        ip(&["netns", "add", "nsb"]);
        ip(&["netns", "set", "nsa", "7"]);
        ip(&["netns", "set", "nsb", "9"]);
        let mut mon = Monitor::builder(MonitorGroups::LINK | MonitorGroups::NSID)
            .all_netns(true)
            .resolve_nsid(|id| match id {
                7 => NetNs::open("nsa").ok(),
                9 => NetNs::open("nsb").ok(),
                _ => None,
            })
            .open()
            .unwrap();
        let first = mon.next_timeout(Some(WAIT)).unwrap().unwrap();
        let Event::Snapshot(s) = &first.event else { panic!("{first:?}") };
        let mut ids = s.nsids.clone();
        ids.sort();
        assert_eq!(ids, [7, 9], "the snapshot lists the ids, as ip netns list-id");

        ip(&["-n", "nsa", "link", "add", "a0", "type", "veth", "peer", "name", "a1"]);
        ip(&["-n", "nsb", "link", "add", "b0", "type", "veth", "peer", "name", "b1"]);
        ip(&["link", "add", "h0", "type", "veth", "peer", "name", "h1"]);
        let added = |name: &'static str| move |n: &Notification| matches!(&n.event, Event::LinkAdded(l) if l.name() == name);
        let (a0, _) = wait_for(&mut mon, "a0", added("a0"));
        assert_eq!(a0.nsid, Some(7));
        assert_eq!(a0.netns.as_deref(), Some(&NetNs::open("nsa").unwrap()));
        let (b0, _) = wait_for(&mut mon, "b0", added("b0"));
        assert_eq!(b0.nsid, Some(9));
        assert_eq!(b0.netns.as_deref(), Some(&NetNs::open("nsb").unwrap()));
        let (h0, _) = wait_for(&mut mon, "h0", added("h0"));
        assert_eq!((h0.nsid, h0.netns.is_none()), (None, true));
        // Each nslink change inside a namespace is tagged too.
        let nsa = NetNs::open("nsa").unwrap();
        RouteSocket::open_in(&nsa).unwrap().set_mtu("a1", 1234).unwrap();
        let (a1, _) = wait_for(
            &mut mon,
            "a1 mtu",
            |n| matches!(&n.event, Event::LinkChanged(l) if l.name() == "a1" && l.mtu() == 1234),
        );
        assert_eq!(a1.nsid, Some(7));
    });
}

/// A namespace watched from outside ends with `NsIdRemoved` when it is
/// destroyed, and nothing tagged with its id follows. A monitor *inside* it
/// keeps it alive: deleting the name ends nothing until that monitor goes.
#[test]
fn a_deleted_namespace_ends_its_stream_with_nsid_removed() {
    sandbox(|| {
        ip(&["netns", "add", "nsc"]);
        ip(&["netns", "set", "nsc", "11"]);
        let mut outside = Monitor::builder(MonitorGroups::LINK | MonitorGroups::NSID)
            .all_netns(true)
            .snapshot(false)
            .open()
            .unwrap();
        let mut inside = {
            let nsc = NetNs::open("nsc").unwrap();
            Monitor::open_in(&nsc, MonitorGroups::LINK).unwrap()
        };
        assert!(matches!(inside.next().unwrap().unwrap().event, Event::Snapshot(_)));
        ip(&["-n", "nsc", "link", "add", "c0", "type", "veth", "peer", "name", "c1"]);
        let (n, _) = wait_for(
            &mut outside,
            "c0",
            |n| matches!(&n.event, Event::LinkAdded(l) if l.name() == "c0"),
        );
        assert_eq!(n.nsid, Some(11));
        wait_for(
            &mut inside,
            "c0 inside",
            |n| matches!(&n.event, Event::LinkAdded(l) if l.name() == "c0"),
        );

        ip(&["netns", "del", "nsc"]);
        // The inside monitor holds the namespace: it is not destroyed.
        assert!(
            outside.next_timeout(Some(Duration::from_millis(500))).unwrap().is_none(),
            "an event while the namespace is still held"
        );
        assert!(inside.try_next().unwrap().is_none());
        drop(inside);
        let (gone, before) = wait_for(&mut outside, "nsid 11 removed", |n| {
            matches!(n.event, Event::NsIdRemoved(11))
        });
        assert_eq!(gone.nsid, None, "the id is taken back in the watching namespace");
        assert!(before.iter().all(|n| n.nsid.is_none()), "{before:?}");
        let after =
            read_until_quiet(&mut outside, &mut Snapshot::default(), Duration::from_millis(300));
        assert!(after.iter().all(|n| n.nsid != Some(11)), "{after:?}");
    });
}

/// The monitor fits an event loop: non-blocking `try_next`, and `poll` on
/// its descriptor says when to call it again.
#[test]
fn try_next_and_poll_fit_an_event_loop() {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd as _;
    sandbox(|| {
        let mut mon = Monitor::builder(MonitorGroups::LINK).snapshot(false).open().unwrap();
        assert!(mon.try_next().unwrap().is_none());
        let ready = poll(&mut [PollFd::new(mon.as_fd(), PollFlags::POLLIN)], PollTimeout::ZERO);
        assert_eq!(ready.unwrap(), 0, "readable with nothing queued");
        ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
        let ready =
            poll(&mut [PollFd::new(mon.as_fd(), PollFlags::POLLIN)], PollTimeout::from(5000u16));
        assert_eq!(ready.unwrap(), 1);
        let mut names = Vec::new();
        while let Some(n) = mon.try_next().unwrap() {
            if let Event::LinkAdded(l) = n.event {
                names.push(l.name().to_str().unwrap().to_owned());
            }
        }
        names.sort();
        assert_eq!(names, ["v0", "v1"]);
        // A short timeout ends quietly.
        let t = Instant::now();
        assert!(mon.next_timeout(Some(Duration::from_millis(50))).unwrap().is_none());
        assert!(t.elapsed() >= Duration::from_millis(50));
    });
}
