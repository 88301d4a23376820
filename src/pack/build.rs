//! Assessment -> pack, in phases: check where the pack goes, plan the payload, render the
//! documents, write the zip (tag files and payload in name order), put it in place.
//!
//! The pack is written to a temporary file beside the target and renamed into place only
//! when complete, so a failed or interrupted build leaves no pack and no temporary file, and
//! an existing pack survives until its replacement is whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Datelike, NaiveDate};

use crate::assess::{Assessment, UnusableFile};
use crate::bagit::{self, BagJson, PackDoc, PayloadEntry};
use crate::dating::YearStart;
use crate::error::{Error, Result};
use crate::fsx::Dir;
use crate::manifest::Manifest;
use crate::pack::names::Names;
use crate::pack::zipwrite::{self, prepare_tag, PackWriter, PayloadFiles, PreparedTag, Progress};
use crate::report::{self, PackFacts, Templates, Withheld};
use crate::scan::{FileRecord, Scan};
use crate::util::{hex, slug, Sha256Hex};
use crate::zipfmt::DosTime;

/// Payload size from which the pack is written with direct I/O where possible.
const DIRECT_IO_FROM: u64 = 256 << 20;

/// What to pack and where.
pub struct PackRequest<'a> {
    pub manifest: &'a Manifest,
    pub scan: &'a Scan,
    pub templates: &'a Templates,
    /// The pack file to write.
    pub out: &'a Path,
    /// The bagging date, recorded in the pack and used for every zip timestamp.
    pub date: NaiveDate,
    /// Pack the matched files that will not open too; by default they are left out.
    pub include_unusable: bool,
    /// Name the files that match no requirement (and the entries the scan skipped) in the
    /// pack's documents; by default only their number is given (see [`withhold_names`]).
    pub list_unmatched: bool,
    /// A signature will be written beside the pack: its documents say how to check it.
    pub signed: bool,
}

/// What a finished build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// The pack's SHA-256, lower-case hex.
    pub sha256: String,
    /// Evidence files and bytes in the payload.
    pub files: usize,
    pub bytes: u64,
    /// `PACK.zip.sha256`, written beside the pack.
    pub digest_path: PathBuf,
    /// Matched files that will not open, left out of the payload.
    pub left_out: usize,
}

/// Writes the pack `req.out` and its `.sha256` file; records each payload file's digest in
/// `a`. `cancel` stops the build (no pack, no temporary file left) when set.
pub fn build(
    req: &PackRequest<'_>,
    a: &mut Assessment,
    progress: &dyn Progress,
    cancel: &AtomicBool,
) -> Result<Built> {
    let dir = pack_folder(req.out, &req.scan.root)?;
    let root = crate::scan::reopen(req.scan)?;
    record_paths_by_name(a, req);
    refuse_unreadable_evidence(req.scan, a)?;
    refuse_unnameable_evidence(req.scan, a)?;
    let left_out = if req.include_unusable {
        Vec::new()
    } else {
        leave_out_unusable(a)
    };
    let withheld = (!req.list_unmatched).then(|| withhold_names(a));
    let bag = bag_name(req.out);
    let files = plan_payload(req.scan, a)?;
    let plan = Plan {
        total_bytes: files.iter().map(|rec| rec.size).sum(),
        mtime: zip_time(req.date)?,
        prefix: format!("{bag}/{}", bagit::DATA_DIR),
        bag,
        files,
    };
    let facts = PackFacts {
        file_name: file_name_of(req.out),
        bag: plan.bag.clone(),
        built: req.date,
        files: plan.files.len(),
        bytes: plan.total_bytes,
        signed: req.signed,
        withheld,
    };
    let docs = render_documents(req.templates, a, &facts)?;
    let tmp = crate::fsx::new_file_permissions(
        tempfile::Builder::new()
            .prefix(&format!(".{}.", plan.bag))
            .suffix(".part"),
    )
    .tempfile_in(&dir)
    .map_err(|e| cannot_write_in(&dir, e))?;
    let (files, bytes) = (plan.files.len(), plan.total_bytes);
    let sha = write_zip(
        &tmp,
        req,
        Facts {
            a,
            left_out: &left_out,
            withheld,
        },
        &root,
        plan,
        docs,
        Control { progress, cancel },
    )?;
    if cancel.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    let sha256 = hex(&sha);
    let digest_path = put_in_place(tmp, req.out, &dir, &sha256)?;
    Ok(Built {
        sha256,
        files,
        bytes,
        digest_path,
        left_out: left_out.len(),
    })
}

/// What goes in the zip, decided before anything is written.
struct Plan<'s> {
    /// The top-level folder in the zip.
    bag: String,
    /// What goes before each payload path inside the zip: `<bag>/data/`.
    prefix: String,
    /// The payload in pack order (the byte order of the paths).
    files: Vec<&'s FileRecord>,
    total_bytes: u64,
    /// Every entry's timestamp.
    mtime: DosTime,
}

/// What the pack says about the evidence: the assessment, the matched files left out, and
/// how many names were withheld.
struct Facts<'a> {
    a: &'a mut Assessment,
    left_out: &'a [UnusableFile],
    withheld: Option<Withheld>,
}

/// Nothing leaves the drive that was not asked for: a file that matches no requirement is
/// not in the pack, and on a children's services drive its name alone can identify a child
/// (`Team Admin/Referral J Smith.docx`). So the pack gives how many there are, not their
/// names, and drops the skipped entries no requirement asked for the same way (those a
/// requirement asks for stop the build before this). `gaps`, `list` and `report` still
/// name them all: they stay on the drive.
fn withhold_names(a: &mut Assessment) -> Withheld {
    let unmatched = std::mem::take(&mut a.unmatched).len();
    let before = a.skipped.len();
    a.skipped.retain(|sk| !sk.serves.is_empty());
    Withheld {
        unmatched,
        skipped: before - a.skipped.len(),
    }
}

/// A folder the pack cannot be written in: said in the words of the fix, not the system's.
fn cannot_write_in(dir: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        return Error::input(
            dir,
            "the pack cannot be written in this folder: permission denied",
            "pass --out with a folder you can write to (e.g. your Documents folder), or ask for write access to this one",
        );
    }
    Error::io(dir, "cannot create the pack's temporary file", e)
}

fn file_name_of(out: &Path) -> String {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Takes the files that will not open out of every requirement's files, so that nothing
/// in the pack points at a file it does not hold; they stay named in the reasons, in
/// `unusable`, and in the list returned (`pack.json`'s `left_out`).
fn leave_out_unusable(a: &mut Assessment) -> Vec<UnusableFile> {
    for r in a.areas.iter_mut().flat_map(|ar| ar.requirements.iter_mut()) {
        r.files.retain(|f| f.check.is_ok());
    }
    a.unusable.clone()
}

/// How the caller follows and stops a build.
struct Control<'a> {
    progress: &'a dyn Progress,
    cancel: &'a AtomicBool,
}

/// Writes the whole zip into `tmp`: tag files and payload in the byte order of their names,
/// so the zip lists like a sorted folder. Returns the pack's SHA-256; records each payload
/// file's digest in `a`.
fn write_zip(
    tmp: &tempfile::NamedTempFile,
    req: &PackRequest<'_>,
    facts: Facts<'_>,
    root: &Dir,
    plan: Plan<'_>,
    docs: Documents,
    ctl: Control<'_>,
) -> Result<[u8; 32]> {
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(tmp.path(), "cannot write the pack", e))?;
    // Direct I/O pays off only for large packs; small ones stay in the page cache.
    let direct = (plan.total_bytes >= DIRECT_IO_FROM)
        .then(|| zipwrite::open_direct(tmp.path()))
        .flatten();
    let Facts {
        a,
        left_out,
        withheld,
    } = facts;
    let w = PackWriter::new(file, direct, req.out.to_path_buf(), plan.mtime, ctl.cancel)?;
    let mut tags = TagWriter {
        w,
        tags: Vec::new(),
    };
    let bag = plan.bag.as_str();
    tags.prepared(bagit::README_MD, docs.readme)?;
    let info = bag_info(a, req.date, plan.total_bytes, plan.files.len());
    tags.bytes(bag, bagit::BAG_INFO, info.as_bytes())?;
    tags.bytes(bag, bagit::BAGIT, bagit::BAGIT_TXT.as_bytes())?;

    ctl.progress.start(plan.total_bytes, plan.files.len());
    let payload = PayloadFiles {
        records: &plan.files,
        root: &req.scan.root,
        prefix: &plan.prefix,
    };
    let digests = tags.w.add_files(root, payload, ctl.progress)?;
    ctl.progress.finish();
    let digests = Digested::of(&plan.files, digests)?;
    record_digests(a, &digests);
    let a = &*a;
    let payload = Payload {
        digests: &digests,
        serves: Serves::of(a, &digests),
    };

    tags.with(bag, bagit::GAPS_CSV, |out| report::csv::write(a, out))?;
    tags.prepared(bagit::INDEX_HTML, docs.index)?;
    tags.with(bag, bagit::INVENTORY_CSV, |out| {
        write_inventory(out, &payload, a.visit.year_start)
    })?;
    tags.with(bag, bagit::MANIFEST_SHA256, |out| {
        for (e, _) in payload.entries() {
            let path = format!("{}{}", bagit::DATA_DIR, e.path);
            let line = bagit::manifest_line(&e.sha256.to_string(), &path);
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    })?;
    tags.bytes(bag, bagit::MANIFEST_TOML, req.manifest.text.as_bytes())?;
    let date_text = req.date.to_string();
    let doc = PackDoc {
        assessment: a,
        pack_schema: bagit::PACK_SCHEMA,
        bag: BagJson {
            name: bag,
            bagging_date: &date_text,
        },
        payload: &payload,
        left_out,
        names_withheld: withheld,
    };
    tags.json(bag, bagit::PACK_JSON, &doc)?;
    // No fsync: forcing gigabytes to the disk would multiply the build time, and the rename
    // afterwards already guarantees nobody sees a half-written pack while the system runs.
    // After a power cut, `evpack verify` (or sha256sum -c) tells at once whether it is whole.
    let (_file, sha) = tags.finish(bag)?;
    Ok(sha)
}
/// The folder the pack goes in: it must exist and lie outside the evidence folder (a pack
/// there would be scanned as evidence next time).
fn pack_folder(out: &Path, evidence: &Path) -> Result<PathBuf> {
    let dir = super::out::folder_exists(out)?.to_path_buf();
    if crate::util::is_within(&dir, evidence) {
        return Err(Error::input(
            out,
            "the pack would be written inside the evidence folder",
            "write it elsewhere with --out (a pack in the evidence folder would be scanned as evidence next time)",
        ));
    }
    Ok(dir)
}

/// The pack names the evidence folder and the manifest by their own names only: the paths
/// as typed would make the pack's bytes depend on the command line (`-e ev` against
/// `-e ./ev/`) and an absolute path would tell whoever opens the pack how the lead's disk
/// is laid out.
fn record_paths_by_name(a: &mut Assessment, req: &PackRequest<'_>) {
    let name = |p: &Path| -> Option<String> {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .ok()
            .and_then(|abs| {
                abs.components()
                    .rfind(|c| matches!(c, std::path::Component::Normal(_)))
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
            })
    };
    a.evidence_dir = name(&req.scan.root).unwrap_or_else(|| "evidence".into());
    a.manifest.path = name(&req.manifest.path).unwrap_or_else(|| "manifest.toml".into());
}

/// An unreadable file that a requirement asks for would be left out of the pack without a
/// trace; the lead must fix its permissions (or move it) first.
fn refuse_unreadable_evidence(scan: &Scan, a: &Assessment) -> Result<()> {
    match a.skipped.iter().find(|sk| !sk.serves.is_empty()) {
        Some(sk) => Err(Error::evidence(
            scan.root.join(&sk.path),
            format!(
                "{}, but {} asks for it, so the pack would be incomplete",
                sk.reason,
                crate::util::printable(&sk.serves.join(", "))
            ),
            "make it a readable file (give read access, or put the document itself in place of a link or pipe), or move it out of the evidence folder; then build again",
        )),
        None => Ok(()),
    }
}

/// Every zip entry's timestamp: the bagging date at 00:00 (a year outside the zip's range,
/// 1980 to 2107, is brought into it).
fn zip_time(date: NaiveDate) -> Result<DosTime> {
    DosTime::midnight(date.year().clamp(1980, 2107), date.month(), date.day())
        .ok_or_else(|| Error::Usage(format!("--date {date} cannot be stored in a zip")))
}

/// `README.md` and `index.html`, rendered and deflated ahead of the payload.
struct Documents {
    readme: PreparedTag,
    index: PreparedTag,
}

/// The two documents render from one view, side by side, before anything is written: a
/// template error stops the build before a temporary file exists, and the view (the largest
/// thing a build holds) is gone before the payload's buffers fill.
fn render_documents(templates: &Templates, a: &Assessment, facts: &PackFacts) -> Result<Documents> {
    let date_text = facts.built.to_string();
    let bag = facts.bag.as_str();
    let ctx = Templates::pack_context(a, facts, Some(&date_text));
    std::thread::scope(|s| -> Result<_> {
        let index = s.spawn(|| {
            prepare_tag(&format!("{bag}/{}", bagit::INDEX_HTML), |out| {
                templates.html_to(&ctx, out)
            })
        });
        let readme = prepare_tag(&format!("{bag}/{}", bagit::README_MD), |out| {
            templates.readme_to(&ctx, out)
        });
        let index = index
            .join()
            .map_err(|_| Error::Internal("rendering index.html panicked".into()))?;
        Ok(Documents {
            readme: readme?,
            index: index?,
        })
    })
}

/// Adds tag files to the pack and remembers each one's SHA-256 for the tag manifest.
struct TagWriter<'a> {
    w: PackWriter<'a>,
    /// (name in the bag, SHA-256) of every tag file written so far.
    tags: Vec<(&'static str, String)>,
}

impl TagWriter<'_> {
    fn with(
        &mut self,
        bag: &str,
        name: &'static str,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let path = format!("{bag}/{name}");
        let sha = self.w.add_with(&path, |out| {
            write(out).map_err(|e| Error::io(&path, "cannot write the pack", e))
        })?;
        self.tags.push((name, sha));
        Ok(())
    }

    fn bytes(&mut self, bag: &str, name: &'static str, bytes: &[u8]) -> Result<()> {
        self.with(bag, name, |out| out.write_all(bytes))
    }

    fn json(&mut self, bag: &str, name: &'static str, doc: &impl serde::Serialize) -> Result<()> {
        let path = format!("{bag}/{name}");
        let sha = self.w.add_with(&path, |out| {
            serde_json::to_writer_pretty(&mut *out, doc).map_err(|e| Error::json(name, e))?;
            out.write_all(b"\n")
                .map_err(|e| Error::io(&path, "cannot write the pack", e))
        })?;
        self.tags.push((name, sha));
        Ok(())
    }

    fn prepared(&mut self, name: &'static str, tag: PreparedTag) -> Result<()> {
        let sha = self.w.add_prepared(tag)?;
        self.tags.push((name, sha));
        Ok(())
    }

    /// Writes the tag manifest over every tag file and closes the zip.
    fn finish(mut self, bag: &str) -> Result<(std::fs::File, [u8; 32])> {
        self.tags.sort();
        let tags = std::mem::take(&mut self.tags);
        self.with(bag, bagit::TAGMANIFEST_SHA256, |out| {
            for (name, sha) in &tags {
                out.write_all(bagit::manifest_line(sha, name).as_bytes())?;
            }
            Ok(())
        })?;
        self.w.finish()
    }
}

/// Puts the finished pack and its `PACK.zip.sha256` in place together: both are written in
/// full as temporary files first, then renamed. If the second rename fails, the first is
/// undone (an older pack that was there comes back from a hard link made beforehand), so an
/// error leaves the folder exactly as it was. Returns the digest file's path.
fn put_in_place(
    pack: tempfile::NamedTempFile,
    out: &Path,
    dir: &Path,
    sha256: &str,
) -> Result<PathBuf> {
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest_path = PathBuf::from(format!("{}.sha256", out.display()));
    for target in [out, digest_path.as_path()] {
        if target.is_dir() {
            return Err(Error::input(
                target,
                "a folder is in the way of the pack's files",
                "pass --out with another name, or move the folder",
            ));
        }
    }
    let digest = crate::util::temp_file_with(dir, format!("{sha256}  {file_name}\n").as_bytes())?;
    // A hard link to the pack being replaced, so the replacement can be undone. Where the
    // file system has no hard links the pre-checks above are the safeguard.
    let backup = out.is_file().then(|| backup_of(out, dir)).flatten();
    pack.persist(out)
        .map_err(|e| Error::io(out, "cannot put the pack in place", e.error))?;
    if let Err(e) = digest.persist(&digest_path) {
        let undone = match &backup {
            Some(b) => std::fs::rename(b, out),
            None => std::fs::remove_file(out),
        };
        return Err(Error::io(
            &digest_path,
            if undone.is_ok() {
                "cannot write the pack's digest file (the pack was not replaced either)"
            } else {
                "cannot write the pack's digest file, and the new pack could not be taken back: delete both and build again"
            },
            e.error,
        ));
    }
    Ok(digest_path)
}

/// A temporary hard link to `path` in `dir`, removed when dropped.
fn backup_of(path: &Path, dir: &Path) -> Option<tempfile::TempPath> {
    let name = tempfile::Builder::new()
        .prefix(".evpack-old-")
        .make_in(dir, |p| std::fs::hard_link(path, p))
        .ok()?;
    Some(name.into_temp_path())
}

/// The top-level folder in the zip: the pack file's stem, if it is a plain name.
fn bag_name(out: &Path) -> String {
    let stem = out
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    if !stem.is_empty()
        && !stem.starts_with('.')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        stem
    } else {
        slug(&stem)
    }
}

/// The evidence to pack: every file at least one requirement matched, in name order (the
/// scan's order).
fn plan_payload<'s>(scan: &'s Scan, a: &Assessment) -> Result<Vec<&'s FileRecord>> {
    let mut names = Names::default();
    a.packed_paths()
        .into_iter()
        .map(|rel| {
            let rec = scan
                .record(rel)
                .ok_or_else(|| Error::Internal(format!("{rel:?} was assessed but not scanned")))?;
            refuse_unpackable_name(&scan.root, rec, &mut names)?;
            Ok(rec)
        })
        .collect()
}

/// A matched file whose name is not UTF-8 cannot be named in a pack, nor opened to check
/// (so it would be left out as unusable): the lead renames it, rather than lose evidence
/// that is probably fine.
fn refuse_unnameable_evidence(scan: &Scan, a: &Assessment) -> Result<()> {
    let packed = a.packed_paths();
    match packed
        .iter()
        .filter_map(|rel| scan.record(rel))
        .find(|f| !f.utf8_name)
    {
        Some(rec) => Err(Error::evidence(
            rec.disk_path(&scan.root),
            "the file name is not valid UTF-8, so it cannot be named in a pack",
            "rename the file (retype the name; it was probably copied from an old system)",
        )),
        None => Ok(()),
    }
}

/// A name that could not be unzipped faithfully everywhere is refused with the fix
/// ([`names`] has the rules; names that are not UTF-8 were refused before, by
/// `refuse_unnameable_evidence`).
fn refuse_unpackable_name<'s>(
    root: &Path,
    rec: &'s FileRecord,
    names: &mut Names<'s>,
) -> Result<()> {
    names
        .add(&rec.rel)
        .map_err(|r| Error::evidence(root.join(&rec.rel), r.message, r.help))
}

fn bag_info(a: &Assessment, date: NaiveDate, bytes: u64, files: usize) -> String {
    let mut s = String::new();
    let mut add = |k: &str, v: &str| s.push_str(&bagit::info_line(k, v));
    add("Source-Organization", &a.visit.authority);
    add(
        "External-Description",
        &format!(
            "Evidence pack for {}, {} ({})",
            a.visit.name, a.visit.date, a.visit.authority
        ),
    );
    add("Bagging-Date", &date.to_string());
    add("Payload-Oxum", &bagit::payload_oxum(bytes, files as u64));
    add("Bag-Software-Agent", &format!("evpack {}", crate::VERSION));
    add("Evpack-Visit-Date", &a.visit.date.to_string());
    add("Evpack-Reference-Date", &a.reference_date.to_string());
    add(
        "Evpack-Lookback-Window",
        &format!("{} to {}", a.window.start, a.window.end),
    );
    add("Evpack-Manifest-SHA256", &a.manifest.sha256);
    add(
        "Evpack-Readiness-Percent",
        &a.summary.readiness_percent.to_string(),
    );
    add(
        "Evpack-Required-Met",
        &format!("{} of {}", a.summary.required_met, a.summary.required_total),
    );
    s
}

/// Each payload file with its digest, in pack order.
struct Digested<'p, 's> {
    files: &'p [&'s FileRecord],
    sha256: Vec<Sha256Hex>,
}

impl<'p, 's> Digested<'p, 's> {
    /// Pairs each payload file with its digest; the writer's list (consumed) is the one
    /// kept.
    fn of(files: &'p [&'s FileRecord], sha256: Vec<Sha256Hex>) -> Result<Digested<'p, 's>> {
        if sha256.len() != files.len() {
            return Err(Error::Internal(format!(
                "{} digests for {} payload files",
                sha256.len(),
                files.len()
            )));
        }
        Ok(Digested { files, sha256 })
    }

    /// The position of the file at `rel`.
    fn index(&self, rel: &str) -> Option<usize> {
        self.files
            .binary_search_by(|f| f.rel.as_str().cmp(rel))
            .ok()
    }
}

/// Writes each payload file's SHA-256 into the assessment's file lists.
fn record_digests(a: &mut Assessment, digests: &Digested<'_, '_>) {
    for r in a.areas.iter_mut().flat_map(|ar| ar.requirements.iter_mut()) {
        for f in &mut r.files {
            f.sha256 = digests.index(&f.path).map(|i| digests.sha256[i]);
        }
    }
}

/// The requirements each payload file serves, as one flat list: file `i`'s are the ids of
/// `reqs[starts[i]..starts[i + 1]]`, in manifest order. (A list per file would cost a
/// pack of 200,000 files as many allocations.)
struct Serves<'a> {
    starts: Vec<u32>,
    /// Positions in `ids`.
    reqs: Vec<u32>,
    /// Every requirement's id, in manifest order.
    ids: Vec<&'a str>,
}

impl<'a> Serves<'a> {
    fn of(a: &'a Assessment, digests: &Digested<'_, '_>) -> Serves<'a> {
        let ids: Vec<&str> = a
            .areas
            .iter()
            .flat_map(|ar| &ar.requirements)
            .map(|r| r.id.as_str())
            .collect();
        // (file, requirement): sorted, they are the flat list. Positions fit in u32: a zip
        // holds fewer entries, and a manifest fewer requirements.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let reqs = a.areas.iter().flat_map(|ar| &ar.requirements);
        for (order, r) in reqs.enumerate() {
            for f in &r.files {
                if let Some(i) = digests.index(&f.path) {
                    pairs.push((i as u32, order as u32));
                }
            }
        }
        pairs.sort_unstable();
        let mut starts = Vec::with_capacity(digests.files.len() + 1);
        let mut next = 0;
        for i in 0..=digests.files.len() as u32 {
            while next < pairs.len() && pairs[next].0 < i {
                next += 1;
            }
            starts.push(next as u32);
        }
        Serves {
            starts,
            reqs: pairs.into_iter().map(|(_, r)| r).collect(),
            ids,
        }
    }

    /// The ids of the requirements file `i` serves.
    fn of_file(&self, i: usize) -> impl Iterator<Item = &'a str> + '_ {
        let at = |k: usize| self.starts.get(k).map_or(self.reqs.len(), |&s| s as usize);
        self.reqs[at(i)..at(i + 1)]
            .iter()
            .map(|&r| self.ids[r as usize])
    }
}

/// The payload as `pack.json`, the BagIt manifest and the inventory list it.
struct Payload<'p, 's, 'a> {
    digests: &'p Digested<'p, 's>,
    serves: Serves<'a>,
}

/// The ids of the requirements one payload file serves, as `pack.json` lists them.
#[derive(Clone, Copy)]
struct ServedBy<'v, 'a> {
    serves: &'v Serves<'a>,
    file: usize,
}

impl serde::Serialize for ServedBy<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.serves.of_file(self.file))
    }
}

impl Payload<'_, '_, '_> {
    fn entries(&self) -> impl Iterator<Item = (PayloadEntry<'_, ServedBy<'_, '_>>, &FileRecord)> {
        let d = self.digests;
        d.files
            .iter()
            .zip(&d.sha256)
            .enumerate()
            .map(|(i, (f, sha))| {
                let entry = PayloadEntry {
                    path: &f.rel,
                    size: f.size,
                    sha256: *sha,
                    serves: ServedBy {
                        serves: &self.serves,
                        file: i,
                    },
                };
                (entry, *f)
            })
    }
}

/// `pack.json`'s `payload` array, written item by item.
impl serde::Serialize for Payload<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.entries().map(|(e, _)| e))
    }
}

/// `inventory.csv`: every payload file, one row each, in pack order; the full list the
/// pack's pages summarise.
fn write_inventory(
    out: &mut dyn Write,
    payload: &Payload<'_, '_, '_>,
    year_start: YearStart,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(bagit::INVENTORY_HEADER)?;
    for (e, rec) in payload.entries() {
        let row = [
            format!("{}{}", bagit::DATA_DIR, e.path),
            rec.date.label(year_start),
            rec.date_source.key().to_string(),
            e.size.to_string(),
            e.sha256.to_string(),
            e.serves
                .serves
                .of_file(e.serves.file)
                .collect::<Vec<_>>()
                .join("; "),
        ];
        w.write_record(row.iter().map(|c| report::csv::defuse(c)))?;
    }
    w.flush()
}
