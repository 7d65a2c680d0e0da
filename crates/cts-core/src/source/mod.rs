//! Sources of trace files: a bucket, a local folder, or one file, listed and sorted into trace
//! files (to load), digest files and other objects (skipped and counted, never an error), by
//! the CTS object layout ([`layout`]).

use std::path::Path as FsPath;

use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};

use crate::error::Result;

pub mod layout;
use crate::source::layout::{ObjectKind, ROOT_FOLDER, classify};
use crate::storage::{Location, StorageOptions};

/// Where trace files come from.
#[derive(Debug, Clone)]
pub struct Source {
    location: Location,
    /// When the source is one file: its path (loaded whatever its name).
    single: Option<Path>,
}

/// One trace file to load.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFile {
    /// Path in the store.
    pub path: Path,
    /// Key relative to the source's root (the bucket, or the local folder): `source_file`.
    pub key: String,
    /// Region, from the key.
    pub region: Option<String>,
    /// Size in bytes as stored.
    pub size: u64,
    /// ETag (or, on local disks, a stand-in from inode, mtime and size).
    pub etag: Option<String>,
}

/// What a listing found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Trace files, sorted by key.
    pub trace_files: Vec<TraceFile>,
    /// The keys of the digest files (not loaded; `cts load --verify` checks files against them).
    pub digests: Vec<String>,
    /// Other objects skipped.
    pub other: u64,
}

/// Where a folder or bucket URL of trace files is read: a bucket URL as it is; a local folder
/// inside a bucket's `CloudTraces/` folder as that bucket's top with the rest as a prefix, so
/// that its keys are the bucket's keys (`CloudTraces/eu-de/2024/06/30/...`), as a bucket URL's
/// and as digests name them, and the region is read from them.
pub fn folder_location(spec: &str, options: &StorageOptions) -> Result<Location> {
    let local = FsPath::new(spec);
    if spec.contains("://") || !local.is_dir() {
        return Location::parse(spec, options);
    }
    let abs =
        std::fs::canonicalize(local).map_err(|e| crate::Error::io("resolve folder", local, e))?;
    let parts: Vec<_> = abs.components().collect();
    match parts.iter().rposition(|c| c.as_os_str() == ROOT_FOLDER) {
        Some(i) => {
            let top: std::path::PathBuf = parts[..i].iter().collect();
            let rest: Vec<String> = parts[i..]
                .iter()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Ok(Location::local(&top)?.child(&rest.join("/")))
        }
        None => Location::local(&abs),
    }
}

impl Source {
    /// Open a folder, a file or a bucket URL.
    pub fn open(spec: &str, options: &StorageOptions) -> Result<Source> {
        let local = FsPath::new(spec);
        if !spec.contains("://") && local.is_file() {
            let parent = match local.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => FsPath::new("."),
            };
            let name = local
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Ok(Source {
                location: Location::local(parent)?,
                single: Some(Path::from(name)),
            });
        }
        if !spec.contains("://") && !local.exists() {
            return Err(crate::Error::InvalidLocation {
                location: spec.to_string(),
                reason: "no such file or folder".to_string(),
            });
        }
        Ok(Source {
            location: folder_location(spec, options)?,
            single: None,
        })
    }

    /// The location listed.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The URL a file of this source is recorded under in the manifest.
    pub fn url_of(&self, file: &TraceFile) -> String {
        self.location.display(&file.path)
    }

    /// List and sort the objects. With `any_json`, JSON files not named like CTS trace files
    /// (`.json`, `.json.gz`, `.ndjson`, `.jsonl`, optionally gzipped) are loaded too.
    pub async fn list(&self, any_json: bool) -> Result<Listing> {
        let mut listing = Listing::default();
        if let Some(single) = &self.single {
            let meta = self
                .location
                .store()
                .head(single)
                .await
                .map_err(|e| crate::Error::storage("read", self.location.display(single), e))?;
            let region = match classify(single.as_ref()) {
                ObjectKind::TraceFile(k) => k.region,
                _ => None,
            };
            listing.trace_files.push(trace_file(meta, region));
            return Ok(listing);
        }
        for meta in self.location.list().await? {
            let key = meta.location.as_ref();
            match classify(key) {
                ObjectKind::TraceFile(k) => listing.trace_files.push(trace_file(meta, k.region)),
                // A digest's signature kept beside it in a folder is part of the digest.
                ObjectKind::Digest if key.ends_with(crate::storage::METADATA_SUFFIX) => {}
                ObjectKind::Digest => listing.digests.push(key.to_string()),
                // Never an archive's own bookkeeping, should the archive lie inside the source.
                ObjectKind::Other if any_json && is_json_name(key) && !is_archive_meta(key) => {
                    listing.trace_files.push(trace_file(meta, None))
                }
                ObjectKind::Other => listing.other += 1,
            }
        }
        Ok(listing)
    }
}

fn trace_file(meta: ObjectMeta, region: Option<String>) -> TraceFile {
    TraceFile {
        key: meta.location.to_string(),
        path: meta.location,
        region,
        size: meta.size,
        etag: meta.e_tag,
    }
}

fn is_archive_meta(key: &str) -> bool {
    key.starts_with("_cts/") || key.contains("/_cts/")
}

fn is_json_name(key: &str) -> bool {
    let name = key.strip_suffix(".gz").unwrap_or(key);
    [".json", ".ndjson", ".jsonl"]
        .iter()
        .any(|ext| name.ends_with(ext))
}
