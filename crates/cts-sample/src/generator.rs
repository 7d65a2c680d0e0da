//! The generator: traces day by day and cycle by cycle, one trace file per service and
//! delivery cycle, re-deliveries, hourly digest files, stray objects and broken trace files.
//!
//! What each trace says is built by the generator's methods in `bodies.rs`; who performs it and
//! on what, in `world.rs`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use cts_core::integrity::digest::{ALGORITHM_METADATA, SIGNATURE_METADATA};
use cts_core::integrity::keys::ALGORITHM;
use cts_core::integrity::{Digest, Link, LogFile, SigningKey};
use cts_core::source::layout::TraceFileKey;
use cts_core::storage::METADATA_SUFFIX;

use crate::catalogue::{OPS, Op, SERVICES};
use crate::json::{J, write_array};
use crate::options::{GenOptions, SAMPLE_BUCKET};
use crate::random::{chance, cumulate, derived_hex, hex32, weighted};
use crate::world::World;

/// Length of a delivery cycle: one trace file per service and cycle.
pub(crate) const CYCLE_MS: i64 = 5 * 60 * 1000;
pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) use cts_core::trace::DAY_MS;

/// What [`generate`](fn@crate::generate) wrote; tests assert loader results against these
/// numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Distinct traces (always equal to [`GenOptions::traces`]).
    pub distinct_traces: u64,
    /// Good trace files, re-deliveries included, broken ones not.
    pub trace_files: u64,
    /// Trace records in the good files: `distinct_traces + duplicate_records`.
    pub trace_records: u64,
    /// Extra copies of traces (re-deliveries), each byte-identical to its first copy.
    pub duplicate_records: u64,
    /// Digest files written.
    pub digest_files: u64,
    /// Objects that are neither trace files nor digests.
    pub stray_objects: u64,
    /// Keys of the broken trace files, in the order written.
    pub broken_files: Vec<String>,
    /// Uncompressed JSON bytes of the good trace files.
    pub raw_json_bytes: u64,
    /// Bytes handed to the sink, all objects together.
    pub stored_bytes: u64,
}

/// A digest waiting for its hour to close: (hour start in ms, service index) -> files.
type PendingDigests = BTreeMap<(i64, usize), Vec<(String, String)>>;

/// Writes one bucket: built by [`Generator::new`], run once by [`Generator::run`]. The content
/// of each trace is built by its methods in `bodies.rs` (`Generator::trace`).
pub(crate) struct Generator<'a> {
    opts: &'a GenOptions,
    pub(crate) world: World,
    /// Trace content.
    pub(crate) rng: StdRng,
    /// Which traces are delivered twice.
    dup_rng: StdRng,
    /// File-level choices: pretty printing, suffixes, re-delivery times, broken files.
    file_rng: StdRng,
    /// The key digests are signed with (the published sample key).
    signing_key: SigningKey,
    summary: GenSummary,
    op_cumulative: Vec<u32>,
    /// trace IDs of the current day (UUIDv1 embeds the time, so days cannot collide).
    pub(crate) ids: HashSet<u128>,
    /// Global index of the next trace.
    index: u64,
    /// Every catalogued operation is planted once every `stride` traces (0: none).
    stride: u64,
    dup_left: u64,
    undecided: u64,
    pending: PendingDigests,
    prev_digest: Vec<Option<Link>>,
}

/// One trace, ready to be written: its value and whether it is re-delivered.
struct Built {
    value: J,
    duplicate: bool,
}

impl<'a> Generator<'a> {
    /// A generator for `opts`; errors if the options are invalid.
    pub(crate) fn new(opts: &'a GenOptions) -> io::Result<Generator<'a>> {
        if opts.traces > 0 && opts.days == 0 {
            return Err(invalid("days must be at least 1 when traces > 0"));
        }
        if !(0.0..=1.0).contains(&opts.duplicate_ratio) {
            return Err(invalid("duplicate_ratio must be within 0..=1"));
        }
        if opts.region.is_empty() || opts.tracker.is_empty() {
            return Err(invalid("region and tracker must not be empty"));
        }
        let project_id = if opts.project_id.is_empty() {
            derived_hex(opts.seed, 0x7072_6f6a)
        } else {
            opts.project_id.clone()
        };
        let domain_id = if opts.domain_id.is_empty() {
            derived_hex(opts.seed, 0x646f_6d61)
        } else {
            opts.domain_id.clone()
        };
        let world = World::new(opts, project_id, domain_id);
        let duplicates = ((opts.traces as f64) * opts.duplicate_ratio).round() as u64;
        let stride = opts.traces / OPS.len() as u64;
        Ok(Generator {
            opts,
            world,
            rng: StdRng::seed_from_u64(opts.seed),
            dup_rng: StdRng::seed_from_u64(opts.seed ^ 0xd0b1_e5d0_b1e5),
            file_rng: StdRng::seed_from_u64(opts.seed ^ 0xf11e_f11e_f11e),
            signing_key: SigningKey::sample().map_err(io::Error::other)?,
            summary: GenSummary::default(),
            op_cumulative: cumulate(OPS.iter().map(|o| o.w)),
            ids: HashSet::new(),
            index: 0,
            stride,
            dup_left: duplicates.min(opts.traces),
            undecided: opts.traces,
            pending: BTreeMap::new(),
            prev_digest: (0..SERVICES.len()).map(|_| None).collect(),
        })
    }

    /// Hand every object of the bucket to `sink`, in order, and say what was written.
    pub(crate) fn run(
        mut self,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<GenSummary> {
        let opts = self.opts;
        let days = if opts.traces == 0 { 0 } else { opts.days };
        let first = opts
            .end
            .checked_sub_days(chrono::Days::new(u64::from(days.saturating_sub(1))))
            .ok_or_else(|| invalid("days reach before the calendar"))?;
        let first_ms = first
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis();
        if days > 0 && first_ms < 0 {
            return Err(invalid("the generator writes traces from 1970 on"));
        }
        let counts = day_counts(opts.traces, first, days);
        for (d, &count) in counts.iter().enumerate() {
            let day_ms = first_ms + d as i64 * DAY_MS;
            let times = self.day_times(day_ms, count);
            let mut start = 0;
            while start < times.len() {
                let cycle = (times[start] - day_ms) / CYCLE_MS;
                let end = start
                    + times[start..]
                        .iter()
                        .take_while(|&&t| (t - day_ms) / CYCLE_MS == cycle)
                        .count();
                let delivered_ms = day_ms + (cycle + 1) * CYCLE_MS;
                self.cycle(&times[start..end], delivered_ms, sink)?;
                start = end;
            }
            self.ids.clear();
            self.flush_digests(Some(day_ms + DAY_MS), sink)?;
        }
        self.flush_digests(None, sink)?;
        self.summary.distinct_traces = opts.traces;
        self.stray_objects(sink)?;
        self.broken_files(first_ms, days, sink)?;
        Ok(self.summary)
    }

    /// Sorted trace times (ms) of one day: more during working hours.
    fn day_times(&mut self, day_ms: i64, count: u64) -> Vec<i64> {
        const HOUR_WEIGHTS: [u32; 24] = [
            1, 1, 1, 1, 1, 1, 2, 3, 8, 9, 9, 9, 8, 9, 9, 9, 8, 8, 7, 5, 3, 2, 1, 1,
        ];
        let cumulative = cumulate(HOUR_WEIGHTS.iter().copied());
        let mut times: Vec<i64> = (0..count)
            .map(|_| {
                let hour = weighted(&mut self.rng, &cumulative) as i64;
                day_ms + hour * HOUR_MS + self.rng.random_range(0..HOUR_MS)
            })
            .collect();
        times.sort_unstable();
        times
    }

    /// Build the traces of one delivery cycle and write one file per service.
    fn cycle(
        &mut self,
        times: &[i64],
        delivered_ms: i64,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut per_service: Vec<Vec<Built>> = (0..SERVICES.len()).map(|_| Vec::new()).collect();
        for &ms in times {
            let op = self.next_op();
            let value = self.trace(ms, op);
            let duplicate =
                self.dup_left > 0 && self.dup_rng.random_range(0..self.undecided) < self.dup_left;
            if duplicate {
                self.dup_left -= 1;
            }
            self.undecided -= 1;
            per_service[op.svc].push(Built { value, duplicate });
        }
        for (svc, traces) in per_service.iter().enumerate() {
            if !traces.is_empty() {
                self.trace_files(svc, traces, delivered_ms, sink)?;
            }
        }
        Ok(())
    }

    fn next_op(&mut self) -> &'static Op {
        let i = self.index;
        self.index += 1;
        if self.stride > 0
            && i % self.stride == self.stride / 2
            && let Some(op) = OPS.get((i / self.stride) as usize)
        {
            return op;
        }
        &OPS[weighted(&mut self.rng, &self.op_cumulative)]
    }

    /// Write the file of one service and cycle, and its re-delivery file if it has duplicates.
    fn trace_files(
        &mut self,
        svc: usize,
        traces: &[Built],
        delivered_ms: i64,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let pretty = chance(&mut self.file_rng, 50);
        let all: Vec<&J> = traces.iter().map(|built| &built.value).collect();
        let mut text = Vec::with_capacity(traces.len() * 1500);
        write_array(&mut text, &all, pretty)?;

        // The re-delivered traces, written the same way: each byte-identical to its first copy.
        let duplicates: Vec<&J> = traces
            .iter()
            .filter(|built| built.duplicate)
            .map(|built| &built.value)
            .collect();
        let redelivery = if duplicates.is_empty() {
            None
        } else {
            let mut copy = Vec::new();
            write_array(&mut copy, &duplicates, pretty)?;
            Some(copy)
        };
        self.emit_trace_file(svc, delivered_ms, text, traces.len() as u64, sink)?;
        if let Some(copy) = redelivery {
            // At-least-once delivery: the same traces again, in the same or the next cycle.
            let at = if self.file_rng.random_bool(0.5) {
                delivered_ms
            } else {
                delivered_ms + CYCLE_MS
            };
            self.summary.duplicate_records += duplicates.len() as u64;
            self.emit_trace_file(svc, at, copy, duplicates.len() as u64, sink)?;
        }
        Ok(())
    }

    fn emit_trace_file(
        &mut self,
        svc: usize,
        delivered_ms: i64,
        text: Vec<u8>,
        records: u64,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let key = self.trace_key(svc, delivered_ms)?;
        self.summary.trace_files += 1;
        self.summary.trace_records += records;
        self.summary.raw_json_bytes += text.len() as u64;
        let bytes = if self.opts.gzip { gzip(&text)? } else { text };
        if self.opts.digests {
            let hour = delivered_ms.div_euclid(HOUR_MS) * HOUR_MS;
            self.pending
                .entry((hour, svc))
                .or_default()
                .push((key.clone(), md5_hex(&bytes)));
        }
        self.summary.stored_bytes += bytes.len() as u64;
        sink(&key, bytes)
    }

    fn trace_key(&mut self, svc: usize, delivered_ms: i64) -> io::Result<String> {
        let suffix = format!("{:016x}", self.file_rng.random::<u64>());
        let service = self.opts.sort_by_service.then_some(SERVICES[svc]);
        Ok(TraceFileKey::build(
            &self.world.region,
            &self.world.tracker,
            service,
            &self.world.prefix,
            utc_from_ms(delivered_ms)?,
            &suffix,
            self.opts.gzip,
        ))
    }

    /// Write the digests of every hour that starts before `before` (all when `None`).
    fn flush_digests(
        &mut self,
        before: Option<i64>,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let keep = match before {
            Some(limit) => self.pending.split_off(&(limit, 0)),
            None => BTreeMap::new(),
        };
        let ready = std::mem::replace(&mut self.pending, keep);
        for ((hour, svc), files) in ready {
            self.digest(hour, svc, &files, sink)?;
        }
        Ok(())
    }

    fn digest(
        &mut self,
        hour_ms: i64,
        svc: usize,
        files: &[(String, String)],
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let start = utc_from_ms(hour_ms)?;
        let end = utc_from_ms(hour_ms + HOUR_MS)?;
        let key = TraceFileKey::build_digest(
            &self.world.region,
            &self.world.tracker,
            SERVICES[svc],
            &self.world.prefix,
            end,
        );
        let log_files = files
            .iter()
            .map(|(object, hash)| LogFile {
                bucket: SAMPLE_BUCKET.to_string(),
                object: object.clone(),
                log_hash_value: hash.clone(),
                log_hash_algorithm: "MD5".to_string(),
            })
            .collect();
        let digest = Digest::new(
            &self.world.project_id,
            SAMPLE_BUCKET,
            &key,
            start,
            end,
            log_files,
        );
        let sealed = digest
            .seal(self.prev_digest[svc].as_ref(), &self.signing_key)
            .map_err(io::Error::other)?;
        self.prev_digest[svc] = Some(sealed.link);
        self.summary.digest_files += 1;
        self.summary.stored_bytes += sealed.bytes.len() as u64;
        // The signature, as object metadata: beside the digest, as a local folder keeps it.
        let metadata = serde_json::json!({
            SIGNATURE_METADATA: sealed.signature,
            ALGORITHM_METADATA: ALGORITHM,
        });
        let metadata = serde_json::to_vec(&metadata)?;
        self.summary.stored_bytes += metadata.len() as u64;
        sink(&format!("{key}{METADATA_SUFFIX}"), metadata)?;
        let bytes = sealed.bytes;
        sink(&key, bytes)
    }

    fn stray_objects(
        &mut self,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let region = self.world.region.clone();
        let tracker = self.world.tracker.clone();
        let date = self.opts.end.format("%Y/%m/%d").to_string();
        let prefix = self.world.prefix.clone();
        for i in 0..self.opts.stray_objects {
            let (key, body): (String, String) = match i {
                0 => (
                    format!("CloudTraces/{region}/README.txt"),
                    "Trace files delivered by Cloud Trace Service. Do not edit.\n".to_string(),
                ),
                1 => (
                    "notes/export.csv".to_string(),
                    "time,trace_name,service_type,user\n2024-06-30 10:00:00,login,IAM,alice.mueller\n"
                        .to_string(),
                ),
                2 => (
                    format!("CloudTraces/{region}/{date}/{tracker}/ECS/manifest.json"),
                    r#"{"files":[],"note":"not a trace file"}"#.to_string(),
                ),
                3 => (
                    format!("CloudTraces/{region}/{date}/{tracker}/{prefix}_CloudTrace_{region}_latest.json"),
                    "[]".to_string(),
                ),
                4 => (
                    format!("exports/{}/traces.json", self.opts.end),
                    r#"{"exported_by":"console","records":0}"#.to_string(),
                ),
                5 => (
                    format!("CloudTraces/{region}/{date}/{tracker}/ECS/.obs_upload_tmp"),
                    String::new(),
                ),
                _ => (format!("notes/stray-{i:04}.txt"), format!("stray object {i}\n")),
            };
            self.summary.stray_objects += 1;
            self.summary.stored_bytes += body.len() as u64;
            sink(&key, body.into_bytes())?;
        }
        Ok(())
    }

    fn broken_files(
        &mut self,
        first_ms: i64,
        days: u32,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let days = i64::from(days.max(1));
        for i in 0..self.opts.broken_files {
            let svc = self.file_rng.random_range(0..SERVICES.len());
            let cycle = self.file_rng.random_range(0..days * (DAY_MS / CYCLE_MS));
            let key = self.trace_key(svc, first_ms + (cycle + 1) * CYCLE_MS)?;
            let text = match i % 3 {
                0 => {
                    // One big element, so no prefix of the stream holds a complete one.
                    let padding: String = (0..64).map(|_| hex32(&mut self.file_rng)).collect();
                    format!(r#"[{{"note":"interrupted upload","padding":"{padding}"}}]"#)
                }
                1 => "<html><body><h1>503 Service Unavailable</h1></body></html>\n".to_string(),
                _ if (i / 3) % 2 == 0 => "\"not a trace file\"".to_string(),
                _ => "42".to_string(),
            };
            let mut bytes = if self.opts.gzip {
                gzip(text.as_bytes())?
            } else {
                text.into_bytes()
            };
            if i % 3 == 0 {
                bytes.truncate(bytes.len() / 2);
            }
            self.summary.stored_bytes += bytes.len() as u64;
            self.summary.broken_files.push(key.clone());
            sink(&key, bytes)?;
        }
        Ok(())
    }
}

/// Split `traces` over the days: weekdays busier than weekends, remainders to the largest shares.
fn day_counts(traces: u64, first: NaiveDate, days: u32) -> Vec<u64> {
    if days == 0 {
        return Vec::new();
    }
    let weights: Vec<u128> = (0..days)
        .map(|d| {
            let day = first + chrono::Days::new(u64::from(d));
            match day.weekday() {
                Weekday::Sat | Weekday::Sun => 4,
                _ => 10,
            }
        })
        .collect();
    let total: u128 = weights.iter().sum();
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| (u128::from(traces) * w / total) as u64)
        .collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&d| std::cmp::Reverse(u128::from(traces) * weights[d] % total));
    for &d in order.iter().cycle().take((traces - assigned) as usize) {
        counts[d] += 1;
    }
    counts
}

/// Hex MD5 of `data` (digest files record MD5s of the trace files they cover).
pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    // GzEncoder writes mtime 0 and OS 255: the output depends on the input only.
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 6 + 64), Compression::new(6));
    encoder.write_all(data)?;
    encoder.finish()
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

pub(crate) fn utc_from_ms(ms: i64) -> io::Result<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| invalid("time out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(b"The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        let long =
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890";
        assert_eq!(md5_hex(long), "57edf4a22be3c955ac49da2e2107b67a");
    }
}
