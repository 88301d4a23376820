//! The zip writer behind `evpack build`: one pass over each evidence file, both cores busy.
//!
//! Shape of the pipeline (all channels bounded, so memory is a small constant whatever the
//! file or pack size):
//!
//! ```text
//!  workers (one per core)          main thread                 sink threads
//!  read file in 256 KiB chunks -->  zip framing (zip crate) -->  hasher: SHA-256 of the whole
//!  size and identity checks         CRC-32, deflate if big        zip, and of each stored file
//!  text: SHA-256, small: deflate                                writer: the temp file
//! ```
//!
//! Workers take files in pack order but may run a few files ahead; the main thread drains
//! them strictly in order, so the zip is byte-for-byte reproducible. The zip is written as a
//! stream (data descriptors, no seeking back), which is what lets the sink hash the pack as
//! it is written instead of reading gigabytes back afterwards.
//!
//! A stored file's bytes lie unchanged in the zip stream, so the hasher takes its digest
//! from the same blocks as the pack's, the two SHA-256 streams interleaved on one core
//! ([`evpack_sha256x2`]): that is nearly twice as fast as hashing them apart, and hashing is
//! most of the work of a build. Deflated files are hashed by their worker before deflating.
//! Stored files of `ALIGNED_FROM` and more start on a page boundary of the zip, so the
//! chunks they are read into travel on to the sink threads and the disk as they are,
//! instead of being copied into the stream's blocks (`ChannelSink::offer`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use crossbeam_channel::{bounded, Receiver, Sender};
use sha2::{Digest, Sha256};
use zip::write::{SimpleFileOptions, StreamWriter, ZipFileBuilder};
use zip::{CompressionMethod, DateTime, System, ZipWriter};

use crate::error::{Error, Result};
use crate::fsx::{Dir, FileId, OpenError, Opened};
pub use crate::pack::sink::open_direct;
use crate::pack::sink::{self, Block, ChannelSink, Home, SinkError, SinkThreads, ToHash};
use crate::scan::FileRecord;

/// Reads from evidence files: large enough to keep syscalls few, small enough that the
/// read-ahead pool stays a few megabytes.
const CHUNK: usize = 256 << 10;
/// Files that workers may have in flight ahead of the one being written.
const LOOKAHEAD: usize = 4;
/// Chunks queued per file.
const PER_FILE_QUEUE: usize = 4;
/// Read buffers beyond what the readers need, so they can keep reading ahead while chunks of
/// stored files wait in the sink threads' queues (which carry them to the disk without a
/// copy). Not a limit: the queues can hold more, and readers then wait for the sink threads,
/// which wait for nothing, so the pipeline slows but never deadlocks.
const IN_SINK: usize = 8;
/// Stored files from this size start on a 4 KiB boundary of the zip (an alignment field in
/// the local header, up to about 4 KiB more per file, well under 2 per cent here), so their
/// chunks can go to the disk without being copied into the stream's blocks.
const ALIGNED_FROM: u64 = CHUNK as u64;
/// Compressible files up to this size are deflated by a worker, in memory, in parallel;
/// larger ones are deflated as a stream on the main thread.
const PREPARE_LIMIT: u64 = 1 << 20;

/// One evidence file to put in the pack: the scan's record of it, and where the pack and
/// the messages name it. Three borrows, not owned names: a pack of 200,000 files would
/// otherwise hold four copies of every path until the build ends.
#[derive(Debug, Clone, Copy)]
pub struct PayloadFile<'a> {
    /// The file assessed: its path, size, time and identity at scan time, which the file
    /// read must still match.
    pub rec: &'a FileRecord,
    /// The evidence folder as given (for messages).
    pub root: &'a Path,
    /// What goes before the path inside the zip: `<bag>/data/`.
    pub prefix: &'a str,
}

impl PayloadFile<'_> {
    /// Name inside the zip.
    pub fn name(&self) -> String {
        format!("{}{}", self.prefix, self.rec.rel)
    }

    /// Path as shown to users (relative to the evidence folder).
    pub fn shown(&self) -> &str {
        &self.rec.rel
    }

    /// Where it is read, as shown in messages.
    fn disk(&self) -> PathBuf {
        self.rec.disk_path(self.root)
    }

    fn size(&self) -> u64 {
        self.rec.size
    }

    fn modified(&self) -> Option<SystemTime> {
        self.rec.modified
    }
}

/// What was packed for one payload file.
#[derive(Debug, Clone)]
pub struct FileDigest {
    /// `None` only until a stored file's digest comes back from the hashing sink.
    pub sha256: Option<[u8; 32]>,
    pub size: u64,
}

/// Formats that are already compressed: deflating them costs time and saves nothing.
pub fn is_precompressed(name: &str) -> bool {
    const EXT: &[&str] = &[
        "pdf", "docx", "xlsx", "pptx", "docm", "xlsm", "pptm", "odt", "ods", "odp", "zip", "7z",
        "rar", "gz", "tgz", "bz2", "xz", "zst", "jpg", "jpeg", "png", "gif", "webp", "heic", "mp4",
        "m4v", "mov", "avi", "mkv", "mp3", "m4a", "aac", "ogg", "wma", "wmv", "msg",
    ];
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| EXT.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// How a payload file is stored in the zip.
fn method_for(f: &PayloadFile) -> CompressionMethod {
    if is_precompressed(f.shown()) {
        CompressionMethod::Stored
    } else {
        CompressionMethod::Deflated
    }
}

/// Whether the hashing sink takes this file's digest from the zip stream (a stored file's
/// bytes lie there unchanged) rather than its worker from the file (see the module notes).
fn hashed_from_stream(f: &PayloadFile) -> bool {
    f.size() > 0 && method_for(f) == CompressionMethod::Stored
}

/// Progress reporting, called from the main thread only.
pub trait Progress {
    /// Packing starts: `bytes` of evidence in `files` files.
    fn start(&self, bytes: u64, files: usize);
    fn bytes(&self, n: u64);
    fn file_done(&self);
    /// The payload is written (tag files may follow).
    fn finish(&self);
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64, _: usize) {}
    fn bytes(&self, _: u64) {}
    fn file_done(&self) {}
    fn finish(&self) {}
}

/// Passes bytes on and hashes them on the way.
struct HashingWriter<'w, W: Write> {
    inner: &'w mut W,
    sha: Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A tag file rendered and deflated in memory ahead of its place in the pack, so documents
/// can be rendered side by side on both cores (see [`prepare_tag`]).
pub struct PreparedTag {
    file: zip::write::PreparedZipFile,
    pub sha256: String,
}

/// Renders a tag file with `write` into a deflated entry held in memory (a document of a
/// pack of 20,000 files deflates to well under a megabyte).
pub fn prepare_tag(
    name: &str,
    mtime: DateTime,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<PreparedTag> {
    let opts = entry_options(mtime, CompressionMethod::Deflated, 0);
    let mut builder = ZipFileBuilder::new(name, opts).map_err(|e| Error::zip(name, e))?;
    let mut hashing = HashingWriter {
        inner: &mut builder,
        sha: Sha256::new(),
    };
    // Renderers write token by token; batching the pieces spares the hasher and the
    // deflater thousands of tiny calls.
    let mut buffered = io::BufWriter::with_capacity(64 << 10, &mut hashing);
    write(&mut buffered)?;
    buffered
        .into_inner()
        .map_err(|e| Error::io(name, "cannot prepare the pack entry", e.into_error()))?;
    let sha256 = crate::util::hex(&hashing.sha.finalize());
    let file = builder.finish().map_err(|e| Error::zip(name, e))?;
    Ok(PreparedTag { file, sha256 })
}

/// Writes a pack zip as a stream into `file`.
pub struct PackWriter<'a> {
    zip: ZipWriter<StreamWriter<ChannelSink>>,
    sink: SinkThreads,
    /// Readers, and the read buffers they share with the sink.
    workers: usize,
    pool: BufPool,
    mtime: DateTime,
    cancel: &'a AtomicBool,
    out_path: PathBuf,
}

impl<'a> PackWriter<'a> {
    /// `direct`, if given, is a second handle to the same file opened for direct I/O (see
    /// [`sink::open_direct`]).
    pub fn new(
        file: File,
        direct: Option<File>,
        out_path: PathBuf,
        mtime: DateTime,
        cancel: &'a AtomicBool,
    ) -> Result<PackWriter<'a>> {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        // A fixed pool of read buffers. It must exceed what the queues of the files after
        // the oldest can hold plus one per worker, so the oldest file's reader can always get
        // a buffer and the pipeline cannot deadlock; buffers passed on to the sink threads
        // come back as those threads (which wait for nothing else) get through them.
        let pool_size = LOOKAHEAD * PER_FILE_QUEUE + workers + 1 + IN_SINK;
        let (pool_tx, pool_rx) = bounded::<Block>(pool_size);
        for _ in 0..pool_size {
            let _ = pool_tx.send(Block::new(CHUNK, Home::Read));
        }
        let (channel, sink) = sink::start(file, direct, pool_tx.clone())
            .map_err(|e| Error::io(&out_path, "cannot start writing the pack", e))?;
        Ok(PackWriter {
            zip: ZipWriter::new_stream(channel),
            sink,
            workers,
            pool: BufPool {
                tx: pool_tx,
                rx: pool_rx,
            },
            mtime,
            cancel,
            out_path,
        })
    }

    fn options(&self, method: CompressionMethod, size: u64) -> SimpleFileOptions {
        entry_options(self.mtime, method, size)
    }

    /// The sink under the zip writer, reached past any open deflate stream (which a flush
    /// through the zip writer would disturb).
    fn channel(&self) -> Result<&ChannelSink> {
        self.zip
            .get_ref()
            .map(StreamWriter::get_ref)
            .ok_or_else(|| self.broken("the zip stream is closed"))
    }

    fn zip_err(&self, e: zip::result::ZipError) -> Error {
        Error::zip(&self.out_path, e)
    }

    fn io_err(&self, e: io::Error) -> Error {
        Error::io(&self.out_path, "cannot write the pack", e)
    }

    /// The pipeline broke down: a thread stopped or a channel closed early.
    fn broken(&self, reason: impl Into<String>) -> Error {
        Error::Pipeline {
            path: self.out_path.clone(),
            reason: reason.into(),
        }
    }

    /// Adds a tag file written by `write` straight into the zip; returns its SHA-256.
    /// Tag files (pack.json, index.html) grow with the number of evidence files, so they
    /// are streamed rather than built in memory.
    pub fn add_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<String> {
        let opts = self.options(CompressionMethod::Deflated, 0);
        self.zip
            .start_file(name, opts)
            .map_err(|e| self.zip_err(e))?;
        let mut hashing = HashingWriter {
            inner: &mut self.zip,
            sha: Sha256::new(),
        };
        // Renderers write token by token; batching the pieces spares the hasher and the
        // deflater thousands of tiny calls.
        let mut buffered = io::BufWriter::with_capacity(64 << 10, &mut hashing);
        write(&mut buffered)?;
        let written = buffered
            .into_inner()
            .map(|_| ())
            .map_err(|e| e.into_error());
        let sha = hashing.sha.finalize();
        written.map_err(|e| self.io_err(e))?;
        Ok(crate::util::hex(&sha))
    }

    /// Adds a tag file prepared by [`prepare_tag`]; returns its SHA-256.
    pub fn add_prepared(&mut self, tag: PreparedTag) -> Result<String> {
        self.zip
            .add_prepared_file(tag.file)
            .map_err(|e| self.zip_err(e))?;
        Ok(tag.sha256)
    }

    /// Adds evidence files in the given order, reading each once on a worker thread.
    pub fn add_files(
        &mut self,
        root: &Dir,
        files: &[PayloadFile<'_>],
        progress: &dyn Progress,
    ) -> Result<Vec<FileDigest>> {
        let (job_tx, job_rx) = bounded::<(usize, Sender<Msg>)>(LOOKAHEAD);
        let stop = AtomicBool::new(false);
        let mut digests = Vec::with_capacity(files.len());
        // The readers' share of the writer, copied out so the writer stays free to write.
        let (pool, mtime, cancel) = (self.pool.clone(), self.mtime, self.cancel);
        let result = std::thread::scope(|s| -> Result<()> {
            let reader = Reader {
                root,
                files,
                pool: &pool,
                mtime,
                stop: &stop,
                cancel,
            };
            let started = self.start_readers(s, reader, &job_rx);
            drop(job_rx);
            let mut pending = std::collections::VecDeque::new();
            let outcome = started.and_then(|()| {
                self.drain_in_order(files, &job_tx, &mut pending, &mut digests, progress)
            });
            if outcome.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            drop(job_tx);
            // Dropping the receivers unblocks workers waiting to send; workers waiting for a
            // buffer see `stop` and end, so the scope can end after an error too.
            drop(pending);
            outcome
        });
        result?;
        self.collect_stored_digests(files, &mut digests)?;
        Ok(digests)
    }

    /// Starts one reader per worker. A reader that cannot start is reported after the
    /// others are let go (returning at once would leave the scope waiting for them).
    fn start_readers<'s, 'e>(
        &self,
        s: &'s std::thread::Scope<'s, 'e>,
        reader: Reader<'e>,
        jobs: &Receiver<(usize, Sender<Msg>)>,
    ) -> Result<()> {
        for _ in 0..self.workers {
            let jobs = jobs.clone();
            let spawned = std::thread::Builder::new()
                .name("evpack-read".into())
                .spawn_scoped(s, move || reader.run(&jobs));
            if let Err(e) = spawned {
                return Err(self.broken(format!("cannot start a reader: {e}")));
            }
        }
        Ok(())
    }

    /// Hands files to the readers, keeping `LOOKAHEAD` in flight, and writes each one's
    /// entry strictly in order, so the zip is the same whichever reader finishes first.
    fn drain_in_order(
        &mut self,
        files: &[PayloadFile<'_>],
        jobs: &Sender<(usize, Sender<Msg>)>,
        pending: &mut std::collections::VecDeque<Receiver<Msg>>,
        digests: &mut Vec<FileDigest>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let mut next = 0;
        while next < files.len() || !pending.is_empty() {
            while next < files.len() && pending.len() < LOOKAHEAD {
                let (tx, rx) = bounded(PER_FILE_QUEUE);
                jobs.send((next, tx))
                    .map_err(|_| self.broken("a worker stopped"))?;
                pending.push_back(rx);
                next += 1;
            }
            let Some(rx) = pending.pop_front() else { break };
            let index = digests.len();
            let digest = self.drain_one(index, &files[index], &rx, progress)?;
            digests.push(digest);
            progress.file_done();
        }
        Ok(())
    }

    /// Fills in the digests of stored files, which the hashing sink takes from the stream.
    fn collect_stored_digests(
        &mut self,
        files: &[PayloadFile<'_>],
        digests: &mut [FileDigest],
    ) -> Result<()> {
        // The last stored bytes may still sit in the sink's part-filled block. It is sent
        // straight from the sink: a flush through the zip writer would also flush the last
        // file's deflate stream if it is still open.
        self.channel()?.send_part().map_err(|e| self.io_err(e))?;
        let expected = files.iter().filter(|f| hashed_from_stream(f)).count();
        for _ in 0..expected {
            let (index, sha) = self.sink.stored_digests.recv().map_err(|_| {
                self.broken("the hashing thread stopped before every file was hashed")
            })?;
            match digests.get_mut(index) {
                Some(d) if d.sha256.is_none() => d.sha256 = Some(sha),
                _ => return Err(self.broken(format!("unexpected digest for file {index}"))),
            }
        }
        // Every file has its digest now, or the BagIt manifest would hold an empty one.
        if let Some(f) = digests.iter().zip(files).find(|(d, _)| d.sha256.is_none()) {
            return Err(self.broken(format!("no digest for {}", f.1.shown())));
        }
        Ok(())
    }

    /// Writes one file's entry from its worker's messages.
    fn drain_one(
        &mut self,
        index: usize,
        f: &PayloadFile<'_>,
        rx: &Receiver<Msg>,
        progress: &dyn Progress,
    ) -> Result<FileDigest> {
        let mut started = false;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            let msg = rx
                .recv()
                .map_err(|_| self.broken(format!("the reader of {} stopped", f.shown())))?;
            match msg {
                Msg::Chunk(chunk) => {
                    if !started {
                        let opts = self.options(method_for(f), f.size());
                        self.zip
                            .start_file(f.name(), opts)
                            .map_err(|e| self.zip_err(e))?;
                        started = true;
                        if hashed_from_stream(f) {
                            // The header is written; the file's bytes come next, unchanged.
                            let start = self.sink.position.load(Ordering::Relaxed);
                            self.sink
                                .spans
                                .send(ToHash::Span {
                                    index,
                                    start,
                                    len: f.size(),
                                })
                                .map_err(|_| self.broken("the hashing thread stopped"))?;
                        }
                    }
                    let chunk = Arc::new(chunk);
                    if aligned_entry(method_for(f), f.size()) {
                        // The entry's data starts on a page boundary: the chunk can travel
                        // on as it is (see ChannelSink::offer).
                        self.channel()?
                            .offer(Arc::clone(&chunk))
                            .map_err(|e| self.io_err(e))?;
                    }
                    self.zip
                        .write_all(chunk.data())
                        .map_err(|e| self.io_err(e))?;
                    progress.bytes(chunk.data().len() as u64);
                    // Back to the pool now, or once the sink threads are done with it.
                    if let Some(mut b) = Arc::into_inner(chunk) {
                        b.set_len(0);
                        self.pool.give(b);
                    }
                }
                Msg::Prepared(prepared, digest) => {
                    self.zip
                        .add_prepared_file(*prepared)
                        .map_err(|e| self.zip_err(e))?;
                    progress.bytes(digest.size);
                    return Ok(digest);
                }
                Msg::Done(digest) => {
                    if !started {
                        // An empty file sends no chunk.
                        let opts = self.options(CompressionMethod::Stored, 0);
                        self.zip
                            .start_file(f.name(), opts)
                            .map_err(|e| self.zip_err(e))?;
                    }
                    return Ok(digest);
                }
                Msg::Failed(e) => return Err(e),
            }
        }
    }

    /// Finishes the zip; returns the file (flushed, not yet synced) and the pack's SHA-256.
    pub fn finish(self) -> Result<(File, [u8; 32])> {
        let PackWriter {
            zip,
            sink,
            out_path,
            ..
        } = self;
        let channel = zip
            .finish()
            .map_err(|e| Error::zip(&out_path, e))?
            .into_inner();
        match sink.finish(channel) {
            Ok(done) => Ok(done),
            Err(SinkError::Io(e)) => Err(Error::io(&out_path, "cannot write the pack", e)),
            Err(SinkError::Thread(reason)) => Err(Error::Pipeline {
                path: out_path,
                reason,
            }),
        }
    }
}

/// Fixed attributes for every entry, so the same input gives the same bytes.
fn entry_options(mtime: DateTime, method: CompressionMethod, size: u64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(if method == CompressionMethod::Deflated {
            // Fast deflate: text evidence is small and the build runs the night before a
            // visit; a few per cent of pack size is not worth the minutes.
            Some(1)
        } else {
            None
        })
        .last_modified_time(mtime)
        .unix_permissions(0o644)
        .system(System::Unix)
        // Chosen from the worst case: a file just under 4 GiB that does not compress grows
        // a little when deflated, and the zip library cannot switch to Zip64 mid-entry.
        .large_file(worst_case_size(method, size) >= u64::from(u32::MAX))
        .with_alignment(if aligned_entry(method, size) {
            // Direct I/O's granularity: see ALIGNED_FROM.
            4096
        } else {
            1
        })
}

/// The most bytes an entry of `size` can take in the zip. The fast deflate level used here
/// codes data that does not compress with fixed Huffman codes of at most 9 bits a byte
/// (measured: 5.5 per cent larger on random bytes), so an eighth more, plus room for block
/// headers and the stream's end, is a bound.
fn worst_case_size(method: CompressionMethod, size: u64) -> u64 {
    match method {
        CompressionMethod::Stored => size,
        _ => size + (size >> 3) + 1024,
    }
}

/// Whether an entry's data starts on a 4 KiB boundary of the zip (see [`ALIGNED_FROM`]).
fn aligned_entry(method: CompressionMethod, size: u64) -> bool {
    method == CompressionMethod::Stored && size >= ALIGNED_FROM
}

enum Msg {
    /// A read buffer holding the file's next bytes. Buffers circulate, so they are never
    /// zeroed again.
    Chunk(Block),
    Prepared(Box<zip::write::PreparedZipFile>, FileDigest),
    Done(FileDigest),
    Failed(Error),
}

fn changed(f: &PayloadFile<'_>, what: &str) -> Error {
    Error::evidence(
        f.disk(),
        format!("{what} since the evidence was assessed"),
        "the pack would not match the assessment; wait until nobody is editing the evidence folder, then build again",
    )
}

/// The read buffers shared by workers and the writer: a fixed set that circulates.
#[derive(Clone)]
struct BufPool {
    tx: Sender<Block>,
    rx: Receiver<Block>,
}

impl BufPool {
    /// Waits for a free buffer; `None` once the build is stopping.
    fn take(&self, stop: &AtomicBool, cancel: &AtomicBool) -> Option<Block> {
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

    fn give(&self, buf: Block) {
        let _ = self.tx.try_send(buf);
    }
}

/// Fills `buf` (CHUNK long) from `file`; returns the bytes read (0 at the end).
fn fill(file: &mut File, buf: &mut [u8], f: &PayloadFile<'_>) -> Result<usize> {
    let mut filled = 0;
    while filled < CHUNK {
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
struct Reader<'a> {
    root: &'a Dir,
    files: &'a [PayloadFile<'a>],
    pool: &'a BufPool,
    mtime: DateTime,
    stop: &'a AtomicBool,
    cancel: &'a AtomicBool,
}

impl Reader<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    /// Reads the files it is handed until there are no more or the build stops.
    fn run(&self, jobs: &Receiver<(usize, Sender<Msg>)>) {
        let mut scratch = vec![0; CHUNK];
        for (index, tx) in jobs {
            if self.stopping() {
                break;
            }
            if let Err(e) = self.read_file(&self.files[index], &tx, &mut scratch) {
                let _ = tx.send(Msg::Failed(e));
            }
        }
    }

    /// Reads one evidence file, hashing it, and streams it (or its deflated form) to `tx`.
    /// Small compressible files are deflated here, in `scratch`, so deflate runs on every
    /// core.
    fn read_file(&self, f: &PayloadFile<'_>, tx: &Sender<Msg>, scratch: &mut [u8]) -> Result<()> {
        let mut file = open_checked(self.root, f)?;
        // A stored file is hashed from the zip stream instead (see the module notes).
        let mut sha = (!hashed_from_stream(f)).then(Sha256::new);
        let method = method_for(f);
        let msg = if method == CompressionMethod::Deflated && f.size() <= PREPARE_LIMIT {
            let opts = entry_options(self.mtime, method, f.size());
            let mut b = ZipFileBuilder::new(f.name(), opts).map_err(|e| Error::zip(f.disk(), e))?;
            let total = read_all(&mut file, f, scratch, |bytes| {
                if let Some(sha) = sha.as_mut() {
                    sha.update(bytes);
                }
                b.write_all(bytes)
                    .map_err(|e| Error::io(f.disk(), "cannot compress evidence file", e))
            })?;
            let digest = finish_file(&file, f, total, sha)?;
            let prepared = b.finish().map_err(|e| Error::zip(f.disk(), e))?;
            Msg::Prepared(Box::new(prepared), digest)
        } else {
            let Some(total) = self.stream(&mut file, f, tx, sha.as_mut())? else {
                return Ok(()); // the writer stopped; it reports why
            };
            Msg::Done(finish_file(&file, f, total, sha)?)
        };
        let _ = tx.send(msg);
        Ok(())
    }

    /// Sends the file in read buffers from the shared pool; `None` when the writer stopped
    /// taking them.
    fn stream(
        &self,
        file: &mut File,
        f: &PayloadFile<'_>,
        tx: &Sender<Msg>,
        mut sha: Option<&mut Sha256>,
    ) -> Result<Option<u64>> {
        let mut total = 0u64;
        loop {
            let Some(mut buf) = self.pool.take(self.stop, self.cancel) else {
                return Ok(None);
            };
            let n = fill(file, buf.room(), f)?;
            if n == 0 {
                self.pool.give(buf);
                return Ok(Some(total));
            }
            buf.set_len(n);
            total = grown(f, total, n)?;
            if let Some(sha) = sha.as_deref_mut() {
                sha.update(buf.data());
            }
            if tx.send(Msg::Chunk(buf)).is_err() {
                return Ok(None);
            }
            if n < CHUNK {
                return Ok(Some(total));
            }
        }
    }
}

/// Opens an evidence file the safe way ([`Dir::open_path`]) and checks it is the file that
/// was assessed: same identity, size and time. Same path is not enough: a file replaced
/// (or swapped for a link, or a pipe) is refused.
fn open_checked(root: &Dir, f: &PayloadFile<'_>) -> Result<File> {
    let Opened { file, meta } = root.open_path(f.rec.source()).map_err(|e| match e {
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

/// Reads the whole file through `scratch`, handing each piece to `each`; returns the size.
fn read_all(
    file: &mut File,
    f: &PayloadFile<'_>,
    scratch: &mut [u8],
    mut each: impl FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let mut total = 0u64;
    loop {
        let n = fill(file, scratch, f)?;
        if n == 0 {
            return Ok(total);
        }
        total = grown(f, total, n)?;
        each(&scratch[..n])?;
    }
}

/// `total + n`, refusing a file that has grown past its assessed size.
fn grown(f: &PayloadFile<'_>, total: u64, n: usize) -> Result<u64> {
    let total = total + n as u64;
    if total > f.size() {
        return Err(changed(f, "it has grown"));
    }
    Ok(total)
}

/// Checks the file read is whole and unchanged; returns its digest (empty for a file
/// hashed from the stream: filled in once the sink has it).
fn finish_file(
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
    if f.modified().is_some() && after.modified().ok() != f.modified() {
        return Err(changed(f, "it was modified while being packed"));
    }
    Ok(FileDigest {
        sha256: sha.map(|s| s.finalize().into()),
        size: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip64_is_chosen_from_the_worst_case() {
        let limit = u64::from(u32::MAX);
        let under = limit - 1000;
        assert!(worst_case_size(CompressionMethod::Stored, under) < limit);
        assert!(worst_case_size(CompressionMethod::Deflated, under) >= limit);
        // Deflate's real output on data that does not compress stays within the bound.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(1));
        z.write_all(&noise).expect("deflate");
        let out = z.finish().expect("deflate");
        assert!(out.len() > noise.len(), "the data should not compress");
        assert!(
            out.len() as u64 <= worst_case_size(CompressionMethod::Deflated, noise.len() as u64)
        );
    }
}
