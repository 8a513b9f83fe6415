//! [`Batch`]: several requests sent together in one datagram.

use netlink_packet_route::RouteNetlinkMessage;

use super::RouteSocket;
use crate::addr::{AddressOptions, IpNet};
use crate::error::{Object, Op, Result};
use crate::link::{IntoLinkId, delete_request, mtu_request, up_request};
use crate::route::Route;

/// A request ready to send: the message, its flags, and what to name in an
/// error.
pub(crate) struct Request {
    pub(crate) op: Op,
    pub(crate) object: Object,
    pub(crate) msg: RouteNetlinkMessage,
    pub(crate) flags: u16,
}

impl RouteSocket {
    /// Sends one prepared request and waits for its acknowledgement.
    pub(crate) fn send_one(&self, r: Request) -> Result<()> {
        let Request { op, object, msg, flags } = r;
        self.request(op, || object, msg, flags).map(drop)
    }

    /// Starts a batch: requests queued on it go to the kernel together, in
    /// one `sendmsg` (up to 128 per datagram), and their acknowledgements
    /// are collected in order. The kernel runs them one after the other, as
    /// if sent separately, so a failed request does not stop the next.
    ///
    /// Queueing a request that names a link for an address or a route
    /// resolves the name first (one round trip); pass indexes to avoid it.
    ///
    /// Kernel: the requests go in one sendmsg(2) of a `NETLINK_ROUTE`
    /// socket, each with `NLM_F_ACK` (netlink(7)); the kernel handles them
    /// in order, one by one, as rtnetlink(7) describes each. The privilege
    /// is each request's (`CAP_NET_ADMIN` for changes). Cost: one round
    /// trip for up to 128 requests, instead of one each.
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    ///
    /// let pod = RouteSocket::open()?;
    /// let mut b = pod.batch();
    /// b.set_up("lo")?.set_up(2)?;
    /// b.add_address(2, "10.244.1.2/24".parse()?)?;
    /// b.add_route(&Route::default_via("10.244.1.1".parse().unwrap()))?;
    /// b.commit()?; // one datagram out, four acknowledgements back
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn batch(&self) -> Batch<'_> {
        Batch { nl: self, reqs: Vec::new() }
    }
}

/// Requests queued to be sent together; see [`RouteSocket::batch`].
///
/// ```no_run
/// let nl = nslink::RouteSocket::open()?;
/// let mut b = nl.batch();
/// b.set_mtu("veth0", 1400)?.set_up("veth0")?;
/// assert_eq!(b.len(), 2);
/// b.commit()?;
/// # Ok::<(), nslink::Error>(())
/// ```
#[must_use = "a batch does nothing until it is sent or committed"]
pub struct Batch<'a> {
    nl: &'a RouteSocket,
    reqs: Vec<Request>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("requests", &self.reqs.len()).finish()
    }
}

impl Batch<'_> {
    fn push(&mut self, r: Request) -> &mut Self {
        self.reqs.push(r);
        self
    }

    /// Queues `ip link set DEV up`.
    ///
    /// Kernel: as [`RouteSocket::set_up`]; nothing is sent until
    /// [`send`](Batch::send) or [`commit`](Batch::commit).
    ///
    /// # Errors
    /// [`Error::InvalidName`](crate::Error::InvalidName) for an invalid name.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.set_up("lo")?.set_up("eth0")?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_up(&mut self, id: impl IntoLinkId) -> Result<&mut Self> {
        Ok(self.push(up_request(id.into_link_id()?, true)))
    }

    /// Queues `ip link set DEV down`.
    ///
    /// Kernel: as [`RouteSocket::set_down`], when the batch is sent.
    ///
    /// # Errors
    /// [`Error::InvalidName`](crate::Error::InvalidName) for an invalid name.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.set_down("veth0")?.set_down("veth1")?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_down(&mut self, id: impl IntoLinkId) -> Result<&mut Self> {
        Ok(self.push(up_request(id.into_link_id()?, false)))
    }

    /// Queues `ip link set DEV mtu N`.
    ///
    /// Kernel: as [`RouteSocket::set_mtu`], when the batch is sent.
    ///
    /// # Errors
    /// [`Error::InvalidName`](crate::Error::InvalidName) for an invalid name.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.set_mtu("veth0", 1400)?.set_mtu("veth1", 1400)?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn set_mtu(&mut self, id: impl IntoLinkId, mtu: u32) -> Result<&mut Self> {
        Ok(self.push(mtu_request(id.into_link_id()?, mtu)))
    }

    /// Queues `ip link del DEV`.
    ///
    /// Kernel: as [`RouteSocket::delete_link`], when the batch is sent.
    ///
    /// # Errors
    /// [`Error::InvalidName`](crate::Error::InvalidName) for an invalid name.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// for i in 0..10 {
    ///     b.delete_link(format!("veth{i}"))?;
    /// }
    /// let gone = b.send()?.iter().filter(|r| r.is_ok()).count();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn delete_link(&mut self, id: impl IntoLinkId) -> Result<&mut Self> {
        Ok(self.push(delete_request(id.into_link_id()?)))
    }

    /// Queues [`RouteSocket::add_address`].
    ///
    /// Kernel: as [`RouteSocket::add_address`], when the batch is sent; a
    /// link given by name is looked up now (one round trip).
    ///
    /// # Errors
    /// [`Error::InvalidName`](crate::Error::InvalidName); a link given by name that does not exist.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.add_address(2, "10.0.0.2/24".parse()?)?.add_address(2, "fd00::2/64".parse()?)?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn add_address(&mut self, link: impl IntoLinkId, net: IpNet) -> Result<&mut Self> {
        self.add_address_with(link, net, AddressOptions::default())
    }

    /// Queues [`RouteSocket::add_address_with`].
    ///
    /// Kernel: as [`add_address`](Batch::add_address).
    ///
    /// # Errors
    /// As [`add_address`](Batch::add_address).
    ///
    /// ```no_run
    /// use nslink::addr::{AddressFlags, AddressOptions};
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.add_address_with(2, "fd00::2/64".parse()?, AddressOptions::default().flags(AddressFlags::NODAD))?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn add_address_with(
        &mut self,
        link: impl IntoLinkId,
        net: IpNet,
        opts: AddressOptions,
    ) -> Result<&mut Self> {
        let r = self.nl.add_address_request(link.into_link_id()?, net, opts)?;
        Ok(self.push(r))
    }

    /// Queues [`RouteSocket::add_route`].
    ///
    /// Kernel: as [`RouteSocket::add_route`], when the batch is sent; a
    /// device given by name is looked up now (one round trip).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a gateway of the other family; a
    /// device given by name that does not exist.
    ///
    /// ```no_run
    /// use nslink::Route;
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.add_route(&Route::default_via("10.0.0.1".parse().unwrap()))?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn add_route(&mut self, route: &Route) -> Result<&mut Self> {
        let r = self.nl.add_route_request(route)?;
        Ok(self.push(r))
    }

    /// How many requests are queued.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.set_up(1)?;
    /// assert_eq!(b.len(), 1);
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.reqs.len()
    }

    /// Whether nothing is queued.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// assert!(nl.batch().is_empty());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Sends everything and returns one outcome per request, in the order
    /// they were queued.
    ///
    /// Kernel: one sendmsg(2) per 128 requests and the acknowledgements
    /// back (netlink(7)); each request needs its own privilege.
    ///
    /// # Errors
    /// The outer error is a failure of the exchange itself (timeout,
    /// protocol); each request's own refusal is in its slot.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.set_up("veth0")?.set_up("no-such-device")?;
    /// let outcomes = b.send()?;
    /// assert!(outcomes[0].is_ok() && outcomes[1].is_err());
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn send(self) -> Result<Vec<Result<()>>> {
        let op = self.reqs.first().map_or(Op::SetLink, |r| r.op);
        let mut meta = Vec::with_capacity(self.reqs.len());
        let mut msgs = Vec::with_capacity(self.reqs.len());
        for r in self.reqs {
            meta.push((r.op, r.object));
            msgs.push((r.msg, r.flags));
        }
        let replies = self.nl.send_batch(op, &msgs)?;
        Ok(replies
            .into_iter()
            .zip(meta)
            .map(|(reply, (op, object))| reply.map(drop).map_err(|e| e.into_error(op, object)))
            .collect())
    }

    /// Sends everything; the first refusal, if any, is the error (the
    /// requests after it were still carried out by the kernel).
    ///
    /// Kernel: as [`send`](Batch::send).
    ///
    /// # Errors
    /// The first failed request's error, or the exchange's.
    ///
    /// ```no_run
    /// let nl = nslink::RouteSocket::open()?;
    /// let mut b = nl.batch();
    /// b.set_up("lo")?;
    /// b.commit()?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn commit(self) -> Result<()> {
        self.send()?.into_iter().collect::<Result<Vec<()>>>().map(drop)
    }
}
