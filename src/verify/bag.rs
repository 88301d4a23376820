//! The BagIt checks (RFC 8493 section 3) over any [`Store`], and what an evpack pack adds:
//! `pack.json` agrees with the payload ([`super::packjson`]), and every tag file evpack
//! writes is there and listed in the tag manifest. Every check runs whatever the others
//! found, so one run names every difference.
//!
//! # Memory
//!
//! Nothing is read whole. Payload files, and tag files that nothing parses (`index.html`, a
//! manifest of an algorithm evpack does not check), only stream through the hashers. The
//! tag files that are parsed stream too, one at a time: the text ones (`bagit.txt`,
//! `bag-info.txt`, `fetch.txt`, the manifests and tag manifests) a line at a time
//! ([`super::tagtext`]), and `pack.json` through a streaming parser
//! ([`super::jsonstream`]); so no tag file has a size limit, and a hostile one costs time
//! in proportion to what the pack declares, not memory.
//!
//! What is kept per file is what a comparison needs, in flat tables indexed by the file's
//! number ([`Paths`]): its path once (the member's own), its digests as bytes and its size
//! ([`Table`]: 42 bytes with SHA-256), each manifest's digest for it (32 bytes and a slot),
//! and `pack.json`'s claims on it until its payload list is read (8 bytes a claim): about
//! 150 bytes a file besides the path. What is kept of anything else is bounded: a tag file
//! names at most [`NAMED_PER_TAG_FILE`] problems (plus one per payload file) one by one
//! and counts the rest, a manifest keeps at most that many lines for files that are not
//! in the pack, and a line or JSON string is cut at 64 KiB.

use std::collections::BTreeSet;
use std::sync::Mutex;

use super::findings::{Finding, Found, Kind, NAMED_PER_TAG_FILE};
use super::hashing::{Algo, Algos, State, Table};
use super::manifest::{self, ChecksumManifest, Compare};
use super::packjson;
use super::paths::{Named, Paths};
use super::store::{Buffers, Listing, Member, Problem, Store};
use super::tagfiles::{Oxum, TagReader, Tags};
use super::workers::{self, Hashed};
use crate::bagit;

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

    /// Every algorithm some member is hashed with: the columns of the digest table
    /// (`pack.json` adds SHA-256 to what it is hashed with).
    fn layout(&self) -> Algos {
        self.payload_hash.union(self.tag).with(Algo::Sha256)
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
/// only hashed): `bagit.txt` first (it says how the others are encoded), `fetch.txt` after
/// the manifests (only the files they list and the pack lacks matter), `pack.json` last.
fn parse_order(path: &str) -> Option<u8> {
    match path {
        bagit::BAGIT => Some(0),
        bagit::BAG_INFO => Some(1),
        bagit::FETCH_TXT => Some(4),
        bagit::PACK_JSON => Some(5),
        _ => match bagit::manifest_name(path) {
            Some((tag, alg)) if Algo::from_name(alg).is_some() => Some(if tag { 3 } else { 2 }),
            _ => None,
        },
    }
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
    let plan = Plan::of(&members);
    let paths = Paths::new(&members, &flagged_sizes);
    let mut run = Run {
        store,
        members: &members,
        plan: &plan,
        paths: &paths,
        table: Table::new(members.len(), plan.layout()),
        found: Found {
            findings,
            flagged,
            litter,
        },
    };
    // Hash everything but the tag files that are parsed, on all cores; then read those one
    // by one, knowing what is in the pack; then compare.
    let (mut parsed, rest): (Vec<usize>, Vec<usize>) =
        (0..members.len()).partition(|&i| parse_order(&members[i].path).is_some());
    parsed.sort_by_key(|&i| (parse_order(&members[i].path), &members[i].path));
    let soft = run.hash_members(rest);
    let oxum = pack_oxum(&members, &run.table, &flagged_sizes);
    let tags = run.read_tags(&parsed, oxum);
    let named = run.compare_payload(&tags, soft);
    let evpack = parsed
        .iter()
        .copied()
        .find(|&i| members[i].path == bagit::PACK_JSON)
        .is_some_and(|i| run.check_pack_json(i, &named));
    run.compare_tags(&tags);
    if evpack {
        run.check_evpack_tag_files(&tags.tagmanifests);
    }
    run.conclude(&tags, listed_notes, listed_warnings)
}

/// One verification under way: what it reads, and what it has found so far.
struct Run<'a> {
    store: &'a dyn Store,
    members: &'a [Member],
    plan: &'a Plan,
    paths: &'a Paths<'a>,
    table: Table,
    found: Found,
}

impl Run<'_> {
    /// Streams the tag files the checks parse (`parsed`, in their reading order).
    fn read_tags(&mut self, parsed: &[usize], oxum: Oxum) -> Tags {
        let mut reader = TagReader {
            store: self.store,
            algos: self.plan.tag,
            named_cap: self.plan.named_cap(),
            paths: self.paths,
            bufs: Buffers::new(),
        };
        reader.read_all(self.members, parsed, oxum, &mut self.table, &mut self.found)
    }

    /// The report: the findings, counts, notes and warnings.
    fn conclude(self, tags: &Tags, notes: Vec<String>, warnings: Vec<String>) -> Checked {
        let (payload_bytes, payload_files, tag_files) = counts(self.members, &self.table);
        Checked {
            payload_files,
            payload_bytes,
            tag_files,
            algorithms: self.plan.checked(),
            notes: self
                .plan
                .notes()
                .into_iter()
                .chain(tags.all().filter_map(ChecksumManifest::note))
                .chain(notes)
                .collect(),
            warnings: self
                .plan
                .warnings()
                .into_iter()
                .chain(warnings)
                .chain(super::store::litter_warning(&self.found.litter))
                .chain(tags.all().flat_map(ChecksumManifest::warnings))
                .collect(),
            findings: self.found.findings,
        }
    }
}

/// Bytes and files of the payload as read, and the tag files read.
fn counts(members: &[Member], table: &Table) -> (u64, u64, u64) {
    let (mut bytes, mut files, mut tags) = (0u64, 0u64, 0u64);
    for (i, m) in members.iter().enumerate() {
        match table.size(i) {
            Some(size) if bagit::is_payload(&m.path) => {
                bytes = bytes.saturating_add(size);
                files += 1;
            }
            Some(_) => tags += 1,
            None => {}
        }
    }
    (bytes, files, tags)
}

/// Takes a lock, whether or not a thread that held it panicked (the panic goes on to the
/// caller anyway).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where the workers' batches go: the table, the findings, and the soft problems (read to
/// the end, only a check value disagreed), reported later only if no comparison names the
/// file.
struct Recorder<'a> {
    members: &'a [Member],
    plan: &'a Plan,
    table: &'a mut Table,
    found: &'a mut Found,
    soft: Vec<(usize, Problem)>,
}

impl Recorder<'_> {
    /// Records a worker's batch, and empties it.
    fn record(&mut self, w: &mut Hashed) {
        let mut at = 0;
        for (id, state, size) in w.done.drain(..) {
            let algos = self.plan.algos_for(&self.members[id].path);
            let len: usize = algos.iter().map(Algo::bytes).sum();
            self.table
                .record(id, state, size, algos, &w.digests[at..at + len]);
            at += len;
        }
        w.digests.clear();
        for (id, p) in w.problems.drain(..) {
            if p.soft {
                self.soft.push((id, p));
            } else {
                self.found
                    .not_read(p.kind, &self.members[id].path, p.message);
            }
        }
    }
}

impl Run<'_> {
    /// Hashes members (`ids`) on all cores ([`workers`]); records each in the table,
    /// reports what could not be read, and returns the soft problems.
    fn hash_members(&mut self, ids: Vec<usize>) -> Vec<(usize, Problem)> {
        let (store, members, plan) = (self.store, self.members, self.plan);
        let done = Mutex::new(Recorder {
            members,
            plan,
            table: &mut self.table,
            found: &mut self.found,
            soft: Vec::new(),
        });
        workers::hash_members(
            store,
            members,
            ids,
            &|path| plan.algos_for(path),
            &|batch| lock(&done).record(batch),
        );
        done.into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .soft
    }

    /// Where a comparison reads and reports.
    fn comparing<'c>(&'c mut self, tags: &'c Tags) -> Compare<'c> {
        Compare {
            paths: self.paths,
            table: &self.table,
            flagged: &self.found.flagged,
            fetch: &tags.fetch,
            findings: &mut self.found.findings,
            litter: &mut self.found.litter,
        }
    }

    /// The payload against its manifests (one per algorithm, every one checked); then the
    /// soft problems (a CRC that disagrees) of files no comparison named. Returns what it
    /// named.
    fn compare_payload(&mut self, tags: &Tags, soft: Vec<(usize, Problem)>) -> Named {
        let (paths, table) = (self.paths, &self.table);
        let present: Vec<usize> = paths
            .members_sorted()
            .filter(|&id| bagit::is_payload(paths.path(id)) && table.is_read(id))
            .collect();
        let mut named = Named::new(paths);
        let mut c = self.comparing(tags);
        manifest::compare(
            &manifest::PAYLOAD,
            &tags.manifests,
            present.into_iter(),
            &mut c,
            &mut named,
        );
        for (id, p) in soft {
            if !named.has_id(id) {
                let finding = Finding::new(p.kind, paths.path(id), p.message);
                self.found.push(finding);
                named.insert_id(id);
            }
        }
        named
    }

    /// Tag manifests: every tag file they list, as listed; and, as bagit.py writes them,
    /// every tag file but the tag manifests themselves is listed.
    fn compare_tags(&mut self, tags: &Tags) {
        let (paths, table) = (self.paths, &self.table);
        let present: Vec<usize> = paths
            .members_sorted()
            .filter(|&id| {
                let path = paths.path(id);
                table.is_read(id)
                    && !bagit::is_payload(path)
                    && !bagit::manifest_name(path).is_some_and(|(tag, _)| tag)
            })
            .collect();
        let mut named = Named::new(paths);
        let mut c = self.comparing(tags);
        manifest::compare(
            &manifest::TAGS,
            &tags.tagmanifests,
            present.into_iter(),
            &mut c,
            &mut named,
        );
    }

    /// Checks `pack.json` (member `id`) and records what it hashed to; returns whether it
    /// says it is an evpack pack's.
    fn check_pack_json(&mut self, id: usize, named: &Named) -> bool {
        let m = &self.members[id];
        let against = packjson::Payload {
            paths: self.paths,
            table: &self.table,
            named,
            flagged: &self.found.flagged,
        };
        let checked = packjson::check(
            self.store,
            m,
            self.plan.tag,
            &against,
            self.plan.named_cap(),
            &mut self.found.findings,
        );
        match checked {
            Ok(read) => {
                self.table
                    .record(id, State::Read, read.size, read.algos, &read.digests);
                read.evpack
            }
            Err(p) => {
                self.found.not_read(p.kind, &m.path, p.message);
                false
            }
        }
    }

    /// An evpack pack (its `pack.json` says so) carries every tag file evpack writes, each
    /// listed in `tagmanifest-sha256.txt`: only the tag manifest covers the dashboard, the
    /// gap register and `pack.json` itself, so without it any of them could be changed
    /// unseen.
    fn check_evpack_tag_files(&mut self, tagmanifests: &[ChecksumManifest]) {
        let found = &mut self.found;
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
            let read = self
                .paths
                .find(name)
                .is_some_and(|id| self.table.is_read(id));
            if !read {
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
}

/// The Payload-Oxum of what the pack holds: the bytes read, plus the declared size of the
/// payload files that were not read.
fn pack_oxum(members: &[Member], table: &Table, flagged_sizes: &[(String, u64)]) -> Oxum {
    let mut oxum = Oxum::default();
    let listed = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.path.as_str(), table.size(i).unwrap_or(m.size)));
    let unread = flagged_sizes.iter().map(|(p, s)| (p.as_str(), *s));
    for (path, size) in listed.chain(unread) {
        if !bagit::is_payload(path) {
            continue;
        }
        oxum.all = (oxum.all.0.saturating_add(size), oxum.all.1 + 1);
        if !super::store::is_os_litter(path) {
            oxum.evidence = (oxum.evidence.0.saturating_add(size), oxum.evidence.1 + 1);
        }
    }
    oxum
}

#[cfg(test)]
mod tests {
    use crate::verify::findings::excerpt;

    #[test]
    fn long_lines_are_cut_when_shown() {
        let shown = excerpt(&"\u{1}".repeat(1_000_000));
        assert!(shown.len() < 2_000, "{}", shown.len());
        assert!(shown.ends_with("(1000000 bytes in all)"));
    }
}
