//! `nsip`: a scriptable subset of iproute2 (`ip`, `bridge fdb`, `bridge
//! vlan`, `ip netns`) built on nslink.
//!
//! ```text
//! cargo run --example nsip -- [-n NS] [-j] [-d] [-4|-6] OBJECT COMMAND ...
//! ```
//!
//! Its syntax is `ip`'s for the subset it has; with `-j` it prints JSON with
//! the field names and values of `ip -j` / `ip -d -j` / `bridge -j` (fewer
//! fields, never different ones). `-n NS` works inside the named namespace
//! (`/run/netns/NS`). Errors are one line on stderr (nslink's message, with
//! the kernel's) and exit code 1; bad syntax prints the usage on stderr and
//! exits 2; `--help` prints it on stdout and exits 0.
//!
//! Try it (as root):
//!
//! ```text
//! cargo run --example nsip -- netns add lab
//! cargo run --example nsip -- -n lab link add br0 type bridge
//! cargo run --example nsip -- -n lab link add v0 type veth peer name v1
//! cargo run --example nsip -- -n lab link set v0 master br0 up
//! cargo run --example nsip -- -n lab addr add 10.0.0.1/24 dev br0
//! cargo run --example nsip -- -n lab -j link show
//! cargo run --example nsip -- netns del lab
//! ```

#[path = "nsip/addr.rs"]
mod addr;
#[path = "nsip/bridge.rs"]
mod bridge;
#[path = "nsip/cli.rs"]
mod cli;
#[path = "nsip/link.rs"]
mod link;
// The `monitor` example's printing, shared: `nsip monitor` is the same tool.
#[allow(dead_code)]
#[path = "monitor.rs"]
mod monitor_cmd;
#[path = "nsip/neigh.rs"]
mod neigh;
#[path = "nsip/netns.rs"]
mod netns;
#[path = "nsip/route.rs"]
mod route;
#[path = "nsip/rule.rs"]
mod rule;

use std::process::ExitCode;

use nslink::RouteSocket;

use cli::{Ctx, Fail, Family, Res, Words, usage};

const USAGE: &str = "\
usage: nsip [-n NS] [-j] [-d] [-4|-6] OBJECT COMMAND ...
  link show [[dev] DEV] [group N] [type KIND] [master DEV] [up]
  link add [link DEV] [name] NAME [mtu N] [address MAC] [txqueuelen N] [alias TEXT]
           [group N] [master DEV] [netns NS] [up] type KIND [KIND OPTIONS]
       KIND: veth [peer name NAME [address MAC] [netns NS]]
             bridge [stp_state 0|1] [forward_delay CS] [ageing_time CS] [vlan_filtering 0|1]
             vxlan id VNI [dstport N] [local IP] [remote IP | group IP] [dev DEV] [ttl N]
                   [tos N] [[no]learning] [[no]l2miss] [[no]l3miss] [[no]udpcsum]
                   [[no]udp6zerocsumtx] [[no]udp6zerocsumrx]
             geneve id VNI remote IP [dstport N] [ttl N] [tos N] [[no]udpcsum] ...
             macvlan|macvtap [mode private|vepa|bridge|passthru|source]  (needs link DEV)
             ipvlan [mode l2|l3|l3s] [bridge|private|vepa]                (needs link DEV)
             vlan id N [protocol 802.1Q|802.1ad]                          (needs link DEV)
             bond [mode MODE] [miimon MS]
             vrf table N
             dummy | ifb | wireguard
  link set [dev] DEV {up | down | mtu N | address MAC | master DEV | nomaster |
                      netns NS | name NEW | alias TEXT | group N | txqueuelen N |
                      promisc on|off | allmulticast on|off | arp on|off | carrier on|off} ...
  link property add|del [dev] DEV altname NAME
  tuntap add [dev] NAME mode tun|tap [user UID] [group GID] [multi_queue] [vnet_hdr] [pi]
  tuntap del [dev] NAME | tuntap show
  link del [dev] DEV | link del group N
  addr add|del PREFIX dev DEV [scope S] [nodad] [noprefixroute]
  addr show [[dev] DEV]
  addr flush [dev] DEV
  route add|del|replace [TYPE] PREFIX [via IP] [dev DEV] [table T] [proto P] [scope S]
                        [metric N] [src IP] [onlink] [nexthop via IP [dev DEV] [weight N]]...
       TYPE: unicast|local|blackhole|unreachable|prohibit|throw|broadcast|multicast
  route show [table T|all] [dev DEV] [type TYPE] [proto P]
  route get ADDRESS [from IP] [iif DEV] [oif DEV] [mark N] [uid N] [fibmatch]
  rule add|del [not] [from PREFIX] [to PREFIX] [iif DEV] [oif DEV] [fwmark M[/MASK]]
               [priority N] [table T | goto N | blackhole | unreachable | prohibit | nop]
               [protocol P] [suppress_prefixlength N]
  rule show
  neigh add|replace IP lladdr MAC dev DEV [nud STATE]
  neigh del IP dev DEV
  neigh show [dev DEV] [nud STATE|all]
  fdb add|append|replace|del MAC dev DEV [master|self] [local|permanent|static|dynamic]
                 [sticky] [extern_learn] [dst IP] [vni N] [port N] [via DEV] [vlan N]
  fdb show [br BR] [dev DEV] [vlan N]
  vlan add|del vid N[-M] dev DEV [pvid] [untagged]
  vlan show [dev DEV]
  monitor [all-nsid] [link|address|route|neigh|rule|nsid|all]...
  netns add|del NAME
  netns list
  netns set NAME ID|auto
  netns list-id [nsid N]";

/// The options before the object.
struct Global {
    netns: Option<String>,
    json: bool,
    details: bool,
    family: Option<Family>,
}

/// Reads the options; returns them and the words after them.
fn global(args: Vec<String>) -> Res<Option<(Global, Vec<String>)>> {
    let mut g = Global { netns: None, json: false, details: false, family: None };
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.peek() {
        if !a.starts_with('-') {
            break;
        }
        let a = it.next().unwrap_or_default();
        match a.as_str() {
            "-h" | "-help" | "--help" => return Ok(None),
            "-j" | "-json" | "--json" => g.json = true,
            "-d" | "-details" | "--details" => g.details = true,
            "-p" | "-pretty" => {}
            "-4" => g.family = Some(Family::V4),
            "-6" => g.family = Some(Family::V6),
            "-n" | "-netns" | "--netns" => match it.next() {
                Some(ns) => g.netns = Some(ns),
                None => return usage("-n needs a namespace name"),
            },
            other => return usage(format!("unknown option \"{other}\"")),
        }
    }
    Ok(Some((g, it.collect())))
}

fn run(args: Vec<String>) -> Res<bool> {
    let Some((g, mut rest)) = global(args)? else { return Ok(false) };
    if rest.is_empty() {
        return usage("an OBJECT is needed");
    }
    let object = rest.remove(0);
    if object == "help" {
        return Ok(false);
    }
    if object == "monitor" {
        // `nsip [-n NS] [-j] monitor [all-nsid] [link|address|route|neigh|rule|nsid|all]...`
        let mut args = monitor_cmd::Args {
            netns: g.netns.clone(),
            all_netns: false,
            json: g.json,
            groups: nslink::monitor::MonitorGroups::empty(),
        };
        for w in &rest {
            match (w.as_str(), monitor_cmd::group_of(w)) {
                ("all-nsid", _) => args.all_netns = true,
                (_, Some(group)) => args.groups |= group,
                (other, None) => return usage(format!("monitor: unknown argument \"{other}\"")),
            }
        }
        if args.groups.is_empty() {
            args.groups = nslink::monitor::MonitorGroups::ALL;
        }
        monitor_cmd::run(&args)?;
        return Ok(true);
    }
    let words = Words::new(rest);
    // `netns add/del/list` need no socket in the target namespace, but
    // `list`'s ids are the socket's namespace's: open it like the rest.
    let netns = g.netns.as_deref().map(nslink::NetNs::open).transpose()?;
    let nl = match &netns {
        Some(ns) => RouteSocket::open_in(ns)?,
        None => RouteSocket::open()?,
    };
    let ctx = Ctx { nl, json: g.json, details: g.details, family: g.family };
    match object.as_str() {
        "link" | "l" => link::run(&ctx, words)?,
        "address" | "addr" | "a" => addr::run(&ctx, words)?,
        "route" | "r" => route::run(&ctx, words)?,
        "rule" | "ru" => rule::run(&ctx, words)?,
        "neighbour" | "neighbor" | "neigh" | "n" => neigh::run(&ctx, words)?,
        "tuntap" | "tap" => link::tuntap(&ctx, words)?,
        "fdb" => bridge::fdb(&ctx, words)?,
        "vlan" => bridge::vlan(&ctx, words)?,
        "netns" => netns::run(&ctx, words)?,
        other => return usage(format!("unknown object \"{other}\"")),
    }
    Ok(true)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(Fail::Usage(msg)) => {
            eprintln!("nsip: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("nsip: {e}");
            ExitCode::from(1)
        }
    }
}
