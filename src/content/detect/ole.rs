//! OLE compound files: legacy Office (`.doc`, `.xls`, `.ppt` and templates), Outlook
//! messages (`.msg`), and the container Office wraps an encrypted `.docx`/`.xlsx`/`.pptx`
//! in.
//!
//! Reads, through the `cfb` crate: the header, the FAT and the directory (cfb refuses
//! chains that loop or point past the end, and sizes its tables by the file's real
//! length, not by declared counts); the last byte of each stream (at most
//! [`MAX_STREAMS`]), which walks its sector chain and so finds a truncated copy; then the few bytes each format keeps its
//! encryption flag in: the Word FIB's first 12 bytes, the first Excel records up to the
//! end of the workbook globals (at most [`MAX_RECORDS`]), PowerPoint's 16-byte current
//! user atom.
//!
//! Not done: Excel files "encrypted" with Excel's built-in default password (what a
//! workbook whose structure is protected gets) open without a prompt, but are reported
//! here as `password-protected`; telling them apart means running the RC4 key check.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use cfb::CompoundFile;

use super::{found, head, is_damage, sniff, wrong_type, Bounded, Check, Judged, Stop};

/// Excel records read looking for FILEPASS, which comes right after the first BOF.
const MAX_RECORDS: usize = 256;
/// Streams whose ends are read; a document has a few, a message some dozens.
const MAX_STREAMS: usize = 256;
const XLS_BOF: u16 = 0x0809;
const XLS_FILEPASS: u16 = 0x002F;
const XLS_EOF: u16 = 0x000A;
/// fEncrypted in the Word FIB's flags word.
const WORD_ENCRYPTED: u16 = 0x0100;
/// The current user atom's header token when the presentation is encrypted.
const PPT_ENCRYPTED_TOKEN: u32 = 0xF3D1_C4DF;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    Word,
    Excel,
    PowerPoint,
    Outlook,
}

const ALL: [Legacy; 4] = [
    Legacy::Word,
    Legacy::Excel,
    Legacy::PowerPoint,
    Legacy::Outlook,
];

impl Legacy {
    pub fn of(ext: &str) -> Option<Legacy> {
        match ext {
            "doc" | "dot" => Some(Legacy::Word),
            "xls" | "xlt" => Some(Legacy::Excel),
            "ppt" | "pot" | "pps" => Some(Legacy::PowerPoint),
            "msg" => Some(Legacy::Outlook),
            _ => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Legacy::Word => "a Word 97-2003 document",
            Legacy::Excel => "an Excel 97-2003 workbook",
            Legacy::PowerPoint => "a PowerPoint 97-2003 presentation",
            Legacy::Outlook => "an Outlook message",
        }
    }

    /// The stream that holds the document; Excel 5 named it `Book`.
    fn main_streams(self) -> &'static [&'static str] {
        match self {
            Legacy::Word => &["WordDocument"],
            Legacy::Excel => &["Workbook", "Book"],
            Legacy::PowerPoint => &["PowerPoint Document"],
            Legacy::Outlook => &["__properties_version1.0"],
        }
    }

    fn main_stream<F: Seek>(self, cf: &CompoundFile<F>) -> Option<&'static str> {
        self.main_streams()
            .iter()
            .copied()
            .find(|s| cf.is_stream(s))
    }
}

type Ole<'a, R> = CompoundFile<&'a mut Bounded<R>>;

pub fn check_legacy<R: Read + Seek>(r: &mut Bounded<R>, legacy: Legacy) -> Judged {
    let head = head(r)?;
    if !sniff::is_ole(&head) {
        // Word has always saved RTF under `.doc` when asked to, and opens it as such.
        if legacy == Legacy::Word && head.starts_with(b"{\\rtf") {
            return Ok(());
        }
        return Err(wrong_type(sniff::describe(&head), legacy.noun()));
    }
    let mut cf = open(r)?;
    check_encrypted_container(&cf)?;
    let Some(stream) = legacy.main_stream(&cf) else {
        return Err(wrong_type(what_is(&cf), legacy.noun()));
    };
    check_whole(&mut cf, stream)?;
    match legacy {
        Legacy::Word => check_word(&mut cf),
        Legacy::Excel => check_excel(&mut cf, stream),
        Legacy::PowerPoint => check_powerpoint(&mut cf),
        Legacy::Outlook => Ok(()),
    }
}

/// An OLE file where an Office Open XML document was expected: Office's encrypted
/// package, or an older format under the newer name.
pub fn check_encrypted_package<R: Read + Seek>(r: &mut Bounded<R>, expected: &str) -> Judged {
    let cf = open(r)?;
    check_encrypted_container(&cf)?;
    Err(wrong_type(what_is(&cf), expected))
}

fn open<R: Read + Seek>(r: &mut Bounded<R>) -> Judged<Ole<'_, R>> {
    CompoundFile::open(r).map_err(|err| damaged(err, "its OLE structure is damaged or cut short"))
}

/// Office's encryption (ECMA-376 agile or standard, and rights management) stores the
/// real document as `EncryptedPackage`, described by `EncryptionInfo`.
fn check_encrypted_container<F: Seek>(cf: &CompoundFile<F>) -> Judged {
    if cf.is_stream("EncryptionInfo") || cf.is_stream("EncryptedPackage") {
        return Err(found(
            Check::PasswordProtected,
            "encrypted: it opens only with its password",
        ));
    }
    Ok(())
}

/// Which document an OLE file holds, by its streams.
fn what_is<F: Seek>(cf: &CompoundFile<F>) -> &'static str {
    ALL.into_iter()
        .find(|l| l.main_stream(cf).is_some())
        .map_or(
            "an OLE compound file that is not an Office document",
            Legacy::noun,
        )
}

/// Reads the last byte of the main stream and of every other stream (at most
/// [`MAX_STREAMS`]): cfb follows each one's sector chain to get there, so a copy cut
/// short fails here, wherever the cut falls.
fn check_whole<R: Read + Seek>(cf: &mut Ole<'_, R>, main: &str) -> Judged {
    if cf.entry(main).map(|e| e.len()).unwrap_or(0) == 0 {
        return Err(found(Check::Corrupt, format!("its {main} stream is empty")));
    }
    let others: Vec<PathBuf> = cf
        .walk()
        .filter(|e| e.is_stream() && !e.is_empty())
        .take(MAX_STREAMS)
        .map(|e| e.path().to_path_buf())
        .collect();
    for path in std::iter::once(Path::new(main)).chain(others.iter().map(PathBuf::as_path)) {
        check_stream_end(cf, path)?;
    }
    Ok(())
}

fn check_stream_end<R: Read + Seek>(cf: &mut Ole<'_, R>, path: &Path) -> Judged {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let cut = || format!("its {} stream is cut short", name.escape_debug());
    let mut s = cf.open_stream(path).map_err(|e| damaged(e, &cut()))?;
    s.seek(SeekFrom::End(-1))
        .and_then(|_| s.read_exact(&mut [0u8; 1]))
        .map_err(|e| damaged(e, &cut()))
}

/// The FIB starts the WordDocument stream; its flags word says whether the document is
/// encrypted (RC4 or XOR obfuscation).
fn check_word<R: Read + Seek>(cf: &mut Ole<'_, R>) -> Judged {
    let fib = read_prefix(cf, "WordDocument", 12)?;
    let flags = fib
        .get(10..12)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    if flags & WORD_ENCRYPTED != 0 {
        return Err(encrypted());
    }
    Ok(())
}

/// A FILEPASS record in the workbook globals means the workbook is encrypted.
fn check_excel<R: Read + Seek>(cf: &mut Ole<'_, R>, stream: &str) -> Judged {
    let mut s = cf
        .open_stream(stream)
        .map_err(|e| damaged(e, "its workbook stream is damaged"))?;
    for index in 0..MAX_RECORDS {
        let mut header = [0u8; 4];
        match s.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(damaged(e, "its workbook stream is damaged")),
        }
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = u16::from_le_bytes([header[2], header[3]]);
        match kind {
            XLS_FILEPASS => return Err(encrypted()),
            XLS_EOF => return Ok(()),
            _ if index > 0 && kind == XLS_BOF => return Ok(()),
            _ => {}
        }
        s.seek(SeekFrom::Current(i64::from(len)))?;
    }
    Ok(())
}

/// PowerPoint marks an encrypted presentation in the current user atom's header token.
fn check_powerpoint<R: Read + Seek>(cf: &mut Ole<'_, R>) -> Judged {
    if !cf.is_stream("Current User") {
        return Ok(());
    }
    let atom = read_prefix(cf, "Current User", 16)?;
    let token = atom
        .get(12..16)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if token == PPT_ENCRYPTED_TOKEN {
        return Err(encrypted());
    }
    Ok(())
}

fn read_prefix<R: Read + Seek>(cf: &mut Ole<'_, R>, stream: &str, len: u64) -> Judged<Vec<u8>> {
    let detail = format!("its {stream} stream is damaged");
    let s = cf.open_stream(stream).map_err(|e| damaged(e, &detail))?;
    let mut out = Vec::new();
    s.take(len)
        .read_to_end(&mut out)
        .map_err(|e| damaged(e, &detail))?;
    Ok(out)
}

fn encrypted() -> Stop {
    found(
        Check::PasswordProtected,
        "encrypted: it opens only with its password",
    )
}

/// A crate's error as `corrupt` with `detail` when it reports damage, else an I/O stop.
fn damaged(err: io::Error, detail: &str) -> Stop {
    if is_damage(&err) {
        found(Check::Corrupt, detail)
    } else {
        Stop::Io(err)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::super::tests::{run, run_limited};
    use super::*;

    /// An OLE file holding the given streams, as cfb writes them.
    pub fn ole_of(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut cf = CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        for (name, data) in streams {
            cf.create_stream(name).unwrap().write_all(data).unwrap();
        }
        cf.flush().unwrap();
        cf.into_inner().into_inner()
    }

    fn fib(flags: u16) -> Vec<u8> {
        let mut fib = vec![0u8; 4096];
        fib[..2].copy_from_slice(&0xA5ECu16.to_le_bytes());
        fib[10..12].copy_from_slice(&flags.to_le_bytes());
        fib
    }

    fn biff(records: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, data) in records {
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&(data.len() as u16).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.resize(out.len().max(5000), 0);
        out
    }

    #[test]
    fn legacy_office_documents_are_ok() {
        let doc = ole_of(&[("WordDocument", &fib(0))]);
        assert_eq!(run(&doc, "Old.doc").check, Check::Ok);
        let xls = ole_of(&[(
            "Workbook",
            &biff(&[(XLS_BOF, &[0; 16]), (0x0042, &[0; 2]), (XLS_EOF, b"")]),
        )]);
        assert_eq!(run(&xls, "Old.xls").check, Check::Ok);
        let mut atom = vec![0u8; 16];
        atom[12..16].copy_from_slice(&0xE391_C05Fu32.to_le_bytes());
        let ppt = ole_of(&[
            ("PowerPoint Document", &[1u8; 5000]),
            ("Current User", &atom),
        ]);
        assert_eq!(run(&ppt, "Old.ppt").check, Check::Ok);
    }

    #[test]
    fn encrypted_legacy_office_documents_are_password_protected() {
        let doc = ole_of(&[("WordDocument", &fib(WORD_ENCRYPTED))]);
        assert_eq!(run(&doc, "Old.doc").check, Check::PasswordProtected);
        let xls = ole_of(&[(
            "Workbook",
            &biff(&[(XLS_BOF, &[0; 16]), (XLS_FILEPASS, &[0; 54])]),
        )]);
        assert_eq!(run(&xls, "Old.xls").check, Check::PasswordProtected);
        let mut atom = vec![0u8; 16];
        atom[12..16].copy_from_slice(&PPT_ENCRYPTED_TOKEN.to_le_bytes());
        let ppt = ole_of(&[
            ("PowerPoint Document", &[1u8; 5000]),
            ("Current User", &atom),
        ]);
        assert_eq!(run(&ppt, "Old.ppt").check, Check::PasswordProtected);
    }

    #[test]
    fn an_encrypted_docx_is_password_protected() {
        let docx = ole_of(&[
            ("EncryptionInfo", &[4, 0, 4, 0]),
            ("EncryptedPackage", &[0; 600]),
        ]);
        let got = run(&docx, "Plan.docx");
        assert_eq!(got.check, Check::PasswordProtected);
        assert_eq!(
            got.detail.as_deref(),
            Some("encrypted: it opens only with its password")
        );
    }

    #[test]
    fn the_wrong_ole_document_is_the_wrong_type() {
        let doc = ole_of(&[("WordDocument", &fib(0))]);
        let got = run(&doc, "Data.xls");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("a Word 97-2003 document, not an Excel 97-2003 workbook")
        );
        let got = run(&doc, "Plan.docx");
        assert_eq!(
            got.detail.as_deref(),
            Some("a Word 97-2003 document, not a Word document")
        );
    }

    #[test]
    fn rtf_named_doc_opens_in_word() {
        assert_eq!(run(b"{\\rtf1\\ansi hello}", "Letter.doc").check, Check::Ok);
        assert_eq!(
            run(b"{\\rtf1\\ansi hello}", "Data.xls").check,
            Check::WrongType
        );
    }

    #[test]
    fn a_truncated_ole_file_is_corrupt() {
        let doc = ole_of(&[("WordDocument", &fib(0)), ("1Table", &[7u8; 20_000])]);
        for cut in [600, doc.len() / 2, doc.len() - 512] {
            let got = run(&doc[..cut], "Old.doc");
            assert_eq!(got.check, Check::Corrupt, "cut at {cut}: {got:?}");
        }
    }

    #[test]
    fn a_cyclic_ole_directory_is_corrupt_not_endless() {
        let mut doc = ole_of(&[("WordDocument", &fib(0)), ("Data", &[1u8; 100])]);
        // Point every directory entry's left sibling at the root: a loop in the tree.
        let sector = 1usize << u16::from_le_bytes([doc[30], doc[31]]);
        let first_dir = u32::from_le_bytes(doc[48..52].try_into().unwrap()) as usize;
        let dir_at = sector * (1 + first_dir);
        for entry in 1..4 {
            let at = dir_at + entry * 128 + 68;
            doc[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
        }
        let got = run(&doc, "Old.doc");
        assert_eq!(got.check, Check::Corrupt, "{got:?}");
    }

    #[test]
    fn a_small_read_budget_makes_it_unreadable() {
        let doc = ole_of(&[("WordDocument", &fib(0))]);
        let got = run_limited(&doc, "Old.doc", 1000);
        assert_eq!(got.check, Check::Unreadable);
    }
}
