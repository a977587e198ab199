//! Paying with an EIP-3009 authorization (the x402 `exact` scheme, SPEC §5.4 a), in the order
//! the SPEC lists the checks: form, order, terms, time window, signature, atomic claim — then
//! settlement before anything is delivered.

use x402::verify::{check_form, check_signature, check_terms, check_window};
use x402::wire::PaymentPayload;

use super::flow::{claim, record, resume};
use super::order::{Expiry, check_order};
use super::settle::Ledger;
use super::{Outcome, PaidRequest, Payments, QuoteFn, canonical};
use crate::error::{ApiError, ApiResult};
use crate::store::orders::{self, Order, Settling};

#[tracing::instrument(skip_all)]
pub(super) async fn pay(
    engine: &Payments,
    request: &PaidRequest,
    quote: QuoteFn<'_>,
    payload: &PaymentPayload,
) -> ApiResult<Outcome> {
    let terms = &engine.terms;
    let rejected = |rejection: x402::Rejection| ApiError::payment_rejected(&rejection);
    // 1. Well-formed, version, scheme, network.
    let payment = check_form(payload, terms.token.chain_id).map_err(rejected)?;
    // 2. The order: named by a v2 payment, found by the request for a v1 one.
    let order = {
        let mut conn = engine.store.read().await?;
        match payment.order_id() {
            Some(id) => orders::get(&mut conn, id).await?,
            None => {
                let hash = canonical::body_hash(&request.canonical_body);
                orders::latest_for_request(&mut conn, &request.principal, &request.method, &request.path, &hash).await?
            }
        }
    };
    let (order, _) = check_order(engine, request, order, Some(quote), Expiry::Refuse).await?;
    let claim_key = terms.authorization_claim(payment.payer(), &payment.authorization.nonce);
    if let Some(outcome) = resume(engine, &order, &claim_key, terms.settlement_timeout).await? {
        return Ok(outcome);
    }
    // 3–5. Recipient, amount, asset; time window; signature — against our own terms.
    let offer = terms.offer(order.amount);
    check_terms(&payment, &offer).map_err(rejected)?;
    check_window(&payment.authorization, (engine.now() / 1000) as u64, terms.max_timeout_seconds).map_err(rejected)?;
    check_signature(&payment, &terms.token).map_err(rejected)?;
    // 6. The claim, atomically, before anything else happens.
    let settling = Settling { scheme: "exact", payer: payment.payer().to_checksum(None), claim_key };
    let valid_before = u64::try_from(payment.authorization.valid_before).unwrap_or(u64::MAX);
    if let Some(outcome) = claim(engine, &order, &settling, Some(valid_before), false).await? {
        return Ok(outcome);
    }
    let order = Order {
        claim_key: Some(settling.claim_key),
        payer: Some(settling.payer),
        scheme: Some("exact".into()),
        ..order
    };

    // Settle before delivering anything.
    let raw = serde_json::to_value(payload).map_err(ApiError::internal)?;
    let requirements = serde_json::to_value(offer.requirements_v2(Some(&order.id))).map_err(ApiError::internal)?;
    let ledger = Ledger::new(engine, &order);
    let settlement = engine.settler.settle(&payment, &raw, &requirements, &ledger, terms.settlement_timeout).await;
    let order = Order { settle_reference: ledger.stored(), ..order.clone() };
    record(engine, &order, settlement).await
}
