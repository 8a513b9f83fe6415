//! [`OwnedNetns`]: a named namespace that deletes itself, by identity, when
//! dropped; and [`cleanup_on_signals`], which does the same when the process
//! is stopped with SIGINT, SIGTERM or SIGHUP.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal};

use super::forkgen::Birth;
use super::{NetNs, NetnsDir, NsId};
use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::name::{IntoNsName, NsName};

/// A named namespace this program made and will delete: when the value is
/// dropped (unwinding included), the entry is deleted *by identity*
/// ([`NetnsDir::delete_ns`]): if someone deleted the name and made it again
/// meanwhile, their namespace is left alone.
///
/// It dereferences to [`NetNs`]. [`keep`](OwnedNetns::keep) gives the
/// namespace up for good (it stays in `/run/netns`);
/// [`delete`](OwnedNetns::delete) deletes now and reports errors.
///
/// Owned namespaces alive when the process gets SIGINT, SIGTERM or SIGHUP
/// are deleted too, once [`cleanup_on_signals`] was called.
///
/// ```no_run
/// use nslink::netns::OwnedNetns;
///
/// nslink::netns::cleanup_on_signals()?;   // Ctrl-C deletes them too
/// let red = OwnedNetns::create("red")?;   // ip netns add red
/// let nl = nslink::RouteSocket::open_in(&red)?;
/// // …
/// drop(red);                              // ip netns del red (if it is still ours)
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug)]
pub struct OwnedNetns {
    ns: Option<NetNs>,
    dir: NetnsDir,
    ticket: u64,
}

impl OwnedNetns {
    /// Creates `name` in the default directory (`/run/netns`), like
    /// `ip netns add NAME`; see [`NetnsDir::create`].
    ///
    /// # Errors
    /// As [`NetnsDir::create`].
    ///
    /// ```no_run
    /// let ns = nslink::netns::OwnedNetns::create("lab1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn create(name: impl IntoNsName) -> Result<OwnedNetns> {
        NetnsDir::default().create_owned(name)
    }

    /// Wraps a named namespace of `dir` that this program made.
    pub(crate) fn adopt(dir: NetnsDir, ns: NetNs) -> OwnedNetns {
        let ticket = register(&dir, &ns);
        OwnedNetns { ns: Some(ns), dir, ticket }
    }

    /// The namespace's name.
    pub fn name(&self) -> Option<&NsName> {
        self.ns.as_ref().and_then(NetNs::name)
    }

    /// The directory it lives in.
    pub fn dir(&self) -> &NetnsDir {
        &self.dir
    }

    /// Deletes the namespace now, by identity, and reports what happened.
    ///
    /// # Errors
    /// As [`NetnsDir::delete_ns`].
    ///
    /// ```no_run
    /// let ns = nslink::netns::OwnedNetns::create("lab1")?;
    /// ns.delete()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn delete(mut self) -> Result<()> {
        // Unregistered after the delete: a signal meanwhile still finds it.
        let r = match self.ns.take() {
            Some(ns) => self.dir.delete_ns(&ns),
            None => Ok(()),
        };
        unregister(self.ticket);
        r
    }

    /// Keeps the namespace (it is no longer deleted on drop or on a
    /// signal) and returns the handle.
    ///
    /// ```no_run
    /// let ns = nslink::netns::OwnedNetns::create("lab1")?.keep();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn keep(mut self) -> NetNs {
        unregister(self.ticket);
        match self.ns.take() {
            Some(ns) => ns,
            // Unreachable: only `delete` and `keep` take it, and both
            // consume the value.
            None => unreachable_ns(),
        }
    }
}

#[cold]
fn unreachable_ns() -> NetNs {
    std::process::abort()
}

impl Deref for OwnedNetns {
    type Target = NetNs;
    fn deref(&self) -> &NetNs {
        match &self.ns {
            Some(ns) => ns,
            None => unreachable_ns_ref(),
        }
    }
}

#[cold]
fn unreachable_ns_ref() -> &'static NetNs {
    std::process::abort()
}

impl AsFd for OwnedNetns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        (**self).as_fd()
    }
}

impl AsRawFd for OwnedNetns {
    fn as_raw_fd(&self) -> RawFd {
        (**self).as_raw_fd()
    }
}

impl Drop for OwnedNetns {
    fn drop(&mut self) {
        if let Some(ns) = self.ns.take() {
            // Gone already, or someone else's now: nothing of ours to delete.
            let _ = self.dir.delete_ns(&ns);
        }
        // After the delete, as in `delete`.
        unregister(self.ticket);
    }
}

impl NetnsDir {
    /// Creates `name` like [`create`](NetnsDir::create) and returns it as an
    /// [`OwnedNetns`], deleted by identity when dropped.
    ///
    /// # Errors
    /// As [`create`](NetnsDir::create).
    ///
    /// ```no_run
    /// let ns = nslink::NetnsDir::default().create_owned("lab1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn create_owned(&self, name: impl IntoNsName) -> Result<OwnedNetns> {
        // From before the entry exists until it is registered: the signal
        // thread waits for this, so it never misses a namespace being made.
        let _making = MAKING.read().unwrap_or_else(|e| e.into_inner());
        let ns = self.create(name)?;
        Ok(OwnedNetns::adopt(self.clone(), ns))
    }
}

// ---- the registry of owned namespaces, for signals ----

struct Entry {
    dir: NetnsDir,
    name: NsName,
    id: NsId,
}

fn registry() -> MutexGuard<'static, BTreeMap<u64, Entry>> {
    static REG: OnceLock<Mutex<BTreeMap<u64, Entry>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(BTreeMap::new())).lock().unwrap_or_else(|e| e.into_inner())
}

static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

/// Held shared by each `create_owned` in progress (create and register);
/// the signal thread takes it exclusively before it reads the registry and
/// never gives it back, so no owned namespace is half-made when it deletes
/// them, and none is started after.
static MAKING: RwLock<()> = RwLock::new(());

/// The process the registry was first used in: a child of `fork` neither
/// registers nor takes the registry's lock (another thread of the parent
/// may have held it at the fork, for ever in the child's copy), and has no
/// signal thread to clean up for it anyway.
static REGISTRY_BIRTH: Birth = Birth::new();

fn register(dir: &NetnsDir, ns: &NetNs) -> u64 {
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    if REGISTRY_BIRTH.forked_since() {
        return ticket;
    }
    if let Some(name) = ns.name() {
        registry().insert(ticket, Entry { dir: dir.clone(), name: name.clone(), id: ns.id() });
    }
    ticket
}

fn unregister(ticket: u64) {
    if !REGISTRY_BIRTH.forked_since() {
        registry().remove(&ticket);
    }
}

/// The write end of the pipe the signal handler writes to.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

/// The process the handlers were installed in. A child of `fork` keeps the
/// handlers and a copy of the pipe, but the signal thread reading it is the
/// parent's: a signal to the child must not make the parent delete its
/// namespaces and end (it did, before this check).
static INSTALLED_IN: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(sig: nix::libc::c_int) {
    // getpid(2) is async-signal-safe.
    if nix::unistd::getpid().as_raw().cast_unsigned() != INSTALLED_IN.load(Ordering::Relaxed) {
        crate::sys::default_action_and_raise(sig);
        return;
    }
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // Only write(2), which is async-signal-safe; the byte is the signal.
        crate::sys::write_byte_raw(fd, sig as u8);
    }
}

/// Deletes every [`OwnedNetns`] still alive when the process receives
/// SIGINT, SIGTERM or SIGHUP, then lets the signal do what it would have
/// done (the process ends with that signal).
///
/// Programs no longer need their own `sigaction(2)` for this: the handler
/// only writes the signal's number to a pipe (async-signal-safe); a thread
/// named `nslink-signals` reads it, deletes the namespaces by identity,
/// restores the default action and raises the signal again. Calling it more
/// than once is harmless. It replaces existing handlers of those three
/// signals, so call it before installing your own if you have any.
///
/// # Errors
/// [`Error::Os`] if the pipe, the thread or a handler cannot be set up;
/// [`Error::InvalidArgument`] in a child of `fork` (the signal thread is
/// the parent's). A child of `fork` does not take part: its owned
/// namespaces are not registered, and a signal it gets has its default
/// effect on it alone.
///
/// ```no_run
/// nslink::netns::cleanup_on_signals()?;
/// let pod = nslink::netns::OwnedNetns::create("pod1")?;
/// // Ctrl-C from here on removes /run/netns/pod1.
/// # Ok::<(), nslink::Error>(())
/// ```
pub fn cleanup_on_signals() -> Result<()> {
    // In a child of `fork` the parent's signal thread does not exist (and
    // the parent may have been in the middle of installing it, a state the
    // child would wait on for ever): say so instead.
    static INSTALL_BIRTH: Birth = Birth::new();
    if INSTALL_BIRTH.forked_since() {
        return Err(Error::InvalidArgument {
            op: Op::InstallSignalCleanup,
            object: Object::unnamed(ObjectKind::Thread),
            detail: "in a child of fork: the signal thread is the parent's; call it in the \
                     parent, or in a process started afresh"
                .into(),
        });
    }
    static ONCE: OnceLock<std::result::Result<(), (i32, String)>> = OnceLock::new();
    let r =
        ONCE.get_or_init(|| install().map_err(|e| (e.raw_os_error().unwrap_or(0), e.to_string())));
    match r {
        Ok(()) => Ok(()),
        Err((errno, _)) if *errno != 0 => Err(Error::os(
            Op::InstallSignalCleanup,
            Object::unnamed(ObjectKind::Other),
            nix::errno::Errno::from_raw(*errno),
        )),
        Err((_, msg)) => Err(Error::ThreadLost {
            op: Op::InstallSignalCleanup,
            object: Object::value(ObjectKind::Thread, msg),
        }),
    }
}

fn install() -> Result<()> {
    let op = Op::InstallSignalCleanup;
    let obj = || Object::unnamed(ObjectKind::Other).with_detail("(signal pipe)");
    let (rd, wr): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::os(op, obj(), e))?;
    std::thread::Builder::new()
        .name("nslink-signals".into())
        .spawn(move || signal_thread(rd))
        .map_err(|e| Error::io(op, obj(), &e))?;
    // The write end lives for the rest of the process.
    SIGNAL_PIPE.store(std::os::fd::IntoRawFd::into_raw_fd(wr), Ordering::Relaxed);
    INSTALLED_IN.store(std::process::id(), Ordering::Relaxed);
    let action =
        SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        crate::sys::set_signal_action(sig, &action).map_err(|e| Error::os(op, obj(), e))?;
    }
    Ok(())
}

fn signal_thread(rd: OwnedFd) {
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(&rd, &mut byte) {
            Ok(1) => break,
            Ok(_) => return,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
    // Kept until the process ends: no create_owned starts after this.
    std::mem::forget(MAKING.write().unwrap_or_else(|e| e.into_inner()));
    let entries: Vec<Entry> = std::mem::take(&mut *registry()).into_values().collect();
    for e in entries {
        let _ = e.dir.delete_by_id(&e.name, e.id);
    }
    let sig = Signal::try_from(i32::from(byte[0])).unwrap_or(Signal::SIGTERM);
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    let _ = crate::sys::set_signal_action(sig, &dfl);
    let _ = nix::sys::signal::kill(nix::unistd::getpid(), sig);
}
