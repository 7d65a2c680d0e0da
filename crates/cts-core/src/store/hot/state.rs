//! The hot store's files and its state: `state.json`, replaced atomically by every step, names
//! the watermark, the live log and the segments; the options that age traces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::fs::write_atomic;

/// The hot store's folder inside the data directory.
pub const HOT_DIR: &str = "hot";
const STATE_FILE: &str = "state.json";
/// Held by the one writer of the moment.
pub(crate) const LOCK_FILE: &str = "LOCK";
/// Folder of the write-ahead logs.
pub(crate) const WAL_DIR: &str = "wal";
/// Folder of the segments.
pub(crate) const SEGMENTS_DIR: &str = "traces";
const FORMAT: &str = "cts-hot";
const FORMAT_VERSION: u64 = 1;

/// How the hot store keeps and ages traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotOptions {
    /// Traces whose `time` is within this of now stay in the hot store.
    pub retention: Duration,
    /// Log bytes after which the log is flushed into Parquet segments.
    pub flush_bytes: u64,
    /// Segments of one day beyond which they are merged into one.
    pub max_segments_per_day: usize,
    /// How long a file that left the state is kept for readers still reading it.
    pub grace: Duration,
}

impl Default for HotOptions {
    fn default() -> Self {
        HotOptions {
            retention: Duration::from_secs(7 * 86_400),
            flush_bytes: 64 << 20,
            max_segments_per_day: 8,
            grace: Duration::from_secs(600),
        }
    }
}

/// The hot store's state, as `state.json` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotState {
    /// Always `cts-hot`.
    pub format: String,
    /// Layout version.
    pub version: u64,
    /// Raised by every change of the state.
    pub generation: u64,
    /// `H`: the hot store holds the traces at or after this time (ms), the archive those before.
    pub watermark_ms: i64,
    /// Number of the live log, `wal/<n>.wal`.
    pub wal: u64,
    /// The segments, in the order they were written.
    pub segments: Vec<Segment>,
    /// Files that left the state, kept for readers until the grace period is over.
    #[serde(default)]
    pub obsolete: Vec<Obsolete>,
}

impl HotState {
    /// The state of a new hot store with watermark `watermark_ms`.
    pub fn new(watermark_ms: i64) -> HotState {
        HotState {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            generation: 1,
            watermark_ms,
            wal: 1,
            segments: Vec::new(),
            obsolete: Vec::new(),
        }
    }
}

/// A Parquet segment of the hot store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Path inside the hot store's folder.
    pub file: String,
    /// Day number (since the epoch) of every trace in it.
    pub day: i64,
    /// Traces in it.
    pub rows: u64,
    /// Earliest `time` in it (ms).
    pub min_time: i64,
    /// Latest `time` in it (ms).
    pub max_time: i64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A file that left the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obsolete {
    /// Path inside the hot store's folder.
    pub file: String,
    /// When it left the state (ms).
    pub since_ms: i64,
}

/// The path of log number `n` in the hot store in `dir`.
pub(crate) fn wal_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(WAL_DIR).join(format!("{n:010}.wal"))
}

/// The state of the hot store in `dir`; `None` when it has none yet.
pub(crate) fn read_state(dir: &Path) -> Result<Option<HotState>> {
    let path = dir.join(STATE_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let state: HotState = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
        location: path.display().to_string(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    if state.format != FORMAT || state.version != FORMAT_VERSION {
        return Err(Error::InvalidInput(format!(
            "{} is a {} store of version {}; this cts reads {FORMAT} version {FORMAT_VERSION}",
            path.display(),
            state.format,
            state.version
        )));
    }
    Ok(Some(state))
}

/// Replace the state of the hot store in `dir`, atomically and durably.
pub(crate) fn write_state(dir: &Path, state: &HotState) -> Result<()> {
    let text = serde_json::to_vec_pretty(state)
        .map_err(|e| Error::Internal(format!("hot store state: {e}")))?;
    write_atomic(&dir.join(STATE_FILE), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_round_trips_and_another_format_is_refused() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("create", "a temporary folder", e))?;
        assert_eq!(read_state(dir.path())?, None);
        let state = HotState::new(42);
        write_state(dir.path(), &state)?;
        assert_eq!(read_state(dir.path())?, Some(state));
        std::fs::write(
            dir.path().join(STATE_FILE),
            br#"{"format":"cts-hot","version":9,"generation":1,"watermark_ms":0,"wal":1,"segments":[]}"#,
        )
        .map_err(|e| Error::io("write", dir.path(), e))?;
        let error = read_state(dir.path())
            .map(|_| ())
            .err()
            .map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.ends_with(
                "state.json is a cts-hot store of version 9; this cts reads cts-hot version 1"
            )),
            "{error:?}"
        );
        Ok(())
    }
}
