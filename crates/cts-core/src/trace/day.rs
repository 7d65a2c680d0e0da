//! Days: the UTC day of a trace's `time` names its archive partition (`day=YYYY-MM-DD`) and is
//! the scope within which a `trace_id` is kept once.

use arrow::array::{AsArray, RecordBatch, StringArray};
use arrow::datatypes::TimestampMillisecondType;
use chrono::{DateTime, NaiveDate};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The day (number since the epoch) of a time in ms since the epoch, UTC.
pub fn day_of(time_ms: i64) -> i64 {
    time_ms.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a day number since the epoch.
pub fn day_string(day: i64) -> String {
    DateTime::from_timestamp_millis(day.saturating_mul(DAY_MS))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day{day}"))
}

/// The day number of `YYYY-MM-DD`, if it is one.
pub fn parse_day(text: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.signed_duration_since(NaiveDate::default()).num_days())
}

/// The `time` of each trace of a batch in [`trace_schema`](crate::trace::schema::trace_schema) (or a
/// schema that starts like it), in ms since the epoch.
pub fn times(batch: &RecordBatch) -> &[i64] {
    batch
        .column(1)
        .as_primitive::<TimestampMillisecondType>()
        .values()
}

/// The `trace_id` of each trace of a batch in [`trace_schema`](crate::trace::schema::trace_schema)
/// (or a schema that starts like it).
pub fn trace_ids(batch: &RecordBatch) -> &StringArray {
    batch.column(0).as_string::<i32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_named_by_date() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(day_of(1718777931170)), "2024-06-19");
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_string(-1), "1969-12-31");
        assert_eq!(parse_day("2024-06-19"), Some(day_of(1718777931170)));
        assert_eq!(parse_day("2024-13-01"), None);
    }
}
