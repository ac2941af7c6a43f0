//! Rounding and the fixed-scale amounts of the engine.
//!
//! The rulebook computes exactly and rounds once, "half away from zero", where a rule says so
//! (README conventions). The helpers here are that one rounding; they also fix the scale of the
//! result (`round2(1.5)` is `1.50`) so that what is written to Parquet and JSON is byte-stable, and
//! they never return a negative zero. The newtypes carry a value already at its storage scale:
//! money `Decimal128(18,2)`, points `Decimal128(20,4)`, point values `Decimal128(20,6)`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{DomainError, Result};

/// Rounds `value` half away from zero to `dp` decimals and sets its scale to exactly `dp`
/// (a zero result is positive).
pub fn round_to(value: Decimal, dp: u32) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(dp);
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    rounded
}

/// `round2`: money (yuan to the fen), half away from zero.
pub fn round2(value: Decimal) -> Decimal {
    round_to(value, 2)
}

/// `round4`: points, half away from zero.
pub fn round4(value: Decimal) -> Decimal {
    round_to(value, 4)
}

/// `round6`: point values, indicator values and ratios, half away from zero.
pub fn round6(value: Decimal) -> Decimal {
    round_to(value, 6)
}

/// Declares a fixed-scale amount newtype.
macro_rules! fixed_scale {
    ($(#[$meta:meta])* $name:ident, $scale:literal, $kind:literal, $round:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(Decimal);

        impl $name {
            /// Decimals the value is stored with.
            pub const SCALE: u32 = $scale;
            /// Zero at the storage scale.
            pub const ZERO: $name = $name(Decimal::from_parts(0, 0, 0, false, $scale));

            /// Rounds `value` half away from zero to the storage scale: the rule's one rounding.
            pub fn round(value: Decimal) -> Self {
                $name($round(value))
            }

            /// Takes `value` as it is; it must not have more decimals than the storage scale
            /// (trailing zeros aside). Use [`Self::round`] where a rule says "round".
            pub fn new(value: Decimal) -> Result<Self> {
                let rounded = $round(value);
                if rounded != value {
                    return Err(DomainError::Amount {
                        kind: $kind,
                        value: value.to_string(),
                        message: format!("has more than {} decimals", $scale),
                    });
                }
                Ok($name(rounded))
            }

            /// The value as a plain decimal (at the storage scale).
            pub const fn get(self) -> Decimal {
                self.0
            }

            /// Whether the value is zero.
            pub const fn is_zero(self) -> bool {
                self.0.is_zero()
            }

            /// The larger of `self` and zero.
            pub fn max_zero(self) -> Self {
                if self.0.is_sign_negative() { Self::ZERO } else { self }
            }
        }

        impl From<$name> for Decimal {
            fn from(value: $name) -> Decimal {
                value.0
            }
        }

        impl TryFrom<Decimal> for $name {
            type Error = DomainError;
            fn try_from(value: Decimal) -> Result<Self> {
                $name::new(value)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self> {
                let value = Decimal::from_str_exact(s).map_err(|e| DomainError::Amount {
                    kind: $kind,
                    value: s.to_owned(),
                    message: e.to_string(),
                })?;
                $name::new(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl Add for $name {
            type Output = $name;
            fn add(self, rhs: $name) -> $name {
                $name($round(self.0 + rhs.0))
            }
        }

        impl Sub for $name {
            type Output = $name;
            fn sub(self, rhs: $name) -> $name {
                $name($round(self.0 - rhs.0))
            }
        }

        impl Neg for $name {
            type Output = $name;
            fn neg(self) -> $name {
                $name($round(-self.0))
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: $name) {
                *self = *self + rhs;
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, rhs: $name) {
                *self = *self - rhs;
            }
        }

        impl Sum for $name {
            fn sum<I: Iterator<Item = $name>>(iter: I) -> $name {
                iter.fold($name::ZERO, |a, b| a + b)
            }
        }

        impl<'a> Sum<&'a $name> for $name {
            fn sum<I: Iterator<Item = &'a $name>>(iter: I) -> $name {
                iter.copied().sum()
            }
        }

        impl serde::Serialize for $name {
            /// As a string at the storage scale, e.g. `"12.50"`.
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let value = d.deserialize_any(ExactDecimal)?;
                $name::new(value).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Reads a decimal exactly: from a string or an integer, never from a (binary) float.
struct ExactDecimal;

impl serde::de::Visitor<'_> for ExactDecimal {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string such as \"12.50\" or an integer")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Decimal, E> {
        Decimal::from_str_exact(v).map_err(|e| E::custom(format!("{v:?}: {e}")))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
}

fixed_scale!(
    /// Yuan, stored with 2 decimals (`Decimal128(18,2)`). Sums and differences are exact.
    Money,
    2,
    "money",
    round2
);

fixed_scale!(
    /// Payment points, stored with 4 decimals (`Decimal128(20,4)`).
    Points,
    4,
    "points",
    round4
);

fixed_scale!(
    /// Yuan per point, stored with 6 decimals (`Decimal128(20,6)`).
    PointValue,
    6,
    "point value",
    round6
);

impl Points {
    /// `round2(points × point_value)`: the amount of these points at a point value.
    pub fn amount_at(self, point_value: PointValue) -> Money {
        Money::round(self.0 * point_value.0)
    }
}

impl PointValue {
    /// `round6(budget / points)`; `None` when `points` is zero (no point value).
    pub fn from_ratio(budget: Decimal, points: Decimal) -> Option<PointValue> {
        if points.is_zero() {
            None
        } else {
            budget.checked_div(points).map(PointValue::round)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round2(d("0.005")).to_string(), "0.01");
        assert_eq!(round2(d("-0.005")).to_string(), "-0.01");
        assert_eq!(round2(d("2.675")).to_string(), "2.68");
        assert_eq!(round2(d("-2.675")).to_string(), "-2.68");
        assert_eq!(round2(d("2.6749999")).to_string(), "2.67");
        assert_eq!(round4(d("1.00005")).to_string(), "1.0001");
        assert_eq!(round4(d("-1.00005")).to_string(), "-1.0001");
        assert_eq!(round4(d("1.00004999")).to_string(), "1.0000");
        assert_eq!(round6(d("0.0000005")).to_string(), "0.000001");
        assert_eq!(round6(d("-0.0000005")).to_string(), "-0.000001");
        assert_eq!(round6(d("0.00000049")).to_string(), "0.000000");
    }

    #[test]
    fn rounding_fixes_scale_and_never_gives_negative_zero() {
        assert_eq!(round2(d("1.5")).to_string(), "1.50");
        assert_eq!(round2(d("-0.004")).to_string(), "0.00");
        assert!(!round2(d("-0.004")).is_sign_negative());
        assert_eq!(round6(Decimal::ONE).to_string(), "1.000000");
    }

    #[test]
    fn newtypes_hold_their_scale() {
        let m = Money::new(d("12.5")).unwrap();
        assert_eq!(m.to_string(), "12.50");
        assert!(Money::new(d("12.505")).is_err());
        assert_eq!(Money::round(d("12.505")).to_string(), "12.51");
        assert_eq!("3.1".parse::<Points>().unwrap().to_string(), "3.1000");
        assert_eq!(PointValue::ZERO.to_string(), "0.000000");
        let total: Money = [Money::round(d("1.10")), Money::round(d("-0.25"))]
            .iter()
            .sum();
        assert_eq!(total.to_string(), "0.85");
        assert_eq!((-total).to_string(), "-0.85");
        assert_eq!(Money::round(d("-3")).max_zero(), Money::ZERO);
    }

    #[test]
    fn amounts_and_point_values() {
        let pv = PointValue::from_ratio(d("1000"), d("3")).unwrap();
        assert_eq!(pv.to_string(), "333.333333");
        let points = Points::round(d("1.5"));
        assert_eq!(points.amount_at(pv).to_string(), "500.00");
        assert_eq!(PointValue::from_ratio(d("1"), Decimal::ZERO), None);
    }

    #[test]
    fn serde_as_strings() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Row {
            amount: Money,
        }
        let row: Row = toml::from_str("amount = \"7.1\"").unwrap();
        assert_eq!(row.amount.get(), d("7.10"));
        assert!(toml::from_str::<Row>("amount = \"7.123\"").is_err());
        assert!(toml::from_str::<Row>("amount = 7.1").is_err());
        assert_eq!(
            toml::from_str::<Row>("amount = 7")
                .unwrap()
                .amount
                .to_string(),
            "7.00"
        );
    }
}
