//! Step 3: the payment pays exactly what we offered, to us, in our token.

use crate::network::chain_id_v2;
use crate::offer::Offer;
use crate::rejection::Rejection;

use super::form::ExactPayment;

/// Step 3: `to == payTo`, `value == amount` exactly (no overpayment either), the asset is ours
/// (v2 `accepted.asset`; v1 names no asset, and our EIP-712 domain binds the token in step 5),
/// and a v2 `accepted` echo matches the offer on network, amount and payTo.
pub fn check_terms(payment: &ExactPayment, offer: &Offer) -> Result<(), Rejection> {
    let authorization = &payment.authorization;
    if authorization.to != offer.pay_to {
        return Err(Rejection::RecipientMismatch { to: authorization.to, pay_to: offer.pay_to });
    }
    if authorization.value != offer.amount {
        return Err(Rejection::AmountMismatch { value: authorization.value, amount: offer.amount });
    }
    let Some(accepted) = &payment.accepted else {
        return Ok(());
    };
    if accepted.asset != offer.asset() {
        return Err(Rejection::AssetMismatch { asset: accepted.asset, expected: offer.asset() });
    }
    let field = if chain_id_v2(&accepted.requirements.network) != Some(offer.chain_id()) {
        Some("network")
    } else if accepted.requirements.scheme != crate::constants::SCHEME_EXACT {
        Some("scheme")
    } else if accepted.amount != offer.amount {
        Some("amount")
    } else if accepted.pay_to != offer.pay_to {
        Some("payTo")
    } else {
        None
    };
    match field {
        Some(field) => Err(Rejection::AcceptedMismatch { field }),
        None => Ok(()),
    }
}
