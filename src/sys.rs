//! The few raw system calls that `nix` does not wrap. Each `unsafe` block
//! states why it is sound.

use std::os::fd::{AsRawFd, BorrowedFd};

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
