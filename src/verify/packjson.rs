//! evpack's own check of `pack.json` against the payload as read: every file it lists for a
//! requirement, and every file in its `payload` array, is in the payload with the same
//! SHA-256 and size; and every payload file is in its `payload` array. Files already named
//! by another finding are not named again.
//!
//! The file is streamed, never held ([`super::jsonstream`]): each file it lists is judged
//! when the parser reaches it and then forgotten. What the check keeps is a bit per pack
//! file (listed in the `payload` array or not), eight bytes per requirement's claim on a
//! file until the `payload` array is read, and, while findings are still named one by one,
//! the paths it lists that the pack lacks; its findings are capped ([`Capped`]). So a
//! `pack.json` of any size is read in the same memory, and one of millions of tiny items
//! costs time in proportion, nothing more.
//!
//! One reading, as a rule: it hashes the file (for the tag manifest), checks all of it
//! before any finding stands, judges the `payload` array's items, and gathers the
//! requirements' claims (which come first in the file) to judge once that array is read.
//! Only when they would make more findings than are named one by one (or are too many to
//! gather) is the file read again for the requirements, so that the same findings are
//! named as ever, in the file's order. That second reading must see the bytes the first
//! hashed: if it does not (the file changed in between), its findings are dropped and
//! that is the finding.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use super::findings::{excerpt, Capped, Finding, Kind, NAMED_PER_TAG_FILE};
use super::hashing::{unhex_into, Algo, Algos, Table};
use super::jsonstream::{streamed, JsonReader, JsonResult, MAX_STRING};
use super::paths::{Bits, Named, Paths, MAX_PATH_BYTES};
use super::store::{Member, Problem, Store};
use crate::bagit::{self, PackFileRead};

/// A file as `pack.json` lists it (its strings owned: the file is streamed).
type File = PackFileRead<'static>;

/// What the claims are judged against.
pub struct Payload<'a> {
    pub paths: &'a Paths<'a>,
    /// What every member hashed to.
    pub table: &'a Table,
    /// Already named by another finding.
    pub named: &'a Named,
    /// Reported and not read.
    pub flagged: &'a HashSet<String>,
}

/// `pack.json` as read.
pub struct Outcome {
    /// It says it is an evpack pack's (`pack_schema` is [`bagit::PACK_SCHEMA`]).
    pub evpack: bool,
    pub size: u64,
    /// What it was hashed with, and the digests, for the tag manifest.
    pub algos: Algos,
    pub digests: Vec<u8>,
}

/// Checks `pack.json` (member `m`), hashing it with `algos`, with at most `cap` findings
/// named one by one. `Err` when it cannot be read to its end: then nothing is said of its
/// contents.
pub fn check(
    store: &dyn Store,
    m: &Member,
    algos: Algos,
    payload: &Payload,
    cap: usize,
    findings: &mut Vec<Finding>,
) -> Result<Outcome, Problem> {
    check_reading(store, m, algos, payload, (cap, true), findings)
}

/// [`check`], with the requirements judged in the first reading when they fit (`gather`),
/// else always in a second.
fn check_reading(
    store: &dyn Store,
    m: &Member,
    algos: Algos,
    payload: &Payload,
    (cap, gather): (usize, bool),
    findings: &mut Vec<Finding>,
) -> Result<Outcome, Problem> {
    // SHA-256 always: a second reading is compared with the first by it.
    let algos = algos.with(Algo::Sha256);
    let mut judge = Judge::new(payload, cap);
    judge.gathered.overflowed |= !gather;
    // The payload list's findings wait until the schema is known to be evpack's.
    let mut first = Vec::new();
    let (walked, read) = {
        let mut out = Capped::new(&mut first, bagit::PACK_JSON, cap);
        streamed(store, m, algos, |r| {
            walk(r, Pass::All, &mut |claim| match claim {
                Claim::Payload(i, file) => judge.payload_item(i, &file, &mut out),
                claim => judge.gather(claim),
            })
        })
    };
    let hashers = read?;
    let mut read = Outcome {
        evpack: false,
        size: hashers.size(),
        algos,
        digests: hashers.finish(),
    };
    let mut said = Vec::new();
    read.evpack = {
        let mut out = Capped::new(&mut said, bagit::PACK_JSON, cap);
        match walked {
            Err(e) => {
                let e = excerpt(&e.to_string());
                out.push(say(bagit::PACK_JSON, format!("not valid pack JSON: {e}")));
                false
            }
            Ok(top) if top.schema.as_deref() != Some(bagit::PACK_SCHEMA) => {
                out.push(wrong_schema(top.schema.as_deref()));
                false
            }
            Ok(top) => {
                judge.conclude(top, first, (store, m, &read), &mut out);
                true
            }
        }
    };
    findings.append(&mut said);
    Ok(read)
}

fn say(path: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding::new(Kind::Consistency, path, message)
}

fn wrong_schema(schema: Option<&str>) -> Finding {
    let schema = schema.map_or("absent".to_string(), |s| format!("`{}`", excerpt(s)));
    say(
        bagit::PACK_JSON,
        format!("pack_schema is {schema}, expected {}", bagit::PACK_SCHEMA),
    )
}

/// Claims judged against the payload as read. The same finding from several requirements
/// is merged when the report is assembled.
struct Judge<'a> {
    payload: &'a Payload<'a>,
    /// The pack's files the `payload` array lists, by id.
    listed: Bits,
    /// The paths it lists that the pack lacks, while findings are still named one by one.
    listed_other: HashSet<String>,
    /// What is wrong with the files of a requirement whose id comes after them, until the
    /// id is read (only as many as will be named).
    pending: Vec<ReqProblem>,
    /// The requirements' claims gathered in the first reading.
    gathered: Gathered,
    /// Findings named one by one.
    cap: usize,
}

/// The requirements' claims, gathered in the first reading (the requirements come before
/// the payload list) and judged once the payload list is read, while they fit: at most as
/// many problems as are named one by one, and a few claims a file. Past that, the second
/// reading judges them.
#[derive(Default)]
struct Gathered {
    /// What is wrong, found at once, with the requirement it belongs to (by number).
    problems: Vec<(usize, ReqProblem)>,
    /// Files the pack holds that must be in the payload list, by id, with their
    /// requirement: eight bytes a claim.
    on_pack: Vec<(u32, u32)>,
    /// Files the pack lacks that must be in the payload list, with their requirement.
    off_pack: Vec<(String, usize)>,
    /// The requirements that have either, by number: their ids as shown.
    ids: Vec<String>,
    id_bytes: usize,
    /// The requirement being read, once it has a number.
    current: Option<usize>,
    /// Gathering stopped: too much to keep.
    overflowed: bool,
}

/// A file that must be in the payload list: one the pack holds (by id), or not.
enum Listed {
    Id(usize),
    Path(String),
}

/// Whose claim it is: an item of the payload list, or a requirement's.
#[derive(Clone, Copy)]
enum Whose<'a> {
    PayloadItem,
    Requirement(&'a str),
}

impl fmt::Display for Whose<'_> {
    /// As the messages name it, in brackets: "(its payload list)", "(requirement P1.1)".
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Whose::PayloadItem => f.write_str("its payload list"),
            Whose::Requirement(id) => write!(f, "requirement {id}"),
        }
    }
}

/// What is wrong with one claim; described only if it is shown.
enum Wrong {
    NotInPayload,
    NoSha,
    Sha(String, String),
    Size(u64, u64),
}

impl Wrong {
    fn describe(&self, who: Whose) -> String {
        match self {
            Wrong::NotInPayload => format!("pack.json lists it ({who}), not in the payload"),
            Wrong::NoSha => format!("pack.json lists it ({who}) without a sha256"),
            Wrong::Sha(said, found) => format!(
                "pack.json ({who}) gives sha256 {}, the payload file has {found}",
                excerpt(said)
            ),
            Wrong::Size(said, found) => {
                format!("pack.json ({who}) gives {said} bytes, the payload file has {found}")
            }
        }
    }
}

/// What is wrong with one file a requirement lists; described once the requirement's id
/// is known.
enum ReqProblem {
    NoPath,
    LongPath(usize),
    /// In the payload's place but not in its list.
    NotListed(String),
    Wrong(String, Wrong),
}

impl ReqProblem {
    fn finding(self, id: &str) -> Finding {
        let who = Whose::Requirement(id);
        match self {
            ReqProblem::NoPath => say(
                bagit::PACK_JSON,
                format!("requirement {id} lists a file without a path"),
            ),
            ReqProblem::LongPath(n) => say(
                bagit::PACK_JSON,
                format!(
                    "requirement {id} lists a file with a path of {}, longer than any file's",
                    bytes(n)
                ),
            ),
            ReqProblem::NotListed(path) => say(
                path,
                format!("pack.json lists it for requirement {id} but not in its payload list"),
            ),
            ReqProblem::Wrong(path, wrong) => {
                let message = wrong.describe(who);
                say(path, message)
            }
        }
    }
}

/// "N bytes", or, for a string cut as it was read, how long it is at least.
fn bytes(n: usize) -> String {
    if n >= MAX_STRING {
        format!("{MAX_STRING} bytes or more")
    } else {
        format!("{n} bytes")
    }
}

impl<'a> Judge<'a> {
    fn new(payload: &'a Payload<'a>, cap: usize) -> Judge<'a> {
        Judge {
            payload,
            listed: Bits::new(payload.paths.len()),
            listed_other: HashSet::new(),
            pending: Vec::new(),
            gathered: Gathered {
                overflowed: cap == 0,
                ..Gathered::default()
            },
            cap,
        }
    }

    /// Every finding of an evpack `pack.json` read without error: `first`, the payload
    /// list's; then the requirements' and the payload files the list lacks.
    fn conclude(
        &mut self,
        top: Top,
        first: Vec<Finding>,
        read: (&dyn Store, &Member, &Outcome),
        out: &mut Capped,
    ) {
        let (store, m, read) = read;
        let mut head = first;
        if !top.has_payload {
            head.push(say(bagit::PACK_JSON, "has no `payload` array"));
        }
        match self.judged(head, out.room()) {
            // Every finding is named: their order does not matter.
            Ok(all) => out.extend(all),
            // More than are named: the requirements are read again, to name the same
            // ones as ever, in the file's order.
            Err(head) => {
                out.extend(head);
                self.requirements(store, m, (read.algos, read.size, &read.digests), out);
                self.unlisted_payload(out);
            }
        }
    }

    /// Already named by another finding, or not read. `id` is the path's, if the pack
    /// holds it.
    fn skip(&self, id: Option<usize>, path: &str) -> bool {
        let p = self.payload;
        if p.named.has(id, path) {
            return true;
        }
        match id {
            // Every payload file was hashed: one not read was reported.
            Some(id) if p.paths.is_member(id) && bagit::is_payload(path) => !p.table.is_read(id),
            Some(id) if !p.paths.is_member(id) => true,
            _ => p.flagged.contains(path),
        }
    }

    /// The payload file `id` as read: its SHA-256 (if hashed with it) and size.
    fn read(&self, id: Option<usize>, path: &str) -> Option<(Option<&[u8]>, u64)> {
        let (p, id) = (self.payload, id?);
        if !p.paths.is_member(id) || !bagit::is_payload(path) {
            return None;
        }
        Some((p.table.get(id, Algo::Sha256), p.table.size(id)?))
    }

    /// What is wrong with one claim, if anything.
    fn judge(&self, id: Option<usize>, path: &str, file: &File) -> Option<Wrong> {
        if self.skip(id, path) {
            return None;
        }
        let Some((found, size)) = self.read(id, path) else {
            return Some(Wrong::NotInPayload);
        };
        let Some(said) = file.sha256.as_deref() else {
            return Some(Wrong::NoSha);
        };
        let agrees = match found {
            Some(found) => {
                let mut said_bytes = [0u8; 64];
                let said_bytes = &mut said_bytes[..found.len().min(64)];
                unhex_into(said, said_bytes) && *said_bytes == *found
            }
            None => said.is_empty(),
        };
        if !agrees {
            let found = found.map(crate::util::hex).unwrap_or_default();
            return Some(Wrong::Sha(said.to_ascii_lowercase(), found));
        }
        match file.size {
            Some(n) if n != size => Some(Wrong::Size(n, size)),
            _ => None,
        }
    }

    /// The path a claim names, if it names one a file can have (else what is wrong).
    fn path_of(file: &File) -> Result<&str, Option<usize>> {
        match file.path.as_deref() {
            Some(p) if p.len() <= MAX_PATH_BYTES => Ok(p),
            Some(p) => Err(Some(p.len())),
            None => Err(None),
        }
    }

    /// One item of the `payload` array.
    fn payload_item(&mut self, i: usize, item: &File, out: &mut Capped) {
        let path = match Self::path_of(item) {
            Ok(path) => path,
            Err(problem) => {
                out.push_with(|| {
                    let message = match problem {
                        None => format!("payload[{i}] has no path"),
                        Some(n) => format!(
                            "payload[{i}] has a path of {}, longer than any file's",
                            bytes(n)
                        ),
                    };
                    say(bagit::PACK_JSON, message)
                });
                return;
            }
        };
        let id = self.payload.paths.find(path);
        match id {
            Some(id) => self.listed.insert(id),
            None if !out.is_full() => {
                self.listed_other.insert(path.to_string());
            }
            None => {}
        }
        if item.size.is_none() && !self.skip(id, path) {
            out.push_with(|| say(path, "pack.json lists it (its payload list) without a size"));
        }
        if let Some(wrong) = self.judge(id, path, item) {
            out.push_with(|| say(path, wrong.describe(Whose::PayloadItem)));
        }
    }

    /// What is wrong with one file a requirement lists (its path relative to `data/`), and
    /// the file that must also be in the payload list (unless it is already named).
    fn requirement_file(&self, f: &File) -> (Vec<ReqProblem>, Option<Listed>) {
        let rel = match Self::path_of(f) {
            Ok(rel) => rel,
            Err(None) => return (vec![ReqProblem::NoPath], None),
            Err(Some(n)) => return (vec![ReqProblem::LongPath(n)], None),
        };
        let path = format!("{}{rel}", bagit::DATA_DIR);
        let id = self.payload.paths.find(&path);
        let problems = self
            .judge(id, &path, f)
            .map(|wrong| ReqProblem::Wrong(path.clone(), wrong))
            .into_iter()
            .collect();
        let listed = match id {
            _ if self.skip(id, &path) => None,
            Some(id) => Some(Listed::Id(id)),
            None => Some(Listed::Path(path)),
        };
        (problems, listed)
    }

    fn is_listed(&self, l: &Listed) -> bool {
        match l {
            Listed::Id(id) => self.listed.contains(*id),
            Listed::Path(path) => self.listed_other.contains(path),
        }
    }

    /// Every problem with one file a requirement lists, the payload list already read.
    fn requirement_problems(&self, f: &File) -> Vec<ReqProblem> {
        let (mut problems, listed) = self.requirement_file(f);
        if let Some(l) = listed.filter(|l| !self.is_listed(l)) {
            let path = match l {
                Listed::Id(id) => self.payload.paths.path(id).to_string(),
                Listed::Path(path) => path,
            };
            problems.insert(0, ReqProblem::NotListed(path));
        }
        problems
    }

    /// A claim of the first reading about a requirement, gathered while it fits.
    fn gather(&mut self, claim: Claim) {
        let g = &mut self.gathered;
        if g.overflowed {
            return;
        }
        match claim {
            Claim::Requirement(_, file) => {
                let (problems, listed) = self.requirement_file(&file);
                let g = &mut self.gathered;
                let at = *g.current.get_or_insert_with(|| {
                    g.ids.push(String::new());
                    g.ids.len() - 1
                });
                g.problems.extend(problems.into_iter().map(|p| (at, p)));
                match listed {
                    Some(Listed::Id(id)) => match (u32::try_from(id), u32::try_from(at)) {
                        (Ok(id), Ok(at)) => g.on_pack.push((id, at)),
                        _ => g.overflowed = true,
                    },
                    Some(Listed::Path(path)) => g.off_pack.push((path, at)),
                    None => {}
                }
            }
            Claim::RequirementEnd(id) => {
                if let Some(at) = g.current.take() {
                    g.ids[at] = shown_id(id);
                    g.id_bytes += g.ids[at].len();
                }
            }
            Claim::Payload(..) => {}
        }
        // A few claims a file, ids of a readable length, no more problems than are named:
        // past that, the second reading judges them, and nothing gathered is kept.
        let g = &mut self.gathered;
        let most = 4 * self.payload.paths.len() + NAMED_PER_TAG_FILE;
        let kept = g.problems.len() + g.on_pack.len() + g.off_pack.len() + g.ids.len();
        if kept > most || g.problems.len() > self.cap || g.id_bytes > 16 << 20 {
            self.gathered = Gathered {
                overflowed: true,
                ..Gathered::default()
            };
        }
    }

    /// Every finding, when the first reading gathered every claim and they are no more
    /// than `cap`: `head` (the payload list's), then the requirements' and the payload
    /// files the list lacks. Else `head` back, for the second reading to go on from.
    fn judged(&mut self, head: Vec<Finding>, cap: usize) -> Result<Vec<Finding>, Vec<Finding>> {
        let g = std::mem::take(&mut self.gathered);
        let mut all = head;
        let head_len = all.len();
        // More findings than `cap` (`head` past it holds its own count): some would be
        // counted, not named, and which depends on the file's order.
        let mut fits = !g.overflowed && all.len() <= cap;
        for (at, p) in g.problems {
            if !fits {
                break;
            }
            all.push(p.finding(&g.ids[at]));
            fits = all.len() <= cap;
        }
        let on_pack = g.on_pack.into_iter().map(|(id, at)| {
            // Both were numbers that fit when they were kept.
            (Listed::Id(id as usize), at as usize)
        });
        let off_pack = g.off_pack.into_iter().map(|(p, at)| (Listed::Path(p), at));
        for (l, at) in on_pack.chain(off_pack) {
            if !fits {
                break;
            }
            if !self.is_listed(&l) {
                let path = match l {
                    Listed::Id(id) => self.payload.paths.path(id).to_string(),
                    Listed::Path(path) => path,
                };
                all.push(ReqProblem::NotListed(path).finding(&g.ids[at]));
                fits = all.len() <= cap;
            }
        }
        if fits && all.len() + self.unlisted_payload_ids().count() <= cap {
            let paths = self.payload.paths;
            all.extend(self.unlisted_payload_ids().map(|id| {
                say(
                    paths.path(id),
                    "in the payload, not in pack.json's payload list",
                )
            }));
            return Ok(all);
        }
        all.truncate(head_len);
        Err(all)
    }

    /// A claim of the second reading: a requirement's file, or the end of a requirement.
    fn requirement_claim(&mut self, claim: Claim, out: &mut Capped) {
        match claim {
            Claim::Requirement(ReqId::Known(id), file) => {
                let id = shown_id(id);
                for p in self.requirement_problems(&file) {
                    out.push_with(|| p.finding(&id));
                }
            }
            Claim::Requirement(ReqId::Later, file) => {
                for p in self.requirement_problems(&file) {
                    if self.pending.len() < out.room() {
                        self.pending.push(p);
                    } else {
                        out.count(Kind::Consistency);
                    }
                }
            }
            Claim::RequirementEnd(id) => {
                let id = shown_id(id);
                for p in self.pending.drain(..) {
                    out.push(p.finding(&id));
                }
            }
            Claim::Payload(..) => {}
        }
    }

    /// The second reading: the requirements' files. If it does not read what the first
    /// hashed, what it found is dropped and that is the finding.
    fn requirements(
        &mut self,
        store: &dyn Store,
        m: &Member,
        first: (Algos, u64, &[u8]),
        out: &mut Capped,
    ) {
        let (algos, size, digests) = first;
        let mark = out.mark();
        let (_, read) = streamed(store, m, algos, |r| {
            // It stops after the requirements, and the first reading found the file valid:
            // how the walk ends says nothing.
            let _ = walk(r, Pass::Requirements, &mut |claim| {
                self.requirement_claim(claim, out);
            });
        });
        self.pending.clear();
        let same = read.is_ok_and(|h| h.size() == size && h.finish() == digests);
        if !same {
            out.rollback(mark);
            out.push(Finding::new(
                Kind::Unsafe,
                bagit::PACK_JSON,
                "changed while it was being verified (a second reading differs from the first); what it claims for the requirements was not checked",
            ));
        }
    }

    /// Every payload file is in the payload list.
    fn unlisted_payload(&self, out: &mut Capped) {
        let paths = self.payload.paths;
        for id in self.unlisted_payload_ids() {
            out.push(say(
                paths.path(id),
                "in the payload, not in pack.json's payload list",
            ));
        }
    }

    /// The payload files read that the payload list lacks (and no finding names yet).
    fn unlisted_payload_ids(&self) -> impl Iterator<Item = usize> + '_ {
        let paths = self.payload.paths;
        paths.members_sorted().filter(|&id| {
            let path = paths.path(id);
            bagit::is_payload(path)
                && self.payload.table.is_read(id)
                && !self.listed.contains(id)
                && !self.skip(Some(id), path)
        })
    }
}

/// A requirement's id as the findings show it: cut to a readable length.
fn shown_id(id: Option<&str>) -> String {
    id.map_or_else(|| "?".to_string(), excerpt)
}

// ---- the walk ----

/// Which reading: the first reads the whole file, the second only the requirements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    All,
    Requirements,
}

/// A requirement's id, as far as the walk knows it when it reaches the requirement's files.
#[derive(Clone, Copy)]
enum ReqId<'r> {
    /// Read before the files (`None`: it has none).
    Known(Option<&'r str>),
    /// Not read yet: it may come after the files.
    Later,
}

/// One file `pack.json` makes claims about.
enum Claim<'r> {
    /// An item of the `payload` array (path under `data/`), with its index.
    Payload(usize, File),
    /// A file a requirement lists (path relative to `data/`).
    Requirement(ReqId<'r>, File),
    /// The end of a requirement, with its id.
    RequirementEnd(Option<&'r str>),
}

type OnClaim<'f> = &'f mut dyn for<'r> FnMut(Claim<'r>);

/// What the walk saw at the top level.
struct Top {
    schema: Option<String>,
    /// A `payload` array (not absent, not null).
    has_payload: bool,
}

/// Walks the file, handing each claim of this pass to `on_claim`; fails as a typed parse
/// would (bad syntax, a value of the wrong type, a duplicate key, trailing characters).
/// The second pass stops after the requirements.
fn walk(reader: &mut dyn Read, pass: Pass, on: OnClaim) -> JsonResult<Top> {
    let mut r = JsonReader::new(reader);
    let mut top = Top {
        schema: None,
        has_payload: false,
    };
    let mut seen = [false; 3];
    r.begin_object("pack.json's top-level object")?;
    let mut first = true;
    while let Some(key) = r.next_key(&mut first)?.map(Key::of) {
        match key {
            Key::PackSchema => {
                once(&r, &mut seen[0], "pack_schema")?;
                top.schema = r.string_or_null("a string")?;
            }
            Key::Payload => {
                once(&r, &mut seen[1], "payload")?;
                top.has_payload = payload(&mut r, &mut *on)?;
            }
            Key::Areas => {
                once(&r, &mut seen[2], "areas")?;
                areas(&mut r, &mut *on)?;
                if pass == Pass::Requirements {
                    return Ok(top);
                }
            }
            _ => r.skip_value()?,
        }
    }
    r.end()?;
    Ok(top)
}

/// The keys the walk looks into; the values of all others are skipped unread.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    PackSchema,
    Payload,
    Areas,
    Requirements,
    Id,
    Files,
    Path,
    Size,
    Sha256,
    Other,
}

impl Key {
    fn of(key: &str) -> Key {
        match key {
            "pack_schema" => Key::PackSchema,
            "payload" => Key::Payload,
            "areas" => Key::Areas,
            "requirements" => Key::Requirements,
            "id" => Key::Id,
            "files" => Key::Files,
            "path" => Key::Path,
            "size" => Key::Size,
            "sha256" => Key::Sha256,
            _ => Key::Other,
        }
    }
}

/// Fails on a second occurrence of a key the walk reads.
fn once<R: Read>(r: &JsonReader<R>, seen: &mut bool, key: &str) -> JsonResult<()> {
    if std::mem::replace(seen, true) {
        return Err(r.error(format!("duplicate field `{key}`")));
    }
    Ok(())
}

/// The `payload` value: an array of files, or null (`false`).
fn payload<R: Read>(r: &mut JsonReader<R>, on: OnClaim) -> JsonResult<bool> {
    if r.peek()? == Some(b'n') {
        r.skip_value()?;
        return Ok(false);
    }
    r.begin_array("an array of files or null")?;
    let (mut first, mut i) = (true, 0);
    while r.next_element(&mut first)? {
        on(Claim::Payload(i, file(r)?));
        i += 1;
    }
    Ok(true)
}

/// `areas`: objects whose `requirements` arrays are walked.
fn areas<R: Read>(r: &mut JsonReader<R>, on: OnClaim) -> JsonResult<()> {
    r.begin_array("a sequence of areas")?;
    let mut first = true;
    while r.next_element(&mut first)? {
        r.begin_object("an area object")?;
        let (mut first_key, mut seen) = (true, false);
        while let Some(key) = r.next_key(&mut first_key)?.map(Key::of) {
            if key != Key::Requirements {
                r.skip_value()?;
                continue;
            }
            once(r, &mut seen, "requirements")?;
            r.begin_array("a sequence of requirements")?;
            let mut first_req = true;
            while r.next_element(&mut first_req)? {
                requirement(r, &mut *on)?;
            }
        }
    }
    Ok(())
}

/// A requirement: an object whose `id` and `files` are read, in either order.
fn requirement<R: Read>(r: &mut JsonReader<R>, on: OnClaim) -> JsonResult<()> {
    r.begin_object("a requirement object")?;
    let mut id: Option<String> = None;
    let (mut first, mut seen_id, mut seen_files) = (true, false, false);
    while let Some(key) = r.next_key(&mut first)?.map(Key::of) {
        match key {
            Key::Id => {
                once(r, &mut seen_id, "id")?;
                id = r.string_or_null("a string")?;
            }
            Key::Files => {
                once(r, &mut seen_files, "files")?;
                let known = if seen_id {
                    ReqId::Known(id.as_deref())
                } else {
                    ReqId::Later
                };
                r.begin_array("a sequence of files")?;
                let mut first_file = true;
                while r.next_element(&mut first_file)? {
                    on(Claim::Requirement(known, file(r)?));
                }
            }
            _ => r.skip_value()?,
        }
    }
    on(Claim::RequirementEnd(id.as_deref()));
    Ok(())
}

/// A file: an object whose `path`, `size` and `sha256` are read, each optional; or, as a
/// typed parse also reads a struct, an array of the three.
fn file<R: Read>(r: &mut JsonReader<R>) -> JsonResult<File> {
    if r.peek()? == Some(b'[') {
        return file_as_array(r);
    }
    r.begin_object("a file object")?;
    let mut f = File {
        path: None,
        size: None,
        sha256: None,
    };
    let (mut first, mut seen) = (true, [false; 3]);
    while let Some(key) = r.next_key(&mut first)?.map(Key::of) {
        match key {
            Key::Path => {
                once(r, &mut seen[0], "path")?;
                f.path = r.string_or_null("a string")?.map(Cow::Owned);
            }
            Key::Size => {
                once(r, &mut seen[1], "size")?;
                f.size = r.u64_or_null("u64")?;
            }
            Key::Sha256 => {
                once(r, &mut seen[2], "sha256")?;
                f.sha256 = r.string_or_null("a string")?.map(Cow::Owned);
            }
            _ => r.skip_value()?,
        }
    }
    Ok(f)
}

/// A file written `[path, size, sha256]`: exactly three values.
fn file_as_array<R: Read>(r: &mut JsonReader<R>) -> JsonResult<File> {
    r.begin_array("a file")?;
    let mut first = true;
    let mut next = |r: &mut JsonReader<R>, i: usize| match r.next_element(&mut first)? {
        true => Ok(()),
        false => Err(r.error(format!("invalid length {i}, expected a file of 3 elements"))),
    };
    next(r, 0)?;
    let path = r.string_or_null("a string")?.map(Cow::Owned);
    next(r, 1)?;
    let size = r.u64_or_null("u64")?;
    next(r, 2)?;
    let sha256 = r.string_or_null("a string")?.map(Cow::Owned);
    if r.next_element(&mut first)? {
        return Err(r.error("trailing characters: a file has 3 elements"));
    }
    Ok(File { path, size, sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    /// Every claim of a document in both passes, as (kind, id, path).
    fn claims(json: &str) -> JsonResult<Vec<(char, String, String)>> {
        let mut seen = Vec::new();
        for pass in [Pass::All, Pass::Requirements] {
            let walked = walk(&mut json.as_bytes(), pass, &mut |c| {
                let (kind, id, file) = match c {
                    Claim::Payload(i, f) => ('p', i.to_string(), f),
                    Claim::Requirement(ReqId::Known(id), f) => {
                        ('r', id.unwrap_or("-").to_string(), f)
                    }
                    Claim::Requirement(ReqId::Later, f) => ('r', "later".into(), f),
                    Claim::RequirementEnd(id) => {
                        seen.push(('e', id.unwrap_or("-").to_string(), String::new()));
                        return;
                    }
                };
                seen.push((kind, id, file.path.unwrap_or_default().into_owned()));
            });
            walked?;
        }
        Ok(seen)
    }

    #[test]
    fn every_claim_is_seen_whatever_the_order_of_keys() {
        let doc = r#"{"areas":[{"requirements":[{"files":[{"path":"a"}],"id":"R1"},
            {"id":"R2","files":[{"path":"b"}]}],"x":1}],
            "pack_schema":"evpack.pack.v1","payload":[{"path":"data/a","size":1},{}]}"#;
        let want: Vec<(char, String, String)> = [
            // The first pass sees the requirements' files too (to check them), and the
            // payload list after them; the second stops after the requirements.
            ('r', "later", "a"),
            ('e', "R1", ""),
            ('r', "R2", "b"),
            ('e', "R2", ""),
            ('p', "0", "data/a"),
            ('p', "1", ""),
            ('r', "later", "a"),
            ('e', "R1", ""),
            ('r', "R2", "b"),
            ('e', "R2", ""),
        ]
        .iter()
        .map(|(k, i, p)| (*k, i.to_string(), p.to_string()))
        .collect();
        assert_eq!(claims(doc).expect("valid"), want);
    }

    /// A member held in memory.
    struct Mem(Vec<u8>);

    impl Store for Mem {
        fn stream(
            &self,
            _: &Member,
            _: &mut crate::verify::store::Buffers,
            sink: &mut dyn FnMut(&[u8]),
        ) -> Result<(), Problem> {
            self.0.chunks(7).for_each(sink);
            Ok(())
        }
    }

    /// The findings on `doc` as `pack.json` of a pack holding `data/a`, `data/b` and
    /// `data/c` (each holding its own name), judged in one reading or two.
    fn judged(doc: &str, gather: bool, cap: usize) -> Vec<Finding> {
        use crate::verify::hashing::{Hashers, State};
        let members: Vec<Member> = ["data/a", "data/b", "data/c", "pack.json"]
            .iter()
            .enumerate()
            .map(|(key, p)| Member {
                path: p.to_string(),
                size: 1,
                key,
            })
            .collect();
        let sha = Algos::default().with(Algo::Sha256);
        let mut table = Table::new(members.len(), sha);
        for (i, m) in members.iter().enumerate().take(3) {
            let mut h = Hashers::new(sha);
            h.update(m.path.as_bytes());
            table.record(i, State::Read, h.size(), sha, &h.finish());
        }
        let paths = Paths::new(&members, &[]);
        let payload = Payload {
            paths: &paths,
            table: &table,
            named: &Named::new(&paths),
            flagged: &HashSet::new(),
        };
        let mut findings = Vec::new();
        let store = Mem(doc.as_bytes().to_vec());
        let read = check_reading(
            &store,
            &members[3],
            sha,
            &payload,
            (cap, gather),
            &mut findings,
        );
        assert!(read.is_ok_and(|r| r.evpack));
        findings.sort();
        findings
    }

    #[test]
    fn one_reading_finds_what_two_do() {
        let sha = |s: &str| crate::util::hex(&sha2::Sha256::digest(s));
        let (a, b) = (sha("data/a"), sha("data/b"));
        let doc = format!(
            r#"{{"areas":[{{"requirements":[
                {{"files":[{{"path":"a","size":6,"sha256":"{a}"}},{{"path":"b","size":9,"sha256":"{b}"}},
                  {{"path":"c","size":6}},{{"path":"z"}}],"id":"R1"}},
                {{"id":"R2","files":[{{"path":"x"}},{{"path":"a","size":6,"sha256":"{}"}}]}}]}}],
             "pack_schema":"evpack.pack.v1",
             "payload":[{{"path":"data/a","size":6,"sha256":"{a}"}},{{"path":"data/b","size":6,"sha256":"00"}},
                {{"path":"data/x","size":1}}]}}"#,
            a.to_uppercase()
        );
        let once = judged(&doc, true, 100);
        let twice = judged(&doc, false, 100);
        assert_eq!(once, twice);
        let shown: Vec<String> = once
            .iter()
            .map(|f| format!("{}: {}", f.path.as_deref().unwrap_or(""), f.message))
            .collect();
        for want in [
            "data/b: pack.json (its payload list) gives sha256 00",
            "data/b: pack.json (requirement R1) gives 9 bytes",
            "data/c: pack.json lists it for requirement R1 but not in its payload list",
            "data/c: pack.json lists it (requirement R1) without a sha256",
            "data/c: in the payload, not in pack.json's payload list",
            "data/x: pack.json lists it (its payload list), not in the payload",
            "data/x: pack.json lists it (requirement R2), not in the payload",
            "data/z: pack.json lists it for requirement R1 but not in its payload list",
        ] {
            assert!(
                shown.iter().any(|s| s.starts_with(want)),
                "{want}\n{shown:#?}"
            );
        }
        assert_eq!(once.len(), 9, "{shown:#?}");
        // With room for fewer, the second reading names the same first ones as ever.
        let capped = judged(&doc, true, 4);
        assert_eq!(capped, judged(&doc, false, 4));
        assert!(capped
            .iter()
            .any(|f| f.message.contains("not listed one by one")));
    }

    #[test]
    fn what_the_typed_parse_refuses_is_refused() {
        for bad in [
            "[]",
            r#"{"payload":[1]}"#,
            r#"{"areas":null}"#,
            r#"{"payload":[],"payload":[]}"#,
            r#"{"areas":[{"requirements":[{"id":"R","files":[{"size":"x"}]}]}]}"#,
            r#"{"areas":[{"requirements":[{"id":"R","id":"S"}]}]}"#,
            r#"{"areas":[{"requirements":[{"id":5}]}]}"#,
            r#"{} trailing"#,
        ] {
            assert!(claims(bad).is_err(), "{bad}");
        }
        assert!(claims(r#"{"payload":null,"bag":{"name":"b"}}"#).is_ok());
        // A file as an array of its three fields, as a typed parse reads a struct (seen by
        // both passes: there is no `areas` for the second to stop after).
        assert_eq!(
            claims(r#"{"payload":[["data/a",1,null]]}"#).expect("valid"),
            vec![('p', "0".to_string(), "data/a".to_string()); 2]
        );
        for bad in [
            r#"{"payload":[["data/a",1]]}"#,
            r#"{"payload":[["a",1,"x",2]]}"#,
        ] {
            assert!(claims(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Vec<PackFileRead>>(&bad[11..bad.len() - 1]).is_err());
        }
    }
}
