//! nslink's [`Monitor`] on tokio: the library has no runtime of its own,
//! its monitor is a non-blocking descriptor, and tokio's `AsyncFd` waits
//! for it. (tokio is a dev-dependency of nslink, used by this example only.)
//!
//! ```text
//! cargo run --example monitor-tokio            # links and addresses, 30 s
//! ```
//!
//! The rule for edge-triggered readiness: call [`Monitor::try_next`] until
//! it returns `Ok(None)` (the socket is empty), and only then wait again.

use std::time::Duration;

use nslink::monitor::{Event, Monitor, MonitorGroups};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mon = Monitor::open(MonitorGroups::LINK | MonitorGroups::ADDRESS)?;
    // SAFETY: a `Monitor` owns its socket for its whole life and its
    // `as_raw_fd` always returns that one descriptor, which stays open
    // until the monitor (here: the `AsyncFd`) is dropped.
    let mut mon = unsafe { AsyncFd::register_with_interest(mon, Interest::READABLE) }
        .map_err(|e| e.into_parts().1)?;
    let watch = async {
        loop {
            // Everything there is now (the snapshot is there from the
            // start, before the socket was ever readable), without
            // blocking the runtime (except a resync's dump, which is short).
            while let Some(n) = mon.get_mut().try_next()? {
                show(n.event);
            }
            // `try_next` saw the socket empty: wait for the kernel.
            mon.readable_mut().await?.clear_ready();
        }
        #[allow(unreachable_code)]
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    tokio::select! {
        r = watch => r?,
        _ = tokio::time::sleep(Duration::from_secs(30)) => println!("done"),
    }
    Ok(())
}

fn show(event: Event) {
    match event {
        Event::Snapshot(s) => println!("start: {} links", s.links.len()),
        Event::Resync { snapshot, .. } => println!("resync: {} links", snapshot.links.len()),
        Event::LinkAdded(l) => println!("link {} added", l.index()),
        Event::LinkRemoved(l) => println!("link {} removed", l.index()),
        Event::AddressAdded(a) => println!("address {} added", a.net),
        Event::AddressRemoved(a) => println!("address {} removed", a.net),
        other => println!("{other:?}"),
    }
}
