//! Maintenance under a writer's turn: flushing the log into segments, rolling traces older than
//! the retention over into the archive, merging a day's segments, removing unused files. Each
//! step writes new files first and then replaces the state.

use std::collections::{BTreeMap, HashSet};

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::storage::fs::{blocking, list_files, remove_file_if_exists};
use crate::store::archive::{Archive, ArchiveIds};
use crate::store::hot::segment::{read_segment, write_segments};
use crate::store::hot::state::{Obsolete, SEGMENTS_DIR, Segment, WAL_DIR, wal_path, write_state};
use crate::store::hot::writer::HotWriter;
use crate::store::once::{DayBatch, by_day, days_before, new_traces_by_day};
use crate::store::run::RunId;
use crate::store::wal::read_log;
use crate::trace::{day_of, times};

impl HotWriter<'_> {
    /// Flush the log when it has grown past the flush size.
    pub async fn flush_if_full(&mut self) -> Result<()> {
        let len = self.w.log.as_ref().map_or(0, |l| l.len());
        if len >= self.shared.options.flush_bytes {
            self.flush().await?;
            self.compact().await?;
        }
        Ok(())
    }

    /// Move the log's traces into one Parquet segment per day and start a new log. Returns
    /// the traces moved.
    pub async fn flush(&mut self) -> Result<u64> {
        let dir = self.shared.dir.clone();
        let mut state = self.state()?.clone();
        let log_path = wal_path(&dir, state.wal);
        let contents = blocking(|| read_log(&log_path))?;
        if contents.batches.is_empty() {
            return Ok(0);
        }
        let rows = contents.batches.iter().map(|b| b.num_rows() as u64).sum();
        let mut hot = Vec::new();
        let mut old = Vec::new();
        for day in by_day(&contents.batches, &[])? {
            let (recent, older) = day.split_at(state.watermark_ms);
            hot.push(DayBatch {
                day: day.day,
                batch: recent,
            });
            old.push(older);
        }
        // Only a roll-over between append and flush leaves older traces; the archive takes them.
        let name = format!("hot-{}-{}", state.generation + 1, state.wal);
        into_archive(&self.shared.archive, &old, &name).await?;
        state.generation += 1;
        let generation = state.generation;
        let new_segments = blocking(|| write_segments(&dir, &hot, generation))?;
        failpoint::hit(failpoint::HOT_FLUSH_WRITTEN)?;
        state.segments.extend(new_segments);
        state.wal += 1;
        write_state(&dir, &state)?;
        self.w.log = None;
        self.w.state = Some(state);
        self.w.seen = Some((generation, 0));
        blocking(|| remove_file_if_exists(&log_path))?;
        Ok(rows)
    }

    /// Raise the watermark to `cutoff`, first copying the traces below it into the archive.
    /// Returns the traces new to the archive and those it had already.
    pub async fn roll_over(&mut self, cutoff: i64) -> Result<(u64, u64)> {
        let watermark = self.watermark();
        if cutoff <= watermark {
            return Ok((0, 0));
        }
        let log_path = wal_path(&self.shared.dir, self.state()?.wal);
        let log = blocking(|| read_log(&log_path))?;
        if !days_before(&log.batches, cutoff).is_empty() {
            self.flush().await?;
        }
        let dir = self.shared.dir.clone();
        let mut state = self.state()?.clone();
        let mut leaving: BTreeMap<i64, Vec<&Segment>> = BTreeMap::new();
        for segment in &state.segments {
            if segment.min_time < cutoff && segment.max_time >= watermark {
                leaving.entry(segment.day).or_default().push(segment);
            }
        }
        // A day at a time: the archive's IDs of one day are in memory at once.
        let (mut new, mut found) = (0u64, 0u64);
        for (day, segments) in leaving {
            let mut batches = Vec::with_capacity(segments.len());
            for segment in segments {
                let batch = blocking(|| read_segment(&dir, segment))?;
                let keep: BooleanArray = times(&batch)
                    .iter()
                    .map(|t| Some(*t >= watermark && *t < cutoff))
                    .collect();
                batches.push(
                    filter_record_batch(&batch, &keep)
                        .map_err(|e| Error::arrow("selecting traces to roll over", e))?,
                );
            }
            let name = format!("hot-rollover-{cutoff}-{day}");
            let (added, there) = into_archive(&self.shared.archive, &batches, &name).await?;
            new += added;
            found += there;
        }
        failpoint::hit(failpoint::HOT_ROLL_OVER_ARCHIVED)?;
        // Everything below the cutoff is in the archive: hand it over.
        let now = chrono::Utc::now().timestamp_millis();
        state.generation += 1;
        state.watermark_ms = cutoff;
        let (gone, stay): (Vec<Segment>, Vec<Segment>) = state
            .segments
            .into_iter()
            .partition(|s| s.max_time < cutoff);
        state.segments = stay;
        state.obsolete.extend(gone.into_iter().map(|s| Obsolete {
            file: s.file,
            since_ms: now,
        }));
        write_state(&dir, &state)?;
        let first_day = day_of(cutoff);
        self.w.ids.retain_days(|day| day >= first_day);
        let log_len = self.w.log.as_ref().map_or(0, |l| l.len());
        self.w.seen = Some((state.generation, log_len));
        self.w.state = Some(state);
        Ok((new, found))
    }

    /// Merge the segments of each day that has more than the allowed number into one,
    /// dropping traces the watermark hides. Returns the segments merged.
    pub async fn compact(&mut self) -> Result<u64> {
        let dir = self.shared.dir.clone();
        let mut state = self.state()?.clone();
        let max = self.shared.options.max_segments_per_day.max(1);
        let mut per_day: BTreeMap<i64, usize> = BTreeMap::new();
        for s in &state.segments {
            *per_day.entry(s.day).or_default() += 1;
        }
        let days: Vec<i64> = per_day
            .into_iter()
            .filter(|(_, n)| *n > max)
            .map(|(d, _)| d)
            .collect();
        if days.is_empty() {
            return Ok(0);
        }
        state.generation += 1;
        let generation = state.generation;
        let now = chrono::Utc::now().timestamp_millis();
        let mut merged = 0u64;
        for day in days {
            let (old, rest): (Vec<Segment>, Vec<Segment>) =
                state.segments.into_iter().partition(|s| s.day == day);
            let mut batches = Vec::with_capacity(old.len());
            for segment in &old {
                batches.push(blocking(|| read_segment(&dir, segment))?);
            }
            let visible: Vec<Vec<bool>> = batches
                .iter()
                .map(|b| times(b).iter().map(|t| *t >= state.watermark_ms).collect())
                .collect();
            let days = by_day(&batches, &visible)?;
            let new_segments = blocking(|| write_segments(&dir, &days, generation))?;
            merged += old.len() as u64;
            state.segments = rest;
            state.segments.extend(new_segments);
            state.obsolete.extend(old.into_iter().map(|s| Obsolete {
                file: s.file,
                since_ms: now,
            }));
        }
        failpoint::hit(failpoint::HOT_COMPACT_WRITTEN)?;
        write_state(&dir, &state)?;
        let log_len = self.w.log.as_ref().map_or(0, |l| l.len());
        self.w.seen = Some((generation, log_len));
        self.w.state = Some(state);
        Ok(merged)
    }

    /// Remove files past their grace period, files no state names (left by a crash) and old
    /// logs. Returns the files removed.
    pub fn remove_unused(&mut self, now_ms: i64) -> Result<u64> {
        let dir = self.shared.dir.clone();
        let mut state = self.state()?.clone();
        let grace = self.shared.options.grace.as_millis() as i64;
        let mut removed = 0u64;
        let (expired, kept): (Vec<Obsolete>, Vec<Obsolete>) = state
            .obsolete
            .into_iter()
            .partition(|o| now_ms - o.since_ms >= grace);
        for o in &expired {
            if blocking(|| remove_file_if_exists(&dir.join(&o.file)))? {
                removed += 1;
            }
        }
        state.obsolete = kept;
        if !expired.is_empty() {
            state.generation += 1;
            write_state(&dir, &state)?;
        }
        // Files no state names: written by a step that crashed before its state was written.
        let named: HashSet<&str> = state
            .segments
            .iter()
            .map(|s| s.file.as_str())
            .chain(state.obsolete.iter().map(|o| o.file.as_str()))
            .collect();
        for file in list_files(&dir.join(SEGMENTS_DIR))? {
            let relative = file
                .strip_prefix(&dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !named.contains(relative.as_str()) {
                blocking(|| remove_file_if_exists(&file))?;
                removed += 1;
            }
        }
        for file in list_files(&dir.join(WAL_DIR))? {
            let seq = file
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok());
            if seq.is_some_and(|n| n < state.wal) {
                blocking(|| remove_file_if_exists(&file))?;
                removed += 1;
            }
        }
        let log_len = self.w.log.as_ref().map_or(0, |l| l.len());
        self.w.seen = Some((state.generation, log_len));
        self.w.state = Some(state);
        Ok(removed)
    }
}

/// Copy traces into the archive under its write lease, each once (those whose ID their day has
/// there already are dropped), one file per day named `part-<name>-<day>.parquet`. Returns the traces new to the
/// archive and those it had already.
async fn into_archive(
    archive: &Archive,
    batches: &[RecordBatch],
    name: &str,
) -> Result<(u64, u64)> {
    let total: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    if total == 0 {
        return Ok((0, 0));
    }
    let lease = archive
        .lease(&RunId::new(), "hot store (roll-over)")
        .await?;
    let mut ids = ArchiveIds::default();
    archive
        .refresh_ids(&mut ids, days_before(batches, i64::MAX))
        .await?;
    let new = new_traces_by_day(batches, ids.ids_mut())?;
    let added = new.rows() as u64;
    if added > 0 {
        archive.init().await?;
        archive
            .write_days(new.days, |_, day| format!("part-{name}-{day}.parquet"), 1)
            .await?;
    }
    lease.release().await?;
    Ok((added, total - added))
}
