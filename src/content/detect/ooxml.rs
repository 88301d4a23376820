//! Office Open XML (`.docx`, `.xlsx`, `.pptx` and their macro and template variants).
//!
//! Reads: the first KiB; then either the OLE directory (an encrypted package, see
//! [`super::ole`]) or the zip's end record and central directory (64 KiB + the directory,
//! see [`super::zipdir`]). Only when the usual main part is missing does it inflate the
//! package relationships (`_rels/.rels`, at most 64 KiB of output) to find where the
//! producer put it. Parts are never inflated whole.

use std::io::{Read, Seek};

use super::zipdir::{self, Directory};
use super::{found, head, ole, sniff, wrong_type, Bounded, Check, Judged};

const CONTENT_TYPES: &str = "[Content_Types].xml";
const PACKAGE_RELS: &str = "_rels/.rels";
const RELS_CAP: u64 = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Word,
    Excel,
    PowerPoint,
}

const FAMILIES: [Family; 3] = [Family::Word, Family::Excel, Family::PowerPoint];

impl Family {
    pub fn of(ext: &str) -> Option<Family> {
        match ext {
            "docx" | "docm" | "dotx" | "dotm" => Some(Family::Word),
            "xlsx" | "xlsm" | "xltx" | "xltm" | "xlsb" => Some(Family::Excel),
            "pptx" | "pptm" | "potx" | "potm" | "ppsx" | "ppsm" => Some(Family::PowerPoint),
            _ => None,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Family::Word => "a Word document",
            Family::Excel => "an Excel workbook",
            Family::PowerPoint => "a PowerPoint presentation",
        }
    }

    /// Where every Office version and the common libraries put the main part; `.xlsb`
    /// keeps a binary one.
    fn main_parts(self) -> &'static [&'static str] {
        match self {
            Family::Word => &["word/document.xml"],
            Family::Excel => &["xl/workbook.xml", "xl/workbook.bin"],
            Family::PowerPoint => &["ppt/presentation.xml"],
        }
    }

    fn has_main_part(self, dir: &Directory) -> bool {
        self.main_parts().iter().any(|part| dir.has(part))
    }
}

pub fn check<R: Read + Seek>(r: &mut Bounded<R>, size: u64, family: Family) -> Judged {
    let head = head(r)?;
    if sniff::is_ole(&head) {
        return ole::check_encrypted_package(r, family.noun());
    }
    if !sniff::is_zip(&head) {
        return Err(wrong_type(sniff::describe(&head), family.noun()));
    }
    let dir = zipdir::read(r, size)?;
    check_package(&dir, family)?;
    check_main_part(r, &dir, family)
}

/// A zip, but is it an Office package, and is it readable without a zip password?
fn check_package(dir: &Directory, family: Family) -> Judged {
    let Some(types) = dir.get(CONTENT_TYPES) else {
        let what = if dir.has("mimetype") {
            "an OpenDocument file (a zip with a mimetype entry)"
        } else {
            "a zip without [Content_Types].xml"
        };
        return Err(wrong_type(what, family.noun()));
    };
    if types.is_encrypted() {
        return Err(found(
            Check::PasswordProtected,
            "its parts are encrypted with a zip password",
        ));
    }
    Ok(())
}

fn check_main_part<R: Read + Seek>(r: &mut Bounded<R>, dir: &Directory, family: Family) -> Judged {
    if family.has_main_part(dir) {
        return Ok(());
    }
    if let Some(other) = FAMILIES.into_iter().find(|f| f.has_main_part(dir)) {
        return Err(wrong_type(other.noun(), family.noun()));
    }
    if let Some(target) = office_document_target(r, dir)? {
        if dir.has(&target) {
            return Ok(());
        }
    }
    Err(found(
        Check::Corrupt,
        format!(
            "no {}: the document part is missing",
            family.main_parts()[0]
        ),
    ))
}

/// The main part named by the package relationships, for producers that do not use the
/// usual name. A plain text search is enough: the relationship is one attribute pair.
fn office_document_target<R: Read + Seek>(
    r: &mut Bounded<R>,
    dir: &Directory,
) -> Judged<Option<String>> {
    let Some(entry) = dir.get(PACKAGE_RELS) else {
        return Ok(None);
    };
    let Some(xml) = zipdir::read_prefix(r, entry, RELS_CAP)? else {
        return Ok(None);
    };
    let xml = String::from_utf8_lossy(&xml);
    Ok(xml
        .split("<Relationship ")
        .find(|rel| attribute(rel, "Type").is_some_and(|t| t.ends_with("/officeDocument")))
        .and_then(|rel| attribute(rel, "Target"))
        .map(|target| target.trim_start_matches('/').to_string()))
}

fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let start = element.find(&format!("{name}=\""))? + name.len() + 2;
    let len = element[start..].find('"')?;
    Some(&element[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::super::zipdir::tests::zip_of;
    use super::*;

    const TYPES: &[u8] = b"<Types/>";

    fn docx(main: Option<(&str, &[u8])>) -> Vec<u8> {
        let mut parts: Vec<(&str, &[u8])> =
            vec![(CONTENT_TYPES, TYPES), (PACKAGE_RELS, b"<Relationships/>")];
        parts.extend(main);
        zip_of(&parts)
    }

    #[test]
    fn whole_office_documents_are_ok() {
        let doc = docx(Some(("word/document.xml", b"<w:document/>")));
        assert_eq!(run(&doc, "Plan.docx").check, Check::Ok);
        assert_eq!(run(&doc, "Plan.DOCM").check, Check::Ok);
        let xlsx = zip_of(&[(CONTENT_TYPES, TYPES), ("xl/workbook.xml", b"<workbook/>")]);
        assert_eq!(run(&xlsx, "Data.xlsx").check, Check::Ok);
        let pptx = zip_of(&[(CONTENT_TYPES, TYPES), ("ppt/presentation.xml", b"<p/>")]);
        assert_eq!(run(&pptx, "Deck.pptx").check, Check::Ok);
    }

    #[test]
    fn a_docx_without_its_document_part_is_corrupt() {
        let got = run(&docx(None), "Plan.docx");
        assert_eq!(got.check, Check::Corrupt);
        assert_eq!(
            got.detail.as_deref(),
            Some("no word/document.xml: the document part is missing")
        );
    }

    #[test]
    fn the_main_part_may_live_where_the_relationships_say() {
        let rels = br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>"#;
        let doc = zip_of(&[
            (CONTENT_TYPES, TYPES),
            (PACKAGE_RELS, rels),
            ("word/document2.xml", b"<w/>"),
        ]);
        assert_eq!(run(&doc, "Plan.docx").check, Check::Ok);
    }

    #[test]
    fn another_office_type_or_a_plain_zip_is_the_wrong_type() {
        let xlsx = zip_of(&[(CONTENT_TYPES, TYPES), ("xl/workbook.xml", b"<workbook/>")]);
        let got = run(&xlsx, "Plan.docx");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("an Excel workbook, not a Word document")
        );

        let plain = zip_of(&[("notes.txt", b"hello")]);
        let got = run(&plain, "Plan.docx");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("a zip without [Content_Types].xml, not a Word document")
        );
    }

    #[test]
    fn html_saved_as_docx_is_the_wrong_type() {
        let got = run(b"<html><body>Sign in</body></html>", "Plan.docx");
        assert_eq!(got.check, Check::WrongType);
        assert!(got.detail.unwrap().starts_with("an HTML page"));
    }

    #[test]
    fn a_truncated_docx_is_corrupt() {
        let doc = docx(Some(("word/document.xml", &[b'w'; 4000])));
        let got = run(&doc[..doc.len() / 2], "Plan.docx");
        assert_eq!(got.check, Check::Corrupt);
    }

    #[test]
    fn encrypted_office_documents_are_password_protected() {
        for (bytes, name) in [
            (
                &include_bytes!("../../../tests/fixtures/documents/encrypted.docx")[..],
                "a.docx",
            ),
            (
                &include_bytes!("../../../tests/fixtures/documents/encrypted.xlsx")[..],
                "b.xlsx",
            ),
        ] {
            let got = run(bytes, name);
            assert_eq!(got.check, Check::PasswordProtected, "{name}: {got:?}");
        }
    }

    #[test]
    fn a_zip_bomb_named_docx_is_judged_from_its_directory_alone() {
        // Each entry declares 4 GiB inflated; none is inflated.
        let mut parts: Vec<(String, Vec<u8>)> = vec![(CONTENT_TYPES.into(), TYPES.to_vec())];
        for i in 0..2000 {
            parts.push((format!("word/media/bomb{i}.bin"), vec![0u8; 4096]));
        }
        parts.push(("word/document.xml".into(), b"<w/>".to_vec()));
        let refs: Vec<(&str, &[u8])> = parts
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let mut bytes = zip_of(&refs);
        let records: Vec<usize> = memchr::memmem::find_iter(&bytes, b"PK\x01\x02").collect();
        for at in records {
            bytes[at + 24..at + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        }
        assert_eq!(run(&bytes, "bomb.docx").check, Check::Ok);
        // With a byte budget smaller than its directory, the check stops and says so.
        let got = super::super::tests::run_limited(&bytes, "bomb.docx", 16 << 10);
        assert_eq!(got.check, Check::Unreadable);
        assert!(got.detail.unwrap().contains("read limit"));
    }
}
