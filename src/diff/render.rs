//! A [`Diff`] as text (for a terminal or a scheduled job's log) and as Markdown (for the
//! board papers). Pure; JSON is the value itself, serialised by the command.

use std::fmt::Write as _;

use super::{Change, ComparedBy, Diff, RequirementChange, SideInfo, SideKind};
use crate::assess::{Rag, Status};
use crate::report::templates::escape_markdown;
use crate::util::printable;

fn side(s: &SideInfo) -> String {
    match s.kind {
        SideKind::Pack => format!(
            "pack {}{}",
            s.path,
            s.bagging_date
                .map(|d| format!(" (bagged {d})"))
                .unwrap_or_default()
        ),
        SideKind::Assessment => format!("saved assessment {} (as of {})", s.path, s.reference_date),
    }
}

fn status(s: Option<Status>) -> &'static str {
    s.map_or("not in the manifest", Status::label)
}

fn rag(r: Option<Rag>) -> &'static str {
    r.map_or("not in the manifest", Rag::label)
}

fn readiness_line(d: &Diff) -> String {
    let (o, n) = (d.readiness.old, d.readiness.new);
    let how = match n.cmp(&o) {
        std::cmp::Ordering::Greater => format!("up {}", n - o),
        std::cmp::Ordering::Less => format!("down {}", o - n),
        std::cmp::Ordering::Equal => "unchanged".to_string(),
    };
    format!("Readiness: {o}% -> {n}% ({how})")
}

fn compared_by(d: &Diff) -> &'static str {
    match d.compared_by {
        ComparedBy::Digest => "compared by SHA-256",
        ComparedBy::SizeAndDate => "compared by path, size and date: no digests",
    }
}

fn grouped(d: &Diff, change: Change) -> Vec<&RequirementChange> {
    d.requirements
        .iter()
        .filter(|r| r.change == change)
        .collect()
}

/// Plain text; every name escaped so it cannot drive the terminal.
pub fn text(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Old: {}", printable(&side(&d.old)));
    let _ = writeln!(o, "New: {}", printable(&side(&d.new)));
    for n in &d.notes {
        let _ = writeln!(o, "Note: {}", printable(n));
    }
    let _ = writeln!(o, "\n{}", readiness_line(d));
    if !d.areas.is_empty() {
        let _ = writeln!(o, "\nAreas whose RAG changed ({})", d.areas.len());
        for a in &d.areas {
            let _ = writeln!(
                o,
                "  {:<8} {} -> {}",
                printable(&a.id),
                rag(a.old),
                rag(a.new)
            );
        }
    }
    for (change, title) in [(Change::Worse, "Worse"), (Change::Better, "Better")] {
        let list = grouped(d, change);
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n{title} ({})", list.len());
        for r in list {
            let _ = writeln!(
                o,
                "  {:<8} {}: {} -> {}{}",
                printable(&r.id),
                printable(&r.title),
                status(r.old),
                status(r.new),
                if r.required { "" } else { " [advisory]" }
            );
            for reason in &r.reasons {
                let _ = writeln!(o, "           {}", printable(reason));
            }
        }
    }
    if d.requirements.is_empty() {
        let _ = writeln!(o, "\nNo requirement changed status.");
    }
    let f = &d.files;
    let _ = writeln!(
        o,
        "\nEvidence ({}): {} added, {} removed, {} modified, {} moved",
        compared_by(d),
        f.added.len(),
        f.removed.len(),
        f.modified.len(),
        f.moved.len()
    );
    for (label, list) in [
        ("added", &f.added),
        ("removed", &f.removed),
        ("modified", &f.modified),
    ] {
        for p in list {
            let _ = writeln!(o, "  {label:<9} {}", printable(p));
        }
    }
    for m in &f.moved {
        let _ = writeln!(
            o,
            "  {:<9} {} -> {}",
            "moved",
            printable(&m.from),
            printable(&m.to)
        );
    }
    o
}

/// Markdown, for the board papers.
pub fn markdown(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# What changed\n");
    let _ = writeln!(o, "- Old: {}", escape_markdown(&side(&d.old)));
    let _ = writeln!(o, "- New: {}", escape_markdown(&side(&d.new)));
    for n in &d.notes {
        let _ = writeln!(o, "- Note: {}", escape_markdown(n));
    }
    let _ = writeln!(o, "\n**{}**", readiness_line(d));
    if !d.areas.is_empty() {
        let _ = writeln!(o, "\n## Areas whose RAG changed\n");
        let _ = writeln!(o, "| Area | Was | Now |\n|---|---|---|");
        for a in &d.areas {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                escape_markdown(&a.id),
                rag(a.old),
                rag(a.new)
            );
        }
    }
    for (change, title) in [(Change::Worse, "Worse"), (Change::Better, "Better")] {
        let list = grouped(d, change);
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n## {title}\n");
        for r in list {
            let _ = writeln!(
                o,
                "- **{} {}**: {} -> {}{}",
                escape_markdown(&r.id),
                escape_markdown(&r.title),
                status(r.old),
                status(r.new),
                if r.required { "" } else { " (advisory)" }
            );
            for reason in &r.reasons {
                let _ = writeln!(o, "  - {}", escape_markdown(reason));
            }
        }
    }
    let f = &d.files;
    let _ = writeln!(
        o,
        "\n## Evidence\n\nFiles ({}): {} added, {} removed, {} modified, {} moved.\n",
        compared_by(d),
        f.added.len(),
        f.removed.len(),
        f.modified.len(),
        f.moved.len()
    );
    for (label, list) in [
        ("Added", &f.added),
        ("Removed", &f.removed),
        ("Modified", &f.modified),
    ] {
        for p in list {
            let _ = writeln!(o, "- {label}: {}", escape_markdown(p));
        }
    }
    for m in &f.moved {
        let _ = writeln!(
            o,
            "- Moved: {} to {}",
            escape_markdown(&m.from),
            escape_markdown(&m.to)
        );
    }
    o
}
