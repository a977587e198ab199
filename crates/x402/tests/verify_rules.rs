//! The storage-free verification rules of an `exact` payment (form, terms, window), one
//! behaviour per test, on the known-answer vector (valid at `NOW` under the Base USDC offer).

mod common;

use common::*;
use x402::eip712::TokenDomain;
use x402::verify::{check_form, check_terms, check_window};
use x402::wire::PaymentPayload;
use x402::{Rejection, U256, verify_exact};

fn code(result: Result<impl Sized, Rejection>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(rejection) => rejection.code(),
    }
}

#[test]
fn vector_passes_as_v1_and_v2() {
    let v2 = verify_exact(&vector_v2(), &offer(), NOW).unwrap();
    assert_eq!(v2.payer(), PAYER);
    assert_eq!(v2.order_id(), Some("9f1c00000000000000000000000000aa"));
    let v1 = verify_exact(&vector_v1(), &offer(), NOW).unwrap();
    assert_eq!(v1.order_id(), None);
    assert_eq!(v1.x402_version, 1);
}

#[test]
fn every_window_boundary() {
    let now = 2_000_000_000u64;
    let max = 60u64;
    let with = |after: u64, before: u64| {
        let mut a = vector_authorization();
        a.valid_after = U256::from(after);
        a.valid_before = U256::from(before);
        code(check_window(&a, now, max))
    };
    let ok_before = now + 30;
    assert_eq!(with(now, ok_before), "ok");
    assert_eq!(with(now + 1, ok_before), "not_yet_valid");
    assert_eq!(with(now - 600, now + 6), "ok");
    assert_eq!(with(now - 600, now + 5), "expires_too_soon");
    assert_eq!(with(now - 600, now + max + 60), "ok");
    assert_eq!(with(now - 600, now + max + 61), "expires_too_late");
    let mut huge = vector_authorization();
    huge.valid_after = U256::ZERO;
    huge.valid_before = U256::MAX;
    assert_eq!(code(check_window(&huge, now, u64::MAX)), "expires_too_late");
}

#[test]
fn window_is_checked_in_verify_exact() {
    // The vector: validAfter 1740672089, validBefore 1740672154, maxTimeout 60.
    assert_eq!(code(verify_exact(&vector_v2(), &offer(), VALID_AFTER)), "ok");
    assert_eq!(code(verify_exact(&vector_v2(), &offer(), VALID_AFTER - 1)), "not_yet_valid");
    assert_eq!(code(verify_exact(&vector_v2(), &offer(), VALID_BEFORE - 6)), "ok");
    assert_eq!(code(verify_exact(&vector_v2(), &offer(), VALID_BEFORE - 5)), "expires_too_soon");
    // With maxTimeoutSeconds 0 the latest allowed validBefore is now + 60.
    let short = x402::Offer { max_timeout_seconds: 0, ..offer() };
    assert_eq!(code(verify_exact(&vector_v2(), &short, VALID_BEFORE - 60)), "ok");
    assert_eq!(code(verify_exact(&vector_v2(), &short, VALID_BEFORE - 61)), "expires_too_late");
}

#[test]
fn value_must_equal_the_amount_exactly() {
    for value in [VALUE - 1, VALUE + 1] {
        let mut authorization = vector_authorization();
        authorization.value = U256::from(value);
        let payment = PaymentPayload::V2(payment_v2(&authorization, SIGNATURE));
        assert_eq!(
            verify_exact(&payment, &offer(), NOW),
            Err(Rejection::AmountMismatch { value: U256::from(value), amount: U256::from(VALUE) })
        );
    }
}

#[test]
fn recipient_must_be_pay_to() {
    let mut authorization = vector_authorization();
    authorization.to = PAYER;
    let payment = PaymentPayload::V1(payment_v1(&authorization, SIGNATURE));
    assert_eq!(verify_exact(&payment, &offer(), NOW), Err(Rejection::RecipientMismatch { to: PAYER, pay_to: PAY_TO }));
}

#[test]
fn network_must_be_ours() {
    let mut v1 = payment_v1(&vector_authorization(), SIGNATURE);
    v1.network = "base-sepolia".into();
    assert_eq!(code(verify_exact(&PaymentPayload::V1(v1.clone()), &offer(), NOW)), "network_mismatch");
    v1.network = "eip155:8453".into();
    assert_eq!(code(verify_exact(&PaymentPayload::V1(v1), &offer(), NOW)), "ok");
    for network in ["eip155:84532", "base", "eip155:08453", ""] {
        let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
        v2.accepted.network = network.into();
        assert_eq!(code(verify_exact(&PaymentPayload::V2(v2), &offer(), NOW)), "network_mismatch", "{network}");
    }
}

#[test]
fn asset_must_be_ours() {
    let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
    v2.accepted.asset = SEPOLIA_USDC.into();
    assert_eq!(code(verify_exact(&PaymentPayload::V2(v2), &offer(), NOW)), "asset_mismatch");
    // Any letter case of our asset is ours.
    let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
    v2.accepted.asset = v2.accepted.asset.to_lowercase();
    assert_eq!(code(verify_exact(&PaymentPayload::V2(v2), &offer(), NOW)), "ok");
}

#[test]
fn accepted_must_match_the_offer() {
    let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
    v2.accepted.amount = "1".into();
    assert_eq!(
        verify_exact(&PaymentPayload::V2(v2), &offer(), NOW),
        Err(Rejection::AcceptedMismatch { field: "amount" })
    );
    let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
    v2.accepted.pay_to = PAYER.to_string();
    assert_eq!(
        verify_exact(&PaymentPayload::V2(v2), &offer(), NOW),
        Err(Rejection::AcceptedMismatch { field: "payTo" })
    );
}

#[test]
fn scheme_must_be_exact() {
    let mut v1 = payment_v1(&vector_authorization(), SIGNATURE);
    v1.scheme = "upto".into();
    assert_eq!(
        verify_exact(&PaymentPayload::V1(v1), &offer(), NOW),
        Err(Rejection::UnsupportedScheme { scheme: "upto".into() })
    );
    let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
    v2.accepted.scheme = "Exact".into();
    assert_eq!(code(verify_exact(&PaymentPayload::V2(v2), &offer(), NOW)), "unsupported_scheme");
}

#[test]
fn version_must_match_the_shape() {
    let mut v1 = payment_v1(&vector_authorization(), SIGNATURE);
    v1.x402_version = 3;
    assert_eq!(verify_exact(&PaymentPayload::V1(v1), &offer(), NOW), Err(Rejection::UnsupportedVersion { version: 3 }));
    let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
    v2.x402_version = 1;
    assert_eq!(code(verify_exact(&PaymentPayload::V2(v2), &offer(), NOW)), "unsupported_version");
}

#[test]
fn malformed_fields_are_named() {
    let mutate = |f: &dyn Fn(&mut x402::wire::PaymentPayloadV2)| {
        let mut v2 = payment_v2(&vector_authorization(), SIGNATURE);
        f(&mut v2);
        verify_exact(&PaymentPayload::V2(v2), &offer(), NOW).unwrap_err()
    };
    let rejection = mutate(&|p| p.payload.authorization.value = "+10000".into());
    assert_eq!(rejection.code(), "malformed");
    assert!(rejection.message().contains("authorization.value"), "{}", rejection.message());
    let rejection = mutate(&|p| p.payload.authorization.nonce = format!("0x{}", "ab".repeat(31)));
    assert!(rejection.message().contains("nonce"));
    let rejection = mutate(&|p| p.payload.authorization.from = "0x1234".into());
    assert!(rejection.message().contains("authorization.from"));
    let rejection = mutate(&|p| p.payload.signature = format!("0x{}", "11".repeat(64)));
    assert_eq!(rejection.code(), "signature_malformed");
    let rejection = mutate(&|p| p.payload.signature = SIGNATURE.trim_start_matches("0x").into());
    assert_eq!(rejection.code(), "signature_malformed");
    let rejection = mutate(&|p| p.accepted.extra = Some(serde_json::json!({ "orderId": 7 })));
    assert!(rejection.message().contains("orderId"));
    let rejection = mutate(&|p| p.accepted.amount = "10 000".into());
    assert!(rejection.message().contains("accepted.amount"));
}

#[test]
fn steps_can_run_separately_in_spec_order() {
    let payment = vector_v2();
    let exact = check_form(&payment, 8453).unwrap();
    assert_eq!(exact.order_id(), Some("9f1c00000000000000000000000000aa"));
    // (the server looks the order up here)
    check_terms(&exact, &offer()).unwrap();
    check_window(&exact.authorization, NOW, 60).unwrap();
    x402::verify::check_signature(&exact, &TokenDomain::base_usdc()).unwrap();
    assert_eq!(code(check_form(&payment, 84532)), "network_mismatch");
}

#[test]
fn rejection_codes_are_stable_snake_case() {
    let samples = [
        Rejection::Malformed { detail: "x".into() },
        Rejection::SignatureHighS,
        Rejection::PendingConfirmations { confirmations: 1, required: 2 },
        Rejection::TransactionPending,
        Rejection::TransactionFailed,
    ];
    for rejection in &samples {
        assert!(rejection.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        assert!(!rejection.message().is_empty());
        assert!(!rejection.x402_reason().is_empty());
    }
    assert!(samples[2].is_pending() && samples[3].is_pending());
    assert!(!samples[4].is_pending() && !samples[1].is_pending());
}
