//! The zip structure, parsed by hand: end record (with Zip64), central directory and local
//! headers.
//!
//! Why not `zip::ZipArchive`: it is a reader for archives one trusts. On hostile input it
//! refuses the whole archive at the first malformed extra field or oversize value, guesses an
//! offset for prepended data (so header offsets are no longer what the file says), and keeps
//! no record of what it skipped. An auditor needs the opposite: read every central record
//! the file declares, keep going past a bad one, and say which entry is wrong and why. The
//! format is small (APPNOTE 4.3.6, 4.3.7, 4.3.12, 4.3.14-16, 4.5.3) and every read here is
//! bounds-checked, so a lie in any length field costs at most one failed read.

use std::io::{self, BufRead, BufReader, Read};

use super::source::{read_exact_at, Source};

/// Most entries a pack may hold; a central directory that declares more is refused before
/// anything is allocated for it.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// Largest central directory read: the entries' names are held in memory, so this bounds
/// that memory. A million entries with 200-byte names need about 250 MB of directory.
pub const MAX_CENTRAL_DIR: u64 = 256 * 1024 * 1024;

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const EOCD_LEN: u64 = 22;
const LOCAL_LEN: u64 = 30;
const CENTRAL_LEN: usize = 46;

/// Bit 0: encrypted (traditional PKWARE); bit 6: strong encryption.
pub const FLAG_ENCRYPTED: u16 = 0x0001 | 0x0040;
/// Bit 3: CRC and sizes follow the data in a data descriptor; the local header has zeros.
pub const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;

/// One central directory record, as declared.
#[derive(Debug, Clone)]
pub struct CdEntry {
    pub name_raw: Vec<u8>,
    /// The name from an Info-ZIP Unicode path field, kept only when the stored name is not
    /// UTF-8 (otherwise the two must agree, and the stored one is used).
    pub unicode_name: Option<String>,
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub header_offset: u64,
    pub made_by: u16,
    pub external_attr: u32,
    /// A problem with this record itself (malformed extra field, Unicode path field that
    /// names a different file); the entry is then never read.
    pub problem: Option<String>,
}

impl CdEntry {
    /// The name as UTF-8; `None` when it is not valid UTF-8 and no Unicode path field
    /// gives one.
    pub fn name(&self) -> Option<&str> {
        std::str::from_utf8(&self.name_raw)
            .ok()
            .or(self.unicode_name.as_deref())
    }

    /// The name for messages: the UTF-8 name, or a lossy rendering.
    pub fn display_name(&self) -> String {
        match self.name() {
            Some(n) => n.to_string(),
            None => String::from_utf8_lossy(&self.name_raw).into_owned(),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.name_raw.last() == Some(&b'/')
    }

    /// The unix file type bits when the entry was made on unix (high byte of "version made
    /// by" is 3), else `None`.
    pub fn unix_type(&self) -> Option<u32> {
        (self.made_by >> 8 == 3).then_some((self.external_attr >> 16) & 0o170_000)
    }
}

/// The parsed directory of a zip.
#[derive(Debug)]
pub struct CentralDir {
    pub entries: Vec<CdEntry>,
    /// Where the central directory starts: no entry's data may reach past it.
    pub cd_start: u64,
}

/// Why a file is not a readable zip at all (the verifier exits 2 with this).
#[derive(Debug)]
pub struct NotAZip(pub String);

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn io_reason(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "the file ends early (truncated zip)".into()
    } else {
        format!("read error: {e}")
    }
}

/// Finds and parses the end of central directory record (and Zip64 record), then every
/// central record. Fails only when the file as a whole cannot be a readable zip.
pub fn read_central_dir(src: &dyn Source) -> Result<CentralDir, NotAZip> {
    let mut end = find_end_record(src)?;
    read_zip64_end(src, &mut end)?;
    end.check()?;
    let reader = RangeReader {
        src,
        pos: end.cd_offset,
        end: end.cd_offset + end.cd_size,
    };
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let count = end.count;
    let mut entries = Vec::with_capacity(count as usize);
    for i in 0..count {
        let entry = read_central_entry(&mut reader).map_err(|why| {
            NotAZip(format!(
                "central directory record {} of {count}: {why} (corrupt or truncated zip)",
                i + 1
            ))
        })?;
        entries.push(entry);
    }
    Ok(CentralDir {
        entries,
        cd_start: end.cd_offset,
    })
}

/// What the end record (or the Zip64 end record) declares about the central directory.
struct EndRecord {
    /// Where the end record starts.
    pos: u64,
    disk: u16,
    cd_disk: u16,
    count: u64,
    cd_size: u64,
    cd_offset: u64,
    /// The central directory must end by here: the (Zip64) end record.
    cd_end_limit: u64,
}

/// Finds the end record: 22 bytes plus a comment of at most 65,535, so the tail is
/// searched from the end for a signature whose comment fits in what follows it.
fn find_end_record(src: &dyn Source) -> Result<EndRecord, NotAZip> {
    let len = src.len();
    if len == 0 {
        return Err(NotAZip("the file is empty, not a zip".into()));
    }
    let mut head = [0u8; 4];
    let starts_like_zip =
        read_exact_at(src, &mut head, 0).is_ok() && u32::from_le_bytes(head) == SIG_LOCAL;
    let no_end = || {
        NotAZip(if starts_like_zip {
            "truncated zip: it starts like a zip but has no end of central directory record \
             (the file was probably cut short in transfer)"
                .into()
        } else {
            "not a zip file (no zip end of central directory record)".into()
        })
    };
    if len < EOCD_LEN {
        return Err(no_end());
    }
    let tail_len = len.min(EOCD_LEN + 0xFFFF);
    let tail_start = len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    read_exact_at(src, &mut tail, tail_start).map_err(|e| NotAZip(io_reason(&e)))?;
    let fits = |i: usize| {
        le32(&tail, i) == SIG_EOCD
            && i + EOCD_LEN as usize + le16(&tail, i + 20) as usize <= tail.len()
    };
    let e = (0..=tail.len() - EOCD_LEN as usize)
        .rev()
        .find(|&i| fits(i))
        .ok_or_else(no_end)?;
    let eocd = &tail[e..e + EOCD_LEN as usize];
    let pos = tail_start + e as u64;
    Ok(EndRecord {
        pos,
        disk: le16(eocd, 4),
        cd_disk: le16(eocd, 6),
        count: u64::from(le16(eocd, 10)),
        cd_size: u64::from(le32(eocd, 12)),
        cd_offset: u64::from(le32(eocd, 16)),
        cd_end_limit: pos,
    })
}

/// Zip64: a locator just before the end record points at the Zip64 end record, whose
/// 64-bit fields replace the 16/32-bit ones.
fn read_zip64_end(src: &dyn Source, end: &mut EndRecord) -> Result<(), NotAZip> {
    if end.pos < 20 {
        return Ok(());
    }
    let mut loc = [0u8; 20];
    if read_exact_at(src, &mut loc, end.pos - 20).is_err() || le32(&loc, 0) != SIG_ZIP64_LOCATOR {
        return Ok(());
    }
    let z64_pos = le64(&loc, 8);
    let mut rec = [0u8; 56];
    if z64_pos
        .checked_add(56)
        .is_none_or(|rec_end| rec_end > end.pos - 20)
    {
        return Err(NotAZip(
            "the Zip64 end record is not where its locator says (corrupt or truncated zip)".into(),
        ));
    }
    read_exact_at(src, &mut rec, z64_pos).map_err(|e| NotAZip(io_reason(&e)))?;
    if le32(&rec, 0) != SIG_ZIP64_EOCD {
        return Err(NotAZip(
            "the Zip64 end record is missing (corrupt or truncated zip)".into(),
        ));
    }
    if le32(&rec, 16) != 0 || le32(&rec, 20) != 0 {
        return Err(NotAZip("multi-volume zips are not supported".into()));
    }
    end.count = le64(&rec, 32);
    end.cd_size = le64(&rec, 40);
    end.cd_offset = le64(&rec, 48);
    end.cd_end_limit = z64_pos;
    Ok(())
}

impl EndRecord {
    /// Refuses what no pack can be before anything is allocated for it: several volumes,
    /// too many entries, a directory too large or not where the end record says.
    fn check(&self) -> Result<(), NotAZip> {
        let (count, cd_size, cd_offset, limit) =
            (self.count, self.cd_size, self.cd_offset, self.cd_end_limit);
        if self.disk != 0 || self.cd_disk != 0 {
            return Err(NotAZip("multi-volume zips are not supported".into()));
        }
        if count > MAX_ENTRIES {
            return Err(NotAZip(format!(
                "the zip declares {count} entries, more than the {MAX_ENTRIES} a pack may hold"
            )));
        }
        if cd_size > MAX_CENTRAL_DIR {
            return Err(NotAZip(format!(
                "the central directory is {cd_size} bytes, more than the {MAX_CENTRAL_DIR} a pack may have"
            )));
        }
        if cd_offset.checked_add(cd_size).is_none_or(|end| end > limit) {
            return Err(NotAZip(format!(
                "the central directory (offset {cd_offset}, {cd_size} bytes) runs past the end \
                 record at {limit} (corrupt or truncated zip)"
            )));
        }
        if count.saturating_mul(CENTRAL_LEN as u64) > cd_size {
            return Err(NotAZip(format!(
                "the zip declares {count} entries but its central directory has room for fewer \
                 (corrupt zip)"
            )));
        }
        Ok(())
    }
}

/// A `Read` over `[pos, end)` of a source, for the central directory.
struct RangeReader<'a> {
    src: &'a dyn Source,
    pos: u64,
    end: u64,
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

fn read_central_entry<R: BufRead>(r: &mut R) -> Result<CdEntry, String> {
    let mut h = [0u8; CENTRAL_LEN];
    r.read_exact(&mut h).map_err(|e| io_reason(&e))?;
    if le32(&h, 0) != SIG_CENTRAL {
        return Err("bad signature".into());
    }
    let name_len = le16(&h, 28) as usize;
    let extra_len = le16(&h, 30) as usize;
    let comment_len = le16(&h, 32) as usize;
    let mut name_raw = vec![0u8; name_len];
    r.read_exact(&mut name_raw).map_err(|e| io_reason(&e))?;
    let mut extra = vec![0u8; extra_len];
    r.read_exact(&mut extra).map_err(|e| io_reason(&e))?;
    io::copy(&mut r.take(comment_len as u64), &mut io::sink()).map_err(|e| io_reason(&e))?;

    let mut entry = CdEntry {
        unicode_name: None,
        name_raw,
        made_by: le16(&h, 4),
        flags: le16(&h, 8),
        method: le16(&h, 10),
        crc32: le32(&h, 16),
        compressed_size: u64::from(le32(&h, 20)),
        size: u64::from(le32(&h, 24)),
        external_attr: le32(&h, 38),
        header_offset: u64::from(le32(&h, 42)),
        problem: None,
    };
    let disk = le16(&h, 34);
    if let Err(why) = apply_central_extra(&mut entry, &extra, disk) {
        entry.problem = Some(why);
    }
    Ok(entry)
}

/// Iterates `(id, data)` over an extra field block; `Err` if a length runs past the block.
fn extra_fields(extra: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8]), String>> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at + 4 > extra.len() {
            // Trailing padding shorter than a header is common (Android's zipalign) and
            // harmless.
            return None;
        }
        let id = le16(extra, at);
        let len = le16(extra, at + 2) as usize;
        let start = at + 4;
        if start + len > extra.len() {
            at = extra.len();
            return Some(Err(format!(
                "extra field {id:#06x} runs past the end of its block"
            )));
        }
        at = start + len;
        Some(Ok((id, &extra[start..start + len])))
    })
}

fn apply_central_extra(entry: &mut CdEntry, extra: &[u8], disk: u16) -> Result<(), String> {
    let mut saw_zip64 = false;
    for field in extra_fields(extra) {
        let (id, data) = field?;
        match id {
            0x0001 => {
                saw_zip64 = true;
                let mut at = 0usize;
                let mut next = |what: &str| -> Result<u64, String> {
                    if at + 8 > data.len() {
                        return Err(format!("Zip64 field lacks the {what}"));
                    }
                    let v = le64(data, at);
                    at += 8;
                    Ok(v)
                };
                if entry.size == 0xFFFF_FFFF {
                    entry.size = next("size")?;
                }
                if entry.compressed_size == 0xFFFF_FFFF {
                    entry.compressed_size = next("compressed size")?;
                }
                if entry.header_offset == 0xFFFF_FFFF {
                    entry.header_offset = next("header offset")?;
                }
            }
            0x7075 => {
                // Info-ZIP Unicode path: unzip tools prefer it to the stored name, so a
                // different name here is a second, hidden name for the entry.
                if data.len() < 5 {
                    return Err("malformed Unicode path field".into());
                }
                let upath = std::str::from_utf8(&data[5..])
                    .map_err(|_| "the Unicode path field is not UTF-8".to_string())?;
                match entry.name() {
                    Some(n) if n != upath => {
                        return Err(format!(
                            "its Unicode path field names a different file ({})",
                            crate::util::printable(upath)
                        ))
                    }
                    Some(_) => {}
                    None => entry.unicode_name = Some(upath.to_string()),
                }
            }
            _ => {}
        }
    }
    if !saw_zip64
        && (entry.size == 0xFFFF_FFFF
            || entry.compressed_size == 0xFFFF_FFFF
            || entry.header_offset == 0xFFFF_FFFF)
    {
        return Err("sizes marked as Zip64 but no Zip64 field".into());
    }
    if disk != 0 && disk != 0xFFFF {
        return Err("the entry is on another volume".into());
    }
    Ok(())
}

/// What the local header says, once checked against the central record.
#[derive(Debug, Clone, Copy)]
pub struct Local {
    /// Where the entry's (compressed) data starts.
    pub data_start: u64,
}

/// Reads the local header of `entry` and compares it with the central record: name, method,
/// encryption, and CRC and sizes unless a data descriptor carries them. `Err` says how they
/// disagree; such an entry is never read, because tools disagree on which header to trust.
pub fn read_local(src: &dyn Source, entry: &CdEntry) -> Result<Local, String> {
    let mut h = [0u8; LOCAL_LEN as usize];
    read_exact_at(src, &mut h, entry.header_offset)
        .map_err(|e| format!("local header unreadable: {}", io_reason(&e)))?;
    if le32(&h, 0) != SIG_LOCAL {
        return Err(format!(
            "no local header at offset {} where the central directory points",
            entry.header_offset
        ));
    }
    let flags = le16(&h, 6);
    let method = le16(&h, 8);
    let crc = le32(&h, 14);
    let mut csize = u64::from(le32(&h, 18));
    let mut size = u64::from(le32(&h, 22));
    let name_len = u64::from(le16(&h, 26));
    let extra_len = u64::from(le16(&h, 28));
    let mut var = vec![0u8; (name_len + extra_len) as usize];
    read_exact_at(src, &mut var, entry.header_offset + LOCAL_LEN)
        .map_err(|e| format!("local header unreadable: {}", io_reason(&e)))?;
    let (name, extra) = var.split_at(name_len as usize);
    if name != entry.name_raw.as_slice() {
        return Err(format!(
            "the local header names it {}",
            crate::util::printable(&String::from_utf8_lossy(name))
        ));
    }
    if method != entry.method {
        return Err(format!(
            "local header says compression method {method}, central directory says {}",
            entry.method
        ));
    }
    if flags & FLAG_ENCRYPTED != entry.flags & FLAG_ENCRYPTED {
        return Err("local header and central directory disagree on encryption".into());
    }
    if flags & FLAG_DATA_DESCRIPTOR == 0 {
        if size == 0xFFFF_FFFF || csize == 0xFFFF_FFFF {
            for field in extra_fields(extra) {
                let (id, data) = field?;
                if id == 0x0001 {
                    let mut at = 0;
                    if size == 0xFFFF_FFFF && data.len() >= at + 8 {
                        size = le64(data, at);
                        at += 8;
                    }
                    if csize == 0xFFFF_FFFF && data.len() >= at + 8 {
                        csize = le64(data, at);
                    }
                }
            }
        }
        if crc != entry.crc32 {
            return Err(format!(
                "local header says CRC-32 {crc:08x}, central directory says {:08x}",
                entry.crc32
            ));
        }
        if size != entry.size || csize != entry.compressed_size {
            return Err(format!(
                "local header says {size} bytes ({csize} compressed), central directory says {} ({})",
                entry.size, entry.compressed_size
            ));
        }
    }
    Ok(Local {
        data_start: entry.header_offset + LOCAL_LEN + name_len + extra_len,
    })
}

/// The smallest local header an entry can have: its fixed part. Used to find overlaps
/// before any local header is read; the name is not counted, since a forged local name may
/// be shorter than the central one and the lower bound must not invent an overlap.
pub fn min_header_len(_entry: &CdEntry) -> u64 {
    LOCAL_LEN
}

/// Given `(start, end, index)` byte ranges, returns for each index that overlaps an earlier
/// range the index it overlaps. Sorting is by start, so the cost is O(n log n) however the
/// ranges are nested.
pub fn overlaps(mut ranges: Vec<(u64, u64, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out = Vec::new();
    let mut reach: Option<(u64, usize)> = None;
    for (start, end, idx) in ranges {
        match reach {
            Some((max_end, holder)) if start < max_end => {
                out.push((idx, holder));
                if end > max_end {
                    reach = Some((end, idx));
                }
            }
            Some((max_end, _)) if end <= max_end => {}
            _ => reach = Some((end, idx)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::source::ByteSource;

    #[test]
    fn overlap_sweep() {
        assert!(overlaps(vec![(0, 10, 0), (10, 20, 1), (20, 30, 2)]).is_empty());
        assert_eq!(overlaps(vec![(0, 10, 0), (5, 20, 1)]), vec![(1, 0)]);
        // Nested: the same kernel referenced by many headers.
        let v = overlaps(vec![(0, 100, 0), (10, 100, 1), (20, 100, 2)]);
        assert_eq!(v, vec![(1, 0), (2, 0)]);
        // Same start.
        assert_eq!(overlaps(vec![(0, 5, 0), (0, 5, 1)]).len(), 1);
    }

    #[test]
    fn refuses_too_many_entries_before_reading_them() {
        let mut z = Vec::new();
        z.extend_from_slice(&SIG_ZIP64_EOCD.to_le_bytes());
        z.extend_from_slice(&44u64.to_le_bytes());
        z.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&2_000_000u64.to_le_bytes());
        z.extend_from_slice(&2_000_000u64.to_le_bytes());
        z.extend_from_slice(&0u64.to_le_bytes());
        z.extend_from_slice(&0u64.to_le_bytes());
        z.extend_from_slice(&SIG_ZIP64_LOCATOR.to_le_bytes());
        z.extend_from_slice(&[0; 4]);
        z.extend_from_slice(&0u64.to_le_bytes());
        z.extend_from_slice(&1u32.to_le_bytes());
        z.extend_from_slice(&SIG_EOCD.to_le_bytes());
        z.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        z.extend_from_slice(&[0xFF; 8]);
        z.extend_from_slice(&[0, 0]);
        let e = read_central_dir(&ByteSource(&z)).unwrap_err();
        assert!(e.0.contains("2000000 entries"), "{}", e.0);
    }

    #[test]
    fn rejects_non_zips() {
        assert!(read_central_dir(&ByteSource(b"")).is_err());
        assert!(read_central_dir(&ByteSource(b"hello world, this is not a zip file")).is_err());
        let e = read_central_dir(&ByteSource(b"PK\x03\x04 and then it stops short......."))
            .unwrap_err();
        assert!(e.0.contains("truncated"), "{}", e.0);
    }
}
