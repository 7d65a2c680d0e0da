//! Decoding trace files into Arrow: every variant real files contain (cts-spec.md §1.4, §2.4).
//!
//! A trace file is a JSON array of traces, usually gzip-compressed. Also accepted: NDJSON (one
//! trace per line), the API's `{"traces": [...]}` envelope, FunctionGraph's `{"cts": {...}}`
//! trigger event, a single trace object, and a UTF-8 byte-order mark.
//!
//! Two kinds of failure are kept apart:
//! - the **file** cannot be read as traces at all (broken gzip, not JSON, JSON that is not an
//!   array or object): [`DecodeError`], and nothing of the file is loaded;
//! - one **record** cannot be a trace (not an object, no `trace_id`, no readable `time`): a
//!   [`RejectedRecord`] naming the record, carrying its raw JSON so it can be set aside, while
//!   the rest of the file loads.
//!
//! A field of the wrong type never fails a record: its column is left null and the value is kept
//! verbatim in `extra`, so nothing is dropped.
//!
//! ```
//! let file = br#"[{"trace_id":"t1","time":"1765788999507","code":302,
//!                  "user":"{\"name\":\"alice\",\"domain\":{\"name\":\"acme\",\"id\":\"d1\"}}",
//!                  "trace_status":"normal"}]"#;
//! let decoded = cts_core::decode::decode_file(file, "f.json", Some("eu-de")).unwrap();
//! assert_eq!(decoded.batch.num_rows(), 1);
//! assert!(decoded.rejects.is_empty());
//! ```

mod elements;
mod fields;
mod file;
mod outcome;

pub use fields::{EARLIEST_TIME_MS, MAX_FUTURE_MS};
pub use file::{decode_file, decode_into, inflate, parse_json};
pub use outcome::{DecodeError, DecodedFile, FileDecoded, MAX_JSON_BYTES, Parsed, RejectedRecord};
