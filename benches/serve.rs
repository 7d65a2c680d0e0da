//! Recording throughput and trace-list latency of a running `cts serve` (benches/serve.sh).
//!
//! usage: serve URL TOKEN PROJECT TRACES BATCH CONCURRENCY [NOTIFICATIONS TOPIC]
//!        serve receive
//!
//! Records TRACES traces spread over the last 7 days, BATCH per request, CONCURRENCY requests
//! at a time (each answered once durable), then times trace-list queries (median and worst of
//! 20 after a warm-up). Prints a Markdown table. With NOTIFICATIONS, first creates that many
//! key-event notifications sending to TOPIC.
//!
//! `serve receive` is the notifications' receiver: an HTTP server on 127.0.0.1 (its port printed
//! first) that answers 200 to every POST. It runs on the same two cores as the server, so it is
//! kept small (one thread, connections kept alive): what the benchmark measures is cts, not the
//! receiver.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("receive") {
        receive();
        return;
    }
    if args.len() < 6 {
        // `cargo test --all-targets` runs this binary with no arguments: nothing to do.
        println!("usage: serve URL TOKEN PROJECT TRACES BATCH CONCURRENCY [NOTIFICATIONS TOPIC]");
        return;
    }
    let parse = |i: usize| -> usize {
        args[i]
            .parse()
            .unwrap_or_else(|_| panic!("argument {i} must be a number, not {:?}", args[i]))
    };
    let (url, token, project) = (args[0].clone(), args[1].clone(), args[2].clone());
    let (traces, batch, concurrency) = (parse(3), parse(4), parse(5));
    let notifications = if args.len() > 7 {
        Some((parse(6), args[7].clone()))
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(
        url,
        token,
        project,
        traces,
        batch,
        concurrency,
        notifications,
    ));
}

/// The notifications' receiver: prints its port, then answers 200 to every POST until killed.
fn receive() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let port = listener.local_addr().expect("address").port();
        println!("{port}");
        let app = axum::Router::new().route("/", axum::routing::post(|| async { "" }));
        axum::serve(listener, app).await.expect("receive");
    });
}

/// Notification `k` of the benchmark: `customized` with 10 operations (deletes on 10 of the 12
/// services) and a filter of 6 rules (the most CTS allows) that holds for one resource in 5000:
/// every trace is checked, few fire (about 1,500 messages in a million traces, all delivered).
fn notification(k: usize, topic: &str) -> Value {
    let operations: Vec<Value> = (0..10)
        .map(|j| {
            let service = SERVICES[(k + j) % SERVICES.len()];
            json!({"service_type": service, "resource_type": format!("{}_res", service.to_lowercase()),
                   "trace_names": ["deleteThing"]})
        })
        .collect();
    json!({
        "notification_name": format!("bench_{k}"),
        "operation_type": "customized",
        "operations": operations,
        "topic_id": topic,
        "filter": {"condition": "AND", "is_support_filter": true, "rule": [
            // One notification in ten names a resource that deletes happen to (index ≡ 2 mod 4):
            // about 150 messages each.
            format!("resource_id = res-{}", (k * 48 + if k.is_multiple_of(10) { 2 } else { 0 }) % 5000),
            "trace_type = ApiCall",
            "api_version = v2",
            "trace_rating != warning",
            "code = 200",
            format!("resource_name != name-{}", k + 1),
        ]},
    })
}

const SERVICES: [&str; 12] = [
    "ECS", "EVS", "VPC", "IAM", "OBS", "RDS", "CCE", "ELB", "KMS", "DNS", "CTS", "SMN",
];
const RATINGS: [&str; 8] = [
    "normal", "normal", "normal", "normal", "normal", "normal", "warning", "incident",
];

fn body(first: usize, n: usize, total: usize, now: i64) -> String {
    let span = 7 * 86_400_000i64 - 3_600_000;
    let traces: Vec<Value> = (first..first + n)
        .map(|i| {
            // Spread evenly over the last 7 days, newest first.
            let time = now - (i as i64 * span) / total as i64;
            let service = SERVICES[i % SERVICES.len()];
            let name = ["createThing", "updateThing", "deleteThing", "login"][i % 4];
            json!({
                "trace_id": format!("{:08x}-bench-{i:010}", i.wrapping_mul(2_654_435_761) as u32),
                "time": time,
                "service_type": service,
                "resource_type": format!("{}_res", service.to_lowercase()),
                "resource_id": format!("res-{}", i % 5000),
                "resource_name": format!("name-{}", i % 5000),
                "trace_name": name,
                "trace_rating": RATINGS[i % RATINGS.len()],
                "trace_type": "ApiCall",
                "source_ip": format!("10.0.{}.{}", i % 200, i % 250),
                "code": if i % 8 == 7 { 403 } else { 200 },
                "api_version": "v2",
                "request": format!("{{\"id\":{i},\"name\":\"thing-{i}\"}}"),
                "response": "{\"result\":\"ok\"}",
                "request_id": format!("req-{i}"),
                "user": {"name": format!("user-{}", i % 50), "id": format!("uid-{}", i % 50),
                         "domain": {"name": "acme", "id": "d-acme"}},
            })
        })
        .collect();
    json!({ "traces": traces }).to_string()
}

async fn run(
    url: String,
    token: String,
    project: String,
    traces: usize,
    batch: usize,
    concurrency: usize,
    notifications: Option<(usize, String)>,
) {
    let client = reqwest::Client::new();
    let base = format!("{url}/v3/{project}");
    let tracker = client
        .post(format!("{base}/tracker"))
        .header("X-Auth-Token", &token)
        .body(r#"{"tracker_type":"system","tracker_name":"system"}"#)
        .send()
        .await
        .expect("create the tracker");
    let status = tracker.status().as_u16();
    assert!(status == 201 || status == 400, "create tracker: {status}");
    if let Some((n, topic)) = &notifications {
        for k in 0..*n {
            let answer = client
                .post(format!("{base}/notifications"))
                .header("X-Auth-Token", &token)
                .body(notification(k, topic).to_string())
                .send()
                .await
                .expect("create a notification");
            let status = answer.status();
            let text = answer.text().await.expect("answer");
            assert_eq!(status.as_u16(), 201, "{text}");
        }
        println!("{n} notifications of 10 operations and 6 filter rules each");
    }

    let now = chrono::Utc::now().timestamp_millis();
    let bodies: Vec<String> = (0..traces.div_ceil(batch))
        .map(|b| {
            let first = b * batch;
            body(first, batch.min(traces - first), traces, now)
        })
        .collect();
    let bytes: usize = bodies.iter().map(String::len).sum();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (queue, client, base, token) =
            (queue.clone(), client.clone(), base.clone(), token.clone());
        workers.push(tokio::spawn(async move {
            let mut recorded = 0u64;
            loop {
                let Some(body) = queue.lock().expect("queue").pop() else {
                    return recorded;
                };
                let response = client
                    .post(format!("{base}/traces"))
                    .header("X-Auth-Token", &token)
                    .body(body)
                    .send()
                    .await
                    .expect("record");
                let status = response.status();
                let text = response.text().await.expect("answer");
                assert!(status.is_success(), "{status}: {text}");
                let answer: Value = serde_json::from_str(&text).expect("JSON");
                recorded += answer["recorded"].as_u64().expect("recorded");
            }
        }));
    }
    let mut recorded = 0;
    for w in workers {
        recorded += w.await.expect("worker");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\nrecorded {recorded} of {traces} traces ({:.0} MB of JSON) in {secs:.1} s: {:.0} traces/s, \
         {batch} per request, {concurrency} requests at a time, each acknowledged once durable\n",
        bytes as f64 / 1e6,
        recorded as f64 / secs
    );

    let week = now - 7 * 86_400_000;
    let queries = [
        ("default: last hour, 10 newest", String::new()),
        ("last hour, 200 newest", "limit=200".to_string()),
        ("7 days, 10 newest", format!("from={week}")),
        (
            "7 days, service_type=KMS, 100",
            format!("from={week}&service_type=KMS&limit=100"),
        ),
        (
            "7 days, user=user-7 + incident",
            format!("from={week}&user=user-7&trace_rating=incident"),
        ),
        (
            "7 days, resource_id=res-4321",
            format!("from={week}&resource_id=res-4321&limit=200"),
        ),
        (
            "trace_id (overrides the rest)",
            format!(
                "trace_id={:08x}-bench-{:010}",
                777_777usize.wrapping_mul(2_654_435_761) as u32,
                777_777usize.min(traces - 1)
            ),
        ),
    ];
    println!("| trace list query | traces | median | worst of 20 |\n|---|---|---|---|");
    for (name, query) in &queries {
        let get = |query: String| {
            let client = client.clone();
            let url = format!("{base}/traces?{query}");
            let token = token.clone();
            async move {
                let started = Instant::now();
                let response = client
                    .get(&url)
                    .header("X-Auth-Token", &token)
                    .send()
                    .await
                    .expect("list");
                let status = response.status();
                let text = response.text().await.expect("answer");
                assert!(status.is_success(), "{url}: {status}: {text}");
                let page: Value = serde_json::from_str(&text).expect("JSON");
                (started.elapsed(), page)
            }
        };
        let (_, page) = get(query.clone()).await;
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..20 {
            times.push(get(query.clone()).await.0);
        }
        times.sort();
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms |",
            page["meta_data"]["count"],
            times[10].as_secs_f64() * 1000.0,
            times[19].as_secs_f64() * 1000.0
        );
        // The next page of the same query, by marker.
        if let Some(marker) = page["meta_data"]["marker"].as_str()
            && name.starts_with("7 days, 10")
        {
            let mut times: Vec<Duration> = Vec::new();
            for _ in 0..20 {
                times.push(get(format!("{query}&next={marker}")).await.0);
            }
            times.sort();
            println!(
                "| 7 days, next page by marker | 10 | {:.1} ms | {:.1} ms |",
                times[10].as_secs_f64() * 1000.0,
                times[19].as_secs_f64() * 1000.0
            );
        }
    }
}
