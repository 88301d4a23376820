//! What a file's first bytes say it is: the signatures the checks test, and the words a
//! `wrong-type` detail uses for what was found instead.

/// Bytes read from the start of a file for the signatures; `%PDF-` may sit anywhere in
/// the first KiB (readers allow junk before it).
pub const HEAD_LEN: usize = 1024;

pub const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
pub const JPEG: &[u8] = b"\xFF\xD8\xFF";
const LNK: &[u8] = b"L\0\0\0\x01\x14\x02\0";

pub fn is_zip(head: &[u8]) -> bool {
    // A local header, or the end record of an empty archive.
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

pub fn is_ole(head: &[u8]) -> bool {
    head.starts_with(OLE)
}

pub fn is_gif(head: &[u8]) -> bool {
    head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a")
}

/// Where `%PDF-` starts in the head, if it does.
pub fn pdf_header(head: &[u8]) -> Option<usize> {
    memchr::memmem::find(head, b"%PDF-")
}

/// What the bytes look like, as a noun phrase ("an HTML page ..."), for a detail.
pub fn describe(head: &[u8]) -> &'static str {
    signature(head)
        .or_else(|| html(head))
        .or_else(|| xml(head))
        .unwrap_or_else(|| plain(head))
}

/// A known binary format (or PDF), by its signature.
pub fn signature(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a zip archive"),
        (b"PK\x05\x06", "an empty zip archive"),
        (
            OLE,
            "an OLE compound file (an Office 97-2003 file, or an encrypted Office document)",
        ),
        (PNG, "a PNG image"),
        (JPEG, "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (LNK, "a Windows shortcut"),
        (b"{\\rtf", "an RTF document"),
        (b"MZ", "a Windows program"),
        (b"\x7FELF", "a program"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"%!PS", "a PostScript file"),
        (b"\0\0\x01\0", "a Windows icon (ICO)"),
        (b"[InternetShortcut]", "an internet shortcut (a link)"),
    ];
    if let Some(&(_, what)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        // Two letters could start a text file too; a program has NULs in its header.
        if what != "a Windows program" || head.contains(&0) {
            return Some(what);
        }
    }
    if pdf_header(head).is_some() {
        return Some("a PDF");
    }
    match head.get(4..12) {
        Some(b"ftypheic" | b"ftypheix" | b"ftypmif1") => Some("an HEIC photo"),
        Some(brand) if brand.starts_with(b"ftyp") => Some("a video (MP4 or MOV)"),
        _ if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") => Some("a WebP image"),
        _ => None,
    }
}

/// HTML: a sign-in page or a server's error, saved under the document's name.
pub fn html(head: &[u8]) -> Option<&'static str> {
    let lower = markup_start(head)?;
    let tags = [
        b"<!doctype html".as_slice(),
        b"<html",
        b"<head",
        b"<body",
        b"<!--",
    ];
    tags.iter()
        .any(|tag| lower.starts_with(tag))
        .then_some("an HTML page (a download error or sign-in page?)")
}

fn xml(head: &[u8]) -> Option<&'static str> {
    markup_start(head)?
        .starts_with(b"<?xml")
        .then_some("an XML file")
}

/// The head from its first non-blank byte, lower-cased, past a UTF-8 byte order mark.
fn markup_start(head: &[u8]) -> Option<Vec<u8>> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    Some(text[start..].to_ascii_lowercase())
}

fn plain(head: &[u8]) -> &'static str {
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") || !head.contains(&0) {
        "a text file"
    } else {
        "binary data"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_it_finds() {
        assert_eq!(
            describe(b"\xEF\xBB\xBF\r\n<!DOCTYPE html><html>"),
            "an HTML page (a download error or sign-in page?)"
        );
        assert_eq!(describe(b"<?xml version=\"1.0\"?><a/>"), "an XML file");
        assert_eq!(describe(b"PK\x03\x04rest"), "a zip archive");
        assert_eq!(describe(b"junk\n%PDF-1.7"), "a PDF");
        assert_eq!(describe(b"\0\0\0\x18ftypheic"), "an HEIC photo");
        assert_eq!(describe(b"name,date\n"), "a text file");
        assert_eq!(describe(b"\x01\x00\x02"), "binary data");
    }
}
