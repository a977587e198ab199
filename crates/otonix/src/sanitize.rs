//! Masking for sanitized list views (SPEC §3.4): what anonymous callers and other keys see.

/// `0x2a184407df58…461d` → `0x2a18****461d`.
pub fn mask_address(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 10 {
        return "****".to_owned();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Masks every EVM address (`0x` + 40 hex digits) inside a JSON value, however deep, such as
/// `metadata.refundOwedToPayer`. Other strings, transaction hashes included, are left alone.
pub fn mask_addresses_in(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if is_address(text) => *text = mask_address(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_addresses_in),
        serde_json::Value::Object(map) => map.values_mut().for_each(mask_addresses_in),
        _ => {}
    }
}

fn is_address(text: &str) -> bool {
    text.len() == 42
        && (text.starts_with("0x") || text.starts_with("0X"))
        && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `10.0.1.55` → `10.0.*.*`; `2001:db8:…` → `2001:db8:*`.
pub fn mask_ip(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.*.*", o[0], o[1])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:*", s[0], s[1])
        }
        Err(_) => "*".to_owned(),
    }
}

/// What a masked password looks like: eight U+2022 bullets.
pub const MASKED_PASSWORD: &str = "••••••••";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_spec() {
        assert_eq!(mask_address("0x2a184407df58aa7d95ea2e6b4c2f9a8e0c3b461d"), "0x2a18****461d");
        assert_eq!(mask_ip("10.0.1.55"), "10.0.*.*");
        assert_eq!(mask_ip("2001:db8::1"), "2001:db8:*");
        assert_eq!(MASKED_PASSWORD.chars().count(), 8);
    }

    #[test]
    fn masks_addresses_anywhere_in_json_and_nothing_else() {
        let hash = format!("0x{}", "ab".repeat(32));
        let mut value = serde_json::json!({
            "payer": "0x2a184407df58aa7d95ea2e6b4c2f9a8e0c3b461d",
            "deep": { "list": ["0X2A184407DF58AA7D95EA2E6B4C2F9A8E0C3B461D", 42, "plain text"] },
            "txHash": hash,
        });
        mask_addresses_in(&mut value);
        assert_eq!(value["payer"], "0x2a18****461d");
        assert_eq!(value["deep"]["list"][0], "0X2A18****461D");
        assert_eq!(value["deep"]["list"][1], 42);
        assert_eq!(value["deep"]["list"][2], "plain text");
        assert_eq!(value["txHash"], hash.as_str());
    }
}
