//! Batch export: `traces` (a time range, a filter) or any query, to Parquet in a folder or a
//! bucket, one file per day (Hive `day=YYYY-MM-DD/`) or one file.
//!
//! Each file is streamed to its final name in one upload (a multipart upload on object stores,
//! a staged file renamed at the end on local disks), so a crash or an error mid-way leaves no
//! partial file visible under a final name. File names are fixed (`day=.../part-0.parquet`,
//! `traces.parquet`): running the same export again overwrites them.
//!
//! With a signing key, the export ends with a signed manifest of every file it wrote, with its
//! SHA-256 and rows ([`cts_core::integrity::export`]). Any export first removes the manifest
//! of an earlier one into the same place, before it writes a file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cts_core::failpoint;
use cts_core::integrity::{EXPORT_MANIFEST, ExportManifest, SigningKey};
use cts_core::storage::Location;
use cts_core::storage::fs::remove_staging_files;
use cts_core::store::archive::{RowOrder, writer_properties};
use cts_core::trace::{cast_to, col, plain_types};
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parquet::arrow::AsyncArrowWriter;

use crate::error::{Error, Result};
use crate::query::QueryLimits;

/// How files are laid out (the values of `--partition-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Partitioning {
    /// One file per day of `time`: `day=YYYY-MM-DD/part-0.parquet`.
    Day,
    /// One file, `traces.parquet`.
    None,
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Start of the time range (inclusive), an SQL timestamp text such as `2024-06-01`.
    pub from: Option<String>,
    /// End of the time range (exclusive).
    pub to: Option<String>,
    /// An SQL predicate on `traces`.
    pub filter: Option<String>,
    /// A whole query instead of `traces` (then `from`, `to` and `filter` apply to its result).
    pub query: Option<String>,
    /// File layout.
    pub partitioning: Partitioning,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// Sign it: write a manifest of every file with its SHA-256, signed with this key.
    pub sign: Option<Arc<SigningKey>>,
    /// Sort each day of `traces` by merging its files, each sorted by time, rather than in
    /// memory (in one process; a cluster's executors sort their share).
    pub merge_files: bool,
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportSummary {
    /// Files written: URL, rows, bytes.
    pub files: Vec<(String, u64, u64)>,
    /// Rows written.
    pub rows: u64,
    /// The signed manifest written, with `sign`.
    pub manifest: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Export to `out`.
pub async fn export(
    ctx: &SessionContext,
    out: &Location,
    options: &ExportOptions,
    limits: &QueryLimits,
) -> Result<ExportSummary> {
    let started = Instant::now();
    if let Some(dir) = out.local_path() {
        remove_staging_files(&dir)?;
    }
    let base = base_query(options);
    let mut summary = ExportSummary::default();
    // A manifest of an earlier export here would vouch for files about to change (signed or
    // not, this export replaces them).
    ExportManifest::remove(out).await?;
    // Each file's name below `out`, and its rows.
    let mut written: Vec<(String, u64)> = Vec::new();
    match options.partitioning {
        Partitioning::None => {
            let df = ctx.sql(&base).await?;
            let progress = progress(options.progress, None);
            let name = "traces.parquet";
            let file = write_file(df, out, name, RowOrder::Unordered, limits, &progress).await?;
            written.push((name.to_string(), file.1));
            progress.finish_and_clear();
            summary.rows += file.1;
            summary.files.push(file);
        }
        Partitioning::Day => {
            let df = ctx.sql(&base).await?;
            if df
                .schema()
                .index_of_column_by_name(None, col::DAY)
                .is_none()
            {
                return Err(Error::NoDayColumn);
            }
            let days = limits
                .enforce(async {
                    let batches = ctx
                        .sql(&format!(
                            "SELECT DISTINCT CAST({day} AS VARCHAR) AS {day} FROM ({base}) ORDER BY 1",
                            day = col::DAY
                        ))
                        .await?
                        .collect()
                        .await?;
                    Ok(batches)
                })
                .await?;
            let mut names = Vec::new();
            for batch in &days {
                let column =
                    arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)
                        .map_err(|e| Error::arrow("reading the days to export", e))?;
                let column = arrow::array::AsArray::as_string_opt::<i32>(column.as_ref())
                    .ok_or_else(|| Error::internal("days are not text"))?;
                names.extend(column.iter().map(|d| d.unwrap_or("null").to_string()));
            }
            let days = names;
            let progress = progress(options.progress, Some(days.len() as u64));
            // A query of the user's own (joins, aggregates) keeps the session's partitions.
            let day_ctx = if options.merge_files && options.query.is_none() {
                merging_session(ctx)
            } else {
                ctx.clone()
            };
            for day in days {
                if day.contains(['/', '\\']) || day.starts_with('.') {
                    return Err(Error::invalid(format!("day {day:?} cannot name a folder")));
                }
                let sql = format!("SELECT * FROM ({base}) WHERE {d} = '{day}'", d = col::DAY);
                let mut df = day_ctx.sql(&sql).await?;
                let mut order = RowOrder::Unordered;
                if df
                    .schema()
                    .index_of_column_by_name(None, col::TIME)
                    .is_some()
                {
                    df = df.sort_by(vec![datafusion::prelude::col(col::TIME)])?;
                    order = RowOrder::ByTime;
                }
                // The day is in the folder name, as Hive partitioning has it.
                let df = df.drop_columns(&[col::DAY])?;
                let name = format!("{}={day}/part-0.parquet", col::DAY);
                let file = write_file(df, out, &name, order, limits, &progress).await?;
                written.push((name, file.1));
                summary.rows += file.1;
                summary.files.push(file);
                progress.inc(1);
            }
            progress.finish_and_clear();
        }
    }
    if let Some(key) = &options.sign {
        let manifest = ExportManifest::of(out, &base, &written).await?;
        manifest.write_signed(out, key).await?;
        summary.manifest = Some(out.display(&out.path(EXPORT_MANIFEST)));
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The query whose rows are exported.
fn base_query(options: &ExportOptions) -> String {
    let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let mut conditions = Vec::new();
    if let Some(from) = &options.from {
        conditions.push(format!(
            "{} >= CAST({} AS TIMESTAMP)",
            col::TIME,
            quote(from)
        ));
    }
    if let Some(to) = &options.to {
        conditions.push(format!("{} < CAST({} AS TIMESTAMP)", col::TIME, quote(to)));
    }
    if let Some(filter) = &options.filter {
        conditions.push(format!("({filter})"));
    }
    let source = match &options.query {
        Some(query) => format!("({}) AS q", query.trim().trim_end_matches(';')),
        None => crate::query::TRACES_TABLE.to_string(),
    };
    if conditions.is_empty() {
        format!("SELECT * FROM {source}")
    } else {
        format!("SELECT * FROM {source} WHERE {}", conditions.join(" AND "))
    }
}

/// `ctx` with the same tables, set up to sort a day by merging its files: the archive's files
/// are each sorted by time (their metadata says so), and a file group keeps that order only when
/// its files do not overlap in time, so each file gets a group of its own and the sort becomes a
/// merge of the files, holding a batch of each, instead of the whole day in memory.
fn merging_session(ctx: &SessionContext) -> SessionContext {
    let mut config = ctx.copied_config();
    // The catalog is `ctx`'s own, shared: building a session must not put an empty one in its
    // place.
    config
        .options_mut()
        .catalog
        .create_default_catalog_and_schema = false;
    let execution = &mut config.options_mut().execution;
    execution.split_file_groups_by_statistics = true;
    // One group per file for any day the loader wrote (a day holds a few dozen files, one per
    // chunk of JSON; compaction makes it one).
    execution.target_partitions = execution.target_partitions.max(MERGE_PARTITIONS);
    // A batch of each file is held at once: smaller batches hold less (1.4 M traces in 23
    // files: 8,192 rows, 1.0 GB peak; 2,048 rows, 0.78 GB, 5% slower; 1,024 rows, 0.72 GB,
    // 16% slower).
    if execution.batch_size.get() > MERGE_BATCH_ROWS
        && let Ok(rows) = datafusion::common::config::ConfigNonZeroUsize::try_new(MERGE_BATCH_ROWS)
    {
        execution.batch_size = rows;
    }
    let optimizer = &mut config.options_mut().optimizer;
    // Groups are files, not byte ranges of them, and no batch is dealt round to more streams.
    optimizer.repartition_file_scans = false;
    optimizer.enable_round_robin_repartition = false;
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
        .with_config(config)
        .build();
    SessionContext::new_with_state(state)
}

/// The most files of one day an export merges instead of sorting.
const MERGE_PARTITIONS: usize = 256;
/// Rows per batch read from each file while merging.
const MERGE_BATCH_ROWS: usize = 2048;

/// Stream a query's rows into one Parquet file named `name` under `out`, declaring `order`.
async fn write_file(
    df: DataFrame,
    out: &Location,
    name: &str,
    order: RowOrder,
    limits: &QueryLimits,
    progress: &ProgressBar,
) -> Result<(String, u64, u64)> {
    let path = out.path(name);
    let url = out.display(&path);
    let parquet_err = |source| Error::parquet(&url, source);
    let rows = limits
        .enforce(async {
            let mut stream = df.execute_stream().await?;
            let schema = plain_types(&stream.schema());
            let props = writer_properties(128 * 1024, &schema, order).map_err(parquet_err)?;
            let sink = object_store::buffered::BufWriter::new(out.store().clone(), path.clone());
            let mut writer = AsyncArrowWriter::try_new(sink, schema.clone(), Some(props))
                .map_err(parquet_err)?;
            let mut rows = 0u64;
            while let Some(batch) = stream.next().await {
                let batch = cast_to(&batch?, &schema)?;
                rows += batch.num_rows() as u64;
                writer.write(&batch).await.map_err(parquet_err)?;
                failpoint::hit(failpoint::EXPORT_WRITING)?;
                progress.set_message(format!("{url}: {rows} rows"));
            }
            writer.close().await.map_err(parquet_err)?;
            failpoint::hit(failpoint::EXPORT_FILE_WRITTEN)?;
            Ok(rows)
        })
        .await?;
    let bytes = object_store::ObjectStoreExt::head(out.store().as_ref(), &path)
        .await
        .map_err(|e| Error::storage("check", &url, e))?
        .size;
    Ok((url, rows, bytes))
}

fn progress(enabled: bool, days: Option<u64>) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(days, ProgressDrawTarget::stderr());
    let template = if days.is_some() {
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} days {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
