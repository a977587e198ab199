//! Closed sets of words the API speaks (statuses, types): one enum each, with its wire name, its
//! stored name (the same) and the list of accepted names for error messages.

/// A closed set of names: statuses, types, tiers.
pub trait Vocabulary: Sized + Copy + 'static {
    /// Every name, in declaration order.
    const NAMES: &'static [&'static str];
    /// Every value, in declaration order.
    const ALL: &'static [Self];

    /// The name on the wire and in the database.
    fn as_str(self) -> &'static str;

    /// The value of a name, if it is one.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.as_str() == text)
    }
}

/// Declares a [`Vocabulary`] enum: `vocabulary! { /// doc \n Name { /// doc \n Variant = "name", … } }`.
#[macro_export]
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $crate::domain::status::Vocabulary for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl $name {
            /// The name on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                $crate::domain::status::Vocabulary::as_str(self)
            }

            /// The value of a name, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                $crate::domain::status::Vocabulary::parse(text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::domain::status::Vocabulary::as_str(*self))
            }
        }
    };
}

vocabulary! {
    /// An agent's status (SPEC §4.2).
    AgentStatus {
        /// Heartbeating or not yet due.
        Active = "active",
        /// Down (read as `inactive` while stored `active`), or deactivated with its key.
        Inactive = "inactive",
        /// Out of credits after having been funded. Final.
        Terminated = "terminated",
    }
}

impl AgentStatus {
    /// The status an agent shows: a `down` agent stored `active` reads `inactive`.
    pub fn effective(self, health: super::Health) -> Self {
        match (self, health) {
            (Self::Active, super::Health::Down) => Self::Inactive,
            (status, _) => status,
        }
    }
}

vocabulary! {
    /// How a logged action ended.
    ActionStatus {
        /// Done.
        Completed = "completed",
        /// Failed.
        Failed = "failed",
        /// Still running.
        Pending = "pending",
    }
}

vocabulary! {
    /// Which way a transaction moves credits.
    TransactionType {
        /// Adds to the balance.
        Credit = "credit",
        /// Takes from the balance.
        Debit = "debit",
    }
}

vocabulary! {
    /// A transaction's state; only `completed` ones move a balance.
    TransactionStatus {
        /// Not final yet.
        Pending = "pending",
        /// Final; moved the balance.
        Completed = "completed",
        /// Did not happen.
        Failed = "failed",
        /// Given back.
        Refunded = "refunded",
    }
}

vocabulary! {
    /// A sandbox (server) record's state.
    SandboxStatus {
        /// Up.
        Running = "running",
        /// Powered off.
        Stopped = "stopped",
        /// Being provisioned.
        Deploying = "deploying",
        /// Broken.
        Error = "error",
        /// Gone.
        Deleted = "deleted",
    }
}

vocabulary! {
    /// A domain record's state.
    DomainStatus {
        /// Being registered.
        Pending = "pending",
        /// Registered.
        Active = "active",
        /// Past its expiry.
        Expired = "expired",
        /// Registration failed.
        Failed = "failed",
    }
}

vocabulary! {
    /// Where a payment order is in its life (SPEC §5.3).
    OrderStatus {
        /// Waiting for a payment.
        Open = "open",
        /// A payment is claimed and being settled.
        Settling = "settling",
        /// Paid; not delivered yet.
        Settled = "settled",
        /// Paid and delivered.
        Delivered = "delivered",
        /// Not paid in time.
        Expired = "expired",
        /// Its payment paid another order (the order can no longer be paid).
        Failed = "failed",
        /// Paid, could not be delivered, refunded.
        Refunded = "refunded",
    }
}

vocabulary! {
    /// An API key's state.
    KeyStatus {
        /// Authenticates.
        Active = "active",
        /// Revoked (with the keys it generated). Final.
        Revoked = "revoked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_on_the_wire_and_in_parse() {
        for status in AgentStatus::ALL {
            assert_eq!(AgentStatus::parse(status.as_str()), Some(*status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(AgentStatus::NAMES, ["active", "inactive", "terminated"]);
        assert_eq!(AgentStatus::parse("Active"), None);
    }
}
