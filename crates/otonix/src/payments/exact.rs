//! Paying with an EIP-3009 authorization (the x402 `exact` scheme, SPEC §5.4 a), in the order
//! the SPEC lists the checks: form, order, terms, time window, signature, atomic claim — then
//! settlement before anything is delivered.

use x402::verify::{check_form, check_signature, check_terms, check_window};
use x402::wire::PaymentPayload;

use super::flow::{ReferenceSink, claim, record, resume};
use super::{Outcome, PaidRequest, Payments, canonical, check_order};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::orders::{self, Settling};

pub(super) async fn pay(
    payments: &Payments,
    state: &AppState,
    request: &PaidRequest,
    payload: &PaymentPayload,
) -> ApiResult<Outcome> {
    let terms = &payments.terms;
    let rejected = |rejection: x402::Rejection| ApiError::payment_rejected(&rejection);
    // 1. Well-formed, version, scheme, network.
    let payment = check_form(payload, terms.token.chain_id).map_err(rejected)?;
    // 2. The order: named by a v2 payment, found by the request for a v1 one.
    let now = state.now();
    let order = {
        let mut conn = state.store.read().await?;
        match payment.order_id() {
            Some(id) => orders::get(&mut conn, id).await?,
            None => {
                let hash = canonical::body_hash(&request.canonical_body);
                orders::latest_for_request(&mut conn, &request.principal, &request.method, &request.path, &hash).await?
            }
        }
    };
    let order = check_order(state, request, order, now).await?;
    let claim_key = terms.authorization_claim(payment.payer(), &payment.authorization.nonce);
    if let Some(outcome) = resume(payments, state, &order, &claim_key).await? {
        return Ok(outcome);
    }
    // 3–5. Recipient, amount, asset; time window; signature — against our own terms.
    let offer = terms.offer(order.amount);
    check_terms(&payment, &offer).map_err(rejected)?;
    check_window(&payment.authorization, (now / 1000) as u64, terms.max_timeout_seconds).map_err(rejected)?;
    check_signature(&payment, &terms.token).map_err(rejected)?;
    // 6. The claim, atomically, before anything else happens.
    let settling = Settling { scheme: "exact", payer: payment.payer().to_checksum(None), claim_key: claim_key.clone() };
    if let Some(outcome) = claim(payments, state, &order, &settling).await? {
        return Ok(outcome);
    }

    // Settle before delivering anything.
    let raw = serde_json::to_value(payload).map_err(ApiError::internal)?;
    let requirements = serde_json::to_value(offer.requirements_v2(Some(&order.id))).map_err(ApiError::internal)?;
    let sink = ReferenceSink::new(state, &order.id);
    let settlement =
        payments.settler.settle(&payment, &raw, &requirements, &claim_key, terms.settlement_timeout, &sink).await;
    let mut order = order;
    order.claim_key = Some(claim_key);
    order.payer = Some(settling.payer);
    order.scheme = Some("exact".into());
    record(payments, state, &order, settlement).await
}
