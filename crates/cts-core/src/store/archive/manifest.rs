//! The manifest: every source file read, with its size, ETag, outcome and counts, so that a
//! second load reads only new or changed files.
//!
//! Each load commits one segment per chunk (`_cts/manifest/<run>-<n>.ndjson`), written after the
//! chunk's traces; later entries for a source replace earlier ones.

use std::collections::HashMap;

use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::failpoint;
use crate::store::archive::files::Archive;

/// Folder of the manifest segments.
pub const MANIFEST_DIR: &str = "_cts/manifest";
/// Manifest segments beyond which a load merges them into one.
const MANIFEST_SEGMENTS_BEFORE_COMPACTION: usize = 32;

impl Archive {
    /// Read every manifest segment; later entries for a source replace earlier ones.
    pub async fn read_manifest(&self) -> Result<Manifest> {
        let segments = self.location().child(MANIFEST_DIR).list().await?;
        let mut manifest = Manifest::default();
        for meta in segments {
            let path = meta.location;
            if !path.as_ref().ends_with(".ndjson") {
                continue;
            }
            let bytes = self.location().read(&path).await?;
            let location = self.location().display(&path);
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let entry: ManifestEntry =
                    serde_json::from_slice(line).map_err(|e| Error::Manifest {
                        location: location.clone(),
                        line: i + 1,
                        reason: e.to_string(),
                    })?;
                manifest.entries.insert(entry.source.clone(), entry);
            }
            manifest.segments.push(path);
        }
        Ok(manifest)
    }

    /// Append a manifest segment named `name`.
    pub async fn append_manifest(&self, entries: &[ManifestEntry], name: &str) -> Result<()> {
        let mut text = String::new();
        for entry in entries {
            let line = serde_json::to_string(entry)
                .map_err(|e| Error::InvalidInput(format!("manifest entry: {e}")))?;
            text.push_str(&line);
            text.push('\n');
        }
        let path = self
            .location()
            .path(&format!("{MANIFEST_DIR}/{name}.ndjson"));
        self.location().write(&path, text.into()).await
    }

    /// `true` when a manifest of `segments` segments is due to be merged.
    pub fn manifest_needs_compaction(segments: usize) -> bool {
        segments > MANIFEST_SEGMENTS_BEFORE_COMPACTION
    }

    /// Merge the manifest into one segment when it has grown to many; returns whether it did.
    /// Crash-safe: the merged segment is written before the old ones are deleted, and reading
    /// a manifest with both is the same as reading either.
    pub async fn compact_manifest(&self, run: &str) -> Result<bool> {
        let manifest = self.read_manifest().await?;
        if !Self::manifest_needs_compaction(manifest.segments.len()) {
            return Ok(false);
        }
        let mut entries: Vec<ManifestEntry> = manifest.entries.into_values().collect();
        entries.sort_by(|a, b| a.source.cmp(&b.source));
        let name = format!("{run}-merged");
        self.append_manifest(&entries, &name).await?;
        failpoint::hit(failpoint::LOAD_MANIFEST_COMPACTED)?;
        let merged = self
            .location()
            .path(&format!("{MANIFEST_DIR}/{name}.ndjson"));
        for old in manifest.segments.iter().filter(|p| **p != merged) {
            self.location().delete(old).await?;
        }
        Ok(true)
    }
}

/// What became of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Its traces are in the archive (any rejected records are set aside).
    Loaded,
    /// It could not be decoded; nothing of it was loaded.
    Failed,
}

/// One line of the manifest: a source file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// URL of the source file.
    pub source: String,
    /// Its size when read.
    pub size: u64,
    /// Its ETag when read (local disks: a stand-in from inode, mtime and size).
    pub etag: Option<String>,
    /// Loaded or failed.
    pub outcome: Outcome,
    /// Traces in the file that were new to the archive.
    pub traces: u64,
    /// Traces in the file already in the archive (re-deliveries).
    pub duplicates: u64,
    /// Records set aside.
    pub rejected: u64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The load run that read it.
    pub run: String,
    /// What its digest says of it (`verified`, `modified`, `not covered`, ...), when the load
    /// verified it (`cts load --verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// Why, when it is not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity_detail: Option<String>,
}

/// The manifest, read: the latest entry for each source file.
#[derive(Debug, Default)]
pub struct Manifest {
    /// Latest entry per source URL.
    pub entries: HashMap<String, ManifestEntry>,
    /// The segments it was read from.
    pub segments: Vec<Path>,
}

impl Manifest {
    /// The entry for a source file when it is the same file (same size and ETag) as recorded.
    pub fn unchanged(&self, source: &str, size: u64, etag: Option<&str>) -> Option<&ManifestEntry> {
        self.entries
            .get(source)
            .filter(|e| e.size == size && e.etag.as_deref() == etag)
    }
}
