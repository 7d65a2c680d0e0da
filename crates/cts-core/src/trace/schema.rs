//! The one Arrow schema a trace is stored in, and the schema queries see.
//!
//! Column names are the public contract that reports and users write SQL against
//! (README "The `traces` table"). Every field of cts-spec.md §1.1-1.2 has a column; fields the
//! schema does not know are kept, as JSON text, in `extra`, so nothing in a file is dropped.

use std::sync::{Arc, LazyLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
#[cfg(doc)]
use crate::trace::record::{TraceRecord, UserInfo};

/// Column names of the `traces` table.
pub mod col {
    /// Unique trace ID (a UUID).
    pub const TRACE_ID: &str = "trace_id";
    /// When the operation happened (UTC, ms).
    pub const TIME: &str = "time";
    /// When CTS recorded the trace (UTC, ms).
    pub const RECORD_TIME: &str = "record_time";
    /// Trace rating: `normal`, `warning` or `incident` (also read from `trace_status`).
    pub const TRACE_RATING: &str = "trace_rating";
    /// Region, from the object key.
    pub const REGION: &str = "region";
    /// Key of the trace file the trace was loaded from.
    pub const SOURCE_FILE: &str = "source_file";
    /// JSON text of the whole `user` object, as the trace gave it.
    pub const USER: &str = "user";
    /// JSON text of every field the schema does not know.
    pub const EXTRA: &str = "extra";
    /// Hive partition column of the archive: the UTC day of `time`, `YYYY-MM-DD`.
    pub const DAY: &str = "day";
}

/// The Arrow schema of a trace, in column order. `day` is not part of it: it is the archive's
/// partition column, derived from `time`.
pub fn trace_schema() -> SchemaRef {
    SCHEMA.clone()
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let ts = |name: &str, nullable| {
        Field::new(
            name,
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            nullable,
        )
    };
    let mut fields = vec![
        Field::new(col::TRACE_ID, DataType::Utf8, false),
        ts(col::TIME, false),
        ts(col::RECORD_TIME, true),
    ];
    fields.extend(TEXT_COLUMNS_A.iter().map(|c| text(c)));
    fields.push(Field::new("read_only", DataType::Boolean, true));
    fields.extend(TEXT_COLUMNS_B.iter().map(|c| text(c)));
    fields.push(Field::new("content_length", DataType::Int64, true));
    fields.push(Field::new("total_time", DataType::Int64, true));
    fields.extend(USER_TEXT_COLUMNS.iter().map(|c| text(c)));
    fields.push(Field::new(
        "principal_is_root_user",
        DataType::Boolean,
        true,
    ));
    fields.push(Field::new("mfa_authenticated", DataType::Boolean, true));
    fields.push(Field::new(
        "invoked_by",
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        true,
    ));
    fields.push(text(col::USER));
    fields.push(text(col::REGION));
    fields.push(Field::new(col::SOURCE_FILE, DataType::Utf8, false));
    fields.push(text(col::EXTRA));
    Arc::new(Schema::new(fields))
});

/// The schema that queries see: [`trace_schema`] with its text columns as `Utf8View`.
///
/// Traces are stored (decoded batches, Parquet, the hot store's log) with plain `Utf8` strings,
/// which every Parquet reader understands. DataFusion reads Parquet strings as `Utf8View`, which
/// points into the decoded pages instead of copying each string; declaring the tables in that
/// type saves a cast of every string column on every scan, and lets grouping and comparison use
/// the views' inline prefixes (top operators at 10 M traces: 210 ms to 196).
pub fn query_schema() -> SchemaRef {
    QUERY_SCHEMA.clone()
}

static QUERY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| view_types(&trace_schema()));

/// `schema` with each `Utf8` field as `Utf8View` (lists keep their items as they are).
pub fn view_types(schema: &Schema) -> SchemaRef {
    retype_text(schema, &DataType::Utf8, DataType::Utf8View)
}

/// `schema` with each `Utf8View` field as `Utf8`: how query results are written to Parquet, so
/// that exported files have the archive's types and any Parquet reader takes them.
pub fn plain_types(schema: &Schema) -> SchemaRef {
    retype_text(schema, &DataType::Utf8View, DataType::Utf8)
}

/// `schema` with each top-level field of type `from` as `to`.
fn retype_text(schema: &Schema, from: &DataType, to: DataType) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let field = f.as_ref().clone();
            if f.data_type() == from {
                field.with_data_type(to.clone())
            } else {
                field
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with each column cast to its type in `schema` (same columns, same order), as when
/// traces in [`trace_schema`] are served to queries in [`query_schema`].
pub fn cast_to(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let failed = |e| Error::arrow("casting traces to the query schema", e);
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                arrow::compute::cast(column, field.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(failed)?;
    RecordBatch::try_new(schema.clone(), columns).map_err(failed)
}

/// The text at `row` of a string column of any of Arrow's three string types (`Utf8`,
/// `LargeUtf8`, `Utf8View`); `None` for a null or a column that is not text.
pub fn text_at(column: &dyn arrow::array::Array, row: usize) -> Option<&str> {
    use arrow::array::AsArray;
    if column.is_null(row) {
        return None;
    }
    match column.data_type() {
        DataType::Utf8 => Some(column.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(column.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(column.as_string_view().value(row)),
        _ => None,
    }
}

/// Whether `column` holds a field of the trace as CTS writes it, in trace files and in API
/// answers. The other columns are derived from `user` (`user_name`, ...), say where the trace
/// came from (`region`, `source_file`), or keep what the schema does not know (`extra`).
pub fn is_trace_field(column: &str) -> bool {
    matches!(
        column,
        col::TRACE_ID
            | col::TIME
            | col::RECORD_TIME
            | "read_only"
            | "content_length"
            | "total_time"
    ) || TEXT_COLUMNS_A.contains(&column)
        || TEXT_COLUMNS_B.contains(&column)
}

/// Text columns after `record_time`, in order (all of [`TraceRecord::text_a`]).
pub(crate) const TEXT_COLUMNS_A: [&str; 20] = [
    "service_type",
    "resource_type",
    "resource_name",
    "resource_id",
    "trace_name",
    col::TRACE_RATING,
    "trace_type",
    "event_type",
    "source_ip",
    "code",
    "api_version",
    "message",
    "request",
    "response",
    "request_id",
    "tracker_name",
    "project_id",
    "domain_id",
    "operation_id",
    "enterprise_project_id",
];

/// Text columns after `read_only`, in order (all of [`TraceRecord::text_b`]).
pub(crate) const TEXT_COLUMNS_B: [&str; 5] = [
    "resource_account_id",
    "user_agent",
    "location_info",
    "endpoint",
    "resource_url",
];

/// Text columns taken from `user`, in order (all of [`UserInfo::text`]).
pub(crate) const USER_TEXT_COLUMNS: [&str; 8] = [
    "user_id",
    "user_name",
    "user_domain_id",
    "user_domain_name",
    "user_type",
    "access_key_id",
    "principal_urn",
    "principal_id",
];

/// Index of each text column from `service_type` to `enterprise_project_id` in
/// [`TraceRecord::text_a`].
#[allow(missing_docs)]
pub mod a {
    pub const SERVICE_TYPE: usize = 0;
    pub const RESOURCE_TYPE: usize = 1;
    pub const RESOURCE_NAME: usize = 2;
    pub const RESOURCE_ID: usize = 3;
    pub const TRACE_NAME: usize = 4;
    pub const TRACE_RATING: usize = 5;
    pub const TRACE_TYPE: usize = 6;
    pub const EVENT_TYPE: usize = 7;
    pub const SOURCE_IP: usize = 8;
    pub const CODE: usize = 9;
    pub const API_VERSION: usize = 10;
    pub const MESSAGE: usize = 11;
    pub const REQUEST: usize = 12;
    pub const RESPONSE: usize = 13;
    pub const REQUEST_ID: usize = 14;
    pub const TRACKER_NAME: usize = 15;
    pub const PROJECT_ID: usize = 16;
    pub const DOMAIN_ID: usize = 17;
    pub const OPERATION_ID: usize = 18;
    pub const ENTERPRISE_PROJECT_ID: usize = 19;
}

/// Index of each text column from `resource_account_id` to `resource_url` in
/// [`TraceRecord::text_b`].
#[allow(missing_docs)]
pub mod b {
    pub const RESOURCE_ACCOUNT_ID: usize = 0;
    pub const USER_AGENT: usize = 1;
    pub const LOCATION_INFO: usize = 2;
    pub const ENDPOINT: usize = 3;
    pub const RESOURCE_URL: usize = 4;
}

/// Index of each text column from `user_id` to `principal_id` in [`UserInfo::text`].
#[allow(missing_docs)]
pub mod u {
    pub const ID: usize = 0;
    pub const NAME: usize = 1;
    pub const DOMAIN_ID: usize = 2;
    pub const DOMAIN_NAME: usize = 3;
    pub const TYPE: usize = 4;
    pub const ACCESS_KEY_ID: usize = 5;
    pub const PRINCIPAL_URN: usize = 6;
    pub const PRINCIPAL_ID: usize = 7;
}

/// Look up the position of a text field by its JSON key: `Some((group, index))` where group is
/// `'a'` or `'b'`.
pub(crate) fn text_field(key: &str) -> Option<(char, usize)> {
    if let Some(i) = TEXT_COLUMNS_A.iter().position(|c| *c == key) {
        return Some(('a', i));
    }
    TEXT_COLUMNS_B
        .iter()
        .position(|c| *c == key)
        .map(|i| ('b', i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_has_every_contract_column_once() {
        let schema = trace_schema();
        let contract = [
            "trace_id",
            "time",
            "record_time",
            "service_type",
            "resource_type",
            "resource_name",
            "resource_id",
            "trace_name",
            "trace_rating",
            "trace_type",
            "source_ip",
            "code",
            "api_version",
            "message",
            "request",
            "response",
            "request_id",
            "tracker_name",
            "project_id",
            "domain_id",
            "event_type",
            "operation_id",
            "read_only",
            "enterprise_project_id",
            "resource_account_id",
            "user_agent",
            "location_info",
            "endpoint",
            "resource_url",
            "content_length",
            "total_time",
            "user_id",
            "user_name",
            "user_domain_id",
            "user_domain_name",
            "user_type",
            "access_key_id",
            "principal_urn",
            "principal_id",
            "principal_is_root_user",
            "mfa_authenticated",
            "invoked_by",
            "region",
            "source_file",
            "extra",
            "user",
        ];
        for name in contract {
            assert!(
                schema.field_with_name(name).is_ok(),
                "missing column {name}"
            );
        }
        assert_eq!(schema.fields().len(), contract.len());
    }
}
