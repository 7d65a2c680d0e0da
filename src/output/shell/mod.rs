//! `cts shell`: an interactive SQL shell over the session of [`crate::query`].
//!
//! At a terminal it edits lines (with [`rustyline`]), keeps a history file, completes table,
//! column and function names with Tab, and runs statements as they are ended with `;`. Ctrl-C
//! cancels a running query; at the prompt it clears the line; Ctrl-D quits.
//!
//! When standard input is not a terminal it reads all of it, runs each statement in order,
//! prints results to standard output and errors to standard error (`error: ...`), and fails
//! with [`Error::Script`](crate::Error::Script) when any statement failed.
//!
//! Read-only by default: statements that create, change or copy data, or change settings, are
//! refused (with DataFusion's `SQLOptions`) unless [`ShellOptions::write`] is set.
//!
//! | file | what |
//! |---|---|
//! | `repl.rs` | [`run`]: the loop at a terminal or over piped input |
//! | `session.rs` | running statements and meta-commands, read-only checks |
//! | `meta.rs` | the meta-commands: names, arguments, help, parsing ([`Meta`]) |
//! | `split.rs` | splitting input into statements ([`Splitter`]) |
//! | `complete.rs` | Tab completion ([`complete`]) |
//! | `interrupt.rs` | Ctrl-C cancels the running query |

mod complete;
mod interrupt;
mod meta;
mod repl;
mod session;
mod split;

pub use complete::{Words, complete, completion_words};
pub use meta::{Meta, MetaCommand, help_text};
pub use repl::{CONTINUATION, PROMPT, run};
pub use session::ShellOptions;
pub use split::{Item, Splitter};
