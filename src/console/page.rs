//! What every page shares: the frame around it ([`Chrome`]), rendering ([`html`]), the error
//! page ([`PageError`]), results as a table ([`ResultTable`]) and the style sheet.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// What every page shows around its content.
#[derive(Debug, Clone)]
pub(super) struct Chrome {
    /// The page's title.
    pub(super) title: String,
    /// The navigation entry of the page (`traces`, `charts`, `reports`, `sql`, `trackers`).
    pub(super) active: &'static str,
    /// The signed-in project (`cts serve`), none under `cts ui`.
    pub(super) project: Option<String>,
    /// The CSRF token of the page's forms.
    pub(super) csrf: String,
}

impl Chrome {
    /// The class of a navigation entry.
    pub(super) fn nav(&self, entry: &str) -> &'static str {
        if self.active == entry { "active" } else { "" }
    }
}

/// A rendered page, or the error page if rendering failed.
pub(super) fn html(page: &impl Template) -> Response {
    match page.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A page that could not be shown: its status and what went wrong.
#[derive(Debug)]
pub(super) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    /// A request that is not valid (a filter, a parameter).
    pub(super) fn invalid(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> PageError {
        let status = match &e {
            Error::Core(cts_core::Error::InvalidInput(_)) | Error::Query(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::QueryTimeout { .. } | Error::MemoryLimit { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        PageError::new(status, e.to_string())
    }
}

impl From<datafusion::error::DataFusionError> for PageError {
    fn from(e: datafusion::error::DataFusionError) -> PageError {
        Error::from(e).into()
    }
}

#[derive(Template)]
#[template(path = "error.html", config = "src/console/askama.toml")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            chrome: Chrome {
                title: "Error".into(),
                active: "",
                project: None,
                csrf: String::new(),
            },
            status: self.status.as_u16(),
            message: &self.message,
        };
        (self.status, html(&page)).into_response()
    }
}

/// `GET /console/style.css`.
pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("templates/style.css"),
    )
        .into_response()
}

/// Query results as text cells, for a template's table.
#[derive(Debug, Default)]
pub(super) struct ResultTable {
    /// Column names.
    pub(super) columns: Vec<String>,
    /// Rows of display text (empty for null).
    pub(super) rows: Vec<Vec<String>>,
    /// Rows not shown (past the table's limit).
    pub(super) more: usize,
}

impl ResultTable {
    /// The first `max_rows` rows of `batches`.
    pub(super) fn of(
        schema: &SchemaRef,
        batches: &[RecordBatch],
        max_rows: usize,
    ) -> Result<ResultTable, Error> {
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let rows = crate::output::tables::cells(batches, max_rows)?;
        Ok(ResultTable {
            columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
            more: total - rows.len(),
            rows,
        })
    }
}
