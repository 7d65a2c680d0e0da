//! `cts export`: a month of traces to Parquet that other engines read with the same row count,
//! filters, queries, errors, re-runs; and a kill -9 mid-export leaves no partial file.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use cts_core::store::archive::RowOrder;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::common::cli::cts;
use crate::common::parquet_files;
use crate::common::truth::{BucketTruth, object, rating, text, time_ms};

/// A generated bucket loaded into a data directory: the data directory, and what the bucket
/// holds, read without cts.
fn generated_data(dir: &Path, traces: &str, days: &str) -> (PathBuf, BucketTruth) {
    let bucket = dir.join("bucket");
    let data = dir.join("data");
    let made = cts(&data)
        .args(["gen"])
        .arg(&bucket)
        .args([
            "--traces",
            traces,
            "--days",
            days,
            "--seed",
            "9",
            "--end",
            "2024-06-30",
        ])
        .output()
        .expect("gen");
    assert!(made.status.success(), "{made:?}");
    let loaded = cts(&data)
        .args(["load", "-q"])
        .arg(&bucket)
        .output()
        .expect("load");
    assert!(loaded.status.success(), "{loaded:?}");
    (data, BucketTruth::read(&bucket))
}

#[test]
fn a_month_exports_one_file_per_day_with_every_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, truth) = generated_data(dir.path(), "3000", "40");
    let out = dir.path().join("out");
    let run = || {
        let export = cts(&data)
            .args([
                "export",
                "-q",
                "--from",
                "2024-06-01",
                "--to",
                "2024-07-01",
                "--out",
            ])
            .arg(&out)
            .output()
            .expect("export");
        assert!(export.status.success(), "{export:?}");
        String::from_utf8_lossy(&export.stdout).into_owned()
    };
    let printed = run();
    // 2024-06-01T00:00:00Z to 2024-07-01T00:00:00Z.
    let june = truth.count(|t| (1_717_200_000_000..1_719_792_000_000).contains(&time_ms(t))) as i64;
    assert!(june > 2000 && june < 3000, "{june}");
    assert!(
        printed.starts_with(&format!("exported {june} rows into 30 Parquet files")),
        "{printed}"
    );
    let files = parquet_files(&out);
    assert_eq!(files.len(), 30);
    assert_eq!(files[0].0, "day=2024-06-01/part-0.parquet");
    assert_eq!(files[29].0, "day=2024-06-30/part-0.parquet");
    assert_eq!(files.iter().map(|f| f.1).sum::<i64>(), june);
    // The day is the folder's, as Hive partitioning has it: not a column of the files.
    assert!(files.iter().all(|f| !f.2.contains(&"day".to_string())));
    assert!(files[0].2.contains(&"trace_id".to_string()));

    // Again: the same files, overwritten, nothing added.
    run();
    let again = parquet_files(&out);
    assert_eq!(again, files);
}

#[test]
fn filters_queries_and_one_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, truth) = generated_data(dir.path(), "2000", "5");
    let out = dir.path().join("incidents");
    let export = cts(&data)
        .args([
            "export",
            "-q",
            "--where",
            "trace_rating = 'incident'",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("export");
    assert!(export.status.success(), "{export:?}");
    let incidents = truth.count(|t| rating(t).as_deref() == Some("incident")) as i64;
    assert!(incidents > 0);
    assert_eq!(
        parquet_files(&out).iter().map(|f| f.1).sum::<i64>(),
        incidents
    );

    let out = dir.path().join("users");
    let export = cts(&data)
        .args([
            "export",
            "-q",
            "--partition-by",
            "none",
            "--query",
            "SELECT user_name, count(*) AS traces FROM traces GROUP BY user_name",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("export");
    assert!(export.status.success(), "{export:?}");
    let users = truth
        .count_by(|t| {
            Some(
                object(t, "user")
                    .and_then(|u| text(&u, "name"))
                    .unwrap_or_default(),
            )
        })
        .len() as i64;
    let files = parquet_files(&out);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "traces.parquet");
    assert_eq!(files[0].1, users);
    assert_eq!(
        files[0].2,
        vec!["user_name".to_string(), "traces".to_string()]
    );

    let export = cts(&data)
        .args(["export", "-q", "--query", "SELECT 1 AS one", "--out"])
        .arg(dir.path().join("bad"))
        .output()
        .expect("export");
    assert_eq!(export.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&export.stderr).contains("--partition-by day needs a `day` column"),
        "{export:?}"
    );
}

/// The times of a Parquet file in file order, and the row order its metadata declares.
fn times_and_order(path: &Path) -> (Vec<i64>, RowOrder) {
    let bytes = std::fs::read(path).expect("read");
    cts_testkit::times_and_order(bytes.into(), &path.display().to_string())
}

#[test]
fn a_day_in_many_files_exports_sorted_by_time_by_merging_or_by_sorting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket");
    let data = dir.path().join("data");
    let made = cts(&data)
        .args(["gen"])
        .arg(&bucket)
        .args(["--traces", "6000", "--days", "2", "--seed", "4"])
        .args(["--end", "2024-06-30", "--no-digests"])
        .output()
        .expect("gen");
    assert!(made.status.success(), "{made:?}");
    // Chunks of 1 MB of JSON: each day in several files, overlapping in time.
    let loaded = cts(&data)
        .args(["load", "-q", "--chunk-mb", "1"])
        .arg(&bucket)
        .output()
        .expect("load");
    assert!(loaded.status.success(), "{loaded:?}");
    let truth = BucketTruth::read(&bucket);
    let days = data.join("archive/traces");
    let files_of = |day: &str| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(days.join(format!("day={day}")))
            .expect("day folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        files
    };
    // Every file the loader wrote is sorted by time and says so.
    for day in ["2024-06-29", "2024-06-30"] {
        let files = files_of(day);
        assert!(files.len() >= 3, "{day}: {files:?}");
        for file in &files {
            let (times, order) = times_and_order(file);
            assert!(times.is_sorted(), "{}", file.display());
            assert_eq!(order, RowOrder::ByTime, "{}", file.display());
        }
    }
    // One file of the second day as an older version or another tool might have written it:
    // the same rows, backwards, no order declared. That day is sorted, not merged.
    let rewritten = &files_of("2024-06-30")[1];
    let batches: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(rewritten).expect("open"))
            .expect("parquet")
            .build()
            .expect("reader")
            .map(|b| b.expect("batch"))
            .collect();
    let schema = batches[0].schema();
    let all = arrow::compute::concat_batches(&schema, &batches).expect("concat");
    let backwards: arrow::array::UInt32Array = (0..all.num_rows() as u32).rev().collect();
    let all = arrow::compute::take_record_batch(&all, &backwards).expect("take");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(Vec::new(), schema, None).expect("writer");
    writer.write(&all).expect("write");
    std::fs::write(rewritten, writer.into_inner().expect("close")).expect("write file");
    assert_eq!(times_and_order(rewritten).1, RowOrder::Unordered);

    let out = dir.path().join("out");
    let export = cts(&data)
        .args([
            "export",
            "-q",
            "--from",
            "2024-06-29",
            "--to",
            "2024-07-01",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("export");
    assert!(export.status.success(), "{export:?}");
    for (day, start) in [
        ("2024-06-29", 1_719_619_200_000),
        ("2024-06-30", 1_719_705_600_000),
    ] {
        let (times, order) = times_and_order(&out.join(format!("day={day}/part-0.parquet")));
        let expected = truth.count(|t| (start..start + 86_400_000).contains(&time_ms(t)));
        assert_eq!(times.len() as u64, expected, "{day}");
        assert!(times.is_sorted(), "{day}: not sorted by time");
        assert_eq!(order, RowOrder::ByTime, "{day}");
    }
}
