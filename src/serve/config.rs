//! How the server runs: the configuration file and the flags, and what a project ID may be.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cts_core::storage::StorageOptions;
use cts_core::store::hot::HotOptions;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::notify::deliver::{Retry, Topic};
use crate::query::QueryLimits;
pub use crate::secret::Secret;

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
    pub tokens: BTreeMap<Secret, String>,
    /// Access keys (AK) for requests signed as Huawei's SDKs sign them: each one's secret key and
    /// project.
    pub credentials: BTreeMap<String, Credential>,
    /// Users who get tokens from the built-in identity endpoint (Keystone v3 password method).
    pub users: Vec<User>,
    /// How long a token the identity endpoint issues is valid.
    pub token_lifetime: Duration,
    /// An existing Keystone (its identity v3 URL, as `auth_url` in `clouds.yaml`) that validates
    /// tokens this server did not issue.
    pub keystone: Option<String>,
    /// Projects served besides those named by tokens, credentials and users (projects whose
    /// tokens come from [`ServeConfig::keystone`]).
    pub projects: Vec<String>,
    /// The URL clients reach this server at, for the identity endpoint's catalog (default: from
    /// the request's `Host`).
    pub public_url: Option<String>,
    /// Where each notification topic's messages go.
    pub topics: BTreeMap<String, Topic>,
    /// How deliveries of notifications retry.
    pub retry: Retry,
    /// Where trackers' buckets are: a folder holding one sub-folder per bucket, or `s3://` for
    /// the buckets of the S3/OBS endpoint in [`ServeConfig::storage`].
    pub buckets: String,
    /// Time between two transfers of trace files to the trackers' buckets.
    pub transfer_interval: Duration,
    /// The period each digest file covers (CTS: one hour).
    pub digest_interval: Duration,
    /// The private key digest files are signed with (PKCS#8 PEM); `None`:
    /// `DATA_DIR/signing-key.pem`, made on first use.
    pub signing_key: Option<PathBuf>,
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
    pub tokens: BTreeMap<Secret, String>,
    /// Access key -> its secret key and project.
    #[serde(default)]
    pub credentials: BTreeMap<String, Credential>,
    /// Users of the identity endpoint.
    #[serde(default)]
    pub users: Vec<User>,
    /// Seconds a token of the identity endpoint is valid (default 86400, as Keystone).
    pub token_lifetime_seconds: Option<u64>,
    /// An existing Keystone's identity v3 URL.
    pub keystone: Option<String>,
    /// More projects to serve.
    #[serde(default)]
    pub projects: Vec<String>,
    /// The URL clients reach this server at.
    pub public_url: Option<String>,
    /// Topic URN -> where its messages go (`{"url", "secret"}`).
    #[serde(default)]
    pub topics: BTreeMap<String, Topic>,
    /// Seconds a notification's message is retried before it is given up (default 86400).
    pub notification_retry_seconds: Option<u64>,
    /// The private key digest files are signed with (PKCS#8 PEM, `cts keygen`).
    pub signing_key: Option<PathBuf>,
}

/// An access key's secret key and the project it may act on (`"credentials"` in the
/// configuration, `--credential AK:SK=PROJECT_ID`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The secret key (SK).
    pub secret: Secret,
    /// The project.
    pub project_id: String,
}

/// A user of the identity endpoint (`"users"` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The user name.
    pub name: String,
    /// The password's salted hash, as `cts hash-password` writes it.
    pub password: Secret,
    /// The user's domain (default `Default`).
    #[serde(default = "default_domain")]
    pub domain: String,
    /// The project the user's tokens act on.
    pub project_id: String,
}

fn default_domain() -> String {
    "Default".to_string()
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
