//! `ipMasq`: masquerade what pods send outside the pod network, with
//! nftables in the node's namespace.
//!
//! Everything lives in one table the plugin owns, `inet nslink-bridge`
//! (nothing outside it is ever read or changed):
//!
//! - base chain `postrouting` (nat hook, priority srcnat) with two rules,
//!   `ip saddr vmap @pods4` and `ip6 saddr vmap @pods6`;
//! - maps `pods4`/`pods6`: pod address → `jump` to the pod's chain;
//! - one chain per attachment, `pod-<hash of network, container, ifname>`,
//!   with the three rules: destination in the pod's own subnet → `return`
//!   (pod↔pod and pod→node stay un-NATed), multicast → `return`, anything
//!   else → `masquerade`; each rule's comment names the attachment.
//!
//! Node→pod traffic has a source outside the maps, so it is never NATed.
//!
//! The rules are written over netlink (`nft.rs`): each change is one
//! nf_tables batch, which the kernel applies as one transaction (all or
//! nothing; a crash leaves either the old or the new rules), in one
//! sendmsg(2) instead of an `nft` process. The rules are the ones
//! `nft` itself would send for the same text (`nft list table inet
//! nslink-bridge` prints them as above). Removing an attachment reads the
//! table's chains and the maps' elements, deletes the elements that jump
//! to its chain and the chain, and drops the whole table once no
//! attachment is left.

use std::net::IpAddr;

use nslink::IpNet;
use rscni_types::error::Error;

use crate::nft::{APPEND, CREATE, EXCL, MsgType, Nft, NftError, Reply, attr, attr_str, attrs};
use crate::plugin::system;

/// The table's name (family `inet`).
const TABLE_NAME: &str = "nslink-bridge";
/// The table, as `nft` names it.
pub const TABLE: &str = "inet nslink-bridge";
const BASE_CHAIN: &str = "postrouting";
const MAP4: &str = "pods4";
const MAP6: &str = "pods6";

// Attribute and value numbers of linux/netfilter/nf_tables.h.
const TABLE_A_NAME: u16 = 1;
const CHAIN_A_TABLE: u16 = 1;
const CHAIN_A_NAME: u16 = 3;
const CHAIN_A_HOOK: u16 = 4;
const CHAIN_A_POLICY: u16 = 5;
const CHAIN_A_TYPE: u16 = 7;
const HOOK_A_HOOKNUM: u16 = 1;
const HOOK_A_PRIORITY: u16 = 2;
const RULE_A_TABLE: u16 = 1;
const RULE_A_CHAIN: u16 = 2;
const RULE_A_EXPRESSIONS: u16 = 4;
const RULE_A_USERDATA: u16 = 7;
const LIST_ELEM: u16 = 1;
const EXPR_A_NAME: u16 = 1;
const EXPR_A_DATA: u16 = 2;
const DATA_VALUE: u16 = 1;
const DATA_VERDICT: u16 = 2;
const VERDICT_CODE: u16 = 1;
const VERDICT_CHAIN: u16 = 2;
const SET_A_TABLE: u16 = 1;
const SET_A_NAME: u16 = 2;
const SET_A_FLAGS: u16 = 3;
const SET_A_KEY_TYPE: u16 = 4;
const SET_A_KEY_LEN: u16 = 5;
const SET_A_DATA_TYPE: u16 = 6;
const SET_A_ID: u16 = 10;
const ELEMS_A_TABLE: u16 = 1;
const ELEMS_A_SET: u16 = 2;
const ELEMS_A_ELEMENTS: u16 = 3;
const ELEM_A_KEY: u16 = 1;
const ELEM_A_DATA: u16 = 2;
/// `NF_INET_POST_ROUTING`.
const HOOK_POSTROUTING: u32 = 4;
/// `NF_IP_PRI_NAT_SRC` (nft's `srcnat`).
const PRIORITY_SRCNAT: u32 = 100;
/// `NF_ACCEPT`.
const POLICY_ACCEPT: u32 = 1;
/// `NFT_SET_MAP`.
const SET_MAP: u32 = 0x8;
/// nft's data types of set keys: `ipv4_addr`, `ipv6_addr`.
const TYPE_IPV4_ADDR: u32 = 7;
const TYPE_IPV6_ADDR: u32 = 8;
/// `NFT_DATA_VERDICT`.
const DATA_TYPE_VERDICT: u32 = 0xffff_ff00;
/// Verdict codes: `NFT_RETURN`, `NFT_JUMP`.
const VERDICT_RETURN: i32 = -5;
const VERDICT_JUMP: i32 = -3;
/// `NFT_META_NFPROTO`, `NFPROTO_IPV4`, `NFPROTO_IPV6`.
const META_NFPROTO: u32 = 15;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
/// `NFT_PAYLOAD_NETWORK_HEADER`.
const PAYLOAD_NETWORK: u32 = 1;
/// `NFT_REG_VERDICT`, `NFT_REG_1`.
const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;
/// `NFTNL_UDATA_RULE_COMMENT` (how nft stores a rule's comment).
const UDATA_COMMENT: u8 = 0;

fn failed(e: NftError) -> Error {
    system(format!("ipMasq (nftables table {TABLE}): {e}"))
}

/// An expression in a rule being written: `name` and its attributes.
fn expr(m: &mut crate::nft::Msg<'_>, name: &str, data: impl FnOnce(&mut crate::nft::Msg<'_>)) {
    m.nest(LIST_ELEM).str(EXPR_A_NAME, name).nest(EXPR_A_DATA);
    data(m);
    m.end().end();
}

/// `meta nfproto == proto`: the family test `ip`/`ip6` matches imply in
/// an `inet` table.
fn match_family(m: &mut crate::nft::Msg<'_>, v4: bool) {
    expr(m, "meta", |m| {
        m.u32(2, META_NFPROTO).u32(1, REG_1); // NFTA_META_KEY, NFTA_META_DREG
    });
    let proto = if v4 { NFPROTO_IPV4 } else { NFPROTO_IPV6 };
    expr(m, "cmp", |m| {
        m.u32(1, REG_1).u32(2, 0); // NFTA_CMP_SREG, NFTA_CMP_OP (eq)
        m.nest(3).bytes(DATA_VALUE, &[proto]).end(); // NFTA_CMP_DATA
    });
}

/// The address field (`saddr` or `daddr`) of the packet's IP header into
/// register 1.
fn load_addr(m: &mut crate::nft::Msg<'_>, v4: bool, source: bool) {
    let (offset, len) = match (v4, source) {
        (true, true) => (12, 4),
        (true, false) => (16, 4),
        (false, true) => (8, 16),
        (false, false) => (24, 16),
    };
    expr(m, "payload", |m| {
        // NFTA_PAYLOAD_DREG, _BASE, _OFFSET, _LEN
        m.u32(1, REG_1).u32(2, PAYLOAD_NETWORK).u32(3, offset).u32(4, len);
    });
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// `ip[6] daddr NET return`.
fn daddr_return(m: &mut crate::nft::Msg<'_>, net: IpNet) {
    let v4 = net.is_ipv4();
    match_family(m, v4);
    load_addr(m, v4, false);
    let network = addr_bytes(net.network().addr());
    let bits = usize::from(net.prefix_len());
    if bits < network.len() * 8 {
        let mask: Vec<u8> = (0..network.len())
            .map(|i| {
                let on = bits.saturating_sub(i * 8).min(8);
                (0xffu16 << (8 - on)) as u8
            })
            .collect();
        expr(m, "bitwise", |m| {
            // NFTA_BITWISE_SREG, _DREG, _LEN, _MASK, _XOR
            m.u32(1, REG_1).u32(2, REG_1).u32(3, network.len() as u32);
            m.nest(4).bytes(DATA_VALUE, &mask).end();
            m.nest(5).bytes(DATA_VALUE, &vec![0; network.len()]).end();
        });
    }
    expr(m, "cmp", |m| {
        m.u32(1, REG_1).u32(2, 0);
        m.nest(3).bytes(DATA_VALUE, &network).end();
    });
    verdict(m, VERDICT_RETURN, None);
}

/// `immediate` verdict: `code`, with the chain of a jump.
fn verdict(m: &mut crate::nft::Msg<'_>, code: i32, chain: Option<&str>) {
    expr(m, "immediate", |m| {
        m.u32(1, REG_VERDICT); // NFTA_IMMEDIATE_DREG
        m.nest(2).nest(DATA_VERDICT); // NFTA_IMMEDIATE_DATA
        verdict_attrs(m, code, chain);
        m.end().end();
    });
}

fn verdict_attrs(m: &mut crate::nft::Msg<'_>, code: i32, chain: Option<&str>) {
    m.bytes(VERDICT_CODE, &code.to_be_bytes());
    if let Some(c) = chain {
        m.str(VERDICT_CHAIN, c);
    }
}

/// The comment of a rule, as nft stores it (so that `nft list` shows it).
fn comment_udata(comment: &str) -> Vec<u8> {
    let text = &comment.as_bytes()[..comment.len().min(126)];
    let mut v = vec![UDATA_COMMENT, (text.len() + 1) as u8];
    v.extend_from_slice(text);
    v.push(0);
    v
}

/// The comment in a rule's user data, if any.
fn comment_of(udata: &[u8]) -> Option<String> {
    let mut rest = udata;
    while rest.len() >= 2 {
        let (ty, len) = (rest[0], usize::from(rest[1]));
        let value = rest.get(2..2 + len)?;
        if ty == UDATA_COMMENT {
            let text = value.split(|b| *b == 0).next().unwrap_or_default();
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        rest = &rest[2 + len..];
    }
    None
}

fn rule(
    b: &mut crate::nft::Batch<'_>,
    chain: &str,
    comment: Option<&str>,
    body: impl FnOnce(&mut crate::nft::Msg<'_>),
) {
    let mut m = b.msg(MsgType::NewRule, CREATE | APPEND);
    m.str(RULE_A_TABLE, TABLE_NAME).str(RULE_A_CHAIN, chain);
    m.nest(RULE_A_EXPRESSIONS);
    body(&mut m);
    m.end();
    if let Some(c) = comment {
        m.bytes(RULE_A_USERDATA, &comment_udata(c));
    }
}

/// Adds (or re-adds, identically) the rules of one attachment: `chain`,
/// its pod addresses `ips` (with their subnets) and `comment`.
///
/// The usual case, the table already there and the attachment new, is one
/// transaction that only adds (its chain created with `NLM_F_EXCL`).
/// Otherwise (no table yet, or the chain left by an earlier ADD of the
/// same attachment) a second transaction sets the table up and rewrites
/// the chain. Only adding matters: a transaction that deletes anything
/// (a flush) makes the closing of the socket wait for the kernel to free
/// it after an RCU grace period, several milliseconds.
pub fn add(chain: &str, ips: &[IpNet], comment: &str) -> Result<(), Error> {
    let mut nft = Nft::open().map_err(failed)?;
    // Taken after the socket is opened, so that it is let go before the
    // socket closes (a close after a flush waits for an RCU grace period).
    let _table = crate::lock::acquire_nftables()?;
    let new = nft.transaction("cannot add the masquerading rules", |b| {
        b.msg(MsgType::NewChain, CREATE | EXCL)
            .str(CHAIN_A_TABLE, TABLE_NAME)
            .str(CHAIN_A_NAME, chain);
        attachment(b, chain, ips, comment);
    });
    if new.is_ok() {
        return Ok(());
    }
    nft.transaction("cannot add the masquerading rules", |b| {
        b.msg(MsgType::NewTable, CREATE).str(TABLE_A_NAME, TABLE_NAME);
        {
            let mut m = b.msg(MsgType::NewChain, CREATE);
            m.str(CHAIN_A_TABLE, TABLE_NAME).str(CHAIN_A_NAME, BASE_CHAIN);
            m.nest(CHAIN_A_HOOK)
                .u32(HOOK_A_HOOKNUM, HOOK_POSTROUTING)
                .u32(HOOK_A_PRIORITY, PRIORITY_SRCNAT)
                .end();
            m.u32(CHAIN_A_POLICY, POLICY_ACCEPT).str(CHAIN_A_TYPE, "nat");
        }
        for (id, (map, key_type, key_len)) in
            [(MAP4, TYPE_IPV4_ADDR, 4), (MAP6, TYPE_IPV6_ADDR, 16)].into_iter().enumerate()
        {
            let mut m = b.msg(MsgType::NewSet, CREATE);
            m.str(SET_A_TABLE, TABLE_NAME).str(SET_A_NAME, map);
            m.u32(SET_A_FLAGS, SET_MAP).u32(SET_A_KEY_TYPE, key_type).u32(SET_A_KEY_LEN, key_len);
            m.u32(SET_A_DATA_TYPE, DATA_TYPE_VERDICT).u32(SET_A_ID, id as u32 + 1);
        }
        // The base rules, rewritten (flush, add) as `nft -f` would.
        b.msg(MsgType::DelRule, 0).str(RULE_A_TABLE, TABLE_NAME).str(RULE_A_CHAIN, BASE_CHAIN);
        for (v4, map) in [(true, MAP4), (false, MAP6)] {
            rule(b, BASE_CHAIN, None, |m| {
                match_family(m, v4);
                load_addr(m, v4, true);
                expr(m, "lookup", |m| {
                    // NFTA_LOOKUP_SET, _SREG, _DREG
                    m.str(1, map).u32(2, REG_1).u32(3, REG_VERDICT);
                });
            });
        }
        b.msg(MsgType::NewChain, CREATE).str(CHAIN_A_TABLE, TABLE_NAME).str(CHAIN_A_NAME, chain);
        b.msg(MsgType::DelRule, 0).str(RULE_A_TABLE, TABLE_NAME).str(RULE_A_CHAIN, chain);
        attachment(b, chain, ips, comment);
    })
    .map_err(failed)
}

/// The rules of one attachment's chain and its map elements.
fn attachment(b: &mut crate::nft::Batch<'_>, chain: &str, ips: &[IpNet], comment: &str) {
    for net in ips {
        let subnet = net.network();
        rule(b, chain, Some(comment), |m| daddr_return(m, subnet));
    }
    let multicast = [
        (true, IpNet::new(IpAddr::from([224, 0, 0, 0]), 4)),
        (false, IpNet::new(IpAddr::from([0xff00, 0, 0, 0, 0, 0, 0, 0]), 8)),
    ];
    for (v4, net) in multicast {
        if let Ok(net) = net
            && ips.iter().any(|n| n.is_ipv4() == v4)
        {
            rule(b, chain, Some(comment), |m| daddr_return(m, net));
        }
    }
    rule(b, chain, Some(comment), |m| expr(m, "masq", |_| {}));
    for net in ips {
        let map = if net.is_ipv4() { MAP4 } else { MAP6 };
        let mut m = b.msg(MsgType::NewSetElem, CREATE);
        m.str(ELEMS_A_TABLE, TABLE_NAME).str(ELEMS_A_SET, map);
        m.nest(ELEMS_A_ELEMENTS).nest(LIST_ELEM);
        m.nest(ELEM_A_KEY).bytes(DATA_VALUE, &addr_bytes(net.addr())).end();
        m.nest(ELEM_A_DATA).nest(DATA_VERDICT);
        verdict_attrs(&mut m, VERDICT_JUMP, Some(chain));
    }
}

/// A dump of `ty` (chains or rules), kept to the objects of the table,
/// whose name is attribute 1 (`NFTA_CHAIN_TABLE`, `NFTA_RULE_TABLE`).
fn dump_table(nft: &mut Nft, what: &str, ty: MsgType) -> Result<Vec<Reply>, Error> {
    const TABLE_ATTR: u16 = 1;
    let replies = nft
        .dump(what, ty, |m| {
            m.str(TABLE_ATTR, TABLE_NAME);
        })
        .map_err(failed)?;
    Ok(replies
        .into_iter()
        .filter(|r| attr_str(&r.attrs, TABLE_ATTR).as_deref() == Some(TABLE_NAME))
        .collect())
}

/// The table's chains (names); empty when there is no table.
fn chains(nft: &mut Nft) -> Result<Vec<String>, Error> {
    let replies = dump_table(nft, "cannot list the chains", MsgType::GetChain)?;
    Ok(replies.iter().filter_map(|r| attr_str(&r.attrs, CHAIN_A_NAME)).collect())
}

/// The comments of the rules of every chain of the table.
fn comments(nft: &mut Nft) -> Result<Vec<(String, String)>, Error> {
    let replies = dump_table(nft, "cannot list the rules", MsgType::GetRule)?;
    Ok(replies
        .iter()
        .filter_map(|r| {
            let chain = attr_str(&r.attrs, RULE_A_CHAIN)?;
            let comment = attr(&r.attrs, RULE_A_USERDATA).and_then(comment_of)?;
            Some((chain, comment))
        })
        .collect())
}

/// The elements of a map: (key bytes, chain jumped to).
fn elements(nft: &mut Nft, map: &str) -> Result<Vec<(Vec<u8>, String)>, Error> {
    let replies = nft
        .dump("cannot list the pod addresses", MsgType::GetSetElem, |m| {
            m.str(ELEMS_A_TABLE, TABLE_NAME).str(ELEMS_A_SET, map);
        })
        .map_err(failed)?;
    let mut out = Vec::new();
    for r in &replies {
        let Some(list) = attr(&r.attrs, ELEMS_A_ELEMENTS) else { continue };
        for (_, elem) in attrs(list) {
            let key = attr(elem, ELEM_A_KEY).and_then(|k| attr(k, DATA_VALUE));
            let target = attr(elem, ELEM_A_DATA)
                .and_then(|d| attr(d, DATA_VERDICT))
                .and_then(|v| attr_str(v, VERDICT_CHAIN));
            if let (Some(k), Some(t)) = (key, target) {
                out.push((k.to_vec(), t));
            }
        }
    }
    Ok(out)
}

/// Removes the rules of the attachments whose chain `doomed` says not to
/// keep, given the chain's name and the comments of its rules (DEL: one
/// chain; GC: every chain of the network not in use); drops the table
/// when nothing is left in it. Nothing there is not an error. The rules'
/// comments are read only when `with_comments`.
///
/// The removal is done when this returns; dropping the returned [`Done`]
/// closes the netlink socket, which waits for the kernel to free what was
/// deleted (after an RCU grace period, several milliseconds): drop it
/// after other slow work, so that the two waits overlap.
pub fn remove(
    with_comments: bool,
    doomed: impl FnMut(&str, &[String]) -> bool,
) -> Result<Done, Error> {
    // Read and change under the table's lock: a removal decided on a read
    // (the table goes with the last attachment) must not interleave with
    // an ADD of another bridge.
    let _table = crate::lock::acquire_nftables()?;
    remove_unlocked(with_comments, doomed)
}

/// [`remove`] without the table's lock: what a writer that does not take
/// it (an older plugin, `nft` by hand) looks like to a locked one.
fn remove_unlocked(
    with_comments: bool,
    mut doomed: impl FnMut(&str, &[String]) -> bool,
) -> Result<Done, Error> {
    let mut nft = Nft::open().map_err(failed)?;
    // A removal whose transaction finds something already gone (ENOENT)
    // reads the table again and removes what is left: whatever is gone
    // already is not an error. Two removers of one attachment at once meet
    // this (a writer outside the table's lock: an older plugin, `nft` by
    // hand); it was seen once in 20 stress runs of 50 parallel DELs before
    // the table had a lock of its own.
    let mut tries = 0;
    loop {
        tries += 1;
        match remove_once(&mut nft, with_comments, &mut doomed)? {
            Removal::Nothing => return Ok(Done::default()),
            Removal::Done => return Ok(Done { _socket: Some(nft) }),
            Removal::SomethingWasGone(_) if tries < 3 => {}
            Removal::SomethingWasGone(e) => return Err(failed(e)),
        }
    }
}

/// What one pass of [`remove`] did.
enum Removal {
    /// Nothing to remove.
    Nothing,
    /// Removed.
    Done,
    /// The transaction found something gone already (ENOENT): nothing was
    /// changed (all or nothing); read again.
    SomethingWasGone(NftError),
}

/// A transaction's outcome as a [`Removal`]; other errors are errors.
fn removed(r: Result<(), NftError>) -> Result<Removal, Error> {
    match r {
        Ok(()) => Ok(Removal::Done),
        Err(e) if e.errno == nix::errno::Errno::ENOENT => Ok(Removal::SomethingWasGone(e)),
        Err(e) => Err(failed(e)),
    }
}

/// One read of the table and one transaction.
fn remove_once(
    nft: &mut Nft,
    with_comments: bool,
    doomed: &mut impl FnMut(&str, &[String]) -> bool,
) -> Result<Removal, Error> {
    let all = chains(nft)?;
    if all.is_empty() {
        return Ok(Removal::Nothing);
    }
    let notes = if with_comments { comments(nft)? } else { Vec::new() };
    // The unit tests race removals and ADDs: a wider gap between the read
    // and the transaction lets them meet every time instead of by chance.
    #[cfg(test)]
    std::thread::sleep(std::time::Duration::from_millis(3));
    let pods: Vec<&String> = all.iter().filter(|c| c.starts_with("pod-")).collect();
    let gone: Vec<&String> = pods
        .iter()
        .copied()
        .filter(|c| {
            let mine: Vec<String> =
                notes.iter().filter(|(n, _)| n == *c).map(|(_, t)| t.clone()).collect();
            doomed(c, &mine)
        })
        .collect();
    if gone.len() == pods.len() {
        // Nothing of anyone is left: the table goes, base rules included.
        return removed(nft.transaction("cannot delete the table", |b| {
            b.msg(MsgType::DelTable, 0).str(TABLE_A_NAME, TABLE_NAME);
        }));
    }
    if gone.is_empty() {
        return Ok(Removal::Nothing);
    }
    // Only the elements that jump to a chain being removed: an element
    // always has its chain (the kernel refuses to delete a chain a map
    // still jumps to), so any other element is someone's live attachment,
    // even one whose chain this read did not see.
    let mut mine = Vec::new();
    for map in [MAP4, MAP6] {
        for (key, target) in elements(nft, map)? {
            if gone.contains(&&target) {
                mine.push((map, key));
            }
        }
    }
    removed(nft.transaction("cannot delete the masquerading rules", |b| {
        for (map, key) in &mine {
            let mut m = b.msg(MsgType::DelSetElem, 0);
            m.str(ELEMS_A_TABLE, TABLE_NAME).str(ELEMS_A_SET, map);
            m.nest(ELEMS_A_ELEMENTS).nest(LIST_ELEM);
            m.nest(ELEM_A_KEY).bytes(DATA_VALUE, key);
        }
        for chain in &gone {
            b.msg(MsgType::DelRule, 0).str(RULE_A_TABLE, TABLE_NAME).str(RULE_A_CHAIN, chain);
            b.msg(MsgType::DelChain, 0).str(CHAIN_A_TABLE, TABLE_NAME).str(CHAIN_A_NAME, chain);
        }
    }))
}

/// A finished removal whose socket is still open; see [`remove`].
#[derive(Debug, Default)]
pub struct Done {
    _socket: Option<Nft>,
}

/// Whether the chain of an attachment exists (CHECK).
pub fn has_chain(chain: &str) -> Result<bool, Error> {
    let mut nft = Nft::open().map_err(failed)?;
    let found = nft
        .get("cannot look the chain up", MsgType::GetChain, 0, |m| {
            m.str(CHAIN_A_TABLE, TABLE_NAME).str(CHAIN_A_NAME, chain);
        })
        .map_err(failed)?;
    Ok(!found.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_sandbox::sandbox;

    /// Runs `first` on a thread of its own and `second` here, both released
    /// at the same moment.
    fn at_once<A: Send, B>(first: impl FnOnce() -> A + Send, second: impl FnOnce() -> B) -> (A, B) {
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let other = s.spawn(|| {
                start.wait();
                first()
            });
            start.wait();
            let b = second();
            (other.join().expect("racing thread"), b)
        })
    }

    #[test]
    fn comments_round_trip() {
        let c = "nslink-bridge net c1 eth0";
        assert_eq!(comment_of(&comment_udata(c)).as_deref(), Some(c));
        assert_eq!(comment_of(&[]), None);
    }

    #[test]
    fn table_is_inet() {
        assert_eq!(TABLE, format!("inet {TABLE_NAME}"));
    }

    /// The table is shared by every bridge, and DELs and ADDs of different
    /// bridges do not share a bridge's lock: the DEL of a bridge's last
    /// attachment (which deletes the whole table when it reads no other)
    /// racing the ADD of another bridge's first must never take the new
    /// attachment with it. Needs root: a network namespace of its own.
    #[test]
    fn the_last_removal_never_takes_a_racing_add_with_it() {
        let a: Vec<IpNet> = vec!["10.78.0.2/24".parse().expect("address")];
        let b: Vec<IpNet> = vec!["10.79.0.2/24".parse().expect("address")];
        let lost = sandbox(|| {
            let mut lost = Vec::new();
            for round in 0..60 {
                add("pod-a", &a, "a").expect("add a");
                let (removed, added) = at_once(
                    || remove(false, |c, _| c == "pod-a").map(drop),
                    || {
                        // Into the gap after the removal's read.
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        add("pod-b", &b, "b")
                    },
                );
                removed.expect("remove a");
                added.expect("add b");
                if !has_chain("pod-b").expect("look the chain up") {
                    lost.push(round);
                }
                remove(false, |_, _| true).expect("clean up");
            }
            lost
        });
        assert!(lost.is_empty(), "the ADD was lost in {} of 60 rounds: {lost:?}", lost.len());
    }

    /// Two removals of one attachment at once, one of them outside the
    /// table's lock (a writer that does not take it: an older plugin, `nft`
    /// by hand): both read the chain, one transaction
    /// removes it, the other's finds it gone (`ENOENT`, all or nothing) and
    /// must read again rather than fail the DEL. Both the table's last
    /// attachment (the table goes) and one of two (its chain and elements
    /// go) are raced. Needs root: it works in a network namespace of its
    /// own, made here.
    #[test]
    fn racing_removals_of_one_attachment_both_succeed() {
        let ips: Vec<IpNet> = vec!["10.77.0.2/24".parse().expect("address")];
        let other_ips: Vec<IpNet> = vec!["10.77.0.3/24".parse().expect("address")];
        let errors = sandbox(|| {
            let mut errors = Vec::new();
            for round in 0..60 {
                let last = round % 2 == 0;
                if !last {
                    add("pod-other", &other_ips, "other").expect("add the other attachment");
                }
                add("pod-x", &ips, "x").expect("add");
                let (other, mine) = at_once(
                    || remove_unlocked(false, |c, _| c == "pod-x").map(drop),
                    || remove(false, |c, _| c == "pod-x").map(drop),
                );
                for r in [other, mine] {
                    if let Err(e) = r {
                        errors.push(format!("round {round} (last: {last}): {e}"));
                    }
                }
                assert!(!has_chain("pod-x").expect("look the chain up"), "round {round}");
                remove(false, |_, _| true).expect("clean up");
            }
            errors
        });
        assert!(errors.is_empty(), "{} failed: {:?}", errors.len(), &errors[..errors.len().min(3)]);
    }
}
