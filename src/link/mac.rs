//! [`MacAddr`]: a 6-byte hardware address.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The U/L bit of the first byte (IEEE 802): set in made-up addresses.
const LOCALLY_ADMINISTERED: u8 = 0x02;
/// The I/G bit of the first byte (IEEE 802): set in group addresses.
const MULTICAST: u8 = 0x01;

/// A 48-bit hardware (MAC) address, written `02:00:5e:10:00:01`
/// (`IFLA_ADDRESS` of rtnetlink(7), `address` in ip-link(8)).
///
/// ```
/// let mac: nslink::MacAddr = "02:00:5E:10:00:01".parse()?;
/// assert_eq!(mac.to_string(), "02:00:5e:10:00:01");
/// assert_eq!(format!("[{mac:>19}]"), "[  02:00:5e:10:00:01]");
/// assert!(mac.is_locally_administered());
/// # Ok::<(), nslink::link::MacAddrParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// From a 6-byte slice; `None` for any other length.
    ///
    /// ```
    /// use nslink::MacAddr;
    ///
    /// assert_eq!(MacAddr::from_bytes(&[2, 0, 0, 0, 0, 1]), Some(MacAddr([2, 0, 0, 0, 0, 1])));
    /// assert_eq!(MacAddr::from_bytes(&[2, 0, 0]), None);
    /// ```
    pub fn from_bytes(b: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(b).ok().map(MacAddr)
    }

    /// The bytes.
    ///
    /// ```
    /// let mac: nslink::MacAddr = "02:00:00:00:00:01".parse()?;
    /// assert_eq!(mac.octets(), [2, 0, 0, 0, 0, 1]);
    /// # Ok::<(), nslink::link::MacAddrParseError>(())
    /// ```
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Whether the locally-administered bit is set (addresses you make up
    /// should have it, and not the multicast bit).
    ///
    /// ```
    /// let mac: nslink::MacAddr = "02:42:ac:11:00:02".parse()?;
    /// assert!(mac.is_locally_administered());
    /// # Ok::<(), nslink::link::MacAddrParseError>(())
    /// ```
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & LOCALLY_ADMINISTERED != 0
    }

    /// Whether the multicast bit is set (not usable as a device address).
    ///
    /// ```
    /// let mac: nslink::MacAddr = "01:00:5e:00:00:01".parse()?;
    /// assert!(mac.is_multicast());
    /// # Ok::<(), nslink::link::MacAddrParseError>(())
    /// ```
    pub fn is_multicast(&self) -> bool {
        self.0[0] & MULTICAST != 0
    }
}

impl fmt::Display for MacAddr {
    /// Six lower-case hex bytes with `:`; honours width and alignment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        f.pad(&format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        ))
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A text refused by [`MacAddr`]'s `parse`: not six hex bytes of one or
/// two digits separated by `:`. Like std's
/// [`AddrParseError`](std::net::AddrParseError); converts into
/// [`Error::Parse`](crate::Error::Parse) with `?`.
///
/// ```
/// let err = "02:00:5e:10:00".parse::<nslink::MacAddr>().unwrap_err();
/// assert_eq!(err.input(), "02:00:5e:10:00");
/// assert_eq!(
///     err.to_string(),
///     "invalid MAC address \"02:00:5e:10:00\": expected six hex bytes separated by ':'"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacAddrParseError {
    input: String,
}

impl MacAddrParseError {
    /// The text refused.
    ///
    /// ```
    /// let err = "02:00".parse::<nslink::MacAddr>().unwrap_err();
    /// assert_eq!(err.input(), "02:00");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for MacAddrParseError {
    /// Honours width and alignment, like every `Display` of nslink.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!(
            "invalid MAC address {:?}: expected six hex bytes separated by ':'",
            self.input
        ))
    }
}

impl std::error::Error for MacAddrParseError {}

impl From<MacAddrParseError> for Error {
    fn from(e: MacAddrParseError) -> Error {
        Error::Parse(crate::error::ParseError::MacAddr(e))
    }
}

impl FromStr for MacAddr {
    type Err = MacAddrParseError;
    fn from_str(s: &str) -> Result<MacAddr, MacAddrParseError> {
        let bad = || MacAddrParseError { input: s.to_owned() };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
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
        for bad in [
            "",
            "1:2:3:4:5",
            "1:2:3:4:5:6:7",
            "g0:00:00:00:00:00",
            "100:0:0:0:0:0",
            "1::2:3:4:5",
            "+1:2:3:4:5:6",
        ] {
            assert_eq!(bad.parse::<MacAddr>().unwrap_err().input(), bad);
        }
        let e: Error = "x".parse::<MacAddr>().unwrap_err().into();
        assert_eq!(e.op(), None);
        assert_eq!(format!("{m:<18}|"), "0a:01:ff:00:00:10 |");
    }

    #[test]
    fn parse_error_display_pads() {
        let e = "x".parse::<MacAddr>().unwrap_err();
        let plain = e.to_string();
        assert_eq!(format!("{e:<80}|"), format!("{plain:<80}|"));
        assert_eq!(format!("{e:>80}"), format!("{plain:>80}"));
        assert_eq!(format!("{e:.11}"), "invalid MAC");
    }
}
