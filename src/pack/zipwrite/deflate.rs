//! Deflating for the pack writer: the per-thread deflater, and tag files rendered and
//! deflated in pieces while the payload is written.

use std::io::{self, Write};

use crossbeam_channel::{Receiver, Sender};
use flate2::{Compress, Compression, FlushCompress, Status};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::pack::sink::ChannelSink;
use crate::zipfmt::ZipStream;

/// A raw deflate stream at the fast level. Fast: text evidence is small and the build runs
/// the night before a visit; a few per cent of pack size is not worth the minutes.
pub(super) fn deflater() -> Compress {
    Compress::new(Compression::new(1), false)
}

/// Deflates `input` onto the end of `out`; `finish` ends the stream. Each thread keeps one
/// deflater and resets it per file: setting one up costs more than deflating a file of a
/// few kilobytes.
pub(super) fn deflate_into(
    c: &mut Compress,
    mut input: &[u8],
    out: &mut Vec<u8>,
    finish: bool,
) -> io::Result<()> {
    let flush = if finish {
        FlushCompress::Finish
    } else {
        FlushCompress::None
    };
    loop {
        // Room for data that does not compress, so one call usually takes all the input.
        out.reserve(input.len() + (input.len() >> 3) + 64);
        let (before_in, before_out) = (c.total_in(), c.total_out());
        let status = c
            .compress_vec(input, out, flush)
            .map_err(io::Error::other)?;
        let taken = (c.total_in() - before_in) as usize;
        input = &input[taken..];
        match status {
            Status::StreamEnd => return Ok(()),
            _ if !finish && input.is_empty() => return Ok(()),
            _ if taken == 0 && c.total_out() == before_out => {
                return Err(io::Error::other("deflate stopped making progress"));
            }
            _ => {}
        }
    }
}

/// Deflates what is written to it, taking the CRC-32 and SHA-256 of the bytes on the way.
/// The deflated bytes collect in `out`, or go on to `zip` as they come.
pub(super) struct Deflating<'a> {
    compress: &'a mut Compress,
    out: &'a mut Vec<u8>,
    zip: Option<&'a mut ZipStream<ChannelSink>>,
    crc: crc32fast::Hasher,
    sha: Sha256,
    size: u64,
}

impl<'a> Deflating<'a> {
    pub(super) fn new(
        compress: &'a mut Compress,
        out: &'a mut Vec<u8>,
        zip: Option<&'a mut ZipStream<ChannelSink>>,
    ) -> Deflating<'a> {
        compress.reset();
        out.clear();
        Deflating {
            compress,
            out,
            zip,
            crc: crc32fast::Hasher::new(),
            sha: Sha256::new(),
            size: 0,
        }
    }

    fn pass_on(&mut self) -> io::Result<()> {
        if let Some(zip) = self.zip.as_deref_mut() {
            zip.write_data(self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Ends the deflate stream; returns the CRC-32, size and SHA-256 of what was written.
    fn finish(mut self) -> io::Result<(u32, u64, [u8; 32])> {
        deflate_into(self.compress, &[], self.out, true)?;
        self.pass_on()?;
        Ok((self.crc.finalize(), self.size, self.sha.finalize().into()))
    }
}

impl Write for Deflating<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sha.update(buf);
        self.crc.update(buf);
        self.size += buf.len() as u64;
        deflate_into(self.compress, buf, self.out, false)?;
        self.pass_on()?;
        Ok(buf.len())
    }

    /// Nothing to do: flushing a deflate stream early would change its bytes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The pieces a tag file is cut into between its renderer and the thread deflating it
/// ([`PackWriter::add_with`]), and how many can wait: a few megabytes in all.
pub(super) const TAG_PIECE: usize = 256 << 10;
pub(super) const TAG_PIECES: usize = 4;

/// Deflates the pieces from `full` into `out`, handing each buffer back through `empty`.
pub(super) fn deflate_pieces(
    mut out: Deflating<'_>,
    full: &Receiver<Vec<u8>>,
    empty: &Sender<Vec<u8>>,
) -> io::Result<(u32, u64, [u8; 32])> {
    for mut piece in full {
        out.write_all(&piece)?;
        piece.clear();
        let _ = empty.send(piece);
    }
    out.finish()
}

/// The renderer's side of [`deflate_pieces`]: what is written is cut into pieces of
/// `TAG_PIECE` bytes (so the deflater sees the same pieces however the renderer writes,
/// and the pack stays reproducible) and sent on. Buffers circulate: `TAG_PIECES + 1` in
/// all.
pub(super) struct Pieces {
    full: Sender<Vec<u8>>,
    empty: Receiver<Vec<u8>>,
    /// Buffers made so far.
    made: usize,
    buf: Vec<u8>,
}

impl Pieces {
    pub(super) fn new(full: Sender<Vec<u8>>, empty: Receiver<Vec<u8>>) -> Pieces {
        Pieces {
            full,
            empty,
            made: 0,
            buf: Vec::new(),
        }
    }

    fn stopped() -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, "the deflating thread stopped")
    }

    /// Sends the last, part-filled piece.
    pub(super) fn send_rest(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let last = std::mem::take(&mut self.buf);
        self.full.send(last).map_err(|_| Pieces::stopped())
    }
}

impl Write for Pieces {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            self.buf = if self.made <= TAG_PIECES {
                self.made += 1;
                Vec::with_capacity(TAG_PIECE)
            } else {
                self.empty.recv().map_err(|_| Pieces::stopped())?
            };
        }
        let n = data.len().min(TAG_PIECE - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == TAG_PIECE {
            let full = std::mem::take(&mut self.buf);
            self.full.send(full).map_err(|_| Pieces::stopped())?;
        }
        Ok(n)
    }

    /// Nothing to do: pieces go on when full, so their size never depends on the renderer.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs a renderer into `out` through a 64 KiB buffer: renderers write token by token, and
/// batching the pieces spares the hasher and the deflater thousands of tiny calls.
pub(super) fn render_into(
    out: &mut Deflating<'_>,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<io::Result<()>> {
    let mut buffered = io::BufWriter::with_capacity(64 << 10, out);
    write(&mut buffered)?;
    Ok(buffered
        .into_inner()
        .map(|_| ())
        .map_err(|e| e.into_error()))
}

/// A tag file rendered and deflated in memory ahead of its place in the pack, so documents
/// can be rendered side by side on both cores (see [`prepare_tag`]).
pub struct PreparedTag {
    pub(super) name: String,
    pub(super) deflated: Vec<u8>,
    pub(super) crc32: u32,
    pub(super) size: u64,
    pub sha256: String,
}

/// Renders a tag file with `write` into a deflated entry held in memory (a document of a
/// pack of 20,000 files deflates to well under a megabyte).
pub fn prepare_tag(
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<PreparedTag> {
    let (mut compress, mut deflated) = (deflater(), Vec::new());
    let mut out = Deflating::new(&mut compress, &mut deflated, None);
    let failed = |e| Error::io(name, "cannot prepare the pack entry", e);
    render_into(&mut out, write)?.map_err(failed)?;
    let (crc32, size, sha) = out.finish().map_err(failed)?;
    Ok(PreparedTag {
        name: name.to_string(),
        deflated,
        crc32,
        size,
        sha256: crate::util::hex(&sha),
    })
}
