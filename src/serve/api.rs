//! What every call of the API shares: errors as CTS returns them (§3.9), and the largest body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Largest request body: a recording of many traces.
pub const MAX_BODY_BYTES: usize = 256 << 20;

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
