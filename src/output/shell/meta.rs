//! The meta-commands (`\d`, `\dt`, `\timing`, `\format`, `\help`, `\q`): one enum gives their
//! names, aliases, arguments and help, so that `\help`, completion and the parser cannot drift
//! apart.

use std::fmt::Write as _;

use clap::ValueEnum;

use crate::error::{Error, Result};
use crate::output::format::Format;

/// A meta-command. Its name and aliases are its clap values; its help is its doc comment's
/// first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Meta {
    /// columns of TABLE: name, type, nullability (no TABLE: as \dt)
    #[value(name = "\\d")]
    Describe,
    /// the tables
    #[value(name = "\\dt")]
    Tables,
    /// print the time each statement took (toggles)
    #[value(name = "\\timing")]
    Timing,
    /// output format: table, csv, json, ndjson, md, html
    #[value(name = "\\format")]
    Format,
    /// this list
    #[value(name = "\\help", alias = "\\?", alias = "\\h")]
    Help,
    /// quit (Ctrl-D too)
    #[value(name = "\\q", alias = "\\quit")]
    Quit,
}

impl Meta {
    /// Every meta-command, in the order `\help` lists them.
    pub fn all() -> &'static [Meta] {
        Meta::value_variants()
    }

    /// The meta-command named `name` (or one of its aliases).
    pub fn named(name: &str) -> Option<Meta> {
        <Meta as ValueEnum>::from_str(name, false).ok()
    }

    /// Its name, with the backslash.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// What it takes, for `\help`.
    pub fn arguments(self) -> &'static str {
        match self {
            Meta::Describe => "TABLE",
            Meta::Timing => "[on|off]",
            Meta::Format => "FORMAT",
            Meta::Tables | Meta::Help | Meta::Quit => "",
        }
    }

    /// What it does, for `\help`.
    pub fn help(self) -> String {
        self.to_possible_value()
            .and_then(|v| v.get_help().map(|h| h.to_string()))
            .unwrap_or_default()
    }
}

/// A meta-command line, parsed: the command and its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    /// `\d TABLE`; `\d` alone lists the tables.
    Describe(Option<String>),
    /// `\dt`.
    Tables,
    /// `\timing on|off`; alone, it toggles.
    Timing(Option<bool>),
    /// `\format FORMAT`; alone, it says the format.
    Format(Option<Format>),
    /// `\help`.
    Help,
    /// `\q`.
    Quit,
}

impl MetaCommand {
    /// Parse a meta-command line such as `\d traces` (a `;` at its end is ignored).
    pub fn parse(line: &str) -> Result<MetaCommand> {
        let line = line.trim().trim_end_matches(';');
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or("\\");
        let args: Vec<&str> = words.collect();
        let at_most_one = |what: &str| {
            if args.len() > 1 {
                Err(Error::invalid(format!(
                    "{command} takes {what}, not {:?}",
                    args.join(" ")
                )))
            } else {
                Ok(args.first().copied())
            }
        };
        let no_argument = || {
            if args.is_empty() {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "{command} takes no argument, not {:?}",
                    args.join(" ")
                )))
            }
        };
        let Some(meta) = Meta::named(command) else {
            return Err(Error::invalid(format!(
                "unknown meta-command {command}: \\help lists them"
            )));
        };
        Ok(match meta {
            Meta::Quit => {
                no_argument()?;
                MetaCommand::Quit
            }
            Meta::Tables => {
                no_argument()?;
                MetaCommand::Tables
            }
            Meta::Describe => {
                MetaCommand::Describe(at_most_one("one table name")?.map(str::to_string))
            }
            Meta::Timing => MetaCommand::Timing(match at_most_one("on or off")? {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("on") => Some(true),
                Some(v) if v.eq_ignore_ascii_case("off") => Some(false),
                Some(v) => {
                    return Err(Error::invalid(format!(
                        "\\timing takes on or off, not {v:?}"
                    )));
                }
            }),
            Meta::Format => {
                let names = Format::names().join(", ");
                MetaCommand::Format(match at_most_one(&format!("one of {names}"))? {
                    Some(name) => Some(name.parse()?),
                    None => None,
                })
            }
            Meta::Help => {
                no_argument()?;
                MetaCommand::Help
            }
        })
    }
}

/// The text of `\help`: the meta-commands, then the JSON functions.
pub fn help_text() -> String {
    let mut text = String::from(
        "Statements end with ';' and may span lines. Tables: traces (hot store and archive), \
         hot_traces, archive_traces, and each report as report_<name>.\n\nMeta-commands:\n",
    );
    for meta in Meta::all() {
        let usage = match meta.arguments() {
            "" => meta.name(),
            args => format!("{} {args}", meta.name()),
        };
        let _ = writeln!(text, "  {usage:<18} {}", meta.help());
    }
    text.push_str(
        "\nJSON functions reach into request, response, message, user and extra:\n  \
         json_get_str(request, 'key', ...)  the text at a key path, one argument per level\n  \
         json_get_int, json_get_float, json_get_bool, json_get_json, json_contains, json_length\n  \
         e.g. WHERE json_get_str(request, 'security_group_rule', 'remote_ip_prefix') = '0.0.0.0/0'\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_meta_command_parses_by_its_name_and_is_in_the_help() {
        let help = help_text();
        for meta in Meta::all() {
            assert_eq!(Meta::named(&meta.name()), Some(*meta));
            assert!(!meta.help().is_empty(), "{meta:?}");
            assert!(help.contains(&format!("  {}", meta.name())), "{help}");
            assert!(help.contains(&meta.help()), "{help}");
        }
        assert_eq!(Meta::named("\\?"), Some(Meta::Help));
        assert_eq!(Meta::named("\\quit"), Some(Meta::Quit));
        assert!(
            help.contains("\n  \\d TABLE           columns of TABLE"),
            "{help}"
        );
    }

    #[test]
    fn arguments_are_checked() {
        assert_eq!(
            MetaCommand::parse("\\d traces;").ok(),
            Some(MetaCommand::Describe(Some("traces".into())))
        );
        assert_eq!(
            MetaCommand::parse("\\d").ok(),
            Some(MetaCommand::Describe(None))
        );
        assert_eq!(
            MetaCommand::parse("\\timing OFF").ok(),
            Some(MetaCommand::Timing(Some(false)))
        );
        assert_eq!(
            MetaCommand::parse("\\format jsonl").ok(),
            Some(MetaCommand::Format(Some(Format::Ndjson)))
        );
        let error = |line: &str| {
            MetaCommand::parse(line)
                .map(|_| ())
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            error("\\timing maybe").as_deref(),
            Some("\\timing takes on or off, not \"maybe\"")
        );
        assert_eq!(
            error("\\dt x").as_deref(),
            Some("\\dt takes no argument, not \"x\"")
        );
        assert_eq!(
            error("\\format xml").as_deref(),
            Some("unknown format \"xml\": use one of table, csv, json, ndjson, md, html")
        );
        assert_eq!(
            error("\\nope").as_deref(),
            Some("unknown meta-command \\nope: \\help lists them")
        );
    }
}
