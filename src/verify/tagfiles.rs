//! The tag files a bag's checks read line by line (`bagit.txt`, `bag-info.txt`, the
//! manifests and tag manifests, `fetch.txt`), each streamed and hashed like every other
//! member ([`TagReader`]), and what each line says. `pack.json` is read by
//! [`super::packjson`].

use std::collections::HashMap;

use super::findings::{excerpt, excerpt_of, Capped, Finding, Found, Kind};
use super::hashing::{Algo, Algos, Hashers, State, Table};
use super::manifest::{self, ChecksumManifest, ManifestReader};
use super::paths::Paths;
use super::store::{Buffers, Member, Store};
use super::tagtext::{Line, TagEncoding, TagLines};
use crate::bagit;

/// The payload's bytes and files, counted with and without system files: a bag made before
/// a Mac or Windows left `.DS_Store` or `Thumbs.db` in it declares the second.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oxum {
    pub all: (u64, u64),
    pub evidence: (u64, u64),
}

/// What the parsed tag files gave.
pub struct Tags {
    pub manifests: Vec<ChecksumManifest>,
    pub tagmanifests: Vec<ChecksumManifest>,
    /// `fetch.txt`: path -> where the bag says to fetch it from, for the files the
    /// manifests list and the pack lacks.
    pub fetch: HashMap<String, String>,
}

impl Tags {
    /// The manifests and the tag manifests.
    pub fn all(&self) -> impl Iterator<Item = &ChecksumManifest> {
        self.manifests.iter().chain(&self.tagmanifests)
    }
}

/// Streams the tag files the checks parse, one at a time, each hashed on the way like
/// every other member.
pub struct TagReader<'a> {
    pub store: &'a dyn Store,
    /// What every tag file is hashed with (the tag manifests' algorithms).
    pub algos: Algos,
    /// Problems one tag file may name one by one.
    pub named_cap: usize,
    pub paths: &'a Paths<'a>,
    pub bufs: Buffers,
}

impl TagReader<'_> {
    /// Reads the tag files the checks parse (`parsed`, in their reading order), but
    /// `pack.json` (checked once the payload has been compared). `oxum` is what the payload
    /// holds, for `bag-info.txt`.
    pub fn read_all(
        &mut self,
        members: &[Member],
        parsed: &[usize],
        oxum: Oxum,
        table: &mut Table,
        found: &mut Found,
    ) -> Tags {
        let mut tags = Tags {
            manifests: Vec::new(),
            tagmanifests: Vec::new(),
            fetch: HashMap::new(),
        };
        let mut saw_bagit = false;
        // `bagit.txt` is read first and says how the others are encoded.
        let mut enc = TagEncoding::Utf8;
        for &id in parsed {
            let m = &members[id];
            match m.path.as_str() {
                bagit::BAGIT => {
                    saw_bagit = true;
                    let mut txt = BagitTxt::default();
                    if self.read(m, id, TagEncoding::Utf8, table, found, &mut txt) == Some(true) {
                        enc = txt.declared;
                    }
                }
                bagit::BAG_INFO => {
                    let mut info = BagInfo::new(oxum);
                    self.read(m, id, enc, table, found, &mut info);
                }
                bagit::PACK_JSON => {}
                bagit::FETCH_TXT => tags.fetch = self.read_fetch(m, id, enc, &tags, table, found),
                _ => match self.read_manifest(m, id, enc, table, found) {
                    Some((true, parsed)) => tags.tagmanifests.push(parsed),
                    Some((false, parsed)) => tags.manifests.push(parsed),
                    None => {}
                },
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

    /// Streams tag file `m` (member `id`) line by line to `file`, hashing it; the findings
    /// the lines give stand only if the whole file is in the encoding (else one finding
    /// says it is not). `Some(true)`: read and decoded; `Some(false)`: read, not in its
    /// encoding; `None`: not read (reported).
    fn read(
        &mut self,
        m: &Member,
        id: usize,
        enc: TagEncoding,
        table: &mut Table,
        found: &mut Found,
        file: &mut dyn TagFile,
    ) -> Option<bool> {
        let algos = self.algos;
        let mut said = Vec::new();
        let mut hashers = Hashers::new(algos);
        let (read, decoded) = {
            let mut out = Capped::new(&mut said, &m.path, self.named_cap);
            let mut lines = TagLines::new(enc);
            let read = self.store.stream(m, &mut self.bufs, &mut |bytes| {
                hashers.update(bytes);
                lines.push(bytes, &mut |l| file.line(l, &mut out));
            });
            let decoded = read.is_ok().then(|| {
                let decoded = lines.finish(&m.path, &mut |l| file.line(l, &mut out));
                if decoded.is_ok() {
                    file.end(&mut out);
                }
                decoded
            });
            (read, decoded)
        };
        if let Err(p) = read {
            found.not_read(p.kind, &m.path, p.message);
            return None;
        }
        table.record(id, State::Read, hashers.size(), algos, &hashers.finish());
        match decoded {
            Some(Ok(())) => {
                found.findings.append(&mut said);
                Some(true)
            }
            Some(Err(not_text)) => {
                found.push(not_text);
                Some(false)
            }
            None => None,
        }
    }

    /// A manifest or tag manifest (`tag`) of an algorithm evpack checks, if it is read:
    /// what it lists (nothing, when it is not in its encoding).
    fn read_manifest(
        &mut self,
        m: &Member,
        id: usize,
        enc: TagEncoding,
        table: &mut Table,
        found: &mut Found,
    ) -> Option<(bool, ChecksumManifest)> {
        let (tag, alg) = bagit::manifest_name(&m.path)?;
        let algo = Algo::from_name(alg)?;
        let mut reader = ManifestReader::new(&m.path, algo, tag, self.paths);
        let parsed = match self.read(m, id, enc, table, found, &mut reader)? {
            true => reader.manifest,
            false => ChecksumManifest::new(&m.path, algo),
        };
        Some((tag, parsed))
    }

    /// `fetch.txt` (RFC 8493 2.2.3): `<url> <length or -> <path>` per line, the path encoded
    /// as in manifests. Where the bag says the files it lacks are; malformed lines are
    /// findings. Nothing is ever fetched, and only the lines for files a manifest lists and
    /// the pack lacks are kept.
    fn read_fetch(
        &mut self,
        m: &Member,
        id: usize,
        enc: TagEncoding,
        tags: &Tags,
        table: &mut Table,
        found: &mut Found,
    ) -> HashMap<String, String> {
        let mut fetch = Fetch {
            manifests: tags.all().collect(),
            fetch: HashMap::new(),
        };
        if self.read(m, id, enc, table, found, &mut fetch) != Some(true) {
            fetch.fetch.clear();
        }
        fetch.fetch
    }
}

/// A tag file that is read a line at a time.
trait TagFile {
    fn line(&mut self, l: Line, out: &mut Capped);

    /// Once every line is read (and the file is in its encoding).
    fn end(&mut self, _out: &mut Capped) {}
}

impl TagFile for ManifestReader<'_> {
    fn line(&mut self, l: Line, out: &mut Capped) {
        ManifestReader::line(self, l, out);
    }
}

/// `fetch.txt`, keeping the lines for files the manifests list and the pack lacks.
struct Fetch<'a> {
    manifests: Vec<&'a ChecksumManifest>,
    fetch: HashMap<String, String>,
}

impl TagFile for Fetch<'_> {
    fn line(&mut self, l: Line, out: &mut Capped) {
        if let Some((path, url)) = fetch_line(l, out) {
            if manifest::lists_absent(&self.manifests, &path) {
                self.fetch.insert(path, url.to_string());
            }
        }
    }
}

/// One `fetch.txt` line: the decoded path and the URL, or a finding.
fn fetch_line<'l>(l: Line<'l>, out: &mut Capped) -> Option<(String, &'l str)> {
    let line = l.text.trim_end_matches('\r');
    if l.cut.is_none() && line.trim().is_empty() {
        return None;
    }
    let mut parts = line.splitn(3, [' ', '\t']);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(url), Some(len), Some(path))
            if l.cut.is_none()
                && !url.is_empty()
                && (len == "-" || len.bytes().all(|b| b.is_ascii_digit()))
                && !path.trim().is_empty() =>
        {
            Some((bagit::decode_path(path.trim_start()), url))
        }
        _ => {
            out.push_with(|| {
                Finding::new(
                    Kind::Tag,
                    bagit::FETCH_TXT,
                    format!(
                        "line {}: expected `<url> <length> <path>`, found `{}`",
                        l.number,
                        excerpt_of(line, l.full_len())
                    ),
                )
            });
            None
        }
    }
}

/// `bagit.txt` (always UTF-8), line by line: the version, then the encoding it declares for
/// the other tag files (UTF-8 when it names none evpack reads: a finding names it).
#[derive(Default)]
struct BagitTxt {
    declared: TagEncoding,
    lines: usize,
}

impl TagFile for BagitTxt {
    fn line(&mut self, l: Line, out: &mut Capped) {
        self.lines = l.number;
        let bad = |out: &mut Capped, what: String| {
            out.push(Finding::new(
                Kind::Tag,
                bagit::BAGIT,
                format!("line {}: {what}", l.number),
            ));
        };
        let shown = || excerpt_of(l.text, l.full_len());
        match l.number {
            1 => match l.text.strip_prefix("BagIt-Version: ") {
                Some(v) if l.cut.is_none() && is_version(v) => {}
                _ => bad(out, format!("expected `BagIt-Version: M.N`, found `{}`", shown())),
            },
            2 => match l.text.strip_prefix("Tag-File-Character-Encoding: ") {
                Some(e) if !e.trim().is_empty() => match TagEncoding::named(e.trim()) {
                    Some(e) => self.declared = e,
                    None => bad(out, format!(
                        "Tag-File-Character-Encoding `{}` is not one evpack reads (UTF-8, ISO-8859-1 or UTF-16 with a byte-order mark); the tag files are read as UTF-8",
                        excerpt(e.trim())
                    )),
                },
                _ => bad(
                    out,
                    format!(
                        "expected `Tag-File-Character-Encoding: UTF-8`, found `{}`",
                        shown()
                    ),
                ),
            },
            _ if l.cut.is_none() && l.text.is_empty() => {}
            _ => out.push_with(|| {
                Finding::new(
                    Kind::Tag,
                    bagit::BAGIT,
                    format!("line {}: unexpected line `{}`", l.number, shown()),
                )
            }),
        }
    }

    /// What the lines lacked.
    fn end(&mut self, out: &mut Capped) {
        for n in self.lines + 1..=2 {
            let expected = if n == 1 {
                "BagIt-Version: M.N"
            } else {
                "Tag-File-Character-Encoding: UTF-8"
            };
            out.push(Finding::new(
                Kind::Tag,
                bagit::BAGIT,
                format!("line {n}: expected `{expected}`, found ``"),
            ));
        }
    }
}

fn is_version(v: &str) -> bool {
    let mut parts = v.split('.');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// `bag-info.txt`, line by line: `Label: value` lines (a value may continue on lines that
/// start with white space), and its Payload-Oxum.
struct BagInfo {
    /// What the payload holds, for its Payload-Oxum.
    held: Oxum,
    /// Payload-Oxum lines: how many, and the first (its line and value).
    oxums: usize,
    oxum: Option<(usize, String)>,
}

impl TagFile for BagInfo {
    fn line(&mut self, l: Line, out: &mut Capped) {
        let line = l.text;
        if line.starts_with([' ', '\t']) || (line.is_empty() && l.cut.is_none()) {
            // A continuation of the previous value (RFC 8493 2.2.2), or a blank line.
            return;
        }
        match line.split_once(':') {
            Some((label, value)) if !label.trim().is_empty() => {
                if label.trim() == "Payload-Oxum" {
                    self.oxums += 1;
                    if self.oxum.is_none() {
                        self.oxum = Some((l.number, value.trim().to_string()));
                    }
                }
            }
            _ => out.push_with(|| {
                Finding::new(
                    Kind::Tag,
                    bagit::BAG_INFO,
                    format!(
                        "line {}: not a `Label: value` line: `{}`",
                        l.number,
                        excerpt_of(line, l.full_len())
                    ),
                )
            }),
        }
    }

    fn end(&mut self, out: &mut Capped) {
        self.check_oxum(out);
    }
}

impl BagInfo {
    fn new(held: Oxum) -> BagInfo {
        BagInfo {
            held,
            oxums: 0,
            oxum: None,
        }
    }

    /// The Payload-Oxum (bytes, files), if there is one well-formed.
    fn oxum(&self, out: &mut Capped) -> Option<(u64, u64)> {
        if self.oxums > 1 {
            out.push(Finding::new(
                Kind::Tag,
                bagit::BAG_INFO,
                format!("Payload-Oxum appears {} times", self.oxums),
            ));
            return None;
        }
        let (n, value) = self.oxum.as_ref()?;
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

    /// Its Payload-Oxum, if any, is what the payload holds (bytes, files).
    fn check_oxum(&self, out: &mut Capped) {
        let Some(said) = self.oxum(out) else {
            return;
        };
        let Oxum {
            all: oxum,
            evidence,
        } = self.held;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` to `file` line by line, as a tag file is read.
    fn feed(text: &str, file: &mut dyn TagFile, out: &mut Capped) {
        let mut r = TagLines::new(TagEncoding::Utf8);
        r.push(text.as_bytes(), &mut |l| file.line(l, out));
        r.finish("t", &mut |l| file.line(l, out)).expect("text");
    }

    fn bagit_txt(text: &str, out: &mut Capped) -> TagEncoding {
        let mut b = BagitTxt::default();
        feed(text, &mut b, out);
        b.end(out);
        b.declared
    }

    #[test]
    fn bagit_txt_rules() {
        let mut f = Vec::new();
        {
            let mut out = Capped::new(&mut f, "bagit.txt", 100);
            bagit_txt(bagit::BAGIT_TXT, &mut out);
            bagit_txt(
                "BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8\r\n",
                &mut out,
            );
        }
        assert!(f.is_empty(), "{f:?}");
        {
            let mut out = Capped::new(&mut f, "bagit.txt", 100);
            bagit_txt(
                "BagIt-Version: one\nTag-File-Character-Encoding: UTF-8\nX: y\n",
                &mut out,
            );
        }
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[1].message.starts_with("line 3: "), "{f:?}");
        f.clear();
        {
            let mut out = Capped::new(&mut f, "bagit.txt", 100);
            bagit_txt("", &mut out);
        }
        assert_eq!(f.len(), 2, "both lines are missing: {f:?}");
    }

    fn bag_info(text: &str, out: &mut Capped) -> Option<(u64, u64)> {
        let mut b = BagInfo::new(Oxum::default());
        feed(text, &mut b, out);
        b.oxum(out)
    }

    #[test]
    fn bag_info_oxum() {
        let mut f = Vec::new();
        let mut out = Capped::new(&mut f, "bag-info.txt", 100);
        assert_eq!(
            bag_info(
                "Source-Organization: Devon\n  County\nPayload-Oxum: 12.3\n",
                &mut out
            ),
            Some((12, 3))
        );
        assert_eq!(bag_info("Payload-Oxum: twelve\nno colon\n", &mut out), None);
        drop(out);
        assert_eq!(f.len(), 2, "{f:?}");
    }
}
