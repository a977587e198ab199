//! The upstream providers (SPEC §6): what the handlers and the automation engine ask of a domain
//! registrar and a compute provider, behind traits, so that a live client and a simulator are
//! interchangeable. A provider is `simulated` (the embedded default) or `off`; the provider
//! error says what went wrong upstream, and `api` maps it to SPEC §2.2.

pub mod cherry;
pub mod http;
pub mod vercel;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::clock::SharedClock;
pub use crate::config::ProviderMode;
use crate::store::Store;
pub use cherry::ComputeProvider;
pub use vercel::DomainRegistrar;

/// What went wrong asking an upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider is `off`.
    #[error("the provider is not configured")]
    NotConfigured,
    /// The upstream answered with an error.
    #[error("upstream {status}: {code}: {message}")]
    Upstream {
        /// HTTP status the upstream answered.
        status: u16,
        /// The upstream's error code (`tld_not_supported`, …).
        code: String,
        /// The upstream's message.
        message: String,
        /// How long the upstream asked to wait (429, 503).
        retry_after: Option<Duration>,
    },
    /// The upstream could not be reached or answered something unreadable.
    #[error("transport: {0}")]
    Transport(String),
}

impl ProviderError {
    /// An upstream error without a wait.
    pub fn upstream(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::Upstream { status, code: code.to_owned(), message: message.into(), retry_after: None }
    }
}

/// How long a live upstream's reachability is remembered.
const REACHABILITY_TTL: Duration = Duration::from_secs(60);

/// The providers of this server, as configured.
#[derive(Clone)]
pub struct Providers {
    /// The domain registrar (Vercel); `None` when `off`.
    pub vercel: Option<Arc<dyn DomainRegistrar>>,
    /// The compute provider (Cherry Servers); `None` when `off`.
    pub cherry: Option<Arc<dyn ComputeProvider>>,
    vercel_reachable: Reachability,
}

/// A live upstream's last answer to "do you answer?", kept for [`REACHABILITY_TTL`].
#[derive(Clone, Default)]
struct Reachability(Arc<Mutex<Option<(Instant, bool)>>>);

impl Reachability {
    async fn get(&self, check: impl std::future::Future<Output = bool>) -> bool {
        if let Some((at, reachable)) = *self.0.lock()
            && at.elapsed() < REACHABILITY_TTL
        {
            return reachable;
        }
        let reachable = check.await;
        *self.0.lock() = Some((Instant::now(), reachable));
        reachable
    }
}

impl Providers {
    /// The providers of a configuration; simulators keep their state in `store`.
    pub fn new(
        config: &crate::config::ProvidersConfig,
        store: &Store,
        clock: &SharedClock,
    ) -> Result<Self, ProviderError> {
        let vercel: Option<Arc<dyn DomainRegistrar>> = match config.vercel.mode {
            ProviderMode::Live => Some(Arc::new(vercel::LiveRegistrar::new(&config.vercel)?)),
            ProviderMode::Simulated => Some(Arc::new(vercel::SimulatedRegistrar::new(store.clone(), clock.clone()))),
            ProviderMode::Off => None,
        };
        let cherry: Option<Arc<dyn ComputeProvider>> = match config.cherry.mode {
            ProviderMode::Simulated => Some(Arc::new(cherry::SimulatedCompute)),
            ProviderMode::Live | ProviderMode::Off => None,
        };
        Ok(Self { vercel, cherry, vercel_reachable: Reachability::default() })
    }

    /// Whether the registrar answers; a live one is asked at most once a minute.
    pub async fn vercel_reachable(&self) -> bool {
        let Some(registrar) = &self.vercel else { return false };
        self.vercel_reachable.get(async { registrar.check_auth().await.is_ok() }).await
    }

    /// Whether the compute provider answers.
    pub async fn cherry_reachable(&self) -> bool {
        match &self.cherry {
            Some(compute) => compute.check_auth().await.is_ok(),
            None => false,
        }
    }

    /// The compute provider, or [`ProviderError::NotConfigured`].
    pub fn compute(&self) -> Result<&dyn ComputeProvider, ProviderError> {
        self.cherry.as_deref().ok_or(ProviderError::NotConfigured)
    }

    /// The registrar, or [`ProviderError::NotConfigured`].
    pub fn registrar(&self) -> Result<&dyn DomainRegistrar, ProviderError> {
        self.vercel.as_deref().ok_or(ProviderError::NotConfigured)
    }
}
