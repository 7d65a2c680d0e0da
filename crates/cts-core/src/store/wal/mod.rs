//! The hot store's write-ahead log: batches of traces appended to one file ([`LogWriter`]) and
//! made durable with `fsync` before they are acknowledged; read back up to the last whole
//! frame ([`read_log`]).
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

mod frame;
mod log;

pub use frame::{LogContents, decode_frames, encode_frame};
pub use log::{LogWriter, read_log};
