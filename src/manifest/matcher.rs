//! Matching paths against every requirement's globs, in bounded memory (see [`Matcher`]).

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use memchr::memmem;
use regex_automata::nfa::thompson;
use regex_automata::{hybrid, Anchored, Input};

use super::{build_glob, Manifest};
use crate::error::{Error, Result};

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
    pub(super) fn new(manifest: &Manifest) -> Result<Matcher> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, GOOD};
    use super::super::{Area, AreaKind, Cadence, EvidenceKind, Requirement};
    use super::*;

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
            dates: Vec::new(),
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
}
