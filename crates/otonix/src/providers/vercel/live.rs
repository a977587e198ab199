//! The live registrar: Vercel's REST API (registrar API `/v1/registrar/*` for availability,
//! prices, purchases and orders; classic API for the account's domains, DNS and `/v2/user`),
//! scoped to `teamId` when one is configured. Both of Vercel's error shapes are read: the
//! classic `{"error": {code, message}}` and the registrar's flat `{status, code, message}` (and
//! its decode failures `{issues, message}`, which have no code).

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AccountDomain, BuyDomain, DomainPrice, DomainRegistrar, NewRecord, OrderState, RegisteredDomain, RegistrarOrder,
    RegistrarRecord,
};
use crate::clock::Millis;
use crate::config::{RegistrantContact, VercelConfig};
use crate::domain::DomainName;
use crate::providers::ProviderError;
use crate::providers::http::HttpUpstream;

/// Records or domains asked for per page (Vercel's largest).
const PAGE: u32 = 100;

/// Pages read at most from one list (10,000 items).
const MAX_PAGES: usize = 100;

/// Vercel, through its API.
#[derive(Debug, Clone)]
pub struct LiveRegistrar {
    http: HttpUpstream,
    team_id: Option<String>,
    contact: Option<RegistrantContact>,
}

/// Reads either of Vercel's error bodies.
fn read_error(body: &Value) -> Option<(String, String)> {
    let error = body.get("error").filter(|e| e.is_object()).unwrap_or(body);
    let message = error.get("message").and_then(Value::as_str)?.to_owned();
    let code = error.get("code").and_then(Value::as_str).unwrap_or("bad_request").to_owned();
    Some((code, message))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    next: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DomainsPage {
    domains: Vec<WireDomain>,
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDomain {
    name: String,
    created_at: Option<Millis>,
    bought_at: Option<Millis>,
    expires_at: Option<Millis>,
    renew: Option<bool>,
    #[serde(default)]
    nameservers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordsPage {
    records: Vec<WireRecord>,
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRecord {
    id: String,
    name: String,
    #[serde(rename = "type")]
    record_type: String,
    value: String,
    ttl: Option<i64>,
    mx_priority: Option<i64>,
    priority: Option<i64>,
    created_at: Option<Millis>,
    created: Option<Millis>,
}

impl LiveRegistrar {
    /// A client for the configured account.
    pub fn new(config: &VercelConfig) -> Result<Self, ProviderError> {
        let token = config.token.clone().ok_or(ProviderError::NotConfigured)?;
        let timeout = Duration::from_secs(config.timeout_seconds);
        let http = HttpUpstream::new(&config.api_url, token, timeout, read_error)?;
        Ok(Self { http, team_id: config.team_id.clone(), contact: config.contact.clone() })
    }

    fn scope(&self) -> Vec<(&'static str, String)> {
        self.team_id.iter().map(|team| ("teamId", team.clone())).collect()
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        extra: &[(&'static str, String)],
    ) -> Result<T, ProviderError> {
        let mut query = self.scope();
        query.extend_from_slice(extra);
        self.http.call(Method::GET, path, &query, None).await
    }

    /// Every page of a classic list, following `pagination.next` through `until`.
    async fn pages<P, T>(&self, path: &str, items: impl Fn(P) -> (Vec<T>, Option<i64>)) -> Result<Vec<T>, ProviderError>
    where
        P: serde::de::DeserializeOwned,
    {
        let mut all = Vec::new();
        let mut until: Option<i64> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("limit", PAGE.to_string())];
            query.extend(until.map(|u| ("until", u.to_string())));
            let (page, next) = items(self.get::<P>(path, &query).await?);
            all.extend(page);
            match next {
                Some(next) if Some(next) != until => until = Some(next),
                _ => break,
            }
        }
        Ok(all)
    }
}

#[async_trait::async_trait]
impl DomainRegistrar for LiveRegistrar {
    fn mode(&self) -> &'static str {
        "live"
    }

    async fn check_auth(&self) -> Result<(), ProviderError> {
        self.get::<Value>("/v2/user", &[]).await.map(drop)
    }

    async fn availability(&self, domain: &DomainName) -> Result<bool, ProviderError> {
        #[derive(Deserialize)]
        struct Availability {
            available: bool,
        }
        let path = format!("/v1/registrar/domains/{domain}/availability");
        Ok(self.get::<Availability>(&path, &[]).await?.available)
    }

    async fn price(&self, domain: &DomainName, years: Option<u32>) -> Result<DomainPrice, ProviderError> {
        let path = format!("/v1/registrar/domains/{domain}/price");
        let query: Vec<(&'static str, String)> = years.iter().map(|y| ("years", y.to_string())).collect();
        self.get(&path, &query).await
    }

    async fn buy(&self, domain: &DomainName, purchase: &BuyDomain) -> Result<String, ProviderError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Ordered {
            order_id: String,
        }
        let contact = self.contact.as_ref().ok_or_else(|| {
            ProviderError::upstream(
                400,
                "additional_contact_info_required",
                "no registrant contact is configured (providers.vercel.contact)",
            )
        })?;
        let body = json!({
            "autoRenew": purchase.auto_renew,
            "years": purchase.years,
            "expectedPrice": purchase.expected_price.to_json(),
            "contactInformation": contact,
        });
        let path = format!("/v1/registrar/domains/{domain}/buy");
        let ordered: Ordered = self.http.call(Method::POST, &path, &self.scope(), Some(&body)).await?;
        Ok(ordered.order_id)
    }

    async fn order(&self, order_id: &str) -> Result<RegistrarOrder, ProviderError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct WireOrder {
            order_id: String,
            status: String,
            error: Option<Value>,
        }
        let order: WireOrder = self.get(&format!("/v1/registrar/orders/{order_id}"), &[]).await?;
        let state = match order.status.as_str() {
            "completed" => OrderState::Completed,
            "failed" => OrderState::Failed,
            _ => OrderState::Purchasing,
        };
        let error = order.error.and_then(|e| e.get("code").and_then(Value::as_str).map(str::to_owned));
        Ok(RegistrarOrder { id: order.order_id, state, error })
    }

    async fn registered(&self, domain: &DomainName) -> Result<RegisteredDomain, ProviderError> {
        #[derive(Deserialize)]
        struct Wrapped {
            domain: WireDomain,
        }
        let wrapped: Wrapped = self.get(&format!("/v5/domains/{domain}"), &[]).await?;
        let d = wrapped.domain;
        Ok(RegisteredDomain { bought_at: d.bought_at, expires_at: d.expires_at, auto_renew: d.renew.unwrap_or(false) })
    }

    async fn domains(&self) -> Result<Vec<AccountDomain>, ProviderError> {
        let domains =
            self.pages("/v5/domains", |page: DomainsPage| (page.domains, page.pagination.and_then(|p| p.next))).await?;
        Ok(domains
            .into_iter()
            .map(|d| AccountDomain {
                name: d.name,
                created_at: d.bought_at.or(d.created_at).unwrap_or(0),
                expires_at: d.expires_at,
                auto_renew: d.renew.unwrap_or(false),
                nameservers: d.nameservers,
            })
            .collect())
    }

    async fn records(&self, domain: &DomainName) -> Result<Vec<RegistrarRecord>, ProviderError> {
        let path = format!("/v5/domains/{domain}/records");
        let records =
            self.pages(&path, |page: RecordsPage| (page.records, page.pagination.and_then(|p| p.next))).await?;
        Ok(records
            .into_iter()
            .map(|r| RegistrarRecord {
                id: r.id,
                record_type: r.record_type,
                name: r.name,
                value: r.value,
                ttl: r.ttl.unwrap_or(60),
                priority: r.mx_priority.or(r.priority),
                created_at: r.created_at.or(r.created).unwrap_or(0),
            })
            .collect())
    }

    async fn create_record(&self, domain: &DomainName, record: &NewRecord) -> Result<String, ProviderError> {
        #[derive(Deserialize)]
        struct Created {
            uid: String,
        }
        let mut body = json!({ "name": record.name, "type": record.record_type, "ttl": record.ttl });
        if record.record_type == "SRV" {
            // Vercel takes SRV records as parts: "priority" is ours, "weight port target" the value.
            let parts: Vec<&str> = record.value.split_whitespace().collect();
            if let [weight, port, target] = parts[..] {
                body["srv"] = json!({
                    "priority": record.priority.unwrap_or(0),
                    "weight": weight.parse::<u16>().unwrap_or(0),
                    "port": port.parse::<u16>().unwrap_or(0),
                    "target": target,
                });
            }
        } else {
            body["value"] = json!(record.value);
        }
        if record.record_type == "MX" {
            body["mxPriority"] = json!(record.priority.unwrap_or(0));
        }
        let path = format!("/v2/domains/{domain}/records");
        let created: Created = self.http.call(Method::POST, &path, &self.scope(), Some(&body)).await?;
        Ok(created.uid)
    }

    async fn delete_record(&self, domain: &DomainName, record_id: &str) -> Result<(), ProviderError> {
        let path = format!("/v2/domains/{domain}/records/{record_id}");
        self.http.call::<Value>(Method::DELETE, &path, &self.scope(), None).await.map(drop)
    }
}
