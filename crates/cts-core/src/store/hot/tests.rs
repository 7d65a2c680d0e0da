//! The hot store's state machine, in process: appends, flush, roll-over (also after a crash
//! between copying and handing over), merging segments, and a torn log append.

use std::path::Path;
use std::time::Duration;

use arrow::array::RecordBatch;

use crate::error::Result;
use crate::storage::Location;
use crate::store::archive::Archive;
use crate::store::hot::{HotOptions, HotStore, snapshot};
use crate::store::wal::read_log;
use crate::trace::{DAY_MS, TraceBatchBuilder, TraceRecord, day_of};

/// Traces `<prefix>-<i>` at the given times.
fn traces(prefix: &str, times: &[i64]) -> RecordBatch {
    let mut builder = TraceBatchBuilder::new();
    for (i, time) in times.iter().enumerate() {
        let trace = TraceRecord {
            trace_id: format!("{prefix}-{i}").into(),
            time: *time,
            ..Default::default()
        };
        builder.append(&trace, Some("eu-de"), "test.json");
    }
    builder.finish().expect("batch")
}

/// The distinct trace IDs in the archive.
async fn archived(archive: &Archive) -> usize {
    let mut n = 0;
    for day in archive.days().await.expect("days") {
        n += archive.read_ids(day).await.expect("ids").len();
    }
    n
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn open(dir: &Path, options: HotOptions) -> (HotStore, Archive) {
    let archive = Archive::new(Location::local(&dir.join("archive")).expect("archive"));
    let hot = HotStore::open(&dir.join("hot"), archive.clone(), options)
        .await
        .expect("open");
    (hot, archive)
}

fn one_hour() -> HotOptions {
    HotOptions {
        retention: Duration::from_secs(3_600),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_route_by_the_watermark_and_duplicates_are_dropped() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hot, archive) = open(dir.path(), one_hour()).await;
    let t = now();
    // Two recent traces, one older than the retention, and a repeat of a recent one.
    let first = hot
        .append(traces("a", &[t - 60_000, t - 120_000, t - 2 * 3_600_000]))
        .await?;
    assert_eq!((first.hot, first.archived, first.duplicates), (2, 1, 0));
    let again = hot.append(traces("a", &[t - 60_000])).await?;
    assert_eq!((again.hot, again.archived, again.duplicates), (0, 0, 1));
    assert_eq!(archived(&archive).await, 1);
    let snap = snapshot(hot.dir())?;
    assert_eq!(snap.rows(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roll_over_copies_before_it_hands_over_and_repeats_after_a_crash() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hot, archive) = open(dir.path(), one_hour()).await;
    // Ten traces of the last 50 minutes, all of today (UTC), five below the cutoff.
    let t = now();
    let start = (t - 50 * 60_000).max(day_of(t) * DAY_MS);
    let step = ((t - start) / 11).max(1);
    let times: Vec<i64> = (0..10).map(|i| start + i * step).collect();
    hot.append(traces("r", &times)).await?;
    let cutoff = times[4] + 1;
    let state_file = hot.dir().join("state.json");
    let mut w = hot.writer().await?;
    assert_eq!(w.flush().await?, 10);
    // The state a roll-over starts from: the traces in segments.
    let before = std::fs::read(&state_file).expect("state");
    assert_eq!(w.roll_over(cutoff).await?, (5, 0));
    assert_eq!(w.watermark(), cutoff);
    drop(w);
    assert_eq!(archived(&archive).await, 5);
    let snap = snapshot(hot.dir())?;
    assert_eq!(snap.watermark_ms, Some(cutoff));
    // The one segment (of today) still holds all ten; the watermark hides the five below it.
    assert_eq!(snap.segments.len(), 1);
    assert_eq!(snap.rows(), 10);

    // A crash after the copy but before the new state: the old state is back, and the next
    // roll-over finds every trace in the archive already.
    std::fs::write(&state_file, &before).expect("old state");
    let reopened = HotStore::open(hot.dir(), archive.clone(), one_hour()).await?;
    let mut w = reopened.writer().await?;
    assert_eq!(w.roll_over(cutoff).await?, (0, 5));
    // Nothing to do the second time.
    assert_eq!(w.roll_over(cutoff).await?, (0, 0));
    drop(w);
    assert_eq!(archived(&archive).await, 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_of_a_day_beyond_the_maximum_are_merged_and_later_removed() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = HotOptions {
        max_segments_per_day: 2,
        grace: Duration::ZERO,
        ..one_hour()
    };
    let (hot, _) = open(dir.path(), options).await;
    // Three flushes within one day: three segments of that day.
    let day_start = day_of(now()) * DAY_MS;
    let base = (now() - 30 * 60_000).max(day_start);
    for round in 0..3 {
        hot.append(traces(&format!("s{round}"), &[base, base + 1]))
            .await?;
        let mut w = hot.writer().await?;
        assert_eq!(w.flush().await?, 2);
    }
    let segments = |hot: &HotStore| snapshot(hot.dir()).map(|s| s.segments.len());
    assert_eq!(segments(&hot)?, 3);
    let mut w = hot.writer().await?;
    assert_eq!(w.compact().await?, 3);
    let removed = w.remove_unused(now())?;
    drop(w);
    let snap = snapshot(hot.dir())?;
    assert_eq!(snap.segments.len(), 1);
    assert_eq!(snap.rows(), 6);
    // The three merged segments (each flush removed its own log).
    assert_eq!(removed, 3);
    let files = crate::storage::fs::list_files(&hot.dir().join("traces"))?;
    assert_eq!(files.len(), 1, "{files:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_append_is_cut_off_and_the_log_goes_on() -> Result<()> {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("temp dir");
    let (hot, archive) = open(dir.path(), one_hour()).await;
    let t = now();
    hot.append(traces("w", &[t - 1_000, t - 2_000])).await?;
    let log = crate::storage::fs::list_files(&hot.dir().join("wal"))?;
    assert_eq!(log.len(), 1);
    let whole = std::fs::metadata(&log[0]).expect("log").len();
    // A writer killed halfway through its next frame.
    let frame = crate::store::wal::encode_frame(&traces("torn", &[t - 3_000]))?;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log[0])
        .expect("open");
    file.write_all(&frame[..frame.len() / 2]).expect("write");
    drop(file);
    assert_eq!(snapshot(hot.dir())?.rows(), 2);

    // The next process cuts the torn end off and appends after the whole frames.
    drop(hot);
    let (hot, _) = open(dir.path(), one_hour()).await;
    assert_eq!(std::fs::metadata(&log[0]).expect("log").len(), whole);
    let summary = hot
        .append(traces("w", &[t - 1_000, t - 2_000, t - 4_000]))
        .await?;
    assert_eq!((summary.hot, summary.duplicates), (1, 2));
    let frames = read_log(&log[0])?;
    assert_eq!(frames.torn_bytes, 0);
    assert_eq!(
        frames
            .batches
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>(),
        3
    );
    assert_eq!(archived(&archive).await, 0);
    Ok(())
}
