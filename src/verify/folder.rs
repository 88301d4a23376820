//! An unzipped bag (an evpack pack after unzipping, or any bag made by another tool) as a
//! [`Store`]. Symbolic links are reported and never followed: a link in a received bag
//! could point anywhere on the auditor's machine.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::findings::{Finding, Kind};
use super::store::{self, Buffers, Listing, Member, Problem, Store};

pub struct FolderStore {
    root: PathBuf,
    /// Each file with the (device, inode) it had when listed.
    files: Vec<(PathBuf, (u64, u64))>,
}

/// Lists the bag folder. `Err` when it has no `bagit.txt` or cannot be listed at all.
pub fn open(root: &Path) -> crate::Result<(FolderStore, Listing)> {
    match std::fs::symlink_metadata(root.join("bagit.txt")) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(crate::Error::input(
                root,
                "bagit.txt is not a regular file",
                "a bag folder holds a bagit.txt file at its top",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(crate::Error::input(
                root,
                "no bagit.txt: this folder is not a BagIt bag",
                "give the pack zip, or the folder that holds bagit.txt",
            ))
        }
        Err(e) => return Err(crate::Error::io(root.join("bagit.txt"), "cannot read", e)),
    }

    let mut listing = Listing {
        root: root.display().to_string(),
        ..Listing::default()
    };
    let mut files = Vec::new();
    // Every file name (links included), for the letter-case check.
    let mut all_names: Vec<String> = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    for item in walker {
        let item = match item {
            Ok(i) => i,
            Err(e) => {
                let rel = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                listing.findings.push(Finding::new(
                    Kind::Unreadable,
                    rel.clone(),
                    format!("cannot list: {e}"),
                ));
                listing.flagged.insert(rel);
                continue;
            }
        };
        let Ok(rel_path) = item.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel_path.to_str().map(str::to_string) else {
            let rel = rel_path.to_string_lossy().into_owned();
            listing.findings.push(Finding::new(
                Kind::Unsafe,
                rel.clone(),
                "the name is not valid UTF-8 (a manifest cannot list it)",
            ));
            listing.flagged.insert(rel);
            continue;
        };
        let ft = item.file_type();
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            all_names.push(rel.clone());
        }
        if ft.is_symlink() {
            listing.findings.push(Finding::new(
                Kind::Unsafe,
                rel.clone(),
                "symbolic link (not followed)",
            ));
            listing.flagged.insert(rel);
            continue;
        }
        if !ft.is_file() {
            listing.findings.push(Finding::new(
                Kind::Unsafe,
                rel.clone(),
                "special file (not a regular file); not read",
            ));
            listing.flagged.insert(rel);
            continue;
        }
        let size = match item.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                listing.findings.push(Finding::new(
                    Kind::Unreadable,
                    rel.clone(),
                    format!("cannot read: {e}"),
                ));
                listing.flagged.insert(rel);
                continue;
            }
        };
        let id = match item.metadata() {
            Ok(m) => (m.dev(), m.ino()),
            Err(_) => (0, 0),
        };
        listing.members.push(Member {
            path: rel,
            size,
            key: files.len(),
        });
        files.push((item.into_path(), id));
    }
    let names: Vec<(&str, usize)> = listing
        .members
        .iter()
        .map(|m| m.path.as_str())
        .chain(all_names.iter().map(String::as_str))
        .enumerate()
        .map(|(i, n)| (n, i))
        .collect();
    let mut case_findings = Vec::new();
    for group in store::case_groups(&names) {
        let group: Vec<&str> = group.iter().map(|&i| names[i].0).collect();
        for me in &group {
            let others: Vec<String> = group
                .iter()
                .filter(|n| *n != me)
                .map(|n| crate::util::printable(n))
                .collect();
            case_findings.push(Finding::new(
                Kind::Unsafe,
                *me,
                format!(
                    "name differs only in letter case from {} (one would overwrite the other on Windows or macOS)",
                    others.join(", ")
                ),
            ));
        }
    }
    drop(names);
    listing.findings.extend(case_findings);
    Ok((
        FolderStore {
            root: root.to_path_buf(),
            files,
        },
        listing,
    ))
}

impl Store for FolderStore {
    fn stream(
        &self,
        member: &Member,
        bufs: &mut Buffers,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Problem> {
        let (path, id) = self
            .files
            .get(member.key)
            .ok_or_else(|| Problem::new(Kind::Unreadable, "no such file"))?;
        let unreadable = |e: std::io::Error| {
            Problem::new(
                Kind::Unreadable,
                format!(
                    "cannot read {}: {e}",
                    crate::util::printable(&self.display(path))
                ),
            )
        };
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        // `open` follows symlinks: a file swapped for a link after it was listed would be
        // read through the link. The open file must be the very file that was listed.
        let meta = file.metadata().map_err(unreadable)?;
        if (meta.dev(), meta.ino()) != *id || !meta.is_file() {
            return Err(Problem::new(
                Kind::Unsafe,
                "replaced while it was being verified (now a link or another file); not read",
            ));
        }
        loop {
            match file.read(&mut bufs.input) {
                Ok(0) => return Ok(()),
                Ok(n) => sink(&bufs.input[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(unreadable(e)),
            }
        }
    }
}

impl FolderStore {
    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
