//! Writes a pack: placeholder until the writer lands.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::{InputConfig, Outcome};
use crate::error::{Error, Result};

/// What `evpack build` was asked to do.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub input: InputConfig,
    /// The pack file; default `<visit-name-slug>-<date>.zip` in the current folder.
    pub out: Option<PathBuf>,
    /// The bagging date recorded in the pack and used for every zip timestamp.
    pub date: Option<NaiveDate>,
    pub templates: Option<PathBuf>,
    pub strict: bool,
    pub quiet: bool,
}

pub fn run(cfg: &BuildConfig) -> Result<Outcome> {
    Err(Error::Usage(format!(
        "{}: build is not available in this build",
        cfg.input.manifest.display()
    )))
}
