//! Which file names a pack can hold. A pack is unzipped on Windows laptops and Macs and
//! checked with `bagit.py` and `sha256sum`; a name that any of them would mangle, merge with
//! another or refuse is refused here, before anything is written, naming the file (escaped)
//! and saying how to fix it. Renaming on the way in is not an option: the pack must hold
//! the evidence under the names the drive shows.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use unicode_normalization::UnicodeNormalization;

use crate::util::printable;

/// Why a name cannot go in a pack, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: &'static str,
}

/// The names planned so far, by the key under which an unzip would merge them.
#[derive(Default)]
pub struct Names<'a> {
    /// Every file's path, by the hash of its lower-cased NFC form. A hash rather than the
    /// form itself: a pack of 200,000 files would hold a copy of every path otherwise. A
    /// hit is confirmed against the form of the path it found.
    files: HashMap<u64, &'a str>,
    hasher: RandomState,
    /// Lower-cased NFC form of every folder on the way to a file -> its first spelling.
    folders: HashMap<String, String>,
}

impl<'a> Names<'a> {
    /// Checks `rel` (`/`-separated, relative to the evidence folder) against the rules and
    /// the names already added, then adds it.
    pub fn add(&mut self, rel: &'a str) -> Result<(), Refusal> {
        check_characters(rel)?;
        let key = merge_key(rel);
        if let Some(other) = self.file(&key) {
            return Err(twins(other, rel));
        }
        if let Some(other) = self.folders.get(&key) {
            return Err(Refusal {
                message: format!(
                    "its name differs only in case or accents from the folder `{}`; a Windows or Mac disk cannot hold both",
                    printable(other)
                ),
                help: "rename the file or the folder",
            });
        }
        for (at, _) in rel.match_indices('/') {
            let folder = &rel[..at];
            let folder_key = merge_key(folder);
            if let Some(other) = self.file(&folder_key) {
                return Err(Refusal {
                    message: format!(
                        "its folder `{}` differs only in case or accents from the file `{}`; a Windows or Mac disk cannot hold both",
                        printable(folder),
                        printable(other)
                    ),
                    help: "rename the file or the folder",
                });
            }
            // Folders that differ only in case merge harmlessly on unzipping (their files
            // keep their own names), so only the first spelling is kept, for messages.
            self.folders
                .entry(folder_key)
                .or_insert_with(|| folder.to_string());
        }
        // Two different forms with one hash (one chance in 2^64 a pair) keep the first.
        let hash = self.hasher.hash_one(&key);
        self.files.entry(hash).or_insert(rel);
        Ok(())
    }

    /// The file added under the merge key `key`, if any.
    fn file(&self, key: &str) -> Option<&'a str> {
        let other = *self.files.get(&self.hasher.hash_one(key))?;
        (merge_key(other) == key).then_some(other)
    }
}

/// Two names a case-insensitive, normalising file system (Windows, macOS) would merge.
/// Checked on every platform, Windows included: on a case-insensitive drive two such names
/// never meet, so nothing is reported; a case-sensitive Windows folder can hold them, and
/// its pack must still unzip on colleagues' laptops, and be the pack Linux would build.
fn twins(a: &str, b: &str) -> Refusal {
    Refusal {
        message: format!(
            "its name differs only in case or accents from `{}`; unzipped on Windows or a Mac one would overwrite the other",
            printable(a)
        ),
        help: if a.to_lowercase() == b.to_lowercase() {
            "rename one of the two"
        } else {
            "rename one of the two (they look alike but are spelt with different Unicode forms)"
        },
    }
}

/// The form under which Windows and macOS would treat two names as one: case folded and
/// Unicode-normalised (NFC), since a Mac writes `é` as `e` plus an accent.
fn merge_key(name: &str) -> String {
    // Most names are ASCII, which normalisation leaves as it is.
    if name.is_ascii() {
        return name.to_ascii_lowercase();
    }
    name.nfc().collect::<String>().to_lowercase()
}

/// Characters no pack may hold in a name.
fn check_characters(rel: &str) -> Result<(), Refusal> {
    if rel.chars().any(char::is_control) {
        return Err(Refusal {
            message: format!(
                "the name `{}` holds a control character (a tab, line break, escape or delete): bagit.py, sha256sum and unzip tools cannot name it faithfully",
                printable(rel)
            ),
            help: "rename the file (retype the name; such characters come from pasting)",
        });
    }
    let upper = rel.to_ascii_uppercase();
    if upper.contains("%0A") || upper.contains("%0D") {
        return Err(Refusal {
            message: format!(
                "the name `{}` holds `%0A` or `%0D`, which bagit.py and evpack read in a manifest as a line break: no checker could find the file",
                printable(rel)
            ),
            help: "rename the file without `%0A` or `%0D` (e.g. write `percent 0A`)",
        });
    }
    if rel.contains('\\') {
        return Err(Refusal {
            message:
                "the file name contains a backslash, which zip tools read as a folder separator"
                    .into(),
            help: "rename the file without `\\`",
        });
    }
    for part in rel.split('/') {
        windows_allows(part)?;
        if part.ends_with(' ') || part.ends_with('.') {
            return Err(Refusal {
                message: format!(
                    "`{}` ends with a space or a dot, which Windows drops when unzipping, so the file would not match its checksum line",
                    printable(part)
                ),
                help: "rename it without the trailing space or dot",
            });
        }
    }
    Ok(())
}

/// Characters Windows refuses in a name (a Linux or Mac drive allows them): unzipped on a
/// council laptop, the file could not be created at all.
const WINDOWS_FORBIDS: &[char] = &['<', '>', ':', '"', '|', '?', '*'];

/// Names Windows keeps for devices, with or without an extension (`CON`, `nul.txt`).
const WINDOWS_DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// One name (file or folder) as Windows would take it: unzipped there, the pack must come
/// out whole, whatever the drive it was built from allowed.
fn windows_allows(part: &str) -> Result<(), Refusal> {
    if let Some(c) = part.chars().find(|c| WINDOWS_FORBIDS.contains(c)) {
        return Err(Refusal {
            message: format!(
                "`{}` holds `{c}`, which Windows does not allow in a name: unzipped on a Windows laptop the file could not be created",
                printable(part)
            ),
            help: "rename it without < > : \" | ? * (e.g. write `3.12.20` for `3:12:20`)",
        });
    }
    let stem = part.split('.').next().unwrap_or(part).trim_end();
    if WINDOWS_DEVICES.iter().any(|d| stem.eq_ignore_ascii_case(d)) {
        return Err(Refusal {
            message: format!(
                "`{}` is a name Windows keeps for a device ({}): unzipped on a Windows laptop the file could not be created",
                printable(part),
                stem.to_ascii_uppercase()
            ),
            help: "rename it (e.g. add a word: `AUX notes.txt` for `aux.txt`)",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(names: &[&str]) -> Option<Refusal> {
        let mut n = Names::default();
        names.iter().find_map(|name| n.add(name).err())
    }

    #[test]
    fn an_encoded_line_break_in_a_name_is_refused_but_other_percents_pass() {
        for name in ["a/x%0A.pdf", "a/x%0d y.pdf"] {
            let r = refused(&[name]).map(|r| r.message).unwrap_or_default();
            assert!(r.contains("`%0A` or `%0D`"), "{name}: {r}");
        }
        assert_eq!(
            refused(&[
                "a/50% done.pdf",
                "a/100%25.pdf",
                "a/%20 x.pdf",
                "a/#1 & 'b'.pdf",
                "-lead.pdf"
            ]),
            None
        );
    }

    #[test]
    fn plain_names_pass() {
        assert_eq!(
            refused(&["a/b.pdf", "a/c.pdf", "A b/c d.pdf", "é/ü.pdf", "x.y/z"]),
            None
        );
    }

    #[test]
    fn controls_and_trailing_spaces_or_dots_are_refused() {
        for bad in [
            "a\tb.pdf",
            "a\rb.pdf",
            "a\nb.pdf",
            "a\u{1b}b.pdf",
            "a\u{7f}b.pdf",
            "a/b.pdf ",
            "a /b.pdf",
            "a./b.pdf",
            "a\\b.pdf",
        ] {
            assert!(refused(&[bad]).is_some(), "{bad:?}");
        }
        let r = refused(&["a\u{1b}[31mb.pdf"]).expect("refused");
        assert!(r.message.contains("\\u{1b}[31m"), "{}", r.message);
    }

    #[test]
    fn names_windows_cannot_create_are_refused_with_the_fix() {
        for bad in [
            "minutes/Panel 3:12:20.docx",
            "a/Q&A?.pdf",
            "a/\"quoted\".md",
            "a<b>/x.pdf",
            "star*.csv",
            "pipe|.txt",
            "CON",
            "nul.txt",
            "reports/Aux.2020.pdf",
            "lpt1/x.pdf",
            "COM9 .txt",
        ] {
            let r = refused(&[bad]).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(r.message.contains("Windows"), "{bad:?}: {}", r.message);
        }
        // Device names inside a longer name are fine.
        assert_eq!(
            refused(&[
                "Console log.txt",
                "a/null results.csv",
                "COM10.txt",
                "auxiliary.pdf"
            ]),
            None
        );
    }

    #[test]
    fn case_and_unicode_twins_are_refused() {
        assert!(refused(&["a/Plan.pdf", "a/PLAN.pdf"]).is_some());
        // NFC and NFD spellings of the same name.
        assert!(refused(&["caf\u{e9}.pdf", "cafe\u{301}.pdf"]).is_some());
        // A file and a folder that differ only in case, either order.
        assert!(refused(&["a/plan", "a/Plan/x.pdf"]).is_some());
        assert!(refused(&["a/Plan/x.pdf", "a/plan"]).is_some());
        // Folders that differ only in case, holding different files, merge harmlessly.
        assert_eq!(refused(&["Audits/x.pdf", "audits/y.pdf"]), None);
        assert!(refused(&["Audits/x.pdf", "audits/X.pdf"]).is_some());
    }
}
