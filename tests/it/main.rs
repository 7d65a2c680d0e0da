//! The integration tests of `cts`, in one binary: queries, the shell, reports, export, the
//! command line as a user runs it (kill -9 included), and `cts serve` over real HTTP.

mod cli;
mod common;
mod crash;
mod export;
mod hot;
mod ingest;
mod load;
mod reports;
mod s3;
mod serve;
mod shell;
