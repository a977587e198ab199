//! Binding a transfer proof's payer to the requester (SPEC §5.4 b step 5): either the payer is
//! a verified wallet of the requester, or the proof carries the payer's EIP-191
//! (`personal_sign`) signature over the text `otonix order <orderId>`. A wallet is verified by
//! its EIP-191 signature over `otonix wallet <agentId> <walletAddress>` (SPEC §4.2).

use alloy_primitives::{Address, eip191_hash_message};

use super::transfer_proof::TransferProof;
use crate::parse::PaymentSignature;
use crate::recover::recover_address;
use crate::rejection::Rejection;

/// The exact text a payer signs for a transfer proof.
pub fn order_message(order_id: &str) -> String {
    format!("otonix order {order_id}")
}

/// The exact text a wallet signs to prove its owner controls it: `otonix wallet <agentId>
/// <walletAddress>`, the address EIP-55 checksummed as the agent object shows it.
pub fn wallet_message(agent_id: &str, wallet: Address) -> String {
    format!("otonix wallet {agent_id} {}", wallet.to_checksum(None))
}

/// Checks that `signature` is `wallet`'s EIP-191 signature over [`wallet_message`] (the address
/// in the text may also be written in lowercase).
pub fn verify_wallet_signature(agent_id: &str, wallet: Address, signature: &PaymentSignature) -> Result<(), Rejection> {
    let lowercase = format!("otonix wallet {agent_id} {wallet:#x}");
    let checksummed = wallet_message(agent_id, wallet);
    if [checksummed, lowercase].iter().any(|text| recover_personal(text, signature) == Some(wallet)) {
        Ok(())
    } else {
        Err(Rejection::PayerSignatureInvalid)
    }
}

/// The signer of an EIP-191 signature over `text` (`v` 27/28 or 0/1).
fn recover_personal(text: &str, signature: &PaymentSignature) -> Option<Address> {
    let parity = match signature.v() {
        0 | 27 => false,
        1 | 28 => true,
        _ => return None,
    };
    recover_address(&eip191_hash_message(text), &signature.r(), &signature.s(), parity)
}

/// Checks that `signature` is `payer`'s EIP-191 signature over [`order_message`].
///
/// `v` may be 27/28 or 0/1 (wallets differ); a high `s` is accepted because this signature only
/// binds identity and is never used as a replay key.
pub fn verify_order_signature(order_id: &str, payer: Address, signature: &PaymentSignature) -> Result<(), Rejection> {
    let recovered = recover_personal(&order_message(order_id), signature).ok_or(Rejection::PayerSignatureInvalid)?;
    if recovered == payer { Ok(()) } else { Err(Rejection::PayerSignatureMismatch { recovered, payer }) }
}

/// Step 5 as a rule: accepted when `payer_is_requester_wallet` (a *verified* wallet of an agent
/// of the requester), else the proof must carry a valid signature by its payer.
pub fn check_payer_binding(proof: &TransferProof, payer_is_requester_wallet: bool) -> Result<(), Rejection> {
    if payer_is_requester_wallet {
        return Ok(());
    }
    match &proof.signature {
        Some(signature) => verify_order_signature(&proof.order_id, proof.payer, signature),
        None => Err(Rejection::PayerNotBound { payer: proof.payer }),
    }
}
