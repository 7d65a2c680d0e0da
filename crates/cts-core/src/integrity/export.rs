//! Signed exports: `cts export --sign` writes, beside the exported files, a manifest of each
//! file with its SHA-256, size and row count ([`EXPORT_MANIFEST`]), signed SHA256withRSA like a
//! digest, the signature kept where a digest's is (object metadata `signature` in a bucket,
//! `<key>.meta.json` in a folder). `cts verify` of the folder or bucket checks it: an auditor
//! handed a Parquet set can tell whether it is the set that was exported.

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::integrity::digest::{signature_in, write_signed};
use crate::integrity::findings::{Finding, Folder, Outcome, signature_detail};
use crate::integrity::keys::{PublicKey, SigningKey};
use crate::storage::{Location, METADATA_SUFFIX};

/// The manifest's name, at the top of the export.
pub const EXPORT_MANIFEST: &str = "_cts-export-manifest.json";
/// The value of its `format`.
const FORMAT: &str = "cts-export/1";

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// `cts-export/1`.
    pub format: String,
    /// When the export was written.
    pub created: DateTime<Utc>,
    /// The query whose rows were exported.
    pub query: String,
    /// Rows in all files.
    pub rows: u64,
    /// Every file, by path below the export's top.
    pub files: Vec<ExportedFile>,
}

/// One exported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Its path below the export's top (`day=2024-06-29/part-0.parquet`).
    pub path: String,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
    /// The SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

impl ExportManifest {
    /// A manifest of `files` (each: path, rows), hashed as stored under `location`.
    pub async fn of(
        location: &Location,
        query: &str,
        files: &[(String, u64)],
    ) -> Result<ExportManifest> {
        let mut listed = Vec::with_capacity(files.len());
        for (path, rows) in files {
            let stored = location.path(path);
            let (sha256, bytes) = sha256_of(location, &stored).await?.ok_or_else(|| {
                Error::InvalidInput(format!("{}: gone", location.display(&stored)))
            })?;
            listed.push(ExportedFile {
                path: path.clone(),
                rows: *rows,
                bytes,
                sha256,
            });
        }
        Ok(ExportManifest {
            format: FORMAT.to_string(),
            created: Utc::now(),
            query: query.to_string(),
            rows: files.iter().map(|(_, rows)| rows).sum(),
            files: listed,
        })
    }

    /// Write it under `location`, signed with `key` (its signature over its exact bytes).
    pub async fn write_signed(&self, location: &Location, key: &SigningKey) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("export manifest: {e}")))?;
        bytes.push(b'\n');
        let signature = key.sign(&bytes)?;
        write_signed(location, &location.path(EXPORT_MANIFEST), bytes, &signature).await
    }

    /// Remove the manifest under `location`, if any (before an export writes over its files).
    pub async fn remove(location: &Location) -> Result<()> {
        let path = location.path(EXPORT_MANIFEST);
        location.delete(&path).await?;
        location
            .delete(&Path::from(format!("{path}{METADATA_SUFFIX}")))
            .await
    }
}

/// The SHA-256 (hex) and size of the object at `path`, read as a stream; `None` when it does
/// not exist.
pub async fn sha256_of(location: &Location, path: &Path) -> Result<Option<(String, u64)>> {
    let stream = match location.store().get(path).await {
        Ok(r) => r.into_stream(),
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(Error::storage("read", location.display(path), e)),
    };
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut size = 0u64;
    let mut stream = stream.map_err(|e| Error::storage("read", location.display(path), e));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        context.update(&chunk);
    }
    Ok(Some((hex::encode(context.finish().as_ref()), size)))
}

/// Check the export under `location` whose objects are `keys`: the manifest's signature with
/// `key`, each listed file's SHA-256 and size, and no file the manifest does not list.
pub(crate) async fn verify_export(
    location: &Location,
    keys: Vec<String>,
    key: Option<&PublicKey>,
    parallelism: usize,
) -> Result<Vec<Outcome>> {
    let manifest_path = location.path(EXPORT_MANIFEST);
    let manifest_key = manifest_path.as_ref().to_string();
    let outcome = |finding, object: &str, detail: String| Outcome {
        finding,
        folder: Folder::default(),
        hour: String::new(),
        object: object.to_string(),
        detail,
    };
    let mut outcomes = Vec::new();
    let Some((bytes, metadata)) = location.read_with_metadata(&manifest_path).await? else {
        return Err(Error::InvalidInput(format!(
            "{}: no export manifest",
            location.display(&manifest_path)
        )));
    };
    let manifest = match serde_json::from_slice::<ExportManifest>(&bytes) {
        Ok(m) if m.format == FORMAT => Some(m),
        Ok(m) => {
            let why = format!("format {:?}, not {FORMAT:?}", m.format);
            outcomes.push(outcome(Finding::ManifestUnreadable, &manifest_key, why));
            None
        }
        Err(e) => {
            let why = format!("not an export manifest: {e}");
            outcomes.push(outcome(Finding::ManifestUnreadable, &manifest_key, why));
            None
        }
    };
    if manifest.is_some() {
        let signature = signature_in(&metadata);
        let checked = match (signature, key) {
            (None, _) => Err("no signature is stored with it (object metadata `signature`)".into()),
            (Some(_), None) => Err(
                "no key to check it with: give --public-key (the exporter's signing-key.pub.pem)"
                    .to_string(),
            ),
            (Some(signature), Some(key)) => key
                .verify(&bytes, signature)
                .map_err(|e| signature_detail(e, "its signature")),
        };
        outcomes.push(match checked {
            Ok(()) => outcome(Finding::ManifestVerified, &manifest_key, String::new()),
            Err(why) => outcome(Finding::SignatureInvalid, &manifest_key, why),
        });
    }
    let files = manifest.map(|m| m.files).unwrap_or_default();
    let listed: std::collections::HashSet<String> = files
        .iter()
        .map(|f| location.path(&f.path).as_ref().to_string())
        .collect();
    let checked: Vec<Outcome> = futures::stream::iter(files)
        .map(|file| async move {
            let path = location.path(&file.path);
            let object = path.as_ref().to_string();
            let (finding, detail) = match sha256_of(location, &path).await? {
                None => (
                    Finding::Deleted,
                    "listed in the export manifest, not in the export".to_string(),
                ),
                Some((hash, size)) if hash != file.sha256.to_ascii_lowercase() => (
                    Finding::Modified,
                    format!(
                        "its SHA-256 is {hash} ({size} bytes), the manifest recorded {} ({} bytes)",
                        file.sha256, file.bytes
                    ),
                ),
                Some(_) => (Finding::Verified, String::new()),
            };
            Ok::<_, Error>(Outcome {
                finding,
                folder: Folder::default(),
                hour: String::new(),
                object,
                detail,
            })
        })
        .buffer_unordered(parallelism.max(1))
        .try_collect()
        .await?;
    outcomes.extend(checked);
    let sidecar = format!("{manifest_key}{METADATA_SUFFIX}");
    for key in keys {
        if key != manifest_key && key != sidecar && !listed.contains(&key) {
            outcomes.push(outcome(
                Finding::NotCovered,
                &key,
                "the export manifest does not list it".to_string(),
            ));
        }
    }
    Ok(outcomes)
}
