//! Money: USDC amounts as integer micro-units (1 USDC = 1,000,000), never floats.
//!
//! JSON carries money as numbers with at most 6 decimals (SPEC §2.1). A number is parsed through
//! its shortest decimal representation, so `9.99` becomes exactly 9,990,000 micro-units and
//! anything finer than a micro-unit is refused instead of rounded. Every amount lies within
//! ±[`Usdc::MAX`], and arithmetic is checked against that bound, so no sum can overflow or take a
//! balance past it.

use alloy_primitives::U256;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Micro-units per USDC.
const MICROS_PER_USDC: i64 = 1_000_000;

/// An amount of USDC within ±10^12 USDC (it can hold nothing else).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Usdc(i64);

/// Why a money amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a finite number.
    #[error("must be a finite number")]
    NotFinite,
    /// More than six decimals.
    #[error("must have at most 6 decimals")]
    TooPrecise,
    /// Beyond ±[`Usdc::MAX`].
    #[error("is too large")]
    TooLarge,
}

impl Usdc {
    /// Nothing.
    pub const ZERO: Self = Self(0);
    /// The smallest amount: one micro-unit.
    pub const MICRO: Self = Self(1);
    /// One cent.
    pub const CENT: Self = Self(MICROS_PER_USDC / 100);
    /// The largest amount, and the largest balance an agent may hold either way: 10^12 USDC
    /// (SPEC §4.6). Far from the limits of a 64-bit integer.
    pub const MAX: Self = Self(1_000_000_000_000 * MICROS_PER_USDC);
    /// Why an amount that would take a balance past [`Usdc::MAX`] is refused.
    pub const BEYOND_BOUND: &'static str = "would take the agent's balance beyond ±10^12 USDC";

    /// An amount of micro-units; `None` beyond ±[`Usdc::MAX`].
    pub const fn from_micros(micros: i64) -> Option<Self> {
        if micros >= -Self::MAX.0 && micros <= Self::MAX.0 { Some(Self(micros)) } else { None }
    }

    /// Whole USDC, for constants (`Usdc::whole(50)`); panics beyond ±[`Usdc::MAX`], which a
    /// constant expression turns into a compile error.
    pub const fn whole(usdc: i64) -> Self {
        match Self::from_micros(usdc * MICROS_PER_USDC) {
            Some(amount) => amount,
            None => panic!("beyond the USDC bound"),
        }
    }

    /// The amount in micro-units (also the token's atomic units: USDC has 6 decimals).
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The sum; `None` beyond ±[`Usdc::MAX`].
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        Self::from_micros(self.0 + other.0)
    }

    /// The difference; `None` beyond ±[`Usdc::MAX`].
    pub const fn checked_sub(self, other: Self) -> Option<Self> {
        Self::from_micros(self.0 - other.0)
    }

    /// `count` times the amount; `None` beyond ±[`Usdc::MAX`].
    pub const fn times(self, count: i64) -> Option<Self> {
        match self.0.checked_mul(count) {
            Some(product) => Self::from_micros(product),
            None => None,
        }
    }

    /// The amount plus `percent` of it, rounded up to the micro-unit (a price with a markup);
    /// `None` beyond ±[`Usdc::MAX`].
    pub const fn plus_percent(self, percent: u32) -> Option<Self> {
        let scaled = self.0 as i128 * (100 + percent as i128);
        Self::from_micros_i128(if scaled >= 0 { (scaled + 99) / 100 } else { scaled / 100 })
    }

    const fn from_micros_i128(micros: i128) -> Option<Self> {
        if micros >= -(Self::MAX.0 as i128) && micros <= Self::MAX.0 as i128 { Some(Self(micros as i64)) } else { None }
    }

    /// The sum, held at ±[`Usdc::MAX`] (for reports that add up many amounts).
    pub const fn saturating_add(self, other: Self) -> Self {
        match self.checked_add(other) {
            Some(sum) => sum,
            None if other.0 > 0 => Self::MAX,
            None => Self::MAX.negated(),
        }
    }

    /// The same amount the other way (a credit's debit).
    pub const fn negated(self) -> Self {
        Self(-self.0)
    }

    /// True above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Converts a JSON number, exactly.
    pub fn from_f64(value: f64) -> Result<Self, MoneyError> {
        if !value.is_finite() {
            return Err(MoneyError::NotFinite);
        }
        // Rust prints the shortest representation that reads back as the same f64, which is the
        // decimal text a client wrote for any amount with up to 15 significant digits.
        Self::from_decimal(&format!("{value}"))
    }

    /// Parses a plain decimal string (`-12.5`, `0.000001`).
    pub fn from_decimal(text: &str) -> Result<Self, MoneyError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let well_formed = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            return Err(MoneyError::NotFinite);
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 6 {
            return Err(MoneyError::TooPrecise);
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
        let fraction_micros: i64 = format!("{fraction:0<6}").parse().unwrap_or(0);
        let magnitude = whole
            .checked_mul(MICROS_PER_USDC)
            .and_then(|w| w.checked_add(fraction_micros))
            .ok_or(MoneyError::TooLarge)?;
        Self::from_micros(if negative { -magnitude } else { magnitude }).ok_or(MoneyError::TooLarge)
    }

    /// The amount in the token's atomic units (USDC has 6 decimals), as an x402 offer states
    /// it; a negative amount is never offered and counts as nothing.
    pub fn atomic_units(self) -> U256 {
        U256::from(self.0.max(0).unsigned_abs())
    }

    /// The JSON number clients see (`9990000` micro-units → `9.99`).
    pub fn to_f64(self) -> f64 {
        // Division is correctly rounded, so the result is the double nearest to the exact
        // decimal and prints as that decimal.
        self.0 as f64 / MICROS_PER_USDC as f64
    }

    /// The JSON number clients see: an integer when whole (`60`, like the upstream service),
    /// else `9.99`.
    pub fn to_json(self) -> serde_json::Value {
        if self.0 % MICROS_PER_USDC == 0 {
            serde_json::Value::from(self.0 / MICROS_PER_USDC)
        } else {
            serde_json::Value::from(self.to_f64())
        }
    }
}

impl std::fmt::Display for Usdc {
    /// A decimal without trailing zeros: `9.99`, `50`, `-0.000001`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / MICROS_PER_USDC as u64;
        let fraction = abs % MICROS_PER_USDC as u64;
        if fraction == 0 {
            return write!(f, "{sign}{whole}");
        }
        let fraction = format!("{fraction:06}");
        write!(f, "{sign}{whole}.{}", fraction.trim_end_matches('0'))
    }
}

impl Serialize for Usdc {
    /// As [`Usdc::to_json`].
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Usdc {
    /// From a JSON or TOML number (`9.99`, `50`), exactly or not at all.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        Self::from_f64(value).map_err(|e| serde::de::Error::custom(format!("a USDC amount {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn micros(value: f64) -> Result<i64, MoneyError> {
        Usdc::from_f64(value).map(Usdc::micros)
    }

    #[test]
    fn parses_exact_amounts() {
        assert_eq!(micros(9.99), Ok(9_990_000));
        assert_eq!(micros(0.000001), Ok(1));
        assert_eq!(micros(100_000.0), Ok(100_000_000_000));
        assert_eq!(micros(-12.5), Ok(-12_500_000));
        assert_eq!(micros(50.0), Ok(50_000_000));
        assert_eq!(micros(1e12), Ok(Usdc::MAX.micros()));
    }

    #[test]
    fn refuses_sub_micro_precision_and_the_out_of_bounds() {
        assert_eq!(micros(9.9999999), Err(MoneyError::TooPrecise));
        assert_eq!(micros(1e-7), Err(MoneyError::TooPrecise));
        assert_eq!(micros(1e300), Err(MoneyError::TooLarge));
        assert_eq!(micros(1e12 + 1.0), Err(MoneyError::TooLarge));
        assert_eq!(micros(f64::NAN), Err(MoneyError::NotFinite));
    }

    #[test]
    fn round_trips_to_json_numbers_and_decimals() {
        for micros in [0, 1, 9_990_000, 72_500_000, 123_456_789, -1] {
            let amount = Usdc::from_micros(micros).unwrap();
            assert_eq!(Usdc::from_f64(amount.to_f64()), Ok(amount));
            assert_eq!(Usdc::from_decimal(&amount.to_string()), Ok(amount));
        }
        assert_eq!(Usdc::whole(50).to_json(), serde_json::json!(50));
        assert_eq!(Usdc::from_micros(9_990_000).unwrap().to_string(), "9.99");
        assert_eq!(Usdc::from_micros(-1).unwrap().to_string(), "-0.000001");
    }

    #[test]
    fn multiplies_and_marks_up_within_the_bound() {
        let price = Usdc::from_decimal("11.25").unwrap();
        assert_eq!(price.times(2), Usdc::from_decimal("22.5").ok());
        assert_eq!(Usdc::MAX.times(2), None);
        assert_eq!(price.plus_percent(0), Some(price));
        assert_eq!(price.plus_percent(10), Usdc::from_decimal("12.375").ok());
        assert_eq!(Usdc::MICRO.plus_percent(1), Usdc::from_micros(2), "rounded up, never down");
        assert_eq!(Usdc::MAX.plus_percent(1), None);
    }

    #[test]
    fn reads_configuration_numbers_exactly() {
        let amount: Usdc = serde_json::from_str("9.99").unwrap();
        assert_eq!(amount.micros(), 9_990_000);
        let error = serde_json::from_str::<Usdc>("0.0000001").unwrap_err().to_string();
        assert!(error.contains("at most 6 decimals"), "{error}");
        assert_eq!(Usdc::from_micros(-5).unwrap().atomic_units(), U256::ZERO);
        assert_eq!(Usdc::whole(2).atomic_units(), U256::from(2_000_000u64));
    }

    proptest! {
        #[test]
        fn arithmetic_never_leaves_the_bound(a in -2_000_000_000_000_000_000i64..2_000_000_000_000_000_000,
                                             b in -2_000_000_000_000_000_000i64..2_000_000_000_000_000_000) {
            let bound = Usdc::MAX.micros();
            let (x, y) = (Usdc::from_micros(a), Usdc::from_micros(b));
            prop_assert_eq!(x.is_some(), (-bound..=bound).contains(&a));
            if let (Some(x), Some(y)) = (x, y) {
                let sum = x.checked_add(y);
                prop_assert_eq!(sum.map(Usdc::micros), Some(a + b).filter(|s| (-bound..=bound).contains(s)));
                let difference = x.checked_sub(y);
                prop_assert_eq!(difference.map(Usdc::micros), Some(a - b).filter(|d| (-bound..=bound).contains(d)));
            }
        }
    }
}
