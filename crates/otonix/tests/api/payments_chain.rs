//! x402 payments in `chain` mode against a real local EVM node (anvil, with the project's test
//! token at the Base USDC address): EIP-3009 authorizations settled by the relayer, transfer
//! proofs read from receipts, and every rejection the SPEC lists for them.

use alloy_primitives::U256;
use reqwest::StatusCode;
use serde_json::json;
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::signer::PrivateKeySigner;

use crate::helpers::As;
use crate::market::{Market, USDC};
use crate::pay::{challenge, credits_path, decode, pay_header, send, top_up};

fn usdc(amount: u64) -> U256 {
    U256::from(amount)
}

#[tokio::test]
async fn an_eip3009_top_up_is_settled_on_chain_by_the_relayer() {
    let m = Market::open(1).await;
    let before = m.chain.balance(m.payer.address()).await;
    let c = m.challenge(12.5).await;
    let header = pay_header(&m.payer, &c, m.now());
    let (status, paid, headers) = m.pay(12.5, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(12_500_000));
    assert_eq!(before - m.chain.balance(m.payer.address()).await, usdc(12_500_000));
    let tx_hash: alloy_primitives::B256 = paid["receipt"]["txHash"].as_str().unwrap().parse().unwrap();
    let receipt = m.chain.client().transaction_receipt(tx_hash).await.unwrap().expect("a mined settlement");
    assert!(receipt.success);
    assert_eq!(receipt.logs.len(), 2, "AuthorizationUsed then Transfer");
    assert_eq!(paid["receipt"]["scheme"], "exact");
    assert_eq!(decode(&headers, "payment-response")["transaction"], paid["receipt"]["txHash"]);
    assert_eq!(m.credits().await, 12.5);
    let (_, config) = m.app.get("/api/x402/config", As::Anonymous).await;
    assert_eq!((config["mode"].as_str(), config["proofs"].clone()), (Some("chain"), json!(["eip3009", "txHash"])));

    // Replaying the same request and payment charges nothing more.
    let (status, _, headers) = m.pay(12.5, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(
        (status, headers.get("idempotent-replay").map(|v| v.to_str().unwrap())),
        (StatusCode::CREATED, Some("true"))
    );
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(12_500_000));
}

#[tokio::test]
async fn an_authorization_without_funds_is_refused_and_can_be_retried_once_funded() {
    let m = Market::open(1).await;
    let broke = PrivateKeySigner::random();
    let c = m.challenge(5.0).await;
    let header = pay_header(&broke, &c, m.now());
    let (status, response, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid")),
        "{response}"
    );
    assert!(response["message"].as_str().unwrap().contains("exceeds balance"), "{response}");
    assert_eq!(m.credits().await, 0.0);
    // The claim was released and the order stays open: once funded, the same payment settles.
    m.chain.mint(broke.address(), usdc(5 * USDC)).await;
    let (status, paid, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(5 * USDC));
}

#[tokio::test]
async fn twenty_simultaneous_requests_with_one_authorization_move_money_once() {
    let m = Market::open(1).await;
    let c = m.challenge(3.0).await;
    let header = pay_header(&m.payer, &c, m.now());
    let attempts = (0..20).map(|_| m.pay(3.0, (HEADER_PAYMENT_SIGNATURE, &header)));
    let answers = futures::future::join_all(attempts).await;
    let delivered =
        answers.iter().filter(|(s, _, h)| *s == StatusCode::CREATED && !h.contains_key("idempotent-replay")).count();
    assert_eq!(delivered, 1);
    assert!(answers.iter().all(|(s, b, _)| *s == StatusCode::CREATED || b["error"] == "payment_pending"));
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(3 * USDC));
    assert_eq!(m.credits().await, 3.0);
}

#[tokio::test]
async fn a_transfer_proof_from_the_agents_wallet_pays_for_its_order() {
    let m = Market::open(1).await;
    let c = m.challenge(7.0).await;
    // Paying 99 % is within the tolerance.
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(6_930_000)).await;
    let (status, paid, _) = m.pay(7.0, ("X-Payment", &m.proof(&c.order_id, tx, m.payer.address(), None))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["receipt"]["scheme"], "txHash");
    assert_eq!(paid["receipt"]["txHash"], format!("{tx:#x}"));
    assert_eq!(m.credits().await, 7.0);

    // The same transaction cannot pay for another order.
    let again = m.challenge(7.0).await;
    let (status, response, _) = m.pay(7.0, ("X-Payment", &m.proof(&again.order_id, tx, m.payer.address(), None))).await;
    assert_eq!((status, response["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_already_used")));
}

async fn refused(m: &Market, header: &str, code: &str, reason: &str) {
    let (status, response, _) = m.pay(10.0, ("X-Payment", header)).await;
    assert_eq!((status, response["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some(code)), "{response}");
    if !reason.is_empty() {
        assert_eq!(response["details"]["reason"], reason, "{response}");
    }
    assert_eq!(m.credits().await, 0.0);
}

#[tokio::test]
async fn transfer_proofs_that_do_not_prove_payment_are_refused() {
    let m = Market::open(1).await;
    let c = m.challenge(10.0).await;
    // Below 99 %.
    let short = m.chain.transfer(&m.payer, m.pay_to, usdc(9_899_999)).await;
    refused(&m, &m.proof(&c.order_id, short, m.payer.address(), None), "payment_invalid", "underpaid").await;
    // To someone else.
    let elsewhere = m.chain.transfer(&m.payer, PrivateKeySigner::random().address(), usdc(10 * USDC)).await;
    refused(&m, &m.proof(&c.order_id, elsewhere, m.payer.address(), None), "payment_invalid", "no_matching_transfer")
        .await;
    // From a wallet that is not the requester's, unsigned; the same transfer signed is accepted below.
    let (stranger_address, stranger) = m.chain.account(3);
    m.chain.mint(stranger_address, usdc(100 * USDC)).await;
    let foreign = m.chain.transfer(&stranger, m.pay_to, usdc(10 * USDC)).await;
    refused(&m, &m.proof(&c.order_id, foreign, stranger_address, None), "payment_invalid", "payer_not_bound").await;
    // A reverted transaction (a transfer beyond the balance, mined anyway).
    let data = x402::calldata::transfer(m.pay_to, usdc(1_000_000 * USDC));
    let reverted = m
        .chain
        .rpc("eth_sendTransaction", json!([{ "from": m.payer.address(), "to": m.chain.usdc(), "input": format!("0x{}", hex::encode(data)), "gas": "0x30000" }]))
        .await;
    let reverted: alloy_primitives::B256 = reverted.as_str().unwrap().parse().unwrap();
    refused(&m, &m.proof(&c.order_id, reverted, m.payer.address(), None), "payment_invalid", "transaction_failed")
        .await;
    // An unknown transaction is "not mined yet": pending, and the order stays usable.
    let unknown = alloy_primitives::B256::repeat_byte(0x42);
    refused(&m, &m.proof(&c.order_id, unknown, m.payer.address(), None), "payment_pending", "").await;
    // Signed by its payer, the foreign transfer pays.
    let (status, paid, _) =
        m.pay(10.0, ("X-Payment", &m.proof(&c.order_id, foreign, stranger_address, Some(&stranger)))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["receipt"]["payer"], stranger_address.to_checksum(None));
}

#[tokio::test]
async fn a_transfer_mined_before_the_order_cannot_pay_for_it() {
    let m = Market::open(1).await;
    let early = m.chain.transfer(&m.payer, m.pay_to, usdc(10 * USDC)).await;
    // The order is quoted three minutes after that block.
    m.app.clock.advance_secs(180);
    let c = m.challenge(10.0).await;
    refused(&m, &m.proof(&c.order_id, early, m.payer.address(), None), "payment_invalid", "paid_before_order").await;
}

#[tokio::test]
async fn a_transfer_without_enough_confirmations_is_pending_until_it_has_them() {
    let m = Market::open(2).await;
    let c = m.challenge(10.0).await;
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(10 * USDC)).await;
    let header = m.proof(&c.order_id, tx, m.payer.address(), None);
    let (status, response, headers) = m.pay(10.0, ("X-Payment", &header)).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_pending")),
        "{response}"
    );
    assert!(headers.contains_key("retry-after"));
    m.chain.mine(1).await;
    let (status, paid, _) = m.pay(10.0, ("X-Payment", &header)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
}

#[tokio::test]
async fn one_transaction_presented_for_two_orders_at_once_pays_for_one() {
    let m = Market::open(1).await;
    let first = m.challenge(4.0).await;
    let second = challenge(&m.app, &m.key, &credits_path(&m.agent), &json!({ "amount": 4.0, "note": "second" })).await;
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(4 * USDC)).await;
    let one = m.proof(&first.order_id, tx, m.payer.address(), None);
    let two = m.proof(&second.order_id, tx, m.payer.address(), None);
    let path = credits_path(&m.agent);
    let (body_one, body_two) = (top_up(4.0), json!({ "amount": 4.0, "note": "second" }));
    let (a, b) = tokio::join!(
        send(&m.app, &m.key, &path, &body_one, Some(("X-Payment", &one))),
        send(&m.app, &m.key, &path, &body_two, Some(("X-Payment", &two))),
    );
    let statuses = [a.0, b.0];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?} {} {}", a.1, b.1);
    let loser = if a.0 == StatusCode::CREATED { &b.1 } else { &a.1 };
    assert_eq!(loser["error"], "payment_already_used");
    assert_eq!(m.credits().await, 4.0);
}

#[tokio::test]
async fn a_hash_booked_by_someone_else_does_not_stop_the_delivery_of_its_payment() {
    let m = Market::open(1).await;
    let c = m.challenge(6.0).await;
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(6 * USDC)).await;
    // Another key books a transaction under the hash first (hashes are unique in the books).
    let squatter = m.app.create_key("squatter").await;
    let manual = json!({ "type": "credit", "amount": 1, "txHash": format!("{tx:#x}") });
    assert_eq!(m.app.post("/api/transactions", As::Key(&squatter), manual).await.0, StatusCode::CREATED);
    let (status, paid, _) = m.pay(6.0, ("X-Payment", &m.proof(&c.order_id, tx, m.payer.address(), None))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 6.0);
    // A hash booked by hand is a record, not a claim: the payment is booked with its hash too.
    assert_eq!(paid["transaction"]["txHash"], format!("{tx:#x}"), "{paid}");
    assert_eq!(paid["transaction"]["metadata"]["settlementTx"], format!("{tx:#x}"));
    // And the hand-made booking did not claim it: a second order cannot be paid by it.
    let again = challenge(&m.app, &m.key, &credits_path(&m.agent), &json!({ "amount": 6.0, "n": 2 })).await;
    let proof = m.proof(&again.order_id, tx, m.payer.address(), None);
    let (status, response, _) =
        send(&m.app, &m.key, &credits_path(&m.agent), &json!({ "amount": 6.0, "n": 2 }), Some(("X-Payment", &proof)))
            .await;
    assert_eq!((status, response["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_already_used")));
    assert_eq!(paid["receipt"]["txHash"], format!("{tx:#x}"));
}
