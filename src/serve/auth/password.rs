//! Password hashes of the identity endpoint's users: PBKDF2-HMAC-SHA256 ([`ring::pbkdf2`]) with a
//! random salt, written as `pbkdf2-sha256$ITERATIONS$SALT$HASH` (salt and hash in hex).
//! `cts hash-password` makes one; the configuration keeps only the hash.

use std::num::NonZeroU32;

use ring::pbkdf2;

/// Iterations of a new hash (OWASP's recommendation for PBKDF2-HMAC-SHA256).
pub const ITERATIONS: u32 = 600_000;
const SCHEME: &str = "pbkdf2-sha256";
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;

/// A parsed hash.
struct Hash {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len() / 2)
        .map(|i| {
            text.get(2 * i..2 * i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

fn parse(text: &str) -> Result<Hash, String> {
    let parts: Vec<&str> = text.split('$').collect();
    let [scheme, iterations, salt, hash] = parts.as_slice() else {
        return Err(format!("not {SCHEME}$ITERATIONS$SALT$HASH"));
    };
    if *scheme != SCHEME {
        return Err(format!("not a {SCHEME} hash"));
    }
    let iterations = iterations
        .parse::<NonZeroU32>()
        .map_err(|_| "the iterations are not a positive number".to_string())?;
    let salt = unhex(salt).ok_or("the salt is not hex")?;
    let hash = unhex(hash)
        .filter(|h| h.len() == HASH_BYTES)
        .ok_or("the hash is not 64 hex digits")?;
    Ok(Hash {
        iterations,
        salt,
        hash,
    })
}

/// A new hash of `password`.
pub fn hash(password: &str) -> crate::error::Result<String> {
    use ring::rand::SecureRandom;
    let mut salt = [0u8; SALT_BYTES];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| crate::error::Error::internal("no randomness for the salt"))?;
    Ok(hash_with(password, &salt, ITERATIONS))
}

fn hash_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let rounds = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    let mut out = [0u8; HASH_BYTES];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        password.as_bytes(),
        &mut out,
    );
    format!("{SCHEME}${rounds}${}${}", hex(salt), hex(&out))
}

/// Whether `text` is a hash this module can check (why not, if it is not).
pub fn check_format(text: &str) -> Result<(), String> {
    parse(text).map(|_| ())
}

/// Whether `password` is the one `hash` was made from (compared in constant time). A
/// malformed hash matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    let Ok(h) = parse(hash) else {
        return false;
    };
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        h.iterations,
        &h.salt,
        password.as_bytes(),
        &h.hash,
    )
    .is_ok()
}

/// Spend the time a check of a real hash takes, for a user who does not exist: how long a
/// failed sign-in takes says nothing about which user names exist.
pub fn verify_nobody(password: &str) {
    let mut out = [0u8; HASH_BYTES];
    let rounds = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &[0u8; SALT_BYTES],
        password.as_bytes(),
        &mut out,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only() -> crate::error::Result<()> {
        let h = hash("correct horse")?;
        assert!(h.starts_with("pbkdf2-sha256$600000$"), "{h}");
        assert_eq!(check_format(&h), Ok(()));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horse ", &h));
        assert!(!verify("", &h));
        // Salted: the same password hashes differently every time.
        assert_ne!(hash("correct horse")?, h);
        Ok(())
    }

    #[test]
    fn known_vector_and_malformed_hashes() {
        // RFC 7914 §11 (PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, first 32 bytes).
        let h = hash_with("passwd", b"salt", 1);
        assert_eq!(
            h,
            "pbkdf2-sha256$1$73616c74$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        assert!(verify("passwd", &h));
        for bad in [
            "",
            "plain-text-password",
            "pbkdf2-sha256$0$73616c74$55ac",
            "pbkdf2-sha256$1$zz$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
            "pbkdf2-sha256$1$73616c74$55ac",
            "bcrypt$1$73616c74$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
        ] {
            assert!(check_format(bad).is_err(), "{bad:?}");
            assert!(!verify("passwd", bad), "{bad:?}");
        }
    }
}
