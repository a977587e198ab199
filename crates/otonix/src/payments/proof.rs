//! Paying with a transfer proof (the Otonix flow, SPEC §5.4 b): the client sent USDC to `payTo`
//! itself and proves it with the transaction hash. All checks, then the atomic claim of the
//! transaction; the payment is already on chain, so it is settled at once.

use alloy_primitives::U256;
use x402::proof::{ProofTerms, TransferProof, check_payer_binding, check_transfer_receipt};

use super::flow::{claim, record, resume};
use super::settle::Settlement;
use super::{Outcome, PaidRequest, Payments, check_order};
use crate::config::PaymentMode;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::orders::{self, Settling};

pub(super) async fn pay(
    payments: &Payments,
    state: &AppState,
    request: &PaidRequest,
    proof: &TransferProof,
) -> ApiResult<Outcome> {
    let terms = &payments.terms;
    let Some(rpc) = payments.settler.rpc().filter(|_| terms.mode != PaymentMode::Dev) else {
        return Err(ApiError::PaymentInvalid {
            reason: "proofs_unsupported",
            message: if terms.mode == PaymentMode::Dev {
                "dev mode cannot see a chain, so it cannot check a transaction; pay with an EIP-3009 authorization"
                    .into()
            } else {
                "transfer proofs need payments.rpcUrl; pay with an EIP-3009 authorization".into()
            },
        });
    };
    let rejected = |rejection: x402::Rejection| ApiError::payment_rejected(&rejection);
    let now = state.now();
    // 1. The order.
    let order = orders::get(&mut *state.store.read().await?, &proof.order_id).await?;
    let order = check_order(state, request, order, now).await?;
    let claim_key = terms.transaction_claim(&proof.tx_hash);
    if let Some(outcome) = resume(payments, state, &order, &claim_key).await? {
        return Ok(outcome);
    }
    // 2–4. Receipt, confirmations, transfers to payTo, not older than the order.
    let unavailable =
        |e: evm_rpc::RpcError| ApiError::UpstreamUnavailable(format!("the chain cannot be read now: {e}"));
    let receipt = rpc.transaction_receipt(proof.tx_hash).await.map_err(unavailable)?;
    let head = rpc.block_number().await.map_err(unavailable)?;
    let proof_terms = ProofTerms {
        asset: terms.token.verifying_contract,
        pay_to: terms.pay_to,
        payer: proof.payer,
        amount: U256::from(order.amount.max(0) as u64),
        tolerance_ppm: terms.tolerance_ppm,
        required_confirmations: terms.confirmations,
        order_created_at: (order.created_at / 1000) as u64,
    };
    check_transfer_receipt(receipt.as_ref(), head, &proof_terms).map_err(rejected)?;
    // 5. The payer is bound to the requester.
    let payer = proof.payer.to_checksum(None);
    let is_own_wallet =
        crate::store::agents::verified_agent_of(&mut *state.store.read().await?, &request.principal, &payer)
            .await?
            .is_some();
    check_payer_binding(proof, is_own_wallet).map_err(rejected)?;
    // 6. The transaction, claimed atomically.
    let settling = Settling { scheme: "txHash", payer: payer.clone(), claim_key: claim_key.clone() };
    if let Some(outcome) = claim(payments, state, &order, &settling).await? {
        return Ok(outcome);
    }
    let mut order = order;
    order.claim_key = Some(claim_key);
    order.payer = Some(payer);
    order.scheme = Some("txHash".into());
    record(payments, state, &order, Settlement::Settled { tx_hash: format!("{:#x}", proof.tx_hash) }).await
}
