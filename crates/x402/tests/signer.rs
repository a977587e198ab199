//! Client-side signing (feature `signer`): the known-answer signature, complete v1/v2 payments
//! that the server-side verifier accepts, and transfer-proof signatures.
#![cfg(feature = "signer")]

mod common;

use common::*;
use x402::eip712::TokenDomain;
use x402::parse::PaymentSignature;
use x402::proof::{check_payer_binding, verify_order_signature};
use x402::signer::*;
use x402::wire::{PaymentPayload, ResourceInfo};
use x402::{IncomingPayment, Rejection, decode_payment_header, encode_header, verify_exact};

fn payer() -> PrivateKeySigner {
    PAYER_KEY.parse().unwrap()
}

#[test]
fn dev_key_produces_the_known_signature() {
    let signer = payer();
    assert_eq!(signer.address(), PAYER);
    let signature = sign_authorization(&signer, &TokenDomain::base_usdc(), &vector_authorization()).unwrap();
    assert_eq!(signature.to_hex(), SIGNATURE);
}

#[test]
fn v2_payment_is_accepted_by_the_verifier() {
    let now = 1_900_000_000;
    let accepted = offer().requirements_v2(Some("order-1"));
    let resource =
        ResourceInfo { url: "https://h/x".into(), description: None, mime_type: None, other: Default::default() };
    let payment = pay_v2(&payer(), &accepted, Some(resource), now).unwrap();
    let header = encode_header(&payment);
    let IncomingPayment::Exact(decoded) = decode_payment_header(&header).unwrap() else { panic!() };
    let exact = verify_exact(&decoded, &offer(), now).unwrap();
    assert_eq!(exact.order_id(), Some("order-1"));
    assert_eq!(exact.authorization.valid_after, x402::U256::from(now - 600));
    assert_eq!(exact.authorization.valid_before, x402::U256::from(now + 60));
    // A second payment uses a fresh random nonce.
    let again = pay_v2(&payer(), &accepted, None, now).unwrap();
    assert_ne!(again.payload.authorization.nonce, payment.payload.authorization.nonce);
}

#[test]
fn v1_payment_is_accepted_by_the_verifier() {
    let now = 1_900_000_000;
    let requirements = offer().requirements_v1("https://h/x", "thing", None);
    let payment = PaymentPayload::V1(pay_v1(&payer(), &requirements, now).unwrap());
    verify_exact(&payment, &offer(), now).unwrap();
}

#[test]
fn another_key_is_a_mismatch() {
    let other: PrivateKeySigner = OTHER_KEY.parse().unwrap();
    let signature = sign_authorization(&other, &TokenDomain::base_usdc(), &vector_authorization()).unwrap();
    let payment = PaymentPayload::V2(payment_v2(&vector_authorization(), &signature.to_hex()));
    assert_eq!(
        verify_exact(&payment, &offer(), NOW),
        Err(Rejection::SignatureMismatch { recovered: other.address(), from: PAYER })
    );
}

#[test]
fn client_domain_needs_extra_name_and_version() {
    let mut accepted = offer().requirements_v2(None);
    assert_eq!(domain_from_requirements_v2(&accepted).unwrap(), TokenDomain::base_usdc());
    accepted.extra = None;
    assert!(pay_v2(&payer(), &accepted, None, 1).is_err());
}

#[test]
fn order_signatures_verify() {
    let signature = sign_order(&payer(), "9f1c00000000000000000000000000aa").unwrap();
    verify_order_signature("9f1c00000000000000000000000000aa", PAYER, &signature).unwrap();
    assert_eq!(signature, PaymentSignature::parse(ORDER_SIGNATURE).unwrap());
    let proof = signed_transfer_proof(&payer(), "9f1c00000000000000000000000000aa", b256(NONCE)).unwrap();
    check_payer_binding(&proof, false).unwrap();
}

#[test]
fn a_wallet_signature_proves_control_of_that_wallet_for_that_agent_only() {
    use x402::proof::{verify_wallet_signature, wallet_message};
    let signer = PrivateKeySigner::random();
    let wallet = signer.address();
    let agent = "550e8400-e29b-41d4-a716-446655440000";
    assert_eq!(wallet_message(agent, wallet), format!("otonix wallet {agent} {}", wallet.to_checksum(None)));
    let signature = x402::signer::sign_wallet(&signer, agent, wallet).unwrap();
    assert_eq!(verify_wallet_signature(agent, wallet, &signature), Ok(()));
    assert!(verify_wallet_signature("another-agent", wallet, &signature).is_err());
    assert!(verify_wallet_signature(agent, PrivateKeySigner::random().address(), &signature).is_err());
    // Someone else's signature over this wallet's text proves nothing.
    let impostor = x402::signer::sign_wallet(&PrivateKeySigner::random(), agent, wallet).unwrap();
    assert!(verify_wallet_signature(agent, wallet, &impostor).is_err());
    // The address may be written in lowercase in the signed text.
    let lowercase =
        alloy_signer::SignerSync::sign_message_sync(&signer, format!("otonix wallet {agent} {wallet:#x}").as_bytes())
            .unwrap();
    let lowercase = x402::parse::PaymentSignature::from_signature(&lowercase);
    assert_eq!(verify_wallet_signature(agent, wallet, &lowercase), Ok(()));
}
