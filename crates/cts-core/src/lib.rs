//! # cts-core: the data path of cts, without a query engine
//!
//! Cloud Trace Service (CTS) delivers trace files (JSON arrays, usually `.json.gz`) to an OBS
//! bucket. This crate turns them into one trace model and keeps each trace once in a
//! write-ahead log, a seven-day hot store and a Parquet archive. Querying them is the `cts`
//! crate's part; this one links no query engine.
//!
//! Data flows one way, one module per stage, each using only those above it in this table:
//!
//! | stage | module |
//! |---|---|
//! | what can go wrong, and where | [`error`] |
//! | where the tests stop a process on purpose | [`failpoint`] |
//! | the trace model: record, Arrow schema, days | [`trace`] |
//! | where objects live: local folders, S3/OBS; durable local files | [`storage`] |
//! | which objects are trace files, listing a source | [`source`] |
//! | digest files: signing, chains, verifying a bucket | [`integrity`] |
//! | JSON trace files to Arrow, every variant | [`decode`] |
//! | keeping each trace once; the log, the hot store, the archive | [`store`] |
//! | loading trace files: incremental, exactly once, parallel | [`load`] |
//! | ingesting traces as they happen | [`ingest`] |

pub mod decode;
pub mod error;
pub mod failpoint;
pub mod ingest;
pub mod integrity;
pub mod load;
pub mod source;
pub mod storage;
pub mod store;
pub mod trace;

pub use error::{Error, Result};
