//! What changed between two assessments: last month's pack and this month's, or two saved
//! `gaps --format json` files, or one of each. Pure: [`read_side`] reads a side (the only
//! I/O, through the pack reader `verify` uses), [`compare`] returns a [`Diff`], and
//! [`render`] turns it into text or Markdown; the command prints it and picks the exit code.
//!
//! Evidence is compared by SHA-256 when both sides are packs (their `pack.json` lists each
//! payload file's digest, as `manifest-sha256.txt` does); a saved assessment holds no
//! digests, so then files are compared by path, size and date, and the diff says so.
//!
//! # JSON (`--format json`), schema `evpack.diff.v1`
//!
//! ```text
//! schema, tool {name, version},
//! old {path, kind (pack|assessment), authority, visit_date, reference_date, bagging_date},
//! new {...},
//! compared_by ("sha256" | "path, size and date"), notes[],
//! readiness {old, new},
//! areas[] {id, old, new}                       (RAG changed; null = not on that side)
//! requirements[] {id, title, area, required, old, new, change (better|worse), reasons[]}
//! files {added[], removed[], modified[], moved[] {from, to}}
//! worse (true when a required requirement got worse or readiness fell: exit 1)
//! ```

mod history;
mod read;
pub mod render;

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::assess::{Rag, Status};
use crate::error::{Error, Result};

pub use history::{read_history, History, LeftOut};
pub use read::{read_side, read_summary};

pub const SCHEMA: &str = "evpack.diff.v1";

/// What a side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SideKind {
    Pack,
    Assessment,
}

/// One side as read: what a diff compares, and no more.
#[derive(Debug, Clone)]
pub struct Side {
    pub path: String,
    pub kind: SideKind,
    pub authority: String,
    pub visit_name: String,
    pub visit_date: NaiveDate,
    pub manifest_sha256: String,
    pub reference_date: NaiveDate,
    /// A pack's bagging date (`bag.bagging_date`); none for a saved assessment.
    pub bagging_date: Option<NaiveDate>,
    pub readiness: u32,
    pub areas: Vec<AreaState>,
    pub requirements: Vec<ReqState>,
    /// Every file the side lists, by path (sorted).
    pub files: Vec<(Box<str>, FileState)>,
}

impl Side {
    /// The day this side speaks for: a pack's bagging date, else its reference date.
    pub fn as_of(&self) -> NaiveDate {
        self.bagging_date.unwrap_or(self.reference_date)
    }
}

#[derive(Debug, Clone, Default)]
pub struct AreaState {
    pub id: String,
    pub rag: Option<Rag>,
}

#[derive(Debug, Clone)]
pub struct ReqState {
    pub id: String,
    pub area: String,
    pub title: String,
    pub required: bool,
    pub status: Status,
    pub reasons: Vec<String>,
    /// Reasons past the ones kept.
    pub more_reasons: usize,
}

impl Default for ReqState {
    fn default() -> Self {
        ReqState {
            id: String::new(),
            area: String::new(),
            title: String::new(),
            required: true,
            status: Status::Missing,
            reasons: Vec::new(),
            more_reasons: 0,
        }
    }
}

/// A file as a side lists it: compact, since a pack may hold hundreds of thousands.
#[derive(Debug, Clone)]
pub struct FileState {
    pub size: u64,
    pub sha256: Option<[u8; 32]>,
    pub date: Option<Box<str>>,
    /// Its check was `ok` (or not recorded): it opens.
    pub opens: bool,
}

impl Default for FileState {
    fn default() -> Self {
        FileState {
            size: 0,
            sha256: None,
            date: None,
            opens: true,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    pub path: String,
    pub kind: SideKind,
    pub authority: String,
    pub visit_date: NaiveDate,
    pub reference_date: NaiveDate,
    pub bagging_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Pair<T> {
    pub old: T,
    pub new: T,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaChange {
    pub id: String,
    pub old: Option<Rag>,
    pub new: Option<Rag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Better,
    Worse,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementChange {
    pub id: String,
    pub title: String,
    pub area: String,
    pub required: bool,
    /// `None`: the requirement is not on that side (manifests differ, with `--force`).
    pub old: Option<Status>,
    pub new: Option<Status>,
    pub change: Change,
    /// The new side's reasons (empty when now met or gone).
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FileChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
    pub moved: Vec<Moved>,
}

impl FileChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.modified.is_empty()
            && self.moved.is_empty()
    }
}

/// How files were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ComparedBy {
    #[serde(rename = "sha256")]
    Digest,
    #[serde(rename = "path, size and date")]
    SizeAndDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub tool: crate::Tool,
    pub old: SideInfo,
    pub new: SideInfo,
    pub compared_by: ComparedBy,
    /// What the reader must know: sides of different manifests compared with `--force`.
    pub notes: Vec<String>,
    pub readiness: Pair<u32>,
    pub areas: Vec<AreaChange>,
    pub requirements: Vec<RequirementChange>,
    pub files: FileChanges,
    /// A required requirement got worse, or readiness fell.
    pub worse: bool,
}

/// Compares two sides. Sides of different authorities or manifests are an error naming
/// both, unless `force`: then they are compared and a note says so.
pub fn compare(old: &Side, new: &Side, force: bool) -> Result<Diff> {
    let mut notes = Vec::new();
    let mut mismatch = Vec::new();
    if old.authority != new.authority {
        mismatch.push(format!(
            "they are of different authorities (`{}` and `{}`)",
            old.authority, new.authority
        ));
    }
    if old.manifest_sha256 != new.manifest_sha256 {
        mismatch.push(
            "they were assessed against different manifests (their SHA-256 differ)".to_string(),
        );
    }
    if !mismatch.is_empty() {
        let said = mismatch.join(", and ");
        if !force {
            return Err(Error::input(
                &new.path,
                format!("cannot compare it with `{}`: {said}", old.path),
                "compare two packs (or saved assessments) of the same manifest, or add --force to compare them anyway",
            ));
        }
        notes.push(format!("compared with --force although {said}"));
    }
    let compared_by = if old.kind == SideKind::Pack && new.kind == SideKind::Pack {
        ComparedBy::Digest
    } else {
        notes.push(
            "a saved assessment holds no digests: files were compared by path, size and date, so a file changed without changing its size or date is not seen, and a move is a guess"
                .to_string(),
        );
        ComparedBy::SizeAndDate
    };
    if old.kind != new.kind {
        notes.push(
            "matched files that will not open are not compared: a pack leaves them out, a saved assessment lists them"
                .to_string(),
        );
    }
    let requirements = requirement_changes(old, new);
    let readiness = Pair {
        old: old.readiness,
        new: new.readiness,
    };
    let worse = readiness.new < readiness.old
        || requirements
            .iter()
            .any(|r| r.required && r.change == Change::Worse);
    Ok(Diff {
        schema: SCHEMA,
        tool: crate::Tool::EVPACK,
        old: info(old),
        new: info(new),
        compared_by,
        notes,
        readiness,
        areas: area_changes(old, new),
        requirements,
        files: file_changes(old, new, compared_by),
        worse,
    })
}

fn info(s: &Side) -> SideInfo {
    SideInfo {
        path: s.path.clone(),
        kind: s.kind,
        authority: s.authority.clone(),
        visit_date: s.visit_date,
        reference_date: s.reference_date,
        bagging_date: s.bagging_date,
    }
}

/// Areas whose RAG differs, in the new side's order, then areas only the old side has.
fn area_changes(old: &Side, new: &Side) -> Vec<AreaChange> {
    let before: HashMap<&str, Option<Rag>> =
        old.areas.iter().map(|a| (a.id.as_str(), a.rag)).collect();
    let after: HashMap<&str, Option<Rag>> =
        new.areas.iter().map(|a| (a.id.as_str(), a.rag)).collect();
    let mut out: Vec<AreaChange> = new
        .areas
        .iter()
        .filter_map(|a| {
            let was = before.get(a.id.as_str()).copied().flatten();
            (was != a.rag).then(|| AreaChange {
                id: a.id.clone(),
                old: was,
                new: a.rag,
            })
        })
        .collect();
    out.extend(
        old.areas
            .iter()
            .filter(|a| !after.contains_key(a.id.as_str()))
            .map(|a| AreaChange {
                id: a.id.clone(),
                old: a.rag,
                new: None,
            }),
    );
    out
}

/// How bad a status is: met, partial, stale, missing (the order the reports use).
fn rank(s: Option<Status>) -> u8 {
    match s {
        Some(Status::Met) => 0,
        Some(Status::Partial) => 1,
        Some(Status::Stale) => 2,
        Some(Status::Missing) | None => 3,
    }
}

/// Requirements whose status changed, in the new side's order, then those only the old
/// side has (gone: better, since nothing is asked of them now).
fn requirement_changes(old: &Side, new: &Side) -> Vec<RequirementChange> {
    let before: HashMap<&str, &ReqState> = old
        .requirements
        .iter()
        .map(|r| (r.id.as_str(), r))
        .collect();
    let after: HashMap<&str, &ReqState> = new
        .requirements
        .iter()
        .map(|r| (r.id.as_str(), r))
        .collect();
    let mut out = Vec::new();
    for r in &new.requirements {
        let was = before.get(r.id.as_str()).map(|o| o.status);
        if was == Some(r.status) {
            continue;
        }
        let mut reasons = r.reasons.clone();
        if r.more_reasons > 0 {
            reasons.push(format!("and {} more", r.more_reasons));
        }
        out.push(RequirementChange {
            id: r.id.clone(),
            title: r.title.clone(),
            area: r.area.clone(),
            required: r.required,
            old: was,
            new: Some(r.status),
            change: if rank(Some(r.status)) < rank(was) {
                Change::Better
            } else {
                Change::Worse
            },
            reasons,
        });
    }
    out.extend(
        old.requirements
            .iter()
            .filter(|r| !after.contains_key(r.id.as_str()))
            .map(|r| RequirementChange {
                id: r.id.clone(),
                title: r.title.clone(),
                area: r.area.clone(),
                required: r.required,
                old: Some(r.status),
                new: None,
                change: Change::Better,
                reasons: Vec::new(),
            }),
    );
    out
}

/// What identifies a file's content across paths: its digest, or (without digests) its
/// size and date.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Content<'a> {
    Digest([u8; 32]),
    SizeDate(u64, Option<&'a str>),
}

fn content<'a>(f: &'a FileState, by: ComparedBy) -> Content<'a> {
    match (by, f.sha256) {
        (ComparedBy::Digest, Some(d)) => Content::Digest(d),
        _ => Content::SizeDate(f.size, f.date.as_deref()),
    }
}

/// Files added, removed, modified (same path, other content) and moved (same content,
/// other path), each list in path order. Both sides' lists are sorted, so one merge walk
/// finds the first three; moves pair a removed file with an added one of the same content.
fn file_changes<'a>(old: &'a Side, new: &'a Side, by: ComparedBy) -> FileChanges {
    let mut ch = FileChanges::default();
    let mut gone: Vec<(&str, &FileState)> = Vec::new();
    let mut came: Vec<(&str, &FileState)> = Vec::new();
    // A pack holds no file that will not open (unless built to), and a saved assessment
    // lists them all: between the two they would show as added or removed.
    let mixed = old.kind != new.kind;
    let compared =
        |files: &'a [(Box<str>, FileState)]| files.iter().filter(move |(_, f)| !mixed || f.opens);
    let (mut a, mut b) = (
        compared(&old.files).peekable(),
        compared(&new.files).peekable(),
    );
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((p, f)), None) => {
                gone.push((p, f));
                a.next();
            }
            (None, Some((p, f))) => {
                came.push((p, f));
                b.next();
            }
            (Some((pa, fa)), Some((pb, fb))) => match pa.cmp(pb) {
                std::cmp::Ordering::Less => {
                    gone.push((pa, fa));
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    came.push((pb, fb));
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if content(fa, by) != content(fb, by) {
                        ch.modified.push(pa.to_string());
                    }
                    a.next();
                    b.next();
                }
            },
        }
    }
    let mut by_content: HashMap<Content, Vec<usize>> = HashMap::new();
    for (i, (_, f)) in came.iter().enumerate().rev() {
        by_content.entry(content(f, by)).or_default().push(i);
    }
    let mut taken = vec![false; came.len()];
    for (p, f) in gone {
        match by_content.get_mut(&content(f, by)).and_then(Vec::pop) {
            Some(i) => {
                taken[i] = true;
                ch.moved.push(Moved {
                    from: p.to_string(),
                    to: came[i].0.to_string(),
                });
            }
            None => ch.removed.push(p.to_string()),
        }
    }
    ch.added = came
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|((p, _), _)| p.to_string())
        .collect();
    ch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(kind: SideKind, files: &[(&str, u8, u64)], reqs: &[(&str, Status)]) -> Side {
        let mut files: Vec<(Box<str>, FileState)> = files
            .iter()
            .map(|&(p, digest, size)| {
                let f = FileState {
                    size,
                    sha256: (kind == SideKind::Pack).then_some([digest; 32]),
                    date: Some("2020-12-01".into()),
                    opens: true,
                };
                (p.into(), f)
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let date = NaiveDate::from_ymd_opt(2021, 1, 18).expect("a date");
        Side {
            path: "side".into(),
            kind,
            authority: "Example Council".into(),
            visit_name: "Focused visit".into(),
            visit_date: date,
            manifest_sha256: "ab".into(),
            reference_date: date,
            bagging_date: None,
            readiness: 50,
            areas: Vec::new(),
            requirements: reqs
                .iter()
                .map(|&(id, status)| ReqState {
                    id: id.into(),
                    status,
                    ..ReqState::default()
                })
                .collect(),
            files,
        }
    }

    #[test]
    fn digests_tell_a_move_from_a_change_and_copies_pair_once_each() {
        let old = side(
            SideKind::Pack,
            &[("a", 1, 10), ("b", 2, 10), ("c", 3, 10), ("copy1", 9, 10)],
            &[],
        );
        let new = side(
            SideKind::Pack,
            &[
                ("a", 1, 10),
                ("b", 7, 10),
                ("d/c", 3, 10),
                ("x", 9, 10),
                ("y", 9, 10),
            ],
            &[],
        );
        let d = compare(&old, &new, false).expect("comparable");
        assert_eq!(d.compared_by, ComparedBy::Digest);
        assert_eq!(d.files.modified, ["b"]);
        let moved: Vec<(&str, &str)> = d
            .files
            .moved
            .iter()
            .map(|m| (m.from.as_str(), m.to.as_str()))
            .collect();
        assert_eq!(moved, [("c", "d/c"), ("copy1", "x")]);
        assert_eq!(d.files.added, ["y"]);
        assert!(d.files.removed.is_empty());
    }

    #[test]
    fn without_digests_size_and_date_decide_and_a_note_says_so() {
        let old = side(SideKind::Assessment, &[("a", 0, 10), ("b", 0, 10)], &[]);
        let new = side(SideKind::Assessment, &[("a", 0, 11), ("c", 0, 10)], &[]);
        let d = compare(&old, &new, false).expect("comparable");
        assert_eq!(d.compared_by, ComparedBy::SizeAndDate);
        assert!(d.notes[0].contains("no digests"));
        assert_eq!(d.files.modified, ["a"]);
        assert_eq!(d.files.moved[0].to, "c");
    }

    #[test]
    fn better_and_worse_follow_met_partial_stale_missing() {
        let old = side(
            SideKind::Pack,
            &[],
            &[
                ("R1", Status::Partial),
                ("R2", Status::Met),
                ("R3", Status::Stale),
            ],
        );
        let new = side(
            SideKind::Pack,
            &[],
            &[
                ("R1", Status::Met),
                ("R2", Status::Stale),
                ("R3", Status::Stale),
            ],
        );
        let d = compare(&old, &new, false).expect("comparable");
        let got: Vec<(&str, Change)> = d
            .requirements
            .iter()
            .map(|r| (r.id.as_str(), r.change))
            .collect();
        assert_eq!(got, [("R1", Change::Better), ("R2", Change::Worse)]);
        assert!(d.worse);
    }

    #[test]
    fn different_manifests_are_refused_unless_forced() {
        let old = side(SideKind::Pack, &[], &[]);
        let mut new = side(SideKind::Pack, &[], &[]);
        new.manifest_sha256 = "cd".into();
        let e = compare(&old, &new, false).expect_err("refused");
        assert!(e.to_string().contains("different manifests"), "{e}");
        let d = compare(&old, &new, true).expect("forced");
        assert!(d.notes[0].starts_with("compared with --force"));
    }
}
