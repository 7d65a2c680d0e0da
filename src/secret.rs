//! Secrets of the configuration (API tokens, secret keys, password hashes, topic secrets), kept
//! out of every log and debug print.

use serde::Deserialize;

/// A secret from the configuration (an API token, a secret key, a password hash): printed as
/// `Secret(..)`, never as its value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, to compare or to sign with (never to print).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}
