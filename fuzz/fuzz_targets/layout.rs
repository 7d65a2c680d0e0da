//! Fuzz target `layout`: arbitrary UTF-8 strings as object keys. The checks are in
//! `checks/layout.rs`, shared with the tests of cts-core that replay the corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/layout.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_bytes(data));
