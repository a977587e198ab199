//! Test support: a real local EVM chain for payment tests.
//!
//! [`TestChain::start`] runs anvil (see [`anvil_path`]) on `127.0.0.1` with an OS-assigned port
//! and chain id 8453, and places the project's USDC-shaped test token
//! (`testchain/build/TestUSDC.json`, compiled into this crate) at the real Base USDC address
//! with `anvil_setCode`, so the production EIP-712 domain works unchanged. The process is killed
//! when the [`TestChain`] is dropped. Every helper panics with a clear message on failure: this
//! crate is for tests only.
//!
//! ```no_run
//! # async fn demo() {
//! use otonix_testchain::TestChain;
//! let chain = TestChain::start().await;
//! let (payer, payer_key) = chain.account(1);
//! let (pay_to, _) = chain.account(2);
//! chain.mint(payer, alloy_primitives::U256::from(5_000_000)).await;
//! let tx_hash = chain.transfer(&payer_key, pay_to, alloy_primitives::U256::from(10_000)).await;
//! # }
//! ```

mod accounts;
mod process;

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use evm_rpc::RpcClient;
use serde_json::{Value, json};
use x402::TokenDomain;

pub use accounts::{DEV_KEYS, dev_account};
pub use process::{ANVIL_ENV, anvil_path};

use process::AnvilProcess;

/// The committed compiler output of the test token.
const TEST_USDC_JSON: &str = include_str!("../../../testchain/build/TestUSDC.json");
/// Selector of the test token's open `mint(address,uint256)`.
const MINT_SELECTOR: [u8; 4] = [0x40, 0xc1, 0x0f, 0x19];
/// How long the helpers wait for a transaction to be mined.
const MINE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running anvil with the test token at the Base USDC address.
#[derive(Debug)]
pub struct TestChain {
    process: AnvilProcess,
    client: RpcClient,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The chain id (8453 unless started with another).
    pub chain_id: u64,
}

impl TestChain {
    /// Starts a chain with chain id 8453 (Base mainnet).
    pub async fn start() -> TestChain {
        Self::start_with_chain_id(x402::constants::BASE_CHAIN_ID).await
    }

    /// Starts a chain with `chain_id`. Blocks are mined on every transaction (automine).
    pub async fn start_with_chain_id(chain_id: u64) -> TestChain {
        let (mut process, addr) = AnvilProcess::spawn(&["--chain-id".to_owned(), chain_id.to_string()]).await;
        let url = format!("http://{addr}");
        let client = RpcClient::new(&url, Duration::from_secs(10)).expect("a loopback URL is valid");
        let mut ready = false;
        for _ in 0..500 {
            if client.chain_id().await.is_ok_and(|id| id == chain_id) {
                ready = true;
                break;
            }
            assert!(process.is_running(), "anvil exited while starting; stderr: {}", process.stderr_text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ready, "anvil at {url} did not answer eth_chainId {chain_id}; stderr: {}", process.stderr_text());
        let chain = TestChain { process, client, url, chain_id };
        chain.rpc("anvil_setCode", json!([chain.usdc(), test_usdc_runtime_code()])).await;
        chain
    }

    /// The test token's address: the real Base USDC address.
    pub fn usdc(&self) -> Address {
        x402::constants::BASE_USDC
    }

    /// The test token's EIP-712 domain ("USD Coin", "2", this chain id, [`Self::usdc`]).
    pub fn token_domain(&self) -> TokenDomain {
        TokenDomain { chain_id: self.chain_id, ..TokenDomain::base_usdc() }
    }

    /// A JSON-RPC client of this chain.
    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// Dev account `index` (0 to 9, funded with ETH) as address and signer.
    pub fn account(&self, index: usize) -> (Address, PrivateKeySigner) {
        dev_account(index)
    }

    /// Mints `amount` test USDC to `to` (the token's open `mint`, sent from account 0) and
    /// waits until it is mined.
    pub async fn mint(&self, to: Address, amount: U256) {
        let mut data = MINT_SELECTOR.to_vec();
        data.extend_from_slice(to.into_word().as_slice());
        data.extend_from_slice(&amount.to_be_bytes::<32>());
        let (_, minter) = self.account(0);
        self.send_and_mine(&minter, data, "mint").await;
    }

    /// The test USDC balance of `who`.
    pub async fn balance(&self, who: Address) -> U256 {
        let output = self.client.call(None, self.usdc(), x402::calldata::balance_of(who)).await;
        let output = output.unwrap_or_else(|e| panic!("balanceOf({who}) failed: {e}"));
        x402::calldata::decode_balance_of(&output).unwrap_or_else(|e| panic!("balanceOf({who}): {e}"))
    }

    /// A plain USDC `transfer(to, amount)` from `from`, mined; returns the transaction hash.
    pub async fn transfer(&self, from: &PrivateKeySigner, to: Address, amount: U256) -> B256 {
        self.send_and_mine(from, x402::calldata::transfer(to, amount), "transfer").await
    }

    /// Mines `blocks` blocks (`anvil_mine`).
    pub async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", json!([format!("{blocks:#x}")])).await;
    }

    /// Sets the timestamp of the next block (`evm_setNextBlockTimestamp`).
    pub async fn set_next_block_timestamp(&self, ts: u64) {
        self.rpc("evm_setNextBlockTimestamp", json!([ts])).await;
    }

    /// The latest block's timestamp.
    pub async fn now(&self) -> u64 {
        self.client.latest_timestamp().await.unwrap_or_else(|e| panic!("latest block timestamp: {e}"))
    }

    /// Calls any JSON-RPC method (e.g. `evm_setAutomine`, `[false]`) and returns its result.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        self.client.request(method, params).await.unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    async fn send_and_mine(&self, from: &PrivateKeySigner, data: Vec<u8>, what: &str) -> B256 {
        let hash = self.client.send_call(from, self.usdc(), data).await;
        let hash = hash.unwrap_or_else(|e| panic!("{what} from {} failed: {e}", from.address()));
        let receipt = self.client.wait_for_receipt(hash, 1, MINE_TIMEOUT).await;
        let receipt = receipt.unwrap_or_else(|e| panic!("{what} {hash}: {e}"));
        let receipt = receipt.unwrap_or_else(|| panic!("{what} {hash} was not mined (is automine off?)"));
        assert!(receipt.success, "{what} {hash} reverted");
        hash
    }

    /// Whether anvil is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }
}

/// The test token's runtime bytecode (`deployedBytecode`), as `0x` hex.
pub fn test_usdc_runtime_code() -> String {
    let json: Value = serde_json::from_str(TEST_USDC_JSON).expect("TestUSDC.json is JSON");
    let code = json["deployedBytecode"].as_str().expect("TestUSDC.json has deployedBytecode");
    if code.starts_with("0x") { code.to_owned() } else { format!("0x{code}") }
}
