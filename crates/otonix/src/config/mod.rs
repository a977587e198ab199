//! Typed configuration, loaded once at start: built-in defaults < `otonix.toml` < `OTONIX_*`
//! environment variables < command-line flags (SPEC §8).
//!
//! Every setting has one dotted name (`database.url`), used in the file, by `config print`, and by
//! the table of environment variables in [`settings`]. Secrets are [`Secret`]s: they never appear
//! in `Debug` output or in `config print`, and in the file they may be written as `env:NAME`.

mod payments;
mod providers;
mod secret;
mod settings;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{TierRules, Usdc};

pub use payments::{DEV_ASSET, DEV_CHAIN_ID, Failpoint, PaymentMode, PaymentsConfig, redact_url};
pub use providers::{CherryConfig, ProviderMode, ProvidersConfig, RegistrantContact, VercelConfig};
pub use secret::Secret;
pub use settings::{ENVIRONMENT_SETTINGS, Overrides};

/// The whole server configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Config {
    /// Listen address (`--bind`, `OTONIX_BIND`).
    pub bind: SocketAddr,
    /// Data directory: SQLite file and generated admin token (`--data-dir`, `OTONIX_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Public base URL of this server (`https://otonix.example.com`), used in payment challenges;
    /// when unset the request's `Host` header is used.
    pub public_url: Option<String>,
    /// Database settings.
    pub database: DatabaseConfig,
    /// Authentication settings.
    pub auth: AuthConfig,
    /// Logging settings.
    pub log: LogConfig,
    /// Survival tier thresholds and heartbeat recommendations.
    pub tiers: TierConfig,
    /// Write batching for the hot paths (heartbeats, actions).
    pub batching: BatchConfig,
    /// x402 payments.
    pub payments: PaymentsConfig,
    /// Upstream providers.
    pub providers: ProvidersConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./otonix-data"),
            public_url: None,
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            log: LogConfig::default(),
            tiers: TierConfig::default(),
            batching: BatchConfig::default(),
            payments: PaymentsConfig::default(),
            providers: ProvidersConfig::default(),
        }
    }
}

/// Database settings (`database.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…` selects PostgreSQL; unset keeps the embedded SQLite file in the data dir.
    pub url: Option<Secret>,
    /// PostgreSQL schema to use (created if missing); unset uses the server's search path.
    pub schema: Option<String>,
    /// Maximum connections in the pool (readers on SQLite; all connections on PostgreSQL).
    pub pool_size: u32,
    /// Seconds to wait for a connection before giving up.
    pub connect_timeout_seconds: u64,
    /// Statement timeout in milliseconds (PostgreSQL); SQLite busy timeout.
    pub statement_timeout_ms: u64,
    /// SQLite `synchronous` setting: `full` (durable against power loss) or `normal`
    /// (durable against process crashes).
    pub sqlite_synchronous: SqliteSynchronous,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            schema: None,
            pool_size: 8,
            connect_timeout_seconds: 10,
            statement_timeout_ms: 10_000,
            sqlite_synchronous: SqliteSynchronous::Full,
        }
    }
}

/// How hard SQLite syncs at commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// Every commit is on disk before it is acknowledged.
    Full,
    /// Commits survive a process crash; the last ones may be lost on power loss.
    Normal,
}

/// Authentication settings (`auth.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The admin token; generated into `<dataDir>/admin-token` when unset.
    pub admin_token: Option<Secret>,
    /// How long a looked-up API key is trusted before it is read again. This bounds how long a
    /// key revoked through another replica keeps working here.
    pub key_cache_seconds: u64,
    /// Proxies whose `X-Forwarded-For` is believed when finding a client's address.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { admin_token: None, key_cache_seconds: 2, trusted_proxies: Vec::new() }
    }
}

/// Logging settings (`log.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for people, `json` for machines (`OTONIX_LOG_FORMAT`).
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `otonix=debug,info` (`RUST_LOG` wins when set).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Pretty, level: "info".to_owned() }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Survival tiers (`tiers.*`, SPEC §7.2). Amounts in USDC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TierConfig {
    /// Credits strictly above this are `full`.
    pub full_above: Usdc,
    /// Credits from this up to `fullAbove` are `conservation`.
    pub conservation_min: Usdc,
    /// Credits from this below `conservationMin` are `critical`; below it, `terminated` once the
    /// agent has been funded.
    pub critical_min: Usdc,
    /// Recommended heartbeat interval in seconds for `full` agents.
    pub full_heartbeat_seconds: u32,
    /// Recommended heartbeat interval in seconds for `conservation` agents.
    pub conservation_heartbeat_seconds: u32,
    /// Recommended heartbeat interval in seconds for `critical` agents.
    pub critical_heartbeat_seconds: u32,
}

impl TierConfig {
    /// The rules these settings give.
    pub fn rules(&self) -> TierRules {
        TierRules {
            full_above: self.full_above,
            conservation_min: self.conservation_min,
            critical_min: self.critical_min,
            heartbeat_seconds: [
                self.full_heartbeat_seconds.into(),
                self.conservation_heartbeat_seconds.into(),
                self.critical_heartbeat_seconds.into(),
            ],
        }
    }
}

impl Default for TierConfig {
    fn default() -> Self {
        Self {
            full_above: Usdc::whole(50),
            conservation_min: Usdc::whole(10),
            critical_min: Usdc::whole(1),
            full_heartbeat_seconds: 60,
            conservation_heartbeat_seconds: 300,
            critical_heartbeat_seconds: 600,
        }
    }
}

/// Group commit of hot-path writes (`batching.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Most writes committed in one transaction.
    pub max_batch: usize,
    /// Concurrent batch writers on PostgreSQL (SQLite always has one).
    pub postgres_writers: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self { max_batch: 256, postgres_writers: 4 }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid configuration in {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable or flag has a bad value.
    #[error("invalid value for {setting} (from {source_name}): {message}")]
    BadValue {
        /// The dotted setting name.
        setting: &'static str,
        /// Where the value came from (a variable or flag name).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// An `env:NAME` secret reference points at an unset variable.
    #[error("{setting} refers to the environment variable {variable}, which is not set")]
    MissingSecret {
        /// The dotted setting name.
        setting: &'static str,
        /// The variable.
        variable: String,
    },
    /// The settings are inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the configuration: defaults, then the file (if any), then `env`, then `overrides`.
    /// `file` is `None` to use `./otonix.toml` when it exists.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new("otonix.toml").exists() => Self::from_file(Path::new("otonix.toml"))?,
            None => Self::default(),
        };
        settings::apply_environment(&mut config, env)?;
        settings::apply_overrides(&mut config, overrides)?;
        config.resolve_secrets(env)?;
        config.validate()?;
        config.payments.settle_defaults();
        Ok(config)
    }

    /// Reads a TOML file on top of the defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })
    }

    fn resolve_secrets(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(url) = &mut self.database.url {
            url.resolve("database.url", env)?;
        }
        if let Some(token) = &mut self.auth.admin_token {
            token.resolve("auth.adminToken", env)?;
        }
        self.providers.vercel.resolve_secrets(env)?;
        self.payments.resolve_secrets(env)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.payments.validate()?;
        let t = &self.tiers;
        if !(t.critical_min >= Usdc::ZERO && t.critical_min <= t.conservation_min && t.conservation_min <= t.full_above)
        {
            return Err(ConfigError::Invalid(
                "tiers must satisfy 0 <= criticalMin <= conservationMin <= fullAbove".into(),
            ));
        }
        self.providers.vercel.validate()?;
        self.providers.cherry.validate()?;
        let simulated = [self.providers.vercel.mode, self.providers.cherry.mode].contains(&ProviderMode::Simulated);
        if simulated && self.payments.mode != PaymentMode::Dev && !self.providers.allow_simulated_with_real_payments {
            return Err(ConfigError::Invalid(format!(
                "a provider is `simulated` while payments.mode is `{}`: it would sell simulated domains or servers \
                 for real tokens; set providers.vercel.mode and providers.cherry.mode to `live` or `off` \
                 (OTONIX_VERCEL_MODE, OTONIX_CHERRY_MODE), or providers.allowSimulatedWithRealPayments for a test chain",
                self.payments.mode.as_str()
            )));
        }
        if self.database.pool_size == 0 || self.batching.max_batch == 0 || self.batching.postgres_writers == 0 {
            return Err(ConfigError::Invalid(
                "database.poolSize, batching.maxBatch and batching.postgresWriters must be positive".into(),
            ));
        }
        if let Some(token) = &self.auth.admin_token
            && token.expose().len() < 16
        {
            return Err(ConfigError::Invalid("auth.adminToken must be at least 16 characters".into()));
        }
        Ok(())
    }

    /// The configuration as TOML with every secret replaced by `"<redacted>"`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// True when the database is PostgreSQL.
    pub fn uses_postgres(&self) -> bool {
        self.database
            .url
            .as_ref()
            .is_some_and(|u| u.expose().starts_with("postgres://") || u.expose().starts_with("postgresql://"))
    }
}
