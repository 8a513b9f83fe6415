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

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The number of forks between the process's start and the calling
/// process (0 in a process that was not forked since it was started), or
/// `None` when the handler could not be registered (then ask the kernel).
pub(crate) fn generation() -> Option<u64> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        // SAFETY: `in_child` is a plain function that lives as long as the
        // process and only touches an atomic, which is allowed in a child
        // after fork (async-signal-safe). The only failure is ENOMEM, seen
        // in the return value.
        unsafe { nix::libc::pthread_atfork(None, None, Some(in_child)) == 0 }
    });
    registered.then(|| GENERATION.load(Ordering::Relaxed))
}
