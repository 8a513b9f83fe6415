//! Network namespaces as file descriptors: open, create, run code inside,
//! enter with a guard, spawn threads, run commands.
//!
//! A [`NetNs`] owns a `CLOEXEC` descriptor of a namespace file
//! (`/proc/<pid>/task/<tid>/ns/net`, or a bind mount of it under
//! `/run/netns`). Dropping it closes the descriptor; it never deletes a
//! namespace. Named namespaces live in a [`NetnsDir`].
//!
//! # Threads
//! `setns(2)` changes the namespace of the *calling thread* only. nslink
//! therefore never changes the caller's thread behind its back:
//! [`NetNs::run`] and [`NetNs::spawn`] use a new thread; making a namespace
//! ([`NetNs::new`], [`NetnsDir::create`]) and opening a socket inside one
//! ([`RouteSocket::open_in`](crate::RouteSocket::open_in)) happen on a
//! worker thread; and only [`NetNs::enter`] moves the caller's thread, under
//! a guard that moves it back.
//!
//! ## The worker pool, and what it costs
//! Workers are process-wide and few: at most [`MAX_IDLE`] wait idle, each
//! ends after [`IDLE_TIMEOUT`] without work, and a busy worker is always one
//! caller's job in flight (that caller waits for it). A program with 512
//! threads that each open a socket once therefore has at most
//! [`MAX_IDLE`] extra threads half a second later, and none after that.
//! An idle worker costs a thread (its stack is mostly untouched) and, for
//! the pool, one descriptor of its home namespace; [`pool_stats`] shows how
//! many there are. A job on an idle worker costs two channel hand-offs
//! and a `setns(2)` home (a few µs); with no idle worker, a thread start
//! (30–90 µs).
//!
//! The guarantees: a job never runs in a namespace other than the one it
//! asked for; when a call returns, its worker is back home, so no worker
//! keeps the job's namespace alive; a worker that cannot go home (in a user
//! namespace that does not own it) ends and is joined before the call
//! returns; and the home is the caller's *true* home (where it will be once
//! its guards are dropped), never a namespace it entered with a guard.

mod dir;
#[allow(unsafe_code)] // the pre_exec hook; see its SAFETY comments
mod exec;
#[allow(unsafe_code)] // pthread_atfork; see its SAFETY comment
mod forkgen;
mod guard;
mod helper;
#[allow(unsafe_code)] // kcmp(2); see its SAFETY comment
mod kcmp;
mod owned;
#[allow(unsafe_code)] // lifetime erasure for borrowing closures; see its SAFETY argument
mod scoped;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::sys::statfs::NSFS_MAGIC;

pub use dir::NetnsDir;
pub use guard::NsGuard;
pub use helper::{IDLE_TIMEOUT, MAX_IDLE, PoolStats, pool_stats};
pub use owned::{OwnedNetns, cleanup_on_signals};

use crate::error::{Error, NotNetnsReason, Object, ObjectKind, Op, Result};
use crate::name::{IntoNsName, NsName};
use crate::sys::{fstatfs, open, openat, setns, unshare};

/// The identity of a namespace: the `(st_dev, st_ino)` pair of its nsfs
/// inode, as shown by `ls -Li /proc/self/ns/net` or `net:[INODE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsId {
    /// Device of the nsfs file system.
    pub dev: u64,
    /// Inode number (the number in `net:[…]`).
    pub ino: u64,
}

impl fmt::Display for NsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("net:[{}]", self.ino))
    }
}

/// A handle to a network namespace: an owned `CLOEXEC` file descriptor.
///
/// Two handles are equal when they refer to the same namespace (same
/// [`NsId`]), however they were opened.
///
/// ```no_run
/// use nslink::NetNs;
///
/// let ns = NetNs::new()?;                       // anonymous, lives while `ns` does
/// let here = NetNs::current()?;
/// assert_ne!(ns, here);
/// let inside = ns.run(|| NetNs::current())??;   // runs on a helper thread inside `ns`
/// assert_eq!(inside, ns);
/// assert_eq!(NetNs::current()?, here);          // the caller never moved
/// # Ok::<(), nslink::Error>(())
/// ```
pub struct NetNs {
    fd: OwnedFd,
    id: NsId,
    name: Option<NsName>,
}

impl NetNs {
    /// Wraps a descriptor on nsfs (checked by [`reopen_if_nsfs`], or opened
    /// from `/proc/thread-self/ns/net`) after checking that it is a *network*
    /// namespace.
    /// A namespace this process has just made (`unshare(CLONE_NEWNET)`,
    /// then its `/proc/thread-self/ns/net` opened): its type is known, only
    /// its identity is read.
    fn from_new_fd(fd: OwnedFd, path: &Path, name: Option<NsName>) -> Result<NetNs> {
        let id = fd_id(fd.as_fd()).map_err(|e| Error::os(Op::OpenNetns, Object::path(path), e))?;
        Ok(NetNs { fd, id, name })
    }

    fn from_fd(fd: OwnedFd, path: &Path, name: Option<NsName>) -> Result<NetNs> {
        let op = Op::OpenNetns;
        match crate::sys::ns_get_nstype(fd.as_fd()) {
            Ok(t) if t == nix::libc::CLONE_NEWNET => {}
            Ok(t) => {
                return Err(Error::NotANetns {
                    op,
                    path: path.to_owned(),
                    reason: NotNetnsReason::WrongType { nstype: t },
                });
            }
            // Kernels before 4.11 have no NS_GET_NSTYPE; nsfs is all we can check.
            Err(Errno::ENOTTY) => {}
            Err(e) => return Err(Error::os(op, Object::path(path), e)),
        }
        let id = fd_id(fd.as_fd()).map_err(|e| Error::os(op, Object::path(path), e))?;
        Ok(NetNs { fd, id, name })
    }

    /// Opens the namespace file at `path` (a `/proc/PID/ns/net` file or a bind
    /// mount of one) and checks that it is a *network* namespace.
    ///
    /// Kernel: open(2) with `O_PATH`, fstatfs(2) (must be nsfs), then a real open and
    /// ioctl_ns(2) `NS_GET_NSTYPE`. No privilege beyond read access to the file.
    ///
    /// # Errors
    /// - [`Error::NotANetns`] for a regular file (e.g. a stale `/run/netns`
    ///   entry) or another kind of namespace (e.g. `/proc/self/ns/uts`);
    /// - [`Error::Os`] with `ENOENT` (see [`Error::is_not_found`]) or `EACCES`.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::open_path("/proc/1/ns/net")?;
    /// println!("{ns:?}");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "GetFromPath")]
    pub fn open_path(path: impl AsRef<Path>) -> Result<NetNs> {
        let path = path.as_ref();
        let fd = open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::os(Op::OpenNetns, Object::path(path), e))?;
        let fd = reopen_if_nsfs(fd, path)?;
        NetNs::from_fd(fd, path, None)
    }

    /// Opens the named namespace `name` in the default directory
    /// (`/run/netns`), like `ip netns exec NAME` finds it.
    ///
    /// Kernel: as [`open_path`](NetNs::open_path), relative to the directory, never following a
    /// symlink (ip-netns(8) layout).
    ///
    /// # Errors
    /// [`Error::InvalidName`]; [`Error::Os`] with `ENOENT` when there is no such
    /// name; [`Error::NotANetns`] when the entry is stale.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::open("test1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "GetFromName")]
    pub fn open(name: impl IntoNsName) -> Result<NetNs> {
        NetnsDir::default().open(name)
    }

    /// Opens the namespace of process `pid` (`/proc/PID/ns/net`).
    ///
    /// Kernel: `/proc/PID/ns/net` (proc(5), namespaces(7)); needs ptrace-read access to the
    /// process (same user, or `CAP_SYS_PTRACE`).
    ///
    /// # Errors
    /// [`Error::Os`] with `ENOENT` when there is no such process.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::open_pid(1)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "GetFromPid")]
    pub fn open_pid(pid: u32) -> Result<NetNs> {
        NetNs::open_path(format!("/proc/{pid}/ns/net"))
    }

    /// Takes a descriptor you already have (from another library, a
    /// `SCM_RIGHTS` message, a pidfd's namespace, …) after checking that it
    /// is on nsfs and is a *network* namespace (`NS_GET_NSTYPE`,
    /// ioctl_ns(2)). `TryFrom<OwnedFd>` does the same.
    ///
    /// # Errors
    /// [`Error::NotANetns`] for any other file or namespace type; the
    /// descriptor is closed then.
    ///
    /// ```no_run
    /// use std::os::fd::OwnedFd;
    ///
    /// let fd: OwnedFd = std::fs::File::open("/proc/self/ns/net")?.into();
    /// let ns = nslink::NetNs::from_owned_fd(fd)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_owned_fd(fd: OwnedFd) -> Result<NetNs> {
        let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        let sfs = fstatfs(&fd).map_err(|e| Error::os(Op::OpenNetns, Object::path(&path), e))?;
        if sfs.filesystem_type() != NSFS_MAGIC {
            return Err(Error::NotANetns {
                op: Op::OpenNetns,
                path,
                reason: NotNetnsReason::NotNsfs,
            });
        }
        // An O_PATH descriptor cannot be used with setns: reopen it.
        let flags = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GETFL)
            .map_err(|e| Error::os(Op::OpenNetns, Object::path(&path), e))?;
        let fd = if OFlag::from_bits_truncate(flags).contains(OFlag::O_PATH) {
            reopen_if_nsfs(fd, &path)?
        } else {
            fd
        };
        NetNs::from_fd(fd, &path, None)
    }

    /// The namespace of the *calling thread* (`/proc/thread-self/ns/net`, not
    /// `/proc/self`, which is the main thread's).
    ///
    /// Kernel: `/proc/thread-self/ns/net` (proc(5)); no privilege.
    ///
    /// # Errors
    /// [`Error::Os`] if `/proc` is not mounted.
    ///
    /// ```no_run
    /// let here = nslink::NetNs::current()?;
    /// println!("this thread is in {}", here.id());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "GetFromThread")]
    pub fn current() -> Result<NetNs> {
        NetNs::open_path("/proc/thread-self/ns/net")
    }

    /// Creates a new anonymous namespace. It lives as long as a descriptor
    /// (this handle, a clone, a socket opened in it) or a process keeps it.
    ///
    /// The calling thread makes it the way `ip` does, and is back in its own
    /// namespace before this returns: it checks that it may come back (a
    /// setns(2) into the namespace it is in), leaves with
    /// `unshare(CLONE_NEWNET)`, opens the new namespace and returns through
    /// the same path as an [`NsGuard`] — a thread that cannot return aborts
    /// the process rather than go on elsewhere. Where the check fails (a
    /// user namespace that does not own the thread's network namespace may
    /// unshare but never come back), one of nslink's worker threads makes it
    /// instead (see [`pool_stats`]) and the calling thread does not move.
    /// While the thread is away (the unshare and one open(2)), only a signal
    /// handler running on it could notice.
    ///
    /// Kernel: setns(2), unshare(2) with `CLONE_NEWNET`, open(2) of
    /// `/proc/thread-self/ns/net`, setns(2) back; needs `CAP_SYS_ADMIN` in
    /// the caller's user namespace. Cost: a namespace is ~0.1–0.4 ms of
    /// kernel work; the rest is ~4 system calls.
    ///
    /// # Errors
    /// [`Error::Os`] with `EPERM` without `CAP_SYS_ADMIN`.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "unshare")]
    pub fn new() -> Result<NetNs> {
        let fd = new_netns_fd(Op::CreateNetns, || Object::unnamed(ObjectKind::Namespace))?;
        NetNs::from_new_fd(fd, Path::new("/proc/thread-self/ns/net"), None)
    }

    /// Creates the named namespace `name` in the default directory
    /// (`/run/netns`), exactly like `ip netns add NAME`. See
    /// [`NetnsDir::create`].
    ///
    /// Kernel: as [`NetnsDir::create`] (ip-netns(8) `add`).
    ///
    /// # Errors
    /// As [`NetnsDir::create`].
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::create("test1")?;
    /// # nslink::NetNs::delete("test1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns add")]
    pub fn create(name: impl IntoNsName) -> Result<NetNs> {
        NetnsDir::default().create(name)
    }

    /// Deletes the named namespace `name` from the default directory, like
    /// `ip netns del NAME`. See [`NetnsDir::delete`].
    ///
    /// Kernel: as [`NetnsDir::delete`] (ip-netns(8) `delete`).
    ///
    /// # Errors
    /// As [`NetnsDir::delete`].
    ///
    /// ```no_run
    /// nslink::NetNs::delete("test1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns del")]
    pub fn delete(name: impl IntoNsName) -> Result<()> {
        NetnsDir::default().delete(name)
    }

    /// Names in the default directory, like `ip netns list`. See
    /// [`NetnsDir::list`].
    ///
    /// Kernel: readdir of `/run/netns` (ip-netns(8) `list`); no privilege.
    ///
    /// # Errors
    /// As [`NetnsDir::list`].
    ///
    /// ```no_run
    /// for name in nslink::NetNs::list()? {
    ///     println!("{name}");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns list")]
    pub fn list() -> Result<Vec<NsName>> {
        NetnsDir::default().list()
    }

    /// The identity of this namespace.
    pub fn id(&self) -> NsId {
        self.id
    }

    /// The name this handle was opened or created by, if any.
    pub fn name(&self) -> Option<&NsName> {
        self.name.as_ref()
    }

    /// Duplicates the handle (`F_DUPFD_CLOEXEC`).
    ///
    /// Kernel: fcntl(2) `F_DUPFD_CLOEXEC`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EMFILE` when out of descriptors.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// let twin = ns.try_clone()?;
    /// assert_eq!(ns, twin);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn try_clone(&self) -> Result<NetNs> {
        let fd = self.fd.try_clone().map_err(|e| Error::io(Op::OpenNetns, self.object(), &e))?;
        Ok(NetNs { fd, id: self.id, name: self.name.clone() })
    }

    /// A short description for error messages: `"test1"` or
    /// `net:[4026532000]`.
    pub(crate) fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("{:?}", n.as_str()),
            None => self.id.to_string(),
        }
    }

    /// This namespace as the object of an error.
    pub(crate) fn object(&self) -> Object {
        match &self.name {
            Some(n) => Object::netns_name(n),
            None => Object::netns_id(self.id),
        }
    }

    /// Runs `f` on a pooled worker thread inside this namespace and returns
    /// what it returns. The calling thread never changes namespace, whatever
    /// `f` does. `f` may borrow from the caller, as with
    /// [`std::thread::scope`]: `run` does not return (or unwind) before `f`
    /// has finished and all it captured has been dropped.
    ///
    /// A panic in `f` is re-raised in the caller with its original payload.
    /// Threads that `f` starts inherit the namespace.
    ///
    /// Paths that name "the current namespace" must name the *thread*:
    /// read `/proc/thread-self/net/…` inside `f`, not `/proc/net/…`, which
    /// is a link to `/proc/self/net`, the namespace of the process's main
    /// thread (see proc(5)). Sockets made inside `f` belong to this namespace
    /// for good, whichever thread uses them afterwards.
    ///
    /// # The worker, and what is checked
    /// `f` runs on a worker of nslink's bounded pool (see [`pool_stats`]),
    /// not on a new thread. What `f` can rely on is what a thread the caller
    /// started would give it:
    /// - it is in this network namespace (the worker `setns`es into it);
    /// - it shares the calling thread's *file-system context* — mount
    ///   namespace, root, working directory, umask — and *descriptor table*:
    ///   a worker is chosen only if kcmp(2) (`KCMP_FS`, `KCMP_FILES`) says it
    ///   shares both with the calling thread, and otherwise a new worker is
    ///   started from the calling thread (so it inherits them);
    /// - it holds no nslink guard.
    ///
    /// After `f`, the worker is reused only if all of this still holds: it
    /// is back in its home network namespace before `run` returns (setns(2)
    /// on the pool's descriptor of its home: a descriptor always refers to
    /// the namespace it was opened on and a successful setns moves the
    /// thread into exactly that one, the proof [`NsGuard`] uses too), it
    /// still shares
    /// the caller's `fs_struct` (so `f` did not `unshare(CLONE_NEWNS)`,
    /// `unshare(CLONE_FS)` or `setns` into a mount namespace, which all end
    /// that sharing), and no guard of `f` was left on its stack (one leaked
    /// with `mem::forget`, say). A worker that fails any of these ends and
    /// is joined before `run` returns, so a mount namespace `f` made is gone
    /// by then, as with a thread of its own. If `f` unshared the descriptor
    /// table (`unshare(CLONE_FILES)`), no other thread shares the new one,
    /// so the check before the next job never picks that worker again; it
    /// ends after [`IDLE_TIMEOUT`]. The worker also lets go of nslink's
    /// per-thread descriptor cache, so it keeps no namespace `f` entered
    /// alive.
    ///
    /// Not checked, and so differences from a new thread:
    /// - **thread-locals** that `f` sets stay set on the worker and may be
    ///   seen by a later `run` (and whatever they hold, a socket of this
    ///   namespace say, lives on until the worker ends, at most
    ///   [`IDLE_TIMEOUT`] after its last job); they are not dropped when
    ///   `run` returns. Rust gives no way to reset another thread's
    ///   thread-locals;
    /// - the worker's other namespaces (UTS, IPC, cgroup, time, PID for
    ///   children) are those of the thread that started it, and `f` changing
    ///   them (`unshare(CLONE_NEWUTS)`, …) is not detected; checking them
    ///   would cost a readlink(2) each on every call, more than the rest of
    ///   `run`. (User namespaces cannot change in a process with more than
    ///   one thread.);
    /// - per-thread attributes: signal mask, CPU affinity, scheduling
    ///   policy and priority, thread name, per-thread credentials.
    ///
    /// When `f` needs any of these as a fresh thread would have them, or
    /// changes them, use [`spawn`](NetNs::spawn), which always starts a new
    /// thread. After `fork`, a child process does not use the parent's pool:
    /// each `run` there starts a new thread and joins it.
    ///
    /// Kernel: on the worker, setns(2) with `CLONE_NEWNET` (needs
    /// `CAP_SYS_ADMIN` over the target) and setns(2) back home; kcmp(2)
    /// three times (`KCMP_FS` and `KCMP_FILES` before,
    /// `KCMP_FS` after); two channel hand-offs, each waited for first by a
    /// few tens of µs of polling with sched_yield(2), then by a futex(2)
    /// sleep. Cost, medians on a 2-core VM: about 8–12 µs per call (with
    /// plain sleeping waits it was ~50 µs on the idle VM: waking a thread
    /// whose virtual CPU went idle costs tens of µs); a thread of its own
    /// costs 25–64 µs there. (The netns-rs crate's `run`, 7.5 µs there,
    /// moves the *calling* thread instead.) The first call from a thread that shares no
    /// `fs_struct` with an idle worker starts one. Where kcmp(2) is
    /// missing (`CONFIG_KCMP`) or refused (a seccomp filter, as Docker's
    /// default one without `CAP_SYS_PTRACE`), no worker is reused: each call
    /// starts one and joins it, as a scoped thread would.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::RunInNetns`]) if no worker can be started or
    /// it cannot enter the namespace; `f`'s own result is returned inside
    /// `Ok`.
    ///
    /// ```no_run
    /// use nslink::NetNs;
    ///
    /// let ns = NetNs::new()?;
    /// let mut seen = Vec::new();
    /// ns.run(|| seen.push(NetNs::current().map(|n| n.id())))?;
    /// assert_eq!(seen[0].as_ref().ok(), Some(&ns.id()));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "Do")]
    pub fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let fit = helper::Fit::caller();
        helper::run_on_worker(Op::RunInNetns, &self.object(), fit, || {
            setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|e| Error::os(Op::RunInNetns, self.object(), e))?;
            Ok(f())
        })
    }

    /// Starts a thread that lives in this namespace and runs `f`.
    ///
    /// The thread enters the namespace before `f` runs; if it cannot, no `f`
    /// runs and the error is returned here. Unlike [`run`](NetNs::run), this
    /// always starts a *new* thread (it may live as long as `f` likes, so it
    /// cannot be a pooled worker): `f` gets fresh thread-locals and all the
    /// calling thread's per-thread state.
    ///
    /// Kernel: a new thread that calls setns(2) with `CLONE_NEWNET`; needs `CAP_SYS_ADMIN` over
    /// the target.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::SpawnInNetns`]).
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// let handle = ns.spawn(|| nslink::NetNs::current().map(|n| n.id()))?;
    /// assert_eq!(handle.join().unwrap()?, ns.id());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn spawn<T, F>(&self, f: F) -> Result<NsJoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let ns = self.try_clone()?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<()>>(1);
        let plan = crate::sys::fault::carry();
        let inner = thread::Builder::new()
            .spawn(move || {
                plan.adopt();
                let entered = setns(&ns.fd, CloneFlags::CLONE_NEWNET)
                    .map_err(|e| Error::os(Op::SpawnInNetns, ns.object(), e));
                let ok = entered.is_ok();
                let _ = tx.send(entered);
                drop(ns);
                if ok { Some(f()) } else { None }
            })
            .map_err(|e| Error::io(Op::SpawnInNetns, self.object(), &e))?;
        match rx.recv() {
            Ok(Ok(())) => Ok(NsJoinHandle { inner }),
            Ok(Err(e)) => {
                let _ = inner.join();
                Err(e)
            }
            Err(_) => Err(Error::ThreadLost { op: Op::SpawnInNetns, object: self.object() }),
        }
    }
}

/// A thread started by [`NetNs::spawn`], living inside a namespace.
#[derive(Debug)]
pub struct NsJoinHandle<T> {
    inner: thread::JoinHandle<Option<T>>,
}

impl<T> NsJoinHandle<T> {
    /// Waits for the thread and returns its result, like
    /// [`std::thread::JoinHandle::join`].
    ///
    /// # Errors
    /// The panic payload if the thread panicked.
    pub fn join(self) -> thread::Result<T> {
        match self.inner.join()? {
            Some(v) => Ok(v),
            // Unreachable: a handle is only returned once the thread entered
            // the namespace, and then it always runs `f`.
            None => Err(Box::new("nslink: thread did not run its closure")),
        }
    }

    /// The underlying thread.
    pub fn thread(&self) -> &thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl fmt::Debug for NetNs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("NetNs");
        d.field("dev", &self.id.dev).field("ino", &self.id.ino);
        if let Some(n) = &self.name {
            d.field("name", n);
        }
        d.field("fd", &self.fd.as_raw_fd()).finish()
    }
}

impl PartialEq for NetNs {
    fn eq(&self, other: &NetNs) -> bool {
        self.id == other.id
    }
}
impl Eq for NetNs {}
impl Hash for NetNs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state)
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
impl AsRawFd for NetNs {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
impl TryFrom<OwnedFd> for NetNs {
    type Error = Error;
    fn try_from(fd: OwnedFd) -> Result<NetNs> {
        NetNs::from_owned_fd(fd)
    }
}
impl From<NetNs> for OwnedFd {
    fn from(ns: NetNs) -> OwnedFd {
        ns.fd
    }
}

/// `(st_dev, st_ino)` of an open file.
pub(crate) fn fd_id(fd: BorrowedFd<'_>) -> std::result::Result<NsId, Errno> {
    let st = crate::sys::fstat(fd)?;
    Ok(NsId { dev: st.st_dev, ino: st.st_ino })
}

/// Opens the calling thread's namespace file.
pub(crate) fn open_thread_netns() -> std::result::Result<OwnedFd, Errno> {
    open("/proc/thread-self/ns/net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
}

/// A brand-new network namespace: made on the calling thread, which leaves
/// its namespace for the unshare(2) and comes back at once (see
/// [`guard::new_netns_here`]); where the thread could not come back, on a
/// worker instead (`unshare(CLONE_NEWNET)` there, then a descriptor of it;
/// the worker goes back home afterwards).
///
/// Why not always the worker: handing the job over and back costs two
/// thread wake-ups, and on a virtual machine waking a thread whose CPU
/// went idle during the ~0.3 ms unshare costs tens of µs each: a named
/// create + delete measured ~1.4x the same calls made on one thread.
pub(crate) fn new_netns_fd(op: Op, object: impl FnOnce() -> Object) -> Result<OwnedFd> {
    match guard::new_netns_here() {
        Ok(Some(fd)) => return Ok(fd),
        Err(e) => return Err(Error::os(op, object(), e)),
        Ok(None) => {}
    }
    let object = object();
    let what = object.clone();
    helper::run_on_helper(op, &object, move || {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| Error::os(op, what.clone(), e))?;
        open_thread_netns().map_err(|e| Error::os(op, what, e))
    })
}

/// Runs `job` on the calling thread's helper after moving the helper into
/// `ns`: for opening sockets that must belong to `ns`. The caller's thread
/// never moves.
pub(crate) fn run_in<T: Send + 'static>(
    ns: &NetNs,
    op: Op,
    job: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let target = ns.try_clone()?;
    let object = ns.object();
    helper::run_on_helper(op, &object, move || {
        setns(&target.fd, CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::os(Op::EnterNetns, target.object(), e))?;
        drop(target);
        job()
    })
}

/// Opens `name` relative to a directory fd without following symlinks.
pub(crate) fn open_ns_at(dirfd: BorrowedFd<'_>, name: &NsName, path: PathBuf) -> Result<NetNs> {
    let fd = openat(
        dirfd,
        name.as_str(),
        OFlag::O_PATH | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
    .map_err(|e| match e {
        // A symlink planted in the directory: refuse it, never follow it.
        Errno::ELOOP => Error::NotANetns {
            op: Op::OpenNetns,
            path: path.clone(),
            reason: NotNetnsReason::NotNsfs,
        },
        e => Error::os(Op::OpenNetns, Object::netns_name(name), e),
    })?;
    let fd = reopen_if_nsfs(fd, &path)?;
    NetNs::from_fd(fd, &path, Some(name.clone()))
}

/// Checks an `O_PATH` descriptor is on nsfs before opening the file for
/// real, so that a FIFO or device node is never opened.
fn reopen_if_nsfs(fd: OwnedFd, path: &Path) -> Result<OwnedFd> {
    let op = Op::OpenNetns;
    let sfs = fstatfs(&fd).map_err(|e| Error::os(op, Object::path(path), e))?;
    if sfs.filesystem_type() != NSFS_MAGIC {
        return Err(Error::NotANetns {
            op,
            path: path.to_owned(),
            reason: NotNetnsReason::NotNsfs,
        });
    }
    open(
        format!("/proc/self/fd/{}", fd.as_raw_fd()).as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::os(op, Object::path(path), e))
}

/// Metadata-based identity of a path, without following a final symlink.
pub(crate) fn path_id(path: &Path) -> Option<NsId> {
    std::fs::symlink_metadata(path).ok().map(|m| NsId { dev: m.dev(), ino: m.ino() })
}
