//! The `SIOCETHTOOL` ioctl: device features, driver information and
//! statistics, as `ethtool -k`, `ethtool -i` and `ethtool -S` show them.
//!
//! # Which device a name means
//!
//! An ethtool request names its device by *interface name*, and the kernel
//! looks that name up in the **network namespace of the socket** the ioctl is
//! issued on, not in the namespace of the calling thread. Create the socket
//! with [`control_socket`] *inside the namespace of the device* (for example
//! in [`NetNs::run`](crate::NetNs::run)); afterwards it can be used from any
//! thread, and it keeps that namespace alive while it is open.
//!
//! ```no_run
//! use nslink::{ethtool, IfName, NetNs};
//!
//! let ns = NetNs::open("test1")?;
//! let sock = ns.run(ethtool::control_socket)??; // a socket *in* test1
//! let veth = IfName::new("veth0")?;
//! println!("{:?}", ethtool::driver_info(&sock, &veth)?);
//! println!("peer: {:?}", ethtool::veth_peer_index(&sock, &veth)?);
//! # Ok::<(), nslink::Error>(())
//! ```
//!
//! # The netns-local flag
//!
//! Before Linux ~6.12 a device that cannot change namespace (`lo`, bridges,
//! …) has the feature `netns-local` switched on. Since ~6.12 that feature
//! string no longer exists, and [`netns_local`] answers `None`; from 6.15 the
//! link attribute `IFLA_NETNS_IMMUTABLE` carries the flag instead.
//!
//! # Memory safety
//!
//! For `ETHTOOL_GSTRINGS` and `ETHTOOL_GSTATS` the kernel ignores the length
//! the caller passes and writes as many entries as the device has *now*,
//! which can be more than a moment earlier (a veth's statistics grow with
//! its queue count). nslink therefore hands the kernel buffers that end right
//! before an inaccessible guard page: a count that grew makes the ioctl fail
//! with `EFAULT` instead of overwriting memory, and the request is retried.
//!
//! # Privileges and cost
//!
//! Every request here is a *get* command of the `SIOCETHTOOL` ioctl
//! (netdevice(7)), which the kernel lets anyone issue: no capability is
//! needed. Each is one ioctl(2) of a few µs, plus, for the variable-length
//! replies, one anonymous mapping (mmap(2), mprotect(2), munmap(2)) for the
//! guarded buffer.

use std::ffi::c_void;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::{self, NonNull};

use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::name::IfName;

// Values from <linux/ethtool.h> that the libc crate does not define.
/// Get driver information (`struct ethtool_drvinfo`).
const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;
/// Get the strings of a string set (`struct ethtool_gstrings`).
const ETHTOOL_GSTRINGS: u32 = 0x0000_001b;
/// Get the device's statistics (`struct ethtool_stats`).
const ETHTOOL_GSTATS: u32 = 0x0000_001d;
/// Get the sizes of string sets (`struct ethtool_sset_info`).
const ETHTOOL_GSSET_INFO: u32 = 0x0000_0037;
/// Get the device's features (`struct ethtool_gfeatures`).
const ETHTOOL_GFEATURES: u32 = 0x0000_003a;
/// String set: statistics names (`ethtool -S`).
const ETH_SS_STATS: u32 = 1;
/// String set: feature names (`ethtool -k`).
const ETH_SS_FEATURES: u32 = 4;
/// Size of one string slot in `ETHTOOL_GSTRINGS` replies.
const ETH_GSTRING_LEN: usize = 32;

/// Header of `struct ethtool_gstrings`: cmd, string_set, len.
const GSTRINGS_HEADER: usize = 12;
/// Header of `struct ethtool_stats`: cmd, n_stats.
const GSTATS_HEADER: usize = 8;
/// More entries than any device has (features: ~70; statistics: a few
/// hundred on big NICs). A set the kernel reports as larger is read up to
/// this many: the rest fails the ioctl with `EFAULT` on the guard page, as
/// a set that grew would. It also keeps every size below computable without
/// overflow.
const MAX_SET: usize = 1 << 16;
/// A device with more entries than this in one set is not believed.
const MAX_SET_LEN: usize = 1 << 20;
/// How often a request is repeated when a count changes under it.
const ATTEMPTS: usize = 5;

/// `struct ethtool_drvinfo` (196 bytes, no padding).
#[repr(C)]
#[derive(Default)]
struct RawDrvInfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}
const _: () = assert!(size_of::<RawDrvInfo>() == 196);

/// `struct ethtool_sset_info` followed by room for exactly one `data` entry:
/// we ask for one set, so the kernel writes at most one.
#[repr(C)]
#[derive(Default)]
struct RawSsetInfoOne {
    cmd: u32,
    reserved: u32,
    sset_mask: u64,
    data: [u32; 1],
}
const _: () = assert!(std::mem::offset_of!(RawSsetInfoOne, data) == 16);

/// One netdev feature of a device, as `ethtool -k DEV` lists it.
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// let changeable: Vec<_> = ethtool::features(&sock, &IfName::new("eth0")?)?
///     .into_iter()
///     .filter(|f| !f.fixed)
///     .map(|f| f.name)
///     .collect();
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Feature {
    /// The kernel's name for it, e.g. `tx-checksum-ip-generic` (the legacy
    /// group names of `ethtool -k`, like `tx-checksumming`, are not kernel
    /// features).
    pub name: String,
    /// Whether the feature is on now.
    pub active: bool,
    /// Whether the driver lets it be switched (`ethtool -K`): the kernel's
    /// "available" (hw_features) bit.
    pub available: bool,
    /// Whether it is fixed: not [`available`](Feature::available), or one the
    /// kernel never lets change. `ethtool -k` prints `[fixed]`.
    pub fixed: bool,
    /// The state the user asked for (wanted_features). When it differs from
    /// [`active`](Feature::active) on a changeable feature, `ethtool -k`
    /// prints `[requested on]` or `[requested off]`.
    pub requested: bool,
}

/// What `ETHTOOL_GDRVINFO` reports, as `ethtool -i DEV` prints it.
///
/// Strings are empty when the driver leaves them empty; some drivers write
/// `N/A` themselves (the bridge does).
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// let info = ethtool::driver_info(&sock, &IfName::new("eth0")?)?;
/// println!("driver: {} bus-info: {}", info.driver, info.bus_info);
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DriverInfo {
    /// Driver name (`driver:`), e.g. `veth`, `bridge`.
    pub driver: String,
    /// Driver version (`version:`).
    pub version: String,
    /// Firmware version (`firmware-version:`).
    pub fw_version: String,
    /// Expansion ROM version (`expansion-rom-version:`).
    pub erom_version: String,
    /// Bus address (`bus-info:`), e.g. a PCI address.
    pub bus_info: String,
    /// Number of private flags (`supports-priv-flags:` is `n_priv_flags > 0`).
    pub n_priv_flags: u32,
    /// Number of statistics (`supports-statistics:` is `n_stats > 0`).
    pub n_stats: u32,
    /// Number of self-test results (`supports-test:`).
    pub testinfo_len: u32,
    /// EEPROM size in bytes (`supports-eeprom-access:`).
    pub eedump_len: u32,
    /// Register dump size in bytes (`supports-register-dump:`).
    pub regdump_len: u32,
}

/// Opens a socket for ethtool ioctls, `socket(AF_INET, SOCK_DGRAM |
/// SOCK_CLOEXEC, 0)`, the kind `ethtool` itself uses.
///
/// Kernel: socket(2) (see netdevice(7): any socket serves for device
/// ioctls). No privilege.
///
/// The socket belongs to the network namespace of the **calling thread**,
/// and every request made through it looks device names up in that
/// namespace. To query devices of another namespace, create the socket in
/// there, e.g. with [`NetNs::run`](crate::NetNs::run).
///
/// # Errors
/// [`Error::Os`] ([`Op::Ethtool`]) when no socket can be created (e.g.
/// `EMFILE`, or `EAFNOSUPPORT` on a kernel without IPv4).
///
/// ```no_run
/// use nslink::{ethtool, NetNs};
///
/// let here = ethtool::control_socket()?; // this thread's namespace
/// let ns = NetNs::new()?;
/// let there = ns.run(ethtool::control_socket)??; // the new namespace
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn control_socket() -> Result<OwnedFd> {
    socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| Error::os(Op::Ethtool, Object::unnamed(ObjectKind::Socket), e))
}

/// The features of device `name` with their states, in the kernel's order,
/// like `ethtool -k DEV` (`ETHTOOL_GSSET_INFO` and `ETHTOOL_GSTRINGS` for
/// the names of string set `ETH_SS_FEATURES`, then `ETHTOOL_GFEATURES`).
///
/// `sock` must have been created in the namespace of the device (see
/// [`control_socket`]). A kernel without named features (`EOPNOTSUPP` or
/// `EINVAL` for the string set; before Linux 2.6.39) gives an empty list.
/// Feature bits the kernel leaves unnamed are skipped.
///
/// Kernel: three `SIOCETHTOOL` ioctls (netdevice(7)), as ethtool(8) `-k`;
/// no privilege.
///
/// # Errors
/// [`Error::Os`] with [`Op::Ethtool`] and object `link "NAME"`; `ENODEV` (see
/// [`Error::is_not_found`]) when the socket's namespace has no such device.
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// for f in ethtool::features(&sock, &IfName::new("lo")?)? {
///     println!("{}: {}{}", f.name, if f.active { "on" } else { "off" },
///              if f.fixed { " [fixed]" } else { "" });
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[doc(alias = "ethtool -k")]
#[doc(alias = "ETHTOOL_GFEATURES")]
pub fn features(sock: impl AsFd, name: &IfName) -> Result<Vec<Feature>> {
    let fd = sock.as_fd();
    let os = |e: Errno| link_error(name, e);
    let count = match set_len(fd, name, ETH_SS_FEATURES) {
        Ok(Some(n)) => n,
        Ok(None) | Err(Errno::EOPNOTSUPP | Errno::EINVAL) => return Ok(Vec::new()),
        Err(e) => return Err(os(e)),
    };
    if count == 0 {
        return Ok(Vec::new());
    }
    // The feature set has a fixed size for a given kernel; a retry is only
    // needed if the kernel still wrote more names than it announced.
    let (names, blocks) = retry_on_growth(name, "features", || {
        let names = get_strings(fd, name, ETH_SS_FEATURES, count)?;
        let blocks = get_feature_blocks(fd, name, count)?;
        Ok((names, blocks))
    })?;
    let bit = |words: &dyn Fn(&FeatureBlock) -> u32, i: usize| {
        blocks.get(i / 32).is_some_and(|b| words(b) & (1 << (i % 32)) != 0)
    };
    let mut out = Vec::with_capacity(names.len());
    for (i, fname) in names.into_iter().enumerate() {
        if fname.is_empty() {
            continue;
        }
        let available = bit(&|b| b.available, i);
        out.push(Feature {
            name: fname,
            active: bit(&|b| b.active, i),
            available,
            fixed: !available || bit(&|b| b.never_changed, i),
            requested: bit(&|b| b.requested, i),
        });
    }
    Ok(out)
}

/// Whether feature `feature_name` of device `name` is on, like one line of
/// `ethtool -k DEV`; `None` when the kernel has no feature of that name.
///
/// Names are the kernel's (`tx-checksum-ip-generic`, `rx-gro`, `loopback`),
/// not `ethtool`'s legacy group names (`tx-checksumming`,
/// `generic-receive-offload`). See [`features`].
///
/// Kernel: as [`features`] (all features are read; the one asked for is
/// picked out here).
///
/// # Errors
/// As [`features`].
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// assert_eq!(ethtool::feature(&sock, &IfName::new("lo")?, "loopback")?, Some(true));
/// # Ok::<(), nslink::Error>(())
/// ```
#[doc(alias = "ethtool -k")]
pub fn feature(sock: impl AsFd, name: &IfName, feature_name: &str) -> Result<Option<bool>> {
    Ok(features(sock, name)?.into_iter().find(|f| f.name == feature_name).map(|f| f.active))
}

/// The ethtool feature `netns-local` of device `name`: `Some(true)` when the
/// device cannot move to another namespace, like the line `netns-local: on
/// [fixed]` of `ethtool -k DEV`.
///
/// Only kernels before ~6.12 have this feature; on Linux 6.1, `lo` and
/// bridges say `Some(true)` and a veth `Some(false)`. Newer kernels no longer
/// name it, and this returns `Ok(None)`: there the flag is the link attribute
/// `IFLA_NETNS_IMMUTABLE` (Linux 6.15 and later), or invisible (6.12–6.14).
/// [`RouteSocket::netns_local`](crate::RouteSocket::netns_local) answers
/// on every kernel.
///
/// Kernel: as [`features`]; no privilege.
///
/// # Errors
/// As [`features`].
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// match ethtool::netns_local(&sock, &IfName::new("lo")?)? {
///     Some(local) => println!("lo netns-local: {local}"),
///     None => println!("this kernel has no netns-local feature"),
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[doc(alias = "netns-local")]
pub fn netns_local(sock: impl AsFd, name: &IfName) -> Result<Option<bool>> {
    feature(sock, name, "netns-local")
}

/// Driver name, version, firmware version and bus address of device `name`,
/// like `ethtool -i DEV`.
///
/// Kernel: one `SIOCETHTOOL` ioctl, `ETHTOOL_GDRVINFO` (netdevice(7);
/// ethtool(8) `-i`). No privilege.
///
/// # Errors
/// [`Error::Os`] with [`Op::Ethtool`]: `ENODEV` (see
/// [`Error::is_not_found`]) when the socket's namespace has no such device;
/// `EOPNOTSUPP` for a device without a driver to ask (`lo`).
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// let info = ethtool::driver_info(&sock, &IfName::new("veth0")?)?;
/// println!("driver: {} version: {}", info.driver, info.version);
/// # Ok::<(), nslink::Error>(())
/// ```
#[doc(alias = "ethtool -i")]
#[doc(alias = "ETHTOOL_GDRVINFO")]
pub fn driver_info(sock: impl AsFd, name: &IfName) -> Result<DriverInfo> {
    let mut raw = RawDrvInfo { cmd: ETHTOOL_GDRVINFO, ..RawDrvInfo::default() };
    // SAFETY: `raw` is a live, exclusively borrowed `struct ethtool_drvinfo`
    // with `cmd` set; for ETHTOOL_GDRVINFO the kernel writes exactly
    // sizeof(struct ethtool_drvinfo) = 196 bytes, which is `raw`'s size.
    unsafe { ethtool_ioctl(sock.as_fd(), name, ptr::from_mut(&mut raw).cast()) }
        .map_err(|e| link_error(name, e))?;
    Ok(DriverInfo {
        driver: c_string(&raw.driver),
        version: c_string(&raw.version),
        fw_version: c_string(&raw.fw_version),
        erom_version: c_string(&raw.erom_version),
        bus_info: c_string(&raw.bus_info),
        n_priv_flags: raw.n_priv_flags,
        n_stats: raw.n_stats,
        testinfo_len: raw.testinfo_len,
        eedump_len: raw.eedump_len,
        regdump_len: raw.regdump_len,
    })
}

/// The driver statistics of device `name` as `(name, value)` pairs in the
/// driver's order, like `ethtool -S DEV` (`ETHTOOL_GSSET_INFO` and
/// `ETHTOOL_GSTRINGS` for string set `ETH_SS_STATS`, then `ETHTOOL_GSTATS`).
///
/// A device whose driver has no statistics (`lo`, a bridge; `ethtool -S`
/// says "no stats available") gives an empty list.
///
/// Kernel: three `SIOCETHTOOL` ioctls (netdevice(7); ethtool(8) `-S`),
/// repeated when the number of statistics changes in between. No
/// privilege.
///
/// # Errors
/// [`Error::Os`] with [`Op::Ethtool`]: `ENODEV` (see
/// [`Error::is_not_found`]) when the socket's namespace has no such device.
/// [`Error::Decode`] if the number of statistics kept changing while they
/// were read.
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// for (stat, value) in ethtool::stats(&sock, &IfName::new("veth0")?)? {
///     println!("{stat}: {value}");
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[doc(alias = "ethtool -S")]
#[doc(alias = "ETHTOOL_GSTATS")]
pub fn stats(sock: impl AsFd, name: &IfName) -> Result<Vec<(String, u64)>> {
    let fd = sock.as_fd();
    retry_on_growth(name, "statistics", || {
        let count = match set_len(fd, name, ETH_SS_STATS) {
            Ok(Some(n)) => n,
            Ok(None) | Err(Errno::EOPNOTSUPP) => 0,
            Err(e) => return Err(e),
        };
        if count == 0 {
            return Ok(Vec::new());
        }
        let names = get_strings(fd, name, ETH_SS_STATS, count)?;
        let values = get_stats(fd, name, count)?;
        if names.len() != values.len() {
            // The set shrank between the two requests: read both again.
            return Err(Errno::EFAULT);
        }
        Ok(names.into_iter().zip(values).collect())
    })
}

/// The interface index of the other end of veth `name`: its statistic
/// `peer_ifindex`, as `ethtool -S DEV` shows it; `None` when the device has
/// no such statistic (it is not a veth).
///
/// The index is valid in the **peer's** namespace, which may not be the
/// socket's.
///
/// Kernel: as [`stats`] (ethtool(8) `-S`); no privilege.
/// [`RouteSocket::veth_peer`](crate::RouteSocket::veth_peer) reads the
/// link attribute `IFLA_LINK` instead when the kernel sends it.
///
/// # Errors
/// As [`stats`]; [`Error::Decode`] if the value does not fit an interface
/// index.
///
/// ```no_run
/// use nslink::{ethtool, IfName};
///
/// let sock = ethtool::control_socket()?;
/// if let Some(peer) = ethtool::veth_peer_index(&sock, &IfName::new("veth0")?)? {
///     println!("peer is ifindex {peer}");
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[doc(alias = "VethPeerIndex")]
pub fn veth_peer_index(sock: impl AsFd, name: &IfName) -> Result<Option<u32>> {
    let Some((_, value)) = stats(sock, name)?.into_iter().find(|(s, _)| s == "peer_ifindex") else {
        return Ok(None);
    };
    u32::try_from(value).map(Some).map_err(|_| Error::Decode {
        op: Op::Ethtool,
        detail: format!("link {name:?}: peer_ifindex {value} is not an interface index"),
    })
}

fn link_error(name: &IfName, errno: Errno) -> Error {
    Error::os(Op::Ethtool, Object::link_name(name), errno)
}

/// Runs `f` until it does not report `EFAULT` (our sign that a set grew
/// while it was read), at most [`ATTEMPTS`] times.
fn retry_on_growth<T>(
    name: &IfName,
    what: &str,
    mut f: impl FnMut() -> Result<T, Errno>,
) -> Result<T> {
    for _ in 0..ATTEMPTS {
        match f() {
            Err(Errno::EFAULT) => {}
            other => return other.map_err(|e| link_error(name, e)),
        }
    }
    Err(Error::Decode {
        op: Op::Ethtool,
        detail: format!(
            "link {name:?}: the number of {what} changed on each of {ATTEMPTS} attempts"
        ),
    })
}

/// Issues `SIOCETHTOOL` for device `name` with the request buffer `data`.
///
/// # Safety
/// `data` must be valid for reads and writes, for the duration of the call,
/// of every byte the kernel reads or writes for the command in its first
/// `u32` (for the variable-length commands: as many as the kernel may write,
/// or a guard page must stop it; see [`GuardedBuf`]).
unsafe fn ethtool_ioctl(
    sock: BorrowedFd<'_>,
    name: &IfName,
    data: *mut c_void,
) -> Result<(), Errno> {
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        // Unreachable for a validated IfName; the kernel would refuse it too.
        return Err(Errno::EINVAL);
    }
    // SAFETY: `ifreq` is plain old data (a `c_char` array and a union of
    // integers, `sockaddr`s, arrays and a raw pointer); all-zero bytes are a
    // valid value of every field.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    // The name stays NUL-terminated: it is shorter than IFNAMSIZ and the rest
    // is zero.
    ifr.ifr_ifru.ifru_data = data.cast();
    // SAFETY: `sock` is a live descriptor borrowed for the call; `ifr` is a
    // valid, exclusively borrowed `struct ifreq` for the kernel to read (and,
    // for some commands, write); the buffer it points to meets this
    // function's contract, which the caller upholds.
    let r =
        unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCETHTOOL as _, ptr::from_mut(&mut ifr)) };
    Errno::result(r).map(drop)
}

/// The number of entries of string set `set`, or `None` when the device
/// does not have that set (`ETHTOOL_GSSET_INFO`).
fn set_len(fd: BorrowedFd<'_>, name: &IfName, set: u32) -> Result<Option<usize>, Errno> {
    let mut info =
        RawSsetInfoOne { cmd: ETHTOOL_GSSET_INFO, sset_mask: 1 << set, ..Default::default() };
    // SAFETY: `info` is a live, exclusively borrowed `struct ethtool_sset_info`
    // with room for one `data` entry. The kernel writes the 16-byte header and
    // one u32 per set it reports, and it reports at most the sets we asked
    // for: exactly one bit is set in `sset_mask`.
    unsafe { ethtool_ioctl(fd, name, ptr::from_mut(&mut info).cast())? };
    // The kernel clears the bits of the sets the device does not have.
    if info.sset_mask & (1 << set) == 0 {
        return Ok(None);
    }
    let n = info.data[0] as usize;
    if n > MAX_SET_LEN {
        return Err(Errno::EOVERFLOW);
    }
    Ok(Some(n))
}

/// The strings of set `set` (`ETHTOOL_GSTRINGS`), at most `count` of them.
/// `EFAULT` means the set grew beyond `count`.
fn get_strings(
    fd: BorrowedFd<'_>,
    name: &IfName,
    set: u32,
    count: usize,
) -> Result<Vec<String>, Errno> {
    let count = count.min(MAX_SET);
    let mut buf = GuardedBuf::new(GSTRINGS_HEADER + count * ETH_GSTRING_LEN)?;
    buf.put_u32(0, ETHTOOL_GSTRINGS);
    buf.put_u32(4, set);
    buf.put_u32(8, count as u32); // at most MAX_SET
    // SAFETY: `buf` is a live mapping, readable and writable for its length,
    // holding a `struct ethtool_gstrings` header with room for `count`
    // strings. The kernel writes as many as the device has now; more than
    // `count` run into the guard page behind the buffer and make the ioctl
    // fail with EFAULT instead of touching other memory.
    unsafe { ethtool_ioctl(fd, name, buf.as_mut_ptr())? };
    let bytes = buf.as_slice();
    let n = (buf.get_u32(8) as usize).min(count);
    let strings =
        bytes[GSTRINGS_HEADER..].chunks_exact(ETH_GSTRING_LEN).take(n).map(c_string).collect();
    Ok(strings)
}

/// The statistic values (`ETHTOOL_GSTATS`), at most `count` of them.
/// `EFAULT` means the set grew beyond `count`.
fn get_stats(fd: BorrowedFd<'_>, name: &IfName, count: usize) -> Result<Vec<u64>, Errno> {
    let count = count.min(MAX_SET);
    let mut buf = GuardedBuf::new(GSTATS_HEADER + count * 8)?;
    buf.put_u32(0, ETHTOOL_GSTATS);
    buf.put_u32(4, count as u32); // at most MAX_SET
    // SAFETY: as in `get_strings`: a live, writable `struct ethtool_stats`
    // with room for `count` u64 values, followed by a guard page that turns
    // a longer reply into EFAULT.
    unsafe { ethtool_ioctl(fd, name, buf.as_mut_ptr())? };
    let n = (buf.get_u32(4) as usize).min(count);
    let values = buf.as_slice()[GSTATS_HEADER..]
        .chunks_exact(8)
        .take(n)
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or_default()))
        .collect();
    Ok(values)
}

/// One `struct ethtool_get_features_block`.
#[derive(Clone, Copy)]
struct FeatureBlock {
    available: u32,
    requested: u32,
    active: u32,
    never_changed: u32,
}

/// The feature bitmaps (`ETHTOOL_GFEATURES`) for `count` features.
fn get_feature_blocks(
    fd: BorrowedFd<'_>,
    name: &IfName,
    count: usize,
) -> Result<Vec<FeatureBlock>, Errno> {
    let blocks = count.div_ceil(32);
    // struct ethtool_gfeatures: cmd, size, then `size` blocks of four u32.
    // A Vec<u32> gives the u32 alignment the structure needs.
    let mut buf = vec![0u32; 2 + 4 * blocks];
    buf[0] = ETHTOOL_GFEATURES;
    buf[1] = u32::try_from(blocks).map_err(|_| Errno::EOVERFLOW)?;
    // SAFETY: `buf` is a live, exclusively borrowed, u32-aligned buffer of
    // 8 + 16 * blocks bytes. The kernel reads `size` (= blocks) and writes the
    // 8-byte header plus min(size, its own block count) blocks, so never more
    // than the buffer holds.
    unsafe { ethtool_ioctl(fd, name, buf.as_mut_ptr().cast())? };
    // The kernel reports its own block count in `size`; use what we have.
    let n = (buf[1] as usize).min(blocks);
    Ok(buf[2..]
        .chunks_exact(4)
        .take(n)
        .map(|b| FeatureBlock {
            available: b[0],
            requested: b[1],
            active: b[2],
            never_changed: b[3],
        })
        .collect())
}

/// The text of a fixed-size, NUL-padded (not necessarily NUL-terminated)
/// kernel string field.
fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A zero-filled buffer for the kernel to write into, placed at the end of
/// an anonymous mapping so that an inaccessible guard page follows it
/// (within 7 bytes: the start is kept 8-byte aligned). A kernel write that
/// goes past the buffer faults and the ioctl fails with `EFAULT`.
struct GuardedBuf {
    map: NonNull<c_void>,
    map_len: usize,
    offset: usize,
    len: usize,
}

impl GuardedBuf {
    fn new(len: usize) -> Result<GuardedBuf, Errno> {
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page).ok().filter(|&p| p > 0).unwrap_or(4096);
        // `len` is at most a few MiB (MAX_SET entries): no overflow here.
        let rounded = len.next_multiple_of(8);
        let data_len = rounded.div_ceil(page).max(1) * page;
        let map_len = data_len + page;
        // SAFETY: a new private anonymous mapping at an address the kernel
        // chooses; it cannot overlap memory that Rust already uses.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        // mmap without MAP_FIXED never places a mapping at address 0; a
        // null pointer here is treated as the failure it would be.
        let Some(map) = NonNull::new(p) else {
            return Err(Errno::last());
        };
        // From here on, Drop unmaps the region if anything fails.
        let buf = GuardedBuf { map, map_len, offset: data_len - rounded, len };
        // SAFETY: [map + data_len, map + map_len) is the last page of the
        // mapping created above, which nothing else refers to.
        let r =
            unsafe { libc::mprotect(p.cast::<u8>().add(data_len).cast(), page, libc::PROT_NONE) };
        Errno::result(r)?;
        Ok(buf)
    }

    fn as_mut_ptr(&mut self) -> *mut c_void {
        // SAFETY: `offset` < `map_len`, so the pointer stays inside the mapping.
        unsafe { self.map.as_ptr().cast::<u8>().add(self.offset).cast() }
    }

    fn as_slice(&self) -> &[u8] {
        // SAFETY: [offset, offset + len) lies in the readable part of the
        // mapping (offset + len <= data_len); mmap zero-filled it, so every
        // byte is initialised; the mapping lives as long as `self`, and no
        // mutable access exists while the shared borrow of `self` does.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().cast::<u8>().add(self.offset), self.len)
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, with exclusive access through `&mut self`.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.map.as_ptr().cast::<u8>().add(self.offset),
                self.len,
            )
        }
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        if let Some(dst) = self.as_mut_slice().get_mut(at..at + 4) {
            dst.copy_from_slice(&v.to_ne_bytes());
        }
    }

    fn get_u32(&self, at: usize) -> u32 {
        self.as_slice()
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_ne_bytes)
            .unwrap_or(0)
    }
}

impl Drop for GuardedBuf {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` describe exactly the mapping created in
        // `new`, which is unmapped only here, once; no slice into it outlives
        // `self`.
        unsafe { libc::munmap(self.map.as_ptr(), self.map_len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_string_stops_at_nul_or_field_end() {
        assert_eq!(c_string(b"veth\0\0\0\0"), "veth");
        assert_eq!(c_string(b"abcd"), "abcd");
        assert_eq!(c_string(b"\0abc"), "");
        assert_eq!(c_string(&[b'a', 0xff, 0]), "a\u{fffd}");
    }

    #[test]
    fn guarded_buf_is_zeroed_aligned_and_ends_before_the_guard() {
        for len in [1, 12, 12 + 32 * 3, 4096, 4096 - 4, 8192 + 8] {
            let mut b = GuardedBuf::new(len).unwrap();
            assert_eq!(b.as_slice().len(), len);
            assert!(b.as_slice().iter().all(|&x| x == 0));
            assert_eq!(b.as_mut_ptr() as usize % 8, 0);
            b.put_u32(0, 0xdead_beef);
            assert_eq!(b.get_u32(0), if len >= 4 { 0xdead_beef } else { 0 });
            // Reads past the end are refused, not performed.
            assert_eq!(b.get_u32(len), 0);
        }
    }

    #[test]
    fn kernel_writes_past_the_buffer_fault_instead_of_landing() {
        // Let the kernel copy into our buffer the way copy_to_user does for
        // ethtool: read(2) from a pipe.
        let (r, w) = nix::unistd::pipe().unwrap();
        nix::unistd::write(&w, &[7u8; 64]).unwrap();
        let len = 12 + 32; // not a multiple of 8: 4 bytes of slack
        let mut b = GuardedBuf::new(len).unwrap();
        let past_slack = len.next_multiple_of(8);
        let slack = past_slack - len;
        let read_at = |b: &mut GuardedBuf, at: usize, n: usize| {
            // SAFETY: the target range starts inside our mapping and ends
            // inside it (in the slack bytes or on the guard page, which is
            // also part of the mapping); the kernel checks the access.
            let r =
                unsafe { libc::read(r.as_raw_fd(), b.as_mut_ptr().cast::<u8>().add(at).cast(), n) };
            Errno::result(r)
        };
        // Crossing from the slack into the guard page fails...
        assert_eq!(read_at(&mut b, len, slack + 8), Err(Errno::EFAULT));
        // ...starting on the guard page fails...
        assert_eq!(read_at(&mut b, past_slack, 8), Err(Errno::EFAULT));
        // ...and the slack itself is ordinary writable memory of ours.
        assert_eq!(read_at(&mut b, len, slack), Ok(slack as isize));
        assert!(b.as_slice().iter().all(|&x| x == 0), "nothing landed in the buffer");
    }

    #[test]
    fn struct_layouts_match_the_kernel() {
        assert_eq!(size_of::<RawDrvInfo>(), 196);
        assert_eq!(std::mem::offset_of!(RawDrvInfo, n_priv_flags), 4 + 5 * 32 + 12);
        assert_eq!(size_of::<RawSsetInfoOne>(), 24);
    }
}
