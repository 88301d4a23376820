//! The terminal report: a summary per area, then the gaps with their owners (what the
//! improvement team chases each week). Colour only when asked; names are sanitised because
//! a file name can hold terminal control codes.

use std::fmt::Write as _;

use crate::assess::{Assessment, Rag, Status};
use crate::util::printable;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn status(&self, s: Status) -> String {
        let code = match s {
            Status::Met => "32",
            Status::Partial => "33",
            Status::Stale => "35",
            Status::Missing => "31",
        };
        self.wrap(code, &format!("{:<7}", s.label()))
    }
    fn rag(&self, r: Rag) -> String {
        let code = match r {
            Rag::Green => "1;32",
            Rag::Amber => "1;33",
            Rag::Red => "1;31",
        };
        self.wrap(code, &format!("{:<5}", r.label().to_uppercase()))
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
}

/// The full report: headline, every area, then the gaps.
pub fn render(a: &Assessment, color: bool) -> String {
    let p = Paint(color);
    let mut o = headline(a, &p);
    areas(a, &p, &mut o);
    gaps(a, &p, &mut o);
    o
}

/// The short form `build` prints: headline and gaps, without the per-area detail.
pub fn render_summary(a: &Assessment, color: bool) -> String {
    let p = Paint(color);
    let mut o = headline(a, &p);
    gaps(a, &p, &mut o);
    o
}

fn headline(a: &Assessment, p: &Paint) -> String {
    let mut o = String::new();
    let s = &a.summary;
    let _ = writeln!(
        o,
        "{}",
        p.bold(&format!(
            "{} - {}",
            printable(&a.visit.name),
            printable(&a.visit.authority)
        ))
    );
    let _ = writeln!(
        o,
        "Visit {} | as of {} | look-back {} to {} ({} months)",
        a.visit.date, a.reference_date, a.window.start, a.window.end, a.visit.lookback_months
    );
    let _ = writeln!(
        o,
        "Manifest {} (sha256 {}) | evidence {}",
        printable(&a.manifest.path),
        &a.manifest.sha256[..12.min(a.manifest.sha256.len())],
        printable(&a.evidence_dir)
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{} {} of {} required requirements met",
        p.bold(&format!("Readiness {}%:", s.readiness_percent)),
        s.required_met,
        s.required_total
    );
    let _ = writeln!(
        o,
        "Required: {} met, {} partial, {} stale, {} missing | Advisory: {} met, {} partial, {} stale, {} missing",
        s.required.met,
        s.required.partial,
        s.required.stale,
        s.required.missing,
        s.advisory.met,
        s.advisory.partial,
        s.advisory.stale,
        s.advisory.missing
    );
    let _ = writeln!(
        o,
        "Areas: {} green, {} amber, {} red | Files: {} scanned, {} matched, {} unmatched, {} skipped, {} will not open",
        s.areas.green,
        s.areas.amber,
        s.areas.red,
        s.files_scanned,
        s.files_matched,
        s.files_unmatched,
        s.files_skipped,
        s.files_unusable
    );
    date_notes(a, &mut o);
    o
}

/// Dates the reader should doubt: files dated only by modification time, and files dated
/// after the reference date (which do not count).
fn date_notes(a: &Assessment, o: &mut String) {
    let s = &a.summary;
    if s.files_dated_by_modification > 0 {
        let n = s.files_dated_by_modification;
        let _ = writeln!(
            o,
            "{} no date in {} name or folder: dated by modification time, which a copy resets",
            if n == 1 {
                "1 file has".to_string()
            } else {
                format!("{n} files have")
            },
            if n == 1 { "its" } else { "their" }
        );
    }
    if s.files_after_reference > 0 {
        let n = s.files_after_reference;
        let _ = writeln!(
            o,
            "{} dated after the reference date {}, not counted",
            if n == 1 {
                "1 file".to_string()
            } else {
                format!("{n} files")
            },
            a.reference_date
        );
    }
}

fn areas(a: &Assessment, p: &Paint, o: &mut String) {
    for area in &a.areas {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{} {} {} {}",
            p.rag(area.rag),
            p.bold(&area.id),
            p.bold(&printable(&area.title)),
            p.dim(&format!("({})", area.kind_label))
        );
        for r in &area.requirements {
            let files = match (&r.newest, r.files.len()) {
                (_, 0) => String::new(),
                (Some(n), k) => format!("{k} file{}, newest {n}", if k == 1 { "" } else { "s" }),
                (None, k) => format!("{k} file{}", if k == 1 { "" } else { "s" }),
            };
            let _ = writeln!(
                o,
                "  {} {:<8} {}{}{}",
                p.status(r.status),
                r.id,
                printable(&r.title),
                if r.required { "" } else { " [advisory]" },
                if files.is_empty() {
                    String::new()
                } else {
                    format!(" {}", p.dim(&files))
                }
            );
            for reason in &r.reasons {
                let _ = writeln!(o, "           - {}", printable(reason));
            }
        }
    }
}

fn gaps(a: &Assessment, p: &Paint, o: &mut String) {
    let gaps: Vec<_> = a
        .areas
        .iter()
        .flat_map(|ar| ar.requirements.iter().map(move |r| (ar, r)))
        .filter(|(_, r)| r.status != Status::Met)
        .collect();
    let _ = writeln!(o);
    if gaps.is_empty() {
        let _ = writeln!(o, "{}", p.bold("No gaps: every requirement is met."));
    } else {
        let _ = writeln!(o, "{}", p.bold(&format!("Gaps to chase ({})", gaps.len())));
        for (_, r) in gaps {
            let _ = writeln!(
                o,
                "  {:<8} {} {}{}: {}",
                r.id,
                p.status(r.status),
                printable(r.owner.as_deref().unwrap_or("no owner named")),
                if r.required { "" } else { " [advisory]" },
                printable(&r.reasons.join("; "))
            );
        }
    }
    unusable(a, p, o);
    duplicates(a, p, o);
    if !a.unmatched.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{} and will never be packed (`evpack list` shows them).",
            if a.unmatched.len() == 1 {
                "1 file matches no requirement".to_string()
            } else {
                format!("{} files match no requirement", a.unmatched.len())
            }
        );
    }
    if !a.skipped.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}", p.bold(&format!("Skipped ({})", a.skipped.len())));
        for sk in &a.skipped {
            let serves = if sk.serves.is_empty() {
                String::new()
            } else {
                format!(
                    " (asked for by {}: it cannot be packed)",
                    sk.serves.join(", ")
                )
            };
            let _ = writeln!(
                o,
                "  {}: {}{serves}",
                printable(&sk.path),
                printable(&sk.reason)
            );
        }
    }
}

/// The matched files that will not open, with what each would have served and who owns it:
/// the improvement team replaces them before the visit.
fn unusable(a: &Assessment, p: &Paint, o: &mut String) {
    if a.unusable.is_empty() {
        return;
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{}",
        p.bold(&format!("Files that will not open ({})", a.unusable.len()))
    );
    for u in &a.unusable {
        let detail = u
            .detail
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {} {}{}",
            printable(&u.path),
            p.wrap("31", u.check.label()),
            printable(&detail)
        );
        let _ = writeln!(
            o,
            "           for {}",
            printable(&serves_with_owners(a, &u.requirements))
        );
    }
}

/// `P1.1 (Head of Service), P2.3 (no owner named)`.
fn serves_with_owners(a: &Assessment, ids: &[String]) -> String {
    ids.iter()
        .map(|id| {
            let owner = a
                .areas
                .iter()
                .flat_map(|ar| &ar.requirements)
                .find(|r| &r.id == id)
                .and_then(|r| r.owner.as_deref())
                .unwrap_or("no owner named");
            format!("{id} ({owner})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files with identical bytes: both stay evidence, but count once.
fn duplicates(a: &Assessment, p: &Paint, o: &mut String) {
    if a.duplicates.is_empty() {
        return;
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{}",
        p.bold(&format!(
            "Identical copies ({} set{}): each set counts once",
            a.duplicates.len(),
            if a.duplicates.len() == 1 { "" } else { "s" }
        ))
    );
    for group in &a.duplicates {
        let _ = writeln!(
            o,
            "  {}",
            group
                .iter()
                .map(|path| printable(path))
                .collect::<Vec<_>>()
                .join("  =  ")
        );
    }
}
