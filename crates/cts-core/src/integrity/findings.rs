//! What verification finds: one [`Outcome`] per object, each a [`Finding`], gathered in a
//! [`Verification`]; shared by the walk of digest chains ([`mod@super::verify`]) and the check of
//! signed exports ([`super::export`]).

use std::collections::BTreeMap;

use crate::integrity::keys::SignatureError;

/// What was found about one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finding {
    /// A trace file whose bytes match its digest.
    Verified,
    /// A trace file whose bytes do not match its digest.
    Modified,
    /// A trace file a digest lists that is not in the bucket.
    Deleted,
    /// A trace file that no digest lists.
    NotCovered,
    /// A trace file newer than its tracker's newest digest (its hour's digest is still to come).
    Pending,
    /// A digest whose signature and place in its chain check out.
    DigestVerified,
    /// A digest its successor names that is not in the bucket.
    DigestMissing,
    /// A digest whose bytes are not what its successor recorded, or stored under another key.
    DigestModified,
    /// A digest that is not a digest (not gzip, not JSON, fields missing).
    DigestUnreadable,
    /// A digest whose signature is missing, not hex, or not the key's.
    SignatureInvalid,
    /// A digest that no later digest follows, though it is not the newest of its folder.
    ChainBroken,
    /// A chain that starts again (no previous digest) after older digests of its folder.
    ChainRestarted,
    /// A chain that names a digest it already passed.
    ChainLoop,
    /// An export manifest whose signature checks out.
    ManifestVerified,
    /// An export manifest that is not one (not JSON, fields missing, another format).
    ManifestUnreadable,
}

impl Finding {
    /// Its name in reports: `verified`, `modified`, `deleted`, `not covered`, ...
    pub fn name(self) -> &'static str {
        match self {
            Finding::Verified => "verified",
            Finding::Modified => "modified",
            Finding::Deleted => "deleted",
            Finding::NotCovered => "not covered",
            Finding::Pending => "pending",
            Finding::DigestVerified => "digest verified",
            Finding::DigestMissing => "digest missing",
            Finding::DigestModified => "digest modified",
            Finding::DigestUnreadable => "digest unreadable",
            Finding::SignatureInvalid => "signature invalid",
            Finding::ChainBroken => "chain broken",
            Finding::ChainRestarted => "chain restarted",
            Finding::ChainLoop => "chain loop",
            Finding::ManifestVerified => "manifest verified",
            Finding::ManifestUnreadable => "manifest unreadable",
        }
    }

    /// Every finding, in report order.
    pub const ALL: [Finding; 15] = [
        Finding::Verified,
        Finding::Modified,
        Finding::Deleted,
        Finding::NotCovered,
        Finding::Pending,
        Finding::DigestVerified,
        Finding::DigestMissing,
        Finding::DigestModified,
        Finding::DigestUnreadable,
        Finding::SignatureInvalid,
        Finding::ChainBroken,
        Finding::ChainRestarted,
        Finding::ChainLoop,
        Finding::ManifestVerified,
        Finding::ManifestUnreadable,
    ];

    /// Whether it fails verification.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            Finding::Verified
                | Finding::Pending
                | Finding::DigestVerified
                | Finding::ManifestVerified
        )
    }
}

/// One finding about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What was found.
    pub finding: Finding,
    /// The folder: region, tracker, service (as in the keys; `""` where a key has none).
    pub folder: Folder,
    /// The hour, as the end of it in digest form (`2024-06-19T07-00-00Z`).
    pub hour: String,
    /// The object's key.
    pub object: String,
    /// Why, for problems.
    pub detail: String,
}

/// A tracker's folder for one service: where one digest chain lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Folder {
    /// Region.
    pub region: String,
    /// Tracker.
    pub tracker: String,
    /// Service (`""` when the tracker does not sort by service).
    pub service: String,
}

/// Everything found, object by object.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Sorted by folder, hour, finding and object.
    pub outcomes: Vec<Outcome>,
}

impl Verification {
    /// How many objects had `finding`.
    pub fn count(&self, finding: Finding) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.finding == finding)
            .count()
    }

    /// Whether everything verified (nothing but verified and pending), and there was something
    /// to verify: a folder with neither digests, trace files nor an export manifest (an export
    /// whose manifest was removed) does not pass.
    pub fn passed(&self) -> bool {
        !self.outcomes.is_empty() && !self.outcomes.iter().any(|o| o.finding.is_problem())
    }

    /// The problems only.
    pub fn problems(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.finding.is_problem())
    }

    /// Counts per folder and hour, in order.
    pub fn by_hour(&self) -> BTreeMap<(Folder, String), BTreeMap<Finding, usize>> {
        let mut hours: BTreeMap<(Folder, String), BTreeMap<Finding, usize>> = BTreeMap::new();
        for o in &self.outcomes {
            *hours
                .entry((o.folder.clone(), o.hour.clone()))
                .or_default()
                .entry(o.finding)
                .or_default() += 1;
        }
        hours
    }

    /// One line: `1,234 trace files verified, 1 modified, ...; 48 digests verified, ...`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Finding::ALL
            .iter()
            .filter_map(|&f| {
                let n = self.count(f);
                let always = match f {
                    Finding::Verified => true,
                    Finding::DigestVerified => self.count(Finding::ManifestVerified) == 0,
                    _ => false,
                };
                (n > 0 || always).then(|| format!("{n} {}", f.name()))
            })
            .collect();
        if self.outcomes.is_empty() {
            return "FAILED: nothing to verify (no digest, no trace file, no export manifest)"
                .to_string();
        }
        format!(
            "{}: {}",
            if self.passed() { "PASSED" } else { "FAILED" },
            parts.join(", ")
        )
    }
}

/// Why a signature did not check, for a finding's detail.
pub(crate) fn signature_detail(e: SignatureError, which: &str) -> String {
    match e {
        SignatureError::NotHex => format!("{which} is not hex"),
        SignatureError::Mismatch => format!(
            "{which} does not match the digest (altered, or signed with another key than the one given)"
        ),
    }
}
