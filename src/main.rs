//! `cts`: the command line. A thin layer over the libraries (`src/cli/`): parse, call, print,
//! set the exit code.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    // Stops on purpose at the durable steps, in builds for the tests only (FAILPOINTS=...).
    let _failpoints = cts_core::failpoint::setup_from_env();
    // Few blocking threads: file reads, decoding and Parquet encoding run on them, and each
    // thread that allocates can take its own malloc arena.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Deep plans: a Ballista scheduler (`cts cluster scheduler`) decodes, plans and encodes a
    // report's plan recursively on a worker thread, more than the default 2 MiB in a debug build
    // (delivery_gaps overflowed it).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(2 * cores)
        .thread_stack_size(16 << 20)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        // The reader went away (`cts sql ... | head`): nothing more to say, as other tools do.
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::hints::message(&e));
            ExitCode::from(1)
        }
    }
}
