//! The reports: their files under `sql/reports/`, built into the binary, parsed into a header
//! and a query, and rendered with parameter values.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// The reports built into cts: `(name, SQL file)`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "access_denied",
        include_str!("../../../sql/reports/access_denied.sql"),
    ),
    (
        "account_policy_changes",
        include_str!("../../../sql/reports/account_policy_changes.sql"),
    ),
    (
        "audit_log_access",
        include_str!("../../../sql/reports/audit_log_access.sql"),
    ),
    (
        "audit_trail_tampering",
        include_str!("../../../sql/reports/audit_trail_tampering.sql"),
    ),
    (
        "bucket_policy_changes",
        include_str!("../../../sql/reports/bucket_policy_changes.sql"),
    ),
    (
        "console_login_failures",
        include_str!("../../../sql/reports/console_login_failures.sql"),
    ),
    (
        "credential_changes",
        include_str!("../../../sql/reports/credential_changes.sql"),
    ),
    (
        "daily_activity_by_operator",
        include_str!("../../../sql/reports/daily_activity_by_operator.sql"),
    ),
    (
        "delivery_gaps",
        include_str!("../../../sql/reports/delivery_gaps.sql"),
    ),
    (
        "destructive_operations",
        include_str!("../../../sql/reports/destructive_operations.sql"),
    ),
    (
        "error_rate_spike",
        include_str!("../../../sql/reports/error_rate_spike.sql"),
    ),
    (
        "failed_operations",
        include_str!("../../../sql/reports/failed_operations.sql"),
    ),
    (
        "federation_changes",
        include_str!("../../../sql/reports/federation_changes.sql"),
    ),
    (
        "identity_lifecycle",
        include_str!("../../../sql/reports/identity_lifecycle.sql"),
    ),
    (
        "incidents",
        include_str!("../../../sql/reports/incidents.sql"),
    ),
    (
        "key_management_changes",
        include_str!("../../../sql/reports/key_management_changes.sql"),
    ),
    (
        "logins_without_mfa",
        include_str!("../../../sql/reports/logins_without_mfa.sql"),
    ),
    (
        "mfa_removed",
        include_str!("../../../sql/reports/mfa_removed.sql"),
    ),
    (
        "network_changes",
        include_str!("../../../sql/reports/network_changes.sql"),
    ),
    (
        "new_source_ip",
        include_str!("../../../sql/reports/new_source_ip.sql"),
    ),
    (
        "off_hours_activity",
        include_str!("../../../sql/reports/off_hours_activity.sql"),
    ),
    (
        "privilege_escalation",
        include_str!("../../../sql/reports/privilege_escalation.sql"),
    ),
    (
        "root_account_activity",
        include_str!("../../../sql/reports/root_account_activity.sql"),
    ),
    (
        "security_group_changes",
        include_str!("../../../sql/reports/security_group_changes.sql"),
    ),
    (
        "security_group_open_to_world",
        include_str!("../../../sql/reports/security_group_open_to_world.sql"),
    ),
    (
        "trace_coverage",
        include_str!("../../../sql/reports/trace_coverage.sql"),
    ),
    (
        "trace_file_integrity",
        include_str!("../../../sql/reports/trace_file_integrity.sql"),
    ),
];

/// What a report returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One row per finding, the uniform finding row first.
    Detection,
    /// Aggregates (per day, per operator, gaps).
    Summary,
}

/// A parameter of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Its name, as in `{{name}}`.
    pub name: String,
    /// Its default, as SQL text.
    pub default: String,
    /// What it is.
    pub description: String,
}

/// A report: its header and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Short name, as in `cts report run NAME`.
    pub name: String,
    /// A title for people.
    pub title: String,
    /// What it finds and why it matters.
    pub description: String,
    /// Requirement IDs it gives evidence for (PCI DSS v4.0.1 unless marked).
    pub requirements: Vec<String>,
    /// Detection or summary.
    pub kind: Kind,
    /// Its parameters, in header order.
    pub params: Vec<Param>,
    /// The query, with `{{name}}` placeholders.
    pub sql: String,
}

impl Report {
    /// Parse a report file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Report> {
        let bad = |line: usize, what: &str| {
            Error::invalid(format!("report {origin}, line {line}: {what}"))
        };
        let mut header: BTreeMap<&str, String> = BTreeMap::new();
        let mut params = Vec::new();
        let mut body = String::new();
        let mut in_header = true;
        for (i, line) in text.lines().enumerate() {
            let field = line
                .strip_prefix("--")
                .map(str::trim_start)
                .and_then(|l| l.split_once(':'))
                .filter(|(key, _)| {
                    matches!(
                        key.trim(),
                        "name" | "title" | "description" | "requirements" | "kind" | "param"
                    )
                });
            match field {
                Some((key, value)) if in_header => {
                    let value = value.trim();
                    if key.trim() == "param" {
                        let (name, rest) = value.split_once('=').ok_or_else(|| {
                            bad(i + 1, "a param needs `name = default | description`")
                        })?;
                        let (default, description) = rest.split_once(" | ").unwrap_or((rest, ""));
                        params.push(Param {
                            name: name.trim().to_string(),
                            default: default.trim().to_string(),
                            description: description.trim().to_string(),
                        });
                    } else {
                        header.insert(key.trim(), value.to_string());
                    }
                }
                _ => {
                    in_header = false;
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
        let take = |key: &str| {
            header
                .get(key)
                .cloned()
                .ok_or_else(|| Error::invalid(format!("report {origin}: no `-- {key}:` line")))
        };
        let kind = match take("kind")?.as_str() {
            "detection" => Kind::Detection,
            "summary" => Kind::Summary,
            other => {
                return Err(Error::invalid(format!(
                    "report {origin}: kind {other:?} is neither detection nor summary"
                )));
            }
        };
        let report = Report {
            name: take("name")?,
            title: take("title")?,
            description: take("description")?,
            requirements: take("requirements")?
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
            kind,
            params,
            sql: body.trim().trim_end_matches(';').to_string(),
        };
        for name in ["from", "to"] {
            if !report.params.iter().any(|p| p.name == name) {
                return Err(Error::invalid(format!(
                    "report {origin}: no `{name}` parameter (every report takes a time range)"
                )));
            }
        }
        Ok(report)
    }

    /// Its kind as the report's header names it: `detection` or `summary`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Detection => "detection",
            Kind::Summary => "summary",
        }
    }

    /// The query with every `{{name}}` replaced: by `values[name]` as a quoted SQL string,
    /// or by the default. A value for a parameter the report does not have is an error.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String> {
        for name in values.keys() {
            if !self.params.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::invalid(format!(
                    "report {} has no parameter {name:?}; its parameters: {}",
                    self.name,
                    known.join(", ")
                )));
            }
        }
        // A default may name another parameter (`CAST({{to}} AS TIMESTAMP) - interval '1 day'`):
        // replace until nothing changes, a few rounds at most.
        let mut sql = self.sql.clone();
        for _ in 0..4 {
            let before = sql.clone();
            for p in &self.params {
                let value = match values.get(&p.name) {
                    Some(v) => format!("'{}'", v.replace('\'', "''")),
                    None => p.default.clone(),
                };
                sql = sql.replace(&format!("{{{{{}}}}}", p.name), &value);
            }
            if sql == before {
                break;
            }
        }
        Ok(sql)
    }
}

/// The reports built into cts, by name.
pub fn builtin() -> Result<Vec<Report>> {
    BUILTIN
        .iter()
        .map(|(name, text)| Report::parse(text, &format!("sql/reports/{name}.sql")))
        .collect()
}

/// The built-in report named `name`.
pub fn find(name: &str) -> Result<Report> {
    builtin()?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            Error::invalid(format!(
                "no report named {name:?}: `cts report list` lists them"
            ))
        })
}

/// Names of the built-in reports, in order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_file_is_built_in_and_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/reports");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("sql/reports")
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".sql")
                    .map(String::from)
            })
            .collect();
        files.sort();
        assert_eq!(files, builtin_names());
        for report in builtin().expect("parse") {
            assert!(!report.requirements.is_empty(), "{}", report.name);
            assert!(!report.sql.contains("-- param:"), "{}", report.name);
        }
    }

    #[test]
    fn values_are_quoted_and_defaults_are_sql() {
        let report = Report::parse(
            "-- name: r\n-- title: T\n-- description: D\n-- requirements: A, B\n-- kind: detection\n\
             -- param: from = now() - interval '1 day' | start\n-- param: to = now() | end\n\
             SELECT 1 WHERE x >= {{from}} AND x < {{to}};\n",
            "test",
        )
        .expect("parse");
        assert_eq!(report.requirements, vec!["A", "B"]);
        let mut values = BTreeMap::new();
        values.insert("to".to_string(), "2024-06-01' OR '1'='1".to_string());
        assert_eq!(
            report.render(&values).expect("render"),
            "SELECT 1 WHERE x >= now() - interval '1 day' AND x < '2024-06-01'' OR ''1''=''1'"
        );
        values.insert("nope".to_string(), "1".to_string());
        let err = report.render(&values).expect_err("unknown parameter");
        assert_eq!(
            err.to_string(),
            "report r has no parameter \"nope\"; its parameters: from, to"
        );
    }
}
