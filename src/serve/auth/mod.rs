//! Who is calling, and which project they may act on: [`Auth::check`] finds the [`Caller`] of a
//! request, whom [`Authorized`](crate::serve::Authorized) then holds to the project of the
//! path. A caller proves who they are in one of three ways:
//!
//! - an API token of the configuration in `X-Auth-Token` ([`TokenBook`], compared in constant
//!   time);
//! - a token from the built-in identity endpoint ([`identity`]) or, with `--keystone`, from an
//!   existing Keystone ([`keystone`]), also in `X-Auth-Token`;
//! - a request signed with an access key as Huawei's SDKs sign ([`signature`]): `Authorization:
//!   SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` and `X-Sdk-Date`.
//!
//! The body is read only for a signature of a known access key, as the signature covers it.
//! Messages say what is wrong with a request, never which part of a secret was.

pub mod identity;
pub mod keystone;
pub mod password;
pub mod signature;
mod tokens;

use std::collections::BTreeMap;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::error::Result;
use crate::serve::api::{ApiError, MAX_BODY_BYTES};
use crate::serve::config::{Credential, ServeConfig};

pub use identity::Identity;
pub use keystone::Keystone;
pub use tokens::TokenBook;

/// How a caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// An API token of the configuration.
    Token,
    /// A token of the built-in identity endpoint, of this user ID.
    Issued(String),
    /// A token an existing Keystone validated.
    Keystone,
    /// A signature with this access key.
    Signature(String),
}

/// A caller whose credentials were checked: the project they may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The project.
    pub project_id: String,
    /// How they proved it.
    pub proof: Proof,
}

/// Every way in: tokens, access keys, the identity endpoint's users, an existing Keystone.
#[derive(Debug)]
pub struct Auth {
    /// Password checks of the identity endpoint running at once, at most 2.
    pub sign_ins: tokio::sync::Semaphore,
    tokens: TokenBook,
    credentials: BTreeMap<String, Credential>,
    identity: Identity,
    keystone: Option<Keystone>,
}

/// A 401 as API Gateway returns it.
pub fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "APIGW.0301",
        message: message.into(),
    }
}

/// Largest body of a signed request to a route other than the trace list's (axum's default).
const SMALL_BODY_BYTES: usize = 2 << 20;

/// What a wrong key and a wrong signature both get: nothing says which it was.
const NOT_VERIFIED: &str = "Incorrect IAM authentication information: the signature could not \
                            be verified with this access key";

impl Auth {
    /// The ways in of `config` (the identity key lives in its data directory).
    pub fn new(config: &ServeConfig) -> Result<Auth> {
        Ok(Auth {
            sign_ins: tokio::sync::Semaphore::new(2),
            tokens: TokenBook::new(&config.tokens)?,
            credentials: config.credentials.clone(),
            identity: Identity::open(&config.data_dir, &config.users, config.token_lifetime)?,
            keystone: config.keystone.as_deref().map(Keystone::new),
        })
    }

    /// The identity endpoint's users and tokens.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The project of a token this server knows without asking anyone: a configured one or one
    /// it issued.
    pub fn local_token_project(&self, token: &str, now_ms: i64) -> Option<String> {
        if let Some(project) = self.tokens.project_of(token) {
            return Some(project.to_string());
        }
        self.identity.check(token, now_ms).map(|t| t.project_id)
    }

    /// The caller whose token is `token` (an API token, one the identity endpoint issued, or
    /// one Keystone validates), as `X-Auth-Token` would carry it: the console's sign-in.
    pub async fn caller_of_token(
        &self,
        token: &str,
        now_ms: i64,
    ) -> std::result::Result<Caller, ApiError> {
        self.by_token(token, now_ms).await
    }

    /// The caller of `X-Auth-Token: token`.
    async fn by_token(&self, token: &str, now_ms: i64) -> std::result::Result<Caller, ApiError> {
        if let Some(project) = self.tokens.project_of(token) {
            return Ok(Caller {
                project_id: project.to_string(),
                proof: Proof::Token,
            });
        }
        if let Some(issued) = self.identity.check(token, now_ms) {
            return Ok(Caller {
                project_id: issued.project_id,
                proof: Proof::Issued(issued.user_id),
            });
        }
        let Some(keystone) = &self.keystone else {
            return Err(unauthorized(
                "The token is not valid: unknown or expired X-Auth-Token",
            ));
        };
        match keystone.check(token, now_ms).await {
            Ok(remote) => Ok(Caller {
                project_id: remote.project_id,
                proof: Proof::Keystone,
            }),
            Err(keystone::KeystoneError::Rejected) => Err(unauthorized(
                "The token is not valid: unknown or expired X-Auth-Token",
            )),
            Err(e) => Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "CTS.0001",
                message: e.to_string(),
            }),
        }
    }

    /// The caller of `request`, made at `now_ms`, when it carries credentials (`None`: it carries
    /// none). Gives the request back, with its body.
    pub async fn check(
        &self,
        request: Request,
        now_ms: i64,
    ) -> (Request, Option<std::result::Result<Caller, ApiError>>) {
        let (parts, body) = request.into_parts();
        if parts.uri.path().starts_with("/identity/") {
            // The identity endpoint checks what it is given itself (and never asks another
            // Keystone: two servers pointing at each other cannot ask each other in a circle).
            return (Request::from_parts(parts, body), None);
        }
        let authorization = header(&parts, "authorization").map(str::to_string);
        let token = header(&parts, "x-auth-token").map(str::to_string);
        let request = Request::from_parts(parts, body);
        match (authorization, token) {
            (Some(a), _) if a.trim_start().starts_with(signature::ALGORITHM) => {
                let (request, outcome) = self.by_signature(&a, request, now_ms).await;
                (request, Some(outcome))
            }
            (_, Some(token)) => (request, Some(self.by_token(&token, now_ms).await)),
            (Some(_), None) => (
                request,
                Some(Err(unauthorized(format!(
                    "Authorization: only {} signatures are accepted (or send X-Auth-Token)",
                    signature::ALGORITHM
                )))),
            ),
            (None, None) => (request, None),
        }
    }

    /// Check a signed request: its key, its date and its signature over the body as received.
    /// Gives the request back (with its body) and who signed it.
    async fn by_signature(
        &self,
        authorization: &str,
        request: Request,
        now_ms: i64,
    ) -> (Request, std::result::Result<Caller, ApiError>) {
        let auth = match signature::parse_authorization(authorization) {
            Ok(auth) => auth,
            Err(e) => return (request, Err(unauthorized(e.to_string()))),
        };
        let (parts, body) = request.into_parts();
        let envelope = {
            let headers: Vec<(&str, &str)> = parts
                .headers
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect();
            signature::check_envelope(&headers, &auth, now_ms)
        };
        let request = Request::from_parts(parts, body);
        if let Err(e) = envelope {
            return (
                request,
                Err(unauthorized(format!(
                    "Incorrect IAM authentication information: {e}"
                ))),
            );
        }
        let Some(credential) = self.credentials.get(&auth.access) else {
            // Not read: the body of a request nobody may make.
            return (request, Err(unauthorized(NOT_VERIFIED)));
        };
        let (parts, body) = request.into_parts();
        // The body a signature covers, read here: as much as the route takes (a recording's
        // traces, or a small JSON document).
        let limit = if parts.uri.path().ends_with("/traces") {
            MAX_BODY_BYTES
        } else {
            SMALL_BODY_BYTES
        };
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => bytes,
            Err(e) => {
                let request = Request::from_parts(parts, axum::body::Body::empty());
                let error = ApiError::invalid(format!("the message body could not be read: {e}"));
                return (request, Err(error));
            }
        };
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let signed = signature::Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body: &bytes,
        };
        let outcome = match signature::verify(&signed, &auth, credential.secret.expose(), now_ms) {
            Ok(()) => Ok(Caller {
                project_id: credential.project_id.clone(),
                proof: Proof::Signature(auth.access.clone()),
            }),
            Err(signature::SignatureError::Mismatch) => Err(unauthorized(NOT_VERIFIED)),
            Err(e) => Err(unauthorized(format!(
                "Incorrect IAM authentication information: {e}"
            ))),
        };
        drop(headers);
        (
            Request::from_parts(parts, axum::body::Body::from(bytes)),
            outcome,
        )
    }
}

/// The header's value, when it is text.
fn header<'r>(parts: &'r Parts, name: &str) -> Option<&'r str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}
