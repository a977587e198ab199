//! Buying a domain (SPEC §6.1, §5.2) in dev payment mode with the simulated registrar: priced
//! and checked before the 402, paid, ordered, and followed until the registrar's order
//! completes (the domain `active`) or fails (the domain `failed` and the payment refunded once).

use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;

use crate::helpers::{As, TestApp, TestKey, assert_error, spawn_app, spawn_app_with};
use crate::market::until;
use crate::pay::{challenge, pay_header, send, wallet};

const PATH: &str = "/api/vercel/register";

fn now_secs(app: &TestApp) -> u64 {
    (otonix::Clock::now_ms(app.clock.as_ref()) / 1000) as u64
}

/// Buys `body` with a fresh wallet; returns the 201 body.
pub async fn buy(app: &TestApp, key: &TestKey, body: &Value) -> Value {
    let c = challenge(app, key, PATH, body).await;
    let header = pay_header(&wallet(), &c, now_secs(app));
    let (status, paid, _) = send(app, key, PATH, body, Some((HEADER_PAYMENT_SIGNATURE, header.as_str()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    paid
}

/// The domain record once it is no longer pending (the registrar's order ended).
pub async fn settled(app: &TestApp, key: &TestKey, id: &str) -> Value {
    app.clock.advance_secs(3);
    let mut domain = Value::Null;
    let ended = until(10, async || {
        domain = app.get(&format!("/api/domains/{id}"), As::Key(key)).await.1;
        domain["status"] != "pending"
    })
    .await;
    assert!(ended, "the registrar's order was not followed: {domain}");
    domain
}

#[tokio::test]
async fn a_paid_domain_is_ordered_pending_then_active_with_its_dates() {
    let app = spawn_app_with(|c| c.providers.vercel.markup_percent = 20).await;
    let key = app.create_key("registrant").await;
    let agent = app.agent_id(&key, "web").await;
    let body = json!({ "domain": "Agent-Home.com", "years": 2, "agentId": agent });

    let c = challenge(&app, &key, PATH, &body).await;
    assert_eq!(c.body["amount"], "27000000", "22.50 USD for two years, plus 20 %: {}", c.body);
    let paid = buy(&app, &key, &body).await;
    assert_eq!(paid["success"], true);
    assert_eq!((&paid["domain"]["name"], &paid["domain"]["status"]), (&json!("agent-home.com"), &json!("pending")));
    assert_eq!(paid["domain"]["agentId"], agent);
    assert_eq!(paid["registrarOrder"]["status"], "purchasing");
    assert!(paid["registrarOrder"]["id"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(paid["receipt"]["scheme"], "exact", "{paid}");

    // Sold: nobody else can buy it, and it is no longer available.
    let (_, check) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "agent-home.com" })).await;
    assert_eq!(check["available"], false);

    let domain = settled(&app, &key, paid["domain"]["id"].as_str().unwrap()).await;
    assert_eq!(domain["status"], "active", "{domain}");
    let registered = chrono::DateTime::parse_from_rfc3339(domain["registeredAt"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(domain["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!((expires - registered).num_days(), 730, "two years");

    // Booked as a domain purchase for the agent, and told to the agent.
    let transactions = app.get(&format!("/api/transactions?agentId={agent}"), As::Key(&key)).await.1;
    let booked = transactions.as_array().unwrap().iter().find(|t| t["metadata"]["category"] == "domain");
    let booked = booked.unwrap_or_else(|| panic!("no domain transaction: {transactions}"));
    assert_eq!((&booked["type"], &booked["amount"]), (&json!("debit"), &json!(27)));
    let actions = app.get(&format!("/api/agents/{agent}/actions"), As::Key(&key)).await.1;
    assert!(actions.to_string().contains("domain agent-home.com registered"), "{actions}");

    // Its status follows the registrar: its owner cannot set it.
    let path = format!("/api/domains/{}", domain["id"].as_str().unwrap());
    let (status, body) =
        app.call(reqwest::Method::PATCH, &path, As::Key(&key), Some(json!({ "status": "failed" }))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn a_registrar_order_that_fails_leaves_the_domain_failed_and_refunds_once() {
    let app = spawn_app().await;
    let key = app.create_key("unlucky").await;
    let paid = buy(&app, &key, &json!({ "domain": "fails-upstream.com" })).await;
    let domain = settled(&app, &key, paid["domain"]["id"].as_str().unwrap()).await;
    assert_eq!(domain["status"], "failed", "{domain}");
    let order_id = paid["receipt"]["orderId"].as_str().unwrap_or_else(|| panic!("no order id in {paid}"));
    let transactions = app.get("/api/transactions", As::Key(&key)).await.1;
    let refunds: Vec<&Value> =
        transactions.as_array().unwrap().iter().filter(|t| t["metadata"]["category"] == "refund").collect();
    assert_eq!(refunds.len(), 1, "one refund: {transactions}");
    assert_eq!(refunds[0]["amount"], json!(11.25));
    assert_eq!(refunds[0]["metadata"]["orderId"], order_id);
    // The name is free again, for anyone to buy.
    let (_, check) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "fails-upstream.com" })).await;
    assert_eq!(check["available"], true, "{check}");
    challenge(&app, &key, PATH, &json!({ "domain": "fails-upstream.com" })).await;
    // Its owner cannot bring the failed record back while another one holds the name.
    let other = app.create_key("other").await;
    let (status, _) = app.post("/api/domains", As::Key(&other), json!({ "name": "fails-upstream.com" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/domains/{}", paid["domain"]["id"].as_str().unwrap());
    let (status, body) =
        app.call(reqwest::Method::PATCH, &path, As::Key(&key), Some(json!({ "status": "active" }))).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    // Looking again never refunds twice.
    app.clock.advance_secs(3);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let transactions = app.get("/api/transactions", As::Key(&key)).await.1;
    let refunds = transactions.as_array().unwrap().iter().filter(|t| t["metadata"]["category"] == "refund").count();
    assert_eq!(refunds, 1);
}

#[tokio::test]
async fn what_cannot_be_bought_is_refused_before_any_payment() {
    let app = spawn_app().await;
    let key = app.create_key("careful").await;
    let other = app.create_key("other").await;
    let others_agent = app.agent_id(&other, "theirs").await;
    let cases = [
        (json!({ "domain": "google.com" }), StatusCode::CONFLICT, "conflict"),
        (json!({ "domain": "fresh.museum" }), StatusCode::BAD_REQUEST, "validation_failed"),
        (json!({ "domain": "fresh-name.com", "years": 0 }), StatusCode::BAD_REQUEST, "validation_failed"),
        (json!({}), StatusCode::BAD_REQUEST, "validation_failed"),
        (json!({ "domain": "fresh-name.com", "agentId": others_agent }), StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (body, status, code) in cases {
        let (got, answer, _) = send(&app, &key, PATH, &body, None).await;
        assert_error(got, &answer, status, code);
    }
    let (status, answer) = app.post(PATH, As::Anonymous, json!({ "domain": "fresh-name.com" })).await;
    assert_error(status, &answer, StatusCode::UNAUTHORIZED, "unauthenticated");

    // A name bought once cannot be bought again, even by its owner.
    buy(&app, &key, &json!({ "domain": "only-once.dev" })).await;
    let (status, answer, _) = send(&app, &key, PATH, &json!({ "domain": "only-once.dev" }), None).await;
    assert_error(status, &answer, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn a_registrar_switched_off_takes_no_order() {
    let app = spawn_app_with(|c| c.providers.vercel.mode = otonix::config::ProviderMode::Off).await;
    let key = app.create_key("early").await;
    let (status, answer, _) = send(&app, &key, PATH, &json!({ "domain": "fresh-name.com" }), None).await;
    assert_error(status, &answer, StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured");
}
