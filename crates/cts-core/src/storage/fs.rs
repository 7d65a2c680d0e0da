//! Local files written so that a crash leaves the old content or the new, never a part: the
//! one place where cts writes, replaces and removes files on a local disk durably.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Run blocking file work from async code: on a multi-threaded runtime without stalling the
/// other tasks of its thread; elsewhere, as it is.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Make a directory's entries (files created, renamed or removed in it) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync folder", dir, e))
}

/// Write `bytes` to `path` durably and atomically: a temporary file, synced, renamed over the
/// target, and the folder synced. Readers see the old content or the new, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no folder", path.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write", path, e));
    }
    sync_dir(dir)
}

/// Remove a file and make its removal durable; `false` when there was none.
pub fn remove_file_if_exists(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Files under `dir`, recursively; none when it does not exist.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("list", &d, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &d, e))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Remove what a killed writer left of local writes: object_store stages a local write as
/// `<name>#<digits>` and renames it when complete; such files are never listed, and only a
/// process that died mid-write leaves them. Safe while no other process writes into `dir`.
pub fn remove_staging_files(dir: &Path) -> Result<usize> {
    remove_staging_files_of(dir, &|_| true)
}

/// [`remove_staging_files`] for the staged files whose final name `which` selects.
pub fn remove_staging_files_of(dir: &Path, which: &dyn Fn(&str) -> bool) -> Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        let is_dir = entry
            .file_type()
            .map_err(|e| Error::io("inspect", &path, e))?
            .is_dir();
        if is_dir {
            removed += remove_staging_files_of(&path, which)?;
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let staged = name.rsplit_once('#').filter(|(final_name, n)| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && which(final_name)
        });
        if staged.is_some() {
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("create", "a temporary folder", e))?;
        let path = dir.path().join("sub").join("state.json");
        write_atomic(&path, b"old")?;
        write_atomic(&path, b"new")?;
        assert_eq!(std::fs::read(&path).ok().as_deref(), Some(&b"new"[..]));
        assert_eq!(list_files(dir.path())?, vec![path.clone()]);
        assert!(remove_file_if_exists(&path)?);
        assert!(!remove_file_if_exists(&path)?);
        assert!(list_files(dir.path())?.is_empty());
        Ok(())
    }

    #[test]
    fn only_staged_writes_are_swept() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("create", "a temporary folder", e))?;
        let day = dir.path().join("traces").join("day=2024-06-29");
        std::fs::create_dir_all(&day).map_err(|e| Error::io("create", &day, e))?;
        for name in ["part-1.parquet", "part-2.parquet#17", "odd#name", "x#"] {
            std::fs::write(day.join(name), b"x").map_err(|e| Error::io("write", name, e))?;
        }
        assert_eq!(remove_staging_files(dir.path())?, 1);
        let mut left: Vec<String> = list_files(dir.path())?
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        left.sort();
        assert_eq!(left, ["odd#name", "part-1.parquet", "x#"]);
        Ok(())
    }
}
