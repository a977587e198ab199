//! x402 payments in `facilitator` mode against a local fake facilitator: `/verify` then
//! `/settle`, requiring `isValid` and `success`; a settlement that times out is pending.

use otonix::config::PaymentMode;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use x402::constants::HEADER_PAYMENT_SIGNATURE;

use crate::helpers::{TestApp, TestKey, spawn_app_with};
use crate::pay::{challenge, credits_path, pay_header, send, top_up, wallet};

const SETTLED_TX: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

async fn market(facilitator: &MockServer) -> (TestApp, TestKey, String) {
    let url = facilitator.uri();
    let app = spawn_app_with(move |config| {
        config.payments.mode = PaymentMode::Facilitator;
        config.providers.vercel.mode = otonix::config::ProviderMode::Off;
        config.providers.cherry.mode = otonix::config::ProviderMode::Off;
        config.payments.facilitator_url = Some(url);
        // No chain to read: transfer proofs off (they would need payments.rpcUrl).
        config.payments.transfer_proofs = false;
        config.payments.settlement_timeout_seconds = 1;
    })
    .await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    (app, key, agent)
}

async fn answer(server: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(method("POST")).and(path(route)).respond_with(response).mount(server).await;
}

async fn credits(app: &TestApp, key: &TestKey, agent: &str) -> f64 {
    app.agent(key, agent).await["credits"].as_f64().unwrap()
}

#[tokio::test]
async fn the_facilitator_verifies_and_settles_the_payment() {
    let facilitator = MockServer::start().await;
    answer(&facilitator, "/verify", ResponseTemplate::new(200).set_body_json(json!({ "isValid": true }))).await;
    let settled = json!({ "success": true, "transaction": SETTLED_TX, "network": "eip155:8453" });
    answer(&facilitator, "/settle", ResponseTemplate::new(200).set_body_json(settled)).await;
    let (app, key, agent) = market(&facilitator).await;
    let (status, config) = app.get("/api/x402/config", crate::helpers::As::Anonymous).await;
    assert_eq!((status, config["mode"].as_str()), (StatusCode::OK, Some("facilitator")));

    let c = challenge(&app, &key, &credits_path(&agent), &top_up(8.0)).await;
    let header = pay_header(&wallet(), &c, (otonix::Clock::now_ms(app.clock.as_ref()) / 1000) as u64);
    let (status, paid, _) =
        send(&app, &key, &credits_path(&agent), &top_up(8.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["receipt"]["txHash"], SETTLED_TX);
    assert_eq!(credits(&app, &key, &agent).await, 8.0);

    // The facilitator saw our payload and our requirements (with the order id), verify first.
    let requests = facilitator.received_requests().await.unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, vec!["/verify", "/settle"]);
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(sent["x402Version"], 2);
    assert_eq!(sent["paymentRequirements"]["extra"]["orderId"], c.order_id);
    assert_eq!(sent["paymentRequirements"]["amount"], "8000000");
    assert_eq!(sent["paymentPayload"]["accepted"], c.body["accepts"][0]);
}

#[tokio::test]
async fn an_invalid_or_failed_facilitator_answer_charges_nothing() {
    for (verify, settle, reason) in [
        (json!({ "isValid": false, "invalidReason": "insufficient_funds" }), json!({}), "insufficient_funds"),
        // HTTP 200 with success: false is a failure (x402 issue #222).
        (
            json!({ "isValid": true }),
            json!({ "success": false, "errorReason": "invalid_transaction_state", "transaction": "" }),
            "invalid_transaction_state",
        ),
    ] {
        let facilitator = MockServer::start().await;
        answer(&facilitator, "/verify", ResponseTemplate::new(200).set_body_json(verify)).await;
        answer(&facilitator, "/settle", ResponseTemplate::new(200).set_body_json(settle)).await;
        let (app, key, agent) = market(&facilitator).await;
        let c = challenge(&app, &key, &credits_path(&agent), &top_up(8.0)).await;
        let header = pay_header(&wallet(), &c, (otonix::Clock::now_ms(app.clock.as_ref()) / 1000) as u64);
        let (status, response, _) =
            send(&app, &key, &credits_path(&agent), &top_up(8.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
        assert_eq!(
            (status, response["error"].as_str()),
            (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid")),
            "{response}"
        );
        assert!(response["message"].as_str().unwrap().contains(reason), "{response}");
        assert_eq!(credits(&app, &key, &agent).await, 0.0);
    }
}

#[tokio::test]
async fn a_settlement_that_times_out_is_pending_not_failed() {
    let facilitator = MockServer::start().await;
    answer(&facilitator, "/verify", ResponseTemplate::new(200).set_body_json(json!({ "isValid": true }))).await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!({ "success": true, "transaction": SETTLED_TX }))
        .set_delay(std::time::Duration::from_secs(3));
    answer(&facilitator, "/settle", slow).await;
    let (app, key, agent) = market(&facilitator).await;
    let c = challenge(&app, &key, &credits_path(&agent), &top_up(8.0)).await;
    let header = pay_header(&wallet(), &c, (otonix::Clock::now_ms(app.clock.as_ref()) / 1000) as u64);
    let (status, response, headers) =
        send(&app, &key, &credits_path(&agent), &top_up(8.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_pending")),
        "{response}"
    );
    assert!(headers.contains_key("retry-after"));
    assert_eq!(credits(&app, &key, &agent).await, 0.0);
    // The same payment again: still pending (the outcome is unknown, so nothing is charged twice).
    let (status, response, _) =
        send(&app, &key, &credits_path(&agent), &top_up(8.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    assert_eq!(
        (status, response["error"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_pending")),
        "{response}"
    );
    let settles = facilitator.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/settle").count();
    assert_eq!(settles, 1, "the unknown settlement is not sent again");
}

/// Pays a top-up of 8 through a facilitator that answers `/verify` and `/settle` so.
async fn pay_through(
    verify: ResponseTemplate,
    settle: ResponseTemplate,
) -> (TestApp, TestKey, String, StatusCode, Value) {
    let facilitator = MockServer::start().await;
    answer(&facilitator, "/verify", verify).await;
    answer(&facilitator, "/settle", settle).await;
    let (app, key, agent) = market(&facilitator).await;
    let c = challenge(&app, &key, &credits_path(&agent), &top_up(8.0)).await;
    let header = pay_header(&wallet(), &c, (otonix::Clock::now_ms(app.clock.as_ref()) / 1000) as u64);
    let (status, response, _) =
        send(&app, &key, &credits_path(&agent), &top_up(8.0), Some((HEADER_PAYMENT_SIGNATURE, &header))).await;
    (app, key, agent, status, response)
}

#[tokio::test]
async fn a_definite_refusal_of_the_settlement_is_a_failure_that_releases_the_order() {
    let ok = ResponseTemplate::new(200).set_body_json(json!({ "isValid": true }));
    let refused = ResponseTemplate::new(400)
        .set_body_json(json!({ "success": false, "errorReason": "invalid_exact_evm_payload_signature" }));
    let (app, key, agent, status, response) = pay_through(ok, refused).await;
    assert_eq!(
        (status, response["error"].as_str(), response["details"]["reason"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid"), Some("settlement_failed")),
        "{response}"
    );
    assert!(response["message"].as_str().unwrap().contains("invalid_exact_evm_payload_signature"), "{response}");
    assert_eq!(credits(&app, &key, &agent).await, 0.0);
}

#[tokio::test]
async fn the_facilitators_own_words_are_never_shown_to_the_client() {
    let secret = "stack trace at /srv/facilitator/internal.rs with token sk_live_123";
    for (verify, settle) in [
        (ResponseTemplate::new(500).set_body_string(secret), ResponseTemplate::new(200)),
        (
            ResponseTemplate::new(200).set_body_json(json!({ "isValid": false, "invalidReason": secret })),
            ResponseTemplate::new(200),
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({ "isValid": true })),
            ResponseTemplate::new(422).set_body_json(json!({ "errorReason": secret, "errorMessage": secret })),
        ),
    ] {
        let (_, _, _, status, response) = pay_through(verify, settle).await;
        assert!(status.is_client_error() || status.is_server_error(), "{status} {response}");
        assert!(!response.to_string().contains("sk_live_123"), "{response}");
        assert!(!response.to_string().contains("/srv/facilitator"), "{response}");
    }
}
