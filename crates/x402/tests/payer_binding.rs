//! Binding a transfer proof's payer to the requester: the EIP-191 signature over
//! `otonix order <orderId>`, or the requester's own wallet.

mod common;

use common::*;
use x402::Rejection;
use x402::parse::PaymentSignature;
use x402::proof::{TransferProof, check_payer_binding, order_message, verify_order_signature};

const ORDER_ID: &str = "9f1c00000000000000000000000000aa";

#[test]
fn order_signature_binds_the_payer() {
    assert_eq!(order_message(ORDER_ID), "otonix order 9f1c00000000000000000000000000aa");
    let signature = PaymentSignature::parse(ORDER_SIGNATURE).unwrap();
    assert_eq!(verify_order_signature(ORDER_ID, PAYER, &signature), Ok(()));
    assert_eq!(
        verify_order_signature("other-order", PAYER, &signature).unwrap_err().code(),
        "payer_signature_mismatch"
    );
    assert_eq!(verify_order_signature(ORDER_ID, PAY_TO, &signature).unwrap_err().code(), "payer_signature_mismatch");
    // v as 0/1 is accepted for personal signatures.
    let mut zero_one = signature;
    zero_one.0[64] -= 27;
    assert_eq!(verify_order_signature(ORDER_ID, PAYER, &zero_one), Ok(()));
    let mut bad_v = signature;
    bad_v.0[64] = 5;
    assert_eq!(verify_order_signature(ORDER_ID, PAYER, &bad_v), Err(Rejection::PayerSignatureInvalid));
}

#[test]
fn payer_binding_needs_a_wallet_or_a_signature() {
    let mut proof = TransferProof { order_id: ORDER_ID.into(), tx_hash: b256(NONCE), payer: PAYER, signature: None };
    assert_eq!(check_payer_binding(&proof, true), Ok(()));
    assert_eq!(check_payer_binding(&proof, false), Err(Rejection::PayerNotBound { payer: PAYER }));
    proof.signature = Some(PaymentSignature::parse(ORDER_SIGNATURE).unwrap());
    assert_eq!(check_payer_binding(&proof, false), Ok(()));
    proof.payer = PAY_TO;
    assert_eq!(check_payer_binding(&proof, false).unwrap_err().code(), "payer_signature_mismatch");
}
