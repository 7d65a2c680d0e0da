//! Prebuilt compliance reports: one SQL query per file under `sql/reports/`, built into the
//! binary, each with a header that names it and its parameters:
//!
//! ```sql
//! -- name: root_account_activity
//! -- title: Root account activity
//! -- description: What it finds and why it matters.
//! -- requirements: PCI DSS 10.2.1.2
//! -- kind: detection
//! -- param: from = now() - interval '30 days' | Start of the time range (inclusive)
//! -- param: to = now() | End of the time range (exclusive)
//! SELECT ... WHERE time >= CAST({{from}} AS TIMESTAMP) AND time < CAST({{to}} AS TIMESTAMP)
//! ```
//!
//! `{{name}}` becomes the value a user gave, as a quoted SQL string, or else the default as
//! written in the header (SQL text). Detection reports return the uniform finding row first:
//! `time, service_type, resource_type, resource_name, trace_name, trace_rating, operator,
//! domain, source_ip, trace_id`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, SchemaRef};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::output::{Format, html_escape, html_table, write_batches};
use crate::query::QueryLimits;

/// The reports built into cts: `(name, SQL file)`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "access_denied",
        include_str!("../sql/reports/access_denied.sql"),
    ),
    (
        "account_policy_changes",
        include_str!("../sql/reports/account_policy_changes.sql"),
    ),
    (
        "audit_log_access",
        include_str!("../sql/reports/audit_log_access.sql"),
    ),
    (
        "audit_trail_tampering",
        include_str!("../sql/reports/audit_trail_tampering.sql"),
    ),
    (
        "bucket_policy_changes",
        include_str!("../sql/reports/bucket_policy_changes.sql"),
    ),
    (
        "console_login_failures",
        include_str!("../sql/reports/console_login_failures.sql"),
    ),
    (
        "credential_changes",
        include_str!("../sql/reports/credential_changes.sql"),
    ),
    (
        "daily_activity_by_operator",
        include_str!("../sql/reports/daily_activity_by_operator.sql"),
    ),
    (
        "delivery_gaps",
        include_str!("../sql/reports/delivery_gaps.sql"),
    ),
    (
        "destructive_operations",
        include_str!("../sql/reports/destructive_operations.sql"),
    ),
    (
        "error_rate_spike",
        include_str!("../sql/reports/error_rate_spike.sql"),
    ),
    (
        "failed_operations",
        include_str!("../sql/reports/failed_operations.sql"),
    ),
    (
        "federation_changes",
        include_str!("../sql/reports/federation_changes.sql"),
    ),
    (
        "identity_lifecycle",
        include_str!("../sql/reports/identity_lifecycle.sql"),
    ),
    ("incidents", include_str!("../sql/reports/incidents.sql")),
    (
        "key_management_changes",
        include_str!("../sql/reports/key_management_changes.sql"),
    ),
    (
        "logins_without_mfa",
        include_str!("../sql/reports/logins_without_mfa.sql"),
    ),
    (
        "mfa_removed",
        include_str!("../sql/reports/mfa_removed.sql"),
    ),
    (
        "network_changes",
        include_str!("../sql/reports/network_changes.sql"),
    ),
    (
        "new_source_ip",
        include_str!("../sql/reports/new_source_ip.sql"),
    ),
    (
        "off_hours_activity",
        include_str!("../sql/reports/off_hours_activity.sql"),
    ),
    (
        "privilege_escalation",
        include_str!("../sql/reports/privilege_escalation.sql"),
    ),
    (
        "root_account_activity",
        include_str!("../sql/reports/root_account_activity.sql"),
    ),
    (
        "security_group_changes",
        include_str!("../sql/reports/security_group_changes.sql"),
    ),
    (
        "security_group_open_to_world",
        include_str!("../sql/reports/security_group_open_to_world.sql"),
    ),
    (
        "trace_coverage",
        include_str!("../sql/reports/trace_coverage.sql"),
    ),
];

/// What a report returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One row per finding, the uniform finding row first.
    Detection,
    /// Aggregates (per day, per operator, gaps).
    Summary,
}

/// A parameter of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Its name, as in `{{name}}`.
    pub name: String,
    /// Its default, as SQL text.
    pub default: String,
    /// What it is.
    pub description: String,
}

/// A report: its header and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Short name, as in `cts report run NAME`.
    pub name: String,
    /// A title for people.
    pub title: String,
    /// What it finds and why it matters.
    pub description: String,
    /// Requirement IDs it gives evidence for (PCI DSS v4.0.1 unless marked).
    pub requirements: Vec<String>,
    /// Detection or summary.
    pub kind: Kind,
    /// Its parameters, in header order.
    pub params: Vec<Param>,
    /// The query, with `{{name}}` placeholders.
    pub sql: String,
}

impl Report {
    /// Parse a report file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Report> {
        let bad = |line: usize, what: &str| {
            Error::InvalidInput(format!("report {origin}, line {line}: {what}"))
        };
        let mut header: BTreeMap<&str, String> = BTreeMap::new();
        let mut params = Vec::new();
        let mut body = String::new();
        let mut in_header = true;
        for (i, line) in text.lines().enumerate() {
            let field = line
                .strip_prefix("--")
                .map(str::trim_start)
                .and_then(|l| l.split_once(':'))
                .filter(|(key, _)| {
                    matches!(
                        key.trim(),
                        "name" | "title" | "description" | "requirements" | "kind" | "param"
                    )
                });
            match field {
                Some((key, value)) if in_header => {
                    let value = value.trim();
                    if key.trim() == "param" {
                        let (name, rest) = value.split_once('=').ok_or_else(|| {
                            bad(i + 1, "a param needs `name = default | description`")
                        })?;
                        let (default, description) = rest.split_once(" | ").unwrap_or((rest, ""));
                        params.push(Param {
                            name: name.trim().to_string(),
                            default: default.trim().to_string(),
                            description: description.trim().to_string(),
                        });
                    } else {
                        header.insert(key.trim(), value.to_string());
                    }
                }
                _ => {
                    in_header = false;
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
        let take = |key: &str| {
            header
                .get(key)
                .cloned()
                .ok_or_else(|| Error::InvalidInput(format!("report {origin}: no `-- {key}:` line")))
        };
        let kind = match take("kind")?.as_str() {
            "detection" => Kind::Detection,
            "summary" => Kind::Summary,
            other => {
                return Err(Error::InvalidInput(format!(
                    "report {origin}: kind {other:?} is neither detection nor summary"
                )));
            }
        };
        let report = Report {
            name: take("name")?,
            title: take("title")?,
            description: take("description")?,
            requirements: take("requirements")?
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
            kind,
            params,
            sql: body.trim().trim_end_matches(';').to_string(),
        };
        for name in ["from", "to"] {
            if !report.params.iter().any(|p| p.name == name) {
                return Err(Error::InvalidInput(format!(
                    "report {origin}: no `{name}` parameter (every report takes a time range)"
                )));
            }
        }
        Ok(report)
    }

    /// The query with every `{{name}}` replaced: by `values[name]` as a quoted SQL string,
    /// or by the default. A value for a parameter the report does not have is an error.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String> {
        for name in values.keys() {
            if !self.params.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::InvalidInput(format!(
                    "report {} has no parameter {name:?}; its parameters: {}",
                    self.name,
                    known.join(", ")
                )));
            }
        }
        // A default may name another parameter (`CAST({{to}} AS TIMESTAMP) - interval '1 day'`):
        // replace until nothing changes, a few rounds at most.
        let mut sql = self.sql.clone();
        for _ in 0..4 {
            let before = sql.clone();
            for p in &self.params {
                let value = match values.get(&p.name) {
                    Some(v) => format!("'{}'", v.replace('\'', "''")),
                    None => p.default.clone(),
                };
                sql = sql.replace(&format!("{{{{{}}}}}", p.name), &value);
            }
            if sql == before {
                break;
            }
        }
        Ok(sql)
    }
}

/// The reports built into cts, by name.
pub fn builtin() -> Result<Vec<Report>> {
    BUILTIN
        .iter()
        .map(|(name, text)| Report::parse(text, &format!("sql/reports/{name}.sql")))
        .collect()
}

/// The built-in report named `name`.
pub fn find(name: &str) -> Result<Report> {
    builtin()?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "no report named {name:?}: `cts report list` lists them"
            ))
        })
}

/// Names of the built-in reports, in order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

/// Run a report with parameter values; returns its schema and rows.
pub async fn run(
    ctx: &SessionContext,
    report: &Report,
    values: &BTreeMap<String, String>,
    limits: &QueryLimits,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let sql = report.render(values)?;
    limits
        .enforce(async {
            let df = ctx.sql(&sql).await?;
            let schema = df.schema().inner().clone();
            let batches = df.collect().await?;
            Ok((schema, batches))
        })
        .await
}

/// Make every built-in report a view, `report_<name>`, with its default parameters (the last
/// 30 days, mostly): `SELECT * FROM report_incidents`.
pub async fn register_views(ctx: &SessionContext) -> Result<()> {
    for report in builtin()? {
        let sql = report.render(&BTreeMap::new())?;
        let plan = ctx.state().create_logical_plan(&sql).await?;
        let view = datafusion::datasource::ViewTable::new(plan, Some(sql));
        ctx.register_table(format!("report_{}", report.name), std::sync::Arc::new(view))?;
    }
    Ok(())
}

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
            return Err(Error::Internal(
                "unexpected types counting traces per day".into(),
            ));
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
            .ok_or_else(|| Error::Internal("a report of the pack did not run".into()))??;
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
    crate::wal::write_atomic(&out.join("index.html"), html.as_bytes())?;
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
        crate::wal::write_atomic(&path, &csv)
    })
    .await
    .map_err(|e| Error::Internal(format!("writing {shown}: {e}")))?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_file_is_built_in_and_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/reports");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("sql/reports")
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".sql")
                    .map(String::from)
            })
            .collect();
        files.sort();
        assert_eq!(files, builtin_names());
        for report in builtin().expect("parse") {
            assert!(!report.requirements.is_empty(), "{}", report.name);
            assert!(!report.sql.contains("-- param:"), "{}", report.name);
        }
    }

    #[test]
    fn values_are_quoted_and_defaults_are_sql() {
        let report = Report::parse(
            "-- name: r\n-- title: T\n-- description: D\n-- requirements: A, B\n-- kind: detection\n\
             -- param: from = now() - interval '1 day' | start\n-- param: to = now() | end\n\
             SELECT 1 WHERE x >= {{from}} AND x < {{to}};\n",
            "test",
        )
        .expect("parse");
        assert_eq!(report.requirements, vec!["A", "B"]);
        let mut values = BTreeMap::new();
        values.insert("to".to_string(), "2024-06-01' OR '1'='1".to_string());
        assert_eq!(
            report.render(&values).expect("render"),
            "SELECT 1 WHERE x >= now() - interval '1 day' AND x < '2024-06-01'' OR ''1''=''1'"
        );
        values.insert("nope".to_string(), "1".to_string());
        let err = report.render(&values).expect_err("unknown parameter");
        assert_eq!(
            err.to_string(),
            "report r has no parameter \"nope\"; its parameters: from, to"
        );
    }
}
