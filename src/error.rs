//! The error type of the query layer and its outputs: what the data path can report
//! ([`cts_core::Error`]) and what queries add. Messages say what failed and where; none names a
//! command-line flag (the command line adds what to change).

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in cts, with the context needed to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Something failed on the data path: storage, decoding, the stores.
    #[error(transparent)]
    Core(#[from] cts_core::Error),

    /// A query failed to plan or run.
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),

    /// A query needed more memory than it may use.
    #[error(
        "query stopped: it needs more than the memory limit of {}: {detail}",
        indicatif::HumanBytes(*limit as u64)
    )]
    MemoryLimit {
        /// The limit, in bytes.
        limit: usize,
        /// What DataFusion could not allocate.
        detail: String,
    },

    /// A query ran longer than it may.
    #[error("query stopped: it ran longer than the limit of {} s", limit.as_secs_f64())]
    QueryTimeout {
        /// The limit.
        limit: std::time::Duration,
    },

    /// A Ballista cluster could not be reached or used.
    #[error("cluster {url}: {detail}")]
    Cluster {
        /// Its address, `df://HOST:PORT`.
        url: String,
        /// What went wrong.
        detail: String,
    },

    /// A query was cancelled (Ctrl-C in the shell).
    #[error("query cancelled")]
    Cancelled,

    /// The shell is read-only and the statement would create, change or copy data, or change
    /// settings.
    #[error("refused, the shell is read-only ({refused})")]
    ReadOnly {
        /// What DataFusion refused, e.g. `DML not supported: COPY`.
        refused: String,
    },

    /// An export by day of a query whose result has no `day` column.
    #[error("partitioning by day needs a `day` column in the result: select it, or write one file")]
    NoDayColumn,

    /// Statements of a script failed (each was reported as it failed).
    #[error("{failed} of {total} statements failed")]
    Script {
        /// How many failed.
        failed: usize,
        /// How many there were (meta-commands included).
        total: usize,
    },
}

impl Error {
    /// An argument or option that is not valid.
    pub fn invalid(message: impl Into<String>) -> Self {
        cts_core::Error::InvalidInput(message.into()).into()
    }

    /// A bug: something that should not happen happened.
    pub fn internal(message: impl Into<String>) -> Self {
        cts_core::Error::Internal(message.into()).into()
    }

    /// A local file operation failed.
    pub fn io(operation: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        cts_core::Error::io(operation, path, source).into()
    }

    /// An Arrow computation failed while doing `context`.
    pub fn arrow(context: impl ToString, source: arrow::error::ArrowError) -> Self {
        cts_core::Error::arrow(context, source).into()
    }

    /// An object store operation failed on `location`.
    pub fn storage(
        operation: &'static str,
        location: impl ToString,
        source: object_store::Error,
    ) -> Self {
        cts_core::Error::storage(operation, location, source).into()
    }

    /// Writing or reading a Parquet file failed.
    pub fn parquet(location: impl ToString, source: parquet::errors::ParquetError) -> Self {
        cts_core::Error::Parquet {
            location: location.to_string(),
            source,
        }
        .into()
    }

    /// The I/O error at the root of this one, if any: a closed pipe, say.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                return Some(io.kind());
            }
            source = e.source();
        }
        None
    }
}
