//! Deterministic fault injection for the system calls nslink's namespace
//! code makes (and for the netlink socket's `send`/`recv`).
//!
//! Every such call goes through a wrapper in `crate::sys` that first asks
//! `check` whether the call should fail. In a normal build (neither
//! `cfg(test)` nor the `fault-injection` feature) `check` is an inlined
//! `Ok(())` and `follow` returns its argument: the seam costs nothing.
//!
//! With the seam compiled in, a test builds a [`FaultPlan`] ("the 2nd
//! `mount` fails with `EPERM`") and installs it on its thread. The wrapper
//! then returns the planned errno *instead of* making the call, so a failure
//! injected before the first privileged step needs no privilege at all.
//!
//! # Whose plan applies
//! Unit tests run on parallel threads, so a plan belongs to the thread that
//! installed it: other tests never see it. Some calls of an operation run on
//! other threads (the worker pool of `netns::helper`, the thread of
//! [`NetNs::run`](crate::NetNs::run) and [`NetNs::spawn`](crate::NetNs::spawn)):
//! the plan *follows the job*. `follow` captures the submitting thread's
//! plan when the job is handed over and installs it on the thread that runs
//! the job, for the job and for whatever that thread does on its behalf right
//! after (a worker's return home). The next job on that worker brings its own
//! plan (or none). Counting is per plan, whatever thread made the call: "the
//! 2nd `setns`" is the plan's 2nd `setns`, on the caller or on its worker.
//!
//! A plan's rules are fixed when it is built and its counters are atomics,
//! so `check` takes no lock and allocates nothing: it is safe in a child
//! between `fork` and `exec` (`NetNs::command`), where it reads the plan the
//! forking thread had (the child's counts stay in the child).
//!
//! Every injected fault is also counted process-wide per [`Call`];
//! [`injected_total`] reads the counters, and the first injection arranges for
//! a summary line on stderr when the process exits (`nslink fault injection:
//! N faults injected: setns 12, mount 9, …`).
//!
//! ```
//! # #[cfg(feature = "fault-injection")] {
//! use nslink::fault::{Call, FaultPlan};
//! use nix::errno::Errno;
//!
//! // The second setns(2) made under this plan fails with EPERM.
//! let plan = FaultPlan::new().fail(Call::Setns, 2, Errno::EPERM);
//! let _on = plan.install();
//! // … run the code under test on this thread …
//! assert_eq!(plan.injected(Call::Setns), 0);
//! # }
//! ```

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;

pub use super::Call;

impl Call {
    /// Every class, in the order of the summary line.
    pub const ALL: [Call; 15] = [
        Call::Setns,
        Call::Unshare,
        Call::Mount,
        Call::Umount2,
        Call::Open,
        Call::Mkdir,
        Call::Mknod,
        Call::Unlink,
        Call::Stat,
        Call::Statfs,
        Call::Flock,
        Call::Ioctl,
        Call::Dup,
        Call::Send,
        Call::Recv,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The system call's name, as the summary line prints it.
    pub fn name(self) -> &'static str {
        match self {
            Call::Setns => "setns",
            Call::Unshare => "unshare",
            Call::Mount => "mount",
            Call::Umount2 => "umount2",
            Call::Open => "open",
            Call::Mkdir => "mkdir",
            Call::Mknod => "mknod",
            Call::Unlink => "unlink",
            Call::Stat => "stat",
            Call::Statfs => "statfs",
            Call::Flock => "flock",
            Call::Ioctl => "ioctl",
            Call::Dup => "dup",
            Call::Send => "send",
            Call::Recv => "recv",
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

const N: usize = Call::ALL.len();

/// One planned failure: calls `from..from + times` (1-based, counted per
/// plan and class) of `call` fail with `errno`.
#[derive(Debug, Clone, Copy)]
struct Rule {
    call: Call,
    from: u64,
    times: u64,
    errno: Errno,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<Rule>,
    calls: [AtomicU64; N],
    injected: [AtomicU64; N],
}

/// Which system calls fail, and how: a list of rules fixed when the plan is
/// built, and counters of the calls seen and the faults injected under it.
///
/// Cloning gives another handle to the same plan (same counters).
///
/// ```
/// # #[cfg(feature = "fault-injection")] {
/// use nix::errno::Errno;
/// use nslink::fault::{Call, FaultPlan};
///
/// // A delete whose unlink answers EBUSY three times, then succeeds.
/// let plan = FaultPlan::new().fail_times(Call::Unlink, 1, 3, Errno::EBUSY);
/// {
///     let _on = plan.install();
///     // nslink::NetnsDir::new("/tmp/ns").delete("red") would retry here
/// }
/// assert_eq!(plan.calls(Call::Unlink), 0);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FaultPlan(Arc<Inner>);

impl Default for FaultPlan {
    fn default() -> FaultPlan {
        FaultPlan::new()
    }
}

impl FaultPlan {
    /// A plan that fails nothing (it still counts the calls).
    pub fn new() -> FaultPlan {
        FaultPlan(Arc::new(Inner {
            rules: Vec::new(),
            calls: std::array::from_fn(|_| AtomicU64::new(0)),
            injected: std::array::from_fn(|_| AtomicU64::new(0)),
        }))
    }

    fn with_rule(self, rule: Rule) -> FaultPlan {
        let mut rules = self.0.rules.clone();
        rules.push(rule);
        FaultPlan(Arc::new(Inner {
            rules,
            calls: std::array::from_fn(|_| AtomicU64::new(0)),
            injected: std::array::from_fn(|_| AtomicU64::new(0)),
        }))
    }

    /// The `nth` call of class `call` (1-based) fails with `errno`.
    #[must_use]
    pub fn fail(self, call: Call, nth: u64, errno: Errno) -> FaultPlan {
        self.fail_times(call, nth, 1, errno)
    }

    /// Calls `nth .. nth + times` of class `call` fail with `errno`.
    #[must_use]
    pub fn fail_times(self, call: Call, nth: u64, times: u64, errno: Errno) -> FaultPlan {
        self.with_rule(Rule { call, from: nth.max(1), times, errno })
    }

    /// The `nth` call of class `call` and every later one fail with `errno`.
    #[must_use]
    pub fn fail_from(self, call: Call, nth: u64, errno: Errno) -> FaultPlan {
        self.fail_times(call, nth, u64::MAX, errno)
    }

    /// Installs the plan on the calling thread until the returned value is
    /// dropped (then the thread's previous plan, if any, is back).
    pub fn install(&self) -> Installed {
        let previous = CURRENT.with(|c| c.replace(Some(self.0.clone())));
        ARMED.with(|a| a.set(true));
        Installed { previous }
    }

    /// Runs `f` with the plan installed on the calling thread.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let _on = self.install();
        f()
    }

    /// How many calls of class `call` were made (or refused) under this plan.
    pub fn calls(&self, call: Call) -> u64 {
        self.0.calls[call.index()].load(Ordering::Relaxed)
    }

    /// How many of them this plan failed.
    pub fn injected(&self, call: Call) -> u64 {
        self.0.injected[call.index()].load(Ordering::Relaxed)
    }
}

impl Inner {
    fn hit(&self, call: Call) -> Result<(), Errno> {
        let n = self.calls[call.index()].fetch_add(1, Ordering::Relaxed) + 1;
        for r in &self.rules {
            if r.call == call && n >= r.from && n - r.from < r.times {
                self.injected[call.index()].fetch_add(1, Ordering::Relaxed);
                note(call);
                return Err(r.errno);
            }
        }
        Ok(())
    }
}

/// A plan installed on a thread; dropping it puts the previous one back.
#[must_use = "the plan is uninstalled when this is dropped"]
#[derive(Debug)]
pub struct Installed {
    previous: Option<Arc<Inner>>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let armed = previous.is_some();
        let _ = CURRENT.try_with(|c| c.replace(previous));
        let _ = ARMED.try_with(|a| a.set(armed));
    }
}

thread_local! {
    /// The plan of this thread, if any.
    static CURRENT: RefCell<Option<Arc<Inner>>> = const { RefCell::new(None) };
    /// Whether `CURRENT` may hold a plan: a `const` cell without a
    /// destructor, so that `check` on a thread without a plan (or in a
    /// forked child) touches nothing else.
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the next call of class `call` on this thread must fail, and with
/// which errno. Lock-free and allocation-free.
pub(crate) fn check(call: Call) -> Result<(), Errno> {
    if !ARMED.try_with(Cell::get).unwrap_or(false) {
        return Ok(());
    }
    CURRENT
        .try_with(|c| match c.try_borrow() {
            Ok(plan) => plan.as_ref().map_or(Ok(()), |p| p.hit(call)),
            Err(_) => Ok(()),
        })
        .unwrap_or(Ok(()))
}

/// The calling thread's plan (or none), to be adopted (`Carried::adopt`)
/// by the thread that runs a job for it.
pub(crate) fn carry() -> Carried {
    Carried(CURRENT.try_with(|c| c.borrow().clone()).ok().flatten())
}

/// A plan on its way to another thread (`carry`).
pub(crate) struct Carried(Option<Arc<Inner>>);

impl Carried {
    /// Installs the carried plan (or none) on the calling thread, for good:
    /// it stays after the job, for what the thread does on the job's
    /// behalf, until the thread's next job brings its own.
    pub(crate) fn adopt(self) {
        let armed = self.0.is_some();
        let _ = CURRENT.try_with(|c| c.replace(self.0));
        let _ = ARMED.try_with(|a| a.set(armed));
    }
}

/// Makes `job` run under the calling thread's plan (or under none, if the
/// caller has none), on whichever thread runs it. The plan stays installed
/// on that thread after the job, for what the thread does on the job's
/// behalf (a worker going home), until its next job.
pub(crate) fn follow<R, F: FnOnce() -> R>(job: F) -> impl FnOnce() -> R {
    let plan = carry();
    move || {
        plan.adopt();
        job()
    }
}

/// `follow` for a job handed to the worker pool, and the caller's plan
/// set aside until the returned guard is dropped: the pool's own
/// bookkeeping on the caller's thread (taking a worker, opening the pool's
/// home) is not part of the job, and whether it happens at all depends on
/// the pool's state, which tests running in parallel share. Counting only
/// the job's calls keeps "the 2nd setns" the same call in every run.
pub(crate) fn hand_over<R, F: FnOnce() -> R>(job: F) -> (impl FnOnce() -> R, Installed) {
    let job = follow(job);
    let previous = CURRENT.try_with(|c| c.replace(None)).ok().flatten();
    let _ = ARMED.try_with(|a| a.set(false));
    (job, Installed { previous })
}

/// Faults injected in this process, per class (every plan, and the fakes
/// that report through `note`).
static INJECTED: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

/// Counts one fault of class `call` injected outside a plan (the netlink
/// tests' fake transport), and arranges the summary line at exit.
pub(crate) fn note(call: Call) {
    INJECTED[call.index()].fetch_add(1, Ordering::Relaxed);
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(super::at_exit_report);
}

/// Faults injected in this process so far, per class.
pub fn injected_total() -> Vec<(Call, u64)> {
    Call::ALL.iter().map(|&c| (c, INJECTED[c.index()].load(Ordering::Relaxed))).collect()
}

/// The summary line: `nslink fault injection: 42 faults injected: setns 7,
/// mount 9, …` (classes with none are left out).
///
/// ```
/// # #[cfg(feature = "fault-injection")]
/// assert!(nslink::fault::summary().starts_with("nslink fault injection:"));
/// ```
pub fn summary() -> String {
    let all = injected_total();
    let total: u64 = all.iter().map(|(_, n)| n).sum();
    let parts: Vec<String> =
        all.iter().filter(|(_, n)| *n > 0).map(|(c, n)| format!("{c} {n}")).collect();
    format!("nslink fault injection: {total} faults injected: {}", parts.join(", "))
}
