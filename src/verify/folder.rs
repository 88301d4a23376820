//! An unzipped bag (an evpack pack after unzipping, or any bag made by another tool) as a
//! [`Store`]. Symbolic links are reported and never followed: a link in a received bag
//! could point anywhere on the auditor's machine.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::findings::{Finding, Kind};
use super::store::{self, Buffers, Listing, Member, Problem, Store};
use crate::fsx::FileId;

pub struct FolderStore {
    root: PathBuf,
    /// The identity each file had when listed, by key; its path is the member's, under
    /// `root`, not kept a second time.
    files: Vec<FileId>,
}

/// Lists the bag folder. `Err` when it has no `bagit.txt` or cannot be listed at all.
pub fn open(root: &Path) -> crate::Result<(FolderStore, Listing)> {
    require_bagit_txt(root)?;
    let mut listing = Listing {
        root: root.display().to_string(),
        ..Listing::default()
    };
    let mut files = Vec::new();
    // The names of links and special files, for the letter-case check with the members.
    let mut other_names: Vec<String> = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    for item in walker {
        match look_at(root, item) {
            Seen::Nothing => {}
            Seen::Flagged(finding, other_name) => {
                let path = finding.path.clone().unwrap_or_default();
                listing.findings.push(finding);
                if other_name {
                    other_names.push(path.clone());
                }
                listing.flagged.insert(path);
            }
            Seen::File { rel, size, id } => {
                listing.members.push(Member {
                    path: rel,
                    size,
                    key: files.len(),
                });
                files.push(id);
            }
        }
    }
    let names: Vec<&str> = listing
        .members
        .iter()
        .map(|m| m.path.as_str())
        .chain(other_names.iter().map(String::as_str))
        .collect();
    let keyed: Vec<(&str, usize)> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let twins = store::twin_warnings(&keyed, |i| names[i].to_string(), "");
    drop((keyed, names));
    listing.warnings = twins;
    Ok((
        FolderStore {
            root: root.to_path_buf(),
            files,
        },
        listing,
    ))
}

/// A bag folder holds a `bagit.txt` file at its top; anything else is not a bag (exit 2).
fn require_bagit_txt(root: &Path) -> crate::Result<()> {
    match std::fs::symlink_metadata(root.join("bagit.txt")) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(crate::Error::input(
            root,
            "bagit.txt is not a regular file",
            "a bag folder holds a bagit.txt file at its top",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(crate::Error::input(
            root,
            "no bagit.txt: this folder is not a BagIt bag",
            "give the pack zip, or the folder that holds bagit.txt",
        )),
        Err(e) => Err(crate::Error::io(root.join("bagit.txt"), "cannot read", e)),
    }
}

/// What the walk saw at one path.
enum Seen {
    /// A folder: nothing to list.
    Nothing,
    /// Reported and not read; `true` when it is a link or special file, whose name can
    /// still collide with a member's.
    Flagged(Finding, bool),
    /// A regular file, with the identity it had when listed.
    File { rel: String, size: u64, id: FileId },
}

fn look_at(root: &Path, item: walkdir::Result<walkdir::DirEntry>) -> Seen {
    let flag =
        |kind, rel: String, message: String| Seen::Flagged(Finding::new(kind, rel, message), false);
    let item = match item {
        Ok(i) => i,
        Err(e) => {
            let rel = e
                .path()
                .and_then(|p| p.strip_prefix(root).ok())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            return flag(Kind::Unreadable, rel, format!("cannot list: {e}"));
        }
    };
    let Ok(rel_path) = item.path().strip_prefix(root) else {
        return Seen::Nothing;
    };
    // The bag's own paths use `/`; Windows lists with `\`, which no Windows name holds.
    let Some(rel) = rel_path.to_str().map(|r| {
        if cfg!(windows) {
            r.replace('\\', "/")
        } else {
            r.to_string()
        }
    }) else {
        return flag(
            Kind::Unsafe,
            rel_path.to_string_lossy().into_owned(),
            "the name is not valid UTF-8 (a manifest cannot list it)".into(),
        );
    };
    let ft = item.file_type();
    if ft.is_dir() {
        return Seen::Nothing;
    }
    if !ft.is_file() {
        let message = if ft.is_symlink() {
            "symbolic link (not followed)"
        } else {
            "special file (not a regular file); not read"
        };
        return Seen::Flagged(Finding::new(Kind::Unsafe, rel, message), true);
    }
    match item
        .metadata()
        .map_err(std::io::Error::from)
        .and_then(|m| Ok((m.len(), FileId::of_listed(item.path(), &m)?)))
    {
        Ok((size, id)) => Seen::File { rel, size, id },
        Err(e) => flag(Kind::Unreadable, rel, format!("cannot read: {e}")),
    }
}

impl Store for FolderStore {
    fn stream(
        &self,
        member: &Member,
        bufs: &mut Buffers,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Problem> {
        let id = self
            .files
            .get(member.key)
            .ok_or_else(|| Problem::new(Kind::Unreadable, "no such file"))?;
        let path = self.root.join(&member.path);
        let unreadable = |e: std::io::Error| {
            Problem::new(
                Kind::Unreadable,
                format!(
                    "cannot read {}: {e}",
                    crate::util::printable(&self.display(&path))
                ),
            )
        };
        // `open` follows symlinks: a file swapped for a link after it was listed would be
        // read through the link, and one swapped for a FIFO would block the open. So the
        // open does not wait, and the open file must be the very file that was listed.
        let (mut file, meta) = super::source::open_no_wait(&path).map_err(unreadable)?;
        if !meta.is_file() || FileId::of_file(&file, &meta).map_err(unreadable)? != *id {
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
