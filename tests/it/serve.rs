//! `cts serve` end to end over real HTTP: trackers, recording, the trace list with every
//! filter and with paging, transfer into a real S3-compatible server on loopback (and into a
//! local bucket folder), `cts load` of the delivered files, and restarts (kill -9 and SIGTERM)
//! in the middle.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::cli::{cts, sql_csv};
use cts_testkit::{ACCESS_KEY, SECRET_KEY, SeaweedFs, block_on};
use serde_json::{Value, json};

pub(crate) const TOKEN_A: &str = "token-of-team-a";
pub(crate) const TOKEN_B: &str = "token-of-team-b";
pub(crate) const PROJECT_A: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub(crate) const PROJECT_B: &str = "project-b";

/// A `cts serve` process on a free loopback port.
pub(crate) struct Serve {
    child: Option<Child>,
    data: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    pub(crate) url: String,
    log: PathBuf,
}

impl Serve {
    pub(crate) fn start(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut serve = Serve {
            child: None,
            data: data.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            envs: envs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            url: format!("http://127.0.0.1:{port}"),
            log: data.with_extension("serve.log"),
        };
        serve.restart();
        serve
    }

    /// Start (again) on the same data and port, and wait until it answers.
    pub(crate) fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let listen = self.url.trim_start_matches("http://").to_string();
        let child = cts(&self.data)
            .arg("serve")
            .args(["--listen", &listen])
            .args(["--token", &format!("{TOKEN_A}={PROJECT_A}")])
            .args(["--token", &format!("{TOKEN_B}={PROJECT_B}")])
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start cts serve");
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if block_on(async { reqwest::get(format!("{}/health", self.url)).await }).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("cts serve did not answer in 60 s: {}", self.log_text());
    }

    /// kill -9.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and wait for a clean exit.
    fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().to_string();
            let status = Command::new("kill").args(["-TERM", &pid]).status();
            assert!(status.is_ok_and(|s| s.success()));
            let status = child.wait().expect("wait");
            assert!(status.success(), "{status:?}: {}", self.log_text());
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A request; the status and the JSON body (`Null` when empty).
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut headers = Vec::new();
        if let Some(token) = token {
            headers.push(("X-Auth-Token", token));
        }
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let (status, _, value) = self.send(method, path, &headers, body.map(|b| b.to_string()));
        (status, value)
    }

    /// A request with these headers and body: the status, the response headers and the JSON
    /// body (`Null` when empty).
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.try_send(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// [`Serve::send`], or why no answer came.
    pub(crate) fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Value), String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let url = format!("{}{path}", self.url);
        block_on(async {
            let client = reqwest::Client::new();
            let mut request = client.request(method, &url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.map_err(|e| e.to_string())?;
            let value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
            };
            Ok((status, headers, value))
        })
    }

    pub(crate) fn a(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(
            method,
            &format!("/v3/{PROJECT_A}{path}"),
            Some(TOKEN_A),
            body,
        )
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A trace `id` at `time`, of `service`, by `user`, rated `rating`.
pub(crate) fn trace(id: &str, time: i64, service: &str, user: &str, rating: &str) -> Value {
    json!({
        "trace_id": id, "time": time, "service_type": service,
        "resource_type": format!("{}-res", service.to_lowercase()),
        "resource_id": format!("rid-{}", &id[id.len() - 1..]),
        "resource_name": format!("Name-{}", &id[id.len() - 1..]),
        "trace_name": if rating == "normal" { "createThing" } else { "deleteThing" },
        "trace_rating": rating, "trace_type": "ApiCall", "source_ip": "10.0.0.1",
        "code": 200, "request": {"a": 1},
        "user": {"name": user, "id": format!("id-{user}"), "domain": {"name": "dom", "id": "d1"}},
        "vendor_field": "kept"
    })
}

const SERVICES: [&str; 3] = ["ECS", "VPC", "IAM"];

/// `n` traces `{prefix}-0000`... one every 10 s back from `end`: service, user and rating
/// rotate with the index.
pub(crate) fn batch(prefix: &str, range: std::ops::Range<usize>, end: i64) -> Vec<Value> {
    range
        .map(|i| {
            trace(
                &format!("{prefix}-{i:04}"),
                end - i as i64 * 10_000,
                SERVICES[i % 3],
                if i % 2 == 0 { "alice" } else { "bob" },
                ["normal", "normal", "warning", "incident"][i % 4],
            )
        })
        .collect()
}

pub(crate) fn ids(page: &Value) -> Vec<String> {
    page["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .map(|t| t["trace_id"].as_str().expect("trace_id").to_string())
        .collect()
}

/// Every trace of a listing, page by page with `limit`; also checks the order of each page.
/// Bounded: a marker that comes back, or more pages than traces could fill, fails the test
/// rather than hanging it.
pub(crate) fn all_pages(serve: &Serve, query: &str, limit: usize) -> Vec<String> {
    const MAX_PAGES: usize = 10_000;
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    let mut markers = std::collections::HashSet::new();
    for _ in 0..MAX_PAGES {
        let marker = next
            .as_ref()
            .map(|m| format!("&next={m}"))
            .unwrap_or_default();
        let query = if next.is_some() {
            query.split("&next=").next().unwrap_or_default()
        } else {
            query
        };
        let (status, page) = serve.a(
            "GET",
            &format!("/traces?limit={limit}{query}{marker}"),
            None,
        );
        assert_eq!(status, 200, "{page}");
        let got = ids(&page);
        assert_eq!(page["meta_data"]["count"], json!(got.len()));
        let times: Vec<i64> = page["traces"]
            .as_array()
            .expect("traces")
            .iter()
            .map(|t| t["time"].as_i64().expect("time"))
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {times:?}"
        );
        out.extend(got);
        match page["meta_data"]["marker"].as_str() {
            Some(m) => {
                assert!(
                    markers.insert(m.to_string()),
                    "marker {m} came twice: paging loops"
                );
                next = Some(m.to_string());
            }
            None => return out,
        }
    }
    panic!("paging did not end after {MAX_PAGES} pages");
}

fn error(code: &str, message: &str) -> Value {
    json!({"error_code": code, "error_msg": message})
}

#[test]
fn trackers_recording_listing_transfer_to_s3_and_load_end_to_end() {
    let s3 = SeaweedFs::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let envs = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let mut serve = Serve::start(
        &data,
        &[
            "--endpoint",
            &s3.endpoint,
            "--region",
            "us-east-1",
            "--buckets",
            "s3://",
            "--transfer-interval",
            "1h",
        ],
        &envs,
    );

    // The bucket trace files go to (SeaweedFS creates a bucket with its first object).
    block_on(async {
        let bucket =
            cts_core::storage::Location::parse("s3://cts-traces", &s3.options()).expect("bucket");
        bucket
            .write(&bucket.path("README.txt"), "trace files of team A".into())
            .await
            .expect("create the bucket")
    });

    // Auth: no token, an unknown one, another project's path.
    let path = format!("/v3/{PROJECT_A}/trackers");
    assert_eq!(serve.call("GET", &path, None, None).0, 401);
    assert_eq!(serve.call("GET", &path, Some("nope"), None).0, 401);
    let (status, body) = serve.call("GET", &path, Some(TOKEN_B), None);
    assert_eq!(status, 403);
    assert_eq!(body["error_code"], "CTS.0013");

    // Trackers: field validation as CTS.
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "audit"})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0204"))
    );
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system", "obs_info": {"bucket_name": "Bad_Bucket"}})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0231"))
    );
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system", "obs_info": {"bucket_name": "cts-traces", "file_prefix_name": "a/b"}})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0218"))
    );
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system", "obs_info": {"is_sort_by_service": "yes"}})),
    );
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "CTS.0003",
                "invalid message body: obs_info.is_sort_by_service: invalid type: string \"yes\", expected a boolean at line 1 column 39"
            )
        )
    );
    let (status, created) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system",
                    "obs_info": {"bucket_name": "cts-traces", "file_prefix_name": "team-a", "compress_type": "gzip", "is_sort_by_service": true},
                    "is_lts_enabled": true, "is_support_validate": false})),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["tracker_name"], "system");
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["project_id"], PROJECT_A);
    assert_eq!(created["obs_info"]["bucket_name"], "cts-traces");
    assert_eq!(created["lts"]["log_topic_name"], "system-trace");
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system"})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0201"))
    );
    let (_, quotas) = serve.a("GET", "/quotas", None);
    assert_eq!(
        quotas["resources"][0],
        json!({"type": "system_tracker", "used": 1, "quota": 1})
    );

    // Recording: a bad trace is named, and nothing of its batch is kept.
    let now = chrono::Utc::now().timestamp_millis();
    let end = now - 60_000;
    let mut bad = batch("a", 0..3, end);
    bad[2]["trace_rating"] = json!("fatal");
    let (status, body) = serve.a("POST", "/traces", Some(json!({ "traces": bad })));
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "CTS.0003",
                "traces[2].trace_rating: must be one of normal, warning, incident, not \"fatal\""
            )
        )
    );
    let mut future = batch("a", 0..1, now + 10 * 86_400_000);
    future[0]["trace_id"] = json!("far-future");
    let (status, body) = serve.a("POST", "/traces", Some(json!(future)));
    assert_eq!(status, 400);
    assert!(
        body["error_msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("traces[0]: time ") && m.contains("plausible")),
        "{body}"
    );
    // 300 traces over the last 50 minutes, in batches of 100, one batch sent twice.
    for part in 0..3 {
        let (status, body) = serve.a(
            "POST",
            "/traces",
            Some(json!({ "traces": batch("a", part * 100..(part + 1) * 100, end) })),
        );
        assert_eq!((status, &body["recorded"]), (200, &json!(100)), "{body}");
    }
    let (_, body) = serve.a("POST", "/traces", Some(json!(batch("a", 50..150, end))));
    assert_eq!(
        (&body["recorded"], &body["duplicates"]),
        (&json!(0), &json!(100))
    );

    // The list: last hour by default, 10 per page, newest first, trace fields as recorded.
    let (status, page) = serve.a("GET", "/traces", None);
    assert_eq!(status, 200, "{page}");
    let expected: Vec<String> = (0..10).map(|i| format!("a-{i:04}")).collect();
    assert_eq!(ids(&page), expected);
    assert_eq!(page["meta_data"], json!({"count": 10, "marker": "a-0009"}));
    let first = &page["traces"][0];
    assert_eq!(
        first["user"],
        json!({"name": "alice", "id": "id-alice", "domain": {"name": "dom", "id": "d1"}})
    );
    assert_eq!(first["vendor_field"], "kept");
    assert_eq!(first["tracker_name"], "system");
    assert_eq!(first["time"], json!(end));
    assert!(first["record_time"].as_i64().is_some_and(|t| t >= now));

    // Paging by marker: every trace once, none skipped, in order, while new traces arrive.
    let (_, page) = serve.a("GET", "/traces?limit=37", None);
    let mut seen = ids(&page);
    let newer = batch("new", 0..5, now);
    assert_eq!(
        serve.a("POST", "/traces", Some(json!(newer))).1["recorded"],
        json!(5)
    );
    let marker = page["meta_data"]["marker"].as_str().expect("marker");
    seen.extend(all_pages(&serve, &format!("&next={marker}"), 37));
    let old: Vec<String> = (0..300).map(|i| format!("a-{i:04}")).collect();
    assert_eq!(seen, old);
    let everything = all_pages(&serve, "", 200);
    let new: Vec<String> = (0..5).map(|i| format!("new-{i:04}")).collect();
    assert_eq!(everything, [new, old].concat());

    // Each filter: exact counts (of the 300 + 5; `new-` traces rotate the same way).
    let count =
        |query: &str| all_pages(&serve, &format!("&from={}{query}", now - 3_600_000), 200).len();
    assert_eq!(count("&service_type=ECS"), 100 + 2);
    assert_eq!(count("&user=bob"), 150 + 2);
    assert_eq!(count("&trace_rating=warning"), 75 + 1);
    assert_eq!(count("&trace_name=deleteThing"), 150 + 2);
    assert_eq!(count("&resource_type=vpc-res"), 100 + 2);
    assert_eq!(count("&resource_id=rid-7"), 30);
    assert_eq!(count("&resource_name=Name-7&service_type=ECS"), 10);
    assert_eq!(count("&resource_name=name-7"), 0);
    assert_eq!(count(&format!("&to={}", end - 100 * 10_000 + 1)), 200);
    // trace_id overrides every other parameter.
    let (_, page) = serve.a(
        "GET",
        "/traces?trace_id=a-0123&service_type=NOPE&from=1&to=2",
        None,
    );
    assert_eq!(ids(&page), ["a-0123"]);
    assert_eq!(page["meta_data"]["marker"], Value::Null);
    let (status, body) = serve.a("GET", "/traces?limit=201", None);
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "CTS.0003",
                "limit must be a number from 1 to 200, not \"201\""
            )
        )
    );

    // Stop and start: a disabled tracker records nothing new.
    let stop = json!({"tracker_type": "system", "tracker_name": "system", "status": "disabled"});
    assert_eq!(serve.a("PUT", "/tracker", Some(stop)).0, 200);
    let (_, listed) = serve.a("GET", "/trackers?tracker_name=system", None);
    assert_eq!(listed["trackers"][0]["status"], "disabled");
    let (_, body) = serve.a("POST", "/traces", Some(json!(batch("off", 0..4, now))));
    assert_eq!(
        (&body["recorded"], &body["ignored"]),
        (&json!(0), &json!(4))
    );
    let start = json!({"tracker_type": "system", "tracker_name": "system", "status": "enabled"});
    assert_eq!(serve.a("PUT", "/tracker", Some(start)).0, 200);

    // Transfer: one gzip file per service, in the CTS layout, named with the prefix.
    let (status, body) = serve.a("POST", "/transfer", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["transfers"],
        json!([{"tracker": "system", "files": 3, "traces": 305, "error": null}])
    );
    let keys: Vec<String> = bucket_keys(&s3, "cts-traces")
        .into_iter()
        .filter(|k| k != "README.txt")
        .collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let day = chrono::Utc::now().format("%Y/%m/%d").to_string();
    for (key, service) in keys.iter().zip(["ECS", "IAM", "VPC"]) {
        let folder = format!("CloudTraces/eu-de/{day}/system/{service}/team-a_CloudTrace_eu-de_");
        assert!(
            key.starts_with(&folder) && key.ends_with(".json.gz"),
            "{key}"
        );
    }

    // kill -9 with recordings not yet transferred; after the restart they are all there, and
    // transferred once.
    assert_eq!(
        serve
            .a("POST", "/traces", Some(json!(batch("late", 0..20, now))))
            .1["recorded"],
        json!(20)
    );
    serve.kill();
    serve.restart();
    assert_eq!(
        all_pages(&serve, &format!("&from={}", now - 3_600_000), 200).len(),
        325
    );
    let (_, body) = serve.a("POST", "/transfer", None);
    assert_eq!(body["transfers"][0]["traces"], json!(20));

    // The other project sees none of it.
    let (status, page) = serve.call(
        "GET",
        &format!("/v3/{PROJECT_B}/traces"),
        Some(TOKEN_B),
        None,
    );
    assert_eq!(
        (status, page["meta_data"]["count"].as_i64()),
        (200, Some(0))
    );
    let (_, trackers) = serve.call(
        "GET",
        &format!("/v3/{PROJECT_B}/trackers"),
        Some(TOKEN_B),
        None,
    );
    assert_eq!(trackers, json!({"trackers": []}));

    // The delivered files load with the same count.
    let loaded = dir.path().join("loaded");
    let out = cts(&loaded)
        .args(["--endpoint", &s3.endpoint, "--region", "us-east-1"])
        .envs(envs)
        .args(["load", "s3://cts-traces", "--quiet"])
        .output()
        .expect("load");
    assert!(out.status.success(), "{out:?}");
    let csv = sql_csv(
        &loaded,
        r#"SELECT count(*), count(DISTINCT trace_id), count(*) FILTER (WHERE extra = '{"vendor_field":"kept"}') FROM traces"#,
    );
    assert_eq!(csv.lines().nth(1), Some("325,325,325"), "{csv}");
    serve.terminate();
}

pub(crate) fn bucket_keys(s3: &SeaweedFs, bucket: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let location = cts_core::storage::Location::parse(&format!("s3://{bucket}"), &s3.options())
        .expect("bucket");
    let mut keys: Vec<String> = block_on(async {
        location
            .store()
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
    })
    .expect("list");
    keys.sort();
    keys
}

#[test]
fn local_buckets_plain_json_unsorted_missing_bucket_and_graceful_shutdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut serve = Serve::start(&data, &["--transfer-interval", "1h"], &[]);
    let now = chrono::Utc::now().timestamp_millis();

    // A data tracker whose bucket does not exist: status error, detail noBucket.
    let body = json!({"tracker_type": "data", "tracker_name": "objects",
                      "obs_info": {"bucket_name": "archive-b", "compress_type": "json", "is_sort_by_service": false},
                      "data_bucket": {"data_bucket_name": "watched", "data_event": ["WRITE"]}});
    let (status, created) = serve.a("POST", "/tracker", Some(body));
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (&created["status"], &created["detail"]),
        (&json!("error"), &json!("noBucket"))
    );
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "data", "tracker_name": "other", "data_bucket": {"data_bucket_name": "watched"}})),
    );
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("CTS.0209"))
    );
    let (status, body) = serve.a(
        "POST",
        "/traces?tracker_name=nobody",
        Some(json!(batch("x", 0..1, now))),
    );
    assert_eq!(
        (status, body),
        (
            404,
            error("CTS.0214", "the tracker \"nobody\" does not exist")
        )
    );
    let (_, body) = serve.a(
        "POST",
        "/traces?tracker_name=objects",
        Some(json!(batch("d", 0..12, now))),
    );
    assert_eq!(body["recorded"], json!(12));
    // The list of a data tracker needs its name, and has only its traces.
    let (status, _) = serve.a("GET", "/traces?trace_type=data", None);
    assert_eq!(status, 400);
    let (_, page) = serve.a(
        "GET",
        "/traces?trace_type=data&tracker_name=objects&limit=200",
        None,
    );
    assert_eq!(page["meta_data"]["count"], json!(12));
    let (_, page) = serve.a("GET", "/traces", None);
    assert_eq!(page["meta_data"]["count"], json!(0));

    // The transfer fails while the bucket is missing, and nothing is lost: once the bucket is
    // there, the next transfer sends every trace.
    let (_, body) = serve.a("POST", "/transfer", None);
    assert_eq!(body["transfers"][0]["files"], json!(0));
    assert!(body["transfers"][0]["error"].is_string(), "{body}");
    let bucket = data.join("buckets").join("archive-b");
    std::fs::create_dir_all(&bucket).expect("bucket");
    let (_, body) = serve.a("POST", "/transfer", None);
    assert_eq!(
        body["transfers"],
        json!([{"tracker": "objects", "files": 1, "traces": 12, "error": null}])
    );
    let (_, listed) = serve.a("GET", "/trackers?tracker_type=data", None);
    assert_eq!(listed["trackers"][0]["status"], "enabled");
    let files = files_under(&bucket);
    assert_eq!(files.len(), 1);
    let day = chrono::Utc::now().format("%Y/%m/%d").to_string();
    let prefix = format!("CloudTraces/eu-de/{day}/objects/_CloudTrace_eu-de_");
    assert!(
        files[0].starts_with(&prefix) && files[0].ends_with(".json"),
        "{files:?}"
    );
    let text = std::fs::read_to_string(bucket.join(&files[0])).expect("file");
    let traces: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    assert_eq!(traces.len(), 12);

    // SIGTERM while recordings are under way: each acknowledged one is there after the restart.
    let url = serve.url.clone();
    let first_ack = std::sync::Arc::new(std::sync::Barrier::new(5));
    let senders: Vec<_> = (0..4)
        .map(|k| {
            let url = url.clone();
            let first_ack = first_ack.clone();
            std::thread::spawn(move || {
                let mut acknowledged = 0;
                for b in 0..50 {
                    let traces = batch(&format!("g{k}-{b:02}"), 0..20, now);
                    let sent = block_on(async {
                        reqwest::Client::new()
                            .post(format!("{url}/v3/{PROJECT_A}/traces?tracker_name=objects"))
                            .header("X-Auth-Token", TOKEN_A)
                            .body(json!(traces).to_string())
                            .send()
                            .await
                    });
                    let ok = matches!(sent, Ok(r) if r.status().is_success());
                    if ok {
                        acknowledged += 20;
                    }
                    if b == 0 {
                        // The stop comes once every sender has had an answer.
                        first_ack.wait();
                    }
                    if !ok {
                        break;
                    }
                }
                acknowledged
            })
        })
        .collect();
    first_ack.wait();
    serve.terminate();
    let acknowledged: u64 = senders.into_iter().map(|s| s.join().expect("sender")).sum();
    assert!(serve.log_text().contains("cts serve: stopped"));
    let project = data.join("projects").join(PROJECT_A);
    let csv = sql_csv(
        &project,
        "SELECT count(*), count(DISTINCT trace_id) FROM traces WHERE trace_id LIKE 'g%'",
    );
    let line = csv.lines().nth(1).expect("a row").to_string();
    let (n, distinct) = line.split_once(',').expect("two numbers");
    let (n, distinct): (u64, u64) = (n.parse().expect("n"), distinct.parse().expect("d"));
    assert_eq!(n, distinct);
    assert!(
        acknowledged >= 80 && n >= acknowledged,
        "{n} stored, {acknowledged} acknowledged"
    );
    serve.restart();
    let (_, page) = serve.a(
        "GET",
        "/traces?trace_type=data&tracker_name=objects&limit=1",
        None,
    );
    assert_eq!(page["meta_data"]["count"], json!(1));
    serve.terminate();
}

pub(crate) fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_configuration_file_and_bad_configurations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("serve.json");
    std::fs::write(&config, r#"{"listen": "127.0.0.1:1", "tokenz": {}}"#).expect("config");
    let out = cts(&dir.path().join("data"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error: configuration {}: unknown field `tokenz`",
            config.display()
        )),
        "{err}"
    );
    let out = cts(&dir.path().join("data"))
        .args(["serve", "--token", "t=../etc"])
        .output()
        .expect("serve");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: project ID \"../etc\": use 1-64 letters, digits, '-' or '_'\n"
    );
}
