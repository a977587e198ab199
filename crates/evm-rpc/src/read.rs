//! Reads: chain id, head, block timestamps, `eth_call`, receipts (and waiting for them) and
//! `eth_getLogs`.

use std::time::Duration;

use alloy_primitives::{Address, B256};
use serde_json::{Value, json};
use x402::receipt::{ReceiptLog, TxReceipt};

use crate::client::RpcClient;
use crate::error::RpcError;
use crate::quantity::{data as hex_data, field, is_removed, parse_b256, parse_bytes, parse_log, parse_u64, quantity};

/// First pause between two polls of [`RpcClient::wait_for_receipt`]; it doubles up to
/// [`MAX_POLL_INTERVAL`].
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Longest pause between two polls.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(2);

impl RpcClient {
    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, RpcError> {
        parse_u64(&self.request("eth_chainId", json!([])).await?, "chain id")
    }

    /// `eth_blockNumber`: the head.
    pub async fn block_number(&self) -> Result<u64, RpcError> {
        parse_u64(&self.request("eth_blockNumber", json!([])).await?, "block number")
    }

    /// The timestamp (unix seconds) of block `number`; a block the node does not have is
    /// [`RpcError::Decode`].
    pub async fn block_timestamp(&self, number: u64) -> Result<u64, RpcError> {
        let block = self.request("eth_getBlockByNumber", json!([quantity(number), false])).await?;
        if block.is_null() {
            return Err(RpcError::Decode(format!("block {number} is unknown to the node")));
        }
        parse_u64(field(&block, "timestamp"), "block timestamp")
    }

    /// The timestamp of the latest block.
    pub async fn latest_timestamp(&self) -> Result<u64, RpcError> {
        let block = self.request("eth_getBlockByNumber", json!(["latest", false])).await?;
        parse_u64(field(&block, "timestamp"), "block timestamp")
    }

    /// The receipt of `hash` with its block's timestamp (one extra call); `None` while the
    /// transaction is unknown or pending, or when its block was just reorganized away.
    pub async fn transaction_receipt(&self, hash: B256) -> Result<Option<TxReceipt>, RpcError> {
        let receipt = self.request("eth_getTransactionReceipt", json!([hash])).await?;
        let number = field(&receipt, "blockNumber");
        if receipt.is_null() || number.is_null() {
            return Ok(None);
        }
        let block_number = parse_u64(number, "receipt.blockNumber")?;
        let success = match field(&receipt, "status") {
            Value::Null => return Err(RpcError::Decode("receipt without status (pre-Byzantium)".into())),
            status => parse_u64(status, "receipt.status")? == 1,
        };
        let logs = field(&receipt, "logs")
            .as_array()
            .ok_or_else(|| RpcError::Decode("receipt.logs is not an array".into()))?
            .iter()
            .filter(|log| !is_removed(log))
            .map(parse_log)
            .collect::<Result<Vec<_>, _>>()?;
        // The block by hash, so the timestamp is the receipt's block even across a reorg.
        let block = match field(&receipt, "blockHash") {
            Value::Null => self.request("eth_getBlockByNumber", json!([quantity(block_number), false])).await?,
            block_hash => self.request("eth_getBlockByHash", json!([block_hash, false])).await?,
        };
        if block.is_null() {
            return Ok(None);
        }
        let block_timestamp = parse_u64(field(&block, "timestamp"), "block timestamp")?;
        Ok(Some(TxReceipt { success, block_number, block_timestamp, logs }))
    }

    /// Whether the node knows the transaction `hash` (pending or mined): `eth_getTransactionByHash`.
    pub async fn transaction_known(&self, hash: B256) -> Result<bool, RpcError> {
        Ok(!self.request("eth_getTransactionByHash", json!([hash])).await?.is_null())
    }

    /// `eth_call` of `data` on `to` (from `from` when given) at the latest block; a revert is
    /// [`RpcError::Reverted`] with the decoded `Error(string)` reason when present.
    pub async fn call(&self, from: Option<Address>, to: Address, data: Vec<u8>) -> Result<Vec<u8>, RpcError> {
        let mut call = json!({ "to": to, "input": hex_data(&data) });
        if let Some(from) = from {
            call["from"] = json!(from);
        }
        parse_bytes(&self.request("eth_call", json!([call, "latest"])).await?, "eth_call result")
    }

    /// Polls until the receipt of `hash` has `confirmations` confirmations (head − block + 1;
    /// 0 is taken as 1) or `timeout` elapses, then `Ok(None)`: the outcome is unknown. It always
    /// polls once, even with a zero `timeout`. Transient errors while polling are retried; others
    /// are returned.
    pub async fn wait_for_receipt(
        &self,
        hash: B256,
        confirmations: u64,
        timeout: Duration,
    ) -> Result<Option<TxReceipt>, RpcError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = FIRST_POLL_INTERVAL;
        let mut first = true;
        loop {
            let poll = async {
                let Some(receipt) = self.transaction_receipt(hash).await? else {
                    return Ok(None);
                };
                let head = self.block_number().await?;
                let have = head.saturating_add(1).saturating_sub(receipt.block_number);
                Ok::<_, RpcError>((have >= confirmations.max(1)).then_some(receipt))
            };
            // The first poll is bounded by the client's own request timeout, later ones by the
            // deadline too.
            let answer =
                if std::mem::take(&mut first) { Ok(poll.await) } else { tokio::time::timeout_at(deadline, poll).await };
            match answer {
                Err(_elapsed) => return Ok(None),
                Ok(Ok(Some(receipt))) => return Ok(Some(receipt)),
                Ok(Ok(None)) => {}
                Ok(Err(error)) if error.is_transient() => {}
                Ok(Err(error)) => return Err(error),
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(MAX_POLL_INTERVAL);
        }
    }

    /// `eth_getLogs` of `address` with `topics` filters (`None` matches anything) over
    /// `from_block..=to_block` (`None`: the latest block), as `(transaction hash, log)`; logs
    /// removed by a reorganization are left out.
    pub async fn logs(
        &self,
        address: Address,
        topics: Vec<Option<B256>>,
        from_block: u64,
        to_block: Option<u64>,
    ) -> Result<Vec<(B256, ReceiptLog)>, RpcError> {
        let to_block = to_block.map_or_else(|| "latest".to_owned(), quantity);
        let filter =
            json!({ "address": address, "topics": topics, "fromBlock": quantity(from_block), "toBlock": to_block });
        let logs = self.request("eth_getLogs", json!([filter])).await?;
        logs.as_array()
            .ok_or_else(|| RpcError::Decode("eth_getLogs result is not an array".into()))?
            .iter()
            .filter(|log| !is_removed(log))
            .map(|log| Ok((parse_b256(field(log, "transactionHash"), "log.transactionHash")?, parse_log(log)?)))
            .collect()
    }
}
