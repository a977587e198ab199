//! The `payload` of an `exact` EVM payment: an EIP-3009 authorization and its signature,
//! identical in x402 v1 and v2.

use serde::{Deserialize, Serialize};

/// `payload` of an `exact` EVM PaymentPayload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExactEvmPayload {
    /// `0x` + 65 bytes `r ‖ s ‖ v`.
    pub signature: String,
    /// The signed `TransferWithAuthorization` fields.
    pub authorization: Eip3009Authorization,
}

/// `payload.authorization`: all six values are JSON strings (decimal numbers, `0x` hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Eip3009Authorization {
    /// Payer address.
    pub from: String,
    /// Recipient address.
    pub to: String,
    /// Atomic units, decimal.
    pub value: String,
    /// Unix seconds, decimal.
    pub valid_after: String,
    /// Unix seconds, decimal.
    pub valid_before: String,
    /// `0x` + 32 bytes.
    pub nonce: String,
}
