//! Real, minimal documents built in code, so evidence fixtures open as what their names say:
//! a PDF with a page of text, Office Open XML and OpenDocument zips with their main parts,
//! image signatures. [`document_for`] picks by extension.

use std::io::Write;

use zip::write::SimpleFileOptions;

/// The bytes of a document named `name` holding `text`: a real PDF, Word, Excel,
/// PowerPoint or OpenDocument file, or an image, by extension; anything else is `text`
/// itself.
pub fn document_for(name: &str, text: &str) -> Vec<u8> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => pdf(text),
        "docx" | "docm" | "dotx" => ooxml(Office::Word, text),
        "xlsx" | "xlsm" | "xltx" => ooxml(Office::Excel, text),
        "pptx" | "pptm" | "potx" => ooxml(Office::PowerPoint, text),
        "odt" => odf("application/vnd.oasis.opendocument.text", text),
        "ods" => odf("application/vnd.oasis.opendocument.spreadsheet", text),
        "odp" => odf("application/vnd.oasis.opendocument.presentation", text),
        "png" => png(),
        "jpg" | "jpeg" => jpeg(),
        "gif" => gif(),
        _ => text.as_bytes().to_vec(),
    }
}

/// [`document_for`], grown by `filler` where the format has room for opaque bytes (a PDF
/// stream, a stored part of an Office package, a JPEG segment; anything else gets `filler`
/// after the text): a real document of a chosen size and compressibility.
pub fn padded(name: &str, text: &str, filler: &[u8]) -> Vec<u8> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => pdf_with(text, Some(filler)),
        "docx" => ooxml_with(Office::Word, text, filler),
        "xlsx" => ooxml_with(Office::Excel, text, filler),
        "pptx" => ooxml_with(Office::PowerPoint, text, filler),
        "jpg" | "jpeg" => {
            // Start of image, then a comment segment's marker: the signature of a JPEG.
            let mut out = vec![0xFF, 0xD8, 0xFF, 0xFE];
            out.extend_from_slice(filler);
            out.extend_from_slice(&[0xFF, 0xD9]);
            out
        }
        _ => {
            let mut out = document_for(name, text);
            out.extend_from_slice(filler);
            out
        }
    }
}

/// A one-page PDF showing `text`, with a correct cross-reference table.
pub fn pdf(text: &str) -> Vec<u8> {
    pdf_with(text, None)
}

fn pdf_with(text: &str, filler: Option<&[u8]>) -> Vec<u8> {
    let escaped: String = text
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let stream = format!("BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut objects: Vec<Vec<u8>> = objects.iter().map(|o| o.as_bytes().to_vec()).collect();
    if let Some(filler) = filler {
        let mut o = format!("<< /Length {} >>\nstream\n", filler.len()).into_bytes();
        o.extend_from_slice(filler);
        o.extend_from_slice(b"\nendstream");
        objects.push(o);
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[derive(Clone, Copy)]
pub enum Office {
    Word,
    Excel,
    PowerPoint,
}

/// A minimal Office Open XML package: content types, relationships and the main part.
pub fn ooxml(kind: Office, text: &str) -> Vec<u8> {
    ooxml_with(kind, text, &[])
}

fn ooxml_with(kind: Office, text: &str, filler: &[u8]) -> Vec<u8> {
    let text = xml_escape(text);
    let (main, content_type, body) = match kind {
        Office::Word => (
            "word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#
            ),
        ),
        Office::Excel => (
            "xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="{text}" sheetId="1"/></sheets></workbook>"#
            ),
        ),
        Office::PowerPoint => (
            "ppt/presentation.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><!-- {text} --></p:presentation>"#
            ),
        ),
    };
    let types = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/octet-stream"/><Override PartName="/{main}" ContentType="{content_type}"/></Types>"#
    );
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{main}"/></Relationships>"#
    );
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        (main, body.as_bytes()),
    ];
    if !filler.is_empty() {
        parts.push(("docProps/filler.bin", filler));
    }
    zip_of(&parts)
}

/// A minimal OpenDocument package: `mimetype` first and stored, then the content.
pub fn odf(mime: &str, text: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text><text:p>{}</text:p></office:text></office:body></office:document-content>"#,
        xml_escape(text)
    );
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#
    );
    zip_of(&[
        ("mimetype", mime.as_bytes()),
        ("content.xml", content.as_bytes()),
        ("META-INF/manifest.xml", manifest.as_bytes()),
    ])
}

/// A zip of `entries`, in order, with fixed timestamps; `mimetype` is stored (OpenDocument
/// requires it), the rest deflated.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        let method = if *name == "mimetype" || name.ends_with(".bin") {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(zip::DateTime::default());
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(bytes).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A 1x1 PNG.
pub fn png() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&[0, 0, 0, 13]);
    out.extend_from_slice(b"IHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89");
    out.extend_from_slice(&[0, 0, 0, 13]);
    out.extend_from_slice(b"IDAT\x78\x9c\x63\x60\x00\x02\x00\x00\x05\x00\x01\x7a\x5e\xab\x3f");
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"IEND\xae\x42\x60\x82");
    out
}

/// A tiny baseline JPEG's framing: start marker, an application segment, end marker.
pub fn jpeg() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A 1x1 GIF.
pub fn gif() -> Vec<u8> {
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
