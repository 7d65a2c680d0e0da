//! A log file: read up to its last whole frame, appended to durably.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::storage::fs::sync_dir;
use crate::store::wal::frame::{LogContents, decode_frames};

/// Read a log file; a missing file is an empty log.
pub fn read_log(path: &Path) -> Result<LogContents> {
    match std::fs::read(path) {
        Ok(bytes) => decode_frames(&bytes, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LogContents::default()),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// A log file open for appending.
#[derive(Debug)]
pub struct LogWriter {
    path: PathBuf,
    file: File,
    len: u64,
}

impl LogWriter {
    /// Open (or create) the log at `path` for appending after its last whole frame, cutting off
    /// a torn append. Returns the writer and what the log held.
    pub fn open(path: &Path) -> Result<(LogWriter, LogContents)> {
        let existed = path.exists();
        let contents = read_log(path)?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        if contents.torn_bytes > 0 {
            file.set_len(contents.valid_len)
                .map_err(|e| Error::io("cut the torn end of", path, e))?;
            file.sync_all().map_err(|e| Error::io("sync", path, e))?;
        }
        file.seek(SeekFrom::Start(contents.valid_len))
            .map_err(|e| Error::io("seek", path, e))?;
        if !existed {
            file.sync_all().map_err(|e| Error::io("sync", path, e))?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
        }
        let writer = LogWriter {
            path: path.to_path_buf(),
            file,
            len: contents.valid_len,
        };
        Ok((writer, contents))
    }

    /// Append frames and sync them to disk: when this returns, they survive a crash.
    pub fn append_durable(&mut self, frames: &[u8]) -> Result<()> {
        let result = self
            .file
            .write_all(frames)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            // Leave no half-written frame for the next append to follow.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(Error::io("append to", &self.path, e));
        }
        self.len += frames.len() as u64;
        Ok(())
    }

    /// Bytes of whole frames in the log.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// `true` when the log holds no frame.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::wal::frame::encode_frame;
    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))])
            .expect("batch")
    }

    #[test]
    fn a_torn_append_is_cut_off_and_whole_frames_survive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("1.wal");
        let (mut log, contents) = LogWriter::open(&path).expect("open");
        assert_eq!(contents.batches.len(), 0);
        log.append_durable(&encode_frame(&batch(&[1, 2])).expect("frame"))
            .expect("append");
        let second = encode_frame(&batch(&[3])).expect("frame");
        log.append_durable(&second).expect("append");
        let whole = log.len();
        drop(log);

        // A crash halfway through a third frame.
        let third = encode_frame(&batch(&[4, 5, 6])).expect("frame");
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(&third[..third.len() / 2]).expect("write");
        drop(file);

        let read = read_log(&path).expect("read");
        assert_eq!(read.batches.len(), 2);
        assert_eq!(read.valid_len, whole);
        assert_eq!(read.torn_bytes, (third.len() / 2) as u64);

        let (mut log, contents) = LogWriter::open(&path).expect("reopen");
        assert_eq!(contents.batches.len(), 2);
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), whole);
        log.append_durable(&encode_frame(&batch(&[7])).expect("frame"))
            .expect("append");
        let read = read_log(&path).expect("read");
        let values: Vec<i64> = read
            .batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .expect("ints")
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(values, vec![1, 2, 3, 7]);
    }

    #[test]
    fn a_corrupt_frame_ends_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("1.wal");
        let mut bytes = encode_frame(&batch(&[1])).expect("frame");
        let mut second = encode_frame(&batch(&[2])).expect("frame");
        let last = second.len() - 1;
        second[last] ^= 0xff;
        bytes.extend_from_slice(&second);
        std::fs::write(&path, &bytes).expect("write");
        let read = read_log(&path).expect("read");
        assert_eq!(read.batches.len(), 1);
        assert_eq!(read.torn_bytes, second.len() as u64);
    }
}
