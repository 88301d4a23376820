//! The end of the zip stream: [`ChannelSink`] cuts it into blocks for two threads, one
//! hashing (the whole pack, and each stored file from the same bytes), one writing the
//! temporary file (with direct I/O where that pays). A fixed set of blocks circulates
//! between them, so memory stays constant however large the pack.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

/// Blocks of the zip stream: the unit of the pack's direct-I/O writes, which the disk
/// takes best in large pieces.
const BLOCK: usize = 1 << 20;
/// Blocks circulating between the zip framing and the sink threads.
const SINK_BLOCKS: usize = 12;

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
///
/// The state sits in a cell so the pack writer can send a part block through a shared
/// reference ([`ChannelSink::send_part`]): the zip writer only lends one out, and a flush
/// through it would also flush an open deflate entry, changing its bytes.
pub(super) struct ChannelSink(RefCell<SinkState>);

struct SinkState {
    buf: Block,
    /// Bytes of zip stream so far, including those still in `buf`.
    position: Arc<AtomicU64>,
    to_hash: Sender<ToHash>,
    to_write: Sender<Arc<Block>>,
    empty: Receiver<Block>,
    /// Why a sink thread stopped, once one has (disk full, ...).
    failed: Arc<Mutex<Option<io::Error>>>,
}

impl Write for ChannelSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let state = self.0.get_mut();
        let n = state.buf.fill(data);
        state.position.fetch_add(n as u64, Ordering::Relaxed);
        if state.buf.len >= BLOCK {
            state.send_block()?;
        }
        Ok(n)
    }

    /// Ignored: only whole blocks leave during the payload, so they stay aligned for direct
    /// I/O whatever the zip writer does.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ChannelSink {
    /// Sends the part-filled block now, so the hasher sees every byte written so far (the
    /// stored files' digests are waited for before the BagIt manifest is written). Blocks
    /// after it are no longer aligned, so the writer leaves direct I/O for the rest: call
    /// this once, after the payload.
    pub(super) fn send_part(&self) -> io::Result<()> {
        self.0
            .try_borrow_mut()
            .map_err(|_| io::Error::other("the pack stream is busy"))?
            .send_block()
    }

    /// Sends the last block; the stream ends when the sink is dropped.
    pub(super) fn finish(self) -> io::Result<()> {
        self.0.into_inner().send_block()
    }
}

impl SinkState {
    fn stopped(&self) -> io::Error {
        let taken = self.failed.lock().ok().and_then(|mut e| e.take());
        taken.unwrap_or_else(|| io::Error::other("the pack writer stopped"))
    }

    fn send_block(&mut self) -> io::Result<()> {
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
/// blocks, of each stored file (sent to `digests` as each one ends). Fails, rather than
/// give a wrong digest, if a span is not ahead of the bytes already hashed.
fn hash_stream(
    rx: &Receiver<ToHash>,
    empty: &Sender<Block>,
    digests: Sender<(usize, [u8; 32])>,
) -> Result<[u8; 32], String> {
    use evpack_sha256x2::{update_pair, Sha256};
    let mut pack = Sha256::new();
    let mut position = 0u64;
    let mut spans = std::collections::VecDeque::<OpenSpan>::new();
    for msg in rx.iter() {
        let block = match msg {
            ToHash::Span { index, start, len } => {
                let ahead = spans.back().map_or(position, |s| s.end.max(position));
                if start < ahead {
                    return Err(format!(
                        "payload file {index} was announced at byte {start} of the pack, \
                         behind byte {ahead} already hashed"
                    ));
                }
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
        release(block, empty);
    }
    Ok(pack.finalize())
}

/// Records why a sink thread stopped, for the framing side (the first reason wins).
fn record_failure(failed: &Mutex<Option<io::Error>>, e: io::Error) {
    if let Ok(mut slot) = failed.lock() {
        slot.get_or_insert(e);
    }
}

/// The sink threads and what the pack writer shares with them.
pub(super) struct SinkThreads {
    /// Bytes of zip stream written so far, including those not yet sent in a block.
    pub position: Arc<AtomicU64>,
    /// Spans of stored files, for the hasher (the sink's channel, so in stream order).
    pub spans: Sender<ToHash>,
    /// Stored files' digests, from the hasher, as each file's last block passes.
    pub stored_digests: Receiver<(usize, [u8; 32])>,
    hasher: JoinHandle<Result<[u8; 32], String>>,
    writer: JoinHandle<io::Result<File>>,
}

pub(super) enum SinkError {
    Io(io::Error),
    /// A sink thread failed, in words.
    Thread(String),
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
    let hash_failed = Arc::clone(&failed);
    // Each sink thread, however it stops (an error, even a panic), goes on taking blocks
    // and handing them back until the stream ends: otherwise the framing side would wait
    // for an empty block forever. It sees the recorded failure at its next block instead.
    // Named, so a profiler or `top -H` shows which stage is busy.
    let hasher = std::thread::Builder::new()
        .name("evpack-hash".into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                hash_stream(&hash_rx, &hash_empty, digest_tx)
            }))
            .unwrap_or_else(|_| Err("the hashing thread failed".into()));
            if let Err(why) = &outcome {
                record_failure(&hash_failed, io::Error::other(why.clone()));
                for msg in hash_rx.iter() {
                    if let ToHash::Block(block) = msg {
                        release(block, &hash_empty);
                    }
                }
            }
            outcome
        })?;
    let write_failed = Arc::clone(&failed);
    let writer = std::thread::Builder::new()
        .name("evpack-write".into())
        .spawn(move || -> io::Result<File> {
            let mut disk = DiskWriter::new(file, direct);
            let mut result = Ok(());
            for block in write_rx.iter() {
                if result.is_ok() {
                    result = catch_unwind(AssertUnwindSafe(|| disk.write_block(&block)))
                        .unwrap_or_else(|_| Err(io::Error::other("the writer thread failed")));
                    if let Err(e) = &result {
                        record_failure(&write_failed, io::Error::new(e.kind(), e.to_string()));
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
    let channel = ChannelSink(RefCell::new(SinkState {
        buf: Block::new(),
        position: Arc::clone(&position),
        to_hash: hash_tx.clone(),
        to_write: write_tx,
        empty: empty_rx,
        failed,
    }));
    let threads = SinkThreads {
        position,
        spans: hash_tx,
        stored_digests: digest_rx,
        hasher,
        writer,
    };
    Ok((channel, threads))
}

impl SinkThreads {
    /// After a failed stream: waits for the threads and returns the hasher's reason.
    #[cfg(test)]
    fn finish_err(self) -> Option<String> {
        drop(self.spans);
        let _ = self.writer.join();
        self.hasher.join().ok().and_then(Result::err)
    }

    /// Sends the last (part) block, waits for both threads; returns the file (flushed, not
    /// synced) and the pack's SHA-256.
    pub(super) fn finish(self, channel: ChannelSink) -> Result<(File, [u8; 32]), SinkError> {
        // `finish` consumes the sink, which closes its channels; with `spans` gone too, the
        // sink threads' loops end.
        channel.finish().map_err(SinkError::Io)?;
        drop(self.spans);
        let file = match self.writer.join() {
            Ok(r) => r.map_err(SinkError::Io)?,
            Err(_) => return Err(SinkError::Thread("the writer thread failed".into())),
        };
        let sha = match self.hasher.join() {
            Ok(r) => r.map_err(SinkError::Thread)?,
            Err(_) => return Err(SinkError::Thread("the hashing thread failed".into())),
        };
        Ok((file, sha))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn stream(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    /// The pack's digest, and each span's (by index) in the order they were sent.
    type Hashed = ([u8; 32], Vec<(usize, [u8; 32])>);

    /// Feeds `bytes` to `hash_stream` in blocks, each span announced before the block
    /// holding its first byte, as the pack writer does; returns the pack digest and the
    /// digests sent, by index.
    fn run(bytes: &[u8], spans: &[(u64, u64)]) -> Result<Hashed, String> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (empty_tx, _empty_rx) = crossbeam_channel::unbounded();
        let (digest_tx, digest_rx) = crossbeam_channel::unbounded();
        let mut next_span = 0;
        for (k, chunk) in bytes.chunks(BLOCK).enumerate() {
            let end = (k * BLOCK + chunk.len()) as u64;
            while next_span < spans.len() && spans[next_span].0 < end {
                let (start, len) = spans[next_span];
                tx.send(ToHash::Span {
                    index: next_span,
                    start,
                    len,
                })
                .unwrap();
                next_span += 1;
            }
            let mut block = Block::new();
            assert_eq!(block.fill(chunk), chunk.len());
            tx.send(ToHash::Block(Arc::new(block))).unwrap();
        }
        drop(tx);
        let pack = hash_stream(&rx, &empty_tx, digest_tx)?;
        Ok((pack, digest_rx.iter().collect()))
    }

    #[test]
    fn stored_files_are_hashed_from_the_stream_across_block_boundaries() {
        let b = BLOCK as u64;
        let bytes = stream(3 * BLOCK + 1000);
        let spans = [
            (0, 100),         // inside the first block
            (130, b - 130),   // ends exactly at a block boundary
            (b, b),           // one whole block, boundary to boundary
            (2 * b + 10, 10), // two small files in one block...
            (2 * b + 20, 5),
            (2 * b + 40, b + 900), // ...and one running into the last, part block
        ];
        let (pack, digests) = run(&bytes, &spans).unwrap();
        assert_eq!(
            pack,
            <[u8; 32]>::from(Sha256::digest(&bytes)),
            "the pack's digest"
        );
        assert_eq!(digests.len(), spans.len(), "one digest per span");
        for (index, sha) in digests {
            let (start, len) = spans[index];
            let file = &bytes[start as usize..(start + len) as usize];
            assert_eq!(sha, <[u8; 32]>::from(Sha256::digest(file)), "span {index}");
        }
    }

    #[test]
    fn a_span_behind_the_bytes_already_hashed_fails_instead_of_lying() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (empty_tx, _empty_rx) = crossbeam_channel::unbounded();
        let (digest_tx, _digest_rx) = crossbeam_channel::unbounded();
        let mut block = Block::new();
        block.fill(&stream(1000));
        tx.send(ToHash::Block(Arc::new(block))).unwrap();
        tx.send(ToHash::Span {
            index: 0,
            start: 500,
            len: 10,
        })
        .unwrap();
        drop(tx);
        let err = hash_stream(&rx, &empty_tx, digest_tx).unwrap_err();
        assert!(err.contains("behind byte 1000"), "{err}");
    }

    #[test]
    fn a_failed_hasher_stops_the_stream_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("pack.part")).unwrap();
        let (mut sink, threads) = start(file, None).unwrap();
        sink.write_all(&stream(BLOCK + 10)).unwrap();
        // A span the hasher cannot honour: its bytes were hashed already.
        threads
            .spans
            .send(ToHash::Span {
                index: 0,
                start: 0,
                len: 5,
            })
            .unwrap();
        // Far more blocks than circulate: the writing side must stop, naming the reason,
        // rather than wait for a block or write on regardless.
        let chunk = stream(BLOCK);
        let failed = (0..4 * SINK_BLOCKS).find_map(|_| sink.write_all(&chunk).err());
        let err = failed.expect("the stream must stop with the hasher's error");
        assert!(err.to_string().contains("behind byte"), "{err}");
        drop(sink);
        assert!(matches!(threads.finish_err(), Some(why) if why.contains("behind byte")));
    }
}
