//! What decoding gives: the traces, the records set aside, or why a whole file failed.

use std::fmt;

use crate::trace::TraceRecord;

/// The most JSON one file may hold, after decompression (1 GiB).
pub const MAX_JSON_BYTES: u64 = 1 << 30;

/// Why a whole file could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The file starts like gzip but the stream is broken (truncated, corrupt).
    #[error("broken gzip data: {0}")]
    Gzip(std::io::Error),
    /// Nothing but white space.
    #[error("the file is empty")]
    Empty,
    /// Not valid JSON (position given by the parser, after decompression).
    #[error("{hint}invalid JSON: {source}")]
    Json {
        /// The parser's error, with line and column.
        source: serde_json::Error,
        /// A hint about the cause, such as a `.gz` name on a file that is not gzip.
        hint: &'static str,
    },
    /// More JSON than one file may hold (a gzip bomb, or a dump that is not a trace file).
    #[error("more than {} MB of JSON in one file", MAX_JSON_BYTES >> 20)]
    TooLarge,
    /// The traces could not be put into a batch (a bug: please report it).
    #[error("internal error building a batch: {0}")]
    Batch(String),
    /// Valid JSON, but not traces.
    #[error("expected a JSON array of traces (or NDJSON, or {{\"traces\": [...]}}), found {0}")]
    NotTraces(&'static str),
}

/// A record that could not be loaded as a trace, set aside with its raw JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    /// 1-based position of the record in its file.
    pub record: usize,
    /// The record's `trace_id`, where it has one.
    pub trace_id: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// The record as JSON text.
    pub raw: String,
}

impl fmt::Display for RejectedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.record)?;
        if let Some(id) = &self.trace_id {
            write!(f, " (trace_id {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The traces of one file, as a record batch.
#[derive(Debug)]
pub struct DecodedFile {
    /// The traces, in file order, as a batch of [`trace_schema`](crate::trace::trace_schema).
    pub batch: arrow::array::RecordBatch,
    /// Records that are not traces.
    pub rejects: Vec<RejectedRecord>,
    /// Bytes of JSON after decompression.
    pub json_bytes: u64,
}

/// What [`decode_into`](crate::decode::decode_into) appended for one file.
#[derive(Debug, Default)]
pub struct FileDecoded {
    /// Traces appended to the builder.
    pub rows: usize,
    /// Records that are not traces.
    pub rejects: Vec<RejectedRecord>,
    /// Bytes of JSON after decompression.
    pub json_bytes: u64,
}

/// The records of one JSON text, borrowing from it.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// The traces, in order.
    pub traces: Vec<TraceRecord<'a>>,
    /// Records that are not traces.
    pub rejects: Vec<RejectedRecord>,
}
