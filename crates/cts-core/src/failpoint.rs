//! Failpoints: the named places, one after each durable step, where a test stops the process on
//! purpose and then checks that the next run finishes the work with every trace once.
//!
//! [`hit`] does nothing (and compiles to nothing) unless the crate is built with the
//! `failpoints` feature, which only the tests turn on. With it, a process started with
//! `FAILPOINTS="<name>=return(<action>)"` (several joined by `;`, the `fail` crate's syntax,
//! see [`setup_from_env`]) acts at the point named:
//!
//! | action | what happens |
//! |---|---|
//! | `abort` | the process aborts at once, as if killed: no destructor, no flush |
//! | `io` | the step fails with an I/O error naming the point, as a full disk would |
//! | `wait:PATH` | creates `PATH.reached`, then waits until `PATH` exists (two processes interleaved on purpose) |
//!
//! [`POINTS`] lists every failpoint; the README's table says which test stops at each.

use crate::error::Result;

/// Every failpoint, in the order of the data path.
pub const POINTS: &[&str] = &[
    LOAD_IDS_READ,
    LOAD_DATA_WRITTEN,
    LOAD_MANIFEST_WRITTEN,
    LOAD_MANIFEST_COMPACTED,
    HOT_APPENDED,
    HOT_FLUSH_WRITTEN,
    HOT_ROLL_OVER_ARCHIVED,
    HOT_COMPACT_WRITTEN,
    ARCHIVE_COMPACT_MERGED,
    ARCHIVE_COMPACT_RECORDED,
    ARCHIVE_COMPACT_DELETED_ONE,
    TRANSFER_FILE_WRITTEN,
    TRANSFER_CURSOR_SAVED,
    TRANSFER_DIGEST_WRITTEN,
    EXPORT_WRITING,
    EXPORT_FILE_WRITTEN,
    NOTIFY_OUTBOX_WRITTEN,
    NOTIFY_SENT,
];

/// Load: a chunk's archive trace IDs read under the write lease, nothing written yet.
pub const LOAD_IDS_READ: &str = "load.ids-read";
/// Load: a chunk's Parquet files (and its hot-store log append) written, manifest not yet.
pub const LOAD_DATA_WRITTEN: &str = "load.data-written";
/// Load: a chunk's manifest segment written.
pub const LOAD_MANIFEST_WRITTEN: &str = "load.manifest-written";
/// Load: the merged manifest written, the segments it replaces not yet deleted.
pub const LOAD_MANIFEST_COMPACTED: &str = "load.manifest-compacted";
/// Hot store: a group of appends synced to the log, not yet acknowledged.
pub const HOT_APPENDED: &str = "hot.appended";
/// Hot store: the log's segments written, the state naming them not yet.
pub const HOT_FLUSH_WRITTEN: &str = "hot.flush-written";
/// Hot store: a roll-over's traces written into the archive, the watermark not yet raised.
pub const HOT_ROLL_OVER_ARCHIVED: &str = "hot.roll-over-archived";
/// Hot store: a day's merged segments written, the state naming them not yet.
pub const HOT_COMPACT_WRITTEN: &str = "hot.compact-written";
/// Archive compaction: the merged file written, its commit record not yet.
pub const ARCHIVE_COMPACT_MERGED: &str = "archive.compact-merged";
/// Archive compaction: the commit record written.
pub const ARCHIVE_COMPACT_RECORDED: &str = "archive.compact-recorded";
/// Archive compaction: one replaced file deleted, the others not yet.
pub const ARCHIVE_COMPACT_DELETED_ONE: &str = "archive.compact-deleted-one";
/// Transfer: one trace file written to the tracker's bucket, the cursor not yet moved.
pub const TRANSFER_FILE_WRITTEN: &str = "transfer.file-written";
/// Transfer: the tracker's cursor saved.
pub const TRANSFER_CURSOR_SAVED: &str = "transfer.cursor-saved";
/// Transfer: a digest file written to the tracker's bucket, its chain not yet moved on.
pub const TRANSFER_DIGEST_WRITTEN: &str = "transfer.digest-written";
/// Export: part of a Parquet file written (each batch), the file not yet complete.
pub const EXPORT_WRITING: &str = "export.writing";
/// Export: one Parquet file written.
pub const EXPORT_FILE_WRITTEN: &str = "export.file-written";

/// Notifications: the messages a recording fires written to the outbox, the recording not yet
/// acknowledged.
pub const NOTIFY_OUTBOX_WRITTEN: &str = "notify.outbox-written";
/// Notifications: a message delivered (its receiver answered 2xx), its outbox file not yet
/// removed.
pub const NOTIFY_SENT: &str = "notify.sent";

/// The failpoint `name`: returns `Ok(())` unless a test configured it.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(name: &'static str) -> Result<()> {
    let _ = name;
    Ok(())
}

/// The failpoint `name`: returns `Ok(())` unless a test configured it.
#[cfg(feature = "failpoints")]
pub fn hit(name: &'static str) -> Result<()> {
    fail::fail_point!(name, |action: Option<String>| act(name, action.as_deref()));
    Ok(())
}

#[cfg(feature = "failpoints")]
fn act(name: &'static str, action: Option<&str>) -> Result<()> {
    use crate::error::Error;
    match action {
        Some("abort") => std::process::abort(),
        Some("io") => Err(Error::io(
            "failpoint",
            name,
            std::io::Error::other("injected I/O error"),
        )),
        Some(wait) if wait.starts_with("wait:") => {
            let go = std::path::PathBuf::from(&wait["wait:".len()..]);
            let mut reached = go.clone().into_os_string();
            reached.push(".reached");
            std::fs::write(&reached, name).map_err(|e| Error::io("write", &reached, e))?;
            while !go.exists() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Ok(())
        }
        other => Err(Error::InvalidInput(format!(
            "failpoint {name}: unknown action {other:?} (abort, io or wait:PATH)"
        ))),
    }
}

/// Configure the failpoints from the `FAILPOINTS` environment variable, for as long as the
/// returned guard lives. Without the `failpoints` feature: nothing.
pub fn setup_from_env() -> Scenario {
    Scenario {
        #[cfg(feature = "failpoints")]
        _scenario: fail::FailScenario::setup(),
    }
}

/// The failpoints configured by [`setup_from_env`], until dropped.
#[allow(missing_debug_implementations)]
pub struct Scenario {
    #[cfg(feature = "failpoints")]
    _scenario: fail::FailScenario<'static>,
}
