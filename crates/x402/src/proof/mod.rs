//! Otonix transfer proofs (SPEC §5.4 b): the client paid with a plain ERC-20 `transfer` and
//! presents `{ orderId, txHash, payer, signature? }`. This module parses the proof, checks an
//! already fetched receipt against the order, and checks the payer's EIP-191 signature over
//! `otonix order <orderId>`. Storage (order lookup, one-time use of the hash) is the server's.

mod payer_binding;
mod receipt_check;
mod transfer_proof;

pub use payer_binding::{
    check_payer_binding, order_message, verify_order_signature, verify_wallet_signature, wallet_message,
};
pub use receipt_check::{
    ProofAccepted, ProofTerms, check_transfer_receipt, minimum_payment, tolerance_ppm_from_decimal,
};
pub use transfer_proof::{TransferProof, TransferProofWire};
