//! The facilitator HTTP API bodies: `POST /verify`, `POST /settle`, `GET /supported`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::payload::{PaymentPayload, PaymentRequirements};

/// Body of `POST /verify` and `POST /settle`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FacilitatorRequest {
    /// Version of the payload (1 or 2).
    pub x402_version: u32,
    /// The client's payment, as received.
    pub payment_payload: PaymentPayload,
    /// The server's requirements the payment answers.
    pub payment_requirements: PaymentRequirements,
}

/// Body of `POST /verify`.
pub type VerifyRequest = FacilitatorRequest;
/// Body of `POST /settle`.
pub type SettleRequest = FacilitatorRequest;

/// Answer of `POST /verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Whether the payment would settle.
    pub is_valid: bool,
    /// Machine-readable reason when invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// Human-readable detail when invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_message: Option<String>,
    /// Payer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
}

/// One `(version, scheme, network)` a facilitator supports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportedKind {
    /// x402 version.
    pub x402_version: u32,
    /// Scheme, e.g. `"exact"`.
    pub scheme: String,
    /// Network (v1 name or v2 CAIP-2 id).
    pub network: String,
    /// Scheme-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// Answer of `GET /supported` (v1 facilitators send only `kinds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportedResponse {
    /// Supported kinds.
    pub kinds: Vec<SupportedKind>,
    /// Supported extensions (v2).
    #[serde(default)]
    pub extensions: Vec<Value>,
    /// Signer addresses per network pattern, e.g. `{"eip155:*": ["0x…"]}` (v2).
    #[serde(default)]
    pub signers: BTreeMap<String, Vec<String>>,
}
