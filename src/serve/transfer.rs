//! Transfer: every few minutes, the traces each enabled tracker recorded since its last
//! transfer go to its bucket as trace files in the CTS layout (cts-spec.md §2.1-2.3):
//! `CloudTraces/<region>/<yyyy>/<mm>/<dd>/<tracker>/[<service>/]<prefix>_CloudTrace_<region>_<time>Z_<hex16>.json[.gz]`.
//!
//! At least once and crash-safe: a tracker's traces are selected by `record_time` in
//! `[transferred_to, settled)`, where `settled` is a time before which every recording has
//! finished ([`Clock`](crate::serve::clock::Clock)); the files are written whole (each object appears at
//! once or not at all), and only then is `transferred_to` moved on, durably. A server that
//! dies in between sends those traces again on its next transfer; `cts load` drops the
//! duplicates by `trace_id`, as it does for CTS's own at-least-once delivery.

use std::io::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use datafusion::prelude::col;
use serde_json::{Value, json};

use cts_core::failpoint;
use cts_core::integrity::digest::{hash_hex, write_signed};
use cts_core::integrity::{Digest, LogFile};
use cts_core::source::layout::TraceFileKey;
use cts_core::store::run::RunId;
use cts_core::trace::col as c;

use crate::error::{Error, Result};
use crate::output::trace_json::traces_json;
use crate::query::ts_literal as ts;
use crate::serve::api::ApiError;
use crate::serve::authorized::Authorized;
use crate::serve::book::{Chain, DigestState, PendingFile, StoredTracker};
use crate::serve::list::{recorded_by, session};
use crate::serve::server::{Project, Server};
use crate::serve::trackers::problem_of;

/// Traces in one trace file, at most (CTS splits large transfers into several files too).
pub const MAX_TRACES_PER_FILE: usize = 10_000;

/// What one transfer of one tracker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerTransfer {
    /// The tracker.
    pub tracker: String,
    /// Trace files written.
    pub files: usize,
    /// Traces in them.
    pub traces: usize,
    /// Why it failed, when it did (its traces are sent at the next transfer).
    pub error: Option<String>,
}

/// Transfer the traces of every enabled tracker of `project` with a bucket.
pub async fn transfer_project(server: &Server, project: &Project) -> Vec<TrackerTransfer> {
    let _one_at_a_time = server.transferring.lock().await;
    let settled = server.clock.settled();
    let trackers: Vec<StoredTracker> = project
        .trackers
        .lock()
        .await
        .trackers
        .iter()
        .filter(|t| t.enabled() && !t.tracker.obs_info.bucket_name.is_empty())
        .cloned()
        .collect();
    let mut done = Vec::new();
    for stored in trackers {
        if stored.tracker.is_support_validate || !stored.digests.is_empty() {
            // After the files of the last transfer, before those of this one: a period's
            // digest is written once the period is over, with the files delivered in it (and,
            // once validation is turned off, the chains end).
            if let Err(e) = write_digests(server, project, &stored).await {
                eprintln!(
                    "cts serve: digests of project {} tracker {} (written at the next transfer): {e}",
                    project.id, stored.tracker.tracker_name
                );
            }
        }
        if stored.transferred_to >= settled {
            continue;
        }
        let name = stored.tracker.tracker_name.clone();
        let result = transfer_tracker(server, project, &stored, settled).await;
        let mut book = project.trackers.lock().await;
        let Some(current) = book
            .get_mut(&name)
            .filter(|t| t.tracker.id == stored.tracker.id)
        else {
            continue; // deleted meanwhile
        };
        let report = match result {
            Ok((files, traces)) => {
                current.transferred_to = settled;
                current.tracker.detail = None;
                current.tracker.obs_info.is_authorized_bucket = true;
                TrackerTransfer {
                    tracker: name,
                    files,
                    traces,
                    error: None,
                }
            }
            Err(e) => {
                let text = e.to_string();
                current.tracker.detail = Some(problem_of(&text).to_string());
                current.tracker.obs_info.is_authorized_bucket = false;
                eprintln!(
                    "cts serve: transfer of project {} tracker {name} failed (retried at the next transfer): {text}",
                    project.id
                );
                TrackerTransfer {
                    tracker: name,
                    files: 0,
                    traces: 0,
                    error: Some(text),
                }
            }
        };
        if let Err(e) = book
            .save()
            .and_then(|()| Ok(failpoint::hit(failpoint::TRANSFER_CURSOR_SAVED)?))
        {
            eprintln!(
                "cts serve: saving the trackers of project {}: {e}",
                project.id
            );
        }
        done.push(report);
    }
    done
}

/// Write the traces `stored` recorded in `[transferred_to, until)` to its bucket: the number
/// of files and of traces.
async fn transfer_tracker(
    server: &Server,
    project: &Project,
    stored: &StoredTracker,
    until: i64,
) -> Result<(usize, usize)> {
    let t = &stored.tracker;
    if let Some(path) = server.local_bucket(&t.obs_info.bucket_name)
        && !path.is_dir()
    {
        return Err(Error::invalid(format!(
            "NoSuchBucket: the bucket folder {} does not exist",
            path.display()
        )));
    }
    let bucket = server.bucket(&t.obs_info.bucket_name)?;
    let ctx = session(server, project)
        .await
        .map_err(|e| Error::internal(e.message))?;
    let tracker = recorded_by(&t.tracker_name);
    let batches = ctx
        .table(crate::query::TRACES_TABLE)
        .await?
        .filter(
            col(c::RECORD_TIME)
                .gt_eq(ts(stored.transferred_to))
                .and(col(c::RECORD_TIME).lt(ts(until)))
                .and(tracker),
        )?
        .sort(vec![
            col("service_type").sort(true, true),
            col(c::TIME).sort(true, true),
            col(c::TRACE_ID).sort(true, true),
        ])?
        .collect()
        .await?;
    let mut traces = Vec::new();
    for batch in &batches {
        traces_json(batch, &mut traces);
    }
    let now = Utc::now();
    let gzip = t.obs_info.compress_type != "json";
    let mut files = 0;
    let groups: Vec<(Option<String>, &[Value])> = if t.obs_info.is_sort_by_service {
        by_service(&traces)
    } else {
        vec![(None, &traces[..])]
    };
    for (service, group) in groups {
        for chunk in group.chunks(MAX_TRACES_PER_FILE) {
            let suffix = RunId::new().nonce_hex();
            let key = TraceFileKey::build(
                &server.config.region,
                &t.tracker_name,
                service.as_deref(),
                &t.obs_info.file_prefix_name,
                now,
                &suffix,
                gzip,
            );
            let bytes = file_bytes(chunk, gzip)?;
            if t.is_support_validate {
                // Recorded before it is written: every file in the bucket gets in a digest.
                let pending = PendingFile {
                    service: service.clone().unwrap_or_else(|| UNSORTED.to_string()),
                    delivered: now.timestamp_millis(),
                    object: key.clone(),
                    md5: hash_hex("MD5", &bytes).unwrap_or_default(),
                };
                change_digests(project, stored, |d| d.pending.push(pending)).await?;
            }
            bucket.write(&bucket.path(&key), bytes.into()).await?;
            failpoint::hit(failpoint::TRANSFER_FILE_WRITTEN)?;
            files += 1;
        }
    }
    Ok((files, traces.len()))
}

/// The digest folder of a tracker that does not sort its files by service.
pub const UNSORTED: &str = "ALL";

/// Change the digest state of `stored` (if it still exists) and save it durably.
async fn change_digests(
    project: &Project,
    stored: &StoredTracker,
    change: impl FnOnce(&mut DigestState),
) -> Result<()> {
    let mut book = project.trackers.lock().await;
    let Some(current) = book
        .get_mut(&stored.tracker.tracker_name)
        .filter(|t| t.tracker.id == stored.tracker.id)
    else {
        return Ok(()); // deleted meanwhile
    };
    change(&mut current.digests);
    book.save()
}

/// Write the digest of every period that is over, for each service folder of `stored`
/// (cts-spec.md §2.7): the files delivered in it (an empty list for an idle period), chained to
/// the folder's previous digest, signed. Each digest is written, then the chain moved on
/// durably; a server stopped in between writes the same digest again (same bytes, same
/// signature) and goes on from it: the chain never forks.
///
/// Once validation is turned off, every chain ends: a last digest up to the time that was
/// noticed (recorded first, so a restart writes the same one), marked `digest_end`, after which
/// the chains are forgotten; turned on again, each folder starts a new chain, which a verifier
/// accepts after an ending digest.
async fn write_digests(server: &Server, project: &Project, stored: &StoredTracker) -> Result<()> {
    let period = server.config.digest_interval.as_millis().max(1000) as i64;
    let t = &stored.tracker;
    let mut state = {
        let book = project.trackers.lock().await;
        match book.get(&t.tracker_name).filter(|c| c.tracker.id == t.id) {
            Some(c) => c.digests.clone(),
            None => return Ok(()),
        }
    };
    if !t.is_support_validate && state.ending_at.is_none() {
        if state.is_empty() {
            return Ok(());
        }
        // A whole second (digest keys name seconds) after every digest written: the ending
        // digest takes no other's key (ending on a period's end, it is that period's digest).
        let second = |ms: i64| (ms + 999).div_euclid(1000) * 1000;
        let written = state.chains.values().map(|c| c.digested_to).max();
        let mut ending = second(Utc::now().timestamp_millis());
        if let Some(written) = written.filter(|w| *w >= ending) {
            ending = second(written) + 1000;
        }
        change_digests(project, stored, |d| d.ending_at = Some(ending)).await?;
        state.ending_at = Some(ending);
    }
    let now = state
        .ending_at
        .unwrap_or_else(|| Utc::now().timestamp_millis());
    let mut services: Vec<String> = state.chains.keys().cloned().collect();
    for p in state.pending.iter().filter(|p| p.delivered < now) {
        if !services.contains(&p.service) {
            services.push(p.service.clone());
        }
    }
    let bucket = server.bucket(&t.obs_info.bucket_name)?;
    let key = server.signing_key().await?;
    for service in services {
        let (mut last, mut start) = match state.chains.get(&service) {
            Some(chain) => (chain.last.clone(), chain.digested_to),
            None => {
                let first = state
                    .pending
                    .iter()
                    .filter(|p| p.service == service)
                    .map(|p| p.delivered)
                    .min()
                    .unwrap_or(now);
                (None, first.div_euclid(period) * period)
            }
        };
        // Files of this folder not yet in a digest, oldest first.
        let mut waiting: Vec<&PendingFile> = state
            .pending
            .iter()
            .filter(|p| p.service == service)
            .collect();
        waiting.sort_by_key(|p| p.delivered);
        let ending = state.ending_at.is_some();
        while start + period <= now || (ending && start < now) {
            let end = (start + period).min(now);
            let due = waiting.partition_point(|p| p.delivered < end);
            let mut files = Vec::new();
            for p in waiting.drain(..due) {
                // Recorded, but the server stopped before writing it: not in the bucket.
                if bucket.exists(&bucket.path(&p.object)).await? {
                    files.push(p);
                }
            }
            let object = TraceFileKey::build_digest(
                &server.config.region,
                &t.tracker_name,
                &service,
                &t.obs_info.file_prefix_name,
                at(end)?,
            );
            let log_files = files
                .iter()
                .map(|p| LogFile {
                    bucket: t.obs_info.bucket_name.clone(),
                    object: p.object.clone(),
                    log_hash_value: p.md5.clone(),
                    log_hash_algorithm: "MD5".to_string(),
                })
                .collect();
            let mut digest = Digest::new(
                &project.id,
                &t.obs_info.bucket_name,
                &object,
                at(start)?,
                at(end)?,
                log_files,
            );
            digest.digest_end = ending && end == now;
            let sealed = digest.seal(last.as_ref(), &key)?;
            write_signed(
                &bucket,
                &bucket.path(&object),
                sealed.bytes,
                &sealed.signature,
            )
            .await?;
            failpoint::hit(failpoint::TRANSFER_DIGEST_WRITTEN)?;
            let link = sealed.link;
            let service_done = service.clone();
            change_digests(project, stored, |d| {
                d.chains.insert(
                    service_done.clone(),
                    Chain {
                        last: Some(link.clone()),
                        digested_to: end,
                    },
                );
                d.pending
                    .retain(|p| !(p.service == service_done && p.delivered < end));
            })
            .await?;
            last = Some(link);
            start = end;
        }
    }
    if let Some(ended) = state.ending_at {
        change_digests(project, stored, |d| {
            d.chains.clear();
            d.pending.retain(|p| p.delivered >= ended);
            d.ending_at = None;
        })
        .await?;
    }
    Ok(())
}

fn at(ms: i64) -> Result<chrono::DateTime<Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| Error::internal(format!("time {ms} out of range")))
}

/// Consecutive traces of one service (they are sorted by service), with the service's folder.
fn by_service(traces: &[Value]) -> Vec<(Option<String>, &[Value])> {
    let service = |v: &Value| folder(v.get("service_type").and_then(Value::as_str));
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=traces.len() {
        if i == traces.len() || service(&traces[i]) != service(&traces[start]) {
            groups.push((Some(service(&traces[start])), &traces[start..i]));
            start = i;
        }
    }
    groups
}

/// A service type as a folder name: itself when it is a plain word, else `OTHER`.
fn folder(service: Option<&str>) -> String {
    match service {
        Some(s)
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            s.to_string()
        }
        _ => "OTHER".to_string(),
    }
}

/// A trace file: a JSON array, gzipped or not.
fn file_bytes(traces: &[Value], gzip: bool) -> Result<Vec<u8>> {
    let json =
        serde_json::to_vec(traces).map_err(|e| Error::internal(format!("traces to JSON: {e}")))?;
    if !gzip {
        return Ok(json);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map_err(|e| Error::internal(format!("gzip: {e}")))
}

/// Transfer every project, then let each hot store roll over and compact, every
/// `transfer_interval`, until `stop` says so (a transfer under way finishes first).
pub async fn run_periodically(server: Arc<Server>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(server.config.transfer_interval) => {}
            _ = stop.changed() => return,
        }
        for project in server.projects.values() {
            for t in transfer_project(&server, project).await {
                if t.files > 0 {
                    eprintln!(
                        "cts serve: project {} tracker {}: {} traces in {} files",
                        project.id, t.tracker, t.traces, t.files
                    );
                }
            }
            if let Err(e) = project.hot.maintain(false).await {
                eprintln!("cts serve: maintenance of project {}: {e}", project.id);
            }
        }
    }
}

/// `POST /v3/{project_id}/transfer` (not in CTS): transfer now rather than at the next
/// interval. `{"transfers": [{tracker, files, traces, error}]}`.
pub async fn run_now(
    State(server): State<Arc<Server>>,
    Authorized(project): Authorized,
) -> Result<Response, ApiError> {
    let done = transfer_project(&server, &project).await;
    let transfers: Vec<Value> = done
        .iter()
        .map(|t| json!({"tracker": t.tracker, "files": t.files, "traces": t.traces, "error": t.error}))
        .collect();
    Ok(axum::Json(json!({ "transfers": transfers })).into_response())
}
