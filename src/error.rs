//! One error type for everything a user can cause. Each variant names the file (and for
//! the manifest, the line and column) and says what to do, because the people who meet
//! these errors are improvement officers and auditors, not the authors of this tool.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A manifest problem at a known place. `line`/`column` are 1-based.
    #[error("{}:{line}:{column}: {message}\n  help: {help}", path.display())]
    Manifest {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        help: String,
    },

    #[error("{}: {message}\n  help: {help}", path.display())]
    Input {
        path: PathBuf,
        message: String,
        help: String,
    },

    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// An evidence file that no longer matches what was assessed, or cannot be packed.
    #[error("{}: {message}\n  help: {help}", path.display())]
    Evidence {
        path: PathBuf,
        message: String,
        help: String,
    },

    #[error("{0}")]
    Usage(String),

    #[error("interrupted: nothing was written")]
    Interrupted,

    #[error("{context}: {message}")]
    Other { context: String, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    pub fn input(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Error::Input {
            path: path.into(),
            message: message.into(),
            help: help.into(),
        }
    }

    pub fn evidence(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Error::Evidence {
            path: path.into(),
            message: message.into(),
            help: help.into(),
        }
    }
}
