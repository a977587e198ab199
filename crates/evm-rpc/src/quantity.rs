//! Decoding and encoding of JSON-RPC values: `0x` quantities, data, hashes, addresses, and the
//! receipt log objects.

use alloy_primitives::{Address, B256, hex};
use serde_json::Value;
use x402::receipt::ReceiptLog;

use crate::error::RpcError;

/// `0x`-hex quantity of a number.
pub(crate) fn quantity(n: u64) -> String {
    format!("{n:#x}")
}

/// `0x`-hex of bytes.
pub(crate) fn data(bytes: &[u8]) -> String {
    hex::encode_prefixed(bytes)
}

fn as_str<'a>(value: &'a Value, what: &str) -> Result<&'a str, RpcError> {
    value.as_str().ok_or_else(|| RpcError::Decode(format!("{what} is not a string: {value}")))
}

fn digits<'a>(text: &'a str, what: &str) -> Result<&'a str, RpcError> {
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| RpcError::Decode(format!("{what} is not 0x-prefixed: {text}")))
}

/// A `0x` quantity that fits a `u64`.
pub(crate) fn parse_u64(value: &Value, what: &str) -> Result<u64, RpcError> {
    let text = as_str(value, what)?;
    u64::from_str_radix(digits(text, what)?, 16).map_err(|e| RpcError::Decode(format!("{what} {text}: {e}")))
}

/// A `0x` quantity that fits a `u128`.
pub(crate) fn parse_u128(value: &Value, what: &str) -> Result<u128, RpcError> {
    let text = as_str(value, what)?;
    u128::from_str_radix(digits(text, what)?, 16).map_err(|e| RpcError::Decode(format!("{what} {text}: {e}")))
}

/// `0x` data of any length.
pub(crate) fn parse_bytes(value: &Value, what: &str) -> Result<Vec<u8>, RpcError> {
    let text = as_str(value, what)?;
    hex::decode(digits(text, what)?).map_err(|e| RpcError::Decode(format!("{what}: {e}")))
}

/// A 32-byte hash.
pub(crate) fn parse_b256(value: &Value, what: &str) -> Result<B256, RpcError> {
    let bytes = parse_bytes(value, what)?;
    B256::try_from(bytes.as_slice()).map_err(|_| RpcError::Decode(format!("{what} is not 32 bytes")))
}

/// A 20-byte address.
pub(crate) fn parse_address(value: &Value, what: &str) -> Result<Address, RpcError> {
    let bytes = parse_bytes(value, what)?;
    Address::try_from(bytes.as_slice()).map_err(|_| RpcError::Decode(format!("{what} is not 20 bytes")))
}

/// A member of an object, `Null` when absent.
pub(crate) fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object.get(name).unwrap_or(&Value::Null)
}

/// One log object (receipt or `eth_getLogs`).
pub(crate) fn parse_log(log: &Value) -> Result<ReceiptLog, RpcError> {
    let topics = field(log, "topics")
        .as_array()
        .ok_or_else(|| RpcError::Decode("log.topics is not an array".into()))?
        .iter()
        .map(|t| parse_b256(t, "log topic"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReceiptLog {
        address: parse_address(field(log, "address"), "log.address")?,
        topics,
        data: parse_bytes(field(log, "data"), "log.data")?,
    })
}

/// Whether a log object was removed by a reorganization.
pub(crate) fn is_removed(log: &Value) -> bool {
    field(log, "removed").as_bool().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        assert_eq!(quantity(0), "0x0");
        assert_eq!(quantity(255), "0xff");
        assert_eq!(parse_u64(&json!("0x1a"), "n"), Ok(26));
        assert_eq!(parse_u64(&json!("0x0"), "n"), Ok(0));
        assert!(parse_u64(&json!("1a"), "n").is_err());
        assert!(parse_u64(&json!(26), "n").is_err());
        assert!(parse_u64(&json!("0x10000000000000000"), "n").is_err());
        assert_eq!(parse_u128(&json!("0x3b9aca00"), "n"), Ok(1_000_000_000));
    }

    #[test]
    fn data_hashes_addresses() {
        assert_eq!(parse_bytes(&json!("0x"), "d"), Ok(vec![]));
        assert_eq!(parse_bytes(&json!("0x0aff"), "d"), Ok(vec![10, 255]));
        assert_eq!(data(&[10, 255]), "0x0aff");
        assert!(parse_b256(&json!("0x00"), "h").is_err());
        let address = json!("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913");
        assert_eq!(parse_address(&address, "a"), Ok(x402::constants::BASE_USDC));
    }
}
