//! Phase timestamps for measuring where an operation's time goes: with
//! `NSLINK_BRIDGE_TRACE` set in the environment, each [`mark`] prints
//! `nslink-bridge-trace MICROSECONDS LABEL` (wall clock, microseconds since
//! the epoch) on stderr. Off, a mark costs one relaxed load.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static STATE: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 off, 2 on

/// Prints `label` with the current time, when tracing is on.
pub fn mark(label: &str) {
    let on = match STATE.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var_os("NSLINK_BRIDGE_TRACE").is_some();
            STATE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        s => s == 2,
    };
    if on {
        let us = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
        eprintln!("nslink-bridge-trace {us} {label}");
    }
}
