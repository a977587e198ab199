//! A typed HTTP client of the Otonix API ([`Client`]) and an x402 payer ([`Payer`]) that answers
//! `402 Payment Required` automatically with a local key.
//!
//! ```no_run
//! # async fn demo(key: otonix_client::PrivateKeySigner) -> Result<(), otonix_client::PayError> {
//! use otonix_client::{Client, Method, Payer, ProofKind};
//! let client = Client::new("http://127.0.0.1:8080").with_api_key("otx_…");
//! let payer = Payer::new(key, None);
//! let body = serde_json::json!({ "amount": 5 });
//! let paid = payer.pay(&client, Method::POST, "/api/agents/42/credits", Some(body), ProofKind::Eip3009).await?;
//! println!("{} {:?}", paid.status, paid.receipt);
//! # Ok(()) }
//! ```
//!
//! Two ways to pay (SPEC §5.4): [`ProofKind::Eip3009`] signs the offered x402 `exact`
//! requirements and sends `PAYMENT-SIGNATURE` (v2; `X-PAYMENT` for a v1 offer);
//! [`ProofKind::TxHash`] sends a USDC `transfer` through an [`evm_rpc::RpcClient`], waits for it
//! to be mined, and sends `X-Payment: base64({orderId, txHash, payer, signature})` with the
//! payer's EIP-191 signature over the order.

mod challenge;
mod client;
mod payer;
mod response;

pub use alloy_signer_local::PrivateKeySigner;
pub use challenge::{Challenge, TransferTerms};
pub use client::{ApiResponse, Client, ClientError, DEFAULT_TIMEOUT};
pub use evm_rpc;
pub use payer::{PayError, PayOptions, Payer, ProofKind};
pub use reqwest::Method;
pub use response::{PaidResponse, SentPayment};
