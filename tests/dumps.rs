//! Address, route and neighbour dumps: the per-link and per-table ones are
//! filtered by the kernel (strict checking), which the count of messages
//! read proves, and give what `ip -j … show dev X` / `show table N` give;
//! the lean decoders keep memory flat as a dump grows (measured with a
//! counting allocator).
//!
//! Every test runs inside `common::sandbox` (its own network and mount
//! namespace) and needs root.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::Stdio;

use common::{JsonExt as _, command, ip, ip_json, sandbox};
use nslink::{Errno, RouteSocket, RouteTable, VethPair};

/// `ip -batch -` with these lines, which must all succeed.
fn ip_batch(lines: &[String]) {
    let mut child = command("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("cannot run ip -batch");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(lines.join("\n").as_bytes()).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success(), "ip -batch failed");
}

/// `a0` and `a1`, a veth pair, both up.
fn pair(nl: &RouteSocket) {
    VethPair::builder("a0", "a1").create(nl).unwrap();
    nl.set_up("lo").unwrap();
    nl.set_up("a0").unwrap();
    nl.set_up("a1").unwrap();
}

/// `n` IPv4 addresses on `dev`, 10.100.x.y/32.
fn many_addresses(dev: &str, n: u32) {
    let lines: Vec<String> = (0..n)
        .map(|i| format!("addr add 10.100.{}.{}/32 dev {dev}", i / 250, i % 250 + 1))
        .collect();
    ip_batch(&lines);
}

/// Runs `f` and returns its result with how many dump messages the socket
/// read meanwhile.
fn counted<T>(nl: &RouteSocket, f: impl FnOnce() -> T) -> (T, u64) {
    let before = nl.dump_messages_read();
    let v = f();
    (v, nl.dump_messages_read() - before)
}

#[test]
fn link_addresses_are_filtered_by_the_kernel() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        pair(&nl);
        many_addresses("a1", 300);
        ip(&["addr", "add", "10.1.0.1/24", "dev", "a0"]);
        ip(&["addr", "add", "10.1.0.2/24", "dev", "a0"]);
        ip(&["addr", "add", "fd00:1::1/64", "dev", "a0", "nodad"]);
        let (mine, read) = counted(&nl, || nl.link_addresses("a0").unwrap());
        // The kernel sent a0's addresses only (IPv6 link-local included),
        // not the 300 of a1.
        assert_eq!(read, mine.len() as u64, "{mine:?}");
        let shown: BTreeSet<String> = ip_json(&["addr", "show", "dev", "a0"])
            .iter()
            .flat_map(|l| l.at("addr_info").items().to_vec())
            .map(|a| format!("{}/{}", a.at("local").text(), a.at("prefixlen").uint()))
            .collect();
        let got: BTreeSet<String> = mine.iter().map(|a| a.net.to_string()).collect();
        assert_eq!(got, shown);
        assert!(got.contains("10.1.0.2/24") && got.contains("fd00:1::1/64"), "{got:?}");
        // By index too, and the whole dump really is larger.
        let index = nl.link("a0").unwrap().unwrap().index();
        assert_eq!(nl.link_addresses(index).unwrap(), mine);
        let (all, read_all) = counted(&nl, || nl.addresses().unwrap());
        assert!(read_all >= 300 && all.len() as u64 == read_all, "{read_all}");
        // A missing link, by name or by index.
        for e in [nl.link_addresses("nope").unwrap_err(), nl.link_addresses(999_999).unwrap_err()] {
            assert_eq!(e.errno(), Some(Errno::ENODEV), "{e}");
        }
    });
}

#[test]
fn routes_in_table_are_filtered_by_the_kernel() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        pair(&nl);
        ip(&["addr", "add", "10.1.0.1/24", "dev", "a0"]);
        ip(&["addr", "add", "fd00:1::1/64", "dev", "a0", "nodad"]);
        let main: Vec<String> =
            (0..200).map(|i| format!("route add 10.200.{i}.0/24 via 10.1.0.254 dev a0")).collect();
        ip_batch(&main);
        for args in [
            "route add 10.50.0.0/24 dev a0 table 100",
            "route add default via 10.1.0.254 table 100",
            "route add blackhole 198.51.100.0/24 table 100",
            "-6 route add fd50::/48 via fd00:1::2 dev a0 table 100",
            "-6 route add blackhole fd60::/48 table 100",
        ] {
            ip(&args.split_whitespace().collect::<Vec<_>>());
        }
        let (mine, read) = counted(&nl, || nl.routes_in_table(RouteTable::Id(100)).unwrap());
        assert_eq!(read, mine.len() as u64, "{mine:?}");
        assert!(mine.iter().all(|r| r.table == RouteTable::Id(100)));
        let mut shown = BTreeSet::new();
        for (family, zero) in [("-4", "0.0.0.0/0"), ("-6", "::/0")] {
            for r in ip_json(&[family, "route", "show", "table", "100"]) {
                let dst = match r.at("dst").text() {
                    "default" => zero.to_owned(),
                    d if d.contains('/') => d.to_owned(),
                    d if family == "-4" => format!("{d}/32"),
                    d => format!("{d}/128"),
                };
                shown.insert(dst);
            }
        }
        let got: BTreeSet<String> = mine.iter().map(|r| r.dst.to_string()).collect();
        assert_eq!(got, shown);
        assert_eq!(got.len(), 5, "{got:?}");
        // The main table has the 200, and the full dump reads them all.
        let (main_routes, read_main) =
            counted(&nl, || nl.routes_in_table(RouteTable::Main).unwrap());
        assert_eq!(read_main, main_routes.len() as u64);
        assert!(main_routes.len() >= 200);
        let (_, read_all) = counted(&nl, || nl.routes().unwrap());
        assert!(read_all > read_main + read, "{read_all}");
        // A table nobody made, and table 0, have no routes.
        assert_eq!(counted(&nl, || nl.routes_in_table(RouteTable::Id(4242)).unwrap()), (vec![], 0));
        assert!(nl.routes_in_table(RouteTable::Id(0)).unwrap().is_empty());
    });
}

#[test]
fn link_neighbours_are_filtered_by_the_kernel() {
    sandbox(|| {
        let nl = RouteSocket::open().unwrap();
        pair(&nl);
        let lines: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "neigh add 10.9.{}.{} lladdr 02:00:00:00:{:02x}:{:02x} dev a1 nud permanent",
                    i / 250,
                    i % 250 + 1,
                    i / 256,
                    i % 256
                )
            })
            .collect();
        ip_batch(&lines);
        ip(&["neigh", "add", "10.1.0.7", "lladdr", "02:00:00:00:01:07", "dev", "a0"]);
        ip(&[
            "neigh",
            "add",
            "10.1.0.8",
            "dev",
            "a0",
            "nud",
            "stale",
            "lladdr",
            "02:00:00:00:01:08",
        ]);
        ip(&["neigh", "add", "fd00::8", "lladdr", "02:00:00:00:01:09", "dev", "a0", "router"]);
        let (mine, read) = counted(&nl, || nl.link_neighbours("a0").unwrap());
        assert_eq!(read, mine.len() as u64, "{mine:?}");
        // The kernel adds multicast entries of its own (ff02::16 when the
        // link's MLD report goes out) at any moment, between the two reads:
        // the comparison is of the unicast entries, which only the test makes.
        let unicast = |ip: &str| !ip.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_multicast());
        let shown: BTreeSet<String> = ip_json(&["neigh", "show", "dev", "a0", "nud", "all"])
            .iter()
            .map(|n| n.at("dst").text().to_owned())
            .filter(|ip| unicast(ip))
            .collect();
        let got: BTreeSet<String> =
            mine.iter().map(|n| n.ip.to_string()).filter(|ip| unicast(ip)).collect();
        assert_eq!(got, shown);
        assert!(got.contains("10.1.0.8") && got.contains("fd00::8"), "{got:?}");
        let (all, read_all) = counted(&nl, || nl.neighbours().unwrap());
        assert!(all.len() >= 303 && read_all >= 303, "{read_all}");
        // A missing index has no entries; a missing name is ENODEV.
        assert_eq!(counted(&nl, || nl.link_neighbours(999_999).unwrap()), (vec![], 0));
        assert_eq!(nl.link_neighbours("nope").unwrap_err().errno(), Some(Errno::ENODEV));
    });
}

// ---------------------------------------------------------------------------
// Memory: a counting allocator, per thread
// ---------------------------------------------------------------------------

struct Counting;

thread_local! {
    /// Bytes allocated by this thread and not yet freed (freeing another
    /// thread's memory counts here too, which the measured code never does).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` seen since the last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// Allocations made since the last reset.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize, alloc: bool) {
    // `try_with`: a thread being torn down has no counters any more.
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    if alloc {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    }
}

// SAFETY: every call is passed to `System` unchanged; the counters only
// observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, true);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), false);
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new block then the old one freed: the moment both
        // exist is the peak a growing vector really costs.
        note(new_size as isize, true);
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        note(-(layout.size() as isize), false);
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What `f` cost this thread: (peak bytes above the start, bytes still held
/// at the end, allocations).
fn measure<T>(f: impl FnOnce() -> T) -> (T, isize, isize, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    ALLOCS.with(|a| a.set(0));
    let v = f();
    let end = LIVE.with(Cell::get);
    (v, PEAK.with(Cell::get) - start, end - start, ALLOCS.with(Cell::get))
}

/// The address dump's memory at 1,000 and 10,000 addresses: beyond the
/// result it returns (the vector and each IPv4 label), what it holds at its
/// peak does not grow with the dump. The same dump through
/// [`RouteSocket::request_raw`] (every reply kept as a decoded
/// `netlink-packet-route` message, as `addresses()` did before) is printed
/// beside it.
#[test]
fn address_dump_memory_is_flat_beyond_the_result() {
    sandbox(|| {
        use nslink::netlink_packet_core::NLM_F_DUMP;
        use nslink::netlink_packet_route::{RouteNetlinkMessage, address::AddressMessage};
        let nl = RouteSocket::open().unwrap();
        pair(&nl);
        // Warm up: the socket's buffers and the link lookup exist already.
        nl.addresses().unwrap();
        let mut overheads = Vec::new();
        for (n, more) in [(1_000, 1_000), (10_000, 9_000)] {
            let start = 1_000 * u32::from(n == 10_000);
            let lines: Vec<String> = (start..start + more)
                .map(|i| format!("addr add 10.{}.{}.1/32 dev a1", 100 + i / 250, i % 250))
                .collect();
            ip_batch(&lines);
            let (list, peak, held, allocs) = measure(|| nl.addresses().unwrap());
            assert!(list.len() >= n, "{}", list.len());
            // Beyond what the result holds, a bounded amount: a growing
            // vector briefly has its old buffer too (half the new one).
            let extra = peak - held;
            let bound = held / 2 + 256 * 1024;
            let req = || RouteNetlinkMessage::GetAddress(AddressMessage::default());
            let (raw, raw_peak, _, raw_allocs) = measure(|| nl.request_raw(req(), NLM_F_DUMP));
            drop(raw);
            println!(
                "{n} addresses: result {held} B, peak {peak} B ({extra} B beyond the result), \
                 {allocs} allocations; request_raw: peak {raw_peak} B, {raw_allocs} allocations"
            );
            assert!(extra <= bound, "peak {peak} B for a result of {held} B");
            // One allocation per address (its label) and a few for the
            // vector: nothing per message beyond what the result keeps.
            assert!(allocs <= list.len() + 64, "{allocs} allocations for {}", list.len());
            overheads.push(extra - held / 2);
        }
        // The part that is not the result's growth stays the same.
        assert!(overheads[1] <= overheads[0] + 64 * 1024, "{overheads:?}");
    });
}
