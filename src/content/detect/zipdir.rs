//! A zip's central directory, read within bounds, for the zip-based documents (Office
//! Open XML, OpenDocument).
//!
//! Why not `zip::ZipArchive`: it reserves memory by the entry count the end record
//! declares and keeps every entry's full metadata, and a hostile "document" declares
//! millions. The checks need only the entry names and where a few small entries start,
//! so this reads the end record (with Zip64) and walks the directory once, refusing a
//! declared count above [`MAX_ENTRIES`] before anything is allocated for it. Entry data
//! is read only for small parts, never past a cap, whatever sizes the entry declares.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use flate2::read::DeflateDecoder;

use super::{found, Bounded, Check, Judged};

/// More entries than any real document holds (a workbook with thousands of sheets and
/// images has some thousands).
pub const MAX_ENTRIES: u64 = 50_000;

const SIG_EOCD: &[u8] = b"PK\x05\x06";
const SIG_ZIP64_LOCATOR: &[u8] = b"PK\x06\x07";
const SIG_ZIP64_EOCD: &[u8] = b"PK\x06\x06";
const SIG_CENTRAL: &[u8] = b"PK\x01\x02";
const SIG_LOCAL: &[u8] = b"PK\x03\x04";
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
/// The end record sits within a 64 KiB comment of the end; most files have none, so a
/// first short look usually finds it.
const FIRST_LOOK: usize = 1024;
const FULL_LOOK: usize = EOCD_LEN + 0xFFFF;

/// Bit 0 (traditional PKWARE) or bit 6 (strong encryption) of the general flags.
const FLAG_ENCRYPTED: u16 = 0x0001 | 0x0040;

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub flags: u16,
    pub method: u16,
    pub compressed_size: u64,
    pub offset: u64,
}

impl Entry {
    pub fn is_encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }
}

#[derive(Debug)]
pub struct Directory {
    pub entries: Vec<Entry>,
}

impl Directory {
    /// Part names in these packages compare without regard to ASCII case (OPC, ODF).
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Where the central directory is and how many entries it declares.
struct End {
    offset: u64,
    size: u64,
    entries: u64,
    /// Where the end records start: the directory must lie before it.
    limit: u64,
}

/// Reads the central directory; a missing or damaged one is `corrupt`.
pub fn read<R: Read + Seek>(r: &mut Bounded<R>, size: u64) -> Judged<Directory> {
    let end = find_end(r, size)?;
    if end
        .offset
        .checked_add(end.size)
        .is_none_or(|e| e > end.limit)
    {
        return Err(found(
            Check::Corrupt,
            "its zip directory points past the end of the file: the copy looks cut short",
        ));
    }
    if end.entries > MAX_ENTRIES {
        return Err(too_many(&end));
    }
    walk(r, &end)
}

fn too_many(end: &End) -> super::Stop {
    if end.entries.saturating_mul(CENTRAL_LEN as u64) > end.size {
        found(
            Check::Corrupt,
            format!(
                "its zip directory claims {} entries, more than it has room for",
                end.entries
            ),
        )
    } else {
        found(
            Check::Unreadable,
            format!(
                "its zip directory lists {} entries, more than the {MAX_ENTRIES} a document \
                 check reads",
                end.entries
            ),
        )
    }
}

fn find_end<R: Read + Seek>(r: &mut Bounded<R>, size: u64) -> Judged<End> {
    for look in [FIRST_LOOK, FULL_LOOK] {
        let (start, tail) = r.read_tail(size, look)?;
        if let Some(pos) = eocd_position(&tail) {
            return parse_end(r, start + pos as u64, &tail[pos..]);
        }
        if tail.len() as u64 == size {
            break;
        }
    }
    Err(found(
        Check::Corrupt,
        "no zip directory at its end: the copy looks cut short",
    ))
}

/// The last end-record signature whose comment length fits what follows it.
fn eocd_position(tail: &[u8]) -> Option<usize> {
    memchr::memmem::rfind_iter(tail, SIG_EOCD).find(|&pos| {
        tail.get(pos + 20..pos + 22)
            .is_some_and(|c| pos + EOCD_LEN + usize::from(le16(c, 0)) <= tail.len())
    })
}

fn parse_end<R: Read + Seek>(r: &mut Bounded<R>, at: u64, eocd: &[u8]) -> Judged<End> {
    let entries = u64::from(le16(eocd, 10));
    let size = u64::from(le32(eocd, 12));
    let offset = u64::from(le32(eocd, 16));
    if entries != 0xFFFF && size != 0xFFFF_FFFF && offset != 0xFFFF_FFFF {
        return Ok(End {
            offset,
            size,
            entries,
            limit: at,
        });
    }
    zip64_end(r, at)
}

/// The Zip64 end record, through the locator just before the classic one.
fn zip64_end<R: Read + Seek>(r: &mut Bounded<R>, eocd_at: u64) -> Judged<End> {
    let damaged = || found(Check::Corrupt, "its Zip64 directory record is damaged");
    let locator_at = eocd_at.checked_sub(20).ok_or_else(damaged)?;
    let locator = r.read_at(locator_at, 20)?;
    if locator.len() < 20 || !locator.starts_with(SIG_ZIP64_LOCATOR) {
        return Err(damaged());
    }
    let record_at = le64(&locator, 8);
    let record = r.read_at(record_at, 56)?;
    if record.len() < 56 || !record.starts_with(SIG_ZIP64_EOCD) || record_at >= locator_at {
        return Err(damaged());
    }
    Ok(End {
        entries: le64(&record, 32),
        size: le64(&record, 40),
        offset: le64(&record, 48),
        limit: record_at,
    })
}

/// One pass over the declared entries, keeping names and where each starts.
fn walk<R: Read + Seek>(r: &mut Bounded<R>, end: &End) -> Judged<Directory> {
    r.seek(SeekFrom::Start(end.offset))?;
    let mut dir = BufReader::with_capacity(64 << 10, r.by_ref().take(end.size));
    // The count is at most MAX_ENTRIES here, and each entry costs its bytes in the budget.
    let mut entries = Vec::with_capacity(end.entries.min(1024) as usize);
    for index in 0..end.entries {
        entries.push(read_entry(&mut dir, index, end.entries)?);
    }
    Ok(Directory { entries })
}

fn read_entry(dir: &mut impl Read, index: u64, total: u64) -> Judged<Entry> {
    let damaged = || {
        found(
            Check::Corrupt,
            format!(
                "its zip directory is damaged at entry {} of {total}",
                index + 1
            ),
        )
    };
    let mut fixed = [0u8; CENTRAL_LEN];
    read_exact_or(dir, &mut fixed, damaged)?;
    if !fixed.starts_with(SIG_CENTRAL) {
        return Err(damaged());
    }
    let name_len = usize::from(le16(&fixed, 28));
    let skip = u64::from(le16(&fixed, 30)) + u64::from(le16(&fixed, 32));
    let mut name = vec![0u8; name_len];
    read_exact_or(dir, &mut name, damaged)?;
    let skipped = io::copy(&mut dir.take(skip), &mut io::sink())?;
    if skipped < skip {
        return Err(damaged());
    }
    Ok(Entry {
        name: String::from_utf8_lossy(&name).into_owned(),
        flags: le16(&fixed, 8),
        method: le16(&fixed, 10),
        compressed_size: u64::from(le32(&fixed, 20)),
        offset: u64::from(le32(&fixed, 42)),
    })
}

fn read_exact_or(r: &mut impl Read, buf: &mut [u8], damaged: impl Fn() -> super::Stop) -> Judged {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Err(damaged()),
        Err(err) => Err(err.into()),
    }
}

/// The first `cap` bytes of an entry's data, inflated if need be: enough to read a small
/// part (a manifest, a relationship list) without trusting its declared size. `None`
/// for a compression method Office and OpenDocument never write.
pub fn read_prefix<R: Read + Seek>(
    r: &mut Bounded<R>,
    entry: &Entry,
    cap: u64,
) -> Judged<Option<Vec<u8>>> {
    let damaged = || {
        found(
            Check::Corrupt,
            format!("its part {} is damaged", entry.name),
        )
    };
    let local = r.read_at(entry.offset, LOCAL_LEN)?;
    if local.len() < LOCAL_LEN || !local.starts_with(SIG_LOCAL) {
        return Err(damaged());
    }
    let data_at =
        entry.offset + LOCAL_LEN as u64 + u64::from(le16(&local, 26)) + u64::from(le16(&local, 28));
    r.seek(SeekFrom::Start(data_at))?;
    let data = r.by_ref().take(entry.compressed_size);
    let mut out = Vec::new();
    let read = match entry.method {
        0 => data.take(cap).read_to_end(&mut out),
        8 => DeflateDecoder::new(data).take(cap).read_to_end(&mut out),
        _ => return Ok(None),
    };
    match read {
        Ok(_) => Ok(Some(out)),
        Err(err) if super::is_damage(&err) => Err(damaged()),
        Err(err) => Err(err.into()),
    }
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
pub(super) mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;
    use crate::content::Limits;

    /// A zip of the given (name, contents), deflated, for the document tests.
    pub fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in parts {
            let method = if *name == "mimetype" {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            };
            w.start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn dir_of(bytes: &[u8]) -> Judged<Directory> {
        let mut r = Bounded::new(Cursor::new(bytes), &Limits::default());
        read(&mut r, bytes.len() as u64)
    }

    fn verdict(judged: Judged<Directory>) -> (Check, String) {
        match judged {
            Err(super::super::Stop::Found(c)) => (c.check, c.detail.unwrap_or_default()),
            Err(super::super::Stop::Io(e)) => panic!("io error {e}"),
            Ok(d) => panic!("read {} entries", d.entries.len()),
        }
    }

    #[test]
    fn reads_names_and_small_parts() {
        let bytes = zip_of(&[("mimetype", b"abc"), ("A/b.xml", &[b'x'; 5000])]);
        let dir = dir_of(&bytes).map_err(|_| ()).unwrap();
        assert!(dir.has("a/B.XML"));
        let mut r = Bounded::new(Cursor::new(&bytes), &Limits::default());
        let part = dir.get("A/b.xml").unwrap();
        let prefix = read_prefix(&mut r, part, 100).map_err(|_| ()).unwrap();
        assert_eq!(prefix, Some(vec![b'x'; 100]));
    }

    #[test]
    fn a_cut_short_zip_is_corrupt() {
        let bytes = zip_of(&[("a.xml", b"<a/>")]);
        let (check, detail) = verdict(dir_of(&bytes[..bytes.len() - 30]));
        assert_eq!(check, Check::Corrupt);
        assert!(detail.contains("cut short"), "{detail}");
    }

    #[test]
    fn a_directory_claiming_millions_of_entries_is_refused_unread() {
        let mut eocd = b"PK\x03\x04".to_vec();
        eocd.extend_from_slice(SIG_EOCD);
        eocd.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFE, 0xFF, 0xFE]);
        eocd.extend_from_slice(&0u32.to_le_bytes());
        eocd.extend_from_slice(&0u32.to_le_bytes());
        eocd.extend_from_slice(&[0, 0]);
        let (check, detail) = verdict(dir_of(&eocd));
        assert_eq!(check, Check::Corrupt, "{detail}");
        assert!(detail.contains("claims 65279 entries"), "{detail}");
    }

    #[test]
    fn a_zip64_record_claiming_billions_of_entries_is_refused_unread() {
        let mut bytes = b"PK\x03\x04".to_vec();
        let record_at = bytes.len() as u64;
        bytes.extend_from_slice(SIG_ZIP64_EOCD);
        bytes.extend_from_slice(&44u64.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]);
        bytes.extend_from_slice(&(1u64 << 33).to_le_bytes());
        bytes.extend_from_slice(&(1u64 << 33).to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(SIG_ZIP64_LOCATOR);
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&record_at.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(SIG_EOCD);
        bytes.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFF; 8]);
        bytes.extend_from_slice(&[0, 0]);
        let (check, detail) = verdict(dir_of(&bytes));
        assert_eq!(check, Check::Corrupt);
        assert!(detail.contains("claims 8589934592 entries"), "{detail}");
    }
}
