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
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
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

    /// Write a whole object. It appears under its name complete or not at all (local writes go
    /// through a temporary file and a rename; S3 PUTs are atomic).
    pub async fn write(&self, path: &Path, bytes: Bytes) -> Result<()> {
        self.store
            .put(path, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| Error::storage("write", self.display(path), e))?;
        Ok(())
    }

    /// Delete an object; a missing object is not an error.
    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::storage("delete", self.display(path), e)),
        }
    }
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
