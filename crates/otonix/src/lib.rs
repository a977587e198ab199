//! Otonix: a self-hostable control plane for autonomous AI agents.
//!
//! [`Application::build`] turns a [`Config`] into a bound, migrated server; `main.rs` only parses
//! the command line. The layers: [`api`] (HTTP) → [`auth`] / [`store`] → the database.

#![forbid(unsafe_code)]
// The payment flow nests many instrumented async functions: their futures are deep types.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod automation;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod payments;
pub mod private_files;
pub mod providers;
pub mod sanitize;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::Config;

use auth::admin;
use auth::cache::KeyCache;
use state::{AppState, Shared};
use store::Store;

/// A built server: listening, migrated, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    writers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Builds the server on the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the server with an injected clock (tests move it).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut store =
            Store::connect(&config.database, &config.data_dir).await.context("connecting to the database")?;
        store.migrate().await.context("applying database migrations")?;
        let (admin_token, token_file) = admin::load_or_generate(config.auth.admin_token.as_ref(), &config.data_dir)
            .context("loading the admin token")?;
        if let Some(path) = token_file {
            tracing::info!(path = %path.display(), "admin token is in this file");
        }
        let writer_handles = store
            .start_writers(clock.clone(), config.batching.postgres_writers, config.batching.max_batch)
            .await
            .context("starting the batch writer")?;
        let tiers = config.tiers.rules();
        let providers =
            providers::Providers::new(&config.providers, &store, &clock).context("configuring the providers")?;
        let products = api::products(&providers, &config.providers);
        let payments = payments::Payments::new(&config.payments, products, store.clone(), clock.clone(), tiers)
            .context("configuring payments")?;
        payments.check_chain().await.context("checking the payment chain")?;
        if config.payments.mode == config::PaymentMode::Dev && !config.bind.ip().is_loopback() {
            tracing::warn!(
                bind = %config.bind,
                "dev payment mode on a reachable address: any valid signature buys credits here, for no money"
            );
        }
        let listener = TcpListener::bind(config.bind).await.with_context(|| format!("binding {}", config.bind))?;
        let state = AppState::new(Shared {
            providers,
            payments,
            tiers,
            key_cache: KeyCache::new(Duration::from_secs(config.auth.key_cache_seconds)),
            admin_token,
            clock,
            store: store.clone(),
            config,
        });
        tracing::info!(
            address = %listener.local_addr()?,
            database = store.backend().name(),
            startup_ms = started.elapsed().as_millis() as u64,
            "otonix is ready"
        );
        let background = vec![
            tokio::spawn(payment_sweep(state.clone())),
            tokio::spawn(automation::registrar::follow_registrations(state.clone())),
        ];
        Ok(Self { router: api::router(state), listener, store, writers: writer_handles, background })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until SIGTERM or SIGINT, then finishes in-flight requests and flushes writes.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then shuts down gracefully.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await.context("serving HTTP")?;
        // Background work is transactional: stopping it between transactions loses nothing.
        for task in self.background {
            task.abort();
            let _ = task.await;
        }
        // No request is in flight any more: the writers commit what is queued and stop.
        self.store.stop_writers();
        for writer in self.writers {
            let _ = writer.await;
        }
        self.store.close().await;
        tracing::info!("otonix stopped");
        Ok(())
    }
}

/// Runs the payment sweep every `payments.sweepIntervalSeconds`, on one replica at a time.
async fn payment_sweep(state: AppState) {
    let mut ticks = tokio::time::interval(state.payments.sweep_interval());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match state.payments.sweep().await {
            Ok(report) if report.reconciled + report.delivered > 0 => {
                tracing::info!(reconciled = report.reconciled, delivered = report.delivered, "payment sweep");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "payment sweep failed"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
