//! Known-answer vectors: EIP-712 constants, the signing hash and signature of the x402
//! reference notes §1.5, event topics and function selectors.

mod common;

use alloy_primitives::keccak256;
use alloy_sol_types::SolStruct;
use common::*;
use x402::calldata;
use x402::constants::*;
use x402::eip712::{TRANSFER_WITH_AUTHORIZATION_TYPEHASH, TokenDomain};
use x402::parse::PaymentSignature;
use x402::verify::check_authorization_signature;

#[test]
fn type_hash_matches_usdc() {
    assert_eq!(
        TRANSFER_WITH_AUTHORIZATION_TYPEHASH,
        b256("0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267")
    );
    assert_eq!(vector_authorization().message().eip712_type_hash(), TRANSFER_WITH_AUTHORIZATION_TYPEHASH);
}

#[test]
fn base_usdc_domain_separator_matches() {
    assert_eq!(TokenDomain::base_usdc().separator(), b256(DOMAIN_SEPARATOR));
}

#[test]
fn signing_hash_matches() {
    let hash = vector_authorization().signing_hash(&TokenDomain::base_usdc());
    assert_eq!(hash, b256(SIGNING_HASH));
}

#[test]
fn vector_signature_recovers_to_payer() {
    let signature = PaymentSignature::parse(SIGNATURE).unwrap();
    assert_eq!(signature.v(), 28);
    check_authorization_signature(&vector_authorization(), &signature, &TokenDomain::base_usdc()).unwrap();
}

#[test]
fn event_topics_are_the_keccak_of_their_signatures() {
    assert_eq!(keccak256("Transfer(address,address,uint256)"), TRANSFER_TOPIC);
    assert_eq!(keccak256("AuthorizationUsed(address,bytes32)"), AUTHORIZATION_USED_TOPIC);
    assert_eq!(keccak256("AuthorizationCanceled(address,bytes32)"), x402::constants::AUTHORIZATION_CANCELED_TOPIC);
}

#[test]
fn selectors_match() {
    let selector = |sig: &str| <[u8; 4]>::try_from(&keccak256(sig)[..4]).unwrap();
    assert_eq!(
        selector("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"),
        TRANSFER_WITH_AUTHORIZATION_SELECTOR
    );
    assert_eq!(selector("transfer(address,uint256)"), TRANSFER_SELECTOR);
    assert_eq!(selector("balanceOf(address)"), BALANCE_OF_SELECTOR);
    assert_eq!(selector("authorizationState(address,bytes32)"), AUTHORIZATION_STATE_SELECTOR);
    assert_eq!(selector("DOMAIN_SEPARATOR()"), DOMAIN_SEPARATOR_SELECTOR);
}

#[test]
fn transfer_with_authorization_calldata_layout() {
    let signature = PaymentSignature::parse(SIGNATURE).unwrap();
    let data = calldata::transfer_with_authorization(&vector_authorization(), &signature);
    assert_eq!(data.len(), 4 + 9 * 32);
    assert_eq!(data[..4], TRANSFER_WITH_AUTHORIZATION_SELECTOR);
    let word = |i: usize| &data[4 + 32 * i..4 + 32 * (i + 1)];
    assert_eq!(&word(0)[12..], PAYER.as_slice());
    assert_eq!(&word(1)[12..], PAY_TO.as_slice());
    assert_eq!(word(5), b256(NONCE).as_slice());
    assert_eq!(word(6)[31], 28);
    assert_eq!(word(7), signature.r().as_slice());
    assert_eq!(word(8), signature.s().as_slice());
}

#[test]
fn simple_calldata_and_return_decoding() {
    assert_eq!(calldata::transfer(PAY_TO, x402::U256::from(1u8))[..4], TRANSFER_SELECTOR);
    assert_eq!(calldata::balance_of(PAYER)[..4], BALANCE_OF_SELECTOR);
    assert_eq!(calldata::authorization_state(PAYER, b256(NONCE))[..4], AUTHORIZATION_STATE_SELECTOR);
    assert_eq!(calldata::domain_separator(), DOMAIN_SEPARATOR_SELECTOR.to_vec());
    let mut word = [0u8; 32];
    word[31] = 1;
    assert_eq!(calldata::decode_authorization_state(&word), Ok(true));
    assert_eq!(calldata::decode_balance_of(&word), Ok(x402::U256::from(1u8)));
    assert!(calldata::decode_balance_of(&word[..31]).is_err());
    assert_eq!(calldata::decode_domain_separator(b256(DOMAIN_SEPARATOR).as_slice()), Ok(b256(DOMAIN_SEPARATOR)));
}

#[test]
fn revert_reasons_decode() {
    // Error(string) with "FiatTokenV2: authorization is used or canceled".
    let reason = calldata::REVERT_AUTHORIZATION_USED;
    let mut data = hex::decode("08c379a0").unwrap();
    data.extend_from_slice(&{
        let mut w = [0u8; 32];
        w[31] = 0x20;
        w
    });
    data.extend_from_slice(&{
        let mut w = [0u8; 32];
        w[31] = reason.len() as u8;
        w
    });
    let mut padded = reason.as_bytes().to_vec();
    padded.resize(reason.len().div_ceil(32) * 32, 0);
    data.extend_from_slice(&padded);
    assert_eq!(calldata::revert_reason(&data).as_deref(), Some(reason));
}
