//! PDF.
//!
//! Reads: the first KiB (`%PDF-`); the last KiB (`startxref` and `%%EOF`: a copy cut
//! short has neither); the newest cross-reference section's trailer; and, only when the
//! trailer names an encryption dictionary, that dictionary (see [`xref`] for the
//! bounds). Page content is never read.
//!
//! Encryption: a PDF with only an owner password (print or copy restrictions) opens for
//! everyone, because its user password is empty; only a non-empty user password, or a
//! certificate, keeps an inspector out. The standard security handler's user password
//! check (revisions 2 to 6: RC4, AES-128, AES-256) is the `pdf` crate's
//! `Decoder::from_password`, given the encryption dictionary parsed by the same crate;
//! the crate's own file loader is not used, since it reads the whole file.

use std::borrow::Cow;
use std::io::{Read, Seek};
use std::panic::{self, AssertUnwindSafe};

use memchr::memmem;
use pdf::crypt::{CryptDict, Decoder};
use pdf::object::NoResolve;
use pdf::parser::{self, ParseFlags};
use pdf::primitive::{Dictionary, Primitive};
use pdf::PdfError;

use super::{found, head, sniff, wrong_type, Bounded, Check, Judged};

mod xref;

use xref::{Xref, DICT_WINDOW};

/// Readers look for `%%EOF` in the last KiB.
const TAIL: usize = 1024;
/// Where a damaged cross-reference sends the search for the trailer and for objects.
const FALLBACK_WINDOW: usize = 256 << 10;

pub fn check<R: Read + Seek>(r: &mut Bounded<R>, size: u64) -> Judged {
    let head = head(r)?;
    let Some(header_at) = sniff::pdf_header(&head) else {
        return Err(wrong_type(sniff::describe(&head), "a PDF"));
    };
    let startxref = find_startxref(r, size)?;
    let Some(trailer) = newest_trailer(r, size, startxref, header_at as u64)? else {
        // Viewers rebuild a lost cross-reference, so this is no proof of damage; without
        // a trailer, though, encryption cannot be judged, and the file is let through.
        return Ok(());
    };
    let Some(encrypt) = trailer.get("Encrypt") else {
        return Ok(());
    };
    let dict = encryption_dictionary(r, size, startxref, encrypt)?;
    check_password(&dict, &first_id(&trailer))
}

/// The offset after the last `startxref` before `%%EOF`, near the end.
fn find_startxref<R: Read + Seek>(r: &mut Bounded<R>, size: u64) -> Judged<u64> {
    let (_, tail) = r.read_tail(size, TAIL)?;
    let cut = |what: &str| {
        found(
            Check::Corrupt,
            format!("no {what} at its end: the copy looks cut short"),
        )
    };
    let eof = memmem::rfind(&tail, b"%%EOF").ok_or_else(|| cut("%%EOF marker"))?;
    let at = memmem::rfind(&tail[..eof], b"startxref").ok_or_else(|| cut("startxref"))?;
    let after = &tail[at + 9..eof];
    let digits = &after[xref::leading_space(after)..];
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&digits[..n])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| cut("cross-reference offset after startxref"))
}

/// The trailer of the section `startxref` points at (tried also from the header's
/// position, for files with bytes before `%PDF-`), else the last `trailer` near the end.
fn newest_trailer<R: Read + Seek>(
    r: &mut Bounded<R>,
    size: u64,
    startxref: u64,
    header_at: u64,
) -> Judged<Option<Dictionary>> {
    let mut xref = Xref::new(r, size);
    let shifted = (header_at > 0).then_some(startxref + header_at);
    for offset in std::iter::once(startxref).chain(shifted) {
        if let Some(section) = xref.section(offset)? {
            return Ok(Some(section.trailer));
        }
    }
    let (_, tail) = r.read_tail(size, FALLBACK_WINDOW)?;
    Ok(memmem::rfind(&tail, b"trailer").and_then(|at| parse_dict(&tail[at + 7..])))
}

/// The encryption dictionary, given directly in the trailer or as a reference.
fn encryption_dictionary<R: Read + Seek>(
    r: &mut Bounded<R>,
    size: u64,
    startxref: u64,
    encrypt: &Primitive,
) -> Judged<Dictionary> {
    let missing = || {
        found(
            Check::Corrupt,
            "it is encrypted, but its encryption dictionary cannot be found",
        )
    };
    let id = match encrypt {
        Primitive::Dictionary(dict) => return Ok(dict.clone()),
        Primitive::Reference(reference) => reference.id,
        _ => return Err(missing()),
    };
    let offset = match Xref::new(r, size).find(startxref, id)? {
        Some(offset) => Some(offset),
        None => scan_for_object(r, size, id)?,
    };
    let Some(offset) = offset else {
        return Err(missing());
    };
    let window = r.read_at(offset, DICT_WINDOW)?;
    xref::object_body(&window)
        .and_then(parse_dict)
        .ok_or_else(missing)
}

/// Where `id 0 obj` appears in the first or last [`FALLBACK_WINDOW`] bytes: what a
/// viewer's repair would find, within bounds.
fn scan_for_object<R: Read + Seek>(r: &mut Bounded<R>, size: u64, id: u64) -> Judged<Option<u64>> {
    let needle = format!("{id} 0 obj");
    let (tail_at, tail) = r.read_tail(size, FALLBACK_WINDOW)?;
    let head = r.read_at(0, FALLBACK_WINDOW)?;
    let at_line_start = |window: &[u8], at: usize| at == 0 || !window[at - 1].is_ascii_digit();
    let in_window = |window: &[u8]| {
        memmem::find_iter(window, needle.as_bytes()).find(|&at| at_line_start(window, at))
    };
    Ok(in_window(&tail)
        .map(|at| tail_at + at as u64)
        .or_else(|| in_window(&head).map(|at| at as u64)))
}

/// Whether the empty user password opens the file.
fn check_password(dict: &Dictionary, id: &[u8]) -> Judged {
    let filter = dict
        .get("Filter")
        .and_then(|f| f.as_name().ok())
        .unwrap_or("");
    if filter != "Standard" {
        let detail = if filter == "Adobe.PubSec" {
            "encrypted for named people's certificates: it opens only with one of them".to_string()
        } else {
            format!("encrypted by a security plug-in ({filter}): it opens only with that plug-in")
        };
        return Err(found(Check::PasswordProtected, detail));
    }
    let damaged = |why: &str| {
        found(
            Check::Corrupt,
            format!("its encryption dictionary is damaged or of an unknown kind ({why})"),
        )
    };
    check_key_lengths(dict).map_err(&damaged)?;
    let crypt = <CryptDict as pdf::object::Object>::from_primitive(
        Primitive::Dictionary(dict.clone()),
        &NoResolve,
    )
    .map_err(|e| damaged(&e.to_string()))?;
    // The crate asserts on some values a hostile file can hold; checked above, and a
    // panic that gets through still only judges this file.
    let opened = panic::catch_unwind(AssertUnwindSafe(|| {
        Decoder::from_password(&crypt, id, b"").map(|_| ())
    }));
    match opened {
        Ok(Ok(())) => Ok(()),
        Ok(Err(PdfError::InvalidPassword)) => Err(found(
            Check::PasswordProtected,
            "it needs a password to open",
        )),
        Ok(Err(e)) => Err(damaged(&e.to_string())),
        Err(_) => Err(damaged("its values are out of range")),
    }
}

/// Key lengths the standard handler allows (in bits for `/Length`, in bytes for a crypt
/// filter's), and a known version and revision: the crate panics on a zero-length key.
fn check_key_lengths(dict: &Dictionary) -> Result<(), &'static str> {
    let get = |d: &Dictionary, key: &str| d.get(key).and_then(integer);
    let version = get(dict, "V").ok_or("no /V")?;
    let revision = get(dict, "R").ok_or("no /R")?;
    if !matches!(version, 1 | 2 | 4 | 5) || !(2..=6).contains(&revision) {
        return Err("an unknown version or revision");
    }
    if let Some(bits) = get(dict, "Length") {
        if !(40..=256).contains(&bits) || bits % 8 != 0 {
            return Err("a key length out of range");
        }
    }
    let filters = dict.get("CF").and_then(|cf| cf.as_dict().ok());
    let lengths = filters
        .into_iter()
        .flat_map(|cf| cf.iter().map(|(_, f)| f))
        .filter_map(|f| f.as_dict().ok().and_then(|f| get(f, "Length")));
    for bytes in lengths {
        if !(5..=32).contains(&bytes) {
            return Err("a crypt filter key length out of range");
        }
    }
    Ok(())
}

/// The first string of the trailer's `/ID`: part of the key for revisions 2 to 4.
fn first_id(trailer: &Dictionary) -> Vec<u8> {
    trailer
        .get("ID")
        .and_then(|id| id.as_array().ok())
        .and_then(|ids| ids.first())
        .and_then(|id| id.as_string().ok())
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default()
}

/// A dictionary at the start of `bytes` (what follows it is ignored).
fn parse_dict(bytes: &[u8]) -> Option<Dictionary> {
    let start = xref::leading_space(bytes);
    if !bytes[start..].starts_with(b"<<") {
        return None;
    }
    // The parser looks one token past the dictionary for `stream`; give it one.
    let mut text = signed_permissions(&bytes[start..]).into_owned();
    text.extend_from_slice(b" endobj");
    // As for the password check: a panic in the crate on hostile bytes judges one file.
    let parsed = panic::catch_unwind(|| parser::parse(&text, &NoResolve, ParseFlags::DICT));
    match parsed {
        Ok(Ok(Primitive::Dictionary(dict))) => Some(dict),
        _ => None,
    }
}

/// `/P` is a signed 32-bit value, but many writers print its bits unsigned
/// (`/P 4294967292`), which the parser's 32-bit integers refuse; the same bits, signed.
fn signed_permissions(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Some(key) = memmem::find_iter(bytes, b"/P")
        .find(|&at| matches!(bytes.get(at + 2), Some(b' ' | b'\t' | b'\r' | b'\n')))
    else {
        return Cow::Borrowed(bytes);
    };
    let value_at = key + 2 + xref::leading_space(&bytes[key + 2..]);
    let len = bytes[value_at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let value: Option<u32> = std::str::from_utf8(&bytes[value_at..value_at + len])
        .ok()
        .and_then(|s| s.parse().ok());
    match value {
        Some(v) if v > i32::MAX as u32 => {
            let mut out = bytes[..value_at].to_vec();
            out.extend_from_slice((v as i32).to_string().as_bytes());
            out.extend_from_slice(&bytes[value_at + len..]);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(bytes),
    }
}

/// A non-negative integer value (offsets, counts, lengths).
fn integer(p: &Primitive) -> Option<u64> {
    match p {
        Primitive::Integer(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
