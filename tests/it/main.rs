//! The integration tests of `cts`, in one binary: queries, the shell, reports, export, the
//! command line as a user runs it, every durable step stopped on purpose, writers at once, and
//! `cts serve` over real HTTP, and its console in a real browser.

mod cli;
mod clients;
mod cluster;
mod common;
mod compat;
mod concurrent;
mod console;
mod engines;
mod export;
mod failpoints;
mod hot;
mod ingest;
mod load;
mod notifications;
mod paging;
mod reports;
mod s3;
mod serve;
mod shell;
mod transfer;
mod verify;
