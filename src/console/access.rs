//! Who is looking at a page, and what protects them.
//!
//! Under `cts serve`, a person signs in with what the API takes: an API token (of the
//! configuration, of the identity endpoint, or of Keystone) or a user's name and password. The
//! console then keeps a session: a random ID in a cookie (`HttpOnly`, `SameSite=Strict`, path
//! `/console`), found by its SHA-256 so that no lookup compares the secret itself, ending after
//! [`SESSION_HOURS`] or at sign-out. Each session has a CSRF token that every form changing
//! something carries, compared in constant time. Under `cts ui` nobody signs in, but a page is
//! served only to a request addressed to a loopback name (no DNS rebinding) and forms carry a
//! CSRF token all the same. Every page carries [`page_headers`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Form, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::console::page::{Chrome, PageError, html};
use crate::console::{Backend, Console};
use crate::error::{Error, Result};
use crate::serve::Project;

/// The session cookie's name.
const COOKIE: &str = "cts_console";
/// How long a session lasts.
pub(super) const SESSION_HOURS: i64 = 8;

/// A signed-in session.
#[derive(Debug, Clone)]
struct Session {
    project_id: String,
    csrf: String,
    expires_ms: i64,
}

/// The console's sessions.
pub(super) struct Access {
    /// Sessions by the SHA-256 of their ID.
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    /// The CSRF token of `cts ui`'s forms.
    local_csrf: String,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the session IDs nor the tokens.
        f.write_str("Access(..)")
    }
}

/// `bytes` random bytes as hex.
fn random_hex(bytes: usize) -> Result<String> {
    use ring::rand::SecureRandom;
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| Error::internal("no randomness for a console session"))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

fn digest(id: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

impl Access {
    pub(super) fn new() -> Result<Access> {
        Ok(Access {
            sessions: Mutex::new(HashMap::new()),
            local_csrf: random_hex(32)?,
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start a session for `project_id`: its ID, for the cookie.
    fn start(&self, project_id: String, now_ms: i64) -> Result<String> {
        let id = random_hex(32)?;
        let session = Session {
            project_id,
            csrf: random_hex(32)?,
            expires_ms: now_ms + SESSION_HOURS * 3_600_000,
        };
        let mut sessions = self.sessions();
        sessions.retain(|_, s| s.expires_ms > now_ms);
        sessions.insert(digest(&id), session);
        Ok(id)
    }

    fn find(&self, id: &str, now_ms: i64) -> Option<Session> {
        self.sessions()
            .get(&digest(id))
            .filter(|s| s.expires_ms > now_ms)
            .cloned()
    }

    fn end(&self, id: &str) {
        self.sessions().remove(&digest(id));
    }
}

/// The person looking at a page: under `cts serve`, signed in to one project.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Their project (`cts serve`), or none (`cts ui`).
    pub project: Option<Arc<Project>>,
    /// The CSRF token the forms of their pages carry.
    pub csrf: String,
}

impl Viewer {
    /// What every page of theirs shows around its content.
    pub(super) fn chrome(&self, title: impl Into<String>, active: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            active,
            project: self.project.as_ref().map(|p| p.id.clone()),
            csrf: self.csrf.clone(),
        }
    }

    /// Refuse a form that does not carry their CSRF token.
    pub(super) fn check_form(
        &self,
        form: &BTreeMap<String, String>,
    ) -> std::result::Result<(), PageError> {
        match form.get("csrf") {
            Some(token) if same_secret(token, &self.csrf) => Ok(()),
            _ => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form was not sent from this console (its CSRF token is missing or wrong): \
                 open the page again and send it from there.",
            )),
        }
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request is addressed to a loopback name (`cts ui` answers nothing else: a page
/// of another site cannot reach it through a name that resolves to 127.0.0.1).
fn addressed_to_loopback(parts: &Parts) -> bool {
    let Some(host) = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

impl FromRequestParts<Arc<Console>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> std::result::Result<Self, Self::Rejection> {
        match &console.backend {
            Backend::Local(_) => {
                if !addressed_to_loopback(parts) {
                    return Err(PageError::new(
                        StatusCode::FORBIDDEN,
                        "cts ui answers requests to localhost or 127.0.0.1 only",
                    )
                    .into_response());
                }
                Ok(Viewer {
                    project: None,
                    csrf: console.access.local_csrf.clone(),
                })
            }
            Backend::Service(server) => {
                let now = chrono::Utc::now().timestamp_millis();
                let session =
                    cookie(&parts.headers, COOKIE).and_then(|id| console.access.find(id, now));
                let project = session
                    .as_ref()
                    .and_then(|s| server.projects.get(&s.project_id).cloned());
                match (session, project) {
                    (Some(session), Some(project)) => Ok(Viewer {
                        project: Some(project),
                        csrf: session.csrf,
                    }),
                    _ => Err(Redirect::to("/console/sign-in").into_response()),
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html", config = "src/console/askama.toml")]
struct SignInPage {
    chrome: Chrome,
    message: Option<String>,
    users: bool,
}

fn sign_in_chrome() -> Chrome {
    Chrome {
        title: "Sign in".into(),
        active: "",
        project: None,
        csrf: String::new(),
    }
}

/// `GET /console/sign-in`.
pub(super) async fn sign_in_page(State(console): State<Arc<Console>>) -> Response {
    match &console.backend {
        Backend::Local(_) => Redirect::to("/console/traces").into_response(),
        Backend::Service(server) => html(&SignInPage {
            chrome: sign_in_chrome(),
            message: None,
            users: !server.auth.identity().is_empty(),
        }),
    }
}

/// `POST /console/sign-in`: `token`, or `user` (with `domain`) and `password`.
pub(super) async fn sign_in(
    State(console): State<Arc<Console>>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let Backend::Service(server) = &console.backend else {
        return Redirect::to("/console/traces").into_response();
    };
    let now = chrono::Utc::now().timestamp_millis();
    let given = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let project = match (given("token"), given("user"), form.get("password")) {
        (Some(token), _, _) => server
            .auth
            .caller_of_token(token, now)
            .await
            .ok()
            .map(|c| c.project_id),
        (None, Some(user), Some(password)) => {
            let Ok(_permit) = server.auth.sign_ins.acquire().await else {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            let (checking, user, domain, password) = (
                server.clone(),
                user.to_string(),
                given("domain").map(str::to_string),
                password.clone(),
            );
            tokio::task::spawn_blocking(move || {
                checking
                    .auth
                    .identity()
                    .sign_in(None, Some(&user), domain.as_deref(), &password)
                    .map(|u| u.project_id.clone())
            })
            .await
            .ok()
            .flatten()
        }
        _ => None,
    };
    let Some(project) = project.filter(|p| server.projects.contains_key(p)) else {
        eprintln!("cts console: a sign-in was refused");
        let page = SignInPage {
            chrome: sign_in_chrome(),
            message: Some(
                "Not signed in: the token, or the user name and password, are not valid for a \
                 project served here."
                    .into(),
            ),
            users: !server.auth.identity().is_empty(),
        };
        return (StatusCode::UNAUTHORIZED, html(&page)).into_response();
    };
    let id = match console.access.start(project, now) {
        Ok(id) => id,
        Err(e) => return PageError::from(e).into_response(),
    };
    let secure = server
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let cookie = format!(
        "{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to("/console/traces").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /console/sign-out`: ends the session (the form carries the CSRF token).
pub(super) async fn sign_out(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    if let Err(e) = viewer.check_form(&form) {
        return e.into_response();
    }
    if let Some(id) = cookie(&headers, COOKIE) {
        console.access.end(id);
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "cts_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

/// The headers of every console response: a Content-Security-Policy that allows this
/// server's style sheet and nothing else (no script at all, no frames, forms post here only),
/// no sniffing of types, no referrer, not cached.
pub(super) async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
