//! The pod network built with the crates a Rust user would pick instead of
//! nslink: netns-rs for the named namespaces (made, entered, removed) and
//! rtnetlink over a tokio runtime for the bridge, the veths, the addresses
//! and the routes. Written here for the benchmark, the way those crates'
//! documentation shows: one rtnetlink connection per namespace, opened
//! while the thread is inside it (`NetNs::run`), a request per setting,
//! awaited in turn, devices found by name with a `get` before use.
//!
//! Differences from `ip` that the state check would see are set explicitly:
//! routes get the `boot` protocol (rtnetlink's default is `static`; `ip`
//! and nslink use `boot`).

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd as _;

use futures::TryStreamExt as _;
use netns_rs::NetNs;
use rtnetlink::packet_route::link::{BridgeStpState, InfoData, InfoVeth};
use rtnetlink::packet_route::route::RouteProtocol;
use rtnetlink::{Handle, LinkBridge, LinkUnspec, LinkVeth, RouteMessageBuilder, new_connection};
use tokio::runtime::Runtime;

use crate::podnet::{self, BRIDGE, BRIDGE_MAC};
use crate::{NODE, Res, gateway, pod_name};

/// What the build leaves for the teardown: the namespaces, and the runtime
/// that drives every connection (dropping it closes their sockets).
pub struct Built {
    runtime: Runtime,
    handles: Vec<Handle>,
    namespaces: Vec<NetNs>,
}

/// A connection whose socket lives in `ns`, driven by `rt`.
fn connect(rt: &Runtime, ns: &NetNs) -> Res<Handle> {
    let _context = rt.enter();
    let (connection, handle, _) = ns.run(|_| new_connection())??;
    rt.spawn(connection);
    Ok(handle)
}

/// The index of device `name`, looked up by name.
async fn index_of(h: &Handle, name: &str) -> Res<u32> {
    let mut links = h.link().get().match_name(name.to_string()).execute();
    match links.try_next().await? {
        Some(l) => Ok(l.header.index),
        None => Err(format!("no device {name}").into()),
    }
}

async fn set_up(h: &Handle, name: &str) -> Res<()> {
    h.link().set(LinkUnspec::new_with_name(name).up().build()).execute().await?;
    Ok(())
}

fn mac(text: &str) -> Res<Vec<u8>> {
    text.split(':')
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("MAC {text}: {e}").into()))
        .collect()
}

/// Builds the node and `pods` pods.
pub fn build(pods: usize) -> Res<Built> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let mut built = Built { handles: Vec::new(), namespaces: Vec::new(), runtime };
    let gw = gateway();

    let node = NetNs::new(NODE)?;
    let nh = connect(&built.runtime, &node)?;
    built.namespaces.push(node);
    built.handles.push(nh.clone());
    built.runtime.block_on(async {
        set_up(&nh, "lo").await?;
        let bridge = LinkBridge::new(BRIDGE)
            .stp_state(BridgeStpState::Disabled)
            .address(mac(BRIDGE_MAC)?)
            .up()
            .build();
        nh.link().add(bridge).execute().await?;
        let br = index_of(&nh, BRIDGE).await?;
        nh.address().add(br, IpAddr::V4(gw), 24).execute().await?;
        Res::Ok(())
    })?;
    built.namespaces[0].run(|_| std::fs::write("/proc/sys/net/ipv4/ip_forward", "1"))??;

    let br = built.runtime.block_on(index_of(&nh, BRIDGE))?;
    for i in 1..=pods {
        let pod = NetNs::new(pod_name(i))?;
        // The peer, "eth0", is made directly in the pod.
        let peer = LinkUnspec::new_with_name("eth0").setns_by_fd(pod.file().as_raw_fd()).build();
        let veth = LinkVeth::new(&format!("veth{i}"), "eth0")
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .controller(br)
            .up()
            .build();
        built.runtime.block_on(nh.link().add(veth).execute())?;
        let ph = connect(&built.runtime, &pod)?;
        built.namespaces.push(pod);
        built.handles.push(ph.clone());
        let ip: Ipv4Addr = podnet::pod_ip(i);
        built.runtime.block_on(async {
            set_up(&ph, "lo").await?;
            set_up(&ph, "eth0").await?;
            let eth0 = index_of(&ph, "eth0").await?;
            ph.address().add(eth0, IpAddr::V4(ip), 24).execute().await?;
            let route = RouteMessageBuilder::<Ipv4Addr>::new()
                .gateway(gw)
                .protocol(RouteProtocol::Boot)
                .build();
            ph.route().add(route).execute().await?;
            Res::Ok(())
        })?;
    }
    Ok(built)
}

/// Removes every namespace (netns-rs: unmount and unlink), then closes
/// every connection. Returns how many namespaces were removed.
pub fn teardown(built: Built) -> Res<usize> {
    let Built { runtime, handles, namespaces } = built;
    let count = namespaces.len();
    for ns in namespaces {
        ns.remove()?;
    }
    drop(handles);
    drop(runtime);
    Ok(count)
}
