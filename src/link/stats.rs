//! [`LinkStats`]: a device's 64-bit counters (`IFLA_STATS64`).

/// A device's counters as the kernel keeps them (`struct
/// rtnl_link_stats64`, sent as `IFLA_STATS64` in every link message): what
/// `ip -s link` prints. A snapshot, read with [`Link::stats`](crate::Link::stats).
///
/// The field names are the kernel's; `ip -s -j link` shows the same values
/// under `stats64.rx` / `stats64.tx` (`rx_over_errors` as `over_errors`,
/// `tx_carrier_errors` as `carrier_errors`).
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let s = *nl.require_link("eth0")?.stats().expect("the kernel sends IFLA_STATS64");
/// println!("in {} B / {} pkts, out {} B / {} pkts", s.rx_bytes, s.rx_packets, s.tx_bytes, s.tx_packets);
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct LinkStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Receive errors (bad packets).
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Received packets dropped (no buffer, or dropped by the stack).
    pub rx_dropped: u64,
    /// Packets dropped on the way out.
    pub tx_dropped: u64,
    /// Multicast packets received.
    pub multicast: u64,
    /// Collisions (half-duplex media).
    pub collisions: u64,
    /// Receive errors: wrong length.
    pub rx_length_errors: u64,
    /// Receive errors: ring buffer overflow (`over_errors` in `ip -s -j`).
    pub rx_over_errors: u64,
    /// Receive errors: bad CRC.
    pub rx_crc_errors: u64,
    /// Receive errors: frame alignment.
    pub rx_frame_errors: u64,
    /// Receive errors: FIFO overrun.
    pub rx_fifo_errors: u64,
    /// Packets the host missed (no room in the device).
    pub rx_missed_errors: u64,
    /// Transmit errors: aborted.
    pub tx_aborted_errors: u64,
    /// Transmit errors: carrier lost (`carrier_errors` in `ip -s -j`).
    pub tx_carrier_errors: u64,
    /// Transmit errors: FIFO.
    pub tx_fifo_errors: u64,
    /// Transmit errors: heartbeat.
    pub tx_heartbeat_errors: u64,
    /// Transmit errors: late collisions.
    pub tx_window_errors: u64,
    /// Compressed packets received (CSLIP, PPP).
    pub rx_compressed: u64,
    /// Compressed packets sent.
    pub tx_compressed: u64,
    /// Packets dropped for want of a protocol handler (Linux 4.6+; `None`
    /// from older kernels).
    pub rx_nohandler: Option<u64>,
    /// Packets dropped because they were addressed to another host
    /// (Linux 6.0+; `None` from older kernels).
    pub rx_otherhost_dropped: Option<u64>,
}

impl LinkStats {
    /// The counters of an `IFLA_STATS64` value: 23 `u64` in host order on
    /// any kernel, 24 from Linux 4.6, 25 from 6.0; longer ones (a future
    /// kernel) are read as far as this knows.
    pub(super) fn from_bytes(v: &[u8]) -> Result<LinkStats, String> {
        const BASE: usize = 23;
        if v.len() < BASE * 8 || !v.len().is_multiple_of(8) {
            return Err(format!("IFLA_STATS64 of {} bytes is not a stats64 struct", v.len()));
        }
        let at = |i: usize| {
            v.get(i * 8..i * 8 + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_ne_bytes)
        };
        let n = |i: usize| at(i).unwrap_or(0);
        Ok(LinkStats {
            rx_packets: n(0),
            tx_packets: n(1),
            rx_bytes: n(2),
            tx_bytes: n(3),
            rx_errors: n(4),
            tx_errors: n(5),
            rx_dropped: n(6),
            tx_dropped: n(7),
            multicast: n(8),
            collisions: n(9),
            rx_length_errors: n(10),
            rx_over_errors: n(11),
            rx_crc_errors: n(12),
            rx_frame_errors: n(13),
            rx_fifo_errors: n(14),
            rx_missed_errors: n(15),
            tx_aborted_errors: n(16),
            tx_carrier_errors: n(17),
            tx_fifo_errors: n(18),
            tx_heartbeat_errors: n(19),
            tx_window_errors: n(20),
            rx_compressed: n(21),
            tx_compressed: n(22),
            rx_nohandler: at(23),
            rx_otherhost_dropped: at(24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;
    use netlink_packet_route::link::Stats64;

    #[test]
    fn reads_what_netlink_packet_route_writes() {
        let mut s = Stats64::default();
        s.rx_packets = 1;
        s.tx_packets = 2;
        s.rx_bytes = 3;
        s.tx_bytes = 4;
        s.rx_errors = 5;
        s.tx_errors = 6;
        s.rx_dropped = 7;
        s.tx_dropped = 8;
        s.multicast = 9;
        s.collisions = 10;
        s.rx_length_errors = 11;
        s.rx_over_errors = 12;
        s.rx_crc_errors = 13;
        s.rx_frame_errors = 14;
        s.rx_fifo_errors = 15;
        s.rx_missed_errors = 16;
        s.tx_aborted_errors = 17;
        s.tx_carrier_errors = 18;
        s.tx_fifo_errors = 19;
        s.tx_heartbeat_errors = 20;
        s.tx_window_errors = 21;
        s.rx_compressed = 22;
        s.tx_compressed = 23;
        s.rx_nohandler = 24;
        s.rx_otherhost_dropped = 25;
        let mut b = vec![0; s.buffer_len()];
        s.emit(&mut b);
        let l = LinkStats::from_bytes(&b).unwrap();
        assert_eq!((l.rx_packets, l.tx_packets, l.rx_bytes, l.tx_bytes), (1, 2, 3, 4));
        assert_eq!((l.multicast, l.rx_over_errors, l.tx_carrier_errors), (9, 12, 18));
        assert_eq!((l.rx_nohandler, l.rx_otherhost_dropped), (Some(24), Some(25)));
        // A Linux 4.6..5.19 struct has no rx_otherhost_dropped; an older one
        // no rx_nohandler either.
        let l = LinkStats::from_bytes(&b[..24 * 8]).unwrap();
        assert_eq!((l.tx_compressed, l.rx_nohandler, l.rx_otherhost_dropped), (23, Some(24), None));
        let l = LinkStats::from_bytes(&b[..23 * 8]).unwrap();
        assert_eq!(l.rx_nohandler, None);
        assert!(LinkStats::from_bytes(&b[..22 * 8]).is_err());
        assert!(LinkStats::from_bytes(&b[..23 * 8 + 3]).is_err());
    }
}
