//! The environment variables and command-line flags that override the file, by setting name.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{Config, ConfigError, LogFormat, Secret, SqliteSynchronous};

/// Values given on the command line; `None` leaves the setting alone.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--bind`.
    pub bind: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--payments-mode`.
    pub payments_mode: Option<super::PaymentMode>,
}

type Apply = fn(&mut Config, &str) -> Result<(), String>;

/// `(variable, setting, how to apply its value)`, in the order they are applied: a later
/// entry wins over an earlier one (so `OTONIX_ADMIN_TOKEN` wins over `SESSION_SECRET`).
pub const ENVIRONMENT_SETTINGS: &[(&str, &str, Apply)] = &[
    ("OTONIX_BIND", "bind", |c, v| parse_into(&mut c.bind, v)),
    ("OTONIX_DATA_DIR", "dataDir", |c, v| {
        c.data_dir = PathBuf::from(v);
        Ok(())
    }),
    ("OTONIX_PUBLIC_URL", "publicUrl", |c, v| {
        c.public_url = Some(v.to_owned());
        Ok(())
    }),
    ("OTONIX_DATABASE_URL", "database.url", |c, v| {
        c.database.url = Some(Secret::new(v));
        Ok(())
    }),
    ("OTONIX_DATABASE_SCHEMA", "database.schema", |c, v| {
        c.database.schema = Some(v.to_owned());
        Ok(())
    }),
    ("OTONIX_DATABASE_POOL_SIZE", "database.poolSize", |c, v| parse_into(&mut c.database.pool_size, v)),
    ("OTONIX_DATABASE_STATEMENT_TIMEOUT_MS", "database.statementTimeoutMs", |c, v| {
        parse_into(&mut c.database.statement_timeout_ms, v)
    }),
    ("OTONIX_SQLITE_SYNCHRONOUS", "database.sqliteSynchronous", |c, v| {
        c.database.sqlite_synchronous = match v {
            "full" => SqliteSynchronous::Full,
            "normal" => SqliteSynchronous::Normal,
            _ => return Err("expected `full` or `normal`".into()),
        };
        Ok(())
    }),
    ("SESSION_SECRET", "auth.adminToken", |c, v| {
        c.auth.admin_token = Some(Secret::new(v));
        Ok(())
    }),
    ("OTONIX_ADMIN_TOKEN", "auth.adminToken", |c, v| {
        c.auth.admin_token = Some(Secret::new(v));
        Ok(())
    }),
    ("OTONIX_KEY_CACHE_SECONDS", "auth.keyCacheSeconds", |c, v| parse_into(&mut c.auth.key_cache_seconds, v)),
    ("OTONIX_LOG_FORMAT", "log.format", |c, v| {
        c.log.format = match v {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            _ => return Err("expected `json` or `pretty`".into()),
        };
        Ok(())
    }),
    ("OTONIX_VERCEL_MODE", "providers.vercel.mode", |c, v| {
        c.providers.vercel.mode = super::ProviderMode::parse(v).ok_or("expected `live`, `simulated` or `off`")?;
        Ok(())
    }),
    ("OTONIX_CHERRY_MODE", "providers.cherry.mode", |c, v| {
        c.providers.cherry.mode = super::ProviderMode::parse(v).ok_or("expected `simulated` or `off`")?;
        Ok(())
    }),
    ("OTONIX_VERCEL_TOKEN", "providers.vercel.token", |c, v| {
        c.providers.vercel.token = Some(Secret::new(v));
        Ok(())
    }),
    ("OTONIX_VERCEL_TEAM_ID", "providers.vercel.teamId", |c, v| {
        c.providers.vercel.team_id = Some(v.trim().to_owned());
        Ok(())
    }),
    ("OTONIX_PAYMENTS_MODE", "payments.mode", |c, v| {
        c.payments.mode = super::PaymentMode::parse(v).ok_or("expected `dev`, `chain` or `facilitator`")?;
        Ok(())
    }),
    ("OTONIX_RPC_URL", "payments.rpcUrl", |c, v| {
        c.payments.rpc_url = Some(Secret::new(v));
        Ok(())
    }),
    ("OTONIX_RELAYER_KEY", "payments.relayerKey", |c, v| {
        c.payments.relayer_key = Some(Secret::new(v));
        Ok(())
    }),
    ("OTONIX_FACILITATOR_URL", "payments.facilitatorUrl", |c, v| {
        c.payments.facilitator_url = Some(v.to_owned());
        Ok(())
    }),
    ("OTONIX_PAYMENTS_CONFIRMATIONS", "payments.confirmations", |c, v| parse_into(&mut c.payments.confirmations, v)),
    ("OTONIX_PAYMENTS_SWEEP_INTERVAL_SECONDS", "payments.sweepIntervalSeconds", |c, v| {
        parse_into(&mut c.payments.sweep_interval_seconds, v)
    }),
    ("OTONIX_PAY_TO", "payments.payTo", |c, v| {
        c.payments.pay_to = v.to_owned();
        Ok(())
    }),
    ("OTONIX_FAILPOINT", "payments.failpoint", |c, v| {
        c.payments.failpoint =
            Some(super::Failpoint::parse(v).ok_or("expected `after-settlement` or `fail-delivery`")?);
        Ok(())
    }),
    ("OTONIX_LOG_LEVEL", "log.level", |c, v| {
        c.log.level = v.to_owned();
        Ok(())
    }),
];

fn parse_into<T: std::str::FromStr>(slot: &mut T, value: &str) -> Result<(), String>
where
    T::Err: std::fmt::Display,
{
    *slot = value.trim().parse().map_err(|e: T::Err| e.to_string())?;
    Ok(())
}

pub(super) fn apply_environment(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for (variable, setting, apply) in ENVIRONMENT_SETTINGS {
        if let Some(value) = env(variable).filter(|v| !v.is_empty()) {
            apply(config, &value).map_err(|message| ConfigError::BadValue {
                setting,
                source_name: (*variable).to_owned(),
                message,
            })?;
        }
    }
    Ok(())
}

pub(super) fn apply_overrides(config: &mut Config, overrides: &Overrides) -> Result<(), ConfigError> {
    if let Some(bind) = overrides.bind {
        config.bind = bind;
    }
    if let Some(dir) = &overrides.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &overrides.database_url {
        config.database.url = Some(Secret::new(url.clone()));
    }
    if let Some(mode) = overrides.payments_mode {
        config.payments.mode = mode;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = std::env::temp_dir().join(format!("otonix-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("otonix.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\ndataDir = \"/from/file\"\n[log]\nformat = \"json\"\n")
            .unwrap();
        let env = env_of(&[("OTONIX_DATA_DIR", "/from/env"), ("OTONIX_LOG_FORMAT", "pretty")]);
        let overrides = Overrides { bind: Some("127.0.0.1:9100".parse().unwrap()), ..Overrides::default() };
        let config = Config::load(Some(&file), &env, &overrides).unwrap();
        assert_eq!(config.bind.port(), 9100);
        assert_eq!(config.data_dir, PathBuf::from("/from/env"));
        assert_eq!(config.log.format, LogFormat::Pretty);
    }

    #[test]
    fn admin_token_prefers_otonix_variable_over_session_secret() {
        let env =
            env_of(&[("SESSION_SECRET", "session-secret-value"), ("OTONIX_ADMIN_TOKEN", "otonix-admin-token-value")]);
        let config = Config::load(None, &env, &Overrides::default()).unwrap();
        assert_eq!(config.auth.admin_token.unwrap().expose(), "otonix-admin-token-value");
        let env = env_of(&[("SESSION_SECRET", "session-secret-value")]);
        let config = Config::load(None, &env, &Overrides::default()).unwrap();
        assert_eq!(config.auth.admin_token.unwrap().expose(), "session-secret-value");
    }

    #[test]
    fn bad_values_name_their_source() {
        let env = env_of(&[("OTONIX_BIND", "not-an-address")]);
        let error = Config::load(None, &env, &Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("OTONIX_BIND"), "{error}");
    }

    #[test]
    fn printing_redacts_secrets() {
        let env = env_of(&[
            ("OTONIX_ADMIN_TOKEN", "super-secret-admin-token"),
            ("OTONIX_DATABASE_URL", "postgres://u:pw@localhost/db"),
            ("OTONIX_PAYMENTS_MODE", "facilitator"),
            ("OTONIX_VERCEL_MODE", "off"),
            ("OTONIX_CHERRY_MODE", "off"),
            (
                "OTONIX_FACILITATOR_URL",
                "https://user:facilitator-pw@facilitator.example.com/x402?apiKey=facilitator-key",
            ),
            ("OTONIX_RPC_URL", "https://rpc.example.com/v2/rpc-key"),
        ]);
        let config = Config::load(None, &env, &Overrides::default()).unwrap();
        let printed = config.to_redacted_toml();
        for secret in ["super-secret", "pw@", "facilitator-pw", "facilitator-key", "rpc-key"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(
            printed.contains("facilitatorUrl = \"https://<redacted>@facilitator.example.com/x402?<redacted>\""),
            "{printed}"
        );
    }

    #[test]
    fn dev_mode_defaults_to_a_chain_and_token_no_real_chain_has() {
        let config = Config::load(None, &env_of(&[]), &Overrides::default()).unwrap();
        assert_eq!(config.payments.chain_id, Some(crate::config::DEV_CHAIN_ID));
        assert_eq!(config.payments.asset.as_deref(), Some(crate::config::DEV_ASSET));
        let env = env_of(&[
            ("OTONIX_PAYMENTS_MODE", "chain"),
            ("OTONIX_VERCEL_MODE", "off"),
            ("OTONIX_CHERRY_MODE", "off"),
            ("OTONIX_RPC_URL", "http://127.0.0.1:1"),
            ("OTONIX_RELAYER_KEY", "0x01"),
        ]);
        let config = Config::load(None, &env, &Overrides::default()).unwrap();
        assert_eq!(config.payments.chain_id, Some(8453));
        assert_eq!(config.payments.asset.as_deref(), Some("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"));
    }

    #[test]
    fn real_payments_refuse_a_simulated_registrar_and_live_needs_a_token() {
        let chain = [
            ("OTONIX_PAYMENTS_MODE", "chain"),
            ("OTONIX_RPC_URL", "http://127.0.0.1:1"),
            ("OTONIX_RELAYER_KEY", "0x01"),
        ];
        let error = Config::load(None, &env_of(&chain), &Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("a provider is `simulated` while payments.mode is `chain`"), "{error}");
        let live = [("OTONIX_VERCEL_MODE", "live")];
        let error = Config::load(None, &env_of(&live), &Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("live mode needs a token"), "{error}");
        let live = [("OTONIX_VERCEL_MODE", "live"), ("OTONIX_VERCEL_TOKEN", "secret-vercel-token")];
        let config = Config::load(None, &env_of(&live), &Overrides::default()).unwrap();
        assert!(!config.to_redacted_toml().contains("secret-vercel-token"));
    }

    #[test]
    fn facilitator_mode_with_transfer_proofs_needs_an_rpc_url() {
        let env = env_of(&[
            ("OTONIX_PAYMENTS_MODE", "facilitator"),
            ("OTONIX_VERCEL_MODE", "off"),
            ("OTONIX_CHERRY_MODE", "off"),
            ("OTONIX_FACILITATOR_URL", "http://127.0.0.1:1"),
        ]);
        let error = Config::load(None, &env, &Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("payments.rpcUrl"), "{error}");
    }
}
