//! Providers (`providers.*`, SPEC §6): the mode of each upstream and what a purchase adds to
//! its price.

use serde::{Deserialize, Serialize};

/// How a provider runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderMode {
    /// A stateful in-process simulator with the upstream's behaviour (the default).
    Simulated,
    /// Not available: its endpoints answer 503 `provider_not_configured`.
    Off,
}

impl ProviderMode {
    /// The mode's name (`simulated`, `off`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simulated => "simulated",
            Self::Off => "off",
        }
    }

    /// Parses a mode name.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "simulated" => Some(Self::Simulated),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// The providers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ProvidersConfig {
    /// Vercel: domains and DNS.
    pub vercel: VercelConfig,
}

/// Vercel (`providers.vercel.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct VercelConfig {
    /// `simulated` (default) or `off`.
    pub mode: ProviderMode,
    /// Percent added to the registrar's price of a domain purchase (0–1000).
    pub markup_percent: u32,
}

impl Default for VercelConfig {
    fn default() -> Self {
        Self { mode: ProviderMode::Simulated, markup_percent: 0 }
    }
}
