//! The simulated registrar: Vercel's registrar answers, without Vercel. It sells the TLDs of
//! [`TLD_PRICES`] at those yearly prices, refuses other TLDs (`tld_not_supported`) and names
//! shorter than three characters (`domain_too_short`) with the registrar's flat error shape,
//! and treats a few well-known names, every name whose first label starts with `taken`, and
//! every name it sold as registered. An order stays `purchasing` for [`PURCHASE_MS`] of the
//! server's clock, then completes, except for names whose first label starts with `fail`,
//! whose order fails (`unexpected-error`). Its orders and sales are kept in the database.

use super::{
    AccountDomain, BuyDomain, DomainPrice, DomainRegistrar, MAX_YEARS, NewRecord, OrderState, RegisteredDomain,
    RegistrarOrder, RegistrarRecord,
};
use crate::clock::SharedClock;
use crate::domain::{DomainName, Usdc};
use crate::providers::ProviderError;
use crate::store::sim_registrar::{self, SimOrder, SimRecord};
use crate::store::{Store, StoreError, Unique};

/// How long a simulated order stays `purchasing`.
pub const PURCHASE_MS: i64 = 2_000;

const YEAR_MS: i64 = 365 * 24 * 3_600 * 1_000;

/// The name servers of every simulated name.
const NAMESERVERS: [&str; 2] = ["ns1.vercel-dns.com", "ns2.vercel-dns.com"];

fn domain_not_found(domain: &DomainName) -> ProviderError {
    ProviderError::upstream(404, "not_found", format!("Could not find the domain: {domain}"))
}

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
#[derive(Clone)]
pub struct SimulatedRegistrar {
    store: Store,
    clock: SharedClock,
}

/// The simulator's database failing reads as the upstream failing.
fn unavailable(error: StoreError) -> ProviderError {
    ProviderError::Transport(format!("the simulated registrar's state cannot be read: {error}"))
}

impl SimulatedRegistrar {
    /// A simulator keeping its state in `store`, on `clock`'s time.
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Self { store, clock }
    }

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
        if REGISTERED.contains(&domain.as_str()) || domain.as_str().starts_with("taken") {
            return Ok(false);
        }
        let mut conn = self.store.read().await.map_err(unavailable)?;
        Ok(!sim_registrar::is_taken(&mut conn, domain.as_str()).await.map_err(unavailable)?)
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

    async fn buy(&self, domain: &DomainName, purchase: &BuyDomain) -> Result<String, ProviderError> {
        let price = self.price(domain, Some(purchase.years)).await?;
        if price.purchase_price != purchase.expected_price {
            let message = format!("The expected price does not match the current price of {}", price.purchase_price);
            return Err(ProviderError::upstream(400, "expected_price_mismatch", message));
        }
        let order = SimOrder {
            id: format!("ord_{}", uuid::Uuid::new_v4().simple()),
            domain: domain.as_str().to_owned(),
            years: i64::from(purchase.years),
            auto_renew: purchase.auto_renew,
            price: price.purchase_price,
            status: "purchasing".into(),
            error_code: None,
            created_at: 0,
        };
        let mut conn = self.store.read().await.map_err(unavailable)?;
        // A retry of the same purchase finds its order; anyone else finds the name taken.
        if let Some(placed) = sim_registrar::order_for(&mut conn, &purchase.reference).await.map_err(unavailable)? {
            return Ok(placed.id);
        }
        let taken = || ProviderError::upstream(400, "domain_not_available", "The domain is not available");
        if !self.availability(domain).await? {
            return Err(taken());
        }
        drop(conn);
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        match sim_registrar::place_order(&mut tx, &purchase.reference, &order, self.clock.now_ms()).await {
            Ok(()) => {
                tx.commit().await.map_err(|e| unavailable(e.into()))?;
                Ok(order.id)
            }
            Err(error) if error.violates(Unique::SimulatedSale) || error.violates(Unique::SimulatedReference) => {
                drop(tx);
                // A concurrent call with the same reference may have placed it: then it is ours.
                let mut conn = self.store.read().await.map_err(unavailable)?;
                match sim_registrar::order_for(&mut conn, &purchase.reference).await.map_err(unavailable)? {
                    Some(placed) => Ok(placed.id),
                    None => Err(taken()),
                }
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn order(&self, order_id: &str) -> Result<RegistrarOrder, ProviderError> {
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        let Some(order) = sim_registrar::order(&mut tx, order_id).await.map_err(unavailable)? else {
            return Err(ProviderError::upstream(404, "not_found", format!("Order {order_id} not found")));
        };
        let now = self.clock.now_ms();
        if order.status == "purchasing" && now >= order.created_at + PURCHASE_MS {
            let outcome = if order.domain.starts_with("fail") {
                Err("unexpected-error")
            } else {
                Ok(now + order.years * YEAR_MS)
            };
            sim_registrar::finish_order(&mut tx, &order, outcome, now).await.map_err(unavailable)?;
        }
        let order = sim_registrar::order(&mut tx, order_id).await.map_err(unavailable)?.unwrap_or(order);
        tx.commit().await.map_err(|e| unavailable(e.into()))?;
        let state = match order.status.as_str() {
            "completed" => OrderState::Completed,
            "failed" => OrderState::Failed,
            _ => OrderState::Purchasing,
        };
        Ok(RegistrarOrder { id: order.id, state, error: order.error_code })
    }

    async fn registered(&self, domain: &DomainName) -> Result<RegisteredDomain, ProviderError> {
        let mut conn = self.store.read().await.map_err(unavailable)?;
        match sim_registrar::sold(&mut conn, domain.as_str()).await.map_err(unavailable)? {
            Some((bought_at, expires_at, auto_renew)) => {
                Ok(RegisteredDomain { bought_at: Some(bought_at), expires_at: Some(expires_at), auto_renew })
            }
            None => Err(domain_not_found(domain)),
        }
    }

    async fn domains(&self) -> Result<Vec<AccountDomain>, ProviderError> {
        let mut conn = self.store.read().await.map_err(unavailable)?;
        let sold = sim_registrar::sold_names(&mut conn).await.map_err(unavailable)?;
        Ok(sold
            .into_iter()
            .map(|(name, bought_at, expires_at, auto_renew)| AccountDomain {
                name,
                created_at: bought_at,
                expires_at: Some(expires_at),
                auto_renew,
                nameservers: NAMESERVERS.map(str::to_owned).to_vec(),
            })
            .collect())
    }

    async fn records(&self, domain: &DomainName) -> Result<Vec<RegistrarRecord>, ProviderError> {
        self.registered(domain).await?;
        let mut conn = self.store.read().await.map_err(unavailable)?;
        let records = sim_registrar::records(&mut conn, domain.as_str()).await.map_err(unavailable)?;
        Ok(records
            .into_iter()
            .map(|r| RegistrarRecord {
                id: r.id,
                record_type: r.record_type,
                name: r.name,
                value: r.value,
                ttl: r.ttl,
                priority: r.priority,
                created_at: r.created_at,
            })
            .collect())
    }

    async fn create_record(&self, domain: &DomainName, record: &NewRecord) -> Result<String, ProviderError> {
        self.registered(domain).await?;
        let stored = SimRecord {
            id: format!("rec_{}", &uuid::Uuid::new_v4().simple().to_string()[..24]),
            name: record.name.clone(),
            record_type: record.record_type.clone(),
            value: record.value.clone(),
            ttl: record.ttl,
            priority: record.priority,
            created_at: self.clock.now_ms(),
        };
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        sim_registrar::add_record(&mut tx, domain.as_str(), &stored).await.map_err(unavailable)?;
        tx.commit().await.map_err(|e| unavailable(e.into()))?;
        Ok(stored.id)
    }

    async fn delete_record(&self, domain: &DomainName, record_id: &str) -> Result<(), ProviderError> {
        self.registered(domain).await?;
        let mut tx = self.store.begin().await.map_err(unavailable)?;
        if !sim_registrar::delete_record(&mut tx, domain.as_str(), record_id).await.map_err(unavailable)? {
            return Err(ProviderError::upstream(
                404,
                "not_found",
                format!("Could not find the DNS record: {record_id}"),
            ));
        }
        tx.commit().await.map_err(|e| unavailable(e.into()))?;
        Ok(())
    }
}
