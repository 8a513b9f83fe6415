//! Commands that run inside a namespace with `ip netns exec` semantics.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::libc;
use nix::sys::statvfs::{FsFlags, statvfs};

use super::NetNs;
use crate::error::{Error, Object, Op, Result};

/// Everything the child needs, computed before `fork` so that the child only
/// makes async-signal-safe system calls on memory that already exists.
struct ExecPlan {
    netns: OwnedFd,
    sysfs_source: CString,
    sysfs_readonly: bool,
    /// `(source, target)` pairs: `/etc/netns/NAME/X` onto `/etc/X`.
    etc_binds: Vec<(CString, CString)>,
}

fn cstring(op: Op, s: &[u8]) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidArgument {
        op,
        object: crate::error::Object::value(
            crate::error::ObjectKind::Path,
            format!("{:?}", String::from_utf8_lossy(s)),
        ),
        detail: "contains a NUL byte".into(),
    })
}

impl NetNs {
    /// A [`Command`] for `program` that runs inside this namespace the way
    /// `ip netns exec NAME program` runs it: in the network namespace, in a
    /// private mount namespace where `/sys` is a fresh sysfs (so
    /// `/sys/class/net` lists this namespace's devices), and, for a named
    /// namespace, with each file of `/etc/netns/NAME/` bind-mounted over its
    /// namesake in `/etc` (e.g. a per-namespace `resolv.conf`).
    ///
    /// Nothing is spawned yet; configure the command as usual. The parent
    /// never changes namespace. All paths are prepared here; between `fork`
    /// and `exec` the child only makes system calls (`setns`, `unshare`,
    /// `mount`), which are async-signal-safe.
    ///
    /// Kernel: in the child, between fork and exec: setns(2) `CLONE_NEWNET`, unshare(2)
    /// `CLONE_NEWNS`, mount(2) of a fresh sysfs and of the `/etc/netns/NAME` files —
    /// ip-netns(8) `exec`. Needs `CAP_SYS_ADMIN`.
    ///
    /// # Errors
    /// [`Error::Os`] (op [`Op::PrepareCommand`]) if the namespace descriptor
    /// cannot be duplicated or `/etc/netns/NAME` cannot be read. Failures in
    /// the child surface as the `io::Error` of `spawn`/`status`/`output`.
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::open("test1")?;
    /// let out = ns.command("ip")?.args(["-j", "link", "show"]).output()?;
    /// assert!(out.status.success());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "ip netns exec")]
    pub fn command(&self, program: impl AsRef<OsStr>) -> Result<Command> {
        let mut cmd = Command::new(program);
        self.prepare_command(&mut cmd)?;
        Ok(cmd)
    }

    /// Makes an existing [`Command`] run inside this namespace, as
    /// [`command`](NetNs::command) does.
    ///
    /// Kernel: as [`command`](NetNs::command).
    ///
    /// # Errors
    /// As [`command`](NetNs::command).
    ///
    /// ```no_run
    /// let ns = nslink::NetNs::open("test1")?;
    /// let mut cmd = std::process::Command::new("ping");
    /// cmd.args(["-c1", "127.0.0.1"]);
    /// ns.prepare_command(&mut cmd)?;
    /// let status = cmd.status()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prepare_command(&self, cmd: &mut Command) -> Result<()> {
        let op = Op::PrepareCommand;
        let netns = self.fd.try_clone().map_err(|e| Error::io(op, self.object(), &e))?;
        let sysfs_readonly =
            statvfs("/sys").map(|s| s.flags().contains(FsFlags::ST_RDONLY)).unwrap_or(false);
        let source = self.name.as_ref().map_or("nslink", |n| n.as_str());
        let sysfs_source = cstring(op, source.as_bytes())?;
        let mut etc_binds = Vec::new();
        if let Some(name) = &self.name {
            let dir = Path::new("/etc/netns").join(name.as_str());
            match std::fs::read_dir(&dir) {
                Ok(rd) => {
                    for entry in rd {
                        let entry = entry.map_err(|e| Error::io(op, Object::path(&dir), &e))?;
                        let file = entry.file_name();
                        let src = dir.join(&file);
                        let dst = Path::new("/etc").join(&file);
                        etc_binds.push((
                            cstring(op, src.as_os_str().as_bytes())?,
                            cstring(op, dst.as_os_str().as_bytes())?,
                        ));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(op, Object::path(&dir), &e)),
            }
        }
        let plan = ExecPlan { netns, sysfs_source, sysfs_readonly, etc_binds };
        // SAFETY: the closure runs in the forked child before exec. It only
        // calls async-signal-safe system calls (setns, unshare, mount,
        // umount2) on pointers into `plan`, which was fully built before the
        // fork, and it allocates nothing: `last_os_error` builds an
        // `io::Error` from the errno without allocating.
        unsafe {
            cmd.pre_exec(move || plan.enter_in_child());
        }
        Ok(())
    }
}

impl ExecPlan {
    /// Runs in the child between fork and exec.
    fn enter_in_child(&self) -> io::Result<()> {
        let none = c"none";
        // SAFETY: (for every call below) plain system calls on a descriptor we
        // own and on NUL-terminated strings that live in `self` (or are
        // literals) for the duration of the call; null pointers are allowed
        // for the unused mount arguments.
        unsafe {
            crate::sys::check_in_child(crate::sys::fault::Call::Setns)?;
            if libc::setns(self.netns.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            crate::sys::check_in_child(crate::sys::fault::Call::Unshare)?;
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(io::Error::last_os_error());
            }
            // Our mounts must not propagate back to the parent's namespace.
            if libc::mount(
                none.as_ptr(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_SLAVE | libc::MS_REC,
                std::ptr::null(),
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // A new sysfs shows the devices of the namespace it is mounted in.
            libc::umount2(c"/sys".as_ptr(), libc::MNT_DETACH);
            let flags = if self.sysfs_readonly { libc::MS_RDONLY } else { 0 };
            if libc::mount(
                self.sysfs_source.as_ptr(),
                c"/sys".as_ptr(),
                c"sysfs".as_ptr(),
                flags,
                std::ptr::null(),
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // Like iproute2, a file that cannot be bound is skipped.
            for (src, dst) in &self.etc_binds {
                libc::mount(
                    src.as_ptr(),
                    dst.as_ptr(),
                    none.as_ptr(),
                    libc::MS_BIND,
                    std::ptr::null(),
                );
            }
        }
        Ok(())
    }
}
