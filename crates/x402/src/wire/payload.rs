//! Version-dispatching wrappers: [`PaymentPayload`] (v1 or v2, chosen by `x402Version`) and
//! [`PaymentRequirements`] (v1 or v2, chosen by shape), as the facilitator API carries them.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::exact_evm::ExactEvmPayload;
use super::v1::{PaymentPayloadV1, PaymentRequirementsV1};
use super::v2::{PaymentPayloadV2, PaymentRequirementsV2};

/// Why a JSON value is not a v1 or v2 PaymentPayload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// `x402Version` is absent or not a non-negative integer.
    #[error("x402Version is missing or not an integer")]
    BadVersionField,
    /// `x402Version` is an integer other than 1 or 2.
    #[error("unsupported x402Version {0}")]
    UnsupportedVersion(u64),
    /// The version is known but the object does not have its shape.
    #[error("malformed x402 v{version} payment payload: {detail}")]
    Malformed {
        /// The declared version.
        version: u64,
        /// What serde reported.
        detail: String,
    },
}

/// An x402 payment of either version.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one short-lived value per request; boxing would only complicate matching"
)]
pub enum PaymentPayload {
    /// Version 1 (`X-PAYMENT`).
    V1(PaymentPayloadV1),
    /// Version 2 (`PAYMENT-SIGNATURE`).
    V2(PaymentPayloadV2),
}

impl PaymentPayload {
    /// Reads a payload from JSON, dispatching on `x402Version` (1 or 2; anything else fails).
    pub fn from_json(value: Value) -> Result<Self, PayloadError> {
        let version = value.get("x402Version").and_then(Value::as_u64).ok_or(PayloadError::BadVersionField)?;
        let malformed = |e: serde_json::Error| PayloadError::Malformed { version, detail: e.to_string() };
        match version {
            1 => serde_json::from_value(value).map(Self::V1).map_err(malformed),
            2 => serde_json::from_value(value).map(Self::V2).map_err(malformed),
            other => Err(PayloadError::UnsupportedVersion(other)),
        }
    }

    /// The declared `x402Version`.
    pub fn x402_version(&self) -> u32 {
        match self {
            Self::V1(p) => p.x402_version,
            Self::V2(p) => p.x402_version,
        }
    }

    /// The signed EIP-3009 part.
    pub fn exact_payload(&self) -> &ExactEvmPayload {
        match self {
            Self::V1(p) => &p.payload,
            Self::V2(p) => &p.payload,
        }
    }
}

impl Serialize for PaymentPayload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::V1(p) => p.serialize(serializer),
            Self::V2(p) => p.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PaymentPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_json(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// Requirements of either version (told apart by `maxAmountRequired` vs `amount`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PaymentRequirements {
    /// Version 1 shape.
    V1(PaymentRequirementsV1),
    /// Version 2 shape.
    V2(PaymentRequirementsV2),
}
