//! A fake paid endpoint for the payer tests: a wiremock responder that answers 402 with an x402
//! v2 challenge built from an [`Offer`], and checks the payment presented on retry.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, U256, address};
use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};
use x402::wire::{PaymentRequiredV2, ResourceInfo, SettlementResponse};
use x402::{IncomingPayment, Offer, TokenDomain};

/// Where the fake server is paid.
pub const PAY_TO: Address = address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
/// The order id it issues.
pub const ORDER_ID: &str = "9f1c0a1b2c3d4e5f60718293a4b5c6d7";

/// An offer of `amount` micro-USDC on `token`.
pub fn offer(token: TokenDomain, amount: u64) -> Offer {
    Offer { token, pay_to: PAY_TO, amount: U256::from(amount), max_timeout_seconds: 300 }
}

/// Unix seconds.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The 402 answer of SPEC §5.3: `PAYMENT-REQUIRED` header (unless `header` is false) and the
/// Otonix body.
pub fn challenge(offer: &Offer, header: bool) -> ResponseTemplate {
    let accepted = offer.requirements_v2(Some(ORDER_ID));
    let resource = ResourceInfo {
        url: "http://127.0.0.1/api/agents/a1/credits".into(),
        description: Some("Credits".into()),
        mime_type: Some("application/json".into()),
        other: serde_json::Map::from_iter([("method".to_owned(), json!("POST"))]),
    };
    let required = PaymentRequiredV2 {
        x402_version: 2,
        error: Some("payment_required".into()),
        resource: resource.clone(),
        accepts: vec![accepted.clone()],
        extensions: Some(json!({ "otonix": { "info": { "orderId": ORDER_ID } } })),
    };
    let body = json!({
        "x402Version": 2, "error": "payment_required", "message": "pay to continue",
        "orderId": ORDER_ID, "amount": offer.amount.to_string(), "maxAmountRequired": offer.amount.to_string(),
        "currency": "USDC", "network": offer.network(), "chainId": offer.chain_id(),
        "asset": offer.asset().to_checksum(None), "payTo": offer.pay_to.to_checksum(None),
        "resource": resource, "accepts": [accepted], "extensions": required.extensions,
    });
    let mut template = ResponseTemplate::new(402).set_body_json(body);
    if header {
        template = template.insert_header("PAYMENT-REQUIRED", x402::encode_header(&required));
    }
    template
}

/// The 201 answer with a receipt and the settlement header.
pub fn delivered(tx: &str, payer: Address, scheme: &str) -> ResponseTemplate {
    let settlement = SettlementResponse {
        success: true,
        transaction: tx.to_owned(),
        network: "eip155:8453".into(),
        payer: Some(payer.to_checksum(None)),
        error_reason: None,
    };
    let receipt = json!({ "orderId": ORDER_ID, "txHash": tx, "payer": payer, "scheme": scheme });
    ResponseTemplate::new(201)
        .set_body_json(json!({ "credits": 5, "receipt": receipt }))
        .insert_header("PAYMENT-RESPONSE", x402::encode_header(&settlement))
}

/// A 402 with an error code.
pub fn refused(code: &str, retry_after: Option<&str>) -> ResponseTemplate {
    let template = ResponseTemplate::new(402).set_body_json(json!({ "error": code, "message": code }));
    match retry_after {
        Some(seconds) => template.insert_header("Retry-After", seconds),
        None => template,
    }
}

/// An x402 paid endpoint: 402 without a payment; with `PAYMENT-SIGNATURE` it runs
/// `verify_exact` against the same offer and checks the body, then answers 201 (after
/// `pending` answers of `402 payment_pending` first).
pub struct PaidEndpoint {
    pub offer: Offer,
    pub header: bool,
    pub pending: Mutex<u32>,
    pub expected_body: Vec<u8>,
}

impl Respond for PaidEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(value) = request.headers.get("payment-signature") else {
            return challenge(&self.offer, self.header);
        };
        let Ok(IncomingPayment::Exact(payment)) = x402::decode_payment_header(value.to_str().unwrap_or("")) else {
            return refused("payment_invalid", None);
        };
        let exact = match x402::verify_exact(&payment, &self.offer, now()) {
            Ok(exact) => exact,
            Err(rejection) => return refused(rejection.code(), None),
        };
        let x402::wire::PaymentPayload::V2(v2) = &payment else { return refused("unsupported_version", None) };
        if v2.extensions != Some(json!({ "otonix": { "info": { "orderId": ORDER_ID } } })) {
            return refused("extensions_not_echoed", None);
        }
        if request.body != self.expected_body {
            return refused("body_mismatch", None);
        }
        if let Ok(mut pending) = self.pending.lock()
            && *pending > 0
        {
            *pending -= 1;
            return refused("payment_pending", Some("0"));
        }
        delivered(&format!("0x{}", "ab".repeat(32)), exact.payer(), "exact")
    }
}

/// The JSON body of a recorded request.
pub fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}
