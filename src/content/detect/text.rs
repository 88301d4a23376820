//! Text formats (`.csv`, `.tsv`, `.txt`, `.md`).
//!
//! Reads: the first 64 KiB and the last 4 KiB, never the middle: a text export that is
//! binary or in another encoding shows it from the first bytes, and a file damaged at
//! its end (a copy filled with zeros) shows it in the tail. A text file is UTF-8, or
//! UTF-16 with a byte order mark (Excel's "Unicode text"), or else is read as
//! Windows-1252, where every byte but NUL is a character. So `wrong-type` means a known
//! binary signature, a NUL byte, or (for CSV) an HTML page; `empty` means only white
//! space, judged only when the whole file was read.

use std::io::{Read, Seek};

use super::{found, sniff, wrong_type, Bounded, Check, Judged};

const PREFIX: usize = 64 << 10;
const TAIL: usize = 4 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Csv,
    Tsv,
    Plain,
    Markdown,
}

impl Text {
    pub fn of(ext: &str) -> Option<Text> {
        match ext {
            "csv" => Some(Text::Csv),
            "tsv" => Some(Text::Tsv),
            "txt" => Some(Text::Plain),
            "md" | "markdown" => Some(Text::Markdown),
            _ => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Text::Csv => "a CSV file",
            Text::Tsv => "a TSV file",
            Text::Plain => "a text file",
            Text::Markdown => "a Markdown file",
        }
    }
}

/// A file's encoding, as its first bytes declare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf16 {
        little_endian: bool,
    },
    /// UTF-8 or Windows-1252: both are ASCII in white space and NUL.
    Bytes,
}

pub fn check<R: Read + Seek>(r: &mut Bounded<R>, size: u64, text: Text) -> Judged {
    let prefix = r.read_at(0, PREFIX)?;
    let head = &prefix[..prefix.len().min(sniff::HEAD_LEN)];
    if let Some(what) = binary_signature(head, text) {
        return Err(wrong_type(what, text.noun()));
    }
    let (tail_at, tail) = if size > PREFIX as u64 {
        r.read_tail(size, TAIL)?
    } else {
        (0, Vec::new())
    };
    let encoding = encoding(&prefix);
    check_no_nul(&prefix, 0, encoding)?;
    check_no_nul(&tail, tail_at, encoding)?;
    let whole = prefix.len() as u64 == size;
    if whole && is_blank(&prefix, encoding) {
        return Err(found(Check::Empty, "only white space"));
    }
    Ok(())
}

/// What a text file must not start with: another format's signature, or (for CSV and
/// TSV, which are data) an HTML page saved under its name. Text and Markdown may hold HTML.
fn binary_signature(head: &[u8], text: Text) -> Option<&'static str> {
    sniff::signature(head).or_else(|| match text {
        Text::Csv | Text::Tsv => sniff::html(head),
        Text::Plain | Text::Markdown => None,
    })
}

fn encoding(prefix: &[u8]) -> Encoding {
    if prefix.starts_with(b"\xFF\xFE") {
        Encoding::Utf16 {
            little_endian: true,
        }
    } else if prefix.starts_with(b"\xFE\xFF") {
        Encoding::Utf16 {
            little_endian: false,
        }
    } else {
        Encoding::Bytes
    }
}

/// NUL is no character of a text file: a NUL byte, or in UTF-16 a NUL code unit.
fn check_no_nul(bytes: &[u8], offset: u64, encoding: Encoding) -> Judged {
    let at = match encoding {
        Encoding::Bytes => memchr::memchr(0, bytes),
        Encoding::Utf16 { .. } => {
            // Code units start at even offsets of the file.
            let skip = (offset % 2) as usize;
            let mut units = bytes.get(skip..).unwrap_or_default().chunks_exact(2);
            units.position(|u| u == [0, 0]).map(|i| skip + 2 * i)
        }
    };
    match at {
        Some(at) => Err(found(
            Check::WrongType,
            format!(
                "binary data (a NUL {} at offset {}), not text",
                if encoding == Encoding::Bytes {
                    "byte"
                } else {
                    "character"
                },
                offset + at as u64
            ),
        )),
        None => Ok(()),
    }
}

fn is_blank(bytes: &[u8], encoding: Encoding) -> bool {
    match encoding {
        Encoding::Bytes => bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(bytes)
            .iter()
            .all(|b| b.is_ascii_whitespace() || *b == 0x0B),
        Encoding::Utf16 { little_endian } => bytes[2..].chunks(2).all(|pair| {
            let unit = match (pair, little_endian) {
                ([lo, hi], true) => u16::from_le_bytes([*lo, *hi]),
                ([hi, lo], false) => u16::from_be_bytes([*hi, *lo]),
                _ => return false,
            };
            char::from_u32(u32::from(unit)).is_some_and(char::is_whitespace)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::*;

    #[test]
    fn utf8_and_windows_1252_csvs_are_ok() {
        assert_eq!(
            run("name,town\nZoë,Bridgend\n".as_bytes(), "a.csv").check,
            Check::Ok
        );
        // "Zoë" and "£5" in Windows-1252: not UTF-8, still text.
        assert_eq!(run(b"name,fee\nZo\xEB,\xA35\r\n", "b.csv").check, Check::Ok);
        assert_eq!(run(b"\xEF\xBB\xBFid\n1\n", "c.CSV").check, Check::Ok);
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_text() {
        let text: Vec<u8> = "\u{feff}id\tname\r\n1\tZoë\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(run(&text, "export.txt").check, Check::Ok);
    }

    #[test]
    fn utf16_with_nul_characters_is_binary() {
        let got = run(b"\xFF\xFEa\0\0\0b\0", "export.txt");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("binary data (a NUL character at offset 4), not text")
        );
    }

    #[test]
    fn white_space_only_is_empty() {
        let got = run(b" \r\n\t \n", "notes.txt");
        assert_eq!(got.check, Check::Empty);
        assert_eq!(got.detail.as_deref(), Some("only white space"));
        assert_eq!(run(b"\xEF\xBB\xBF\r\n", "notes.md").check, Check::Empty);
        let utf16: Vec<u8> = "\u{feff} \r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(run(&utf16, "notes.txt").check, Check::Empty);
    }

    #[test]
    fn binary_with_nuls_named_csv_is_the_wrong_type() {
        let got = run(b"id,name\n\x00\x01\x02\x03", "data.csv");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("binary data (a NUL byte at offset 8), not text")
        );
    }

    #[test]
    fn nuls_in_the_tail_of_a_large_file_are_found() {
        let mut bytes = b"id,name\n".repeat(20_000);
        bytes.extend_from_slice(&[0; 100]);
        assert_eq!(run(&bytes, "data.csv").check, Check::WrongType);
    }

    #[test]
    fn another_format_named_csv_is_the_wrong_type() {
        let got = run(b"PK\x03\x04\x14\0\0\0", "data.csv");
        assert_eq!(got.detail.as_deref(), Some("a zip archive, not a CSV file"));
        let got = run(b"<!DOCTYPE html><p>Session expired</p>", "data.csv");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(run(b"<html>notes</html>", "notes.md").check, Check::Ok);
    }
}
