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
//! Every request to a project's routes is authenticated ([`auth`]): an API token, a token of the
//! built-in identity endpoint or of an existing Keystone, or an AK/SK signature as Huawei's SDKs
//! make it; each names one project. The legacy v1.0/v2.0 API ([`legacy`]) answers the clients
//! that still use it (otcextensions' `conn.cts`) from the same trackers and the same trace list.

//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`ServeConfig`], [`ConfigFile`] |
//! | `server.rs` | the state: [`Server`], each [`Project`] |
//! | `api.rs` | [`ApiError`] |
//! | `auth/` | [`Authorized`]: who calls, for which project; tokens, signatures, the identity endpoint |
//! | `routes.rs` | the routes ([`router`]), the request log, [`run`] |
//! | `book.rs`, `trackers.rs` | trackers: stored; the tracker calls |
//! | `clock.rs`, `record.rs` | record times; recording |
//! | `list.rs` | the trace list |
//! | `transfer.rs` | trace files into the trackers' buckets |
//! | `versions.rs`, `legacy.rs` | the version list; trackers v1.0 and the trace list v1.0/v2.0 |

mod api;
pub mod auth;
pub mod book;
pub mod clock;
mod config;
pub mod legacy;
pub mod list;
pub mod record;
mod routes;
mod server;
pub mod trackers;
pub mod transfer;
pub mod versions;

pub use api::ApiError;
pub use auth::{Authorized, TokenBook};
pub use config::{ConfigFile, Credential, Secret, ServeConfig, User, valid_project_id};
pub use routes::{MAX_BODY_BYTES, router, run};
pub use server::{Project, Server};
