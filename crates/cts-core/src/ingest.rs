//! Ingesting traces as they happen: JSON (an array, NDJSON or a trace file, gzip or not)
//! decoded by the same decoder as the loader and appended to the hot store, durably.

use arrow::array::RecordBatch;
use std::fmt;
use std::time::{Duration, Instant};

use crate::decode::{RejectedRecord, decode_file};
use crate::error::Result;
use crate::store::archive::rejects_name;
use crate::store::hot::{AppendSummary, HotStore};
use crate::store::run::RunId;

/// What an ingest did.
#[derive(Debug, Default, Clone)]
pub struct IngestSummary {
    /// Inputs read.
    pub inputs: u64,
    /// Inputs that could not be decoded (nothing of them was stored), with the reason.
    pub failures: Vec<(String, String)>,
    /// Traces decoded.
    pub traces: u64,
    /// Where they went.
    pub stored: AppendSummary,
    /// Records set aside (not traces), with the input they came from.
    pub rejects: Vec<(String, RejectedRecord)>,
    /// Appends made (each acknowledged when durable).
    pub appends: u64,
    /// Time spent appending (decoding excluded).
    pub append_time: Duration,
}

impl IngestSummary {
    /// `true` when every input was decoded and no record was set aside.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty() && self.rejects.is_empty()
    }
}

/// Decode one input named `label` and append its traces to `hot`, `batch` traces per append
/// (0: all in one), in the order of the input. Records that are not traces are set aside in
/// the archive's rejects. `before_append` is called with each batch before it is appended (what
/// must be durable before the traces are: the messages they fire); `on_ack` after each append
/// with the traces of the input acknowledged so far: the first that many traces of it are
/// durable.
pub async fn ingest(
    hot: &HotStore,
    bytes: &[u8],
    label: &str,
    batch: usize,
    summary: &mut IngestSummary,
    before_append: &mut dyn FnMut(&RecordBatch) -> Result<()>,
    on_ack: &mut dyn FnMut(usize),
) -> Result<()> {
    summary.inputs += 1;
    let decoded = match decode_file(bytes, label, None) {
        Ok(decoded) => decoded,
        Err(e) => {
            summary.failures.push((label.to_string(), e.to_string()));
            return Ok(());
        }
    };
    if !decoded.rejects.is_empty() {
        let run = RunId::new().to_string();
        let records: Vec<(String, RejectedRecord)> = decoded
            .rejects
            .iter()
            .map(|r| (label.to_string(), r.clone()))
            .collect();
        hot.archive().init().await?;
        hot.archive()
            .write_rejects(&records, &rejects_name(label, Some(&run)))
            .await?;
        summary.rejects.extend(records);
    }
    let rows = decoded.batch.num_rows();
    summary.traces += rows as u64;
    let step = if batch == 0 { rows.max(1) } else { batch };
    let started = Instant::now();
    let mut offset = 0;
    while offset < rows {
        let len = step.min(rows - offset);
        let part = decoded.batch.slice(offset, len);
        before_append(&part)?;
        summary.stored += hot.append(part).await?;
        summary.appends += 1;
        offset += len;
        on_ack(offset);
    }
    summary.append_time += started.elapsed();
    Ok(())
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.append_time.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "ingested {} traces from {} inputs in {} durable appends, {:.3} s ({:.0} traces/s, \
             {:.0} appends/s)",
            self.traces,
            self.inputs,
            self.appends,
            secs,
            self.traces as f64 / secs,
            self.appends as f64 / secs,
        )?;
        writeln!(
            f,
            "  {} into the hot store, {} older than its watermark into the archive, {} duplicates dropped",
            self.stored.hot, self.stored.archived, self.stored.duplicates
        )?;
        for (input, reason) in &self.failures {
            writeln!(f, "  failed: {input}: {reason}")?;
        }
        if !self.rejects.is_empty() {
            writeln!(f, "  records set aside: {}", self.rejects.len())?;
            for (input, r) in self.rejects.iter().take(10) {
                writeln!(
                    f,
                    "    {input}: record {}{}: {}",
                    r.record,
                    r.trace_id
                        .as_deref()
                        .map(|id| format!(" (trace_id {id})"))
                        .unwrap_or_default(),
                    r.reason
                )?;
            }
        }
        Ok(())
    }
}
