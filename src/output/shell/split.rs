//! Splitting input into statements at `;` outside quotes and comments (dollar quotes and nested
//! comments included), and picking out meta-command lines.

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

pub(crate) fn is_identifier_char(c: char) -> bool {
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

/// Items, briefly, for tests.
#[cfg(test)]
pub(crate) mod items {
    use super::Item;

    /// An SQL statement.
    pub(crate) fn sql(s: &str) -> Item {
        Item::Sql(s.to_string())
    }

    /// A meta-command line.
    pub(crate) fn meta(s: &str) -> Item {
        Item::Meta(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::items::{meta, sql};
    use super::*;

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
}
