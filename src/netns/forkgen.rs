//! A cheap "has this process been forked since?" test.
//!
//! Per-thread and per-process caches (the `/proc/thread-self/ns` directory
//! of a thread, the worker pool) must not be used by a child of `fork`: its
//! only thread is a copy of the forking one, with another id, and the
//! parent's workers do not exist in it. Asking the kernel (gettid(2),
//! getpid(2)) costs a system call on every use; instead, a `pthread_atfork`
//! child handler bumps a counter in the child, and the caches remember the
//! value they were made under.
//!
//! Covered: every `fork(2)` through the C library (`fork`, `nix::unistd::fork`,
//! `daemon`, …), which runs the handlers. Not covered: a raw `clone(2)`
//! system call without `CLONE_VM` that then runs Rust code in the child —
//! outside what the C library supports anyway.
//!
//! Nothing here ever waits. The handler is registered on first use, and
//! `pthread_atfork` blocks while another thread is forking (the C library
//! holds its handler lock from the prepare handlers to the child's); a
//! `OnceLock` around it would then be copied into the child in its
//! "being initialised" state, and the child's first use would wait forever
//! for a thread it does not have. The stress pass hung exactly that way
//! (a test forking while another thread made its first namespace). So the
//! registration is a small state machine on an atomic: a caller that finds
//! it in progress, in the parent or in such a child, gets `None` and takes
//! the slower path that asks the kernel.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Whether the child handler is registered: not yet, in progress, done,
/// failed. A state machine on one atomic, so that reading it never waits.
struct Registration(AtomicU8);

const UNREGISTERED: u8 = 0;
const REGISTERING: u8 = 1;
const REGISTERED: u8 = 2;
const FAILED: u8 = 3;

impl Registration {
    const fn new() -> Registration {
        Registration(AtomicU8::new(UNREGISTERED))
    }

    /// Whether the handler is registered, running `register` (which says
    /// whether it worked) if nobody has started yet. A caller that finds the
    /// registration in progress, on another thread or copied into a forked
    /// child in that state, gets `false` at once instead of waiting.
    fn ensure(&self, register: impl FnOnce() -> bool) -> bool {
        match self.0.load(Ordering::Acquire) {
            REGISTERED => return true,
            REGISTERING | FAILED => return false,
            _ => {}
        }
        if self
            .0
            .compare_exchange(UNREGISTERED, REGISTERING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Another thread started (or just finished) it.
            return self.0.load(Ordering::Acquire) == REGISTERED;
        }
        let ok = register();
        self.0.store(if ok { REGISTERED } else { FAILED }, Ordering::Release);
        ok
    }
}

static HANDLER: Registration = Registration::new();

extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The number of forks between the process's start and the calling
/// process (0 in a process that was not forked since it was started), or
/// `None` when the handler is not registered (another thread is
/// registering it, or it could not be): then ask the kernel. Never waits.
pub(crate) fn generation() -> Option<u64> {
    let registered = HANDLER.ensure(|| {
        // SAFETY: `in_child` is a plain function that lives as long as the
        // process and only touches an atomic, which is allowed in a child
        // after fork (async-signal-safe). The only failure is ENOMEM, seen
        // in the return value.
        unsafe { nix::libc::pthread_atfork(None, None, Some(in_child)) == 0 }
    });
    registered.then(|| GENERATION.load(Ordering::Relaxed))
}

/// The process something process-wide (the worker pool, the registry of
/// owned namespaces, the signal thread) was first used in, to tell whether
/// the caller is a child forked since: then that thing's threads are not in
/// it, and its locks may be held for ever by a thread it does not have.
///
/// The fork generation when known (no system call), else the process id.
/// Atomics set once by compare-and-swap, never a `OnceLock`, which a child
/// forked in the middle of its initialisation would wait on for ever.
/// Whoever first stores the generation has used nothing before, so a child
/// forked before that store may claim the thing as its own: nobody used it.
pub(crate) struct Birth {
    generation: AtomicU64,
    pid: AtomicU32,
}

const UNSET_GEN: u64 = u64::MAX;
const UNKNOWN_GEN: u64 = u64::MAX - 1;

impl Birth {
    pub(crate) const fn new() -> Birth {
        Birth { generation: AtomicU64::new(UNSET_GEN), pid: AtomicU32::new(0) }
    }

    /// Records the calling process as the birth place if nothing is
    /// recorded yet; then whether the caller is a process forked since.
    /// Never waits.
    pub(crate) fn forked_since(&self) -> bool {
        let now = generation();
        let mut birth = self.generation.load(Ordering::Acquire);
        if birth == UNSET_GEN {
            // The process id first (published with the generation); racing
            // first users all store the same one.
            let _ = self.pid.compare_exchange(
                0,
                std::process::id(),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            let mark = now.unwrap_or(UNKNOWN_GEN);
            birth = match self.generation.compare_exchange(
                UNSET_GEN,
                mark,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => mark,
                Err(first) => first,
            };
        }
        match now {
            Some(g) if birth != UNKNOWN_GEN => birth != g,
            // Recorded before the generation was known (or it is not now):
            // ask the kernel.
            _ => self.pid.load(Ordering::Acquire) != std::process::id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// The hang the stress pass found, made deterministic: a thread is in
    /// the middle of registering when another thread forks. In the child
    /// (and in the parent meanwhile) the registration answers `false` at
    /// once; with a `OnceLock` there, as before, the child waited forever
    /// for the registering thread, which the child does not have.
    #[test]
    fn a_registration_in_progress_never_makes_anyone_wait_not_even_a_forked_child() {
        static R: Registration = Registration::new();
        let (inside_tx, inside) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let registering = std::thread::spawn(move || {
            R.ensure(|| {
                inside_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                true
            })
        });
        inside.recv().unwrap();
        // Another thread of the parent: no wait, no registration of its own.
        let t = Instant::now();
        assert!(!R.ensure(|| panic!("registered twice")));
        assert!(t.elapsed() < Duration::from_secs(1));
        // A child forked now has the registration "in progress" forever.
        // SAFETY: the child only loads an atomic and calls _exit.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            nix::unistd::ForkResult::Child => {
                let waited = R.ensure(|| false);
                // SAFETY: _exit ends the child without running destructors.
                unsafe { nix::libc::_exit(if waited { 1 } else { 0 }) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
                let deadline = Instant::now() + Duration::from_secs(10);
                let status = loop {
                    match waitpid(child, Some(WaitPidFlag::WNOHANG)).expect("waitpid") {
                        WaitStatus::StillAlive if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        WaitStatus::StillAlive => {
                            let _ = nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
                            let _ = waitpid(child, None);
                            panic!("the forked child waited for a registration it cannot see end");
                        }
                        other => break other,
                    }
                };
                assert_eq!(status, WaitStatus::Exited(child, 0));
            }
        }
        release.send(()).unwrap();
        assert!(registering.join().unwrap());
        assert!(R.ensure(|| panic!("registered twice")));
    }

    #[test]
    fn a_birth_is_the_first_process_and_a_forked_child_is_not_it() {
        static B: Birth = Birth::new();
        assert!(!B.forked_since());
        assert!(!B.forked_since());
        // SAFETY: the child only reads atomics (and maybe getpid) and calls
        // _exit.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            nix::unistd::ForkResult::Child => {
                let code = if B.forked_since() { 0 } else { 1 };
                // SAFETY: _exit ends the child without running destructors.
                unsafe { nix::libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).expect("waitpid");
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
        assert!(!B.forked_since());
    }

    #[test]
    fn a_failed_registration_is_not_retried() {
        static R: Registration = Registration::new();
        assert!(!R.ensure(|| false));
        assert!(!R.ensure(|| panic!("retried")));
    }
}
