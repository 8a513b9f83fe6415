//! # nslink
//!
//! Safe, synchronous Linux network namespaces and rtnetlink.
#![cfg(target_os = "linux")]

pub mod error;
pub mod ethtool;
pub mod link;
pub mod name;
pub mod netlink;
pub mod netns;
mod sys;

pub use error::{Errno, Error, NetnsLocalSource, Op, Result};
pub use link::{IntoLinkId, Link, LinkFlags, LinkId, LinkKind, MacAddr, NetnsLocal, OperState};
pub use name::{IfName, IntoIfName, IntoNsName, NsName};
pub use netlink::RouteSocket;
pub use netns::{NetNs, NetnsDir, NsGuard, NsId, NsJoinHandle};
