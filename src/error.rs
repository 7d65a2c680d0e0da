//! The one error type of the library. Every variant says what failed and where.

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in cts, with the context needed to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A storage URL or path could not be understood.
    #[error("invalid storage location {location:?}: {reason}")]
    InvalidLocation {
        /// The URL or path as given.
        location: String,
        /// Why it is not usable.
        reason: String,
    },

    /// An object store operation (list, get, put, delete) failed.
    #[error("{operation} {location}: {source}")]
    Storage {
        /// What was attempted: "list", "read", "write", "delete".
        operation: &'static str,
        /// The object or prefix, as a URL.
        location: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },

    /// Writing or reading a Parquet file of the archive failed.
    #[error("parquet {location}: {source}")]
    Parquet {
        /// The Parquet file.
        location: String,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// An Arrow computation (sorting, filtering, building batches) failed.
    #[error("{context}: {source}")]
    Arrow {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: arrow::error::ArrowError,
    },

    /// The archive's manifest holds something that cannot be read.
    #[error("manifest {location}, line {line}: {reason}")]
    Manifest {
        /// The manifest segment.
        location: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A query failed to plan or run.
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),

    /// A query needed more memory than it may use.
    #[error("query stopped: it needs more than the memory limit of {} (--memory-limit): {detail}", human_bytes(*limit))]
    MemoryLimit {
        /// The limit, in bytes.
        limit: usize,
        /// What DataFusion could not allocate.
        detail: String,
    },

    /// A query ran longer than it may.
    #[error("query stopped: it ran longer than the limit of {} s (--query-timeout)", limit.as_secs_f64())]
    QueryTimeout {
        /// The limit.
        limit: std::time::Duration,
    },

    /// A query was cancelled (Ctrl-C in the shell).
    #[error("query cancelled")]
    Cancelled,

    /// The shell is read-only and the statement would create, change or copy data, or change
    /// settings.
    #[error(
        "refused, the shell is read-only ({refused}): start it with `cts shell --write` to allow it"
    )]
    ReadOnly {
        /// What DataFusion refused, e.g. `DML not supported: COPY`.
        refused: String,
    },

    /// Statements of a script failed (each was reported as it failed).
    #[error("{failed} of {total} statements failed")]
    Script {
        /// How many failed.
        failed: usize,
        /// How many there were (meta-commands included).
        total: usize,
    },

    /// A local file operation failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was attempted.
        operation: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An argument or option is not valid.
    #[error("{0}")]
    InvalidInput(String),

    /// A background task stopped unexpectedly (a bug: please report it).
    #[error("internal error: {0}")]
    Internal(String),
}

/// `512 KB`, `4.0 GB`: a size for people.
fn human_bytes(bytes: usize) -> String {
    let b = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.0} KB", b / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.0} MB", b / 1_048_576.0),
        _ => format!("{:.1} GB", b / 1_073_741_824.0),
    }
}

impl Error {
    /// Wrap an object store error with the operation and the location it concerned.
    pub fn storage(
        operation: &'static str,
        location: impl ToString,
        source: object_store::Error,
    ) -> Self {
        Error::Storage {
            operation,
            location: location.to_string(),
            source,
        }
    }

    /// Wrap an Arrow error with what was being done.
    pub fn arrow(context: impl ToString, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            context: context.to_string(),
            source,
        }
    }

    /// Wrap an I/O error with the operation and path.
    pub fn io(operation: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}
