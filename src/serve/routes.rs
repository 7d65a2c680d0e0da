//! The routes of the API, the request log, and serving until shut down.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::error::{Error, Result};
use crate::serve::api::{ApiError, MAX_BODY_BYTES};
use crate::serve::authorized::authenticate;
use crate::serve::server::Server;
use crate::serve::{legacy, list, notifications, record, sign_in, trackers, transfer, versions};

/// The routes of the API.
pub fn router(server: Arc<Server>) -> Router {
    use axum::routing::post;
    Router::new()
        .route("/health", get(health))
        .route("/", get(versions::list))
        .route("/{version}", get(versions::one))
        .route("/{version}/", get(versions::one))
        .route("/identity/v3", get(sign_in::version))
        .route("/identity/v3/", get(sign_in::version))
        .route(
            "/identity/v3/auth/tokens",
            post(sign_in::issue).get(sign_in::validate),
        )
        .route(
            "/v1.0/{project_id}/tracker",
            get(legacy::get_tracker)
                .post(legacy::create_tracker)
                .delete(legacy::delete_tracker),
        )
        .route(
            "/v1.0/{project_id}/tracker/{tracker_name}",
            axum::routing::put(legacy::update_tracker),
        )
        .route(
            "/v1.0/{project_id}/{tracker_name}/trace",
            get(legacy::traces_v1),
        )
        .route(
            "/v2.0/{project_id}/{tracker_name}/trace",
            get(legacy::traces_v2),
        )
        .route(
            "/v3/{project_id}/tracker",
            post(trackers::create).put(trackers::update),
        )
        .route(
            "/v3/{project_id}/trackers",
            get(trackers::list).delete(trackers::delete),
        )
        .route("/v3/{project_id}/quotas", get(trackers::quotas))
        .route(
            "/v3/{project_id}/notifications",
            post(notifications::create)
                .put(notifications::update)
                .delete(notifications::delete),
        )
        .route(
            "/v3/{project_id}/notifications/{notification_type}",
            get(notifications::list),
        )
        .route(
            "/v3/{project_id}/notifications/{notification_id}/test",
            post(notifications::test),
        )
        .route(
            "/v3/{project_id}/traces",
            get(list::list)
                .post(record::record)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/v3/{project_id}/transfer", post(transfer::run_now))
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                code: "CTS.0100",
                message: "no such API".into(),
            }
        })
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            authenticate,
        ))
        .with_state(server)
}

async fn health(State(server): State<Arc<Server>>) -> impl IntoResponse {
    axum::Json(json!({"status": "ok", "projects": server.projects.len()}))
}

/// One line per request on stderr: method, path (never the query, nor a header), status,
/// milliseconds.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    eprintln!(
        "{} {method} {path} {} {:.1} ms",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Serve the API and `pages` (routes of their own, such as the console's) until `shutdown`
/// resolves: then stop taking connections, let requests in flight finish (each recording is
/// acknowledged only once durable), and stop the transfers.
pub async fn run(
    server: Arc<Server>,
    pages: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(server.config.listen)
        .await
        .map_err(|e| Error::invalid(format!("listen on {}: {e}", server.config.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("listening address: {e}")))?;
    eprintln!(
        "cts serve: listening on http://{address}, {} projects, transfer every {} s",
        server.projects.len(),
        server.config.transfer_interval.as_secs_f64()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let deliveries = tokio::spawn(crate::notify::deliver::run(
        server.delivery.clone(),
        server
            .projects
            .values()
            .map(|p| (p.outbox.clone(), p.deliveries.clone()))
            .collect(),
        server.outbox_written.clone(),
        stopped.clone(),
    ));
    let transfers = tokio::spawn(transfer::run_periodically(server.clone(), stopped));
    let app = pages
        .merge(router(server.clone()))
        .layer(axum::middleware::from_fn(log_request));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::internal(format!("serving: {e}")));
    let _ = stop.send(true);
    let _ = transfers.await;
    let _ = deliveries.await;
    eprintln!("cts serve: stopped");
    served
}
