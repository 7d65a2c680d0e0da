//! The SQL page: one read-only statement over `traces` (and every table `cts sql` knows), with
//! the limits of `cts sql` (memory, time), the result as a table.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::console::page::{Chrome, PageError, ResultTable, html};
use crate::console::{Console, Viewer};

/// Rows shown of a result (the rest are counted).
const SHOWN_ROWS: usize = 1000;

#[derive(Template)]
#[template(path = "sql.html", config = "src/console/askama.toml")]
struct SqlPage {
    chrome: Chrome,
    q: String,
    result: Option<ResultTable>,
    error: Option<String>,
}

/// `GET /console/sql?q=...`: the form, and the result of `q` if given. A statement that would
/// change anything (CREATE, INSERT, COPY, SET) is refused.
pub(super) async fn page(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let q = params
        .get("q")
        .map(|q| q.trim().to_string())
        .unwrap_or_default();
    let (mut result, mut error) = (None, None);
    if !q.is_empty() {
        let ctx = console.session(&viewer).await?;
        let limits = console.limits();
        let ran = limits
            .enforce(async {
                let df = ctx.sql_with_options(&q, crate::query::read_only()).await?;
                let schema = df.schema().inner().clone();
                let batches = df.collect().await?;
                ResultTable::of(&schema, &batches, SHOWN_ROWS)
            })
            .await;
        match ran {
            Ok(table) => result = Some(table),
            Err(e) => error = Some(e.to_string()),
        }
    }
    Ok(html(&SqlPage {
        chrome: viewer.chrome("SQL", "sql"),
        q,
        result,
        error,
    }))
}
