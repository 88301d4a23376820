//! evpack's own check of `pack.json` against the payload as read: every file it lists for a
//! requirement, and every file in its `payload` array, is in the payload with the same
//! SHA-256 and size; and every payload file is in its `payload` array. Files already named
//! by another finding are not named again.
//!
//! The file is walked, not loaded: each file it lists is judged when the parser reaches it
//! and then forgotten, with its strings borrowed from the file's bytes. Collected into
//! structs, an array of `{}` (three bytes an item) would cost sixty-four bytes an item, and
//! a 64 MiB `pack.json` 1.4 GB. What the check keeps grows with the payload (the paths the
//! `payload` array lists), and its findings are capped ([`Capped`]).
//!
//! Two walks: the first reads `pack_schema` and the `payload` array, and finds any syntax
//! error before a finding is made; the second reads the requirements (which come first in
//! the file) and judges their files against that array. A requirement is taken as one raw
//! slice and read twice, once for its `id` and once for its files, so that the findings
//! name it whatever the order of its keys.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::findings::{Capped, Finding, Kind};
use super::hashing::{Algo, Digests};
use crate::bagit::{self, PackFileRead};

/// Longest path a claim may name: no file system holds a longer one, and a path is printed
/// whole in a finding.
pub const MAX_PATH_BYTES: usize = 4096;

/// What the claims are judged against.
pub struct Payload<'a> {
    /// The payload files read, with their digests.
    pub read: &'a BTreeMap<&'a str, &'a Digests>,
    /// Already named by another finding.
    pub named: &'a BTreeSet<String>,
    /// Reported and not read.
    pub flagged: &'a HashSet<String>,
}

/// Checks `pack.json`, with at most `cap` findings named one by one. Returns whether it
/// says it is an evpack pack's (`pack_schema` is [`bagit::PACK_SCHEMA`]).
pub fn check(bytes: &[u8], payload: &Payload, cap: usize, findings: &mut Vec<Finding>) -> bool {
    let mut judge = Judge {
        payload,
        listed: HashSet::new(),
    };
    // The payload list's findings wait until the schema is known to be evpack's.
    let mut first = Vec::new();
    let walked = {
        let mut out = Capped::new(&mut first, bagit::PACK_JSON, cap);
        walk(bytes, &mut |claim| {
            if let Claim::Payload(i, file) = claim {
                judge.payload_item(i, &file, &mut out);
            }
        })
    };
    let mut out = Capped::new(findings, bagit::PACK_JSON, cap);
    let top = match walked {
        Ok(top) => top,
        Err(e) => {
            out.push(say(
                bagit::PACK_JSON,
                format!(
                    "not valid pack JSON: {}",
                    super::bag::excerpt(&e.to_string())
                ),
            ));
            return false;
        }
    };
    if top.schema.as_deref() != Some(bagit::PACK_SCHEMA) {
        let schema = top.schema.as_deref().map_or("absent".to_string(), |s| {
            format!("`{}`", super::bag::excerpt(s))
        });
        out.push(say(
            bagit::PACK_JSON,
            format!("pack_schema is {schema}, expected {}", bagit::PACK_SCHEMA),
        ));
        return false;
    }
    for f in first {
        out.push(f);
    }
    if !top.has_payload {
        out.push(say(bagit::PACK_JSON, "has no `payload` array"));
    }
    // The first walk read the whole file without error: the second cannot fail.
    let _ = walk(bytes, &mut |claim| {
        if let Claim::Requirement(id, file) = claim {
            judge.requirement_file(id.as_deref(), &file, &mut out);
        }
    });
    judge.unlisted_payload(&mut out);
    true
}

fn say(path: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding::new(Kind::Consistency, path, message)
}

/// Claims judged against the payload as read. The same finding from several requirements
/// is merged when the report is assembled.
struct Judge<'a, 'de> {
    payload: &'a Payload<'a>,
    /// The paths the `payload` array lists: those in the payload, and the others while
    /// findings are still named one by one.
    listed: HashSet<Cow<'de, str>>,
}

/// Whose claim it is: an item of the payload list, or a requirement's.
#[derive(Clone, Copy)]
enum Whose<'a> {
    PayloadItem(usize),
    Requirement(&'a str),
}

impl fmt::Display for Whose<'_> {
    /// As the messages name it, in brackets: "(its payload list)", "(requirement P1.1)".
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Whose::PayloadItem(_) => f.write_str("its payload list"),
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
                super::bag::excerpt(said)
            ),
            Wrong::Size(said, found) => {
                format!("pack.json ({who}) gives {said} bytes, the payload file has {found}")
            }
        }
    }
}

impl<'de> Judge<'_, 'de> {
    /// Already named by another finding, or not read.
    fn skip(&self, path: &str) -> bool {
        self.payload.named.contains(path) || self.payload.flagged.contains(path)
    }

    /// What is wrong with one claim, if anything.
    fn judge(&self, path: &str, sha: Option<&str>, size: Option<u64>) -> Option<Wrong> {
        if self.skip(path) {
            return None;
        }
        let Some(d) = self.payload.read.get(path) else {
            return Some(Wrong::NotInPayload);
        };
        let found = d.get(Algo::Sha256).unwrap_or_default();
        match sha.map(str::to_ascii_lowercase) {
            None => Some(Wrong::NoSha),
            Some(s) if s != found => Some(Wrong::Sha(s, found)),
            Some(_) => match size {
                Some(n) if n != d.size => Some(Wrong::Size(n, d.size)),
                _ => None,
            },
        }
    }

    /// Reports what is wrong with one claim, if anything.
    fn judge_claim(&self, path: &str, file: &PackFileRead<'de>, who: Whose, out: &mut Capped) {
        if let Some(wrong) = self.judge(path, file.sha256.as_deref(), file.size) {
            out.push_with(|| say(path, wrong.describe(who)));
        }
    }

    /// The path a claim names, if it names one a file can have (else says why not).
    fn path_of<'f>(
        file: &'f PackFileRead<'de>,
        who: Whose,
        out: &mut Capped,
    ) -> Option<&'f Cow<'de, str>> {
        let problem = match &file.path {
            Some(p) if p.len() <= MAX_PATH_BYTES => return Some(p),
            Some(p) => Some(p.len()),
            None => None,
        };
        out.push_with(|| {
            let message = match (who, problem) {
                (Whose::PayloadItem(i), None) => format!("payload[{i}] has no path"),
                (Whose::Requirement(id), None) => {
                    format!("requirement {id} lists a file without a path")
                }
                (Whose::PayloadItem(i), Some(n)) => {
                    format!("payload[{i}] has a path of {n} bytes, longer than any file's")
                }
                (Whose::Requirement(id), Some(n)) => format!(
                    "requirement {id} lists a file with a path of {n} bytes, longer than any file's"
                ),
            };
            say(bagit::PACK_JSON, message)
        });
        None
    }

    /// One item of the `payload` array.
    fn payload_item(&mut self, i: usize, item: &PackFileRead<'de>, out: &mut Capped) {
        let who = Whose::PayloadItem(i);
        let Some(path) = Self::path_of(item, who, out) else {
            return;
        };
        let in_payload = self.payload.read.contains_key(path.as_ref());
        if in_payload || !out.is_full() {
            self.listed.insert(path.clone());
        }
        if item.size.is_none() && !self.skip(path) {
            out.push_with(|| {
                say(
                    path.as_ref(),
                    "pack.json lists it (its payload list) without a size",
                )
            });
        }
        self.judge_claim(path, item, who, out);
    }

    /// One file a requirement lists (its path relative to `data/`), which must also be in
    /// the payload list.
    fn requirement_file(&self, id: Option<&str>, f: &PackFileRead<'de>, out: &mut Capped) {
        let id = id.unwrap_or("?");
        let who = Whose::Requirement(id);
        let Some(rel) = Self::path_of(f, who, out) else {
            return;
        };
        let path = format!("data/{rel}");
        if !self.listed.contains(path.as_str()) && !self.skip(&path) {
            out.push_with(|| {
                say(
                    path.as_str(),
                    format!("pack.json lists it for requirement {id} but not in its payload list"),
                )
            });
        }
        self.judge_claim(&path, f, who, out);
    }

    /// Every payload file is in the payload list.
    fn unlisted_payload(&self, out: &mut Capped) {
        for path in self.payload.read.keys() {
            if !self.listed.contains(*path) && !self.skip(path) {
                out.push(say(
                    *path,
                    "in the payload, not in pack.json's payload list",
                ));
            }
        }
    }
}

// ---- the walk ----

/// One file `pack.json` makes claims about.
enum Claim<'de> {
    /// An item of the `payload` array (path under `data/`), with its index.
    Payload(usize, PackFileRead<'de>),
    /// A file a requirement lists (path relative to `data/`), with the requirement's id.
    Requirement(Option<Cow<'de, str>>, PackFileRead<'de>),
}

type OnClaim<'f, 'de> = &'f mut dyn FnMut(Claim<'de>);

/// What the walk saw at the top level.
struct Top {
    schema: Option<String>,
    /// A `payload` array (not absent, not null).
    has_payload: bool,
}

/// Walks the whole file, handing each claim to `on_claim`; fails as the typed parse would
/// (bad syntax, a value of the wrong type, a duplicate key, trailing characters).
fn walk<'de>(bytes: &'de [u8], on_claim: OnClaim<'_, 'de>) -> serde_json::Result<Top> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = serde::Deserializer::deserialize_map(&mut de, TopVisitor(on_claim))?;
    de.end()?;
    Ok(top)
}

/// The keys the walk looks into; the values of all others are skipped unread.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    PackSchema,
    Payload,
    Areas,
    Requirements,
    Files,
    #[serde(other)]
    Other,
}

/// Fails on a second occurrence of a key the walk reads.
fn once<E: de::Error>(seen: &mut bool, key: &'static str) -> Result<(), E> {
    if std::mem::replace(seen, true) {
        return Err(E::duplicate_field(key));
    }
    Ok(())
}

struct TopVisitor<'f, 'de>(OnClaim<'f, 'de>);

impl<'de> Visitor<'de> for TopVisitor<'_, 'de> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("pack.json's top-level object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let on = self.0;
        let mut top = Top {
            schema: None,
            has_payload: false,
        };
        let mut seen = [false; 3];
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::PackSchema => {
                    once(&mut seen[0], "pack_schema")?;
                    top.schema = map.next_value()?;
                }
                Key::Payload => {
                    once(&mut seen[1], "payload")?;
                    top.has_payload = map.next_value_seed(PayloadSeed(&mut *on))?;
                }
                Key::Areas => {
                    once(&mut seen[2], "areas")?;
                    map.next_value_seed(Each(&mut *on, Level::Areas))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

/// The `payload` value: an array of files, or null.
struct PayloadSeed<'f, 'de>(OnClaim<'f, 'de>);

impl<'de> DeserializeSeed<'de> for PayloadSeed<'_, 'de> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for PayloadSeed<'_, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of files or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_seq(Each(self.0, Level::Payload))?;
        Ok(true)
    }
}

/// Which array [`Each`] walks.
#[derive(Clone, Copy)]
enum Level<'r, 'de> {
    /// `payload`: files.
    Payload,
    /// `areas`: objects holding `requirements`.
    Areas,
    /// `requirements`: objects holding `id` and `files`, each taken raw.
    Requirements,
    /// A requirement's `files`, with its id.
    Files(&'r Option<Cow<'de, str>>),
}

/// Walks one array, element by element, handing claims on and keeping nothing.
struct Each<'f, 'r, 'de>(OnClaim<'f, 'de>, Level<'r, 'de>);

impl<'de> DeserializeSeed<'de> for Each<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Each<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Each(on, level) = self;
        let mut i = 0;
        loop {
            let more = match level {
                Level::Payload => seq
                    .next_element::<PackFileRead<'de>>()?
                    .map(|file| on(Claim::Payload(i, file))),
                Level::Areas => seq.next_element_seed(Holder(&mut *on))?,
                Level::Requirements => match seq.next_element::<&'de RawValue>()? {
                    Some(raw) => Some(requirement(raw, &mut *on).map_err(de::Error::custom)?),
                    None => None,
                },
                Level::Files(id) => seq
                    .next_element::<PackFileRead<'de>>()?
                    .map(|file| on(Claim::Requirement(id.clone(), file))),
            };
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

/// An area: an object whose `requirements` array is walked.
struct Holder<'f, 'de>(OnClaim<'f, 'de>);

impl<'de> DeserializeSeed<'de> for Holder<'_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Holder<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an area object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Key>()? {
            if let Key::Requirements = key {
                once(&mut seen, "requirements")?;
                map.next_value_seed(Each(&mut *self.0, Level::Requirements))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A requirement's id (its files skipped unread).
#[derive(Deserialize)]
struct RequirementId<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

/// One requirement, taken raw: its id first, then its files, each handed on.
fn requirement<'de>(raw: &'de RawValue, on: OnClaim<'_, 'de>) -> serde_json::Result<()> {
    let RequirementId { id } = serde_json::from_str(raw.get())?;
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde::Deserializer::deserialize_map(&mut de, Files(on, &id))
}

/// A requirement object, whose `files` array is walked.
struct Files<'f, 'r, 'de>(OnClaim<'f, 'de>, &'r Option<Cow<'de, str>>);

impl<'de> Visitor<'de> for Files<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a requirement object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Files(on, id) = self;
        let mut seen = false;
        while let Some(key) = map.next_key::<Key>()? {
            if let Key::Files = key {
                once(&mut seen, "files")?;
                map.next_value_seed(Each(&mut *on, Level::Files(id)))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every claim of a document, as (kind, id, path).
    fn claims(json: &str) -> serde_json::Result<Vec<(char, String, String)>> {
        let mut seen = Vec::new();
        walk(json.as_bytes(), &mut |c| {
            let (kind, id, file) = match c {
                Claim::Payload(i, f) => ('p', i.to_string(), f),
                Claim::Requirement(id, f) => ('r', id.unwrap_or_default().into_owned(), f),
            };
            seen.push((kind, id, file.path.unwrap_or_default().into_owned()));
        })?;
        Ok(seen)
    }

    #[test]
    fn every_claim_is_seen_whatever_the_order_of_keys() {
        let doc = r#"{"areas":[{"requirements":[{"files":[{"path":"a"}],"id":"R1"}],"x":1}],
            "pack_schema":"evpack.pack.v1","payload":[{"path":"data/a","size":1},{}]}"#;
        assert_eq!(
            claims(doc).expect("valid"),
            vec![
                ('r', "R1".into(), "a".into()),
                ('p', "0".into(), "data/a".into()),
                ('p', "1".into(), String::new()),
            ]
        );
    }

    #[test]
    fn what_the_typed_parse_refuses_is_refused() {
        for bad in [
            "[]",
            r#"{"payload":[1]}"#,
            r#"{"areas":null}"#,
            r#"{"payload":[],"payload":[]}"#,
            r#"{"areas":[{"requirements":[{"id":"R","files":[{"size":"x"}]}]}]}"#,
            r#"{} trailing"#,
        ] {
            assert!(claims(bad).is_err(), "{bad}");
        }
        assert!(claims(r#"{"payload":null,"bag":{"name":"b"}}"#).is_ok());
    }
}
