//! `cts cluster scheduler|executor`: Ballista's processes, run from the cts binary.

use std::process::ExitCode;
use std::time::Duration;

use cts::query::cluster::{
    ExecutorOptions, SchedulerOptions, resolve, run_executor, run_scheduler,
};
use cts::{Error, Result};

use crate::cli::args::ClusterAction;
use crate::cli::context::Context;

/// Run the scheduler or an executor until it fails or the process is stopped.
pub(crate) async fn run(action: ClusterAction, context: &Context) -> Result<ExitCode> {
    let level = std::env::var("CTS_CLUSTER_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Warn);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
    let archive = context.archive()?;
    let location = archive.location().clone();
    match action {
        ClusterAction::Scheduler {
            listen,
            external_host,
            executor_timeout,
        } => {
            let options = SchedulerOptions {
                listen: resolve(&listen)?,
                external_host,
                executor_timeout: Duration::from_secs(executor_timeout),
            };
            eprintln!(
                "cts cluster scheduler: listening on {} (clients: --cluster df://{}), archive {}",
                options.listen,
                options.listen,
                location.url()
            );
            tokio::select! {
                result = run_scheduler(&location, &options) => result?,
                () = stopped() => eprintln!("cts cluster scheduler: stopped"),
            }
            Ok(ExitCode::SUCCESS)
        }
        ClusterAction::Executor {
            scheduler,
            bind,
            external_host,
            port,
            grpc_port,
            concurrency,
            work_dir,
            heartbeat,
        } => {
            let (scheduler_host, scheduler_port) = scheduler
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host.to_string(), port.parse::<u16>().ok()?)))
                .ok_or_else(|| {
                    Error::invalid(format!("--scheduler {scheduler:?}: write it as HOST:PORT"))
                })?;
            let grpc_port = match grpc_port {
                Some(p) => p,
                None => port.checked_add(1).ok_or_else(|| {
                    Error::invalid(format!("--port {port}: give --grpc-port too"))
                })?,
            };
            let options = ExecutorOptions {
                scheduler_host,
                scheduler_port,
                bind_host: bind,
                external_host,
                port,
                grpc_port,
                concurrency,
                work_dir: work_dir.unwrap_or_else(|| {
                    context
                        .data_dir
                        .join("cluster")
                        .join(format!("executor-{port}"))
                }),
                heartbeat: Duration::from_secs(heartbeat),
                memory_bytes: context.limits.memory_bytes,
            };
            eprintln!(
                "cts cluster executor: ports {} (flight) and {} (grpc) on {}, scheduler {scheduler}, archive {}",
                options.port,
                options.grpc_port,
                options.bind_host,
                location.url()
            );
            run_executor(&location, &options).await?;
            eprintln!("cts cluster executor: stopped");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Ballista's log on standard error, one line a record.
struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "{} {} {}: {}",
                chrono::Utc::now().format("%H:%M:%S%.3f"),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}
