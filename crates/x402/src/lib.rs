//! x402 payments for Otonix, as a pure library: no database, no HTTP server, no network, no
//! async.
//!
//! What it owns:
//! - the x402 wire types, versions 1 and 2 ([`wire`]), and the base64 header codec ([`header`]);
//! - telling an incoming payment header apart by content: an x402 EIP-3009 payment or an Otonix
//!   transfer proof ([`incoming`]);
//! - strict parsing of amounts, addresses, nonces, signatures and hashes ([`parse`]), and USDC
//!   micro-unit display ([`usdc_units`]);
//! - EIP-712 hashing of `TransferWithAuthorization` for any token domain ([`eip712`]);
//! - the storage-free verification rules of an `exact` payment, step by step ([`verify`]), with a
//!   machine-readable [`Rejection`];
//! - transfer-proof checks over an already fetched receipt, `AuthorizationUsed` reconciliation and
//!   the EIP-191 order signature ([`proof`], [`receipt`]);
//! - calldata for the token calls a settler makes ([`calldata`]);
//! - with feature `signer`, client-side signing and payload building ([`signer`]).
//!
//! The server builds every [`TokenDomain`] and [`Offer`] from its own configuration, never from
//! anything a client sent.
#![forbid(unsafe_code)]

pub mod calldata;
pub mod constants;
pub mod eip712;
pub mod header;
pub mod incoming;
pub mod network;
pub mod offer;
pub mod parse;
pub mod proof;
pub mod receipt;
mod recover;
pub mod rejection;
#[cfg(feature = "signer")]
pub mod signer;
pub mod usdc_units;
pub mod verify;
pub mod wire;

pub use alloy_primitives::{Address, B256, U256};
pub use eip712::{Authorization, TokenDomain};
pub use header::{HeaderError, decode_header, encode_header};
pub use incoming::{IncomingPayment, PaymentHeaderError, decode_payment_header};
pub use offer::Offer;
pub use parse::{ParseError, PaymentSignature};
pub use rejection::Rejection;
pub use verify::{ExactPayment, verify_exact};
