//! The command line's arguments: every command, flag and default, as clap parses them.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use cts::output::Format;
use cts::output::connect::Engine;
use cts::output::export::Partitioning;

#[derive(Debug, Parser)]
#[command(
    name = "cts",
    version,
    about = "SQL over Cloud Trace Service (CTS) audit trails: load trace files from OBS/S3 or \
             local folders into a Parquet archive, then query them."
)]
pub(crate) struct Cli {
    /// Data directory: holds the archive unless --archive says otherwise.
    #[arg(long, global = true, env = "CTS_DATA_DIR", default_value = "cts-data")]
    pub(crate) data_dir: PathBuf,

    /// Archive location: a folder or a bucket URL (s3://bucket/prefix). Default: DATA_DIR/archive.
    #[arg(long, global = true, env = "CTS_ARCHIVE")]
    pub(crate) archive: Option<String>,

    #[command(flatten)]
    pub(crate) storage: StorageArgs,

    /// Memory a query may use for sorts, joins and aggregations (spilling to disk where it
    /// can), e.g. 512MB, 4GB.
    #[arg(long, global = true, default_value = "4GB", value_parser = parse_size)]
    pub(crate) memory_limit: usize,

    /// Seconds a query may run.
    #[arg(long, global = true)]
    pub(crate) query_timeout: Option<f64>,

    /// How long traces stay in the hot store before they are rolled over into the archive,
    /// e.g. 7d, 12h, 30m, 90s.
    #[arg(long, global = true, env = "CTS_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub(crate) retention: Duration,

    /// Segments of one day in the hot store beyond which maintenance merges them.
    #[arg(long, global = true, default_value_t = 8, hide = true)]
    pub(crate) max_segments_per_day: usize,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// S3/OBS connection options; credentials come from AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), never from flags.
#[derive(Debug, Args)]
pub(crate) struct StorageArgs {
    /// S3-compatible endpoint, e.g. https://obs.eu-de.otc.t-systems.com (or AWS_ENDPOINT_URL).
    #[arg(long, global = true)]
    pub(crate) endpoint: Option<String>,

    /// Signing region, e.g. eu-de (or AWS_REGION).
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,

    /// Address buckets as bucket.endpoint instead of endpoint/bucket.
    #[arg(long, global = true)]
    pub(crate) virtual_hosted: bool,

    /// Retries of a failed storage request, with exponential backoff.
    #[arg(long, global = true, default_value_t = 10)]
    pub(crate) retries: usize,

    /// Seconds after which a failing storage request is not retried any more.
    #[arg(long, global = true, default_value_t = 180.0)]
    pub(crate) retry_timeout: f64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
        /// Where to write the public key the sample's digests are signed with [default:
        /// OUT.public-key.pem beside a folder, sample-public-key.pem for a bucket].
        #[arg(long)]
        public_key_out: Option<PathBuf>,
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
        /// Check each file against the source's digest chains (as `cts verify` does) and record
        /// what was found in the manifest (the `trace_files` table); `--verify=strict` loads
        /// only the traces of verified files. Exit status 3 when anything is not verified.
        #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "on")]
        verify: Option<VerifyMode>,
        /// With --verify: the key the digests are signed with, PEM or base64 DER (default:
        /// CTS's).
        #[arg(long, requires = "verify")]
        public_key: Option<PathBuf>,
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
    /// Run a Ballista scheduler or executor from this binary, with cts's functions and the
    /// archive's store (--archive: a folder every process reaches at the same path, or a bucket
    /// with the same AWS_* settings and --endpoint). `--cluster df://HOST:PORT` on sql, report
    /// run, report pack and export then runs them there, over the archive only.
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
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
        #[arg(long, value_enum, default_value_t = Partitioning::Day)]
        partition_by: Partitioning,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Write a signed manifest of every file (SHA-256, rows), which `cts verify OUT` checks.
        #[arg(long)]
        sign: bool,
        /// With --sign: the key (PKCS#8 PEM, from `cts keygen`); default DATA_DIR/signing-key.pem,
        /// made on first use with its public half beside it.
        #[arg(long, requires = "sign")]
        signing_key: Option<PathBuf>,
        #[command(flatten)]
        cluster: ClusterArg,
    },
    /// Print the statements that make `traces` a table (a view) over the archive in DuckDB,
    /// Spark SQL or Trino: the Parquet files cts reads now, without those a compaction replaced
    /// (run it again after a load or a compaction).
    Connect {
        /// The engine: duckdb, spark, trino.
        engine: Engine,
    },
    /// Run SQL over `traces` (hot store and archive), `hot_traces` and `archive_traces`.
    Sql {
        /// The query.
        query: String,
        /// Output format: table, csv, json, ndjson, md, html.
        #[arg(long, short, default_value = "table")]
        format: Format,
        #[command(flatten)]
        cluster: ClusterArg,
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
        /// Configuration file, JSON: listen, region, buckets, transfer_interval_seconds, tokens
        /// ({"TOKEN": "PROJECT_ID"}), credentials ({"AK": {"secret": "SK", "project_id": ...}}),
        /// users ([{"name", "password" (from hash-password), "domain", "project_id"}]),
        /// token_lifetime_seconds, keystone, projects, public_url, topics, signing_key. Flags
        /// override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// An API token (X-Auth-Token) and the project it may act on (repeatable).
        #[arg(long = "token", value_name = "TOKEN=PROJECT_ID")]
        tokens: Vec<String>,
        /// An access key, its secret key and the project they may act on, for requests signed
        /// as Huawei's SDKs sign them (repeatable). The command line is visible to other users
        /// of the machine: prefer "credentials" in --config.
        #[arg(long = "credential", value_name = "AK:SK=PROJECT_ID")]
        credentials: Vec<String>,
        /// An existing Keystone's identity v3 URL (as auth_url in clouds.yaml), to validate
        /// tokens this server did not issue.
        #[arg(long)]
        keystone: Option<String>,
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
        /// The private key (PKCS#8 PEM, from `cts keygen`) that signs the digest files of
        /// trackers with is_support_validate [default: DATA_DIR/signing-key.pem, made on first
        /// use, its public half beside it in signing-key.pub.pem].
        #[arg(long)]
        signing_key: Option<PathBuf>,
        /// The period each digest file covers: CTS's is one hour; shorter to try it out (whole
        /// seconds, from 1s to 1d: digest keys name seconds).
        #[arg(long, value_parser = parse_digest_interval, default_value = "1h")]
        digest_interval: Duration,
    },
    /// The console over the local data directory (or --archive), in a browser: search and view
    /// traces, charts, reports, SQL. No sign-in, so it listens on a loopback address only.
    Ui {
        /// Address to listen on (loopback only).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
    },
    /// Read a password from standard input (its first line) and print its salted hash, for
    /// "users" in the configuration of `cts serve`.
    HashPassword,
    /// Verify trace files against their digest chains (CTS's `is_support_validate`): every
    /// digest's signature and place in its chain, every listed trace file's hash, and trace
    /// files no digest lists. Prints the problems (or, with --by-hour, counts per folder and
    /// hour) and a summary line; exit status 0 only when everything verified, 3 when not.
    Verify {
        /// A folder, a trace bucket's digest or trace file, or s3://bucket/prefix.
        source: String,
        /// The key the digests are signed with: PEM, or base64 DER [default: CTS's published key].
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// Only hours ending after this time, e.g. 2024-06-01 or 2024-06-01T08:00:00Z.
        #[arg(long)]
        from: Option<String>,
        /// Only hours starting before this time.
        #[arg(long)]
        to: Option<String>,
        /// Only this tracker's folders.
        #[arg(long)]
        tracker: Option<String>,
        /// Only this service's folders (e.g. ECS).
        #[arg(long)]
        service: Option<String>,
        /// Counts per tracker, service and hour rather than the problems one by one.
        #[arg(long)]
        by_hour: bool,
        /// Objects read at once.
        #[arg(long, default_value_t = 32)]
        threads: usize,
        /// Output format: table, csv, json, ndjson, md, html.
        #[arg(long, short, default_value = "table")]
        format: Format,
    },
    /// Write a new RSA-2048 key pair for signing digests (`cts serve --signing-key`):
    /// PREFIX.pem (private, PKCS#8, readable by its owner only) and PREFIX.pub.pem (public).
    Keygen {
        /// Where to write, without the extension.
        prefix: PathBuf,
    },
    /// Key-event notifications of the data directory (a project's folder of `cts serve`:
    /// --data-dir DATA_DIR/projects/<id>).
    Notifications {
        #[command(subcommand)]
        action: NotificationAction,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NotificationAction {
    /// The notifications: name, type, status, topic.
    List,
    /// The traces already stored (hot store and archive) that notification NAME would have
    /// fired, oldest first, one JSON object per line; how many on standard error.
    Replay {
        /// The notification's name.
        name: String,
        /// Start of the time range (inclusive), e.g. 2024-06-01 or 2024-06-01T08:00:00Z.
        #[arg(long)]
        from: String,
        /// End of the time range (exclusive) [default: now].
        #[arg(long)]
        to: Option<String>,
    },
    /// Put a test message of notification NAME in the outbox: the cts serve of this project
    /// sends it to the notification's topic within a second.
    Test {
        /// The notification's name.
        name: String,
    },
}

/// `--cluster`: where a query command runs.
#[derive(Debug, Clone, Args)]
pub(crate) struct ClusterArg {
    /// Run on the Ballista cluster whose scheduler is at df://HOST:PORT (`cts cluster
    /// scheduler`). It sees the archive only: the hot store stays on this machine, and a query
    /// that names hot_traces is refused.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub(crate) cluster: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterAction {
    /// Run a Ballista scheduler: clients send it queries, it plans them over the archive and
    /// hands their tasks to executors. Runs until stopped.
    Scheduler {
        /// Address to listen on for clients and executors.
        #[arg(long, default_value = "127.0.0.1:50050")]
        listen: String,
        /// Host name executors and clients reach it by [default: the address it listens on].
        #[arg(long)]
        external_host: Option<String>,
        /// Seconds without a heartbeat after which an executor is taken for dead and its tasks
        /// run on the others.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
        executor_timeout: u64,
    },
    /// Run a Ballista executor: it runs the tasks the scheduler gives it, reading the archive
    /// itself. Runs until stopped.
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Host name the scheduler and the other executors reach it by [default: --bind].
        #[arg(long)]
        external_host: Option<String>,
        /// Arrow Flight port: results and shuffled data are fetched there.
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port [default: --port + 1].
        #[arg(long)]
        grpc_port: Option<u16>,
        /// Tasks at a time [default: one per core].
        #[arg(long, default_value_t = 0)]
        concurrency: usize,
        /// Folder for shuffle files and spills [default: DATA_DIR/cluster/executor-PORT].
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Seconds between heartbeats to the scheduler (below its --executor-timeout).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
        heartbeat: u64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReportAction {
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
        #[command(flatten)]
        cluster: ClusterArg,
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
        #[command(flatten)]
        cluster: ClusterArg,
    },
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

/// A duration as people write it (`7d`, `12h`, `30m`, `90s`, `500ms`, `1h 30m`), or a bare number
/// of seconds.
fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    if let Ok(seconds) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("{text:?} is not a duration such as 7d, 12h, 30m, 90s or a number of seconds: {e}")
    })
}

/// A digest period: whole seconds, from one second to one day.
fn parse_digest_interval(text: &str) -> std::result::Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.subsec_nanos() != 0 || d < Duration::from_secs(1) || d > Duration::from_secs(86_400) {
        return Err(format!(
            "{text:?}: a digest period is whole seconds, from 1s to 1d"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_periods_are_whole_seconds_up_to_a_day() {
        assert_eq!(parse_digest_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_digest_interval("1h"), Ok(Duration::from_secs(3_600)));
        for bad in ["500ms", "1.5", "2d", "0"] {
            assert!(parse_digest_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_with_units_or_bare_seconds() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2_500)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(parse_size("200KB"), Ok(200 * 1024));
        assert_eq!(parse_size("4GB"), Ok(4 << 30));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("4XB").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// How `cts load --verify` treats files that are not verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VerifyMode {
    /// Load them, and record what was found.
    On,
    /// Do not load their traces (recorded as failed; files whose hour's digest is still to come
    /// are left for a later load).
    Strict,
}
