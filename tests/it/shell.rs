//! `cts shell` with statements piped to standard input (no terminal: no prompts, no line
//! editing), over a small generated archive.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;

use crate::common::cli::cts;
use crate::common::truth::{self as truth_of, BucketTruth, object};

/// A generated bucket (2,000 traces over 2 days) loaded once into a data directory, shared by
/// the tests, which only read it; and what the bucket holds, read without cts.
fn fixture() -> &'static (tempfile::TempDir, PathBuf, BucketTruth) {
    static FIXTURE: OnceLock<(tempfile::TempDir, PathBuf, BucketTruth)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let bucket = dir.path().join("bucket");
        let data = dir.path().join("data");
        let made = cts(&data)
            .arg("gen")
            .arg(&bucket)
            .args(["--traces", "2000", "--days", "2", "--seed", "5"])
            .args(["--end", "2024-06-30"])
            .output()
            .expect("run cts gen");
        assert!(made.status.success(), "{made:?}");
        let loaded = cts(&data)
            .arg("load")
            .arg(&bucket)
            .arg("--quiet")
            .output()
            .expect("run cts load");
        assert!(loaded.status.success(), "{loaded:?}");
        let truth = BucketTruth::read(&bucket);
        assert_eq!(truth.count(|_| true), 2000);
        (dir, data, truth)
    })
}

fn data() -> &'static Path {
    &fixture().1
}

fn truth() -> &'static BucketTruth {
    &fixture().2
}

/// The remote prefix of a security group rule in a trace's request, if it has one.
fn remote_ip_prefix(trace: &serde_json::Value) -> Option<String> {
    object(trace, "request")?["security_group_rule"]["remote_ip_prefix"]
        .as_str()
        .map(str::to_string)
}

/// `cts GLOBAL shell ARGS` over `data` with `script` on standard input.
fn shell_in(data: &Path, global: &[&str], args: &[&str], script: &str) -> Output {
    let mut child = cts(data)
        .args(global)
        .arg("shell")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cts shell");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    child.wait_with_output().expect("cts shell ends")
}

fn shell(args: &[&str], script: &str) -> Output {
    shell_in(data(), &[], args, script)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{o:?}\n{}", stderr(o));
    assert_eq!(stderr(o), "", "no errors expected");
}

#[test]
fn a_statement_may_span_lines() {
    let out = shell(
        &[],
        "SELECT count(*) AS n,\n       count(DISTINCT trace_id) AS ids\n  FROM traces\n;\n",
    );
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        "+------+------+\n\
         | n    | ids  |\n\
         +------+------+\n\
         | 2000 | 2000 |\n\
         +------+------+\n\
         1 row\n"
    );
}

#[test]
fn several_statements_on_one_line_run_in_order() {
    let out = shell(
        &["--format", "csv"],
        "SELECT 'a;b' AS x; SELECT count(*) AS n FROM hot_traces; -- the hot store is empty\n\
         SELECT count(*) AS n FROM archive_traces",
    );
    assert_ok(&out);
    assert_eq!(stdout(&out), "x\na;b\nn\n0\nn\n2000\n");
}

#[test]
fn dt_lists_the_tables() {
    let out = shell(&["--format", "csv"], "\\dt\n");
    assert_ok(&out);
    let mut expected = vec![
        "table_name,table_type".to_string(),
        "archive_traces,BASE TABLE".to_string(),
        // `traces` with `operator` and `domain`, which the reports read.
        "attributed_traces,VIEW".to_string(),
        "hot_traces,BASE TABLE".to_string(),
        // The delivery log of key-event notifications (empty here).
        "notification_deliveries,BASE TABLE".to_string(),
    ];
    // Every report is a view with its default parameters.
    expected.extend(
        cts::output::report::builtin_names()
            .iter()
            .map(|name| format!("report_{name},VIEW")),
    );
    // The manifest: every source file loaded, and what its digest said of it.
    expected.push("trace_files,VIEW".to_string());
    expected.push("traces,BASE TABLE".to_string());
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), expected);
}

#[test]
fn d_describes_a_table() {
    let out = shell(&["--format", "csv"], "\\d traces\n");
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 48, "{text}");
    assert_eq!(lines[0], "column_name,data_type,is_nullable");
    // Text is `Utf8View` to queries (Parquet strings read without a copy), `Utf8` on disk.
    assert_eq!(lines[1], "trace_id,Utf8View,NO");
    assert_eq!(lines[2], "time,\"Timestamp(ms, \"\"UTC\"\")\",NO");
    assert!(lines.contains(&"request,Utf8View,YES"), "{text}");
    assert!(lines.contains(&"invoked_by,List(Utf8),YES"), "{text}");
    assert_eq!(lines[47], "day,Utf8,NO");

    // As a table, the default; and an unknown table is an error.
    let out = shell(&[], "\\d traces\n\\d nowhere\n");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("| time                   | Timestamp(ms, \"UTC\") | NO          |"),
        "{text}"
    );
    assert!(text.ends_with("47 rows\n"), "{text}");
    assert_eq!(
        stderr(&out),
        "error: no table named \"nowhere\": \\dt lists the tables\n\
         error: 1 of 2 statements failed\n"
    );
}

#[test]
fn format_csv_then_a_query() {
    let out = shell(
        &[],
        "\\format csv\n\
         SELECT trace_name, count(*) AS n FROM traces\n\
         GROUP BY trace_name ORDER BY n DESC, trace_name LIMIT 3;\n\
         \\format ndjson\n\
         SELECT min(day) AS first, max(day) AS last FROM traces;\n",
    );
    assert!(out.status.success(), "{out:?}");
    // The three most frequent operations, counted in the bucket's files.
    let mut names: Vec<(String, u64)> = truth()
        .count_by(|t| truth_of::text(t, "trace_name"))
        .into_iter()
        .collect();
    names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: String = names[..3]
        .iter()
        .map(|(name, n)| format!("{name},{n}\n"))
        .collect();
    assert_eq!(
        stdout(&out),
        format!("trace_name,n\n{top}{{\"first\":\"2024-06-29\",\"last\":\"2024-06-30\"}}\n")
    );
    assert_eq!(stderr(&out), "format is csv\nformat is ndjson\n");
}

#[test]
fn json_functions_find_security_group_rules_open_to_the_world() {
    // The generator plants rules open to 0.0.0.0/0 and ::/0 among private ones.
    let out = shell(
        &["--format", "csv"],
        "SELECT json_get_str(request, 'security_group_rule', 'remote_ip_prefix') AS remote,\n\
                count(*) AS n\n\
           FROM traces\n\
          WHERE json_get_str(request, 'security_group_rule', 'remote_ip_prefix')\n\
                IN ('0.0.0.0/0', '::/0')\n\
          GROUP BY remote ORDER BY remote;\n\
         SELECT count(*) AS rules FROM traces\n\
          WHERE json_get_str(request, 'security_group_rule', 'remote_ip_prefix') IS NOT NULL;\n\
         SELECT count(*) AS by_text FROM traces\n\
          WHERE request LIKE '%\"remote_ip_prefix\":\"0.0.0.0/0\"%'\n\
             OR request LIKE '%\"remote_ip_prefix\":\"::/0\"%';\n",
    );
    assert_ok(&out);
    let open = |prefix: &str| truth().count(|t| remote_ip_prefix(t).as_deref() == Some(prefix));
    let (v4, v6) = (open("0.0.0.0/0"), open("::/0"));
    let rules = truth().count(|t| remote_ip_prefix(t).is_some());
    assert!(v4 > 0 && v6 > 0 && rules > v4 + v6, "{v4} {v6} {rules}");
    assert_eq!(
        stdout(&out),
        format!(
            "remote,n\n0.0.0.0/0,{v4}\n::/0,{v6}\nrules\n{rules}\nby_text\n{}\n",
            v4 + v6
        )
    );
}

#[test]
fn an_error_is_reported_and_later_statements_still_run() {
    let out = shell(
        &["--format", "csv"],
        "SELECT 1 AS one;\nSELECT no_such_column FROM traces;\n\\nope\nSELECT 2 AS two;\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out), "one\n1\ntwo\n2\n");
    // DataFusion's message lists the valid columns on more lines.
    let errors = stderr(&out);
    assert!(
        errors.starts_with("error: query failed: Schema error: No field named no_such_column."),
        "{errors}"
    );
    assert!(
        errors.ends_with(
            "\nerror: unknown meta-command \\nope: \\help lists them\n\
             error: 2 of 4 statements failed\n"
        ),
        "{errors}"
    );
}

#[test]
fn read_only_unless_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let copied = dir.path().join("copied.csv");
    let script = format!(
        "CREATE TABLE x AS SELECT 1 AS one;\n\
         COPY (SELECT 1 AS one) TO '{}' STORED AS CSV;\n\
         SET datafusion.execution.batch_size = 100;\n\
         SELECT count(*) AS n FROM traces WHERE trace_name = 'login';\n\
         EXPLAIN SELECT 1;\n\
         SHOW TABLES;\n\
         SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'traces';\n\
         \\d hot_traces\n",
        copied.display()
    );
    let out = shell(&["--format", "csv"], &script);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let errors = stderr(&out);
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(
        lines,
        [
            "error: refused, the shell is read-only (DDL not supported: CreateMemoryTable): \
             start it with `cts shell --write` to allow it",
            "error: refused, the shell is read-only (DML not supported: COPY): \
             start it with `cts shell --write` to allow it",
            "error: refused, the shell is read-only (Statement not supported: SetVariable): \
             start it with `cts shell --write` to allow it",
            "error: 3 of 8 statements failed",
        ]
    );
    assert!(!copied.exists());
    // The queries, EXPLAIN, SHOW and \d all ran.
    let text = stdout(&out);
    let logins = truth().count(|t| t["trace_name"] == "login");
    assert!(
        text.starts_with(&format!("n\n{logins}\nplan_type,plan\n")),
        "{text}"
    );
    assert!(
        text.contains("cts,public,hot_traces,BASE TABLE\n"),
        "{text}"
    );
    assert!(text.contains("\nn\n47\n"), "{text}");
    assert!(text.ends_with("day,Utf8,NO\n"), "{text}");

    let out = shell(
        &["--write", "--format", "csv"],
        &format!(
            "CREATE TABLE x AS SELECT 1 AS one;\n\
             INSERT INTO x VALUES (2);\n\
             COPY (SELECT one FROM x ORDER BY one) TO '{}' STORED AS CSV;\n\
             SELECT sum(one) AS total FROM x;\n",
            copied.display()
        ),
    );
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        "count\n1\ncount\n2\ntotal\n3\n",
        "CREATE TABLE prints nothing; INSERT and COPY print the rows they wrote"
    );
    assert_eq!(
        std::fs::read_to_string(&copied).expect("the copied file"),
        "one\n1\n2\n"
    );
}

#[test]
fn help_and_quit() {
    let out = shell(&[], "\\help\n\\q\nSELECT 1;\n");
    assert_ok(&out);
    let text = stdout(&out);
    for expected in [
        "  \\d TABLE ",
        "  \\dt ",
        "  \\timing [on|off] ",
        "  \\format FORMAT ",
        "  \\help ",
        "  \\q ",
        "json_get_str(request, 'key', ...)",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // \q: the SELECT after it does not run.
    assert!(!text.contains("1 row"), "{text}");
}

#[test]
fn timing_prints_the_elapsed_time_on_stderr() {
    let out = shell(
        &["-f", "csv"],
        "\\timing\nSELECT 1 AS one;\n\\timing off\nSELECT 2 AS two;\n",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "one\n1\ntwo\n2\n");
    let errors = stderr(&out);
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 3, "{errors}");
    assert_eq!(lines[0], "timing is on");
    assert!(
        lines[1].starts_with("elapsed: ") && lines[1].ends_with(" s"),
        "{errors}"
    );
    assert_eq!(lines[2], "timing is off");
}

#[test]
fn memory_limit_and_timeout_stop_a_query_and_the_shell_goes_on() {
    // A hash join cannot spill (its build side here, request and response of 2,000 traces, is
    // more than 200 KB); generate_series runs for hours.
    let out = shell_in(
        data(),
        &["--memory-limit", "200KB", "--query-timeout", "0.5"],
        &["--format", "csv"],
        "SELECT count(*) FROM traces a JOIN traces b \
         ON a.request = b.request AND a.response = b.response;\n\
         SELECT count(*) FROM generate_series(1, 100000000000);\n\
         SELECT count(*) AS n FROM traces;\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(stdout(&out), "n\n2000\n");
    // The memory error names the operators, on more lines.
    let errors = stderr(&out);
    assert!(
        errors.starts_with(
            "error: query stopped: it needs more than the memory limit of 200.00 KiB (--memory-limit): "
        ),
        "{errors}"
    );
    assert!(
        errors.ends_with(
            "\nerror: query stopped: it ran longer than the limit of 0.5 s (--query-timeout)\n\
             error: 2 of 3 statements failed\n"
        ),
        "{errors}"
    );
}

#[test]
fn report_views_are_planned_when_named_and_kept() {
    // The default range is the last 30 days: nothing of 2024 is in it. Named twice: planned
    // once, then found again; its columns are the report's.
    let script = "SELECT count(*) AS n FROM report_trace_coverage;\n\
                  SELECT count(*) AS n FROM report_trace_coverage;\n\
                  \\d report_trace_coverage\n\
                  SELECT count(*) AS n FROM report_no_such_report;\n";
    let out = shell(&["--format", "csv"], script);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "n",
            "0",
            "n",
            "0",
            "column_name,data_type,is_nullable",
            "day,Utf8,YES",
            "region,Utf8View,NO",
            "service_type,Utf8View,NO",
            "traces,Int64,NO",
            "operators,Int64,NO",
            "first_trace,\"Timestamp(ms, \"\"UTC\"\")\",YES",
            "last_trace,\"Timestamp(ms, \"\"UTC\"\")\",YES",
        ],
        "{text}"
    );
    assert!(
        stderr(&out).contains("report_no_such_report"),
        "{}",
        stderr(&out)
    );
}
