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
//! | `api.rs` | [`ApiError`], the largest body |
//! | `auth/` | who calls ([`auth::Auth::check`]): tokens, signatures, the identity's users and tokens, Keystone |
//! | `authorized.rs` | [`Authorized`]: the caller, held to the path's project |
//! | `sign_in.rs` | the identity endpoint (Keystone v3: sign in, validate) |
//! | `routes.rs` | the routes ([`router`]), the request log, [`run`] |
//! | `book.rs`, `trackers.rs` | trackers: stored; the tracker calls |
//! | `clock.rs`, `record.rs` | record times; recording |
//! | `list.rs` | the trace list |
//! | `notifications.rs` | key-event notifications: the API (matching and delivery: [`crate::notify`]) |
//! | `transfer.rs` | trace files into the trackers' buckets |
//! | `versions.rs`, `legacy.rs` | the version list; trackers v1.0 and the trace list v1.0/v2.0 |

mod api;
pub mod auth;
mod authorized;
pub mod book;
pub mod clock;
mod config;
pub mod legacy;
pub mod list;
pub mod notifications;
pub mod record;
mod routes;
mod server;
pub mod sign_in;
pub mod trackers;
pub mod transfer;
pub mod versions;

pub use api::{ApiError, MAX_BODY_BYTES};
pub use auth::TokenBook;
pub use authorized::Authorized;
pub use config::{ConfigFile, Credential, Secret, ServeConfig, User, valid_project_id};
pub use routes::{router, run};
pub use server::{Project, Server};
