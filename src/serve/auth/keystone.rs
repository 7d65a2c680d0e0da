//! Tokens of an existing Keystone (`--keystone URL`): a token this server does not know is
//! validated there (`GET {URL}/auth/tokens` with the token as `X-Auth-Token` and as
//! `X-Subject-Token`, as a token may validate itself), and the answer is remembered until the
//! token expires. The cache is keyed by the token's SHA-256, never by the token.

use std::collections::HashMap;

use serde::Deserialize;

/// What Keystone said of a token: its project and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteToken {
    /// The token's project.
    pub project_id: String,
    /// When it expires (ms since 1970).
    pub expires_ms: i64,
}

/// Why a token could not be validated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoneError {
    /// Keystone does not know the token (or it expired, or it has no project).
    #[error("Keystone does not accept the token")]
    Rejected,
    /// Keystone could not be asked.
    #[error("Keystone at {url} did not answer: {why}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// What went wrong.
        why: String,
    },
}

/// Entries kept at most; beyond, expired ones are dropped, then all.
const CACHE_LIMIT: usize = 10_000;

/// A Keystone that validates tokens, and the answers it gave.
#[derive(Debug)]
pub struct Keystone {
    url: String,
    client: reqwest::Client,
    cache: std::sync::Mutex<HashMap<[u8; 32], RemoteToken>>,
}

#[derive(Deserialize)]
struct TokenDocument {
    token: TokenBody,
}

#[derive(Deserialize)]
struct TokenBody {
    expires_at: String,
    project: Option<ProjectBody>,
}

#[derive(Deserialize)]
struct ProjectBody {
    id: String,
}

fn key_of(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(d.as_ref());
    key
}

impl Keystone {
    /// The Keystone whose identity v3 API is at `url` (as `auth_url` in `clouds.yaml`, e.g.
    /// `https://iam.example.com/v3`).
    pub fn new(url: &str) -> Keystone {
        Keystone {
            url: url.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: &[u8; 32], now_ms: i64) -> Option<RemoteToken> {
        let cache = self.cache.lock().ok()?;
        cache.get(key).filter(|t| t.expires_ms > now_ms).cloned()
    }

    fn remember(&self, key: [u8; 32], token: RemoteToken, now_ms: i64) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.retain(|_, t| t.expires_ms > now_ms);
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
            }
            cache.insert(key, token);
        }
    }

    /// The project of `token`, as Keystone says (or said, before it expired).
    pub async fn check(&self, token: &str, now_ms: i64) -> Result<RemoteToken, KeystoneError> {
        let key = key_of(token);
        if let Some(known) = self.cached(&key, now_ms) {
            return Ok(known);
        }
        let unreachable = |why: String| KeystoneError::Unreachable {
            url: self.url.clone(),
            why,
        };
        let response = self
            .client
            .get(format!("{}/auth/tokens", self.url))
            .header("X-Auth-Token", token)
            .header("X-Subject-Token", token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(unreachable(format!("status {status}")));
        }
        if !status.is_success() {
            return Err(KeystoneError::Rejected);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        let document: TokenDocument = serde_json::from_slice(&body)
            .map_err(|e| unreachable(format!("not a token document: {e}")))?;
        let expires_ms = chrono::DateTime::parse_from_rfc3339(&document.token.expires_at)
            .map_err(|e| unreachable(format!("expires_at: {e}")))?
            .timestamp_millis();
        let project_id = document
            .token
            .project
            .map(|p| p.id)
            .ok_or(KeystoneError::Rejected)?;
        if expires_ms <= now_ms {
            return Err(KeystoneError::Rejected);
        }
        let known = RemoteToken {
            project_id,
            expires_ms,
        };
        self.remember(key, known.clone(), now_ms);
        Ok(known)
    }
}
