//! Worker threads for the short jobs that must happen in another network
//! namespace: make a namespace (`unshare(2)`), open a socket inside one
//! (`setns(2)` then `socket(2)`).
//!
//! Starting a thread for every such job costs more than the job's own system
//! calls (a thread start is 30–90 µs here). So nslink keeps a small,
//! process-wide pool of idle workers. The rules:
//! - **bounded**: at most [`MAX_IDLE`] workers wait idle; an idle worker
//!   ends after [`IDLE_TIMEOUT`]. A job that finds no idle worker starts
//!   one. Busy workers are exactly the jobs in flight, each with its caller
//!   blocked on it, so a pool of 512 threads calling nslink never leaves
//!   512 hidden threads behind;
//! - **exclusive**: a worker runs one caller's job at a time; there is no
//!   queue in which a job could be lost;
//! - **home first, reply second**: after a job, the worker returns to the
//!   pool's home namespace (setns(2) on the pool's descriptor of it: its
//!   success is the proof of arrival)
//!   *before* it answers, so when the caller gets its answer, no worker is still inside
//!   the job's namespace (it is not pinned by a thread);
//! - **never reused elsewhere**: a worker that cannot return home (in a user
//!   namespace that does not own the home namespace, setns back is refused)
//!   answers, ends, and is joined by its caller before the caller returns;
//! - **home is a true home**: the pool's home is the *true home* of the
//!   thread that started the pool (where that thread will be once its
//!   guards are gone), never a namespace it merely entered with a guard; it
//!   is let go, together with the last worker, when the pool falls idle;
//! - a job only moves a worker's *network* namespace and opens descriptors;
//!   anything path-based (bind mounts) is done by the caller on its own
//!   thread, so the caller's mount namespace applies;
//! - after `fork` the child does not use the parent's pool (its threads are
//!   not in the child): every job gets a worker of its own, joined after;
//! - **a caller's closure** ([`NetNs::run`](super::NetNs::run), [`Fit::Caller`])
//!   runs only on a worker that shares the caller's `fs_struct` and
//!   descriptor table (kcmp(2), before the job), and the worker is reused
//!   only if it still shares them after the job and holds no nslink guard;
//!   otherwise it ends and is joined like a worker that cannot go home.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

use nix::sched::CloneFlags;
use nix::unistd::{Pid, gettid};

use super::forkgen::Birth;
use super::guard::{clean_after_job, true_home};
use super::kcmp::{Shared, same};
use super::scoped::{self, Job};
use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::sys::setns;

/// How many workers may wait idle at once.
pub const MAX_IDLE: usize = 4;
/// How long an idle worker waits for a job before it ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_millis(500);
/// What a job needs from the worker that runs it, besides starting at home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Only the network namespace matters (nslink's own jobs: `unshare`, a
    /// socket): any worker will do.
    Net,
    /// A caller's closure: the worker must share the file-system context
    /// (mount namespace, root, cwd, umask) and the descriptor table of the
    /// calling thread, whose id this is, as a thread it started would.
    Caller(Pid),
}

impl Fit {
    /// The calling thread's closure.
    pub(crate) fn caller() -> Fit {
        thread_local! {
            // A thread's id never changes. A child of `fork` inherits the
            // forking thread's copy, but does not use the pool (see
            // `dispatch`), so no stale id reaches kcmp(2).
            static TID: Pid = gettid();
        }
        Fit::Caller(TID.with(|t| *t))
    }
}

/// A job and what it needs.
struct Work {
    job: Job,
    fit: Fit,
}

/// What a worker sends back after a job: whether it made it home (and may
/// run another job).
struct Done {
    reusable: bool,
}

struct Worker {
    id: u64,
    /// The worker's thread id, for kcmp(2).
    tid: Pid,
    jobs: mpsc::Sender<Work>,
    done: mpsc::Receiver<Done>,
    thread: thread::JoinHandle<()>,
}

struct Home {
    fd: OwnedFd,
}

struct Pool {
    home: Option<Arc<Home>>,
    idle: Vec<Worker>,
    /// Workers alive (idle or busy), to let `home` go with the last one.
    alive: usize,
    next_id: u64,
}

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Pool { home: None, idle: Vec::new(), alive: 0, next_id: 1 }))
}

fn lock(p: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    // A panic while the lock is held cannot leave the pool inconsistent:
    // every update is a single push, pop or counter change.
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process the pool was first used in (see [`Birth`]); read without the
/// pool's lock, so a forked child never waits on a lock held by a thread it
/// does not have.
static POOL_BIRTH: Birth = Birth::new();

/// Whether this process is a child forked after the pool was first used
/// (then the pool's workers are not in it). No system call when the fork
/// generation is known; never waits.
fn forked() -> bool {
    POOL_BIRTH.forked_since()
}

fn thread_object() -> Object {
    Object::unnamed(ObjectKind::Thread).with_detail("(nslink worker)")
}

/// Statistics of the pool, for tests and curious callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers alive: idle ones plus those running a job.
    pub alive: usize,
    /// Idle workers.
    pub idle: usize,
}

/// The pool's current size.
pub fn pool_stats() -> PoolStats {
    if forked() {
        return PoolStats { alive: 0, idle: 0 };
    }
    let p = lock(pool());
    PoolStats { alive: p.alive, idle: p.idle.len() }
}

fn start_worker(home: Arc<Home>, id: u64, pooled: bool) -> std::io::Result<Worker> {
    let (jobs, queue) = mpsc::channel::<Work>();
    let (done_tx, done) = mpsc::channel::<Done>();
    let (tid_tx, tid_rx) = mpsc::sync_channel::<Pid>(1);
    let thread = thread::Builder::new().name("nslink-worker".into()).spawn(move || {
        let me = gettid();
        let _ = tid_tx.send(me);
        drop(tid_tx);
        // A new thread starts wherever its creator was (maybe inside a
        // guard): go home before anything else.
        let mut at_home = go_home(&home);
        loop {
            let work = if pooled {
                match recv_soon(&queue).map_or_else(|| queue.recv_timeout(IDLE_TIMEOUT), Ok) {
                    Ok(work) => work,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if retire_if_idle(id) {
                            return;
                        }
                        // A caller took this worker just now: its job comes.
                        match queue.recv() {
                            Ok(work) => work,
                            Err(_) => break,
                        }
                    }
                }
            } else {
                match queue.recv() {
                    Ok(work) => work,
                    Err(_) => break,
                }
            };
            (work.job)();
            // Always: the cached home descriptor must go even if the rest fails.
            let clean = clean_after_job();
            at_home = at_home && go_home(&home);
            let reusable = at_home && clean && still_fits(me, work.fit);
            if done_tx.send(Done { reusable }).is_err() || !reusable {
                break;
            }
        }
        if pooled {
            forget_worker();
        }
    })?;
    let tid = match tid_rx.recv() {
        Ok(tid) => tid,
        Err(_) => {
            // The thread ended before it said who it is (it cannot).
            let _ = thread.join();
            return Err(std::io::Error::other("nslink worker ended at start"));
        }
    };
    Ok(Worker { id, tid, jobs, done, thread })
}

/// Whether worker `me` may still run `fit`'s kind of job after one: for a
/// caller's closure, it must still share the caller's file-system context
/// (the closure may have unshared it, and with it maybe made a mount
/// namespace that must not outlive the call). A closure that unshared the
/// descriptor table is not looked for here: no other thread shares the new
/// table, so the check before each job never picks such a worker again,
/// and it ends after [`IDLE_TIMEOUT`].
fn still_fits(me: Pid, fit: Fit) -> bool {
    match fit {
        Fit::Net => true,
        Fit::Caller(caller) => same(me, caller, Shared::Fs).unwrap_or(false),
    }
}

/// `fs_struct` and descriptor table shared by threads `a` and `b`.
fn shares_context(a: Pid, b: Pid) -> bool {
    same(a, b, Shared::Fs).unwrap_or(false) && same(a, b, Shared::Files).unwrap_or(false)
}

/// Moves the worker home. The proof that it arrived is the one
/// [`NsGuard`](super::NsGuard) uses: a descriptor always refers to the
/// namespace it was opened on (each worker keeps the one it was started
/// with), and setns(2) on it succeeds only by moving the
/// thread into exactly that namespace. Reading `/proc/thread-self/ns/net`
/// back would prove nothing more and cost a system call per job.
fn go_home(home: &Home) -> bool {
    setns(home.fd.as_fd(), CloneFlags::CLONE_NEWNET).is_ok()
}

/// Called by an idle worker whose wait timed out: leaves the idle list if it
/// is still on it. `false` means a caller has taken it.
fn retire_if_idle(id: u64) -> bool {
    let mut p = lock(pool());
    match p.idle.iter().position(|w| w.id == id) {
        Some(i) => {
            // Dropping our own entry closes nothing we still need: this
            // thread is about to end and the caller side is gone.
            let me = p.idle.swap_remove(i);
            p.alive -= 1;
            if p.alive == 0 {
                p.home = None;
            }
            drop(p);
            // Our own JoinHandle: dropping it detaches this thread.
            drop(me);
            true
        }
        None => false,
    }
}

/// A pooled worker that ends outside `retire_if_idle` (it could not go
/// home, or its channel closed) leaves the count.
fn forget_worker() {
    let mut p = lock(pool());
    p.alive = p.alive.saturating_sub(1);
    if p.alive == 0 {
        p.home = None;
    }
}

/// Takes an idle worker that fits, or starts one (on the calling thread,
/// so that it shares the caller's context).
fn take_worker(op: Op, fit: Fit) -> Result<Worker> {
    let mut p = lock(pool());
    let found = match fit {
        Fit::Net => p.idle.len().checked_sub(1),
        // The most recently used first: the likeliest to fit.
        Fit::Caller(caller) => p.idle.iter().rposition(|w| shares_context(caller, w.tid)),
    };
    if let Some(i) = found {
        return Ok(p.idle.remove(i));
    }
    let home = match &p.home {
        Some(h) => h.clone(),
        None => {
            let fd = true_home().map_err(|e| Error::os(op, thread_object(), e))?;
            let h = Arc::new(Home { fd });
            p.home = Some(h.clone());
            h
        }
    };
    let id = p.next_id;
    p.next_id += 1;
    let w = start_worker(home, id, true).map_err(|e| Error::io(op, thread_object(), &e))?;
    p.alive += 1;
    Ok(w)
}

/// Hands `job` to a worker that fits and waits until the worker is home
/// again (or has ended and been joined). `Err` only when the job could not
/// be handed over; it is dropped then.
fn dispatch(op: Op, object: &Object, fit: Fit, job: Job) -> Result<()> {
    if forked() {
        return run_alone(op, job);
    }
    let worker = take_worker(op, fit)?;
    if let Err(mpsc::SendError(work)) = worker.jobs.send(Work { job, fit }) {
        // The worker ended between being taken and being used (it cannot:
        // idle workers only end after leaving the idle list).
        drop(work);
        drop(worker.jobs);
        let _ = worker.thread.join();
        return Err(Error::ThreadLost { op, object: object.clone() });
    }
    match recv_soon(&worker.done).map_or_else(|| worker.done.recv().map_err(|_| ()), Ok) {
        Ok(Done { reusable: true }) => {
            // The most recently used workers stay: with the idle list full,
            // the oldest idle worker makes room (it may belong to a thread
            // that is gone, in a context no caller shares any more).
            let mut p = lock(pool());
            let oldest = if p.idle.len() >= MAX_IDLE { Some(p.idle.remove(0)) } else { None };
            p.idle.push(worker);
            drop(p);
            if let Some(old) = oldest {
                // Closing its queue ends it; it is home, so it pins nothing.
                drop(old.jobs);
                let _ = old.thread.join();
            }
        }
        _ => {
            // It could not go home, or the job changed it: it ends now;
            // wait until it has, so that it holds no namespace once we
            // return.
            drop(worker.jobs);
            let _ = worker.thread.join();
        }
    }
    Ok(())
}

/// How many times [`recv_soon`] looks before the caller blocks.
const SOON_POLLS: u32 = 64;

/// A message that is about to arrive, taken without going to sleep: polls
/// `rx`, yielding the CPU between polls (so that on a busy CPU the thread
/// being waited for runs), for at most [`SOON_POLLS`] polls (a few tens of
/// µs). `None`: nothing yet (the caller then blocks), or the sender is gone
/// (the caller's blocking receive then says so).
///
/// Why: a worker hand-off is two wake-ups, and on a virtual machine waking
/// a thread whose CPU has gone idle costs tens of µs (the idle vCPU must be
/// brought back by the hypervisor), four times what the hand-off costs
/// when both threads keep their CPUs busy: measured, `run` took ~50 µs
/// with blocking receives on an idle 2-vCPU VM, ~12 µs with these polls.
fn recv_soon<T>(rx: &mpsc::Receiver<T>) -> Option<T> {
    for _ in 0..SOON_POLLS {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => thread::yield_now(),
        }
    }
    None
}

/// After `fork`: one new thread for one job, joined before returning.
fn run_alone(op: Op, job: Job) -> Result<()> {
    let t = thread::Builder::new()
        .name("nslink-worker".into())
        .spawn(job)
        .map_err(|e| Error::io(op, thread_object(), &e))?;
    let _ = t.join();
    Ok(())
}

/// Runs `job` on a worker that fits `fit` and returns its result; `job` may
/// borrow from the caller (see [`scoped`]). The job starts in the pool's
/// home namespace and may move the worker; the worker is back home (or
/// gone) by the time this returns. A panic in `job` is re-raised here with
/// its payload.
pub(crate) fn run_on_worker<'a, T: Send + 'a>(
    op: Op,
    object: &Object,
    fit: Fit,
    job: impl FnOnce() -> Result<T> + Send + 'a,
) -> Result<T> {
    // A fault plan (tests only) follows the job to the worker; the pool's
    // own bookkeeping on this thread runs without it.
    let (job, _caller_plan) = crate::sys::fault::hand_over(job);
    let (handed, outcome) = scoped::call(job, |job| dispatch(op, object, fit, job));
    handed?;
    match outcome {
        Some(Ok(r)) => r,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => Err(Error::ThreadLost { op, object: object.clone() }),
    }
}

/// [`run_on_worker`] for nslink's own jobs, which only need the network
/// namespace.
pub(crate) fn run_on_helper<T: Send + 'static>(
    op: Op,
    object: &Object,
    job: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    run_on_worker(op, object, Fit::Net, job)
}
