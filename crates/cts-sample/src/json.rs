//! A JSON value that keeps its objects' key order, written with serde_json.
//!
//! Trace files must come out in the key order CTS writes (and in the varied orders real files
//! show), which serde_json's `Value` cannot do without its `preserve_order` feature. [`J`] keeps
//! its keys in the order they were built; its `Serialize` hands them to serde_json in that order,
//! compactly ([`compact`], [`encoded`], [`write_array`]) or pretty-printed with a two-space indent
//! ([`write_array`]).

use std::borrow::Cow;
use std::io;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::ser::PrettyFormatter;

/// A JSON value whose objects keep their key order (serde_json's `Map` sorts without
/// `preserve_order`).
#[derive(Debug, Clone)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(Cow<'static, str>),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

/// A string value borrowed from a literal.
pub(crate) fn st(s: &'static str) -> J {
    J::Str(Cow::Borrowed(s))
}

/// A string value that owns its text.
pub(crate) fn ss(s: String) -> J {
    J::Str(Cow::Owned(s))
}

impl From<&'static str> for J {
    fn from(s: &'static str) -> J {
        J::Str(Cow::Borrowed(s))
    }
}

impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(Cow::Owned(s))
    }
}

impl From<i64> for J {
    fn from(n: i64) -> J {
        J::Int(n)
    }
}

impl From<i32> for J {
    fn from(n: i32) -> J {
        J::Int(i64::from(n))
    }
}

impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}

impl Serialize for J {
    /// Objects as maps in their key order, arrays as sequences.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => serializer.serialize_unit(),
            J::Bool(b) => serializer.serialize_bool(*b),
            J::Int(n) => serializer.serialize_i64(*n),
            J::Str(s) => serializer.serialize_str(s),
            J::Arr(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            J::Obj(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// `obj! {"key" => value, ...}`: a JSON object in this key order; values go through `J::from`.
macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => {
        $crate::json::J::Obj(vec![$(($k, $crate::json::J::from($v))),*])
    };
}
pub(crate) use obj;

/// `arr![value, ...]`: a JSON array; values go through `J::from`.
macro_rules! arr {
    ($($v:expr),* $(,)?) => { $crate::json::J::Arr(vec![$($crate::json::J::from($v)),*]) };
}
pub(crate) use arr;

/// The value serialised compactly, as a JSON string (how CTS often ships `user`, `request`, ...).
pub(crate) fn encoded(v: &J) -> J {
    ss(compact(v))
}

/// The value's compact JSON text.
pub(crate) fn compact(v: &J) -> String {
    // Cannot fail: every key is a string, and writing into memory does not fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// Write `items` as one JSON array: compact, or pretty-printed with a two-space indent and
/// `": "` after keys (serde_json's `PrettyFormatter`), each element on its own lines.
pub(crate) fn write_array(out: &mut Vec<u8>, items: &[&J], pretty: bool) -> io::Result<()> {
    if pretty {
        let mut serializer =
            serde_json::Serializer::with_formatter(out, PrettyFormatter::with_indent(b"  "));
        items.serialize(&mut serializer)?;
    } else {
        serde_json::to_writer(out, items)?;
    }
    Ok(())
}

/// Sort object keys, recursively (how 2024 trace files are written).
pub(crate) fn sort_keys(v: &mut J) {
    match v {
        J::Obj(fields) => {
            fields.sort_by(|a, b| a.0.cmp(b.0));
            for (_, item) in fields.iter_mut() {
                sort_keys(item);
            }
        }
        J::Arr(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> J {
        obj! {
            "b" => "say \"hi\"\\\n\t\r\u{1}",
            "a" => obj! {"n" => -42, "t" => true, "f" => false, "z" => J::Null},
            "e" => obj! {},
            "l" => arr![1, arr![], "x"],
        }
    }

    #[test]
    fn compact_keeps_key_order_and_escapes_like_json() {
        assert_eq!(
            compact(&sample()),
            r#"{"b":"say \"hi\"\\\n\t\r\u0001","a":{"n":-42,"t":true,"f":false,"z":null},"e":{},"l":[1,[],"x"]}"#
        );
        let J::Str(text) = encoded(&arr!["a"]) else {
            panic!("encoded is a string")
        };
        assert_eq!(text, r#"["a"]"#);
    }

    #[test]
    fn arrays_are_written_compact_or_pretty() {
        let v = sample();
        let mut out = Vec::new();
        write_array(&mut out, &[&v, &J::Int(1)], false).expect("compact");
        assert_eq!(out, format!("[{},1]", compact(&v)).into_bytes());
        let mut out = Vec::new();
        write_array(&mut out, &[&v, &J::Int(1)], true).expect("pretty");
        let expected = r#"[
  {
    "b": "say \"hi\"\\\n\t\r\u0001",
    "a": {
      "n": -42,
      "t": true,
      "f": false,
      "z": null
    },
    "e": {},
    "l": [
      1,
      [],
      "x"
    ]
  },
  1
]"#;
        assert_eq!(String::from_utf8(out).expect("utf-8"), expected);
    }

    #[test]
    fn sort_keys_sorts_every_level() {
        let mut v = sample();
        sort_keys(&mut v);
        assert_eq!(
            compact(&v),
            r#"{"a":{"f":false,"n":-42,"t":true,"z":null},"b":"say \"hi\"\\\n\t\r\u0001","e":{},"l":[1,[],"x"]}"#
        );
    }
}
