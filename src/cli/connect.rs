//! `cts connect`: print the statements that make `traces` a table in another engine.

use std::process::ExitCode;

use cts::Result;
use cts::output::connect::{Engine, S3Settings, archive_files, statements};
use cts_core::store::hot;

use crate::cli::context::{Context, say};

/// Print the statements for `engine` over the archive of `context`.
pub(crate) async fn run(engine: Engine, context: &Context) -> Result<ExitCode> {
    let archive = context.archive()?;
    let settings = S3Settings::resolve(
        context.storage.endpoint.as_deref(),
        context.storage.region.as_deref(),
        context.storage.virtual_hosted_style,
    );
    let files = archive_files(&archive, settings).await?;
    // Traces the hot store holds are not in the archive yet: say from when.
    let snapshot = hot::snapshot(&context.hot_dir())?;
    let hot_from = snapshot.watermark_ms.filter(|_| snapshot.rows() > 0);
    say!("{}", statements(engine, &files, hot_from)?)?;
    Ok(ExitCode::SUCCESS)
}
