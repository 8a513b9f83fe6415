//! [`MacAddr`]: a 6-byte hardware address.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Op};

/// A 48-bit hardware (MAC) address, written `02:00:5e:10:00:01`.
///
/// ```
/// let mac: nslink::MacAddr = "02:00:5E:10:00:01".parse()?;
/// assert_eq!(mac.to_string(), "02:00:5e:10:00:01");
/// assert!(mac.is_locally_administered());
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// From a 6-byte slice; `None` for any other length.
    pub fn from_bytes(b: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(b).ok().map(MacAddr)
    }

    /// The bytes.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Whether the locally-administered bit is set (addresses you make up
    /// should have it, and not the multicast bit).
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// Whether the multicast bit is set (not usable as a device address).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = Error;
    fn from_str(s: &str) -> Result<MacAddr, Error> {
        let bad = || Error::InvalidArgument {
            op: Op::SetLink,
            object: crate::error::Object::from(format!("MAC address {s:?}")),
            detail: "expected six hex bytes separated by ':'".into(),
        };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || p.len() > 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let m: MacAddr = "0a:1:FF:00:00:10".parse().unwrap();
        assert_eq!(m.0, [0x0a, 1, 0xff, 0, 0, 0x10]);
        assert_eq!(m.to_string(), "0a:01:ff:00:00:10");
        for bad in
            ["", "1:2:3:4:5", "1:2:3:4:5:6:7", "g0:00:00:00:00:00", "100:0:0:0:0:0", "1::2:3:4:5"]
        {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
