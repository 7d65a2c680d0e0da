//! Query results as a table, CSV, a JSON array, NDJSON, Markdown or HTML, streamed batch by
//! batch where the format allows it.

use std::io::Write;
use std::str::FromStr;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use clap::ValueEnum;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::output::tables::{html_table, markdown_table};

/// An output format. Its names (`table`, `csv`, `json`, `ndjson`, `md`, `html`) are the values
/// of `--format` and of the shell's `\format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// An aligned table for people (the whole result is gathered first).
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    #[value(alias = "jsonl")]
    Ndjson,
    /// A Markdown table (the whole result is gathered first).
    #[value(name = "md", alias = "markdown")]
    Markdown,
    /// An HTML table (the whole result is gathered first).
    Html,
}

impl Format {
    /// Its name, as `--format` takes it.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// Every name, in order.
    pub fn names() -> Vec<String> {
        Format::value_variants().iter().map(|f| f.name()).collect()
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format> {
        <Format as ValueEnum>::from_str(s, true).map_err(|_| {
            Error::invalid(format!(
                "unknown format {:?}: use one of {}",
                s.to_ascii_lowercase(),
                Format::names().join(", ")
            ))
        })
    }
}

/// Write a stream of results; returns the number of rows.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: Format,
    out: &mut dyn Write,
) -> Result<usize> {
    let schema = stream.schema();
    let mut writer = Writer::new(format, schema, out);
    while let Some(batch) = stream.next().await {
        writer.write(&batch?)?;
    }
    writer.finish()
}

/// Write batches already gathered; returns the number of rows.
pub fn write_batches(
    batches: &[RecordBatch],
    schema: SchemaRef,
    format: Format,
    out: &mut dyn Write,
) -> Result<usize> {
    let mut writer = Writer::new(format, schema, out);
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()
}

/// Writes batches one at a time in one format.
struct Writer<'w> {
    format: Format,
    schema: SchemaRef,
    out: &'w mut dyn Write,
    gathered: Vec<RecordBatch>,
    csv_started: bool,
    json_rows: usize,
    rows: usize,
}

impl<'w> Writer<'w> {
    fn new(format: Format, schema: SchemaRef, out: &'w mut dyn Write) -> Self {
        Writer {
            format,
            schema,
            out,
            gathered: Vec::new(),
            csv_started: false,
            json_rows: 0,
            rows: 0,
        }
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let failed = |e| Error::arrow("writing results", e);
        self.rows += batch.num_rows();
        match self.format {
            Format::Table | Format::Markdown | Format::Html => self.gathered.push(batch.clone()),
            Format::Csv => {
                // A header before the first batch only; lists and structs as JSON text.
                // Encoded first, then written: the CSV writer would hide a closed pipe in its
                // own error.
                let buf = csv_bytes(batch, !self.csv_started)?;
                self.out.write_all(&buf).map_err(io_err)?;
                self.csv_started = true;
            }
            Format::Json | Format::Ndjson => {
                let mut buf = Vec::new();
                {
                    let mut w = arrow::json::LineDelimitedWriter::new(&mut buf);
                    w.write(batch).map_err(failed)?;
                    w.finish().map_err(failed)?;
                }
                if self.format == Format::Ndjson {
                    self.out.write_all(&buf).map_err(io_err)?;
                } else {
                    for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                        let sep: &[u8] = if self.json_rows == 0 { b"[\n" } else { b",\n" };
                        self.out.write_all(sep).map_err(io_err)?;
                        self.out.write_all(line).map_err(io_err)?;
                        self.json_rows += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<usize> {
        match self.format {
            Format::Table => {
                let table = arrow::util::pretty::pretty_format_batches_with_schema(
                    self.schema.clone(),
                    &self.gathered,
                )
                .map_err(|e| Error::arrow("formatting results", e))?;
                writeln!(self.out, "{table}").map_err(io_err)?;
                let rows = self.rows;
                writeln!(self.out, "{rows} row{}", if rows == 1 { "" } else { "s" })
                    .map_err(io_err)?;
            }
            Format::Markdown => {
                let text = markdown_table(&self.schema, &self.gathered)?;
                self.out.write_all(text.as_bytes()).map_err(io_err)?;
            }
            Format::Html => {
                let text = html_table(&self.schema, &self.gathered, usize::MAX)?;
                self.out.write_all(text.as_bytes()).map_err(io_err)?;
            }
            Format::Csv if !self.csv_started => {
                // No rows: still a header.
                let empty = RecordBatch::new_empty(self.schema.clone());
                self.write(&empty)?;
            }
            Format::Json if self.json_rows == 0 => self.out.write_all(b"[]\n").map_err(io_err)?,
            Format::Json => self.out.write_all(b"\n]\n").map_err(io_err)?,
            Format::Csv | Format::Ndjson => {}
        }
        self.out.flush().map_err(io_err)?;
        Ok(self.rows)
    }
}

/// One batch as CSV, lists and structs as JSON text, with a header row first if `header`.
pub fn csv_bytes(batch: &RecordBatch, header: bool) -> Result<Vec<u8>> {
    let batch = nested_as_json(batch)?;
    let mut buf = Vec::new();
    arrow::csv::WriterBuilder::new()
        .with_header(header)
        .build(&mut buf)
        .write(&batch)
        .map_err(|e| Error::arrow("writing results", e))?;
    Ok(buf)
}

/// The batch with every nested column (lists, structs, maps) turned into its JSON text, for
/// formats that hold only flat values.
fn nested_as_json(batch: &RecordBatch) -> Result<RecordBatch> {
    use arrow::array::{ArrayRef, StringBuilder};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let failed = |e| Error::arrow("writing nested values as JSON", e);
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        // Arrow's own JSON encoder, one row per line: {"v":<value>} or {} for null.
        let one = Arc::new(Schema::new(vec![Field::new(
            "v",
            field.data_type().clone(),
            true,
        )]));
        let single = RecordBatch::try_new(one, vec![column.clone()]).map_err(failed)?;
        let mut lines = Vec::new();
        {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut lines);
            w.write(&single).map_err(failed)?;
            w.finish().map_err(failed)?;
        }
        let text = String::from_utf8_lossy(&lines);
        let mut out = StringBuilder::new();
        for line in text.lines() {
            out.append_option(
                line.strip_prefix("{\"v\":")
                    .and_then(|l| l.strip_suffix('}')),
            );
        }
        fields.push(Field::new(
            field.name(),
            arrow::datatypes::DataType::Utf8,
            true,
        ));
        columns.push(Arc::new(out.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(failed)
}

fn io_err(e: std::io::Error) -> Error {
    Error::io("write", "standard output", e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn sample() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("login"), None])),
                Arc::new(Int64Array::from(vec![3, 1])),
            ],
        );
        match batch {
            Ok(b) => (schema, b),
            Err(e) => panic!("{e}"),
        }
    }

    fn render(format: Format, batches: &[RecordBatch], schema: SchemaRef) -> String {
        let mut out = Vec::new();
        if let Err(e) = write_batches(batches, schema, format, &mut out) {
            panic!("{e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn csv_writes_lists_as_json_text() {
        use arrow::array::{ListBuilder, StringBuilder};
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("service.console");
        list.append(true);
        list.append(false);
        let column: arrow::array::ArrayRef = Arc::new(list.finish());
        let batch = RecordBatch::try_from_iter(vec![("invoked_by", column)]);
        let batch = match batch {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let schema = batch.schema();
        assert_eq!(
            render(Format::Csv, &[batch], schema),
            // The null row: a record whose only field is empty is written as "" by csv.
            "invoked_by\n\"[\"\"service.console\"\"]\"\n\"\"\n"
        );
    }

    #[test]
    fn every_format_renders_rows_and_empty_results() {
        let (schema, batch) = sample();
        let rows = std::slice::from_ref(&batch);
        assert_eq!(
            render(Format::Csv, rows, schema.clone()),
            "name,n\nlogin,3\n,1\n"
        );
        assert_eq!(render(Format::Csv, &[], schema.clone()), "name,n\n");
        assert_eq!(
            render(Format::Json, rows, schema.clone()),
            "[\n{\"name\":\"login\",\"n\":3},\n{\"n\":1}\n]\n"
        );
        assert_eq!(render(Format::Json, &[], schema.clone()), "[]\n");
        assert_eq!(
            render(Format::Ndjson, rows, schema.clone()),
            "{\"name\":\"login\",\"n\":3}\n{\"n\":1}\n"
        );
        let table = render(Format::Table, rows, schema.clone());
        assert!(table.contains("| login | 3 |"), "{table}");
        assert!(table.ends_with("2 rows\n"), "{table}");
        assert!(render(Format::Table, &[], schema).contains("| name | n |"));
    }
}
