//! Unix: folders and files opened relative to an open parent (`openat`), never following
//! a link; positioned I/O with `pread`/`pwrite`; direct I/O where the file system allows.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use super::{Entry, EntryKind, FileId, Meta, OpenError, Opened};

/// An open folder.
#[derive(Debug)]
pub(super) struct Folder(OwnedFd);

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

impl Folder {
    pub(super) fn open_root(path: &Path) -> io::Result<Folder> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Folder(rustix::fs::open(path, flags, Mode::empty())?))
    }

    pub(super) fn id(&self) -> io::Result<FileId> {
        let st = rustix::fs::fstat(&self.0)?;
        Ok(FileId {
            device: st.st_dev,
            inode: st.st_ino,
        })
    }

    pub(super) fn entries(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.0)? {
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
        let st = rustix::fs::statat(&self.0, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(kind(FileType::from_raw_mode(st.st_mode)))
    }

    pub(super) fn open_dir(&self, name: &OsStr) -> Result<Folder, OpenError> {
        match rustix::fs::openat(&self.0, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Folder(fd)),
            // Linux answers "not a folder" for a link opened with O_NOFOLLOW | O_DIRECTORY;
            // ask what it is, so a link is named as one.
            Err(e) if e == rustix::io::Errno::NOTDIR => match self.kind_of(name) {
                Ok(EntryKind::Link) => Err(OpenError::Link),
                _ => Err(OpenError::NotRegular),
            },
            Err(e) => Err(io::Error::from(e).into()),
        }
    }

    pub(super) fn open_file(&self, name: &OsStr) -> Result<Opened, OpenError> {
        let fd = rustix::fs::openat(&self.0, name, FILE_FLAGS, Mode::empty())
            .map_err(io::Error::from)?;
        let file = File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(OpenError::NotRegular);
        }
        let id = id_of(&meta);
        Ok(Opened {
            file,
            meta: Meta { meta, id },
        })
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

fn id_of(meta: &Metadata) -> FileId {
    FileId {
        device: meta.dev(),
        inode: meta.ino(),
    }
}

pub(super) fn file_id(_file: &File, meta: &Metadata) -> io::Result<FileId> {
    Ok(id_of(meta))
}

pub(super) fn listed_id(_path: &Path, meta: &Metadata) -> io::Result<FileId> {
    Ok(id_of(meta))
}

/// Reads at `offset` without moving the file's cursor (`pread`).
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    FileExt::read_at(file, buf, offset)
}

/// Writes all of `data` at `offset` without moving the file's cursor (`pwrite`).
pub fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    FileExt::write_all_at(file, data, offset)
}

/// Opens `path` a second time for direct I/O, or `None` where the system refuses.
pub fn open_direct(path: &Path) -> Option<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

/// The file system does not do direct I/O after all (some refuse at the first write rather
/// than at open): write normally.
pub fn refuses_direct(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)
    )
}

/// Opens `path` for reading without waiting, and returns it with the metadata of what was
/// opened. Opened the ordinary way, a FIFO blocks until something writes to it (a device
/// may too); with `O_NONBLOCK` the open returns at once, and the caller judges the type
/// from the open handle, so what is read is what was judged, whatever the path names a
/// moment later.
pub fn open_no_wait(path: &Path) -> io::Result<(File, Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// The permissions of a new output file: like any file a program creates, 0666 less the
/// umask (tempfile's default, 0600, would hide a pack from the colleagues it is for).
pub fn new_file_permissions<'a, 'b, 'c>(
    builder: &'c mut tempfile::Builder<'a, 'b>,
) -> &'c mut tempfile::Builder<'a, 'b> {
    use std::os::unix::fs::PermissionsExt;
    builder.permissions(std::fs::Permissions::from_mode(0o666))
}
