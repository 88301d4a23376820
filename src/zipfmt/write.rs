//! The zip format, written as a stream that never seeks back: local headers, data
//! descriptors, central records and end records, with Zip64 where a value passes its
//! 16- or 32-bit field.
//!
//! [`ZipStream`] keeps 40 bytes per entry until the central directory is written (where its
//! header is, CRC-32, sizes, method), not the entry's name: the caller gives each name with a
//! key and gives it again, by that key, when the directory is written. A pack of 200,000
//! files would otherwise hold every path a second time (a general-purpose writer keeps the
//! name, its extra fields and a dozen other fields: about 280 bytes an entry).
//!
//! What every entry gets is fixed, so the same inputs give the same bytes: one timestamp,
//! unix mode 0644 (a regular file), "made by" Unix, the UTF-8 flag on every name (ASCII is
//! UTF-8), no comments.

use std::io::{self, Write};

use super::{
    EXTRA_ZIP64, FLAG_DATA_DESCRIPTOR, FLAG_UTF8, METHOD_DEFLATED, METHOD_STORED, SATURATED_16,
    SATURATED_32, SIG_CENTRAL, SIG_EOCD, SIG_LOCAL, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR,
    ZIP64_EOCD_LEN,
};

/// Data descriptor signature (APPNOTE 4.3.9.3): optional, but readers that scan for the end
/// of an entry's data rely on it.
pub const SIG_DATA_DESCRIPTOR: u32 = 0x0807_4b50;
/// Data Stream Alignment (APPNOTE 4.6: 0xa11e, from Apache Commons Compress): a 2-byte
/// alignment followed by zeros, padding the local header so the data starts on a boundary.
pub const EXTRA_ALIGN: u16 = 0xa11e;

/// "Version made by": Unix (3) in the high byte, so readers take the external attributes as
/// a unix mode; APPNOTE 4.5 (Zip64) in the low byte.
const MADE_BY: u16 = 3 << 8 | 45;
/// "Version needed to extract": deflate (2.0), or Zip64 (4.5).
const NEEDS_DEFLATE: u16 = 20;
const NEEDS_ZIP64: u16 = 45;
/// A regular file, rw-r--r--, in the high half of the external attributes.
const EXTERNAL_ATTR: u32 = 0o100_644 << 16;
/// The fixed part of the alignment field (its header and the alignment value).
const ALIGN_FIELD_MIN: u64 = 6;
/// Central records are gathered into writes of about this size.
const CENTRAL_BATCH: usize = 64 << 10;

/// A date and time as zip headers store them (MS-DOS: two-second steps, 1980 to 2107).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DosTime {
    pub time: u16,
    pub date: u16,
}

impl DosTime {
    /// Midnight at the start of the day; `None` outside 1980-2107 or for a month or day
    /// out of range.
    pub fn midnight(year: i32, month: u32, day: u32) -> Option<DosTime> {
        let year = u16::try_from(year.checked_sub(1980)?).ok()?;
        if year > 127 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        // Month and day are checked above, so each fits its bits.
        let date = year << 9 | (month as u16) << 5 | day as u16;
        Some(DosTime { time: 0, date })
    }
}

/// How an entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

/// An entry's name, given in two parts so that a payload file's name (the bag's data folder
/// and the file's path) need not be joined into a string of its own. `key` is the caller's
/// handle for it: [`ZipStream::finish`] asks for the name again by key.
#[derive(Debug, Clone, Copy)]
pub struct EntryName<'a> {
    pub key: u32,
    pub prefix: &'a str,
    pub rest: &'a str,
}

impl EntryName<'_> {
    fn len(&self) -> usize {
        self.prefix.len() + self.rest.len()
    }
}

/// An entry's CRC-32 and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub crc32: u32,
    pub size: u64,
    pub compressed_size: u64,
}

/// How an entry's header is laid out, decided before its data is written.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// The data is at hand: the local header carries its CRC-32 and sizes.
    Known(Sizes),
    /// The data follows in pieces; its CRC-32 and sizes follow it in a data descriptor.
    /// `zip64`: the entry may pass 4 GiB, which must be said now, since the descriptor's
    /// field widths follow from the local header.
    Streamed { zip64: bool },
}

/// What the central directory needs of an entry: 40 bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u64,
    compressed_size: u64,
    size: u64,
    crc32: u32,
    key: u32,
    /// The name's length in the local header, which the name given again must match.
    name_len: u16,
    bits: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() <= 40);

const BIT_DEFLATED: u8 = 1;
/// CRC-32 and sizes follow the data (flag bit 3).
const BIT_DESCRIPTOR: u8 = 2;
/// The local header has a Zip64 field (so a data descriptor has 8-byte sizes).
const BIT_LOCAL_ZIP64: u8 = 4;

impl Entry {
    fn method(&self) -> u16 {
        if self.bits & BIT_DEFLATED != 0 {
            METHOD_DEFLATED
        } else {
            METHOD_STORED
        }
    }

    fn flags(&self) -> u16 {
        let descriptor = if self.bits & BIT_DESCRIPTOR != 0 {
            FLAG_DATA_DESCRIPTOR
        } else {
            0
        };
        FLAG_UTF8 | descriptor
    }

    /// Version 4.5 for anything Zip64 (a local Zip64 field, or a header past 4 GiB, which
    /// the central record gives in a Zip64 field): known when the local header is written.
    fn needs(&self) -> u16 {
        if self.bits & BIT_LOCAL_ZIP64 != 0 || self.offset >= u64::from(SATURATED_32) {
            NEEDS_ZIP64
        } else {
            NEEDS_DEFLATE
        }
    }
}

/// The entry whose data is being written.
#[derive(Debug)]
struct Open {
    entry: Entry,
    data_start: u64,
    /// What the local header declared, for an entry of [`Layout::Known`].
    declared: Option<Sizes>,
}

/// A zip written front to back into `out`: entries one after another, then the central
/// directory ([`ZipStream::finish`]).
pub struct ZipStream<W: Write> {
    out: W,
    /// Bytes written to `out` so far.
    position: u64,
    time: DosTime,
    entries: Vec<Entry>,
    open: Option<Open>,
    /// Headers and central records are put together here, then written in one piece.
    scratch: Vec<u8>,
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

impl<W: Write> ZipStream<W> {
    /// Every entry gets the timestamp `time`.
    pub fn new(out: W, time: DosTime) -> ZipStream<W> {
        ZipStream {
            out,
            position: 0,
            time,
            entries: Vec::new(),
            open: None,
            scratch: Vec::with_capacity(1024),
        }
    }

    /// Bytes written so far: where the next byte goes in the zip.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Entries started so far.
    pub fn len(&self) -> usize {
        self.entries.len() + usize::from(self.open.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `more` entries beyond those written: a caller that knows how many are coming
    /// saves the directory's list a quarter of its size (and the copying as it grows).
    pub fn reserve(&mut self, more: usize) {
        self.entries.reserve_exact(more);
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Writes the local header of a new entry; returns where its data starts. With `align`
    /// above 1, the header is padded (an alignment field) so the data starts at a multiple
    /// of `align` in the zip.
    pub fn start(
        &mut self,
        name: EntryName<'_>,
        method: Method,
        layout: Layout,
        align: u16,
    ) -> io::Result<u64> {
        if self.open.is_some() {
            return Err(invalid(
                "an entry was started before the last one ended".into(),
            ));
        }
        let name_len = u16::try_from(name.len()).map_err(|_| {
            invalid(format!(
                "the name {}{} is longer than the 65,535 bytes a zip can hold",
                name.prefix, name.rest
            ))
        })?;
        let mut entry = Entry {
            offset: self.position,
            compressed_size: 0,
            size: 0,
            crc32: 0,
            key: name.key,
            name_len,
            bits: if method == Method::Deflated {
                BIT_DEFLATED
            } else {
                0
            },
        };
        let (fields, zip64_local) = match layout {
            Layout::Known(s) => {
                let zip64 = s.size >= u64::from(SATURATED_32)
                    || s.compressed_size >= u64::from(SATURATED_32);
                (s, zip64)
            }
            Layout::Streamed { zip64 } => {
                entry.bits |= BIT_DESCRIPTOR;
                (
                    Sizes {
                        crc32: 0,
                        size: 0,
                        compressed_size: 0,
                    },
                    zip64,
                )
            }
        };
        if zip64_local {
            entry.bits |= BIT_LOCAL_ZIP64;
        }
        self.local_header(&entry, name, fields, zip64_local, align);
        self.out.write_all(&self.scratch)?;
        self.position += self.scratch.len() as u64;
        self.open = Some(Open {
            entry,
            data_start: self.position,
            declared: match layout {
                Layout::Known(s) => Some(s),
                Layout::Streamed { .. } => None,
            },
        });
        Ok(self.position)
    }

    /// Puts the local header of `entry` in `scratch`.
    fn local_header(
        &mut self,
        entry: &Entry,
        name: EntryName<'_>,
        s: Sizes,
        zip64: bool,
        align: u16,
    ) {
        let h = &mut self.scratch;
        h.clear();
        h.extend_from_slice(&SIG_LOCAL.to_le_bytes());
        h.extend_from_slice(&entry.needs().to_le_bytes());
        h.extend_from_slice(&entry.flags().to_le_bytes());
        h.extend_from_slice(&entry.method().to_le_bytes());
        h.extend_from_slice(&self.time.time.to_le_bytes());
        h.extend_from_slice(&self.time.date.to_le_bytes());
        h.extend_from_slice(&s.crc32.to_le_bytes());
        // A Zip64 local field holds both sizes, the header neither (APPNOTE 4.5.3).
        let (csize32, size32) = if zip64 {
            (SATURATED_32, SATURATED_32)
        } else {
            (s.compressed_size as u32, s.size as u32)
        };
        h.extend_from_slice(&csize32.to_le_bytes());
        h.extend_from_slice(&size32.to_le_bytes());
        h.extend_from_slice(&entry.name_len.to_le_bytes());
        let extra_at = h.len();
        h.extend_from_slice(&[0, 0]); // the extra field's length, filled in below
        h.extend_from_slice(name.prefix.as_bytes());
        h.extend_from_slice(name.rest.as_bytes());
        let extra_start = h.len();
        if zip64 {
            h.extend_from_slice(&EXTRA_ZIP64.to_le_bytes());
            h.extend_from_slice(&16u16.to_le_bytes());
            h.extend_from_slice(&s.size.to_le_bytes());
            h.extend_from_slice(&s.compressed_size.to_le_bytes());
        }
        if align > 1 {
            let align64 = u64::from(align);
            let end = self.position + h.len() as u64 + ALIGN_FIELD_MIN;
            let pad = (align64 - end % align64) % align64;
            h.extend_from_slice(&EXTRA_ALIGN.to_le_bytes());
            // At most 2 + 65,534 bytes: `pad` is below `align`.
            h.extend_from_slice(&((2 + pad) as u16).to_le_bytes());
            h.extend_from_slice(&align.to_le_bytes());
            h.resize(h.len() + pad as usize, 0);
        }
        // At most 20 + 6 + 65,534 bytes: fits.
        let extra_len = (h.len() - extra_start) as u16;
        h[extra_at..extra_at + 2].copy_from_slice(&extra_len.to_le_bytes());
    }

    /// Writes (already compressed) data of the open entry.
    pub fn write_data(&mut self, data: &[u8]) -> io::Result<()> {
        if self.open.is_none() {
            return Err(invalid("data written outside an entry".into()));
        }
        self.out.write_all(data)?;
        self.position += data.len() as u64;
        Ok(())
    }

    /// Ends the open entry, whose data had the CRC-32 `crc32` and `size` bytes before
    /// compression: in a data descriptor for a streamed entry; for a known one, checked
    /// against what its header declared.
    pub fn end(&mut self, crc32: u32, size: u64) -> io::Result<()> {
        let Some(Open {
            mut entry,
            data_start,
            declared,
        }) = self.open.take()
        else {
            return Err(invalid("an entry was ended that was not started".into()));
        };
        let s = Sizes {
            crc32,
            size,
            compressed_size: self.position - data_start,
        };
        match declared {
            Some(d) if d != s => {
                return Err(invalid(format!(
                    "an entry's header declared {d:?} but its data has {s:?}"
                )))
            }
            Some(_) => {}
            None => self.descriptor(&entry, s)?,
        }
        entry.crc32 = s.crc32;
        entry.size = s.size;
        entry.compressed_size = s.compressed_size;
        self.entries.push(entry);
        Ok(())
    }

    /// Writes the data descriptor: 8-byte sizes when the local header has a Zip64 field.
    fn descriptor(&mut self, entry: &Entry, s: Sizes) -> io::Result<()> {
        let zip64 = entry.bits & BIT_LOCAL_ZIP64 != 0;
        let d = &mut self.scratch;
        d.clear();
        d.extend_from_slice(&SIG_DATA_DESCRIPTOR.to_le_bytes());
        d.extend_from_slice(&s.crc32.to_le_bytes());
        if zip64 {
            d.extend_from_slice(&s.compressed_size.to_le_bytes());
            d.extend_from_slice(&s.size.to_le_bytes());
        } else if s.size >= u64::from(SATURATED_32) || s.compressed_size >= u64::from(SATURATED_32)
        {
            return Err(invalid(format!(
                "an entry of {} bytes ({} compressed) was started without Zip64",
                s.size, s.compressed_size
            )));
        } else {
            d.extend_from_slice(&(s.compressed_size as u32).to_le_bytes());
            d.extend_from_slice(&(s.size as u32).to_le_bytes());
        }
        self.out.write_all(d)?;
        self.position += d.len() as u64;
        Ok(())
    }

    /// Convenience: an entry whose data is at hand, in one call.
    pub fn add(
        &mut self,
        name: EntryName<'_>,
        method: Method,
        crc32: u32,
        size: u64,
        data: &[u8],
    ) -> io::Result<()> {
        let sizes = Sizes {
            crc32,
            size,
            compressed_size: data.len() as u64,
        };
        self.start(name, method, Layout::Known(sizes), 1)?;
        self.write_data(data)?;
        self.end(crc32, size)
    }

    /// Writes the central directory and the end records; returns `out`. `name` appends the
    /// name given with `key` to the buffer it is handed.
    pub fn finish(mut self, mut name: impl FnMut(u32, &mut Vec<u8>)) -> io::Result<W> {
        if self.open.is_some() {
            return Err(invalid("the zip was finished inside an entry".into()));
        }
        let cd_start = self.position;
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        for e in &self.entries {
            central_record(&mut buf, e, self.time, &mut name)?;
            if buf.len() >= CENTRAL_BATCH {
                self.out.write_all(&buf)?;
                self.position += buf.len() as u64;
                buf.clear();
            }
        }
        self.out.write_all(&buf)?;
        self.position += buf.len() as u64;
        buf.clear();
        let count = self.entries.len() as u64;
        end_records(&mut buf, count, cd_start, self.position - cd_start);
        self.out.write_all(&buf)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Appends the central record of `e`: values that pass their 32-bit field are saturated and
/// given in a Zip64 field, in APPNOTE's order (size, compressed size, header offset).
fn central_record(
    out: &mut Vec<u8>,
    e: &Entry,
    time: DosTime,
    name: &mut impl FnMut(u32, &mut Vec<u8>),
) -> io::Result<()> {
    let big = |v: u64| v >= u64::from(SATURATED_32);
    let narrow = |v: u64| if big(v) { SATURATED_32 } else { v as u32 };
    let mut wide = [0u64; 3];
    let mut n_wide = 0;
    for v in [e.size, e.compressed_size, e.offset] {
        if big(v) {
            wide[n_wide] = v;
            n_wide += 1;
        }
    }
    let wide = &wide[..n_wide];
    let extra_len = if wide.is_empty() {
        0
    } else {
        4 + 8 * wide.len()
    };
    out.extend_from_slice(&SIG_CENTRAL.to_le_bytes());
    out.extend_from_slice(&MADE_BY.to_le_bytes());
    out.extend_from_slice(&e.needs().to_le_bytes());
    out.extend_from_slice(&e.flags().to_le_bytes());
    out.extend_from_slice(&e.method().to_le_bytes());
    out.extend_from_slice(&time.time.to_le_bytes());
    out.extend_from_slice(&time.date.to_le_bytes());
    out.extend_from_slice(&e.crc32.to_le_bytes());
    out.extend_from_slice(&narrow(e.compressed_size).to_le_bytes());
    out.extend_from_slice(&narrow(e.size).to_le_bytes());
    out.extend_from_slice(&e.name_len.to_le_bytes());
    // At most 4 + 24 bytes.
    out.extend_from_slice(&(extra_len as u16).to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // comment length, disk, internal attributes
    out.extend_from_slice(&EXTERNAL_ATTR.to_le_bytes());
    out.extend_from_slice(&narrow(e.offset).to_le_bytes());
    let name_at = out.len();
    name(e.key, out);
    if out.len() - name_at != usize::from(e.name_len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the name given for entry key {} is not the one its local header holds",
                e.key
            ),
        ));
    }
    if !wide.is_empty() {
        out.extend_from_slice(&EXTRA_ZIP64.to_le_bytes());
        out.extend_from_slice(&((8 * wide.len()) as u16).to_le_bytes());
        for v in wide.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(())
}

/// Appends the end records: the Zip64 end record and its locator when a count or offset
/// passes its field in the classic record (which then holds saturated values), then the
/// classic end record.
fn end_records(out: &mut Vec<u8>, count: u64, cd_start: u64, cd_size: u64) {
    let zip64 = count >= u64::from(SATURATED_16)
        || cd_start >= u64::from(SATURATED_32)
        || cd_size >= u64::from(SATURATED_32);
    if zip64 {
        let z64_at = cd_start + cd_size;
        out.extend_from_slice(&SIG_ZIP64_EOCD.to_le_bytes());
        // The record's size, not counting its first 12 bytes.
        out.extend_from_slice(&(ZIP64_EOCD_LEN - 12).to_le_bytes());
        out.extend_from_slice(&MADE_BY.to_le_bytes());
        out.extend_from_slice(&NEEDS_ZIP64.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // this disk, the directory's disk
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_start.to_le_bytes());
        out.extend_from_slice(&SIG_ZIP64_LOCATOR.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&z64_at.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // disks in all
    }
    let count16 = u16::try_from(count)
        .ok()
        .filter(|&c| c < SATURATED_16)
        .unwrap_or(SATURATED_16);
    let narrow = |v: u64| u32::try_from(v).unwrap_or(SATURATED_32);
    out.extend_from_slice(&SIG_EOCD.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // this disk, the directory's disk
    out.extend_from_slice(&count16.to_le_bytes());
    out.extend_from_slice(&count16.to_le_bytes());
    out.extend_from_slice(&narrow(cd_size).to_le_bytes());
    out.extend_from_slice(&narrow(cd_start).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::zipfmt::{
        central_records, find_end_record, read_local_header, read_zip64_end, read_zip64_locator,
        CentralRecord, EndRecord, ReadAt, LOCAL_LEN,
    };

    struct Bytes<'a>(&'a [u8]);

    impl ReadAt for Bytes<'_> {
        fn len(&self) -> u64 {
            self.0.len() as u64
        }

        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let rest = usize::try_from(offset)
                .ok()
                .and_then(|at| self.0.get(at..))
                .unwrap_or_default();
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }
    }

    fn time() -> DosTime {
        DosTime::midnight(2021, 1, 15).expect("a zip date")
    }

    fn name(key: u32, rest: &str) -> EntryName<'_> {
        EntryName {
            key,
            prefix: "bag/",
            rest,
        }
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(data).expect("deflate");
        z.finish().expect("deflate")
    }

    /// The entries of the tests: (name, data, method, written as a stream, aligned).
    const ENTRIES: &[(&str, &[u8], Method, bool, u16)] = &[
        ("a.txt", b"known and deflated\n", Method::Deflated, false, 1),
        (
            "b.pdf",
            b"%PDF-1.7 known and stored",
            Method::Stored,
            false,
            1,
        ),
        ("c/empty", b"", Method::Stored, false, 1),
        (
            "d.csv",
            b"streamed,deflated\n1,2\n",
            Method::Deflated,
            true,
            1,
        ),
        (
            "e.jpg",
            b"streamed, stored, aligned",
            Method::Stored,
            true,
            4096,
        ),
        (
            "f \u{e9}t\u{e9}.md",
            b"a UTF-8 name",
            Method::Deflated,
            false,
            1,
        ),
    ];

    /// Writes [`ENTRIES`]; returns the zip.
    fn sample_zip() -> Vec<u8> {
        let mut z = ZipStream::new(Vec::new(), time());
        for (key, &(rest, data, method, streamed, align)) in ENTRIES.iter().enumerate() {
            let body = match method {
                Method::Deflated => deflate(data),
                Method::Stored => data.to_vec(),
            };
            let crc = crc32fast::hash(data);
            let layout = if streamed {
                Layout::Streamed { zip64: false }
            } else {
                Layout::Known(Sizes {
                    crc32: crc,
                    size: data.len() as u64,
                    compressed_size: body.len() as u64,
                })
            };
            let start = z
                .start(name(key as u32, rest), method, layout, align)
                .expect("start");
            assert_eq!(start % u64::from(align), 0, "{rest} is aligned");
            // In two pieces, as a stream comes.
            let (one, two) = body.split_at(body.len() / 2);
            z.write_data(one).expect("write");
            z.write_data(two).expect("write");
            z.end(crc, data.len() as u64).expect("end");
        }
        z.finish(|key, out| {
            out.extend_from_slice(b"bag/");
            out.extend_from_slice(ENTRIES[key as usize].0.as_bytes());
        })
        .expect("finish")
    }

    fn records(zip: &[u8]) -> (EndRecord, Vec<CentralRecord>) {
        let src = Bytes(zip);
        let mut end = find_end_record(&src).expect("read").expect("an end record");
        if let Some(at) = read_zip64_locator(&src, &end).expect("read") {
            let z64 = read_zip64_end(&src, at)
                .expect("read")
                .expect("a Zip64 end");
            end.apply_zip64(&z64);
        }
        let records = central_records(&src, &end)
            .collect::<Result<Vec<_>, _>>()
            .expect("central records");
        (end, records)
    }

    #[test]
    fn entries_read_back_through_the_projects_own_reader() {
        let zip = sample_zip();
        let (end, records) = records(&zip);
        assert_eq!(end.count, ENTRIES.len() as u64);
        assert_eq!(
            end.cd_offset + end.cd_size,
            end.pos,
            "the directory ends at the end"
        );
        for (r, &(rest, data, method, streamed, _)) in records.iter().zip(ENTRIES) {
            assert_eq!(r.name(), Some(format!("bag/{rest}").as_str()));
            assert_eq!(r.problem, None, "{rest}");
            assert_eq!(r.flags & FLAG_UTF8, FLAG_UTF8, "{rest}");
            assert_eq!(r.flags & FLAG_DATA_DESCRIPTOR != 0, streamed, "{rest}");
            assert_eq!(r.unix_type(), Some(0o100_000), "{rest}");
            assert_eq!(r.external_attr >> 16 & 0o7777, 0o644, "{rest}");
            assert_eq!(r.crc32, crc32fast::hash(data), "{rest}");
            assert_eq!(r.size, data.len() as u64, "{rest}");
            let want_method = match method {
                Method::Stored => METHOD_STORED,
                Method::Deflated => METHOD_DEFLATED,
            };
            assert_eq!(r.method, want_method, "{rest}");
            // The local header names the entry and (when it carries them) agrees on the
            // CRC-32 and sizes, as the verifier checks.
            let local = read_local_header(&Bytes(&zip), r.header_offset)
                .expect("read")
                .expect("a local header");
            let at = (r.header_offset + LOCAL_LEN) as usize;
            assert_eq!(
                &zip[at..at + usize::from(local.name_len)],
                r.name_raw.as_slice()
            );
            assert_eq!(local.method, r.method, "{rest}");
            if !streamed {
                assert_eq!(
                    (local.crc32, local.size, local.compressed_size),
                    (r.crc32, r.size, r.compressed_size),
                    "{rest}"
                );
            }
            let start = local.data_start(r.header_offset) as usize;
            let body = &zip[start..start + r.compressed_size as usize];
            let mut back = Vec::new();
            match method {
                Method::Stored => back.extend_from_slice(body),
                Method::Deflated => {
                    flate2::read::DeflateDecoder::new(body)
                        .read_to_end(&mut back)
                        .expect("inflate");
                }
            }
            assert_eq!(back, data, "{rest}");
        }
    }

    #[test]
    fn entries_read_back_through_the_zip_crate() {
        let zip = sample_zip();
        let mut z = zip::ZipArchive::new(io::Cursor::new(zip)).expect("a zip");
        assert_eq!(z.len(), ENTRIES.len());
        for (i, &(rest, data, _, _, _)) in ENTRIES.iter().enumerate() {
            let mut e = z.by_index(i).expect("an entry");
            assert_eq!(e.name().expect("a UTF-8 name"), format!("bag/{rest}"));
            assert_eq!(e.unix_mode(), Some(0o100_644));
            let t = e.last_modified().expect("a time");
            assert_eq!((t.year(), t.month(), t.day(), t.hour()), (2021, 1, 15, 0));
            let mut back = Vec::new();
            e.read_to_end(&mut back).expect("read, CRC-32 checked");
            assert_eq!(back, data, "{rest}");
        }
    }

    #[test]
    fn the_same_entries_give_the_same_bytes() {
        assert!(sample_zip() == sample_zip());
    }

    /// 70,000 empty entries: more than the classic end record can count.
    fn many(n: u32) -> Vec<u8> {
        let mut z = ZipStream::new(Vec::new(), time());
        z.reserve(n as usize);
        let names: Vec<String> = (0..n).map(|i| format!("{i:05}")).collect();
        for (key, rest) in names.iter().enumerate() {
            z.add(name(key as u32, rest), Method::Stored, 0, 0, b"")
                .expect("add");
        }
        z.finish(|key, out| {
            out.extend_from_slice(b"bag/");
            out.extend_from_slice(names[key as usize].as_bytes());
        })
        .expect("finish")
    }

    #[test]
    fn more_than_65535_entries_get_the_zip64_end_record() {
        let zip = many(70_000);
        let src = Bytes(&zip);
        let end = find_end_record(&src).expect("read").expect("an end record");
        assert_eq!(end.count, 0xFFFF, "the classic record is saturated");
        assert!(read_zip64_locator(&src, &end).expect("read").is_some());
        let (end, records) = records(&zip);
        assert_eq!(end.count, 70_000);
        assert_eq!(records.len(), 70_000);
        assert_eq!(records[69_999].name(), Some("bag/69999"));
        let z = zip::ZipArchive::new(io::Cursor::new(&zip)).expect("a zip");
        assert_eq!(z.len(), 70_000);
        let last = z.name_for_index(69_999).and_then(|n| n.ok());
        assert_eq!(last.as_deref(), Some("bag/69999"));
    }

    #[test]
    fn fewer_entries_need_no_zip64_end_record() {
        let zip = many(65_534);
        let src = Bytes(&zip);
        let end = find_end_record(&src).expect("read").expect("an end record");
        assert_eq!(end.count, 65_534);
        assert!(read_zip64_locator(&src, &end).expect("read").is_none());
    }

    #[test]
    fn values_past_4_gib_go_in_zip64_fields_that_the_reader_takes() {
        let e = Entry {
            offset: 5 << 30,
            compressed_size: 100,
            size: 6 << 30,
            crc32: 7,
            key: 0,
            name_len: 5,
            bits: BIT_LOCAL_ZIP64 | BIT_DESCRIPTOR,
        };
        let mut dir = Vec::new();
        central_record(&mut dir, &e, time(), &mut |_, out: &mut Vec<u8>| {
            out.extend_from_slice(b"x.bin")
        })
        .expect("a record");
        let end = EndRecord {
            pos: dir.len() as u64,
            disk: 0,
            cd_disk: 0,
            count: 1,
            cd_size: dir.len() as u64,
            cd_offset: 0,
            cd_end_limit: dir.len() as u64,
        };
        let r = central_records(&Bytes(&dir), &end)
            .next()
            .expect("one record")
            .expect("readable");
        assert_eq!(r.problem, None);
        assert_eq!(
            (r.size, r.compressed_size, r.header_offset),
            (6 << 30, 100, 5 << 30)
        );
        assert_eq!(u16::from_le_bytes([dir[6], dir[7]]), NEEDS_ZIP64);
    }

    #[test]
    fn a_streamed_zip64_entry_has_an_8_byte_descriptor_that_readers_take() {
        let mut z = ZipStream::new(Vec::new(), time());
        let data = b"might have been large";
        z.start(
            name(0, "big.bin"),
            Method::Stored,
            Layout::Streamed { zip64: true },
            1,
        )
        .expect("start");
        z.write_data(data).expect("write");
        z.end(crc32fast::hash(data), data.len() as u64)
            .expect("end");
        let zip = z
            .finish(|_, out| out.extend_from_slice(b"bag/big.bin"))
            .expect("finish");
        // Signature, CRC-32, then two 8-byte sizes, right after the data.
        let at = zip
            .windows(4)
            .position(|w| w == SIG_DATA_DESCRIPTOR.to_le_bytes())
            .expect("a descriptor");
        assert_eq!(&zip[at + 8..at + 16], &(data.len() as u64).to_le_bytes());
        assert_eq!(&zip[at + 16..at + 24], &(data.len() as u64).to_le_bytes());
        let mut z = zip::ZipArchive::new(io::Cursor::new(zip)).expect("a zip");
        let mut back = Vec::new();
        z.by_index(0)
            .expect("the entry")
            .read_to_end(&mut back)
            .expect("read");
        assert_eq!(back, data);
    }

    #[test]
    fn an_entry_past_4_gib_without_zip64_is_refused_not_written_wrong() {
        let mut z = ZipStream::new(io::sink(), time());
        z.start(
            name(0, "x"),
            Method::Stored,
            Layout::Streamed { zip64: false },
            1,
        )
        .expect("start");
        let block = vec![0u8; 1 << 20];
        for _ in 0..4097 {
            z.write_data(&block).expect("write");
        }
        let err = z.end(0, 4097 << 20).expect_err("too large");
        assert!(err.to_string().contains("without Zip64"), "{err}");
    }

    #[test]
    fn a_name_given_again_that_differs_is_an_error() {
        let mut z = ZipStream::new(Vec::new(), time());
        z.add(name(0, "a.txt"), Method::Stored, 0, 0, b"")
            .expect("add");
        let err = z
            .finish(|_, out| out.extend_from_slice(b"bag/other.txt"))
            .expect_err("a different name");
        assert!(err.to_string().contains("not the one"), "{err}");
    }

    #[test]
    fn dates_outside_the_zip_range_have_no_dos_time() {
        assert_eq!(
            DosTime::midnight(2021, 1, 15),
            Some(DosTime {
                time: 0,
                date: (41 << 9) | (1 << 5) | 15
            })
        );
        assert_eq!(DosTime::midnight(1979, 12, 31), None);
        assert_eq!(DosTime::midnight(2108, 1, 1), None);
        assert_eq!(DosTime::midnight(2021, 13, 1), None);
    }
}
