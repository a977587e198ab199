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

/// Formats a timestamp as RFC 3339 UTC with milliseconds and `Z` (SPEC §2.1). Every response
/// carries several, so this writes digits directly instead of going through a format parser.
pub fn format_rfc3339(ms: Millis) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    let mut out = String::with_capacity(24);
    for (value, width, separator) in
        [(year, 4, '-'), (month, 2, '-'), (day, 2, 'T'), (h, 2, ':'), (m, 2, ':'), (s, 2, '.'), (milli, 3, 'Z')]
    {
        let digits = value.clamp(0, 9999);
        for power in (0..width).rev() {
            out.push(char::from(b'0' + (digits / 10_i64.pow(power) % 10) as u8));
        }
        out.push(separator);
    }
    out
}

/// Year, month, day of a day count since 1970-01-01 (the proleptic Gregorian calendar;
/// Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
    fn formatting_agrees_with_chrono_across_the_calendar() {
        let mut ms: i64 = 0;
        while ms < 4_102_444_800_000 {
            let expected = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            assert_eq!(format_rfc3339(ms), expected);
            ms += 7_777_777_777; // about every 90 days, hitting leap years and month ends
        }
        assert_eq!(format_rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(parse_rfc3339("2026-02-20T13:00:00+01:00"), Some(1_771_588_800_000));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
