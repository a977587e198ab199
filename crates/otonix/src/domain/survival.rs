//! Survival tiers and heartbeat health: pure rules of SPEC §4.2 and §7.2.

use crate::clock::Millis;
use crate::domain::Usdc;

crate::vocabulary! {
    /// Heartbeat health, derived from the last heartbeat and the clock.
    Health {
        /// Registered, no heartbeat yet.
        Pending = "pending",
        /// Heartbeats arrive on time (up to one interval past `nextExpected`).
        Up = "up",
        /// Past `nextExpected` plus one interval of grace.
        Late = "late",
        /// No heartbeat for three intervals.
        Down = "down",
    }
}

/// Intervals after the last heartbeat from which an agent is `late` (one past `nextExpected`).
pub const LATE_AFTER_INTERVALS: i64 = 2;
/// Intervals after the last heartbeat from which an agent is `down`.
pub const DOWN_AFTER_INTERVALS: i64 = 3;

impl Health {
    /// Health at `now` of an agent whose last heartbeat was at `last` (interval in seconds).
    pub fn at(last: Option<Millis>, interval_seconds: i64, now: Millis) -> Self {
        let Some(last) = last else { return Self::Pending };
        let interval = interval_seconds * 1000;
        if now > last + DOWN_AFTER_INTERVALS * interval {
            Self::Down
        } else if now > last + LATE_AFTER_INTERVALS * interval {
            Self::Late
        } else {
            Self::Up
        }
    }
}

crate::vocabulary! {
    /// Survival tier, derived from credits.
    Tier {
        /// Credits above `fullAbove`.
        Full = "full",
        /// Credits from `conservationMin` to `fullAbove`.
        Conservation = "conservation",
        /// Credits from `criticalMin` below `conservationMin`, or never funded.
        Critical = "critical",
        /// Below `criticalMin` after having been funded. Final.
        Terminated = "terminated",
    }
}

/// The tier thresholds and recommended heartbeat intervals (the configuration's `tiers.*`).
#[derive(Debug, Clone, Copy)]
pub struct TierRules {
    /// Credits strictly above this are `full`.
    pub full_above: Usdc,
    /// Credits from this up to `full_above` are `conservation`.
    pub conservation_min: Usdc,
    /// Credits from this below `conservation_min` are `critical`; below it, `terminated` once
    /// the agent has been funded.
    pub critical_min: Usdc,
    /// Recommended heartbeat intervals in seconds for `full`, `conservation` and `critical`.
    pub heartbeat_seconds: [i64; 3],
}

impl TierRules {
    /// The tier for a balance. `funded` tells whether the agent ever held at least the critical
    /// threshold; an agent that never did stays `critical` rather than `terminated`.
    pub fn tier(&self, credits: Usdc, funded: bool) -> Tier {
        if credits > self.full_above {
            Tier::Full
        } else if credits >= self.conservation_min {
            Tier::Conservation
        } else if credits >= self.critical_min || !funded {
            Tier::Critical
        } else {
            Tier::Terminated
        }
    }

    /// The balance from which an agent counts as funded.
    pub fn funded_threshold(&self) -> Usdc {
        self.critical_min
    }

    /// Recommended heartbeat interval in seconds for a tier.
    pub fn recommended_heartbeat(&self, tier: Tier) -> i64 {
        match tier {
            Tier::Full => self.heartbeat_seconds[0],
            Tier::Conservation => self.heartbeat_seconds[1],
            Tier::Critical | Tier::Terminated => self.heartbeat_seconds[2],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdc(micros: i64) -> Usdc {
        Usdc::from_micros(micros).unwrap()
    }

    const USDC: i64 = 1_000_000;

    #[test]
    fn tier_boundaries_follow_the_spec() {
        let rules = TierRules {
            full_above: Usdc::whole(50),
            conservation_min: Usdc::whole(10),
            critical_min: Usdc::whole(1),
            heartbeat_seconds: [60, 300, 600],
        };
        assert_eq!(rules.tier(usdc(50 * USDC + 1), true), Tier::Full);
        assert_eq!(rules.tier(usdc(50 * USDC), true), Tier::Conservation);
        assert_eq!(rules.tier(usdc(10 * USDC), true), Tier::Conservation);
        assert_eq!(rules.tier(usdc(10 * USDC - 1), true), Tier::Critical);
        assert_eq!(rules.tier(usdc(USDC), true), Tier::Critical);
        assert_eq!(rules.tier(usdc(USDC - 1), true), Tier::Terminated);
        assert_eq!(rules.tier(usdc(0), false), Tier::Critical);
        assert_eq!(rules.tier(usdc(-5 * USDC), false), Tier::Critical);
    }

    #[test]
    fn health_moves_with_the_clock() {
        let t0 = 1_000_000;
        assert_eq!(Health::at(None, 60, t0), Health::Pending);
        assert_eq!(Health::at(Some(t0), 60, t0 + 120_000), Health::Up);
        assert_eq!(Health::at(Some(t0), 60, t0 + 120_001), Health::Late);
        assert_eq!(Health::at(Some(t0), 60, t0 + 180_000), Health::Late);
        assert_eq!(Health::at(Some(t0), 60, t0 + 180_001), Health::Down);
    }
}
