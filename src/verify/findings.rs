//! What the verifier found: one [`Finding`] per difference, in a fixed order of kinds so
//! that text and JSON output are stable from run to run.

use std::collections::HashSet;

use serde::Serialize;

/// Problems one tag file names one by one (malformed lines, files it lists that are not in
/// the pack, `pack.json` claims), beyond one per payload file; the rest are counted.
pub const NAMED_PER_TAG_FILE: usize = 10_000;

/// The kind of a finding; also the group it is printed under, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The whole zip does not match the digest given with `--digest` / `--digest-file`.
    Digest,
    /// A payload file whose bytes differ from the manifest.
    Modified,
    /// Listed in a manifest, absent from the pack.
    Missing,
    /// Present in the pack, listed in no manifest (or outside the bag folder).
    Unexpected,
    /// A tag file problem: tag manifest mismatch, malformed `bagit.txt`, `bag-info.txt` or
    /// manifest line, `Payload-Oxum` mismatch.
    Tag,
    /// An entry that is not read: unsafe name, symlink, duplicate, encrypted, local header
    /// disagreeing with the central directory, overlapping, or data that disagrees with its
    /// declared size or CRC.
    Unsafe,
    /// An entry or file that cannot be read (unsupported compression, permission denied).
    Unreadable,
    /// `pack.json` disagrees with the payload.
    Consistency,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Digest,
        Kind::Modified,
        Kind::Missing,
        Kind::Unexpected,
        Kind::Tag,
        Kind::Unsafe,
        Kind::Unreadable,
        Kind::Consistency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Digest => "digest",
            Kind::Modified => "modified",
            Kind::Missing => "missing",
            Kind::Unexpected => "unexpected",
            Kind::Tag => "tag",
            Kind::Unsafe => "unsafe",
            Kind::Unreadable => "unreadable",
            Kind::Consistency => "consistency",
        }
    }
}

/// One difference between the pack and what was built.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The path inside the bag (`data/...`, `bag-info.txt`) when the entry is inside the bag
    /// folder; otherwise the entry's full name in the zip; `None` for the whole pack.
    pub path: Option<String>,
    /// A sentence for a person.
    pub message: String,
    /// For digest mismatches: the algorithm, the expected and the found value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl Finding {
    pub fn new(kind: Kind, path: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            kind,
            path: Some(path.into()),
            message: message.into(),
            algorithm: None,
            expected: None,
            found: None,
        }
    }

    pub fn whole(kind: Kind, message: impl Into<String>) -> Finding {
        Finding {
            kind,
            path: None,
            message: message.into(),
            algorithm: None,
            expected: None,
            found: None,
        }
    }

    pub fn values(
        mut self,
        algorithm: &'static str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Finding {
        self.algorithm = Some(algorithm);
        self.expected = Some(expected.into());
        self.found = Some(found.into());
        self
    }
}

/// What every phase adds to: the findings so far, and the paths already reported and not
/// read, about which the later phases say nothing more (each problem is named once).
pub struct Found {
    pub findings: Vec<Finding>,
    pub flagged: HashSet<String>,
    /// System files no manifest lists (see [`super::store::is_os_litter`]).
    pub litter: Vec<String>,
}

impl Found {
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Reports a member that was not read (or not to the end).
    pub fn not_read(&mut self, kind: Kind, path: &str, message: impl Into<String>) {
        self.findings.push(Finding::new(kind, path, message));
        self.flagged.insert(path.to_string());
    }
}

/// The findings one tag file's contents give, at most a cap of them one by one; the rest
/// are counted and said in one finding when this is dropped. A hostile tag file can hold
/// millions of bad lines in a few kilobytes of zip, and each finding costs more memory
/// than its line.
pub struct Capped<'a> {
    out: &'a mut Vec<Finding>,
    file: &'a str,
    left: usize,
    more: u64,
    more_kind: Kind,
}

impl<'a> Capped<'a> {
    pub fn new(out: &'a mut Vec<Finding>, file: &'a str, cap: usize) -> Capped<'a> {
        Capped {
            out,
            file,
            left: cap,
            more: 0,
            more_kind: Kind::Tag,
        }
    }

    pub fn push(&mut self, finding: Finding) {
        self.push_with(|| finding);
    }

    /// Pushes the finding `make` builds, building it only if it is named (a hostile file's
    /// millions of counted findings cost no message each).
    pub fn push_with(&mut self, make: impl FnOnce() -> Finding) {
        if self.left > 0 {
            self.left -= 1;
            self.out.push(make());
        } else {
            if self.more == 0 {
                self.more_kind = make().kind;
            }
            self.more += 1;
        }
    }

    /// True once further findings are only counted.
    pub fn is_full(&self) -> bool {
        self.left == 0
    }

    /// How many more findings are named one by one.
    pub fn room(&self) -> usize {
        self.left
    }

    /// Adds findings, each as [`Capped::push`] would.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        for f in findings {
            self.push(f);
        }
    }

    /// Counts a finding of `kind` without naming it (when there is no room for it, or
    /// it is known that there will be none by the time it could be named).
    pub fn count(&mut self, kind: Kind) {
        if self.more == 0 {
            self.more_kind = kind;
        }
        self.more += 1;
    }

    /// Where the findings stand now, to go back to with [`Capped::rollback`].
    pub fn mark(&self) -> Mark {
        Mark {
            len: self.out.len(),
            left: self.left,
            more: self.more,
        }
    }

    /// Drops every finding made since `mark`, named or counted.
    pub fn rollback(&mut self, mark: Mark) {
        self.out.truncate(mark.len);
        self.left = mark.left;
        self.more = mark.more;
    }
}

/// A point to go back to in a [`Capped`].
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    len: usize,
    left: usize,
    more: u64,
}

impl Drop for Capped<'_> {
    fn drop(&mut self) {
        if self.more > 0 {
            self.out.push(Finding::new(
                self.more_kind,
                self.file,
                format!(
                    "{} more problems in this file are not listed one by one",
                    self.more
                ),
            ));
        }
    }
}

/// A line or value from a tag file, printable and cut to a length a person reads: a
/// hostile line can be megabytes long.
pub fn excerpt(s: &str) -> String {
    excerpt_of(s, s.len() as u64)
}

/// [`excerpt`] of the start of something `len` bytes long in all (a line read cut).
pub fn excerpt_of(s: &str, len: u64) -> String {
    const SHOWN: usize = 200;
    match s.char_indices().nth(SHOWN) {
        None if len == s.len() as u64 => crate::util::printable(s),
        None => format!("{}... ({len} bytes in all)", crate::util::printable(s)),
        Some((at, _)) => format!(
            "{}... ({len} bytes in all)",
            crate::util::printable(&s[..at])
        ),
    }
}
