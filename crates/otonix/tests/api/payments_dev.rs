//! x402 payments in `dev` mode (the zero-config default): every check is real, settlement is
//! recorded locally. Credit top-ups end to end, every rejection, replays and concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::{HEADER_PAYMENT_SIGNATURE, HEADER_X_PAYMENT};

use crate::helpers::{As, TestApp, TestKey, spawn_app};
use crate::pay::{
    Challenge, authorization, challenge, credits_path, decode, pay_header, payment_header, send, top_up, wallet,
};

fn now_secs(app: &TestApp) -> u64 {
    (otonix::Clock::now_ms(app.clock.as_ref()) / 1000) as u64
}

async fn credits(app: &TestApp, key: &TestKey, agent: &str) -> f64 {
    app.agent(key, agent).await["credits"].as_f64().unwrap()
}

#[tokio::test]
async fn a_top_up_is_challenged_paid_delivered_and_replayed() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    let path = credits_path(&agent);
    let body = top_up(25.0);

    let c = challenge(&app, &key, &path, &body).await;
    let b = &c.body;
    assert_eq!(b["x402Version"], 2);
    assert_eq!(b["error"], "payment_required");
    assert!(c.order_id.len() == 32 && c.order_id.bytes().all(|x| x.is_ascii_hexdigit() && !x.is_ascii_uppercase()));
    assert_eq!(
        (b["amountUSDC"].as_f64(), b["maxAmountRequired"].as_str(), b["amount"].as_str()),
        (Some(25.0), Some("25000000"), Some("25000000"))
    );
    assert_eq!(
        (b["currency"].as_str(), b["network"].as_str(), b["chainId"].as_u64()),
        (Some("USDC"), Some("eip155:402402402"), Some(402402402))
    );
    assert_eq!(b["asset"], "0x0000000000000000000000000000000000000402", "dev mode's token, on no real chain");
    assert_eq!(b["payTo"], "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F");
    assert!(b["expiresAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(b["resource"]["method"], "POST");
    assert!(b["resource"]["url"].as_str().unwrap().ends_with(&path));
    assert_eq!(b["resource"]["mimeType"], "application/json");
    let accepted = &b["accepts"][0];
    assert_eq!((accepted["scheme"].as_str(), accepted["amount"].as_str()), (Some("exact"), Some("25000000")));
    assert_eq!(accepted["extra"], json!({ "name": "Otonix Dev USD", "version": "1", "orderId": c.order_id }));
    let required = decode(&c.headers, "payment-required");
    assert_eq!(
        required,
        json!({ "x402Version": 2, "error": "payment_required", "resource": b["resource"], "accepts": b["accepts"], "extensions": {} })
    );
    assert_eq!(&decode(&c.headers, "x-payment-required"), b);

    let payer = wallet();
    let header = pay_header(&payer, &c, now_secs(&app));
    let (status, paid, headers) = send(&app, &key, &path, &body, Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["success"], true);
    assert_eq!(paid["agent"]["credits"], 25);
    assert_eq!(paid["agent"]["survivalTier"], "conservation");
    let receipt = &paid["receipt"];
    assert_eq!(receipt["orderId"], c.order_id);
    assert_eq!(receipt["payer"], payer.address().to_checksum(None));
    assert_eq!((receipt["amount"].as_str(), receipt["amountUSDC"].as_f64()), (Some("25000000"), Some(25.0)));
    assert_eq!(
        (receipt["scheme"].as_str(), receipt["resource"].as_str()),
        (Some("exact"), Some("POST /api/agents/:id/credits"))
    );
    assert_eq!(
        (receipt["network"].as_str(), receipt["payTo"].as_str()),
        (Some("eip155:402402402"), b["payTo"].as_str())
    );
    let tx_hash = receipt["txHash"].as_str().unwrap();
    assert_eq!(tx_hash.len(), 66);
    for name in ["payment-response", "x-payment-response"] {
        let settlement = decode(&headers, name);
        assert_eq!(
            settlement,
            json!({ "success": true, "transaction": tx_hash, "network": "eip155:402402402", "payer": receipt["payer"] })
        );
    }
    assert_eq!(credits(&app, &key, &agent).await, 25.0);
    let (_, books) = app.get(&format!("/api/transactions?agentId={agent}"), As::Key(&key)).await;
    let credit = &books[0];
    assert_eq!(
        (credit["type"].as_str(), credit["amount"].as_f64(), credit["txHash"].as_str()),
        (Some("credit"), Some(25.0), Some(tx_hash))
    );
    assert_eq!(credit["metadata"]["protocol"], "x402");
    assert_eq!(credit["metadata"]["chainId"], 402402402);
    assert_eq!(credit["metadata"]["orderId"], c.order_id);
    assert_eq!(credit["metadata"]["category"], "credits");

    // The same request with the same payment: the stored 201 again, nothing charged or credited twice.
    let (status, replay, headers) = send(&app, &key, &path, &body, Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["idempotent-replay"], "true");
    assert_eq!(replay, paid);
    assert_eq!(credits(&app, &key, &agent).await, 25.0);
    // The v1 header name works for v2 payloads too.
    let (status, _, _) = send(&app, &key, &path, &body, Some((HEADER_X_PAYMENT, &header))).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_config_endpoint_reports_dev_mode_on_a_chain_no_real_chain_has() {
    let app = spawn_app().await;
    let (status, config) = app.get("/api/x402/config", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["mode"], "dev");
    assert_eq!(config["x402Version"], 2);
    // A signature made for a dev-mode server is never a valid authorization on Base (8453).
    assert_eq!((config["network"].as_str(), config["chainId"].as_u64()), (Some("eip155:402402402"), Some(402402402)));
    assert_eq!(config["asset"], "0x0000000000000000000000000000000000000402");
    assert_eq!(config["assetName"], "Otonix Dev USD");
    assert_eq!(config["orderTtlSeconds"], 900);
    assert_eq!(config["maxTimeoutSeconds"], 300);
    assert_eq!(config["amountTolerance"], 0.99);
    assert_eq!(config["confirmations"], 2);
    assert_eq!(config["proofs"], json!(["eip3009"]));
}

async fn assert_refused(
    app: &TestApp,
    key: &TestKey,
    agent: &str,
    body: &Value,
    header: &str,
    status: StatusCode,
    code: &str,
) {
    let (got, response, _) = send(app, key, &credits_path(agent), body, Some((HEADER_PAYMENT_SIGNATURE, header))).await;
    assert_eq!((got, response["error"].as_str()), (status, Some(code)), "{response}");
    assert_eq!(credits(app, key, agent).await, 0.0, "nothing credited");
}

#[tokio::test]
async fn payments_that_do_not_pay_for_this_order_are_refused() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    let body = top_up(10.0);
    let c = challenge(&app, &key, &credits_path(&agent), &body).await;
    let payer = wallet();
    let now = now_secs(&app);
    let pay = |edit: &dyn Fn(&mut x402::eip712::Authorization)| {
        let mut auth = authorization(&payer, &c.accepted, now);
        edit(&mut auth);
        payment_header(&payer, &c.accepted, &auth)
    };
    let invalid = StatusCode::PAYMENT_REQUIRED;
    assert_refused(
        &app,
        &key,
        &agent,
        &body,
        &pay(&|a| a.value += alloy_primitives::U256::from(1)),
        invalid,
        "payment_invalid",
    )
    .await;
    assert_refused(
        &app,
        &key,
        &agent,
        &body,
        &pay(&|a| a.value -= alloy_primitives::U256::from(1)),
        invalid,
        "payment_invalid",
    )
    .await;
    assert_refused(&app, &key, &agent, &body, &pay(&|a| a.to = wallet().address()), invalid, "payment_invalid").await;
    let t = |s: u64| alloy_primitives::U256::from(s);
    assert_refused(
        &app,
        &key,
        &agent,
        &body,
        &pay(&|a| a.valid_before = t(now + 300 + 61)),
        invalid,
        "payment_invalid",
    )
    .await;
    assert_refused(&app, &key, &agent, &body, &pay(&|a| a.valid_before = t(now + 5)), invalid, "payment_invalid").await;
    assert_refused(&app, &key, &agent, &body, &pay(&|a| a.valid_after = t(now + 1)), invalid, "payment_invalid").await;
    // The accepted terms echoed with another network or asset.
    for (field, value) in [("network", "eip155:84532"), ("asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e")] {
        let mut accepted = c.accepted.clone();
        match field {
            "network" => accepted.network = value.into(),
            _ => accepted.asset = value.into(),
        }
        let header = payment_header(&payer, &accepted, &authorization(&payer, &accepted, now));
        assert_refused(&app, &key, &agent, &body, &header, invalid, "payment_invalid").await;
    }
    // Signed by another key than `from`.
    let stranger = wallet();
    let auth = authorization(&payer, &c.accepted, now);
    assert_refused(
        &app,
        &key,
        &agent,
        &body,
        &payment_header(&stranger, &c.accepted, &auth),
        invalid,
        "payment_invalid",
    )
    .await;
    // A high-s twin of a valid signature (same signer, malleated): USDC would revert it.
    let good = payment_header(&payer, &c.accepted, &auth);
    assert_refused(&app, &key, &agent, &body, &malleate(&good), invalid, "payment_invalid").await;
    // Undecodable headers.
    assert_refused(&app, &key, &agent, &body, "not base64!", StatusCode::BAD_REQUEST, "invalid_payment_header").await;
    // Finally the good one still works: nothing above consumed the order.
    let (status, paid, _) =
        send(&app, &key, &credits_path(&agent), &body, Some((HEADER_PAYMENT_SIGNATURE, &good))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
}

/// The same payment with `s` replaced by `n − s` and `v` flipped.
fn malleate(header: &str) -> String {
    let mut payload: Value = x402::decode_header(header).unwrap();
    let signature = payload["payload"]["signature"].as_str().unwrap();
    let bytes = hex::decode(&signature[2..]).unwrap();
    let n =
        alloy_primitives::U256::from_str_radix("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
            .unwrap();
    let s = alloy_primitives::U256::from_be_slice(&bytes[32..64]);
    let mut out = bytes[..32].to_vec();
    out.extend_from_slice(&(n - s).to_be_bytes::<32>());
    out.push(if bytes[64] == 27 { 28 } else { 27 });
    payload["payload"]["signature"] = json!(format!("0x{}", hex::encode(out)));
    x402::encode_header(&payload)
}

#[tokio::test]
async fn orders_are_bound_to_their_request_key_and_lifetime() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let other = app.create_key("other").await;
    let agent = app.agent_id(&key, "a").await;
    let body = top_up(10.0);
    let c = challenge(&app, &key, &credits_path(&agent), &body).await;
    let payer = wallet();
    let header = pay_header(&payer, &c, now_secs(&app));
    let path = credits_path(&agent);

    let (status, response, _) = send(&app, &other, &path, &body, Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid")),
        "another key"
    );
    let (status, response, _) = send(&app, &key, &path, &top_up(11.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid")),
        "another body"
    );

    // Re-serialized with keys in another order and spaces: the same canonical body.
    let same: Value = serde_json::from_str(r#"{ "amount" : 10.0 }"#).unwrap();
    let (status, paid, _) = send(&app, &key, &path, &same, Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");

    // An order left unpaid for 15 minutes expires.
    let late = challenge(&app, &key, &path, &body).await;
    app.clock.advance_secs(15 * 60 + 1);
    let header = pay_header(&payer, &late, now_secs(&app));
    let (status, response, _) = send(&app, &key, &path, &body, Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!((status, response["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("order_expired")));
}

#[tokio::test]
async fn an_authorization_pays_for_one_order_only() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    let path = credits_path(&agent);
    let first = challenge(&app, &key, &path, &top_up(10.0)).await;
    let payer = wallet();
    let auth = authorization(&payer, &first.accepted, now_secs(&app));
    let header = payment_header(&payer, &first.accepted, &auth);
    assert_eq!(
        send(&app, &key, &path, &top_up(10.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await.0,
        StatusCode::CREATED
    );
    // Another order of the same price, paid with the same authorization (same nonce).
    let second = challenge(&app, &key, &path, &top_up(10.0)).await;
    assert_ne!(first.order_id, second.order_id);
    let reused = payment_header(&payer, &second.accepted, &auth);
    let (status, response, _) = send(&app, &key, &path, &top_up(10.0), Some((HEADER_PAYMENT_SIGNATURE, &reused))).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_already_used")),
        "{response}"
    );
    assert_eq!(credits(&app, &key, &agent).await, 10.0);
}

#[tokio::test]
async fn twenty_simultaneous_requests_with_one_authorization_settle_once() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    let path = credits_path(&agent);
    let body = top_up(10.0);
    let c: Challenge = challenge(&app, &key, &path, &body).await;
    let header = pay_header(&wallet(), &c, now_secs(&app));
    let attempts = (0..20).map(|_| send(&app, &key, &path, &body, Some((HEADER_PAYMENT_SIGNATURE, &header))));
    let answers = futures::future::join_all(attempts).await;
    let delivered =
        answers.iter().filter(|(s, _, h)| *s == StatusCode::CREATED && !h.contains_key("idempotent-replay")).count();
    assert_eq!(delivered, 1, "{:?}", answers.iter().map(|(s, b, _)| (s, b["error"].clone())).collect::<Vec<_>>());
    for (status, body, _) in &answers {
        assert!(*status == StatusCode::CREATED || body["error"] == "payment_pending", "{status} {body}");
    }
    assert_eq!(credits(&app, &key, &agent).await, 10.0);
    let (_, books) = app.get(&format!("/api/transactions?agentId={agent}"), As::Key(&key)).await;
    assert_eq!(books.as_array().unwrap().len(), 1, "one transaction");
}

#[tokio::test]
async fn dev_mode_refuses_transfer_proofs_clearly() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    let body = top_up(10.0);
    let c = challenge(&app, &key, &credits_path(&agent), &body).await;
    let proof =
        json!({ "orderId": c.order_id, "txHash": format!("0x{}", "ab".repeat(32)), "payer": wallet().address() });
    let (status, response, _) =
        send(&app, &key, &credits_path(&agent), &body, Some(("X-Payment", &x402::encode_header(&proof)))).await;
    assert_eq!((status, response["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid")));
    assert!(response["message"].as_str().unwrap().contains("dev mode"), "{response}");
}

#[tokio::test]
async fn a_top_up_validates_before_asking_for_money() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    for (body, field) in [
        (json!({}), "amount"),
        (json!({ "amount": 0.001 }), "amount"),
        (json!({ "amount": 100_001 }), "amount"),
        (json!({ "amount": "5" }), "amount"),
    ] {
        let (status, response, _) = send(&app, &key, &credits_path(&agent), &body, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
        assert!(response["details"][field].is_string(), "{response}");
    }
    let (status, _, _) = send(&app, &key, &credits_path(&uuid::Uuid::new_v4().to_string()), &top_up(5.0), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post(&credits_path(&agent), As::Anonymous, top_up(5.0)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_top_up_addressed_with_an_upper_case_agent_id_is_delivered_to_that_agent() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    let path = credits_path(&agent.to_uppercase());
    let c = challenge(&app, &key, &path, &top_up(5.0)).await;
    let header = pay_header(&wallet(), &c, now_secs(&app));
    let (status, paid, _) = send(&app, &key, &path, &top_up(5.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["agent"]["id"], agent.as_str());
    assert_eq!(credits(&app, &key, &agent).await, 5.0);
}
