//! The IPAM plugin, run as the specification's delegation says: found by
//! its `type` in the directories of `CNI_PATH`, exec'd with the same
//! environment and the same configuration on stdin, its result (or error)
//! read from stdout.
//!
//! One addition: when the IPAM plugin refuses the configuration's version
//! as too new (code 1; the host-local of containernetworking-plugins 1.1
//! stops at 1.0.0), the request is repeated with the newest version both
//! speak. The result layout of an IPAM plugin (`ips`, `routes`, `dns`) is
//! the same from 1.0.0 on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use rscni_types::error::Error;
use rscni_types::types::{CNIResult, Cmd, ErrorResult};
use rscni_types::version::{PluginInfo, SpecVersion};
use serde_json::Value;

use crate::plugin::{Invocation, system};

/// Finds the plugin `name` in `CNI_PATH`.
pub fn find(dirs: &[PathBuf], name: &str) -> Result<PathBuf, Error> {
    for d in dirs {
        let p = d.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::InvalidNetworkConfig(format!(
        "the IPAM plugin {name:?} is not in CNI_PATH ({})",
        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":")
    )))
}

/// A started IPAM plugin: its process and its name.
#[derive(Debug)]
pub struct Running {
    child: Child,
    name: String,
    plugin: PathBuf,
}

/// Starts `cmd` on the IPAM plugin with `config` on stdin and `env` set on
/// top of this process's environment.
fn spawn(plugin: &Path, cmd: Cmd, config: &[u8], env: &[(&str, &str)]) -> Result<Running, Error> {
    let name = plugin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut c = Command::new(plugin);
    c.env("CNI_COMMAND", <&str>::from(cmd))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    crate::trace::mark("ipam spawn");
    let mut child = c
        .spawn()
        .map_err(|e| system(format!("cannot run the IPAM plugin {}: {e}", plugin.display())))?;
    crate::trace::mark("ipam spawned");
    if let Some(mut stdin) = child.stdin.take() {
        // A plugin that exits without reading gives EPIPE: its own answer
        // says why. (The configuration is far smaller than a pipe's buffer.)
        let _ = stdin.write_all(config);
    }
    Ok(Running { child, name, plugin: plugin.to_path_buf() })
}

/// Waits for a started plugin: its stdout on success, its CNI error
/// (same code, its name in front) otherwise.
fn wait(r: Running) -> Result<Vec<u8>, Error> {
    let Running { child, name, .. } = r;
    let out = child
        .wait_with_output()
        .map_err(|e| system(format!("cannot read the answer of the IPAM plugin {name}: {e}")))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    match serde_json::from_slice::<ErrorResult>(&out.stdout) {
        Ok(r) => Err(prefixed(Error::from(r), &format!("IPAM plugin {name}"))),
        Err(_) => Err(system(format!(
            "the IPAM plugin {name} failed ({}) without a CNI error: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim()
        ))),
    }
}

/// Runs `cmd` on the IPAM plugin and waits for it.
fn exec(plugin: &Path, cmd: Cmd, config: &[u8], env: &[(&str, &str)]) -> Result<Vec<u8>, Error> {
    wait(spawn(plugin, cmd, config, env)?)
}

/// `e` with `who: ` in front of its text, same code.
pub fn prefixed(e: Error, who: &str) -> Error {
    match e {
        Error::IncompatibleVersion(d) => Error::IncompatibleVersion(format!("{who}: {d}")),
        Error::UnsupportedNetworkConfiguration(d) => {
            Error::UnsupportedNetworkConfiguration(format!("{who}: {d}"))
        }
        Error::NotExist(d) => Error::NotExist(format!("{who}: {d}")),
        Error::InvalidEnvValue(d) => Error::InvalidEnvValue(format!("{who}: {d}")),
        Error::IOFailure(d) => Error::IOFailure(format!("{who}: {d}")),
        Error::FailedToDecode(d) => Error::FailedToDecode(format!("{who}: {d}")),
        Error::InvalidNetworkConfig(d) => Error::InvalidNetworkConfig(format!("{who}: {d}")),
        Error::InvalidNetNS(d) => Error::InvalidNetNS(format!("{who}: {d}")),
        Error::TryAgainLater(d) => Error::TryAgainLater(format!("{who}: {d}")),
        Error::PluginNotAvailable(d) => Error::PluginNotAvailable(format!("{who}: {d}")),
        Error::PluginNotAvailableLimitedConnectivity(d) => {
            Error::PluginNotAvailableLimitedConnectivity(format!("{who}: {d}"))
        }
        Error::Custom(code, msg, d) => Error::Custom(code, format!("{who}: {msg}"), d),
        other => other,
    }
}

/// The configuration with `cniVersion` replaced.
fn with_version(raw: &Value, v: SpecVersion) -> Result<Vec<u8>, Error> {
    let mut raw = raw.clone();
    if let Some(obj) = raw.as_object_mut() {
        obj.insert("cniVersion".into(), Value::String(v.to_string()));
    }
    serde_json::to_vec(&raw).map_err(|e| system(format!("cannot encode the configuration: {e}")))
}

/// The newest version below `wanted` that the plugin reports.
fn fallback_version(plugin: &Path, wanted: SpecVersion) -> Option<SpecVersion> {
    let out = exec(plugin, Cmd::Version, b"{}", &[]).ok()?;
    let info: PluginInfo = serde_json::from_slice(&out).ok()?;
    info.supported_versions().iter().copied().filter(|v| *v < wanted && !v.is_legacy()).max()
}

/// Runs `cmd` for the invocation's attachment (or the one in `env`),
/// retrying once with an older version when the plugin finds the
/// configuration's too new.
fn call(inv: &Invocation, cmd: Cmd, env: &[(&str, &str)]) -> Result<Vec<u8>, Error> {
    let plugin = find(&inv.path, &inv.settings.ipam_type)?;
    match exec(&plugin, cmd, &inv.stdin, env) {
        Err(Error::IncompatibleVersion(d)) => retry_older(inv, &plugin, cmd, env, d),
        other => other,
    }
}

/// After the plugin refused the configuration's version (`detail`): the
/// same request in the newest older version it speaks, if any.
fn retry_older(
    inv: &Invocation,
    plugin: &Path,
    cmd: Cmd,
    env: &[(&str, &str)],
    detail: String,
) -> Result<Vec<u8>, Error> {
    if inv.version <= SpecVersion::new(1, 0, 0) {
        return Err(Error::IncompatibleVersion(detail));
    }
    match fallback_version(plugin, inv.version) {
        Some(v) => exec(plugin, cmd, &with_version(&inv.raw, v)?, env),
        None => Err(Error::IncompatibleVersion(detail)),
    }
}

/// Starts IPAM ADD, so that the caller can work while it runs; finish
/// with [`finish_add`].
pub fn start_add(inv: &Invocation) -> Result<Running, Error> {
    let plugin = find(&inv.path, &inv.settings.ipam_type)?;
    spawn(&plugin, Cmd::Add, &inv.stdin, &[])
}

/// Waits for a started IPAM ADD (retried with an older version if the
/// plugin finds the configuration's too new): the addresses, routes and
/// DNS for the attachment.
pub fn finish_add(inv: &Invocation, running: Running) -> Result<CNIResult, Error> {
    let plugin = running.plugin.clone();
    let out = match wait(running) {
        Err(Error::IncompatibleVersion(d)) => retry_older(inv, &plugin, Cmd::Add, &[], d)?,
        other => other?,
    };
    parse_add(inv, &out)
}

/// IPAM ADD, start to finish.
pub fn add(inv: &Invocation) -> Result<CNIResult, Error> {
    let out = call(inv, Cmd::Add, &[])?;
    parse_add(inv, &out)
}

fn parse_add(inv: &Invocation, out: &[u8]) -> Result<CNIResult, Error> {
    let result: CNIResult = serde_json::from_slice(out).map_err(|e| {
        Error::FailedToDecode(format!(
            "the result of the IPAM plugin {}: {e}: {}",
            inv.settings.ipam_type,
            String::from_utf8_lossy(out).trim()
        ))
    })?;
    if result.ips.is_empty() {
        return Err(system(format!(
            "the IPAM plugin {} gave no IP address",
            inv.settings.ipam_type
        )));
    }
    Ok(result)
}

/// IPAM DEL: releases the attachment's addresses (a missing allocation is
/// not an error for a conforming IPAM plugin).
pub fn del(inv: &Invocation) -> Result<(), Error> {
    call(inv, Cmd::Del, &[]).map(|_| ())
}

/// Starts IPAM DEL, so that the caller can work while it runs; finish
/// with [`finish_del`].
pub fn start_del(inv: &Invocation) -> Result<Running, Error> {
    let plugin = find(&inv.path, &inv.settings.ipam_type)?;
    spawn(&plugin, Cmd::Del, &inv.stdin, &[])
}

/// Waits for a started IPAM DEL (retried with an older version if the
/// plugin finds the configuration's too new).
pub fn finish_del(inv: &Invocation, running: Running) -> Result<(), Error> {
    let plugin = running.plugin.clone();
    match wait(running) {
        Err(Error::IncompatibleVersion(d)) => {
            retry_older(inv, &plugin, Cmd::Del, &[], d).map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// IPAM DEL for another attachment (GC).
pub fn del_other(inv: &Invocation, container_id: &str, ifname: &str) -> Result<(), Error> {
    call(inv, Cmd::Del, &[("CNI_CONTAINERID", container_id), ("CNI_IFNAME", ifname)]).map(|_| ())
}

/// IPAM CHECK.
pub fn check(inv: &Invocation) -> Result<(), Error> {
    call(inv, Cmd::Check, &[]).map(|_| ())
}

/// IPAM GC; `Ok(false)` when the IPAM plugin does not speak
/// specification 1.1 (which brought GC), as its VERSION reports.
pub fn gc(inv: &Invocation) -> Result<bool, Error> {
    let plugin = find(&inv.path, &inv.settings.ipam_type)?;
    let out = exec(&plugin, Cmd::Version, b"{}", &[])?;
    let info: PluginInfo = serde_json::from_slice(&out).map_err(|e| {
        Error::FailedToDecode(format!("the VERSION report of {}: {e}", inv.settings.ipam_type))
    })?;
    if !info.supported_versions().iter().any(|v| *v >= SpecVersion::new(1, 1, 0)) {
        return Ok(false);
    }
    exec(&plugin, Cmd::Gc, &inv.stdin, &[]).map(|_| true)
}
