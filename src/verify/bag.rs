//! The BagIt checks (RFC 8493 section 3) and evpack's own `pack.json` consistency check,
//! over any [`Store`]. Every check runs whatever the others found, so one run names every
//! difference.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::findings::{Finding, Kind};
use super::hashing::{Algo, Algos, Digests, Hashers};
use super::store::{Buffers, Listing, Member, Problem, Store};
use crate::bagit;

/// Largest tag file read into memory (`bag-info.txt`, manifests, `pack.json`). A manifest
/// line is about 100 bytes, so a 20,000-file pack's manifest is 2 MB and its `pack.json`
/// 11 MB; a tag file near this limit is not a real one but an attempt to exhaust memory.
pub const TAG_FILE_CAP: u64 = 64 * 1024 * 1024;

/// What the checks concluded.
#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub tag_files: u64,
    /// Algorithms checked, in order.
    pub algorithms: Vec<&'static str>,
    /// Things worth saying that are not differences (an md5 manifest not checked).
    pub notes: Vec<String>,
}

/// A BagIt checksum manifest (`manifest-<alg>.txt`) or tag manifest
/// (`tagmanifest-<alg>.txt`), parsed: path -> hex digest, and its file name.
struct ChecksumManifest {
    file: String,
    algo: Algo,
    entries: BTreeMap<String, String>,
}

/// What every phase adds to: the findings so far, and the paths already reported and not
/// read, about which the later phases say nothing more (each problem is named once).
struct Found {
    findings: Vec<Finding>,
    flagged: HashSet<String>,
}

impl Found {
    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Reports a member that was not read (or not to the end).
    fn not_read(&mut self, kind: Kind, path: &str, message: impl Into<String>) {
        self.findings.push(Finding::new(kind, path, message));
        self.flagged.insert(path.to_string());
    }
}

/// Which algorithms every member is hashed with, decided from the manifests' names before
/// anything is read, so each member is read once.
struct Plan {
    /// Named by payload manifests.
    payload: Algos,
    /// Named by tag manifests; every tag file is hashed with these.
    tag: Algos,
    /// What payload files are hashed with: the payload manifests' algorithms, plus SHA-256
    /// when there is a `pack.json` (it gives each file's SHA-256).
    payload_hash: Algos,
    /// The manifests of algorithms evpack does not check.
    unsupported: BTreeSet<String>,
}

impl Plan {
    fn of(members: &[Member]) -> Plan {
        let mut plan = Plan {
            payload: Algos::default(),
            tag: Algos::default(),
            payload_hash: Algos::default(),
            unsupported: BTreeSet::new(),
        };
        for m in members {
            if let Some((tag, alg)) = bagit::manifest_name(&m.path) {
                match Algo::from_name(alg) {
                    Some(a) if tag => plan.tag = plan.tag.with(a),
                    Some(a) => plan.payload = plan.payload.with(a),
                    None => {
                        plan.unsupported.insert(m.path.clone());
                    }
                }
            }
        }
        let has_pack_json = members.iter().any(|m| m.path == bagit::PACK_JSON);
        plan.payload_hash = if has_pack_json {
            plan.payload.with(Algo::Sha256)
        } else {
            plan.payload
        };
        plan
    }

    /// The algorithms a member is hashed with.
    fn algos_for(&self, path: &str) -> Algos {
        if bagit::is_payload(path) {
            self.payload_hash
        } else {
            self.tag
        }
    }

    fn notes(&self) -> Vec<String> {
        self.unsupported
            .iter()
            .map(|f| format!("{f} not checked: evpack checks sha256 and sha512 manifests"))
            .collect()
    }

    /// The algorithms checked, in order, for the report.
    fn checked(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .payload
            .union(self.tag)
            .iter()
            .map(Algo::name)
            .collect();
        names.dedup();
        names
    }
}

/// Tag files whose contents the checks parse, so they are read whole (up to the cap).
fn is_parsed_tag(path: &str) -> bool {
    matches!(path, bagit::BAGIT | bagit::BAG_INFO | bagit::PACK_JSON)
        || bagit::manifest_name(path).is_some()
}

thread_local! {
    /// One pair of read buffers per worker thread, reused for every file it hashes (the
    /// work is split into one task per file, so per-task buffers would be allocated and
    /// zeroed twenty thousand times in a large pack).
    static WORKER_BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::new(Buffers::new());
}

/// Runs every check over the members of an opened pack.
pub fn check(store: &dyn Store, listing: Listing) -> Checked {
    let Listing {
        members,
        findings,
        flagged,
        flagged_sizes,
        ..
    } = listing;
    let mut found = Found { findings, flagged };
    let plan = Plan::of(&members);

    // Read the parsed tag files whole (they are small), then hash everything else.
    let (parsed, rest): (Vec<&Member>, Vec<&Member>) =
        members.iter().partition(|m| is_parsed_tag(&m.path));
    // Keyed by the members' own paths: one allocation fewer per file in a 20,000-file pack.
    let mut digests: HashMap<&str, Digests> = HashMap::new();
    let mut texts = read_tag_texts(store, &parsed, plan.tag, &mut digests, &mut found);
    let soft = record_hashed(hash_members(store, rest, &plan), &mut digests, &mut found);

    let payload: BTreeMap<&str, &Digests> = digests
        .iter()
        .filter(|(p, _)| bagit::is_payload(p))
        .map(|(p, d)| (*p, d))
        .collect();
    let tag_files = digests.keys().filter(|p| !bagit::is_payload(p)).count() as u64;

    // bagit.txt: the bag declaration.
    match texts.get(bagit::BAGIT) {
        Some(t) => check_bagit_txt(t, &mut found.findings),
        None if found.flagged.contains(bagit::BAGIT) => {}
        None => found.push(Finding::new(Kind::Missing, "bagit.txt", "missing")),
    }

    // Payload manifests, one per algorithm, every one checked; then the soft problems
    // (a CRC that disagrees) of files no comparison named.
    let (manifests, tagmanifests) = parse_manifests(&mut texts, &mut found);
    let mut named = compare(
        &PAYLOAD,
        &manifests,
        &|p| payload.get(p).copied(),
        payload.keys().copied(),
        &found.flagged,
        &mut found.findings,
    );
    for (path, p) in soft {
        if !named.contains(&path) {
            found.push(Finding::new(p.kind, path.clone(), p.message));
            named.insert(path);
        }
    }

    // bag-info.txt and its Payload-Oxum: reported, then the checks go on.
    let (payload_bytes, payload_files) = payload_size(&payload);
    if let Some(text) = texts.get(bagit::BAG_INFO) {
        let oxum = pack_oxum(&members, &payload, &flagged_sizes);
        check_bag_info_and_oxum(text, oxum, &mut found.findings);
    }

    // Tag manifests: every tag file they list, as listed; and, as bagit.py writes them,
    // every tag file but the tag manifests themselves is listed.
    compare(
        &TAGS,
        &tagmanifests,
        &|p| digests.get(p),
        digests
            .keys()
            .copied()
            .filter(|p| !bagit::is_payload(p))
            .filter(|p| !bagit::manifest_name(p).is_some_and(|(tag, _)| tag)),
        &found.flagged,
        &mut found.findings,
    );

    if let Some(text) = texts.remove(bagit::PACK_JSON) {
        check_pack_json(&text, &payload, &named, &found.flagged, &mut found.findings);
    }

    Checked {
        findings: found.findings,
        payload_files,
        payload_bytes,
        tag_files,
        algorithms: plan.checked(),
        notes: plan.notes(),
    }
}

/// Reads the tag files the checks parse, each whole up to [`TAG_FILE_CAP`], hashing them
/// on the way (with the tag manifests' algorithms). Returns their texts by path.
fn read_tag_texts<'m>(
    store: &dyn Store,
    parsed: &[&'m Member],
    algos: Algos,
    digests: &mut HashMap<&'m str, Digests>,
    found: &mut Found,
) -> HashMap<String, Vec<u8>> {
    let mut texts = HashMap::new();
    let mut bufs = Buffers::new();
    for m in parsed {
        if m.size > TAG_FILE_CAP {
            found.not_read(
                Kind::Tag,
                &m.path,
                format!(
                    "{} bytes: too large for a tag file (limit {TAG_FILE_CAP}); not read",
                    m.size
                ),
            );
            continue;
        }
        match read_whole(store, m, algos, &mut bufs) {
            Ok((text, d)) => {
                digests.insert(m.path.as_str(), d);
                texts.insert(m.path.clone(), text);
            }
            Err(p) => found.not_read(p.kind, &m.path, p.message),
        }
    }
    texts
}

/// One tag file's bytes and digests; stops keeping bytes at [`TAG_FILE_CAP`] (a folder
/// file can grow after it was listed).
fn read_whole(
    store: &dyn Store,
    m: &Member,
    algos: Algos,
    bufs: &mut Buffers,
) -> Result<(Vec<u8>, Digests), Problem> {
    let mut text = Vec::with_capacity(usize::try_from(m.size).unwrap_or(0));
    let mut h = Hashers::new(algos);
    let mut over = false;
    store.stream(m, bufs, &mut |b| {
        if text.len() as u64 + b.len() as u64 <= TAG_FILE_CAP {
            text.extend_from_slice(b);
        } else {
            over = true;
        }
        h.update(b);
    })?;
    if over {
        return Err(Problem::new(
            Kind::Tag,
            "grew past the tag file limit while it was read",
        ));
    }
    Ok((text, h.finish()))
}

/// One member's hashing: its path, how the read ended, and what it hashed to.
type Hashed<'m> = (&'m str, Result<(), Problem>, Digests);

/// Hashes members on all cores, largest first from one shared queue: each worker takes the
/// next file when it is free, so one big file does not finish last on its own. (Splitting
/// the sorted list between workers, as a plain parallel iterator does, would hand one
/// worker nearly all the bytes.)
fn hash_members<'m>(store: &dyn Store, mut rest: Vec<&'m Member>, plan: &Plan) -> Vec<Hashed<'m>> {
    rest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    let next = AtomicUsize::new(0);
    (0..rest.len())
        .into_par_iter()
        .with_max_len(1)
        .filter_map(|_| {
            // Every task takes the next file in the queue, not "its" file: so whichever
            // worker is free takes the largest file left.
            let m = rest.get(next.fetch_add(1, Ordering::Relaxed))?;
            let mut h = Hashers::new(plan.algos_for(&m.path));
            let r = WORKER_BUFFERS.with(|cell| match cell.try_borrow_mut() {
                Ok(mut bufs) => store.stream(m, &mut bufs, &mut |b| h.update(b)),
                Err(_) => store.stream(m, &mut Buffers::new(), &mut |b| h.update(b)),
            });
            Some((m.path.as_str(), r, h.finish()))
        })
        .collect()
}

/// Keeps the digests of what was read to the end; reports what was not. Returns the soft
/// problems (read to the end, only a check value disagreed), reported later only if no
/// comparison names the file.
fn record_hashed<'m>(
    hashed: Vec<Hashed<'m>>,
    digests: &mut HashMap<&'m str, Digests>,
    found: &mut Found,
) -> Vec<(String, Problem)> {
    let mut soft = Vec::new();
    for (path, r, d) in hashed {
        match r {
            Ok(()) => {
                digests.insert(path, d);
            }
            Err(p) if p.soft => {
                digests.insert(path, d);
                soft.push((path.to_string(), p));
            }
            Err(p) => found.not_read(p.kind, path, p.message),
        }
    }
    soft
}

/// Parses the manifests of algorithms evpack checks, dropping each text once parsed (a
/// 20,000-file manifest is 2 MB). Returns the payload manifests and the tag manifests,
/// each in algorithm order; says so when no payload manifest can be checked.
fn parse_manifests(
    texts: &mut HashMap<String, Vec<u8>>,
    found: &mut Found,
) -> (Vec<ChecksumManifest>, Vec<ChecksumManifest>) {
    let mut manifests = Vec::new();
    let mut tagmanifests = Vec::new();
    let mut files: Vec<String> = texts
        .keys()
        .filter(|p| bagit::manifest_name(p).is_some())
        .cloned()
        .collect();
    files.sort();
    for path in &files {
        let Some((tag, algo)) =
            bagit::manifest_name(path).and_then(|(tag, alg)| Some((tag, Algo::from_name(alg)?)))
        else {
            continue;
        };
        let Some(text) = texts.remove(path) else {
            continue;
        };
        let m = parse_manifest(path, algo, &text, tag, &mut found.findings);
        if tag {
            tagmanifests.push(m);
        } else {
            manifests.push(m);
        }
    }
    manifests.sort_by_key(|m| m.algo);
    tagmanifests.sort_by_key(|m| m.algo);
    let payload_manifest_flagged = found
        .flagged
        .iter()
        .any(|p| bagit::manifest_name(p).is_some_and(|(t, _)| !t));
    if manifests.is_empty() && !payload_manifest_flagged {
        found.push(Finding::new(
            Kind::Tag,
            bagit::MANIFEST_SHA256,
            "no payload manifest evpack can check (manifest-sha256.txt or manifest-sha512.txt)",
        ));
    }
    (manifests, tagmanifests)
}

/// One side of the bag: the payload against its manifests, or the tag files against the
/// tag manifests. The comparison is the same; only the words differ.
struct Side {
    /// The kind of a digest mismatch.
    differs: Kind,
    /// Said after "<alg> differs from <manifest>".
    differs_why: &'static str,
    /// Said of a present file that a manifest does not list, before the manifests' names.
    unlisted: &'static str,
}

const PAYLOAD: Side = Side {
    differs: Kind::Modified,
    differs_why: ": the file is not as built",
    unlisted: "in the payload, not listed in",
};

const TAGS: Side = Side {
    differs: Kind::Tag,
    differs_why: "",
    unlisted: "tag file not listed in",
};

/// Every file the manifests list is present (`lookup`) with the listed digest, and every
/// file in `present` is listed in every manifest. Each file is named once, however many
/// manifests disagree with it; files in `skip` (already reported) are not named again.
/// Returns the paths named.
fn compare<'a>(
    side: &Side,
    manifests: &[ChecksumManifest],
    lookup: &dyn Fn(&str) -> Option<&'a Digests>,
    present: impl Iterator<Item = &'a str>,
    skip: &HashSet<String>,
    findings: &mut Vec<Finding>,
) -> BTreeSet<String> {
    let mut named: BTreeSet<String> = BTreeSet::new();
    for m in manifests {
        for (path, want) in &m.entries {
            if skip.contains(path) || named.contains(path) {
                continue;
            }
            let finding = match lookup(path) {
                None => Finding::new(
                    Kind::Missing,
                    path.clone(),
                    format!(
                        "listed in {}, not in the pack",
                        listing(manifests, path, true).join(" and ")
                    ),
                ),
                Some(d) => match d.get(m.algo) {
                    Some(found) if found != *want => Finding::new(
                        side.differs,
                        path.clone(),
                        format!(
                            "{} differs from {}{}",
                            m.algo.name(),
                            m.file,
                            side.differs_why
                        ),
                    )
                    .values(m.algo.name(), want.clone(), found),
                    _ => continue,
                },
            };
            findings.push(finding);
            named.insert(path.clone());
        }
    }
    for path in present {
        if named.contains(path) {
            continue;
        }
        let lacking = listing(manifests, path, false);
        if !lacking.is_empty() {
            findings.push(Finding::new(
                Kind::Unexpected,
                path,
                format!("{} {}", side.unlisted, lacking.join(" or ")),
            ));
            named.insert(path.to_string());
        }
    }
    named
}

/// The manifests (by file name) that list `path` (`lists`), or that do not.
fn listing<'m>(manifests: &'m [ChecksumManifest], path: &str, lists: bool) -> Vec<&'m str> {
    manifests
        .iter()
        .filter(|m| m.entries.contains_key(path) == lists)
        .map(|m| m.file.as_str())
        .collect()
}

/// Bytes and files of the payload as read.
fn payload_size(payload: &BTreeMap<&str, &Digests>) -> (u64, u64) {
    (payload.values().map(|d| d.size).sum(), payload.len() as u64)
}

/// The Payload-Oxum of what the pack holds: the bytes read, plus the declared size of the
/// payload files that were not read.
fn pack_oxum(
    members: &[Member],
    payload: &BTreeMap<&str, &Digests>,
    flagged_sizes: &[(String, u64)],
) -> (u64, u64) {
    let (mut bytes, mut files) = payload_size(payload);
    let unread = members
        .iter()
        .filter(|m| !payload.contains_key(m.path.as_str()))
        .map(|m| (m.path.as_str(), m.size))
        .chain(flagged_sizes.iter().map(|(p, s)| (p.as_str(), *s)))
        .filter(|(p, _)| bagit::is_payload(p));
    for (_, size) in unread {
        bytes = bytes.saturating_add(size);
        files += 1;
    }
    (bytes, files)
}

/// Checks `bag-info.txt` and that its Payload-Oxum, if any, is `oxum` (bytes, files).
fn check_bag_info_and_oxum(text: &[u8], oxum: (u64, u64), findings: &mut Vec<Finding>) {
    let Some(said) = check_bag_info(text, findings) else {
        return;
    };
    if said != oxum {
        findings.push(
            Finding::new(
                Kind::Tag,
                bagit::BAG_INFO,
                format!(
                    "Payload-Oxum says {} bytes in {} files, the payload has {} bytes in {} files",
                    said.0, said.1, oxum.0, oxum.1
                ),
            )
            .values(
                "Payload-Oxum",
                bagit::payload_oxum(said.0, said.1),
                bagit::payload_oxum(oxum.0, oxum.1),
            ),
        );
    }
}

/// Splits a tag file into lines (LF or CRLF), 1-based, without a final empty line.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(move |_| !text.is_empty())
}

fn utf8<'a>(path: &str, bytes: &'a [u8], findings: &mut Vec<Finding>) -> Option<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(e) => {
            findings.push(Finding::new(
                Kind::Tag,
                path,
                format!("not valid UTF-8 (at byte {}); not checked", e.valid_up_to()),
            ));
            None
        }
    }
}

fn check_bagit_txt(bytes: &[u8], findings: &mut Vec<Finding>) {
    let Some(text) = utf8("bagit.txt", bytes, findings) else {
        return;
    };
    let mut bad = |line: usize, what: String| {
        findings.push(Finding::new(
            Kind::Tag,
            "bagit.txt",
            format!("line {line}: {what}"),
        ));
    };
    let all: Vec<(usize, &str)> = lines(text).collect();
    let version = all
        .first()
        .and_then(|(_, l)| l.strip_prefix("BagIt-Version: "));
    match version {
        Some(v) if is_version(v) => {}
        _ => bad(
            1,
            format!(
                "expected `BagIt-Version: M.N`, found `{}`",
                crate::util::printable(all.first().map_or("", |(_, l)| l))
            ),
        ),
    }
    match all.get(1).map(|(_, l)| l) {
        Some(l)
            if l.strip_prefix("Tag-File-Character-Encoding: ")
                .is_some_and(|e| !e.trim().is_empty()) => {}
        found => bad(
            2,
            format!(
                "expected `Tag-File-Character-Encoding: UTF-8`, found `{}`",
                crate::util::printable(found.copied().unwrap_or(""))
            ),
        ),
    }
    for (n, l) in all.iter().skip(2) {
        if !l.is_empty() {
            bad(
                *n,
                format!("unexpected line `{}`", crate::util::printable(l)),
            );
        }
    }
}

fn is_version(v: &str) -> bool {
    let mut parts = v.split('.');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// Checks `bag-info.txt` lines and returns the Payload-Oxum (bytes, files) if there is one
/// well-formed.
fn check_bag_info(bytes: &[u8], findings: &mut Vec<Finding>) -> Option<(u64, u64)> {
    let text = utf8("bag-info.txt", bytes, findings)?;
    let mut oxums = Vec::new();
    for (n, line) in lines(text) {
        if line.starts_with([' ', '\t']) || line.is_empty() {
            // A continuation of the previous value (RFC 8493 2.2.2), or a blank line.
            continue;
        }
        match line.split_once(':') {
            Some((label, value)) if !label.trim().is_empty() => {
                if label.trim() == "Payload-Oxum" {
                    oxums.push((n, value.trim().to_string()));
                }
            }
            _ => findings.push(Finding::new(
                Kind::Tag,
                "bag-info.txt",
                format!(
                    "line {n}: not a `Label: value` line: `{}`",
                    crate::util::printable(line)
                ),
            )),
        }
    }
    if oxums.len() > 1 {
        findings.push(Finding::new(
            Kind::Tag,
            "bag-info.txt",
            format!("Payload-Oxum appears {} times", oxums.len()),
        ));
        return None;
    }
    let (n, value) = oxums.pop()?;
    let parsed = value
        .split_once('.')
        .and_then(|(b, f)| Some((b.parse::<u64>().ok()?, f.parse::<u64>().ok()?)));
    if parsed.is_none() {
        findings.push(Finding::new(
            Kind::Tag,
            "bag-info.txt",
            format!(
                "line {n}: Payload-Oxum `{}` is not `<bytes>.<files>`",
                crate::util::printable(&value)
            ),
        ));
    }
    parsed
}

/// Parses a manifest; malformed lines, duplicates and paths in the wrong place are findings.
fn parse_manifest(
    file: &str,
    algo: Algo,
    bytes: &[u8],
    tag: bool,
    findings: &mut Vec<Finding>,
) -> ChecksumManifest {
    let mut out = ChecksumManifest {
        file: file.to_string(),
        algo,
        entries: BTreeMap::new(),
    };
    let Some(text) = utf8(file, bytes, findings) else {
        return out;
    };
    let mut bad = |n: usize, what: String| {
        findings.push(Finding::new(Kind::Tag, file, format!("line {n}: {what}")));
    };
    for (n, line) in lines(text) {
        if line.trim().is_empty() {
            continue;
        }
        let (digest, path) = match manifest_line(line, algo, tag) {
            Ok(parsed) => parsed,
            Err(what) => {
                bad(n, what);
                continue;
            }
        };
        if out.entries.insert(path.clone(), digest).is_some() {
            bad(
                n,
                format!("lists `{}` a second time", crate::util::printable(&path)),
            );
        }
    }
    out
}

/// One manifest line as (digest, path), or what is wrong with it.
fn manifest_line(line: &str, algo: Algo, tag: bool) -> Result<(String, String), String> {
    let printable = crate::util::printable;
    let Some((digest, path)) = bagit::parse_manifest_line(line) else {
        return Err(format!(
            "malformed (expected `<{}> <path>`): `{}`",
            algo.name(),
            printable(line)
        ));
    };
    if digest.len() != algo.hex_len() {
        return Err(format!(
            "a {} digest has {} hex digits, this one has {}",
            algo.name(),
            algo.hex_len(),
            digest.len()
        ));
    }
    if super::zipstore::unsafe_name(&path).is_some()
        || path.split('/').any(|c| c == "." || c.is_empty())
    {
        return Err(format!("unsafe or non-normal path `{}`", printable(&path)));
    }
    if !tag && !bagit::is_payload(&path) {
        return Err(format!(
            "lists `{}`, which is not under data/",
            printable(&path)
        ));
    }
    Ok((digest, path))
}

/// `pack.json` against the payload as read: every file it lists for a requirement, and
/// every file in its `payload` array, is in the payload with the same SHA-256 and size; and
/// every payload file is in its `payload` array. Files already named by another finding are
/// not named again.
///
/// `pack.json` is read into typed structs ([`bagit::PackJsonRead`]) rather than a
/// `serde_json::Value`, borrowing its strings from the file's bytes: a 20,000-file pack's
/// JSON is ~11 MB, and a `Value` tree (or owned copies of every path) would cost several
/// times that. Everything else is skipped while parsing.
fn check_pack_json(
    bytes: &[u8],
    payload: &BTreeMap<&str, &Digests>,
    named: &BTreeSet<String>,
    flagged: &HashSet<String>,
    findings: &mut Vec<Finding>,
) {
    let Some(doc) = parse_pack_json(bytes, findings) else {
        return;
    };
    let mut claims = Claims {
        payload,
        named,
        flagged,
        findings,
    };
    let listed = claims.payload_list(doc.payload.as_deref());
    claims.requirement_files(&doc.areas, &listed);
    for path in payload.keys() {
        if !listed.contains(*path) && !claims.skip(path) {
            claims.say(*path, "in the payload, not in pack.json's payload list");
        }
    }
}

/// Parses `pack.json` and checks it is an evpack pack's; `None` (with a finding) if not.
fn parse_pack_json<'b>(
    bytes: &'b [u8],
    findings: &mut Vec<Finding>,
) -> Option<bagit::PackJsonRead<'b>> {
    let mut say = |msg: String| {
        findings.push(Finding::new(Kind::Consistency, bagit::PACK_JSON, msg));
    };
    let doc = match serde_json::from_slice::<bagit::PackJsonRead>(bytes) {
        Ok(v) => v,
        Err(e) => {
            say(format!(
                "not valid pack JSON: {}",
                crate::util::printable(&e.to_string())
            ));
            return None;
        }
    };
    let schema = doc.pack_schema.as_deref();
    if schema != Some(bagit::PACK_SCHEMA) {
        say(format!(
            "pack_schema is {}, expected {}",
            schema.map_or("absent".to_string(), |s| format!(
                "`{}`",
                crate::util::printable(s)
            )),
            bagit::PACK_SCHEMA
        ));
        return None;
    }
    Some(doc)
}

/// The claims `pack.json` makes about payload files, judged against what was read. The same
/// finding from several requirements is merged when the report is assembled.
struct Claims<'a> {
    payload: &'a BTreeMap<&'a str, &'a Digests>,
    named: &'a BTreeSet<String>,
    flagged: &'a HashSet<String>,
    findings: &'a mut Vec<Finding>,
}

impl Claims<'_> {
    /// Already named by another finding, or not read.
    fn skip(&self, path: &str) -> bool {
        self.named.contains(path) || self.flagged.contains(path)
    }

    fn say(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.findings
            .push(Finding::new(Kind::Consistency, path, message));
    }

    /// What is wrong with one claim (`who` says whose: the payload list, a requirement).
    fn judge(&self, path: &str, sha: Option<&str>, size: Option<u64>, who: &str) -> Option<String> {
        if self.skip(path) {
            return None;
        }
        let Some(d) = self.payload.get(path) else {
            return Some(format!("pack.json lists it ({who}), not in the payload"));
        };
        let found = d.get(Algo::Sha256).unwrap_or_default();
        match sha.map(str::to_ascii_lowercase) {
            None => Some(format!("pack.json lists it ({who}) without a sha256")),
            Some(s) if s != found => Some(format!(
                "pack.json ({who}) gives sha256 {s}, the payload file has {found}"
            )),
            Some(_) => match size {
                Some(n) if n != d.size => Some(format!(
                    "pack.json ({who}) gives {n} bytes, the payload file has {}",
                    d.size
                )),
                _ => None,
            },
        }
    }

    /// Judges the `payload` array; returns the paths it lists.
    fn payload_list(&mut self, items: Option<&[bagit::PackFileRead]>) -> BTreeSet<String> {
        let mut listed = BTreeSet::new();
        let Some(items) = items else {
            self.say(bagit::PACK_JSON, "has no `payload` array");
            return listed;
        };
        for (i, item) in items.iter().enumerate() {
            let Some(path) = item.path.as_deref() else {
                self.say(bagit::PACK_JSON, format!("payload[{i}] has no path"));
                continue;
            };
            listed.insert(path.to_string());
            if item.size.is_none() && !self.skip(path) {
                self.say(path, "pack.json lists it (its payload list) without a size");
            }
            let who = "its payload list";
            if let Some(msg) = self.judge(path, item.sha256.as_deref(), item.size, who) {
                self.say(path, msg);
            }
        }
        listed
    }

    /// Judges every file a requirement lists (paths relative to `data/`), which must also
    /// be in the payload list.
    fn requirement_files(&mut self, areas: &[bagit::PackAreaRead], listed: &BTreeSet<String>) {
        for req in areas.iter().flat_map(|a| &a.requirements) {
            let id = req.id.as_deref().unwrap_or("?");
            for f in &req.files {
                let Some(rel) = f.path.as_deref() else {
                    self.say(
                        bagit::PACK_JSON,
                        format!("requirement {id} lists a file without a path"),
                    );
                    continue;
                };
                let path = format!("data/{rel}");
                if !listed.contains(&path) && !self.skip(&path) {
                    self.say(
                        path.clone(),
                        format!(
                            "pack.json lists it for requirement {id} but not in its payload list"
                        ),
                    );
                }
                let who = format!("requirement {id}");
                if let Some(msg) = self.judge(&path, f.sha256.as_deref(), f.size, &who) {
                    self.say(path, msg);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bagit_txt_rules() {
        let mut f = Vec::new();
        check_bagit_txt(bagit::BAGIT_TXT.as_bytes(), &mut f);
        check_bagit_txt(
            b"BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8\r\n",
            &mut f,
        );
        assert!(f.is_empty(), "{f:?}");
        check_bagit_txt(
            b"BagIt-Version: one\nTag-File-Character-Encoding: UTF-8\nX: y\n",
            &mut f,
        );
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn bag_info_oxum() {
        let mut f = Vec::new();
        assert_eq!(
            check_bag_info(
                b"Source-Organization: Devon\n  County\nPayload-Oxum: 12.3\n",
                &mut f
            ),
            Some((12, 3))
        );
        assert!(f.is_empty());
        assert_eq!(
            check_bag_info(b"Payload-Oxum: twelve\nno colon\n", &mut f),
            None
        );
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn manifest_lines() {
        let mut f = Vec::new();
        let d = "a".repeat(64);
        let text = format!("{d}  data/a b\n{d} data/c%0Ad\nzzz data/x\n{d}  ../x\n{d}  bag-info.txt\n{d}  data/a b\n");
        let m = parse_manifest(
            "manifest-sha256.txt",
            Algo::Sha256,
            text.as_bytes(),
            false,
            &mut f,
        );
        assert_eq!(m.entries.len(), 2);
        assert!(m.entries.contains_key("data/c\nd"));
        assert_eq!(f.len(), 4, "{f:?}");
    }
}
