//! `cts verify` (trace files against their digest chains) and `cts keygen` (a signing key pair).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use cts::output::format::{Format, write_batches};
use cts::{Error, Result};
use cts_core::integrity::keys::{DATA_DIR_PUBLIC_KEY, write_private_key};
use cts_core::integrity::{Finding, PublicKey, SigningKey, Verification, VerifyOptions, verify};
use cts_core::source::folder_location;

use crate::cli::args::Command;
use crate::cli::context::{Context, millis};

/// Exit status of a verification that found a problem.
const VERIFY_FAILED: u8 = 3;

/// Run `cts verify` or `cts keygen`.
pub(crate) async fn run(command: Command, context: &Context) -> Result<ExitCode> {
    match command {
        Command::Verify {
            source,
            public_key,
            from,
            to,
            tracker,
            service,
            by_hour,
            threads,
            format,
        } => {
            let given = public_key.map(|p| PublicKey::read(&p)).transpose()?;
            // Export manifests: the key given, else this data directory's own (`cts export
            // --sign` signs with it).
            let own = context.data_dir.join(DATA_DIR_PUBLIC_KEY);
            let export_key = match &given {
                Some(key) => Some(key.clone()),
                None if own.exists() => Some(PublicKey::read(&own)?),
                None => None,
            };
            let public_key = match given {
                Some(key) => key,
                None => PublicKey::cts()?,
            };
            let at = |t: Option<String>| -> Result<_> {
                t.map(|t| millis(&t))
                    .transpose()
                    .map(|ms| ms.and_then(chrono::DateTime::from_timestamp_millis))
            };
            let options = VerifyOptions {
                public_key,
                from: at(from)?,
                to: at(to)?,
                tracker,
                service,
                parallelism: threads.max(1),
                export_key,
            };
            let location = folder_location(&source, &context.storage)?;
            let verification = verify(&location, &options).await?;
            let batch = if by_hour {
                hours_batch(&verification)?
            } else {
                problems_batch(&verification)?
            };
            let mut out = std::io::stdout().lock();
            if batch.num_rows() > 0 || format != Format::Table {
                write_batches(
                    std::slice::from_ref(&batch),
                    batch.schema(),
                    format,
                    &mut out,
                )?;
            }
            eprintln!("{source}: {}", verification.summary());
            Ok(if verification.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(VERIFY_FAILED)
            })
        }
        Command::Keygen { prefix } => {
            let (private, public) = SigningKey::generate()?;
            let private_path = with_extension(&prefix, "pem");
            let public_path = with_extension(&prefix, "pub.pem");
            write_private_key(&private_path, &private)?;
            std::fs::write(&public_path, public)
                .map_err(|e| Error::io("write", &public_path, e))?;
            println!(
                "wrote {} (private: give it to cts serve --signing-key, keep it secret) and {} \
                 (public: give it to whoever verifies, cts verify --public-key)",
                private_path.display(),
                public_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(Error::internal("not an integrity command")),
    }
}

fn with_extension(prefix: &Path, extension: &str) -> std::path::PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    name.into()
}

fn strings(values: impl Iterator<Item = String>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// One row per problem: finding, region, tracker, service, hour, object, detail.
fn problems_batch(v: &Verification) -> Result<RecordBatch> {
    let problems: Vec<_> = v.problems().collect();
    let names = [
        "finding", "region", "tracker", "service", "hour", "object", "detail",
    ];
    let columns = vec![
        strings(problems.iter().map(|o| o.finding.name().to_string())),
        strings(problems.iter().map(|o| o.folder.region.clone())),
        strings(problems.iter().map(|o| o.folder.tracker.clone())),
        strings(problems.iter().map(|o| o.folder.service.clone())),
        strings(problems.iter().map(|o| o.hour.clone())),
        strings(problems.iter().map(|o| o.object.clone())),
        strings(problems.iter().map(|o| o.detail.clone())),
    ];
    let schema = Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns).map_err(|e| Error::internal(e.to_string()))
}

/// One row per folder and hour: the count of each finding.
fn hours_batch(v: &Verification) -> Result<RecordBatch> {
    let hours = v.by_hour();
    let mut fields = vec![
        Field::new("region", DataType::Utf8, false),
        Field::new("tracker", DataType::Utf8, false),
        Field::new("service", DataType::Utf8, false),
        Field::new("hour", DataType::Utf8, false),
    ];
    let mut columns = vec![
        strings(hours.keys().map(|(f, _)| f.region.clone())),
        strings(hours.keys().map(|(f, _)| f.tracker.clone())),
        strings(hours.keys().map(|(f, _)| f.service.clone())),
        strings(hours.keys().map(|(_, h)| h.clone())),
    ];
    for finding in Finding::ALL {
        fields.push(Field::new(
            finding.name().replace(' ', "_"),
            DataType::UInt64,
            false,
        ));
        columns.push(Arc::new(UInt64Array::from_iter_values(
            hours
                .values()
                .map(|counts| counts.get(&finding).copied().unwrap_or(0) as u64),
        )));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::internal(e.to_string()))
}
