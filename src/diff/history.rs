//! Earlier packs and saved assessments, read from one folder for the dashboard's
//! "readiness over time": each one's date, readiness and areas' RAG ratings.
//!
//! A file that cannot be read, or that belongs to another authority, is left out and named
//! in a note, rather than failing the report: a folder of a year's packs should not stop
//! this month's dashboard because one copy was cut short.

use std::path::Path;

use super::{read_summary, Side, SideKind};
use crate::error::{Error, Result};

/// Sides read from a history folder at most: ten years of weekly packs.
pub const MAX_ENTRIES: usize = 520;

/// What a history folder held.
#[derive(Debug, Default)]
pub struct History {
    /// Sides of the authority asked for, oldest first (by [`Side::as_of`], then path).
    pub sides: Vec<Side>,
    /// What was left out, and why.
    pub left_out: Vec<LeftOut>,
}

/// A file of the history folder that is not drawn.
#[derive(Debug)]
pub struct LeftOut {
    /// Its file name (a page names no folder on the drive).
    pub name: String,
    /// Why, in full (for the terminal).
    pub why: String,
    /// Why, in a few words naming no path (for the page).
    pub short: &'static str,
}

/// Reads every pack (`*.zip`, or a folder holding `bagit.txt`) and saved assessment
/// (`*.json`) directly inside `dir`, keeping those of `authority`. Other files are passed
/// over in silence (a `.sha256` beside each pack is expected).
pub fn read_history(dir: &Path, authority: &str) -> Result<History> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(
            dir,
            "cannot list the history folder (give a folder of earlier packs or saved assessments)",
            e,
        )
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "cannot list the history folder", e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_lowercase();
        // Hidden files are the drive's own (`.DS_Store`, sync state), never a pack.
        if name.starts_with('.') {
            continue;
        }
        let is_pack_folder =
            entry.file_type().is_ok_and(|t| t.is_dir()) && path.join(crate::bagit::BAGIT).is_file();
        if is_pack_folder || name.ends_with(".zip") || name.ends_with(".json") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut history = History::default();
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    if paths.len() > MAX_ENTRIES {
        for p in paths.drain(..paths.len() - MAX_ENTRIES) {
            history.left_out.push(LeftOut {
                name: name(&p),
                why: format!("more than {MAX_ENTRIES} in the folder: the last by name are drawn"),
                short: "too many: the last by name are drawn",
            });
        }
    }
    for path in paths {
        match read_summary(&path) {
            Ok(side) if side.authority != authority => history.left_out.push(LeftOut {
                name: name(&path),
                why: format!("it is of {}, not {authority}", side.authority),
                short: "of another authority",
            }),
            Ok(side) => history.sides.push(side),
            Err(e) => history.left_out.push(LeftOut {
                name: name(&path),
                why: e.to_string(),
                short: "not readable as a pack or saved assessment",
            }),
        }
    }
    history
        .sides
        .sort_by(|a, b| a.as_of().cmp(&b.as_of()).then_with(|| a.path.cmp(&b.path)));
    Ok(history)
}

impl Side {
    /// The file name, for labels: the folder a history came from is the same for all.
    pub fn name(&self) -> &str {
        let p = self.path.trim_end_matches('/');
        p.rsplit('/').next().unwrap_or(p)
    }

    /// `pack` or `saved assessment`.
    pub fn kind_word(&self) -> &'static str {
        match self.kind {
            SideKind::Pack => "pack",
            SideKind::Assessment => "saved assessment",
        }
    }
}
