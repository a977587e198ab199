//! Wire formats: the spec's JSON examples parse, our output has the exact camelCase shape, and
//! open-ended members (`extra`, `extensions`) round-trip verbatim.

mod common;

use common::*;
use serde_json::{Value, json};
use x402::wire::*;
use x402::{decode_header, encode_header};

#[test]
fn v1_402_body_from_the_spec_parses() {
    let body = json!({
        "x402Version": 1,
        "error": "X-PAYMENT header is required",
        "accepts": [{
            "scheme": "exact", "network": "base", "maxAmountRequired": "10000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "resource": "https://api.example.com/v1/thing", "description": "What is being paid for",
            "mimeType": "application/json", "outputSchema": null, "maxTimeoutSeconds": 60,
            "extra": { "name": "USD Coin", "version": "2" }
        }]
    });
    let parsed: PaymentRequiredV1 = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(parsed.accepts[0].max_amount_required, "10000");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), body);
}

#[test]
fn offer_builds_the_spec_shapes() {
    let v2 = serde_json::to_value(offer().requirements_v2(Some("9f1c"))).unwrap();
    assert_eq!(
        v2,
        json!({
            "scheme": "exact", "network": "eip155:8453", "amount": "10000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "maxTimeoutSeconds": 60,
            "extra": { "name": "USD Coin", "version": "2", "orderId": "9f1c" }
        })
    );
    let v1 = offer().requirements_v1("https://h/api/x", "thing", Some("application/json"));
    assert_eq!(v1.network, "base");
    assert_eq!(v1.max_amount_required, "10000");
}

#[test]
fn v2_payment_required_round_trips_verbatim() {
    let required = json!({
        "x402Version": 2,
        "error": "payment_required",
        "resource": { "url": "https://h/api/vercel/register", "method": "POST", "description": "d", "mimeType": "application/json" },
        "accepts": [{
            "scheme": "exact", "network": "eip155:8453", "amount": "9990000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F", "maxTimeoutSeconds": 300,
            "extra": { "name": "USD Coin", "version": "2", "orderId": "9f1c", "future": { "a": [1, 2] } }
        }],
        "extensions": { "payment-identifier": { "info": { "required": false } } }
    });
    let encoded = encode_header(&required);
    let parsed: PaymentRequiredV2 = decode_header(&encoded).unwrap();
    assert_eq!(parsed.resource.other["method"], "POST");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), required);
}

#[test]
fn facilitator_bodies_have_the_spec_shape() {
    let request = VerifyRequest {
        x402_version: 2,
        payment_payload: vector_v2(),
        payment_requirements: PaymentRequirements::V2(offer().requirements_v2(None)),
    };
    let value = serde_json::to_value(&request).unwrap();
    assert_eq!(value["paymentPayload"]["accepted"]["amount"], "10000");
    assert_eq!(value["paymentRequirements"]["network"], "eip155:8453");
    assert_eq!(serde_json::from_value::<VerifyRequest>(value).unwrap(), request);

    let verify: VerifyResponse =
        serde_json::from_value(json!({ "isValid": false, "invalidReason": "insufficient_funds", "payer": "0xabc" }))
            .unwrap();
    assert!(!verify.is_valid);
    let settle: SettleResponse = serde_json::from_value(json!({
        "success": false, "errorReason": "x", "errorMessage": "y", "payer": "0xabc", "transaction": "", "network": "eip155:8453"
    }))
    .unwrap();
    assert_eq!(SettlementResponse::from(settle).error_reason.as_deref(), Some("x"));
    let supported: SupportedResponse = serde_json::from_value(json!({
        "kinds": [{ "x402Version": 2, "scheme": "exact", "network": "eip155:8453" }],
        "extensions": [], "signers": { "eip155:*": ["0xabc"] }
    }))
    .unwrap();
    assert_eq!(supported.signers["eip155:*"], vec!["0xabc".to_owned()]);
    let v1_supported: SupportedResponse =
        serde_json::from_value(json!({ "kinds": [{ "x402Version": 1, "scheme": "exact", "network": "base" }] }))
            .unwrap();
    assert!(v1_supported.signers.is_empty());
}

#[test]
fn settlement_response_has_exactly_the_spec_members() {
    let response = SettlementResponse {
        success: true,
        transaction: format!("0x{}", "ab".repeat(32)),
        network: "eip155:8453".into(),
        payer: Some(PAYER.to_string()),
        error_reason: None,
    };
    let value: Value = decode_header(&encode_header(&response)).unwrap();
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4);
    for key in ["success", "transaction", "network", "payer"] {
        assert!(keys.contains(&key), "{key}");
    }
}

#[test]
fn authorization_wire_form_is_all_strings() {
    let value = serde_json::to_value(vector_authorization().to_wire()).unwrap();
    assert_eq!(
        value,
        json!({
            "from": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "value": "10000", "validAfter": "1740672089", "validBefore": "1740672154",
            "nonce": NONCE
        })
    );
}
