//! The state every handler shares: configuration, database, clock, credentials.

use std::ops::Deref;
use std::sync::Arc;

use crate::auth::admin::AdminToken;
use crate::auth::cache::KeyCache;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::survival::TierRules;
use crate::store::Store;

/// Cheap-to-clone handle on the shared state.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What the handle points at.
pub struct Shared {
    /// The loaded configuration.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The clock.
    pub clock: SharedClock,
    /// The admin token.
    pub admin_token: AdminToken,
    /// Looked-up API keys.
    pub key_cache: KeyCache,
    /// Survival tier thresholds.
    pub tiers: TierRules,
    /// The x402 payment engine.
    pub payments: crate::payments::Payments,
    /// The upstream providers.
    pub providers: crate::providers::Providers,
}

impl AppState {
    /// Wraps the shared parts.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> crate::clock::Millis {
        self.clock.now_ms()
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
