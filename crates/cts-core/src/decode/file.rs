//! A trace file's bytes to traces: gzip or not, then the JSON text as an array, NDJSON or an
//! envelope.

use std::borrow::Cow;
use std::io::Read;

use serde::de::Deserializer;
use serde_json::value::RawValue;

use crate::decode::elements::{ArrayVisitor, Sink};
use crate::decode::fields::Element;
use crate::decode::outcome::{DecodeError, DecodedFile, FileDecoded, MAX_JSON_BYTES, Parsed};
use crate::trace::TraceBatchBuilder;

/// Decode one trace file (gzip or plain) read from `source_file` in `region`.
pub fn decode_file(
    bytes: &[u8],
    source_file: &str,
    region: Option<&str>,
) -> Result<DecodedFile, DecodeError> {
    let mut builder = TraceBatchBuilder::new();
    let decoded = decode_into(bytes, source_file, region, &mut builder)?;
    let batch = builder
        .finish()
        .map_err(|e| DecodeError::Batch(e.to_string()))?;
    Ok(DecodedFile {
        batch,
        rejects: decoded.rejects,
        json_bytes: decoded.json_bytes,
    })
}

/// Decode one trace file and append its traces to `builder`: all of them, or, when the file
/// cannot be decoded, none.
pub fn decode_into(
    bytes: &[u8],
    source_file: &str,
    region: Option<&str>,
    builder: &mut TraceBatchBuilder,
) -> Result<FileDecoded, DecodeError> {
    let json = inflate(bytes)?;
    let hint = if source_file.ends_with(".gz") && !is_gzip(bytes) {
        "named .gz but not gzip-compressed; "
    } else {
        ""
    };
    let parsed = parse_json(&json).map_err(|e| match e {
        DecodeError::Json { source, .. } => DecodeError::Json { source, hint },
        other => other,
    })?;
    for trace in &parsed.traces {
        builder.append(trace, region, source_file);
    }
    Ok(FileDecoded {
        rows: parsed.traces.len(),
        rejects: parsed.rejects,
        json_bytes: json.len() as u64,
    })
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The JSON of a file: gunzipped when it is gzip (by its magic bytes, not its name), at most
/// [`MAX_JSON_BYTES`].
pub fn inflate(bytes: &[u8]) -> Result<Cow<'_, [u8]>, DecodeError> {
    if !is_gzip(bytes) {
        if bytes.len() as u64 > MAX_JSON_BYTES {
            return Err(DecodeError::TooLarge);
        }
        return Ok(Cow::Borrowed(bytes));
    }
    let capacity = bytes.len().saturating_mul(8).min(MAX_JSON_BYTES as usize);
    let mut out = Vec::with_capacity(capacity);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(DecodeError::Gzip)?;
    if out.len() as u64 > MAX_JSON_BYTES {
        return Err(DecodeError::TooLarge);
    }
    Ok(Cow::Owned(out))
}

/// Parse JSON text (array, NDJSON or envelope) into traces and rejected records.
pub fn parse_json(json: &[u8]) -> Result<Parsed<'_>, DecodeError> {
    let json = json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(json);
    let Some(first) = json.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(DecodeError::Empty);
    };
    let mut sink = Sink::new();
    let mut de = serde_json::Deserializer::from_slice(json);
    let json_err = |source| DecodeError::Json { source, hint: "" };
    match first {
        b'[' => {
            de.deserialize_seq(ArrayVisitor { sink: &mut sink })
                .map_err(json_err)?;
            de.end().map_err(json_err)?;
        }
        b'{' => {
            // One object (a trace or an envelope) or NDJSON: values one after the other.
            // (A stream, not `end()` in a loop: each failed `end()` costs a scan of the text
            // for its line number, which made NDJSON quadratic.)
            for element in serde_json::Deserializer::from_slice(json).into_iter::<Element>() {
                sink.take(element.map_err(json_err)?).map_err(json_err)?;
            }
        }
        other => {
            // Parse it anyway, so that invalid JSON is reported as such.
            let _: &RawValue = serde_json::from_slice(json).map_err(json_err)?;
            return Err(DecodeError::NotTraces(kind_of(*other)));
        }
    }
    Ok(sink.into_parsed())
}

fn kind_of(first: u8) -> &'static str {
    match first {
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, RecordBatch};
    use arrow::datatypes::TimestampMillisecondType;

    fn decode(json: &str) -> DecodedFile {
        match decode_file(json.as_bytes(), "k.json", Some("eu-de")) {
            Ok(d) => d,
            Err(e) => panic!("decode failed: {e}"),
        }
    }

    fn string(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
        let array = batch.column_by_name(column)?;
        let array = array.as_string::<i32>();
        (!array.is_null(row)).then(|| array.value(row).to_string())
    }

    fn outcome(json: &[u8]) -> Result<(usize, Vec<String>), String> {
        parse_json(json)
            .map(|p| {
                (
                    p.traces.len(),
                    p.rejects.iter().map(|r| r.to_string()).collect(),
                )
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn file_shapes_ndjson_envelopes_bom_and_empties() {
        let none = Vec::<String>::new();
        let ndjson = b"{\"trace_id\":\"a\",\"time\":1719745200000}\n{\"trace_id\":\"b\",\"time\":1719745200001}\n";
        assert_eq!(outcome(ndjson), Ok((2, none.clone())));
        let envelope =
            br#"{"meta_data":{"count":1,"marker":null},"traces":[{"trace_id":"a","time":1719745200000}]}"#;
        assert_eq!(outcome(envelope), Ok((1, none.clone())));
        let bom = b"\xEF\xBB\xBF[{\"trace_id\":\"a\",\"time\":1719745200000}]";
        assert_eq!(outcome(bom), Ok((1, none.clone())));
        assert_eq!(outcome(b"[]"), Ok((0, none.clone())));
        assert_eq!(outcome(b" \n "), Err("the file is empty".to_string()));
        assert_eq!(
            outcome(b"42"),
            Err("expected a JSON array of traces (or NDJSON, or {\"traces\": [...]}), found a number".to_string())
        );
        assert_eq!(
            outcome(br#"[{"trace_id":"a","time":1719745200000}, 7, "x", [1, 2], null]"#),
            Ok((
                1,
                vec![
                    "record 2: not a trace: expected an object, found a number".to_string(),
                    "record 3: not a trace: expected an object, found a string".to_string(),
                    "record 4: not a trace: expected an object, found an array".to_string(),
                    "record 5: not a trace: expected an object, found null".to_string(),
                ]
            ))
        );
    }

    #[test]
    fn a_trace_keeps_its_own_traces_field_and_unknown_keys_verbatim() {
        let d = decode(
            r#"[{"trace_id":"a","time":1719745200000,"traces":[1],"cts":{"x":1}," odd key ":2}]"#,
        );
        assert_eq!(d.batch.num_rows(), 1);
        assert_eq!(
            string(&d.batch, "extra", 0).as_deref(),
            Some(r#"{"traces":[1],"cts":{"x":1}," odd key ":2}"#)
        );
    }

    #[test]
    fn a_user_that_is_a_plain_string_is_kept_as_json_text() {
        let d = decode(r#"[{"trace_id":"a","time":1719745200000,"user":"xxx","source_ip":null}]"#);
        assert_eq!(string(&d.batch, "user", 0).as_deref(), Some(r#""xxx""#));
        assert_eq!(string(&d.batch, "user_name", 0), None);
        assert_eq!(string(&d.batch, "source_ip", 0), None);
    }

    #[test]
    fn a_file_that_breaks_part_way_appends_nothing() {
        let mut builder = TraceBatchBuilder::new();
        let good = br#"[{"trace_id":"a","time":1719745200000}]"#;
        let broken = br#"[{"trace_id":"b","time":1719745200000},{"trace_id":"c","time":1719745200000},{"trace_id""#;
        assert!(decode_into(good, "good.json", None, &mut builder).is_ok());
        let err = decode_into(broken, "broken.json.gz", None, &mut builder).map(|d| d.rows);
        match err {
            Err(e) => assert_eq!(
                e.to_string(),
                "named .gz but not gzip-compressed; invalid JSON: EOF while parsing an object at line 1 column 88"
            ),
            Ok(rows) => panic!("decoded {rows} rows of a broken file"),
        }
        assert_eq!(builder.len(), 1);
    }

    #[test]
    fn times_as_numbers_strings_seconds_and_console_dates() {
        let d = decode(
            r#"[{"trace_id":"a","time":1718777931170},{"trace_id":"b","time":"1765788999507"},
               {"trace_id":"c","time":1529996047},{"trace_id":"d","time":"2016/12/08 11:07:28 GMT+08:00"},
               {"trace_id":"e","time":"2024-06-19T06:18:51.170Z"}]"#,
        );
        let times = d.batch.column_by_name("time").map(|c| {
            c.as_primitive::<TimestampMillisecondType>()
                .values()
                .to_vec()
        });
        assert_eq!(
            times,
            Some(vec![
                1718777931170,
                1765788999507,
                1529996047000,
                1481166448000,
                1718777931170
            ])
        );
    }

    #[test]
    fn wrong_types_are_kept_in_extra_and_never_fail_the_record() {
        let d = decode(
            r#"[{"trace_id":"a","time":1719745200000,"read_only":"maybe","content_length":[1],"total_time":"12"}]"#,
        );
        assert_eq!(d.batch.num_rows(), 1);
        assert_eq!(
            string(&d.batch, "extra", 0).as_deref(),
            Some(r#"{"read_only":"maybe","content_length":[1]}"#)
        );
        let total = d
            .batch
            .column_by_name("total_time")
            .map(|c| c.as_primitive::<arrow::datatypes::Int64Type>().value(0));
        assert_eq!(total, Some(12));
    }

    #[test]
    fn conflicting_trace_status_is_kept_and_trailing_space_keys_are_read() {
        let d = decode(
            r#"[{"trace_id":"a","time":1719745200000,"trace_rating":"normal","trace_status":"warning"},{"trace_id":"b","time":1719745200000,"trace_status ":"incident"}]"#,
        );
        assert_eq!(
            string(&d.batch, "trace_rating", 0).as_deref(),
            Some("normal")
        );
        assert_eq!(
            string(&d.batch, "extra", 0).as_deref(),
            Some(r#"{"trace_status":"warning"}"#)
        );
        assert_eq!(
            string(&d.batch, "trace_rating", 1).as_deref(),
            Some("incident")
        );
        assert_eq!(string(&d.batch, "extra", 1), None);
    }
}
