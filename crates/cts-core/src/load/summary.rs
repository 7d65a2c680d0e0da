//! What a load did, for people: the summary the command line prints, and the progress bar.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::decode::RejectedRecord;
use crate::integrity::Finding;

/// How many rejected records a summary keeps for display.
pub(crate) const REJECT_SAMPLES: usize = 20;

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFailure {
    /// The file's URL.
    pub file: String,
    /// What went wrong.
    pub reason: String,
}

/// What a load did.
#[derive(Debug, Default, Clone)]
pub struct LoadSummary {
    /// The run's ID (names its Parquet files and manifest segments).
    pub run: String,
    /// Trace files found in the source.
    pub trace_files: u64,
    /// Trace files skipped because the manifest has them, unchanged, as loaded.
    pub unchanged_files: u64,
    /// Trace files skipped because they failed before and are unchanged.
    pub previously_failed: u64,
    /// Trace files read and loaded in this run.
    pub files_loaded: u64,
    /// Files that failed in this run.
    pub failures: Vec<FileFailure>,
    /// Digest files skipped.
    pub digests_skipped: u64,
    /// Other objects skipped.
    pub other_skipped: u64,
    /// Traces added (to the archive, or to the hot store for those at or after its watermark).
    pub traces_loaded: u64,
    /// Of those, the traces added to the hot store.
    pub traces_to_hot: u64,
    /// Traces dropped because their `trace_id` was already loaded.
    pub duplicates_dropped: u64,
    /// Records set aside (not traces).
    pub records_rejected: u64,
    /// The first rejected records, for display (all are in the archive's rejects folder).
    pub reject_samples: Vec<(String, RejectedRecord)>,
    /// Bytes read from the source.
    pub bytes_read: u64,
    /// Bytes of JSON after decompression.
    pub json_bytes: u64,
    /// Parquet files written.
    pub parquet_files: u64,
    /// Bytes of Parquet written.
    pub parquet_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// With `--verify`: files read, by what their digests say of them (`verified`, ...).
    pub integrity: BTreeMap<Finding, u64>,
    /// With `--verify=strict`: files not read because their hour's digest is still to come
    /// (not recorded: the next load looks at them again).
    pub pending_files: u64,
    /// With `--verify`: digests that failed their checks (signature, chain, missing), and
    /// trace files a digest lists that are not in the source.
    pub integrity_problems: Vec<FileFailure>,
    /// With `--verify`: unchanged files loaded before without a final finding, checked again.
    pub rechecked_files: u64,
}

impl LoadSummary {
    /// `true` when every file loaded and no record was set aside.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.records_rejected == 0
    }

    /// With `--verify`: `true` when every file read is verified (or waits for its hour's
    /// digest) and every digest checked out.
    pub fn is_verified(&self) -> bool {
        self.integrity_problems.is_empty() && !self.integrity.keys().any(|f| f.is_problem())
    }
}

/// A progress bar of `total` bytes, drawn on standard error when `enabled` (and a terminal).
pub(crate) fn progress_bar(enabled: bool, total: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "loaded {} traces from {} files in {:.2} s ({:.1} MB/s of JSON, {:.0} traces/s)",
            self.traces_loaded,
            self.files_loaded,
            secs,
            self.json_bytes as f64 / 1e6 / secs,
            (self.traces_loaded + self.duplicates_dropped) as f64 / secs,
        )?;
        if self.traces_to_hot > 0 {
            writeln!(
                f,
                "  {} of them recent: into the hot store, the rest into the archive",
                self.traces_to_hot
            )?;
        }
        writeln!(
            f,
            "  duplicates dropped: {}, records set aside: {}",
            self.duplicates_dropped, self.records_rejected
        )?;
        writeln!(
            f,
            "  skipped: {} unchanged files, {} digest files, {} other objects",
            self.unchanged_files, self.digests_skipped, self.other_skipped
        )?;
        if self.rechecked_files > 0 {
            writeln!(
                f,
                "  checked again: {} unchanged files loaded before without a final finding",
                self.rechecked_files
            )?;
        }
        if !self.integrity.is_empty() {
            let counts: Vec<String> = self
                .integrity
                .iter()
                .map(|(finding, n)| format!("{n} {}", finding.name()))
                .collect();
            writeln!(f, "  integrity: {}", counts.join(", "))?;
        }
        if !self.integrity_problems.is_empty() {
            writeln!(
                f,
                "  integrity problems besides the files read: {}",
                self.integrity_problems.len()
            )?;
            for problem in &self.integrity_problems {
                writeln!(f, "    {}: {}", problem.file, problem.reason)?;
            }
        }
        if self.pending_files > 0 {
            writeln!(
                f,
                "  {} files wait for their hour's digest (not loaded; a later load reads them)",
                self.pending_files
            )?;
        }
        if self.previously_failed > 0 {
            writeln!(
                f,
                "  {} files failed in earlier runs and are unchanged (not read again)",
                self.previously_failed
            )?;
        }
        writeln!(
            f,
            "  read {:.1} MB ({:.1} MB of JSON); wrote {} Parquet files, {:.1} MB",
            self.bytes_read as f64 / 1e6,
            self.json_bytes as f64 / 1e6,
            self.parquet_files,
            self.parquet_bytes as f64 / 1e6,
        )?;
        if !self.failures.is_empty() {
            writeln!(f, "  failed: {} files", self.failures.len())?;
            for failure in &self.failures {
                writeln!(f, "    {}: {}", failure.file, failure.reason)?;
            }
        }
        if self.records_rejected > 0 {
            writeln!(
                f,
                "  set aside {} records (under _cts/rejects/ in the archive):",
                self.records_rejected
            )?;
            for (file, r) in &self.reject_samples {
                writeln!(f, "    {file}: {r}")?;
            }
        }
        Ok(())
    }
}
