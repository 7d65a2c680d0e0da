//! The hot store: the last days of traces (seven by default), appended as they happen, durable
//! once acknowledged, visible to queries at once, and aged into the archive.
//!
//! ```text
//! <data-dir>/hot/state.json                        the current state (replaced atomically)
//! <data-dir>/hot/wal/<n>.wal                       the write-ahead log ([`crate::store::wal`])
//! <data-dir>/hot/traces/day=YYYY-MM-DD/seg-*.parquet  flushed segments (with a `day` column)
//! <data-dir>/hot/LOCK                              held by the one writer of the moment
//! ```
//!
//! **The watermark.** The state holds a time `H`. The hot store answers for traces at `H` and
//! later, the archive for traces before `H`; `traces` is the one plus the other, so no trace is
//! counted in both. Every writer routes by it: an appended or loaded trace at `H` or later goes
//! to the hot store, an older one to the archive (each deduplicated by `trace_id` within the day
//! of its `time`, by [`crate::store::once`]). Roll-over raises `H` to *now − retention* after
//! copying the traces below the new `H` into the archive, so a trace is in the archive before it
//! leaves the hot store.
//!
//! **Writers** take `LOCK` (an OS file lock, so processes take turns), read the state, and,
//! when another process wrote since their last turn, re-read the trace IDs of the hot store.
//! Appends within one process are committed in groups: one log write and one `fsync` for every
//! append waiting when the log is free.
//!
//! **Readers** take no lock: they read the state, then the log, then the state again, and retry
//! when it changed, which gives a consistent [`Snapshot`]. Files a reader may still be reading
//! are deleted only a grace period after they left the state.
//!
//! **Crash safety.** Each step writes new files first and then replaces `state.json`; a crash
//! before the replace leaves files no state names (removed by the next maintenance), a crash
//! after it leaves files the state no longer names (likewise). Roll-over is repeatable: a
//! second run finds the copied traces in the archive and adds nothing.
//!
//! | file | what |
//! |---|---|
//! | `state.rs` | the files, [`HotState`] and [`HotOptions`] |
//! | `store.rs` | [`HotStore`]: open, append (group commit), maintain |
//! | `writer.rs` | [`HotWriter`]: the lock, catching up, committing appends |
//! | `maintain.rs` | flush, roll-over, merging segments, removing unused files |
//! | `segment.rs` | segment files and the hot store's schemas |
//! | `snapshot.rs` | lock-free consistent reads for queries ([`snapshot`]) |

mod maintain;
mod segment;
mod snapshot;
mod state;
mod store;
mod writer;

#[cfg(test)]
mod tests;

pub use segment::{hot_query_schema, hot_schema};
pub use snapshot::{Snapshot, snapshot};
pub use state::{HOT_DIR, HotOptions, HotState, Obsolete, Segment};
pub use store::{HotStore, MaintenanceSummary};
pub use writer::{AppendSummary, HotWriter};
