//! Step 4: the authorization's validity window, against the server's clock.

use alloy_primitives::U256;

use crate::constants::{VALID_BEFORE_MIN_MARGIN_SECS, VALID_BEFORE_SLACK_SECS};
use crate::eip712::Authorization;
use crate::rejection::Rejection;

/// Step 4 at `now` (unix seconds): `validAfter ≤ now`, `validBefore ≥ now + 6` (time to
/// settle), `validBefore ≤ now + max_timeout_seconds + 60` (a leaked header stays usable only
/// briefly). All bounds inclusive; compared as `uint256`, so no value can overflow.
pub fn check_window(authorization: &Authorization, now: u64, max_timeout_seconds: u64) -> Result<(), Rejection> {
    if authorization.valid_after > U256::from(now) {
        return Err(Rejection::NotYetValid { valid_after: authorization.valid_after, now });
    }
    let earliest = now.saturating_add(VALID_BEFORE_MIN_MARGIN_SECS);
    if authorization.valid_before < U256::from(earliest) {
        return Err(Rejection::ExpiresTooSoon { valid_before: authorization.valid_before, earliest });
    }
    let latest = now.saturating_add(max_timeout_seconds).saturating_add(VALID_BEFORE_SLACK_SECS);
    if authorization.valid_before > U256::from(latest) {
        return Err(Rejection::ExpiresTooLate { valid_before: authorization.valid_before, latest });
    }
    Ok(())
}
