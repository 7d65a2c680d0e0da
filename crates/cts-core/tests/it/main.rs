//! The data path's integration tests, in one binary: the golden decoding tests, bad input of
//! every kind, and the loader conformance suite on every storage backend.

mod bad_input;
mod conformance;
mod decode_golden;
