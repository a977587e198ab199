//! Proof of wallet control (SPEC §4.2, §5.4 b 5): a generated wallet is verified; an address a
//! client merely sent is not, until its owner signs `otonix wallet <agentId> <walletAddress>`.

use reqwest::StatusCode;
use serde_json::json;
use x402::signer::{PrivateKeySigner, sign_wallet};

use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn a_generated_wallet_is_verified_and_a_sent_address_is_not() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let generated = app.register_agent(&key, json!({ "name": "g" })).await;
    assert_eq!(generated["walletVerified"], true, "{generated}");
    let sent =
        app.register_agent(&key, json!({ "name": "s", "walletAddress": PrivateKeySigner::random().address() })).await;
    assert_eq!(sent["walletVerified"], false, "{sent}");
    let (_, listed) = app.get("/api/agents", As::Anonymous).await;
    assert!(listed.as_array().unwrap().iter().all(|a| a["walletVerified"].is_boolean()), "{listed}");
}

#[tokio::test]
async fn the_owner_proves_control_of_a_wallet_with_its_signature() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let wallet = PrivateKeySigner::random();
    let agent = app.register_agent(&key, json!({ "name": "a", "walletAddress": wallet.address() })).await;
    let id = agent["id"].as_str().unwrap();
    let path = format!("/api/agents/{id}/wallet/verify");

    // Signed by another key, malformed or missing: refused, and the wallet stays unverified.
    let impostor = sign_wallet(&PrivateKeySigner::random(), id, wallet.address()).unwrap().to_hex();
    for body in [json!({ "signature": impostor }), json!({ "signature": "0x1234" }), json!({})] {
        let (status, response) = app.post(&path, As::Key(&key), body).await;
        assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(response["details"]["signature"].is_string(), "{response}");
    }
    // A signature for another agent's id does not verify this one.
    let elsewhere = sign_wallet(&wallet, &uuid::Uuid::new_v4().to_string(), wallet.address()).unwrap().to_hex();
    let (status, response) = app.post(&path, As::Key(&key), json!({ "signature": elsewhere })).await;
    assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(app.agent(&key, id).await["walletVerified"], false);

    // Only the owner may verify, even with the right signature.
    let signature = sign_wallet(&wallet, id, wallet.address()).unwrap().to_hex();
    let stranger = app.create_key("stranger").await;
    let (status, response) = app.post(&path, As::Key(&stranger), json!({ "signature": signature })).await;
    assert_error(status, &response, StatusCode::FORBIDDEN, "forbidden");
    let (status, response) = app.post(&path, As::Anonymous, json!({ "signature": signature })).await;
    assert_error(status, &response, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, response) = app
        .post(
            &format!("/api/agents/{}/wallet/verify", uuid::Uuid::new_v4()),
            As::Key(&key),
            json!({ "signature": signature }),
        )
        .await;
    assert_error(status, &response, StatusCode::NOT_FOUND, "not_found");

    let (status, verified) = app.post(&path, As::Key(&key), json!({ "signature": signature })).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!((verified["id"].as_str(), verified["walletVerified"].as_bool()), (Some(id), Some(true)));
    assert_eq!(app.agent(&key, id).await["walletVerified"], true);
    // Verifying again is harmless.
    let (status, _) = app.post(&path, As::Key(&key), json!({ "signature": signature })).await;
    assert_eq!(status, StatusCode::OK);
}
