//! The reports: the list with each one's requirements, and one report run over a range with
//! its parameters, its findings per day as a chart and as a table, or as CSV; and the report
//! pack, every report in one page, to download.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::console::page::{Chrome, PageError, ResultTable, html};
use crate::console::{Console, Viewer};
use crate::output::format::{Format, write_batches};
use crate::output::report::{Report, builtin, find};

/// Rows shown of a report's findings (the CSV holds all).
const SHOWN_ROWS: usize = 500;

#[derive(Template)]
#[template(path = "reports.html", config = "src/console/askama.toml")]
struct ListPage {
    chrome: Chrome,
    reports: Vec<Report>,
    pack_from: String,
    pack_to: String,
}

/// `GET /console/reports`.
pub(super) async fn list(viewer: Viewer) -> Result<Response, PageError> {
    let today = chrono::Utc::now().date_naive();
    Ok(html(&ListPage {
        chrome: viewer.chrome("Reports", "reports"),
        reports: builtin()?,
        pack_from: (today - chrono::Days::new(30)).to_string(),
        pack_to: (today + chrono::Days::new(1)).to_string(),
    }))
}

/// The date `q[name]` (`2024-06-01`), or `default`.
fn date_param(
    q: &BTreeMap<String, String>,
    name: &str,
    default: chrono::NaiveDate,
) -> Result<String, PageError> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default.to_string()),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(|d| d.to_string())
            .map_err(|_| PageError::invalid(format!("{name}: {v:?} is not a date (2024-06-01)"))),
    }
}

/// `GET /console/pack?from=DATE&to=DATE`: the report pack of `cts report pack` (every report
/// over the range, one HTML page readable offline), as a download: opened from disk, its own
/// styles apply (this console's pages allow none inline).
pub(super) async fn pack(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let today = chrono::Utc::now().date_naive();
    let from = date_param(&q, "from", today - chrono::Days::new(30))?;
    let to = date_param(&q, "to", today + chrono::Days::new(1))?;
    let ctx = console.session(&viewer).await?;
    let out = std::env::temp_dir().join(format!(
        "cts-console-pack-{}",
        uuid::Uuid::new_v4().simple()
    ));
    // The pack's future is not `Send` (its reports run a few at a time over borrowed
    // parameters): it runs on a blocking thread of its own, on this runtime.
    let (runtime, limits) = (tokio::runtime::Handle::current(), console.limits());
    let (dir, range) = (out.clone(), (from.clone(), to.clone()));
    let built = tokio::task::spawn_blocking(move || {
        let reports = builtin()?;
        runtime.block_on(crate::output::report::pack(
            &ctx, &reports, &range.0, &range.1, &dir, 2, &limits,
        ))?;
        let page = dir.join("index.html");
        std::fs::read(&page).map_err(|e| crate::error::Error::io("read", &page, e))
    })
    .await
    .map_err(|e| crate::error::Error::internal(format!("the report pack: {e}")));
    let _ = std::fs::remove_dir_all(&out);
    let page = built??;
    let mut response = page.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"report-pack-{from}-{to}.html\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// A parameter's field in the form.
#[derive(Debug)]
pub(super) struct ParamField {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) default: String,
    pub(super) description: String,
}

#[derive(Template)]
#[template(path = "report.html", config = "src/console/askama.toml")]
struct ReportPage {
    chrome: Chrome,
    report: Report,
    fields: Vec<ParamField>,
    ran: bool,
    result: Option<ResultTable>,
    chart: String,
    csv_query: String,
}

/// `GET /console/reports/{name}?param=value...&run=1[&format=csv]`: the report's form, and
/// with `run`, its findings over the parameters given (the defaults for those left empty).
pub(super) async fn run(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let report = find(&name)
        .map_err(|e| PageError::new(axum::http::StatusCode::NOT_FOUND, e.to_string()))?;
    let values: BTreeMap<String, String> = report
        .params
        .iter()
        .filter_map(|p| {
            q.get(&p.name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(|v| (p.name.clone(), v.to_string()))
        })
        .collect();
    let fields = report
        .params
        .iter()
        .map(|p| ParamField {
            name: p.name.clone(),
            value: values.get(&p.name).cloned().unwrap_or_default(),
            default: p.default.clone(),
            description: p.description.clone(),
        })
        .collect();
    let ran = q.contains_key("run");
    let csv = q.get("format").is_some_and(|f| f == "csv");
    let (mut result, mut chart) = (None, String::new());
    if ran || csv {
        let ctx = console.session(&viewer).await?;
        let (schema, batches) =
            crate::output::report::run(&ctx, &report, &values, &console.limits()).await?;
        if csv {
            let mut out = Vec::new();
            write_batches(&batches, schema, Format::Csv, &mut out)?;
            let mut response = out.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", report.name))
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            return Ok(response);
        }
        chart = findings_per_day(&schema, &batches)?;
        result = Some(ResultTable::of(&schema, &batches, SHOWN_ROWS)?);
    }
    let mut csv_query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &values {
        csv_query.append_pair(k, v);
    }
    csv_query.append_pair("format", "csv");
    Ok(html(&ReportPage {
        chrome: viewer.chrome(report.title.clone(), "reports"),
        fields,
        ran,
        result,
        chart,
        csv_query: csv_query.finish(),
        report,
    }))
}

/// The findings per day (of their `time`, or `day` column) by rating, as a chart; empty when
/// the report has neither.
fn findings_per_day(
    schema: &arrow::datatypes::SchemaRef,
    batches: &[arrow::array::RecordBatch],
) -> Result<String, PageError> {
    let time = ["time", "day", "first_seen"]
        .iter()
        .find_map(|n| schema.index_of(n).ok());
    let Some(time) = time else {
        return Ok(String::new());
    };
    let rating = schema.index_of("trace_rating").ok();
    let mut days: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let options = arrow::util::display::FormatOptions::default().with_null("");
    for batch in batches {
        let when =
            arrow::util::display::ArrayFormatter::try_new(batch.column(time).as_ref(), &options)
                .map_err(|e| crate::error::Error::arrow("charting findings", e))?;
        for row in 0..batch.num_rows() {
            let day: String = when.value(row).to_string().chars().take(10).collect();
            let rating = rating
                .and_then(|r| cts_core::trace::text_at(batch.column(r).as_ref(), row))
                .map_or("unknown".to_string(), str::to_lowercase);
            *days.entry(day).or_default().entry(rating).or_default() += 1;
        }
    }
    Ok(crate::output::chart::rating_bars(&days, "day", |_| None))
}
