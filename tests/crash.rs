//! kill -9 during `cts load`, many times, at pseudo-random points; then a load to completion.
//! Afterwards: every trace once, no half-written file, and a further run loads nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

fn cts(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cts"));
    c.arg("--data-dir").arg(data);
    c
}

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
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut killed = 0;
    for _ in 0..12 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = Duration::from_millis(50 + state % 1500);
        let mut child = cts(&data)
            .args(&load_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn load");
        std::thread::sleep(delay);
        if child.try_wait().expect("poll").is_none() {
            child.kill().expect("kill -9");
            killed += 1;
        }
        child.wait().expect("reap");
    }
    assert!(killed >= 3, "only {killed} runs were killed mid-load");
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
