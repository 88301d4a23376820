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

/// Per-worker buffers, reused from member to member so that hashing two hundred thousand
/// small files does not allocate (and page-fault) a fresh buffer, or a fresh inflater with
/// its 32 KiB window, for each.
pub struct Buffers {
    pub input: Vec<u8>,
    pub output: Vec<u8>,
    /// The zip store's inflater, reset for each entry.
    pub inflater: Option<flate2::Decompress>,
}

impl Buffers {
    pub fn new() -> Buffers {
        Buffers {
            input: vec![0; CHUNK],
            output: vec![0; CHUNK],
            inflater: None,
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
/// but not byte for byte, as indices (one per distinct name), in the order of their folded
/// names. Each name is folded once, into a hash, with no folded copy kept (which matters in
/// a pack of a million entries); only names whose hashes meet are compared folded, so the
/// cost is linear in the names rather than a folding sort's n log n comparisons.
pub fn case_groups(names: &[(&str, usize)]) -> Vec<Vec<usize>> {
    let mut hashed: Vec<(u64, usize)> = names
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (fold_hash(name), i))
        .collect();
    hashed.sort_unstable();
    let mut groups = Vec::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        let mut same: Vec<(&str, usize)> = run.iter().map(|&(_, i)| names[i]).collect();
        same.sort_by(|a, b| fold(a.0).cmp(fold(b.0)).then_with(|| a.0.cmp(b.0)));
        for folded in same.chunk_by(|a, b| fold(a.0).eq(fold(b.0))) {
            let mut group: Vec<(&str, usize)> = folded.to_vec();
            group.dedup_by(|a, b| a.0 == b.0);
            if group.len() > 1 {
                groups.push(group);
            }
        }
    }
    groups.sort_by(|a, b| fold(a[0].0).cmp(fold(b[0].0)));
    groups
        .into_iter()
        .map(|g| g.into_iter().map(|(_, key)| key).collect())
        .collect()
}

/// A name with letter case and Unicode normalisation folded away.
fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().flat_map(char::to_lowercase)
}

/// A hash of [`fold`]`(s)`: equal folds hash alike. ASCII (most names) folds by lowering
/// its letters, the same characters the full fold gives, without the normaliser.
fn fold_hash(s: &str) -> u64 {
    use std::hash::Hasher;
    // The folded UTF-8 goes to the hasher a buffer at a time: equal folds make equal
    // sequences of writes, and a name costs a write or two rather than one per character.
    let mut h = std::hash::DefaultHasher::new();
    let mut buf = [0u8; 128];
    let mut len = 0;
    let mut put = |bytes: &[u8], h: &mut std::hash::DefaultHasher| {
        if len + bytes.len() > buf.len() {
            h.write(&buf[..len]);
            len = 0;
        }
        buf[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if s.is_ascii() {
        for b in s.bytes() {
            put(&[b.to_ascii_lowercase()], &mut h);
        }
    } else {
        for c in fold(s) {
            put(c.encode_utf8(&mut [0; 4]).as_bytes(), &mut h);
        }
    }
    h.write(&buf[..len]);
    h.finish()
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
