//! Binding a transfer proof's payer to the requester (SPEC §5.4 b step 5): either the payer is
//! a wallet of the requester, or the proof carries the payer's EIP-191 (`personal_sign`)
//! signature over the text `otonix order <orderId>`.

use alloy_primitives::{Address, eip191_hash_message};

use super::transfer_proof::TransferProof;
use crate::parse::PaymentSignature;
use crate::recover::recover_address;
use crate::rejection::Rejection;

/// The exact text a payer signs for a transfer proof.
pub fn order_message(order_id: &str) -> String {
    format!("otonix order {order_id}")
}

/// Checks that `signature` is `payer`'s EIP-191 signature over [`order_message`].
///
/// `v` may be 27/28 or 0/1 (wallets differ); a high `s` is accepted because this signature only
/// binds identity and is never used as a replay key.
pub fn verify_order_signature(order_id: &str, payer: Address, signature: &PaymentSignature) -> Result<(), Rejection> {
    let parity = match signature.v() {
        0 | 27 => false,
        1 | 28 => true,
        _ => return Err(Rejection::PayerSignatureInvalid),
    };
    let digest = eip191_hash_message(order_message(order_id));
    let recovered =
        recover_address(&digest, &signature.r(), &signature.s(), parity).ok_or(Rejection::PayerSignatureInvalid)?;
    if recovered == payer { Ok(()) } else { Err(Rejection::PayerSignatureMismatch { recovered, payer }) }
}

/// Step 5 as a rule: accepted when `payer_is_requester_wallet`, else the proof must carry a valid
/// signature by its payer.
pub fn check_payer_binding(proof: &TransferProof, payer_is_requester_wallet: bool) -> Result<(), Rejection> {
    if payer_is_requester_wallet {
        return Ok(());
    }
    match &proof.signature {
        Some(signature) => verify_order_signature(&proof.order_id, proof.payer, signature),
        None => Err(Rejection::PayerNotBound { payer: proof.payer }),
    }
}
