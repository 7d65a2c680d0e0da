//! The fuzz targets' corpora and regressions replayed as ordinary tests, with the targets' own
//! checks (`fuzz/checks/`): every input the fuzzer kept, and every crash it once found, must
//! pass on every change, without a fuzz build.

use std::path::{Path, PathBuf};

#[path = "../../../../fuzz/checks/decode.rs"]
#[allow(unreachable_pub, clippy::unwrap_used)]
mod decode;
#[path = "../../../../fuzz/checks/layout.rs"]
#[allow(unreachable_pub, clippy::unwrap_used)]
mod layout;

/// The files of `fuzz/<folder>/<target>`, sorted.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(folder)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Run `check` over every input of `target`, naming the input that fails.
fn replay(target: &str, check: fn(&[u8]), at_least: usize) {
    let mut count = 0;
    for folder in ["corpus", "regressions"] {
        for path in inputs(folder, target) {
            let data = std::fs::read(&path).expect("read input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{}: the check failed", path.display());
            count += 1;
        }
    }
    assert!(count >= at_least, "{target}: only {count} inputs");
}

#[test]
fn the_decode_corpus_and_regressions_pass_the_decode_checks() {
    replay("decode", decode::check, 500);
}

#[test]
fn the_layout_corpus_and_regressions_pass_the_layout_checks() {
    replay("layout", layout::check_bytes, 300);
}
