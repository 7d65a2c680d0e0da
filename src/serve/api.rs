//! What every call of the API shares: errors as CTS returns them (§3.9), and authorization of
//! the request's project by its `X-Auth-Token`, compared in constant time
//! ([`TokenBook`](crate::serve::TokenBook)).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::serve::server::{Project, Server};

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
#[derive(Debug)]
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
            .tokens
            .project_of(token)
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
