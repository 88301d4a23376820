//! The BagIt checks (RFC 8493 section 3) and evpack's own `pack.json` consistency check,
//! over any [`Store`]. Every check runs whatever the others found, so one run names every
//! difference.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::findings::{Finding, Kind};
use super::hashing::{Algo, Algos, Digests, Hashers};
use super::store::{Buffers, Listing, Member, Store};
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

/// A parsed manifest or tag manifest: path -> digest, and its file name.
/// The manifests (by file name) that do not list `path`.
fn not_listing<'m>(manifests: &'m [Manifest], path: &str) -> Vec<&'m str> {
    manifests
        .iter()
        .filter(|m| !m.entries.contains_key(path))
        .map(|m| m.file.as_str())
        .collect()
}

struct Manifest {
    file: String,
    algo: Algo,
    entries: BTreeMap<String, String>,
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
        mut findings,
        mut flagged,
        flagged_sizes,
        ..
    } = listing;
    let mut notes = Vec::new();

    // Which algorithms the manifests name decides what every member is hashed with.
    let mut payload_algos = Algos::default();
    let mut tag_algos = Algos::default();
    let mut unsupported = BTreeSet::new();
    for m in &members {
        if let Some((tag, alg)) = bagit::manifest_name(&m.path) {
            match Algo::from_name(alg) {
                Some(a) if tag => tag_algos = tag_algos.with(a),
                Some(a) => payload_algos = payload_algos.with(a),
                None => {
                    unsupported.insert(m.path.clone());
                }
            }
        }
    }
    for f in &unsupported {
        notes.push(format!(
            "{f} not checked: evpack checks sha256 and sha512 manifests"
        ));
    }
    let has_pack_json = members.iter().any(|m| m.path == bagit::PACK_JSON);
    let payload_hash = if has_pack_json {
        payload_algos.with(Algo::Sha256)
    } else {
        payload_algos
    };

    // Read the parsed tag files whole (they are small), then hash everything else on all
    // cores, largest first so that one big file does not finish last on its own.
    let mut texts: HashMap<String, Vec<u8>> = HashMap::new();
    // Keyed by the members' own paths: one allocation fewer per file in a 20,000-file pack.
    let mut digests: HashMap<&str, Digests> = HashMap::new();
    let mut bufs = Buffers::new();
    let mut rest: Vec<&Member> = Vec::with_capacity(members.len());
    for m in &members {
        if !is_parsed_tag(&m.path) {
            rest.push(m);
            continue;
        }
        if m.size > TAG_FILE_CAP {
            findings.push(Finding::new(
                Kind::Tag,
                m.path.clone(),
                format!(
                    "{} bytes: too large for a tag file (limit {TAG_FILE_CAP}); not read",
                    m.size
                ),
            ));
            flagged.insert(m.path.clone());
            continue;
        }
        let mut text = Vec::with_capacity(usize::try_from(m.size).unwrap_or(0));
        let mut h = Hashers::new(tag_algos);
        let mut over = false;
        let res = store.stream(m, &mut bufs, &mut |b| {
            // A folder file can grow after it was listed: stop keeping bytes at the cap.
            if text.len() as u64 + b.len() as u64 <= TAG_FILE_CAP {
                text.extend_from_slice(b);
            } else {
                over = true;
            }
            h.update(b);
        });
        match res {
            Ok(()) if over => {
                findings.push(Finding::new(
                    Kind::Tag,
                    m.path.clone(),
                    "grew past the tag file limit while it was read",
                ));
                flagged.insert(m.path.clone());
            }
            Ok(()) => {
                digests.insert(m.path.as_str(), h.finish());
                texts.insert(m.path.clone(), text);
            }
            Err(p) => {
                findings.push(Finding::new(p.kind, m.path.clone(), p.message));
                flagged.insert(m.path.clone());
            }
        }
    }
    rest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    // Largest first from one shared queue: each worker takes the next file when it is free.
    // (Splitting the sorted list between workers, as a plain parallel iterator does, would
    // hand one worker nearly all the bytes.)
    let next = AtomicUsize::new(0);
    let hashed: Vec<(&str, Result<(), super::store::Problem>, Digests)> = (0..rest.len())
        .into_par_iter()
        .with_max_len(1)
        .map(|_| {
            // Every task takes the next file in the queue, not "its" file: so whichever
            // worker is free takes the largest file left.
            let Some(m) = rest.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return ("", Ok(()), Hashers::new(Algos::default()).finish());
            };
            let algos = if bagit::is_payload(&m.path) {
                payload_hash
            } else {
                tag_algos
            };
            let mut h = Hashers::new(algos);
            let r = WORKER_BUFFERS.with(|cell| match cell.try_borrow_mut() {
                Ok(mut bufs) => store.stream(m, &mut bufs, &mut |b| h.update(b)),
                Err(_) => store.stream(m, &mut Buffers::new(), &mut |b| h.update(b)),
            });
            (m.path.as_str(), r, h.finish())
        })
        .collect();
    let mut soft = Vec::new();
    for (path, r, d) in hashed {
        if path.is_empty() {
            continue;
        }
        match r {
            Ok(()) => {
                digests.insert(path, d);
            }
            Err(p) if p.soft => {
                digests.insert(path, d);
                soft.push((path.to_string(), p));
            }
            Err(p) => {
                findings.push(Finding::new(p.kind, path, p.message));
                flagged.insert(path.to_string());
            }
        }
    }

    let payload: BTreeMap<&str, &Digests> = digests
        .iter()
        .filter(|(p, _)| bagit::is_payload(p))
        .map(|(p, d)| (*p, d))
        .collect();
    let tag_files = digests.keys().filter(|p| !bagit::is_payload(p)).count() as u64;

    // bagit.txt: the bag declaration.
    match texts.get(bagit::BAGIT) {
        Some(t) => check_bagit_txt(t, &mut findings),
        None if flagged.contains(bagit::BAGIT) => {}
        None => findings.push(Finding::new(Kind::Missing, "bagit.txt", "missing")),
    }

    // Payload manifests, one per algorithm; every one is checked.
    let mut manifests = Vec::new();
    let mut tagmanifests = Vec::new();
    let mut manifest_files: Vec<String> = texts
        .keys()
        .filter(|p| bagit::manifest_name(p).is_some())
        .cloned()
        .collect();
    manifest_files.sort();
    for path in &manifest_files {
        // Each text is dropped once parsed: a 20,000-file manifest is 2 MB.
        let Some(text) = texts.remove(path) else {
            continue;
        };
        if let Some((tag, alg)) = bagit::manifest_name(path) {
            if let Some(algo) = Algo::from_name(alg) {
                let m = parse_manifest(path, algo, &text, tag, &mut findings);
                if tag {
                    tagmanifests.push(m);
                } else {
                    manifests.push(m);
                }
            }
        }
    }
    manifests.sort_by_key(|m| m.algo);
    tagmanifests.sort_by_key(|m| m.algo);
    if manifests.is_empty()
        && !flagged
            .iter()
            .any(|p| bagit::manifest_name(p).is_some_and(|(t, _)| !t))
    {
        findings.push(Finding::new(
            Kind::Tag,
            "manifest-sha256.txt",
            "no payload manifest evpack can check (manifest-sha256.txt or manifest-sha512.txt)",
        ));
    }
    let mut named: BTreeSet<String> = BTreeSet::new();
    for m in &manifests {
        for (path, want) in &m.entries {
            if flagged.contains(path) || named.contains(path) {
                continue;
            }
            match payload.get(path.as_str()) {
                None => {
                    let lists: Vec<&str> = manifests
                        .iter()
                        .filter(|o| o.entries.contains_key(path))
                        .map(|o| o.file.as_str())
                        .collect();
                    findings.push(Finding::new(
                        Kind::Missing,
                        path.clone(),
                        format!("listed in {}, not in the pack", lists.join(" and ")),
                    ));
                    named.insert(path.clone());
                }
                Some(d) => {
                    if let Some(found) = d.get(m.algo) {
                        if found != *want {
                            findings.push(
                                Finding::new(
                                    Kind::Modified,
                                    path.clone(),
                                    format!(
                                        "{} differs from {}: the file is not as built",
                                        m.algo.name(),
                                        m.file
                                    ),
                                )
                                .values(
                                    m.algo.name(),
                                    want.clone(),
                                    found,
                                ),
                            );
                            named.insert(path.clone());
                        }
                    }
                }
            }
        }
    }
    for path in payload.keys() {
        if named.contains(*path) {
            continue;
        }
        let lacking = not_listing(&manifests, path);
        if !lacking.is_empty() {
            findings.push(Finding::new(
                Kind::Unexpected,
                path.to_string(),
                format!("in the payload, not listed in {}", lacking.join(" or ")),
            ));
            named.insert(path.to_string());
        }
    }

    for (path, p) in soft {
        if !named.contains(&path) {
            findings.push(Finding::new(p.kind, path.clone(), p.message));
            named.insert(path);
        }
    }

    // bag-info.txt and its Payload-Oxum: reported, then the checks go on. The Oxum counts
    // what the pack holds: the bytes read, plus the declared size of what was not read.
    let payload_bytes: u64 = payload.values().map(|d| d.size).sum();
    let payload_files = payload.len() as u64;
    let unread = members
        .iter()
        .filter(|m| !payload.contains_key(m.path.as_str()))
        .map(|m| (m.path.as_str(), m.size))
        .chain(flagged_sizes.iter().map(|(p, s)| (p.as_str(), *s)))
        .filter(|(p, _)| bagit::is_payload(p));
    let (mut oxum_bytes, mut oxum_files) = (payload_bytes, payload_files);
    for (_, size) in unread {
        oxum_bytes = oxum_bytes.saturating_add(size);
        oxum_files += 1;
    }
    if let Some(text) = texts.get(bagit::BAG_INFO) {
        if let Some(oxum) = check_bag_info(text, &mut findings) {
            if oxum != (oxum_bytes, oxum_files) {
                findings.push(
                    Finding::new(
                        Kind::Tag,
                        "bag-info.txt",
                        format!(
                            "Payload-Oxum says {} bytes in {} files, the payload has {oxum_bytes} bytes in {oxum_files} files",
                            oxum.0, oxum.1
                        ),
                    )
                    .values(
                        "Payload-Oxum",
                        bagit::payload_oxum(oxum.0, oxum.1),
                        bagit::payload_oxum(oxum_bytes, oxum_files),
                    ),
                );
            }
        }
    }

    // Tag manifests: every tag file they list, as listed; and, as bagit.py writes them, every
    // tag file but the tag manifests themselves is listed.
    for m in &tagmanifests {
        for (path, want) in &m.entries {
            if flagged.contains(path) {
                continue;
            }
            match digests.get(path.as_str()) {
                None => findings.push(Finding::new(
                    Kind::Missing,
                    path.clone(),
                    format!("listed in {}, not in the pack", m.file),
                )),
                Some(d) => {
                    if let Some(found) = d.get(m.algo) {
                        if found != *want {
                            findings.push(
                                Finding::new(
                                    Kind::Tag,
                                    path.clone(),
                                    format!("{} differs from {}", m.algo.name(), m.file),
                                )
                                .values(
                                    m.algo.name(),
                                    want.clone(),
                                    found,
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    if !tagmanifests.is_empty() {
        for path in digests.keys().filter(|p| !bagit::is_payload(p)) {
            if bagit::manifest_name(path).is_some_and(|(tag, _)| tag) {
                continue;
            }
            let lacking = not_listing(&tagmanifests, path);
            if !lacking.is_empty() {
                findings.push(Finding::new(
                    Kind::Unexpected,
                    *path,
                    format!("tag file not listed in {}", lacking.join(" or ")),
                ));
            }
        }
    }

    if let Some(text) = texts.remove(bagit::PACK_JSON) {
        check_pack_json(text, &payload, &named, &flagged, &mut findings);
    }

    let mut algorithms: Vec<&'static str> = payload_algos
        .union(tag_algos)
        .iter()
        .map(Algo::name)
        .collect();
    algorithms.dedup();
    Checked {
        findings,
        payload_files,
        payload_bytes,
        tag_files,
        algorithms,
        notes,
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
) -> Manifest {
    let mut out = Manifest {
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
        let Some((digest, path)) = bagit::parse_manifest_line(line) else {
            bad(
                n,
                format!(
                    "malformed (expected `<{}> <path>`): `{}`",
                    algo.name(),
                    crate::util::printable(line)
                ),
            );
            continue;
        };
        if digest.len() != algo.hex_len() {
            bad(
                n,
                format!(
                    "a {} digest has {} hex digits, this one has {}",
                    algo.name(),
                    algo.hex_len(),
                    digest.len()
                ),
            );
            continue;
        }
        if super::zipstore::unsafe_name(&path).is_some()
            || path.split('/').any(|c| c == "." || c.is_empty())
        {
            bad(
                n,
                format!(
                    "unsafe or non-normal path `{}`",
                    crate::util::printable(&path)
                ),
            );
            continue;
        }
        if !tag && !bagit::is_payload(&path) {
            bad(
                n,
                format!(
                    "lists `{}`, which is not under data/",
                    crate::util::printable(&path)
                ),
            );
            continue;
        }
        if out.entries.insert(path.clone(), digest).is_some() {
            bad(
                n,
                format!("lists `{}` a second time", crate::util::printable(&path)),
            );
        }
    }
    out
}

/// The parts of `pack.json` the consistency check reads. Typed rather than a
/// `serde_json::Value`, and borrowing its strings from the file's bytes: a 20,000-file
/// pack's JSON is ~11 MB, and a `Value` tree (or owned copies of every path) would cost
/// several times that. Everything else is skipped while parsing.
/// `pack.json` against the payload as read: every file it lists for a requirement, and
/// every file in its `payload` array, is in the payload with the same SHA-256 and size; and
/// every payload file is in its `payload` array. Files already named by another finding are
/// not named again.
fn check_pack_json(
    bytes: Vec<u8>,
    payload: &BTreeMap<&str, &Digests>,
    named: &BTreeSet<String>,
    flagged: &std::collections::HashSet<String>,
    findings: &mut Vec<Finding>,
) {
    let mut say = |path: String, msg: String| {
        findings.push(Finding::new(Kind::Consistency, path, msg));
    };
    let doc = match serde_json::from_slice::<bagit::PackJsonRead>(&bytes) {
        Ok(v) => v,
        Err(e) => {
            say(
                "pack.json".into(),
                format!(
                    "not valid pack JSON: {}",
                    crate::util::printable(&e.to_string())
                ),
            );
            return;
        }
    };
    let schema = doc.pack_schema.as_deref();
    if schema != Some(crate::bagit::PACK_SCHEMA) {
        say(
            "pack.json".into(),
            format!(
                "pack_schema is {}, expected {}",
                schema.map_or("absent".to_string(), |s| format!(
                    "`{}`",
                    crate::util::printable(s)
                )),
                crate::bagit::PACK_SCHEMA
            ),
        );
        return;
    }
    let skip = |p: &str| named.contains(p) || flagged.contains(p);

    // Each claim is judged as it is read; the same finding from several requirements is
    // merged when the report is assembled.
    let judge = |path: &str, sha: Option<&str>, size: Option<u64>, who: &str| -> Option<String> {
        if skip(path) {
            return None;
        }
        let Some(d) = payload.get(path) else {
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
    };
    let mut listed: BTreeSet<String> = BTreeSet::new();
    match &doc.payload {
        None => say("pack.json".into(), "has no `payload` array".into()),
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                let Some(path) = item.path.as_deref() else {
                    say("pack.json".into(), format!("payload[{i}] has no path"));
                    continue;
                };
                listed.insert(path.to_string());
                if item.size.is_none() && !skip(path) {
                    say(
                        path.to_string(),
                        "pack.json lists it (its payload list) without a size".into(),
                    );
                }
                if let Some(msg) =
                    judge(path, item.sha256.as_deref(), item.size, "its payload list")
                {
                    say(path.to_string(), msg);
                }
            }
        }
    }
    for area in &doc.areas {
        for req in &area.requirements {
            let id = req.id.as_deref().unwrap_or("?");
            for f in &req.files {
                let Some(rel) = f.path.as_deref() else {
                    say(
                        "pack.json".into(),
                        format!("requirement {id} lists a file without a path"),
                    );
                    continue;
                };
                let path = format!("data/{rel}");
                if !listed.contains(&path) && !skip(&path) {
                    say(
                        path.clone(),
                        format!(
                            "pack.json lists it for requirement {id} but not in its payload list"
                        ),
                    );
                }
                let who = format!("requirement {id}");
                if let Some(msg) = judge(&path, f.sha256.as_deref(), f.size, &who) {
                    say(path, msg);
                }
            }
        }
    }
    for path in payload.keys() {
        if !listed.contains(*path) && !skip(path) {
            say(
                path.to_string(),
                "in the payload, not in pack.json's payload list".into(),
            );
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
