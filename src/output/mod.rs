//! What users see: query results in a format ([`format`](mod@format)), Markdown and HTML tables with every
//! value escaped ([`tables`]), the interactive shell ([`shell`]), the compliance reports and
//! the report pack ([`report`]), bar charts as inline SVG ([`chart`]), export to Parquet
//! ([`export`]), traces as CTS's JSON ([`trace_json`]), and the statements that read the
//! archive from other engines ([`connect`]).

pub mod chart;
pub mod connect;
pub mod export;
pub mod format;
pub mod report;
pub mod shell;
pub mod tables;
pub mod trace_json;

pub use format::{Format, write_batches, write_stream};
