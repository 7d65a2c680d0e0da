//! Results as text for documents: Markdown and HTML tables, every value escaped.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::error::{Error, Result};

/// Every value of the batches as display text (empty for null), row by row.
pub fn cells(batches: &[RecordBatch], max_rows: usize) -> Result<Vec<Vec<String>>> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::arrow("formatting results", e))?;
        for row in 0..batch.num_rows() {
            if rows.len() >= max_rows {
                return Ok(rows);
            }
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// A Markdown table of the batches (`|` in values escaped, newlines as spaces).
pub fn markdown_table(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<String> {
    let escape = |v: &str| v.replace('|', "\\|").replace(['\n', '\r'], " ");
    let names: Vec<String> = schema.fields().iter().map(|f| escape(f.name())).collect();
    let mut text = format!(
        "| {} |\n|{}\n",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    for row in cells(batches, usize::MAX)? {
        let row: Vec<String> = row.iter().map(|v| escape(v)).collect();
        text.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    Ok(text)
}

/// Text with `&`, `<`, `>` and quotes escaped for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML table of the first `max_rows` rows of the batches.
pub fn html_table(schema: &SchemaRef, batches: &[RecordBatch], max_rows: usize) -> Result<String> {
    let mut text = String::from("<table>\n<thead><tr>");
    for field in schema.fields() {
        text.push_str(&format!("<th>{}</th>", html_escape(field.name())));
    }
    text.push_str("</tr></thead>\n<tbody>\n");
    for row in cells(batches, max_rows)? {
        text.push_str("<tr>");
        for value in row {
            text.push_str(&format!("<td>{}</td>", html_escape(&value)));
        }
        text.push_str("</tr>\n");
    }
    text.push_str("</tbody>\n</table>\n");
    Ok(text)
}
