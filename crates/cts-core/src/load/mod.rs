//! Loading trace files into the archive: incremental, exactly-once, parallel, bounded memory.
//!
//! 1. List the source; skip digest files and other objects; skip files the manifest records
//!    as loaded (or failed) with the same size and ETag (`run.rs`).
//! 2. Read and decode the rest in parallel, in groups of files (many small files, or one large
//!    one) decoded into one Arrow batch, `threads` groups at a time, in key order (`read.rs`).
//! 3. Gather decoded files into chunks of about `chunk_json_bytes` of JSON. For each chunk: keep
//!    each trace once ([`crate::store::once`]), write those at or after the hot store's watermark
//!    to its log and the rest into the archive, one Parquet file per day, set rejected records
//!    aside, then record every file of the chunk in a new manifest segment (`commit.rs`).
//!
//! Memory is bounded by the chunk size, the files in flight and the ID sets of the days a chunk
//! touches, not by the size of the bucket.

mod commit;
mod read;
mod run;
mod summary;

pub use run::{LoadOptions, LoadVerify, load, load_listing};
pub use summary::{FileFailure, LoadSummary};
