//! `cts serve`: the Cloud Trace Service API, self-hosted.
//!
//! Wire-compatible with CTS v3 (cts-spec.md §3): trackers ([`trackers`]), the trace list
//! ([`list`]), quotas, errors as `{"error_code": "CTS.0xxx", "error_msg": ...}` (§3.9). Around
//! it: an endpoint through which services record traces ([`record`]), and the periodic transfer
//! of trace files into each tracker's bucket in the CTS layout ([`transfer`]).
//!
//! Every project (tenant) has a data directory of its own, `DATA_DIR/projects/<project_id>/`,
//! laid out like any cts data directory (`hot/`, `archive/`) plus `trackers.json`: tenants are
//! isolated by construction, and `cts --data-dir DATA_DIR/projects/<id> sql ...` queries one.
//! Requests carry `X-Auth-Token`; the configuration maps each token to one project.

pub mod list;
pub mod record;
pub mod trackers;
pub mod transfer;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::archive::Archive;
use crate::error::{Error, Result};
use crate::hot::{HOT_DIR, HotOptions, HotStore};
use crate::query::QueryLimits;
use crate::storage::{Location, StorageOptions};

use self::record::Clock;
use self::trackers::TrackerBook;

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
            .map_err(|e| Error::InvalidInput(format!("configuration {}: {e}", path.display())))
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

/// One tenant: its stores and trackers.
pub struct Project {
    /// The project ID.
    pub id: String,
    /// Its data directory.
    pub dir: PathBuf,
    /// Its hot store (recording writes here).
    pub hot: HotStore,
    /// Its trackers, persisted in `trackers.json`.
    pub trackers: tokio::sync::Mutex<TrackerBook>,
}

impl Project {
    /// The project's archive.
    pub fn archive(&self) -> &Archive {
        self.hot.archive()
    }
}

/// The server's shared state.
pub struct Server {
    /// The configuration.
    pub config: ServeConfig,
    /// Projects by ID: every project a token names.
    pub projects: BTreeMap<String, Arc<Project>>,
    /// Record times handed out to recordings in flight (see [`Clock`]).
    pub clock: Clock,
    /// Held by the transfer under way: one at a time.
    pub transferring: tokio::sync::Mutex<()>,
}

impl Server {
    /// Open every project a token names (creating its folders) and its trackers.
    pub async fn open(config: ServeConfig) -> Result<Server> {
        if config.tokens.is_empty() {
            return Err(Error::InvalidInput(
                "no API tokens: give --token TOKEN=PROJECT_ID or \"tokens\" in --config".into(),
            ));
        }
        let mut projects = BTreeMap::new();
        for (token, id) in &config.tokens {
            if token.is_empty() {
                return Err(Error::InvalidInput("an API token is empty".into()));
            }
            if !valid_project_id(id) {
                return Err(Error::InvalidInput(format!(
                    "project ID {id:?}: use 1-64 letters, digits, '-' or '_'"
                )));
            }
            if projects.contains_key(id) {
                continue;
            }
            let dir = config.data_dir.join("projects").join(id);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
            let archive = Archive::new(Location::local(&dir.join("archive"))?);
            let hot = HotStore::open(&dir.join(HOT_DIR), archive, config.hot).await?;
            let trackers = TrackerBook::open(&dir)?;
            projects.insert(
                id.clone(),
                Arc::new(Project {
                    id: id.clone(),
                    dir,
                    hot,
                    trackers: tokio::sync::Mutex::new(trackers),
                }),
            );
        }
        let clock = Clock::default();
        for project in projects.values() {
            clock.not_before(project.trackers.lock().await.latest_cursor());
        }
        Ok(Server {
            config,
            projects,
            clock,
            transferring: tokio::sync::Mutex::new(()),
        })
    }

    /// The folder of the bucket `name` when buckets are local folders (it may not exist).
    pub fn local_bucket(&self, name: &str) -> Option<PathBuf> {
        let base = self.config.buckets.as_str();
        match url::Url::parse(base) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().ok().map(|p| p.join(name)),
            Ok(url) if url.scheme().len() > 1 => None,
            _ => Some(Path::new(base).join(name)),
        }
    }

    /// Where the bucket `name` is (a local bucket's folder is created: check
    /// [`Server::local_bucket`] first).
    pub fn bucket(&self, name: &str) -> Result<Location> {
        let base = self.config.buckets.trim_end_matches('/');
        let url = if base.ends_with(':') {
            // `s3://`: the endpoint's buckets.
            format!("{base}//{name}")
        } else {
            format!("{base}/{name}")
        };
        Location::parse(&url, &self.config.storage)
    }
}

/// An error as the CTS API returns it (§3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `CTS.0xxx` (or `APIGW.0301` for a missing or unknown token).
    pub code: &'static str,
    /// What went wrong, naming the field or parameter.
    pub message: String,
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// A 400 `CTS.0003`: the body or a parameter is invalid.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::bad_request("CTS.0003", message)
    }

    /// A 404 `CTS.0214`: no such tracker.
    pub fn no_tracker(name: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "CTS.0214",
            message: format!("the tracker {name:?} does not exist"),
        }
    }

    /// A 500: `CTS.0004` (writing) or `CTS.0005` (reading), with the cause.
    pub fn internal(code: &'static str, error: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code,
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"error_code": self.code, "error_msg": self.message})),
        )
            .into_response()
    }
}

/// The project a request acts on: the `{project_id}` of its path, which its `X-Auth-Token`
/// must be allowed (401 without a known token, 403 for another project's path).
pub struct Authorized(pub Arc<Project>);

impl FromRequestParts<Arc<Server>> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        server: &Arc<Server>,
    ) -> std::result::Result<Self, Self::Rejection> {
        let unauthorized = |message: &str| ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "APIGW.0301",
            message: message.to_string(),
        };
        let token = parts
            .headers
            .get("x-auth-token")
            .ok_or_else(|| unauthorized("no X-Auth-Token header"))?
            .to_str()
            .map_err(|_| unauthorized("X-Auth-Token is not text"))?;
        let allowed = server
            .config
            .tokens
            .get(token)
            .ok_or_else(|| unauthorized("unknown X-Auth-Token"))?;
        let path_project = parts
            .uri
            .path()
            .strip_prefix("/v3/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        if path_project != allowed {
            return Err(ApiError {
                status: StatusCode::FORBIDDEN,
                code: "CTS.0013",
                message: format!(
                    "No permission: the token is not valid for project {path_project:?}"
                ),
            });
        }
        let project = server.projects.get(allowed).cloned().ok_or_else(|| {
            ApiError::internal("CTS.0005", format!("project {allowed} is not open"))
        })?;
        Ok(Authorized(project))
    }
}

/// Largest request body: a recording of many traces.
pub const MAX_BODY_BYTES: usize = 256 << 20;

/// The routes of the API.
pub fn router(server: Arc<Server>) -> Router {
    use axum::routing::post;
    Router::new()
        .route("/health", get(health))
        .route(
            "/v3/{project_id}/tracker",
            post(trackers::create).put(trackers::update),
        )
        .route(
            "/v3/{project_id}/trackers",
            get(trackers::list).delete(trackers::delete),
        )
        .route("/v3/{project_id}/quotas", get(trackers::quotas))
        .route(
            "/v3/{project_id}/traces",
            get(list::list)
                .post(record::record)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/v3/{project_id}/transfer", post(transfer::run_now))
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                code: "CTS.0100",
                message: "no such API".into(),
            }
        })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(server)
}

async fn health(State(server): State<Arc<Server>>) -> impl IntoResponse {
    axum::Json(json!({"status": "ok", "projects": server.projects.len()}))
}

/// One line per request on stderr: method, path, status, milliseconds.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    eprintln!(
        "{} {method} {path} {} {:.1} ms",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Serve until `shutdown` resolves: then stop taking connections, let requests in flight
/// finish (each recording is acknowledged only once durable), and stop the transfers.
pub async fn run(
    server: Server,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let server = Arc::new(server);
    let listener = tokio::net::TcpListener::bind(server.config.listen)
        .await
        .map_err(|e| Error::InvalidInput(format!("listen on {}: {e}", server.config.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("listening address: {e}")))?;
    eprintln!(
        "cts serve: listening on http://{address}, {} projects, transfer every {} s",
        server.projects.len(),
        server.config.transfer_interval.as_secs_f64()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let transfers = tokio::spawn(transfer::run_periodically(server.clone(), stopped));
    let app = router(server.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Internal(format!("serving: {e}")));
    let _ = stop.send(true);
    let _ = transfers.await;
    eprintln!("cts serve: stopped");
    served
}
