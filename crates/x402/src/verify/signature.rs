//! Step 5: the EIP-712 signature, with USDC's on-chain rules applied locally (alloy's recovery
//! alone would accept a malleable high-s twin and any `v` parity encoding).

use alloy_primitives::{Signature, U256};

use crate::eip712::{Authorization, TokenDomain};
use crate::parse::PaymentSignature;
use crate::recover::recover_address;
use crate::rejection::Rejection;

use super::form::ExactPayment;

/// Step 5 for a payment that passed step 1, under `domain` (built from OUR configuration).
pub fn check_signature(payment: &ExactPayment, domain: &TokenDomain) -> Result<(), Rejection> {
    check_authorization_signature(&payment.authorization, &payment.signature, domain)
}

/// Checks in USDC's order: `s ≤ secp256k1n/2`, then `v ∈ {27, 28}` as sent, then that the
/// signature over the EIP-712 digest recovers to `authorization.from`.
pub fn check_authorization_signature(
    authorization: &Authorization,
    signature: &PaymentSignature,
    domain: &TokenDomain,
) -> Result<(), Rejection> {
    let r = U256::from_be_bytes(signature.r().0);
    let s = U256::from_be_bytes(signature.s().0);
    let parity = signature.v() == 28;
    let parsed = Signature::new(r, s, parity);
    if parsed.normalize_s().is_some() {
        return Err(Rejection::SignatureHighS);
    }
    if !matches!(signature.v(), 27 | 28) {
        return Err(Rejection::SignatureBadV { v: signature.v() });
    }
    let digest = authorization.signing_hash(domain);
    let recovered =
        recover_address(&digest, &signature.r(), &signature.s(), parity).ok_or(Rejection::SignatureInvalid)?;
    if recovered == authorization.from {
        Ok(())
    } else {
        Err(Rejection::SignatureMismatch { recovered, from: authorization.from })
    }
}
