//! The chase list (`gaps --by-owner`) as text, Markdown (to paste into an email to each
//! owner) and CSV (one row per need, for a tracker). Pure: a [`ChaseList`] in, bytes out.

use std::fmt::Write as _;

use super::csv::defuse;
use super::templates::escape_markdown;
use crate::assess::chase::{ChaseItem, ChaseList, OwnerChase};
use crate::util::{is_bidi_control, printable};

const NO_OWNER: &str = "No owner named";

fn owner_name(o: &OwnerChase) -> &str {
    o.owner.as_deref().unwrap_or(NO_OWNER)
}

fn tag(item: &ChaseItem) -> &'static str {
    if item.required {
        ""
    } else {
        " (advisory)"
    }
}

/// Plain text for a terminal: every name escaped so it cannot drive the terminal.
pub fn text(list: &ChaseList) -> String {
    let mut o = String::new();
    if list.owners.is_empty() {
        let _ = writeln!(o, "Nothing to chase: every requirement is met.");
        return o;
    }
    let _ = writeln!(
        o,
        "Chase list: evidence must be dated on or before {} to count at the visit.",
        list.by
    );
    for owner in &list.owners {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{} ({})",
            printable(owner_name(owner)),
            count(owner.items.len())
        );
        for item in &owner.items {
            let _ = writeln!(
                o,
                "  {} {} [{}{}], in {}",
                printable(&item.requirement_id),
                printable(&item.title),
                item.status.label(),
                tag(item),
                printable(&item.paths.join(" or ")),
            );
            for need in &item.needs {
                let _ = writeln!(o, "    - {}, by {}", printable(&need.describe()), item.by);
            }
        }
    }
    o
}

/// Markdown: a heading per owner and a list per requirement, so each owner's part pastes
/// into an email on its own.
pub fn markdown(list: &ChaseList) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Evidence to supply\n");
    if list.owners.is_empty() {
        let _ = writeln!(o, "Nothing to chase: every requirement is met.");
        return o;
    }
    let _ = writeln!(
        o,
        "Evidence must be dated on or before **{}** to count at the visit.",
        list.by
    );
    for owner in &list.owners {
        let _ = writeln!(o, "\n## {}\n", escape_markdown(owner_name(owner)));
        for item in &owner.items {
            let _ = writeln!(
                o,
                "- **{} {}** ({}{}; area {}), in {}",
                escape_markdown(&item.requirement_id),
                escape_markdown(&item.title),
                item.status.label(),
                if item.required { "" } else { ", advisory" },
                escape_markdown(&item.area_id),
                item.paths
                    .iter()
                    .map(|p| code_span(p))
                    .collect::<Vec<_>>()
                    .join(" or "),
            );
            for need in &item.needs {
                let _ = writeln!(
                    o,
                    "  - {}, by {}",
                    escape_markdown(&need.describe()),
                    item.by
                );
            }
        }
    }
    o
}

pub const CSV_HEADER: [&str; 9] = [
    "owner",
    "area_id",
    "requirement_id",
    "requirement_title",
    "status",
    "required",
    "needed",
    "by",
    "paths",
];

/// CSV: one row per need, owners in the order of the list; formula-like cells defused.
pub fn write_csv(list: &ChaseList, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    write_rows(list, out).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    })
}

fn write_rows(list: &ChaseList, out: &mut dyn std::io::Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for owner in &list.owners {
        for item in &owner.items {
            let by = item.by.to_string();
            let paths = item.paths.join("; ");
            for need in &item.needs {
                let needed = need.describe();
                let row = [
                    owner.owner.as_deref().unwrap_or(""),
                    item.area_id.as_str(),
                    item.requirement_id.as_str(),
                    item.title.as_str(),
                    item.status.label(),
                    if item.required {
                        "yes"
                    } else {
                        "no (advisory)"
                    },
                    needed.as_str(),
                    by.as_str(),
                    paths.as_str(),
                ];
                w.write_record(row.iter().map(|c| defuse(c)))?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// A glob as a code span, so it reads as typed in an email; one holding a backtick (or a
/// line break) is escaped instead, since it would end the span.
fn code_span(p: &str) -> String {
    if p.chars()
        .any(|c| c == '`' || c.is_control() || is_bidi_control(c))
    {
        escape_markdown(p)
    } else {
        format!("`{p}`")
    }
}

fn count(n: usize) -> String {
    format!("{n} requirement{}", if n == 1 { "" } else { "s" })
}
