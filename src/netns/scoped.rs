//! Handing a *borrowing* closure to a pooled worker thread.
//!
//! A worker thread is long-lived, so its jobs must be `'static`; the closure
//! given to [`NetNs::run`](super::NetNs::run) may borrow the caller's stack,
//! exactly as with `std::thread::scope`. [`call`] erases the closure's
//! lifetime and restores the guarantee a scope gives: **the caller's frame
//! is not left — by return or by unwinding — before the closure has
//! finished and every capture of it has been dropped**, wherever the
//! erased job went.
//!
//! The argument, in full:
//! - the erased job owns a [`Task`]; the closure `f` and the reply sender
//!   are its fields, declared in that order, so `f` (its captures) is gone
//!   before the sender is dropped, on every path: run (`f` consumed by its
//!   call, captures dropped at its end or while it unwinds, inside
//!   `catch_unwind`), or dropped without running (struct fields drop in
//!   declaration order);
//! - the sender exists once, inside the task; the caller owns the only
//!   receiver and does not let go of [`call`]'s frame until `recv` has
//!   reported the channel *disconnected*, which happens only after the
//!   sender has been dropped, hence after `f` is gone (see [`Waiter`]);
//! - that wait is done by a value's `Drop`, so it also happens when
//!   `submit` panics;
//! - the result `T` (which may borrow too) travels through the same
//!   channel and is taken by the caller; the channel's memory is freed by
//!   whichever side lets go last, after no `T` is left in it;
//! - a job that is never run nor dropped (leaked in a queue that nobody
//!   drains) would block the caller forever: never unsound, and the pool
//!   never leaks a job (a worker's queue is dropped when the worker ends,
//!   dropping what it held).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// A job for a worker thread.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// What the closure returned, or the payload of its panic.
pub(crate) type Outcome<T> = Result<T, Box<dyn Any + Send + 'static>>;

/// The closure and the way back to the caller. Field order matters: `f`
/// is dropped before `reply`.
struct Task<F, T> {
    f: Option<F>,
    reply: SyncSender<Outcome<T>>,
}

impl<F: FnOnce() -> T, T> Task<F, T> {
    fn run(mut self) {
        if let Some(f) = self.f.take() {
            let outcome = catch_unwind(AssertUnwindSafe(f));
            // The receiver lives until the sender is gone (see `Waiter`).
            let _ = self.reply.send(outcome);
        }
        // `self` is dropped here: `f` (already `None`), then `reply`.
    }
}

/// Owns the receiver; dropping it waits until the sender is gone.
struct Waiter<T> {
    rx: Receiver<Outcome<T>>,
    outcome: Option<Outcome<T>>,
}

impl<T> Waiter<T> {
    /// Waits until the task has been run or dropped.
    fn wait(&mut self) {
        // `recv` returns each value sent, then `Err` once the sender is
        // dropped (and never before): after the task is gone.
        while let Ok(o) = self.rx.recv() {
            self.outcome = Some(o);
        }
    }
}

impl<T> Drop for Waiter<T> {
    fn drop(&mut self) {
        self.wait();
    }
}

/// Runs `f` through `submit`, which receives a `'static` job that runs it
/// and must send the job to a thread that runs it, or drop it. Returns
/// `submit`'s result and `f`'s outcome (`None` when the job was dropped
/// without running). Does not return or unwind before the job has run or
/// been dropped, with every capture of `f` dropped.
pub(crate) fn call<'a, T, F, R>(f: F, submit: impl FnOnce(Job) -> R) -> (R, Option<Outcome<T>>)
where
    F: FnOnce() -> T + Send + 'a,
    T: Send + 'a,
{
    let (reply, rx) = sync_channel::<Outcome<T>>(1);
    let mut waiter = Waiter { rx, outcome: None };
    let task = Task { f: Some(f), reply };
    let job: Box<dyn FnOnce() + Send + 'a> = Box::new(move || task.run());
    // SAFETY: this only widens the lifetime bound of the trait object
    // (`'a` to `'static`); the layout of the two box types is the same.
    // Nothing borrowed for `'a` is used after `'a` ends: `waiter`, declared
    // before `job` is handed out, blocks this frame (on return and on
    // unwind from `submit`) until the job's single reply sender is dropped,
    // which is after `f` and all its captures are dropped (field order of
    // `Task`); see the module documentation for the whole argument.
    let job: Job = unsafe {
        std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, Box<dyn FnOnce() + Send + 'static>>(
            job,
        )
    };
    let r = submit(job);
    waiter.wait();
    let outcome = waiter.outcome.take();
    (r, outcome)
}
