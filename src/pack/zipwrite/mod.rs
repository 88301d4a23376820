//! The zip writer behind `evpack build`: one pass over each evidence file, both cores busy.
//!
//! Shape of the pipeline (all channels bounded, so memory is a small constant whatever the
//! file or pack size, plus 40 bytes a file for the central directory):
//!
//! ```text
//!  readers (one per core)            main thread                    sink threads
//!  small files, up to 64 a batch:    zip framing (ZipStream):  -->   hasher: SHA-256 of the
//!   read, SHA-256, CRC-32, deflate    local headers, batches as       whole zip, and of each
//!   into one buffer            -->    they come, deflate of large     stored file
//!  large files: 256 KiB chunks -->    files, central directory       writer: the temp file
//!   (CRC-32; SHA-256 if deflated)
//!  size and identity checks          tag files: rendered here while
//!                                     a helper deflates them
//! ```
//!
//! Readers take jobs in pack order but may run a few ahead; the main thread drains them
//! strictly in order, so the zip is byte-for-byte reproducible. Small files travel in
//! batches, one message for up to 64 files, because with files of a few kilobytes the cost
//! is per file, not per byte: a channel, a wake-up and an allocation per file cost more
//! than deflating it. The zip is written as a stream (no seeking back), which is what lets
//! the sink hash the pack as it is written instead of reading gigabytes back afterwards:
//! entries prepared by a reader carry their CRC-32 and sizes in the local header, streamed
//! ones in a data descriptor after their data. The framing is [`crate::zipfmt::ZipStream`],
//! which keeps 40 bytes per entry and asks for the names again (from the payload list this
//! writer borrows) when it writes the central directory.
//!
//! A stored file's bytes lie unchanged in the zip stream, so the hasher takes its digest
//! from the same blocks as the pack's, the two SHA-256 streams interleaved on one core
//! ([`evpack_sha256x2`]): that is nearly twice as fast as hashing them apart, and hashing is
//! most of the work of a build. Deflated files are hashed by their reader before deflating.
//! Stored files of `ALIGNED_FROM` and more start on a page boundary of the zip, so the
//! chunks they are read into travel on to the sink threads and the disk as they are,
//! instead of being copied into the stream's blocks (`ChannelSink::offer`).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use crossbeam_channel::{bounded, Receiver, Sender};
use flate2::Compress;

use crate::error::{Error, Result};
use crate::fsx::Dir;
pub use crate::pack::sink::open_direct;
use crate::pack::sink::{self, Block, ChannelSink, Home, SinkError, SinkThreads, ToHash};
use crate::scan::FileRecord;
use crate::util::Sha256Hex;
use crate::zipfmt::{DosTime, EntryName, Layout, Method, Sizes, ZipStream};

/// Reads from evidence files: large enough to keep syscalls few, small enough that the
/// read-ahead pool stays a few megabytes.
const CHUNK: usize = 256 << 10;
/// Jobs (a batch of small files, or one large file) that readers may have in flight ahead
/// of the one being written.
const LOOKAHEAD: usize = 4;
/// Chunks queued per large file.
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
/// Direct I/O's granularity: see [`ALIGNED_FROM`].
const DIRECT_ALIGN: u16 = 4096;
/// Compressible files up to this size are deflated by a reader, in memory, in parallel;
/// larger ones are deflated as a stream on the main thread.
const PREPARE_LIMIT: u64 = 1 << 20;
/// A batch of small files ends at this many files, or once it holds this many bytes (read;
/// deflated, they take less): enough to make the per-message cost vanish, few enough that
/// both readers stay busy and the batches in flight stay a few megabytes.
const BATCH_FILES: usize = 64;
const BATCH_BYTES: u64 = 512 << 10;
/// Payload entries are keyed by their index in the payload; tag files by their index in
/// the writer's own list, with this bit set.
const TAG_KEY: u32 = 1 << 31;

/// The evidence files to put in the pack, in pack order: the scan's records of them, and
/// where the pack and the messages name them. One borrow a file, not owned names (a pack
/// of 200,000 files would otherwise hold more copies of every path until the build ends),
/// and the folder and prefix, the same for every file, once.
#[derive(Debug, Clone, Copy)]
pub struct PayloadFiles<'a> {
    /// The files assessed: path, size, time and identity at scan time, which each file
    /// read must still match.
    pub records: &'a [&'a FileRecord],
    /// The evidence folder as given (for messages).
    pub root: &'a Path,
    /// What goes before each path inside the zip: `<bag>/data/`.
    pub prefix: &'a str,
}

impl<'a> PayloadFiles<'a> {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn get(&self, index: usize) -> Option<PayloadFile<'a>> {
        let rec = self.records.get(index)?;
        Some(PayloadFile {
            rec,
            root: self.root,
            prefix: self.prefix,
        })
    }

    /// File `index`, which the caller knows is in the list.
    fn file(&self, index: usize) -> PayloadFile<'a> {
        PayloadFile {
            rec: self.records[index],
            root: self.root,
            prefix: self.prefix,
        }
    }

    fn iter(&self) -> impl Iterator<Item = PayloadFile<'a>> + '_ {
        (0..self.len()).map(|i| self.file(i))
    }
}

/// One payload file as the writer sees it.
#[derive(Debug, Clone, Copy)]
struct PayloadFile<'a> {
    rec: &'a FileRecord,
    root: &'a Path,
    prefix: &'a str,
}

impl PayloadFile<'_> {
    /// Path as shown to users (relative to the evidence folder).
    fn shown(&self) -> &str {
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

/// What a reader found of one payload file.
#[derive(Debug, Clone)]
struct FileDigest {
    /// `None` for a file hashed from the zip stream (by the hashing sink).
    sha256: Option<[u8; 32]>,
    size: u64,
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
fn method_for(f: &PayloadFile) -> Method {
    if is_precompressed(f.shown()) {
        Method::Stored
    } else {
        Method::Deflated
    }
}

/// Whether the hashing sink takes this file's digest from the zip stream (a stored file's
/// bytes lie there unchanged) rather than its reader from the file (see the module notes).
fn hashed_from_stream(f: &PayloadFile) -> bool {
    f.size() > 0 && method_for(f) == Method::Stored
}

/// Whether a reader prepares the file's whole entry in memory, in a batch: small files,
/// except stored ones large enough to go to the disk from their read buffers.
fn batchable(f: &PayloadFile) -> bool {
    f.size() <= PREPARE_LIMIT && !aligned_entry(method_for(f), f.size())
}

/// Where the job starting at file `start` ends: the run of small files after it (up to
/// `BATCH_FILES` files or `BATCH_BYTES`), or the one large file.
fn job_end(files: PayloadFiles<'_>, start: usize) -> usize {
    let mut end = start + 1;
    if let Some(first) = files.get(start).filter(batchable) {
        let mut bytes = first.size();
        while let Some(next) = files.get(end).filter(batchable) {
            if end - start >= BATCH_FILES || bytes >= BATCH_BYTES {
                break;
            }
            bytes += next.size();
            end += 1;
        }
    }
    end
}

/// The most bytes an entry of `size` can take in the zip. The fast deflate level used here
/// codes data that does not compress with fixed Huffman codes of at most 9 bits a byte
/// (measured: 5.5 per cent larger on random bytes), so an eighth more, plus room for block
/// headers and the stream's end, is a bound.
fn worst_case_size(method: Method, size: u64) -> u64 {
    match method {
        Method::Stored => size,
        Method::Deflated => size + (size >> 3) + 1024,
    }
}

/// Whether an entry's data starts on a 4 KiB boundary of the zip (see [`ALIGNED_FROM`]).
fn aligned_entry(method: Method, size: u64) -> bool {
    method == Method::Stored && size >= ALIGNED_FROM
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

mod deflate;
mod readers;

use deflate::*;
pub use deflate::{prepare_tag, PreparedTag};
use readers::*;

/// Writes a pack zip as a stream into `file`.
pub struct PackWriter<'a> {
    zip: ZipStream<ChannelSink>,
    sink: SinkThreads,
    /// Readers, and the read buffers they share with the sink.
    workers: usize,
    pool: BufPool,
    /// The main thread's deflater (tag files, large files), and its output.
    deflate: Compress,
    deflated: Vec<u8>,
    /// The payload, once added: where the central directory finds its names.
    payload: PayloadFiles<'a>,
    /// Names of the tag files, in the order they were added.
    tag_names: Vec<String>,
    cancel: &'a AtomicBool,
    out_path: PathBuf,
}

impl<'a> PackWriter<'a> {
    /// `direct`, if given, is a second handle to the same file opened for direct I/O (see
    /// [`sink::open_direct`]). Every entry gets the timestamp `mtime`.
    pub fn new(
        file: File,
        direct: Option<File>,
        out_path: PathBuf,
        mtime: DosTime,
        cancel: &'a AtomicBool,
    ) -> Result<PackWriter<'a>> {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        // A fixed pool of read buffers (made as first needed). It must exceed what the queues
        // of the files after the oldest can hold plus one per worker, so the oldest file's
        // reader can always get a buffer and the pipeline cannot deadlock; buffers passed on
        // to the sink threads come back as those threads (which wait for nothing else) get
        // through them.
        let pool_size = LOOKAHEAD * PER_FILE_QUEUE + workers + 1 + IN_SINK;
        let (pool_tx, pool_rx) = bounded::<Block>(pool_size);
        let (channel, sink) = sink::start(file, direct, pool_tx.clone())
            .map_err(|e| Error::io(&out_path, "cannot start writing the pack", e))?;
        Ok(PackWriter {
            zip: ZipStream::new(channel, mtime),
            sink,
            workers,
            pool: BufPool::new(pool_tx, pool_rx, pool_size),
            deflate: deflater(),
            deflated: Vec::new(),
            payload: PayloadFiles {
                records: &[],
                root: Path::new(""),
                prefix: "",
            },
            tag_names: Vec::new(),
            cancel,
            out_path,
        })
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

    /// Remembers a tag file's name for the central directory; returns its key.
    fn tag_key(&mut self, name: &str) -> u32 {
        let key = TAG_KEY | self.tag_names.len() as u32;
        self.tag_names.push(name.to_string());
        key
    }

    /// Adds a tag file written by `write` straight into the zip; returns its SHA-256.
    /// Tag files (pack.json, index.html) grow with the number of evidence files, so they
    /// are streamed rather than built in memory.
    pub fn add_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<String> {
        let key = self.tag_key(name);
        let entry = EntryName {
            key,
            prefix: "",
            rest: name,
        };
        // A tag file passing 4 GiB would take millions of evidence files, more than a pack
        // may hold; the writer refuses one rather than write it wrong.
        let layout = Layout::Streamed { zip64: false };
        self.zip
            .start(entry, Method::Deflated, layout, 1)
            .map_err(|e| self.io_err(e))?;
        let (crc32, size, sha) = self.deflate_beside(write)?;
        self.zip.end(crc32, size).map_err(|e| self.io_err(e))?;
        Ok(crate::util::hex(&sha))
    }

    /// Runs the renderer `write` here while another thread hashes and deflates what it
    /// writes into the open entry: the readers are done by the time tag files are written,
    /// so a core is free, and the largest tag files (pack.json is 160 MB at 200,000 files)
    /// then cost the longer of rendering and deflating rather than both. Returns the CRC-32,
    /// size and SHA-256 of what was written.
    fn deflate_beside(
        &mut self,
        write: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<(u32, u64, [u8; 32])> {
        let (full_tx, full_rx) = bounded::<Vec<u8>>(TAG_PIECES);
        let (empty_tx, empty_rx) = bounded::<Vec<u8>>(TAG_PIECES + 1);
        let out = Deflating::new(&mut self.deflate, &mut self.deflated, Some(&mut self.zip));
        let (rendered, deflated) = std::thread::scope(|s| {
            let helper = std::thread::Builder::new()
                .name("evpack-deflate".into())
                .spawn_scoped(s, move || deflate_pieces(out, &full_rx, &empty_tx));
            let helper = match helper {
                Ok(helper) => helper,
                Err(e) => return (Ok(Ok(())), Err(Some(e))),
            };
            let mut pieces = Pieces::new(full_tx, empty_rx);
            let rendered = write(&mut pieces).map(|()| pieces.send_rest());
            drop(pieces);
            let deflated = helper.join().map_err(|_| None);
            (rendered, deflated.and_then(|done| done.map_err(Some)))
        });
        // The deflating side's failure (a full disk, say) is the cause of any the renderer
        // met writing to it, so it is the one reported.
        match deflated {
            Err(Some(e)) => Err(self.io_err(e)),
            Err(None) => Err(self.broken("the deflating thread failed")),
            Ok(done) => {
                rendered?.map_err(|e| self.io_err(e))?;
                Ok(done)
            }
        }
    }

    /// Adds a tag file prepared by [`prepare_tag`]; returns its SHA-256.
    pub fn add_prepared(&mut self, tag: PreparedTag) -> Result<String> {
        let key = self.tag_key(&tag.name);
        let entry = EntryName {
            key,
            prefix: "",
            rest: &tag.name,
        };
        self.zip
            .add(entry, Method::Deflated, tag.crc32, tag.size, &tag.deflated)
            .map_err(|e| self.io_err(e))?;
        Ok(tag.sha256)
    }

    /// Adds evidence files in the given order, reading each once on a reader thread;
    /// returns their SHA-256 digests, in the same order. The list is borrowed until the zip
    /// is finished: the central directory takes the names from it. Call once.
    pub fn add_files(
        &mut self,
        root: &Dir,
        files: PayloadFiles<'a>,
        progress: &dyn Progress,
    ) -> Result<Vec<Sha256Hex>> {
        if self.payload.len() > 0 || files.len() >= TAG_KEY as usize {
            return Err(Error::Internal(format!(
                "a payload of {} files added to a pack of {} files",
                files.len(),
                self.payload.len()
            )));
        }
        self.payload = files;
        // Room for the tag files after the payload too (a handful): one more entry than
        // reserved would double the list.
        self.zip.reserve(files.len() + 16);
        let (job_tx, job_rx) = bounded::<Job>(LOOKAHEAD);
        let stop = AtomicBool::new(false);
        let mut digests = Vec::with_capacity(files.len());
        // The readers' share of the writer, copied out so the writer stays free to write.
        let (pool, cancel) = (self.pool.clone(), self.cancel);
        let result = std::thread::scope(|s| -> Result<()> {
            let reader = Reader {
                root,
                files,
                pool: &pool,
                stop: &stop,
                cancel,
            };
            let started = self.start_readers(s, reader, &job_rx);
            drop(job_rx);
            let mut pending = VecDeque::new();
            let outcome = started
                .and_then(|()| self.drain_in_order(&job_tx, &mut pending, &mut digests, progress));
            if outcome.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            drop(job_tx);
            // Dropping the receivers unblocks readers waiting to send; readers waiting for a
            // buffer see `stop` and end, so the scope can end after an error too.
            drop(pending);
            outcome
        });
        result?;
        self.collect_stored_digests(&mut digests)?;
        Ok(digests)
    }

    /// Starts one reader per worker. A reader that cannot start is reported after the
    /// others are let go (returning at once would leave the scope waiting for them).
    fn start_readers<'s, 'e>(
        &self,
        s: &'s std::thread::Scope<'s, 'e>,
        reader: Reader<'e>,
        jobs: &Receiver<Job>,
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

    /// Hands jobs to the readers, keeping `LOOKAHEAD` in flight, and writes each one's
    /// entries strictly in order, so the zip is the same whichever reader finishes first.
    fn drain_in_order(
        &mut self,
        jobs: &Sender<Job>,
        pending: &mut VecDeque<(Range<usize>, Receiver<Msg>)>,
        digests: &mut Vec<Sha256Hex>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let files = self.payload;
        let mut next = 0;
        loop {
            while next < files.len() && pending.len() < LOOKAHEAD {
                let end = job_end(files, next);
                let (tx, rx) = bounded(PER_FILE_QUEUE);
                jobs.send(Job {
                    files: next..end,
                    tx,
                })
                .map_err(|_| self.broken("a reader stopped"))?;
                pending.push_back((next..end, rx));
                next = end;
            }
            let Some((range, rx)) = pending.pop_front() else {
                return Ok(());
            };
            if batchable(&files.file(range.start)) {
                let Msg::Batch(batch) = self.recv(&rx, range.start)? else {
                    return Err(self.broken("a reader sent a file where a batch was due"));
                };
                self.write_batch(range, batch, digests, progress)?;
            } else {
                let digest = self.write_streamed(range.start, &rx, progress)?;
                digests.push(pending_or(digest));
                progress.file_done();
            }
        }
    }

    /// The next message about file `index`; a failure the reader sent is returned as the
    /// error.
    fn recv(&self, rx: &Receiver<Msg>, index: usize) -> Result<Msg> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        match rx.recv() {
            Ok(Msg::Failed(e)) => Err(e),
            Ok(msg) => Ok(msg),
            // A reader stops without a word when the build is cancelled.
            Err(_) if self.cancel.load(Ordering::Relaxed) => Err(Error::Interrupted),
            Err(_) => Err(self.broken(format!(
                "the reader of {} stopped",
                self.payload.records.get(index).map_or("a file", |r| &r.rel)
            ))),
        }
    }

    fn payload_name(&self, index: usize) -> EntryName<'a> {
        let f = self.payload.file(index);
        EntryName {
            // Below TAG_KEY: checked in `add_files`.
            key: index as u32,
            prefix: f.prefix,
            rest: &f.rec.rel,
        }
    }

    /// Tells the hasher that payload file `index` is stored at `start..start + len` of the
    /// zip. Sent before the block holding its first byte, since that is written after.
    fn span(&self, index: usize, start: u64, len: u64) -> Result<()> {
        self.sink
            .spans
            .send(ToHash::Span { index, start, len })
            .map_err(|_| self.broken("the hashing thread stopped"))
    }

    /// Writes the entries a reader prepared for the files `range`.
    fn write_batch(
        &mut self,
        range: Range<usize>,
        batch: Batch,
        digests: &mut Vec<Sha256Hex>,
        progress: &dyn Progress,
    ) -> Result<()> {
        if batch.files.len() != range.len() {
            return Err(self.broken("a reader prepared a batch short"));
        }
        let mut at = 0;
        for (index, p) in range.zip(batch.files) {
            let f = self.payload.file(index);
            let Some(data) = batch.data.get(at..at + p.len) else {
                return Err(self.broken("a reader prepared a batch short"));
            };
            at += p.len;
            let sizes = Sizes {
                crc32: p.crc32,
                size: p.digest.size,
                compressed_size: data.len() as u64,
            };
            let name = self.payload_name(index);
            let start = self
                .zip
                .start(name, method_for(&f), Layout::Known(sizes), 1)
                .map_err(|e| self.io_err(e))?;
            if hashed_from_stream(&f) {
                self.span(index, start, f.size())?;
            }
            self.zip
                .write_data(data)
                .and_then(|()| self.zip.end(p.crc32, p.digest.size))
                .map_err(|e| self.io_err(e))?;
            progress.bytes(p.digest.size);
            digests.push(pending_or(p.digest));
            progress.file_done();
        }
        Ok(())
    }

    /// Writes one large file's entry from its reader's chunks: stored as they come, or
    /// deflated here; its CRC-32 and sizes go in a data descriptor after it.
    fn write_streamed(
        &mut self,
        index: usize,
        rx: &Receiver<Msg>,
        progress: &dyn Progress,
    ) -> Result<FileDigest> {
        let f = self.payload.file(index);
        let method = method_for(&f);
        // Chosen from the worst case: a file just under 4 GiB that does not compress grows
        // a little when deflated, and the descriptor's field widths are fixed by the header.
        let zip64 = worst_case_size(method, f.size()) >= u64::from(u32::MAX);
        let aligned = aligned_entry(method, f.size());
        let align = if aligned { DIRECT_ALIGN } else { 1 };
        let start = self
            .zip
            .start(
                self.payload_name(index),
                method,
                Layout::Streamed { zip64 },
                align,
            )
            .map_err(|e| self.io_err(e))?;
        if hashed_from_stream(&f) {
            self.span(index, start, f.size())?;
        }
        if method == Method::Deflated {
            self.deflate.reset();
        }
        loop {
            match self.recv(rx, index)? {
                Msg::Chunk(chunk) => {
                    let n = chunk.data().len() as u64;
                    self.write_chunk(method, aligned, chunk)
                        .map_err(|e| self.io_err(e))?;
                    progress.bytes(n);
                }
                Msg::Done(done) => {
                    self.end_streamed(method, done.crc32, done.digest.size)
                        .map_err(|e| self.io_err(e))?;
                    return Ok(done.digest);
                }
                Msg::Batch(_) | Msg::Failed(_) => {
                    return Err(self.broken("a reader sent a batch where a file was due"));
                }
            }
        }
    }

    /// Writes a chunk of a large file, then gives its buffer back to the pool (now, or once
    /// the sink threads are done with it).
    fn write_chunk(&mut self, method: Method, aligned: bool, chunk: Block) -> io::Result<()> {
        let chunk = Arc::new(chunk);
        match method {
            Method::Stored => {
                if aligned {
                    // The entry's data starts on a page boundary: the chunk can travel on
                    // as it is (see ChannelSink::offer).
                    self.zip.get_mut().offer(Arc::clone(&chunk));
                }
                self.zip.write_data(chunk.data())?;
            }
            Method::Deflated => {
                self.deflated.clear();
                deflate_into(&mut self.deflate, chunk.data(), &mut self.deflated, false)?;
                self.zip.write_data(&self.deflated)?;
            }
        }
        if let Some(mut b) = Arc::into_inner(chunk) {
            b.set_len(0);
            self.pool.give(b);
        }
        Ok(())
    }

    fn end_streamed(&mut self, method: Method, crc32: u32, size: u64) -> io::Result<()> {
        if method == Method::Deflated {
            self.deflated.clear();
            deflate_into(&mut self.deflate, &[], &mut self.deflated, true)?;
            self.zip.write_data(&self.deflated)?;
        }
        self.zip.end(crc32, size)
    }

    /// Fills in the digests of stored files, which the hashing sink takes from the stream.
    fn collect_stored_digests(&mut self, digests: &mut [Sha256Hex]) -> Result<()> {
        // The last stored bytes may still sit in the sink's part-filled block.
        self.zip.get_mut().send_part().map_err(|e| self.io_err(e))?;
        let files = self.payload;
        if digests.len() != files.len() {
            return Err(self.broken("a file was left unwritten"));
        }
        // Each stored file gets exactly one digest, or the BagIt manifest would hold an
        // empty one: the count, and no file twice, make sure of it.
        let expected = files.iter().filter(hashed_from_stream).count();
        let mut filled = vec![false; files.len()];
        for _ in 0..expected {
            let (index, sha) = self.sink.stored_digests.recv().map_err(|_| {
                self.broken("the hashing thread stopped before every file was hashed")
            })?;
            let awaited = files.get(index).is_some_and(|f| hashed_from_stream(&f));
            if !awaited || std::mem::replace(&mut filled[index], true) {
                return Err(self.broken(format!("unexpected digest for file {index}")));
            }
            digests[index] = Sha256Hex(sha);
        }
        Ok(())
    }

    /// Finishes the zip; returns the file (flushed, not yet synced) and the pack's SHA-256.
    pub fn finish(self) -> Result<(File, [u8; 32])> {
        let PackWriter {
            zip,
            sink,
            payload,
            tag_names,
            out_path,
            ..
        } = self;
        let channel = zip
            .finish(|key, out| {
                if key & TAG_KEY != 0 {
                    if let Some(name) = tag_names.get((key & !TAG_KEY) as usize) {
                        out.extend_from_slice(name.as_bytes());
                    }
                } else if let Some(rec) = payload.records.get(key as usize) {
                    out.extend_from_slice(payload.prefix.as_bytes());
                    out.extend_from_slice(rec.rel.as_bytes());
                }
            })
            .map_err(|e| Error::io(&out_path, "cannot write the pack", e))?;
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

/// A file's digest as the writer returns it: the reader's, or a place for the hashing
/// sink's (see `collect_stored_digests`).
fn pending_or(d: FileDigest) -> Sha256Hex {
    Sha256Hex(d.sha256.unwrap_or_default())
}

/// A reader's job: a batch of small files, or one large file; its messages go to `tx`.
struct Job {
    files: Range<usize>,
    tx: Sender<Msg>,
}

enum Msg {
    /// A read buffer holding a large file's next bytes. Buffers circulate, so they are
    /// never zeroed again.
    Chunk(Block),
    /// A large file read to its end.
    Done(Streamed),
    /// A batch of small files, prepared.
    Batch(Batch),
    Failed(Error),
}

/// What the end of a large file says.
struct Streamed {
    crc32: u32,
    digest: FileDigest,
}

/// Small files' entries, prepared: their data one after another in `data`.
struct Batch {
    data: Vec<u8>,
    files: Vec<Prepared>,
}

struct Prepared {
    crc32: u32,
    /// Bytes of `data` (deflated or stored).
    len: usize,
    digest: FileDigest,
}

fn changed(f: &PayloadFile<'_>, what: &str) -> Error {
    Error::evidence(
        f.disk(),
        format!("{what} since the evidence was assessed"),
        "the pack would not match the assessment; wait until nobody is editing the evidence folder, then build again",
    )
}
#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::fsx::{Folders, OpenError};
    use sha2::{Digest, Sha256};

    #[test]
    fn zip64_is_chosen_from_the_worst_case() {
        let limit = u64::from(u32::MAX);
        let under = limit - 1000;
        assert!(worst_case_size(Method::Stored, under) < limit);
        assert!(worst_case_size(Method::Deflated, under) >= limit);
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
        let mut out = Vec::new();
        let mut c = deflater();
        deflate_into(&mut c, &noise, &mut out, true).expect("deflate");
        assert!(out.len() > noise.len(), "the data should not compress");
        assert!(out.len() as u64 <= worst_case_size(Method::Deflated, noise.len() as u64));
    }

    /// Deflates `text` in 1000-byte pieces, as a reader hands a file over.
    fn deflate_pieces(c: &mut Compress, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in text.chunks(1000) {
            deflate_into(c, piece, &mut out, false).expect("deflate");
        }
        deflate_into(c, &[], &mut out, true).expect("deflate");
        out
    }

    #[test]
    fn a_reset_deflater_gives_what_a_fresh_one_gives() {
        let text = b"id,date,value\n".repeat(500);
        let mut reused = deflater();
        deflate_pieces(&mut reused, b"something else entirely");
        reused.reset();
        let again = deflate_pieces(&mut reused, &text);
        assert_eq!(again, deflate_pieces(&mut deflater(), &text));
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&again[..])
            .read_to_end(&mut back)
            .expect("inflate");
        assert_eq!(back, text);
    }

    /// An evidence folder holding `files` (relative path, contents), and its scan.
    fn evidence(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, crate::scan::Scan) {
        let dir = tempfile::tempdir().expect("temp dir");
        for (rel, bytes) in files {
            let path = dir.path().join("evidence").join(rel);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(&path, bytes).expect("write");
        }
        let scan = crate::scan::scan(&dir.path().join("evidence")).expect("scan");
        (dir, scan)
    }

    fn records(scan: &crate::scan::Scan) -> Vec<&FileRecord> {
        scan.files.iter().collect()
    }

    fn payload<'s>(scan: &'s crate::scan::Scan, records: &'s [&'s FileRecord]) -> PayloadFiles<'s> {
        PayloadFiles {
            records,
            root: &scan.root,
            prefix: "bag/data/",
        }
    }

    #[test]
    fn small_files_go_in_batches_and_large_ones_alone() {
        let sizes: &[(&str, usize)] = &[
            ("a.csv", 10),
            ("b.pdf", 10),
            ("c.csv", 2 << 20),
            ("d.pdf", 300 << 10),
            ("e.txt", 400 << 10),
            ("f.txt", 400 << 10),
            ("g.txt", 10),
        ];
        let files: Vec<(&str, Vec<u8>)> =
            sizes.iter().map(|&(n, len)| (n, vec![b'x'; len])).collect();
        let (_dir, scan) = evidence(&files);
        let records = records(&scan);
        let files = payload(&scan, &records);
        let jobs: Vec<usize> = std::iter::successors(Some(0), |&at| {
            (at < files.len()).then(|| job_end(files, at))
        })
        .collect();
        // Two small files together; the large deflated and the large stored alone; the
        // batch of two 400 KiB files is full.
        assert_eq!(jobs, [0, 2, 3, 4, 6, 7]);
    }

    /// Deterministic bytes that do not compress.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Packs `files` with a tag file before and after them; returns the zip and the
    /// digests the writer reported.
    fn pack(files: &[(&str, Vec<u8>)]) -> (Vec<u8>, Vec<Sha256Hex>) {
        let (dir, scan) = evidence(files);
        let records = records(&scan);
        let payload = payload(&scan, &records);
        let root = crate::scan::reopen(&scan).expect("reopen");
        let out = dir.path().join("pack.zip");
        let file = File::create(&out).expect("create");
        let cancel = AtomicBool::new(false);
        let time = DosTime::midnight(2021, 1, 15).expect("a zip date");
        let mut w = PackWriter::new(file, None, out.clone(), time, &cancel).expect("writer");
        let readme = prepare_tag("bag/README.md", |o| {
            o.write_all(b"# Read me\n")
                .map_err(|e| Error::io("README.md", "write", e))
        })
        .expect("prepare");
        w.add_prepared(readme).expect("add prepared");
        let digests = w.add_files(&root, payload, &NoProgress).expect("add files");
        w.add_with("bag/tagmanifest-sha256.txt", |o| {
            o.write_all(&b"tags\n".repeat(10_000))
                .map_err(|e| Error::io("tags", "write", e))
        })
        .expect("add streamed");
        let (_, sha) = w.finish().expect("finish");
        let zip = std::fs::read(&out).expect("read the pack");
        assert_eq!(
            sha,
            <[u8; 32]>::from(Sha256::digest(&zip)),
            "the pack's digest"
        );
        (zip, digests)
    }

    #[test]
    fn a_pack_reads_back_whole_through_the_zip_crate() {
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("a/empty.txt", Vec::new()),
            ("a/empty.pdf", Vec::new()),
            ("a/note.csv", b"id,value\n1,2\n".repeat(300)),
            ("a/scan.pdf", noise(100 << 10, 1)),
            ("b/big export.csv", b"0123456789abcdef\n".repeat(200_000)),
            ("b/photo.jpg", noise((600 << 10) + 123, 2)),
            ("c/d/e/last.txt", b"last\n".to_vec()),
        ];
        let (zip, digests) = pack(&files);
        let mut z = zip::ZipArchive::new(io::Cursor::new(&zip)).expect("a zip");
        let mut names = Vec::new();
        for i in 0..z.len() {
            let mut e = z.by_index(i).expect("an entry");
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).expect("read, CRC-32 checked");
            let name = e.name().expect("a UTF-8 name").to_string();
            assert_eq!(e.unix_mode(), Some(0o100_644), "{name}");
            if let Some(rel) = name.strip_prefix("bag/data/") {
                let (_, want) = files
                    .iter()
                    .find(|(n, _)| *n == rel)
                    .expect("a payload file");
                assert_eq!(&bytes, want, "{rel}");
                let stored = is_precompressed(rel) || want.is_empty();
                let method = if stored {
                    zip::CompressionMethod::Stored
                } else {
                    zip::CompressionMethod::Deflated
                };
                if !want.is_empty() {
                    assert_eq!(e.compression(), method, "{rel}");
                }
                if want.len() >= 256 << 10 && e.compression() == zip::CompressionMethod::Stored {
                    assert_eq!(e.data_start().map(|at| at % 4096), Some(0), "{rel}");
                }
            }
            names.push(name);
        }
        let mut want_names = vec!["bag/README.md".to_string()];
        want_names.extend(files.iter().map(|(n, _)| format!("bag/data/{n}")));
        want_names.sort();
        want_names.push("bag/tagmanifest-sha256.txt".into());
        assert_eq!(names, want_names);
        let mut sorted: Vec<&(&str, Vec<u8>)> = files.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(digests.len(), files.len());
        for ((rel, bytes), d) in sorted.into_iter().zip(&digests) {
            assert_eq!(d.0, <[u8; 32]>::from(Sha256::digest(bytes)), "{rel}");
        }
    }

    #[test]
    fn a_pack_is_the_same_bytes_every_time() {
        let names: Vec<String> = (0..200).map(|i| format!("f/{i:03}.txt")).collect();
        let files: Vec<(&str, Vec<u8>)> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), format!("file {i}\n").repeat(i).into_bytes()))
            .chain([("g/big.csv", b"x,y\n".repeat(400_000))])
            .collect();
        let (first, _) = pack(&files);
        let (second, _) = pack(&files);
        assert!(first == second, "two packs of the same files differ");
    }

    fn writer_into(file: File, cancel: &AtomicBool) -> PackWriter<'_> {
        let time = DosTime::midnight(2021, 1, 15).expect("a zip date");
        PackWriter::new(file, None, PathBuf::from("pack.zip"), time, cancel).expect("writer")
    }

    #[test]
    fn a_renderer_that_fails_fails_the_tag_file_with_its_own_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cancel = AtomicBool::new(false);
        let mut w = writer_into(
            File::create(dir.path().join("p.zip")).expect("create"),
            &cancel,
        );
        let err = w
            .add_with("bag/pack.json", |o| {
                o.write_all(&[b'{'; 600 << 10])
                    .map_err(|e| Error::io("pack.json", "write", e))?;
                Err(Error::Internal("the renderer gave up".into()))
            })
            .expect_err("the renderer failed");
        assert!(err.to_string().contains("the renderer gave up"), "{err}");
    }

    #[test]
    fn a_full_disk_under_a_tag_file_is_the_error_reported() {
        let Ok(full) = File::options().write(true).open("/dev/full") else {
            return;
        };
        let cancel = AtomicBool::new(false);
        let mut w = writer_into(full, &cancel);
        // More than the sink's blocks can hold, so its writer thread meets the full disk.
        let err = w
            .add_with("bag/pack.json", |o| {
                o.write_all(&noise(16 << 20, 3))
                    .map_err(|e| Error::io("pack.json", "cannot write the pack", e))
            })
            .expect_err("the disk is full");
        let why = err.to_string();
        assert!(why.contains("No space left"), "{why}");
        assert!(why.starts_with("pack.zip"), "{why}");
    }

    #[test]
    fn the_reader_cache_of_folders_opens_each_file_of_the_tree() {
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("a/b/one.txt", b"1".to_vec()),
            ("a/b/two.txt", b"2".to_vec()),
            ("a/c/three.txt", b"3".to_vec()),
            ("top.txt", b"4".to_vec()),
            ("z/four.txt", b"5".to_vec()),
        ];
        let (_dir, scan) = evidence(&files);
        let mut folders = Folders::new(crate::scan::reopen(&scan).expect("reopen"));
        for rel in [
            "a/b/one.txt",
            "a/b/two.txt",
            "a/c/three.txt",
            "top.txt",
            "z/four.txt",
            "a/b/one.txt",
        ] {
            let mut opened = folders.open_path(rel).expect("open").file;
            let mut text = String::new();
            opened.read_to_string(&mut text).expect("read");
            let want = &files.iter().find(|(n, _)| *n == rel).expect("known").1;
            assert_eq!(text.as_bytes(), want.as_slice(), "{rel}");
        }
        assert!(matches!(
            folders.open_path("a/../top.txt"),
            Err(OpenError::Link)
        ));
        assert!(matches!(
            folders.open_path("a/b"),
            Err(OpenError::NotRegular)
        ));
    }
}
