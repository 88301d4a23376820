//! Windows: there is no `openat`, so each folder and file is opened by its full path: the
//! evidence folder's final path (verbatim, `\\?\C:\...`, so paths beyond 260 characters
//! work and no name loses a trailing dot or space), then one name at a time. Every open
//! passes `FILE_FLAG_OPEN_REPARSE_POINT`, so the last component is never followed: a
//! symbolic link, junction or mount point is refused. The components above it are
//! resolved again by the system at every open, so the opened handle's final path
//! (`GetFinalPathNameByHandleW`) must be the very path asked for: a folder swapped for a
//! junction after it was listed changes it, and the open is refused. A folder's listing
//! is read by its final path for the same reason (std has no listing of a handle), and
//! every entry it names is opened and checked as above before anything is read. Where
//! the system cannot give a final path that long (Wine, beyond 260 characters), the check
//! is the same volume and the same path within it.
//!
//! Windows has no FIFOs to block an open and no direct I/O that evpack uses; a file's
//! identity (volume serial number and file index) is not in std's stable `Metadata`, so
//! it is read from the handle. Those few questions to the system are the only `unsafe`
//! code in evpack.
#![allow(unsafe_code)]

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::fs::{FileExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};

use windows_sys::Win32::Foundation::ERROR_MORE_DATA;
use windows_sys::Win32::Storage::FileSystem::{
    FileAttributeTagInfo, FileNameInfo, GetFileInformationByHandle, GetFileInformationByHandleEx,
    GetFinalPathNameByHandleW, BY_HANDLE_FILE_INFORMATION, FILE_ATTRIBUTE_REPARSE_POINT,
    FILE_ATTRIBUTE_TAG_INFO, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT,
    FILE_NAME_NORMALIZED, VOLUME_NAME_DOS,
};

use super::{Entry, EntryKind, FileId, Meta, OpenError, Opened};

/// An open folder and its final path.
#[derive(Debug)]
pub(super) struct Folder {
    handle: File,
    /// Verbatim (`\\?\`), as the system resolved it: children are opened below it and must
    /// turn out to be exactly there.
    path: PathBuf,
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> OpenError {
        OpenError::Io(e)
    }
}

impl Folder {
    pub(super) fn open_root(path: &Path) -> io::Result<Folder> {
        // Absolute before anything else, so a relative path is resolved once, against
        // the folder evpack was started in.
        let path = std::path::absolute(path)?;
        let handle = open(&path, 0)?;
        if !handle.metadata()?.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "not a folder"));
        }
        let path = match final_path(&handle) {
            Err(e) if is_more_data(&e) => path,
            p => p?,
        };
        Ok(Folder { handle, path })
    }

    pub(super) fn id(&self) -> io::Result<FileId> {
        handle_id(&self.handle)
    }

    pub(super) fn entries(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.path)? {
            let entry = entry?;
            let t = entry.file_type()?;
            // std's `is_symlink` on Windows is a name-surrogate reparse point: a symbolic
            // link, junction or mount point. Other reparse points (OneDrive files and
            // folders, deduplicated files) hold data, and are files or folders.
            let kind = if t.is_symlink() {
                EntryKind::Link
            } else if t.is_dir() {
                EntryKind::Dir
            } else if t.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            out.push(Entry {
                name: entry.file_name(),
                kind,
            });
        }
        Ok(out)
    }

    pub(super) fn open_dir(&self, name: &OsStr) -> Result<Folder, OpenError> {
        let (handle, meta, path) = self.open_child(name)?;
        if !meta.is_dir() {
            return Err(OpenError::NotRegular);
        }
        Ok(Folder { handle, path })
    }

    pub(super) fn open_file(&self, name: &OsStr) -> Result<Opened, OpenError> {
        let (file, meta, _) = self.open_child(name)?;
        if !meta.is_file() {
            return Err(OpenError::NotRegular);
        }
        let id = handle_id(&file)?;
        Ok(Opened {
            file,
            meta: Meta { meta, id },
        })
    }

    /// Opens `name` in this folder without following a link, and checks that what opened
    /// lies exactly where it was asked for. Returns the handle, its metadata and its final
    /// path.
    fn open_child(&self, name: &OsStr) -> Result<(File, Metadata, PathBuf), OpenError> {
        if !is_plain_name(name) {
            // `..`, a separator or a `:` (which names a file's alternate stream) would
            // open something other than an entry of this folder.
            return Err(OpenError::Link);
        }
        let asked = self.path.join(name);
        let mut file = open(&asked, FILE_FLAG_OPEN_REPARSE_POINT)?;
        let tag = attribute_tag(&file)?;
        if tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
            if is_name_surrogate(tag.ReparseTag) {
                return Err(OpenError::Link);
            }
            // Any other reparse point (a OneDrive file or folder, a deduplicated file)
            // keeps its data behind a file system filter, which the flag bypasses: read
            // through it, opened the ordinary way, if it is still the same file.
            let again = open(&asked, 0)?;
            if handle_id(&again)? != handle_id(&file)? {
                return Err(OpenError::Link);
            }
            file = again;
        }
        let meta = file.metadata()?;
        let opened = self.place_of(&file, &asked, name)?;
        Ok((file, meta, opened))
    }

    /// The final path of `file`, opened as `asked` (the entry `name` of this folder), or
    /// [`OpenError::Link`] if it lies anywhere else.
    fn place_of(&self, file: &File, asked: &Path, name: &OsStr) -> Result<PathBuf, OpenError> {
        match final_path(file) {
            Ok(opened) if same_path(&opened, asked) => Ok(opened),
            Ok(_) => Err(OpenError::Link),
            // Wine's final path has room for 260 characters only. The same question, put
            // another way: the same volume, and the same path within it.
            Err(e) if is_more_data(&e) => {
                let same_volume = handle_id(file)?.device == handle_id(&self.handle)?.device;
                let expected = name_in_volume(&self.handle)?.join(name);
                if same_volume && same_path(&name_in_volume(file)?, &expected) {
                    Ok(asked.to_path_buf())
                } else {
                    Err(OpenError::Link)
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Opens `path` for reading with `flags`. Backup semantics let a folder open too, so its
/// type is judged from the handle; std's sharing (read, write and delete) leaves every
/// other program free to save, rename or delete the file meanwhile.
fn open(path: &Path, flags: u32) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | flags)
        .open(path)
}

/// A name of one entry: not `.` or `..`, no separator, no stream (`:`), no NUL.
fn is_plain_name(name: &OsStr) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .encode_wide()
            .all(|c| !matches!(c, 0 | 0x2f | 0x3a | 0x5c))
}

/// Whether two final paths name the same place. Windows folders compare names without
/// regard to case; the system returns the spelling on disk, which is what was listed.
fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || a.as_os_str().to_string_lossy().to_lowercase()
            == b.as_os_str().to_string_lossy().to_lowercase()
}

/// Name surrogates (symbolic links, junctions, mount points) stand for another name;
/// Microsoft's `IsReparseTagNameSurrogate`.
fn is_name_surrogate(tag: u32) -> bool {
    tag & 0x2000_0000 != 0
}

fn attribute_tag(file: &File) -> io::Result<FILE_ATTRIBUTE_TAG_INFO> {
    let mut info = FILE_ATTRIBUTE_TAG_INFO::default();
    // SAFETY: the handle stays open while `file` is borrowed; `info` is the structure this
    // information class fills, and its exact size is passed.
    let ok = unsafe {
        GetFileInformationByHandleEx(
            file.as_raw_handle(),
            FileAttributeTagInfo,
            (&raw mut info).cast(),
            size_of::<FILE_ATTRIBUTE_TAG_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

fn handle_id(file: &File) -> io::Result<FileId> {
    let mut info = BY_HANDLE_FILE_INFORMATION::default();
    // SAFETY: the handle stays open while `file` is borrowed; `info` is a valid, writable
    // BY_HANDLE_FILE_INFORMATION.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(FileId {
        device: u64::from(info.dwVolumeSerialNumber),
        inode: u64::from(info.nFileIndexHigh) << 32 | u64::from(info.nFileIndexLow),
    })
}

/// The handle's path as the system resolved it, verbatim (`\\?\C:\...` or
/// `\\?\UNC\server\share\...`), with the names' spelling on disk.
fn final_path(file: &File) -> io::Result<PathBuf> {
    // Windows paths end at 32,767 characters; 512 covers nearly all in one call.
    let mut buf: Vec<u16> = vec![0; 512];
    loop {
        let room = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: the handle stays open while `file` is borrowed; `buf` is writable for
        // `room` UTF-16 units, the size passed.
        let n = unsafe {
            GetFinalPathNameByHandleW(
                file.as_raw_handle(),
                buf.as_mut_ptr(),
                room,
                FILE_NAME_NORMALIZED | VOLUME_NAME_DOS,
            )
        } as usize;
        if n == 0 {
            return Err(io::Error::last_os_error());
        }
        if n < buf.len() {
            buf.truncate(n);
            return Ok(PathBuf::from(OsString::from_wide(&buf)));
        }
        if n > 1 << 16 {
            return Err(io::Error::other("the system gave a path longer than any"));
        }
        // Too small: `n` is the room needed, terminating NUL included.
        buf.resize(n, 0);
    }
}

fn is_more_data(e: &io::Error) -> bool {
    e.raw_os_error() == Some(ERROR_MORE_DATA as i32)
}

/// The handle's path within its volume (`\folder\file`, no drive or share).
fn name_in_volume(file: &File) -> io::Result<PathBuf> {
    // FILE_NAME_INFO: the name's length in bytes (a u32), then the name in UTF-16; held in
    // u32s for the structure's alignment.
    let mut buf: Vec<u32> = vec![0; 1024];
    loop {
        let room = u32::try_from(buf.len() * 4).unwrap_or(u32::MAX);
        // SAFETY: the handle stays open while `file` is borrowed; `buf` is writable for
        // `room` bytes and aligned as FILE_NAME_INFO needs.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                file.as_raw_handle(),
                FileNameInfo,
                buf.as_mut_ptr().cast(),
                room,
            )
        };
        if ok != 0 {
            let units = buf[0] as usize / 2;
            let name: Vec<u16> = buf[1..]
                .iter()
                .flat_map(|w| {
                    let b = w.to_ne_bytes();
                    [
                        u16::from_ne_bytes([b[0], b[1]]),
                        u16::from_ne_bytes([b[2], b[3]]),
                    ]
                })
                .take(units)
                .collect();
            if name.len() == units {
                return Ok(PathBuf::from(OsString::from_wide(&name)));
            }
        } else {
            let e = io::Error::last_os_error();
            if !is_more_data(&e) {
                return Err(e);
            }
        }
        if buf.len() >= 1 << 15 {
            return Err(io::Error::other("the system gave a path longer than any"));
        }
        buf.resize(buf.len() * 4, 0);
    }
}

pub(super) fn file_id(file: &File, _meta: &Metadata) -> io::Result<FileId> {
    handle_id(file)
}

pub(super) fn listed_id(path: &Path, _meta: &Metadata) -> io::Result<FileId> {
    handle_id(&open(path, FILE_FLAG_OPEN_REPARSE_POINT)?)
}

/// Reads at `offset`. Moves the file's cursor too, which nothing in evpack uses: every
/// read and write of a shared file names its offset.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek_read(buf, offset)
}

/// Writes all of `data` at `offset` (a positioned write may write less than asked).
pub fn write_all_at(file: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    while !data.is_empty() {
        match file.seek_write(data, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// No direct I/O on Windows: the pack goes through the ordinary handle.
pub fn open_direct(_path: &Path) -> Option<File> {
    None
}

pub fn refuses_direct(_e: &io::Error) -> bool {
    false
}

/// Opens `path` for reading, and returns it with the metadata of what was opened. Windows
/// has no FIFOs that block an open; backup semantics let a folder (an unzipped bag) open
/// too, and the caller judges the type from the handle.
pub fn open_no_wait(path: &Path) -> io::Result<(File, Metadata)> {
    let file = open(path, 0)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// A new output file on Windows takes the access rules its folder passes down, which is
/// what the colleagues it is for rely on: nothing to set.
pub fn new_file_permissions<'a, 'b, 'c>(
    builder: &'c mut tempfile::Builder<'a, 'b>,
) -> &'c mut tempfile::Builder<'a, 'b> {
    builder
}
