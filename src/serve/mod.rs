//! `cts serve`: the Cloud Trace Service API, self-hosted.
//!
//! Wire-compatible with CTS v3 (cts-spec.md §3): trackers ([`trackers`], kept in [`book`]), the trace list
//! ([`list`]), quotas, errors as `{"error_code": "CTS.0xxx", "error_msg": ...}` (§3.9). Around
//! it: an endpoint through which services record traces ([`record`], stamped by one [`clock`]), and the periodic transfer
//! of trace files into each tracker's bucket in the CTS layout ([`transfer`]).
//!
//! Every project (tenant) has a data directory of its own, `DATA_DIR/projects/<project_id>/`,
//! laid out like any cts data directory (`hot/`, `archive/`) plus `trackers.json`: tenants are
//! isolated by construction, and `cts --data-dir DATA_DIR/projects/<id> sql ...` queries one.
//! Requests carry `X-Auth-Token`; the configuration maps each token to one project.

//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`ServeConfig`], [`ConfigFile`] |
//! | `server.rs` | the state: [`Server`], each [`Project`] |
//! | `api.rs` | [`ApiError`]; [`Authorized`]: the token, the project |
//! | `tokens.rs` | [`TokenBook`]: the tokens, compared in constant time |
//! | `routes.rs` | the routes ([`router`]), the request log, [`run`] |
//! | `book.rs`, `trackers.rs` | trackers: stored; the tracker calls |
//! | `clock.rs`, `record.rs` | record times; recording |
//! | `list.rs` | the trace list |
//! | `transfer.rs` | trace files into the trackers' buckets |
//! | `signature.rs` | AK/SK signatures as Huawei's SDKs make them ([`signature::verify`]) |

mod api;
pub mod book;
pub mod clock;
mod config;
pub mod list;
pub mod record;
mod routes;
mod server;
pub mod signature;
mod tokens;
pub mod trackers;
pub mod transfer;

pub use api::{ApiError, Authorized};
pub use config::{ConfigFile, ServeConfig, valid_project_id};
pub use routes::{MAX_BODY_BYTES, router, run};
pub use server::{Project, Server};
pub use tokens::TokenBook;
