//! Tests of whole buckets: counts, times, duplicates, digests, broken and stray objects, the
//! §1.4 variants, and bytes that do not change.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Read};

use chrono::NaiveDate;
use cts_core::source::layout::{ObjectKind, classify};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::catalogue::OPS;
use crate::generator::{CYCLE_MS, DAY_MS, md5_hex};
use crate::{GenOptions, GenSummary, generate, generate_to_dir};

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

/// MD5 over every object handed to the sink: key, length and bytes, in order.
fn bucket_md5(opts: &GenOptions) -> (String, Vec<(String, Vec<u8>)>) {
    use md5::Digest;
    let (_, objects) = collect(opts);
    let mut hasher = md5::Md5::new();
    for (key, bytes) in &objects {
        hasher.update(key.as_bytes());
        hasher.update([0u8]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (hex, objects)
}

/// The constants are the MD5s of whole buckets: a change to them is a change of every bucket's
/// bytes. (Last changed when digests were signed with the sample key, each signature beside its
/// digest; the trace files did not change.)
#[test]
fn the_bytes_of_a_seeded_bucket_do_not_change() {
    let opts = GenOptions {
        traces: 3_000,
        days: 3,
        end: NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        seed: 42,
        stray_objects: 2,
        broken_files: 3,
        ..GenOptions::seeded(42)
    };
    let (gzipped, _) = bucket_md5(&opts);
    let (plain, objects) = bucket_md5(&GenOptions {
        gzip: false,
        ..opts
    });
    // The plain bucket has both layouts of trace files (pretty-printed and compact).
    let trace_files = || {
        objects
            .iter()
            .filter(|(k, _)| matches!(classify(k), ObjectKind::TraceFile(_)))
    };
    assert!(trace_files().any(|(_, b)| b.starts_with(b"[\n  {")));
    assert!(trace_files().any(|(_, b)| b.starts_with(b"[{")));
    assert_eq!(gzipped, "6937f6eb130f22e1219d960637e03bb4");
    assert_eq!(plain, "5c1cfb7878d3e5c533a4d2ade5a1ba18");
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
    let mut signatures = 0;
    for (key, _) in &objects {
        if key.ends_with(cts_core::storage::METADATA_SUFFIX) {
            signatures += 1;
            continue;
        }
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
    assert_eq!(signatures, summary.digest_files);
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
    let by_key: HashMap<&str, &Vec<u8>> = objects.iter().map(|(k, b)| (k.as_str(), b)).collect();
    let mut listed = 0u64;
    let mut previous: HashMap<String, String> = HashMap::new();
    for (key, bytes) in &objects {
        if classify(key) != ObjectKind::Digest || key.ends_with(cts_core::storage::METADATA_SUFFIX)
        {
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
    let by_key: HashMap<&str, &Vec<u8>> = objects.iter().map(|(k, b)| (k.as_str(), b)).collect();
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
                let v: Value = serde_json::from_slice(&gunzip(bytes).expect("gz")).expect("json");
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
    let by_key: HashMap<&str, &Vec<u8>> = objects.iter().map(|(k, b)| (k.as_str(), b)).collect();
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
