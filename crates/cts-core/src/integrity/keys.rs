//! The keys that sign and check digest files: SHA256withRSA (RSASSA-PKCS1-v1_5 with SHA-256),
//! signatures as lower-case hex, as CTS writes them (cts-spec.md §2.7).
//!
//! ring does the signature arithmetic (constant time); the `rsa` crate generates key pairs and
//! reads key files (PKCS#8 PEM for private keys; SubjectPublicKeyInfo as PEM or as bare base64
//! DER for public keys, the form CTS publishes its key in).

use ring::rand::SystemRandom;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::error::{Error, Result};

/// The signature algorithm of every digest: `digest_signature_algorithm` and the object
/// metadata `signature-algorithm`.
pub const ALGORITHM: &str = "SHA256withRSA";

/// CTS's published public key (cts-spec.md §2.7): the key `cts verify` checks with unless told
/// otherwise.
pub const CTS_PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsjQDkl8COPRhOCvm7ZI8sYZ20ojl+ay/gwRSk9q0gkY3pP0RrAhSsEzgYdYjaMCqixkmbpt4AH9AROJU4drnoCAZSMqRxgv0bGC9kVd4q95l4zibswAsksjuNQo/XoJjBl+rRAqCa+1uetgVU4k4Yx8RryYxYx/tImvMe/O4mGAIaTf+rsqt3VXR1QIj5lYR/nx41BEgC/Kb1elYAfDaaab8WS5INRprj7qdu6oAo4Ug47WqbecvEtG3JRpj5+oqLyW41Fvse3osC0h5DQdxTt4x00/rVZ+gH7Kua00y7gC8YOxFVpYbfn/oW61PUDeHG/N9hUjOrIgDDJpD2YbCIQIDAQAB";

/// The private key of sample buckets (`cts gen`). It is published here, so it proves nothing
/// about who wrote a file: it only lets the quick start show a chain that verifies.
pub const SAMPLE_PRIVATE_KEY: &str = include_str!("sample-key.pem");

/// A key that checks signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The key as PKCS#1 `RSAPublicKey` DER, the form ring takes.
    pkcs1: Vec<u8>,
    /// The key as SubjectPublicKeyInfo PEM, the form people exchange.
    pem: String,
}

impl PublicKey {
    /// CTS's own key.
    pub fn cts() -> Result<PublicKey> {
        PublicKey::parse(CTS_PUBLIC_KEY).map_err(|e| Error::Internal(format!("CTS's key: {e}")))
    }

    /// A SubjectPublicKeyInfo as PEM (`-----BEGIN PUBLIC KEY-----`) or as bare base64 DER.
    pub fn parse(text: &str) -> Result<PublicKey> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN") {
            RsaPublicKey::from_public_key_pem(text).map_err(|e| {
                Error::InvalidInput(format!("not an RSA public key in PEM form: {e}"))
            })?
        } else {
            let body: String = text.split_whitespace().collect();
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap_or(""))
                .collect();
            let pem = format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                lines.join("\n")
            );
            RsaPublicKey::from_public_key_pem(&pem).map_err(|e| {
                Error::InvalidInput(format!(
                    "not an RSA public key (PEM, or base64 of SubjectPublicKeyInfo DER): {e}"
                ))
            })?
        };
        PublicKey::from_rsa(&key)
    }

    /// Read a key file (see [`PublicKey::parse`]); errors name the file.
    pub fn read(path: &std::path::Path) -> Result<PublicKey> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read key", path, e))?;
        PublicKey::parse(&text)
            .map_err(|e| Error::InvalidInput(format!("public key {}: {e}", path.display())))
    }

    fn from_rsa(key: &RsaPublicKey) -> Result<PublicKey> {
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| Error::Internal(format!("public key to DER: {e}")))?
            .as_bytes()
            .to_vec();
        let pem = key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Internal(format!("public key to PEM: {e}")))?;
        Ok(PublicKey { pkcs1, pem })
    }

    /// The key as SubjectPublicKeyInfo PEM.
    pub fn to_pem(&self) -> &str {
        &self.pem
    }

    /// Check a hex `signature` of `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<(), SignatureError> {
        let bytes = hex::decode(signature.trim()).map_err(|_| SignatureError::NotHex)?;
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.pkcs1)
            .verify(message, &bytes)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// Why a signature did not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature is not hex.
    #[error("the signature is not hex")]
    NotHex,
    /// The signature is not the key's signature of the message.
    #[error("the signature does not match (altered, or signed with another key)")]
    Mismatch,
}

/// A key that signs digests.
#[derive(Debug)]
pub struct SigningKey {
    pair: RsaKeyPair,
    public: PublicKey,
}

impl SigningKey {
    /// A private key as PEM: PKCS#8 (`-----BEGIN PRIVATE KEY-----`) or PKCS#1
    /// (`-----BEGIN RSA PRIVATE KEY-----`).
    pub fn parse(pem: &str) -> Result<SigningKey> {
        let pem = pem.trim();
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| {
                Error::InvalidInput(format!(
                    "not an RSA private key in PEM form (PKCS#8 or PKCS#1): {e}"
                ))
            })?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| Error::Internal(format!("private key to DER: {e}")))?;
        let pair = RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| Error::InvalidInput(format!("RSA private key not usable: {e}")))?;
        let public = PublicKey::from_rsa(&key.to_public_key())?;
        Ok(SigningKey { pair, public })
    }

    /// Read a key file (see [`SigningKey::parse`]); errors name the file.
    pub fn read(path: &std::path::Path) -> Result<SigningKey> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read key", path, e))?;
        SigningKey::parse(&text)
            .map_err(|e| Error::InvalidInput(format!("signing key {}: {e}", path.display())))
    }

    /// The key of sample buckets ([`SAMPLE_PRIVATE_KEY`]).
    pub fn sample() -> Result<SigningKey> {
        SigningKey::parse(SAMPLE_PRIVATE_KEY)
            .map_err(|e| Error::Internal(format!("the sample key: {e}")))
    }

    /// A new 2048-bit key pair: (private key as PKCS#8 PEM, public key as SPKI PEM).
    pub fn generate() -> Result<(String, String)> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| Error::Internal(format!("generating an RSA key: {e}")))?;
        let private = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Internal(format!("private key to PEM: {e}")))?;
        let public = PublicKey::from_rsa(&key.to_public_key())?;
        Ok((private.to_string(), public.pem))
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Sign `message`: the signature as lower-case hex. PKCS#1 v1.5 is deterministic: the same
    /// key and message give the same signature.
    pub fn sign(&self, message: &[u8]) -> Result<String> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|e| Error::Internal(format!("signing: {e}")))?;
        Ok(hex::encode(signature))
    }
}

/// The name of a data directory's signing key (PKCS#8 PEM, mode 600).
pub const DATA_DIR_KEY: &str = "signing-key.pem";
/// The name of its public half, beside it, for whoever verifies.
pub const DATA_DIR_PUBLIC_KEY: &str = "signing-key.pub.pem";

/// The key `cts serve` signs digests and `cts export --sign` signs manifests with: the file
/// `configured` when given, else [`DATA_DIR_KEY`] in `data_dir`, made on first use with its public
/// half beside it ([`DATA_DIR_PUBLIC_KEY`]). Returns the key, and the public half's path when
/// it was made now.
pub fn data_dir_key(
    configured: Option<&std::path::Path>,
    data_dir: &std::path::Path,
) -> Result<(SigningKey, Option<std::path::PathBuf>)> {
    let Some(path) = configured else {
        let path = data_dir.join(DATA_DIR_KEY);
        if !path.exists() {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| Error::io("create folder", data_dir, e))?;
            let (private, _) = SigningKey::generate()?;
            match write_private_key(&path, &private) {
                Ok(()) => {}
                // Made meanwhile by another process (cts serve and cts export at once): theirs.
                Err(_) if path.exists() => {}
                Err(e) => return Err(e),
            }
        }
        let key = SigningKey::read(&path)?;
        // Written after the private half: made again if a crash came in between.
        let public_path = data_dir.join(DATA_DIR_PUBLIC_KEY);
        let mut made = None;
        if !public_path.exists() {
            crate::storage::fs::write_atomic(&public_path, key.public_key().to_pem().as_bytes())?;
            made = Some(public_path);
        }
        return Ok((key, made));
    };
    Ok((SigningKey::read(path)?, None))
}

/// Write a private key to a new file, readable by its owner only; an existing file is not
/// overwritten.
pub fn write_private_key(path: &std::path::Path, pem: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(pem.as_bytes()).and_then(|()| f.sync_all()))
        .map_err(|e| Error::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_check_with_the_public_half_only() -> Result<()> {
        let key = SigningKey::sample()?;
        let signature = key.sign(b"2017-03-28T02-09-17Zobjectabc")?;
        assert_eq!(signature.len(), 512);
        assert_eq!(signature, key.sign(b"2017-03-28T02-09-17Zobjectabc")?);
        let public = PublicKey::parse(key.public_key().to_pem())?;
        assert_eq!(
            public.verify(b"2017-03-28T02-09-17Zobjectabc", &signature),
            Ok(())
        );
        assert_eq!(
            public.verify(b"2017-03-28T02-09-17Zobjectabd", &signature),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(public.verify(b"x", "not hex"), Err(SignatureError::NotHex));
        // CTS's key is another key.
        assert_eq!(
            PublicKey::cts()?.verify(b"2017-03-28T02-09-17Zobjectabc", &signature),
            Err(SignatureError::Mismatch)
        );
        Ok(())
    }

    #[test]
    fn keys_are_read_as_pem_or_base64_der_and_anything_else_is_named() -> Result<()> {
        let cts = PublicKey::cts()?;
        assert!(cts.to_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::parse(cts.to_pem())?, cts);
        let err = PublicKey::parse("hello").map(|_| ());
        assert!(
            matches!(&err, Err(Error::InvalidInput(m)) if m.starts_with("not an RSA public key")),
            "{err:?}"
        );
        let err = SigningKey::parse(cts.to_pem()).map(|_| ());
        assert!(
            matches!(&err, Err(Error::InvalidInput(m)) if m.starts_with("not an RSA private key")),
            "{err:?}"
        );
        Ok(())
    }
}
