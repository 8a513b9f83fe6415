//! Validated names: interface names ([`IfName`]) and namespace names
//! ([`NsName`]).
//!
//! Both are checked before any system call, so a bad name never reaches the
//! kernel or the file system (no `../` escapes from `/run/netns`, no `%d`
//! templates that make the kernel pick another name).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use crate::error::{Error, NameError, NameKind, Result};

/// Maximum length of an interface name in bytes (`IFNAMSIZ` minus the NUL).
pub const IFNAME_MAX: usize = 15;
/// Maximum length of a namespace name in bytes (`NAME_MAX`).
pub const NSNAME_MAX: usize = 255;

/// A network interface name that the kernel will accept as is.
///
/// The rules are the kernel's `dev_valid_name`: 1 to 15 bytes, not `.` or
/// `..`, no `/`, `:`, whitespace or NUL. `%` is refused as well: the kernel
/// treats a name with `%` as a template (`veth%d`) and picks a different
/// name, so looking the device up by the name you gave would then fail.
///
/// ```
/// use nslink::IfName;
///
/// let name = IfName::new("veth0")?;
/// assert_eq!(name.as_str(), "veth0");
/// assert!(IfName::new("eth0:1").is_err());
/// assert!(IfName::new("0123456789abcdef").is_err()); // 16 bytes
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfName(String);

impl IfName {
    /// Validates `name` as an interface name.
    ///
    /// # Errors
    /// [`Error::InvalidName`] with the rule that was broken.
    pub fn new(name: &str) -> Result<IfName> {
        validate_ifname(name)?;
        Ok(IfName(name.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a name that came from the kernel (already valid by construction).
    pub(crate) fn from_kernel(name: String) -> IfName {
        IfName(name)
    }
}

fn invalid(kind: NameKind, input: &str, reason: NameError) -> Error {
    Error::InvalidName { kind, input: input.to_owned(), reason }
}

fn validate_ifname(name: &str) -> Result<()> {
    let kind = NameKind::Interface;
    if name.is_empty() {
        return Err(invalid(kind, name, NameError::Empty));
    }
    if name.len() > IFNAME_MAX {
        return Err(invalid(kind, name, NameError::TooLong { len: name.len(), max: IFNAME_MAX }));
    }
    if name == "." || name == ".." {
        return Err(invalid(kind, name, NameError::Reserved));
    }
    for (pos, ch) in name.char_indices() {
        if ch == '/' || ch == ':' || ch == '%' || ch == '\0' || ch.is_whitespace() {
            return Err(invalid(kind, name, NameError::BadChar { ch, pos }));
        }
    }
    Ok(())
}

/// The name of a persistent network namespace (an entry of `/run/netns`).
///
/// The rules are iproute2's (`ip netns add`): 1 to 255 bytes, no `/`, no NUL,
/// not `.` or `..`. A valid name is always a single path component, so it
/// cannot escape the namespace directory.
///
/// ```
/// use nslink::NsName;
///
/// assert!(NsName::new("test1").is_ok());
/// assert!(NsName::new("../etc/passwd").is_err());
/// assert!(NsName::new("..").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsName(String);

impl NsName {
    /// Validates `name` as a namespace name.
    ///
    /// # Errors
    /// [`Error::InvalidName`] with the rule that was broken.
    pub fn new(name: &str) -> Result<NsName> {
        let kind = NameKind::Namespace;
        if name.is_empty() {
            return Err(invalid(kind, name, NameError::Empty));
        }
        if name.len() > NSNAME_MAX {
            return Err(invalid(
                kind,
                name,
                NameError::TooLong { len: name.len(), max: NSNAME_MAX },
            ));
        }
        if name == "." || name == ".." {
            return Err(invalid(kind, name, NameError::Reserved));
        }
        for (pos, ch) in name.char_indices() {
            if ch == '/' || ch == '\0' {
                return Err(invalid(kind, name, NameError::BadChar { ch, pos }));
            }
        }
        Ok(NsName(name.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! name_impls {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
        impl Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<$t> {
                $t::new(s)
            }
        }
        impl TryFrom<&str> for $t {
            type Error = Error;
            fn try_from(s: &str) -> Result<$t> {
                $t::new(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = Error;
            fn try_from(s: String) -> Result<$t> {
                $t::new(&s)
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
name_impls!(IfName);
name_impls!(NsName);

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
        validate_ifname(&self)?;
        Ok(IfName(self))
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
        for ok in ["lo", "eth0", "veth-a_b.c", "123456789012345", "é", "br-1234abcd"] {
            assert_eq!(IfName::new(ok).unwrap().as_str(), ok);
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
        for (bad, ch, pos) in [
            ("a/b", '/', 1),
            ("eth0:1", ':', 4),
            (" a", ' ', 0),
            ("a\tb", '\t', 1),
            ("a\n", '\n', 1),
            ("a\0b", '\0', 1),
            ("veth%d", '%', 4),
            ("a\u{a0}b", '\u{a0}', 1),
        ] {
            assert_eq!(
                reason(IfName::new(bad).unwrap_err()),
                NameError::BadChar { ch, pos },
                "{bad:?}"
            );
        }
    }

    #[test]
    fn nsname_rules_match_iproute2() {
        assert!(NsName::new("test1").is_ok());
        assert!(NsName::new("with space:and%percent").is_ok());
        assert!(NsName::new(&"x".repeat(255)).is_ok());
        assert_eq!(
            reason(NsName::new(&"x".repeat(256)).unwrap_err()),
            NameError::TooLong { len: 256, max: 255 }
        );
        assert_eq!(reason(NsName::new("").unwrap_err()), NameError::Empty);
        assert_eq!(reason(NsName::new(".").unwrap_err()), NameError::Reserved);
        assert_eq!(reason(NsName::new("..").unwrap_err()), NameError::Reserved);
        for bad in ["a/b", "../x", "../../etc/x", "/abs", "a\0"] {
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
            "invalid interface name \"a\\nb\": character '\\n' at byte 1 is not allowed"
        );
    }

    #[test]
    fn conversions() {
        let n: IfName = "veth0".parse().unwrap();
        assert_eq!(n, "veth0");
        assert_eq!(format!("{n:?}"), "\"veth0\"");
        assert!("bad/name".into_ifname().is_err());
        assert!(String::from("ok").into_nsname().is_ok());
    }
}
