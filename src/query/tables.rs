//! The tables: the archive (day-partitioned Parquet, pruned by bounds on `time`), the hot store
//! (its segments and log, at or after the watermark) and `traces`, the one plus the other.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use cts_core::store::archive::{Archive, MANIFEST_DIR};
use cts_core::store::hot::{self, Snapshot};
use cts_core::trace::{col as c, query_schema};
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::DFSchema;
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, col};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::union::UnionExec;
use url::Url;

use crate::error::Result;
use crate::query::time::{time_range, ts_literal, with_day_bounds};

/// The archive as a table: Parquet under `traces/day=.../`, with `day` pruned from `time`.
pub fn archive_table(archive: &Archive) -> Result<Arc<dyn TableProvider>> {
    Ok(Arc::new(DayPrunedTable {
        inner: archive_listing_table(archive, query_schema())?,
    }))
}

/// The archive as a plain [`ListingTable`] (no pruning of `day` from `time`) whose columns have
/// the types of `schema` (the query schema, or its plain-text form on a cluster): the table a
/// cluster's processes can rebuild from its serialized plan.
pub fn archive_listing_table(
    archive: &Archive,
    schema: SchemaRef,
) -> Result<Arc<dyn TableProvider>> {
    let url = ListingTableUrl::parse(archive.traces_url().as_str())?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(c::DAY.to_string(), DataType::Utf8)]);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// The manifest's segments as a table, one row per entry (`sql/trace_files.sql` keeps the
/// latest of each source file).
pub fn manifest_table(archive: &Archive) -> Result<Arc<dyn TableProvider>> {
    let url = archive.location().url();
    let url = url.join(&format!("{MANIFEST_DIR}/")).unwrap_or(url);
    let url = ListingTableUrl::parse(url.as_str())?;
    let options =
        ListingOptions::new(Arc::new(JsonFormat::default())).with_file_extension(".ndjson");
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let count = |name: &str| Field::new(name, DataType::UInt64, true);
    let schema = Arc::new(Schema::new(vec![
        text("source"),
        count("size"),
        text("etag"),
        text("outcome"),
        count("traces"),
        count("duplicates"),
        count("rejected"),
        text("error"),
        text("run"),
        text("integrity"),
        text("integrity_detail"),
    ]));
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Wraps a day-partitioned table: bounds on `time` in a query become bounds on `day`.
#[derive(Debug)]
pub struct DayPrunedTable {
    inner: Arc<dyn TableProvider>,
}

impl DayPrunedTable {
    /// Wrap a table that has `time` and a `day` partition column.
    pub fn new(inner: Arc<dyn TableProvider>) -> Self {
        DayPrunedTable { inner }
    }
}

#[async_trait::async_trait]
impl TableProvider for DayPrunedTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let filters = with_day_bounds(filters);
        self.inner.scan(state, projection, &filters, limit).await
    }

    async fn scan_with_args<'a>(
        &self,
        state: &dyn Session,
        args: ScanArgs<'a>,
    ) -> DfResult<ScanResult> {
        let filters = with_day_bounds(args.filters().unwrap_or(&[]));
        let args = ScanArgs::default()
            .with_projection(args.projection())
            .with_limit(args.limit())
            .with_statistics_requests(args.statistics_requests())
            .with_filters(Some(&filters));
        self.inner.scan_with_args(state, args).await
    }
}

/// The hot store as a table: its segments and log, the traces at or after the watermark.
#[derive(Debug)]
pub struct HotTable {
    dir: PathBuf,
}

impl HotTable {
    /// The hot store in `dir` (an absolute path).
    pub fn new(dir: PathBuf) -> Self {
        HotTable { dir }
    }

    async fn snapshot(&self) -> DfResult<Snapshot> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || hot::snapshot(&dir))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }

    /// The plan over one snapshot: the segments that may hold traces in `[low, high]`, and the
    /// log, filtered to the traces at or after the watermark.
    async fn scan_snapshot(
        &self,
        snapshot: &Snapshot,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = hot::hot_query_schema();
        let Some(watermark) = snapshot.watermark_ms else {
            return empty_plan(&schema, projection);
        };
        let (low, high) = time_range(filters);
        let low = low.map_or(watermark, |l| l.max(watermark));
        let urls = snapshot
            .segments
            .iter()
            .filter(|s| s.max_time >= low && high.is_none_or(|h| s.min_time <= h))
            .map(|s| {
                let path = snapshot.dir.join(&s.file);
                Url::from_file_path(&path)
                    .map_err(|()| {
                        DataFusionError::Plan(format!("{} is not a valid path", path.display()))
                    })
                    .and_then(|url| ListingTableUrl::parse(url.as_str()))
            })
            .collect::<DfResult<Vec<_>>>()?;
        let segments: Option<Arc<dyn TableProvider>> = if urls.is_empty() {
            None
        } else {
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(schema.clone());
            Some(Arc::new(ListingTable::try_new(config)?))
        };
        let log: Arc<dyn TableProvider> = Arc::new(datafusion::datasource::MemTable::try_new(
            schema.clone(),
            vec![snapshot.log.clone()],
        )?);
        let bound = col(c::TIME).gt_eq(ts_literal(watermark));
        let mut plans = Vec::new();
        for table in segments.iter().chain([&log]) {
            plans.push(
                filtered_scan(table.as_ref(), state, projection, filters, limit, &bound).await?,
            );
        }
        UnionExec::try_new(plans)
    }
}

#[async_trait::async_trait]
impl TableProvider for HotTable {
    fn schema(&self) -> SchemaRef {
        hot::hot_query_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let snapshot = self.snapshot().await?;
        self.scan_snapshot(&snapshot, state, projection, filters, limit)
            .await
    }
}

/// `traces`: the hot store's traces at or after its watermark, and the archive's before it.
/// A query bounded to times after the watermark never reads the archive.
#[derive(Debug)]
pub struct TieredTable {
    hot: Arc<HotTable>,
    archive: Arc<dyn TableProvider>,
}

impl TieredTable {
    /// `hot` in front of `archive`.
    pub fn new(hot: Arc<HotTable>, archive: Arc<dyn TableProvider>) -> Self {
        TieredTable { hot, archive }
    }
}

#[async_trait::async_trait]
impl TableProvider for TieredTable {
    fn schema(&self) -> SchemaRef {
        self.archive.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let snapshot = self.hot.snapshot().await?;
        let Some(watermark) = snapshot.watermark_ms else {
            return self.archive.scan(state, projection, filters, limit).await;
        };
        let (low, high) = time_range(filters);
        let mut plans = Vec::new();
        if high.is_none_or(|h| h >= watermark) {
            plans.push(
                self.hot
                    .scan_snapshot(&snapshot, state, projection, filters, limit)
                    .await?,
            );
        }
        if low.is_none_or(|l| l < watermark) {
            let bound = col(c::TIME).lt(ts_literal(watermark));
            plans.push(
                filtered_scan(
                    self.archive.as_ref(),
                    state,
                    projection,
                    filters,
                    limit,
                    &bound,
                )
                .await?,
            );
        }
        if plans.is_empty() {
            return empty_plan(&self.schema(), projection);
        }
        UnionExec::try_new(plans)
    }
}

/// A plan with no rows, of `schema` projected.
fn empty_plan(
    schema: &SchemaRef,
    projection: Option<&Vec<usize>>,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let projected = match projection {
        Some(p) => Arc::new(schema.project(p)?),
        None => schema.clone(),
    };
    Ok(Arc::new(EmptyExec::new(projected)))
}

/// Scan `table` keeping only the rows for which `bound` (on `time`) holds, whatever the
/// projection.
async fn filtered_scan(
    table: &dyn TableProvider,
    state: &dyn Session,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
    bound: &Expr,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let schema = table.schema();
    let time = schema.index_of(c::TIME)?;
    let mut columns: Vec<usize> =
        projection.map_or_else(|| (0..schema.fields().len()).collect(), |p| p.clone());
    let wanted = columns.len();
    if !columns.contains(&time) {
        columns.push(time);
    }
    let mut pushed = filters.to_vec();
    pushed.push(bound.clone());
    let plan = table.scan(state, Some(&columns), &pushed, None).await?;
    let df_schema = DFSchema::try_from(plan.schema())?;
    let predicate = state.create_physical_expr(bound.clone(), &df_schema)?;
    let keep = (columns.len() > wanted).then(|| (0..wanted).collect::<Vec<_>>());
    let filtered = FilterExecBuilder::new(predicate, plan)
        .apply_projection(keep)?
        .with_fetch(limit)
        .build()?;
    Ok(Arc::new(filtered))
}

/// The physical plan as indented text (what `EXPLAIN` shows), for diagnostics and tests.
pub fn plan_text(plan: &Arc<dyn ExecutionPlan>) -> String {
    datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string()
}
