//! Reading one side of a diff: a pack (its `pack.json`, streamed out of the zip or folder)
//! or a saved assessment (`gaps --format json`), into a compact [`Side`].
//!
//! Both are read a token at a time ([`JsonReader`]), keeping only what a diff compares:
//! per requirement its status and reasons, per file its path, size, date and digest. So a
//! `pack.json` of 200,000 files (over 64 MB) costs a hundred-odd bytes a file, never the
//! file's size; and caps on the counts keep a hostile file from growing it further.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::{AreaState, FileState, ReqState, Side, SideKind};
use crate::assess::{Rag, Status};
use crate::bagit;
use crate::error::{Error, Result};
use crate::verify::jsonstream::{JsonError, JsonReader, JsonResult};

/// Requirements kept per side: far beyond any manifest (a test runs 10,000).
const MAX_REQUIREMENTS: usize = 200_000;
/// Files kept per side: the zip reader's own cap on entries is lower.
const MAX_FILES: usize = 5_000_000;
/// Reasons kept per requirement; the rest are counted.
const MAX_REASONS: usize = 20;

/// What to tell someone whose file is not a side a diff can read.
const HELP: &str =
    "give a pack that `evpack build` wrote (zip or unzipped folder), or a file saved \
from `evpack gaps --format json`";

/// Reads `path`: a folder or zip is a pack, a file starting with `{` a saved assessment.
pub fn read_side(path: &Path) -> Result<Side> {
    read(path, true)
}

/// [`read_side`] without the files: readiness, areas and requirements only (for a history
/// of many packs, whose files nobody compares).
pub fn read_summary(path: &Path) -> Result<Side> {
    read(path, false)
}

fn read(path: &Path, keep_files: bool) -> Result<Side> {
    let (mut file, meta) =
        crate::verify::open_no_wait(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let kind = if meta.is_dir() {
        SideKind::Pack
    } else if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file or folder (a FIFO, socket or device); not read",
            HELP,
        ));
    } else {
        let mut head = [0u8; 4];
        let n = read_head(&mut file, &mut head).map_err(|e| Error::io(path, "cannot read", e))?;
        let text = std::str::from_utf8(&head[..n]).unwrap_or("");
        if head[..n].starts_with(b"PK") {
            SideKind::Pack
        } else if text
            .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
            .starts_with('{')
            || n > 0 && head[..n].iter().all(u8::is_ascii_whitespace)
        {
            SideKind::Assessment
        } else {
            return Err(Error::input(
                path,
                "neither a zip, a folder nor a JSON file",
                HELP,
            ));
        }
    };
    let parsed = match kind {
        SideKind::Pack => {
            drop(file);
            crate::verify::stream_tag_file(path, bagit::PACK_JSON, |r| parse(r, keep_files))?
        }
        SideKind::Assessment => {
            use std::io::Seek;
            file.rewind()
                .map_err(|e| Error::io(path, "cannot read", e))?;
            parse(&mut std::io::BufReader::new(file), keep_files)
        }
    };
    let what = match kind {
        SideKind::Pack => "its pack.json",
        SideKind::Assessment => "it",
    };
    let p = parsed.map_err(|e| {
        Error::input(
            path,
            format!("{what} is not an evpack assessment: {e}"),
            HELP,
        )
    })?;
    p.into_side(path, kind)
}

fn read_head(file: &mut std::fs::File, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// What the parse keeps, before it is checked and made a [`Side`].
#[derive(Default)]
struct Parsed {
    schema: Option<String>,
    pack_schema: Option<String>,
    authority: Option<String>,
    visit_name: Option<String>,
    visit_date: Option<String>,
    manifest_sha256: Option<String>,
    reference_date: Option<String>,
    bagging_date: Option<String>,
    readiness: Option<u64>,
    areas: Vec<AreaState>,
    requirements: Vec<ReqState>,
    files: HashMap<Box<str>, FileState>,
    /// Whether to keep the files (a diff) or skip them (a history).
    keep_files: bool,
}

impl Parsed {
    fn into_side(self, path: &Path, kind: SideKind) -> Result<Side> {
        let bad = |what: &str| {
            Error::input(
                path,
                format!(
                    "{} is not an evpack assessment: {what}",
                    match kind {
                        SideKind::Pack => "its pack.json",
                        SideKind::Assessment => "it",
                    }
                ),
                HELP,
            )
        };
        if self.schema.as_deref() != Some(crate::assess::SCHEMA) {
            return Err(bad(&format!(
                "its schema is {}, not {}",
                self.schema
                    .as_deref()
                    .map_or("missing".into(), |s| format!("`{s}`")),
                crate::assess::SCHEMA
            )));
        }
        if kind == SideKind::Pack && self.pack_schema.as_deref() != Some(bagit::PACK_SCHEMA) {
            return Err(bad(&format!("`pack_schema` is not {}", bagit::PACK_SCHEMA)));
        }
        let date = |s: Option<String>, what: &str| {
            s.and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
                .ok_or_else(|| bad(&format!("no readable {what}")))
        };
        let readiness = self
            .readiness
            .filter(|r| *r <= 100)
            .ok_or_else(|| bad("no readable `summary.readiness_percent`"))?;
        let mut files: Vec<(Box<str>, FileState)> = self.files.into_iter().collect();
        files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Side {
            path: path.display().to_string(),
            kind,
            authority: self.authority.unwrap_or_default(),
            visit_name: self.visit_name.unwrap_or_default(),
            visit_date: date(self.visit_date, "`visit.date`")?,
            manifest_sha256: self.manifest_sha256.unwrap_or_default(),
            reference_date: date(self.reference_date, "`reference_date`")?,
            bagging_date: self
                .bagging_date
                .and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
            readiness: readiness as u32,
            areas: self.areas,
            requirements: self.requirements,
            files,
        })
    }
}

/// Parses the assessment (or `pack.json`) from `r`, keeping what a diff compares.
fn parse(r: &mut dyn Read, keep_files: bool) -> JsonResult<Parsed> {
    let mut j = JsonReader::new(r);
    let mut p = Parsed {
        keep_files,
        ..Parsed::default()
    };
    j.begin_object("an assessment object")?;
    let mut first = true;
    loop {
        let key = match j.next_key(&mut first)? {
            None => break,
            Some(k) => Top::of(k),
        };
        match key {
            Top::Schema => p.schema = j.string_or_null("a string")?,
            Top::PackSchema => p.pack_schema = j.string_or_null("a string")?,
            Top::ReferenceDate => p.reference_date = j.string_or_null("a date")?,
            Top::Visit => object(&mut j, |j, k| {
                match k {
                    "name" => p.visit_name = j.string_or_null("a string")?,
                    "authority" => p.authority = j.string_or_null("a string")?,
                    "date" => p.visit_date = j.string_or_null("a date")?,
                    _ => j.skip_value()?,
                }
                Ok(())
            })?,
            Top::Manifest => object(&mut j, |j, k| match k {
                "sha256" => j.string_or_null("a digest").map(|s| p.manifest_sha256 = s),
                _ => j.skip_value(),
            })?,
            Top::Bag => object(&mut j, |j, k| match k {
                "bagging_date" => j.string_or_null("a date").map(|s| p.bagging_date = s),
                _ => j.skip_value(),
            })?,
            Top::Summary => object(&mut j, |j, k| match k {
                "readiness_percent" => j.u64_or_null("a percent").map(|n| p.readiness = n),
                _ => j.skip_value(),
            })?,
            Top::Areas => array(&mut j, |j| area(j, &mut p))?,
            Top::Payload if p.keep_files => array(&mut j, |j| payload_item(j, &mut p.files))?,
            Top::Payload | Top::Other => j.skip_value()?,
        }
    }
    j.end()?;
    Ok(p)
}

enum Top {
    Schema,
    PackSchema,
    Visit,
    Manifest,
    ReferenceDate,
    Bag,
    Summary,
    Areas,
    Payload,
    Other,
}

impl Top {
    fn of(key: &str) -> Top {
        match key {
            "schema" => Top::Schema,
            "pack_schema" => Top::PackSchema,
            "visit" => Top::Visit,
            "manifest" => Top::Manifest,
            "reference_date" => Top::ReferenceDate,
            "bag" => Top::Bag,
            "summary" => Top::Summary,
            "areas" => Top::Areas,
            "payload" => Top::Payload,
            _ => Top::Other,
        }
    }
}

type Reader<'a> = JsonReader<&'a mut dyn Read>;

/// Reads an object, handing each key (and the reader, at its value) to `each`.
fn object(
    j: &mut Reader,
    mut each: impl FnMut(&mut Reader, &str) -> JsonResult<()>,
) -> JsonResult<()> {
    j.begin_object("an object")?;
    let mut first = true;
    loop {
        // Keys are short; copied so the reader is free to read the value.
        let key = match j.next_key(&mut first)? {
            None => return Ok(()),
            Some(k) => k.to_string(),
        };
        each(j, &key)?;
    }
}

/// Reads an array, handing the reader to `each` at every element.
fn array(j: &mut Reader, mut each: impl FnMut(&mut Reader) -> JsonResult<()>) -> JsonResult<()> {
    j.begin_array("a list")?;
    let mut first = true;
    while j.next_element(&mut first)? {
        each(j)?;
    }
    Ok(())
}

fn too_many(j: &Reader, what: &str) -> JsonError {
    j.error(format!("more {what} than any pack holds"))
}

fn area(j: &mut Reader, p: &mut Parsed) -> JsonResult<()> {
    let mut a = AreaState::default();
    let Parsed {
        requirements,
        files,
        keep_files,
        ..
    } = p;
    let keep_files = *keep_files;
    object(j, |j, k| {
        match k {
            "id" => a.id = j.string_or_null("an id")?.unwrap_or_default(),
            "rag" => {
                a.rag = j
                    .string_or_null("a RAG rating")?
                    .as_deref()
                    .and_then(rag_of)
            }
            "requirements" => array(j, |j| {
                if requirements.len() >= MAX_REQUIREMENTS {
                    return Err(too_many(j, "requirements"));
                }
                let r = requirement(j, keep_files.then_some(&mut *files))?;
                requirements.push(ReqState {
                    area: a.id.clone(),
                    ..r
                });
                Ok(())
            })?,
            _ => j.skip_value()?,
        }
        Ok(())
    })?;
    if a.rag.is_none() {
        return Err(j.error(format!("area `{}` has no RAG rating", a.id)));
    }
    p.areas.push(a);
    Ok(())
}

fn requirement(
    j: &mut Reader,
    mut files: Option<&mut HashMap<Box<str>, FileState>>,
) -> JsonResult<ReqState> {
    let mut r = ReqState::default();
    let mut status = None;
    object(j, |j, k| {
        match k {
            "id" => r.id = j.string_or_null("an id")?.unwrap_or_default(),
            "title" => r.title = j.string_or_null("a title")?.unwrap_or_default(),
            "required" => r.required = j.bool_or_null("true or false")?.unwrap_or(true),
            "status" => status = j.string_or_null("a status")?,
            "reasons" => array(j, |j| {
                let reason = j.string_or_null("a reason")?;
                if r.reasons.len() < MAX_REASONS {
                    r.reasons.extend(reason);
                } else {
                    r.more_reasons += 1;
                }
                Ok(())
            })?,
            "files" => match files.as_deref_mut() {
                Some(files) => array(j, |j| file_item(j, files))?,
                None => j.skip_value()?,
            },
            _ => j.skip_value()?,
        }
        Ok(())
    })?;
    r.status = match status.as_deref().and_then(status_of) {
        Some(s) => s,
        None => return Err(j.error(format!("requirement `{}` has no known status", r.id))),
    };
    Ok(r)
}

/// A file a requirement lists: `path`, `size`, `date` and (in a pack) `sha256`.
fn file_item(j: &mut Reader, files: &mut HashMap<Box<str>, FileState>) -> JsonResult<()> {
    let (path, state) = file_fields(j)?;
    remember(j, files, path, state)
}

/// A `payload` item of `pack.json`: `path` (`data/...`), `size`, `sha256`.
fn payload_item(j: &mut Reader, files: &mut HashMap<Box<str>, FileState>) -> JsonResult<()> {
    let (path, state) = file_fields(j)?;
    let path = path
        .strip_prefix("data/")
        .map(str::to_string)
        .unwrap_or(path);
    remember(j, files, path, state)
}

fn file_fields(j: &mut Reader) -> JsonResult<(String, FileState)> {
    let mut path = None;
    let mut f = FileState::default();
    object(j, |j, k| {
        match k {
            "path" => path = j.string_or_null("a path")?,
            "size" => f.size = j.u64_or_null("a size")?.unwrap_or(0),
            "date" => f.date = j.string_or_null("a date")?.map(String::into_boxed_str),
            "check" => f.opens = j.string_or_null("a check")?.is_none_or(|c| c == "ok"),
            "sha256" => f.sha256 = j.string_or_null("a digest")?.as_deref().and_then(unhex),
            _ => j.skip_value()?,
        }
        Ok(())
    })?;
    match path {
        Some(p) => Ok((p, f)),
        None => Err(j.error("a file without a `path`")),
    }
}

/// Keeps one record per path: a later mention fills in what an earlier one lacked (the
/// payload's digest, a requirement's date).
fn remember(
    j: &Reader,
    files: &mut HashMap<Box<str>, FileState>,
    path: String,
    f: FileState,
) -> JsonResult<()> {
    if let Some(known) = files.get_mut(path.as_str()) {
        known.sha256 = known.sha256.or(f.sha256);
        known.opens &= f.opens;
        if known.date.is_none() {
            known.date = f.date;
        }
        return Ok(());
    }
    if files.len() >= MAX_FILES {
        return Err(too_many(j, "files"));
    }
    files.insert(path.into_boxed_str(), f);
    Ok(())
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

pub(super) fn status_of(s: &str) -> Option<Status> {
    Some(match s {
        "met" => Status::Met,
        "partial" => Status::Partial,
        "stale" => Status::Stale,
        "missing" => Status::Missing,
        _ => return None,
    })
}

fn rag_of(s: &str) -> Option<Rag> {
    Some(match s {
        "green" => Rag::Green,
        "amber" => Rag::Amber,
        "red" => Rag::Red,
        _ => return None,
    })
}
