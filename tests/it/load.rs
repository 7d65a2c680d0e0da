//! Loaded archives through SQL: day pruning, and the archive laid out as plain Hive-partitioned
//! Parquet. (The loader's conformance suite is `cts-core`'s.)

use crate::common::{counts, dir_string, numbers};
use cts_core::source::Source;
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::Archive;
use cts_sample::GenOptions;
use cts_testkit::{block_on, put_all, run_load, sample};

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
