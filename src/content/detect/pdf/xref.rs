//! A PDF's cross-reference, walked within bounds: enough to find the newest trailer and
//! where one object (the encryption dictionary) starts.
//!
//! PDF crates load the whole file into memory before they look at it, so this walks the
//! cross-reference itself, reading only what it needs: for a classic table, the
//! subsection header lines and the one 20-byte entry wanted (found by arithmetic, not by
//! reading the table); for a cross-reference stream (PDF 1.5), its dictionary and as much
//! of its inflated data as reaches the wanted row. Dictionaries are parsed by the `pdf`
//! crate. A hostile file costs at most [`MAX_SECTIONS`] sections, each visited once
//! (`/Prev` cycles end there), [`MAX_SUBSECTIONS`] subsections per table and
//! [`MAX_STREAM`] bytes of stream, inflated to at most [`MAX_INFLATED`].

use std::collections::HashSet;
use std::io::{Read, Seek};

use flate2::read::ZlibDecoder;
use pdf::primitive::{Dictionary, Primitive};

use super::{integer, parse_dict};
use crate::content::Bounded;

pub const MAX_SECTIONS: usize = 64;
const MAX_SUBSECTIONS: usize = 4096;
const MAX_STREAM: u64 = 4 << 20;
const MAX_INFLATED: u64 = 16 << 20;
/// A window for a dictionary: a trailer, a stream's, the encryption dictionary.
pub const DICT_WINDOW: usize = 16 << 10;

/// One cross-reference section and the trailer that goes with it.
pub struct Section {
    pub trailer: Dictionary,
    entries: Entries,
}

enum Entries {
    /// Subsections of a classic table: (first object, count, where entries start, entry
    /// length: 20 by the standard, 19 from some writers that end lines with one byte).
    Table(Vec<(u64, u64, u64, u64)>),
    /// A cross-reference stream: where its data starts, and the data's length.
    Stream { data_at: u64, length: u64 },
}

/// Reads a file's cross-reference sections from the offset `startxref` gives.
pub struct Xref<'a, R> {
    r: &'a mut Bounded<R>,
    size: u64,
}

impl<'a, R: Read + Seek> Xref<'a, R> {
    pub fn new(r: &'a mut Bounded<R>, size: u64) -> Xref<'a, R> {
        Xref { r, size }
    }

    /// The section at `offset`, or `None` when there is none that parses.
    pub fn section(&mut self, offset: u64) -> std::io::Result<Option<Section>> {
        if offset >= self.size {
            return Ok(None);
        }
        let start = self.r.read_at(offset, 64)?;
        let skip = leading_space(&start);
        if start[skip..].starts_with(b"xref") {
            self.table(offset + skip as u64 + 4)
        } else {
            self.stream(offset)
        }
    }

    /// Where object `id` starts, following `/XRefStm` and `/Prev` from the section at
    /// `offset`; `None` when no section lists it as in use.
    pub fn find(&mut self, offset: u64, id: u64) -> std::io::Result<Option<u64>> {
        let mut next = vec![offset];
        let mut seen = HashSet::new();
        while let Some(at) = next.pop() {
            if !seen.insert(at) || seen.len() > MAX_SECTIONS {
                continue;
            }
            let Some(section) = self.section(at)? else {
                continue;
            };
            if let Some(found) = self.lookup(&section, id)? {
                return Ok(Some(found));
            }
            // Hybrid files list newer objects in the stream; it is searched before /Prev.
            for key in ["Prev", "XRefStm"] {
                if let Some(n) = section.trailer.get(key).and_then(integer) {
                    next.push(n);
                }
            }
        }
        Ok(None)
    }

    fn lookup(&mut self, section: &Section, id: u64) -> std::io::Result<Option<u64>> {
        match &section.entries {
            Entries::Table(subsections) => self.table_entry(subsections, id),
            Entries::Stream { data_at, length } => {
                self.stream_entry(&section.trailer, *data_at, *length, id)
            }
        }
    }

    fn table(&mut self, mut at: u64) -> std::io::Result<Option<Section>> {
        let mut subsections = Vec::new();
        for _ in 0..MAX_SUBSECTIONS {
            let line = self.r.read_at(at, 64)?;
            let skip = leading_space(&line);
            if line[skip..].starts_with(b"trailer") {
                return self.trailer(at + skip as u64 + 7, subsections);
            }
            let Some((first, count, used)) = subsection_header(&line[skip..]) else {
                return Ok(None);
            };
            let entries_at = at + (skip + used) as u64;
            let stride = self.entry_stride(entries_at, count)?;
            subsections.push((first, count, entries_at, stride));
            at = match count
                .checked_mul(stride)
                .and_then(|n| n.checked_add(entries_at))
            {
                Some(end) if end <= self.size => end,
                _ => return Ok(None),
            };
        }
        Ok(None)
    }

    /// The entry length, from the first entry's line end.
    fn entry_stride(&mut self, entries_at: u64, count: u64) -> std::io::Result<u64> {
        if count == 0 {
            return Ok(20);
        }
        let entry = self.r.read_at(entries_at, 20)?;
        let short = matches!(entry.get(18), Some(b'\r' | b'\n'))
            && entry.get(19).is_some_and(u8::is_ascii_digit);
        Ok(if short { 19 } else { 20 })
    }

    fn trailer(
        &mut self,
        at: u64,
        subsections: Vec<(u64, u64, u64, u64)>,
    ) -> std::io::Result<Option<Section>> {
        let window = self.r.read_at(at, DICT_WINDOW)?;
        Ok(parse_dict(&window).map(|trailer| Section {
            trailer,
            entries: Entries::Table(subsections),
        }))
    }

    fn table_entry(
        &mut self,
        subsections: &[(u64, u64, u64, u64)],
        id: u64,
    ) -> std::io::Result<Option<u64>> {
        let Some(&(first, _, entries_at, stride)) = subsections
            .iter()
            .find(|(first, count, _, _)| (*first..first.saturating_add(*count)).contains(&id))
        else {
            return Ok(None);
        };
        let entry = self.r.read_at(entries_at + (id - first) * stride, 18)?;
        // "oooooooooo ggggg n": a ten-digit offset, a generation, in use or free.
        let offset = std::str::from_utf8(entry.get(..10).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse().ok());
        Ok(offset.filter(|_| entry.get(17) == Some(&b'n')))
    }

    /// A cross-reference stream object: `N G obj << /Type /XRef ... >> stream`.
    fn stream(&mut self, offset: u64) -> std::io::Result<Option<Section>> {
        let window = self.r.read_at(offset, DICT_WINDOW)?;
        let Some(body) = object_body(&window) else {
            return Ok(None);
        };
        let dict_len = memchr::memmem::find(body, b"stream").unwrap_or(body.len());
        let Some(dict) = parse_dict(&body[..dict_len]) else {
            return Ok(None);
        };
        let after = &body[(dict_len + 6).min(body.len())..];
        let eol = match after {
            [b'\r', b'\n', ..] => 2,
            [b'\n' | b'\r', ..] => 1,
            _ => 0,
        };
        let data_at = offset + (window.len() - after.len() + eol) as u64;
        let length = dict.get("Length").and_then(integer).unwrap_or(0);
        Ok(Some(Section {
            trailer: dict,
            entries: Entries::Stream { data_at, length },
        }))
    }

    fn stream_entry(
        &mut self,
        dict: &Dictionary,
        data_at: u64,
        length: u64,
        id: u64,
    ) -> std::io::Result<Option<u64>> {
        let Some(layout) = StreamLayout::of(dict, id) else {
            return Ok(None);
        };
        let needed = (layout.row + 1) * layout.stored_row_len();
        if length > MAX_STREAM || needed > MAX_INFLATED {
            return Ok(None);
        }
        let raw = self.r.read_at(data_at, length as usize)?;
        let mut data = Vec::new();
        let inflated = if layout.deflated {
            ZlibDecoder::new(raw.as_slice())
                .take(needed)
                .read_to_end(&mut data)
        } else {
            data = raw;
            Ok(data.len())
        };
        if inflated.is_err() || (data.len() as u64) < needed {
            return Ok(None);
        }
        Ok(layout.offset_in(&data))
    }
}

/// Where the wanted row lies in a cross-reference stream, and how rows are stored.
struct StreamLayout {
    widths: [usize; 3],
    row: u64,
    deflated: bool,
    /// PNG predictors (10 to 15) put a filter byte before each row.
    png: bool,
}

impl StreamLayout {
    fn of(dict: &Dictionary, id: u64) -> Option<StreamLayout> {
        let w: Vec<u64> = array(dict, "W")?.iter().filter_map(integer).collect();
        let [w0, w1, w2] = w[..] else { return None };
        if [w0, w1, w2].iter().any(|&n| n > 8) {
            return None;
        }
        let widths = [w0 as usize, w1 as usize, w2 as usize];
        let row = row_of(dict, id)?;
        let deflated = match dict.get("Filter") {
            None => false,
            Some(Primitive::Name(n)) if n.as_str() == "FlateDecode" => true,
            Some(Primitive::Array(a))
                if a.len() == 1 && a[0].as_name().ok() == Some("FlateDecode") =>
            {
                true
            }
            Some(_) => return None,
        };
        let predictor = dict
            .get("DecodeParms")
            .and_then(|p| p.as_dict().ok())
            .and_then(|p| p.get("Predictor"))
            .and_then(integer)
            .unwrap_or(1);
        if !(predictor == 1 || (10..=15).contains(&predictor)) {
            return None;
        }
        Some(StreamLayout {
            widths,
            row,
            deflated,
            png: predictor >= 10,
        })
    }

    fn row_len(&self) -> u64 {
        self.widths.iter().sum::<usize>() as u64
    }

    fn stored_row_len(&self) -> u64 {
        self.row_len() + u64::from(self.png)
    }

    /// The object's offset from its row, if the row says "in use, at this offset".
    fn offset_in(&self, data: &[u8]) -> Option<u64> {
        let row = if self.png {
            unpredict_row(data, self.row_len() as usize, self.row as usize)?
        } else {
            let len = self.row_len() as usize;
            let at = self.row as usize * len;
            data.get(at..at + len)?.to_vec()
        };
        let [w0, w1, _] = self.widths;
        let kind = if w0 == 0 { 1 } else { be(&row[..w0]) };
        (kind == 1).then(|| be(&row[w0..w0 + w1]))
    }
}

/// The wanted object's row: its place among the subsections `/Index` lists.
fn row_of(dict: &Dictionary, id: u64) -> Option<u64> {
    let index: Vec<u64> = match array(dict, "Index") {
        Some(a) => a.iter().filter_map(integer).collect(),
        None => vec![0, dict.get("Size").and_then(integer)?],
    };
    let mut before = 0u64;
    for pair in index.chunks_exact(2) {
        let (first, count) = (pair[0], pair[1]);
        if (first..first.saturating_add(count)).contains(&id) {
            return Some(before + id - first);
        }
        before = before.saturating_add(count);
    }
    None
}

/// Rows 0..=`row` undone from the PNG predictors, each `len` bytes after its filter byte
/// (one byte per pixel, as cross-reference streams are written); returns the last.
fn unpredict_row(data: &[u8], len: usize, row: usize) -> Option<Vec<u8>> {
    let mut prev = vec![0u8; len];
    let mut cur = vec![0u8; len];
    for stored in data.chunks_exact(len + 1).take(row + 1) {
        let (filter, bytes) = (stored[0], &stored[1..]);
        for i in 0..len {
            let left = if i > 0 { cur[i - 1] } else { 0 };
            let up_left = if i > 0 { prev[i - 1] } else { 0 };
            let predicted = match filter {
                0 => 0,
                1 => left,
                2 => prev[i],
                3 => ((u16::from(left) + u16::from(prev[i])) / 2) as u8,
                4 => paeth(left, prev[i], up_left),
                _ => return None,
            };
            cur[i] = bytes[i].wrapping_add(predicted);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| n << 8 | u64::from(b))
}

fn array<'d>(dict: &'d Dictionary, key: &str) -> Option<&'d [Primitive]> {
    dict.get(key)?.as_array().ok()
}

/// `first count` and the bytes up to the first entry.
fn subsection_header(line: &[u8]) -> Option<(u64, u64, usize)> {
    let (first, rest) = digits(line)?;
    let gap = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let (count, rest) = digits(&rest[gap..])?;
    let used = line.len() - rest.len() + leading_space(rest);
    Some((first, count, used))
}

fn digits(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = std::str::from_utf8(&s[..n]).ok()?.parse().ok()?;
    Some((value, &s[n..]))
}

pub fn leading_space(s: &[u8]) -> usize {
    s.iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0C' | b'\0'))
        .count()
}

/// What follows `N G obj` at the start of `window`.
pub fn object_body(window: &[u8]) -> Option<&[u8]> {
    let mut rest = &window[leading_space(window)..];
    for _ in 0..2 {
        let (_, after) = digits(rest)?;
        rest = &after[leading_space(after)..];
    }
    rest.strip_prefix(b"obj")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_predictors_are_undone() {
        // Two rows of [1, 0, 9, 0] and [1, 0, 20, 0], stored with the Up filter.
        let data = [2, 1, 0, 9, 0, 2, 0, 0, 11, 0];
        assert_eq!(unpredict_row(&data, 4, 1), Some(vec![1, 0, 20, 0]));
        assert_eq!(unpredict_row(&[7, 0, 0, 0, 0], 4, 0), None);
    }

    #[test]
    fn subsection_headers_parse() {
        assert_eq!(subsection_header(b"0 6\r\n0000000000"), Some((0, 6, 5)));
        assert_eq!(subsection_header(b"trailer"), None);
        assert_eq!(object_body(b"12 0 obj<<>>"), Some(&b"<<>>"[..]));
        assert_eq!(object_body(b"12 obj"), None);
    }
}
