//! Validated names: interface names ([`IfName`]) and namespace names
//! ([`NsName`]).
//!
//! Both are checked before any system call, so a bad name never reaches the
//! kernel or the file system (no `../` escapes from `/run/netns`, no `%d`
//! templates that make the kernel pick another name).
//!
//! # Bytes or text
//!
//! An **interface name** is what the kernel says it is: up to 15 bytes, not
//! necessarily UTF-8 (`ip link add $'\xff' type bridge` works). [`IfName`]
//! keeps those exact bytes, checks new names byte by byte with the kernel's
//! own rules, and prints them escaped. A **namespace name** is the name of a
//! file in `/run/netns` that people type, pass to `ip netns exec` and read
//! in logs: [`NsName`] is UTF-8 text without control characters, by choice
//! (see its documentation).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::ffi::OsStr;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::str::FromStr;

use crate::error::{Error, NameError, NameKind, Result};

/// Maximum length of an interface name in bytes (`IFNAMSIZ` minus the NUL).
pub const IFNAME_MAX: usize = 15;
/// Maximum length of a namespace name in bytes (`NAME_MAX`).
pub const NSNAME_MAX: usize = 255;

/// A network interface name: the exact bytes the kernel knows a device by.
///
/// A name made here ([`new`](IfName::new), [`from_bytes`](IfName::from_bytes))
/// is one the kernel accepts as is. The rules are the kernel's
/// `dev_valid_name` (`net/core/dev.c`), applied to each **byte**: 1 to 15
/// bytes, not `.` or `..`, no `/`, `:` or NUL, and no byte the kernel's own
/// `isspace` counts as white space, which besides tab, newline, vertical
/// tab, form feed, carriage return and space includes **0xA0** (so `"brà"`,
/// whose `à` is the bytes C3 A0, is refused, as the kernel refuses it). `%`
/// is refused as well: the kernel treats a name with `%` as a template
/// (`veth%d`) and picks a different name, so looking the device up by the
/// name you gave would then fail. See netdevice(7) and ip-link(8).
///
/// Names read from the kernel ([`Link::name`](crate::Link::name)) keep their
/// exact bytes even when they are not UTF-8, so two devices never look alike
/// and a request by such a name reaches that device. [`to_str`](IfName::to_str)
/// gives the text when it is UTF-8, [`as_bytes`](IfName::as_bytes) always.
///
/// `Display` prints the name escaped: bytes that are not UTF-8, control
/// characters and invisible characters as `\xNN`, and a backslash as `\\`,
/// so that different names always print differently; every other name
/// prints as itself. `Debug` prints the same inside double quotes (with `"`
/// as `\"`). `Display` honours width and alignment (`{:<15}`).
///
/// ```
/// use nslink::IfName;
///
/// let name = IfName::new("veth0")?;
/// assert_eq!(name.to_str(), Some("veth0"));
/// assert_eq!(name.as_bytes(), b"veth0");
/// assert!(IfName::new("eth0:1").is_err());
/// assert!(IfName::new("0123456789abcdef").is_err()); // 16 bytes
/// assert!(IfName::new("brà").is_err()); // à is C3 A0; the kernel's isspace(0xA0) is true
///
/// let raw = IfName::from_bytes(b"br\xff")?;
/// assert_eq!(raw.to_str(), None);
/// assert_eq!(raw.to_string(), r"br\xff");
/// assert_eq!(format!("{raw:?}"), r#""br\xff""#);
/// assert_eq!(format!("[{name:<7}]"), "[veth0  ]");
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Clone)]
pub struct IfName {
    len: u8,
    bytes: [u8; IFNAME_MAX],
}

impl IfName {
    /// Validates `name` as an interface name (its UTF-8 bytes, by the
    /// kernel's rules).
    ///
    /// # Errors
    /// [`Error::InvalidName`] with the rule that was broken.
    pub fn new(name: &str) -> Result<IfName> {
        IfName::from_bytes(name.as_bytes())
    }

    /// Validates `name`, any bytes, as an interface name: for names that are
    /// not UTF-8 (`ip link add $'\xff\xfe' type bridge`).
    ///
    /// # Errors
    /// [`Error::InvalidName`] with the rule that was broken.
    ///
    /// ```
    /// use nslink::IfName;
    ///
    /// let n = IfName::from_bytes(b"\xff\xfe")?;
    /// assert_eq!(n.as_bytes(), b"\xff\xfe");
    /// assert!(IfName::from_bytes(b"a\xa0").is_err()); // white space to the kernel
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn from_bytes(name: &[u8]) -> Result<IfName> {
        check_ifname(name).map_err(|reason| Error::InvalidName {
            kind: NameKind::Interface,
            input: name.to_vec(),
            reason,
        })?;
        IfName::exact(name).ok_or(Error::InvalidName {
            kind: NameKind::Interface,
            input: name.to_vec(),
            reason: NameError::TooLong { len: name.len(), max: IFNAME_MAX },
        })
    }

    /// Checks `name` by the rules of [`from_bytes`](IfName::from_bytes)
    /// without making an `IfName`.
    ///
    /// # Errors
    /// The rule that was broken.
    ///
    /// ```
    /// use nslink::IfName;
    /// use nslink::error::NameError;
    ///
    /// assert_eq!(IfName::check(b"eth0"), Ok(()));
    /// assert_eq!(IfName::check(b"a b"), Err(NameError::BadByte { byte: b' ', pos: 1 }));
    /// ```
    pub fn check(name: &[u8]) -> std::result::Result<(), NameError> {
        check_ifname(name)
    }

    /// The exact bytes of the name (without a NUL).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The name as text, when it is UTF-8 (every name made with
    /// [`new`](IfName::new) is; a name read from the kernel may not be).
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// The name as an `OsStr`, for command arguments and paths
    /// (`/sys/class/net/NAME`).
    pub fn as_os_str(&self) -> &OsStr {
        OsStr::from_bytes(self.as_bytes())
    }

    /// A name exactly as the kernel reported it: no rule is checked, the
    /// bytes are kept. `None` when it is empty or longer than
    /// [`IFNAME_MAX`] (which no kernel sends).
    pub(crate) fn from_kernel(bytes: &[u8]) -> Option<IfName> {
        IfName::exact(bytes)
    }

    fn exact(name: &[u8]) -> Option<IfName> {
        if name.is_empty() || name.len() > IFNAME_MAX {
            return None;
        }
        let mut bytes = [0; IFNAME_MAX];
        bytes[..name.len()].copy_from_slice(name);
        Some(IfName { len: name.len() as u8, bytes })
    }
}

/// The kernel's `isspace`: its ctype table (`lib/ctype.c`) is Latin-1, where
/// 0xA0 (no-break space) is white space too.
fn kernel_isspace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

fn check_ifname(name: &[u8]) -> std::result::Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > IFNAME_MAX {
        return Err(NameError::TooLong { len: name.len(), max: IFNAME_MAX });
    }
    if name == b"." || name == b".." {
        return Err(NameError::Reserved);
    }
    for (pos, &byte) in name.iter().enumerate() {
        if matches!(byte, b'/' | b':' | b'%' | 0) || kernel_isspace(byte) {
            return Err(NameError::BadByte { byte, pos });
        }
    }
    Ok(())
}

impl PartialEq for IfName {
    fn eq(&self, other: &IfName) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for IfName {}
impl PartialOrd for IfName {
    fn partial_cmp(&self, other: &IfName) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IfName {
    fn cmp(&self, other: &IfName) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}
impl Hash for IfName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `[u8]` hashes, so that `Borrow<[u8]>` lookups work.
        self.as_bytes().hash(state)
    }
}
impl Borrow<[u8]> for IfName {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl AsRef<[u8]> for IfName {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
impl AsRef<OsStr> for IfName {
    fn as_ref(&self) -> &OsStr {
        self.as_os_str()
    }
}
impl PartialEq<str> for IfName {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for IfName {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<[u8]> for IfName {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}
impl PartialEq<&[u8]> for IfName {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}
impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(IFNAME_MAX);
        write_escaped(&mut s, self.as_bytes(), false)?;
        f.pad(&s)
    }
}
impl fmt::Debug for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Quoted(self.as_bytes()), f)
    }
}
impl FromStr for IfName {
    type Err = Error;
    fn from_str(s: &str) -> Result<IfName> {
        IfName::new(s)
    }
}
impl TryFrom<&str> for IfName {
    type Error = Error;
    fn try_from(s: &str) -> Result<IfName> {
        IfName::new(s)
    }
}
impl TryFrom<String> for IfName {
    type Error = Error;
    fn try_from(s: String) -> Result<IfName> {
        IfName::new(&s)
    }
}
impl TryFrom<&[u8]> for IfName {
    type Error = Error;
    fn try_from(s: &[u8]) -> Result<IfName> {
        IfName::from_bytes(s)
    }
}

/// Characters that print as nothing, or move or reorder the text around
/// them: soft hyphen, zero-width characters, bidirectional controls, the
/// byte-order mark. Escaped so that a name never looks like another one.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// Whether `c` must be escaped: control characters, white space other than
/// the plain space, and invisible characters.
fn needs_escape(c: char) -> bool {
    c.is_control() || (c.is_whitespace() && c != ' ') || is_invisible(c)
}

/// Writes `bytes` escaped: UTF-8 text as is, except `\` as `\\`, `"` as
/// `\"` when `quote`, and every byte of an invalid sequence or of a
/// character that [`needs_escape`] as `\xNN`.
pub(crate) fn write_escaped(out: &mut impl fmt::Write, bytes: &[u8], quote: bool) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.write_str("\\\\")?,
                '"' if quote => out.write_str("\\\"")?,
                c if needs_escape(c) => {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        write!(out, "\\x{b:02x}")?;
                    }
                }
                c => out.write_char(c)?,
            }
        }
        for b in chunk.invalid() {
            write!(out, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// Bytes printed in double quotes, escaped as [`IfName`]'s `Debug` does
/// (used for names in error messages).
pub(crate) struct Quoted<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(self.0.len() + 2);
        s.push('"');
        write_escaped(&mut s, self.0, true)?;
        s.push('"');
        f.pad(&s)
    }
}

/// The name of a persistent network namespace (an entry of `/run/netns`,
/// as `ip netns add NAME` makes it; see ip-netns(8)).
///
/// A namespace name is a file name, and a file name may be any bytes but
/// `/` and NUL. `ip netns` refuses only those, `.` and `..`, and names over
/// 255 bytes. nslink is stricter, by choice: an `NsName` is **text** that
/// prints as itself, because it is also a command argument (`ip netns exec
/// NAME`), part of a path (`/etc/netns/NAME`) and a word in every log and
/// error message. So, besides `ip netns`'s rules, an `NsName`
///
/// - is UTF-8 (it is made from a `&str`);
/// - has no control characters (newline, tab, ESC, DEL, the C1 range), no
///   white space other than the plain space, and no invisible or
///   direction-changing characters (zero-width space, bidi overrides);
/// - does not start with `-`, which tools would read as an option.
///
/// An entry that another tool made with such a name is not listed by
/// [`NetNs::list`](crate::NetNs::list) and cannot be opened by name; open it
/// by path with [`NetNs::open_path`](crate::NetNs::open_path). A valid name
/// is always a single path component, so it cannot escape the namespace
/// directory. `Display` prints the name as is and honours width and
/// alignment.
///
/// ```
/// use nslink::NsName;
///
/// assert!(NsName::new("test1").is_ok());
/// assert!(NsName::new("with space").is_ok());
/// assert!(NsName::new("../etc/passwd").is_err());
/// assert!(NsName::new("..").is_err());
/// assert!(NsName::new("-n").is_err());
/// assert!(NsName::new("red\nblue").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsName(String);

impl NsName {
    /// Validates `name` as a namespace name.
    ///
    /// # Errors
    /// [`Error::InvalidName`] with the rule that was broken.
    pub fn new(name: &str) -> Result<NsName> {
        NsName::check(name).map_err(|reason| Error::InvalidName {
            kind: NameKind::Namespace,
            input: name.as_bytes().to_vec(),
            reason,
        })?;
        Ok(NsName(name.to_owned()))
    }

    /// Checks `name` by the rules of [`new`](NsName::new) without making an
    /// `NsName`.
    ///
    /// # Errors
    /// The rule that was broken.
    ///
    /// ```
    /// use nslink::NsName;
    /// use nslink::error::NameError;
    ///
    /// assert_eq!(NsName::check("red"), Ok(()));
    /// assert_eq!(NsName::check("-red"), Err(NameError::LeadingDash));
    /// assert_eq!(NsName::check("r\te"), Err(NameError::BadChar { ch: '\t', pos: 1 }));
    /// ```
    pub fn check(name: &str) -> std::result::Result<(), NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > NSNAME_MAX {
            return Err(NameError::TooLong { len: name.len(), max: NSNAME_MAX });
        }
        if name == "." || name == ".." {
            return Err(NameError::Reserved);
        }
        for (pos, ch) in name.char_indices() {
            if ch == '/' || needs_escape(ch) {
                return Err(NameError::BadChar { ch, pos });
            }
        }
        if name.starts_with('-') {
            return Err(NameError::LeadingDash);
        }
        Ok(())
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}
impl fmt::Debug for NsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl std::ops::Deref for NsName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}
impl AsRef<str> for NsName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
impl AsRef<OsStr> for NsName {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&self.0)
    }
}
impl Borrow<str> for NsName {
    fn borrow(&self) -> &str {
        &self.0
    }
}
impl FromStr for NsName {
    type Err = Error;
    fn from_str(s: &str) -> Result<NsName> {
        NsName::new(s)
    }
}
impl TryFrom<&str> for NsName {
    type Error = Error;
    fn try_from(s: &str) -> Result<NsName> {
        NsName::new(s)
    }
}
impl TryFrom<String> for NsName {
    type Error = Error;
    fn try_from(s: String) -> Result<NsName> {
        NsName::new(&s)
    }
}
impl PartialEq<str> for NsName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}
impl PartialEq<&str> for NsName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Anything that can be turned into an [`IfName`]: `&str`, `String`,
/// `IfName`, `&IfName`. Lets every API take plain strings and validate them
/// before any system call.
pub trait IntoIfName {
    /// Validates and converts.
    ///
    /// # Errors
    /// [`Error::InvalidName`].
    fn into_ifname(self) -> Result<IfName>;
}
impl IntoIfName for IfName {
    fn into_ifname(self) -> Result<IfName> {
        Ok(self)
    }
}
impl IntoIfName for &IfName {
    fn into_ifname(self) -> Result<IfName> {
        Ok(self.clone())
    }
}
impl IntoIfName for &str {
    fn into_ifname(self) -> Result<IfName> {
        IfName::new(self)
    }
}
impl IntoIfName for String {
    fn into_ifname(self) -> Result<IfName> {
        IfName::new(&self)
    }
}
impl IntoIfName for &String {
    fn into_ifname(self) -> Result<IfName> {
        IfName::new(self)
    }
}

/// Anything that can be turned into an [`NsName`]: `&str`, `String`,
/// `NsName`, `&NsName`.
pub trait IntoNsName {
    /// Validates and converts.
    ///
    /// # Errors
    /// [`Error::InvalidName`].
    fn into_nsname(self) -> Result<NsName>;
}
impl IntoNsName for NsName {
    fn into_nsname(self) -> Result<NsName> {
        Ok(self)
    }
}
impl IntoNsName for &NsName {
    fn into_nsname(self) -> Result<NsName> {
        Ok(self.clone())
    }
}
impl IntoNsName for &str {
    fn into_nsname(self) -> Result<NsName> {
        NsName::new(self)
    }
}
impl IntoNsName for String {
    fn into_nsname(self) -> Result<NsName> {
        NsName::new(&self)
    }
}
impl IntoNsName for &String {
    fn into_nsname(self) -> Result<NsName> {
        NsName::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(e: Error) -> NameError {
        match e {
            Error::InvalidName { reason, .. } => reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ifname_accepts_kernel_valid_names() {
        for ok in ["lo", "eth0", "veth-a_b.c", "123456789012345", "é", "br-1234abcd", "-x"] {
            assert_eq!(IfName::new(ok).unwrap().to_str(), Some(ok));
        }
        for ok in [&b"\xff"[..], b"\xff\xfe", b"\x01", b"\x7f", b"a\x85", b"\x9f\xa1"] {
            assert_eq!(IfName::from_bytes(ok).unwrap().as_bytes(), ok);
        }
    }

    #[test]
    fn ifname_rejects_every_invalid_form() {
        assert_eq!(reason(IfName::new("").unwrap_err()), NameError::Empty);
        assert_eq!(
            reason(IfName::new("0123456789abcdef").unwrap_err()),
            NameError::TooLong { len: 16, max: 15 }
        );
        // Counted in bytes: nine two-byte characters.
        assert_eq!(
            reason(IfName::new("ééééééééé").unwrap_err()),
            NameError::TooLong { len: 18, max: 15 }
        );
        assert_eq!(reason(IfName::new(".").unwrap_err()), NameError::Reserved);
        assert_eq!(reason(IfName::new("..").unwrap_err()), NameError::Reserved);
        for (bad, byte, pos) in [
            ("a/b", b'/', 1),
            ("eth0:1", b':', 4),
            (" a", b' ', 0),
            ("a\tb", b'\t', 1),
            ("a\n", b'\n', 1),
            ("a\x0b", 0x0b, 1),
            ("a\x0c", 0x0c, 1),
            ("a\r", b'\r', 1),
            ("a\0b", 0, 1),
            ("veth%d", b'%', 4),
            // U+00A0 is C2 A0, U+00E0 (à) is C3 A0: the kernel refuses 0xA0.
            ("a\u{a0}b", 0xa0, 2),
            ("brà", 0xa0, 3),
            ("\u{2020}", 0xa0, 2),
        ] {
            assert_eq!(
                reason(IfName::new(bad).unwrap_err()),
                NameError::BadByte { byte, pos },
                "{bad:?}"
            );
        }
        assert_eq!(
            reason(IfName::from_bytes(b"\xa0").unwrap_err()),
            NameError::BadByte { byte: 0xa0, pos: 0 }
        );
    }

    #[test]
    fn every_single_byte_follows_the_kernels_rule() {
        for b in 0..=255u8 {
            let kernel_ok =
                !(b == 0 || b == b'/' || b == b':' || b == b'.' || matches!(b, 9..=13 | 32 | 0xa0));
            // '%' is the one byte nslink refuses beyond the kernel's rule.
            let want = kernel_ok && b != b'%';
            assert_eq!(IfName::from_bytes(&[b]).is_ok(), want, "byte {b:#04x}");
        }
    }

    #[test]
    fn ifname_keeps_bytes_and_displays_them_escaped() {
        let n = IfName::from_kernel(b"\xff\xfe").unwrap();
        assert_eq!(n.as_bytes(), b"\xff\xfe");
        assert_eq!(n.to_str(), None);
        assert_eq!(n.to_string(), "\\xff\\xfe");
        assert_eq!(format!("{n:?}"), "\"\\xff\\xfe\"");
        let other = IfName::from_kernel(b"\xff\xfd").unwrap();
        assert_ne!(n, other);
        assert_ne!(n.to_string(), other.to_string());
        // A 15-byte name stays 15 bytes.
        let long = IfName::from_kernel(&[0xff; 15]).unwrap();
        assert_eq!(long.as_bytes().len(), 15);
        assert_eq!(IfName::from_kernel(&[b'a'; 16]), None);
        assert_eq!(IfName::from_kernel(b""), None);
        // Backslash, quote, controls and invisible characters.
        let n = IfName::from_kernel(b"a\\b\"c\x01\x7f").unwrap();
        assert_eq!(n.to_string(), "a\\\\b\"c\\x01\\x7f");
        assert_eq!(format!("{n:?}"), "\"a\\\\b\\\"c\\x01\\x7f\"");
        let n = IfName::from_kernel("x\u{202e}y\u{85}é".as_bytes()).unwrap();
        assert_eq!(n.to_string(), "x\\xe2\\x80\\xaey\\xc2\\x85é");
        // The text `\xff` and the byte 0xff print differently.
        let text = IfName::new("\\xff").unwrap();
        assert_ne!(text.to_string(), IfName::from_kernel(b"\xff").unwrap().to_string());
    }

    #[test]
    fn display_pads_like_str() {
        let n = IfName::new("eth0").unwrap();
        assert_eq!(format!("[{n:<6}]"), "[eth0  ]");
        assert_eq!(format!("[{n:>6}]"), "[  eth0]");
        assert_eq!(format!("[{n:^8}]"), "[  eth0  ]");
        assert_eq!(format!("[{n:.2}]"), "[et]");
        let raw = IfName::from_kernel(b"\xff").unwrap();
        assert_eq!(format!("[{raw:<6}]"), "[\\xff  ]");
        let ns = NsName::new("red").unwrap();
        assert_eq!(format!("[{ns:<5}]"), "[red  ]");
        assert_eq!(format!("[{ns:>5}]"), "[  red]");
    }

    #[test]
    fn ifname_order_and_hash_follow_the_bytes() {
        use std::collections::HashSet;
        let mut v =
            [IfName::new("b").unwrap(), IfName::new("ab").unwrap(), IfName::new("a").unwrap()];
        v.sort();
        assert_eq!(v.iter().map(|n| n.as_bytes()).collect::<Vec<_>>(), [&b"a"[..], b"ab", b"b"]);
        let set: HashSet<IfName> = v.iter().cloned().collect();
        assert!(set.contains(&b"ab"[..]));
    }

    #[test]
    fn nsname_rules() {
        assert!(NsName::new("test1").is_ok());
        assert!(NsName::new("with space:and%percent").is_ok());
        assert!(NsName::new("a-b").is_ok());
        assert!(NsName::new("é").is_ok());
        assert!(NsName::new(&"x".repeat(255)).is_ok());
        assert_eq!(
            reason(NsName::new(&"x".repeat(256)).unwrap_err()),
            NameError::TooLong { len: 256, max: 255 }
        );
        assert_eq!(reason(NsName::new("").unwrap_err()), NameError::Empty);
        assert_eq!(reason(NsName::new(".").unwrap_err()), NameError::Reserved);
        assert_eq!(reason(NsName::new("..").unwrap_err()), NameError::Reserved);
        assert_eq!(reason(NsName::new("-").unwrap_err()), NameError::LeadingDash);
        assert_eq!(reason(NsName::new("-n").unwrap_err()), NameError::LeadingDash);
        for bad in ["a/b", "../x", "../../etc/x", "/abs", "a\0", "a\n", "\x1b[31m", "a\tb", "\x7f"]
        {
            assert!(
                matches!(reason(NsName::new(bad).unwrap_err()), NameError::BadChar { .. }),
                "{bad:?}"
            );
        }
        for bad in ["a\u{85}", "a\u{2028}", "a\u{202e}b", "\u{200b}", "a\u{a0}"] {
            assert!(
                matches!(reason(NsName::new(bad).unwrap_err()), NameError::BadChar { .. }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn error_message_quotes_hostile_input() {
        let e = IfName::new("a\nb").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid interface name \"a\\x0ab\": byte 0x0a at offset 1 is not allowed \
             (white space to the kernel)"
        );
        let e = NsName::new("a\x1b[2J").unwrap_err();
        assert!(!e.to_string().contains('\x1b'), "{e}");
        let e =
            IfName::from_bytes(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
                .unwrap_err();
        assert!(e.to_string().starts_with("invalid interface name \"\\xff\\xff"), "{e}");
    }

    #[test]
    fn conversions() {
        let n: IfName = "veth0".parse().unwrap();
        assert_eq!(n, "veth0");
        assert_eq!(format!("{n:?}"), "\"veth0\"");
        assert!("bad/name".into_ifname().is_err());
        assert!(String::from("ok").into_nsname().is_ok());
        assert!(IfName::try_from(&b"x\xff"[..]).is_ok());
    }
}
