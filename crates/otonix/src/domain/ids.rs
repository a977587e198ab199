//! Agent ids: UUIDs, written hyphenated and lowercase wherever they appear (paths, bodies,
//! rows, events).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// An agent's id (it can hold nothing but a UUID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(Uuid);

impl AgentId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    /// Parses a UUID in any of its spellings (hyphenated, simple, braced, any case).
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(Self)
    }

    /// A fixed id for tests: `n` as a UUID (`AgentId::numbered(1)` is `…-000000000001`).
    #[cfg(test)]
    pub(crate) fn numbered(n: u128) -> Self {
        Self(Uuid::from_u128(n))
    }

    /// The id's bytes, for spreading agents over shards.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl std::fmt::Display for AgentId {
    /// Hyphenated lowercase, as stored.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl Serialize for AgentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AgentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("an agent id must be a UUID"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_in_any_spelling_and_print_one_way() {
        let id = AgentId::parse("6F9619FF-8B86-D011-B42D-00CF4FC964FF").unwrap();
        assert_eq!(id.to_string(), "6f9619ff-8b86-d011-b42d-00cf4fc964ff");
        assert_eq!(AgentId::parse("6f9619ff8b86d011b42d00cf4fc964ff"), Some(id));
        assert_eq!(serde_json::to_value(id).unwrap(), "6f9619ff-8b86-d011-b42d-00cf4fc964ff");
        assert_eq!(serde_json::from_value::<AgentId>(serde_json::to_value(id).unwrap()).unwrap(), id);
        assert!(serde_json::from_str::<AgentId>("\"agent-1\"").is_err());
        for bad in ["", "agent-1", "6f9619ff-8b86-d011-b42d-00cf4fc964f", "../etc/passwd"] {
            assert_eq!(AgentId::parse(bad), None, "{bad}");
        }
        assert_ne!(AgentId::generate(), AgentId::generate());
    }
}
