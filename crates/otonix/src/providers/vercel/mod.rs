//! The domain registrar (Vercel's registrar API): availability and price of a name. Upstream
//! prices are US dollars, sent as numbers or strings; they are read exactly, as [`Usdc`]
//! amounts (the registrar's dollar and the token's are counted one for one, SPEC §6.1).

mod sim;

use serde::{Deserialize, Deserializer};

use super::ProviderError;
use crate::domain::{DomainName, Usdc};
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
