//! The `cts` binary, as a user runs it: exit codes, the load summary, query output.

use std::process::{Command, Output};

fn cts(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cts"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run cts")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn gen_load_query_with_broken_files_exit_codes_and_csv_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket");
    let bucket_arg = bucket.to_string_lossy().into_owned();
    let data = dir.path().join("data");

    let made = cts(
        &data,
        &[
            "gen",
            &bucket_arg,
            "--traces",
            "500",
            "--days",
            "2",
            "--seed",
            "5",
            "--end",
            "2024-06-30",
            "--broken",
            "2",
            "--stray",
            "1",
        ],
    );
    assert!(made.status.success(), "{made:?}");
    let made_out = stdout(&made);
    assert!(
        made_out.starts_with("wrote 500 distinct traces ("),
        "{made_out}"
    );
    assert!(
        made_out.contains("1 stray objects and 2 broken files"),
        "{made_out}"
    );

    // Broken files: the load completes, names them, and exits with status 2.
    let first = cts(&data, &["load", &bucket_arg, "--quiet"]);
    let out = stdout(&first);
    assert_eq!(first.status.code(), Some(2), "{out}");
    assert!(out.starts_with("loaded 500 traces from "), "{out}");
    assert!(out.contains("  failed: 2 files\n"), "{out}");
    assert_eq!(out.matches("_CloudTrace_eu-de_").count(), 2, "{out}");
    assert!(out.contains(": broken gzip data: "), "{out}");
    assert!(out.contains(": invalid JSON: "), "{out}");
    assert!(out.contains("1 other objects"), "{out}");

    // Nothing new: exit 0, the earlier failures mentioned, not repeated.
    let second = cts(&data, &["load", &bucket_arg, "--quiet"]);
    let out = stdout(&second);
    assert_eq!(second.status.code(), Some(0), "{out}");
    assert!(out.starts_with("loaded 0 traces from 0 files"), "{out}");
    assert!(
        out.contains("2 files failed in earlier runs and are unchanged"),
        "{out}"
    );

    let query = cts(
        &data,
        &[
            "sql",
            "SELECT count(*) AS n, count(DISTINCT trace_id) AS ids, min(day) AS first, max(day) AS last FROM traces",
            "--format",
            "csv",
        ],
    );
    assert!(query.status.success(), "{query:?}");
    assert_eq!(
        stdout(&query),
        "n,ids,first,last\n500,500,2024-06-29,2024-06-30\n"
    );

    let json = cts(
        &data,
        &["sql", "SELECT 1 AS one WHERE false", "--format", "json"],
    );
    assert_eq!(stdout(&json), "[]\n");
}

#[test]
fn errors_say_what_failed_and_exit_with_status_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let missing = dir.path().join("no-such-bucket");
    let o = cts(&data, &["load", &missing.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no-such-bucket") && err.contains("no such file or folder"),
        "{err}"
    );

    let o = cts(&data, &["sql", "SELECT no_such_column FROM traces"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: query failed: ") && err.contains("no_such_column"),
        "{err}"
    );
}

#[test]
fn exported_files_load_directly_or_with_any_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).expect("folder");
    let ndjson = exports.join("last-week.ndjson");
    std::fs::write(
        &ndjson,
        "{\"trace_id\":\"n1\",\"time\":1719745200000,\"trace_name\":\"login\"}\n{\"trace_id\":\"n2\",\"time\":\"1719745200001\",\"trace_name\":\"logout\"}\n",
    )
    .expect("write");
    std::fs::write(
        exports.join("api-page.json"),
        r#"{"meta_data":{"count":1,"marker":null},"traces":[{"trace_id":"e1","time":1719745200002,"trace_name":"deleteVpc"}]}"#,
    )
    .expect("write");

    // One file, named as the user likes: loaded whatever its name.
    let one = cts(&data, &["load", &ndjson.to_string_lossy(), "--quiet"]);
    assert!(
        stdout(&one).starts_with("loaded 2 traces from 1 files"),
        "{one:?}"
    );

    // A folder of exports: skipped as "other objects" unless --any-json.
    let folder = exports.to_string_lossy().into_owned();
    let skipped = cts(&data, &["load", &folder, "--quiet"]);
    assert!(
        stdout(&skipped).contains("0 digest files, 2 other objects"),
        "{skipped:?}"
    );
    let loaded = cts(&data, &["load", &folder, "--quiet", "--any-json"]);
    let out = stdout(&loaded);
    // The file loaded on its own is the same file (same URL, size, ETag): not read again.
    assert!(out.starts_with("loaded 1 traces from 1 files"), "{out}");
    assert!(out.contains("skipped: 1 unchanged files"), "{out}");

    let names = cts(
        &data,
        &[
            "sql",
            "SELECT trace_name FROM traces ORDER BY time",
            "--format",
            "csv",
        ],
    );
    assert_eq!(stdout(&names), "trace_name\nlogin\nlogout\ndeleteVpc\n");
}

#[test]
fn runaway_queries_stop_at_the_memory_limit_or_the_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket").to_string_lossy().into_owned();
    let data = dir.path().join("data");
    let made = cts(
        &data,
        &[
            "gen",
            &bucket,
            "--traces",
            "3000",
            "--days",
            "2",
            "--end",
            "2024-06-30",
        ],
    );
    assert!(made.status.success(), "{made:?}");
    assert!(cts(&data, &["load", &bucket, "--quiet"]).status.success());

    // A hash join cannot spill: over the limit it stops, saying which limit it hit.
    let join = cts(
        &data,
        &[
            "--memory-limit",
            "200KB",
            "sql",
            "SELECT count(*) FROM traces a JOIN traces b ON a.request = b.request",
        ],
    );
    assert_eq!(join.status.code(), Some(1));
    let err = String::from_utf8_lossy(&join.stderr);
    assert!(
        err.starts_with("error: query stopped: it needs more than the memory limit of 200.00 KiB (--memory-limit): Resources exhausted"),
        "{err}"
    );

    // A sort spills to disk and finishes within the same limit.
    let sort = cts(
        &data,
        &[
            "--memory-limit",
            "200KB",
            "sql",
            "SELECT count(*) AS n FROM (SELECT * FROM traces ORDER BY request, response)",
            "--format",
            "csv",
        ],
    );
    assert_eq!(stdout(&sort), "n\n3000\n", "{sort:?}");

    let slow = cts(
        &data,
        &[
            "--query-timeout",
            "0.5",
            "sql",
            "SELECT count(*) FROM generate_series(1, 100000000000)",
        ],
    );
    assert_eq!(slow.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&slow.stderr),
        "error: query stopped: it ran longer than the limit of 0.5 s (--query-timeout)\n"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("temp dir");
    // `cts sql ... | head -1`, in every format: the first line arrives, then the pipe closes.
    // Each writes far more than a pipe holds (64 KiB); a table is printed once gathered.
    for (format, rows) in [
        ("csv", 1_000_000),
        ("ndjson", 1_000_000),
        ("table", 100_000),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cts"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("sql")
            .arg(format!("SELECT value FROM generate_series(1, {rows})"))
            .args(["--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run cts");
        let mut first = String::new();
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        lines.read_line(&mut first).expect("a line");
        assert!(!first.is_empty(), "{format}");
        drop(lines);
        let done = child.wait_with_output().expect("wait");
        assert_eq!(done.status.code(), Some(0), "{format}: {done:?}");
        assert_eq!(String::from_utf8_lossy(&done.stderr), "", "{format}");
    }
}

#[test]
fn a_bucket_without_credentials_says_which_variables_give_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cts"));
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_METADATA_ENDPOINT",
        "AWS_SKIP_SIGNATURE",
    ] {
        command.env_remove(name);
    }
    // No endpoint either: nothing may be asked of any network before the error.
    let out = command
        .arg("--data-dir")
        .arg(dir.path())
        .args(["load", "s3://my-cts-bucket/CloudTraces/", "--quiet"])
        .output()
        .expect("run cts");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: no credentials for s3://my-cts-bucket/: set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY (an OBS access key and its secret key), and AWS_SESSION_TOKEN \
         with temporary credentials\n"
    );
}
