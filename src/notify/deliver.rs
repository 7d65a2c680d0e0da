//! Delivery: each outbox file's messages POSTed to their topics, retried with backoff until the
//! receiver answers 2xx or the retry time runs out (then the failure is logged and kept), the
//! file removed once every message is done.
//!
//! A self-hosted service has no SMN, so a topic is an HTTP(S) endpoint of the configuration
//! (`"topics": {"urn:smn:...": {"url", "secret"}}`). An `smn` message is shaped like SMN's HTTP
//! notification (`type`, `message_id`, `topic_urn`, `subject`, `message` (the trace as JSON
//! text), `timestamp`, `signature`); a `fun` message is `{"cts": <trace>}`, as FunctionGraph's
//! CTS trigger receives. Both carry `X-Cts-Signature: sha256=<hex>`, the HMAC-SHA256 of the body
//! under the topic's secret. Each message is sent by a task of its own, at most
//! [`CONCURRENT`] at once: a slow or hanging receiver delays only its own messages, and never a
//! recording.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cts_core::failpoint;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::notify::log::{DeliveryLog, Entry};
use crate::notify::outbox::{Message, Outbox};
use crate::secret::Secret;

/// Requests in flight at most, all receivers together.
pub const CONCURRENT: usize = 32;
/// Outbox files being delivered at once, at most: the others wait their turn on disk, so a long
/// outage of a receiver costs disk, not memory.
pub const FILES_IN_FLIGHT: usize = 64;
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a topic's messages go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// The receiver: `https://...` or `http://...`.
    pub url: String,
    /// The key of the messages' signatures.
    pub secret: Secret,
}

/// How deliveries retry.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Give up this long after the message was written.
    pub give_up_after: Duration,
    /// The first wait after a failed attempt; each next wait doubles.
    pub first: Duration,
    /// The longest wait.
    pub longest: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            give_up_after: Duration::from_secs(24 * 3600),
            first: Duration::from_secs(1),
            longest: Duration::from_secs(30),
        }
    }
}

/// The topics, the HTTP client and the retry rule.
#[derive(Debug)]
pub struct Delivery {
    client: reqwest::Client,
    topics: BTreeMap<String, Topic>,
    retry: Retry,
    permits: tokio::sync::Semaphore,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hex HMAC-SHA256 of `data` under `secret`.
pub fn hmac_hex(secret: &Secret, data: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.expose().as_bytes());
    hex(ring::hmac::sign(&key, data).as_ref())
}

/// What an SMN-shaped message's `signature` signs (the fields, sorted, as SMN and SNS sign).
pub fn canonical(
    message: &str,
    message_id: &str,
    subject: &str,
    timestamp: &str,
    topic: &str,
) -> String {
    format!(
        "message\n{message}\nmessage_id\n{message_id}\nsubject\n{subject}\ntimestamp\n{timestamp}\n\
         topic_urn\n{topic}\ntype\nNotification\n"
    )
}

/// The body of `message` for `topic` at `now_ms`.
pub fn body(message: &Message, topic: &Topic, now_ms: i64) -> Vec<u8> {
    if message.notification_type == "fun" {
        return json!({ "cts": message.trace }).to_string().into_bytes();
    }
    let field = |name: &str| {
        message
            .trace
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let user = message
        .trace
        .get("user")
        .and_then(|u| u.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let subject = format!(
        "CTS key event {}: {} on {} {} by {user}",
        message.notification_name,
        field("trace_name"),
        field("service_type"),
        field("resource_type"),
    );
    let text = message.trace.to_string();
    let timestamp = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let signed = canonical(
        &text,
        &message.message_id,
        &subject,
        &timestamp,
        &message.topic_id,
    );
    json!({
        "type": "Notification",
        "message_id": message.message_id,
        "topic_urn": message.topic_id,
        "subject": subject,
        "message": text,
        "timestamp": timestamp,
        "notification_name": message.notification_name,
        "notification_id": message.notification_id,
        "signature_version": "hmac-sha256",
        "signature": hmac_hex(&topic.secret, signed.as_bytes()),
    })
    .to_string()
    .into_bytes()
}

impl Delivery {
    /// Delivery to `topics` with `retry`.
    pub fn new(topics: BTreeMap<String, Topic>, retry: Retry) -> Delivery {
        Delivery {
            client: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap_or_default(),
            topics,
            retry,
            permits: tokio::sync::Semaphore::new(CONCURRENT),
        }
    }

    /// Whether `topic` is configured.
    pub fn knows(&self, topic: &str) -> bool {
        self.topics.contains_key(topic)
    }

    /// One attempt: the receiver's status, or why there is none.
    pub async fn send_once(&self, message: &Message) -> Result<u16, (Option<u16>, String)> {
        let Some(topic) = self.topics.get(&message.topic_id) else {
            return Err((
                None,
                format!("the topic {} is not configured", message.topic_id),
            ));
        };
        let body = body(message, topic, chrono::Utc::now().timestamp_millis());
        let signature = format!("sha256={}", hmac_hex(&topic.secret, &body));
        let _permit = self.permits.acquire().await;
        let response = self
            .client
            .post(&topic.url)
            .header("Content-Type", "application/json")
            .header("X-Cts-Signature", signature)
            .header("X-Cts-Message-Id", &message.message_id)
            .body(body)
            .send()
            .await
            .map_err(|e| (None, e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            Ok(status)
        } else {
            Err((Some(status), format!("the receiver answered {status}")))
        }
    }

    /// Deliver `message` (written at `created_ms`) until it is delivered or the retry time runs
    /// out (then it is kept whole in the project's `notifications-failed.jsonl`); every outcome
    /// goes to `log`. `false` when a message given up could not be kept: its outbox file stays.
    pub async fn deliver(&self, message: &Message, created_ms: i64, log: &DeliveryLog) -> bool {
        let mut wait = self.retry.first;
        let give_up = created_ms.saturating_add(
            i64::try_from(self.retry.give_up_after.as_millis()).unwrap_or(i64::MAX),
        );
        for attempt in 1.. {
            let outcome = self.send_once(message).await;
            let now = chrono::Utc::now().timestamp_millis();
            let (kind, status, error) = match &outcome {
                Ok(status) => ("delivered", Some(*status), None),
                Err((status, why)) if now >= give_up => ("failed", *status, Some(why.clone())),
                Err((status, why)) => ("retry", *status, Some(why.clone())),
            };
            log.write(&Entry {
                time: chrono::DateTime::from_timestamp_millis(now)
                    .unwrap_or_default()
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string(),
                message_id: message.message_id.clone(),
                notification_id: message.notification_id.clone(),
                notification_name: message.notification_name.clone(),
                topic_id: message.topic_id.clone(),
                trace_id: message
                    .trace
                    .get("trace_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                outcome: kind.to_string(),
                attempt,
                status: status.map(i64::from),
                error,
            });
            if kind == "failed" {
                return match log.keep_failed(message) {
                    Ok(()) => true,
                    Err(e) => {
                        eprintln!("cts: notifications: {e}");
                        false
                    }
                };
            }
            if kind == "delivered" {
                return true;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.retry.longest);
        }
        false
    }

    /// Deliver every message of the outbox file `path`, each in a task of its own, then remove
    /// the file. Returns the path.
    pub async fn deliver_file(self: Arc<Self>, path: PathBuf, log: Arc<DeliveryLog>) -> PathBuf {
        let batch = match Outbox::read(&path) {
            Ok(batch) => batch,
            Err(e) => {
                // Unreadable (not one of ours, or damaged): kept aside, not retried forever.
                eprintln!("cts: notifications: {e}; moved to {}.bad", path.display());
                let _ = std::fs::rename(&path, path.with_extension("json.bad"));
                return path;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for message in batch.messages {
            let delivery = self.clone();
            let log = log.clone();
            tasks.spawn(async move { delivery.deliver(&message, batch.created_ms, &log).await });
        }
        let mut all_done = true;
        while let Some(done) = tasks.join_next().await {
            all_done &= done.unwrap_or(false);
        }
        if !all_done || failpoint::hit(failpoint::NOTIFY_SENT).is_err() {
            return path;
        }
        if let Err(e) = Outbox::done(&path) {
            eprintln!("cts: notifications: {e}");
        }
        path
    }
}

/// Deliver the outboxes `projects` (each with its delivery log) until `stop` turns true:
/// looks for new files when `wake` is notified (a recording wrote one) and every second.
pub async fn run(
    delivery: Arc<Delivery>,
    projects: Vec<(Outbox, Arc<DeliveryLog>)>,
    wake: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut started: HashSet<PathBuf> = HashSet::new();
    let mut running = tokio::task::JoinSet::new();
    loop {
        // Files whose delivery ended: gone, or (a message could not be kept) tried again.
        while let Some(done) = running.try_join_next() {
            if let Ok(path) = done {
                started.remove(&path);
            }
        }
        'projects: for (outbox, log) in &projects {
            let files = match outbox.pending() {
                Ok(files) => files,
                Err(e) => {
                    eprintln!("cts: notifications: {e}");
                    continue;
                }
            };
            for path in files {
                if running.len() >= FILES_IN_FLIGHT {
                    break 'projects;
                }
                if started.insert(path.clone()) {
                    running.spawn(delivery.clone().deliver_file(path, log.clone()));
                }
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {
                if *stop.borrow() {
                    running.abort_all();
                    return;
                }
            }
        }
    }
}
