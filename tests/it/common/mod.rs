//! What the tests of this crate share: running the `cts` binary ([`cli`]), and numbers from
//! SQL over an archive. The S3 server, sample buckets and the kill helper are in `cts-testkit`.
#![allow(dead_code)]

pub(crate) mod cli;
pub(crate) mod truth;

use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use cts_core::store::archive::Archive;

/// Run one SQL query that returns a single BIGINT row of columns, as numbers.
pub(crate) async fn numbers(archive: &Archive, sql: &str) -> Vec<i64> {
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
pub(crate) async fn counts(archive: &Archive) -> (i64, i64) {
    let n = numbers(
        archive,
        "SELECT count(*), count(DISTINCT trace_id) FROM traces",
    )
    .await;
    (n[0], n[1])
}

/// The text in column `index` of every row of `batches` (empty for a null).
pub(crate) fn column_texts(batches: &[RecordBatch], index: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column(index);
            (0..column.len())
                .map(|row| {
                    cts_core::trace::text_at(column.as_ref(), row)
                        .unwrap_or_default()
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A fresh local folder path as a string.
pub(crate) fn dir_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Path of a file under the crate.
pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Rows and column names of every Parquet file under `dir`, by path relative to it.
pub(crate) fn parquet_files(dir: &Path) -> Vec<(String, i64, Vec<String>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                let file = std::fs::File::open(&path).expect("open");
                let reader =
                    parquet::file::reader::SerializedFileReader::new(file).expect("a Parquet file");
                let meta = parquet::file::reader::FileReader::metadata(&reader);
                let columns = meta
                    .file_metadata()
                    .schema_descr()
                    .columns()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect();
                let relative = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                files.push((relative, meta.file_metadata().num_rows(), columns));
            }
        }
    }
    files.sort();
    files
}

/// A sample bucket in the folder `dir`: `traces` distinct traces over 3 days, 10% of them
/// delivered twice; what the generator says it holds.
pub(crate) fn sample_bucket(dir: &Path, traces: u64, seed: u64) -> cts_sample::GenSummary {
    let options = cts_sample::GenOptions {
        traces,
        days: 3,
        duplicate_ratio: 0.1,
        ..cts_sample::GenOptions::seeded(seed)
    };
    let summary = cts_sample::generate_to_dir(&options, dir).expect("generate");
    assert_eq!(summary.distinct_traces, traces);
    summary
}
