//! Bar charts as inline SVG, for the report pack and the console: no script, no style
//! attribute (a page's Content-Security-Policy allows neither), every label escaped, and each
//! bar optionally a link to the traces behind it.

use std::collections::BTreeMap;
use std::fmt::Write;

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::output::tables::html_escape;
use crate::query::QueryLimits;

/// The length of a chart's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    /// An hour, labelled `2024-06-01 08:00`.
    Hour,
    /// A UTC day, labelled `2024-06-01`.
    Day,
}

impl Bin {
    /// Its name in a caption.
    pub fn unit(self) -> &'static str {
        match self {
            Bin::Hour => "hour",
            Bin::Day => "day",
        }
    }
}

/// Traces of the table `table` that `filter` (an SQL condition) lets through, counted per
/// period and rating (lower case, `unknown` for none): period label → rating → count.
pub async fn counts_by_rating(
    ctx: &SessionContext,
    table: &str,
    filter: &str,
    bin: Bin,
    limits: &QueryLimits,
) -> Result<BTreeMap<String, BTreeMap<String, i64>>> {
    let (interval, label) = match bin {
        Bin::Hour => ("1 hour", "%Y-%m-%d %H:00"),
        Bin::Day => ("1 day", "%Y-%m-%d"),
    };
    let batches = limits
        .enforce(async {
            // Counted per period and rating as stored, then named and folded (lower case) per
            // group: formatting the period of every trace cost more than the count itself.
            let df = ctx
                .sql(&format!(
                    "SELECT to_char(period_start, '{label}') AS period, \
                     lower(COALESCE(trace_rating, 'unknown')) AS rating, sum(n) AS n \
                     FROM (SELECT date_bin(INTERVAL '{interval}', time) AS period_start, trace_rating, count(*) AS n \
                           FROM {table} WHERE {filter} GROUP BY 1, 2) per_period \
                     GROUP BY 1, 2 ORDER BY 1, 2"
                ))
                .await?;
            Ok(df.collect().await?)
        })
        .await?;
    let mut periods: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for batch in &batches {
        let (period, rating, n) = (
            text(batch, 0)?,
            text(batch, 1)?,
            arrow::compute::cast(batch.column(2), &DataType::Int64)
                .map_err(|e| Error::arrow("counting traces per period", e))?,
        );
        let (Some(period), Some(rating), Some(n)) = (
            period.as_string_opt::<i32>(),
            rating.as_string_opt::<i32>(),
            n.as_primitive_opt::<Int64Type>(),
        ) else {
            return Err(Error::internal(
                "unexpected types counting traces per period",
            ));
        };
        for row in 0..batch.num_rows() {
            *periods
                .entry(period.value(row).to_string())
                .or_default()
                .entry(rating.value(row).to_string())
                .or_default() += n.value(row);
        }
    }
    Ok(periods)
}

/// Column `i` of `batch` as text.
fn text(batch: &RecordBatch, i: usize) -> Result<ArrayRef> {
    arrow::compute::cast(batch.column(i), &DataType::Utf8)
        .map_err(|e| Error::arrow("counting traces per period", e))
}

/// The ratings in the order bars stack them, and their colours.
const RATINGS: [(&str, &str); 4] = [
    ("normal", "#4c9a5f"),
    ("warning", "#e0a030"),
    ("incident", "#c03030"),
    ("unknown", "#8888aa"),
];

fn colour(rating: &str) -> &'static str {
    RATINGS
        .iter()
        .find(|(r, _)| *r == rating)
        .map_or(RATINGS[3].1, |(_, c)| c)
}

/// Traces per period, stacked by rating: `periods` maps a period's label to its counts per
/// rating; `link` gives the address of a period's traces (`None`: no link). `unit` names a
/// period in the scale's caption (`day`, `hour`).
pub fn rating_bars(
    periods: &BTreeMap<String, BTreeMap<String, i64>>,
    unit: &str,
    link: impl Fn(&str) -> Option<String>,
) -> String {
    if periods.is_empty() {
        return "<p>No traces in this range.</p>\n".to_string();
    }
    let max = periods
        .values()
        .map(|r| r.values().sum::<i64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (bar, gap, height) = (18usize, 4usize, 200f64);
    // Wide enough for the legend's four entries, however few the bars.
    let width = (periods.len() * (bar + gap) + 120).max(RATINGS.len() * 90 + 20);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" \
         aria-label=\"traces per {unit} by rating\">\n",
        height as usize + 110
    );
    let _ = writeln!(
        svg,
        "<text x=\"0\" y=\"12\" font-size=\"11\">max {max} traces/{}</text>",
        html_escape(unit)
    );
    for (i, (period, ratings)) in periods.iter().enumerate() {
        let x = 50 + i * (bar + gap);
        let href = link(period);
        if let Some(href) = &href {
            let _ = write!(svg, "<a href=\"{}\">", html_escape(href));
        }
        let mut y = height + 20.0;
        for (rating, _) in RATINGS {
            let Some(n) = ratings.get(rating) else {
                continue;
            };
            let h = *n as f64 / max as f64 * height;
            y -= h;
            let _ = write!(
                svg,
                "<rect x=\"{x}\" y=\"{y:.1}\" width=\"{bar}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                colour(rating),
                html_escape(period),
                html_escape(rating)
            );
        }
        if href.is_some() {
            svg.push_str("</a>");
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"9\" transform=\"rotate(60 {} {})\">{}</text>",
            x + 4,
            height as usize + 26,
            x + 4,
            height as usize + 26,
            html_escape(period)
        );
    }
    // The legend, in SVG too.
    let legend_y = height as usize + 100;
    for (i, (rating, c)) in RATINGS.iter().enumerate() {
        let x = i * 90;
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{}\" y=\"{legend_y}\" font-size=\"11\">{rating}</text>",
            legend_y - 9,
            x + 14
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The largest counts as horizontal bars: `(label, count, link)`, in the order given.
pub fn top_bars(items: &[(String, i64, Option<String>)], caption: &str) -> String {
    if items.is_empty() {
        return "<p>None.</p>\n".to_string();
    }
    let max = items.iter().map(|(_, n, _)| *n).max().unwrap_or(1).max(1);
    let (row, label_width, bar_width) = (20usize, 220usize, 300f64);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">\n",
        label_width + bar_width as usize + 80,
        items.len() * row + 4,
        html_escape(caption)
    );
    for (i, (label, n, href)) in items.iter().enumerate() {
        let y = i * row;
        let w = (*n as f64 / max as f64 * bar_width).max(1.0);
        let shown: String = if label.chars().count() > 34 {
            label.chars().take(33).chain(['…']).collect()
        } else {
            label.clone()
        };
        if let Some(href) = href {
            let _ = write!(svg, "<a href=\"{}\">", html_escape(href));
        }
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"{label_width}\" y=\"{}\" width=\"{w:.1}\" height=\"14\" fill=\"#4a78b0\"><title>{}: {n}</title></rect><text x=\"{:.1}\" y=\"{}\" font-size=\"11\">{n}</text>",
            y + 14,
            html_escape(&shown),
            y + 3,
            html_escape(label),
            label_width as f64 + w + 4.0,
            y + 14
        );
        if href.is_some() {
            svg.push_str("</a>");
        }
        svg.push('\n');
    }
    svg.push_str("</svg>\n");
    svg
}
