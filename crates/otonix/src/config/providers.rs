//! Providers (`providers.*`, SPEC §6): the mode of each upstream and what a purchase adds to
//! its price.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};
use crate::domain::Usdc;

/// How a provider runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderMode {
    /// The real upstream, through its HTTP API (a token is needed).
    Live,
    /// A stateful in-process simulator with the upstream's behaviour (the default).
    Simulated,
    /// Not available: its endpoints answer 503 `provider_not_configured`.
    Off,
}

impl ProviderMode {
    /// The mode's name (`simulated`, `off`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Simulated => "simulated",
            Self::Off => "off",
        }
    }

    /// Parses a mode name.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "live" => Some(Self::Live),
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
    /// Cherry Servers: compute.
    pub cherry: CherryConfig,
    /// Lets a simulated provider sell for payments that move real tokens (`payments.mode` other
    /// than `dev`): for a test chain only. Off, such a server refuses to start.
    pub allow_simulated_with_real_payments: bool,
}

/// Cherry Servers (`providers.cherry.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct CherryConfig {
    /// `simulated` (default) or `off` (the live client is not built yet).
    pub mode: ProviderMode,
    /// The plan whose images `GET /api/cherry/images` lists without `?plan=`.
    pub default_plan: String,
    /// US dollars per euro, for plans priced in euros (`monthlyCost`).
    pub usd_per_eur: Usdc,
}

impl Default for CherryConfig {
    fn default() -> Self {
        Self {
            mode: ProviderMode::Simulated,
            default_plan: "B1-2-2gb-40s-shared".into(),
            usd_per_eur: Usdc::from_micros(1_100_000).expect("a small rate"),
        }
    }
}

impl CherryConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: &str| Err(ConfigError::Invalid(format!("providers.cherry: {why}")));
        if self.mode == ProviderMode::Live {
            return invalid("the live Cherry Servers client is not built yet: use `simulated` or `off`");
        }
        if !self.usd_per_eur.is_positive() || self.usd_per_eur > Usdc::whole(100) {
            return invalid("usdPerEur must be above 0 and at most 100");
        }
        if self.default_plan.trim().is_empty() || self.default_plan.len() > 100 {
            return invalid("defaultPlan must be a plan slug");
        }
        Ok(())
    }
}

/// Vercel (`providers.vercel.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct VercelConfig {
    /// `live`, `simulated` (default) or `off`.
    pub mode: ProviderMode,
    /// Percent added to the registrar's price of a domain purchase (0–1000).
    pub markup_percent: u32,
    /// API token (live mode; `env:NAME` reads it from the environment).
    pub token: Option<Secret>,
    /// The team whose account is used (`team_…`), if not the token's personal account.
    pub team_id: Option<String>,
    /// The API's base URL.
    pub api_url: String,
    /// Seconds an upstream call may take.
    pub timeout_seconds: u64,
    /// The registrant the registrar requires on a purchase (live mode).
    pub contact: Option<RegistrantContact>,
}

impl Default for VercelConfig {
    fn default() -> Self {
        Self {
            mode: ProviderMode::Simulated,
            markup_percent: 0,
            token: None,
            team_id: None,
            api_url: "https://api.vercel.com".into(),
            timeout_seconds: 10,
            contact: None,
        }
    }
}

/// The registrant of domains bought live (`contactInformation` of Vercel's buy call).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrantContact {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone, E.164 (`+14155552671`).
    pub phone: String,
    /// Street address.
    pub address1: String,
    /// City.
    pub city: String,
    /// State or region.
    pub state: String,
    /// Postal code.
    pub zip: String,
    /// ISO 3166-1 alpha-2 country (`US`).
    pub country: String,
    /// Company, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
}

impl VercelConfig {
    pub(super) fn resolve_secrets(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        match &mut self.token {
            Some(token) => token.resolve("providers.vercel.token", env),
            None => Ok(()),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: &str| Err(ConfigError::Invalid(format!("providers.vercel: {why}")));
        if self.markup_percent > 1000 {
            return invalid("markupPercent must be between 0 and 1000");
        }
        if self.mode == ProviderMode::Live {
            if self.token.as_ref().is_none_or(|t| t.expose().trim().is_empty()) {
                return invalid("live mode needs a token (providers.vercel.token or OTONIX_VERCEL_TOKEN)");
            }
            if !(self.api_url.starts_with("https://") || self.api_url.starts_with("http://")) {
                return invalid("apiUrl must be an http(s) URL");
            }
            if self.timeout_seconds == 0 || self.timeout_seconds > 300 {
                return invalid("timeoutSeconds must be between 1 and 300");
            }
        }
        Ok(())
    }
}
