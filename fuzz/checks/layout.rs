//! The checks of the fuzz target `layout` (also replayed over its corpus by the tests of
//! cts-core): arbitrary UTF-8 strings as object keys.
//!
//! Must never panic. Beyond that:
//!
//! - `classify` agrees with `TraceFileKey::parse`: a trace file is exactly what parses (and is
//!   not named like a digest), a digest has the digest marker in its file name;
//! - a parsed key is consistent with its text (`.json` / `.json.gz`, a hex suffix, a delivery
//!   time, no `/` in file-name parts);
//! - round trip: a parsed trace file key, built again from its parts with
//!   `TraceFileKey::build`, parses (and classifies) to the same parts; its digest key, built
//!   with `build_digest`, classifies as a digest.

use cts_core::source::layout::{
    DIGEST_MARKER, ObjectKind, ROOT_FOLDER, TRACE_MARKER, TraceFileKey, classify,
};

/// Check one input (keys are UTF-8; other bytes are no key); panics on a broken promise.
pub fn check_bytes(data: &[u8]) {
    if let Ok(key) = std::str::from_utf8(data) {
        check(key);
    }
}

fn check(key: &str) {
    let file_name = key.rsplit('/').next().unwrap_or(key);
    let parsed = TraceFileKey::parse(key);
    let trace_file = match classify(key) {
        ObjectKind::Digest => {
            assert!(file_name.contains(DIGEST_MARKER));
            false
        }
        ObjectKind::TraceFile(k) => {
            assert!(!file_name.contains(DIGEST_MARKER));
            assert_eq!(Some(&k), parsed.as_ref(), "classify and parse disagree");
            true
        }
        ObjectKind::Other => {
            assert!(parsed.is_none(), "parses but classified as other");
            false
        }
    };
    let Some(k) = parsed else { return };

    // The parts agree with the text they came from.
    assert!(file_name.contains(TRACE_MARKER));
    assert_eq!(k.gzip, file_name.ends_with(".json.gz"));
    assert!(file_name.ends_with(".json") || k.gzip);
    assert!(!k.suffix.is_empty() && k.suffix.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(file_name.contains(&format!("_{}.json", k.suffix)));
    let Some(at) = k.delivered_at else {
        panic!("a trace file key without a delivery time")
    };
    for part in [&k.prefix, &k.name_region, &k.suffix] {
        assert!(!part.contains('/'), "file-name part with a slash: {part:?}");
    }
    for part in [&k.region, &k.tracker, &k.service].into_iter().flatten() {
        assert!(
            !part.is_empty() && !part.contains('/'),
            "folder part {part:?}"
        );
    }

    // Round trip (of trace files only: a digest's name may parse too): build the key again
    // from the parts, parse it back.
    let (true, Some(region)) = (trace_file, k.region.as_deref()) else {
        return;
    };
    // A region that is one of the layout's own tokens is no round-trip case (no CTS region is:
    // regions are `[a-z0-9-]+`; see README.md, "Findings"):
    // - `build` writes the region into the file name too, between `_CloudTrace_` and `_`. Where
    //   a marker then shows inside or across it (a folder `CloudTraces/a_CloudTrace_b/` or
    //   `CloudTraces/x_CloudTrace/`), the name is ambiguous (`p_CloudTrace_x_CloudTrace_2024-...`
    //   reads as prefix `p_CloudTrace_x`, then fails) or a digest's;
    // - a region `CloudTraces` (read from a bare file name) becomes a second root folder in the
    //   built key, and the last root folder is the one that counts.
    let between = format!("_{region}_");
    if between.contains(TRACE_MARKER) || between.contains(DIGEST_MARKER) || region == ROOT_FOLDER {
        return;
    }
    // A bare file name has no tracker folder: give it the management tracker's.
    let tracker = k.tracker.as_deref().unwrap_or("system");
    let service = k.service.as_deref();
    let built = TraceFileKey::build(region, tracker, service, &k.prefix, at, &k.suffix, k.gzip);
    let Some(again) = TraceFileKey::parse(&built) else {
        panic!("built key does not parse: {built:?} (from {key:?})")
    };
    let expected = TraceFileKey {
        region: Some(region.to_string()),
        date: Some(at.date_naive()),
        tracker: Some(tracker.to_string()),
        service: service.map(str::to_string),
        prefix: k.prefix.clone(),
        // `build` writes the folder's region into the file name.
        name_region: region.to_string(),
        delivered_at: Some(at),
        suffix: k.suffix.clone(),
        gzip: k.gzip,
    };
    assert_eq!(again, expected, "round trip of {key:?} via {built:?}");
    assert_eq!(classify(&built), ObjectKind::TraceFile(again), "{built:?}");

    if let Some(service) = service {
        let digest = TraceFileKey::build_digest(region, tracker, service, &k.prefix, at);
        assert_eq!(classify(&digest), ObjectKind::Digest, "{digest:?}");
    }
}
