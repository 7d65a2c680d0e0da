//! Reading and decoding trace files in groups: many small files, or one large one, decoded into
//! one Arrow batch on a blocking thread, with what became of each file.

use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::StreamExt;

use crate::decode::{RejectedRecord, decode_into};
use crate::error::{Error, Result};
use crate::integrity::{Chains, Finding};
use crate::source::TraceFile;
use crate::storage::Location;
use crate::trace::TraceBatchBuilder;

/// Stored bytes of the files decoded together into one batch.
const GROUP_BYTES: u64 = 2 << 20;
/// Files decoded together into one batch, at most.
const GROUP_FILES: usize = 512;
/// Files of a group read at once.
const READS_PER_GROUP: usize = 16;

/// JSON decoded into one batch before the next is started: Arrow's string columns address at
/// most 2 GiB each.
const BATCH_JSON_BYTES: u64 = 256 << 20;

/// Files decoded together: their traces in batches, in file order.
#[derive(Debug)]
pub(crate) struct DecodedGroup {
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) files: Vec<GroupFile>,
}

/// One file of a group and what became of it.
#[derive(Debug)]
pub(crate) struct GroupFile {
    pub(crate) file: TraceFile,
    pub(crate) url: String,
    pub(crate) outcome: std::result::Result<FileRows, FileError>,
    /// What its digest says of it, when the load verifies: the finding and why.
    pub(crate) integrity: Option<(Finding, String)>,
}

/// The checks of `cts load --verify`: the source's digest chains, walked before any file is
/// read; each file's bytes are checked against them as it is read.
#[derive(Debug)]
pub(crate) struct FileCheck {
    pub(crate) chains: Chains,
    /// Refuse the traces of files that are not verified.
    pub(crate) strict: bool,
}

/// Where a decoded file's traces are in its group's batches.
#[derive(Debug)]
pub(crate) struct FileRows {
    pub(crate) batch: usize,
    pub(crate) start: usize,
    pub(crate) rows: usize,
    pub(crate) rejects: Vec<RejectedRecord>,
    pub(crate) json_bytes: u64,
    pub(crate) size: u64,
}

/// Why a file of a group was not decoded.
#[derive(Debug)]
pub(crate) enum FileError {
    /// Gone between listing and reading: reported, not recorded, so the next run looks again.
    Vanished(String),
    /// The storage failed after its retries: the load stops before committing the chunk, and
    /// the next run reads these files again.
    Unavailable(Error),
    /// Read but not decodable: recorded as failed.
    Decode(String),
    /// Not verified, and the load is strict: recorded as failed, unless its hour's digest is
    /// still to come (pending: not recorded, so the next run looks again).
    Refused(Finding),
}

/// Split files into groups of about [`GROUP_BYTES`], at most [`GROUP_FILES`] each, in order.
pub(crate) fn groups(files: Vec<(TraceFile, String)>) -> Vec<Vec<(TraceFile, String)>> {
    let mut groups = Vec::new();
    let mut group = Vec::new();
    let mut bytes = 0;
    for (file, url) in files {
        if !group.is_empty() && (bytes + file.size > GROUP_BYTES || group.len() >= GROUP_FILES) {
            groups.push(std::mem::take(&mut group));
            bytes = 0;
        }
        bytes += file.size;
        group.push((file, url));
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

/// Read a group of files and decode them into one batch, on a blocking thread.
pub(crate) async fn decode_group(
    location: Location,
    group: Vec<(TraceFile, String)>,
    check: Option<Arc<FileCheck>>,
) -> Result<DecodedGroup> {
    let read: Vec<_> = futures::stream::iter(group)
        .map(|(file, url)| {
            let location = location.clone();
            async move {
                let bytes = location.read(&file.path).await;
                (file, url, bytes)
            }
        })
        .buffered(READS_PER_GROUP)
        .collect()
        .await;
    tokio::task::spawn_blocking(move || {
        let mut builder = TraceBatchBuilder::new();
        let mut batches = Vec::new();
        let mut batch_json = 0;
        let mut files = Vec::with_capacity(read.len());
        for (file, url, bytes) in read {
            if batch_json >= BATCH_JSON_BYTES {
                batches.push(builder.finish()?);
                batch_json = 0;
            }
            let integrity = match (&check, &bytes) {
                (Some(check), Ok(bytes)) => {
                    let (finding, _, detail) =
                        check
                            .chains
                            .check_file(&file.key, Some(bytes), file.etag.as_deref());
                    Some((finding, detail))
                }
                _ => None,
            };
            let refused = match (&check, &integrity) {
                (Some(check), Some((finding, _))) if check.strict => {
                    (*finding != Finding::Verified).then_some(*finding)
                }
                _ => None,
            };
            let outcome = match bytes {
                Err(
                    e @ Error::Storage {
                        source: object_store::Error::NotFound { .. },
                        ..
                    },
                ) => Err(FileError::Vanished(e.to_string())),
                Err(e) => Err(FileError::Unavailable(e)),
                Ok(_) if let Some(finding) = refused => Err(FileError::Refused(finding)),
                Ok(bytes) => {
                    let start = builder.len();
                    decode_into(&bytes, &file.key, file.region.as_deref(), &mut builder)
                        .map(|d| {
                            batch_json += d.json_bytes;
                            FileRows {
                                batch: batches.len(),
                                start,
                                rows: d.rows,
                                rejects: d.rejects,
                                json_bytes: d.json_bytes,
                                size: bytes.len() as u64,
                            }
                        })
                        .map_err(|e| FileError::Decode(e.to_string()))
                }
            };
            files.push(GroupFile {
                file,
                url,
                outcome,
                integrity,
            });
        }
        batches.push(builder.finish()?);
        Ok(DecodedGroup { batches, files })
    })
    .await
    .map_err(|e| Error::Internal(format!("decoding task failed: {e}")))?
}
