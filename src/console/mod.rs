//! The console: pages where people search and view traces, see charts of a search, run the
//! reports, ask SQL and, under `cts serve`, manage trackers.
//!
//! Served by `cts serve` at `/console/` for each project (signed in with the credentials the
//! API takes), and by `cts ui` over a local data directory (loopback only, no sign-in, no
//! tracker pages). Pages are rendered on the server from templates compiled into the binary;
//! they carry no script, and every asset is served from here. Every value from a trace is
//! escaped where it is shown, pages send a Content-Security-Policy, forms that change anything
//! carry a CSRF token, and the session cookie is `HttpOnly` and `SameSite=Strict`.
//!
//! | file | what |
//! |---|---|
//! | `access.rs` | who is looking ([`Viewer`]): sign-in, the session cookie, CSRF tokens, the headers of every page |
//! | `page.rs` | what every page shares: the layout, error pages, result tables |
//! | `search.rs` | the trace list: filters from the URL, pages, one trace, downloads |
//! | `charts.rs` | charts of a search |
//! | `reports.rs` | the reports: list, run, CSV, the pack |
//! | `sql.rs` | the read-only SQL page |
//! | `trackers.rs` | the tracker pages (`cts serve` only) |
//! | `notifications.rs` | the key-event notification pages (`cts serve` only) |
//! | `templates/` | the pages and `style.css` |

mod access;
mod charts;
mod notifications;
mod page;
mod reports;
mod search;
mod sql;
mod trackers;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use cts_core::store::archive::Archive;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::query::QueryLimits;
use crate::serve::Server;

pub use access::Viewer;

/// Where the console's traces come from.
#[derive(Debug)]
pub enum Backend {
    /// `cts serve`: each signed-in person sees their project.
    Service(Arc<Server>),
    /// `cts ui`: one local data directory, no sign-in.
    Local(LocalData),
}

/// A local data directory, as `cts ui` serves it.
#[derive(Debug)]
pub struct LocalData {
    /// The archive.
    pub archive: Archive,
    /// The hot store's folder.
    pub hot: PathBuf,
    /// What one query may use.
    pub limits: QueryLimits,
}

/// The console's state.
#[derive(Debug)]
pub struct Console {
    backend: Backend,
    access: access::Access,
}

impl Console {
    /// A console over `backend`.
    pub fn new(backend: Backend) -> Result<Console> {
        Ok(Console {
            backend,
            access: access::Access::new()?,
        })
    }

    /// What one query may use.
    fn limits(&self) -> QueryLimits {
        match &self.backend {
            Backend::Service(server) => server.config.limits,
            Backend::Local(local) => local.limits,
        }
    }

    /// A session over the traces `viewer` may see, with the reports as views.
    async fn session(&self, viewer: &Viewer) -> Result<SessionContext> {
        let ctx = match (&self.backend, &viewer.project) {
            (Backend::Service(server), Some(project)) => {
                crate::query::session_with(
                    project.archive(),
                    Some(&project.dir.join(cts_core::store::hot::HOT_DIR)),
                    &server.config.limits,
                )
                .await?
            }
            (Backend::Local(local), _) => {
                crate::query::session_with(&local.archive, Some(&local.hot), &local.limits).await?
            }
            (Backend::Service(_), None) => {
                return Err(crate::error::Error::internal("a viewer without a project"));
            }
        };
        crate::output::report::register_views(&ctx)?;
        Ok(ctx)
    }
}

/// The console's routes, under `/console/`.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/traces") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/traces") }),
        )
        .route("/console/style.css", get(page::style))
        .route(
            "/console/sign-in",
            get(access::sign_in_page).post(access::sign_in),
        )
        .route("/console/sign-out", post(access::sign_out))
        .route("/console/traces", get(search::list))
        .route("/console/traces/{trace_id}", get(search::one))
        .route("/console/charts", get(charts::page))
        .route("/console/reports", get(reports::list))
        .route("/console/reports/{name}", get(reports::run))
        .route("/console/pack", get(reports::pack))
        .route("/console/sql", get(sql::page))
        .route("/console/trackers", get(trackers::list))
        .route(
            "/console/trackers/new",
            get(trackers::new_form).post(trackers::create),
        )
        .route(
            "/console/trackers/{name}",
            get(trackers::edit_form).post(trackers::update),
        )
        .route(
            "/console/trackers/{name}/status",
            post(trackers::set_status),
        )
        .route("/console/trackers/{name}/delete", post(trackers::delete))
        .route("/console/notifications", get(notifications::list))
        .route(
            "/console/notifications/{id}/status",
            post(notifications::set_status),
        )
        .route(
            "/console/notifications/{id}/delete",
            post(notifications::delete),
        )
        .layer(axum::middleware::from_fn(access::page_headers))
        .with_state(console)
}
