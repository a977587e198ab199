//! Decoding payment headers by content: x402 payments vs transfer proofs, and every way a
//! header can be refused.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::{Value, json};
use x402::wire::{PayloadError, PaymentPayload};
use x402::{HeaderError, IncomingPayment, PaymentHeaderError, decode_payment_header, encode_header};

fn header(value: &Value) -> String {
    encode_header(value)
}

#[test]
fn v1_and_v2_payments_are_recognized() {
    let v2 = decode_payment_header(&encode_header(&vector_v2())).unwrap();
    assert_eq!(v2, IncomingPayment::Exact(vector_v2()));
    let v1 = decode_payment_header(&encode_header(&vector_v1())).unwrap();
    assert!(matches!(v1, IncomingPayment::Exact(PaymentPayload::V1(_))));
}

#[test]
fn transfer_proofs_are_recognized_with_payer_or_from() {
    let tx = format!("0x{}", "ab".repeat(32));
    for key in ["payer", "from"] {
        let value = json!({ "orderId": "9f1c", "txHash": tx, key: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" });
        let IncomingPayment::TransferProof(proof) = decode_payment_header(&header(&value)).unwrap() else {
            panic!("not a proof");
        };
        assert_eq!(proof.payer, PAYER);
        assert_eq!(proof.order_id, "9f1c");
        assert_eq!(proof.signature, None);
        assert_eq!(proof.to_wire().parse().unwrap(), proof);
    }
}

#[test]
fn proof_fields_are_strict() {
    let tx = format!("0x{}", "ab".repeat(32));
    let payer = PAYER.to_string();
    let cases = [
        json!({ "orderId": "9f1c", "txHash": tx, "payer": payer, "from": payer }),
        json!({ "orderId": "9f1c", "txHash": "0xabcd", "payer": payer }),
        json!({ "orderId": "9f1c", "txHash": tx }),
        json!({ "orderId": "", "txHash": tx, "payer": payer }),
        json!({ "orderId": "a b", "txHash": tx, "payer": payer }),
        json!({ "orderId": "9f1c", "txHash": tx, "payer": payer, "signature": "0x1234" }),
        json!({ "orderId": 7, "txHash": tx, "payer": payer }),
    ];
    for case in cases {
        let error = decode_payment_header(&header(&case)).unwrap_err();
        assert!(matches!(error, PaymentHeaderError::Proof(_)), "{case}: {error:?}");
        assert_eq!(error.rejection().code(), "malformed");
    }
}

#[test]
fn both_or_neither_is_refused() {
    let mut both = serde_json::to_value(vector_v2()).unwrap();
    both["txHash"] = json!(format!("0x{}", "ab".repeat(32)));
    assert_eq!(decode_payment_header(&header(&both)), Err(PaymentHeaderError::Ambiguous));
    assert_eq!(decode_payment_header(&header(&json!({ "hello": 1 }))), Err(PaymentHeaderError::Unrecognized));
    assert_eq!(decode_payment_header(&header(&json!([1, 2]))), Err(PaymentHeaderError::NotAnObject));
    assert_eq!(decode_payment_header(&header(&json!("x"))), Err(PaymentHeaderError::NotAnObject));
}

#[test]
fn versions_other_than_1_and_2_are_unsupported() {
    let mut v3 = serde_json::to_value(vector_v2()).unwrap();
    v3["x402Version"] = json!(3);
    let error = decode_payment_header(&header(&v3)).unwrap_err();
    assert_eq!(error, PaymentHeaderError::Payment(PayloadError::UnsupportedVersion(3)));
    assert_eq!(error.rejection().code(), "unsupported_version");
    for bad in [json!("2"), json!(-1), json!(2.5), Value::Null] {
        let mut v = serde_json::to_value(vector_v2()).unwrap();
        v["x402Version"] = bad;
        let error = decode_payment_header(&header(&v)).unwrap_err();
        assert_eq!(error, PaymentHeaderError::Payment(PayloadError::BadVersionField));
    }
}

#[test]
fn payments_with_the_wrong_shape_are_malformed() {
    let mut v2 = serde_json::to_value(vector_v2()).unwrap();
    v2["payload"]["authorization"]["value"] = json!(10000);
    let error = decode_payment_header(&header(&v2)).unwrap_err();
    assert!(matches!(error, PaymentHeaderError::Payment(PayloadError::Malformed { version: 2, .. })));
    let mut v1 = serde_json::to_value(vector_v1()).unwrap();
    v1.as_object_mut().unwrap().remove("network");
    assert!(decode_payment_header(&header(&v1)).is_err());
}

#[test]
fn bad_encodings_fail_closed() {
    assert_eq!(decode_payment_header(""), Err(PaymentHeaderError::Header(HeaderError::Empty)));
    assert!(matches!(decode_payment_header("!!!!"), Err(PaymentHeaderError::Header(HeaderError::Base64(_)))));
    let latin1 = STANDARD.encode([0x7b, 0xff, 0x7d]);
    assert!(matches!(decode_payment_header(&latin1), Err(PaymentHeaderError::Header(HeaderError::Utf8(_)))));
    let truncated = STANDARD.encode(b"{\"x402Version\":2");
    assert!(matches!(decode_payment_header(&truncated), Err(PaymentHeaderError::Header(HeaderError::Json(_)))));
    let padded = format!(" {}", encode_header(&vector_v2()));
    assert!(decode_payment_header(&padded).is_err());
}
