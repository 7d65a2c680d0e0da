//! Digest files in CTS's format (cts-spec.md §2.7): one per hour per service folder, listing the
//! hash of every trace file delivered in that hour, chained to the previous digest of the same
//! folder by its key, hash and signature, gzipped, and signed.
//!
//! The signature covers `digest_end_time + digest_object + hex(hash of the gzipped digest) +
//! previous_digest_signature`, with no separators; it is kept in the object's metadata
//! (`signature`, `signature-algorithm`), not in the file.

use std::io::{Read, Write};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::integrity::keys::{ALGORITHM, SigningKey};
use crate::storage::Location;

/// The format of `digest_start_time` and `digest_end_time`: `2017-03-28T01-09-17Z`.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H-%M-%SZ";

/// The metadata names the signature is kept under.
pub const SIGNATURE_METADATA: &str = "signature";
/// The metadata name of the signature's algorithm.
pub const ALGORITHM_METADATA: &str = "signature-algorithm";

/// Write a signed object (a digest, an export manifest) with its signature where CTS keeps a
/// digest's: object metadata [`SIGNATURE_METADATA`] and [`ALGORITHM_METADATA`] in a bucket, the
/// file beside it in a folder ([`Location::write_with_metadata`]).
pub async fn write_signed(
    location: &Location,
    path: &object_store::path::Path,
    bytes: Vec<u8>,
    signature: &str,
) -> Result<()> {
    location
        .write_with_metadata(
            path,
            bytes.into(),
            &[
                (SIGNATURE_METADATA, signature),
                (ALGORITHM_METADATA, ALGORITHM),
            ],
        )
        .await
}

/// The signature kept with an object, from its metadata as read.
pub fn signature_in(metadata: &[(String, String)]) -> Option<&str> {
    metadata
        .iter()
        .find(|(k, _)| k == SIGNATURE_METADATA)
        .map(|(_, v)| v.as_str())
}

/// A digest file's content, field for field and in CTS's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// The project that owns the trace files.
    pub project_id: String,
    /// Start of the hour covered (`TIME_FORMAT`).
    pub digest_start_time: String,
    /// End of the hour covered.
    pub digest_end_time: String,
    /// The bucket of this digest.
    pub digest_bucket: String,
    /// The key of this digest.
    pub digest_object: String,
    /// `SHA256withRSA`.
    pub digest_signature_algorithm: String,
    /// Whether this is the last digest before validation was turned off.
    pub digest_end: bool,
    /// The previous digest's bucket (empty in a chain's first digest).
    #[serde(default)]
    pub previous_digest_bucket: String,
    /// The previous digest's key.
    #[serde(default)]
    pub previous_digest_object: String,
    /// Hex hash of the previous digest's stored (gzipped) bytes.
    #[serde(default)]
    pub previous_digest_hash_value: String,
    /// `MD5` (or `SHA256`).
    #[serde(default)]
    pub previous_digest_hash_algorithm: String,
    /// The previous digest's signature, hex.
    #[serde(default)]
    pub previous_digest_signature: String,
    /// Whether the previous digest was an ending one.
    #[serde(default)]
    pub previous_digest_end: bool,
    /// The trace files delivered in the hour.
    #[serde(default)]
    pub log_files: Vec<LogFile>,
}

/// One trace file listed in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFile {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub object: String,
    /// Hex hash of its stored bytes (the OBS ETag, for MD5).
    pub log_hash_value: String,
    /// `MD5` (or `SHA256`).
    pub log_hash_algorithm: String,
}

/// What the next digest of a chain records about the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Bucket of the previous digest.
    pub bucket: String,
    /// Its key.
    pub object: String,
    /// Hex MD5 of its stored bytes.
    pub hash: String,
    /// Its signature, hex.
    pub signature: String,
    /// Whether it was an ending digest.
    pub end: bool,
}

/// A digest ready to store: its bytes, its signature, and the link the next digest records.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The gzipped JSON, as stored.
    pub bytes: Vec<u8>,
    /// The signature, hex, for the object's `signature` metadata.
    pub signature: String,
    /// What the next digest of the chain records about this one.
    pub link: Link,
}

/// The string a digest's signature covers.
pub fn signing_string(
    end_time: &str,
    object: &str,
    hash_hex: &str,
    previous_signature: &str,
) -> String {
    format!("{end_time}{object}{hash_hex}{previous_signature}")
}

/// Hex hash of `bytes` by a digest's algorithm name (`MD5`, `SHA256`/`SHA-256`); `None` for
/// an algorithm we do not know.
pub fn hash_hex(algorithm: &str, bytes: &[u8]) -> Option<String> {
    match algorithm.to_ascii_uppercase().as_str() {
        "MD5" => {
            use md5::Digest as _;
            Some(hex::encode(md5::Md5::digest(bytes)))
        }
        "SHA256" | "SHA-256" => Some(hex::encode(
            ring::digest::digest(&ring::digest::SHA256, bytes).as_ref(),
        )),
        _ => None,
    }
}

/// A time as digests write it.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// A digest time (`2017-03-28T01-09-17Z`); `None` when it is not one.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, TIME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

impl Digest {
    /// A digest of `[start, end)` for `object` in `bucket`, not yet chained or sealed.
    pub fn new(
        project_id: &str,
        bucket: &str,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        log_files: Vec<LogFile>,
    ) -> Digest {
        Digest {
            project_id: project_id.to_string(),
            digest_start_time: format_time(start),
            digest_end_time: format_time(end),
            digest_bucket: bucket.to_string(),
            digest_object: object.to_string(),
            digest_signature_algorithm: ALGORITHM.to_string(),
            digest_end: false,
            previous_digest_bucket: String::new(),
            previous_digest_object: String::new(),
            previous_digest_hash_value: String::new(),
            previous_digest_hash_algorithm: String::new(),
            previous_digest_signature: String::new(),
            previous_digest_end: false,
            log_files,
        }
    }

    /// Chain to `previous` (none: the first of a chain), gzip and sign.
    pub fn seal(mut self, previous: Option<&Link>, key: &SigningKey) -> Result<Sealed> {
        if let Some(p) = previous {
            self.previous_digest_bucket = p.bucket.clone();
            self.previous_digest_object = p.object.clone();
            self.previous_digest_hash_value = p.hash.clone();
            self.previous_digest_hash_algorithm = "MD5".to_string();
            self.previous_digest_signature = p.signature.clone();
            self.previous_digest_end = p.end;
        }
        let bytes = self.encode()?;
        let hash = hash_hex("MD5", &bytes).unwrap_or_default();
        let signature = key.sign(
            signing_string(
                &self.digest_end_time,
                &self.digest_object,
                &hash,
                &self.previous_digest_signature,
            )
            .as_bytes(),
        )?;
        Ok(Sealed {
            link: Link {
                bucket: self.digest_bucket.clone(),
                object: self.digest_object.clone(),
                hash,
                signature: signature.clone(),
                end: self.digest_end,
            },
            bytes,
            signature,
        })
    }

    /// The gzipped JSON (gzip header without a time: the same digest gives the same bytes).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(self).map_err(|e| Error::Internal(e.to_string()))?;
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(json.len() / 3 + 64),
            Default::default(),
        );
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map_err(|e| Error::Internal(format!("gzip: {e}")))
    }

    /// Read a digest file's stored bytes (gzipped, or plain JSON). The error says what is wrong
    /// (not gzip, not JSON, a field missing).
    pub fn decode(bytes: &[u8]) -> std::result::Result<Digest, String> {
        let mut json = Vec::new();
        let text: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(bytes)
                .read_to_end(&mut json)
                .map_err(|e| format!("not gzip: {e}"))?;
            &json
        } else {
            bytes
        };
        serde_json::from_slice(text).map_err(|e| format!("not a digest: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::keys::PublicKey;

    /// The example of cts-spec.md §2.7, verbatim but for the elided signature.
    const EXAMPLE: &str = r#"{"project_id":"3cfb09080bd944d0b4cdd72ef2685712","digest_start_time":"2017-03-28T01-09-17Z","digest_end_time":"2017-03-28T02-09-17Z",
 "digest_bucket":"bucket","digest_object":"CloudTraces/eu-de-01/2017/3/28/Digest/EVS/mylog_CloudTrace-Digest_eu-de-01/_2017-03-28T02-09-17Z.json.gz",
 "digest_signature_algorithm":"SHA256withRSA","digest_end":false,"previous_digest_bucket":"bucket",
 "previous_digest_object":"CloudTraces/eu-de-01/2017/3/28/Digest/EVS/mylog_CloudTrace-Digest_eu-de-01/_2017-03-28T01-09-17Z.json.gz",
 "previous_digest_hash_value":"5e08875de01b894eda5d1399d7b049fe","previous_digest_hash_algorithm":"MD5",
 "previous_digest_signature":"7af7cbef4f3c78eac0b4c8bc","previous_digest_end":false,
 "log_files":[{"bucket":"bucket","object":"CloudTraces/eu-de-01/2017/3/28/ECS/mylog_CloudTrace_eu-de-01/_2017-03-28T02-09-17Z_0faa86bc40071242.json.gz",
   "log_hash_value":"633a8256ae7996e21430c3a0e9897828","log_hash_algorithm":"MD5"}]}"#;

    #[test]
    fn the_documented_example_round_trips_field_for_field() {
        let digest = Digest::decode(EXAMPLE.as_bytes()).expect("the example is a digest");
        assert_eq!(digest.digest_end_time, "2017-03-28T02-09-17Z");
        assert_eq!(
            digest.previous_digest_hash_value,
            "5e08875de01b894eda5d1399d7b049fe"
        );
        assert_eq!(digest.log_files.len(), 1);
        assert_eq!(
            digest.log_files[0].log_hash_value,
            "633a8256ae7996e21430c3a0e9897828"
        );
        let ours: serde_json::Value =
            serde_json::from_slice(&serde_json::to_vec(&digest).unwrap_or_default())
                .unwrap_or_default();
        let theirs: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap_or_default();
        assert_eq!(ours, theirs);
        // The field order is CTS's.
        let text =
            String::from_utf8(serde_json::to_vec(&digest).unwrap_or_default()).unwrap_or_default();
        let order: Vec<usize> = [
            "project_id",
            "digest_start_time",
            "digest_end_time",
            "digest_bucket",
            "digest_object",
            "digest_signature_algorithm",
            "digest_end",
            "previous_digest_bucket",
            "previous_digest_object",
            "previous_digest_hash_value",
            "previous_digest_hash_algorithm",
            "previous_digest_signature",
            "previous_digest_end",
            "log_files",
        ]
        .iter()
        .map(|f| text.find(&format!("\"{f}\"")).unwrap_or(usize::MAX))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert_eq!(
            parse_time(&digest.digest_start_time)
                .map(format_time)
                .as_deref(),
            Some("2017-03-28T01-09-17Z")
        );
        assert_eq!(
            signing_string(
                &digest.digest_end_time,
                &digest.digest_object,
                "e280d203da44015e0eda3faa7a2ec961",
                "ab"
            ),
            "2017-03-28T02-09-17ZCloudTraces/eu-de-01/2017/3/28/Digest/EVS/mylog_CloudTrace-Digest_eu-de-01/_2017-03-28T02-09-17Z.json.gze280d203da44015e0eda3faa7a2ec961ab"
        );
    }

    #[test]
    fn a_sealed_chain_records_each_predecessor_and_verifies() -> Result<()> {
        let key = SigningKey::sample()?;
        let t = |h: u32| {
            DateTime::<Utc>::from_timestamp(1_700_000_000 + i64::from(h) * 3600, 0)
                .unwrap_or_default()
        };
        let first = Digest::new("p", "b", "d/1", t(0), t(1), vec![]).seal(None, &key)?;
        let second =
            Digest::new("p", "b", "d/2", t(1), t(2), vec![]).seal(Some(&first.link), &key)?;
        let decoded = Digest::decode(&second.bytes).map_err(Error::InvalidInput)?;
        assert_eq!(decoded.previous_digest_object, "d/1");
        assert_eq!(
            decoded.previous_digest_hash_value,
            hash_hex("MD5", &first.bytes).unwrap_or_default()
        );
        assert_eq!(decoded.previous_digest_signature, first.signature);
        let public = PublicKey::parse(key.public_key().to_pem())?;
        let signed = signing_string(
            &decoded.digest_end_time,
            "d/2",
            &second.link.hash,
            &first.signature,
        );
        assert_eq!(public.verify(signed.as_bytes(), &second.signature), Ok(()));
        assert_eq!(
            Digest::decode(b"[1]")
                .map(|_| ())
                .map_err(|e| e.starts_with("not a digest")),
            Err(true)
        );
        Ok(())
    }
}
