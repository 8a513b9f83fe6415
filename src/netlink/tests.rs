//! The exchange logic against a scripted fake transport: no kernel, no
//! privileges.

use std::collections::VecDeque;
use std::time::Duration;

use netlink_packet_core::{
    Emitable, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR,
    NLM_F_ECHO, NLM_F_EXCL, NLM_F_MATCH, NLM_F_MULTIPART, NLM_F_NONREC, NLM_F_REPLACE,
    NLM_F_REQUEST, NLM_F_ROOT, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::route::RouteMessage;
use nix::errno::Errno;
use nix::libc::{self, RTM_NEWLINK};

use super::frame::{self, frames};
use super::transport::{Failure, Transport};
use super::{Conn, ProtocolError, decode_route, is_dump_request, is_get_type};
use crate::error::{Error, ObjectKind, Op};

const PORT: u32 = 4242;

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
    /// Errors for the next sends, one per send.
    send_errors: VecDeque<Errno>,
    /// Every send reports one byte less than it was given.
    short_send: bool,
}

impl Fake {
    /// Sequence number of the first message of the last datagram sent.
    fn last_seq(&self) -> u32 {
        self.sent.last().map_or(0, |d| u32::from_ne_bytes(d[8..12].try_into().unwrap()))
    }
}

impl Transport for Fake {
    fn send(&mut self, buf: &[u8]) -> Result<usize, Failure> {
        if let Some(e) = self.send_errors.pop_front() {
            crate::sys::fault::note(crate::sys::fault::Call::Send);
            return Err(Failure::Os(e));
        }
        self.sent.push(buf.to_vec());
        Ok(buf.len() - usize::from(self.short_send))
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> Result<Option<usize>, Failure> {
        let seq = self.last_seq();
        match self.steps.pop_front() {
            None => Err(Failure::Os(Errno::EAGAIN)),
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
            Some(Step::Fail(e)) => {
                crate::sys::fault::note(crate::sys::fault::Call::Recv);
                Err(Failure::Os(e))
            }
        }
    }
    fn set_timeout(&self, _: Duration) -> Result<(), Failure> {
        Ok(())
    }
}

fn msg(kind: u16, flags: u16, seq: u32, port: u32, payload: &[u8]) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.length = (frame::header_len() + payload.len()) as u32;
    header.message_type = kind;
    header.flags = flags;
    header.sequence_number = seq;
    header.port_number = port;
    let mut v = vec![0; frame::header_len()];
    header.emit(&mut v);
    v.extend_from_slice(payload);
    v.resize(frame::align(v.len()), 0);
    v
}

/// The header of the `i`-th message of datagram `d` (sent by the code under
/// test).
fn sent_header(d: &[u8], i: usize) -> NetlinkHeader {
    frames(d).nth(i).unwrap().unwrap().header
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
    while !v.len().is_multiple_of(4) {
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
    Conn::new(Fake { steps: steps.into(), ..Fake::default() }, PORT)
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
    let e = r.unwrap_err().into_error(Op::MoveLink, crate::error::Object::link_name("lo"));
    assert_eq!(e.errno(), Some(Errno::EINVAL));
    assert_eq!(e.extack(), Some("The interface netns is immutable"));
    assert_eq!(
        e.to_string(),
        "move link \"lo\": Invalid argument (EINVAL): kernel says: The interface netns is immutable"
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

#[test]
fn requests_are_framed_exactly_as_netlink_message_frames_them() {
    let mut m = LinkMessage::default();
    m.header.index = 7;
    m.attributes.push(LinkAttribute::IfName("abc".into())); // 4 bytes + pad
    let m = RouteNetlinkMessage::SetLink(m);
    let flags = NLM_F_REQUEST | NLM_F_ACK;
    let mut ours = Vec::new();
    frame::push_request(&mut ours, &m, flags, 99);

    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = 99;
    let mut theirs = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(m));
    theirs.finalize();
    let mut bytes = vec![0; theirs.buffer_len()];
    theirs.serialize(&mut bytes);
    assert_eq!(ours, bytes);
    assert_eq!(ours.len() % 4, 0);
    let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&ours).unwrap();
    assert_eq!(parsed.header.sequence_number, 99);
    assert_eq!(parsed.header.message_type, libc::RTM_SETLINK);
}

#[test]
fn frames_walks_aligned_and_unpadded_messages_and_stops_at_a_bad_one() {
    // Three messages; the last one is 17 bytes long and not padded.
    let mut d =
        [msg(RTM_NEWLINK, 0, 1, PORT, &[1, 2, 3]), msg(NLMSG_DONE, 0, 2, PORT, &[])].concat();
    let last = msg(RTM_NEWLINK, 0, 3, PORT, &[9]);
    d.extend_from_slice(&last[..17]);
    let got: Vec<_> = frames(&d).map(|f| f.unwrap()).collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].payload, [1, 2, 3]);
    assert_eq!(got[1].header.message_type, NLMSG_DONE);
    assert!(got[1].payload.is_empty());
    assert_eq!((got[2].header.sequence_number, got[2].payload), (3, &[9u8][..]));

    // A bad length in the middle: the walk ends with one error.
    let mut bad = msg(RTM_NEWLINK, 0, 2, PORT, &[0; 4]);
    bad[0..4].copy_from_slice(&8u32.to_ne_bytes());
    let d = [msg(RTM_NEWLINK, 0, 1, PORT, &[]), bad, msg(RTM_NEWLINK, 0, 3, PORT, &[])].concat();
    let got: Vec<_> = frames(&d).collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_ok() && got[1].is_err());
    // Every prefix of a datagram is walked without a panic.
    for cut in 0..d.len() {
        let _ = frames(&d[..cut]).count();
    }
    assert!(NetlinkBuffer::new_checked(&d[..]).is_ok());
}

#[test]
fn only_get_requests_with_a_dump_bit_are_dumps() {
    let link = || LinkMessage::default();
    // GET with both bits, or either one: the kernel dumps (rtnetlink_rcv_msg
    // tests `flags & NLM_F_DUMP`).
    for flags in [NLM_F_DUMP, NLM_F_ROOT, NLM_F_MATCH, NLM_F_DUMP | NLM_F_ACK] {
        assert!(is_dump_request(&RouteNetlinkMessage::GetLink(link()), flags), "{flags:#x}");
        assert!(is_dump_request(&RouteNetlinkMessage::GetRoute(RouteMessage::default()), flags));
        assert!(is_dump_request(
            &RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            flags
        ));
        assert!(is_dump_request(
            &RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()),
            flags
        ));
    }
    // GET without them: one object.
    assert!(!is_dump_request(&RouteNetlinkMessage::GetLink(link()), 0));
    assert!(!is_dump_request(&RouteNetlinkMessage::GetLink(link()), NLM_F_ECHO));
    // The same bits on NEW are REPLACE/EXCL, on DEL NONREC: never a dump.
    let create = NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE;
    assert_eq!(NLM_F_EXCL | NLM_F_REPLACE, NLM_F_DUMP);
    for flags in [create, NLM_F_REPLACE, NLM_F_EXCL, NLM_F_DUMP] {
        assert!(!is_dump_request(&RouteNetlinkMessage::NewLink(link()), flags));
        assert!(!is_dump_request(&RouteNetlinkMessage::SetLink(link()), flags));
        assert!(!is_dump_request(
            &RouteNetlinkMessage::NewAddress(AddressMessage::default()),
            flags
        ));
        assert!(!is_dump_request(&RouteNetlinkMessage::NewRoute(RouteMessage::default()), flags));
    }
    assert!(!is_dump_request(&RouteNetlinkMessage::DelLink(link()), NLM_F_NONREC));
}

#[test]
fn get_types_are_told_apart_as_the_kernel_does() {
    for t in [
        libc::RTM_GETLINK,
        libc::RTM_GETADDR,
        libc::RTM_GETROUTE,
        libc::RTM_GETNEIGH,
        libc::RTM_GETRULE,
        libc::RTM_GETQDISC,
        libc::RTM_GETTCLASS,
        libc::RTM_GETTFILTER,
        libc::RTM_GETACTION,
        libc::RTM_GETMULTICAST,
        libc::RTM_GETANYCAST,
        libc::RTM_GETNEIGHTBL,
        libc::RTM_GETADDRLABEL,
        libc::RTM_GETDCB,
        libc::RTM_GETNETCONF,
        libc::RTM_GETMDB,
        libc::RTM_GETNSID,
    ] {
        assert!(is_get_type(t), "{t}");
    }
    for t in [
        libc::RTM_NEWLINK,
        libc::RTM_DELLINK,
        libc::RTM_SETLINK,
        libc::RTM_NEWADDR,
        libc::RTM_DELROUTE,
        libc::RTM_NEWNEIGH,
        libc::RTM_NEWNSID,
        libc::RTM_SETNEIGHTBL,
        NLMSG_ERROR,
        NLMSG_DONE,
        0,
    ] {
        assert!(!is_get_type(t), "{t}");
    }
}

#[test]
fn raw_new_request_with_replace_and_excl_is_acknowledged_not_dumped() {
    // The fake answers like the kernel does a NEW request: with an ack (a
    // dump reader would wait for NLMSG_DONE and time out instead).
    let mut c = conn(vec![Step::Reply(Box::new(|s| ack(s, 0, &[])))]);
    let flags = NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE;
    let out = c.raw(RouteNetlinkMessage::NewLink(LinkMessage::default()), flags).unwrap();
    assert!(out.is_empty());
    let h = sent_header(&c.t.sent[0], 0);
    assert_eq!(h.flags, NLM_F_REQUEST | NLM_F_ACK | flags);
    assert_eq!(h.message_type, RTM_NEWLINK);

    // Refused: the kernel's errno, named after the table.
    let mut c = conn(vec![Step::Reply(Box::new(|s| ack(s, -17, &extack_msg("exists"))))]);
    let e = c.raw(RouteNetlinkMessage::NewLink(LinkMessage::default()), flags).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EEXIST));
    assert_eq!(e.extack(), Some("exists"));
    match &e {
        Error::Os { op: Op::RawRequest, object, .. } => assert_eq!(object.kind, ObjectKind::Link),
        other => panic!("{other:?}"),
    }
}

#[test]
fn raw_get_with_one_dump_bit_is_read_as_a_dump() {
    let mut c = conn(vec![
        Step::Reply(Box::new(|s| link_msg(s, 0, 1, "lo"))),
        Step::Reply(Box::new(|s| [link_msg(s, 0, 2, "a"), done(s)].concat())),
    ]);
    let out = c.raw(get(), NLM_F_ROOT).unwrap();
    assert_eq!(names(&out), ["lo", "a"]);
    let h = sent_header(&c.t.sent[0], 0);
    assert_ne!(h.flags & NLM_F_DUMP, 0);
    assert_eq!(h.flags & NLM_F_ACK, 0);
}

#[test]
fn raw_single_get_returns_the_answer_then_the_ack() {
    let mut c =
        conn(vec![Step::Reply(Box::new(|s| [link_msg(s, 0, 1, "lo"), ack(s, 0, &[])].concat()))]);
    let out = c.raw(get(), 0).unwrap();
    assert_eq!(names(&out), ["lo"]);
}

#[test]
fn dump_refusal_names_the_table() {
    let mut c = conn(vec![Step::Reply(Box::new(|s| {
        msg(NLMSG_DONE, NLM_F_MULTIPART, s, PORT, &(-1i32).to_ne_bytes())
    }))]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    match &e {
        Error::Os { object, errno: 1, .. } => assert_eq!(object.kind, ObjectKind::Link),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_public_type_is_debug() {
    fn is_debug<T: std::fmt::Debug>() {}
    is_debug::<super::RouteSocket>();
    is_debug::<super::Batch<'_>>();
    is_debug::<super::extack::ExtAck>();
}

/// Found by the `dump_loop` fuzz target: an `NLMSG_ERROR` whose code is
/// positive (the kernel only sends 0 or a negative errno) became a refusal
/// with a negative errno, an errno nobody returned. It is a malformed reply.
#[test]
fn a_positive_error_code_is_malformed_never_a_negative_errno() {
    for code in [1, 22, i32::MAX] {
        let mut c = conn(vec![Step::Reply(Box::new(move |s| ack(s, code, &[])))]);
        let e = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).map(|mut r| r.remove(0));
        assert!(
            matches!(e, Err(Error::Protocol { kind: ProtocolError::Malformed(_), .. })),
            "code {code}: {e:?}"
        );
        let mut c = conn(vec![Step::Reply(Box::new(move |s| ack(s, code, &[])))]);
        let e = c.dump(Op::ListLinks, &get(), 0, &decode_route);
        assert!(
            matches!(e, Err(Error::Protocol { kind: ProtocolError::Malformed(_), .. })),
            "dump, code {code}: {e:?}"
        );
    }
}

// ---- injected faults in the receive loop (issue 12) ----

fn reply(f: impl Fn(u32) -> Vec<u8> + 'static) -> Step {
    Step::Reply(Box::new(f))
}

#[test]
fn enobufs_mid_dump_is_typed_and_the_next_dump_skips_what_is_left_of_it() {
    let mut c = conn(vec![
        reply(|s| link_msg(s, 0, 1, "lo")),
        Step::Fail(Errno::ENOBUFS),
        // The rest of the first dump, read out before the second is sent
        // (the kernel answers EBUSY to a dump while one is unfinished).
        reply(|s| [link_msg(s, 0, 2, "eth0"), done(s)].concat()),
        reply(|s| [link_msg(s, 0, 1, "lo"), link_msg(s, 0, 2, "eth0"), done(s)].concat()),
    ]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::ENOBUFS), "{e}");
    assert_eq!(e.op(), Some(Op::ListLinks));
    let list = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap();
    assert_eq!(names(&list), ["lo", "eth0"]);
    assert_eq!(c.stale, 2, "the first dump's link and DONE were skipped");
    assert_eq!(c.t.sent.len(), 2);
}

#[test]
fn a_dump_whose_end_is_lost_does_not_hold_up_the_next_request() {
    let mut c = conn(vec![
        reply(|s| link_msg(s, 0, 1, "lo")),
        Step::Fail(Errno::EAGAIN),
        // Reading out the rest: nothing comes.
        Step::Fail(Errno::EAGAIN),
        reply(|s| ack(s, 0, &[])),
    ]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap();
    assert_eq!(c.unfinished_dump, None);
}

#[test]
fn eintr_is_retried_on_send_and_mid_dump() {
    let mut c = conn(vec![
        reply(|s| link_msg(s, 0, 1, "lo")),
        Step::Fail(Errno::EINTR),
        reply(|s| [link_msg(s, 0, 2, "eth0"), done(s)].concat()),
    ]);
    c.t.send_errors.extend([Errno::EINTR, Errno::EINTR]);
    let list = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap();
    assert_eq!(names(&list), ["lo", "eth0"]);
    assert_eq!(c.t.sent.len(), 1, "one request went out");
}

#[test]
fn a_failed_or_short_send_is_typed_and_nothing_is_read() {
    let mut c = conn(vec![reply(|s| ack(s, 0, &[]))]);
    c.t.send_errors.push_back(Errno::ENOBUFS);
    let e = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::ENOBUFS), "{e}");
    assert_eq!(c.t.steps.len(), 1, "no reply was waited for");
    c.t.short_send = true;
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(matches!(e, Error::Protocol { kind: ProtocolError::ShortSend { .. }, .. }), "{e}");
    // The socket goes on: the ack of the short-sent request is stale now.
    c.t.short_send = false;
    c.t.steps = vec![reply(|s| ack(s - 1, 0, &[])), reply(|s| ack(s, 0, &[]))].into();
    c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap();
    assert_eq!(c.stale, 1);
}

#[test]
fn a_lost_ack_is_a_timeout_and_the_late_ack_is_skipped_next_time() {
    let mut c = conn(vec![reply(|s| [ack(s, 0, &[]), ack(s + 1, 0, &[])].concat())]);
    let three = [(get(), 0), (get(), 0), (get(), 0)];
    let e = c.batch(Op::SetLink, &three, &decode_route).unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    // The third ack arrives late, before the next request's.
    c.t.steps = vec![reply(|s| ack(s - 1, 0, &[])), reply(|s| ack(s, 0, &[]))].into();
    let r = c.batch(Op::SetLink, &[(get(), 0)], &decode_route).unwrap();
    assert!(r[0].is_ok());
    assert_eq!(c.stale, 1);
    // A dump whose end never comes is a timeout too.
    c.t.steps = vec![reply(|s| link_msg(s, 0, 1, "lo"))].into();
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
}

#[test]
fn a_datagram_cut_short_mid_dump_is_an_error_never_a_panic_or_a_partial_list() {
    for cut in [1, 8, 15, 16, 20] {
        let mut c = conn(vec![
            reply(|s| link_msg(s, 0, 1, "lo")),
            reply(move |s| {
                let mut d = [link_msg(s, 0, 2, "eth0"), done(s)].concat();
                d.truncate(cut);
                d
            }),
        ]);
        let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
        assert!(matches!(e, Error::Protocol { .. }), "cut at {cut}: {e}");
    }
    // The kernel says the datagram was longer than what arrived.
    let mut c = conn(vec![reply(|s| link_msg(s, 0, 1, "lo")), Step::Truncated(70000)]);
    let e = c.dump(Op::ListLinks, &get(), 0, &decode_route).unwrap_err();
    assert!(
        matches!(e, Error::Protocol { kind: ProtocolError::Truncated { len: 70000 }, .. }),
        "{e}"
    );
}

#[test]
fn a_real_socket_resyncs_after_an_injected_receive_or_send_failure() {
    use crate::sys::fault::{Call, FaultPlan};
    let nl = crate::RouteSocket::open().unwrap();
    // The first receive of the dump fails: its replies stay queued.
    let plan = FaultPlan::new().fail(Call::Recv, 1, Errno::ENOBUFS);
    let e = plan.run(|| nl.links().unwrap_err());
    assert_eq!(e.errno(), Some(Errno::ENOBUFS), "{e}");
    let links = nl.links().unwrap();
    assert!(links.iter().any(|l| l.name() == "lo"));
    assert!(nl.stale_replies_skipped() > 0, "the first dump's replies were skipped");
    // The send fails: nothing was asked, nothing is stale.
    let before = nl.stale_replies_skipped();
    let plan = FaultPlan::new().fail(Call::Send, 1, Errno::EPERM);
    let e = plan.run(|| nl.links().unwrap_err());
    assert_eq!(e.errno(), Some(Errno::EPERM), "{e}");
    assert_eq!(nl.links().unwrap().len(), links.len());
    assert_eq!(nl.stale_replies_skipped(), before);
}
