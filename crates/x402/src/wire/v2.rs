//! x402 version 2 wire types: requirements with `amount`, the `PAYMENT-REQUIRED` object with a
//! top-level `resource`, and the `PAYMENT-SIGNATURE` payload echoing `accepted`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::exact_evm::ExactEvmPayload;

/// One entry of a v2 `accepts` array (and the `accepted` echo in a payment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirementsV2 {
    /// `"exact"`.
    pub scheme: String,
    /// CAIP-2 network id, e.g. `"eip155:8453"`.
    pub network: String,
    /// Atomic units, decimal string.
    pub amount: String,
    /// Token contract address.
    pub asset: String,
    /// Recipient address.
    pub pay_to: String,
    /// How long a signed authorization should stay valid.
    pub max_timeout_seconds: u64,
    /// Scheme-specific data (`name`, `version`; Otonix adds `orderId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// v2 `resource` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    /// URL of the resource.
    pub url: String,
    /// What is being paid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Any other members (e.g. Otonix's `method`), kept verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The v2 402 object (base64 in `PAYMENT-REQUIRED`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequiredV2 {
    /// Always 2.
    pub x402_version: u32,
    /// Why payment is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The resource being paid for.
    pub resource: ResourceInfo,
    /// What the server accepts.
    pub accepts: Vec<PaymentRequirementsV2>,
    /// Protocol extensions, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// A v2 payment (`PAYMENT-SIGNATURE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayloadV2 {
    /// Always 2.
    pub x402_version: u32,
    /// The resource echoed by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceInfo>,
    /// The `accepts` entry the client chose, echoed verbatim.
    pub accepted: PaymentRequirementsV2,
    /// The signed authorization.
    pub payload: ExactEvmPayload,
    /// Extensions echoed (and possibly added to) by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}
