//! The end of the zip stream: [`ChannelSink`] cuts it into blocks for two threads, one
//! hashing (the whole pack, and each stored file from the same bytes), one writing the
//! temporary file (with direct I/O where that pays). A fixed set of blocks circulates
//! between them, so memory stays constant however large the pack.

use std::fs::File;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

pub use crate::fsx::open_direct;
use crate::fsx::{refuses_direct, write_all_at};

/// Blocks of the zip stream: the unit of the pack's direct-I/O writes, which the disk
/// takes best in large pieces.
const BLOCK: usize = 1 << 20;
/// Blocks circulating between the zip framing and the sink threads.
const SINK_BLOCKS: usize = 6;
/// Pieces of the stream the writer puts in one vectored write at most.
const BATCH_SEGMENTS: usize = 16;

/// A buffer whose data starts at an address aligned for direct I/O, so the writer can hand
/// it to the disk without copying: a block of the zip stream, or a chunk an evidence file
/// was read into (which the stream can carry as it is, see [`ChannelSink::offer`]).
pub(super) struct Block {
    mem: Vec<u8>,
    start: usize,
    len: usize,
    cap: usize,
    /// The pool it goes back to once both sink threads are done with it.
    home: Home,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Home {
    Stream,
    Read,
}

impl Block {
    pub(super) fn new(cap: usize, home: Home) -> Block {
        let mem = vec![0; cap + ALIGN];
        let start = (ALIGN - mem.as_ptr() as usize % ALIGN) % ALIGN;
        Block {
            mem,
            start,
            len: 0,
            cap,
            home,
        }
    }

    pub(super) fn data(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }

    /// The whole buffer, to read into; then [`Block::set_len`].
    pub(super) fn room(&mut self) -> &mut [u8] {
        &mut self.mem[self.start..self.start + self.cap]
    }

    pub(super) fn set_len(&mut self, len: usize) {
        self.len = len.min(self.cap);
    }

    /// Appends what fits of `data`; returns how much did.
    fn fill(&mut self, data: &[u8]) -> usize {
        let n = (self.cap - self.len).min(data.len());
        let at = self.start + self.len;
        self.mem[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }
}

/// A piece of the zip stream as the sink threads see it: the first `len` bytes of a block.
pub(super) struct Segment {
    block: Arc<Block>,
    len: usize,
}

impl Segment {
    fn data(&self) -> &[u8] {
        &self.block.data()[..self.len]
    }
}

/// Where blocks go back to: the stream's pool of empty blocks, or the readers' pool.
#[derive(Clone)]
pub(super) struct Homes {
    pub stream: Sender<Block>,
    pub read: Sender<Block>,
}

impl Homes {
    /// Hands a block back to its pool once nobody else holds it: `into_inner` gives it to
    /// exactly one of the holders (the two sink threads, the framing side), whatever the
    /// timing.
    pub(super) fn release(&self, block: Arc<Block>) {
        if let Some(mut b) = Arc::into_inner(block) {
            b.len = 0;
            let pool = match b.home {
                Home::Stream => &self.stream,
                Home::Read => &self.read,
            };
            let _ = pool.try_send(b);
        }
    }
}

/// What the hashing sink thread receives, in stream order.
pub(super) enum ToHash {
    /// The next piece of the zip stream.
    Block(Segment),
    /// The payload file `index` is stored at stream offsets `start..start + len`: hash it
    /// from the blocks as they pass. Sent before the first of those blocks.
    Span { index: usize, start: u64, len: u64 },
}

/// Buffers the zip stream into large blocks for the sink threads: one hashes the pack,
/// the other writes it, so neither waits for the other.
pub(super) struct ChannelSink {
    buf: Block,
    /// Bytes of zip stream so far, including those still in `buf`.
    position: u64,
    /// A read chunk that the next write may be (see [`ChannelSink::offer`]).
    offer: Option<Arc<Block>>,
    homes: Homes,
    to_hash: Sender<ToHash>,
    to_write: Sender<Segment>,
    empty: Receiver<Block>,
    /// Why a sink thread stopped, once one has (disk full, ...).
    failed: Arc<Mutex<Option<io::Error>>>,
}

impl Write for ChannelSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(chunk) = self.offer.take() {
            if let Some(n) = self.pass_through(&chunk, data)? {
                return Ok(n);
            }
            self.homes.release(chunk);
        }
        let n = self.buf.fill(data);
        self.position += n as u64;
        if self.buf.len >= BLOCK {
            self.send_block()?;
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
    /// Offers the chunk a stored file was just read into: if the zip writer's next write
    /// is exactly that chunk's data, at a point of the stream aligned for direct I/O (the
    /// entry's data is aligned by its local header), the chunk itself goes to the sink
    /// threads and only its last part-page is copied. That spares copying gigabytes into
    /// the stream's blocks; anything else is copied as usual.
    pub(super) fn offer(&mut self, chunk: Arc<Block>) {
        if let Some(old) = self.offer.replace(chunk) {
            self.homes.release(old);
        }
    }

    /// Sends the part-filled block now, so the hasher sees every byte written so far (the
    /// stored files' digests are waited for before the BagIt manifest is written). Blocks
    /// after it are no longer aligned, so the writer leaves direct I/O for the rest: call
    /// this once, after the payload.
    pub(super) fn send_part(&mut self) -> io::Result<()> {
        self.send_block()
    }

    /// Sends the last block; the stream ends when the sink is dropped.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.send_block()
    }

    fn stopped(&self) -> io::Error {
        let taken = self.failed.lock().ok().and_then(|mut e| e.take());
        taken.unwrap_or_else(|| io::Error::other("the pack writer stopped"))
    }

    /// The zero-copy path of [`ChannelSink::offer`]: `Some(bytes taken)` if `data` is the
    /// offered chunk's data and the stream is at an aligned point, else `None`.
    fn pass_through(&mut self, chunk: &Arc<Block>, data: &[u8]) -> io::Result<Option<usize>> {
        let whole = data.len() / ALIGN * ALIGN;
        let same = std::ptr::eq(data.as_ptr(), chunk.data().as_ptr());
        // The stream position here, and where the buffered block starts in the stream, must
        // both be on a page boundary: then sending the block and the chunk keeps every write
        // aligned for direct I/O.
        let here = self.position;
        let block_start = here - self.buf.len as u64;
        let aligned = here.is_multiple_of(ALIGN as u64) && block_start.is_multiple_of(ALIGN as u64);
        if !same || whole == 0 || !aligned {
            return Ok(None);
        }
        self.send_block()?;
        self.send(Segment {
            block: Arc::clone(chunk),
            len: whole,
        })?;
        let rest = &data[whole..];
        let copied = self.buf.fill(rest);
        debug_assert_eq!(copied, rest.len(), "a fresh block holds a part-page");
        self.position += (whole + copied) as u64;
        Ok(Some(whole + copied))
    }

    fn send(&mut self, segment: Segment) -> io::Result<()> {
        self.to_hash
            .send(ToHash::Block(Segment {
                block: Arc::clone(&segment.block),
                len: segment.len,
            }))
            .map_err(|_| self.stopped())?;
        self.to_write.send(segment).map_err(|_| self.stopped())
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
        let full = std::mem::replace(&mut self.buf, next);
        let len = full.len;
        self.send(Segment {
            block: Arc::new(full),
            len,
        })
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

    /// Writes `segments` in order: the run of them that direct I/O can take in one vectored
    /// call, then the rest one by one.
    fn write_segments(&mut self, segments: &[Segment]) -> io::Result<()> {
        let aligned = segments
            .iter()
            .take_while(|s| s.len > 0 && s.len.is_multiple_of(ALIGN))
            .count();
        let mut rest = segments;
        if aligned > 1 && self.offset.is_multiple_of(ALIGN as u64) {
            if let Some(direct) = &mut self.direct {
                let mut slices: Vec<io::IoSlice<'_>> = segments[..aligned]
                    .iter()
                    .map(|s| io::IoSlice::new(s.data()))
                    .collect();
                let total: usize = segments[..aligned].iter().map(|s| s.len).sum();
                use std::io::Seek;
                direct.seek(io::SeekFrom::Start(self.offset))?;
                match write_all_vectored(direct, &mut slices) {
                    Ok(()) => {
                        self.offset += total as u64;
                        rest = &segments[aligned..];
                    }
                    Err(e) if refuses_direct(&e) => self.direct = None,
                    Err(e) => return Err(e),
                }
            }
        }
        for s in rest {
            self.write_block(s.data())?;
        }
        Ok(())
    }

    fn write_block(&mut self, data: &[u8]) -> io::Result<()> {
        let whole = data.len() / ALIGN * ALIGN;
        if let Some(direct) = &self.direct {
            if whole > 0 && self.offset.is_multiple_of(ALIGN as u64) {
                match write_all_at(direct, &data[..whole], self.offset) {
                    Ok(()) => {
                        self.offset += whole as u64;
                        if whole == data.len() {
                            return Ok(());
                        }
                        let rest = &data[whole..];
                        write_all_at(&self.file, rest, self.offset)?;
                        self.offset += rest.len() as u64;
                        // From here offsets are no longer aligned.
                        self.direct = None;
                        return Ok(());
                    }
                    Err(e) if refuses_direct(&e) => self.direct = None,
                    Err(e) => return Err(e),
                }
            } else {
                self.direct = None;
            }
        }
        write_all_at(&self.file, data, self.offset)?;
        self.offset += data.len() as u64;
        Ok(())
    }
}

/// `Write::write_all_vectored`, which is not stable yet.
fn write_all_vectored(w: &mut File, mut slices: &mut [io::IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        match w.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
    homes: &Homes,
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
        homes.release(block.block);
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
/// for direct I/O, if given); returns the writer the zip stream goes into. Read chunks
/// passed through the stream go back to `read_pool` once written and hashed.
pub(super) fn start(
    file: File,
    direct: Option<File>,
    read_pool: Sender<Block>,
) -> io::Result<(ChannelSink, SinkThreads)> {
    // Room for many spans besides the pieces: spans are small, and the pieces in flight
    // are bounded by the pools they come from anyway.
    let (hash_tx, hash_rx) = bounded::<ToHash>(SINK_BLOCKS * 16);
    let (write_tx, write_rx) = bounded::<Segment>(SINK_BLOCKS);
    let (empty_tx, empty_rx) = bounded::<Block>(SINK_BLOCKS);
    for _ in 1..SINK_BLOCKS {
        let _ = empty_tx.send(Block::new(BLOCK, Home::Stream));
    }
    let homes = Homes {
        stream: empty_tx,
        read: read_pool,
    };
    let (digest_tx, digest_rx) = crossbeam_channel::unbounded();
    let failed = Arc::new(Mutex::new(None));
    // Each sink thread, however it stops (an error, even a panic), goes on taking blocks
    // and handing them back until the stream ends: otherwise the framing side would wait
    // for an empty block forever. It sees the recorded failure at its next block instead.
    // Named, so a profiler or `top -H` shows which stage is busy.
    let hasher = {
        let (homes, failed) = (homes.clone(), Arc::clone(&failed));
        std::thread::Builder::new()
            .name("evpack-hash".into())
            .spawn(move || run_hasher(&hash_rx, &homes, digest_tx, &failed))?
    };
    let writer = {
        let (homes, failed) = (homes.clone(), Arc::clone(&failed));
        std::thread::Builder::new()
            .name("evpack-write".into())
            .spawn(move || run_writer(&write_rx, DiskWriter::new(file, direct), &homes, &failed))?
    };
    let channel = ChannelSink {
        buf: Block::new(BLOCK, Home::Stream),
        position: 0,
        offer: None,
        homes,
        to_hash: hash_tx.clone(),
        to_write: write_tx,
        empty: empty_rx,
        failed,
    };
    let threads = SinkThreads {
        spans: hash_tx,
        stored_digests: digest_rx,
        hasher,
        writer,
    };
    Ok((channel, threads))
}

/// The hashing thread: hashes the stream (and stored files' spans of it); after a failure
/// it records why and keeps handing blocks back until the stream ends.
fn run_hasher(
    rx: &Receiver<ToHash>,
    homes: &Homes,
    digests: Sender<(usize, [u8; 32])>,
    failed: &Mutex<Option<io::Error>>,
) -> Result<[u8; 32], String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| hash_stream(rx, homes, digests)))
        .unwrap_or_else(|_| Err("the hashing thread failed".into()));
    if let Err(why) = &outcome {
        record_failure(failed, io::Error::other(why.clone()));
        for msg in rx.iter() {
            if let ToHash::Block(segment) = msg {
                homes.release(segment.block);
            }
        }
    }
    outcome
}

/// The writing thread: writes segments to the disk in batches; after a failure it records
/// why and keeps handing blocks back until the stream ends.
fn run_writer(
    rx: &Receiver<Segment>,
    mut disk: DiskWriter,
    homes: &Homes,
    failed: &Mutex<Option<io::Error>>,
) -> io::Result<File> {
    let mut result = Ok(());
    let mut batch: Vec<Segment> = Vec::with_capacity(BATCH_SEGMENTS);
    for first in rx.iter() {
        // Whatever else is already waiting goes in the same system call: read chunks are
        // 256 KiB, and the disk takes large writes best.
        batch.push(first);
        while batch.len() < BATCH_SEGMENTS {
            match rx.try_recv() {
                Ok(segment) => batch.push(segment),
                Err(_) => break,
            }
        }
        if result.is_ok() {
            result = catch_unwind(AssertUnwindSafe(|| disk.write_segments(&batch)))
                .unwrap_or_else(|_| Err(io::Error::other("the writer thread failed")));
            if let Err(e) = &result {
                record_failure(failed, io::Error::new(e.kind(), e.to_string()));
            }
        }
        for segment in batch.drain(..) {
            homes.release(segment.block);
        }
    }
    result?;
    let mut file = disk.file;
    file.flush()?;
    Ok(file)
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

    /// Bytes that differ from block to block, so a misplaced span changes its digest.
    fn stream(len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect()
    }

    /// Read chunks in these tests; any size works.
    const CHUNK_FOR_TEST: usize = 64 << 10;

    /// Pools nobody receives from: released blocks are simply dropped.
    fn test_homes() -> Homes {
        Homes {
            stream: bounded(1).0,
            read: bounded(1).0,
        }
    }

    /// A stream block holding `bytes`.
    fn segment(bytes: &[u8]) -> Segment {
        let mut block = Block::new(BLOCK, Home::Stream);
        assert_eq!(block.fill(bytes), bytes.len());
        let len = block.len;
        Segment {
            block: Arc::new(block),
            len,
        }
    }

    /// The pack's digest, and each span's (by index) in the order they were sent.
    type Hashed = ([u8; 32], Vec<(usize, [u8; 32])>);

    /// Feeds `bytes` to `hash_stream` in blocks, each span announced before the block
    /// holding its first byte, as the pack writer does; returns the pack digest and the
    /// digests sent, by index.
    fn run(bytes: &[u8], spans: &[(u64, u64)]) -> Result<Hashed, String> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let homes = test_homes();
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
            tx.send(ToHash::Block(segment(chunk))).unwrap();
        }
        drop(tx);
        let pack = hash_stream(&rx, &homes, digest_tx)?;
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
        let (digest_tx, _digest_rx) = crossbeam_channel::unbounded();
        tx.send(ToHash::Block(segment(&stream(1000)))).unwrap();
        tx.send(ToHash::Span {
            index: 0,
            start: 500,
            len: 10,
        })
        .unwrap();
        drop(tx);
        let err = hash_stream(&rx, &test_homes(), digest_tx).unwrap_err();
        assert!(err.contains("behind byte 1000"), "{err}");
    }

    #[test]
    fn an_offered_chunk_travels_without_a_copy_and_comes_back_to_the_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pack.part");
        let file = File::create(&path).unwrap();
        let (read_tx, read_rx) = bounded(4);
        let (mut sink, threads) = start(file, None, read_tx).unwrap();
        let header = stream(ALIGN); // ends on a page boundary, as an aligned entry's header
        sink.write_all(&header).unwrap();
        let mut chunk = Block::new(CHUNK_FOR_TEST, Home::Read);
        let body = stream(2 * ALIGN + 1808);
        chunk.room()[..body.len()].copy_from_slice(&body);
        chunk.set_len(body.len());
        let chunk = Arc::new(chunk);
        sink.offer(Arc::clone(&chunk));
        // Exactly what the zip writer does with a stored file's chunk.
        assert_eq!(sink.write(chunk.data()).unwrap(), body.len(), "taken whole");
        // Only the part-page was copied: the header went out before the chunk, so the
        // stream's block holds just the 1808-byte tail.
        assert_eq!(sink.buf.len, 1808);
        sink.write_all(b"trailer").unwrap();
        drop(chunk);
        let (file, pack) = match threads.finish(sink) {
            Ok(done) => done,
            Err(_) => panic!("the sink failed"),
        };
        drop(file);
        let mut want = header.clone();
        want.extend_from_slice(&body);
        want.extend_from_slice(b"trailer");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            want,
            "the file holds the stream"
        );
        assert_eq!(pack, <[u8; 32]>::from(Sha256::digest(&want)));
        let back = read_rx
            .try_recv()
            .expect("the chunk is back in the readers' pool");
        assert_eq!(back.data().len(), 0, "emptied for the next read");
    }

    #[test]
    fn a_failed_hasher_stops_the_stream_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("pack.part")).unwrap();
        let (read_tx, _read_rx) = bounded(4);
        let (mut sink, threads) = start(file, None, read_tx).unwrap();
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
