//! Exactly once: the one rule that keeps each trace once, for every writer (the loader, the hot
//! store's appends, its flushes and its roll-over into the archive).
//!
//! A trace is known by its `trace_id` within the UTC day of its `time`: CTS delivers at least
//! once, and a re-delivered trace is the same record, so it has the same time. Before traces are
//! written anywhere, [`new_traces_by_day`] drops those whose ID their day already holds (in the
//! store that takes them, or earlier in the same write), then sorts the rest by time and splits
//! them by day, one batch per day: the archive's partitions and the hot store's segments.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cts_core::decode::decode_file;
//! use cts_core::store::once::{DayIds, new_traces_by_day};
//!
//! let file = br#"[{"trace_id":"b","time":1719745200000},{"trace_id":"a","time":1719658800000},
//!                 {"trace_id":"b","time":1719745200000}]"#;
//! let batch = decode_file(file, "f.json", None)?.batch;
//! let mut stored = DayIds::default();
//! let new = new_traces_by_day(&[batch], &mut stored)?;
//! assert_eq!(new.keep, [vec![true, true, false]]);
//! let days: Vec<(i64, usize)> = new.days.iter().map(|d| (d.day, d.batch.num_rows())).collect();
//! assert_eq!(days, [(19903, 1), (19904, 1)]);
//! # Ok(()) }
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};

use arrow::array::RecordBatch;

use crate::error::{Error, Result};
use crate::trace::{day_of, times, trace_ids};

/// Trace IDs of one day: UUIDs as 128-bit numbers (so the spellings of one UUID, in upper or
/// lower case, are one ID), anything else as its text. No hashing: two different IDs are never
/// taken for one.
#[derive(Debug, Default, Clone)]
pub struct IdSet {
    uuids: HashSet<u128>,
    others: HashSet<Box<str>>,
}

impl IdSet {
    /// Add an ID; `true` when it was not there yet.
    pub fn insert(&mut self, id: &str) -> bool {
        match uuid::Uuid::try_parse(id) {
            Ok(u) => self.uuids.insert(u.as_u128()),
            Err(_) => self.others.insert(id.into()),
        }
    }

    /// Add every ID of `other`.
    pub fn extend(&mut self, other: IdSet) {
        self.uuids.extend(other.uuids);
        self.others.extend(other.others);
    }

    /// How many IDs.
    pub fn len(&self) -> usize {
        self.uuids.len() + self.others.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The trace IDs a store holds, per day (number since the epoch), for the days read so far.
#[derive(Debug, Default, Clone)]
pub struct DayIds {
    days: HashMap<i64, IdSet>,
}

impl DayIds {
    /// Record the trace `id` at `time_ms`; `true` when its day did not have it yet.
    pub fn insert(&mut self, time_ms: i64, id: &str) -> bool {
        self.days.entry(day_of(time_ms)).or_default().insert(id)
    }

    /// Whether the IDs of `day` are here (read, or started by an insert).
    pub fn has_day(&self, day: i64) -> bool {
        self.days.contains_key(&day)
    }

    /// Set the IDs of `day`, replacing what was there.
    pub fn set_day(&mut self, day: i64, ids: IdSet) {
        self.days.insert(day, ids);
    }

    /// Add `ids` to those of `day`.
    pub fn add_to_day(&mut self, day: i64, ids: IdSet) {
        self.days.entry(day).or_default().extend(ids);
    }

    /// Keep only the days for which `keep` holds.
    pub fn retain_days(&mut self, mut keep: impl FnMut(i64) -> bool) {
        self.days.retain(|day, _| keep(*day));
    }

    /// Forget every day.
    pub fn clear(&mut self) {
        self.days.clear();
    }
}

/// Where a trace's ID is looked up and recorded: the IDs of the store that takes it.
pub trait Seen {
    /// Record the trace `id` at `time_ms`; `true` when it is new to the store that takes it.
    fn first_time(&mut self, time_ms: i64, id: &str) -> bool;
}

impl Seen for DayIds {
    fn first_time(&mut self, time_ms: i64, id: &str) -> bool {
        self.insert(time_ms, id)
    }
}

/// The hot store in front of the archive: traces at or after the watermark are the hot store's,
/// older ones the archive's, each deduplicated against its own IDs.
#[derive(Debug)]
pub struct Tiers<'a> {
    /// `H`, in ms: the hot store takes traces at or after it.
    pub watermark: i64,
    /// The hot store's IDs.
    pub hot: &'a mut DayIds,
    /// The archive's IDs (of the days below `H` that the traces touch, read beforehand).
    pub archive: &'a mut DayIds,
}

impl Seen for Tiers<'_> {
    fn first_time(&mut self, time_ms: i64, id: &str) -> bool {
        if time_ms >= self.watermark {
            self.hot.insert(time_ms, id)
        } else {
            self.archive.insert(time_ms, id)
        }
    }
}

/// Traces of one day, sorted by time.
#[derive(Debug, Clone)]
pub struct DayBatch {
    /// The day (number since the epoch).
    pub day: i64,
    /// Its traces, sorted by time (traces of equal time in input order).
    pub batch: RecordBatch,
}

impl DayBatch {
    /// The traces at or after `watermark`, and those before it.
    pub fn split_at(&self, watermark: i64) -> (RecordBatch, RecordBatch) {
        let at = times(&self.batch).partition_point(|t| *t < watermark);
        let rows = self.batch.num_rows();
        (self.batch.slice(at, rows - at), self.batch.slice(0, at))
    }
}

/// What [`new_traces_by_day`] found.
#[derive(Debug, Clone)]
pub struct NewTraces {
    /// For each input batch, for each of its rows in order: whether the trace is new (and so
    /// in [`days`](Self::days)).
    pub keep: Vec<Vec<bool>>,
    /// The new traces, sorted by time, one batch per day, in day order.
    pub days: Vec<DayBatch>,
}

impl NewTraces {
    /// How many traces are new.
    pub fn rows(&self) -> usize {
        self.days.iter().map(|d| d.batch.num_rows()).sum()
    }
}

/// The rule: of the traces in `batches` (in [`trace_schema`](crate::trace::trace_schema)), keep
/// those new to `seen` (each is recorded there as it is kept, so a trace twice in the input is
/// kept once), and return them sorted by time and split by day.
pub fn new_traces_by_day(batches: &[RecordBatch], seen: &mut impl Seen) -> Result<NewTraces> {
    let keep: Vec<Vec<bool>> = batches
        .iter()
        .map(|batch| {
            let ids = trace_ids(batch);
            times(batch)
                .iter()
                .enumerate()
                .map(|(row, time)| seen.first_time(*time, ids.value(row)))
                .collect()
        })
        .collect();
    let days = by_day(batches, &keep)?;
    Ok(NewTraces { keep, days })
}

/// The rows of `batches` for which `keep` holds (every row, where `keep` has no entry for its
/// batch), sorted by time and split by day: one batch per day, in day order.
pub fn by_day(batches: &[RecordBatch], keep: &[Vec<bool>]) -> Result<Vec<DayBatch>> {
    let mut rows: Vec<(i64, usize, usize)> = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        let mask = keep.get(b);
        rows.extend(
            times(batch)
                .iter()
                .enumerate()
                .filter(|(row, _)| mask.is_none_or(|m| m.get(*row).copied().unwrap_or(false)))
                .map(|(row, time)| (*time, b, row)),
        );
    }
    // Stable: traces of equal time keep their input order.
    rows.sort_by_key(|(time, _, _)| *time);
    let sources: Vec<&RecordBatch> = batches.iter().collect();
    let mut days = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let day = day_of(rows[start].0);
        let end = start + rows[start..].partition_point(|(time, _, _)| day_of(*time) == day);
        let indices: Vec<(usize, usize)> = rows[start..end]
            .iter()
            .map(|(_, b, row)| (*b, *row))
            .collect();
        let batch = arrow::compute::interleave_record_batch(&sources, &indices)
            .map_err(|e| Error::arrow("sorting traces by time", e))?;
        days.push(DayBatch { day, batch });
        start = end;
    }
    Ok(days)
}

/// The days of the traces of `batches` before `watermark`, in order.
pub fn days_before(batches: &[RecordBatch], watermark: i64) -> BTreeSet<i64> {
    batches
        .iter()
        .flat_map(|b| times(b).iter())
        .filter(|t| **t < watermark)
        .map(|t| day_of(*t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{DAY_MS, TraceBatchBuilder, TraceRecord};

    fn batch(traces: &[(&str, i64)]) -> RecordBatch {
        let mut builder = TraceBatchBuilder::new();
        for (id, time) in traces {
            let t = TraceRecord {
                trace_id: (*id).into(),
                time: *time,
                ..Default::default()
            };
            builder.append(&t, None, "f.json");
        }
        builder.finish().expect("batch")
    }

    fn ids_of(b: &RecordBatch) -> Vec<String> {
        trace_ids(b).iter().flatten().map(str::to_string).collect()
    }

    #[test]
    fn id_sets_are_exact_for_uuids_and_other_ids() {
        let mut ids = IdSet::default();
        assert!(ids.insert("cbdd4480-2e03-11ef-82de-cf140e2a70fb"));
        assert!(!ids.insert("cbdd4480-2e03-11ef-82de-cf140e2a70fb"));
        assert!(!ids.insert("CBDD4480-2E03-11EF-82DE-CF140E2A70FB"));
        assert!(ids.insert("not-a-uuid"));
        assert!(!ids.insert("not-a-uuid"));
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn stored_and_repeated_traces_are_dropped_and_the_rest_sorted_by_day() -> Result<()> {
        let day = 19_903 * DAY_MS;
        let first = batch(&[("c", day + 5), ("a", day + DAY_MS + 1), ("b", day + 1)]);
        let second = batch(&[("b", day + 1), ("d", day + 1), ("x", day + 9)]);
        let mut stored = DayIds::default();
        // "x" is stored on its day already; "b" on the next day is another trace.
        stored.insert(day + 3, "x");
        stored.insert(day + DAY_MS, "b");
        let new = new_traces_by_day(&[first, second], &mut stored)?;
        assert_eq!(new.keep, [vec![true, true, true], vec![false, true, false]]);
        assert_eq!(new.rows(), 4);
        assert_eq!(new.days.len(), 2);
        assert_eq!(new.days[0].day, 19_903);
        // Sorted by time; "b" and "d" share a time and keep their input order.
        assert_eq!(ids_of(&new.days[0].batch), ["b", "d", "c"]);
        assert_eq!(times(&new.days[0].batch), [day + 1, day + 1, day + 5]);
        assert_eq!(ids_of(&new.days[1].batch), ["a"]);
        // Everything kept is now stored: the same traces again are all dropped.
        let again = new_traces_by_day(&[batch(&[("a", day + DAY_MS + 1)])], &mut stored)?;
        assert_eq!((again.keep, again.days.len()), (vec![vec![false]], 0));
        Ok(())
    }

    #[test]
    fn tiers_route_by_the_watermark_and_a_day_splits_at_it() -> Result<()> {
        let day = 19_903 * DAY_MS;
        let watermark = day + 100;
        let (mut hot, mut archive) = (DayIds::default(), DayIds::default());
        archive.insert(day + 1, "old");
        hot.insert(day + 200, "new");
        let input = batch(&[
            ("old", day + 1),
            ("new", day + 200),
            ("older", day + 2),
            ("newer", day + 300),
        ]);
        let mut tiers = Tiers {
            watermark,
            hot: &mut hot,
            archive: &mut archive,
        };
        let new = new_traces_by_day(&[input], &mut tiers)?;
        assert_eq!(new.keep, [vec![false, false, true, true]]);
        let (recent, older) = new.days[0].split_at(watermark);
        assert_eq!(
            (ids_of(&recent), ids_of(&older)),
            (vec!["newer".to_string()], vec!["older".to_string()])
        );
        assert!(
            hot.insert(day + 1, "older"),
            "older went to the archive's IDs"
        );
        assert!(!archive.insert(day + 1, "older"));
        assert_eq!(
            days_before(&[batch(&[("a", day - 1), ("b", day + 1)])], day + 1),
            BTreeSet::from([19_902])
        );
        Ok(())
    }
}
