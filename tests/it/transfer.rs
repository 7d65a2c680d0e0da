//! Transfer of trace files to trackers' buckets where it can go wrong: stopped between writing a
//! file and saving the cursor ([`fp::TRANSFER_FILE_WRITTEN`]) and just after saving it
//! ([`fp::TRANSFER_CURSOR_SAVED`]), with validation stopped after a digest is written
//! ([`fp::TRANSFER_DIGEST_WRITTEN`]), more than 10,000 traces of one service in one period,
//! recordings in flight while transfers run, and a bucket that fails and then recovers. Every
//! recorded trace reaches the bucket at least once, checked by loading the bucket with `cts load`
//! and counting against what was recorded.

use std::path::Path;

use cts_core::failpoint as fp;
use serde_json::{Value, json};

use cts_testkit::{ACCESS_KEY, SECRET_KEY, SeaweedFs, block_on};

use crate::common::cli::{cts, sql_csv};
use crate::serve::{PROJECT_A, Serve, TOKEN_A, batch, files_under};

/// A `system` tracker delivering to the bucket `bucket`, sorted by service.
fn create_tracker(serve: &Serve, bucket: &str) {
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system",
                    "obs_info": {"bucket_name": bucket, "file_prefix_name": "t", "compress_type": "gzip", "is_sort_by_service": true}})),
    );
    assert_eq!(status, 201, "{body}");
}

fn record(serve: &Serve, prefix: &str, n: usize, end: i64) {
    for start in (0..n).step_by(500) {
        let traces = batch(prefix, start..(start + 500).min(n), end);
        let (status, body) = serve.a("POST", "/traces", Some(json!(traces)));
        assert_eq!(status, 200, "{body}");
    }
}

/// Load the trace files under `source` into a new data directory: (traces read from the
/// files, distinct traces).
fn delivered(
    dir: &Path,
    name: &str,
    source: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (u64, u64) {
    let data = dir.join(name);
    let out = cts(&data)
        .args(extra)
        .envs(envs.iter().copied())
        .args(["load", source, "--quiet"])
        .output()
        .expect("load");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let duplicates: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("duplicates dropped: "))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no duplicates line: {text}"));
    let csv = sql_csv(&data, "SELECT count(*) AS n FROM traces");
    let distinct: u64 = csv.lines().nth(1).and_then(|l| l.parse().ok()).expect("n");
    (distinct + duplicates, distinct)
}

/// `POST /transfer` on a server that is about to stop: whatever comes back, if anything.
fn transfer_expecting_a_stop(serve: &Serve) {
    let url = format!("{}/v3/{PROJECT_A}/transfer", serve.url);
    let answer = block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("X-Auth-Token", TOKEN_A)
            .send()
            .await
    });
    assert!(
        answer.is_err() || answer.is_ok_and(|r| !r.status().is_success()),
        "the transfer was to stop"
    );
}

fn transfers(serve: &Serve) -> Value {
    let (status, body) = serve.a("POST", "/transfer", None);
    assert_eq!(status, 200, "{body}");
    body["transfers"].clone()
}

#[test]
fn a_transfer_stopped_between_file_and_cursor_is_sent_again_and_after_the_cursor_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let bucket = data.join("buckets").join("trail");
    std::fs::create_dir_all(&bucket).expect("bucket folder");
    let args = ["--transfer-interval", "1h"];
    let now = chrono::Utc::now().timestamp_millis();
    {
        let serve = Serve::start(&data, &args, &[]);
        create_tracker(&serve, "trail");
        record(&serve, "a", 300, now - 60_000);
    }
    // Stopped after the second of three files (one per service): the cursor stays put.
    let stop_after_two = format!("{}=1*off->return(abort)", fp::TRANSFER_FILE_WRITTEN);
    let mut serve = Serve::start(&data, &args, &[("FAILPOINTS", &stop_after_two)]);
    transfer_expecting_a_stop(&serve);
    serve.kill();
    assert_eq!(files_under(&bucket).len(), 2, "two files before the stop");
    let serve = Serve::start(&data, &args, &[]);
    assert_eq!(
        transfers(&serve),
        json!([{"tracker": "system", "files": 3, "traces": 300, "error": null}]),
        "sent again, all of it"
    );
    drop(serve);
    assert_eq!(files_under(&bucket).len(), 5);
    let (records, distinct) = delivered(dir.path(), "load-1", &bucket.to_string_lossy(), &[], &[]);
    assert_eq!(distinct, 300);
    assert!(
        records > 300,
        "the first two files were sent twice: {records}"
    );

    // Stopped just after the cursor is saved: the next transfer sends nothing again.
    {
        let serve = Serve::start(&data, &args, &[]);
        record(&serve, "b", 30, now - 30_000);
    }
    let stop_at_cursor = format!("{}=return(abort)", fp::TRANSFER_CURSOR_SAVED);
    let mut serve = Serve::start(&data, &args, &[("FAILPOINTS", &stop_at_cursor)]);
    transfer_expecting_a_stop(&serve);
    serve.kill();
    let serve = Serve::start(&data, &args, &[]);
    assert_eq!(
        transfers(&serve),
        json!([{"tracker": "system", "files": 0, "traces": 0, "error": null}]),
        "nothing left to send: the cursor was saved"
    );
    drop(serve);
    let (_, distinct) = delivered(dir.path(), "load-2", &bucket.to_string_lossy(), &[], &[]);
    assert_eq!(distinct, 330);
}

#[test]
fn more_than_ten_thousand_traces_of_a_service_in_one_period_go_in_several_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let bucket = data.join("buckets").join("big");
    std::fs::create_dir_all(&bucket).expect("bucket folder");
    let serve = Serve::start(&data, &["--transfer-interval", "1h"], &[]);
    create_tracker(&serve, "big");
    let now = chrono::Utc::now().timestamp_millis();
    // batch() rotates three services: 30,150 traces are 10,050 per service.
    record(&serve, "m", 30_150, now - 1_000);
    assert_eq!(
        transfers(&serve),
        json!([{"tracker": "system", "files": 6, "traces": 30_150, "error": null}])
    );
    let mut sizes: Vec<usize> = files_under(&bucket)
        .iter()
        .map(|f| {
            let gz = std::fs::read(bucket.join(f)).expect("file");
            let mut json = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json)
                .expect("gzip");
            serde_json::from_str::<Vec<Value>>(&json)
                .expect("a JSON array")
                .len()
        })
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [50, 50, 50, 10_000, 10_000, 10_000]);
}

#[test]
fn recordings_in_flight_while_transfers_run_all_reach_the_bucket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let bucket = data.join("buckets").join("busy");
    std::fs::create_dir_all(&bucket).expect("bucket folder");
    let serve = Serve::start(&data, &["--transfer-interval", "1h"], &[]);
    create_tracker(&serve, "busy");
    let now = chrono::Utc::now().timestamp_millis();
    let url = serve.url.clone();
    let senders: Vec<_> = (0..4)
        .map(|k| {
            let url = url.clone();
            std::thread::spawn(move || {
                for b in 0..25 {
                    let traces = batch(&format!("f{k}-{b:02}"), 0..20, now);
                    let answer = block_on(async {
                        reqwest::Client::new()
                            .post(format!("{url}/v3/{PROJECT_A}/traces"))
                            .header("X-Auth-Token", TOKEN_A)
                            .body(json!(traces).to_string())
                            .send()
                            .await
                    })
                    .expect("record");
                    assert!(answer.status().is_success());
                }
            })
        })
        .collect();
    // Transfers while they record, until they are done; then one more.
    let mut sent = 0u64;
    while senders.iter().any(|s| !s.is_finished()) {
        for t in transfers(&serve).as_array().expect("transfers") {
            sent += t["traces"].as_u64().expect("traces");
        }
    }
    for s in senders {
        s.join().expect("sender");
    }
    for t in transfers(&serve).as_array().expect("transfers") {
        sent += t["traces"].as_u64().expect("traces");
    }
    assert_eq!(sent, 2_000, "each recorded trace transferred once");
    drop(serve);
    let (records, distinct) = delivered(dir.path(), "loaded", &bucket.to_string_lossy(), &[], &[]);
    assert_eq!((records, distinct), (2_000, 2_000));
}

#[test]
fn a_bucket_that_fails_shows_the_error_and_the_next_transfer_after_recovery_sends_everything() {
    let mut s3 = SeaweedFs::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let envs = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let endpoint = s3.endpoint.clone();
    let s3_args = ["--endpoint", &endpoint, "--region", "us-east-1"];
    let args = [
        &s3_args[..],
        &["--buckets", "s3://", "--transfer-interval", "1h"],
    ]
    .concat();
    block_on(async {
        let bucket =
            cts_core::storage::Location::parse("s3://cts-trail", &s3.options()).expect("bucket");
        bucket
            .write(&bucket.path("README.txt"), "trace files".into())
            .await
            .expect("create the bucket")
    });
    let serve = Serve::start(&data, &args, &envs);
    create_tracker(&serve, "cts-trail");
    let now = chrono::Utc::now().timestamp_millis();
    record(&serve, "s", 90, now - 60_000);

    s3.stop();
    let failed = transfers(&serve);
    assert_eq!(failed[0]["files"], json!(0), "{failed}");
    assert!(failed[0]["error"].is_string(), "{failed}");
    let (_, listed) = serve.a("GET", "/trackers?tracker_name=system", None);
    assert_eq!(listed["trackers"][0]["status"], "error", "{listed}");
    assert!(listed["trackers"][0]["detail"].is_string(), "{listed}");

    s3.restart();
    record(&serve, "t", 30, now - 30_000);
    assert_eq!(
        transfers(&serve),
        json!([{"tracker": "system", "files": 3, "traces": 120, "error": null}])
    );
    let (_, listed) = serve.a("GET", "/trackers?tracker_name=system", None);
    assert_eq!(listed["trackers"][0]["status"], "enabled", "{listed}");
    let (records, distinct) = delivered(dir.path(), "loaded", "s3://cts-trail", &s3_args, &envs);
    assert_eq!((records, distinct), (120, 120));
}

/// `cts verify` of `bucket` with the server's public key: (exit code, summary line).
fn verify(data: &Path, bucket: &Path) -> (Option<i32>, String) {
    let key = data.join("signing-key.pub.pem");
    let out = cts(&data.join("verify"))
        .args([
            "verify",
            &bucket.to_string_lossy(),
            "--public-key",
            &key.to_string_lossy(),
        ])
        .output()
        .expect("verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stderr
        .lines()
        .last()
        .and_then(|l| l.split_once(": "))
        .map(|(_, s)| s.to_string())
        .unwrap_or_default();
    (
        out.status.code(),
        format!("{summary}{}", String::from_utf8_lossy(&out.stdout)),
    )
}

#[test]
fn with_validation_every_file_is_in_a_signed_chain_that_survives_stops_at_each_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let bucket = data.join("buckets").join("signed");
    std::fs::create_dir_all(&bucket).expect("bucket folder");
    // Digests every 2 seconds rather than every hour, so that periods close during the test.
    let args = ["--transfer-interval", "1h", "--digest-interval", "2s"];
    let now = chrono::Utc::now().timestamp_millis();
    let period = std::time::Duration::from_millis(2_100);
    {
        let serve = Serve::start(&data, &args, &[]);
        let (status, body) = serve.a(
            "POST",
            "/tracker",
            Some(json!({"tracker_type": "system", "tracker_name": "system", "is_support_validate": true,
                        "obs_info": {"bucket_name": "signed", "file_prefix_name": "t", "compress_type": "gzip", "is_sort_by_service": true}})),
        );
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["is_support_validate"], json!(true), "{body}");
        record(&serve, "a", 300, now - 60_000);
        assert_eq!(
            transfers(&serve),
            json!([{"tracker": "system", "files": 3, "traces": 300, "error": null}])
        );
        std::thread::sleep(period);
        transfers(&serve); // the period of the three files is over: its digests
    }
    let digests = |b: &Path| {
        files_under(b)
            .into_iter()
            .filter(|f| f.contains("_CloudTrace-Digest_") && f.ends_with(".json.gz"))
            .count()
    };
    assert!(
        digests(&bucket) >= 3,
        "a digest per service folder: {:?}",
        files_under(&bucket)
    );
    assert_eq!(verify(&data, &bucket).0, Some(0));

    // Stopped after writing one of three trace files: the other two go again next time; all of
    // them, the stopped transfer's too, are listed in the digests.
    {
        let serve = Serve::start(&data, &args, &[]);
        record(&serve, "b", 300, now - 30_000);
    }
    let stop_after_one = format!("{}=return(abort)", fp::TRANSFER_FILE_WRITTEN);
    let mut serve = Serve::start(&data, &args, &[("FAILPOINTS", &stop_after_one)]);
    transfer_expecting_a_stop(&serve);
    serve.kill();
    {
        let serve = Serve::start(&data, &args, &[]);
        transfers(&serve);
        std::thread::sleep(period);
    }
    // Stopped after writing a digest, before its chain moved on: written again, the same.
    let stop_at_digest = format!("{}=return(abort)", fp::TRANSFER_DIGEST_WRITTEN);
    let mut serve = Serve::start(&data, &args, &[("FAILPOINTS", &stop_at_digest)]);
    transfer_expecting_a_stop(&serve);
    serve.kill();
    {
        let serve = Serve::start(&data, &args, &[]);
        transfers(&serve);
    }
    let trace_files = files_under(&bucket)
        .into_iter()
        .filter(|f| f.contains("_CloudTrace_"))
        .count();
    assert_eq!(trace_files, 3 + 1 + 3, "{:?}", files_under(&bucket));
    let (code, summary) = verify(&data, &bucket);
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(
        summary,
        format!(
            "PASSED: {trace_files} verified, {} digest verified",
            digests(&bucket)
        )
    );
    // Every trace reached the bucket.
    let (_, distinct) = delivered(dir.path(), "loaded", &bucket.to_string_lossy(), &[], &[]);
    assert_eq!(distinct, 600);
}

#[test]
fn validation_turned_off_ends_each_chain_and_turned_on_again_starts_new_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let bucket = data.join("buckets").join("ended");
    std::fs::create_dir_all(&bucket).expect("bucket folder");
    let args = ["--transfer-interval", "1h", "--digest-interval", "2s"];
    let now = chrono::Utc::now().timestamp_millis();
    let tracker = |validate: bool| {
        json!({"tracker_type": "system", "tracker_name": "system", "is_support_validate": validate,
               "obs_info": {"bucket_name": "ended", "file_prefix_name": "t", "compress_type": "gzip", "is_sort_by_service": true}})
    };
    let serve = Serve::start(&data, &args, &[]);
    let (status, body) = serve.a("POST", "/tracker", Some(tracker(true)));
    assert_eq!(status, 201, "{body}");
    record(&serve, "a", 300, now - 60_000);
    transfers(&serve);
    // Off before the period of those files is over: their digests are the ending ones.
    let (status, body) = serve.a("PUT", "/tracker", Some(tracker(false)));
    assert_eq!(status, 200, "{body}");
    transfers(&serve);
    let digests_now = || -> Vec<(String, cts_core::integrity::Digest)> {
        files_under(&bucket)
            .into_iter()
            .filter(|f| f.contains("_CloudTrace-Digest_") && f.ends_with(".json.gz"))
            .map(|f| {
                let bytes = std::fs::read(bucket.join(&f)).expect("read");
                (
                    f,
                    cts_core::integrity::Digest::decode(&bytes).expect("a digest"),
                )
            })
            .collect()
    };
    // Per service folder, the newest digest ends the chain (a period may have closed before
    // the switch: then a regular digest comes first); the three files are listed once.
    let ended = digests_now();
    let mut folders: std::collections::BTreeMap<String, Vec<&cts_core::integrity::Digest>> =
        Default::default();
    for (key, d) in &ended {
        let folder = key
            .rsplit_once('/')
            .map(|(f, _)| f.to_string())
            .unwrap_or_default();
        folders.entry(folder).or_default().push(d);
    }
    assert_eq!(folders.len(), 3, "one chain per service folder: {ended:?}");
    for (folder, mut chain) in folders {
        chain.sort_by(|a, b| a.digest_end_time.cmp(&b.digest_end_time));
        let (last, before) = chain.split_last().expect("a digest");
        assert!(
            last.digest_end,
            "{folder}: the newest digest ends the chain"
        );
        assert!(
            before.iter().all(|d| !d.digest_end),
            "{folder}: only the newest ends it"
        );
    }
    let listed: usize = ended.iter().map(|(_, d)| d.log_files.len()).sum();
    assert_eq!(listed, 3, "the three trace files are in the digests, once");
    let ended_count = ended.len();
    // Verified now: files delivered after the chains ended are not covered, not pending (a
    // pause first: the ending digest ends on the next whole second, or the one after).
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    record(&serve, "b", 100, now - 50_000);
    transfers(&serve);
    let (code, summary) = verify(&data, &bucket);
    assert_eq!(code, Some(3), "{summary}");
    assert!(
        summary.contains("delivered after its tracker's chains ended"),
        "{summary}"
    );
    // Off, nothing more is written: no digest for later files.
    assert_eq!(digests_now().len(), ended_count);
    let trace_files = || {
        files_under(&bucket)
            .into_iter()
            .filter(|f| f.contains("_CloudTrace_"))
            .count()
    };
    let off = trace_files() - 3;
    assert!(off >= 1, "files written while validation was off");

    // On again: new chains, which verify after the ended ones.
    let (status, body) = serve.a("PUT", "/tracker", Some(tracker(true)));
    assert_eq!(status, 200, "{body}");
    record(&serve, "c", 300, now - 40_000);
    transfers(&serve);
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    transfers(&serve);
    let all = digests_now();
    assert!(all.len() >= ended_count + 3, "new chains: {all:?}");
    let (code, summary) = verify(&data, &bucket);
    // The files written while validation was off are in no digest: not covered, and named.
    assert_eq!(code, Some(3), "{summary}");
    let files = trace_files();
    assert_eq!(files, 3 + off + 3);
    let expected = format!(
        "FAILED: {} verified, {off} not covered, {} digest verified",
        files - off,
        all.len()
    );
    assert!(summary.starts_with(&expected), "{summary}");
    // The problem rows after it: those files, and nothing else.
    assert_eq!(summary.matches("| not covered |").count(), off, "{summary}");
    assert_eq!(
        summary.matches("no digest lists it").count(),
        off,
        "{summary}"
    );
}
