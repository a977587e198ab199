//! What the chain says of a payment: that the endpoint serves our chain, receipts with their
//! confirmations, and the token's word on an authorization (`authorizationState`, and the
//! `AuthorizationUsed` log that names the transaction which used it). Expiry is judged by block
//! time, never by the server's clock.

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use evm_rpc::{RpcClient, RpcError};
use x402::calldata;
use x402::constants::{AUTHORIZATION_CANCELED_TOPIC, AUTHORIZATION_USED_TOPIC};
use x402::receipt::authorization_paid;

use super::{SettleReference, Settlement};
use crate::payments::Terms;

/// How far back to look for the transaction that used an authorization when nothing tells
/// where to start (an authorization is valid for minutes; this covers hours on Base).
const LOG_LOOKBACK_BLOCKS: u64 = 10_000;
/// Blocks per `eth_getLogs` request (below the caps hosted providers put on ranges).
const LOG_CHUNK_BLOCKS: u64 = 500;

/// Reads the configured chain.
pub struct ChainReader {
    rpc: RpcClient,
    asset: Address,
    pay_to: Address,
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
            pay_to: terms.pay_to,
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
    #[tracing::instrument(skip_all)]
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

    /// What the token says of the authorization of `reference`, as a settlement: used by a
    /// confirmed transaction that carries its transfer is settled by it; canceled, spent by
    /// another authorization, used before this payment, or unused past `validBefore` is failed; unused is failed too when `refused` says the chain refused it
    /// (our simulation or transaction reverted); anything else is pending.
    pub async fn authorization_outcome(&self, reference: &SettleReference, refused: Option<&str>) -> Settlement {
        let failed = |reason: &str| Settlement::Failed { reason: reason.to_owned() };
        match self.fate(reference).await {
            Fate::Used { tx, confirmed: true } => Settlement::Settled { tx_hash: tx },
            Fate::Used { tx, confirmed: false } => {
                Settlement::Pending { reference: Some(SettleReference { tx_hash: Some(tx), ..reference.clone() }) }
            }
            Fate::Canceled => failed("the authorization was canceled"),
            Fate::SpentOtherwise => failed("the authorization's nonce was spent by another authorization"),
            Fate::UsedBefore => failed("the authorization was used before this payment"),
            Fate::Unused { expired: true } => failed("the authorization expired unused"),
            Fate::Unused { expired: false } => match refused {
                Some(reason) => failed(reason),
                None => pending(reference),
            },
            Fate::Unknown => pending(reference),
        }
    }

    /// What became of the authorization of `reference`: the token's `authorizationState`, then
    /// the `AuthorizationUsed` or `AuthorizationCanceled` log since `fromBlock` (the last
    /// [`LOG_LOOKBACK_BLOCKS`] blocks when it is 0).
    #[tracing::instrument(skip_all)]
    pub async fn fate(&self, reference: &SettleReference) -> Fate {
        let (Some(from), Some(nonce)) = (reference.from, reference.nonce) else {
            return Fate::Unknown;
        };
        let state = self.rpc.call(None, self.asset, calldata::authorization_state(from, nonce)).await;
        match state.map(|out| calldata::decode_authorization_state(&out)) {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                return match self.settled_time().await {
                    Ok(time) => Fate::Unused { expired: time >= reference.valid_before },
                    Err(_) => Fate::Unused { expired: false },
                };
            }
            _ => return Fate::Unknown,
        }
        match self.find_log(AUTHORIZATION_USED_TOPIC, from, nonce, reference.from_block).await {
            Ok(Some(tx)) => return self.use_in(tx, from, nonce, reference.value).await,
            Ok(None) => {}
            Err(_) => return Fate::Unknown,
        }
        match self.find_log(AUTHORIZATION_CANCELED_TOPIC, from, nonce, reference.from_block).await {
            Ok(Some(_)) => Fate::Canceled,
            Ok(None) => Fate::UsedBefore,
            Err(_) => Fate::Unknown,
        }
    }

    /// What `tx`, which used the nonce of `(from, nonce)`, says of the authorization: it paid
    /// `value` to `payTo` (used, with or without its confirmations), or the nonce went to
    /// another authorization.
    async fn use_in(&self, tx: B256, from: Address, nonce: B256, value: Option<U256>) -> Fate {
        let Some(value) = value else {
            return Fate::Unknown;
        };
        let (receipt, head) = match (self.rpc.transaction_receipt(tx).await, self.rpc.block_number().await) {
            (Ok(Some(receipt)), Ok(head)) => (receipt, head),
            _ => return Fate::Unknown,
        };
        if !receipt.success || !authorization_paid(&receipt.logs, self.asset, from, nonce, self.pay_to, value) {
            return Fate::SpentOtherwise;
        }
        let confirmations = head.saturating_add(1).saturating_sub(receipt.block_number);
        Fate::Used { tx, confirmed: confirmations >= self.confirmations }
    }

    /// The time of the newest block with our confirmations: no block from then on can go back
    /// before it.
    async fn settled_time(&self) -> Result<u64, RpcError> {
        let head = self.rpc.block_number().await?;
        self.rpc.block_timestamp(head.saturating_sub(self.confirmations - 1)).await
    }

    /// The transaction of the newest `topic(from, nonce)` log of our token since `from_block`
    /// (the last [`LOG_LOOKBACK_BLOCKS`] when 0), read [`LOG_CHUNK_BLOCKS`] at a time, newest
    /// first: providers cap the blocks one `eth_getLogs` may cover.
    async fn find_log(
        &self,
        topic: B256,
        from: Address,
        nonce: B256,
        from_block: u64,
    ) -> Result<Option<B256>, RpcError> {
        let head = self.rpc.block_number().await?;
        let start = match from_block {
            0 => head.saturating_sub(LOG_LOOKBACK_BLOCKS),
            block => block.min(head),
        };
        let topics = vec![Some(topic), Some(from.into_word()), Some(nonce)];
        let mut high = head;
        loop {
            let low = high.saturating_sub(LOG_CHUNK_BLOCKS - 1).max(start);
            if let Some((tx, _)) = self.rpc.logs(self.asset, topics.clone(), low, Some(high)).await?.last() {
                return Ok(Some(*tx));
            }
            if low <= start {
                return Ok(None);
            }
            high = low - 1;
        }
    }
}

/// What became of an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Used by this transaction (with its confirmations, or not yet).
    Used {
        /// The transaction.
        tx: B256,
        /// Whether it succeeded and has its confirmations.
        confirmed: bool,
    },
    /// Canceled by its authorizer: it will never move money.
    Canceled,
    /// Its nonce was spent by another authorization of the same authorizer (another amount or
    /// recipient): it will never move money.
    SpentOtherwise,
    /// Used, but by no transaction in the blocks searched: long before this payment.
    UsedBefore,
    /// Not used; `expired` when the chain's time is past `validBefore` (it never will be).
    Unused {
        /// Past `validBefore`.
        expired: bool,
    },
    /// The chain cannot be read now.
    Unknown,
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
