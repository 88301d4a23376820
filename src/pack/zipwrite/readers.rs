//! The reader threads of the pack writer: they open each evidence file the safe way, check
//! it is the file that was assessed, and read it (small files prepared whole, in batches;
//! large ones in chunks from a shared pool of buffers).

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use sha2::{Digest, Sha256};

use super::*;
use crate::error::{Error, Result};
use crate::fsx::{Dir, FileId, Folders, OpenError, Opened};
use crate::pack::sink::Block;

/// The read buffers of large files, shared by readers and the writer: a fixed set that
/// circulates.
#[derive(Clone)]
pub(super) struct BufPool {
    tx: Sender<Block>,
    rx: Receiver<Block>,
    /// Buffers made so far, up to `size`. They are made when first needed: a pack of small
    /// files (read into each reader's own buffer) never needs them, and 27 of 256 KiB are
    /// a tenth of what a build of 200,000 files may use in all.
    made: Arc<AtomicUsize>,
    size: usize,
}

impl BufPool {
    /// A pool of at most `size` buffers, made as they are first needed.
    pub(super) fn new(tx: Sender<Block>, rx: Receiver<Block>, size: usize) -> BufPool {
        BufPool {
            tx,
            rx,
            made: Arc::new(AtomicUsize::new(0)),
            size,
        }
    }

    /// Waits for a free buffer; `None` once the build is stopping.
    pub(super) fn take(&self, stop: &AtomicBool, cancel: &AtomicBool) -> Option<Block> {
        if let Ok(b) = self.rx.try_recv() {
            return Some(b);
        }
        let room = |made: usize| (made < self.size).then_some(made + 1);
        if self
            .made
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, room)
            .is_ok()
        {
            return Some(Block::new(CHUNK, Home::Read));
        }
        loop {
            match self.rx.recv_timeout(std::time::Duration::from_millis(50)) {
                Ok(b) => return Some(b),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        return None;
                    }
                }
            }
        }
    }

    pub(super) fn give(&self, buf: Block) {
        let _ = self.tx.try_send(buf);
    }
}

/// Fills `buf` from `file` (fewer bytes only at the end of the file); returns the bytes
/// read.
pub(super) fn fill(file: &mut File, buf: &mut [u8], f: &PayloadFile<'_>) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(f.disk(), "cannot read evidence file", e)),
        }
    }
    Ok(filled)
}

/// What a reader thread needs: where to read, the shared buffers, when to stop.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    pub(super) root: &'a Dir,
    pub(super) files: PayloadFiles<'a>,
    pub(super) pool: &'a BufPool,
    pub(super) stop: &'a AtomicBool,
    pub(super) cancel: &'a AtomicBool,
}

/// What a reader keeps from file to file.
pub(super) struct ReaderState {
    scratch: Vec<u8>,
    deflate: Compress,
    folders: Folders,
}

impl Reader<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    /// Does the jobs it is handed until there are no more or the build stops.
    pub(super) fn run(&self, jobs: &Receiver<Job>) {
        let mut st = ReaderState {
            scratch: vec![0; CHUNK],
            deflate: deflater(),
            folders: Folders::new(self.root.clone()),
        };
        for job in jobs {
            if self.stopping() {
                break;
            }
            let first = job.files.start;
            let done = if self.files.get(first).is_some_and(|f| batchable(&f)) {
                self.read_batch(job.files, &mut st)
                    .map(|batch| batch.map(Msg::Batch))
            } else {
                self.read_streamed(first, &job.tx, &mut st)
                    .map(|done| done.map(Msg::Done))
            };
            match done {
                Ok(Some(msg)) => {
                    let _ = job.tx.send(msg);
                }
                Ok(None) => {} // the build is stopping; the writer says why
                Err(e) => {
                    let _ = job.tx.send(Msg::Failed(e));
                }
            }
        }
    }

    /// Prepares the entries of the small files `range`; `None` if the build stopped.
    fn read_batch(&self, range: Range<usize>, st: &mut ReaderState) -> Result<Option<Batch>> {
        let mut batch = Batch {
            data: Vec::new(),
            files: Vec::with_capacity(range.len()),
        };
        for index in range {
            if self.stopping() {
                return Ok(None);
            }
            let prepared = prepare(&self.files.file(index), st, &mut batch.data)?;
            batch.files.push(prepared);
        }
        Ok(Some(batch))
    }

    /// Sends a large file in read buffers from the shared pool; `None` when the writer
    /// stopped taking them.
    fn read_streamed(
        &self,
        index: usize,
        tx: &Sender<Msg>,
        st: &mut ReaderState,
    ) -> Result<Option<Streamed>> {
        let f = &self.files.file(index);
        let mut file = open_checked(&mut st.folders, f)?;
        // A stored file is hashed from the zip stream instead (see the module notes).
        let mut sha = (!hashed_from_stream(f)).then(Sha256::new);
        let mut crc = crc32fast::Hasher::new();
        let mut total = 0u64;
        while total < f.size() {
            let Some(mut buf) = self.pool.take(self.stop, self.cancel) else {
                return Ok(None);
            };
            let want = usize::try_from(f.size() - total).map_or(CHUNK, |left| left.min(CHUNK));
            let n = match fill(&mut file, &mut buf.room()[..want], f) {
                Ok(n) => n,
                Err(e) => {
                    self.pool.give(buf);
                    return Err(e);
                }
            };
            if n == 0 {
                self.pool.give(buf);
                break;
            }
            buf.set_len(n);
            total += n as u64;
            crc.update(buf.data());
            if let Some(sha) = sha.as_mut() {
                sha.update(buf.data());
            }
            if tx.send(Msg::Chunk(buf)).is_err() {
                return Ok(None);
            }
        }
        let digest = finish_file(&file, f, total, sha)?;
        Ok(Some(Streamed {
            crc32: crc.finalize(),
            digest,
        }))
    }
}

/// Reads a small file whole into `data`, deflated or stored, hashing it on the way (a
/// stored file's SHA-256 is taken from the stream instead, see the module notes).
pub(super) fn prepare(
    f: &PayloadFile<'_>,
    st: &mut ReaderState,
    data: &mut Vec<u8>,
) -> Result<Prepared> {
    let mut file = open_checked(&mut st.folders, f)?;
    let mut sha = (!hashed_from_stream(f)).then(Sha256::new);
    let mut crc = crc32fast::Hasher::new();
    let method = method_for(f);
    let start = data.len();
    let deflate = &mut st.deflate;
    if method == Method::Deflated {
        deflate.reset();
    }
    let compressed = |e| Error::io(f.disk(), "cannot compress evidence file", e);
    let total = read_all(&mut file, f, &mut st.scratch, |bytes| {
        crc.update(bytes);
        if let Some(sha) = sha.as_mut() {
            sha.update(bytes);
        }
        match method {
            Method::Stored => data.extend_from_slice(bytes),
            Method::Deflated => deflate_into(deflate, bytes, data, false).map_err(compressed)?,
        }
        Ok(())
    })?;
    if method == Method::Deflated {
        deflate_into(deflate, &[], data, true).map_err(compressed)?;
    }
    Ok(Prepared {
        crc32: crc.finalize(),
        len: data.len() - start,
        digest: finish_file(&file, f, total, sha)?,
    })
}

/// Opens an evidence file the safe way ([`Folders::open_path`]) and checks it is the file
/// that was assessed: same identity, size and time. Same path is not enough: a file
/// replaced (or swapped for a link, or a pipe) is refused.
pub(super) fn open_checked(folders: &mut Folders, f: &PayloadFile<'_>) -> Result<File> {
    let Opened { file, meta } = folders.open_path(f.rec.source()).map_err(|e| match e {
        OpenError::Link => changed(f, "it (or a folder above it) has been replaced by a link"),
        OpenError::NotRegular => changed(f, "it has been replaced by something that is not a file"),
        OpenError::Io(e) => match e.kind() {
            io::ErrorKind::NotFound => changed(f, "it has disappeared"),
            io::ErrorKind::PermissionDenied => Error::evidence(
                f.disk(),
                "cannot be read: permission denied",
                "ask the file's owner for read access, or move it out of the evidence folder",
            ),
            _ => Error::io(f.disk(), "cannot open evidence file", e),
        },
    })?;
    if FileId::of(&meta) != f.rec.identity {
        return Err(changed(f, "it has been replaced"));
    }
    if meta.len() != f.size() || (f.modified().is_some() && meta.modified().ok() != f.modified()) {
        return Err(changed(f, "it has changed"));
    }
    Ok(file)
}

/// Reads the file's assessed size through `scratch`, handing each piece to `each`; returns
/// the bytes read (fewer if it has shrunk). Whether it has grown is for [`finish_file`] to
/// say: reading on to the end would cost a second read call for every small file.
pub(super) fn read_all(
    file: &mut File,
    f: &PayloadFile<'_>,
    scratch: &mut [u8],
    mut each: impl FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let mut total = 0u64;
    while total < f.size() {
        let want =
            usize::try_from(f.size() - total).map_or(scratch.len(), |left| left.min(scratch.len()));
        let n = fill(file, &mut scratch[..want], f)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        each(&scratch[..n])?;
    }
    Ok(total)
}

/// Checks the file read is whole and unchanged: all of it read, and its size and time now
/// what they were when assessed. Returns its digest (empty for a file hashed from the
/// stream: filled in once the sink has it).
pub(super) fn finish_file(
    file: &File,
    f: &PayloadFile<'_>,
    total: u64,
    sha: Option<Sha256>,
) -> Result<FileDigest> {
    if total != f.size() {
        return Err(changed(f, "it has shrunk"));
    }
    let after = file
        .metadata()
        .map_err(|e| Error::io(f.disk(), "cannot read evidence file", e))?;
    if after.len() > f.size() {
        return Err(changed(f, "it has grown"));
    }
    if f.modified().is_some() && after.modified().ok() != f.modified() {
        return Err(changed(f, "it was modified while being packed"));
    }
    Ok(FileDigest {
        sha256: sha.map(|s| s.finalize().into()),
        size: total,
    })
}
