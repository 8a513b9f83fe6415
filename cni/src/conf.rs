//! The network configuration: the reference bridge plugin's keys, checked
//! before anything is changed.

use nslink::{IfName, IntoIfName, IpNet};
use rscni_types::error::Error;
use rscni_types::types::NetConf;
use serde::Deserialize;
use serde_json::Value;

/// The bridge keys of the configuration, as the reference plugin spells
/// them. Unknown keys are ignored, as the specification asks.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BridgeKeys {
    #[serde(default)]
    bridge: Option<String>,
    #[serde(default)]
    is_gateway: bool,
    #[serde(default)]
    is_default_gateway: bool,
    #[serde(default)]
    force_address: bool,
    #[serde(default)]
    ip_masq: bool,
    #[serde(default)]
    hairpin_mode: bool,
    #[serde(default)]
    promisc_mode: bool,
    #[serde(default)]
    mtu: u32,
    #[serde(default)]
    vlan: i64,
}

/// What the configuration asks for, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bridge (`bridge`, default `cni0`).
    pub bridge: IfName,
    /// The same, as text.
    pub bridge_name: String,
    /// Put the gateway address on the bridge and enable forwarding
    /// (`isGateway`, implied by `isDefaultGateway`).
    pub is_gateway: bool,
    /// Make the gateway the pod's default route (`isDefaultGateway`).
    pub is_default_gateway: bool,
    /// Replace a different address of the bridge (`forceAddress`).
    pub force_address: bool,
    /// Masquerade pod egress (`ipMasq`).
    pub ip_masq: bool,
    /// Hairpin mode on the pod's bridge port (`hairpinMode`).
    pub hairpin: bool,
    /// Promiscuous bridge (`promiscMode`).
    pub promisc: bool,
    /// MTU of the bridge and the veth pair (`mtu`; absent or 0: the
    /// kernel's default).
    pub mtu: Option<u32>,
    /// The pod's VLAN on a VLAN-filtering bridge (`vlan`; 0: none).
    pub vlan: Option<u16>,
    /// The IPAM plugin's name (`ipam.type`).
    pub ipam_type: String,
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::InvalidNetworkConfig(detail.into())
}

/// Reads the bridge keys of `conf` and checks them and the `ipam` section.
pub fn settings(conf: &NetConf, raw: &Value) -> Result<Settings, Error> {
    let keys = BridgeKeys::deserialize(raw)
        .map_err(|e| Error::FailedToDecode(format!("the bridge keys of the configuration: {e}")))?;
    let name = keys.bridge.clone().unwrap_or_else(|| "cni0".to_owned());
    let bridge = name.as_str().into_ifname().map_err(|e| {
        invalid(format!("\"bridge\": {name:?} is not a valid interface name ({e})"))
    })?;
    if keys.vlan < 0 || keys.vlan > 4094 {
        return Err(invalid(format!(
            "\"vlan\": {} is not a VLAN ID (it must be between 0 and 4094)",
            keys.vlan
        )));
    }
    if keys.hairpin_mode && keys.promisc_mode {
        return Err(invalid(
            "\"hairpinMode\" and \"promiscMode\" cannot both be true: choose one way for a pod to reach itself through the bridge",
        ));
    }
    if keys.mtu != 0 && !(68..=65535).contains(&keys.mtu) {
        return Err(invalid(format!(
            "\"mtu\": {} is out of range (68 to 65535, or 0 for the kernel's default)",
            keys.mtu
        )));
    }
    let Some(ipam) = &conf.ipam else {
        return Err(invalid(
            "the configuration has no \"ipam\" section: the bridge plugin needs an IPAM plugin (such as host-local) to give the pod its addresses",
        ));
    };
    if ipam.r#type.is_empty() || ipam.r#type.contains('/') || ipam.r#type.starts_with('.') {
        return Err(invalid(format!(
            "\"ipam\": \"type\" must name an IPAM plugin in CNI_PATH, not {:?}",
            ipam.r#type
        )));
    }
    check_ipam_subnets(raw)?;
    let vlan = u16::try_from(keys.vlan).ok().filter(|v| *v != 0);
    Ok(Settings {
        bridge,
        bridge_name: name,
        is_gateway: keys.is_gateway || keys.is_default_gateway,
        is_default_gateway: keys.is_default_gateway,
        force_address: keys.force_address,
        ip_masq: keys.ip_masq,
        hairpin: keys.hairpin_mode,
        promisc: keys.promisc_mode,
        mtu: (keys.mtu != 0).then_some(keys.mtu),
        vlan,
        ipam_type: ipam.r#type.clone(),
    })
}

/// Checks the subnets that host-local and static style IPAM sections
/// carry (`ipam.subnet`, `ipam.ranges[][].subnet`, `ipam.routes[].dst`), so
/// that a mistyped subnet is reported as a configuration error before any
/// plugin runs.
fn check_ipam_subnets(raw: &Value) -> Result<(), Error> {
    let Some(ipam) = raw.get("ipam") else { return Ok(()) };
    let check = |what: &str, v: &Value| -> Result<(), Error> {
        match v.as_str() {
            Some(s) => parse_net(s).map(|_| ()).map_err(|reason| {
                invalid(format!(
                    "\"ipam\": {what} {s:?} is not a subnet in CIDR notation ({reason})"
                ))
            }),
            None => Err(invalid(format!("\"ipam\": {what} must be a string in CIDR notation"))),
        }
    };
    if let Some(s) = ipam.get("subnet") {
        check("\"subnet\"", s)?;
    }
    if let Some(sets) = ipam.get("ranges").and_then(Value::as_array) {
        for (i, set) in sets.iter().enumerate() {
            for (j, range) in set.as_array().into_iter().flatten().enumerate() {
                if let Some(s) = range.get("subnet") {
                    check(&format!("\"ranges\"[{i}][{j}].subnet"), s)?;
                }
            }
        }
    }
    if let Some(routes) = ipam.get("routes").and_then(Value::as_array) {
        for (i, r) in routes.iter().enumerate() {
            if let Some(d) = r.get("dst") {
                check(&format!("\"routes\"[{i}].dst"), d)?;
            }
        }
    }
    Ok(())
}

/// Parses `ADDR/PREFIX`, requiring the prefix.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    if !s.contains('/') {
        return Err("no /prefix length".to_owned());
    }
    s.parse::<IpNet>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(json: &str) -> Result<Settings, Error> {
        let raw: Value = serde_json::from_str(json).unwrap();
        let conf: NetConf = serde_json::from_value(raw.clone()).unwrap();
        settings(&conf, &raw)
    }

    #[test]
    fn defaults_and_implications() {
        let s = conf(r#"{"cniVersion":"1.0.0","name":"n","type":"nslink-bridge","isDefaultGateway":true,"ipam":{"type":"host-local","subnet":"10.1.0.0/24"}}"#).unwrap();
        assert_eq!(s.bridge, "cni0");
        assert!(s.is_gateway && s.is_default_gateway);
        assert_eq!((s.mtu, s.vlan), (None, None));
    }

    #[test]
    fn bad_values_are_code_7() {
        for bad in [
            r#"{"name":"n","type":"t"}"#,
            r#"{"name":"n","type":"t","ipam":{"type":"host-local","subnet":"10.1.0.0/33"}}"#,
            r#"{"name":"n","type":"t","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0"}]]}}"#,
            r#"{"name":"n","type":"t","vlan":5000,"ipam":{"type":"host-local"}}"#,
            r#"{"name":"n","type":"t","bridge":"a-name-far-too-long","ipam":{"type":"host-local"}}"#,
            r#"{"name":"n","type":"t","hairpinMode":true,"promiscMode":true,"ipam":{"type":"host-local"}}"#,
            r#"{"name":"n","type":"t","ipam":{"type":"../x"}}"#,
        ] {
            let e = conf(bad).unwrap_err();
            assert_eq!(u32::from(&e), 7, "{bad}: {e}");
        }
    }
}
