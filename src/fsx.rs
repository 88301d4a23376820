//! The platform seam for reading the evidence folder safely.
//!
//! A path is a promise that can be broken between two system calls: someone can swap a
//! folder for a link to `/etc` after the walk listed it and before a file in it is opened.
//! So nothing below the evidence folder is ever opened by path. The folder is opened once;
//! every folder and file under it is opened relative to its already opened parent, refusing
//! a link at every step (`openat` with `O_NOFOLLOW`), and a file's size, time and identity
//! come from the open handle, never from a second lookup of the path. Files are opened
//! without blocking (`O_NONBLOCK`), so a file swapped for a pipe cannot hang a run; the
//! handle's type is then checked, and anything but a regular file is refused.
//!
//! This module is the only place that knows how the platform does that (Unix here); the
//! scan and the pack writer speak only of [`Dir`], [`Entry`] and [`Opened`].

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

/// An open folder. Cloning shares the handle.
#[derive(Clone, Debug)]
pub struct Dir(Arc<OwnedFd>);

/// What a folder entry is, as the folder lists it (a link is not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Link,
    /// A device, pipe or socket.
    Other,
}

/// One entry of a folder.
#[derive(Debug)]
pub struct Entry {
    pub name: OsString,
    pub kind: EntryKind,
}

/// A regular file, open for reading, with the metadata of the open handle.
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    pub meta: Metadata,
}

/// Which file a handle is: the same identity means the same file, whatever its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    pub fn of(meta: &Metadata) -> FileId {
        FileId {
            device: meta.dev(),
            inode: meta.ino(),
        }
    }
}

/// Why a file could not be opened safely.
#[derive(Debug)]
pub enum OpenError {
    /// A link where a file or folder was expected: never followed.
    Link,
    /// Not a regular file (a device, pipe, socket or folder).
    NotRegular,
    /// Anything else the system said (missing, permission denied, ...).
    Io(io::Error),
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> OpenError {
        if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            OpenError::Link
        } else {
            OpenError::Io(e)
        }
    }
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

impl Dir {
    /// Opens the evidence folder itself. A link here is followed: the user named it.
    pub fn open_root(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(Dir(Arc::new(fd)))
    }

    /// The folder's identity.
    pub fn id(&self) -> io::Result<FileId> {
        let st = rustix::fs::fstat(&*self.0)?;
        Ok(FileId {
            device: st.st_dev,
            inode: st.st_ino,
        })
    }

    /// The folder's entries (without `.` and `..`), in the order the folder lists them.
    pub fn entries(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&*self.0)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let kind = match entry.file_type() {
                FileType::Unknown => self.kind_of(OsStr::from_bytes(name))?,
                t => kind(t),
            };
            out.push(Entry {
                name: OsStr::from_bytes(name).to_os_string(),
                kind,
            });
        }
        Ok(out)
    }

    /// The kind of an entry whose folder did not say (some file systems never do).
    fn kind_of(&self, name: &OsStr) -> io::Result<EntryKind> {
        let st = rustix::fs::statat(&*self.0, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(kind(FileType::from_raw_mode(st.st_mode)))
    }

    /// Opens the folder `name` in this one; a link is refused.
    pub fn open_dir(&self, name: &OsStr) -> Result<Dir, OpenError> {
        match rustix::fs::openat(&*self.0, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Dir(Arc::new(fd))),
            // Linux answers "not a folder" for a link opened with O_NOFOLLOW | O_DIRECTORY;
            // ask what it is, so a link is named as one.
            Err(e) if e == rustix::io::Errno::NOTDIR => match self.kind_of(name) {
                Ok(EntryKind::Link) => Err(OpenError::Link),
                _ => Err(OpenError::NotRegular),
            },
            Err(e) => Err(io::Error::from(e).into()),
        }
    }

    /// Opens the regular file `name` in this folder; a link, pipe, device or socket is
    /// refused without blocking.
    pub fn open_file(&self, name: &OsStr) -> Result<Opened, OpenError> {
        let fd = rustix::fs::openat(&*self.0, name, FILE_FLAGS, Mode::empty())
            .map_err(io::Error::from)?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(OpenError::NotRegular);
        }
        Ok(Opened { file, meta })
    }

    /// Opens the regular file at `rel` (`/`-separated, relative to this folder), one
    /// component at a time, refusing a link at every step.
    pub fn open_path(&self, rel: &str) -> Result<Opened, OpenError> {
        let (folder, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        if name.is_empty() {
            return Err(OpenError::NotRegular);
        }
        self.open_folder(folder)?.open_file(OsStr::new(name))
    }

    /// Opens the folder at `rel` (`/`-separated, relative to this folder; empty for this
    /// folder itself) one component at a time, refusing a link at every step.
    pub fn open_folder(&self, rel: &str) -> Result<Dir, OpenError> {
        let mut dir = self.clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            if part == ".." || part == "." {
                return Err(OpenError::Link);
            }
            dir = dir.open_dir(OsStr::new(part))?;
        }
        Ok(dir)
    }
}

/// Opens files under one folder, keeping open the folders above the file opened last, each opened from the one before it
/// (from the evidence folder down), refusing links: files come in pack order, folder by
/// folder, so the next file's folders are mostly open already, and opening a file costs
/// one system call instead of one per folder on its path. A folder swapped for a link
/// after it was opened here is not followed; the files read through the handle are still
/// checked by the caller to be the very files assessed (by identity, size and time).
pub struct Folders {
    root: Dir,
    /// Each folder's name and handle, from the top.
    open: Vec<(String, Dir)>,
}

impl Folders {
    pub fn new(root: Dir) -> Folders {
        Folders {
            root,
            open: Vec::new(),
        }
    }

    /// Opens the regular file at `rel` (`/`-separated, relative to the evidence folder),
    /// as [`Dir::open_path`] does.
    pub fn open_path(&mut self, rel: &str) -> Result<Opened, OpenError> {
        let mut parts = rel.split('/').filter(|p| !p.is_empty());
        let Some(last) = parts.next_back() else {
            return Err(OpenError::NotRegular);
        };
        let mut depth = 0;
        for part in parts {
            if part == ".." || part == "." {
                return Err(OpenError::Link);
            }
            if self.open.get(depth).is_none_or(|(name, _)| name != part) {
                self.open.truncate(depth);
                let dir = self.last().open_dir(OsStr::new(part))?;
                self.open.push((part.to_string(), dir));
            }
            depth += 1;
        }
        self.open.truncate(depth);
        self.last().open_file(OsStr::new(last))
    }

    fn last(&self) -> &Dir {
        self.open.last().map_or(&self.root, |(_, dir)| dir)
    }
}

fn kind(t: FileType) -> EntryKind {
    match t {
        FileType::RegularFile => EntryKind::File,
        FileType::Directory => EntryKind::Dir,
        FileType::Symlink => EntryKind::Link,
        _ => EntryKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_refused_at_every_step_and_pipes_do_not_block() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path();
        std::fs::create_dir(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("sub/a.txt"), "a").expect("write");
        std::os::unix::fs::symlink("sub", root.join("link")).expect("symlink");
        std::os::unix::fs::symlink("a.txt", root.join("sub/b.txt")).expect("symlink");
        let fifo = root.join("sub/pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());

        let dir = Dir::open_root(root).expect("root");
        let opened = dir.open_path("sub/a.txt").expect("plain file");
        assert_eq!(opened.meta.len(), 1);
        assert!(matches!(dir.open_path("link/a.txt"), Err(OpenError::Link)));
        assert!(matches!(dir.open_path("sub/b.txt"), Err(OpenError::Link)));
        assert!(matches!(
            dir.open_path("sub/pipe"),
            Err(OpenError::NotRegular)
        ));
        assert!(matches!(
            dir.open_path("sub/../sub/a.txt"),
            Err(OpenError::Link)
        ));

        let sub = dir.open_dir(OsStr::new("sub")).expect("sub");
        let mut kinds: Vec<(String, EntryKind)> = sub
            .entries()
            .expect("entries")
            .into_iter()
            .map(|e| (e.name.to_string_lossy().into_owned(), e.kind))
            .collect();
        kinds.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            kinds,
            [
                ("a.txt".to_string(), EntryKind::File),
                ("b.txt".to_string(), EntryKind::Link),
                ("pipe".to_string(), EntryKind::Other),
            ]
        );
    }
}
