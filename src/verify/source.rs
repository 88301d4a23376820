//! Positional reads over a pack zip.
//!
//! The verifier reads entries on several threads at once, each at its own offset, so it
//! reads by position (`pread`) rather than through one shared cursor: a file is shared by
//! reference and no thread ever seeks. A byte slice (tests, the fuzz target) and any
//! `Read + Seek` (behind a lock) offer the same interface.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Mutex;

use crate::zipfmt::ReadAt;

/// Something that can be read at any offset from several threads: the zip format's
/// positional reads, shared between threads.
pub trait Source: ReadAt + Sync {}

impl<T: ReadAt + Sync> Source for T {}

/// A file on disk; `len` is taken once at open, so a file that grows while it is verified
/// is read as it was.
pub struct FileSource {
    file: std::fs::File,
    len: u64,
}

impl FileSource {
    pub fn new(file: std::fs::File) -> io::Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let room = usize::try_from(self.len - offset).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        crate::fsx::read_at(&self.file, &mut buf[..want], offset)
    }
}

/// Opens a pack (or the folder of an unzipped one) without waiting on a FIFO or device;
/// the caller judges the type from the metadata of the open handle.
pub use crate::fsx::open_no_wait;

/// A zip held in memory.
pub struct ByteSource<'a>(pub &'a [u8]);

impl ReadAt for ByteSource<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        if start >= self.0.len() {
            return Ok(0);
        }
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }
}

/// Any `Read + Seek`, behind a lock: correct but serial, for callers that only have a
/// stream (the library entry point); the CLI uses [`FileSource`].
pub struct SeekSource<R> {
    inner: Mutex<R>,
    len: u64,
}

impl<R: Read + Seek + Send> SeekSource<R> {
    pub fn new(mut inner: R) -> io::Result<SeekSource<R>> {
        let len = inner.seek(SeekFrom::End(0))?;
        Ok(SeekSource {
            inner: Mutex::new(inner),
            len,
        })
    }
}

impl<R: Read + Seek + Send> ReadAt for SeekSource<R> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| io::Error::other("reader lock poisoned"))?;
        inner.seek(SeekFrom::Start(offset))?;
        let room = usize::try_from(self.len - offset).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        inner.read(&mut buf[..want])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zipfmt::read_exact_at;

    #[test]
    fn slices_and_streams_read_the_same() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let seek = SeekSource::new(io::Cursor::new(data.clone())).expect("cursor");
        for src in [&ByteSource(&data) as &dyn Source, &seek] {
            let mut buf = [0u8; 10];
            read_exact_at(src, &mut buf, 995).unwrap_err();
            read_exact_at(src, &mut buf, 990).expect("in range");
            assert_eq!(&buf[..], &data[990..]);
            assert_eq!(src.read_at(&mut buf, 5000).expect("past end"), 0);
        }
    }
}
