//! Cherry Servers, the compute provider (SPEC §6.2), simulated and switched off: status, the
//! public catalog (regions, plans with a monthly cost in dollars, a plan's images) and the
//! account's teams and projects, over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{As, assert_error, spawn_app, spawn_app_with};

fn slugs(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|item| item["slug"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_simulated_catalog_is_public_and_plans_carry_a_monthly_cost_in_dollars() {
    let app =
        spawn_app_with(|c| c.providers.cherry.usd_per_eur = otonix::domain::Usdc::from_decimal("1.2").unwrap()).await;
    let (status, body) = app.get("/api/cherry/status", As::Anonymous).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "configured": true, "mode": "simulated", "reachable": true })));

    let (status, regions) = app.get("/api/cherry/regions", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(slugs(&regions), ["LT-Siauliai", "NL-Amsterdam", "US-Chicago"]);

    let (status, plans) = app.get("/api/cherry/plans", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    let plan = plans.as_array().unwrap().iter().find(|p| p["slug"] == "B1-2-2gb-40s-shared").unwrap();
    assert_eq!(plan["monthlyCost"], json!(7.188), "5.99 EUR at 1.2 USD per EUR: {plan}");
    assert_eq!(plan["pricing"][1]["unit"], "Monthly", "the upstream's pricing is kept: {plan}");
    let free = plans.as_array().unwrap().iter().find(|p| p["slug"] == "B1-1-1gb-20s-shared").unwrap();
    assert_eq!(free["monthlyCost"], json!(0));

    let (_, chicago) = app.get("/api/cherry/plans?region=US-Chicago", As::Anonymous).await;
    assert_eq!(slugs(&chicago), ["B1-2-2gb-40s-shared", "B1-4-4gb-80s-shared"]);

    let (status, images) = app.get("/api/cherry/images?plan=e3_1240v3", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    assert!(slugs(&images).contains(&"ubuntu_24_04"), "{images}");
    let (_, default_images) = app.get("/api/cherry/images", As::Anonymous).await;
    assert_eq!(default_images, images, "the default plan's images");
    let (status, body) = app.get("/api/cherry/images?plan=no-such-plan", As::Anonymous).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn teams_and_projects_need_a_key() {
    let app = spawn_app().await;
    let key = app.create_key("ops").await;
    let (status, body) = app.get("/api/cherry/teams", As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");

    let (status, teams) = app.get("/api/cherry/teams", As::Key(&key)).await;
    assert_eq!(status, StatusCode::OK, "{teams}");
    let team = teams[0]["id"].as_u64().unwrap();
    let (status, projects) = app.get(&format!("/api/cherry/projects/{team}"), As::Admin).await;
    assert_eq!(status, StatusCode::OK, "{projects}");
    assert_eq!(projects[0]["name"], "otonix");

    for missing in ["/api/cherry/projects/42", "/api/cherry/projects/not-a-team"] {
        let (status, body) = app.get(missing, As::Key(&key)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, body) = app.get("/api/cherry/projects/1", As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_compute_provider_switched_off_answers_503() {
    let app = spawn_app_with(|c| c.providers.cherry.mode = otonix::config::ProviderMode::Off).await;
    let (_, status) = app.get("/api/cherry/status", As::Anonymous).await;
    assert_eq!(status, json!({ "configured": false, "mode": "off", "reachable": false }));
    for path in ["/api/cherry/regions", "/api/cherry/plans", "/api/cherry/images", "/api/cherry/teams"] {
        let (status, body) = app.get(path, As::Admin).await;
        assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured");
    }
}
