//! The outcome of a paid request: [`PaidResponse`] (the final answer, its `receipt` and decoded
//! settlement header) and the [`SentPayment`] that was presented.

use alloy_primitives::B256;
use reqwest::header::HeaderMap;
use serde_json::Value;
use x402::constants::{HEADER_PAYMENT_RESPONSE, HEADER_X_PAYMENT_RESPONSE};

use crate::client::ApiResponse;
use crate::payer::ProofKind;

/// A payment as presented to the server: present the same header again to retry.
#[derive(Clone, PartialEq, Eq)]
pub struct SentPayment {
    /// How it was paid.
    pub kind: ProofKind,
    /// The request header carrying it (`PAYMENT-SIGNATURE`, `X-PAYMENT` or `X-Payment`).
    pub header: String,
    /// The header value (base64 JSON).
    pub value: String,
    /// The on-chain transfer, for [`ProofKind::TxHash`].
    pub tx_hash: Option<B256>,
}

impl std::fmt::Debug for SentPayment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value is a bearer payment: keep it out of logs.
        f.debug_struct("SentPayment")
            .field("kind", &self.kind)
            .field("header", &self.header)
            .field("tx_hash", &self.tx_hash)
            .finish_non_exhaustive()
    }
}

/// The final answer of a paid request.
#[derive(Debug, Clone)]
pub struct PaidResponse {
    /// HTTP status of the final answer.
    pub status: u16,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its JSON body.
    pub body: Value,
    /// `body.receipt`, when present.
    pub receipt: Option<Value>,
    /// The decoded `PAYMENT-RESPONSE` (else `X-PAYMENT-RESPONSE`) header, when present.
    pub payment_response: Option<Value>,
    /// The payment presented, when the first answer was a 402.
    pub payment: Option<SentPayment>,
}

impl PaidResponse {
    /// The final answer `response`, after presenting `payment`.
    pub fn new(response: ApiResponse, payment: Option<SentPayment>) -> Self {
        let payment_response = [HEADER_PAYMENT_RESPONSE, HEADER_X_PAYMENT_RESPONSE]
            .iter()
            .find_map(|name| response.header(name))
            .and_then(|value| x402::decode_header::<Value>(value).ok());
        let receipt = response.body.get("receipt").filter(|r| !r.is_null()).cloned();
        Self {
            status: response.status,
            headers: response.headers,
            body: response.body,
            receipt,
            payment_response,
            payment,
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
