//! Typical questions over an archive, timed in-process: `cargo bench --bench queries -- ARCHIVE
//! QUERIES [RUNS]`, where QUERIES is a file of `name|SQL` lines. Prints `name rows median_ms
//! min_ms` per query, after one warm-up run. `benches/queries.sh` runs it beside DuckDB.

use std::time::Instant;

use cts_core::storage::Location;
use cts_core::store::archive::Archive;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (Some(archive), Some(queries)) = (args.first(), args.get(1)) else {
        // Also how `cargo test --all-targets` runs it: nothing to time, not a failure.
        eprintln!("usage: queries ARCHIVE_DIR QUERIES_FILE [RUNS] (benches/queries.sh runs it)");
        return;
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let text = std::fs::read_to_string(queries).unwrap_or_else(|e| {
        eprintln!("{queries}: {e}");
        std::process::exit(2)
    });
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| {
        eprintln!("runtime: {e}");
        std::process::exit(2)
    });
    runtime.block_on(async {
        let location = Location::local(std::path::Path::new(archive)).unwrap_or_else(|e| {
            eprintln!("{archive}: {e}");
            std::process::exit(2)
        });
        let ctx = cts::query::session(&Archive::new(location))
            .await
            .unwrap_or_else(|e| {
                eprintln!("session: {e}");
                std::process::exit(2)
            });
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Some((name, sql)) = line.split_once('|') else {
                continue;
            };
            let mut times = Vec::new();
            let mut rows = 0;
            for _ in 0..=runs {
                let started = Instant::now();
                let result = async { ctx.sql(sql).await?.collect().await }.await;
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                match result {
                    Ok(batches) => rows = batches.iter().map(|b| b.num_rows()).sum::<usize>(),
                    Err(e) => {
                        eprintln!("{name}: {e}");
                        std::process::exit(1);
                    }
                }
                times.push(elapsed);
            }
            times.remove(0);
            times.sort_by(f64::total_cmp);
            println!(
                "{name} {rows} {:.1} {:.1}",
                times[times.len() / 2],
                times[0]
            );
        }
    });
}
