//! The shell's session: statements and meta-commands run one at a time, read-only unless
//! writes are allowed.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::output::format::{Format, write_batches, write_stream};
use crate::output::shell::interrupt::{Interrupts, cancellable};
use crate::output::shell::meta::{MetaCommand, help_text};
use crate::output::shell::split::{Item, Splitter};
use crate::query::QueryLimits;

/// How the shell runs.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    /// Allow statements that create, change or copy data (CREATE, INSERT, COPY, DROP, ...) or
    /// change settings (SET); without it the shell is read-only.
    pub write: bool,
    /// The output format at start (`\format` changes it).
    pub format: Format,
    /// The history file for line editing; none keeps no history.
    pub history: Option<PathBuf>,
    /// How an error is shown (`error: ` goes before it): the command line adds what to change.
    pub describe: fn(&Error) -> String,
}

impl Default for ShellOptions {
    fn default() -> Self {
        ShellOptions {
            write: false,
            format: Format::default(),
            history: None,
            describe: |e| e.to_string(),
        }
    }
}

impl ShellOptions {
    /// `$HOME/.cts_history`, or none when `HOME` is not set.
    pub fn default_history() -> Option<PathBuf> {
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".cts_history"))
    }
}

/// What to do after an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on with the next item.
    Continue,
    /// Quit the shell.
    Quit,
}

/// The shell's state: the session, the limits and the settings meta-commands change.
pub(crate) struct Shell<'a> {
    pub(crate) ctx: &'a SessionContext,
    limits: &'a QueryLimits,
    pub(crate) write: bool,
    format: Format,
    timing: bool,
    /// At a terminal, Ctrl-C cancels a running query; in a script (none here) it ends the
    /// process, as by default.
    pub(crate) interrupts: Option<Interrupts>,
    /// How an error is shown.
    describe: fn(&Error) -> String,
}

impl<'a> Shell<'a> {
    pub(crate) fn new(
        ctx: &'a SessionContext,
        limits: &'a QueryLimits,
        options: &ShellOptions,
    ) -> Self {
        Shell {
            ctx,
            limits,
            write: options.write,
            format: options.format,
            timing: false,
            interrupts: None,
            describe: options.describe,
        }
    }

    /// Run every statement and meta-command of `text` in order; errors go to standard error.
    pub(crate) async fn run_script(&mut self, text: &str) -> Result<()> {
        let mut splitter = Splitter::default();
        let mut items = splitter.push(text);
        items.extend(splitter.finish());
        let (mut failed, mut total) = (0, 0);
        for item in &items {
            total += 1;
            match self.execute_to_stdout(item).await {
                Ok(Step::Continue) => {}
                Ok(Step::Quit) => break,
                // Nobody reads the results any more (`| head`): stop.
                Err(e) if e.io_kind() == Some(std::io::ErrorKind::BrokenPipe) => return Err(e),
                Err(e) => {
                    failed += 1;
                    self.report(&e);
                }
            }
        }
        if failed > 0 {
            return Err(Error::Script { failed, total });
        }
        Ok(())
    }

    /// Show an error on standard error.
    pub(crate) fn report(&self, error: &Error) {
        eprintln!("error: {}", (self.describe)(error));
    }

    /// Run one item, its results to standard output.
    pub(crate) async fn execute_to_stdout(&mut self, item: &Item) -> Result<Step> {
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let step = self.execute(item, &mut out).await;
        let flushed = out
            .flush()
            .map_err(|e| Error::io("write", "standard output", e));
        let step = step?;
        flushed?;
        Ok(step)
    }

    /// Run one statement or meta-command, its results to `out`.
    async fn execute(&mut self, item: &Item, out: &mut dyn Write) -> Result<Step> {
        match item {
            Item::Meta(line) => self.meta(line, out).await,
            Item::Sql(sql) => {
                let started = Instant::now();
                let query = self.limits.enforce(self.sql(sql, out));
                let result = if let Some(interrupts) = &self.interrupts {
                    cancellable(query, interrupts.pressed()).await
                } else {
                    query.await
                };
                if matches!(result, Err(Error::Cancelled)) {
                    // After the ^C the terminal echoed.
                    eprintln!();
                }
                if self.timing {
                    eprintln!("elapsed: {:.3} s", started.elapsed().as_secs_f64());
                }
                result.map(|_| Step::Continue)
            }
        }
    }

    /// Plan `sql` (refusing what changes anything unless writes are allowed), run it and write
    /// its results.
    async fn sql(&self, sql: &str, out: &mut dyn Write) -> Result<usize> {
        // What `SessionContext::sql_with_options` does, in two steps so that a statement the
        // options refuse is told apart from one that does not plan.
        let plan = self.ctx.state().create_logical_plan(sql).await?;
        if !self.write {
            crate::query::read_only()
                .verify_plan(&plan)
                .map_err(|e| Error::ReadOnly {
                    refused: match e.find_root() {
                        DataFusionError::Plan(message) => message.clone(),
                        other => other.to_string(),
                    },
                })?;
        }
        // CREATE, DROP, SET: no result to show (a query may have no columns, and still rows).
        let silent = matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Statement(_));
        let stream = self
            .ctx
            .execute_logical_plan(plan)
            .await?
            .execute_stream()
            .await?;
        if silent {
            let mut stream = stream;
            while let Some(batch) = futures::StreamExt::next(&mut stream).await {
                batch?;
            }
            return Ok(0);
        }
        write_stream(stream, self.format, out).await
    }

    /// Run a meta-command line such as `\d traces`.
    async fn meta(&mut self, line: &str, out: &mut dyn Write) -> Result<Step> {
        match MetaCommand::parse(line)? {
            MetaCommand::Quit => return Ok(Step::Quit),
            MetaCommand::Tables | MetaCommand::Describe(None) => self.list_tables(out).await?,
            MetaCommand::Describe(Some(table)) => self.describe(&table, out).await?,
            MetaCommand::Timing(on) => {
                self.timing = on.unwrap_or(!self.timing);
                eprintln!("timing is {}", if self.timing { "on" } else { "off" });
            }
            MetaCommand::Format(format) => {
                if let Some(format) = format {
                    self.format = format;
                }
                eprintln!("format is {}", self.format.name());
            }
            MetaCommand::Help => out
                .write_all(help_text().as_bytes())
                .map_err(|e| Error::io("write", "standard output", e))?,
        }
        Ok(Step::Continue)
    }

    /// `\dt`: the tables of the default schema, with their kind.
    async fn list_tables(&self, out: &mut dyn Write) -> Result<()> {
        let (names, kinds) = {
            let mut names = Vec::new();
            let mut kinds = Vec::new();
            if let Some(schema) = default_schema(self.ctx) {
                let mut tables = schema.table_names();
                tables.sort();
                for name in tables {
                    let kind = match schema.table_type(&name).await? {
                        Some(TableType::Base) | None => "BASE TABLE",
                        Some(TableType::View) => "VIEW",
                        Some(TableType::Temporary) => "LOCAL TEMPORARY",
                    };
                    names.push(name);
                    kinds.push(kind.to_string());
                }
            }
            (names, kinds)
        };
        write_strings(
            &[("table_name", names), ("table_type", kinds)],
            self.format,
            out,
        )
    }

    /// `\d TABLE`: its columns, types and nullability.
    async fn describe(&self, table: &str, out: &mut dyn Write) -> Result<()> {
        let provider = self.ctx.table_provider(table).await.map_err(|_| {
            Error::invalid(format!("no table named {table:?}: \\dt lists the tables"))
        })?;
        let schema = provider.schema();
        let mut names = Vec::new();
        let mut types = Vec::new();
        let mut nullable = Vec::new();
        for field in schema.fields() {
            names.push(field.name().clone());
            types.push(field.data_type().to_string());
            nullable.push(if field.is_nullable() { "YES" } else { "NO" }.to_string());
        }
        write_strings(
            &[
                ("column_name", names),
                ("data_type", types),
                ("is_nullable", nullable),
            ],
            self.format,
            out,
        )
    }
}

/// The default catalog's default schema, where `traces` and friends are.
fn default_schema(ctx: &SessionContext) -> Option<Arc<dyn datafusion::catalog::SchemaProvider>> {
    let state = ctx.state();
    let options = &state.config().options().catalog;
    ctx.catalog(&options.default_catalog)?
        .schema(&options.default_schema)
}

/// Write columns of text in `format`.
fn write_strings(
    columns: &[(&str, Vec<String>)],
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, values)| Arc::new(StringArray::from(values.clone())) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| Error::arrow("listing the catalog", e))?;
    write_batches(&[batch], schema, format, out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::shell::split::items::{meta, sql};

    #[tokio::test]
    async fn read_only_refuses_changes_and_write_allows_them() {
        let config = datafusion::prelude::SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let made = ctx.sql("CREATE TABLE y AS SELECT 1 AS one").await;
        assert!(made.is_ok(), "{made:?}");
        let limits = QueryLimits::default();
        let mut options = ShellOptions {
            format: Format::Csv,
            ..Default::default()
        };
        let mut shell = Shell::new(&ctx, &limits, &options);
        let mut out = Vec::new();
        for statement in [
            "CREATE TABLE x AS SELECT 1",
            "INSERT INTO y VALUES (1)",
            "SET datafusion.execution.batch_size = 10",
            "DROP TABLE y",
            "EXPLAIN INSERT INTO y VALUES (2)",
        ] {
            let result = shell.execute(&sql(statement), &mut out).await;
            match result {
                Err(e @ Error::ReadOnly { .. }) => {
                    assert!(
                        e.to_string()
                            .starts_with("refused, the shell is read-only ("),
                        "{e}"
                    )
                }
                other => panic!("{statement}: {other:?}"),
            }
        }
        for statement in [
            "SELECT 1 AS one",
            "EXPLAIN SELECT 1",
            "SHOW TABLES",
            "SHOW datafusion.execution.batch_size",
            "DESCRIBE y",
            "SELECT * FROM information_schema.tables",
        ] {
            let result = shell.execute(&sql(statement), &mut out).await;
            assert!(result.is_ok(), "{statement}: {result:?}");
        }
        options.write = true;
        let mut shell = Shell::new(&ctx, &limits, &options);
        let mut out = Vec::new();
        let result = shell
            .execute(&sql("CREATE TABLE x AS SELECT 1 AS one"), &mut out)
            .await;
        assert!(result.is_ok(), "{result:?}");
        let mut out = Vec::new();
        let result = shell.execute(&meta("\\d x"), &mut out).await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "column_name,data_type,is_nullable\none,Int64,NO\n"
        );
        let result = shell.execute(&meta("\\nope"), &mut out).await;
        assert!(
            matches!(&result, Err(e) if e.to_string().contains("unknown meta-command \\nope")),
            "{result:?}"
        );
        assert_eq!(
            shell.execute(&meta("\\q"), &mut out).await.ok(),
            Some(Step::Quit)
        );
    }
}
