//! What a generated bucket holds, read straight from its trace files with `flate2` and
//! `serde_json`, not by cts: the independent truth that the tests' expected numbers come from.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use serde_json::Value;

/// Every distinct trace of a bucket (the first copy of each `trace_id`), as JSON.
#[derive(Debug)]
pub(crate) struct BucketTruth {
    traces: Vec<Value>,
}

impl BucketTruth {
    /// Read every trace file (`*_CloudTrace_*.json[.gz]`) below `bucket`.
    pub(crate) fn read(bucket: &Path) -> BucketTruth {
        let mut files = Vec::new();
        let mut stack = vec![bucket.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("list").flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() {
                    stack.push(path);
                } else if name.contains("_CloudTrace_")
                    && (name.ends_with(".json") || name.ends_with(".json.gz"))
                {
                    files.push(path);
                }
            }
        }
        files.sort();
        let mut seen = HashSet::new();
        let mut traces = Vec::new();
        for path in files {
            let bytes = std::fs::read(&path).expect("read");
            let mut text = String::new();
            if path.extension().is_some_and(|e| e == "gz") {
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            } else {
                text = String::from_utf8(bytes).expect("UTF-8");
            }
            let array: Vec<Value> =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for trace in array {
                let id = trace["trace_id"].as_str().expect("trace_id").to_string();
                if seen.insert(id) {
                    traces.push(trace);
                }
            }
        }
        BucketTruth { traces }
    }

    /// Distinct traces for which `keep` holds.
    pub(crate) fn count(&self, keep: impl Fn(&Value) -> bool) -> u64 {
        self.traces.iter().filter(|t| keep(t)).count() as u64
    }

    /// Distinct traces per value of `key` (traces for which it is `None` are not counted).
    pub(crate) fn count_by(&self, key: impl Fn(&Value) -> Option<String>) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for t in &self.traces {
            if let Some(k) = key(t) {
                *counts.entry(k).or_default() += 1;
            }
        }
        counts
    }
}

/// `time` in ms: a number or a digit string in the generator's files.
pub(crate) fn time_ms(trace: &Value) -> i64 {
    match &trace["time"] {
        Value::Number(n) => n.as_i64().expect("ms"),
        Value::String(s) => s.parse().expect("digits"),
        other => panic!("time {other}"),
    }
}

/// A text field.
pub(crate) fn text(trace: &Value, field: &str) -> Option<String> {
    trace[field].as_str().map(str::to_string)
}

/// An object field, written as an object or as a JSON-encoded string.
pub(crate) fn object(trace: &Value, field: &str) -> Option<Value> {
    match &trace[field] {
        Value::Object(_) => Some(trace[field].clone()),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object),
        _ => None,
    }
}

/// The rating: `trace_rating`, or the older `trace_status`.
pub(crate) fn rating(trace: &Value) -> Option<String> {
    text(trace, "trace_rating").or_else(|| text(trace, "trace_status"))
}
