//! A zip's central directory, read within bounds, for the zip-based documents (Office
//! Open XML, OpenDocument); the format itself is [`crate::zipfmt`].
//!
//! The checks need only the entry names and where a few small entries start, so only that
//! is kept of each record, and a declared count above [`MAX_ENTRIES`] is refused before
//! anything is allocated for it. Entry data is read only for small parts, never past a cap,
//! whatever sizes the entry declares. Every read goes through the [`Bounded`] reader: a
//! limit it reaches makes the file `unreadable`, while what the bytes get wrong is `corrupt`.

use std::io::{self, Read, Seek, SeekFrom};

use flate2::read::DeflateDecoder;

use super::{found, Bounded, Check, Judged, Stop};
use crate::content::bounded::BoundedAt;
use crate::zipfmt::{
    self, CentralRecord, EndRecord, LocalHeader, ReadAt, RecordError, CENTRAL_LEN, FLAG_ENCRYPTED,
    LOCAL_LEN, METHOD_DEFLATED, METHOD_STORED, ZIP64_LOCATOR_LEN,
};

/// More entries than any real document holds (a workbook with thousands of sheets and
/// images has some thousands).
pub const MAX_ENTRIES: u64 = 50_000;

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

/// Reads the central directory; a missing or damaged one is `corrupt`.
pub fn read<R: Read + Seek>(r: &mut Bounded<R>, size: u64) -> Judged<Directory> {
    let src = BoundedAt::new(r, size);
    let end = find_end(&src)?;
    if end
        .cd_offset
        .checked_add(end.cd_size)
        .is_none_or(|e| e > end.cd_end_limit)
    {
        return Err(found(
            Check::Corrupt,
            "its zip directory points past the end of the file: the copy looks cut short",
        ));
    }
    if end.count > MAX_ENTRIES {
        return Err(too_many(&end));
    }
    walk(&src, &end)
}

fn too_many(end: &EndRecord) -> Stop {
    if end.count.saturating_mul(CENTRAL_LEN) > end.cd_size {
        found(
            Check::Corrupt,
            format!(
                "its zip directory claims {} entries, more than it has room for",
                end.count
            ),
        )
    } else {
        found(
            Check::Unreadable,
            format!(
                "its zip directory lists {} entries, more than the {MAX_ENTRIES} a document \
                 check reads",
                end.count
            ),
        )
    }
}

/// A read that ran past the end of the file is damage; any other failed read is not.
fn damage_or_io(err: io::Error, damaged: impl Fn() -> Stop) -> Stop {
    if err.kind() == io::ErrorKind::UnexpectedEof {
        damaged()
    } else {
        err.into()
    }
}

fn find_end(src: &dyn ReadAt) -> Judged<EndRecord> {
    let cut_short = || {
        found(
            Check::Corrupt,
            "no zip directory at its end: the copy looks cut short",
        )
    };
    let end = zipfmt::find_end_record(src)
        .map_err(|e| damage_or_io(e, cut_short))?
        .ok_or_else(cut_short)?;
    if end.wants_zip64() {
        zip64_end(src, end)
    } else {
        Ok(end)
    }
}

/// The Zip64 end record, through the locator just before the classic one: it must be
/// there, since the classic record says its values are.
fn zip64_end(src: &dyn ReadAt, mut end: EndRecord) -> Judged<EndRecord> {
    let damaged = || found(Check::Corrupt, "its Zip64 directory record is damaged");
    let record_at = zipfmt::read_zip64_locator(src, &end)?.ok_or_else(damaged)?;
    let record = zipfmt::read_zip64_end(src, record_at).map_err(|e| damage_or_io(e, damaged))?;
    match record {
        Some(z64) if record_at < end.pos - ZIP64_LOCATOR_LEN => {
            end.apply_zip64(&z64);
            Ok(end)
        }
        _ => Err(damaged()),
    }
}

/// One pass over the declared entries, keeping names and where each starts.
fn walk(src: &dyn ReadAt, end: &EndRecord) -> Judged<Directory> {
    // The count is at most MAX_ENTRIES here, and each entry costs its bytes in the budget.
    let mut entries = Vec::with_capacity(zipfmt::capacity_for(end.count));
    for (index, record) in zipfmt::central_records(src, end).enumerate() {
        entries.push(entry_of(record, index, end.count)?);
    }
    Ok(Directory { entries })
}

/// What the checks keep of a record; a record cut short or without its signature is
/// damage.
fn entry_of(record: Result<CentralRecord, RecordError>, index: usize, total: u64) -> Judged<Entry> {
    let damaged = || {
        found(
            Check::Corrupt,
            format!(
                "its zip directory is damaged at entry {} of {total}",
                index + 1
            ),
        )
    };
    let record = match record {
        Ok(record) if !record.comment_short => record,
        Ok(_) | Err(RecordError::BadSignature) => return Err(damaged()),
        Err(RecordError::Io(err)) => return Err(damage_or_io(err, damaged)),
    };
    Ok(Entry {
        name: String::from_utf8_lossy(&record.name_raw).into_owned(),
        flags: record.flags,
        method: record.method,
        compressed_size: record.compressed_size,
        offset: record.header_offset,
    })
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
    let local = r.read_at(entry.offset, LOCAL_LEN as usize)?;
    let local = LocalHeader::parse(&local).ok_or_else(damaged)?;
    r.seek(SeekFrom::Start(local.data_start(entry.offset)))?;
    let data = r.by_ref().take(entry.compressed_size);
    let mut out = Vec::new();
    let read = match entry.method {
        METHOD_STORED => data.take(cap).read_to_end(&mut out),
        METHOD_DEFLATED => DeflateDecoder::new(data).take(cap).read_to_end(&mut out),
        _ => return Ok(None),
    };
    match read {
        Ok(_) => Ok(Some(out)),
        Err(err) if super::is_damage(&err) => Err(damaged()),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;
    use crate::content::Limits;
    use crate::zipfmt::{SIG_EOCD, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR};

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
        eocd.extend_from_slice(&SIG_EOCD.to_le_bytes());
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
        bytes.extend_from_slice(&SIG_ZIP64_EOCD.to_le_bytes());
        bytes.extend_from_slice(&44u64.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]);
        bytes.extend_from_slice(&(1u64 << 33).to_le_bytes());
        bytes.extend_from_slice(&(1u64 << 33).to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&SIG_ZIP64_LOCATOR.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&record_at.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&SIG_EOCD.to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0xFF; 8]);
        bytes.extend_from_slice(&[0, 0]);
        let (check, detail) = verdict(dir_of(&bytes));
        assert_eq!(check, Check::Corrupt);
        assert!(detail.contains("claims 8589934592 entries"), "{detail}");
    }
}
