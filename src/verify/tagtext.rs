//! Tag files as text, in the encoding `bagit.txt` declares (`Tag-File-Character-Encoding`):
//! UTF-8, ISO-8859-1 or UTF-16 with a byte-order mark, as RFC 8493 allows and older tools
//! wrote. Decoding is small enough to need no crate: ISO-8859-1 maps each byte to the code
//! point of the same number, and UTF-16 is a few lines.
//!
//! A tag file is read as it streams ([`TagLines`]): decoded piece by piece and handed on a
//! line at a time, so that a manifest of two hundred thousand lines, or a hostile file of
//! gigabytes, costs the line being read and no more. A line longer than [`MAX_LINE_KEPT`]
//! is handed on cut, with its full length.

use super::findings::{Finding, Kind};

/// Most bytes of one line handed on: far longer than any line a tag file needs (a manifest
/// line is at most a few kilobytes), short enough that a hostile line costs little.
pub const MAX_LINE_KEPT: usize = 64 * 1024;

/// An encoding a bag's tag files may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagEncoding {
    #[default]
    Utf8,
    Latin1,
    Utf16,
}

impl TagEncoding {
    /// The encoding a `Tag-File-Character-Encoding` value names, ignoring case and `-`/`_`
    /// (`UTF-8`, `utf8`, `ISO-8859-1`, `latin1`, `UTF-16`); `None` for any other.
    pub fn named(value: &str) -> Option<TagEncoding> {
        let key: String = value
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "utf8" => Some(TagEncoding::Utf8),
            "iso88591" | "latin1" => Some(TagEncoding::Latin1),
            "utf16" => Some(TagEncoding::Utf16),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TagEncoding::Utf8 => "UTF-8",
            TagEncoding::Latin1 => "ISO-8859-1",
            TagEncoding::Utf16 => "UTF-16",
        }
    }
}

/// One line of a tag file, without its line end.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// Counted from 1.
    pub number: usize,
    /// The line, or its first [`MAX_LINE_KEPT`] bytes at most.
    pub text: &'a str,
    /// The line's full length in bytes (as UTF-8), when `text` is cut.
    pub cut: Option<u64>,
}

impl Line<'_> {
    /// The line's full length in bytes (as UTF-8).
    pub fn full_len(&self) -> u64 {
        self.cut.unwrap_or(self.text.len() as u64)
    }
}

/// Where the lines of a tag file go.
pub type OnLine<'a> = &'a mut dyn FnMut(Line);

/// A tag file read as it streams: [`TagLines::push`] each piece, then [`TagLines::finish`].
/// Lines go to the caller as soon as they end; once the bytes turn out not to be in the
/// encoding, no more are handed on, and `finish` says why (the caller then drops what the
/// earlier lines gave: the file is not checked).
pub struct TagLines {
    enc: TagEncoding,
    /// Bytes of the file pushed before the current piece.
    seen: u64,
    /// Why the bytes are not in the encoding, once known (UTF-16's surrogate errors wait
    /// for the end: an odd length is said first, as a whole-file decoder would).
    bad: Option<String>,
    /// UTF-8: the start of a character cut by a piece's end. UTF-16: the byte-order mark
    /// until it is whole, then a byte cut off from its code unit.
    carry: Vec<u8>,
    utf16: Utf16,
    /// Decoded text of the current piece (Latin-1 and UTF-16), reused.
    decoded: String,
    lines: Splitter,
}

/// UTF-16 decoding state across pieces.
#[derive(Default)]
struct Utf16 {
    /// Known once the byte-order mark is read.
    big_endian: Option<bool>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    /// Characters decoded so far.
    chars: u64,
    /// The first broken surrogate pair, by character (from 1).
    broken_at: Option<u64>,
    /// Bytes after the byte-order mark, for the odd-length check.
    body_bytes: u64,
}

impl TagLines {
    pub fn new(enc: TagEncoding) -> TagLines {
        TagLines {
            enc,
            seen: 0,
            bad: None,
            carry: Vec::new(),
            utf16: Utf16::default(),
            decoded: String::new(),
            lines: Splitter::default(),
        }
    }

    /// Decodes the next piece of the file and hands on the lines it ends.
    pub fn push(&mut self, bytes: &[u8], on_line: OnLine) {
        if self.bad.is_none() {
            match self.enc {
                TagEncoding::Utf8 => self.push_utf8(bytes, on_line),
                TagEncoding::Latin1 => self.push_latin1(bytes, on_line),
                TagEncoding::Utf16 => self.push_utf16(bytes, on_line),
            }
        }
        self.seen += bytes.len() as u64;
    }

    /// Hands on the last line, if it has no line end. `Err` is a `tag` finding for `path`
    /// saying the file is not in its encoding; nothing else from it should then stand.
    pub fn finish(mut self, path: &str, on_line: OnLine) -> Result<(), Finding> {
        if self.bad.is_none() {
            self.bad = match self.enc {
                TagEncoding::Utf8 => {
                    (!self.carry.is_empty()).then(|| at_byte(self.seen - self.carry.len() as u64))
                }
                TagEncoding::Latin1 => None,
                TagEncoding::Utf16 => self.utf16_end(),
            };
        }
        match self.bad {
            None => {
                self.lines.finish(on_line);
                Ok(())
            }
            Some(why) => Err(Finding::new(
                Kind::Tag,
                path,
                format!("not valid {} ({why}); not checked", self.enc.name()),
            )),
        }
    }

    fn push_utf8(&mut self, mut bytes: &[u8], on_line: OnLine) {
        let mut start = self.seen;
        // First complete a character the last piece cut, a byte at a time (at most three).
        while !self.carry.is_empty() {
            let Some((&b, rest)) = bytes.split_first() else {
                return;
            };
            self.carry.push(b);
            bytes = rest;
            start += 1;
            match std::str::from_utf8(&self.carry) {
                Ok(s) => {
                    let s = if start == self.carry.len() as u64 {
                        s.strip_prefix('\u{feff}').unwrap_or(s)
                    } else {
                        s
                    };
                    self.lines.push(s, on_line);
                    self.carry.clear();
                }
                Err(e) if e.error_len().is_none() => {}
                Err(_) => {
                    self.bad = Some(at_byte(start - self.carry.len() as u64));
                    return;
                }
            }
        }
        let (text, rest) = match std::str::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                // Only the invalid part is not UTF-8: the valid part is kept as it is.
                let text = std::str::from_utf8(valid).unwrap_or_default();
                (text, Some((e, rest)))
            }
        };
        let text = if start == 0 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        self.lines.push(text, on_line);
        match rest {
            None => {}
            Some((e, rest)) if e.error_len().is_none() => self.carry.extend_from_slice(rest),
            Some((e, _)) => self.bad = Some(at_byte(start + e.valid_up_to() as u64)),
        }
    }

    fn push_latin1(&mut self, bytes: &[u8], on_line: OnLine) {
        match std::str::from_utf8(bytes) {
            // Plain ASCII reads the same: no copy.
            Ok(text) if text.is_ascii() => self.lines.push(text, on_line),
            _ => {
                self.decoded.clear();
                self.decoded.extend(bytes.iter().map(|&b| char::from(b)));
                self.lines.push(&self.decoded, on_line);
            }
        }
    }

    fn push_utf16(&mut self, mut bytes: &[u8], on_line: OnLine) {
        if self.utf16.big_endian.is_none() {
            while self.carry.len() < 2 {
                let Some((&b, rest)) = bytes.split_first() else {
                    return;
                };
                self.carry.push(b);
                bytes = rest;
            }
            self.utf16.big_endian = match self.carry[..] {
                [0xFE, 0xFF] => Some(true),
                [0xFF, 0xFE] => Some(false),
                _ => {
                    self.bad = Some("no byte-order mark at its start".into());
                    return;
                }
            };
            self.carry.clear();
        }
        self.utf16.body_bytes += bytes.len() as u64;
        self.decoded.clear();
        let big_endian = self.utf16.big_endian == Some(true);
        let unit = |pair: [u8; 2], decoded: &mut String, u16s: &mut Utf16| {
            let u = if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            };
            u16s.unit(u, decoded);
        };
        if let (Some(&first), Some((&b, rest))) = (self.carry.first(), bytes.split_first()) {
            unit([first, b], &mut self.decoded, &mut self.utf16);
            self.carry.clear();
            bytes = rest;
        }
        let pairs = bytes.chunks_exact(2);
        self.carry.extend_from_slice(pairs.remainder());
        for p in pairs {
            unit([p[0], p[1]], &mut self.decoded, &mut self.utf16);
            if self.utf16.broken_at.is_some() {
                break;
            }
        }
        // After a broken pair nothing more is decoded, but the bytes are still counted:
        // an odd length is said first, at the end.
        self.lines.push(&self.decoded, on_line);
    }

    /// What is wrong with a UTF-16 file as a whole, at its end.
    fn utf16_end(&mut self) -> Option<String> {
        if self.utf16.big_endian.is_none() {
            return Some("no byte-order mark at its start".into());
        }
        if !self.utf16.body_bytes.is_multiple_of(2) {
            return Some("an odd number of bytes".into());
        }
        if self.utf16.high.is_some() && self.utf16.broken_at.is_none() {
            self.utf16.broken_at = Some(self.utf16.chars + 1);
        }
        self.utf16
            .broken_at
            .map(|at| format!("a broken surrogate pair at character {at}"))
    }
}

impl Utf16 {
    /// Decodes one code unit onto `out`; a broken pair is noted (the first only).
    fn unit(&mut self, u: u16, out: &mut String) {
        if self.broken_at.is_some() {
            return;
        }
        let is_low = (0xDC00..=0xDFFF).contains(&u);
        if let Some(high) = self.high.take() {
            if !is_low {
                self.broken_at = Some(self.chars + 1);
                return;
            }
            let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
            out.extend(char::from_u32(c));
            self.chars += 1;
        } else if (0xD800..=0xDBFF).contains(&u) {
            self.high = Some(u);
        } else if is_low {
            self.broken_at = Some(self.chars + 1);
        } else {
            out.extend(char::from_u32(u32::from(u)));
            self.chars += 1;
        }
    }
}

fn at_byte(offset: u64) -> String {
    format!("at byte {offset}")
}

/// Splits decoded text into lines (LF or CRLF), keeping at most [`MAX_LINE_KEPT`] bytes of
/// each, with the lines a whole-file split gives: no line after a final line end, and
/// none at all in a file that is a single line end.
#[derive(Default)]
struct Splitter {
    /// The current line as kept.
    line: String,
    /// Bytes of the current line past what is kept.
    dropped: u64,
    /// The last byte of the current line was a carriage return.
    ends_cr: bool,
    /// Lines handed on (or held).
    number: usize,
    /// An empty first line, held until more text shows it was not the whole file.
    held: bool,
}

impl Splitter {
    fn push(&mut self, text: &str, on_line: OnLine) {
        let mut rest = text;
        while !rest.is_empty() {
            // More text after an empty first line: it was a line, not the whole file.
            if std::mem::take(&mut self.held) {
                on_line(Line {
                    number: 1,
                    text: "",
                    cut: None,
                });
            }
            let Some(at) = memchr::memchr(b'\n', rest.as_bytes()) else {
                self.add(rest);
                return;
            };
            self.add(&rest[..at]);
            self.end_line(on_line);
            rest = &rest[at + 1..];
        }
    }

    /// Adds part of a line: kept up to the limit (cut where a character starts).
    fn add(&mut self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        self.ends_cr = piece.ends_with('\r');
        let room = MAX_LINE_KEPT.saturating_sub(self.line.len());
        if self.dropped == 0 && piece.len() <= room {
            self.line.push_str(piece);
            return;
        }
        let mut keep = room.min(piece.len());
        while !piece.is_char_boundary(keep) {
            keep -= 1;
        }
        if self.dropped == 0 {
            self.line.push_str(&piece[..keep]);
        } else {
            keep = 0;
        }
        self.dropped += (piece.len() - keep) as u64;
    }

    fn end_line(&mut self, on_line: OnLine) {
        self.number += 1;
        if self.number == 1 && self.line.is_empty() && self.dropped == 0 {
            self.held = true;
            return;
        }
        self.hand_on(on_line);
    }

    fn hand_on(&mut self, on_line: OnLine) {
        let kept = self.line.len() as u64;
        let full = kept + self.dropped - u64::from(self.ends_cr);
        let cut = (full > kept).then_some(full);
        let text = if self.dropped == 0 {
            self.line.strip_suffix('\r').unwrap_or(&self.line)
        } else {
            &self.line
        };
        on_line(Line {
            number: self.number,
            text,
            cut,
        });
        self.line.clear();
        self.dropped = 0;
        self.ends_cr = false;
    }

    /// The last line, if the text does not end with a line end.
    fn finish(mut self, on_line: OnLine) {
        if !self.line.is_empty() || self.dropped > 0 {
            self.number += 1;
            self.hand_on(on_line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `bytes` pushed in pieces of `piece` bytes, or why they are not text.
    fn read_in(bytes: &[u8], enc: TagEncoding, piece: usize) -> Result<Vec<String>, String> {
        let mut lines = Vec::new();
        let mut reader = TagLines::new(enc);
        let mut on = |l: Line| lines.push(l.text.to_string());
        for p in bytes.chunks(piece.max(1)) {
            reader.push(p, &mut on);
        }
        match reader.finish("t.txt", &mut on) {
            Ok(()) => Ok(lines),
            Err(f) => Err(f.message),
        }
    }

    fn read(bytes: &[u8], enc: TagEncoding) -> Result<String, String> {
        let whole = read_in(bytes, enc, bytes.len());
        for piece in [1, 2, 3, 5] {
            assert_eq!(read_in(bytes, enc, piece), whole, "in pieces of {piece}");
        }
        whole.map(|l| l.join("\n"))
    }

    #[test]
    fn each_encoding_reads_the_same_text() {
        let text = "data/Revue qualité.md";
        assert_eq!(
            read(text.as_bytes(), TagEncoding::Utf8).as_deref(),
            Ok(text)
        );
        let latin1: Vec<u8> = text.chars().map(|c| c as u8).collect();
        assert_eq!(read(&latin1, TagEncoding::Latin1).as_deref(), Ok(text));
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(read(&le, TagEncoding::Utf16).as_deref(), Ok(text));
        assert_eq!(read(&be, TagEncoding::Utf16).as_deref(), Ok(text));
        assert!(read(&le[2..], TagEncoding::Utf16).is_err_and(|e| e.contains("byte-order mark")));
        assert!(read(&latin1, TagEncoding::Utf8).is_err_and(|e| e.contains("not valid UTF-8")));
    }

    #[test]
    fn encoding_errors_say_where() {
        let e = read(b"ab\ncd\xffe\n", TagEncoding::Utf8);
        assert_eq!(e, Err("not valid UTF-8 (at byte 5); not checked".into()));
        let e = read(
            "ab\né".as_bytes().split_last().unwrap().1,
            TagEncoding::Utf8,
        );
        assert_eq!(e, Err("not valid UTF-8 (at byte 3); not checked".into()));
        let mut odd = vec![0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'b'];
        assert!(read(&odd, TagEncoding::Utf16).is_err_and(|e| e.contains("odd number")));
        odd.push(0);
        let e = read(&odd, TagEncoding::Utf16);
        assert_eq!(
            e,
            Err("not valid UTF-16 (a broken surrogate pair at character 2); not checked".into())
        );
        let bom_only_half = [0xFF];
        assert!(read(&bom_only_half, TagEncoding::Utf16).is_err_and(|e| e.contains("byte-order")));
    }

    #[test]
    fn lines_are_those_of_a_whole_file_split() {
        for (text, want) in [
            ("", vec![]),
            ("\n", vec![]),
            ("\r\n", vec![""]),
            ("\n\n", vec!["", ""]),
            ("a", vec!["a"]),
            ("a\r\nb\n", vec!["a", "b"]),
            ("a\n\nb", vec!["a", "", "b"]),
            ("\u{feff}x\n", vec!["x"]),
        ] {
            for piece in [1, 2, text.len()] {
                let got = read_in(text.as_bytes(), TagEncoding::Utf8, piece).expect("text");
                assert_eq!(got, want, "{text:?} in pieces of {piece}");
            }
        }
        // A surrogate pair split across pieces, and the BOM held back from the text.
        let mut le = vec![0xFF, 0xFE];
        for u in "\u{feff}😀\nz".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(
            read(&le, TagEncoding::Utf16).as_deref(),
            Ok("\u{feff}😀\nz")
        );
    }

    /// What a whole-file read gives: the text decoded at once, split on LF (CR before it
    /// dropped), no line after a final line end; or `None` if it is not in the encoding.
    fn whole_file(bytes: &[u8], enc: TagEncoding) -> Option<Vec<String>> {
        let text: String = match enc {
            TagEncoding::Utf8 => {
                let t = std::str::from_utf8(bytes).ok()?;
                t.strip_prefix('\u{feff}').unwrap_or(t).to_string()
            }
            TagEncoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
            TagEncoding::Utf16 => {
                let le = match bytes {
                    [0xFF, 0xFE, ..] => true,
                    [0xFE, 0xFF, ..] => false,
                    _ => return None,
                };
                let body = &bytes[2..];
                if body.len() % 2 == 1 {
                    return None;
                }
                let units = body.chunks_exact(2).map(|c| {
                    if le {
                        u16::from_le_bytes([c[0], c[1]])
                    } else {
                        u16::from_be_bytes([c[0], c[1]])
                    }
                });
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .ok()?
            }
        };
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if text.is_empty() {
            return Some(Vec::new());
        }
        Some(
            text.split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
                .collect(),
        )
    }

    #[test]
    fn streamed_lines_are_a_whole_file_read_in_any_pieces() {
        let alphabet: [&[u8]; 9] = [
            b"a",
            b"\n",
            b"\r",
            "é".as_bytes(),
            b"\xff",
            b"\xef\xbb\xbf",
            b"\x00",
            b"\xd8",
            b"\xdc",
        ];
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..3_000 {
            let mut bytes = Vec::new();
            for _ in 0..next(12) {
                bytes.extend_from_slice(alphabet[next(alphabet.len() as u64) as usize]);
            }
            for enc in [TagEncoding::Utf8, TagEncoding::Latin1, TagEncoding::Utf16] {
                let mut bytes = bytes.clone();
                if enc == TagEncoding::Utf16 && next(4) > 0 {
                    bytes.splice(0..0, [0xFF, 0xFE]);
                }
                let want = whole_file(&bytes, enc);
                for piece in [1, 2, 3, bytes.len()] {
                    let got = read_in(&bytes, enc, piece).ok();
                    assert_eq!(got, want, "{bytes:?} as {enc:?} in pieces of {piece}");
                }
            }
        }
    }

    #[test]
    fn long_lines_are_cut_with_their_length() {
        let mut text = "é".repeat(MAX_LINE_KEPT);
        text.push_str("\r\nnext");
        let mut seen = Vec::new();
        let mut reader = TagLines::new(TagEncoding::Utf8);
        for p in text.as_bytes().chunks(1000) {
            reader.push(p, &mut |l| seen.push((l.text.len(), l.cut)));
        }
        reader
            .finish("t", &mut |l| seen.push((l.text.len(), l.cut)))
            .expect("text");
        assert_eq!(
            seen,
            vec![(MAX_LINE_KEPT, Some(2 * MAX_LINE_KEPT as u64)), (4, None)]
        );
    }

    #[test]
    fn encodings_are_named_loosely() {
        for (name, enc) in [
            ("UTF-8", Some(TagEncoding::Utf8)),
            ("utf8", Some(TagEncoding::Utf8)),
            ("ISO-8859-1", Some(TagEncoding::Latin1)),
            ("iso_8859_1", Some(TagEncoding::Latin1)),
            ("UTF-16", Some(TagEncoding::Utf16)),
            ("Shift_JIS", None),
        ] {
            assert_eq!(TagEncoding::named(name), enc, "{name}");
        }
    }
}
