//! Routes (`ip route`): add, replace, delete, list; IPv4 and IPv6, default
//! routes via a gateway, device routes, tables and metrics.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::addr::IpNet;
use crate::error::{Error, Op, Result};
use crate::link::{IntoLinkId, LinkId};
use crate::netlink::{Request, RouteSocket};

/// The main routing table (`ip route` without `table`).
pub const TABLE_MAIN: u32 = 254;
/// The local table (addresses of this host).
pub const TABLE_LOCAL: u32 = 255;

/// A route: what to add or delete, and what listing returns.
///
/// ```no_run
/// use nslink::{Route, RouteSocket};
///
/// let nl = RouteSocket::open()?;
/// // ip route add default via 10.244.1.1
/// nl.add_route(&Route::default_via("10.244.1.1".parse()?))?;
/// // ip route add 10.96.0.0/12 dev eth0 table 100 metric 50
/// nl.add_route(&Route::to("10.96.0.0/12".parse()?).dev("eth0")?.table(100).metric(50))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix.
    pub dst: IpNet,
    /// Next-hop gateway (`via`).
    pub gateway: Option<IpAddr>,
    /// Output device (`dev`).
    pub dev: Option<LinkId>,
    /// Preferred source address (`src`).
    pub src: Option<IpAddr>,
    /// Routing table (default [`TABLE_MAIN`]).
    pub table: u32,
    /// Metric / priority (`metric`).
    pub metric: Option<u32>,
    /// Scope: `"global"`, `"link"`, `"host"`; chosen like `ip route` does
    /// when not set (link for a device route without gateway).
    pub scope: Option<&'static str>,
    /// Route type as `ip route` prints it (`unicast`, `local`, `broadcast`,
    /// `unreachable`, …); set on listed routes.
    pub kind: &'static str,
    /// Who installed it (`kernel`, `boot`, `static`, …); set on listed
    /// routes.
    pub protocol: &'static str,
}

impl Route {
    /// A route to `dst` (add a gateway or a device).
    ///
    /// ```
    /// let r = nslink::Route::to("10.96.0.0/12".parse()?).via("10.244.1.1".parse().unwrap());
    /// assert_eq!(r.dst.to_string(), "10.96.0.0/12");
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn to(dst: IpNet) -> Route {
        Route {
            dst: dst.network(),
            gateway: None,
            dev: None,
            src: None,
            table: TABLE_MAIN,
            metric: None,
            scope: None,
            kind: "unicast",
            protocol: "boot",
        }
    }

    /// The default route of `gateway`'s family via `gateway`, like
    /// `ip route add default via GW`.
    ///
    /// ```
    /// let r = nslink::Route::default_via("fd00::1".parse().unwrap());
    /// assert_eq!(r.dst.to_string(), "::/0");
    /// ```
    pub fn default_via(gateway: IpAddr) -> Route {
        Route::to(IpNet::default_for(gateway)).via(gateway)
    }

    /// Sets the gateway.
    pub fn via(mut self, gateway: IpAddr) -> Route {
        self.gateway = Some(gateway);
        self
    }

    /// Sets the output device.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for an invalid name.
    pub fn dev(mut self, link: impl IntoLinkId) -> Result<Route> {
        self.dev = Some(link.into_link_id()?);
        Ok(self)
    }

    /// Sets the preferred source address.
    pub fn src(mut self, src: IpAddr) -> Route {
        self.src = Some(src);
        self
    }

    /// Sets the table.
    pub fn table(mut self, table: u32) -> Route {
        self.table = table;
        self
    }

    /// Sets the metric.
    pub fn metric(mut self, metric: u32) -> Route {
        self.metric = Some(metric);
        self
    }

    /// Whether this route is in the main table.
    pub fn is_main(&self) -> bool {
        self.table == TABLE_MAIN
    }

    fn from_message(m: RouteMessage) -> Option<Route> {
        let family_v4 = match m.header.address_family {
            AddressFamily::Inet => true,
            AddressFamily::Inet6 => false,
            _ => return None,
        };
        let mut dst = None;
        let mut gateway = None;
        let mut dev = None;
        let mut src = None;
        let mut table = u32::from(m.header.table);
        let mut metric = None;
        for a in m.attributes {
            match a {
                RouteAttribute::Destination(addr) => dst = ip_of(addr),
                RouteAttribute::Gateway(addr) => gateway = ip_of(addr),
                RouteAttribute::PrefSource(addr) => src = ip_of(addr),
                RouteAttribute::Oif(i) => dev = Some(LinkId::Index(i)),
                RouteAttribute::Table(t) => table = t,
                RouteAttribute::Priority(p) => metric = Some(p),
                _ => {}
            }
        }
        let zero: IpAddr = if family_v4 {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        let dst = IpNet::new(dst.unwrap_or(zero), m.header.destination_prefix_length).ok()?;
        Some(Route {
            dst,
            gateway,
            dev,
            src,
            table,
            metric,
            scope: Some(scope_name(m.header.scope)),
            kind: type_name(m.header.kind),
            protocol: protocol_name(m.header.protocol),
        })
    }
}

fn ip_of(a: RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(v4.into()),
        RouteAddress::Inet6(v6) => Some(v6.into()),
        _ => None,
    }
}

fn scope_name(s: RouteScope) -> &'static str {
    match s {
        RouteScope::Universe => "global",
        RouteScope::Site => "site",
        RouteScope::Link => "link",
        RouteScope::Host => "host",
        RouteScope::NoWhere => "nowhere",
        _ => "other",
    }
}

fn scope_value(s: &str) -> RouteScope {
    match s {
        "link" => RouteScope::Link,
        "host" => RouteScope::Host,
        "site" => RouteScope::Site,
        _ => RouteScope::Universe,
    }
}

fn type_name(t: RouteType) -> &'static str {
    match t {
        RouteType::Unicast => "unicast",
        RouteType::Local => "local",
        RouteType::Broadcast => "broadcast",
        RouteType::Anycast => "anycast",
        RouteType::Multicast => "multicast",
        RouteType::BlackHole => "blackhole",
        RouteType::Unreachable => "unreachable",
        RouteType::Prohibit => "prohibit",
        _ => "other",
    }
}

fn protocol_name(p: RouteProtocol) -> &'static str {
    match p {
        RouteProtocol::Kernel => "kernel",
        RouteProtocol::Boot => "boot",
        RouteProtocol::Static => "static",
        RouteProtocol::Dhcp => "dhcp",
        RouteProtocol::Ra => "ra",
        RouteProtocol::Unspec => "unspec",
        _ => "other",
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Add,
    Replace,
    Delete,
}

impl RouteSocket {
    fn route_message(&self, op: Op, r: &Route, mode: Mode) -> Result<RouteMessage> {
        if let Some(gw) = r.gateway
            && gw.is_ipv4() != r.dst.is_ipv4()
        {
            return Err(Error::InvalidArgument {
                op,
                object: crate::error::Object::from(format!("route to {}", r.dst)),
                detail: format!("gateway {gw} is not of the destination's family"),
            });
        }
        let mut h = RouteHeader {
            address_family: if r.dst.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            },
            destination_prefix_length: r.dst.prefix_len(),
            // Tables above 255 travel in RTA_TABLE with rtm_table unspecified.
            table: u8::try_from(r.table).unwrap_or(0),
            ..Default::default()
        };
        if mode == Mode::Delete {
            h.scope = RouteScope::NoWhere;
        } else {
            h.protocol = RouteProtocol::Boot;
            h.kind = RouteType::Unicast;
            h.scope = match r.scope {
                Some(s) => scope_value(s),
                None if r.gateway.is_none() => RouteScope::Link,
                None => RouteScope::Universe,
            };
        }
        let mut m = RouteMessage::default();
        m.header = h;
        if r.dst.prefix_len() > 0 {
            m.attributes.push(RouteAttribute::Destination(r.dst.addr().into()));
        }
        if let Some(gw) = r.gateway {
            m.attributes.push(RouteAttribute::Gateway(gw.into()));
        }
        if let Some(dev) = &r.dev {
            m.attributes.push(RouteAttribute::Oif(self.resolve_index(op, dev)?));
        }
        if let Some(src) = r.src {
            m.attributes.push(RouteAttribute::PrefSource(src.into()));
        }
        if r.table > 255 {
            m.attributes.push(RouteAttribute::Table(r.table));
        }
        if let Some(metric) = r.metric {
            m.attributes.push(RouteAttribute::Priority(metric));
        }
        Ok(m)
    }

    fn describe_route(r: &Route) -> String {
        let mut s = format!("{}", r.dst);
        if let Some(gw) = r.gateway {
            s.push_str(&format!(" via {gw}"));
        }
        if let Some(dev) = &r.dev {
            s.push_str(&format!(" dev {dev}"));
        }
        if r.table != TABLE_MAIN {
            s.push_str(&format!(" table {}", r.table));
        }
        s
    }

    /// Adds a route, like `ip route add …`.
    ///
    /// # Errors
    /// [`Error::Os`] with `EEXIST` when it exists, `ENETUNREACH` (and the
    /// kernel's message) for a gateway no device can reach, `ENODEV` for a
    /// missing device; [`Error::InvalidArgument`] for a gateway of the other
    /// family.
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    /// let nl = RouteSocket::open()?;
    /// nl.add_route(&Route::to("10.0.0.0/8".parse()?).dev("eth0")?.metric(100))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route add")]
    #[doc(alias = "RTM_NEWROUTE")]
    pub fn add_route(&self, route: &Route) -> Result<()> {
        let req = self.add_route_request(route)?;
        self.send_one(req)
    }

    /// The `RTM_NEWROUTE` request of [`add_route`](Self::add_route).
    pub(crate) fn add_route_request(&self, route: &Route) -> Result<Request> {
        let op = Op::AddRoute;
        let m = self.route_message(op, route, Mode::Add)?;
        Ok(Request {
            op,
            object: Self::describe_route(route),
            msg: RouteNetlinkMessage::NewRoute(m),
            flags: NLM_F_CREATE | NLM_F_EXCL,
        })
    }

    /// Adds or replaces a route, like `ip route replace …`.
    ///
    /// # Errors
    /// As [`add_route`](RouteSocket::add_route), without `EEXIST`.
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    /// let nl = RouteSocket::open()?;
    /// nl.replace_route(&Route::default_via("10.244.1.254".parse().unwrap()))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route replace")]
    pub fn replace_route(&self, route: &Route) -> Result<()> {
        let op = Op::AddRoute;
        let m = self.route_message(op, route, Mode::Replace)?;
        self.request(
            op,
            || Self::describe_route(route),
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Deletes a route, like `ip route del …`.
    ///
    /// # Errors
    /// [`Error::Os`] with `ESRCH` ([`Error::is_not_found`]) when there is no
    /// such route.
    ///
    /// ```no_run
    /// use nslink::{Route, RouteSocket};
    /// let nl = RouteSocket::open()?;
    /// nl.delete_route(&Route::default_via("10.244.1.1".parse().unwrap()))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route del")]
    pub fn delete_route(&self, route: &Route) -> Result<()> {
        let op = Op::DeleteRoute;
        let m = self.route_message(op, route, Mode::Delete)?;
        self.request(op, || Self::describe_route(route), RouteNetlinkMessage::DelRoute(m), 0)
            .map(drop)
    }

    /// Every IPv4 and IPv6 route of every table, like
    /// `ip route show table all` plus `ip -6 route show table all`. Filter
    /// with [`Route::is_main`] for what plain `ip route` shows.
    ///
    /// # Errors
    /// The exchange errors.
    ///
    /// ```no_run
    /// for r in nslink::RouteSocket::open()?.routes()?.into_iter().filter(|r| r.is_main()) {
    ///     println!("{} via {:?} ({})", r.dst, r.gateway, r.protocol);
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "ip route show")]
    pub fn routes(&self) -> Result<Vec<Route>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut m = RouteMessage::default();
            m.header.address_family = family;
            for r in self.dump(Op::ListRoutes, RouteNetlinkMessage::GetRoute(m))? {
                if let RouteNetlinkMessage::NewRoute(r) = r
                    && let Some(route) = Route::from_message(r)
                {
                    out.push(route);
                }
            }
        }
        Ok(out)
    }
}
