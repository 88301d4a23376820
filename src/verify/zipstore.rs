//! A pack zip as a [`Store`]: structural checks on the central directory before any data
//! is read, then streaming reads of the entries that passed them.
//!
//! Order matters for safety. Everything that can be judged from the central directory and
//! the local headers (names, symlinks, encryption, duplicates, overlapping ranges, header
//! disagreements) is judged first, and an entry that fails any of it is never inflated.
//! The entries that remain are inflated with their declared size as a hard ceiling, so a
//! deflate bomb costs at most one chunk past that size.

use std::collections::HashSet;

use super::findings::{Finding, Kind};
use super::source::Source;
use super::store::{self, Buffers, Listing, Member, Problem, Store};
use super::zipdir::{self, NotAZip};
use crate::zipfmt::{CentralRecord, METHOD_AES, METHOD_DEFLATED, METHOD_STORED};

pub struct ZipStore<'a> {
    src: &'a dyn Source,
    /// What reading each member needs, by its key. The central records themselves (names,
    /// extra fields) are dropped once judged: a member's path is all that is kept of its
    /// name, in the listing.
    entries: Vec<Entry>,
}

/// One readable entry, as its checked records declare it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    method: u16,
    crc32: u32,
    compressed_size: u64,
    size: u64,
    /// Where its data starts (after the local header).
    data_start: u64,
}

/// Why an entry is unsafe to read, judged from its name alone.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if name.is_empty() {
        Some("has an empty name")
    } else if name.starts_with('/') {
        Some("is an absolute path")
    } else if name.contains('\\') {
        Some("contains a backslash (a folder separator on Windows)")
    } else if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        Some("starts with a drive letter")
    } else if name.split('/').any(|c| c == "..") {
        Some("contains `..` (it would be written outside the folder it is unzipped to)")
    } else if name.contains('\0') {
        Some("contains a NUL character")
    } else {
        None
    }
}

/// The bag folder: the folder that holds `bagit.txt`, nearest the top. A bag may carry other
/// bags in its payload, so deeper ones are payload; two at the same depth are ambiguous.
fn find_root(entries: &[CentralRecord]) -> Result<String, String> {
    let mut best: Option<(usize, HashSet<String>)> = None;
    for e in entries {
        let Some(name) = e.name() else { continue };
        if unsafe_name(name).is_some() {
            continue;
        }
        let root = if name == "bagit.txt" {
            ""
        } else if let Some(r) = name.strip_suffix("/bagit.txt") {
            &name[..r.len() + 1]
        } else {
            continue;
        };
        let depth = root.matches('/').count();
        match &mut best {
            Some((d, set)) if *d == depth => {
                set.insert(root.to_string());
            }
            Some((d, _)) if *d < depth => {}
            _ => best = Some((depth, HashSet::from([root.to_string()]))),
        }
    }
    match best {
        None => Err("no bagit.txt in the zip: this is not a BagIt pack".into()),
        Some((_, set)) if set.len() == 1 => Ok(set.into_iter().next().unwrap_or_default()),
        Some((_, set)) => {
            let mut roots: Vec<_> = set.iter().map(|r| crate::util::printable(r)).collect();
            roots.sort();
            Err(format!(
                "several folders hold a bagit.txt at the same level ({}): cannot tell which is the bag",
                roots.join(", ")
            ))
        }
    }
}

/// Opens a zip: reads the central directory, judges every entry, and lists the members
/// that may be read. `Err` when the file is not a readable pack at all.
pub fn open(src: &dyn Source) -> Result<(ZipStore<'_>, Listing), String> {
    let cd = zipdir::read_central_dir(src).map_err(|NotAZip(why)| why)?;
    let root = find_root(&cd.entries)?;
    let mut j = Judged {
        entries: &cd.entries,
        root: &root,
        findings: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
        bad: vec![false; cd.entries.len()],
    };
    j.each_entry();
    j.duplicates();
    j.case_twins();
    j.central_overlaps(cd.cd_start);
    j.cp437_names();
    let data_start = j.local_headers(src, cd.cd_start);
    let Judged {
        findings,
        warnings,
        notes,
        bad,
        ..
    } = j;
    let mut listing = Listing {
        findings,
        warnings,
        notes,
        ..Listing::default()
    };
    let entries = members(cd.entries, &bad, &data_start, root, &mut listing);
    Ok((ZipStore { src, entries }, listing))
}

/// Sorts the entries into the listing, consuming their records: the members that may be
/// read (files inside the bag folder that passed every judgement), with what reading each
/// needs; what was flagged inside the bag folder; and entries outside it.
fn members(
    records: Vec<CentralRecord>,
    bad: &[bool],
    data_start: &[Option<u64>],
    root: String,
    listing: &mut Listing,
) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(records.len());
    listing.members.reserve_exact(records.len());
    for (i, e) in records.into_iter().enumerate() {
        let (is_dir, size) = (e.is_dir(), e.size);
        let fixed = Entry {
            method: e.method,
            crc32: e.crc32,
            compressed_size: e.compressed_size,
            size: e.size,
            data_start: data_start[i].unwrap_or_default(),
        };
        let name = owned_name(e);
        let inside = name.starts_with(root.as_str()) && name.len() > root.len();
        match (bad[i], data_start[i]) {
            (true, _) | (false, None) if inside => {
                let rel = &name[root.len()..];
                listing
                    .flagged
                    .insert(rel.trim_end_matches('/').to_string());
                if !is_dir {
                    listing.flagged_sizes.push((rel.to_string(), size));
                }
            }
            (true, _) | (false, None) => {}
            _ if is_dir => {}
            _ if inside => {
                let mut path = name;
                path.drain(..root.len());
                listing.members.push(Member {
                    path,
                    size,
                    key: entries.len(),
                });
                entries.push(fixed);
            }
            _ if store::is_os_litter(&name) => listing.litter.push(name),
            _ => listing.findings.push(Finding::new(
                Kind::Unexpected,
                name,
                format!(
                    "outside the bag folder {}",
                    if root.is_empty() {
                        "(top level)".to_string()
                    } else {
                        crate::util::printable(&root)
                    }
                ),
            )),
        }
    }
    listing.root = root;
    entries
}

/// An entry's name as read ([`CentralRecord::display_name`]), taking the record's own
/// bytes when they are the name: no copy of two hundred thousand names.
fn owned_name(e: CentralRecord) -> String {
    if e.decoded_name.is_some() {
        return e.display_name();
    }
    String::from_utf8(e.name_raw)
        .unwrap_or_else(|bad| String::from_utf8_lossy(bad.as_bytes()).into_owned())
}

/// The judging of a zip's entries, phase by phase: findings so far, and which entries must
/// not be read.
struct Judged<'a> {
    entries: &'a [CentralRecord],
    /// The bag folder (`NAME/`, or empty).
    root: &'a str,
    findings: Vec<Finding>,
    warnings: Vec<String>,
    notes: Vec<String>,
    bad: Vec<bool>,
}

impl Judged<'_> {
    /// The path shown for entry `i`: relative to the bag folder when it is inside it.
    fn shown(&self, i: usize) -> String {
        let name = self.entries[i].display_name();
        match name.strip_prefix(self.root) {
            Some(rel) if !rel.is_empty() => rel.to_string(),
            _ => name,
        }
    }

    fn flag(&mut self, i: usize, kind: Kind, message: String) {
        self.findings
            .push(Finding::new(kind, self.shown(i), message));
        self.bad[i] = true;
    }

    /// Flags `i` unless an earlier phase already did (each entry is named once).
    fn flag_once(&mut self, i: usize, kind: Kind, message: String) {
        if !self.bad[i] {
            self.flag(i, kind, message);
        }
    }

    /// What each entry's own record says: its name, type, encryption and compression.
    fn each_entry(&mut self) {
        for i in 0..self.entries.len() {
            if let Some((kind, message)) = entry_problem(&self.entries[i]) {
                self.flag(i, kind, message);
            }
        }
    }

    /// Duplicate names: which copy an unzip tool keeps varies, so neither is trusted. Found
    /// by sorting indices (no map of a million names). Names are compared as read, not as
    /// stored: `Caf\x82` read as CP437 and `Café` in UTF-8 are one file once unzipped.
    fn duplicates(&mut self) {
        let entries = self.entries;
        // Borrowed, and each name checked as UTF-8 once rather than at every comparison. A
        // name that cannot be read is invalid UTF-8, so its bytes never equal a read name.
        let keys: Vec<&[u8]> = entries
            .iter()
            .map(|e| e.name().map_or(e.name_raw.as_slice(), str::as_bytes))
            .collect();
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(keys[b]));
        for run in order.chunk_by(|&a, &b| keys[a] == keys[b]) {
            if run.len() < 2 {
                continue;
            }
            for &i in run {
                self.flag_once(
                    i,
                    Kind::Unsafe,
                    format!(
                        "duplicate name: {} entries in the zip have this name; none is read",
                        run.len()
                    ),
                );
            }
        }
    }

    /// Files whose names are equal ignoring case or normalisation overwrite each other when
    /// unzipped on Windows or macOS: a warning. Both are still read and checked: each is a
    /// distinct file in the manifest. Folder entries are left out: folders that differ in
    /// case merge harmlessly, their files keeping their own names.
    fn case_twins(&mut self) {
        let names: Vec<(&str, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.is_dir())
            .filter_map(|(i, e)| e.name().map(|n| (n, i)))
            .collect();
        self.warnings = store::twin_warnings(&names, |i| self.shown(i), "when unzipped ");
    }

    /// A name read as CP437 is what the zip format says it is, but the writer may have
    /// meant another code page (Windows' built-in zip has long written the PC's own OEM
    /// code page, such as CP850 or CP866, unflagged): a note says how many and names the
    /// first, so a name that reads oddly, or a manifest line that then names a missing
    /// file, is explained.
    fn cp437_names(&mut self) {
        let mut cp437 = (0..self.entries.len()).filter(|&i| self.entries[i].name_is_cp437());
        let Some(first) = cp437.next() else { return };
        let count = 1 + cp437.count();
        let first = self.shown(first);
        self.notes.push(if count == 1 {
            format!("1 entry name was read as CP437 (the zip does not mark it UTF-8): `{first}`")
        } else {
            format!(
                "{count} entry names were read as CP437 (the zip does not mark them UTF-8), e.g. `{first}`"
            )
        });
    }

    /// Overlapping entries, judged from the central directory alone (before any local
    /// header is read); and data that runs into the central directory.
    fn central_overlaps(&mut self, cd_start: u64) {
        let mut ranges = Vec::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            let end = e
                .header_offset
                .saturating_add(zipdir::min_header_len(e))
                .saturating_add(e.compressed_size);
            if end > cd_start {
                self.flag_once(
                    i,
                    Kind::Unsafe,
                    format!(
                        "its data ({} bytes at offset {}) runs past the start of the central directory (truncated or forged entry)",
                        e.compressed_size, e.header_offset
                    ),
                );
                continue;
            }
            ranges.push((e.header_offset, end, i));
        }
        self.overlaps(ranges);
    }

    /// Reads the local headers of the entries still trusted (a window of the zip at a
    /// time, since a pack has thousands of them: [`zipdir::read_locals`]), compares each
    /// with its central record, and checks overlaps again with the real header lengths.
    /// Returns each entry's data start.
    fn local_headers(&mut self, src: &dyn Source, cd_start: u64) -> Vec<Option<u64>> {
        let wanted: Vec<bool> = self.bad.iter().map(|&bad| !bad).collect();
        let locals = zipdir::read_locals(src, self.entries, &wanted);
        let mut data_start = vec![None; self.entries.len()];
        let mut ranges = Vec::with_capacity(self.entries.len());
        for (i, local) in locals.into_iter().enumerate() {
            match local {
                None => {}
                Some(Err(why)) => self.flag(
                    i,
                    Kind::Unsafe,
                    format!("local header disagrees with the central directory: {why}; not read"),
                ),
                Some(Ok(l)) => {
                    let end = l.data_start.saturating_add(self.entries[i].compressed_size);
                    if end > cd_start {
                        self.flag(
                            i,
                            Kind::Unsafe,
                            "its data runs past the start of the central directory (truncated or forged entry)".into(),
                        );
                    } else {
                        data_start[i] = Some(l.data_start);
                        ranges.push((self.entries[i].header_offset, end, i));
                    }
                }
            }
        }
        self.overlaps(ranges);
        data_start
    }

    /// Marks both sides of every overlap (once per entry).
    fn overlaps(&mut self, ranges: Vec<(u64, u64, usize)>) {
        for (i, j) in zipdir::overlaps(ranges) {
            for (a, b) in [(i, j), (j, i)] {
                let other = crate::util::printable(&self.shown(b));
                self.flag_once(
                    a,
                    Kind::Unsafe,
                    format!(
                        "overlaps entry {other} in the zip (an overlapping-entry zip bomb or a corrupt zip); not read"
                    ),
                );
            }
        }
    }
}

/// Whether a folder entry declares data. A folder has none; a deflating writer that is
/// handed a folder still writes the two-byte empty deflate stream, which holds nothing.
fn carries_data(e: &CentralRecord) -> bool {
    let empty_stream = if e.method == METHOD_DEFLATED { 2 } else { 0 };
    e.size != 0 || e.compressed_size > empty_stream
}

/// What makes an entry unsafe or unreadable from its central record alone, if anything.
fn entry_problem(e: &CentralRecord) -> Option<(Kind, String)> {
    let unsafe_ = |why: String| Some((Kind::Unsafe, why));
    if let Some(p) = &e.problem {
        return unsafe_(format!("unsafe entry: {p}"));
    }
    let Some(name) = e.name() else {
        return unsafe_("unsafe entry: the name is not valid UTF-8".into());
    };
    if let Some(why) = unsafe_name(name) {
        return unsafe_(format!("unsafe name: it {why}"));
    }
    match e.unix_type() {
        Some(0o120_000) => return unsafe_("symbolic link entry (not followed)".into()),
        Some(t) if t != 0 && t != 0o100_000 && t != 0o040_000 => {
            return unsafe_(format!(
                "special file entry (unix type {t:o}), not a regular file"
            ))
        }
        _ => {}
    }
    if e.is_dir() && carries_data(e) {
        return unsafe_(format!(
            "folder entry that carries data ({} bytes, {} compressed): data hidden in a folder; not read",
            e.size, e.compressed_size
        ));
    }
    if e.is_encrypted() || e.method == METHOD_AES {
        return unsafe_("encrypted entry (cannot be checked)".into());
    }
    if !e.is_dir() && e.method != METHOD_STORED && e.method != METHOD_DEFLATED {
        return Some((
            Kind::Unreadable,
            format!(
                "compression method {} is not supported (packs use stored or deflated)",
                e.method
            ),
        ));
    }
    None
}

impl Store for ZipStore<'_> {
    fn stream(
        &self,
        member: &Member,
        bufs: &mut Buffers,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Problem> {
        let e = self
            .entries
            .get(member.key)
            .ok_or_else(|| Problem::new(Kind::Unreadable, "no such entry"))?;
        let start = e.data_start;
        let mut crc = crc32fast::Hasher::new();
        let mut sink = |b: &[u8]| {
            crc.update(b);
            sink(b);
        };
        match e.method {
            METHOD_STORED => stream_stored(self.src, e, start, bufs, &mut sink)?,
            METHOD_DEFLATED => stream_deflated(self.src, e, start, bufs, &mut sink)?,
            m => {
                return Err(Problem::new(
                    Kind::Unreadable,
                    format!("compression method {m} is not supported"),
                ))
            }
        }
        let found = crc.finalize();
        if found != e.crc32 {
            let mut p = Problem::new(
                Kind::Unsafe,
                format!(
                    "CRC-32 of the data read is {found:08x}, the central directory says {:08x}",
                    e.crc32
                ),
            );
            p.soft = true;
            return Err(p);
        }
        Ok(())
    }
}

fn read_err(e: &std::io::Error) -> Problem {
    Problem::new(Kind::Unreadable, format!("read error: {e}"))
}

fn stream_stored(
    src: &dyn Source,
    e: &Entry,
    start: u64,
    bufs: &mut Buffers,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), Problem> {
    if e.compressed_size != e.size {
        return Err(Problem::new(
            Kind::Unsafe,
            format!(
                "stored entry declares {} bytes but {} stored bytes",
                e.size, e.compressed_size
            ),
        ));
    }
    let mut pos = start;
    let end = start + e.compressed_size;
    while pos < end {
        let want = bufs
            .input
            .len()
            .min(usize::try_from(end - pos).unwrap_or(usize::MAX));
        let n = src
            .read_at(&mut bufs.input[..want], pos)
            .map_err(|e| read_err(&e))?;
        if n == 0 {
            return Err(Problem::new(
                Kind::Unsafe,
                "the data ends before its declared size (truncated zip)",
            ));
        }
        sink(&bufs.input[..n]);
        pos += n as u64;
    }
    Ok(())
}

/// Inflates with the declared size as a ceiling: output is counted chunk by chunk and
/// reading stops as soon as it passes the declared size, so a bomb costs one chunk.
fn stream_deflated(
    src: &dyn Source,
    e: &Entry,
    start: u64,
    bufs: &mut Buffers,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), Problem> {
    use flate2::{Decompress, FlushDecompress, Status};
    let Buffers {
        input: in_buf,
        output,
        inflater,
    } = bufs;
    // The inflater and its window are reused from entry to entry, reset for each.
    let inflater = match inflater {
        Some(i) => {
            i.reset(false);
            i
        }
        None => inflater.insert(Decompress::new(false)),
    };
    let mut input = Compressed {
        src,
        pos: start,
        end: start + e.compressed_size,
        off: 0,
        len: 0,
    };
    let mut produced_total = 0u64;
    loop {
        input.refill(in_buf)?;
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress(&in_buf[input.off..input.len], output, FlushDecompress::None)
            .map_err(|err| Problem::new(Kind::Unsafe, format!("corrupt deflate data: {err}")))?;
        let consumed = (inflater.total_in() - before_in) as usize;
        let produced = (inflater.total_out() - before_out) as usize;
        input.off += consumed;
        produced_total += produced as u64;
        if produced_total > e.size {
            return Err(Problem::new(
                Kind::Unsafe,
                format!(
                    "inflates beyond its declared size of {} bytes (a zip bomb or a forged size); reading stopped",
                    e.size
                ),
            ));
        }
        sink(&output[..produced]);
        if status == Status::StreamEnd {
            break;
        }
        if consumed == 0 && produced == 0 {
            input.stalled()?;
        }
    }
    input.finished(produced_total, e.size)
}

/// The compressed bytes of one entry, read a buffer at a time: `[pos, end)` is still in the
/// file, `[off, len)` of the buffer is read and not yet inflated.
struct Compressed<'a> {
    src: &'a dyn Source,
    pos: u64,
    end: u64,
    off: usize,
    len: usize,
}

impl Compressed<'_> {
    /// Reads the next buffer when the last one is used up and there is more.
    fn refill(&mut self, buf: &mut [u8]) -> Result<(), Problem> {
        if self.off < self.len || self.pos >= self.end {
            return Ok(());
        }
        let want = buf
            .len()
            .min(usize::try_from(self.end - self.pos).unwrap_or(usize::MAX));
        let n = self
            .src
            .read_at(&mut buf[..want], self.pos)
            .map_err(|e| read_err(&e))?;
        if n == 0 {
            return Err(Problem::new(
                Kind::Unsafe,
                "the data ends before its declared compressed size (truncated zip)",
            ));
        }
        self.pos += n as u64;
        self.off = 0;
        self.len = n;
        Ok(())
    }

    /// The inflater neither took input nor gave output: the stream is cut short or corrupt.
    fn stalled(&self) -> Result<(), Problem> {
        if self.off == self.len && self.pos >= self.end {
            return Err(Problem::new(
                Kind::Unsafe,
                "the deflate data ends before the end of its stream (truncated or corrupt entry)",
            ));
        }
        if self.off < self.len {
            return Err(Problem::new(
                Kind::Unsafe,
                "corrupt deflate data (no progress)",
            ));
        }
        Ok(())
    }

    /// At the end of the deflate stream: no compressed bytes may follow it, and the output
    /// must be the declared size.
    fn finished(&self, produced: u64, declared: u64) -> Result<(), Problem> {
        let unused = (self.len - self.off) as u64 + (self.end - self.pos);
        if unused > 0 {
            return Err(Problem::new(
                Kind::Unsafe,
                format!(
                    "{unused} compressed bytes follow the end of the deflate stream (forged size)"
                ),
            ));
        }
        if produced != declared {
            return Err(Problem::new(
                Kind::Unsafe,
                format!("inflates to {produced} bytes, the central directory says {declared}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names() {
        for n in ["/etc/passwd", "a/../../b", "..", "C:/x", "a\\b", "", "a\0b"] {
            assert!(unsafe_name(n).is_some(), "{n:?}");
        }
        for n in ["bag/data/a..b", "bag/data/.hidden", "bag/data/x y.pdf"] {
            assert!(unsafe_name(n).is_none(), "{n:?}");
        }
    }
}
