//! What the bag checks need from a pack, whether it is a zip or a folder: the list of
//! members (files inside the bag folder) and a way to stream one member's bytes.

use super::findings::{Finding, Kind};

/// Read size for files and zip data: large enough that a read is cheap next to hashing it,
/// small enough that two workers hold well under a megabyte each.
pub const CHUNK: usize = 256 * 1024;

/// A file inside the bag folder that may be read.
#[derive(Debug, Clone)]
pub struct Member {
    /// Path relative to the bag folder, `/`-separated (`data/x.pdf`, `bag-info.txt`).
    pub path: String,
    /// The size the container declares (zip central directory, file metadata).
    pub size: u64,
    /// The store's own handle for it.
    pub key: usize,
}

/// Why a member could not be read to the end; the member is then reported with this kind
/// and not compared with anything else.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: Kind,
    pub message: String,
    /// The member was read to its end and only a check value disagreed (the zip's CRC-32):
    /// its hashes are still good, and the manifest comparison names it if the bytes
    /// changed, so this is reported only when nothing else names the file.
    pub soft: bool,
}

impl Problem {
    pub fn new(kind: Kind, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            message: message.into(),
            soft: false,
        }
    }
}

/// Per-worker buffers, reused from member to member so that hashing twenty thousand small
/// files does not allocate (and page-fault) a fresh buffer each time.
pub struct Buffers {
    pub input: Vec<u8>,
    pub output: Vec<u8>,
}

impl Buffers {
    pub fn new() -> Buffers {
        Buffers {
            input: vec![0; CHUNK],
            output: vec![0; CHUNK],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers::new()
    }
}

/// A pack opened for checking.
pub trait Store: Sync {
    /// Streams a member's bytes to `sink`, stopping at the first problem.
    fn stream(
        &self,
        member: &Member,
        bufs: &mut Buffers,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Problem>;
}

/// The result of opening a pack: its readable members, and what was already found while
/// listing them (unsafe entries, entries outside the bag folder).
#[derive(Debug, Default)]
pub struct Listing {
    pub members: Vec<Member>,
    pub findings: Vec<Finding>,
    /// Paths (relative to the bag folder) of entries that were reported and not read: the
    /// bag checks say nothing more about them, so each problem is named once.
    pub flagged: std::collections::HashSet<String>,
    /// Declared sizes of the flagged files, for `Payload-Oxum` (which counts what the pack
    /// holds, read or not).
    pub flagged_sizes: Vec<(String, u64)>,
    /// The bag folder inside the zip (`NAME/`, or empty), or the folder path.
    pub root: String,
    /// What the listing showed that is a hazard elsewhere but no difference (file names
    /// that would merge on Windows or macOS).
    pub warnings: Vec<String>,
    /// System files outside the bag folder (a Mac's `__MACOSX/`): harmless.
    pub litter: Vec<String>,
    /// Remarks on how the pack was read that are neither hazards nor differences (zip entry
    /// names read as CP437).
    pub notes: Vec<String>,
}

/// Files Windows and macOS leave behind (`.DS_Store`, AppleDouble `._*`, `__MACOSX/`,
/// `Thumbs.db`, `desktop.ini`, Office `~$` lock files): harmless, never evidence. Listed in
/// no manifest, they are a warning, not an unexpected file.
pub fn is_os_litter(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let name = path.rsplit('/').next().unwrap_or(path);
    path.split('/').any(|c| c == "__MACOSX")
        || name == ".DS_Store"
        || name.starts_with("._")
        || name.starts_with("~$")
        || name.eq_ignore_ascii_case("thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
}

/// The one warning for the system files found (paths), if any.
pub fn litter_warning(litter: &[String]) -> Option<String> {
    let first = litter.first()?;
    Some(format!(
        "{} harmless system file{} (e.g. `{}`), made by Windows or macOS and listed in no manifest: not evidence, and not a difference",
        litter.len(),
        if litter.len() == 1 { "" } else { "s" },
        crate::util::printable(first)
    ))
}

/// Groups of names that are equal ignoring letter case and Unicode normalisation (NFC)
/// but not byte for byte, as indices (one per distinct name). Sorting with a folding
/// comparison finds them without a folded copy of every name, which matters in a pack of a
/// million entries.
pub fn case_groups(names: &[(&str, usize)]) -> Vec<Vec<usize>> {
    fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
        use unicode_normalization::UnicodeNormalization;
        s.nfc().flat_map(char::to_lowercase)
    }
    let mut sorted = names.to_vec();
    sorted.sort_by(|a, b| fold(a.0).cmp(fold(b.0)).then_with(|| a.0.cmp(b.0)));
    let mut groups = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && fold(sorted[j].0).eq(fold(sorted[i].0)) {
            j += 1;
        }
        let mut group: Vec<usize> = Vec::new();
        for k in i..j {
            if k == i || sorted[k].0 != sorted[k - 1].0 {
                group.push(sorted[k].1);
            }
        }
        if group.len() > 1 {
            groups.push(group);
        }
        i = j;
    }
    groups
}

/// One warning per set of file names that differ only in letter case or in Unicode
/// normalisation: each is a distinct file here and is checked as one, but on Windows or
/// macOS one would overwrite the other. `names` pairs each file's path (folders left out:
/// folders that differ in case merge harmlessly) with a key that `shown` turns into the
/// path to report; `where_` says when ("when unzipped ", or "").
pub fn twin_warnings(
    names: &[(&str, usize)],
    shown: impl Fn(usize) -> String,
    where_: &str,
) -> Vec<String> {
    case_groups(names)
        .into_iter()
        .map(|group| {
            let group: Vec<String> = group
                .into_iter()
                .map(|i| format!("`{}`", crate::util::printable(&shown(i))))
                .collect();
            format!(
                "{} differ only in letter case or accents' encoding: each is checked, but one would overwrite the other {where_}on Windows or macOS",
                group.join(" and ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_groups_ignore_exact_duplicates() {
        let names = [
            ("a/B.txt", 0),
            ("a/b.txt", 1),
            ("a/b.txt", 2),
            ("c", 3),
            ("É", 4),
            ("é", 5),
        ];
        assert_eq!(case_groups(&names), vec![vec![0, 1], vec![4, 5]]);
        assert!(case_groups(&[("x", 0), ("x", 1)]).is_empty());
    }
}
