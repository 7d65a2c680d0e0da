//! Queries on a Ballista cluster: the scheduler's and the executors' configuration (cts's
//! functions, the archive's store seen through the visibility rule), and the session of
//! `--cluster df://HOST:PORT` that plans on this machine and runs on the cluster.
//!
//! What cts adds to Ballista is configuration only:
//! - every process knows the JSON functions (executors look functions up by name; the
//!   scheduler decodes plans that name them);
//! - every process reads the archive through [`VisibleStore`](cts_core::store::archive::VisibleStore),
//!   so the files a compaction replaced are not read twice (the scheduler lists the files);
//! - the client's `traces` and `archive_traces` are the archive as a plain `ListingTable` (with
//!   `day` partitions), which a plan sent to the scheduler can carry. A bound on `time` still
//!   prunes days: an optimizer rule (`DayBounds`) adds the implied bounds on `day` to the scan.
//!
//! The hot store stays on the machine that owns it: a cluster query sees the archive only, and a
//! statement that names `hot_traces` is refused. A query stopped early (its time limit) cancels
//! its job on the scheduler (`cancel`). The processes themselves are in `processes`.

mod cancel;
mod processes;

use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use cts_core::storage::Location;
use cts_core::store::archive::Archive;
use cts_core::store::hot;
use cts_core::trace::{plain_types, query_schema};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::logical_expr::expr::{NullTreatment, WindowFunctionDefinition};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::analyzer::AnalyzerRule;
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::prelude::SessionContext;

pub use cancel::CANCEL_TIMEOUT;
pub use processes::{ExecutorOptions, SchedulerOptions, resolve, run_executor, run_scheduler};

use crate::error::{Error, Result};
use crate::query::limits::QueryLimits;
use crate::query::session::{HOT_TABLE, register_tables, session_config, visible_store};
use crate::query::tables::archive_listing_table;
use crate::query::time::with_day_bounds;

/// How long the client waits for the scheduler to accept a connection before it says the
/// cluster is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A cluster's address, `df://HOST:PORT`, as `(host, port)`.
pub fn parse_cluster_url(url: &str) -> Result<(String, u16)> {
    let invalid = || {
        Error::invalid(format!(
            "{url:?} is not a cluster address: write df://HOST:PORT (the scheduler's)"
        ))
    };
    let parsed = url::Url::parse(url).map_err(|_| invalid())?;
    if parsed.scheme() != "df" {
        return Err(invalid());
    }
    let host = parsed.host_str().ok_or_else(invalid)?.to_string();
    let port = parsed.port().ok_or_else(invalid)?;
    Ok((host, port))
}

/// A session whose queries run on the Ballista cluster whose scheduler is at `url`
/// (`df://HOST:PORT`), over `archive`, which every executor must reach at the same address
/// (the same folder, or the same bucket). Fails at once, saying so, when nothing answers there.
pub async fn cluster_session(
    url: &str,
    archive: &Archive,
    limits: &QueryLimits,
) -> Result<SessionContext> {
    let (host, port) = parse_cluster_url(url)?;
    probe(url, &host, port).await?;
    let runtime = archive_runtime(
        archive.location(),
        RuntimeEnvBuilder::new().with_memory_limit(limits.memory_bytes, 1.0),
    )?;
    // Ballista 55's adaptive planner (AQE) replans forever when a window with PARTITION BY
    // reads a stage that produced no rows (its empty-input rule turns the exchange into an
    // empty plan, the distribution rule puts an exchange back, that stage runs empty, and so
    // on; `ballista.planner.propagate_empty.enabled` is not read by that rule): such a query
    // never ends. The static planner runs every report with the local rows.
    let mut config = session_config()
        .upgrade_for_ballista()
        .with_ballista_adaptive_query_planner(false);
    // Text as plain Utf8, not Utf8View: a view array sent between processes (a shuffle, the
    // results) carries every data buffer its views point into, whole, with each batch; read
    // from Parquet those are the pages' buffers, so the bytes sent grow many times over (a
    // report's results over 3.3 M traces took the client past 20 GB).
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .build();
    // Ballista replaces the session's functions with its own list: ours come after.
    let remote = SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?;
    // Its planner sends each query as a job; ours cancels the job when the query stops early.
    let remote = remote.state();
    let planner = cancel::CancellingPlanner::new(Arc::clone(remote.query_planner()), &host, port);
    let state = SessionStateBuilder::new_from_existing(remote)
        .with_query_planner(Arc::new(planner))
        .build();
    let mut ctx = SessionContext::new_with_state(state);
    datafusion_functions_json::register_all(&mut ctx)?;
    ctx.add_analyzer_rule(Arc::new(ArchiveOnly));
    ctx.add_optimizer_rule(Arc::new(DayBounds));
    // `hot_traces` is known (so that its columns can be described) but refused in a query.
    let hot = MemTable::try_new(hot::hot_query_schema(), vec![vec![]])?;
    ctx.register_table(HOT_TABLE, Arc::new(hot))?;
    let archive_traces = archive_listing_table(archive, plain_types(&query_schema()))?;
    register_tables(&ctx, archive, archive_traces.clone(), archive_traces).await?;
    Ok(ctx)
}

/// Connect to the scheduler's port, so that a cluster that is down is an error now.
async fn probe(url: &str, host: &str, port: u16) -> Result<()> {
    let down = |detail: String| Error::Cluster {
        url: url.to_string(),
        detail,
    };
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(down(format!("no scheduler answers there ({e})"))),
        Err(_) => Err(down(format!(
            "no scheduler answered there within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// A runtime that reads `location` through the visibility rule.
fn archive_runtime(location: &Location, builder: RuntimeEnvBuilder) -> DfResult<Arc<RuntimeEnv>> {
    let runtime = builder.build_arc()?;
    runtime.register_object_store(location.root_url(), visible_store(location));
    Ok(runtime)
}

/// Refuses what a cluster would run wrongly: a plan that reads `hot_traces` (the hot store is
/// not on the cluster), and a window function (`last_value`, `lag`, ...) with `IGNORE NULLS`,
/// which DataFusion 55's plan serialization drops on the way to the executors (they would
/// respect the NULLs and answer differently, silently).
#[derive(Debug)]
struct ArchiveOnly;

impl AnalyzerRule for ArchiveOnly {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> DfResult<LogicalPlan> {
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node
                && scan.table_name.table() == HOT_TABLE
            {
                return Err(DataFusionError::Plan(format!(
                    "{HOT_TABLE} is not on the cluster: the hot store stays on the machine that \
                     owns it, and a cluster query sees the archive only (run it without \
                     --cluster)"
                )));
            }
            if let LogicalPlan::Window(window) = node {
                for expr in &window.window_expr {
                    expr.apply(|e| {
                        if let Expr::WindowFunction(f) = e
                            && matches!(f.fun, WindowFunctionDefinition::WindowUDF(_))
                            && f.params.null_treatment == Some(NullTreatment::IgnoreNulls)
                        {
                            return Err(DataFusionError::Plan(format!(
                                "{} ... IGNORE NULLS cannot run on the cluster: the executors \
                                 would not ignore the NULLs (DataFusion 55 does not send that \
                                 option with the plan); write it with an aggregate, such as \
                                 max(...) OVER (...), or run it without --cluster",
                                f.fun.name()
                            )));
                        }
                        Ok(TreeNodeRecursion::Continue)
                    })?;
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "cts_archive_only"
    }
}

/// Adds to a scan of a day-partitioned table (`time` and `day`) the bounds on `day` its bounds
/// on `time` imply, so that the scheduler lists only those days' files.
#[derive(Debug)]
struct DayBounds;

impl OptimizerRule for DayBounds {
    fn name(&self) -> &str {
        "cts_day_bounds"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _: &dyn OptimizerConfig,
    ) -> DfResult<Transformed<LogicalPlan>> {
        let LogicalPlan::TableScan(mut scan) = plan else {
            return Ok(Transformed::no(plan));
        };
        let schema = scan.source.schema();
        let partitioned = schema.field_with_name(cts_core::trace::col::DAY).is_ok()
            && schema.field_with_name(cts_core::trace::col::TIME).is_ok();
        let added: Vec<_> = if partitioned {
            with_day_bounds(&scan.filters)
                .into_iter()
                .skip(scan.filters.len())
                .filter(|bound| !scan.filters.contains(bound))
                .collect()
        } else {
            Vec::new()
        };
        if added.is_empty() {
            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
        }
        scan.filters.extend(added);
        Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
    }
}
