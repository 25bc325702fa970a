//! The one error type of the bottom layer: a problem with what the user gave or asked for
//! (a file, a line, a flag), which the binary reports with exit code 2. Everything else is
//! a failure of the program or the machine (`anyhow::Error`, exit code 1).

/// A problem with the user's input or flags; the message names the file, line and column
/// where there is one.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);
