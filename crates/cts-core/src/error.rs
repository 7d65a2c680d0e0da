//! The one error type of the data path. Every variant says what failed and where; none names
//! a command-line flag (the command line adds what to change).

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong on the data path, with the context needed to act on it.
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

    /// A bucket URL was given, but no credentials to reach it.
    #[error(
        "no credentials for {location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (an OBS \
         access key and its secret key), and AWS_SESSION_TOKEN with temporary credentials"
    )]
    NoCredentials {
        /// The bucket, as a URL.
        location: String,
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

    /// A writer held the archive's write lease longer than it lasts; another writer may have
    /// taken it since, so nothing more is recorded (the next run finishes the work).
    #[error(
        "the write lease {location} expired before this writer finished; nothing more was \
         recorded, and the next run takes up the work"
    )]
    LeaseExpired {
        /// The lease object.
        location: String,
    },

    /// An argument or option is not valid.
    #[error("{0}")]
    InvalidInput(String),

    /// A background task stopped unexpectedly (a bug: please report it).
    #[error("internal error: {0}")]
    Internal(String),
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
