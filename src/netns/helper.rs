//! A long-lived helper thread per calling thread, for the short jobs that
//! must happen in another network namespace (make a namespace, open a
//! socket inside one).
//!
//! Starting a thread for every such job costs more than the job's own system
//! calls (a namespace is made in ~0.4 ms; a thread start adds 40–90 µs). So
//! each calling thread gets one helper, started on first use, that runs jobs
//! one at a time and goes back to its home namespace after each. Rules:
//! - a job only moves the helper's *network* namespace and opens
//!   descriptors; anything path-based (bind mounts) is done by the caller
//!   on its own thread, so the caller's mount namespace always applies;
//! - if the helper cannot return home, it ends instead of running another
//!   job in the wrong namespace, and the next job starts a new helper;
//! - the helper belongs to the calling thread (a thread-local): it is told
//!   to stop and joined when that thread exits, so it never outlives, and
//!   never keeps alive, the namespaces of a thread that is gone.

use std::cell::RefCell;
use std::sync::mpsc;
use std::thread;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};

use super::open_thread_netns;
use crate::error::{Error, Op, Result};

type Job = Box<dyn FnOnce() + Send>;

struct Helper {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<thread::JoinHandle<()>>,
    /// The process that started it: after `fork`, the child inherits this
    /// value but not the thread.
    pid: u32,
}

impl Helper {
    fn start() -> std::io::Result<Helper> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = thread::Builder::new().name("nslink-helper".into()).spawn(move || {
            let Ok(home) = open_thread_netns() else { return };
            for job in queue {
                job();
                // Never run the next job elsewhere than home.
                if setns(&home, CloneFlags::CLONE_NEWNET).is_err() {
                    return;
                }
            }
        })?;
        Ok(Helper { jobs: Some(jobs), thread: Some(thread), pid: std::process::id() })
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        // Closing the queue ends the helper's loop; wait for it so that its
        // namespaces are released before the owning thread is gone.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

thread_local! {
    static HELPER: RefCell<Option<Helper>> = const { RefCell::new(None) };
}

/// Runs `job` on the calling thread's helper and returns its result. The
/// job starts in the helper's home namespace and may move it; it is moved
/// back afterwards.
pub(crate) fn run_on_helper<T: Send + 'static>(
    op: Op,
    object: &str,
    job: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (reply, answer) = mpsc::sync_channel::<Result<T>>(1);
    let mut job: Option<Job> = Some(Box::new(move || {
        let _ = reply.send(job());
    }));
    let queued = HELPER.try_with(|cell| -> Result<()> {
        let mut slot = cell.borrow_mut();
        // In a forked child the helper's thread does not exist: forget it
        // (there is nothing to join) and start a new one.
        if slot.as_ref().is_some_and(|h| h.pid != std::process::id())
            && let Some(stale) = slot.take()
        {
            std::mem::forget(stale);
        }
        // One retry: a helper that ended (it could not go home) is replaced.
        for _ in 0..2 {
            if slot.is_none() {
                *slot = Some(Helper::start().map_err(|e| Error::io(op, object, &e))?);
            }
            let (Some(jobs), Some(j)) = (slot.as_ref().and_then(|h| h.jobs.as_ref()), job.take())
            else {
                break;
            };
            match jobs.send(j) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(back)) => {
                    job = Some(back);
                    *slot = None;
                }
            }
        }
        Err(Error::os(op, object, Errno::ECHILD))
    });
    match queued {
        Ok(r) => r?,
        // The calling thread is exiting and its thread-locals are gone: run
        // this one job on a thread of its own, which ends right after.
        Err(_) => {
            if let Some(j) = job.take()
                && let Err(p) = thread::scope(|s| s.spawn(j).join())
            {
                std::panic::resume_unwind(p);
            }
        }
    }
    // Every job answers, unless it panicked.
    answer.recv().map_err(|_| Error::os(op, object, Errno::ECHILD))?
}
