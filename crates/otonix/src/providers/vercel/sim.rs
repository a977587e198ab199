//! The simulated registrar: Vercel's registrar answers, without Vercel. It sells the TLDs of
//! [`TLD_PRICES`] at those yearly prices, refuses other TLDs (`tld_not_supported`) and names
//! shorter than three characters (`domain_too_short`) with the registrar's flat error shape,
//! and treats a few well-known names, and every name whose first label starts with `taken`, as
//! already registered.

use super::{DomainPrice, DomainRegistrar, MAX_YEARS};
use crate::domain::{DomainName, Usdc};
use crate::providers::ProviderError;

/// The TLDs the simulator sells and their price for one year, in US dollars (cents).
pub const TLD_PRICES: &[(&str, i64)] = &[
    ("com", 1125),
    ("net", 1350),
    ("org", 1000),
    ("dev", 1500),
    ("app", 1700),
    ("xyz", 1200),
    ("co", 2500),
    ("io", 4500),
    ("ai", 8000),
];

/// Names that are registered already, as on the real registry.
const REGISTERED: &[&str] = &["google.com", "example.com", "vercel.com", "otonix.ai", "openai.com", "github.com"];

/// A registrar simulated in process.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulatedRegistrar;

impl SimulatedRegistrar {
    /// The yearly price of a name, or the registrar's refusal.
    fn yearly_price(domain: &DomainName) -> Result<Usdc, ProviderError> {
        let (label, tld) = domain.as_str().split_once('.').unwrap_or((domain.as_str(), ""));
        let tld = tld.rsplit('.').next().unwrap_or(tld);
        let Some(&(_, cents)) = TLD_PRICES.iter().find(|(known, _)| *known == tld) else {
            return Err(ProviderError::upstream(400, "tld_not_supported", format!("The TLD .{tld} is not supported")));
        };
        if label.len() < 3 {
            return Err(ProviderError::upstream(400, "domain_too_short", "The domain name is too short"));
        }
        Ok(Usdc::CENT.times(cents).expect("the price table is small"))
    }
}

#[async_trait::async_trait]
impl DomainRegistrar for SimulatedRegistrar {
    fn mode(&self) -> &'static str {
        "simulated"
    }

    async fn check_auth(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn availability(&self, domain: &DomainName) -> Result<bool, ProviderError> {
        Self::yearly_price(domain)?;
        let taken = REGISTERED.contains(&domain.as_str()) || domain.as_str().starts_with("taken");
        Ok(!taken)
    }

    async fn price(&self, domain: &DomainName, years: Option<u32>) -> Result<DomainPrice, ProviderError> {
        let yearly = Self::yearly_price(domain)?;
        let years = years.unwrap_or(1);
        if !(1..=MAX_YEARS).contains(&years) {
            return Err(ProviderError::upstream(
                400,
                "bad_request",
                format!("years must be between 1 and {MAX_YEARS}"),
            ));
        }
        let price = yearly.times(i64::from(years)).expect("ten years of the dearest TLD are within bounds");
        Ok(DomainPrice { years, purchase_price: price, renewal_price: price })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> DomainName {
        DomainName::parse(text).unwrap()
    }

    #[tokio::test]
    async fn the_simulator_answers_like_the_registrar() {
        let sim = SimulatedRegistrar;
        assert_eq!(sim.availability(&name("fresh-agent.com")).await, Ok(true));
        assert_eq!(sim.availability(&name("google.com")).await, Ok(false));
        assert_eq!(sim.availability(&name("taken-by-someone.dev")).await, Ok(false));
        let price = sim.price(&name("fresh-agent.com"), Some(2)).await.unwrap();
        assert_eq!((price.years, price.purchase_price.to_string()), (2, "22.5".to_owned()));
        let refusal = sim.availability(&name("fresh-agent.museum")).await.unwrap_err();
        assert!(
            matches!(refusal, ProviderError::Upstream { status: 400, ref code, .. } if code == "tld_not_supported")
        );
        let refusal = sim.price(&name("ab.com"), None).await.unwrap_err();
        assert!(matches!(refusal, ProviderError::Upstream { ref code, .. } if code == "domain_too_short"));
    }
}
