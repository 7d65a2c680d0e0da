//! `cts verify`: a signed sample verifies, in a folder and in a real S3-compatible bucket
//! (signatures in object metadata there); each kind of tampering is reported by name with exit
//! status 3; the signatures check with an independent implementation (pyca/cryptography).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cts_testkit::{ACCESS_KEY, SECRET_KEY};
use cts_testkit::{SeaweedFs, block_on};

fn cts(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let data = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_cts"))
        .arg("--data-dir")
        .arg(data.path())
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run cts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Files under `dir` whose path contains `part`, sorted.
fn files(dir: &Path, part: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    walk(dir, &mut all);
    let mut found: Vec<PathBuf> = all
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(part))
        .collect();
    found.sort();
    found
}

fn key_of(bucket: &Path, file: &Path) -> String {
    file.strip_prefix(bucket)
        .expect("in the bucket")
        .to_string_lossy()
        .into_owned()
}

const GEN: [&str; 8] = [
    "--traces",
    "1500",
    "--days",
    "1",
    "--seed",
    "3",
    "--end",
    "2024-06-30",
];

/// A signed sample bucket of `days` days (the rest of [`GEN`]) in `dir`: its folder, the same as
/// text, and the file of its public key.
fn signed_sample(dir: &Path, days: &str) -> (PathBuf, String, String) {
    let bucket = dir.join("bucket");
    let b = bucket.to_string_lossy().into_owned();
    let args = [&["gen", b.as_str()][..], &GEN[..3], &[days], &GEN[4..]].concat();
    let made = cts(&args, &[]);
    assert!(made.status.success(), "{made:?}");
    let key = format!("{b}.public-key.pem");
    assert!(text(&made.stdout).contains(&format!("its public half is in {key}")));
    (bucket, b, key)
}

#[test]
fn a_signed_sample_verifies_and_each_kind_of_tampering_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (bucket, b, key) = signed_sample(dir.path(), "1");

    let traces = files(&bucket, "_CloudTrace_");
    let digests: Vec<PathBuf> = files(&bucket, "_CloudTrace-Digest_")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".meta.json"))
        .collect();
    let ok = cts(&["verify", &b, "--public-key", &key], &[]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert_eq!(
        text(&ok.stderr).trim(),
        format!(
            "{b}: PASSED: {} verified, {} digest verified",
            traces.len(),
            digests.len()
        )
    );
    assert_eq!(text(&ok.stdout), "", "no problem rows");

    // With CTS's own key (the default), every chain head fails: our sample is not CTS's.
    let other = cts(&["verify", &b], &[]);
    assert_eq!(other.status.code(), Some(3), "{other:?}");
    assert!(
        text(&other.stderr).contains("signature invalid"),
        "{other:?}"
    );

    // Tamper: one byte of one trace file, delete another, add one no digest lists, alter a
    // digest in the middle of the ECS chain, remove one in the middle of the VPC chain.
    let modified = &traces[10];
    let mut bytes = std::fs::read(modified).expect("read");
    bytes[30] ^= 0x01;
    std::fs::write(modified, bytes).expect("write");
    let deleted = &traces[20];
    std::fs::remove_file(deleted).expect("delete");
    let added = traces[30]
        .with_file_name("cts_CloudTrace_eu-de_2024-06-30T05-00-00Z_00000000000000aa.json.gz");
    std::fs::copy(&traces[30], &added).expect("copy");
    let ecs: Vec<&PathBuf> = digests
        .iter()
        .filter(|p| p.to_string_lossy().contains("/Digest/ECS/"))
        .collect();
    let vpc: Vec<&PathBuf> = digests
        .iter()
        .filter(|p| p.to_string_lossy().contains("/Digest/VPC/"))
        .collect();
    let altered = ecs[ecs.len() / 2];
    let json = gunzip(&std::fs::read(altered).expect("read"));
    let changed = String::from_utf8(json).expect("UTF-8").replacen(
        "\"digest_end\":false",
        "\"digest_end\":false ",
        1,
    );
    std::fs::write(altered, gzip(changed.as_bytes())).expect("write");
    let removed = vpc[vpc.len() / 2];
    let removed_digest =
        cts_core::integrity::Digest::decode(&std::fs::read(removed).expect("read"))
            .expect("a digest");
    std::fs::remove_file(removed).expect("remove");
    let removed_successor = vpc[vpc.len() / 2 + 1];

    let bad = cts(
        &["verify", &b, "--public-key", &key, "--format", "csv"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(3), "{bad:?}");
    let rows: Vec<(String, String, String)> = csv_rows(&text(&bad.stdout))
        .into_iter()
        .map(|r| (r[0].clone(), r[5].clone(), r[6].clone()))
        .collect();
    let named = |finding: &str| -> Vec<String> {
        rows.iter()
            .filter(|(f, _, _)| f == finding)
            .map(|(_, o, _)| o.clone())
            .collect()
    };
    assert_eq!(named("modified"), vec![key_of(&bucket, modified)]);
    assert_eq!(named("deleted"), vec![key_of(&bucket, deleted)]);
    // The altered digest, and the files it lists: their bytes match it, but it is not
    // trustworthy, so they are not verified (the one modified file stays `modified`).
    let altered_digest =
        cts_core::integrity::Digest::decode(&std::fs::read(altered).expect("read"))
            .expect("still a digest");
    let mut expected_altered: Vec<String> = altered_digest
        .log_files
        .iter()
        .map(|f| f.object.clone())
        .filter(|o| *o != key_of(&bucket, modified) && *o != key_of(&bucket, deleted))
        .chain([key_of(&bucket, altered)])
        .collect();
    expected_altered.sort();
    let mut digest_modified = named("digest modified");
    digest_modified.sort();
    assert_eq!(digest_modified, expected_altered);
    assert!(
        !altered_digest.log_files.is_empty(),
        "the altered digest lists files"
    );
    assert_eq!(named("digest missing"), vec![key_of(&bucket, removed)]);
    let (_, _, why) = rows
        .iter()
        .find(|(f, _, _)| f == "digest missing")
        .expect("missing digest row");
    assert_eq!(
        why,
        &format!(
            "named as the previous digest by {}",
            key_of(&bucket, removed_successor)
        )
    );
    // The added file, and the files of the removed digest's hour, are not covered.
    let mut expected: Vec<String> = removed_digest
        .log_files
        .iter()
        .map(|f| f.object.clone())
        .chain([key_of(&bucket, &added)])
        .collect();
    expected.sort();
    let mut not_covered = named("not covered");
    not_covered.sort();
    assert_eq!(not_covered, expected);
    let kinds: std::collections::BTreeSet<&str> = rows.iter().map(|(f, _, _)| f.as_str()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        vec![
            "deleted",
            "digest missing",
            "digest modified",
            "modified",
            "not covered"
        ],
        "nothing else is reported: {rows:?}"
    );

    // A key file that is not a key is named.
    std::fs::write(dir.path().join("junk.pem"), "not a key").expect("write");
    let junk = dir.path().join("junk.pem").to_string_lossy().into_owned();
    let refused = cts(&["verify", &b, "--public-key", &junk], &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains(&format!("public key {junk}: not an RSA public key")),
        "{refused:?}"
    );
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Rows of a CSV without quoted newlines.
fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in csv.lines().skip(1) {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}

#[test]
fn in_a_bucket_signatures_are_object_metadata_and_verify() {
    let s3 = SeaweedFs::start();
    let endpoint = s3.endpoint.clone();
    let envs = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir
        .path()
        .join("sample.pub.pem")
        .to_string_lossy()
        .into_owned();
    let s3_args = ["--endpoint", endpoint.as_str(), "--region", "us-east-1"];
    let made = cts(
        &[
            &s3_args[..],
            &["gen", "s3://cts-signed/", "--public-key-out", &key],
            // Two days: the second day's first digests follow the first day's.
            &[&GEN[..3], &["2"], &GEN[4..]].concat(),
        ]
        .concat(),
        &envs,
    );
    assert!(made.status.success(), "{made:?}");

    // Each digest carries its signature as metadata; no `.meta.json` objects in a bucket.
    let (digests, traces) = block_on(async {
        let bucket =
            cts_core::storage::Location::parse("s3://cts-signed/", &s3.options()).expect("bucket");
        let objects = bucket.list().await.expect("list");
        assert!(
            !objects
                .iter()
                .any(|o| o.location.as_ref().ends_with(".meta.json")),
            "sidecars in a bucket"
        );
        let digests: Vec<_> = objects
            .iter()
            .filter(|o| o.location.as_ref().contains("_CloudTrace-Digest_"))
            .collect();
        let first = digests.first().expect("a digest");
        let (_, metadata) = bucket
            .read_with_metadata(&first.location)
            .await
            .expect("read")
            .expect("exists");
        let names: Vec<&str> = metadata.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.contains(&"signature"), "{metadata:?}");
        assert!(
            metadata.contains(&(
                "signature-algorithm".to_string(),
                "SHA256withRSA".to_string()
            )),
            "{metadata:?}"
        );
        let traces = objects
            .iter()
            .filter(|o| o.location.as_ref().contains("_CloudTrace_"))
            .count();
        (digests.len(), traces)
    });

    let ok = cts(
        &[
            &s3_args[..],
            &["verify", "s3://cts-signed/", "--public-key", &key],
        ]
        .concat(),
        &envs,
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert_eq!(
        text(&ok.stderr).trim(),
        format!("s3://cts-signed/: PASSED: {traces} verified, {digests} digest verified")
    );

    // One day's prefix: its chains are checked back to the first digest outside it, and the
    // files of the day before that its first digests list are neither deleted nor read.
    let day = "s3://cts-signed/CloudTraces/eu-de/2024/06/30/";
    let part = cts(
        &[&s3_args[..], &["verify", day, "--public-key", &key]].concat(),
        &envs,
    );
    assert_eq!(part.status.code(), Some(0), "{part:?}");
    let day_data = dir.path().join("day");
    let part_load = cts_env(
        &day_data,
        &[
            &s3_args[..],
            &["load", day, "--verify", "--public-key", &key, "-q"],
        ]
        .concat(),
        &envs,
    );
    assert_eq!(part_load.status.code(), Some(0), "{part_load:?}");
    assert!(
        !text(&part_load.stdout).contains("deleted"),
        "{part_load:?}"
    );

    // A signed export into a bucket: the manifest's signature is its metadata, and it verifies.
    let data = dir.path().join("data");
    let loaded = cts_env(
        &data,
        &[
            &s3_args[..],
            &[
                "load",
                "s3://cts-signed/",
                "--verify",
                "--public-key",
                &key,
                "-q",
            ],
        ]
        .concat(),
        &envs,
    );
    assert_eq!(loaded.status.code(), Some(0), "{loaded:?}");
    let out = cts_env(
        &data,
        &[
            &s3_args[..],
            &["export", "--out", "s3://cts-export/signed", "--sign", "-q"],
        ]
        .concat(),
        &envs,
    );
    assert!(out.status.success(), "{out:?}");
    let (files, metadata) = block_on(async {
        let export = cts_core::storage::Location::parse("s3://cts-export/signed", &s3.options())
            .expect("bucket");
        let objects = export.list().await.expect("list");
        let (_, metadata) = export
            .read_with_metadata(&export.path("_cts-export-manifest.json"))
            .await
            .expect("read")
            .expect("a manifest");
        (objects.len(), metadata)
    });
    assert!(
        metadata
            .iter()
            .any(|(k, v)| k == "signature" && v.len() == 512),
        "{metadata:?}"
    );
    let verified = cts_env(
        &data,
        &[&s3_args[..], &["verify", "s3://cts-export/signed"]].concat(),
        &envs,
    );
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
    assert_eq!(
        text(&verified.stderr).trim(),
        format!(
            "s3://cts-export/signed: PASSED: {} verified, 1 manifest verified",
            files - 1
        )
    );
}

#[test]
fn signatures_check_with_an_independent_implementation() {
    let python = std::env::var("CTS_CLIENTS_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CTS_CLIENTS_PYTHON is not set: run the tests with scripts/test.sh, which installs \
             pyca/cryptography (tests/clients/requirements.txt) into a venv"
        )
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = dir.path().join("ours");
    let made = cts(&["keygen", &prefix.to_string_lossy()], &[]);
    assert!(made.status.success(), "{made:?}");
    let private = std::fs::read_to_string(dir.path().join("ours.pem")).expect("private key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ours.pem"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = cts_core::integrity::SigningKey::parse(&private).expect("our key");
    let end = chrono::DateTime::from_timestamp(1_719_705_600, 0).expect("time");
    let sealed = cts_core::integrity::Digest::new(
        "p",
        "b",
        "CloudTraces/eu-de/2024/06/30/system/Digest/ECS/x_CloudTrace-Digest_eu-de_2024-06-30T00-00-00Z.json.gz",
        end - chrono::Duration::hours(1),
        end,
        vec![],
    )
    .seal(None, &key)
    .expect("seal");
    let message = cts_core::integrity::digest::signing_string(
        "2024-06-30T00-00-00Z",
        "CloudTraces/eu-de/2024/06/30/system/Digest/ECS/x_CloudTrace-Digest_eu-de_2024-06-30T00-00-00Z.json.gz",
        &sealed.link.hash,
        "",
    );
    let script = r#"
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
message, signature = sys.argv[2].encode(), bytes.fromhex(sys.argv[3])
for m in (message, message + b"x"):
    try:
        key.verify(signature, m, padding.PKCS1v15(), hashes.SHA256())
        print("valid")
    except Exception:
        print("invalid")
"#;
    let out = Command::new(python)
        .args([
            "-c",
            script,
            &dir.path().join("ours.pub.pem").to_string_lossy(),
            &message,
            &sealed.signature,
        ])
        .output()
        .expect("run python");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "valid\ninvalid\n");
}

fn cts_in(data: &Path, args: &[&str]) -> Output {
    cts_env(data, args, &[])
}

fn cts_env(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cts"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run cts")
}

/// `cts sql` in `data`, as CSV rows.
fn sql(data: &Path, query: &str) -> Vec<Vec<String>> {
    let out = cts_in(data, &["sql", "--format", "csv", query]);
    assert!(out.status.success(), "{query}: {out:?}");
    csv_rows(&text(&out.stdout))
}

/// A copy of the trace file `from` with traces of the IDs `ids` added (each a copy of its first
/// trace), gzipped, at `to`.
fn with_new_traces(from: &Path, to: &Path, ids: &[&str]) {
    let mut traces: Vec<serde_json::Value> =
        serde_json::from_slice(&gunzip(&std::fs::read(from).expect("read"))).expect("JSON");
    let first = traces[0].clone();
    for id in ids {
        let mut t = first.clone();
        t["trace_id"] = serde_json::Value::from(*id);
        traces.push(t);
    }
    let json = serde_json::to_vec(&traces).expect("JSON");
    std::fs::write(to, gzip(&json)).expect("write");
}

#[test]
fn load_verify_records_each_files_integrity_and_strict_loads_only_verified_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (bucket, b, key) = signed_sample(dir.path(), "1");
    let traces = files(&bucket, "_CloudTrace_");
    let digests = files(&bucket, "_CloudTrace-Digest_")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".meta.json"))
        .count();

    // One file altered (a trace added to it), one deleted, one added that no digest lists.
    let modified = &traces[10];
    with_new_traces(modified, modified, &["integrity-test-1"]);
    let deleted = &traces[20];
    std::fs::remove_file(deleted).expect("delete");
    let added = traces[30]
        .with_file_name("cts_CloudTrace_eu-de_2024-06-30T05-00-00Z_00000000000000aa.json.gz");
    with_new_traces(
        &traces[30],
        &added,
        &["integrity-test-2", "integrity-test-3"],
    );
    let url = |p: &Path| format!("file://{}", p.to_string_lossy());

    // --verify: everything loads; each file's finding is in trace_files; exit status 3.
    let data = dir.path().join("data");
    let out = cts_in(&data, &["load", &b, "--verify", "--public-key", &key, "-q"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stdout = text(&out.stdout);
    let verified = traces.len() - 2;
    assert!(
        stdout.contains(&format!(
            "  integrity: {verified} verified, 1 modified, 1 deleted, 1 not covered\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "    {}: deleted: listed in its hour's digest, not in the source\n",
            url(deleted)
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "skipped: 0 unchanged files, {digests} digest files"
        )),
        "{stdout}"
    );
    let by_finding =
        "SELECT integrity, outcome, count(*) FROM trace_files GROUP BY 1, 2 ORDER BY 1";
    assert_eq!(
        sql(&data, by_finding),
        vec![
            vec!["deleted".to_string(), "failed".into(), "1".into()],
            vec!["modified".to_string(), "loaded".into(), "1".into()],
            vec!["not covered".to_string(), "loaded".into(), "1".into()],
            vec![
                "verified".to_string(),
                "loaded".into(),
                verified.to_string()
            ],
        ]
    );
    let problems = sql(
        &data,
        "SELECT source, integrity, integrity_detail FROM trace_files \
         WHERE integrity <> 'verified' ORDER BY integrity",
    );
    assert_eq!(problems[0][0], url(deleted));
    assert_eq!(problems[1][0], url(modified));
    assert!(
        problems[1][2].starts_with("its MD5 is "),
        "{:?}",
        problems[1]
    );
    assert_eq!(problems[2][0], url(&added));
    assert_eq!(problems[2][2], "no digest lists it");
    let new_ids = "SELECT count(*) FROM traces WHERE trace_id LIKE 'integrity-test-%'";
    assert_eq!(sql(&data, new_ids), vec![vec!["3".to_string()]]);

    // The report pack's section, from the manifest.
    let report = cts_in(
        &data,
        &[
            "report",
            "run",
            "trace_file_integrity",
            "--param",
            "from=2024-06-01",
            "--format",
            "csv",
        ],
    );
    assert!(report.status.success(), "{report:?}");
    let rows = csv_rows(&text(&report.stdout));
    let problem_rows: Vec<(String, String)> = rows
        .iter()
        .filter(|r| !r[4].is_empty())
        .map(|r| (r[1].clone(), r[4].clone()))
        .collect();
    let mut expected = vec![
        ("deleted".to_string(), url(deleted)),
        ("modified".to_string(), url(modified)),
        ("not covered".to_string(), url(&added)),
    ];
    let mut got = problem_rows.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let files: usize = rows
        .iter()
        .map(|r| r[2].parse::<usize>().expect("files"))
        .sum();
    assert_eq!(files, traces.len() + 1, "{rows:?}");

    // A second load with --verify reads nothing new and reports the deleted file again.
    let again = cts_in(&data, &["load", &b, "--verify", "--public-key", &key, "-q"]);
    assert_eq!(again.status.code(), Some(3), "{again:?}");
    assert!(
        text(&again.stdout).contains(&format!("skipped: {} unchanged files", traces.len())),
        "{again:?}"
    );

    // A file loaded, then deleted from the source: still loaded, with its traces, and now
    // recorded as deleted.
    let gone = &traces[40];
    std::fs::remove_file(gone).expect("delete");
    let third = cts_in(&data, &["load", &b, "--verify", "--public-key", &key, "-q"]);
    assert_eq!(third.status.code(), Some(3), "{third:?}");
    let row = sql(
        &data,
        &format!(
            "SELECT outcome, integrity, traces > 0 FROM trace_files WHERE source = '{}'",
            url(gone)
        ),
    );
    assert_eq!(
        row,
        vec![vec![
            "loaded".to_string(),
            "deleted".to_string(),
            "true".to_string()
        ]]
    );

    // --verify=strict: the altered and the uncovered file are refused, named, and recorded as
    // failed; their traces are not loaded.
    let strict = dir.path().join("strict");
    let out = cts_in(
        &strict,
        &["load", &b, "--verify=strict", "--public-key", &key, "-q"],
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("  failed: 2 files\n"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "    {}: refused (--verify=strict): modified: its MD5 is ",
            url(modified)
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "    {}: refused (--verify=strict): not covered: no digest lists it\n",
            url(&added)
        )),
        "{stdout}"
    );
    assert_eq!(sql(&strict, new_ids), vec![vec!["0".to_string()]]);
    assert_eq!(
        sql(&strict, by_finding),
        vec![
            vec!["deleted".to_string(), "failed".into(), "2".into()],
            vec!["modified".to_string(), "failed".into(), "1".into()],
            vec!["not covered".to_string(), "failed".into(), "1".into()],
            vec![
                "verified".to_string(),
                "loaded".into(),
                (verified - 1).to_string()
            ],
        ]
    );

    // With the wrong key (CTS's own), no file is verified: each names its digest's finding.
    let wrong = dir.path().join("wrong");
    let out = cts_in(&wrong, &["load", &b, "--verify", "-q"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let unverified = sql(
        &wrong,
        "SELECT count(*) FROM trace_files WHERE integrity = 'verified'",
    );
    assert_eq!(unverified, vec![vec!["0".to_string()]]);
}

#[test]
fn a_signed_export_verifies_and_each_change_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, b, _) = signed_sample(dir.path(), "3");
    let data = dir.path().join("data");
    let loaded = cts_in(&data, &["load", &b, "-q"]);
    assert!(loaded.status.success(), "{loaded:?}");

    let export = dir.path().join("export");
    let e = export.to_string_lossy().into_owned();
    let out = cts_in(&data, &["export", "--out", &e, "--sign", "-q"]);
    assert!(out.status.success(), "{out:?}");
    let manifest = export.join("_cts-export-manifest.json");
    assert!(
        text(&out.stdout).contains(&format!(
            "signed manifest: file://{} (cts verify {e})",
            manifest.to_string_lossy()
        )),
        "{out:?}"
    );
    assert!(
        text(&out.stderr).contains("its public half, for cts verify --public-key, is "),
        "{out:?}"
    );
    let public = data.join("signing-key.pub.pem");
    assert!(public.exists());
    let parts = files(&export, "part-0.parquet");
    assert!(parts.len() >= 3, "one file per day: {parts:?}");
    let listed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).expect("manifest")).expect("JSON");
    let rows: u64 = listed["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["rows"].as_u64().expect("rows"))
        .sum();
    assert_eq!(rows, 1500);
    assert_eq!(listed["rows"], 1500);

    // The data directory's own key is found; with --public-key, any holder of the key checks.
    let ok = cts_in(&data, &["verify", &e]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert_eq!(
        text(&ok.stderr).trim(),
        format!("{e}: PASSED: {} verified, 1 manifest verified", parts.len())
    );
    let elsewhere = cts(
        &["verify", &e, "--public-key", &public.to_string_lossy()],
        &[],
    );
    assert_eq!(elsewhere.status.code(), Some(0), "{elsewhere:?}");
    // Without a key: named, not passed.
    let keyless = cts(&["verify", &e, "--format", "csv"], &[]);
    assert_eq!(keyless.status.code(), Some(3), "{keyless:?}");
    let rows = csv_rows(&text(&keyless.stdout));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], "signature invalid");
    assert!(
        rows[0][6].starts_with("no key to check it with"),
        "{rows:?}"
    );

    // One file changed, one deleted, one added: each named.
    let mut bytes = std::fs::read(&parts[0]).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&parts[0], bytes).expect("write");
    std::fs::remove_file(&parts[1]).expect("delete");
    std::fs::write(export.join("extra.parquet"), b"PAR1").expect("write");
    let bad = cts_in(&data, &["verify", &e, "--format", "csv"]);
    assert_eq!(bad.status.code(), Some(3), "{bad:?}");
    let found: Vec<(String, String)> = csv_rows(&text(&bad.stdout))
        .into_iter()
        .map(|r| (r[0].clone(), r[5].clone()))
        .collect();
    let rel = |p: &Path| key_of(&export, p);
    assert_eq!(
        found,
        vec![
            ("modified".to_string(), rel(&parts[0])),
            ("deleted".to_string(), rel(&parts[1])),
            (
                "not covered".to_string(),
                rel(&export.join("extra.parquet"))
            ),
        ]
    );

    // The manifest altered: its signature no longer holds.
    let text_of = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(&manifest, text_of.replacen("1500", "1499", 1)).expect("write");
    let forged = cts_in(&data, &["verify", &e]);
    assert_eq!(forged.status.code(), Some(3), "{forged:?}");
    assert!(
        text(&forged.stderr).contains("1 signature invalid"),
        "{forged:?}"
    );

    // The manifest removed: nothing vouches for the files, and that does not pass.
    std::fs::remove_file(&manifest).expect("remove");
    std::fs::remove_file(export.join("_cts-export-manifest.json.meta.json")).expect("remove");
    let bare = cts_in(&data, &["verify", &e]);
    assert_eq!(bare.status.code(), Some(3), "{bare:?}");
    assert_eq!(
        text(&bare.stderr).trim(),
        format!("{e}: FAILED: nothing to verify (no digest, no trace file, no export manifest)")
    );
    // An export without --sign removes an earlier export's manifest too.
    let signed = cts_in(&data, &["export", "--out", &e, "--sign", "-q"]);
    assert!(signed.status.success(), "{signed:?}");
    assert!(manifest.exists());
    let unsigned = cts_in(&data, &["export", "--out", &e, "-q"]);
    assert!(unsigned.status.success(), "{unsigned:?}");
    assert!(
        !manifest.exists(),
        "a stale manifest would vouch for replaced files"
    );
}

#[test]
fn files_loaded_without_verify_are_checked_later_without_loading_them_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (bucket, b, key) = signed_sample(dir.path(), "1");
    let traces = files(&bucket, "_CloudTrace_").len();
    let data = dir.path().join("data");
    let plain = cts_in(&data, &["load", &b, "-q"]);
    assert_eq!(plain.status.code(), Some(0), "{plain:?}");
    let unchecked = "SELECT count(*) FROM trace_files WHERE integrity IS NULL";
    assert_eq!(sql(&data, unchecked), vec![vec![traces.to_string()]]);

    let later = cts_in(&data, &["load", &b, "--verify", "--public-key", &key, "-q"]);
    assert_eq!(later.status.code(), Some(0), "{later:?}");
    let stdout = text(&later.stdout);
    assert!(
        stdout.starts_with("loaded 0 traces from 0 files"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  checked again: {traces} unchanged files loaded before without a final finding\n  integrity: {traces} verified\n"
        )),
        "{stdout}"
    );
    let verified = "SELECT count(*), sum(traces) FROM trace_files WHERE integrity = 'verified'";
    let rows = sql(&data, verified);
    assert_eq!(rows[0][0], traces.to_string());
    assert_eq!(
        rows[0][1],
        sql(&data, "SELECT count(*) FROM traces")[0][0],
        "each file keeps its count of traces"
    );
    // A third run has nothing left to check.
    let third = cts_in(&data, &["load", &b, "--verify", "--public-key", &key, "-q"]);
    assert!(!text(&third.stdout).contains("checked again"), "{third:?}");
}

#[test]
fn a_local_folder_inside_a_bucket_is_read_with_the_buckets_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (bucket, _, key) = signed_sample(dir.path(), "2");
    let day = bucket.join("CloudTraces/eu-de/2024/06/30");
    let d = day.to_string_lossy().into_owned();
    let checked = cts(&["verify", &d, "--public-key", &key], &[]);
    assert_eq!(checked.status.code(), Some(0), "{checked:?}");
    let data = dir.path().join("data");
    let loaded = cts_in(&data, &["load", &d, "--verify", "--public-key", &key, "-q"]);
    assert_eq!(loaded.status.code(), Some(0), "{loaded:?}");
    let in_day = files(&day, "_CloudTrace_").len();
    assert!(
        text(&loaded.stdout).contains(&format!("from {in_day} files")),
        "{loaded:?}"
    );
    // Keys as the bucket has them: the region is read from them.
    let rows = sql(
        &data,
        "SELECT count(*) FROM traces WHERE region = 'eu-de' \
         AND source_file LIKE 'CloudTraces/eu-de/2024/06/30/%'",
    );
    assert_eq!(rows, sql(&data, "SELECT count(*) FROM traces"));
    assert_ne!(rows[0][0], "0");
}
