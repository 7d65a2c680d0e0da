//! The checks of the fuzz target `decode` (also replayed over its corpus by the tests of
//! cts-core): arbitrary bytes as a trace file (gzip or not, any JSON shape).
//!
//! Must never panic, hang or run out of memory; errors are fine. Beyond that it checks that
//! the three entry points agree and that what they produce is what the module promises:
//!
//! - `decode_file` fails exactly when `inflate` + `parse_json` fail, with the same kind of error;
//! - on success, the batch has one row per trace `parse_json` reports and the same rejects, and
//!   `json_bytes` is the inflated length;
//! - every row has a non-blank `trace_id` (column 0), a plausible `time` (column 1), the
//!   region and source file it was decoded with, and `extra` / `user` that are valid JSON;
//! - rejects are numbered 1, 2, ... in file order (shared with traces) and carry valid JSON;
//! - `decode_into` is all-or-nothing: a file that fails appends no row to a builder that already
//!   holds rows, and one that succeeds appends exactly its traces.

use arrow::array::{Array, AsArray};
use arrow::datatypes::TimestampMillisecondType;
use cts_core::decode::{
    DecodeError, EARLIEST_TIME_MS, MAX_FUTURE_MS, RejectedRecord, decode_file, decode_into,
    inflate, parse_json,
};
use cts_core::trace::{TraceBatchBuilder, TraceRecord, trace_schema};
use serde_json::value::RawValue;

const SOURCE: &str = "fuzz.json.gz";
const REGION: &str = "eu-de";

/// The kind of a decode error, for comparing two paths that should fail alike.
fn kind(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Gzip(_) => "gzip",
        DecodeError::Empty => "empty",
        DecodeError::Json { .. } => "json",
        DecodeError::TooLarge => "too large",
        DecodeError::Batch(_) => "batch",
        DecodeError::NotTraces(_) => "not traces",
        _ => "other",
    }
}

fn is_json(text: &str) -> bool {
    serde_json::from_str::<&RawValue>(text).is_ok()
}

/// Check one input; panics on a broken promise.
pub fn check(data: &[u8]) {
    // The raw bytes straight into the parser (gzip bytes are just invalid JSON to it).
    let _ = parse_json(data);

    let decoded = decode_file(data, SOURCE, Some(REGION));

    // The same file the long way: inflate, then parse.
    let reference: Result<(usize, Vec<RejectedRecord>, u64), DecodeError> =
        inflate(data).and_then(|json| {
            let parsed = parse_json(&json)?;
            Ok((parsed.traces.len(), parsed.rejects, json.len() as u64))
        });

    let decoded = match (decoded, reference) {
        (Err(e), Err(r)) => {
            assert_eq!(
                kind(&e),
                kind(&r),
                "decode_file: {e}; inflate+parse_json: {r}"
            );
            assert!(
                !matches!(e, DecodeError::Batch(_)),
                "internal batch error: {e}"
            );
            check_all_or_nothing(data, None);
            return;
        }
        (Ok(d), Ok((traces, rejects, json_bytes))) => {
            assert_eq!(d.batch.num_rows(), traces, "rows vs traces of parse_json");
            assert_eq!(d.rejects, rejects, "rejects vs parse_json");
            assert_eq!(d.json_bytes, json_bytes, "json_bytes vs inflated length");
            d
        }
        (Ok(d), Err(r)) => panic!(
            "decode_file decoded {} rows but inflate+parse_json failed: {r}",
            d.batch.num_rows()
        ),
        (Err(e), Ok((traces, _, _))) => {
            panic!("decode_file failed ({e}) but parse_json read {traces} traces")
        }
    };

    let batch = &decoded.batch;
    let rows = batch.num_rows();
    assert_eq!(batch.schema(), trace_schema());

    // Rejects: numbered in file order, shared with the traces, raw text is JSON.
    let total = rows + decoded.rejects.len();
    let mut last = 0;
    for r in &decoded.rejects {
        assert!(
            r.record > last && r.record <= total,
            "record number {} (last {last}, total {total})",
            r.record
        );
        last = r.record;
        assert!(is_json(&r.raw), "reject raw is not JSON: {:?}", r.raw);
        assert!(!r.reason.is_empty());
        if let Some(id) = &r.trace_id {
            assert!(!id.trim().is_empty(), "reject with a blank trace_id");
        }
    }

    // Column 0: trace_id, never null, never empty.
    let ids = batch.column(0).as_string::<i32>();
    assert_eq!(ids.null_count(), 0);
    for i in 0..rows {
        assert!(!ids.value(i).trim().is_empty(), "row {i}: empty trace_id");
    }

    // Column 1: time, never null, in the plausible range (with a minute of slack for the clock).
    let times = batch.column(1).as_primitive::<TimestampMillisecondType>();
    assert_eq!(times.null_count(), 0);
    let latest = chrono::Utc::now().timestamp_millis() + MAX_FUTURE_MS + 60_000;
    for (i, t) in times.values().iter().enumerate() {
        assert!((EARLIEST_TIME_MS..=latest).contains(t), "row {i}: time {t}");
    }

    let column = |name: &str| {
        batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .as_string::<i32>()
    };
    let region = column("region");
    let source = column("source_file");
    let extra = column("extra");
    let user = column("user");
    for i in 0..rows {
        assert_eq!(region.value(i), REGION);
        assert_eq!(source.value(i), SOURCE);
        if extra.is_valid(i) {
            let e = extra.value(i);
            assert!(
                e.starts_with('{') && is_json(e),
                "row {i}: extra is not a JSON object: {e:?}"
            );
        }
        if user.is_valid(i) {
            let u = user.value(i);
            assert!(is_json(u), "row {i}: user is not JSON: {u:?}");
        }
    }

    check_all_or_nothing(data, Some(rows));
}

/// `decode_into` appends all of a file's traces, or none of them.
fn check_all_or_nothing(data: &[u8], rows: Option<usize>) {
    let mut builder = TraceBatchBuilder::new();
    let before = TraceRecord {
        trace_id: "already-there".into(),
        time: EARLIEST_TIME_MS,
        ..Default::default()
    };
    builder.append(&before, None, "earlier.json");
    let result = decode_into(data, SOURCE, Some(REGION), &mut builder);
    match (result, rows) {
        (Ok(d), Some(rows)) => {
            assert_eq!(d.rows, rows);
            assert_eq!(builder.len(), 1 + rows);
        }
        (Err(_), None) => assert_eq!(builder.len(), 1, "a failed file appended rows"),
        (Ok(d), None) => panic!("decode_into decoded {} rows, decode_file failed", d.rows),
        (Err(e), Some(_)) => panic!("decode_into failed ({e}), decode_file did not"),
    }
    let batch = builder.finish().expect("a batch of what was appended");
    assert_eq!(batch.num_rows(), 1 + rows.unwrap_or(0));
    assert_eq!(batch.column(0).as_string::<i32>().value(0), "already-there");
}
