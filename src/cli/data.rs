//! The commands of the data path: `gen`, `load`, `compact`, `ingest`, `maintain`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use cts::notify::book::NotificationBook;
use cts::notify::matcher::Matcher;
use cts::notify::outbox::{Outbox, put_matches};
use cts::{Error, Result};
use cts_core::ingest::{IngestSummary, ingest};
use cts_core::integrity::PublicKey;
use cts_core::load::{LoadOptions, LoadVerify, load};
use cts_core::source::Source;
use cts_core::storage::{Location, METADATA_SUFFIX};
use cts_core::store::archive::{CompactOptions, compact};
use cts_sample::{GenOptions, GenSummary, generate};

use crate::cli::args::{Command, VerifyMode};
use crate::cli::context::{Context, say};

/// Run a command of the data path.
pub(crate) async fn run(command: Command, context: &Context) -> Result<ExitCode> {
    match command {
        Command::Gen {
            out,
            traces,
            days,
            seed,
            end,
            trace_region,
            duplicates,
            plain_json,
            no_digests,
            public_key_out,
            stray,
            broken,
        } => {
            let options = GenOptions {
                traces,
                days,
                seed,
                end: end.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                region: trace_region,
                duplicate_ratio: duplicates,
                gzip: !plain_json,
                digests: !no_digests,
                stray_objects: stray,
                broken_files: broken,
                ..Default::default()
            };
            let location = Location::parse(&out, &context.storage)?;
            let summary = write_sample(location, options).await?;
            say!(
                "wrote {} distinct traces ({} re-delivered) in {} trace files, {} digest files, \
                 {} stray objects and {} broken files to {out}\n",
                summary.distinct_traces,
                summary.duplicate_records,
                summary.trace_files,
                summary.digest_files,
                summary.stray_objects,
                summary.broken_files.len(),
            )?;
            if !no_digests {
                // The public half of the sample key, for `cts verify --public-key`.
                let path = public_key_out.unwrap_or_else(|| {
                    if out.contains("://") {
                        "sample-public-key.pem".into()
                    } else {
                        format!("{}.public-key.pem", out.trim_end_matches('/')).into()
                    }
                });
                let key = cts_core::integrity::SigningKey::sample()?;
                std::fs::write(&path, key.public_key().to_pem())
                    .map_err(|e| Error::io("write", &path, e))?;
                say!(
                    "digests signed with the sample key; its public half is in {} \
                     (cts verify {out} --public-key {})\n",
                    path.display(),
                    path.display()
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Load {
            source,
            threads,
            retry_failed,
            any_json,
            quiet,
            chunk_mb,
            verify,
            public_key,
        } => {
            let archive = context.archive()?;
            let source = Source::open(&source, &context.storage)?;
            let verify = match verify {
                Some(mode) => Some(LoadVerify {
                    public_key: match public_key {
                        Some(path) => PublicKey::read(&path)?,
                        None => PublicKey::cts()?,
                    },
                    strict: mode == VerifyMode::Strict,
                }),
                None => None,
            };
            let hot = context.open_hot(&archive).await?;
            let mut options = LoadOptions {
                retry_failed,
                any_json,
                progress: !quiet,
                chunk_json_bytes: chunk_mb << 20,
                hot: Some(hot.clone()),
                verify,
                ..Default::default()
            };
            if let Some(threads) = threads {
                options.threads = threads;
            }
            let summary = load(&source, &archive, &options).await?;
            hot.maintain(false).await?;
            if summary.trace_files + summary.digests_skipped + summary.other_skipped == 0 {
                eprintln!(
                    "warning: no objects under {}: is the prefix right? (prefixes match whole \
                     folder names)",
                    source.location().url()
                );
            }
            say!("{summary}")?;
            if summary.previously_failed > 0 {
                say!(
                    "  --retry-failed reads the {} files that failed in earlier runs again\n",
                    summary.previously_failed
                )?;
            }
            say!("archive: {}\n", archive.location().url())?;
            if options.verify.is_some() && !summary.is_verified() {
                return Ok(ExitCode::from(3));
            }
            Ok(exit_code(summary.is_clean()))
        }
        Command::Compact {
            min_files,
            grace_secs,
        } => {
            let archive = context.archive()?;
            let options = CompactOptions {
                min_files,
                grace: Duration::from_secs(grace_secs),
            };
            let s = compact(&archive, &options).await?;
            say!(
                "compacted {} days: {} files ({:.1} MB) into {} ({:.1} MB), {} traces; \
                 {} replaced files deleted\n",
                s.days,
                s.files_merged,
                s.bytes_before as f64 / 1e6,
                s.days,
                s.bytes_after as f64 / 1e6,
                s.traces,
                s.files_deleted
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            files,
            batch,
            print_acks,
        } => {
            let archive = context.archive()?;
            let hot = context.open_hot(&archive).await?;
            let inputs = if files.is_empty() {
                vec!["-".to_string()]
            } else {
                files
            };
            let mut summary = IngestSummary::default();
            // The data directory's notifications (a project's folder of cts serve): the messages
            // each batch fires go to its outbox before the batch is appended.
            let notifications = NotificationBook::open(&context.data_dir)?;
            let matcher = Matcher::new(&notifications.notifications);
            let outbox = Outbox::of(&context.data_dir);
            let mut fired = 0usize;
            let mut before_append = |batch: &arrow::array::RecordBatch| {
                if matcher.is_empty() {
                    return Ok(());
                }
                let mut traces = Vec::new();
                cts::output::trace_json::traces_json(batch, &mut traces);
                let now = chrono::Utc::now().timestamp_millis();
                fired += put_matches(&outbox, &matcher, &traces, now)
                    .map_err(|e| cts_core::Error::Internal(format!("notifications: {e}")))?;
                Ok(())
            };
            for input in &inputs {
                let (bytes, label) = if input == "-" {
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                        .map_err(|e| Error::io("read", "standard input", e))?;
                    (bytes, "stdin".to_string())
                } else {
                    let bytes = std::fs::read(input).map_err(|e| Error::io("read", input, e))?;
                    (bytes, input.clone())
                };
                let mut on_ack = |n: usize| {
                    if print_acks {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "ack {label} {n}");
                        let _ = out.flush();
                    }
                };
                ingest(
                    &hot,
                    &bytes,
                    &label,
                    batch,
                    &mut summary,
                    &mut before_append,
                    &mut on_ack,
                )
                .await?;
            }
            if fired > 0 {
                say!(
                    "{fired} notification messages written to {} for cts serve to send\n",
                    outbox.dir().display()
                )?;
            }
            hot.maintain(false).await?;
            say!("{summary}")?;
            Ok(exit_code(summary.is_clean()))
        }
        Command::Maintain => {
            let archive = context.archive()?;
            let hot = context.open_hot(&archive).await?;
            let m = hot.maintain(true).await?;
            say!(
                "flushed {} traces; rolled {} over into the archive ({} were there already); \
                 merged {} segments; removed {} files\n",
                m.flushed,
                m.rolled_over,
                m.already_archived,
                m.segments_merged,
                m.files_removed
            )?;
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Error::internal(format!("not a data command: {other:?}"))),
    }
}

/// 0 when everything went in, 2 when some input failed or was set aside.
fn exit_code(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Generate a sample bucket into a folder or a bucket.
async fn write_sample(location: Location, options: GenOptions) -> Result<GenSummary> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        // A digest's signature comes first, as `<key>.meta.json`: it is written as the
        // digest's metadata (in a bucket, on the object; in a folder, beside it).
        let mut metadata: Option<(String, Vec<(String, String)>)> = None;
        let mut sink = |key: &str, bytes: Vec<u8>| -> std::io::Result<()> {
            if let Some(object) = key.strip_suffix(METADATA_SUFFIX) {
                let pairs: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&bytes)?;
                let pairs = pairs
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                    .collect();
                metadata = Some((object.to_string(), pairs));
                return Ok(());
            }
            let path = location.path(key);
            let write = match metadata.take() {
                Some((object, pairs)) if object == key => {
                    let pairs: Vec<(&str, &str)> = pairs
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    handle.block_on(location.write_with_metadata(&path, bytes.into(), &pairs))
                }
                _ => handle.block_on(location.write(&path, bytes.into())),
            };
            write.map_err(std::io::Error::other)
        };
        generate(&options, &mut sink)
            .map_err(|e| Error::invalid(format!("generating the sample bucket: {e}")))
    })
    .await
    .map_err(|e| Error::internal(format!("generator stopped: {e}")))?
}
