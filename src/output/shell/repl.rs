//! The loop: at a terminal, lines edited with [`rustyline`], a history, Tab completion and
//! Ctrl-C; over piped input, a script run statement by statement.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use datafusion::prelude::SessionContext;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::error::{Error, Result};
use crate::output::shell::complete::{ShellHelper, completion_words};
use crate::output::shell::interrupt::Interrupts;
use crate::output::shell::session::{Shell, ShellOptions, Step};
use crate::output::shell::split::{Item, Splitter};
use crate::query::QueryLimits;

/// The prompt for a new statement.
pub const PROMPT: &str = "cts> ";
/// The prompt for the next line of an unfinished statement.
pub const CONTINUATION: &str = "  -> ";

/// Run the shell over `ctx`, each query within `limits`: interactively when standard input is
/// a terminal, otherwise over the statements read from it.
///
/// Interactively, errors are printed and the shell goes on; it returns when the user quits.
/// Over piped input, it returns [`Error::Script`] when any statement failed.
pub async fn run(ctx: &SessionContext, limits: &QueryLimits, options: ShellOptions) -> Result<()> {
    let mut shell = Shell::new(ctx, limits, &options);
    if std::io::stdin().is_terminal() {
        shell.interrupts = Some(Interrupts::listen()?);
        interactive(&mut shell, options.history).await
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("read", "standard input", e))?;
        shell.run_script(&text).await
    }
}

/// Read lines at the terminal until Ctrl-D or `\q`; save the history at the end.
async fn interactive(shell: &mut Shell<'_>, history: Option<PathBuf>) -> Result<()> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)
        .map_err(readline_error)?
        .max_history_size(10_000)
        .map_err(readline_error)?
        .completion_type(CompletionType::List)
        .build();
    let mut editor: LineEditor = Editor::with_config(config).map_err(readline_error)?;
    editor.set_helper(Some(ShellHelper {
        words: completion_words(shell.ctx).await,
    }));
    if let Some(path) = &history
        && path.exists()
        && let Err(e) = editor.load_history(path)
    {
        eprintln!("warning: cannot read the history {}: {e}", path.display());
    }
    eprintln!(
        "cts shell{}: statements end with ';', \\help lists meta-commands, Ctrl-D quits.",
        if shell.write {
            " (writes allowed)"
        } else {
            " (read-only)"
        }
    );
    let (mut editor, result) = read_eval_loop(shell, editor).await;
    if let (Some(editor), Some(path)) = (editor.as_mut(), &history)
        && let Err(e) = editor.save_history(path)
    {
        eprintln!("warning: cannot save the history {}: {e}", path.display());
    }
    result
}

type LineEditor = Editor<ShellHelper, FileHistory>;

/// Read, split and run until Ctrl-D or `\q`. Hands the editor back for its history (none if
/// the thread reading lines failed).
async fn read_eval_loop(
    shell: &mut Shell<'_>,
    mut editor: LineEditor,
) -> (Option<LineEditor>, Result<()>) {
    let mut splitter = Splitter::default();
    // The lines of the statements being entered, for the history.
    let mut entered = String::new();
    loop {
        let prompt = if splitter.is_pending() {
            CONTINUATION
        } else {
            PROMPT
        };
        // The editor waits for keys on a blocking thread, and comes back with the line.
        let read = tokio::task::spawn_blocking(move || {
            let line = editor.readline(prompt);
            (editor, line)
        })
        .await;
        let line;
        (editor, line) = match read {
            Ok(read) => read,
            Err(e) => {
                let e = Error::internal(format!("the line editor stopped: {e}"));
                return (None, Err(e));
            }
        };
        let line = match line {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                splitter.clear();
                entered.clear();
                continue;
            }
            Err(ReadlineError::Eof) => return (Some(editor), Ok(())),
            Err(e) => return (Some(editor), Err(readline_error(e))),
        };
        if !entered.is_empty() {
            entered.push('\n');
        }
        entered.push_str(&line);
        let items = splitter.push(&format!("{line}\n"));
        if !splitter.is_pending() {
            let text = entered.trim();
            if !text.is_empty() {
                // Fails only where history is not kept.
                let _ = editor.add_history_entry(text);
            }
            entered.clear();
        }
        let mut ran_sql = false;
        for item in &items {
            ran_sql |= matches!(item, Item::Sql(_));
            match shell.execute_to_stdout(item).await {
                Ok(Step::Continue) => {}
                Ok(Step::Quit) => return (Some(editor), Ok(())),
                Err(e) if e.io_kind() == Some(std::io::ErrorKind::BrokenPipe) => {
                    return (Some(editor), Err(e));
                }
                Err(e) => shell.report(&e),
            }
        }
        // CREATE and DROP change what there is to complete.
        if ran_sql
            && shell.write
            && let Some(helper) = editor.helper_mut()
        {
            helper.words = completion_words(shell.ctx).await;
        }
    }
}

fn readline_error(e: ReadlineError) -> Error {
    match e {
        ReadlineError::Io(e) => Error::io("read", "the terminal", e),
        other => Error::io("read", "the terminal", std::io::Error::other(other)),
    }
}
