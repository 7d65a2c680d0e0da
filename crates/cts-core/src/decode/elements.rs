//! The elements of a trace file, one at a time: traces, envelopes around traces
//! (`{"traces": [...]}`, `{"cts": {...}}`, at most eight deep) and records that are not traces.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::decode::fields::Element;
use crate::decode::fields::{KeySeed, interpret, json_string};
use crate::decode::outcome::{Parsed, RejectedRecord};

/// Where decoded elements go.
pub(crate) struct Sink<'a> {
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
    /// An empty sink, at the first record.
    pub(crate) fn new() -> Self {
        Sink {
            parsed: Parsed::default(),
            next_record: 1,
            depth: 0,
        }
    }

    /// What was taken.
    pub(crate) fn into_parsed(self) -> Parsed<'a> {
        self.parsed
    }

    pub(crate) fn take(&mut self, element: Element<'a>) -> Result<(), serde_json::Error> {
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
pub(crate) struct ArrayVisitor<'s, 'de> {
    pub(crate) sink: &'s mut Sink<'de>,
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

/// Reads one element of any JSON type.
pub(crate) struct ElementSeed;

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
