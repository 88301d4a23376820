//! `evpack diff OLD NEW`: what changed between two packs or saved assessments. Exit 0 when
//! nothing required got worse, 1 when a required requirement got worse or readiness fell,
//! 2 when a side cannot be read or the two cannot be compared.

use super::{stream_stdout, write_stdout};
use crate::config::{DiffConfig, DiffFormat};
use crate::diff;
use crate::error::Result;
use crate::exit::Outcome;

pub fn run(cfg: &DiffConfig) -> Result<Outcome> {
    let old = diff::read_side(&cfg.old)?;
    let new = diff::read_side(&cfg.new)?;
    let d = diff::compare(&old, &new, cfg.force)?;
    drop((old, new));
    match cfg.format {
        DiffFormat::Text => write_stdout(diff::render::text(&d).as_bytes())?,
        DiffFormat::Markdown => write_stdout(diff::render::markdown(&d).as_bytes())?,
        DiffFormat::Json => stream_stdout(|out| {
            serde_json::to_writer_pretty(&mut *out, &d)?;
            out.write_all(b"\n")
        })?,
    }
    Ok(if d.worse {
        Outcome::Worse
    } else {
        Outcome::NoWorse
    })
}
