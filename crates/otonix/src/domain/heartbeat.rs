//! Who may write to an agent, and what a heartbeat does to it (SPEC §4.2, §7.1): decided here,
//! once, for every backend. The stores read the agent, call [`BeatingAgent::beat`] or
//! [`may_write`], and write what they are told.

use super::{AgentStatus, Health};
use crate::clock::Millis;

/// The stored owner of records the admin creates without an agent (SPEC §3.4).
pub const ADMIN_OWNER: &str = "admin";

/// Who writes: the admin (any agent) or an API key (its own agents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// The admin token.
    Admin,
    /// An API key, by id.
    Key(&'a str),
}

impl<'a> Caller<'a> {
    /// The admin for `None`, else the key.
    pub fn from_key(key_id: Option<&'a str>) -> Self {
        key_id.map_or(Self::Admin, Self::Key)
    }
}

/// Why a write to an agent is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteRefusal {
    /// The agent belongs to another key (403).
    NotOwner,
    /// The agent is terminated (409 `agent_terminated`).
    Terminated,
}

/// May `caller` write (a heartbeat, an action) to an agent owned by `owner` in `status`?
pub fn may_write(caller: Caller<'_>, owner: &str, status: AgentStatus) -> Result<(), WriteRefusal> {
    if matches!(caller, Caller::Key(key) if key != owner) {
        return Err(WriteRefusal::NotOwner);
    }
    if status == AgentStatus::Terminated {
        return Err(WriteRefusal::Terminated);
    }
    Ok(())
}

/// An agent as a heartbeat finds it: what the decision reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeatingAgent {
    /// The owning key.
    pub owner: String,
    /// The stored status.
    pub status: AgentStatus,
    /// Expected seconds between heartbeats.
    pub interval_seconds: i64,
    /// The latest acknowledged heartbeat.
    pub last_heartbeat: Option<Millis>,
}

/// What an accepted heartbeat changes and tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatOutcome {
    /// The agent's last heartbeat from now on (never earlier than one already recorded).
    pub last_heartbeat: Millis,
    /// When the next heartbeat is due.
    pub next_expected: Millis,
    /// Health just before this heartbeat.
    pub health_before: Health,
    /// The change to record as an `agent.health_changed` event, if any.
    pub change: Option<HealthChange>,
}

/// A change of health (and of the status it brings), as the event records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthChange {
    /// Health before.
    pub from: Health,
    /// Health after.
    pub to: Health,
    /// Stored status before.
    pub status_from: AgentStatus,
    /// Stored status after.
    pub status_to: AgentStatus,
}

impl HealthChange {
    /// True when the change brings an `inactive` agent back to `active` (a status write).
    pub fn reactivates(&self) -> bool {
        self.status_from == AgentStatus::Inactive && self.status_to == AgentStatus::Active
    }
}

impl BeatingAgent {
    /// Applies a heartbeat of `caller` at `now`: refused, or accepted with what to write. The
    /// agent is updated, so several heartbeats in one batch are decided one after the other.
    pub fn beat(&mut self, caller: Caller<'_>, now: Millis) -> Result<HeartbeatOutcome, WriteRefusal> {
        may_write(caller, &self.owner, self.status)?;
        let health_before = Health::at(self.last_heartbeat, self.interval_seconds, now);
        // Another replica's clock may run ahead: a heartbeat never moves the last one back.
        let last_heartbeat = self.last_heartbeat.map_or(now, |last| last.max(now));
        let status_after = AgentStatus::Active;
        let change = (health_before != Health::Up || self.status != status_after).then_some(HealthChange {
            from: health_before,
            to: Health::Up,
            status_from: self.status,
            status_to: status_after,
        });
        self.last_heartbeat = Some(last_heartbeat);
        self.status = status_after;
        Ok(HeartbeatOutcome {
            last_heartbeat,
            next_expected: last_heartbeat + 1000 * self.interval_seconds,
            health_before,
            change,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Vocabulary;
    use proptest::prelude::*;

    fn agent(status: AgentStatus, last: Option<Millis>) -> BeatingAgent {
        BeatingAgent { owner: "k1".into(), status, interval_seconds: 60, last_heartbeat: last }
    }

    #[test]
    fn only_the_owner_and_the_admin_write_and_never_to_a_terminated_agent() {
        let mut live = agent(AgentStatus::Active, None);
        assert_eq!(live.beat(Caller::Key("k2"), 1), Err(WriteRefusal::NotOwner));
        assert!(live.beat(Caller::Admin, 1).is_ok());
        assert!(live.beat(Caller::Key("k1"), 2).is_ok());
        let mut dead = agent(AgentStatus::Terminated, Some(1));
        assert_eq!(dead.beat(Caller::Admin, 5), Err(WriteRefusal::Terminated));
        assert_eq!(dead.beat(Caller::Key("k2"), 5), Err(WriteRefusal::NotOwner));
        assert_eq!(dead, agent(AgentStatus::Terminated, Some(1)), "a refused heartbeat changes nothing");
    }

    #[test]
    fn a_second_heartbeat_in_one_batch_sees_the_first() {
        let mut a = agent(AgentStatus::Inactive, Some(0));
        let first = a.beat(Caller::Key("k1"), 1_000_000).unwrap();
        assert_eq!(first.health_before, Health::Down);
        assert!(first.change.unwrap().reactivates());
        let second = a.beat(Caller::Key("k1"), 1_000_000).unwrap();
        assert_eq!((second.health_before, second.change), (Health::Up, None));
    }

    fn status() -> impl Strategy<Value = AgentStatus> {
        prop::sample::select(AgentStatus::ALL)
    }

    proptest! {
        /// SPEC §7.1: up to two intervals after the last heartbeat `up`, up to three `late`,
        /// then `down`; never a heartbeat `pending`.
        #[test]
        fn health_follows_the_thresholds(last in 0i64..1 << 40, interval in 1i64..86_400, after in 0i64..400_000_000) {
            let now = last + after;
            let expected = if after > 3 * interval * 1000 {
                Health::Down
            } else if after > 2 * interval * 1000 {
                Health::Late
            } else {
                Health::Up
            };
            prop_assert_eq!(Health::at(Some(last), interval, now), expected);
            prop_assert_eq!(Health::at(None, interval, now), Health::Pending);
        }

        /// A heartbeat is accepted exactly when the caller may write; an accepted one leaves the
        /// agent `up` and `active`, due one interval after its latest heartbeat, and says what
        /// changed exactly when health or status did.
        #[test]
        fn a_heartbeat_follows_the_rule(
            status in status(),
            last in prop::option::of(0i64..1 << 40),
            interval in 1i64..86_400,
            now in 0i64..1 << 40,
            own in any::<bool>(),
            admin in any::<bool>(),
        ) {
            let mut subject = BeatingAgent { owner: "owner".into(), status, interval_seconds: interval, last_heartbeat: last };
            let caller = if admin { Caller::Admin } else if own { Caller::Key("owner") } else { Caller::Key("other") };
            let before = subject.clone();
            match subject.beat(caller, now) {
                Err(refusal) => {
                    prop_assert_eq!(Err(refusal), may_write(caller, "owner", status));
                    prop_assert_eq!(subject, before);
                }
                Ok(outcome) => {
                    prop_assert!(may_write(caller, "owner", status).is_ok());
                    let latest = last.map_or(now, |l| l.max(now));
                    prop_assert_eq!(outcome.last_heartbeat, latest);
                    prop_assert_eq!(outcome.next_expected, latest + 1000 * interval);
                    prop_assert_eq!(outcome.health_before, Health::at(last, interval, now));
                    prop_assert_eq!(Health::at(subject.last_heartbeat, interval, now), Health::Up);
                    prop_assert_eq!(subject.status, AgentStatus::Active);
                    let changed = outcome.health_before != Health::Up || status != AgentStatus::Active;
                    prop_assert_eq!(outcome.change.is_some(), changed);
                }
            }
        }
    }
}
