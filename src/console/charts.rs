//! Charts of a search: traces per hour or day by rating, the top operators, services and
//! failing operations. Each bar links to the traces behind it (the same search, narrowed).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Int64Type};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use datafusion::prelude::{SessionContext, col};

use crate::console::page::{Chrome, PageError, html};
use crate::console::search::{Search, failed};
use crate::console::{Console, Viewer};
use crate::error::{Error, Result};
use crate::output::chart::{Bin, counts_by_rating, rating_bars, top_bars};
use crate::query::TRACES_TABLE;

/// The name the search's traces are registered under while its charts are counted.
const SEARCH_VIEW: &str = "search_traces";
/// Bars of each top chart.
const TOP: usize = 10;

#[derive(Template)]
#[template(path = "charts.html", config = "src/console/askama.toml")]
struct ChartsPage {
    chrome: Chrome,
    list_query: String,
    unit: &'static str,
    over_time: String,
    operators: String,
    services: String,
    failing: String,
}

/// The `TOP` largest groups of `column` among the search's traces (of those `failed_only`
/// narrows to the failed ones): `(value, count)`.
async fn top(ctx: &SessionContext, column: &str, failed_only: bool) -> Result<Vec<(String, i64)>> {
    let mut df = ctx.table(SEARCH_VIEW).await?;
    if failed_only {
        df = df.filter(failed())?;
    }
    let batches = df
        .filter(col(column).is_not_null())?
        .aggregate(
            vec![col(column)],
            vec![datafusion::functions_aggregate::count::count_all().alias("n")],
        )?
        .sort(vec![
            col("n").sort(false, false),
            col(column).sort(true, false),
        ])?
        .limit(0, Some(TOP))?
        .collect()
        .await?;
    let mut out = Vec::new();
    for batch in &batches {
        let names = arrow::compute::cast(batch.column(0), &DataType::Utf8)
            .map_err(|e| Error::arrow("charting", e))?;
        let counts = arrow::compute::cast(batch.column(1), &DataType::Int64)
            .map_err(|e| Error::arrow("charting", e))?;
        let (Some(names), Some(counts)) = (
            names.as_string_opt::<i32>(),
            counts.as_primitive_opt::<Int64Type>(),
        ) else {
            return Err(Error::internal("unexpected types charting"));
        };
        for row in 0..batch.num_rows() {
            out.push((names.value(row).to_string(), counts.value(row)));
        }
    }
    Ok(out)
}

/// `GET /console/charts?...`: the charts of the search in the query.
pub(super) async fn page(
    State(console): State<Arc<Console>>,
    viewer: Viewer,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let search = Search::parse(&q)?;
    let now = chrono::Utc::now().timestamp_millis();
    let ctx = console.session(&viewer).await?;
    let traces = ctx.table(TRACES_TABLE).await?.filter(search.filter(now))?;
    ctx.register_table(SEARCH_VIEW, traces.into_view())?;
    // Hours for a window of two days or less, days otherwise.
    let bin = match search.window(now) {
        (Some(from), to) if to.unwrap_or(now) - from <= 2 * 86_400_000 => Bin::Hour,
        _ => Bin::Day,
    };
    let limits = console.limits();
    let (periods, operators, services, failing) = limits
        .enforce(async {
            let periods = counts_by_rating(&ctx, SEARCH_VIEW, "true", bin, &limits).await?;
            let operators = top(&ctx, "user_name", false).await?;
            let services = top(&ctx, "service_type", false).await?;
            let failing = top(&ctx, "trace_name", true).await?;
            Ok((periods, operators, services, failing))
        })
        .await?;
    let period_ms = match bin {
        Bin::Hour => 3_600_000,
        Bin::Day => 86_400_000,
    };
    let over_time = rating_bars(&periods, bin.unit(), |label| {
        let start = match bin {
            Bin::Hour => chrono::NaiveDateTime::parse_from_str(label, "%Y-%m-%d %H:%M").ok(),
            Bin::Day => chrono::NaiveDate::parse_from_str(label, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0)),
        }?
        .and_utc()
        .timestamp_millis();
        Some(format!(
            "/console/traces?{}",
            search.within(start, start + period_ms).query(&[])
        ))
    });
    let linked = |items: Vec<(String, i64)>, param: &str, failed_only: bool| {
        items
            .into_iter()
            .map(|(value, n)| {
                let mut narrowed = search.with_text(param, &value);
                if failed_only {
                    narrowed.outcome = "failed".into();
                }
                let href = format!("/console/traces?{}", narrowed.query(&[]));
                (value, n, Some(href))
            })
            .collect::<Vec<_>>()
    };
    Ok(html(&ChartsPage {
        chrome: viewer.chrome("Charts", "charts"),
        list_query: search.query(&[]),
        unit: bin.unit(),
        over_time,
        operators: top_bars(&linked(operators, "user", false), "top operators"),
        services: top_bars(&linked(services, "service", false), "top services"),
        failing: top_bars(
            &linked(failing, "trace_name", true),
            "top failing operations",
        ),
    }))
}
