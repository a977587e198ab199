//! Strict parsing of the string fields of x402 payloads: atomic amounts (decimal digits only),
//! addresses (any letter case), 32-byte nonces and hashes, and 65-byte signatures.
//!
//! Everything fails closed with a [`ParseError`] that names what was wrong; nothing panics.

use alloy_primitives::{Address, B256, U256};

/// Most decimal digits a `uint256` can have (2^256 − 1 has 78).
pub const MAX_AMOUNT_DIGITS: usize = 78;

/// Why a field could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The string was empty.
    #[error("empty")]
    Empty,
    /// A character other than `0`-`9` in a decimal amount (signs, spaces, hex, dots…).
    #[error("not a decimal digit string")]
    NotDecimal,
    /// More than [`MAX_AMOUNT_DIGITS`] digits.
    #[error("more than 78 digits")]
    TooManyDigits,
    /// The number does not fit the target integer type.
    #[error("number out of range")]
    OutOfRange,
    /// Hex data without the `0x` prefix.
    #[error("missing 0x prefix")]
    MissingHexPrefix,
    /// A non-hex character after `0x`.
    #[error("not hexadecimal")]
    NotHex,
    /// Hex data of the wrong length.
    #[error("expected {expected} bytes, got {actual} hex digits")]
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Hex digits found after `0x`.
        actual: usize,
    },
    /// A USDC decimal with more than 6 fractional digits or a misplaced dot.
    #[error("not a USDC decimal (at most 6 fractional digits)")]
    BadDecimal,
    /// An order id that is not 1 to 128 characters of `A-Z a-z 0-9 _ -`.
    #[error("not an order id (1 to 128 characters of A-Z, a-z, 0-9, '_', '-')")]
    BadOrderId,
}

/// Parses an atomic token amount: 1 to 78 ASCII digits, nothing else, fitting `uint256`.
pub fn parse_amount(text: &str) -> Result<U256, ParseError> {
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::NotDecimal);
    }
    if text.len() > MAX_AMOUNT_DIGITS {
        return Err(ParseError::TooManyDigits);
    }
    U256::from_str_radix(text, 10).map_err(|_| ParseError::OutOfRange)
}

/// Parses a decimal `uint256` that must also fit `u64` (e.g. a timestamp).
pub fn parse_amount_u64(text: &str) -> Result<u64, ParseError> {
    u64::try_from(parse_amount(text)?).map_err(|_| ParseError::OutOfRange)
}

/// Decodes `0x` + exactly `2 * N` hex digits (either letter case) into `N` bytes.
pub fn parse_hex_exact<const N: usize>(text: &str) -> Result<[u8; N], ParseError> {
    let digits = text.strip_prefix("0x").ok_or(ParseError::MissingHexPrefix)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseError::NotHex);
    }
    if digits.len() != 2 * N {
        return Err(ParseError::WrongLength { expected: N, actual: digits.len() });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|_| ParseError::NotHex)?;
    Ok(out)
}

/// Parses an address: `0x` + 40 hex digits in any letter case (no checksum is enforced, so an
/// all-lower, all-upper or checksummed spelling all name the same [`Address`]).
pub fn parse_address(text: &str) -> Result<Address, ParseError> {
    parse_hex_exact::<20>(text).map(Address::from)
}

/// Parses an EIP-3009 nonce: exactly 32 bytes of `0x` hex.
pub fn parse_nonce(text: &str) -> Result<B256, ParseError> {
    parse_hex_exact::<32>(text).map(B256::from)
}

/// Parses a transaction hash: exactly 32 bytes of `0x` hex.
pub fn parse_tx_hash(text: &str) -> Result<B256, ParseError> {
    parse_hex_exact::<32>(text).map(B256::from)
}

/// Longest order id accepted.
pub const MAX_ORDER_ID_LEN: usize = 128;

/// Checks an order id: 1 to 128 characters of `A-Z a-z 0-9 _ -` (Otonix issues 32 hex digits).
pub fn parse_order_id(text: &str) -> Result<&str, ParseError> {
    let ok = !text.is_empty()
        && text.len() <= MAX_ORDER_ID_LEN
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { Ok(text) } else { Err(ParseError::BadOrderId) }
}

/// A 65-byte `r ‖ s ‖ v` ECDSA signature exactly as it was sent; `v` is not normalized, so the
/// verifier can reject anything but 27 or 28 as USDC does.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentSignature(pub [u8; 65]);

impl PaymentSignature {
    /// Parses exactly 65 bytes of `0x` hex (longer smart-wallet signatures are refused).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parse_hex_exact::<65>(text).map(Self)
    }

    /// The `r` scalar (bytes 0..32).
    pub fn r(&self) -> B256 {
        B256::from_slice(&self.0[..32])
    }

    /// The `s` scalar (bytes 32..64).
    pub fn s(&self) -> B256 {
        B256::from_slice(&self.0[32..64])
    }

    /// The `v` byte as sent (byte 64).
    pub fn v(&self) -> u8 {
        self.0[64]
    }

    /// `0x` + 130 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// From an alloy signature, with `v` written as 27 or 28.
    pub fn from_signature(signature: &alloy_primitives::Signature) -> Self {
        Self(signature.as_bytes())
    }
}

impl std::fmt::Debug for PaymentSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PaymentSignature({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_digits_only() {
        assert_eq!(parse_amount("10000"), Ok(U256::from(10_000u64)));
        assert_eq!(parse_amount("007"), Ok(U256::from(7u64)));
        assert_eq!(parse_amount(""), Err(ParseError::Empty));
        for bad in ["+1", "-1", " 1", "1 ", "0x10", "1.0", "1e3", "١"] {
            assert_eq!(parse_amount(bad), Err(ParseError::NotDecimal), "{bad}");
        }
        let max = U256::MAX.to_string();
        assert_eq!(parse_amount(&max), Ok(U256::MAX));
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(parse_amount(over), Err(ParseError::OutOfRange));
        assert_eq!(parse_amount(&"1".repeat(79)), Err(ParseError::TooManyDigits));
    }

    #[test]
    fn addresses_accept_any_case() {
        let checksummed = parse_address("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913").unwrap();
        let lower = parse_address("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913").unwrap();
        let upper = parse_address("0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913").unwrap();
        assert_eq!(checksummed, lower);
        assert_eq!(lower, upper);
        assert_eq!(parse_address("833589fcd6edb6e08f4c7c32d4f71b54bda02913"), Err(ParseError::MissingHexPrefix));
        assert!(matches!(parse_address("0x1234"), Err(ParseError::WrongLength { .. })));
        assert_eq!(parse_address("0xzz3589fcd6edb6e08f4c7c32d4f71b54bda02913"), Err(ParseError::NotHex));
    }

    #[test]
    fn fixed_lengths_are_exact() {
        assert!(parse_nonce(&format!("0x{}", "ab".repeat(32))).is_ok());
        assert!(parse_nonce(&format!("0x{}", "ab".repeat(31))).is_err());
        assert!(parse_nonce(&format!("0x{}", "ab".repeat(33))).is_err());
        assert!(parse_tx_hash(&format!("0x{}a", "ab".repeat(32))).is_err());
        assert!(PaymentSignature::parse(&format!("0x{}", "11".repeat(65))).is_ok());
        assert!(PaymentSignature::parse(&format!("0x{}", "11".repeat(64))).is_err());
        assert!(PaymentSignature::parse(&format!("0x{}", "11".repeat(66))).is_err());
    }
}
