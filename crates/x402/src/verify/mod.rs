//! The storage-free verification rules of an x402 `exact` EIP-3009 payment (SPEC §5.4 a),
//! split so the server can run them in SPEC order with its own order lookup (step 2) between
//! step 1 and step 3, and its atomic nonce claim (step 6) after step 5:
//!
//! 1. [`check_form`]: well-formed, `x402Version` 1 or 2, scheme `exact`, network ours;
//! 3. [`check_terms`]: `to == payTo`, `value == amount` exactly, asset ours, v2 `accepted`
//!    matches the offer;
//! 4. [`check_window`]: `validAfter ≤ now`, `now + 6 ≤ validBefore ≤ now + maxTimeout + 60`;
//! 5. [`check_signature`]: low-s, `v ∈ {27, 28}`, recovers to `from` under our domain.
//!
//! [`verify_exact`] runs 1, 3, 4, 5 in that order.

mod form;
mod signature;
mod terms;
mod window;

pub use form::{AcceptedTerms, ExactPayment, check_form};
pub use signature::{check_authorization_signature, check_signature};
pub use terms::check_terms;
pub use window::check_window;

use crate::offer::Offer;
use crate::rejection::Rejection;
use crate::wire::PaymentPayload;

/// Runs steps 1, 3, 4 and 5 against `offer` at time `now` (unix seconds); returns the parsed
/// payment on success.
pub fn verify_exact(payment: &PaymentPayload, offer: &Offer, now: u64) -> Result<ExactPayment, Rejection> {
    let exact = check_form(payment, offer.chain_id())?;
    check_terms(&exact, offer)?;
    check_window(&exact.authorization, now, offer.max_timeout_seconds)?;
    check_signature(&exact, &offer.token)?;
    Ok(exact)
}
