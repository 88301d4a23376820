//! Walks the evidence folder and records one entry per file.
//!
//! A shared drive is hostile terrain: lock files, thumbnails, links pointing anywhere,
//! folders someone else has locked, and a tree that can change while it is read. The scan
//! never leaves the evidence folder: every folder and file is opened relative to its open
//! parent, refusing links at each step ([`crate::fsx`]), so a folder swapped for a link
//! during the walk is refused rather than followed; a link found in the folder is read only
//! when it points inside, and then by its resolved path, again one step at a time. The
//! scan never dies on one bad entry (it is reported and the walk goes on), and ignores the
//! litter that operating systems and Office leave behind so it never shows up as
//! "unmatched".
//!
//! One thread walks and lists folders; the others open the files each folder holds (on a
//! shared drive each open is a round trip to the server, and even on a local disk opening
//! is most of the scan). A bounded queue between them caps the folders held open.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Serialize;

use crate::dating::{self, DateSource, SpokenDate};
use crate::error::{Error, Result};
use crate::fsx::{Dir, EntryKind, FileId, OpenError, Opened};
use crate::progress::Tally;
use crate::util::SharedStr;

/// One regular file in the evidence folder.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// Relative to the evidence folder, `/`-separated. Lossy if the name is not UTF-8.
    pub rel: SharedStr,
    /// For a link inside the evidence folder: its target, relative to the folder (the file
    /// that is read). `None` for a plain file.
    pub target: Option<String>,
    /// False when the name is not valid UTF-8: such a file can be assessed but not packed.
    pub utf8_name: bool,
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// The file that was assessed, from its open handle: the pack writer refuses a
    /// different file at the same path.
    pub identity: FileId,
    pub date: SpokenDate,
    pub date_source: DateSource,
}

/// Something the scan saw but could not use, with the reason in words.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

impl FileRecord {
    /// The path to read, relative to the evidence folder: the link's target, or the file.
    pub fn source(&self) -> &str {
        self.target.as_deref().unwrap_or(&self.rel)
    }

    /// The file read, as a path to show in messages.
    pub fn disk_path(&self, root: &Path) -> PathBuf {
        root.join(self.source())
    }
}

#[derive(Debug, Clone)]
pub struct Scan {
    /// The evidence folder as given.
    pub root: PathBuf,
    /// The evidence folder's identity when it was scanned: the pack writer reads from the
    /// same folder or not at all.
    pub root_id: FileId,
    /// Sorted by `rel`, so every output is in a stable order.
    pub files: Vec<FileRecord>,
    pub skipped: Vec<Skipped>,
}

impl Scan {
    /// The record of the file at `rel` (relative to the evidence folder).
    pub fn record(&self, rel: &str) -> Option<&FileRecord> {
        self.files
            .binary_search_by(|f| f.rel.as_str().cmp(rel))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// Opens the evidence folder that was scanned, and no other: a folder swapped since the
/// scan (or a link to one) is refused.
pub fn reopen(scan: &Scan) -> Result<Dir> {
    let root = Dir::open_root(&scan.root)
        .map_err(|e| Error::io(&scan.root, "cannot open the evidence folder", e))?;
    let id = root
        .id()
        .map_err(|e| Error::io(&scan.root, "cannot open the evidence folder", e))?;
    if id != scan.root_id {
        return Err(Error::evidence(
            &scan.root,
            "the evidence folder has been replaced since it was scanned",
            "wait until nobody is moving the evidence folder, then run again",
        ));
    }
    Ok(root)
}

/// Names that are never evidence: hidden files, Office lock files, thumbnail caches.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with("~$")
        || name.eq_ignore_ascii_case("thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
}

/// Scans `root`. Fails only if `root` itself is unusable; problems below it are collected
/// in [`Scan::skipped`].
pub fn scan(root: &Path) -> Result<Scan> {
    scan_counted(root, &Tally::default())
}

/// [`scan`], counting each file found in `tally`.
pub fn scan_counted(root: &Path, tally: &Tally) -> Result<Scan> {
    let (dir, canonical_root) = open_root(root)?;
    let root_id = dir
        .id()
        .map_err(|e| Error::io(root, "cannot read the evidence folder", e))?;
    let ctx = Context {
        root,
        canonical_root: &canonical_root,
        dir: &dir,
        tally,
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = bounded::<Batch>(64);
    let (mut files, mut skipped) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                let ctx = &ctx;
                s.spawn(move || open_batches(ctx, &rx))
            })
            .collect();
        drop(rx);
        let mut skipped = walk(&dir, &tx);
        drop(tx);
        let mut files = Vec::new();
        for h in handles {
            // A worker that panicked has lost its files: say so rather than assess less.
            match h.join() {
                Ok((f, sk)) => {
                    files.extend(f);
                    skipped.extend(sk);
                }
                Err(_) => skipped.push(Skipped {
                    path: String::new(),
                    reason: "internal error: a scan worker failed; run again".into(),
                }),
            }
        }
        (files, skipped)
    });
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Scan {
        root: root.to_path_buf(),
        root_id,
        files,
        skipped,
    })
}

/// Opens the evidence folder, with errors that say what to do.
fn open_root(root: &Path) -> Result<(Dir, PathBuf)> {
    let meta = std::fs::metadata(root).map_err(|e| {
        Error::input(
            root,
            format!("the evidence folder cannot be opened ({e})"),
            "check the path, or pass --evidence DIR",
        )
    })?;
    if !meta.is_dir() {
        return Err(Error::input(
            root,
            "the evidence path is not a folder",
            "pass --evidence DIR with the folder that holds the evidence",
        ));
    }
    let dir = Dir::open_root(root).map_err(|e| {
        Error::input(
            root,
            format!("the evidence folder cannot be opened ({e})"),
            "check the path and its permissions, or pass --evidence DIR",
        )
    })?;
    let canonical = root
        .canonicalize()
        .map_err(|e| Error::io(root, "cannot resolve the evidence folder", e))?;
    Ok((dir, canonical))
}

/// What every worker needs to know about the folder being scanned.
struct Context<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    dir: &'a Dir,
    tally: &'a Tally,
}

/// The files and links of one folder, handed from the walker to a worker.
struct Batch {
    dir: Dir,
    /// The folder, relative to the evidence folder (`""` for the folder itself).
    rel: String,
    utf8: bool,
    entries: Vec<(OsString, EntryKind)>,
}

/// A folder waiting to be listed.
struct Pending {
    dir: Dir,
    rel: String,
    utf8: bool,
}

/// Walks the tree depth first from `root`, sending each folder's files and links to the
/// workers; returns what it skipped itself (unreadable folders, devices, pipes, sockets).
/// Folders are opened one step at a time from their parent, never by path.
fn walk(root: &Dir, tx: &Sender<Batch>) -> Vec<Skipped> {
    let mut skipped = Vec::new();
    let mut stack = vec![Pending {
        dir: root.clone(),
        rel: String::new(),
        utf8: true,
    }];
    while let Some(folder) = stack.pop() {
        let entries = match folder.dir.entries() {
            Ok(e) => e,
            Err(e) => {
                skipped.push(Skipped {
                    path: folder.rel,
                    reason: unreadable(&e),
                });
                continue;
            }
        };
        let mut batch = Vec::new();
        for entry in entries {
            let name = entry.name.to_string_lossy();
            if is_ignored_name(&name) {
                continue;
            }
            let (rel, utf8) = join(&folder.rel, folder.utf8, &entry.name);
            match entry.kind {
                EntryKind::Dir => match folder.dir.open_dir(&entry.name) {
                    Ok(dir) => stack.push(Pending { dir, rel, utf8 }),
                    Err(e) => skipped.push(Skipped {
                        path: rel,
                        reason: open_failure(e),
                    }),
                },
                EntryKind::File | EntryKind::Link => batch.push((entry.name, entry.kind)),
                // Checked before opening: opening a device can have effects of its own.
                EntryKind::Other => skipped.push(Skipped {
                    path: rel,
                    reason: NOT_REGULAR.into(),
                }),
            }
        }
        if !batch.is_empty() {
            let sent = tx.send(Batch {
                dir: folder.dir,
                rel: folder.rel,
                utf8: folder.utf8,
                entries: batch,
            });
            if sent.is_err() {
                break; // every worker has stopped; `scan` reports it
            }
        }
    }
    skipped
}

const NOT_REGULAR: &str = "not a regular file (device, pipe or socket)";

/// `folder/name`, and whether both are valid UTF-8 (the name is shown lossily if not).
fn join(folder: &str, folder_utf8: bool, name: &std::ffi::OsStr) -> (String, bool) {
    let (name, utf8) = match name.to_str() {
        Some(n) => (std::borrow::Cow::Borrowed(n), folder_utf8),
        None => (name.to_string_lossy(), false),
    };
    if folder.is_empty() {
        (name.into_owned(), utf8)
    } else {
        (format!("{folder}/{name}"), utf8)
    }
}

/// A worker: opens the files of each folder it is handed.
fn open_batches(ctx: &Context<'_>, rx: &Receiver<Batch>) -> (Vec<FileRecord>, Vec<Skipped>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for batch in rx {
        for (name, kind) in batch.entries {
            let (rel, utf8_name) = join(&batch.rel, batch.utf8, &name);
            let opened = match kind {
                EntryKind::Link => open_link(ctx, &rel).map(|(o, t)| (o, Some(t))),
                _ => batch
                    .dir
                    .open_file(&name)
                    .map(|o| (o, None))
                    .map_err(open_failure),
            };
            match opened {
                Ok((o, target)) => {
                    ctx.tally.found();
                    files.push(record(rel, target, utf8_name, &o));
                }
                Err(reason) => skipped.push(Skipped { path: rel, reason }),
            }
        }
    }
    (files, skipped)
}

/// Opening is the only honest test of readability (permissions, locks, ACLs), and a file
/// nobody can read must be chased now, not discovered while building the pack. The size and
/// time then come from the open file, which saves a second lookup of the path.
fn record(rel: String, target: Option<String>, utf8_name: bool, o: &Opened) -> FileRecord {
    let modified = o.meta.modified().ok();
    let (date, date_source) = date_for(&rel, modified);
    FileRecord {
        rel: rel.into(),
        target,
        utf8_name,
        size: o.meta.len(),
        modified,
        identity: FileId::of(&o.meta),
        date,
        date_source,
    }
}

/// A link: read as the file it points to when that lies inside the evidence folder; opened
/// then by its resolved path, one step at a time, so a tree that changes meanwhile cannot
/// redirect it. Returns the open file and its path relative to the folder.
fn open_link(ctx: &Context<'_>, rel: &str) -> std::result::Result<(Opened, String), String> {
    // Resolving the path only classifies the link (outside, broken, a folder); nothing is
    // opened through it.
    let target = match std::fs::canonicalize(ctx.root.join(rel)) {
        Ok(t) => t,
        Err(_) => return Err("broken link: its target does not exist".into()),
    };
    let Ok(inside) = target.strip_prefix(ctx.canonical_root) else {
        return Err("link pointing outside the evidence folder: not followed".into());
    };
    match std::fs::symlink_metadata(&target) {
        Ok(m) if m.is_dir() => {
            return Err("link to a folder: not followed (the folder is scanned where it is)".into())
        }
        Ok(m) if !m.is_file() => return Err("link to something that is not a regular file".into()),
        Ok(_) => {}
        Err(e) => return Err(format!("link cannot be read: {e}")),
    }
    let Some(inside) = inside
        .to_str()
        .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
    else {
        return Err("link to a file whose name is not valid UTF-8: not followed".into());
    };
    match ctx.dir.open_path(&inside) {
        Ok(o) => Ok((o, inside)),
        Err(OpenError::Link) => {
            Err("link whose target changed while the folder was read: not followed".into())
        }
        Err(e) => Err(open_failure(e)),
    }
}

/// Words for an open that failed.
fn open_failure(e: OpenError) -> String {
    match e {
        OpenError::Link => "changed into a link while the folder was read: not followed".into(),
        OpenError::NotRegular => NOT_REGULAR.into(),
        OpenError::Io(e) => unreadable(&e),
    }
}

fn unreadable(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        "cannot be read: permission denied".to_string()
    } else {
        format!("cannot be read: {e}")
    }
}

/// The date the path speaks for (file name, else the folders from the nearest outward, see
/// [`dating::date_of_path`]), else the modification time.
fn date_for(rel: &str, modified: Option<SystemTime>) -> (SpokenDate, DateSource) {
    dating::date_of_path(rel).unwrap_or_else(|| {
        (
            SpokenDate::day(modified.map_or(NaiveDate::MIN, system_date)),
            DateSource::Modified,
        )
    })
}

pub fn system_date(t: SystemTime) -> NaiveDate {
    DateTime::<Utc>::from(t).date_naive()
}
