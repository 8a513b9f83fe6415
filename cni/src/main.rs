//! `nslink-bridge`: a CNI plugin (CNI specification 0.3.0 to 1.1.0) that
//! connects a pod to a Linux bridge on the node, like the reference `bridge`
//! plugin and with its configuration, built on nslink.
//!
//! A container runtime runs it once per operation: `CNI_COMMAND` (ADD, DEL,
//! CHECK, VERSION, STATUS, GC) and the other `CNI_*` variables in the
//! environment, the network configuration on stdin, the result (or a CNI
//! error) on stdout. See `cni/README.md`.

mod add;
mod conf;
mod ipam;
mod lock;
mod masq;
mod names;
mod nft;
mod plugin;
mod trace;

/// The library tests' sandbox (own network and mount namespaces, a tmpfs
/// on `/run`), for the unit tests that change the node.
#[cfg(test)]
#[path = "../../tests/common/sandbox.rs"]
#[allow(dead_code)]
mod test_sandbox;

use std::io::{Read, Write};
use std::process::ExitCode;

use rscni_types::error::Error;
use rscni_types::types::{Cmd, ErrorResult};
use rscni_types::version::{PluginInfo, SpecVersion};

fn main() -> ExitCode {
    trace::mark("main");
    let mut stdin = Vec::new();
    let command = std::env::var("CNI_COMMAND").unwrap_or_default();
    // Until the configuration is read, errors are reported under the
    // newest version this plugin speaks.
    let mut version = SpecVersion::CURRENT;
    let outcome = match command.parse::<Cmd>() {
        Err(e) => Err(e),
        Ok(cmd) => match std::io::stdin().read_to_end(&mut stdin) {
            Err(e) => {
                Err(Error::IOFailure(format!("cannot read the configuration from stdin: {e}")))
            }
            Ok(_) => run(cmd, &stdin, &mut version),
        },
    };
    trace::mark("done");
    let mut out = std::io::stdout().lock();
    match outcome {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(json)) => match out.write_all(json.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        Err(e) => {
            let body = serde_json::to_string(&ErrorResult::new(version, &e)).unwrap_or_else(|_| {
                format!(r#"{{"code":{},"msg":"cannot encode the error"}}"#, u32::from(&e))
            });
            let _ = out.write_all(body.as_bytes());
            let _ = out.flush();
            ExitCode::FAILURE
        }
    }
}

/// One operation: the JSON to print on success, if the operation prints
/// anything.
fn run(cmd: Cmd, stdin: &[u8], version: &mut SpecVersion) -> Result<Option<String>, Error> {
    if cmd == Cmd::Version {
        let info = PluginInfo::default();
        return serde_json::to_string(&info)
            .map(Some)
            .map_err(|e| Error::IOFailure(format!("cannot encode the version report: {e}")));
    }
    let inv = plugin::Invocation::from_env(cmd, stdin, version)?;
    trace::mark("parsed");
    match cmd {
        Cmd::Add => add::add(&inv).map(Some),
        Cmd::Del => plugin::del(&inv).map(|()| None),
        Cmd::Check => plugin::check(&inv).map(|()| None),
        Cmd::Status => plugin::status(&inv).map(|()| None),
        Cmd::Gc => plugin::gc(&inv).map(|()| None),
        Cmd::Version => Ok(None),
    }
}
