//! Fuzz target `decode`: arbitrary bytes as a trace file. The checks are in `checks/decode.rs`,
//! shared with the tests of cts-core that replay the corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/decode.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check(data));
