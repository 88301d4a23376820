use super::super::tests::{run, run_limited};
use super::*;

/// A PDF with the given objects (numbered from 1), a classic cross-reference table with
/// `stride`-byte entries, and `trailer_extra` in its trailer.
fn pdf_with(objects: &[&str], trailer_extra: &str, stride: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref_at = out.len();
    let eol = if stride == 20 { " \n" } else { "\n" };
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f{eol}", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n{eol}").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

const PAGES: [&str; 3] = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
];

fn minimal() -> Vec<u8> {
    pdf_with(&PAGES, "", 20)
}

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            &include_bytes!(concat!("../../../../tests/fixtures/documents/", $name))[..],
        )
    };
}

#[test]
fn a_minimal_pdf_is_ok() {
    assert_eq!(run(&minimal(), "Report.pdf"), crate::content::Checked::OK);
    assert_eq!(
        run(&pdf_with(&PAGES, "", 19), "Report.pdf").check,
        Check::Ok
    );
}

#[test]
fn html_saved_as_pdf_is_the_wrong_type() {
    let got = run(
        b"<!DOCTYPE html>\n<html><title>Sign in</title></html>",
        "Report.pdf",
    );
    assert_eq!(got.check, Check::WrongType);
    assert_eq!(
        got.detail.as_deref(),
        Some("an HTML page (a download error or sign-in page?), not a PDF")
    );
}

#[test]
fn a_truncated_pdf_is_corrupt() {
    let whole = minimal();
    for cut in [whole.len() / 2, whole.len() - 8] {
        let got = run(&whole[..cut], "Report.pdf");
        assert_eq!(got.check, Check::Corrupt, "cut at {cut}");
        assert!(got.detail.unwrap().contains("cut short"));
    }
}

#[test]
fn bytes_before_the_header_are_tolerated() {
    let mut shifted = b"junk from a mail gateway\n".to_vec();
    shifted.extend_from_slice(&minimal());
    assert_eq!(run(&shifted, "Report.pdf").check, Check::Ok);
}

#[test]
fn owner_password_only_pdfs_open_for_everyone() {
    for (name, bytes) in [
        fixture!("owner-password-rc4.pdf"),
        fixture!("owner-password-aes256.pdf"),
        fixture!("xref-stream-owner-password.pdf"),
    ] {
        assert_eq!(run(bytes, name).check, Check::Ok, "{name}");
    }
}

#[test]
fn user_password_pdfs_are_password_protected() {
    for (name, bytes) in [
        fixture!("user-password-rc4.pdf"),
        fixture!("user-password-aes128.pdf"),
        fixture!("user-password-aes256.pdf"),
        fixture!("xref-stream-user-password.pdf"),
    ] {
        let got = run(bytes, name);
        assert_eq!(got.check, Check::PasswordProtected, "{name}: {got:?}");
        assert_eq!(got.detail.as_deref(), Some("it needs a password to open"));
    }
}

#[test]
fn certificate_encryption_is_password_protected() {
    let pdf = pdf_with(&PAGES, "/Encrypt << /Filter /Adobe.PubSec /V 4 /R 4 >>", 20);
    let got = run(&pdf, "Report.pdf");
    assert_eq!(got.check, Check::PasswordProtected);
    assert!(got.detail.unwrap().contains("certificates"));
}

#[test]
fn hostile_key_lengths_are_corrupt_not_a_panic() {
    let enc = "<< /Filter /Standard /V 2 /R 3 /Length 0 /P -4 /O <00> /U <00> >>";
    let pdf = pdf_with(
        &[PAGES[0], PAGES[1], PAGES[2], enc],
        "/Encrypt 4 0 R /ID [<01> <01>]",
        20,
    );
    assert_eq!(run(&pdf, "Report.pdf").check, Check::Corrupt);
}

#[test]
fn a_prev_cycle_ends() {
    // The trailer's /Prev points back at its own table, and the encryption dictionary it
    // names is listed nowhere.
    let mut pdf = pdf_with(&PAGES, "/Encrypt 9 0 R /Prev XREF", 20);
    let xref_at = memmem::rfind(&pdf, b"xref\n0").unwrap();
    let text = String::from_utf8_lossy(&pdf).replace("XREF", &format!("{xref_at:4}"));
    pdf = text.into_bytes();
    let got = run(&pdf, "Report.pdf");
    assert_eq!(got.check, Check::Corrupt);
    assert_eq!(
        got.detail.as_deref(),
        Some("it is encrypted, but its encryption dictionary cannot be found")
    );
}

#[test]
fn a_huge_declared_xref_costs_nothing() {
    let mut pdf = minimal();
    let at = memmem::rfind(&pdf, b"\n0 4\n").unwrap();
    pdf.splice(at..at + 5, b"\n0 4000000000\n".iter().copied());
    // startxref still points at "xref": the table claims to run past the end.
    let got = run_limited(&pdf, "Report.pdf", 64 << 10);
    assert_eq!(got.check, Check::Ok);
}

#[test]
fn unsigned_permissions_are_read_as_signed() {
    let dict = signed_permissions(b"<< /P 4294967292 /Perms <00> >>");
    assert_eq!(&dict[..], b"<< /P -4 /Perms <00> >>");
    assert_eq!(&signed_permissions(b"<< /P -4 >>")[..], b"<< /P -4 >>");
}

#[test]
fn encryption_dictionaries_are_found_through_the_cross_reference() {
    use std::io::Cursor;
    for (name, bytes) in [
        fixture!("owner-password-rc4.pdf"),
        fixture!("xref-stream-owner-password.pdf"),
    ] {
        let size = bytes.len() as u64;
        let mut r = Bounded::new(Cursor::new(bytes), &crate::content::Limits::default());
        let startxref = find_startxref(&mut r, size).map_err(|_| ()).unwrap();
        let trailer = newest_trailer(&mut r, size, startxref, 0)
            .map_err(|_| ())
            .unwrap()
            .unwrap();
        let Some(Primitive::Reference(enc)) = trailer.get("Encrypt") else {
            panic!("{name}: no /Encrypt reference");
        };
        let offset = Xref::new(&mut r, size).find(startxref, enc.id).unwrap();
        assert!(offset.is_some(), "{name}");
        assert!(!first_id(&trailer).is_empty(), "{name}");
    }
}

#[test]
fn an_incremental_update_leads_back_through_prev() {
    use std::io::Cursor;
    let enc = "<< /Filter /Adobe.PubSec /V 4 /R 4 >>";
    let mut pdf = pdf_with(&[PAGES[0], PAGES[1], PAGES[2], enc], "/Encrypt 4 0 R", 20);
    let old_xref = memmem::rfind(&pdf, b"xref\n0").unwrap();
    let new_xref = pdf.len();
    pdf.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R \
             /Prev {old_xref} >>\nstartxref\n{new_xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let size = pdf.len() as u64;
    let expected = memmem::find(&pdf, b"4 0 obj").map(|at| at as u64);
    let mut r = Bounded::new(Cursor::new(&pdf), &crate::content::Limits::default());
    assert_eq!(
        find_startxref(&mut r, size).map_err(|_| ()).unwrap(),
        new_xref as u64
    );
    assert_eq!(
        Xref::new(&mut r, size).find(new_xref as u64, 4).unwrap(),
        expected
    );
    assert_eq!(run(&pdf, "Report.pdf").check, Check::PasswordProtected);
}
