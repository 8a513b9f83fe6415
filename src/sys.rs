//! The few raw system calls that `nix` does not wrap. Each `unsafe` block
//! states why it is sound.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::NixPath;
use nix::fcntl::AtFlags;
use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::stat::{FileStat, Mode};
use nix::sys::statfs::Statfs;
use nix::unistd::UnlinkatFlags;

use nix::errno::Errno;
use nix::libc;

#[cfg(any(test, feature = "fault-injection"))]
pub mod fault;
/// The seam compiled out: every check passes, and costs nothing.
#[cfg(not(any(test, feature = "fault-injection")))]
pub(crate) mod fault {
    pub(crate) use super::Call;
    #[inline(always)]
    pub(crate) fn check(_: Call) -> Result<(), nix::errno::Errno> {
        Ok(())
    }
    pub(crate) struct Carried;
    impl Carried {
        #[inline(always)]
        pub(crate) fn adopt(self) {}
    }
    #[inline(always)]
    pub(crate) fn carry() -> Carried {
        Carried
    }
    #[inline(always)]
    pub(crate) fn hand_over<F>(job: F) -> (F, ()) {
        (job, ())
    }
}
use fault::check;

/// The classes of system calls the fault seam (`fault`) can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Call {
    /// setns(2).
    Setns,
    /// unshare(2).
    Unshare,
    /// mount(2).
    Mount,
    /// umount2(2).
    Umount2,
    /// open(2) and openat(2).
    Open,
    /// mkdir(2) (the namespace directory's `create_dir_all`).
    Mkdir,
    /// mknodat(2) of a regular file (a named namespace's placeholder entry).
    Mknod,
    /// unlinkat(2).
    Unlink,
    /// stat(2), lstat(2), fstat(2), fstatat(2).
    Stat,
    /// fstatfs(2).
    Statfs,
    /// flock(2).
    Flock,
    /// ioctl(2) `NS_GET_NSTYPE`.
    Ioctl,
    /// fcntl(2) `F_DUPFD_CLOEXEC`.
    Dup,
    /// send(2) / sendmsg(2) on a netlink socket.
    Send,
    /// recv(2) / recvmsg(2) on a netlink socket.
    Recv,
}

/// `ioctl(fd, NS_GET_NSTYPE)`: the `CLONE_NEW*` type of a namespace fd.
///
/// `ENOTTY` means the kernel predates the ioctl (before 4.11).
pub(crate) fn ns_get_nstype(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    check(Call::Ioctl)?;
    // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd's
    // namespace type; `fd` is a live descriptor borrowed for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    Errno::result(r)
}

/// `setns(fd, CLONE_NEWNET)` on a descriptor number the caller knows is
/// live (a guard's home; see `netns::guard`).
pub(crate) fn setns_net_raw(fd: RawFd) -> Result<(), Errno> {
    check(Call::Setns)?;
    // SAFETY: setns only reads its integer arguments; a descriptor that is
    // not open, or not a namespace, makes it fail with EBADF/EINVAL, never
    // touches memory.
    let r = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    Errno::result(r).map(drop)
}

/// Duplicates a descriptor number the caller knows is live, as a new
/// `CLOEXEC` descriptor it owns.
pub(crate) fn dup_cloexec_raw(fd: RawFd) -> Result<OwnedFd, Errno> {
    check(Call::Dup)?;
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

/// For a signal handler that finds itself in a process it was not installed
/// for (a child of `fork`): puts the default action back and raises the
/// signal again, so the process gets what it would have got without
/// nslink. Only sigaction(2) and raise(3), both async-signal-safe.
pub(crate) fn default_action_and_raise(sig: libc::c_int) {
    // SAFETY: a zeroed sigaction is SIG_DFL with no flags and an empty mask;
    // sigaction(2) only reads it. Both calls are async-signal-safe.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(sig, &dfl, std::ptr::null_mut());
        libc::raise(sig);
    }
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

/// What [`recv_netlink`] read: the datagram's real length (more than the
/// buffer when it was truncated), the sender's port, and the namespace id
/// the kernel tagged it with (`NETLINK_LISTEN_ALL_NSID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NetlinkDatagram {
    /// The datagram's length (`MSG_TRUNC`: its full length even if `buf`
    /// was shorter).
    pub(crate) len: usize,
    /// The sender's port id (0: the kernel).
    pub(crate) port: u32,
    /// The `NETLINK_LISTEN_ALL_NSID` control message: the id, in the
    /// socket's namespace, of the namespace the message came from. The
    /// kernel sends none for a message from a namespace without an id
    /// there (the socket's own, usually).
    pub(crate) nsid: Option<i32>,
}

/// `recvmsg(2)` of one netlink datagram into `buf`, with its control
/// messages, never blocking (`MSG_DONTWAIT`) and with `MSG_TRUNC` so that a
/// truncated datagram is seen as such.
///
/// nix's `recvmsg` would allocate for the (unknown to it) `SOL_NETLINK`
/// control message on every datagram; this reads the one `int` in place.
pub(crate) fn recv_netlink(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<NetlinkDatagram, Errno> {
    check(Call::Recv)?;
    // Room for a few control messages, aligned for `cmsghdr`.
    let mut control = [0u64; 16];
    // SAFETY: all-zero bytes are a valid `sockaddr_nl` (plain integers).
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: all-zero bytes are a valid `msghdr` (null pointers, zero
    // lengths); the fields that matter are set just below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&raw mut addr).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: every pointer in `msg` points to a live local (`addr`, `iov`,
    // `control`) or to `buf`, with the lengths of those objects; the kernel
    // writes at most that much into each and nothing outlives the call.
    let r = unsafe {
        libc::recvmsg(fd.as_raw_fd(), &raw mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC)
    };
    let len = Errno::result(r)? as usize;
    let mut nsid = None;
    // SAFETY: `msg` was filled by a successful recvmsg: `msg_control` and
    // `msg_controllen` describe the control bytes the kernel wrote into
    // `control`, which CMSG_FIRSTHDR/CMSG_NXTHDR walk without leaving it.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
    while !cmsg.is_null() {
        // SAFETY: a non-null header from CMSG_FIRSTHDR/CMSG_NXTHDR lies
        // wholly inside `control` (the macros check its length).
        let hdr = unsafe { &*cmsg };
        let want = libc::NETLINK_LISTEN_ALL_NSID;
        // SAFETY: CMSG_LEN only computes a length.
        let data_len = unsafe { libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) } as usize;
        if hdr.cmsg_level == libc::SOL_NETLINK
            && hdr.cmsg_type == want
            && hdr.cmsg_len as usize >= data_len
        {
            // SAFETY: the header says its data holds at least an `i32`
            // (checked just above), inside `control`; read unaligned.
            nsid = Some(unsafe { libc::CMSG_DATA(cmsg).cast::<i32>().read_unaligned() });
        }
        // SAFETY: as CMSG_FIRSTHDR: walks `control` within its length.
        cmsg = unsafe { libc::CMSG_NXTHDR(&raw const msg, cmsg) };
    }
    Ok(NetlinkDatagram { len, port: addr.nl_pid, nsid })
}

/// `poll(2)` for input on one descriptor: `Ok(true)` when it is readable
/// (or has an error or hang-up to report), `Ok(false)` after `timeout_ms`
/// (-1: no limit). `EINTR` is returned as is.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> Result<bool, Errno> {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: poll(2) reads and writes exactly one live `pollfd`.
    let r = unsafe { libc::poll(&raw mut p, 1, timeout_ms) };
    Ok(Errno::result(r)? > 0)
}

// ---- the seam: the calls of the namespace code, each asking the fault
// plan first (see `fault`); same signatures as nix's, so a call site only
// changes its `use` line. ----

/// setns(2), through the fault seam.
pub(crate) fn setns<Fd: AsFd>(fd: Fd, nstype: CloneFlags) -> Result<(), Errno> {
    check(Call::Setns)?;
    nix::sched::setns(fd, nstype)
}

/// unshare(2), through the fault seam.
pub(crate) fn unshare(flags: CloneFlags) -> Result<(), Errno> {
    check(Call::Unshare)?;
    nix::sched::unshare(flags)
}

/// mount(2), through the fault seam.
pub(crate) fn mount<
    P1: ?Sized + NixPath,
    P2: ?Sized + NixPath,
    P3: ?Sized + NixPath,
    P4: ?Sized + NixPath,
>(
    source: Option<&P1>,
    target: &P2,
    fstype: Option<&P3>,
    flags: MsFlags,
    data: Option<&P4>,
) -> Result<(), Errno> {
    check(Call::Mount)?;
    nix::mount::mount(source, target, fstype, flags, data)
}

/// umount2(2), through the fault seam.
pub(crate) fn umount2<P: ?Sized + NixPath>(target: &P, flags: MntFlags) -> Result<(), Errno> {
    check(Call::Umount2)?;
    nix::mount::umount2(target, flags)
}

/// open(2), through the fault seam.
pub(crate) fn open<P: ?Sized + NixPath>(
    path: &P,
    oflag: OFlag,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    check(Call::Open)?;
    nix::fcntl::open(path, oflag, mode)
}

/// openat(2), through the fault seam.
pub(crate) fn openat<P: ?Sized + NixPath, Fd: AsFd>(
    dirfd: Fd,
    path: &P,
    oflag: OFlag,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    check(Call::Open)?;
    nix::fcntl::openat(dirfd, path, oflag, mode)
}

/// mknodat(2) of an empty regular file with mode 0, through the fault seam:
/// what open(2) with `O_CREAT | O_EXCL` followed by close(2) does, in one
/// call. `EEXIST` when anything (a symlink too) has the name.
pub(crate) fn mknod_file_at<Fd: AsFd, P: ?Sized + NixPath>(
    dirfd: Fd,
    path: &P,
) -> Result<(), Errno> {
    check(Call::Mknod)?;
    nix::sys::stat::mknodat(dirfd, path, nix::sys::stat::SFlag::S_IFREG, Mode::empty(), 0)
}

/// unlinkat(2), through the fault seam.
pub(crate) fn unlinkat<Fd: AsFd, P: ?Sized + NixPath>(
    dirfd: Fd,
    path: &P,
    flag: UnlinkatFlags,
) -> Result<(), Errno> {
    check(Call::Unlink)?;
    nix::unistd::unlinkat(dirfd, path, flag)
}

/// fstat(2), through the fault seam.
pub(crate) fn fstat<Fd: AsFd>(fd: Fd) -> Result<FileStat, Errno> {
    check(Call::Stat)?;
    nix::sys::stat::fstat(fd)
}

/// fstatat(2), through the fault seam.
pub(crate) fn fstatat<Fd: AsFd, P: ?Sized + NixPath>(
    dirfd: Fd,
    path: &P,
    f: AtFlags,
) -> Result<FileStat, Errno> {
    check(Call::Stat)?;
    nix::sys::stat::fstatat(dirfd, path, f)
}

/// fstatfs(2), through the fault seam.
pub(crate) fn fstatfs<Fd: AsFd>(fd: Fd) -> Result<Statfs, Errno> {
    check(Call::Statfs)?;
    nix::sys::statfs::fstatfs(fd)
}

/// lstat(2) (`std::fs::symlink_metadata`), through the fault seam.
pub(crate) fn symlink_metadata(path: &Path) -> std::io::Result<std::fs::Metadata> {
    check(Call::Stat)?;
    std::fs::symlink_metadata(path)
}

/// mkdir(2) of a path and its parents (`std::fs::create_dir_all`), through
/// the fault seam.
pub(crate) fn create_dir_all(path: &Path) -> std::io::Result<()> {
    check(Call::Mkdir)?;
    std::fs::create_dir_all(path)
}

/// flock(2) `LOCK_EX`, through the fault seam; on failure the descriptor
/// comes back with the errno, as from `Flock::lock`.
pub(crate) fn flock_exclusive(fd: OwnedFd) -> Result<Flock<OwnedFd>, (OwnedFd, Errno)> {
    if let Err(e) = check(Call::Flock) {
        return Err((fd, e));
    }
    Flock::lock(fd, FlockArg::LockExclusive)
}

/// The checks for the raw calls a forked child makes before `exec`
/// (`NetNs::command`): `Err(errno)` when the plan fails this call. Reads
/// only atomics and thread-locals without destructors: async-signal-safe.
pub(crate) fn check_in_child(call: Call) -> std::io::Result<()> {
    check(call).map_err(|e| std::io::Error::from_raw_os_error(e as i32))
}

/// Registers the fault summary to be printed on stderr at exit.
#[cfg(any(test, feature = "fault-injection"))]
fn at_exit_report() {
    extern "C" fn report() {
        let line = format!("{}\n", fault::summary());
        let _ = nix::unistd::write(std::io::stderr(), line.as_bytes());
    }
    // SAFETY: atexit(3) stores a function pointer to a plain `extern "C"`
    // function that takes nothing and returns nothing.
    let _ = unsafe { libc::atexit(report) };
}

#[cfg(test)]
mod tests;
