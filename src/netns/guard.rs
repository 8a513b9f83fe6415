//! [`NsGuard`]: move the calling thread into a namespace and back.

use std::cell::OnceCell;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::{Mode, fstatat};

use super::{NetNs, NsId, fd_id};
use crate::error::{Error, Op, Result};

thread_local! {
    /// `/proc/thread-self/ns` of this thread, opened once (`O_PATH`). Looking
    /// `net` up relative to it is cheaper than resolving the whole path.
    static NS_DIR: OnceCell<OwnedFd> = const { OnceCell::new() };
}

/// Runs `f` with this thread's `/proc/thread-self/ns` directory.
fn with_ns_dir<T>(
    f: impl FnOnce(BorrowedFd<'_>) -> std::result::Result<T, Errno>,
) -> std::result::Result<T, Errno> {
    NS_DIR.with(|cell| {
        if cell.get().is_none() {
            let fd = open(
                "/proc/thread-self/ns",
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            let _ = cell.set(fd);
        }
        match cell.get() {
            Some(fd) => f(fd.as_fd()),
            None => Err(Errno::EBADF),
        }
    })
}

/// The calling thread's current namespace identity, read from the kernel.
fn thread_netns_id() -> std::result::Result<NsId, Errno> {
    with_ns_dir(|dir| {
        let st = fstatat(dir, "net", nix::fcntl::AtFlags::empty())?;
        Ok(NsId { dev: st.st_dev, ino: st.st_ino })
    })
}

enum Home<'a> {
    /// The namespace the thread was in when the guard was made.
    Saved(OwnedFd),
    /// A namespace the caller named ([`NetNs::enter_from`]).
    Given(&'a NetNs),
}

/// Keeps the calling thread inside a namespace; dropping it moves the thread
/// back, panics and unwinding included.
///
/// Made by [`NetNs::enter`] (returns to where the thread was, verified by
/// inode) or [`NetNs::enter_from`] (returns to a namespace you name, for hot
/// loops).
///
/// The guard is neither `Send` nor `Sync`: it belongs to the thread whose
/// namespace it changed, so it cannot be moved to another thread, nor held
/// across an `.await` in a future that must be `Send`:
///
/// ```compile_fail
/// fn must_be_send<T: Send>(_: T) {}
/// let ns = nslink::NetNs::new().unwrap();
/// let guard = ns.enter().unwrap();
/// must_be_send(guard);
/// ```
///
/// ```compile_fail
/// fn must_be_sync<T: Sync>(_: &T) {}
/// let ns = nslink::NetNs::new().unwrap();
/// let guard = ns.enter().unwrap();
/// must_be_sync(&guard);
/// ```
///
/// ```compile_fail
/// fn must_be_send<T: Send>(_: T) {}
/// let ns = nslink::NetNs::new().unwrap();
/// must_be_send(async move {
///     let guard = ns.enter().unwrap();
///     std::future::ready(()).await; // the guard lives across this await
///     drop(guard);
/// });
/// ```
///
/// # Cost
/// Measured on a 2-core VM (kernel 6.18), medians: two bare `setns` calls
/// take 2.3 µs. [`NetNs::enter_from`] costs the same (1.00–1.01x): it is
/// those two calls. [`NetNs::enter`] costs about 7.3 µs (3.2x), because it
/// reads the thread's namespace from `/proc` before leaving (2.9 µs) and
/// again to verify the restore (1.6 µs); that is the price of returning to
/// wherever the thread was, checked. [`NetNs::run`] costs a thread start
/// (26–64 µs). `cargo bench --bench netns` measures all of these.
///
/// # Restore failure
/// If moving back fails (say, the code inside dropped `CAP_SYS_ADMIN`), the
/// thread would go on in the wrong namespace, which nothing downstream could
/// notice. The guard therefore prints what happened to stderr and aborts the
/// process.
#[must_use = "the thread leaves the namespace as soon as the guard is dropped"]
pub struct NsGuard<'a> {
    home: Home<'a>,
    home_id: NsId,
    /// `*const ()` makes the guard `!Send` and `!Sync`.
    _thread_bound: PhantomData<*const ()>,
}

impl NetNs {
    /// Moves the calling thread into this namespace until the returned guard
    /// is dropped; then it moves back to the namespace it was in, and checks
    /// by inode that it arrived there.
    ///
    /// Prefer [`run`](NetNs::run), which never moves the caller's thread. Use
    /// `enter` when code must run on *this* thread (thread-local state, a
    /// non-`Send` value).
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::EnterNetns`]), e.g. `EPERM` without
    /// `CAP_SYS_ADMIN`; the thread has not moved then.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::new()?;
    /// {
    ///     let _guard = ns.enter()?;
    ///     // this thread is in `ns` here; sockets opened now belong to it
    ///     let sock = std::net::UdpSocket::bind("127.0.0.1:0");
    /// }
    /// // and back here
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "setns")]
    pub fn enter(&self) -> Result<NsGuard<'_>> {
        let op = Op::EnterNetns;
        let saved = with_ns_dir(|dir| {
            openat(dir, "net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        })
        .map_err(|e| Error::os(op, "current namespace", e))?;
        let home_id = fd_id(saved.as_fd()).map_err(|e| Error::os(op, "current namespace", e))?;
        setns(self.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::os(op, self.describe(), e))?;
        Ok(NsGuard { home: Home::Saved(saved), home_id, _thread_bound: PhantomData })
    }

    /// Moves the calling thread into this namespace; the guard moves it into
    /// `home` when dropped.
    ///
    /// This is the fast form for hot loops: an enter/leave pair costs two
    /// `setns` calls and nothing else, because the caller says where to
    /// return instead of nslink reading it from `/proc` each time. Use it
    /// when you know where the thread is, typically `home =
    /// NetNs::current()?` taken once before the loop. The guard returns the
    /// thread to `home` even if it was elsewhere before; the kernel's
    /// successful `setns` into `home` is what establishes the final state.
    ///
    /// # Errors
    /// As [`enter`](NetNs::enter).
    ///
    /// ```no_run
    /// use nslink::NetNs;
    ///
    /// let home = NetNs::current()?;
    /// let (a, b) = (NetNs::new()?, NetNs::new()?);
    /// for _ in 0..1000 {
    ///     let _in_a = a.enter_from(&home)?;
    ///     // … work in a …
    ///     drop(_in_a);
    ///     let _in_b = b.enter_from(&home)?;
    ///     // … work in b …
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn enter_from<'a>(&'a self, home: &'a NetNs) -> Result<NsGuard<'a>> {
        setns(self.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::os(Op::EnterNetns, self.describe(), e))?;
        Ok(NsGuard { home: Home::Given(home), home_id: home.id(), _thread_bound: PhantomData })
    }
}

impl NsGuard<'_> {
    /// The namespace the thread returns to when the guard is dropped.
    pub fn home(&self) -> NsId {
        self.home_id
    }
}

impl Drop for NsGuard<'_> {
    fn drop(&mut self) {
        let home = match &self.home {
            Home::Saved(fd) => fd.as_fd(),
            Home::Given(ns) => ns.as_fd(),
        };
        if let Err(e) = setns(home, CloneFlags::CLONE_NEWNET) {
            restore_failed(&format!("setns into {} failed: {e}", self.home_id));
        }
        if let Home::Saved(_) = self.home {
            match thread_netns_id() {
                Ok(id) if id == self.home_id => {}
                Ok(id) => restore_failed(&format!(
                    "thread is in {id} after restoring, expected {}",
                    self.home_id
                )),
                Err(e) => restore_failed(&format!(
                    "cannot read the thread's namespace to verify the restore: {e}"
                )),
            }
        }
    }
}

#[cold]
fn restore_failed(detail: &str) -> ! {
    let tid = nix::unistd::gettid();
    eprintln!(
        "nslink: FATAL: thread {tid} could not return to its network namespace ({detail}); \
         aborting, because the thread would otherwise go on in the wrong namespace"
    );
    std::process::abort()
}
