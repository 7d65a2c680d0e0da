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
//! let decoded = cts::decode::decode_file(file, "f.json", Some("eu-de")).unwrap();
//! assert_eq!(decoded.batch.num_rows(), 1);
//! assert!(decoded.rejects.is_empty());
//! ```

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::model::{Text, TraceBatchBuilder, TraceRecord, UserInfo, a, text_field, u};

/// Why a whole file could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The file starts like gzip but the stream is broken (truncated, corrupt).
    #[error("broken gzip data: {0}")]
    Gzip(std::io::Error),
    /// Nothing but white space.
    #[error("the file is empty")]
    Empty,
    /// Not valid JSON (position given by the parser, after decompression).
    #[error("{hint}invalid JSON: {source}")]
    Json {
        /// The parser's error, with line and column.
        source: serde_json::Error,
        /// A hint about the cause, such as a `.gz` name on a file that is not gzip.
        hint: &'static str,
    },
    /// More JSON than one file may hold (a gzip bomb, or a dump that is not a trace file).
    #[error("more than {} MB of JSON in one file", MAX_JSON_BYTES >> 20)]
    TooLarge,
    /// The traces could not be put into a batch (a bug: please report it).
    #[error("internal error building a batch: {0}")]
    Batch(String),
    /// Valid JSON, but not traces.
    #[error("expected a JSON array of traces (or NDJSON, or {{\"traces\": [...]}}), found {0}")]
    NotTraces(&'static str),
}

/// A record that could not be loaded as a trace, set aside with its raw JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    /// 1-based position of the record in its file.
    pub record: usize,
    /// The record's `trace_id`, where it has one.
    pub trace_id: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// The record as JSON text.
    pub raw: String,
}

impl fmt::Display for RejectedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.record)?;
        if let Some(id) = &self.trace_id {
            write!(f, " (trace_id {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The traces of one file, as a record batch.
#[derive(Debug)]
pub struct DecodedFile {
    /// The traces, in file order, as a batch of [`crate::model::trace_schema`].
    pub batch: arrow::array::RecordBatch,
    /// Records that are not traces.
    pub rejects: Vec<RejectedRecord>,
    /// Bytes of JSON after decompression.
    pub json_bytes: u64,
}

/// What [`decode_into`] appended for one file.
#[derive(Debug, Default)]
pub struct FileDecoded {
    /// Traces appended to the builder.
    pub rows: usize,
    /// Records that are not traces.
    pub rejects: Vec<RejectedRecord>,
    /// Bytes of JSON after decompression.
    pub json_bytes: u64,
}

/// The records of one JSON text, borrowing from it.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// The traces, in order.
    pub traces: Vec<TraceRecord<'a>>,
    /// Records that are not traces.
    pub rejects: Vec<RejectedRecord>,
}

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

/// The most JSON one file may hold, after decompression (1 GiB).
pub const MAX_JSON_BYTES: u64 = 1 << 30;

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
    let mut sink = Sink {
        parsed: Parsed::default(),
        next_record: 1,
        depth: 0,
    };
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
    Ok(sink.parsed)
}

/// Where decoded elements go.
struct Sink<'a> {
    parsed: Parsed<'a>,
    next_record: usize,
    /// Envelopes around the element being taken.
    depth: usize,
}

/// Envelopes inside envelopes, at most (real files have one). Each level is parsed again, by a
/// recursive call: without a limit, `{"cts":{"cts":...}}` a few thousand deep (1 KB gzipped)
/// overflowed the stack, and took time quadratic in its depth.
const MAX_ENVELOPE_DEPTH: usize = 8;

impl<'a> Sink<'a> {
    fn take(&mut self, element: Element<'a>) -> Result<(), serde_json::Error> {
        match element {
            Element::Trace(t) => {
                self.parsed.traces.push(t);
                self.next_record += 1;
            }
            Element::Reject {
                trace_id,
                reason,
                raw,
            } => {
                self.parsed.rejects.push(RejectedRecord {
                    record: self.next_record,
                    trace_id,
                    reason,
                    raw,
                });
                self.next_record += 1;
            }
            Element::Envelope(inner) if self.depth >= MAX_ENVELOPE_DEPTH => {
                return self.take(Element::Reject {
                    trace_id: None,
                    reason: format!(
                        "not a trace: envelopes nested more than {MAX_ENVELOPE_DEPTH} deep"
                    ),
                    raw: inner.get().to_string(),
                });
            }
            Element::Envelope(inner) => {
                // (On an error the whole parse fails: `depth` need not be restored.)
                self.depth += 1;
                let mut de = serde_json::Deserializer::from_str(inner.get());
                if inner.get().starts_with('[') {
                    de.deserialize_seq(ArrayVisitor { sink: self })?;
                } else {
                    let element = ElementSeed.deserialize(&mut de)?;
                    self.take(element)?;
                }
                self.depth -= 1;
            }
        }
        Ok(())
    }
}

/// Visits the top-level array, one element at a time.
struct ArrayVisitor<'s, 'de> {
    sink: &'s mut Sink<'de>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of traces")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element_seed(ElementSeed)? {
            self.sink.take(element).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// One element of a file: a trace, an envelope around traces, or a rejected record.
// Moved once per record and never stored: boxing the trace would cost an allocation per trace.
#[allow(clippy::large_enum_variant)]
enum Element<'de> {
    Trace(TraceRecord<'de>),
    Envelope(&'de RawValue),
    Reject {
        trace_id: Option<String>,
        reason: String,
        raw: String,
    },
}

/// Reads one element of any JSON type.
struct ElementSeed;

impl<'de> Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element<'de>, D::Error> {
        ElementSeed.deserialize(d)
    }
}

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element<'de>, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl ElementVisitor {
    fn not_object<'de>(kind: &str, raw: String) -> Element<'de> {
        Element::Reject {
            trace_id: None,
            reason: format!("not a trace: expected an object, found {kind}"),
            raw,
        }
    }
}

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a trace object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Element<'de>, M::Error> {
        let mut entries: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::with_capacity(32);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            entries.push((key, value));
        }
        Ok(interpret(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item.get());
        }
        Ok(Self::not_object(
            "an array",
            format!("[{}]", items.join(",")),
        ))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Element<'de>, E> {
        Ok(Self::not_object("a string", json_string(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Element<'de>, E> {
        Ok(Self::not_object("a boolean", v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Element<'de>, E> {
        Ok(Self::not_object("a number", v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Element<'de>, E> {
        Ok(Self::not_object("a number", v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Element<'de>, E> {
        Ok(Self::not_object("a number", v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Element<'de>, E> {
        Ok(Self::not_object("null", "null".to_string()))
    }
}

/// Object keys, borrowed where they have no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Turn the entries of one object into a trace, an envelope, or a rejected record.
fn interpret<'de>(entries: Vec<(Cow<'de, str>, &'de RawValue)>) -> Element<'de> {
    let mut t = TraceRecord::default();
    let mut trace_id: Text<'de> = None;
    let mut time: Option<&'de RawValue> = None;
    let mut trace_status: Text<'de> = None;
    let mut envelope: Option<&'de RawValue> = None;
    let mut extra: Vec<(&str, &'de RawValue)> = Vec::new();

    for (original, raw) in &entries {
        let raw: &'de RawValue = raw;
        // Keys are matched trimmed (an old API example has "trace_status "), kept verbatim.
        let key: &str = original;
        match key.trim() {
            "trace_id" => trace_id = text(raw),
            "time" => time = Some(raw),
            "record_time" => {
                t.record_time = timestamp_ms(raw).ok().flatten();
                if t.record_time.is_none() && !is_null(raw) {
                    extra.push((key, raw));
                }
            }
            "trace_status" => trace_status = text(raw),
            "read_only" => t.read_only = typed(key, raw, boolean, &mut extra),
            "content_length" => t.content_length = typed(key, raw, integer, &mut extra),
            "total_time" => t.total_time = typed(key, raw, integer, &mut extra),
            "user" => {
                let (info, json) = user(raw);
                t.user = info;
                t.user_json = json;
            }
            // An envelope, unless the object is itself a trace: then an ordinary extra field.
            "traces" | "cts" => {
                if raw.get().starts_with('[') || raw.get().starts_with('{') {
                    envelope = Some(raw);
                }
                extra.push((key, raw));
            }
            _ => match text_field(key) {
                Some(('a', i)) => t.text_a[i] = text(raw),
                Some((_, i)) => t.text_b[i] = text(raw),
                None => extra.push((key, raw)),
            },
        }
    }

    match (&t.text_a[a::TRACE_RATING], trace_status) {
        (None, status) => t.text_a[a::TRACE_RATING] = status,
        (Some(rating), Some(status)) if *rating != status => {
            if let Some((key, raw)) = entries.iter().find(|(k, _)| k.trim() == "trace_status") {
                extra.push((key, raw));
            }
        }
        _ => {}
    }

    let trace_id = match trace_id {
        Some(id) if !id.trim().is_empty() => id,
        other => {
            if let Some(inner) = envelope {
                return Element::Envelope(inner);
            }
            let reason = if other.is_some() {
                "trace_id is empty"
            } else {
                "no trace_id"
            };
            return reject(&entries, None, reason.to_string());
        }
    };
    t.time = match time.map(timestamp_ms) {
        Some(Ok(Some(ms))) => ms,
        Some(Ok(None)) | None => {
            return reject(&entries, Some(&trace_id), "no time".to_string());
        }
        Some(Err(())) => {
            let raw = time.map(|r| r.get()).unwrap_or_default();
            return reject(
                &entries,
                Some(&trace_id),
                format!("time: cannot read {raw} as a timestamp"),
            );
        }
    };
    if let Err(reason) = plausible(t.time) {
        return reject(&entries, Some(&trace_id), reason);
    }
    t.trace_id = trace_id;
    if !extra.is_empty() {
        t.extra = Some(object_text(extra.iter().map(|(k, v)| (*k, *v))));
    }
    Element::Trace(t)
}

/// The earliest `time` accepted: 2000-01-01T00:00:00Z (CTS started in 2016).
pub const EARLIEST_TIME_MS: i64 = 946_684_800_000;
/// How far past the clock a `time` may be (clock skew between services).
pub const MAX_FUTURE_MS: i64 = 86_400_000;

/// A trace's `time` must fall between 2000 and a day from now; anything else is a broken clock
/// or a misread unit, and is set aside rather than filed under a nonsensical day.
fn plausible(time: i64) -> Result<(), String> {
    let latest = chrono::Utc::now()
        .timestamp_millis()
        .saturating_add(MAX_FUTURE_MS);
    if (EARLIEST_TIME_MS..=latest).contains(&time) {
        return Ok(());
    }
    let shown = DateTime::from_timestamp_millis(time)
        .map_or_else(|| format!("{time} ms"), |t| t.to_rfc3339());
    Err(format!(
        "time {shown} is outside the plausible range (2000-01-01 to a day from now)"
    ))
}

fn reject<'de>(
    entries: &[(Cow<'de, str>, &'de RawValue)],
    trace_id: Option<&str>,
    reason: String,
) -> Element<'de> {
    Element::Reject {
        trace_id: trace_id.map(str::to_string),
        reason,
        raw: object_text(entries.iter().map(|(k, v)| (k.as_ref(), *v))),
    }
}

/// `{"k":v,...}` from keys and raw values.
fn object_text<'x>(entries: impl Iterator<Item = (&'x str, &'x RawValue)>) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(key));
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    out
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// A value as text: strings unquoted, `null` as none, anything else as its JSON text.
fn text(raw: &RawValue) -> Text<'_> {
    let s = raw.get();
    match s.as_bytes().first() {
        Some(b'"') => Some(unquote(s)),
        Some(b'n') => None,
        _ => Some(Cow::Borrowed(s)),
    }
}

/// The content of a JSON string literal.
fn unquote(s: &str) -> Cow<'_, str> {
    let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
    if inner.contains('\\') {
        match serde_json::from_str::<String>(s) {
            Ok(owned) => Cow::Owned(owned),
            Err(_) => Cow::Borrowed(inner),
        }
    } else {
        Cow::Borrowed(inner)
    }
}

/// Parse a typed field; a value of the wrong type leaves the column null and is kept in `extra`.
fn typed<'k, 'de, T>(
    key: &'k str,
    raw: &'de RawValue,
    parse: fn(&str) -> Option<T>,
    extra: &mut Vec<(&'k str, &'de RawValue)>,
) -> Option<T> {
    let s = raw.get();
    if s == "null" {
        return None;
    }
    let value = match s.as_bytes().first() {
        Some(b'"') => parse(&unquote(s)),
        _ => parse(s),
    };
    if value.is_none() {
        extra.push((key, raw));
    }
    value
}

fn boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn integer(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

/// Milliseconds since the epoch from a number or a string: `Ok(None)` for null, `Err` for a
/// value that is not a time. Values below 10^11 are taken as seconds (FunctionGraph samples use
/// seconds), digit strings as numbers, and RFC 3339 or the console's
/// `2016/12/08 11:07:28 GMT+08:00` as dates.
fn timestamp_ms(raw: &RawValue) -> Result<Option<i64>, ()> {
    let s = raw.get();
    let body: Cow<'_, str> = match s.as_bytes().first() {
        Some(b'"') => unquote(s),
        Some(b'n') => return Ok(None),
        _ => Cow::Borrowed(s),
    };
    let body = body.trim();
    if let Ok(n) = body.parse::<i64>() {
        return Ok(Some(if n.abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        }));
    }
    if let Ok(f) = body.parse::<f64>()
        && f.is_finite()
        && f.abs() < 1.0e16
    {
        let ms = if f.abs() < 1.0e11 { f * 1000.0 } else { f };
        return Ok(Some(ms.round() as i64));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(body) {
        return Ok(Some(t.timestamp_millis()));
    }
    if let Ok(t) = DateTime::parse_from_str(body, "%Y/%m/%d %H:%M:%S GMT%:z") {
        return Ok(Some(t.timestamp_millis()));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(body, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(t.and_utc().timestamp_millis()));
    }
    Err(())
}

/// The flat `user` fields and the `user` JSON text, from an object or a JSON-encoded string.
fn user(raw: &RawValue) -> (UserInfo<'_>, Text<'_>) {
    let s = raw.get();
    match s.as_bytes().first() {
        Some(b'{') => (user_fields(s), Some(Cow::Borrowed(s))),
        Some(b'"') => {
            let inner = unquote(s);
            if inner.trim_start().starts_with('{')
                && serde_json::from_str::<&RawValue>(&inner).is_ok()
            {
                let info = owned_user(user_fields(&inner));
                (info, Some(Cow::Owned(inner.into_owned())))
            } else {
                // A string that is no JSON object ("xxx"): kept as it is, as a JSON string.
                (UserInfo::default(), Some(Cow::Borrowed(s)))
            }
        }
        Some(b'n') | None => (UserInfo::default(), None),
        _ => (UserInfo::default(), Some(Cow::Borrowed(s))),
    }
}

/// Entries of a JSON object given as text; empty when it is not an object.
fn entries(json: &str) -> Vec<(Cow<'_, str>, &RawValue)> {
    struct ObjectVisitor;
    impl<'de> Visitor<'de> for ObjectVisitor {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key_seed(KeySeed)? {
                out.push((key, map.next_value()?));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_map(ObjectVisitor).unwrap_or_default()
}

fn user_fields(json: &str) -> UserInfo<'_> {
    let mut info = UserInfo::default();
    let mut user_name: Text<'_> = None;
    for (key, raw) in entries(json) {
        match key.as_ref() {
            "id" => info.text[u::ID] = text(raw),
            "name" => info.text[u::NAME] = text(raw),
            "user_name" => user_name = text(raw),
            "type" => info.text[u::TYPE] = text(raw),
            "access_key_id" => info.text[u::ACCESS_KEY_ID] = text(raw),
            "principal_urn" => info.text[u::PRINCIPAL_URN] = text(raw),
            "principal_id" => info.text[u::PRINCIPAL_ID] = text(raw),
            "principal_is_root_user" => info.principal_is_root_user = flag(raw),
            "domain" => {
                for (k, v) in entries(raw.get()) {
                    match k.as_ref() {
                        "id" => info.text[u::DOMAIN_ID] = text(v),
                        "name" => info.text[u::DOMAIN_NAME] = text(v),
                        _ => {}
                    }
                }
            }
            "invoked_by" => info.invoked_by = string_list(raw),
            "session_context" => {
                for (k, v) in entries(raw.get()) {
                    if k == "attributes" {
                        for (k, v) in entries(v.get()) {
                            if k == "mfa_authenticated" {
                                info.mfa_authenticated = flag(v);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if info.text[u::NAME].is_none() {
        info.text[u::NAME] = user_name;
    }
    info
}

fn flag(raw: &RawValue) -> Option<bool> {
    let s = raw.get();
    match s.as_bytes().first() {
        Some(b'"') => boolean(&unquote(s)),
        _ => boolean(s),
    }
}

/// `["a","b"]`, or a single string as a one-element list.
fn string_list(raw: &RawValue) -> Option<Vec<String>> {
    let s = raw.get();
    if s.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(s).ok()?;
        Some(
            items
                .into_iter()
                .filter_map(|i| text(i).map(Cow::into_owned))
                .collect(),
        )
    } else {
        text(raw).map(|one| vec![one.into_owned()])
    }
}

fn owned_user(info: UserInfo<'_>) -> UserInfo<'static> {
    UserInfo {
        text: info.text.map(|t| t.map(|c| Cow::Owned(c.into_owned()))),
        principal_is_root_user: info.principal_is_root_user,
        mfa_authenticated: info.mfa_authenticated,
        invoked_by: info.invoked_by,
    }
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
