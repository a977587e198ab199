//! Money: USDC amounts kept as integer micro-units (1 USDC = 1,000,000), never floats.
//!
//! JSON carries money as numbers with at most 6 decimals (SPEC §2.1). A number is parsed through
//! its shortest decimal representation, so `9.99` becomes exactly 9,990,000 micro-units and
//! anything finer than a micro-unit is rejected instead of rounded.

/// Micro-units per USDC.
pub const MICROS_PER_USDC: i64 = 1_000_000;

/// The largest balance an agent may hold, either way: 10^12 USDC (SPEC §4.6). Far from the
/// limits of a 64-bit integer, so no sum of a balance and an accepted amount can overflow.
pub const MAX_BALANCE: i64 = 1_000_000_000_000 * MICROS_PER_USDC;

/// Why an amount that would take a balance past [`MAX_BALANCE`] is refused.
pub const BEYOND_BOUND: &str = "would take the agent's balance beyond ±10^12 USDC";

/// Why a money amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a finite number.
    #[error("must be a finite number")]
    NotFinite,
    /// More than six decimals.
    #[error("must have at most 6 decimals")]
    TooPrecise,
    /// Too large to store.
    #[error("is too large")]
    TooLarge,
}

/// Converts a JSON number to micro-units, exactly.
pub fn micros_from_f64(value: f64) -> Result<i64, MoneyError> {
    if !value.is_finite() {
        return Err(MoneyError::NotFinite);
    }
    // Rust prints the shortest representation that reads back as the same f64, which is the
    // decimal text a client wrote for any amount with up to 15 significant digits.
    micros_from_decimal(&format!("{value}"))
}

/// Parses a plain decimal string (`-12.5`, `0.000001`) into micro-units.
pub fn micros_from_decimal(text: &str) -> Result<i64, MoneyError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed =
        !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(MoneyError::NotFinite);
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 6 {
        return Err(MoneyError::TooPrecise);
    }
    let whole: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
    let fraction_micros: i64 = format!("{fraction:0<6}").parse().unwrap_or(0);
    let magnitude =
        whole.checked_mul(MICROS_PER_USDC).and_then(|w| w.checked_add(fraction_micros)).ok_or(MoneyError::TooLarge)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Converts micro-units to the JSON number clients see (`9990000` → `9.99`).
pub fn micros_to_f64(micros: i64) -> f64 {
    // Division is correctly rounded, so the result is the double nearest to the exact decimal
    // and prints as that decimal.
    micros as f64 / MICROS_PER_USDC as f64
}

/// Micro-units as the JSON number clients see: an integer when whole (`60`), else `9.99`.
pub fn micros_to_json(micros: i64) -> serde_json::Value {
    if micros % MICROS_PER_USDC == 0 {
        serde_json::Value::from(micros / MICROS_PER_USDC)
    } else {
        serde_json::Value::from(micros_to_f64(micros))
    }
}

/// Formats micro-units as a decimal string without trailing zeros (`9990000` → `"9.99"`).
pub fn micros_to_decimal(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let whole = abs / MICROS_PER_USDC as u64;
    let fraction = abs % MICROS_PER_USDC as u64;
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:06}");
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_amounts() {
        assert_eq!(micros_from_f64(9.99), Ok(9_990_000));
        assert_eq!(micros_from_f64(0.000001), Ok(1));
        assert_eq!(micros_from_f64(100_000.0), Ok(100_000_000_000));
        assert_eq!(micros_from_f64(-12.5), Ok(-12_500_000));
        assert_eq!(micros_from_f64(50.0), Ok(50_000_000));
    }

    #[test]
    fn refuses_sub_micro_precision() {
        assert_eq!(micros_from_f64(9.9999999), Err(MoneyError::TooPrecise));
        assert_eq!(micros_from_f64(1e-7), Err(MoneyError::TooPrecise));
        assert_eq!(micros_from_f64(1e300), Err(MoneyError::TooLarge));
        assert_eq!(micros_from_f64(f64::NAN), Err(MoneyError::NotFinite));
    }

    #[test]
    fn round_trips_to_json_numbers() {
        for micros in [0, 1, 9_990_000, 72_500_000, 123_456_789, -1] {
            assert_eq!(micros_from_f64(micros_to_f64(micros)), Ok(micros));
        }
        assert_eq!(micros_to_decimal(9_990_000), "9.99");
        assert_eq!(micros_to_decimal(50_000_000), "50");
        assert_eq!(micros_to_decimal(-1), "-0.000001");
    }
}
