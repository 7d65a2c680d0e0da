//! Frames: `"CTSW" | length | CRC-32 | Arrow IPC stream of one batch`.

use std::path::Path;

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
