//! The cluster's processes, run from the cts binary: Ballista's scheduler and executors, each
//! knowing cts's functions and reading the archive through the visibility rule.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use cts_core::storage::Location;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;

use super::archive_runtime;
use crate::error::{Error, Result};

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
