//! Prebuilt compliance reports: one SQL query per file under `sql/reports/`, built into the
//! binary, each with a header that names it and its parameters:
//!
//! ```sql
//! -- name: root_account_activity
//! -- title: Root account activity
//! -- description: What it finds and why it matters.
//! -- requirements: PCI DSS 10.2.1.2
//! -- kind: detection
//! -- param: from = now() - interval '30 days' | Start of the time range (inclusive)
//! -- param: to = now() | End of the time range (exclusive)
//! SELECT ... WHERE time >= CAST({{from}} AS TIMESTAMP) AND time < CAST({{to}} AS TIMESTAMP)
//! ```
//!
//! `{{name}}` becomes the value a user gave, as a quoted SQL string, or else the default as
//! written in the header (SQL text). Detection reports return the uniform finding row first:
//! `time, service_type, resource_type, resource_name, trace_name, trace_rating, operator,
//! domain, source_ip, trace_id`.

//!
//! | file | what |
//! |---|---|
//! | `catalog.rs` | the built-in reports, parsed ([`Report`], [`builtin`], [`find`]) |
//! | `run.rs` | running one ([`run`]); every report as a view, planned when first named ([`register_views`]) |
//! | `pack.rs` | the report pack ([`pack`]) |

mod catalog;
mod pack;
mod run;

pub use catalog::{Kind, Param, Report, builtin, builtin_names, find};
pub use pack::{PackSummary, pack};
pub use run::{register_views, run};
