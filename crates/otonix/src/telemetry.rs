//! Logging setup: `tracing` to stderr, human-readable or JSON (`OTONIX_LOG_FORMAT=json`),
//! filtered by `RUST_LOG` or `log.level`. A JSON line lists its spans, outermost first: the
//! request's (with its `request_id`), then the store's and the payment engine's steps.
//! Nothing logged anywhere includes keys, tokens,
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
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
