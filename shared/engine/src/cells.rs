//! Reading single cells of result batches as domain values: exact decimals and strings,
//! whatever Arrow encoding a computation produced. Used by reports and summaries.

use arrow::array::{Array, ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray};
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

/// A string column as plain `Utf8`, whatever string encoding it arrived in (working files are
/// read back as `Utf8View`; the input scans, in-memory tables and SQL literals give `Utf8`).
pub fn utf8(column: &ArrayRef) -> arrow::error::Result<StringArray> {
    let plain = arrow::compute::cast(column, &DataType::Utf8)?;
    Ok(plain
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("a cast to Utf8 gives a StringArray")
        .clone())
}

/// A string cell, whatever string encoding the column has (Utf8, Utf8View, dictionary);
/// NULL or a missing column → empty. Reads the one cell: reports call it row by row, and a
/// cast of the whole column per cell would make a report quadratic in its rows.
pub fn text(b: &RecordBatch, col: &str, i: usize) -> String {
    use arrow::array::AsArray;
    let Some(c) = b.column_by_name(col) else {
        return String::new();
    };
    if c.is_null(i) {
        return String::new();
    }
    match c.data_type() {
        DataType::Utf8 => c.as_string::<i32>().value(i).to_string(),
        DataType::LargeUtf8 => c.as_string::<i64>().value(i).to_string(),
        DataType::Utf8View => c.as_string_view().value(i).to_string(),
        _ => utf8(&c.slice(i, 1))
            .ok()
            .filter(|a| !a.is_null(0))
            .map(|a| a.value(0).to_string())
            .unwrap_or_default(),
    }
}

/// A count cell (Int64; NULL or a missing column → 0).
pub fn count(b: &RecordBatch, col: &str, i: usize) -> u64 {
    b.column_by_name(col)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
        .filter(|a| !a.is_null(i))
        .map(|a| a.value(i) as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, LargeStringArray, StringViewArray};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;

    /// The same three cells (one NULL) in each string encoding a step can produce.
    #[test]
    fn a_string_cell_reads_the_same_in_every_encoding() {
        let values = vec![Some("H001"), None, Some("a-claim-id-longer-than-twelve")];
        let dict: DictionaryArray<Int32Type> = values.iter().copied().collect();
        let batch = RecordBatch::try_from_iter(vec![
            (
                "utf8",
                Arc::new(StringArray::from(values.clone())) as ArrayRef,
            ),
            (
                "view",
                Arc::new(StringViewArray::from(values.clone())) as ArrayRef,
            ),
            (
                "large",
                Arc::new(LargeStringArray::from(values.clone())) as ArrayRef,
            ),
            ("dict", Arc::new(dict) as ArrayRef),
        ])
        .unwrap();
        for col in ["utf8", "view", "large", "dict"] {
            let cells: Vec<String> = (0..3).map(|i| text(&batch, col, i)).collect();
            assert_eq!(
                cells,
                ["H001", "", "a-claim-id-longer-than-twelve"],
                "{col}"
            );
        }
        assert_eq!(text(&batch, "absent", 0), "");
        let plain = utf8(batch.column(1)).unwrap();
        assert_eq!(plain.value(2), "a-claim-id-longer-than-twelve");
        assert!(plain.is_null(1));
    }
}
