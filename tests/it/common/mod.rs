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
