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
//! statement that names `hot_traces` is refused.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::SessionContextExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use cts_core::storage::Location;
use cts_core::store::archive::Archive;
use cts_core::store::hot;
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::analyzer::AnalyzerRule;
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::prelude::{SessionConfig, SessionContext};

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
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(session_config())
        .with_runtime_env(runtime)
        .build();
    // Ballista replaces the session's functions with its own list: ours come after.
    let mut ctx = SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?;
    datafusion_functions_json::register_all(&mut ctx)?;
    ctx.add_analyzer_rule(Arc::new(ArchiveOnly));
    ctx.add_optimizer_rule(Arc::new(DayBounds));
    // `hot_traces` is known (so that its columns can be described) but refused in a query.
    let hot = MemTable::try_new(hot::hot_query_schema(), vec![vec![]])?;
    ctx.register_table(HOT_TABLE, Arc::new(hot))?;
    let archive_traces = archive_listing_table(archive)?;
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

/// Refuses a plan that reads `hot_traces`: the hot store is not on the cluster.
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

/// How the scheduler cts runs behaves.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Where it listens for clients and executors.
    pub listen: SocketAddr,
    /// The host name executors and clients reach it by (default: the address it listens on).
    pub external_host: Option<String>,
    /// An executor not heard from for this long is taken for dead, and its tasks run
    /// elsewhere.
    pub executor_timeout: Duration,
}

/// Run a Ballista scheduler over the archive at `location` until it fails or the process ends.
pub async fn run_scheduler(location: &Location, options: &SchedulerOptions) -> Result<()> {
    let timeout = options.executor_timeout.as_secs().max(1);
    let location = location.clone();
    let mut config = SchedulerConfig::default()
        .with_hostname(
            options
                .external_host
                .clone()
                .unwrap_or_else(|| options.listen.ip().to_string()),
        )
        .with_port(options.listen.port())
        .with_override_session_builder(Arc::new(move |config: SessionConfig| {
            let state = default_session_builder(config)?;
            let runtime = archive_runtime(&location, RuntimeEnvBuilder::new())?;
            let mut state = SessionStateBuilder::new_from_existing(state)
                .with_runtime_env(runtime)
                .build();
            datafusion_functions_json::register_all(&mut state)?;
            Ok(state)
        }));
    config.bind_host = options.listen.ip().to_string();
    config.executor_timeout_seconds = timeout;
    config.expire_dead_executor_interval_seconds = (timeout / 3).clamp(1, 15);
    config.no_executors_grace_period_seconds = timeout;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| Error::internal(format!("scheduler: {e}")))?;
    start_server(cluster, options.listen, Arc::new(config))
        .await
        .map_err(|e| Error::invalid(format!("scheduler on {}: {e}", options.listen)))
}

/// How an executor cts runs behaves.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The address it listens on.
    pub bind_host: String,
    /// The host name others reach it by (default: the address it listens on).
    pub external_host: Option<String>,
    /// Its Arrow Flight port (results and shuffles are fetched there).
    pub port: u16,
    /// Its gRPC port.
    pub grpc_port: u16,
    /// Tasks at a time (0: one per core).
    pub concurrency: usize,
    /// Where it keeps shuffle files and spills.
    pub work_dir: PathBuf,
    /// How often it tells the scheduler it is alive.
    pub heartbeat: Duration,
    /// Memory its tasks may use together.
    pub memory_bytes: usize,
}

/// Run a Ballista executor over the archive at `location` until it fails, the process gets
/// SIGTERM or Ctrl-C, or the scheduler stops it.
pub async fn run_executor(location: &Location, options: &ExecutorOptions) -> Result<()> {
    std::fs::create_dir_all(&options.work_dir)
        .map_err(|e| Error::io("create folder", &options.work_dir, e))?;
    let work_dir = options.work_dir.to_string_lossy().to_string();
    let mut functions = default_session_builder(SessionConfig::new())?;
    datafusion_functions_json::register_all(&mut functions)?;
    let registry = BallistaFunctionRegistry::from(&functions);
    let location = location.clone();
    let temp_dir = work_dir.clone();
    let config = ExecutorProcessConfig {
        bind_host: options.bind_host.clone(),
        external_host: options.external_host.clone(),
        port: options.port,
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        vcores: options.concurrency,
        work_dir: Some(work_dir),
        executor_heartbeat_interval_seconds: options.heartbeat.as_secs().max(1),
        memory_pool_size: Some(options.memory_bytes as u64),
        override_function_registry: Some(Arc::new(registry)),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| {
            archive_runtime(
                &location,
                RuntimeEnvBuilder::new().with_temp_file_path(temp_dir.clone()),
            )
        })),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| Error::invalid(format!("executor: {e}")))
}

/// The addresses `host:port` names, for a flag that takes one.
pub fn resolve(address: &str) -> Result<SocketAddr> {
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut all| all.next())
        .ok_or_else(|| Error::invalid(format!("{address:?} is not an address (HOST:PORT)")))
}
