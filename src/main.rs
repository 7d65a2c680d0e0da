//! `cts`: the command line. A thin layer: parse, call the library, print, set the exit code.
//!
//! Exit status: 0 on success; 1 when a command fails; 2 when a load completes but some files
//! failed or some records were set aside.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use cts::archive::Archive;
use cts::compact::{CompactOptions, compact};
use cts::hot::{HOT_DIR, HotOptions, HotStore};
use cts::ingest::{IngestSummary, ingest};
use cts::load::{LoadOptions, load};
use cts::output::{Format, write_stream};
use cts::query::QueryLimits;
use cts::sample::{GenOptions, generate};
use cts::shell::ShellOptions;
use cts::source::Source;
use cts::storage::{Location, StorageOptions};
use cts::{Error, Result};

#[derive(Parser)]
#[command(
    name = "cts",
    version,
    about = "SQL over Cloud Trace Service (CTS) audit trails: load trace files from OBS/S3 or \
             local folders into a Parquet archive, then query them."
)]
struct Cli {
    /// Data directory: holds the archive unless --archive says otherwise.
    #[arg(long, global = true, env = "CTS_DATA_DIR", default_value = "cts-data")]
    data_dir: PathBuf,

    /// Archive location: a folder or a bucket URL (s3://bucket/prefix). Default: DATA_DIR/archive.
    #[arg(long, global = true, env = "CTS_ARCHIVE")]
    archive: Option<String>,

    #[command(flatten)]
    storage: StorageArgs,

    /// Memory a query may use for sorts, joins and aggregations (spilling to disk where it
    /// can), e.g. 512MB, 4GB.
    #[arg(long, global = true, default_value = "4GB", value_parser = parse_size)]
    memory_limit: usize,

    /// Seconds a query may run.
    #[arg(long, global = true)]
    query_timeout: Option<f64>,

    /// How long traces stay in the hot store before they are rolled over into the archive,
    /// e.g. 7d, 12h, 30m, 90s.
    #[arg(long, global = true, env = "CTS_RETENTION", default_value = "7d", value_parser = parse_duration)]
    retention: Duration,

    /// Segments of one day in the hot store beyond which maintenance merges them.
    #[arg(long, global = true, default_value_t = 8, hide = true)]
    max_segments_per_day: usize,

    #[command(subcommand)]
    command: Command,
}

/// S3/OBS connection options; credentials come from AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), never from flags.
#[derive(Args)]
struct StorageArgs {
    /// S3-compatible endpoint, e.g. https://obs.eu-de.otc.t-systems.com (or AWS_ENDPOINT_URL).
    #[arg(long, global = true)]
    endpoint: Option<String>,

    /// Signing region, e.g. eu-de (or AWS_REGION).
    #[arg(long, global = true)]
    region: Option<String>,

    /// Address buckets as bucket.endpoint instead of endpoint/bucket.
    #[arg(long, global = true)]
    virtual_hosted: bool,

    /// Retries of a failed storage request, with exponential backoff.
    #[arg(long, global = true, default_value_t = 10)]
    retries: usize,

    /// Seconds after which a failing storage request is not retried any more.
    #[arg(long, global = true, default_value_t = 180.0)]
    retry_timeout: f64,
}

#[derive(Subcommand)]
enum Command {
    /// Write a realistic sample bucket of CTS trace files (real layout, every format variant).
    Gen {
        /// Output folder or bucket URL.
        out: String,
        /// Distinct traces.
        #[arg(long, default_value_t = 10_000)]
        traces: u64,
        /// Days they span.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Random seed: the same seed and --end give the same bucket.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Last day (YYYY-MM-DD, UTC). Default: today.
        #[arg(long)]
        end: Option<NaiveDate>,
        /// Region in keys and traces.
        #[arg(long = "trace-region", default_value = "eu-de")]
        trace_region: String,
        /// Share of traces delivered twice, as CTS's at-least-once delivery does.
        #[arg(long, default_value_t = 0.02)]
        duplicates: f64,
        /// Write .json files instead of .json.gz.
        #[arg(long)]
        plain_json: bool,
        /// Write no digest files.
        #[arg(long)]
        no_digests: bool,
        /// Add this many stray (non-trace) objects.
        #[arg(long, default_value_t = 0)]
        stray: u32,
        /// Add this many broken trace files (truncated gzip, not JSON, not an array).
        #[arg(long, default_value_t = 0)]
        broken: u32,
    },
    /// Load trace files from a folder, a file or a bucket URL into the archive.
    Load {
        /// A folder, a trace file, or s3://bucket/prefix.
        source: String,
        /// Files read and decoded at once (default: the number of cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Read again files that failed in an earlier run though unchanged.
        #[arg(long)]
        retry_failed: bool,
        /// Also load JSON files not named like CTS trace files (exports, NDJSON).
        #[arg(long)]
        any_json: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// JSON gathered before a chunk is written, in MB (bounds memory).
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
        chunk_mb: u64,
    },
    /// Merge each archive day held in several Parquet files into one (a load writes a day in
    /// many), so that queries open fewer files; crash-safe, and queries running meanwhile see
    /// every trace once. Replaced files are deleted by a later run, after --grace-secs.
    Compact {
        /// Only days with at least this many files.
        #[arg(long, default_value_t = 2)]
        min_files: usize,
        /// Seconds replaced files are kept for queries that started before the merge.
        #[arg(long, default_value_t = 600)]
        grace_secs: u64,
    },
    /// Append traces to the hot store as they happen: JSON arrays, NDJSON or trace files
    /// (gzip or not), from files or standard input. Each append is acknowledged once durable.
    Ingest {
        /// Files to read; none or `-` reads standard input.
        files: Vec<String>,
        /// Traces per append (each one synced to disk before the next); 0: a whole input at once.
        #[arg(long, default_value_t = 0)]
        batch: usize,
        /// After each append, print `ack INPUT N`: the first N traces of INPUT are durable.
        #[arg(long)]
        print_acks: bool,
    },
    /// Flush the hot store's log, roll traces older than the retention over into the archive,
    /// merge small segments and remove unused files (ingest and load do this when they end).
    Maintain,
    /// Prebuilt compliance reports (PCI DSS Requirement 10 and more): list, run, pack.
    Report {
        #[command(subcommand)]
        action: ReportAction,
    },
    /// Export traces (a time range, a filter) or a query's result to Parquet in a folder or a
    /// bucket, one file per day or one file.
    Export {
        /// Folder or bucket URL (s3://bucket/prefix) to write into.
        #[arg(long)]
        out: String,
        /// Start of the time range (inclusive), e.g. 2024-06-01.
        #[arg(long)]
        from: Option<String>,
        /// End of the time range (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Only traces for which this SQL predicate holds, e.g. "trace_rating = 'incident'".
        #[arg(long = "where")]
        filter: Option<String>,
        /// Export this query's result instead of `traces`.
        #[arg(long)]
        query: Option<String>,
        /// `day`: one file per day in day=YYYY-MM-DD/ folders; `none`: one file.
        #[arg(long, default_value = "day", value_parser = ["day", "none"])]
        partition_by: String,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run SQL over `traces` (hot store and archive), `hot_traces` and `archive_traces`.
    Sql {
        /// The query.
        query: String,
        /// Output format: table, csv, json, ndjson, md, html.
        #[arg(long, short, default_value = "table")]
        format: Format,
    },
    /// Interactive SQL shell over traces, hot_traces and archive_traces (reads statements from
    /// stdin when it is not a terminal).
    Shell {
        /// Allow statements that create, change or copy data (CREATE, INSERT, COPY, DROP) or
        /// change settings (SET); without it the shell is read-only.
        #[arg(long)]
        write: bool,
        /// Output format at start: table, csv, json, ndjson (\format changes it).
        #[arg(long, short, default_value = "table")]
        format: Format,
    },
    /// Serve the CTS v3 API: trackers, recording of traces, the trace list, and transfer of
    /// trace files to the trackers' buckets. A project's data is in DATA_DIR/projects/<id>.
    Serve {
        /// Configuration file, JSON: listen, region, buckets, transfer_interval_seconds and
        /// tokens ({"TOKEN": "PROJECT_ID"}). Flags override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// An API token (X-Auth-Token) and the project it may act on (repeatable).
        #[arg(long = "token", value_name = "TOKEN=PROJECT_ID")]
        tokens: Vec<String>,
        /// Where trackers' buckets are: a folder holding one folder per bucket, or s3:// for
        /// the buckets of --endpoint [default: DATA_DIR/buckets].
        #[arg(long)]
        buckets: Option<String>,
        /// Time between two transfers of trace files, e.g. 5m or 30s [default: 5m].
        #[arg(long, value_parser = parse_duration)]
        transfer_interval: Option<Duration>,
        /// The region the service stands for, in trace file keys and names [default: eu-de].
        #[arg(long)]
        cts_region: Option<String>,
    },
}

#[derive(Subcommand)]
enum ReportAction {
    /// List the reports with their requirement IDs and parameters.
    List,
    /// Run one report.
    Run {
        /// The report's name (`cts report list`).
        name: String,
        /// Start of the time range (inclusive), e.g. 2024-06-01 or 2024-06-01T08:00:00Z.
        #[arg(long)]
        from: Option<String>,
        /// End of the time range (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Another parameter, as NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Output format: table, csv, json, ndjson, md, html.
        #[arg(long, short, default_value = "table")]
        format: Format,
    },
    /// Run every report over a time range into one HTML page (readable offline) and a CSV per
    /// report.
    Pack {
        /// Start of the time range (inclusive). Default: 30 days ago.
        #[arg(long)]
        from: Option<String>,
        /// End of the time range (exclusive). Default: tomorrow.
        #[arg(long)]
        to: Option<String>,
        /// Folder to write index.html and the CSV files into.
        #[arg(long)]
        out: PathBuf,
        /// Reports run at a time: while one is in a phase that uses one core (a final sort,
        /// writing its CSV), another uses the rest.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Few blocking threads: file reads, decoding and Parquet encoding run on them, and each
    // thread that allocates can take its own malloc arena.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(2 * cores)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let storage = StorageOptions {
        endpoint: cli.storage.endpoint.clone(),
        region: cli.storage.region.clone(),
        virtual_hosted_style: cli.storage.virtual_hosted,
        max_retries: Some(cli.storage.retries),
        retry_timeout: Some(Duration::from_secs_f64(cli.storage.retry_timeout.max(0.0))),
        ..Default::default()
    };
    let hot_options = HotOptions {
        retention: cli.retention,
        max_segments_per_day: cli.max_segments_per_day,
        ..Default::default()
    };
    match cli.command {
        Command::Gen {
            out,
            traces,
            days,
            seed,
            end,
            trace_region,
            duplicates,
            plain_json,
            no_digests,
            stray,
            broken,
        } => {
            let options = GenOptions {
                traces,
                days,
                seed,
                end: end.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                region: trace_region,
                duplicate_ratio: duplicates,
                gzip: !plain_json,
                digests: !no_digests,
                stray_objects: stray,
                broken_files: broken,
                ..Default::default()
            };
            let location = Location::parse(&out, &storage)?;
            let summary = write_sample(location, options).await?;
            println!(
                "wrote {} distinct traces ({} re-delivered) in {} trace files, {} digest files, \
                 {} stray objects and {} broken files to {out}",
                summary.distinct_traces,
                summary.duplicate_records,
                summary.trace_files,
                summary.digest_files,
                summary.stray_objects,
                summary.broken_files.len(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Load {
            source,
            threads,
            retry_failed,
            any_json,
            quiet,
            chunk_mb,
        } => {
            let archive = open_archive(&cli.data_dir, cli.archive.as_deref(), &storage)?;
            let source = Source::open(&source, &storage)?;
            let mut options = LoadOptions {
                retry_failed,
                any_json,
                progress: !quiet,
                chunk_json_bytes: chunk_mb << 20,
                ..Default::default()
            };
            if let Some(threads) = threads {
                options.threads = threads;
            }
            let hot = open_hot(&cli.data_dir, &archive, &hot_options).await?;
            options.hot = Some(hot.clone());
            let summary = load(&source, &archive, &options).await?;
            hot.maintain(false).await?;
            if summary.trace_files + summary.digests_skipped + summary.other_skipped == 0 {
                eprintln!(
                    "warning: no objects under {}: is the prefix right? (prefixes match whole \
                     folder names)",
                    source.location().url()
                );
            }
            print!("{summary}");
            println!("archive: {}", archive.location().url());
            Ok(if summary.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Compact {
            min_files,
            grace_secs,
        } => {
            let archive = open_archive(&cli.data_dir, cli.archive.as_deref(), &storage)?;
            let options = CompactOptions {
                min_files,
                grace: Duration::from_secs(grace_secs),
            };
            let s = compact(&archive, &options).await?;
            println!(
                "compacted {} days: {} files ({:.1} MB) into {} ({:.1} MB), {} traces; \
                 {} replaced files deleted",
                s.days,
                s.files_merged,
                s.bytes_before as f64 / 1e6,
                s.days,
                s.bytes_after as f64 / 1e6,
                s.traces,
                s.files_deleted
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            files,
            batch,
            print_acks,
        } => {
            let archive = open_archive(&cli.data_dir, cli.archive.as_deref(), &storage)?;
            let hot = open_hot(&cli.data_dir, &archive, &hot_options).await?;
            let inputs = if files.is_empty() {
                vec!["-".to_string()]
            } else {
                files
            };
            let mut summary = IngestSummary::default();
            for input in &inputs {
                let (bytes, label) = if input == "-" {
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                        .map_err(|e| Error::io("read", "standard input", e))?;
                    (bytes, "stdin".to_string())
                } else {
                    let bytes = std::fs::read(input).map_err(|e| Error::io("read", input, e))?;
                    (bytes, input.clone())
                };
                let mut on_ack = |n: usize| {
                    if print_acks {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "ack {label} {n}");
                        let _ = out.flush();
                    }
                };
                ingest(&hot, &bytes, &label, batch, &mut summary, &mut on_ack).await?;
            }
            hot.maintain(false).await?;
            print!("{summary}");
            Ok(if summary.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Maintain => {
            let archive = open_archive(&cli.data_dir, cli.archive.as_deref(), &storage)?;
            let hot = open_hot(&cli.data_dir, &archive, &hot_options).await?;
            let m = hot.maintain(true).await?;
            println!(
                "flushed {} traces; rolled {} over into the archive ({} were there already); \
                 merged {} segments; removed {} files",
                m.flushed, m.rolled_over, m.already_archived, m.segments_merged, m.files_removed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { action } => {
            let archive = open_archive(&cli.data_dir, cli.archive.as_deref(), &storage)?;
            let limits = QueryLimits {
                memory_bytes: cli.memory_limit,
                timeout: cli.query_timeout.map(Duration::from_secs_f64),
            };
            let hot = cli.data_dir.join(HOT_DIR);
            report_command(action, &archive, &hot, &limits).await
        }
        Command::Export {
            out,
            from,
            to,
            filter,
            query,
            partition_by,
            quiet,
        } => {
            let archive = open_archive(&cli.data_dir, cli.archive.as_deref(), &storage)?;
            let limits = QueryLimits {
                memory_bytes: cli.memory_limit,
                timeout: cli.query_timeout.map(Duration::from_secs_f64),
            };
            let hot = cli.data_dir.join(HOT_DIR);
            let ctx = cts::query::session_with(&archive, Some(&hot), &limits).await?;
            let target = Location::parse(&out, &storage)?;
            cts::query::register_location(&ctx, &target);
            let options = cts::export::ExportOptions {
                from,
                to,
                filter,
                query,
                partitioning: if partition_by == "none" {
                    cts::export::Partitioning::None
                } else {
                    cts::export::Partitioning::Day
                },
                progress: !quiet,
            };
            let summary = cts::export::export(&ctx, &target, &options, &limits).await?;
            let bytes: u64 = summary.files.iter().map(|f| f.2).sum();
            println!(
                "exported {} rows into {} Parquet files ({:.1} MB) in {:.2} s: {}",
                summary.rows,
                summary.files.len(),
                bytes as f64 / 1e6,
                summary.elapsed.as_secs_f64(),
                target.url()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Sql { query, format } => {
            let limits = query_limits(cli.memory_limit, cli.query_timeout);
            let ctx =
                query_session(&cli.data_dir, cli.archive.as_deref(), &storage, &limits).await?;
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
            let limits = query_limits(cli.memory_limit, cli.query_timeout);
            let ctx =
                query_session(&cli.data_dir, cli.archive.as_deref(), &storage, &limits).await?;
            let options = ShellOptions {
                write,
                format,
                history: ShellOptions::default_history(),
            };
            cts::shell::run(&ctx, &limits, options).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            config,
            listen,
            tokens,
            buckets,
            transfer_interval,
            cts_region,
        } => {
            let file = match &config {
                Some(path) => cts::serve::ConfigFile::read(path)?,
                None => cts::serve::ConfigFile::default(),
            };
            let mut all_tokens = file.tokens;
            for t in tokens {
                let (token, project) = t.split_once('=').ok_or_else(|| {
                    Error::InvalidInput(format!("--token {t:?}: write TOKEN=PROJECT_ID"))
                })?;
                all_tokens.insert(token.to_string(), project.to_string());
            }
            let interval = match (transfer_interval, file.transfer_interval_seconds) {
                (Some(d), _) => d,
                (None, Some(s)) => Duration::try_from_secs_f64(s).map_err(|e| {
                    Error::InvalidInput(format!("transfer_interval_seconds {s}: {e}"))
                })?,
                (None, None) => Duration::from_secs(300),
            };
            let default_buckets = cli.data_dir.join("buckets");
            let config = cts::serve::ServeConfig {
                listen: listen
                    .or(file.listen)
                    .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
                data_dir: cli.data_dir.clone(),
                region: cts_region
                    .or(file.region)
                    .unwrap_or_else(|| "eu-de".to_string()),
                tokens: all_tokens,
                buckets: buckets
                    .or(file.buckets)
                    .unwrap_or_else(|| default_buckets.to_string_lossy().into_owned()),
                transfer_interval: interval,
                storage,
                hot: hot_options,
                limits: query_limits(cli.memory_limit, cli.query_timeout),
            };
            let server = cts::serve::Server::open(config).await?;
            cts::serve::run(server, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Resolves at Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn report_command(
    action: ReportAction,
    archive: &Archive,
    hot: &std::path::Path,
    limits: &QueryLimits,
) -> Result<ExitCode> {
    use cts::report;
    match action {
        ReportAction::List => {
            let mut out = std::io::stdout().lock();
            for r in report::builtin()? {
                let params: Vec<&str> = r.params.iter().map(|p| p.name.as_str()).collect();
                let _ = writeln!(
                    out,
                    "{:<30} {:<28} {}  [{}]",
                    r.name,
                    r.requirements.join(", "),
                    r.title,
                    params.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportAction::Run {
            name,
            from,
            to,
            params,
            format,
        } => {
            let r = report::find(&name)?;
            let mut values = std::collections::BTreeMap::new();
            for p in &params {
                let (k, v) = p.split_once('=').ok_or_else(|| {
                    Error::InvalidInput(format!("--param {p:?}: write it as NAME=VALUE"))
                })?;
                values.insert(k.trim().to_string(), v.to_string());
            }
            if let Some(from) = from {
                values.insert("from".to_string(), from);
            }
            if let Some(to) = to {
                values.insert("to".to_string(), to);
            }
            let ctx = cts::query::session_with(archive, Some(hot), limits).await?;
            let (schema, batches) = report::run(&ctx, &r, &values, limits).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            cts::output::write_batches(&batches, schema, format, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        ReportAction::Pack {
            from,
            to,
            out,
            jobs,
        } => {
            let today = chrono::Utc::now().date_naive();
            let from = from.unwrap_or_else(|| (today - chrono::Days::new(30)).to_string());
            let to = to.unwrap_or_else(|| (today + chrono::Days::new(1)).to_string());
            let ctx = cts::query::session_with(archive, Some(hot), limits).await?;
            let started = std::time::Instant::now();
            let reports = report::builtin()?;
            let summary =
                report::pack(&ctx, &reports, &from, &to, &out, usize::from(jobs), limits).await?;
            let found: usize = summary.findings.iter().map(|(_, n)| n).sum();
            println!(
                "{} reports over {} traces from {from} to {to} in {:.2} s: {} rows of findings; {} failed",
                reports.len(),
                summary.traces,
                started.elapsed().as_secs_f64(),
                found,
                summary.failures.len()
            );
            for (name, error) in &summary.failures {
                println!("  {name}: {error}");
            }
            println!("open {}", out.join("index.html").display());
            Ok(if summary.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn query_limits(memory_bytes: usize, timeout: Option<f64>) -> QueryLimits {
    QueryLimits {
        memory_bytes,
        timeout: timeout.map(Duration::from_secs_f64),
    }
}

/// The session of `cts sql` and `cts shell`: `traces`, `hot_traces`, `archive_traces` and the
/// reports as views.
async fn query_session(
    data_dir: &std::path::Path,
    archive: Option<&str>,
    storage: &StorageOptions,
    limits: &QueryLimits,
) -> Result<datafusion::prelude::SessionContext> {
    let archive = open_archive(data_dir, archive, storage)?;
    let hot = data_dir.join(HOT_DIR);
    let ctx = cts::query::session_with(&archive, Some(&hot), limits).await?;
    cts::report::register_views(&ctx).await?;
    Ok(ctx)
}

/// `512MB`, `4GB`, `1GiB`, or a number of bytes.
fn parse_size(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim().to_ascii_uppercase();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 512MB or 4GB"))?;
    let scale: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "KIB" | "K" => 1024.0,
        "MB" | "MIB" | "M" => 1024.0 * 1024.0,
        "GB" | "GIB" | "G" => 1024.0 * 1024.0 * 1024.0,
        "TB" | "TIB" | "T" => 1024.0_f64.powi(4),
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use B, KB, MB, GB or TB"
            ));
        }
    };
    Ok((number * scale) as usize)
}

fn open_archive(
    data_dir: &std::path::Path,
    archive: Option<&str>,
    storage: &StorageOptions,
) -> Result<Archive> {
    let location = match archive {
        Some(url) => Location::parse(url, storage)?,
        None => Location::local(&data_dir.join("archive"))?,
    };
    Ok(Archive::new(location))
}

/// The hot store in the data directory, in front of `archive`.
async fn open_hot(
    data_dir: &std::path::Path,
    archive: &Archive,
    options: &HotOptions,
) -> Result<HotStore> {
    HotStore::open(&data_dir.join(HOT_DIR), archive.clone(), *options).await
}

/// `7d`, `12h`, `30m`, `90s`, `500ms`, or a number of seconds.
fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 7d, 12h or 30m"))?;
    let seconds = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 7.0 * 86_400.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s, m, h, d or w"
            ));
        }
    };
    Duration::try_from_secs_f64(number * seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// Generate a sample bucket into a folder or a bucket.
async fn write_sample(location: Location, options: GenOptions) -> Result<cts::sample::GenSummary> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut sink = |key: &str, bytes: Vec<u8>| -> std::io::Result<()> {
            let path = location.path(key);
            handle
                .block_on(location.write(&path, bytes.into()))
                .map_err(std::io::Error::other)
        };
        generate(&options, &mut sink)
            .map_err(|e| Error::InvalidInput(format!("generating the sample bucket: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("generator stopped: {e}")))?
}
