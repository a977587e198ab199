//! EVM addresses as the API speaks them: `0x` and 40 hex digits, EIP-55 checksummed when mixed
//! case, always written checksummed.

use alloy_primitives::Address;

/// A valid EVM address (it can hold nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvmAddress(Address);

impl EvmAddress {
    /// Parses `0x` + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))?;
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
        let address = if has_lower && has_upper {
            Address::parse_checksummed(format!("0x{hex}"), None).ok()?
        } else {
            format!("0x{hex}").parse::<Address>().ok()?
        };
        Some(Self(address))
    }

    /// The address.
    pub fn address(self) -> Address {
        self.0
    }
}

impl std::fmt::Display for EvmAddress {
    /// EIP-55 checksummed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_checksum(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checksummed(text: &str) -> Option<String> {
        EvmAddress::parse(text).map(|a| a.to_string())
    }

    #[test]
    fn addresses_are_checked_and_checksummed() {
        let checksummed_form = "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F";
        assert_eq!(checksummed(&checksummed_form.to_lowercase()).as_deref(), Some(checksummed_form));
        let upper = format!("0x{}", checksummed_form[2..].to_uppercase());
        assert_eq!(checksummed(&upper).as_deref(), Some(checksummed_form));
        assert_eq!(checksummed(checksummed_form).as_deref(), Some(checksummed_form));
        assert_eq!(checksummed("0x36363e573a3b5d4c22b6A64ef3080E5C101E685F"), None, "bad checksum");
        assert_eq!(checksummed("0x1234"), None);
        assert_eq!(checksummed("36363e573a3b5d4c22b6a64ef3080e5c101e685f"), None);
    }
}
