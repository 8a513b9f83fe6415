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
//! The rules are written by the `nft` tool (`nft -f -`): one invocation per
//! change, which the kernel applies as one transaction (all or nothing; a
//! crash leaves either the old or the new rules). The text is built from
//! checked values only (addresses, prefixes, names made of hex digits, a
//! container ID and interface name restricted to `[A-Za-z0-9_.-]`).
//! Removing an attachment lists the table (`nft -j`), deletes the map
//! elements that jump to its chain and the chain, and drops the whole
//! table once no attachment is left.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use nslink::IpNet;
use rscni_types::error::Error;
use serde_json::Value;

use crate::plugin::system;

/// The table's family and name.
pub const TABLE: &str = "inet nslink-bridge";

/// Runs `nft -f -` with `script`.
fn nft(script: &str) -> Result<(), Error> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| system(format!("cannot run nft (ipMasq needs the nftables tool): {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| system(format!("nft: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(system(format!(
            "nft refused the ipMasq rules: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The table as `nft -j` lists it, or `None` when it does not exist.
fn list() -> Result<Option<Value>, Error> {
    let mut args = vec!["-j", "list", "table"];
    args.extend(TABLE.split(' '));
    let out = Command::new("nft")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| system(format!("cannot run nft (ipMasq needs the nftables tool): {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No such file or directory") {
            return Ok(None);
        }
        return Err(system(format!("nft cannot list {TABLE}: {}", err.trim())));
    }
    serde_json::from_slice(&out.stdout)
        .map(Some)
        .map_err(|e| system(format!("nft -j printed something that is not JSON: {e}")))
}

fn family_words(net: &IpNet) -> (&'static str, &'static str) {
    if net.is_ipv4() { ("ip", "pods4") } else { ("ip6", "pods6") }
}

/// Adds (or re-adds, identically) the rules of one attachment: `chain`,
/// its pod addresses `ips` (with their subnets) and `comment`.
pub fn add(chain: &str, ips: &[IpNet], comment: &str) -> Result<(), Error> {
    let mut s = String::new();
    s += &format!("add table {TABLE}\n");
    s += &format!(
        "add chain {TABLE} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n"
    );
    s += &format!("add map {TABLE} pods4 {{ type ipv4_addr : verdict; }}\n");
    s += &format!("add map {TABLE} pods6 {{ type ipv6_addr : verdict; }}\n");
    s += &format!("flush chain {TABLE} postrouting\n");
    s += &format!("add rule {TABLE} postrouting ip saddr vmap @pods4\n");
    s += &format!("add rule {TABLE} postrouting ip6 saddr vmap @pods6\n");
    s += &format!("add chain {TABLE} {chain}\n");
    s += &format!("flush chain {TABLE} {chain}\n");
    for net in ips {
        let (word, _) = family_words(net);
        let subnet = net.network();
        s += &format!(
            "add rule {TABLE} {chain} {word} daddr {subnet} return comment \"{comment}\"\n"
        );
    }
    if ips.iter().any(IpNet::is_ipv4) {
        s += &format!(
            "add rule {TABLE} {chain} ip daddr 224.0.0.0/4 return comment \"{comment}\"\n"
        );
    }
    if ips.iter().any(|n| !n.is_ipv4()) {
        s += &format!("add rule {TABLE} {chain} ip6 daddr ff00::/8 return comment \"{comment}\"\n");
    }
    s += &format!("add rule {TABLE} {chain} masquerade comment \"{comment}\"\n");
    for net in ips {
        let (_, map) = family_words(net);
        s += &format!("add element {TABLE} {map} {{ {} : jump {chain} }}\n", net.addr());
    }
    nft(&s)
}

/// Removes the rules of the attachments whose chain `keep` says not to keep
/// (DEL: one chain; GC: every chain of the network not in use); drops the
/// table when nothing is left in it. Nothing there is not an error.
pub fn remove(mut doomed: impl FnMut(&str, &[String]) -> bool) -> Result<(), Error> {
    let Some(listing) = list()? else { return Ok(()) };
    let items = listing.get("nftables").and_then(Value::as_array).cloned().unwrap_or_default();
    // chain name → comments of its rules
    let mut chains: Vec<(String, Vec<String>)> = Vec::new();
    let mut elements: Vec<(String, String, String)> = Vec::new(); // (map, key, target)
    for item in &items {
        if let Some(c) = item.get("chain") {
            if let Some(name) = c.get("name").and_then(Value::as_str)
                && name.starts_with("pod-")
            {
                chains.push((name.to_owned(), Vec::new()));
            }
        } else if let Some(r) = item.get("rule") {
            let chain = r.get("chain").and_then(Value::as_str).unwrap_or_default();
            let comment = r.get("comment").and_then(Value::as_str).unwrap_or_default();
            if let Some(entry) = chains.iter_mut().find(|(n, _)| n == chain) {
                entry.1.push(comment.to_owned());
            }
        } else if let Some(m) = item.get("map") {
            let map = m.get("name").and_then(Value::as_str).unwrap_or_default();
            for e in m.get("elem").and_then(Value::as_array).into_iter().flatten() {
                let key = e.get(0).and_then(Value::as_str);
                let target = e.get(1).and_then(|v| v.get("jump")).and_then(|j| j.get("target"));
                if let (Some(k), Some(t)) = (key, target.and_then(Value::as_str)) {
                    elements.push((map.to_owned(), k.to_owned(), t.to_owned()));
                }
            }
        }
    }
    let gone: Vec<&String> =
        chains.iter().filter(|(n, comments)| doomed(n, comments)).map(|(n, _)| n).collect();
    let mut s = String::new();
    let mut left = 0;
    for (map, key, target) in &elements {
        if gone.contains(&target) || !chains.iter().any(|(n, _)| n == target) {
            if key.parse::<IpAddr>().is_ok() {
                s += &format!("delete element {TABLE} {map} {{ {key} }}\n");
            }
        } else {
            left += 1;
        }
    }
    for chain in &gone {
        s += &format!("flush chain {TABLE} {chain}\ndelete chain {TABLE} {chain}\n");
    }
    if left == 0 && chains.len() == gone.len() {
        // Nothing of anyone is left: the table goes, base rules included.
        s = format!("delete table {TABLE}\n");
    }
    if s.is_empty() { Ok(()) } else { nft(&s) }
}

/// Whether the chain of an attachment exists (CHECK).
pub fn has_chain(chain: &str) -> Result<bool, Error> {
    let Some(listing) = list()? else { return Ok(false) };
    Ok(listing
        .get("nftables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|i| i.get("chain").and_then(|c| c.get("name")).and_then(Value::as_str) == Some(chain)))
}
