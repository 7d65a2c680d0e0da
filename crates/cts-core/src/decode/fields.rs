//! One JSON object to one trace: every variant of a field that real files contain
//! (cts-spec.md §1.4), and the reasons a record is set aside.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDateTime};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::trace::{Text, TraceRecord, UserInfo, a, text_field, u};

/// One element of a file: a trace, an envelope around traces, or a rejected record.
// Moved once per record and never stored: boxing the trace would cost an allocation per trace.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Element<'de> {
    Trace(TraceRecord<'de>),
    Envelope(&'de RawValue),
    Reject {
        trace_id: Option<String>,
        reason: String,
        raw: String,
    },
}

/// Turn the entries of one object into a trace, an envelope, or a rejected record.
pub(crate) fn interpret<'de>(entries: Vec<(Cow<'de, str>, &'de RawValue)>) -> Element<'de> {
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

pub(crate) fn json_string(s: &str) -> String {
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

/// Object keys, borrowed where they have no escapes.
pub(crate) struct KeySeed;

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
