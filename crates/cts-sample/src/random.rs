//! Seeded random choices: chances, picks, weighted indices, hex and UUID strings, access keys.
//!
//! Every generator draws from a `StdRng` seeded from [`GenOptions::seed`](crate::GenOptions),
//! so the same options make the same choices.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 32 hex digits derived from `seed` and `salt` alone (default project and domain IDs).
pub(crate) fn derived_hex(seed: u64, salt: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt);
    format!("{:032x}", rng.random::<u128>())
}

/// `true` with probability `per_mille / 1000`.
pub(crate) fn chance(rng: &mut StdRng, per_mille: u32) -> bool {
    rng.random_range(0..1000) < per_mille
}

/// One of `items`, uniformly.
pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// 32 random hex digits (IAM-style IDs).
pub(crate) fn hex32(rng: &mut StdRng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

/// A random (v4) UUID, hyphenated.
pub(crate) fn uuid4(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>())
        .into_uuid()
        .to_string()
}

const AK_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A 20-character access key ID, temporary ones starting with `HSTA`.
pub(crate) fn access_key(rng: &mut StdRng, temporary: bool) -> String {
    let mut key = String::with_capacity(20);
    key.push_str(if temporary { "HSTA" } else { "" });
    while key.len() < 20 {
        key.push(AK_CHARS[rng.random_range(0..AK_CHARS.len())] as char);
    }
    key
}

/// Index into a table of cumulative weights.
pub(crate) fn weighted(rng: &mut StdRng, cumulative: &[u32]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0);
    if total == 0 {
        return 0;
    }
    let r = rng.random_range(0..total);
    cumulative.partition_point(|&c| c <= r)
}

/// Running sums of `weights`, for [`weighted`].
pub(crate) fn cumulate(weights: impl Iterator<Item = u32>) -> Vec<u32> {
    weights
        .scan(0u32, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect()
}
