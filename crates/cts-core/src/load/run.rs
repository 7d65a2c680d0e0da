//! The load: list, skip what the manifest has, decode the rest in parallel, commit in chunks.

use std::time::Instant;

use futures::StreamExt;

use crate::error::{Error, Result};
use crate::load::commit::Committer;
use crate::load::read::{DecodedGroup, decode_group, groups};
use crate::load::summary::{LoadSummary, progress_bar};
use crate::source::{Listing, Source};
use crate::store::archive::{Archive, Outcome};
use crate::store::hot::HotStore;
use crate::store::run::RunId;

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Files read and decoded at once (default: the number of cores).
    pub threads: usize,
    /// JSON bytes gathered before a chunk is written (default 64 MiB).
    pub chunk_json_bytes: u64,
    /// Read again files that failed before, though unchanged.
    pub retry_failed: bool,
    /// Load JSON files that are not named like CTS trace files too.
    pub any_json: bool,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// The hot store in front of the archive: traces at or after its watermark go there
    /// (deduplicated against it), older ones to the archive. Without one, all go to the archive.
    pub hot: Option<HotStore>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            chunk_json_bytes: 64 << 20,
            retry_failed: false,
            any_json: false,
            progress: false,
            hot: None,
        }
    }
}

/// Load every new or changed trace file of `source` into `archive`.
pub async fn load(
    source: &Source,
    archive: &Archive,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let listing = source.list(options.any_json).await?;
    load_listing(source, listing, archive, options).await
}

/// Load the trace files of a listing made earlier (by [`Source::list`], or from a notification
/// naming new files). A file listed but gone by the time it is read is reported as failed and
/// not recorded, like any file that cannot be read.
pub async fn load_listing(
    source: &Source,
    listing: Listing,
    archive: &Archive,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let started = Instant::now();
    let run = RunId::new();
    archive.init().await?;
    let manifest = archive.read_manifest().await?;
    let mut summary = LoadSummary {
        run: run.to_string(),
        trace_files: listing.trace_files.len() as u64,
        digests_skipped: listing.digests,
        other_skipped: listing.other,
        ..Default::default()
    };

    let mut pending = Vec::new();
    for file in listing.trace_files {
        let url = source.url_of(&file);
        match manifest.unchanged(&url, file.size, file.etag.as_deref()) {
            Some(e) if e.outcome == Outcome::Loaded => summary.unchanged_files += 1,
            Some(_) if !options.retry_failed => summary.previously_failed += 1,
            _ => pending.push((file, url)),
        }
    }
    let manifest_segments = manifest.segments.len();
    drop(manifest);

    let progress = progress_bar(options.progress, pending.iter().map(|(f, _)| f.size).sum());
    let threads = options.threads.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<DecodedGroup>>(threads);
    let location = source.location().clone();
    let producer = tokio::spawn(async move {
        let mut decoded = futures::stream::iter(groups(pending))
            .map(|group| decode_group(location.clone(), group))
            .buffered(threads);
        while let Some(group) = decoded.next().await {
            if tx.send(group).await.is_err() {
                break;
            }
        }
    });

    let mut chunk: Vec<DecodedGroup> = Vec::new();
    let mut chunk_bytes = 0u64;
    let mut committer = Committer::new(archive, options.hot.as_ref(), run, threads);
    loop {
        let next = rx.recv().await;
        let done = next.is_none();
        if let Some(group) = next {
            let group = group?;
            chunk_bytes += group
                .files
                .iter()
                .filter_map(|f| f.outcome.as_ref().ok())
                .map(|rows| rows.json_bytes)
                .sum::<u64>();
            chunk.push(group);
        }
        if !chunk.is_empty() && (done || chunk_bytes >= options.chunk_json_bytes) {
            let files = std::mem::take(&mut chunk);
            chunk_bytes = 0;
            committer.commit(files, &mut summary, &progress).await?;
        }
        if done {
            break;
        }
    }
    producer
        .await
        .map_err(|e| Error::Internal(format!("reading task failed: {e}")))?;
    // Each committed chunk added one segment: read the manifest again only to merge it.
    if Archive::manifest_needs_compaction(manifest_segments + committer.chunks()) {
        let lease = archive.lease(&run, "load (merging the manifest)").await?;
        archive.compact_manifest(&run.to_string()).await?;
        lease.release().await?;
    }
    progress.finish_and_clear();
    summary.elapsed = started.elapsed();
    Ok(summary)
}
