//! The checks over the files the requirements match, and the copies among them.
//!
//! Each file is opened again relative to the evidence folder that was scanned (never by a
//! path from the top, never through a link: [`crate::fsx`]), and must be the file the scan
//! saw: a file swapped since then is not judged on someone else's bytes.
//!
//! Copies are found by size first: only files that share a size with another matched file
//! are hashed, in full (the one read of a whole file the checks make), while the file is
//! open for its check anyway.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

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
    let judged: Vec<(usize, Checked, Option<[u8; 32]>)> = which
        .par_iter()
        .map_init(
            || Folders::new(root.clone()),
            |folders, &i| {
                let f = &scan.files[i];
                let hash = candidates.contains(&f.size);
                let (checked, digest) = check_one(folders, f, hash, limits);
                tally.checked();
                (i, checked, digest)
            },
        )
        .collect();
    let mut checks = Checks {
        results: vec![None; scan.files.len()],
        ..Checks::default()
    };
    let mut by_digest: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
    for (i, checked, digest) in judged {
        if let (Check::Ok, Some(d)) = (checked.check, digest) {
            by_digest.entry(d).or_default().push(i);
        }
        checks.results[i] = Some(checked.check);
        if let Some(detail) = checked.detail {
            checks.details.insert(i, detail);
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

/// Opens and checks one file; hashes it in full when `hash` (a copy candidate) and it is
/// usable.
fn check_one(
    folders: &mut Folders,
    f: &FileRecord,
    hash: bool,
    limits: &Limits,
) -> (Checked, Option<[u8; 32]>) {
    if !f.utf8_name {
        return (
            Checked::new(
                Check::Unreadable,
                "its name is not valid UTF-8, so it could not be opened to check; rename it",
            ),
            None,
        );
    }
    let Opened { file, meta } = match folders.open_path(f.source()) {
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
    let checked = check_document(&file, meta.len(), &f.rel, limits);
    let digest = (hash && checked.check.is_ok())
        .then(|| digest_of(&file))
        .flatten();
    (checked, digest)
}

fn open_error(e: OpenError) -> String {
    match e {
        OpenError::Link => "it was replaced by a link while evpack was reading the folder".into(),
        OpenError::NotRegular => "it is no longer a regular file".into(),
        OpenError::Io(e) => format!("cannot open it to check: {e}"),
    }
}

/// The SHA-256 of the whole file, or `None` if it cannot be read (it is then not named as
/// a copy: a check that cannot compare does not guess).
fn digest_of(mut file: &std::fs::File) -> Option<[u8; 32]> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(hasher.finalize().into())
}
