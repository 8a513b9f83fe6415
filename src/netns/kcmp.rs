//! kcmp(2): do two threads of this process share a kernel resource?
//!
//! Used by the worker pool to hand a [`NetNs::run`](super::NetNs::run)
//! closure only to a worker that shares the caller's file-system context
//! (`fs_struct`: mount namespace, root, working directory, umask) and
//! descriptor table, as a thread the caller started would.

use nix::errno::Errno;
use nix::unistd::Pid;

/// A resource two threads may share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    /// `KCMP_FS`: root, working directory, umask, and so the mount
    /// namespace (a thread can change its mount namespace only once it no
    /// longer shares its `fs_struct`).
    Fs,
    /// `KCMP_FILES`: the descriptor table.
    Files,
}

/// `Ok(true)` when threads `a` and `b` (ids in this process's pid
/// namespace) share `what`.
pub(crate) fn same(a: Pid, b: Pid, what: Shared) -> Result<bool, Errno> {
    let kind: nix::libc::c_long = match what {
        // enum kcmp_type in <linux/kcmp.h>.
        Shared::Files => 2,
        Shared::Fs => 3,
    };
    // SAFETY: kcmp(2) takes five integer arguments and touches no memory of
    // ours for these types.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_kcmp,
            a.as_raw() as nix::libc::c_long,
            b.as_raw() as nix::libc::c_long,
            kind,
            0 as nix::libc::c_long,
            0 as nix::libc::c_long,
        )
    };
    match r {
        0 => Ok(true),
        r if r > 0 => Ok(false),
        _ => Err(Errno::last()),
    }
}
