//! The loader against a real S3-compatible server (SeaweedFS) on loopback, started here:
//! bucket to bucket, and mixed with local folders; export into a bucket.

mod common;

use common::{SeaweedFs, block_on, dir_string, loader_conformance};

#[test]
fn s3_buckets_pass_the_loader_conformance_suite() {
    let server = SeaweedFs::start();
    let options = server.options();
    block_on(loader_conformance(
        "s3://cts-source/",
        "s3://cts-archive/archive",
        &options,
    ));

    // A bucket source into a local archive, and a local source into a bucket archive.
    let dir = tempfile::tempdir().expect("temp dir");
    block_on(loader_conformance(
        "s3://cts-source-2/",
        &dir_string(&dir.path().join("archive")),
        &options,
    ));
    block_on(loader_conformance(
        &dir_string(&dir.path().join("bucket")),
        "s3://cts-archive-2/",
        &options,
    ));

    // Export from the bucket archive to another bucket: one whole file per day, every row.
    block_on(async {
        use cts::export::{ExportOptions, Partitioning, export};
        use cts::storage::Location;
        use object_store::ObjectStoreExt;
        let archive = cts::archive::Archive::new(
            Location::parse("s3://cts-archive/archive", &options).expect("archive"),
        );
        let ctx = cts::query::session(&archive).await.expect("session");
        let (total, _) = common::counts(&archive).await;
        let out = Location::parse("s3://cts-exports/month", &options).expect("out");
        let summary = export(
            &ctx,
            &out,
            &ExportOptions {
                from: None,
                to: None,
                filter: None,
                query: None,
                partitioning: Partitioning::Day,
                progress: false,
            },
            &cts::query::QueryLimits::default(),
        )
        .await
        .expect("export");
        assert_eq!(summary.rows as i64, total);
        let objects = out.list().await.expect("list");
        assert_eq!(objects.len(), summary.files.len());
        let mut rows = 0;
        for meta in objects {
            assert!(
                meta.location.as_ref().ends_with("/part-0.parquet"),
                "{}",
                meta.location
            );
            let bytes = out
                .store()
                .get(&meta.location)
                .await
                .expect("get")
                .bytes()
                .await
                .expect("bytes");
            let reader = parquet::file::reader::SerializedFileReader::new(bytes).expect("Parquet");
            rows += parquet::file::reader::FileReader::metadata(&reader)
                .file_metadata()
                .num_rows();
        }
        assert_eq!(rows, total);
    });
}

#[test]
fn a_server_that_stops_mid_load_stops_the_load_and_a_rerun_completes_exactly() {
    use common::{counts, put_all, sample};
    use cts::archive::Archive;
    use cts::load::{LoadOptions, load};
    use cts::sample::GenOptions;
    use cts::source::Source;
    use cts::storage::Location;
    use std::time::{Duration, Instant};

    let mut server = SeaweedFs::start();
    let mut options = server.options();
    // Fail fast once the server is gone: one retry, within two seconds.
    options.max_retries = Some(1);
    options.retry_timeout = Some(Duration::from_secs(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let archive_dir = dir.path().join("archive");
    let (generated, objects) = sample(&GenOptions {
        traces: 5_000,
        days: 2,
        end: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        seed: 21,
        ..Default::default()
    });
    assert_eq!(generated.distinct_traces, 5_000);
    block_on(put_all(
        &Location::parse("s3://faults/", &options).expect("bucket"),
        objects,
    ));

    let load_options = LoadOptions {
        threads: 2,
        chunk_json_bytes: 64 << 10,
        ..Default::default()
    };
    let (src_options, arch_dir, opts) =
        (options.clone(), archive_dir.clone(), load_options.clone());
    let running = std::thread::spawn(move || {
        block_on(async {
            let source = Source::open("s3://faults/", &src_options).expect("source");
            let archive = Archive::new(Location::local(&arch_dir).expect("archive"));
            load(&source, &archive, &opts).await
        })
    });
    // Stop the server as soon as the first chunk is in the archive.
    let started = Instant::now();
    let committed = || {
        std::fs::read_dir(archive_dir.join("traces"))
            .map(|days| {
                days.flatten()
                    .any(|d| std::fs::read_dir(d.path()).is_ok_and(|mut f| f.next().is_some()))
            })
            .unwrap_or(false)
    };
    while !committed() {
        assert!(
            !running.is_finished(),
            "the load ended before anything was committed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing committed in 120 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        !running.is_finished(),
        "the load finished before the server could be stopped"
    );
    server.stop();
    let stopped = running.join().expect("load thread");
    let err = match stopped {
        Ok(summary) => panic!("the load succeeded with the server down: {summary}"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.starts_with("read s3://faults/CloudTraces/eu-de/2024/06/"),
        "{err}"
    );

    let archive = Archive::new(Location::local(&archive_dir).expect("archive"));
    let (partial, distinct) = block_on(counts(&archive));
    assert_eq!(partial, distinct);
    assert!(partial > 0 && partial < 5_000, "{partial}");

    // The server returns: the next run completes with exact counts, and the one after is idle.
    server.restart();
    block_on(async {
        let source = Source::open("s3://faults/", &options).expect("source");
        let resumed = load(&source, &archive, &load_options)
            .await
            .expect("resumed load");
        assert!(resumed.is_clean(), "{resumed}");
        assert_eq!(resumed.traces_loaded as i64, 5_000 - partial, "{resumed}");
        assert_eq!(counts(&archive).await, (5_000, 5_000));
        let idle = load(&source, &archive, &load_options)
            .await
            .expect("idle load");
        assert_eq!((idle.files_loaded, idle.traces_loaded), (0, 0), "{idle}");
    });
}
