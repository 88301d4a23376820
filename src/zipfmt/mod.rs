//! The zip format, by hand: its names and numbers, the end records (with Zip64), the
//! central records (with their extra fields) and the local headers. Two readers use it: the
//! pack verifier ([`crate::verify`]) and the document checks ([`crate::content`]). Each keeps
//! its own policy (how many entries, what to keep of each, what a flaw is called); this
//! module only says what the bytes declare. The pack writer ([`crate::pack`]) writes packs
//! with [`ZipStream`] ([`write`]), which keeps a few bytes per entry, not its name.
//!
//! Why not `zip::ZipArchive`: it is a reader for archives one trusts. On hostile input it
//! refuses the whole archive at the first malformed extra field or oversize value, guesses an
//! offset for prepended data (so header offsets are no longer what the file says), keeps no
//! record of what it skipped, reserves memory by the entry count the end record declares and
//! keeps every entry's full metadata (a hostile "document" declares millions). Both readers
//! need the opposite: read every central record the file declares, keep going past a bad
//! one, say which entry is wrong and why, and keep only what each needs. The format is
//! small (APPNOTE 4.3.6, 4.3.7, 4.3.12, 4.3.14-16, 4.5.3) and every read here is
//! bounds-checked, so a lie in any length field costs at most one failed read.

use std::io::{self, Read};

mod central;
mod end;
mod local;
pub mod write;

pub use central::{
    central_records, CentralRecord, CentralRecords, DecodedName, RecordError, RecordProblem,
};
pub use end::{find_end_record, read_zip64_end, read_zip64_locator, EndRecord, Zip64End};
pub use local::{read_local_header, LocalHeader};
pub use write::{DosTime, EntryName, Layout, Method, Sizes, ZipStream};

pub const SIG_LOCAL: u32 = 0x0403_4b50;
pub const SIG_CENTRAL: u32 = 0x0201_4b50;
pub const SIG_EOCD: u32 = 0x0605_4b50;
pub const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;
pub const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;

/// The fixed part of each record; names, extra fields and comments follow it.
pub const EOCD_LEN: u64 = 22;
pub const ZIP64_LOCATOR_LEN: u64 = 20;
pub const ZIP64_EOCD_LEN: u64 = 56;
pub const CENTRAL_LEN: u64 = 46;
pub const LOCAL_LEN: u64 = 30;

/// General-purpose flag bit 0 (traditional PKWARE) or bit 6 (strong encryption).
pub const FLAG_ENCRYPTED: u16 = 0x0001 | 0x0040;
/// Bit 3: CRC and sizes follow the data in a data descriptor; the local header has zeros.
pub const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
/// Bit 11 (language encoding flag): the name and comment are UTF-8; without it they are
/// CP437 (APPNOTE 4.4.4, appendix D).
pub const FLAG_UTF8: u16 = 0x0800;

pub const METHOD_STORED: u16 = 0;
pub const METHOD_DEFLATED: u16 = 8;
/// WinZip AES marks its entries with this method.
pub const METHOD_AES: u16 = 99;

/// Extra field ids (APPNOTE 4.5.3, and Info-ZIP's Unicode path).
const EXTRA_ZIP64: u16 = 0x0001;
const EXTRA_UNICODE_PATH: u16 = 0x7075;

/// A 16- or 32-bit field that holds its largest value: the real one is in a Zip64 record.
const SATURATED_16: u16 = 0xFFFF;
const SATURATED_32: u32 = 0xFFFF_FFFF;

/// The most entries reserved for ahead of reading them: a count is what the file declares,
/// so memory beyond this grows with the records actually read.
pub const RESERVE_MAX: u64 = 1024;

/// Room to reserve for `declared` items: never more than [`RESERVE_MAX`], whatever a
/// hostile file declares.
pub fn capacity_for(declared: u64) -> usize {
    // At most RESERVE_MAX, which any usize holds.
    declared.min(RESERVE_MAX) as usize
}

/// Positional reads through `&self`, what the format needs from a file: the verifier reads
/// entries from several threads at once, and the document checks go through one bounded
/// reader.
pub trait ReadAt {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Reads up to `buf.len()` bytes at `offset`; 0 means end of data.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// True for an empty source.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads exactly `buf.len()` bytes at `offset`, or fails with `UnexpectedEof`.
pub fn read_exact_at(src: &dyn ReadAt, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match src.read_at(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A `Read` over `[pos, end)` of a source: it ends there whatever the file holds after.
pub struct RangeReader<'a> {
    src: &'a dyn ReadAt,
    pos: u64,
    end: u64,
}

impl<'a> RangeReader<'a> {
    pub fn new(src: &'a dyn ReadAt, start: u64, len: u64) -> RangeReader<'a> {
        RangeReader {
            src,
            pos: start,
            end: start.saturating_add(len),
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        if want == 0 {
            return Ok(0);
        }
        let n = self.src.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Iterates `(id, data)` over an extra field block; `Err` if a length runs past the block.
fn extra_fields(extra: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8]), RecordProblem>> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at + 4 > extra.len() {
            // Trailing padding shorter than a header is common (Android's zipalign) and
            // harmless.
            return None;
        }
        let id = le16(extra, at);
        let len = usize::from(le16(extra, at + 2));
        let start = at + 4;
        if start + len > extra.len() {
            at = extra.len();
            return Some(Err(RecordProblem::ExtraOverrun(id)));
        }
        at = start + len;
        Some(Ok((id, &extra[start..start + len])))
    })
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | u64::from(le32(b, at + 4)) << 32
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes(&'static [u8]);

    impl ReadAt for Bytes {
        fn len(&self) -> u64 {
            self.0.len() as u64
        }

        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let rest = self.0.get(offset as usize..).unwrap_or_default();
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }
    }

    #[test]
    fn a_range_ends_where_it_says() {
        let mut out = Vec::new();
        RangeReader::new(&Bytes(b"abcdefgh"), 2, 3)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"cde");
        let mut buf = [0u8; 4];
        assert!(read_exact_at(&Bytes(b"abcdefgh"), &mut buf, 6).is_err());
    }

    #[test]
    fn declared_counts_reserve_little() {
        assert_eq!(capacity_for(3), 3);
        assert_eq!(capacity_for(u64::MAX), 1024);
    }
}
