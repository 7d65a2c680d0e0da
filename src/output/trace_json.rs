//! Traces as CTS writes them, in trace files, API answers and notifications: JSON objects rebuilt
//! from the rows of the `traces` schema.

use arrow::array::{Array, BooleanArray, Int64Array, RecordBatch, TimestampMillisecondArray};
use arrow::datatypes::{DataType, TimeUnit};
use serde_json::{Map, Value};

use cts_core::trace::{col as c, is_trace_field, text_at};

/// The traces of `batch` as CTS writes them (in trace files and API answers): the trace
/// fields, `user` as it came, and the fields the schema does not know, from `extra`.
pub fn traces_json(batch: &RecordBatch, out: &mut Vec<Value>) {
    let schema = batch.schema();
    for row in 0..batch.num_rows() {
        let mut trace = Map::new();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name().as_str();
            if column.is_null(row) {
                continue;
            }
            if name == "user" || name == c::EXTRA {
                let text = text_at(column, row).unwrap_or_default();
                match (name, serde_json::from_str::<Value>(text)) {
                    ("user", Ok(v)) => {
                        trace.insert(name.into(), v);
                    }
                    ("user", Err(_)) => {
                        trace.insert(name.into(), Value::from(text));
                    }
                    (_, Ok(Value::Object(extra))) => {
                        for (k, v) in extra {
                            trace.entry(k).or_insert(v);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            if !is_trace_field(name) {
                continue;
            }
            let value = match column.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    Value::from(text_at(column, row).unwrap_or_default())
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => column
                    .as_any()
                    .downcast_ref::<TimestampMillisecondArray>()
                    .map_or(Value::Null, |a| Value::from(a.value(row))),
                DataType::Int64 => column
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map_or(Value::Null, |a| Value::from(a.value(row))),
                DataType::Boolean => column
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .map_or(Value::Null, |a| Value::from(a.value(row))),
                _ => continue,
            };
            trace.insert(name.into(), value);
        }
        out.push(Value::Object(trace));
    }
}
