//! The few raw system calls that `nix` does not wrap. Each `unsafe` block
//! states why it is sound.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::libc;

/// `ioctl(fd, NS_GET_NSTYPE)`: the `CLONE_NEW*` type of a namespace fd.
///
/// `ENOTTY` means the kernel predates the ioctl (before 4.11).
pub(crate) fn ns_get_nstype(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd's
    // namespace type; `fd` is a live descriptor borrowed for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    Errno::result(r)
}

/// `setns(fd, CLONE_NEWNET)` on a descriptor number the caller knows is
/// live (a guard's home; see `netns::guard`).
pub(crate) fn setns_net_raw(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: setns only reads its integer arguments; a descriptor that is
    // not open, or not a namespace, makes it fail with EBADF/EINVAL, never
    // touches memory.
    let r = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    Errno::result(r).map(drop)
}

/// Duplicates a descriptor number the caller knows is live, as a new
/// `CLOEXEC` descriptor it owns.
pub(crate) fn dup_cloexec_raw(fd: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) only reads its integer arguments and
    // fails with EBADF on a closed descriptor.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    let new = Errno::result(r)?;
    // SAFETY: `new` was just returned by the kernel as a fresh descriptor
    // that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// `write(fd, &[byte], 1)`, for a signal handler: nothing but the system
/// call, errors ignored (there is nobody to tell).
pub(crate) fn write_byte_raw(fd: RawFd, byte: u8) {
    let buf = [byte];
    // SAFETY: write(2) reads one byte from a live stack buffer; it is
    // async-signal-safe, and a bad descriptor only makes it fail.
    let _ = unsafe { libc::write(fd, buf.as_ptr().cast(), 1) };
}

/// `sigaction(2)` for one signal.
pub(crate) fn set_signal_action(
    sig: nix::sys::signal::Signal,
    action: &nix::sys::signal::SigAction,
) -> Result<(), Errno> {
    // SAFETY: the handlers nslink installs (`netns::owned::on_signal`) only
    // call write(2), which is async-signal-safe; SIG_DFL is always sound.
    unsafe { nix::sys::signal::sigaction(sig, action) }.map(drop)
}

/// `ioctl(fd, TUNSETIFF, &ifreq)` on a `/dev/net/tun` descriptor: makes the
/// tun/tap device `name` with `flags` (`IFF_TUN`/`IFF_TAP`, `IFF_NO_PI`,
/// `IFF_VNET_HDR`, `IFF_MULTI_QUEUE`, `IFF_TUN_EXCL`), or attaches the
/// descriptor to it as a queue; see `Documentation/networking/tuntap.rst`.
/// Returns the name the kernel gave the device.
///
/// `name` must be at most 15 bytes (an `IfName`): the kernel reads at most
/// 16 with the NUL.
pub(crate) fn tun_set_iff(
    fd: BorrowedFd<'_>,
    name: &[u8],
    flags: libc::c_short,
) -> Result<Vec<u8>, Errno> {
    // SAFETY: `ifreq` is plain old data (a `c_char` array and a union of
    // integers, pointers and structs of integers): all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    // Keep the last byte a NUL whatever the caller passed.
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(name.iter().take(libc::IFNAMSIZ - 1)) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = flags;
    // SAFETY: `fd` is a live descriptor borrowed for the call; TUNSETIFF
    // reads and writes one `struct ifreq`, and `ifr` is a valid, exclusively
    // borrowed one that outlives the call.
    let r =
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF as _, &mut ifr as *mut libc::ifreq) };
    Errno::result(r)?;
    let bytes: Vec<u8> = ifr.ifr_name.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
    Ok(bytes)
}

/// `ioctl(fd, request, value)` for the tun ioctls that take an integer by
/// value rather than a pointer: `TUNSETPERSIST` (0 or 1), `TUNSETOWNER`
/// (a uid), `TUNSETGROUP` (a gid).
pub(crate) fn tun_set_value(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    value: libc::c_ulong,
) -> Result<(), Errno> {
    debug_assert!(
        [libc::TUNSETPERSIST, libc::TUNSETOWNER, libc::TUNSETGROUP].contains(&request),
        "only for the tun ioctls that take their argument by value"
    );
    // SAFETY: `fd` is a live descriptor borrowed for the call; the three
    // requests allowed here read their argument as an integer and never
    // dereference it.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request, value) };
    Errno::result(r).map(drop)
}
