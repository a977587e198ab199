//! The payer against a fake x402 endpoint (wiremock on 127.0.0.1): EIP-3009 payments verified
//! with `x402::verify_exact`, identical retries, pending answers, refusals, and the client's
//! typed helpers.

mod common;

use std::sync::Mutex;

use alloy_signer_local::PrivateKeySigner;
use common::{PaidEndpoint, challenge, json_body, offer, refused};
use otonix_client::{Client, ClientError, Method, PayError, Payer, ProofKind};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use x402::TokenDomain;

const PATH: &str = "/api/agents/a1/credits";

async fn paid_endpoint(header: bool, pending: u32, body: &Value) -> MockServer {
    let server = MockServer::start().await;
    let endpoint = PaidEndpoint {
        offer: offer(TokenDomain::base_usdc(), 5_000_000),
        header,
        pending: Mutex::new(pending),
        expected_body: serde_json::to_vec(body).expect("JSON"),
    };
    Mock::given(method("POST")).and(path(PATH)).respond_with(endpoint).mount(&server).await;
    server
}

#[tokio::test]
async fn pays_a_v2_challenge_and_retries_the_identical_request() {
    let body = json!({ "amount": 5, "note": "top up", "nested": { "b": 1, "a": [1, 2] } });
    let server = paid_endpoint(true, 0, &body).await;
    let client = Client::new(server.uri()).with_api_key("otx_test_key");
    let signer = PrivateKeySigner::random();
    let payer = Payer::new(signer.clone(), None);

    let paid = payer.pay(&client, Method::POST, PATH, Some(body.clone()), ProofKind::Eip3009).await.expect("paid");
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert!(paid.is_success());
    assert_eq!(paid.receipt.as_ref().map(|r| r["scheme"].clone()), Some(json!("exact")));
    let settlement = paid.payment_response.expect("PAYMENT-RESPONSE decoded");
    assert_eq!(settlement["success"], true);
    assert_eq!(settlement["payer"], signer.address().to_checksum(None));
    let payment = paid.payment.expect("a payment");
    assert_eq!(
        (payment.kind, payment.header.as_str(), payment.tx_hash),
        (ProofKind::Eip3009, "PAYMENT-SIGNATURE", None)
    );

    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body, "the retry carries the identical body bytes");
    assert_eq!(json_body(&requests[0]), body);
    assert!(requests[0].headers.get("payment-signature").is_none());
    assert_eq!(
        requests[1].headers.get("payment-signature").map(|v| v.to_str().ok()),
        Some(Some(payment.value.as_str()))
    );
    for request in &requests {
        assert_eq!(request.headers.get("x-api-key").and_then(|v| v.to_str().ok()), Some("otx_test_key"));
        assert_eq!(request.method.as_str(), "POST");
        assert_eq!(request.url.path(), PATH);
    }
}

#[tokio::test]
async fn pays_from_the_body_when_there_is_no_header() {
    let body = json!({ "amount": 5 });
    let server = paid_endpoint(false, 0, &body).await;
    let payer = Payer::new(PrivateKeySigner::random(), None);
    let paid = payer.pay(&Client::new(server.uri()), Method::POST, PATH, Some(body), ProofKind::Eip3009).await;
    assert_eq!(paid.expect("paid").status, 201);
}

#[tokio::test]
async fn pending_answers_are_retried_with_the_same_payment() {
    let body = json!({ "amount": 5 });
    let server = paid_endpoint(true, 2, &body).await;
    let payer = Payer::new(PrivateKeySigner::random(), None);
    let paid = payer.pay(&Client::new(server.uri()), Method::POST, PATH, Some(body), ProofKind::Eip3009).await;
    let paid = paid.expect("paid");
    assert_eq!(paid.status, 201);
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 4, "challenge, two pending, delivered");
    let presented: Vec<_> = requests[1..].iter().map(|r| r.headers.get("payment-signature").cloned()).collect();
    assert!(presented.iter().all(|p| *p == presented[0] && p.is_some()), "one payment, presented three times");
}

#[tokio::test]
async fn a_refused_payment_is_never_replaced_by_another() {
    let server = MockServer::start().await;
    let offer = offer(TokenDomain::base_usdc(), 1_000);
    Mock::given(method("POST"))
        .respond_with(move |request: &wiremock::Request| {
            if request.headers.contains_key("payment-signature") {
                refused("payment_invalid", None)
            } else {
                challenge(&offer, true)
            }
        })
        .mount(&server)
        .await;
    let payer = Payer::new(PrivateKeySigner::random(), None);
    let paid = payer.pay(&Client::new(server.uri()), Method::POST, PATH, None, ProofKind::Eip3009).await;
    let paid = paid.expect("an answer");
    assert_eq!((paid.status, paid.body["error"].as_str()), (402, Some("payment_invalid")));
    assert!(paid.payment.is_some());
    assert_eq!(server.received_requests().await.expect("recorded").len(), 2, "no second payment");
}

#[tokio::test]
async fn other_answers_are_returned_as_they_are() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "error": "not_found", "message": "no" })))
        .mount(&server)
        .await;
    let payer = Payer::new(PrivateKeySigner::random(), None);
    let paid = payer.pay(&Client::new(server.uri()), Method::GET, "/x", None, ProofKind::Eip3009).await;
    let paid = paid.expect("an answer");
    assert_eq!((paid.status, paid.payment.is_none(), paid.receipt.is_none()), (404, true, true));
}

#[tokio::test]
async fn unusable_challenges_and_missing_rpc_pay_nothing() {
    let server = MockServer::start().await;
    Mock::given(path("/empty")).respond_with(ResponseTemplate::new(402)).mount(&server).await;
    let offer = offer(TokenDomain::base_usdc(), 1_000);
    Mock::given(path("/paid")).respond_with(challenge(&offer, true)).mount(&server).await;
    let client = Client::new(server.uri());
    let payer = Payer::new(PrivateKeySigner::random(), None);
    let error = payer.pay(&client, Method::POST, "/empty", None, ProofKind::Eip3009).await.expect_err("unusable");
    assert!(matches!(error, PayError::Challenge(_)), "{error:?}");
    let error = payer.pay(&client, Method::POST, "/paid", None, ProofKind::TxHash).await.expect_err("no RPC");
    assert!(matches!(error, PayError::NoRpc), "{error:?}");
    assert_eq!(server.received_requests().await.expect("recorded").len(), 2, "one request each, no retry");
}

#[tokio::test]
async fn typed_helpers_send_credentials_and_report_api_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/api/keys/generate"))
        .and(header("x-dashboard-token", "admin-secret"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "id": "k1", "key": "otx_abc" })))
        .mount(&server)
        .await;
    Mock::given(path("/api/agents/a1/heartbeat"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({ "error": "not_found", "message": "agent not found" })),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/agents/a1/actions"))
        .respond_with(|request: &wiremock::Request| ResponseTemplate::new(201).set_body_json(json_body(request)))
        .mount(&server)
        .await;
    let admin = Client::new(format!("{}/", server.uri())).with_admin_token("admin-secret");
    assert_eq!(admin.generate_key("k").await.expect("generated")["key"], "otx_abc");
    assert!(!format!("{admin:?}").contains("admin-secret"));
    let client = Client::new(server.uri()).with_api_key("otx_abc");
    let error = client.heartbeat("a1").await.expect_err("404");
    assert_eq!(error, ClientError::Api { status: 404, code: "not_found".into(), message: "agent not found".into() });
    let action = client.log_action("a1", "Deployed", "deploy").await.expect("logged");
    assert_eq!(action, json!({ "action": "Deployed", "category": "deploy" }));
    let response = client.request(Method::GET, "/nothing", None).await.expect("an answer");
    assert_eq!((response.status, response.body.clone()), (404, Value::Null));
}

#[tokio::test]
async fn pays_a_v1_challenge_with_x_payment() {
    let server = MockServer::start().await;
    let offer = offer(TokenDomain::base_usdc(), 10_000);
    Mock::given(method("GET"))
        .respond_with(move |request: &wiremock::Request| {
            let Some(value) = request.headers.get("x-payment").and_then(|v| v.to_str().ok()) else {
                let accepts = [offer.requirements_v1("http://127.0.0.1/thing", "a thing", None)];
                let body = json!({ "x402Version": 1, "error": "X-PAYMENT header is required", "accepts": accepts });
                return ResponseTemplate::new(402).set_body_json(body);
            };
            match x402::decode_payment_header(value) {
                Ok(x402::IncomingPayment::Exact(payment)) if payment.x402_version() == 1 => {
                    match x402::verify_exact(&payment, &offer, common::now()) {
                        Ok(_) => ResponseTemplate::new(200).set_body_json(json!({ "thing": 1 })),
                        Err(rejection) => refused(rejection.code(), None),
                    }
                }
                _ => refused("payment_invalid", None),
            }
        })
        .mount(&server)
        .await;
    let payer = Payer::new(PrivateKeySigner::random(), None);
    let paid = payer.pay(&Client::new(server.uri()), Method::GET, "/thing", None, ProofKind::Eip3009).await;
    let paid = paid.expect("paid");
    assert_eq!((paid.status, paid.body.clone()), (200, json!({ "thing": 1 })));
    assert_eq!(paid.payment.map(|p| p.header), Some("X-PAYMENT".to_owned()));
}

#[tokio::test]
async fn an_unanswered_payment_is_handed_back_not_replaced() {
    let server = MockServer::start().await;
    let offer = offer(TokenDomain::base_usdc(), 1_000);
    Mock::given(method("POST"))
        .respond_with(move |request: &wiremock::Request| {
            if request.headers.contains_key("payment-signature") {
                ResponseTemplate::new(201).set_delay(std::time::Duration::from_secs(2))
            } else {
                challenge(&offer, true)
            }
        })
        .mount(&server)
        .await;
    let client = Client::new(server.uri()).with_timeout(std::time::Duration::from_millis(300));
    let options = otonix_client::PayOptions { transient_retries: 1, ..Default::default() };
    let payer = Payer::new(PrivateKeySigner::random(), None).with_options(options);
    let error = payer.pay(&client, Method::POST, PATH, None, ProofKind::Eip3009).await.expect_err("timeouts");
    let PayError::Unfinished { payment, reason } = error else { panic!("{error:?}") };
    assert!(reason.contains("timed out"), "{reason}");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 3, "the challenge, then the same payment twice");
    for request in &requests[1..] {
        assert_eq!(
            request.headers.get(payment.header.as_str()).and_then(|v| v.to_str().ok()),
            Some(payment.value.as_str())
        );
    }
    assert!(!format!("{payment:?}").contains(&payment.value), "Debug hides the payment");
}
