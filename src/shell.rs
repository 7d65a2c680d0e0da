//! `cts shell`: an interactive SQL shell over the session of [`crate::query`].
//!
//! At a terminal it edits lines (with [`rustyline`]), keeps a history file, completes table,
//! column and function names with Tab, and runs statements as they are ended with `;`. Ctrl-C
//! cancels a running query; at the prompt it clears the line; Ctrl-D quits.
//!
//! When standard input is not a terminal it reads all of it, runs each statement in order,
//! prints results to standard output and errors to standard error (`error: ...`), and fails
//! with [`Error::Script`] when any statement failed.
//!
//! Read-only by default: statements that create, change or copy data, or change settings, are
//! refused (with DataFusion's [`SQLOptions`]) unless [`ShellOptions::write`] is set.

use std::collections::BTreeSet;
use std::future::Future;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Editor, Helper};

use crate::error::{Error, Result};
use crate::output::{Format, write_batches, write_stream};
use crate::query::QueryLimits;

/// The prompt for a new statement.
pub const PROMPT: &str = "cts> ";
/// The prompt for the next line of an unfinished statement.
pub const CONTINUATION: &str = "  -> ";

/// The meta-commands, for `\help` and completion: name, arguments, what it does.
const META_COMMANDS: [(&str, &str, &str); 6] = [
    (
        "\\d",
        "TABLE",
        "columns of TABLE: name, type, nullability (no TABLE: as \\dt)",
    ),
    ("\\dt", "", "the tables"),
    (
        "\\timing",
        "[on|off]",
        "print the time each statement took (toggles)",
    ),
    (
        "\\format",
        "FORMAT",
        "output format: table, csv, json, ndjson",
    ),
    ("\\help", "", "this list"),
    ("\\q", "", "quit (Ctrl-D too)"),
];

/// How the shell runs.
#[derive(Debug, Clone, Default)]
pub struct ShellOptions {
    /// Allow statements that create, change or copy data (CREATE, INSERT, COPY, DROP, ...) or
    /// change settings (SET); without it the shell is read-only.
    pub write: bool,
    /// The output format at start (`\format` changes it).
    pub format: Format,
    /// The history file for line editing; none keeps no history.
    pub history: Option<PathBuf>,
}

impl ShellOptions {
    /// `$HOME/.cts_history`, or none when `HOME` is not set.
    pub fn default_history() -> Option<PathBuf> {
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".cts_history"))
    }
}

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

/// What to do after an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Continue,
    Quit,
}

/// The shell's state: the session, the limits and the settings meta-commands change.
struct Shell<'a> {
    ctx: &'a SessionContext,
    limits: &'a QueryLimits,
    write: bool,
    format: Format,
    timing: bool,
    /// At a terminal, Ctrl-C cancels a running query; in a script (none here) it ends the
    /// process, as by default.
    interrupts: Option<Interrupts>,
}

impl<'a> Shell<'a> {
    fn new(ctx: &'a SessionContext, limits: &'a QueryLimits, options: &ShellOptions) -> Self {
        Shell {
            ctx,
            limits,
            write: options.write,
            format: options.format,
            timing: false,
            interrupts: None,
        }
    }

    /// Run every statement and meta-command of `text` in order; errors go to standard error.
    async fn run_script(&mut self, text: &str) -> Result<()> {
        let mut splitter = Splitter::default();
        let mut items = splitter.push(text);
        items.extend(splitter.finish());
        let (mut failed, mut total) = (0, 0);
        for item in &items {
            total += 1;
            match self.execute_to_stdout(item).await {
                Ok(Step::Continue) => {}
                Ok(Step::Quit) => break,
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                }
            }
        }
        if failed > 0 {
            return Err(Error::Script { failed, total });
        }
        Ok(())
    }

    /// Run one item, its results to standard output.
    async fn execute_to_stdout(&mut self, item: &Item) -> Result<Step> {
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let step = self.execute(item, &mut out).await;
        let flushed = out
            .flush()
            .map_err(|e| Error::io("write", "standard output", e));
        let step = step?;
        flushed?;
        Ok(step)
    }

    /// Run one statement or meta-command, its results to `out`.
    async fn execute(&mut self, item: &Item, out: &mut dyn Write) -> Result<Step> {
        match item {
            Item::Meta(line) => self.meta(line, out).await,
            Item::Sql(sql) => {
                let started = Instant::now();
                let query = self.limits.enforce(self.sql(sql, out));
                let result = if let Some(interrupts) = &self.interrupts {
                    cancellable(query, interrupts.pressed()).await
                } else {
                    query.await
                };
                if matches!(result, Err(Error::Cancelled)) {
                    // After the ^C the terminal echoed.
                    eprintln!();
                }
                if self.timing {
                    eprintln!("elapsed: {:.3} s", started.elapsed().as_secs_f64());
                }
                result.map(|_| Step::Continue)
            }
        }
    }

    /// Plan `sql` (refusing what changes anything unless writes are allowed), run it and write
    /// its results.
    async fn sql(&self, sql: &str, out: &mut dyn Write) -> Result<usize> {
        // What `SessionContext::sql_with_options` does, in two steps so that a statement the
        // options refuse is told apart from one that does not plan.
        let plan = self.ctx.state().create_logical_plan(sql).await?;
        if !self.write {
            read_only()
                .verify_plan(&plan)
                .map_err(|e| Error::ReadOnly {
                    refused: match e.find_root() {
                        DataFusionError::Plan(message) => message.clone(),
                        other => other.to_string(),
                    },
                })?;
        }
        // CREATE, DROP, SET: no result to show (a query may have no columns, and still rows).
        let silent = matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Statement(_));
        let stream = self
            .ctx
            .execute_logical_plan(plan)
            .await?
            .execute_stream()
            .await?;
        if silent {
            let mut stream = stream;
            while let Some(batch) = futures::StreamExt::next(&mut stream).await {
                batch?;
            }
            return Ok(0);
        }
        write_stream(stream, self.format, out).await
    }

    /// Run a meta-command line such as `\d traces`.
    async fn meta(&mut self, line: &str, out: &mut dyn Write) -> Result<Step> {
        let line = line.trim().trim_end_matches(';');
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or("\\");
        let args: Vec<&str> = words.collect();
        let at_most_one = |what: &str| {
            if args.len() > 1 {
                Err(Error::InvalidInput(format!(
                    "{command} takes {what}, not {:?}",
                    args.join(" ")
                )))
            } else {
                Ok(args.first().copied())
            }
        };
        match command {
            "\\q" | "\\quit" => {
                at_most_one("no argument")?;
                return Ok(Step::Quit);
            }
            "\\dt" => {
                at_most_one("no argument")?;
                self.list_tables(out).await?;
            }
            "\\d" => match at_most_one("one table name")? {
                Some(table) => self.describe(table, out).await?,
                None => self.list_tables(out).await?,
            },
            "\\timing" => {
                self.timing = match at_most_one("on or off")? {
                    None => !self.timing,
                    Some(v) if v.eq_ignore_ascii_case("on") => true,
                    Some(v) if v.eq_ignore_ascii_case("off") => false,
                    Some(v) => {
                        return Err(Error::InvalidInput(format!(
                            "\\timing takes on or off, not {v:?}"
                        )));
                    }
                };
                eprintln!("timing is {}", if self.timing { "on" } else { "off" });
            }
            "\\format" => {
                if let Some(name) = at_most_one("one of table, csv, json, ndjson")? {
                    self.format = name.parse()?;
                }
                eprintln!("format is {}", format_name(self.format));
            }
            "\\help" | "\\?" | "\\h" => write_help(out)?,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown meta-command {other}: \\help lists them"
                )));
            }
        }
        Ok(Step::Continue)
    }

    /// `\dt`: the tables of the default schema, with their kind.
    async fn list_tables(&self, out: &mut dyn Write) -> Result<()> {
        let (names, kinds) = {
            let mut names = Vec::new();
            let mut kinds = Vec::new();
            if let Some(schema) = default_schema(self.ctx) {
                let mut tables = schema.table_names();
                tables.sort();
                for name in tables {
                    let kind = match schema.table_type(&name).await? {
                        Some(TableType::Base) | None => "BASE TABLE",
                        Some(TableType::View) => "VIEW",
                        Some(TableType::Temporary) => "LOCAL TEMPORARY",
                    };
                    names.push(name);
                    kinds.push(kind.to_string());
                }
            }
            (names, kinds)
        };
        write_strings(
            &[("table_name", names), ("table_type", kinds)],
            self.format,
            out,
        )
    }

    /// `\d TABLE`: its columns, types and nullability.
    async fn describe(&self, table: &str, out: &mut dyn Write) -> Result<()> {
        let provider = self.ctx.table_provider(table).await.map_err(|_| {
            Error::InvalidInput(format!("no table named {table:?}: \\dt lists the tables"))
        })?;
        let schema = provider.schema();
        let mut names = Vec::new();
        let mut types = Vec::new();
        let mut nullable = Vec::new();
        for field in schema.fields() {
            names.push(field.name().clone());
            types.push(field.data_type().to_string());
            nullable.push(if field.is_nullable() { "YES" } else { "NO" }.to_string());
        }
        write_strings(
            &[
                ("column_name", names),
                ("data_type", types),
                ("is_nullable", nullable),
            ],
            self.format,
            out,
        )
    }
}

/// Options that refuse DDL (CREATE, DROP), DML (INSERT, COPY) and statements (SET, PREPARE,
/// transactions). Queries, EXPLAIN, DESCRIBE and SHOW (which become queries of
/// `information_schema`) pass.
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Run `query` until it ends or `cancel` completes, whichever is first; a cancelled query is
/// dropped, which stops its execution, and ends with [`Error::Cancelled`].
async fn cancellable<T>(
    query: impl Future<Output = Result<T>>,
    cancel: impl Future<Output = ()>,
) -> Result<T> {
    tokio::select! {
        result = query => result,
        () = cancel => Err(Error::Cancelled),
    }
}

/// Ctrl-C presses, counted on a thread of their own with a runtime of its own: a query whose
/// operators compute without yielding can keep every worker thread of the main runtime busy,
/// and then none would be free to notice the signal.
struct Interrupts {
    presses: tokio::sync::watch::Receiver<u64>,
}

impl Interrupts {
    /// Start listening; from then on Ctrl-C no longer ends the process.
    fn listen() -> Result<Interrupts> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("start", "the Ctrl-C listener", e))?;
        let (count, presses) = tokio::sync::watch::channel(0_u64);
        let (listening, ready) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("cts-ctrl-c".into())
            .spawn(move || {
                runtime.block_on(async move {
                    loop {
                        // The handler is installed at the first poll: say so once it is.
                        let mut press = Box::pin(tokio::signal::ctrl_c());
                        let early = futures::FutureExt::now_or_never(&mut press);
                        let _ = listening.send(());
                        let pressed = match early {
                            Some(pressed) => pressed,
                            None => press.await,
                        };
                        if pressed.is_err() || count.is_closed() {
                            return;
                        }
                        count.send_modify(|n| *n += 1);
                    }
                });
            })
            .map_err(|e| Error::io("start", "the Ctrl-C listener", e))?;
        // Within moments; a listener that never starts only means Ctrl-C cannot cancel.
        let _ = ready.recv_timeout(std::time::Duration::from_secs(5));
        Ok(Interrupts { presses })
    }

    /// Completes at the next Ctrl-C (not at one pressed before); never if there can be none.
    async fn pressed(&self) {
        let mut presses = self.presses.clone();
        presses.mark_unchanged();
        if presses.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The default catalog's default schema, where `traces` and friends are.
fn default_schema(ctx: &SessionContext) -> Option<Arc<dyn datafusion::catalog::SchemaProvider>> {
    let state = ctx.state();
    let options = &state.config().options().catalog;
    ctx.catalog(&options.default_catalog)?
        .schema(&options.default_schema)
}

/// Write columns of text in `format`.
fn write_strings(
    columns: &[(&str, Vec<String>)],
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, values)| Arc::new(StringArray::from(values.clone())) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| Error::arrow("listing the catalog", e))?;
    write_batches(&[batch], schema, format, out)?;
    Ok(())
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Table => "table",
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Ndjson => "ndjson",
        Format::Markdown => "md",
        Format::Html => "html",
    }
}

fn write_help(out: &mut dyn Write) -> Result<()> {
    let mut text = String::from(
        "Statements end with ';' and may span lines. Tables: traces (hot store and archive), \
         hot_traces, archive_traces, and each report as report_<name>.\n\nMeta-commands:\n",
    );
    for (name, args, what) in META_COMMANDS {
        let usage = if args.is_empty() {
            name.to_string()
        } else {
            format!("{name} {args}")
        };
        text.push_str(&format!("  {usage:<18} {what}\n"));
    }
    text.push_str(
        "\nJSON functions reach into request, response, message, user and extra:\n  \
         json_get_str(request, 'key', ...)  the text at a key path, one argument per level\n  \
         json_get_int, json_get_float, json_get_bool, json_get_json, json_contains, json_length\n  \
         e.g. WHERE json_get_str(request, 'security_group_rule', 'remote_ip_prefix') = '0.0.0.0/0'\n",
    );
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("write", "standard output", e))
}

// ---------------------------------------------------------------------------------------------
// The interactive loop.

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
            " (--write)"
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
                let e = Error::Internal(format!("the line editor stopped: {e}"));
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
                Err(e) => eprintln!("error: {e}"),
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

// ---------------------------------------------------------------------------------------------
// Splitting input into statements.

/// One thing to run: an SQL statement (without its `;`) or a meta-command line (`\d traces`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An SQL statement.
    Sql(String),
    /// A meta-command and its arguments.
    Meta(String),
}

/// Where the splitter is in the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Lexical {
    #[default]
    Code,
    /// In `'...'`; with backslash escapes in `E'...'`.
    Quoted { backslash_escapes: bool },
    /// In `"..."` (an identifier).
    DoubleQuoted,
    /// In `` `...` `` (an identifier).
    Backquoted,
    /// After `--`, to the end of the line.
    LineComment,
    /// In `/* ... */`, which nest; the depth.
    BlockComment(usize),
    /// In `$tag$ ... $tag$`; the tag with its dollars.
    DollarQuoted(String),
}

/// Splits text into statements at `;` outside quotes and comments, and picks out meta-command
/// lines (a line starting with `\` where no statement is under way). Text arrives in pieces
/// that end at line ends (a line at a time, or a whole script); a statement may span pieces.
#[derive(Debug, Default)]
pub struct Splitter {
    /// The statement so far.
    buffer: String,
    state: Lexical,
    /// Whether the buffer holds more than white space and comments.
    has_code: bool,
}

impl Splitter {
    /// Take in `text`; the statements and meta-commands it completes, in order.
    pub fn push(&mut self, text: &str) -> Vec<Item> {
        let chars: Vec<char> = text.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match &mut self.state {
                Lexical::Code => match c {
                    '\\' if !self.has_code => {
                        let end = chars[i..]
                            .iter()
                            .position(|&c| c == '\n')
                            .map_or(chars.len(), |p| i + p);
                        let line: String = chars[i..end].iter().collect();
                        items.push(Item::Meta(line.trim().to_string()));
                        self.buffer.clear();
                        i = end;
                        continue;
                    }
                    ';' => {
                        if self.has_code {
                            items.push(Item::Sql(self.buffer.trim().to_string()));
                        }
                        self.buffer.clear();
                        self.has_code = false;
                        i += 1;
                        continue;
                    }
                    '-' if next == Some('-') => {
                        self.state = Lexical::LineComment;
                        self.buffer.push_str("--");
                        i += 2;
                        continue;
                    }
                    '/' if next == Some('*') => {
                        self.state = Lexical::BlockComment(1);
                        self.buffer.push_str("/*");
                        i += 2;
                        continue;
                    }
                    '\'' => {
                        // E'...' (not the end of an identifier such as `name'`).
                        let prefix = i.checked_sub(1).map(|p| chars[p]);
                        let before = i.checked_sub(2).map(|p| chars[p]);
                        let backslash_escapes = matches!(prefix, Some('e' | 'E'))
                            && !before.is_some_and(is_identifier_char);
                        self.state = Lexical::Quoted { backslash_escapes };
                        self.has_code = true;
                    }
                    '"' => {
                        self.state = Lexical::DoubleQuoted;
                        self.has_code = true;
                    }
                    '`' => {
                        self.state = Lexical::Backquoted;
                        self.has_code = true;
                    }
                    '$' => {
                        let after_identifier = i
                            .checked_sub(1)
                            .is_some_and(|p| is_identifier_char(chars[p]));
                        self.has_code = true;
                        if !after_identifier && let Some(tag) = dollar_tag(&chars[i..]) {
                            self.buffer.push_str(&tag);
                            i += tag.chars().count();
                            self.state = Lexical::DollarQuoted(tag);
                            continue;
                        }
                    }
                    c if !c.is_whitespace() => self.has_code = true,
                    _ => {}
                },
                Lexical::Quoted { backslash_escapes } => {
                    if *backslash_escapes && c == '\\' {
                        self.buffer.push(c);
                        if let Some(n) = next {
                            self.buffer.push(n);
                        }
                        i += 2;
                        continue;
                    }
                    if c == '\'' {
                        self.state = Lexical::Code;
                    }
                }
                Lexical::DoubleQuoted => {
                    if c == '"' {
                        self.state = Lexical::Code;
                    }
                }
                Lexical::Backquoted => {
                    if c == '`' {
                        self.state = Lexical::Code;
                    }
                }
                Lexical::LineComment => {
                    if c == '\n' {
                        self.state = Lexical::Code;
                    }
                }
                Lexical::BlockComment(depth) => {
                    if c == '*' && next == Some('/') {
                        *depth -= 1;
                        if *depth == 0 {
                            self.state = Lexical::Code;
                        }
                        self.buffer.push_str("*/");
                        i += 2;
                        continue;
                    }
                    if c == '/' && next == Some('*') {
                        *depth += 1;
                        self.buffer.push_str("/*");
                        i += 2;
                        continue;
                    }
                }
                Lexical::DollarQuoted(tag) => {
                    let tag_chars: Vec<char> = tag.chars().collect();
                    if chars[i..].starts_with(&tag_chars) {
                        self.buffer.push_str(tag);
                        i += tag_chars.len();
                        self.state = Lexical::Code;
                        continue;
                    }
                }
            }
            self.buffer.push(c);
            i += 1;
        }
        items
    }

    /// The end of the input: the last statement, if it was not ended with `;`.
    pub fn finish(&mut self) -> Option<Item> {
        let item = self
            .has_code
            .then(|| Item::Sql(self.buffer.trim().to_string()));
        self.clear();
        item
    }

    /// Whether a statement is under way (text, an open quote or comment, but no `;` yet).
    pub fn is_pending(&self) -> bool {
        self.has_code || !matches!(self.state, Lexical::Code | Lexical::LineComment)
    }

    /// Forget the statement under way.
    pub fn clear(&mut self) {
        *self = Splitter::default();
    }
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `$$` or `$tag$` at the start of `chars`.
fn dollar_tag(chars: &[char]) -> Option<String> {
    let mut end = 1;
    while let Some(&c) = chars.get(end) {
        if c == '$' {
            return Some(chars[..=end].iter().collect());
        }
        let first = end == 1;
        if !(c.is_alphabetic() || c == '_' || (!first && c.is_ascii_digit())) {
            return None;
        }
        end += 1;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Tab completion.

/// What Tab completes to.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// Tables, and the schemas they are in.
    pub tables: BTreeSet<String>,
    /// Columns of every table.
    pub columns: BTreeSet<String>,
    /// Scalar, aggregate, window and table functions.
    pub functions: BTreeSet<String>,
}

/// SQL keywords offered besides names (in the case the word is typed in).
const KEYWORDS: [&str; 40] = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "JOIN", "LEFT",
    "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "ON", "USING", "AS", "AND", "OR", "NOT", "NULL",
    "IS", "IN", "LIKE", "ILIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END", "DISTINCT",
    "UNION", "WITH", "EXPLAIN", "DESCRIBE", "SHOW", "INTERVAL",
];

/// Keywords after which a table name comes.
const BEFORE_TABLE: [&str; 6] = ["FROM", "JOIN", "INTO", "TABLE", "DESCRIBE", "UPDATE"];

/// Everything there is to complete in `ctx`: tables of every schema, their columns, and the
/// functions of the session.
pub async fn completion_words(ctx: &SessionContext) -> Words {
    let mut words = Words::default();
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            words.tables.insert(schema_name);
            for table in schema.table_names() {
                if let Ok(Some(provider)) = schema.table(&table).await {
                    for field in provider.schema().fields() {
                        words.columns.insert(field.name().clone());
                    }
                }
                words.tables.insert(table);
            }
        }
    }
    let state = ctx.state();
    words
        .functions
        .extend(state.scalar_functions().keys().cloned());
    words
        .functions
        .extend(state.aggregate_functions().keys().cloned());
    words
        .functions
        .extend(state.window_functions().keys().cloned());
    words
        .functions
        .extend(state.table_functions().keys().cloned());
    words
}

/// The candidates for the word that ends at `pos` in `line`, and where that word starts.
pub fn complete(line: &str, pos: usize, words: &Words) -> (usize, Vec<String>) {
    let before = line.get(..pos).unwrap_or(line);
    let trimmed = before.trim_start();
    // The word under the cursor: letters, digits and `_` before it.
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_identifier_char(*c))
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = &before[start..];
    let matching = |candidates: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        let prefix = word.to_lowercase();
        let mut out: Vec<String> = candidates
            .filter(|c| c.to_lowercase().starts_with(&prefix))
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    };

    if trimmed.starts_with('\\') {
        let mut parts = trimmed.split_whitespace();
        let command = parts.next().unwrap_or("");
        if !trimmed.contains(char::is_whitespace) {
            // The meta-command itself, with its backslash.
            let start = before.len() - trimmed.len();
            let candidates: Vec<String> = META_COMMANDS
                .iter()
                .map(|(name, _, _)| *name)
                .filter(|name| name.starts_with(trimmed))
                .map(str::to_string)
                .collect();
            return (start, candidates);
        }
        let candidates = match command {
            "\\d" => matching(&mut words.tables.iter().map(String::as_str)),
            "\\format" => matching(&mut Format::NAMES.iter().copied()),
            "\\timing" => matching(&mut ["on", "off"].iter().copied()),
            _ => Vec::new(),
        };
        return (start, candidates);
    }

    // After FROM, JOIN, ...: tables only, even before a letter is typed.
    let previous = before[..start]
        .trim_end()
        .rsplit(|c: char| !is_identifier_char(c))
        .next()
        .unwrap_or("");
    let table_expected = before[..start].ends_with(char::is_whitespace)
        && BEFORE_TABLE
            .iter()
            .any(|k| k.eq_ignore_ascii_case(previous));
    if table_expected {
        return (
            start,
            matching(&mut words.tables.iter().map(String::as_str)),
        );
    }
    if word.is_empty() {
        return (start, Vec::new());
    }
    let lower = word.chars().next().is_some_and(char::is_lowercase);
    let keywords: Vec<String> = KEYWORDS
        .iter()
        .map(|k| {
            if lower {
                k.to_lowercase()
            } else {
                k.to_string()
            }
        })
        .collect();
    let mut all = words
        .tables
        .iter()
        .chain(&words.columns)
        .chain(&words.functions)
        .chain(&keywords)
        .map(String::as_str);
    (start, matching(&mut all))
}

/// The line editor's helper: completion only.
struct ShellHelper {
    words: Words,
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(line, pos, &self.words))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> Item {
        Item::Sql(s.to_string())
    }

    fn meta(s: &str) -> Item {
        Item::Meta(s.to_string())
    }

    fn split(text: &str) -> Vec<Item> {
        let mut splitter = Splitter::default();
        let mut items = splitter.push(text);
        items.extend(splitter.finish());
        items
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        assert_eq!(
            split("SELECT 1; SELECT 2;\nSELECT 3"),
            vec![sql("SELECT 1"), sql("SELECT 2"), sql("SELECT 3")]
        );
        assert_eq!(
            split("SELECT 'a;b', \"c;d\", `e;f` FROM t;"),
            vec![sql("SELECT 'a;b', \"c;d\", `e;f` FROM t")]
        );
        assert_eq!(
            split("SELECT 'it''s; fine';"),
            vec![sql("SELECT 'it''s; fine'")]
        );
        assert_eq!(
            split("SELECT E'a\\';b' AS x; SELECT 'c\\';"),
            vec![sql("SELECT E'a\\';b' AS x"), sql("SELECT 'c\\'")]
        );
        assert_eq!(
            split("SELECT 1 -- not here; nor here\n, 2;"),
            vec![sql("SELECT 1 -- not here; nor here\n, 2")]
        );
        assert_eq!(
            split("SELECT /* a; /* nested; */ still; */ 1;"),
            vec![sql("SELECT /* a; /* nested; */ still; */ 1")]
        );
        assert_eq!(
            split("SELECT $$a;b$$, $x$c;$$;d$x$;"),
            vec![sql("SELECT $$a;b$$, $x$c;$$;d$x$")]
        );
        // Empty statements and comments alone run nothing.
        assert_eq!(split(";; -- just a comment\n /* and; another */ ;"), vec![]);
    }

    #[test]
    fn statements_span_lines_and_pushes() {
        let mut splitter = Splitter::default();
        assert_eq!(splitter.push("SELECT count(*)\n"), vec![]);
        assert!(splitter.is_pending());
        assert_eq!(splitter.push("FROM 'x;\n"), vec![]);
        assert!(splitter.is_pending());
        assert_eq!(
            splitter.push("y' ; SELECT\n"),
            vec![sql("SELECT count(*)\nFROM 'x;\ny'")]
        );
        assert!(splitter.is_pending());
        assert_eq!(splitter.push("2; -- done\n"), vec![sql("SELECT\n2")]);
        assert!(!splitter.is_pending());
        // An open block comment keeps the continuation prompt.
        assert_eq!(splitter.push("/* a\n"), vec![]);
        assert!(splitter.is_pending());
        splitter.clear();
        assert!(!splitter.is_pending());
        assert_eq!(splitter.finish(), None);
    }

    #[test]
    fn meta_commands_are_whole_lines_where_no_statement_is_under_way() {
        assert_eq!(
            split("\\dt\nSELECT 1; \\format csv\nSELECT 2;\n  \\d traces;\n"),
            vec![
                meta("\\dt"),
                sql("SELECT 1"),
                meta("\\format csv"),
                sql("SELECT 2"),
                meta("\\d traces;")
            ]
        );
        // Inside a statement a backslash is just text.
        assert_eq!(split("SELECT 1\n\\q\n;"), vec![sql("SELECT 1\n\\q")]);
    }

    fn words() -> Words {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        Words {
            tables: set(&["archive_traces", "hot_traces", "traces", "public"]),
            columns: set(&["trace_id", "trace_name", "time", "request"]),
            functions: set(&["json_get_str", "json_get_int", "count", "trim"]),
        }
    }

    #[test]
    fn completes_names_case_insensitively_by_prefix() {
        let w = words();
        assert_eq!(
            complete("SELECT TRA", 10, &w),
            (
                7,
                vec![
                    "trace_id".to_string(),
                    "trace_name".to_string(),
                    "traces".to_string()
                ]
            )
        );
        assert_eq!(
            complete("select json_get_s", 17, &w),
            (7, vec!["json_get_str".to_string()])
        );
        // The word under the cursor, not the end of the line.
        assert_eq!(
            complete("SELECT ti FROM traces", 9, &w),
            (7, vec!["time".to_string()])
        );
        // After a dot: the column part.
        assert_eq!(
            complete("SELECT t.req", 12, &w),
            (9, vec!["request".to_string()])
        );
        // Keywords, in the case typed.
        assert_eq!(complete("sel", 3, &w), (0, vec!["select".to_string()]));
        assert_eq!(complete("SEL", 3, &w), (0, vec!["SELECT".to_string()]));
        // Nothing typed: nothing offered, except where a table is expected.
        assert_eq!(complete("SELECT ", 7, &w), (7, vec![]));
        assert_eq!(
            complete("SELECT * FROM ", 14, &w),
            (
                14,
                vec![
                    "archive_traces".to_string(),
                    "hot_traces".to_string(),
                    "public".to_string(),
                    "traces".to_string()
                ]
            )
        );
        assert_eq!(
            complete("select * from h", 15, &w),
            (14, vec!["hot_traces".to_string()])
        );
    }

    #[test]
    fn completes_meta_commands_and_their_arguments() {
        let w = words();
        assert_eq!(
            complete("\\d", 2, &w),
            (0, vec!["\\d".to_string(), "\\dt".to_string()])
        );
        assert_eq!(complete("  \\fo", 5, &w), (2, vec!["\\format".to_string()]));
        assert_eq!(
            complete("\\d ho", 5, &w),
            (3, vec!["hot_traces".to_string()])
        );
        assert_eq!(complete("\\format C", 9, &w), (8, vec!["csv".to_string()]));
        assert_eq!(complete("\\timing o", 9, &w).1.len(), 2);
    }

    #[tokio::test]
    async fn completion_words_come_from_the_session() {
        let ctx = SessionContext::new();
        let registered = ctx.sql("CREATE TABLE t1 AS SELECT 1 AS some_column").await;
        assert!(registered.is_ok(), "{registered:?}");
        let w = completion_words(&ctx).await;
        assert!(w.tables.contains("t1"), "{:?}", w.tables);
        assert!(w.columns.contains("some_column"), "{:?}", w.columns);
        for f in ["abs", "count", "row_number"] {
            assert!(w.functions.contains(f), "{f}");
        }
    }

    #[tokio::test]
    async fn ctrl_c_path_drops_the_running_query() {
        // A query that runs until stopped: a recursive CTE producing a row at a time.
        let ctx = SessionContext::new();
        let limits = QueryLimits::default();
        let query = async {
            let df = ctx
                .sql(
                    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r \
                     WHERE n < 1000000000000) SELECT count(*) FROM r",
                )
                .await?;
            Ok::<_, Error>(df.collect().await?)
        };
        let cancel = tokio::time::sleep(std::time::Duration::from_millis(300));
        let started = Instant::now();
        let result = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            cancellable(limits.enforce(query), cancel),
        )
        .await;
        assert!(
            matches!(result, Ok(Err(Error::Cancelled))),
            "{:?}",
            result.map(|r| r.map(|_| ()))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // The session answers the next query.
        let next = ctx.sql("SELECT 41 + 1 AS n").await;
        let rows = match next {
            Ok(df) => df.collect().await,
            Err(e) => Err(e),
        };
        assert!(matches!(&rows, Ok(b) if b[0].num_rows() == 1), "{rows:?}");
        // A query that ends first is not cancelled.
        let quick = cancellable(async { Ok(7) }, std::future::pending()).await;
        assert!(matches!(quick, Ok(7)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_real_sigint_cancels_a_query_that_keeps_the_workers_busy() {
        let interrupts = match Interrupts::listen() {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        // Two busy loops that never yield hold both worker threads, as a cross join can.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        for _ in 0..2 {
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        let query = std::future::pending::<Result<()>>();
        let pid = std::process::id().to_string();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
        });
        let bounded = std::time::Duration::from_secs(20);
        let cancelled = std::thread::spawn(move || {
            // The test's own runtime has no free worker: wait on a thread of its own.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(async move {
                    tokio::time::timeout(bounded, cancellable(query, interrupts.pressed())).await
                }),
                Err(e) => panic!("{e}"),
            }
        })
        .join();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            matches!(cancelled, Ok(Ok(Err(Error::Cancelled)))),
            "{:?}",
            cancelled.map(|r| r.map(|r| r.map(|_| ())))
        );
        assert!(matches!(sender.join(), Ok(Ok(status)) if status.success()));
    }

    #[tokio::test]
    async fn read_only_refuses_changes_and_write_allows_them() {
        let config = datafusion::prelude::SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let made = ctx.sql("CREATE TABLE y AS SELECT 1 AS one").await;
        assert!(made.is_ok(), "{made:?}");
        let limits = QueryLimits::default();
        let mut options = ShellOptions {
            format: Format::Csv,
            ..Default::default()
        };
        let mut shell = Shell::new(&ctx, &limits, &options);
        let mut out = Vec::new();
        for statement in [
            "CREATE TABLE x AS SELECT 1",
            "INSERT INTO y VALUES (1)",
            "SET datafusion.execution.batch_size = 10",
            "DROP TABLE y",
            "EXPLAIN INSERT INTO y VALUES (2)",
        ] {
            let result = shell.execute(&sql(statement), &mut out).await;
            match result {
                Err(e @ Error::ReadOnly { .. }) => {
                    assert!(e.to_string().contains("--write"), "{e}")
                }
                other => panic!("{statement}: {other:?}"),
            }
        }
        for statement in [
            "SELECT 1 AS one",
            "EXPLAIN SELECT 1",
            "SHOW TABLES",
            "SHOW datafusion.execution.batch_size",
            "DESCRIBE y",
            "SELECT * FROM information_schema.tables",
        ] {
            let result = shell.execute(&sql(statement), &mut out).await;
            assert!(result.is_ok(), "{statement}: {result:?}");
        }
        options.write = true;
        let mut shell = Shell::new(&ctx, &limits, &options);
        let mut out = Vec::new();
        let result = shell
            .execute(&sql("CREATE TABLE x AS SELECT 1 AS one"), &mut out)
            .await;
        assert!(result.is_ok(), "{result:?}");
        let mut out = Vec::new();
        let result = shell.execute(&meta("\\d x"), &mut out).await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "column_name,data_type,is_nullable\none,Int64,NO\n"
        );
        let result = shell.execute(&meta("\\nope"), &mut out).await;
        assert!(
            matches!(&result, Err(e) if e.to_string().contains("unknown meta-command \\nope")),
            "{result:?}"
        );
        assert_eq!(
            shell.execute(&meta("\\q"), &mut out).await.ok(),
            Some(Step::Quit)
        );
    }
}
