//! A cluster query that stops before its end (its time limit, Ctrl-C, a reader that went away)
//! cancels its job on the scheduler. Ballista's client only stops waiting: the job would run on,
//! holding the executors' task slots, after the client has given up on it.
//!
//! [`CancellingPlanner`] wraps the plan Ballista's planner makes (a `DistributedQueryExec`, one
//! scheduler job) in [`CancelOnDrop`], whose stream, dropped before it ended, asks the scheduler
//! to cancel that job and waits (at most [`CANCEL_TIMEOUT`]) for the answer.

use std::any::Any;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::serde::protobuf::CancelJobParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::utils::{GrpcClientConfig, create_grpc_client_connection};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion_proto::protobuf::LogicalPlanNode;
use futures::Stream;

/// How long a stopped query waits for the scheduler to confirm the cancellation.
pub const CANCEL_TIMEOUT: Duration = Duration::from_secs(3);

/// Ballista's query planner, whose cluster jobs cancel themselves when stopped early.
#[derive(Debug)]
pub(super) struct CancellingPlanner {
    inner: Arc<dyn QueryPlanner + Send + Sync>,
    /// `http://HOST:PORT` of the scheduler.
    scheduler: String,
}

impl CancellingPlanner {
    pub(super) fn new(inner: Arc<dyn QueryPlanner + Send + Sync>, host: &str, port: u16) -> Self {
        CancellingPlanner {
            inner,
            scheduler: format!("http://{host}:{port}"),
        }
    }
}

#[async_trait::async_trait]
impl QueryPlanner for CancellingPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn datafusion::catalog::Session,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self
            .inner
            .create_physical_plan(logical_plan, session)
            .await?;
        if job_of(plan.as_ref()).is_some() {
            return Ok(Arc::new(CancelOnDrop {
                job: plan,
                scheduler: self.scheduler.clone(),
            }));
        }
        // Run here, not on the cluster (information_schema, an empty relation).
        Ok(plan)
    }
}

fn job_of(plan: &dyn ExecutionPlan) -> Option<&DistributedQueryExec<LogicalPlanNode>> {
    (plan as &dyn Any).downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
}

/// One cluster job (a `DistributedQueryExec`), cancelled on the scheduler when a stream of its
/// results is dropped before its end.
#[derive(Debug)]
pub(super) struct CancelOnDrop {
    job: Arc<dyn ExecutionPlan>,
    scheduler: String,
}

impl DisplayAs for CancelOnDrop {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.job.fmt_as(t, f)
    }
}

impl ExecutionPlan for CancelOnDrop {
    fn name(&self) -> &str {
        self.job.name()
    }

    fn downcast_delegate(&self) -> Option<&dyn ExecutionPlan> {
        Some(self.job.as_ref())
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.job.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        Ok(Box::pin(CancellingStream {
            inner: self.job.execute(partition, context)?,
            job: Arc::clone(&self.job),
            scheduler: self.scheduler.clone(),
            ended: false,
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.job.metrics()
    }
}

struct CancellingStream {
    inner: SendableRecordBatchStream,
    job: Arc<dyn ExecutionPlan>,
    scheduler: String,
    /// The job ended (its last batch or its error came): nothing to cancel.
    ended: bool,
}

impl Stream for CancellingStream {
    type Item = DfResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.inner.as_mut().poll_next(cx);
        if matches!(next, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.ended = true;
        }
        next
    }
}

impl RecordBatchStream for CancellingStream {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}

impl Drop for CancellingStream {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // The scheduler names the job once it has accepted it; a query stopped before that
        // has nothing to cancel yet.
        let Some(job_id) = job_of(self.job.as_ref()).and_then(|job| job.job_id()) else {
            return;
        };
        let job_id = String::from(job_id);
        let scheduler = self.scheduler.clone();
        // Drop cannot await, and the runtime may be shutting down: a thread with its own
        // runtime sends the request, and the stream waits for it (bounded), so that the job is
        // cancelled by the time the query's error is reported.
        let sent = std::thread::spawn(move || cancel(&scheduler, job_id));
        if let Ok(Err(problem)) = sent.join() {
            eprintln!("cts: warning: {problem}");
        }
    }
}

/// Ask the scheduler at `scheduler` to cancel `job_id`.
fn cancel(scheduler: &str, job_id: String) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cancelling cluster job {job_id}: {e}"))?;
    let config = GrpcClientConfig {
        connect_timeout_seconds: CANCEL_TIMEOUT.as_secs(),
        timeout_seconds: CANCEL_TIMEOUT.as_secs(),
        ..GrpcClientConfig::default()
    };
    let request = async {
        let channel = create_grpc_client_connection(scheduler.to_string(), &config)
            .await
            .map_err(|e| e.to_string())?;
        SchedulerGrpcClient::new(channel)
            .cancel_job(CancelJobParams {
                job_id: job_id.clone(),
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    };
    runtime
        .block_on(async { tokio::time::timeout(CANCEL_TIMEOUT, request).await })
        .map_err(|_| format!("cancelling cluster job {job_id}: no answer from {scheduler}"))?
        .map_err(|e| format!("cancelling cluster job {job_id} at {scheduler}: {e}"))
}
