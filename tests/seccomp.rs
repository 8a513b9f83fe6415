//! Fault injection into the *real* system calls: a child process installs
//! a seccomp filter (`SECCOMP_RET_ERRNO`, seccomp(2)) that makes one system
//! call fail, optionally only for one argument value (setns's `nstype`,
//! mount's flags, unshare's flags), then runs a real nslink operation and
//! reports what it saw: the typed error with the injected errno, nothing
//! left behind (no `/run/netns` entry, no mount in
//! `/proc/thread-self/mountinfo`), the thread in its home namespace.
//!
//! Each case runs in a child (this test binary, run again with
//! `NSLINK_SECCOMP_CASE=<case>`, entry point [`child_main`]): the filter is
//! put on every thread of the process (`SECCOMP_FILTER_FLAG_TSYNC`, so
//! nslink's idle workers too) and cannot be removed, so it must never reach
//! the test harness's process. In the child the body runs in
//! `common::sandbox` (root, or root of a user namespace), and the filter is
//! installed after the sandbox and the objects the case needs are set up.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use nix::libc;
use nslink::{Error, NetNs, NetnsDir, Op, RouteSocket};

// ---- the filter ----

/// Fails system call `nr` with `errno`, or only when argument `arg.0`
/// (its low 32 bits, masked with `arg.1`) equals `arg.2`.
#[derive(Debug, Clone, Copy)]
struct Rule {
    nr: libc::c_long,
    arg: Option<(u32, u32, u32)>,
    errno: i32,
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const AND_K: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

/// A compare that falls through on equality and jumps to `to` (an absolute
/// index) otherwise.
fn jeq_else(at: usize, k: u32, to: usize) -> libc::sock_filter {
    libc::sock_filter { code: JEQ_K, jt: 0, jf: (to - at - 1) as u8, k }
}

/// The BPF program for one rule: another architecture, another call or
/// another argument is allowed; the rule's call fails with its errno.
fn program(rule: Rule) -> Vec<libc::sock_filter> {
    // struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (the low
    // 32 bits first on a little-endian machine).
    let allow = if rule.arg.is_some() { 8 } else { 5 };
    let mut p = vec![
        stmt(LD_W_ABS, 4),
        jeq_else(1, AUDIT_ARCH, allow),
        stmt(LD_W_ABS, 0),
        jeq_else(3, rule.nr as u32, allow),
    ];
    if let Some((index, mask, value)) = rule.arg {
        p.push(stmt(LD_W_ABS, 16 + 8 * index));
        p.push(stmt(AND_K, mask));
        p.push(jeq_else(6, value, allow));
    }
    p.push(stmt(RET_K, libc::SECCOMP_RET_ERRNO | (rule.errno as u32 & libc::SECCOMP_RET_DATA)));
    p.push(stmt(RET_K, libc::SECCOMP_RET_ALLOW));
    assert_eq!(p.len(), allow + 1);
    p
}

/// Installs the rules on every thread of the process (`TSYNC`), and so on
/// the threads started from now on: nslink's idle pool workers, made
/// before the filter, get it too.
fn install(rules: &[Rule]) {
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(r, 0, "PR_SET_NO_NEW_PRIVS: {}", std::io::Error::last_os_error());
    for &rule in rules {
        let mut filter = program(rule);
        let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_mut_ptr() };
        // SAFETY: seccomp(2) reads `prog`, which points to `filter`, a live
        // array of `len` instructions; the kernel copies it during the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_TSYNC,
                &raw const prog,
            )
        };
        assert_eq!(r, 0, "seccomp(SET_MODE_FILTER, TSYNC): {}", std::io::Error::last_os_error());
    }
}

fn fail(nr: libc::c_long, errno: i32) -> Rule {
    Rule { nr, arg: None, errno }
}

fn fail_if(nr: libc::c_long, index: u32, mask: u32, value: u32, errno: i32) -> Rule {
    Rule { nr, arg: Some((index, mask, value)), errno }
}

// ---- the child's side ----

/// What a case saw, printed by the child as one `RESULT` line.
fn report(e: &Error, op: Op, errno: i32, extra: &[(&str, bool)]) -> String {
    let mut line = format!(
        "RESULT op_ok={} errno_ok={} error: {e};",
        e.op() == Some(op),
        e.raw_os_error() == Some(errno)
    );
    for (k, v) in extra {
        line.push_str(&format!(" {k}={v}"));
    }
    line
}

fn nothing_left(name: &str) -> Vec<(&'static str, bool)> {
    let entry = format!("/run/netns/{name}");
    vec![("no_entry", !Path::new(&entry).exists()), ("no_mount", mount_count(&entry) == 0)]
}

fn run_case(case: &str) -> String {
    sandbox(|| {
        let home = here();
        let home_ns = NetNs::current().expect("current");
        let ns = NetNs::new().expect("a namespace, made before the filter");
        let nl = RouteSocket::open().expect("a socket, opened before the filter");
        let line = match case {
            "mount-named-create" => {
                // Only the entry's bind mount (MS_BIND alone; the directory's
                // own are MS_BIND|MS_REC, MS_PRIVATE|MS_REC, MS_SHARED|MS_REC).
                install(&[fail_if(
                    libc::SYS_mount,
                    3,
                    u32::MAX,
                    libc::MS_BIND as u32,
                    libc::EACCES,
                )]);
                let e = NetnsDir::default().create("red").unwrap_err();
                report(&e, Op::CreateNamedNetns, libc::EACCES, &nothing_left("red"))
            }
            "setns-enter" => {
                let nstype = libc::CLONE_NEWNET as u32;
                install(&[fail_if(libc::SYS_setns, 1, u32::MAX, nstype, libc::EPERM)]);
                let e = ns.enter().unwrap_err();
                report(&e, Op::EnterNetns, libc::EPERM, &[])
            }
            "setns-run" => {
                install(&[fail(libc::SYS_setns, libc::EPERM)]);
                let mut ran = false;
                let e = ns.run(|| ran = true).unwrap_err();
                report(&e, Op::RunInNetns, libc::EPERM, &[("closure_not_run", !ran)])
            }
            "setns-open-in" => {
                install(&[fail(libc::SYS_setns, libc::EPERM)]);
                let e = RouteSocket::open_in(&ns).unwrap_err();
                report(&e, Op::EnterNetns, libc::EPERM, &[])
            }
            "send-dump" => {
                install(&[
                    fail(libc::SYS_sendto, libc::ECONNREFUSED),
                    fail(libc::SYS_sendmsg, libc::ECONNREFUSED),
                ]);
                let e = nl.links().unwrap_err();
                report(&e, Op::ListLinks, libc::ECONNREFUSED, &[])
            }
            "recv-dump" => {
                install(&[
                    fail(libc::SYS_recvfrom, libc::ENOBUFS),
                    fail(libc::SYS_recvmsg, libc::ENOBUFS),
                ]);
                let e = nl.links().unwrap_err();
                report(&e, Op::ListLinks, libc::ENOBUFS, &[])
            }
            "unshare-new" => {
                let flags = libc::CLONE_NEWNET as u32;
                install(&[fail_if(libc::SYS_unshare, 0, u32::MAX, flags, libc::ENOSPC)]);
                let e = NetNs::new().unwrap_err();
                let named = NetnsDir::default().create("red").unwrap_err();
                let mut extra = nothing_left("red");
                extra.push(("named_errno_ok", named.raw_os_error() == Some(libc::ENOSPC)));
                report(&e, Op::CreateNetns, libc::ENOSPC, &extra)
            }
            "umount-delete" => {
                let dir = NetnsDir::default();
                let red = dir.create("red").expect("create");
                install(&[fail(libc::SYS_umount2, libc::EBUSY)]);
                let e = dir.delete("red").unwrap_err();
                let still = dir.open("red").map(|n| n == red).unwrap_or(false);
                let extra = [
                    ("entry_kept", Path::new("/run/netns/red").exists()),
                    ("still_mounted", mount_count("/run/netns/red") == 1),
                    ("same_namespace", still),
                ];
                report(&e, Op::DeleteNetns, libc::EBUSY, &extra)
            }
            other => panic!("no seccomp case {other:?}"),
        };
        let home_ok = here() == home && NetNs::current().expect("current") == home_ns;
        format!("{line} home={home_ok}")
    })
}

/// The child's entry point: runs the case named by `NSLINK_SECCOMP_CASE`
/// and prints its `RESULT` line; without the variable (the ordinary test
/// run) it does nothing.
#[test]
fn child_main() {
    if let Ok(case) = std::env::var("NSLINK_SECCOMP_CASE") {
        println!("{}", run_case(&case));
    }
}

// ---- the parent's side ----

/// Runs `case` in a child and checks every `key=value` it reported is true.
fn check(case: &str) {
    require_root();
    let out = Command::new(std::env::current_exe().expect("current_exe"))
        .args(["--exact", "child_main", "--nocapture", "--test-threads=1"])
        .env("NSLINK_SECCOMP_CASE", case)
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{case}: child {:?}\n{stdout}\n{stderr}", out.status);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("{case}: no RESULT line\n{stdout}\n{stderr}"));
    for field in line.split(' ').filter(|f| f.ends_with("=true") || f.ends_with("=false")) {
        assert!(field.ends_with("=true"), "{case}: {field}\n{line}");
    }
    eprintln!("seccomp fault injected: {case}: {line}");
}

#[test]
fn mount_fails_during_named_create() {
    check("mount-named-create");
}

#[test]
fn setns_fails_during_enter() {
    check("setns-enter");
}

#[test]
fn setns_fails_during_run() {
    check("setns-run");
}

#[test]
fn setns_fails_during_open_in() {
    check("setns-open-in");
}

#[test]
fn send_fails_during_a_dump() {
    check("send-dump");
}

#[test]
fn recv_fails_during_a_dump() {
    check("recv-dump");
}

#[test]
fn unshare_fails_for_new_and_named_create() {
    check("unshare-new");
}

#[test]
fn umount_fails_during_delete() {
    check("umount-delete");
}
