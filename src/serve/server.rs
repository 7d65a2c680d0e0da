//! The server's state: its configuration, and every project a token names, with its stores,
//! its trackers and the record clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cts_core::storage::Location;
use cts_core::store::archive::Archive;
use cts_core::store::hot::{HOT_DIR, HotStore};

use crate::error::{Error, Result};
use crate::serve::book::TrackerBook;
use crate::serve::clock::Clock;
use crate::serve::config::{ServeConfig, valid_project_id};
use crate::serve::tokens::TokenBook;

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
}

impl Project {
    /// The project's archive.
    pub fn archive(&self) -> &Archive {
        self.hot.archive()
    }
}

/// The server's shared state.
#[derive(Debug)]
pub struct Server {
    /// The configuration.
    pub config: ServeConfig,
    /// Projects by ID: every project a token names.
    pub projects: BTreeMap<String, Arc<Project>>,
    /// Record times handed out to recordings in flight (see [`Clock`]).
    pub clock: Clock,
    /// Held by the transfer under way: one at a time.
    pub transferring: tokio::sync::Mutex<()>,
    /// The API tokens, for comparing in constant time.
    pub tokens: TokenBook,
}

impl Server {
    /// Open every project a token names (creating its folders) and its trackers.
    pub async fn open(config: ServeConfig) -> Result<Server> {
        if config.tokens.is_empty() {
            return Err(Error::invalid(
                "no API tokens: the configuration maps no token to a project",
            ));
        }
        let mut projects = BTreeMap::new();
        for (token, id) in &config.tokens {
            if token.is_empty() {
                return Err(Error::invalid("an API token is empty"));
            }
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
        let tokens = TokenBook::new(&config.tokens)?;
        Ok(Server {
            config,
            projects,
            clock,
            transferring: tokio::sync::Mutex::new(()),
            tokens,
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
        Ok(Location::parse(&url, &self.config.storage)?)
    }
}
