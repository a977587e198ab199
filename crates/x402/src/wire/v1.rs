//! x402 version 1 wire types: requirements with `maxAmountRequired` and per-requirement
//! resource info, the 402 JSON body, and the `X-PAYMENT` payload.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exact_evm::ExactEvmPayload;

/// One entry of a v1 `accepts` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirementsV1 {
    /// `"exact"`.
    pub scheme: String,
    /// Legacy network name, e.g. `"base"`.
    pub network: String,
    /// Atomic units, decimal string.
    pub max_amount_required: String,
    /// URL of the resource.
    pub resource: String,
    /// What is being paid for.
    pub description: String,
    /// MIME type of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// JSON schema of the response (written as `null` when absent).
    #[serde(default)]
    pub output_schema: Option<Value>,
    /// Recipient address.
    pub pay_to: String,
    /// How long a signed authorization should stay valid.
    pub max_timeout_seconds: u64,
    /// Token contract address.
    pub asset: String,
    /// Scheme-specific data, e.g. `{ "name": "USD Coin", "version": "2" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// The v1 402 response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequiredV1 {
    /// Always 1.
    pub x402_version: u32,
    /// Why payment is required.
    pub error: String,
    /// What the server accepts.
    pub accepts: Vec<PaymentRequirementsV1>,
}

/// A v1 payment (`X-PAYMENT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayloadV1 {
    /// Always 1.
    pub x402_version: u32,
    /// `"exact"`.
    pub scheme: String,
    /// Legacy network name, e.g. `"base"`.
    pub network: String,
    /// The signed authorization.
    pub payload: ExactEvmPayload,
}
