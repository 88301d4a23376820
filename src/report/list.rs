//! `evpack list`: the inventory of the evidence folder, file by file.

use std::fmt::Write as _;

use serde::Serialize;

use std::collections::HashMap;

use crate::assess::{Assessment, Covers, UnusableFile};
use crate::content::Check;
use crate::dating::{DateSource, Precision};
use crate::error::{Error, Result};
use crate::scan::Scan;
use crate::util::printable;

#[derive(Serialize)]
struct Entry<'a> {
    path: &'a str,
    date: String,
    date_precision: Precision,
    /// The period the date stands for.
    covers: Covers,
    date_source: DateSource,
    size: u64,
    serves: Vec<&'a str>,
    /// Whether the file opens; `null` for a file no requirement matches (not checked).
    check: Option<Check>,
    check_detail: Option<&'a str>,
}

fn entries<'a>(scan: &'a Scan, a: &'a Assessment) -> Vec<Entry<'a>> {
    let mut serves = a.serves();
    let unusable: HashMap<&str, &UnusableFile> =
        a.unusable.iter().map(|u| (u.path.as_str(), u)).collect();
    scan.files
        .iter()
        .map(|f| {
            let serves = serves.remove(f.rel.as_str()).unwrap_or_default();
            let found = unusable.get(f.rel.as_str());
            let (from, to) = f.date.covers();
            Entry {
                path: &f.rel,
                date: f.date.label(a.visit.year_start),
                date_precision: f.date.precision,
                covers: Covers { from, to },
                date_source: f.date_source,
                size: f.size,
                check: match found {
                    Some(u) => Some(u.check),
                    None => (!serves.is_empty()).then_some(Check::Ok),
                },
                check_detail: found.and_then(|u| u.detail.as_deref()),
                serves,
            }
        })
        .collect()
}

pub fn render_text(scan: &Scan, a: &Assessment) -> String {
    let mut o = String::new();
    let all = entries(scan, a);
    let (matched, unmatched): (Vec<_>, Vec<_>) = all.iter().partition(|e| !e.serves.is_empty());
    let _ = writeln!(o, "Evidence files ({})", matched.len());
    let _ = writeln!(
        o,
        "{:<10}  {:<8}  {:<18}  {:<40}  SERVES",
        "DATE", "FROM", "CHECK", "PATH"
    );
    for e in &matched {
        let _ = writeln!(
            o,
            "{:<10}  {:<8}  {:<18}  {:<40}  {}",
            e.date,
            source_word(e.date_source),
            e.check.map_or("", Check::label),
            printable(e.path),
            e.serves.join(", ")
        );
        if let Some(detail) = e.check_detail {
            let _ = writeln!(o, "{:<40}  {}", "", printable(detail));
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Unmatched files ({}): they match no requirement and are never packed",
        unmatched.len()
    );
    for e in &unmatched {
        let _ = writeln!(
            o,
            "{:<10}  {:<8}  {}",
            e.date,
            source_word(e.date_source),
            printable(e.path)
        );
    }
    if !scan.skipped.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Skipped ({})", scan.skipped.len());
        for s in &scan.skipped {
            let _ = writeln!(o, "  {}: {}", printable(&s.path), printable(&s.reason));
        }
    }
    o
}

fn source_word(s: DateSource) -> &'static str {
    match s {
        DateSource::Name => "name",
        DateSource::Folder => "folder",
        DateSource::Manifest => "manifest",
        DateSource::Modified => "modified",
    }
}

pub fn render_json(scan: &Scan, a: &Assessment) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Doc<'a> {
        files: Vec<Entry<'a>>,
        skipped: &'a [crate::scan::Skipped],
    }
    let mut out = serde_json::to_vec_pretty(&Doc {
        files: entries(scan, a),
        skipped: &scan.skipped,
    })
    .map_err(|e| Error::json("the inventory", e))?;
    out.push(b'\n');
    Ok(out)
}
