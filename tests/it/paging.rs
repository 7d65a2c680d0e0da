//! Marker paging of `GET /v3/{project}/traces` where it can go wrong: many traces at the same
//! `time` across a page boundary, pages that cross from the hot store into the archive, and
//! traces that arrive inside the range being paged. The expected order is computed here from
//! what was recorded, not read from cts; every page loop is bounded ([`all_pages`]).

use serde_json::{Value, json};

use crate::common::cli::sql_csv;
use crate::serve::{PROJECT_A, Serve, all_pages, ids, trace};

/// A trace `id` at `time` (the other fields rotate with `i`).
fn at(id: &str, time: i64, i: usize) -> Value {
    trace(
        id,
        time,
        ["ECS", "VPC", "IAM"][i % 3],
        "alice",
        ["normal", "warning"][i % 2],
    )
}

/// The IDs of `traces` in the list's order: newest first, then by trace ID, descending.
fn listed_order(traces: &[(i64, String)]) -> Vec<String> {
    let mut sorted = traces.to_vec();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.into_iter().map(|(_, id)| id).collect()
}

fn record(serve: &Serve, traces: &[(i64, String)]) {
    for (k, part) in traces.chunks(100).enumerate() {
        let body: Vec<Value> = part
            .iter()
            .enumerate()
            .map(|(i, (time, id))| at(id, *time, k * 100 + i))
            .collect();
        let (status, answer) = serve.a("POST", "/traces", Some(json!(body)));
        assert_eq!(
            (status, &answer["recorded"]),
            (200, &json!(part.len())),
            "{answer}"
        );
    }
}

#[test]
fn paging_never_skips_or_repeats_across_equal_times_the_archive_boundary_and_arrivals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // Traces older than an hour go straight to the archive when recorded.
    let serve = Serve::start(
        &data,
        &["--transfer-interval", "1h", "--retention", "1h"],
        &[],
    );
    let (status, body) = serve.a(
        "POST",
        "/tracker",
        Some(json!({"tracker_type": "system", "tracker_name": "system"})),
    );
    assert_eq!(status, 201, "{body}");

    let now = chrono::Utc::now().timestamp_millis();
    let minute = 60_000;
    // Eight distinct times, 40 traces at each: four in the last hour, four before it. IDs are
    // recorded out of order.
    let times = [20, 30, 40, 50, 70, 80, 90, 100].map(|m| now - m * minute);
    let mut traces: Vec<(i64, String)> = Vec::new();
    for (t, time) in times.iter().enumerate() {
        for i in 0..40 {
            let k = (i * 17) % 40;
            traces.push((*time, format!("eq-{t}-{k:02}")));
        }
    }
    record(&serve, &traces);
    let project = data.join("projects").join(PROJECT_A);
    assert_eq!(
        sql_csv(
            &project,
            "SELECT (SELECT count(*) FROM hot_traces) AS hot, (SELECT count(*) FROM archive_traces) AS archived"
        ),
        "hot,archived\n160,160\n",
        "the list spans the hot store and the archive"
    );

    let window = format!("&from={}", now - 3 * 60 * minute);
    let expected = listed_order(&traces);
    for limit in [7, 40, 41, 59, 200] {
        assert_eq!(
            all_pages(&serve, &window, limit),
            expected,
            "pages of {limit}"
        );
    }

    // Arrivals while paging: the first page, then traces at the marker's own time on both sides
    // of it, older ones in the middle of what is left, and newer ones.
    let (_, first) = serve.a("GET", &format!("/traces?limit=50{window}"), None);
    let seen = ids(&first);
    assert_eq!(seen, expected[..50]);
    let marker = first["meta_data"]["marker"]
        .as_str()
        .expect("a marker")
        .to_string();
    let marker_time = traces
        .iter()
        .find(|(_, id)| *id == marker)
        .map(|(t, _)| *t)
        .expect("the marker is a recorded trace");
    let arrivals: Vec<(i64, String)> = vec![
        // Sorts after the marker (same time, smaller ID): listed later.
        (marker_time, format!("{}!", &marker[..marker.len() - 1])),
        // Sorts before the marker (same time, larger ID): already passed, not listed.
        (marker_time, format!("{marker}~")),
        // Older, among the remaining traces (one into the archive).
        (times[3] + 1, "mid-hot".to_string()),
        (times[6], "mid-archive".to_string()),
        // Newer than everything listed so far.
        (now - minute, "newest".to_string()),
    ];
    record(&serve, &arrivals);
    let rest = all_pages(&serve, &format!("{window}&next={marker}"), 50);
    let mut everything = traces.clone();
    everything.extend(arrivals.iter().cloned());
    let all_now = listed_order(&everything);
    let position = all_now.iter().position(|id| *id == marker).expect("marker");
    assert_eq!(rest, all_now[position + 1..], "the pages after the marker");
    for (_, id) in &arrivals[..1] {
        assert!(rest.contains(id), "{id} arrived after the marker's place");
    }
    for id in [format!("{marker}~"), "newest".to_string()] {
        assert!(!rest.contains(&id), "{id} sorts before the marker");
    }
    for id in ["mid-hot", "mid-archive"] {
        assert_eq!(rest.iter().filter(|r| *r == id).count(), 1, "{id}");
    }
    // And from the start again: every trace once, in order.
    assert_eq!(all_pages(&serve, &window, 37), all_now);
}
