//! Writers running at once on one archive, as a cron job and a person at a terminal do: two
//! `cts load` into one archive (a local folder, and a bucket on a real S3 server), and load,
//! ingest, maintenance and compaction together. Every trace once, checked against the
//! generator's count; the interleaving that used to duplicate traces is forced with a failpoint
//! (the first load holds at [`fp::LOAD_IDS_READ`] until the second has started), not left to
//! timing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cts_core::failpoint as fp;
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::Archive;
use cts_testkit::{ACCESS_KEY, SECRET_KEY, SeaweedFs, archive_counts, block_on};

use crate::common::cli::{counts, cts, recent_traces};
use crate::common::sample_bucket;

/// How long a test waits for another process to reach a point before it fails (a bound, so
/// that a bug fails the test rather than hangs it; not a timing being tested).
const PATIENCE: Duration = Duration::from_secs(180);

/// Wait until `path` exists while `child` runs, or fail (with what it said, if it ended).
fn wait_for_file(path: &Path, child: &mut Child, what: &str) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < PATIENCE, "{what} never happened");
        if let Ok(Some(status)) = child.try_wait() {
            let mut said = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut err, &mut said);
            }
            panic!("{what} never happened: it ended ({status}): {said}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Read `child`'s standard error until a line contains `needle` (then keep draining it in the
/// background); fails when the stream ends first.
fn wait_for_stderr(child: &mut Child, needle: &str) -> std::thread::JoinHandle<String> {
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = needle.to_string();
    let needle = wanted.clone();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut told = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if !told && line.contains(&needle) {
                let _ = tx.send(true);
                told = true;
            }
        }
        if !told {
            let _ = tx.send(false);
        }
        seen
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(true) => reader,
        other => {
            let seen = reader.join().unwrap_or_default();
            panic!("never saw {wanted:?} ({other:?}); stderr:\n{seen}");
        }
    }
}

/// Two loads of the same bucket into one archive, the first held after reading the archive's
/// trace IDs of its first chunk until the second has started and said it waits.
fn two_loads_at_once(dir: &Path, archive: &str, extra: &[&str], envs: &[(&str, &str)]) {
    let source = dir.join("bucket");
    sample_bucket(&source, 8_000, 31);
    let go = dir.join("go");
    let load = |data: &str| {
        let mut c = cts(&dir.join(data));
        c.args(extra)
            .args(["--archive", archive])
            .envs(envs.iter().copied())
            .args([
                "load",
                &source.to_string_lossy(),
                "--quiet",
                "--chunk-mb",
                "1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let mut first = load("first")
        .env(
            "FAILPOINTS",
            format!("{}=return(wait:{})", fp::LOAD_IDS_READ, go.display()),
        )
        .spawn()
        .expect("first load");
    wait_for_file(
        &PathBuf::from(format!("{}.reached", go.display())),
        &mut first,
        "the first load reaching its first chunk",
    );
    let mut second = load("second").spawn().expect("second load");
    let second_stderr = wait_for_stderr(&mut second, "waiting for the write lease");
    std::fs::write(&go, "go").expect("let the first go on");

    let first_out = first.wait_with_output().expect("first load");
    assert!(first_out.status.success(), "{first_out:?}");
    let second_status = second.wait().expect("second load");
    let second_err = second_stderr.join().expect("stderr");
    assert!(second_status.success(), "{second_err}");
    assert!(
        second_err.contains(", held by load (run "),
        "the second load says whom it waits for: {second_err}"
    );
}

#[test]
fn two_loads_into_one_local_archive_keep_every_trace_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive_dir = dir.path().join("archive");
    two_loads_at_once(dir.path(), &archive_dir.to_string_lossy(), &[], &[]);
    let archive = Archive::new(Location::local(&archive_dir).expect("archive"));
    assert_eq!(block_on(archive_counts(&archive)), (8_000, 8_000));
}

#[test]
fn two_loads_into_one_bucket_archive_keep_every_trace_once() {
    let s3 = SeaweedFs::start();
    let options: StorageOptions = s3.options();
    // SeaweedFS makes a bucket with its first object.
    block_on(async {
        let bucket = Location::parse("s3://cts-shared", &options).expect("bucket");
        bucket
            .write(
                &bucket.path("README.txt"),
                "the archive of two loads".into(),
            )
            .await
            .expect("create the bucket")
    });
    let dir = tempfile::tempdir().expect("temp dir");
    two_loads_at_once(
        dir.path(),
        "s3://cts-shared/archive",
        &["--endpoint", &s3.endpoint, "--region", "us-east-1"],
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ],
    );
    let archive =
        Archive::new(Location::parse("s3://cts-shared/archive", &options).expect("archive"));
    assert_eq!(block_on(archive_counts(&archive)), (8_000, 8_000));
}

#[test]
fn load_ingest_maintenance_compaction_and_queries_at_once_see_every_trace_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let source = dir.path().join("bucket");
    sample_bucket(&source, 8_000, 32);
    let input = dir.path().join("recent.ndjson");
    let recent = 3_000u64;
    std::fs::write(&input, recent_traces(recent as usize, 180)).expect("write input");
    // Two loads of the archive's first half: days with several files for compaction.
    let spawn = |args: &[&str]| -> Child {
        let mut c: Command = cts(&data);
        c.args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cts")
    };
    let source = source.to_string_lossy().into_owned();
    let writers = vec![
        spawn(&["load", &source, "--quiet", "--chunk-mb", "1"]),
        spawn(&["load", &source, "--quiet", "--chunk-mb", "1"]),
        spawn(&["ingest", "--batch", "100", &input.to_string_lossy()]),
        spawn(&["--retention", "1h", "maintain"]),
        spawn(&["compact", "--grace-secs", "0"]),
    ];
    // Queries while they run: never a trace twice.
    let mut queries = 0;
    let mut writers: Vec<Child> = writers;
    let started = Instant::now();
    loop {
        if started.elapsed() > PATIENCE {
            for w in &mut writers {
                let _ = w.kill();
            }
            panic!("the writers did not finish");
        }
        let running = writers
            .iter_mut()
            .filter_map(|w| w.try_wait().ok())
            .filter(Option::is_none)
            .count();
        let (all, distinct) = counts(&data, "traces");
        assert_eq!(all, distinct, "a trace twice while writers run");
        queries += 1;
        if running == 0 {
            break;
        }
    }
    for w in writers {
        let out = w.wait_with_output().expect("writer");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(queries >= 1);
    // Once more each, then everything is there once.
    let finish = |args: &[&str]| {
        let out = cts(&data).args(args).output().expect("cts");
        assert!(out.status.success(), "{out:?}");
    };
    finish(&["--retention", "1h", "maintain"]);
    finish(&["compact", "--grace-secs", "0"]);
    assert_eq!(
        counts(&data, "traces"),
        (8_000 + recent, 8_000 + recent),
        "after load, ingest, maintenance and compaction at once"
    );
}
