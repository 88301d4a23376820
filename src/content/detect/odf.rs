//! OpenDocument (`.odt`, `.ods`, `.odp`).
//!
//! Reads: the first KiB; the zip's end record and central directory (see
//! [`super::zipdir`]); the `mimetype` entry (stored, at most 256 bytes); and up to 1 MiB of
//! inflated `META-INF/manifest.xml`, where encryption is declared per part. The manifest
//! is searched, not parsed: `<manifest:encryption-data` appears only for encrypted parts.

use std::io::{Read, Seek};

use memchr::memmem;

use super::zipdir::{self, Directory};
use super::{found, head, sniff, wrong_type, Bounded, Check, Judged};

const MANIFEST: &str = "META-INF/manifest.xml";
const MANIFEST_CAP: u64 = 1 << 20;
const MIMETYPE_CAP: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Odf {
    Text,
    Spreadsheet,
    Presentation,
}

const KINDS: [Odf; 3] = [Odf::Text, Odf::Spreadsheet, Odf::Presentation];

impl Odf {
    pub fn of(ext: &str) -> Option<Odf> {
        match ext {
            "odt" | "ott" => Some(Odf::Text),
            "ods" | "ots" => Some(Odf::Spreadsheet),
            "odp" | "otp" => Some(Odf::Presentation),
            _ => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Odf::Text => "an OpenDocument text document",
            Odf::Spreadsheet => "an OpenDocument spreadsheet",
            Odf::Presentation => "an OpenDocument presentation",
        }
    }

    /// The `mimetype` entry's value, without the `-template` suffix templates add.
    fn media_type(self) -> &'static str {
        match self {
            Odf::Text => "application/vnd.oasis.opendocument.text",
            Odf::Spreadsheet => "application/vnd.oasis.opendocument.spreadsheet",
            Odf::Presentation => "application/vnd.oasis.opendocument.presentation",
        }
    }
}

pub fn check<R: Read + Seek>(r: &mut Bounded<R>, size: u64, odf: Odf) -> Judged {
    let head = head(r)?;
    if !sniff::is_zip(&head) {
        return Err(wrong_type(sniff::describe(&head), odf.noun()));
    }
    let dir = zipdir::read(r, size)?;
    check_mimetype(r, &dir, odf)?;
    check_encryption(r, &dir)?;
    if !dir.has("content.xml") {
        return Err(found(
            Check::Corrupt,
            "no content.xml: the document part is missing",
        ));
    }
    Ok(())
}

fn check_mimetype<R: Read + Seek>(r: &mut Bounded<R>, dir: &Directory, odf: Odf) -> Judged {
    let Some(entry) = dir.get("mimetype") else {
        let what = if dir.has("[Content_Types].xml") {
            "a Microsoft Office document (a zip with [Content_Types].xml)"
        } else {
            "a zip without a mimetype entry"
        };
        return Err(wrong_type(what, odf.noun()));
    };
    let value = zipdir::read_prefix(r, entry, MIMETYPE_CAP)?.unwrap_or_default();
    let value = String::from_utf8_lossy(&value);
    let value = value.trim().trim_end_matches("-template");
    if value == odf.media_type() {
        return Ok(());
    }
    match KINDS.into_iter().find(|k| k.media_type() == value) {
        Some(other) => Err(wrong_type(other.noun(), odf.noun())),
        None => Err(wrong_type(
            &format!("a package of type \"{}\"", value.escape_debug()),
            odf.noun(),
        )),
    }
}

fn check_encryption<R: Read + Seek>(r: &mut Bounded<R>, dir: &Directory) -> Judged {
    let Some(entry) = dir.get(MANIFEST) else {
        return Ok(());
    };
    let manifest = zipdir::read_prefix(r, entry, MANIFEST_CAP)?.unwrap_or_default();
    if memmem::find(&manifest, b"encryption-data").is_some() {
        return Err(found(
            Check::PasswordProtected,
            "encrypted: it opens only with its password",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::super::zipdir::tests::zip_of;
    use super::*;

    const ODT: &[u8] = b"application/vnd.oasis.opendocument.text";
    const PLAIN_MANIFEST: &[u8] = br#"<manifest:manifest><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    const ENCRYPTED_MANIFEST: &[u8] = br#"<manifest:manifest><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="1200"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="y"/><manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:iteration-count="1024" manifest:salt="z"/></manifest:encryption-data></manifest:file-entry></manifest:manifest>"#;

    fn odt(mimetype: &[u8], manifest: &[u8], content: bool) -> Vec<u8> {
        let mut parts: Vec<(&str, &[u8])> = vec![("mimetype", mimetype), (MANIFEST, manifest)];
        if content {
            parts.push(("content.xml", b"<office:document-content/>"));
        }
        zip_of(&parts)
    }

    #[test]
    fn a_whole_odt_is_ok() {
        assert_eq!(
            run(&odt(ODT, PLAIN_MANIFEST, true), "Minutes.odt").check,
            Check::Ok
        );
    }

    #[test]
    fn an_encrypted_odt_is_password_protected() {
        let got = run(&odt(ODT, ENCRYPTED_MANIFEST, true), "Minutes.odt");
        assert_eq!(got.check, Check::PasswordProtected);
    }

    #[test]
    fn an_odt_without_content_is_corrupt() {
        let got = run(&odt(ODT, PLAIN_MANIFEST, false), "Minutes.odt");
        assert_eq!(got.check, Check::Corrupt);
        assert_eq!(
            got.detail.as_deref(),
            Some("no content.xml: the document part is missing")
        );
    }

    #[test]
    fn a_spreadsheet_named_odt_is_the_wrong_type() {
        let ods = odt(
            b"application/vnd.oasis.opendocument.spreadsheet",
            PLAIN_MANIFEST,
            true,
        );
        let got = run(&ods, "Minutes.odt");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("an OpenDocument spreadsheet, not an OpenDocument text document")
        );
        let docx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w/>"),
        ]);
        assert_eq!(run(&docx, "Minutes.odt").check, Check::WrongType);
    }
}
