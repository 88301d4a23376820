//! `evpack manifest check`: validate a manifest without scanning.

use std::path::PathBuf;

use super::{manifest_path, plural, write_stdout};
use crate::error::Result;
use crate::exit::Outcome;
use crate::manifest::Manifest;

pub fn check(file: Option<PathBuf>) -> Result<Outcome> {
    let path = manifest_path(file.as_deref())?;
    let m = Manifest::load(&path)?;
    let reqs = m.requirements().count();
    let required = m.requirements().filter(|(_, r)| r.required).count();
    let line = format!(
        "{}: valid: {}, {} ({} required, {} advisory); visit {} on {}, look-back {} months\n",
        crate::util::printable(&path.display().to_string()),
        plural(m.areas.len(), "area"),
        plural(reqs, "requirement"),
        required,
        reqs - required,
        crate::util::printable(&m.visit.name),
        m.visit.date,
        m.visit.lookback_months
    );
    write_stdout(line.as_bytes())?;
    Ok(Outcome::Met)
}
