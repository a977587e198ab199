//! Field validation that collects every problem and names each field (SPEC §2.4).

use crate::domain::{AgentId, DomainName, EvmAddress, Usdc};
use std::net::IpAddr;

use crate::clock::{Millis, parse_rfc3339};
use crate::error::{ApiError, FieldErrors};

/// Collects field errors; [`Check::finish`] turns them into one 400.
#[derive(Debug, Default)]
pub struct Check {
    errors: FieldErrors,
}

/// Values that are present once their checks passed: a tuple of `Option`s.
pub trait Present {
    /// The values themselves.
    type Values;
    /// All of them, if all are there.
    fn present(self) -> Option<Self::Values>;
}

macro_rules! present {
    ($($value:ident),+) => {
        impl<$($value),+> Present for ($(Option<$value>,)+) {
            type Values = ($($value,)+);

            #[allow(non_snake_case)]
            fn present(self) -> Option<Self::Values> {
                let ($($value,)+) = self;
                Some(($($value?,)+))
            }
        }
    };
}

present!(A);
present!(A, B);
present!(A, B, C);

impl Check {
    /// A fresh check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with a field.
    pub fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.entry(field.to_owned()).or_insert_with(|| reason.into());
    }

    /// How many fields failed so far.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// 400 if anything failed.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }

    /// A required value: missing is a failure of `field`.
    pub fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.fail(field, "is required");
        }
        value
    }

    /// Finishes like [`Check::finish`] and hands back the required values, present: each one
    /// missing or invalid recorded a failure, so none can be absent once no field failed.
    pub fn finish_with<V: Present>(self, values: V) -> Result<V::Values, ApiError> {
        self.finish()?;
        values.present().ok_or_else(|| ApiError::internal(anyhow::anyhow!("a required value went missing unnoticed")))
    }

    /// A required, non-empty string of at most `max` characters.
    pub fn required_text(&mut self, field: &str, value: Option<String>, max: usize) -> String {
        match value {
            None => {
                self.fail(field, "is required");
                String::new()
            }
            Some(text) if text.trim().is_empty() => {
                self.fail(field, "must not be empty");
                text
            }
            Some(text) => {
                self.within(field, &text, max);
                text
            }
        }
    }

    /// An optional string of at most `max` characters.
    pub fn text(&mut self, field: &str, value: Option<String>, max: usize) -> Option<String> {
        if let Some(text) = &value {
            self.within(field, text, max);
        }
        value
    }

    /// An optional string of at most `max` bytes.
    pub fn text_bytes(&mut self, field: &str, value: Option<String>, max: usize) -> Option<String> {
        if let Some(text) = &value {
            if text.len() > max {
                self.fail(field, format!("must be at most {max} bytes"));
            }
            self.no_nul(field, text);
        }
        value
    }

    /// At most `max` characters, and storable.
    fn within(&mut self, field: &str, text: &str, max: usize) {
        if text.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        self.no_nul(field, text);
    }

    /// PostgreSQL text cannot hold U+0000, so no backend stores it.
    fn no_nul(&mut self, field: &str, text: &str) {
        if text.contains('\0') {
            self.fail(field, "must not contain NUL characters (U+0000)");
        }
    }

    /// An optional integer within `min..=max`.
    pub fn int_range(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) -> Option<i64> {
        if let Some(v) = value
            && !(min..=max).contains(&v)
        {
            self.fail(field, format!("must be between {min} and {max}"));
        }
        value
    }

    /// An optional value that must be one of `allowed`.
    pub fn one_of(&mut self, field: &str, value: Option<String>, allowed: &[&str]) -> Option<String> {
        if let Some(v) = &value
            && !allowed.contains(&v.as_str())
        {
            self.fail(field, format!("must be one of: {}", allowed.join(", ")));
        }
        value
    }

    /// An optional name of a [`Vocabulary`](crate::domain::Vocabulary) (a status, a type).
    pub fn word<T: crate::domain::Vocabulary>(&mut self, field: &str, value: Option<String>) -> Option<T> {
        let text = value?;
        let word = T::parse(&text);
        if word.is_none() {
            self.fail(field, format!("must be one of: {}", T::NAMES.join(", ")));
        }
        word
    }

    /// An optional EVM address, returned EIP-55 checksummed.
    pub fn address(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let text = value?;
        match EvmAddress::parse(&text).map(|a| a.to_string()) {
            Some(address) => Some(address),
            None => {
                self.fail(
                    field,
                    "must be a 0x-prefixed 20-byte hex address (mixed case must be a valid EIP-55 checksum)",
                );
                None
            }
        }
    }

    /// An optional IPv4 or IPv6 address, returned in canonical form.
    pub fn ip(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let text = value?;
        match text.trim().parse::<IpAddr>() {
            Ok(ip) => Some(ip.to_string()),
            Err(_) => {
                self.fail(field, "must be an IPv4 or IPv6 address");
                None
            }
        }
    }

    /// An optional RFC 3339 timestamp.
    pub fn timestamp(&mut self, field: &str, value: Option<String>) -> Option<Millis> {
        let text = value?;
        let parsed = parse_rfc3339(&text);
        if parsed.is_none() {
            self.fail(field, "must be an RFC 3339 timestamp such as 2026-02-20T12:00:00.000Z");
        }
        parsed
    }

    /// An optional USDC amount with at most 6 decimals within `min..=max`.
    pub fn money(&mut self, field: &str, value: Option<f64>, min: Usdc, max: Usdc) -> Option<Usdc> {
        match Usdc::from_f64(value?) {
            Ok(amount) if (min..=max).contains(&amount) => Some(amount),
            Ok(_) => {
                self.fail(field, format!("must be between {min} and {max}"));
                None
            }
            Err(e) => {
                self.fail(field, e.to_string());
                None
            }
        }
    }

    /// An optional UUID reference, returned normalized.
    pub fn uuid(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let text = value?;
        match uuid::Uuid::parse_str(&text) {
            Ok(id) => Some(id.hyphenated().to_string()),
            Err(_) => {
                self.fail(field, "must be a UUID");
                None
            }
        }
    }

    /// An optional agent id.
    pub fn agent_id(&mut self, field: &str, value: Option<String>) -> Option<AgentId> {
        let id = AgentId::parse(&value?);
        if id.is_none() {
            self.fail(field, "must be a UUID");
        }
        id
    }

    /// An optional domain name (lowercase, without a trailing dot).
    pub fn domain_name(&mut self, field: &str, value: Option<String>) -> Option<DomainName> {
        let name = DomainName::parse(&value?);
        if name.is_none() {
            self.fail(field, "must be a fully qualified domain name such as example.com");
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_problem() {
        let mut check = Check::new();
        check.required_text("name", None, 128);
        check.int_range("heartbeatInterval", Some(5), 10, 86_400);
        check.ip("vpsIp", Some("300.1.1.1".into()));
        match check.finish() {
            Err(ApiError::Validation(fields)) => assert_eq!(fields.len(), 3),
            other => panic!("unexpected {other:?}"),
        }
    }
}
