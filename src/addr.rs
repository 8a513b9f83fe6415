//! IP addresses on links (`ip addr`), IPv4 and IPv6, and the [`IpNet`]
//! prefix type shared with routes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use netlink_packet_route::address::{
    AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Error, Op, Result};
use crate::link::{IntoLinkId, LinkId};
use crate::netlink::{Request, RouteSocket};

/// An address with a prefix length, written `10.244.1.2/24` or
/// `fd00::1/64`.
///
/// ```
/// use nslink::IpNet;
///
/// let net: IpNet = "10.244.1.7/24".parse()?;
/// assert_eq!(net.prefix_len(), 24);
/// assert_eq!(net.network().to_string(), "10.244.1.0/24");
/// assert!(net.contains("10.244.1.200".parse().unwrap()));
/// assert!("10.0.0.1/33".parse::<IpNet>().is_err());
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

impl IpNet {
    /// `addr/prefix_len`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the prefix is longer than the address
    /// (32 for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<IpNet> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(Error::InvalidArgument {
                op: Op::AddAddress,
                object: crate::error::Object::from(format!("{addr}/{prefix_len}")),
                detail: format!("prefix length is at most {max}"),
            });
        }
        Ok(IpNet { addr, prefix_len })
    }

    /// A host prefix (`/32` or `/128`).
    pub fn host(addr: IpAddr) -> IpNet {
        IpNet { addr, prefix_len: if addr.is_ipv4() { 32 } else { 128 } }
    }

    /// The default route's destination for `addr`'s family (`0.0.0.0/0` or
    /// `::/0`).
    pub fn default_for(addr: IpAddr) -> IpNet {
        match addr {
            IpAddr::V4(_) => IpNet { addr: Ipv4Addr::UNSPECIFIED.into(), prefix_len: 0 },
            IpAddr::V6(_) => IpNet { addr: std::net::Ipv6Addr::UNSPECIFIED.into(), prefix_len: 0 },
        }
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    /// Whether this is IPv4.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    fn mask128(&self) -> u128 {
        let bits = if self.is_ipv4() { 32 } else { 128 };
        if self.prefix_len == 0 {
            0
        } else {
            (!0u128 << (bits - u32::from(self.prefix_len))) & (!0u128 >> (128 - bits))
        }
    }

    fn to_u128(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        }
    }

    fn same_family(&self, v: u128) -> IpAddr {
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(v)),
        }
    }

    /// The network: the address with host bits cleared.
    pub fn network(&self) -> IpNet {
        let v = Self::to_u128(self.addr) & self.mask128();
        IpNet { addr: self.same_family(v), prefix_len: self.prefix_len }
    }

    /// The IPv4 broadcast address (`None` for IPv6 and for /31 and /32).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) if self.prefix_len < 31 => {
                let mask = self.mask128() as u32;
                Some(Ipv4Addr::from(u32::from(a) | !mask))
            }
            _ => None,
        }
    }

    /// Whether `addr` is inside this prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.is_ipv4()
            && Self::to_u128(addr) & self.mask128() == Self::to_u128(self.addr) & self.mask128()
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl fmt::Debug for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for IpNet {
    type Err = Error;
    /// Parses `ADDR/LEN`; a bare address is a host prefix.
    fn from_str(s: &str) -> Result<IpNet> {
        let bad = |detail: &str| Error::InvalidArgument {
            op: Op::AddAddress,
            object: crate::error::Object::from(format!("{s:?}")),
            detail: detail.into(),
        };
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad("not an IP address"))?;
        match len {
            None => Ok(IpNet::host(addr)),
            Some(l) => {
                let l: u8 = l.parse().map_err(|_| bad("prefix length is not a number"))?;
                IpNet::new(addr, l)
            }
        }
    }
}

/// An address as the kernel reports it (`RTM_NEWADDR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The index of the link it is on.
    pub index: u32,
    /// The address and prefix length (`IFA_LOCAL` for IPv4, `IFA_ADDRESS`
    /// for IPv6, as `ip addr` prints after `inet`/`inet6`).
    pub net: IpNet,
    /// The peer address of a point-to-point link, when it differs.
    pub peer: Option<IpAddr>,
    /// The IPv4 broadcast address.
    pub broadcast: Option<Ipv4Addr>,
    /// The label (`eth0`, `eth0:1`).
    pub label: Option<String>,
    /// `host`, `link` or `global`, as `ip addr` prints after `scope`.
    pub scope: &'static str,
    /// Whether the address is still tentative (IPv6 duplicate address
    /// detection in progress).
    pub tentative: bool,
}

fn scope_name(s: AddressScope) -> &'static str {
    match s {
        AddressScope::Universe => "global",
        AddressScope::Site => "site",
        AddressScope::Link => "link",
        AddressScope::Host => "host",
        AddressScope::Nowhere => "nowhere",
        _ => "other",
    }
}

fn family_of(addr: IpAddr) -> AddressFamily {
    if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 }
}

impl Address {
    fn from_message(m: AddressMessage) -> Option<Address> {
        let (mut local, mut address, mut broadcast, mut label, mut flags) =
            (None, None, None, None, None);
        for a in m.attributes {
            match a {
                AddressAttribute::Local(ip) => local = Some(ip),
                AddressAttribute::Address(ip) => address = Some(ip),
                AddressAttribute::Broadcast(ip) => broadcast = Some(ip),
                AddressAttribute::Label(l) => label = Some(l),
                AddressAttribute::Flags(f) => flags = Some(f.bits()),
                _ => {}
            }
        }
        let mine = local.or(address)?;
        let peer = match (local, address) {
            (Some(l), Some(a)) if l != a => Some(a),
            _ => None,
        };
        let flags = flags.unwrap_or(u32::from(m.header.flags.bits()));
        Some(Address {
            index: m.header.index,
            net: IpNet { addr: mine, prefix_len: m.header.prefix_len },
            peer,
            broadcast,
            label,
            scope: scope_name(m.header.scope),
            tentative: flags & 0x40 != 0,
        })
    }
}

/// Options for [`RouteSocket::add_address_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressOptions {
    /// Skip IPv6 duplicate address detection (`nodad`): the address is
    /// usable at once.
    pub nodad: bool,
    /// Do not add the prefix route (`noprefixroute`).
    pub no_prefix_route: bool,
}

impl RouteSocket {
    fn address_message(&self, op: Op, link: &LinkId, net: IpNet) -> Result<AddressMessage> {
        let index = self.resolve_index(op, link)?;
        let mut m = AddressMessage::default();
        m.header.family = family_of(net.addr());
        m.header.prefix_len = net.prefix_len();
        m.header.index = index;
        m.attributes.push(AddressAttribute::Local(net.addr()));
        m.attributes.push(AddressAttribute::Address(net.addr()));
        Ok(m)
    }

    /// Adds `net` to `link`, like `ip addr add NET brd + dev LINK` (IPv4
    /// addresses get the broadcast address of their prefix).
    ///
    /// # Errors
    /// [`Error::Os`] with `EEXIST` ([`Error::is_already_exists`]) when the
    /// address is already there, `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_address("eth0", "10.244.1.2/24".parse()?)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr add")]
    #[doc(alias = "RTM_NEWADDR")]
    pub fn add_address(&self, link: impl IntoLinkId, net: IpNet) -> Result<()> {
        self.add_address_with(link, net, AddressOptions::default())
    }

    /// Adds `net` to `link` with options.
    ///
    /// # Errors
    /// As [`add_address`](RouteSocket::add_address).
    ///
    /// ```no_run
    /// use nslink::AddressOptions;
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.add_address_with("eth0", "fd00::2/64".parse()?, AddressOptions { nodad: true, ..Default::default() })?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn add_address_with(
        &self,
        link: impl IntoLinkId,
        net: IpNet,
        opts: AddressOptions,
    ) -> Result<()> {
        let req = self.add_address_request(link.into_link_id()?, net, opts)?;
        self.send_one(req)
    }

    /// The `RTM_NEWADDR` request of [`add_address_with`](Self::add_address_with).
    pub(crate) fn add_address_request(
        &self,
        link: LinkId,
        net: IpNet,
        opts: AddressOptions,
    ) -> Result<Request> {
        let op = Op::AddAddress;
        let mut m = self.address_message(op, &link, net)?;
        if let Some(b) = net.broadcast() {
            m.attributes.push(AddressAttribute::Broadcast(b));
        }
        let mut flags = 0u32;
        if opts.nodad {
            flags |= 0x02; // IFA_F_NODAD
        }
        if opts.no_prefix_route {
            flags |= 0x200; // IFA_F_NOPREFIXROUTE
        }
        if flags != 0 {
            m.header.flags = AddressHeaderFlags::from_bits_truncate(flags as u8);
            m.attributes.push(AddressAttribute::Flags(
                netlink_packet_route::address::AddressFlags::from_bits_retain(flags),
            ));
        }
        Ok(Request {
            op,
            object: format!("{net} on {}", link.describe()),
            msg: RouteNetlinkMessage::NewAddress(m),
            flags: crate::link::CREATE,
        })
    }

    /// Removes `net` from `link`, like `ip addr del NET dev LINK`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EADDRNOTAVAIL` when the link does not have it,
    /// `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.delete_address("eth0", "10.244.1.2/24".parse()?)?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr del")]
    pub fn delete_address(&self, link: impl IntoLinkId, net: IpNet) -> Result<()> {
        let op = Op::DeleteAddress;
        let link = link.into_link_id()?;
        let m = self.address_message(op, &link, net)?;
        self.request(
            op,
            || format!("{net} on {}", link.describe()),
            RouteNetlinkMessage::DelAddress(m),
            0,
        )
        .map(drop)
    }

    /// Every address of the namespace, like `ip addr show`.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for a in nslink::RouteSocket::open()?.addresses()? {
    ///     println!("#{} {} scope {}", a.index, a.net, a.scope);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr show")]
    pub fn addresses(&self) -> Result<Vec<Address>> {
        let replies = self
            .dump(Op::ListAddresses, RouteNetlinkMessage::GetAddress(AddressMessage::default()))?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Address::from_message(a),
                _ => None,
            })
            .collect())
    }

    /// The addresses of one link, like `ip addr show dev LINK`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` for a missing link.
    ///
    /// ```no_run
    /// let v4: Vec<_> = nslink::RouteSocket::open()?
    ///     .link_addresses("eth0")?
    ///     .into_iter()
    ///     .filter(|a| a.net.is_ipv4())
    ///     .collect();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn link_addresses(&self, link: impl IntoLinkId) -> Result<Vec<Address>> {
        let index = self.resolve_index(Op::ListAddresses, &link.into_link_id()?)?;
        Ok(self.addresses()?.into_iter().filter(|a| a.index == index).collect())
    }

    /// Removes every address of `link`, like `ip addr flush dev LINK`;
    /// returns how many were removed.
    ///
    /// # Errors
    /// [`Error::Os`] with `ENODEV` for a missing link; the first refusal.
    ///
    /// ```no_run
    /// let removed = nslink::RouteSocket::open()?.flush_addresses("eth0")?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip addr flush")]
    pub fn flush_addresses(&self, link: impl IntoLinkId) -> Result<usize> {
        let link = link.into_link_id()?;
        let index = self.resolve_index(Op::DeleteAddress, &link)?;
        // Deleting a primary IPv4 address can take its secondaries with it,
        // so go round until the link is empty, and count every address seen
        // that is gone at the end.
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let list: Vec<Address> =
                self.addresses()?.into_iter().filter(|a| a.index == index).collect();
            if list.is_empty() {
                return Ok(seen.len());
            }
            let mut progressed = false;
            for a in list {
                seen.insert(a.net);
                match self.delete_address(index, a.net) {
                    Ok(()) => progressed = true,
                    Err(e) if e.errno() == Some(nix::errno::Errno::EADDRNOTAVAIL) => {}
                    Err(e) => return Err(e),
                }
            }
            if !progressed {
                let left = self.addresses()?.into_iter().filter(|a| a.index == index).count();
                return Ok(seen.len().saturating_sub(left));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipnet_parsing_and_math() {
        let n: IpNet = "10.244.1.7/24".parse().unwrap();
        assert_eq!(n.network().to_string(), "10.244.1.0/24");
        assert_eq!(n.broadcast(), Some(Ipv4Addr::new(10, 244, 1, 255)));
        assert!(n.contains("10.244.1.1".parse().unwrap()));
        assert!(!n.contains("10.244.2.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        let h: IpNet = "192.0.2.1".parse().unwrap();
        assert_eq!(h.prefix_len(), 32);
        assert_eq!(h.broadcast(), None);
        let v6: IpNet = "fd00::1:2/64".parse().unwrap();
        assert_eq!(v6.network().to_string(), "fd00::/64");
        assert_eq!(v6.broadcast(), None);
        let zero: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(zero.contains("8.8.8.8".parse().unwrap()));
        assert_eq!(IpNet::default_for("fd00::1".parse().unwrap()).to_string(), "::/0");
        for bad in ["10.0.0.1/33", "fd00::/129", "x/24", "10.0.0.1/", "10.0.0.1/a", ""] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }
}
