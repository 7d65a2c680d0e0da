//! Each prebuilt report on its fixture (`tests/fixtures/reports/`): it finds exactly the planted
//! events and nothing else, near-misses included. Then the report commands end to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cts::output::{Format, write_batches};
use cts::query::{QueryLimits, session};
use cts_core::load::{LoadOptions, load};
use cts_core::source::Source;
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::Archive;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

/// An archive in `dir` loaded from the fixture files `names` (all when empty).
fn load_fixtures(dir: &Path, names: &[&str]) -> Archive {
    let source = dir.join("source");
    std::fs::create_dir_all(&source).expect("mkdir");
    for entry in std::fs::read_dir(fixtures()).expect("fixtures").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = file.strip_suffix(".json") else {
            continue;
        };
        if names.is_empty() || names.contains(&stem) {
            std::fs::copy(entry.path(), source.join(&file)).expect("copy");
        }
    }
    let archive = Archive::new(Location::local(&dir.join("archive")).expect("archive"));
    let source =
        Source::open(&source.to_string_lossy(), &StorageOptions::default()).expect("source");
    let options = LoadOptions {
        any_json: true,
        ..Default::default()
    };
    let summary = cts_testkit::block_on(load(&source, &archive, &options)).expect("load");
    assert!(summary.is_clean(), "{summary}");
    archive
}

/// Every fixture in one archive, built once for all tests.
fn all_fixtures() -> &'static Archive {
    static ALL: OnceLock<(tempfile::TempDir, Archive)> = OnceLock::new();
    &ALL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let archive = load_fixtures(dir.path(), &[]);
        (dir, archive)
    })
    .1
}

/// `name='value' other='it''s'` as pairs.
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut rest = text.trim();
    while let Some((name, after)) = rest.split_once("='") {
        let mut value = String::new();
        let mut chars = after.char_indices().peekable();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().map(|(_, c)| *c) == Some('\'') {
                    chars.next();
                    value.push('\'');
                    continue;
                }
                end = i + 1;
                break;
            }
            value.push(c);
        }
        params.insert(name.trim().to_string(), value);
        rest = after[end..].trim_start();
    }
    params
}

fn check(name: &str) {
    let expected =
        std::fs::read_to_string(fixtures().join(format!("{name}.expected"))).expect("expected");
    let mut params = BTreeMap::new();
    let (mut csv, mut own) = (false, false);
    let mut body = Vec::new();
    for line in expected.lines() {
        if let Some(p) = line.strip_prefix("-- params:") {
            params = parse_params(p);
        } else if line.trim() == "-- compare: csv" {
            csv = true;
        } else if let Some(scope) = line.strip_prefix("-- scope:") {
            own = scope.trim() == "own";
        } else if !line.trim().is_empty() {
            body.push(line.to_string());
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = if own {
        load_fixtures(dir.path(), &[name])
    } else {
        all_fixtures().clone()
    };
    let report = cts::output::report::find(name).expect("report");
    let (schema, batches) = cts_testkit::block_on(async {
        let ctx = session(&archive).await.expect("session");
        cts::output::report::run(&ctx, &report, &params, &QueryLimits::default()).await
    })
    .expect("report runs");
    if csv {
        let mut out = Vec::new();
        write_batches(&batches, schema, Format::Csv, &mut out).expect("csv");
        let got = String::from_utf8(out).expect("utf-8");
        assert_eq!(got.lines().collect::<Vec<_>>(), body, "{name}");
    } else {
        let index = schema.index_of("trace_id").expect("trace_id column");
        assert_eq!(
            schema
                .fields()
                .iter()
                .take(10)
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>(),
            [
                "time",
                "service_type",
                "resource_type",
                "resource_name",
                "trace_name",
                "trace_rating",
                "operator",
                "domain",
                "source_ip",
                "trace_id"
            ],
            "{name}: the uniform finding row first"
        );
        let mut got: Vec<String> = crate::common::column_texts(&batches, index);
        got.sort();
        body.sort();
        assert_eq!(got, body, "{name}");
    }
}

macro_rules! report_tests {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { check(stringify!($name)); })*

        #[test]
        fn every_report_has_a_fixture_test() {
            let mut tested = vec![$(stringify!($name)),*];
            tested.sort();
            assert_eq!(tested, cts::output::report::builtin_names());
        }
    };
}

report_tests!(
    access_denied,
    account_policy_changes,
    audit_log_access,
    audit_trail_tampering,
    bucket_policy_changes,
    console_login_failures,
    credential_changes,
    daily_activity_by_operator,
    delivery_gaps,
    destructive_operations,
    error_rate_spike,
    failed_operations,
    federation_changes,
    identity_lifecycle,
    incidents,
    key_management_changes,
    logins_without_mfa,
    mfa_removed,
    network_changes,
    new_source_ip,
    off_hours_activity,
    privilege_escalation,
    root_account_activity,
    security_group_changes,
    security_group_open_to_world,
    trace_coverage,
    trace_file_integrity,
);

/// The local wall-clock time and weekday that `off_hours_activity` prints, in a zone with
/// daylight saving time (Berlin is UTC+2 in June), to the second, as text.
#[test]
fn off_hours_prints_local_time_and_weekday() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = load_fixtures(dir.path(), &["off_hours_activity"]);
    let report = cts::output::report::find("off_hours_activity").expect("report");
    let params = parse_params(
        "from='2024-06-01' to='2024-07-01' tz='Europe/Berlin' work_start='8' work_end='18'",
    );
    let (schema, batches) = cts_testkit::block_on(async {
        let ctx = session(&archive).await.expect("session");
        cts::output::report::run(&ctx, &report, &params, &QueryLimits::default()).await
    })
    .expect("report runs");
    let columns = ["trace_id", "local_time", "local_day"].map(|c| schema.index_of(c).expect(c));
    let mut rows = BTreeMap::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let [id, time, day] = columns.map(|c| {
                cts_core::trace::text_at(batch.column(c).as_ref(), row)
                    .unwrap_or_default()
                    .to_string()
            });
            rows.insert(id, (time, day));
        }
    }
    let text = |time: &str, day: &str| Some((time.to_string(), day.to_string()));
    // 2024-06-08T10:00:00Z, 2024-06-06T05:59:59Z, 2024-06-05T16:00:00Z
    assert_eq!(
        rows.get("23000001-c75a-4023-8001-000000000001").cloned(),
        text("2024-06-08 12:00:00", "Saturday")
    );
    assert_eq!(
        rows.get("23000004-c75a-4023-8001-000000000004").cloned(),
        text("2024-06-06 07:59:59", "Thursday")
    );
    assert_eq!(
        rows.get("23000003-c75a-4023-8001-000000000003").cloned(),
        text("2024-06-05 18:00:00", "Wednesday")
    );
}

#[test]
fn report_commands_list_run_and_pack() {
    use crate::common::cli::cts;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).expect("mkdir");
    for entry in std::fs::read_dir(fixtures()).expect("fixtures").flatten() {
        if entry.path().extension().is_some_and(|e| e == "json") {
            std::fs::copy(entry.path(), source.join(entry.file_name())).expect("copy");
        }
    }
    let loaded = cts(&data)
        .args(["load", "--any-json", "--quiet"])
        .arg(&source)
        .output()
        .expect("load");
    assert!(loaded.status.success(), "{loaded:?}");

    let list = cts(&data).args(["report", "list"]).output().expect("list");
    let text = String::from_utf8_lossy(&list.stdout);
    assert_eq!(
        text.lines().count(),
        cts::output::report::builtin_names().len(),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("security_group_open_to_world") && l.contains("1.3")),
        "{text}"
    );

    let run = cts(&data)
        .args([
            "report",
            "run",
            "security_group_open_to_world",
            "--from",
            "2024-06-01",
            "--to",
            "2024-07-01",
            "--format",
            "csv",
        ])
        .output()
        .expect("run");
    assert!(run.status.success(), "{run:?}");
    let text = String::from_utf8_lossy(&run.stdout);
    let expected =
        std::fs::read_to_string(fixtures().join("security_group_open_to_world.expected"))
            .expect("expected");
    let ids: Vec<&str> = expected.lines().filter(|l| !l.starts_with("--")).collect();
    assert_eq!(text.lines().count(), ids.len() + 1, "{text}");
    for id in ids {
        assert!(text.contains(id), "{id} missing from\n{text}");
    }
    let bad = cts(&data)
        .args([
            "report",
            "run",
            "security_group_open_to_world",
            "--param",
            "colour=red",
        ])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("has no parameter \"colour\""),
        "{bad:?}"
    );

    let pack = |jobs: &str| {
        let out = dir.path().join(format!("pack-{jobs}"));
        let pack = cts(&data)
            .args([
                "report",
                "pack",
                "--from",
                "2024-06-01",
                "--to",
                "2024-07-01",
            ])
            .args(["--jobs", jobs, "--out"])
            .arg(&out)
            .output()
            .expect("pack");
        assert!(pack.status.success(), "{pack:?}");
        out
    };
    let (out, one_at_a_time) = (pack("3"), pack("1"));
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    for name in cts::output::report::builtin_names() {
        assert!(html.contains(&format!("<section id=\"{name}\">")), "{name}");
        // Each CSV is the report's whole result, however many run at a time.
        let csv = std::fs::read(out.join(format!("{name}.csv"))).expect("csv");
        let alone = std::fs::read(one_at_a_time.join(format!("{name}.csv"))).expect("csv");
        assert!(
            csv == alone,
            "{name}.csv differs between --jobs 3 and --jobs 1"
        );
    }
    let run = cts(&data)
        .args(["report", "run", "access_denied", "--format", "csv"])
        .args(["--from", "2024-06-01", "--to", "2024-07-01"])
        .output()
        .expect("run");
    assert!(run.status.success(), "{run:?}");
    let csv = std::fs::read(out.join("access_denied.csv")).expect("csv");
    assert!(run.stdout == csv, "the pack's CSV differs from report run");
    assert!(
        !html.contains("class=\"error\""),
        "a report failed in the pack"
    );

    // The chart: one bar segment per day and rating, with the count of traces.
    let counts = cts(&data)
        .args(["sql", "--format", "csv"])
        .arg(
            "SELECT to_char(time, '%Y-%m-%d') || ' ' || lower(COALESCE(trace_rating, 'unknown')) \
             || ': ' || count(*) FROM traces \
             WHERE time >= '2024-06-01' AND time < '2024-07-01' GROUP BY to_char(time, '%Y-%m-%d'), \
             lower(COALESCE(trace_rating, 'unknown'))",
        )
        .output()
        .expect("sql");
    let counts = String::from_utf8_lossy(&counts.stdout).into_owned();
    let expected: Vec<&str> = counts.lines().skip(1).collect();
    assert!(expected.len() > 3, "{counts}");
    for bar in &expected {
        assert!(html.contains(&format!("<title>{bar}</title>")), "{bar}");
    }
    assert_eq!(html.matches("</title></rect>").count(), expected.len());
    let refused = cts(&data)
        .args(["report", "pack", "--jobs", "0", "--out"])
        .arg(dir.path().join("none"))
        .output()
        .expect("pack");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("invalid value '0' for '--jobs <JOBS>': 0 is not in 1..=64"),
        "{refused:?}"
    );
}
