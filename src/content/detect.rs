//! Which check a file gets, by its extension, and the dispatch to the format's check.
//!
//! The extension says what the file claims to be; the bytes decide whether it is. Each
//! format module reads only what its check needs (see their headers) through the
//! [`Bounded`] reader, and returns an I/O error only for what it cannot judge: a failed
//! read, or a limit reached. Formats evpack does not know get only the `empty` check.

use std::io::{self, Read, Seek};

use super::bounded::Limit;
use super::{Bounded, Check, Checked};

mod image;
mod odf;
mod ole;
mod ooxml;
mod pdf;
mod sniff;
mod text;
mod zipdir;

/// What a file claims to be, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Ooxml(ooxml::Family),
    Ole(ole::Legacy),
    Odf(odf::Odf),
    Image(image::Image),
    Text(text::Text),
    /// `.lnk`, `.url`: a pointer to the evidence, never the evidence.
    Shortcut(&'static str),
    Unknown,
}

impl Kind {
    fn of(name: &str) -> Kind {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let Some((_, ext)) = base.rsplit_once('.') else {
            return Kind::Unknown;
        };
        let ext = ext.to_ascii_lowercase();
        match ext.as_str() {
            "pdf" => Kind::Pdf,
            "lnk" => Kind::Shortcut("a Windows shortcut"),
            "url" => Kind::Shortcut("an internet shortcut (a link)"),
            _ => ooxml::Family::of(&ext)
                .map(Kind::Ooxml)
                .or_else(|| odf::Odf::of(&ext).map(Kind::Odf))
                .or_else(|| ole::Legacy::of(&ext).map(Kind::Ole))
                .or_else(|| image::Image::of(&ext).map(Kind::Image))
                .or_else(|| text::Text::of(&ext).map(Kind::Text))
                .unwrap_or(Kind::Unknown),
        }
    }
}

/// Why a format's check ended before `ok`: its verdict, or an I/O error that keeps it
/// from judging. Phases return `Judged` so that `?` carries either out.
pub(super) enum Stop {
    Found(Checked),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(err: io::Error) -> Stop {
        Stop::Io(err)
    }
}

pub(super) type Judged<T = ()> = Result<T, Stop>;

/// A verdict to return with `Err(...)` or `?`.
fn found(check: Check, detail: impl Into<String>) -> Stop {
    Stop::Found(Checked::new(check, detail))
}

/// "what was found, not what the name promised", for `wrong-type` details.
fn wrong_type(what: &str, expected: &str) -> Stop {
    found(Check::WrongType, format!("{what}, not {expected}"))
}

/// Judges one file; see the module header.
pub fn check<R: Read + Seek>(mut reader: Bounded<R>, size: u64, name: &str) -> Checked {
    let kind = Kind::of(name);
    if let Kind::Shortcut(what) = kind {
        return Checked::new(
            Check::WrongType,
            format!("{what}: put the document itself here"),
        );
    }
    if size == 0 {
        return Checked::new(Check::Empty, "0 bytes");
    }
    let judged = check_kind(&mut reader, size, kind);
    // A limit reached anywhere makes any verdict suspect: a crate may have reported the
    // stopped read as damage, or a phase may have read it as "nothing found".
    if let Some(limit) = reader.limit_reached() {
        return Checked::new(Check::Unreadable, limit.to_string());
    }
    match judged {
        Ok(()) => Checked::OK,
        Err(Stop::Found(checked)) => checked,
        Err(Stop::Io(err)) => Checked::new(Check::Unreadable, format!("could not be read: {err}")),
    }
}

fn check_kind<R: Read + Seek>(r: &mut Bounded<R>, size: u64, kind: Kind) -> Judged {
    match kind {
        Kind::Pdf => pdf::check(r, size),
        Kind::Ooxml(family) => ooxml::check(r, size, family),
        Kind::Odf(odf) => odf::check(r, size, odf),
        Kind::Ole(legacy) => ole::check_legacy(r, legacy),
        Kind::Image(image) => image::check(r, size, image),
        Kind::Text(text) => text::check(r, size, text),
        Kind::Shortcut(_) | Kind::Unknown => Ok(()),
    }
}

/// The first bytes, for the signature checks and for saying what a wrong file is.
fn head<R: Read + Seek>(r: &mut Bounded<R>) -> io::Result<Vec<u8>> {
    r.read_at(0, sniff::HEAD_LEN)
}

/// Whether an error from a parsing crate means "damaged" rather than "could not read".
/// (A limit the crate reported as damage is caught in [`check`] all the same.)
fn is_damage(err: &io::Error) -> bool {
    let limit = err.get_ref().is_some_and(|inner| inner.is::<Limit>());
    !limit
        && matches!(
            err.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput
        )
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::time::Duration;

    use super::super::{check_document, Limits};
    use super::*;

    pub(super) fn run(bytes: &[u8], name: &str) -> Checked {
        check_document(
            Cursor::new(bytes),
            bytes.len() as u64,
            name,
            &Limits::default(),
        )
    }

    pub(super) fn run_limited(bytes: &[u8], name: &str, max_read: u64) -> Checked {
        let limits = Limits {
            max_read,
            max_time: Duration::from_secs(20),
        };
        check_document(Cursor::new(bytes), bytes.len() as u64, name, &limits)
    }

    #[test]
    fn extensions_are_case_insensitive_and_paths_are_ignored() {
        assert_eq!(Kind::of("Report.PDF"), Kind::Pdf);
        assert_eq!(Kind::of("a.b/plan.Docx"), Kind::Ooxml(ooxml::Family::Word));
        assert_eq!(Kind::of("dir.pdf\\notes"), Kind::Unknown);
        assert_eq!(Kind::of("README"), Kind::Unknown);
    }

    #[test]
    fn shortcuts_are_always_the_wrong_type() {
        let got = run(b"L\0\0\0\x01\x14\x02\0", "Plan.pdf.lnk");
        assert_eq!(got.check, Check::WrongType);
        assert_eq!(
            got.detail.as_deref(),
            Some("a Windows shortcut: put the document itself here")
        );
        assert_eq!(run(b"", "Link.URL").check, Check::WrongType);
    }

    #[test]
    fn zero_bytes_are_empty_whatever_the_type() {
        for name in ["a.pdf", "b.docx", "c.xls", "d.txt", "e.png", "f.unknown"] {
            assert_eq!(run(b"", name).check, Check::Empty, "{name}");
        }
    }

    #[test]
    fn unknown_formats_get_only_the_empty_check() {
        assert_eq!(run(b"\0\0\0 anything", "data.bin"), Checked::OK);
    }

    #[test]
    fn a_failing_read_is_unreadable_and_says_why() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("the network share went away"))
            }
        }
        impl Seek for Failing {
            fn seek(&mut self, _: io::SeekFrom) -> io::Result<u64> {
                Ok(0)
            }
        }
        let got = check_document(Failing, 100, "a.pdf", &Limits::default());
        assert_eq!(got.check, Check::Unreadable);
        assert!(got.detail.unwrap().contains("the network share went away"));
    }

    #[test]
    fn the_time_limit_makes_a_slow_file_unreadable() {
        struct Slow(Cursor<Vec<u8>>);
        impl Read for Slow {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                std::thread::sleep(Duration::from_millis(30));
                self.0.read(buf)
            }
        }
        impl Seek for Slow {
            fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
                self.0.seek(pos)
            }
        }
        let text = b"name,town\n".repeat(10_000);
        let limits = Limits {
            max_read: 8 << 20,
            max_time: Duration::from_millis(10),
        };
        let got = check_document(
            Slow(Cursor::new(text.clone())),
            text.len() as u64,
            "a.csv",
            &limits,
        );
        assert_eq!(got.check, Check::Unreadable);
        assert!(got.detail.unwrap().contains("time limit"));
    }

    /// Documents of every kind, for the damage tests below to mutate.
    fn seeds() -> Vec<Vec<u8>> {
        let docx = zipdir::tests::zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
        ]);
        let odt = zipdir::tests::zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("META-INF/manifest.xml", b"<manifest:manifest/>"),
            ("content.xml", b"<office:document-content/>"),
        ]);
        let fixtures: [&[u8]; 4] = [
            include_bytes!("../../tests/fixtures/documents/encrypted.docx"),
            include_bytes!("../../tests/fixtures/documents/user-password-aes256.pdf"),
            include_bytes!("../../tests/fixtures/documents/owner-password-rc4.pdf"),
            include_bytes!("../../tests/fixtures/documents/xref-stream-owner-password.pdf"),
        ];
        let mut seeds = vec![
            docx,
            odt,
            b"\x89PNG\r\n\x1a\n\0\0\0\0IEND\xAE\x42\x60\x82".to_vec(),
        ];
        seeds.extend(fixtures.iter().map(|f| f.to_vec()));
        seeds
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Damaged documents of every kind, under every name: each gets a result, within
        /// the limits, and none panics.
        #[test]
        fn damaged_documents_always_get_a_result(
            seed in 0usize..7,
            flips in proptest::collection::vec((0usize..8192, proptest::prelude::any::<u8>()), 0..12),
            keep in 0.0f64..=1.0,
        ) {
            let mut bytes = seeds().swap_remove(seed);
            for (at, byte) in flips {
                let len = bytes.len();
                bytes[at % len] = byte;
            }
            bytes.truncate(((bytes.len() as f64) * keep).ceil() as usize);
            for name in ["a.pdf", "a.docx", "a.xls", "a.odt", "a.png", "a.jpg", "a.gif", "a.csv"] {
                let got = run_limited(&bytes, name, 1 << 20);
                proptest::prop_assert!(got.check.is_ok() || got.detail.is_some(), "{name}: {got:?}");
            }
        }
    }
}
