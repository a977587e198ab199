//! `chain` settlement: simulate `transferWithAuthorization` with `eth_call`, send it from the
//! relayer key, wait for a confirmed receipt. A revert is checked against the token's
//! authorization state before being called a failure: someone else may have submitted the same
//! authorization first (it still pays `payTo`: the recipient is signed).

use std::time::Duration;

use alloy_primitives::{Address, B256};
use evm_rpc::{PrivateKeySigner, RpcClient, RpcError};
use x402::ExactPayment;
use x402::calldata;
use x402::constants::AUTHORIZATION_USED_TOPIC;

use super::{SettleReference, Settlement};
use crate::payments::Terms;

/// How far back to look for the transaction that used an authorization when we did not send it.
const LOG_LOOKBACK_BLOCKS: u64 = 50_000;

/// Settles on an EVM chain over JSON-RPC.
pub struct ChainSettler {
    rpc: RpcClient,
    relayer: PrivateKeySigner,
    asset: Address,
    confirmations: u64,
}

impl ChainSettler {
    /// A settler sending from `relayer`.
    pub fn new(rpc: RpcClient, relayer: PrivateKeySigner, terms: &Terms) -> Self {
        Self { rpc, relayer, asset: terms.token.verifying_contract, confirmations: terms.confirmations }
    }

    /// The chain.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Settles `payment`, waiting up to `wait` for the receipt.
    pub async fn settle(&self, payment: &ExactPayment, wait: Duration, sink: &super::ReferenceSink) -> Settlement {
        let data = calldata::transfer_with_authorization(&payment.authorization, &payment.signature);
        match self.rpc.call(Some(self.relayer.address()), self.asset, data.clone()).await {
            Ok(_) => {}
            Err(RpcError::Reverted { reason }) => return failed(reason),
            Err(error) => return Settlement::Unavailable { reason: error.to_string() },
        }
        let mut reference = SettleReference::of(payment);
        reference.from_block = match self.rpc.block_number().await {
            Ok(block) => block,
            Err(error) => return Settlement::Unavailable { reason: error.to_string() },
        };
        // From here on a transaction may reach the chain: the reference is stored first.
        sink.store(&reference).await;
        let hash = match self.rpc.send_call(&self.relayer, self.asset, data).await {
            Ok(hash) => hash,
            Err(error) if error.is_transient() => return Settlement::Pending { reference },
            Err(RpcError::Reverted { reason }) => return failed(reason),
            // The node refused the transaction (relayer nonce or gas): nothing was sent.
            Err(error) => return Settlement::Unavailable { reason: error.to_string() },
        };
        reference.tx_hash = Some(hash);
        sink.store(&reference).await;
        match self.rpc.wait_for_receipt(hash, self.confirmations, wait).await {
            Ok(Some(receipt)) if receipt.success => Settlement::Settled { tx_hash: format!("{hash:#x}") },
            Ok(Some(_)) => self.after_revert(&reference, true, 0).await,
            Ok(None) | Err(_) => Settlement::Pending { reference },
        }
    }

    /// Finds out how an unfinished settlement ended.
    pub async fn reconcile(&self, reference: &SettleReference, now_seconds: u64) -> Settlement {
        if let Some(hash) = reference.tx_hash {
            match self.rpc.wait_for_receipt(hash, self.confirmations, Duration::ZERO).await {
                Ok(Some(receipt)) if receipt.success => return Settlement::Settled { tx_hash: format!("{hash:#x}") },
                Ok(Some(_)) => return self.after_revert(reference, true, now_seconds).await,
                Ok(None) => {}
                Err(_) => return Settlement::Pending { reference: reference.clone() },
            }
        }
        self.after_revert(reference, false, now_seconds).await
    }

    /// Our transaction reverted (`reverted`) or is unknown: the authorization settled if the
    /// token marked it used (by whoever). Unused, it did not settle if our transaction reverted,
    /// and it never will once past `validBefore`.
    async fn after_revert(&self, reference: &SettleReference, reverted: bool, now_seconds: u64) -> Settlement {
        let (Some(from), Some(nonce)) = (reference.from, reference.nonce) else {
            return Settlement::Pending { reference: reference.clone() };
        };
        let state = self.rpc.call(None, self.asset, calldata::authorization_state(from, nonce)).await;
        match state.map(|out| calldata::decode_authorization_state(&out)) {
            Ok(Ok(true)) => match self.find_use(from, nonce, reference.from_block).await {
                Some(tx) => Settlement::Settled { tx_hash: format!("{tx:#x}") },
                None => Settlement::Pending { reference: reference.clone() },
            },
            Ok(Ok(false)) if reverted => failed(None),
            Ok(Ok(false)) if now_seconds > reference.valid_before => {
                failed(Some("the authorization expired unused".into()))
            }
            _ => Settlement::Pending { reference: reference.clone() },
        }
    }

    /// The transaction that emitted `AuthorizationUsed(from, nonce)`.
    async fn find_use(&self, from: Address, nonce: B256, from_block: u64) -> Option<B256> {
        let start = if from_block > 0 {
            from_block
        } else {
            self.rpc.block_number().await.ok()?.saturating_sub(LOG_LOOKBACK_BLOCKS)
        };
        let topics = vec![Some(AUTHORIZATION_USED_TOPIC), Some(from.into_word()), Some(nonce)];
        let logs = self.rpc.logs(self.asset, topics, start, None).await.ok()?;
        logs.first().map(|(tx, _)| *tx)
    }
}

fn failed(reason: Option<String>) -> Settlement {
    Settlement::Failed { reason: reason.unwrap_or_else(|| "the settlement transaction reverted".into()) }
}
