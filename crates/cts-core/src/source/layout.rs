//! The CTS object layout: how trace files and digest files are named in a bucket.
//!
//! CTS delivers trace files under (cts-spec.md §2.1-2.2)
//!
//! ```text
//! CloudTraces/<region>/<yyyy>/<m or mm>/<d or dd>/<tracker>/[<service>/]<prefix>_CloudTrace_<region>[_<project>]_<yyyy-mm-dd>T<HH-MM-SS>Z_<hex16>.json[.gz]
//! ```
//!
//! and digest files under `.../<tracker>/Digest/<service>/<prefix>_CloudTrace-Digest_...`.
//! [`classify`] tells the three kinds of object apart; [`TraceFileKey`] parses and builds
//! trace file keys (always zero-padded when built, either way when parsed).
//!
//! ```
//! use cts_core::source::layout::{classify, ObjectKind};
//!
//! let key = "CloudTraces/eu-de/2024/6/19/system/ECS/file_CloudTrace_eu-de_2024-06-19T06-20-00Z_d22ef9d12629392c.json.gz";
//! match classify(key) {
//!     ObjectKind::TraceFile(k) => {
//!         assert_eq!(k.region.as_deref(), Some("eu-de"));
//!         assert_eq!(k.service.as_deref(), Some("ECS"));
//!         assert!(k.gzip);
//!     }
//!     other => panic!("not a trace file: {other:?}"),
//! }
//! ```

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// The folder at the root of every CTS delivery.
pub const ROOT_FOLDER: &str = "CloudTraces";
/// The marker between the file prefix and the region in a trace file name.
pub const TRACE_MARKER: &str = "_CloudTrace_";
/// The marker in a digest file name.
pub const DIGEST_MARKER: &str = "_CloudTrace-Digest_";

/// What an object in a bucket is, judged by its key alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectKind {
    /// A trace file (`..._CloudTrace_...json[.gz]`): to be loaded.
    TraceFile(TraceFileKey),
    /// An integrity digest file (`..._CloudTrace-Digest_...` or under a `Digest/` folder).
    Digest,
    /// Anything else: skipped and counted, never an error.
    Other,
}

/// The parts of a trace file's key. Fields the key does not carry are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFileKey {
    /// Region: from the `CloudTraces/<region>/` folder, else from the file name.
    pub region: Option<String>,
    /// Delivery date from the folders (`<yyyy>/<m>/<d>`), when they parse.
    pub date: Option<NaiveDate>,
    /// Tracker folder (`system` for the management tracker).
    pub tracker: Option<String>,
    /// Service folder, present when the tracker sorts files by service.
    pub service: Option<String>,
    /// The tracker's `file_prefix_name` (may be empty).
    pub prefix: String,
    /// The region part of the file name, which may carry a sub-project (`eu-de_myproj`).
    pub name_region: String,
    /// Delivery time from the file name (UTC).
    pub delivered_at: Option<DateTime<Utc>>,
    /// The random 16-hex suffix.
    pub suffix: String,
    /// `true` for `.json.gz`, `false` for `.json`.
    pub gzip: bool,
}

/// Tell trace files, digest files and other objects apart by key.
///
/// Digest files are told by their name (`_CloudTrace-Digest_`), not by a `Digest` folder: a data
/// tracker may itself be named `Digest`.
pub fn classify(key: &str) -> ObjectKind {
    let file_name = key.rsplit('/').next().unwrap_or(key);
    if file_name.contains(DIGEST_MARKER) {
        return ObjectKind::Digest;
    }
    match TraceFileKey::parse(key) {
        Some(k) => ObjectKind::TraceFile(k),
        None => ObjectKind::Other,
    }
}

impl TraceFileKey {
    /// Parse a trace file key. Returns `None` when the file name is not a CTS trace file name;
    /// the folders are optional (a file copied out of its bucket still parses).
    pub fn parse(key: &str) -> Option<TraceFileKey> {
        let (folders, file_name) = match key.rfind('/') {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => ("", key),
        };
        let (stem, gzip) = if let Some(stem) = file_name.strip_suffix(".json.gz") {
            (stem, true)
        } else if let Some(stem) = file_name.strip_suffix(".json") {
            (stem, false)
        } else {
            return None;
        };
        // The prefix may itself contain underscores, so take the last marker.
        let marker = stem.rfind(TRACE_MARKER)?;
        let prefix = &stem[..marker];
        let rest = &stem[marker + TRACE_MARKER.len()..];
        // rest = <region>[_<project>]_<timestamp>_<hex16>
        let (rest, suffix) = rest.rsplit_once('_')?;
        if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (name_region, stamp) = rest.rsplit_once('_')?;
        let delivered_at = parse_file_timestamp(stamp);
        delivered_at?;

        let mut parsed = TraceFileKey {
            region: None,
            date: None,
            tracker: None,
            service: None,
            prefix: prefix.to_string(),
            name_region: name_region.to_string(),
            delivered_at,
            suffix: suffix.to_string(),
            gzip,
        };
        parsed.read_folders(folders);
        if parsed.region.is_none() {
            // No CloudTraces folder: the file name's region, less any sub-project (none when
            // empty, as in `_CloudTrace__myproj_...`).
            let region = name_region.split('_').next().unwrap_or(name_region);
            parsed.region = (!region.is_empty()).then(|| region.to_string());
        }
        Some(parsed)
    }

    /// Fill region, date, tracker and service from `CloudTraces/<region>/<y>/<m>/<d>/<tracker>/[<service>]`.
    fn read_folders(&mut self, folders: &str) {
        let segments: Vec<&str> = folders.split('/').filter(|s| !s.is_empty()).collect();
        let Some(root) = segments.iter().rposition(|s| *s == ROOT_FOLDER) else {
            return;
        };
        let after = &segments[root + 1..];
        if let Some(region) = after.first() {
            self.region = Some((*region).to_string());
        }
        if let [_, y, m, d, ..] = after {
            self.date = match (y.parse(), m.parse(), d.parse()) {
                (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
                _ => None,
            };
        }
        if let Some(tracker) = after.get(4) {
            self.tracker = Some((*tracker).to_string());
        }
        if let Some(service) = after.get(5) {
            self.service = Some((*service).to_string());
        }
    }

    /// Build the key CTS would use for a trace file (zero-padded dates, as real buckets have).
    ///
    /// `service` is `Some` when the tracker sorts files by service.
    pub fn build(
        region: &str,
        tracker: &str,
        service: Option<&str>,
        prefix: &str,
        delivered_at: DateTime<Utc>,
        suffix: &str,
        gzip: bool,
    ) -> String {
        let folder = format!(
            "{ROOT_FOLDER}/{region}/{}/{tracker}",
            delivered_at.format("%Y/%m/%d")
        );
        let folder = match service {
            Some(service) => format!("{folder}/{service}"),
            None => folder,
        };
        format!(
            "{folder}/{prefix}{TRACE_MARKER}{region}_{}_{suffix}.{}",
            delivered_at.format("%Y-%m-%dT%H-%M-%SZ"),
            if gzip { "json.gz" } else { "json" }
        )
    }

    /// Build the key of the digest file for one hour of a service folder (§2.7).
    pub fn build_digest(
        region: &str,
        tracker: &str,
        service: &str,
        prefix: &str,
        end: DateTime<Utc>,
    ) -> String {
        format!(
            "{ROOT_FOLDER}/{region}/{}/{tracker}/Digest/{service}/{prefix}{DIGEST_MARKER}{region}_{}.json.gz",
            end.format("%Y/%m/%d"),
            end.format("%Y-%m-%dT%H-%M-%SZ"),
        )
    }
}

/// Parse `2023-08-30T01-50-12Z` (dashes in the time part, UTC).
fn parse_file_timestamp(stamp: &str) -> Option<DateTime<Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%SZ").ok()?;
    Some(Utc.from_utc_datetime(&naive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_key_from_the_documentation_screenshot() {
        let key = "CloudTraces/cn-southwest-237/2023/08/30/system/CTS/file_CloudTrace_cn-southwest-237_2023-08-30T01-50-12Z_d22ef9d12629392c.json.gz";
        let ObjectKind::TraceFile(k) = classify(key) else {
            panic!("not recognised")
        };
        assert_eq!(k.region.as_deref(), Some("cn-southwest-237"));
        assert_eq!(k.date, NaiveDate::from_ymd_opt(2023, 8, 30));
        assert_eq!(k.tracker.as_deref(), Some("system"));
        assert_eq!(k.service.as_deref(), Some("CTS"));
        assert_eq!(k.prefix, "file");
        assert_eq!(k.suffix, "d22ef9d12629392c");
        assert_eq!(
            k.delivered_at.map(|t| t.to_rfc3339()),
            Some("2023-08-30T01:50:12+00:00".to_string())
        );
        assert!(k.gzip);
    }

    #[test]
    fn unpadded_dates_no_service_folder_and_plain_json() {
        let key = "CloudTraces/eu-de/2016/5/19/system/my_pre_fix_CloudTrace_eu-de_myproj_2016-05-19T16-20-56Z_21d36ced8c8af71e.json";
        let ObjectKind::TraceFile(k) = classify(key) else {
            panic!("not recognised")
        };
        assert_eq!(k.date, NaiveDate::from_ymd_opt(2016, 5, 19));
        assert_eq!(k.service, None);
        assert_eq!(k.prefix, "my_pre_fix");
        assert_eq!(k.name_region, "eu-de_myproj");
        assert!(!k.gzip);
    }

    #[test]
    fn a_bucket_prefix_before_cloudtraces_and_a_bare_file_name() {
        let key = "backup/obs-cts/CloudTraces/eu-nl/2024/12/13/system/ECS/FilePrefix_CloudTrace_eu-nl_2024-12-13T01-29-19Z_47b9d51830deff47.json.gz";
        let ObjectKind::TraceFile(k) = classify(key) else {
            panic!("not recognised")
        };
        assert_eq!(k.region.as_deref(), Some("eu-nl"));
        let bare = "FilePrefix_CloudTrace_eu-nl_2024-12-13T01-29-19Z_47b9d51830deff47.json.gz";
        let ObjectKind::TraceFile(k) = classify(bare) else {
            panic!("not recognised")
        };
        assert_eq!(k.region.as_deref(), Some("eu-nl"));
        assert_eq!(k.tracker, None);
    }

    #[test]
    fn an_empty_region_in_the_file_name_is_no_region() {
        // Found by fuzzing (fuzz/regressions/layout): it once parsed as `Some("")`.
        let bare = "cts_CloudTrace__myproj_2024-06-30T10-00-00Z_0123456789abcdef.json.gz";
        let ObjectKind::TraceFile(k) = classify(bare) else {
            panic!("not recognised")
        };
        assert_eq!(k.region, None);
        assert_eq!(k.name_region, "_myproj");
    }

    #[test]
    fn digests_and_other_objects() {
        for key in [
            "CloudTraces/eu-de/2017/11/15/system/Digest/ECS/tGPYa_CloudTrace-Digest_eu-de_2017-11-15T10-12-10Z.json.gz",
            "CloudTraces/eu-de/2017/11/15/Digest/ECS/tGPYa_CloudTrace-Digest_eu-de_2017-11-15T10-12-10Z.json.gz",
        ] {
            assert_eq!(classify(key), ObjectKind::Digest, "{key}");
        }
        // A data tracker named Digest holds trace files; a key ending in the root folder is
        // just another object.
        let ObjectKind::TraceFile(k) = classify(
            "CloudTraces/eu-de/2024/06/19/Digest/OBS/x_CloudTrace_eu-de_2024-06-19T06-20-00Z_d22ef9d12629392c.json.gz",
        ) else {
            panic!("a data tracker named Digest was not read as a trace file")
        };
        assert_eq!(k.tracker.as_deref(), Some("Digest"));
        for key in [
            "backup/CloudTraces",
            "CloudTraces",
            "README.txt",
            "CloudTraces/eu-de/2024/01/01/system/ECS/notes.json",
            "CloudTraces/eu-de/2024/01/01/system/ECS/x_CloudTrace_eu-de_2024-01-01T00-00-00Z_zz.json.gz",
            "CloudTraces/eu-de/2024/01/01/system/ECS/x_CloudTrace_eu-de_yesterday_00aa.json.gz",
            "CloudTraces/eu-de/2024/01/01/system/ECS/x_CloudTrace_eu-de_2024-01-01T00-00-00Z_00aa.csv",
        ] {
            assert_eq!(classify(key), ObjectKind::Other, "{key}");
        }
    }

    #[test]
    fn built_keys_parse_back() {
        let at = Utc
            .with_ymd_and_hms(2024, 3, 5, 7, 8, 9)
            .single()
            .expect("valid time");
        let key = TraceFileKey::build(
            "eu-de",
            "system",
            Some("VPC"),
            "cts",
            at,
            "0123456789abcdef",
            true,
        );
        assert_eq!(
            key,
            "CloudTraces/eu-de/2024/03/05/system/VPC/cts_CloudTrace_eu-de_2024-03-05T07-08-09Z_0123456789abcdef.json.gz"
        );
        let ObjectKind::TraceFile(k) = classify(&key) else {
            panic!("not recognised")
        };
        assert_eq!(k.delivered_at, Some(at));
        let digest = TraceFileKey::build_digest("eu-de", "system", "VPC", "cts", at);
        assert_eq!(classify(&digest), ObjectKind::Digest);
    }
}
