//! The auditor's check of a pack: `evpack verify PACK`.
//!
//! Auditors treat every pack as hostile, so nothing is ever extracted to disk and nothing in
//! the pack is trusted before it is checked. For a zip, the central directory and local
//! headers are judged first ([`zipstore`]): an entry with an unsafe name, a symlink, an
//! encrypted entry, a duplicate, an overlap or a header that disagrees is reported and never
//! read. The remaining entries are streamed, hashing as they inflate, and stopped as soon as
//! they pass their declared size. Then the BagIt checks run over what was read ([`bag`]),
//! the same for a zip and for an unzipped folder.
//!
//! Memory does not grow with file sizes, nor with what a hostile pack's data inflates to,
//! nor with the size of any tag file: two 256 KiB buffers per worker, plus what is kept per
//! entry. While the central directory is judged that is its records (about 230 bytes an
//! entry with its name); then each member's path, once, and what the comparisons need, in
//! flat tables (the member, its digests as bytes and size, each manifest's digest for it,
//! a slot in the path index: about 150 bytes a file besides its path). A pack of 200,000
//! files peaks near 85 MB, one of 50,000 near 30 MB. Every tag file streams, `pack.json` included (see
//! [`bag`]); the entry count is capped at [`zipdir::MAX_ENTRIES`] and the central directory
//! at [`zipdir::MAX_CENTRAL_DIR`]. Hashing runs on every core: workers take files largest
//! first from one queue, each reading by position from one shared file handle.
//!
//! A path that is neither a regular file nor a folder (a FIFO, a device) is refused, not
//! waited on: every file is opened without blocking and judged by what was opened.
//!
//! The command layer maps the verdict to an exit code ([`crate::exit`]): 0 intact, 1 any
//! finding, 2 not a readable pack (an error from here: not a zip, truncated so that no
//! central directory can be found, no `bagit.txt`, unreadable path).
//!
//! # JSON output (`--format json`), schema `evpack.verify.v1`
//!
//! One object; fields are never removed within a schema version, and new fields may be
//! added. Arrays are in a stable order (findings by kind in the order below, then path,
//! then message).
//!
//! ```text
//! {
//!   "schema": "evpack.verify.v1",
//!   "tool": { "name": "evpack", "version": "0.1.0" },
//!   "pack": "devon-2021-01-15.zip",   // the path as given
//!   "container": "zip",               // "zip" or "folder"
//!   "bag_root": "devon-2021-01-15/",  // folder in the zip holding bagit.txt ("" = top level);
//!                                     // for a folder, the folder path
//!   "verdict": "intact",              // "intact" (exit 0) or "differs" (exit 1)
//!   "algorithms": ["sha256"],         // manifest algorithms checked, weakest first: "md5",
//!                                     // "sha1", "sha224", "sha256", "sha384", "sha512"
//!   "digest": null,                   // or, with --digest/--digest-file:
//!                                     // { "expected": HEX, "found": HEX, "matches": bool }
//!   "signature": null,                // or, with --public-key: { "file": PATH,
//!                                     //   "key_id": HEX|null (the signer's, as the
//!                                     //   signature names it), "public_key_id": HEX,
//!                                     //   "trusted_comment": TEXT|null (only once verified),
//!                                     //   "verified": bool, "reason": TEXT|null }
//!                                     // a signature that does not verify makes the verdict
//!                                     // "differs" without a finding
//!   "counts": {
//!     "payload_files": 124,           // payload files read (under data/)
//!     "payload_bytes": 1234567,
//!     "tag_files": 9,                 // tag files read (everything outside data/)
//!     "findings": 0,                  // total, then one count per kind:
//!     "digest": 0, "modified": 0, "missing": 0, "unexpected": 0,
//!     "tag": 0, "unsafe": 0, "unreadable": 0, "consistency": 0
//!   },
//!   "findings": [
//!     {
//!       "kind": "modified",           // see below
//!       "path": "data/audits/a.md",   // path in the bag; the full zip entry name for an
//!                                     // entry outside the bag folder; null = whole pack
//!       "message": "sha256 differs from manifest-sha256.txt: the file is not as built",
//!       "algorithm": "sha256",        // these three only where a value was compared:
//!       "expected": "9f86...",        //   "sha256" / "sha512" / "Payload-Oxum"
//!       "found": "60303..."
//!     }
//!   ],
//!   "notes": [],                      // remarks that are not differences, e.g. a manifest
//!                                     // of an algorithm evpack does not know, zip entry
//!                                     // names read as CP437
//!   "warnings": []                    // what to weigh though nothing differs, e.g. a bag
//!                                     // whose strongest manifest is md5 or sha1
//! }
//! ```
//!
//! Kinds: `digest` (the whole zip does not match `--digest`), `modified` (payload bytes
//! differ from a manifest), `missing` (listed in a manifest or tag manifest, absent; or,
//! in an evpack pack, a tag file evpack always writes), `unexpected` (present, listed in no
//! manifest; or a zip entry outside the bag folder), `tag` (tag manifest mismatch,
//! malformed `bagit.txt` / `bag-info.txt` / manifest line, `Payload-Oxum` mismatch, an
//! evpack pack's tag file that no tag manifest covers), `unsafe` (unsafe name, symlink,
//! duplicate name, encrypted, local header disagreeing with the central directory,
//! overlapping entries, data that disagrees with its declared size or CRC, a folder entry
//! that carries data, a `pack.json` that changed while it was read), `unreadable` (unsupported
//! compression, permission denied), `consistency` (`pack.json` disagrees with the
//! payload). A tag file names at most [`findings::NAMED_PER_TAG_FILE`] problems (plus one per
//! payload file) one by one; one more finding counts the rest.

mod bag;
mod findings;
mod folder;
mod hashing;
pub mod jsonstream;
mod manifest;
mod packjson;
mod paths;
pub mod render;
mod source;
mod store;
mod tagfiles;
mod tagstream;
mod tagtext;
mod workers;
mod zipdir;
mod zipstore;

pub use tagstream::{read_tag_file, stream_tag_file};

use std::io::{Read, Seek};

use serde::Serialize;
use sha2::Digest as _;

use crate::error::{Error, Result};

pub use findings::{Finding, Kind};
pub use source::{open_no_wait, ByteSource, FileSource, SeekSource, Source};

/// The JSON schema identifier of `verify --format json`.
pub const VERIFY_SCHEMA: &str = "evpack.verify.v1";

/// The whole-zip digest check.
#[derive(Debug, Clone, Serialize)]
pub struct DigestCheck {
    pub expected: String,
    pub found: String,
    pub matches: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingCounts {
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub tag_files: u64,
    pub findings: u64,
    pub digest: u64,
    pub modified: u64,
    pub missing: u64,
    pub unexpected: u64,
    pub tag: u64,
    #[serde(rename = "unsafe")]
    pub unsafe_: u64,
    pub unreadable: u64,
    pub consistency: u64,
}

impl FindingCounts {
    pub fn of(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Digest => self.digest,
            Kind::Modified => self.modified,
            Kind::Missing => self.missing,
            Kind::Unexpected => self.unexpected,
            Kind::Tag => self.tag,
            Kind::Unsafe => self.unsafe_,
            Kind::Unreadable => self.unreadable,
            Kind::Consistency => self.consistency,
        }
    }

    fn add(&mut self, kind: Kind) {
        self.findings += 1;
        let c = match kind {
            Kind::Digest => &mut self.digest,
            Kind::Modified => &mut self.modified,
            Kind::Missing => &mut self.missing,
            Kind::Unexpected => &mut self.unexpected,
            Kind::Tag => &mut self.tag,
            Kind::Unsafe => &mut self.unsafe_,
            Kind::Unreadable => &mut self.unreadable,
            Kind::Consistency => &mut self.consistency,
        };
        *c += 1;
    }
}

/// The check of a minisign signature over the whole zip (`--public-key`). Made by the
/// signature module; kept here so that a verification carries it without this module
/// knowing how signatures work.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    /// The signature file, as given or found beside the pack.
    pub file: String,
    /// The key id the signature names (16 hex digits, as minisign prints it); `None` when
    /// no signature could be read.
    pub key_id: Option<String>,
    /// The key id of the public key given.
    pub public_key_id: String,
    /// The signed comment, only once the signature verified (before that it proves nothing).
    pub trusted_comment: Option<String>,
    pub verified: bool,
    /// Why it did not verify.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Intact,
    Differs,
}

/// Everything a verification found; rendered as text or JSON (see the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub schema: &'static str,
    pub tool: crate::Tool,
    pub pack: String,
    pub container: &'static str,
    pub bag_root: String,
    pub verdict: Verdict,
    pub algorithms: Vec<&'static str>,
    pub digest: Option<DigestCheck>,
    /// The signature check, when a public key was given.
    pub signature: Option<SignatureCheck>,
    pub counts: FindingCounts,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    /// What an auditor should weigh though nothing differs; never changes the verdict.
    pub warnings: Vec<String>,
}

impl Verification {
    fn new(
        pack: String,
        container: &'static str,
        bag_root: String,
        checked: bag::Checked,
        extra: Vec<Finding>,
        digest: Option<DigestCheck>,
    ) -> Verification {
        let mut findings = checked.findings;
        findings.extend(extra);
        findings.sort();
        findings.dedup();
        let mut counts = FindingCounts {
            payload_files: checked.payload_files,
            payload_bytes: checked.payload_bytes,
            tag_files: checked.tag_files,
            ..FindingCounts::default()
        };
        for f in &findings {
            counts.add(f.kind);
        }
        Verification {
            schema: VERIFY_SCHEMA,
            tool: crate::Tool::EVPACK,
            pack,
            container,
            bag_root,
            verdict: if findings.is_empty() {
                Verdict::Intact
            } else {
                Verdict::Differs
            },
            algorithms: checked.algorithms,
            digest,
            signature: None,
            counts,
            findings,
            notes: checked.notes,
            warnings: checked.warnings,
        }
    }
}

impl Verification {
    /// Adds the signature check: a pack whose signature does not verify is not trusted,
    /// however intact its contents.
    pub fn with_signature(mut self, check: SignatureCheck) -> Verification {
        if !check.verified {
            self.verdict = Verdict::Differs;
        }
        self.signature = Some(check);
        self
    }
}

/// Why a pack is not readable at all: the CLI exits 2 with this.
fn unreadable(path: &str, why: String) -> Error {
    Error::input(
        path,
        why,
        "give the pack zip that `evpack build` wrote (or an unzipped BagIt bag folder); if it \
         came by email or download, fetch it again",
    )
}

/// Verifies a zip from any positional source. `name` is what the report calls it.
pub fn verify_zip_source(
    src: &dyn Source,
    name: &str,
    digest: Option<&str>,
) -> Result<Verification> {
    // The whole-zip digest is one sequential pass; it runs beside the entry checks so both
    // cores stay busy.
    let (whole, opened) = rayon::join(
        || digest.map(|want| whole_digest(src, want)),
        || {
            zipstore::open(src).map(|(store, listing)| {
                let root = listing.root.clone();
                (root, bag::check(&store, listing))
            })
        },
    );
    let (root, checked) = opened.map_err(|why| unreadable(name, why))?;
    let digest = whole
        .transpose()
        .map_err(|e| Error::io(name, "cannot read", e))?;
    let mut extra = Vec::new();
    if let Some(d) = &digest {
        if !d.matches {
            extra.push(
                Finding::whole(
                    Kind::Digest,
                    "the zip's SHA-256 is not the one recorded when it was built: the file was changed or replaced",
                )
                .values("sha256", d.expected.clone(), d.found.clone()),
            );
        }
    }
    Ok(Verification::new(
        name.to_string(),
        "zip",
        root,
        checked,
        extra,
        digest,
    ))
}

/// Verifies a zip held in memory (tests, the fuzz target).
pub fn verify_zip_bytes(bytes: &[u8]) -> Result<Verification> {
    verify_zip_source(&ByteSource(bytes), "<bytes>", None)
}

/// Verifies a zip from any `Read + Seek` (reads are serialised through a lock).
pub fn verify_zip_reader<R: Read + Seek + Send>(reader: R, name: &str) -> Result<Verification> {
    let src = SeekSource::new(reader).map_err(|e| Error::io(name, "cannot read", e))?;
    verify_zip_source(&src, name, None)
}

/// Verifies an unzipped bag folder.
pub fn verify_folder(path: &std::path::Path) -> Result<Verification> {
    let (store, listing) = folder::open(path)?;
    let root = listing.root.clone();
    let checked = bag::check(&store, listing);
    Ok(Verification::new(
        path.display().to_string(),
        "folder",
        root,
        checked,
        Vec::new(),
        None,
    ))
}

/// Verifies what `path` names: a folder or a zip; `digest` is the SHA-256 (lower-case hex)
/// the whole zip should have. Anything else (a FIFO, a device) is refused without waiting
/// on it.
pub fn verify_path(path: &std::path::Path, digest: Option<&str>) -> Result<Verification> {
    let (file, meta) =
        source::open_no_wait(path).map_err(|e| Error::io(path, "cannot open the pack", e))?;
    if meta.is_dir() {
        if digest.is_some() {
            return Err(Error::Usage(format!(
                "{}: --digest checks a pack zip, and this is a folder",
                path.display()
            )));
        }
        return verify_folder(path);
    }
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file or folder (a FIFO, socket or device); not read",
            "give the pack zip that `evpack build` wrote, or an unzipped bag folder",
        ));
    }
    let src = FileSource::new(file).map_err(|e| Error::io(path, "cannot read the pack", e))?;
    verify_zip_source(&src, &path.display().to_string(), digest)
}

/// Reads the start of a small regular file (at most `limit` bytes), such as a
/// `PACK.zip.sha256` digest file; a FIFO or device is refused without waiting on it.
/// `action` names the failure ("cannot read the digest file").
pub fn read_small_file(
    path: &std::path::Path,
    limit: u64,
    action: &'static str,
) -> Result<Vec<u8>> {
    let (file, meta) = source::open_no_wait(path).map_err(|e| Error::io(path, action, e))?;
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file (a folder, FIFO, socket or device); not read",
            "give the PACK.zip.sha256 file that `evpack build` wrote",
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, action, e))?;
    Ok(bytes)
}

fn whole_digest(src: &dyn Source, want: &str) -> std::io::Result<DigestCheck> {
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut pos = 0u64;
    loop {
        let n = src.read_at(&mut buf, pos)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        pos += n as u64;
    }
    let found = crate::util::hex(&h.finalize());
    let expected = want.trim().to_ascii_lowercase();
    Ok(DigestCheck {
        matches: found == expected,
        expected,
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_bag() -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        let data = b"hello\n";
        let manifest = format!(
            "{}  data/hello.txt\n",
            crate::util::hex(&sha2::Sha256::digest(data))
        );
        for (name, bytes) in [
            ("b/bagit.txt", crate::bagit::BAGIT_TXT.as_bytes()),
            ("b/manifest-sha256.txt", manifest.as_bytes()),
            ("b/data/hello.txt", &data[..]),
        ] {
            w.start_file(name, opts).expect("start");
            w.write_all(bytes).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn bytes_and_streams_give_the_same_report() {
        let zip = small_bag();
        let a = verify_zip_bytes(&zip).expect("readable");
        let b = verify_zip_reader(std::io::Cursor::new(zip), "<bytes>").expect("readable");
        assert_eq!(a.verdict, Verdict::Intact, "{:?}", a.findings);
        assert_eq!(a.findings, b.findings);
        assert_eq!(a.counts.payload_files, 1);
        assert_eq!(a.bag_root, "b/");
    }
}
