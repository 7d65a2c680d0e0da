//! Where objects live: a local folder or a bucket (`s3://bucket/prefix`, OBS or any
//! S3-compatible endpoint), behind one [`Location`] type.
//!
//! A local folder stands for a bucket: keys are relative to it. A bucket URL's path is a prefix
//! within the bucket; keys are the bucket's own keys.
//!
//! Local files that must be replaced whole (the hot store's state, reports, the tracker book)
//! are written with [`fs::write_atomic`].
//!
//! ```
//! # fn main() -> cts_core::Result<()> {
//! let dir = std::env::temp_dir().join("cts-storage-doc");
//! let here = cts_core::storage::Location::parse(dir.to_str().unwrap(), &Default::default())?;
//! assert!(here.url().as_str().starts_with("file:///"));
//! # Ok(()) }
//! ```

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, ObjectMeta, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload,
};
use url::Url;

use crate::error::{Error, Result};

pub mod fs;
mod s3;

pub use s3::StorageOptions;

/// A folder or bucket prefix, with the object store that serves it.
#[derive(Debug, Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    /// The store's root: the bucket (`s3://bucket/`) or the local folder (`file:///abs/dir/`).
    root: Url,
    /// The prefix under the root that this location stands for (empty for a local folder).
    prefix: Path,
}

impl Location {
    /// Parse a local path, a `file://` URL or an `s3://bucket/prefix` URL.
    ///
    /// A local folder is created when it does not exist yet.
    pub fn parse(location: &str, options: &StorageOptions) -> Result<Location> {
        let invalid = |reason: String| Error::InvalidLocation {
            location: location.to_string(),
            reason,
        };
        match Url::parse(location) {
            Ok(url) if url.scheme() == "s3" || url.scheme() == "obs" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| invalid("no bucket name".to_string()))?
                    .to_string();
                let store = s3::store(&bucket, options)?;
                let root =
                    Url::parse(&format!("s3://{bucket}/")).map_err(|e| invalid(e.to_string()))?;
                let prefix = Path::from_url_path(url.path()).map_err(|e| invalid(e.to_string()))?;
                Ok(Location {
                    store: Arc::new(store),
                    root,
                    prefix,
                })
            }
            Ok(url) if url.scheme() == "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| invalid("not a local file URL".to_string()))?;
                Self::local(&path)
            }
            // Windows drive letters parse as a one-letter scheme; anything else is unsupported.
            Ok(url) if url.scheme().len() > 1 => Err(invalid(format!(
                "unsupported scheme {:?}: use a local path, file://, or s3://bucket/prefix",
                url.scheme()
            ))),
            _ => Self::local(FsPath::new(location)),
        }
    }

    /// A local folder, created if missing.
    pub fn local(path: &FsPath) -> Result<Location> {
        std::fs::create_dir_all(path).map_err(|e| Error::io("create folder", path, e))?;
        let abs = std::fs::canonicalize(path).map_err(|e| Error::io("resolve folder", path, e))?;
        let store = LocalFileSystem::new_with_prefix(&abs).map_err(|e| Error::InvalidLocation {
            location: abs.display().to_string(),
            reason: e.to_string(),
        })?;
        let root = Url::from_directory_path(&abs).map_err(|_| Error::InvalidLocation {
            location: abs.display().to_string(),
            reason: "cannot be expressed as a file URL".to_string(),
        })?;
        Ok(Location {
            store: Arc::new(store),
            root,
            prefix: Path::default(),
        })
    }

    /// The object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// URL of this location (with a trailing `/`), e.g. `s3://bucket/archive/`.
    pub fn url(&self) -> Url {
        let mut s = self.root.to_string();
        if !self.prefix.as_ref().is_empty() {
            s.push_str(self.prefix.as_ref());
            s.push('/');
        }
        Url::parse(&s).unwrap_or_else(|_| self.root.clone())
    }

    /// URL of the store's root: `s3://bucket/` or the local folder.
    pub fn root_url(&self) -> &Url {
        &self.root
    }

    /// The local folder, when this is one.
    pub fn local_path(&self) -> Option<PathBuf> {
        if self.root.scheme() == "file" {
            self.root.to_file_path().ok()
        } else {
            None
        }
    }

    /// The prefix this location stands for, under the store's root.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Whether the store key `key` lies below this location (a bucket's prefix names part of it).
    pub fn holds(&self, key: &str) -> bool {
        let prefix = self.prefix.as_ref();
        prefix.is_empty()
            || key
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// A location `relative` below this one.
    pub fn child(&self, relative: &str) -> Location {
        Location {
            store: self.store.clone(),
            root: self.root.clone(),
            prefix: self.path(relative),
        }
    }

    /// The store path of `relative` below this location.
    pub fn path(&self, relative: &str) -> Path {
        let mut path = self.prefix.clone();
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            path = path.clone().join(part);
        }
        path
    }

    /// A display URL for a store path (for messages and the manifest).
    pub fn display(&self, path: &Path) -> String {
        format!("{}{}", self.root, path)
    }

    /// Every object below this location, sorted by key.
    pub async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let mut objects: Vec<ObjectMeta> = self
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| Error::storage("list", self.url(), e))?;
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(objects)
    }

    /// Read a whole object.
    pub async fn read(&self, path: &Path) -> Result<Bytes> {
        let result = self
            .store
            .get(path)
            .await
            .map_err(|e| Error::storage("read", self.display(path), e))?;
        result
            .bytes()
            .await
            .map_err(|e| Error::storage("read", self.display(path), e))
    }

    /// Whether an object exists.
    pub async fn exists(&self, path: &Path) -> Result<bool> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Error::storage("read", self.display(path), e)),
        }
    }

    /// Read a whole object; `None` when it does not exist.
    pub async fn read_if_exists(&self, path: &Path) -> Result<Option<Bytes>> {
        match self.store.get(path).await {
            Ok(r) => r
                .bytes()
                .await
                .map(Some)
                .map_err(|e| Error::storage("read", self.display(path), e)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::storage("read", self.display(path), e)),
        }
    }

    /// Write a whole object. It appears under its name complete or not at all (local writes go
    /// through a temporary file and a rename; S3 PUTs are atomic).
    pub async fn write(&self, path: &Path, bytes: Bytes) -> Result<()> {
        self.store
            .put(path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| Error::storage("write", self.display(path), e))?;
        Ok(())
    }

    /// Write a whole object with user metadata (`name` -> `value`, e.g. a digest's `signature`).
    ///
    /// In a bucket the metadata is the object's own (`x-amz-meta-<name>`, which OBS serves as
    /// `x-obs-meta-<name>` too). A local folder has no object metadata: it is kept beside the
    /// object, in `<key>`[`METADATA_SUFFIX`], a JSON object of the same names and values, written
    /// before the object so that the object never appears without it.
    pub async fn write_with_metadata(
        &self,
        path: &Path,
        bytes: Bytes,
        metadata: &[(&str, &str)],
    ) -> Result<()> {
        if self.local_path().is_some() {
            let pairs: serde_json::Map<String, serde_json::Value> = metadata
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect();
            let sidecar = serde_json::to_vec(&pairs).map_err(|e| Error::Internal(e.to_string()))?;
            self.write(&metadata_path(path), sidecar.into()).await?;
            return self.write(path, bytes).await;
        }
        let mut attributes = Attributes::new();
        for (name, value) in metadata {
            attributes.insert(
                Attribute::Metadata(name.to_string().into()),
                AttributeValue::from(value.to_string()),
            );
        }
        let options = PutOptions {
            attributes,
            ..Default::default()
        };
        self.store
            .put_opts(path, PutPayload::from_bytes(bytes), options)
            .await
            .map_err(|e| Error::storage("write", self.display(path), e))?;
        Ok(())
    }

    /// Read a whole object with its user metadata (see [`Location::write_with_metadata`]);
    /// `None` when the object does not exist. Metadata names are lower case. An object without
    /// metadata of its own takes it from a `<key>`[`METADATA_SUFFIX`] beside it, wherever it
    /// is: a local folder copied to a bucket as it is keeps its metadata.
    pub async fn read_with_metadata(
        &self,
        path: &Path,
    ) -> Result<Option<(Bytes, Vec<(String, String)>)>> {
        let result = match self.store.get(path).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(Error::storage("read", self.display(path), e)),
        };
        let mut metadata: Vec<(String, String)> = result
            .attributes
            .iter()
            .filter_map(|(k, v)| match k {
                Attribute::Metadata(name) => {
                    Some((name.to_ascii_lowercase(), v.as_ref().to_string()))
                }
                _ => None,
            })
            .collect();
        let bytes = result
            .bytes()
            .await
            .map_err(|e| Error::storage("read", self.display(path), e))?;
        if metadata.is_empty() {
            let sidecar = metadata_path(path);
            match self.store.get(&sidecar).await {
                Ok(r) => {
                    let text = r
                        .bytes()
                        .await
                        .map_err(|e| Error::storage("read", self.display(&sidecar), e))?;
                    let pairs: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_slice(&text).map_err(|e| {
                            Error::InvalidInput(format!(
                                "metadata {}: not a JSON object of names and values: {e}",
                                self.display(&sidecar)
                            ))
                        })?;
                    metadata.extend(pairs.into_iter().filter_map(|(k, v)| {
                        v.as_str().map(|v| (k.to_ascii_lowercase(), v.to_string()))
                    }));
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(Error::storage("read", self.display(&sidecar), e)),
            }
        }
        Ok(Some((bytes, metadata)))
    }

    /// Delete an object; a missing object is not an error.
    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::storage("delete", self.display(path), e)),
        }
    }
}

/// The end of the name of the file that holds an object's metadata in a local folder.
pub const METADATA_SUFFIX: &str = ".meta.json";

/// Where a local folder keeps the metadata of the object at `path`.
fn metadata_path(path: &Path) -> Path {
    Path::from(format!("{path}{METADATA_SUFFIX}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_urls_keep_their_prefix() -> Result<()> {
        let options = StorageOptions {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("eu-de".into()),
            access_key_id: Some("k".into()),
            secret_access_key: Some("s".into()),
            ..Default::default()
        };
        let loc = Location::parse("s3://my-bucket/CloudTraces/eu-de", &options)?;
        assert_eq!(loc.url().as_str(), "s3://my-bucket/CloudTraces/eu-de/");
        assert_eq!(loc.root_url().as_str(), "s3://my-bucket/");
        assert_eq!(loc.path("2024/01").as_ref(), "CloudTraces/eu-de/2024/01");
        assert_eq!(
            loc.child("archive").url().as_str(),
            "s3://my-bucket/CloudTraces/eu-de/archive/"
        );
        Ok(())
    }

    #[test]
    fn unknown_schemes_and_missing_buckets_are_clear_errors() {
        let err = Location::parse("gs://b/x", &StorageOptions::default()).map(|_| ());
        assert!(
            matches!(err, Err(Error::InvalidLocation { ref reason, .. }) if reason.contains("unsupported scheme"))
        );
        let err = Location::parse("s3:///x", &StorageOptions::default()).map(|_| ());
        assert!(
            matches!(err, Err(Error::InvalidLocation { ref reason, .. }) if reason.contains("no bucket"))
        );
    }
}
