//! Deterministic writing of result objects: Parquet (one `data.parquet` per partition, built in
//! memory so its SHA-256 is known before it is stored) and JSON with a fixed key order.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use object_store::buffered::BufWriter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::async_writer::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::Lake;

/// What was written: the manifest's `outputs` entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WrittenObject {
    pub key: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Writer settings shared by every Parquet object the engine writes: Snappy (cheap to decode
/// for BI tools), row groups of 128k rows, dictionary encoding on (keys repeat).
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(128 * 1024))
        .set_created_by("claimlake".to_string())
        .build()
}

/// Encodes batches as one Parquet file in memory. An empty batch list gives a valid empty file
/// with the schema (outputs.md: an empty period still gets its `data.parquet`).
pub fn encode_parquet(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(Bytes, u64)> {
    let mut encoder = ParquetEncoder::new(schema)?;
    for b in batches {
        encoder.write(b)?;
    }
    encoder.finish()
}

/// One Parquet file encoded in memory batch by batch, so a large result (a city month's ledger,
/// ~5M rows) can be written from a stream without holding its batches and its bytes at once.
/// The bytes are kept whole: the object's SHA-256 is known before it is stored.
pub struct ParquetEncoder {
    writer: ArrowWriter<Vec<u8>>,
    schema: SchemaRef,
    rows: u64,
}

impl ParquetEncoder {
    /// An encoder for batches of `schema` (string columns are written as plain `Utf8`).
    pub fn new(schema: &SchemaRef) -> Result<Self> {
        let schema = plain_strings(schema);
        Ok(ParquetEncoder {
            writer: ArrowWriter::try_new(Vec::new(), schema.clone(), Some(writer_properties()))?,
            schema,
            rows: 0,
        })
    }

    /// Appends a batch (its columns cast to the file's types where they differ).
    pub fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.rows += b.num_rows() as u64;
        if b.num_rows() == 0 {
            return Ok(());
        }
        let cols = b
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    arrow::compute::cast(c, f.data_type())
                }
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.writer
            .write(&RecordBatch::try_new(self.schema.clone(), cols)?)?;
        Ok(())
    }

    /// The file's bytes (footer written) and its row count.
    pub fn finish(self) -> Result<(Bytes, u64)> {
        Ok((Bytes::from(self.writer.into_inner()?), self.rows))
    }
}

/// The schema with every string column as plain `Utf8` (outputs.md: codes are Utf8), so the
/// files have one physical type whatever string encoding a computation produced.
fn plain_strings(schema: &SchemaRef) -> SchemaRef {
    use arrow::datatypes::{DataType, Field, Schema};
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => {
                f.as_ref().clone().with_data_type(DataType::Utf8)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Lake {
    /// Writes batches as one Parquet object at `key`, returning its manifest entry.
    pub async fn write_parquet(
        &self,
        key: &str,
        schema: &SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<WrittenObject> {
        self.write_encoded(key, encode_parquet(schema, batches)?)
            .await
    }

    /// Stores a file built with [`ParquetEncoder`] at `key`, returning its manifest entry.
    pub async fn write_encoded(
        &self,
        key: &str,
        (bytes, rows): (Bytes, u64),
    ) -> Result<WrittenObject> {
        let out = WrittenObject {
            key: key.to_string(),
            rows,
            bytes: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        };
        self.put(key, bytes).await?;
        Ok(out)
    }

    /// A streaming Parquet writer for large objects (the generator's month files): uploads in
    /// parts (multipart on S3) and never holds the whole file in memory.
    pub fn parquet_stream_writer(
        &self,
        key: &str,
        schema: SchemaRef,
    ) -> Result<AsyncArrowWriter<BufWriter>> {
        let w = BufWriter::new(self.store().clone(), object_store::path::Path::from(key));
        Ok(AsyncArrowWriter::try_new(
            w,
            schema,
            Some(writer_properties()),
        )?)
    }

    /// Writes a JSON document with the key order of its `Serialize` implementation, pretty
    /// printed and newline-terminated.
    pub async fn write_json<T: Serialize>(&self, key: &str, value: &T) -> Result<WrittenObject> {
        let mut text = serde_json::to_vec_pretty(value)?;
        text.push(b'\n');
        let out = WrittenObject {
            key: key.to_string(),
            rows: 0,
            bytes: text.len() as u64,
            sha256: sha256_hex(&text),
        };
        self.put(key, Bytes::from(text)).await?;
        Ok(out)
    }
}
