//! The child process of the crash tests (`tests/crash.rs`): it makes and
//! deletes named namespaces in a loop until the test kills it with SIGKILL
//! at a random moment, and it recovers what a killed run left behind.
//!
//! ```text
//! crash-child recover DIR [PREFIX]   # remove every leftover entry (of PREFIX-*), print
//!                                    #   "recovered LIVE STALE", exit
//! crash-child loop DIR [N]           # recover, print "ready", then create/delete
//!                                    #   N times (default: until killed, at most 30 s)
//! ```
//!
//! Recovery is what a program restarted after a crash does with the
//! library, for each name in the directory: [`NetnsDir::delete`] (a
//! namespace still mounted there: a *live* leftover) and, when that says
//! the entry is stale (a file with nothing mounted on it: the crash came
//! between the placeholder and the mount, or between the unmount and the
//! unlink), [`NetnsDir::remove_stale`].
//!
//! The loop cycles through the ways a program makes and deletes a named
//! namespace: `create` + `delete` by name, `create_owned` + `delete` (by
//! identity), `create_owned` dropped (deleted on drop), and two names at
//! once. Any error ends the process with exit code 1 and the error on
//! stderr, which the test reports.
//!
//! It works in whatever namespaces it was started in: the test starts it
//! inside its sandbox (a private mount and network namespace with a tmpfs
//! on `/run`), never on the host's `/run/netns`.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nslink::NetnsDir;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Removes the leftovers of `dir` (only names starting with `prefix`):
/// returns (live, stale).
fn recover(dir: &NetnsDir, prefix: &str) -> Res<(usize, usize)> {
    let (mut live, mut stale) = (0, 0);
    for name in dir.list()? {
        if !name.as_str().starts_with(prefix) {
            continue;
        }
        match dir.delete(&name) {
            Ok(()) => live += 1,
            Err(e) if e.is_stale_entry() => {
                dir.remove_stale(&name)?;
                stale += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((live, stale))
}

/// One cycle of the loop, the `i`-th.
fn cycle(dir: &NetnsDir, i: u64) -> Res<()> {
    let name = format!("crash-{}", i % 4);
    match i % 4 {
        0 => {
            let ns = dir.create(name.as_str())?;
            drop(ns);
            dir.delete(name.as_str())?;
        }
        1 => dir.create_owned(name.as_str())?.delete()?,
        2 => drop(dir.create_owned(name.as_str())?),
        _ => {
            let a = dir.create_owned(name.as_str())?;
            let b = dir.create(format!("{name}-b").as_str())?;
            dir.delete_ns(&b)?;
            a.delete()?;
        }
    }
    Ok(())
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["recover", dir, rest @ ..] if rest.len() <= 1 => {
            let prefix = rest.first().copied().unwrap_or("");
            recover(&NetnsDir::new(*dir), prefix).map(|(live, stale)| {
                say(&format!("recovered {live} {stale}"));
            })
        }
        ["loop", dir, rest @ ..] if rest.len() <= 1 => {
            let dir = NetnsDir::new(*dir);
            let count = rest.first().map(|n| n.parse::<u64>());
            (|| -> Res<()> {
                let (live, stale) = recover(&dir, "")?;
                say(&format!("recovered {live} {stale}"));
                say("ready");
                let end = Instant::now() + Duration::from_secs(30);
                let mut i = 0;
                loop {
                    match &count {
                        Some(Ok(n)) if i >= *n => return Ok(()),
                        Some(Err(e)) => return Err(format!("bad count: {e}").into()),
                        None if Instant::now() > end => return Ok(()),
                        _ => {}
                    }
                    cycle(&dir, i)?;
                    i += 1;
                }
            })()
        }
        _ => Err("usage: crash-child recover DIR [PREFIX] | crash-child loop DIR [N]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash-child: {e}");
            ExitCode::FAILURE
        }
    }
}
