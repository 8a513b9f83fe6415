//! Names derived from the attachment (network, container, interface), so
//! that every operation, a retried ADD, DEL and GC included, finds exactly
//! what this attachment made, and nothing else.

/// FNV-1a (64 bits) of the attachment's three parts, each ended by a NUL
/// (none of them may contain one).
fn key(network: &str, container_id: &str, ifname: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [network, container_id, ifname] {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The node-side veth of an attachment: `nsl` and 12 hex digits (15
/// characters, the most a Linux interface name holds).
pub fn host_veth(network: &str, container_id: &str, ifname: &str) -> String {
    format!("nsl{:012x}", key(network, container_id, ifname) & 0xffff_ffff_ffff)
}

/// The nftables chain of an attachment: `pod-` and 16 hex digits.
pub fn masq_chain(network: &str, container_id: &str, ifname: &str) -> String {
    format!("pod-{:016x}", key(network, container_id, ifname))
}

/// The alias of the node-side veth (and the comment of its nftables
/// rules): who made it and for which attachment, read back by GC.
pub fn owner_tag(network: &str, container_id: &str, ifname: &str) -> String {
    format!("{} {container_id} {ifname}", owner_prefix(network))
}

/// The start of [`owner_tag`] for every attachment of `network`.
pub fn owner_prefix(network: &str) -> String {
    format!("nslink-bridge {network}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_and_differ() {
        let a = host_veth("net", "c1", "eth0");
        assert_eq!(a.len(), 15);
        assert!(a.starts_with("nsl"));
        assert_ne!(a, host_veth("net", "c1", "eth1"));
        assert_ne!(a, host_veth("net", "c1e", "th0"));
        assert_ne!(masq_chain("net", "c1", "eth0"), masq_chain("net2", "c1", "eth0"));
    }
}
