//! Every durable step stopped on purpose ([`cts_core::failpoint`]): the operation runs once
//! stopped at the failpoint, by an abort (no destructor, no flush: what `kill -9` leaves) and by
//! an I/O error (what a full disk leaves); then a run without failpoints finishes the work.
//! Checked at the stop and after: every acknowledged trace exactly once (the expected numbers
//! come from the generator or the input, not from a run of cts), no half-written file, the
//! manifest consistent, and a further run that finds nothing to do. Deterministic: a failpoint
//! stops at the N-th time it is reached; no sleeps, no kill counts.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};

use cts_core::failpoint as fp;
use cts_core::storage::Location;
use cts_core::store::archive::{Archive, Outcome};
use cts_sample::GenSummary;
use cts_testkit::{archive_counts, block_on};

use crate::common::cli::{counts, cts, recent_traces, sql_csv};
use crate::common::{parquet_files, sample_bucket};

/// Rows of every Parquet file below `dir` (each must be a whole, readable file).
fn exported_rows(dir: &Path) -> u64 {
    parquet_files(dir).iter().map(|f| f.1 as u64).sum()
}

/// `cts load SOURCE` in chunks of 1 MB of JSON, so that a load commits many times.
fn load(data: &Path, source: &Path) -> Command {
    let mut c = cts(data);
    c.args([
        "load",
        &source.to_string_lossy(),
        "--quiet",
        "--chunk-mb",
        "1",
    ]);
    c
}

/// How a failpoint stops the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `std::process::abort()`: as if killed.
    Abort,
    /// The step fails with an I/O error; the command ends with it.
    Io,
}

const STOPS: [Stop; 2] = [Stop::Abort, Stop::Io];

/// Run `command` with `point` stopping it the `hit`-th time it is reached (1 = the first), and
/// check that it stopped there.
fn stopped(command: &mut Command, point: &str, hit: usize, stop: Stop) -> Output {
    let action = match stop {
        Stop::Abort => "abort",
        Stop::Io => "io",
    };
    let tasks = match hit {
        0 | 1 => format!("return({action})"),
        n => format!("{}*off->return({action})", n - 1),
    };
    let out = command
        .env("FAILPOINTS", format!("{point}={tasks}"))
        .output()
        .expect("run cts");
    match stop {
        Stop::Abort => assert_eq!(
            out.status.signal(),
            Some(6),
            "{point}: not aborted there: {out:?}"
        ),
        Stop::Io => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{point}: {stderr}");
            assert!(
                stderr.contains(&format!("failpoint {point}: injected I/O error")),
                "{point}: {stderr}"
            );
        }
    }
    out
}

/// Run `command` to success; its standard output.
fn finished(command: &mut Command) -> String {
    let out = command.output().expect("run cts");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Files below `dir` whose names mark them as staged (written, not yet renamed into place).
fn staging_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(staging_files(&path));
            } else if path.to_string_lossy().contains('#') {
                found.push(path.to_string_lossy().into_owned());
            }
        }
    }
    found
}

fn archive_of(data: &Path) -> Archive {
    Archive::new(Location::local(&data.join("archive")).expect("archive"))
}

/// The archive holds `expected` traces, each once, as a reader sees them through the
/// visibility rule, and no staged file.
fn assert_archive_holds(data: &Path, expected: u64, context: &str) {
    assert_eq!(
        block_on(archive_counts(&archive_of(data))),
        (expected, expected),
        "{context}"
    );
    assert_eq!(staging_files(data), Vec::<String>::new(), "{context}");
}

/// The manifest names each of the bucket's trace files once, loaded, with all its records.
fn assert_manifest_consistent(data: &Path, truth: &GenSummary, context: &str) {
    let manifest = block_on(archive_of(data).read_manifest()).expect("manifest");
    assert_eq!(
        manifest.entries.len() as u64,
        truth.trace_files,
        "{context}: files in the manifest"
    );
    assert!(
        manifest
            .entries
            .values()
            .all(|e| e.outcome == Outcome::Loaded),
        "{context}"
    );
    // Every record of every file accounted for: new, or a duplicate of one already stored
    // (which of the two depends on where the earlier run stopped).
    let records: u64 = manifest
        .entries
        .values()
        .map(|e| e.traces + e.duplicates)
        .sum();
    assert_eq!(
        records, truth.trace_records,
        "{context}: records in the manifest"
    );
}

#[test]
fn a_load_stopped_at_any_durable_step_is_finished_by_the_next_with_every_trace_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("bucket");
    let truth = sample_bucket(&source, 12_000, 11);
    // Stopped at the third chunk: two chunks are in, one is half done.
    for point in [
        fp::LOAD_IDS_READ,
        fp::LOAD_DATA_WRITTEN,
        fp::LOAD_MANIFEST_WRITTEN,
    ] {
        for stop in STOPS {
            let context = format!("{point} {stop:?}");
            let data = dir.path().join(format!("data-{point}-{stop:?}"));
            stopped(&mut load(&data, &source), point, 3, stop);
            let (seen, distinct) = block_on(archive_counts(&archive_of(&data)));
            assert_eq!(seen, distinct, "{context}: a trace twice after the stop");
            assert!(seen > 0, "{context}: the first chunks were not kept");

            let out = finished(&mut load(&data, &source));
            assert!(out.starts_with("loaded "), "{context}: {out}");
            assert_archive_holds(&data, truth.distinct_traces, &context);
            assert_manifest_consistent(&data, &truth, &context);
            let again = finished(&mut load(&data, &source));
            assert!(
                again.starts_with("loaded 0 traces from 0 files"),
                "{context}: {again}"
            );
        }
    }
}

#[test]
fn a_load_stopped_while_merging_the_manifest_is_finished_by_the_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    let a = sample_bucket(&first, 12_000, 21);
    let b = sample_bucket(&second, 12_000, 22);
    for stop in STOPS {
        let context = format!("{} {stop:?}", fp::LOAD_MANIFEST_COMPACTED);
        let data = dir.path().join(format!("data-{stop:?}"));
        finished(&mut load(&data, &first));
        // Many segments, as many loads leave (copies of the first load's: the same entries),
        // so that the next load merges them.
        let manifest_dir = data.join("archive/_cts/manifest");
        let segments = || std::fs::read_dir(&manifest_dir).expect("manifest").count();
        let one = std::fs::read_dir(&manifest_dir)
            .expect("manifest")
            .flatten()
            .next()
            .expect("a segment")
            .path();
        for i in 0..32 {
            std::fs::copy(&one, manifest_dir.join(format!("0-copy-{i:02}.ndjson"))).expect("copy");
        }
        stopped(
            &mut load(&data, &second),
            fp::LOAD_MANIFEST_COMPACTED,
            1,
            stop,
        );
        assert!(segments() > 32, "{context}: {} segments", segments());
        let total = a.distinct_traces + b.distinct_traces;
        assert_archive_holds(&data, total, &context);
        let again = finished(&mut load(&data, &second));
        assert!(
            again.starts_with("loaded 0 traces from 0 files"),
            "{context}: {again}"
        );
        let again = finished(&mut load(&data, &first));
        assert!(
            again.starts_with("loaded 0 traces from 0 files"),
            "{context}: {again}"
        );
        assert_archive_holds(&data, total, &context);
    }
}

/// The acknowledged count of `ingest --print-acks` output: the last `ack INPUT N`.
fn acknowledged(stdout: &[u8]) -> usize {
    String::from_utf8_lossy(stdout)
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("ack ")?.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn an_ingest_stopped_after_an_append_keeps_every_acknowledged_trace_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("traces.ndjson");
    let n = 2_000;
    std::fs::write(&input, recent_traces(n, 180)).expect("write input");
    for stop in STOPS {
        let context = format!("{} {stop:?}", fp::HOT_APPENDED);
        let data = dir.path().join(format!("data-{stop:?}"));
        // The sixth append of 100 is synced but not acknowledged when it stops.
        let out = stopped(
            cts(&data)
                .args(["ingest", "--batch", "100", "--print-acks"])
                .arg(&input),
            fp::HOT_APPENDED,
            6,
            stop,
        );
        assert_eq!(acknowledged(&out.stdout), 500, "{context}");
        let acked = sql_csv(
            &data,
            "SELECT count(*) AS n, count(DISTINCT trace_id) AS ids FROM traces \
             WHERE trace_id < 'ing-000500'",
        );
        assert_eq!(acked, "n,ids\n500,500\n", "{context}");
        let (all, distinct) = counts(&data, "traces");
        assert_eq!(all, distinct, "{context}");
        assert!((500..=600).contains(&all), "{context}: {all}");

        finished(cts(&data).arg("ingest").arg(&input));
        assert_eq!(counts(&data, "traces"), (n as u64, n as u64), "{context}");
    }
}

#[test]
fn hot_store_maintenance_stopped_at_any_step_shows_every_trace_once_and_is_finished_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("traces.ndjson");
    let n = 6_000u64;
    let all = recent_traces(n as usize, 180);
    let lines: Vec<&str> = all.lines().collect();
    for stop in STOPS {
        let data = dir.path().join(format!("data-{stop:?}"));
        // Eleven parts flushed one by one: eleven segments per day, left unmerged; the twelfth
        // stays in the log for the flush below.
        let parts: Vec<&[&str]> = lines.chunks(n as usize / 12).collect();
        for (i, part) in parts.iter().enumerate() {
            std::fs::write(&input, part.join("\n")).expect("write input");
            finished(
                cts(&data)
                    .args(["--max-segments-per-day", "100", "ingest"])
                    .arg(&input),
            );
            if i + 1 < parts.len() {
                finished(cts(&data).args(["--max-segments-per-day", "100", "maintain"]));
            }
        }
        let every_trace_once = |context: &str| {
            assert_eq!(counts(&data, "traces"), (n, n), "{context}");
            assert_eq!(staging_files(&data), Vec::<String>::new(), "{context}");
        };
        every_trace_once("before");
        // Flushed without merging; then merged; then rolled over.
        let steps = [
            (
                fp::HOT_FLUSH_WRITTEN,
                vec!["--max-segments-per-day", "100", "maintain"],
            ),
            (fp::HOT_COMPACT_WRITTEN, vec!["maintain"]),
            (
                fp::HOT_ROLL_OVER_ARCHIVED,
                vec!["--retention", "1h", "maintain"],
            ),
        ];
        for (point, args) in steps {
            let context = format!("{point} {stop:?}");
            stopped(cts(&data).args(&args), point, 1, stop);
            every_trace_once(&context);
            finished(cts(&data).args(&args));
            every_trace_once(&context);
        }
        // Merged down to the allowed segments per day; older than an hour: in the archive only.
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("hot/state.json")).expect("state"))
                .expect("json");
        let segments = state["segments"].as_array().expect("segments").len();
        assert!(segments <= 16, "{stop:?}: {segments} segments");
        let (hot, _) = counts(&data, "hot_traces");
        let (archived, distinct) = counts(&data, "archive_traces");
        assert_eq!((hot + archived, archived), (n, distinct), "{stop:?}");
        assert!(archived > n / 2, "{stop:?}: {archived} archived");
    }
}

#[test]
fn archive_compaction_stopped_at_any_step_shows_every_trace_once_at_every_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("bucket");
    let truth = sample_bucket(&source, 12_000, 12);
    let n = truth.distinct_traces;
    let parquet_files = |data: &Path| -> Vec<String> {
        let mut names = Vec::new();
        for day in std::fs::read_dir(data.join("archive/traces"))
            .expect("days")
            .flatten()
        {
            for file in std::fs::read_dir(day.path()).expect("day").flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if name.ends_with(".parquet") {
                    names.push(name);
                }
            }
        }
        names.sort();
        names
    };
    for stop in STOPS {
        let data = dir.path().join(format!("data-{stop:?}"));
        finished(cts(&data).args([
            "load",
            &source.to_string_lossy(),
            "--quiet",
            "--chunk-mb",
            "1",
        ]));
        assert!(parquet_files(&data).len() > 6, "{:?}", parquet_files(&data));
        let compact = || {
            let mut c = cts(&data);
            c.args(["compact", "--grace-secs", "0"]);
            c
        };
        // The second day's merged file written, then its record (each run first finishes what
        // the one before left: the first day's merge, then its clean-up), then the first file
        // deleted of those a commit replaced.
        for (point, hit) in [
            (fp::ARCHIVE_COMPACT_MERGED, 2),
            (fp::ARCHIVE_COMPACT_RECORDED, 2),
            (fp::ARCHIVE_COMPACT_DELETED_ONE, 1),
        ] {
            let context = format!("{point} {stop:?}");
            stopped(&mut compact(), point, hit, stop);
            assert_archive_holds(&data, n, &context);
        }
        // Two more runs: the third day merged, then its parts deleted.
        let context = "compacted";
        finished(&mut compact());
        finished(&mut compact());
        let files = parquet_files(&data);
        assert_eq!(files.len(), 3, "{context}: {files:?}");
        assert!(files.iter().all(|f| f.starts_with("compact-")), "{files:?}");
        assert_archive_holds(&data, n, context);
    }
}

#[test]
fn an_export_stopped_mid_file_leaves_no_partial_file_and_the_next_writes_every_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("bucket");
    let truth = sample_bucket(&source, 6_000, 13);
    let data = dir.path().join("data");
    finished(cts(&data).args(["load", &source.to_string_lossy(), "--quiet"]));
    for stop in STOPS {
        for point in [fp::EXPORT_WRITING, fp::EXPORT_FILE_WRITTEN] {
            let context = format!("{point} {stop:?}");
            let out = dir.path().join(format!("export-{point}-{stop:?}"));
            let export = || {
                let mut c = cts(&data);
                c.args(["export", "--quiet", "--out", &out.to_string_lossy()]);
                c
            };
            stopped(&mut export(), point, 2, stop);
            // Only whole files: each one readable, none staged.
            let rows = exported_rows(&out);
            assert!(rows < truth.distinct_traces, "{context}: {rows}");
            assert_eq!(staging_files(&out), Vec::<String>::new(), "{context}");
            finished(&mut export());
            assert_eq!(exported_rows(&out), truth.distinct_traces, "{context}");
            assert_eq!(staging_files(&out), Vec::<String>::new(), "{context}");
        }
    }
}

#[test]
fn every_failpoint_is_stopped_at_by_a_test() {
    let tests = [
        include_str!("failpoints.rs"),
        include_str!("transfer.rs"),
        include_str!("concurrent.rs"),
        include_str!("notifications.rs"),
    ]
    .concat();
    for point in fp::POINTS {
        let constant = point.to_uppercase().replace(['.', '-'], "_");
        assert!(
            tests.contains(&format!("fp::{constant}")),
            "no test stops at failpoint {point} (fp::{constant})"
        );
    }
}
