//! The trace model: one normalised trace record ([`TraceRecord`]), the one Arrow schema it is
//! stored in ([`trace_schema`]), batches of them ([`TraceBatchBuilder`]), and the day of a trace,
//! which partitions the archive and scopes exactly-once.

mod batch;
mod day;
mod record;
mod schema;

pub use batch::TraceBatchBuilder;
pub use day::{DAY_MS, day_of, day_string, parse_day, times, trace_ids};
pub use record::{Text, TraceRecord, UserInfo};
pub(crate) use schema::text_field;
pub use schema::{
    a, b, cast_to, col, is_trace_field, plain_types, query_schema, text_at, trace_schema, u,
    view_types,
};
