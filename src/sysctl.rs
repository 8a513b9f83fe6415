//! Per-namespace network settings (`/proc/sys/net/...`).
//!
//! The files under `/proc/sys/net` show the settings of the namespace of the
//! thread that opens them, so reads and writes happen on nslink's helper
//! thread, moved into the namespace for the job; the caller's thread never
//! moves.
//!
//! Keys are written as `sysctl` writes them: `net.ipv4.ip_forward`, or with
//! slashes when a part contains a dot (an interface name such as `eth0.100`):
//! `net/ipv6/conf/eth0.100/accept_ra`. Only keys under `net` are accepted,
//! and no key can name a path outside `/proc/sys/net`.

use std::path::PathBuf;

use crate::error::{Error, NameError, NameKind, Op, Result};
use crate::netns::{NetNs, run_in};

/// Turns a key into its path under `/proc/sys`, refusing anything that is not
/// a plain key under `net`.
///
/// # Errors
/// [`Error::InvalidName`] (kind [`NameKind::Sysctl`]).
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
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn key_path(key: &str) -> Result<PathBuf> {
    let bad = |reason| Error::InvalidName { kind: NameKind::Sysctl, input: key.into(), reason };
    if key.is_empty() {
        return Err(bad(NameError::Empty));
    }
    if key.len() > 512 {
        return Err(bad(NameError::TooLong { len: key.len(), max: 512 }));
    }
    let parts: Vec<&str> =
        if key.contains('/') { key.split('/').collect() } else { key.split('.').collect() };
    for (pos, ch) in key.char_indices() {
        if ch == '\0' || ch.is_whitespace() || ch.is_control() {
            return Err(bad(NameError::BadChar { ch, pos }));
        }
    }
    if parts.first() != Some(&"net") || parts.len() < 2 {
        return Err(bad(NameError::BadChar { ch: key.chars().next().unwrap_or('?'), pos: 0 }));
    }
    for p in &parts {
        if p.is_empty() || *p == "." || *p == ".." {
            return Err(bad(NameError::Reserved));
        }
    }
    let mut path = PathBuf::from("/proc/sys");
    path.extend(parts);
    Ok(path)
}

/// Reads setting `key` of namespace `ns`, like
/// `ip netns exec NS sysctl -n KEY`, without the trailing newline.
///
/// # Errors
/// [`Error::InvalidName`] for a bad key; [`Error::Os`] with `ENOENT` for a key
/// the kernel does not have.
///
/// ```no_run
/// let ns = nslink::NetNs::open("test1")?;
/// assert_eq!(nslink::sysctl::read(&ns, "net.ipv4.ip_forward")?, "0");
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn read(ns: &NetNs, key: &str) -> Result<String> {
    let path = key_path(key)?;
    let object = format!("{key:?} in namespace {}", ns.describe());
    run_in(ns, Op::ReadSysctl, move || {
        std::fs::read_to_string(&path)
            .map(|s| s.trim_end_matches('\n').to_owned())
            .map_err(|e| Error::io(Op::ReadSysctl, object, &e))
    })
}

/// Sets `key` of namespace `ns` to `value`, like
/// `ip netns exec NS sysctl -w KEY=VALUE`. The current value is read first
/// and the file is written only if it differs (so a read-only `/proc` is no
/// error when nothing needs to change). Returns the previous value.
///
/// # Errors
/// [`Error::InvalidName`] for a bad key; [`Error::InvalidArgument`] for a
/// value with a newline or NUL; [`Error::Os`] with `ENOENT` for an unknown key,
/// `EINVAL` for a value the kernel refuses, `EACCES`/`EROFS` when it cannot be
/// written.
///
/// ```no_run
/// let node = nslink::NetNs::open("node")?;
/// let before = nslink::sysctl::write(&node, "net.ipv4.ip_forward", "1")?;
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn write(ns: &NetNs, key: &str, value: &str) -> Result<String> {
    let path = key_path(key)?;
    let object = format!("{key:?} in namespace {}", ns.describe());
    if value.contains('\n') || value.contains('\0') {
        return Err(Error::InvalidArgument {
            op: Op::WriteSysctl,
            object: crate::error::Object::from(object),
            detail: "a sysctl value is one line without NUL".into(),
        });
    }
    let value = value.to_owned();
    run_in(ns, Op::WriteSysctl, move || {
        let before = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(Op::ReadSysctl, object.clone(), &e))?
            .trim_end_matches('\n')
            .to_owned();
        if before.split_whitespace().eq(value.split_whitespace()) {
            return Ok(before);
        }
        std::fs::write(&path, &value).map_err(|e| Error::io(Op::WriteSysctl, object, &e))?;
        Ok(before)
    })
}

impl NetNs {
    /// Reads a setting of this namespace; see [`sysctl::read`](read()).
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
    /// # Errors
    /// As [`sysctl::write`](write()).
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// ns.set_sysctl("net.ipv4.ip_forward", "1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_sysctl(&self, key: &str, value: &str) -> Result<String> {
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
            assert!(
                matches!(key_path(bad), Err(Error::InvalidName { kind: NameKind::Sysctl, .. })),
                "{bad:?}"
            );
        }
    }
}
