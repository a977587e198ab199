//! USDC amounts: conversions between micro-units (6 decimals, `u64`/`i64`) and decimal
//! display strings such as `"9.99"`. Integer arithmetic only, never floats.

use crate::parse::ParseError;

/// Micro-units in one USDC.
pub const MICRO_PER_USDC: u64 = 1_000_000;

/// Formats micro-USDC as a minimal decimal string: `9990000` → `"9.99"`, `1` → `"0.000001"`,
/// `5000000` → `"5"`.
pub fn format_usdc(micro: u64) -> String {
    let whole = micro / MICRO_PER_USDC;
    let fraction = micro % MICRO_PER_USDC;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Formats signed micro-USDC (e.g. a balance that may be negative): `-500000` → `"-0.5"`.
pub fn format_usdc_signed(micro: i64) -> String {
    let magnitude = format_usdc(micro.unsigned_abs());
    if micro < 0 { format!("-{magnitude}") } else { magnitude }
}

/// Parses a non-negative USDC decimal (`"9.99"`, `"10"`, `"0.000001"`) into micro-units.
/// Digits with at most one dot and at most 6 fractional digits; no sign, spaces or exponent.
pub fn parse_usdc(text: &str) -> Result<u64, ParseError> {
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) {
        return Err(ParseError::BadDecimal);
    }
    let fraction_micro = match fraction {
        None => 0,
        Some(f) if f.is_empty() || f.len() > 6 || !all_digits(f) => {
            return Err(ParseError::BadDecimal);
        }
        Some(f) => format!("{f:0<6}").parse::<u64>().map_err(|_| ParseError::BadDecimal)?,
    };
    let whole: u64 = whole.parse().map_err(|_| ParseError::OutOfRange)?;
    whole.checked_mul(MICRO_PER_USDC).and_then(|w| w.checked_add(fraction_micro)).ok_or(ParseError::OutOfRange)
}

/// Parses a possibly negative USDC decimal (leading `-` allowed) into signed micro-units.
pub fn parse_usdc_signed(text: &str) -> Result<i64, ParseError> {
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let micro = i64::try_from(parse_usdc(magnitude)?).map_err(|_| ParseError::OutOfRange)?;
    Ok(if negative { -micro } else { micro })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minimal_decimals() {
        assert_eq!(format_usdc(9_990_000), "9.99");
        assert_eq!(format_usdc(10_000), "0.01");
        assert_eq!(format_usdc(1), "0.000001");
        assert_eq!(format_usdc(5_000_000), "5");
        assert_eq!(format_usdc(0), "0");
        assert_eq!(format_usdc_signed(-500_000), "-0.5");
        assert_eq!(format_usdc_signed(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn parses_strict_decimals() {
        assert_eq!(parse_usdc("9.99"), Ok(9_990_000));
        assert_eq!(parse_usdc("0.000001"), Ok(1));
        assert_eq!(parse_usdc("100000"), Ok(100_000_000_000));
        for bad in ["", ".5", "5.", "1.0000001", "+1", "-1", "1e3", " 1", "1,5", "1.2.3"] {
            assert!(parse_usdc(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_usdc_signed("-0.5"), Ok(-500_000));
        assert_eq!(parse_usdc("18446744073710"), Err(ParseError::OutOfRange));
    }

    #[test]
    fn round_trips() {
        for micro in [0, 1, 10, 999_999, 1_000_000, 9_990_000, u64::MAX] {
            assert_eq!(parse_usdc(&format_usdc(micro)), Ok(micro));
        }
    }
}
