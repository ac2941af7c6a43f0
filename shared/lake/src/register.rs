//! Registering lake folders as DataFusion tables: hive-partitioned Parquet with typed (Int32)
//! partition columns, and small reference tables read with their contract schema.

use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionContext;

use crate::error::Result;
use crate::store::Lake;

/// Partition columns of monthly tables.
pub fn monthly_partitions() -> Vec<(String, DataType)> {
    vec![
        ("year".to_string(), DataType::Int32),
        ("month".to_string(), DataType::Int32),
    ]
}

/// Partition columns of quarterly tables.
pub fn quarterly_partitions() -> Vec<(String, DataType)> {
    vec![
        ("year".to_string(), DataType::Int32),
        ("quarter".to_string(), DataType::Int32),
    ]
}

/// Partition columns of annual tables.
pub fn annual_partitions() -> Vec<(String, DataType)> {
    vec![("year".to_string(), DataType::Int32)]
}

impl Lake {
    /// Registers `folder` (e.g. `results/statements`) as table `name` with the given file schema
    /// and partition columns. Files must exist unless the folder is empty (then the table is
    /// empty).
    pub async fn register_table(
        &self,
        ctx: &SessionContext,
        name: &str,
        folder: &str,
        file_schema: SchemaRef,
        partitions: Vec<(String, DataType)>,
    ) -> Result<()> {
        self.register_in(ctx);
        let url = ListingTableUrl::parse(self.table_url(folder))?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(partitions);
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(file_schema);
        let table = ListingTable::try_new(config)?;
        ctx.deregister_table(name)?;
        ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }
}
