//! The canonical form of a request body an order is bound to (SPEC §5.3): JSON with keys
//! sorted and no whitespace, so a client may re-serialize its body but must send the same values.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical JSON text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        // `10.0` and `10` are the same value: integral numbers are written as integers.
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => out.push_str(&(f as i64).to_string()),
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// SHA-256 of the canonical JSON, lowercase hex.
pub fn body_hash(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_and_spacing_do_not_matter() {
        let a: Value = serde_json::from_str(r#"{ "b": [1, 2.0, {"y": 1, "x": null}], "a": "é" }"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":"é","b":[1,2,{"x":null,"y":1}]}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&b), r#"{"a":"é","b":[1,2,{"x":null,"y":1}]}"#);
        assert_ne!(
            body_hash(&canonical_json(&json!({"amount": 10}))),
            body_hash(&canonical_json(&json!({"amount": 11})))
        );
        assert_eq!(canonical_json(&json!({"amount": 9.99})), r#"{"amount":9.99}"#);
    }
}
