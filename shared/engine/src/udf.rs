//! Exact decimal rounding for the SQL steps.
//!
//! The rulebook rounds half away from zero, exactly where a rule says, after exact arithmetic.
//! DataFusion's own `round` and decimal division follow other conventions (scale rules of the
//! division, half-even or float paths depending on the type), so the SQL calls these functions
//! instead; they work on the Decimal128 integers directly, so no precision is lost anywhere:
//!
//! - `round2(x)`, `round4(x)`, `round6(x)`: `x` rounded half away from zero to 2/4/6 decimals;
//! - `div2(a, b)`, `div4(a, b)`, `div6(a, b)`: `a / b` computed exactly and rounded once to
//!   2/4/6 decimals
//!   (NULL when `b` is 0 or NULL).
//!
//! Results are `Decimal128(38, s)`; the output steps cast them to the table types.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Decimal128Array};
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// Registers every function of this module in a session.
pub fn register(ctx: &SessionContext) {
    for (name, scale, div) in [
        ("round2", 2, false),
        ("round4", 4, false),
        ("round6", 6, false),
        ("div2", 2, true),
        ("div4", 4, true),
        ("div6", 6, true),
        ("div18", 18, true),
    ] {
        ctx.register_udf(ScalarUDF::new_from_impl(ExactDecimal::new(
            name, scale, div,
        )));
    }
}

/// Rounds an integer quotient `num / den` half away from zero.
fn div_half_away(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if r.unsigned_abs() * 2 >= den.unsigned_abs() {
        if (num < 0) != (den < 0) { q - 1 } else { q + 1 }
    } else {
        q
    }
}

fn pow10(n: u32) -> Result<i128> {
    10i128
        .checked_pow(n)
        .ok_or_else(|| DataFusionError::Execution(format!("10^{n} overflows Decimal128")))
}

/// Rescales a mantissa from scale `from` to scale `to`, rounding half away from zero.
pub fn rescale_half_away(v: i128, from: i8, to: i8) -> Result<i128> {
    if to >= from {
        v.checked_mul(pow10((to - from) as u32)?)
            .ok_or_else(|| DataFusionError::Execution("decimal overflow".into()))
    } else {
        Ok(div_half_away(v, pow10((from - to) as u32)?))
    }
}

/// `a / b` rounded half away from zero to scale `to`, from mantissas at scales `sa`, `sb`.
pub fn divide_half_away(a: i128, sa: i8, b: i128, sb: i8, to: i8) -> Result<Option<i128>> {
    if b == 0 {
        return Ok(None);
    }
    // a/10^sa ÷ b/10^sb = (a × 10^(to + sb − sa)) / b  at scale `to`
    let shift = to as i32 + sb as i32 - sa as i32;
    let (num, den) = if shift >= 0 {
        (
            a.checked_mul(pow10(shift as u32)?)
                .ok_or_else(|| DataFusionError::Execution("decimal overflow".into()))?,
            b,
        )
    } else {
        (
            a,
            b.checked_mul(pow10((-shift) as u32)?)
                .ok_or_else(|| DataFusionError::Execution("decimal overflow".into()))?,
        )
    };
    Ok(Some(div_half_away(num, den)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactDecimal {
    name: &'static str,
    scale: i8,
    divide: bool,
    signature: Signature,
}

impl ExactDecimal {
    fn new(name: &'static str, scale: i8, divide: bool) -> Self {
        ExactDecimal {
            name,
            scale,
            divide,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn as_decimal(arg: &DataType) -> Result<DataType> {
    Ok(match arg {
        DataType::Decimal128(_, _) => arg.clone(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            DataType::Decimal128(20, 0)
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            DataType::Decimal128(20, 0)
        }
        DataType::Null => DataType::Decimal128(20, 0),
        other => return exec_err!("exact decimal functions take decimals, not {other}"),
    })
}

impl ScalarUDFImpl for ExactDecimal {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let want = if self.divide { 2 } else { 1 };
        if arg_types.len() != want {
            return exec_err!("{} takes {want} argument(s)", self.name);
        }
        arg_types.iter().map(as_decimal).collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, self.scale))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let scale_of = |a: &ArrayRef| match a.data_type() {
            DataType::Decimal128(_, s) => Ok(*s),
            other => exec_err!("{}: unexpected type {other}", self.name),
        };
        let x = arrays[0]
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .ok_or_else(|| {
                DataFusionError::Execution(format!("{}: decimal expected", self.name))
            })?;
        let sx = scale_of(&arrays[0])?;
        let out: Decimal128Array = if self.divide {
            let y = arrays[1]
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .ok_or_else(|| {
                    DataFusionError::Execution(format!("{}: decimal expected", self.name))
                })?;
            let sy = scale_of(&arrays[1])?;
            let mut v = Vec::with_capacity(x.len());
            for i in 0..x.len() {
                if x.is_null(i) || y.is_null(i) {
                    v.push(None);
                } else {
                    v.push(divide_half_away(
                        x.value(i),
                        sx,
                        y.value(i),
                        sy,
                        self.scale,
                    )?);
                }
            }
            Decimal128Array::from(v)
        } else {
            let mut v = Vec::with_capacity(x.len());
            for i in 0..x.len() {
                v.push(if x.is_null(i) {
                    None
                } else {
                    Some(rescale_half_away(x.value(i), sx, self.scale)?)
                });
            }
            Decimal128Array::from(v)
        };
        let out = out.with_precision_and_scale(38, self.scale)?;
        let scalar_input = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        if scalar_input {
            Ok(ColumnarValue::Scalar(
                datafusion::scalar::ScalarValue::try_from_array(&out, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(rescale_half_away(12345, 4, 2).unwrap(), 123); // 1.2345 -> 1.23
        assert_eq!(rescale_half_away(12350, 4, 2).unwrap(), 124); // 1.2350 -> 1.24
        assert_eq!(rescale_half_away(-12350, 4, 2).unwrap(), -124);
        assert_eq!(rescale_half_away(-5, 3, 2).unwrap(), -1); // -0.005 -> -0.01
        assert_eq!(rescale_half_away(7, 0, 2).unwrap(), 700);
    }

    #[test]
    fn divides_exactly_then_rounds_once() {
        // 1 / 3 at 6 decimals
        assert_eq!(divide_half_away(100, 2, 300, 2, 6).unwrap(), Some(333_333));
        // 2 / 3 -> 0.666667
        assert_eq!(divide_half_away(2, 0, 3, 0, 6).unwrap(), Some(666_667));
        // -2 / 3 -> -0.666667
        assert_eq!(divide_half_away(-2, 0, 3, 0, 6).unwrap(), Some(-666_667));
        // 8117165.79 / 76903.1405 at 6 decimals
        assert_eq!(
            divide_half_away(811_716_579, 2, 769_031_405, 4, 6).unwrap(),
            Some(105_550_511)
        );
        assert_eq!(divide_half_away(1, 0, 0, 0, 6).unwrap(), None);
    }
}
