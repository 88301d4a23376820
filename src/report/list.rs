//! `evpack list`: the inventory of the evidence folder, file by file.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use crate::assess::{Assessment, Covers, UnusableFile};
use crate::content::Check;
use crate::dating::{DateLabel, DateSource, Precision, YearStart};
use crate::scan::Scan;
use crate::util::printable;

#[derive(Serialize)]
struct Entry<'a> {
    path: &'a str,
    date: DateLabel,
    date_precision: Precision,
    /// The period the date stands for.
    covers: Covers,
    date_source: DateSource,
    size: u64,
    serves: &'a [&'a str],
    /// Whether the file opens; `null` for a file no requirement matches (not checked).
    check: Option<Check>,
    check_detail: Option<&'a str>,
}

/// What the entries are made from: the requirements each file serves and the files that
/// will not open, by path. Entries are made one at a time as they are written, so the list
/// of a drive of 200,000 files is never held whole.
struct Inventory<'a> {
    scan: &'a Scan,
    year_start: YearStart,
    serves: BTreeMap<&'a str, Vec<&'a str>>,
    unusable: HashMap<&'a str, &'a UnusableFile>,
}

impl<'a> Inventory<'a> {
    fn of(scan: &'a Scan, a: &'a Assessment) -> Inventory<'a> {
        Inventory {
            scan,
            year_start: a.visit.year_start,
            serves: a.serves(),
            unusable: a.unusable.iter().map(|u| (u.path.as_str(), u)).collect(),
        }
    }

    fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.scan.files.iter().map(|f| {
            let serves = self
                .serves
                .get(f.rel.as_str())
                .map_or(&[][..], Vec::as_slice);
            let found = self.unusable.get(f.rel.as_str());
            let (from, to) = f.date.covers();
            Entry {
                path: &f.rel,
                date: DateLabel {
                    date: f.date,
                    year_start: self.year_start,
                },
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
    }
}

/// The inventory as text: the matched files, then the unmatched, then what was skipped.
pub fn write_text(scan: &Scan, a: &Assessment, o: &mut dyn Write) -> io::Result<()> {
    let inv = Inventory::of(scan, a);
    let matched_count = inv.entries().filter(|e| !e.serves.is_empty()).count();
    let matched = inv.entries().filter(|e| !e.serves.is_empty());
    writeln!(o, "Evidence files ({matched_count})")?;
    writeln!(
        o,
        "{:<10}  {:<8}  {:<18}  {:<40}  SERVES",
        "DATE", "FROM", "CHECK", "PATH"
    )?;
    for e in matched {
        writeln!(
            o,
            "{:<10}  {:<8}  {:<18}  {:<40}  {}",
            e.date.to_string(),
            e.date_source.key(),
            e.check.map_or("", Check::label),
            printable(e.path),
            e.serves.join(", ")
        )?;
        if let Some(detail) = e.check_detail {
            writeln!(o, "{:<40}  {}", "", printable(detail))?;
        }
    }
    writeln!(o)?;
    writeln!(
        o,
        "Unmatched files ({}): they match no requirement and are never packed",
        scan.files.len() - matched_count
    )?;
    for e in inv.entries().filter(|e| e.serves.is_empty()) {
        writeln!(
            o,
            "{:<10}  {:<8}  {}",
            e.date.to_string(),
            e.date_source.key(),
            printable(e.path)
        )?;
    }
    if !scan.skipped.is_empty() {
        writeln!(o)?;
        writeln!(o, "Skipped ({})", scan.skipped.len())?;
        for s in &scan.skipped {
            writeln!(o, "  {}: {}", printable(&s.path), printable(&s.reason))?;
        }
    }
    Ok(())
}

/// The inventory as JSON: `files[]` (every file scanned) and `skipped[]`.
pub fn write_json(scan: &Scan, a: &Assessment, out: &mut dyn Write) -> io::Result<()> {
    struct Files<'i, 'a>(&'i Inventory<'a>);
    impl Serialize for Files<'_, '_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.entries())
        }
    }
    #[derive(Serialize)]
    struct Doc<'i, 'a> {
        files: Files<'i, 'a>,
        skipped: &'a [crate::scan::Skipped],
    }
    let inv = Inventory::of(scan, a);
    let doc = Doc {
        files: Files(&inv),
        skipped: &scan.skipped,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
