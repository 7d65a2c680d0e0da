//! How the server runs: the configuration file and the flags, and what a project ID may be.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cts_core::storage::StorageOptions;
use cts_core::store::hot::HotOptions;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::query::QueryLimits;

/// How the server runs. Built from a configuration file ([`ConfigFile`]) and flags.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Root of the projects' data directories (`DATA_DIR/projects/<id>`).
    pub data_dir: PathBuf,
    /// The region this service stands for: in trace file keys and names, and in `region`.
    pub region: String,
    /// API tokens (`X-Auth-Token`) and the project each one may act on.
    pub tokens: BTreeMap<String, String>,
    /// Where trackers' buckets are: a folder holding one sub-folder per bucket, or `s3://` for
    /// the buckets of the S3/OBS endpoint in [`ServeConfig::storage`].
    pub buckets: String,
    /// Time between two transfers of trace files to the trackers' buckets.
    pub transfer_interval: Duration,
    /// Connection options of S3/OBS buckets.
    pub storage: StorageOptions,
    /// How the hot store keeps and ages traces.
    pub hot: HotOptions,
    /// Limits of each trace list query.
    pub limits: QueryLimits,
}

/// The configuration file of `cts serve --config FILE` (JSON). Flags override it.
///
/// ```
/// let file: cts::serve::ConfigFile = serde_json::from_str(r#"{
///     "listen": "127.0.0.1:8080",
///     "region": "eu-de",
///     "buckets": "s3://",
///     "transfer_interval_seconds": 300,
///     "tokens": {"secret-token-of-team-a": "0123456789abcdef0123456789abcdef"}
/// }"#).unwrap();
/// assert_eq!(file.tokens.len(), 1);
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// The service's region.
    pub region: Option<String>,
    /// Where buckets are (see [`ServeConfig::buckets`]).
    pub buckets: Option<String>,
    /// Seconds between transfers.
    pub transfer_interval_seconds: Option<f64>,
    /// Token -> project ID.
    #[serde(default)]
    pub tokens: BTreeMap<String, String>,
}

impl ConfigFile {
    /// Read a configuration file.
    pub fn read(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::invalid(format!("configuration {}: {e}", path.display())))
    }
}

/// A project ID as used in paths and folder names: 1-64 letters, digits, `-` and `_`.
pub fn valid_project_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
