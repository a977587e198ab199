//! Serialization helpers for the wire format of SPEC §2.1: timestamps as RFC 3339 with
//! milliseconds, money as JSON numbers from integer micro-units, JSON columns as objects.

use serde::Serializer;

use crate::clock::{Millis, format_rfc3339};
use crate::money::micros_to_json;

/// Serializes milliseconds as an RFC 3339 timestamp.
pub fn timestamp<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339(*ms))
}

/// Serializes optional milliseconds as an RFC 3339 timestamp or `null`.
pub fn opt_timestamp<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format_rfc3339(*ms)),
        None => s.serialize_none(),
    }
}

/// Serializes micro-units as a USDC number.
pub fn money<S: Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
    // Whole amounts print as integers (`60`, not `60.0`), like the upstream service.
    serde::Serialize::serialize(&micros_to_json(*micros), s)
}
