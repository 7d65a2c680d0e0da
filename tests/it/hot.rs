//! The hot store through the library: appends visible at once, the watermark boundary, roll-over
//! into the archive, traces in both tiers counted once, torn-log recovery, compaction, and
//! queries on recent hours that read neither the archive nor older days.

use std::path::Path;
use std::time::Duration;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use cts::query::{QueryLimits, session_with};
use cts_core::load::{LoadOptions, load};
use cts_core::source::Source;
use cts_core::storage::{Location, StorageOptions};
use cts_core::store::archive::Archive;
use cts_core::store::hot::{AppendSummary, HotOptions, HotStore};
use cts_core::trace::DAY_MS;

const MINUTE: i64 = 60_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A JSON array of minimal traces.
fn traces_json(traces: &[(&str, i64)]) -> Vec<u8> {
    let items: Vec<String> = traces
        .iter()
        .map(|(id, time)| {
            format!(
                r#"{{"trace_id":"{id}","time":{time},"trace_name":"createServer","service_type":"ECS","resource_type":"ecs","trace_rating":"normal","trace_type":"ConsoleAction","user":{{"name":"alice","domain":{{"name":"acme","id":"d1"}}}}}}"#
            )
        })
        .collect();
    format!("[{}]", items.join(",")).into_bytes()
}

fn batch(traces: &[(&str, i64)]) -> RecordBatch {
    cts_core::decode::decode_file(&traces_json(traces), "test.json", None)
        .expect("decode")
        .batch
}

struct Data {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    archive: Archive,
}

impl Data {
    fn new() -> Data {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let archive =
            Archive::new(Location::local(&root.join("archive")).expect("archive location"));
        Data {
            _dir: dir,
            root,
            archive,
        }
    }

    fn hot_dir(&self) -> std::path::PathBuf {
        self.root.join("hot")
    }

    async fn open(&self, options: HotOptions) -> HotStore {
        HotStore::open(&self.hot_dir(), self.archive.clone(), options)
            .await
            .expect("open hot store")
    }

    /// Sorted trace IDs of a table.
    async fn ids(&self, table: &str) -> Vec<String> {
        let ctx = session_with(
            &self.archive,
            Some(&self.hot_dir()),
            &QueryLimits::default(),
        )
        .await
        .expect("session");
        let batches = ctx
            .sql(&format!("SELECT trace_id FROM {table} ORDER BY trace_id"))
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        crate::common::column_texts(&batches, 0)
    }

    async fn count(&self, sql: &str) -> i64 {
        let ctx = session_with(
            &self.archive,
            Some(&self.hot_dir()),
            &QueryLimits::default(),
        )
        .await
        .expect("session");
        let batches = ctx
            .sql(sql)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        batches[0].column(0).as_primitive::<Int64Type>().value(0)
    }
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn options(retention: Duration) -> HotOptions {
    HotOptions {
        retention,
        ..Default::default()
    }
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_age_from_the_hot_store_into_the_archive_each_counted_once() {
    let data = Data::new();
    let now = now_ms();
    let hot = data.open(options(hours(1))).await;

    // Older than the retention: straight into the archive. The rest: hot.
    let first = [
        ("a1", now - 120 * MINUTE),
        ("a2", now - 50 * MINUTE),
        ("a3", now - 40 * MINUTE),
        ("a4", now - 10 * MINUTE),
        ("a5", now - MINUTE),
    ];
    let summary = hot.append(batch(&first)).await.expect("append");
    assert_eq!(
        summary,
        AppendSummary {
            hot: 4,
            archived: 1,
            duplicates: 0
        }
    );
    // Visible at once, without a flush.
    assert_eq!(
        data.ids("traces").await,
        strings(&["a1", "a2", "a3", "a4", "a5"])
    );
    assert_eq!(
        data.ids("hot_traces").await,
        strings(&["a2", "a3", "a4", "a5"])
    );
    assert_eq!(data.ids("archive_traces").await, strings(&["a1"]));

    // Delivered again, with one new trace: only the new one is added, in either tier.
    let mut again = first.to_vec();
    again.push(("a6", now));
    let summary = hot.append(batch(&again)).await.expect("append");
    assert_eq!(
        summary,
        AppendSummary {
            hot: 1,
            archived: 0,
            duplicates: 5
        }
    );
    drop(hot);

    // A shorter retention: a2 and a3 age out. They reach the archive and leave the hot store.
    let hot = data.open(options(Duration::from_secs(30 * 60))).await;
    let before = data
        .count("SELECT count(*) + 1000 * count(DISTINCT trace_id) FROM traces")
        .await;
    let m = hot.maintain(false).await.expect("maintain");
    assert_eq!((m.rolled_over, m.already_archived), (2, 0));
    assert_eq!(
        data.count("SELECT count(*) + 1000 * count(DISTINCT trace_id) FROM traces")
            .await,
        before
    );
    assert_eq!(before, 6006);
    assert_eq!(data.ids("hot_traces").await, strings(&["a4", "a5", "a6"]));
    assert_eq!(
        data.ids("archive_traces").await,
        strings(&["a1", "a2", "a3"])
    );
    // A second pass has nothing to do.
    let m = hot.maintain(false).await.expect("maintain");
    assert_eq!(m.rolled_over, 0);

    // a2 again, now older than the watermark: found in the archive, dropped.
    let summary = hot
        .append(batch(&[("a2", now - 50 * MINUTE)]))
        .await
        .expect("append");
    assert_eq!(summary.duplicates, 1);

    // The loader brings the same traces in from a trace file, plus two new ones (one recent,
    // one old): each trace is still counted once, and each new one lands in its tier.
    let source_dir = data.root.join("bucket");
    std::fs::create_dir_all(&source_dir).expect("mkdir");
    let mut delivered = again.clone();
    delivered.push(("a7", now - 5 * MINUTE));
    delivered.push(("a8", now - 3 * 60 * MINUTE));
    std::fs::write(source_dir.join("export.json"), traces_json(&delivered)).expect("write");
    let source =
        Source::open(&source_dir.to_string_lossy(), &StorageOptions::default()).expect("source");
    let load_options = LoadOptions {
        any_json: true,
        hot: Some(hot.clone()),
        ..Default::default()
    };
    let loaded = load(&source, &data.archive, &load_options)
        .await
        .expect("load");
    assert_eq!(
        (
            loaded.traces_loaded,
            loaded.traces_to_hot,
            loaded.duplicates_dropped
        ),
        (2, 1, 6)
    );
    assert_eq!(
        data.ids("traces").await,
        strings(&["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"])
    );
    assert_eq!(
        data.ids("hot_traces").await,
        strings(&["a4", "a5", "a6", "a7"])
    );
    assert_eq!(
        data.ids("archive_traces").await,
        strings(&["a1", "a2", "a3", "a8"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_on_recent_hours_reads_neither_the_archive_nor_older_days() {
    let data = Data::new();
    let now = now_ms();
    let hot = data.open(options(hours(24 * 7))).await;
    let day = |t: i64| cts_core::trace::day_string(t.div_euclid(DAY_MS));
    let (old, two_days, three_days, recent) = (
        now - 10 * 24 * 60 * MINUTE,
        now - 2 * 24 * 60 * MINUTE,
        now - 3 * 24 * 60 * MINUTE,
        now - 30 * MINUTE,
    );
    hot.append(batch(&[
        ("old", old),
        ("two-days", two_days),
        ("three-days", three_days),
        ("recent", recent),
    ]))
    .await
    .expect("append");
    hot.maintain(true).await.expect("flush");
    hot.append(batch(&[("in-log", now)])).await.expect("append");

    let ctx = session_with(
        &data.archive,
        Some(&data.hot_dir()),
        &QueryLimits::default(),
    )
    .await
    .expect("session");
    let sql =
        "SELECT trace_id FROM traces WHERE time > now() - interval '2 hours' ORDER BY trace_id";
    let df = ctx.sql(sql).await.expect("plan");
    let plan = df
        .clone()
        .create_physical_plan()
        .await
        .expect("physical plan");
    let text = cts::query::plan_text(&plan);
    assert!(!text.contains("archive"), "the archive is read:\n{text}");
    assert!(text.contains(&format!("day={}", day(recent))), "{text}");
    for older in [two_days, three_days] {
        if day(older) != day(recent) {
            assert!(
                !text.contains(&format!("day={}", day(older))),
                "an older day is read:\n{text}"
            );
        }
    }
    let batches = df.collect().await.expect("run");
    let ids: Vec<String> = crate::common::column_texts(&batches, 0);
    assert_eq!(ids, strings(&["in-log", "recent"]));

    // Over all time, the archive answers for what is older than the watermark.
    assert_eq!(
        data.ids("traces").await,
        strings(&["in-log", "old", "recent", "three-days", "two-days"])
    );
    assert_eq!(data.ids("archive_traces").await, strings(&["old"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_log_append_is_cut_off_and_nothing_acknowledged_is_lost() {
    let data = Data::new();
    let now = now_ms();
    let hot = data.open(options(hours(24))).await;
    hot.append(batch(&[("t1", now - MINUTE), ("t2", now)]))
        .await
        .expect("append");
    drop(hot);
    // A writer killed in the middle of its next append.
    let wal = only_file(&data.hot_dir().join("wal"));
    let whole = std::fs::metadata(&wal).expect("stat").len();
    let mut bytes = std::fs::read(&wal).expect("read");
    bytes.extend_from_slice(b"CTSW\x40\x00\x00\x00garbage");
    std::fs::write(&wal, &bytes).expect("write");
    assert_eq!(data.ids("traces").await, strings(&["t1", "t2"]));

    // The next writer cuts the torn end and appends after the last whole frame.
    let hot = data.open(options(hours(24))).await;
    assert_eq!(std::fs::metadata(&wal).expect("stat").len(), whole);
    let summary = hot
        .append(batch(&[("t2", now), ("t3", now)]))
        .await
        .expect("append");
    assert_eq!((summary.hot, summary.duplicates), (1, 1));
    assert_eq!(data.ids("traces").await, strings(&["t1", "t2", "t3"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_segments_are_merged_and_unused_files_removed() {
    let data = Data::new();
    let now = now_ms();
    let hot = data
        .open(HotOptions {
            retention: hours(24),
            max_segments_per_day: 3,
            grace: Duration::ZERO,
            ..Default::default()
        })
        .await;
    let mut expected = Vec::new();
    for i in 0..10 {
        let id = format!("s{i:02}");
        hot.append(batch(&[(&id, now - i * MINUTE)]))
            .await
            .expect("append");
        hot.maintain(true).await.expect("flush");
        expected.push(id);
    }
    expected.sort();
    assert_eq!(data.ids("traces").await, expected);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.hot_dir().join("state.json")).expect("state"))
            .expect("json");
    let segments = state["segments"].as_array().expect("segments");
    assert!(
        segments.len() <= 3 * 2,
        "{} segments left after compaction",
        segments.len()
    );
    // Every file on disk is a segment the state names: merged ones were removed.
    let on_disk = all_files(&data.hot_dir().join("traces"));
    assert_eq!(on_disk.len(), segments.len(), "{on_disk:?}");
}

fn only_file(dir: &Path) -> std::path::PathBuf {
    let files = all_files(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().expect("one file")
}

fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(all_files(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_committed_together_and_each_answered() {
    let data = Data::new();
    let now = now_ms();
    let hot = data.open(options(hours(24))).await;
    let mut tasks = Vec::new();
    for i in 0..220 {
        let hot = hot.clone();
        // The last 20 repeat earlier IDs: one of each pair is a duplicate.
        let id = format!("c{:03}", i % 200);
        tasks.push(tokio::spawn(async move {
            hot.append(batch(&[(&id, now - MINUTE)])).await
        }));
    }
    let mut total = AppendSummary::default();
    for task in tasks {
        total += task.await.expect("task").expect("append");
    }
    assert_eq!(
        total,
        AppendSummary {
            hot: 200,
            archived: 0,
            duplicates: 20
        }
    );
    let ids = data.ids("traces").await;
    assert_eq!(ids.len(), 200);
    assert_eq!(ids[0], "c000");
    assert_eq!(ids[199], "c199");
    // Appends that waited while another was written went into one frame with it.
    let frames = cts_core::store::wal::read_log(&only_file(&data.hot_dir().join("wal")))
        .expect("log")
        .batches
        .len();
    assert!(frames < 220, "{frames} log frames for 220 appends");
    eprintln!("220 concurrent appends in {frames} log frames");
}
