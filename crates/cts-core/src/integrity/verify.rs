//! Verifying a bucket or folder of trace files against its digest chains (cts-spec.md §2.7).
//!
//! Every digest folder (`.../<tracker>/Digest/<service>/`) holds one chain. Each chain is walked
//! from its newest digest to its oldest: the newest digest's signature is checked with the
//! signature stored beside it (object metadata); every older digest is checked with what its
//! successor recorded (its hash and its signature). Every trace file a checked digest lists is
//! hashed and compared; every trace file no digest lists is reported as not covered (or as
//! pending, when it is newer than its tracker's newest digest: its hour has not closed yet).
//!
//! Nothing stops the walk: a digest that cannot be read, a signature that is not hex, a chain
//! that loops are each reported as what they are, and the rest is verified.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use chrono::{DateTime, Duration, DurationRound, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectMeta;
use object_store::path::Path;

use crate::error::{Error, Result};
use crate::integrity::digest::{
    Digest, LogFile, format_time, hash_hex, parse_time, signature_in, signing_string,
};
use crate::integrity::export::{EXPORT_MANIFEST, verify_export};
use crate::integrity::findings::{Finding, Folder, Outcome, Verification, signature_detail};
use crate::integrity::keys::PublicKey;
use crate::source::layout::{ObjectKind, ROOT_FOLDER, TraceFileKey, classify};
use crate::storage::{Location, METADATA_SUFFIX};

/// What to verify, and with which key.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The key digests are signed with (CTS's, unless the bucket was written by someone else).
    pub public_key: PublicKey,
    /// Only trace files and digests of hours ending after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only trace files and digests of hours starting before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only this tracker's folders.
    pub tracker: Option<String>,
    /// Only this service's folders.
    pub service: Option<String>,
    /// Objects read at once.
    pub parallelism: usize,
    /// The key export manifests are signed with (`cts export --sign`), when there is one.
    pub export_key: Option<PublicKey>,
}

/// A digest as read.
struct Stored {
    key: String,
    folder: Folder,
    bytes: Bytes,
    /// The signature kept with it, if any.
    signature: Option<String>,
    /// The content, or why it cannot be read.
    digest: std::result::Result<Digest, String>,
}

impl Stored {
    fn end(&self) -> Option<DateTime<Utc>> {
        self.digest
            .as_ref()
            .ok()
            .and_then(|d| parse_time(&d.digest_end_time))
    }

    fn hour(&self) -> String {
        match &self.digest {
            Ok(d) => d.digest_end_time.clone(),
            Err(_) => String::new(),
        }
    }
}

/// A trace file in the listing.
struct TraceObject {
    meta: ObjectMeta,
    folder: Folder,
    delivered: Option<DateTime<Utc>>,
}

/// Verify every digest chain and every trace file under `location`; or, when it holds an export
/// manifest ([`EXPORT_MANIFEST`]), the export against it.
pub async fn verify(location: &Location, options: &VerifyOptions) -> Result<Verification> {
    let objects = location.list().await?;
    let manifest = location.path(EXPORT_MANIFEST);
    if objects.iter().any(|o| o.location == manifest) {
        let keys = objects
            .into_iter()
            .map(|o| o.location.as_ref().to_string())
            .collect();
        let mut outcomes = verify_export(
            location,
            keys,
            options.export_key.as_ref(),
            options.parallelism,
        )
        .await?;
        outcomes.sort_by(|a, b| (a.finding, &a.object).cmp(&(b.finding, &b.object)));
        return Ok(Verification { outcomes });
    }
    let mut traces: HashMap<String, TraceObject> = HashMap::new();
    let mut digest_keys = Vec::new();
    for meta in objects {
        let key = meta.location.as_ref().to_string();
        if key.ends_with(METADATA_SUFFIX) {
            continue;
        }
        match classify(&key) {
            ObjectKind::TraceFile(k) => {
                let folder = Folder::of(&k);
                if options.wants_folder(&folder) {
                    traces.insert(
                        key,
                        TraceObject {
                            meta,
                            folder,
                            delivered: k.delivered_at,
                        },
                    );
                }
            }
            ObjectKind::Digest => digest_keys.push(key),
            ObjectKind::Other => {}
        }
    }
    let chains = Chains::walk(location, options, digest_keys).await?;
    let mut outcomes = check_trace_files(location, options, &traces, &chains).await?;
    outcomes.extend(chains.outcomes);
    outcomes.sort_by(|a, b| {
        (&a.folder, &a.hour, a.finding, &a.object).cmp(&(&b.folder, &b.hour, b.finding, &b.object))
    });
    Ok(Verification { outcomes })
}

/// A trace file a digest lists.
#[derive(Debug, Clone)]
struct Listed {
    folder: Folder,
    /// The hour of the digest that lists it.
    hour: String,
    /// The digest that lists it.
    digest: String,
    file: LogFile,
}

/// The digest chains of a bucket, walked: what each digest was found to be, and the trace files
/// the digests list, against which each trace file is then checked
/// ([`Chains::check_file`]).
#[derive(Debug, Default)]
pub struct Chains {
    /// What was found about each digest (and each digest missing from a chain).
    pub outcomes: Vec<Outcome>,
    /// The trace files the digests in range list, by key.
    listed: HashMap<String, Listed>,
    /// The end of the newest digest of each region and tracker, and whether it ended its chain
    /// (`digest_end`: validation was turned off).
    newest: HashMap<(String, String), (DateTime<Utc>, bool)>,
    /// The digests whose own check failed, with what was found.
    failed: HashMap<String, Finding>,
}

impl Chains {
    /// Read the digests `digest_keys` of `location` (those of the folders `options` asks for)
    /// and walk each folder's chain, newest to oldest.
    pub async fn walk(
        location: &Location,
        options: &VerifyOptions,
        digest_keys: Vec<String>,
    ) -> Result<Chains> {
        let wanted: Vec<(String, Folder)> = digest_keys
            .into_iter()
            .filter(|k| !k.ends_with(METADATA_SUFFIX))
            .map(|k| {
                let folder = digest_folder(&k);
                (k, folder)
            })
            .filter(|(_, folder)| options.wants_folder(folder))
            .collect();
        // Every digest, read at once (they are small: one per folder and hour).
        let stored: Vec<Stored> = futures::stream::iter(wanted)
            .map(|(key, folder)| async move { read_digest(location, key, folder).await })
            .buffer_unordered(options.parallelism.max(1))
            .try_filter_map(|d| async move { Ok(d) })
            .try_collect()
            .await?;
        let mut digests: HashMap<String, Stored> =
            stored.into_iter().map(|d| (d.key.clone(), d)).collect();

        let mut outcomes = Vec::new();
        let mut listed = HashMap::new();
        let mut groups: BTreeMap<Folder, Vec<String>> = BTreeMap::new();
        for d in digests.values() {
            groups
                .entry(d.folder.clone())
                .or_default()
                .push(d.key.clone());
        }
        for (folder, mut keys) in groups {
            // Newest first (by the time the digest gives, else by key).
            keys.sort_by(|a, b| {
                let (da, db) = (&digests[a], &digests[b]);
                db.end().cmp(&da.end()).then_with(|| b.cmp(a))
            });
            let mut chain = Chain {
                location,
                options,
                folder: &folder,
                outcomes: &mut outcomes,
                listed: &mut listed,
                visited: HashSet::new(),
            };
            chain.walk(&keys, &mut digests).await?;
        }

        let mut newest: HashMap<(String, String), (DateTime<Utc>, bool)> = HashMap::new();
        for d in digests.values() {
            if let (Some(end), Ok(digest)) = (d.end(), &d.digest) {
                let this = (end, digest.digest_end);
                let e = newest
                    .entry((d.folder.region.clone(), d.folder.tracker.clone()))
                    .or_insert(this);
                *e = (*e).max(this);
            }
        }
        let failed = outcomes
            .iter()
            .filter(|o: &&Outcome| o.finding.is_problem())
            .map(|o| (o.object.clone(), o.finding))
            .collect();
        Ok(Chains {
            outcomes,
            listed,
            newest,
            failed,
        })
    }

    /// What a trace file is, given its stored bytes (`None`: not in the bucket) and ETag:
    /// [`Finding::Verified`] or [`Finding::Modified`] when a digest lists it (or
    /// [`Finding::Deleted`]; bytes that match a digest which itself failed get that digest's
    /// finding), else [`Finding::Pending`] when it is newer than its tracker's
    /// newest digest (unless that digest ended the chain), else [`Finding::NotCovered`]. With the
    /// hour it belongs to and why.
    pub fn check_file(
        &self,
        key: &str,
        bytes: Option<&[u8]>,
        etag: Option<&str>,
    ) -> (Finding, String, String) {
        if let Some(listed) = self.listed.get(key) {
            let (finding, detail) = match bytes {
                None => (
                    Finding::Deleted,
                    "listed in its hour's digest, not in the bucket".to_string(),
                ),
                Some(bytes) => check_bytes(&listed.file, bytes, etag),
            };
            let (finding, detail) = self.trusted(listed, finding, detail);
            return (finding, listed.hour.clone(), detail);
        }
        let (folder, delivered) = match classify(key) {
            ObjectKind::TraceFile(k) => (Folder::of(&k), k.delivered_at),
            _ => (Folder::default(), None),
        };
        let hour_end = hour_end(delivered);
        let last = self
            .newest
            .get(&(folder.region.clone(), folder.tracker.clone()));
        let (finding, detail) = match (last, delivered) {
            (None, _) => (
                Finding::NotCovered,
                "its tracker has no digest here (is validation on?)".to_string(),
            ),
            (Some((last, true)), Some(at)) if at >= *last => (
                Finding::NotCovered,
                "delivered after its tracker's chains ended (validation was turned off)"
                    .to_string(),
            ),
            (Some((last, false)), Some(at)) if at >= *last => (Finding::Pending, String::new()),
            (Some(_), _) => (Finding::NotCovered, "no digest lists it".to_string()),
        };
        (
            finding,
            hour_end.map(format_time).unwrap_or_default(),
            detail,
        )
    }

    /// A file's finding from its bytes, given the digest that lists it: bytes that match a
    /// digest which itself failed its check (its signature, its place in the chain) are not
    /// verified; they get that digest's finding.
    fn trusted(&self, listed: &Listed, finding: Finding, detail: String) -> (Finding, String) {
        match self.failed.get(&listed.digest) {
            Some(problem) if finding == Finding::Verified => (
                *problem,
                format!(
                    "its bytes match {}, but that digest failed its check ({})",
                    listed.digest,
                    problem.name()
                ),
            ),
            _ => (finding, detail),
        }
    }

    /// Whether `key` is listed by a digest.
    fn lists(&self, key: &str) -> bool {
        self.listed.contains_key(key)
    }

    /// The keys of the trace files the digests list, in no order.
    pub fn listed_files(&self) -> impl Iterator<Item = &str> {
        self.listed.keys().map(String::as_str)
    }
}

/// The end of the hour a file delivered at `delivered` belongs to.
fn hour_end(delivered: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    delivered
        .and_then(|d| d.duration_trunc(Duration::hours(1)).ok())
        .map(|h| h + Duration::hours(1))
}

impl Folder {
    fn of(key: &TraceFileKey) -> Folder {
        Folder {
            region: key.region.clone().unwrap_or_default(),
            tracker: key.tracker.clone().unwrap_or_default(),
            service: key.service.clone().unwrap_or_default(),
        }
    }
}

impl VerifyOptions {
    fn wants_folder(&self, folder: &Folder) -> bool {
        self.tracker.as_ref().is_none_or(|t| *t == folder.tracker)
            && self.service.as_ref().is_none_or(|s| *s == folder.service)
    }

    /// Whether the hour ending at `end` is in the range asked for.
    fn wants_hour(&self, end: Option<DateTime<Utc>>) -> bool {
        let Some(end) = end else { return true };
        self.from.is_none_or(|from| end > from)
            && self.to.is_none_or(|to| end - Duration::hours(1) < to)
    }
}

/// The folder of a digest key: `CloudTraces/<region>/<y>/<m>/<d>/<tracker>/Digest/<service>/<file>`.
fn digest_folder(key: &str) -> Folder {
    let parts: Vec<&str> = key.split('/').collect();
    let n = parts.len();
    let root = parts.iter().position(|p| *p == ROOT_FOLDER);
    let region = root
        .and_then(|i| parts.get(i + 1))
        .map(|s| s.to_string())
        .unwrap_or_default();
    let (tracker, service) = if n >= 4 && parts[n - 3] == "Digest" {
        (parts[n - 4].to_string(), parts[n - 2].to_string())
    } else {
        (String::new(), String::new())
    };
    Folder {
        region,
        tracker,
        service,
    }
}

async fn read_digest(location: &Location, key: String, folder: Folder) -> Result<Option<Stored>> {
    let Some((bytes, metadata)) = location
        .read_with_metadata(&Path::from(key.as_str()))
        .await?
    else {
        return Ok(None); // deleted since the listing
    };
    let signature = signature_in(&metadata).map(str::to_string);
    let digest = Digest::decode(&bytes);
    Ok(Some(Stored {
        key,
        folder,
        bytes,
        signature,
        digest,
    }))
}

/// The walk of one folder's digests.
struct Chain<'a> {
    location: &'a Location,
    options: &'a VerifyOptions,
    folder: &'a Folder,
    outcomes: &'a mut Vec<Outcome>,
    listed: &'a mut HashMap<String, Listed>,
    visited: HashSet<String>,
}

impl Chain<'_> {
    fn report(&mut self, finding: Finding, hour: String, object: &str, detail: String) {
        self.outcomes.push(Outcome {
            finding,
            folder: self.folder.clone(),
            hour,
            object: object.to_string(),
            detail,
        });
    }

    /// `keys`: the folder's digests, newest first.
    async fn walk(&mut self, keys: &[String], digests: &mut HashMap<String, Stored>) -> Result<()> {
        let named: HashSet<String> = keys
            .iter()
            .filter_map(|k| digests[k].digest.as_ref().ok())
            .map(|d| d.previous_digest_object.clone())
            .filter(|p| !p.is_empty())
            .collect();
        let mut missing = 0usize;
        for (i, head) in keys.iter().enumerate() {
            if named.contains(head) || self.visited.contains(head) {
                continue;
            }
            // A digest no other names: the newest of its chain, checked by its own signature.
            let d = &digests[head];
            let hour = d.hour();
            let ended = d.digest.as_ref().is_ok_and(|d| d.digest_end);
            if i > 0 && !ended {
                if missing > 0 {
                    missing -= 1; // the digest after it is missing, and reported as such
                } else {
                    self.report(
                        Finding::ChainBroken,
                        hour.clone(),
                        head,
                        "no later digest follows it, though it is not the newest of its folder \
                         and not an ending digest"
                            .to_string(),
                    );
                }
            }
            let own = match (&d.digest, &d.signature) {
                (Err(_), _) => None,
                (Ok(_), None) => Some(Err((
                    Finding::SignatureInvalid,
                    "no signature is stored with it (object metadata `signature`)".to_string(),
                ))),
                (Ok(digest), Some(signature)) => {
                    let hash = hash_hex("MD5", &d.bytes).unwrap_or_default();
                    let signed = signing_string(
                        &digest.digest_end_time,
                        &digest.digest_object,
                        &hash,
                        &digest.previous_digest_signature,
                    );
                    Some(
                        self.options
                            .public_key
                            .verify(signed.as_bytes(), signature)
                            .map_err(|e| {
                                (
                                    Finding::SignatureInvalid,
                                    signature_detail(e, "its stored signature"),
                                )
                            }),
                    )
                }
            };
            missing += self.follow(head, own, keys, digests).await?;
        }
        // Digests no walk reached lie on a loop.
        for key in keys {
            if !self.visited.contains(key) {
                let hour = digests[key].hour();
                self.report(
                    Finding::ChainLoop,
                    hour,
                    key,
                    "its chain loops back on itself".to_string(),
                );
            }
        }
        Ok(())
    }

    /// Follow one chain from `head`, whose own check (its signature) is `check` (`None` when
    /// it cannot be read). Returns how many digests the chain names that are missing.
    async fn follow(
        &mut self,
        head: &str,
        mut check: Option<std::result::Result<(), (Finding, String)>>,
        keys: &[String],
        digests: &mut HashMap<String, Stored>,
    ) -> Result<usize> {
        let mut current = head.to_string();
        let oldest = keys.last().cloned().unwrap_or_default();
        loop {
            self.visited.insert(current.clone());
            let d = &digests[&current];
            let end = d.end();
            let hour = d.hour();
            let in_range = self.options.wants_hour(end);
            let digest = match &d.digest {
                Ok(digest) => digest.clone(),
                Err(why) => {
                    let why = why.clone();
                    self.report(Finding::DigestUnreadable, hour, &current, why);
                    return Ok(0);
                }
            };
            // The digest itself.
            let mut problem = None;
            if digest.digest_object != current {
                problem = Some((
                    Finding::DigestModified,
                    format!("it names itself {:?}", digest.digest_object),
                ));
            }
            if let Some(Err(found)) = check.take() {
                problem = Some(found);
            }
            if in_range {
                match problem {
                    Some((finding, why)) => self.report(finding, hour.clone(), &current, why),
                    None => self.report(
                        Finding::DigestVerified,
                        hour.clone(),
                        &current,
                        String::new(),
                    ),
                }
                for file in &digest.log_files {
                    self.listed.insert(
                        file.object.clone(),
                        Listed {
                            folder: self.folder.clone(),
                            hour: hour.clone(),
                            digest: current.clone(),
                            file: file.clone(),
                        },
                    );
                }
            }
            if self
                .options
                .from
                .is_some_and(|from| end.is_some_and(|e| e <= from))
            {
                return Ok(0); // older than the range asked for
            }
            // The one before it.
            let previous = digest.previous_digest_object.clone();
            if previous.is_empty() {
                if current != oldest {
                    let before_ended = keys
                        .iter()
                        .skip_while(|k| **k != current)
                        .nth(1)
                        .and_then(|k| digests[k].digest.as_ref().ok())
                        .is_some_and(|d| d.digest_end);
                    if !before_ended {
                        self.report(
                            Finding::ChainRestarted,
                            hour,
                            &current,
                            "it starts a new chain after older digests of its folder".to_string(),
                        );
                    }
                }
                return Ok(0);
            }
            if self.visited.contains(&previous) {
                self.report(
                    Finding::ChainLoop,
                    hour,
                    &current,
                    format!("it names {previous:?}, already passed"),
                );
                return Ok(0);
            }
            if !digests.contains_key(&previous) {
                if !self.location.holds(&previous) {
                    // Before the part of the bucket asked for (an earlier day's folder): its
                    // successor, checked, vouches for the link; the walk ends here.
                    return Ok(0);
                }
                let hour = parse_time(&digest.digest_start_time)
                    .map(format_time)
                    .unwrap_or_default();
                self.report(
                    Finding::DigestMissing,
                    hour,
                    &previous,
                    format!("named as the previous digest by {current}"),
                );
                return Ok(1);
            }
            let p = &digests[&previous];
            let algorithm = &digest.previous_digest_hash_algorithm;
            check = match hash_hex(algorithm, &p.bytes) {
                None => Some(Err((
                    Finding::DigestModified,
                    format!("its successor records an unknown hash algorithm {algorithm:?}"),
                ))),
                Some(hash) if !hash.eq_ignore_ascii_case(&digest.previous_digest_hash_value) => {
                    Some(Err((
                        Finding::DigestModified,
                        format!(
                            "its {algorithm} is {hash}, its successor recorded {}",
                            digest.previous_digest_hash_value
                        ),
                    )))
                }
                Some(_) => match &p.digest {
                    Err(_) => None,
                    Ok(pd) => {
                        let md5 = hash_hex("MD5", &p.bytes).unwrap_or_default();
                        let signed = signing_string(
                            &pd.digest_end_time,
                            &pd.digest_object,
                            &md5,
                            &pd.previous_digest_signature,
                        );
                        Some(
                            self.options
                                .public_key
                                .verify(signed.as_bytes(), &digest.previous_digest_signature)
                                .map_err(|e| {
                                    (
                                        Finding::SignatureInvalid,
                                        signature_detail(e, "the signature its successor recorded"),
                                    )
                                }),
                        )
                    }
                },
            };
            current = previous;
        }
    }
}

/// The findings about one trace file's bytes against the digest entry that lists it.
fn check_bytes(file: &LogFile, bytes: &[u8], etag: Option<&str>) -> (Finding, String) {
    let expected = file.log_hash_value.to_ascii_lowercase();
    let md5_etag = etag
        .map(|e| e.trim_matches('"').to_ascii_lowercase())
        .filter(|e| {
            file.log_hash_algorithm.eq_ignore_ascii_case("MD5")
                && e.len() == 32
                && e.bytes().all(|b| b.is_ascii_hexdigit())
        });
    match hash_hex(&file.log_hash_algorithm, bytes) {
        None => (
            Finding::Modified,
            format!("unknown hash algorithm {:?}", file.log_hash_algorithm),
        ),
        Some(h) if h != expected => (
            Finding::Modified,
            format!(
                "its {} is {h}, its digest recorded {expected}",
                file.log_hash_algorithm
            ),
        ),
        Some(_) if md5_etag.as_ref().is_some_and(|e| *e != expected) => (
            Finding::Modified,
            format!(
                "its ETag is {}, its digest recorded {expected}",
                md5_etag.unwrap_or_default()
            ),
        ),
        Some(_) => (Finding::Verified, String::new()),
    }
}

/// Hash every listed trace file, and find the ones no digest lists.
async fn check_trace_files(
    location: &Location,
    options: &VerifyOptions,
    traces: &HashMap<String, TraceObject>,
    chains: &Chains,
) -> Result<Vec<Outcome>> {
    let mut outcomes: Vec<Outcome> = futures::stream::iter(chains.listed.values())
        .map(|listed| async move {
            let etag = traces
                .get(&listed.file.object)
                .and_then(|t| t.meta.e_tag.clone());
            let bytes = location
                .read_if_exists(&Path::from(listed.file.object.as_str()))
                .await?;
            let file = listed.file.clone();
            let (finding, detail) = match bytes {
                None => (
                    Finding::Deleted,
                    "listed in its hour's digest, not in the bucket".to_string(),
                ),
                Some(bytes) => {
                    tokio::task::spawn_blocking(move || check_bytes(&file, &bytes, etag.as_deref()))
                        .await
                        .map_err(|e| Error::Internal(e.to_string()))?
                }
            };
            let (finding, detail) = chains.trusted(listed, finding, detail);
            Ok::<_, Error>(Outcome {
                finding,
                folder: listed.folder.clone(),
                hour: listed.hour.clone(),
                object: listed.file.object.clone(),
                detail,
            })
        })
        .buffer_unordered(options.parallelism.max(1))
        .try_collect()
        .await?;

    // The files no digest lists: pending (their hour's digest is still to come) or not covered.
    for (key, t) in traces {
        if chains.lists(key) || !options.wants_hour(hour_end(t.delivered)) {
            continue;
        }
        let (finding, hour, detail) = chains.check_file(key, Some(&[]), None);
        outcomes.push(Outcome {
            finding,
            folder: t.folder.clone(),
            hour,
            object: key.clone(),
            detail,
        });
    }
    Ok(outcomes)
}
