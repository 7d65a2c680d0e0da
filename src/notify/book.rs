//! Key-event notifications (cts-spec.md §3.6) as the API shows them and as a project's
//! `notifications.json` keeps them (replaced atomically on every change), and the rules a
//! notification must follow, checked here and nowhere else.

use std::path::{Path, PathBuf};

use cts_core::storage::fs::write_atomic;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Notifications a project may have (quota `smn_notification`).
pub const QUOTA: usize = 100;
/// Filter rules a notification may have.
pub const MAX_RULES: usize = 6;
/// Users a notification may name, in all its groups.
pub const MAX_USERS: usize = 50;
/// Groups a notification may name.
pub const MAX_GROUPS: usize = 10;
/// Operations a notification may list.
pub const MAX_OPERATIONS: usize = 1000;
/// Services its operations may span.
pub const MAX_SERVICES: usize = 100;

/// One operation a `customized` notification fires on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// `ECS`, `IAM`, ...
    pub service_type: String,
    /// `ecs`, `user`, ...
    pub resource_type: String,
    /// `deleteServer`, ...
    pub trace_names: Vec<String>,
}

/// Users whose operations fire a notification (by name; the group is a label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserGroup {
    /// The IAM user group.
    pub user_group: String,
    /// Its users.
    pub user_list: Vec<String>,
}

/// The filter of a notification: rules `FIELD = VALUE` or `FIELD != VALUE`, joined by
/// `condition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// `AND` or `OR`.
    pub condition: String,
    /// Whether the filter applies.
    pub is_support_filter: bool,
    /// The rules.
    #[serde(default)]
    pub rule: Vec<String>,
}

/// A key-event notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// UUID.
    pub notification_id: String,
    /// Unique in the project: 1-64 letters, digits and `_`.
    pub notification_name: String,
    /// `smn` (a topic) or `fun` (a FunctionGraph function: `topic_id` is `urn:fss:...`).
    pub notification_type: String,
    /// `complete` (every operation) or `customized` (those in `operations`).
    pub operation_type: String,
    /// The operations of a `customized` notification.
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// When not empty, only these users' operations fire it.
    #[serde(default)]
    pub notify_user_list: Vec<UserGroup>,
    /// The topic (or function) URN messages go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// The filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// `enabled` or `disabled`.
    pub status: String,
    /// The project.
    pub project_id: String,
    /// The account (the project here).
    pub domain_id: String,
    /// Creation time, ms.
    pub create_time: i64,
    /// Agency (Huawei: `cts_admin_trust`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_name: Option<String>,
}

impl Notification {
    /// Whether it fires.
    pub fn enabled(&self) -> bool {
        self.status == "enabled"
    }
}

/// A notification that breaks a rule: the CTS error code and what is wrong, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `CTS.0003`, or `CTS.0400` for a name already taken.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid {
        code: "CTS.0003",
        message: message.into(),
    }
}

/// The trace fields a filter rule may test, and what a value of each must be.
pub const FILTER_FIELDS: &[&str] = &[
    "api_version",
    "code",
    "trace_rating",
    "trace_type",
    "resource_id",
    "resource_name",
];

/// A filter rule, parsed: `field`, whether it is `=` (else `!=`), the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// One of [`FILTER_FIELDS`].
    pub field: &'static str,
    /// `=` (true) or `!=` (false).
    pub equal: bool,
    /// The value compared with.
    pub value: String,
}

/// Parse and check the rule `text` (`FIELD = VALUE` or `FIELD != VALUE`).
pub fn parse_rule(text: &str) -> std::result::Result<Rule, String> {
    let (field, equal, value) = if let Some((f, v)) = text.split_once("!=") {
        (f, false, v)
    } else if let Some((f, v)) = text.split_once('=') {
        (f, true, v)
    } else {
        return Err(format!("{text:?} is not FIELD = VALUE or FIELD != VALUE"));
    };
    let (field, value) = (field.trim(), value.trim());
    let Some(field) = FILTER_FIELDS.iter().find(|f| **f == field) else {
        return Err(format!(
            "{field:?} cannot be filtered on: use one of {}",
            FILTER_FIELDS.join(", ")
        ));
    };
    let ok = match *field {
        "api_version" => {
            (1..=64).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        }
        "code" | "resource_name" => (1..=256).contains(&value.chars().count()),
        "resource_id" => (1..=350).contains(&value.chars().count()),
        "trace_rating" => ["normal", "warning", "incident"].contains(&value),
        "trace_type" => ["ConsoleAction", "ApiCall", "SystemAction"].contains(&value),
        _ => false,
    };
    if !ok {
        let what = match *field {
            "api_version" => "1-64 letters, digits, '_', '-' or '.'",
            "code" | "resource_name" => "1-256 characters",
            "resource_id" => "1-350 characters",
            "trace_rating" => "normal, warning or incident",
            _ => "ConsoleAction, ApiCall or SystemAction",
        };
        return Err(format!("{field} {value:?}: must be {what}"));
    }
    Ok(Rule {
        field,
        equal,
        value: value.to_string(),
    })
}

/// Whether `name` is a notification name: 1-64 letters, digits or `_`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The type of a notification sending to `topic_id`.
pub fn type_of(topic_id: Option<&str>) -> &'static str {
    if topic_id.is_some_and(|t| t.starts_with("urn:fss:")) {
        "fun"
    } else {
        "smn"
    }
}

/// Check `n` against every rule of CTS; `topic_known` says whether a topic is configured.
pub fn check(
    n: &Notification,
    topic_known: impl Fn(&str) -> bool,
) -> std::result::Result<(), Invalid> {
    if !valid_name(&n.notification_name) {
        return Err(invalid(format!(
            "notification_name {:?}: 1-64 letters, digits or '_'",
            n.notification_name
        )));
    }
    match n.operation_type.as_str() {
        "complete" => {}
        "customized" => {
            if n.operations.is_empty() {
                return Err(Invalid {
                    code: "CTS.0219",
                    message: "operations: a customized notification needs at least one operation"
                        .into(),
                });
            }
        }
        other => {
            return Err(invalid(format!(
                "operation_type must be complete or customized, not {other:?}"
            )));
        }
    }
    let mut services = std::collections::BTreeSet::new();
    let mut operations = 0;
    for (i, op) in n.operations.iter().enumerate() {
        for (field, value) in [
            ("service_type", &op.service_type),
            ("resource_type", &op.resource_type),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(format!("operations[{i}].{field} is empty")));
            }
        }
        if op.trace_names.is_empty() || op.trace_names.iter().any(|t| t.trim().is_empty()) {
            return Err(invalid(format!(
                "operations[{i}].trace_names: at least one, none empty"
            )));
        }
        services.insert(op.service_type.as_str());
        operations += op.trace_names.len();
    }
    if operations > MAX_OPERATIONS || services.len() > MAX_SERVICES {
        return Err(invalid(format!(
            "operations: at most {MAX_OPERATIONS} operations across {MAX_SERVICES} services, not \
             {operations} across {}",
            services.len()
        )));
    }
    let users: usize = n.notify_user_list.iter().map(|g| g.user_list.len()).sum();
    if n.notify_user_list.len() > MAX_GROUPS || users > MAX_USERS {
        return Err(invalid(format!(
            "notify_user_list: at most {MAX_USERS} users in {MAX_GROUPS} groups, not {users} in {}",
            n.notify_user_list.len()
        )));
    }
    if let Some(f) = &n.filter {
        if f.condition != "AND" && f.condition != "OR" {
            return Err(invalid(format!(
                "filter.condition must be AND or OR, not {:?}",
                f.condition
            )));
        }
        if f.rule.len() > MAX_RULES {
            return Err(invalid(format!(
                "filter.rule: at most {MAX_RULES} rules, not {}",
                f.rule.len()
            )));
        }
        for (i, rule) in f.rule.iter().enumerate() {
            parse_rule(rule).map_err(|why| invalid(format!("filter.rule[{i}]: {why}")))?;
        }
    }
    if n.status != "enabled" && n.status != "disabled" {
        return Err(Invalid {
            code: "CTS.0205",
            message: format!("status can only be enabled or disabled, not {:?}", n.status),
        });
    }
    match n.topic_id.as_deref() {
        Some(topic) if !topic.starts_with("urn:smn:") && !topic.starts_with("urn:fss:") => {
            return Err(invalid(format!(
                "topic_id {topic:?}: an SMN topic URN (urn:smn:REGION:PROJECT:NAME) or a \
                 FunctionGraph function URN (urn:fss:...)"
            )));
        }
        Some(topic) if topic.split(':').nth(3) != Some(n.project_id.as_str()) => {
            return Err(invalid(format!(
                "topic_id {topic:?}: a topic of another project (its URN names the project, \
                 urn:smn:REGION:{}:NAME)",
                n.project_id
            )));
        }
        Some(topic) if n.enabled() && !topic_known(topic) => {
            return Err(invalid(format!(
                "topic_id {topic:?} is not configured on this server: add it to \"topics\" in \
                 the configuration, with the URL messages go to"
            )));
        }
        None if n.enabled() => {
            return Err(invalid(
                "topic_id is needed when the notification is enabled",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The notifications of one project, and the file that holds them.
#[derive(Debug)]
pub struct NotificationBook {
    path: PathBuf,
    /// The notifications, in order of creation.
    pub notifications: Vec<Notification>,
}

#[derive(Serialize, Deserialize)]
struct BookFile {
    notifications: Vec<Notification>,
}

/// The file, in a project's folder, that holds its notifications.
pub const FILE: &str = "notifications.json";

impl NotificationBook {
    /// Read `notifications.json` of the project folder `dir` (none yet: no notifications).
    pub fn open(dir: &Path) -> Result<NotificationBook> {
        let path = dir.join(FILE);
        let notifications = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<BookFile>(&bytes)
                    .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?
                    .notifications
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        Ok(NotificationBook {
            path,
            notifications,
        })
    }

    /// Write the notifications durably (temporary file, sync, rename).
    pub fn save(&self) -> Result<()> {
        let file = BookFile {
            notifications: self.notifications.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::internal(format!("notifications to JSON: {e}")))?;
        Ok(write_atomic(&self.path, &bytes)?)
    }

    /// The notification named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Notification> {
        self.notifications
            .iter()
            .find(|n| n.notification_name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_as_cts_writes_them() {
        assert_eq!(
            parse_rule("code != 200"),
            Ok(Rule {
                field: "code",
                equal: false,
                value: "200".into()
            })
        );
        assert_eq!(
            parse_rule("api_version = v1.0").map(|r| (r.field, r.equal, r.value)),
            Ok(("api_version", true, "v1.0".to_string()))
        );
        assert_eq!(
            parse_rule("user = root"),
            Err(
                "\"user\" cannot be filtered on: use one of api_version, code, trace_rating, \
                 trace_type, resource_id, resource_name"
                    .to_string()
            )
        );
        assert_eq!(
            parse_rule("trace_rating = fatal"),
            Err("trace_rating \"fatal\": must be normal, warning or incident".to_string())
        );
        assert_eq!(
            parse_rule("code > 400"),
            Err("\"code > 400\" is not FIELD = VALUE or FIELD != VALUE".to_string())
        );
        assert!(parse_rule("api_version = v1/0").is_err());
        assert!(parse_rule("resource_id = ").is_err());
    }
}
