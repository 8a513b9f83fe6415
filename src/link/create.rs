//! Sending a create and getting the new device back in the same round trip.
//!
//! The kernel can echo the device it made: with `NLM_F_ECHO` on the
//! `RTM_NEWLINK`, it sends the requester the same `RTM_NEWLINK` it
//! announces to listeners, with the request's sequence number, before the
//! acknowledgement (`rtnl_configure_link`, then `rtnl_notify` with the
//! requester's port). Linux 6.2 (net-next, October 2022) added that for
//! creates; older kernels ignore the flag and send only the ack. Stable
//! kernels differ again: Debian's 6.1.0-48 echoes an `RTM_DELLINK` but not
//! an `RTM_NEWLINK`. So a socket never guesses from a version: its first
//! create asks for the echo, and whether one came is remembered for the
//! socket's life ([`RouteSocket::newlink_echo`](crate::RouteSocket)). A
//! socket whose kernel does not echo reads the device back with an
//! `RTM_GETLINK` sent in the *same* datagram as the create (the kernel
//! runs them in order): still one round trip.
//!
//! The echo is made when the device is configured, before the kernel
//! enslaves it to a master (`do_set_master` runs after the echo), and it is
//! sent through the device's namespace: a device with a master, or made in
//! another namespace than the sending socket's, is always read back.

use netlink_packet_core::NLM_F_ECHO;
use netlink_packet_route::RouteNetlinkMessage;

use super::{CREATE, Link, LinkId, get_request, parse};
use crate::error::{Error, Object, Op, ProtocolError, Result};
use crate::name::IfName;
use crate::netlink::{ReplyError, RouteSocket};

/// How the device a create makes can be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Readback {
    /// From the kernel's echo, when it sends one: the device is made in
    /// the sending socket's namespace and nothing is changed after the
    /// kernel configured it.
    Echo,
    /// With an `RTM_GETLINK` in the same datagram (a master is set after
    /// the echo would be made).
    Get,
}

/// Sends `msg`, an `RTM_NEWLINK` that creates `name` in the namespace of
/// `tx`, and returns the device as the kernel reports it afterwards. The
/// inner error is the kernel's refusal of the create, for the caller to
/// name; the outer one an exchange failure, or a read-back that failed
/// after the create succeeded (the device is then deleted again).
pub(super) fn create_link(
    tx: &RouteSocket,
    op: Op,
    msg: RouteNetlinkMessage,
    name: &IfName,
    how: Readback,
) -> Result<std::result::Result<Link, ReplyError>> {
    let echo = how == Readback::Echo && tx.newlink_echo.get() != Some(&false);
    if echo {
        let reply =
            first(op, tx.lock().batch(op, &[(msg, CREATE | NLM_F_ECHO)], &parse::decode_link))?;
        let links = match reply {
            Ok(links) => links,
            Err(ReplyError::Other(e)) => return Err(discard(tx, name, e)),
            Err(refusal) => return Ok(Err(refusal)),
        };
        let echoed = links.into_iter().rev().find(|l| l.name() == name);
        // The first create that asked decides for the socket's life.
        let _ = tx.newlink_echo.set(echoed.is_some());
        return match echoed {
            Some(link) => Ok(Ok(link)),
            None => match tx.require_link(name) {
                Ok(link) => Ok(Ok(link)),
                Err(e) => Err(discard(tx, name, e)),
            },
        };
    }
    let get = get_request(&LinkId::Name(name.clone()));
    let replies = tx.lock().batch(op, &[(msg, CREATE), (get, 0)], &parse::decode_link)?;
    let mut replies = replies.into_iter();
    let (created, read) = (replies.next(), replies.next());
    match created {
        Some(Ok(_)) => {}
        Some(Err(ReplyError::Other(e))) => return Err(discard(tx, name, e)),
        Some(Err(refusal)) => return Ok(Err(refusal)),
        None => return Err(Error::Protocol { op, kind: ProtocolError::ReplyCount(0) }),
    }
    let found = match read {
        Some(Ok(mut links)) => links.pop().ok_or_else(|| missing(name)),
        Some(Err(e)) => Err(e.into_error(Op::GetLink, Object::link_name(name))),
        None => Err(missing(name)),
    };
    found.map(Ok).map_err(|e| discard(tx, name, e))
}

/// The single reply of a one-request batch.
fn first<T>(
    op: Op,
    replies: Result<Vec<crate::netlink::Reply<T>>>,
) -> Result<crate::netlink::Reply<T>> {
    replies?.pop().ok_or(Error::Protocol { op, kind: ProtocolError::ReplyCount(0) })
}

/// The device just made is not there when read back.
fn missing(name: &IfName) -> Error {
    Error::NotFound { errno: None, extack: None, op: Op::GetLink, object: Object::link_name(name) }
}

/// Deletes the device just made (best effort) and returns `e`.
fn discard(tx: &RouteSocket, name: &IfName, e: Error) -> Error {
    let _ = tx.delete_link(name);
    e
}

/// The index of a device a create refers to (a parent or a master): looked
/// up when given by name, since the kernel takes only an index there
/// (`IFLA_LINK`, `IFLA_MASTER`); taken as it is when given by index, and
/// then checked only if the create is refused ([`gone`]). `not_found`
/// makes the error for a device that does not exist.
pub(super) fn index_of(
    nl: &RouteSocket,
    id: &LinkId,
    not_found: impl FnOnce() -> Error,
) -> Result<u32> {
    match id {
        LinkId::Index(i) if *i != 0 => Ok(*i),
        _ => match nl.link(id)? {
            Some(l) => Ok(l.index()),
            None => Err(not_found()),
        },
    }
}

/// After a refused create: the error for a device given by index that does
/// not exist (the kernel's own answer would be a bare `EINVAL` or
/// `ENODEV`), so that it is named as when it is looked up first.
pub(super) fn gone(
    nl: &RouteSocket,
    id: &LinkId,
    not_found: impl FnOnce() -> Error,
) -> Option<Error> {
    if !matches!(id, LinkId::Index(_)) {
        return None;
    }
    match nl.link(id) {
        Ok(Some(_)) => None,
        Ok(None) => Some(not_found()),
        Err(e) => Some(e),
    }
}
