//! Domain names as the API accepts them: fully qualified, lowercase, without a trailing dot.

/// A valid fully qualified domain name (it can hold nothing else).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Parses a name in any case, with or without a trailing dot and surrounding spaces.
    pub fn parse(text: &str) -> Option<Self> {
        let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
        Self::is_valid(&name).then_some(Self(name))
    }

    /// True for a lowercase fully qualified domain name: two labels or more, each 1–63 of
    /// `[a-z0-9-]` not starting or ending with `-`, 253 characters at most, a top-level label
    /// that is not all digits.
    pub fn is_valid(name: &str) -> bool {
        let labels: Vec<&str> = name.split('.').collect();
        name.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fully_qualified_names_parse() {
        assert_eq!(DomainName::parse(" Example.COM. ").unwrap().as_str(), "example.com");
        assert!(DomainName::parse("a-b.example.co.uk").is_some());
        for bad in ["localhost", "-bad.com", "bad..com", "1.2.3.4", "under_score.com", ""] {
            assert!(DomainName::parse(bad).is_none(), "{bad}");
        }
        assert!(DomainName::parse(&format!("{}.com", "a".repeat(64))).is_none(), "a label of 64");
    }
}
