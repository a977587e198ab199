//! Network identifiers: CAIP-2 `eip155:<chainId>` (x402 v2) and the legacy v1 names
//! (`base`, `base-sepolia`, …), both mapped to an EVM chain id.

/// v1 network names and their chain ids, as in the x402 reference implementation.
pub const V1_NETWORK_NAMES: &[(&str, u64)] = &[
    ("base", 8453),
    ("base-sepolia", 84532),
    ("ethereum", 1),
    ("sepolia", 11_155_111),
    ("abstract", 2741),
    ("abstract-testnet", 11124),
    ("avalanche", 43114),
    ("avalanche-fuji", 43113),
    ("iotex", 4689),
    ("sei", 1329),
    ("sei-testnet", 1328),
    ("polygon", 137),
    ("polygon-amoy", 80002),
    ("peaq", 3338),
    ("story", 1514),
    ("educhain", 41923),
    ("skale-base-sepolia", 324_705_682),
];

/// The CAIP-2 id of an EVM chain: `eip155:<chain_id>`.
pub fn caip2(chain_id: u64) -> String {
    format!("eip155:{chain_id}")
}

/// Parses a CAIP-2 EVM network id `eip155:<decimal chain id>` strictly (digits only, no leading
/// zero, non-zero, fits `u64`).
pub fn parse_caip2(network: &str) -> Option<u64> {
    let digits = network.strip_prefix("eip155:")?;
    let well_formed = !digits.is_empty()
        && digits.len() <= 20
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !well_formed {
        return None;
    }
    digits.parse().ok()
}

/// The chain id of a v1 legacy network name (exact, lower-case match).
pub fn v1_chain_id(name: &str) -> Option<u64> {
    V1_NETWORK_NAMES.iter().find(|(known, _)| *known == name).map(|(_, id)| *id)
}

/// The v1 legacy name of a chain, if it has one.
pub fn v1_name(chain_id: u64) -> Option<&'static str> {
    V1_NETWORK_NAMES.iter().find(|(_, id)| *id == chain_id).map(|(name, _)| *name)
}

/// The chain id named by a v2 `network` field: CAIP-2 only.
pub fn chain_id_v2(network: &str) -> Option<u64> {
    parse_caip2(network)
}

/// The chain id named by a v1 `network` field: a legacy name, or (leniently) a CAIP-2 id.
pub fn chain_id_v1(network: &str) -> Option<u64> {
    v1_chain_id(network).or_else(|| parse_caip2(network))
}

/// The `network` string to put in v1 requirements: the legacy name, else the CAIP-2 id.
pub fn v1_network_for(chain_id: u64) -> String {
    v1_name(chain_id).map_or_else(|| caip2(chain_id), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caip2_is_strict() {
        assert_eq!(parse_caip2("eip155:8453"), Some(8453));
        for bad in ["eip155:", "eip155:08453", "eip155:0", "eip155:+1", "EIP155:1", "eip155:1 ", "solana:1"] {
            assert_eq!(parse_caip2(bad), None, "{bad}");
        }
        assert_eq!(parse_caip2("eip155:99999999999999999999"), None);
    }

    #[test]
    fn v1_names_map_both_ways() {
        assert_eq!(chain_id_v1("base"), Some(8453));
        assert_eq!(chain_id_v1("base-sepolia"), Some(84532));
        assert_eq!(chain_id_v1("eip155:8453"), Some(8453));
        assert_eq!(chain_id_v1("Base"), None);
        assert_eq!(chain_id_v2("base"), None);
        assert_eq!(v1_network_for(8453), "base");
        assert_eq!(v1_network_for(31337), "eip155:31337");
    }
}
