//! Records set aside: `_cts/rejects/<md5 of file URL and ETag>.ndjson`, each line naming the
//! file, the record number, the `trace_id` and the reason, with the record's JSON.

use object_store::path::Path;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::decode::RejectedRecord;
use crate::error::{Error, Result};
use crate::store::archive::files::Archive;

/// Folder of the rejected records.
pub const REJECTS_DIR: &str = "_cts/rejects";

impl Archive {
    /// Set rejected records aside, with the file they came from.
    pub async fn write_rejects(
        &self,
        rejects: &[(String, RejectedRecord)],
        name: &str,
    ) -> Result<Path> {
        #[derive(Serialize)]
        struct Line<'a> {
            source_file: &'a str,
            record: usize,
            trace_id: Option<&'a str>,
            reason: &'a str,
            json: Option<Box<RawValue>>,
        }
        let mut text = String::new();
        for (file, r) in rejects {
            let line = Line {
                source_file: file,
                record: r.record,
                trace_id: r.trace_id.as_deref(),
                reason: &r.reason,
                json: RawValue::from_string(r.raw.clone()).ok(),
            };
            let line = serde_json::to_string(&line)
                .map_err(|e| Error::InvalidInput(format!("rejected record: {e}")))?;
            text.push_str(&line);
            text.push('\n');
        }
        let path = self
            .location()
            .path(&format!("{REJECTS_DIR}/{name}.ndjson"));
        self.location().write(&path, text.into()).await?;
        Ok(path)
    }
}

/// The name of the rejects file of one version of a source file: re-reading the same file (after
/// a crash, say) overwrites its rejects instead of setting them aside twice.
pub fn rejects_name(source_url: &str, etag: Option<&str>) -> String {
    use md5::Digest;
    let mut hash = md5::Md5::new();
    hash.update(source_url.as_bytes());
    hash.update(b"\n");
    hash.update(etag.unwrap_or("").as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
