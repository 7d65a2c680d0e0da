//! kill -9 during `cts load`, `cts ingest`, roll-over (`cts maintain`) and `cts compact`, many times, at
//! pseudo-random points; then a run to completion. Afterwards: every acknowledged trace there,
//! every trace once, no half-written file, and a further run does nothing.

use std::process::Stdio;

use cts_testkit::KillAtRandom;

use crate::common::cli::{counts, cts, recent_traces, sql_csv};

fn files_named_like_staging(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_named_like_staging(&path));
            } else if path.to_string_lossy().contains('#') {
                found.push(path.to_string_lossy().into_owned());
            }
        }
    }
    found
}

#[test]
fn kill_9_during_load_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket");
    let data = dir.path().join("data");
    let made = cts(&data)
        .args([
            "gen",
            &bucket.to_string_lossy(),
            "--traces",
            "20000",
            "--days",
            "3",
            "--seed",
            "11",
            "--end",
            "2024-06-30",
            "--duplicates",
            "0.1",
        ])
        .output()
        .expect("gen");
    assert!(made.status.success(), "{made:?}");

    // Small chunks, so that a run commits many times and a kill can land anywhere.
    let load_args = [
        "load",
        &bucket.to_string_lossy(),
        "--quiet",
        "--chunk-mb",
        "1",
    ]
    .map(String::from);
    let mut kills = KillAtRandom::new(0x2545_f491_4f6c_dd1d);
    for _ in 0..12 {
        kills.run(cts(&data).args(&load_args), 50, 1500);
    }
    assert!(
        kills.killed >= 3,
        "only {} runs were killed mid-load",
        kills.killed
    );
    let committed = std::fs::read_dir(data.join("archive/traces"))
        .map(|days| {
            days.flatten()
                .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten())
                .count()
        })
        .unwrap_or(0);
    assert!(
        committed > 0,
        "no run committed anything before being killed"
    );

    let last = cts(&data).args(&load_args).output().expect("final load");
    let out = String::from_utf8_lossy(&last.stdout);
    assert!(last.status.success(), "{out}");
    assert!(
        files_named_like_staging(&data).is_empty(),
        "{:?}",
        files_named_like_staging(&data)
    );

    let again = cts(&data).args(&load_args).output().expect("another load");
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert!(
        again_out.starts_with("loaded 0 traces from 0 files"),
        "{again_out}"
    );

    let query = cts(&data)
        .args([
            "sql",
            "SELECT count(*) AS n, count(DISTINCT trace_id) AS ids FROM traces",
            "--format",
            "csv",
        ])
        .output()
        .expect("query");
    assert_eq!(
        String::from_utf8_lossy(&query.stdout),
        "n,ids\n20000,20000\n"
    );
}

/// The IDs `ing-000000` to `ing-{acked-1}` that are missing from `traces`.
fn missing_acknowledged(data: &std::path::Path, acked: usize) -> u64 {
    if acked == 0 {
        return 0;
    }
    let text = sql_csv(
        data,
        &format!(
            "SELECT {acked} - count(DISTINCT trace_id) AS missing FROM traces \
             WHERE trace_id < 'ing-{acked:06}'"
        ),
    );
    text.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("a number")
}

#[test]
fn kill_9_during_ingest_loses_no_acknowledged_trace_and_duplicates_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = dir.path().join("traces.ndjson");
    let n = 4000;
    std::fs::write(&input, recent_traces(n, 180)).expect("write input");
    let mut kills = KillAtRandom::new(0x9e37_79b9_7f4a_7c15);
    let mut killed = 0;
    for _ in 0..10 {
        // Killed once this many traces are acknowledged: wherever the next append then is.
        let kill_after = kills.below(n as u64) as usize;
        let mut child = cts(&data)
            .args(["ingest", "--batch", "10", "--print-acks"])
            .arg(&input)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ingest");
        let pid = child.id().to_string();
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let (mut acked, mut sent) = (0usize, false);
            for line in
                std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok)
            {
                if let Some(k) = line.strip_prefix("ack ").and_then(|l| l.rsplit(' ').next()) {
                    acked = k.parse().expect("count");
                }
                if acked >= kill_after && !sent {
                    let status = std::process::Command::new("kill")
                        .args(["-9", &pid])
                        .status()
                        .expect("kill -9");
                    sent = status.success();
                }
            }
            (acked, sent)
        });
        let status = child.wait().expect("reap");
        let (acked, sent) = reader.join().expect("ack reader");
        if sent && !status.success() {
            killed += 1;
        }
        // Every acknowledged trace is there, and no trace twice.
        assert_eq!(missing_acknowledged(&data, acked), 0, "acked {acked}");
        let (count, distinct) = counts(&data, "traces");
        assert_eq!(count, distinct);
        assert!(count as usize >= acked);
    }
    assert!(killed >= 3, "only {killed} runs were killed mid-ingest");
    let last = cts(&data)
        .arg("ingest")
        .arg(&input)
        .output()
        .expect("ingest");
    assert!(last.status.success(), "{last:?}");
    assert_eq!(counts(&data, "traces"), (n as u64, n as u64));
}

#[test]
fn kill_9_during_roll_over_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = dir.path().join("traces.ndjson");
    let n = 30_000;
    std::fs::write(&input, recent_traces(n, 180)).expect("write input");
    let ingested = cts(&data)
        .arg("ingest")
        .arg(&input)
        .output()
        .expect("ingest");
    assert!(ingested.status.success(), "{ingested:?}");
    assert_eq!(counts(&data, "hot_traces"), (n as u64, n as u64));

    // Roll-overs to a retention of one hour, killed at pseudo-random points.
    let mut kills = KillAtRandom::new(0x2545_f491_4f6c_dd1d);
    for _ in 0..8 {
        kills.run(cts(&data).args(["--retention", "1h", "maintain"]), 10, 600);
        assert_eq!(counts(&data, "traces"), (n as u64, n as u64));
    }
    assert!(
        kills.killed >= 2,
        "only {} roll-overs were killed",
        kills.killed
    );
    let done = cts(&data)
        .args(["--retention", "1h", "maintain"])
        .output()
        .expect("maintain");
    assert!(done.status.success(), "{done:?}");
    assert_eq!(counts(&data, "traces"), (n as u64, n as u64));
    // The traces older than an hour are in the archive, and gone from the hot store.
    let (hot, _) = counts(&data, "hot_traces");
    let (archived, archived_distinct) = counts(&data, "archive_traces");
    assert_eq!(archived, archived_distinct);
    assert_eq!(hot + archived, n as u64);
    assert!(archived > n as u64 / 2, "{archived} archived");
    let stale = sql_csv(
        &data,
        "SELECT count(*) AS n FROM hot_traces WHERE time < now() - interval '62 minutes'",
    );
    assert_eq!(stale, "n\n0\n");
}

#[test]
fn kill_9_during_compaction_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = dir.path().join("traces.ndjson");
    let n = 36_000;
    let all = recent_traces(n, 60);
    let lines: Vec<&str> = all.lines().collect();
    // Twelve flushed segments per day, left unmerged.
    for part in lines.chunks(n / 12) {
        std::fs::write(&input, part.join("\n")).expect("write input");
        let ingested = cts(&data)
            .args(["--max-segments-per-day", "100", "ingest"])
            .arg(&input)
            .output()
            .expect("ingest");
        assert!(ingested.status.success(), "{ingested:?}");
        let flushed = cts(&data)
            .args(["--max-segments-per-day", "100", "maintain"])
            .output()
            .expect("maintain");
        assert!(flushed.status.success(), "{flushed:?}");
    }
    let segments = || {
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("hot/state.json")).expect("state"))
                .expect("json");
        state["segments"].as_array().expect("segments").len()
    };
    assert!(segments() >= 12, "{} segments", segments());
    assert_eq!(counts(&data, "traces"), (n as u64, n as u64));

    let mut kills = KillAtRandom::new(0x0bad_5eed_1234_5678);
    for _ in 0..6 {
        kills.run(cts(&data).arg("maintain"), 5, 1200);
        assert_eq!(counts(&data, "traces"), (n as u64, n as u64));
    }
    let done = cts(&data).arg("maintain").output().expect("maintain");
    assert!(done.status.success(), "{done:?}");
    assert_eq!(counts(&data, "traces"), (n as u64, n as u64));
    // Merged: at most 8 segments per day, and the traces spread over at most two days.
    assert!(segments() <= 16, "{} segments after compaction", segments());
    eprintln!("{} of 6 compactions killed", kills.killed);
}

#[test]
fn kill_9_during_archive_compaction_shows_every_trace_once_at_every_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket");
    let data = dir.path().join("data");
    let made = cts(&data)
        .args(["gen", &bucket.to_string_lossy(), "--traces", "20000"])
        .args(["--days", "3", "--seed", "12", "--end", "2024-06-30"])
        .output()
        .expect("gen");
    assert!(made.status.success(), "{made:?}");
    // Small chunks: each day in several files.
    let loaded = cts(&data)
        .args([
            "load",
            &bucket.to_string_lossy(),
            "--quiet",
            "--chunk-mb",
            "1",
        ])
        .output()
        .expect("load");
    assert!(loaded.status.success(), "{loaded:?}");
    let parquet_files = |data: &std::path::Path| -> Vec<String> {
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
        names
    };
    assert!(parquet_files(&data).len() > 6, "{:?}", parquet_files(&data));

    let totals = "SELECT count(*) AS n, count(DISTINCT trace_id) AS ids FROM traces";
    let mut kills = KillAtRandom::new(0x9e37_79b9_7f4a_7c15);
    for _ in 0..10 {
        kills.run(cts(&data).args(["compact", "--grace-secs", "0"]), 20, 700);
        // Wherever it stopped: every trace once.
        assert_eq!(sql_csv(&data, totals), "n,ids\n20000,20000\n");
    }
    assert!(
        kills.killed >= 2,
        "only {} runs were killed mid-compaction",
        kills.killed
    );

    // Two runs to completion: one file per day is left, nothing staged, every trace once.
    for _ in 0..2 {
        let run = cts(&data)
            .args(["compact", "--grace-secs", "0"])
            .output()
            .expect("compact");
        assert!(run.status.success(), "{run:?}");
    }
    let files = parquet_files(&data);
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files.iter().all(|f| f.starts_with("compact-")), "{files:?}");
    assert!(
        files_named_like_staging(&data).is_empty(),
        "{:?}",
        files_named_like_staging(&data)
    );
    assert_eq!(sql_csv(&data, totals), "n,ids\n20000,20000\n");
}
