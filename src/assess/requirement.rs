//! One requirement over its files: which files count, its status, and the reasons in words.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::periods::{periods, PeriodFiles};
use super::{Context, Covers, FileRef, RequirementResult, Status, Window};
use crate::content::Check;
use crate::dating::{DateLabel, DateSource};
use crate::manifest::Requirement;
use crate::scan::FileRecord;

pub(super) fn assess_requirement(
    req: &Requirement,
    matched: &[usize],
    ctx: &Context,
) -> RequirementResult {
    let files = &ctx.scan.files;
    let sorted = newest_first(matched, files);
    let (counted, copies) = counted_files(&sorted, ctx);
    let window = ctx.window;
    let reference = window.end;
    // Files dated after the reference date (e.g. with --as-of in the past) did not exist
    // "as of" then, so they neither freshen nor fill the window; they are named, not
    // dropped.
    let (late, counted): (Vec<&FileRecord>, Vec<&FileRecord>) = counted
        .into_iter()
        .partition(|f| as_of(f, reference) > reference);
    let counted_in = counted_window(req, window);
    let in_window = counted
        .iter()
        .filter(|f| counted_in.contains(as_of(f, reference)))
        .count();
    let newest = counted.first().copied();
    let unusable: Vec<usize> = sorted
        .iter()
        .copied()
        .filter(|&i| !ctx.checks.usable(i))
        .collect();
    let periods = periods(
        req.cadence,
        window,
        ctx.year_start,
        PeriodFiles {
            counted: &counted,
            unusable: &unusable,
            all: files,
        },
    );
    let (status, mut reasons) = if sorted.is_empty() {
        (Status::Missing, vec![no_match_reason(req)])
    } else {
        judge(req, &counted, counted_in, &periods, ctx)
    };
    reasons.extend(late_reason(&late, reference, ctx));
    reasons.extend(unusable.iter().map(|&i| unusable_reason(i, ctx)));
    if status != Status::Met {
        reasons.extend(copy_reasons(&copies, files));
    }
    let duplicate_of: HashMap<usize, usize> = copies.into_iter().collect();
    let files = sorted
        .iter()
        .map(|&i| file_ref(i, ctx, duplicate_of.get(&i).map(|&o| &files[o])))
        .collect();
    RequirementResult {
        id: req.id.clone(),
        title: req.title.clone(),
        evidence: req.evidence,
        required: req.required,
        owner: req.owner.clone(),
        notes: req.notes.clone(),
        paths: req.paths.clone(),
        min_files: req.min_files,
        max_age_days: req.max_age_days,
        cadence: req.cadence,
        status,
        reasons,
        newest: newest.map(|f| f.date.label(ctx.year_start)),
        files_in_window: in_window,
        periods,
        files,
    }
}

/// The status of a requirement some file matched, from the files that count (newest
/// first): missing when none counts (the reasons that follow say why), stale when the
/// newest is too old, else met or partial.
fn judge(
    req: &Requirement,
    counted: &[&FileRecord],
    counted_in: Window,
    periods: &[super::Period],
    ctx: &Context,
) -> (Status, Vec<String>) {
    match counted.first() {
        None => (Status::Missing, Vec::new()),
        Some(newest) => match staleness(req, newest, ctx) {
            Some(stale_reason) => (Status::Stale, vec![stale_reason]),
            None => shortfall(req, counted, counted_in, periods, ctx.window.end),
        },
    }
}

/// `matched` (indices into `files`), newest first; ties by path so output is stable.
fn newest_first(matched: &[usize], files: &[FileRecord]) -> Vec<usize> {
    let mut sorted = matched.to_vec();
    sorted.sort_by(|&a, &b| {
        let (a, b) = (&files[a], &files[b]);
        b.date.cmp(&a.date).then_with(|| a.rel.cmp(&b.rel))
    });
    sorted
}

/// The files that count (`sorted`, newest first): usable ones, and of identical copies
/// only the earliest dated (ties by path), since a copy renamed for a later month is not
/// that month's evidence. Also returns each copy left out, with the file counted for it.
fn counted_files<'a>(
    sorted: &[usize],
    ctx: &Context<'a>,
) -> (Vec<&'a FileRecord>, Vec<(usize, usize)>) {
    let files = &ctx.scan.files;
    let mut kept_for_group: HashMap<usize, usize> = HashMap::new();
    let mut copies = Vec::new();
    let mut counted = Vec::new();
    // Oldest first, so the earliest of a set of copies is the one kept.
    for &i in sorted.iter().rev().filter(|&&i| ctx.checks.usable(i)) {
        match ctx.checks.copy_group(i) {
            Some(g) => match kept_for_group.get(&g) {
                Some(&kept) => copies.push((i, kept)),
                None => {
                    kept_for_group.insert(g, i);
                    counted.push(&files[i]);
                }
            },
            None => counted.push(&files[i]),
        }
    }
    counted.reverse();
    copies.reverse();
    (counted, copies)
}

/// One reason per file that copies stand in for: "`b` and `c` are copies of `a`: counted
/// once", in the order the copies were found.
fn copy_reasons(copies: &[(usize, usize)], files: &[FileRecord]) -> Vec<String> {
    let mut by_original: Vec<(usize, Vec<&str>)> = Vec::new();
    for &(copy, of) in copies {
        match by_original.iter_mut().find(|(o, _)| *o == of) {
            Some((_, list)) => list.push(&files[copy].rel),
            None => by_original.push((of, vec![&files[copy].rel])),
        }
    }
    by_original
        .into_iter()
        .map(|(of, list)| {
            let quoted: Vec<String> = list.iter().map(|p| format!("`{p}`")).collect();
            let (head, verb) = match quoted.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    (format!("{} and {last}", rest.join(", ")), "are copies")
                }
                _ => (quoted.concat(), "is a copy"),
            };
            format!("{head} {verb} of `{}`: counted once", files[of].rel)
        })
        .collect()
}

/// Why file `i` counts for nothing, naming it.
fn unusable_reason(i: usize, ctx: &Context) -> String {
    let path = &ctx.scan.files[i].rel;
    let Some(checked) = ctx.checks.get(i) else {
        return format!("`{path}` was not checked");
    };
    let detail = checked
        .detail
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    match checked.check {
        Check::Ok => format!("`{path}` opens"),
        Check::Empty => format!("`{path}` is empty{detail}: it does not count"),
        Check::WrongType => {
            format!("`{path}` is not what its name says{detail}: it does not count")
        }
        Check::Corrupt => format!("`{path}` is damaged{detail}: an inspector cannot open it"),
        Check::PasswordProtected => {
            format!("`{path}` is password-protected: an inspector cannot open it")
        }
        Check::Unreadable => format!("`{path}` could not be checked{detail}: it does not count"),
    }
}

/// The dates whose files count towards `min_files`: the look-back window, or `max_age_days`
/// back from the reference date when that reaches further. A policy reviewed ten months
/// ago is fresh under `max_age_days = 365`, so it must not be reported as "0 files dated".
fn counted_window(req: &Requirement, window: Window) -> Window {
    let reference = window.end;
    Window {
        start: req
            .max_age_days
            .and_then(|d| reference.checked_sub_days(chrono::Days::new(u64::from(d))))
            .map_or(window.start, |s| s.min(window.start)),
        end: reference,
    }
}

fn no_match_reason(req: &Requirement) -> String {
    format!(
        "no file matches {}",
        req.paths
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    )
}

/// For fresh evidence: met, or partial with what falls short (too few files in the counted
/// window, cadence periods without a file). A count that rests on files dated only by their
/// modification time says so: a copy to a new drive resets it.
fn shortfall(
    req: &Requirement,
    counted: &[&FileRecord],
    window: Window,
    periods: &[super::Period],
    reference: NaiveDate,
) -> (Status, Vec<String>) {
    let in_window: Vec<&&FileRecord> = counted
        .iter()
        .filter(|f| window.contains(as_of(f, reference)))
        .collect();
    let mut reasons = Vec::new();
    if in_window.len() < req.min_files as usize {
        let weak = in_window
            .iter()
            .filter(|f| f.date_source == DateSource::Modified)
            .count();
        reasons.push(format!(
            "{} dated in the window {} to {}, {} needed{}",
            files_word(in_window.len()),
            window.start,
            window.end,
            req.min_files,
            match weak {
                0 => String::new(),
                n => format!(" ({n} of them dated only by modification time, which a copy resets)"),
            }
        ));
    }
    for p in periods.iter().filter(|p| !p.covered) {
        reasons.push(format!("no file dated {}", p.label));
    }
    let status = if reasons.is_empty() {
        Status::Met
    } else {
        Status::Partial
    };
    (status, reasons)
}

fn files_word(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}

/// Names the files dated after the reference date, which do not count: a date typed wrong,
/// or `--as-of` set in the past.
fn late_reason(late: &[&FileRecord], reference: NaiveDate, ctx: &Context) -> Option<String> {
    const NAMED: usize = 3;
    if late.is_empty() {
        return None;
    }
    let mut names: Vec<String> = late
        .iter()
        .take(NAMED)
        .map(|f| {
            let how = match f.date_source {
                DateSource::Modified => ", its modification time",
                _ => "",
            };
            format!("`{}` ({}{how})", f.rel, f.date.label(ctx.year_start))
        })
        .collect();
    if late.len() > NAMED {
        names.push(format!("and {} more", late.len() - NAMED));
    }
    Some(format!(
        "{} dated after the reference date {reference}, not counted: {}",
        files_word(late.len()),
        names.join(", ")
    ))
}

pub(super) fn file_ref(i: usize, ctx: &Context, duplicate_of: Option<&FileRecord>) -> FileRef {
    let f = &ctx.scan.files[i];
    let checked = ctx.checks.get(i).unwrap_or(crate::content::Checked::OK);
    let (from, to) = f.date.covers();
    FileRef {
        path: f.rel.clone(),
        date: DateLabel {
            date: f.date,
            year_start: ctx.year_start,
        },
        date_precision: f.date.precision,
        covers: Covers { from, to },
        date_source: f.date_source,
        size: f.size,
        sha256: None,
        check: checked.check,
        check_detail: checked.detail.map(String::into_boxed_str),
        duplicate_of: duplicate_of.map(|o| o.rel.clone()),
    }
}

/// The date a file counts as on `reference`: its effective date, except that a month-only
/// (or quarter) date for the period the reference falls in counts as the reference date
/// itself ("Jan 2021" is this month's edition on 18 January, not a document from the
/// future).
pub(super) fn as_of(f: &FileRecord, reference: NaiveDate) -> NaiveDate {
    let e = f.date.effective();
    if f.date.start <= reference && e > reference {
        reference
    } else {
        e
    }
}

/// Stale when the newest file that counts is too old: older than `max_age_days`, or (without
/// it) dated before the window. Only ever said of files that are too old.
fn staleness(req: &Requirement, newest: &FileRecord, ctx: &Context) -> Option<String> {
    let window = ctx.window;
    let date = as_of(newest, window.end);
    let how = match newest.date_source {
        DateSource::Name => "",
        DateSource::Folder => " (date from its folder)",
        DateSource::Manifest => " (date given in the manifest)",
        DateSource::Modified => " (dated only by its modification time, which a copy resets)",
    };
    let shown = newest.date.label(ctx.year_start);
    match req.max_age_days {
        Some(max) => {
            let age = (window.end - date).num_days();
            (age > i64::from(max))
                .then(|| format!("newest is {shown}{how}, {age} days old, older than {max} days"))
        }
        None => (date < window.start).then(|| {
            format!(
                "newest is {shown}{how}, before the look-back window starting {}",
                window.start
            )
        }),
    }
}
