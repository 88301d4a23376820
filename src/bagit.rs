//! The pack format in one home: BagIt rules (RFC 8493) and evpack's own tag files, shared
//! by the writer ([`crate::pack`]) and the verifier ([`crate::verify`]). Tag-file names,
//! manifest lines, `Payload-Oxum`, `bag-info.txt` labels and the `pack.json` types are
//! defined here and nowhere else.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The pack's own JSON schema identifier (the assessment schema plus `payload`).
pub const PACK_SCHEMA: &str = "evpack.pack.v1";

/// Tag-file names, relative to the bag folder.
pub const BAGIT: &str = "bagit.txt";
pub const BAG_INFO: &str = "bag-info.txt";
/// Files a bag lists to be fetched from elsewhere (RFC 8493 2.2.3): evpack never fetches.
pub const FETCH_TXT: &str = "fetch.txt";
pub const MANIFEST_SHA256: &str = "manifest-sha256.txt";
pub const TAGMANIFEST_SHA256: &str = "tagmanifest-sha256.txt";
pub const PACK_JSON: &str = "pack.json";
pub const INDEX_HTML: &str = "index.html";
pub const README_MD: &str = "README.md";
pub const GAPS_CSV: &str = "gaps.csv";
pub const MANIFEST_TOML: &str = "manifest.toml";
/// Every payload file with its date, size, digest and requirements, for a spreadsheet: the
/// list the pack's pages summarise. Not in [`EVPACK_TAG_FILES`]: packs of earlier versions
/// lack it, and the tag manifest covers it like any other tag file.
pub const INVENTORY_CSV: &str = "inventory.csv";
/// `inventory.csv`'s columns: the path in the pack, the date the file speaks for and where
/// it was read from, its size and SHA-256, and the requirements it serves (`; `-separated).
pub const INVENTORY_HEADER: [&str; 6] =
    ["path", "date", "source", "size", "sha256", "requirements"];
/// The folder holding the payload.
pub const DATA_DIR: &str = "data/";

/// Every tag file an evpack pack carries, in the byte order of their names (the order they
/// are written in the zip).
pub const EVPACK_TAG_FILES: [&str; 9] = [
    README_MD,
    BAG_INFO,
    BAGIT,
    GAPS_CSV,
    INDEX_HTML,
    MANIFEST_SHA256,
    MANIFEST_TOML,
    PACK_JSON,
    TAGMANIFEST_SHA256,
];

/// The `bagit.txt` every evpack bag carries.
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// Encodes a path for a manifest line as the tools auditors use read it: only CR and LF
/// are percent-encoded, and `%` is written as it is.
///
/// This departs from RFC 8493 section 2.1.3, which asks for `%` as `%25` too: bagit-python,
/// bagit-java and `sha256sum -c` decode only CR and LF (or nothing), so a spec-exact
/// `Audit 50%25 sample.pdf` looks missing to every one of them. (A pack never names a file
/// with CR or LF in it: the build refuses such names, so its manifests need no encoding.)
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Decodes a manifest path: only `%0D`, `%0A` and `%25` (either case), the three RFC 8493
/// encodes; every other `%` is the file's own (`Report %20 spaced.pdf` from bagit-python is
/// that name). A bag written by a tool that left `%` raw holds names the decoding changes
/// (`Audit %25.pdf`): the verifier then tries the path as written ([`parse_manifest_line`]
/// gives both).
pub fn decode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("0D") => Some('\r'),
            Some("0A") => Some('\n'),
            Some("25") => Some('%'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One manifest line: `<hex digest> <path>` (any run of spaces or tabs between them).
pub fn manifest_line(hex_digest: &str, path: &str) -> String {
    format!("{hex_digest}  {}\n", encode_path(path))
}

/// One parsed manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    /// Lower-case hex.
    pub digest: String,
    /// The path decoded ([`decode_path`]).
    pub path: String,
    /// The path as written, when decoding changed it: a tool that writes `%` raw meant
    /// this one.
    pub raw: Option<String>,
    /// The line wrote the path with a leading `./` or a doubled `/`, read as the path
    /// without them (other tools may not find it).
    pub tidied: bool,
}

/// Parses one manifest line (`<digest> <path>`, any run of spaces or tabs between, CRLF or
/// LF; `sha256sum`'s binary-mode `*`, a leading `./` and doubled `/` are read past). `None`
/// if malformed.
pub fn parse_manifest_line(line: &str) -> Option<ManifestLine> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let split = line.find([' ', '\t'])?;
    let (digest, rest) = line.split_at(split);
    let path = rest.trim_start_matches([' ', '\t']);
    let path = path.strip_prefix('*').unwrap_or(path);
    let mut tidy = path;
    while let Some(p) = tidy.strip_prefix("./") {
        tidy = p.trim_start_matches('/');
    }
    let tidy = if tidy.contains("//") {
        std::borrow::Cow::Owned(
            tidy.split('/')
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join("/"),
        )
    } else {
        std::borrow::Cow::Borrowed(tidy)
    };
    if digest.is_empty() || tidy.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let decoded = decode_path(&tidy);
    Some(ManifestLine {
        digest: digest.to_ascii_lowercase(),
        raw: (decoded != *tidy).then(|| tidy.to_string()),
        path: decoded,
        tidied: tidy != path,
    })
}

/// `Payload-Oxum`: total payload bytes and file count.
pub fn payload_oxum(bytes: u64, files: u64) -> String {
    format!("{bytes}.{files}")
}

/// Formats one `bag-info.txt` label. Values are folded onto one line: a newline in a value
/// would start a new (forged) label.
pub fn info_line(label: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("{label}: {clean}\n")
}

/// `manifest-<alg>.txt` -> (false, alg); `tagmanifest-<alg>.txt` -> (true, alg).
pub fn manifest_name(path: &str) -> Option<(bool, &str)> {
    if path.contains('/') {
        return None;
    }
    let stem = path.strip_suffix(".txt")?;
    if let Some(alg) = stem.strip_prefix("tagmanifest-") {
        Some((true, alg))
    } else {
        stem.strip_prefix("manifest-").map(|alg| (false, alg))
    }
}

/// Whether a path in the bag is payload (under `data/`).
pub fn is_payload(path: &str) -> bool {
    path.starts_with(DATA_DIR)
}

/// `pack.json` as written: the assessment (same schema as `gaps --format json`, each file
/// with its SHA-256) plus the bag and the payload list. `A` is the assessment, flattened.
/// `P` is the payload list, a sequence of [`PayloadEntry`] (written as it is walked, not
/// collected: it has an item per file).
#[derive(Serialize)]
pub struct PackDoc<'a, A: Serialize, P: Serialize, L: Serialize> {
    #[serde(flatten)]
    pub assessment: &'a A,
    pub pack_schema: &'static str,
    pub bag: BagJson<'a>,
    pub payload: P,
    /// Matched files that will not open, left out of the payload, with why and the
    /// requirements they would have served (empty when built with `--include-unusable`).
    pub left_out: &'a [L],
    /// Present when the names of the files that match nothing (and of the skipped entries
    /// nothing asked for) are left out, with how many there are (`--list-unmatched`
    /// includes them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names_withheld: Option<Withheld>,
}

/// How many names a pack leaves out of its documents: nothing leaves the drive that was
/// not asked for (see `pack::build`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Withheld {
    /// Files that match no requirement.
    pub unmatched: usize,
    /// Entries the scan skipped that no requirement asked for.
    pub skipped: usize,
}

#[derive(Serialize)]
pub struct BagJson<'a> {
    pub name: &'a str,
    pub bagging_date: &'a str,
}

/// One payload file in `pack.json`, borrowed from the build's own records; `S` is the list
/// of the ids of the requirements it serves.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PayloadEntry<'a, S: Serialize> {
    /// `data/<path in the evidence folder>`.
    #[serde(serialize_with = "in_data")]
    pub path: &'a str,
    pub size: u64,
    pub sha256: crate::util::Sha256Hex,
    /// The requirements the file serves.
    pub serves: S,
}

/// A path in the evidence folder as the path of its payload file, `data/<path>`.
fn in_data<S: serde::Serializer>(path: &&str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{DATA_DIR}{path}"))
}

/// A file in `pack.json` as the verifier reads it: an item of `payload` (path under
/// `data/`) or of a requirement's `files` (path relative to the evidence folder). Every
/// field is optional (a hostile pack may leave any out, and each absence is its own
/// finding); strings are borrowed from the file's bytes.
#[derive(Deserialize)]
pub struct PackFileRead<'a> {
    #[serde(borrow)]
    pub path: Option<Cow<'a, str>>,
    pub size: Option<u64>,
    #[serde(borrow)]
    pub sha256: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        for p in [
            "data/a b.txt",
            "data/100%.csv",
            "data/odd\nname",
            "data/é",
            "data/%20 x",
        ] {
            assert_eq!(decode_path(&encode_path(p)), p);
        }
        // `%` is written as it is; only CR and LF are encoded.
        assert_eq!(encode_path("data/100%\r\n"), "data/100%%0D%0A");
        assert_eq!(decode_path("data/%zz"), "data/%zz");
        assert_eq!(decode_path("data/50%"), "data/50%");
        // Only the three codes RFC 8493 uses are decoded, in either case.
        assert_eq!(decode_path("data/a%20b%25c%0ad%0De"), "data/a%20b%c\nd\re");
    }

    #[test]
    fn parses_lines() {
        let line = |digest: &str, path: &str, raw: Option<&str>, tidied: bool| ManifestLine {
            digest: digest.into(),
            path: path.into(),
            raw: raw.map(Into::into),
            tidied,
        };
        assert_eq!(
            parse_manifest_line("ABCD  data/x y.txt"),
            Some(line("abcd", "data/x y.txt", None, false))
        );
        assert_eq!(
            parse_manifest_line("abcd *data/x"),
            Some(line("abcd", "data/x", None, false))
        );
        assert_eq!(
            parse_manifest_line("abcd \t ./data/x%25.pdf\r"),
            Some(line("abcd", "data/x%.pdf", Some("data/x%25.pdf"), true))
        );
        assert_eq!(parse_manifest_line("nothex data/x"), None);
        assert_eq!(parse_manifest_line("abcd"), None);
        assert_eq!(parse_manifest_line("abcd ./"), None);
        assert_eq!(
            parse_manifest_line("abcd data//a///b"),
            Some(line("abcd", "data/a/b", None, true))
        );
    }

    #[test]
    fn pack_json_reads_what_it_writes() {
        #[derive(Serialize)]
        struct Areas {
            areas: Vec<serde_json::Value>,
        }
        let payload = [PayloadEntry {
            path: "a.pdf",
            size: 3,
            sha256: crate::util::Sha256Hex([0xab; 32]),
            serves: &["P1.1"],
        }];
        let a = Areas {
            areas: vec![serde_json::json!({"requirements": [{"id": "P1.1",
                "files": [{"path": "a.pdf", "size": 3, "sha256": "ab"}]}]})],
        };
        let doc = PackDoc {
            assessment: &a,
            pack_schema: PACK_SCHEMA,
            bag: BagJson {
                name: "b",
                bagging_date: "2021-01-01",
            },
            payload: &payload,
            left_out: &[] as &[String],
            names_withheld: None,
        };
        let bytes = serde_json::to_vec(&doc).expect("serialize");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("parse");
        assert_eq!(v["pack_schema"], PACK_SCHEMA);
        let item_text = v["payload"][0].to_string();
        let item: PackFileRead = serde_json::from_str(&item_text).expect("item");
        assert_eq!(item.path.as_deref(), Some("data/a.pdf"));
        assert_eq!(item.size, Some(3));
        let hex = "ab".repeat(32);
        assert_eq!(item.sha256.as_deref(), Some(hex.as_str()));
        let req = &v["areas"][0]["requirements"][0];
        assert_eq!(req["id"], "P1.1");
        let file_text = req["files"][0].to_string();
        let file: PackFileRead = serde_json::from_str(&file_text).expect("file");
        assert_eq!(file.path.as_deref(), Some("a.pdf"));
    }

    #[test]
    fn tag_files_are_in_name_order() {
        let mut sorted = EVPACK_TAG_FILES;
        sorted.sort_unstable();
        assert_eq!(sorted, EVPACK_TAG_FILES);
        assert_eq!(manifest_name(MANIFEST_SHA256), Some((false, "sha256")));
        assert_eq!(manifest_name(TAGMANIFEST_SHA256), Some((true, "sha256")));
    }

    #[test]
    fn info_values_cannot_forge_labels() {
        assert_eq!(
            info_line("External-Description", "a\nPayload-Oxum: 1.1"),
            "External-Description: a Payload-Oxum: 1.1\n"
        );
    }
}
