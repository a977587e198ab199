//! The compute provider (Cherry Servers API v1): its catalog — regions, plans with their
//! pricing, the images of a plan — and the account's teams and projects. Upstream objects are
//! passed through as they are (bare JSON arrays, like the upstream's lists); each plan also gets
//! a `monthlyCost` in US dollars ([`monthly_cost_usd`]).

mod sim;

use serde_json::Value;

use super::ProviderError;
use crate::domain::Usdc;
pub use sim::SimulatedCompute;

/// Hours in a month, for plans priced by the hour only.
const HOURS_PER_MONTH: i64 = 730;

/// What the compute provider must be able to do.
#[async_trait::async_trait]
pub trait ComputeProvider: Send + Sync {
    /// `simulated` or `live`.
    fn mode(&self) -> &'static str;

    /// Whether the upstream answers with these credentials (`GET /v1/user`).
    async fn check_auth(&self) -> Result<(), ProviderError>;

    /// The regions (`GET /v1/regions`).
    async fn regions(&self) -> Result<Vec<Value>, ProviderError>;

    /// The plans, with their pricing, available in `region` if given (`GET /v1/plans`).
    async fn plans(&self, region: Option<&str>) -> Result<Vec<Value>, ProviderError>;

    /// The images a plan can run (`GET /v1/plans/{plan}/images`).
    async fn images(&self, plan: &str) -> Result<Vec<Value>, ProviderError>;

    /// The account's teams (`GET /v1/teams`).
    async fn teams(&self) -> Result<Vec<Value>, ProviderError>;

    /// A team's projects (`GET /v1/teams/{teamId}/projects`).
    async fn projects(&self, team_id: u64) -> Result<Vec<Value>, ProviderError>;
}

/// What a plan costs a month in US dollars: its `Monthly` price, else its `Hourly` price × 730,
/// converted from euros at `usd_per_eur` (rounded up to the micro-unit); `None` for a plan
/// without either price.
pub fn monthly_cost_usd(plan: &Value, usd_per_eur: Usdc) -> Option<Usdc> {
    let prices = plan.get("pricing")?.as_array()?;
    let price_of = |unit: &str| {
        prices.iter().find(|p| p.get("unit").and_then(Value::as_str) == Some(unit)).and_then(|p| {
            let amount = Usdc::from_f64(p.get("price")?.as_f64()?).ok()?;
            Some((amount, p.get("currency").and_then(Value::as_str).unwrap_or("EUR").to_owned()))
        })
    };
    let (amount, currency) = match price_of("Monthly") {
        Some(monthly) => monthly,
        None => {
            let (hourly, currency) = price_of("Hourly")?;
            (hourly.times(HOURS_PER_MONTH)?, currency)
        }
    };
    match currency.as_str() {
        "USD" => Some(amount),
        _ => {
            let micros = i128::from(amount.micros()) * i128::from(usd_per_eur.micros());
            let usd = (micros + 999_999) / 1_000_000;
            Usdc::from_micros(i64::try_from(usd).ok()?)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn monthly_costs_come_from_the_monthly_price_or_730_hours_in_dollars() {
        let rate = Usdc::from_decimal("1.1").unwrap();
        let monthly = json!({ "pricing": [{ "unit": "Hourly", "price": 0.1, "currency": "EUR" },
                                          { "unit": "Monthly", "price": 59.29, "currency": "EUR" }] });
        assert_eq!(monthly_cost_usd(&monthly, rate), Usdc::from_decimal("65.219").ok());
        let hourly = json!({ "pricing": [{ "unit": "Hourly", "price": 0.01, "currency": "USD" }] });
        assert_eq!(monthly_cost_usd(&hourly, rate), Usdc::from_decimal("7.3").ok());
        assert_eq!(monthly_cost_usd(&json!({ "pricing": [] }), rate), None);
        assert_eq!(monthly_cost_usd(&json!({}), rate), None);
    }
}
