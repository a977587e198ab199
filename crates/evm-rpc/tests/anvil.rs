//! The client against a real anvil (otonix-testchain): signed sends of the test token's
//! `transfer`, receipts with `Transfer` logs, `balanceOf` calls, revert reasons, confirmations,
//! pending transactions, `eth_getLogs` and concurrent sends.

use std::time::Duration;

use alloy_primitives::U256;
use evm_rpc::RpcError;
use otonix_testchain::TestChain;
use serde_json::json;
use x402::calldata;
use x402::receipt::{decode_transfer, sum_transfers};

#[tokio::test]
async fn send_transfer_and_read_the_receipt() {
    let chain = TestChain::start().await;
    let rpc = chain.client();
    let (payer, payer_key) = chain.account(1);
    let (pay_to, _) = chain.account(2);
    chain.mint(payer, U256::from(5_000_000)).await;
    let before = chain.now().await;

    let hash = rpc.send_call(&payer_key, chain.usdc(), calldata::transfer(pay_to, U256::from(10_000))).await;
    let hash = hash.expect("sent");
    let receipt = rpc.wait_for_receipt(hash, 1, Duration::from_secs(10)).await.expect("answer").expect("mined");
    assert!(receipt.success);
    assert!(receipt.block_timestamp >= before);
    assert_eq!(receipt.block_number, rpc.block_number().await.expect("head"));
    let transfer = decode_transfer(&receipt.logs[0]).expect("a Transfer log");
    assert_eq!((transfer.token, transfer.from, transfer.to), (chain.usdc(), payer, pay_to));
    assert_eq!(sum_transfers(&receipt.logs, chain.usdc(), payer, pay_to), U256::from(10_000));

    let output = rpc.call(None, chain.usdc(), calldata::balance_of(pay_to)).await.expect("balanceOf");
    assert_eq!(calldata::decode_balance_of(&output), Ok(U256::from(10_000)));
    let timestamp = rpc.block_timestamp(receipt.block_number).await.expect("timestamp");
    assert_eq!(timestamp, receipt.block_timestamp);
}

#[tokio::test]
async fn reverts_carry_their_reason() {
    let chain = TestChain::start().await;
    let rpc = chain.client();
    let (payer, payer_key) = chain.account(3);
    let (pay_to, _) = chain.account(2);
    let data = calldata::transfer(pay_to, U256::from(1));
    let reason = Some(calldata::REVERT_INSUFFICIENT_BALANCE.to_owned());
    assert_eq!(
        rpc.call(Some(payer), chain.usdc(), data.clone()).await,
        Err(RpcError::Reverted { reason: reason.clone() })
    );
    let head = rpc.block_number().await.expect("head");
    assert_eq!(rpc.send_call(&payer_key, chain.usdc(), data).await, Err(RpcError::Reverted { reason }));
    assert_eq!(rpc.block_number().await.expect("head"), head, "nothing was sent");
}

#[tokio::test]
async fn confirmations_and_pending_transactions() {
    let chain = TestChain::start().await;
    let rpc = chain.client();
    let (payer, payer_key) = chain.account(1);
    let (pay_to, _) = chain.account(2);
    chain.mint(payer, U256::from(1_000)).await;
    chain.rpc("evm_setAutomine", json!([false])).await;
    let hash = rpc.send_call(&payer_key, chain.usdc(), calldata::transfer(pay_to, U256::from(1))).await.expect("sent");
    assert_eq!(rpc.transaction_receipt(hash).await, Ok(None), "pending");
    assert_eq!(rpc.wait_for_receipt(hash, 1, Duration::from_millis(300)).await, Ok(None));
    chain.mine(1).await;
    assert!(rpc.transaction_receipt(hash).await.expect("answer").is_some());
    assert_eq!(rpc.wait_for_receipt(hash, 3, Duration::from_millis(300)).await, Ok(None), "1 of 3 confirmations");
    assert!(rpc.wait_for_receipt(hash, 1, Duration::ZERO).await.expect("answer").is_some(), "one poll without waiting");
    assert_eq!(rpc.wait_for_receipt(hash, 3, Duration::ZERO).await, Ok(None));
    chain.mine(2).await;
    let receipt = rpc.wait_for_receipt(hash, 3, Duration::from_secs(5)).await.expect("answer").expect("confirmed");
    assert!(receipt.success);
}

#[tokio::test]
async fn concurrent_sends_of_one_client_do_not_share_a_nonce() {
    let chain = TestChain::start().await;
    let (payer, payer_key) = chain.account(4);
    let (pay_to, _) = chain.account(5);
    chain.mint(payer, U256::from(1_000)).await;
    let rpc = chain.client().clone();
    let sends = (0..5u64).map(|i| {
        let (rpc, key, usdc) = (rpc.clone(), payer_key.clone(), chain.usdc());
        tokio::spawn(async move { rpc.send_call(&key, usdc, calldata::transfer(pay_to, U256::from(i + 1))).await })
    });
    let mut hashes = Vec::new();
    for send in sends {
        hashes.push(send.await.expect("joined").expect("sent"));
    }
    for hash in &hashes {
        let receipt = rpc.wait_for_receipt(*hash, 1, Duration::from_secs(10)).await.expect("answer").expect("mined");
        assert!(receipt.success);
    }
    assert_eq!(chain.balance(pay_to).await, U256::from(15));

    let topics = vec![Some(x402::constants::TRANSFER_TOPIC), Some(payer.into_word()), Some(pay_to.into_word())];
    let logs = rpc.logs(chain.usdc(), topics, 0, None).await.expect("logs");
    assert_eq!(logs.len(), 5);
    let mut found: Vec<_> = logs.iter().map(|(hash, _)| *hash).collect();
    found.sort();
    hashes.sort();
    assert_eq!(found, hashes);
}
