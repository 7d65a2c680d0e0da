//! What every command shares: the global flags, resolved (the archive, the hot store, the
//! query session), and printing to standard output.

use std::io::Write;
use std::path::Path;

use cts::query::QueryLimits;
use cts::{Error, Result};
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::{Archive, Holder, WaitNotice};
use cts_core::store::hot::{HOT_DIR, HotOptions, HotStore};
use datafusion::prelude::SessionContext;

/// Print to standard output. A closed pipe (`cts sql ... | head`) is an error like any other
/// here; `main` ends the process quietly on it.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::context::print(format_args!($($arg)*))
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

/// A time given as a date (`2024-06-01`, midnight UTC) or RFC 3339, in ms.
pub(crate) fn millis(text: &str) -> Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| {
            Error::invalid(format!(
                "{text:?} is not a date (2024-06-01) or a time (2024-06-01T08:00:00Z)"
            ))
        })
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
        let url = location.url();
        // A second writer waits for the first: say whom for, once per holder.
        let notice: WaitNotice = std::sync::Arc::new(move |holder: &Holder| {
            eprintln!("cts: waiting for the write lease of {url}, held by {holder}");
        });
        Ok(Archive::new(location).with_wait_notice(notice))
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
        cts::output::report::register_views(&ctx)?;
        cts::notify::log::register(&ctx, &self.data_dir)?;
        Ok(ctx)
    }

    /// The session of `cts sql`: [`Context::query_session`], or on the cluster at `cluster`
    /// the archive's tables and the reports as views (not the notification log, which is in
    /// the data directory).
    pub(crate) async fn sql_session(&self, cluster: Option<&str>) -> Result<SessionContext> {
        if cluster.is_none() {
            return self.query_session().await;
        }
        let ctx = self.session_on(cluster, &self.archive()?).await?;
        cts::output::report::register_views(&ctx)?;
        Ok(ctx)
    }

    /// The session of a query command: on the cluster at `cluster` (the archive only, and a
    /// word on standard error when the hot store holds traces the cluster does not see), or
    /// else over `archive` and the data directory's hot store.
    pub(crate) async fn session_on(
        &self,
        cluster: Option<&str>,
        archive: &Archive,
    ) -> Result<SessionContext> {
        let Some(url) = cluster else {
            return self.session(archive).await;
        };
        let ctx = cts::query::cluster::cluster_session(url, archive, &self.limits).await?;
        let snapshot = cts_core::store::hot::snapshot(&self.hot_dir())?;
        if let Some(from) = snapshot.watermark_ms.filter(|_| snapshot.rows() > 0) {
            let from = chrono::DateTime::from_timestamp_millis(from)
                .map_or_else(|| from.to_string(), |t| t.to_rfc3339());
            eprintln!(
                "cts: on the cluster, traces is the archive only: the hot store's {} traces \
                 (from {from}) stay on this machine",
                snapshot.rows()
            );
        }
        Ok(ctx)
    }

    /// A session over `archive` and the data directory's hot store.
    pub(crate) async fn session(&self, archive: &Archive) -> Result<SessionContext> {
        cts::query::session_with(archive, Some(Path::new(&self.hot_dir())), &self.limits).await
    }
}
