//! The loader conformance suite, run against every storage backend: local folders, a real
//! S3-compatible server (SeaweedFS, started on 127.0.0.1 here), and the two mixed. Counts are
//! read from the archive's Parquet files through the visibility rule, with no query engine.

use cts_core::source::Source;
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::{
    Archive, CompactOptions, CompactSummary, MANIFEST_DIR, ManifestEntry, Outcome, REJECTS_DIR,
    RowOrder, compact, writer_properties,
};
use cts_sample::GenOptions;
use cts_testkit::{
    SeaweedFs, archive_counts, block_on, day_file_orders, day_traces, hand_made_file, put_all,
    run_load, sample,
};

/// A local folder path as a string.
fn dir_string(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn local_folders_pass_the_loader_conformance_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir_string(&dir.path().join("bucket"));
    let archive = dir_string(&dir.path().join("archive"));
    block_on(loader_conformance(
        &source,
        &archive,
        &StorageOptions::default(),
    ));
}

#[test]
fn s3_buckets_pass_the_loader_conformance_suite() {
    let server = SeaweedFs::start();
    let options = server.options();
    block_on(loader_conformance(
        "s3://cts-source/",
        "s3://cts-archive/archive",
        &options,
    ));

    // A bucket source into a local archive, and a local source into a bucket archive.
    let dir = tempfile::tempdir().expect("temp dir");
    block_on(loader_conformance(
        "s3://cts-source-2/",
        &dir_string(&dir.path().join("archive")),
        &options,
    ));
    block_on(loader_conformance(
        &dir_string(&dir.path().join("bucket")),
        "s3://cts-archive-2/",
        &options,
    ));
}

#[test]
fn a_server_that_stops_mid_load_stops_the_load_and_a_rerun_completes_exactly() {
    use cts_core::load::{LoadOptions, load};
    use std::time::{Duration, Instant};

    let mut server = SeaweedFs::start();
    let mut options = server.options();
    // Fail fast once the server is gone: one retry, within two seconds.
    options.max_retries = Some(1);
    options.retry_timeout = Some(Duration::from_secs(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let archive_dir = dir.path().join("archive");
    let (generated, objects) = sample(&GenOptions {
        traces: 5_000,
        days: 2,
        end: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        seed: 21,
        ..Default::default()
    });
    assert_eq!(generated.distinct_traces, 5_000);
    block_on(put_all(
        &Location::parse("s3://faults/", &options).expect("bucket"),
        objects,
    ));

    let load_options = LoadOptions {
        threads: 2,
        chunk_json_bytes: 64 << 10,
        ..Default::default()
    };
    let (src_options, arch_dir, opts) =
        (options.clone(), archive_dir.clone(), load_options.clone());
    let running = std::thread::spawn(move || {
        block_on(async {
            let source = Source::open("s3://faults/", &src_options).expect("source");
            let archive = Archive::new(Location::local(&arch_dir).expect("archive"));
            load(&source, &archive, &opts).await
        })
    });
    // Stop the server as soon as the first chunk is in the archive.
    let started = Instant::now();
    let committed = || {
        std::fs::read_dir(archive_dir.join("traces"))
            .map(|days| {
                days.flatten()
                    .any(|d| std::fs::read_dir(d.path()).is_ok_and(|mut f| f.next().is_some()))
            })
            .unwrap_or(false)
    };
    while !committed() {
        assert!(
            !running.is_finished(),
            "the load ended before anything was committed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing committed in 120 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !running.is_finished(),
        "the load finished before the server could be stopped"
    );
    server.stop();
    let stopped = running.join().expect("load thread");
    let err = match stopped {
        Ok(summary) => panic!("the load succeeded with the server down: {summary}"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.starts_with("read s3://faults/CloudTraces/eu-de/2024/06/"),
        "{err}"
    );

    let archive = Archive::new(Location::local(&archive_dir).expect("archive"));
    let (partial, distinct) = block_on(archive_counts(&archive));
    assert_eq!(partial, distinct);
    assert!(partial > 0 && partial < 5_000, "{partial}");

    // The server returns: the next run completes with exact counts, and the one after is idle.
    server.restart();
    block_on(async {
        let source = Source::open("s3://faults/", &options).expect("source");
        let resumed = load(&source, &archive, &load_options)
            .await
            .expect("resumed load");
        assert!(resumed.is_clean(), "{resumed}");
        assert_eq!(resumed.traces_loaded, 5_000 - partial, "{resumed}");
        assert_eq!(archive_counts(&archive).await, (5_000, 5_000));
        let idle = load(&source, &archive, &load_options)
            .await
            .expect("idle load");
        assert_eq!((idle.files_loaded, idle.traces_loaded), (0, 0), "{idle}");
    });
}

#[test]
fn a_long_manifest_is_merged_into_one_segment_keeping_the_latest_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = Archive::new(Location::local(&dir.path().join("archive")).expect("archive"));
    let entry = |i: usize, outcome: Outcome| ManifestEntry {
        source: format!("file:///bucket/f{}.json", i % 10),
        size: i as u64,
        etag: Some(format!("e{i}")),
        outcome,
        traces: i as u64,
        duplicates: 0,
        rejected: 0,
        error: None,
        run: format!("run{i:02}"),
        integrity: None,
        integrity_detail: None,
    };
    block_on(async {
        for i in 0..40 {
            let outcome = if i % 3 == 0 {
                Outcome::Failed
            } else {
                Outcome::Loaded
            };
            archive
                .append_manifest(&[entry(i, outcome)], &format!("run{i:02}-00000"))
                .await
                .expect("append");
        }
        let before = archive.read_manifest().await.expect("read");
        assert_eq!((before.segments.len(), before.entries.len()), (40, 10));
        assert!(archive.compact_manifest("run99").await.expect("compact"));
        let after = archive.read_manifest().await.expect("read");
        assert_eq!(after.segments.len(), 1);
        assert_eq!(after.entries, before.entries);
        // The latest entry of each file won: f0 was last written by i = 30, f9 by i = 39.
        assert_eq!(after.entries["file:///bucket/f0.json"].run, "run30");
        assert_eq!(after.entries["file:///bucket/f9.json"].size, 39);
        assert!(!archive.compact_manifest("run100").await.expect("compact"));
    });
}

/// The loader conformance suite. `source` and `archive` are fresh, empty locations.
pub(crate) async fn loader_conformance(
    source_spec: &str,
    archive_spec: &str,
    options: &StorageOptions,
) {
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
    assert_eq!(archive_counts(&archive).await, (2_000, 2_000));

    // Second run: nothing new.
    let second = run_load(&source, &archive).await;
    assert_eq!(second.files_loaded, 0, "{second}");
    assert_eq!(second.traces_loaded, 0, "{second}");
    assert_eq!(second.unchanged_files, generated.trace_files, "{second}");
    assert_eq!(second.previously_failed, 3, "{second}");
    assert!(second.failures.is_empty(), "{second}");
    assert_eq!(archive_counts(&archive).await, (2_000, 2_000));

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
    assert_eq!(archive_counts(&archive).await, (2_005, 2_005));

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
    assert_eq!(archive_counts(&archive).await, (2_008, 2_008));

    // A crash after data was written but before the manifest: lose the whole manifest. The
    // next run reads everything again and adds nothing.
    let manifest_dir = archive.location().child(MANIFEST_DIR);
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
    assert_eq!(archive_counts(&archive).await, (2_008, 2_008));

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
        .child(REJECTS_DIR)
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
    assert_eq!(archive_counts(&archive).await, (2_009, 2_009));

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

    // Every file the loader wrote is sorted by time and says so.
    let days = archive.days().await.expect("days");
    for day in &days {
        let orders = day_file_orders(archive, *day).await;
        assert!(
            orders.iter().all(|o| *o == (RowOrder::ByTime, true)),
            "{day}: {orders:?}"
        );
    }
    // A file of an older version declares no order: the first day gets one.
    let legacy = archive.day_files(days[0]).await.expect("day files")[0]
        .location
        .clone();
    rewrite_without_order(archive.location(), &legacy).await;
    let orders = day_file_orders(archive, days[0]).await;
    assert_eq!(orders[0], (RowOrder::Unordered, true));

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
    assert_eq!(archive_counts(archive).await, (2_009, 2_009));
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
    assert_eq!(again, CompactSummary::default());
    // Parts that all declare time order are merged by time, and the merged file says so; the
    // day with the older file is concatenated and declares no order.
    let orders: Vec<Vec<(RowOrder, bool)>> =
        futures::future::join_all(days.iter().map(|day| day_file_orders(archive, *day))).await;
    assert_eq!(orders[0].len(), 1, "{orders:?}");
    assert_eq!(orders[0][0].0, RowOrder::Unordered, "{orders:?}");
    assert_eq!(
        orders[1..],
        [
            vec![(RowOrder::ByTime, true)],
            vec![(RowOrder::ByTime, true)]
        ],
        "{orders:?}"
    );

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
    assert_eq!(archive_counts(archive).await, (2_010, 2_010));

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
    assert_eq!(archive_counts(archive).await, (2_010, 2_010));

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
    assert_eq!(archive_counts(archive).await, (2_010, 2_010));
    // The next run deletes what the second replaced: the first merged file of that day, the
    // new load's part, and the first run's record there.
    let third = compact(archive, &no_grace).await.expect("compact");
    assert_eq!((third.days, third.files_deleted), (0, 3), "{third:?}");
    for (day, names) in day_folders(archive).await {
        assert_eq!(names.len(), 2, "{day}: {names:?}");
        let stem = names[0].trim_end_matches(".json");
        assert_eq!(names[1], format!("{stem}.parquet"), "{day}: {names:?}");
    }
    assert_eq!(archive_counts(archive).await, (2_010, 2_010));
}

/// Write the Parquet file at `path` again, the same rows, without a declared row order (as
/// files of older versions are).
async fn rewrite_without_order(location: &Location, path: &object_store::path::Path) {
    let bytes = location.read(path).await.expect("read");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
        .expect("parquet")
        .build()
        .expect("reader");
    let schema = arrow::record_batch::RecordBatchReader::schema(&reader);
    let props = writer_properties(1024, &schema, RowOrder::Unordered).expect("properties");
    let mut out = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props)).expect("writer");
    for batch in reader {
        writer.write(&batch.expect("batch")).expect("write");
    }
    writer.close().expect("close");
    location.write(path, out.into()).await.expect("write");
}

/// Traces of one day of the archive.
async fn counts_of_day(archive: &Archive, day: i64) -> u64 {
    day_traces(archive, day).await.0
}
