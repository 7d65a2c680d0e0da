//! The data path's integration tests, in one binary: the golden decoding tests, bad input of
//! every kind, the loader conformance suite on every storage backend, and the fuzz corpora
//! replayed.

mod bad_input;
mod conformance;
mod decode_golden;
mod fuzz_corpus;
