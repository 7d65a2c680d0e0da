//! The archive's write lease: one writer at a time adds traces to an archive, whatever process
//! or machine it runs on, so that the trace IDs it read before writing are still all there are.
//!
//! Every writer that adds traces (a load's chunk, the hot store's appends of old traces, its
//! flush and roll-over) takes the lease, reads again the IDs of the days it writes that changed
//! since it last read them ([`Archive::refresh_ids`](super::Archive::refresh_ids)), writes, and
//! gives the lease back. Compaction adds no trace and takes no lease.
//!
//! The lease is a numbered object, `_cts/lease/<generation>.json`, created with a conditional
//! create (`PutMode::Create`: `If-None-Match: *` on S3, a hard link on a local disk) so that of
//! two writers taking generation *n*, one fails. A holder writes its run, host, process and the
//! time the lease expires; it gives the lease back by marking its object released. The next
//! writer takes generation *n + 1* once *n* is released, expired, or held by a process of this
//! host that is gone (killed or crashed), and deletes the generations before *n*. Generations
//! only grow, so a writer that read a stale listing cannot take a lease someone else holds.
//!
//! The store must honour conditional creates: local folders, AWS S3, SeaweedFS and MinIO do. A
//! holder that outlives its lease ([`LEASE_TTL`]) without finishing is told so before it
//! records anything ([`Lease::check`]).

use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::Location;
use crate::store::run::RunId;

/// Folder of the lease objects.
pub const LEASE_DIR: &str = "_cts/lease";
/// How long a lease holds without being given back: far longer than one commit takes.
pub const LEASE_TTL: Duration = Duration::from_secs(600);
/// How often a writer waiting for the lease looks again.
const POLL: Duration = Duration::from_millis(100);

/// Who holds a lease, as its object says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The run holding it.
    pub run: String,
    /// What the run is doing (`load`, `hot store`, ...).
    pub purpose: String,
    /// Its host name.
    pub host: String,
    /// Its process ID.
    pub pid: u32,
    /// When it took the lease (ms since 1970).
    pub since_ms: i64,
    /// When the lease expires unless given back (ms since 1970).
    pub expires_ms: i64,
    /// Given back.
    #[serde(default)]
    pub released: bool,
}

impl Holder {
    /// Whether another writer may take the lease after this holder.
    fn is_free(&self, now_ms: i64) -> bool {
        self.released || now_ms >= self.expires_ms || self.is_gone()
    }

    /// A process of this host that no longer runs.
    fn is_gone(&self) -> bool {
        self.host == host_name()
            && self.pid != std::process::id()
            && cfg!(target_os = "linux")
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let since = chrono::DateTime::from_timestamp_millis(self.since_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        write!(
            f,
            "{} (run {}, process {} on {}, since {since})",
            self.purpose, self.run, self.pid, self.host
        )
    }
}

/// What a writer is told while it waits for the lease.
pub type WaitNotice = std::sync::Arc<dyn Fn(&Holder) + Send + Sync>;

/// The write lease, held until [`Lease::release`]. A lease dropped unreleased (its writer
/// failed) is given back in the background.
#[derive(Debug)]
pub struct Lease {
    location: Location,
    path: Path,
    holder: Holder,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.holder.released {
            return;
        }
        // Its writer failed: give the lease back in the background (a plain write, so that a
        // task dropped unfinished by a runtime shutting down leaves nothing to drop again).
        self.holder.released = true;
        if let (Ok(runtime), Ok(body)) = (
            tokio::runtime::Handle::try_current(),
            serde_json::to_vec(&self.holder),
        ) {
            let location = self.location.clone();
            let path = self.path.clone();
            runtime.spawn(async move {
                let _ = location.write(&path, body.into()).await;
            });
        }
    }
}

impl Lease {
    /// Take the lease of the archive at `location` for `run`, waiting while another writer
    /// holds it (`notice` is told once per holder waited for).
    pub async fn take(
        location: &Location,
        run: &RunId,
        purpose: &str,
        notice: Option<&WaitNotice>,
    ) -> Result<Lease> {
        let mut told: Option<String> = None;
        loop {
            let now = chrono::Utc::now().timestamp_millis();
            let latest = latest(location).await?;
            let next = match &latest {
                None => 1,
                // Listed, then gone: cleaned up by a newer holder. Look again.
                Some((_, None)) => continue,
                Some((generation, Some(holder))) if holder.is_free(now) => generation + 1,
                Some((_, Some(holder))) => {
                    if told.as_deref() != Some(holder.run.as_str()) {
                        if let Some(notice) = notice {
                            notice(holder);
                        }
                        told = Some(holder.run.clone());
                    }
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            let holder = Holder {
                run: run.to_string(),
                purpose: purpose.to_string(),
                host: host_name(),
                pid: std::process::id(),
                since_ms: now,
                expires_ms: now + LEASE_TTL.as_millis() as i64,
                released: false,
            };
            let path = location.path(&format!("{LEASE_DIR}/{next:020}.json"));
            let body =
                serde_json::to_vec(&holder).map_err(|e| Error::Internal(format!("lease: {e}")))?;
            let create = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            match location
                .store()
                .put_opts(&path, PutPayload::from(body), create)
                .await
            {
                Ok(_) => {
                    let lease = Lease {
                        location: location.clone(),
                        path,
                        holder,
                    };
                    lease.clean_up(next).await?;
                    return Ok(lease);
                }
                // Another writer took this generation first: look again.
                Err(object_store::Error::AlreadyExists { .. }) => continue,
                Err(e) => {
                    return Err(Error::storage(
                        "take the write lease",
                        location.display(&path),
                        e,
                    ));
                }
            }
        }
    }

    /// Fails when the lease has expired meanwhile: another writer may hold it now.
    pub fn check(&self) -> Result<()> {
        if chrono::Utc::now().timestamp_millis() >= self.holder.expires_ms {
            return Err(Error::LeaseExpired {
                location: self.location.display(&self.path),
            });
        }
        Ok(())
    }

    /// Give the lease back.
    pub async fn release(mut self) -> Result<()> {
        let mut holder = self.holder.clone();
        holder.released = true;
        let body =
            serde_json::to_vec(&holder).map_err(|e| Error::Internal(format!("lease: {e}")))?;
        let written = self.location.write(&self.path, body.into()).await;
        // Given back, or not to be given back by the drop either (the write failed, so would
        // that one): the lease then expires.
        self.holder.released = true;
        written
    }

    /// Delete the generations before `generation`: nobody reads them any more.
    async fn clean_up(&self, generation: u64) -> Result<()> {
        let dir = self.location.child(LEASE_DIR);
        for meta in dir.list().await? {
            if generation_of(&meta.location).is_some_and(|g| g < generation) {
                self.location.delete(&meta.location).await?;
            }
        }
        Ok(())
    }
}

/// The latest generation of the lease and its holder (`None` when it was deleted between the
/// listing and the read), or `None` when there has never been a lease.
async fn latest(location: &Location) -> Result<Option<(u64, Option<Holder>)>> {
    let dir = location.child(LEASE_DIR);
    let Some((generation, path)) = dir
        .list()
        .await?
        .into_iter()
        .filter_map(|m| Some((generation_of(&m.location)?, m.location)))
        .max_by_key(|(g, _)| *g)
    else {
        return Ok(None);
    };
    match location.store().get(&path).await {
        Ok(got) => {
            let bytes = got
                .bytes()
                .await
                .map_err(|e| Error::storage("read", location.display(&path), e))?;
            let holder = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
                location: location.display(&path),
                line: 1,
                reason: e.to_string(),
            })?;
            Ok(Some((generation, Some(holder))))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(Some((generation, None))),
        Err(e) => Err(Error::storage("read", location.display(&path), e)),
    }
}

/// The generation a lease object's name carries.
fn generation_of(path: &Path) -> Option<u64> {
    path.filename()?.strip_suffix(".json")?.parse().ok()
}

/// This host's name, as the kernel has it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_writer_waits_until_the_first_gives_the_lease_back() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("temp dir", "/tmp", e))?;
        let location = Location::local(dir.path())?;
        let first = Lease::take(&location, &RunId::new(), "load", None).await?;
        let waited = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let seen = waited.clone();
        let notice: WaitNotice = std::sync::Arc::new(move |h: &Holder| {
            if let Ok(mut s) = seen.lock() {
                s.push(h.run.clone());
            }
        });
        let second = {
            let location = location.clone();
            tokio::spawn(async move {
                Lease::take(&location, &RunId::new(), "load", Some(&notice)).await
            })
        };
        // The second writer says whom it waits for before the first lets go (bounded: a
        // writer that never says so fails the test, it does not hang it).
        let told = async {
            while waited.lock().map(|w| w.is_empty()).unwrap_or(true) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), told)
            .await
            .map_err(|_| Error::Internal("the second writer never said it waits".into()))?;
        assert!(!second.is_finished());
        let waited_for = waited.lock().map(|w| w.clone()).unwrap_or_default();
        assert_eq!(waited_for, std::slice::from_ref(&first.holder.run));
        first.release().await?;
        let second = second.await.map_err(|e| Error::Internal(e.to_string()))??;
        assert_eq!(second.path.filename(), Some("00000000000000000002.json"));
        // Generation 1 is cleaned up once 2 is taken.
        let names: Vec<String> = location
            .child(LEASE_DIR)
            .list()
            .await?
            .iter()
            .filter_map(|m| m.location.filename().map(str::to_string))
            .collect();
        assert_eq!(names, ["00000000000000000002.json"]);
        second.release().await
    }

    #[tokio::test]
    async fn a_lease_left_by_a_process_that_is_gone_is_taken_at_once() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("temp dir", "/tmp", e))?;
        let location = Location::local(dir.path())?;
        let now = chrono::Utc::now().timestamp_millis();
        let mut dead = Holder {
            run: "dead".into(),
            purpose: "load".into(),
            host: host_name(),
            pid: u32::MAX - 1,
            since_ms: now,
            expires_ms: now + 3_600_000,
            released: false,
        };
        let path = location.path(&format!("{LEASE_DIR}/{:020}.json", 7));
        let body = serde_json::to_vec(&dead).map_err(|e| Error::Internal(e.to_string()))?;
        location.write(&path, body.clone().into()).await?;
        let lease = Lease::take(&location, &RunId::new(), "load", None).await?;
        assert_eq!(lease.path.filename(), Some("00000000000000000008.json"));
        lease.release().await?;
        // Held by a process of another host until it expires: not free; expired: free.
        dead.host = "elsewhere".into();
        assert!(!dead.is_free(now));
        assert!(dead.is_free(dead.expires_ms));
        Ok(())
    }
}
