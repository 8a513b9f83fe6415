//! The exchange logic against a scripted fake transport: no kernel, no
//! privileges.

use std::collections::VecDeque;
use std::time::Duration;

use netlink_packet_core::{NLM_F_DUMP_INTR, NLM_F_MULTIPART, NLMSG_DONE, NLMSG_ERROR};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use nix::errno::Errno;

use super::extack::{NLM_F_ACK_TLVS, NLM_F_CAPPED};
use super::transport::Transport;
use super::{Conn, ProtocolError, decode_route};
use crate::error::{Error, Op};

const PORT: u32 = 4242;
const RTM_NEWLINK: u16 = 16;

/// What the fake does on the next `recv`.
enum Step {
    /// Reply built from the sequence number of the last request sent.
    Reply(Box<dyn Fn(u32) -> Vec<u8>>),
    /// A datagram from another sender.
    Foreign(Vec<u8>),
    /// A datagram whose real size exceeds what is delivered.
    Truncated(usize),
    /// A receive error.
    Fail(Errno),
}

#[derive(Default)]
struct Fake {
    steps: VecDeque<Step>,
    sent: Vec<Vec<u8>>,
}

impl Fake {
    /// Sequence number of the first message of the last datagram sent.
    fn last_seq(&self) -> u32 {
        self.sent.last().map_or(0, |d| u32::from_ne_bytes(d[8..12].try_into().unwrap()))
    }
}

impl Transport for Fake {
    fn send(&mut self, buf: &[u8]) -> Result<(), Errno> {
        self.sent.push(buf.to_vec());
        Ok(())
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>, Errno> {
        let seq = self.last_seq();
        match self.steps.pop_front() {
            None => Err(Errno::EAGAIN),
            Some(Step::Reply(f)) => {
                *buf = f(seq);
                Ok(Some(buf.len()))
            }
            Some(Step::Foreign(d)) => {
                *buf = d;
                Ok(None)
            }
            Some(Step::Truncated(real)) => {
                buf.clear();
                buf.resize(16, 0);
                Ok(Some(real))
            }
            Some(Step::Fail(e)) => Err(e),
        }
    }
    fn set_timeout(&self, _: Duration) -> Result<(), Errno> {
        Ok(())
    }
}

fn msg(kind: u16, flags: u16, seq: u32, port: u32, payload: &[u8]) -> Vec<u8> {
    let len = 16 + payload.len();
    let mut v = Vec::new();
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn ack(seq: u32, code: i32, tlvs: &[u8]) -> Vec<u8> {
    let mut p = code.to_ne_bytes().to_vec();
    p.extend_from_slice(&msg(RTM_NEWLINK, 0, seq, PORT, &[])[..16]);
    p.extend_from_slice(tlvs);
    let flags = if tlvs.is_empty() { NLM_F_CAPPED } else { NLM_F_CAPPED | NLM_F_ACK_TLVS };
    msg(NLMSG_ERROR, flags, seq, PORT, &p)
}

fn extack_msg(text: &str) -> Vec<u8> {
    let mut value = text.as_bytes().to_vec();
    value.push(0);
    let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&1u16.to_ne_bytes());
    v.extend_from_slice(&value);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn link_payload(index: u32, name: &str) -> Vec<u8> {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.attributes.push(LinkAttribute::IfName(name.into()));
    let m = RouteNetlinkMessage::NewLink(m);
    let mut buf = vec![0; netlink_packet_core::NetlinkSerializable::buffer_len(&m)];
    netlink_packet_core::NetlinkSerializable::serialize(&m, &mut buf);
    buf
}

fn link_msg(seq: u32, flags: u16, index: u32, name: &str) -> Vec<u8> {
    msg(RTM_NEWLINK, NLM_F_MULTIPART | flags, seq, PORT, &link_payload(index, name))
}

fn done(seq: u32) -> Vec<u8> {
    msg(NLMSG_DONE, NLM_F_MULTIPART, seq, PORT, &0i32.to_ne_bytes())
}

fn conn(steps: Vec<Step>) -> Conn<Fake> {
    Conn::new(Fake { steps: steps.into(), sent: Vec::new() }, PORT)
}

fn get() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetLink(LinkMessage::default())
}

fn names(list: &[RouteNetlinkMessage]) -> Vec<String> {
    list.iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => l.attributes.iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some(n.clone()),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

#[test]
fn ack_returns_data_and_counts_nothing_stale() {
    let mut c =
        conn(vec![Step::Reply(Box::new(|s| [link_msg(s, 0, 1, "lo"), ack(s, 0, &[])].concat()))]);
    let r = c.batch(Op::GetLink, &[(get(), 0)], &decode_route).unwrap();
    assert_eq!(names(r[0].as_ref().unwrap()), ["lo"]);
    assert_eq!(c.stale, 0);
}

#[test]
fn stale_reply_is_skipped_and_the_socket_stays_usable() {
    let mut c = conn(vec![
        // The first request never gets an answer in time.
        Step::Fail(Errno::EAGAIN),
        // Its late ack arrives while the second request waits.
        Step::Reply(Box::new(|s| ack(s.wrapping_sub(1), 0, &[]))),
        Step::Reply(Box::new(|s| ack(s, 0, &[]))),
    ]);
    let e = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap_err();
    assert!(matches!(e, Error::Timeout { op: Op::SetLink, .. }), "{e:?}");
    let r = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap();
    assert!(r[0].is_ok());
    assert_eq!(c.stale, 1);
}

#[test]
fn foreign_sender_is_ignored() {
    let mut c =
        conn(vec![Step::Foreign(ack(1, -1, &[])), Step::Reply(Box::new(|s| ack(s, 0, &[])))]);
    assert!(c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap()[0].is_ok());
    assert_eq!(c.stale, 1);
}

#[test]
fn reply_for_another_port_is_ignored() {
    let mut c = conn(vec![Step::Reply(Box::new(|s| {
        let mut other = ack(s, -1, &[]);
        other[12..16].copy_from_slice(&7u32.to_ne_bytes());
        [other, ack(s, 0, &[])].concat()
    }))]);
    assert!(c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap()[0].is_ok());
    assert_eq!(c.stale, 1);
}

#[test]
fn error_carries_errno_and_kernel_message() {
    let mut c = conn(vec![Step::Reply(Box::new(|s| {
        ack(s, -22, &extack_msg("The interface netns is immutable"))
    }))]);
    let r = c.batch(Op::MoveLink, &[(get(), 0)], &decode_route).unwrap().pop().unwrap();
    let e = r.unwrap_err().into_error(Op::MoveLink, "link \"lo\"");
    assert_eq!(e.errno(), Some(Errno::EINVAL));
    assert_eq!(e.extack(), Some("The interface netns is immutable"));
    assert_eq!(
        e.to_string(),
        "move link link \"lo\": Invalid argument (EINVAL): kernel says: The interface netns is immutable"
    );
}

#[test]
fn warning_on_success_is_kept() {
    let mut c = conn(vec![Step::Reply(Box::new(|s| ack(s, 0, &extack_msg("careful"))))]);
    assert!(c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap()[0].is_ok());
    assert_eq!(c.warning.as_deref(), Some("careful"));
}

#[test]
fn batch_collects_every_ack_in_any_order() {
    let mut c = conn(vec![
        // `s` is the first request's number; answer the third one first.
        Step::Reply(Box::new(|s| [ack(s + 2, 0, &[]), ack(s, -17, &[])].concat())),
        Step::Reply(Box::new(|s| ack(s + 1, 0, &[]))),
    ]);
    let r = c.batch(Op::CreateLink, &[(get(), 0), (get(), 0), (get(), 0)], &decode_route).unwrap();
    assert_eq!(r[0].as_ref().unwrap_err().errno(), Some(17));
    assert!(r[1].is_ok() && r[2].is_ok());
    // All three went out in one datagram.
    assert_eq!(c.t.sent.len(), 1);
    assert_eq!(c.t.sent[0].len(), 3 * 32); // 16-byte header + 16-byte ifinfomsg each
}

#[test]
fn reply_from_the_future_is_a_protocol_error() {
    let mut c = conn(vec![Step::Reply(Box::new(|s| ack(s + 5, 0, &[])))]);
    let e = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap_err();
    assert!(
        matches!(e, Error::Protocol { kind: ProtocolError::UnexpectedSequence { .. }, .. }),
        "{e:?}"
    );
}

#[test]
fn truncated_datagram_is_an_error() {
    let mut c = conn(vec![Step::Truncated(100_000)]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(
        matches!(e, Error::Protocol { kind: ProtocolError::Truncated { len: 100_000 }, .. }),
        "{e:?}"
    );
}

#[test]
fn malformed_headers_are_errors_not_panics() {
    for bad in [
        vec![1, 2, 3],                                    // shorter than a header
        msg(RTM_NEWLINK, 0, 1, PORT, &[])[..12].to_vec(), // cut header
        {
            let mut m = msg(RTM_NEWLINK, 0, 1, PORT, &[0; 8]);
            m[0..4].copy_from_slice(&1000u32.to_ne_bytes()); // length beyond datagram
            m
        },
        {
            let mut m = msg(RTM_NEWLINK, 0, 1, PORT, &[0; 8]);
            m[0..4].copy_from_slice(&3u32.to_ne_bytes()); // length below a header
            m
        },
    ] {
        let mut c = conn(vec![Step::Reply(Box::new(move |_| bad.clone()))]);
        let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
        assert!(matches!(e, Error::Protocol { kind: ProtocolError::Malformed(_), .. }), "{e:?}");
    }
}

#[test]
fn dump_collects_multiple_datagrams() {
    let mut c = conn(vec![
        Step::Reply(Box::new(|s| [link_msg(s, 0, 1, "lo"), link_msg(s, 0, 2, "a")].concat())),
        Step::Reply(Box::new(|s| [link_msg(s, 0, 3, "b"), done(s)].concat())),
    ]);
    let list = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap();
    assert_eq!(names(&list), ["lo", "a", "b"]);
}

#[test]
fn interrupted_dump_is_retried_then_succeeds() {
    let mut c = conn(vec![
        Step::Reply(Box::new(|s| [link_msg(s, NLM_F_DUMP_INTR, 1, "lo"), done(s)].concat())),
        Step::Reply(Box::new(|s| {
            [link_msg(s, 0, 1, "lo"), link_msg(s, 0, 2, "x"), done(s)].concat()
        })),
    ]);
    let list = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap();
    assert_eq!(names(&list), ["lo", "x"]);
    assert_eq!(c.t.sent.len(), 2);
}

#[test]
fn always_interrupted_dump_is_a_typed_error() {
    let steps = (0..3)
        .map(|_| {
            Step::Reply(Box::new(|s| [link_msg(s, NLM_F_DUMP_INTR, 1, "lo"), done(s)].concat())
                as Box<dyn Fn(u32) -> Vec<u8>>)
        })
        .collect();
    let mut c = conn(steps);
    c.dump_attempts = 3;
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(matches!(e, Error::DumpInterrupted { attempts: 3, .. }), "{e:?}");
}

#[test]
fn undecodable_message_is_an_error_and_the_dump_is_drained() {
    let mut c = conn(vec![
        Step::Reply(Box::new(|s| {
            [link_msg(s, 0, 1, "lo"), msg(RTM_NEWLINK, NLM_F_MULTIPART, s, PORT, &[1, 2, 3])]
                .concat()
        })),
        Step::Reply(Box::new(|s| [link_msg(s, 0, 2, "a"), done(s)].concat())),
        // The next request still works: the dump was read to its end.
        Step::Reply(Box::new(|s| ack(s, 0, &[]))),
    ]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(matches!(e, Error::Decode { op: Op::ListLinks, .. }), "{e:?}");
    assert!(c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap()[0].is_ok());
    assert_eq!(c.stale, 0);
}

#[test]
fn dump_error_on_done_carries_the_message() {
    let mut c = conn(vec![Step::Reply(Box::new(|s| {
        let mut p = (-95i32).to_ne_bytes().to_vec();
        p.extend(extack_msg("not supported"));
        msg(NLMSG_DONE, NLM_F_MULTIPART | NLM_F_ACK_TLVS, s, PORT, &p)
    }))]);
    let e = c.dump(Op::ListRoutes, &get(), 0, &decode_route).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EOPNOTSUPP));
    assert_eq!(e.extack(), Some("not supported"));
}

#[test]
fn receive_errors_are_typed() {
    let mut c = conn(vec![Step::Fail(Errno::ENOBUFS)]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::ENOBUFS));
    let mut c = conn(vec![]);
    let e = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }));
}
