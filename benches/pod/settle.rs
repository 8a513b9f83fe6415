//! The settled end of a teardown: the moment the kernel has finished
//! destroying every namespace of the network (their devices, the host-side
//! veth ends among them, unregistered), not just the moment the namespace
//! files were unmounted.
//!
//! Deleting a named namespace only drops a reference; the kernel destroys
//! the namespace later, on its `netns` workqueue (`cleanup_net`): it takes
//! the namespace's ids back (sending `RTM_DELNSID` to every namespace that
//! had given it one), waits for an RCU grace period, unregisters all of its
//! devices in one batch, then waits for the RCU callbacks. Nothing in a
//! dying namespace can be watched from inside it (a socket there would keep
//! it alive), so the watch runs from the bench's own namespace:
//!
//! 1. before the teardown (untimed), the bench namespace gives every
//!    namespace of the network an id (`RTM_NEWNSID`), and a *probe*
//!    namespace is made with a veth pair whose other end (`settle0`) is in
//!    the bench namespace;
//! 2. after the contender's teardown returns, the clock keeps running until
//!    an `RTM_DELNSID` has come for every id (each namespace has reached
//!    `cleanup_net`);
//! 3. then the probe namespace is dropped, and the clock stops when the
//!    kernel deletes `settle0` (`RTM_DELLINK`): the workqueue is ordered
//!    (one `cleanup_net` at a time), so the probe's destruction begins only
//!    after the run(s) that destroyed the network ended, RCU callbacks
//!    included.
//!
//! The probe's own destruction (up to its device's deletion) is included;
//! [`Settle::probe_alone`] measures it with nothing else queued, and the
//! bench reports it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nslink::monitor::{Event, Monitor, MonitorGroups};
use nslink::{NetNs, NsidRequest, RouteSocket, VethPair};

use crate::Res;

/// The probe's end in the bench namespace.
const PROBE: &str = "settle0";
/// Its peer in the probe namespace.
const PROBE_PEER: &str = "settle1";
/// How long the kernel may take before the bench gives up.
const LIMIT: Duration = Duration::from_secs(20);

/// The watch: a socket and a monitor in the bench's namespace.
pub struct Settle {
    nl: RouteSocket,
    mon: Monitor,
}

/// One armed watch: the ids given out and the probe.
pub struct Armed {
    ids: BTreeSet<i32>,
    probe: NetNs,
}

impl Settle {
    /// Opens the watch in the calling thread's namespace.
    pub fn new() -> Res<Settle> {
        Ok(Settle {
            nl: RouteSocket::open()?,
            mon: Monitor::open(MonitorGroups::NSID | MonitorGroups::LINK)?,
        })
    }

    /// Gives every namespace of `paths` an id here, and makes the probe.
    /// Untimed; the namespace descriptors are closed again before it
    /// returns.
    pub fn arm(&mut self, paths: &[String]) -> Res<Armed> {
        let mut ids = BTreeSet::new();
        for p in paths {
            let ns = NetNs::open_path(p)?;
            let id = match self.nl.netns_id(&ns)? {
                Some(id) => id,
                None => self.nl.set_netns_id(&ns, NsidRequest::Auto)?,
            };
            ids.insert(id);
        }
        let probe = NetNs::new()?;
        drop(VethPair::builder(PROBE, PROBE_PEER).peer_netns(&probe).create(&self.nl)?);
        // Forget what arming announced.
        while self.mon.try_next()?.is_some() {}
        Ok(Armed { ids, probe })
    }

    /// Waits until the kernel has destroyed every namespace of `armed`,
    /// then destroys the probe and waits for that too.
    pub fn wait(&mut self, armed: Armed) -> Res<()> {
        let Armed { mut ids, probe } = armed;
        let deadline = Instant::now() + LIMIT;
        while !ids.is_empty() {
            match self.next(deadline, &ids)? {
                Event::NsIdRemoved(id) => {
                    ids.remove(&id);
                }
                _ => continue,
            }
        }
        drop(probe);
        self.wait_probe(deadline)
    }

    /// The probe's destruction alone: made (untimed), dropped, and waited
    /// for.
    pub fn probe_alone(&mut self) -> Res<Duration> {
        let armed = self.arm(&[])?;
        let t = Instant::now();
        self.wait(armed)?;
        Ok(t.elapsed())
    }

    fn wait_probe(&mut self, deadline: Instant) -> Res<()> {
        loop {
            if let Event::LinkRemoved(l) = self.next(deadline, &BTreeSet::new())?
                && *l.name() == PROBE
            {
                return Ok(());
            }
        }
    }

    fn next(&mut self, deadline: Instant, waiting: &BTreeSet<i32>) -> Res<Event> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.mon.next_timeout(Some(left))? {
            Some(n) => Ok(n.event),
            None => Err(format!(
                "not settled after {LIMIT:?}: namespaces with ids {waiting:?} were not destroyed"
            )
            .into()),
        }
    }
}
