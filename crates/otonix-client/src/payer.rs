//! [`Payer`]: answers a 402 automatically with a local key, either with a signed EIP-3009
//! authorization (x402 `exact`) or by paying on chain and presenting the transaction as proof,
//! then retries the identical request.
//!
//! Money is never paid twice: once a payment exists, only that payment is ever presented again
//! (after `payment_pending`, or after a transient failure), and an unfinished payment is handed
//! back to the caller in [`PayError::Unfinished`] so it can be presented later.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use evm_rpc::{RpcClient, RpcError};
use reqwest::Method;
use x402::constants::{HEADER_PAYMENT_SIGNATURE, HEADER_X_PAYMENT};
use x402::signer::{SignError, pay_v1, pay_v2, signed_transfer_proof};
use x402::wire::PaymentRequirements;

use crate::challenge::Challenge;
use crate::client::{Client, ClientError};
use crate::response::{PaidResponse, SentPayment};

/// How a 402 is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKind {
    /// Sign an EIP-3009 `TransferWithAuthorization` (x402 `exact`); the server settles it.
    Eip3009,
    /// Send a USDC `transfer` on chain, then present `{orderId, txHash, payer, signature}`.
    TxHash,
}

/// Limits of a [`Payer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayOptions {
    /// How many times a `402 payment_pending` answer is retried with the same payment.
    pub max_pending_retries: u32,
    /// Wait after `payment_pending` when the answer has no `Retry-After`.
    pub default_retry_after: Duration,
    /// Upper bound of a `Retry-After` wait.
    pub max_retry_after: Duration,
    /// How many times a transport failure is retried with the same payment.
    pub transient_retries: u32,
    /// Confirmations of the transfer before the proof is presented (tx-hash flow).
    pub confirmations: u64,
    /// How long to wait for the transfer to be mined (tx-hash flow).
    pub receipt_timeout: Duration,
}

impl Default for PayOptions {
    fn default() -> Self {
        Self {
            max_pending_retries: 30,
            default_retry_after: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(30),
            transient_retries: 3,
            confirmations: 1,
            receipt_timeout: Duration::from_secs(180),
        }
    }
}

/// Why a paid request did not complete.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// The request failed before anything was paid.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The 402 cannot be paid (no usable requirements, no order id, …); nothing was paid.
    #[error("unusable payment challenge: {0}")]
    Challenge(String),
    /// The payment could not be signed; nothing was paid.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// `ProofKind::TxHash` needs an RPC client.
    #[error("paying with a transaction hash needs an RPC URL")]
    NoRpc,
    /// The chain could not be used before the transfer was sent; nothing was paid.
    #[error("chain RPC: {0}")]
    Rpc(RpcError),
    /// The RPC endpoint is on another chain than the 402 asks for; nothing was paid.
    #[error("the RPC endpoint is on chain {actual}, the payment is asked on chain {expected}")]
    WrongChain {
        /// The 402's chain.
        expected: u64,
        /// The endpoint's chain.
        actual: u64,
    },
    /// The transfer was mined but reverted (only gas was spent).
    #[error("the transfer {tx_hash} reverted")]
    TransferReverted {
        /// The transaction.
        tx_hash: B256,
    },
    /// A payment was made (or may have been) but the request did not complete: present
    /// `payment` again later; never pay again.
    #[error("payment made but the request did not complete ({reason}); retry with the same payment")]
    Unfinished {
        /// The payment to present again.
        payment: SentPayment,
        /// What went wrong.
        reason: String,
    },
}

impl From<RpcError> for PayError {
    fn from(error: RpcError) -> Self {
        Self::Rpc(error)
    }
}

/// Pays 402 challenges with a local key.
#[derive(Clone)]
pub struct Payer {
    signer: PrivateKeySigner,
    rpc: Option<RpcClient>,
    options: PayOptions,
}

impl std::fmt::Debug for Payer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payer").field("address", &self.signer.address()).field("rpc", &self.rpc).finish()
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Payer {
    /// A payer with `signer`'s key; `rpc` is needed for [`ProofKind::TxHash`] only.
    pub fn new(signer: PrivateKeySigner, rpc: Option<RpcClient>) -> Self {
        Self { signer, rpc, options: PayOptions::default() }
    }

    /// Replaces the limits.
    pub fn with_options(mut self, options: PayOptions) -> Self {
        self.options = options;
        self
    }

    /// The paying address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Sends `method path` with `body`; a 402 is paid with `proof` and the identical request
    /// (same method, path and body bytes) is sent again with the payment. Any other first answer
    /// is returned as is.
    pub async fn pay(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        proof: ProofKind,
    ) -> Result<PaidResponse, PayError> {
        let body = body.map(|b| serde_json::to_vec(&b)).transpose();
        let body = body.map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let first = client.send(method.clone(), path, body.as_deref(), &[]).await?;
        if first.status != 402 {
            return Ok(PaidResponse::new(first, None));
        }
        let challenge = Challenge::from_response(&first).map_err(PayError::Challenge)?;
        let payment = match proof {
            ProofKind::Eip3009 => self.authorize(&challenge)?,
            ProofKind::TxHash => self.transfer(&challenge).await?,
        };
        self.present(client, method, path, body.as_deref(), payment).await
    }

    /// Sends the request again with `payment` (and only ever that payment) until it is not
    /// pending, within the limits. `body` must be the bytes of the first request
    /// (`serde_json::to_vec` of the same value): use it to finish a [`PayError::Unfinished`]
    /// payment or one still pending.
    pub async fn present(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        payment: SentPayment,
    ) -> Result<PaidResponse, PayError> {
        let (mut pending, mut transient) = (0, 0);
        loop {
            let headers = [(payment.header.as_str(), payment.value.as_str())];
            match client.send(method.clone(), path, body, &headers).await {
                Err(error) if error.is_transient() && transient < self.options.transient_retries => {
                    transient += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => return Err(PayError::Unfinished { payment, reason: error.to_string() }),
                Ok(response)
                    if response.status == 402
                        && response.error_code() == Some("payment_pending")
                        && pending < self.options.max_pending_retries =>
                {
                    pending += 1;
                    let wait = response.header("retry-after").and_then(|s| s.trim().parse().ok());
                    let wait = wait.map_or(self.options.default_retry_after, Duration::from_secs);
                    tokio::time::sleep(wait.min(self.options.max_retry_after)).await;
                }
                Ok(response) => return Ok(PaidResponse::new(response, Some(payment))),
            }
        }
    }

    /// An EIP-3009 authorization answering the first `exact` requirements.
    fn authorize(&self, challenge: &Challenge) -> Result<SentPayment, PayError> {
        let requirements = challenge.exact().ok_or_else(|| PayError::Challenge("no `exact` requirements".into()))?;
        let (header, value) = match requirements {
            PaymentRequirements::V2(accepted) => {
                let mut payload = pay_v2(&self.signer, accepted, challenge.resource.clone(), unix_now())?;
                payload.extensions = challenge.extensions.clone();
                (HEADER_PAYMENT_SIGNATURE, x402::encode_header(&payload))
            }
            PaymentRequirements::V1(requirements) => {
                (HEADER_X_PAYMENT, x402::encode_header(&pay_v1(&self.signer, requirements, unix_now())?))
            }
        };
        Ok(SentPayment { kind: ProofKind::Eip3009, header: header.to_owned(), value, tx_hash: None })
    }

    /// Pays on chain with a plain `transfer` and builds the signed transfer proof.
    async fn transfer(&self, challenge: &Challenge) -> Result<SentPayment, PayError> {
        let rpc = self.rpc.as_ref().ok_or(PayError::NoRpc)?;
        let terms = challenge.transfer_terms().map_err(PayError::Challenge)?;
        let actual = rpc.chain_id().await?;
        if actual != terms.chain_id {
            return Err(PayError::WrongChain { expected: terms.chain_id, actual });
        }
        let data = x402::calldata::transfer(terms.pay_to, terms.amount);
        let permit = rpc.lock_sends().await;
        // A revert here (e.g. insufficient balance) happens while estimating: nothing is sent.
        let tx = rpc.prepare_call(&self.signer, terms.asset, data).await?;
        let proof = signed_transfer_proof(&self.signer, &terms.order_id, tx.hash)?;
        let value = x402::encode_header(&proof.to_wire());
        let payment =
            SentPayment { kind: ProofKind::TxHash, header: "X-Payment".to_owned(), value, tx_hash: Some(tx.hash) };
        let sent = rpc.send_raw(&tx).await;
        drop(permit);
        match sent {
            Ok(_) => {}
            // The node may have it: the receipt decides.
            Err(error) if error.is_transient() => {}
            // Refused by the node: nothing was paid.
            Err(error) => return Err(PayError::Rpc(error)),
        }
        let timeout = self.options.receipt_timeout;
        match rpc.wait_for_receipt(tx.hash, self.options.confirmations, timeout).await {
            Ok(Some(receipt)) if receipt.success => Ok(payment),
            Ok(Some(_)) => Err(PayError::TransferReverted { tx_hash: tx.hash }),
            Ok(None) => {
                Err(PayError::Unfinished { payment, reason: format!("the transfer was not mined within {timeout:?}") })
            }
            Err(error) => Err(PayError::Unfinished { payment, reason: error.to_string() }),
        }
    }
}
