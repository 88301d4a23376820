//! The verifier's reading of a pack's zip structure; the format itself is
//! [`crate::zipfmt`]. What is policy here: the caps on a pack, what makes a file no zip at
//! all ([`NotAZip`], exit 2), and what a local header must agree on with its central record.
//! Every central record the file declares is kept, a bad one with its problem, so that each
//! wrong entry is named and the rest are still checked.

use std::io;

use super::source::Source;
use crate::zipfmt::{
    self, read_exact_at, CentralRecord, EndRecord, LocalHeader, RecordError, CENTRAL_LEN,
    FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, LOCAL_LEN, SIG_LOCAL, ZIP64_EOCD_LEN, ZIP64_LOCATOR_LEN,
};

/// Most entries a pack may hold; a central directory that declares more is refused before
/// anything is allocated for it.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// Largest central directory read: the entries' names are held in memory, so this bounds
/// that memory. A million entries with 200-byte names need about 250 MB of directory.
pub const MAX_CENTRAL_DIR: u64 = 256 * 1024 * 1024;

/// The parsed directory of a zip.
#[derive(Debug)]
pub struct CentralDir {
    pub entries: Vec<CentralRecord>,
    /// Where the central directory starts: no entry's data may reach past it.
    pub cd_start: u64,
}

/// Why a file is not a readable zip at all (the verifier exits 2 with this).
#[derive(Debug)]
pub struct NotAZip(pub String);

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
    let mut end = find_end(src)?;
    apply_zip64_end(src, &mut end)?;
    check(&end)?;
    Ok(CentralDir {
        entries: read_records(src, &end)?,
        cd_start: end.cd_offset,
    })
}

/// Every record the end record declares; the first that cannot be read refuses the zip,
/// since the records after it cannot be found.
fn read_records(src: &dyn Source, end: &EndRecord) -> Result<Vec<CentralRecord>, NotAZip> {
    let count = end.count;
    let mut entries = Vec::with_capacity(zipfmt::capacity_for(count));
    for (i, record) in zipfmt::central_records(src, end).enumerate() {
        let record = record.map_err(|err| {
            let why = match err {
                RecordError::BadSignature => "bad signature".into(),
                RecordError::Io(e) => io_reason(&e),
            };
            NotAZip(format!(
                "central directory record {} of {count}: {why} (corrupt or truncated zip)",
                i + 1
            ))
        })?;
        entries.push(record);
    }
    Ok(entries)
}

fn find_end(src: &dyn Source) -> Result<EndRecord, NotAZip> {
    if src.is_empty() {
        return Err(NotAZip("the file is empty, not a zip".into()));
    }
    match zipfmt::find_end_record(src) {
        Ok(Some(end)) => Ok(end),
        Ok(None) => Err(no_end(src)),
        Err(e) => Err(NotAZip(io_reason(&e))),
    }
}

/// No end record: a file that starts like a zip was most likely cut short.
fn no_end(src: &dyn Source) -> NotAZip {
    let mut head = [0u8; 4];
    let starts_like_zip =
        read_exact_at(src, &mut head, 0).is_ok() && u32::from_le_bytes(head) == SIG_LOCAL;
    NotAZip(if starts_like_zip {
        "truncated zip: it starts like a zip but has no end of central directory record \
         (the file was probably cut short in transfer)"
            .into()
    } else {
        "not a zip file (no zip end of central directory record)".into()
    })
}

/// Zip64: a locator just before the end record points at the Zip64 end record, whose
/// 64-bit fields replace the 16/32-bit ones. Without a locator the zip is not Zip64.
fn apply_zip64_end(src: &dyn Source, end: &mut EndRecord) -> Result<(), NotAZip> {
    let Ok(Some(z64_pos)) = zipfmt::read_zip64_locator(src, end) else {
        return Ok(());
    };
    let locator_pos = end.pos - ZIP64_LOCATOR_LEN;
    if z64_pos
        .checked_add(ZIP64_EOCD_LEN)
        .is_none_or(|rec_end| rec_end > locator_pos)
    {
        return Err(NotAZip(
            "the Zip64 end record is not where its locator says (corrupt or truncated zip)".into(),
        ));
    }
    let z64 = zipfmt::read_zip64_end(src, z64_pos)
        .map_err(|e| NotAZip(io_reason(&e)))?
        .ok_or_else(|| {
            NotAZip("the Zip64 end record is missing (corrupt or truncated zip)".into())
        })?;
    if z64.disk != 0 || z64.cd_disk != 0 {
        return Err(NotAZip("multi-volume zips are not supported".into()));
    }
    end.apply_zip64(&z64);
    Ok(())
}

/// Refuses what no pack can be before anything is allocated for it: several volumes,
/// too many entries, a directory too large or not where the end record says.
fn check(end: &EndRecord) -> Result<(), NotAZip> {
    let (count, cd_size, cd_offset, limit) =
        (end.count, end.cd_size, end.cd_offset, end.cd_end_limit);
    if end.disk != 0 || end.cd_disk != 0 {
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
    if count.saturating_mul(CENTRAL_LEN) > cd_size {
        return Err(NotAZip(format!(
            "the zip declares {count} entries but its central directory has room for fewer \
             (corrupt zip)"
        )));
    }
    Ok(())
}

/// What the local header says, once checked against the central record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// Where the entry's (compressed) data starts.
    pub data_start: u64,
}

/// Reads the local header of `entry` and compares it with the central record: name, method,
/// encryption, and CRC and sizes unless a data descriptor carries them. `Err` says how they
/// disagree; such an entry is never read, because tools disagree on which header to trust.
pub fn read_local(src: &dyn Source, entry: &CentralRecord) -> Result<Local, String> {
    let offset = entry.header_offset;
    let unreadable = |e: io::Error| format!("local header unreadable: {}", io_reason(&e));
    let local = zipfmt::read_local_header(src, offset)
        .map_err(unreadable)?
        .ok_or_else(|| {
            format!("no local header at offset {offset} where the central directory points")
        })?;
    let mut var = vec![0u8; local.var_len()];
    read_exact_at(src, &mut var, offset + LOCAL_LEN).map_err(unreadable)?;
    check_local(local, &var, entry)
}

/// [`read_local`] for many entries, reading windows of the zip rather than each header on
/// its own: in a pack of small files one read covers hundreds of headers, where reading
/// them one by one costs two system calls each. Entries not `wanted` get `None`.
pub fn read_locals(
    src: &dyn Source,
    entries: &[CentralRecord],
    wanted: &[bool],
) -> Vec<Option<Result<Local, String>>> {
    let mut order: Vec<usize> = (0..entries.len()).filter(|&i| wanted[i]).collect();
    order.sort_unstable_by_key(|&i| entries[i].header_offset);
    let mut out: Vec<Option<Result<Local, String>>> = vec![None; entries.len()];
    Window::default().locals(src, entries, &order, &mut out);
    out
}

/// A stretch of the zip read at once.
#[derive(Default)]
struct Window {
    start: u64,
    bytes: Vec<u8>,
}

/// Most bytes one window reads: headers past it are read in another.
const WINDOW: u64 = 256 * 1024;

/// Room read past a header's name for its extra field: more than a pack's (a Zip64
/// field, an alignment field), so a second read is rare.
const EXTRA_ROOM: u64 = 64;

impl Window {
    /// The local headers of `run` (entries in the order of their offsets), into `out`.
    fn locals(
        &mut self,
        src: &dyn Source,
        entries: &[CentralRecord],
        run: &[usize],
        out: &mut [Option<Result<Local, String>>],
    ) {
        let reach = |e: &CentralRecord| {
            e.header_offset
                .saturating_add(LOCAL_LEN + e.name_raw.len() as u64 + EXTRA_ROOM)
        };
        for (k, &i) in run.iter().enumerate() {
            let e = &entries[i];
            if !self.holds(e.header_offset, reach(e)) {
                // Read on to the last header that starts within a window from here: small
                // files' data comes along, a large file's does not.
                let limit = e.header_offset.saturating_add(WINDOW);
                let end = run[k..]
                    .iter()
                    .map(|&j| &entries[j])
                    .take_while(|f| f.header_offset < limit)
                    .map(reach)
                    .fold(reach(e), u64::max);
                self.read(src, e.header_offset, end.min(src.len()));
            }
            out[i] = Some(self.local(e).unwrap_or_else(|| read_local(src, e)));
        }
    }

    fn holds(&self, from: u64, to: u64) -> bool {
        from >= self.start && to <= self.start + self.bytes.len() as u64
    }

    /// Reads `[from, to)`, or as much of it as there is (a short window only sends its
    /// headers to [`read_local`], which says why they cannot be read).
    fn read(&mut self, src: &dyn Source, from: u64, to: u64) {
        self.start = from;
        self.bytes
            .resize(usize::try_from(to.saturating_sub(from)).unwrap_or(0), 0);
        let mut got = 0;
        while got < self.bytes.len() {
            match src.read_at(&mut self.bytes[got..], from + got as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        self.bytes.truncate(got);
    }

    /// The local header of `e` checked, if the window holds all of it and its signature.
    fn local(&self, e: &CentralRecord) -> Option<Result<Local, String>> {
        let at = usize::try_from(e.header_offset.checked_sub(self.start)?).ok()?;
        let h = self.bytes.get(at..)?;
        let local = LocalHeader::parse(h)?;
        let var = h.get(LOCAL_LEN as usize..LOCAL_LEN as usize + local.var_len())?;
        Some(check_local(local, var, e))
    }
}

/// A local header (with its name and extra field, `var`) against its central record.
fn check_local(mut local: LocalHeader, var: &[u8], entry: &CentralRecord) -> Result<Local, String> {
    let (name, extra) = var.split_at(usize::from(local.name_len));
    same_entry(&local, name, entry)?;
    if local.flags & FLAG_DATA_DESCRIPTOR == 0 {
        local.apply_zip64(extra).map_err(|p| p.to_string())?;
        same_data(&local, entry)?;
    }
    Ok(Local {
        data_start: local.data_start(entry.header_offset),
    })
}

/// The local header names the same entry, compressed and encrypted the same way.
fn same_entry(local: &LocalHeader, name: &[u8], entry: &CentralRecord) -> Result<(), String> {
    if name != entry.name_raw.as_slice() {
        return Err(format!(
            "the local header names it {}",
            crate::util::printable(&String::from_utf8_lossy(name))
        ));
    }
    if local.method != entry.method {
        return Err(format!(
            "local header says compression method {}, central directory says {}",
            local.method, entry.method
        ));
    }
    if local.flags & FLAG_ENCRYPTED != entry.flags & FLAG_ENCRYPTED {
        return Err("local header and central directory disagree on encryption".into());
    }
    Ok(())
}

/// The local header declares the same CRC and sizes (when it carries them).
fn same_data(local: &LocalHeader, entry: &CentralRecord) -> Result<(), String> {
    let (crc, size, csize) = (local.crc32, local.size, local.compressed_size);
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
    Ok(())
}

/// The smallest local header an entry can have: its fixed part. Used to find overlaps
/// before any local header is read; the name is not counted, since a forged local name may
/// be shorter than the central one and the lower bound must not invent an overlap.
pub fn min_header_len(_entry: &CentralRecord) -> u64 {
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
    use crate::zipfmt::{SIG_EOCD, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR};

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
    fn headers_read_in_windows_are_those_read_one_by_one() {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        // Small and large entries: windows that hold many headers, and ones that hold one.
        for (i, size) in [0usize, 10, 300_000, 5, 70_000, 1, 600_000, 2]
            .iter()
            .enumerate()
        {
            w.start_file(format!("bag/data/f{i}"), stored)
                .expect("start");
            w.write_all(&vec![b'x'; *size]).expect("write");
        }
        let zip = w.finish().expect("finish").into_inner();
        let src = ByteSource(&zip);
        let cd = read_central_dir(&src).expect("a zip");
        let mut wanted = vec![true; cd.entries.len()];
        wanted[3] = false;
        let windowed = read_locals(&src, &cd.entries, &wanted);
        for (i, e) in cd.entries.iter().enumerate() {
            let one = wanted[i].then(|| read_local(&src, e));
            assert_eq!(windowed[i], one, "entry {i}");
        }
        assert!(windowed[0].as_ref().is_some_and(Result::is_ok));
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
