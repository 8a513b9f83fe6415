//! The node-wide lock around bridge set-up, IPAM and nftables updates, like
//! the reference plugin's: an exclusive flock(2) on a file per bridge under
//! `/run/nslink-bridge`. The kernel releases it when the process exits, a
//! `kill -9` included, so a crash never leaves it held.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use nix::fcntl::{Flock, FlockArg};
use rscni_types::error::Error;

/// The directory of the lock files.
pub const LOCK_DIR: &str = "/run/nslink-bridge";

/// Held until dropped.
#[derive(Debug)]
pub struct Lock {
    _held: Flock<File>,
}

/// Waits for and takes the lock of `bridge`.
pub fn acquire(bridge: &str) -> Result<Lock, Error> {
    take(format!("{LOCK_DIR}/{bridge}.lock"))
}

/// Waits for and takes the lock of the nftables table, which every bridge
/// shares: a change to it is decided on a read of it (the last attachment
/// removed takes the table along), so changes by plugins working on
/// different bridges must not interleave. Taken after a bridge's lock,
/// never before. The file's name has a `:`, which no interface name has,
/// so it is no bridge's.
pub fn acquire_nftables() -> Result<Lock, Error> {
    take(format!("{LOCK_DIR}/nftables:masq.lock"))
}

fn take(path: String) -> Result<Lock, Error> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        crate::plugin::system(format!("cannot {what} the lock file {path}: {e}"))
    };
    if let Err(e) = fs::DirBuilder::new().recursive(true).mode(0o700).create(LOCK_DIR) {
        return Err(fail("create the directory of", &e));
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| fail("open", &e))?;
    let held = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| fail("lock", &e))?;
    Ok(Lock { _held: held })
}
