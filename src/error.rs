//! One error type for everything a user can cause. Each variant names the file (and for
//! the manifest, the line and column) and says what to do, because the people who meet
//! these errors are improvement officers and auditors, not the authors of this tool.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A manifest problem at a known place. `line`/`column` are 1-based.
    #[error(
        "{}:{line}:{column}: {message}\n  help: {help}",
        crate::util::shown(path)
    )]
    Manifest {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        help: String,
    },

    #[error("{}: {message}\n  help: {help}", crate::util::shown(path))]
    Input {
        path: PathBuf,
        message: String,
        help: String,
    },

    #[error("{}: {action}: {source}", crate::util::shown(path))]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// An evidence file that no longer matches what was assessed, or cannot be packed.
    #[error("{}: {message}\n  help: {help}", crate::util::shown(path))]
    Evidence {
        path: PathBuf,
        message: String,
        help: String,
    },

    #[error("{0}")]
    Usage(String),

    #[error("interrupted: nothing was written")]
    Interrupted,

    /// A template failed to parse or render (a custom `--templates` file, usually).
    #[error("template {place}: {message}\n  help: {help}")]
    Template {
        place: String,
        message: String,
        help: &'static str,
    },

    /// Serialising a JSON output failed (out of memory, a broken writer).
    #[error("cannot write {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The pack writer's threads stopped working together (a thread that failed, a
    /// channel closed early): the build stops rather than write a pack it cannot vouch for.
    #[error("{}: cannot write the pack: {reason}", crate::util::shown(path))]
    Pipeline { path: PathBuf, reason: String },

    /// A glob the manifest check accepted that the matcher could not build.
    #[error("{}: glob {pattern:?}: {source}", crate::util::shown(path))]
    Glob {
        path: PathBuf,
        pattern: String,
        #[source]
        source: globset::Error,
    },

    /// Two parts of evpack disagree: a bug, reported rather than hidden.
    #[error("internal error: {0}; please report it with the command you ran")]
    Internal(String),
}

impl Error {
    pub fn json(what: &'static str, source: serde_json::Error) -> Self {
        Error::Json { what, source }
    }

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
