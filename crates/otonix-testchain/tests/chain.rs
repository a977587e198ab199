//! The test chain itself: parallel starts, the token at the Base USDC address with the mainnet
//! domain, mint, balance and transfer, block control.

use alloy_primitives::{U256, b256};
use otonix_testchain::TestChain;
use serde_json::json;

#[tokio::test]
async fn two_chains_start_in_parallel_on_distinct_ports() {
    let (a, b) = tokio::join!(TestChain::start(), TestChain::start());
    assert_ne!(a.url, b.url);
    assert!(a.url.starts_with("http://127.0.0.1:"), "{}", a.url);
    assert_eq!(a.chain_id, 8453);
    assert_eq!(a.client().chain_id().await.expect("chain id"), 8453);
    assert_eq!(b.client().chain_id().await.expect("chain id"), 8453);
    // Independent state: a mint on one is not seen on the other.
    let (payer, _) = a.account(1);
    a.mint(payer, U256::from(7)).await;
    assert_eq!(a.balance(payer).await, U256::from(7));
    assert_eq!(b.balance(payer).await, U256::ZERO);
}

#[tokio::test]
async fn token_sits_at_base_usdc_with_the_mainnet_domain() {
    let chain = TestChain::start().await;
    assert_eq!(chain.usdc(), x402::constants::BASE_USDC);
    let output = chain.client().call(None, chain.usdc(), x402::calldata::domain_separator()).await.expect("call");
    let separator = x402::calldata::decode_domain_separator(&output).expect("bytes32");
    assert_eq!(separator, b256!("02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f"));
    assert_eq!(separator, chain.token_domain().separator());
}

#[tokio::test]
async fn mint_balance_transfer() {
    let chain = TestChain::start().await;
    let (payer, payer_key) = chain.account(1);
    let (pay_to, _) = chain.account(2);
    chain.mint(payer, U256::from(5_000_000)).await;
    assert_eq!(chain.balance(payer).await, U256::from(5_000_000));
    let hash = chain.transfer(&payer_key, pay_to, U256::from(10_000)).await;
    assert_eq!(chain.balance(payer).await, U256::from(4_990_000));
    assert_eq!(chain.balance(pay_to).await, U256::from(10_000));
    let receipt = chain.client().transaction_receipt(hash).await.expect("receipt").expect("mined");
    assert!(receipt.success);
    let paid = x402::receipt::sum_transfers(&receipt.logs, chain.usdc(), payer, pay_to);
    assert_eq!(paid, U256::from(10_000));
}

#[tokio::test]
async fn mining_time_and_raw_rpc() {
    let mut chain = TestChain::start_with_chain_id(31337).await;
    assert!(chain.is_running());
    assert_eq!(chain.token_domain().chain_id, 31337);
    let head = chain.client().block_number().await.expect("head");
    chain.mine(3).await;
    assert_eq!(chain.client().block_number().await.expect("head"), head + 3);
    let later = chain.now().await + 1000;
    chain.set_next_block_timestamp(later).await;
    chain.mine(1).await;
    assert_eq!(chain.now().await, later);
    chain.rpc("evm_setAutomine", json!([false])).await;
    assert_eq!(chain.rpc("anvil_getAutomine", json!([])).await, json!(false));
}
