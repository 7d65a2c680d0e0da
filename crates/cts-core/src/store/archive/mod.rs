//! The archive: plain Hive-partitioned Parquet that DuckDB, Spark, Trino and Athena read as it
//! is, plus the bookkeeping that makes loading incremental and exactly-once.
//!
//! ```text
//! <archive>/traces/day=YYYY-MM-DD/part-<run>-<n>.parquet   traces, zstd, sorted by time
//! <archive>/traces/day=YYYY-MM-DD/compact-<run>.parquet    a day merged by compaction, by time
//! <archive>/traces/day=YYYY-MM-DD/compact-<run>.json       its commit: the files it replaces
//! <archive>/_cts/manifest/<run>-<n>.ndjson                 every source file loaded or failed
//! <archive>/_cts/rejects/<md5 of file URL and ETag>.ndjson records set aside, with their JSON
//! <archive>/_cts/lease/<generation>.json                   who adds traces now ([`Lease`])
//! ```
//!
//! Every object is written whole under its final name (object stores' PUT is atomic; local
//! writes go through a temporary file and a rename), data before manifest: a crash leaves at
//! most traces whose manifest entry is missing, and the next run re-reads those files and drops
//! their traces as duplicates ([`crate::store::once`]).
//!
//! | file | what |
//! |---|---|
//! | `files.rs` | [`Archive`]: day folders, their visible files, their trace IDs, writing days |
//! | `parquet.rs` | how cts writes Parquet ([`writer_properties`], the row order) and reads it by ranges |
//! | `manifest.rs` | [`Manifest`]: the source files read, for incremental loads |
//! | `rejects.rs` | records set aside |
//! | `visible.rs` | the visibility rule ([`visible`], [`VisibleStore`]) |
//! | `compact.rs` | merging each day into one file ([`compact`]) |
//! | `merge.rs` | merging files sorted by time into one stream sorted by time |
//! | `lease.rs` | one writer at a time adds traces ([`Lease`]) |

mod compact;
mod files;
mod lease;
mod manifest;
mod merge;
mod parquet;
mod rejects;
mod visible;

pub use compact::{CompactOptions, CompactSummary, compact};
pub use files::{Archive, ArchiveIds, FORMAT_VERSION, MARKER, TRACES_DIR, WrittenFile};
pub use lease::{Holder, LEASE_DIR, LEASE_TTL, Lease, WaitNotice};
pub use manifest::{MANIFEST_DIR, Manifest, ManifestEntry, Outcome};
pub use parquet::{RowOrder, encode_parquet, row_order, writer_properties};
pub use rejects::{REJECTS_DIR, rejects_name};
pub use visible::{Record, VisibleStore, visible};
