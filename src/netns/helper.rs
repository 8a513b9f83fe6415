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
//!   pool's home namespace and checks by inode that it arrived *before* it
//!   answers, so when the caller gets its answer, no worker is still inside
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
//!   not in the child): every job gets a worker of its own, joined after.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

use nix::sched::CloneFlags;

use super::NsId;
use super::guard::true_home;
use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::sys::setns;

/// How many workers may wait idle at once.
pub const MAX_IDLE: usize = 4;
/// How long an idle worker waits for a job before it ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_millis(500);

type Job = Box<dyn FnOnce() + Send>;

/// What a worker sends back after a job: whether it made it home (and may
/// run another job).
struct Done {
    reusable: bool,
}

struct Worker {
    id: u64,
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Done>,
    thread: thread::JoinHandle<()>,
}

struct Home {
    fd: OwnedFd,
    id: NsId,
}

struct Pool {
    /// The process that made the pool (after `fork`, the child's pool is
    /// not used).
    pid: u32,
    home: Option<Arc<Home>>,
    idle: Vec<Worker>,
    /// Workers alive (idle or busy), to let `home` go with the last one.
    alive: usize,
    next_id: u64,
}

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        Mutex::new(Pool {
            pid: std::process::id(),
            home: None,
            idle: Vec::new(),
            alive: 0,
            next_id: 1,
        })
    })
}

fn lock(p: &Mutex<Pool>) -> MutexGuard<'_, Pool> {
    // A panic while the lock is held cannot leave the pool inconsistent:
    // every update is a single push, pop or counter change.
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Process id recorded when the pool was made; read without the lock so a
/// forked child never waits on a lock held by a thread it does not have.
static POOL_PID: OnceLock<u32> = OnceLock::new();

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
    if *POOL_PID.get_or_init(std::process::id) != std::process::id() {
        return PoolStats { alive: 0, idle: 0 };
    }
    let p = lock(pool());
    PoolStats { alive: p.alive, idle: p.idle.len() }
}

fn start_worker(home: Arc<Home>, id: u64, pooled: bool) -> std::io::Result<Worker> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let (done_tx, done) = mpsc::channel::<Done>();
    let thread = thread::Builder::new().name("nslink-worker".into()).spawn(move || {
        // A new thread starts wherever its creator was (maybe inside a
        // guard): go home before anything else.
        let mut at_home = go_home(&home);
        loop {
            let job = if pooled {
                match queue.recv_timeout(IDLE_TIMEOUT) {
                    Ok(job) => job,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if retire_if_idle(id) {
                            return;
                        }
                        // A caller took this worker just now: its job comes.
                        match queue.recv() {
                            Ok(job) => job,
                            Err(_) => break,
                        }
                    }
                }
            } else {
                match queue.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            };
            job();
            at_home = at_home && go_home(&home);
            if done_tx.send(Done { reusable: at_home }).is_err() || !at_home {
                break;
            }
        }
        if pooled {
            forget_worker();
        }
    })?;
    Ok(Worker { id, jobs, done, thread })
}

/// Moves the worker home and checks that it arrived.
fn go_home(home: &Home) -> bool {
    setns(home.fd.as_fd(), CloneFlags::CLONE_NEWNET).is_ok()
        // By path, not through a cached descriptor: a worker holds no
        // descriptor of its own between jobs.
        && crate::sys::stat("/proc/thread-self/ns/net")
            .is_ok_and(|st| NsId { dev: st.st_dev, ino: st.st_ino } == home.id)
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

/// Takes an idle worker, or starts one.
fn take_worker(op: Op) -> Result<Worker> {
    let mut p = lock(pool());
    if let Some(w) = p.idle.pop() {
        return Ok(w);
    }
    let home = match &p.home {
        Some(h) => h.clone(),
        None => {
            let fd = true_home().map_err(|e| Error::os(op, thread_object(), e))?;
            let id = super::fd_id(fd.as_fd()).map_err(|e| Error::os(op, thread_object(), e))?;
            let h = Arc::new(Home { fd, id });
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

/// Runs `job` on a worker and returns its result. The job starts in the
/// pool's home namespace and may move the worker; the worker is back home
/// (or gone) by the time this returns.
pub(crate) fn run_on_helper<T: Send + 'static>(
    op: Op,
    object: &Object,
    job: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (job, _caller_plan) = crate::sys::fault::hand_over(job);
    let (reply, answer) = mpsc::sync_channel::<std::thread::Result<Result<T>>>(1);
    let job: Job = Box::new(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        let _ = reply.send(r);
    });
    let forked = *POOL_PID.get_or_init(|| lock(pool()).pid) != std::process::id();
    if forked {
        return run_alone(op, object, job, answer);
    }
    let worker = take_worker(op)?;
    if let Err(mpsc::SendError(_job)) = worker.jobs.send(job) {
        // The worker ended between being taken and being used (it cannot:
        // idle workers only end after leaving the idle list).
        let _ = worker.thread.join();
        return Err(Error::ThreadLost { op, object: object.clone() });
    }
    let done = worker.done.recv();
    let result = answer.recv();
    match done {
        Ok(Done { reusable: true }) => {
            let mut p = lock(pool());
            if p.idle.len() < MAX_IDLE {
                p.idle.push(worker);
            } else {
                // Closing its queue ends it; it is home, so it pins nothing.
                drop(p);
                drop(worker.jobs);
                let _ = worker.thread.join();
            }
        }
        _ => {
            // It could not go home: it ends now; wait until it has, so that
            // it holds no namespace once we return.
            drop(worker.jobs);
            let _ = worker.thread.join();
        }
    }
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(Error::ThreadLost { op, object: object.clone() }),
    }
}

/// After `fork`: one worker for one job, joined before returning.
fn run_alone<T>(
    op: Op,
    object: &Object,
    job: Job,
    answer: mpsc::Receiver<std::thread::Result<Result<T>>>,
) -> Result<T> {
    let t = thread::Builder::new()
        .name("nslink-worker".into())
        .spawn(job)
        .map_err(|e| Error::io(op, thread_object(), &e))?;
    let _ = t.join();
    match answer.recv() {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => Err(Error::ThreadLost { op, object: object.clone() }),
    }
}
