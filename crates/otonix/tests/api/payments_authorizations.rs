//! EIP-3009 authorizations seen from the chain, on a real node (anvil): an authorization is a
//! bearer instrument (nothing the payer signs names the order or the key, and a reverted
//! settlement puts it on chain for anyone to read), so its claim stays pinned to its order even
//! when released; and the look-back for the transaction that used one works behind providers
//! that cap the blocks of an `eth_getLogs`. Both tests failed before their fixes.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use otonix::config::Secret;
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::signer::{PrivateKeySigner, domain_from_requirements_v2, sign_authorization};
use x402::wire::{Eip3009Authorization, ExactEvmPayload, PaymentPayloadV2, PaymentRequirementsV2};

use crate::market::{Market, USDC, usdc};
use crate::pay::{authorization, challenge, credits_path, pay_header, payment_header, send, top_up};
use crate::rpc_proxy::{Fault, RpcProxy};

/// What anyone can read from a mined `transferWithAuthorization` call: the authorization and
/// its signature, as an x402 payment header for `accepted` (someone else's order).
fn header_from_calldata(input: &str, accepted: &PaymentRequirementsV2) -> String {
    let data = hex::decode(input.trim_start_matches("0x")).unwrap();
    assert_eq!(data.len(), 4 + 9 * 32, "a transferWithAuthorization(…, v, r, s) call");
    let word = |i: usize| &data[4 + 32 * i..4 + 32 * (i + 1)];
    let address = |i: usize| Address::from_slice(&word(i)[12..]).to_checksum(None);
    let number = |i: usize| U256::from_be_slice(word(i)).to_string();
    let mut signature = word(7).to_vec();
    signature.extend(word(8));
    signature.push(word(6)[31]);
    let payload = PaymentPayloadV2 {
        x402_version: 2,
        resource: None,
        accepted: accepted.clone(),
        payload: ExactEvmPayload {
            signature: format!("0x{}", hex::encode(signature)),
            authorization: Eip3009Authorization {
                from: address(0),
                to: address(1),
                value: number(2),
                valid_after: number(3),
                valid_before: number(4),
                nonce: format!("0x{}", hex::encode(word(5))),
            },
        },
        extensions: None,
    };
    x402::encode_header(&payload)
}

// ---------------------------------------------------------------------------------------------
// A released claim hands a public authorization to any key.
// ---------------------------------------------------------------------------------------------

/// The victim (an agent paying several things at once) pays 8 USDC; between the relayer's gas
/// estimate and the inclusion of its transaction, the victim's wallet spends its balance
/// elsewhere. The relayer's transaction is mined and reverts: the authorization is unused and
/// valid for minutes more, and its calldata — the whole signed authorization — is on chain for
/// anyone to read. The engine calls that `failed`, deletes the claim and reopens the order.
///
/// A stranger with his own key reads the reverted transaction, asks for a 402 of his own for 8
/// USDC of credits, and presents the victim's authorization with his own order id (which the
/// victim never signed). Once the victim's wallet is funded again (it pays for a living), the
/// relayer settles it: the victim's 8 USDC buy the stranger's credits.
#[tokio::test]
async fn a_reverted_settlement_does_not_hand_the_victims_authorization_to_another_key() {
    let chain = TestChain::start().await;
    let proxy = RpcProxy::start(&chain.url).await;
    let url = proxy.url.clone();
    let m = Market::on(chain, 1, move |config| config.payments.rpc_url = Some(Secret::new(url))).await;
    let victim = m.payer.address();
    assert_eq!(m.chain.balance(victim).await, usdc(1000.0));

    // The victim's payment; its wallet spends everything just before the relayer's broadcast.
    let c = m.challenge(8.0).await;
    let header = pay_header(&m.payer, &c, m.now());
    let (rpc, payer, token) = (m.chain.client().clone(), m.payer.clone(), m.chain.usdc());
    let elsewhere = PrivateKeySigner::random().address();
    proxy.inject(Fault::BeforeSend(Box::new(move |_raw| {
        async move {
            let spend = x402::calldata::transfer(elsewhere, U256::from(1000 * USDC));
            let hash = rpc.send_call(&payer, token, spend).await.unwrap();
            let mined = rpc.wait_for_receipt(hash, 1, Duration::from_secs(10)).await.unwrap().unwrap();
            assert!(mined.success, "the victim's other spending is mined first");
        }
        .boxed()
    })));
    let (status, response, _) = m.pay(8.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{response}");
    assert_eq!(response["details"]["reason"], "settlement_failed", "{response}");

    // The relayer's transaction reverted on chain, its calldata public.
    let block = m.chain.rpc("eth_getBlockByNumber", json!(["latest", true])).await;
    let relayed = &block["transactions"][0];
    let hash: B256 = relayed["hash"].as_str().unwrap().parse().unwrap();
    let receipt = m.chain.client().transaction_receipt(hash).await.unwrap().unwrap();
    assert!(!receipt.success, "the relayer's settlement reverted");
    let input = relayed["input"].as_str().unwrap().to_owned();

    // The victim's wallet is funded again (its owner tops it up).
    m.chain.mint(victim, usdc(1000.0)).await;

    // A stranger, with his own key and agent, and no wallet at all.
    let thief = m.app.create_key("stranger").await;
    let thief_agent = m.app.agent_id(&thief, "stranger").await;
    let path = credits_path(&thief_agent);
    let theirs = challenge(&m.app, &thief, &path, &top_up(8.0)).await;
    let stolen = header_from_calldata(&input, &theirs.accepted);
    let (status, response, _) =
        send(&m.app, &thief, &path, &top_up(8.0), Some((HEADER_PAYMENT_SIGNATURE, &stolen))).await;
    let thief_credits = m.app.agent(&thief, &thief_agent).await["credits"].as_f64().unwrap();
    let victim_balance = m.chain.balance(victim).await;
    assert!(
        status == StatusCode::PAYMENT_REQUIRED && thief_credits == 0.0 && victim_balance == usdc(1000.0),
        "a stranger's key spent the victim's authorization: answer {status} {response}, the stranger's agent now \
         holds {thief_credits} credits, the victim's wallet {victim_balance} (of 1000 USDC); the victim's order is {}",
        m.order_status(&c.order_id).await
    );
}

// ---------------------------------------------------------------------------------------------
// The look-back asks for more blocks than providers serve in one request.
// ---------------------------------------------------------------------------------------------

/// A JSON-RPC forwarder that refuses `eth_getLogs` over more than `max_range` blocks, as most
/// hosted providers do (with a JSON-RPC error; the ranges vary: 2,000, 5,000, 10,000 …).
struct CappedLogs {
    upstream: String,
    http: reqwest::Client,
    max_range: u64,
}

fn block_number(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.trim_start_matches("0x"), 16).ok()
}

async fn capped_relay(State(proxy): State<Arc<CappedLogs>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    if request["method"] == "eth_getLogs" {
        let filter = &request["params"][0];
        let head = || async {
            let answer: Value = proxy
                .http
                .post(&proxy.upstream)
                .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": [] }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            block_number(&answer["result"]).unwrap()
        };
        let from = block_number(&filter["fromBlock"]).unwrap_or(0);
        let to = match block_number(&filter["toBlock"]) {
            Some(to) => to,
            None => head().await,
        };
        let range = to.saturating_sub(from) + 1;
        if range > proxy.max_range {
            let message = format!("eth_getLogs is limited to a {} block range (asked {range})", proxy.max_range);
            let error =
                json!({ "jsonrpc": "2.0", "id": request["id"], "error": { "code": -32602, "message": message } });
            return axum::Json(error).into_response();
        }
    }
    crate::rpc_proxy::forward_to(&proxy.http, &proxy.upstream, body).await
}

async fn start_capped(upstream: &str, max_range: u64) -> (String, tokio::task::JoinHandle<()>) {
    let state = Arc::new(CappedLogs {
        upstream: upstream.to_owned(),
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        max_range,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/", axum::routing::post(capped_relay)).with_state(state);
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, server)
}

/// Someone submits the payer's authorization before the server does (the case the engine is
/// built to recognize: "used means settled by the transaction that emitted AuthorizationUsed").
/// The simulation is refused, the token says "used", and the engine looks back for the
/// transaction over the last 10,000 blocks — in one `eth_getLogs` of 10,001 blocks. Behind a
/// provider that serves fewer blocks per request (here 1,000, on a chain 1,200 blocks long; on
/// Base, whose head is tens of millions, any cap under 10,001 does), that request fails every time: the order stays `settling` with
/// its claim, every retry and every sweep answers "pending", and the payer's 6 USDC, at payTo
/// since the first request, are never delivered nor refunded. The same look-back decides
/// canceled authorizations, so on such a provider they also stay `settling` forever, which the
/// "fail at once" fix of 85c1abe meant to end.
#[tokio::test]
async fn a_payment_used_first_by_someone_else_is_delivered_behind_a_provider_that_caps_log_ranges() {
    let chain = TestChain::start().await;
    for _ in 0..6 {
        chain.mine(200).await;
    }
    let (url, _proxy) = start_capped(&chain.url, 1_000).await;
    let m = Market::on(chain, 1, move |config| {
        config.payments.rpc_url = Some(Secret::new(url));
        config.payments.sweep_interval_seconds = 1;
    })
    .await;
    // The server's clock at the chain's time (anvil's mined blocks moved the chain ahead).
    let ahead = m.chain.now().await as i64 - m.now() as i64;
    if ahead > 0 {
        m.app.clock.advance_secs(ahead);
    }

    let c = m.challenge(6.0).await;
    let auth = authorization(&m.payer, &c.accepted, m.now());
    let header = payment_header(&m.payer, &c.accepted, &auth);
    let signature = sign_authorization(&m.payer, &domain_from_requirements_v2(&c.accepted).unwrap(), &auth).unwrap();
    let (_, someone) = m.chain.account(2);
    let data = x402::calldata::transfer_with_authorization(&auth, &signature);
    let theirs = m.chain.client().send_call(&someone, m.chain.usdc(), data).await.unwrap();
    let mined = m.chain.client().wait_for_receipt(theirs, 1, Duration::from_secs(10)).await.unwrap().unwrap();
    assert!(mined.success);
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(6.0), "the payer's 6 USDC are at payTo");

    let mut answers = Vec::new();
    for _ in 0..3 {
        let (status, response, _) = m.pay(6.0, (HEADER_PAYMENT_SIGNATURE, &header)).await;
        if status == StatusCode::CREATED {
            break;
        }
        answers.push(format!("{status} {}", response["error"]));
        m.app.clock.advance_secs(60);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert_eq!(
        m.credits().await,
        6.0,
        "the payer's 6 USDC reached payTo through this authorization; answers {answers:?}, the order is {}",
        m.order_status(&c.order_id).await
    );
}
