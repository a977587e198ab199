//! The registrar account (SPEC §6.1): the names bought through it, and their DNS records, with
//! the local domain record's `dnsRecords` kept in step.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, TestKey, assert_error, spawn_app};
use crate::vercel_register::{buy, settled};

/// A key with an active domain bought through the registrar: `(key, name, local id)`.
async fn owner_of(app: &TestApp, name: &str) -> (TestKey, String) {
    let key = app.create_key("owner").await;
    let paid = buy(app, &key, &json!({ "domain": name })).await;
    let id = paid["domain"]["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(app, &key, &id).await["status"], "active");
    (key, id)
}

#[tokio::test]
async fn a_key_lists_the_names_it_bought_and_the_admin_all_of_them() {
    let app = spawn_app().await;
    let (key, _) = owner_of(&app, "listed-name.com").await;
    let stranger = app.create_key("stranger").await;

    let (status, mine) = app.get("/api/vercel/domains", As::Key(&key)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        (&mine[0]["name"], &mine[0]["status"], &mine[0]["autoRenew"]),
        (&json!("listed-name.com"), &json!("active"), &json!(true))
    );
    assert_eq!(mine[0]["nameservers"], json!(["ns1.vercel-dns.com", "ns2.vercel-dns.com"]));
    assert!(mine[0]["expiresAt"].is_string() && mine[0]["createdAt"].is_string());

    assert_eq!(app.get("/api/vercel/domains", As::Key(&stranger)).await.1, json!([]));
    assert_eq!(app.get("/api/vercel/domains", As::Admin).await.1.as_array().unwrap().len(), 1);
    let (status, body) = app.get("/api/vercel/domains", As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn dns_records_are_made_listed_and_deleted_at_the_registrar_and_mirrored_locally() {
    let app = spawn_app().await;
    let (key, local_id) = owner_of(&app, "dns-home.dev").await;
    let path = "/api/vercel/dns/dns-home.dev";

    let (status, www) =
        app.post(path, As::Key(&key), json!({ "type": "A", "name": "www", "value": "76.76.21.21" })).await;
    assert_eq!(status, StatusCode::CREATED, "{www}");
    assert!(www["id"].as_str().unwrap().starts_with("rec_"));
    assert_eq!((&www["type"], &www["name"], &www["ttl"]), (&json!("A"), &json!("www"), &json!(300)));
    let mx = json!({ "type": "MX", "name": "@", "value": "mail.dns-home.dev", "priority": 10, "ttl": 3600 });
    let (status, mx) = app.post(path, As::Key(&key), mx).await;
    assert_eq!(status, StatusCode::CREATED, "{mx}");
    assert_eq!((&mx["name"], &mx["priority"]), (&json!("@"), &json!(10)));

    let (_, listed) = app.get(path, As::Key(&key)).await;
    let ids: Vec<&Value> = listed.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&www["id"], &mx["id"]]);
    let local = app.get(&format!("/api/domains/{local_id}"), As::Key(&key)).await.1;
    assert_eq!(local["dnsRecords"].as_array().unwrap().len(), 2, "{local}");
    assert_eq!(local["dnsRecords"][0]["value"], "76.76.21.21");

    let record_path = format!("{path}/{}", www["id"].as_str().unwrap());
    let (status, deleted) = app.call(Method::DELETE, &record_path, As::Key(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted, json!({ "deleted": true, "id": www["id"] }));
    let (status, again) = app.call(Method::DELETE, &record_path, As::Key(&key), None).await;
    assert_error(status, &again, StatusCode::NOT_FOUND, "not_found");
    let local = app.get(&format!("/api/domains/{local_id}"), As::Key(&key)).await.1;
    assert_eq!(local["dnsRecords"].as_array().unwrap().len(), 1, "{local}");
}

#[tokio::test]
async fn dns_records_are_validated_and_only_the_owner_or_the_admin_touches_them() {
    let app = spawn_app().await;
    let (_, _) = owner_of(&app, "guarded-dns.com").await;
    let stranger = app.create_key("stranger").await;
    let path = "/api/vercel/dns/guarded-dns.com";
    let a_record = json!({ "type": "A", "name": "www", "value": "76.76.21.21" });

    let (status, body) = app.post(path, As::Key(&stranger), a_record.clone()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.get(path, As::Key(&stranger)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.call(Method::DELETE, &format!("{path}/rec_x"), As::Key(&stranger), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.post(path, As::Admin, a_record.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "the admin may: {body}");

    for bad in [
        json!({ "type": "A", "name": "www", "value": "not-an-ip" }),
        json!({ "type": "MX", "name": "@", "value": "mail.guarded-dns.com" }),
        json!({ "type": "A", "name": "www", "value": "76.76.21.21", "ttl": 5 }),
        json!({ "type": "SPF", "name": "@", "value": "v=spf1" }),
    ] {
        let (status, body) = app.post(path, As::Admin, bad.clone()).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    }
    let (status, body) = app.post("/api/vercel/dns/nobody-owns.com", As::Admin, a_record).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get("/api/vercel/dns/not%20a%20name", As::Admin).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}
