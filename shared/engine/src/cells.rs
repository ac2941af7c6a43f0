//! Reading single cells of result batches as domain values: exact decimals and strings,
//! whatever Arrow encoding a computation produced. Used by reports and summaries.

use arrow::array::{Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use rust_decimal::Decimal;

/// A decimal cell (NULL or a missing column → `None`), exact.
pub fn decimal(b: &RecordBatch, col: &str, i: usize) -> Option<Decimal> {
    let a = b
        .column_by_name(col)?
        .as_any()
        .downcast_ref::<Decimal128Array>()?;
    (!a.is_null(i)).then(|| Decimal::from_i128_with_scale(a.value(i), a.scale() as u32))
}

/// A string cell, whatever string encoding the column has (Utf8, Utf8View, dictionary);
/// NULL or a missing column → empty.
pub fn text(b: &RecordBatch, col: &str, i: usize) -> String {
    b.column_by_name(col)
        .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
        .and_then(|c| {
            c.as_any()
                .downcast_ref::<StringArray>()
                .filter(|a| !a.is_null(i))
                .map(|a| a.value(i).to_string())
        })
        .unwrap_or_default()
}

/// A count cell (Int64; NULL or a missing column → 0).
pub fn count(b: &RecordBatch, col: &str, i: usize) -> u64 {
    b.column_by_name(col)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
        .filter(|a| !a.is_null(i))
        .map(|a| a.value(i) as u64)
        .unwrap_or(0)
}
