//! The live registrar against a local fake of Vercel's API (wiremock) with the documented
//! payloads: successes, both error shapes, 429 with `Retry-After`, 5xx, a timeout, malformed
//! JSON, pagination, and the token kept out of everything but its header.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{BuyDomain, DomainRegistrar, LiveRegistrar, NewRecord, OrderState};
use crate::config::{RegistrantContact, Secret, VercelConfig};
use crate::domain::{DomainName, Usdc};
use crate::providers::ProviderError;

const TOKEN: &str = "vercel-token-that-must-not-leak";

fn registrar(server: &MockServer, timeout_seconds: u64) -> LiveRegistrar {
    let config = VercelConfig {
        token: Some(Secret::new(TOKEN)),
        team_id: Some("team_abc".into()),
        api_url: server.uri(),
        timeout_seconds,
        contact: Some(RegistrantContact {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            phone: "+14155552671".into(),
            address1: "1 Main St".into(),
            city: "SF".into(),
            state: "CA".into(),
            zip: "94105".into(),
            country: "US".into(),
            company_name: None,
        }),
        ..VercelConfig::default()
    };
    LiveRegistrar::new(&config).unwrap()
}

fn name(text: &str) -> DomainName {
    DomainName::parse(text).unwrap()
}

fn upstream(error: ProviderError) -> (u16, String, Option<Duration>) {
    match error {
        ProviderError::Upstream { status, code, retry_after, .. } => (status, code, retry_after),
        other => panic!("not an upstream error: {other:?}"),
    }
}

#[tokio::test]
async fn prices_and_availability_are_read_with_the_token_and_the_team() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/registrar/domains/agent.dev/price"))
        .and(query_param("teamId", "team_abc"))
        .and(query_param("years", "2"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({ "years": 2, "purchasePrice": "30.00", "renewalPrice": 30, "transferPrice": 15 }),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/registrar/domains/agent.dev/availability"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "available": true })))
        .mount(&server)
        .await;
    let vercel = registrar(&server, 5);
    let price = vercel.price(&name("agent.dev"), Some(2)).await.unwrap();
    assert_eq!((price.years, price.purchase_price, price.renewal_price), (2, Usdc::whole(30), Usdc::whole(30)));
    assert_eq!(vercel.availability(&name("agent.dev")).await, Ok(true));
    assert!(!format!("{vercel:?}").contains(TOKEN), "the token stays out of Debug");
}

#[tokio::test]
async fn both_error_shapes_and_decode_failures_are_read() {
    let server = MockServer::start().await;
    Mock::given(path("/v5/domains/missing.com"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({ "error": { "code": "not_found", "message": "Could not find the domain: missing.com" } }),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/v1/registrar/domains/ab.com/price"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({ "status": 400, "code": "domain_too_short", "message": "The domain is too short" }),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v1/registrar/domains/odd.com/availability"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({ "_tag": "HttpApiDecodeError", "issues": [{ "path": ["domain"], "message": "bad" }], "message": "decode" }),
        ))
        .mount(&server)
        .await;
    let vercel = registrar(&server, 5);
    assert_eq!(upstream(vercel.registered(&name("missing.com")).await.unwrap_err()).1, "not_found");
    assert_eq!(upstream(vercel.price(&name("ab.com"), None).await.unwrap_err()).1, "domain_too_short");
    assert_eq!(upstream(vercel.availability(&name("odd.com")).await.unwrap_err()).1, "bad_request");
}

#[tokio::test]
async fn a_429_is_waited_out_when_short_and_passed_on_when_long() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/registrar/domains/busy.com/availability"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({ "status": 429, "code": "too_many_requests", "message": "slow down" })),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/registrar/domains/busy.com/availability"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "available": false })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/registrar/domains/jammed.com/availability"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(json!({ "error": { "code": "rate_limited", "message": "Try again later" } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let vercel = registrar(&server, 5);
    assert_eq!(vercel.availability(&name("busy.com")).await, Ok(false));
    let (status, code, wait) = upstream(vercel.availability(&name("jammed.com")).await.unwrap_err());
    assert_eq!((status, code.as_str(), wait), (429, "rate_limited", Some(Duration::from_secs(120))));
}

#[tokio::test]
async fn reads_are_retried_after_5xx_and_purchases_never_are() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/user"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "user": { "id": "u" } })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/registrar/domains/agent.dev/buy"))
        .and(body_partial_json(json!({ "years": 1, "expectedPrice": 15, "autoRenew": true,
                                       "contactInformation": { "country": "US" } })))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({ "status": 500, "code": "internal_server_error", "message": "oops" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let vercel = registrar(&server, 5);
    assert_eq!(vercel.check_auth().await, Ok(()));
    let purchase =
        BuyDomain { years: 1, auto_renew: true, expected_price: Usdc::whole(15), reference: "order-1".into() };
    let (status, code, _) = upstream(vercel.buy(&name("agent.dev"), &purchase).await.unwrap_err());
    assert_eq!((status, code.as_str()), (500, "internal_server_error"));
}

#[tokio::test]
async fn a_silent_upstream_times_out_and_malformed_json_is_a_transport_failure() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/registrar/orders/ord_slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    Mock::given(path("/v1/registrar/orders/ord_garbled"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    Mock::given(path("/v1/registrar/orders/ord_done"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "orderId": "ord_done", "status": "failed", "error": { "code": "tld-outage", "details": {} },
            "domains": [{ "domainName": "a.com", "status": "failed", "purchaseType": "purchase", "years": 1, "price": 1 }],
        })))
        .mount(&server)
        .await;
    let vercel = registrar(&server, 1);
    let slow = vercel.order("ord_slow").await.unwrap_err();
    assert!(matches!(&slow, ProviderError::Transport(m) if m.contains("in time")), "{slow:?}");
    assert!(matches!(vercel.order("ord_garbled").await, Err(ProviderError::Transport(_))));
    let done = vercel.order("ord_done").await.unwrap();
    assert_eq!((done.state, done.error.as_deref()), (OrderState::Failed, Some("tld-outage")));
}

#[tokio::test]
async fn lists_follow_pagination_and_records_are_made_in_vercels_shape() {
    let server = MockServer::start().await;
    let record = |id: &str| {
        json!({ "id": id, "name": "", "type": "MX", "value": "mail.a.com", "mxPriority": 10,
                                    "ttl": 300, "createdAt": 1_700_000_000_000i64 })
    };
    Mock::given(method("GET"))
        .and(path("/v5/domains/a.com/records"))
        .and(query_param("until", "1700000000001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "records": [record("rec_2")], "pagination": { "count": 1, "next": null, "prev": null } }),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v5/domains/a.com/records"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "records": [record("rec_1")], "pagination": { "count": 1, "next": 1_700_000_000_001i64, "prev": null } }),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/domains/a.com/records"))
        .and(body_partial_json(
            json!({ "name": "", "type": "MX", "value": "mail.a.com", "mxPriority": 10, "ttl": 300 }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "uid": "rec_new" })))
        .expect(1)
        .mount(&server)
        .await;
    let vercel = registrar(&server, 5);
    let records = vercel.records(&name("a.com")).await.unwrap();
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["rec_1", "rec_2"]);
    assert_eq!(records[0].priority, Some(10));
    let mx = NewRecord {
        record_type: "MX".into(),
        name: String::new(),
        value: "mail.a.com".into(),
        ttl: 300,
        priority: Some(10),
    };
    assert_eq!(vercel.create_record(&name("a.com"), &mx).await.unwrap(), "rec_new");
}
