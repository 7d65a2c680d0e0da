//! Temporary stub; replaced by the generator.
#![allow(missing_docs)]
use chrono::NaiveDate;
pub struct GenOptions {
    pub traces: u64,
    pub days: u32,
    pub end: NaiveDate,
    pub seed: u64,
    pub region: String,
    pub project_id: String,
    pub domain_id: String,
    pub tracker: String,
    pub file_prefix: String,
    pub gzip: bool,
    pub sort_by_service: bool,
    pub duplicate_ratio: f64,
    pub digests: bool,
    pub stray_objects: u32,
    pub broken_files: u32,
}
impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            traces: 10_000,
            days: 7,
            end: NaiveDate::MIN,
            seed: 1,
            region: "eu-de".into(),
            project_id: String::new(),
            domain_id: String::new(),
            tracker: "system".into(),
            file_prefix: "cts".into(),
            gzip: true,
            sort_by_service: true,
            duplicate_ratio: 0.02,
            digests: true,
            stray_objects: 0,
            broken_files: 0,
        }
    }
}
#[derive(Debug, Default)]
pub struct GenSummary {
    pub distinct_traces: u64,
    pub trace_files: u64,
    pub trace_records: u64,
    pub duplicate_records: u64,
    pub digest_files: u64,
    pub stray_objects: u64,
    pub broken_files: Vec<String>,
    pub raw_json_bytes: u64,
    pub stored_bytes: u64,
}
pub fn generate(
    _o: &GenOptions,
    _s: &mut dyn FnMut(&str, Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<GenSummary> {
    Ok(GenSummary::default())
}
pub fn generate_to_dir(_o: &GenOptions, _d: &std::path::Path) -> std::io::Result<GenSummary> {
    Ok(GenSummary::default())
}
