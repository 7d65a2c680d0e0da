//! # cts: SQL over Cloud Trace Service audit trails
//!
//! Cloud Trace Service (CTS, on Huawei Cloud, Open Telekom Cloud and Flexible Engine) records
//! every operation on a tenant's resources as a *trace* and delivers trace files (JSON arrays,
//! usually `.json.gz`) to an OBS bucket. [`cts_core`] turns those files into a Parquet archive
//! and a seven-day hot store; this crate answers SQL over both and serves what users see.
//!
//! Data flows one way: sources → decode → stores ([`cts_core`]) → query → outputs. Here, one
//! module per stage, each using only those above it in this table (and [`cts_core`]):
//!
//! | stage | module |
//! |---|---|
//! | what can go wrong, and where; secrets that are never printed | [`error`], [`secret`] |
//! | one DataFusion session that knows `traces` (hot store and archive), `hot_traces`, `archive_traces` | [`query`] |
//! | results as table, CSV, JSON, Markdown, HTML; the shell; compliance reports; export | [`output`] |
//! | key-event notifications: rules, matching, the outbox, delivery, replay | [`notify`] |
//! | the CTS API: trackers, notifications, recording, trace list, transfer to buckets, sign-in | [`serve`] |
//! | the console: pages to search and view traces, charts, reports, SQL, trackers | [`console`] |
//!
//! The command line (`src/main.rs`, `src/cli/`) is a thin layer over these.

pub mod console;
pub mod error;
pub mod notify;
pub mod output;
pub mod query;
pub mod secret;
pub mod serve;

pub use error::{Error, Result};
