//! The checks over the files the requirements match, and the copies among them.
//!
//! Each file is opened again relative to the evidence folder that was scanned (never by a
//! path from the top, never through a link: [`crate::fsx`]), and must be the file the scan
//! saw: a file swapped since then is not judged on someone else's bytes.
//!
//! Copies are found by size first: only files that share a size with another matched file
//! are hashed, in full (the one read of a whole file the checks make), while the file is
//! open for its check anyway. That first hash is XXH3 (128 bits), many times faster than
//! SHA-256 and all a first look needs; only the files it puts in a group are read again
//! and confirmed by SHA-256, so a file built to collide is never named a copy.
//!
//! A small file (up to [`WHOLE_READ`]) is read whole, once, and checked and hashed from
//! memory: on a drive of many small exports, the system calls of reading the same bytes
//! twice cost more than the bytes.

use std::collections::HashMap;
use std::io::{Cursor, Read, Seek, SeekFrom};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use super::{check_document, Check, Checked, Limits};
use crate::error::Result;
use crate::fsx::{Folders, OpenError, Opened};
use crate::progress::Tally;
use crate::scan::{FileRecord, Scan};

/// The checks of one scan's matched files, by the file's index in [`Scan::files`].
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// `None` for a file no requirement matched: it was not checked.
    results: Vec<Option<Check>>,
    /// What was found, for the files that are not `ok`.
    details: HashMap<usize, String>,
    /// Groups of two or more usable files with identical bytes, each in path order, the
    /// groups in the order of their first file.
    duplicates: Vec<Vec<usize>>,
    /// For a file in a group: the group's position in `duplicates`.
    group_of: HashMap<usize, usize>,
}

impl Checks {
    /// The check of file `i`, if it was checked.
    pub fn get(&self, i: usize) -> Option<Checked> {
        let check = self.results.get(i).copied().flatten()?;
        Some(Checked {
            check,
            detail: self.details.get(&i).cloned(),
        })
    }

    /// True unless file `i` was checked and found unusable.
    pub fn usable(&self, i: usize) -> bool {
        self.results
            .get(i)
            .copied()
            .flatten()
            .is_none_or(Check::is_ok)
    }

    /// The groups of identical files (indices into [`Scan::files`]).
    pub fn duplicates(&self) -> &[Vec<usize>] {
        &self.duplicates
    }

    /// Which group of identical files `i` belongs to, if any.
    pub fn copy_group(&self, i: usize) -> Option<usize> {
        self.group_of.get(&i).copied()
    }
}

/// Checks the files at `which` (indices into `scan.files`, ascending), in parallel.
pub fn check_files(scan: &Scan, which: &[usize], limits: &Limits) -> Result<Checks> {
    check_files_counted(scan, which, limits, &Tally::default())
}

/// [`check_files`], counting each file checked in `tally`.
pub fn check_files_counted(
    scan: &Scan,
    which: &[usize],
    limits: &Limits,
    tally: &Tally,
) -> Result<Checks> {
    let root = crate::scan::reopen(scan)?;
    let candidates = copy_candidates(scan, which);
    tally.checking(which.len());
    let new_worker = || Worker {
        folders: Folders::new(root.clone()),
        buf: Vec::new(),
    };
    let judged: Vec<(usize, Checked, Option<u128>)> = which
        .par_iter()
        .map_init(new_worker, |worker, &i| {
            let f = &scan.files[i];
            let hash = candidates.contains(&f.size);
            let (checked, digest) = check_one(worker, f, hash, limits);
            tally.checked();
            (i, checked, digest)
        })
        .collect();
    let mut checks = Checks {
        results: vec![None; scan.files.len()],
        ..Checks::default()
    };
    // Sorted rather than hashed into groups: at 200,000 candidates a map of lists costs
    // tens of megabytes; this costs 32 bytes each.
    let mut quick: Vec<(u64, u128, usize)> = Vec::new();
    for (i, checked, digest) in judged {
        if let (Check::Ok, Some(d)) = (checked.check, digest) {
            quick.push((scan.files[i].size, d, i));
        }
        checks.results[i] = Some(checked.check);
        if let Some(detail) = checked.detail {
            checks.details.insert(i, detail);
        }
    }
    quick.sort_unstable();
    let alike: Vec<usize> = quick
        .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
        .filter(|g| g.len() > 1)
        .flatten()
        .map(|&(_, _, i)| i)
        .collect();
    drop(quick);
    let confirmed: Vec<(usize, Option<[u8; 32]>)> = alike
        .par_iter()
        .map_init(new_worker, |worker, &i| {
            (i, sha256_of(worker, &scan.files[i]))
        })
        .collect();
    let mut by_digest: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
    for (i, digest) in confirmed {
        if let Some(d) = digest {
            by_digest.entry(d).or_default().push(i);
        }
    }
    checks.duplicates = by_digest.into_values().filter(|g| g.len() > 1).collect();
    for g in &mut checks.duplicates {
        g.sort_unstable();
    }
    checks.duplicates.sort_unstable();
    for (gi, g) in checks.duplicates.iter().enumerate() {
        checks.group_of.extend(g.iter().map(|&i| (i, gi)));
    }
    Ok(checks)
}

/// The sizes shared by two or more of the files at `which` (an empty file is never a copy
/// worth naming: it is unusable anyway).
fn copy_candidates(scan: &Scan, which: &[usize]) -> std::collections::HashSet<u64> {
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for &i in which {
        let size = scan.files[i].size;
        if size > 0 {
            *seen.entry(size).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(size, _)| size)
        .collect()
}

/// Files up to this size are read whole, once (see the module header). The text check
/// reads this much of any text file anyway.
const WHOLE_READ: u64 = 64 << 10;

/// What one checking thread keeps between files.
struct Worker {
    folders: Folders,
    /// Reused for every read, so a drive of small files does not cost an allocation (and
    /// its zeroing) each.
    buf: Vec<u8>,
}

/// Opens and checks one file; hashes it in full (the quick hash, see the module header)
/// when `hash` (a copy candidate) and it is usable.
fn check_one(
    worker: &mut Worker,
    f: &FileRecord,
    hash: bool,
    limits: &Limits,
) -> (Checked, Option<u128>) {
    if !f.utf8_name {
        return (
            Checked::new(
                Check::Unreadable,
                "its name is not valid UTF-8, so it could not be opened to check; rename it",
            ),
            None,
        );
    }
    let Opened { file, meta } = match worker.folders.open_path(f.source()) {
        Ok(o) => o,
        Err(e) => return (Checked::new(Check::Unreadable, open_error(e)), None),
    };
    if crate::fsx::FileId::of(&meta) != f.identity || meta.len() != f.size {
        return (
            Checked::new(
                Check::Unreadable,
                "it changed while evpack was reading the folder; run again when nobody is saving it",
            ),
            None,
        );
    }
    if meta.len() <= WHOLE_READ {
        return check_whole(&file, f, hash, limits, &mut worker.buf);
    }
    let checked = check_document(&file, meta.len(), &f.rel, limits);
    let digest = (hash && checked.check.is_ok())
        .then(|| quick_hash_of(&file, &mut worker.buf))
        .flatten();
    (checked, digest)
}

/// [`check_one`] for a small file: one read of the whole file into `buf`, then the check
/// and the hash from memory.
fn check_whole(
    mut file: &std::fs::File,
    f: &FileRecord,
    hash: bool,
    limits: &Limits,
    buf: &mut Vec<u8>,
) -> (Checked, Option<u128>) {
    buf.clear();
    // One byte past the size the scan saw shows a file that grew since.
    if let Err(e) = file.by_ref().take(f.size + 1).read_to_end(buf) {
        return (
            Checked::new(Check::Unreadable, format!("could not be read: {e}")),
            None,
        );
    }
    if buf.len() as u64 != f.size {
        return (
            Checked::new(
                Check::Unreadable,
                "it changed while evpack was reading it; run again when nobody is saving it",
            ),
            None,
        );
    }
    let checked = check_document(Cursor::new(&buf[..]), f.size, &f.rel, limits);
    let digest = (hash && checked.check.is_ok()).then(|| xxh3_128(buf));
    (checked, digest)
}

fn open_error(e: OpenError) -> String {
    match e {
        OpenError::Link => "it was replaced by a link while evpack was reading the folder".into(),
        OpenError::NotRegular => "it is no longer a regular file".into(),
        OpenError::Io(e) => format!("cannot open it to check: {e}"),
    }
}

/// The SHA-256 of a file the quick hash put in a group, opened again and checked to be
/// the file that was checked; `None` if it cannot be (it is then not named as a copy: a
/// check that cannot compare does not guess).
fn sha256_of(worker: &mut Worker, f: &FileRecord) -> Option<[u8; 32]> {
    let Opened { file, meta } = worker.folders.open_path(f.source()).ok()?;
    if crate::fsx::FileId::of(&meta) != f.identity || meta.len() != f.size {
        return None;
    }
    let mut hasher = Sha256::new();
    read_whole(&file, &mut worker.buf, |bytes| hasher.update(bytes))?;
    Some(hasher.finalize().into())
}

/// The XXH3 (128 bits) of the whole file, or `None` if it cannot be read.
fn quick_hash_of(file: &std::fs::File, buf: &mut Vec<u8>) -> Option<u128> {
    let mut hasher = Xxh3::new();
    read_whole(file, buf, |bytes| hasher.update(bytes))?;
    Some(hasher.digest128())
}

/// Reads the file from its start through `buf`, handing each piece to `each`; `None` on a
/// read error.
fn read_whole(
    mut file: &std::fs::File,
    buf: &mut Vec<u8>,
    mut each: impl FnMut(&[u8]),
) -> Option<()> {
    file.seek(SeekFrom::Start(0)).ok()?;
    buf.resize(256 << 10, 0);
    loop {
        match file.read(buf) {
            Ok(0) => return Some(()),
            Ok(n) => each(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
