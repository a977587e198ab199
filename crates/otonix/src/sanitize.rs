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
}
