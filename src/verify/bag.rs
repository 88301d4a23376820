//! The BagIt checks (RFC 8493 section 3) over any [`Store`], and what an evpack pack adds:
//! `pack.json` agrees with the payload ([`super::packjson`]), and every tag file evpack
//! writes is there and listed in the tag manifest. Every check runs whatever the others
//! found, so one run names every difference.
//!
//! # Memory
//!
//! Payload files, and tag files that nothing parses (`index.html`, a manifest of an
//! algorithm evpack does not check), only stream through the hashers. The tag files that
//! are parsed (`bagit.txt`, `bag-info.txt`, the sha256/sha512 manifests and tag manifests,
//! `pack.json`) are read whole, one at a time, parsed and dropped, within one budget for
//! them all: [`TAG_BYTES_BASE`] plus [`TAG_BYTES_PER_FILE`] for each payload file the
//! container lists. So any one tag file up to 64 MiB is read in any pack, a pack of
//! 200,000 files may carry a 121 MB `pack.json`, and what a hostile pack makes the verifier
//! hold grows with the entries it declares (each costs it a directory record), never with
//! what its data inflates to. What parsing keeps is bounded too: a tag file names at most
//! [`NAMED_PER_TAG_FILE`] problems (plus one per payload file) one by one and counts the
//! rest, and a manifest keeps at most that many lines for files that are not in the pack.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::findings::{Capped, Finding, Kind};
use super::hashing::{Algo, Algos, Digests, Hashers};
use super::packjson::{self, MAX_PATH_BYTES};
use super::store::{Buffers, Listing, Member, Problem, Store};
use super::tagtext::{self, TagEncoding};
use crate::bagit;

/// Tag bytes read whole in any pack: today's evpack packs need a few megabytes, and this
/// is the largest single tag file earlier versions read (a `pack.json` near it lists
/// about 100,000 files).
pub const TAG_BYTES_BASE: u64 = 64 * 1024 * 1024;

/// Tag bytes read whole for each payload file the container lists: a manifest line is
/// about 100 bytes per algorithm and `pack.json` about 600 bytes a file (121 MB for
/// 200,000 files), so a real pack stays well inside this.
pub const TAG_BYTES_PER_FILE: u64 = 2 * 1024;

/// Problems one tag file names one by one (malformed lines, files it lists that are not in
/// the pack, `pack.json` claims), beyond one per payload file; the rest are counted.
pub const NAMED_PER_TAG_FILE: usize = 10_000;

/// What the checks concluded.
#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub tag_files: u64,
    /// Algorithms checked, in order.
    pub algorithms: Vec<&'static str>,
    /// Things worth saying that are not differences (a manifest of an unknown algorithm
    /// not checked).
    pub notes: Vec<String>,
    /// What an auditor should weigh though nothing differs (a bag whose strongest
    /// manifest is md5 or sha1). Never findings: they do not change the verdict.
    pub warnings: Vec<String>,
}

/// A BagIt checksum manifest (`manifest-<alg>.txt`) or tag manifest
/// (`tagmanifest-<alg>.txt`), parsed: path -> hex digest, and its file name.
struct ChecksumManifest {
    file: String,
    algo: Algo,
    entries: BTreeMap<String, String>,
    /// Lines for files not in the pack beyond the [`NAMED_PER_TAG_FILE`] kept.
    absent_more: u64,
    /// Paths read as written because decoding them named no file and the path as written
    /// did (a tool that writes `%` raw); the first of them, and how many.
    raw_paths: Option<(String, u64)>,
    /// Paths written with a leading `./` or a doubled `/`: the first, and how many.
    tidied: Option<(String, u64)>,
    /// Paths listed twice with the same digest: the first, and how many.
    repeated: Option<(String, u64)>,
}

impl ChecksumManifest {
    /// Adds a line's path and digest. A second line for a path with the same digest is
    /// untidy (counted); with another digest it replaces the first, and the path is
    /// returned to be reported: the manifest contradicts itself.
    fn add(&mut self, path: String, digest: String) -> Option<String> {
        match self.entries.entry(path) {
            Entry::Occupied(e) if *e.get() == digest => {
                count_first(&mut self.repeated, e.key());
                None
            }
            Entry::Occupied(mut e) => {
                e.insert(digest);
                Some(e.key().clone())
            }
            Entry::Vacant(e) => {
                e.insert(digest);
                None
            }
        }
    }
}

/// Counts one more of something, keeping the first example.
fn count_first(slot: &mut Option<(String, u64)>, path: &str) {
    slot.get_or_insert_with(|| (path.to_string(), 0)).1 += 1;
}

impl ChecksumManifest {
    /// What a reader should know about how this manifest was read.
    fn note(&self) -> Option<String> {
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
    fn warnings(&self) -> Vec<String> {
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

/// What every phase adds to: the findings so far, and the paths already reported and not
/// read, about which the later phases say nothing more (each problem is named once).
struct Found {
    findings: Vec<Finding>,
    flagged: HashSet<String>,
    /// System files no manifest lists (see [`super::store::is_os_litter`]).
    litter: Vec<String>,
    /// `fetch.txt`: files the bag leaves to be fetched, and from where.
    fetch: HashMap<String, String>,
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
    /// Payload files the container lists.
    payload_files: u64,
}

impl Plan {
    fn of(members: &[Member]) -> Plan {
        let mut plan = Plan {
            payload: Algos::default(),
            tag: Algos::default(),
            payload_hash: Algos::default(),
            unsupported: BTreeSet::new(),
            payload_files: members
                .iter()
                .filter(|m| bagit::is_payload(&m.path))
                .count() as u64,
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

    /// Problems one tag file may name one by one.
    fn named_cap(&self) -> usize {
        NAMED_PER_TAG_FILE.saturating_add(usize::try_from(self.payload_files).unwrap_or(usize::MAX))
    }

    fn notes(&self) -> Vec<String> {
        let known: Vec<&str> = Algo::ALL.iter().map(|a| a.name()).collect();
        self.unsupported
            .iter()
            .map(|f| {
                format!(
                    "{f} not checked: evpack checks {} manifests",
                    known.join(", ")
                )
            })
            .collect()
    }

    /// A bag checked only by md5 or sha1 is intact as far as accidents go, and no further.
    fn warnings(&self) -> Vec<String> {
        match self.payload.strongest() {
            Some(a) if a.is_weak() => vec![format!(
                "the strongest payload manifest is {}: {} detects accidental damage, not deliberate tampering (anyone can make a different file with the same digest); ask for a bag with a sha256 or sha512 manifest",
                a.name(),
                a.name()
            )],
            _ => Vec::new(),
        }
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

/// Where a tag file the checks parse comes in the reading order (`None`: it is not parsed,
/// only hashed). The budget is spent in this order, so `pack.json`, which is checked last,
/// is also read last, when every other text has been dropped.
fn parse_order(path: &str) -> Option<u8> {
    match path {
        bagit::BAGIT => Some(0),
        bagit::BAG_INFO | bagit::FETCH_TXT => Some(1),
        bagit::PACK_JSON => Some(4),
        _ => match bagit::manifest_name(path) {
            Some((tag, alg)) if Algo::from_name(alg).is_some() => Some(if tag { 3 } else { 2 }),
            _ => None,
        },
    }
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
        warnings: listed_warnings,
        litter,
        notes: listed_notes,
        ..
    } = listing;
    let mut found = Found {
        findings,
        flagged,
        litter,
        fetch: HashMap::new(),
    };
    let plan = Plan::of(&members);

    // Hash everything but the tag files that are parsed, on all cores; then read those one
    // by one, knowing what is in the pack.
    let (mut parsed, rest): (Vec<&Member>, Vec<&Member>) =
        members.iter().partition(|m| parse_order(&m.path).is_some());
    parsed.sort_by(|a, b| (parse_order(&a.path), &a.path).cmp(&(parse_order(&b.path), &b.path)));
    // Keyed by the members' own paths: one allocation fewer per file in a 20,000-file pack.
    let mut digests: HashMap<&str, Digests> = HashMap::new();
    let soft = record_hashed(hash_members(store, rest, &plan), &mut digests, &mut found);
    let pack = InPack::of(&members, &flagged_sizes);
    let oxum = pack_oxum(&members, &digests, &flagged_sizes);
    let mut reader = TagReader::new(store, &plan);
    let mut tags = read_tags(&mut reader, &parsed, &pack, oxum, &mut digests, &mut found);

    let payload: BTreeMap<&str, &Digests> = digests
        .iter()
        .filter(|(p, _)| bagit::is_payload(p))
        .map(|(p, d)| (*p, d))
        .collect();
    let (payload_bytes, payload_files) = payload_size(&payload);
    found.fetch = std::mem::take(&mut tags.fetch);
    let named = compare_payload(&tags.manifests, &payload, soft, &mut found);
    compare_tags(&tags.tagmanifests, &digests, &mut found);
    if let Some(text) = tags.pack_json.take() {
        let against = packjson::Payload {
            read: &payload,
            named: &named,
            flagged: &found.flagged,
        };
        let evpack = packjson::check(&text, &against, plan.named_cap(), &mut found.findings);
        drop(text);
        if evpack {
            check_evpack_tag_files(&tags.tagmanifests, &digests, &mut found);
        }
    }

    Checked {
        findings: found.findings,
        payload_files,
        payload_bytes,
        tag_files: digests.keys().filter(|p| !bagit::is_payload(p)).count() as u64,
        algorithms: plan.checked(),
        notes: plan
            .notes()
            .into_iter()
            .chain(tags.all().filter_map(ChecksumManifest::note))
            .chain(listed_notes)
            .collect(),
        warnings: plan
            .warnings()
            .into_iter()
            .chain(listed_warnings)
            .chain(super::store::litter_warning(&found.litter))
            .chain(tags.all().flat_map(ChecksumManifest::warnings))
            .collect(),
    }
}

/// What the parsed tag files gave: the manifests, and `pack.json`'s text (checked once the
/// payload has been compared).
struct Tags {
    manifests: Vec<ChecksumManifest>,
    tagmanifests: Vec<ChecksumManifest>,
    pack_json: Option<Vec<u8>>,
    /// `fetch.txt`: path -> where the bag says to fetch it from.
    fetch: HashMap<String, String>,
}

impl Tags {
    /// The manifests and the tag manifests.
    fn all(&self) -> impl Iterator<Item = &ChecksumManifest> {
        self.manifests.iter().chain(&self.tagmanifests)
    }
}

/// Reads and parses the tag files the checks parse, in [`parse_order`]; each text is
/// dropped once parsed. `oxum` is what the payload holds, for `bag-info.txt`.
fn read_tags<'m>(
    reader: &mut TagReader,
    parsed: &[&'m Member],
    pack: &InPack,
    oxum: Oxum,
    digests: &mut HashMap<&'m str, Digests>,
    found: &mut Found,
) -> Tags {
    let mut tags = Tags {
        manifests: Vec::new(),
        tagmanifests: Vec::new(),
        pack_json: None,
        fetch: HashMap::new(),
    };
    let mut saw_bagit = false;
    // `bagit.txt` is read first (see `parse_order`) and says how the others are encoded.
    let mut enc = TagEncoding::Utf8;
    for m in parsed {
        let Some(text) = reader.read(m, digests, found) else {
            continue;
        };
        let mut out = Capped::new(&mut found.findings, &m.path, reader.named_cap);
        match m.path.as_str() {
            bagit::BAGIT => {
                saw_bagit = true;
                enc = check_bagit_txt(&text, &mut out);
            }
            bagit::BAG_INFO => check_bag_info_and_oxum(&text, enc, oxum, &mut out),
            bagit::PACK_JSON => tags.pack_json = Some(text),
            bagit::FETCH_TXT => tags.fetch = parse_fetch(&text, enc, &mut out),
            path => {
                let Some((tag, algo)) = bagit::manifest_name(path)
                    .and_then(|(tag, alg)| Some((tag, Algo::from_name(alg)?)))
                else {
                    continue;
                };
                let present = |p: &str| pack.has(p);
                let parsed = parse_manifest(path, algo, &text, enc, tag, &present, &mut out);
                if tag {
                    tags.tagmanifests.push(parsed);
                } else {
                    tags.manifests.push(parsed);
                }
            }
        }
    }
    if !saw_bagit && !found.flagged.contains(bagit::BAGIT) {
        found.push(Finding::new(Kind::Missing, bagit::BAGIT, "missing"));
    }
    let manifest_flagged = found
        .flagged
        .iter()
        .any(|p| bagit::manifest_name(p).is_some_and(|(t, _)| !t));
    if tags.manifests.is_empty() && !manifest_flagged {
        found.push(Finding::new(
            Kind::Tag,
            bagit::MANIFEST_SHA256,
            "no payload manifest evpack can check (manifest-<md5|sha1|sha224|sha256|sha384|sha512>.txt)",
        ));
    }
    tags
}

/// The paths in the pack, read or not: whether a manifest line names a file that is there.
struct InPack<'m>(Vec<&'m str>);

impl<'m> InPack<'m> {
    fn of(members: &'m [Member], flagged_sizes: &'m [(String, u64)]) -> InPack<'m> {
        let mut paths: Vec<&str> = members
            .iter()
            .map(|m| m.path.as_str())
            .chain(flagged_sizes.iter().map(|(p, _)| p.as_str()))
            .collect();
        paths.sort_unstable();
        InPack(paths)
    }

    fn has(&self, path: &str) -> bool {
        self.0.binary_search(&path).is_ok()
    }
}

/// Reads the tag files the checks parse, each whole, within one budget for them all (see
/// the module docs); each is hashed on the way like every other member.
struct TagReader<'s> {
    store: &'s dyn Store,
    algos: Algos,
    total: u64,
    left: u64,
    payload_files: u64,
    named_cap: usize,
    bufs: Buffers,
}

impl<'s> TagReader<'s> {
    fn new(store: &'s dyn Store, plan: &Plan) -> TagReader<'s> {
        let total =
            TAG_BYTES_BASE.saturating_add(TAG_BYTES_PER_FILE.saturating_mul(plan.payload_files));
        TagReader {
            store,
            algos: plan.tag,
            total,
            left: total,
            payload_files: plan.payload_files,
            named_cap: plan.named_cap(),
            bufs: Buffers::new(),
        }
    }

    /// The text of `m`, its digests recorded; `None` (reported, and `m` flagged) when it
    /// does not fit what is left of the budget or cannot be read.
    fn read<'m>(
        &mut self,
        m: &'m Member,
        digests: &mut HashMap<&'m str, Digests>,
        found: &mut Found,
    ) -> Option<Vec<u8>> {
        match self.read_whole(m) {
            Ok((text, d)) => {
                digests.insert(m.path.as_str(), d);
                Some(text)
            }
            Err(p) => {
                found.not_read(p.kind, &m.path, p.message);
                None
            }
        }
    }

    fn read_whole(&mut self, m: &Member) -> Result<(Vec<u8>, Digests), Problem> {
        let room = self.left;
        if m.size > room {
            return Err(Problem::new(
                Kind::Tag,
                format!(
                    "{} bytes: more than the tag files of a pack of {} payload files may hold \
                     ({} bytes in all, {room} left); not read",
                    m.size, self.payload_files, self.total
                ),
            ));
        }
        let mut text = Vec::with_capacity(usize::try_from(m.size).unwrap_or(0));
        let mut h = Hashers::new(self.algos);
        let mut over = false;
        // A folder file can grow after it was listed: stop keeping bytes at the budget.
        self.store.stream(m, &mut self.bufs, &mut |b| {
            if text.len() as u64 + b.len() as u64 <= room {
                text.extend_from_slice(b);
            } else {
                over = true;
            }
            h.update(b);
        })?;
        if over {
            return Err(Problem::new(
                Kind::Tag,
                "grew past the tag file budget while it was read",
            ));
        }
        self.left -= text.len() as u64;
        Ok((text, h.finish()))
    }
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

/// The payload against its manifests (one per algorithm, every one checked); then the soft
/// problems (a CRC that disagrees) of files no comparison named. Returns the paths named.
fn compare_payload(
    manifests: &[ChecksumManifest],
    payload: &BTreeMap<&str, &Digests>,
    soft: Vec<(String, Problem)>,
    found: &mut Found,
) -> BTreeSet<String> {
    let mut named = compare(
        &PAYLOAD,
        manifests,
        &|p| payload.get(p).copied(),
        payload.keys().copied(),
        &found.flagged,
        Out {
            findings: &mut found.findings,
            litter: &mut found.litter,
            fetch: &found.fetch,
        },
    );
    for (path, p) in soft {
        if !named.contains(&path) {
            found.push(Finding::new(p.kind, path.clone(), p.message));
            named.insert(path);
        }
    }
    named
}

/// Tag manifests: every tag file they list, as listed; and, as bagit.py writes them, every
/// tag file but the tag manifests themselves is listed.
fn compare_tags(
    tagmanifests: &[ChecksumManifest],
    digests: &HashMap<&str, Digests>,
    found: &mut Found,
) {
    compare(
        &TAGS,
        tagmanifests,
        &|p| digests.get(p),
        digests
            .keys()
            .copied()
            .filter(|p| !bagit::is_payload(p))
            .filter(|p| !bagit::manifest_name(p).is_some_and(|(tag, _)| tag)),
        &found.flagged,
        Out {
            findings: &mut found.findings,
            litter: &mut found.litter,
            fetch: &found.fetch,
        },
    );
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
    out: Out,
) -> BTreeSet<String> {
    let Out {
        findings,
        litter,
        fetch,
    } = out;
    let mut named: BTreeSet<String> = BTreeSet::new();
    for m in manifests {
        for (path, want) in &m.entries {
            if skip.contains(path) || named.contains(path) {
                continue;
            }
            let finding = match lookup(path) {
                None => missing(manifests, path, fetch),
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
        if m.absent_more > 0 {
            findings.push(Finding::new(
                Kind::Missing,
                m.file.clone(),
                format!(
                    "lists {} more files that are not in the pack (the first {NAMED_PER_TAG_FILE} are named)",
                    m.absent_more
                ),
            ));
        }
    }
    let out = Out {
        findings,
        litter,
        fetch,
    };
    unlisted(side, manifests, present, &mut named, out);
    named
}

/// A file a manifest lists and the pack lacks: to fetch, when `fetch.txt` says where from.
fn missing(manifests: &[ChecksumManifest], path: &str, fetch: &HashMap<String, String>) -> Finding {
    let message = match fetch.get(path) {
        Some(url) => format!(
            "to fetch: fetch.txt says it is at {}; not in the pack, so the bag is incomplete (evpack never fetches)",
            excerpt(url)
        ),
        None => format!(
            "listed in {}, not in the pack",
            which_list(manifests, path, true).join(" and ")
        ),
    };
    Finding::new(Kind::Missing, path, message)
}

/// Files present that some manifest does not list: unexpected, unless no manifest lists it
/// and it is a system file (then harmless, and counted as such).
fn unlisted<'a>(
    side: &Side,
    manifests: &[ChecksumManifest],
    present: impl Iterator<Item = &'a str>,
    named: &mut BTreeSet<String>,
    out: Out,
) {
    for path in present {
        if named.contains(path) {
            continue;
        }
        let lacking = which_list(manifests, path, false);
        if lacking.len() == manifests.len() && super::store::is_os_litter(path) {
            out.litter.push(path.to_string());
            named.insert(path.to_string());
        } else if !lacking.is_empty() {
            out.findings.push(Finding::new(
                Kind::Unexpected,
                path,
                format!("{} {}", side.unlisted, lacking.join(" or ")),
            ));
            named.insert(path.to_string());
        }
    }
}

/// Where a comparison reports: findings, and system files listed nowhere.
struct Out<'a> {
    findings: &'a mut Vec<Finding>,
    litter: &'a mut Vec<String>,
    fetch: &'a HashMap<String, String>,
}

/// The manifests (by file name) that list `path` (`lists`), or that do not.
fn which_list<'m>(manifests: &'m [ChecksumManifest], path: &str, lists: bool) -> Vec<&'m str> {
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
    digests: &HashMap<&str, Digests>,
    flagged_sizes: &[(String, u64)],
) -> Oxum {
    let mut oxum = Oxum::default();
    let read = digests.iter().filter(|(p, _)| bagit::is_payload(p));
    let unread = members
        .iter()
        .filter(|m| !digests.contains_key(m.path.as_str()))
        .map(|m| (m.path.as_str(), m.size))
        .chain(flagged_sizes.iter().map(|(p, s)| (p.as_str(), *s)))
        .filter(|(p, _)| bagit::is_payload(p));
    for (path, size) in read.map(|(p, d)| (*p, d.size)).chain(unread) {
        oxum.all = (oxum.all.0.saturating_add(size), oxum.all.1 + 1);
        if !super::store::is_os_litter(path) {
            oxum.evidence = (oxum.evidence.0.saturating_add(size), oxum.evidence.1 + 1);
        }
    }
    oxum
}

/// The payload's bytes and files, counted with and without system files: a bag made before
/// a Mac or Windows left `.DS_Store` or `Thumbs.db` in it declares the second.
#[derive(Debug, Clone, Copy, Default)]
struct Oxum {
    all: (u64, u64),
    evidence: (u64, u64),
}

/// An evpack pack (its `pack.json` says so) carries every tag file evpack writes, each
/// listed in `tagmanifest-sha256.txt`: only the tag manifest covers the dashboard, the gap
/// register and `pack.json` itself, so without it any of them could be changed unseen.
fn check_evpack_tag_files(
    tagmanifests: &[ChecksumManifest],
    digests: &HashMap<&str, Digests>,
    found: &mut Found,
) {
    let tag_manifest_read = !tagmanifests.is_empty()
        || found
            .flagged
            .iter()
            .any(|p| bagit::manifest_name(p).is_some_and(|(tag, _)| tag));
    for name in bagit::EVPACK_TAG_FILES {
        let named = found.flagged.contains(name)
            || found
                .findings
                .iter()
                .any(|f| f.path.as_deref() == Some(name));
        if named {
            continue;
        }
        if !digests.contains_key(name) {
            found.push(Finding::new(
                Kind::Missing,
                name,
                format!(
                    "not in the pack, and an evpack pack always has it (pack.json says {})",
                    bagit::PACK_SCHEMA
                ),
            ));
        } else if !tag_manifest_read && name != bagit::TAGMANIFEST_SHA256 {
            found.push(Finding::new(
                Kind::Tag,
                name,
                format!(
                    "cannot be checked: an evpack pack lists it in {}, which is missing",
                    bagit::TAGMANIFEST_SHA256
                ),
            ));
        }
    }
}

/// A line or value from a tag file, printable and cut to a length a person reads: a
/// hostile line can be megabytes long.
pub fn excerpt(s: &str) -> String {
    const SHOWN: usize = 200;
    match s.char_indices().nth(SHOWN) {
        None => crate::util::printable(s),
        Some((at, _)) => format!(
            "{}... ({} bytes in all)",
            crate::util::printable(&s[..at]),
            s.len()
        ),
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

/// A tag file's text in the bag's encoding; `None` (a finding) when it is not.
fn text<'a>(
    path: &str,
    bytes: &'a [u8],
    enc: TagEncoding,
    out: &mut Capped,
) -> Option<Cow<'a, str>> {
    tagtext::decode(path, bytes, enc, &mut |f| out.push(f))
}

/// Checks `bagit.txt` (always UTF-8) and returns the encoding it declares for the other
/// tag files: UTF-8 when it names none evpack reads (a finding names it).
fn check_bagit_txt(bytes: &[u8], out: &mut Capped) -> TagEncoding {
    let Some(text) = text(bagit::BAGIT, bytes, TagEncoding::Utf8, out) else {
        return TagEncoding::Utf8;
    };
    let mut declared = TagEncoding::Utf8;
    let mut bad = |line: usize, what: &dyn Fn() -> String| {
        out.push_with(|| Finding::new(Kind::Tag, bagit::BAGIT, format!("line {line}: {}", what())));
    };
    let mut all = lines(&text).map(|(_, l)| l);
    let first = all.next();
    match first.and_then(|l| l.strip_prefix("BagIt-Version: ")) {
        Some(v) if is_version(v) => {}
        _ => bad(1, &|| {
            format!(
                "expected `BagIt-Version: M.N`, found `{}`",
                excerpt(first.unwrap_or(""))
            )
        }),
    }
    match all.next() {
        Some(l)
            if l.strip_prefix("Tag-File-Character-Encoding: ")
                .is_some_and(|e| !e.trim().is_empty()) =>
        {
            let name = l.trim_start_matches("Tag-File-Character-Encoding: ").trim();
            match TagEncoding::named(name) {
                Some(e) => declared = e,
                None => bad(2, &|| {
                    format!(
                        "Tag-File-Character-Encoding `{}` is not one evpack reads (UTF-8, ISO-8859-1 or UTF-16 with a byte-order mark); the tag files are read as UTF-8",
                        excerpt(name)
                    )
                }),
            }
        }
        found => bad(2, &|| {
            format!(
                "expected `Tag-File-Character-Encoding: UTF-8`, found `{}`",
                excerpt(found.unwrap_or(""))
            )
        }),
    }
    for (n, l) in all.enumerate() {
        if !l.is_empty() {
            bad(n + 3, &|| format!("unexpected line `{}`", excerpt(l)));
        }
    }
    declared
}

fn is_version(v: &str) -> bool {
    let mut parts = v.split('.');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// Checks `bag-info.txt` and that its Payload-Oxum, if any, is `oxum` (bytes, files).
fn check_bag_info_and_oxum(text: &[u8], enc: TagEncoding, oxum: Oxum, out: &mut Capped) {
    let Some(said) = check_bag_info(text, enc, out) else {
        return;
    };
    let Oxum {
        all: oxum,
        evidence,
    } = oxum;
    if said != oxum && said != evidence {
        out.push(
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

/// Checks `bag-info.txt` lines and returns the Payload-Oxum (bytes, files) if there is one
/// well-formed.
fn check_bag_info(bytes: &[u8], enc: TagEncoding, out: &mut Capped) -> Option<(u64, u64)> {
    let text = text(bagit::BAG_INFO, bytes, enc, out)?;
    let mut oxums = Vec::new();
    for (n, line) in lines(&text) {
        if line.starts_with([' ', '\t']) || line.is_empty() {
            // A continuation of the previous value (RFC 8493 2.2.2), or a blank line.
            continue;
        }
        match line.split_once(':') {
            Some((label, value)) if !label.trim().is_empty() => {
                if label.trim() == "Payload-Oxum" {
                    oxums.push((n, value.trim()));
                }
            }
            _ => out.push_with(|| {
                Finding::new(
                    Kind::Tag,
                    bagit::BAG_INFO,
                    format!("line {n}: not a `Label: value` line: `{}`", excerpt(line)),
                )
            }),
        }
    }
    if oxums.len() > 1 {
        out.push(Finding::new(
            Kind::Tag,
            bagit::BAG_INFO,
            format!("Payload-Oxum appears {} times", oxums.len()),
        ));
        return None;
    }
    let (n, value) = oxums.pop()?;
    let parsed = value
        .split_once('.')
        .and_then(|(b, f)| Some((b.parse::<u64>().ok()?, f.parse::<u64>().ok()?)));
    if parsed.is_none() {
        out.push(Finding::new(
            Kind::Tag,
            bagit::BAG_INFO,
            format!(
                "line {n}: Payload-Oxum `{}` is not `<bytes>.<files>`",
                excerpt(value)
            ),
        ));
    }
    parsed
}

/// Parses a manifest; malformed lines, duplicates and paths in the wrong place are findings.
/// Lines for files that are not `present` are kept up to [`NAMED_PER_TAG_FILE`] and then
/// only counted.
fn parse_manifest(
    file: &str,
    algo: Algo,
    bytes: &[u8],
    enc: TagEncoding,
    tag: bool,
    present: &dyn Fn(&str) -> bool,
    out: &mut Capped,
) -> ChecksumManifest {
    let mut manifest = ChecksumManifest {
        file: file.to_string(),
        algo,
        entries: BTreeMap::new(),
        absent_more: 0,
        raw_paths: None,
        tidied: None,
        repeated: None,
    };
    let Some(text) = text(file, bytes, enc, out) else {
        return manifest;
    };
    let mut bad = |n: usize, what: &dyn Fn() -> String| {
        out.push_with(|| Finding::new(Kind::Tag, file, format!("line {n}: {}", what())));
    };
    let mut absent = 0usize;
    for (n, line) in lines(&text) {
        if line.trim().is_empty() {
            continue;
        }
        let Read {
            digest,
            path,
            as_written,
            tidied,
        } = match manifest_line(line, algo, tag, present) {
            Ok(parsed) => parsed,
            Err(what) => {
                bad(n, &|| what.describe(line, algo));
                continue;
            }
        };
        if as_written {
            count_first(&mut manifest.raw_paths, &path);
        }
        if tidied {
            count_first(&mut manifest.tidied, &path);
        }
        if !present(&path) {
            if absent >= NAMED_PER_TAG_FILE {
                manifest.absent_more += 1;
                continue;
            }
            absent += 1;
        }
        if let Some(twice) = manifest.add(path, digest) {
            bad(n, &|| {
                format!(
                    "lists `{}` a second time, with another digest",
                    excerpt(&twice)
                )
            });
        }
    }
    manifest
}

/// What is wrong with a manifest line; described only if it is shown.
enum LineProblem {
    LineTooLong(usize),
    Malformed,
    DigestLength(usize),
    PathTooLong(String),
    UnsafePath(String),
    NotPayload(String),
}

impl LineProblem {
    fn describe(&self, line: &str, algo: Algo) -> String {
        match self {
            LineProblem::LineTooLong(n) => format!(
                "a line of {n} bytes, longer than any manifest line: `{}`",
                excerpt(line)
            ),
            LineProblem::Malformed => format!(
                "malformed (expected `<{}> <path>`): `{}`",
                algo.name(),
                excerpt(line)
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

/// `fetch.txt` (RFC 8493 2.2.3): `<url> <length or -> <path>` per line, the path encoded as
/// in manifests. Which files the bag leaves to be fetched, and from where; malformed lines
/// are findings. Nothing is ever fetched.
fn parse_fetch(bytes: &[u8], enc: TagEncoding, out: &mut Capped) -> HashMap<String, String> {
    let mut fetch = HashMap::new();
    let Some(text) = text(bagit::FETCH_TXT, bytes, enc, out) else {
        return fetch;
    };
    for (n, line) in lines(&text) {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, [' ', '\t']);
        let (url, length, path) = (parts.next(), parts.next(), parts.next());
        match (url, length, path) {
            (Some(url), Some(len), Some(path))
                if !url.is_empty()
                    && (len == "-" || len.bytes().all(|b| b.is_ascii_digit()))
                    && !path.trim().is_empty() =>
            {
                fetch.insert(bagit::decode_path(path.trim_start()), url.to_string());
            }
            _ => out.push_with(|| {
                Finding::new(
                    Kind::Tag,
                    bagit::FETCH_TXT,
                    format!(
                        "line {n}: expected `<url> <length> <path>`, found `{}`",
                        excerpt(line)
                    ),
                )
            }),
        }
    }
    fetch
}

/// One manifest line, read.
struct Read {
    digest: String,
    path: String,
    /// The path was taken as written, not decoded.
    as_written: bool,
    /// The line wrote the path with a leading `./` or a doubled `/`.
    tidied: bool,
}

/// One manifest line, or what is wrong with it. The path is decoded, unless only the path
/// as written names a file in the pack (`present`).
fn manifest_line(
    line: &str,
    algo: Algo,
    tag: bool,
    present: &dyn Fn(&str) -> bool,
) -> Result<Read, LineProblem> {
    // A digest, a space and a path whose every byte is percent-encoded, with room to spare.
    const MAX_LINE_BYTES: usize = 3 * MAX_PATH_BYTES + 256;
    if line.len() > MAX_LINE_BYTES {
        return Err(LineProblem::LineTooLong(line.len()));
    }
    let parsed = bagit::parse_manifest_line(line).ok_or(LineProblem::Malformed)?;
    let tidied = parsed.tidied;
    let (digest, path, as_written) = match parsed.raw {
        Some(raw) if !present(&parsed.path) && present(&raw) => (parsed.digest, raw, true),
        _ => (parsed.digest, parsed.path, false),
    };
    if digest.len() != algo.hex_len() {
        return Err(LineProblem::DigestLength(digest.len()));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(LineProblem::PathTooLong(path));
    }
    if super::zipstore::unsafe_name(&path).is_some()
        || path.split('/').any(|c| c == "." || c.is_empty())
    {
        return Err(LineProblem::UnsafePath(path));
    }
    if !tag && !bagit::is_payload(&path) {
        return Err(LineProblem::NotPayload(path));
    }
    Ok(Read {
        digest,
        path,
        as_written,
        tidied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bagit_txt_rules() {
        let mut f = Vec::new();
        {
            let mut out = Capped::new(&mut f, "bagit.txt", 100);
            check_bagit_txt(bagit::BAGIT_TXT.as_bytes(), &mut out);
            check_bagit_txt(
                b"BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8\r\n",
                &mut out,
            );
        }
        assert!(f.is_empty(), "{f:?}");
        {
            let mut out = Capped::new(&mut f, "bagit.txt", 100);
            check_bagit_txt(
                b"BagIt-Version: one\nTag-File-Character-Encoding: UTF-8\nX: y\n",
                &mut out,
            );
        }
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[1].message.starts_with("line 3: "), "{f:?}");
    }

    #[test]
    fn bag_info_oxum() {
        let mut f = Vec::new();
        let mut out = Capped::new(&mut f, "bag-info.txt", 100);
        assert_eq!(
            check_bag_info(
                b"Source-Organization: Devon\n  County\nPayload-Oxum: 12.3\n",
                TagEncoding::Utf8,
                &mut out
            ),
            Some((12, 3))
        );
        assert_eq!(
            check_bag_info(
                b"Payload-Oxum: twelve\nno colon\n",
                TagEncoding::Utf8,
                &mut out
            ),
            None
        );
        drop(out);
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn manifest_lines() {
        let mut f = Vec::new();
        let d = "a".repeat(64);
        let e = "e".repeat(64);
        let text = format!(
            "{d}  data/a b\n{d} data/c%0Ad\nzzz data/x\n{d}  ../x\n{d}  bag-info.txt\n{d}  data/a b\n./data//z\t{d}\n{d}  ./data//z\n{e}  data/a b\n"
        );
        let mut out = Capped::new(&mut f, "manifest-sha256.txt", 100);
        let m = parse_manifest(
            "manifest-sha256.txt",
            Algo::Sha256,
            text.as_bytes(),
            TagEncoding::Utf8,
            false,
            &|_| true,
            &mut out,
        );
        drop(out);
        assert_eq!(m.entries.len(), 3);
        assert!(m.entries.contains_key("data/c\nd"));
        assert!(m.entries.contains_key("data/z"), "`./` and `//` read past");
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
    fn lines_for_absent_files_are_kept_up_to_the_cap() {
        let d = "a".repeat(64);
        let text: String = (0..NAMED_PER_TAG_FILE + 5)
            .map(|i| format!("{d}  data/f{i}\n"))
            .collect();
        let mut f = Vec::new();
        let mut out = Capped::new(&mut f, "manifest-sha256.txt", 100);
        let m = parse_manifest(
            "manifest-sha256.txt",
            Algo::Sha256,
            text.as_bytes(),
            TagEncoding::Utf8,
            false,
            &|p| p == "data/f10004",
            &mut out,
        );
        assert_eq!(m.entries.len(), NAMED_PER_TAG_FILE + 1);
        assert_eq!(m.absent_more, 4);
    }

    #[test]
    fn long_lines_are_cut_when_shown() {
        let shown = excerpt(&"\u{1}".repeat(1_000_000));
        assert!(shown.len() < 2_000, "{}", shown.len());
        assert!(shown.ends_with("(1000000 bytes in all)"));
    }
}
