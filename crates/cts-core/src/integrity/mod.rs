//! Trace file integrity (cts-spec.md §2.7): the digest files CTS writes every hour, the keys
//! that sign them, and the walk that verifies a bucket against them.
//!
//! | part | module |
//! |---|---|
//! | SHA256withRSA keys: CTS's, ours, the sample's | [`keys`] |
//! | a digest file: its fields, its chain link, its signing string, sealing | [`digest`] |
//! | verifying a bucket or folder: chains, signatures, trace file hashes | [`mod@verify`] |
//! | signed exports: the manifest of exported files, and its check | [`export`] |
//! | what verification finds, object by object | [`findings`] |
//!
//! The digest files of a local folder keep their signature beside them
//! ([`Location::write_with_metadata`](crate::storage::Location::write_with_metadata)).

pub mod digest;
pub mod export;
pub mod findings;
pub mod keys;
pub mod verify;

pub use digest::{Digest, Link, LogFile, Sealed};
pub use export::{EXPORT_MANIFEST, ExportManifest, ExportedFile};
pub use findings::{Finding, Folder, Outcome, Verification};
pub use keys::{PublicKey, SigningKey};
pub use verify::{Chains, VerifyOptions, verify};
