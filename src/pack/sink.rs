//! The end of the zip stream: [`ChannelSink`] cuts it into blocks for two threads, one
//! hashing (the whole pack, and each stored file from the same bytes), one writing the
//! temporary file (with direct I/O where that pays). A fixed set of blocks circulates
//! between them, so memory stays constant however large the pack.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

/// Blocks of the zip stream: the unit of the pack's direct-I/O writes, which the disk
/// takes best in large pieces.
const BLOCK: usize = 512 << 10;
/// Blocks circulating between the zip framing and the sink threads.
const SINK_BLOCKS: usize = 16;

/// A block of the zip stream, its data starting at an address aligned for direct I/O so
/// the writer can hand it to the disk without copying.
pub(super) struct Block {
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    fn new() -> Block {
        let mem = vec![0; BLOCK + ALIGN];
        let start = (ALIGN - mem.as_ptr() as usize % ALIGN) % ALIGN;
        Block { mem, start, len: 0 }
    }

    fn data(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }

    /// Appends what fits of `data`; returns how much did.
    fn fill(&mut self, data: &[u8]) -> usize {
        let n = (BLOCK - self.len).min(data.len());
        let at = self.start + self.len;
        self.mem[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }
}

/// What the hashing sink thread receives, in stream order.
pub(super) enum ToHash {
    /// The next block of the zip stream.
    Block(Arc<Block>),
    /// The payload file `index` is stored at stream offsets `start..start + len`: hash it
    /// from the blocks as they pass. Sent before the first of those blocks.
    Span { index: usize, start: u64, len: u64 },
}

/// Buffers the zip stream into large blocks for the sink threads: one hashes the pack,
/// the other writes it, so neither waits for the other.
pub(super) struct ChannelSink {
    buf: Block,
    /// Bytes of zip stream so far, including those still in `buf`.
    position: Arc<AtomicU64>,
    /// Set while [`PackWriter`] wants a part block sent (see `flush`).
    send_part: Arc<AtomicBool>,
    to_hash: Sender<ToHash>,
    to_write: Sender<Arc<Block>>,
    empty: Receiver<Block>,
    /// The writer's error, once it has failed (disk full, ...).
    failed: Arc<std::sync::Mutex<Option<io::Error>>>,
}

impl ChannelSink {
    fn stopped(&self) -> io::Error {
        let taken = self.failed.lock().ok().and_then(|mut e| e.take());
        taken.unwrap_or_else(|| io::Error::other("the pack writer stopped"))
    }
}

impl Write for ChannelSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.buf.fill(data);
        self.position.fetch_add(n as u64, Ordering::Relaxed);
        if self.buf.len >= BLOCK {
            self.send_block()?;
        }
        Ok(n)
    }

    /// Sends a part block only when the pack writer asks (to have the stored files'
    /// digests): other flushes are ignored, so blocks stay whole, and aligned for direct
    /// I/O, through the payload.
    fn flush(&mut self) -> io::Result<()> {
        if self.send_part.load(Ordering::Relaxed) {
            self.send_block()?;
        }
        Ok(())
    }
}

impl ChannelSink {
    pub(super) fn send_block(&mut self) -> io::Result<()> {
        if self.buf.len == 0 {
            return Ok(());
        }
        // Blocks circulate between this writer and the sink threads: a fixed set, so memory
        // stays constant however large the pack.
        let mut next = self.empty.recv().map_err(|_| self.stopped())?;
        if self.failed.lock().map(|e| e.is_some()).unwrap_or(true) {
            return Err(self.stopped());
        }
        next.len = 0;
        let full = Arc::new(std::mem::replace(&mut self.buf, next));
        self.to_hash
            .send(ToHash::Block(Arc::clone(&full)))
            .map_err(|_| self.stopped())?;
        self.to_write.send(full).map_err(|_| self.stopped())
    }
}

/// Alignment that direct I/O needs for buffers, offsets and lengths (covers 512-byte and
/// 4 KiB sectors).
const ALIGN: usize = 4096;

/// Writes the pack's blocks at increasing offsets. With a direct-I/O handle, whole blocks
/// go straight from their aligned memory to the disk: copying gigabytes into the page
/// cache costs more CPU than the disk needs, and a pack is written once and read rarely.
/// The tail, and everything on file systems that refuse direct I/O, goes through the
/// ordinary handle.
struct DiskWriter {
    file: File,
    direct: Option<File>,
    offset: u64,
}

impl DiskWriter {
    fn new(file: File, direct: Option<File>) -> DiskWriter {
        DiskWriter {
            file,
            direct,
            offset: 0,
        }
    }

    fn write_block(&mut self, block: &Block) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let data = block.data();
        let whole = data.len() / ALIGN * ALIGN;
        if let Some(direct) = &self.direct {
            if whole > 0 && self.offset.is_multiple_of(ALIGN as u64) {
                match direct.write_all_at(&data[..whole], self.offset) {
                    Ok(()) => {
                        self.offset += whole as u64;
                        if whole == data.len() {
                            return Ok(());
                        }
                        let rest = &data[whole..];
                        self.file.write_all_at(rest, self.offset)?;
                        self.offset += rest.len() as u64;
                        // From here offsets are no longer aligned.
                        self.direct = None;
                        return Ok(());
                    }
                    // The file system does not do direct I/O after all: write normally.
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.direct = None,
                    Err(e) => return Err(e),
                }
            } else {
                self.direct = None;
            }
        }
        self.file.write_all_at(data, self.offset)?;
        self.offset += data.len() as u64;
        Ok(())
    }
}

/// Opens `path` a second time for direct I/O, or `None` where the system refuses.
pub fn open_direct(path: &std::path::Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

/// Hands a block back to the pool once both sink threads are done with it.
fn release(block: Arc<Block>, empty: &Sender<Block>) {
    // `into_inner` gives the block to exactly one of the two threads, whatever the timing.
    if let Some(b) = Arc::into_inner(block) {
        let _ = empty.send(b);
    }
}

/// A stored file being hashed from the stream.
struct OpenSpan {
    index: usize,
    start: u64,
    end: u64,
    sha: evpack_sha256x2::Sha256,
}

/// The hashing sink thread: the SHA-256 of the whole zip stream and, from the same
/// blocks, of each stored file (sent to `digests` as each one ends).
fn hash_stream(
    rx: Receiver<ToHash>,
    empty: Sender<Block>,
    digests: Sender<(usize, [u8; 32])>,
) -> [u8; 32] {
    use evpack_sha256x2::{update_pair, Sha256};
    let mut pack = Sha256::new();
    let mut position = 0u64;
    let mut spans = std::collections::VecDeque::<OpenSpan>::new();
    for msg in rx {
        let block = match msg {
            ToHash::Span { index, start, len } => {
                spans.push_back(OpenSpan {
                    index,
                    start,
                    end: start + len,
                    sha: Sha256::new(),
                });
                continue;
            }
            ToHash::Block(block) => block,
        };
        let data = block.data();
        let end = position + data.len() as u64;
        // `done`: how much of the block the pack hash has taken.
        let mut done = 0;
        while let Some(span) = spans.front_mut() {
            if span.start >= end {
                break;
            }
            let from = (span.start.max(position) - position) as usize;
            let to = (span.end.min(end) - position) as usize;
            update_pair(&mut pack, &data[done..to], &mut span.sha, &data[from..to]);
            done = to;
            if span.end > end {
                break;
            }
            if let Some(span) = spans.pop_front() {
                let _ = digests.send((span.index, span.sha.finalize()));
            }
        }
        pack.update(&data[done..]);
        position = end;
        release(block, &empty);
    }
    pack.finalize()
}

/// The sink threads and what the pack writer shares with them.
pub(super) struct SinkThreads {
    /// Bytes of zip stream written so far, including those not yet sent in a block.
    pub position: Arc<AtomicU64>,
    /// Makes the sink's next flush send its part block.
    pub send_part: Arc<AtomicBool>,
    /// Spans of stored files, for the hasher (the sink's channel, so in stream order).
    pub spans: Sender<ToHash>,
    /// Stored files' digests, from the hasher, as each file's last block passes.
    pub stored_digests: Receiver<(usize, [u8; 32])>,
    hasher: JoinHandle<[u8; 32]>,
    writer: JoinHandle<io::Result<File>>,
}

pub(super) enum SinkError {
    Io(io::Error),
    /// A sink thread panicked: "hashing" or "writer".
    Thread(&'static str),
}

/// Starts the sink threads writing to `file` (and `direct`, a second handle to it opened
/// for direct I/O, if given); returns the writer the zip stream goes into.
pub(super) fn start(file: File, direct: Option<File>) -> io::Result<(ChannelSink, SinkThreads)> {
    // Room for many spans besides the blocks: spans are small, and the blocks in flight
    // are bounded by the pool of empty ones anyway.
    let (hash_tx, hash_rx) = bounded::<ToHash>(SINK_BLOCKS * 16);
    let (write_tx, write_rx) = bounded::<Arc<Block>>(SINK_BLOCKS);
    let (empty_tx, empty_rx) = bounded::<Block>(SINK_BLOCKS);
    for _ in 1..SINK_BLOCKS {
        let _ = empty_tx.send(Block::new());
    }
    let (digest_tx, digest_rx) = crossbeam_channel::unbounded();
    let failed = Arc::new(Mutex::new(None));
    let hash_empty = empty_tx.clone();
    // Named, so a profiler or `top -H` shows which stage is busy.
    let hasher = std::thread::Builder::new()
        .name("evpack-hash".into())
        .spawn(move || hash_stream(hash_rx, hash_empty, digest_tx))?;
    let write_failed = Arc::clone(&failed);
    let writer = std::thread::Builder::new()
        .name("evpack-write".into())
        .spawn(move || -> io::Result<File> {
            let mut disk = DiskWriter::new(file, direct);
            let mut result = Ok(());
            for block in write_rx {
                if result.is_ok() {
                    result = disk.write_block(&block);
                    if let Err(e) = &result {
                        // Keep draining so blocks go on circulating; the framing side sees the
                        // error at its next block and stops.
                        if let Ok(mut slot) = write_failed.lock() {
                            *slot = Some(io::Error::new(e.kind(), e.to_string()));
                        }
                    }
                }
                release(block, &empty_tx);
            }
            result?;
            let mut file = disk.file;
            file.flush()?;
            Ok(file)
        })?;
    let position = Arc::new(AtomicU64::new(0));
    let send_part = Arc::new(AtomicBool::new(false));
    let channel = ChannelSink {
        buf: Block::new(),
        position: Arc::clone(&position),
        send_part: Arc::clone(&send_part),
        to_hash: hash_tx.clone(),
        to_write: write_tx,
        empty: empty_rx,
        failed,
    };
    let threads = SinkThreads {
        position,
        send_part,
        spans: hash_tx,
        stored_digests: digest_rx,
        hasher,
        writer,
    };
    Ok((channel, threads))
}

impl SinkThreads {
    /// Sends the last (part) block, waits for both threads; returns the file (flushed, not
    /// synced) and the pack's SHA-256.
    pub(super) fn finish(self, mut channel: ChannelSink) -> Result<(File, [u8; 32]), SinkError> {
        channel.send_block().map_err(SinkError::Io)?;
        // Closing the channels ends the sink threads' loops.
        drop(channel);
        drop(self.spans);
        let file = match self.writer.join() {
            Ok(r) => r.map_err(SinkError::Io)?,
            Err(_) => return Err(SinkError::Thread("writer")),
        };
        let sha = self
            .hasher
            .join()
            .map_err(|_| SinkError::Thread("hashing"))?;
        Ok((file, sha))
    }
}
