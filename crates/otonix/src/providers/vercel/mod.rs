//! The domain registrar (Vercel's registrar API): availability and price of a name, buying it
//! (an order the registrar completes later) and what it knows of a name it sold. Upstream
//! prices are US dollars, sent as numbers or strings; they are read exactly, as [`Usdc`]
//! amounts (the registrar's dollar and the token's are counted one for one, SPEC §6.1).

mod live;
#[cfg(test)]
mod live_tests;
mod sim;

use serde::{Deserialize, Deserializer};

use super::ProviderError;
use crate::clock::Millis;
use crate::domain::{DomainName, Usdc};
pub use live::LiveRegistrar;
pub use sim::SimulatedRegistrar;

/// The most years one purchase or renewal covers.
pub const MAX_YEARS: u32 = 10;

/// A registrar's price for a name (`GET /v1/registrar/domains/{domain}/price`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainPrice {
    /// Years the prices are for.
    pub years: u32,
    /// Price of buying the name for `years`.
    #[serde(deserialize_with = "number_or_string")]
    pub purchase_price: Usdc,
    /// Price of renewing it for `years`.
    #[serde(deserialize_with = "number_or_string")]
    pub renewal_price: Usdc,
}

/// A purchase to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyDomain {
    /// Years to buy.
    pub years: u32,
    /// Whether the registrar renews the name itself.
    pub auto_renew: bool,
    /// The price agreed (the registrar refuses another: `expected_price_mismatch`).
    pub expected_price: Usdc,
    /// Ours: the payment order that pays for it, so that a retried purchase is found, not
    /// placed twice.
    pub reference: String,
}

/// Where a registrar order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Not done yet.
    Purchasing,
    /// The name is bought.
    Completed,
    /// The purchase failed; nothing was bought.
    Failed,
}

/// A registrar order (`GET /v1/registrar/orders/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarOrder {
    /// The registrar's order id.
    pub id: String,
    /// Where it is.
    pub state: OrderState,
    /// Why it failed.
    pub error: Option<String>,
}

/// What the registrar knows of a name it sold (`GET /v5/domains/{domain}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredDomain {
    /// When it was bought.
    pub bought_at: Option<Millis>,
    /// When it expires.
    pub expires_at: Option<Millis>,
    /// Whether the registrar renews it.
    pub auto_renew: bool,
}

/// A name of the account (`GET /v5/domains`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDomain {
    /// The name.
    pub name: String,
    /// When it was added to the account.
    pub created_at: Millis,
    /// When it expires.
    pub expires_at: Option<Millis>,
    /// Whether the registrar renews it.
    pub auto_renew: bool,
    /// Its name servers.
    pub nameservers: Vec<String>,
}

/// A DNS record at the registrar (`GET /v5/domains/{domain}/records`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarRecord {
    /// `rec_…`.
    pub id: String,
    /// `A`, `AAAA`, `CNAME`, `MX`, `TXT`, `NS`, `SRV` or `CAA`.
    pub record_type: String,
    /// Name relative to the domain (`""` for the apex).
    pub name: String,
    /// Value.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Priority (MX, SRV).
    pub priority: Option<i64>,
    /// When it was made.
    pub created_at: Millis,
}

/// A DNS record to make (`POST /v2/domains/{domain}/records`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// Type.
    pub record_type: String,
    /// Name relative to the domain (`""` for the apex).
    pub name: String,
    /// Value.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Priority (MX, SRV).
    pub priority: Option<i64>,
}

/// What the registrar must be able to do.
#[async_trait::async_trait]
pub trait DomainRegistrar: Send + Sync {
    /// `simulated` or `live` (an `off` registrar is not built at all).
    fn mode(&self) -> &'static str;

    /// Whether the upstream answers with these credentials (`GET /v2/user`).
    async fn check_auth(&self) -> Result<(), ProviderError>;

    /// Whether the name can be bought.
    async fn availability(&self, domain: &DomainName) -> Result<bool, ProviderError>;

    /// The name's price for `years` (the TLD's minimum when `None`).
    async fn price(&self, domain: &DomainName, years: Option<u32>) -> Result<DomainPrice, ProviderError>;

    /// Buys the name; returns the registrar's order id. The purchase completes later.
    async fn buy(&self, domain: &DomainName, purchase: &BuyDomain) -> Result<String, ProviderError>;

    /// A registrar order.
    async fn order(&self, order_id: &str) -> Result<RegistrarOrder, ProviderError>;

    /// A name the registrar sold to this account.
    async fn registered(&self, domain: &DomainName) -> Result<RegisteredDomain, ProviderError>;

    /// Every name of the account.
    async fn domains(&self) -> Result<Vec<AccountDomain>, ProviderError>;

    /// The DNS records of a name of the account.
    async fn records(&self, domain: &DomainName) -> Result<Vec<RegistrarRecord>, ProviderError>;

    /// Makes a DNS record; returns its id.
    async fn create_record(&self, domain: &DomainName, record: &NewRecord) -> Result<String, ProviderError>;

    /// Deletes a DNS record.
    async fn delete_record(&self, domain: &DomainName, record_id: &str) -> Result<(), ProviderError>;
}

/// Reads a price given as a JSON number (`11.25`) or a string (`"11.25"`).
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Usdc, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Price {
        Number(f64),
        Text(String),
    }
    let parsed = match Price::deserialize(d)? {
        Price::Number(value) => Usdc::from_f64(value),
        Price::Text(text) => Usdc::from_decimal(text.trim()),
    };
    parsed.map_err(|e| serde::de::Error::custom(format!("a price {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_from_numbers_and_strings_exactly() {
        let price: DomainPrice = serde_json::from_str(
            r#"{"years": 2, "purchasePrice": 22.5, "renewalPrice": "22.50", "transferPrice": 11.25}"#,
        )
        .unwrap();
        assert_eq!(price.purchase_price, Usdc::from_decimal("22.5").unwrap());
        assert_eq!(price.renewal_price, price.purchase_price);
        assert!(
            serde_json::from_str::<DomainPrice>(r#"{"years":1,"purchasePrice":"cheap","renewalPrice":1}"#).is_err()
        );
    }
}
