//! Paying with a transfer proof (the Otonix flow, SPEC §5.4 b): the client sent USDC to `payTo`
//! itself and proves it with the transaction's hash. All checks, then the atomic claim of the
//! transaction; the money is already on chain, so the order is settled at once.
//!
//! The payer must be bound to the requester by proof of control: a *verified* wallet of one of
//! its agents, or the payer's signature over `otonix order <orderId>` in the proof. A transfer
//! mined before the order expired still pays it when presented late (judged by block time).

use x402::proof::{ProofTerms, TransferProof, check_payer_binding, check_transfer_receipt};

use super::flow::{claim, record, resume};
use super::order::{Expiry, check_order};
use super::settle::Settlement;
use super::{Outcome, PaidRequest, Payments};
use crate::error::{ApiError, ApiResult};
use crate::store::agents;
use crate::store::orders::{self, Order, Settling};

#[tracing::instrument(skip_all)]
pub(super) async fn pay(
    engine: &Payments,
    request: &PaidRequest,
    proof: &TransferProof,
    tolerant: bool,
) -> ApiResult<Outcome> {
    let terms = &engine.terms;
    let Some(chain) = engine.settler.chain().filter(|_| terms.transfer_proofs) else {
        return Err(ApiError::PaymentInvalid {
            reason: "proofs_unsupported",
            message: if terms.mode == crate::config::PaymentMode::Dev {
                "dev mode cannot see a chain, so it cannot check a transaction; pay with an EIP-3009 authorization"
                    .into()
            } else {
                "this server does not take transfer proofs; pay with an EIP-3009 authorization".into()
            },
        });
    };
    let rejected = |rejection: x402::Rejection| ApiError::payment_rejected(&rejection);
    // 1. The order.
    let order = orders::get(&mut *engine.store.read().await?, &proof.order_id).await?;
    let (order, expired) = check_order(engine, request, order, None, Expiry::AllowPaidBefore).await?;
    let claim_key = terms.transaction_claim(&proof.tx_hash, proof.payer);
    if let Some(outcome) = resume(engine, &order, &claim_key, terms.settlement_timeout).await? {
        return Ok(outcome);
    }
    // 2–4. Receipt, confirmations, transfers to payTo, not older than the order.
    let unavailable = |e: String| ApiError::UpstreamUnavailable(format!("the chain cannot be read now: {e}"));
    chain.ensure_chain().await.map_err(|e| unavailable(e.to_string()))?;
    let receipt = chain.rpc().transaction_receipt(proof.tx_hash).await.map_err(|e| unavailable(e.to_string()))?;
    let head = chain.rpc().block_number().await.map_err(|e| unavailable(e.to_string()))?;
    if expired
        && receipt.as_ref().is_none_or(|r| r.block_timestamp.saturating_mul(1000) > order.expires_at.max(0) as u64)
    {
        return Err(ApiError::OrderExpired);
    }
    let proof_terms = ProofTerms {
        asset: terms.token.verifying_contract,
        pay_to: terms.pay_to,
        payer: proof.payer,
        amount: order.amount.atomic_units(),
        // What is bought upstream at its full price is paid in full.
        tolerance_ppm: if tolerant { terms.tolerance_ppm } else { 1_000_000 },
        required_confirmations: terms.confirmations,
        order_created_at: (order.created_at / 1000) as u64,
    };
    check_transfer_receipt(receipt.as_ref(), head, &proof_terms).map_err(rejected)?;
    // 5. The payer is bound to the requester by proof of control.
    let payer = proof.payer.to_checksum(None);
    let verified = agents::verified_agent_of(&mut *engine.store.read().await?, &request.principal, &payer).await?;
    check_payer_binding(proof, verified.is_some()).map_err(rejected)?;
    // 6. The transaction, claimed atomically.
    let settling = Settling { scheme: "txHash", payer, claim_key };
    if let Some(outcome) = claim(engine, &order, &settling, None, expired).await? {
        return Ok(outcome);
    }
    let order = Order {
        claim_key: Some(settling.claim_key),
        payer: Some(settling.payer),
        scheme: Some("txHash".into()),
        ..order
    };
    record(engine, &order, Settlement::Settled { tx_hash: proof.tx_hash }).await
}
