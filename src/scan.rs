//! Walks the evidence folder and records one entry per file.
//!
//! A shared drive is hostile terrain: lock files, thumbnails, links pointing anywhere,
//! folders someone else has locked. The scan never leaves the evidence folder (a link
//! pointing outside it is reported as skipped, not followed), never dies on one bad entry
//! (it is reported and the walk goes on), and ignores the litter that operating systems and
//! Office leave behind so it never shows up as "unmatched".

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::Serialize;
use walkdir::WalkDir;

use crate::dating::{self, DateSource, SpokenDate};
use crate::error::{Error, Result};

/// One regular file in the evidence folder.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// Relative to the evidence folder, `/`-separated. Lossy if the name is not UTF-8.
    pub rel: String,
    /// Where to read it: the file itself, or for a link inside the evidence folder, the
    /// resolved target (checked to be inside the folder).
    pub path: PathBuf,
    /// False when the name is not valid UTF-8: such a file can be assessed but not packed.
    pub utf8_name: bool,
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// Device and inode of the file that was assessed: the pack writer refuses a different
    /// file at the same path (e.g. one swapped for a link to somewhere outside the folder).
    pub identity: (u64, u64),
    pub date: SpokenDate,
    pub date_source: DateSource,
}

/// Something the scan saw but could not use, with the reason in words.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Scan {
    pub root: PathBuf,
    /// Sorted by `rel`, so every output is in a stable order.
    pub files: Vec<FileRecord>,
    pub skipped: Vec<Skipped>,
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
    let canonical_root = root
        .canonicalize()
        .map_err(|e| Error::io(root, "cannot resolve the evidence folder", e))?;

    let mut found = Vec::new();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let rel_of = |p: &Path| -> (String, bool) {
        let rel = p.strip_prefix(root).unwrap_or(p);
        let mut out = String::new();
        let mut utf8 = true;
        for (i, c) in rel.components().enumerate() {
            if i > 0 {
                out.push('/');
            }
            let s = c.as_os_str();
            match s.to_str() {
                Some(s) => out.push_str(s),
                None => {
                    utf8 = false;
                    out.push_str(&s.to_string_lossy());
                }
            }
        }
        (out, utf8)
    };

    // Links are resolved by hand (follow_links(false)) so that one pointing outside the
    // evidence folder can be reported and never read, and links to folders cannot loop.
    // Folders are read in directory order; `files` and `skipped` are sorted at the end.
    let mut walker = WalkDir::new(root).follow_links(false).into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(|p| rel_of(p).0).unwrap_or_default();
                let reason = match e.io_error() {
                    Some(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                        "cannot be read: permission denied".to_string()
                    }
                    Some(io) => format!("cannot be read: {io}"),
                    None => e.to_string(),
                };
                skipped.push(Skipped { path, reason });
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if is_ignored_name(&name) {
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            continue;
        }
        let file_type = entry.file_type();
        if file_type.is_dir() {
            continue;
        }
        let (rel, utf8_name) = rel_of(entry.path());
        let path = if entry.path_is_symlink() {
            match std::fs::canonicalize(entry.path()) {
                Ok(target) if target.starts_with(&canonical_root) => {
                    match std::fs::metadata(&target) {
                        Ok(m) if m.is_file() => target,
                        Ok(m) if m.is_dir() => {
                            skipped.push(Skipped {
                                path: rel,
                                reason: "link to a folder: not followed (the folder is scanned where it is)".into(),
                            });
                            continue;
                        }
                        Ok(_) => {
                            skipped.push(Skipped {
                                path: rel,
                                reason: "link to something that is not a regular file".into(),
                            });
                            continue;
                        }
                        Err(e) => {
                            skipped.push(Skipped {
                                path: rel,
                                reason: format!("link cannot be read: {e}"),
                            });
                            continue;
                        }
                    }
                }
                Ok(_) => {
                    skipped.push(Skipped {
                        path: rel,
                        reason: "link pointing outside the evidence folder: not followed".into(),
                    });
                    continue;
                }
                Err(_) => {
                    skipped.push(Skipped {
                        path: rel,
                        reason: "broken link: its target does not exist".into(),
                    });
                    continue;
                }
            }
        } else if file_type.is_file() {
            entry.path().to_path_buf()
        } else {
            // Checked before opening: opening a pipe would wait for a writer forever.
            skipped.push(Skipped {
                path: rel,
                reason: "not a regular file (device, pipe or socket)".into(),
            });
            continue;
        };
        found.push(Found {
            rel,
            utf8_name,
            path,
            walked: entry.into_path(),
        });
    }
    // Files are opened on every core: on a shared drive each open is a round trip to the
    // server, and even on a local disk opening is most of the scan.
    let opened: Vec<std::result::Result<FileRecord, Skipped>> =
        found.into_par_iter().map(|f| open(root, f)).collect();
    for o in opened {
        match o {
            Ok(record) => files.push(record),
            Err(skip) => skipped.push(skip),
        }
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Scan {
        root: root.to_path_buf(),
        files,
        skipped,
    })
}

/// A regular file (or a link to one inside the folder) found by the walk, not yet opened.
struct Found {
    rel: String,
    utf8_name: bool,
    /// What to open: the file, or a link's resolved target.
    path: PathBuf,
    /// Where the walk found it, which is what its date is read from.
    walked: PathBuf,
}

/// Opens a found file: opening is the only honest test of readability (permissions,
/// locks, ACLs), and a file nobody can read must be chased now, not discovered while
/// building the pack. The size and time then come from the open file, which saves a second
/// lookup of the path.
fn open(root: &Path, f: Found) -> std::result::Result<FileRecord, Skipped> {
    let meta = match std::fs::File::open(&f.path).and_then(|file| file.metadata()) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            return Err(Skipped {
                path: f.rel,
                reason: "not a regular file (device, pipe or socket)".into(),
            })
        }
        Err(e) => {
            let reason = if e.kind() == std::io::ErrorKind::PermissionDenied {
                "cannot be read: permission denied".to_string()
            } else {
                format!("cannot be read: {e}")
            };
            return Err(Skipped {
                path: f.rel,
                reason,
            });
        }
    };
    let modified = meta.modified().ok();
    let (date, date_source) = date_for(root, &f.walked, modified);
    Ok(FileRecord {
        rel: f.rel,
        path: f.path,
        utf8_name: f.utf8_name,
        size: meta.len(),
        modified,
        identity: (meta.dev(), meta.ino()),
        date,
        date_source,
    })
}

/// File name, else the nearest folder below the root, else the modification time.
fn date_for(root: &Path, path: &Path, modified: Option<SystemTime>) -> (SpokenDate, DateSource) {
    if let Some(d) = path
        .file_name()
        .and_then(|n| dating::date_in_file_name(&n.to_string_lossy()))
    {
        return (d, DateSource::Name);
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) {
            break;
        }
        if let Some(date) = d
            .file_name()
            .and_then(|n| dating::date_in(&n.to_string_lossy()))
        {
            return (date, DateSource::Folder);
        }
        dir = d.parent();
    }
    (
        SpokenDate::day(modified.map_or(NaiveDate::MIN, system_date)),
        DateSource::Modified,
    )
}

pub fn system_date(t: SystemTime) -> NaiveDate {
    DateTime::<Utc>::from(t).date_naive()
}
