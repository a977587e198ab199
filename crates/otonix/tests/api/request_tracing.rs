//! One request can be followed in the JSON logs: the lines the payment engine and the store
//! write while serving it carry the request's `X-Request-Id` in their span list.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::wire::PaymentRequirementsV2;

use crate::helpers::test_config;
use crate::pay::{authorization, payment_header, wallet};
use crate::process::start_server;

#[tokio::test]
async fn a_paid_request_is_followed_through_the_engine_by_its_request_id() {
    let data_dir = tempfile::tempdir().unwrap();
    let (_, database) = test_config(data_dir.path());
    let admin = format!("admin-{}", uuid::Uuid::new_v4().simple());
    let server = start_server(data_dir.path(), &database, &admin).await;
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();
    let post = |path: &str| client.post(format!("{}{path}", server.base));

    let key = server.generate_key(&admin).await;
    let payer = wallet();
    let body = json!({ "name": "traced", "walletAddress": payer.address().to_checksum(None) });
    let registered = server.post_json("/api/agents/register", ("X-API-Key", &key), body).await;
    let path = format!("/api/agents/{}/credits", registered["agent"]["id"].as_str().unwrap());
    let challenge = post(&path).header("X-API-Key", &key).json(&json!({ "amount": 5 })).send().await.unwrap();
    assert_eq!(challenge.status(), StatusCode::PAYMENT_REQUIRED);
    let body: Value = challenge.json().await.unwrap();
    let accepted: PaymentRequirementsV2 = serde_json::from_value(body["accepts"][0].clone()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let header = payment_header(&payer, &accepted, &authorization(&payer, &accepted, now));
    let paid = post(&path)
        .header("X-API-Key", &key)
        .header("X-Request-Id", "follow-me-7")
        .header(HEADER_PAYMENT_SIGNATURE, header)
        .json(&json!({ "amount": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::CREATED);

    let settled = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let found = server.log.lock().unwrap().iter().find_map(|line| {
                let event: Value = serde_json::from_str(line).ok()?;
                (event["message"] == "payment settled").then_some(event)
            });
            match found {
                Some(event) => return event,
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("the settlement is logged");
    let spans = settled["spans"].as_array().expect("the line lists its spans");
    assert_eq!(spans[0]["request_id"], "follow-me-7", "{settled}");
    assert_eq!(spans[0]["route"], "/api/agents/{id}/credits");
    assert!(spans.iter().any(|span| span["name"] == "process"), "the engine's steps are spans: {settled}");
}
