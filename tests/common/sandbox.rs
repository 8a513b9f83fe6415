//! The sandbox every privileged test body runs in, shared by the library's
//! tests (`tests/common/mod.rs`) and the CNI plugin's (`cni/tests/common`,
//! which includes this file by path): a fresh thread with its own network
//! namespace and its own mount namespace, where `/` is recursively private
//! and `/run` is an empty tmpfs.

use std::fs;
use std::path::Path;
use std::thread;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

/// The message every test fails with when it is not run as root.
pub const NEED_ROOT: &str =
    "these tests need root (CAP_SYS_ADMIN, CAP_NET_ADMIN): run them as root";

/// Fails the test loudly unless it runs as root. Never skips.
pub fn require_root() {
    assert!(nix::unistd::geteuid().is_root(), "{NEED_ROOT}");
}

/// Runs `f` on a new thread inside a private network and mount namespace
/// with an empty tmpfs on `/run`, and returns its result. A panic in `f` is
/// re-raised here after the thread is gone (and with it every mount and
/// namespace it made).
pub fn sandbox<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    require_root();
    thread::scope(|s| {
        let handle = thread::Builder::new()
            .name("nslink-sandbox".into())
            .spawn_scoped(s, move || {
                enter_sandbox();
                f()
            })
            .expect("cannot start the sandbox thread");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Moves the calling thread (which must be a throwaway thread) into the
/// sandbox. Panics with the reason if any step fails, before anything could
/// reach the host.
fn enter_sandbox() {
    unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS)
        .expect("unshare(CLONE_NEWNET | CLONE_NEWNS) for the sandbox");
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .expect("make / recursively private in the sandbox");
    // Whatever the host has mounted under /run (an `ip netns` directory, for
    // one) would still be listed, hidden, under the new tmpfs: detach it
    // here, in the sandbox's private copy only, deepest first.
    let mut under_run: Vec<String> =
        mount_points().into_iter().filter(|m| m.starts_with("/run/")).collect();
    under_run.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in under_run {
        let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
    // Minimal systems (the old-kernel test VM) may lack the tun device node
    // that `ip tuntap` opens; it is the standard node, made only if missing.
    if !Path::new("/dev/net/tun").exists() {
        let _ = fs::create_dir_all("/dev/net");
        let _ = nix::sys::stat::mknod(
            "/dev/net/tun",
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(10, 200),
        );
    }
    mount(
        Some("nslink-test-run"),
        "/run",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .expect("mount a tmpfs on /run in the sandbox");
    // Belt and braces: the rest of the test relies on these two facts.
    assert!(!Path::new("/run/netns").exists(), "sandbox /run is not empty");
    let mounts = mount_points();
    assert!(mounts.iter().any(|m| m == "/run"), "no tmpfs on /run in the sandbox: {mounts:?}");
}

/// One line of `/proc/thread-self/mountinfo`, reduced to what tests look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountLine {
    /// The mount point (octal escapes left as they are).
    pub point: String,
    /// The file system type.
    pub fstype: String,
}

/// The mounts of the calling thread's mount namespace. It must be
/// `thread-self`: the sandbox thread's mount namespace is not the process's.
pub fn mounts() -> Vec<MountLine> {
    let text = fs::read_to_string("/proc/thread-self/mountinfo").expect("read mountinfo");
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let sep = fields.iter().position(|f| *f == "-").expect("mountinfo separator");
            MountLine { point: fields[4].to_owned(), fstype: fields[sep + 1].to_owned() }
        })
        .collect()
}

/// Mount points of the calling thread's mount namespace.
pub fn mount_points() -> Vec<String> {
    mounts().into_iter().map(|m| m.point).collect()
}
