//! Authorization of every CTS route: [`authenticate`] runs before each request and leaves who
//! is calling ([`Auth::check`](crate::serve::auth::Auth::check)) in the request; [`Authorized`],
//! the extractor of every route of a project, refuses a request without credentials or with
//! wrong ones (401) and one for another project's path (403).

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use crate::serve::api::ApiError;
use crate::serve::auth::{Caller, unauthorized};
use crate::serve::server::{Project, Server};

/// What [`authenticate`] found, left in the request's extensions.
#[derive(Debug, Clone)]
struct Authentication(Result<Caller, ApiError>);

/// Before every route: check the credentials the request carries, and leave the outcome for
/// [`Authorized`]. A request without any goes on as it is (the version lists and the identity
/// endpoint need none).
pub(super) async fn authenticate(
    State(server): State<Arc<Server>>,
    request: Request,
    next: Next,
) -> Response {
    let now = chrono::Utc::now().timestamp_millis();
    let (mut request, outcome) = server.auth.check(request, now).await;
    if let Some(outcome) = outcome {
        request.extensions_mut().insert(Authentication(outcome));
    }
    next.run(request).await
}

/// The project a request acts on: the `{project_id}` of its path, for a caller allowed that
/// project (401 without credentials or with wrong ones, 403 for another project's path).
#[derive(Debug)]
pub struct Authorized(pub Arc<Project>);

impl FromRequestParts<Arc<Server>> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        server: &Arc<Server>,
    ) -> Result<Self, Self::Rejection> {
        let caller = match parts.extensions.get::<Authentication>() {
            Some(Authentication(outcome)) => outcome.clone()?,
            None => {
                return Err(unauthorized(
                    "no credentials: send X-Auth-Token, or sign the request with an access key \
                     (Authorization: SDK-HMAC-SHA256 ...)",
                ));
            }
        };
        let params = RawPathParams::from_request_parts(parts, server)
            .await
            .map_err(|e| ApiError::internal("CTS.0005", e.body_text()))?;
        let path_project = params
            .iter()
            .find(|(name, _)| *name == "project_id")
            .map(|(_, value)| value.to_string())
            .unwrap_or_default();
        let forbidden = |message: String| ApiError {
            status: StatusCode::FORBIDDEN,
            code: "CTS.0013",
            message,
        };
        if path_project != caller.project_id {
            return Err(forbidden(format!(
                "No permission: the credentials are not valid for project {path_project:?}"
            )));
        }
        let project = server
            .projects
            .get(&caller.project_id)
            .cloned()
            .ok_or_else(|| {
                forbidden(format!(
                    "No permission: project {:?} is not served here",
                    caller.project_id
                ))
            })?;
        Ok(Authorized(project))
    }
}
