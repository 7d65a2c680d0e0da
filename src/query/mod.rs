//! SQL over the hot store and the archive: one DataFusion [`SessionContext`] that knows
//! `traces`.
//!
//! The session is a plain `SessionContext` (so it can later run on Ballista) with:
//! - `traces`: the hot store's traces at or after its watermark and the archive's before it,
//!   each trace once; `hot_traces` and `archive_traces` are each tier alone;
//! - `attributed_traces`: `traces` with who did each (`operator`, `domain`), which the reports
//!   read;
//! - `trace_files`: the archive's manifest, every source file a load read, what became of it
//!   and what its digest said of it;
//! - a predicate on `time` prunes the archive's day partitions and skips a tier, so a query on
//!   one week never opens the files of other weeks;
//! - the JSON functions of `datafusion-functions-json` (`json_get_str(request, 'key')`, ...);
//! - the archive's object store, seen through the visibility rule of
//!   [`cts_core::store::archive::visible`].
//!
//! The same tables can be read on a Ballista cluster (`cluster/`): the archive only, as a plain
//! listing table, with the same functions and views.
//!
//! | file | what |
//! |---|---|
//! | `cluster/` | [`cluster::cluster_session`]: a session that runs on a Ballista cluster (`cancel.rs`: a query stopped early cancels its job); the scheduler and executors cts runs (`processes.rs`) |
//! | `session.rs` | [`session_with`]: the session and its tables |
//! | `limits.rs` | [`QueryLimits`]: memory and time a query may use |
//! | `pages.rs` | [`pages::page`]: pages of traces, newest first, by marker (the trace list, the console) |
//! | `tables.rs` | the archive table, the hot table, `traces`, the manifest's entries |
//! | `time.rs` | bounds on `time` in filters, and day bounds from them |

pub mod cluster;
mod limits;
pub mod pages;
mod session;
mod tables;
mod time;

pub use limits::{QueryLimits, read_only};
pub use session::{
    ARCHIVE_TABLE, ATTRIBUTED_VIEW, HOT_TABLE, TRACE_FILES_VIEW, TRACES_TABLE, register_location,
    session, session_with,
};
pub use tables::{
    DayPrunedTable, HotTable, TieredTable, archive_listing_table, archive_table, manifest_table,
    plan_text,
};
pub use time::{time_range, ts_literal, with_day_bounds};

#[cfg(doc)]
use datafusion::prelude::SessionContext;
