//! Shared fixtures: the known-answer vector of the x402 reference notes (§1.5), the Base USDC
//! offer it answers, and payload builders.
#![allow(dead_code)]

use alloy_primitives::address;
use x402::eip712::{Authorization, TokenDomain};
use x402::offer::Offer;
use x402::wire::{ExactEvmPayload, PaymentPayload, PaymentPayloadV1, PaymentPayloadV2};
use x402::{Address, B256, U256};

/// Anvil dev account 1: the payer of the vector.
pub const PAYER: Address = address!("70997970C51812dc3A010C7d01b50e0d17dc79C8");
/// Anvil dev account 2: the recipient of the vector.
pub const PAY_TO: Address = address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
/// Public dev key of [`PAYER`] (test only).
pub const PAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Public dev key of [`PAY_TO`] (test only).
pub const OTHER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
/// Vector value, window and nonce.
pub const VALUE: u64 = 10_000;
pub const VALID_AFTER: u64 = 1_740_672_089;
pub const VALID_BEFORE: u64 = 1_740_672_154;
pub const NONCE: &str = "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480";
/// Expected EIP-712 values of the vector.
pub const DOMAIN_SEPARATOR: &str = "0x02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f";
pub const SIGNING_HASH: &str = "0x186be082ee09af8ce8616ea6232714513983ac7729fa5df0be085512bb4e9e8d";
pub const SIGNATURE: &str = "0xf02693fe2f680b8f9bdd85e33cc936659c3eb222c3d7ff9e79f167b3809d8fcc6f18bd22c8284e2f46d22604b7bf9e1f26925654ba6e5a79c8f874cf9e80dd311c";
/// EIP-191 signature by PAYER over "otonix order 9f1c00000000000000000000000000aa"
/// (alloy `sign_message_sync`, RFC 6979; cross-checked with anvil's `eth_sign`).
pub const ORDER_SIGNATURE: &str = "0x4fa21a655afdcb2a17248223d1a9ae6d94d6753a9e4ff3011fd06782f23b24b86845c38f6aee2bfae984981187579ab8b1e6013318b5e1796df3aaa3cc03e84d1b";
/// A time inside the vector's window under a 60 s maxTimeoutSeconds.
pub const NOW: u64 = 1_740_672_100;
/// Base Sepolia USDC: a token that is not ours.
pub const SEPOLIA_USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
/// secp256k1 group order n.
pub const SECP256K1_N: &str = "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";

pub fn b256(text: &str) -> B256 {
    text.parse().unwrap()
}

/// The vector's authorization.
pub fn vector_authorization() -> Authorization {
    Authorization {
        from: PAYER,
        to: PAY_TO,
        value: U256::from(VALUE),
        valid_after: U256::from(VALID_AFTER),
        valid_before: U256::from(VALID_BEFORE),
        nonce: b256(NONCE),
    }
}

/// What the server offers: Base USDC, 10000 units to PAY_TO, 60 s.
pub fn offer() -> Offer {
    Offer { token: TokenDomain::base_usdc(), pay_to: PAY_TO, amount: U256::from(VALUE), max_timeout_seconds: 60 }
}

pub fn exact_payload(authorization: &Authorization, signature: &str) -> ExactEvmPayload {
    ExactEvmPayload { signature: signature.to_owned(), authorization: authorization.to_wire() }
}

/// A v1 payment on `base`.
pub fn payment_v1(authorization: &Authorization, signature: &str) -> PaymentPayloadV1 {
    PaymentPayloadV1 {
        x402_version: 1,
        scheme: "exact".into(),
        network: "base".into(),
        payload: exact_payload(authorization, signature),
    }
}

/// A v2 payment echoing the offer's requirements with an order id.
pub fn payment_v2(authorization: &Authorization, signature: &str) -> PaymentPayloadV2 {
    PaymentPayloadV2 {
        x402_version: 2,
        resource: None,
        accepted: offer().requirements_v2(Some("9f1c00000000000000000000000000aa")),
        payload: exact_payload(authorization, signature),
        extensions: None,
    }
}

/// The vector as a v2 payment.
pub fn vector_v2() -> PaymentPayload {
    PaymentPayload::V2(payment_v2(&vector_authorization(), SIGNATURE))
}

/// The vector as a v1 payment.
pub fn vector_v1() -> PaymentPayload {
    PaymentPayload::V1(payment_v1(&vector_authorization(), SIGNATURE))
}

/// The vector's signature with byte 64 (`v`) replaced.
pub fn signature_with_v(v: u8) -> String {
    format!("{}{v:02x}", &SIGNATURE[..SIGNATURE.len() - 2])
}
