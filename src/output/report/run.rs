//! Running a report, and every report as a view (`report_<name>`).

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::output::report::catalog::{Report, builtin};
use crate::query::QueryLimits;

/// Run a report with parameter values; returns its schema and rows.
pub async fn run(
    ctx: &SessionContext,
    report: &Report,
    values: &BTreeMap<String, String>,
    limits: &QueryLimits,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let sql = report.render(values)?;
    limits
        .enforce(async {
            let df = ctx.sql(&sql).await?;
            let schema = df.schema().inner().clone();
            let batches = df.collect().await?;
            Ok((schema, batches))
        })
        .await
}

/// Make every built-in report a view, `report_<name>`, with its default parameters (the last
/// 30 days, mostly): `SELECT * FROM report_incidents`.
pub async fn register_views(ctx: &SessionContext) -> Result<()> {
    for report in builtin()? {
        let sql = report.render(&BTreeMap::new())?;
        let plan = ctx.state().create_logical_plan(&sql).await?;
        let view = datafusion::datasource::ViewTable::new(plan, Some(sql));
        ctx.register_table(format!("report_{}", report.name), std::sync::Arc::new(view))?;
    }
    Ok(())
}
