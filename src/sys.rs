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
