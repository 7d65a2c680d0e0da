//! The trace list: a search's filters, carried in the URL so that it can be bookmarked and
//! shared ([`Search`]); its pages, newest first, by the paging rule of
//! [`crate::query::pages`]; one trace with every column; and the whole search as CSV or
//! Parquet.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{RecordBatch, TimestampMillisecondArray};
use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use datafusion::prelude::{DataFrame, Expr, SessionContext, col, lit};
use futures::{SinkExt, StreamExt};

use cts_core::trace::col as c;

use crate::console::page::{Chrome, PageError, ResultTable, html};
use crate::console::{Console, Viewer};
use crate::query::pages::{self, Marker};
use crate::query::{TRACES_TABLE, ts_literal};

/// The quick choices of the time period, and how far back each reaches (ms).
pub(super) const PERIODS: &[(&str, &str, Option<i64>)] = &[
    ("1h", "Last hour", Some(3_600_000)),
    ("24h", "Last 24 hours", Some(86_400_000)),
    ("7d", "Last 7 days", Some(7 * 86_400_000)),
    ("30d", "Last 30 days", Some(30 * 86_400_000)),
    ("all", "All time", None),
    ("custom", "From – to", None),
];
/// The period of a search that names none.
pub(super) const DEFAULT_PERIOD: &str = "7d";

/// The filters of text columns: URL parameter, column, label. Each is an equality.
pub(super) const TEXT_FILTERS: &[(&str, &str, &str)] = &[
    ("service", "service_type", "Service"),
    ("resource_type", "resource_type", "Resource type"),
    ("resource_name", "resource_name", "Resource name"),
    ("resource_id", "resource_id", "Resource ID"),
    ("user", "user_name", "Operator"),
    ("trace_name", "trace_name", "Trace name"),
    ("trace_id", "trace_id", "Trace ID"),
];

/// The ratings.
pub(super) const RATINGS: &[&str] = &["normal", "warning", "incident"];
/// The trace types (sources) CTS records.
pub(super) const TRACE_TYPES: &[&str] = &["ConsoleAction", "ApiCall", "SystemAction"];
/// Page sizes offered.
pub(super) const LIMITS: &[usize] = &[20, 50, 100, 200];
/// Page size when none is given.
const DEFAULT_LIMIT: usize = 50;

/// The columns the list shows.
const LIST_COLUMNS: &[&str] = &[
    c::TIME,
    "service_type",
    "resource_type",
    "resource_name",
    "trace_name",
    c::TRACE_RATING,
    "user_name",
    "source_ip",
    "code",
];

/// A search of the trace list, as its URL's query carries it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Search {
    /// One of [`PERIODS`].
    pub(super) period: String,
    /// With `custom`: from (inclusive) and to (exclusive), as typed (`2024-06-01T08:00`).
    pub(super) from: String,
    pub(super) to: String,
    /// The text filters given, by URL parameter.
    pub(super) text: BTreeMap<String, String>,
    /// One of [`RATINGS`], or empty.
    pub(super) rating: String,
    /// One of [`TRACE_TYPES`], or empty.
    pub(super) trace_type: String,
    /// `failed`: only traces rated warning or incident, or with an HTTP code of 400 or more.
    pub(super) outcome: String,
    /// Traces per page.
    pub(super) limit: usize,
}

/// A time typed as `2024-06-01`, `2024-06-01T08:00`, `2024-06-01T08:00:00` (UTC) or RFC 3339.
fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// `ms` as the console shows times: `2024-06-01 08:00:00`, UTC.
pub(super) fn show_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `ms` as a `datetime-local` field takes it.
pub(super) fn field_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

impl Search {
    /// The search the query parameters `q` describe (unknown parameters are ignored).
    pub(super) fn parse(q: &BTreeMap<String, String>) -> Result<Search, PageError> {
        let get = |name: &str| {
            q.get(name)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let mut period = get("period");
        if period.is_empty() {
            period = DEFAULT_PERIOD.to_string();
        }
        if !PERIODS.iter().any(|(p, _, _)| *p == period) {
            return Err(PageError::invalid(format!(
                "period: {period:?} is not one of {}",
                PERIODS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
            )));
        }
        let (from, to) = (get("from"), get("to"));
        if period == "custom" {
            for (name, value) in [("from", &from), ("to", &to)] {
                if !value.is_empty() && parse_time(value).is_none() {
                    return Err(PageError::invalid(format!(
                        "{name}: {value:?} is not a time (2024-06-01T08:00, UTC)"
                    )));
                }
            }
        }
        let rating = get("rating");
        if !rating.is_empty() && !RATINGS.contains(&rating.as_str()) {
            return Err(PageError::invalid(format!(
                "rating: {rating:?} is not normal, warning or incident"
            )));
        }
        let trace_type = get("trace_type");
        if !trace_type.is_empty() && !TRACE_TYPES.contains(&trace_type.as_str()) {
            return Err(PageError::invalid(format!(
                "trace type: {trace_type:?} is not one of {}",
                TRACE_TYPES.join(", ")
            )));
        }
        let outcome = get("outcome");
        if !outcome.is_empty() && outcome != "failed" {
            return Err(PageError::invalid(format!(
                "outcome: {outcome:?} is not failed"
            )));
        }
        let limit = match get("limit").as_str() {
            "" => DEFAULT_LIMIT,
            n => n
                .parse::<usize>()
                .ok()
                .filter(|n| LIMITS.contains(n))
                .ok_or_else(|| {
                    PageError::invalid(format!(
                        "limit: {n:?} is not one of {}",
                        LIMITS
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
        };
        let text = TEXT_FILTERS
            .iter()
            .filter_map(|(param, _, _)| {
                let v = get(param);
                (!v.is_empty()).then(|| (param.to_string(), v))
            })
            .collect();
        Ok(Search {
            period,
            from,
            to,
            text,
            rating,
            trace_type,
            outcome,
            limit,
        })
    }

    /// The window of `time` the search covers at `now`: from (inclusive), to (exclusive).
    pub(super) fn window(&self, now: i64) -> (Option<i64>, Option<i64>) {
        if self.period == "custom" {
            return (parse_time(&self.from), parse_time(&self.to));
        }
        let back = PERIODS
            .iter()
            .find(|(p, _, _)| *p == self.period)
            .and_then(|(_, _, back)| *back);
        (back.map(|b| now - b), None)
    }

    /// The filter of the traces the search finds at `now`.
    pub(super) fn filter(&self, now: i64) -> Expr {
        let mut e = lit(true);
        let (from, to) = self.window(now);
        if let Some(from) = from {
            e = e.and(col(c::TIME).gt_eq(ts_literal(from)));
        }
        if let Some(to) = to {
            e = e.and(col(c::TIME).lt(ts_literal(to)));
        }
        for (param, column, _) in TEXT_FILTERS {
            if let Some(v) = self.text.get(*param) {
                e = e.and(col(*column).eq(lit(v.clone())));
            }
        }
        if !self.rating.is_empty() {
            e = e.and(col(c::TRACE_RATING).eq(lit(self.rating.clone())));
        }
        if !self.trace_type.is_empty() {
            e = e.and(col("trace_type").eq(lit(self.trace_type.clone())));
        }
        if self.outcome == "failed" {
            e = e.and(failed());
        }
        e
    }

    /// The URL query of this search (only what differs from the defaults), with `extra`
    /// parameters after it.
    pub(super) fn query(&self, extra: &[(&str, &str)]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        if self.period != DEFAULT_PERIOD {
            out.append_pair("period", &self.period);
        }
        if self.period == "custom" {
            if !self.from.is_empty() {
                out.append_pair("from", &self.from);
            }
            if !self.to.is_empty() {
                out.append_pair("to", &self.to);
            }
        }
        for (param, value) in &self.text {
            out.append_pair(param, value);
        }
        for (name, value) in [
            ("rating", &self.rating),
            ("trace_type", &self.trace_type),
            ("outcome", &self.outcome),
        ] {
            if !value.is_empty() {
                out.append_pair(name, value);
            }
        }
        if self.limit != DEFAULT_LIMIT {
            out.append_pair("limit", &self.limit.to_string());
        }
        for (name, value) in extra {
            out.append_pair(name, value);
        }
        out.finish()
    }

    /// This search with the text filter `param` set to `value`.
    pub(super) fn with_text(&self, param: &str, value: &str) -> Search {
        let mut s = self.clone();
        s.text.insert(param.to_string(), value.to_string());
        s
    }

    /// This search over `[from, to)` instead of its period.
    pub(super) fn within(&self, from: i64, to: i64) -> Search {
        let mut s = self.clone();
        s.period = "custom".into();
        s.from = field_time(from);
        s.to = field_time(to);
        s
    }

    /// Whether the search's period is `period`.
    pub(super) fn is_period(&self, period: &str) -> bool {
        self.period == period
    }

    /// The value of a text filter, for the form.
    pub(super) fn text_value(&self, param: &str) -> &str {
        self.text.get(param).map_or("", String::as_str)
    }
}

/// A failed operation: rated warning or incident, or answered with an HTTP code of 400 or more.
pub(super) fn failed() -> Expr {
    use datafusion::functions::expr_fn::lower;
    lower(col(c::TRACE_RATING))
        .in_list(vec![lit("warning"), lit("incident")], false)
        .or(datafusion::functions::expr_fn::regexp_like(
            col("code"),
            lit("^[45][0-9][0-9]$"),
            None,
        ))
}

/// One row of the list.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) id: String,
    pub(super) href: String,
    pub(super) cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "traces.html", config = "src/console/askama.toml")]
struct ListPage {
    chrome: Chrome,
    search: Search,
    periods: &'static [(&'static str, &'static str, Option<i64>)],
    text_filters: &'static [(&'static str, &'static str, &'static str)],
    ratings: &'static [&'static str],
    trace_types: &'static [&'static str],
    limits: &'static [usize],
    headers: Vec<&'static str>,
    rows: Vec<Row>,
    newer_href: Option<String>,
    older_href: Option<String>,
    charts_href: String,
    csv_href: String,
    parquet_href: String,
    window: String,
}

/// The address of the page of one trace; with its time, the page reads only that day.
pub(super) fn trace_href(id: &str, time: Option<i64>) -> String {
    let path = format!(
        "/console/traces/{}",
        percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
    );
    match time {
        Some(ms) => format!("{path}?at={ms}"),
        None => path,
    }
}

/// `GET /console/traces?...`: a page of the search; with `format=csv` or `format=parquet`,
/// every trace it finds.
pub(super) async fn list(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let search = Search::parse(&q)?;
    let now = chrono::Utc::now().timestamp_millis();
    let ctx = console.session(&viewer).await?;
    match q.get("format").map(String::as_str) {
        None | Some("") => {}
        Some("csv") => return download(&ctx, &search, now, Download::Csv).await,
        Some("parquet") => return download(&ctx, &search, now, Download::Parquet).await,
        Some(other) => {
            return Err(PageError::invalid(format!(
                "format: {other:?} is not csv or parquet"
            )));
        }
    }
    let marker = match (q.get("after"), q.get("before")) {
        (Some(id), _) if !id.is_empty() => Marker::After(id.clone()),
        (_, Some(id)) if !id.is_empty() => Marker::Before(id.clone()),
        _ => Marker::First,
    };
    let limits = console.limits();
    let page = limits
        .enforce(pages::page(
            &ctx,
            search.filter(now),
            search.limit,
            &marker,
            LIST_COLUMNS,
        ))
        .await?;
    let mut rows = Vec::new();
    for batch in &page.batches {
        let table = ResultTable::of(&batch.schema(), std::slice::from_ref(batch), usize::MAX)?;
        let times = batch
            .column_by_name(c::TIME)
            .and_then(|t| t.as_any().downcast_ref::<TimestampMillisecondArray>());
        for (i, cells) in table.rows.into_iter().enumerate() {
            let mut cells = cells.into_iter();
            let id = cells.next().unwrap_or_default();
            rows.push(Row {
                href: trace_href(&id, times.map(|t| t.value(i))),
                id,
                cells: cells.collect(),
            });
        }
    }
    let window = match search.window(now) {
        (Some(from), Some(to)) => format!("{} – {} UTC", show_time(from), show_time(to)),
        (Some(from), None) => format!("since {} UTC", show_time(from)),
        (None, Some(to)) => format!("before {} UTC", show_time(to)),
        (None, None) => "all time".to_string(),
    };
    Ok(html(&ListPage {
        chrome: viewer.chrome("Traces", "traces"),
        periods: PERIODS,
        text_filters: TEXT_FILTERS,
        ratings: RATINGS,
        trace_types: TRACE_TYPES,
        limits: LIMITS,
        headers: vec![
            "Time (UTC)",
            "Service",
            "Resource type",
            "Resource name",
            "Trace name",
            "Rating",
            "Operator",
            "Source IP",
            "Code",
        ],
        rows,
        newer_href: page
            .previous
            .map(|id| format!("/console/traces?{}", search.query(&[("before", &id)]))),
        older_href: page
            .next
            .map(|id| format!("/console/traces?{}", search.query(&[("after", &id)]))),
        charts_href: format!("/console/charts?{}", search.query(&[])),
        csv_href: format!("/console/traces?{}", search.query(&[("format", "csv")])),
        parquet_href: format!("/console/traces?{}", search.query(&[("format", "parquet")])),
        window,
        search,
    }))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Download {
    Csv,
    Parquet,
}

/// Every trace the search finds, newest first, streamed as CSV or Parquet (not capped).
async fn download(
    ctx: &SessionContext,
    search: &Search,
    now: i64,
    kind: Download,
) -> Result<Response, PageError> {
    let df: DataFrame = ctx
        .table(TRACES_TABLE)
        .await?
        .filter(search.filter(now))?
        .sort(vec![
            col(c::TIME).sort(false, false),
            col(c::TRACE_ID).sort(false, false),
        ])?;
    let mut stream = df.execute_stream().await?;
    let schema = stream.schema();
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let failed = |e: String| std::io::Error::other(e);
        let mut csv_header = true;
        let mut parquet = match kind {
            Download::Parquet => {
                match parquet::arrow::ArrowWriter::try_new(Vec::new(), schema.clone(), None) {
                    Ok(w) => Some(w),
                    Err(e) => {
                        let _ = tx.send(Err(failed(e.to_string()))).await;
                        return;
                    }
                }
            }
            Download::Csv => None,
        };
        while let Some(batch) = stream.next().await {
            let chunk = batch
                .map_err(|e| e.to_string())
                .and_then(|batch| match parquet.as_mut() {
                    Some(w) => parquet_chunk(w, &batch),
                    None => csv_chunk(&batch, std::mem::take(&mut csv_header)),
                });
            if let Err(e) = &chunk {
                eprintln!("cts console: a download stopped: {e}");
            }
            let stop = chunk.is_err();
            if tx
                .send(chunk.map(Bytes::from).map_err(failed))
                .await
                .is_err()
                || stop
            {
                return;
            }
        }
        let last = match parquet {
            Some(w) => w.into_inner().map_err(|e| failed(e.to_string())),
            None if csv_header => csv_chunk(&RecordBatch::new_empty(schema), true).map_err(failed),
            None => Ok(Vec::new()),
        };
        let _ = tx.send(last.map(Bytes::from)).await;
    });
    let (content_type, name) = match kind {
        Download::Csv => ("text/csv; charset=utf-8", "traces.csv"),
        Download::Parquet => ("application/vnd.apache.parquet", "traces.parquet"),
    };
    let mut response = Body::from_stream(rx).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

fn csv_chunk(batch: &RecordBatch, header: bool) -> Result<Vec<u8>, String> {
    crate::output::format::csv_bytes(batch, header).map_err(|e| e.to_string())
}

fn parquet_chunk(
    writer: &mut parquet::arrow::ArrowWriter<Vec<u8>>,
    batch: &RecordBatch,
) -> Result<Vec<u8>, String> {
    writer.write(batch).map_err(|e| e.to_string())?;
    // What the writer has put out so far (it keeps its own count of the bytes written).
    Ok(std::mem::take(writer.inner_mut()))
}

/// One field of a trace, as the trace page shows it.
#[derive(Debug)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) value: String,
    /// Formatted JSON (shown as a block).
    pub(super) json: bool,
}

#[derive(Template)]
#[template(path = "trace.html", config = "src/console/askama.toml")]
struct TracePage {
    chrome: Chrome,
    id: String,
    fields: Vec<Field>,
}

/// The columns shown as formatted JSON.
const JSON_COLUMNS: &[&str] = &["request", "response", "user", c::EXTRA];

/// `GET /console/traces/{trace_id}[?at=MS]`: every column of one trace (with `at`, its time in
/// ms, only that day is read).
pub(super) async fn one(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let mut filter = col(c::TRACE_ID).eq(lit(id.clone()));
    if let Some(at) = q.get("at").filter(|v| !v.is_empty()) {
        let ms = at
            .parse::<i64>()
            .map_err(|_| PageError::invalid(format!("at: {at:?} is not a time in milliseconds")))?;
        filter = filter.and(col(c::TIME).eq(ts_literal(ms)));
    }
    let ctx = console.session(&viewer).await?;
    let df = ctx
        .table(TRACES_TABLE)
        .await?
        .filter(filter)?
        .limit(0, Some(1))?;
    let schema = df.schema().inner().clone();
    let batches = console
        .limits()
        .enforce(async { Ok(df.collect().await?) })
        .await?;
    let table = ResultTable::of(&schema, &batches, 1)?;
    let Some(row) = table.rows.into_iter().next() else {
        return Err(PageError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("No trace {id:?} here."),
        ));
    };
    let fields = table
        .columns
        .into_iter()
        .zip(row)
        .map(|(name, value)| {
            let json = JSON_COLUMNS.contains(&name.as_str()) && !value.is_empty();
            let value = if json {
                serde_json::from_str::<serde_json::Value>(&value)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or(value)
            } else {
                value
            };
            Field { name, value, json }
        })
        .collect();
    Ok(html(&TracePage {
        chrome: viewer.chrome(format!("Trace {id}"), "traces"),
        id,
        fields,
    }))
}
