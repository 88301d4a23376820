//! The manifest: what evidence each Ofsted priority and Commissioner recommendation needs.
//!
//! The TOML file is the user-facing contract, so parsing is strict (unknown keys are errors:
//! a misspelt `max_age_day` must not silently fall back to a default) and every error points
//! at the line and column with a fix. Raw serde structs keep their spans; [`Manifest`] is the
//! validated model the rest of the program sees.
//!
//! The globs' meaning lives here too: `build_glob` states it (globset's syntax, ASCII case
//! ignored, `*` within one folder) and [`Matcher`] matches paths against every requirement's
//! globs in memory that stays bounded however many requirements a manifest has.

use std::collections::HashMap;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use chrono::NaiveDate;
use globset::GlobBuilder;
use memchr::memmem;
use regex_automata::nfa::thompson;
use regex_automata::{hybrid, Anchored, Input};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::util::line_col;

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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVisit {
    name: Spanned<String>,
    authority: Spanned<String>,
    date: Spanned<toml::value::Datetime>,
    #[serde(default)]
    lookback_months: Option<Spanned<i64>>,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub name: String,
    pub authority: String,
    pub date: NaiveDate,
    pub lookback_months: u32,
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
        Ok(Manifest {
            path: path.to_path_buf(),
            text,
            visit,
            areas,
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

/// Every requirement's globs, compiled to match many paths.
///
/// One combined `globset::GlobSet` for all globs grew its state with the number of globs
/// (4,000 requirements took 6.4 GB), so each distinct glob is matched on its own, by a lazy
/// DFA of the regex globset makes of it (the same semantics, by construction). Memory is
/// bounded: each DFA's cache by `CACHE_PER_GLOB`, all DFAs together by `ENGINE_BUDGET`,
/// the rest by the manifest's size. Time grows at worst with paths times globs: each pair
/// costs the path's length (times the glob's, when a DFA's cache keeps overflowing). Three
/// cheap steps keep the globs actually run few: most globs hold plain text that any match
/// must contain, in order (`audits`, `pathway plans` in `audits/pathway plans/**/*.pdf`);
/// one Aho-Corasick pass over a path finds the globs whose rarest such text it holds, a
/// substring check keeps those with all of it, and a glob's DFA is built only when a path
/// first needs it.
pub struct Matcher {
    /// The distinct globs (the same glob in two requirements is matched once).
    globs: Vec<GlobEntry>,
    prefilter: Prefilter,
    /// Per glob, the number of the last path it was tried on (see `paths_seen`): a glob
    /// whose literal occurs twice in a path is tried once.
    tried: Vec<u64>,
    paths_seen: u64,
    /// What the built DFAs hold, caches included, and the most they may hold (see
    /// [`ENGINE_BUDGET`]).
    engine_bytes: usize,
    engine_budget: usize,
}

struct GlobEntry {
    /// The requirements that list the glob, ascending.
    requirements: Vec<usize>,
    /// The regex globset makes of the glob.
    regex: String,
    runs: LiteralRuns,
    /// Built when a path first needs it.
    engine: Option<LazyDfa>,
}

struct LazyDfa {
    dfa: hybrid::dfa::DFA,
    cache: hybrid::dfa::Cache,
}

/// The most cache one glob's DFA keeps; past it, the cache is cleared and refilled as the
/// search goes on (slower, never larger). A glob whose NFA needs more gets the minimum it
/// needs. A usual glob's DFA stays within a few kilobytes; 16 KiB made some globs of the
/// benchmark clear their caches on every path.
const CACHE_PER_GLOB: usize = 64 << 10;

/// The most memory the built DFAs may hold together. Past it every DFA is dropped, to be
/// rebuilt when a path needs it again: only a manifest with tens of thousands of distinct
/// globs, each tried on the same paths, gets there, and it then spends time, not memory.
const ENGINE_BUDGET: usize = 256 << 20;

/// aho-corasick's construction reorders its states in time that grows faster than their
/// number (12,500 short literals took 250 ms in one automaton); literals go into automata
/// of at most this many bytes each, which keeps construction linear.
const LITERAL_BYTES_PER_AUTOMATON: usize = 8 << 10;

impl Matcher {
    /// Reads every requirement's globs (see [`Manifest::matcher`]).
    fn new(manifest: &Manifest) -> Result<Matcher> {
        let mut globs: Vec<GlobEntry> = Vec::new();
        let mut by_regex: HashMap<String, usize> = HashMap::new();
        for (requirement, (_, req)) in manifest.requirements().enumerate() {
            for pattern in &req.paths {
                let glob = build_glob(pattern).map_err(|source| Error::Glob {
                    path: manifest.path.clone(),
                    pattern: pattern.clone(),
                    source,
                })?;
                let index = *by_regex.entry(glob.regex().to_string()).or_insert_with(|| {
                    globs.push(GlobEntry {
                        requirements: Vec::new(),
                        regex: glob.regex().to_string(),
                        runs: LiteralRuns::of(pattern),
                        engine: None,
                    });
                    globs.len() - 1
                });
                let listed = &mut globs[index].requirements;
                if listed.last() != Some(&requirement) {
                    listed.push(requirement);
                }
            }
        }
        let prefilter = Prefilter::new(&globs)?;
        Ok(Matcher {
            tried: vec![u64::MAX; globs.len()],
            globs,
            prefilter,
            paths_seen: 0,
            engine_bytes: 0,
            engine_budget: ENGINE_BUDGET,
        })
    }

    /// The requirements (indices in [`Manifest::requirements`] order) whose globs match
    /// `path`, ascending, each once.
    pub fn requirements_matching(&mut self, path: &str) -> Result<Vec<usize>> {
        let lower = path.to_ascii_lowercase();
        let mut candidates = self.prefilter.candidates(lower.as_bytes());
        let this_path = self.paths_seen;
        self.paths_seen += 1;
        candidates.retain(|&g| std::mem::replace(&mut self.tried[g], this_path) != this_path);
        let mut found: Vec<usize> = Vec::new();
        for g in candidates {
            if self.globs[g].runs.all_in(lower.as_bytes()) && self.is_match(g, path)? {
                found.extend_from_slice(&self.globs[g].requirements);
            }
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// Runs glob `g`'s DFA on `path`, building it first if need be.
    fn is_match(&mut self, g: usize, path: &str) -> Result<bool> {
        if self.globs[g].engine.is_none() {
            let engine = LazyDfa::new(&self.globs[g].regex)?;
            self.engine_bytes += engine.memory_usage();
            if self.engine_bytes > self.engine_budget {
                self.globs.iter_mut().for_each(|glob| glob.engine = None);
                self.engine_bytes = engine.memory_usage();
            }
            self.globs[g].engine = Some(engine);
        }
        let glob = &mut self.globs[g];
        let Some(engine) = glob.engine.as_mut() else {
            return Err(Error::Internal("a glob's DFA went missing".into()));
        };
        let before = engine.cache.memory_usage();
        let input = Input::new(path).anchored(Anchored::Yes).earliest(true);
        // No quit bytes, Unicode word boundaries or give-up count are configured, so the
        // search cannot fail.
        let found = engine
            .dfa
            .try_search_fwd(&mut engine.cache, &input)
            .map_err(|e| Error::Internal(format!("glob regex {:?}: {e}", glob.regex)))?;
        let after = engine.cache.memory_usage();
        self.engine_bytes = (self.engine_bytes + after).saturating_sub(before);
        Ok(found.is_some())
    }
}

impl LazyDfa {
    fn new(regex: &str) -> Result<LazyDfa> {
        // The syntax globset itself compiles its regexes with: bytes, `.` matches `\n`.
        let syntax = regex_automata::util::syntax::Config::new()
            .utf8(false)
            .dot_matches_new_line(true);
        let nfa = thompson::Compiler::new()
            .syntax(syntax)
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build(regex)
            .map_err(|e| Error::Internal(format!("glob regex {regex:?}: {e}")))?;
        let dfa = hybrid::dfa::Builder::new()
            .configure(
                hybrid::dfa::Config::new()
                    .cache_capacity(CACHE_PER_GLOB)
                    .skip_cache_capacity_check(true),
            )
            .build_from_nfa(nfa)
            .map_err(|e| Error::Internal(format!("glob regex {regex:?}: {e}")))?;
        let cache = dfa.create_cache();
        Ok(LazyDfa { dfa, cache })
    }

    fn memory_usage(&self) -> usize {
        self.dfa.get_nfa().memory_usage() + self.dfa.memory_usage() + self.cache.memory_usage()
    }
}

/// The runs of plain text a glob's matches must contain, in order, in ASCII lower case
/// (globs ignore ASCII case). Runs end at `/` and at wildcards; at the first class,
/// alternation or escape (`[`, `{`, `\`) the reading stops, since what follows needs the
/// glob parser to read: a run may be missed, never invented.
struct LiteralRuns {
    runs: Vec<memmem::Finder<'static>>,
    /// The first run starts the glob: a match starts with it.
    first_starts: bool,
    /// The last run ends the glob: a match ends with it.
    last_ends: bool,
}

impl LiteralRuns {
    fn of(pattern: &str) -> LiteralRuns {
        // Characters that end a run, and those after which the reading stops.
        let ends_run = |c: char| matches!(c, '/' | '*' | '?' | ']' | '}' | ',' | '!' | '^');
        let stops = |c: char| matches!(c, '[' | '{' | '\\');
        let mut runs = Vec::new();
        let mut start = 0;
        let mut last_ends = true;
        for (i, c) in pattern.char_indices() {
            if ends_run(c) || stops(c) {
                if i > start {
                    runs.push(&pattern[start..i]);
                }
                start = i + c.len_utf8();
            }
            if stops(c) {
                last_ends = false;
                break;
            }
        }
        if last_ends && pattern.len() > start {
            runs.push(&pattern[start..]);
        } else {
            last_ends = false;
        }
        LiteralRuns {
            first_starts: pattern.starts_with(|c: char| !ends_run(c) && !stops(c)),
            last_ends,
            runs: runs
                .iter()
                .map(|r| memmem::Finder::new(r.to_ascii_lowercase().as_bytes()).into_owned())
                .collect(),
        }
    }

    /// True when `lower` (a path in ASCII lower case) holds every run, in order, the first
    /// at its start and the last at its end where the glob says so.
    fn all_in(&self, lower: &[u8]) -> bool {
        let mut hay = lower;
        let mut runs = self.runs.as_slice();
        if self.last_ends {
            if let Some((last, rest)) = runs.split_last() {
                let Some(before) = hay.strip_suffix(last.needle()) else {
                    return false;
                };
                hay = before;
                runs = rest;
            }
        }
        if self.first_starts {
            if let Some((first, rest)) = runs.split_first() {
                let Some(after) = hay.strip_prefix(first.needle()) else {
                    return false;
                };
                hay = after;
                runs = rest;
            }
        }
        for run in runs {
            match run.find(hay) {
                Some(at) => hay = &hay[at + run.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

/// Which globs can match a path, from one literal run each.
struct Prefilter {
    /// Automata over the chosen runs, each with the number of its first run.
    automata: Vec<(usize, AhoCorasick)>,
    /// Per chosen run, the globs filed under it.
    globs_of: Vec<Vec<usize>>,
    /// Globs without a run: tried on every path.
    always: Vec<usize>,
}

impl Prefilter {
    /// Files each glob under the run the fewest globs share, so that a folder name common
    /// to many globs does not make them all candidates for every file in that folder.
    fn new(globs: &[GlobEntry]) -> Result<Prefilter> {
        fn runs_of(g: &GlobEntry) -> impl Iterator<Item = &[u8]> {
            g.runs.runs.iter().map(memmem::Finder::needle)
        }
        let mut shared: HashMap<&[u8], usize> = HashMap::new();
        for g in globs {
            for run in runs_of(g) {
                *shared.entry(run).or_default() += 1;
            }
        }
        let mut ids: HashMap<&[u8], usize> = HashMap::new();
        let mut chosen: Vec<&[u8]> = Vec::new();
        let mut globs_of: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (index, g) in globs.iter().enumerate() {
            // Runs shorter than three bytes ("a", "v2") are in too many paths to filter.
            let rarest = runs_of(g)
                .min_by_key(|run| (run.len() < 3, shared[run], std::cmp::Reverse(run.len())));
            let Some(run) = rarest else {
                always.push(index);
                continue;
            };
            let id = *ids.entry(run).or_insert_with(|| {
                chosen.push(run);
                globs_of.push(Vec::new());
                chosen.len() - 1
            });
            globs_of[id].push(index);
        }
        let mut automata = Vec::new();
        let mut first = 0;
        while first < chosen.len() {
            let mut end = first + 1;
            let mut bytes = chosen[first].len();
            while end < chosen.len() && bytes + chosen[end].len() <= LITERAL_BYTES_PER_AUTOMATON {
                bytes += chosen[end].len();
                end += 1;
            }
            let automaton = AhoCorasick::new(&chosen[first..end])
                .map_err(|e| Error::Internal(format!("the globs' literal prefilter: {e}")))?;
            automata.push((first, automaton));
            first = end;
        }
        Ok(Prefilter {
            automata,
            globs_of,
            always,
        })
    }

    /// The globs filed under a run that `lower` (a path in ASCII lower case) holds, and
    /// those without a run; a glob may be listed more than once.
    fn candidates(&self, lower: &[u8]) -> Vec<usize> {
        let mut candidates = self.always.clone();
        for (first, automaton) in &self.automata {
            for m in automaton.find_overlapping_iter(lower) {
                candidates.extend_from_slice(&self.globs_of[first + m.pattern().as_usize()]);
            }
        }
        candidates
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

    const GOOD: &str = r#"
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

    fn parse(text: &str) -> Result<Manifest> {
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

    /// A manifest of one area with one requirement per glob list.
    fn manifest_of(globs: &[&[&str]]) -> Manifest {
        let requirement = |(i, paths): (usize, &&[&str])| Requirement {
            id: format!("R{i}"),
            title: "t".into(),
            evidence: EvidenceKind::Other,
            paths: paths.iter().map(|p| p.to_string()).collect(),
            min_files: 1,
            max_age_days: None,
            cadence: Cadence::None,
            required: true,
            owner: None,
            notes: None,
        };
        Manifest {
            path: "m.toml".into(),
            text: String::new(),
            visit: parse(GOOD).unwrap().visit,
            areas: vec![Area {
                id: "A".into(),
                kind: AreaKind::Other,
                title: "t".into(),
                source: None,
                requirements: globs.iter().enumerate().map(requirement).collect(),
            }],
        }
    }

    #[test]
    fn literal_runs_hold_what_every_match_contains() {
        let runs = |p: &str| {
            let r = LiteralRuns::of(p);
            let texts: Vec<String> = r
                .runs
                .iter()
                .map(|f| String::from_utf8_lossy(f.needle()).into_owned())
                .collect();
            (texts, r.first_starts, r.last_ends)
        };
        assert_eq!(
            runs("Audits/Pathway Plans/**/*plan*.PDF"),
            (
                vec![
                    "audits".into(),
                    "pathway plans".into(),
                    "plan".into(),
                    ".pdf".into()
                ],
                true,
                true
            )
        );
        assert_eq!(runs("**/*123*"), (vec!["123".into()], false, false));
        // Nothing is read past a class, an alternation or an escape.
        assert_eq!(runs("ab/[xy]cd/ef"), (vec!["ab".into()], true, false));
        assert_eq!(runs("*ab{c,d}ef"), (vec!["ab".into()], false, false));
        assert_eq!(runs("ab\\*cd"), (vec!["ab".into()], true, false));
        assert_eq!(runs("*"), (vec![], false, false));
        let r = LiteralRuns::of("audits/**/*plan*.pdf");
        assert!(r.all_in(b"audits/2020/pathway plan 2020-10.pdf"));
        assert!(!r.all_in(b"x/audits/2020/pathway plan 2020-10.pdf"));
        assert!(!r.all_in(b"audits/2020/pathway plan 2020-10.pdf.docx"));
        assert!(!r.all_in(b"audits/plan.pdf/x.pdf".split_at(11).0));
        assert!(!r.all_in(b"audits.pdf"));
    }

    #[test]
    fn matcher_lists_each_requirement_once_in_order() {
        let m = manifest_of(&[&["**/*.pdf", "audits/**"], &["nothing/*"], &["**/*plan*"]]);
        let mut matcher = m.matcher().unwrap();
        assert_eq!(
            matcher.requirements_matching("Audits/Plan.PDF").unwrap(),
            [0, 2]
        );
        assert_eq!(
            matcher.requirements_matching("other.txt").unwrap(),
            [] as [usize; 0]
        );
    }

    #[test]
    fn matcher_stays_right_when_its_budget_drops_every_dfa() {
        let globs: Vec<String> = (0..50).map(|i| format!("**/*n{i}n*")).collect();
        let lists: Vec<[&str; 1]> = globs.iter().map(|g| [g.as_str()]).collect();
        let refs: Vec<&[&str]> = lists.iter().map(|l| &l[..]).collect();
        let mut matcher = manifest_of(&refs).matcher().unwrap();
        matcher.engine_budget = 1;
        for round in 0..2 {
            for i in 0..50 {
                let path = format!("dir/file n{i}n and N{}N.pdf", (i + 1) % 50);
                let mut want = vec![i, (i + 1) % 50];
                want.sort_unstable();
                assert_eq!(
                    matcher.requirements_matching(&path).unwrap(),
                    want,
                    "round {round}"
                );
            }
        }
        assert!(matcher.globs.iter().filter(|g| g.engine.is_some()).count() <= 1);
    }

    #[test]
    fn a_glob_in_several_requirements_is_matched_once_for_all() {
        let m = manifest_of(&[
            &["**/*.pdf"],
            &["x/*", "**/*.PDF"],
            &["**/*.pdf", "**/*.pdf"],
        ]);
        let mut matcher = m.matcher().unwrap();
        assert_eq!(matcher.globs.len(), 3, "`**/*.pdf` once, `x/*`, `**/*.PDF`");
        assert_eq!(matcher.requirements_matching("a/b.pdf").unwrap(), [0, 1, 2]);
        assert_eq!(matcher.requirements_matching("x/b.txt").unwrap(), [1]);
    }

    /// Glob pieces, each with texts it (nearly always) matches, so that generated paths
    /// match as often as not.
    const GLOB_PIECES: [(&str, &[&str]); 28] = [
        ("a", &["a", "A"]),
        ("b", &["b", "B"]),
        ("A", &["a", "A"]),
        ("ab", &["ab", "aB"]),
        ("é", &["é"]),
        ("É", &["É", "é"]),
        ("/", &["/"]),
        ("*", &["", "a", "ab.", "é"]),
        ("**", &["", "a", "a/b"]),
        ("**/", &["", "a/", "a/b/"]),
        ("/**", &["/", "/a", "/a/b"]),
        ("?", &["a", "é", "/"]),
        ("[ab]", &["a", "B", "c"]),
        ("[!a]", &["a", "b", "/"]),
        ("[a-c]", &["b", "C", "d"]),
        ("[é]", &["é", "e"]),
        ("{a,b}", &["a", "b", "c"]),
        ("{,x}", &["", "x"]),
        ("\\*", &["*", "a"]),
        ("\\a", &["a"]),
        ("x", &["x", "X"]),
        ("-", &["-"]),
        (".", &["."]),
        (",", &[","]),
        ("!", &["!"]),
        ("^", &["^"]),
        ("]", &["]"]),
        ("}", &["}"]),
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The matcher says what globset says, for every glob globset accepts, on paths
        /// made to match it and on paths with pieces changed.
        #[test]
        fn matcher_agrees_with_globset(
            pieces in proptest::collection::vec(
                (0..GLOB_PIECES.len(), proptest::collection::vec(0usize..4, 3)),
                1..8,
            ),
        ) {
            let glob: String = pieces.iter().map(|(p, _)| GLOB_PIECES[*p].0).collect();
            let Ok(expected) = build_glob(&glob).map(|g| g.compile_matcher()) else {
                return Ok(());
            };
            let mut matcher = manifest_of(&[&[glob.as_str()]]).matcher().unwrap();
            for variant in 0..3 {
                let path: String = pieces
                    .iter()
                    .map(|(p, choice)| {
                        let texts = GLOB_PIECES[*p].1;
                        texts[choice[variant] % texts.len()]
                    })
                    .collect();
                let got = !matcher.requirements_matching(&path).unwrap().is_empty();
                proptest::prop_assert_eq!(
                    got,
                    expected.is_match(&path),
                    "glob {:?} path {:?}",
                    glob,
                    path
                );
            }
        }
    }

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
