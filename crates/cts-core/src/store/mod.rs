//! Where traces are kept, each once: the write-ahead log ([`wal`]), the seven-day hot store in
//! front of the archive ([`hot`]), and the Parquet archive ([`archive`]).
//!
//! Every writer keeps a trace once by the one rule in [`once`], and names what one run writes
//! with a [`run::RunId`].

pub mod archive;
pub mod hot;
pub mod once;
pub mod run;
pub mod wal;
