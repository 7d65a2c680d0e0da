//! The built-in identity endpoint: enough of Keystone v3 for a stock `clouds.yaml` to sign in
//! with nothing but `cts serve` (`auth_url: http://HOST/identity/v3`). The users and their
//! tokens are [`Identity`](crate::serve::auth::Identity)'s.
//!
//! - `GET /identity/v3`: the version document.
//! - `POST /identity/v3/auth/tokens`: the password method, for the users of the configuration;
//!   201, the token in `X-Subject-Token`, and a catalog whose `cts`, `ctsv2` and `ctsv3`
//!   endpoints are this server's `/v1.0`, `/v2.0` and `/v3` with the project.
//! - `GET /identity/v3/auth/tokens`: the token in `X-Subject-Token`, for a caller of its project
//!   (how another `cts serve` started with `--keystone` checks the tokens this one issued).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::serve::auth::identity::user_id;
use crate::serve::config::User;
use crate::serve::server::Server;

/// A Keystone error: `{"error": {"code", "title", "message"}}`.
fn keystone_error(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    (
        status,
        axum::Json(json!({"error": {"code": status.as_u16(), "title": title, "message": message}})),
    )
        .into_response()
}

fn unauthorized() -> Response {
    keystone_error(
        StatusCode::UNAUTHORIZED,
        "The request you have made requires authentication.",
    )
}

/// `GET /identity/v3`: the version document.
pub async fn version(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let href = format!("{}/identity/v3/", server.base_url(&headers));
    axum::Json(json!({"version": {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": href}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.identity-v3+json"}],
    }}))
    .into_response()
}

/// The body of `POST /auth/tokens`, as much as the password method needs.
#[derive(Debug, Deserialize)]
struct AuthBody {
    auth: AuthRequest,
}

#[derive(Debug, Deserialize)]
struct AuthRequest {
    identity: IdentityBody,
    scope: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct IdentityBody {
    methods: Vec<String>,
    password: Option<PasswordBody>,
}

#[derive(Debug, Deserialize)]
struct PasswordBody {
    user: UserBody,
}

#[derive(Debug, Deserialize)]
struct UserBody {
    id: Option<String>,
    name: Option<String>,
    domain: Option<DomainBody>,
    password: String,
}

#[derive(Debug, Deserialize)]
struct DomainBody {
    id: Option<String>,
    name: Option<String>,
}

/// The project a `scope` asks for: `{"project": {"id"}}` or `{"project": {"name"}}` (a
/// project's name is its ID here). `None`: unscoped, the user's project.
fn scoped_project(scope: Option<&Value>) -> std::result::Result<Option<String>, &'static str> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    let project = scope
        .get("project")
        .ok_or("only project scopes are supported")?;
    project
        .get("id")
        .or_else(|| project.get("name"))
        .and_then(Value::as_str)
        .map(|p| Some(p.to_string()))
        .ok_or("scope.project needs an id or a name")
}

/// The token document of `token` for `user`.
fn token_body(
    server: &Server,
    headers: &HeaderMap,
    user: &User,
    issued_ms: i64,
    expires_ms: i64,
) -> Value {
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    };
    let base = server.base_url(headers);
    let project = &user.project_id;
    let region = &server.config.region;
    let endpoint = |kind: &str, path: &str| {
        let url = format!("{base}/{path}/{project}");
        let endpoints: Vec<Value> = ["public", "internal"]
            .iter()
            .map(|interface| {
                json!({
                    "id": format!("{kind}-{interface}"),
                    "interface": interface,
                    "region": region,
                    "region_id": region,
                    "url": url,
                })
            })
            .collect();
        json!({"type": kind, "name": kind, "id": kind, "endpoints": endpoints})
    };
    let domain = json!({"id": user.domain, "name": user.domain});
    json!({"token": {
        "methods": ["password"],
        "issued_at": time(issued_ms),
        "expires_at": time(expires_ms),
        "user": {"id": user_id(user), "name": user.name, "domain": domain},
        "project": {"id": project, "name": project, "domain": domain},
        "roles": [{"id": "cts_user", "name": "cts_user"}],
        "catalog": [endpoint("cts", "v1.0"), endpoint("ctsv2", "v2.0"), endpoint("ctsv3", "v3")],
    }})
}

/// `POST /identity/v3/auth/tokens`: sign in with a password.
pub async fn issue(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let request: AuthBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return keystone_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid input for field 'auth': {e}"),
            );
        }
    };
    let identity = &request.auth.identity;
    let Some(password) = identity
        .password
        .as_ref()
        .filter(|_| identity.methods.iter().any(|m| m == "password"))
    else {
        return keystone_error(
            StatusCode::UNAUTHORIZED,
            "only the password method is supported",
        );
    };
    let scope = match scoped_project(request.auth.scope.as_ref()) {
        Ok(s) => s,
        Err(why) => return keystone_error(StatusCode::BAD_REQUEST, why),
    };
    let given = &password.user;
    if server.auth.identity().is_empty() {
        return unauthorized();
    }
    // PBKDF2 checks, a few at a time: sign-in attempts cannot take every core.
    let Ok(_permit) = server.auth.sign_ins.acquire().await else {
        return unauthorized();
    };
    let domain = given
        .domain
        .as_ref()
        .and_then(|d| d.name.clone().or_else(|| d.id.clone()));
    let (given_id, name, secret) = (given.id.clone(), given.name.clone(), given.password.clone());
    let checking = server.clone();
    let user = tokio::task::spawn_blocking(move || {
        checking
            .auth
            .identity()
            .sign_in(
                given_id.as_deref(),
                name.as_deref(),
                domain.as_deref(),
                &secret,
            )
            .cloned()
    })
    .await
    .ok()
    .flatten();
    let Some(user) = user else {
        return unauthorized();
    };
    if scope.as_ref().is_some_and(|p| p != &user.project_id) {
        return keystone_error(
            StatusCode::UNAUTHORIZED,
            "The user has no role on the requested project.",
        );
    }
    let now = chrono::Utc::now().timestamp_millis();
    let (token, expires) = server.auth.identity().issue(&user, now);
    let body = token_body(&server, &headers, &user, now, expires);
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}

/// `GET /identity/v3/auth/tokens`: the token in `X-Subject-Token`, for a caller (`X-Auth-Token`)
/// of the same project.
pub async fn validate(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp_millis();
    let Some(caller) = text("x-auth-token") else {
        return unauthorized();
    };
    let Some(caller_project) = server.auth.local_token_project(caller, now) else {
        return unauthorized();
    };
    let id = server.auth.identity();
    let subject = text("x-subject-token").and_then(|t| id.check(t, now));
    let Some(subject) = subject.filter(|s| s.project_id == caller_project) else {
        return keystone_error(
            StatusCode::NOT_FOUND,
            "Could not find token in X-Subject-Token.",
        );
    };
    let Some(user) = id.user_by_id(&subject.user_id) else {
        return keystone_error(
            StatusCode::NOT_FOUND,
            "Could not find token in X-Subject-Token.",
        );
    };
    let issued = subject.expires_ms - id.lifetime_ms();
    let body = token_body(&server, &headers, user, issued, subject.expires_ms);
    axum::Json(body).into_response()
}
