//! The forwarding database of bridges and VXLAN devices (`bridge fdb`,
//! bridge(8); the `RTM_NEWNEIGH`/`RTM_DELNEIGH`/`RTM_GETNEIGH` messages of
//! rtnetlink(7) with family `AF_BRIDGE`).
//!
//! An FDB entry says where frames for one MAC address (in one VLAN) go: out
//! of a bridge port ([`FdbOptions::master`], the bridge's table), or, on a
//! VXLAN device ([`FdbOptions::self_`], the device's own table), to a remote
//! tunnel endpoint ([`FdbOptions::dst`], [`vni`](FdbOptions::vni),
//! [`port`](FdbOptions::port)). The all-zeros MAC on a VXLAN device is its
//! *default destination*, where unknown and broadcast frames go; it may have
//! several remotes, added with [`RouteSocket::append_fdb`] (flannel and
//! other overlays do this for every peer node).
//!
//! ```no_run
//! use nslink::fdb::{FdbFilter, FdbOptions};
//! use nslink::MacAddr;
//!
//! let nl = nslink::RouteSocket::open()?;
//! // bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2
//! nl.append_fdb("vx0", MacAddr::default(), &FdbOptions::new().dst("10.0.0.2".parse()?))?;
//! nl.append_fdb("vx0", MacAddr::default(), &FdbOptions::new().dst("10.0.0.3".parse()?))?;
//! for e in nl.fdb_entries(FdbFilter::device("vx0"))? {
//!     println!("{} via {:?}", e.mac, e.dst);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags as RawNeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Error, Object, ObjectKind, Op, Result};
use crate::link::{IntoLinkId, LinkId, MacAddr};
use crate::neigh::{NeighbourFlags, NeighbourState};
use crate::netlink::RouteSocket;

/// The state of a bridge or VXLAN FDB entry, in the words of bridge(8)
/// (`ndm_state`, the `NUD_*` values of rtnetlink(7), as the bridge reads
/// them).
///
/// - [`Permanent`](FdbState::Permanent) (`NUD_PERMANENT`; bridge(8) also
///   calls it `local`): on a bridge, frames for the address are delivered
///   to the host, not forwarded; the default of [`FdbOptions`], as of
///   `bridge fdb add`.
/// - [`Static`](FdbState::Static) (`NUD_NOARP`): forwarded to the port,
///   never aged out.
/// - [`Dynamic`](FdbState::Dynamic) (`NUD_REACHABLE`): forwarded, aged out
///   like a learned entry (`bridge -j fdb` prints its state as `""`).
/// - [`Stale`](FdbState::Stale) (`NUD_STALE`): a learned entry past its
///   ageing time, as the kernel reports it.
///
/// ```
/// use nslink::fdb::FdbState;
/// use nslink::NeighbourState;
///
/// assert_eq!("local".parse::<FdbState>()?, FdbState::Permanent);
/// assert_eq!("STATIC".parse::<FdbState>()?, FdbState::Static);
/// assert_eq!(FdbState::Dynamic.to_string(), "dynamic");
/// assert_eq!(NeighbourState::from(FdbState::Static), NeighbourState::Noarp);
/// assert_eq!(FdbState::from_value(0x80), FdbState::Permanent);
/// assert_eq!(FdbState::Other(0x300).to_string(), "768");
/// assert!("sometimes".parse::<FdbState>().is_err());
/// # Ok::<(), nslink::fdb::ParseFdbStateError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub enum FdbState {
    /// `NUD_PERMANENT`: a local entry (`permanent`, `local`).
    #[default]
    Permanent,
    /// `NUD_NOARP`: a static entry (`static`).
    Static,
    /// `NUD_REACHABLE`: a dynamic, ageing entry (`dynamic`).
    Dynamic,
    /// `NUD_STALE`: a learned entry past its ageing time (`stale`).
    Stale,
    /// Another combination of `NUD_*` bits; prints as the number.
    Other(u16),
}

impl FdbState {
    /// The kernel's `ndm_state` for this state.
    ///
    /// ```
    /// assert_eq!(nslink::fdb::FdbState::Static.value(), 0x40);
    /// ```
    pub fn value(self) -> u16 {
        match self {
            FdbState::Permanent => NeighbourState::Permanent.value(),
            FdbState::Static => NeighbourState::Noarp.value(),
            FdbState::Dynamic => NeighbourState::Reachable.value(),
            FdbState::Stale => NeighbourState::Stale.value(),
            FdbState::Other(v) => v,
        }
    }

    /// The state for the kernel's `ndm_state`, classified as bridge(8)
    /// prints it: the `NUD_PERMANENT` bit first (a VXLAN entry added by
    /// `bridge fdb add … permanent` holds `NUD_PERMANENT|NUD_NOARP`), then
    /// `NUD_NOARP`, `NUD_STALE`, `NUD_REACHABLE`; `Other` when none is set.
    ///
    /// ```
    /// use nslink::fdb::FdbState;
    /// assert_eq!(FdbState::from_value(0x02), FdbState::Dynamic);
    /// assert_eq!(FdbState::from_value(0xc0), FdbState::Permanent);
    /// assert_eq!(FdbState::from_value(0x01), FdbState::Other(1));
    /// ```
    pub fn from_value(v: u16) -> FdbState {
        let has = |s: NeighbourState| v & s.value() != 0;
        if has(NeighbourState::Permanent) {
            FdbState::Permanent
        } else if has(NeighbourState::Noarp) {
            FdbState::Static
        } else if has(NeighbourState::Stale) {
            FdbState::Stale
        } else if has(NeighbourState::Reachable) {
            FdbState::Dynamic
        } else {
            FdbState::Other(v)
        }
    }

    /// The word bridge(8) uses for it, if it has one.
    ///
    /// ```
    /// use nslink::fdb::FdbState;
    /// assert_eq!(FdbState::Permanent.name(), Some("permanent"));
    /// assert_eq!(FdbState::Other(1).name(), None);
    /// ```
    pub fn name(self) -> Option<&'static str> {
        match FdbState::from_value(self.value()) {
            FdbState::Permanent => Some("permanent"),
            FdbState::Static => Some("static"),
            FdbState::Dynamic => Some("dynamic"),
            FdbState::Stale => Some("stale"),
            FdbState::Other(_) => None,
        }
    }
}

impl PartialEq for FdbState {
    fn eq(&self, other: &FdbState) -> bool {
        self.value() == other.value()
    }
}
impl Eq for FdbState {}
impl std::hash::Hash for FdbState {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.value().hash(h)
    }
}

impl fmt::Display for FdbState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(w) => f.pad(w),
            None => f.pad(&self.value().to_string()),
        }
    }
}

impl From<FdbState> for NeighbourState {
    fn from(s: FdbState) -> NeighbourState {
        NeighbourState::from_value(s.value())
    }
}
impl From<NeighbourState> for FdbState {
    fn from(s: NeighbourState) -> FdbState {
        FdbState::from_value(s.value())
    }
}

/// A word that is not an [`FdbState`].
///
/// ```
/// let err = "sometimes".parse::<nslink::fdb::FdbState>().unwrap_err();
/// assert_eq!(err.input(), "sometimes");
/// assert!(err.to_string().contains("permanent, local, static, dynamic, stale"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fdb state {input:?}: expected permanent, local, static, dynamic, stale or a number"
)]
pub struct ParseFdbStateError {
    input: String,
}

impl ParseFdbStateError {
    /// The text that was refused.
    ///
    /// ```
    /// assert_eq!("x".parse::<nslink::fdb::FdbState>().unwrap_err().input(), "x");
    /// ```
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl FromStr for FdbState {
    type Err = ParseFdbStateError;
    /// Parses the words of bridge(8) (any case: `permanent` or `local`,
    /// `static`, `dynamic`, `stale`) or a number.
    fn from_str(s: &str) -> std::result::Result<FdbState, ParseFdbStateError> {
        let word = |w: &str| s.eq_ignore_ascii_case(w);
        Ok(if word("permanent") || word("local") {
            FdbState::Permanent
        } else if word("static") {
            FdbState::Static
        } else if word("dynamic") {
            FdbState::Dynamic
        } else if word("stale") {
            FdbState::Stale
        } else {
            let n = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u16::from_str_radix(hex, 16).ok(),
                None if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
                None => None,
            };
            match n {
                Some(v) => FdbState::from_value(v),
                None => return Err(ParseFdbStateError { input: s.to_owned() }),
            }
        })
    }
}

/// One entry of a bridge's or a device's forwarding database, as
/// `bridge fdb show` lists it.
///
/// ```no_run
/// use nslink::fdb::FdbFilter;
/// let nl = nslink::RouteSocket::open()?;
/// for e in nl.fdb_entries(FdbFilter::bridge("br0"))? {
///     println!("{} on #{} vlan {:?} {}", e.mac, e.index, e.vlan, e.state);
/// }
/// # Ok::<(), nslink::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FdbEntry {
    /// The device the entry is on (the bridge port, the VXLAN device, the
    /// bridge itself): `ndm_ifindex`.
    pub index: u32,
    /// The MAC address (`NDA_LLADDR`); all zeros for a VXLAN device's
    /// default destination.
    pub mac: MacAddr,
    /// The bridge whose table holds it (`NDA_MASTER`), for a bridge entry.
    pub master: Option<u32>,
    /// Its VLAN (`NDA_VLAN`), on a VLAN-aware bridge.
    pub vlan: Option<u16>,
    /// Its flags: [`NeighbourFlags::MASTER`] for the bridge's table,
    /// [`NeighbourFlags::SELF`] for the device's own, and `sticky`,
    /// `extern_learn`, `offload`.
    pub flags: NeighbourFlags,
    /// Its state, as bridge(8) names it.
    pub state: FdbState,
    /// Its `ndm_state` exactly as the kernel sent it (`state` classifies
    /// it; a few bits may be set together).
    pub nud: NeighbourState,
    /// A VXLAN entry's remote endpoint (`NDA_DST`).
    pub dst: Option<IpAddr>,
    /// A VXLAN entry's VNI (`NDA_VNI`), when it differs from the device's.
    pub vni: Option<u32>,
    /// A VXLAN entry's UDP destination port (`NDA_PORT`), when it differs
    /// from the device's.
    pub port: Option<u16>,
    /// A VXLAN entry's outgoing (underlay) device (`NDA_IFINDEX`).
    pub via: Option<u32>,
    /// A VXLAN entry's source VNI (`NDA_SRC_VNI`, collect-metadata devices).
    pub src_vni: Option<u32>,
}

impl FdbEntry {
    /// Whether this is a VXLAN default destination (the all-zeros MAC).
    ///
    /// ```
    /// # fn check(e: &nslink::fdb::FdbEntry) {
    /// if e.is_default_destination() { println!("flooded to {:?}", e.dst) }
    /// # }
    /// ```
    pub fn is_default_destination(&self) -> bool {
        self.mac == MacAddr::default()
    }
}

/// What [`RouteSocket::fdb_entries`] lists: everything, or what the kernel
/// keeps for one bridge (`bridge fdb show br BR`) or one device
/// (`bridge fdb show dev DEV`), optionally one VLAN only. Both devices may
/// be given: the entries of that device, if it belongs to that bridge.
///
/// ```
/// use nslink::fdb::FdbFilter;
/// let f = FdbFilter::bridge("br0").and_device("veth1").vlan(10);
/// # let _ = f;
/// let everything = FdbFilter::all();
/// # let _ = everything;
/// ```
#[derive(Debug, Default)]
#[must_use = "a filter does nothing until passed to `fdb_entries`"]
pub struct FdbFilter {
    bridge: Option<Result<LinkId>>,
    device: Option<Result<LinkId>>,
    vlan: Option<u16>,
}

impl FdbFilter {
    /// Every entry of the namespace (`bridge fdb show`).
    ///
    /// ```
    /// let f = nslink::fdb::FdbFilter::all();
    /// # let _ = f;
    /// ```
    pub fn all() -> FdbFilter {
        FdbFilter::default()
    }

    /// The entries of one bridge: of the bridge itself and of its ports
    /// (`bridge fdb show br BR`).
    ///
    /// ```
    /// let f = nslink::fdb::FdbFilter::bridge("br0");
    /// # let _ = f;
    /// ```
    pub fn bridge(bridge: impl IntoLinkId) -> FdbFilter {
        FdbFilter::default().and_bridge(bridge)
    }

    /// The entries on one device (`bridge fdb show dev DEV`).
    ///
    /// ```
    /// let f = nslink::fdb::FdbFilter::device("vx0");
    /// # let _ = f;
    /// ```
    pub fn device(device: impl IntoLinkId) -> FdbFilter {
        FdbFilter::default().and_device(device)
    }

    /// Restricts to the entries of one bridge too.
    ///
    /// ```
    /// let f = nslink::fdb::FdbFilter::device("veth1").and_bridge("br0");
    /// # let _ = f;
    /// ```
    pub fn and_bridge(mut self, bridge: impl IntoLinkId) -> FdbFilter {
        self.bridge = Some(bridge.into_link_id());
        self
    }

    /// Restricts to the entries on one device too.
    ///
    /// ```
    /// let f = nslink::fdb::FdbFilter::bridge("br0").and_device("veth1");
    /// # let _ = f;
    /// ```
    pub fn and_device(mut self, device: impl IntoLinkId) -> FdbFilter {
        self.device = Some(device.into_link_id());
        self
    }

    /// Restricts to the entries of one VLAN (`vlan VID`; the kernel cannot
    /// filter on it, so this is done on the dump).
    ///
    /// ```
    /// let f = nslink::fdb::FdbFilter::all().vlan(10);
    /// # let _ = f;
    /// ```
    pub fn vlan(mut self, vid: u16) -> FdbFilter {
        self.vlan = Some(vid);
        self
    }
}

/// The options of an FDB entry to add, replace, append or delete, after
/// `bridge fdb add MAC dev DEV` (bridge(8)).
///
/// Where it goes: [`master`](FdbOptions::master) puts it in the table of the
/// bridge the device is a port of (`NTF_MASTER`), [`self_`](FdbOptions::self_)
/// in the device's own (`NTF_SELF`: a VXLAN device, the bridge device
/// itself, or a device's unicast/multicast address list). Both may be set.
/// With neither, the entry goes to the device's own table (`NTF_SELF`), as
/// `bridge fdb add` does.
///
/// ```
/// use nslink::fdb::{FdbOptions, FdbState};
///
/// // bridge fdb add MAC dev veth1 master static vlan 10
/// let port = FdbOptions::new().master().state(FdbState::Static).vlan(10);
/// // bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2 vni 42 port 4789
/// let remote = FdbOptions::new().dst("10.0.0.2".parse().unwrap()).vni(42).port(4789);
/// # let _ = (port, remote);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "options do nothing until passed to an fdb operation"]
pub struct FdbOptions {
    flags: NeighbourFlags,
    state: FdbState,
    vlan: Option<u16>,
    dst: Option<IpAddr>,
    vni: Option<u32>,
    port: Option<u16>,
    via: Option<u32>,
    src_vni: Option<u32>,
}

impl FdbOptions {
    /// No options: a permanent entry in the device's own table.
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new();
    /// # let _ = o;
    /// ```
    pub fn new() -> FdbOptions {
        FdbOptions::default()
    }

    /// In the table of the bridge the device is a port of (`master`,
    /// `NTF_MASTER`).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().master();
    /// # let _ = o;
    /// ```
    pub fn master(mut self) -> FdbOptions {
        self.flags |= NeighbourFlags::MASTER;
        self
    }

    /// In the device's own table (`self`, `NTF_SELF`): a VXLAN device's
    /// remotes, the bridge device's own entries.
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().self_();
    /// # let _ = o;
    /// ```
    #[doc(alias = "self")]
    pub fn self_(mut self) -> FdbOptions {
        self.flags |= NeighbourFlags::SELF;
        self
    }

    /// The entry's state ([`FdbState::Permanent`] unless set).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().master().state(nslink::fdb::FdbState::Dynamic);
    /// # let _ = o;
    /// ```
    pub fn state(mut self, state: FdbState) -> FdbOptions {
        self.state = state;
        self
    }

    /// The entry may not move to another port (`sticky`, `NTF_STICKY`; not
    /// with a permanent entry).
    ///
    /// ```
    /// use nslink::fdb::{FdbOptions, FdbState};
    /// let o = FdbOptions::new().master().state(FdbState::Static).sticky();
    /// # let _ = o;
    /// ```
    pub fn sticky(mut self) -> FdbOptions {
        self.flags |= NeighbourFlags::STICKY;
        self
    }

    /// The entry is managed by an external agent (`extern_learn`,
    /// `NTF_EXT_LEARNED`).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().master().extern_learn();
    /// # let _ = o;
    /// ```
    pub fn extern_learn(mut self) -> FdbOptions {
        self.flags |= NeighbourFlags::EXT_LEARNED;
        self
    }

    /// The VLAN (`vlan VID`, `NDA_VLAN`), 1 to 4094, on a VLAN-aware bridge.
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().master().vlan(10);
    /// # let _ = o;
    /// ```
    pub fn vlan(mut self, vid: u16) -> FdbOptions {
        self.vlan = Some(vid);
        self
    }

    /// A VXLAN entry's remote endpoint (`dst IP`, `NDA_DST`).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().dst("10.0.0.2".parse().unwrap());
    /// # let _ = o;
    /// ```
    pub fn dst(mut self, ip: IpAddr) -> FdbOptions {
        self.dst = Some(ip);
        self
    }

    /// A VXLAN entry's VNI, when not the device's (`vni N`, `NDA_VNI`).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().dst("10.0.0.2".parse().unwrap()).vni(43);
    /// # let _ = o;
    /// ```
    pub fn vni(mut self, vni: u32) -> FdbOptions {
        self.vni = Some(vni);
        self
    }

    /// A VXLAN entry's UDP destination port, when not the device's
    /// (`port N`, `NDA_PORT`).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().dst("10.0.0.2".parse().unwrap()).port(8472);
    /// # let _ = o;
    /// ```
    pub fn port(mut self, port: u16) -> FdbOptions {
        self.port = Some(port);
        self
    }

    /// A VXLAN entry's outgoing device, by index (`via DEV`, `NDA_IFINDEX`).
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().dst("fe80::1".parse().unwrap()).via(2);
    /// # let _ = o;
    /// ```
    pub fn via(mut self, index: u32) -> FdbOptions {
        self.via = Some(index);
        self
    }

    /// A VXLAN entry's source VNI (`src_vni N`, `NDA_SRC_VNI`), on a
    /// collect-metadata device.
    ///
    /// ```
    /// let o = nslink::fdb::FdbOptions::new().src_vni(42);
    /// # let _ = o;
    /// ```
    pub fn src_vni(mut self, vni: u32) -> FdbOptions {
        self.src_vni = Some(vni);
        self
    }
}

/// The range of a usable VLAN id (IEEE 802.1Q reserves 0 and 4095).
pub(crate) const VLAN_IDS: std::ops::RangeInclusive<u16> = 1..=4094;

/// Refuses a VLAN id outside 1..=4094 before anything is sent.
pub(crate) fn check_vid(op: Op, object: impl FnOnce() -> Object, vid: u16) -> Result<()> {
    if VLAN_IDS.contains(&vid) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            op,
            object: object(),
            detail: format!(
                "VLAN id {vid} is out of range: usable ids are 1 to 4094 (802.1Q reserves 0 and 4095)"
            ),
        })
    }
}

/// The failing object for an FDB entry: `02:00:00:00:00:01 vlan 10 dst
/// 10.0.0.2 on link "vx0"`.
fn entry_object(mac: MacAddr, o: &FdbOptions, link: &LinkId) -> Object {
    let mut v = mac.to_string();
    if let Some(vid) = o.vlan {
        v.push_str(&format!(" vlan {vid}"));
    }
    if let Some(dst) = o.dst {
        v.push_str(&format!(" dst {dst}"));
    }
    Object::value(ObjectKind::Other, v).with_detail(format!("on {}", link.object()))
}

/// The request message for an entry on device `index`.
fn entry_message(index: u32, mac: MacAddr, o: &FdbOptions) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Bridge;
    m.header.ifindex = index;
    m.header.state = o.state.value().into();
    let mut flags = o.flags;
    if !flags.intersects(NeighbourFlags::MASTER | NeighbourFlags::SELF) {
        flags |= NeighbourFlags::SELF;
    }
    m.header.flags = RawNeighbourFlags::from_bits_retain(flags.bits());
    m.attributes.push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
    if let Some(vid) = o.vlan {
        m.attributes.push(NeighbourAttribute::Vlan(vid));
    }
    if let Some(dst) = o.dst {
        m.attributes.push(NeighbourAttribute::Destination(NeighbourAddress::from(dst)));
    }
    if let Some(vni) = o.vni {
        m.attributes.push(NeighbourAttribute::Vni(vni));
    }
    if let Some(port) = o.port {
        m.attributes.push(NeighbourAttribute::Port(port));
    }
    if let Some(via) = o.via {
        m.attributes.push(NeighbourAttribute::IfIndex(via));
    }
    if let Some(vni) = o.src_vni {
        m.attributes.push(NeighbourAttribute::SourceVni(vni));
    }
    m
}

/// Reads one `RTM_NEWNEIGH` of family `AF_BRIDGE`.
pub(crate) fn parse_entry(m: &NeighbourMessage) -> Option<FdbEntry> {
    if m.header.family != AddressFamily::Bridge {
        return None;
    }
    let mut e = FdbEntry {
        index: m.header.ifindex,
        mac: MacAddr::default(),
        master: None,
        vlan: None,
        flags: NeighbourFlags::from_bits_retain(m.header.flags.bits()),
        state: FdbState::from_value(m.header.state.into()),
        nud: NeighbourState::from_value(m.header.state.into()),
        dst: None,
        vni: None,
        port: None,
        via: None,
        src_vni: None,
    };
    let mut mac = None;
    for a in &m.attributes {
        match a {
            NeighbourAttribute::LinkLayerAddress(b) => mac = MacAddr::from_bytes(b),
            NeighbourAttribute::Controller(i) => e.master = Some(*i),
            NeighbourAttribute::Vlan(v) => e.vlan = Some(*v),
            NeighbourAttribute::Destination(d) => e.dst = ip_of(d),
            NeighbourAttribute::Vni(v) => e.vni = Some(*v),
            NeighbourAttribute::Port(p) => e.port = Some(*p),
            NeighbourAttribute::IfIndex(i) => e.via = Some(*i),
            NeighbourAttribute::SourceVni(v) => e.src_vni = Some(*v),
            _ => {}
        }
    }
    // An entry without a 6-byte address is not an Ethernet FDB entry.
    e.mac = mac?;
    Some(e)
}

/// `NDA_DST` of an `AF_BRIDGE` message: the family of the address is told
/// by its length (4 or 16 bytes).
fn ip_of(d: &NeighbourAddress) -> Option<IpAddr> {
    match d {
        NeighbourAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        NeighbourAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        NeighbourAddress::Other(b) => match b.len() {
            4 => <[u8; 4]>::try_from(&b[..]).ok().map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            16 => <[u8; 16]>::try_from(&b[..]).ok().map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            _ => None,
        },
        _ => None,
    }
}

impl RouteSocket {
    /// The FDB entries `filter` selects, like `bridge fdb show [br BR]
    /// [dev DEV] [vlan VID]`: bridge entries (learned and added), VXLAN
    /// remotes, and the devices' own unicast and multicast addresses
    /// (`self`, permanent).
    ///
    /// Kernel: an `RTM_GETNEIGH` dump with family `AF_BRIDGE`
    /// (rtnetlink(7); bridge(8) `fdb show`). The bridge filter goes in
    /// `NDA_MASTER` and the device filter in `ndm_ifindex`, which the kernel
    /// applies itself (strict checking is on); the VLAN filter is applied to
    /// the dump. No privilege. A link given by name is looked up first (one
    /// more round trip each).
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad name; [`Error::NotFound`] for a
    /// device or bridge that does not exist; the exchange errors.
    ///
    /// ```no_run
    /// use nslink::fdb::FdbFilter;
    /// let nl = nslink::RouteSocket::open()?;
    /// let remotes: Vec<_> = nl
    ///     .fdb_entries(FdbFilter::device("vx0"))?
    ///     .into_iter()
    ///     .filter(|e| e.is_default_destination())
    ///     .filter_map(|e| e.dst)
    ///     .collect();
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge fdb show")]
    #[doc(alias = "RTM_GETNEIGH")]
    pub fn fdb_entries(&self, filter: FdbFilter) -> Result<Vec<FdbEntry>> {
        let op = Op::ListFdb;
        let resolve = |id: Option<Result<LinkId>>| -> Result<Option<u32>> {
            match id {
                None => Ok(None),
                Some(Err(e)) => Err(e),
                Some(Ok(id)) => match self.link(&id)? {
                    Some(l) => Ok(Some(l.index())),
                    None => {
                        Err(Error::NotFound { op, object: id.object(), errno: None, extack: None })
                    }
                },
            }
        };
        let bridge = resolve(filter.bridge)?;
        let device = resolve(filter.device)?;
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        if let Some(i) = device {
            m.header.ifindex = i;
        }
        if let Some(b) = bridge {
            m.attributes.push(NeighbourAttribute::Controller(b));
        }
        let replies = self.dump(op, RouteNetlinkMessage::GetNeighbour(m))?;
        Ok(replies
            .iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewNeighbour(m) => parse_entry(m),
                _ => None,
            })
            .filter(|e| filter.vlan.is_none_or(|v| e.vlan == Some(v)))
            .collect())
    }

    /// Adds an entry; fails with `EEXIST` if it exists. Like
    /// `bridge fdb add MAC dev DEV [master|self] [STATE] [vlan VID]
    /// [dst IP] [vni N] [port N] [via DEV]`.
    ///
    /// Kernel: `RTM_NEWNEIGH` with family `AF_BRIDGE`,
    /// `NLM_F_CREATE|NLM_F_EXCL`, `ndm_flags` `NTF_MASTER`/`NTF_SELF`,
    /// `ndm_state`, and `NDA_LLADDR`, `NDA_VLAN`, `NDA_DST`, `NDA_VNI`,
    /// `NDA_PORT`, `NDA_IFINDEX` as given (rtnetlink(7); bridge(8)
    /// `fdb add`). Needs `CAP_NET_ADMIN`. A link given by name is looked up
    /// first (one more round trip).
    ///
    /// # Errors
    /// - [`Error::InvalidArgument`] for a VLAN id outside 1..=4094, before
    ///   anything is sent.
    /// - [`Error::Os`] with `EEXIST` for an existing entry; with
    ///   `EOPNOTSUPP` when the device cannot hold it (a `master` entry on a
    ///   device that is not a bridge port: the error says so); with `EINVAL`
    ///   (and the kernel's message) for what the kernel refuses (an
    ///   all-zeros or multicast MAC on a bridge, a VLAN the port is not in).
    /// - [`Error::NotFound`] for a missing device.
    ///
    /// ```no_run
    /// use nslink::fdb::{FdbOptions, FdbState};
    /// let nl = nslink::RouteSocket::open()?;
    /// let mac = "02:42:0a:f4:01:02".parse()?;
    /// nl.add_fdb("veth1", mac, &FdbOptions::new().master().state(FdbState::Static))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge fdb add")]
    #[doc(alias = "RTM_NEWNEIGH")]
    pub fn add_fdb(&self, link: impl IntoLinkId, mac: MacAddr, options: &FdbOptions) -> Result<()> {
        self.fdb_request(Op::AddFdbEntry, link, mac, options, NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Adds an entry or replaces the one with the same MAC (and VLAN),
    /// like `bridge fdb replace …`. On a VXLAN device, the entry's first
    /// remote is replaced.
    ///
    /// Kernel: as [`add_fdb`](Self::add_fdb), with
    /// `NLM_F_CREATE|NLM_F_REPLACE`. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`add_fdb`](Self::add_fdb), without `EEXIST`.
    ///
    /// ```no_run
    /// use nslink::fdb::{FdbOptions, FdbState};
    /// let nl = nslink::RouteSocket::open()?;
    /// let mac = "02:42:0a:f4:01:02".parse()?;
    /// nl.replace_fdb("veth2", mac, &FdbOptions::new().master().state(FdbState::Static))?;
    /// # Ok::<(), nslink::Error>(())
    /// ```
    #[doc(alias = "bridge fdb replace")]
    pub fn replace_fdb(
        &self,
        link: impl IntoLinkId,
        mac: MacAddr,
        options: &FdbOptions,
    ) -> Result<()> {
        self.fdb_request(Op::AddFdbEntry, link, mac, options, NLM_F_CREATE | NLM_F_REPLACE)
    }

    /// Adds one more remote to a VXLAN entry, like
    /// `bridge fdb append MAC dev DEV dst IP …`: with the all-zeros MAC,
    /// one more default destination, as flannel-style overlays add one per
    /// peer node. Appending a remote the entry has already is accepted by
    /// the kernel and changes nothing.
    ///
    /// Kernel: as [`add_fdb`](Self::add_fdb), with
    /// `NLM_F_CREATE|NLM_F_APPEND`; only VXLAN devices keep several remotes
    /// per MAC. Needs `CAP_NET_ADMIN`.
    ///
    /// # Errors
    /// As [`add_fdb`](Self::add_fdb), without `EEXIST`.
    ///
    /// ```no_run
    /// use nslink::fdb::FdbOptions;
    /// use nslink::MacAddr;
    /// let nl = nslink::RouteSocket::open()?;
    /// for peer in ["10.0.0.2", "10.0.0.3"] {
    ///     nl.append_fdb("vx0", MacAddr::default(), &FdbOptions::new().dst(peer.parse()?))?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "bridge fdb append")]
    #[doc(alias = "NLM_F_APPEND")]
    pub fn append_fdb(
        &self,
        link: impl IntoLinkId,
        mac: MacAddr,
        options: &FdbOptions,
    ) -> Result<()> {
        self.fdb_request(Op::AddFdbEntry, link, mac, options, NLM_F_CREATE | NLM_F_APPEND)
    }

    /// Deletes an entry, like `bridge fdb del MAC dev DEV [master|self]
    /// [vlan VID] [dst IP …]`. On a VXLAN device, giving `dst` (and `vni`,
    /// `port`, `via`) deletes that one remote; without it the whole entry
    /// goes. The state in `options` is not used.
    ///
    /// Kernel: `RTM_DELNEIGH` with family `AF_BRIDGE`, the same flags and
    /// attributes as [`add_fdb`](Self::add_fdb) (rtnetlink(7); bridge(8)
    /// `fdb del`). Needs `CAP_NET_ADMIN`.
    ///
    /// On a VXLAN device, a remote the entry does not have is accepted by
    /// the kernel and nothing is deleted.
    ///
    /// # Errors
    /// [`Error::NotFound`] (`ENOENT`) when there is no entry for the MAC
    /// (and VLAN); as [`add_fdb`](Self::add_fdb) otherwise.
    ///
    /// ```no_run
    /// use nslink::fdb::FdbOptions;
    /// use nslink::MacAddr;
    /// let nl = nslink::RouteSocket::open()?;
    /// nl.delete_fdb("vx0", MacAddr::default(), &FdbOptions::new().dst("10.0.0.3".parse()?))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "bridge fdb del")]
    #[doc(alias = "RTM_DELNEIGH")]
    pub fn delete_fdb(
        &self,
        link: impl IntoLinkId,
        mac: MacAddr,
        options: &FdbOptions,
    ) -> Result<()> {
        self.fdb_request(Op::DeleteFdbEntry, link, mac, options, 0)
    }

    /// Deletes an entry as [`fdb_entries`](Self::fdb_entries) listed it
    /// (its device, MAC, VLAN, table, and remote).
    ///
    /// Kernel: as [`delete_fdb`](Self::delete_fdb).
    ///
    /// # Errors
    /// As [`delete_fdb`](Self::delete_fdb).
    ///
    /// ```no_run
    /// use nslink::fdb::{FdbFilter, FdbState};
    /// let nl = nslink::RouteSocket::open()?;
    /// for e in nl.fdb_entries(FdbFilter::bridge("br0"))? {
    ///     if e.state == FdbState::Static {
    ///         nl.delete_fdb_entry(&e)?;
    ///     }
    /// }
    /// # Ok::<(), nslink::Error>(())
    /// ```
    pub fn delete_fdb_entry(&self, entry: &FdbEntry) -> Result<()> {
        let options = FdbOptions {
            flags: entry.flags & (NeighbourFlags::MASTER | NeighbourFlags::SELF),
            state: entry.state,
            vlan: entry.vlan,
            dst: entry.dst,
            vni: entry.vni,
            port: entry.port,
            via: entry.via,
            src_vni: entry.src_vni,
        };
        // The kernel lists a bridge's entries with NDA_MASTER, not
        // NTF_MASTER: ask the table that holds it.
        let options = if entry.master.is_some() && !options.flags.contains(NeighbourFlags::SELF) {
            options.master()
        } else {
            options
        };
        self.delete_fdb(entry.index, entry.mac, &options)
    }

    fn fdb_request(
        &self,
        op: Op,
        link: impl IntoLinkId,
        mac: MacAddr,
        options: &FdbOptions,
        flags: u16,
    ) -> Result<()> {
        let link = link.into_link_id()?;
        if let Some(vid) = options.vlan {
            check_vid(op, || entry_object(mac, options, &link), vid)?;
        }
        let index = self.resolve_index(op, &link)?;
        let msg = entry_message(index, mac, options);
        let msg = if op == Op::DeleteFdbEntry {
            RouteNetlinkMessage::DelNeighbour(msg)
        } else {
            RouteNetlinkMessage::NewNeighbour(msg)
        };
        match self.request_reply(op, msg, flags)? {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut object = entry_object(mac, options, &link);
                // Explain the kernel's bare EOPNOTSUPP when it is because
                // the device has no bridge.
                let not_a_port = e.errno() == Some(nix::libc::EOPNOTSUPP)
                    && options.flags.contains(NeighbourFlags::MASTER)
                    && matches!(self.link(index), Ok(Some(l)) if l.master().is_none());
                if not_a_port {
                    object = object.with_detail(format!(
                        "on {} (not a bridge port: a master entry needs one)",
                        link.object()
                    ));
                }
                Err(e.into_error(op, object))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_family_destinations_are_read_by_length() {
        let v4 = NeighbourAddress::Other(vec![10, 0, 0, 2]);
        assert_eq!(ip_of(&v4), Some("10.0.0.2".parse().unwrap()));
        let mut b = vec![0u8; 16];
        b[0] = 0xfd;
        b[15] = 2;
        assert_eq!(ip_of(&NeighbourAddress::Other(b)), Some("fd00::2".parse().unwrap()));
        assert_eq!(ip_of(&NeighbourAddress::Other(vec![1, 2, 3])), None);
    }

    #[test]
    fn request_defaults_to_the_device_table_and_round_trips() {
        let o = FdbOptions::new().dst("10.0.0.2".parse().unwrap()).vni(43).port(4790).via(3);
        let m = entry_message(7, MacAddr::default(), &o);
        assert_eq!(m.header.family, AddressFamily::Bridge);
        assert_eq!(m.header.flags.bits(), NeighbourFlags::SELF.bits());
        assert_eq!(u16::from(m.header.state), 0x80);
        // What the kernel would send back for it reads the same.
        let mut back = m.clone();
        back.attributes = back
            .attributes
            .into_iter()
            .map(|a| match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                    NeighbourAttribute::Destination(NeighbourAddress::Other(v4.octets().to_vec()))
                }
                a => a,
            })
            .collect();
        let e = parse_entry(&back).unwrap();
        assert_eq!(e.index, 7);
        assert!(e.is_default_destination());
        assert_eq!(e.dst, Some("10.0.0.2".parse().unwrap()));
        assert_eq!((e.vni, e.port, e.via), (Some(43), Some(4790), Some(3)));
        assert_eq!(e.state, FdbState::Permanent);
        let master = entry_message(7, MacAddr::default(), &FdbOptions::new().master());
        assert_eq!(master.header.flags.bits(), NeighbourFlags::MASTER.bits());
    }

    #[test]
    fn states_parse_and_classify_like_bridge() {
        assert_eq!("local".parse::<FdbState>().unwrap(), FdbState::Permanent);
        assert_eq!("0x40".parse::<FdbState>().unwrap(), FdbState::Static);
        assert_eq!("2".parse::<FdbState>().unwrap(), FdbState::Dynamic);
        assert!("".parse::<FdbState>().is_err());
        assert_eq!(FdbState::from_value(0xc0), FdbState::Permanent);
        assert_eq!(FdbState::from_value(0x44), FdbState::Static);
        assert_eq!(FdbState::from_value(0x00), FdbState::Other(0));
    }
}
