//! # cts: SQL over Cloud Trace Service audit trails
//!
//! Cloud Trace Service (CTS, on Huawei Cloud, Open Telekom Cloud and Flexible Engine) records
//! every operation on a tenant's resources as a *trace* and delivers trace files (JSON arrays,
//! usually `.json.gz`) to an OBS bucket. This crate turns those files into a Parquet archive
//! and answers SQL over it.
//!
//! Data flows one way, one module per stage:
//!
//! | stage | module |
//! |---|---|
//! | where objects live (local folders, S3/OBS) | [`storage`] |
//! | which objects are trace files | [`layout`], [`source`] |
//! | JSON trace files to Arrow, every variant | [`decode`], [`model`] |
//! | the Parquet archive and its manifest | [`archive`] |
//! | merging each archive day into one file, crash-safe | [`compact`] |
//! | the seven-day hot store: write-ahead log, segments, roll-over | [`hot`], [`wal`] |
//! | loading: incremental, exactly-once, parallel | [`load`] |
//! | ingesting traces as they happen | [`ingest`] |
//! | SQL over `traces` (hot store and archive), `hot_traces`, `archive_traces` | [`query`] |
//! | results as table, CSV, JSON, Markdown, HTML | [`output`] |
//! | compliance reports and the report pack | [`report`] |
//! | batch export to Parquet | [`export`] |
//! | the interactive SQL shell | [`shell`] |
//! | the CTS API: trackers, recording, trace list, transfer to buckets | [`serve`] |
//! | sample buckets | [`sample`] |
#![warn(missing_docs)]
#![deny(clippy::unwrap_used)]

pub mod archive;
pub mod compact;
pub mod decode;
pub mod error;
pub mod export;
pub mod hot;
pub mod ingest;
pub mod layout;
pub mod load;
pub mod model;
pub mod output;
pub mod query;
pub mod report;
pub mod sample;
pub mod serve;
pub mod shell;
pub mod source;
pub mod storage;
pub mod wal;

pub use error::{Error, Result};
