//! Alternative names (`altname` in ip-link(8)): extra names of up to 127
//! bytes that find a device wherever its name would.

use std::fmt;

use netlink_packet_core::{DefaultNla, Emitable, NLA_F_NESTED};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};
use nix::errno::Errno;
use nix::libc::{IFLA_ALT_IFNAME, IFLA_PROP_LIST};

use super::{IntoLinkId, Link, LinkId, message_for, parse};
use crate::error::{Error, NameError, NameKind, Object, Op, Result};
use crate::name::{Quoted, write_escaped};
use crate::netlink::RouteSocket;

/// The longest alternative name, in bytes: `ALTIFNAMSIZ` (128) less the
/// terminating NUL.
pub const ALTNAME_MAX: usize = 127;

/// An alternative name of a device (`IFLA_ALT_IFNAME`): up to
/// [`ALTNAME_MAX`] (127) bytes, any but NUL, exactly what the kernel
/// accepts. The kernel refuses longer ones (its attribute policy); a NUL
/// would end the name early, so it is refused here rather than cut.
/// Unlike the primary name, an altname may hold `/`, `:`, white space or
/// `%`, need not be UTF-8, and may even be empty (Linux 6.1 and 6.18 take
/// all of these; `ip` refuses some of them on its side).
///
/// It prints escaped like [`IfName`](crate::IfName).
///
/// ```
/// use nslink::link::AltName;
///
/// let a = AltName::new("enp0s31f6-uplink-to-the-top-of-rack-switch")?;
/// assert_eq!(a, "enp0s31f6-uplink-to-the-top-of-rack-switch");
/// assert_eq!(AltName::from_bytes(b"a\xff")?.to_string(), r"a\xff");
/// assert!(AltName::new(&"x".repeat(128)).is_err());
/// assert!(AltName::new("a\0b").is_err());
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AltName(Box<[u8]>);

impl AltName {
    /// Validates `name` (its UTF-8 bytes) as an alternative name.
    ///
    /// # Errors
    /// [`Error::InvalidName`] (kind [`NameKind::Interface`]) for a name
    /// over 127 bytes or with a NUL.
    ///
    /// ```
    /// assert!(nslink::link::AltName::new("pod a/uplink:0").is_ok());
    /// ```
    pub fn new(name: &str) -> Result<AltName> {
        AltName::from_bytes(name.as_bytes())
    }

    /// Validates `name`, any bytes, as an alternative name.
    ///
    /// # Errors
    /// As [`new`](AltName::new).
    ///
    /// ```
    /// use nslink::link::AltName;
    /// assert!(AltName::from_bytes(b"a\0b").is_err());
    /// assert_eq!(AltName::from_bytes(&[0xff; 127])?.as_bytes().len(), 127);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn from_bytes(name: &[u8]) -> Result<AltName> {
        AltName::check(name).map_err(|reason| Error::InvalidName {
            kind: NameKind::Interface,
            input: name.to_vec(),
            reason,
        })?;
        Ok(AltName(name.into()))
    }

    /// Checks `name` by the rules of [`from_bytes`](AltName::from_bytes).
    ///
    /// # Errors
    /// The rule that was broken.
    ///
    /// ```
    /// use nslink::error::NameError;
    /// use nslink::link::AltName;
    ///
    /// assert_eq!(AltName::check(b"a\0"), Err(NameError::BadByte { byte: 0, pos: 1 }));
    /// assert_eq!(AltName::check(&[b'a'; 128]), Err(NameError::TooLong { len: 128, max: 127 }));
    /// ```
    pub fn check(name: &[u8]) -> std::result::Result<(), NameError> {
        if name.len() > ALTNAME_MAX {
            return Err(NameError::TooLong { len: name.len(), max: ALTNAME_MAX });
        }
        if let Some(pos) = name.iter().position(|&b| b == 0) {
            return Err(NameError::BadByte { byte: 0, pos });
        }
        Ok(())
    }

    /// The exact bytes (without a NUL).
    ///
    /// ```
    /// assert_eq!(nslink::link::AltName::new("uplink")?.as_bytes(), b"uplink");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as text, when it is UTF-8.
    ///
    /// ```
    /// assert_eq!(nslink::link::AltName::new("uplink")?.to_str(), Some("uplink"));
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// From an attribute the kernel sent (up to its NUL): `None` when it
    /// breaks the rules (which the kernel never sends).
    pub(super) fn from_kernel(bytes: &[u8]) -> Option<AltName> {
        AltName::check(bytes).ok().map(|()| AltName(bytes.into()))
    }

    /// `IFLA_ALT_IFNAME` carrying the exact bytes, NUL-terminated.
    fn attr(&self) -> DefaultNla {
        let mut v = Vec::with_capacity(self.0.len() + 1);
        v.extend_from_slice(&self.0);
        v.push(0);
        DefaultNla::new(IFLA_ALT_IFNAME, v)
    }
}

impl AsRef<[u8]> for AltName {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
impl PartialEq<str> for AltName {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other.as_bytes()
    }
}
impl PartialEq<&str> for AltName {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == *other.as_bytes()
    }
}
impl fmt::Display for AltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(self.0.len());
        write_escaped(&mut s, &self.0, false)?;
        f.pad(&s)
    }
}
impl fmt::Debug for AltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Quoted(&self.0), f)
    }
}
impl std::str::FromStr for AltName {
    type Err = Error;
    fn from_str(s: &str) -> Result<AltName> {
        AltName::new(s)
    }
}

/// Anything that can be an alternative name: `&str`, `String`, `&[u8]`,
/// [`AltName`] (validated when converted).
///
/// ```
/// use nslink::link::IntoAltName;
/// assert!("uplink".into_altname().is_ok());
/// assert!("a\0".into_altname().is_err());
/// ```
pub trait IntoAltName {
    /// Converts, validating.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a name [`AltName::check`] refuses.
    fn into_altname(self) -> Result<AltName>;
}
impl IntoAltName for AltName {
    fn into_altname(self) -> Result<AltName> {
        Ok(self)
    }
}
impl IntoAltName for &AltName {
    fn into_altname(self) -> Result<AltName> {
        Ok(self.clone())
    }
}
impl IntoAltName for &str {
    fn into_altname(self) -> Result<AltName> {
        AltName::new(self)
    }
}
impl IntoAltName for String {
    fn into_altname(self) -> Result<AltName> {
        AltName::new(&self)
    }
}
impl IntoAltName for &String {
    fn into_altname(self) -> Result<AltName> {
        AltName::new(self)
    }
}
impl IntoAltName for &[u8] {
    fn into_altname(self) -> Result<AltName> {
        AltName::from_bytes(self)
    }
}

/// The failing object of an altname change: `link "veth0" (altname "x")`.
fn altname_object(id: &LinkId, name: &AltName) -> Object {
    id.object().with_detail(format!("(altname {name:?})"))
}

impl RouteSocket {
    /// Gives a device an alternative name, like
    /// `ip link property add dev DEV altname NAME`. The device can then be
    /// found by it ([`link_by_altname`](RouteSocket::link_by_altname); and
    /// by [`link`](RouteSocket::link) when it is also a valid
    /// [`IfName`](crate::IfName)).
    ///
    /// Kernel: `RTM_NEWLINKPROP` with `IFLA_PROP_LIST` holding one
    /// `IFLA_ALT_IFNAME` (rtnetlink(7), Linux 5.5+; ip-link(8) `property
    /// add`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] before sending; [`Error::Os`] with `EEXIST`
    /// ([`Error::is_already_exists`]) when any device of the namespace has
    /// the name already, as its name or an altname.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_altname("veth0", "pod-a-uplink-to-the-node-bridge")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link property add")]
    pub fn add_altname(&self, id: impl IntoLinkId, name: impl IntoAltName) -> Result<()> {
        self.altname_request(Op::AddAltName, id, name)
    }

    /// Removes an alternative name, like
    /// `ip link property del dev DEV altname NAME`.
    ///
    /// Kernel: `RTM_DELLINKPROP` with `IFLA_PROP_LIST` holding one
    /// `IFLA_ALT_IFNAME` (rtnetlink(7), Linux 5.5+; ip-link(8) `property
    /// del`). Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] before sending; [`Error::NotFound`] with
    /// `ENOENT` when no device has that altname; [`Error::Os`] with
    /// `EINVAL` when the name is the device's primary name or another
    /// device's.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.delete_altname("veth0", "pod-a-uplink-to-the-node-bridge")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip link property del")]
    pub fn delete_altname(&self, id: impl IntoLinkId, name: impl IntoAltName) -> Result<()> {
        self.altname_request(Op::DeleteAltName, id, name)
    }

    /// The device that has `name` as its name or as an alternative name,
    /// like `ip link show ALTNAME`; `Ok(None)` when none has.
    ///
    /// Kernel: one `RTM_GETLINK` naming the device by `IFLA_ALT_IFNAME`
    /// (rtnetlink(7), Linux 5.5+), which the kernel looks up among names
    /// and altnames alike. No privilege.
    ///
    /// # Errors
    /// [`Error::InvalidName`] before sending; the exchange errors.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let l = nl.link_by_altname("pod-a-uplink-to-the-node-bridge")?.expect("added above");
    /// println!("it is {}", l.name());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn link_by_altname(&self, name: impl IntoAltName) -> Result<Option<Link>> {
        let name = name.into_altname()?;
        let mut req = LinkMessage::default();
        req.attributes.push(LinkAttribute::Other(name.attr()));
        req.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let reply = self.request_reply_with(
            Op::GetLink,
            RouteNetlinkMessage::GetLink(req),
            0,
            &parse::decode_link,
        )?;
        match reply {
            Ok(mut links) => Ok(links.pop()),
            Err(e) if e.errno() == Some(Errno::ENODEV as i32) => Ok(None),
            Err(e) => {
                Err(e.into_error(Op::GetLink, Object::link_name(&name).with_detail("(by altname)")))
            }
        }
    }

    fn altname_request(&self, op: Op, id: impl IntoLinkId, name: impl IntoAltName) -> Result<()> {
        let id = id.into_link_id()?;
        let name = name.into_altname()?;
        let mut msg = message_for(&id);
        let inner = name.attr();
        let mut value = vec![0; inner.buffer_len()];
        inner.emit(&mut value);
        // NLA_F_NESTED, as the kernel's own messages mark this list.
        let nested = DefaultNla::new(IFLA_PROP_LIST | NLA_F_NESTED, value);
        msg.attributes.push(LinkAttribute::Other(nested));
        let message = match op {
            Op::DeleteAltName => RouteNetlinkMessage::DelLinkProp(msg),
            _ => RouteNetlinkMessage::NewLinkProp(msg),
        };
        self.request(op, || altname_object(&id, &name), message, 0).map(drop)
    }
}
