//! A scan of input files that keeps the contract's reading order.
//!
//! The data contract decides duplicates and reversals "in order of the file's path relative to
//! the lake root, then row order". DataFusion's Parquet scan neither exposes the file name nor a
//! row number, so ingest reads each file through this scan ([`OrderedScan`]): one streaming
//! partition per file with the contract columns (extra columns ignored, compatible types
//! widened), plus `source_file` (the key), `part_month` (the partition's month) and `row_no`
//! (0-based row in the file). Only the columns a query reads are decoded. The schema of every file is checked first, so a missing column or a wrong type stops the
//! run with a message naming the file and the column before anything is computed.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::{StreamExt, TryStreamExt};

use object_store::ObjectStore;
use object_store::path::Path;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::ProjectionMask;
// `ParquetObjectReader` is deprecated in parquet 59 in favour of a hand-written
// `AsyncFileReader`; it is still the reader DataFusion 55 itself builds on, so we keep it until
// the two move together.
#[allow(deprecated)]
use parquet::arrow::async_reader::ParquetObjectReader;

use crate::contract::compatible;
use crate::error::{LakeError, Result};
use crate::store::Lake;

mod decoded;
mod ranges;

pub use decoded::{decoded_columns, record_decoded_columns};

/// One input file of an ordered scan.
#[derive(Debug, Clone)]
pub struct ScanFile {
    /// Key relative to the lake root.
    pub key: String,
    /// The month of its partition (1..12).
    pub part_month: i32,
}

/// Position of a file in the scan's list; the list is sorted by key, so ordering rows by
/// (`file_no`, `row_no`) is the contract's reading order without carrying the key in every
/// row of the narrow status tables.
fn file_no(files: &[ScanFile], key: &str) -> i32 {
    files.iter().position(|f| f.key == key).unwrap_or(0) as i32
}

/// The output schema: the contract columns, then `source_file`, `file_no`, `part_month`,
/// `row_no`.
pub fn ordered_schema(contract: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = contract
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("source_file", DataType::Utf8, false));
    fields.push(Field::new("file_no", DataType::Int32, false));
    fields.push(Field::new("part_month", DataType::Int32, false));
    fields.push(Field::new("row_no", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

#[derive(Debug)]
struct FileStream {
    store: Arc<dyn ObjectStore>,
    file: ScanFile,
    file_no: i32,
    contract: SchemaRef,
    /// The stream's output schema: the ordered schema projected to `projection`.
    schema: SchemaRef,
    /// Root-column indices in the file of each contract column, in contract order.
    indices: Vec<usize>,
    /// The columns of the ordered schema this stream produces, in output order.
    projection: Vec<usize>,
    /// Only these rows of the file (0-based, ascending, distinct), when set; all rows but
    /// these when `except` is set.
    rows: Option<Arc<Vec<i64>>>,
    except: bool,
}

impl PartitionStream for FileStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    #[allow(deprecated)]
    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let store = self.store.clone();
        let file = self.file.clone();
        let file_no = self.file_no;
        let contract = self.contract.clone();
        let schema = self.schema.clone();
        let n_contract = contract.fields().len();
        // File root indices of the contract columns this stream decodes: only the projected
        // ones, so a step that reads three columns does not decode thirty.
        let decoded: Vec<usize> = self
            .projection
            .iter()
            .filter(|&&c| c < n_contract)
            .map(|&c| self.indices[c])
            .collect();
        decoded::note(
            &self.file.key,
            self.projection
                .iter()
                .filter(|&&c| c < n_contract)
                .map(|&c| contract.field(c).name().as_str()),
        );
        let projection = self.projection.clone();
        let rows = self.rows.clone();
        let except = self.except;
        let out_schema = schema.clone();
        let stream = futures::stream::once(async move {
            let reader = ParquetObjectReader::new(store, Path::from(file.key.as_str()));
            let mut builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
            let total = builder.metadata().file_metadata().num_rows();
            let mut numbers = None;
            if let Some(rows) = &rows {
                let ranges = ranges::read_ranges(rows, except, total);
                builder = builder.with_row_selection(ranges::selection(&ranges, total));
                numbers = Some(ranges::RowNumbers::new(ranges));
            }
            let mask = ProjectionMask::roots(builder.parquet_schema(), decoded.iter().copied());
            // The projected batch keeps file order: position of each file root index in it.
            let mut sorted = decoded.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let stream = builder
                .with_projection(mask)
                .with_batch_size(8192)
                .build()?;
            let mut offset = 0i64;
            let mapped = stream.map(move |batch| {
                let batch = batch.map_err(|e| {
                    datafusion::error::DataFusionError::External(Box::new(LakeError::Unreadable {
                        file: file.key.clone(),
                        message: e.to_string(),
                    }))
                })?;
                let n = batch.num_rows();
                let mut cols: Vec<ArrayRef> = Vec::with_capacity(projection.len());
                let mut d = 0;
                for &c in &projection {
                    let col: ArrayRef = match c.checked_sub(n_contract) {
                        None => {
                            let field = contract.field(c);
                            let pos = sorted
                                .binary_search(&decoded[d])
                                .expect("decoded column is projected");
                            d += 1;
                            let col = batch.column(pos);
                            if col.data_type() == field.data_type() {
                                col.clone()
                            } else {
                                cast(col, field.data_type())?
                            }
                        }
                        Some(0) => Arc::new(StringArray::from(vec![file.key.as_str(); n])),
                        Some(1) => Arc::new(Int32Array::from(vec![file_no; n])),
                        Some(2) => Arc::new(Int32Array::from(vec![file.part_month; n])),
                        Some(_) => match numbers.as_mut() {
                            // A selection yields its rows in file order.
                            Some(numbers) => Arc::new(numbers.take(n)),
                            None => {
                                Arc::new(Int64Array::from_iter_values(offset..offset + n as i64))
                            }
                        },
                    };
                    cols.push(col);
                }
                offset += n as i64;
                Ok(RecordBatch::try_new_with_options(
                    schema.clone(),
                    cols,
                    &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)),
                )?)
            });
            Ok::<_, datafusion::error::DataFusionError>(mapped)
        })
        .try_flatten();
        Box::pin(RecordBatchStreamAdapter::new(out_schema, stream))
    }
}

/// The files of an ordered scan as a table: one streaming partition per file, decoding only the
/// columns a query projects (DataFusion's `StreamingTable` would decode every column and
/// project afterwards, which made each pass over a city month's items read all of them).
#[derive(Debug, Clone)]
pub struct OrderedScan {
    store: Arc<dyn ObjectStore>,
    files: Vec<ScanFile>,
    contract: SchemaRef,
    schema: SchemaRef,
    /// Per file, the root index in the file of each contract column.
    indices: Vec<Vec<usize>>,
    /// Per file, only these rows ([`OrderedScan::only_rows`]), or all but these
    /// ([`OrderedScan::except_rows`]).
    rows: Option<Vec<Arc<Vec<i64>>>>,
    except: bool,
}

impl OrderedScan {
    /// The same scan restricted to some rows of each file: `rows[key]` are the 0-based row
    /// numbers to read of the file `key` (any order, repeats ignored); a file without an entry
    /// reads nothing. Files keep their positions, so `file_no` and `row_no` are those of the
    /// full scan.
    ///
    /// For steps that need the full rows of a few thousand keyed rows (reversals, the claims
    /// they name): Parquet skips the other rows instead of decoding every column of a city
    /// month's ~5M rows to keep a handful.
    pub fn only_rows(self, rows: &BTreeMap<String, Vec<i64>>) -> OrderedScan {
        self.with_rows(rows, false)
    }

    /// The same scan without some rows of each file: `rows[key]` are the 0-based row numbers
    /// to skip in the file `key` (any order, repeats ignored); a file without an entry is read
    /// whole. `file_no` and `row_no` are those of the full scan.
    ///
    /// For the month's used claims: the few thousand quarantined, netted and reversal rows are
    /// skipped by Parquet instead of being found by a join of every row with their keys.
    pub fn except_rows(self, rows: &BTreeMap<String, Vec<i64>>) -> OrderedScan {
        self.with_rows(rows, true)
    }

    fn with_rows(mut self, rows: &BTreeMap<String, Vec<i64>>, except: bool) -> OrderedScan {
        self.except = except;
        self.rows = Some(
            self.files
                .iter()
                .map(|f| {
                    let mut r = rows.get(&f.key).cloned().unwrap_or_default();
                    r.sort_unstable();
                    r.dedup();
                    Arc::new(r)
                })
                .collect(),
        );
        self
    }
}

#[async_trait::async_trait]
impl TableProvider for OrderedScan {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&projection)?);
        let parts: Vec<Arc<dyn PartitionStream>> = self
            .files
            .iter()
            .zip(&self.indices)
            .enumerate()
            .map(|(i, (file, indices))| {
                Arc::new(FileStream {
                    store: self.store.clone(),
                    file: file.clone(),
                    file_no: file_no(&self.files, &file.key),
                    contract: self.contract.clone(),
                    schema: schema.clone(),
                    indices: indices.clone(),
                    projection: projection.clone(),
                    rows: self.rows.as_ref().map(|r| r[i].clone()),
                    except: self.except,
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        Ok(Arc::new(StreamingTableExec::try_new(
            schema,
            parts,
            None,
            Vec::<LexOrdering>::new(),
            false,
            limit,
        )?))
    }
}

impl Lake {
    /// Checks every file against the contract and builds an ordered scan table over them.
    pub async fn ordered_scan(
        &self,
        files: &[ScanFile],
        contract: &SchemaRef,
    ) -> Result<OrderedScan> {
        let mut indices = Vec::with_capacity(files.len());
        for file in files {
            indices.push(self.check_file_schema(&file.key, contract).await?);
        }
        Ok(OrderedScan {
            store: self.store().clone(),
            files: files.to_vec(),
            contract: contract.clone(),
            schema: ordered_schema(contract),
            indices,
            rows: None,
            except: false,
        })
    }

    /// Reads a file's footer and returns, for each contract column, its root index in the file.
    /// Fails naming the file and column when a column is missing or has an incompatible type.
    #[allow(deprecated)]
    pub async fn check_file_schema(&self, key: &str, contract: &SchemaRef) -> Result<Vec<usize>> {
        let reader = ParquetObjectReader::new(self.store().clone(), Path::from(key));
        let builder = ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .map_err(|e| LakeError::Unreadable {
                file: key.to_string(),
                message: e.to_string(),
            })?;
        let file_schema = builder.schema();
        let mut indices = Vec::with_capacity(contract.fields().len());
        for field in contract.fields() {
            let Ok(i) = file_schema.index_of(field.name()) else {
                return Err(LakeError::Schema {
                    file: key.to_string(),
                    column: field.name().clone(),
                    message: "missing column required by the data contract".into(),
                });
            };
            let found = file_schema.field(i).data_type();
            if !compatible(found, field.data_type()) {
                return Err(LakeError::Schema {
                    file: key.to_string(),
                    column: field.name().clone(),
                    message: format!(
                        "type {found} where the data contract requires {}",
                        field.data_type()
                    ),
                });
            }
            indices.push(i);
        }
        Ok(indices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int16Array;
    use arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::SessionContext;

    /// A file whose columns are in another order than the contract's, with an extra column and
    /// a narrower integer type, as uploaders write them.
    fn file(ids: &[&str], n: &[i16]) -> bytes::Bytes {
        let schema = Arc::new(Schema::new(vec![
            Field::new("extra", DataType::Utf8, true),
            Field::new("n", DataType::Int16, true),
            Field::new("id", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["x"; ids.len()])),
                Arc::new(Int16Array::from(n.to_vec())),
                Arc::new(StringArray::from(ids.to_vec())),
            ],
        )
        .unwrap();
        let mut out = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        out.into()
    }

    async fn query(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    #[tokio::test]
    async fn projected_scans_read_the_same_rows_as_full_scans() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        lake.put("t/month=01/b.parquet", file(&["c", "d", "e"], &[3, 4, 5]))
            .await
            .unwrap();
        lake.put("t/month=01/a.parquet", file(&["a", "b"], &[1, 2]))
            .await
            .unwrap();
        let contract = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("n", DataType::Int32, true),
        ]));
        let files = vec![
            ScanFile {
                key: "t/month=01/a.parquet".into(),
                part_month: 1,
            },
            ScanFile {
                key: "t/month=01/b.parquet".into(),
                part_month: 1,
            },
        ];
        let ctx = SessionContext::new();
        let scan = lake.ordered_scan(&files, &contract).await.unwrap();
        ctx.register_table("t", Arc::new(scan)).unwrap();

        let full = query(&ctx, "SELECT * FROM t ORDER BY file_no, row_no").await;
        assert!(
            full.contains("| a  | 1 | t/month=01/a.parquet | 0       | 1          | 0      |"),
            "{full}"
        );
        assert!(
            full.contains("| e  | 5 | t/month=01/b.parquet | 1       | 1          | 2      |"),
            "{full}"
        );
        // Columns in another order than the contract's, and only some of them.
        let projected = query(
            &ctx,
            "SELECT row_no, n, file_no FROM t ORDER BY file_no, row_no",
        )
        .await;
        let expected = "+--------+---+---------+\n\
                        | row_no | n | file_no |\n\
                        +--------+---+---------+\n\
                        | 0      | 1 | 0       |\n\
                        | 1      | 2 | 0       |\n\
                        | 0      | 3 | 1       |\n\
                        | 1      | 4 | 1       |\n\
                        | 2      | 5 | 1       |\n\
                        +--------+---+---------+";
        assert_eq!(projected, expected);
        // No column at all: the row count still comes through.
        let count = query(&ctx, "SELECT COUNT(*) AS n FROM t").await;
        assert!(count.contains("| 5 |"), "{count}");
        let only_key = query(&ctx, "SELECT SUM(row_no) AS s FROM t WHERE file_no = 1").await;
        assert!(only_key.contains("| 3 |"), "{only_key}");
    }

    /// A lake with three files: a (2 rows), b (3 rows), and c, more rows than one decoded batch
    /// (8192), where row i has id `r{i}` and n = i % 7. Returns the full ordered scan of them.
    async fn three_files() -> (tempfile::TempDir, OrderedScan) {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        lake.put("t/month=01/a.parquet", file(&["a", "b"], &[1, 2]))
            .await
            .unwrap();
        lake.put("t/month=01/b.parquet", file(&["c", "d", "e"], &[3, 4, 5]))
            .await
            .unwrap();
        let ids: Vec<String> = (0..20_000).map(|i| format!("r{i}")).collect();
        let ns: Vec<i16> = (0..20_000).map(|i| (i % 7) as i16).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        lake.put("t/month=01/c.parquet", file(&id_refs, &ns))
            .await
            .unwrap();
        let contract = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("n", DataType::Int32, true),
        ]));
        let files: Vec<ScanFile> = ["a", "b", "c"]
            .iter()
            .map(|f| ScanFile {
                key: format!("t/month=01/{f}.parquet"),
                part_month: 1,
            })
            .collect();
        let scan = lake.ordered_scan(&files, &contract).await.unwrap();
        (dir, scan)
    }

    /// Registers `scan` as `t`: the rows of files a and b as a table, and whether file c's rows
    /// are exactly `rows`, each carrying its own row number.
    async fn read_three(scan: OrderedScan, rows: &[i64]) -> (String, bool) {
        let ctx = SessionContext::new();
        ctx.register_table("t", Arc::new(scan)).unwrap();
        let ab = query(
            &ctx,
            "SELECT id, n, file_no, row_no FROM t WHERE file_no < 2 ORDER BY file_no, row_no",
        )
        .await;
        let sum: i64 = rows.iter().sum();
        let c = query(
            &ctx,
            &format!(
                "SELECT COUNT(*) = {n} \
                        AND SUM(CASE WHEN id = concat('r', CAST(row_no AS VARCHAR)) \
                            AND n = row_no % 7 THEN 1 ELSE 0 END) = {n} \
                        AND SUM(row_no) = {sum} AS ok \
                 FROM t WHERE file_no = 2",
                n = rows.len()
            ),
        )
        .await;
        (ab, c.contains("| true |"))
    }

    #[tokio::test]
    async fn a_scan_of_some_rows_keeps_their_file_and_row_numbers() {
        let (_dir, scan) = three_files().await;
        let wanted: Vec<i64> = (0..20_000).filter(|i| i % 3 == 0).collect();
        let rows = BTreeMap::from([
            // b: unsorted and repeated; a: no entry, so nothing of it
            ("t/month=01/b.parquet".to_string(), vec![2, 0, 2]),
            ("t/month=01/c.parquet".to_string(), wanted.clone()),
        ]);
        let (ab, c_ok) = read_three(scan.only_rows(&rows), &wanted).await;
        let expected = "+----+---+---------+--------+\n\
                        | id | n | file_no | row_no |\n\
                        +----+---+---------+--------+\n\
                        | c  | 3 | 1       | 0      |\n\
                        | e  | 5 | 1       | 2      |\n\
                        +----+---+---------+--------+";
        assert_eq!(ab, expected);
        assert!(
            c_ok,
            "file c's selected rows or their row numbers are wrong"
        );
    }

    #[tokio::test]
    async fn a_scan_without_some_rows_keeps_the_others_file_and_row_numbers() {
        let (_dir, scan) = three_files().await;
        let skipped: Vec<i64> = (0..20_000).filter(|i| i % 3 == 0).collect();
        let rows = BTreeMap::from([
            // b: unsorted and repeated; a: no entry, so all of it
            ("t/month=01/b.parquet".to_string(), vec![2, 0, 2]),
            ("t/month=01/c.parquet".to_string(), skipped),
        ]);
        let kept: Vec<i64> = (0..20_000).filter(|i| i % 3 != 0).collect();
        let (ab, c_ok) = read_three(scan.except_rows(&rows), &kept).await;
        let expected = "+----+---+---------+--------+\n\
                        | id | n | file_no | row_no |\n\
                        +----+---+---------+--------+\n\
                        | a  | 1 | 0       | 0      |\n\
                        | b  | 2 | 0       | 1      |\n\
                        | d  | 4 | 1       | 1      |\n\
                        +----+---+---------+--------+";
        assert_eq!(ab, expected);
        assert!(c_ok, "file c's kept rows or their row numbers are wrong");
    }
}
