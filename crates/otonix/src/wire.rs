//! Serialization helpers for the wire format of SPEC §2.1: timestamps as RFC 3339 with
//! milliseconds and JSON columns as objects (money serializes itself: [`crate::domain::Usdc`]).

use serde::Serializer;

use crate::clock::{Millis, format_rfc3339};

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
