//! The server's state: its configuration, the ways in ([`Auth`]), and every project it serves,
//! with its stores, its trackers and the record clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cts_core::integrity::SigningKey;
use cts_core::integrity::keys::data_dir_key;
use cts_core::storage::Location;
use cts_core::store::archive::Archive;
use cts_core::store::hot::{HOT_DIR, HotStore};

use crate::error::{Error, Result};
use crate::notify::book::NotificationBook;
use crate::notify::deliver::Delivery;
use crate::notify::log::DeliveryLog;
use crate::notify::matcher::Matcher;
use crate::notify::outbox::Outbox;
use crate::serve::auth::Auth;
use crate::serve::book::TrackerBook;
use crate::serve::clock::Clock;
use crate::serve::config::{ServeConfig, valid_project_id};

/// One tenant: its stores and trackers.
#[derive(Debug)]
pub struct Project {
    /// The project ID.
    pub id: String,
    /// Its data directory.
    pub dir: PathBuf,
    /// Its hot store (recording writes here).
    pub hot: HotStore,
    /// Its trackers, persisted in `trackers.json`.
    pub trackers: tokio::sync::Mutex<TrackerBook>,
    /// Its key-event notifications, persisted in `notifications.json`.
    pub notifications: tokio::sync::Mutex<NotificationBook>,
    /// Its enabled notifications, compiled (replaced on every change).
    matcher: std::sync::RwLock<Arc<Matcher>>,
    /// Messages its traces fired, until delivered.
    pub outbox: Outbox,
    /// What was delivered, and what failed.
    pub deliveries: Arc<DeliveryLog>,
}

impl Project {
    /// The project's archive.
    pub fn archive(&self) -> &Archive {
        self.hot.archive()
    }

    /// The enabled notifications, compiled.
    pub fn matcher(&self) -> Arc<Matcher> {
        self.matcher
            .read()
            .map(|m| m.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Compile the notifications of `book` (after a change).
    pub fn compile(&self, book: &NotificationBook) {
        let compiled = Arc::new(Matcher::new(&book.notifications));
        match self.matcher.write() {
            Ok(mut m) => *m = compiled,
            Err(poisoned) => *poisoned.into_inner() = compiled,
        }
    }
}

/// The server's shared state.
#[derive(Debug)]
pub struct Server {
    /// The configuration.
    pub config: ServeConfig,
    /// Projects by ID: every project a token, a credential or a user names, and those listed.
    pub projects: BTreeMap<String, Arc<Project>>,
    /// Record times handed out to recordings in flight (see [`Clock`]).
    pub clock: Clock,
    /// Held by the transfer under way: one at a time.
    pub transferring: tokio::sync::Mutex<()>,
    /// Tokens, access keys, users: who may call, for which project.
    pub auth: Auth,
    /// Where notifications' messages go, and how.
    pub delivery: Arc<Delivery>,
    /// Woken when a recording wrote messages to an outbox.
    pub outbox_written: Arc<tokio::sync::Notify>,
    /// The key digest files are signed with, read (or made) on first use.
    signing_key: tokio::sync::OnceCell<Arc<SigningKey>>,
}

impl Server {
    /// Open every project the configuration names (creating its folders), and its trackers.
    pub async fn open(config: ServeConfig) -> Result<Server> {
        if config.tokens.is_empty()
            && config.credentials.is_empty()
            && config.users.is_empty()
            && config.keystone.is_none()
        {
            return Err(Error::invalid(
                "no way to call the API: the configuration has no tokens, credentials, users or \
                 Keystone",
            ));
        }
        if config.tokens.keys().any(|t| t.expose().is_empty()) {
            return Err(Error::invalid("an API token is empty"));
        }
        if let Some((key, _)) = config
            .credentials
            .iter()
            .find(|(key, c)| key.is_empty() || c.secret.expose().is_empty())
        {
            return Err(Error::invalid(format!(
                "credential {key:?}: the access key and the secret key must not be empty"
            )));
        }
        let named = config
            .tokens
            .values()
            .chain(config.credentials.values().map(|c| &c.project_id))
            .chain(config.users.iter().map(|u| &u.project_id))
            .chain(&config.projects);
        let mut projects = BTreeMap::new();
        for id in named {
            if !valid_project_id(id) {
                return Err(Error::invalid(format!(
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
            let notifications = NotificationBook::open(&dir)?;
            let matcher = Arc::new(Matcher::new(&notifications.notifications));
            projects.insert(
                id.clone(),
                Arc::new(Project {
                    id: id.clone(),
                    outbox: Outbox::of(&dir),
                    deliveries: DeliveryLog::of(&dir),
                    dir,
                    hot,
                    trackers: tokio::sync::Mutex::new(trackers),
                    notifications: tokio::sync::Mutex::new(notifications),
                    matcher: std::sync::RwLock::new(matcher),
                }),
            );
        }
        if projects.is_empty() {
            return Err(Error::invalid(
                "no project to serve: name one with a token, a credential, a user or \"projects\"",
            ));
        }
        let clock = Clock::default();
        for project in projects.values() {
            clock.not_before(project.trackers.lock().await.latest_cursor());
        }
        let auth = Auth::new(&config)?;
        let delivery = Arc::new(Delivery::new(config.topics.clone(), config.retry));
        Ok(Server {
            delivery,
            outbox_written: Arc::new(tokio::sync::Notify::new()),
            config,
            projects,
            clock,
            transferring: tokio::sync::Mutex::new(()),
            auth,
            signing_key: tokio::sync::OnceCell::new(),
        })
    }

    /// The key digest files are signed with: `--signing-key`, else `DATA_DIR/signing-key.pem`,
    /// made on first use (readable by its owner only) with its public half beside it in
    /// `signing-key.pub.pem`, which is what verifiers need.
    pub async fn signing_key(&self) -> Result<Arc<SigningKey>> {
        let key = self
            .signing_key
            .get_or_try_init(|| async {
                let configured = self.config.signing_key.clone();
                let data_dir = self.config.data_dir.clone();
                let key = tokio::task::spawn_blocking(move || -> Result<SigningKey> {
                    let (key, made) = data_dir_key(configured.as_deref(), &data_dir)?;
                    if let Some(public_path) = made {
                        eprintln!(
                            "cts serve: made a key for signing digest files; its public half, for \
                             cts verify --public-key, is {}",
                            public_path.display()
                        );
                    }
                    Ok(key)
                })
                .await
                .map_err(|e| Error::internal(e.to_string()))??;
                Ok::<_, Error>(Arc::new(key))
            })
            .await?;
        Ok(key.clone())
    }

    /// Where clients reach this server: the configured public URL, else `http://` and the
    /// request's `Host`.
    pub fn base_url(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = &self.config.public_url {
            return url.trim_end_matches('/').to_string();
        }
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .map_or_else(|| self.config.listen.to_string(), str::to_string);
        format!("http://{host}")
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
        Ok(Location::parse(&url, &self.config.storage)?)
    }
}
