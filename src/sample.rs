//! Sample data: a realistic, deterministic CTS bucket for the quick start, tests and benchmarks.
//!
//! [`generate`] writes what a `system` tracker would have delivered to OBS over a few days
//! (cts-spec.md §2): one trace file per service and 5-minute delivery cycle, each a single JSON
//! array of traces, gzip-compressed or not, with at-least-once re-deliveries, hourly digest files
//! (§2.7) and, on request, stray objects and broken trace files for the loader to cope with.
//!
//! The traces carry every shape a decoder meets in real buckets (§1.4): `user` as an object or a
//! JSON-encoded string, `request`/`response` as strings, objects, `""` or absent, `trace_status`
//! instead of (or next to) `trace_rating`, `code` and `time` as numbers or strings, newer fields on
//! part of the traces, unknown extra fields, and varied key order. The operations are the ones
//! compliance reports look for (cts-spec.md §6.2, compliance.md), weighted so routine operations
//! dominate and sensitive ones are rare but always present (every catalogued operation appears at
//! least once whenever the bucket has at least as many traces as the catalogue has operations).
//!
//! Everything derives from [`GenOptions::seed`]: the same options give byte-identical objects,
//! handed to the sink in the same order.
//!
//! ```
//! use cts::sample::{GenOptions, generate_to_dir};
//!
//! let opts = GenOptions { traces: 5_000, days: 2, ..GenOptions::seeded(7) };
//! let dir = std::env::temp_dir().join("cts-sample-doc");
//! let summary = generate_to_dir(&opts, &dir)?;
//! assert_eq!(summary.distinct_traces, 5_000);
//! println!("{} trace files, {} distinct traces", summary.trace_files, summary.distinct_traces);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::{Timestamp, Uuid};

use crate::layout::TraceFileKey;

/// The bucket name written into digest files (`digest_bucket`, `log_files[].bucket`).
pub const SAMPLE_BUCKET: &str = "obs-cts";

/// Length of a delivery cycle: one trace file per service and cycle.
const CYCLE_MS: i64 = 5 * 60 * 1000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// Milliseconds from the Gregorian reform (1582-10-15) to the Unix epoch, for UUIDv1 ticks.
const GREGORIAN_OFFSET_MS: i64 = 12_219_292_800_000;

/// Options for [`generate`].
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

/// What [`generate`] wrote; tests assert loader results against these numbers.
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

/// Generate a bucket. `sink(key, bytes)` is called once per object, with keys relative to the
/// bucket root, in a deterministic order. The same options give byte-identical output.
///
/// Traces are produced day by day and cycle by cycle, so memory stays bounded by one day.
/// Errors: invalid options (`InvalidInput`) and whatever the sink returns.
pub fn generate(
    opts: &GenOptions,
    sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
) -> io::Result<GenSummary> {
    let mut generator = Generator::new(opts)?;
    generator.run(sink)?;
    Ok(generator.summary)
}

/// Convenience: write into a local folder (creating parent folders) and return the summary.
pub fn generate_to_dir(opts: &GenOptions, dir: &Path) -> io::Result<GenSummary> {
    generate(opts, &mut |key, bytes| {
        let mut path = dir.to_path_buf();
        for part in key.split('/').filter(|p| !p.is_empty()) {
            path.push(part);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)
    })
}

// ---------------------------------------------------------------------------------------------
// A minimal JSON value that keeps key order, and its writer.

/// A JSON value whose objects keep their key order (serde_json's `Map` sorts without
/// `preserve_order`).
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(Cow<'static, str>),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

fn st(s: &'static str) -> J {
    J::Str(Cow::Borrowed(s))
}

fn ss(s: String) -> J {
    J::Str(Cow::Owned(s))
}

impl From<&'static str> for J {
    fn from(s: &'static str) -> J {
        J::Str(Cow::Borrowed(s))
    }
}

impl From<String> for J {
    fn from(s: String) -> J {
        J::Str(Cow::Owned(s))
    }
}

impl From<i64> for J {
    fn from(n: i64) -> J {
        J::Int(n)
    }
}

impl From<i32> for J {
    fn from(n: i32) -> J {
        J::Int(i64::from(n))
    }
}

impl From<bool> for J {
    fn from(b: bool) -> J {
        J::Bool(b)
    }
}

/// `obj! {"key" => value, ...}`: a JSON object in this key order; values go through `J::from`.
macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => { J::Obj(vec![$(($k, J::from($v))),*]) };
}

/// `arr![value, ...]`: a JSON array; values go through `J::from`.
macro_rules! arr {
    ($($v:expr),* $(,)?) => { J::Arr(vec![$(J::from($v)),*]) };
}

/// The value serialised compactly, as a JSON string (how CTS often ships `user`, `request`, ...).
fn encoded(v: &J) -> J {
    let mut out = String::new();
    write_json(&mut out, v, None);
    ss(out)
}

fn compact(v: &J) -> String {
    let mut out = String::new();
    write_json(&mut out, v, None);
    out
}

/// Bytes a JSON string must escape.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    while let Some(i) = rest.bytes().position(|b| NEEDS_ESCAPE[usize::from(b)]) {
        out.push_str(&rest[..i]);
        match rest.as_bytes()[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b => out.push_str(&format!("\\u{b:04x}")),
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Write `v`: compact when `level` is `None`, else pretty-printed (two-space indent) as if
/// nested `level` deep.
fn write_json(out: &mut String, v: &J, level: Option<usize>) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(n) => {
            let _ = write!(out, "{n}");
        }
        J::Str(s) => write_str(out, s),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(l) = level {
                    out.push('\n');
                    indent(out, l + 1);
                }
                write_json(out, item, level.map(|l| l + 1));
            }
            if let (Some(l), false) = (level, items.is_empty()) {
                out.push('\n');
                indent(out, l);
            }
            out.push(']');
        }
        J::Obj(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(l) = level {
                    out.push('\n');
                    indent(out, l + 1);
                }
                write_str(out, k);
                out.push_str(if level.is_some() { ": " } else { ":" });
                write_json(out, item, level.map(|l| l + 1));
            }
            if let (Some(l), false) = (level, fields.is_empty()) {
                out.push('\n');
                indent(out, l);
            }
            out.push('}');
        }
    }
}

/// Sort object keys, recursively (how 2024 trace files are written).
fn sort_keys(v: &mut J) {
    match v {
        J::Obj(fields) => {
            fields.sort_by(|a, b| a.0.cmp(b.0));
            for (_, item) in fields.iter_mut() {
                sort_keys(item);
            }
        }
        J::Arr(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// Hex MD5 of `data` (digest files record MD5s of the trace files they cover).
fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

fn derived_hex(seed: u64, salt: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt);
    format!("{:032x}", rng.random::<u128>())
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

fn utc_from_ms(ms: i64) -> io::Result<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| invalid("time out of range"))
}

/// `true` with probability `per_mille / 1000`.
fn chance(rng: &mut StdRng, per_mille: u32) -> bool {
    rng.random_range(0..1000) < per_mille
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn hex32(rng: &mut StdRng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

fn uuid4(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>())
        .into_uuid()
        .to_string()
}

const AK_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A 20-character access key ID, temporary ones starting with `HSTA`.
fn access_key(rng: &mut StdRng, temporary: bool) -> String {
    let mut key = String::with_capacity(20);
    key.push_str(if temporary { "HSTA" } else { "" });
    while key.len() < 20 {
        key.push(AK_CHARS[rng.random_range(0..AK_CHARS.len())] as char);
    }
    key
}

/// Index into a table of cumulative weights.
fn weighted(rng: &mut StdRng, cumulative: &[u32]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0);
    if total == 0 {
        return 0;
    }
    let r = rng.random_range(0..total);
    cumulative.partition_point(|&c| c <= r)
}

fn cumulate(weights: impl Iterator<Item = u32>) -> Vec<u32> {
    weights
        .scan(0u32, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect()
}

fn iso_ms(ms: i64) -> String {
    utc_from_ms(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            upper = true;
            continue;
        }
        if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The catalogue of services and operations (cts-spec.md §6.2).

const SERVICES: [&str; 10] = [
    "ECS", "EVS", "VPC", "IAM", "CTS", "OBS", "KMS", "SMN", "RDS", "ELB",
];
const ECS: usize = 0;
const EVS: usize = 1;
const VPC: usize = 2;
const IAM: usize = 3;
const CTS: usize = 4;
const OBS: usize = 5;
const KMS: usize = 6;
const SMN: usize = 7;
const RDS: usize = 8;
const ELB: usize = 9;

/// Who performs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Any operator, console or API.
    Any,
    /// Interactive console users only (logins, password changes, MFA).
    Console,
    /// Token requests: humans and automation, by API.
    Api,
    /// Agencies (assumed roles).
    Agency,
    /// The cloud itself: `SystemAction`, no user, no source IP.
    System,
}

/// Resource pools; `Fresh*` ones make a new resource for every trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum P {
    Server,
    Volume,
    Snapshot,
    Vpc,
    Subnet,
    Eip,
    SecGroup,
    FreshSgRule,
    Bandwidth,
    FreshPrivateIp,
    Router,
    IamUser,
    Operator,
    Group,
    Agency,
    Project,
    RoleBinding,
    Idp,
    Mapping,
    Domain,
    Tracker,
    Notification,
    Trace,
    Bucket,
    AllBuckets,
    Key,
    Topic,
    FreshSubscription,
    Template,
    Rds,
    FreshBackup,
    Lb,
    Listener,
    Pool,
    FreshMember,
}
const POOL_COUNT: usize = P::FreshMember as usize + 1;

struct Op {
    svc: usize,
    rtype: &'static str,
    name: &'static str,
    /// Weight per 100,000 traces.
    w: u32,
    who: Who,
    ro: bool,
    pool: P,
}

const fn op(svc: usize, rtype: &'static str, name: &'static str, w: u32, who: Who, pool: P) -> Op {
    Op {
        svc,
        rtype,
        name,
        w,
        who,
        ro: false,
        pool,
    }
}

const fn ro(svc: usize, rtype: &'static str, name: &'static str, w: u32, who: Who, pool: P) -> Op {
    Op {
        svc,
        rtype,
        name,
        w,
        who,
        ro: true,
        pool,
    }
}

use Who::{Agency as WAgency, Any, Api, Console, System};

#[rustfmt::skip]
const OPS: &[Op] = &[
    // ECS, resource `ecs` (security groups included, as in the ECS operation list).
    op(ECS, "ecs", "createServer", 1200, Any, P::Server),
    op(ECS, "ecs", "deleteServer", 600, Any, P::Server),
    op(ECS, "ecs", "startServer", 3500, Any, P::Server),
    op(ECS, "ecs", "stopServer", 3000, Any, P::Server),
    op(ECS, "ecs", "rebootServer", 2200, Any, P::Server),
    op(ECS, "ecs", "resizeServer", 250, Any, P::Server),
    op(ECS, "ecs", "attachVolume", 900, Any, P::Server),
    op(ECS, "ecs", "detachVolume", 600, Any, P::Server),
    op(ECS, "ecs", "addNic", 200, Any, P::Server),
    op(ECS, "ecs", "deleteNic", 150, Any, P::Server),
    op(ECS, "ecs", "updateMetadata", 2500, Any, P::Server),
    op(ECS, "ecs", "setMetadata", 800, Any, P::Server),
    op(ECS, "ecs", "deleteMetadata", 1500, Any, P::Server),
    op(ECS, "ecs", "reinstallOs", 100, Any, P::Server),
    op(ECS, "ecs", "changeOs", 80, Any, P::Server),
    op(ECS, "ecs", "addAutoRecovery", 150, Any, P::Server),
    op(ECS, "ecs", "createSecurityGroup", 150, Any, P::SecGroup),
    op(ECS, "ecs", "updateSecurityGroup", 100, Any, P::SecGroup),
    op(ECS, "ecs", "addSecurityGroup", 200, Any, P::Server),
    op(ECS, "ecs", "removeSecurityGroup", 120, Any, P::Server),
    op(ECS, "ecs", "createSgRule", 400, Any, P::FreshSgRule),
    op(ECS, "ecs", "deleteSgRule", 250, Any, P::FreshSgRule),
    op(ECS, "ecs", "createFloatingIp", 100, Any, P::Eip),
    op(ECS, "ecs", "deleteFloatingIp", 80, Any, P::Eip),
    op(ECS, "ecs", "createSingleServer", 1400, System, P::Server),
    op(ECS, "server", "interruptServer", 60, System, P::Server),
    // EVS
    op(EVS, "evs", "createVolume", 2500, Any, P::Volume),
    op(EVS, "evs", "deleteVolume", 1500, Any, P::Volume),
    op(EVS, "evs", "extendVolume", 1200, Any, P::Volume),
    op(EVS, "evs", "updateVolume", 1500, Any, P::Volume),
    op(EVS, "snapshot", "createSnapshot", 1500, Any, P::Snapshot),
    op(EVS, "snapshot", "deleteSnapshot", 800, Any, P::Snapshot),
    // VPC
    op(VPC, "vpcs", "createVpc", 300, Any, P::Vpc),
    op(VPC, "vpcs", "modifyVpc", 400, Any, P::Vpc),
    op(VPC, "vpcs", "deleteVpc", 150, Any, P::Vpc),
    op(VPC, "subnets", "createSubnet", 700, Any, P::Subnet),
    op(VPC, "subnets", "modifySubnet", 400, Any, P::Subnet),
    op(VPC, "subnets", "deleteSubnet", 300, Any, P::Subnet),
    op(VPC, "eip", "createEip", 900, Any, P::Eip),
    op(VPC, "eip", "deleteEip", 600, Any, P::Eip),
    op(VPC, "eip", "bindEip", 1500, Any, P::Eip),
    op(VPC, "eip", "unbindEip", 1000, Any, P::Eip),
    op(VPC, "bandwidth", "modifyBandwidth", 1200, Any, P::Bandwidth),
    op(VPC, "privateips", "createPrivateIp", 600, Any, P::FreshPrivateIp),
    op(VPC, "privateips", "deletePrivateIp", 400, Any, P::FreshPrivateIp),
    op(VPC, "router", "createRouter", 100, Any, P::Router),
    op(VPC, "security_groups", "createSecurity-group", 200, Any, P::SecGroup),
    op(VPC, "security_groups", "updateSecurity-group", 150, Any, P::SecGroup),
    op(VPC, "security_groups", "deleteSecurity-group", 120, Any, P::SecGroup),
    op(VPC, "security-group-rules", "createSecurity-group-rule", 900, Any, P::FreshSgRule),
    op(VPC, "security-group-rules", "updateSecurity-group-rule", 100, Any, P::FreshSgRule),
    op(VPC, "security-group-rules", "deleteSecurity-group-rule", 500, Any, P::FreshSgRule),
    // IAM (event_type `global`)
    op(IAM, "user", "login", 6000, Console, P::Operator),
    op(IAM, "user", "loginFailed", 900, Console, P::Operator),
    op(IAM, "user", "logout", 2500, Console, P::Operator),
    op(IAM, "token", "createTokenByPwd", 2000, Api, P::Operator),
    op(IAM, "token", "createTokenByAssumeRole", 1000, WAgency, P::Agency),
    op(IAM, "user", "switchRole", 300, Console, P::Agency),
    op(IAM, "user", "changePassword", 150, Console, P::Operator),
    op(IAM, "user", "createUser", 120, Any, P::IamUser),
    op(IAM, "user", "updateUser", 200, Any, P::IamUser),
    op(IAM, "user", "deleteUser", 80, Any, P::IamUser),
    op(IAM, "user", "updateUserPwd", 80, Console, P::Operator),
    op(IAM, "user", "setPasswordByAdmin", 60, Any, P::IamUser),
    op(IAM, "user", "modifyUserPassword", 60, Console, P::Operator),
    op(IAM, "user", "addCredential", 150, Any, P::IamUser),
    op(IAM, "user", "deleteCredential", 120, Any, P::IamUser),
    op(IAM, "userGroup", "createUserGroup", 60, Any, P::Group),
    op(IAM, "userGroup", "updateUserGroup", 40, Any, P::Group),
    op(IAM, "userGroup", "deleteUserGroup", 40, Any, P::Group),
    op(IAM, "userGroup", "addUserToGroup", 150, Any, P::Group),
    op(IAM, "userGroup", "removeUserFromGroup", 80, Any, P::Group),
    op(IAM, "project", "createProject", 20, Any, P::Project),
    op(IAM, "roleGroupProject", "assignRoleToGroupOnProject", 90, Any, P::RoleBinding),
    op(IAM, "roleGroupProject", "unassignRoleToGroupOnProject", 50, Any, P::RoleBinding),
    op(IAM, "roleGroupDomain", "assignRoleToGroupOnDomain", 60, Any, P::RoleBinding),
    op(IAM, "roleGroupDomain", "unassignRoleToGroupOnDomain", 30, Any, P::RoleBinding),
    op(IAM, "agency", "createAgency", 60, Any, P::Agency),
    op(IAM, "agency", "updateAgency", 40, Any, P::Agency),
    op(IAM, "agency", "deleteAgency", 30, Any, P::Agency),
    op(IAM, "MFA", "BindMFA", 80, Console, P::Operator),
    op(IAM, "MFA", "UnBindMFA", 40, Console, P::Operator),
    op(IAM, "domain", "updateSecurityPolicies", 30, Any, P::Domain),
    op(IAM, "domain", "updatePasswordPolicies", 30, Any, P::Domain),
    op(IAM, "domain", "updateACLPolicies", 30, Any, P::Domain),
    op(IAM, "identityProvider", "createIdentityProvider", 20, Any, P::Idp),
    op(IAM, "identityProvider", "updateIdentityProvider", 20, Any, P::Idp),
    op(IAM, "identityProvider", "deleteIdentityProvider", 15, Any, P::Idp),
    op(IAM, "mapping", "createMapping", 20, Any, P::Mapping),
    op(IAM, "mapping", "updateMapping", 20, Any, P::Mapping),
    op(IAM, "protocol", "createProtocol", 15, Any, P::Idp),
    // CTS itself
    op(CTS, "tracker", "createTracker", 60, Any, P::Tracker),
    op(CTS, "tracker", "updateTracker", 300, Any, P::Tracker),
    op(CTS, "tracker", "deleteTracker", 40, Any, P::Tracker),
    ro(CTS, "trace", "getTrace", 900, Any, P::Trace),
    op(CTS, "notification", "createNotification", 100, Any, P::Notification),
    op(CTS, "notification", "updateNotification", 150, Any, P::Notification),
    op(CTS, "notification", "updateNotificationStatus", 80, Any, P::Notification),
    op(CTS, "notification", "deleteNotification", 60, Any, P::Notification),
    // OBS (trace_type `Others`)
    ro(OBS, "bucket", "listAllMyBucket", 6000, Any, P::AllBuckets),
    ro(OBS, "bucket", "getBucketPolicy", 1500, Any, P::Bucket),
    op(OBS, "bucket", "createBucket", 700, Any, P::Bucket),
    op(OBS, "bucket", "deleteBucket", 300, Any, P::Bucket),
    op(OBS, "bucket", "setBucketPolicy", 500, Any, P::Bucket),
    op(OBS, "bucket", "deleteBucketPolicy", 200, Any, P::Bucket),
    op(OBS, "bucket", "setBucketAcl", 500, Any, P::Bucket),
    op(OBS, "bucket", "setBucketLifecycle", 400, Any, P::Bucket),
    op(OBS, "bucket", "setBucketVersioning", 300, Any, P::Bucket),
    op(OBS, "bucket", "setBucketEncryption", 200, Any, P::Bucket),
    op(OBS, "bucket", "setBucketLogging", 150, Any, P::Bucket),
    // KMS
    op(KMS, "cmk", "createDataKey", 4000, Any, P::Key),
    op(KMS, "cmk", "decryptDatakey", 3000, Any, P::Key),
    op(KMS, "cmk", "encryptDatakey", 1500, Any, P::Key),
    op(KMS, "cmk", "createKey", 300, Any, P::Key),
    op(KMS, "cmk", "enableKey", 150, Any, P::Key),
    op(KMS, "cmk", "disableKey", 150, Any, P::Key),
    op(KMS, "cmk", "scheduleKeyDeletion", 80, Any, P::Key),
    op(KMS, "cmk", "cancelKeyDeletion", 40, Any, P::Key),
    op(KMS, "cmk", "updateKeyAlias", 100, Any, P::Key),
    op(KMS, "cmk", "createGrant", 150, Any, P::Key),
    op(KMS, "cmk", "enableKeyRotation", 80, Any, P::Key),
    // SMN
    op(SMN, "message", "publishMessage", 2000, Any, P::Topic),
    op(SMN, "topic", "createTopic", 300, Any, P::Topic),
    op(SMN, "topic", "deleteTopic", 150, Any, P::Topic),
    op(SMN, "topic", "updateTopic", 200, Any, P::Topic),
    op(SMN, "topic", "updateTopicAttribute", 200, Any, P::Topic),
    op(SMN, "subscription", "subscribe", 400, Any, P::FreshSubscription),
    op(SMN, "subscription", "delsubscribe", 200, Any, P::FreshSubscription),
    op(SMN, "message_template", "createMessageTemplate", 100, Any, P::Template),
    // RDS
    op(RDS, "instance", "createInstance", 400, Any, P::Rds),
    op(RDS, "instance", "deleteInstance", 200, Any, P::Rds),
    op(RDS, "instance", "restartInstance", 800, Any, P::Rds),
    op(RDS, "instance", "resizeFlavor", 300, Any, P::Rds),
    op(RDS, "instance", "resetPassword", 150, Any, P::Rds),
    op(RDS, "backup", "createManualBackup", 600, Any, P::FreshBackup),
    op(RDS, "backup", "createBackup", 1200, System, P::FreshBackup),
    // ELB
    op(ELB, "loadbalancer", "createLoadbalancer", 200, Any, P::Lb),
    op(ELB, "loadbalancer", "deleteLoadbalancer", 100, Any, P::Lb),
    op(ELB, "listener", "createListener", 400, Any, P::Listener),
    op(ELB, "listener", "updateListener", 500, Any, P::Listener),
    op(ELB, "listener", "deleteListener", 200, Any, P::Listener),
    op(ELB, "pool", "createPool", 300, Any, P::Pool),
    op(ELB, "member", "addMember", 700, Any, P::FreshMember),
    op(ELB, "member", "removeMember", 500, Any, P::FreshMember),
];

// ---------------------------------------------------------------------------------------------
// The account: operators and resources.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Human,
    Automation,
    Agency,
    Federated,
}

struct Operator {
    kind: Kind,
    /// `user.name`.
    name: String,
    /// `user.id`.
    id: String,
    principal_id: String,
    principal_urn: String,
    /// Permanent access key (API calls by users).
    ak: String,
    mfa: bool,
    ips: Vec<String>,
    agents: &'static [&'static str],
    /// For agencies: the user who assumed it.
    origin_user: Option<String>,
    weight: u32,
}

impl Operator {
    fn user_type(&self) -> &'static str {
        match self.kind {
            Kind::Root | Kind::Human | Kind::Automation => "User",
            Kind::Agency => "AssumedAgency",
            Kind::Federated => "ExternalUser",
        }
    }
}

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
];
const SDKS: &[&str] = &[
    "terraform-provider-opentelekomcloud/1.36.9",
    "python-otcextensions/0.30.2 openstacksdk/3.0.0",
    "huaweicloud-sdk-go-v3/0.1.98",
    "obsutil/5.5.12",
];

/// Public-looking first octets (no private, loopback or multicast ranges).
const PUBLIC_FIRST_OCTETS: &[u8] = &[5, 37, 46, 62, 77, 80, 84, 91, 145, 176, 185, 193, 212, 217];

fn public_ip(rng: &mut StdRng) -> String {
    format!(
        "{}.{}.{}.{}",
        pick(rng, PUBLIC_FIRST_OCTETS),
        rng.random_range(0..=255),
        rng.random_range(0..=255),
        rng.random_range(1..=254)
    )
}

struct World {
    region: String,
    project_id: String,
    domain_id: String,
    domain_name: String,
    tracker: String,
    prefix: String,
    operators: Vec<Operator>,
    /// Cumulative operator weights per `Who` (index: Any, Console, Api, Agency).
    who_tables: [(Vec<usize>, Vec<u32>); 4],
    pools: Vec<Vec<(String, String)>>,
    nodes: Vec<[u8; 6]>,
    enterprise_projects: Vec<String>,
    console_agency: String,
}

impl World {
    fn new(opts: &GenOptions, project_id: String, domain_id: String) -> World {
        let mut rng = StdRng::seed_from_u64(opts.seed ^ 0x0005_eed0_fa11_ce11);
        let rng = &mut rng;
        let region = opts.region.clone();
        let domain_name = format!(
            "OTC-{}-00000000001000{:06}",
            region.to_ascii_uppercase(),
            rng.random_range(0..1_000_000)
        );

        let mut operators = Vec::new();
        let mut add = |rng: &mut StdRng, kind: Kind, name: String, weight: u32, mfa: bool| {
            let id = hex32(rng);
            let (principal_id, principal_urn, origin_user) = match kind {
                Kind::Root | Kind::Human | Kind::Automation => {
                    (id.clone(), format!("iam::{domain_id}:user:{name}"), None)
                }
                Kind::Agency => {
                    let (agency, session) = name.split_once('|').unwrap_or((&name, "session"));
                    (
                        format!("{id}:{session}"),
                        format!("sts::{domain_id}:assumed-agency:{agency}/{session}"),
                        Some(session.to_string()),
                    )
                }
                Kind::Federated => {
                    let (idp, session) = name.split_once('/').unwrap_or(("idp", &name));
                    (
                        format!("{idp}:{session}"),
                        format!("sts::{domain_id}:external-user:{idp}/{session}"),
                        None,
                    )
                }
            };
            let name = match kind {
                Kind::Agency => format!("{domain_name}/{}", name.split('|').next().unwrap_or("")),
                _ => name,
            };
            let ips = (0..rng.random_range(1..=3))
                .map(|_| public_ip(rng))
                .collect();
            let agents = match kind {
                Kind::Automation => &SDKS[..3],
                Kind::Agency => SDKS,
                _ => BROWSERS,
            };
            operators.push(Operator {
                kind,
                name,
                id,
                principal_id,
                principal_urn,
                ak: access_key(rng, false),
                mfa,
                ips,
                agents,
                origin_user,
                weight,
            });
        };
        add(rng, Kind::Root, domain_name.clone(), 25, true);
        let humans: [(&str, u32, bool); 10] = [
            ("alice.mueller", 90, true),
            ("bernd.schmidt", 70, true),
            ("carla.rossi", 60, false),
            ("david.klein", 50, true),
            ("eva.novak", 45, false),
            ("frank.weber", 40, true),
            ("greta.hansen", 30, false),
            ("hugo.martin", 25, true),
            ("ines.silva", 20, false),
            ("jan.kowalski", 15, false),
        ];
        for (name, weight, mfa) in humans {
            add(rng, Kind::Human, name.to_string(), weight, mfa);
        }
        let robots: [(&str, u32); 3] = [
            ("terraform-ci", 160),
            ("backup-bot", 60),
            ("monitoring-svc", 80),
        ];
        for (name, weight) in robots {
            add(rng, Kind::Automation, name.to_string(), weight, false);
        }
        let agencies: [(&str, u32); 3] = [
            ("ops_admin_agency|alice.mueller", 40),
            ("cce_admin_trust|cce", 60),
            ("security_audit|auditor", 20),
        ];
        for (name, weight) in agencies {
            add(rng, Kind::Agency, name.to_string(), weight, false);
        }
        let federated: [(&str, u32, bool); 3] = [
            ("corp-adfs/john.doe@example.com", 30, true),
            ("corp-adfs/maria.garcia@example.com", 25, true),
            ("okta-sso/contractor01", 10, false),
        ];
        for (name, weight, mfa) in federated {
            add(rng, Kind::Federated, name.to_string(), weight, mfa);
        }

        let table = |accept: &dyn Fn(Kind) -> bool| {
            let chosen: Vec<usize> = (0..operators.len())
                .filter(|&i| accept(operators[i].kind))
                .collect();
            let cumulative = cumulate(chosen.iter().map(|&i| operators[i].weight));
            (chosen, cumulative)
        };
        let who_tables = [
            table(&|_| true),
            table(&|k| matches!(k, Kind::Root | Kind::Human | Kind::Federated)),
            table(&|k| matches!(k, Kind::Human | Kind::Automation | Kind::Root)),
            table(&|k| k == Kind::Agency),
        ];

        let pools = Self::pools(
            rng,
            &region,
            &project_id,
            &domain_name,
            &domain_id,
            &operators,
        );
        let nodes = (0..12)
            .map(|_| {
                let mut node = rng.random::<[u8; 6]>();
                node[0] |= 0x01; // random node IDs carry the multicast bit (RFC 9562 §6.10)
                node
            })
            .collect();
        let enterprise_projects = vec![uuid4(rng), uuid4(rng)];
        World {
            region,
            project_id,
            domain_id,
            domain_name,
            tracker: opts.tracker.clone(),
            prefix: opts.file_prefix.clone(),
            operators,
            who_tables,
            pools,
            nodes,
            enterprise_projects,
            console_agency: hex32(rng),
        }
    }

    fn pools(
        rng: &mut StdRng,
        region: &str,
        project_id: &str,
        domain_name: &str,
        domain_id: &str,
        operators: &[Operator],
    ) -> Vec<Vec<(String, String)>> {
        let mut pools: Vec<Vec<(String, String)>> = vec![Vec::new(); POOL_COUNT];
        let named = |rng: &mut StdRng, names: &[&str]| -> Vec<(String, String)> {
            names.iter().map(|n| (n.to_string(), uuid4(rng))).collect()
        };
        let mut servers = Vec::new();
        for (role, count) in [
            ("web", 6),
            ("app", 6),
            ("db", 3),
            ("k8s-node", 8),
            ("batch", 4),
            ("bastion", 2),
            ("cache", 3),
            ("mq", 2),
        ] {
            for i in 1..=count {
                servers.push((format!("ecs-{role}-{i:02}"), uuid4(rng)));
            }
        }
        pools[P::Server as usize] = servers;
        pools[P::Volume as usize] = (0..50)
            .map(|_| (format!("volume-{:04x}", rng.random::<u16>()), uuid4(rng)))
            .collect();
        pools[P::Snapshot as usize] = (0..12)
            .map(|_| {
                (
                    format!("snapshot-{:06x}", rng.random_range(0..0xff_ffffu32)),
                    uuid4(rng),
                )
            })
            .collect();
        pools[P::Vpc as usize] = named(rng, &["vpc-prod", "vpc-dev", "vpc-shared", "vpc-dmz"]);
        pools[P::Subnet as usize] = named(
            rng,
            &[
                "subnet-prod-a",
                "subnet-prod-b",
                "subnet-prod-db",
                "subnet-dev-a",
                "subnet-dev-b",
                "subnet-shared",
                "subnet-dmz",
                "subnet-k8s",
                "subnet-mgmt",
                "subnet-batch",
            ],
        );
        pools[P::Eip as usize] = (0..16)
            .map(|_| {
                let ip = format!(
                    "80.158.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(1..=254)
                );
                (ip, uuid4(rng))
            })
            .collect();
        pools[P::SecGroup as usize] = named(
            rng,
            &[
                "default",
                "sg-web",
                "sg-db",
                "sg-bastion",
                "sg-k8s",
                "sg-lb",
                "sg-mgmt",
                "sg-cache",
            ],
        );
        pools[P::Bandwidth as usize] = (0..6)
            .map(|_| (format!("bandwidth-{:04x}", rng.random::<u16>()), uuid4(rng)))
            .collect();
        pools[P::Router as usize] = named(rng, &["router-prod", "router-dev", "router-transit"]);
        let mut iam_users: Vec<(String, String)> = operators
            .iter()
            .filter(|o| matches!(o.kind, Kind::Human | Kind::Automation))
            .map(|o| (o.name.clone(), o.id.clone()))
            .collect();
        for extra in [
            "new.hire01",
            "temp-contractor",
            "svc-reporting",
            "audit-readonly",
        ] {
            iam_users.push((extra.to_string(), hex32(rng)));
        }
        pools[P::IamUser as usize] = iam_users;
        let hexed = |rng: &mut StdRng, names: &[&str]| -> Vec<(String, String)> {
            names.iter().map(|n| (n.to_string(), hex32(rng))).collect()
        };
        pools[P::Group as usize] = hexed(
            rng,
            &[
                "admin",
                "developers",
                "readonly",
                "auditors",
                "ops",
                "security",
            ],
        );
        pools[P::Agency as usize] = hexed(
            rng,
            &[
                "ops_admin_agency",
                "cce_admin_trust",
                "security_audit",
                "dss_backup",
            ],
        );
        pools[P::Project as usize] = vec![
            (region.to_string(), project_id.to_string()),
            (format!("{region}_dev"), hex32(rng)),
            (format!("{region}_test"), hex32(rng)),
        ];
        pools[P::RoleBinding as usize] = hexed(
            rng,
            &[
                "developers:te_admin",
                "developers:ecs_adm",
                "ops:te_admin",
                "readonly:readonly",
                "auditors:cts_adm",
                "security:secu_admin",
                "admin:te_admin",
                "ops:vpc_adm",
            ],
        );
        pools[P::Idp as usize] = vec![
            ("corp-adfs".to_string(), "corp-adfs".to_string()),
            ("okta-sso".to_string(), "okta-sso".to_string()),
        ];
        pools[P::Mapping as usize] = vec![
            (
                "mapping_corp-adfs".to_string(),
                "mapping_corp-adfs".to_string(),
            ),
            (
                "mapping_okta-sso".to_string(),
                "mapping_okta-sso".to_string(),
            ),
        ];
        pools[P::Domain as usize] = vec![(domain_name.to_string(), domain_id.to_string())];
        pools[P::Tracker as usize] =
            named(rng, &["system", "system", "system", "data-tracker-prod"]);
        pools[P::Notification as usize] =
            named(rng, &["key-ops-alert", "login-alert", "sg-change-alert"]);
        pools[P::Trace as usize] = vec![("system".to_string(), String::new())];
        let buckets = [
            SAMPLE_BUCKET,
            "prod-backups",
            "web-assets",
            "data-lake-raw",
            "logs-archive",
            "terraform-state",
            "ml-datasets",
            "tmp-share",
            "static-site",
            "invoices-pdf",
        ];
        pools[P::Bucket as usize] = buckets
            .iter()
            .map(|b| (b.to_string(), String::new()))
            .collect();
        pools[P::AllBuckets as usize] = vec![("-".to_string(), String::new())];
        pools[P::Key as usize] = named(
            rng,
            &[
                "kms-prod-db",
                "kms-backup",
                "kms-obs-sse",
                "kms-evs-default",
                "kms-app-secrets",
                "kms-rds",
                "kms-cts",
                "kms-test",
            ],
        );
        pools[P::Topic as usize] = [
            "ops-alerts",
            "security-events",
            "billing",
            "deployments",
            "cts-key-events",
            "oncall",
        ]
        .iter()
        .map(|t| (t.to_string(), format!("urn:smn:{region}:{project_id}:{t}")))
        .collect();
        pools[P::Template as usize] = hexed(rng, &["alarm-template", "ops-notice"]);
        pools[P::Rds as usize] = [
            "rds-pg-prod",
            "rds-mysql-shop",
            "rds-pg-analytics",
            "rds-mysql-dev",
            "rds-pg-staging",
        ]
        .iter()
        .map(|n| (n.to_string(), format!("{}in03", hex32(rng))))
        .collect();
        pools[P::Lb as usize] = named(
            rng,
            &["elb-public-web", "elb-internal-api", "elb-k8s-ingress"],
        );
        pools[P::Listener as usize] = named(
            rng,
            &[
                "listener-https-443",
                "listener-http-80",
                "listener-api-8443",
                "listener-grpc-9090",
                "listener-k8s-443",
                "listener-admin-8080",
            ],
        );
        pools[P::Pool as usize] = named(
            rng,
            &[
                "pool-web",
                "pool-api",
                "pool-k8s",
                "pool-admin",
                "pool-grpc",
            ],
        );
        pools
    }
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// A digest waiting for its hour to close: (hour start in ms, service index) -> files.
type PendingDigests = BTreeMap<(i64, usize), Vec<(String, String)>>;

struct PrevDigest {
    key: String,
    md5: String,
    signature: String,
}

struct Generator<'a> {
    opts: &'a GenOptions,
    world: World,
    /// Trace content.
    rng: StdRng,
    /// Which traces are delivered twice.
    dup_rng: StdRng,
    /// File-level choices: pretty printing, suffixes, re-delivery times, broken files.
    file_rng: StdRng,
    /// Digest signatures.
    digest_rng: StdRng,
    summary: GenSummary,
    op_cumulative: Vec<u32>,
    /// trace IDs of the current day (UUIDv1 embeds the time, so days cannot collide).
    ids: HashSet<u128>,
    /// Global index of the next trace.
    index: u64,
    /// Every catalogued operation is planted once every `stride` traces (0: none).
    stride: u64,
    dup_left: u64,
    undecided: u64,
    pending: PendingDigests,
    prev_digest: Vec<Option<PrevDigest>>,
}

/// One trace, ready to be written: its value and whether it is re-delivered.
struct Built {
    value: J,
    duplicate: bool,
}

/// Request/response/message content of a trace, before the §1.4 encoding choices.
struct Bodies {
    request: Option<J>,
    response: Option<J>,
    message: Option<J>,
}

impl<'a> Generator<'a> {
    fn new(opts: &'a GenOptions) -> io::Result<Generator<'a>> {
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
            digest_rng: StdRng::seed_from_u64(opts.seed ^ 0xd16e_57d1_6e57),
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

    fn run(&mut self, sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>) -> io::Result<()> {
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
        Ok(())
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
        let mut text = String::with_capacity(traces.len() * 1500);
        let mut duplicates = Vec::new();
        text.push('[');
        for (i, built) in traces.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            if pretty {
                text.push_str("\n  ");
            }
            let start = text.len();
            write_json(&mut text, &built.value, pretty.then_some(1));
            if built.duplicate {
                duplicates.push(start..text.len());
            }
        }
        text.push_str(if pretty { "\n]" } else { "]" });

        let redelivery = if duplicates.is_empty() {
            None
        } else {
            let mut copy = String::with_capacity(duplicates.iter().map(|r| r.len() + 4).sum());
            copy.push('[');
            for (i, range) in duplicates.iter().enumerate() {
                if i > 0 {
                    copy.push(',');
                }
                if pretty {
                    copy.push_str("\n  ");
                }
                copy.push_str(&text[range.clone()]);
            }
            copy.push_str(if pretty { "\n]" } else { "]" });
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
        text: String,
        records: u64,
        sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let key = self.trace_key(svc, delivered_ms)?;
        self.summary.trace_files += 1;
        self.summary.trace_records += records;
        self.summary.raw_json_bytes += text.len() as u64;
        let bytes = if self.opts.gzip {
            gzip(text.as_bytes())?
        } else {
            text.into_bytes()
        };
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
        let stamp = |t: DateTime<Utc>| ss(t.format("%Y-%m-%dT%H-%M-%SZ").to_string());
        let previous = self.prev_digest[svc].take();
        let (prev_key, prev_md5, prev_sig) = match &previous {
            Some(p) => (p.key.clone(), p.md5.clone(), p.signature.clone()),
            None => (String::new(), String::new(), String::new()),
        };
        let bucket_or_empty = if previous.is_some() {
            SAMPLE_BUCKET
        } else {
            ""
        };
        let log_files = files
            .iter()
            .map(|(object, hash)| {
                J::Obj(vec![
                    ("bucket", st(SAMPLE_BUCKET)),
                    ("object", ss(object.clone())),
                    ("log_hash_value", ss(hash.clone())),
                    ("log_hash_algorithm", st("MD5")),
                ])
            })
            .collect();
        let digest = J::Obj(vec![
            ("project_id", ss(self.world.project_id.clone())),
            ("digest_start_time", stamp(start)),
            ("digest_end_time", stamp(end)),
            ("digest_bucket", st(SAMPLE_BUCKET)),
            ("digest_object", ss(key.clone())),
            ("digest_signature_algorithm", st("SHA256withRSA")),
            ("digest_end", J::Bool(false)),
            ("previous_digest_bucket", st(bucket_or_empty)),
            ("previous_digest_object", ss(prev_key)),
            ("previous_digest_hash_value", ss(prev_md5)),
            (
                "previous_digest_hash_algorithm",
                st(if previous.is_some() { "MD5" } else { "" }),
            ),
            ("previous_digest_signature", ss(prev_sig)),
            ("previous_digest_end", J::Bool(false)),
            ("log_files", J::Arr(log_files)),
        ]);
        let bytes = gzip(compact(&digest).as_bytes())?;
        // A stand-in signature: 2048-bit RSA renders as 512 hex characters.
        let signature: String = (0..16)
            .map(|_| format!("{:032x}", self.digest_rng.random::<u128>()))
            .collect();
        self.prev_digest[svc] = Some(PrevDigest {
            key: key.clone(),
            md5: md5_hex(&bytes),
            signature,
        });
        self.summary.digest_files += 1;
        self.summary.stored_bytes += bytes.len() as u64;
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

    // -----------------------------------------------------------------------------------------
    // One trace.

    fn trace_id(&mut self, ms: i64) -> String {
        loop {
            let ticks =
                ((ms + GREGORIAN_OFFSET_MS) as u64) * 10_000 + self.rng.random_range(0..10_000);
            let counter = self.rng.random::<u16>() & 0x3fff;
            let node = self.world.nodes[self.rng.random_range(0..self.world.nodes.len())];
            let id = Uuid::new_v1(Timestamp::from_gregorian_time(ticks, counter), &node);
            if self.ids.insert(id.as_u128()) {
                return id.to_string();
            }
        }
    }

    fn pick_operator(&mut self, who: Who) -> Option<usize> {
        let table = match who {
            Who::System => return None,
            Who::Any => 0,
            Who::Console => 1,
            Who::Api => 2,
            Who::Agency => 3,
        };
        let (members, cumulative) = &self.world.who_tables[table];
        let i = weighted(&mut self.rng, cumulative);
        members.get(i).copied()
    }

    fn resource(&mut self, pool: P, operator: Option<usize>) -> (String, String) {
        let rng = &mut self.rng;
        match pool {
            P::FreshSgRule => {
                let id = uuid4(rng);
                (id.clone(), id)
            }
            P::FreshPrivateIp => (
                format!(
                    "10.{}.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(0..=255),
                    rng.random_range(2..=254)
                ),
                uuid4(rng),
            ),
            P::FreshSubscription => {
                let topic = pick(rng, &self.world.pools[P::Topic as usize]).clone();
                (topic.0, format!("{}:{}", topic.1, hex32(rng)))
            }
            P::FreshBackup => {
                let instance = pick(rng, &self.world.pools[P::Rds as usize]).0.clone();
                (
                    format!(
                        "{instance}-backup-{:06x}",
                        rng.random_range(0..0xff_ffffu32)
                    ),
                    format!("{}br01", hex32(rng)),
                )
            }
            P::FreshMember => (
                format!(
                    "192.168.{}.{}",
                    rng.random_range(0..=15),
                    rng.random_range(2..=254)
                ),
                uuid4(rng),
            ),
            P::Operator => match operator {
                Some(o) => {
                    let o = &self.world.operators[o];
                    (o.name.clone(), o.id.clone())
                }
                None => (String::new(), String::new()),
            },
            _ => pick(rng, &self.world.pools[pool as usize]).clone(),
        }
    }

    /// Build one trace, with every §1.4 choice made here (so both copies of a duplicate agree).
    fn trace(&mut self, ms: i64, op: &'static Op) -> J {
        let operator = self.pick_operator(op.who);
        let trace_id = self.trace_id(ms);
        let record_ms = ms + self.rng.random_range(0..2000);
        let kind = operator.map(|o| self.world.operators[o].kind);

        let trace_type = if op.who == Who::System {
            "SystemAction"
        } else if op.svc == OBS {
            "Others"
        } else if matches!(op.who, Who::Console) {
            "ConsoleAction"
        } else if matches!(op.who, Who::Api) {
            "ApiCall"
        } else {
            match kind {
                Some(Kind::Automation) => "ApiCall",
                Some(Kind::Agency) => {
                    if chance(&mut self.rng, 700) {
                        "ApiCall"
                    } else {
                        "ConsoleAction"
                    }
                }
                _ => {
                    if chance(&mut self.rng, 850) {
                        "ConsoleAction"
                    } else {
                        "ApiCall"
                    }
                }
            }
        };
        let console = trace_type == "ConsoleAction"
            || (trace_type == "Others"
                && !matches!(kind, Some(Kind::Automation))
                && chance(&mut self.rng, 700));

        // Rating and HTTP status.
        let rating = if op.name == "loginFailed" {
            "warning"
        } else {
            match self.rng.random_range(0..1000) {
                0..900 => "normal",
                900..980 => "warning",
                _ => "incident",
            }
        };
        let code = self.status_code(op, rating);

        let source_ip = match operator {
            None => String::new(),
            Some(o) => {
                if op.name == "loginFailed" && chance(&mut self.rng, 300) {
                    public_ip(&mut self.rng)
                } else {
                    let ips = &self.world.operators[o].ips;
                    ips[self.rng.random_range(0..ips.len())].clone()
                }
            }
        };
        let (resource_name, resource_id) = self.resource(op.pool, operator);
        let bodies = self.bodies(
            op,
            operator,
            &resource_name,
            &resource_id,
            ms,
            rating != "normal",
        );

        // ---- §1.4 choices, per trace ----
        let mut fields: Vec<(&'static str, J)> = Vec::with_capacity(40);
        let time_as_string = chance(&mut self.rng, 50);
        let time_value = |t: i64| {
            if time_as_string {
                ss(t.to_string())
            } else {
                J::Int(t)
            }
        };
        let modern = chance(&mut self.rng, 700);

        fields.push(("trace_id", ss(trace_id)));
        match self.rng.random_range(0..100) {
            0..70 => fields.push(("code", J::Int(code))),
            70..90 => fields.push(("code", ss(code.to_string()))),
            _ => {}
        }
        fields.push(("trace_name", st(op.name)));
        fields.push(("resource_type", st(op.rtype)));
        match self.rng.random_range(0..100) {
            0..85 => fields.push(("trace_rating", st(rating))),
            85..95 => fields.push(("trace_status", st(rating))),
            _ => {
                fields.push(("trace_rating", st(rating)));
                fields.push(("trace_status", st(rating)));
            }
        }
        if chance(&mut self.rng, 600) {
            fields.push((
                "api_version",
                J::from(*pick(&mut self.rng, &["1.0", "2.0", "v3", "v1", ""])),
            ));
        }
        fields.push(("source_ip", ss(source_ip)));
        if modern {
            fields.push(("domain_id", ss(self.world.domain_id.clone())));
        }
        fields.push(("trace_type", st(trace_type)));
        fields.push(("service_type", st(SERVICES[op.svc])));
        fields.push((
            "event_type",
            st(if op.svc == IAM { "global" } else { "system" }),
        ));
        if modern {
            fields.push(("project_id", ss(self.world.project_id.clone())));
            fields.push(("read_only", J::Bool(op.ro)));
        }
        fields.push(("tracker_name", st("system")));
        if modern {
            fields.push(("operation_id", ss(pascal_case(op.name))));
            let account = if chance(&mut self.rng, 800) {
                self.world.domain_id.clone()
            } else {
                String::new()
            };
            fields.push(("resource_account_id", ss(account)));
            let project = if chance(&mut self.rng, 800) {
                "0".to_string()
            } else {
                pick(&mut self.rng, &self.world.enterprise_projects).clone()
            };
            fields.push(("enterprise_project_id", ss(project)));
        }
        fields.push(("time", time_value(ms)));
        if !resource_name.is_empty() && chance(&mut self.rng, 950) {
            fields.push(("resource_name", ss(resource_name)));
        }
        match operator {
            None => {
                if self.rng.random_bool(0.5) {
                    fields.push(("user", J::Null));
                }
            }
            Some(o) => {
                let user = self.user(o, console, ms);
                let user = if chance(&mut self.rng, 600) {
                    user
                } else {
                    encoded(&user)
                };
                fields.push(("user", user));
            }
        }
        fields.push(("record_time", time_value(record_ms)));
        let (request, content_length) = self.body_variant(bodies.request);
        if let Some(request) = request {
            fields.push(("request", request));
        }
        if let Some(message) = bodies.message {
            fields.push(("message", message));
        }
        if let (Some(response), _) = self.body_variant(bodies.response) {
            fields.push(("response", response));
        }
        if !resource_id.is_empty() {
            fields.push(("resource_id", ss(resource_id.clone())));
        }
        match self.rng.random_range(0..100) {
            0..10 => fields.push(("request_id", st("null"))),
            10..55 => fields.push(("request_id", ss(hex32(&mut self.rng)))),
            _ => {}
        }
        if modern {
            if let Some(o) = operator {
                let agents = self.world.operators[o].agents;
                let agent = if console {
                    *pick(&mut self.rng, BROWSERS)
                } else {
                    *pick(&mut self.rng, agents)
                };
                fields.push(("user_agent", st(agent)));
            }
            fields.push(("content_length", J::Int(content_length)));
            fields.push(("total_time", J::Int(self.rng.random_range(3..2500))));
        }
        if rating != "normal" && chance(&mut self.rng, 400) || chance(&mut self.rng, 20) {
            let info = *pick(
                &mut self.rng,
                &[
                    "resource has been deleted",
                    "quota exceeded",
                    "backend service timeout",
                    "permission check failed",
                ],
            );
            fields.push(("location_info", st(info)));
        }
        if chance(&mut self.rng, 80) {
            fields.push((
                "endpoint",
                ss(format!(
                    "https://console.otc.t-systems.com/{}/?agencyId={}&region={}&locale=en-us#",
                    SERVICES[op.svc].to_ascii_lowercase(),
                    self.world.console_agency,
                    self.world.region
                )),
            ));
            fields.push((
                "resource_url",
                ss(format!(
                    "/{}/manager/{}?id={}",
                    SERVICES[op.svc].to_ascii_lowercase(),
                    op.rtype,
                    resource_id
                )),
            ));
        }
        if chance(&mut self.rng, 10) {
            fields.push((
                "x_new_field",
                J::Obj(vec![("a", J::Int(self.rng.random_range(1..10)))]),
            ));
        }

        let mut value = J::Obj(fields);
        match self.rng.random_range(0..100) {
            0..20 => sort_keys(&mut value),
            20..40 => legacy_order(&mut value),
            _ => {}
        }
        value
    }

    fn status_code(&mut self, op: &Op, rating: &str) -> i64 {
        let rng = &mut self.rng;
        if rating != "normal" {
            if op.name.starts_with("login") {
                return 401;
            }
            let codes: &[i64] = if rating == "warning" {
                &[400, 401, 403, 403, 404, 404, 409, 400]
            } else {
                &[500, 500, 500, 409, 400, 403]
            };
            return *pick(rng, codes);
        }
        let name = op.name;
        if name == "login" {
            302
        } else if (op.svc == ECS || op.svc == EVS) && !op.ro && rng.random_bool(0.6) {
            202
        } else if name.starts_with("delete") && rng.random_bool(0.5) {
            204
        } else if name.starts_with("create") && rng.random_bool(0.4) {
            201
        } else {
            200
        }
    }

    /// The `user` object of an operator for one trace.
    fn user(&mut self, o: usize, console: bool, ms: i64) -> J {
        let w = &self.world;
        let op = &w.operators[o];
        let rng = &mut self.rng;
        let domain = J::Obj(vec![
            ("name", ss(w.domain_name.clone())),
            ("id", ss(w.domain_id.clone())),
        ]);
        if chance(rng, 250) {
            // The short form of older files and events: name, id, domain.
            return if rng.random_bool(0.5) {
                J::Obj(vec![
                    ("name", ss(op.name.clone())),
                    ("id", ss(op.id.clone())),
                    ("domain", domain),
                ])
            } else {
                J::Obj(vec![
                    ("domain", domain),
                    ("name", ss(op.name.clone())),
                    ("id", ss(op.id.clone())),
                ])
            };
        }
        let temporary = console || matches!(op.kind, Kind::Agency | Kind::Federated);
        let ak = if temporary {
            access_key(rng, true)
        } else {
            op.ak.clone()
        };
        let mut fields = vec![
            ("domain", domain),
            ("name", ss(op.name.clone())),
            ("id", ss(op.id.clone())),
        ];
        if rng.random_bool(0.5) {
            fields.push(("user_name", ss(op.name.clone())));
        }
        fields.push(("account_id", ss(w.domain_id.clone())));
        fields.push(("access_key_id", ss(ak)));
        fields.push(("principal_urn", ss(op.principal_urn.clone())));
        fields.push(("principal_id", ss(op.principal_id.clone())));
        fields.push((
            "principal_is_root_user",
            st(if op.kind == Kind::Root {
                "true"
            } else {
                "false"
            }),
        ));
        fields.push(("type", st(op.user_type())));
        if console {
            fields.push(("invoked_by", J::Arr(vec![st("service.console")])));
        }
        if temporary {
            let created = ms - rng.random_range(0..4 * HOUR_MS);
            let mfa = op.mfa && console;
            fields.push((
                "session_context",
                J::Obj(vec![(
                    "attributes",
                    J::Obj(vec![
                        ("created_at", ss(created.to_string())),
                        ("mfa_authenticated", st(if mfa { "true" } else { "false" })),
                    ]),
                )]),
            ));
        }
        if let (Some(origin), true) = (&op.origin_user, rng.random_bool(0.5)) {
            fields.push(("OriginUser", ss(origin.clone())));
        }
        J::Obj(fields)
    }

    /// `request`/`response`: a JSON string, an object, `""`, `{}` or absent; with the length
    /// of the body's compact JSON (for `content_length`).
    fn body_variant(&mut self, body: Option<J>) -> (Option<J>, i64) {
        let r = self.rng.random_range(0..100);
        let Some(body) = body else {
            return (if r < 55 { Some(st("")) } else { None }, 0);
        };
        let text = compact(&body);
        let length = text.len() as i64;
        let value = match r {
            0..55 => Some(ss(text)),
            55..80 => Some(body),
            80..88 => Some(st("")),
            88..92 => Some(J::Obj(Vec::new())),
            _ => None,
        };
        (value, length)
    }

    // -----------------------------------------------------------------------------------------
    // Request, response and message content.

    fn bodies(
        &mut self,
        op: &Op,
        operator: Option<usize>,
        name: &str,
        id: &str,
        ms: i64,
        failed: bool,
    ) -> Bodies {
        let rng = &mut self.rng;
        let w = &self.world;
        let name = name.to_string();
        let id = id.to_string();
        let az = format!("{}-0{}", w.region, 1 + ms.rem_euclid(3));
        let pool_id = |rng: &mut StdRng, pool: P| pick(rng, &w.pools[pool as usize]).1.clone();
        let job_id = |rng: &mut StdRng| obj! {"job_id" => hex32(rng)};
        let (mut request, mut response, mut message) = (None, None, None);
        match op.name {
            "createServer" => {
                request = Some(obj! {"server" => obj! {
                    "availability_zone" => az,
                    "name" => name,
                    "imageRef" => uuid4(rng),
                    "flavorRef" => *pick(rng, &["s3.large.2", "s3.xlarge.4", "c4.2xlarge.2", "m3.large.8"]),
                    "root_volume" => obj! {"volumetype" => "SSD", "size" => 40},
                    "vpcid" => pool_id(rng, P::Vpc),
                    "nics" => arr![obj! {"subnet_id" => pool_id(rng, P::Subnet)}],
                    "security_groups" => arr![obj! {"id" => pool_id(rng, P::SecGroup)}],
                    "adminPass" => "********",
                    "count" => 1,
                }});
                response = Some(job(rng, "createSingleServer", ms, Some(("server_id", &id))));
            }
            "createSingleServer" | "resizeServer" => {
                if op.name == "resizeServer" {
                    request = Some(obj! {"resize" => obj! {"flavorRef" => "s3.2xlarge.4"}});
                }
                response = Some(job(rng, op.name, ms, Some(("server_id", &id))));
            }
            "deleteServer" => {
                request = Some(obj! {
                    "servers" => arr![obj! {"id" => id}],
                    "delete_publicip" => rng.random_bool(0.5),
                    "delete_volume" => rng.random_bool(0.3),
                });
                response = Some(job_id(rng));
            }
            "startServer" | "stopServer" | "rebootServer" => {
                let action = match op.name {
                    "startServer" => "os-start",
                    "stopServer" => "os-stop",
                    _ => "reboot",
                };
                let mut inner = vec![("servers", arr![obj! {"id" => id}])];
                if action != "os-start" {
                    let kind = if rng.random_bool(0.8) { "SOFT" } else { "HARD" };
                    inner.push(("type", J::from(kind)));
                }
                request = Some(J::Obj(vec![(action, J::Obj(inner))]));
                response = Some(job_id(rng));
            }
            "attachVolume" => {
                request = Some(obj! {"volumeAttachment" => obj! {
                    "volumeId" => pool_id(rng, P::Volume),
                    "device" => "/dev/vdb",
                }});
                response = Some(job_id(rng));
            }
            "updateMetadata" | "setMetadata" => {
                let metadata = obj! {"metadata" => obj! {
                    "owner" => *pick(rng, &["team-web", "team-data", "platform", "sre"]),
                    "env" => *pick(rng, &["prod", "dev", "staging"]),
                }};
                request = Some(metadata.clone());
                response = Some(metadata);
            }
            "createSecurityGroup" | "createSecurity-group" => {
                let vpc = pool_id(rng, P::Vpc);
                request = Some(
                    obj! {"security_group" => obj! {"name" => name.clone(), "vpc_id" => vpc.clone()}},
                );
                response = Some(obj! {"security_group" => obj! {
                    "id" => id,
                    "name" => name,
                    "vpc_id" => vpc,
                    "security_group_rules" => arr![],
                }});
            }
            "createSgRule" | "createSecurity-group-rule" | "updateSecurity-group-rule" => {
                let sg = pool_id(rng, P::SecGroup);
                let rule = sg_rule(rng, &sg);
                let mut with_id = rule.clone();
                if let J::Obj(fields) = &mut with_id {
                    fields.insert(0, ("id", J::from(id)));
                }
                request = Some(obj! {"security_group_rule" => rule});
                response = Some(obj! {"security_group_rule" => with_id});
            }
            "createVpc" => {
                let cidr = format!("10.{}.0.0/16", rng.random_range(0..=255));
                request =
                    Some(obj! {"vpc" => obj! {"name" => name.clone(), "cidr" => cidr.clone()}});
                response = Some(obj! {"vpc" => obj! {
                    "id" => id, "name" => name, "cidr" => cidr, "status" => "CREATING",
                }});
            }
            "createSubnet" => {
                let net = format!(
                    "10.{}.{}",
                    rng.random_range(0..=255),
                    rng.random_range(0..=255)
                );
                request = Some(obj! {"subnet" => obj! {
                    "name" => name,
                    "cidr" => format!("{net}.0/24"),
                    "gateway_ip" => format!("{net}.1"),
                    "vpc_id" => pool_id(rng, P::Vpc),
                    "dhcp_enable" => true,
                }});
                response = Some(obj! {"subnet" => obj! {"id" => id, "status" => "UNKNOWN"}});
            }
            "createEip" => {
                request = Some(obj! {
                    "publicip" => obj! {"type" => "5_bgp", "ip_version" => 4},
                    "bandwidth" => obj! {
                        "name" => format!("bandwidth-{:04x}", rng.random::<u16>()),
                        "size" => *pick(rng, &[5, 10, 20, 100]),
                        "share_type" => "PER",
                        "charge_mode" => "traffic",
                    },
                });
                response = Some(obj! {"publicip" => obj! {
                    "id" => id, "public_ip_address" => name, "status" => "PENDING_CREATE",
                }});
            }
            "bindEip" => {
                let port = uuid4(rng);
                request = Some(obj! {"publicip" => obj! {"port_id" => port.clone()}});
                response = Some(obj! {"publicip" => obj! {
                    "id" => id, "public_ip_address" => name, "port_id" => port, "status" => "ACTIVE",
                }});
            }
            "unbindEip" => {
                request = Some(obj! {"publicip" => obj! {"port_id" => J::Null}});
                response = Some(obj! {"publicip" => obj! {"id" => id, "status" => "DOWN"}});
            }
            "modifyBandwidth" => {
                request = Some(
                    obj! {"bandwidth" => obj! {"size" => *pick(rng, &[10, 20, 50, 100, 300])}},
                );
            }
            "createVolume" => {
                request = Some(obj! {"volume" => obj! {
                    "name" => name,
                    "size" => *pick(rng, &[10, 40, 100, 200, 500]),
                    "volume_type" => *pick(rng, &["SSD", "SAS", "SATA"]),
                    "availability_zone" => az,
                }});
                response = Some(job(rng, "createVolume", ms, Some(("volume_id", &id))));
            }
            "deleteVolume" | "extendVolume" => {
                if op.name == "extendVolume" {
                    request = Some(
                        obj! {"os-extend" => obj! {"new_size" => *pick(rng, &[100, 200, 500])}},
                    );
                }
                response = Some(job(rng, op.name, ms, Some(("volume_id", &id))));
            }
            "login" | "loginFailed" => {
                let o = operator.map(|o| &w.operators[o]);
                let (mode, user_type) = match o.map(|o| o.kind) {
                    Some(Kind::Root) => ("password", "domain owner"),
                    Some(Kind::Federated) => ("federation", "federated user"),
                    _ => ("password", "iam user"),
                };
                let protected = o.is_some_and(|o| o.mfa) && chance(rng, 950);
                let mut login = vec![
                    ("mode", J::from(mode)),
                    ("user_type", J::from(user_type)),
                    (
                        "login_protect",
                        obj! {"status" => if protected { "on" } else { "off" }},
                    ),
                ];
                if op.name == "loginFailed" {
                    let reason = *pick(
                        rng,
                        &["password error", "verification code error", "user locked"],
                    );
                    login.push(("reason", J::from(reason)));
                }
                let login = obj! {"login" => J::Obj(login)};
                message = Some(if chance(rng, 850) {
                    encoded(&login)
                } else {
                    login
                });
            }
            "switchRole" => {
                request =
                    Some(obj! {"agency_name" => name, "domain_name" => w.domain_name.clone()});
            }
            "createUser" => {
                request = Some(obj! {"user" => obj! {
                    "name" => name.clone(),
                    "domain_id" => w.domain_id.clone(),
                    "enabled" => true,
                    "email" => format!("{name}@example.com"),
                }});
                response =
                    Some(obj! {"user" => obj! {"id" => id, "name" => name, "enabled" => true}});
            }
            "updateUser" => {
                request = Some(obj! {"user" => obj! {
                    "enabled" => rng.random_bool(0.8), "description" => "updated by admin",
                }});
            }
            "addCredential" => {
                request = Some(obj! {"credential" => obj! {
                    "user_id" => id.clone(),
                    "description" => *pick(rng, &["ci key", "local cli", ""]),
                }});
                response = Some(obj! {"credential" => obj! {
                    "access" => access_key(rng, false),
                    "status" => "active",
                    "user_id" => id,
                    "create_time" => iso_ms(ms),
                }});
            }
            "changePassword" | "updateUserPwd" | "setPasswordByAdmin" | "modifyUserPassword" => {
                request = Some(obj! {"user" => obj! {
                    "password" => "********", "original_password" => "********",
                }});
            }
            "addUserToGroup" | "removeUserFromGroup" => {
                request = Some(obj! {"group_id" => id, "user_id" => pool_id(rng, P::IamUser)});
            }
            "assignRoleToGroupOnProject"
            | "unassignRoleToGroupOnProject"
            | "assignRoleToGroupOnDomain"
            | "unassignRoleToGroupOnDomain" => {
                let (group, role) = name.split_once(':').unwrap_or((&name, "te_admin"));
                let scope = if op.name.ends_with("Project") {
                    ("project_id", J::from(w.project_id.clone()))
                } else {
                    ("domain_id", J::from(w.domain_id.clone()))
                };
                request = Some(J::Obj(vec![
                    ("group_name", J::from(group.to_string())),
                    ("role_name", J::from(role.to_string())),
                    ("role_id", J::from(hex32(rng))),
                    scope,
                ]));
            }
            "createAgency" | "updateAgency" => {
                request = Some(obj! {"agency" => obj! {
                    "name" => name.clone(),
                    "domain_id" => w.domain_id.clone(),
                    "trust_domain_name" => *pick(rng, &["op_svc_cce", "op_svc_evs", "partner-domain-0042"]),
                    "duration" => *pick(rng, &["FOREVER", "ONEDAY"]),
                }});
                response = Some(obj! {"agency" => obj! {"id" => id, "name" => name}});
            }
            "BindMFA" | "UnBindMFA" => {
                let device = obj! {
                    "user_id" => id.clone(),
                    "serial_number" => format!("iam/mfa/{id}"),
                    "authentication_code" => "******",
                };
                let field = if op.name == "BindMFA" {
                    "binding_device"
                } else {
                    "unbinding_device"
                };
                request = Some(J::Obj(vec![(field, device)]));
            }
            "updateSecurityPolicies" => {
                request = Some(obj! {"protect_policy" => obj! {
                    "operation_protection" => rng.random_bool(0.5),
                    "allow_user" => obj! {
                        "manage_accesskey" => rng.random_bool(0.5), "manage_password" => true,
                    },
                }});
            }
            "updatePasswordPolicies" => {
                request = Some(obj! {"password_policy" => obj! {
                    "minimum_password_length" => *pick(rng, &[8, 12, 16]),
                    "password_validity_period" => *pick(rng, &[0, 90, 180]),
                    "number_of_recent_passwords_disallowed" => *pick(rng, &[0, 3, 5]),
                }});
            }
            "updateACLPolicies" => {
                let netmask = *pick(rng, &["80.158.0.0/16", "0.0.0.0/0", "62.156.151.0/24"]);
                request = Some(obj! {"console_acl_policy" => obj! {
                    "allow_address_netmasks" => arr![obj! {"address_netmask" => netmask}],
                }});
            }
            "createIdentityProvider" | "updateIdentityProvider" => {
                request = Some(obj! {"identity_provider" => obj! {
                    "sso_type" => "virtual_user_sso", "enabled" => true, "description" => name,
                }});
            }
            "createTracker" | "updateTracker" => {
                // Shaped like the 2017 file of cts-spec.md §1.5(e), plus v3 fields on half.
                let update = op.name == "updateTracker";
                let disabled = update && chance(rng, 250);
                let bucket = if update && chance(rng, 150) {
                    *pick(rng, &["obs-cts-archive", "tmp-bucket-x1"])
                } else {
                    SAMPLE_BUCKET
                };
                let prefix = if update && chance(rng, 100) {
                    "changed".to_string()
                } else {
                    w.prefix.clone()
                };
                let mut fields = vec![
                    ("bucket_name", J::from(bucket)),
                    ("file_prefix_name", J::from(prefix)),
                    (
                        "status",
                        J::from(if disabled { "disabled" } else { "enabled" }),
                    ),
                ];
                if rng.random_bool(0.5) {
                    fields.push(("tracker_type", J::from("system")));
                    fields.push(("is_support_validate", J::from(chance(rng, 850))));
                    fields.push(("lts", obj! {"is_lts_enabled" => rng.random_bool(0.5)}));
                }
                request = Some(J::Obj(fields.clone()));
                fields.push(("tracker_name", J::from(name)));
                response = Some(J::Obj(fields));
            }
            "deleteTracker" => request = Some(obj! {"tracker_name" => name}),
            "getTrace" => {
                request = Some(obj! {
                    "trace_type" => "system",
                    "limit" => *pick(rng, &[10, 50, 200]),
                    "from" => ms - HOUR_MS,
                    "to" => ms,
                });
            }
            "createNotification" | "updateNotification" | "updateNotificationStatus" => {
                let mut fields = vec![("notification_name", J::from(name))];
                if op.name != "updateNotificationStatus" {
                    fields.push(("operation_type", J::from("customized")));
                    fields.push((
                        "operations",
                        arr![obj! {
                            "service_type" => "IAM",
                            "resource_type" => "user",
                            "trace_names" => arr!["login", "loginFailed"],
                        }],
                    ));
                }
                let status = if chance(rng, 200) {
                    "disabled"
                } else {
                    "enabled"
                };
                fields.push(("status", J::from(status)));
                request = Some(J::Obj(fields));
            }
            "createBucket" => {
                request = Some(
                    obj! {"CreateBucketConfiguration" => obj! {"Location" => w.region.clone()}},
                );
            }
            "setBucketPolicy" => {
                let principal = if chance(rng, 150) {
                    "*".to_string()
                } else {
                    format!("domain/{}:user/*", w.domain_id)
                };
                request = Some(obj! {"Statement" => arr![obj! {
                    "Sid" => "stmt1",
                    "Effect" => "Allow",
                    "Principal" => obj! {"ID" => arr![principal]},
                    "Action" => arr!["GetObject"],
                    "Resource" => arr![format!("{name}/*")],
                }]});
            }
            "setBucketAcl" => {
                let grantee = if chance(rng, 150) {
                    obj! {"Canned" => "Everyone"}
                } else {
                    obj! {"ID" => w.domain_id.clone()}
                };
                request = Some(obj! {"AccessControlPolicy" => obj! {
                    "Owner" => obj! {"ID" => w.domain_id.clone()},
                    "AccessControlList" => obj! {
                        "Grant" => arr![obj! {"Grantee" => grantee, "Permission" => "READ"}],
                    },
                }});
            }
            "createKey" => {
                request = Some(obj! {
                    "key_alias" => name, "key_spec" => "AES_256", "key_usage" => "ENCRYPT_DECRYPT",
                });
                response = Some(
                    obj! {"key_info" => obj! {"key_id" => id, "domain_id" => w.domain_id.clone()}},
                );
            }
            "enableKey" | "disableKey" => {
                let state = if op.name == "enableKey" { "2" } else { "3" };
                request = Some(obj! {"key_id" => id.clone()});
                response = Some(obj! {"key_info" => obj! {"key_id" => id, "key_state" => state}});
            }
            "scheduleKeyDeletion" => {
                request =
                    Some(obj! {"key_id" => id.clone(), "pending_days" => *pick(rng, &["7", "30"])});
                response = Some(obj! {"key_id" => id, "key_state" => "4"});
            }
            "cancelKeyDeletion" => {
                request = Some(obj! {"key_id" => id.clone()});
                response = Some(obj! {"key_id" => id, "key_state" => "5"});
            }
            "createDataKey" | "encryptDatakey" | "decryptDatakey" => {
                request = Some(obj! {"key_id" => id.clone(), "datakey_length" => "512"});
                response = Some(obj! {"key_id" => id, "cipher_text" => "******"});
            }
            "publishMessage" => {
                request = Some(obj! {"subject" => "alarm", "message" => "CPU usage above 90%"});
                response = Some(obj! {"message_id" => hex32(rng), "request_id" => hex32(rng)});
            }
            "createTopic" => {
                request = Some(obj! {"name" => name.clone(), "display_name" => name});
                response = Some(obj! {"topic_urn" => id, "request_id" => hex32(rng)});
            }
            "subscribe" => {
                let endpoint = *pick(
                    rng,
                    &[
                        "ops@example.com",
                        "security@example.com",
                        "oncall@example.com",
                    ],
                );
                request = Some(obj! {"protocol" => "email", "endpoint" => endpoint});
                response = Some(obj! {"subscription_urn" => id, "request_id" => hex32(rng)});
            }
            "createInstance" => {
                request = Some(obj! {
                    "name" => name.clone(),
                    "datastore" => obj! {"type" => "PostgreSQL", "version" => "14"},
                    "flavor_ref" => "rds.pg.c2.large",
                    "volume" => obj! {"type" => "ULTRAHIGH", "size" => 100},
                    "availability_zone" => az,
                    "password" => "********",
                });
                response = Some(obj! {
                    "job_id" => uuid4(rng),
                    "instance" => obj! {"id" => id, "name" => name, "status" => "BUILD"},
                });
            }
            "createListener" | "updateListener" => {
                request = Some(obj! {"listener" => obj! {
                    "name" => name.clone(),
                    "protocol" => *pick(rng, &["HTTPS", "HTTP", "TCP"]),
                    "protocol_port" => *pick(rng, &[443, 80, 8443]),
                }});
                response = Some(obj! {"listener" => obj! {"id" => id, "name" => name}});
            }
            "addMember" => {
                request = Some(
                    obj! {"member" => obj! {"address" => name.clone(), "protocol_port" => 8080}},
                );
                response = Some(obj! {"member" => obj! {"id" => id, "address" => name}});
            }
            other => {
                // Generic: creations and updates name their resource; deletions carry no body.
                let bodiless = ["delete", "remove", "log", "del", "cancel", "interrupt"];
                if !op.ro && !bodiless.iter().any(|p| other.starts_with(p)) {
                    let mut inner = vec![("name", J::from(name))];
                    if !id.is_empty() {
                        inner.insert(0, ("id", J::from(id)));
                    }
                    request = Some(J::Obj(vec![(op.rtype, J::Obj(inner))]));
                }
            }
        }
        if failed {
            response = Some(error_body(rng, op.svc));
            if message.is_none() && chance(rng, 500) {
                let text = *pick(
                    rng,
                    &[
                        "operation failed",
                        "Forbidden",
                        "The resource is being used.",
                    ],
                );
                message = Some(J::from(text));
            }
        } else if message.is_none() && chance(rng, 100) {
            message = Some(J::from("success"));
        }
        Bodies {
            request,
            response,
            message,
        }
    }
}

/// An asynchronous job body, as ECS and EVS return it (cts-spec.md §1.5(a)).
fn job(
    rng: &mut StdRng,
    job_type: &'static str,
    ms: i64,
    entity: Option<(&'static str, &str)>,
) -> J {
    let begin = ms - rng.random_range(20_000..60_000);
    let entities = match entity {
        Some((k, v)) => J::Obj(vec![(k, J::from(v.to_string()))]),
        None => obj! {},
    };
    obj! {
        "job_id" => hex32(rng),
        "job_type" => job_type,
        "begin_time" => iso_ms(begin),
        "end_time" => iso_ms(ms),
        "status" => "SUCCESS",
        "error_code" => J::Null,
        "fail_reason" => J::Null,
        "entities" => entities,
    }
}

/// A security group rule: mostly private sources, some open to the world (0.0.0.0/0, ::/0).
fn sg_rule(rng: &mut StdRng, security_group_id: &str) -> J {
    const PRIVATE: &[&str] = &[
        "10.0.0.0/8",
        "10.10.0.0/16",
        "10.20.30.0/24",
        "192.168.0.0/16",
        "192.168.10.0/24",
        "172.16.0.0/12",
    ];
    let direction = if chance(rng, 850) {
        "ingress"
    } else {
        "egress"
    };
    let (ethertype, remote) = if !chance(rng, 150) {
        ("IPv4", *pick(rng, PRIVATE))
    } else if chance(rng, 250) {
        ("IPv6", "::/0")
    } else {
        ("IPv4", "0.0.0.0/0")
    };
    let (protocol, ports): (&str, Option<(i64, i64)>) = match rng.random_range(0..100) {
        0..75 => {
            let port = *pick(rng, &[22, 3389, 443, 80, 5432, 3306, 6443, 8080, 9100]);
            ("tcp", Some((port, port)))
        }
        75..85 => ("udp", Some((53, 53))),
        85..95 => ("icmp", None),
        _ => ("tcp", Some((1, 65535))),
    };
    let mut fields = vec![
        ("direction", J::from(direction)),
        ("ethertype", J::from(ethertype)),
        ("protocol", J::from(protocol)),
    ];
    if let Some((min, max)) = ports {
        fields.push(("port_range_min", J::from(min)));
        fields.push(("port_range_max", J::from(max)));
    }
    fields.push(("remote_ip_prefix", J::from(remote)));
    fields.push(("security_group_id", J::from(security_group_id.to_string())));
    fields.push(("description", J::from("")));
    J::Obj(fields)
}

/// An error response body, in the two shapes services use.
fn error_body(rng: &mut StdRng, svc: usize) -> J {
    let choices: &[(&'static str, &'static str)] = match svc {
        ECS => &[
            ("Ecs.0114", "Invalid flavorRef."),
            ("Ecs.0019", "The ECS quota is insufficient."),
            ("Ecs.0000", "Internal error."),
        ],
        EVS => &[
            ("EVS.2024", "The disk is in use."),
            ("EVS.5400", "Insufficient quota."),
        ],
        VPC => &[
            ("VPC.0514", "Update port fail."),
            ("VPC.0601", "Security group rule already exists."),
        ],
        IAM => &[
            ("IAM.0002", "Forbidden."),
            ("IAM.1101", "The user name or password is incorrect."),
        ],
        OBS => &[
            ("AccessDenied", "Access Denied"),
            (
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            ),
        ],
        KMS => &[
            ("KMS.0205", "The key does not exist."),
            ("KMS.1102", "Key state is not valid."),
        ],
        _ => &[
            ("APIGW.0301", "Incorrect IAM authentication information."),
            ("Common.0403", "Insufficient permissions."),
        ],
    };
    let (code, message) = *pick(rng, choices);
    if svc == VPC && rng.random_bool(0.5) {
        obj! {"code" => code, "message" => message}
    } else {
        obj! {"error" => obj! {"code" => code, "message" => message}}
    }
}

/// The key order of the 2017 trace files (cts-spec.md §1.5(e)); other keys keep their place after.
fn legacy_order(v: &mut J) {
    const ORDER: &[&str] = &[
        "time",
        "user",
        "request",
        "response",
        "service_type",
        "resource_type",
        "resource_name",
        "resource_id",
        "source_ip",
        "trace_name",
        "trace_type",
        "api_version",
        "message",
        "record_time",
        "trace_id",
        "code",
        "trace_status",
        "trace_rating",
    ];
    if let J::Obj(fields) = v {
        fields
            .sort_by_cached_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{ObjectKind, classify};
    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde_json::Value;
    use serde_json::value::RawValue;
    use std::collections::{BTreeSet, HashMap};
    use std::hash::{DefaultHasher, Hasher};
    use std::io::Read;

    fn collect(opts: &GenOptions) -> (GenSummary, Vec<(String, Vec<u8>)>) {
        let mut objects = Vec::new();
        let summary = generate(opts, &mut |key, bytes| {
            objects.push((key.to_string(), bytes));
            Ok(())
        })
        .expect("generate");
        (summary, objects)
    }

    fn gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    fn content(key: &str, bytes: &[u8]) -> Vec<u8> {
        if key.ends_with(".gz") {
            gunzip(bytes).expect("gunzip")
        } else {
            bytes.to_vec()
        }
    }

    /// Top-level keys of a JSON object, in document order.
    struct Keys(Vec<String>);

    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }

    /// One trace as found in a good trace file.
    struct Found {
        key: String,
        raw: String,
        value: Value,
    }

    fn traces(summary: &GenSummary, objects: &[(String, Vec<u8>)]) -> Vec<Found> {
        let mut found = Vec::new();
        for (key, bytes) in objects {
            if summary.broken_files.contains(key) {
                continue;
            }
            if let ObjectKind::TraceFile(_) = classify(key) {
                let text = content(key, bytes);
                let elements: Vec<&RawValue> =
                    serde_json::from_slice(&text).expect("a good file is a JSON array");
                for raw in elements {
                    found.push(Found {
                        key: key.clone(),
                        raw: raw.get().to_string(),
                        value: serde_json::from_str(raw.get()).expect("trace"),
                    });
                }
            }
        }
        found
    }

    fn ms_of(v: &Value) -> i64 {
        match v {
            Value::Number(n) => n.as_i64().expect("integer"),
            Value::String(s) => s.parse().expect("digits"),
            other => panic!("not a time: {other}"),
        }
    }

    fn decoded(v: &Value) -> Option<Value> {
        match v {
            Value::String(s) if !s.is_empty() => serde_json::from_str(s).ok(),
            Value::Object(_) => Some(v.clone()),
            _ => None,
        }
    }

    fn small(traces: u64, days: u32, seed: u64) -> GenOptions {
        GenOptions {
            traces,
            days,
            stray_objects: 7,
            broken_files: 6,
            ..GenOptions::seeded(seed)
        }
    }

    fn fingerprint(objects: &[(String, Vec<u8>)]) -> u64 {
        let mut h = DefaultHasher::new();
        for (k, b) in objects {
            h.write(k.as_bytes());
            h.write_u8(0);
            h.write(b);
            h.write_u8(0xff);
        }
        h.finish()
    }

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

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (s1, a) = collect(&small(3_000, 2, 11));
        let (s2, b) = collect(&small(3_000, 2, 11));
        let (_, c) = collect(&small(3_000, 2, 12));
        assert_eq!(s1, s2);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn counts_times_duplicates_and_keys_agree_with_the_summary() {
        let opts = small(6_000, 3, 5);
        let (summary, objects) = collect(&opts);
        let found = traces(&summary, &objects);

        assert_eq!(summary.distinct_traces, 6_000);
        assert_eq!(found.len() as u64, summary.trace_records);
        assert_eq!(
            summary.trace_records,
            summary.distinct_traces + summary.duplicate_records
        );
        assert_eq!(summary.duplicate_records, 120); // round(6000 * 0.02)
        assert_eq!(
            summary.stored_bytes,
            objects.iter().map(|(_, b)| b.len() as u64).sum::<u64>()
        );

        // Distinct IDs, and every extra copy byte-identical to the first.
        let mut first: HashMap<String, (String, String)> = HashMap::new();
        let mut copies = 0u64;
        for f in &found {
            let id = f.value["trace_id"].as_str().expect("trace_id").to_string();
            match first.get(&id) {
                Some((raw, key)) => {
                    copies += 1;
                    assert_eq!(raw, &f.raw, "copies of {id} differ");
                    assert_ne!(key, &f.key, "a copy sits in the same file");
                }
                None => {
                    first.insert(id, (f.raw.clone(), f.key.clone()));
                }
            }
        }
        assert_eq!(first.len() as u64, opts.traces);
        assert_eq!(copies, summary.duplicate_records);

        // Times inside the days, in the cycle of the file that first carries them.
        let lo = NaiveDate::from_ymd_opt(2024, 6, 28)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("date")
            .and_utc()
            .timestamp_millis();
        let hi = lo + 3 * DAY_MS;
        let mut seen = HashSet::new();
        for f in &found {
            let time = ms_of(&f.value["time"]);
            let record = ms_of(&f.value["record_time"]);
            assert!((lo..hi).contains(&time), "time {time} outside the days");
            assert!((time..time + 2000).contains(&record));
            let ObjectKind::TraceFile(k) = classify(&f.key) else {
                panic!("not a trace file")
            };
            let delivered = k.delivered_at.expect("delivered").timestamp_millis();
            let id = f.value["trace_id"].as_str().expect("id").to_string();
            if seen.insert(id.clone()) {
                assert!(
                    delivered - CYCLE_MS <= time && time < delivered,
                    "{id} in {}",
                    f.key
                );
            } else {
                assert!(
                    delivered - 2 * CYCLE_MS <= time && time < delivered,
                    "copy of {id}"
                );
            }
            // The UUIDv1 carries the trace's time.
            let uuid = Uuid::parse_str(&id).expect("uuid");
            assert_eq!(uuid.get_version_num(), 1);
            let (secs, nanos) = uuid.get_timestamp().expect("v1 timestamp").to_unix();
            assert_eq!(secs as i64 * 1000 + i64::from(nanos) / 1_000_000, time);
            assert_eq!(k.service.as_deref(), f.value["service_type"].as_str());
        }

        // Kinds of objects.
        let mut trace_files = 0;
        let mut digests = 0;
        let mut others = 0;
        for (key, _) in &objects {
            match classify(key) {
                ObjectKind::TraceFile(k) => {
                    trace_files += 1;
                    assert_eq!(k.region.as_deref(), Some("eu-de"));
                    assert_eq!(k.tracker.as_deref(), Some("system"));
                    assert_eq!(k.prefix, "cts");
                    assert_eq!(k.suffix.len(), 16);
                    assert!(k.gzip);
                }
                ObjectKind::Digest => digests += 1,
                ObjectKind::Other => others += 1,
            }
        }
        assert_eq!(
            trace_files,
            summary.trace_files + summary.broken_files.len() as u64
        );
        assert_eq!(digests, summary.digest_files);
        assert_eq!(others, summary.stray_objects);
        assert_eq!(summary.stray_objects, 7);
        let keys: BTreeSet<&String> = objects.iter().map(|(k, _)| k).collect();
        assert_eq!(keys.len(), objects.len(), "keys are unique");
        let raw: u64 = objects
            .iter()
            .filter(|(k, _)| {
                matches!(classify(k), ObjectKind::TraceFile(_)) && !summary.broken_files.contains(k)
            })
            .map(|(k, b)| content(k, b).len() as u64)
            .sum();
        assert_eq!(raw, summary.raw_json_bytes);
    }

    #[test]
    fn digests_list_the_hour_s_files_with_their_md5_and_chain() {
        let (summary, objects) = collect(&small(3_000, 1, 9));
        let by_key: HashMap<&str, &Vec<u8>> =
            objects.iter().map(|(k, b)| (k.as_str(), b)).collect();
        let mut listed = 0u64;
        let mut previous: HashMap<String, String> = HashMap::new();
        for (key, bytes) in &objects {
            if classify(key) != ObjectKind::Digest {
                continue;
            }
            let digest: Value = serde_json::from_slice(&gunzip(bytes).expect("gz")).expect("json");
            assert_eq!(digest["digest_object"], Value::String(key.clone()));
            assert_eq!(digest["digest_signature_algorithm"], "SHA256withRSA");
            assert_eq!(digest["digest_end"], false);
            let service = key.split('/').nth(7).expect("service folder").to_string();
            let prev_object = digest["previous_digest_object"].as_str().expect("prev");
            match previous.get(&service) {
                Some(prev) => {
                    assert_eq!(prev_object, prev);
                    let prev_bytes = by_key[prev.as_str()];
                    assert_eq!(digest["previous_digest_hash_value"], md5_hex(prev_bytes));
                    assert_eq!(
                        digest["previous_digest_signature"].as_str().map(str::len),
                        Some(512)
                    );
                }
                None => assert_eq!(prev_object, ""),
            }
            previous.insert(service.clone(), key.clone());
            let start = digest["digest_start_time"]
                .as_str()
                .expect("start")
                .to_string();
            for file in digest["log_files"].as_array().expect("log_files") {
                let object = file["object"].as_str().expect("object");
                let ObjectKind::TraceFile(k) = classify(object) else {
                    panic!("digest lists a non-trace file")
                };
                assert_eq!(k.service.as_deref(), Some(service.as_str()));
                let stamp = k
                    .delivered_at
                    .expect("at")
                    .format("%Y-%m-%dT%H")
                    .to_string();
                assert!(start.starts_with(&stamp), "{object} outside {start}");
                assert_eq!(file["log_hash_value"], md5_hex(by_key[object]));
                assert_eq!(file["log_hash_algorithm"], "MD5");
                listed += 1;
            }
        }
        assert!(summary.digest_files > 0);
        assert_eq!(listed, summary.trace_files);
    }

    #[test]
    fn broken_files_fail_in_their_intended_way() {
        let (summary, objects) = collect(&small(500, 1, 3));
        assert_eq!(summary.broken_files.len(), 6);
        let by_key: HashMap<&str, &Vec<u8>> =
            objects.iter().map(|(k, b)| (k.as_str(), b)).collect();
        for (i, key) in summary.broken_files.iter().enumerate() {
            assert!(matches!(classify(key), ObjectKind::TraceFile(_)), "{key}");
            let bytes = by_key[key.as_str()];
            match i % 3 {
                0 => assert!(gunzip(bytes).is_err(), "truncated gzip must not inflate"),
                1 => {
                    let text = gunzip(bytes).expect("valid gzip");
                    assert!(serde_json::from_slice::<Value>(&text).is_err());
                }
                _ => {
                    let v: Value =
                        serde_json::from_slice(&gunzip(bytes).expect("gz")).expect("json");
                    assert!(!v.is_array() && !v.is_object(), "{v}");
                }
            }
        }
        // Uncompressed buckets break the same three ways, without gzip.
        let opts = GenOptions {
            gzip: false,
            ..small(500, 1, 3)
        };
        let (summary, objects) = collect(&opts);
        let by_key: HashMap<&str, &Vec<u8>> =
            objects.iter().map(|(k, b)| (k.as_str(), b)).collect();
        for (i, key) in summary.broken_files.iter().enumerate() {
            assert!(key.ends_with(".json"));
            let parsed = serde_json::from_slice::<Value>(by_key[key.as_str()]);
            match i % 3 {
                0 | 1 => assert!(parsed.is_err()),
                _ => assert!(parsed.is_ok_and(|v| !v.is_array() && !v.is_object())),
            }
        }
    }

    #[test]
    fn plain_json_unsorted_layout_and_other_options() {
        let opts = GenOptions {
            gzip: false,
            sort_by_service: false,
            digests: false,
            duplicate_ratio: 0.0,
            file_prefix: "my_pre_fix".to_string(),
            region: "eu-nl".to_string(),
            ..small(2_000, 2, 4)
        };
        let (summary, objects) = collect(&opts);
        assert_eq!(summary.digest_files, 0);
        assert_eq!(summary.duplicate_records, 0);
        for (key, bytes) in &objects {
            if let ObjectKind::TraceFile(k) = classify(key) {
                assert!(!k.gzip);
                assert_eq!(k.service, None);
                assert_eq!(k.prefix, "my_pre_fix");
                assert_eq!(k.region.as_deref(), Some("eu-nl"));
                if !summary.broken_files.contains(key) {
                    assert!(serde_json::from_slice::<Vec<Value>>(bytes).is_ok());
                }
            }
        }
        let found = traces(&summary, &objects);
        assert_eq!(found.len(), 2_000);

        let (empty, objects) = collect(&GenOptions {
            traces: 0,
            ..GenOptions::default()
        });
        assert_eq!(empty.trace_files, 0);
        assert!(objects.is_empty());
        assert!(
            generate(
                &GenOptions {
                    days: 0,
                    ..GenOptions::default()
                },
                &mut |_, _| Ok(())
            )
            .is_err()
        );
    }

    #[test]
    fn every_variant_of_section_1_4_appears_in_a_5000_trace_bucket() {
        let (summary, objects) = collect(&GenOptions {
            traces: 5_000,
            ..GenOptions::default()
        });
        let found = traces(&summary, &objects);
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut ratings: HashMap<String, u64> = HashMap::new();
        for f in &found {
            let v = &f.value;
            let t = v.as_object().expect("object");
            names.insert(v["trace_name"].as_str().expect("name").to_string());
            let system = v["trace_type"] == "SystemAction";
            match t.get("user") {
                None => seen.insert("user absent"),
                Some(Value::Null) => seen.insert("user null"),
                Some(Value::Object(_)) => seen.insert("user object"),
                Some(Value::String(s)) => {
                    assert!(serde_json::from_str::<Value>(s).is_ok_and(|u| u.is_object()));
                    seen.insert("user string")
                }
                Some(other) => panic!("user {other}"),
            };
            if system {
                assert_eq!(v["source_ip"], "");
                assert!(matches!(t.get("user"), None | Some(Value::Null)));
            } else {
                assert!(t.contains_key("user"));
                let ip = v["source_ip"].as_str().expect("ip");
                assert_eq!(ip.split('.').count(), 4, "{ip}");
            }
            if let Some(user) = t.get("user").and_then(decoded) {
                if let Some(root) = user.get("principal_is_root_user") {
                    match root.as_str() {
                        Some("true") => seen.insert("root true"),
                        Some("false") => seen.insert("root false"),
                        _ => panic!("principal_is_root_user {root}"),
                    };
                }
                if user["access_key_id"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("HSTA"))
                {
                    seen.insert("temporary ak");
                }
                if let Some(t) = user["type"].as_str() {
                    seen.insert(match t {
                        "User" => "type User",
                        "AssumedAgency" => "type AssumedAgency",
                        "ExternalUser" => "type ExternalUser",
                        _ => panic!("type {t}"),
                    });
                }
                if user["session_context"]["attributes"]["mfa_authenticated"] == "true" {
                    seen.insert("mfa true");
                }
            }
            for field in ["request", "response"] {
                let variant = match t.get(field) {
                    None => "absent",
                    Some(Value::String(s)) if s.is_empty() => "empty",
                    Some(Value::String(_)) => "string",
                    Some(Value::Object(o)) if o.is_empty() => "{}",
                    Some(Value::Object(_)) => "object",
                    Some(other) => panic!("{field} {other}"),
                };
                seen.insert(match (field, variant) {
                    ("request", "absent") => "request absent",
                    ("request", "empty") => "request empty",
                    ("request", "string") => "request string",
                    ("request", "{}") => "request {}",
                    ("request", _) => "request object",
                    (_, "absent") => "response absent",
                    (_, "empty") => "response empty",
                    (_, "string") => "response string",
                    (_, "{}") => "response {}",
                    _ => "response object",
                });
            }
            let rating = match (t.get("trace_rating"), t.get("trace_status")) {
                (Some(r), None) => {
                    seen.insert("trace_rating only");
                    r
                }
                (None, Some(s)) => {
                    seen.insert("trace_status only");
                    s
                }
                (Some(r), Some(s)) => {
                    assert_eq!(r, s);
                    seen.insert("rating and status");
                    r
                }
                (None, None) => panic!("no rating"),
            };
            let rating = rating.as_str().expect("rating").to_string();
            let code = match t.get("code") {
                None => {
                    seen.insert("code absent");
                    None
                }
                Some(Value::Number(n)) => {
                    seen.insert("code int");
                    n.as_i64()
                }
                Some(Value::String(s)) => {
                    seen.insert("code string");
                    Some(s.parse::<i64>().expect("digits"))
                }
                Some(other) => panic!("code {other}"),
            };
            if let Some(code) = code {
                if rating == "normal" {
                    assert!([200, 201, 202, 204, 302].contains(&code), "{code}");
                } else {
                    assert!([400, 401, 403, 404, 409, 500].contains(&code), "{code}");
                }
            }
            *ratings.entry(rating).or_default() += 1;
            match (&v["time"], &v["record_time"]) {
                (Value::Number(_), Value::Number(_)) => seen.insert("time int"),
                (Value::String(_), Value::String(_)) => seen.insert("time string"),
                _ => panic!("time and record_time differ in type"),
            };
            if let Some(r) = t.get("read_only") {
                assert!(r.is_boolean());
                seen.insert("read_only");
            }
            if v["request_id"] == "null" {
                seen.insert("request_id null");
            }
            for field in [
                "operation_id",
                "enterprise_project_id",
                "resource_account_id",
                "user_agent",
                "content_length",
                "total_time",
                "location_info",
                "endpoint",
                "resource_url",
                "domain_id",
                "project_id",
                "api_version",
                "x_new_field",
            ] {
                if t.contains_key(field) {
                    seen.insert(field);
                }
            }
            let keys = serde_json::from_str::<Keys>(&f.raw).expect("keys").0;
            if keys.windows(2).all(|w| w[0] <= w[1]) {
                seen.insert("sorted keys");
            } else {
                seen.insert("unsorted keys");
            }
            seen.insert(match v["trace_type"].as_str().expect("type") {
                "ConsoleAction" => "ConsoleAction",
                "ApiCall" => "ApiCall",
                "SystemAction" => "SystemAction",
                "Others" => "Others",
                other => panic!("trace_type {other}"),
            });
            let event_type = if v["service_type"] == "IAM" {
                "global"
            } else {
                "system"
            };
            assert_eq!(v["event_type"], event_type);
            assert_eq!(v["tracker_name"], "system");

            // Content the compliance reports search for.
            let name = v["trace_name"].as_str().expect("name");
            if (name == "createSgRule" || name == "createSecurity-group-rule")
                && let Some(request) = t.get("request").and_then(decoded)
            {
                let remote = &request["security_group_rule"]["remote_ip_prefix"];
                if remote == "0.0.0.0/0" || remote == "::/0" {
                    seen.insert("sg rule open to the world");
                } else if remote.as_str().is_some_and(|r| r.starts_with("10.")) {
                    seen.insert("sg rule private");
                }
            }
            if name == "login" {
                let message = t.get("message").and_then(decoded).expect("login message");
                match message["login"]["login_protect"]["status"].as_str() {
                    Some("on") => seen.insert("login protect on"),
                    Some("off") => seen.insert("login protect off"),
                    other => panic!("login_protect {other:?}"),
                };
            }
            if name == "updateTracker"
                && t.get("request")
                    .and_then(decoded)
                    .is_some_and(|r| r["status"] == "disabled")
            {
                seen.insert("tracker disabled");
            }
        }
        let pretty = objects.iter().any(|(k, b)| {
            matches!(classify(k), ObjectKind::TraceFile(_))
                && !summary.broken_files.contains(k)
                && content(k, b).starts_with(b"[\n  {")
        });
        assert!(pretty, "no pretty-printed file");

        let expected = [
            "user absent",
            "user null",
            "user object",
            "user string",
            "root true",
            "root false",
            "temporary ak",
            "type User",
            "type AssumedAgency",
            "type ExternalUser",
            "mfa true",
            "request absent",
            "request empty",
            "request string",
            "request {}",
            "request object",
            "response absent",
            "response empty",
            "response string",
            "response {}",
            "response object",
            "trace_rating only",
            "trace_status only",
            "rating and status",
            "code absent",
            "code int",
            "code string",
            "time int",
            "time string",
            "read_only",
            "request_id null",
            "operation_id",
            "enterprise_project_id",
            "resource_account_id",
            "user_agent",
            "content_length",
            "total_time",
            "location_info",
            "endpoint",
            "resource_url",
            "domain_id",
            "project_id",
            "api_version",
            "x_new_field",
            "sorted keys",
            "unsorted keys",
            "ConsoleAction",
            "ApiCall",
            "SystemAction",
            "Others",
            "sg rule open to the world",
            "sg rule private",
            "login protect on",
            "login protect off",
            "tracker disabled",
        ];
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|e| !seen.contains(e))
            .collect();
        assert!(missing.is_empty(), "missing variants: {missing:?}");

        // Every catalogued operation is present, however rare.
        let missing: Vec<&str> = OPS
            .iter()
            .map(|o| o.name)
            .filter(|n| !names.contains(*n))
            .collect();
        assert!(missing.is_empty(), "missing operations: {missing:?}");

        let total = found.len() as f64;
        let share = |r: &str| ratings.get(r).copied().unwrap_or(0) as f64 / total;
        assert!((0.85..0.95).contains(&share("normal")), "{ratings:?}");
        assert!((0.05..0.12).contains(&share("warning")), "{ratings:?}");
        assert!((0.005..0.04).contains(&share("incident")), "{ratings:?}");
    }

    #[test]
    fn default_ids_follow_the_seed() {
        let plain = GenOptions {
            traces: 500,
            days: 1,
            seed: 42,
            ..GenOptions::default()
        };
        let seeded = GenOptions {
            traces: 500,
            days: 1,
            ..GenOptions::seeded(42)
        };
        assert!(plain.project_id.is_empty());
        assert_eq!(seeded.project_id.len(), 32);
        assert_ne!(seeded.project_id, GenOptions::seeded(1).project_id);
        let (_, a) = collect(&plain);
        let (_, b) = collect(&seeded);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let (summary, objects) = collect(&seeded);
        let found = traces(&summary, &objects);
        assert!(
            found
                .iter()
                .any(|f| f.value["project_id"] == seeded.project_id.as_str())
        );
        assert!(
            found
                .iter()
                .any(|f| f.value["domain_id"] == seeded.domain_id.as_str())
        );
    }

    #[test]
    fn packaging_options_do_not_change_the_traces() {
        let distinct = |opts: &GenOptions| -> BTreeMap<String, Value> {
            let (summary, objects) = collect(opts);
            traces(&summary, &objects)
                .into_iter()
                .map(|f| {
                    (
                        f.value["trace_id"].as_str().expect("id").to_string(),
                        f.value,
                    )
                })
                .collect()
        };
        let base = small(2_000, 2, 21);
        let reference = distinct(&base);
        assert_eq!(reference.len(), 2_000);
        let variants = [
            GenOptions {
                gzip: false,
                ..base.clone()
            },
            GenOptions {
                digests: false,
                ..base.clone()
            },
            GenOptions {
                sort_by_service: false,
                ..base.clone()
            },
            GenOptions {
                duplicate_ratio: 0.25,
                broken_files: 0,
                stray_objects: 0,
                ..base.clone()
            },
        ];
        for opts in &variants {
            assert!(distinct(opts) == reference, "traces changed with {opts:?}");
        }
    }

    #[test]
    fn stray_objects_are_other_and_generate_to_dir_writes_every_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = small(1_000, 1, 8);
        let summary = generate_to_dir(&opts, dir.path()).expect("write");
        let (same, objects) = collect(&opts);
        assert_eq!(summary, same);
        for (key, bytes) in &objects {
            let on_disk = std::fs::read(dir.path().join(key)).expect("file written");
            assert_eq!(&on_disk, bytes);
        }
        let others: Vec<&String> = objects
            .iter()
            .map(|(k, _)| k)
            .filter(|k| classify(k) == ObjectKind::Other)
            .collect();
        assert_eq!(others.len() as u64, summary.stray_objects);
        assert!(others.iter().any(|k| k.ends_with(".json")));
        assert!(others.iter().any(|k| k.ends_with("README.txt")));
    }
}
