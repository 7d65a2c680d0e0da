//! Tab completion: table, column and function names of the session, keywords, meta-commands
//! and their arguments.

use std::collections::BTreeSet;

use datafusion::prelude::SessionContext;
use rustyline::Helper;
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;

use crate::output::format::Format;
use crate::output::shell::meta::Meta;
use crate::output::shell::split::is_identifier_char;

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
            let candidates: Vec<String> = Meta::all()
                .iter()
                .map(|m| m.name())
                .filter(|name| name.starts_with(trimmed))
                .collect();
            return (start, candidates);
        }
        let candidates = match Meta::named(command) {
            Some(Meta::Describe) => matching(&mut words.tables.iter().map(String::as_str)),
            Some(Meta::Format) => matching(&mut Format::names().iter().map(String::as_str)),
            Some(Meta::Timing) => matching(&mut ["on", "off"].iter().copied()),
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
#[derive(Debug)]
pub(crate) struct ShellHelper {
    pub(crate) words: Words,
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
}
