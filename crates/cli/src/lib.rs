//! berth-cli: the `berth` binary. One module per subcommand, each parsing its arguments
//! into a library call and rendering the result; no repository logic lives here.

pub mod cli;
mod cmd;
pub mod output;

use std::process::ExitCode;

pub use cli::Cli;

/// Why a command did not succeed, mapped to exit codes in one place ([`Failure::code`]).
#[derive(Debug)]
pub enum Failure {
    /// A negative answer or findings (exit 1); the message, if any, goes to stderr.
    Negative(Option<String>),
    /// A usage, configuration or I/O error (exit 2).
    Error(String),
    /// A notification could not be posted (exit 3; `berth notify`). Nothing was undone.
    NotDelivered(String),
}

impl Failure {
    /// The process exit code.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Negative(_) => 1,
            Failure::Error(_) => 2,
            Failure::NotDelivered(_) => 3,
        }
    }
    /// A usage error.
    pub fn usage(msg: impl Into<String>) -> Self {
        Failure::Error(msg.into())
    }
}

impl From<berth_model::Error> for Failure {
    fn from(e: berth_model::Error) -> Self {
        match e {
            berth_model::Error::NotFound { .. } => Failure::Negative(Some(e.to_string())),
            other => Failure::Error(other.to_string()),
        }
    }
}

impl From<berth_index::IndexError> for Failure {
    fn from(e: berth_index::IndexError) -> Self {
        if e.is_negative() {
            Failure::Negative(Some(e.to_string()))
        } else {
            Failure::Error(e.to_string())
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Error(e.to_string())
    }
}

impl From<berth_model::StageError> for Failure {
    fn from(e: berth_model::StageError) -> Self {
        Failure::Error(e.to_string())
    }
}

impl From<berth_model::IdError> for Failure {
    fn from(e: berth_model::IdError) -> Self {
        Failure::Error(e.to_string())
    }
}

/// What a command returns.
pub type CmdResult = Result<()>;

/// A result whose error is a [`Failure`].
pub type Result<T> = std::result::Result<T, Failure>;

/// Runs a parsed command line; prints errors to stderr; returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cmd::dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            match &f {
                Failure::Negative(Some(m)) | Failure::Error(m) | Failure::NotDelivered(m) => {
                    output::error(m)
                }
                Failure::Negative(None) => {}
            }
            ExitCode::from(f.code())
        }
    }
}
