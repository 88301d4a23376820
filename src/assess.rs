//! Manifest + scan -> assessment: for every requirement, its status and the reasons in words.
//!
//! The assessment is the single value every output renders from (text, JSON, CSV, Markdown,
//! HTML, the pack), so it is plain data, serialisable as the documented JSON schema.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use crate::content::{Check, Checks};
use crate::dating::{last_day_of_month, DateSource, Precision};
use crate::error::Result;
use crate::manifest::{
    Area, AreaKind, Cadence, EvidenceKind, Manifest, Matcher, Requirement, Visit,
};
use crate::scan::{FileRecord, Scan, Skipped};

/// The JSON schema identifier; bump on any incompatible change.
pub const SCHEMA: &str = "evpack.assessment.v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Met,
    Partial,
    Stale,
    Missing,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Partial => "partial",
            Status::Stale => "stale",
            Status::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

impl Rag {
    pub fn label(self) -> &'static str {
        match self {
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub schema: &'static str,
    pub tool: crate::Tool,
    pub visit: Visit,
    pub manifest: ManifestInfo,
    pub evidence_dir: String,
    pub reference_date: NaiveDate,
    pub window: Window,
    pub summary: Summary,
    pub areas: Vec<AreaResult>,
    /// Files that match no requirement: they are never packed.
    pub unmatched: Vec<String>,
    /// Entries the scan could not use (unreadable, links out of the folder, ...).
    pub skipped: Vec<SkippedEntry>,
    /// Matched files that will not open (empty, wrong type, corrupt, password-protected,
    /// unreadable): they count towards nothing.
    pub unusable: Vec<UnusableFile>,
    /// Groups of matched files with identical bytes, each in path order: a group counts
    /// once towards `min_files` and cadence.
    pub duplicates: Vec<Vec<String>>,
}

/// A matched file that is not evidence, why, and the requirements whose globs match it.
#[derive(Debug, Clone, Serialize)]
pub struct UnusableFile {
    pub path: String,
    pub check: Check,
    pub detail: Option<String>,
    /// Ids of the requirements it would have served, in manifest order.
    pub requirements: Vec<String>,
}

/// An entry the scan could not use, and the requirements whose globs match its path: an
/// unreadable file that a requirement asks for is a gap the build must not hide.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedEntry {
    pub path: String,
    pub reason: String,
    /// Ids of the requirements whose `paths` match it (empty: it would not be evidence).
    pub serves: Vec<String>,
}

impl Assessment {
    /// Every matched file (by path, in name order) with the ids of the requirements it
    /// serves, in manifest order.
    pub fn serves(&self) -> std::collections::BTreeMap<&str, Vec<&str>> {
        let mut map: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for area in &self.areas {
            for r in &area.requirements {
                for f in &r.files {
                    map.entry(f.path.as_str()).or_default().push(r.id.as_str());
                }
            }
        }
        map
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestInfo {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }
}

/// Requirements counted by status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusCounts {
    pub met: usize,
    pub partial: usize,
    pub stale: usize,
    pub missing: usize,
}

impl StatusCounts {
    pub fn add(&mut self, s: Status) {
        match s {
            Status::Met => self.met += 1,
            Status::Partial => self.partial += 1,
            Status::Stale => self.stale += 1,
            Status::Missing => self.missing += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.met + self.partial + self.stale + self.missing
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RagCounts {
    pub green: usize,
    pub amber: usize,
    pub red: usize,
}

impl RagCounts {
    fn add(&mut self, r: Rag) {
        match r {
            Rag::Green => self.green += 1,
            Rag::Amber => self.amber += 1,
            Rag::Red => self.red += 1,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Met required requirements / all required requirements, rounded down to a whole
    /// percent (so 99.6% with a gap never shows as 100).
    pub readiness_percent: u32,
    pub required_total: usize,
    pub required_met: usize,
    pub required: StatusCounts,
    pub advisory: StatusCounts,
    pub areas: RagCounts,
    pub files_scanned: usize,
    pub files_matched: usize,
    pub files_unmatched: usize,
    pub files_skipped: usize,
    /// Matched files that will not open: see [`Assessment::unusable`].
    pub files_unusable: usize,
}

impl Summary {
    /// True when every required requirement is met: exit code 0.
    pub fn ready(&self) -> bool {
        self.required_met == self.required_total
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaResult {
    pub id: String,
    pub kind: AreaKind,
    pub kind_label: &'static str,
    pub title: String,
    pub source: Option<String>,
    pub rag: Rag,
    pub requirements: Vec<RequirementResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementResult {
    pub id: String,
    pub title: String,
    pub evidence: EvidenceKind,
    pub required: bool,
    pub owner: Option<String>,
    pub notes: Option<String>,
    pub paths: Vec<String>,
    pub min_files: u32,
    pub max_age_days: Option<u32>,
    pub cadence: Cadence,
    pub status: Status,
    /// Why the status is not `met`, in words, then each matched file that will not open;
    /// empty when met with nothing unusable.
    pub reasons: Vec<String>,
    /// The newest file's date (as written), if any file matched.
    pub newest: Option<String>,
    /// Files counted towards `min_files`: usable, one of each set of copies, dated in the
    /// look-back window, or within `max_age_days` when that is longer.
    pub files_in_window: usize,
    /// One entry per cadence period of the window; empty without a cadence.
    pub periods: Vec<Period>,
    /// Matched files, newest first.
    pub files: Vec<FileRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// `2020-10` or `2020-Q4`.
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub covered: bool,
    /// Paths of the files that count, dated in this period.
    pub files: Vec<String>,
    /// Paths of the files dated in this period that will not open (they do not count).
    pub unusable: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRef {
    pub path: String,
    /// `2020-10-15`, or `2020-10` for a month-only date.
    pub date: String,
    pub date_precision: Precision,
    pub date_source: DateSource,
    pub size: u64,
    /// Filled in only inside a pack (`pack.json`), where the bytes were hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether the file opens: anything but `ok` means it does not count.
    pub check: Check,
    /// What the check found, when not `ok`.
    pub check_detail: Option<String>,
    /// The file this one is an identical copy of, which counts in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

/// Options that change what is assessed.
#[derive(Debug, Clone, Default)]
pub struct AssessOptions {
    /// Assess as of this date instead of the visit date.
    pub as_of: Option<NaiveDate>,
}

/// Matches the scan against the manifest: which files each requirement asks for. The
/// files matched are the ones to check ([`crate::content::check_files`]) before assessing.
pub fn match_files(manifest: &Manifest, scan: &Scan) -> Result<Matched> {
    let mut matcher = manifest.matcher()?;
    let mut matched = match_scan(&mut matcher, scan, manifest.requirements().count())?;
    matched.skipped = skipped_entries(manifest, &mut matcher, scan)?;
    Ok(matched)
}

/// The assessment of `scan` against `manifest`, from the files `matched` and how their
/// checks came out.
pub fn assess(
    manifest: &Manifest,
    scan: &Scan,
    matched: &Matched,
    checks: &Checks,
    opts: &AssessOptions,
) -> Result<Assessment> {
    let reference = opts.as_of.unwrap_or(manifest.visit.date);
    let window = look_back(reference, manifest.visit.lookback_months);
    let mut tally = Tally::default();
    let ctx = Context {
        scan,
        checks,
        window,
    };
    let areas = manifest
        .areas
        .iter()
        .zip(matched.per_area(manifest))
        .map(|(area, files)| assess_area(area, files, &ctx, &mut tally))
        .collect();
    let unusable = unusable_files(manifest, scan, matched, checks);
    let summary = tally.summary(scan, matched, unusable.len());
    Ok(Assessment {
        schema: SCHEMA,
        tool: crate::Tool::EVPACK,
        visit: manifest.visit.clone(),
        manifest: ManifestInfo {
            path: manifest.path.display().to_string(),
            sha256: crate::util::hex(&sha2_digest(manifest.text.as_bytes())),
        },
        evidence_dir: scan.root.display().to_string(),
        reference_date: reference,
        window,
        summary,
        areas,
        unmatched: matched.unmatched.clone(),
        skipped: matched.skipped.clone(),
        unusable,
        duplicates: checks
            .duplicates()
            .iter()
            .map(|g| g.iter().map(|&i| scan.files[i].rel.clone()).collect())
            .collect(),
    })
}

/// What every requirement's assessment reads besides its own files.
struct Context<'a> {
    scan: &'a Scan,
    checks: &'a Checks,
    window: Window,
}

/// The matched files that will not open, each with the requirements it would serve.
fn unusable_files(
    manifest: &Manifest,
    scan: &Scan,
    matched: &Matched,
    checks: &Checks,
) -> Vec<UnusableFile> {
    let mut serves: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for ((_, req), files) in manifest.requirements().zip(&matched.files) {
        for &i in files.iter().filter(|&&i| !checks.usable(i)) {
            serves.entry(i).or_default().push(req.id.clone());
        }
    }
    serves
        .into_iter()
        .filter_map(|(i, requirements)| {
            let checked = checks.get(i)?;
            Some(UnusableFile {
                path: scan.files[i].rel.clone(),
                check: checked.check,
                detail: checked.detail,
                requirements,
            })
        })
        .collect()
}

/// The look-back window: `months` back from the reference date, both ends included.
fn look_back(reference: NaiveDate, months: u32) -> Window {
    let start = reference
        .checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    Window {
        start,
        end: reference,
    }
}

/// Which files each requirement's globs match.
#[derive(Debug, Clone, Default)]
pub struct Matched {
    /// Per requirement (in [`Manifest::requirements`] order), indices into the scan's
    /// files, in file order.
    files: Vec<Vec<usize>>,
    /// Files no requirement matches.
    unmatched: Vec<String>,
    /// Files at least one requirement matches.
    files_matched: usize,
    /// The scan's skipped entries, with the requirements whose globs match them.
    skipped: Vec<SkippedEntry>,
}

impl Matched {
    /// The files at least one requirement matches (indices into [`Scan::files`],
    /// ascending): the ones to check.
    pub fn any(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self.files.iter().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The per-requirement file lists, one slice per area in manifest order.
    fn per_area<'a>(&'a self, manifest: &Manifest) -> Vec<&'a [Vec<usize>]> {
        let mut rest = self.files.as_slice();
        manifest
            .areas
            .iter()
            .map(|area| {
                let (this, next) = rest.split_at(area.requirements.len());
                rest = next;
                this
            })
            .collect()
    }
}

/// Matches every file against every requirement.
fn match_scan(matcher: &mut Matcher, scan: &Scan, requirements: usize) -> Result<Matched> {
    let mut files = vec![Vec::new(); requirements];
    let mut unmatched = Vec::new();
    let mut files_matched = 0;
    for (fi, f) in scan.files.iter().enumerate() {
        let reqs = matcher.requirements_matching(&f.rel)?;
        if reqs.is_empty() {
            unmatched.push(f.rel.clone());
            continue;
        }
        files_matched += 1;
        for r in reqs {
            files[r].push(fi);
        }
    }
    Ok(Matched {
        files,
        unmatched,
        files_matched,
        skipped: Vec::new(),
    })
}

/// Requirements by status and areas by RAG rating, counted as they are assessed.
#[derive(Default)]
struct Tally {
    required: StatusCounts,
    advisory: StatusCounts,
    areas: RagCounts,
}

impl Tally {
    fn summary(self, scan: &Scan, matched: &Matched, files_unusable: usize) -> Summary {
        let required_total = self.required.total();
        let readiness_percent = (self.required.met * 100)
            .checked_div(required_total)
            .map_or(100, |p| p as u32);
        Summary {
            readiness_percent,
            required_total,
            required_met: self.required.met,
            required: self.required,
            advisory: self.advisory,
            areas: self.areas,
            files_scanned: scan.files.len(),
            files_matched: matched.files_matched,
            files_unmatched: matched.unmatched.len(),
            files_skipped: scan.skipped.len(),
            files_unusable,
        }
    }
}

/// One area: each requirement over the files it matched (`files`, one list per
/// requirement), then the area's RAG rating.
fn assess_area(area: &Area, files: &[Vec<usize>], ctx: &Context, tally: &mut Tally) -> AreaResult {
    let results: Vec<RequirementResult> = area
        .requirements
        .iter()
        .zip(files)
        .map(|(req, matched)| {
            let r = assess_requirement(req, matched, ctx);
            if r.required {
                tally.required.add(r.status);
            } else {
                tally.advisory.add(r.status);
            }
            r
        })
        .collect();
    let rag = rag_of(&results);
    tally.areas.add(rag);
    AreaResult {
        id: area.id.clone(),
        kind: area.kind,
        kind_label: area.kind.label(),
        title: area.title.clone(),
        source: area.source.clone(),
        rag,
        requirements: results,
    }
}

/// Green when every required requirement is met, red when one is missing, else amber.
/// Advisory requirements never change it.
fn rag_of(results: &[RequirementResult]) -> Rag {
    let required = || results.iter().filter(|r| r.required);
    if required().all(|r| r.status == Status::Met) {
        Rag::Green
    } else if required().any(|r| r.status == Status::Missing) {
        Rag::Red
    } else {
        Rag::Amber
    }
}

/// The skipped entries, each with the requirements whose globs match its path.
fn skipped_entries(
    manifest: &Manifest,
    matcher: &mut Matcher,
    scan: &Scan,
) -> Result<Vec<SkippedEntry>> {
    let req_ids: Vec<&str> = manifest
        .requirements()
        .map(|(_, r)| r.id.as_str())
        .collect();
    scan.skipped
        .iter()
        .map(|sk: &Skipped| {
            Ok(SkippedEntry {
                path: sk.path.clone(),
                reason: sk.reason.clone(),
                serves: matcher
                    .requirements_matching(&sk.path)?
                    .into_iter()
                    .map(|r| req_ids[r].to_string())
                    .collect(),
            })
        })
        .collect()
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

fn assess_requirement(req: &Requirement, matched: &[usize], ctx: &Context) -> RequirementResult {
    let files = &ctx.scan.files;
    let mut sorted: Vec<usize> = matched.to_vec();
    // Newest first; ties by path so output is stable.
    sorted.sort_by(|&a, &b| {
        let (a, b) = (&files[a], &files[b]);
        b.date.cmp(&a.date).then_with(|| a.rel.cmp(&b.rel))
    });
    let (counted, copies) = counted_files(&sorted, ctx);
    let window = ctx.window;
    let reference = window.end;
    let counted_in = counted_window(req, window);
    let in_window = counted
        .iter()
        .filter(|f| counted_in.contains(as_of(f, reference)))
        .count();
    // Files dated after the reference date (e.g. with --as-of in the past) did not exist
    // "as of" then, so they neither freshen nor fill the window.
    let newest = counted
        .iter()
        .copied()
        .find(|f| as_of(f, reference) <= reference);
    let unusable: Vec<usize> = sorted
        .iter()
        .copied()
        .filter(|&i| !ctx.checks.usable(i))
        .collect();
    let periods = periods(req.cadence, window, &counted, &unusable, files);
    let (status, mut reasons) = if sorted.is_empty() {
        (Status::Missing, vec![no_match_reason(req)])
    } else if counted.is_empty() {
        (Status::Missing, Vec::new())
    } else if let Some(stale_reason) = staleness(req, newest, window) {
        (Status::Stale, vec![stale_reason])
    } else {
        shortfall(req, in_window, counted_in, &periods)
    };
    reasons.extend(unusable.iter().map(|&i| unusable_reason(i, ctx)));
    if status != Status::Met {
        reasons.extend(copy_reasons(&copies, files));
    }
    let duplicate_of: std::collections::HashMap<usize, usize> = copies.into_iter().collect();
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
        newest: newest.map(|f| f.date.display()),
        files_in_window: in_window,
        periods,
        files: sorted
            .iter()
            .map(|&i| file_ref(i, ctx, duplicate_of.get(&i).map(|&o| &files[o])))
            .collect(),
    }
}

/// The files that count (`sorted`, newest first): usable ones, and of identical copies
/// only the earliest dated (ties by path), since a copy renamed for a later month is not
/// that month's evidence. Also returns each copy left out, with the file counted for it.
fn counted_files<'a>(
    sorted: &[usize],
    ctx: &Context<'a>,
) -> (Vec<&'a FileRecord>, Vec<(usize, usize)>) {
    let files = &ctx.scan.files;
    let mut kept_for_group: std::collections::HashMap<usize, usize> = Default::default();
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

/// The cadence periods of the window, each with the counted files dated in it (`files`
/// newest first) and the unusable ones. A period needs a file dated in it, even one dated
/// before the window opened: the window can start mid-month, and that month's file is
/// still that month's evidence.
fn periods(
    cadence: Cadence,
    window: Window,
    counted: &[&FileRecord],
    unusable: &[usize],
    all: &[FileRecord],
) -> Vec<Period> {
    let dated_in = |f: &FileRecord, start: NaiveDate, end: NaiveDate| {
        let d = f.date.effective();
        start <= d && d <= end
    };
    cadence_periods(cadence, window)
        .into_iter()
        .map(|(label, start, end)| {
            let files: Vec<String> = counted
                .iter()
                .filter(|f| dated_in(f, start, end))
                .map(|f| f.rel.clone())
                .collect();
            Period {
                label,
                start,
                end,
                covered: !files.is_empty(),
                files,
                unusable: unusable
                    .iter()
                    .map(|&i| &all[i])
                    .filter(|f| dated_in(f, start, end))
                    .map(|f| f.rel.clone())
                    .collect(),
            }
        })
        .collect()
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
/// window, cadence periods without a file).
fn shortfall(
    req: &Requirement,
    in_window: usize,
    counted: Window,
    periods: &[Period],
) -> (Status, Vec<String>) {
    let mut reasons = Vec::new();
    if in_window < req.min_files as usize {
        reasons.push(format!(
            "{} file{} dated in the window {} to {}, {} needed",
            in_window,
            if in_window == 1 { "" } else { "s" },
            counted.start,
            counted.end,
            req.min_files
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

fn file_ref(i: usize, ctx: &Context, duplicate_of: Option<&FileRecord>) -> FileRef {
    let f = &ctx.scan.files[i];
    let checked = ctx.checks.get(i).unwrap_or(crate::content::Checked::OK);
    FileRef {
        path: f.rel.clone(),
        date: f.date.display(),
        date_precision: f.date.precision,
        date_source: f.date_source,
        size: f.size,
        sha256: None,
        check: checked.check,
        check_detail: checked.detail,
        duplicate_of: duplicate_of.map(|o| o.rel.clone()),
    }
}

/// The date a file counts as on `reference`: its effective date, except that a month-only
/// date for the month the reference falls in counts as the reference date itself ("Jan
/// 2021" is this month's edition on 18 January, not a document from the future).
fn as_of(f: &FileRecord, reference: NaiveDate) -> NaiveDate {
    let e = f.date.effective();
    if f.date.start <= reference && e > reference {
        reference
    } else {
        e
    }
}

fn staleness(req: &Requirement, newest: Option<&FileRecord>, window: Window) -> Option<String> {
    let Some(newest) = newest else {
        return Some(format!(
            "every matching file is dated after the reference date {}",
            window.end
        ));
    };
    let date = as_of(newest, window.end);
    let how = match newest.date_source {
        DateSource::Name => "",
        DateSource::Folder => " (date from its folder)",
        DateSource::Modified => " (date from its modification time)",
    };
    match req.max_age_days {
        Some(max) => {
            let age = (window.end - date).num_days();
            (age > i64::from(max)).then(|| {
                format!(
                    "newest is {}{how}, {age} days old, older than {max} days",
                    newest.date.display()
                )
            })
        }
        None => (date < window.start).then(|| {
            format!(
                "newest is {}{how}, before the look-back window starting {}",
                newest.date.display(),
                window.start
            )
        }),
    }
}

/// The cadence periods a requirement must cover: every calendar month (or quarter) whose
/// last day falls inside the window. A period still running at the reference date is not
/// yet due.
pub fn cadence_periods(cadence: Cadence, window: Window) -> Vec<(String, NaiveDate, NaiveDate)> {
    let step = match cadence {
        Cadence::None => return Vec::new(),
        Cadence::Monthly => 1,
        Cadence::Quarterly => 3,
    };
    let mut out = Vec::new();
    let (mut y, mut m) = (window.start.year(), window.start.month());
    if step == 3 {
        m = (m - 1) / 3 * 3 + 1;
    }
    while let Some(start) = NaiveDate::from_ymd_opt(y, m, 1) {
        if start > window.end {
            break;
        }
        let end_month = m + step - 1;
        let end = last_day_of_month(y, end_month);
        if window.contains(end) {
            let label = if step == 1 {
                format!("{y}-{m:02}")
            } else {
                format!("{y}-Q{}", (m - 1) / 3 + 1)
            };
            out.push((label, start, end));
        }
        m += step;
        if m > 12 {
            m -= 12;
            y += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn monthly_periods_end_inside_window() {
        let w = Window {
            start: day("2020-07-18"),
            end: day("2021-01-18"),
        };
        let labels: Vec<String> = cadence_periods(Cadence::Monthly, w)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            labels,
            ["2020-07", "2020-08", "2020-09", "2020-10", "2020-11", "2020-12"]
        );
        let q: Vec<String> = cadence_periods(Cadence::Quarterly, w)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(q, ["2020-Q3", "2020-Q4"]);
        assert!(cadence_periods(Cadence::None, w).is_empty());
    }

    #[test]
    fn window_ending_on_month_end_includes_that_month() {
        let w = Window {
            start: day("2020-06-30"),
            end: day("2020-12-31"),
        };
        let labels: Vec<String> = cadence_periods(Cadence::Monthly, w)
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(labels.first().map(String::as_str), Some("2020-06"));
        assert_eq!(labels.last().map(String::as_str), Some("2020-12"));
        assert_eq!(labels.len(), 7);
    }
}
