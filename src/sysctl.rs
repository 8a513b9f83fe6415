//! Per-namespace network settings (`/proc/sys/net/...`, proc(5), sysctl(8)).
//!
//! The files under `/proc/sys/net` show the settings of the namespace of the
//! thread that opens them, so reads and writes happen on one of nslink's
//! [worker threads](crate::netns#the-worker-pool-and-what-it-costs), moved
//! into the namespace for the job (setns(2)); the caller's thread never
//! moves.
//!
//! Keys are written as `sysctl` writes them: `net.ipv4.ip_forward`, or with
//! slashes when a part contains a dot (an interface name such as `eth0.100`):
//! `net/ipv6/conf/eth0.100/accept_ra`. Only keys under `net` are accepted,
//! and no key can name a path outside `/proc/sys/net`.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::netns::{NetNs, run_in};

/// The longest key accepted, in bytes.
const MAX_KEY_LEN: usize = 512;

/// Why a sysctl key was refused by [`key_path`].
///
/// ```
/// use nslink::sysctl::{SysctlKeyErrorKind, key_path};
///
/// assert_eq!(key_path("net..x").unwrap_err().kind(), SysctlKeyErrorKind::BadPart);
/// assert_eq!(
///     key_path("net.a b").unwrap_err().kind(),
///     SysctlKeyErrorKind::BadChar { ch: ' ', pos: 5 }
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SysctlKeyErrorKind {
    /// The key is empty.
    Empty,
    /// The key is longer than 512 bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A NUL, a blank or a control character, at a byte offset.
    BadChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        pos: usize,
    },
    /// The key is not under `net` (or is `net` alone).
    NotUnderNet,
    /// A part between separators is empty, `.` or `..`.
    BadPart,
}

/// A sysctl key refused by [`key_path`] (and so by [`read`] and
/// [`write()`]) before anything was opened. Converts into
/// [`Error::Parse`] with `?`.
///
/// ```
/// use nslink::sysctl::{SysctlKeyErrorKind, key_path};
///
/// let err = key_path("kernel.hostname").unwrap_err();
/// assert_eq!(err.kind(), SysctlKeyErrorKind::NotUnderNet);
/// assert_eq!(
///     err.to_string(),
///     "invalid sysctl key \"kernel.hostname\": only keys under net are accepted"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlKeyError {
    input: String,
    kind: SysctlKeyErrorKind,
}

impl SysctlKeyError {
    /// What is wrong.
    ///
    /// ```
    /// use nslink::sysctl::{SysctlKeyErrorKind, key_path};
    ///
    /// assert_eq!(key_path("").unwrap_err().kind(), SysctlKeyErrorKind::Empty);
    /// ```
    pub fn kind(&self) -> SysctlKeyErrorKind {
        self.kind
    }
    /// The key as given.
    ///
    /// ```
    /// assert_eq!(nslink::sysctl::key_path("vm.swappiness").unwrap_err().input(), "vm.swappiness");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for SysctlKeyError {
    /// Honours width and alignment, like every `Display` of nslink.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            SysctlKeyErrorKind::Empty => "it is empty".to_owned(),
            SysctlKeyErrorKind::TooLong { len } => {
                format!("it is {len} bytes long, the limit is {MAX_KEY_LEN}")
            }
            SysctlKeyErrorKind::BadChar { ch, pos } => {
                format!("character {ch:?} at byte {pos} is not allowed")
            }
            SysctlKeyErrorKind::NotUnderNet => "only keys under net are accepted".to_owned(),
            SysctlKeyErrorKind::BadPart => {
                "a part between separators is empty, \".\" or \"..\"".to_owned()
            }
        };
        f.pad(&format!("invalid sysctl key {:?}: {why}", self.input))
    }
}

impl std::error::Error for SysctlKeyError {}

impl From<SysctlKeyError> for Error {
    fn from(e: SysctlKeyError) -> Error {
        Error::Parse(crate::error::ParseError::SysctlKey(e))
    }
}

/// Turns a key into its path under `/proc/sys` (proc(5), sysctl(8)),
/// refusing anything that is not a plain key under `net`.
///
/// Kernel: none; a pure function of the text.
///
/// # Errors
/// [`SysctlKeyError`].
///
/// ```
/// use nslink::sysctl::key_path;
///
/// assert_eq!(key_path("net.ipv4.ip_forward")?.to_str(), Some("/proc/sys/net/ipv4/ip_forward"));
/// assert_eq!(
///     key_path("net/ipv6/conf/eth0.100/accept_ra")?.to_str(),
///     Some("/proc/sys/net/ipv6/conf/eth0.100/accept_ra")
/// );
/// assert!(key_path("net.ipv4.../../../etc/passwd").is_err());
/// assert!(key_path("kernel.hostname").is_err());
/// # Ok::<(), nslink::sysctl::SysctlKeyError>(())
/// ```
pub fn key_path(key: &str) -> Result<PathBuf, SysctlKeyError> {
    let bad = |kind| SysctlKeyError { input: key.into(), kind };
    if key.is_empty() {
        return Err(bad(SysctlKeyErrorKind::Empty));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(bad(SysctlKeyErrorKind::TooLong { len: key.len() }));
    }
    for (pos, ch) in key.char_indices() {
        if ch == '\0' || ch.is_whitespace() || ch.is_control() {
            return Err(bad(SysctlKeyErrorKind::BadChar { ch, pos }));
        }
    }
    let parts: Vec<&str> =
        if key.contains('/') { key.split('/').collect() } else { key.split('.').collect() };
    if parts.first() != Some(&"net") || parts.len() < 2 {
        return Err(bad(SysctlKeyErrorKind::NotUnderNet));
    }
    for p in &parts {
        if p.is_empty() || *p == "." || *p == ".." {
            return Err(bad(SysctlKeyErrorKind::BadPart));
        }
    }
    let mut path = PathBuf::from("/proc/sys");
    path.extend(parts);
    Ok(path)
}

fn object(ns: &NetNs, key: &str) -> Object {
    Object::value(ObjectKind::Sysctl, key).in_netns(ns.describe())
}

/// Reads setting `key` of namespace `ns`, like
/// `ip netns exec NS sysctl -n KEY`, without the trailing newline.
///
/// Kernel: open(2) and read(2) of `/proc/sys/net/…` (proc(5), sysctl(8)) on
/// a worker thread that setns(2) into `ns` for the job (so it needs
/// `CAP_SYS_ADMIN` over `ns`, like any entry). Most keys can be read by
/// anyone; a few are mode 0600 or 0200. Cost: one worker job (a few µs
/// when a worker is idle) and the read.
///
/// # Errors
/// [`Error::Parse`] for a bad key; [`Error::Os`] with `ENOENT` for a key
/// the kernel does not have, `EACCES` for a write-only key.
///
/// ```no_run
/// let ns = nslink::NetNs::open("test1")?;
/// assert_eq!(nslink::sysctl::read(&ns, "net.ipv4.ip_forward")?, "0");
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn read(ns: &NetNs, key: &str) -> Result<String> {
    let path = key_path(key)?;
    let object = object(ns, key);
    run_in(ns, Op::ReadSysctl, move || {
        std::fs::read_to_string(&path)
            .map(|s| s.trim_end_matches('\n').to_owned())
            .map_err(|e| Error::io(Op::ReadSysctl, object, &e))
    })
}

/// Sets `key` of namespace `ns` to `value`, like
/// `ip netns exec NS sysctl -w KEY=VALUE`. The current value is read first
/// and the file is written only if it differs (so a read-only `/proc` is no
/// error when nothing needs to change). Returns the previous value, or
/// `None` for a write-only key such as `net.ipv4.route.flush`, which is
/// always written.
///
/// Kernel: read(2) then write(2) of `/proc/sys/net/…` (proc(5),
/// sysctl(8)) on a worker thread that setns(2) into `ns` for the job
/// (`CAP_SYS_ADMIN` over `ns`). Writing needs root in the user namespace
/// that owns `ns` (the files belong to it); some keys can only be changed
/// from the initial namespace. Cost: one worker job and two file
/// operations.
///
/// # Errors
/// [`Error::Parse`] for a bad key; [`Error::InvalidArgument`] for a value
/// with a newline or NUL; [`Error::Os`] (operation [`Op::WriteSysctl`])
/// with `ENOENT` for an unknown key, `EINVAL` for a value the kernel
/// refuses, `EACCES`/`EROFS` when it cannot be written.
///
/// ```no_run
/// let node = nslink::NetNs::open("node")?;
/// let before = nslink::sysctl::write(&node, "net.ipv4.ip_forward", "1")?;
/// assert_eq!(nslink::sysctl::write(&node, "net.ipv4.route.flush", "1")?, None);
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn write(ns: &NetNs, key: &str, value: &str) -> Result<Option<String>> {
    let path = key_path(key)?;
    let object = object(ns, key);
    if value.contains('\n') || value.contains('\0') {
        return Err(Error::InvalidArgument {
            op: Op::WriteSysctl,
            object,
            detail: "a sysctl value is one line without NUL".into(),
        });
    }
    let value = value.to_owned();
    run_in(ns, Op::WriteSysctl, move || {
        let before = match std::fs::read_to_string(&path) {
            Ok(s) => Some(s.trim_end_matches('\n').to_owned()),
            // A write-only key (mode 0200): nothing to compare, write it.
            Err(e) if e.raw_os_error() == Some(nix::libc::EACCES) => None,
            // The write is what was asked for: an unknown key is a write
            // that found nothing (ENOENT), not a failed read.
            Err(e) => return Err(Error::io(Op::WriteSysctl, object, &e)),
        };
        if let Some(b) = &before
            && b.split_whitespace().eq(value.split_whitespace())
        {
            return Ok(before);
        }
        std::fs::write(&path, &value).map_err(|e| Error::io(Op::WriteSysctl, object, &e))?;
        Ok(before)
    })
}

impl NetNs {
    /// Reads a setting of this namespace; see [`sysctl::read`](read()).
    ///
    /// Kernel: as [`sysctl::read`](read()).
    ///
    /// # Errors
    /// As [`sysctl::read`](read()).
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// println!("{}", ns.sysctl("net.ipv4.ip_forward")?);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn sysctl(&self, key: &str) -> Result<String> {
        read(self, key)
    }

    /// Writes a setting of this namespace; see [`sysctl::write`](write()).
    ///
    /// Kernel: as [`sysctl::write`](write()).
    ///
    /// # Errors
    /// As [`sysctl::write`](write()).
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// ns.set_sysctl("net.ipv4.ip_forward", "1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_sysctl(&self, key: &str, value: &str) -> Result<Option<String>> {
        write(self, key, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_paths_under_proc_sys_net() {
        assert_eq!(
            key_path("net.ipv4.ip_forward").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            key_path("net.ipv4.conf.all.forwarding").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/conf/all/forwarding")
        );
        assert_eq!(
            key_path("net/ipv4/conf/eth0.100/rp_filter").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0.100/rp_filter")
        );
    }

    #[test]
    fn traversal_and_foreign_keys_are_refused() {
        for bad in [
            "",
            "net",
            "kernel.hostname",
            "vm/overcommit_memory",
            "net.ipv4..ip_forward",
            "net/../kernel/hostname",
            "net/ipv4/../../kernel/hostname",
            "net/ipv4/./ip_forward",
            "/net/ipv4/ip_forward",
            "net.ipv4.ip_forward ",
            "net.ipv4.ip\0forward",
            "net/ipv4/ip_forward/",
        ] {
            let e = key_path(bad).unwrap_err();
            assert_eq!(e.input(), bad);
            assert!(e.to_string().starts_with("invalid sysctl key "), "{e}");
            let e: Error = e.into();
            assert!(matches!(e, Error::Parse(crate::error::ParseError::SysctlKey(_))), "{e:?}");
        }
    }

    #[test]
    fn key_error_display_pads() {
        for bad in ["", "kernel.hostname", "net..x", "net.a b"] {
            let e = key_path(bad).unwrap_err();
            let plain = e.to_string();
            assert!(plain.len() < 100, "{plain}");
            assert_eq!(format!("{e:<100}|"), format!("{plain:<100}|"));
            assert_eq!(format!("{e:>100}"), format!("{plain:>100}"));
        }
        assert_eq!(format!("{:.18}", key_path("").unwrap_err()), "invalid sysctl key");
    }
}
