//! Committing one chunk of decoded files: under the archive's write lease
//! ([`crate::store::archive::Lease`]), keep each trace once ([`crate::store::once`]), write the
//! recent ones to the hot store's log and the rest to the archive, one Parquet file per day, set
//! rejected records aside, and only then record every file of the chunk in the manifest.

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use indicatif::ProgressBar;

use crate::decode::RejectedRecord;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::integrity::Finding;
use crate::load::read::{DecodedGroup, FileError, GroupFile};
use crate::load::summary::{FileFailure, LoadSummary, REJECT_SAMPLES};
use crate::store::archive::{Archive, ArchiveIds, ManifestEntry, Outcome, rejects_name};
use crate::store::hot::HotStore;
use crate::store::once::{DayBatch, NewTraces, Tiers, days_before, new_traces_by_day};
use crate::store::run::RunId;
use crate::trace::trace_schema;

/// Commits the chunks of one load, keeping between chunks the archive's trace IDs of the days
/// they touch.
#[derive(Debug)]
pub(crate) struct Committer<'a> {
    archive: &'a Archive,
    hot: Option<&'a HotStore>,
    run: RunId,
    threads: usize,
    /// The archive's IDs of the days read so far.
    ids: ArchiveIds,
    /// Chunks committed.
    chunks: usize,
}

impl<'a> Committer<'a> {
    /// Commits for run `run` into `archive`, with `hot` in front of it.
    pub(crate) fn new(
        archive: &'a Archive,
        hot: Option<&'a HotStore>,
        run: RunId,
        threads: usize,
    ) -> Self {
        Committer {
            archive,
            hot,
            run,
            threads,
            ids: ArchiveIds::default(),
            chunks: 0,
        }
    }

    /// Chunks committed so far (each added one manifest segment).
    pub(crate) fn chunks(&self) -> usize {
        self.chunks
    }

    /// Deduplicate, write and record one chunk of decoded files.
    pub(crate) async fn commit(
        &mut self,
        groups: Vec<DecodedGroup>,
        summary: &mut LoadSummary,
        progress: &ProgressBar,
    ) -> Result<()> {
        // Storage failing: stop before anything of this chunk is read back, written or
        // recorded; the next run reads its files again.
        let unavailable = |f: &GroupFile| matches!(f.outcome, Err(FileError::Unavailable(_)));
        if groups.iter().flat_map(|g| &g.files).any(unavailable) {
            let first = groups
                .into_iter()
                .flat_map(|g| g.files)
                .find_map(|f| match f.outcome {
                    Err(FileError::Unavailable(e)) => Some(e),
                    _ => None,
                });
            return Err(
                first.unwrap_or_else(|| Error::Internal("a storage failure went missing".into()))
            );
        }
        let seq = self.chunks;

        // The hot store's turn, held until the chunk is recorded: its watermark splits the
        // traces, and no roll-over moves it meanwhile.
        let mut writer = match self.hot {
            Some(hot) => Some(hot.writer().await?),
            None => None,
        };
        let watermark = writer.as_ref().map_or(i64::MAX, |w| w.watermark());

        // Every batch of the chunk, and where each group's batches start among them.
        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut group_files = Vec::with_capacity(groups.len());
        for group in groups {
            group_files.push((batches.len(), group.files));
            batches.extend(group.batches);
        }

        // Under the archive's write lease, until the chunk is recorded: the IDs of the days
        // this chunk touches, as they are now (other writers may have added to them since the
        // last chunk).
        let lease = self.archive.lease(&self.run, "load").await?;
        if seq == 0 {
            self.archive.remove_staged(&lease)?;
        }
        let days = days_before(&batches, watermark);
        self.ids.retain_days(|day| days.contains(&day));
        self.archive
            .refresh_ids(&mut self.ids, days.iter().copied())
            .await?;
        failpoint::hit(failpoint::LOAD_IDS_READ)?;
        let new = match writer.as_mut() {
            Some(w) => new_traces_by_day(
                &batches,
                &mut Tiers {
                    watermark,
                    hot: w.ids_mut(),
                    archive: self.ids.ids_mut(),
                },
            )?,
            None => new_traces_by_day(&batches, self.ids.ids_mut())?,
        };
        drop(batches);

        let (entries, rejects) = self.account(&group_files, &new, summary, progress)?;
        progress.set_message(format!("{} traces", summary.traces_loaded));

        // Traces at or after the watermark: into the hot store's log, synced. The rest: one
        // Parquet file per day, sorted by time.
        let mut recent = Vec::new();
        let mut older = Vec::new();
        for day in new.days {
            let (hot, old) = day.split_at(watermark);
            if hot.num_rows() > 0 {
                recent.push(hot);
            }
            if old.num_rows() > 0 {
                older.push(DayBatch {
                    day: day.day,
                    batch: old,
                });
            }
        }
        if let Some(w) = writer.as_mut() {
            let recent = concat_batches(&trace_schema(), &recent)
                .map_err(|e| Error::arrow("gathering recent traces", e))?;
            w.append_durable(&recent)?;
            summary.traces_to_hot += recent.num_rows() as u64;
        }
        let run = &self.run;
        let written = self
            .archive
            .write_days(
                older,
                |i, _| format!("part-{run}-{seq:05}-{i:03}.parquet"),
                self.threads,
            )
            .await?;
        summary.parquet_files += written.len() as u64;
        summary.parquet_bytes += written.iter().map(|f| f.bytes).sum::<u64>();
        self.ids.note_written(&written);
        failpoint::hit(failpoint::LOAD_DATA_WRITTEN)?;

        for (file_name, records) in &rejects {
            self.archive.write_rejects(records, file_name).await?;
        }
        if !entries.is_empty() {
            lease.check()?;
            self.archive
                .append_manifest(&entries, &format!("{run}-{seq:05}"))
                .await?;
            failpoint::hit(failpoint::LOAD_MANIFEST_WRITTEN)?;
        }
        lease.release().await?;
        if let Some(w) = writer.as_mut() {
            w.flush_if_full().await?;
        }
        self.chunks += 1;
        Ok(())
    }

    /// Record `entries` (files not read: listed in a digest, missing from the source) in a
    /// manifest segment of their own.
    pub(crate) async fn record(&mut self, entries: &[ManifestEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let lease = self.archive.lease(&self.run, "load").await?;
        let (run, seq) = (&self.run, self.chunks);
        self.archive
            .append_manifest(entries, &format!("{run}-{seq:05}"))
            .await?;
        lease.release().await?;
        self.chunks += 1;
        Ok(())
    }

    /// The manifest entries and rejected records of the chunk's files, and their counts in
    /// `summary`: how many of each file's traces were new, how many duplicates.
    #[allow(clippy::type_complexity)]
    fn account(
        &self,
        group_files: &[(usize, Vec<GroupFile>)],
        new: &NewTraces,
        summary: &mut LoadSummary,
        progress: &ProgressBar,
    ) -> Result<(
        Vec<ManifestEntry>,
        Vec<(String, Vec<(String, RejectedRecord)>)>,
    )> {
        let mut entries = Vec::new();
        let mut rejects = Vec::new();
        for (first_batch, files) in group_files {
            for f in files {
                progress.inc(f.file.size);
                let mut entry = ManifestEntry {
                    source: f.url.clone(),
                    size: f.file.size,
                    etag: f.file.etag.clone(),
                    outcome: Outcome::Loaded,
                    traces: 0,
                    duplicates: 0,
                    rejected: 0,
                    error: None,
                    run: self.run.to_string(),
                    integrity: None,
                    integrity_detail: None,
                };
                if let Some((finding, detail)) = &f.integrity {
                    *summary.integrity.entry(*finding).or_default() += 1;
                    entry.integrity = Some(finding.name().to_string());
                    entry.integrity_detail = (!detail.is_empty()).then(|| detail.clone());
                }
                let rows = match &f.outcome {
                    Ok(rows) => rows,
                    Err(FileError::Unavailable(e)) => {
                        return Err(Error::Internal(format!(
                            "a storage failure went unnoticed: {e}"
                        )));
                    }
                    Err(FileError::Vanished(reason)) => {
                        summary.failures.push(FileFailure {
                            file: f.url.clone(),
                            reason: reason.clone(),
                        });
                        continue;
                    }
                    Err(FileError::Refused(Finding::Pending)) => {
                        summary.pending_files += 1;
                        continue;
                    }
                    // Read, and recorded as failed: refused as unverified, or not decodable.
                    Err(FileError::Refused(finding)) => {
                        let detail = entry.integrity_detail.clone();
                        let reason = format!(
                            "refused (--verify=strict): {}{}",
                            finding.name(),
                            detail.map(|d| format!(": {d}")).unwrap_or_default()
                        );
                        record_failed(&mut entries, summary, f, entry, reason);
                        continue;
                    }
                    Err(FileError::Decode(reason)) => {
                        record_failed(&mut entries, summary, f, entry, reason.clone());
                        continue;
                    }
                };
                let keep = new
                    .keep
                    .get(first_batch + rows.batch)
                    .and_then(|k| k.get(rows.start..rows.start + rows.rows))
                    .ok_or_else(|| Error::Internal(format!("{}: rows out of range", f.url)))?;
                let new_rows = keep.iter().filter(|k| **k).count() as u64;
                entry.traces = new_rows;
                entry.duplicates = rows.rows as u64 - new_rows;
                entry.rejected = rows.rejects.len() as u64;
                entries.push(entry);
                summary.files_loaded += 1;
                summary.traces_loaded += new_rows;
                summary.duplicates_dropped += rows.rows as u64 - new_rows;
                summary.records_rejected += rows.rejects.len() as u64;
                summary.bytes_read += rows.size;
                summary.json_bytes += rows.json_bytes;
                if !rows.rejects.is_empty() {
                    for r in &rows.rejects {
                        if summary.reject_samples.len() < REJECT_SAMPLES {
                            summary.reject_samples.push((f.url.clone(), r.clone()));
                        }
                    }
                    let name = rejects_name(&f.url, f.file.etag.as_deref());
                    let records: Vec<(String, RejectedRecord)> = rows
                        .rejects
                        .iter()
                        .map(|r| (f.file.key.clone(), r.clone()))
                        .collect();
                    rejects.push((name, records));
                }
            }
        }
        Ok((entries, rejects))
    }
}

/// Record a file that was read but not loaded: failed, and why.
fn record_failed(
    entries: &mut Vec<ManifestEntry>,
    summary: &mut LoadSummary,
    f: &GroupFile,
    mut entry: ManifestEntry,
    reason: String,
) {
    entry.outcome = Outcome::Failed;
    entry.error = Some(reason.clone());
    entries.push(entry);
    summary.bytes_read += f.file.size;
    summary.failures.push(FileFailure {
        file: f.url.clone(),
        reason,
    });
}
