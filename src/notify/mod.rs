//! Key-event notifications (cts-spec.md §3.6): which recorded traces fire which notification, and
//! getting the message to its receiver at least once.
//!
//! | file | what |
//! |---|---|
//! | `book.rs` | [`Notification`](book::Notification), its rules ([`book::check`]), `notifications.json` |
//! | `matcher.rs` | [`Matcher`](matcher::Matcher): the enabled notifications, compiled; which a trace fires |
//! | `outbox.rs` | [`Outbox`](outbox::Outbox): the messages, durable before their traces are acknowledged |
//! | `deliver.rs` | [`Delivery`](deliver::Delivery): to the configured topics, signed, retried |
//! | `log.rs` | the delivery log, and the table `notification_deliveries` |
//! | `replay.rs` | what a notification would have sent over traces already stored |
//!
//! The API (`crate::serve`) creates and changes notifications; recording through the API and
//! `cts ingest` write the messages their traces fire to the project's outbox before appending
//! the traces; `cts serve` delivers them.

pub mod book;
pub mod deliver;
pub mod log;
pub mod matcher;
pub mod outbox;
pub mod replay;
