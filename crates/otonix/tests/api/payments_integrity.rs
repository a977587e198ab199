//! The attacks on the payment engine and the faults of a real chain (SPEC §5.4, §5.5), each
//! against a real local node (anvil), some behind a proxy that loses, delays or holds answers:
//! one payment pays one order, a payer is bound by proof of control, and a claim is released only
//! when the money certainly did not move.

use std::time::Duration;

use alloy_primitives::B256;
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::signer::{domain_from_requirements_v2, sign_authorization};

use crate::market::{Market, market_behind_proxy, until, usdc};
use crate::pay::{Challenge, authorization, challenge, credits_path, pay_header, payment_header, send, top_up};
use crate::rpc_proxy::{Fault, Gate};

fn assert_refused(status: StatusCode, body: &Value, code: &str) {
    assert_eq!((status, body["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some(code)), "{body}");
}

#[tokio::test]
async fn the_hash_of_an_eip3009_settlement_cannot_pay_a_second_order_as_a_transfer_proof() {
    let m = Market::open(1).await;
    let c = m.challenge(5.0).await;
    let (status, paid, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let settlement: B256 = paid["receipt"]["txHash"].as_str().unwrap().parse().unwrap();

    // The settlement is a transfer from the payer to payTo: as a proof it would pay order 2.
    let body = json!({ "amount": 5.0, "note": "second" });
    let second = challenge(&m.app, &m.key, &credits_path(&m.agent), &body).await;
    let proof = m.proof(&second.order_id, settlement, m.payer.address(), None);
    let (status, response, _) = send(&m.app, &m.key, &credits_path(&m.agent), &body, Some(("X-Payment", &proof))).await;
    assert_refused(status, &response, "payment_already_used");
    // Also once it has more confirmations, and also signed by its payer.
    m.chain.mine(3).await;
    let proof = m.proof(&second.order_id, settlement, m.payer.address(), Some(&m.payer));
    let (status, response, _) = send(&m.app, &m.key, &credits_path(&m.agent), &body, Some(("X-Payment", &proof))).await;
    assert_refused(status, &response, "payment_already_used");
    assert_eq!(m.credits().await, 5.0);
    assert_eq!(m.paid_to().await, usdc(5.0));
    // The engine booked it with its hash: booking the hash again by hand is a duplicate.
    let manual = json!({ "type": "credit", "amount": 1, "txHash": format!("{settlement:#x}") });
    let (status, _) = m.app.post("/api/transactions", crate::helpers::As::Key(&m.key), manual).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_stranger_who_registers_the_payers_wallet_cannot_claim_the_payers_transfer() {
    let m = Market::open(1).await;
    let mine = m.challenge(8.0).await;
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(8.0)).await;

    // The thief registers an agent with the payer's address (a claim, not a proof) and presents
    // the payer's transfer for its own order.
    let thief = m.app.create_key("thief").await;
    let decoy = m.app.register_agent(&thief, json!({ "name": "decoy", "walletAddress": m.payer.address() })).await;
    assert_eq!(decoy["walletVerified"], false);
    let decoy = decoy["id"].as_str().unwrap();
    let stolen = challenge(&m.app, &thief, &credits_path(decoy), &top_up(8.0)).await;
    let proof = m.proof(&stolen.order_id, tx, m.payer.address(), None);
    let (status, response, _) =
        send(&m.app, &thief, &credits_path(decoy), &top_up(8.0), Some(("X-Payment", &proof))).await;
    assert_refused(status, &response, "payment_invalid");
    assert_eq!(response["details"]["reason"], "payer_not_bound");
    assert_eq!(m.app.agent(&thief, decoy).await["credits"], 0);

    // The real payer's proof (a verified wallet of its key) is accepted.
    let (status, paid, _) = m.pay(8.0, ("X-Payment", &m.proof(&mine.order_id, tx, m.payer.address(), None))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 8.0);
}

#[tokio::test]
async fn an_authorization_someone_else_already_submitted_pays_its_order_once() {
    let m = Market::open(1).await;
    let c = m.challenge(6.0).await;
    let auth = authorization(&m.payer, &c.accepted, m.now());
    let header = payment_header(&m.payer, &c.accepted, &auth);
    // Someone who saw the header submits the authorization first: our simulation will revert.
    let signature = sign_authorization(&m.payer, &domain_from_requirements_v2(&c.accepted).unwrap(), &auth).unwrap();
    let (_, frontrunner) = m.chain.account(2);
    let data = x402::calldata::transfer_with_authorization(&auth, &signature);
    let theirs = m.chain.client().send_call(&frontrunner, m.chain.usdc(), data).await.unwrap();
    let mined = m.chain.client().wait_for_receipt(theirs, 1, Duration::from_secs(10)).await.unwrap().unwrap();
    assert!(mined.success);

    let (status, paid, _) = m.pay(6.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::CREATED, "the money reached payTo through this authorization: {paid}");
    assert_eq!(paid["receipt"]["txHash"], format!("{theirs:#x}"));
    assert_eq!(m.credits().await, 6.0);
    assert_eq!(m.paid_to().await, usdc(6.0));
}

#[tokio::test]
async fn a_broadcast_whose_answer_is_lost_is_pending_and_its_order_is_never_paid_twice() {
    let (m, proxy) = market_behind_proxy(1, |_| {}).await;
    let c = m.challenge(4.0).await;
    let first = pay_header(&m.payer, &c, m.now());
    proxy.inject(Fault::LoseAnswerAfterSend);
    let (status, response, headers) = m.pay(4.0, (HEADER_PAYMENT_SIGNATURE, &first)).await;
    assert_refused(status, &response, "payment_pending");
    assert!(headers.contains_key("retry-after"));

    // Another authorization for the same order must not be taken while the first may have moved.
    let second = pay_header(&m.payer, &c, m.now());
    let (status, response, _) = m.pay(4.0, (HEADER_PAYMENT_SIGNATURE, &second)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{response}");
    // The first, presented again, is found on chain and delivered.
    let (status, paid, _) = m.pay(4.0, (HEADER_PAYMENT_SIGNATURE, &first)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 4.0);
    assert_eq!(m.paid_to().await, usdc(4.0), "taken once");
}

#[tokio::test]
async fn an_answer_that_comes_after_the_timeout_leaves_the_payment_pending() {
    let (m, proxy) = market_behind_proxy(1, |config| config.payments.upstream_timeout_seconds = 1).await;
    let c = m.challenge(2.0).await;
    let header = pay_header(&m.payer, &c, m.now());
    proxy.inject(Fault::AnswerLate { method: "eth_sendRawTransaction", delay: Duration::from_secs(2) });
    let (status, response, _) = m.pay(2.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_refused(status, &response, "payment_pending");
    let (status, paid, _) = m.pay(2.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.paid_to().await, usdc(2.0));
}

#[tokio::test]
async fn the_settlement_reference_is_stored_before_the_transaction_is_broadcast() {
    let (m, proxy) = market_behind_proxy(1, |_| {}).await;
    let c = m.challenge(3.0).await;
    let store = m.app.store().await;
    let order_id = c.order_id.clone();
    let (seen, saw) = tokio::sync::oneshot::channel();
    proxy.inject(Fault::BeforeSend(Box::new(move |raw| {
        Box::pin(async move {
            let hash = alloy_primitives::keccak256(&raw);
            let mut conn = store.read().await.unwrap();
            let order = otonix::store::orders::get(&mut conn, &order_id).await.unwrap().unwrap();
            let _ = seen.send((format!("{hash:#x}"), order.settle_reference));
        })
    })));
    let (status, paid, _) = m.pay(3.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let (hash, reference) = saw.await.expect("a transaction was broadcast");
    let reference = reference.expect("a reference was stored before the broadcast");
    assert!(reference.contains(&hash), "the stored reference names the transaction about to be sent: {reference}");
    assert_eq!(paid["receipt"]["txHash"], hash);
}

#[tokio::test]
async fn an_attempt_that_outlives_its_claim_cannot_charge_an_order_paid_meanwhile() {
    let (m, proxy) = market_behind_proxy(1, |config| config.payments.sweep_interval_seconds = 1).await;
    let c = m.challenge(5.0).await;
    let slow = pay_header(&m.payer, &c, m.now());
    // The first attempt stalls in its simulation, before anything reached the chain.
    let gate = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_call", gate: gate.clone() });
    let stalled = {
        let (app, key, path, header) = (m.app.base.clone(), m.key.key.clone(), credits_path(&m.agent), slow.clone());
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(format!("{app}{path}"))
                .header("X-API-Key", key)
                .header(HEADER_PAYMENT_SIGNATURE, header)
                .json(&top_up(5.0))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        })
    };
    gate.arrival().await;
    // Long after, the sweep takes the attempt for abandoned and reopens the order...
    m.app.clock.advance_secs(300);
    wait_for_order_status(&m, &c.order_id, "open").await;
    // ... which another payment then pays.
    let (status, paid, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    // The stalled attempt wakes up: it must not broadcast.
    gate.open();
    let (status, late) = stalled.await.unwrap();
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{late}");
    m.chain.mine(1).await;
    assert_eq!(m.paid_to().await, usdc(5.0), "taken once");
    assert_eq!(m.credits().await, 5.0);
}

async fn wait_for_order_status(m: &Market, order_id: &str, status: &str) {
    let store = m.app.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let order = otonix::store::orders::get(&mut store.read().await.unwrap(), order_id).await.unwrap().unwrap();
        if order.status.as_str() == status {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "order is {:?} not {status}", order.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_settlement_is_delivered_only_with_its_confirmations_on_every_retry() {
    let m = Market::on(TestChain::start().await, 2, |config| config.payments.settlement_timeout_seconds = 1).await;
    let c = m.challenge(7.0).await;
    let header = pay_header(&m.payer, &c, m.now());
    let (status, response, _) = m.pay(7.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_refused(status, &response, "payment_pending");
    // Mined with one confirmation of two: still pending, however often it is asked.
    for _ in 0..2 {
        let (status, response, _) = m.pay(7.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
        assert_refused(status, &response, "payment_pending");
        assert_eq!(m.credits().await, 0.0);
    }
    m.chain.mine(1).await;
    let (status, paid, _) = m.pay(7.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 7.0);
}

#[tokio::test]
async fn an_unsent_authorization_expires_by_the_chains_clock_not_the_servers() {
    let (m, proxy) = market_behind_proxy(1, |_| {}).await;
    let c = m.challenge(3.0).await;
    let header = pay_header(&m.payer, &c, m.now());
    proxy.inject(Fault::SwallowSend);
    let (status, response, _) = m.pay(3.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_refused(status, &response, "payment_pending");
    // The server's clock passes validBefore; the chain's does not: it could still settle.
    m.app.clock.advance_secs(400);
    let (status, response, _) = m.pay(3.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_refused(status, &response, "payment_pending");
    // Once the chain is past validBefore, the authorization can never move money: released.
    let chain_now = m.chain.now().await;
    m.chain.set_next_block_timestamp(chain_now + 400).await;
    m.chain.mine(1).await;
    let (status, response, _) = m.pay(3.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_refused(status, &response, "payment_invalid");
    // The order is open again and the payer pays it once.
    let (status, paid, _) = m.pay(3.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.paid_to().await, usdc(3.0));
}

#[tokio::test]
async fn a_transfer_mined_before_its_order_expired_pays_it_when_presented_late() {
    let m = Market::open(1).await;
    let c: Challenge = m.challenge(9.0).await;
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(9.0)).await;
    // Presented after the order's 15 minutes, by the server's clock.
    m.app.clock.advance_secs(1000);
    let (status, paid, _) = m.pay(9.0, ("X-Payment", &m.proof(&c.order_id, tx, m.payer.address(), None))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 9.0);

    // A transfer mined after the order expired does not pay it.
    let expired = challenge(&m.app, &m.key, &credits_path(&m.agent), &json!({ "amount": 9.0, "n": 2 })).await;
    m.app.clock.advance_secs(1000);
    let chain_now = m.chain.now().await;
    m.chain.set_next_block_timestamp(chain_now + 2000).await;
    let late = m.chain.transfer(&m.payer, m.pay_to, usdc(9.0)).await;
    let proof = m.proof(&expired.order_id, late, m.payer.address(), None);
    let body = json!({ "amount": 9.0, "n": 2 });
    let (status, response, _) = send(&m.app, &m.key, &credits_path(&m.agent), &body, Some(("X-Payment", &proof))).await;
    assert_refused(status, &response, "order_expired");
    assert_eq!(m.credits().await, 9.0);
}

#[tokio::test]
async fn a_server_refuses_to_start_on_an_rpc_endpoint_that_serves_another_chain() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _) = crate::helpers::test_config(dir.path());
    let (_, relayer) = chain.account(0);
    config.payments.mode = otonix::config::PaymentMode::Chain;
    config.providers.vercel.mode = otonix::config::ProviderMode::Off;
    config.providers.cherry.mode = otonix::config::ProviderMode::Off;
    config.payments.rpc_url = Some(otonix::config::Secret::new(chain.url.clone()));
    config.payments.relayer_key = Some(otonix::config::Secret::new(format!("0x{}", hex::encode(relayer.to_bytes()))));
    config.payments.chain_id = Some(1);
    match otonix::Application::build(config).await {
        Ok(_) => panic!("a server on chain 1 must not settle through a node of chain {}", chain.chain_id),
        Err(error) => assert!(format!("{error:#}").contains(&format!("serves chain {}", chain.chain_id)), "{error:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_a_relayer_key_never_send_with_the_same_nonce() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("relayer replicas test skipped: OTONIX_TEST_DATABASE_URL is unset (replicas need PostgreSQL)");
        return;
    }
    let m = Market::open(1).await;
    let other = m.app.replica().await;
    let bodies: Vec<Value> = (0..8).map(|n| json!({ "amount": 1.0, "n": n })).collect();
    let (key, path) = (&m.key, credits_path(&m.agent));
    let mut payments = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        let c = challenge(&m.app, key, &path, body).await;
        let header = pay_header(&m.payer, &c, m.now());
        // Half of the payments go through each replica, all at once.
        let (app, path) = (if n % 2 == 0 { &m.app } else { &other }, &path);
        payments.push(async move { send(app, key, path, body, Some((HEADER_PAYMENT_SIGNATURE, &header))).await });
    }
    for (status, response, _) in futures::future::join_all(payments).await {
        assert_eq!(status, StatusCode::CREATED, "{response}");
    }
    assert_eq!(m.paid_to().await, usdc(8.0));
    assert_eq!(m.credits().await, 8.0);
}

#[tokio::test]
async fn a_released_authorization_that_moves_money_later_pays_its_order_or_is_refunded() {
    let m = Market::on(TestChain::start().await, 1, |config| config.payments.sweep_interval_seconds = 1).await;
    // A payer without funds, the verified wallet of a second agent of the key.
    let (payer_address, payer, wallet_agent) = m.verified_payer(3).await;

    // 1. Refused for want of funds: the claim is released, pinned to its order. The payer is
    //    funded and someone submits the authorization directly: the sweep settles the order with it.
    let c = m.challenge(5.0).await;
    let late = authorization(&payer, &c.accepted, m.now());
    let (status, response, _) =
        m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &payment_header(&payer, &c.accepted, &late))).await;
    assert_eq!(response["details"]["reason"], "settlement_failed", "{status} {response}");
    m.chain.mint(payer_address, usdc(5.0)).await;
    m.submit(&payer, &c.accepted, &late).await;
    assert!(
        until(20, async || m.credits().await == 5.0).await,
        "the sweep delivers the order the late authorization paid"
    );

    // 2. Refused again, then the order is paid with another authorization; the first one is
    //    submitted after all: its money goes back, to the agent whose verified wallet paid.
    let body = json!({ "amount": 5.0, "n": 2 });
    let c = challenge(&m.app, &m.key, &credits_path(&m.agent), &body).await;
    let stray = authorization(&payer, &c.accepted, m.now());
    let (_, response, _) = send(
        &m.app,
        &m.key,
        &credits_path(&m.agent),
        &body,
        Some((HEADER_PAYMENT_SIGNATURE, &payment_header(&payer, &c.accepted, &stray))),
    )
    .await;
    assert_eq!(response["details"]["reason"], "settlement_failed", "{response}");
    m.chain.mint(payer_address, usdc(10.0)).await;
    let (status, paid, _) = send(
        &m.app,
        &m.key,
        &credits_path(&m.agent),
        &body,
        Some((HEADER_PAYMENT_SIGNATURE, &pay_header(&payer, &c, m.now()))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 10.0);
    m.submit(&payer, &c.accepted, &stray).await;
    assert_eq!(m.paid_to().await, usdc(15.0));
    let refunded = || async { m.app.agent(&m.key, &wallet_agent).await["credits"].as_f64() == Some(5.0) };
    assert!(until(20, refunded).await, "the stray payment is refunded to the payer's agent");
    assert_eq!(m.credits().await, 10.0, "the order was delivered once");
    // And once only.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(m.app.agent(&m.key, &wallet_agent).await["credits"], 5);
}
