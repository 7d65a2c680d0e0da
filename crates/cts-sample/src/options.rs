//! What to generate: [`GenOptions`], and the bucket name the digests name.

use chrono::NaiveDate;

use crate::random::derived_hex;

/// The bucket name written into digest files (`digest_bucket`, `log_files[].bucket`).
pub const SAMPLE_BUCKET: &str = "obs-cts";

/// Options for [`generate`](fn@crate::generate).
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    /// Number of distinct traces (distinct `trace_id`s) in the bucket.
    pub traces: u64,
    /// The traces are spread over this many UTC days ...
    pub days: u32,
    /// ... ending with this day (inclusive).
    pub end: NaiveDate,
    /// Seed of every random choice: same options, same bytes.
    pub seed: u64,
    /// Region, as in `CloudTraces/<region>/` and the file names (default `eu-de`).
    pub region: String,
    /// Project ID (32 hex). Empty (the default): derived from `seed` when generating;
    /// [`GenOptions::seeded`] fills in that same derived value.
    pub project_id: String,
    /// Account (domain) ID (32 hex). Empty (the default): derived from `seed`, like `project_id`.
    pub domain_id: String,
    /// Tracker folder (default `system`).
    pub tracker: String,
    /// The tracker's file prefix (default `cts`).
    pub file_prefix: String,
    /// `true`: `.json.gz` trace files; `false`: plain `.json`.
    pub gzip: bool,
    /// `true`: a `<service>/` folder level under the tracker folder.
    pub sort_by_service: bool,
    /// Fraction of the traces delivered a second time in another file (default 0.02).
    pub duplicate_ratio: f64,
    /// Write hourly digest files (default `true`).
    pub digests: bool,
    /// Extra objects that are neither trace files nor digests (default 0).
    pub stray_objects: u32,
    /// Trace files that cannot be decoded (default 0), cycling through: truncated gzip, gzip of
    /// text that is not JSON, gzip of a JSON scalar. With `gzip: false` the same three kinds come
    /// uncompressed: truncated JSON, text, a JSON scalar.
    pub broken_files: u32,
}

impl Default for GenOptions {
    /// 10,000 traces over the 7 days up to 2024-06-30, seed 1, `eu-de`, tracker `system`, prefix
    /// `cts`, gzip, sorted by service, 2% duplicates, digests, no stray or broken objects; project
    /// and domain IDs left empty, so they follow whatever `seed` is set to.
    fn default() -> Self {
        GenOptions {
            project_id: String::new(),
            domain_id: String::new(),
            ..GenOptions::seeded(1)
        }
    }
}

impl GenOptions {
    /// The defaults with this seed and the project and domain IDs derived from it filled in
    /// (generating gives the same bytes as `GenOptions { seed, ..Default::default() }`).
    pub fn seeded(seed: u64) -> GenOptions {
        GenOptions {
            traces: 10_000,
            days: 7,
            end: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap_or_default(),
            seed,
            region: "eu-de".to_string(),
            project_id: derived_hex(seed, 0x7072_6f6a),
            domain_id: derived_hex(seed, 0x646f_6d61),
            tracker: "system".to_string(),
            file_prefix: "cts".to_string(),
            gzip: true,
            sort_by_service: true,
            duplicate_ratio: 0.02,
            digests: true,
            stray_objects: 0,
            broken_files: 0,
        }
    }
}
