//! Does the file open: is a matched file what its name says, whole, and readable without a
//! password? A file that an inspector cannot open is not evidence, however well it is named.
//!
//! Each matched file gets one [`Check`]. The checks read headers, tails and directories
//! (a zip's central directory, an OLE compound file's directory, a PDF's trailer), never a
//! whole file, through a [`Bounded`] reader that stops after a byte budget or a time
//! limit, so a hostile document (a zip bomb renamed `.docx`, a looping PDF cross-reference)
//! costs a fixed amount of work.
//!
//! [`check_document`] judges one open file; [`check_files`] runs it over the files the
//! requirements match, in parallel, opening each safely relative to the evidence folder.

use std::io::{Read, Seek};
use std::time::Duration;

use serde::Serialize;

mod bounded;
mod detect;
mod files;

pub use bounded::Bounded;
pub use files::{check_files, check_files_counted, Checks};

/// What a check found. Anything but [`Check::Ok`] makes the file unusable: it is listed,
/// but counts towards no requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    Ok,
    /// 0 bytes, or a text file holding only white space.
    Empty,
    /// The bytes are not what the extension says (an HTML page saved as `.pdf`, a
    /// shortcut instead of the document).
    WrongType,
    /// The right type, but damaged or truncated.
    Corrupt,
    /// Opens only with a password an inspector does not have.
    PasswordProtected,
    /// Could not be read to the end of the check (an I/O error, or the time limit).
    Unreadable,
}

impl Check {
    /// The label in every output: `ok`, `empty`, `wrong-type`, ...
    pub fn label(self) -> &'static str {
        match self {
            Check::Ok => "ok",
            Check::Empty => "empty",
            Check::WrongType => "wrong-type",
            Check::Corrupt => "corrupt",
            Check::PasswordProtected => "password-protected",
            Check::Unreadable => "unreadable",
        }
    }

    pub fn is_ok(self) -> bool {
        self == Check::Ok
    }
}

/// A check's result and, when not `ok`, what was found in words ("an HTML page, not a
/// PDF", "no `word/document.xml`: the document part is missing").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub check: Check,
    pub detail: Option<String>,
}

impl Checked {
    pub const OK: Checked = Checked {
        check: Check::Ok,
        detail: None,
    };

    pub fn new(check: Check, detail: impl Into<String>) -> Checked {
        Checked {
            check,
            detail: Some(detail.into()),
        }
    }
}

/// How much one check may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes read from one file, in all.
    pub max_read: u64,
    /// Wall-clock time for one file (a shared drive can be slow; a hostile file must not
    /// hold the run).
    pub max_time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_read: 8 << 20,
            max_time: Duration::from_secs(20),
        }
    }
}

/// Judges one file by its name's extension and its bytes. `size` is the file's length
/// from its open handle. Never fails: an I/O error is [`Check::Unreadable`].
pub fn check_document<R: Read + Seek>(
    reader: R,
    size: u64,
    name: &str,
    limits: &Limits,
) -> Checked {
    detect::check(Bounded::new(reader, limits), size, name)
}
