//! Export into a real S3-compatible server (SeaweedFS, started on 127.0.0.1 here), from an
//! archive in another bucket. (The loader's conformance suite on S3 is `cts-core`'s.)

use cts_core::source::Source;
use cts_core::storage::Location;
use cts_sample::GenOptions;
use cts_testkit::{SeaweedFs, block_on, put_all, run_load, sample};

#[test]
fn an_archive_in_a_bucket_exports_whole_days_into_another_bucket() {
    let server = SeaweedFs::start();
    let options = server.options();
    let (generated, objects) = sample(&GenOptions {
        traces: 2_000,
        days: 3,
        end: chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        seed: 7,
        ..Default::default()
    });
    assert_eq!(generated.distinct_traces, 2_000);
    block_on(async {
        put_all(
            &Location::parse("s3://cts-source/", &options).expect("bucket"),
            objects,
        )
        .await;
        let source = Source::open("s3://cts-source/", &options).expect("source");
        let archive = cts_core::store::archive::Archive::new(
            Location::parse("s3://cts-archive/archive", &options).expect("archive"),
        );
        let loaded = run_load(&source, &archive).await;
        assert_eq!(loaded.traces_loaded, 2_000, "{loaded}");
    });

    // Export from the bucket archive to another bucket: one whole file per day, every row.
    block_on(async {
        use cts::output::export::{ExportOptions, Partitioning, export};
        use object_store::ObjectStoreExt;
        let archive = cts_core::store::archive::Archive::new(
            Location::parse("s3://cts-archive/archive", &options).expect("archive"),
        );
        let ctx = cts::query::session(&archive).await.expect("session");
        let (total, _) = crate::common::counts(&archive).await;
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
                sign: None,
                merge_files: true,
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
