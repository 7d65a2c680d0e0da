//! What one query may use: memory and time, and which statements a reader may run.

use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;

use crate::error::{Error, Result};

/// Limits on what one query may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Memory for operators that buffer (sorts, joins, aggregations); they spill to disk where
    /// they can and fail with [`Error::MemoryLimit`] where they cannot.
    pub memory_bytes: usize,
    /// Wall time, after which the query is stopped with [`Error::QueryTimeout`].
    pub timeout: Option<std::time::Duration>,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            memory_bytes: 4 << 30,
            timeout: None,
        }
    }
}

impl QueryLimits {
    /// Run a query's future under the timeout, and turn running out of memory into
    /// [`Error::MemoryLimit`].
    pub async fn enforce<T>(
        &self,
        query: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, query)
                .await
                .map_err(|_| Error::QueryTimeout { limit })?,
            None => query.await,
        };
        result.map_err(|e| match e {
            Error::Query(df)
                if matches!(df.find_root(), DataFusionError::ResourcesExhausted(_)) =>
            {
                Error::MemoryLimit {
                    limit: self.memory_bytes,
                    detail: df.find_root().to_string(),
                }
            }
            other => other,
        })
    }
}

/// Options that refuse DDL (CREATE, DROP), DML (INSERT, COPY) and statements (SET, PREPARE,
/// transactions). Queries, EXPLAIN, DESCRIBE and SHOW (which become queries of
/// `information_schema`) pass: the shell without `--write`, the console's SQL page.
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}
