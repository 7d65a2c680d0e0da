//! The hot store's write-ahead log: batches of traces appended to one file and made durable
//! with `fsync` before they are acknowledged.
//!
//! A log file is a sequence of frames:
//!
//! ```text
//! "CTSW" | payload length (u32, little-endian) | CRC-32 of payload (u32, LE) | payload
//! ```
//!
//! where the payload is one Arrow IPC stream holding one batch of traces. A writer killed
//! mid-append leaves a torn last frame; readers stop at the first frame that is short or fails
//! its checksum, and the next writer cuts the file back to the last whole frame before it
//! appends. Only frames written and synced before an acknowledgement are promised to survive.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"CTSW";
const HEADER: usize = 12;

/// What a log file holds.
#[derive(Debug, Default)]
pub struct LogContents {
    /// The batches of its whole frames, in order.
    pub batches: Vec<RecordBatch>,
    /// Bytes of whole frames: where the next frame goes.
    pub valid_len: u64,
    /// Bytes after the last whole frame (a torn append).
    pub torn_bytes: u64,
}

/// Encode one batch as a frame.
pub fn encode_frame(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut payload = Vec::new();
    {
        let mut writer = StreamWriter::try_new(&mut payload, &batch.schema())
            .map_err(|e| Error::arrow("write-ahead log frame", e))?;
        writer
            .write(batch)
            .map_err(|e| Error::arrow("write-ahead log frame", e))?;
        writer
            .finish()
            .map_err(|e| Error::arrow("write-ahead log frame", e))?;
    }
    let len = u32::try_from(payload.len()).map_err(|_| {
        Error::InvalidInput(format!(
            "a batch of {} rows is {} bytes, too large for one log frame (4 GiB)",
            batch.num_rows(),
            payload.len()
        ))
    })?;
    let mut frame = Vec::with_capacity(HEADER + payload.len());
    frame.extend_from_slice(MAGIC);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Decode the whole frames at the start of `bytes` (read from `path`, named in errors).
///
/// A short or corrupt frame ends the log (it is a torn append); a frame whose checksum holds
/// but whose payload is not a batch is an error, since no writer of ours leaves one.
pub fn decode_frames(bytes: &[u8], path: &Path) -> Result<LogContents> {
    let mut contents = LogContents::default();
    let mut at = 0usize;
    while let Some(header) = bytes.get(at..at + HEADER) {
        if &header[..4] != MAGIC {
            break;
        }
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let crc = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        let Some(payload) = bytes.get(at + HEADER..at + HEADER + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let reader = StreamReader::try_new(std::io::Cursor::new(payload), None)
            .map_err(|e| Error::arrow(format!("{} at byte {at}", path.display()), e))?;
        for batch in reader {
            contents.batches.push(
                batch.map_err(|e| Error::arrow(format!("{} at byte {at}", path.display()), e))?,
            );
        }
        at += HEADER + len;
    }
    contents.valid_len = at as u64;
    contents.torn_bytes = (bytes.len() - at) as u64;
    Ok(contents)
}

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

#[cfg(test)]
mod tests {
    use super::*;
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
