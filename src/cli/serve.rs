//! `cts serve`: the configuration from the file and the flags, then the server until Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

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
            buckets,
            transfer_interval,
            cts_region,
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
                all_tokens.insert(token.to_string(), project.to_string());
            }
            if all_tokens.is_empty() {
                return Err(Error::invalid(
                    "no API tokens: give --token TOKEN=PROJECT_ID or \"tokens\" in --config",
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
                buckets: buckets
                    .or(file.buckets)
                    .unwrap_or_else(|| default_buckets.to_string_lossy().into_owned()),
                transfer_interval: interval,
                storage: context.storage.clone(),
                hot: context.hot,
                limits: context.limits,
            };
            let server = cts::serve::Server::open(config).await?;
            cts::serve::run(server, shutdown_signal()).await?;
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
