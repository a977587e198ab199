//! The vocabulary and the rules of the control plane, free of I/O: money, statuses as types, survival
//! tiers and heartbeat health, and the heartbeat decision. `api`, `store`, `payments`, `config`
//! and `cli` depend on this module; it depends on none of them.

pub mod address;
pub mod heartbeat;
pub mod ids;
pub mod names;
pub mod status;
pub mod survival;
pub mod usdc;

pub use address::EvmAddress;
pub use heartbeat::{Caller, WriteRefusal};
pub use ids::AgentId;
pub use names::DomainName;
pub use status::{
    ActionStatus, AgentStatus, DomainStatus, KeyStatus, OrderStatus, SandboxStatus, TransactionStatus, TransactionType,
    Vocabulary,
};
pub use survival::{Health, Tier, TierRules};
pub use usdc::{MoneyError, Usdc};
