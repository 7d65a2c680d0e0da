//! `cts notifications`: list, replay a notification over stored traces, send a test message.

use std::io::Write;
use std::process::ExitCode;

use cts::notify::book::NotificationBook;
use cts::notify::outbox::{Message, Outbox};
use cts::notify::replay::replay;
use cts::{Error, Result};

use crate::cli::args::NotificationAction;
use crate::cli::context::{Context, millis};

/// Run `cts notifications ACTION`.
pub(crate) async fn run(action: NotificationAction, context: &Context) -> Result<ExitCode> {
    let book = NotificationBook::open(&context.data_dir)?;
    let named = |name: &str| {
        book.by_name(name).cloned().ok_or_else(|| {
            Error::invalid(format!(
                "no notification {name:?} in {}",
                context.data_dir.display()
            ))
        })
    };
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Error::io("write", "standard output", e);
    match action {
        NotificationAction::List => {
            for n in &book.notifications {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    n.notification_name,
                    n.notification_type,
                    n.operation_type,
                    n.status,
                    n.topic_id.as_deref().unwrap_or("-")
                )
                .map_err(io)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        NotificationAction::Replay { name, from, to } => {
            let n = named(&name)?;
            let from = millis(&from)?;
            let to = match to {
                Some(to) => millis(&to)?,
                None => chrono::Utc::now().timestamp_millis(),
            };
            let ctx = context.session(&context.archive()?).await?;
            let mut fired = 0u64;
            let seen = replay(&ctx, &n, from, to, &mut |trace| {
                fired += 1;
                writeln!(out, "{trace}").map_err(io)
            })
            .await?;
            eprintln!("{fired} of {seen} traces would have fired {name}");
            Ok(ExitCode::SUCCESS)
        }
        NotificationAction::Test { name } => {
            let n = named(&name)?;
            let topic = n.topic_id.clone().ok_or_else(|| {
                Error::invalid(format!("notification {name:?} has no topic_id to send to"))
            })?;
            let now = chrono::Utc::now().timestamp_millis();
            let message = Message::test(&n, topic, now);
            let id = message.message_id.clone();
            let outbox = Outbox::of(&context.data_dir);
            outbox.put(vec![message], now)?;
            writeln!(
                out,
                "test message {id} in {}: cts serve sends it to the topic",
                outbox.dir().display()
            )
            .map_err(io)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
