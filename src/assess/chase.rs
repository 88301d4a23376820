//! The chase list: per owner, each requirement not met and what would meet it, in words a
//! head of service can act on ("a file dated 2020-11", "2 more files dated 2020-07-18 to
//! 2021-01-18"), with the date by which it must be dated to count.
//!
//! Derived from the assessment's structured fields (status, periods, counts, files and their
//! checks), never from its reason strings: those are prose for people and may change wording.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{Assessment, RequirementResult, Status, Window};
use crate::content::Check;
use crate::manifest::EvidenceKind;

/// Everyone with something to supply, owners in name order (ignoring case), then the
/// requirements nobody owns.
#[derive(Debug, Clone, Serialize)]
pub struct ChaseList {
    /// Evidence must be dated on or before this day to count: the reference date (the
    /// visit date unless `--as-of`).
    pub by: NaiveDate,
    pub owners: Vec<OwnerChase>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OwnerChase {
    /// `None`: the requirements without an owner, always last.
    pub owner: Option<String>,
    pub items: Vec<ChaseItem>,
}

/// One requirement not met and what it needs.
#[derive(Debug, Clone, Serialize)]
pub struct ChaseItem {
    pub area_id: String,
    pub area_title: String,
    pub requirement_id: String,
    pub title: String,
    pub required: bool,
    pub status: Status,
    /// Where the files go: the requirement's globs.
    pub paths: Vec<String>,
    pub needs: Vec<Need>,
    /// Dated on or before this day, to be counted at the visit.
    pub by: NaiveDate,
}

/// One thing a requirement needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Need {
    /// A file dated in a cadence period that has none (`2020-11`, `Q3 2020-21`).
    Period { label: String },
    /// The newest file is too old: a new one dated on or after `since`.
    Newer {
        noun: &'static str,
        since: NaiveDate,
    },
    /// `count` more files dated from `from` to `to` (`more`: some already count).
    Files {
        noun: &'static str,
        count: usize,
        more: bool,
        from: NaiveDate,
        to: NaiveDate,
    },
    /// A file matched but will not open: a copy that does.
    Opens { path: String, check: Check },
}

impl Need {
    /// The need in words.
    pub fn describe(&self) -> String {
        match self {
            Need::Period { label } => format!("a file dated {label}"),
            Need::Newer { noun, since } => format!("{noun} dated {since} or later"),
            Need::Files {
                noun,
                count,
                more,
                from,
                to,
            } => match (count, more) {
                (1, false) => format!("{noun} dated {from} to {to}"),
                (1, true) => format!("1 more file dated {from} to {to}"),
                (n, true) => format!("{n} more files dated {from} to {to}"),
                (n, false) => format!("{n} {noun} dated {from} to {to}"),
            },
            Need::Opens { path, check } => format!(
                "a copy of `{path}` that opens (it is {})",
                match check {
                    Check::Ok => "fine",
                    Check::Empty => "empty",
                    Check::WrongType => "not what its name says",
                    Check::Corrupt => "damaged",
                    Check::PasswordProtected => "password-protected",
                    Check::Unreadable => "unreadable",
                }
            ),
        }
    }
}

/// The chase list of an assessment: every requirement not met, advisory ones included
/// (marked), grouped by owner.
pub fn chase_list(a: &Assessment) -> ChaseList {
    let mut by_owner: BTreeMap<(String, String), Vec<ChaseItem>> = BTreeMap::new();
    let mut unowned = Vec::new();
    for area in &a.areas {
        for r in area.requirements.iter().filter(|r| r.status != Status::Met) {
            let item = ChaseItem {
                area_id: area.id.clone(),
                area_title: area.title.clone(),
                requirement_id: r.id.clone(),
                title: r.title.clone(),
                required: r.required,
                status: r.status,
                paths: r.paths.clone(),
                needs: needs(r, a.window),
                by: a.reference_date,
            };
            match r.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
                Some(o) => by_owner
                    .entry((o.to_lowercase(), o.to_string()))
                    .or_default()
                    .push(item),
                None => unowned.push(item),
            }
        }
    }
    let mut owners: Vec<OwnerChase> = by_owner
        .into_iter()
        .map(|((_, owner), items)| OwnerChase {
            owner: Some(owner),
            items,
        })
        .collect();
    if !unowned.is_empty() {
        owners.push(OwnerChase {
            owner: None,
            items: unowned,
        });
    }
    ChaseList {
        by: a.reference_date,
        owners,
    }
}

/// What would meet `r`: a fresh file when it is stale, a file for each period without
/// one, then as many more files as `min_files` still lacks (the files above count towards
/// it), then a working copy of each file that will not open.
fn needs(r: &RequirementResult, window: Window) -> Vec<Need> {
    let noun = noun(r.evidence);
    let counted = counted_window(r, window);
    let mut needs = Vec::new();
    if r.status == Status::Stale {
        needs.push(Need::Newer {
            noun: noun.0,
            since: counted.start,
        });
    }
    needs.extend(
        r.periods
            .iter()
            .filter(|p| !p.covered)
            .map(|p| Need::Period {
                label: p.label.clone(),
            }),
    );
    let supplied = r.files_in_window + needs.len();
    let short = (r.min_files as usize).saturating_sub(supplied);
    if short > 0 {
        needs.push(Need::Files {
            noun: if short == 1 { noun.0 } else { noun.1 },
            count: short,
            more: supplied > 0,
            from: counted.start,
            to: counted.end,
        });
    }
    needs.extend(
        r.files
            .iter()
            .filter(|f| f.check != Check::Ok)
            .map(|f| Need::Opens {
                path: f.path.to_string(),
                check: f.check,
            }),
    );
    needs
}

/// The dates whose files count towards `min_files`: the look-back window, or `max_age_days`
/// back from the reference date when that reaches further (as the assessment counts them).
fn counted_window(r: &RequirementResult, window: Window) -> Window {
    let start = r
        .max_age_days
        .and_then(|d| window.end.checked_sub_days(chrono::Days::new(u64::from(d))))
        .map_or(window.start, |s| match r.status {
            // Freshness is judged against max_age_days alone, so a new file must be newer
            // than that even when the window reaches further back.
            Status::Stale => s,
            _ => s.min(window.start),
        });
    Window {
        start,
        end: window.end,
    }
}

/// "an audit" / "audits", for the need's words.
fn noun(kind: EvidenceKind) -> (&'static str, &'static str) {
    match kind {
        EvidenceKind::Audit => ("an audit", "audits"),
        EvidenceKind::Plan => ("a plan", "plans"),
        EvidenceKind::Scorecard => ("a scorecard", "scorecards"),
        EvidenceKind::Report => ("a report", "reports"),
        EvidenceKind::Minutes => ("minutes", "sets of minutes"),
        EvidenceKind::Policy => ("a policy", "policies"),
        EvidenceKind::Training => ("a training record", "training records"),
        EvidenceKind::Other => ("a file", "files"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_in_words() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
        let (from, to) = (d("2020-07-18"), d("2021-01-18"));
        let cases = [
            (
                Need::Period {
                    label: "2020-11".into(),
                },
                "a file dated 2020-11",
            ),
            (
                Need::Newer {
                    noun: "a policy",
                    since: from,
                },
                "a policy dated 2020-07-18 or later",
            ),
            (
                Need::Files {
                    noun: "audits",
                    count: 2,
                    more: true,
                    from,
                    to,
                },
                "2 more files dated 2020-07-18 to 2021-01-18",
            ),
            (
                Need::Files {
                    noun: "sets of minutes",
                    count: 2,
                    more: false,
                    from,
                    to,
                },
                "2 sets of minutes dated 2020-07-18 to 2021-01-18",
            ),
            (
                Need::Files {
                    noun: "a plan",
                    count: 1,
                    more: false,
                    from,
                    to,
                },
                "a plan dated 2020-07-18 to 2021-01-18",
            ),
            (
                Need::Opens {
                    path: "plans/p.docx".into(),
                    check: Check::PasswordProtected,
                },
                "a copy of `plans/p.docx` that opens (it is password-protected)",
            ),
        ];
        for (need, words) in cases {
            assert_eq!(need.describe(), words);
        }
    }
}
