//! Moving devices between namespaces, and the netns-local question.

use std::fmt;
use std::os::fd::AsRawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use nix::errno::Errno;

use super::{IntoLinkId, Link, LinkId};
use crate::error::{Error, NetnsLocalSource, Object, Op, Result};
use crate::name::{IfName, IntoIfName};
use crate::netlink::{ReplyError, RouteSocket};
use crate::netns::NetNs;

/// Whether a device is netns-local (may not change namespace), and who said
/// so: the article's `ethtool -k DEV | grep netns-local`, on every kernel.
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let answer = nl.netns_local("lo")?;
/// println!("lo: {answer}");   // "on (link attribute IFLA_NETNS_IMMUTABLE is set)" on 6.15+
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetnsLocal {
    /// `Some(true)`: the device cannot move; `Some(false)`: it can; `None`:
    /// this kernel does not say (Linux ~6.12 to 6.14, where the ethtool
    /// feature is gone and the link attribute not there yet).
    pub local: Option<bool>,
    /// Which source answered: [`NetnsLocalSource::Attribute`] or
    /// [`NetnsLocalSource::Ethtool`]; `None` when unknown.
    pub source: Option<NetnsLocalSource>,
}

impl fmt::Display for NetnsLocal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.local {
            Some(true) => "on",
            Some(false) => "off",
            None => "unknown",
        };
        let s = match self.source {
            Some(NetnsLocalSource::Attribute) => format!("{word} (IFLA_NETNS_IMMUTABLE)"),
            Some(NetnsLocalSource::Ethtool) => format!("{word} (ethtool netns-local)"),
            Some(NetnsLocalSource::KernelRefusal) => format!("{word} (kernel refusal)"),
            None => format!(
                "{word} (this kernel reports neither IFLA_NETNS_IMMUTABLE nor the ethtool feature)"
            ),
        };
        f.pad(&s)
    }
}

impl RouteSocket {
    /// Whether device `id` is netns-local: `IFLA_NETNS_IMMUTABLE` when the
    /// kernel sends it (6.15+), else the ethtool feature `netns-local`
    /// (SIOCETHTOOL, asked from a socket inside this socket's namespace;
    /// kernels before ~6.12), else unknown.
    ///
    /// Kernel: one `RTM_GETLINK` (rtnetlink(7)), reading
    /// `IFLA_NETNS_IMMUTABLE`; when the kernel does not send it, the
    /// `SIOCETHTOOL` ioctl (netdevice(7); `ETHTOOL_GSSET_INFO`,
    /// `ETHTOOL_GSTRINGS`, `ETHTOOL_GFEATURES`, as ethtool(8) `-k`) and one
    /// more `RTM_GETLINK` to check the name still means the same device.
    /// No privilege. The first ethtool question of a socket opens an
    /// `AF_INET` socket inside its namespace (on one of nslink's worker threads)
    /// and keeps it.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing device; [`Error::Os`] (op
    /// [`Op::Ethtool`]) if the ioctl fails for another reason.
    ///
    /// ```no_run
    /// use nslink::NetnsLocalSource;
    /// let answer = nslink::RouteSocket::open()?.netns_local("lo")?;
    /// assert_eq!(answer.local, Some(true));
    /// if answer.source == Some(NetnsLocalSource::Ethtool) {
    ///     println!("this kernel still has the ethtool feature");
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "netns-local")]
    #[doc(alias = "IFLA_NETNS_IMMUTABLE")]
    pub fn netns_local(&self, id: impl IntoLinkId) -> Result<NetnsLocal> {
        let link = self.require_link(id)?;
        self.netns_local_of(&link)
    }

    /// The netns-local answer for a link just fetched. The ethtool ioctl
    /// names the device, so a rename racing with it is detected by checking
    /// the name again by index, and the question asked once more.
    pub(crate) fn netns_local_of(&self, link: &Link) -> Result<NetnsLocal> {
        if let Some(b) = link.netns_immutable_attr() {
            return Ok(NetnsLocal { local: Some(b), source: Some(NetnsLocalSource::Attribute) });
        }
        let mut name = link.name().clone();
        for _ in 0..3 {
            let sock = self.ethtool_socket()?;
            let answer = crate::ethtool::netns_local(sock, &name);
            // Still the same device under that name?
            let now = self.link(link.index())?.ok_or_else(|| Error::NotFound {
                errno: None,
                extack: None,
                op: Op::QueryNetnsLocal,
                object: Object::link_index(link.index()),
            })?;
            if now.name() != &name {
                name = now.name().clone();
                continue;
            }
            return match answer {
                Ok(Some(b)) => {
                    Ok(NetnsLocal { local: Some(b), source: Some(NetnsLocalSource::Ethtool) })
                }
                Ok(None) => Ok(NetnsLocal { local: None, source: None }),
                Err(e) => Err(e),
            };
        }
        Err(Error::KeptChanging {
            op: Op::QueryNetnsLocal,
            object: Object::link_index(link.index()),
            attempts: 3,
        })
    }

    /// Moves device `id` into namespace `target`, like
    /// `ip link set DEV netns NS`. The device keeps its name (and index, when
    /// free there) and disappears from this namespace.
    ///
    /// A netns-local device (`lo`, bridges, vxlan on older kernels, …) is
    /// refused by the kernel, which changes nothing; the refusal (a bare
    /// `EINVAL` on older kernels) is then explained by asking
    /// [`netns_local`](RouteSocket::netns_local), and reported as
    /// [`Error::NetnsImmutable`] with the kernel's message.
    ///
    /// # Errors
    /// - [`Error::NetnsImmutable`] for a netns-local device;
    /// - [`Error::NotFound`] with `ENODEV` for a missing device,
    ///   [`Error::Os`] with `EEXIST` when the name is taken in `target`.
    ///
    /// In every failure the device stays where it was, with its name and
    /// index.
    ///
    /// Kernel: one `RTM_SETLINK` naming the device as given (`IFLA_IFNAME`
    /// or `ifi_index`; the kernel has looked a device up by name in a
    /// change since long before 6.1) with `IFLA_NET_NS_FD` (rtnetlink(7);
    /// ip-link(8) `set netns`): one round trip. A refusal costs an
    /// `RTM_GETLINK` and the netns-local question on top, to name the
    /// device and say why. Needs `CAP_NET_ADMIN` over both namespaces (the
    /// kernel checks the target's owner too).
    ///
    /// ```no_run
    /// use nslink::{NetNs, RouteSocket};
    ///
    /// let nl = RouteSocket::open()?;
    /// let pod = NetNs::open("test1")?;
    /// nl.move_link("veth1", &pod)?;
    /// let err = nl.move_link("lo", &pod).unwrap_err();
    /// assert!(err.is_netns_immutable());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link set netns")]
    #[doc(alias = "IFLA_NET_NS_FD")]
    #[doc(alias = "move_to")]
    pub fn move_link(&self, id: impl IntoLinkId, target: &NetNs) -> Result<()> {
        self.move_impl(id.into_link_id()?, target, None)
    }

    /// Moves device `id` into `target` and renames it there in the same
    /// request, like `ip link set DEV netns NS name NEW`.
    ///
    /// Kernel: as [`move_link`](RouteSocket::move_link), with `IFLA_IFNAME`
    /// in the same `RTM_SETLINK`. The new name is checked in `target` first,
    /// through a netlink socket opened there on one of nslink's worker threads (one
    /// `setns(2)` and one more round trip).
    ///
    /// # Errors
    /// As [`move_link`](RouteSocket::move_link); [`Error::InvalidName`] before
    /// sending.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let pod = nslink::NetNs::open("test1")?;
    /// nl.move_link_as("veth1", &pod, "eth0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn move_link_as(
        &self,
        id: impl IntoLinkId,
        target: &NetNs,
        new_name: impl IntoIfName,
    ) -> Result<()> {
        let new_name = new_name.into_ifname()?;
        self.move_impl(id.into_link_id()?, target, Some(new_name))
    }

    /// [`move_link`](RouteSocket::move_link): sent at once, the device
    /// named as given; a refusal is explained afterwards.
    fn move_direct(&self, id: LinkId, target: &NetNs) -> Result<()> {
        let op = Op::MoveLink;
        let target_desc = format!("namespace {}", target.describe());
        let mut msg = super::message_for(&id);
        msg.attributes.push(LinkAttribute::NetNsFd(target.as_raw_fd()));
        let r = match self.request_reply(op, RouteNetlinkMessage::SetLink(msg), 0)? {
            Ok(_) => return Ok(()),
            Err(ReplyError::Kernel(r)) => r,
            Err(ReplyError::Other(e)) => return Err(e),
        };
        let to = |object: Object| object.with_detail(format!("to {target_desc}"));
        if r.errno == Errno::ENODEV as i32 {
            return Err(r.into_error(op, to(id.object())));
        }
        // The kernel changed nothing; name the device and say why.
        let Some(link) = self.link(&id)? else {
            return Err(r.into_error(op, to(id.object())));
        };
        if r.errno == Errno::EINVAL as i32 {
            let local = self.netns_local_of(&link)?;
            let said_immutable = r.ack.message.as_deref().is_some_and(|m| m.contains("immutable"));
            let source_ = match (local.local, local.source) {
                (Some(true), Some(source)) => Some(source),
                (None, _) => Some(NetnsLocalSource::KernelRefusal),
                _ if said_immutable => Some(NetnsLocalSource::KernelRefusal),
                _ => None,
            };
            if let Some(source_) = source_ {
                return Err(Error::NetnsImmutable {
                    op,
                    link: link.name().to_string(),
                    target: target_desc,
                    source_,
                    extack: r.ack.message,
                });
            }
        }
        Err(r.into_error(op, to(Object::link_name(link.name()))))
    }

    fn move_impl(&self, id: LinkId, target: &NetNs, new_name: Option<IfName>) -> Result<()> {
        if new_name.is_none() {
            return self.move_direct(id, target);
        }
        let op = Op::MoveLink;
        let target_desc = format!("namespace {}", target.describe());
        let link = self.link(&id)?.ok_or_else(|| Error::NotFound {
            op,
            object: id.object().with_detail(format!("to {target_desc}")),
            errno: None,
            extack: None,
        })?;
        let local = self.netns_local_of(&link)?;
        if local.local == Some(true) {
            return Err(Error::NetnsImmutable {
                op,
                link: link.name().to_string(),
                target: target_desc,
                source_: local.source.unwrap_or(NetnsLocalSource::Attribute),
                extack: None,
            });
        }
        // The kernel moves the device first and renames it afterwards: if the
        // new name is taken there, the device would end up moved and the
        // request failed. Look first, and repair a race afterwards.
        let target_sock = match &new_name {
            Some(n) => {
                let t = RouteSocket::open_in(target)?;
                if t.link(n)?.is_some() {
                    return Err(Error::AlreadyExists {
                        op,
                        object: Object::link_name(n)
                            .with_detail(format!("(for {:?})", link.name()))
                            .in_netns(target.describe()),
                    });
                }
                Some(t)
            }
            None => None,
        };
        let mut msg = LinkMessage::default();
        msg.header.index = link.index();
        msg.attributes.push(LinkAttribute::NetNsFd(target.as_raw_fd()));
        if let Some(n) = &new_name {
            msg.attributes.push(super::ifname_attr(n));
        }
        match self.request_reply(op, RouteNetlinkMessage::SetLink(msg), 0)? {
            Ok(_) => Ok(()),
            Err(ReplyError::Kernel(r))
                if r.errno == Errno::EINVAL as i32
                    && (local.local.is_none()
                        || r.ack.message.as_deref().is_some_and(|m| m.contains("immutable"))) =>
            {
                Err(Error::NetnsImmutable {
                    op,
                    link: link.name().to_string(),
                    target: target_desc,
                    source_: NetnsLocalSource::KernelRefusal,
                    extack: r.ack.message,
                })
            }
            Err(e) => {
                if let Some(t) = &target_sock {
                    self.bring_back(t, &link);
                }
                let object = match &new_name {
                    Some(n) => Object::link_name(link.name())
                        .with_detail(format!("to {target_desc} as {n:?}")),
                    None => Object::link_name(link.name()).with_detail(format!("to {target_desc}")),
                };
                Err(e.into_error(op, object))
            }
        }
    }

    /// After a failed move-and-rename: if the device reached the target under
    /// its old name, move it back here (best effort).
    fn bring_back(&self, target: &RouteSocket, link: &Link) {
        let still_here = matches!(self.link(link.index()), Ok(Some(l)) if l.name() == link.name());
        if !still_here && let Ok(Some(moved)) = target.link(link.name()) {
            let mut msg = LinkMessage::default();
            msg.header.index = moved.index();
            msg.attributes.push(LinkAttribute::NetNsFd(self.netns().as_raw_fd()));
            let _ = target.request_reply(Op::MoveLink, RouteNetlinkMessage::SetLink(msg), 0);
        }
    }
}
