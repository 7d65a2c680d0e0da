//! The session: one DataFusion [`SessionContext`] with `traces`, `hot_traces` and
//! `archive_traces`, the JSON functions, and the archive's object store seen through the
//! visibility rule.

use std::path::Path;
use std::sync::Arc;

use cts_core::storage::Location;
use cts_core::store::archive::{Archive, MANIFEST_DIR, TRACES_DIR, VisibleStore};
use datafusion::catalog::TableProvider;
use datafusion::datasource::ViewTable;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};
use crate::query::limits::QueryLimits;
use crate::query::tables::{HotTable, TieredTable, archive_table, manifest_table};

/// Name of the table of all traces: the hot store and the archive, each trace once.
pub const TRACES_TABLE: &str = "traces";
/// Name of the table of the hot store's traces (at or after the watermark).
pub const HOT_TABLE: &str = "hot_traces";
/// Name of the view of `traces` with who did each, `operator` and `domain`, as the reports name
/// them (`sql/attributed_traces.sql`).
pub const ATTRIBUTED_VIEW: &str = "attributed_traces";
/// Its query.
const ATTRIBUTED_SQL: &str = include_str!("../../sql/attributed_traces.sql");

/// Name of the view of the manifest: every source file a load read, what became of it, and
/// what its digest said of it (`sql/trace_files.sql`).
pub const TRACE_FILES_VIEW: &str = "trace_files";
/// Its query.
const TRACE_FILES_SQL: &str = include_str!("../../sql/trace_files.sql");
/// The name its query gives the manifest's entries (registered only while it is planned).
const TRACE_FILE_ENTRIES: &str = "trace_file_entries";

/// Name of the table of the archive's traces, all of them.
pub const ARCHIVE_TABLE: &str = "archive_traces";

/// A session over `archive` alone (no hot store) with the default limits.
pub async fn session(archive: &Archive) -> Result<SessionContext> {
    session_with(archive, None, &QueryLimits::default()).await
}

/// A session over `archive` and the hot store in `hot` (a folder, which need not exist yet)
/// with `traces`, `hot_traces` and `archive_traces` registered, within `limits`.
pub async fn session_with(
    archive: &Archive,
    hot: Option<&Path>,
    limits: &QueryLimits,
) -> Result<SessionContext> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory_bytes, 1.0)
        .build_arc()?;
    let mut ctx = SessionContext::new_with_config_rt(session_config(), runtime);
    datafusion_functions_json::register_all(&mut ctx)?;
    register_location(&ctx, archive.location());
    let archive_traces = archive_table(archive)?;
    let traces: Arc<dyn TableProvider> = match hot {
        Some(dir) => {
            let dir = std::path::absolute(dir).map_err(|e| Error::io("resolve", dir, e))?;
            let hot = Arc::new(HotTable::new(dir));
            ctx.register_table(HOT_TABLE, hot.clone())?;
            Arc::new(TieredTable::new(hot, archive_traces.clone()))
        }
        None => archive_traces.clone(),
    };
    register_tables(&ctx, archive, archive_traces, traces).await?;
    Ok(ctx)
}

/// The configuration of every session, local or on a cluster: the catalog `cts.public`,
/// `information_schema`, and Parquet filters evaluated while decoding.
pub(crate) fn session_config() -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_default_catalog_and_schema("cts", "public");
    // Late materialisation: a selective filter (one trace_id, one resource, one user) is
    // evaluated on its own columns first, and the other columns are decoded only for the rows
    // that pass (one trace by trace_id at 1M traces: 109 ms to about 50).
    let parquet = &mut config.options_mut().execution.parquet;
    parquet.pushdown_filters = true;
    parquet.reorder_filters = true;
    config
}

/// Register `archive_traces`, `traces` and the views over them (`attributed_traces`,
/// `trace_files`) in `ctx`, which knows the JSON functions and the archive's store.
pub(crate) async fn register_tables(
    ctx: &SessionContext,
    archive: &Archive,
    archive_traces: Arc<dyn TableProvider>,
    traces: Arc<dyn TableProvider>,
) -> Result<()> {
    if let Some(dir) = archive.location().local_path() {
        for folder in [TRACES_DIR, MANIFEST_DIR] {
            let path = dir.join(folder);
            std::fs::create_dir_all(&path).map_err(|e| Error::io("create folder", &path, e))?;
        }
    }
    ctx.register_table(ARCHIVE_TABLE, archive_traces)?;
    ctx.register_table(TRACES_TABLE, traces)?;
    let plan = ctx.state().create_logical_plan(ATTRIBUTED_SQL).await?;
    let view = ViewTable::new(plan, Some(ATTRIBUTED_SQL.to_string()));
    ctx.register_table(ATTRIBUTED_VIEW, Arc::new(view))?;
    ctx.register_table(TRACE_FILE_ENTRIES, manifest_table(archive)?)?;
    let plan = ctx.state().create_logical_plan(TRACE_FILES_SQL).await?;
    ctx.deregister_table(TRACE_FILE_ENTRIES)?;
    let view = ViewTable::new(plan, Some(TRACE_FILES_SQL.to_string()));
    ctx.register_table(TRACE_FILES_VIEW, Arc::new(view))?;
    Ok(())
}

/// Make a bucket's object store known to the session, seen through
/// [`VisibleStore`] so that the files a compaction replaced are not read twice
/// (local folders too: the store for `file://` is replaced with the same view of it).
pub fn register_location(ctx: &SessionContext, location: &Location) {
    ctx.register_object_store(location.root_url(), visible_store(location));
}

/// A bucket's object store seen through [`VisibleStore`] (for `file://`, the local file
/// system), as sessions and the processes of a cluster register it.
pub(crate) fn visible_store(location: &Location) -> Arc<dyn object_store::ObjectStore> {
    let store: Arc<dyn object_store::ObjectStore> = if location.root_url().scheme() == "file" {
        Arc::new(object_store::local::LocalFileSystem::new())
    } else {
        location.store().clone()
    };
    Arc::new(VisibleStore::new(store))
}
