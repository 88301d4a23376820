//! The platform seam: everything evpack asks of the operating system's files, behind one
//! set of names. The scan, the file checks, the pack writer and the verifier speak only of
//! [`Dir`], [`Entry`], [`Opened`], [`FileId`] and the few functions below; how each platform
//! does them lives in `fsx/unix.rs` and `fsx/windows.rs`, and nothing else in evpack names a
//! system call.
//!
//! Reading the evidence folder safely: a path is a promise that can be broken between two
//! system calls: someone can swap a folder for a link to `/etc` (or a junction to `C:\`)
//! after the walk listed it and before a file in it is opened. So nothing below the
//! evidence folder is opened through a link, and a file's size, time and identity come
//! from the open handle, never from a second lookup of the path. On Unix every folder and
//! file is opened relative to its already opened parent (`openat` with `O_NOFOLLOW`),
//! without blocking (`O_NONBLOCK`, so a file swapped for a pipe cannot hang a run). Windows
//! has no `openat`: each component is opened by its full path without following a
//! reparse point, a link or junction is refused, and the opened handle's final path must
//! be exactly the one asked for, so a tree changed mid-read never leads elsewhere. On both,
//! the handle's type is then checked, and anything but a regular file is refused.
//!
//! The other seams: positioned reads and writes (several threads share one file, none
//! seeks), direct I/O for the pack (Linux only), opening a pack without waiting on a FIFO,
//! and the permissions of new output files.

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::path::Path;
use std::sync::Arc;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as sys;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as sys;

pub use sys::{
    new_file_permissions, open_direct, open_no_wait, read_at, refuses_direct, write_all_at,
};

/// An open folder. Cloning shares the handle.
#[derive(Clone, Debug)]
pub struct Dir(Arc<sys::Folder>);

/// What a folder entry is, as the folder lists it (a link is not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symbolic link; on Windows also a junction or mount point.
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
    pub meta: Meta,
}

/// The metadata of an open file and its identity. Windows keeps a file's identity out of
/// [`Metadata`] (stable Rust does not expose it), so it is read from the handle at open
/// and kept beside the rest; reads as a [`Metadata`].
#[derive(Debug)]
pub struct Meta {
    meta: Metadata,
    id: FileId,
}

impl std::ops::Deref for Meta {
    type Target = Metadata;
    fn deref(&self) -> &Metadata {
        &self.meta
    }
}

/// Which file a handle is: the same identity means the same file, whatever its path
/// (device and inode on Unix; volume serial number and file index on Windows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// The identity of an opened file.
    pub fn of(meta: &Meta) -> FileId {
        meta.id
    }

    /// The identity of `file`, whose metadata (from the handle) is `meta`.
    pub fn of_file(file: &File, meta: &Metadata) -> io::Result<FileId> {
        sys::file_id(file, meta)
    }

    /// The identity of the file at `path`, as a listing found it with metadata `meta`
    /// (not following a link). Costs an open on Windows.
    pub fn of_listed(path: &Path, meta: &Metadata) -> io::Result<FileId> {
        sys::listed_id(path, meta)
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

impl Dir {
    /// Opens the evidence folder itself. A link here is followed: the user named it.
    pub fn open_root(path: &Path) -> io::Result<Dir> {
        sys::Folder::open_root(path).map(|f| Dir(Arc::new(f)))
    }

    /// The folder's identity.
    pub fn id(&self) -> io::Result<FileId> {
        self.0.id()
    }

    /// The folder's entries (without `.` and `..`), in the order the folder lists them.
    pub fn entries(&self) -> io::Result<Vec<Entry>> {
        self.0.entries()
    }

    /// Opens the folder `name` in this one; a link is refused.
    pub fn open_dir(&self, name: &OsStr) -> Result<Dir, OpenError> {
        self.0.open_dir(name).map(|f| Dir(Arc::new(f)))
    }

    /// Opens the regular file `name` in this folder; a link, pipe, device or socket is
    /// refused without blocking.
    pub fn open_file(&self, name: &OsStr) -> Result<Opened, OpenError> {
        self.0.open_file(name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
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

    #[test]
    fn one_file_opened_twice_is_one_identity_and_two_files_are_two() {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(tmp.path().join("sub")).expect("mkdir");
        std::fs::write(tmp.path().join("sub/a.txt"), "a").expect("write");
        std::fs::write(tmp.path().join("sub/b.txt"), "a").expect("write");

        let root = Dir::open_root(tmp.path()).expect("root");
        let a = root.open_path("sub/a.txt").expect("a");
        let sub = root.open_dir(OsStr::new("sub")).expect("sub");
        let a_again = sub.open_file(OsStr::new("a.txt")).expect("a again");
        let b = root.open_path("sub/b.txt").expect("b");
        assert_eq!(FileId::of(&a.meta), FileId::of(&a_again.meta));
        assert_ne!(FileId::of(&a.meta), FileId::of(&b.meta));
        assert_eq!(
            FileId::of_file(&a_again.file, &a_again.meta).expect("id"),
            FileId::of(&a.meta)
        );
        let listed = std::fs::symlink_metadata(tmp.path().join("sub/a.txt")).expect("meta");
        assert_eq!(
            FileId::of_listed(&tmp.path().join("sub/a.txt"), &listed).expect("id"),
            FileId::of(&a.meta)
        );
        assert_ne!(sub.id().expect("sub id"), root.id().expect("root id"));
        assert_eq!(
            root.open_folder("sub").expect("sub").id().expect("id"),
            sub.id().expect("id")
        );
    }

    #[test]
    fn folders_files_and_escapes_are_told_apart() {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(tmp.path().join("sub")).expect("mkdir");
        std::fs::write(tmp.path().join("sub/a.txt"), "abc").expect("write");
        let root = Dir::open_root(tmp.path()).expect("root");

        let mut kinds: Vec<(String, EntryKind)> = root
            .entries()
            .expect("entries")
            .into_iter()
            .map(|e| (e.name.to_string_lossy().into_owned(), e.kind))
            .collect();
        kinds.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(kinds, [("sub".to_string(), EntryKind::Dir)]);
        assert!(matches!(root.open_path("sub"), Err(OpenError::NotRegular)));
        assert!(matches!(
            root.open_folder("sub/a.txt"),
            Err(OpenError::NotRegular)
        ));
        assert!(matches!(
            root.open_path("sub/../sub/a.txt"),
            Err(OpenError::Link)
        ));
        assert!(matches!(
            root.open_path("sub/nothing"),
            Err(OpenError::Io(_))
        ));
        let mut folders = Folders::new(root);
        let opened = folders.open_path("sub/a.txt").expect("through the cache");
        assert_eq!(opened.meta.len(), 3);
    }

    #[test]
    fn positioned_writes_and_reads_land_where_they_say() {
        let tmp = tempfile::tempfile().expect("temp file");
        write_all_at(&tmp, b"world", 6).expect("write");
        write_all_at(&tmp, b"hello ", 0).expect("write");
        // Megabytes in one call, then a read across them.
        let big: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
        write_all_at(&tmp, &big, 11).expect("big write");
        let mut buf = [0u8; 11];
        assert_eq!(read_at(&tmp, &mut buf, 0).expect("read"), 11);
        assert_eq!(&buf, b"hello world");
        let mut tail = [0u8; 4];
        let end = 11 + big.len() as u64;
        assert_eq!(read_at(&tmp, &mut tail, end - 4).expect("read"), 4);
        assert_eq!(tail[..], big[big.len() - 4..]);
        assert_eq!(read_at(&tmp, &mut tail, end + 10).expect("past the end"), 0);
        assert_eq!(tmp.metadata().expect("meta").len(), end);
    }

    #[test]
    fn a_pack_opens_without_waiting_and_a_folder_is_told_from_a_file() {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::write(tmp.path().join("p.zip"), "zip").expect("write");
        let (_, meta) = open_no_wait(&tmp.path().join("p.zip")).expect("file");
        assert!(meta.is_file());
        let (_, meta) = open_no_wait(tmp.path()).expect("folder");
        assert!(meta.is_dir());
    }

    /// Windows limits ordinary paths to 260 characters; a shared drive's folders nest
    /// deeper than that.
    #[test]
    fn a_path_beyond_260_characters_is_walked_and_read() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let folder = "a folder with a name long enough to pass the old limit soon";
        let rel = [folder; 6].join("/");
        let deep = tmp.path().join(&rel);
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::write(deep.join("minutes.docx"), "deep").expect("write");
        assert!(deep.as_os_str().len() > 300);

        let root = Dir::open_root(tmp.path()).expect("root");
        let mut dir = root.clone();
        for depth in 0..6 {
            let entries = dir
                .entries()
                .unwrap_or_else(|e| panic!("list at {depth}: {e}"));
            assert_eq!(entries.len(), 1);
            dir = dir
                .open_dir(&entries[0].name)
                .unwrap_or_else(|e| panic!("open at {depth}: {e:?}"));
        }
        let opened = root
            .open_path(&format!("{rel}/minutes.docx"))
            .expect("deep file");
        assert_eq!(opened.meta.len(), 4);
    }
}
