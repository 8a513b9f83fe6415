//! [`NsGuard`]: move the calling thread into a namespace and back.
//!
//! Each thread keeps a small stack of *frames*, one per live guard, in a
//! thread-local. A frame holds where the thread must go when its guard ends
//! (its home). Guards are meant to be dropped innermost first; when one is
//! dropped out of order, its frame is removed and its home is handed to the
//! guard entered right after it, so the thread still ends where it started.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::{NetNs, NsId, fd_id};
use crate::error::{Error, Object, Op, Result};
use crate::sys::{fstatat, open, openat, setns};

thread_local! {
    /// `/proc/thread-self/ns` of this thread, opened once (`O_PATH`), with
    /// what it was opened under. Looking `net` up relative to it is cheaper
    /// than resolving the whole path. After `fork` the child's thread has
    /// another id and the inherited descriptor still names the parent's
    /// thread, so every use checks the fork generation (or, when that is not
    /// available, the thread id).
    static NS_DIR: RefCell<Option<(Opened, OwnedFd)>> = const { RefCell::new(None) };
    /// A descriptor of the namespace this thread last entered a guard from,
    /// with its identity: `enter` reuses it instead of opening the thread's
    /// namespace file again. One per thread; let go when the thread ends.
    static LAST_HOME: RefCell<Option<(NsId, Rc<OwnedFd>)>> = const { RefCell::new(None) };
    /// The live guards of this thread, outermost first.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(1) };
}

/// What a thread's cached `/proc/thread-self/ns` descriptor was opened
/// under: a fork generation, or a thread id when generations are not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opened {
    Generation(u64),
    Thread(Pid),
}

fn opened_now() -> Opened {
    match super::forkgen::generation() {
        Some(g) => Opened::Generation(g),
        None => Opened::Thread(nix::unistd::gettid()),
    }
}

/// Runs `f` with this thread's `/proc/thread-self/ns` directory.
fn with_ns_dir<T>(
    f: impl FnOnce(BorrowedFd<'_>) -> std::result::Result<T, Errno>,
) -> std::result::Result<T, Errno> {
    let now = opened_now();
    NS_DIR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fresh = match slot.as_ref() {
            Some((opened, _)) => *opened != now,
            None => true,
        };
        if fresh {
            let fd = open(
                "/proc/thread-self/ns",
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            *slot = Some((now, fd));
        }
        match slot.as_ref() {
            Some((_, fd)) => f(fd.as_fd()),
            // Unreachable: the slot was filled just above.
            None => open("/proc/thread-self/ns", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
                .and_then(|fd| f(fd.as_fd())),
        }
    })
}

/// The calling thread's current namespace identity, read from the kernel.
pub(crate) fn thread_netns_id() -> std::result::Result<NsId, Errno> {
    with_ns_dir(|dir| {
        let st = fstatat(dir, "net", nix::fcntl::AtFlags::empty())?;
        Ok(NsId { dev: st.st_dev, ino: st.st_ino })
    })
}

/// After a job on a worker thread: lets go of the thread's cached home
/// descriptor (which may be a namespace the job entered, and must not be
/// kept alive by an idle worker) and tells whether the job left no guard
/// behind (a guard leaked with `mem::forget` keeps a frame, and the thread
/// must not be reused).
pub(crate) fn clean_after_job() -> bool {
    let _ = LAST_HOME.try_with(|c| c.borrow_mut().take());
    FRAMES.try_with(|f| f.borrow().is_empty()).unwrap_or(false)
}

/// Where a frame returns the thread.
enum HomeFd {
    /// A descriptor the frame owns (handed over from a guard dropped out of
    /// order).
    Owned(OwnedFd),
    /// The thread's cached home descriptor ([`NetNs::enter`]).
    Shared(Rc<OwnedFd>),
    /// The descriptor of the `NetNs` given to [`NetNs::enter_from`]; valid
    /// while the guard that carries this frame lives (its lifetime borrows
    /// that `NetNs`).
    Lent(RawFd),
}

impl HomeFd {
    fn raw(&self) -> RawFd {
        match self {
            HomeFd::Owned(fd) => fd.as_raw_fd(),
            HomeFd::Shared(fd) => fd.as_raw_fd(),
            HomeFd::Lent(fd) => *fd,
        }
    }
}

struct Frame {
    serial: u64,
    home: HomeFd,
    home_id: NsId,
    /// Check by inode that the thread arrived home ([`NetNs::enter`]).
    verify: bool,
}

/// Keeps the calling thread inside a namespace; dropping it moves the thread
/// back, panics and unwinding included.
///
/// Made by [`NetNs::enter`] (returns to where the thread was, checked by
/// identity) or [`NetNs::enter_from`] (returns to a namespace you name, for
/// hot loops).
///
/// # How the return is proven
/// [`NetNs::enter`] reads the thread's namespace identity (device and inode
/// of `/proc/thread-self/ns/net`, one fstatat(2) relative to a cached
/// descriptor of the thread's `ns` directory) and holds a descriptor of
/// exactly that namespace: one whose own identity (`fstat(2)`) was checked
/// to match when it was opened. A descriptor always refers to the namespace
/// it was opened on, and `setns(2)` on it succeeds only by moving the thread
/// into that namespace; so a successful `setns` on drop *is* the proof that
/// the thread is home. (Earlier versions re-read `/proc` after the restore;
/// that read proved nothing more and cost 1.6 µs.)
///
/// # Nesting and drop order
/// Guards nest: entering `b` while inside `a` and dropping both brings the
/// thread back to where it was before `a`. Drop them innermost first. If
/// they are dropped in another order, nslink does not move the thread until
/// the guard entered *last* among the remaining ones is dropped; the
/// dropped guard's home is handed to the guard entered right after it. So
/// while any guard lives, the thread is where the most recent live guard put
/// it (or, after an in-order drop of an [`enter_from`](NetNs::enter_from)
/// guard, in the home you gave it), and when the last guard is gone, the
/// thread is home — never anywhere else:
///
/// ```no_run
/// use nslink::NetNs;
///
/// let (a, b) = (NetNs::new()?, NetNs::new()?);
/// let home = NetNs::current()?;
/// let g1 = a.enter()?;
/// let g2 = b.enter()?;
/// drop(g1);                               // out of order: the thread stays in b
/// assert_eq!(NetNs::current()?, b);
/// drop(g2);                               // and now it is home
/// assert_eq!(NetNs::current()?, home);
/// # Ok::<(), nslink::Error>(())
/// ```
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
/// # After `fork`
/// A child process forked while a guard is held inherits the guard with the
/// thread that forked; dropping it there returns the child's thread home and
/// verifies it against the child's own `/proc/thread-self`.
///
/// # Cost
/// Measured on a 2-core VM (kernel 6.18), medians: two bare `setns` calls
/// take 2.3 µs. [`NetNs::enter_from`] costs the same (1.00–1.02x): it is
/// those two calls. [`NetNs::enter`] adds one fstatat(2) of
/// `/proc/thread-self/ns/net` (about 1.5 µs) to learn where the thread is;
/// the descriptor of that namespace is kept per thread (one, the last home
/// used) and reused, so the first `enter` on a thread also opens it. The
/// cached `ns` directory is checked against `fork` with a counter bumped by
/// a `pthread_atfork` handler, not a gettid(2) per call. That makes `enter`
/// about 1.6–1.9x the floor.
/// [`NetNs::run`] costs two hand-offs to a pooled worker (about 10 µs).
/// `cargo bench --bench netns` measures all of these.
///
/// # Restore failure
/// If moving back fails (say, the code inside dropped `CAP_SYS_ADMIN`), the
/// thread would go on in the wrong namespace, which nothing downstream could
/// notice. The guard therefore prints what happened to stderr and aborts the
/// process.
///
/// The mechanism is `setns(2)` with `CLONE_NEWNET`; it needs
/// `CAP_SYS_ADMIN` in the user namespace that owns the target (and in the
/// one that owns home, to come back).
#[must_use = "the thread leaves the namespace as soon as the guard is dropped"]
pub struct NsGuard<'a> {
    serial: u64,
    home_id: NsId,
    /// Borrows the namespaces involved; `*const ()` makes the guard `!Send`
    /// and `!Sync`.
    _marker: PhantomData<(&'a NetNs, *const ())>,
}

impl std::fmt::Debug for NsGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NsGuard").field("home", &self.home_id).finish()
    }
}

/// The calling thread's namespace: its identity and a descriptor of it,
/// the one the thread keeps from its last guard when it is still there
/// (one fstatat(2)), else opened now and kept.
fn thread_home() -> std::result::Result<(NsId, Rc<OwnedFd>), Errno> {
    let now = thread_netns_id()?;
    let cached = LAST_HOME
        .with(|c| c.borrow().as_ref().filter(|(id, _)| *id == now).map(|(_, fd)| fd.clone()));
    if let Some(fd) = cached {
        return Ok((now, fd));
    }
    let fd =
        with_ns_dir(|dir| openat(dir, "net", OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()))?;
    // The identity from the descriptor itself, so the two always agree.
    let id = fd_id(fd.as_fd())?;
    let fd = Rc::new(fd);
    LAST_HOME.with(|c| *c.borrow_mut() = Some((id, fd.clone())));
    Ok((id, fd))
}

/// A new network namespace made on the calling thread, the way `ip netns
/// add` makes it: unshare(2), a descriptor of the new namespace, and back
/// home. The way back is a guard's frame, so it is taken like any guard's
/// (a failure to return aborts the process: the thread would otherwise go
/// on in the wrong namespace), and it is tried before leaving: a setns(2)
/// into the thread's own namespace meets the same permission check as the
/// return will (`CAP_SYS_ADMIN` over the namespace's owner; a process in a
/// user namespace that does not own its network namespace may unshare but
/// never come back). The thread is away for the unshare and one open(2).
///
/// `Ok(None)`: this thread may not (or cannot tell whether it may) leave;
/// it has not moved, and the namespace should be made elsewhere.
pub(crate) fn new_netns_here() -> std::result::Result<Option<OwnedFd>, Errno> {
    let Ok((home_id, home)) = thread_home() else { return Ok(None) };
    if crate::sys::setns_net_raw(home.as_raw_fd()).is_err() {
        return Ok(None);
    }
    let serial = push_frame(HomeFd::Shared(home), home_id, false);
    let back = NsGuard { serial, home_id, _marker: PhantomData };
    let made =
        crate::sys::unshare(CloneFlags::CLONE_NEWNET).and_then(|()| super::open_thread_netns());
    drop(back);
    made.map(Some)
}

fn push_frame(home: HomeFd, home_id: NsId, verify: bool) -> u64 {
    let serial = NEXT_SERIAL.with(|n| {
        let s = n.get();
        n.set(s + 1);
        s
    });
    FRAMES.with(|f| f.borrow_mut().push(Frame { serial, home, home_id, verify }));
    serial
}

impl NetNs {
    /// Moves the calling thread into this namespace until the returned guard
    /// is dropped; then it moves back to the namespace it was in (see
    /// [`NsGuard`] for how that is proven).
    ///
    /// Prefer [`run`](NetNs::run), which never moves the caller's thread. Use
    /// `enter` when code must run on *this* thread (thread-local state, a
    /// non-`Send` value). See [`NsGuard`] for nesting.
    ///
    /// Kernel: setns(2) (`CLONE_NEWNET`), which needs `CAP_SYS_ADMIN` over
    /// the target; the home is read from `/proc/thread-self/ns/net` (proc(5),
    /// one fstatat(2)). The thread keeps one descriptor of its last home for
    /// the next call.
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
        let here =
            || Object::unnamed(crate::error::ObjectKind::Namespace).with_detail("of this thread");
        // Where is the thread now? Reuse the descriptor of that namespace if
        // this thread has one, else open it (and learn its identity from the
        // descriptor itself, so the two always agree).
        let (home_id, home) = thread_home().map_err(|e| Error::os(op, here(), e))?;
        setns(self.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::os(op, self.object(), e))?;
        let serial = push_frame(HomeFd::Shared(home), home_id, false);
        Ok(NsGuard { serial, home_id, _marker: PhantomData })
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
    /// successful `setns(2)` into `home` is what establishes the final state.
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
            .map_err(|e| Error::os(Op::EnterNetns, self.object(), e))?;
        let serial = push_frame(HomeFd::Lent(home.as_raw_fd()), home.id(), false);
        Ok(NsGuard { serial, home_id: home.id(), _marker: PhantomData })
    }
}

impl NsGuard<'_> {
    /// The namespace the thread returns to when the guard is dropped (for a
    /// guard dropped after an outer one, the outer one's home).
    pub fn home(&self) -> NsId {
        FRAMES
            .try_with(|f| {
                f.borrow().iter().find(|fr| fr.serial == self.serial).map(|fr| fr.home_id)
            })
            .ok()
            .flatten()
            .unwrap_or(self.home_id)
    }
}

/// A descriptor of the calling thread's true home: where it will be when
/// every guard it holds is gone (the outermost guard's home), or where it is
/// now when it holds none.
pub(crate) fn true_home() -> std::result::Result<OwnedFd, Errno> {
    // The outermost frame's descriptor is live: frames live while their
    // guards do, and the guards belong to this thread, which is running here.
    let outer = FRAMES.try_with(|f| f.borrow().first().map(|fr| fr.home.raw())).ok().flatten();
    match outer {
        Some(raw) => crate::sys::dup_cloexec_raw(raw),
        None => super::open_thread_netns(),
    }
}

impl Drop for NsGuard<'_> {
    fn drop(&mut self) {
        let serial = self.serial;
        // During thread exit the frames may already be gone: the thread is
        // ending, and no code of it runs in any namespace any more.
        let _ = FRAMES.try_with(|cell| {
            let mut frames = cell.borrow_mut();
            let Some(pos) = frames.iter().rposition(|f| f.serial == serial) else {
                return;
            };
            if pos + 1 == frames.len() {
                let frame = frames.remove(pos);
                drop(frames);
                restore(&frame);
            } else {
                // Out of order: the thread stays where the newer guard put it;
                // that guard now owes this frame's home.
                let frame = frames.remove(pos);
                let home = match frame.home {
                    HomeFd::Owned(fd) => HomeFd::Owned(fd),
                    HomeFd::Shared(fd) => HomeFd::Shared(fd),
                    // The lent descriptor is only valid while this guard
                    // lives: keep a copy of it.
                    HomeFd::Lent(raw) => match crate::sys::dup_cloexec_raw(raw) {
                        Ok(fd) => HomeFd::Owned(fd),
                        Err(e) => {
                            drop(frames);
                            restore_failed(&format!(
                                "cannot keep the home {} of a guard dropped out of order: {e}",
                                frame.home_id
                            ))
                        }
                    },
                };
                let next = &mut frames[pos];
                next.home = home;
                next.home_id = frame.home_id;
                next.verify |= frame.verify;
            }
        });
    }
}

fn restore(frame: &Frame) {
    // The frame's descriptor is live: an owned one is in the frame; a lent
    // one belongs to the `NetNs` the dropping guard still borrows.
    if let Err(e) = crate::sys::setns_net_raw(frame.home.raw()) {
        restore_failed(&format!("setns into {} failed: {e}", frame.home_id));
    }
    if frame.verify {
        match thread_netns_id() {
            Ok(id) if id == frame.home_id => {}
            Ok(id) => restore_failed(&format!(
                "thread is in {id} after restoring, expected {}",
                frame.home_id
            )),
            Err(e) => restore_failed(&format!(
                "cannot read the thread's namespace to verify the restore: {e}"
            )),
        }
    }
    // A cached descriptor of a namespace the thread has now left is no use
    // to the next `enter` and would only keep that namespace alive (with
    // its devices) after its last handle is gone: let it go.
    let _ = LAST_HOME.try_with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_some_and(|(id, _)| *id != frame.home_id) {
            *c = None;
        }
    });
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
