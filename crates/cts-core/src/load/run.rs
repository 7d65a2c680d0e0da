//! The load: list, skip what the manifest has, decode the rest in parallel, commit in chunks.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::integrity::{Chains, Finding, PublicKey, VerifyOptions};
use crate::load::commit::Committer;
use crate::load::read::{DecodedGroup, FileCheck, decode_group, groups};
use crate::load::summary::{FileFailure, LoadSummary, progress_bar};
use crate::source::{Listing, Source, TraceFile};
use crate::store::archive::{Archive, Manifest, ManifestEntry, Outcome};
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
    /// Check each file against the source's digest chains (`cts load --verify`).
    pub verify: Option<LoadVerify>,
}

/// How `cts load --verify` checks the files it reads.
#[derive(Debug, Clone)]
pub struct LoadVerify {
    /// The key the source's digests are signed with.
    pub public_key: PublicKey,
    /// Refuse the traces of every file that is not verified (`--verify=strict`).
    pub strict: bool,
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
            verify: None,
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
    mut listing: Listing,
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
        digests_skipped: listing.digests.len() as u64,
        other_skipped: listing.other,
        ..Default::default()
    };

    let threads = options.threads.max(1);
    // The digest chains, walked before any file is read (digests are small: one per folder
    // and hour).
    let (check, mut missing) = match &options.verify {
        Some(verify) => {
            let digests = std::mem::take(&mut listing.digests);
            let (check, missing) = walk_digests(
                source,
                &listing,
                digests,
                verify,
                threads,
                &manifest,
                &run,
                &mut summary,
            )
            .await?;
            (Some(Arc::new(check)), missing)
        }
        None => (None, Vec::new()),
    };

    let mut pending = Vec::new();
    // With --verify: files loaded before without a final finding (without --verify, or while
    // their hour's digest was still to come) are checked again, not loaded again.
    let mut recheck = Vec::new();
    for file in listing.trace_files {
        let url = source.url_of(&file);
        match manifest.unchanged(&url, file.size, file.etag.as_deref()) {
            Some(e) if e.outcome == Outcome::Loaded => {
                summary.unchanged_files += 1;
                if check.is_some() && !has_final_finding(e) {
                    recheck.push((file, e.clone()));
                }
            }
            Some(_) if !options.retry_failed => summary.previously_failed += 1,
            _ => pending.push((file, url)),
        }
    }
    let manifest_segments = manifest.segments.len();
    drop(manifest);
    if let Some(check) = &check {
        missing.extend(recheck_files(source, recheck, check, threads, &run, &mut summary).await?);
    }

    let progress = progress_bar(options.progress, pending.iter().map(|(f, _)| f.size).sum());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<DecodedGroup>>(threads);
    let location = source.location().clone();
    let producer = tokio::spawn(async move {
        let mut decoded = futures::stream::iter(groups(pending))
            .map(|group| decode_group(location.clone(), group, check.clone()))
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
    committer.record(&missing).await?;
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

/// Whether a manifest entry's integrity finding is one a later look would not change.
fn has_final_finding(entry: &ManifestEntry) -> bool {
    let not_final = [Finding::Pending.name(), Finding::Deleted.name()];
    entry
        .integrity
        .as_deref()
        .is_some_and(|i| !not_final.contains(&i))
}

/// Check `files` (unchanged, loaded before) against the digest chains: their new manifest
/// entries, the same but for what their digests say now.
async fn recheck_files(
    source: &Source,
    files: Vec<(TraceFile, ManifestEntry)>,
    check: &FileCheck,
    threads: usize,
    run: &RunId,
    summary: &mut LoadSummary,
) -> Result<Vec<ManifestEntry>> {
    let location = source.location();
    let entries: Vec<ManifestEntry> = futures::stream::iter(files)
        .map(|(file, mut entry)| async move {
            let bytes = location.read_if_exists(&file.path).await?;
            let (finding, _, detail) =
                check
                    .chains
                    .check_file(&file.key, bytes.as_deref(), file.etag.as_deref());
            entry.run = run.to_string();
            entry.integrity = Some(finding.name().to_string());
            entry.integrity_detail = (!detail.is_empty()).then_some(detail);
            Ok::<_, Error>((finding, entry))
        })
        .buffer_unordered(threads * 4)
        .map_ok(|(finding, entry)| {
            *summary.integrity.entry(finding).or_default() += 1;
            summary.rechecked_files += 1;
            entry
        })
        .try_collect()
        .await?;
    Ok(entries)
}

/// `cts load --verify`, before any file is read: walk the source's digest chains, note the
/// digests that fail, and the files a digest lists that are not in the source (their manifest
/// entries, returned, say so; a file loaded before keeps its outcome and counts).
#[allow(clippy::too_many_arguments)]
async fn walk_digests(
    source: &Source,
    listing: &Listing,
    digests: Vec<String>,
    verify: &LoadVerify,
    threads: usize,
    manifest: &Manifest,
    run: &RunId,
    summary: &mut LoadSummary,
) -> Result<(FileCheck, Vec<ManifestEntry>)> {
    let walk = VerifyOptions {
        public_key: verify.public_key.clone(),
        from: None,
        to: None,
        tracker: None,
        service: None,
        parallelism: threads * 4,
        export_key: None,
    };
    let chains = Chains::walk(source.location(), &walk, digests).await?;
    for o in chains.outcomes.iter().filter(|o| o.finding.is_problem()) {
        summary.integrity_problems.push(FileFailure {
            file: source.location().display(&o.object.as_str().into()),
            reason: format!("{}: {}", o.finding.name(), o.detail),
        });
    }
    let present: HashSet<&str> = listing.trace_files.iter().map(|f| f.key.as_str()).collect();
    // Only under the source: a day's first digest lists files of the day before.
    let mut deleted: Vec<&str> = chains
        .listed_files()
        .filter(|k| source.location().holds(k) && !present.contains(k))
        .collect();
    deleted.sort_unstable();
    let mut missing = Vec::with_capacity(deleted.len());
    for key in deleted {
        let url = source.location().display(&key.into());
        let reason = "listed in its hour's digest, not in the source".to_string();
        let finding = Finding::Deleted.name();
        *summary.integrity.entry(Finding::Deleted).or_default() += 1;
        summary.integrity_problems.push(FileFailure {
            file: url.clone(),
            reason: format!("{finding}: {reason}"),
        });
        let mut entry = match manifest.entries.get(&url) {
            Some(earlier) => earlier.clone(),
            None => ManifestEntry {
                source: url,
                size: 0,
                etag: None,
                outcome: Outcome::Failed,
                traces: 0,
                duplicates: 0,
                rejected: 0,
                error: Some(format!("{finding}: {reason}")),
                run: String::new(),
                integrity: None,
                integrity_detail: None,
            },
        };
        entry.run = run.to_string();
        entry.integrity = Some(finding.to_string());
        entry.integrity_detail = Some(reason);
        missing.push(entry);
    }
    Ok((
        FileCheck {
            chains,
            strict: verify.strict,
        },
        missing,
    ))
}
