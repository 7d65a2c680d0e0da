//! The loader on local folders: the conformance suite, day pruning, and the archive read by
//! another engine's rules (plain Hive-partitioned Parquet).

mod common;

use common::{
    block_on, counts, dir_string, loader_conformance, numbers, put_all, run_load, sample,
};
use cts::archive::Archive;
use cts::sample::GenOptions;
use cts::source::Source;
use cts::storage::{Location, StorageOptions};

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
fn a_predicate_on_time_reads_only_the_days_it_covers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = StorageOptions::default();
    let bucket = Location::local(&dir.path().join("bucket")).expect("bucket");
    let archive = Archive::new(Location::local(&dir.path().join("archive")).expect("archive"));
    let gen_options = GenOptions {
        traces: 3_000,
        days: 7,
        end: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        seed: 3,
        ..Default::default()
    };
    let (_, objects) = sample(&gen_options);
    block_on(async {
        put_all(&bucket, objects).await;
        let source =
            Source::open(&dir_string(&dir.path().join("bucket")), &options).expect("source");
        let summary = run_load(&source, &archive).await;
        assert_eq!(summary.traces_loaded, 3_000, "{summary}");
        assert_eq!(counts(&archive).await, (3_000, 3_000));

        // The same count through the partition column and through time.
        let by_day = numbers(
            &archive,
            "SELECT count(*) FROM traces WHERE day >= '2024-06-29'",
        )
        .await;
        let by_time = numbers(
            &archive,
            "SELECT count(*) FROM traces WHERE time >= TIMESTAMP '2024-06-29T00:00:00Z'",
        )
        .await;
        assert_eq!(by_day, by_time);
        assert!(by_day[0] > 0 && by_day[0] < 3_000, "{by_day:?}");

        // The plan for the time predicate lists files of 2024-06-29 and 2024-06-30 only.
        let ctx = cts::query::session(&archive).await.expect("session");
        let plan = ctx
            .sql("SELECT count(*) FROM traces WHERE time >= TIMESTAMP '2024-06-29T00:00:00Z' AND time < TIMESTAMP '2024-06-30T12:00:00Z'")
            .await
            .expect("plan")
            .create_physical_plan()
            .await
            .expect("physical plan");
        let text = cts::query::plan_text(&plan);
        let mut days: Vec<&str> = text
            .match_indices("day=")
            .map(|(i, _)| &text[i..i + 14])
            .collect();
        days.sort();
        days.dedup();
        assert_eq!(days, vec!["day=2024-06-29", "day=2024-06-30"], "{text}");

        // Every day of the week is a Hive partition folder of Parquet files.
        let mut partitions: Vec<String> = std::fs::read_dir(dir.path().join("archive/traces"))
            .expect("archive folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        partitions.sort();
        assert_eq!(
            partitions,
            (24..=30)
                .map(|d| format!("day=2024-06-{d}"))
                .collect::<Vec<_>>()
        );
    });
}

#[test]
fn a_long_manifest_is_merged_into_one_segment_keeping_the_latest_entries() {
    use cts::archive::{ManifestEntry, Outcome};
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
