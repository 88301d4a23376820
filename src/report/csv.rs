//! The gap register: one row per requirement that is not met, in manifest order, with the
//! columns an improvement plan matrix has. Spreadsheet programs treat a cell starting with
//! `=`, `+`, `-` or `@` as a formula, so such cells are prefixed with `'` (manifest text and
//! file names are not ours to trust).

use crate::assess::{Assessment, Status};
use crate::error::{Error, Result};

pub const HEADER: [&str; 10] = [
    "area_id",
    "area_title",
    "requirement_id",
    "requirement_title",
    "status",
    "required",
    "owner",
    "newest",
    "files_in_window",
    "reasons",
];

pub fn render(a: &Assessment) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for area in &a.areas {
        for r in area.requirements.iter().filter(|r| r.status != Status::Met) {
            let files = r.files_in_window.to_string();
            let row = [
                area.id.as_str(),
                area.title.as_str(),
                r.id.as_str(),
                r.title.as_str(),
                r.status.label(),
                if r.required { "yes" } else { "no (advisory)" },
                r.owner.as_deref().unwrap_or(""),
                r.newest.as_deref().unwrap_or(""),
                files.as_str(),
                &r.reasons.join("; "),
            ];
            w.write_record(row.iter().map(|c| defuse(c)))?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::Csv(csv::Error::from(e.into_error())))
}

fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}
