//! Attacks on the payment engine found by a review of its rework, through the HTTP API: payments
//! bundled with others in one transaction (by a frontrunner or a batching relayer), a
//! facilitator that fails after broadcasting or writes its hash oddly, canceled authorizations
//! that would starve the sweep, and a sweep acting on a stale read. Each test asserts the safe
//! behaviour; each failed before its fix.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, B256, U256, keccak256};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use evm_rpc::RpcClient;
use otonix::config::PaymentMode;
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::signer::{PrivateKeySigner, domain_from_requirements_v2, sign_authorization};

use crate::helpers::TestKey;
use crate::market::{Market, bundle, market_behind_proxy, usdc};
use crate::pay::{authorization, challenge, credits_path, pay_header, payment_header, send, top_up};
use crate::rpc_proxy::Fault;

// ---------------------------------------------------------------------------------------------
// One transaction, two payers: the claim `tx:<chain>:<hash>` counts a whole transaction once,
// whatever it carries.
// ---------------------------------------------------------------------------------------------

/// A key with an agent, and a funded wallet that is not bound to it (proofs are signed).
async fn buyer(m: &Market, name: &str, account: usize) -> (TestKey, String, Address, PrivateKeySigner) {
    let key = m.app.create_key(name).await;
    let agent = m.app.agent_id(&key, name).await;
    let (address, wallet) = m.chain.account(account);
    m.chain.mint(address, usdc(100.0)).await;
    (key, agent, address, wallet)
}

/// A third party who sees a victim's authorization before it is mined (the relayer's broadcast is
/// public on a chain with a public mempool) front-runs it with a bundle: the victim's
/// authorization plus one of its own, paying its own order. It proves its own transfer first;
/// the victim's settlement is then found in a transaction "already used", its order is marked
/// `failed` and the victim's 5 USDC, which did reach payTo through its own authorization, buy
/// nothing and are never refunded.
#[tokio::test]
async fn a_frontrunner_who_bundles_the_victims_authorization_with_his_own_voids_the_victims_payment() {
    let m = Market::open(1).await;
    let victim_order = m.challenge(5.0).await;
    let victim_auth = authorization(&m.payer, &victim_order.accepted, m.now());
    let victim_header = payment_header(&m.payer, &victim_order.accepted, &victim_auth);
    let domain = domain_from_requirements_v2(&victim_order.accepted).unwrap();
    let victim_signature = sign_authorization(&m.payer, &domain, &victim_auth).unwrap();

    // The attacker: his own key, agent, wallet and order, paid honestly in the same transaction.
    let (thief, thief_agent, thief_address, thief_wallet) = buyer(&m, "thief", 3).await;
    let thief_order = challenge(&m.app, &thief, &credits_path(&thief_agent), &top_up(5.0)).await;
    let thief_auth = authorization(&thief_wallet, &thief_order.accepted, m.now());
    let thief_signature = sign_authorization(&thief_wallet, &domain, &thief_auth).unwrap();
    let tx = bundle(&m.chain, [(&victim_auth, &victim_signature), (&thief_auth, &thief_signature)]).await;
    let proof = m.proof(&thief_order.order_id, tx, thief_address, Some(&thief_wallet));
    let (status, paid, _) =
        send(&m.app, &thief, &credits_path(&thief_agent), &top_up(5.0), Some(("X-Payment", &proof))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.paid_to().await, usdc(10.0), "both payers paid 5");

    // The victim's request: its authorization moved its 5 USDC to payTo.
    let (status, response, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &victim_header)).await;
    assert_eq!(
        (status, m.credits().await),
        (StatusCode::CREATED, 5.0),
        "the victim's authorization paid payTo 5 USDC, but the order is {} and the answer {response}",
        m.order_status(&victim_order.order_id).await
    );
}

/// Without any attacker: two customers pay their own orders with plain USDC transfers that a
/// bundler (an ERC-4337 bundle, a batching relayer) happened to put in one transaction. The first
/// to present it is served; the second, whose money is on chain from its own wallet to payTo,
/// is refused `payment_already_used`, forever.
#[tokio::test]
async fn two_customers_whose_transfers_share_one_bundle_transaction_are_both_served() {
    let m = Market::open(1).await;
    let (alice, alice_agent, alice_address, alice_wallet) = buyer(&m, "alice", 3).await;
    let (bob, bob_agent, bob_address, bob_wallet) = buyer(&m, "bob", 5).await;
    let alice_order = challenge(&m.app, &alice, &credits_path(&alice_agent), &top_up(3.0)).await;
    let bob_order = challenge(&m.app, &bob, &credits_path(&bob_agent), &top_up(4.0)).await;
    // Each signs a transfer of its own to payTo (not an x402 payment: a transfer, proven later).
    let domain = m.chain.token_domain();
    let alice_auth = authorization(&alice_wallet, &alice_order.accepted, m.now());
    let bob_auth = authorization(&bob_wallet, &bob_order.accepted, m.now());
    let alice_signature = sign_authorization(&alice_wallet, &domain, &alice_auth).unwrap();
    let bob_signature = sign_authorization(&bob_wallet, &domain, &bob_auth).unwrap();
    let tx = bundle(&m.chain, [(&alice_auth, &alice_signature), (&bob_auth, &bob_signature)]).await;
    assert_eq!(m.paid_to().await, usdc(7.0));

    let proof = m.proof(&alice_order.order_id, tx, alice_address, Some(&alice_wallet));
    let (status, paid, _) =
        send(&m.app, &alice, &credits_path(&alice_agent), &top_up(3.0), Some(("X-Payment", &proof))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let proof = m.proof(&bob_order.order_id, tx, bob_address, Some(&bob_wallet));
    let (status, response, _) =
        send(&m.app, &bob, &credits_path(&bob_agent), &top_up(4.0), Some(("X-Payment", &proof))).await;
    assert_eq!(status, StatusCode::CREATED, "bob's 4 USDC reached payTo from bob's wallet, yet: {response}");
}

// ---------------------------------------------------------------------------------------------
// Facilitator mode: a facilitator's refusal is not proof that nothing was broadcast, and its
// transaction hash is used unchecked as a claim key.
// ---------------------------------------------------------------------------------------------

/// How the fake facilitator answers `/settle` after it broadcast the authorization.
#[derive(Clone, Copy)]
enum AfterBroadcast {
    /// HTTP 400, as the x402 reference facilitator (express `examples/typescript/facilitator`)
    /// answers any exception thrown by `settle()`, including a receipt wait that timed out after
    /// `writeContract` had sent the transaction.
    Error400,
    /// `success: true` with the transaction hash written without its `0x`.
    HashWithoutPrefix,
}

struct Facilitator {
    rpc: RpcClient,
    sender: PrivateKeySigner,
    token: Address,
    chain_id: u64,
    after: AfterBroadcast,
}

impl Facilitator {
    fn payment(&self, body: &Value) -> x402::ExactPayment {
        let header = x402::encode_header(&body["paymentPayload"]);
        let Ok(x402::IncomingPayment::Exact(payload)) = x402::decode_payment_header(&header) else {
            panic!("the facilitator got an exact payment: {body}");
        };
        x402::verify::check_form(&payload, self.chain_id).expect("a well-formed payment")
    }

    async fn used(&self, payment: &x402::ExactPayment) -> bool {
        let a = &payment.authorization;
        let state = self.rpc.call(None, self.token, x402::calldata::authorization_state(a.from, a.nonce)).await;
        x402::calldata::decode_authorization_state(&state.unwrap()).unwrap()
    }
}

async fn verify(State(f): State<Arc<Facilitator>>, Json(body): Json<Value>) -> Response {
    let payment = f.payment(&body);
    if f.used(&payment).await {
        return Json(json!({ "isValid": false, "invalidReason": "invalid_exact_evm_payload_authorization_nonce" }))
            .into_response();
    }
    Json(json!({ "isValid": true, "payer": payment.payer() })).into_response()
}

async fn settle(State(f): State<Arc<Facilitator>>, Json(body): Json<Value>) -> Response {
    let payment = f.payment(&body);
    if f.used(&payment).await {
        return Json(json!({ "success": false, "errorReason": "invalid_exact_evm_payload_authorization_nonce" }))
            .into_response();
    }
    let data = x402::calldata::transfer_with_authorization(&payment.authorization, &payment.signature);
    let hash = f.rpc.send_call(&f.sender, f.token, data).await.expect("the facilitator broadcasts");
    match f.after {
        AfterBroadcast::Error400 => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "Invalid request: WaitForTransactionReceiptTimeoutError: Timed out while waiting for transaction" })),
        )
            .into_response(),
        AfterBroadcast::HashWithoutPrefix => {
            f.rpc.wait_for_receipt(hash, 1, Duration::from_secs(10)).await.unwrap().expect("mined");
            Json(json!({ "success": true, "transaction": hex::encode(hash), "network": "eip155:8453" })).into_response()
        }
    }
}

/// A facilitator that really settles on the test chain (from dev account 6).
async fn start_facilitator(chain: &TestChain, after: AfterBroadcast) -> (String, tokio::task::JoinHandle<()>) {
    let (_, sender) = chain.account(6);
    let rpc = RpcClient::new(&chain.url, Duration::from_secs(10)).unwrap();
    let state = Arc::new(Facilitator { rpc, sender, token: chain.usdc(), chain_id: chain.chain_id, after });
    let app = axum::Router::new()
        .route("/verify", axum::routing::post(verify))
        .route("/settle", axum::routing::post(settle))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, server)
}

async fn facilitator_market(after: AfterBroadcast) -> (Market, tokio::task::JoinHandle<()>) {
    let chain = TestChain::start().await;
    let (url, server) = start_facilitator(&chain, after).await;
    let market = Market::on(chain, 1, move |config| {
        config.payments.mode = PaymentMode::Facilitator;
        config.payments.facilitator_url = Some(url);
        // payments.rpcUrl stays set: transfer proofs and reconciliation read the chain.
    })
    .await;
    (market, server)
}

/// The facilitator broadcast the authorization, then its receipt wait failed and it answered 400
/// (what the reference facilitator does on any exception). The engine takes the 4xx as "the
/// money certainly did not move": it releases the claim and reopens the order, although the
/// money is on its way (here: already at payTo). The same payment presented again is refused
/// (the authorization is used), and the sweep never looks at an open order: paid, never
/// delivered, never refunded. In chain mode the same refusal is checked against
/// `authorizationState`; here a reader is configured but not asked.
#[tokio::test]
async fn a_facilitator_error_after_its_broadcast_does_not_release_a_payment_that_moved() {
    let (m, _facilitator) = facilitator_market(AfterBroadcast::Error400).await;
    let c = m.challenge(6.0).await;
    let header = pay_header(&m.payer, &c, m.now());
    let (first, response, _) = m.pay(6.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(m.paid_to().await, usdc(6.0), "the facilitator's transaction moved the money");
    let status_after_first = m.order_status(&c.order_id).await;
    // A client retries the same request with the same payment, as the SPEC says.
    let (status, again, _) = m.pay(6.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(
        (status, m.credits().await),
        (StatusCode::CREATED, 6.0),
        "6 USDC reached payTo; first answer {first} {response}, order then {status_after_first}, retry {again}"
    );
}

/// A facilitator that writes its transaction hash without `0x` (the field is free text in x402
/// and nothing checks it is a hash): the settlement claims `tx:8453:<hex>`, a transfer proof of
/// the same transaction claims `tx:8453:0x<hex>`, and one payment pays two orders.
#[tokio::test]
async fn one_facilitator_settlement_cannot_pay_a_second_order_as_a_transfer_proof() {
    let (m, _facilitator) = facilitator_market(AfterBroadcast::HashWithoutPrefix).await;
    let c = m.challenge(5.0).await;
    let (status, paid, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let tx: B256 = paid["receipt"]["txHash"].as_str().unwrap().parse().unwrap();

    let body = json!({ "amount": 5.0, "n": 2 });
    let second = challenge(&m.app, &m.key, &credits_path(&m.agent), &body).await;
    let proof = m.proof(&second.order_id, tx, m.payer.address(), None);
    let (status, response, _) = send(&m.app, &m.key, &credits_path(&m.agent), &body, Some(("X-Payment", &proof))).await;
    assert_eq!(m.paid_to().await, usdc(5.0), "one payment of 5");
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_already_used")),
        "credits now {}: {response}",
        m.credits().await
    );
}

// ---------------------------------------------------------------------------------------------
// The sweep: stuck `settling` orders starve it.
// ---------------------------------------------------------------------------------------------

/// `cancelAuthorization(authorizer, nonce, v, r, s)` signed by the authorizer.
fn cancel_calldata(chain: &TestChain, signer: &PrivateKeySigner, nonce: B256) -> Vec<u8> {
    let typehash = keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");
    let mut encoded = typehash.to_vec();
    encoded.extend(signer.address().into_word());
    encoded.extend(nonce);
    let mut message = vec![0x19, 0x01];
    message.extend(chain.token_domain().separator());
    message.extend(keccak256(&encoded));
    let digest = keccak256(&message);
    let (signature, recovery) = signer.credential().sign_prehash_recoverable(digest.as_slice()).unwrap();
    let mut data = keccak256("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)")[..4].to_vec();
    data.extend(signer.address().into_word());
    data.extend(nonce);
    data.extend(U256::from(27 + u8::from(recovery.is_y_odd())).to_be_bytes::<32>());
    data.extend(signature.to_bytes());
    data
}

/// An attacker signs authorizations, cancels each on chain (`cancelAuthorization`, gas only: the
/// wallets hold nothing), then presents them. The token says "used" (canceled looks the same)
/// but no `AuthorizationUsed` log exists: such an order must not stay `settling` with its claim
/// forever, or 100 of them (the sweep takes the 100 oldest `settling` orders each round) would
/// keep a real customer whose settlement answer was lost (its money moved) from ever being
/// delivered by the sweep.
#[tokio::test]
async fn canceled_authorizations_cannot_keep_the_sweep_from_delivering_a_paid_order() {
    let (m, proxy) = market_behind_proxy(1, |config| config.payments.sweep_interval_seconds = 1).await;
    let (thief, thief_agent, _, _) = buyer(&m, "thief", 3).await;
    let (_, gas_payer) = m.chain.account(7);
    let path = credits_path(&thief_agent);
    for _ in 0..100 {
        let c = challenge(&m.app, &thief, &path, &top_up(0.01)).await;
        let wallet = PrivateKeySigner::random();
        let auth = authorization(&wallet, &c.accepted, m.now());
        let cancel = cancel_calldata(&m.chain, &wallet, auth.nonce);
        let hash = m.chain.client().send_call(&gas_payer, m.chain.usdc(), cancel).await.unwrap();
        let mined = m.chain.client().wait_for_receipt(hash, 1, Duration::from_secs(10)).await.unwrap().unwrap();
        assert!(mined.success, "the cancellation is mined");
        let header = payment_header(&wallet, &c.accepted, &auth);
        let (status, response, _) =
            send(&m.app, &thief, &path, &top_up(0.01), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
        // A canceled authorization moved nothing and never will: refused at once, claim released.
        assert_eq!(
            (status, response["details"]["reason"].as_str()),
            (StatusCode::PAYMENT_REQUIRED, Some("settlement_failed")),
            "{response}"
        );
    }
    m.app.clock.advance_secs(1);

    // A customer pays; the answer of the broadcast is lost; the money moves; it never comes back.
    let c = m.challenge(4.0).await;
    proxy.inject(Fault::LoseAnswerAfterSend);
    let (status, response, _) = m.pay(4.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{response}");
    assert_eq!(m.paid_to().await, usdc(4.0));

    // The sweep should deliver it.
    m.app.clock.advance_secs(120);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while m.credits().await != 4.0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        m.credits().await,
        4.0,
        "the customer's 4 USDC are at payTo but its order is still {} after the sweep ran for 15 s",
        m.order_status(&c.order_id).await
    );
}
