//! The x402 header codec: standard-alphabet base64 with padding over UTF-8 JSON.
//!
//! Decoding fails closed: an empty or oversized value, bad base64, bad UTF-8 or bad JSON is an
//! error with its own variant, never a silent fall-through.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest header value accepted, in bytes of base64 text (8 KiB).
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// Why a header value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The value is empty.
    #[error("header is empty")]
    Empty,
    /// The value is longer than [`MAX_HEADER_LEN`].
    #[error("header is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Length received.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Not standard base64 with canonical padding.
    #[error("header is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The decoded bytes are not UTF-8.
    #[error("decoded header is not UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// The decoded text is not the expected JSON.
    #[error("decoded header is not the expected JSON: {0}")]
    Json(String),
}

/// Serializes `value` as JSON and base64-encodes it.
pub fn try_encode_header(value: &impl Serialize) -> Result<String, serde_json::Error> {
    Ok(STANDARD.encode(serde_json::to_vec(value)?))
}

/// Serializes `value` as JSON and base64-encodes it.
///
/// # Panics
/// If `value`'s `Serialize` implementation fails, which never happens for this crate's types
/// (use [`try_encode_header`] for arbitrary types, e.g. maps with non-string keys).
pub fn encode_header(value: &impl Serialize) -> String {
    try_encode_header(value).expect("JSON serialization of an x402 value cannot fail")
}

/// Decodes a header value: size cap, base64, UTF-8, then JSON into `T`.
pub fn decode_header<T: DeserializeOwned>(value: &str) -> Result<T, HeaderError> {
    if value.is_empty() {
        return Err(HeaderError::Empty);
    }
    if value.len() > MAX_HEADER_LEN {
        return Err(HeaderError::TooLarge { len: value.len(), max: MAX_HEADER_LEN });
    }
    let bytes = STANDARD.decode(value)?;
    let text = std::str::from_utf8(&bytes)?;
    serde_json::from_str(text).map_err(|e| HeaderError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn round_trips_json() {
        let value = json!({ "x402Version": 2, "a": [1, "two", null] });
        let encoded = encode_header(&value);
        assert_eq!(decode_header::<Value>(&encoded), Ok(value));
    }

    #[test]
    fn fails_closed_with_precise_errors() {
        assert_eq!(decode_header::<Value>(""), Err(HeaderError::Empty));
        let big = "A".repeat(MAX_HEADER_LEN + 4);
        assert!(matches!(decode_header::<Value>(&big), Err(HeaderError::TooLarge { .. })));
        assert!(matches!(decode_header::<Value>("e30"), Err(HeaderError::Base64(_))), "no padding");
        assert!(matches!(decode_header::<Value>("e3-="), Err(HeaderError::Base64(_))), "url alphabet");
        assert!(matches!(decode_header::<Value>("//79"), Err(HeaderError::Utf8(_))));
        assert!(matches!(decode_header::<Value>("e30K e30="), Err(HeaderError::Base64(_))));
        let not_json = STANDARD.encode("{not json");
        assert!(matches!(decode_header::<Value>(&not_json), Err(HeaderError::Json(_))));
        assert_eq!(decode_header::<Value>("e30="), Ok(json!({})));
    }
}
