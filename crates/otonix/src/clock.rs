//! The injected clock. Every "now" the server uses comes from here, so tests can move time
//! (make heartbeats late, expire orders) without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, the unit of every stored timestamp.
pub type Millis = i64;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
}

/// A shared clock handle, as kept in the application state.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A manual clock starting at the current system time.
    pub fn starting_now() -> Arc<Self> {
        Arc::new(Self { now: AtomicI64::new(SystemClock.now_ms()) })
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance_secs(&self, secs: i64) {
        self.advance_ms(secs * 1000);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

/// Formats a timestamp as RFC 3339 UTC with milliseconds and `Z` (SPEC §2.1).
pub fn format_rfc3339(ms: Millis) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// Parses an RFC 3339 timestamp (any offset) into milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        assert_eq!(format_rfc3339(1_771_588_800_000), "2026-02-20T12:00:00.000Z");
        assert_eq!(format_rfc3339(1_771_588_800_042), "2026-02-20T12:00:00.042Z");
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(parse_rfc3339("2026-02-20T13:00:00+01:00"), Some(1_771_588_800_000));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
