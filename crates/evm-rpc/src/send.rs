//! Sending a contract call from a local key: an EIP-1559 transaction built from the node's chain
//! id, the pending nonce, a gas estimate with a margin and the node's fee suggestions, signed
//! locally and sent with `eth_sendRawTransaction`.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde_json::json;

use crate::client::RpcClient;
use crate::error::RpcError;
use crate::quantity::{data as hex_data, parse_b256, parse_u64, parse_u128};

/// Gas margin over the node's estimate, in percent.
const GAS_MARGIN_PERCENT: u64 = 25;

/// Exclusive use of a client's sends; see [`RpcClient::lock_sends`].
#[derive(Debug)]
pub struct SendPermit {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

/// What a built transaction will be: its hash is known before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedTx {
    /// The transaction hash.
    pub hash: B256,
    /// The signed EIP-2718 encoding, for `eth_sendRawTransaction`.
    pub raw: Vec<u8>,
    /// Nonce used.
    pub nonce: u64,
}

impl RpcClient {
    /// Builds, signs and sends a call of `data` on `to` from `signer`; returns the transaction
    /// hash once the node accepted it (not mined: see [`RpcClient::wait_for_receipt`]).
    ///
    /// Sends through one client (and its clones) are serialized, so concurrent sends never reuse
    /// a nonce. A revert while estimating gas is [`RpcError::Reverted`] and nothing is sent. A
    /// transient error from `eth_sendRawTransaction` leaves the outcome unknown.
    pub async fn send_call(&self, signer: &PrivateKeySigner, to: Address, data: Vec<u8>) -> Result<B256, RpcError> {
        let _permit = self.lock_sends().await;
        let prepared = self.prepare_call(signer, to, data).await?;
        self.send_raw(&prepared).await
    }

    /// Takes this client's send lock (shared with its clones) until the permit is dropped. Hold
    /// it around [`RpcClient::prepare_call`] and [`RpcClient::send_raw`] to learn the hash
    /// before the transaction is broadcast (e.g. to record it first):
    ///
    /// ```no_run
    /// # async fn demo(rpc: evm_rpc::RpcClient, key: evm_rpc::PrivateKeySigner, to: evm_rpc::Address) -> Result<(), evm_rpc::RpcError> {
    /// let _permit = rpc.lock_sends().await;
    /// let tx = rpc.prepare_call(&key, to, vec![]).await?;
    /// // record tx.hash durably here, then:
    /// rpc.send_raw(&tx).await?;
    /// # Ok(()) }
    /// ```
    pub async fn lock_sends(&self) -> SendPermit {
        SendPermit { _guard: std::sync::Arc::clone(&self.send_lock).lock_owned().await }
    }

    /// Builds and signs (but does not send) a call of `data` on `to` from `signer`, with the
    /// pending nonce. Hold [`RpcClient::lock_sends`] from here until it is sent.
    pub async fn prepare_call(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        data: Vec<u8>,
    ) -> Result<PreparedTx, RpcError> {
        let from = signer.address();
        let chain_id = self.chain_id().await?;
        let nonce = parse_u64(&self.request("eth_getTransactionCount", json!([from, "pending"])).await?, "nonce")?;
        let call = json!({ "from": from, "to": to, "input": hex_data(&data) });
        let estimate = parse_u64(&self.request("eth_estimateGas", json!([call])).await?, "gas estimate")?;
        let gas_limit = estimate.saturating_add(estimate.saturating_mul(GAS_MARGIN_PERCENT) / 100);
        let gas_price = parse_u128(&self.request("eth_gasPrice", json!([])).await?, "gas price")?;
        let priority = match self.request("eth_maxPriorityFeePerGas", json!([])).await {
            Ok(value) => parse_u128(&value, "priority fee")?,
            // Nodes without the method: the legacy price already includes a tip.
            Err(RpcError::Rpc { .. }) => 0,
            Err(error) => return Err(error),
        };
        let max_fee_per_gas = gas_price.saturating_mul(2).saturating_add(priority);
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas,
            max_priority_fee_per_gas: priority.min(max_fee_per_gas),
            to: TxKind::Call(to),
            value: U256::ZERO,
            access_list: Default::default(),
            input: data.into(),
        };
        let signature = signer.sign_hash_sync(&tx.signature_hash()).map_err(|e| RpcError::Signing(e.to_string()))?;
        let envelope = TxEnvelope::from(tx.into_signed(signature));
        Ok(PreparedTx { hash: *envelope.tx_hash(), raw: envelope.encoded_2718(), nonce })
    }

    /// `eth_sendRawTransaction` of a prepared transaction; a node that already knows it counts
    /// as accepted.
    pub async fn send_raw(&self, prepared: &PreparedTx) -> Result<B256, RpcError> {
        match self.request("eth_sendRawTransaction", json!([hex_data(&prepared.raw)])).await {
            Ok(answer) => {
                let hash = parse_b256(&answer, "transaction hash")?;
                if hash != prepared.hash {
                    return Err(RpcError::Decode(format!("the node answered hash {hash}, expected {}", prepared.hash)));
                }
                Ok(hash)
            }
            Err(RpcError::Rpc { message, .. }) if message.to_ascii_lowercase().contains("already known") => {
                Ok(prepared.hash)
            }
            Err(error) => Err(error),
        }
    }
}
