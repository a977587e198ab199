//! `chain` settlement: simulate `transferWithAuthorization` with `eth_call`, send it from the
//! relayer key, wait for a confirmed receipt.
//!
//! - A refused simulation is not a failure until the token says the authorization is unused:
//!   someone else may have submitted it first (it still pays `payTo`: the recipient is signed).
//! - The transaction is built and signed first, so its hash is stored with the order before it
//!   is broadcast; if that store fails or the order is no longer this payment's, nothing is sent.
//! - Only the node's own refusal of the broadcast (a JSON-RPC error) means it was not sent; any
//!   other failure of the broadcast leaves it pending, to be reconciled from the chain.
//! - Sends from one relayer key are serialized in the process and, through a database lease,
//!   across replicas, so two never take the same nonce.

use std::time::Duration;

use evm_rpc::{PrivateKeySigner, RpcError};
use x402::ExactPayment;
use x402::calldata;

use super::{ChainReader, Ledger, SettleReference, Settlement};

/// Settles on an EVM chain over JSON-RPC.
pub struct ChainSettler {
    reader: ChainReader,
    relayer: PrivateKeySigner,
}

impl ChainSettler {
    /// A settler sending from `relayer`.
    pub fn new(reader: ChainReader, relayer: PrivateKeySigner) -> Self {
        Self { reader, relayer }
    }

    /// The chain.
    pub fn reader(&self) -> &ChainReader {
        &self.reader
    }

    /// Settles `payment`, waiting up to `wait` for the receipt.
    #[tracing::instrument(skip_all)]
    pub async fn settle(&self, payment: &ExactPayment, ledger: &Ledger<'_>, wait: Duration) -> Settlement {
        if let Err(error) = self.reader.ensure_chain().await {
            return Settlement::Unavailable { reason: error.to_string() };
        }
        let rpc = self.reader.rpc();
        let asset = self.reader.asset();
        let data = calldata::transfer_with_authorization(&payment.authorization, &payment.signature);
        let mut reference = SettleReference::of(payment);
        // The head before the simulation: whoever uses the authorization after it passed does so
        // in this block or a later one.
        reference.from_block = match rpc.block_number().await {
            Ok(block) => block,
            Err(error) => return Settlement::Unavailable { reason: error.to_string() },
        };
        match rpc.call(Some(self.relayer.address()), asset, data.clone()).await {
            Ok(_) => {}
            Err(RpcError::Reverted { reason }) => return self.refused(&reference, reason).await,
            Err(error) => return Settlement::Unavailable { reason: error.to_string() },
        }
        let relayer = self.relayer.address();
        match ledger.lease_relayer(relayer, wait).await {
            Ok(true) => {}
            Ok(false) => {
                return Settlement::Unavailable { reason: "another replica is sending from the relayer".into() };
            }
            Err(error) => return Settlement::Unavailable { reason: error.to_string() },
        }
        let sent = self.broadcast(&mut reference, asset, data, ledger).await;
        ledger.release_relayer(relayer).await;
        let hash = match sent {
            Ok(hash) => hash,
            Err(settlement) => return settlement,
        };
        match rpc.wait_for_receipt(hash, self.reader.confirmations(), wait).await {
            Ok(Some(receipt)) if receipt.success => Settlement::Settled { tx_hash: hash },
            Ok(Some(_)) => {
                self.reader.authorization_outcome(&reference, Some("the settlement transaction reverted")).await
            }
            Ok(None) | Err(_) => Settlement::Pending { reference: Some(reference) },
        }
    }

    /// Builds and signs the transaction, stores its hash with the order, then broadcasts it.
    async fn broadcast(
        &self,
        reference: &mut SettleReference,
        asset: alloy_primitives::Address,
        data: Vec<u8>,
        ledger: &Ledger<'_>,
    ) -> Result<alloy_primitives::B256, Settlement> {
        let rpc = self.reader.rpc();
        let _permit = rpc.lock_sends().await;
        let prepared = match rpc.prepare_call(&self.relayer, asset, data).await {
            Ok(prepared) => prepared,
            Err(RpcError::Reverted { reason }) => return Err(self.refused(reference, reason).await),
            Err(error) => return Err(Settlement::Unavailable { reason: error.to_string() }),
        };
        reference.tx_hash = Some(prepared.hash);
        match ledger.record(reference).await {
            Ok(true) => {}
            Ok(false) => return Err(Settlement::Superseded),
            Err(error) => {
                return Err(Settlement::Unavailable {
                    reason: format!("the settlement could not be recorded: {error}"),
                });
            }
        }
        match rpc.send_raw(&prepared).await {
            Ok(hash) => Ok(hash),
            Err(RpcError::Reverted { reason }) => Err(self.refused(reference, reason).await),
            // The node answered no: nothing was broadcast, unless what answered was something in
            // front of a node that did take it. Released only when the node does not know it.
            Err(error) if error.is_refusal() => match rpc.transaction_known(prepared.hash).await {
                Ok(false) => Err(Settlement::Unavailable { reason: error.to_string() }),
                _ => Err(Settlement::Pending { reference: Some(reference.clone()) }),
            },
            // No answer, or one lost on the way: it may have been broadcast.
            Err(error) => {
                tracing::warn!(tx_hash = %prepared.hash, error = %error, "the broadcast's outcome is unknown; reconciling from the chain");
                Err(Settlement::Pending { reference: Some(reference.clone()) })
            }
        }
    }

    /// The chain refused the authorization (simulation or gas estimate): a failure only if the
    /// token says it is unused.
    async fn refused(&self, reference: &SettleReference, reason: Option<String>) -> Settlement {
        let reason = reason.map(|r| r.chars().take(200).collect::<String>());
        let reason = reason.as_deref().unwrap_or("the token refused the authorization");
        let unsent = SettleReference { tx_hash: None, from_block: 0, ..reference.clone() };
        self.reader.authorization_outcome(&unsent, Some(reason)).await
    }
}
