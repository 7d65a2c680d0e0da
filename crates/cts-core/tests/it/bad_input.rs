//! Bad input, one test per kind (README "Bad input"): each names the file (and record), sets it
//! aside, and loads the rest.

use std::io::Write;

use cts_core::load::LoadSummary;
use cts_core::source::Source;
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::Archive;
use cts_testkit::{archive_counts, block_on, run_load};

/// A key in the CTS layout for 2024-06-30.
fn key(suffix: &str, ext: &str) -> String {
    format!(
        "CloudTraces/eu-de/2024/06/30/system/ECS/cts_CloudTrace_eu-de_2024-06-30T10-00-00Z_{suffix}.{ext}"
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// A good trace at 2024-06-30T11:00Z + `n` ms.
fn trace(id: &str, n: i64) -> String {
    format!(
        r#"{{"trace_id":"{id}","time":{},"service_type":"ECS","trace_name":"startServer","trace_rating":"normal"}}"#,
        1_719_745_200_000i64 + n
    )
}

/// Load `files` (key, bytes) next to one good file; return the summary and the trace count.
fn load_with_good_neighbour(files: Vec<(String, Vec<u8>)>) -> (LoadSummary, i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket");
    let mut all = files;
    all.push((
        key("ffffffffffffffff", "json"),
        format!("[{}]", trace("good-1", 0)).into_bytes(),
    ));
    for (k, bytes) in &all {
        let path = bucket.join(k);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(&path, bytes).expect("write");
    }
    let archive = Archive::new(Location::local(&dir.path().join("archive")).expect("archive"));
    block_on(async {
        let source =
            Source::open(&bucket.to_string_lossy(), &StorageOptions::default()).expect("source");
        let summary = run_load(&source, &archive).await;
        let (n, distinct) = archive_counts(&archive).await;
        assert_eq!(n, distinct);
        (summary, n as i64)
    })
}

/// One file that fails as a whole: its reason, and the good neighbour loaded.
fn assert_file_fails(name: &str, bytes: Vec<u8>, reason: &str) {
    let (summary, n) = load_with_good_neighbour(vec![(name.to_string(), bytes)]);
    assert_eq!(summary.failures.len(), 1, "{summary}");
    let failure = &summary.failures[0];
    assert!(failure.file.ends_with(name), "{}", failure.file);
    assert!(
        failure.reason.starts_with(reason),
        "{name}: {}",
        failure.reason
    );
    assert_eq!((summary.files_loaded, n), (1, 1), "{summary}");
}

/// One file whose records are partly set aside: the reasons by record, and the rest loaded.
fn assert_records(json: String, loaded: i64, rejects: &[&str]) {
    let name = key("0000000000000001", "json");
    let (summary, n) = load_with_good_neighbour(vec![(name.clone(), json.into_bytes())]);
    assert!(summary.failures.is_empty(), "{summary}");
    assert_eq!(n, loaded + 1, "{summary}");
    let got: Vec<String> = summary
        .reject_samples
        .iter()
        .map(|(file, r)| {
            assert!(file.ends_with(&name), "{file}");
            r.to_string()
        })
        .collect();
    assert_eq!(got, rejects, "{summary}");
}

#[test]
fn truncated_gzip() {
    let whole = gzip(format!("[{}]", trace("t", 0)).as_bytes());
    let cut = whole[..whole.len() / 2].to_vec();
    assert_file_fails(
        &key("00000000000000a1", "json.gz"),
        cut,
        "broken gzip data: ",
    );
}

#[test]
fn named_gz_but_plain_json_loads() {
    let name = key("00000000000000a2", "json.gz");
    let (summary, n) = load_with_good_neighbour(vec![(
        name,
        format!("[{}]", trace("plain", 1)).into_bytes(),
    )]);
    assert!(summary.is_clean(), "{summary}");
    assert_eq!(n, 2);
}

#[test]
fn named_gz_neither_gzip_nor_json() {
    assert_file_fails(
        &key("00000000000000a3", "json.gz"),
        b"PK\x03\x04 a zip file".to_vec(),
        "named .gz but not gzip-compressed; invalid JSON: expected value at line 1 column 1",
    );
}

#[test]
fn invalid_utf8() {
    let mut bytes = format!("[{}]", trace("x", 0)).into_bytes();
    let at = bytes.iter().position(|b| *b == b'x').expect("x");
    bytes[at] = 0xff;
    assert_file_fails(
        &key("00000000000000a4", "json"),
        bytes,
        "invalid JSON: invalid unicode code point at line 1 column",
    );
}

#[test]
fn invalid_json() {
    assert_file_fails(
        &key("00000000000000a5", "json"),
        format!("[{},\n{{\"trace_id\": }}]", trace("a", 0)).into_bytes(),
        "invalid JSON: expected value at line 2 column 14",
    );
}

#[test]
fn an_object_where_an_array_belongs() {
    // A lone trace object is a one-trace file; a lone object that is no trace is set aside.
    assert_records(trace("lone", 2), 1, &[]);
    assert_records(
        r#"{"files": ["a", "b"]}"#.to_string(),
        0,
        &["record 1: no trace_id"],
    );
}

#[test]
fn a_scalar_where_an_array_belongs() {
    assert_file_fails(
        &key("00000000000000a6", "json"),
        b"\"CloudTraces\"".to_vec(),
        "expected a JSON array of traces (or NDJSON, or {\"traces\": [...]}), found a string",
    );
}

#[test]
fn every_field_with_the_wrong_type() {
    let json = r#"[{"trace_id":"w","time":1719745200000,"record_time":"soon","read_only":"perhaps",
        "content_length":{"n":1},"total_time":[1],"code":{"x":1},"service_type":42,"user":17,
        "request":false,"invoked_by":3}]"#;
    let dir = tempfile::tempdir().expect("temp dir");
    let decoded = cts_core::decode::decode_file(json.as_bytes(), "w.json", None).expect("decodes");
    drop(dir);
    assert!(decoded.rejects.is_empty());
    let batch = decoded.batch;
    let text = |c: &str| {
        arrow::util::display::array_value_to_string(batch.column_by_name(c).expect(c), 0).expect(c)
    };
    assert_eq!(text("code"), r#"{"x":1}"#);
    assert_eq!(text("service_type"), "42");
    assert_eq!(text("user"), "17");
    assert_eq!(text("request"), "false");
    assert_eq!(text("read_only"), "");
    assert_eq!(
        text("extra"),
        r#"{"record_time":"soon","read_only":"perhaps","content_length":{"n":1},"total_time":[1],"invoked_by":3}"#
    );
}

#[test]
fn a_trace_without_trace_id_or_time() {
    assert_records(
        format!(
            r#"[{}, {{"time":1719745200000,"trace_name":"login"}}, {{"trace_id":"no-time","trace_name":"login"}}, {{"trace_id":"","time":1719745200000}}]"#,
            trace("ok", 3)
        ),
        1,
        &[
            "record 2: no trace_id",
            "record 3 (trace_id no-time): no time",
            "record 4: trace_id is empty",
        ],
    );
}

#[test]
fn times_far_in_the_future_or_before_2000() {
    assert_records(
        format!(
            r#"[{}, {{"trace_id":"old","time":946684799999}}, {{"trace_id":"future","time":"99999999999999"}}]"#,
            trace("ok", 4)
        ),
        1,
        &[
            "record 2 (trace_id old): time 1999-12-31T23:59:59.999+00:00 is outside the plausible range (2000-01-01 to a day from now)",
            "record 3 (trace_id future): time 5138-11-16T09:46:39.999+00:00 is outside the plausible range (2000-01-01 to a day from now)",
        ],
    );
}

#[test]
fn an_empty_file_fails_and_an_empty_array_loads() {
    assert_file_fails(
        &key("00000000000000a7", "json"),
        Vec::new(),
        "the file is empty",
    );
    let (summary, n) =
        load_with_good_neighbour(vec![(key("00000000000000a8", "json"), b"[ ]".to_vec())]);
    assert!(summary.is_clean(), "{summary}");
    assert_eq!((summary.files_loaded, n), (2, 1));
}

#[test]
fn a_million_element_array_of_170_mb() {
    let mut json = String::with_capacity(180 << 20);
    json.push('[');
    for i in 0..1_000_000i64 {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&trace(&format!("big-{i:07}"), i));
    }
    json.push(']');
    assert!(json.len() > 100 << 20, "{}", json.len());
    let (summary, n) = load_with_good_neighbour(vec![(
        key("00000000000000a9", "json.gz"),
        gzip(json.as_bytes()),
    )]);
    assert!(summary.is_clean(), "{summary}");
    assert_eq!(n, 1_000_001);
}

#[test]
fn deeply_nested_request() {
    // Kept as JSON text without being parsed into a tree: no recursion limit, no stack to blow.
    let depth = 10_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let json = format!(
        r#"[{}, {{"trace_id":"deep","time":1719745200000,"request":{nested}}}]"#,
        trace("ok", 5)
    );
    let (summary, n) = load_with_good_neighbour(vec![(
        key("00000000000000aa", "json"),
        json.clone().into_bytes(),
    )]);
    assert!(summary.is_clean(), "{summary}");
    assert_eq!(n, 3);
    let decoded =
        cts_core::decode::decode_file(json.as_bytes(), "deep.json", None).expect("decodes");
    let request = arrow::util::display::array_value_to_string(
        decoded.batch.column_by_name("request").expect("request"),
        1,
    )
    .expect("request");
    assert_eq!(request, nested);
}

#[test]
fn envelopes_nested_deeper_than_eight_are_set_aside() {
    // Found by fuzzing (fuzz/regressions/decode): `{"cts":{"cts":...}}` 100,000 deep, 1 KB
    // gzipped, once overflowed the stack and aborted the load.
    let depth = 100_000;
    let deep = format!("{}[]{}", r#"{"cts":"#.repeat(depth), "}".repeat(depth));
    let shallow = format!(
        r#"{{"traces":{{"cts":{{"traces":[{}]}}}}}}"#,
        trace("inside-three", 9)
    );
    let (summary, n) = load_with_good_neighbour(vec![
        (key("00000000000000b0", "json.gz"), gzip(deep.as_bytes())),
        (key("00000000000000b1", "json"), shallow.into_bytes()),
    ]);
    assert!(summary.failures.is_empty(), "{summary}");
    assert_eq!((summary.files_loaded, n), (3, 2), "{summary}");
    let reasons: Vec<String> = summary
        .reject_samples
        .iter()
        .map(|(file, r)| {
            assert!(file.ends_with("00000000000000b0.json.gz"), "{file}");
            r.to_string()
        })
        .collect();
    assert_eq!(
        reasons,
        ["record 1: not a trace: envelopes nested more than 8 deep"]
    );
}

#[test]
fn duplicate_keys_the_last_wins() {
    let json = r#"[{"trace_id":"d","time":1719745200000,"trace_name":"first","trace_name":"second","x":1,"x":2}]"#;
    let decoded = cts_core::decode::decode_file(json.as_bytes(), "d.json", None).expect("decodes");
    let batch = decoded.batch;
    let text = |c: &str| {
        arrow::util::display::array_value_to_string(batch.column_by_name(c).expect(c), 0).expect(c)
    };
    assert_eq!(text("trace_name"), "second");
    assert_eq!(text("extra"), r#"{"x":1,"x":2}"#);
}

#[test]
fn a_utf8_byte_order_mark() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(format!("[{}]", trace("bom", 6)).into_bytes());
    let (summary, n) =
        load_with_good_neighbour(vec![(key("00000000000000ab", "json.gz"), gzip(&bytes))]);
    assert!(summary.is_clean(), "{summary}");
    assert_eq!(n, 2);
}

#[test]
fn keys_that_are_not_the_cts_layout_are_skipped_and_counted() {
    let (summary, n) = load_with_good_neighbour(vec![
        ("CloudTraces/eu-de/2024/06/30/system/ECS/export.json".to_string(), format!("[{}]", trace("x", 7)).into_bytes()),
        ("CloudTraces/eu-de/2024/06/30/system/ECS/cts_CloudTrace_eu-de_2024-06-30T10-00-00Z_zz.json".to_string(), b"[]".to_vec()),
        ("notes.txt".to_string(), b"hello".to_vec()),
    ]);
    assert!(summary.is_clean(), "{summary}");
    assert_eq!((summary.other_skipped, summary.files_loaded, n), (3, 1, 1));
}

#[test]
fn a_file_that_vanishes_between_listing_and_reading() {
    // A permission error takes the same path: the read fails, the file is named, nothing of it
    // is recorded, and the next run tries again.
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join("bucket");
    let gone = key("00000000000000ac", "json");
    let kept = key("00000000000000ad", "json");
    for (k, id) in [(&gone, "g"), (&kept, "k")] {
        let path = bucket.join(k);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(&path, format!("[{}]", trace(id, 8))).expect("write");
    }
    let archive = Archive::new(Location::local(&dir.path().join("archive")).expect("archive"));
    block_on(async {
        let source =
            Source::open(&bucket.to_string_lossy(), &StorageOptions::default()).expect("source");
        let listing = source.list(false).await.expect("list");
        std::fs::remove_file(bucket.join(&gone)).expect("remove");
        let options = cts_core::load::LoadOptions::default();
        let summary = cts_core::load::load_listing(&source, listing, &archive, &options)
            .await
            .expect("load");
        assert_eq!(summary.failures.len(), 1, "{summary}");
        assert!(summary.failures[0].file.ends_with(&gone));
        assert!(
            summary.failures[0].reason.starts_with("read file://"),
            "{}",
            summary.failures[0].reason
        );
        assert_eq!((summary.files_loaded, summary.traces_loaded), (1, 1));
        let manifest = archive.read_manifest().await.expect("manifest");
        assert_eq!(manifest.entries.len(), 1);
        assert!(manifest.entries.keys().all(|k| k.ends_with(&kept)));
    });
}
