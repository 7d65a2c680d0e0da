//! The commands over queries: `sql`, `shell`, `export`, `report`.

use std::io::Write;
use std::process::ExitCode;

use cts::output::export::{ExportOptions, export};
use cts::output::report;
use cts::output::shell::ShellOptions;
use cts::output::{write_batches, write_stream};
use cts::query::register_location;
use cts::{Error, Result};
use cts_core::integrity::keys::data_dir_key;
use cts_core::storage::Location;

use crate::cli::args::{Command, ReportAction};
use crate::cli::context::{Context, say};
use crate::cli::hints;

/// Run a command over queries.
pub(crate) async fn run(command: Command, context: &Context) -> Result<ExitCode> {
    let limits = &context.limits;
    match command {
        Command::Sql {
            query,
            format,
            cluster,
        } => {
            let ctx = context.sql_session(cluster.cluster.as_deref()).await?;
            limits
                .enforce(async {
                    let stream = ctx.sql(&query).await?.execute_stream().await?;
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    write_stream(stream, format, &mut out).await?;
                    out.flush()
                        .map_err(|e| Error::io("write", "standard output", e))
                })
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Shell { write, format } => {
            let ctx = context.query_session().await?;
            let options = ShellOptions {
                write,
                format,
                history: ShellOptions::default_history(),
                describe: hints::message,
            };
            cts::output::shell::run(&ctx, limits, options).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            out,
            from,
            to,
            filter,
            query,
            partition_by,
            quiet,
            sign,
            signing_key,
            cluster,
        } => {
            let sign = if sign {
                let (key, made) = data_dir_key(signing_key.as_deref(), &context.data_dir)?;
                if let Some(public) = made {
                    eprintln!(
                        "made a key for signing exports; its public half, for cts verify \
                         --public-key, is {}",
                        public.display()
                    );
                }
                Some(std::sync::Arc::new(key))
            } else {
                None
            };
            let ctx = context
                .session_on(cluster.cluster.as_deref(), &context.archive()?)
                .await?;
            let target = Location::parse(&out, &context.storage)?;
            register_location(&ctx, &target);
            let options = ExportOptions {
                from,
                to,
                filter,
                query,
                partitioning: partition_by,
                progress: !quiet,
                sign,
                merge_files: cluster.cluster.is_none(),
            };
            let summary = export(&ctx, &target, &options, limits).await?;
            let bytes: u64 = summary.files.iter().map(|f| f.2).sum();
            say!(
                "exported {} rows into {} Parquet files ({:.1} MB) in {:.2} s: {}\n",
                summary.rows,
                summary.files.len(),
                bytes as f64 / 1e6,
                summary.elapsed.as_secs_f64(),
                target.url()
            )?;
            if let Some(manifest) = &summary.manifest {
                say!("signed manifest: {manifest} (cts verify {out})\n")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { action } => report_command(action, context).await,
        other => Err(Error::internal(format!("not a query command: {other:?}"))),
    }
}

async fn report_command(action: ReportAction, context: &Context) -> Result<ExitCode> {
    let limits = &context.limits;
    match action {
        ReportAction::List => {
            for r in report::builtin()? {
                let params: Vec<&str> = r.params.iter().map(|p| p.name.as_str()).collect();
                say!(
                    "{:<30} {:<28} {}  [{}]\n",
                    r.name,
                    r.requirements.join(", "),
                    r.title,
                    params.join(", ")
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportAction::Run {
            name,
            from,
            to,
            params,
            format,
            cluster,
        } => {
            let r = report::find(&name)?;
            let mut values = std::collections::BTreeMap::new();
            for p in &params {
                let (k, v) = p.split_once('=').ok_or_else(|| {
                    Error::invalid(format!("--param {p:?}: write it as NAME=VALUE"))
                })?;
                values.insert(k.trim().to_string(), v.to_string());
            }
            if let Some(from) = from {
                values.insert("from".to_string(), from);
            }
            if let Some(to) = to {
                values.insert("to".to_string(), to);
            }
            let ctx = context
                .session_on(cluster.cluster.as_deref(), &context.archive()?)
                .await?;
            let (schema, batches) = report::run(&ctx, &r, &values, limits).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            write_batches(&batches, schema, format, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        ReportAction::Pack {
            from,
            to,
            out,
            jobs,
            cluster,
        } => {
            let today = chrono::Utc::now().date_naive();
            let from = from.unwrap_or_else(|| (today - chrono::Days::new(30)).to_string());
            let to = to.unwrap_or_else(|| (today + chrono::Days::new(1)).to_string());
            let ctx = context
                .session_on(cluster.cluster.as_deref(), &context.archive()?)
                .await?;
            let started = std::time::Instant::now();
            let reports = report::builtin()?;
            let summary =
                report::pack(&ctx, &reports, &from, &to, &out, usize::from(jobs), limits).await?;
            let found: usize = summary.findings.iter().map(|(_, n)| n).sum();
            say!(
                "{} reports over {} traces from {from} to {to} in {:.2} s: {} rows of findings; {} failed\n",
                reports.len(),
                summary.traces,
                started.elapsed().as_secs_f64(),
                found,
                summary.failures.len()
            )?;
            for (name, error) in &summary.failures {
                say!("  {name}: {error}\n")?;
            }
            say!("open {}\n", out.join("index.html").display())?;
            Ok(if summary.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
