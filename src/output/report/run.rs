//! Running a report, and every report as a view (`report_<name>`).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, SchemaProvider, TableProvider};
use datafusion::datasource::ViewTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};
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
/// 30 days, mostly): `SELECT * FROM report_incidents`. A view is planned the first time a
/// statement names it, so a session that uses none pays nothing for them (`cts sql "SELECT 1"`).
pub fn register_views(ctx: &SessionContext) -> Result<()> {
    let state = ctx.state();
    let defaults = &state.config_options().catalog;
    let (catalog, schema) = (
        defaults.default_catalog.clone(),
        defaults.default_schema.clone(),
    );
    let catalog = ctx
        .catalog(&catalog)
        .ok_or_else(|| Error::internal(format!("no catalog {catalog}")))?;
    let tables = catalog
        .schema(&schema)
        .ok_or_else(|| Error::internal(format!("no schema {schema}")))?;
    let views = ReportViews {
        tables,
        reports: builtin()?
            .into_iter()
            .map(|r| (format!("{VIEW_PREFIX}{}", r.name), r))
            .collect(),
        planning: ctx.copied_config(),
        catalog_name: ctx.state().config_options().catalog.default_catalog.clone(),
        schema_name: schema.clone(),
    };
    catalog.register_schema(&schema, Arc::new(views))?;
    Ok(())
}

/// The prefix of the report views' names.
const VIEW_PREFIX: &str = "report_";

/// The session's tables, and a view for every report, planned when first named.
#[derive(Debug)]
struct ReportViews {
    /// The session's own tables (and each report's view once planned).
    tables: Arc<dyn SchemaProvider>,
    /// The reports, by view name.
    reports: BTreeMap<String, Report>,
    /// The configuration views are planned with.
    planning: SessionConfig,
    catalog_name: String,
    schema_name: String,
}

impl ReportViews {
    /// Plan the view of `report` over the session's tables (in a context of its own, which
    /// knows those tables and the JSON functions, and is dropped once the plan is made).
    async fn plan(&self, report: &Report) -> DfResult<Arc<dyn TableProvider>> {
        let mut planner = SessionContext::new_with_config(self.planning.clone());
        datafusion_functions_json::register_all(&mut planner)?;
        let catalog = Arc::new(MemoryCatalogProvider::new());
        catalog.register_schema(&self.schema_name, self.tables.clone())?;
        planner.register_catalog(&self.catalog_name, catalog);
        let sql = report
            .render(&BTreeMap::new())
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let plan = planner.state().create_logical_plan(&sql).await?;
        Ok(Arc::new(ViewTable::new(plan, Some(sql))))
    }
}

#[async_trait::async_trait]
impl SchemaProvider for ReportViews {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.tables.table_names();
        for name in self.reports.keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.tables.table(name).await? {
            return Ok(Some(table));
        }
        let Some(report) = self.reports.get(name) else {
            return Ok(None);
        };
        let view = self.plan(report).await?;
        // Kept for the next statement; a view planned twice at once is the same view.
        if !self.tables.table_exist(name) {
            self.tables.register_table(name.to_string(), view.clone())?;
        }
        Ok(Some(view))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.tables.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.tables.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.table_exist(name) || self.reports.contains_key(name)
    }
}
