//! Replay: which traces already stored (hot store and archive) a notification would have fired,
//! so rules can be tuned on history before they page anyone.

use datafusion::prelude::{SessionContext, col};
use futures::StreamExt;
use serde_json::Value;

use cts_core::trace::col as c;

use crate::error::Result;
use crate::notify::book::Notification;
use crate::notify::matcher::Matcher;
use crate::output::trace_json::traces_json;
use crate::query::ts_literal as ts;

/// The traces of `traces` in `ctx` with `from_ms <= time < to_ms` that `notification` fires
/// (as if enabled), oldest first, each given to `found` as it is found. Returns how many
/// traces were looked at.
pub async fn replay(
    ctx: &SessionContext,
    notification: &Notification,
    from_ms: i64,
    to_ms: i64,
    found: &mut dyn FnMut(&Value) -> Result<()>,
) -> Result<u64> {
    let mut rules = notification.clone();
    rules.status = "enabled".into();
    if rules.topic_id.is_none() {
        rules.topic_id = Some("replay".into());
    }
    let matcher = Matcher::new(std::slice::from_ref(&rules));
    let df = ctx
        .table(crate::query::TRACES_TABLE)
        .await?
        .filter(
            col(c::TIME)
                .gt_eq(ts(from_ms))
                .and(col(c::TIME).lt(ts(to_ms))),
        )?
        .sort(vec![
            col(c::TIME).sort(true, false),
            col(c::TRACE_ID).sort(true, false),
        ])?;
    let mut stream = df.execute_stream().await?;
    let mut seen = 0u64;
    let (mut traces, mut fired) = (Vec::new(), Vec::new());
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        seen += batch.num_rows() as u64;
        traces.clear();
        traces_json(&batch, &mut traces);
        for trace in &traces {
            if let Some(map) = trace.as_object() {
                matcher.matches(map, &mut fired);
                if !fired.is_empty() {
                    found(trace)?;
                }
            }
        }
    }
    Ok(seen)
}
