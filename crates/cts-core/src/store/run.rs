//! Run IDs: the one way cts names what one run of a writer produces (a load's Parquet files and
//! manifest segments, a compaction's merged file, the hot store's files in the archive, a
//! transfer's trace files).

use std::fmt;

use chrono::{DateTime, Utc};

/// A unique name for one run that sorts by when it started: `20240619T061851123Z-3f2a9c0d1e2b4f5a`
/// (UTC start time to the millisecond, then 64 random bits). Later entries of the manifest
/// replace earlier ones by this order, so two runs a second apart must not tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    started: DateTime<Utc>,
    nonce: u64,
}

impl RunId {
    /// A new run, starting now.
    pub fn new() -> RunId {
        RunId {
            started: Utc::now(),
            nonce: uuid::Uuid::new_v4().as_u64_pair().0,
        }
    }

    /// When it started.
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// Its random part as 16 hex digits (the suffix of a CTS trace file name).
    pub fn nonce_hex(&self) -> String {
        format!("{:016x}", self.nonce)
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:016x}",
            self.started.format("%Y%m%dT%H%M%S%3fZ"),
            self.nonce
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_unique_and_sort_by_start() {
        let a = RunId::new();
        let b = RunId::new();
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), "20240619T061851123Z-".len() + 16, "{text}");
        assert_eq!(text[20..], a.nonce_hex());
        assert!(text.starts_with(&a.started().format("%Y%m%dT%H%M%S%3fZ").to_string()));
        // One started later sorts later, also within the same second.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let c = RunId::new();
        assert!(c.to_string() > b.to_string(), "{c} after {b}");
    }
}
