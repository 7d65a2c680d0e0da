//! Which enabled notifications a trace fires (cts-spec.md §3.6): a notification fires when the
//! trace's operation is one of its `operations` (or it is `complete`), its operator is in
//! `notify_user_list` (when one is given), and its filter holds.
//!
//! A [`Matcher`] is compiled once per change of a project's notifications, into two levels of
//! index: `customized` notifications by service, resource type and trace name; then, within
//! each operation (and among the `complete` ones), those whose filter needs `FIELD = VALUE`
//! (an `AND` filter with an `=` rule) by that field's value. A trace costs a few hash lookups
//! whatever the number of notifications, plus the full check of the few that may still fire;
//! it reads only the fields those need, each once.

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
    /// `(all rules must hold, the rules)`.
    filter: Option<(bool, Vec<FieldRule>)>,
}

/// A filter rule compiled: the field's index in [`FILTER_FIELDS`], `=` (true) or `!=`, the value.
type FieldRule = (usize, bool, String);

/// The targets one lookup reaches: those a trace may fire whatever its fields, and those that
/// need a field to hold one value, by that field and value.
#[derive(Debug, Default)]
struct Candidates {
    any: Vec<usize>,
    /// `(field's index in FILTER_FIELDS, value → targets)`.
    by_value: Vec<(usize, HashMap<String, Vec<usize>>)>,
}

impl Candidates {
    fn add(&mut self, index: usize, target: &Target) {
        let needed = match &target.filter {
            Some((true, rules)) => rules.iter().find(|(_, equal, _)| *equal),
            _ => None,
        };
        let list = match needed {
            None => &mut self.any,
            Some((field, _, value)) => {
                let at = match self.by_value.iter().position(|(f, _)| f == field) {
                    Some(at) => at,
                    None => {
                        self.by_value.push((*field, HashMap::new()));
                        self.by_value.len() - 1
                    }
                };
                self.by_value[at].1.entry(value.clone()).or_default()
            }
        };
        if !list.contains(&index) {
            list.push(index);
        }
    }

    /// The targets `fields`' trace may fire, appended to `out`.
    fn collect(&self, fields: &mut Fields<'_>, out: &mut Vec<usize>) {
        out.extend_from_slice(&self.any);
        for (field, by_value) in &self.by_value {
            if let Some(targets) = fields.get(*field).and_then(|v| by_value.get(v)) {
                out.extend_from_slice(targets);
            }
        }
    }
}

/// service → resource type → trace name → candidates.
type Index = HashMap<String, HashMap<String, HashMap<String, Candidates>>>;

/// The enabled notifications of a project, compiled.
#[derive(Debug, Default)]
pub struct Matcher {
    targets: Vec<Target>,
    by_operation: Index,
    /// The `complete` notifications.
    complete: Candidates,
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
            let target = Target {
                notification_id: n.notification_id.clone(),
                notification_name: n.notification_name.clone(),
                notification_type: n.notification_type.clone(),
                topic_id: topic.clone(),
                users: (!users.is_empty()).then_some(users),
                filter,
            };
            let index = m.targets.len();
            if n.operation_type == "complete" {
                m.complete.add(index, &target);
            }
            for op in n
                .operations
                .iter()
                .filter(|_| n.operation_type != "complete")
            {
                let names = m
                    .by_operation
                    .entry(op.service_type.clone())
                    .or_default()
                    .entry(op.resource_type.clone())
                    .or_default();
                for name in &op.trace_names {
                    names.entry(name.clone()).or_default().add(index, &target);
                }
            }
            m.targets.push(target);
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

    /// The targets `trace` fires, into `out` (cleared first), each once, in the order of the
    /// notifications.
    pub fn matches(&self, trace: &Map<String, Value>, out: &mut Vec<usize>) {
        out.clear();
        if self.targets.is_empty() {
            return;
        }
        let mut fields = Fields::of(trace);
        self.complete.collect(&mut fields, out);
        let operation = text(trace, "service_type")
            .and_then(|s| self.by_operation.get(s.as_ref()))
            .and_then(|r| text(trace, "resource_type").and_then(|t| r.get(t.as_ref())))
            .and_then(|n| text(trace, "trace_name").and_then(|t| n.get(t.as_ref())));
        if let Some(candidates) = operation {
            candidates.collect(&mut fields, out);
        }
        if out.is_empty() {
            return;
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|&i| fires(&self.targets[i], &mut fields));
    }
}

/// The values of a trace that notifications test (the operator and each of [`FILTER_FIELDS`]),
/// each read when first needed.
struct Fields<'t> {
    trace: &'t Map<String, Value>,
    operator: Option<Option<&'t str>>,
    values: [Option<Option<Cow<'t, str>>>; FILTER_FIELDS.len()],
}

impl<'t> Fields<'t> {
    fn of(trace: &'t Map<String, Value>) -> Fields<'t> {
        Fields {
            trace,
            operator: None,
            values: Default::default(),
        }
    }

    /// The field `FILTER_FIELDS[field]` as text.
    fn get(&mut self, field: usize) -> Option<&str> {
        let trace = self.trace;
        self.values[field]
            .get_or_insert_with(|| text(trace, FILTER_FIELDS[field]))
            .as_deref()
    }

    fn operator(&mut self) -> Option<&'t str> {
        let trace = self.trace;
        *self.operator.get_or_insert_with(|| operator(trace))
    }
}

fn fires(target: &Target, fields: &mut Fields<'_>) -> bool {
    if let Some(users) = &target.users
        && !fields.operator().is_some_and(|u| users.contains(u))
    {
        return false;
    }
    let Some((all, rules)) = &target.filter else {
        return true;
    };
    let holds = |(field, equal, value): &FieldRule| {
        let same = fields.get(*field).is_some_and(|v| v == value.as_str());
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
        assert_eq!(fired(&m, t), ["deletes", "by_root", "failures", "either"]);
        assert_eq!(fired(&m, json!({})), Vec::<String>::new());
        // The older trace_status stands for trace_rating; user.user_name for user.name.
        let older = json!({"service_type": "ECS", "resource_type": "ecs", "trace_name": "x",
                           "user": {"user_name": "root"}, "code": 500, "trace_status": "warning"});
        assert_eq!(fired(&m, older), ["by_root", "failures"]);
        assert!(Matcher::new(&[]).is_empty());
    }

    #[test]
    fn filters_indexed_by_a_needed_value_still_check_every_rule() {
        let and = |name: &str, rules: &[&str]| {
            let mut n = notification(name, "customized");
            n.operations = vec![Operation {
                service_type: "ECS".into(),
                resource_type: "ecs".into(),
                trace_names: vec!["deleteServer".into()],
            }];
            n.filter = Some(Filter {
                condition: "AND".into(),
                is_support_filter: true,
                rule: rules.iter().map(|r| r.to_string()).collect(),
            });
            n
        };
        let m = Matcher::new(&[
            and("r1_denied", &["resource_id = r1", "code = 403"]),
            and("r1", &["resource_id = r1"]),
            and("r2", &["resource_id = r2"]),
            and("denied", &["code = 403", "resource_id != r2"]),
            and("not_r1", &["resource_id != r1"]),
        ]);
        let trace = |id: &str, code: Value| {
            json!({"service_type": "ECS", "resource_type": "ecs", "trace_name": "deleteServer",
                   "resource_id": id, "code": code})
        };
        assert_eq!(
            fired(&m, trace("r1", json!(403))),
            ["r1_denied", "r1", "denied"]
        );
        assert_eq!(fired(&m, trace("r1", json!(200))), ["r1"]);
        assert_eq!(fired(&m, trace("r2", json!("403"))), ["r2", "not_r1"]);
        assert_eq!(fired(&m, trace("r3", json!(403))), ["denied", "not_r1"]);
        let mut other = trace("r1", json!(403));
        other["trace_name"] = json!("startServer");
        assert_eq!(fired(&m, other), Vec::<String>::new());
    }
}
