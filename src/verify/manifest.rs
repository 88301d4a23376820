//! A bag's checksum manifests (`manifest-<alg>.txt`) and tag manifests
//! (`tagmanifest-<alg>.txt`): each line read as it streams into what the comparison needs
//! (which file, by id, and its digest as bytes), and the comparison of the files read with
//! every manifest.
//!
//! Nothing of a line is kept but its digest: a manifest of two hundred thousand lines
//! costs a digest and a slot per file. What is kept of lines for files the pack lacks is
//! bounded ([`NAMED_PER_TAG_FILE`] per manifest, the rest counted), as are the findings.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::findings::{excerpt, excerpt_of, Capped, Finding, Kind, NAMED_PER_TAG_FILE};
use super::hashing::{unhex_into, Algo, Table};
use super::paths::{Named, Paths, MAX_PATH_BYTES};
use super::tagtext::Line;
use crate::bagit;
use crate::util::hex;

/// A parsed checksum manifest or tag manifest.
pub struct ChecksumManifest {
    pub file: String,
    pub algo: Algo,
    /// Per path id (see [`Paths`]): 1 + the index of its digest in `digests`, or 0 when
    /// the manifest does not list it. Empty until a line names a file the pack holds.
    slots: Vec<usize>,
    digests: Vec<u8>,
    /// Lines for files the pack does not hold: path -> digest, the first
    /// [`NAMED_PER_TAG_FILE`] of them.
    absent: BTreeMap<String, Box<[u8]>>,
    /// Lines for files not in the pack beyond those kept.
    pub absent_more: u64,
    /// Paths read as written because decoding them named no file and the path as written
    /// did (a tool that writes `%` raw); the first of them, and how many.
    raw_paths: Option<(String, u64)>,
    /// Paths written with a leading `./` or a doubled `/`: the first, and how many.
    tidied: Option<(String, u64)>,
    /// Paths listed twice with the same digest: the first, and how many.
    repeated: Option<(String, u64)>,
}

/// Counts one more of something, keeping the first example.
fn count_first(slot: &mut Option<(String, u64)>, path: &str) {
    slot.get_or_insert_with(|| (path.to_string(), 0)).1 += 1;
}

impl ChecksumManifest {
    pub fn new(file: &str, algo: Algo) -> ChecksumManifest {
        ChecksumManifest {
            file: file.to_string(),
            algo,
            slots: Vec::new(),
            digests: Vec::new(),
            absent: BTreeMap::new(),
            absent_more: 0,
            raw_paths: None,
            tidied: None,
            repeated: None,
        }
    }

    /// The digest this manifest gives file `id`, if it lists it.
    pub fn digest(&self, id: usize) -> Option<&[u8]> {
        let at = self.slots.get(id)?.checked_sub(1)? * self.algo.bytes();
        self.digests.get(at..at + self.algo.bytes())
    }

    pub fn lists(&self, id: usize) -> bool {
        self.digest(id).is_some()
    }

    /// Whether it lists `path`, a file the pack does not hold.
    pub fn lists_absent(&self, path: &str) -> bool {
        self.absent.contains_key(path)
    }

    /// The files of the pack it lists, by id, with their digests.
    fn listed(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        (0..self.slots.len()).filter_map(|id| Some((id, self.digest(id)?)))
    }

    /// Adds a line for file `id` (path `path`). A second line with the same digest is
    /// untidy (counted); with another digest it replaces the first, and the path is
    /// returned to be reported: the manifest contradicts itself.
    fn add(&mut self, id: usize, path: &str, digest: &[u8], ids: usize) -> Option<String> {
        if self.slots.is_empty() {
            self.slots = vec![0; ids];
        }
        let n = self.algo.bytes();
        match self.slots.get(id).copied() {
            None => None,
            Some(0) => {
                self.slots[id] = self.digests.len() / n + 1;
                self.digests.extend_from_slice(digest);
                None
            }
            Some(slot) => {
                let at = (slot - 1) * n;
                if self.digests[at..at + n] == *digest {
                    count_first(&mut self.repeated, path);
                    None
                } else {
                    self.digests[at..at + n].copy_from_slice(digest);
                    Some(path.to_string())
                }
            }
        }
    }

    /// [`ChecksumManifest::add`] for a file the pack does not hold.
    fn add_absent(&mut self, path: String, digest: &[u8]) -> Option<String> {
        match self.absent.entry(path) {
            Entry::Occupied(e) if **e.get() == *digest => {
                count_first(&mut self.repeated, e.key());
                None
            }
            Entry::Occupied(mut e) => {
                e.insert(digest.into());
                Some(e.key().clone())
            }
            Entry::Vacant(e) => {
                e.insert(digest.into());
                None
            }
        }
    }

    /// What a reader should know about how this manifest was read.
    pub fn note(&self) -> Option<String> {
        let (first, n) = self.raw_paths.as_ref()?;
        Some(format!(
            "{}: {n} path{} read as written, not percent-decoded, because only that names a file (e.g. `{}`): the tool that made the bag writes `%` as it is",
            self.file,
            if *n == 1 { "" } else { "s" },
            excerpt(first)
        ))
    }

    /// What is untidy in this manifest though every file agrees (after bagit-java's
    /// linter): other tools may read these lines differently.
    pub fn warnings(&self) -> Vec<String> {
        let say = |slot: &Option<(String, u64)>, what: &str| {
            slot.as_ref().map(|(first, n)| {
                format!(
                    "{}: {n} line{} {what} (e.g. `{}`); evpack reads {}, other tools may not",
                    self.file,
                    if *n == 1 { "" } else { "s" },
                    excerpt(first),
                    if *n == 1 { "it" } else { "them" }
                )
            })
        };
        say(
            &self.tidied,
            "with a path written with a leading `./` or a doubled `/`",
        )
        .into_iter()
        .chain(say(
            &self.repeated,
            "listing a file a second time with the same digest",
        ))
        .collect()
    }
}

/// Reads a manifest line by line; malformed lines, contradictions and paths in the wrong
/// place are findings. Lines for files the pack does not hold are kept up to
/// [`NAMED_PER_TAG_FILE`] and then only counted.
pub struct ManifestReader<'p> {
    pub manifest: ChecksumManifest,
    /// A tag manifest (its lines may name any file), not a payload manifest.
    tag: bool,
    paths: &'p Paths<'p>,
    absent: usize,
}

impl<'p> ManifestReader<'p> {
    pub fn new(file: &str, algo: Algo, tag: bool, paths: &'p Paths<'p>) -> ManifestReader<'p> {
        ManifestReader {
            manifest: ChecksumManifest::new(file, algo),
            tag,
            paths,
            absent: 0,
        }
    }

    pub fn line(&mut self, line: Line, out: &mut Capped) {
        if line.cut.is_none() && line.text.trim().is_empty() {
            return;
        }
        let m = &mut self.manifest;
        let n = line.number;
        let read = match read_line(line, m.algo, self.tag, self.paths) {
            Ok(read) => read,
            Err(what) => {
                let algo = m.algo;
                out.push_with(|| {
                    Finding::new(
                        Kind::Tag,
                        &m.file,
                        format!("line {n}: {}", what.describe(line, algo)),
                    )
                });
                return;
            }
        };
        if read.as_written {
            count_first(&mut m.raw_paths, &read.path);
        }
        if read.tidied {
            count_first(&mut m.tidied, &read.path);
        }
        let digest = &read.digest[..m.algo.bytes()];
        let twice = match read.id {
            Some(id) => m.add(id, &read.path, digest, self.paths.len()),
            None if self.absent >= NAMED_PER_TAG_FILE => {
                m.absent_more += 1;
                return;
            }
            None => {
                self.absent += 1;
                m.add_absent(read.path.into_owned(), digest)
            }
        };
        if let Some(twice) = twice {
            out.push_with(|| {
                Finding::new(
                    Kind::Tag,
                    &m.file,
                    format!(
                        "line {n}: lists `{}` a second time, with another digest",
                        excerpt(&twice)
                    ),
                )
            });
        }
    }
}

/// What is wrong with a manifest line; described only if it is shown.
enum LineProblem {
    LineTooLong(u64),
    Malformed,
    DigestLength(usize),
    PathTooLong(String),
    UnsafePath(String),
    NotPayload(String),
}

impl LineProblem {
    fn describe(&self, line: Line, algo: Algo) -> String {
        let shown = || excerpt_of(line.text, line.full_len());
        match self {
            LineProblem::LineTooLong(n) => format!(
                "a line of {n} bytes, longer than any manifest line: `{}`",
                shown()
            ),
            LineProblem::Malformed => format!(
                "malformed (expected `<{}> <path>`): `{}`",
                algo.name(),
                shown()
            ),
            LineProblem::DigestLength(n) => format!(
                "a {} digest has {} hex digits, this one has {n}",
                algo.name(),
                algo.hex_len()
            ),
            LineProblem::PathTooLong(p) => format!(
                "a path of {} bytes, longer than any file's: `{}`",
                p.len(),
                excerpt(p)
            ),
            LineProblem::UnsafePath(p) => format!("unsafe or non-normal path `{}`", excerpt(p)),
            LineProblem::NotPayload(p) => {
                format!("lists `{}`, which is not under data/", excerpt(p))
            }
        }
    }
}

/// One manifest line, read.
struct Read<'l> {
    /// The digest, in its first bytes (as many as the algorithm's).
    digest: [u8; 64],
    path: Cow<'l, str>,
    /// The file's id, if the pack holds it.
    id: Option<usize>,
    /// The path was taken as written, not decoded.
    as_written: bool,
    /// The line wrote the path with a leading `./` or a doubled `/`.
    tidied: bool,
}

/// A line as evpack writes it (`<hex>  <path>`, the path needing neither decoding nor
/// tidying), split without copying: what [`bagit::parse_manifest_line`] gives for it.
fn plain_line(line: &str) -> Option<(&str, &str)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (digest, rest) = line.split_at(line.find([' ', '\t'])?);
    let path = rest.trim_start_matches([' ', '\t']);
    let plain = !digest.is_empty()
        && digest.bytes().all(|b| b.is_ascii_hexdigit())
        && !path.is_empty()
        && !path.starts_with('*')
        && !path.starts_with("./")
        && !path.contains("//")
        && !path.contains('%');
    plain.then_some((digest, path))
}

/// One manifest line, or what is wrong with it. The path is decoded, unless only the path
/// as written names a file in the pack.
fn read_line<'l>(
    line: Line<'l>,
    algo: Algo,
    tag: bool,
    paths: &Paths,
) -> Result<Read<'l>, LineProblem> {
    // A digest, a space and a path whose every byte is percent-encoded, with room to spare.
    const MAX_LINE_BYTES: u64 = 3 * MAX_PATH_BYTES as u64 + 256;
    if line.full_len() > MAX_LINE_BYTES {
        return Err(LineProblem::LineTooLong(line.full_len()));
    }
    let (digest_hex, path, id, as_written, tidied) = match plain_line(line.text) {
        Some((digest, path)) => (
            Cow::Borrowed(digest),
            Cow::Borrowed(path),
            paths.find(path),
            false,
            false,
        ),
        None => {
            let parsed = bagit::parse_manifest_line(line.text).ok_or(LineProblem::Malformed)?;
            let decoded_id = paths.find(&parsed.path);
            let (path, id, as_written) = match parsed.raw {
                Some(raw) if decoded_id.is_none() => match paths.find(&raw) {
                    Some(id) => (raw, Some(id), true),
                    None => (parsed.path, None, false),
                },
                _ => (parsed.path, decoded_id, false),
            };
            (
                Cow::Owned(parsed.digest),
                Cow::Owned(path),
                id,
                as_written,
                parsed.tidied,
            )
        }
    };
    let mut digest = [0u8; 64];
    if !unhex_into(&digest_hex, &mut digest[..algo.bytes()]) {
        return Err(LineProblem::DigestLength(digest_hex.len()));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(LineProblem::PathTooLong(path.into_owned()));
    }
    if super::zipstore::unsafe_name(&path).is_some()
        || path.split('/').any(|c| c == "." || c.is_empty())
    {
        return Err(LineProblem::UnsafePath(path.into_owned()));
    }
    if !tag && !bagit::is_payload(&path) {
        return Err(LineProblem::NotPayload(path.into_owned()));
    }
    Ok(Read {
        digest,
        path,
        id,
        as_written,
        tidied,
    })
}

// ---- the comparison ----

/// One side of the bag: the payload against its manifests, or the tag files against the
/// tag manifests. The comparison is the same; only the words differ.
pub struct Side {
    /// The kind of a digest mismatch.
    differs: Kind,
    /// Said after "<alg> differs from <manifest>".
    differs_why: &'static str,
    /// Said of a present file that a manifest does not list, before the manifests' names.
    unlisted: &'static str,
}

pub const PAYLOAD: Side = Side {
    differs: Kind::Modified,
    differs_why: ": the file is not as built",
    unlisted: "in the payload, not listed in",
};

pub const TAGS: Side = Side {
    differs: Kind::Tag,
    differs_why: "",
    unlisted: "tag file not listed in",
};

/// What a comparison reads and where it reports.
pub struct Compare<'a> {
    pub paths: &'a Paths<'a>,
    pub table: &'a Table,
    /// Reported and not read: nothing more is said of these.
    pub flagged: &'a HashSet<String>,
    /// `fetch.txt`: where the bag says to fetch a file it lacks.
    pub fetch: &'a HashMap<String, String>,
    pub findings: &'a mut Vec<Finding>,
    /// System files listed nowhere (harmless).
    pub litter: &'a mut Vec<String>,
}

/// Every file the manifests list is present with the listed digest, and every file in
/// `present` (ids of files read, in path order) is listed in every manifest. Each file is
/// named once, however many manifests disagree with it; files already reported are not
/// named again. Adds the paths it names to `named`.
pub fn compare(
    side: &Side,
    manifests: &[ChecksumManifest],
    present: impl Iterator<Item = usize>,
    c: &mut Compare,
    named: &mut Named,
) {
    for m in manifests {
        for (id, want) in m.listed() {
            // A file the pack holds and did not read (reported) is not compared.
            if named.has_id(id) || !c.paths.is_member(id) || !c.table.is_read(id) {
                continue;
            }
            match c.table.get(id, m.algo) {
                Some(found) if found != want => {
                    let finding = Finding::new(
                        side.differs,
                        c.paths.path(id),
                        format!(
                            "{} differs from {}{}",
                            m.algo.name(),
                            m.file,
                            side.differs_why
                        ),
                    )
                    .values(m.algo.name(), hex(want), hex(found));
                    c.findings.push(finding);
                    named.insert_id(id);
                }
                _ => {}
            }
        }
        for path in m.absent.keys() {
            if !named.has_other(path) && !c.flagged.contains(path) {
                c.findings.push(missing(manifests, path, c.fetch));
                named.insert_other(path);
            }
        }
        if m.absent_more > 0 {
            c.findings.push(Finding::new(
                Kind::Missing,
                m.file.clone(),
                format!(
                    "lists {} more files that are not in the pack (the first {NAMED_PER_TAG_FILE} are named)",
                    m.absent_more
                ),
            ));
        }
    }
    unlisted(side, manifests, present, c, named);
}

/// A file a manifest lists and the pack lacks: to fetch, when `fetch.txt` says where from.
fn missing(manifests: &[ChecksumManifest], path: &str, fetch: &HashMap<String, String>) -> Finding {
    let message = match fetch.get(path) {
        Some(url) => format!(
            "to fetch: fetch.txt says it is at {}; not in the pack, so the bag is incomplete (evpack never fetches)",
            excerpt(url)
        ),
        None => {
            let lists: Vec<&str> = manifests
                .iter()
                .filter(|m| m.lists_absent(path))
                .map(|m| m.file.as_str())
                .collect();
            format!("listed in {}, not in the pack", lists.join(" and "))
        }
    };
    Finding::new(Kind::Missing, path, message)
}

/// Files present that some manifest does not list: unexpected, unless no manifest lists it
/// and it is a system file (then harmless, and counted as such).
fn unlisted(
    side: &Side,
    manifests: &[ChecksumManifest],
    present: impl Iterator<Item = usize>,
    c: &mut Compare,
    named: &mut Named,
) {
    for id in present {
        if named.has_id(id) {
            continue;
        }
        let path = c.paths.path(id);
        let lacking: Vec<&str> = manifests
            .iter()
            .filter(|m| !m.lists(id))
            .map(|m| m.file.as_str())
            .collect();
        if lacking.len() == manifests.len() && super::store::is_os_litter(path) {
            c.litter.push(path.to_string());
            named.insert_id(id);
        } else if !lacking.is_empty() {
            c.findings.push(Finding::new(
                Kind::Unexpected,
                path,
                format!("{} {}", side.unlisted, lacking.join(" or ")),
            ));
            named.insert_id(id);
        }
    }
}

/// Whether some manifest lists `path` as a file the pack lacks (for `fetch.txt`: only
/// those lines matter).
pub fn lists_absent(manifests: &[&ChecksumManifest], path: &str) -> bool {
    manifests.iter().any(|m| m.lists_absent(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::store::Member;

    fn lines_of(text: &str) -> Vec<Line<'_>> {
        text.lines()
            .enumerate()
            .map(|(i, l)| Line {
                number: i + 1,
                text: l,
                cut: None,
            })
            .collect()
    }

    fn members(paths: &[&str]) -> Vec<Member> {
        paths
            .iter()
            .enumerate()
            .map(|(key, p)| Member {
                path: p.to_string(),
                size: 0,
                key,
            })
            .collect()
    }

    #[test]
    fn manifest_lines() {
        let mut f = Vec::new();
        let d = "a".repeat(64);
        let e = "e".repeat(64);
        let text = format!(
            "{d}  data/a b\n{d} data/c%0Ad\nzzz data/x\n{d}  ../x\n{d}  bag-info.txt\n{d}  data/a b\n./data//z\t{d}\n{d}  ./data//z\n{e}  data/a b\n"
        );
        let held = members(&["data/a b", "data/c\nd", "data/z"]);
        let paths = Paths::new(&held, &[]);
        let mut reader = ManifestReader::new("manifest-sha256.txt", Algo::Sha256, false, &paths);
        {
            let mut out = Capped::new(&mut f, "manifest-sha256.txt", 100);
            for l in lines_of(&text) {
                reader.line(l, &mut out);
            }
        }
        let m = reader.manifest;
        assert_eq!(m.listed().count(), 3);
        assert!(m.lists(1), "`%0A` decoded");
        assert!(m.lists(2), "`./` and `//` read past");
        assert_eq!(m.digest(0), Some(&[0xee; 32][..]), "the last line wins");
        // Malformed (twice: `zzz`, and a path before its digest), unsafe, not payload, and
        // `data/a b` a third time with another digest; the same digest twice is untidy only.
        assert_eq!(f.len(), 5, "{f:?}");
        assert!(f[4].message.contains("with another digest"), "{f:?}");
        let warnings = m.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("1 line with a path written with a leading `./`"));
        assert!(warnings[1].contains("1 line listing a file a second time with the same digest"));
    }

    #[test]
    fn plain_lines_read_as_the_format_reads_them() {
        let d = "aB".repeat(32);
        for line in [
            format!("{d}  data/a b.txt"),
            format!("{d}\tdata/x\r"),
            format!("{d} *data/x"),
            format!("{d}  ./data/x"),
            format!("{d}  data//x"),
            format!("{d}  data/50%25.pdf"),
            format!("{d}  data/.hidden/./x"),
            format!(" {d}  data/x"),
            "zz data/x".to_string(),
        ] {
            let full = bagit::parse_manifest_line(&line);
            if let Some((digest, path)) = plain_line(&line) {
                let full = full.expect("the format reads it");
                assert_eq!(digest.to_ascii_lowercase(), full.digest, "{line}");
                assert_eq!(
                    (path, None, false),
                    (full.path.as_str(), full.raw, full.tidied)
                );
            }
        }
        assert!(plain_line(&format!("{d}  data/a b.txt")).is_some());
        assert!(plain_line(&format!("{d}  ./data/x")).is_none());
    }

    #[test]
    fn lines_for_absent_files_are_kept_up_to_the_cap() {
        let d = "a".repeat(64);
        let text: String = (0..NAMED_PER_TAG_FILE + 5)
            .map(|i| format!("{d}  data/f{i}\n"))
            .collect();
        let held = members(&["data/f10004"]);
        let paths = Paths::new(&held, &[]);
        let mut reader = ManifestReader::new("manifest-sha256.txt", Algo::Sha256, false, &paths);
        let mut f = Vec::new();
        let mut out = Capped::new(&mut f, "manifest-sha256.txt", 100);
        for l in lines_of(&text) {
            reader.line(l, &mut out);
        }
        let m = reader.manifest;
        assert_eq!(m.absent.len() + m.listed().count(), NAMED_PER_TAG_FILE + 1);
        assert_eq!(m.absent_more, 4);
    }

    #[test]
    fn a_cut_line_is_too_long_with_its_full_length() {
        let held = members(&[]);
        let paths = Paths::new(&held, &[]);
        let mut reader = ManifestReader::new("manifest-md5.txt", Algo::Md5, false, &paths);
        let mut f = Vec::new();
        {
            let mut out = Capped::new(&mut f, "manifest-md5.txt", 100);
            let text = "x".repeat(1000);
            reader.line(
                Line {
                    number: 7,
                    text: &text,
                    cut: Some(5_000_000),
                },
                &mut out,
            );
        }
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.starts_with("line 7: a line of 5000000 bytes"));
        assert!(f[0].message.ends_with("(5000000 bytes in all)`"), "{f:?}");
    }
}
