//! Errors as the command line shows them: the library says what failed and where; this adds
//! the flag that changes it.

use cts::Error;

/// The message for `error: ...`, with what to change where a flag changes it.
pub(crate) fn message(error: &Error) -> String {
    match error {
        // After the limit, before DataFusion's account of what needed more (many lines).
        Error::MemoryLimit { limit, .. } => {
            let limit = indicatif::HumanBytes(*limit as u64).to_string();
            error
                .to_string()
                .replacen(&limit, &format!("{limit} (--memory-limit)"), 1)
        }
        Error::QueryTimeout { .. } => format!("{error} (--query-timeout)"),
        Error::ReadOnly { .. } => {
            format!("{error}: start it with `cts shell --write` to allow it")
        }
        Error::NoDayColumn => "--partition-by day needs a `day` column in the result: select it, \
                               or use --partition-by none"
            .to_string(),
        _ => error.to_string(),
    }
}
