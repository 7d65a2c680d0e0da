//! Reading the hot store without a lock: a consistent [`Snapshot`] of its state and log, for one
//! query.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use arrow::array::RecordBatch;

use crate::error::{Error, Result};
use crate::store::hot::segment::{hot_query_schema, with_day};
use crate::store::hot::state::{Segment, read_state, wal_path};
use crate::store::wal::decode_frames;
use crate::trace::cast_to;

/// A consistent view of the hot store, for one query.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The hot store's folder.
    pub dir: PathBuf,
    /// `H`, or `None` when there is no hot store (the archive then answers for all time).
    pub watermark_ms: Option<i64>,
    /// The segments.
    pub segments: Vec<Segment>,
    /// The log's traces, in [`hot_query_schema`] (with `day`, text as `Utf8View`).
    pub log: Vec<RecordBatch>,
}

impl Snapshot {
    /// Traces in the snapshot (including any the watermark hides).
    pub fn rows(&self) -> u64 {
        self.segments.iter().map(|s| s.rows).sum::<u64>()
            + self.log.iter().map(|b| b.num_rows() as u64).sum::<u64>()
    }
}

/// Read a consistent snapshot of the hot store in `dir` (no lock taken).
pub fn snapshot(dir: &Path) -> Result<Snapshot> {
    for _ in 0..100 {
        let Some(state) = read_state(dir)? else {
            return Ok(Snapshot {
                dir: dir.to_path_buf(),
                watermark_ms: None,
                segments: Vec::new(),
                log: Vec::new(),
            });
        };
        let log = read_log_cached(&wal_path(dir, state.wal))?;
        let again = read_state(dir)?;
        if again.as_ref().map(|s| s.generation) == Some(state.generation) {
            return Ok(Snapshot {
                dir: dir.to_path_buf(),
                watermark_ms: Some(state.watermark_ms),
                segments: state.segments,
                log,
            });
        }
    }
    Err(Error::Internal(format!(
        "the hot store in {} changed 100 times while being read",
        dir.display()
    )))
}

/// The frames of each live log this process has read (in [`hot_query_schema`]), and how many
/// bytes of it they are. A log only grows until a new one replaces it, so a snapshot reads just
/// the frames appended since the previous one: a server answering many queries does not decode
/// the whole log (up to 64 MB) for each.
static LOG_CACHE: LazyLock<std::sync::Mutex<HashMap<PathBuf, CachedLog>>> =
    LazyLock::new(Default::default);

/// Bytes of whole frames read, and their batches.
type CachedLog = (u64, Vec<RecordBatch>);

/// The batches of the log at `path`, in order, in [`hot_query_schema`].
fn read_log_cached(path: &Path) -> Result<Vec<RecordBatch>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut cache = LOG_CACHE
        .lock()
        .map_err(|_| Error::Internal("hot store log cache poisoned".into()))?;
    let (mut valid_len, mut batches) = cache.get(path).cloned().unwrap_or_default();
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len < valid_len {
        // Not the log that was cached (logs are never cut below a whole frame): read it anew.
        (valid_len, batches) = (0, Vec::new());
    }
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(valid_len))
        .and_then(|_| file.read_to_end(&mut tail))
        .map_err(|e| Error::io("read", path, e))?;
    let contents = decode_frames(&tail, path)?;
    for batch in &contents.batches {
        batches.push(cast_to(&with_day(batch)?, &hot_query_schema())?);
    }
    valid_len += contents.valid_len;
    // Logs of the same hot store that this one replaced are not read again.
    cache.retain(|cached, _| cached.parent() != path.parent());
    cache.insert(path.to_path_buf(), (valid_len, batches.clone()));
    Ok(batches)
}
