//! Telling an incoming payment header apart by its content: an x402 EIP-3009 payment (v1 or
//! v2 PaymentPayload) or an Otonix transfer proof `{ orderId, txHash, payer }`.
//!
//! A value that looks like both, or like neither, is refused: the server must never guess.

use serde_json::{Map, Value};

use crate::header::{HeaderError, decode_header};
use crate::proof::{TransferProof, TransferProofWire};
use crate::rejection::Rejection;
use crate::wire::{PayloadError, PaymentPayload};

/// Top-level members that only an x402 PaymentPayload has.
const PAYMENT_MEMBERS: &[&str] = &["x402Version", "payload", "accepted", "scheme"];
/// Top-level members that only a transfer proof has.
const PROOF_MEMBERS: &[&str] = &["txHash", "orderId"];

/// A decoded payment header.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one short-lived value per request; boxing would only complicate matching"
)]
pub enum IncomingPayment {
    /// An x402 `exact` payment (EIP-3009 authorization), not yet verified.
    Exact(PaymentPayload),
    /// An Otonix transfer proof, fields parsed, not yet checked against a receipt.
    TransferProof(TransferProof),
}

/// Why a payment header was refused before any verification rule ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentHeaderError {
    /// Not base64 JSON (or too large).
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The JSON is not an object.
    #[error("payment header is not a JSON object")]
    NotAnObject,
    /// The object is neither a PaymentPayload nor a transfer proof.
    #[error("payment header is neither an x402 payment nor a transfer proof")]
    Unrecognized,
    /// The object has members of both a PaymentPayload and a transfer proof.
    #[error("payment header mixes an x402 payment and a transfer proof")]
    Ambiguous,
    /// An x402 payment with a bad version or shape.
    #[error(transparent)]
    Payment(#[from] PayloadError),
    /// A transfer proof with a missing or badly formed field.
    #[error("malformed transfer proof: {0}")]
    Proof(String),
}

impl PaymentHeaderError {
    /// The verification rejection this amounts to (`unsupported_version` for a version other
    /// than 1 or 2, `malformed` otherwise).
    pub fn rejection(&self) -> Rejection {
        match self {
            Self::Payment(PayloadError::UnsupportedVersion(version)) => {
                Rejection::UnsupportedVersion { version: *version }
            }
            other => Rejection::Malformed { detail: other.to_string() },
        }
    }
}

impl From<PaymentHeaderError> for Rejection {
    fn from(error: PaymentHeaderError) -> Self {
        error.rejection()
    }
}

/// Decodes a payment header value (`PAYMENT-SIGNATURE`, `X-PAYMENT`) by its content.
pub fn decode_payment_header(value: &str) -> Result<IncomingPayment, PaymentHeaderError> {
    let json: Value = decode_header(value)?;
    let Value::Object(object) = json else {
        return Err(PaymentHeaderError::NotAnObject);
    };
    classify(object)
}

fn has_any(object: &Map<String, Value>, members: &[&str]) -> bool {
    members.iter().any(|m| object.contains_key(*m))
}

fn classify(object: Map<String, Value>) -> Result<IncomingPayment, PaymentHeaderError> {
    match (has_any(&object, PAYMENT_MEMBERS), has_any(&object, PROOF_MEMBERS)) {
        (true, true) => Err(PaymentHeaderError::Ambiguous),
        (false, false) => Err(PaymentHeaderError::Unrecognized),
        (true, false) => Ok(IncomingPayment::Exact(PaymentPayload::from_json(Value::Object(object))?)),
        (false, true) => {
            let wire: TransferProofWire =
                serde_json::from_value(Value::Object(object)).map_err(|e| PaymentHeaderError::Proof(e.to_string()))?;
            let proof = wire.parse().map_err(PaymentHeaderError::Proof)?;
            Ok(IncomingPayment::TransferProof(proof))
        }
    }
}
