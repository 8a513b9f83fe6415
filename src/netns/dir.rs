//! [`NetnsDir`]: the directory of named namespaces (`/run/netns`), kept in
//! the layout `ip netns` uses so that both tools see the same namespaces.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::NixPath;
use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, Flock, OFlag};
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::sys::statfs::NSFS_MAGIC;
use nix::unistd::UnlinkatFlags;

use super::{NetNs, NsId, new_netns_fd, open_ns_at, path_id};
use crate::error::{Error, Object, Op, Result};
use crate::name::{IntoNsName, NsName};
use crate::sys::{mount, open, openat, umount2, unlinkat};

/// The default directory, the one `ip netns` uses.
pub const DEFAULT_NETNS_DIR: &str = "/run/netns";

/// A directory of named network namespaces, laid out like `ip netns`:
/// each name is a file on which a namespace is bind-mounted, and the
/// directory is a shared mount point so that unmounting in one mount
/// namespace unmounts everywhere.
///
/// [`NetnsDir::default()`] is `/run/netns`; [`NetnsDir::new`] picks another
/// directory (for tests, or rootless use under `$XDG_RUNTIME_DIR`).
///
/// ```no_run
/// use nslink::NetnsDir;
///
/// let dir = NetnsDir::default();
/// let ns = dir.create("test1")?;              // ip netns add test1
/// assert!(dir.list()?.iter().any(|n| n == "test1"));
/// assert_eq!(dir.identify(&ns)?, ["test1"]);  // ip netns identify
/// drop(ns);
/// dir.delete("test1")?;                       // ip netns del test1
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsDir {
    path: PathBuf,
}

impl Default for NetnsDir {
    fn default() -> NetnsDir {
        NetnsDir { path: PathBuf::from(DEFAULT_NETNS_DIR) }
    }
}

/// How long `delete` keeps retrying an unlink that answers `EBUSY` (the
/// mount may still be going away in another mount namespace).
const BUSY_RETRIES: u32 = 5;
const BUSY_PAUSE: Duration = Duration::from_millis(2);

/// The directory's lock, held while it lives, and the directory to work in.
struct Locked {
    lock: Flock<OwnedFd>,
    /// The directory opened again after it was made a mount point (the
    /// locked descriptor is then the directory underneath).
    reopened: Option<OwnedFd>,
}

impl Locked {
    fn dir(&self) -> BorrowedFd<'_> {
        match &self.reopened {
            Some(fd) => fd.as_fd(),
            None => self.lock.as_fd(),
        }
    }
}

impl NetnsDir {
    /// A namespace directory at `path`. Nothing is touched until it is used;
    /// [`create`](NetnsDir::create) makes the directory if it is missing.
    ///
    /// ```
    /// let dir = nslink::NetnsDir::new("/run/user/1000/netns");
    /// assert_eq!(dir.path(), std::path::Path::new("/run/user/1000/netns"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> NetnsDir {
        NetnsDir { path: path.into() }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of entry `name`.
    pub fn entry_path(&self, name: &NsName) -> PathBuf {
        self.path.join(name.as_str())
    }

    /// Creates the directory if needed and makes it a shared mount point,
    /// the way `ip netns add` does, under an exclusive `flock` so parallel
    /// creators cannot stack mounts. Returns the lock, still held (callers
    /// keep it until their entry is mounted, so no other creator ever sees a
    /// placeholder being set up), and a descriptor of the mounted directory.
    /// Failures name the namespace being made and the directory (`create
    /// namespace "red" in "/run/netns": …`).
    fn prepare(&self, op: Op, name: &NsName) -> Result<Locked> {
        let object = |step: &str| self.at(name, step);
        let open_dir = || {
            open(&self.path, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        };
        // The directory is usually there: open it first, and make it only
        // when it is missing (saves a mkdir and a stat per create).
        let dirfd = match open_dir() {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => {
                crate::sys::create_dir_all(&self.path)
                    .map_err(|e| Error::io(op, object("mkdir(2) of the directory"), &e))?;
                open_dir().map_err(|e| Error::os(op, object("open(2) of the directory"), e))?
            }
            Err(e) => return Err(Error::os(op, object("open(2) of the directory"), e)),
        };
        let lock = crate::sys::flock_exclusive(dirfd)
            .map_err(|(_, e)| Error::os(op, object("flock(2) of the directory"), e))?;
        let mut made_mount_point = false;
        loop {
            match mount(
                None::<&str>,
                &self.path,
                Some("none"),
                MsFlags::MS_SHARED | MsFlags::MS_REC,
                None::<&str>,
            ) {
                Ok(()) => break,
                // Not a mount point yet: bind the directory onto itself, put it
                // in a peer group of its own (private), then make it shared.
                Err(Errno::EINVAL) if !made_mount_point => {
                    mount(
                        Some(&self.path),
                        &self.path,
                        Some("none"),
                        MsFlags::MS_BIND | MsFlags::MS_REC,
                        None::<&str>,
                    )
                    .map_err(|e| {
                        Error::os(op, object("mount(2) MS_BIND of the directory onto itself"), e)
                    })?;
                    if let Err(e) = mount(
                        None::<&str>,
                        &self.path,
                        Some("none"),
                        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
                        None::<&str>,
                    ) {
                        // Undo the bind: left in the peer group it was born
                        // in, the next create would make that group shared
                        // and its entries would propagate there.
                        let _ = umount2(&self.path, MntFlags::MNT_DETACH);
                        return Err(Error::os(
                            op,
                            object("mount(2) MS_PRIVATE of the directory"),
                            e,
                        ));
                    }
                    made_mount_point = true;
                }
                Err(e) => {
                    return Err(Error::os(op, object("mount(2) MS_SHARED of the directory"), e));
                }
            }
        }
        // After a bind mount made here, reopen: the locked descriptor points
        // at the directory underneath it, where new entries would be hidden.
        // (The lock stays on that one: every nslink creator opens the path
        // and locks whichever directory it finds, and once the mount point
        // exists they all find the same.)
        let reopened = if made_mount_point {
            Some(
                open_dir()
                    .map_err(|e| Error::os(op, object("open(2) of the mounted directory"), e))?,
            )
        } else {
            None
        };
        Ok(Locked { lock, reopened })
    }

    /// Takes the directory's lock (the one `create` holds from placeholder to
    /// mount) without preparing anything. `None` when the directory does
    /// not exist.
    fn lock(&self, op: Op) -> Result<Option<Locked>> {
        let dirfd = match open(
            &self.path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(Error::os(op, self.object(), e)),
        };
        let lock =
            crate::sys::flock_exclusive(dirfd).map_err(|(_, e)| Error::os(op, self.object(), e))?;
        Ok(Some(Locked { lock, reopened: None }))
    }

    fn object(&self) -> Object {
        Object::path(&self.path)
    }

    /// A named namespace in this directory, as the object of an error.
    fn ns_object(&self, name: &NsName) -> Object {
        Object::netns_name(name).with_detail(format!("in {:?}", self.path))
    }

    /// A named namespace in this directory and the step that failed, as the
    /// object of an error: `namespace "red" in "/run/netns" (mount(2) …)`.
    fn at(&self, name: &NsName, step: &str) -> Object {
        Object::netns_name(name).with_detail(format!("in {:?} ({step})", self.path))
    }

    /// Creates the placeholder file `name` (mknodat(2) of an empty regular
    /// file: what `O_CREAT | O_EXCL` and a close do, in one call),
    /// explaining an existing one (a live namespace, or a stale entry). An
    /// entry that is only on its way out (a delete between its unmount and
    /// its unlink) is waited for.
    fn placeholder(&self, op: Op, dirfd: BorrowedFd<'_>, name: &NsName) -> Result<PathBuf> {
        let path = self.entry_path(name);
        let mut waited = false;
        loop {
            match crate::sys::mknod_file_at(dirfd, name.as_str()) {
                Ok(()) => return Ok(path),
                Err(Errno::EEXIST) if !waited && is_regular_file(&path) => match settle(&path) {
                    Settled::Gone => waited = true,
                    Settled::Mounted => {
                        return Err(Error::os(
                            op,
                            self.at(name, "mknodat(2) of the entry"),
                            Errno::EEXIST,
                        ));
                    }
                    Settled::Unmounted => {
                        return Err(Error::StaleEntry { op, name: name.to_string(), path });
                    }
                },
                Err(e) => return Err(Error::os(op, self.at(name, "mknodat(2) of the entry"), e)),
            }
        }
    }

    /// Creates the named namespace `name`, exactly like `ip netns add NAME`:
    /// the directory is prepared (created, made a shared mount point under a
    /// lock), a placeholder file is made (mknodat(2), failing if the name
    /// exists), a new namespace is made as [`NetNs::new`] makes it (by the
    /// calling thread, back home before this returns, or on a worker where
    /// it could not come back) and bind-mounted onto the placeholder — the
    /// last step that can fail. If any step fails, what was made is removed.
    ///
    /// `ip netns list/exec/del` see the result when the directory is
    /// `/run/netns`.
    ///
    /// Kernel: mount(2) (`MS_BIND`, `MS_SHARED`) of the directory once, mknodat(2) for the
    /// entry (a new regular file, like open(2) `O_EXCL`), unshare(2) `CLONE_NEWNET` and
    /// setns(2) back, then mount(2) `MS_BIND` of `/proc/self/fd/N` onto the entry — what
    /// ip-netns(8) `add` does. Needs `CAP_SYS_ADMIN` (mounts and namespaces). Cost: ~0.37 ms
    /// with a delete here, 1.04x a C loop making the calls `ip netns add` and `del` make.
    ///
    /// # Errors
    /// - [`Error::InvalidName`] before anything is touched;
    /// - [`Error::Os`] with `EEXIST` ([`Error::is_already_exists`]) when the name
    ///   is taken; the existing namespace is untouched;
    /// - [`Error::StaleEntry`] when the name is a leftover file with nothing
    ///   mounted on it;
    /// - [`Error::Os`] with `EPERM` without `CAP_SYS_ADMIN`.
    ///
    /// ```no_run
    /// let dir = nslink::NetnsDir::new("/tmp/my-netns");
    /// let ns = dir.create("lab1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns add")]
    pub fn create(&self, name: impl IntoNsName) -> Result<NetNs> {
        let name = name.into_nsname()?;
        let op = Op::CreateNamedNetns;
        // The lock stays held until the entry is mounted.
        let locked = self.prepare(op, &name)?;
        let dirfd = locked.dir();
        let path = self.placeholder(op, dirfd, &name)?;
        // The bind mount is done here, from the new namespace's descriptor,
        // so this thread's mount namespace is the one that gets it (also
        // when a worker made the namespace). It is the last step that can
        // fail: a delete that unmounts an entry (without the lock) knows a
        // finished namespace by that.
        let object = || self.at(&name, "unshare(2) and open(2) of a new namespace");
        let made = new_netns_fd(op, object)
            .and_then(|fd| NetNs::from_new_fd(fd, &path, Some(name.clone())))
            .and_then(|ns| self.bind(op, dirfd, &name, &path, ns.as_fd()).map(|()| ns));
        if made.is_err() {
            let _ = unlinkat(dirfd, name.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        made
    }

    /// Bind-mounts the namespace `ns` onto the placeholder at `path`. When
    /// the placeholder is gone (`ENOENT`: only an unlink that does not take
    /// the directory's lock can do that, a delete's caught between its
    /// unmount and its unlink, or `ip netns del`'s), it is made again, once.
    fn bind(
        &self,
        op: Op,
        dirfd: BorrowedFd<'_>,
        name: &NsName,
        path: &Path,
        ns: BorrowedFd<'_>,
    ) -> Result<()> {
        let src = format!("/proc/self/fd/{}", ns.as_raw_fd());
        let bind = || mount(Some(src.as_str()), path, Some("none"), MsFlags::MS_BIND, None::<&str>);
        let mounted = match bind() {
            // Made again only if it really is gone (the mknodat(2) works).
            Err(Errno::ENOENT) if crate::sys::mknod_file_at(dirfd, name.as_str()).is_ok() => bind(),
            other => other,
        };
        mounted.map_err(|e| Error::os(op, self.at(name, "mount(2) MS_BIND onto the entry"), e))
    }

    /// Gives the namespace of process `pid` the name `name`, like
    /// `ip netns attach NAME PID`.
    ///
    /// Kernel: as [`create`](NetnsDir::create), binding `/proc/PID/ns/net` instead of a new
    /// namespace (ip-netns(8) `attach`). Needs `CAP_SYS_ADMIN` and access to the process.
    ///
    /// # Errors
    /// As [`create`](NetnsDir::create); [`Error::Os`] with `ENOENT` when the
    /// process does not exist.
    ///
    /// ```no_run
    /// let ns = nslink::NetnsDir::default().attach("pid1", 1)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns attach")]
    pub fn attach(&self, name: impl IntoNsName, pid: u32) -> Result<NetNs> {
        let name = name.into_nsname()?;
        let op = Op::AttachNetns;
        // Open and check the target first, then bind from that descriptor so
        // that a recycled pid cannot change what gets attached.
        let source = NetNs::open_pid(pid).map_err(|e| e.with_object(op, Object::pid(pid)))?;
        // The lock stays held until the entry is mounted.
        let locked = self.prepare(op, &name)?;
        let dirfd = locked.dir();
        let path = self.placeholder(op, dirfd, &name)?;
        if let Err(e) = self.bind(op, dirfd, &name, &path, source.as_fd()) {
            let _ = unlinkat(dirfd, name.as_str(), UnlinkatFlags::NoRemoveDir);
            return Err(e);
        }
        Ok(NetNs { name: Some(name), ..source })
    }

    /// Opens the namespace named `name`. A symlink in the directory is never
    /// followed.
    ///
    /// Kernel: openat(2) with `O_PATH | O_NOFOLLOW`, fstatfs(2), ioctl_ns(2) `NS_GET_NSTYPE`;
    /// no privilege beyond read access.
    ///
    /// # Errors
    /// [`Error::InvalidName`]; [`Error::Os`] with `ENOENT` when there is no such
    /// name; [`Error::NotANetns`] for a stale entry or a symlink.
    ///
    /// ```no_run
    /// let ns = nslink::NetnsDir::default().open("test1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn open(&self, name: impl IntoNsName) -> Result<NetNs> {
        let name = name.into_nsname()?;
        let dirfd = open(
            &self.path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::os(Op::OpenNetns, self.ns_object(&name), e))?;
        open_ns_at(dirfd.as_fd(), &name, self.entry_path(&name))
    }

    /// Deletes the named namespace `name`, like `ip netns del NAME`: a lazy
    /// unmount (`umount2(2)` with `MNT_DETACH`), then the entry is unlinked.
    /// The namespace itself lives on while anything still holds it (a
    /// process, a [`NetNs`], a socket). It never touches the placeholder of
    /// a create in progress: an entry that unmounts was a finished
    /// namespace (a create mounts last, under the directory's lock), and
    /// anything else — a create in progress, a stale entry, a locked mount —
    /// is looked at again under that lock, after the create is done. A
    /// second delete, a create or a [`remove_stale`](NetnsDir::remove_stale)
    /// of the same name that finds the entry between the unmount and the
    /// unlink waits (up to ~33 ms) for it to go; a stale entry is reported
    /// after that wait.
    ///
    /// Deleting *by name* deletes whatever namespace has the name now. A
    /// program cleaning up what it made should use
    /// [`delete_ns`](NetnsDir::delete_ns) (by identity) instead.
    ///
    /// Kernel: umount2(2) `MNT_DETACH | UMOUNT_NOFOLLOW` and unlink(2), what ip-netns(8) `del`
    /// makes; flock(2) on the directory only when the entry was not a mount. Needs
    /// `CAP_SYS_ADMIN` in the user namespace that owns the mount.
    ///
    /// # Errors
    /// - [`Error::InvalidName`];
    /// - [`Error::Os`] with `ENOENT` when there is no such name;
    /// - [`Error::StaleEntry`] when nothing is mounted on the entry (it is left
    ///   as is; [`remove_stale`](NetnsDir::remove_stale) removes it);
    /// - [`Error::MountLocked`] when the namespace is mounted from a more
    ///   privileged mount namespace (inside `unshare -Urm`, say);
    /// - [`Error::Os`] with `EBUSY` ([`Error::is_busy`]) when the entry stays
    ///   mounted elsewhere; a mounted entry is never unlinked.
    ///
    /// ```no_run
    /// nslink::NetnsDir::default().delete("test1")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip netns del")]
    pub fn delete(&self, name: impl IntoNsName) -> Result<()> {
        let name = name.into_nsname()?;
        let op = Op::DeleteNetns;
        let path = self.entry_path(&name);
        // A successful unmount proves the entry was a finished namespace
        // (`create` mounts last, under the lock): then the entry only has to
        // go, as `ip netns del` does it, without the lock. Anything else (a
        // create in progress, a stale entry, a locked mount) is looked at
        // under the lock.
        match umount2(&path, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW) {
            Ok(()) => self.unlink_unmounted(op, AT_FDCWD, &path, &name),
            Err(Errno::EINVAL) => self.delete_checked(&name, None),
            Err(e) => Err(Error::os(op, self.at(&name, "umount2(2) of the entry"), e)),
        }
    }

    /// Deletes the entry named like `ns` only if it still holds `ns` itself:
    /// if the name was deleted and made again by someone else meanwhile,
    /// their namespace is left alone and [`Error::NotSameNetns`] says so.
    /// The check and the unmount happen under the directory's lock; a
    /// delete by name of a finished namespace does not take that lock, and
    /// an entry found between such a delete's unmount and its unlink is
    /// waited for (up to ~33 ms): `ENOENT` once it goes.
    ///
    /// `ns` must carry its name (made by [`create`](NetnsDir::create),
    /// [`attach`](NetnsDir::attach) or [`open`](NetnsDir::open)).
    ///
    /// Kernel: flock(2) on the directory, fstat(2) of the entry (identity), umount2(2)
    /// `MNT_DETACH`, unlinkat(2). Needs `CAP_SYS_ADMIN` in the user namespace that owns the
    /// mount.
    ///
    /// # Errors
    /// As [`delete`](NetnsDir::delete), plus [`Error::NotSameNetns`], and
    /// [`Error::InvalidArgument`] when `ns` has no name.
    ///
    /// ```no_run
    /// let dir = nslink::NetnsDir::default();
    /// let red = dir.create("red")?;
    /// // … someone may delete "red" and make a new "red" meanwhile …
    /// dir.delete_ns(&red)?;   // deletes only the "red" we made
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn delete_ns(&self, ns: &NetNs) -> Result<()> {
        let Some(name) = ns.name() else {
            return Err(Error::InvalidArgument {
                op: Op::DeleteNetns,
                object: ns.object(),
                detail: "the namespace has no name to delete it by".into(),
            });
        };
        self.delete_checked(name, Some(ns.id()))
    }

    /// Deletes `name` only if it still holds namespace `id`.
    pub(crate) fn delete_by_id(&self, name: &NsName, id: NsId) -> Result<()> {
        self.delete_checked(name, Some(id))
    }

    fn delete_checked(&self, name: &NsName, expect: Option<NsId>) -> Result<()> {
        let op = Op::DeleteNetns;
        let path = self.entry_path(name);
        let object = || self.ns_object(name);
        let Some(locked) = self.lock(op)? else {
            return Err(Error::os(op, object(), Errno::ENOENT));
        };
        let dirfd = locked.dir();
        if let Some(expected) = expect {
            // A delete by name takes no lock when it unmounts: the entry may
            // be a bare file on its way out, not another namespace.
            let mut looked_again = false;
            loop {
                let entry = openat(
                    dirfd,
                    name.as_str(),
                    OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| Error::os(op, self.at(name, "open(2) of the entry"), e))?;
                let found = super::fd_id(entry.as_fd())
                    .map_err(|e| Error::os(op, self.at(name, "fstat(2) of the entry"), e))?;
                if found == expected {
                    break;
                }
                let on_nsfs = crate::sys::fstatfs(&entry)
                    .map_err(|e| Error::os(op, self.at(name, "fstatfs(2) of the entry"), e))?
                    .filesystem_type()
                    == NSFS_MAGIC;
                if on_nsfs || looked_again {
                    return Err(Error::NotSameNetns { op, object: object(), expected, found });
                }
                match settle(&path) {
                    Settled::Gone => return Err(Error::os(op, object(), Errno::ENOENT)),
                    Settled::Unmounted => {
                        return Err(Error::StaleEntry { op, name: name.to_string(), path });
                    }
                    Settled::Mounted => looked_again = true,
                }
            }
        }
        // One more try after an `ip netns add` (which does not take the
        // lock) is seen mounting meanwhile, when deleting by name.
        let mut again = expect.is_none();
        loop {
            match umount2(&path, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW) {
                Ok(()) => break,
                Err(Errno::EINVAL) => {
                    // Not a mount point, or a mount we may not touch (locked:
                    // it came from a more privileged mount namespace).
                    let settled = match crate::sys::symlink_metadata(&path) {
                        Ok(_) if is_mounted_ns(&path) => {
                            return Err(Error::MountLocked { op, object: object() });
                        }
                        Ok(m) if m.file_type().is_file() => settle(&path),
                        Ok(_) => Settled::Unmounted,
                        Err(e) => return Err(Error::io(op, object(), &e)),
                    };
                    match settled {
                        Settled::Mounted if again => again = false,
                        Settled::Mounted => {
                            return Err(Error::MountLocked { op, object: object() });
                        }
                        // Another delete unmounted it and has just unlinked it.
                        Settled::Gone => return Err(Error::os(op, object(), Errno::ENOENT)),
                        Settled::Unmounted => {
                            return Err(Error::StaleEntry { op, name: name.to_string(), path });
                        }
                    }
                }
                Err(e) => return Err(Error::os(op, self.at(name, "umount2(2) of the entry"), e)),
            }
        }
        self.unlink_unmounted(op, dirfd, name.as_str(), name)
    }

    /// Unlinks an entry this call has just unmounted, retrying a while on
    /// `EBUSY` (the mount may still be going away in another mount
    /// namespace). `ENOENT` counts as done: the unmount was ours, and a
    /// concurrent `remove_stale` or `ip netns del` took the file. An entry
    /// still mounted (a second mount stacked on it) stays, with `EBUSY`.
    fn unlink_unmounted(
        &self,
        op: Op,
        dirfd: BorrowedFd<'_>,
        entry: &(impl NixPath + ?Sized),
        name: &NsName,
    ) -> Result<()> {
        let mut tries = 0;
        loop {
            match unlinkat(dirfd, entry, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => return Ok(()),
                Err(Errno::EBUSY) if tries < BUSY_RETRIES => {
                    tries += 1;
                    std::thread::sleep(BUSY_PAUSE * tries);
                }
                Err(e) => return Err(Error::os(op, self.at(name, "unlinkat(2) of the entry"), e)),
            }
        }
    }

    /// Removes a stale entry: a file in the directory with no namespace
    /// mounted on it (left by a crash). A live namespace is never removed,
    /// and neither is the placeholder of a create in progress: this takes
    /// the lock `create` holds from placeholder to mount, and gives a
    /// concurrent `ip netns add` (which mounts outside that lock) a moment
    /// to finish.
    ///
    /// Kernel: flock(2), fstatfs(2), unlinkat(2); needs write access to the directory.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a namespace is mounted on the entry
    /// (it is not stale); `ENOENT` when there is no entry.
    ///
    /// ```no_run
    /// let dir = nslink::NetnsDir::default();
    /// match dir.delete("crashed") {
    ///     Err(e) if e.is_stale_entry() => dir.remove_stale("crashed")?,
    ///     other => other?,
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn remove_stale(&self, name: impl IntoNsName) -> Result<()> {
        let name = name.into_nsname()?;
        let op = Op::RemoveStaleNetns;
        let path = self.entry_path(&name);
        let object = || self.ns_object(&name);
        let Some(locked) = self.lock(op)? else {
            return Err(Error::os(op, object(), Errno::ENOENT));
        };
        let dirfd = locked.dir();
        let mounted =
            probe_ns(&path).map_err(|e| Error::os(op, self.at(&name, "check of the entry"), e))?;
        let settled = match mounted {
            true => Settled::Mounted,
            false if is_regular_file(&path) => settle(&path),
            false => Settled::Unmounted,
        };
        match settled {
            Settled::Mounted => {
                return Err(Error::InvalidArgument {
                    op,
                    object: object(),
                    detail: "a namespace is mounted on it: it is not stale (use delete)".into(),
                });
            }
            // A delete (ours or `ip netns del`) finished with it meanwhile.
            Settled::Gone => return Err(Error::os(op, object(), Errno::ENOENT)),
            Settled::Unmounted => {}
        }
        unlinkat(dirfd, name.as_str(), UnlinkatFlags::NoRemoveDir)
            .map_err(|e| Error::os(op, self.at(&name, "unlinkat(2) of the entry"), e))
    }

    /// The names in the directory, sorted, like `ip netns list`. A missing
    /// directory is an empty list.
    ///
    /// Kernel: readdir of the directory (ip-netns(8) `list`); no privilege.
    ///
    /// # Errors
    /// [`Error::Os`] when the directory cannot be read.
    ///
    /// ```no_run
    /// for name in nslink::NetnsDir::default().list()? {
    ///     println!("{name}");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn list(&self) -> Result<Vec<NsName>> {
        let op = Op::ListNetns;
        let rd = match std::fs::read_dir(&self.path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(op, self.object(), &e)),
        };
        let mut names = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(op, self.object(), &e))?;
            if let Some(name) = entry.file_name().to_str().and_then(|s| NsName::new(s).ok()) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The names under which `ns` is mounted here, like
    /// `ip netns identify`. Usually zero or one; `ip netns attach` can give a
    /// namespace several names.
    ///
    /// Kernel: lstat(2) of each entry, compared by (device, inode) with the namespace
    /// (ip-netns(8) `identify`); no privilege.
    ///
    /// # Errors
    /// As [`list`](NetnsDir::list).
    ///
    /// ```no_run
    /// let dir = nslink::NetnsDir::default();
    /// let here = nslink::NetNs::current()?;
    /// println!("this thread is in {:?}", dir.identify(&here)?);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn identify(&self, ns: &NetNs) -> Result<Vec<NsName>> {
        self.identify_id(ns.id())
    }

    /// The names of the namespace of process `pid`, like
    /// `ip netns identify PID`.
    ///
    /// Kernel: as [`identify`](NetnsDir::identify), for `/proc/PID/ns/net`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENOENT` when the process does not exist.
    ///
    /// ```no_run
    /// let names = nslink::NetnsDir::default().identify_pid(1)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn identify_pid(&self, pid: u32) -> Result<Vec<NsName>> {
        let ns =
            NetNs::open_pid(pid).map_err(|e| e.with_object(Op::IdentifyNetns, Object::pid(pid)))?;
        self.identify(&ns)
    }

    fn identify_id(&self, id: NsId) -> Result<Vec<NsName>> {
        let mut names = self.list()?;
        names.retain(|n| path_id(&self.entry_path(n)) == Some(id));
        Ok(names)
    }
}

fn is_mounted_ns(path: &Path) -> bool {
    probe_ns(path).unwrap_or(false)
}

/// Whether a namespace is mounted on `path` (`false` when there is no such
/// entry, or it is a symlink); an error when that cannot be checked.
fn probe_ns(path: &Path) -> std::result::Result<bool, Errno> {
    let fd = match open(path, OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ELOOP) => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(crate::sys::fstatfs(&fd)?.filesystem_type() == NSFS_MAGIC)
}

/// What an unmounted entry turns out to be within a short while (about
/// 33 ms, longer than a delete's retries of an unlink that says `EBUSY`):
/// an entry being made by a concurrent `ip netns add` (which does not hold
/// our lock while mounting) gets its namespace; one being deleted by a
/// concurrent `ip netns del` or nslink `delete` (both unlink after the
/// unmount, outside the lock) goes away; a stale one stays as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Mounted,
    Gone,
    Unmounted,
}

fn settle(path: &Path) -> Settled {
    for pause_ms in [0, 1, 2, 5, 10, 15] {
        std::thread::sleep(Duration::from_millis(pause_ms));
        match crate::sys::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Settled::Gone,
            _ if is_mounted_ns(path) => return Settled::Mounted,
            _ => {}
        }
    }
    Settled::Unmounted
}

fn is_regular_file(path: &Path) -> bool {
    matches!(crate::sys::symlink_metadata(path), Ok(m) if m.file_type().is_file())
}
