//! Command-line failures and their exit codes: 1 the scan could not run, 2 bad usage or input.

use std::fmt;

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// The process exit code.
    pub code: u8,
    /// What to tell the operator.
    pub message: String,
}

impl CliError {
    /// Bad usage or bad input: exit code 2.
    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError {
            code: 2,
            message: message.to_string(),
        }
    }

    /// The scan or command could not run: exit code 1.
    pub fn failed(message: impl fmt::Display) -> CliError {
        CliError {
            code: 1,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
