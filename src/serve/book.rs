//! The trackers of a project, as the API shows them and as `trackers.json` keeps them (with how
//! far each was transferred), replaced atomically on every change.

use std::path::{Path, PathBuf};

use cts_core::storage::fs::write_atomic;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Data trackers a project may have (`CTS.0200` beyond).
pub const DATA_TRACKER_QUOTA: usize = 99;
/// Name of the management tracker.
pub const SYSTEM: &str = "system";

/// A tracker, as the API returns it (TrackerResponseBody).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracker {
    /// UUID.
    pub id: String,
    /// Creation time, ms.
    pub create_time: i64,
    /// `system` or `data`.
    pub tracker_type: String,
    /// `system` for the management tracker.
    pub tracker_name: String,
    /// Account (the project ID here: a self-hosted service has no IAM domain).
    pub domain_id: String,
    /// Project.
    pub project_id: String,
    /// `enabled` or `disabled` as set; returned as `error` while its bucket is unusable.
    pub status: String,
    /// Why the status is `error`: `noBucket` or `bucketPolicyError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Whether trace files are verified with digest files.
    pub is_support_validate: bool,
    /// Whether trace files are encrypted (with `kms_id`).
    pub is_support_trace_files_encryption: bool,
    /// KMS key for encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_id: Option<String>,
    /// Whether the tracker applies to an organisation.
    pub is_organization_tracker: bool,
    /// Agency (`cts_admin_trust`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_name: Option<String>,
    /// `{"exclude_service": ["KMS"]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_event_selector: Option<Value>,
    /// Transfer to LTS.
    pub lts: Lts,
    /// Transfer to OBS.
    pub obs_info: ObsInfo,
    /// The bucket whose object operations a data tracker records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_bucket: Option<DataBucket>,
    /// Key-event notification as a v1.0 tracker carries it inline (kept and returned by v1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smn: Option<Smn>,
}

/// `smn` of a v1.0 tracker (cts-spec.md §3.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smn {
    /// Whether key operations are notified.
    #[serde(default)]
    pub is_support_smn: bool,
    /// The SMN topic's URN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    /// The key operations (`create`, `delete`, `login`, ...).
    #[serde(default)]
    pub operations: Vec<String>,
    /// Whether every key operation is notified (then `operations` is empty).
    #[serde(default)]
    pub is_send_all_key_operation: bool,
    /// Users whose operations are notified (at most 50).
    #[serde(default)]
    pub need_notify_user_list: Vec<String>,
}

/// `lts` of a tracker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lts {
    /// Whether traces also go to LTS.
    pub is_lts_enabled: bool,
    /// Always `CTS`.
    pub log_group_name: String,
    /// `system-trace` for the management tracker, else `CTS/<tracker_name>`.
    pub log_topic_name: String,
    /// The log group's ID, as a v1.0 client gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_id: Option<String>,
    /// The log topic's ID, as a v1.0 client gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_topic_id: Option<String>,
}

/// `obs_info` of a tracker: where its trace files go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObsInfo {
    /// The bucket (empty: no transfer).
    pub bucket_name: String,
    /// Prepended to trace file names.
    pub file_prefix_name: String,
    /// Whether the bucket was created with the tracker.
    pub is_obs_created: bool,
    /// Whether the service may write to the bucket.
    pub is_authorized_bucket: bool,
    /// Days objects are kept (data trackers).
    pub bucket_lifecycle: i64,
    /// `gzip` (`.json.gz` files) or `json` (`.json`).
    pub compress_type: String,
    /// One folder per service.
    pub is_sort_by_service: bool,
    /// Region of the bucket.
    pub bucket_location: String,
}

/// `data_bucket` of a data tracker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataBucket {
    /// The tracked bucket.
    pub data_bucket_name: String,
    /// Whether its traces are searchable.
    pub search_enabled: bool,
    /// `READ` and/or `WRITE`.
    pub data_event: Vec<String>,
}

/// A tracker as stored: the API's view and how far its traces were transferred.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTracker {
    /// The tracker.
    #[serde(flatten)]
    pub tracker: Tracker,
    /// Traces recorded (`record_time`) before this (ms) are in the bucket.
    pub transferred_to: i64,
    /// Its digest chains, when it validates trace files.
    #[serde(default, skip_serializing_if = "DigestState::is_empty")]
    pub digests: DigestState,
}

/// Where a tracker's digest chains stand (cts-spec.md §2.7): per service folder, the last
/// digest and the end of the period it covered; and the trace files written since, each
/// recorded here before it is written, so that every file in the bucket is in a digest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DigestState {
    /// Service folder -> its chain.
    #[serde(default)]
    pub chains: std::collections::BTreeMap<String, Chain>,
    /// Trace files not yet in a digest.
    #[serde(default)]
    pub pending: Vec<PendingFile>,
    /// When validation was turned off (ms): every chain ends with a digest up to this time
    /// (`digest_end`), fixed before the first is written so that a restart ends it the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending_at: Option<i64>,
}

impl DigestState {
    /// Nothing to keep: the tracker never validated, or its chains have ended.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty() && self.pending.is_empty() && self.ending_at.is_none()
    }
}

/// One service folder's chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// The last digest written (none: the next starts the chain).
    pub last: Option<cts_core::integrity::Link>,
    /// The end (ms) of the period the last digest covered: the next covers the one after.
    pub digested_to: i64,
}

/// A trace file written to the bucket (or about to be), not yet in a digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingFile {
    /// Its service folder.
    pub service: String,
    /// When it was delivered (ms): the period whose digest lists it.
    pub delivered: i64,
    /// Its key.
    pub object: String,
    /// Hex MD5 of its bytes.
    pub md5: String,
}

impl StoredTracker {
    /// The tracker as the v3 API shows it: `status` is `error` while `detail` says why (the
    /// v1.0 `smn` block is not part of it).
    pub fn view(&self) -> Tracker {
        let mut t = self.tracker.clone();
        if t.status == "enabled" && t.detail.is_some() {
            t.status = "error".into();
        } else {
            t.detail = None;
        }
        t.smn = None;
        t
    }

    /// Whether the tracker records and transfers.
    pub fn enabled(&self) -> bool {
        self.tracker.status == "enabled"
    }
}

/// The trackers of one project, and the file that holds them.
#[derive(Debug)]
pub struct TrackerBook {
    path: PathBuf,
    /// The trackers, in order of creation.
    pub trackers: Vec<StoredTracker>,
}

/// What `trackers.json` holds.
#[derive(Serialize, Deserialize)]
struct BookFile {
    trackers: Vec<StoredTracker>,
}

impl TrackerBook {
    /// Read `trackers.json` of the project folder `dir` (none yet: no trackers).
    pub fn open(dir: &Path) -> Result<TrackerBook> {
        let path = dir.join("trackers.json");
        let trackers = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<BookFile>(&bytes)
                    .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?
                    .trackers
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        Ok(TrackerBook { path, trackers })
    }

    /// Write the trackers durably (temporary file, sync, rename).
    pub fn save(&self) -> Result<()> {
        let file = BookFile {
            trackers: self.trackers.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::internal(format!("trackers to JSON: {e}")))?;
        Ok(write_atomic(&self.path, &bytes)?)
    }

    /// The tracker named `name`.
    pub fn get(&self, name: &str) -> Option<&StoredTracker> {
        self.trackers
            .iter()
            .find(|t| t.tracker.tracker_name == name)
    }

    /// The tracker named `name`, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut StoredTracker> {
        self.trackers
            .iter_mut()
            .find(|t| t.tracker.tracker_name == name)
    }

    /// The latest transfer cursor of any tracker (record times are never handed out below it).
    pub fn latest_cursor(&self) -> i64 {
        self.trackers
            .iter()
            .map(|t| t.transferred_to)
            .max()
            .unwrap_or(0)
    }

    /// How many trackers of type `kind` there are.
    pub fn count(&self, kind: &str) -> usize {
        self.trackers
            .iter()
            .filter(|t| t.tracker.tracker_type == kind)
            .count()
    }
}
