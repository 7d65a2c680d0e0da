//! Arrow record batches of traces, built one trace at a time.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMillisecondBuilder,
};

use crate::error::{Error, Result};
use crate::trace::record::TraceRecord;
use crate::trace::schema::{TEXT_COLUMNS_A, TEXT_COLUMNS_B, USER_TEXT_COLUMNS, trace_schema};

/// Builds Arrow record batches of [`trace_schema`] from [`TraceRecord`]s.
#[derive(Debug)]
pub struct TraceBatchBuilder {
    trace_id: StringBuilder,
    time: TimestampMillisecondBuilder,
    record_time: TimestampMillisecondBuilder,
    text_a: Vec<StringBuilder>,
    read_only: BooleanBuilder,
    text_b: Vec<StringBuilder>,
    content_length: Int64Builder,
    total_time: Int64Builder,
    user_text: Vec<StringBuilder>,
    principal_is_root_user: BooleanBuilder,
    mfa_authenticated: BooleanBuilder,
    invoked_by: ListBuilder<StringBuilder>,
    user_json: StringBuilder,
    region: StringBuilder,
    source_file: StringBuilder,
    extra: StringBuilder,
    rows: usize,
}

impl Default for TraceBatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TraceBatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let strings = |n: usize| (0..n).map(|_| StringBuilder::new()).collect::<Vec<_>>();
        TraceBatchBuilder {
            trace_id: StringBuilder::new(),
            time: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            record_time: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            text_a: strings(TEXT_COLUMNS_A.len()),
            read_only: BooleanBuilder::new(),
            text_b: strings(TEXT_COLUMNS_B.len()),
            content_length: Int64Builder::new(),
            total_time: Int64Builder::new(),
            user_text: strings(USER_TEXT_COLUMNS.len()),
            principal_is_root_user: BooleanBuilder::new(),
            mfa_authenticated: BooleanBuilder::new(),
            invoked_by: ListBuilder::new(StringBuilder::new()),
            user_json: StringBuilder::new(),
            region: StringBuilder::new(),
            source_file: StringBuilder::new(),
            extra: StringBuilder::new(),
            rows: 0,
        }
    }

    /// Rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// `true` when no row has been appended since the last [`finish`](Self::finish).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Append one trace read from `source_file` in `region`.
    pub fn append(&mut self, t: &TraceRecord<'_>, region: Option<&str>, source_file: &str) {
        self.trace_id.append_value(&t.trace_id);
        self.time.append_value(t.time);
        self.record_time.append_option(t.record_time);
        for (builder, value) in self.text_a.iter_mut().zip(&t.text_a) {
            builder.append_option(value.as_deref());
        }
        self.read_only.append_option(t.read_only);
        for (builder, value) in self.text_b.iter_mut().zip(&t.text_b) {
            builder.append_option(value.as_deref());
        }
        self.content_length.append_option(t.content_length);
        self.total_time.append_option(t.total_time);
        for (builder, value) in self.user_text.iter_mut().zip(&t.user.text) {
            builder.append_option(value.as_deref());
        }
        self.principal_is_root_user
            .append_option(t.user.principal_is_root_user);
        self.mfa_authenticated
            .append_option(t.user.mfa_authenticated);
        match &t.user.invoked_by {
            Some(items) => {
                for item in items {
                    self.invoked_by.values().append_value(item);
                }
                self.invoked_by.append(true);
            }
            None => self.invoked_by.append(false),
        }
        self.user_json.append_option(t.user_json.as_deref());
        self.region.append_option(region);
        self.source_file.append_value(source_file);
        self.extra.append_option(t.extra.as_deref());
        self.rows += 1;
    }

    /// Take the rows appended so far as one record batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.trace_id.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.record_time.finish()),
        ];
        columns.extend(
            self.text_a
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.push(Arc::new(self.read_only.finish()));
        columns.extend(
            self.text_b
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.push(Arc::new(self.content_length.finish()));
        columns.push(Arc::new(self.total_time.finish()));
        columns.extend(
            self.user_text
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.push(Arc::new(self.principal_is_root_user.finish()));
        columns.push(Arc::new(self.mfa_authenticated.finish()));
        columns.push(Arc::new(self.invoked_by.finish()));
        columns.push(Arc::new(self.user_json.finish()));
        columns.push(Arc::new(self.region.finish()));
        columns.push(Arc::new(self.source_file.finish()));
        columns.push(Arc::new(self.extra.finish()));
        self.rows = 0;
        RecordBatch::try_new(trace_schema(), columns)
            .map_err(|e| Error::arrow("building a batch of traces", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::schema::a;

    #[test]
    fn builder_rows_match_schema() -> Result<()> {
        let mut b = TraceBatchBuilder::new();
        let mut t = TraceRecord {
            trace_id: "id-1".into(),
            time: 1,
            ..Default::default()
        };
        t.text_a[a::TRACE_RATING] = Some("normal".into());
        t.user.invoked_by = Some(vec!["service.console".into()]);
        b.append(&t, Some("eu-de"), "f.json");
        let batch = b.finish()?;
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), trace_schema());
        assert!(b.is_empty());
        Ok(())
    }
}
