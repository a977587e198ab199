//! Logging setup: `tracing` to stderr, human-readable or JSON (`OTONIX_LOG_FORMAT=json`),
//! filtered by `RUST_LOG` or `log.level`. Nothing logged anywhere includes keys, tokens,
//! private keys or payment headers: handlers log ids, never credentials or bodies.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
