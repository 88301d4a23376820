//! The manifest: what evidence each Ofsted priority and Commissioner recommendation needs.
//!
//! The TOML file is the user-facing contract, so parsing is strict (unknown keys are errors:
//! a misspelt `max_age_day` must not silently fall back to a default) and every error points
//! at the line and column with a fix. Raw serde structs keep their spans; [`Manifest`] is the
//! validated model the rest of the program sees.
//!
//! The globs' meaning lives here too: `build_glob` states it (globset's syntax, ASCII case
//! ignored, `*` within one folder); [`Matcher`] (in `matcher`) matches paths against every
//! requirement's globs in memory that stays bounded however many requirements a manifest
//! has.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use globset::GlobBuilder;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dating::{SpokenDate, YearStart};
use crate::error::{Error, Result};
use crate::util::line_col;

mod matcher;

pub use matcher::Matcher;

/// What sort of finding or recommendation an area answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AreaKind {
    OfstedPriority,
    CommissionerRecommendation,
    MonitoringFinding,
    Other,
}

impl AreaKind {
    pub fn label(self) -> &'static str {
        match self {
            AreaKind::OfstedPriority => "Ofsted priority",
            AreaKind::CommissionerRecommendation => "Commissioner recommendation",
            AreaKind::MonitoringFinding => "Monitoring visit finding",
            AreaKind::Other => "Other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    Audit,
    Plan,
    Scorecard,
    Report,
    Minutes,
    Policy,
    Training,
    Other,
}

/// How often a requirement's evidence must recur inside the look-back window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    #[default]
    None,
    Monthly,
    Quarterly,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    visit: Spanned<RawVisit>,
    #[serde(default)]
    area: Vec<Spanned<RawArea>>,
    /// Paths to dates, for files that cannot be renamed.
    #[serde(default)]
    dates: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVisit {
    name: Spanned<String>,
    authority: Spanned<String>,
    date: Spanned<toml::value::Datetime>,
    #[serde(default)]
    lookback_months: Option<Spanned<i64>>,
    #[serde(default)]
    year_start: YearStart,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    id: Spanned<String>,
    kind: AreaKind,
    title: Spanned<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    requirement: Vec<Spanned<RawRequirement>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: Spanned<String>,
    title: Spanned<String>,
    evidence: EvidenceKind,
    paths: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    min_files: Option<Spanned<i64>>,
    #[serde(default)]
    max_age_days: Option<Spanned<i64>>,
    #[serde(default)]
    cadence: Cadence,
    #[serde(default = "default_true")]
    required: bool,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

fn default_true() -> bool {
    true
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where it was read from, as given by the user.
    pub path: PathBuf,
    /// The exact bytes read; packs carry them and record their SHA-256.
    pub text: String,
    pub visit: Visit,
    pub areas: Vec<Area>,
    /// Dates given in `[dates]`, in the table's order.
    pub dates: Vec<GivenDate>,
}

/// A date the manifest gives a file (`[dates]`): files on SharePoint or in another team's
/// folder cannot always be renamed.
#[derive(Debug, Clone)]
pub struct GivenDate {
    /// Relative to the evidence folder, `/`-separated, matched whole and ignoring case.
    pub path: String,
    pub date: SpokenDate,
    /// Where it is written, for the warning when no file has that path.
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub name: String,
    pub authority: String,
    pub date: NaiveDate,
    pub lookback_months: u32,
    /// The month the council's year starts in: how quarters are numbered and labelled.
    pub year_start: YearStart,
}

#[derive(Debug, Clone)]
pub struct Area {
    pub id: String,
    pub kind: AreaKind,
    pub title: String,
    pub source: Option<String>,
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    pub evidence: EvidenceKind,
    pub paths: Vec<String>,
    pub min_files: u32,
    pub max_age_days: Option<u32>,
    pub cadence: Cadence,
    pub required: bool,
    pub owner: Option<String>,
    pub notes: Option<String>,
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn load(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::input(
                path,
                "manifest not found",
                "check the path, or pass --manifest FILE",
            ),
            _ => Error::io(path, "cannot read the manifest", e),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let (line, column) = {
                let valid = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
                line_col(&prefix, valid)
            };
            Error::Manifest {
                path: path.to_path_buf(),
                line,
                column,
                message: "the manifest is not valid UTF-8".into(),
                help: "save the file as UTF-8 (most editors offer this under 'Save as')".into(),
            }
        })?;
        Manifest::parse(path, text)
    }

    /// Validates manifest text; `path` is only used in error messages.
    pub fn parse(path: &Path, text: String) -> Result<Manifest> {
        let src = Source { path, text: &text };
        let raw: RawManifest = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim().to_string();
            let help = help_for_toml_error(&message);
            src.error(e.span().unwrap_or(0..0), message, help)
        })?;
        let visit = visit(&src, raw.visit.into_inner())?;
        let areas = areas(&src, raw.area)?;
        let dates = match raw.dates {
            Some(table) => given_dates(&src, table.into_inner())?,
            None => Vec::new(),
        };
        Ok(Manifest {
            path: path.to_path_buf(),
            text,
            visit,
            areas,
            dates,
        })
    }

    /// All requirements in manifest order, with their area.
    pub fn requirements(&self) -> impl Iterator<Item = (&Area, &Requirement)> {
        self.areas
            .iter()
            .flat_map(|a| a.requirements.iter().map(move |r| (a, r)))
    }

    /// Compiles every requirement's globs for matching paths against them.
    pub fn matcher(&self) -> Result<Matcher> {
        Matcher::new(self)
    }
}

/// The manifest text being validated, to turn a byte span into an error at its line and
/// column.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>, help: &str) -> Error {
        let (line, column) = line_col(self.text, span.start);
        Error::Manifest {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
            help: help.to_string(),
        }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }
}

/// Ids seen so far, with where each was first written: a second use is an error pointing
/// at both places.
#[derive(Default)]
struct SeenIds(HashMap<String, Range<usize>>);

impl SeenIds {
    fn claim(
        &mut self,
        src: &Source<'_>,
        id: &str,
        span: Range<usize>,
        what: &str,
        help: &str,
    ) -> Result<()> {
        if let Some(first) = self.0.get(id) {
            return Err(src.error(
                span,
                format!(
                    "duplicate {what} `{id}` (first used on line {})",
                    src.line(first)
                ),
                help,
            ));
        }
        self.0.insert(id.to_string(), span);
        Ok(())
    }
}

fn visit(src: &Source<'_>, rv: RawVisit) -> Result<Visit> {
    let name = non_empty(src, &rv.name, "visit.name")?;
    let authority = non_empty(src, &rv.authority, "visit.authority")?;
    let date = toml_date(src, &rv.date)?;
    let lookback_months = whole_number(
        src,
        rv.lookback_months.as_ref(),
        "lookback_months",
        1..=60,
        "use a whole number of months from 1 to 60 (a focused visit looks back 6)",
    )?
    .unwrap_or(6);
    Ok(Visit {
        name,
        authority,
        date,
        lookback_months,
        year_start: rv.year_start,
    })
}

/// The `[dates]` table: each key a path in the evidence folder, each value a TOML date, a
/// month (`"2020-12"`) or a quarter (`"Q3 2020-21"`, `"2020-Q3"`).
fn given_dates(
    src: &Source<'_>,
    table: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
) -> Result<Vec<GivenDate>> {
    let mut seen = SeenIds::default();
    let mut out: Vec<GivenDate> = table
        .into_iter()
        .map(|(path, value)| {
            let clean = given_path(src, &path)?;
            seen.claim(
                src,
                &clean.to_lowercase(),
                path.span(),
                "path in [dates]",
                "give each file one date (paths are matched ignoring case)",
            )?;
            Ok(GivenDate {
                date: given_date(src, &value)?,
                line: src.line(&path.span()),
                path: clean,
            })
        })
        .collect::<Result<_>>()?;
    out.sort_by_key(|g| g.line);
    Ok(out)
}

/// A `[dates]` key: relative to the evidence folder, with `/`.
fn given_path(src: &Source<'_>, path: &Spanned<String>) -> Result<String> {
    let p = path.get_ref().trim();
    let problem = if p.is_empty() {
        Some("is empty")
    } else if p.contains('\\') {
        Some("uses `\\`; write folders with `/`")
    } else if p.starts_with('/') || p.contains(":/") {
        Some("is absolute; paths are relative to the evidence folder")
    } else if p.split('/').any(|part| part == ".." || part == ".") {
        Some("holds `.` or `..`; write the path from the evidence folder down")
    } else {
        None
    };
    match problem {
        Some(why) => Err(src.error(
            path.span(),
            format!("the [dates] path `{p}` {why}"),
            "write the file's path as `evpack list` shows it, e.g. \"minutes/Board minutes.docx\" = 2020-12-03",
        )),
        None => Ok(p.trim_matches('/').to_string()),
    }
}

/// A `[dates]` value: a bare TOML date, or text naming a month or a quarter.
fn given_date(src: &Source<'_>, value: &Spanned<toml::Value>) -> Result<SpokenDate> {
    let help = "write a bare TOML date (2020-12-03), or a month or quarter in quotes (\"2020-12\", \"Q3 2020-21\", \"2020-Q3\")";
    let date = match value.get_ref() {
        toml::Value::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                .map(SpokenDate::day),
            _ => None,
        },
        toml::Value::String(text) => crate::dating::parse_given(text),
        _ => None,
    };
    date.ok_or_else(|| {
        src.error(
            value.span(),
            format!("`{}` is not a date evpack can read", value.get_ref()),
            help,
        )
    })
}

fn areas(src: &Source<'_>, raw: Vec<Spanned<RawArea>>) -> Result<Vec<Area>> {
    if raw.is_empty() {
        return Err(src.error(
            0..0,
            "the manifest has no [[area]]",
            "add at least one [[area]] with an id, kind, title and [[area.requirement]]",
        ));
    }
    let mut area_ids = SeenIds::default();
    let mut requirement_ids = SeenIds::default();
    raw.into_iter()
        .map(|ra| area(src, ra, &mut area_ids, &mut requirement_ids))
        .collect()
}

fn area(
    src: &Source<'_>,
    ra: Spanned<RawArea>,
    area_ids: &mut SeenIds,
    requirement_ids: &mut SeenIds,
) -> Result<Area> {
    let area_span = ra.span();
    let ra = ra.into_inner();
    let id = identifier(src, &ra.id, "area id")?;
    area_ids.claim(
        src,
        &id,
        ra.id.span(),
        "area id",
        "give every [[area]] its own id",
    )?;
    let title = non_empty(src, &ra.title, "area title")?;
    if ra.requirement.is_empty() {
        return Err(src.error(
            area_span,
            format!("area `{id}` has no requirements"),
            "add at least one [[area.requirement]] under it",
        ));
    }
    let requirements = ra
        .requirement
        .into_iter()
        .map(|rr| requirement(src, rr.into_inner(), requirement_ids))
        .collect::<Result<Vec<_>>>()?;
    Ok(Area {
        id,
        kind: ra.kind,
        title,
        source: ra.source.filter(|s| !s.trim().is_empty()),
        requirements,
    })
}

fn requirement(
    src: &Source<'_>,
    rr: RawRequirement,
    requirement_ids: &mut SeenIds,
) -> Result<Requirement> {
    let id = identifier(src, &rr.id, "requirement id")?;
    requirement_ids.claim(
        src,
        &id,
        rr.id.span(),
        "requirement id",
        "requirement ids must be unique across the whole manifest",
    )?;
    let title = non_empty(src, &rr.title, "requirement title")?;
    let paths = globs(src, &rr.paths, &id)?;
    let min_files = whole_number(
        src,
        rr.min_files.as_ref(),
        "min_files",
        1..=10_000,
        "use a whole number of at least 1",
    )?
    .unwrap_or(1);
    let max_age_days = whole_number(
        src,
        rr.max_age_days.as_ref(),
        "max_age_days",
        1..=36_500,
        "use a whole number of days of at least 1, or leave it out to use the look-back window",
    )?;
    Ok(Requirement {
        id,
        title,
        evidence: rr.evidence,
        paths,
        min_files,
        max_age_days,
        cadence: rr.cadence,
        required: rr.required,
        owner: rr.owner.filter(|o| !o.trim().is_empty()),
        notes: rr.notes.filter(|o| !o.trim().is_empty()),
    })
}

/// A requirement's `paths`: at least one, each a valid glob inside the evidence folder.
fn globs(src: &Source<'_>, paths: &Spanned<Vec<Spanned<String>>>, id: &str) -> Result<Vec<String>> {
    if paths.get_ref().is_empty() {
        return Err(src.error(
            paths.span(),
            format!("requirement `{id}` has empty `paths`"),
            "list at least one glob relative to the evidence folder, e.g. paths = [\"audits/**/*pathway*\"]",
        ));
    }
    paths
        .get_ref()
        .iter()
        .map(|p| {
            check_glob(p.get_ref()).map_err(|msg| {
                src.error(
                    p.span(),
                    format!("invalid glob {:?} in `{id}`: {msg}", p.get_ref()),
                    "globs are relative to the evidence folder: `*` matches within a folder, `**` across folders, `?` one character, `[abc]` a set",
                )
            })?;
            Ok(p.get_ref().clone())
        })
        .collect()
}

/// An optional whole number that must lie in `range`: `None` when the key is left out.
fn whole_number(
    src: &Source<'_>,
    value: Option<&Spanned<i64>>,
    key: &str,
    range: RangeInclusive<i64>,
    help: &str,
) -> Result<Option<u32>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let v = *value.get_ref();
    match u32::try_from(v) {
        Ok(n) if range.contains(&v) => Ok(Some(n)),
        _ => Err(src.error(value.span(), format!("{key} = {v} is out of range"), help)),
    }
}

/// Globs match the whole relative path, case-insensitively (shared drives are inconsistent
/// about case), and `*` stays within one folder.
fn build_glob(pattern: &str) -> std::result::Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .case_insensitive(true)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn check_glob(pattern: &str) -> std::result::Result<(), String> {
    if pattern.trim().is_empty() {
        return Err("it is empty".into());
    }
    if pattern.starts_with('/') || pattern.starts_with('\\') || pattern.contains(":\\") {
        return Err("it is absolute; paths are relative to the evidence folder".into());
    }
    // Windows users type `\` between folders, which the glob would read as an escape and
    // then match nothing: refused, with the fix, rather than silently finding no file.
    if pattern.contains('\\') {
        return Err("it holds a `\\`: use / in globs, even on Windows (for a literal `*`, `?` or `[` in a name, write `[*]`, `[?]` or `[[]`)".into());
    }
    if pattern.split('/').any(|part| part == "..") {
        return Err("`..` would leave the evidence folder".into());
    }
    build_glob(pattern)
        .map(|_| ())
        .map_err(|e| e.kind().to_string())
}

fn non_empty(src: &Source<'_>, value: &Spanned<String>, what: &str) -> Result<String> {
    let v = value.get_ref().trim();
    if v.is_empty() {
        return Err(src.error(
            value.span(),
            format!("{what} is empty"),
            "write a short human-readable text",
        ));
    }
    Ok(v.to_string())
}

fn identifier(src: &Source<'_>, value: &Spanned<String>, what: &str) -> Result<String> {
    let v = value.get_ref();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !ok {
        return Err(src.error(
            value.span(),
            format!("{what} {v:?} is not a valid id"),
            "use letters, digits, `.`, `-` or `_` (at most 64), e.g. \"P1\" or \"P1.2\"",
        ));
    }
    Ok(v.clone())
}

fn toml_date(src: &Source<'_>, value: &Spanned<toml::value::Datetime>) -> Result<NaiveDate> {
    let dt = value.get_ref();
    let help = "write the visit date as a bare TOML date, e.g. date = 2021-01-18";
    match (dt.date, dt.time) {
        (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
            .ok_or_else(|| src.error(value.span(), format!("{dt} is not a real date"), help)),
        _ => Err(src.error(
            value.span(),
            format!("visit date {dt} must be a date without a time"),
            help,
        )),
    }
}

fn help_for_toml_error(message: &str) -> &'static str {
    if message.contains("unknown field") {
        "remove or correct the key; the README lists every key the manifest accepts"
    } else if message.contains("unknown variant") {
        "use one of the values listed in the message"
    } else if message.contains("missing field") {
        "add the key; the README shows a complete example"
    } else if message.contains("datetime") || message.contains("date") {
        "dates are bare TOML dates such as 2021-01-18 (no quotes)"
    } else if message.contains("invalid type") {
        "check the value's type: text in quotes, numbers and dates bare, lists in [ ]"
    } else {
        "fix the TOML syntax at this place; the README shows a complete example"
    }
}

/// Finds the manifest to use when `--manifest` is not given: the single `*.toml` in `dir`.
pub fn default_manifest(dir: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::input(
            dir,
            format!("no manifest given and the folder cannot be read ({e})"),
            "pass --manifest FILE, or run from a folder that has manifests/ with one .toml",
        )
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        })
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::input(
            dir,
            "no manifest (*.toml) here",
            "pass --manifest FILE",
        )),
        _ => Err(Error::input(
            dir,
            format!(
                "several manifests, so none is the default: {}",
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "choose one with --manifest FILE",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const GOOD: &str = r#"
[visit]
name = "Focused visit"
authority = "Example Council"
date = 2021-01-18

[[area]]
id = "P1"
kind = "ofsted-priority"
title = "Care leavers"

[[area.requirement]]
id = "P1.1"
title = "Audit"
evidence = "audit"
paths = ["audits/**/*audit*"]
"#;

    pub(super) fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(Path::new("m.toml"), text.to_string())
    }

    fn err_at(text: &str) -> (usize, usize, String) {
        match parse(text) {
            Err(Error::Manifest {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected a manifest error, got {other:?}"),
        }
    }

    #[test]
    fn parses_defaults() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.visit.lookback_months, 6);
        let r = &m.areas[0].requirements[0];
        assert_eq!(r.min_files, 1);
        assert!(r.required);
        assert_eq!(r.cadence, Cadence::None);
        assert_eq!(r.max_age_days, None);
    }

    #[test]
    fn unknown_key_names_line() {
        let text = GOOD.replace(
            "evidence = \"audit\"",
            "evidence = \"audit\"\nmax_age_day = 3",
        );
        let (line, _, msg) = err_at(&text);
        assert_eq!(line, 16);
        assert!(msg.contains("max_age_day"), "{msg}");
    }

    #[test]
    fn duplicate_requirement_id() {
        let text = format!(
            "{GOOD}\n[[area.requirement]]\nid = \"P1.1\"\ntitle = \"x\"\nevidence = \"plan\"\npaths = [\"a\"]\n"
        );
        let (line, col, msg) = err_at(&text);
        assert_eq!((line, col), (19, 6));
        assert!(msg.contains("duplicate requirement id `P1.1`"), "{msg}");
    }

    #[test]
    fn bad_glob_and_escape() {
        let (_, _, msg) = err_at(&GOOD.replace("audits/**/*audit*", "audits/[a"));
        assert!(msg.contains("invalid glob"), "{msg}");
        let (_, _, msg) = err_at(&GOOD.replace("audits/**/*audit*", "../secrets/*"));
        assert!(msg.contains(".."), "{msg}");
    }

    #[test]
    fn a_backslash_in_a_glob_names_its_line_and_asks_for_slashes() {
        let line_of_glob = GOOD
            .lines()
            .position(|l| l.contains("audits/**/*audit*"))
            .expect("the glob")
            + 1;
        let (line, _, msg) = err_at(&GOOD.replace("audits/**/*audit*", "audits\\\\**\\\\*audit*"));
        assert_eq!(line, line_of_glob);
        assert!(msg.contains("use / in globs, even on Windows"), "{msg}");
    }

    /// A manifest of one area with one requirement per glob list.
    #[test]
    fn bad_enum_and_date() {
        let (line, _, msg) = err_at(&GOOD.replace("\"audit\"", "\"audits\""));
        assert_eq!(line, 15);
        assert!(msg.contains("unknown variant"), "{msg}");
        let (line, _, _) = err_at(&GOOD.replace("2021-01-18", "2021-02-30"));
        assert_eq!(line, 5);
        let (line, _, msg) = err_at(&GOOD.replace("2021-01-18", "\"2021-01-18\""));
        assert_eq!(line, 5, "{msg}");
    }
}
