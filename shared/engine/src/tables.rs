//! Small Arrow helpers for the tables the engine builds from the policy (a handful of rows).

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Decimal128Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use rust_decimal::Decimal;

use crate::error::Result;

/// A column of a policy table.
pub enum Col {
    Text(&'static str, Vec<Option<String>>),
    Dec(&'static str, Vec<Option<Decimal>>),
    Bool(&'static str, Vec<Option<bool>>),
}

/// Builds a decimal column at the largest scale of its values (precision 28, exact).
fn decimal_array(values: &[Option<Decimal>]) -> (ArrayRef, DataType) {
    let scale = values
        .iter()
        .flatten()
        .map(|d| d.scale())
        .max()
        .unwrap_or(0);
    let ints: Vec<Option<i128>> = values
        .iter()
        .map(|v| {
            v.map(|mut d| {
                d.rescale(scale);
                d.mantissa()
            })
        })
        .collect();
    let dt = DataType::Decimal128(28, scale as i8);
    let arr = Decimal128Array::from(ints)
        .with_precision_and_scale(28, scale as i8)
        .expect("28 digits hold every policy number");
    (Arc::new(arr), dt)
}

/// Registers `cols` as an in-memory table `name`.
pub fn register(ctx: &SessionContext, name: &str, cols: Vec<Col>) -> Result<()> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for c in cols {
        match c {
            Col::Text(n, v) => {
                fields.push(Field::new(n, DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from(v)) as ArrayRef);
            }
            Col::Dec(n, v) => {
                let (a, dt) = decimal_array(&v);
                fields.push(Field::new(n, dt, true));
                arrays.push(a);
            }
            Col::Bool(n, v) => {
                fields.push(Field::new(n, DataType::Boolean, true));
                arrays.push(Arc::new(BooleanArray::from(v)) as ArrayRef);
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    crate::ingest::register_batches(ctx, name, schema, vec![batch])
}
