//! The trace list (cts-spec.md §3.2): `GET /v3/{project_id}/traces`, newest first, paged by
//! marker, from the hot store and the archive alike (the `traces` table).
//!
//! Pages are ordered by (`time`, `trace_id`), both descending, and `next=<trace_id>` continues
//! strictly after that trace in this order ([`crate::query::pages`]): paging never skips or
//! repeats a trace, even while new ones arrive.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use datafusion::prelude::{DataFrame, Expr, SessionContext, col, lit};
use serde_json::{Value, json};

use cts_core::store::hot::HOT_DIR;
use cts_core::trace::col as c;

use crate::error::Error;
use crate::output::trace_json::traces_json;
use crate::query::pages::{self, Marker};
use crate::query::ts_literal as ts;
use crate::serve::api::ApiError;
use crate::serve::authorized::Authorized;
use crate::serve::book::SYSTEM;
use crate::serve::server::{Project, Server};

/// Largest `limit`.
pub const MAX_LIMIT: usize = 200;
/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 10;

/// The traces of the tracker `name`: for the management tracker, also those that name none
/// (trace files of the management tracker do not carry `tracker_name`).
pub fn recorded_by(name: &str) -> Expr {
    if name == SYSTEM {
        col("tracker_name")
            .is_null()
            .or(col("tracker_name").eq(lit(SYSTEM)))
    } else {
        col("tracker_name").eq(lit(name.to_string()))
    }
}

/// A session over the project's `traces` (hot store and archive).
pub async fn session(server: &Server, project: &Project) -> Result<SessionContext, ApiError> {
    crate::query::session_with(
        project.archive(),
        Some(&project.dir.join(HOT_DIR)),
        &server.config.limits,
    )
    .await
    .map_err(|e| ApiError::internal("CTS.0005", e))
}

fn query_error(e: impl Into<Error>) -> ApiError {
    ApiError::bad_request("CTS.0300", format!("query failed: {}", e.into()))
}

/// The parameters of a trace list request, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    /// Traces after this time (ms, exclusive).
    pub from: i64,
    /// Traces before this time (ms, exclusive).
    pub to: i64,
    /// Traces per page.
    pub limit: usize,
    /// Continue after this trace.
    pub next: Option<String>,
    /// Only this trace; every other parameter is ignored.
    pub trace_id: Option<String>,
    /// `system`: the management tracker's traces; `data`: a data tracker's.
    pub tracker_name: String,
    /// Column filters: (column, value), each an equality.
    pub filters: Vec<(&'static str, String)>,
}

/// Query parameters that filter a column by equality (only for `trace_type=system`), and the
/// column each filters.
const FILTERS: &[(&str, &str)] = &[
    ("service_type", "service_type"),
    ("user", "user_name"),
    ("resource_id", "resource_id"),
    ("resource_name", "resource_name"),
    ("resource_type", "resource_type"),
    ("trace_name", "trace_name"),
    ("access_key_id", "access_key_id"),
    ("enterprise_project_id", "enterprise_project_id"),
];

impl ListParams {
    /// Check the query parameters of a request made at `now` (ms).
    pub fn parse(q: &BTreeMap<String, String>, now: i64) -> Result<ListParams, ApiError> {
        let millis = |name: &str, default: i64| -> Result<i64, ApiError> {
            match q.get(name) {
                None => Ok(default),
                Some(v) => v.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid(format!(
                        "{name} must be a time in milliseconds since 1970 (13 digits), not {v:?}"
                    ))
                }),
            }
        };
        let to = millis("to", now)?;
        let from = millis("from", to.min(now) - 3_600_000)?;
        let limit = match q.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid(format!(
                        "limit must be a number from 1 to {MAX_LIMIT}, not {v:?}"
                    )));
                }
            },
        };
        let trace_type = q.get("trace_type").map_or("system", String::as_str);
        let tracker_name = match (trace_type, q.get("tracker_name")) {
            ("system", None) => SYSTEM.to_string(),
            ("system", Some(name)) if name == SYSTEM => SYSTEM.to_string(),
            ("system", Some(name)) => {
                return Err(ApiError::invalid(format!(
                    "tracker_name {name:?}: with trace_type=system it can only be system"
                )));
            }
            ("data", Some(name)) if !name.is_empty() => name.clone(),
            ("data", _) => {
                return Err(ApiError::invalid(
                    "tracker_name is needed with trace_type=data: the data tracker's name",
                ));
            }
            (other, _) => {
                return Err(ApiError::invalid(format!(
                    "trace_type must be system or data, not {other:?}"
                )));
            }
        };
        let mut filters = Vec::new();
        if trace_type == "system" {
            for (param, column) in FILTERS {
                if let Some(v) = q.get(*param) {
                    filters.push((*column, v.clone()));
                }
            }
        }
        if let Some(rating) = q.get("trace_rating") {
            if !["normal", "warning", "incident"].contains(&rating.as_str()) {
                return Err(ApiError::invalid(format!(
                    "trace_rating must be normal, warning or incident, not {rating:?}"
                )));
            }
            filters.push((c::TRACE_RATING, rating.clone()));
        }
        Ok(ListParams {
            from,
            to,
            limit,
            next: q.get("next").filter(|m| !m.is_empty()).cloned(),
            trace_id: q.get("trace_id").filter(|m| !m.is_empty()).cloned(),
            tracker_name,
            filters,
        })
    }

    /// The filter of the traces in the window and of the tracker, before paging.
    fn window(&self) -> Expr {
        let tracker = recorded_by(&self.tracker_name);
        let mut e = col(c::TIME)
            .gt(ts(self.from))
            .and(col(c::TIME).lt(ts(self.to)))
            .and(tracker);
        for (column, value) in &self.filters {
            e = e.and(col(*column).eq(lit(value.clone())));
        }
        e
    }
}

/// One page of the trace list: the traces, newest first, and the marker of the next page
/// (the paging rule: [`crate::query::pages`]).
pub async fn page(
    ctx: &SessionContext,
    p: &ListParams,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    if let Some(id) = &p.trace_id {
        let df = ctx
            .table(crate::query::TRACES_TABLE)
            .await
            .map_err(query_error)?
            .filter(col(c::TRACE_ID).eq(lit(id.clone())))
            .and_then(|df| df.limit(0, Some(1)))
            .map_err(query_error)?;
        return Ok((collect_json(df).await?, None));
    }
    let marker = match &p.next {
        Some(id) => Marker::After(id.clone()),
        None => Marker::First,
    };
    let page = pages::page(ctx, p.window(), p.limit, &marker, &[])
        .await
        .map_err(|e| match e {
            Error::Core(cts_core::Error::InvalidInput(message)) => ApiError::invalid(message),
            other => query_error(other),
        })?;
    let mut rows = Vec::new();
    for batch in &page.batches {
        traces_json(batch, &mut rows);
    }
    Ok((rows, page.next))
}

async fn collect_json(df: DataFrame) -> Result<Vec<Value>, ApiError> {
    let batches = df.collect().await.map_err(query_error)?;
    let mut out = Vec::new();
    for batch in &batches {
        traces_json(batch, &mut out);
    }
    Ok(out)
}

/// `GET /v3/{project_id}/traces`: `{"traces": [...], "meta_data": {"count", "marker"}}`.
pub async fn list(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
    query: std::result::Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(format!("query string: {e}")))?;
    let (traces, marker) = list_page(&server, &project, &q).await?;
    Ok(answer(traces, marker))
}

/// The page the query parameters `q` ask for (every API version's trace list).
pub async fn list_page(
    server: &Server,
    project: &Project,
    q: &BTreeMap<String, String>,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let params = ListParams::parse(q, chrono::Utc::now().timestamp_millis())?;
    let ctx = session(server, project).await?;
    let run = page(&ctx, &params);
    match server.config.limits.timeout {
        Some(limit) => tokio::time::timeout(limit, run).await.map_err(|_| {
            ApiError::bad_request("CTS.0300", Error::QueryTimeout { limit }.to_string())
        })?,
        None => run.await,
    }
}

/// A page as the API returns it: `{"traces": [...], "meta_data": {"count", "marker"}}`.
pub fn answer(traces: Vec<Value>, marker: Option<String>) -> Response {
    axum::Json(json!({
        "traces": traces,
        "meta_data": {"count": traces.len(), "marker": marker},
    }))
    .into_response()
}
