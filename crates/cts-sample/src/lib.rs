//! Sample data: a realistic, deterministic CTS bucket for the quick start, tests and benchmarks.
//!
//! [`generate`] writes what a `system` tracker would have delivered to OBS over a few days
//! (cts-spec.md §2): one trace file per service and 5-minute delivery cycle, each a single JSON
//! array of traces, gzip-compressed or not, with at-least-once re-deliveries, hourly digest files
//! (§2.7) and, on request, stray objects and broken trace files for the loader to cope with.
//!
//! The traces carry every shape a decoder meets in real buckets (§1.4): `user` as an object or a
//! JSON-encoded string, `request`/`response` as strings, objects, `""` or absent, `trace_status`
//! instead of (or next to) `trace_rating`, `code` and `time` as numbers or strings, newer fields on
//! part of the traces, unknown extra fields, and varied key order. The operations are the ones
//! compliance reports look for (cts-spec.md §6.2, compliance.md), weighted so routine operations
//! dominate and sensitive ones are rare but always present (every catalogued operation appears at
//! least once whenever the bucket has at least as many traces as the catalogue has operations).
//!
//! Everything derives from [`GenOptions::seed`]: the same options give byte-identical objects,
//! handed to the sink in the same order.
//!
//! ```
//! use cts_sample::{GenOptions, generate_to_dir};
//!
//! let opts = GenOptions { traces: 5_000, days: 2, ..GenOptions::seeded(7) };
//! let dir = std::env::temp_dir().join("cts-sample-doc");
//! let summary = generate_to_dir(&opts, &dir)?;
//! assert_eq!(summary.distinct_traces, 5_000);
//! println!("{} trace files, {} distinct traces", summary.trace_files, summary.distinct_traces);
//! # Ok::<(), std::io::Error>(())
//! ```

// The modules are layers; each uses only those of the layers below it:
//   bodies     the content of each trace (fields, `user`, request/response/message): methods of
//              the `Generator`
//   generator  the `Generator`: trace files, re-deliveries, digests, stray and broken objects
//   world      the account: operators and resource pools
//   options    `GenOptions`, `SAMPLE_BUCKET`
//   catalogue  services and operations;  json  the order-keeping JSON value;  random  choices
mod bodies;
mod catalogue;
mod generator;
mod json;
mod options;
mod random;
mod world;

#[cfg(test)]
mod tests;

use std::io;
use std::path::Path;

use crate::generator::Generator;

pub use crate::generator::GenSummary;
pub use crate::options::{GenOptions, SAMPLE_BUCKET};

/// Generate a bucket. `sink(key, bytes)` is called once per object, with keys relative to the
/// bucket root, in a deterministic order. The same options give byte-identical output.
///
/// Traces are produced day by day and cycle by cycle, so memory stays bounded by one day.
/// Errors: invalid options (`InvalidInput`) and whatever the sink returns.
pub fn generate(
    opts: &GenOptions,
    sink: &mut dyn FnMut(&str, Vec<u8>) -> io::Result<()>,
) -> io::Result<GenSummary> {
    Generator::new(opts)?.run(sink)
}

/// Convenience: write into a local folder (creating parent folders) and return the summary.
pub fn generate_to_dir(opts: &GenOptions, dir: &Path) -> io::Result<GenSummary> {
    generate(opts, &mut |key, bytes| {
        let mut path = dir.to_path_buf();
        for part in key.split('/').filter(|p| !p.is_empty()) {
            path.push(part);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)
    })
}
