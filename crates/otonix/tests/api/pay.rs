//! Test support for payments: reading a 402 challenge and answering it like a client would.

use alloy_primitives::U256;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use x402::eip712::Authorization;
use x402::signer::{PrivateKeySigner, domain_from_requirements_v2, new_authorization, sign_authorization};
use x402::wire::{ExactEvmPayload, PaymentPayloadV2, PaymentRequirementsV2};

use crate::helpers::{As, TestApp, TestKey};

/// A 402 challenge as a client reads it.
pub struct Challenge {
    /// The JSON body.
    pub body: Value,
    /// The response headers.
    pub headers: HeaderMap,
    /// `accepts[0]`.
    pub accepted: PaymentRequirementsV2,
    /// The order id.
    pub order_id: String,
}

/// Sends a paid request; returns status, body and headers.
pub async fn send(
    app: &TestApp,
    key: &TestKey,
    path: &str,
    body: &Value,
    payment: Option<(&str, &str)>,
) -> (StatusCode, Value, HeaderMap) {
    let mut request = app.request(Method::POST, path, As::Key(key)).json(body);
    if let Some((name, value)) = payment {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

/// Asks for a challenge (the request without a payment).
pub async fn challenge(app: &TestApp, key: &TestKey, path: &str, body: &Value) -> Challenge {
    let (status, body, headers) = send(app, key, path, body, None).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    let accepted: PaymentRequirementsV2 = serde_json::from_value(body["accepts"][0].clone()).unwrap();
    let order_id = body["orderId"].as_str().unwrap().to_owned();
    Challenge { body, headers, accepted, order_id }
}

/// The path of an agent's credit top-up.
pub fn credits_path(agent_id: &str) -> String {
    format!("/api/agents/{agent_id}/credits")
}

/// An authorization a client would sign for `accepted` at `now` (unix seconds).
pub fn authorization(signer: &PrivateKeySigner, accepted: &PaymentRequirementsV2, now: u64) -> Authorization {
    let to = accepted.pay_to.parse().unwrap();
    let value = accepted.amount.parse::<U256>().unwrap();
    new_authorization(signer.address(), to, value, now, accepted.max_timeout_seconds)
}

/// The `PAYMENT-SIGNATURE` value for `authorization`, signed by `signer`, echoing `accepted`.
pub fn payment_header(
    signer: &PrivateKeySigner,
    accepted: &PaymentRequirementsV2,
    authorization: &Authorization,
) -> String {
    let domain = domain_from_requirements_v2(accepted).unwrap();
    let signature = sign_authorization(signer, &domain, authorization).unwrap();
    let payload = PaymentPayloadV2 {
        x402_version: 2,
        resource: None,
        accepted: accepted.clone(),
        payload: ExactEvmPayload { signature: signature.to_hex(), authorization: authorization.to_wire() },
        extensions: None,
    };
    x402::encode_header(&payload)
}

/// Pays `challenge` the standard way: a fresh authorization for exactly what was asked.
pub fn pay_header(signer: &PrivateKeySigner, challenge: &Challenge, now: u64) -> String {
    payment_header(signer, &challenge.accepted, &authorization(signer, &challenge.accepted, now))
}

/// Decodes a base64 JSON header.
pub fn decode(headers: &HeaderMap, name: &str) -> Value {
    x402::decode_header(headers.get(name).unwrap_or_else(|| panic!("{name} is missing")).to_str().unwrap()).unwrap()
}

/// A funded key-less wallet for tests.
pub fn wallet() -> PrivateKeySigner {
    PrivateKeySigner::random()
}

/// The body of a top-up.
pub fn top_up(amount: f64) -> Value {
    json!({ "amount": amount })
}
