//! Pages of traces, newest first: the one paging rule of the API's trace list and the console.
//!
//! Traces are ordered by (`time`, `trace_id`), both descending. A page continues strictly after
//! a marker trace ([`Marker::After`], the next page) or ends strictly before one
//! ([`Marker::Before`], the page before): paging never skips or repeats a trace, even while new
//! ones arrive, because a marker is a position in that order, not an offset.

use arrow::array::{RecordBatch, TimestampMillisecondArray};
use datafusion::prelude::{DataFrame, Expr, SessionContext, col, lit};

use cts_core::trace::col as c;

use crate::error::{Error, Result};
use crate::query::{TRACES_TABLE, ts_literal as ts};

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Marker {
    /// The newest traces.
    #[default]
    First,
    /// The traces just older than this trace (the next page).
    After(String),
    /// The traces just newer than this trace (the page before).
    Before(String),
}

/// One page: its traces, newest first, and the markers of the pages around it.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The traces, newest first (every column of `traces`).
    pub batches: Vec<RecordBatch>,
    /// The number of traces.
    pub rows: usize,
    /// The next page (older traces) starts after this trace, if there are older ones.
    pub next: Option<String>,
    /// The page before (newer traces) ends before this trace, if there are newer ones.
    pub previous: Option<String>,
}

/// The page of at most `limit` traces that match `filter`, starting at `marker`, with the
/// columns `columns` (every column of `traces` when empty; `trace_id` always). A marker that
/// names no trace the filter lets through is an error ([`Error::invalid`]).
pub async fn page(
    ctx: &SessionContext,
    filter: Expr,
    limit: usize,
    marker: &Marker,
    columns: &[&str],
) -> Result<Page> {
    let traces = ctx.table(TRACES_TABLE).await?;
    let (position, newer_first) = match marker {
        Marker::First => (None, true),
        Marker::After(id) => (Some(id), true),
        Marker::Before(id) => (Some(id), false),
    };
    let mut wanted = filter.clone();
    if let Some(id) = position {
        let time = time_of(traces.clone(), filter, id).await?;
        let (time_side, id_side) = if newer_first {
            (
                col(c::TIME).lt(ts(time)),
                col(c::TRACE_ID).lt(lit(id.clone())),
            )
        } else {
            (
                col(c::TIME).gt(ts(time)),
                col(c::TRACE_ID).gt(lit(id.clone())),
            )
        };
        wanted = wanted.and(time_side.or(col(c::TIME).eq(ts(time)).and(id_side)));
    }
    let df = traces
        .filter(wanted)?
        .sort(vec![
            col(c::TIME).sort(!newer_first, false),
            col(c::TRACE_ID).sort(!newer_first, false),
        ])?
        .limit(0, Some(limit + 1))?;
    let df = if columns.is_empty() {
        df
    } else {
        let mut wanted: Vec<Expr> = vec![col(c::TRACE_ID)];
        wanted.extend(
            columns
                .iter()
                .filter(|n| **n != c::TRACE_ID)
                .map(|n| col(*n)),
        );
        df.select(wanted)?
    };
    let mut batches = df.collect().await?;
    let found: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let more = found > limit;
    batches = take_first(&batches, limit);
    if !newer_first {
        batches = reversed(&batches)?;
    }
    let rows = found.min(limit);
    let first = first_id(&batches);
    let last = last_id(&batches);
    let (next, previous) = match marker {
        Marker::First => (last.filter(|_| more), None),
        Marker::After(_) => (last.filter(|_| more), first),
        Marker::Before(_) => (last, first.filter(|_| more)),
    };
    Ok(Page {
        batches,
        rows,
        next,
        previous,
    })
}

/// The `time` of the trace `id` among those `filter` lets through.
async fn time_of(traces: DataFrame, filter: Expr, id: &str) -> Result<i64> {
    let found = traces
        .filter(filter.and(col(c::TRACE_ID).eq(lit(id.to_string()))))?
        .select(vec![col(c::TIME)])?
        .limit(0, Some(1))?
        .collect()
        .await?;
    found
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .map(|a| a.value(0))
        })
        .ok_or_else(|| {
            Error::invalid(format!(
                "next: no trace {id:?} among the traces this query lists"
            ))
        })
}

/// The first `limit` rows of `batches`.
fn take_first(batches: &[RecordBatch], mut limit: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for batch in batches {
        if limit == 0 {
            break;
        }
        let n = batch.num_rows().min(limit);
        out.push(batch.slice(0, n));
        limit -= n;
    }
    out
}

/// The rows of `batches` in the opposite order.
fn reversed(batches: &[RecordBatch]) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches.iter().rev() {
        let n = batch.num_rows() as u32;
        let indices = arrow::array::UInt32Array::from_iter_values((0..n).rev());
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::arrow("reversing a page", e))?;
        out.push(
            RecordBatch::try_new(batch.schema(), columns)
                .map_err(|e| Error::arrow("reversing a page", e))?,
        );
    }
    Ok(out)
}

fn id_at(batch: &RecordBatch, row: usize) -> Option<String> {
    let column = batch.column_by_name(c::TRACE_ID)?;
    cts_core::trace::text_at(column, row).map(str::to_string)
}

fn first_id(batches: &[RecordBatch]) -> Option<String> {
    let batch = batches.iter().find(|b| b.num_rows() > 0)?;
    id_at(batch, 0)
}

fn last_id(batches: &[RecordBatch]) -> Option<String> {
    let batch = batches.iter().rev().find(|b| b.num_rows() > 0)?;
    id_at(batch, batch.num_rows() - 1)
}
