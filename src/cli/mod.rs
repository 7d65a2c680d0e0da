//! The command line: parse, call the libraries, print, set the exit code. Each command is a
//! few lines over [`cts_core`] (data) or [`cts`] (queries, outputs, the service).
//!
//! Exit status: 0 on success; 1 when a command fails; 2 when a load or an ingest completes but
//! some inputs failed or some records were set aside; 3 when `cts verify` finds a problem.

use std::process::ExitCode;
use std::time::Duration;

use cts::Result;
use cts::query::QueryLimits;
use cts_core::storage::StorageOptions;
use cts_core::store::hot::HotOptions;

use crate::cli::args::{Cli, Command};
use crate::cli::context::Context;

pub(crate) mod args;
mod cluster;
mod connect;
mod context;
mod data;
pub(crate) mod hints;
mod integrity;
mod notifications;
mod query;
mod serve;

/// Run the command `cli` names.
pub(crate) async fn run(cli: Cli) -> Result<ExitCode> {
    let context = Context {
        storage: StorageOptions {
            endpoint: cli.storage.endpoint.clone(),
            region: cli.storage.region.clone(),
            virtual_hosted_style: cli.storage.virtual_hosted,
            max_retries: Some(cli.storage.retries),
            retry_timeout: Some(Duration::from_secs_f64(cli.storage.retry_timeout.max(0.0))),
            ..Default::default()
        },
        hot: HotOptions {
            retention: cli.retention,
            max_segments_per_day: cli.max_segments_per_day,
            ..Default::default()
        },
        limits: QueryLimits {
            memory_bytes: cli.memory_limit,
            timeout: cli.query_timeout.map(Duration::from_secs_f64),
        },
        data_dir: cli.data_dir,
        archive: cli.archive,
    };
    match cli.command {
        Command::Gen { .. }
        | Command::Load { .. }
        | Command::Compact { .. }
        | Command::Ingest { .. }
        | Command::Maintain => data::run(cli.command, &context).await,
        Command::Sql { .. }
        | Command::Shell { .. }
        | Command::Export { .. }
        | Command::Report { .. } => query::run(cli.command, &context).await,
        Command::Serve { .. } | Command::Ui { .. } | Command::HashPassword => {
            serve::run(cli.command, &context).await
        }
        Command::Verify { .. } | Command::Keygen { .. } => {
            integrity::run(cli.command, &context).await
        }
        Command::Cluster { action } => cluster::run(action, &context).await,
        Command::Connect { engine } => connect::run(engine, &context).await,
        Command::Notifications { action } => notifications::run(action, &context).await,
    }
}
