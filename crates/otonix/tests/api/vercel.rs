//! Vercel, the domain registrar (SPEC §6.1), in simulated mode and switched off: status,
//! payment configuration and the availability and price check, over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{As, assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_simulated_registrar_reports_itself_configured_and_reachable() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/vercel/status", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "configured": true, "mode": "simulated", "reachable": true }));
}

#[tokio::test]
async fn the_payment_config_is_the_servers_x402_terms_with_the_markup() {
    let app = spawn_app_with(|c| c.providers.vercel.markup_percent = 15).await;
    let (_, x402) = app.get("/api/x402/config", As::Anonymous).await;
    let (status, body) = app.get("/api/vercel/payment-config", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    for field in ["network", "asset", "payTo", "maxTimeoutSeconds", "orderTtlSeconds", "x402Version"] {
        assert_eq!(body[field], x402[field], "{field}");
    }
    assert_eq!((&body["currency"], &body["markupPercent"]), (&json!("USDC"), &json!(15)));
}

#[tokio::test]
async fn an_available_name_is_priced_with_the_markup_in_usdc_and_atomic_units() {
    let app = spawn_app_with(|c| c.providers.vercel.markup_percent = 10).await;
    let (status, body) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "Fresh-Agent.COM" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "domain": "fresh-agent.com", "available": true, "years": 1,
            "price": { "purchasePrice": 11.25, "renewalPrice": 11.25, "currency": "USD" },
            "amountUSDC": 12.375, "amount": "12375000",
        })
    );

    // `name` is accepted for `domain`, and the price covers the years asked.
    let (status, body) = app.post("/api/vercel/check", As::Anonymous, json!({ "name": "fresh.dev", "years": 3 })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["years"], &body["price"]["purchasePrice"]), (&json!(3), &json!(45)));
    assert_eq!((&body["amountUSDC"], &body["amount"]), (&json!(49.5), &json!("49500000")));
}

#[tokio::test]
async fn a_taken_name_is_unavailable_without_a_price() {
    let app = spawn_app().await;
    for taken in ["google.com", "taken-name.io"] {
        let (status, body) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": taken })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["available"], false, "{taken}");
        assert!(body["price"].is_null() && body["amountUSDC"].is_null() && body["amount"].is_null(), "{body}");
    }
}

#[tokio::test]
async fn names_and_years_are_validated_and_registrar_refusals_name_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "domain"),
        (json!({ "domain": "not a domain" }), "domain"),
        (json!({ "domain": "fresh.com", "years": 0 }), "years"),
        (json!({ "domain": "fresh.com", "years": 11 }), "years"),
        (json!({ "domain": "fresh.com", "years": "two" }), "years"),
        (json!({ "domain": "fresh.museum" }), "domain"),
        (json!({ "domain": "ab.com" }), "domain"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.post("/api/vercel/check", As::Anonymous, body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(answer["details"][field].is_string(), "{body} → {answer}");
    }
    let (status, answer) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "fresh.museum" })).await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(answer["details"]["domain"].as_str().unwrap().contains("tld_not_supported"), "{answer}");
}

#[tokio::test]
async fn a_registrar_switched_off_answers_503_and_says_so_in_its_status() {
    let app = spawn_app_with(|c| c.providers.vercel.mode = otonix::config::ProviderMode::Off).await;
    let (status, body) = app.get("/api/vercel/status", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "configured": false, "mode": "off", "reachable": false }));
    let (status, body) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "fresh.com" })).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured");
    let (status, body) = app.call(Method::GET, "/api/vercel/payment-config", As::Anonymous, None).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured");
    for path in ["/api/vercel/domains", "/api/vercel/dns/fresh.com"] {
        let (status, body) = app.get(path, As::Admin).await;
        assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured");
    }
}

#[tokio::test]
async fn a_live_registrars_failures_reach_the_client_as_502_and_429() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let vercel = MockServer::start().await;
    Mock::given(path("/v2/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "user": {} })))
        .mount(&vercel)
        .await;
    Mock::given(path("/v1/registrar/domains/broken.com/availability"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({ "status": 500, "code": "internal_server_error", "message": "An unexpected internal error occurred" }),
        ))
        .mount(&vercel)
        .await;
    Mock::given(path("/v1/registrar/domains/busy.com/availability"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(json!({ "status": 429, "code": "too_many_requests", "message": "slow down" })),
        )
        .mount(&vercel)
        .await;
    let app = spawn_app_with(|c| {
        c.providers.vercel.mode = otonix::config::ProviderMode::Live;
        c.providers.vercel.token = Some(otonix::config::Secret::new("live-token"));
        c.providers.vercel.api_url = vercel.uri();
    })
    .await;
    let (_, status) = app.get("/api/vercel/status", As::Anonymous).await;
    assert_eq!(status, json!({ "configured": true, "mode": "live", "reachable": true }));

    let (status, body) = app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "broken.com" })).await;
    assert_error(status, &body, StatusCode::BAD_GATEWAY, "upstream_error");
    assert_eq!(body["details"]["code"], "internal_server_error", "{body}");
    assert_eq!((&body["details"]["provider"], &body["details"]["status"]), (&json!("vercel"), &json!(500)));

    let response = app
        .request(Method::POST, "/api/vercel/check", As::Anonymous)
        .json(&json!({ "domain": "busy.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "120");
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "rate_limited");
}
