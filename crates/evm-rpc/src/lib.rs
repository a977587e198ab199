//! A small async Ethereum JSON-RPC client over HTTP(S), for what Otonix's payments need: the
//! chain id and head, block timestamps, `eth_call` with decoded revert reasons, transaction
//! receipts (shaped as [`x402::receipt::TxReceipt`]) and waiting for confirmations, `eth_getLogs`,
//! and contract calls sent from a local key as signed EIP-1559 transactions.
//!
//! ```no_run
//! # async fn demo(signer: alloy_signer_local::PrivateKeySigner) -> Result<(), evm_rpc::RpcError> {
//! use std::time::Duration;
//! let rpc = evm_rpc::RpcClient::new("http://127.0.0.1:8545", Duration::from_secs(10))?;
//! let usdc = x402::constants::BASE_USDC;
//! let data = x402::calldata::transfer(alloy_primitives::Address::ZERO, alloy_primitives::U256::from(10_000));
//! let hash = rpc.send_call(&signer, usdc, data).await?;
//! let receipt = rpc.wait_for_receipt(hash, 2, Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```
//!
//! The endpoint URL never appears in errors, `Debug` output or logs ([`RpcClient::endpoint`]
//! shows a safe form).

mod client;
mod error;
mod quantity;
mod read;
mod send;

pub use alloy_primitives::{Address, B256, U256};
pub use alloy_signer_local::PrivateKeySigner;
pub use client::RpcClient;
pub use error::RpcError;
pub use send::{PreparedTx, SendPermit};
pub use x402::receipt::{ReceiptLog, TxReceipt};
