//! The report pack: every report over a time range into one HTML page, readable offline, and a
//! CSV per report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, SchemaRef};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use cts_core::storage::fs::write_atomic;

use crate::error::{Error, Result};
use crate::output::format::{Format, write_batches};
use crate::output::report::catalog::{Kind, Report};
use crate::output::report::run::run;
use crate::output::tables::{html_escape, html_table};
use crate::query::QueryLimits;

/// What a report pack holds.
#[derive(Debug, Default)]
pub struct PackSummary {
    /// `(report, rows)` for each report that ran.
    pub findings: Vec<(String, usize)>,
    /// `(report, error)` for each that failed.
    pub failures: Vec<(String, String)>,
    /// Traces in the time range.
    pub traces: i64,
}

/// Rows shown per report in the HTML page (the CSV holds all).
const PAGE_ROWS: usize = 500;

/// Run every report over `[from, to)` and write `index.html` (one page, readable offline:
/// summary of findings with requirement IDs, traces per day by rating, a section per report)
/// and one CSV per report into `out`, `jobs` reports at a time (at least 1).
pub async fn pack(
    ctx: &SessionContext,
    reports: &[Report],
    from: &str,
    to: &str,
    out: &Path,
    jobs: usize,
    limits: &QueryLimits,
) -> Result<PackSummary> {
    std::fs::create_dir_all(out).map_err(|e| Error::io("create folder", out, e))?;
    let mut values = BTreeMap::new();
    values.insert("from".to_string(), from.to_string());
    values.insert("to".to_string(), to.to_string());
    let range = format!(
        "time >= CAST('{}' AS TIMESTAMP) AND time < CAST('{}' AS TIMESTAMP)",
        from.replace('\'', "''"),
        to.replace('\'', "''")
    );
    let per_day = limits
        .enforce(async {
            // Counted per day and rating as stored, then named and folded (lower case) per
            // group: formatting the day of every trace cost more than the count itself.
            let df = ctx
                .sql(&format!(
                    "SELECT to_char(day_start, '%Y-%m-%d') AS day, \
                     lower(COALESCE(trace_rating, 'unknown')) AS rating, sum(n) AS n \
                     FROM (SELECT date_bin(INTERVAL '1 day', time) AS day_start, trace_rating, count(*) AS n \
                           FROM traces WHERE {range} GROUP BY 1, 2) per_day \
                     GROUP BY 1, 2 ORDER BY 1, 2"
                ))
                .await?;
            Ok(df.collect().await?)
        })
        .await?;
    let mut days: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut summary = PackSummary::default();
    let text = |column: &arrow::array::ArrayRef| {
        arrow::compute::cast(column, &arrow::datatypes::DataType::Utf8)
            .map_err(|e| Error::arrow("counting traces per day", e))
    };
    for batch in &per_day {
        let (day, rating) = (text(batch.column(0))?, text(batch.column(1))?);
        let n = arrow::compute::cast(batch.column(2), &arrow::datatypes::DataType::Int64)
            .map_err(|e| Error::arrow("counting traces per day", e))?;
        let (Some(day), Some(rating), Some(n)) = (
            day.as_string_opt::<i32>(),
            rating.as_string_opt::<i32>(),
            n.as_primitive_opt::<Int64Type>(),
        ) else {
            return Err(Error::internal("unexpected types counting traces per day"));
        };
        for row in 0..batch.num_rows() {
            *days
                .entry(day.value(row).to_string())
                .or_default()
                .entry(rating.value(row).to_string())
                .or_default() += n.value(row);
            summary.traces += n.value(row);
        }
    }

    let mut sections = String::new();
    let mut rows_html = String::new();
    // `jobs` reports run at a time: while one is in a phase that uses one core (a final sort, a
    // window, writing its CSV), another uses the second (pack over 1 M traces on 2 cores, 2 at a
    // time: 10.8 s to 8.6 s). Each writes its own CSV, so that writing overlaps the other's
    // query. Results come in report order.
    let values = &values;
    let mut results = futures::stream::iter(reports.iter().map(|report| async move {
        let result = run(ctx, report, values, limits).await;
        if let Ok((schema, batches)) = &result {
            write_csv(out.join(format!("{}.csv", report.name)), schema, batches).await?;
        }
        Ok::<_, Error>(result)
    }))
    .buffered(jobs.max(1));
    for report in reports {
        // An error writing a CSV ends the pack; a report that fails is a finding of the page.
        let result = results
            .next()
            .await
            .ok_or_else(|| Error::internal("a report of the pack did not run"))??;
        let requirements = html_escape(&report.requirements.join(", "));
        let name = html_escape(&report.name);
        let _ = write!(
            sections,
            "<section id=\"{name}\">\n<h2>{}</h2>\n<p class=\"meta\"><code>{name}</code> · {requirements}</p>\n<p>{}</p>\n",
            html_escape(&report.title),
            html_escape(&report.description)
        );
        match result {
            Ok((schema, batches)) => {
                let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                let _ = writeln!(
                    rows_html,
                    "<tr class=\"{}\"><td><a href=\"#{name}\">{}</a></td><td>{requirements}</td><td class=\"n\">{rows}</td><td><a href=\"{name}.csv\">CSV</a></td></tr>",
                    if rows > 0 && report.kind == Kind::Detection {
                        "hit"
                    } else {
                        ""
                    },
                    html_escape(&report.title)
                );
                if rows == 0 {
                    sections.push_str("<p class=\"none\">Nothing found.</p>\n");
                } else {
                    sections.push_str(&html_table(&schema, &batches, PAGE_ROWS)?);
                    if rows > PAGE_ROWS {
                        let _ = writeln!(
                            sections,
                            "<p>First {PAGE_ROWS} of {rows} rows; all are in <a href=\"{name}.csv\">{name}.csv</a>.</p>"
                        );
                    }
                }
                summary.findings.push((report.name.clone(), rows));
            }
            Err(e) => {
                let text = e.to_string();
                let _ = writeln!(
                    rows_html,
                    "<tr class=\"error\"><td><a href=\"#{name}\">{}</a></td><td>{requirements}</td><td class=\"n\">error</td><td></td></tr>",
                    html_escape(&report.title)
                );
                let _ = writeln!(
                    sections,
                    "<p class=\"error\">Failed: {}</p>",
                    html_escape(&text)
                );
                summary.failures.push((report.name.clone(), text));
            }
        }
        sections.push_str("</section>\n");
    }

    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cts report pack {from} to {to}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }} td.n {{ text-align: right; }} td:first-child {{ white-space: nowrap; }}
tr.hit td {{ background: #fff4e0; }} tr.error td, p.error {{ color: #a00; }}
p.meta {{ color: #666; }} section {{ margin-top: 2em; }}
</style></head><body>
<h1>Compliance report pack</h1>
<p>Traces from <b>{from_h}</b> (inclusive) to <b>{to_h}</b> (exclusive): {traces}. Generated by cts {version} at {now}.</p>
<h2>Traces per day by rating</h2>
{chart}
<h2>Summary</h2>
<table><thead><tr><th>Report</th><th>Requirements</th><th>Rows</th><th>Data</th></tr></thead><tbody>
{rows_html}</tbody></table>
{sections}</body></html>
"#,
        from_h = html_escape(from),
        to_h = html_escape(to),
        traces = summary.traces,
        version = env!("CARGO_PKG_VERSION"),
        now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"),
        chart = chart(&days),
    );
    write_atomic(&out.join("index.html"), html.as_bytes())?;
    Ok(summary)
}

/// Write a report's rows to `path` as CSV, whole or not at all, on a blocking thread.
async fn write_csv(
    path: std::path::PathBuf,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    let (schema, batches) = (schema.clone(), batches.to_vec());
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || {
        let mut csv = Vec::new();
        write_batches(&batches, schema, Format::Csv, &mut csv)?;
        Ok(write_atomic(&path, &csv)?)
    })
    .await
    .map_err(|e| Error::internal(format!("writing {shown}: {e}")))?
}

/// An inline SVG chart: one stacked bar per day, one colour per rating.
fn chart(days: &BTreeMap<String, BTreeMap<String, i64>>) -> String {
    if days.is_empty() {
        return "<p>No traces in this range.</p>".to_string();
    }
    let colour = |rating: &str| match rating {
        "normal" => "#4c9a5f",
        "warning" => "#e0a030",
        "incident" => "#c03030",
        _ => "#8888aa",
    };
    let max = days
        .values()
        .map(|r| r.values().sum::<i64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (bar, gap, height) = (18usize, 4usize, 200f64);
    let width = days.len() * (bar + gap) + 120;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"traces per day by rating\">\n",
        height as usize + 80
    );
    let _ = writeln!(
        svg,
        "<text x=\"0\" y=\"12\" font-size=\"11\">max {max} traces/day</text>"
    );
    for (i, (day, ratings)) in days.iter().enumerate() {
        let x = 50 + i * (bar + gap);
        let mut y = height + 20.0;
        for (rating, n) in ratings {
            let h = *n as f64 / max as f64 * height;
            y -= h;
            let _ = writeln!(
                svg,
                "<rect x=\"{x}\" y=\"{y:.1}\" width=\"{bar}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                colour(rating),
                html_escape(day),
                html_escape(rating)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"9\" transform=\"rotate(60 {} {})\">{}</text>",
            x + 4,
            height as usize + 26,
            x + 4,
            height as usize + 26,
            html_escape(day)
        );
    }
    svg.push_str("</svg>\n<p>");
    for rating in ["normal", "warning", "incident", "unknown"] {
        let _ = write!(
            svg,
            "<span style=\"color:{}\">&#9632;</span> {rating} ",
            colour(rating)
        );
    }
    svg.push_str("</p>\n");
    svg
}
