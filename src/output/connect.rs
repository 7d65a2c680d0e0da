//! `cts connect`: the statements that make `traces` a table in another engine (DuckDB, Spark,
//! Trino), over the archive's Parquet files.
//!
//! A compaction leaves the files it replaced beside the merged file for its grace period, for
//! queries that listed them before the commit; only its record (`compact-<run>.json`) says
//! which files are replaced (`cts_core::store::archive::visible`). No order of puts and deletes
//! in an object store changes several names at once, so a glob over the day folders
//! (`traces/day=*/*.parquet`) would count those days twice until the grace period ends. The
//! statements therefore name the files the visibility rule shows *now*, one by one: a snapshot,
//! exact when printed. Files a later load adds are not in it (print the statements again), and
//! a file that a later compaction deletes makes the engine fail rather than count wrongly.

use std::fmt::Write as _;

use arrow::datatypes::DataType;
use clap::ValueEnum;
use cts_core::store::archive::{Archive, TRACES_DIR};
use cts_core::trace::{col, trace_schema};

use crate::error::{Error, Result};

/// An engine that `cts connect` prints statements for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// DuckDB: a view over `read_parquet` of the files.
    Duckdb,
    /// Spark SQL: a temporary view over the files.
    Spark,
    /// Trino: a Hive-connector table over the day folders and a view keeping the files.
    Trino,
}

impl Engine {
    /// Its name, as `cts connect` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Duckdb => "duckdb",
            Engine::Spark => "spark",
            Engine::Trino => "trino",
        }
    }
}

/// Where an archive in a bucket is reached: never a secret, which engines take from the
/// environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// The endpoint URL, e.g. `https://obs.eu-de.otc.t-systems.com` (none: the engine's default).
    pub endpoint: Option<String>,
    /// The signing region, e.g. `eu-de`.
    pub region: Option<String>,
    /// Buckets addressed as `bucket.endpoint` rather than `endpoint/bucket`.
    pub virtual_hosted: bool,
}

impl S3Settings {
    /// The settings cts itself uses: the flags given, else `AWS_ENDPOINT_URL` and `AWS_REGION`
    /// (or `AWS_DEFAULT_REGION`). An endpoint's user name and password, if it has any, are
    /// dropped.
    pub fn resolve(endpoint: Option<&str>, region: Option<&str>, virtual_hosted: bool) -> Self {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .map(|e| without_user_info(&e));
        let region = region
            .map(str::to_string)
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"));
        S3Settings {
            endpoint,
            region,
            virtual_hosted,
        }
    }
}

fn without_user_info(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.as_str().trim_end_matches('/').to_string()
        }
        _ => endpoint.to_string(),
    }
}

/// The archive's visible Parquet files, as the statements name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFiles {
    /// The archive's folder or bucket, for people: `/abs/cts-data/archive` or
    /// `s3://bucket/prefix`.
    pub archive: String,
    /// Where it is: a local folder (its absolute path, without a trailing `/`), or a bucket.
    pub place: Place,
    /// The files, relative to `traces/`: `day=2024-06-29/compact-<run>.parquet`, sorted.
    pub files: Vec<String>,
    /// Days with at least one file.
    pub days: usize,
}

/// Where the archive's `traces/` folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A local folder: the absolute path of `traces/`.
    Local(String),
    /// A bucket: its name, the key prefix of `traces/` (no leading or trailing `/`), how to
    /// reach it.
    Bucket {
        /// The bucket.
        bucket: String,
        /// The key prefix of `traces/`.
        traces: String,
        /// Endpoint and region.
        settings: S3Settings,
    },
}

/// The Parquet files of `archive` that the visibility rule shows now (the files a compaction
/// replaced left out), day by day. `settings` says how engines reach an archive in a bucket.
pub async fn archive_files(archive: &Archive, settings: S3Settings) -> Result<ArchiveFiles> {
    let location = archive.location();
    let traces_key = location.path(TRACES_DIR);
    let (display, place) = match location.local_path() {
        Some(dir) => {
            let text = dir
                .to_str()
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "the archive's path {} is not UTF-8, which other engines cannot be given",
                        dir.display()
                    ))
                })?
                .trim_end_matches('/')
                .to_string();
            let traces = if traces_key.as_ref().is_empty() {
                text.clone()
            } else {
                format!("{text}/{traces_key}")
            };
            (text, Place::Local(traces))
        }
        None => {
            let bucket = location
                .root_url()
                .host_str()
                .unwrap_or_default()
                .to_string();
            let display = location.url().as_str().trim_end_matches('/').to_string();
            let place = Place::Bucket {
                bucket,
                traces: traces_key.as_ref().to_string(),
                settings,
            };
            (display, place)
        }
    };
    let prefix = format!("{traces_key}/");
    let mut files = Vec::new();
    let mut days = 0;
    for day in archive.days().await? {
        let before = files.len();
        for meta in archive.day_files(day).await? {
            let key = meta.location.as_ref();
            let relative = key.strip_prefix(&prefix).ok_or_else(|| {
                Error::internal(format!("{key} is not below the archive's {prefix}"))
            })?;
            files.push(relative.to_string());
        }
        if files.len() > before {
            days += 1;
        }
    }
    files.sort();
    Ok(ArchiveFiles {
        archive: display,
        place,
        files,
        days,
    })
}

/// The statements that make `traces` a table (a view) in `engine` over `files`: comments, then
/// statements each ending with `;` at the end of a line. `hot_from_ms`: the hot store's
/// watermark, when it holds traces the archive does not have yet.
pub fn statements(
    engine: Engine,
    files: &ArchiveFiles,
    hot_from_ms: Option<i64>,
) -> Result<String> {
    if files.files.is_empty() {
        return Err(Error::invalid(format!(
            "the archive {} holds no traces yet: load some first (cts load)",
            files.archive
        )));
    }
    let base = base_url(engine, &files.place);
    check_path(&base)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "-- cts connect {}: `traces` over the archive {},",
        engine.name(),
        files.archive
    );
    let _ = writeln!(
        out,
        "-- as cts sees it now: {} Parquet files in {} day folders. Files a compaction replaced",
        files.files.len(),
        files.days
    );
    for line in [
        "-- are left out: they stay beside the merged file for its grace period, so a glob over",
        "-- traces/day=*/*.parquet would count those days twice. Print these statements again",
        "-- after cts load, cts maintain or cts compact: files added since are not listed, and a",
        "-- listed file that a later compaction deletes makes queries fail (never count wrongly).",
    ] {
        let _ = writeln!(out, "{line}");
    }
    if let Some(ms) = hot_from_ms {
        let since = chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_else(|| ms.to_string());
        let _ = writeln!(
            out,
            "-- Traces at or after {since} are in cts's hot store, not yet in the archive."
        );
    }
    let paths: Vec<String> = files.files.iter().map(|f| format!("{base}/{f}")).collect();
    match engine {
        Engine::Duckdb => duckdb(&mut out, &files.place, &paths),
        Engine::Spark => spark(&mut out, &files.place, &base, &files.files),
        Engine::Trino => trino(&mut out, &files.place, &base, &paths),
    }
    Ok(out)
}

/// The URL (or path) of `traces/` as `engine` names it, without a trailing `/`.
fn base_url(engine: Engine, place: &Place) -> String {
    match (engine, place) {
        (Engine::Duckdb, Place::Local(path)) => path.clone(),
        (Engine::Spark, Place::Local(path)) => format!("file://{path}"),
        (Engine::Trino, Place::Local(path)) => format!("local://{path}"),
        (engine, Place::Bucket { bucket, traces, .. }) => {
            let scheme = if engine == Engine::Spark { "s3a" } else { "s3" };
            if traces.is_empty() {
                format!("{scheme}://{bucket}")
            } else {
                format!("{scheme}://{bucket}/{traces}")
            }
        }
    }
}

/// Refuse a path that the engines would read as a pattern or that would end a string literal.
fn check_path(base: &str) -> Result<()> {
    match base
        .chars()
        .find(|c| "'\"\\*?[]{},".contains(*c) || c.is_control())
    {
        Some(c) => Err(Error::invalid(format!(
            "the archive's path {base} holds {c:?}, which DuckDB and Spark read as part of a \
             pattern or a quote: move the archive (or link it) to a path without it"
        ))),
        None => Ok(()),
    }
}

fn duckdb(out: &mut String, place: &Place, paths: &[String]) {
    if let Place::Bucket {
        bucket,
        traces,
        settings,
    } = place
    {
        let _ = writeln!(
            out,
            "-- The bucket: DuckDB's httpfs and aws extensions; credentials from\n\
             -- AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in DuckDB's\n\
             -- environment.\n\
             INSTALL httpfs;\nLOAD httpfs;\nINSTALL aws;\nLOAD aws;\n\
             CREATE OR REPLACE SECRET cts_archive (\n    TYPE s3,\n    PROVIDER credential_chain,\n    \
             CHAIN 'env',\n    SCOPE 's3://{bucket}/{traces}',"
        );
        if let Some(region) = &settings.region {
            let _ = writeln!(out, "    REGION '{}',", quoted(region));
        }
        if let Some(endpoint) = &settings.endpoint {
            let (host, ssl) = match endpoint.split_once("://") {
                Some((scheme, rest)) => (rest, scheme != "http"),
                None => (endpoint.as_str(), true),
            };
            let _ = writeln!(
                out,
                "    ENDPOINT '{}',\n    USE_SSL {ssl},",
                quoted(host.trim_end_matches('/'))
            );
        }
        let style = if settings.virtual_hosted {
            "vhost"
        } else {
            "path"
        };
        let _ = writeln!(out, "    URL_STYLE '{style}'\n);");
    }
    let _ = writeln!(
        out,
        "-- `day` is text, as in cts.\nCREATE OR REPLACE VIEW traces AS\nSELECT * FROM read_parquet(["
    );
    let list: Vec<String> = paths.iter().map(|p| format!("    '{p}'")).collect();
    let _ = writeln!(out, "{}", list.join(",\n"));
    let _ = writeln!(
        out,
        "], hive_partitioning = true, hive_types = {{'{}': 'VARCHAR'}});",
        col::DAY
    );
}

fn spark(out: &mut String, place: &Place, base: &str, files: &[String]) {
    if let Place::Bucket { settings, .. } = place {
        let _ = writeln!(
            out,
            "-- The bucket: Hadoop's S3A connector (hadoop-aws of Spark's Hadoop version, e.g.\n\
             -- --packages org.apache.hadoop:hadoop-aws:<version>), Spark started with:"
        );
        if let Some(endpoint) = &settings.endpoint {
            let _ = writeln!(out, "--   --conf spark.hadoop.fs.s3a.endpoint={endpoint}");
        }
        if let Some(region) = &settings.region {
            let _ = writeln!(
                out,
                "--   --conf spark.hadoop.fs.s3a.endpoint.region={region}"
            );
        }
        let _ = writeln!(
            out,
            "--   --conf spark.hadoop.fs.s3a.path.style.access={}\n\
             -- and AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment (S3A's default\n\
             -- credentials chain reads them).",
            !settings.virtual_hosted
        );
    }
    // One path: the files as a Hadoop glob of alternatives, relative to traces/ (basePath), so
    // that `day` comes from the folder names.
    let _ = writeln!(
        out,
        "-- `day` is text, as in cts (not a date).\n\
         SET spark.sql.sources.partitionColumnTypeInference.enabled = false;\n\
         CREATE OR REPLACE TEMPORARY VIEW traces\nUSING parquet\nOPTIONS (\n    \
         path '{base}/{{{}}}',\n    basePath '{base}'\n);",
        files.join(",")
    );
}

fn trino(out: &mut String, place: &Place, base: &str, paths: &[String]) {
    let _ = writeln!(
        out,
        "-- A Hive catalog named hive (rename it here if yours is not) with a metastore, e.g.\n\
         -- hive.metastore=file, and:"
    );
    match place {
        Place::Local(_) => {
            let _ = writeln!(
                out,
                "--   fs.native-local.enabled=true\n--   local.location=/"
            );
        }
        Place::Bucket { settings, .. } => {
            let _ = writeln!(out, "--   fs.native-s3.enabled=true");
            if let Some(endpoint) = &settings.endpoint {
                let _ = writeln!(out, "--   s3.endpoint={endpoint}");
            }
            if let Some(region) = &settings.region {
                let _ = writeln!(out, "--   s3.region={region}");
            }
            let _ = writeln!(
                out,
                "--   s3.path-style-access={}\n\
                 --   s3.aws-access-key=${{ENV:AWS_ACCESS_KEY_ID}}\n\
                 --   s3.aws-secret-key=${{ENV:AWS_SECRET_ACCESS_KEY}}",
                !settings.virtual_hosted
            );
        }
    }
    let _ = writeln!(
        out,
        "-- trace_files is every file of the day folders; traces keeps the ones listed here.\n\
         CREATE SCHEMA IF NOT EXISTS hive.cts;"
    );
    let mut columns: Vec<String> = trace_schema()
        .fields()
        .iter()
        .map(|f| format!("    {} {}", f.name(), trino_type(f.data_type())))
        .collect();
    columns.push(format!("    {} varchar", col::DAY));
    let _ = writeln!(
        out,
        "CREATE TABLE IF NOT EXISTS hive.cts.trace_files (\n{}\n) WITH (\n    \
         external_location = '{base}',\n    format = 'PARQUET',\n    \
         partitioned_by = ARRAY['{}']\n);",
        columns.join(",\n"),
        col::DAY
    );
    let _ = writeln!(
        out,
        "CALL hive.system.sync_partition_metadata('cts', 'trace_files', 'FULL');\n\
         CREATE OR REPLACE VIEW hive.cts.traces AS\nSELECT * FROM hive.cts.trace_files WHERE \"$path\" IN ("
    );
    let list: Vec<String> = paths.iter().map(|p| format!("    '{p}'")).collect();
    let _ = writeln!(out, "{}\n);", list.join(",\n"));
}

/// The Trino type of an archive column (`time` and `record_time` are UTC).
fn trino_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "boolean".to_string(),
        DataType::Int64 => "bigint".to_string(),
        DataType::Int32 => "integer".to_string(),
        DataType::Timestamp(_, _) => "timestamp(3)".to_string(),
        DataType::List(item) => format!("array({})", trino_type(item.data_type())),
        _ => "varchar".to_string(),
    }
}

/// `text` inside a SQL string literal.
fn quoted(text: &str) -> String {
    text.replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> ArchiveFiles {
        ArchiveFiles {
            archive: "/data/archive".to_string(),
            place: Place::Local("/data/archive/traces".to_string()),
            files: vec![
                "day=2024-06-29/compact-1.parquet".to_string(),
                "day=2024-06-30/part-2-0.parquet".to_string(),
            ],
            days: 2,
        }
    }

    fn bucket() -> ArchiveFiles {
        ArchiveFiles {
            archive: "s3://arch/cts".to_string(),
            place: Place::Bucket {
                bucket: "arch".to_string(),
                traces: "cts/traces".to_string(),
                settings: S3Settings {
                    endpoint: Some("http://127.0.0.1:8333".to_string()),
                    region: Some("eu-de".to_string()),
                    virtual_hosted: false,
                },
            },
            files: vec!["day=2024-06-29/compact-1.parquet".to_string()],
            days: 1,
        }
    }

    /// The statements without their comment lines.
    fn code(text: &str) -> String {
        text.lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn duckdb_reads_the_listed_files_with_day_as_text() {
        let text = statements(Engine::Duckdb, &local(), None).expect("statements");
        assert_eq!(
            code(&text),
            "CREATE OR REPLACE VIEW traces AS\n\
             SELECT * FROM read_parquet([\n    \
             '/data/archive/traces/day=2024-06-29/compact-1.parquet',\n    \
             '/data/archive/traces/day=2024-06-30/part-2-0.parquet'\n\
             ], hive_partitioning = true, hive_types = {'day': 'VARCHAR'});"
        );
    }

    #[test]
    fn spark_reads_the_listed_files_as_one_glob_below_the_base_path() {
        let text = statements(Engine::Spark, &local(), Some(0)).expect("statements");
        assert_eq!(
            code(&text),
            "SET spark.sql.sources.partitionColumnTypeInference.enabled = false;\n\
             CREATE OR REPLACE TEMPORARY VIEW traces\nUSING parquet\nOPTIONS (\n    \
             path 'file:///data/archive/traces/{day=2024-06-29/compact-1.parquet,day=2024-06-30/part-2-0.parquet}',\n    \
             basePath 'file:///data/archive/traces'\n);"
        );
        assert!(
            text.contains("-- Traces at or after 1970-01-01T00:00:00.000Z are in cts's hot store"),
            "{text}"
        );
    }

    #[test]
    fn trino_keeps_the_listed_files_of_a_table_over_the_day_folders() {
        let text = statements(Engine::Trino, &bucket(), None).expect("statements");
        for expected in [
            "    time timestamp(3),",
            "    invoked_by array(varchar),",
            "    day varchar\n) WITH (\n    external_location = 's3://arch/cts/traces',",
            "SELECT * FROM hive.cts.trace_files WHERE \"$path\" IN (\n    \
             's3://arch/cts/traces/day=2024-06-29/compact-1.parquet'\n);",
            "--   s3.endpoint=http://127.0.0.1:8333\n--   s3.region=eu-de\n--   s3.path-style-access=true\n",
            "--   s3.aws-secret-key=${ENV:AWS_SECRET_ACCESS_KEY}",
        ] {
            assert!(text.contains(expected), "{expected}\nin\n{text}");
        }
    }

    #[test]
    fn a_bucket_gets_the_engines_s3_settings_and_credentials_from_the_environment() {
        let text = statements(Engine::Duckdb, &bucket(), None).expect("statements");
        assert!(
            text.contains(
                "CREATE OR REPLACE SECRET cts_archive (\n    TYPE s3,\n    \
                 PROVIDER credential_chain,\n    CHAIN 'env',\n    SCOPE 's3://arch/cts/traces',\n    \
                 REGION 'eu-de',\n    ENDPOINT '127.0.0.1:8333',\n    USE_SSL false,\n    \
                 URL_STYLE 'path'\n);"
            ),
            "{text}"
        );
        assert!(text.contains("'s3://arch/cts/traces/day=2024-06-29/compact-1.parquet'"));
        let text = statements(Engine::Spark, &bucket(), None).expect("statements");
        assert!(
            text.contains(
                "--   --conf spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:8333\n\
                 --   --conf spark.hadoop.fs.s3a.endpoint.region=eu-de\n\
                 --   --conf spark.hadoop.fs.s3a.path.style.access=true\n"
            ),
            "{text}"
        );
        assert!(text.contains("path 's3a://arch/cts/traces/{day=2024-06-29/compact-1.parquet}'"));
    }

    #[test]
    fn an_endpoints_user_and_password_are_never_printed() {
        let settings = S3Settings::resolve(Some("https://ak:sk@obs.example.com/"), None, false);
        assert_eq!(
            settings.endpoint.as_deref(),
            Some("https://obs.example.com")
        );
    }

    #[test]
    fn an_empty_archive_and_a_path_with_pattern_characters_are_refused() {
        let mut files = local();
        files.place = Place::Local("/data/[x]/traces".to_string());
        let error = statements(Engine::Duckdb, &files, None).expect_err("refused");
        assert!(error.to_string().contains("holds '['"), "{error}");
        files.files.clear();
        let error = statements(Engine::Spark, &files, None).expect_err("refused");
        assert!(error.to_string().contains("holds no traces yet"), "{error}");
    }
}
