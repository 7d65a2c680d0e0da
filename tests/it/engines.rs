//! Other engines read the archive through the statements `cts connect` prints: DuckDB and Spark
//! (`local[2]` on 127.0.0.1), installed by the tests' set-up (`scripts/test.sh`:
//! `CTS_ENGINES_PYTHON`, and Java from Debian's packages), count the traces of each day and
//! rating as cts does and as the bucket holds them, while a compaction's grace period keeps the
//! files it replaced beside the merged ones, and after the next compaction deletes them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::cli::cts;
use crate::common::parquet_files;
use crate::common::truth::{BucketTruth, rating, time_ms};

/// Traces per (day, rating).
type Counts = BTreeMap<(String, Option<String>), u64>;

const QUERY: &str = "SELECT day, trace_rating, count(*) AS n FROM traces \
                     GROUP BY day, trace_rating ORDER BY 1, 2";

/// Say on the terminal, past the test harness's capture: a skip must never be silent.
fn announce(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// The Python DuckDB and pyspark are installed in, or `None` (the reason printed) when the
/// set-up could not install them. A Python given that cannot import them fails the test.
fn engines_python() -> Option<String> {
    match std::env::var("CTS_ENGINES_PYTHON") {
        Ok(python) if !python.is_empty() => {
            let out = Command::new(&python)
                .args(["-c", "import duckdb, pyspark"])
                .output()
                .unwrap_or_else(|e| panic!("CTS_ENGINES_PYTHON={python} does not run: {e}"));
            assert!(
                out.status.success(),
                "CTS_ENGINES_PYTHON={python} cannot import duckdb and pyspark: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(python)
        }
        _ => match std::env::var("CTS_ENGINES_SKIP") {
            Ok(reason) if !reason.is_empty() => {
                announce(&format!(
                    "SKIPPED engines (DuckDB and Spark read the archive): {reason}"
                ));
                None
            }
            _ => panic!(
                "CTS_ENGINES_PYTHON is not set: run the tests with scripts/test.sh, which installs \
                 DuckDB and pyspark (tests/engines/requirements.txt) into a venv and Java for Spark"
            ),
        },
    }
}

/// `None` when Spark can run; else why not (printed), as the set-up found it.
fn spark_skipped() -> Option<String> {
    let reason = std::env::var("CTS_SPARK_SKIP")
        .ok()
        .filter(|r| !r.is_empty())?;
    announce(&format!("SKIPPED Spark (reads the archive): {reason}"));
    Some(reason)
}

/// Gather a generated bucket into `bucket` and load it into `data`, a chunk of JSON at a time,
/// so that each day is written in several files.
fn gen_and_load(data: &Path, bucket: &Path, traces: &str, seed: &str) {
    let made = cts(data)
        .arg("gen")
        .arg(bucket)
        .args(["--traces", traces, "--days", "4", "--seed", seed])
        .args(["--end", "2024-06-30", "--duplicates", "0.05"])
        .output()
        .expect("gen");
    assert!(made.status.success(), "{made:?}");
    let loaded = cts(data)
        .args(["load", "-q", "--chunk-mb", "1"])
        .arg(bucket)
        .output()
        .expect("load");
    assert!(loaded.status.success(), "{loaded:?}");
}

/// `cts compact --grace-secs S`: how many days it merged.
fn compact(data: &Path, grace_secs: &str) -> u64 {
    let out = cts(data)
        .args(["compact", "--grace-secs", grace_secs])
        .output()
        .expect("compact");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    text.strip_prefix("compacted ")
        .and_then(|t| t.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

/// What `cts connect ENGINE` prints, written to a file.
fn connect(data: &Path, engine: &str, dir: &Path, name: &str) -> PathBuf {
    let out = cts(data)
        .args(["connect", engine])
        .output()
        .expect("connect");
    assert!(out.status.success(), "{out:?}");
    let path = dir.join(name);
    std::fs::write(&path, &out.stdout).expect("write statements");
    path
}

/// The counts `tests/engines/counts.py` prints for `engine` after running `statements`.
fn engine_counts(python: &str, engine: &str, statements: &Path) -> Result<Counts, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines/counts.py");
    let out = Command::new(python)
        .arg(script)
        .arg(engine)
        .arg(statements)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .expect("run python");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut counts = Counts::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (day, rating, n): (String, Option<String>, u64) =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        counts.insert((day, rating), n);
    }
    Ok(counts)
}

/// The counts `cts sql` gives.
fn cts_counts(data: &Path) -> Counts {
    let out = cts(data)
        .args(["sql", QUERY, "--format", "ndjson"])
        .output()
        .expect("sql");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let row: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let day = row["day"].as_str().expect("day").to_string();
            let rating = row["trace_rating"].as_str().map(str::to_string);
            ((day, rating), row["n"].as_u64().expect("n"))
        })
        .collect()
}

/// The counts of the distinct traces the buckets under `buckets` hold, read without cts.
fn true_counts(buckets: &Path) -> Counts {
    let truth = BucketTruth::read(buckets);
    let keys = truth.count_by(|t| {
        let day = chrono::DateTime::from_timestamp_millis(time_ms(t))?.date_naive();
        Some(format!("{day}\t{}", rating(t).unwrap_or_default()))
    });
    keys.into_iter()
        .map(|(key, n)| {
            let (day, rating) = key.split_once('\t').expect("day and rating");
            let rating = (!rating.is_empty()).then(|| rating.to_string());
            ((day.to_string(), rating), n)
        })
        .collect()
}

/// The compaction records in the day folders, and the files a glob over them would read, with
/// their rows.
fn day_folders(archive: &Path) -> (usize, i64) {
    let records = std::fs::read_dir(archive.join("traces"))
        .expect("traces")
        .flatten()
        .flat_map(|day| std::fs::read_dir(day.path()).expect("day").flatten())
        .filter(|f| {
            let name = f.file_name().to_string_lossy().into_owned();
            name.starts_with("compact-") && name.ends_with(".json")
        })
        .count();
    let rows = parquet_files(&archive.join("traces"))
        .iter()
        .map(|f| f.1)
        .sum();
    (records, rows)
}

#[test]
fn duckdb_and_spark_count_each_day_once_as_cts_does_during_and_after_a_compactions_grace() {
    let Some(python) = engines_python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let buckets = dir.path().join("buckets");
    let data = dir.path().join("data");
    let archive = data.join("archive");

    // A load, a compaction (its replaced files kept for 10 minutes), another load into the same
    // days: each day folder holds replaced parts, a merged file and new parts.
    gen_and_load(&data, &buckets.join("first"), "6000", "11");
    assert!(compact(&data, "600") >= 1);
    gen_and_load(&data, &buckets.join("second"), "2000", "12");
    let truth = true_counts(&buckets);
    let total: u64 = truth.values().sum();
    assert_eq!(total, 8000);
    assert_eq!(truth.keys().filter(|(_, r)| r.is_none()).count(), 0);
    let (records, glob_rows) = day_folders(&archive);
    assert!(records >= 1);
    assert!(
        glob_rows > total as i64,
        "a glob over the day folders would read {glob_rows} rows, not more than the {total} traces"
    );
    assert_eq!(cts_counts(&data), truth, "cts sql");

    let duckdb = connect(&data, "duckdb", dir.path(), "duckdb.sql");
    assert_eq!(
        engine_counts(&python, "duckdb", &duckdb).unwrap_or_else(|e| panic!("duckdb: {e}")),
        truth,
        "DuckDB during the grace period"
    );
    if spark_skipped().is_none() {
        let spark = connect(&data, "spark", dir.path(), "spark.sql");
        assert_eq!(
            engine_counts(&python, "spark", &spark).unwrap_or_else(|e| panic!("spark: {e}")),
            truth,
            "Spark during the grace period"
        );
    }

    // The next compaction, with no grace: the parts replaced first are deleted, and each day
    // merged again; the files it replaced wait for the run after. Statements printed before
    // still name files that hold each trace once; printed again, they name the new ones.
    assert!(compact(&data, "0") >= 1);
    let stale = engine_counts(&python, "duckdb", &duckdb).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stale, truth,
        "DuckDB, statements printed before the compaction"
    );
    let fresh = connect(&data, "duckdb", dir.path(), "duckdb-after.sql");
    assert_eq!(
        engine_counts(&python, "duckdb", &fresh).unwrap_or_else(|e| panic!("duckdb: {e}")),
        truth,
        "DuckDB after the compaction"
    );
    // The run after deletes them: the statements printed first fail (they never count wrong),
    // and each day folder holds its one merged file, which a glob reads right too.
    compact(&data, "0");
    let stale = engine_counts(&python, "duckdb", &duckdb).expect_err("stale statements fail");
    assert!(
        stale.contains("No files found") || stale.contains("No such file"),
        "{stale}"
    );
    assert_eq!(day_folders(&archive).1, total as i64);
    assert_eq!(
        engine_counts(&python, "duckdb", &fresh).unwrap_or_else(|e| panic!("duckdb: {e}")),
        truth,
        "DuckDB after the compactions"
    );
    assert_eq!(cts_counts(&data), truth, "cts sql after the compactions");
}

#[test]
fn connect_names_only_absolute_paths_of_files_cts_reads_and_refuses_an_empty_archive() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let empty = cts(&data)
        .args(["connect", "duckdb"])
        .output()
        .expect("connect");
    assert_eq!(empty.status.code(), Some(1), "{empty:?}");
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("holds no traces yet"),
        "{empty:?}"
    );

    gen_and_load(&data, &dir.path().join("bucket"), "6000", "13");
    compact(&data, "600");
    let archive = std::fs::canonicalize(data.join("archive")).expect("archive");
    let text =
        std::fs::read_to_string(connect(&data, "duckdb", dir.path(), "d.sql")).expect("read");
    let listed: BTreeSet<PathBuf> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix('\''))
        .map(|l| PathBuf::from(l.trim_end_matches(',').trim_end_matches('\'')))
        .collect();
    // The files the records name as replaced, read here without cts.
    let traces = archive.join("traces");
    let mut replaced = BTreeSet::new();
    let mut all = BTreeSet::new();
    for day in std::fs::read_dir(&traces).expect("traces").flatten() {
        for file in std::fs::read_dir(day.path()).expect("day").flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.starts_with("compact-") && name.ends_with(".json") {
                let record: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(file.path()).expect("record"))
                        .expect("a record");
                for part in record["parts"].as_array().expect("parts") {
                    replaced.insert(day.path().join(part.as_str().expect("a name")));
                }
            } else if name.ends_with(".parquet") {
                all.insert(file.path());
            }
        }
    }
    // Absolute paths of every file but those replaced, which are still there.
    assert!(!replaced.is_empty());
    assert!(replaced.iter().all(|p| p.is_file()), "{replaced:?}");
    assert!(listed.iter().all(|p| p.is_absolute()), "{text}");
    let expected: BTreeSet<PathBuf> = all.difference(&replaced).cloned().collect();
    assert_eq!(listed, expected, "{text}");
}

#[test]
fn an_archive_in_a_bucket_gets_the_engines_s3_settings_and_never_its_keys() {
    use cts_core::storage::Location;
    use cts_testkit::{ACCESS_KEY, SECRET_KEY, SeaweedFs, block_on};
    let server = SeaweedFs::start();
    let endpoint = server.endpoint.clone();
    // SeaweedFS makes a bucket with its first object.
    block_on(async {
        let bucket = Location::parse("s3://cts-connect", &server.options()).expect("bucket");
        bucket
            .write(&bucket.path("README.txt"), "an archive".into())
            .await
            .expect("create the bucket")
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let archive = "s3://cts-connect/archive";
    let bucket = dir.path().join("bucket");
    let made = cts(&data)
        .arg("gen")
        .arg(&bucket)
        .args(["--traces", "500", "--days", "2", "--end", "2024-06-30"])
        .output()
        .expect("gen");
    assert!(made.status.success(), "{made:?}");
    let run = |args: &[&str]| {
        let out = cts(&data)
            .args([
                "--archive",
                archive,
                "--endpoint",
                &endpoint,
                "--region",
                "us-east-1",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .output()
            .expect("cts");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["load", "-q", &bucket.to_string_lossy()]);
    let host = endpoint.trim_start_matches("http://");
    for (engine, expected) in [
        (
            "duckdb",
            vec![
                format!(
                    "    SCOPE 's3://cts-connect/archive/traces',\n    REGION 'us-east-1',\n    ENDPOINT '{host}',\n    USE_SSL false,\n    URL_STYLE 'path'\n);"
                ),
                "    's3://cts-connect/archive/traces/day=2024-06-29/part-".to_string(),
            ],
        ),
        (
            "spark",
            vec![
                format!("--   --conf spark.hadoop.fs.s3a.endpoint={endpoint}\n"),
                "    path 's3a://cts-connect/archive/traces/{day=2024-06-29/part-".to_string(),
            ],
        ),
        (
            "trino",
            vec![
                format!("--   s3.endpoint={endpoint}\n--   s3.region=us-east-1\n"),
                "    external_location = 's3://cts-connect/archive/traces',".to_string(),
            ],
        ),
    ] {
        let text = run(&["connect", engine]);
        for e in expected {
            assert!(text.contains(&e), "{engine}: {e}\nin\n{text}");
        }
        assert!(
            !text.contains(SECRET_KEY),
            "{engine} printed the secret key:\n{text}"
        );
        assert!(
            !text.contains(ACCESS_KEY),
            "{engine} printed the access key:\n{text}"
        );
    }
}
