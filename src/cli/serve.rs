//! `cts serve`: the configuration from the file and the flags, then the server (the API and
//! the console) until Ctrl-C or SIGTERM; `cts ui`: the console over the local data directory.

use std::process::ExitCode;
use std::time::Duration;

use cts::console::{Backend, Console, LocalData};
use cts::serve::{Credential, Secret};
use cts::{Error, Result};

use crate::cli::args::Command;
use crate::cli::context::Context;

/// Run `cts serve`.
pub(crate) async fn run(command: Command, context: &Context) -> Result<ExitCode> {
    match command {
        Command::Serve {
            config,
            listen,
            tokens,
            credentials,
            keystone,
            buckets,
            transfer_interval,
            cts_region,
            signing_key,
            digest_interval,
        } => {
            let file = match &config {
                Some(path) => cts::serve::ConfigFile::read(path)?,
                None => cts::serve::ConfigFile::default(),
            };
            let mut all_tokens = file.tokens;
            for t in tokens {
                let (token, project) = t.split_once('=').ok_or_else(|| {
                    Error::invalid(format!("--token {t:?}: write TOKEN=PROJECT_ID"))
                })?;
                all_tokens.insert(Secret::new(token), project.to_string());
            }
            let mut all_credentials = file.credentials;
            for c in credentials {
                let parsed = c
                    .split_once('=')
                    .and_then(|(keys, project)| Some((keys.split_once(':')?, project)));
                let Some(((access, secret), project)) = parsed else {
                    // The value holds a secret key: not repeated in the message.
                    return Err(Error::invalid(
                        "--credential: write ACCESS_KEY:SECRET_KEY=PROJECT_ID",
                    ));
                };
                all_credentials.insert(
                    access.to_string(),
                    Credential {
                        secret: Secret::new(secret),
                        project_id: project.to_string(),
                    },
                );
            }
            let keystone = keystone.or(file.keystone);
            if all_tokens.is_empty()
                && all_credentials.is_empty()
                && file.users.is_empty()
                && keystone.is_none()
            {
                return Err(Error::invalid(
                    "no way to call the API: give --token TOKEN=PROJECT_ID, --credential \
                     AK:SK=PROJECT_ID, --keystone URL, or tokens, credentials or users in --config",
                ));
            }
            let interval = match (transfer_interval, file.transfer_interval_seconds) {
                (Some(d), _) => d,
                (None, Some(s)) => Duration::try_from_secs_f64(s)
                    .map_err(|e| Error::invalid(format!("transfer_interval_seconds {s}: {e}")))?,
                (None, None) => Duration::from_secs(300),
            };
            let default_buckets = context.data_dir.join("buckets");
            let config = cts::serve::ServeConfig {
                listen: listen
                    .or(file.listen)
                    .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
                data_dir: context.data_dir.clone(),
                region: cts_region
                    .or(file.region)
                    .unwrap_or_else(|| "eu-de".to_string()),
                tokens: all_tokens,
                credentials: all_credentials,
                users: file.users,
                token_lifetime: Duration::from_secs(file.token_lifetime_seconds.unwrap_or(86_400)),
                keystone,
                projects: file.projects,
                public_url: file.public_url,
                topics: file.topics,
                retry: cts::notify::deliver::Retry {
                    give_up_after: Duration::from_secs(
                        file.notification_retry_seconds.unwrap_or(86_400),
                    ),
                    ..Default::default()
                },
                buckets: buckets
                    .or(file.buckets)
                    .unwrap_or_else(|| default_buckets.to_string_lossy().into_owned()),
                transfer_interval: interval,
                digest_interval,
                signing_key: signing_key.or(file.signing_key),
                storage: context.storage.clone(),
                hot: context.hot,
                limits: context.limits,
            };
            let server = std::sync::Arc::new(cts::serve::Server::open(config).await?);
            let console = Console::new(Backend::Service(server.clone()))?;
            let pages = cts::console::router(std::sync::Arc::new(console));
            cts::serve::run(server, pages, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ui { listen } => {
            if !listen.ip().is_loopback() {
                return Err(Error::invalid(format!(
                    "--listen {listen}: cts ui has no sign-in, so it listens on a loopback \
                     address only (127.0.0.1 or [::1]); use cts serve to share traces"
                )));
            }
            let local = LocalData {
                archive: context.archive()?,
                hot: context.hot_dir(),
                limits: context.limits,
            };
            let console = Console::new(Backend::Local(local))?;
            let app = cts::console::router(std::sync::Arc::new(console));
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| Error::invalid(format!("listen on {listen}: {e}")))?;
            let address = listener
                .local_addr()
                .map_err(|e| Error::internal(format!("listening address: {e}")))?;
            eprintln!("cts ui: open http://{address}/console/ (Ctrl-C stops)");
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| Error::internal(format!("serving: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::HashPassword => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| {
                Error::invalid(format!("reading the password from standard input: {e}"))
            })?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(Error::invalid(
                    "no password on standard input: echo 'PASSWORD' | cts hash-password",
                ));
            }
            println!("{}", cts::serve::auth::password::hash(password)?);
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Error::internal(format!("not the serve command: {other:?}"))),
    }
}

/// Resolves at Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
