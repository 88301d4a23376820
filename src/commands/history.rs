//! `--history DIR` of `report` and `build`: reads the folder, says on the terminal what it
//! left out, and hands the view to the dashboard's templates.

use std::path::Path;

use chrono::NaiveDate;

use super::note;
use crate::assess::Assessment;
use crate::diff;
use crate::error::{Error, Result};
use crate::report::history::{self, Point};
use crate::report::Templates;
use crate::util::printable;

/// A `--history` folder that is not there is found before the scan, not after it.
pub(super) fn check_folder(dir: Option<&Path>) -> Result<()> {
    match dir {
        Some(d) if !d.is_dir() => Err(Error::input(
            d,
            "the --history folder does not exist",
            "pass --history with the folder that holds the earlier packs or saved `gaps --format json` files",
        )),
        _ => Ok(()),
    }
}

/// Draws the history in `dir`, and `a` itself as of `date` (labelled `label`), on the
/// dashboards `templates` render.
pub(super) fn show(
    templates: &mut Templates,
    dir: &Path,
    a: &Assessment,
    date: NaiveDate,
    label: &str,
) -> Result<()> {
    let h = diff::read_history(dir, &a.visit.authority)?;
    for l in &h.left_out {
        note(&format!(
            "evpack: warning: --history: {} is left out: {}",
            printable(&l.name),
            crate::util::printable_lines(&l.why)
        ));
    }
    let mut points: Vec<Point> = h
        .sides
        .iter()
        .map(|s| Point {
            date: s.as_of(),
            label: s.name().to_string(),
            readiness: s.readiness,
            areas: s
                .areas
                .iter()
                .filter_map(|ar| ar.rag.map(|r| (ar.id.clone(), r)))
                .collect(),
        })
        .collect();
    points.push(Point::of(a, date, label));
    let notes: Vec<String> = h
        .left_out
        .iter()
        .map(|l| format!("{}: left out, {}", l.name, l.short))
        .collect();
    templates.set_history(history::view(&points, &notes));
    Ok(())
}
