//! Manifest + scan -> assessment: for every requirement, its status and the reasons in words.
//!
//! The assessment is the single value every output renders from (text, JSON, CSV, Markdown,
//! HTML, the pack), so it is plain data, serialisable as the documented JSON schema.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::content::{Check, Checks};
use crate::dating::{DateLabel, DateSource, Precision, YearStart};
use crate::error::Result;
use crate::manifest::{Area, AreaKind, Cadence, EvidenceKind, Manifest, Matcher, Visit};
use crate::scan::{Scan, Skipped};
use crate::util::SharedStr;

pub mod chase;
mod periods;
mod requirement;

pub use periods::cadence_periods;
use requirement::assess_requirement;

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
    pub unmatched: Vec<SharedStr>,
    /// Entries the scan could not use (unreadable, links out of the folder, ...).
    pub skipped: Vec<SkippedEntry>,
    /// Matched files that will not open (empty, wrong type, corrupt, password-protected,
    /// unreadable): they count towards nothing.
    pub unusable: Vec<UnusableFile>,
    /// Groups of matched files with identical bytes, each in path order: a group counts
    /// once towards `min_files` and cadence.
    pub duplicates: Vec<Vec<SharedStr>>,
    /// What the reader should know that is not a gap: a `[dates]` path that names no file.
    pub warnings: Vec<String>,
}

/// A matched file that is not evidence, why, and the requirements whose globs match it.
#[derive(Debug, Clone, Serialize)]
pub struct UnusableFile {
    pub path: SharedStr,
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

    /// The path of every file some requirement lists, once each, in byte order.
    pub fn packed_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .areas
            .iter()
            .flat_map(|ar| &ar.requirements)
            .flat_map(|r| &r.files)
            .map(|f| f.path.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
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
    /// Matched files with no date in their name or folder, nor in the manifest: dated by
    /// modification time, which a copy resets.
    pub files_dated_by_modification: usize,
    /// Matched files dated after the reference date: they do not count.
    pub files_after_reference: usize,
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
    pub files: Vec<SharedStr>,
    /// Paths of the files dated in this period that will not open (they do not count).
    pub unusable: Vec<SharedStr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRef {
    pub path: SharedStr,
    /// `2020-10-15`, `2020-10` for a month, `Q3 2020-21` (or `2020-Q4` with
    /// `year_start = "january"`) for a quarter.
    pub date: DateLabel,
    pub date_precision: Precision,
    /// The period the date stands for: one day, a month or a quarter.
    pub covers: Covers,
    pub date_source: DateSource,
    pub size: u64,
    /// Filled in only inside a pack (`pack.json`), where the bytes were hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<crate::util::Sha256Hex>,
    /// Whether the file opens: anything but `ok` means it does not count.
    pub check: Check,
    /// What the check found, when not `ok`.
    pub check_detail: Option<Box<str>>,
    /// The file this one is an identical copy of, which counts in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<SharedStr>,
}

/// The first and last day a file's date stands for.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Covers {
    pub from: NaiveDate,
    pub to: NaiveDate,
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
        year_start: manifest.visit.year_start,
    };
    let areas = manifest
        .areas
        .iter()
        .zip(matched.per_area(manifest))
        .map(|(area, files)| assess_area(area, files, &ctx, &mut tally))
        .collect();
    let unusable = unusable_files(manifest, scan, matched, checks);
    let summary = tally.summary(scan, matched, unusable.len(), &ctx);
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
        warnings: given_dates_without_file(manifest, scan),
    })
}

/// Gives the files that the manifest's `[dates]` names their date (paths matched whole,
/// ignoring case): a date a person wrote down beats one read from a name or folder.
pub fn apply_given_dates(manifest: &Manifest, scan: &mut Scan) {
    if manifest.dates.is_empty() {
        return;
    }
    let given: std::collections::HashMap<String, crate::dating::SpokenDate> = manifest
        .dates
        .iter()
        .map(|g| (g.path.to_lowercase(), g.date))
        .collect();
    for f in &mut scan.files {
        if let Some(d) = given.get(&f.rel.to_lowercase()) {
            f.date = *d;
            f.date_source = DateSource::Manifest;
        }
    }
}

/// A warning for each `[dates]` path that names no file in the evidence folder: a typo
/// there would otherwise leave a file dated by its name without anyone knowing.
fn given_dates_without_file(manifest: &Manifest, scan: &Scan) -> Vec<String> {
    if manifest.dates.is_empty() {
        return Vec::new();
    }
    let present: std::collections::HashSet<String> =
        scan.files.iter().map(|f| f.rel.to_lowercase()).collect();
    manifest
        .dates
        .iter()
        .filter(|g| !present.contains(&g.path.to_lowercase()))
        .map(|g| {
            format!(
                "[dates] on line {} names `{}`, which is not a file in the evidence folder: check the path (`evpack list` shows every path)",
                g.line, g.path
            )
        })
        .collect()
}

/// What every requirement's assessment reads besides its own files.
struct Context<'a> {
    scan: &'a Scan,
    checks: &'a Checks,
    window: Window,
    /// How quarters are labelled.
    year_start: YearStart,
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
    unmatched: Vec<SharedStr>,
    /// Files at least one requirement matches (indices into the scan's files, ascending).
    any: Vec<usize>,
    /// The scan's skipped entries, with the requirements whose globs match them.
    skipped: Vec<SkippedEntry>,
}

impl Matched {
    /// The files at least one requirement matches (indices into [`Scan::files`],
    /// ascending): the ones to check.
    pub fn any(&self) -> &[usize] {
        &self.any
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
    let mut any = Vec::new();
    for (fi, f) in scan.files.iter().enumerate() {
        let reqs = matcher.requirements_matching(&f.rel)?;
        if reqs.is_empty() {
            unmatched.push(f.rel.clone());
            continue;
        }
        any.push(fi);
        for r in reqs {
            files[r].push(fi);
        }
    }
    Ok(Matched {
        files,
        unmatched,
        any,
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
    fn summary(
        self,
        scan: &Scan,
        matched: &Matched,
        files_unusable: usize,
        ctx: &Context,
    ) -> Summary {
        let required_total = self.required.total();
        let matched_files = || matched.any.iter().map(|&i| &scan.files[i]);
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
            files_matched: matched.any.len(),
            files_unmatched: matched.unmatched.len(),
            files_skipped: scan.skipped.len(),
            files_unusable,
            files_dated_by_modification: matched_files()
                .filter(|f| f.date_source == DateSource::Modified)
                .count(),
            files_after_reference: matched_files()
                .filter(|f| requirement::as_of(f, ctx.window.end) > ctx.window.end)
                .count(),
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
