//! Key-event notifications through `cts serve`: the API with CTS's rules, and delivery to a real
//! HTTP receiver started by the test on 127.0.0.1: signed, only for matching traces, to a
//! receiver that was down when it comes back, after kill -9 between the acknowledgement and the
//! delivery, and at the failpoints (`notify.outbox-written`, `notify.sent`). Then what cts
//! ingest fires, the delivery log as a table, replay over stored traces and a test message.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use cts_core::failpoint as fp;
use serde_json::{Value, json};

use crate::common::cli::{cts, sql_csv};
use crate::serve::{PROJECT_A, Serve};

const SMN_TOPIC: &str = "urn:smn:eu-de:0a1b2c3d4e5f60718293a4b5c6d7e8f9:security";
const FUN_TOPIC: &str = "urn:fss:eu-de:0a1b2c3d4e5f60718293a4b5c6d7e8f9:function:default:alert";
const SMN_SECRET: &str = "secret-of-the-security-topic";
const FUN_SECRET: &str = "secret-of-the-function";

/// What the receiver got: the path, the `X-Cts-Signature` header and the body.
type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A real HTTP receiver on 127.0.0.1 that answers 200 and keeps what it gets.
struct Receiver {
    address: SocketAddr,
    received: Received,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start_at(address: SocketAddr, received: Received) -> Receiver {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel();
        let kept = received.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
                let _ = ready.send(listener.local_addr().expect("address"));
                let app = axum::Router::new().fallback(
                    move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                        let kept = kept.clone();
                        async move {
                            let signature = headers
                                .get("x-cts-signature")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            kept.lock().expect("lock").push((
                                uri.path().to_string(),
                                signature,
                                body.to_vec(),
                            ));
                            "ok"
                        }
                    },
                );
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let address = is_ready
            .recv_timeout(Duration::from_secs(10))
            .expect("receiver up");
        Receiver {
            address,
            received,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn start() -> Receiver {
        Receiver::start_at("127.0.0.1:0".parse().expect("address"), Received::default())
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Up again on the same port, keeping what it got.
    fn restart(&mut self) {
        self.stop();
        *self = Receiver::start_at(self.address, self.received.clone());
    }

    /// The bodies received on `path`, waiting (at most 60 s) until there are `n`.
    fn wait_for(&self, path: &str, n: usize) -> Vec<(String, Vec<u8>)> {
        let started = Instant::now();
        loop {
            let got: Vec<(String, Vec<u8>)> = self
                .received
                .lock()
                .expect("lock")
                .iter()
                .filter(|(p, _, _)| p == path)
                .map(|(_, s, b)| (s.clone(), b.clone()))
                .collect();
            if got.len() >= n || started.elapsed() > Duration::from_secs(60) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`, computed here with ring.
fn signature_of(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The trace IDs of the smn messages, each checked: the header signs the body; `signature`
/// signs the SMN fields.
/// Wait (at most 10 s) until the outbox of `project` is empty: every message delivered and its
/// file removed, so that a process stopped now has nothing left to send again.
fn wait_for_empty_outbox(project: &Path) {
    let started = Instant::now();
    while std::fs::read_dir(project.join("outbox"))
        .map(|d| d.count())
        .unwrap_or(0)
        > 0
        && started.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn smn_traces(messages: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut ids: Vec<String> = messages
        .iter()
        .map(|(signature, body)| {
            assert_eq!(signature, &signature_of(SMN_SECRET, body));
            let v: Value = serde_json::from_slice(body).expect("JSON");
            let field = |k: &str| v[k].as_str().expect(k).to_string();
            let canonical = format!(
                "message\n{}\nmessage_id\n{}\nsubject\n{}\ntimestamp\n{}\ntopic_urn\n{}\ntype\nNotification\n",
                field("message"),
                field("message_id"),
                field("subject"),
                field("timestamp"),
                field("topic_urn")
            );
            let expected = signature_of(SMN_SECRET, canonical.as_bytes());
            assert_eq!(format!("sha256={}", field("signature")), expected);
            assert_eq!(field("topic_urn"), SMN_TOPIC);
            let trace: Value = serde_json::from_str(&field("message")).expect("trace");
            trace["trace_id"].as_str().expect("trace_id").to_string()
        })
        .collect();
    ids.sort();
    ids
}

fn config(dir: &Path, receiver: &Receiver) -> String {
    let path = dir.join("serve.json");
    let url = format!("http://{}", receiver.address);
    std::fs::write(
        &path,
        json!({"topics": {
            SMN_TOPIC: {"url": format!("{url}/smn"), "secret": SMN_SECRET},
            FUN_TOPIC: {"url": format!("{url}/fun"), "secret": FUN_SECRET},
        }})
        .to_string(),
    )
    .expect("config");
    path.to_string_lossy().into_owned()
}

fn trace(id: &str, service: &str, kind: &str, name: &str, rating: &str) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"trace_id": id, "time": now - 1000, "service_type": service, "resource_type": kind,
           "trace_name": name, "trace_rating": rating, "trace_type": "ApiCall",
           "user": {"name": "mallory"}, "code": 200})
}

fn record(serve: &Serve, traces: Value) {
    let (status, body) = serve.a("POST", "/traces", Some(traces));
    assert_eq!(status, 200, "{body}");
}

/// The management tracker, and two notifications: deleted users (smn), incidents (fun).
fn set_up(serve: &Serve) {
    let (status, _) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system"})),
    );
    assert_eq!(status, 201);
    let (status, body) = serve.a(
        "POST",
        "/notifications",
        Some(
            json!({"notification_name": "deleted_users", "operation_type": "customized",
                    "operations": [{"service_type": "IAM", "resource_type": "user",
                                    "trace_names": ["deleteUser"]}],
                    "topic_id": SMN_TOPIC}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = serve.a(
        "POST",
        "/notifications",
        Some(
            json!({"notification_name": "incidents", "operation_type": "complete",
                    "filter": {"condition": "AND", "is_support_filter": true,
                               "rule": ["trace_rating = incident"]},
                    "topic_id": FUN_TOPIC}),
        ),
    );
    assert_eq!(
        (status, &body["notification_type"]),
        (201, &json!("fun")),
        "{body}"
    );
}

#[test]
fn the_notification_api_follows_ctss_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start();
    let serve = Serve::start(
        &dir.path().join("data"),
        &["--config", &config(dir.path(), &receiver)],
        &[],
    );
    let create = |body: Value| serve.a("POST", "/notifications", Some(body));
    let error = |code: &str, message: &str| json!({"error_code": code, "error_msg": message});

    let (status, created) = create(
        json!({"notification_name": "logins", "operation_type": "customized",
        "operations": [{"service_type": "IAM", "resource_type": "user", "trace_names": ["login"]}],
        "notify_user_list": [{"user_group": "admin", "user_list": ["root"]}],
        "filter": {"condition": "OR", "is_support_filter": true, "rule": ["code != 200", "api_version = v3"]},
        "topic_id": SMN_TOPIC}),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["notification_id"].as_str().expect("id").to_string();
    assert_eq!(
        (
            &created["notification_type"],
            &created["status"],
            &created["project_id"]
        ),
        (&json!("smn"), &json!("enabled"), &json!(PROJECT_A))
    );
    for (body, expected) in [
        (
            json!({"notification_name": "logins", "operation_type": "complete"}),
            error(
                "CTS.0400",
                "NotificationV3 name is existed already: \"logins\"",
            ),
        ),
        (
            json!({"notification_name": "bad name!", "operation_type": "complete"}),
            error(
                "CTS.0003",
                "notification_name \"bad name!\": 1-64 letters, digits or '_'",
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "some"}),
            error(
                "CTS.0003",
                "operation_type must be complete or customized, not \"some\"",
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "customized"}),
            error(
                "CTS.0219",
                "operations: a customized notification needs at least one operation",
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete",
                   "topic_id": format!("urn:smn:eu-de:{PROJECT_A}:unknown")}),
            error(
                "CTS.0003",
                &format!(
                    "topic_id \"urn:smn:eu-de:{PROJECT_A}:unknown\" is not configured on this server: add it to \"topics\" in the configuration, with the URL messages go to"
                ),
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete",
                   "topic_id": "urn:smn:eu-de:project-b:alerts"}),
            error(
                "CTS.0003",
                &format!(
                    "topic_id \"urn:smn:eu-de:project-b:alerts\": a topic of another project (its URN names the project, urn:smn:REGION:{PROJECT_A}:NAME)"
                ),
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete", "status": "enabled"}),
            error(
                "CTS.0003",
                "topic_id is needed when the notification is enabled",
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete",
                "filter": {"condition": "AND", "is_support_filter": true, "rule": ["user = root"]}}),
            error(
                "CTS.0003",
                "filter.rule[0]: \"user\" cannot be filtered on: use one of api_version, code, trace_rating, trace_type, resource_id, resource_name",
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete",
                "filter": {"condition": "AND", "is_support_filter": true, "rule": vec!["code = 1"; 7]}}),
            error("CTS.0003", "filter.rule: at most 6 rules, not 7"),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete",
                "filter": {"condition": "AND", "is_support_filter": true, "rules": []}}),
            error(
                "CTS.0003",
                "invalid message body: filter.rules: unknown field `rules`, expected one of `condition`, `is_support_filter`, `rule` at line 1 column 61",
            ),
        ),
        (
            json!({"notification_name": "x", "operation_type": "complete",
                "notify_user_list": [{"user_group": "g", "user_list": vec!["u"; 51]}]}),
            error(
                "CTS.0003",
                "notify_user_list: at most 50 users in 10 groups, not 51 in 1",
            ),
        ),
    ] {
        assert_eq!(create(body.clone()), (400, expected), "{body}");
    }
    // Update by ID; list by type and name; the quota counts them.
    let (status, updated) = serve.a(
        "PUT",
        "/notifications",
        Some(json!({"notification_id": id,
        "notification_name": "logins", "operation_type": "complete", "status": "disabled"})),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (&updated["status"], &updated["operation_type"]),
        (&json!("disabled"), &json!("complete"))
    );
    let (_, fun) = create(
        json!({"notification_name": "to_function", "operation_type": "complete", "topic_id": FUN_TOPIC}),
    );
    let (_, listed) = serve.a("GET", "/notifications/smn?notification_name=logins", None);
    assert_eq!(listed["notifications"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["notifications"][0], updated);
    let (_, listed) = serve.a("GET", "/notifications/fun", None);
    assert_eq!(
        listed["notifications"][0]["notification_name"],
        "to_function"
    );
    let (_, quotas) = serve.a("GET", "/quotas", None);
    assert!(
        quotas["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|q| q == &json!({"type": "smn_notification", "used": 2, "quota": 100})),
        "{quotas}"
    );
    // Batch delete: every ID must exist, or nothing is deleted.
    let fun_id = fun["notification_id"].as_str().expect("id");
    let (status, _) = serve.a(
        "DELETE",
        &format!("/notifications?notification_id={id},nope"),
        None,
    );
    assert_eq!(status, 404);
    let (status, _) = serve.a(
        "DELETE",
        &format!("/notifications?notification_id={id},{fun_id}"),
        None,
    );
    assert_eq!(status, 204);
    let (_, listed) = serve.a("GET", "/notifications/smn", None);
    assert_eq!(listed, json!({"notifications": []}));
}

#[test]
fn matching_traces_reach_the_receiver_at_least_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let project = data.join("projects").join(PROJECT_A);
    let mut receiver = Receiver::start();
    let args = ["--config".to_string(), config(dir.path(), &receiver)];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut serve = Serve::start(&data, &args, &[]);
    set_up(&serve);

    // Only the matching traces arrive, signed.
    record(
        &serve,
        json!([
            trace("t1", "IAM", "user", "deleteUser", "warning"),
            trace("t2", "ECS", "ecs", "createServer", "normal"),
            trace("t3", "ECS", "ecs", "deleteServer", "incident"),
        ]),
    );
    assert_eq!(smn_traces(&receiver.wait_for("/smn", 1)), ["t1"]);
    let fun = receiver.wait_for("/fun", 1);
    assert_eq!(fun.len(), 1);
    assert_eq!(fun[0].0, signature_of(FUN_SECRET, &fun[0].1));
    let body: Value = serde_json::from_slice(&fun[0].1).expect("JSON");
    assert_eq!(body["cts"]["trace_id"], "t3");
    assert_eq!(body["cts"]["trace_rating"], "incident");

    // The receiver is down: retried until it is back.
    receiver.stop();
    record(
        &serve,
        json!([trace("t4", "IAM", "user", "deleteUser", "normal")]),
    );
    let log = project.join("deliveries.jsonl");
    let started = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("\"outcome\":\"retry\"")
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    receiver.restart();
    assert_eq!(smn_traces(&receiver.wait_for("/smn", 2)), ["t1", "t4"]);
    // Delivered and its outbox file removed before the kill below (else it is sent again).
    wait_for_empty_outbox(&project);

    // Killed after the acknowledgement, before the delivery: sent after the restart.
    receiver.stop();
    record(
        &serve,
        json!([trace("t5", "IAM", "user", "deleteUser", "normal")]),
    );
    serve.kill();
    receiver.restart();
    serve.restart();
    assert_eq!(
        smn_traces(&receiver.wait_for("/smn", 3)),
        ["t1", "t4", "t5"]
    );
    wait_for_empty_outbox(&project);

    // Stopped with the messages in the outbox, the recording not answered: sent after the
    // restart (the client would send the recording again: at least once).
    serve.kill();
    let at_outbox = format!("{}=return(abort)", fp::NOTIFY_OUTBOX_WRITTEN);
    let serve_stopping = Serve::start(&data, &args, &[("FAILPOINTS", &at_outbox)]);
    let answer = serve_stopping.try_send(
        "POST",
        &format!("/v3/{PROJECT_A}/traces"),
        &[
            ("X-Auth-Token", crate::serve::TOKEN_A),
            ("Content-Type", "application/json"),
        ],
        Some(json!([trace("t6", "IAM", "user", "deleteUser", "normal")]).to_string()),
    );
    assert!(
        answer.is_err(),
        "the server stopped before it answered: {answer:?}"
    );
    drop(serve_stopping);
    // Stopped after a delivery, before its outbox file is removed (at once: the message is in
    // the outbox when it starts): sent again after a restart.
    let after_sent = format!("{}=return(abort)", fp::NOTIFY_SENT);
    let mut sending = cts(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--token", &format!("{}={PROJECT_A}", crate::serve::TOKEN_A)])
        .args(&args)
        .env("FAILPOINTS", &after_sent)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cts serve");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = sending.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cts serve did not stop at {}",
            fp::NOTIFY_SENT
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "{status:?}");
    assert_eq!(
        smn_traces(&receiver.wait_for("/smn", 4)),
        ["t1", "t4", "t5", "t6"]
    );
    serve = Serve::start(&data, &args, &[]);
    assert_eq!(
        smn_traces(&receiver.wait_for("/smn", 5)),
        ["t1", "t4", "t5", "t6", "t6"]
    );
    drop(serve);

    // cts ingest into the project's folder fires them too; cts serve sends them.
    let file = dir.path().join("batch.json");
    std::fs::write(
        &file,
        json!([
            trace("i1", "IAM", "user", "deleteUser", "normal"),
            trace("i2", "ECS", "ecs", "startServer", "normal")
        ])
        .to_string(),
    )
    .expect("write");
    let out = cts(&project)
        .arg("ingest")
        .arg(&file)
        .output()
        .expect("ingest");
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 notification messages written to"),
        "{out:?}"
    );
    let serve = Serve::start(&data, &args, &[]);
    assert_eq!(
        smn_traces(&receiver.wait_for("/smn", 6)),
        ["i1", "t1", "t4", "t5", "t6", "t6"]
    );

    // A test message.
    let out = cts(&project)
        .args(["notifications", "test", "deleted_users"])
        .output()
        .expect("test");
    assert!(out.status.success(), "{out:?}");
    let all = receiver.wait_for("/smn", 7);
    let tests: Vec<String> = smn_traces(&all)
        .into_iter()
        .filter(|t| t.starts_with("cts-test-"))
        .collect();
    assert_eq!(tests.len(), 1);
    drop(serve);

    // What was delivered, as a table.
    let csv = sql_csv(
        &project,
        "SELECT notification_name, outcome, count(*) AS n FROM notification_deliveries \
        WHERE outcome <> 'retry' GROUP BY 1, 2 ORDER BY 1, 2",
    );
    assert_eq!(
        csv,
        "notification_name,outcome,n\ndeleted_users,delivered,7\nincidents,delivered,1\n"
    );

    // Replay: what deleted_users would have fired among the stored traces. t6 is stored when its
    // append was synced before the stop (the recording was not answered either way).
    let t6_stored = sql_csv(
        &project,
        "SELECT count(*) AS n FROM traces WHERE trace_id = 't6'",
    );
    let t6_stored = t6_stored == "n\n1\n";
    let out = cts(&project)
        .args([
            "notifications",
            "replay",
            "deleted_users",
            "--from",
            "2020-01-01",
        ])
        .output()
        .expect("replay");
    assert!(out.status.success(), "{out:?}");
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON")["trace_id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    let (mut expected, mut fired, mut stored) = (vec!["i1", "t1", "t4", "t5"], 4, 7);
    if t6_stored {
        expected.push("t6");
        (fired, stored) = (5, 8);
    }
    assert_eq!(sorted, expected);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "{fired} of {stored} traces would have fired deleted_users"
        )),
        "{out:?}"
    );
}

#[test]
fn a_message_nobody_takes_is_given_up_kept_and_logged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let project = data.join("projects").join(PROJECT_A);
    // A port nobody listens at.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let config = dir.path().join("serve.json");
    std::fs::write(
        &config,
        json!({"notification_retry_seconds": 2,
               "topics": {SMN_TOPIC: {"url": format!("http://{nobody}/smn"), "secret": SMN_SECRET},
                          FUN_TOPIC: {"url": format!("http://{nobody}/fun"), "secret": FUN_SECRET}}})
        .to_string(),
    )
    .expect("config");
    let serve = Serve::start(&data, &["--config", &config.to_string_lossy()], &[]);
    set_up(&serve);
    record(
        &serve,
        json!([trace("lost", "IAM", "user", "deleteUser", "normal")]),
    );
    let log = project.join("deliveries.jsonl");
    let started = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("\"outcome\":\"failed\"")
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Given up: the outbox is empty, the message kept whole, every attempt logged.
    wait_for_empty_outbox(&project);
    assert_eq!(
        std::fs::read_dir(project.join("outbox"))
            .map(|d| d.count())
            .ok(),
        Some(0)
    );
    let kept = std::fs::read_to_string(project.join("notifications-failed.jsonl")).expect("kept");
    let kept: Vec<Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (&kept[0]["trace"]["trace_id"], &kept[0]["topic_id"]),
        (&json!("lost"), &json!(SMN_TOPIC))
    );
    drop(serve);
    let csv = sql_csv(
        &project,
        "SELECT trace_id, outcome, count(*) > 0 AS any, bool_and(status IS NULL) AS no_answer \
         FROM notification_deliveries GROUP BY 1, 2 ORDER BY 2",
    );
    assert_eq!(
        csv,
        "trace_id,outcome,any,no_answer\nlost,failed,true,true\nlost,retry,true,true\n"
    );
}
