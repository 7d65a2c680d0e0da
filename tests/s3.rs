//! The loader against a real S3-compatible server (SeaweedFS) on loopback, started here:
//! bucket to bucket, and mixed with local folders.

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
}
