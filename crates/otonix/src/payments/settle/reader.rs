//! What the chain says of a payment: that the endpoint serves our chain, receipts with their
//! confirmations, and the token's word on an authorization (`authorizationState`, and the
//! `AuthorizationUsed` log that names the transaction which used it). Expiry is judged by block
//! time, never by the server's clock.

use std::time::Duration;

use alloy_primitives::{Address, B256};
use evm_rpc::{RpcClient, RpcError};
use x402::calldata;
use x402::constants::AUTHORIZATION_USED_TOPIC;

use super::{SettleReference, Settlement};
use crate::payments::Terms;

/// How far back to look for the transaction that used an authorization when nothing tells
/// where to start (an authorization is valid for minutes; this covers hours on Base).
const LOG_LOOKBACK_BLOCKS: u64 = 10_000;

/// Reads the configured chain.
pub struct ChainReader {
    rpc: RpcClient,
    asset: Address,
    chain_id: u64,
    confirmations: u64,
    checked: tokio::sync::OnceCell<()>,
}

impl ChainReader {
    /// A reader of the chain behind `rpc`.
    pub fn new(rpc: RpcClient, terms: &Terms) -> Self {
        Self {
            rpc,
            asset: terms.token.verifying_contract,
            chain_id: terms.token.chain_id,
            confirmations: terms.confirmations.max(1),
            checked: tokio::sync::OnceCell::new(),
        }
    }

    /// The JSON-RPC client.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Our token contract.
    pub fn asset(&self) -> Address {
        self.asset
    }

    /// Confirmations a transaction needs (at least 1).
    pub fn confirmations(&self) -> u64 {
        self.confirmations
    }

    /// At startup: an endpoint serving another chain is an error; one that cannot be reached
    /// now is checked again before it is first used.
    pub async fn check_at_start(&self) -> anyhow::Result<()> {
        match self.ensure_chain().await {
            Ok(()) => Ok(()),
            Err(ChainCheck::Mismatch(served)) => anyhow::bail!(
                "payments.rpcUrl ({}) serves chain {served}, but payments.chainId is {}",
                self.rpc.endpoint(),
                self.chain_id
            ),
            Err(ChainCheck::Unreachable(error)) => {
                tracing::warn!(endpoint = %self.rpc.endpoint(), error = %error, "the chain cannot be read now; its id is checked before it is used");
                Ok(())
            }
        }
    }

    /// Checks (once) that the endpoint serves our chain.
    pub async fn ensure_chain(&self) -> Result<(), ChainCheck> {
        self.checked
            .get_or_try_init(|| async {
                match self.rpc.chain_id().await {
                    Ok(id) if id == self.chain_id => Ok(()),
                    Ok(id) => Err(ChainCheck::Mismatch(id)),
                    Err(error) => Err(ChainCheck::Unreachable(error)),
                }
            })
            .await
            .map(|_| ())
    }

    /// How a settlement ended: our transaction's receipt first (waiting up to `wait` for it and
    /// its confirmations), then the authorization's state.
    pub async fn reconcile(&self, reference: &SettleReference, wait: Duration) -> Settlement {
        if let Some(hash) = reference.tx_hash {
            match self.rpc.wait_for_receipt(hash, self.confirmations, wait).await {
                Ok(Some(receipt)) if receipt.success => return Settlement::Settled { tx_hash: hash },
                Ok(Some(_)) => {
                    return self.authorization_outcome(reference, Some("the settlement transaction reverted")).await;
                }
                // Not mined, or without its confirmations yet: the authorization tells more.
                Ok(None) => {}
                Err(_) => return pending(reference),
            }
        }
        self.authorization_outcome(reference, None).await
    }

    /// What the token says of the authorization of `reference`. Used: settled by the
    /// transaction that used it, once that has its confirmations; failed when no transaction used
    /// it since `fromBlock` (it was canceled, or used long before this payment: either way it
    /// moved no money for this order). Unused: failed when `refused` says the chain refused it
    /// (our simulation or transaction reverted), or when the chain's time has passed
    /// `validBefore`; pending otherwise. Pending whenever the chain cannot be read.
    pub async fn authorization_outcome(&self, reference: &SettleReference, refused: Option<&str>) -> Settlement {
        let (Some(from), Some(nonce)) = (reference.from, reference.nonce) else {
            return pending(reference);
        };
        let state = self.rpc.call(None, self.asset, calldata::authorization_state(from, nonce)).await;
        match state.map(|out| calldata::decode_authorization_state(&out)) {
            Ok(Ok(true)) => {
                let tx = match self.find_use(from, nonce, reference.from_block).await {
                    Ok(Some(tx)) => tx,
                    Ok(None) => {
                        return Settlement::Failed {
                            reason: "the authorization was canceled, or used before this payment".into(),
                        };
                    }
                    Err(_) => return pending(reference),
                };
                if self.confirmed(tx).await {
                    Settlement::Settled { tx_hash: tx }
                } else {
                    Settlement::Pending { reference: Some(SettleReference { tx_hash: Some(tx), ..reference.clone() }) }
                }
            }
            Ok(Ok(false)) => match refused {
                Some(reason) => Settlement::Failed { reason: reason.to_owned() },
                None => match self.settled_time().await {
                    Ok(time) if time >= reference.valid_before => {
                        Settlement::Failed { reason: "the authorization expired unused".into() }
                    }
                    _ => pending(reference),
                },
            },
            _ => pending(reference),
        }
    }

    /// Whether `tx` succeeded and has its confirmations.
    pub async fn confirmed(&self, tx: B256) -> bool {
        matches!(self.rpc.wait_for_receipt(tx, self.confirmations, Duration::ZERO).await, Ok(Some(r)) if r.success)
    }

    /// The time of the newest block with our confirmations: no block from then on can go back
    /// before it.
    async fn settled_time(&self) -> Result<u64, RpcError> {
        let head = self.rpc.block_number().await?;
        self.rpc.block_timestamp(head.saturating_sub(self.confirmations - 1)).await
    }

    /// The transaction that emitted `AuthorizationUsed(from, nonce)` since `from_block` (or the
    /// last [`LOG_LOOKBACK_BLOCKS`] blocks when it is 0).
    async fn find_use(&self, from: Address, nonce: B256, from_block: u64) -> Result<Option<B256>, RpcError> {
        let start = match from_block {
            0 => self.rpc.block_number().await?.saturating_sub(LOG_LOOKBACK_BLOCKS),
            block => block,
        };
        let topics = vec![Some(AUTHORIZATION_USED_TOPIC), Some(from.into_word()), Some(nonce)];
        let logs = self.rpc.logs(self.asset, topics, start, None).await?;
        Ok(logs.first().map(|(tx, _)| *tx))
    }
}

fn pending(reference: &SettleReference) -> Settlement {
    Settlement::Pending { reference: Some(reference.clone()) }
}

/// Why the chain could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainCheck {
    /// The endpoint serves another chain.
    #[error("the RPC endpoint serves chain {0}, not ours")]
    Mismatch(u64),
    /// The endpoint cannot be reached now.
    #[error("the chain cannot be read now: {0}")]
    Unreachable(RpcError),
}
