//! `cts serve` with the clients CTS users already have, installed from PyPI by the tests' set-up
//! (`scripts/test.sh`; `CTS_CLIENTS_PYTHON` is their Python): the seed examples of
//! otcextensions' legacy `conn.cts` verbatim, its `conn.ctsv3`, and Huawei's `huaweicloudsdkcts`
//! signing with AK/SK. Each signs in the way it does on a real cloud: a `clouds.yaml` whose
//! `auth_url` is cts serve's own identity endpoint, or an access key and secret key.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::cli::cts;
use crate::serve::{PROJECT_A, Serve, batch};

const AK: &str = "AKTESTCTS0000001";
const SK: &str = "sk-of-team-a-7f3c9d";
pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const DOMAIN: &str = "team-a";
const TOPIC: &str = "urn:smn:eu-de:0a1b2c3d4e5f60718293a4b5c6d7e8f9:security";

/// The Python the client libraries are installed in.
fn python() -> String {
    std::env::var("CTS_CLIENTS_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CTS_CLIENTS_PYTHON is not set: run the tests with scripts/test.sh, which installs \
             otcextensions and huaweicloudsdkcts (tests/clients/requirements.txt) into a venv"
        )
    })
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Run a client script; its standard output. It must succeed.
fn run(script: &str, envs: &[(&str, String)]) -> String {
    let out = Command::new(python())
        .arg(clients_dir().join(script))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{script} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The JSON lines a script printed, by call name.
pub(crate) fn calls(stdout: &str) -> Vec<(String, Value)> {
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            (v["call"].as_str().expect("call").to_string(), v)
        })
        .collect()
}

fn call<'a>(calls: &'a [(String, Value)], name: &str) -> &'a Value {
    &calls
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no call {name} in {calls:?}"))
        .1
}

/// `cts hash-password` of `password`.
pub(crate) fn hash_password(data: &Path, password: &str) -> String {
    use std::io::Write;
    let mut child = cts(data)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("hash-password");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("hash-password");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A `cts serve` whose project A takes the token of the other tests, the access key [`AK`] and
/// the user [`USER`], with local buckets for the trackers.
pub(crate) fn serve_with_users(root: &Path) -> Serve {
    let data = root.join("data");
    for bucket in ["cloudtraceservice", "cts-v3-bucket", "cts-sdk-bucket"] {
        std::fs::create_dir_all(data.join("buckets").join(bucket)).expect("bucket");
    }
    let config = root.join("serve.json");
    let hash = hash_password(&data, PASSWORD);
    std::fs::write(
        &config,
        json!({
            "credentials": {AK: {"secret": SK, "project_id": PROJECT_A}},
            // A receiver nobody listens at: the notifications of these tests fire on no trace.
            "topics": {TOPIC: {"url": "http://127.0.0.1:9/unused", "secret": "topic-secret"}},
            "users": [{"name": USER, "password": hash, "domain": DOMAIN, "project_id": PROJECT_A}],
        })
        .to_string(),
    )
    .expect("config");
    Serve::start(
        &data,
        &[
            "--config",
            &config.to_string_lossy(),
            "--transfer-interval",
            "1h",
        ],
        &[],
    )
}

/// A `clouds.yaml` with the cloud `otc` signing in at `serve`'s identity endpoint.
fn clouds_yaml(dir: &Path, serve: &Serve) -> PathBuf {
    let path = dir.join("clouds.yaml");
    std::fs::write(
        &path,
        format!(
            "clouds:\n  otc:\n    auth_type: v3password\n    auth:\n      auth_url: {}/identity/v3\n      \
             username: {USER}\n      password: {PASSWORD}\n      user_domain_name: {DOMAIN}\n      \
             project_id: {PROJECT_A}\n    region_name: eu-de\n    vendor_hook: otcextensions.sdk:load\n",
            serve.url
        ),
    )
    .expect("clouds.yaml");
    path
}

fn trackers(serve: &Serve) -> Vec<Value> {
    let (status, body) = serve.a("GET", "/trackers", None);
    assert_eq!(status, 200, "{body}");
    body["trackers"].as_array().expect("trackers").clone()
}

fn trace_ids(traces: &Value) -> Vec<&str> {
    traces
        .as_array()
        .expect("traces")
        .iter()
        .map(|t| {
            t["trace_id"]
                .as_str()
                .or(t["id"].as_str())
                .expect("trace_id")
        })
        .collect()
}

/// Record `n` traces (the batch `t-0000`... back from now) through a management tracker made for
/// the purpose, then delete the tracker; the traces stay listed.
pub(crate) fn record_and_forget_tracker(serve: &Serve, n: usize) {
    let system = json!({"tracker_type": "system", "tracker_name": "system"});
    assert_eq!(serve.a("POST", "/tracker", Some(system)).0, 201);
    let now = chrono::Utc::now().timestamp_millis();
    let (status, body) = serve.a("POST", "/traces", Some(json!(batch("t", 0..n, now - 1000))));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recorded"], n);
    let (status, _) = serve.a("DELETE", "/trackers?tracker_name=system", None);
    assert_eq!(status, 204);
}

#[test]
fn the_seed_examples_otcextensions_and_the_huawei_sdk_against_cts_serve() {
    let dir = tempfile::tempdir().expect("temp dir");
    let serve = serve_with_users(dir.path());
    // 24 traces of the last 4 minutes, recorded by a management tracker that is then deleted
    // (its traces stay): warnings at 2, 6, 10, 14, 18, 22, of VPC at 10 and 22.
    record_and_forget_tracker(&serve, 24);
    let now = chrono::Utc::now().timestamp_millis();
    let clouds = clouds_yaml(dir.path(), &serve);
    let os_env = [(
        "OS_CLIENT_CONFIG_FILE",
        clouds.to_string_lossy().into_owned(),
    )];

    // The five seed examples, verbatim.
    run("seeds/create_tracker.py", &os_env);
    let t = trackers(&serve);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(
        (
            &t[0]["tracker_name"],
            &t[0]["tracker_type"],
            &t[0]["status"],
            &t[0]["obs_info"]["bucket_name"],
            &t[0]["obs_info"]["file_prefix_name"],
        ),
        (
            &json!("system"),
            &json!("system"),
            &json!("enabled"),
            &json!("cloudtraceservice"),
            &json!("file-")
        )
    );
    let shown = run("seeds/get_tracker.py", &os_env);
    for part in [
        "name=system",
        "bucket_name=cloudtraceservice",
        "file_prefix_name=file-",
        "status=enabled",
        &format!("id={}", t[0]["id"].as_str().expect("id")),
    ] {
        assert!(shown.contains(part), "{part} not in {shown}");
    }
    run("seeds/update_tracker.py", &os_env);
    let t = trackers(&serve);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0]["obs_info"]["file_prefix_name"], "newPrefix-");
    assert_eq!(t[0]["obs_info"]["bucket_name"], "cloudtraceservice");
    let listed = run("seeds/list_traces.py", &os_env);
    let printed: Vec<&str> = listed.lines().collect();
    assert_eq!(printed.len(), 6, "{listed}");
    for (line, id) in printed
        .iter()
        .zip(["t-0002", "t-0006", "t-0010", "t-0014", "t-0018", "t-0022"])
    {
        assert!(
            line.contains(&format!("trace_id={id},")),
            "{id} not in {line}"
        );
        assert!(line.contains("trace_rating=warning,"), "{line}");
    }
    run("seeds/delete_tracker.py", &os_env);
    assert_eq!(trackers(&serve), Vec::<Value>::new());

    // otcextensions' conn.ctsv3.
    let filter = json!({"limit": 5, "service_type": "VPC", "trace_rating": "warning",
                        "from": now - 600_000, "to": now + 1000});
    let mut env = os_env.to_vec();
    env.push(("CTS_FILTER_JSON", filter.to_string()));
    env.push(("CTS_TOPIC", TOPIC.to_string()));
    let out = run("ctsv3.py", &env);
    let v3 = calls(&out);
    assert_eq!(
        call(&v3, "create_data_tracker"),
        &json!({"call": "create_data_tracker", "status": 400, "error_code": "CTS.0210",
                "error_msg": "data_bucket.data_bucket_name: the tracked OBS bucket cannot be empty"})
    );
    let created = &call(&v3, "create_tracker")["result"];
    assert_eq!(created["tracker_name"], "system");
    assert_eq!(created["obs_info"]["bucket_name"], "cts-v3-bucket");
    assert_eq!(created["status"], "enabled");
    assert_eq!(
        call(&v3, "trackers")["result"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        call(&v3, "trackers_by_name")["result"][0]["id"],
        created["id"]
    );
    assert_eq!(
        trace_ids(&call(&v3, "traces")["result"]),
        ["t-0010", "t-0022"]
    );
    let quotas = &call(&v3, "quotas")["result"];
    assert!(
        quotas
            .as_array()
            .expect("quotas")
            .iter()
            .any(|q| q["type"] == "system_tracker" && q["used"] == 1 && q["quota"] == 1),
        "{quotas}"
    );
    assert_eq!(call(&v3, "trackers_after_delete")["result"], json!([]));
    let event = &call(&v3, "create_key_event")["result"];
    assert_eq!(
        (
            &event["notification_name"],
            &event["operation_type"],
            &event["status"],
            &event["topic_id"]
        ),
        (
            &json!("deleted_users"),
            &json!("customized"),
            &json!("enabled"),
            &json!(TOPIC)
        )
    );
    assert_eq!(
        event["operations"][0]["trace_names"],
        json!(["deleteUser", "deleteGroup"])
    );
    assert_eq!(event["filter"]["rule"], json!(["trace_rating = warning"]));
    let listed = &call(&v3, "key_events")["result"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["notification_id"], event["notification_id"]);
    let updated = &call(&v3, "key_events_after_update")["result"][0];
    assert_eq!(
        (&updated["status"], &updated["operation_type"]),
        (&json!("disabled"), &json!("complete"))
    );
    assert_eq!(call(&v3, "key_events_after_delete")["result"], json!([]));

    // huaweicloudsdkcts, signing with AK/SK only.
    let sdk_env = [
        ("CTS_URL", serve.url.clone()),
        ("CTS_PROJECT", PROJECT_A.to_string()),
        ("CTS_AK", AK.to_string()),
        ("CTS_SK", SK.to_string()),
        ("CTS_FILTER_JSON", filter.to_string()),
        ("CTS_TOPIC", TOPIC.to_string()),
    ];
    let out = run("sdk.py", &sdk_env);
    let sdk = calls(&out);
    let traces = &call(&sdk, "list_traces")["result"];
    assert_eq!(trace_ids(&traces["traces"]), ["t-0010", "t-0022"]);
    assert_eq!(traces["meta_data"]["count"], 2);
    assert_eq!(traces["traces"][0]["user"]["name"], "alice");
    assert_eq!(traces["traces"][0]["service_type"], "VPC");
    let created = &call(&sdk, "create_tracker")["result"];
    assert_eq!(
        (
            &created["tracker_name"],
            &created["tracker_type"],
            &created["obs_info"]["bucket_name"],
            &created["data_bucket"]["data_bucket_name"],
            &created["data_bucket"]["data_event"],
        ),
        (
            &json!("sdk-data"),
            &json!("data"),
            &json!("cts-sdk-bucket"),
            &json!("sdk-tracked"),
            &json!(["WRITE"])
        )
    );
    let listed = &call(&sdk, "list_trackers")["result"]["trackers"];
    assert_eq!(listed[0]["id"], created["id"]);
    assert_eq!(listed[0]["obs_info"]["file_prefix_name"], "sdk");
    let updated = &call(&sdk, "list_trackers_after_update")["result"]["trackers"];
    assert_eq!(updated[0]["status"], "disabled");
    assert_eq!(updated[0]["obs_info"]["file_prefix_name"], "sdk2");
    let quotas = &call(&sdk, "list_quotas")["result"]["resources"];
    assert!(
        quotas
            .as_array()
            .expect("resources")
            .iter()
            .any(|q| q["type"] == "data_tracker" && q["used"] == 1),
        "{quotas}"
    );
    assert_eq!(trackers(&serve), Vec::<Value>::new(), "deleted by the SDK");
    let created = &call(&sdk, "create_notification")["result"];
    assert_eq!(
        (
            &created["notification_name"],
            &created["notification_type"],
            &created["status"]
        ),
        (&json!("sdk_incidents"), &json!("smn"), &json!("enabled"))
    );
    assert_eq!(
        created["filter"]["rule"],
        json!(["trace_rating = incident", "code != 200"])
    );
    let listed = &call(&sdk, "list_notifications")["result"]["notifications"];
    assert_eq!(listed[0]["notification_id"], created["notification_id"]);
    let updated = &call(&sdk, "list_notifications_after_update")["result"]["notifications"][0];
    assert_eq!(updated["operation_type"], "customized");
    assert_eq!(
        updated["operations"][0]["trace_names"],
        json!(["deleteServer"])
    );
    assert_eq!(
        call(&sdk, "list_notifications_after_delete")["result"]["notifications"],
        json!([])
    );

    // Refused: a wrong secret, a stale date, a tampered body, another project's path.
    let refused = |name: &str| {
        let c = call(&sdk, name);
        (
            c["status"].as_i64(),
            c["error_code"].as_str().map(str::to_string),
        )
    };
    let unauthorized = (Some(401), Some("APIGW.0301".to_string()));
    assert_eq!(refused("wrong_secret"), unauthorized);
    assert_eq!(refused("old_date"), unauthorized);
    assert!(
        call(&sdk, "old_date")["error_msg"]
            .as_str()
            .is_some_and(|m| m.contains("more than 15 minutes from the server's time")),
        "{}",
        call(&sdk, "old_date")
    );
    assert_eq!(refused("tampered_body"), unauthorized);
    assert_eq!(
        refused("other_project"),
        (Some(403), Some("CTS.0013".to_string()))
    );
    // Nothing the refused requests asked for happened.
    assert_eq!(trackers(&serve), Vec::<Value>::new());
    let log = serve.log_text();
    assert!(!log.contains(SK), "the secret key is in the log");
}
