//! Protocol constants: Base mainnet USDC defaults, header names, event topics, function
//! selectors and the time margins of the verification rules.

use alloy_primitives::{Address, B256, address, b256};

/// The only x402 scheme this crate speaks.
pub const SCHEME_EXACT: &str = "exact";

/// Chain id of Base mainnet.
pub const BASE_CHAIN_ID: u64 = 8453;
/// CAIP-2 network id of Base mainnet (x402 v2).
pub const BASE_NETWORK: &str = "eip155:8453";
/// Legacy network name of Base mainnet (x402 v1).
pub const BASE_NETWORK_V1: &str = "base";
/// Native USDC on Base mainnet (a proxy; its events carry this address).
pub const BASE_USDC: Address = address!("833589fCD6eDb6E08f4c7C32D4f71b54bdA02913");
/// EIP-712 domain name of Base mainnet USDC (Base Sepolia USDC uses "USDC").
pub const USDC_DOMAIN_NAME: &str = "USD Coin";
/// EIP-712 domain version of USDC.
pub const USDC_DOMAIN_VERSION: &str = "2";
/// USDC decimals: one USDC is 1,000,000 atomic units ("micro-USDC").
pub const USDC_DECIMALS: u32 = 6;

/// Request header carrying a v2 payment (base64 JSON PaymentPayload).
pub const HEADER_PAYMENT_SIGNATURE: &str = "PAYMENT-SIGNATURE";
/// Request header carrying a v1 payment, or an Otonix transfer proof.
pub const HEADER_X_PAYMENT: &str = "X-PAYMENT";
/// Response header of a v2 402 (base64 JSON PaymentRequired).
pub const HEADER_PAYMENT_REQUIRED: &str = "PAYMENT-REQUIRED";
/// Response header carrying the settlement result (v2).
pub const HEADER_PAYMENT_RESPONSE: &str = "PAYMENT-RESPONSE";
/// Response header carrying the settlement result (v1).
pub const HEADER_X_PAYMENT_RESPONSE: &str = "X-PAYMENT-RESPONSE";

/// `validBefore` must be at least this many seconds after now (a block may take that long).
pub const VALID_BEFORE_MIN_MARGIN_SECS: u64 = 6;
/// `validBefore` may be at most `maxTimeoutSeconds` plus this many seconds after now.
pub const VALID_BEFORE_SLACK_SECS: u64 = 60;
/// A transfer proof's block may be at most this many seconds older than the order.
pub const PROOF_BLOCK_AGE_SLACK_SECS: u64 = 120;
/// Parts per million: the unit of the transfer-proof amount tolerance.
pub const PPM: u32 = 1_000_000;

/// `keccak256("Transfer(address,address,uint256)")`: topic0 of an ERC-20 transfer.
pub const TRANSFER_TOPIC: B256 = b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
/// `keccak256("AuthorizationUsed(address,bytes32)")`: topic0 of EIP-3009's nonce-used event.
pub const AUTHORIZATION_USED_TOPIC: B256 = b256!("98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5");
/// `keccak256("AuthorizationCanceled(address,bytes32)")`: topic0 of EIP-3009's nonce-canceled event.
pub const AUTHORIZATION_CANCELED_TOPIC: B256 =
    b256!("1cdd46ff242716cdaa72d159d339a485b3438398348d68f09d7c8c0a59353d81");

/// Selector of `transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)`.
pub const TRANSFER_WITH_AUTHORIZATION_SELECTOR: [u8; 4] = [0xe3, 0xee, 0x16, 0x0e];
/// Selector of `transfer(address,uint256)`.
pub const TRANSFER_SELECTOR: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// Selector of `balanceOf(address)`.
pub const BALANCE_OF_SELECTOR: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
/// Selector of `authorizationState(address,bytes32)`.
pub const AUTHORIZATION_STATE_SELECTOR: [u8; 4] = [0xe9, 0x4a, 0x01, 0x02];
/// Selector of `DOMAIN_SEPARATOR()`.
pub const DOMAIN_SEPARATOR_SELECTOR: [u8; 4] = [0x36, 0x44, 0xe5, 0x15];
