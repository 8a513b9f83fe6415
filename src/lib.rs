//! # nslink
//!
//! Safe, synchronous Linux network namespaces and rtnetlink.
#![cfg(target_os = "linux")]

pub mod error;
pub mod name;
pub mod netlink;
pub mod netns;
mod sys;

pub use error::{Errno, Error, Op, Result};
pub use name::{IfName, IntoIfName, IntoNsName, NsName};
pub use netlink::RouteSocket;
pub use netns::{NetNs, NetnsDir, NsGuard, NsId, NsJoinHandle};
