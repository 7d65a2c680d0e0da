//! Which enabled notifications a trace fires (cts-spec.md §3.6): a notification fires when the
//! trace's operation is one of its `operations` (or it is `complete`), its operator is in
//! `notify_user_list` (when one is given), and its filter holds.
//!
//! A [`Matcher`] is compiled once per change of a project's notifications: `customized`
//! notifications are indexed by service, resource type and trace name, so a trace costs three
//! hash lookups whatever the number of notifications, plus the check of the few it may fire.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::notify::book::{FILTER_FIELDS, Notification, Rule, parse_rule};

/// A notification as the matcher checks it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its ID.
    pub notification_id: String,
    /// Its name.
    pub notification_name: String,
    /// `smn` or `fun`.
    pub notification_type: String,
    /// Where its messages go.
    pub topic_id: String,
    users: Option<HashSet<String>>,
    /// `(all rules must hold, the rules as (field's index in FILTER_FIELDS, `=`, value))`.
    filter: Option<(bool, Vec<FieldRule>)>,
}

/// A filter rule compiled: the field's index in [`FILTER_FIELDS`], `=` (true) or `!=`, the value.
type FieldRule = (usize, bool, String);

type Index = HashMap<String, HashMap<String, HashMap<String, Vec<usize>>>>;

/// The enabled notifications of a project, compiled.
#[derive(Debug, Default)]
pub struct Matcher {
    targets: Vec<Target>,
    /// service → resource type → trace name → targets.
    by_operation: Index,
    /// Targets of `complete` notifications.
    complete: Vec<usize>,
}

/// A field of a trace as text (numbers and booleans written as JSON writes them).
/// `trace_rating` falls back to the older `trace_status`, as the decoder reads it.
fn text<'t>(trace: &'t Map<String, Value>, field: &str) -> Option<Cow<'t, str>> {
    let value = match (trace.get(field), field) {
        (None | Some(Value::Null), "trace_rating") => trace.get("trace_status")?,
        (v, _) => v?,
    };
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// The operator's name: `user.name` (else `user.user_name`), else `user_name`.
fn operator(trace: &Map<String, Value>) -> Option<&str> {
    match trace.get("user") {
        Some(Value::Object(user)) => user
            .get("name")
            .or_else(|| user.get("user_name"))
            .and_then(Value::as_str),
        _ => trace.get("user_name").and_then(Value::as_str),
    }
}

impl Matcher {
    /// Compile the enabled notifications (with a topic) of `notifications`.
    pub fn new(notifications: &[Notification]) -> Matcher {
        let mut m = Matcher::default();
        for n in notifications.iter().filter(|n| n.enabled()) {
            let Some(topic) = &n.topic_id else { continue };
            let users: HashSet<String> = n
                .notify_user_list
                .iter()
                .flat_map(|g| g.user_list.iter().cloned())
                .collect();
            let filter = n.filter.as_ref().filter(|f| f.is_support_filter).map(|f| {
                let rules = f
                    .rule
                    .iter()
                    .filter_map(|r| parse_rule(r).ok())
                    .filter_map(|r: Rule| {
                        let field = FILTER_FIELDS.iter().position(|f| *f == r.field)?;
                        Some((field, r.equal, r.value))
                    })
                    .collect();
                (f.condition == "AND", rules)
            });
            let index = m.targets.len();
            m.targets.push(Target {
                notification_id: n.notification_id.clone(),
                notification_name: n.notification_name.clone(),
                notification_type: n.notification_type.clone(),
                topic_id: topic.clone(),
                users: (!users.is_empty()).then_some(users),
                filter,
            });
            if n.operation_type == "complete" {
                m.complete.push(index);
                continue;
            }
            for op in &n.operations {
                let names = m
                    .by_operation
                    .entry(op.service_type.clone())
                    .or_default()
                    .entry(op.resource_type.clone())
                    .or_default();
                for name in &op.trace_names {
                    let targets = names.entry(name.clone()).or_default();
                    if !targets.contains(&index) {
                        targets.push(index);
                    }
                }
            }
        }
        m
    }

    /// Whether no notification can fire.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The target `index` (as [`Matcher::matches`] gives).
    pub fn target(&self, index: usize) -> &Target {
        &self.targets[index]
    }

    /// The targets `trace` fires, into `out` (cleared first), each once.
    pub fn matches(&self, trace: &Map<String, Value>, out: &mut Vec<usize>) {
        out.clear();
        if self.targets.is_empty() {
            return;
        }
        let by_operation = text(trace, "service_type")
            .and_then(|s| self.by_operation.get(s.as_ref()))
            .and_then(|r| text(trace, "resource_type").and_then(|t| r.get(t.as_ref())))
            .and_then(|n| text(trace, "trace_name").and_then(|t| n.get(t.as_ref())));
        let candidates = self
            .complete
            .iter()
            .chain(by_operation.into_iter().flatten());
        // The fields rules test, read from the trace once (and only when a notification may fire).
        let mut fields: Option<Fields<'_>> = None;
        for &i in candidates {
            let fields = fields.get_or_insert_with(|| Fields::of(trace));
            if !out.contains(&i) && fires(&self.targets[i], fields) {
                out.push(i);
            }
        }
    }
}

/// The values of a trace that notifications test: the operator and each of [`FILTER_FIELDS`].
struct Fields<'t> {
    operator: Option<&'t str>,
    values: Vec<Option<Cow<'t, str>>>,
}

impl<'t> Fields<'t> {
    fn of(trace: &'t Map<String, Value>) -> Fields<'t> {
        Fields {
            operator: operator(trace),
            values: FILTER_FIELDS.iter().map(|f| text(trace, f)).collect(),
        }
    }
}

fn fires(target: &Target, fields: &Fields<'_>) -> bool {
    if let Some(users) = &target.users
        && !fields.operator.is_some_and(|u| users.contains(u))
    {
        return false;
    }
    let Some((all, rules)) = &target.filter else {
        return true;
    };
    let holds = |(field, equal, value): &FieldRule| {
        let same = fields.values[*field]
            .as_deref()
            .is_some_and(|v| v == value.as_str());
        same == *equal
    };
    if *all {
        rules.iter().all(holds)
    } else {
        rules.is_empty() || rules.iter().any(holds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::book::{Filter, Operation, UserGroup};
    use serde_json::json;

    fn notification(name: &str, kind: &str) -> Notification {
        Notification {
            notification_id: format!("id-{name}"),
            notification_name: name.into(),
            notification_type: "smn".into(),
            operation_type: kind.into(),
            operations: vec![],
            notify_user_list: vec![],
            topic_id: Some("urn:smn:eu-de:p:t".into()),
            filter: None,
            status: "enabled".into(),
            project_id: "p".into(),
            domain_id: "p".into(),
            create_time: 0,
            agency_name: None,
        }
    }

    fn fired(m: &Matcher, trace: Value) -> Vec<String> {
        let mut out = Vec::new();
        m.matches(trace.as_object().expect("object"), &mut out);
        out.iter()
            .map(|&i| m.target(i).notification_name.clone())
            .collect()
    }

    #[test]
    fn operations_users_and_filters() {
        let mut deletes = notification("deletes", "customized");
        deletes.operations = vec![Operation {
            service_type: "IAM".into(),
            resource_type: "user".into(),
            trace_names: vec!["deleteUser".into(), "deleteUser".into()],
        }];
        let mut by_root = notification("by_root", "complete");
        by_root.notify_user_list = vec![UserGroup {
            user_group: "admin".into(),
            user_list: vec!["root".into()],
        }];
        let mut failures = notification("failures", "complete");
        failures.filter = Some(Filter {
            condition: "AND".into(),
            is_support_filter: true,
            rule: vec!["code != 200".into(), "trace_rating = warning".into()],
        });
        let mut either = notification("either", "complete");
        either.filter = Some(Filter {
            condition: "OR".into(),
            is_support_filter: true,
            rule: vec!["resource_id = r1".into(), "api_version = v2".into()],
        });
        let mut off = notification("off", "complete");
        off.status = "disabled".into();
        let m = Matcher::new(&[deletes, by_root, failures, either, off]);

        let trace = |service: &str, kind: &str, name: &str, user: &str, code: Value| {
            json!({"service_type": service, "resource_type": kind, "trace_name": name,
                   "user": {"name": user}, "code": code, "trace_rating": "warning",
                   "resource_id": "r2", "api_version": "v1"})
        };
        assert_eq!(
            fired(&m, trace("IAM", "user", "deleteUser", "bob", json!(200))),
            ["deletes"]
        );
        assert_eq!(
            fired(&m, trace("IAM", "user", "createUser", "root", json!(200))),
            ["by_root"]
        );
        // code as a number or as a string: both compare as text.
        assert_eq!(
            fired(&m, trace("ECS", "ecs", "x", "bob", json!(403))),
            ["failures"]
        );
        assert_eq!(
            fired(&m, trace("ECS", "ecs", "x", "bob", json!("403"))),
            ["failures"]
        );
        let mut t = trace("IAM", "user", "deleteUser", "root", json!(500));
        t["resource_id"] = json!("r1");
        assert_eq!(fired(&m, t), ["by_root", "failures", "either", "deletes"]);
        assert_eq!(fired(&m, json!({})), Vec::<String>::new());
        // The older trace_status stands for trace_rating; user.user_name for user.name.
        let older = json!({"service_type": "ECS", "resource_type": "ecs", "trace_name": "x",
                           "user": {"user_name": "root"}, "code": 500, "trace_status": "warning"});
        assert_eq!(fired(&m, older), ["by_root", "failures"]);
        assert!(Matcher::new(&[]).is_empty());
    }
}
