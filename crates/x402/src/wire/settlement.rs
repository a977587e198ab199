//! Settlement results: the `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE` object a resource server
//! returns, and a facilitator's `/settle` answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What goes base64-encoded into `PAYMENT-RESPONSE` (and `X-PAYMENT-RESPONSE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementResponse {
    /// Whether the payment settled.
    pub success: bool,
    /// Transaction hash (`""` when there is none).
    pub transaction: String,
    /// Network the payment settled on.
    pub network: String,
    /// Payer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Machine-readable failure reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
}

/// A facilitator's `POST /settle` answer. HTTP 200 may still carry `success: false`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleResponse {
    /// Whether the payment settled: always check it.
    pub success: bool,
    /// Transaction hash (`""` when there is none).
    #[serde(default)]
    pub transaction: String,
    /// Network the payment settled on.
    #[serde(default)]
    pub network: String,
    /// Payer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Machine-readable failure reason (free text in practice: log it, branch on `success`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// Human-readable failure detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Settled amount (v2, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Extensions (v2, optional), kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

impl From<SettleResponse> for SettlementResponse {
    fn from(r: SettleResponse) -> Self {
        Self {
            success: r.success,
            transaction: r.transaction,
            network: r.network,
            payer: r.payer,
            error_reason: r.error_reason,
        }
    }
}
