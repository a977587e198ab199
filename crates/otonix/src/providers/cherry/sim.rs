//! The simulated compute provider: Cherry Servers' catalog without Cherry Servers. Three regions,
//! four plans priced in euros like the upstream (a free trial VPS, two paid VPS and a bare-metal
//! server), three images for every plan, one team with one project. Unknown plans and teams are
//! 404 with the upstream's error shape.

use serde_json::{Value, json};

use super::ComputeProvider;
use crate::providers::ProviderError;

/// The simulated team.
pub const TEAM_ID: u64 = 1001;
/// The simulated team's project.
pub const PROJECT_ID: u64 = 2001;

/// Cherry Servers simulated in process.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedCompute;

fn region(id: u64, name: &str, slug: &str, iso: &str, location: &str) -> Value {
    json!({ "id": id, "name": name, "slug": slug, "region_iso_2": iso, "location": location,
            "bgp": { "hosts": [], "asn": 0 }, "href": format!("/regions/{id}") })
}

fn regions() -> Vec<Value> {
    vec![
        region(1, "EU-Nord-1", "LT-Siauliai", "LT", "Lithuania, Šiauliai"),
        region(2, "EU-West-1", "NL-Amsterdam", "NL", "Netherlands, Amsterdam"),
        region(3, "US-Chicago-1", "US-Chicago", "US", "United States, Chicago"),
    ]
}

/// `(id, slug, type, cores, memory GB, disk GB, hourly EUR, monthly EUR, region slugs)`.
type PlanRow = (u64, &'static str, &'static str, u64, u64, u64, f64, f64, &'static [&'static str]);

const PLANS: [PlanRow; 4] = [
    (625, "B1-1-1gb-20s-shared", "vps", 1, 1, 20, 0.0, 0.0, &["LT-Siauliai", "NL-Amsterdam"]),
    (626, "B1-2-2gb-40s-shared", "vps", 2, 2, 40, 0.0082, 5.99, &["LT-Siauliai", "NL-Amsterdam", "US-Chicago"]),
    (627, "B1-4-4gb-80s-shared", "vps", 4, 4, 80, 0.0164, 11.98, &["LT-Siauliai", "US-Chicago"]),
    (86, "e3_1240v3", "baremetal", 4, 16, 250, 0.1016, 59.29, &["LT-Siauliai"]),
];

fn plan(row: &PlanRow) -> Value {
    let (id, slug, kind, cores, memory, disk, hourly, monthly, available) = *row;
    let available: Vec<Value> = regions()
        .into_iter()
        .filter(|r| available.contains(&r["slug"].as_str().unwrap_or_default()))
        .map(|mut r| {
            r["stock_qty"] = json!(20);
            r["spot_qty"] = json!(0);
            r
        })
        .collect();
    json!({
        "id": id, "href": format!("/plans/{slug}"), "name": slug, "slug": slug, "title": slug, "type": kind,
        "category": if kind == "vps" { "shared" } else { "lightweight" }, "custom": false,
        "specs": {
            "cpus": { "count": 1, "name": slug, "cores": cores, "unit": "GHz" },
            "memory": { "count": 1, "total": memory, "unit": "GB" },
            "storage": [{ "count": 1, "name": format!("SSD {disk}GB"), "size": disk, "unit": "GB", "type": "SSD" }],
        },
        "pricing": [
            { "id": id * 10, "unit": "Hourly", "price": hourly, "currency": "EUR", "taxed": true },
            { "id": id * 10 + 1, "unit": "Monthly", "price": monthly, "currency": "EUR", "taxed": true },
        ],
        "available_regions": available,
    })
}

fn images() -> Vec<Value> {
    [(40785, "Debian 12 64bit", "debian_12_64bit"), (40786, "Ubuntu 24.04 64bit", "ubuntu_24_04"), (40787, "Fedora 41 64bit", "fedora_41_64bit")]
        .into_iter()
        .map(|(id, name, slug)| {
            json!({ "id": id, "name": name, "slug": slug,
                    "pricing": [{ "id": 0, "currency": "EUR", "unit": "Hourly", "unit_price": 0, "price": 0, "taxed": true }] })
        })
        .collect()
}

fn not_found() -> ProviderError {
    ProviderError::upstream(404, "404", "Not Found")
}

#[async_trait::async_trait]
impl ComputeProvider for SimulatedCompute {
    fn mode(&self) -> &'static str {
        "simulated"
    }

    async fn check_auth(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn regions(&self) -> Result<Vec<Value>, ProviderError> {
        Ok(regions())
    }

    async fn plans(&self, region: Option<&str>) -> Result<Vec<Value>, ProviderError> {
        let plans = PLANS.iter().filter(|row| region.is_none_or(|r| row.8.contains(&r))).map(plan).collect();
        Ok(plans)
    }

    async fn images(&self, plan: &str) -> Result<Vec<Value>, ProviderError> {
        if !PLANS.iter().any(|row| row.1 == plan || row.0.to_string() == plan) {
            return Err(not_found());
        }
        Ok(images())
    }

    async fn teams(&self) -> Result<Vec<Value>, ProviderError> {
        Ok(vec![json!({
            "id": TEAM_ID, "name": "Simulated team", "href": format!("/teams/{TEAM_ID}"),
            "credit": { "account": { "remaining": 0, "usage": 0, "currency": "EUR" } },
            "billing": { "type": "personal", "currency": "EUR" },
        })])
    }

    async fn projects(&self, team_id: u64) -> Result<Vec<Value>, ProviderError> {
        if team_id != TEAM_ID {
            return Err(not_found());
        }
        Ok(vec![json!({
            "id": PROJECT_ID, "name": "otonix", "bgp": { "enabled": false, "local_asn": 0 },
            "href": format!("/projects/{PROJECT_ID}"),
        })])
    }
}
