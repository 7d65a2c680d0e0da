//! What users see: query results in a format ([`format`](mod@format)), Markdown and HTML tables with every
//! value escaped ([`tables`]), the interactive shell ([`shell`]), the compliance reports and
//! the report pack ([`report`]), and export to Parquet ([`export`]).

pub mod export;
pub mod format;
pub mod report;
pub mod shell;
pub mod tables;

pub use format::{Format, write_batches, write_stream};
