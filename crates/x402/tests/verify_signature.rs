//! Step 5, the signature: USDC's low-s and `v` rules applied locally, and recovery to `from`
//! under our own domain.

mod common;

use common::*;
use x402::eip712::TokenDomain;
use x402::parse::PaymentSignature;
use x402::verify::check_authorization_signature;
use x402::wire::PaymentPayload;
use x402::{Address, Rejection, U256, verify_exact};

fn code(result: Result<impl Sized, Rejection>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(rejection) => rejection.code(),
    }
}

#[test]
fn high_s_twin_is_rejected_although_it_recovers() {
    let signature = PaymentSignature::parse(SIGNATURE).unwrap();
    let n: U256 = SECP256K1_N.parse().unwrap();
    let high_s = n - U256::from_be_bytes(signature.s().0);
    let mut bytes = signature.0;
    bytes[32..64].copy_from_slice(&high_s.to_be_bytes::<32>());
    bytes[64] = if signature.v() == 27 { 28 } else { 27 };
    // alloy alone accepts it: the twin recovers to the same payer.
    let twin = alloy_primitives::Signature::new(U256::from_be_bytes(signature.r().0), high_s, bytes[64] == 28);
    let hash = vector_authorization().signing_hash(&TokenDomain::base_usdc());
    assert_eq!(twin.recover_address_from_prehash(&hash).unwrap(), PAYER);
    let twin_hex = PaymentSignature(bytes).to_hex();
    let payment = PaymentPayload::V2(payment_v2(&vector_authorization(), &twin_hex));
    assert_eq!(verify_exact(&payment, &offer(), NOW), Err(Rejection::SignatureHighS));
}

#[test]
fn v_must_be_27_or_28_as_sent() {
    // 0x1c = 28 is the vector; 1 has the same parity and alloy would accept it.
    for v in [0u8, 1, 29, 255] {
        let payment = PaymentPayload::V2(payment_v2(&vector_authorization(), &signature_with_v(v)));
        assert_eq!(verify_exact(&payment, &offer(), NOW), Err(Rejection::SignatureBadV { v }));
    }
}

#[test]
fn wrong_parity_recovers_someone_else() {
    let payment = PaymentPayload::V2(payment_v2(&vector_authorization(), &signature_with_v(27)));
    assert_eq!(code(verify_exact(&payment, &offer(), NOW)), "signature_mismatch");
}

#[test]
fn signature_over_other_fields_is_a_mismatch() {
    // The payer's signature presented for a claimed payer who did not sign.
    let mut authorization = vector_authorization();
    authorization.from = Address::repeat_byte(0x11);
    let signature = PaymentSignature::parse(SIGNATURE).unwrap();
    let result = check_authorization_signature(&authorization, &signature, &TokenDomain::base_usdc());
    assert!(matches!(result, Err(Rejection::SignatureMismatch { from, .. }) if from == authorization.from));
}

#[test]
fn signature_under_another_domain_is_a_mismatch() {
    let signature = PaymentSignature::parse(SIGNATURE).unwrap();
    let sepolia = TokenDomain { name: "USDC".into(), chain_id: 84532, ..TokenDomain::base_usdc() };
    let result = check_authorization_signature(&vector_authorization(), &signature, &sepolia);
    assert_eq!(code(result), "signature_mismatch");
}

#[test]
fn zero_signature_is_invalid() {
    let zero = format!("0x{}1b", "00".repeat(64));
    let payment = PaymentPayload::V2(payment_v2(&vector_authorization(), &zero));
    assert_eq!(verify_exact(&payment, &offer(), NOW), Err(Rejection::SignatureInvalid));
}

#[test]
fn r_not_below_the_group_order_is_invalid() {
    let signature = PaymentSignature::parse(SIGNATURE).unwrap();
    let n: U256 = SECP256K1_N.parse().unwrap();
    for r in [n, U256::MAX] {
        let mut bytes = signature.0;
        bytes[..32].copy_from_slice(&r.to_be_bytes::<32>());
        let result =
            check_authorization_signature(&vector_authorization(), &PaymentSignature(bytes), &TokenDomain::base_usdc());
        assert_eq!(result, Err(Rejection::SignatureInvalid));
    }
}

proptest::proptest! {
    /// The libsecp256k1 recovery the verifier uses agrees with alloy's pure-Rust recovery on
    /// arbitrary (mostly invalid) low-s signatures over arbitrary authorizations.
    #[test]
    fn recovery_agrees_with_alloy(r in proptest::array::uniform32(0u8..), s in proptest::array::uniform32(0u8..),
                                  odd in proptest::bool::ANY, nonce in proptest::array::uniform32(0u8..)) {
        let mut authorization = vector_authorization();
        authorization.nonce = x402::B256::from(nonce);
        let mut bytes = [0u8; 65];
        bytes[..32].copy_from_slice(&r);
        bytes[32..64].copy_from_slice(&s);
        bytes[32] &= 0x7f; // below n/2: the low-s rule passes
        bytes[64] = if odd { 28 } else { 27 };
        let signature = PaymentSignature(bytes);
        let alloy = alloy_primitives::Signature::new(U256::from_be_bytes(signature.r().0), U256::from_be_bytes(signature.s().0), odd)
            .recover_address_from_prehash(&authorization.signing_hash(&TokenDomain::base_usdc()));
        let ours = check_authorization_signature(&authorization, &signature, &TokenDomain::base_usdc());
        match alloy {
            Ok(recovered) => proptest::prop_assert_eq!(ours, Err(Rejection::SignatureMismatch { recovered, from: PAYER })),
            Err(_) => proptest::prop_assert_eq!(ours, Err(Rejection::SignatureInvalid)),
        }
    }
}
