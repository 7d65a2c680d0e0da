//! `cts ingest` end to end: visible to `cts sql` at once, from files and standard input, while
//! another process queries; bad input named and set aside.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use crate::common::cli::{counts, cts, recent_traces, sql_csv};

#[test]
fn ingested_traces_show_in_another_process_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, recent_traces(300, 60)).expect("write");
    let out = cts(&data)
        .arg("ingest")
        .arg(&input)
        .output()
        .expect("ingest");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("ingested 300 traces from 1 inputs in 1 durable appends"),
        "{text}"
    );
    assert!(
        text.contains("300 into the hot store, 0 older than its watermark into the archive, 0 duplicates dropped"),
        "{text}"
    );
    assert_eq!(counts(&data, "traces"), (300, 300));
    assert_eq!(counts(&data, "hot_traces"), (300, 300));
    assert_eq!(counts(&data, "archive_traces"), (0, 0));

    // From standard input, with 100 of the same traces again and 50 new ones.
    let mut more = recent_traces(350, 60);
    more = more.lines().skip(200).collect::<Vec<_>>().join("\n");
    let mut child = cts(&data)
        .args(["ingest", "-", "--batch", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(more.as_bytes())
        .expect("feed");
    let out = child.wait_with_output().expect("ingest");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("50 into the hot store, 0 older than its watermark into the archive, 100 duplicates dropped"),
        "{text}"
    );
    assert!(text.contains("in 15 durable appends"), "{text}");
    assert_eq!(counts(&data, "traces"), (350, 350));
}

#[test]
fn queries_while_an_ingest_runs_see_every_acknowledged_trace_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = dir.path().join("in.ndjson");
    let n = 3000u64;
    std::fs::write(&input, recent_traces(n as usize, 300)).expect("write");
    // Create the store first, so that queries never race its creation.
    let out = cts(&data).arg("maintain").output().expect("maintain");
    assert!(out.status.success(), "{out:?}");

    let mut child = cts(&data)
        .args(["ingest", "--batch", "20", "--print-acks"])
        .arg(&input)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn ingest");
    let stdout = child.stdout.take().expect("stdout");
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let acks = acked.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(k) = line.strip_prefix("ack ").and_then(|l| l.rsplit(' ').next()) {
                acks.store(
                    k.parse().expect("count"),
                    std::sync::atomic::Ordering::SeqCst,
                );
            }
        }
    });
    let mut queries = 0;
    let mut seen_partial = false;
    loop {
        let done = child.try_wait().expect("poll").is_some();
        let before = acked.load(std::sync::atomic::Ordering::SeqCst);
        let (count, distinct) = counts(&data, "traces");
        assert_eq!(count, distinct, "a trace counted twice");
        assert!(
            count >= before,
            "{before} traces acknowledged before the query, {count} visible"
        );
        seen_partial |= count > 0 && count < n;
        queries += 1;
        if done {
            break;
        }
    }
    reader.join().expect("reader");
    assert!(child.wait().expect("reap").success());
    assert_eq!(counts(&data, "traces"), (n, n));
    assert!(queries >= 2, "only {queries} queries ran during the ingest");
    // Not asserted (it depends on timing), but reported: did a query land mid-ingest?
    eprintln!("{queries} queries, one saw a partial ingest: {seen_partial}");
}

#[test]
fn bad_input_to_ingest_is_named_and_the_rest_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let good = dir.path().join("good.ndjson");
    let broken = dir.path().join("broken.json");
    let mixed = dir.path().join("mixed.json");
    std::fs::write(&good, recent_traces(5, 10)).expect("write");
    std::fs::write(&broken, b"[{\"trace_id\": \"x\", ").expect("write");
    let now = chrono::Utc::now().timestamp_millis();
    std::fs::write(
        &mixed,
        format!(r#"[{{"trace_id":"m1","time":{now}}},{{"time":{now}}},{{"trace_id":"m3"}}]"#),
    )
    .expect("write");
    let out = cts(&data)
        .arg("ingest")
        .args([&good, &broken, &mixed])
        .output()
        .expect("ingest");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("failed: {}: ", broken.display())),
        "{text}"
    );
    assert!(text.contains("records set aside: 2"), "{text}");
    assert!(
        text.contains(&format!("{}: record 2: ", mixed.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: record 3 (trace_id m3): ", mixed.display())),
        "{text}"
    );
    assert_eq!(
        sql_csv(&data, "SELECT trace_id FROM traces ORDER BY trace_id"),
        "trace_id\ning-000000\ning-000001\ning-000002\ning-000003\ning-000004\nm1\n"
    );
    // The records set aside are kept, with their JSON, in the archive's rejects folder.
    let rejects: Vec<_> = std::fs::read_dir(data.join("archive/_cts/rejects"))
        .expect("rejects folder")
        .flatten()
        .collect();
    assert_eq!(rejects.len(), 1);
    let text = std::fs::read_to_string(rejects[0].path()).expect("read");
    assert_eq!(text.lines().count(), 2, "{text}");
}
