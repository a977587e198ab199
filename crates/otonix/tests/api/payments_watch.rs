//! The watch of released authorizations, under attack: a nonce spent by another authorization
//! of the same payer (a different amount or recipient) pays nothing and is refunded nothing; a
//! transaction whose transfers a proof counted, or a payment settled by a retry while the sweep
//! looks, is not also refunded; an authorization used long ago stops being watched after a
//! grace. Each test drives the attack through the HTTP API and failed before its fix.

use std::time::Duration;

use alloy_primitives::U256;
use otonix::config::Secret;
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::eip712::Authorization;

use crate::market::{Market, market_behind_proxy, usdc};
use crate::pay::{authorization, challenge, credits_path, pay_header, payment_header};
use crate::rpc_proxy::{Fault, Gate, RpcProxy};

async fn market(proxied: bool) -> (Market, Option<RpcProxy>) {
    let chain = TestChain::start().await;
    let proxy = if proxied { Some(RpcProxy::start(&chain.url).await) } else { None };
    let url = proxy.as_ref().map(|p| p.url.clone());
    let m = Market::on(chain, 1, move |config| {
        config.payments.sweep_interval_seconds = 1;
        if let Some(url) = url {
            config.payments.rpc_url = Some(Secret::new(url));
        }
    })
    .await;
    (m, proxy)
}

/// Another authorization of the same payer under the same nonce: nothing to payTo (the payer
/// sends 0 to itself). It consumes the nonce, and the token logs `AuthorizationUsed(from, nonce)`.
fn same_nonce_to_self(auth: &Authorization) -> Authorization {
    Authorization { to: auth.from, value: U256::ZERO, ..*auth }
}

/// Gives the sweep (every second) `secs` seconds; the first sample where `ok` fails is returned.
async fn over(secs: u64, mut ok: impl AsyncFnMut() -> Option<String>) -> Option<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if let Some(bad) = ok().await {
            return Some(bad);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ok().await
}

// ---------------------------------------------------------------------------------------------
// 1. An `AuthorizationUsed(from, nonce)` log names a nonce, not an authorization.
// ---------------------------------------------------------------------------------------------

/// The payer presents a 50 USDC authorization without the funds: refused, released, watched.
/// He then spends its nonce on chain with *another* authorization he signs: 0 USDC to himself.
/// The watch sees the nonce used by that transaction and settles the order with it: 50 credits
/// for nothing (the transaction carries no transfer to payTo).
#[tokio::test]
async fn a_nonce_spent_by_another_authorization_does_not_pay_the_pinned_order() {
    let (m, _) = market(false).await;
    let (_, payer, _) = m.verified_payer(3).await;
    let c = m.challenge(50.0).await;
    let auth = authorization(&payer, &c.accepted, m.now());
    m.present_unfunded(&payer, &c, &auth).await;

    m.submit(&payer, &c.accepted, &same_nonce_to_self(&auth)).await;
    assert_eq!(m.chain.balance(m.pay_to).await, U256::ZERO, "nothing reached payTo");
    let bad = over(5, async || {
        let credits = m.credits().await;
        let status = m.order_status(&c.order_id).await;
        (credits != 0.0).then(|| format!("{credits} credits, order {status}"))
    })
    .await;
    assert_eq!(bad, None, "0 USDC reached payTo, yet the watch delivered the order");
}

/// The same, through the refund: the order is paid with real money by another authorization;
/// the first one's nonce is then spent by a 0 USDC authorization to the payer himself, and the
/// watch "gives back" 5 USDC that never moved.
#[tokio::test]
async fn a_nonce_spent_by_another_authorization_is_not_refunded() {
    let (m, _) = market(false).await;
    let (_, payer, wallet_agent) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;
    let auth = authorization(&payer, &c.accepted, m.now());
    m.present_unfunded(&payer, &c, &auth).await;
    let (status, paid, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");

    m.submit(&payer, &c.accepted, &same_nonce_to_self(&auth)).await;
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(5.0), "5 USDC paid once");
    let bad = over(5, async || {
        let refunded = m.agent_credits(&wallet_agent).await;
        (refunded != 0.0).then(|| format!("{refunded} credits refunded"))
    })
    .await;
    assert_eq!(bad, None, "a refund of money that never moved");
    assert_eq!(m.credits().await, 5.0);
}

/// The same flaw in the refused-simulation path the watch builds on (the chain's fate of an
/// authorization): the nonce is spent first by a 0 USDC authorization to the payer himself, then
/// the 50 USDC authorization with that nonce is presented: the simulation is refused, the token
/// says "used", the log names a transaction, and the order is delivered.
#[tokio::test]
async fn an_authorization_whose_nonce_was_spent_by_another_is_not_settled_by_that_transaction() {
    let (m, _) = market(false).await;
    let (_, payer, _) = m.verified_payer(3).await;
    let c = m.challenge(50.0).await;
    let auth = authorization(&payer, &c.accepted, m.now());
    m.submit(&payer, &c.accepted, &same_nonce_to_self(&auth)).await;
    let (status, response, _) =
        m.pay(50.0, (HEADER_PAYMENT_SIGNATURE, &payment_header(&payer, &c.accepted, &auth))).await;
    assert_ne!(status, StatusCode::CREATED, "50 credits for a 0 USDC transaction: {response}");
    assert_eq!(m.credits().await, 0.0);
}

// ---------------------------------------------------------------------------------------------
// 2. The watch refunds an authorization whose money paid its own order.
// ---------------------------------------------------------------------------------------------

/// The released authorization is submitted on chain (by its payer, or anyone), and its payer
/// presents that transaction as a transfer proof for the pinned order: delivered. The watch then
/// finds the authorization used by the same transaction, sees the order delivered, claims
/// `tx:<hash>:<payer>` for it — `Ours`, since the proof holds it for that very order — and
/// refunds: 5 USDC paid, 5 credits delivered and 5 refunded. (The sweep is held at its look at
/// the authorization so the proof comes first; without the hold it is a race the payer can run.)
#[tokio::test]
async fn a_proof_of_the_transaction_that_used_a_released_authorization_is_not_also_refunded() {
    let (m, proxy) = market(true).await;
    let proxy = proxy.unwrap();
    let (payer_address, payer, wallet_agent) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;
    let auth = authorization(&payer, &c.accepted, m.now());
    m.present_unfunded(&payer, &c, &auth).await;

    // The sweep's next look at the authorization (authorizationState) waits at the gate.
    let gate = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_call", gate: gate.clone() });
    gate.arrival().await;
    m.chain.mint(payer_address, usdc(5.0)).await;
    let tx = m.submit(&payer, &c.accepted, &auth).await;
    let (status, paid, _) = m.pay(5.0, ("X-Payment", &m.proof(&c.order_id, tx, payer_address, None))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 5.0);
    gate.open();

    assert_paid_once_without_refund(&m, &wallet_agent).await;
}

/// The docs invite it: "the same payment may be presented again for its order (once the payer
/// is funded, say)". The sweep read its list of released authorizations; meanwhile the payer,
/// now funded, presents the authorization again: it is held again, settled, delivered. The
/// sweep, on its stale read, finds it used, the order delivered, `tx:` `Ours`: refunded too.
/// (The gate holds the sweep mid-list; a sweep has up to 100 authorizations to look at, each
/// taking dozens of RPC calls, and anyone can put his own released authorizations before it.)
#[tokio::test]
async fn a_retry_that_settles_a_released_authorization_while_the_sweep_looks_at_it_is_not_refunded_too() {
    let (m, proxy) = market(true).await;
    let proxy = proxy.unwrap();
    let (payer_address, payer, wallet_agent) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;
    let auth = authorization(&payer, &c.accepted, m.now());
    let header = m.present_unfunded(&payer, &c, &auth).await;

    let gate = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_call", gate: gate.clone() });
    gate.arrival().await;
    m.chain.mint(payer_address, usdc(5.0)).await;
    let (status, paid, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.credits().await, 5.0);
    gate.open();

    assert_paid_once_without_refund(&m, &wallet_agent).await;
}

// ---------------------------------------------------------------------------------------------
// 3. The grace of "used before" never ends.
// ---------------------------------------------------------------------------------------------

/// A node that finds no logs (as for an authorization used more than 10,000 blocks ago, or a
/// node whose log index lags its state: the case the grace is for); everything else forwarded.
async fn logless_node(upstream: String) -> (String, tokio::task::JoinHandle<()>) {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::response::IntoResponse;
    async fn relay(State(upstream): State<std::sync::Arc<String>>, body: Bytes) -> axum::response::Response {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if request["method"] == "eth_getLogs" {
            return axum::Json(json!({ "jsonrpc": "2.0", "id": request["id"], "result": [] })).into_response();
        }
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let answer = http
            .post(upstream.as_str())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("anvil answers");
        let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
        (status, [("content-type", "application/json")], answer.bytes().await.unwrap()).into_response()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/", axum::routing::post(relay)).with_state(std::sync::Arc::new(upstream));
    (url, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
}

/// An authorization the token says is used, without a log in the blocks searched ("used
/// before"), is released and watched with a grace of 10 minutes from its release — but every look
/// that does not resolve it moves `released_at` to now, so with a sweep every 30 s (the default)
/// the grace never elapses: it is watched forever, also past its `validBefore` (41 RPC calls a
/// look: authorizationState, then 20 `eth_getLogs` per topic), and anyone can add such entries,
/// one per nonce he spends (an authorization to himself, or a cancellation, then 10,000 blocks).
#[tokio::test]
async fn an_authorization_used_long_ago_stops_being_watched_after_its_grace() {
    let chain = TestChain::start().await;
    let (url, _node) = logless_node(chain.url.clone()).await;
    let m = Market::on(chain, 1, move |config| {
        config.payments.sweep_interval_seconds = 1;
        config.payments.rpc_url = Some(Secret::new(url));
    })
    .await;
    let (_, payer, _) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;
    let auth = authorization(&payer, &c.accepted, m.now());
    // Its nonce is spent (0 USDC to the payer himself); the node shows no log of it.
    m.submit(&payer, &c.accepted, &same_nonce_to_self(&auth)).await;
    m.present_unfunded(&payer, &c, &auth).await;

    let store = m.app.store().await;
    let watched = async || {
        let all = otonix::store::claims::watched(&mut store.read().await.unwrap(), 100).await.unwrap();
        all.into_iter().find(|r| r.order_id == c.order_id)
    };
    assert!(watched().await.is_some(), "released and watched");
    // Fifteen minutes go by, a sweep every minute (each sees "used before").
    for _ in 0..15 {
        m.app.clock.advance_secs(60);
        let now = otonix::Clock::now_ms(m.app.clock.as_ref());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Some(entry) = watched().await {
            if entry.watched_at >= now || tokio::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let left = watched().await;
    assert!(left.is_none(), "still watched 15 minutes after its release: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// The sweep takes an attempt for abandoned from a stale read.
// ---------------------------------------------------------------------------------------------

/// The sweep reads its batch of stale `settling` orders, then reconciles them one by one (up to
/// 2 s each). An attempt that was slow before broadcasting (relayer lease, slow node) is read
/// without a reference, then records its reference and broadcasts while the sweep works on the
/// orders before it; the sweep then judges the old read ("no reference, older than 120 s:
/// nothing was sent"), and `reopen` checks only status and claim, not that the reference is
/// still absent. The order is reopened and its claim released while its transaction is in
/// flight: the money moves, the attempt finds the order open and answers 402 `order_reopened`.
#[tokio::test]
async fn the_sweep_does_not_reopen_an_order_whose_attempt_broadcast_after_the_sweep_read_it() {
    let (m, proxy) = market_behind_proxy(1, |config| config.payments.sweep_interval_seconds = 1).await;
    // An earlier order, settling with a reference (its broadcast swallowed): the sweep takes it
    // first, and waits for its receipt.
    let first = m.challenge(1.0).await;
    proxy.inject(Fault::SwallowSend);
    let (status, response, _) = m.pay(1.0, (HEADER_PAYMENT_SIGNATURE, &pay_header(&m.payer, &first, m.now()))).await;
    assert_eq!((status, response["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_pending")));
    m.app.clock.advance_secs(1);

    // The order under attack: its attempt claims it, then stalls before broadcasting.
    let body = json!({ "amount": 5.0, "n": 2 });
    let c = challenge(&m.app, &m.key, &credits_path(&m.agent), &body).await;
    let header = pay_header(&m.payer, &c, m.now());
    let stalled_sim = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_call", gate: stalled_sim.clone() });
    let attempt = {
        let (base, key, path, body, header) =
            (m.app.base.clone(), m.key.key.clone(), credits_path(&m.agent), body.clone(), header.clone());
        tokio::spawn(async move {
            let response = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .post(format!("{base}{path}"))
                .header("X-API-Key", key)
                .header(HEADER_PAYMENT_SIGNATURE, header)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        })
    };
    stalled_sim.arrival().await;

    // The sweep reads both (both stale) and starts with the first, waiting for its receipt.
    let sweep_busy = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_getTransactionReceipt", gate: sweep_busy.clone() });
    m.app.clock.advance_secs(300);
    sweep_busy.arrival().await;

    // Meanwhile the attempt goes on: it stores its reference, then broadcasts (held in flight).
    let in_flight = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_sendRawTransaction", gate: in_flight.clone() });
    stalled_sim.open();
    in_flight.arrival().await;

    // The sweep goes on with its read of the attacked order.
    sweep_busy.open();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    while m.order_status(&c.order_id).await != "open" && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let meanwhile = m.order_status(&c.order_id).await;
    in_flight.open();
    let (status, answer) = attempt.await.unwrap();
    assert_eq!(m.paid_to().await, usdc(5.0), "the attempt's transaction moved 5 USDC");
    assert_eq!(
        (status, m.credits().await),
        (StatusCode::CREATED, 5.0),
        "the sweep set the order {meanwhile} while its transaction was in flight; the attempt answered {answer}"
    );
}

/// For five seconds nothing is refunded to the payer's wallet agent, and `payTo` holds the 5 USDC
/// paid once.
async fn assert_paid_once_without_refund(m: &Market, wallet_agent: &str) {
    let bad = over(5, async || {
        let refunded = m.agent_credits(wallet_agent).await;
        (refunded != 0.0).then(|| format!("{refunded} credits refunded"))
    })
    .await;
    assert_eq!(bad, None, "5 USDC paid once: delivered and refunded");
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(5.0));
}
