//! DNS record input: validated per record type, shared by domain records and (later) the
//! registrar's DNS endpoints.

use serde::Deserialize;
use utoipa::ToSchema;

use super::validate::Check;
use crate::domain::DomainName;
use crate::store::domains::DnsRecord;
use crate::store::new_id;

/// Record types accepted.
pub const RECORD_TYPES: &[&str] = &["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"];

/// A DNS record as a client sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecordInput {
    /// Kept when given (so a PATCH can resend records unchanged); generated otherwise.
    pub id: Option<String>,
    /// `A`, `AAAA`, `CNAME`, `MX`, `TXT`, `NS`, `SRV` or `CAA`.
    #[serde(rename = "type")]
    pub record_type: Option<String>,
    /// Name relative to the domain: `@` for the apex, or labels such as `www`.
    pub name: Option<String>,
    /// Value, validated per type.
    pub value: Option<String>,
    /// TTL in seconds, 60–86,400 (default 300).
    pub ttl: Option<i64>,
    /// Priority, 0–65,535 (required for MX and SRV).
    pub priority: Option<i64>,
}

fn is_host(text: &str) -> bool {
    DomainName::is_valid(text.trim_end_matches('.'))
}

fn is_record_name(name: &str) -> bool {
    name == "@"
        || (name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && (label == "*"
                        || label
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'))
            }))
}

/// Validates one record; problems are recorded under `field` (e.g. `dnsRecords[0].value`).
pub fn validate_record(check: &mut Check, field: &str, input: DnsRecordInput) -> Option<DnsRecord> {
    let before = check.error_count();
    let record_type = check
        .one_of(&format!("{field}.type"), input.record_type.map(|t| t.to_ascii_uppercase()), RECORD_TYPES)
        .or_else(|| {
            check.fail(&format!("{field}.type"), "is required");
            None
        });
    let name = input.name.map(|n| n.trim().to_ascii_lowercase()).unwrap_or_else(|| "@".into());
    if !is_record_name(&name) {
        check.fail(&format!("{field}.name"), "must be @ or DNS labels such as www");
    }
    let value = check.required_text(&format!("{field}.value"), input.value, 2048).trim().to_owned();
    let ttl = check.int_range(&format!("{field}.ttl"), input.ttl, 60, 86_400).unwrap_or(300);
    let priority = check.int_range(&format!("{field}.priority"), input.priority, 0, 65_535);
    let record_type = record_type?;
    let value_ok = match record_type.as_str() {
        "A" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "CNAME" | "NS" | "MX" => is_host(&value),
        "SRV" => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            parts.len() == 3 && parts[0].parse::<u16>().is_ok() && parts[1].parse::<u16>().is_ok() && is_host(parts[2])
        }
        "CAA" => {
            let parts: Vec<&str> = value.splitn(3, ' ').collect();
            parts.len() == 3 && parts[0].parse::<u8>().is_ok() && ["issue", "issuewild", "iodef"].contains(&parts[1])
        }
        _ => !value.is_empty(),
    };
    if !value_ok {
        check.fail(&format!("{field}.value"), format!("is not a valid {record_type} value"));
    }
    if matches!(record_type.as_str(), "MX" | "SRV") && priority.is_none() {
        check.fail(&format!("{field}.priority"), format!("is required for {record_type} records"));
    }
    if check.error_count() != before {
        return None;
    }
    Some(DnsRecord {
        id: input.id.filter(|id| !id.is_empty() && id.len() <= 64).unwrap_or_else(new_id),
        record_type,
        name,
        value,
        ttl,
        priority,
    })
}

/// Validates a list of records (at most 100) under `field`.
pub fn validate_records(check: &mut Check, field: &str, inputs: Vec<DnsRecordInput>) -> Vec<DnsRecord> {
    if inputs.len() > 100 {
        check.fail(field, "must hold at most 100 records");
        return Vec::new();
    }
    inputs
        .into_iter()
        .enumerate()
        .filter_map(|(i, input)| validate_record(check, &format!("{field}[{i}]"), input))
        .collect()
}
