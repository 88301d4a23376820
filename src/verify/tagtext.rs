//! Tag files as text, in the encoding `bagit.txt` declares (`Tag-File-Character-Encoding`):
//! UTF-8, ISO-8859-1 or UTF-16 with a byte-order mark, as RFC 8493 allows and older tools
//! wrote. Decoding is small enough to need no crate: ISO-8859-1 maps each byte to the code
//! point of the same number, and UTF-16 is the standard library's.

use std::borrow::Cow;

use super::findings::{Finding, Kind};

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

/// The text of tag file `path`, decoded; a byte-order mark is dropped. `None` (and a `tag`
/// finding) when the bytes are not in that encoding.
pub fn decode<'a>(
    path: &str,
    bytes: &'a [u8],
    enc: TagEncoding,
    findings: &mut dyn FnMut(Finding),
) -> Option<Cow<'a, str>> {
    let decoded = match enc {
        TagEncoding::Utf8 => std::str::from_utf8(bytes)
            .map(|t| Cow::Borrowed(t.strip_prefix('\u{feff}').unwrap_or(t)))
            .map_err(|e| format!("at byte {}", e.valid_up_to())),
        TagEncoding::Latin1 => Ok(match std::str::from_utf8(bytes) {
            // Plain ASCII reads the same: no copy.
            Ok(t) if t.is_ascii() => Cow::Borrowed(t),
            _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        }),
        TagEncoding::Utf16 => utf16(bytes).map(Cow::Owned),
    };
    match decoded {
        Ok(text) => Some(text),
        Err(why) => {
            findings(Finding::new(
                Kind::Tag,
                path,
                format!("not valid {} ({why}); not checked", enc.name()),
            ));
            None
        }
    }
}

/// UTF-16 text: a byte-order mark says which byte comes first (RFC 8493 allows UTF-16 only
/// with one).
fn utf16(bytes: &[u8]) -> Result<String, String> {
    let big_endian = match bytes {
        [0xFE, 0xFF, ..] => true,
        [0xFF, 0xFE, ..] => false,
        _ => return Err("no byte-order mark at its start".into()),
    };
    let body = &bytes[2..];
    if !body.len().is_multiple_of(2) {
        return Err("an odd number of bytes".into());
    }
    let units = body.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .enumerate()
        .map(|(i, c)| c.map_err(|_| format!("a broken surrogate pair at character {}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], enc: TagEncoding) -> Result<String, String> {
        let mut found = Vec::new();
        let text = decode("t.txt", bytes, enc, &mut |f| found.push(f)).map(Cow::into_owned);
        text.ok_or_else(|| found.first().map(|f| f.message.clone()).unwrap_or_default())
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
