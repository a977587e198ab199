//! API keys: generation (shown once), masked listing, revocation and its effects.

use reqwest::{Method, StatusCode};
use serde_json::json;

use std::time::Duration;

use crate::helpers::{As, TestApp, TestKey, assert_error, postgres_url, spawn_app};

#[tokio::test]
async fn admin_generates_a_key_shown_once_with_compatibility_fields() {
    let app = spawn_app().await;
    let response = app
        .request(Method::POST, "/api/keys/generate", As::Admin)
        .json(&json!({ "name": "My Agent Key", "ownerWallet": "0x36363e573a3b5d4c22b6a64ef3080e5c101e685f" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    let key = body["key"].as_str().unwrap();
    assert!(key.starts_with("otonix_") && key.len() == 55, "{key}");
    assert!(key[7..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(body["name"], "My Agent Key");
    assert_eq!(body["status"], "active");
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
    assert_eq!(body["keyPrefix"], &key[..13]);
    assert_eq!(body["ownerWallet"], "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F");
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));

    let (status, keys) = app.get("/api/keys", As::Admin).await;
    assert_eq!(status, StatusCode::OK);
    let listed = &keys[0];
    assert_eq!(listed["id"], body["id"]);
    let masked = listed["key"].as_str().unwrap();
    assert_eq!(masked, format!("{}…{}", &key[..13], &key[key.len() - 4..]));
    assert!(listed.get("keyHash").is_none());
    assert_eq!(listed["agentCount"], 0);
    assert!(!keys.to_string().contains(key), "the full key never appears again");
}

#[tokio::test]
async fn a_key_generates_keys_that_inherit_its_owner_wallet() {
    let app = spawn_app().await;
    let (_, parent) = app
        .post(
            "/api/keys/generate",
            As::Admin,
            json!({ "name": "parent", "ownerWallet": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }),
        )
        .await;
    let parent = crate::helpers::TestKey {
        id: parent["id"].as_str().unwrap().into(),
        key: parent["key"].as_str().unwrap().into(),
    };
    let (status, child) = app.post("/api/keys/generate", As::Key(&parent), json!({ "name": "child" })).await;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    assert_eq!(child["ownerWallet"], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

    let (_, visible) = app.get("/api/keys", As::Key(&parent)).await;
    let names: Vec<&str> = visible.as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["child", "parent"]);
    let stranger = app.create_key("stranger").await;
    let (_, theirs) = app.get("/api/keys", As::Key(&stranger)).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "a key sees only itself and its children");
}

#[tokio::test]
async fn anonymous_callers_cannot_generate_or_list_keys() {
    let app = spawn_app().await;
    let (status, body) = app.post("/api/keys/generate", As::Anonymous, json!({ "name": "x" })).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = app.get("/api/keys", As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = app.call(Method::GET, "/api/keys", As::Anonymous, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn wrong_admin_token_and_malformed_keys_are_unauthenticated() {
    let app = spawn_app().await;
    let response =
        app.client.get(format!("{}/api/keys", app.base)).header("X-Dashboard-Token", "nope").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .get(format!("{}/api/keys", app.base))
        .header("Authorization", format!("Bearer {}", app.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "Bearer is accepted for the admin token");
    for bad in ["otonix_123", "not-a-key", &format!("otonix_{}", "0".repeat(48))] {
        let response = app.client.get(format!("{}/api/keys", app.base)).header("X-API-Key", bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
}

#[tokio::test]
async fn revoking_a_key_deactivates_its_agents_and_refuses_it() {
    let app = spawn_app().await;
    let key = app.create_key("doomed").await;
    let first = app.agent_id(&key, "one").await;
    let second = app.agent_id(&key, "two").await;
    let other = app.create_key("other").await;
    let survivor = app.agent_id(&other, "survivor").await;

    let (status, body) = app.call(Method::DELETE, &format!("/api/keys/{}", key.id), As::Key(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, body_of(&key.id, 2, 0));

    let (status, body) = app.heartbeat(&key, &first).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "key_revoked");
    let (status, body) = app.log_action(&key, &second, "x", "system").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "key_revoked");

    let (_, agents) = app.get("/api/agents", As::Admin).await;
    for agent in agents.as_array().unwrap() {
        let expected = if agent["id"] == survivor.as_str() { "active" } else { "inactive" };
        assert_eq!(agent["status"], expected, "{agent}");
    }
    // Idempotent: the same answer again.
    let (status, again) = app.call(Method::DELETE, &format!("/api/keys/{}", key.id), As::Admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, body_of(&key.id, 2, 0));
    let (_, keys) = app.get("/api/keys", As::Admin).await;
    let listed = keys.as_array().unwrap().iter().find(|k| k["id"] == key.id.as_str()).unwrap().clone();
    assert_eq!(listed["status"], "revoked");
}

fn body_of(id: &str, deactivated: i64, keys: i64) -> serde_json::Value {
    json!({ "id": id, "status": "revoked", "agentsDeactivated": deactivated, "keysRevoked": keys })
}

#[tokio::test]
async fn a_key_may_revoke_only_itself_and_the_keys_it_generated() {
    let app = spawn_app().await;
    let mine = app.create_key("mine").await;
    let theirs = app.create_key("theirs").await;
    let (status, body) = app.call(Method::DELETE, &format!("/api/keys/{}", theirs.id), As::Key(&mine), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.call(Method::DELETE, &format!("/api/keys/{}", theirs.id), As::Anonymous, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) =
        app.call(Method::DELETE, &format!("/api/keys/{}", uuid::Uuid::new_v4()), As::Admin, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, _) = app.get("/api/keys", As::Key(&theirs)).await;
    assert_eq!(status, StatusCode::OK, "the other key still works");
}

/// A key generated by `by` (the admin when `None`).
async fn generated_key(app: &TestApp, by: Option<&TestKey>, name: &str) -> TestKey {
    let who = by.map_or(As::Admin, As::Key);
    let (status, body) = app.post("/api/keys/generate", who, json!({ "name": name })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    TestKey { id: body["id"].as_str().unwrap().to_owned(), key: body["key"].as_str().unwrap().to_owned() }
}

#[tokio::test]
async fn revoking_a_key_revokes_every_key_it_generated_and_their_agents() {
    let app = spawn_app().await;
    let root = generated_key(&app, None, "root").await;
    let child = generated_key(&app, Some(&root), "child").await;
    let grandchild = generated_key(&app, Some(&child), "grandchild").await;
    let sibling = generated_key(&app, Some(&root), "sibling").await;
    let stranger = generated_key(&app, None, "stranger").await;
    let agents: Vec<String> = futures::future::join_all(
        [&root, &child, &grandchild, &grandchild, &sibling].map(|k| app.agent_id(k, "agent")),
    )
    .await;
    let survivor = app.agent_id(&stranger, "survivor").await;

    // A key may not revoke its creator, nor a stranger's keys.
    let app = &app;
    let revoke = |id: &str, who| {
        let path = format!("/api/keys/{id}");
        async move { app.call(Method::DELETE, &path, who, None).await }
    };
    let (status, body) = revoke(&child.id, As::Key(&grandchild)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = revoke(&child.id, As::Key(&stranger)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // The child's revocation takes the grandchild with it, not the root or the sibling.
    let (status, body) = revoke(&child.id, As::Key(&root)).await;
    assert_eq!((status, body), (StatusCode::OK, body_of(&child.id, 3, 1)));
    for revoked in [&child, &grandchild] {
        let (status, body) = app.get("/api/keys", As::Key(revoked)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "key_revoked");
    }
    let (status, _) = app.get("/api/keys", As::Key(&sibling)).await;
    assert_eq!(status, StatusCode::OK);
    // The root's revocation takes what is left of its tree; the stranger is untouched.
    let (status, body) = revoke(&root.id, As::Key(&root)).await;
    assert_eq!((status, body), (StatusCode::OK, body_of(&root.id, 2, 1)));
    let (_, listed) = app.get("/api/agents", As::Admin).await;
    for agent in listed.as_array().unwrap() {
        let expected = if agent["id"] == survivor.as_str() { "active" } else { "inactive" };
        assert_eq!(agent["status"], expected, "{agent}");
    }
    assert_eq!(listed.as_array().unwrap().len(), agents.len() + 1);
    // Idempotent, for every key of the tree.
    let (_, again) = revoke(&child.id, As::Admin).await;
    assert_eq!(again, body_of(&child.id, 3, 1));
    let (_, again) = revoke(&grandchild.id, As::Admin).await;
    assert_eq!(again, body_of(&grandchild.id, 2, 0));
    let (status, _) = app.get("/api/keys", As::Key(&stranger)).await;
    assert_eq!(status, StatusCode::OK);
}

/// `auth.keyCacheSeconds` bounds how long a key revoked elsewhere keeps working (2 s), but a key
/// it generates in that window is a new, active key whose revocation nobody asked for: the
/// revocation of the compromised key is escaped for good. The generate handler never checks,
/// in its transaction, that the generating key is still active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_through_one_replica_cannot_mint_a_lasting_key_through_another() {
    if postgres_url().is_none() {
        eprintln!("revocation escape test skipped: OTONIX_TEST_DATABASE_URL is unset (replicas need PostgreSQL)");
        return;
    }
    let a = spawn_app().await;
    let b = a.replica().await;
    let compromised = a.create_key("compromised").await;
    let (status, _) = b.get("/api/keys", As::Key(&compromised)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, revoked) = a.call(Method::DELETE, &format!("/api/keys/{}", compromised.id), As::Admin, None).await;
    assert_eq!((status, revoked["status"].as_str()), (StatusCode::OK, Some("revoked")), "{revoked}");

    // At once, through the other replica.
    let (status, minted) = b.post("/api/keys/generate", As::Key(&compromised), json!({ "name": "escape" })).await;
    if status != StatusCode::CREATED {
        return; // refused: safe
    }
    let escape =
        TestKey { id: minted["id"].as_str().unwrap().to_owned(), key: minted["key"].as_str().unwrap().to_owned() };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, body) = a.post("/api/agents/register", As::Key(&escape), json!({ "name": "after-revocation" })).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a key minted by a revoked key outlives the revocation (3 s later it still registers agents): {body}"
    );
}
