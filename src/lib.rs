//! # nslink
//!
//! Safe, synchronous Linux network namespaces and rtnetlink.
#![cfg(target_os = "linux")]

pub mod addr;
pub mod error;
pub mod ethtool;
pub mod link;
pub mod name;
pub mod neigh;
pub mod netlink;
pub mod netns;
pub mod route;
mod sys;
pub mod sysctl;

pub use addr::{Address, AddressOptions, IpNet};
pub use error::{Errno, Error, NetnsLocalSource, Op, Result};
pub use link::{
    Bridge, BridgeBuilder, BridgePortInfo, BridgePortOptions, IntoLinkId, Link, LinkFlags, LinkId,
    LinkKind, MacAddr, NetnsLocal, OperState, VethBuilder, VethEnd, VethPair,
};
pub use name::{IfName, IntoIfName, IntoNsName, NsName};
pub use neigh::Neighbour;
pub use netlink::RouteSocket;
pub use netns::{NetNs, NetnsDir, NsGuard, NsId, NsJoinHandle};
pub use route::Route;
