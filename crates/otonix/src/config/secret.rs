//! A configuration secret: redacted in `Debug` and when serialized, resolvable from `env:NAME`.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ConfigError;

/// A secret setting (token, database URL, key). Its value is only reachable through
/// [`Secret::expose`].
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret value. Never log it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Replaces an `env:NAME` reference with the variable's value.
    pub(super) fn resolve(
        &mut self,
        setting: &'static str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(variable) = self.expose().strip_prefix("env:") {
            let variable = variable.to_owned();
            let value = env(&variable).ok_or(ConfigError::MissingSecret { setting, variable })?;
            *self = Self::new(value);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_its_value() {
        let secret = Secret::new("hunter2-hunter2-hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"<redacted>\"");
    }

    #[test]
    fn resolves_environment_references() {
        let mut secret = Secret::new("env:TOKEN_VAR");
        let env = |name: &str| (name == "TOKEN_VAR").then(|| "from-env".to_owned());
        secret.resolve("auth.adminToken", &env).unwrap();
        assert_eq!(secret.expose(), "from-env");
        let mut missing = Secret::new("env:NOPE");
        assert!(missing.resolve("auth.adminToken", &env).is_err());
    }
}
