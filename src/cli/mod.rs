//! The command line: parse, call the libraries, print, set the exit code. Each command is a
//! few lines over [`cts_core`] (data) or [`cts`] (queries, outputs, the service).
//!
//! Exit status: 0 on success; 1 when a command fails; 2 when a load or an ingest completes but
//! some inputs failed or some records were set aside.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use cts::query::QueryLimits;
use cts::{Error, Result};
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::Archive;
use cts_core::store::hot::{HOT_DIR, HotOptions, HotStore};
use datafusion::prelude::SessionContext;

pub(crate) mod args;
mod data;
pub(crate) mod hints;
mod query;
mod serve;

use args::{Cli, Command};

/// Print to standard output. A closed pipe (`cts sql ... | head`) is an error like any other
/// here; `main` ends the process quietly on it.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::print(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// Write `text` to standard output and flush it.
pub(crate) fn print(text: std::fmt::Arguments<'_>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(text)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("write", "standard output", e))
}

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
        Command::Serve { .. } => serve::run(cli.command, &context).await,
    }
}

/// What every command takes from the global flags.
#[derive(Debug)]
pub(crate) struct Context {
    /// `--data-dir`.
    pub(crate) data_dir: std::path::PathBuf,
    /// `--archive`.
    pub(crate) archive: Option<String>,
    /// S3/OBS connection options.
    pub(crate) storage: StorageOptions,
    /// `--retention` and friends.
    pub(crate) hot: HotOptions,
    /// `--memory-limit`, `--query-timeout`.
    pub(crate) limits: QueryLimits,
}

impl Context {
    /// The archive: `--archive`, or `DATA_DIR/archive`.
    pub(crate) fn archive(&self) -> Result<Archive> {
        let location = match &self.archive {
            Some(url) => Location::parse(url, &self.storage)?,
            None => Location::local(&self.data_dir.join("archive"))?,
        };
        Ok(Archive::new(location))
    }

    /// The hot store's folder in the data directory.
    pub(crate) fn hot_dir(&self) -> std::path::PathBuf {
        self.data_dir.join(HOT_DIR)
    }

    /// The hot store in the data directory, open for writing, in front of `archive`.
    pub(crate) async fn open_hot(&self, archive: &Archive) -> Result<HotStore> {
        Ok(HotStore::open(&self.hot_dir(), archive.clone(), self.hot).await?)
    }

    /// The session of `cts sql` and `cts shell`: `traces`, `hot_traces`, `archive_traces` and
    /// the reports as views.
    pub(crate) async fn query_session(&self) -> Result<SessionContext> {
        let ctx = self.session(&self.archive()?).await?;
        cts::output::report::register_views(&ctx).await?;
        Ok(ctx)
    }

    /// A session over `archive` and the data directory's hot store.
    pub(crate) async fn session(&self, archive: &Archive) -> Result<SessionContext> {
        cts::query::session_with(archive, Some(Path::new(&self.hot_dir())), &self.limits).await
    }
}
