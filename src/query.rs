//! SQL over the archive: one DataFusion [`SessionContext`] that knows `traces`.
//!
//! The session is a plain `SessionContext` (so it can later run on Ballista) with:
//! - `traces`: the archive's Parquet, partitioned by `day`; a predicate on `time` also prunes
//!   day partitions, so a query on one week never opens the files of other weeks;
//! - the JSON functions of `datafusion-functions-json` (`json_get_str(request, 'key')`, ...);
//! - the archive's object store, when it is a bucket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::expr::{Between, BinaryExpr, Cast};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown, col, lit};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use datafusion::common::DFSchema;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::union::UnionExec;
use url::Url;

use crate::archive::{Archive, DAY_MS, day_string};
use crate::error::{Error, Result};
use crate::hot::{self, Snapshot};
use crate::model::col as c;

/// Name of the table of all traces: the hot store and the archive, each trace once.
pub const TRACES_TABLE: &str = "traces";
/// Name of the table of the hot store's traces (at or after the watermark).
pub const HOT_TABLE: &str = "hot_traces";
/// Name of the table of the archive's traces, all of them.
pub const ARCHIVE_TABLE: &str = "archive_traces";

/// Limits on what one query may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Memory for operators that buffer (sorts, joins, aggregations); they spill to disk where
    /// they can and fail with [`Error::MemoryLimit`] where they cannot.
    pub memory_bytes: usize,
    /// Wall time, after which the query is stopped with [`Error::QueryTimeout`].
    pub timeout: Option<std::time::Duration>,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            memory_bytes: 4 << 30,
            timeout: None,
        }
    }
}

impl QueryLimits {
    /// Run a query's future under the timeout, and turn running out of memory into
    /// [`Error::MemoryLimit`].
    pub async fn enforce<T>(
        &self,
        query: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, query)
                .await
                .map_err(|_| Error::QueryTimeout { limit })?,
            None => query.await,
        };
        result.map_err(|e| match e {
            Error::Query(df)
                if matches!(df.find_root(), DataFusionError::ResourcesExhausted(_)) =>
            {
                Error::MemoryLimit {
                    limit: self.memory_bytes,
                    detail: df.find_root().to_string(),
                }
            }
            other => other,
        })
    }
}

/// A session over `archive` alone (no hot store) with the default limits.
pub async fn session(archive: &Archive) -> Result<SessionContext> {
    session_with(archive, None, &QueryLimits::default()).await
}

/// A session over `archive` and the hot store in `hot` (a folder, which need not exist yet)
/// with `traces`, `hot_traces` and `archive_traces` registered, within `limits`.
pub async fn session_with(
    archive: &Archive,
    hot: Option<&Path>,
    limits: &QueryLimits,
) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_default_catalog_and_schema("cts", "public");
    // Late materialisation: a selective filter (one trace_id, one resource, one user) is
    // evaluated on its own columns first, and the other columns are decoded only for the rows
    // that pass (one trace by trace_id at 1M traces: 109 ms to about 50).
    let parquet = &mut config.options_mut().execution.parquet;
    parquet.pushdown_filters = true;
    parquet.reorder_filters = true;
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory_bytes, 1.0)
        .build_arc()?;
    let mut ctx = SessionContext::new_with_config_rt(config, runtime);
    datafusion_functions_json::register_all(&mut ctx)?;
    register_location(&ctx, archive.location());
    if let Some(dir) = archive.location().local_path() {
        let traces = dir.join(crate::archive::TRACES_DIR);
        std::fs::create_dir_all(&traces).map_err(|e| Error::io("create folder", &traces, e))?;
    }
    let archive_traces = archive_table(archive)?;
    ctx.register_table(ARCHIVE_TABLE, archive_traces.clone())?;
    let traces: Arc<dyn TableProvider> = match hot {
        Some(dir) => {
            let dir = std::path::absolute(dir).map_err(|e| Error::io("resolve", dir, e))?;
            let hot = Arc::new(HotTable { dir });
            ctx.register_table(HOT_TABLE, hot.clone())?;
            Arc::new(TieredTable {
                hot,
                archive: archive_traces,
            })
        }
        None => archive_traces,
    };
    ctx.register_table(TRACES_TABLE, traces)?;
    Ok(ctx)
}

/// Make a bucket's object store known to the session, seen through
/// [`crate::compact::VisibleStore`] so that the files a compaction replaced are not read twice
/// (local folders too: the store for `file://` is replaced with the same view of it).
pub fn register_location(ctx: &SessionContext, location: &crate::storage::Location) {
    let store: Arc<dyn object_store::ObjectStore> = if location.root_url().scheme() == "file" {
        Arc::new(object_store::local::LocalFileSystem::new())
    } else {
        location.store().clone()
    };
    ctx.register_object_store(
        location.root_url(),
        Arc::new(crate::compact::VisibleStore::new(store)),
    );
}

/// The archive as a table: Parquet under `traces/day=.../`, with `day` pruned from `time`.
pub fn archive_table(archive: &Archive) -> Result<Arc<dyn TableProvider>> {
    let url = ListingTableUrl::parse(archive.traces_url().as_str())?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(c::DAY.to_string(), DataType::Utf8)]);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(crate::model::query_schema());
    let inner: Arc<dyn TableProvider> = Arc::new(ListingTable::try_new(config)?);
    Ok(Arc::new(DayPrunedTable { inner }))
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

/// A literal of the `time` and `record_time` columns (UTC milliseconds).
pub fn ts_literal(ms: i64) -> Expr {
    lit(ScalarValue::TimestampMillisecond(
        Some(ms),
        Some("UTC".into()),
    ))
}

/// Bounds on `time` (ms, inclusive) that `filters` imply.
pub fn time_range(filters: &[Expr]) -> (Option<i64>, Option<i64>) {
    let mut low: Option<i64> = None;
    let mut high: Option<i64> = None;
    for filter in filters {
        for conjunct in split_conjunction(filter) {
            time_bounds(conjunct, &mut low, &mut high);
        }
    }
    (low, high)
}

/// `filters` plus `day >= ...` / `day <= ...` implied by bounds on `time` in them.
pub fn with_day_bounds(filters: &[Expr]) -> Vec<Expr> {
    let (low, high) = time_range(filters);
    // Day names compare as text only for years 0000 to 9999; a bound outside adds nothing.
    const FIRST_MS: i64 = -62_167_219_200_000; // 0000-01-01
    const LAST_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999
    let in_range = |ms: &i64| (FIRST_MS..=LAST_MS).contains(ms);
    let mut out = filters.to_vec();
    if let Some(low) = low.filter(in_range) {
        out.push(col(c::DAY).gt_eq(lit(day_string(low.div_euclid(DAY_MS)))));
    }
    if let Some(high) = high.filter(in_range) {
        out.push(col(c::DAY).lt_eq(lit(day_string(high.div_euclid(DAY_MS)))));
    }
    out
}

/// Narrow `[low, high]` (ms, inclusive) by one predicate, where it bounds `time`.
fn time_bounds(expr: &Expr, low: &mut Option<i64>, high: &mut Option<i64>) {
    let mut raise = |v: i64| *low = Some(low.map_or(v, |l| l.max(v)));
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, value) = if is_time(left) {
                match literal_ms(right) {
                    Some(v) => (*op, v),
                    None => return,
                }
            } else if is_time(right) {
                match (literal_ms(left), op.swap()) {
                    (Some(v), Some(op)) => (op, v),
                    _ => return,
                }
            } else {
                return;
            };
            match op {
                Operator::Gt | Operator::GtEq => raise(value),
                Operator::Lt | Operator::LtEq => *high = Some(high.map_or(value, |h| h.min(value))),
                Operator::Eq => {
                    raise(value);
                    *high = Some(high.map_or(value, |h| h.min(value)));
                }
                _ => {}
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low: from,
            high: to,
        }) if is_time(expr) => {
            if let Some(v) = literal_ms(from) {
                raise(v);
            }
            if let Some(v) = literal_ms(to) {
                *high = Some(high.map_or(v, |h| h.min(v)));
            }
        }
        _ => {}
    }
}

fn is_time(expr: &Expr) -> bool {
    match expr {
        Expr::Column(column) => column.name == c::TIME,
        Expr::Cast(Cast { expr, field }) => {
            matches!(field.data_type(), DataType::Timestamp(..)) && is_time(expr)
        }
        _ => false,
    }
}

/// A literal instant as ms since the epoch.
fn literal_ms(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1000),
        ScalarValue::TimestampMillisecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(v.div_euclid(1000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000_000)),
        ScalarValue::Date32(Some(d)) => i64::from(*d).checked_mul(DAY_MS),
        ScalarValue::Date64(Some(ms)) => Some(*ms),
        _ => None,
    }
}

/// The physical plan as indented text (what `EXPLAIN` shows), for diagnostics and tests.
pub fn plan_text(plan: &Arc<dyn ExecutionPlan>) -> String {
    datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Expr {
        Expr::Literal(
            ScalarValue::TimestampMillisecond(Some(ms), Some("UTC".into())),
            None,
        )
    }

    #[test]
    fn bounds_on_time_become_bounds_on_day() {
        // 2024-06-19T06:18:51.170Z .. 2024-06-21T00:00:00Z
        let filters = vec![
            col("time").gt_eq(ts(1718777931170)),
            ts(1718928000000).gt(col("time")),
        ];
        let out = with_day_bounds(&filters);
        assert_eq!(out.len(), 4);
        assert_eq!(out[2], col("day").gt_eq(lit("2024-06-19")));
        assert_eq!(out[3], col("day").lt_eq(lit("2024-06-21")));
    }

    #[test]
    fn bounds_beyond_year_9999_add_nothing() {
        // A "no upper limit" sentinel must not exclude every day.
        let filters = vec![col("time").lt(ts(253_402_300_800_000))];
        assert_eq!(with_day_bounds(&filters), filters);
    }

    #[test]
    fn other_predicates_add_nothing() {
        let filters = vec![
            col("trace_name").eq(lit("login")),
            col("time").not_eq(ts(0)),
        ];
        assert_eq!(with_day_bounds(&filters), filters);
    }
}
