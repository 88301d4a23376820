//! The auditor's check of a pack: placeholder until the verifier lands.

use std::path::PathBuf;

use crate::cli::Outcome;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyFormat {
    Text,
    Json,
}

/// What `evpack verify` was asked to do.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// A pack zip, or an unzipped bag folder.
    pub pack: PathBuf,
    /// Expected SHA-256 of the whole zip (from `--digest` or `--digest-file`), lower-case hex.
    pub digest: Option<String>,
    pub format: VerifyFormat,
    pub quiet: bool,
}

pub fn run(cfg: &VerifyConfig) -> Result<Outcome> {
    Err(Error::Usage(format!(
        "{}: verify is not available in this build",
        cfg.pack.display()
    )))
}
