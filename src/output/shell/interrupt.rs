//! Ctrl-C: cancelling the running query, even when its operators keep every worker busy.

use std::future::Future;

use crate::error::{Error, Result};

/// Run `query` until it ends or `cancel` completes, whichever is first; a cancelled query is
/// dropped, which stops its execution, and ends with [`Error::Cancelled`].
pub(crate) async fn cancellable<T>(
    query: impl Future<Output = Result<T>>,
    cancel: impl Future<Output = ()>,
) -> Result<T> {
    tokio::select! {
        result = query => result,
        () = cancel => Err(Error::Cancelled),
    }
}

/// Ctrl-C presses, counted on a thread of their own with a runtime of its own: a query whose
/// operators compute without yielding can keep every worker thread of the main runtime busy,
/// and then none would be free to notice the signal.
#[derive(Debug)]
pub(crate) struct Interrupts {
    presses: tokio::sync::watch::Receiver<u64>,
}

impl Interrupts {
    /// Start listening; from then on Ctrl-C no longer ends the process.
    pub(crate) fn listen() -> Result<Interrupts> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("start", "the Ctrl-C listener", e))?;
        let (count, presses) = tokio::sync::watch::channel(0_u64);
        let (listening, ready) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("cts-ctrl-c".into())
            .spawn(move || {
                runtime.block_on(async move {
                    loop {
                        // The handler is installed at the first poll: say so once it is.
                        let mut press = Box::pin(tokio::signal::ctrl_c());
                        let early = futures::FutureExt::now_or_never(&mut press);
                        let _ = listening.send(());
                        let pressed = match early {
                            Some(pressed) => pressed,
                            None => press.await,
                        };
                        if pressed.is_err() || count.is_closed() {
                            return;
                        }
                        count.send_modify(|n| *n += 1);
                    }
                });
            })
            .map_err(|e| Error::io("start", "the Ctrl-C listener", e))?;
        // Within moments; a listener that never starts only means Ctrl-C cannot cancel.
        let _ = ready.recv_timeout(std::time::Duration::from_secs(5));
        Ok(Interrupts { presses })
    }

    /// Completes at the next Ctrl-C (not at one pressed before); never if there can be none.
    pub(crate) async fn pressed(&self) {
        let mut presses = self.presses.clone();
        presses.mark_unchanged();
        if presses.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    use datafusion::prelude::SessionContext;

    use crate::query::QueryLimits;

    #[tokio::test]
    async fn ctrl_c_path_drops_the_running_query() {
        // A query that runs until stopped: a recursive CTE producing a row at a time.
        let ctx = SessionContext::new();
        let limits = QueryLimits::default();
        let query = async {
            let df = ctx
                .sql(
                    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r \
                     WHERE n < 1000000000000) SELECT count(*) FROM r",
                )
                .await?;
            Ok::<_, Error>(df.collect().await?)
        };
        let cancel = tokio::time::sleep(std::time::Duration::from_millis(300));
        let started = Instant::now();
        let result = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            cancellable(limits.enforce(query), cancel),
        )
        .await;
        assert!(
            matches!(result, Ok(Err(Error::Cancelled))),
            "{:?}",
            result.map(|r| r.map(|_| ()))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // The session answers the next query.
        let next = ctx.sql("SELECT 41 + 1 AS n").await;
        let rows = match next {
            Ok(df) => df.collect().await,
            Err(e) => Err(e),
        };
        assert!(matches!(&rows, Ok(b) if b[0].num_rows() == 1), "{rows:?}");
        // A query that ends first is not cancelled.
        let quick = cancellable(async { Ok(7) }, std::future::pending()).await;
        assert!(matches!(quick, Ok(7)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_real_sigint_cancels_a_query_that_keeps_the_workers_busy() {
        let interrupts = match Interrupts::listen() {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        // Two busy loops that never yield hold both worker threads, as a cross join can.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        for _ in 0..2 {
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        let query = std::future::pending::<Result<()>>();
        let pid = std::process::id().to_string();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
        });
        let bounded = std::time::Duration::from_secs(20);
        let cancelled = std::thread::spawn(move || {
            // The test's own runtime has no free worker: wait on a thread of its own.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(async move {
                    tokio::time::timeout(bounded, cancellable(query, interrupts.pressed())).await
                }),
                Err(e) => panic!("{e}"),
            }
        })
        .join();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            matches!(cancelled, Ok(Ok(Err(Error::Cancelled)))),
            "{:?}",
            cancelled.map(|r| r.map(|r| r.map(|_| ())))
        );
        assert!(matches!(sender.join(), Ok(Ok(status)) if status.success()));
    }
}
